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
#include "lab.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char usage[] =
    "usage: client [-m MODE] [-n N] [-s SIZE] [-w N] [-b BYTES]"
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
        if (connect(fd, &t.sa, t.len) == -1)   /* udp: the only peer we hear */
            fail("connect %s", t.where);
        say("connect(%s) = 0%s", t.shown, tcp_note(fd));
        if (t.type == SOCK_DGRAM)   /* a lost datagram is never sent again: */
            bound_waits(fd, 1);     /* wait 1 s at most for a reply (lab.c) */
        t.rfd = t.wfd = fd;
    }

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
