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
    errno = ENOSYS; /* step 5: replace this line */
    if (fd == -1)
        fail_raw("socket(AF_INET, SOCK_RAW)");
    say("socket(AF_INET, SOCK_RAW, IPPROTO_TCP) = fd %d", fd);

    unsigned char seg[24] = { 0 };
    /* TODO 6: The segment (RFC 9293, 3.1): 24 bytes, the 20 of the
     * header and one option, MSS 1460 (kind 2, length 4). Source and
     * destination ports, sequence number isn, data offset 6 (words, in
     * the high 4 bits of byte 12), flags SYN (byte 13), window 64240;
     * every field big-endian (put16, put32). */
    errno = ENOSYS; /* step 6: replace this line */

    /* TODO 7: The checksum (bytes 16-17, zero while it is computed):
     * inet_checksum() (lab.c, RFC 1071) over a pseudo-header of 12 bytes
     * (RFC 9293, 3.1: our address me, HOST's, a zero byte, the protocol
     * IPPROTO_TCP, the segment's length in 2 bytes), then the segment.
     * The receiver computes the same over what arrives: a wrong sum, and
     * the segment is dropped without a word. */
    errno = ENOSYS; /* step 7: replace this line */

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
