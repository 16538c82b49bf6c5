/* lab.c - narration, error exits, byte order and the packet printer for
 * lab 09 (see lab.h). */
#define _GNU_SOURCE
#include "lab.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

const char *prog = "lab09";

/* == canonical: narration == */
/* One line on stderr: "[prog] message" (narration) or "prog: message" and,
 * when reason is not NULL, ": reason". Built in a buffer and written with
 * one write(2): when the server and the client share a terminal or a log,
 * their lines interleave whole, never cut into each other. */
__attribute__((format(printf, 3, 0)))
static void put_line(int narration, const char *reason, const char *fmt, va_list ap)
{
    char line[512];
    size_t n = (size_t)snprintf(line, sizeof line, narration ? "[%s] " : "%s: ", prog);

    vsnprintf(line + n, sizeof line - n, fmt, ap);
    n = strlen(line);
    if (reason != NULL)
        snprintf(line + n, sizeof line - n, ": %s", reason);
    n = strlen(line);
    if (n == sizeof line - 1)   /* cut short: make room for the newline */
        n--;
    line[n++] = '\n';
    (void)write_all(2, line, n);   /* a failed report has nowhere to go */
}

void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    put_line(1, NULL, fmt, ap);
    va_end(ap);
}

void fail(const char *fmt, ...)
{
    const char *reason = strerror(errno);   /* before anything can change errno */
    va_list ap;
    va_start(ap, fmt);
    put_line(0, reason, fmt, ap);
    va_end(ap);
    exit(1);
}

void failx(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    put_line(0, NULL, fmt, ap);
    va_end(ap);
    exit(1);
}

void usage_error(const char *usage, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    put_line(0, NULL, fmt, ap);
    va_end(ap);
    (void)write_all(2, usage, strlen(usage));
    exit(2);
}
/* == end canonical: narration == */

/* A decimal number from min to max, digits only; anything else (empty,
 * a sign, a blank, a letter, too large) is a usage error naming what. */
long number(const char *usage, const char *what, const char *s, long min, long max)
{
    size_t len = strlen(s);
    long n = len > 0 && len <= 9 && strspn(s, "0123456789") == len ? strtol(s, NULL, 10) : -1;
    if (n < min || n > max)
        usage_error(usage, "bad %s '%s' (digits only, %ld to %ld)", what, s, min, max);
    return n;
}

/* == canonical: std-fds == */
void open_std_fds(void)
{
    /* A program started with 0, 1 or 2 closed would get its first socket
     * as that number, then print its output into the socket, or read its
     * input from it. So each closed one is opened on /dev/null first
     * (open(2) returns the lowest free number). fcntl(F_GETFD) fails with
     * EBADF exactly when fd is not open. */
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
            continue;
        if (open("/dev/null", O_RDWR) == -1)
            fail("open /dev/null (for closed descriptor %d)", fd);
    }
}
/* == end canonical: std-fds == */

void fail_raw(const char *call)
{
    if (errno == EPERM || errno == EACCES) {
        const char *reason = strerror(errno);
        failx("%s: %s (run as root, or inside unshare -r -n)", call, reason);
    }
    fail("%s", call);
}

uint16_t get16(const unsigned char *p) { return (uint16_t)(p[0] << 8 | p[1]); }
uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
void put16(unsigned char *p, uint16_t v) { p[0] = (unsigned char)(v >> 8), p[1] = (unsigned char)v; }
void put32(unsigned char *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)), put16(p + 2, (uint16_t)v); }

uint16_t inet_checksum(const unsigned char *pseudo, size_t plen, const unsigned char *seg, size_t slen)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < plen; i += 2)
        sum += get16(pseudo + i);
    for (size_t i = 0; i < slen; i += 2)   /* an odd last byte: the high half */
        sum += i + 1 < slen ? get16(seg + i) : (uint32_t)seg[i] << 8;
    while (sum >> 16)                      /* the carries, folded back in */
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* "127.0.0.1:5005" or "[::1]:5005" */
void endpoint(char *out, size_t size, int family, const unsigned char *addr, uint16_t port)
{
    char a[INET6_ADDRSTRLEN];
    inet_ntop(family, addr, a, sizeof a);
    snprintf(out, size, family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, port);
}

