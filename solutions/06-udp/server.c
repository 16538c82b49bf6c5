/* server.c - lab 06: a UDP server (upper-case echo).
 *
 *   ./server [-b ADDR] [-s SIZE] [-r BYTES] [PORT]
 *
 * getaddrinfo() -> socket() -> bind() -> recvmsg() -> sendto() the sender,
 * one datagram after another, until SIGINT or SIGTERM. No listen(), no
 * accept(): there is no connection, each datagram carries its sender's
 * address and port. See udp(7), ip(7), ipv6(7), recv(2), send(2).
 */
#include "lab.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
/* EXTRA 2: a rate limit per source address (-l PER_SECOND) */
#include <time.h>

/* 1 when a reply to sa's address may go now: a token bucket per source.
 * It holds at most PER_SECOND tokens, gains PER_SECOND a second, and each
 * reply costs one. The buckets are a table of fixed size, picked by a
 * hash of the address: forged sources by the million cost no memory, and
 * sources that collide share a bucket. (Real limiters key the hash with a
 * secret, so that nobody can aim at another's bucket; and count a whole
 * network, /24 or /56, as one source, as DNS servers do.) */
static int under_limit(const struct sockaddr *sa, long per_second)
{
    static struct bucket { double tokens, at; } buckets[4096];
    unsigned char key[16];
    unsigned long h = 2166136261U;   /* FNV-1a, 32 bits */
    struct timespec ts;

    /* CLOCK_MONOTONIC: never set back, whatever happens to the date. */
    if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
        fail("clock_gettime");
    double now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    addr_key(sa, key);   /* the address, without the port (lab.c) */
    for (int i = 0; i < 16; i++)
        h = ((h ^ key[i]) * 16777619U) & 0xffffffffU;
    struct bucket *b = &buckets[h % 4096];
    b->tokens += (now - b->at) * (double)per_second;   /* unused yet (at 0): full */
    if (b->tokens > (double)per_second)
        b->tokens = (double)per_second;
    b->at = now;
    if (b->tokens < 1)
        return 0;
    b->tokens -= 1;
    return 1;
}
/* END EXTRA 2 */

