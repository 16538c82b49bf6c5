/* 09-raw-packets-forge.c - the tests' forger of packets for lab 09.
 *
 *   forge IFACE PACKET...
 *
 * Sends each PACKET, in order, as one frame on IFACE (lo) through
 * socket(AF_PACKET, SOCK_DGRAM) and sendto() to a sockaddr_ll of that
 * interface: the bytes go out as written, header and all, with no fix-up
 * by the kernel (unlike a raw socket's IP_HDRINCL, which fills in the
 * length, the identification and the checksum). PACKET is
 *   4:HEX   an IPv4 packet (ETH_P_IP), HEX its bytes from the IP header on
 *   4c:HEX  the same, with the IPv4 header checksum (bytes 10-11) filled
 *           in over the header that byte 0's low 4 bits say, so that the
 *           kernel's ip_rcv() takes it (the tests' other packets have a
 *           wrong one: the kernel drops them and answers none)
 *   6:HEX   an IPv6 packet (ETH_P_IPV6)
 * Blanks and dots in HEX are skipped. Prints "sent N" per packet on
 * stdout. Exit 0, 1 when a call fails, 2 on bad arguments. Needs
 * CAP_NET_RAW (root, or inside unshare -r -n). Linux: packet(7).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static _Noreturn void die(const char *what)
{
    fprintf(stderr, "forge: %s: %s\n", what, strerror(errno));
    exit(1);
}

static _Noreturn void bad(const char *what, const char *arg)
{
    fprintf(stderr, "forge: %s: '%s'\n", what, arg);
    exit(2);
}

static int nibble(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* HEX -> bytes in out (at most size); returns how many, -1 when bad. */
static long unhex(const char *hex, unsigned char *out, size_t size)
{
    size_t n = 0;
    int half = -1;
    for (; *hex != '\0'; hex++) {
        if (*hex == ' ' || *hex == '.')
            continue;
        int v = nibble(*hex);
        if (v < 0)
            return -1;
        if (half < 0) {
            half = v;
            continue;
        }
        if (n == size)
            return -1;
        out[n++] = (unsigned char)(half << 4 | v);
        half = -1;
    }
    return half < 0 ? (long)n : -1;
}

/* RFC 1071 over the IPv4 header of p (its IHL), into bytes 10-11. */
static void ip_checksum(unsigned char *p, size_t n)
{
    size_t hlen = (size_t)(p[0] & 15) * 4;
    uint32_t sum = 0;
    if (hlen < 20 || hlen > n)
        return;   /* no header to sum: left as written */
    p[10] = p[11] = 0;
    for (size_t i = 0; i + 1 < hlen; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    p[10] = (unsigned char)(~sum >> 8);
    p[11] = (unsigned char)~sum;
}

int main(int argc, char *argv[])
{
    static unsigned char p[65536];
    if (argc < 3) {
        fputs("usage: forge IFACE {4|4c|6}:HEX...\n", stderr);
        return 2;
    }
    unsigned ifindex = if_nametoindex(argv[1]);
    if (ifindex == 0)
        die(argv[1]);
    int fd = socket(AF_PACKET, SOCK_DGRAM, 0);   /* sends only: no protocol */
    if (fd == -1)
        die("socket(AF_PACKET)");
    for (int i = 2; i < argc; i++) {
        const char *colon = strchr(argv[i], ':');
        size_t kind = colon != NULL ? (size_t)(colon - argv[i]) : 0;
        uint16_t type;
        if (kind == 1 && argv[i][0] == '4') type = ETH_P_IP;
        else if (kind == 2 && strncmp(argv[i], "4c", 2) == 0) type = ETH_P_IP;
        else if (kind == 1 && argv[i][0] == '6') type = ETH_P_IPV6;
        else bad("not 4:, 4c: or 6:", argv[i]);
        long n = unhex(colon + 1, p, sizeof p);
        if (n <= 0)
            bad("bad HEX", argv[i]);
        if (kind == 2)
            ip_checksum(p, (size_t)n);
        /* lo's link-layer address is all zeros: so is the destination's */
        struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_protocol = htons(type),
                                  .sll_ifindex = (int)ifindex, .sll_halen = ETH_ALEN };
        ssize_t w;
        do
            w = sendto(fd, p, (size_t)n, 0, (struct sockaddr *)&to, sizeof to);
        while (w == -1 && errno == EINTR);
        if (w == -1)
            die("sendto");
        if (printf("sent %zd\n", w) < 0 || fflush(stdout) == EOF)
            die("stdout");
    }
    if (close(fd) == -1)
        die("close");
    return 0;
}
