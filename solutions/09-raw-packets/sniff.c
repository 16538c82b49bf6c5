/* sniff.c - lab 09: every packet of one interface, one line each.
 *
 *   ./sniff [-i IFACE] [-p PORT] [-n COUNT] [-S]       IFACE: lo
 *
 * socket(AF_PACKET, SOCK_DGRAM) -> bind() to one interface -> recvmsg()
 * each packet it sends or receives, with the kernel's time of arrival
 * (SO_TIMESTAMPNS) -> read the IPv4 or IPv6 header, then TCP, UDP or ICMP
 * -> one line -> at COUNT lines, or SIGINT or SIGTERM, a summary. Needs
 * CAP_NET_RAW. Linux-specific: packet(7); see also ip(7), ipv6(7), tcp(7).
 */
#define _GNU_SOURCE   /* struct sockaddr_ll, AF_PACKET: Linux */
#include "lab.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static const char usage[] =
    "usage: sniff [-i IFACE] [-p PORT] [-n COUNT] [-S]\n"
    "  Prints one line per IPv4 or IPv6 packet of TCP, UDP or ICMP that the\n"
    "  interface IFACE (default lo) sends or receives. Needs CAP_NET_RAW:\n"
    "  run it as root, or inside unshare -r -n.\n"
    "  -p PORT   only the packets to or from PORT (TCP, UDP, ICMP about UDP)\n"
    "  -n COUNT  stop after COUNT lines\n"
    "  -S        absolute sequence numbers (else relative to each SYN)\n"
    /* EXTRA 1: the usage of -w FILE */
    "  -w FILE   also write each packet printed to FILE, a new file, in the\n"
    "            pcap format (tcpdump -r FILE, wireshark)\n"
    /* END EXTRA 1 */
    ;

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

