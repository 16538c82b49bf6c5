/* synsend.c - lab 09: one TCP SYN made by hand, and the answer it gets.
 *
 *   ./synsend [-p SRCPORT] HOST PORT          HOST: an IPv4 address
 *
 * socket(AF_INET, SOCK_RAW, IPPROTO_TCP): the kernel writes the IP header,
 * we write the TCP header, checksum and all -> sendto() -> recvfrom() on
 * the same socket, which gets a copy of every TCP packet that arrives: the
 * one from HOST:PORT to our port is the answer: SYN,ACK from a listener,
 * RST,ACK from a closed port. Our own kernel, which knows nothing of this
 * connection, then answers a SYN,ACK with an RST (sniff shows it). Needs
 * CAP_NET_RAW. See raw(7), ip(7), tcp(7), RFC 9293 (3.1), RFC 1071.
 */
#define _GNU_SOURCE
#include "lab.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

static const char usage[] =
    "usage: synsend [-p SRCPORT] HOST PORT\n"
    "  Sends one TCP SYN, made by hand on a raw socket, to the IPv4 address\n"
    "  HOST, port PORT, and prints the answer: SYN,ACK (a listener) or\n"
    "  RST,ACK (a closed port). Needs CAP_NET_RAW: run it as root, or inside\n"
    "  unshare -r -n.\n"
    "  -p SRCPORT  the source port (default: a random one, 40000-59999)\n"
    /* EXTRA 2: the usage of an IPv6 HOST */
    "  HOST may be an IPv6 address too (::1): the SYN goes over IPv6\n"
    /* END EXTRA 2 */
    ;

/* sendto() HOST the segment seg, and narrate it: from -> to. */
static void send_syn(int fd, const unsigned char *seg, size_t len, const struct sockaddr *dst,
                     socklen_t dstlen, const char *host, const char *from, const char *to, uint32_t isn)
{
    ssize_t w;
    do
        w = sendto(fd, seg, len, 0, dst, dstlen);
    while (w == -1 && errno == EINTR);
    if (w == -1)
        fail("sendto %s", host);
    say("sendto() = %zd bytes: %s > %s TCP [SYN] seq=%u", w, from, to, isn);
}

/* EXTRA 2: HOST an IPv6 address: the same SYN over IPv6 (ipv6(7); RFC
 * 3542, 3: raw IPv6 sockets; RFC 8200, 8.1). Another socket, another
 * pseudo-header, step 6's segment; the answer comes without its IPv6
 * header (print_answer, lab.c). */
