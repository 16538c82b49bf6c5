/* server.c - lab 05: a TCP server (upper-case echo), over IPv4 or IPv6.
 *
 *   ./server [-b ADDR] [-q BACKLOG] [-d SECONDS] [-t SECONDS] [-A] [PORT]
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
    "usage: server [-b ADDR] [-q BACKLOG] [-d SECONDS] [-t SECONDS] [-A]"
    " [PORT]\n"
    "  Serves upper-case echo over TCP on ADDR:PORT, one client at a time.\n"
    "  -b ADDR     numeric address to bind (default " DEFAULT_HOST ", reachable\n"
    "              from this machine only); ::1 is IPv6 loopback; 0.0.0.0 (IPv4),\n"
    "              :: (IPv6) or any (the wildcard getaddrinfo gives first) means\n"
    "              every interface: other machines can connect\n"
    "  -q BACKLOG  listen() backlog (default 16): how many connections may\n"
    "              wait to be accepted (Linux holds BACKLOG+1; -q 0 holds 1)\n"
    "  -d SECONDS  TCP_DEFER_ACCEPT (Linux): a new connection stays half-open\n"
    "              (SYN-RECV) until its first data arrives, up to SECONDS\n"
    "  -t SECONDS  a client that sends nothing, or reads nothing, for that\n"
    "              long is dropped (default 30; 0: wait for ever)\n"
    "  -A          listen only, never accept: connections wait in the queue\n"
    "  PORT        default " DEFAULT_PORT "; 0 picks any free port\n";

int main(int argc, char *argv[])
{
    prog = "server";
    struct server_args a;
    struct addrinfo hints, *res = NULL;
    int lfd = -1, opt = -1;
    int gai = EAI_SYSTEM;   /* getaddrinfo's result; EAI_SYSTEM: see errno */
    char name[ADDR_STRLEN];

    open_std_fds();   /* before any socket can take 0, 1 or 2 (lab.c) */
    parse_server_args(argc, argv, usage, &a);
    /* A client that vanishes would kill us with SIGPIPE on our next write;
     * ignored, the write fails with EPIPE instead and we serve the next. */
    signal(SIGPIPE, SIG_IGN);

    /* A number names one address, the wildcards 0.0.0.0 and :: too:
     * AI_NUMERICHOST takes it as it is, and asks no DNS. Every interface,
     * no family named (-b any), is the passive form: a NULL node with
     * AI_PASSIVE gives each family's wildcard address. With a node,
     * getaddrinfo(3) ignores AI_PASSIVE: it goes with NULL only. */
    const char *node = strcmp(a.host, "any") == 0 ? NULL : a.host;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;        /* IPv4 or IPv6: the address decides */
    hints.ai_socktype = SOCK_STREAM;    /* TCP */
    hints.ai_flags = (node == NULL ? AI_PASSIVE : AI_NUMERICHOST) | AI_NUMERICSERV;
    /* TODO 1: Turn node and a.port into socket addresses with
     * getaddrinfo(3), using hints; the result list goes into res, the
     * return value into gai. */
    errno = ENOSYS; /* step 1: replace this line */
    if (gai != 0)   /* an EAI_* code, not -1: a bad ADDR is a usage error */
        gai_failed(usage, gai, a.host);   /* exits: lab.c */
    say_addrinfo(node, a.port, res);
    /* One socket, for the first address: with -b any, glibc lists 0.0.0.0
     * before ::, so every IPv4 interface. (-b :: takes IPv4 too, on Linux,
     * unless IPV6_V6ONLY is set: ipv6(7).) */
    format_addr(res->ai_addr, res->ai_addrlen, name);

    /* Why SO_REUSEADDR: the end of a connection that closes first waits in
     * TIME-WAIT for up to 60 s (lab 07), still holding the port; without
     * the option, a restarted server's bind() fails with EADDRINUSE until
     * then. It never lets two servers listen on one port. */
    /* TODO 2: Create the socket with socket(2), taking family, type and
     * protocol from res, into lfd (fail on -1, then narrate it as the
     * lesson's transcripts show). Then set SO_REUSEADDR to 1 with setsockopt(2)
     * (socket(7)); keep setsockopt's result in opt. */
    errno = ENOSYS; /* step 2: replace this line */
    if (opt == -1)
        fail("setsockopt SO_REUSEADDR");
    say("setsockopt(SO_REUSEADDR, 1) = 0");
    exit_on_signals(lfd);   /* SIGINT, SIGTERM: close lfd, exit 0 (lab.c) */

    int bound = -1;
    /* TODO 3: Give the socket its address: bind(2) lfd to res->ai_addr
     * (res->ai_addrlen bytes); keep the result in bound. */
    errno = ENOSYS; /* step 3: replace this line */
    if (bound == -1)
        fail("bind %s", name);   /* EADDRINUSE: someone listens on that port */
    freeaddrinfo(res);
    local_name(lfd, name);   /* getsockname(2): with port 0, the one the kernel chose */
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
    errno = ENOSYS; /* step 4: replace this line */
    if (listening == -1)
        fail("listen");
    say("listen(backlog=%d) = 0  state=%s", a.backlog, tcp_state(lfd));
    printf("listening on %s\n", name);   /* the readiness line */
    (void)fflush(stdout);   /* no reader is no reason to stop serving */

    if (a.no_accept)
        never_accept();   /* -A: the kernel still queues handshakes (lab.c) */
    for (;;) {
        struct sockaddr_storage peer;
        socklen_t peerlen = sizeof peer;
        int cfd = -1;
        /* TODO 5: Take the next connection from the queue with accept(2),
         * storing the client's address in peer (peerlen bytes): the new
         * descriptor, connected to that client, goes into cfd. */
        errno = ENOSYS; /* step 5: replace this line */
        if (cfd == -1) {
            accept_failed();   /* a lost connection or a pause, or exit 1: lab.c */
            continue;
        }
        format_addr((struct sockaddr *)&peer, peerlen, name);
        say("accept() = fd %d from %s  state=%s", cfd, name, tcp_state(cfd));
        /* One client at a time: one that sends nothing, reads nothing, or
         * vanished without a FIN or an RST would hold us, and all after it,
         * for ever. Each read() and write() on cfd now waits a.timeout
         * seconds at most: SO_RCVTIMEO, SO_SNDTIMEO (socket(7); lab.c). */
        bound_waits(cfd, a.timeout);
        echo_client(cfd, a.timeout);   /* lab.c: read, upcase, write until EOF */
        if (close(cfd) == -1)   /* the fd is freed anyway (close(2)): not fatal */
            say("close(fd %d) = -1: %s", cfd, strerror(errno));
        else
            say("close(fd %d) = 0", cfd);
    }
}
