/* lab.h - the helpers that this lab's sniff.c and synsend.c share.
 *
 * Every socket call of the lesson, and the reading and writing of each
 * header field, stays in sniff.c and synsend.c; this file holds
 * narration, error exits, arguments, and the printing of a packet's line
 * (the flow table behind relative sequence numbers, TCP options, ICMP).
 * It belongs to lab 09 alone.
 */
#ifndef LAB_H
#define LAB_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* == canonical: narration == */
/* The program's name ("server", "client"...): prefixes its narration and
 * its error messages. */
extern const char *prog;

/* Narration, the lesson made visible: "[server] accept() = fd 4" on stderr. */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runtime failure: "server: bind /tmp/x.sock: Address already in use",
 * exit status 1. fail() appends ": " and strerror(errno); failx() does not. */
_Noreturn void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void failx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Usage error: a one-line reason, then the usage text; exit status 2. */
_Noreturn void usage_error(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* == end canonical: narration == */

/* A decimal number from min to max, digits only, or a usage error. */
long number(const char *usage, const char *what, const char *s, long min, long max);

/* == canonical: std-fds == */
/* The first call of every program: descriptors 0, 1 and 2, when closed,
 * are opened on /dev/null, so that no socket can take their numbers. */
void open_std_fds(void);
/* == end canonical: std-fds == */

/* == canonical: bytes == */
/* The protocol: ASCII a-z become A-Z, every other byte is left alone. */
void upcase(char *buf, size_t n);

/* write() until all n bytes are out: a write may take fewer bytes than
 * asked (a partial write) or be interrupted by a signal (EINTR). Returns 0,
 * or -1 with errno set. */
int write_all(int fd, const char *buf, size_t n);
/* == end canonical: bytes == */

/* A missing CAP_NET_RAW: "sniff: socket(AF_PACKET): Operation not
 * permitted (run as root, or inside unshare -r -n)", exit 1; any other
 * errno: fail(). */
_Noreturn void fail_raw(const char *call);

/* Big-endian fields of a header, whatever the host's byte order. */
uint16_t get16(const unsigned char *p);
uint32_t get32(const unsigned char *p);
void put16(unsigned char *p, uint16_t v);
void put32(unsigned char *p, uint32_t v);

/* The Internet checksum (RFC 1071) of a pseudo-header and a segment: the
 * one's complement of the one's complement sum of their 16-bit words. */
uint16_t inet_checksum(const unsigned char *pseudo, size_t plen, const unsigned char *seg, size_t slen);

/* What sniff.c read from one packet's network and transport headers. */
struct packet {
    int family;                      /* AF_INET or AF_INET6 */
    const unsigned char *src, *dst;  /* 4 or 16 bytes */
    unsigned proto;                  /* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6 */
    const unsigned char *l4;         /* the transport header */
    size_t l4len;                    /* its bytes, with the payload */
};

#define FLOWS 64
struct flow {                 /* one direction of a TCP connection */
    int family;
    unsigned char src[16], dst[16];
    uint16_t sport, dport;
    uint32_t isn;             /* its first SYN's sequence number */
};

/* How sniff prints: -p, -S, and what it has seen. */
struct printer {
    long port;                /* -p: only this port (-1: all) */
    int absolute;             /* -S: sequence numbers as they are */
    long printed, other;      /* lines printed; packets not printed */
    struct timespec first;    /* the first printed packet's time */
    struct flow flows[FLOWS];
    int nflows, next;
};

/* One line about packet k, arrived at ts, on standard output ("0.000123
 * 127.0.0.1:44934 > 127.0.0.1:5005 TCP [SYN] seq=0 ack=0 win=65495 len=0
 * <mss 65495,sackOK,TS,wscale 7>"), unless -p leaves it out. */
void print_packet(struct printer *pr, const struct packet *k, const struct timespec *ts);

/* An address and port as the lab prints them: "127.0.0.1:5005", or
 * "[::1]:5005" (IPv6: in brackets). */
void endpoint(char *out, size_t size, int family, const unsigned char *addr, uint16_t port);

/* The answer to our SYN on the raw socket fd (synsend): the first TCP
 * segment from host (4 bytes of IPv4 address, or 16 of IPv6), port dport,
 * to our port sport, within 2 s; one line on stdout, "127.0.0.1:5005 >
 * 127.0.0.1:41234 TCP [SYN,ACK] seq=S ack=A (ours + 1)". None: failx(). */
void print_answer(int fd, int family, const unsigned char *host, const unsigned char *me,
                  uint16_t dport, uint16_t sport, uint32_t isn);

#endif