static int synsend6(const char *host, struct sockaddr_in6 *to, uint16_t sport, uint16_t dport, uint32_t isn)
{
    struct sockaddr_in6 me;
    socklen_t melen = sizeof me;
    int u = socket(AF_INET6, SOCK_DGRAM, 0);   /* our address, as for IPv4 */
    to->sin6_port = htons(dport);
    if (u == -1 || connect(u, (struct sockaddr *)to, sizeof *to) == -1 ||
        getsockname(u, (struct sockaddr *)&me, &melen) == -1)
        fail("the route to %s", host);
    (void)close(u);
    int fd = socket(AF_INET6, SOCK_RAW, IPPROTO_TCP);
    if (fd == -1)
        fail_raw("socket(AF_INET6, SOCK_RAW)");
    say("socket(AF_INET6, SOCK_RAW, IPPROTO_TCP) = fd %d", fd);
    /* Step 6's 24 bytes: data offset 6, SYN, window 64240, MSS 1460. */
    unsigned char seg[24] = { [12] = 6 << 4, [13] = 0x02, [14] = 64240 >> 8, [15] = 64240 & 0xff,
                              [20] = 2, [21] = 4, [22] = 1460 >> 8, [23] = 1460 & 0xff };
    put16(seg, sport), put16(seg + 2, dport), put32(seg + 4, isn);
    /* The pseudo-header of IPv6 (RFC 8200, 8.1): our address, HOST's,
     * the upper-layer length in 4 bytes, 3 zero bytes, next header 6. */
    unsigned char pseudo6[40] = { 0 };
    memcpy(pseudo6, &me.sin6_addr, 16);
    memcpy(pseudo6 + 16, &to->sin6_addr, 16);
    put32(pseudo6 + 32, sizeof seg);
    pseudo6[39] = IPPROTO_TCP;
    put16(seg + 16, inet_checksum(pseudo6, sizeof pseudo6, seg, sizeof seg));
    to->sin6_port = 0;   /* a raw socket's address: no port */
    char a[64], b[64];
    endpoint(a, sizeof a, AF_INET6, me.sin6_addr.s6_addr, sport);
    endpoint(b, sizeof b, AF_INET6, to->sin6_addr.s6_addr, dport);
    send_syn(fd, seg, sizeof seg, (struct sockaddr *)to, sizeof *to, host, a, b, isn);
    print_answer(fd, AF_INET6, to->sin6_addr.s6_addr, me.sin6_addr.s6_addr, dport, sport, isn);
    if (close(fd) == -1)
        fail("close");
    return 0;
}
/* END EXTRA 2 */
int main(int argc, char *argv[])
{
    prog = "synsend";
    long sport = 0, dport;
    struct sockaddr_in to = { .sin_family = AF_INET }, me;
    socklen_t melen = sizeof me;
    int i, fd = -1;

    open_std_fds();
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        fputs(usage, stdout);
        return 0;
    }
    opterr = 0;   /* getopt(3): our own messages, one line and the usage */
    for (int c; (c = getopt(argc, argv, "+:p:")) != -1;) {
        if (c == 'p')
            sport = number(usage, "SRCPORT", optarg, 1, 65535);
        else if (c == ':')
            usage_error(usage, "-%c needs a value", optopt);
        else
            usage_error(usage, "unknown option '-%c'", optopt);
    }
    i = optind;
    if (argc - i != 2)
        usage_error(usage, argc - i < 2 ? "HOST and PORT are needed" : "too many arguments");
    dport = number(usage, "PORT", argv[i + 1], 1, 65535);
    uint32_t isn;   /* the initial sequence number: unguessable (RFC 6528) */
    if (getrandom(&isn, sizeof isn, 0) != (ssize_t)sizeof isn)
        fail("getrandom");
    if (sport == 0)
        sport = 40000 + isn % 20000;
    /* EXTRA 2: an IPv6 HOST (::1): the same SYN over IPv6 (above) */
    struct sockaddr_in6 to6 = { .sin6_family = AF_INET6 };
    if (inet_pton(AF_INET6, argv[i], &to6.sin6_addr) == 1)
        return synsend6(argv[i], &to6, (uint16_t)sport, (uint16_t)dport, isn);
    /* END EXTRA 2 */
    if (inet_pton(AF_INET, argv[i], &to.sin_addr) != 1)
        usage_error(usage, "bad HOST '%s' (an IPv4 address: 127.0.0.1)", argv[i]);

    /* Our address, for the pseudo-header: the one the kernel picks to
     * reach HOST. A UDP socket's connect() asks the routing table and
     * sends nothing; getsockname() tells what it chose. */
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    to.sin_port = htons((uint16_t)dport);
    if (u == -1 || connect(u, (struct sockaddr *)&to, sizeof to) == -1 ||
        getsockname(u, (struct sockaddr *)&me, &melen) == -1)
        fail("the route to %s", argv[i]);
    (void)close(u);

    /* TODO 5: Open a raw IPv4 socket for TCP (raw(7)): the kernel adds
     * the IP header to what we send, and gives us a copy of every TCP
     * packet that arrives, IP header included. Keep it in fd. */
    fd = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);
    /* END TODO 5 */
    if (fd == -1)
        fail_raw("socket(AF_INET, SOCK_RAW)");
    say("socket(AF_INET, SOCK_RAW, IPPROTO_TCP) = fd %d", fd);

    unsigned char seg[24] = { 0 };
    /* TODO 6: The segment (RFC 9293, 3.1): 24 bytes, the 20 of the
     * header and one option, MSS 1460 (kind 2, length 4). Source and
     * destination ports, sequence number isn, data offset 6 (words, in
     * the high 4 bits of byte 12), flags SYN (byte 13), window 64240;
     * every field big-endian (put16, put32). */
    put16(seg, (uint16_t)sport);
    put16(seg + 2, (uint16_t)dport);
    put32(seg + 4, isn);
    seg[12] = 6 << 4;
    seg[13] = 0x02;
    put16(seg + 14, 64240);
    seg[20] = 2, seg[21] = 4;
    put16(seg + 22, 1460);
    /* END TODO 6 */

    /* TODO 7: The checksum (bytes 16-17, zero while it is computed):
     * inet_checksum() (lab.c, RFC 1071) over a pseudo-header of 12 bytes
     * (RFC 9293, 3.1: our address me, HOST's, a zero byte, the protocol
     * IPPROTO_TCP, the segment's length in 2 bytes), then the segment.
     * The receiver computes the same over what arrives: a wrong sum, and
     * the segment is dropped without a word. */
    unsigned char pseudo[12] = { 0 };
    memcpy(pseudo, &me.sin_addr, 4);
    memcpy(pseudo + 4, &to.sin_addr, 4);
    pseudo[9] = IPPROTO_TCP;
    put16(pseudo + 10, sizeof seg);
    put16(seg + 16, inet_checksum(pseudo, sizeof pseudo, seg, sizeof seg));
    /* END TODO 7 */

    /* A raw socket's address has no port: sin_port must be 0 (raw(7)). */
    struct sockaddr_in dst = to;
    dst.sin_port = 0;
    char a[64], b[64];
    endpoint(a, sizeof a, AF_INET, (const unsigned char *)&me.sin_addr, (uint16_t)sport);
    endpoint(b, sizeof b, AF_INET, (const unsigned char *)&to.sin_addr, (uint16_t)dport);
    send_syn(fd, seg, sizeof seg, (struct sockaddr *)&dst, sizeof dst, argv[i], a, b, isn);

    /* The answer: every TCP packet that arrives comes to fd too; ours is
     * the one from HOST:PORT to our port (lab.c). At most 2 s. */
    print_answer(fd, AF_INET, (const unsigned char *)&to.sin_addr, (const unsigned char *)&me.sin_addr,
                 (uint16_t)dport, (uint16_t)sport, isn);
    if (close(fd) == -1)   /* nothing open at exit but 0, 1 and 2 */
        fail("close");
    return 0;
}