static struct flow *find(struct printer *pr, int family, const unsigned char *src,
                         const unsigned char *dst, uint16_t sport, uint16_t dport, size_t alen)
{
    for (int i = 0; i < pr->nflows; i++) {
        struct flow *f = &pr->flows[i];
        if (f->family == family && f->sport == sport && f->dport == dport &&
            memcmp(f->src, src, alen) == 0 && memcmp(f->dst, dst, alen) == 0)
            return f;
    }
    return NULL;
}

static void tcp_line(struct printer *pr, int family, const unsigned char *src, const unsigned char *dst,
                     size_t alen, const unsigned char *t, size_t tlen, size_t paylen, char *out, size_t size)
{
    static const char *names[] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR" };
    static const int order[] = { 1, 0, 2, 3, 5, 6, 7, 4 };   /* SYN, FIN, RST, PSH, URG..., ACK last */
    uint16_t sport = get16(t), dport = get16(t + 2);
    uint32_t seq = get32(t + 4), ack = get32(t + 8);
    unsigned flags = t[13], doff = (unsigned)(t[12] >> 4) * 4;
    char flagtext[64] = "", opts[128] = "";
    size_t fl = 0;
    for (int i = 0; i < 8; i++) {
        if (flags & (1U << order[i]))
            fl += (size_t)snprintf(flagtext + fl, sizeof flagtext - fl, "%s%s", fl ? "," : "", names[order[i]]);
    }
    struct flow *me = find(pr, family, src, dst, sport, dport, alen);
    if (flags & 0x02) {   /* SYN: this direction starts here */
        if (me == NULL) {
            me = &pr->flows[pr->next];
            pr->next = (pr->next + 1) % FLOWS;
            if (pr->nflows < FLOWS) pr->nflows++;
        }
        *me = (struct flow){ .family = family, .sport = sport, .dport = dport, .isn = seq };
        memcpy(me->src, src, alen);
        memcpy(me->dst, dst, alen);
        /* the options of a SYN */
        size_t used = 0;
        for (size_t i = 20; i < doff && i < tlen;) {
            unsigned kind = t[i], len = kind > 1 ? t[i + 1] : 1;   /* tcp_fits: whole */
            if (kind == 0) break;
            if (kind == 1) { i++; continue; }
            const char *sep = used ? "," : "";
            if (kind == 2 && len == 4) used += (size_t)snprintf(opts + used, sizeof opts - used, "%smss %u", sep, get16(t + i + 2));
            else if (kind == 3 && len == 3) used += (size_t)snprintf(opts + used, sizeof opts - used, "%swscale %u", sep, t[i + 2]);
            else if (kind == 4) used += (size_t)snprintf(opts + used, sizeof opts - used, "%ssackOK", sep);
            else if (kind == 8) used += (size_t)snprintf(opts + used, sizeof opts - used, "%sTS", sep);
            else used += (size_t)snprintf(opts + used, sizeof opts - used, "%sopt %u", sep, kind);
            if (used >= sizeof opts) used = sizeof opts - 1;
            i += len;
        }
    }
    struct flow *peer = find(pr, family, dst, src, dport, sport, alen);
    if (!pr->absolute && me != NULL) seq -= me->isn;
    if (!(flags & 0x10)) ack = 0;
    else if (!pr->absolute && peer != NULL) ack -= peer->isn;
    char a[64], b[64];
    endpoint(a, sizeof a, family, src, sport);
    endpoint(b, sizeof b, family, dst, dport);
    snprintf(out, size, "%s > %s TCP [%s] seq=%u ack=%u win=%u len=%zu%s%s%s", a, b, flagtext,
             seq, ack, get16(t + 14), paylen, opts[0] ? " <" : "", opts, opts[0] ? ">" : "");
}

/* A TCP header that holds together: a data offset from 20 to the
 * segment's length, and every option inside it (kind 0 ends them, 1 is
 * one byte, any other has a length of at least 2 that stays inside). */
