/* server.c - lab 05: a TCP server (upper-case echo), over IPv4 or IPv6.
 *
 *   ./server [-b ADDR] [-q BACKLOG] [-d SECONDS] [-A] [PORT]
 *
 * getaddrinfo() -> socket() -> setsockopt(SO_REUSEADDR) -> bind() ->
 * listen() -> accept() -> read()/write() -> close(), one client after
 * another, until SIGINT or SIGTERM. See ip(7), ipv6(7), tcp(7).
 */
#include "lab.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: server [-b ADDR] [-q BACKLOG] [-d SECONDS] [-A] [PORT]\n"
    "  Serves upper-case echo over TCP on ADDR:PORT, one client at a time.\n"
    "  -b ADDR     numeric address to bind (default " DEFAULT_HOST ", reachable\n"
    "              from this machine only); ::1 is IPv6 loopback; 0.0.0.0 or ::\n"
    "              means every interface: other machines can connect\n"
    "  -q BACKLOG  listen() backlog (default 16): how many connections may\n"
    "              wait to be accepted (Linux holds BACKLOG+1; -q 0 holds 1)\n"
    "  -d SECONDS  TCP_DEFER_ACCEPT (Linux): a new connection stays half-open\n"
    "              (SYN-RECV) until its first data arrives, up to SECONDS\n"
    "  -A          listen only, never accept: connections wait in the queue\n"
    "  PORT        default " DEFAULT_PORT "; 0 picks any free port\n";

static int lfd = -1;   /* global: the signal handler closes it */

/* SIGINT/SIGTERM end the server with status 0. Only async-signal-safe
 * calls here (signal-safety(7)): close(), write() and _exit() are,
 * printf() is not. There is no file to remove: a port is freed when its
 * socket closes. */
static void on_signal(int sig)
{
    static const char msg[] = "[server] signal: exit 0\n";
    (void)sig;
    (void)close(lfd);   /* the kernel would, at exit; valgrind --track-fds sees it closed */
    if (write(2, msg, sizeof msg - 1) == -1)
        _exit(1);
    _exit(0);
}

