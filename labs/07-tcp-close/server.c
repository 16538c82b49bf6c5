/* server.c - lab 07: a TCP server that reads a whole request, replies and
 * closes; -s holds each step of the teardown still.
 *
 * socket() -> setsockopt(SO_REUSEADDR) -> bind() -> listen() -> accept() ->
 * read() until 0 -> write() the reply -> shutdown(SHUT_WR) -> close(), one
 * client after another, until SIGINT or SIGTERM. See tcp(7), shutdown(2).
 */
#include "lab.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: server [-b ADDR] [-r BYTES] [-s CTL] [-p MS] [-t SECONDS] [-a] [-n]"
    " [PORT]\n"
    "  Reads each client's request until the client shuts down its sending\n"
    "  side (read() returns 0), replies with it upper-cased, then closes.\n"
    "  A request over 16 MiB is refused: closed unread, the connection is reset.\n"
    "  -b ADDR     address to bind (default " DEFAULT_HOST ", this machine only;\n"
    "              ::1 is IPv6 loopback; 0.0.0.0, :: or any lets other machines in)\n"
    "  -r BYTES    SO_RCVBUF: small, and not read, it holds the window at zero\n"
    "  -s CTL      step mode: before each call of the teardown, wait for a line\n"
    "              (Enter) from the file CTL, e.g. -s /dev/tty\n"
    "  -p MS       pause MS milliseconds before each call of the teardown\n"
    "  -t SECONDS  a client that sends nothing, or reads nothing, for that\n"
    "              long is dropped (default 30; 0: wait for ever)\n"
    "  -a          active close: answer the first read and send FIN first\n"
    "  -n          no SO_REUSEADDR: a restart fails while TIME-WAIT holds the port\n"
    "  PORT        default " DEFAULT_PORT "; 0 picks any free port\n";

static void serve(struct args *a, int cfd);   /* below main(): lesson order */

int main(int argc, char *argv[])
{
    prog = "server";
    struct args a;
    struct addrinfo *res = NULL;
    int lfd = -1, rc = -1;
    char name[ADDR_STRLEN];

    open_std_fds();   /* before any socket can take 0, 1 or 2 (lab.c) */
    parse_server_args(argc, argv, usage, &a);
    signal(SIGPIPE, SIG_IGN);   /* a vanished client: EPIPE, not death */
    res = resolve(usage, &a, 1);
    format_addr(res->ai_addr, res->ai_addrlen, name);

    lfd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    if (lfd == -1)
        fail("socket");
    say("socket(%s, SOCK_STREAM) = fd %d", family_name(res->ai_family), lfd);
    exit_on_signals(lfd);
    if (!a.no_reuse) {
        /* TODO 1: Let bind() take a port that only TIME-WAIT connections
         * still hold: turn on the socket option SO_REUSEADDR on lfd
         * (socket(7), "Socket options"; setsockopt(2)), result in rc. A
         * restarted server gets its port back at once, and still no two
         * servers can listen on one port. */
        errno = ENOSYS; /* step 1: replace this line */
        if (rc == -1)
            fail("setsockopt SO_REUSEADDR");
        say("setsockopt(SO_REUSEADDR, 1) = 0");
    }
    if (a.rcvbuf > 0)
        set_rcvbuf(lfd, a.rcvbuf);   /* accepted sockets inherit it */
    if (bind(lfd, res->ai_addr, res->ai_addrlen) == -1)
        fail("bind %s", name);   /* EADDRINUSE: a listener, or TIME-WAIT (-n) */
    freeaddrinfo(res);
    local_name(lfd, name);   /* with port 0, the port the kernel chose */
    say("bind(%s) = 0", name);
    if (listen(lfd, 16) == -1)
        fail("listen");
    say("listen(backlog=16) = 0  state=%s", tcp_state(lfd));
    printf("listening on %s\n", name);   /* the readiness line */
    (void)fflush(stdout);   /* no reader is no reason to stop serving */

    for (;;) {
        int cfd = accept_client(lfd);   /* accept(), narrated, as in lab 05 (lab.c) */
        /* One client at a time: each read() and write() on cfd waits -t
         * seconds at most (SO_RCVTIMEO, SO_SNDTIMEO: lab.c), or one client
         * that vanished would hold the server, and all after it, for ever. */
        bound_waits(cfd, a.timeout);
        serve(&a, cfd);
    }
}