static int tcp_fits(const unsigned char *t, size_t tlen)
{
    size_t doff = tlen >= 20 ? (size_t)(t[12] >> 4) * 4 : 0;
    if (doff < 20 || doff > tlen)
        return 0;
    for (size_t i = 20; i < doff && t[i] != 0;) {
        if (t[i] == 1) { i++; continue; }
        if (i + 1 >= doff || t[i + 1] < 2 || i + t[i + 1] > doff)
            return 0;
        i += t[i + 1];
    }
    return 1;
}

void print_packet(struct printer *pr, const struct packet *k, const struct timespec *ts)
{
    const unsigned char *t = k->l4;
    size_t tlen = k->l4len, alen = k->family == AF_INET ? 4 : 16;
    char body[400];
    long port = pr->port;
    if (k->proto == IPPROTO_TCP && tcp_fits(t, tlen)) {
        size_t doff = (size_t)(t[12] >> 4) * 4;
        if (port >= 0 && get16(t) != port && get16(t + 2) != port) {
            pr->other++;   /* not -p's: counted, not printed */
            return;
        }
        tcp_line(pr, k->family, k->src, k->dst, alen, t, tlen, tlen > doff ? tlen - doff : 0, body, sizeof body);
    } else if (k->proto == IPPROTO_UDP && tlen >= 8 && get16(t + 4) >= 8 && get16(t + 4) <= tlen) {
        char a[64], b[64];
        if (port >= 0 && get16(t) != port && get16(t + 2) != port) {
            pr->other++;   /* not -p's: counted, not printed */
            return;
        }
        endpoint(a, sizeof a, k->family, k->src, get16(t));
        endpoint(b, sizeof b, k->family, k->dst, get16(t + 2));
        snprintf(body, sizeof body, "%s > %s UDP len=%u", a, b, get16(t + 4) - 8U);
    } else if (k->proto == (k->family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6) && tlen >= 8) {
        char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
        int v4 = k->family == AF_INET;
        inet_ntop(k->family, k->src, a, sizeof a);
        inet_ntop(k->family, k->dst, b, sizeof b);
        unsigned type = t[0], code = t[1];
        int unreach = v4 ? (type == 3 && code == 3) : (type == 1 && code == 4);
        /* the packet that caused it follows: its IP header, then 8 bytes */
        const unsigned char *in = t + 8;
        size_t inlen = tlen - 8, ih = v4 ? (inlen ? (size_t)(in[0] & 15) * 4 : 0) : 40;
        int quoted = inlen >= 20 && in[0] >> 4 == (v4 ? 4 : 6) && ih >= 20;   /* a whole IP header */
        if (unreach && quoted && inlen >= ih + 8 && (v4 ? in[9] : in[6]) == IPPROTO_UDP) {
            char x[64], y[64];
            uint16_t sp = get16(in + ih), dp = get16(in + ih + 2);
            if (port >= 0 && sp != port && dp != port) {
                pr->other++;
                return;
            }
            endpoint(x, sizeof x, k->family, v4 ? in + 12 : in + 8, sp);
            endpoint(y, sizeof y, k->family, v4 ? in + 16 : in + 24, dp);
            snprintf(body, sizeof body, "%s > %s ICMP port unreachable for UDP %s > %s", a, b, x, y);
        } else {
            if (port >= 0) {
                pr->other++;
                return;
            }
            snprintf(body, sizeof body, "%s > %s ICMP%s type %u code %u", a, b, v4 ? "" : "6", type, code);
        }
    } else {
        pr->other++;
        return;
    }
    if (pr->printed == 0)
        pr->first = *ts;
    long long ns = (long long)(ts->tv_sec - pr->first.tv_sec) * 1000000000LL + (ts->tv_nsec - pr->first.tv_nsec);
    printf("%lld.%06lld %s\n", ns / 1000000000LL, (ns % 1000000000LL) / 1000, body);
    (void)fflush(stdout);   /* a line as it happens: tests and pipes read it at once */
    pr->printed++;
}