int main(int argc, char *argv[])
{
    prog = "sniff";
    const char *iface = "lo";
    struct printer pr = { .port = -1 };
    long count = -1;
    int fd = -1, bound = -1;
    /* EXTRA 1: -w FILE, and its descriptor */
    const char *wfile = NULL;
    int wfd = -1;
    /* END EXTRA 1 */

    open_std_fds();
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        fputs(usage, stdout);
        return 0;
    }
    opterr = 0;   /* getopt(3): our own messages, one line and the usage */
    for (int c; (c = getopt(argc, argv, ":i:p:n:Sw:")) != -1;) {
        switch (c) {
        case 'i': iface = optarg; break;
        case 'p': pr.port = number(usage, "PORT", optarg, 1, 65535); break;
        case 'n': count = number(usage, "COUNT", optarg, 1, 999999999); break;
        case 'S': pr.absolute = 1; break;
        /* EXTRA 1: -w FILE */
        case 'w': wfile = optarg; break;
        /* END EXTRA 1 */
        case ':': usage_error(usage, "-%c needs a value", optopt);
        default: usage_error(usage, "unknown option '-%c'", optopt);
        }
    }
    if (optind < argc)
        usage_error(usage, "unexpected argument '%s'", argv[optind]);
    unsigned ifindex = if_nametoindex(iface);
    if (ifindex == 0)
        fail("if_nametoindex %s", iface);

    /* TODO 1: Open a packet socket that receives every protocol's packets
     * (ETH_P_ALL, in network byte order) with the link-layer header taken
     * off (packet(7): SOCK_DGRAM); keep it in fd. */
    fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL));
    /* END TODO 1 */
    if (fd == -1)
        fail_raw("socket(AF_PACKET)");
    say("socket(AF_PACKET, SOCK_DGRAM, ETH_P_ALL) = fd %d", fd);

    /* TODO 2: Bind it to the one interface, index ifindex, with a struct
     * sockaddr_ll (packet(7), "Address types"): family, protocol as
     * above, interface index. Keep bind's result in bound. */
    struct sockaddr_ll here = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
                                .sll_ifindex = (int)ifindex };
    bound = bind(fd, (struct sockaddr *)&here, sizeof here);
    /* END TODO 2 */
    if (bound == -1)
        fail("bind %s", iface);
    say("bind(%s, ifindex %u) = 0", iface, ifindex);
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) == -1)
        fail("setsockopt SO_TIMESTAMPNS");
    /* On loopback, a packet goes out and comes back in: seen twice. */
    struct ifreq ifr = { .ifr_flags = 0 };
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", iface);
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) == -1)
        fail("ioctl SIOCGIFFLAGS %s", iface);
    int loopback = (ifr.ifr_flags & IFF_LOOPBACK) != 0;

    /* EXTRA 1: -w: the file, created now that the capture can start */
    if (wfile != NULL)
        wfd = pcap_create(wfile);   /* lab.c: open(O_EXCL), its header */
    if (wfd != -1)
        say("open(%s, O_CREAT|O_EXCL, 0644) = fd %d, its pcap header written", wfile, wfd);
    /* END EXTRA 1 */
    struct sigaction sa = { .sa_handler = on_signal };   /* no SA_RESTART: */
    sigemptyset(&sa.sa_mask);                           /* recvmsg() EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    printf("capturing on %s\n", iface);   /* the readiness line */
    (void)fflush(stdout);

    long twice = 0;
    while (!stop && (count < 0 || pr.printed < count)) {
        static unsigned char p[65536];
        union { char buf[CMSG_SPACE(sizeof(struct timespec))]; struct cmsghdr align; } control;
        struct sockaddr_ll from;
        struct iovec iov = { .iov_base = p, .iov_len = sizeof p };
        struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof from,
                              .msg_iov = &iov, .msg_iovlen = 1,
                              .msg_control = control.buf, .msg_controllen = sizeof control.buf };
        ssize_t n = -1;
        /* TODO 3: Receive one packet into msg with recvmsg(2), keeping the
         * result in n: its bytes, where it came from (from: sll_protocol,
         * sll_pkttype) and its time (SCM_TIMESTAMPNS, socket(7)). */
        n = recvmsg(fd, &msg, 0);
        /* END TODO 3 */
        if (n == -1 && errno == EINTR)
            continue;   /* a signal: the loop's test says whether to stop */
        if (n == -1)
            fail("recvmsg");
        if (loopback && from.sll_pkttype == PACKET_OUTGOING) {
            twice++;    /* its way out; printed on its way in */
            continue;
        }
        struct timespec ts = { 0 };
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        if (c != NULL && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS)
            memcpy(&ts, CMSG_DATA(c), sizeof ts);

        struct packet k = { .family = 0 };
        /* TODO 4: Read the network header (ip(7), RFC 791; ipv6(7), RFC
         * 8200). IPv4 (sll_protocol ETH_P_IP, version 4 in the first
         * byte's high 4 bits): the header's length is the low 4 bits times
         * 4, the protocol is byte 9, the addresses bytes 12 and 16, the
         * whole length bytes 2-3 (get16); a fragment other than the first
         * (offset: the low 13 bits of bytes 6-7, not 0) has no transport
         * header. IPv6 (ETH_P_IPV6, version 6): 40 bytes, the payload's
         * length bytes 4-5, next header byte 6, addresses bytes 8 and 24.
         * Fill k (family, src, dst, proto, l4, l4len); leave k.family 0
         * for anything else, or lengths that do not fit in the n bytes
         * received: a packet is whatever a peer chose to send. */
        unsigned proto = ntohs(from.sll_protocol);
        if (proto == ETH_P_IP && n >= 20 && p[0] >> 4 == 4) {
            size_t hlen = (size_t)(p[0] & 15) * 4, len = get16(p + 2);
            int later = (get16(p + 6) & 0x1fff) != 0;   /* a fragment after the first */
            if (hlen >= 20 && hlen <= len && len <= (size_t)n && !later)
                k = (struct packet){ .family = AF_INET, .src = p + 12, .dst = p + 16,
                                     .proto = p[9], .l4 = p + hlen, .l4len = len - hlen };
        } else if (proto == ETH_P_IPV6 && n >= 40 && p[0] >> 4 == 6) {
            size_t len = get16(p + 4);   /* the payload's length */
            if (40 + len <= (size_t)n)
                k = (struct packet){ .family = AF_INET6, .src = p + 8, .dst = p + 24,
                                     .proto = p[6], .l4 = p + 40, .l4len = len };
        }
        /* END TODO 4 */
        /* EXTRA 1: -w: the packets printed go to the file too */
        long printed = pr.printed;
        /* END EXTRA 1 */
        if (k.family == 0)
            pr.other++;
        else
            print_packet(&pr, &k, &ts);   /* lab.c: TCP, UDP, ICMP; -p */
        /* EXTRA 1: -w: a record, written at once (write(2), no buffer) */
        if (wfd != -1 && pr.printed > printed)
            pcap_write(wfd, wfile, &ts, p, (size_t)n);
        /* END EXTRA 1 */
    }
    if (close(fd) == -1)   /* nothing open at exit but 0, 1 and 2 */
        fail("close");
    say("%ld packets printed, %ld not (not IP TCP, UDP or ICMP, or not -p), %ld seen twice (loopback)",
        pr.printed, pr.other, twice);
    /* EXTRA 1: -w: what the file holds */
    if (wfd != -1 && close(wfd) == -1)   /* a written file's last error */
        fail("close %s", wfile);
    if (wfd != -1)
        say("-w %s: %ld packets written", wfile, pr.printed);
    /* END EXTRA 1 */
    return 0;
}