int main(int argc, char *argv[])
{
    prog = "server";
    struct server_args a;
    struct addrinfo hints, *res = NULL;
    int opt = -1;
    int gai = EAI_SYSTEM;   /* getaddrinfo's result; EAI_SYSTEM: see errno */
    char name[ADDR_STRLEN];

    parse_server_args(argc, argv, usage, &a);
    /* A client that vanishes would kill us with SIGPIPE on our next write;
     * ignored, the write fails with EPIPE instead and we serve the next. */
    signal(SIGPIPE, SIG_IGN);
    /* sigaction(2), not signal(): under -D_POSIX_C_SOURCE, glibc's signal()
     * resets the handler on entry, so a second signal would kill us. */
    struct sigaction sa = { .sa_handler = on_signal };   /* Ctrl-C: exit 0 */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;        /* IPv4 or IPv6: the address decides */
    hints.ai_socktype = SOCK_STREAM;    /* TCP */
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
    /* TODO 1: Turn a.host and a.port into a socket address with
     * getaddrinfo(3), using hints; the result list goes into res, the
     * return value into gai. */
    gai = getaddrinfo(a.host, a.port, &hints, &res);
    /* END TODO 1 */
    if (gai == EAI_NONAME)
        usage_error(usage, "bad ADDR '%s' (numeric: 127.0.0.1, ::1, 0.0.0.0, ::)", a.host);
    if (gai == EAI_SYSTEM)
        fail("getaddrinfo %s", a.host);
    if (gai != 0)
        failx("getaddrinfo %s: %s", a.host, gai_strerror(gai));
    say_addrinfo(a.host, a.port, res);
    format_addr(res->ai_addr, res->ai_addrlen, name);

    /* Why SO_REUSEADDR: the end of a connection that closes first waits in
     * TIME-WAIT for up to 60 s (lab 07), still holding the port; without
     * the option, a restarted server's bind() fails with EADDRINUSE until
     * then. It never lets two servers listen on one port. */
    /* TODO 2: Create the socket with socket(2), taking family, type and
     * protocol from res, into lfd (fail on -1, then narrate it as the
     * lesson shows). Then set SO_REUSEADDR to 1 with setsockopt(2)
     * (socket(7)); keep setsockopt's result in opt. */
    lfd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    if (lfd == -1)
        fail("socket");
    say("socket(%s, SOCK_STREAM) = fd %d  state=%s", family_name(res->ai_family), lfd,
        tcp_state(lfd));
    int one = 1;
    opt = setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    /* END TODO 2 */
    if (opt == -1)
        fail("setsockopt SO_REUSEADDR");
    say("setsockopt(SO_REUSEADDR, 1) = 0");

    int bound = -1;
    /* TODO 3: Give the socket its address: bind(2) lfd to res->ai_addr
     * (res->ai_addrlen bytes); keep the result in bound. */
    bound = bind(lfd, res->ai_addr, res->ai_addrlen);
    /* END TODO 3 */
    if (bound == -1)
        fail("bind %s", name);   /* EADDRINUSE: someone listens on that port */
    freeaddrinfo(res);
    /* With port 0 the kernel chose one: getsockname(2) tells which. */
    struct sockaddr_storage local;
    socklen_t len = sizeof local;
    if (getsockname(lfd, (struct sockaddr *)&local, &len) == -1)
        fail("getsockname");
    format_addr((struct sockaddr *)&local, len, name);
    say("bind(%s) = 0  state=%s", name, tcp_state(lfd));

    if (a.defer > 0) {
        /* Linux-specific (tcp(7)): the client's bare ACK is ignored, so
         * the connection stays in SYN-RECV, out of the accept queue, until
         * data arrives; a client that sends nothing is let in about SECONDS
         * later, when it acknowledges a repeated SYN-ACK. */
        if (setsockopt(lfd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &a.defer, sizeof a.defer) == -1)
            fail("setsockopt TCP_DEFER_ACCEPT");
        say("setsockopt(TCP_DEFER_ACCEPT, %d) = 0", a.defer);
    }

    int listening = -1;
    /* TODO 4: Make lfd a listening socket with listen(2), with a backlog
     * of a.backlog connections waiting to be accepted; result in listening. */
    listening = listen(lfd, a.backlog);
    /* END TODO 4 */
    if (listening == -1)
        fail("listen");
    say("listen(backlog=%d) = 0  state=%s", a.backlog, tcp_state(lfd));
    printf("listening on %s\n", name);   /* the readiness line */
    (void)fflush(stdout);   /* no reader is no reason to stop serving */

    if (a.no_accept) {
        /* -A: the kernel still completes handshakes and queues them; with
         * the queue full, new SYNs are dropped (the client retries). */
        say("-A: not accepting; connections wait in the accept queue");
        for (;;)
            pause();
    }
    for (;;) {
        struct sockaddr_storage peer;
        socklen_t peerlen = sizeof peer;
        int cfd = -1;
        /* TODO 5: Take the next connection from the queue with accept(2),
         * storing the client's address in peer (peerlen bytes): the new
         * descriptor, connected to that client, goes into cfd. */
        cfd = accept(lfd, (struct sockaddr *)&peer, &peerlen);
        /* END TODO 5 */
        if (cfd == -1 && (errno == EINTR || errno == ECONNABORTED || errno == EPROTO))
            continue;   /* a client that left while queued costs nothing */
        if (cfd == -1)
            fail("accept");
        format_addr((struct sockaddr *)&peer, peerlen, name);
        say("accept() = fd %d from %s  state=%s", cfd, name, tcp_state(cfd));
        echo_client(cfd);   /* lab.c: read, upcase, write until EOF */
        if (close(cfd) == -1)   /* the fd is freed anyway (close(2)): not fatal */
            say("close(fd %d) = -1: %s", cfd, strerror(errno));
        else
            say("close(fd %d) = 0", cfd);
    }
}
