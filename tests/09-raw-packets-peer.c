/* tests/09-raw-packets-peer.c - a request-reply pair that shows Nagle's
 * algorithm meeting the delayed ACK (RFC 896; RFC 1122 4.2.3.2, 4.2.3.4;
 * tcp(7): TCP_NODELAY, TCP_QUICKACK), which lab 05's client, writing each
 * line in one write(), cannot. For tests/09-raw-packets.bats (built there
 * with cc) and lab 09's lesson. On 127.0.0.1 only. One mode a run:
 *   peer rr-server [PORT]
 *       Listens on PORT (default 0: any free one), prints "listening on
 *       127.0.0.1:PORT", then serves clients one after another until
 *       killed: reads each REQ-byte request in full, writes it back, until
 *       the client's EOF. Its ACKs are delayed (delay_acks).
 *   peer rr-client [-N] PORT K
 *       K requests (3 to MAX_K), each written in two write()s, 2 bytes
 *       then REQ - 2, then its reply read in full. Prints "connected from
 *       127.0.0.1:CPORT", each request's round trip in microseconds
 *       (CLOCK_MONOTONIC), then the median of requests 3 to K (the first
 *       two warm up). -N: TCP_NODELAY, Nagle's algorithm off.
 * A failure: one line "peer: call: reason" on stderr, exit 1.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REQ 102       /* a request: 2 bytes, then 100 */
#define MAX_K 100

_Noreturn static void fail(const char *call)
{
    fprintf(stderr, "peer: %s: %s\n", call, strerror(errno));
    exit(1);
}

_Noreturn static void usage(void)
{
    fprintf(stderr, "usage: peer rr-server [PORT] | peer rr-client [-N] PORT K\n");
    exit(2);
}

/* A number from min to max, else a usage error. */
static long number(const char *s, long min, long max)
{
    char *end;
    long n = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || n < min || n > max)
        usage();
    return n;
}

/* A listener on 127.0.0.1:port; its readiness line names the port. */
static int listener(long port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l == -1)
        fail("socket");
    if (bind(l, (struct sockaddr *)&a, sizeof a) == -1)
        fail("bind");
    if (listen(l, 4) == -1)
        fail("listen");
    if (getsockname(l, (struct sockaddr *)&a, &alen) == -1)
        fail("getsockname");
    printf("listening on 127.0.0.1:%d\n", ntohs(a.sin_port));
    if (fflush(stdout) == EOF)
        fail("fflush");
    return l;
}

/* read() until n bytes, or EOF: the bytes read (fewer on EOF). */
static size_t read_full(int fd, char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r == -1 && errno == EINTR)
            continue;
        if (r == -1)
            fail("read");
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return got;
}

static void write_full(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w == -1 && errno == EINTR)
            continue;
        if (w == -1)
            fail("write");
        buf += w;
        n -= (size_t)w;
    }
}

/* Delayed ACKs, asked for (tcp(7), TCP_QUICKACK 0): Linux delays them by
 * its own guess, which changes with its version (quick at first, then
 * "pingpong" mode after 1 or 3 replies, left when the ACK timer fires);
 * asked for after each reply, they are delayed on every version. */
static void delay_acks(int c)
{
    int zero = 0;
    if (setsockopt(c, IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof zero) == -1)
        fail("setsockopt TCP_QUICKACK");
}

_Noreturn static void rr_server(long port)
{
    int l = listener(port);
    char buf[REQ];
    for (;;) {
        int c = accept(l, NULL, NULL);
        if (c == -1)
            fail("accept");   /* (no signal handler: no EINTR) */
        delay_acks(c);
        while (read_full(c, buf, REQ) == REQ) {
            write_full(c, buf, REQ);
            delay_acks(c);
        }
        if (close(c) == -1)
            fail("close");
    }
}

static long long now_us(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_MONOTONIC, &t) == -1)
        fail("clock_gettime");
    return t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

static int by_value(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static int rr_client(int nodelay, const char *port, const char *count)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof a;
    long p = number(port, 1, 65535), k = number(count, 3, MAX_K);
    long long rtt[MAX_K];
    char req[REQ], rep[REQ];
    int one = 1, fd;
    a.sin_port = htons((unsigned short)p);
    memset(req, 'r', sizeof req);
    if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
        fail("socket");
    if (nodelay && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == -1)
        fail("setsockopt TCP_NODELAY");
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == -1)
        fail("connect");
    if (getsockname(fd, (struct sockaddr *)&a, &alen) == -1)
        fail("getsockname");
    printf("connected from 127.0.0.1:%d%s\n", ntohs(a.sin_port), nodelay ? ", TCP_NODELAY" : "");
    for (long i = 0; i < k; i++) {
        long long t0 = now_us();
        write_full(fd, req, 2);             /* the small first part goes at once */
        write_full(fd, req + 2, REQ - 2);   /* Nagle: it waits for the ACK of the 2 */
        if (read_full(fd, rep, REQ) != REQ) {
            fprintf(stderr, "peer: read: the server closed before its reply\n");
            exit(1);
        }
        rtt[i] = now_us() - t0;
        printf("request %ld: %lld us\n", i + 1, rtt[i]);
    }
    qsort(rtt + 2, (size_t)k - 2, sizeof rtt[0], by_value);
    printf("median of requests 3-%ld: %lld us\n", k, rtt[2 + (k - 2) / 2]);
    if (close(fd) == -1)
        fail("close");
    if (fflush(stdout) == EOF)   /* and every printf() before it */
        fail("write stdout");
    return 0;
}

int main(int argc, char **argv)
{
    if ((argc == 2 || argc == 3) && strcmp(argv[1], "rr-server") == 0)
        rr_server(argc == 3 ? number(argv[2], 0, 65535) : 0);
    if (argc == 4 && strcmp(argv[1], "rr-client") == 0)
        return rr_client(0, argv[2], argv[3]);
    if (argc == 5 && strcmp(argv[1], "rr-client") == 0 && strcmp(argv[2], "-N") == 0)
        return rr_client(1, argv[3], argv[4]);
    usage();
}
