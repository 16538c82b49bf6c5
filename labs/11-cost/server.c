/* server.c - lab 11: the responder, the other end of each measurement.
 *
 *   ./server [-t SECONDS] TRANSPORT [PATH|PORT]
 *           TRANSPORT: unix [PATH], tcp [PORT], tcp-nodelay [PORT], udp [PORT]
 *
 * socket() -> bind() -> listen() -> accept() -> for each test the client
 * names in its header: echo each message of SIZE bytes (rtt, nagle), or
 * take BYTES and answer one byte (bulk, conn) -> close(), one client
 * after another, until SIGINT or SIGTERM. udp: recvfrom() -> sendto(),
 * each datagram back to its sender. For pipe and socketpair the client
 * starts it itself, with the descriptors it inherits (lab 02). See
 * unix(7), tcp(7), udp(7), pipe(7), socket(7).
 */
#include "lab.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: server [-t SECONDS] TRANSPORT [PATH|PORT]\n"
    "  Answers ./client's measurements over TRANSPORT, one client after another.\n"
    "  TRANSPORT   unix [PATH] (default " DEFAULT_PATH "), or on 127.0.0.1:\n"
    "              tcp [PORT], tcp-nodelay [PORT], udp [PORT] (default 5011; 0\n"
    "              picks any free port). pipe, socketpair: ./client starts ./server\n"
    "  -t SECONDS  a client silent for that long is dropped (default 30; 0: never)\n";

/* The tests of one client, header after header, until it closes. A
 * failure costs this client only. Narrated once a test, never a round
 * trip: what is measured is the transport, not the narration. A conn
 * test's connections (thousands, each one round trip) are not narrated:
 * accepted (the fd accept() gave, or -1) is narrated with the first other
 * test. Returns 1 when something was narrated. */