/* One client: the whole request, the reply, our FIN, close. */
static void serve(struct args *a, int cfd)
{
    static char req[REQUEST_MAX + 1];   /* one more: to know one is too long */
    size_t len = 0;
    ssize_t n = -1;

    /* A request has no length field: it ends where the client's FIN is.
     * After read() returns 0 we are in CLOSE-WAIT: the client can send no
     * more, and we can still send all we like. (-a answers the first read.) */
    step(a, cfd, a->active ? "read() once" : "read() until it returns 0");
    for (;;) {
        n = -1;
        /* TODO 2: Read the next part of the request from cfd, result in
         * n (read(2)): it goes after the len bytes already in req, and may
         * fill all the room left there. This loop reads again until read()
         * returns 0: the client's FIN, its shutdown(). */
        errno = ENOSYS; /* step 2: replace this line */
        if (n == -1 && errno == EINTR)
            continue;
        /* -1: ECONNRESET; or EAGAIN, nothing for -t seconds: dropped */
        if (said_read(cfd, n, "the client's FIN, end of its data", a->timeout) <= 0)
            break;
        len += (size_t)n;
        if (a->active)
            break;
        if (len > REQUEST_MAX) {
            /* Refused, and said so: an abort. SO_LINGER {1, 0} makes close()
             * send RST even when all has been read (socket(7)), so the
             * client cannot take an empty reply for the answer. */
            say("the request exceeds %zu MiB (%zu bytes), the limit: refused  state=%s",
                REQUEST_MAX >> 20, REQUEST_MAX, tcp_state(cfd));
            struct linger abort_now = { .l_onoff = 1, .l_linger = 0 };
            if (setsockopt(cfd, SOL_SOCKET, SO_LINGER, &abort_now, sizeof abort_now) == 0)
                say("setsockopt(SO_LINGER {1, 0}) = 0: close() sends RST");
            else
                said_failed(cfd, "setsockopt(SO_LINGER {1, 0})", "", 0);
            goto done;
        }
    }
    if (n == -1)
        goto done;   /* a failed call costs this client only: close */

    step(a, cfd, "write() the reply");
    upcase(req, len);
    if (write_all(cfd, req, len) == -1) {
        said_failed(cfd, "write()", "not read", a->timeout);   /* EPIPE; EAGAIN: -t */
        goto done;
    }
    say("write() = %zu bytes  state=%s", len, tcp_state(cfd));

    /* Our FIN, queued behind the reply: CLOSE-WAIT -> LAST-ACK, or with -a
     * (we are first) ESTABLISHED -> FIN-WAIT-1. We keep the descriptor. */
    step(a, cfd, "shutdown(SHUT_WR)");
    if (shutdown(cfd, SHUT_WR) == -1) {
        said_failed(cfd, "shutdown(SHUT_WR)", "", 0);
        goto done;
    }
    say("shutdown(SHUT_WR) = 0  state=%s", tcp_state(cfd));
    if (n > 0) {
        /* -a: the client's data and FIN are still to come. Read them all:
         * close() with data unread would send RST. */
        step(a, cfd, "read() until it returns 0");
        for (;;) {
            n = read(cfd, req, sizeof req);
            if (n == -1 && errno == EINTR)
                continue;
            if (said_read(cfd, n, "the client's FIN, end of its data", a->timeout) <= 0)
                break;
        }
    }
done:
    step(a, cfd, "close(fd %d)", cfd);
    if (close(cfd) == -1)   /* the descriptor goes; the kernel ends the connection */
        say("close(fd %d) = -1: %s", cfd, strerror(errno));
    else
        say("close(fd %d) = 0", cfd);
}