void print_answer(int fd, int family, const unsigned char *host, const unsigned char *me,
                  uint16_t dport, uint16_t sport, uint32_t isn)
{
    size_t alen = family == AF_INET ? 4 : 16;
    char a[64], b[64];
    endpoint(a, sizeof a, family, host, dport);
    endpoint(b, sizeof b, family, me, sport);
    /* A deadline, 2 s from now: each poll() waits for what is left of it,
     * however many signals or other packets came first. */
    struct timespec start, now;
    if (clock_gettime(CLOCK_MONOTONIC, &start) == -1)
        fail("clock_gettime");
    for (;;) {   /* every TCP packet that arrives comes here too */
        if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
            fail("clock_gettime");
        long left = 2000 - (long)(now.tv_sec - start.tv_sec) * 1000 - (now.tv_nsec - start.tv_nsec) / 1000000;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int r = left > 0 ? poll(&p, 1, (int)left) : 0;
        if (r == -1 && errno == EINTR)
            continue;
        if (r == -1)
            fail("poll");
        if (r == 0)
            failx("no answer from %s in 2 s", a);
        static unsigned char pkt[65536];
        struct sockaddr_in6 from;   /* room for either family's address */
        socklen_t fromlen = sizeof from;
        ssize_t n = recvfrom(fd, pkt, sizeof pkt, 0, (struct sockaddr *)&from, &fromlen);
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1)
            fail("recvfrom");
        /* IPv4 (raw(7)): the packet comes with its IP header. */
        const unsigned char *src = pkt + 12, *t = pkt;
        if (family == AF_INET)
            t = pkt + (n >= 20 ? (size_t)(pkt[0] & 15) * 4 : (size_t)n);
        /* EXTRA 2: IPv6 (RFC 3542, 3): the TCP header alone; the sender in from */
        else
            src = (const unsigned char *)&from.sin6_addr;
        /* END EXTRA 2 */
        if (n < t - pkt + 20 || (family == AF_INET && t < pkt + 20) || memcmp(src, host, alen) != 0 ||
            get16(t) != dport || get16(t + 2) != sport)
            continue;
        /* RFC 9293, 3.10.7.3: in SYN-SENT only a segment that ACKs our SYN
         * (isn + 1) answers it; any other, a blind RST too, is not ours. */
        if (!(t[13] & 0x10) || get32(t + 8) != isn + 1)
            continue;
        if (family == AF_INET && memcmp(pkt + 16, me, 4) != 0)
            continue;   /* (IPv4: to our address, too) */
        const char *what = t[13] & 0x02 ? "SYN,ACK" : t[13] & 0x04 ? "RST,ACK" : "ACK";
        printf("%s > %s TCP [%s] seq=%u ack=%u (ours + 1)\n", a, b, what, get32(t + 4), get32(t + 8));
        return;
    }
}

/* EXTRA 1: sniff -w FILE: the pcap file */
int pcap_create(const char *path)
{
    /* O_EXCL: a file that exists is an error, never overwritten. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd == -1)
        fail("open %s", path);
    /* In the host's byte order, as libpcap writes it: the magic number
     * tells a reader which order, and that times are in nanoseconds. */
    struct { uint32_t magic; uint16_t major, minor; int32_t zone; uint32_t sigfigs, snaplen, linktype; }
        h = { 0xa1b23c4d, 2, 4, 0, 0, 65535, 101 };
    if (write_all(fd, (const char *)&h, sizeof h) == -1)
        fail("write %s", path);
    return fd;
}

void pcap_write(int fd, const char *path, const struct timespec *ts, const unsigned char *p, size_t n)
{
    static unsigned char rec[16 + 65535];   /* one write(2) per record */
    size_t kept = n < 65535 ? n : 65535;
    uint32_t h[4] = { (uint32_t)ts->tv_sec, (uint32_t)ts->tv_nsec, (uint32_t)kept, (uint32_t)n };
    memcpy(rec, h, sizeof h);
    memcpy(rec + sizeof h, p, kept);
    if (write_all(fd, (const char *)rec, sizeof h + kept) == -1)
        fail("write %s", path);
}
/* END EXTRA 1 */
/* == canonical: bytes == */
void upcase(char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (buf[i] >= 'a' && buf[i] <= 'z')
            buf[i] = (char)(buf[i] - 'a' + 'A');
}

int write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w == -1 && errno == EINTR)
            continue;
        if (w == -1)
            return -1;
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}
/* == end canonical: bytes == */