static int serve(int rfd, int wfd, const struct transport *t, const unsigned char *pat,
                 int accepted)
{
    char hdr[HDR_SIZE];
    unsigned char *buf = NULL;
    struct test x;
    int one = 1, told = 0;
    for (;;) {
        ssize_t r = read_full(rfd, hdr, HDR_SIZE);
        if (r == 0 && told)
            say("read() = 0: peer closed");
        if (r == 0)
            break;   /* the end, between two tests: the client is done */
        if (r != HDR_SIZE || parse_header(hdr, &x) == -1) {
            say("read() = %zd%s%s: no test header: client dropped", r, r == -1 ? ": " : "",
                r == -1 ? strerror(errno) : "");
            told = 1;
            break;
        }
        if (x.mode != CONN)
            say_test(&x, told ? -1 : accepted);   /* lab.c */
        told |= x.mode != CONN;
        /* tcp-nodelay: our replies go at once too (tcp(7)). */
        if ((x.nodelay || t->kind == T_TCP_NODELAY) && t->family == AF_INET &&
            setsockopt(wfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == -1)
            say("setsockopt(TCP_NODELAY) = -1: %s", strerror(errno));
        if (x.mode == CONN || x.mode == BULK) {   /* take it all, answer one byte: lab.c */
            if (answer(rfd, wfd, &x, pat) == -1)
                break;
            continue;
        }
        free(buf);
        if ((buf = malloc(x.size)) == NULL)
            fail("malloc %zu", x.size);
        long i = 0;
        for (errno = 0; i < x.n; i++) {
            size_t got = 0;
            int sent = -1;
            /* TODO 2: Read exactly x.size bytes from rfd into buf with
             * read(2), counting them in got: a stream keeps no boundaries,
             * so one read() may bring part of the message; read again for
             * the rest, until got is x.size, or read() returns 0 (the
             * client closed) or -1 (EINTR: again; else give up). With all
             * of them in, send them back on wfd with write_all() (lab.c),
             * its result in sent. */
            errno = ENOSYS; /* step 2: replace this line */
            if (got != x.size || sent == -1)
                break;
            if (x.mode == NAGLE && t->family == AF_INET)
                delay_acks(wfd);   /* as a busy server's are: lab.c */
        }
        if (i < x.n) {
            say("%s: round %ld of %ld: %s: client dropped", mode_name(x.mode), i + 1, x.n,
                errno ? strerror(errno) : "the stream ended");
            break;
        }
        say("%s: %ld messages echoed, size=%zu", mode_name(x.mode), x.n, x.size);
    }
    free(buf);
    return told;
}

int main(int argc, char *argv[])
{
    prog = "server";
    struct transport t;
    int lfd = -1, rc = -1, timeout = DEFAULT_TIMEOUT;
    static unsigned char pat[CHUNK + PERIOD];   /* what a bulk transfer must bring */

    open_std_fds();   /* before any socket can take 0, 1 or 2 (lab.c) */
    parse_server_args(argc, argv, usage, &t, &timeout);
    /* A client that vanishes would kill us with SIGPIPE on our next write;
     * ignored, the write fails with EPIPE instead and we serve the next. */
    signal(SIGPIPE, SIG_IGN);
    fill_pattern(pat, sizeof pat);   /* lab.c */

    if (t.kind == T_PIPE || t.kind == T_SOCKETPAIR) {   /* one client, our parent */
        say("%s: fd %d (read), fd %d (write), inherited", t.name, t.rfd, t.wfd);
        exit_on_signals(-1);
        (void)serve(t.rfd, t.wfd, &t, pat, -1);
        if (close(t.rfd) == -1 || (t.wfd != t.rfd && close(t.wfd) == -1))
            fail("close");
        return 0;
    }
    struct stat st;
    if (t.kind == T_UNIX) {
        /* The socket file, as lab 01 keeps it (lab.c): a lock, then a
         * stale file replaced (a live server's, or no socket: exit 1), born
         * srwx------, removed at exit. */
        lock_socket_path(t.un.sun_path);
        if (lstat(t.un.sun_path, &st) == 0)
            replace_stale_socket(&t.un, SOCK_STREAM);
        umask(077);
    }
    /* TODO 1: The responder's socket: socket(2) of the transport's family
     * and type (t.family, t.type) into lfd, checked and narrated as the
     * lesson's transcripts show (tcp_note() adds a TCP socket's state).
     * For a TCP socket, set SO_REUSEADDR to 1 first, as lab 05 does
     * (socket(7)), checked and narrated. Then bind(2) it to t.sa (t.len
     * bytes), the result in rc. */
    errno = ENOSYS; /* step 1: replace this line */
    if (rc == -1)
        fail("bind %s", t.where);   /* EADDRINUSE: someone has that port */
    if (t.kind == T_UNIX) {
        own_socket_file(lfd);   /* removed at exit only while still ours */
        say("bind(%s) = 0", t.shown);
    } else {
        exit_on_signals(lfd);   /* SIGINT, SIGTERM: close lfd, exit 0 (lab.c) */
        local_name(lfd, &t);   /* getsockname(2): with port 0, the one the kernel chose */
        say("bind(%s) = 0%s", t.shown, tcp_note(lfd));
    }
    if (t.type == SOCK_STREAM) {
        if (listen(lfd, 16) == -1)
            fail("listen");
        say("listen(backlog=16) = 0%s", tcp_note(lfd));
    }
    printf("listening on %s\n", t.where);   /* the readiness line */
    (void)fflush(stdout);   /* no reader is no reason to stop serving */
    if (t.type == SOCK_DGRAM)
        serve_datagrams(lfd, &t.in);   /* recvfrom(), sendto() the sender: lab.c */

    for (;;) {
        int cfd = accept(lfd, NULL, NULL);
        if (cfd == -1) {
            accept_failed();   /* a lost connection or a pause, or exit 1: lab.c */
            continue;
        }
        bound_waits(cfd, timeout);   /* SO_RCVTIMEO, SO_SNDTIMEO: -t (lab.c) */
        int told = serve(cfd, cfd, &t, pat, cfd);
        if (close(cfd) == -1)   /* the fd is freed anyway (close(2)): not fatal */
            say("close(fd %d) = -1: %s", cfd, strerror(errno));
        else if (told)
            say("close(fd %d) = 0", cfd);
    }
}