int main(int argc, char *argv[])
{
    prog = "server";
    static char buf[BUF_SIZE];
    struct options opt;
    struct addrinfo *ai = NULL, hints = {
        .ai_family = AF_UNSPEC,      /* IPv4 or IPv6: whatever ADDR is */
        .ai_socktype = SOCK_DGRAM,   /* UDP */
        .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
    };
    struct sockaddr_storage me;   /* room for an IPv4 or an IPv6 address */
    socklen_t melen = sizeof me;
    int sfd = -1, rc = -1, on = 1;

    open_std_fds();   /* before any socket can take 0, 1 or 2 (lab.c) */
    parse_args(argc, argv, server_usage, "bsr", &opt);
    signal(SIGPIPE, SIG_IGN);   /* the course's rule; datagrams never raise it */

    /* getaddrinfo(3) turns the strings into a socket address. With
     * AI_NUMERICHOST it never asks DNS: ADDR must be a number, and there is
     * exactly one result. -b '*' names no address: the node is NULL, and
     * AI_PASSIVE (ignored with a node) asks for the wildcard, made for
     * bind(), of each family the machine has; we take the first. (glibc
     * reads a node "*" as NULL itself; other C libraries do not.) */
    const char *node = strcmp(opt.host, "*") == 0 ? NULL : opt.host;
    if (node == NULL)
        hints.ai_flags |= AI_PASSIVE;
    int gai = getaddrinfo(node, opt.port, &hints, &ai);
    if (gai == EAI_NONAME)   /* not a numeric address: the user's error */
        usage_error(server_usage, "bad ADDR '%s': %s", opt.host, gai_strerror(gai));
    if (gai == EAI_SYSTEM)
        fail("getaddrinfo %s", opt.host);
    if (gai != 0)
        failx("getaddrinfo %s: %s", opt.host, gai_strerror(gai));
    say("getaddrinfo(%s, %s%s) = %s", node != NULL ? node : "NULL", opt.port,
        (hints.ai_flags & AI_PASSIVE) ? ", AI_PASSIVE" : "", addr_name(ai->ai_addr, ai->ai_addrlen));

    /* TODO 1: Create the socket that getaddrinfo described, with socket(2):
     * the family (AF_INET or AF_INET6), the type (SOCK_DGRAM) and the
     * protocol (UDP) that ai holds, all three as they are, so that -b ::1
     * works as well as 127.0.0.1. Keep the descriptor in sfd. */
    sfd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    /* END TODO 1 */
    if (sfd == -1)
        fail("socket");
    say("socket(%s, SOCK_DGRAM) = fd %d", family_name(ai->ai_family), sfd);

    if (opt.rcvbuf > 0) {
        /* The kernel queues arriving datagrams until we receive them, up to
         * SO_RCVBUF bytes, counted with its overhead per datagram. Linux
         * caps the request at net.core.rmem_max, doubles it, and enforces
         * a minimum (socket(7)): getsockopt() shows what we got. */
        int size = (int)opt.rcvbuf;
        socklen_t sizelen = sizeof size;
        if (setsockopt(sfd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size) == -1)
            fail("setsockopt SO_RCVBUF");
        say("setsockopt(SO_RCVBUF, %ld) = 0", opt.rcvbuf);
        if (getsockopt(sfd, SOL_SOCKET, SO_RCVBUF, &size, &sizelen) == -1)
            fail("getsockopt SO_RCVBUF");
        say("getsockopt(SO_RCVBUF) = %d %s", size, rcvbuf_rule(opt.rcvbuf, size));
    }

    /* Bound to the wildcard, the socket takes datagrams sent to any of the
     * machine's addresses, but a reply goes out from the address the
     * routing table picks: a client that asked 127.0.0.2 would hear from
     * 127.0.0.1, and drop it. Linux-specific (ip(7), ipv6(7)): with
     * IP_PKTINFO (IPV6_RECVPKTINFO) each datagram comes with the address
     * it was sent to, and sendmsg() with that same control message sends
     * the reply from there (IPv4 datagrams on a :: socket included). */
    int wildcard = is_wildcard(ai->ai_addr), v4 = ai->ai_family == AF_INET;
    const char *pktinfo = v4 ? "IP_PKTINFO" : "IPV6_RECVPKTINFO";
    if (wildcard) {
        if (setsockopt(sfd, v4 ? IPPROTO_IP : IPPROTO_IPV6, v4 ? IP_PKTINFO : IPV6_RECVPKTINFO,
                       &on, sizeof on) == -1)
            fail("setsockopt %s", pktinfo);
        say("setsockopt(%s) = 0", pktinfo);
    }

    /* TODO 2: Give the socket the address clients send to, with bind(2):
     * the address that ai holds, and its length, as getaddrinfo gave them.
     * Keep the result in rc. No listen() follows: a datagram socket
     * receives as soon as it has an address. */
    rc = bind(sfd, ai->ai_addr, ai->ai_addrlen);
    /* END TODO 2 */
    if (rc == -1)
        fail("bind %s", addr_name(ai->ai_addr, ai->ai_addrlen));
    say("bind(%s) = 0", addr_name(ai->ai_addr, ai->ai_addrlen));
    freeaddrinfo(ai);
    /* SIGINT and SIGTERM end the server with status 0 (lab.c). There is no
     * file to remove: an internet socket has no name in the filesystem. */
    exit_on_signal(sfd);

    /* With PORT 0 the kernel chose the port: getsockname(2) tells which. */
    if (getsockname(sfd, (struct sockaddr *)&me, &melen) == -1)
        fail("getsockname");
    printf("receiving on %s\n", addr_name((struct sockaddr *)&me, melen));   /* readiness */
    (void)fflush(stdout);   /* no reader is no reason to stop serving */

    for (;;) {
        struct sockaddr_storage from = { .ss_family = AF_UNSPEC };   /* the sender, by recvmsg */
        _Alignas(struct cmsghdr) char ctl[PKTINFO_SPACE];   /* pktinfo; cmsg(3) */
        struct iovec iov = { .iov_base = buf, .iov_len = (size_t)opt.size };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                              .msg_control = wildcard ? ctl : NULL,
                              .msg_controllen = wildcard ? sizeof ctl : 0 };
        ssize_t n = -1, w = -1;
        char note[64] = "";

        /* TODO 3: Receive one datagram, and learn who sent it, with
         * recvmsg(2): msg must say where to put the sender's address (from)
         * and how much room is there (all of from; recvmsg writes back the
         * address's real length). Ask, with the right flag (recv(2), "The
         * flags argument", Linux-specific), for the datagram's real length
         * even when buf is too short for it. Keep that length in n. */
        msg.msg_name = &from;
        msg.msg_namelen = sizeof from;
        n = recvmsg(sfd, &msg, MSG_TRUNC);
        /* END TODO 3 */
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1)
            fail("recvmsg");
        size_t len = (size_t)n;   /* 0 is an empty datagram, not an end */
        /* POSIX: recvmsg sets MSG_TRUNC in msg_flags when the datagram was
         * longer than the buffer; the rest of it is gone for good. */
        if (msg.msg_flags & MSG_TRUNC) {
            len = iov.iov_len;
            snprintf(note, sizeof note, ", buffer holds %zu: truncated (MSG_TRUNC)", len);
        }
        /* A source is only what the datagram says: anybody can forge it.
         * Never answer one from our own port: that is this very socket
         * (bound to the wildcard, every address of ours with this port is)
         * or a twin server elsewhere, and each reply would come back as a
         * request, for ever. Nor one from a port below 1024: only root
         * sends from there, and the services there answer too (echo 7,
         * chargen 19). Clients send from ip_local_port_range (ip(7)),
         * 32768-60999: neither 5006 nor a port below 1024. Still open: two
         * echo servers on other ports, pointed at each other by a forged
         * source; only a rate limit would bound that. */
        int port = addr_port((struct sockaddr *)&from);   /* -1: no address */
        const char *loop = port == addr_port((struct sockaddr *)&me) ? ": our own port"
                         : port >= 0 && port < 1024 ? ": a service's port" : "";
        say("recvmsg() = %zd bytes from %s%s%s%s", n, peer_name(&msg, " to "), note, loop,
            *loop ? ", not answered (a loop)" : "");
        if (*loop)
            continue;
        /* EXTRA 2: at most -l replies a second to any one address */
        if (opt.limit > 0 && !under_limit((struct sockaddr *)&from, opt.limit)) {
            say("rate limit: %s is over %ld replies a second, not answered",
                addr_name((struct sockaddr *)&from, msg.msg_namelen), opt.limit);
            continue;
        }
        /* END EXTRA 2 */
        upcase(buf, len);

        do {
            if (wildcard) {   /* the request turned around: same address, same pktinfo */
                iov.iov_len = len;
                w = sendmsg(sfd, &msg, 0);
            } else {
                /* TODO 4: Send the reply back to the sender, with
                 * sendto(2): the first len bytes of buf (len, not n: after a
                 * truncation only len bytes are there), to the address
                 * recvmsg put in from, of the length it wrote in msg. Keep
                 * the result in w. */
                w = sendto(sfd, buf, len, 0, (struct sockaddr *)&from, msg.msg_namelen);
                /* END TODO 4 */
            }
        } while (w == -1 && errno == EINTR);
        /* Nothing tells us whether the reply arrives: a client that is gone
         * costs its reply only. */
        const char *call = wildcard ? "sendmsg" : "sendto";
        const char *reason = strerror(errno);   /* before peer_name() can change errno */
        if (w == -1)
            say("%s(%s) = -1: %s", call, peer_name(&msg, ", from "), reason);
        else
            say("%s(%s) = %zd bytes", call, peer_name(&msg, ", from "), w);
    }
}
