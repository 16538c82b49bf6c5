/* server.c - lab 10: one upper-case echo service, offered on a TCP port
 * and a Unix socket at once, as real daemons do (PostgreSQL, Docker).
 *
 *   ./server [-b ADDR] [-u PATH|@NAME] [-t SECONDS] [PORT]
 *
 * the TCP listener (lab 05) -> the Unix listener (lab 01; or an abstract
 * name) -> poll() on both -> accept() on the one that is ready ->
 * read()/write() -> close(), one client at a time, until SIGINT or SIGTERM.
 * See ip(7), unix(7), poll(2), network_namespaces(7).
 */
#include "lab.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: server [-b ADDR] [-u PATH] [-t SECONDS]"
    " [PORT]\n"
    "  Serves upper-case echo over TCP on ADDR:PORT and, with -u, on a Unix\n"
    "  stream socket too, one client at a time, whichever comes first.\n"
    "  -b ADDR     numeric address to bind (default " DEFAULT_HOST ", reachable\n"
    "              from this host only); 10.0.0.1 (an address of this host on\n"
    "              a network) or 0.0.0.0 (every interface): from other hosts\n"
    "  -u PATH     a Unix socket file at PATH too; -u @NAME: an abstract name\n"
    "              (Linux), no file, one per network namespace\n"
    "  -t SECONDS  a client that sends nothing, or reads nothing, for that\n"
    "              long is dropped (default 30; 0: wait for ever)\n"
    "  PORT        default " DEFAULT_PORT "; 0 picks any free port\n";

