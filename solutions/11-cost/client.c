/* client.c - lab 11: the measurer. What does a socket cost?
 *
 *   ./client [-m rtt|nagle|bulk|conn] [-n N] [-s SIZE] [-w N] [-b BYTES]
 *            TRANSPORT [PATH|PORT] > figures
 *
 * The measurer's end: socket() -> connect() (pipe, socketpair: made here,
 * the responder forked and exec'd on the other end, as lab 02 does) ->
 * the test, timed (measure.c): round trips one by one (rtt, nagle), a bulk
 * transfer, or connections, each set up, used once and closed (conn).
 * One line of figures on stdout. See unix(7), tcp(7), udp(7), pipe(7).
 */
/* EXTRA 2: F_SETPIPE_SZ is Linux-specific */
#define _GNU_SOURCE
/* END EXTRA 2 */
#include "lab.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
/* EXTRA 2: fcntl(F_SETPIPE_SZ) */
#include <fcntl.h>
/* END EXTRA 2 */

static const char usage[] =
    "usage: client [-m MODE] [-n N] [-s SIZE] [-w N] [-b BYTES]"
    /* EXTRA 1: -v in the usage */
    " [-v]"
    /* END EXTRA 1 */
    /* EXTRA 2: -B in the usage */
    " [-B BYTES]"
    /* END EXTRA 2 */
    " TRANSPORT [PATH|PORT]\n"
    "  Measures TRANSPORT against ./server; one line of figures on stdout.\n"
    "  TRANSPORT  pipe, socketpair (./server started here), unix [PATH] (default\n"
    "             " DEFAULT_PATH "), or on 127.0.0.1 tcp, tcp-nodelay, udp [PORT] (5011)\n"
    "  -m MODE    rtt: round trips of SIZE bytes (default); nagle: each request in\n"
    "             two writes, 2 bytes then SIZE-2; bulk: BYTES one way in writes\n"
    "             of 64 KiB; conn: connections, each one round trip (unix, tcp)\n"
    "  -n N       round trips or connections timed (default 10000; nagle 20; conn 2000)\n"
    "  -s SIZE    bytes a message (default 1; nagle 100); -b BYTES: bulk's (256 MiB)\n"
    "  -w N       untimed ones first, to warm up (default N/10, at least 1; bulk:\n"
    "             256 writes)\n"
    /* EXTRA 1: -v in the usage */
    "  -v         nagle: each request in one writev(), both parts at once\n"
    /* END EXTRA 1 */
    /* EXTRA 2: -B in the usage */
    "  -B BYTES   SO_SNDBUF and SO_RCVBUF on both ends (a pipe: F_SETPIPE_SZ)\n"
    /* END EXTRA 2 */
    ;

int main(int argc, char *argv[])
{
    prog = "client";
    struct transport t;
    struct test x;
    int one = 1;
    pid_t child = -1;

    open_std_fds();   /* before any socket can take 0, 1 or 2 (lab.c) */
    parse_client_args(argc, argv, usage, &t, &x);   /* or exit 2, before any socket */
    signal(SIGPIPE, SIG_IGN);   /* a vanished server gives EPIPE, not death */

    if (x.mode != CONN && (t.kind == T_PIPE || t.kind == T_SOCKETPAIR)) {
        child = spawn_responder(&t, argv[0]);   /* fork, exec ./server: lab.c */
    } else if (x.mode != CONN) {
        int fd = socket(t.family, t.type, 0);
        if (fd == -1)
            fail("socket");
        say("socket(%s, %s) = fd %d%s", family_name(t.family), type_name(t.type), fd, tcp_note(fd));
        /* tcp-nodelay: each write() goes at once (tcp(7): Nagle's algorithm off). */
        if (x.nodelay && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == -1)
            fail("setsockopt TCP_NODELAY");
        if (x.nodelay)
            say("setsockopt(TCP_NODELAY, 1) = 0");
        /* EXTRA 2: -B BYTES: before connect(): a TCP connection's receive
         * buffer, and so its window's scale, is fixed at the handshake (tcp(7)) */
        if (x.buffer > 0 &&
            (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &x.buffer, sizeof x.buffer) == -1 ||
             setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &x.buffer, sizeof x.buffer) == -1))
            fail("setsockopt SO_SNDBUF, SO_RCVBUF %d", x.buffer);
        if (x.buffer > 0)
            say("setsockopt(SO_SNDBUF, SO_RCVBUF, %d) = 0", x.buffer);
        /* END EXTRA 2 */
        if (connect(fd, &t.sa, t.len) == -1)   /* udp: the only peer we hear */
            fail("connect %s", t.where);
        say("connect(%s) = 0%s", t.shown, tcp_note(fd));
        if (t.type == SOCK_DGRAM)   /* a lost datagram is never sent again: */
            bound_waits(fd, 1);     /* wait 1 s at most for a reply (lab.c) */
        t.rfd = t.wfd = fd;
    }
    /* EXTRA 2: -B BYTES: a pipe's size (both pipes: ours to set), or our
     * end of the socketpair */
    if (x.buffer > 0 && t.kind == T_PIPE &&
        (fcntl(t.wfd, F_SETPIPE_SZ, x.buffer) == -1 || fcntl(t.rfd, F_SETPIPE_SZ, x.buffer) == -1))
        fail("fcntl F_SETPIPE_SZ %d", x.buffer);
    if (x.buffer > 0 && t.kind == T_SOCKETPAIR &&
        (setsockopt(t.wfd, SOL_SOCKET, SO_SNDBUF, &x.buffer, sizeof x.buffer) == -1 ||
         setsockopt(t.rfd, SOL_SOCKET, SO_RCVBUF, &x.buffer, sizeof x.buffer) == -1))
        fail("setsockopt SO_SNDBUF, SO_RCVBUF %d", x.buffer);
    if (x.buffer > 0 && child != -1)
        say("%s %d) = 0", t.kind == T_PIPE ? "fcntl(F_SETPIPE_SZ," :
            "setsockopt(SO_SNDBUF, SO_RCVBUF,", x.buffer);
    /* END EXTRA 2 */

    if (x.mode == RTT || x.mode == NAGLE)
        measure_rtt(&t, &x);   /* measure.c, steps 3 and 4 */
    else if (x.mode == BULK)
        measure_bulk(&t, &x);   /* step 5 */
    else
        measure_conn(&t, &x);   /* step 6 */
    if (t.rfd != -1 && (close(t.rfd) == -1 || (t.wfd != t.rfd && close(t.wfd) == -1)))
        fail("close");
    if (child != -1)
        reap_responder(child);   /* it must exit 0 on our EOF: lab.c */
    return 0;
}
