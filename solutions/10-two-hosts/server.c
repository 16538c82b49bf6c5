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
/* EXTRA 1: struct ucred (SO_PEERCRED) is Linux-specific */
#define _GNU_SOURCE
/* END EXTRA 1 */
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
    /* EXTRA 1: -c in the usage */
    " [-c]"
    /* END EXTRA 1 */
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
    /* EXTRA 1: -c in the usage */
    "  -c          narrate who each Unix client is (SO_PEERCRED)\n"
    /* END EXTRA 1 */
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
    tfd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    if (tfd == -1)
        fail("socket");
    say("socket(%s, SOCK_STREAM) = fd %d  state=%s", family_name(res->ai_family), tfd,
        tcp_state(tfd));
    int one = 1;
    if (setsockopt(tfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1)
        fail("setsockopt SO_REUSEADDR");
    say("setsockopt(SO_REUSEADDR, 1) = 0");
    if (bind(tfd, res->ai_addr, res->ai_addrlen) == -1)
        fail("bind %s", name);   /* EADDRINUSE; EADDRNOTAVAIL: not this host's */
    local_name(tfd, name);   /* getsockname(2): with port 0, the one the kernel chose */
    say("bind(%s) = 0  state=%s", name, tcp_state(tfd));
    rc = listen(tfd, 16);
    /* END TODO 1 */
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
            size_t len = strlen(a.upath);   /* '@' and the name: that many bytes */
            memcpy(a.uaddr.sun_path + 1, a.upath + 1, len - 1);   /* [0] stays '\0' */
            a.ulen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
            /* END TODO 2 */
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
        ready = poll(p, 2, -1);
        /* END TODO 3 */
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
        cfd = accept(p[i].fd, (struct sockaddr *)&peer, &peerlen);
        /* END TODO 4 */
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
        /* EXTRA 1: -c: who is the client? */
        /* A Unix peer is a process of this host: the kernel recorded its
         * pid, uid and gid at connect() (unix(7), socket(7)). Another
         * network namespace of this host shares its kernel and its pids.
         * A TCP peer may be another machine: all we know is its address. */
        struct ucred who;
        socklen_t wholen = sizeof who;
        if (a.creds && i == 0)
            say("-c: a TCP peer has no credentials, only its address %s", name);
        else if (a.creds && getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &who, &wholen) == -1)
            say("getsockopt(SO_PEERCRED) = -1: %s", strerror(errno));
        else if (a.creds)
            say("getsockopt(SO_PEERCRED) = pid %ld uid %ld gid %ld",
                (long)who.pid, (long)who.uid, (long)who.gid);
        /* END EXTRA 1 */
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