int main(int argc, char *argv[])
{
    prog = "server";
    struct server_args a;
    struct addrinfo hints, *res = NULL;
    int tfd = -1, ufd = -1, rc = -1;
    char name[ADDR_STRLEN];

    open_std_fds();   /* before any socket can take 0, 1 or 2 (lab.c) */
    parse_server_args(argc, argv, usage, &a);
    /* A client that vanishes would kill us with SIGPIPE on our next write;
     * ignored, the write fails with EPIPE instead and we serve the next. */
    signal(SIGPIPE, SIG_IGN);

    /* ADDR is a number (AI_NUMERICHOST: no DNS), as in lab 05. */
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;        /* IPv4 or IPv6: the address decides */
    hints.ai_socktype = SOCK_STREAM;    /* TCP */
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    int gai = getaddrinfo(a.host, a.port, &hints, &res);
    if (gai != 0)   /* an EAI_* code, not -1: a bad ADDR is a usage error */
        gai_failed(usage, gai, a.host);   /* exits: lab.c */
    say_addrinfo(a.host, a.port, res);
    format_addr(res->ai_addr, res->ai_addrlen, name);

    /* TODO 1: The TCP listener, as in lab 05: a socket(2) of res's family,
     * type and protocol into tfd, SO_REUSEADDR set to 1 (socket(7)), bound
     * to res's address (bind(2)), each call checked and narrated as the
     * lesson's transcripts show; after bind(), local_name() (lab.c) puts
     * the port the kernel chose into name, for the narration and the
     * readiness line. Then listen(2), a backlog of 16, its result in rc. */
    errno = ENOSYS; /* step 1: replace this line */
    if (rc == -1)
        fail("listen");
    say("listen(backlog=16) = 0  state=%s", tcp_state(tfd));
    freeaddrinfo(res);

    if (a.upath != NULL) {
        ufd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (ufd == -1)
            fail("socket");
        say("socket(AF_UNIX, SOCK_STREAM) = fd %d", ufd);
        if (a.abstract) {
            /* TODO 2: An abstract name (Linux, unix(7) "Address format"):
             * a.uaddr.sun_path starts with a null byte, the name (a.upath
             * without its '@') follows it, and no null byte ends it: the
             * length, in a.ulen, does. It is the offset of sun_path in the
             * structure plus the bytes of sun_path in use (offsetof(3)). */
            errno = ENOSYS; /* step 2: replace this line */
        } else {
            /* A path is a file, handled as in lab 01 (lab.c): a lock, born
             * srwx------ (umask 077), a stale file replaced. */
            lock_socket_path(a.uaddr.sun_path);
            umask(077);
        }
        for (int attempt = 1; attempt <= 2; attempt++) {
            rc = bind(ufd, (struct sockaddr *)&a.uaddr, a.ulen);
            if (rc == 0 || errno != EADDRINUSE || a.abstract || attempt == 2)
                break;   /* an abstract name in use is never stale: it has a socket */
            say("bind(%s) = -1: Address already in use", a.ushown);
            replace_stale_socket(&a.uaddr, SOCK_STREAM);   /* or exit 1: lab.c */
        }
        if (rc == -1)
            fail("bind %s", a.upath);
        if (!a.abstract)
            own_socket_file(ufd);   /* removed at exit only while still ours */
        say("bind(%s) = 0", a.ushown);
        if (listen(ufd, 16) == -1)
            fail("listen");
        say("listen(backlog=16) = 0");
    }
    exit_on_signals(tfd, ufd);   /* SIGINT, SIGTERM: close both, exit 0 (lab.c) */
    /* poll() may say "a connection waits" and the client be gone by
     * accept(): a listener that never blocks then answers EAGAIN, and
     * the other listener is not kept waiting (accept(2)). */
    if (set_nonblocking(tfd) == -1 || (ufd != -1 && set_nonblocking(ufd) == -1))
        fail("fcntl");
    if (a.upath != NULL)
        printf("listening on %s and %s\n", name, a.upath);   /* the readiness line */
    else
        printf("listening on %s\n", name);
    (void)fflush(stdout);   /* no reader is no reason to stop serving */

    int last = 1;   /* the listener served last: when both are ready, the other goes first */
    for (;;) {
        struct pollfd p[2] = { { .fd = tfd, .events = POLLIN },
                               { .fd = ufd, .events = POLLIN } };   /* -1: ignored */
        struct sockaddr_storage peer;
        socklen_t peerlen = sizeof peer;
        int cfd = -1, ready = -1;
        /* TODO 3: Wait, with no time limit, until a connection waits on
         * one of the two listeners in p: poll(2), its result in ready. */
        errno = ENOSYS; /* step 3: replace this line */
        if (ready == -1 && errno == EINTR)
            continue;
        if (ready == -1)
            fail("poll");
        /* Both ready: they take turns, so that a peer who keeps one queue
         * full cannot keep the other listener's clients out for ever. */
        int i = p[1 - last].revents ? 1 - last : last;
        last = i;
        say("poll() = %d: a connection waits on fd %d (%s)", ready, p[i].fd, i ? "unix" : "tcp");
        /* TODO 4: Take that connection from the listener that is ready,
         * p[i].fd, with accept(2), the client's address into peer (peerlen
         * bytes); the new descriptor goes into cfd. */
        errno = ENOSYS; /* step 4: replace this line */
        if (cfd == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
            continue;   /* gone already: back to poll() */
        if (cfd == -1) {
            accept_failed();   /* a lost connection or a pause, or exit 1: lab.c */
            continue;
        }
        if (i == 0) {   /* a Unix client's address is usually unnamed: not shown */
            format_addr((struct sockaddr *)&peer, peerlen, name);
            say("accept() = fd %d from %s  state=%s", cfd, name, tcp_state(cfd));
        } else {
            say("accept() = fd %d on %s", cfd, a.upath);
        }
        /* Accepted sockets do not inherit O_NONBLOCK on Linux (accept(2)):
         * cfd blocks, each wait bounded by -t (SO_RCVTIMEO, SO_SNDTIMEO). */
        bound_waits(cfd, a.timeout);
        echo_client(cfd, a.timeout);   /* lab.c: read, upcase, write until EOF */
        if (close(cfd) == -1)   /* the fd is freed anyway (close(2)): not fatal */
            say("close(fd %d) = -1: %s", cfd, strerror(errno));
        else
            say("close(fd %d) = 0", cfd);
    }
}
