/* measure.c - lab 11: the measurer's three measurements, each on a
 * transport that client.c has set up (its descriptors in t->rfd, t->wfd).
 *
 * rtt (and nagle): round trips one at a time, each timed with
 * clock_gettime(CLOCK_MONOTONIC), sorted for the median and the 99th
 * percentile. bulk: bytes one way in writes of 64 KiB, timed until the
 * responder says it has them all. conn: connections made, used once and
 * closed, timed as a whole. One line of figures on stdout each (lab.c).
 * See clock_gettime(2), qsort(3), write(2), connect(2).
 */
#include "lab.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

void measure_rtt(const struct transport *t, const struct test *x)
{
    char hdr[HDR_SIZE];
    long rounds = x->warmup + x->n;
    unsigned char *pat = pattern(x->size), *buf = malloc(x->size);   /* pattern(): lab.c */
    long long *ns = malloc((size_t)x->n * sizeof *ns), median = -1, p99 = -1, min = -1;
    struct timespec t0 = { 0 }, t1 = { 0 };
    if (buf == NULL || ns == NULL)
        fail("malloc");
    make_header(hdr, x);   /* "rtt 1 11000 0 0", padded: lab.c */
    if (t->kind != T_UDP)   /* udp: no header, each datagram comes back */
        send_header(t->wfd, hdr, "");   /* lab.c */
    say("%s: %ld round trips, size=%zu, %ld more to warm up, not narrated",
        mode_name(x->mode), x->n, x->size, x->warmup);
    for (long i = 0; i < rounds; i++) {
        const unsigned char *msg = pat + i % PERIOD;   /* each round its own bytes */
        int sent = -1;
        ssize_t r = -1;
        /* TODO 3: One round trip, timed: clock_gettime(2) with
         * CLOCK_MONOTONIC (a clock that never jumps) into t0; the
         * request msg out on t->wfd with send_request() (lab.c: one
         * write, or two for nagle), its result in sent; if it went,
         * the x->size bytes of the reply from t->rfd into buf with
         * read_full() (lab.c), its result in r; the clock again into
         * t1. */
        if (clock_gettime(CLOCK_MONOTONIC, &t0) == -1)
            fail("clock_gettime");
        sent = send_request(t->wfd, msg, x);
        if (sent == 0)
            r = read_full(t->rfd, buf, x->size);
        if (clock_gettime(CLOCK_MONOTONIC, &t1) == -1)
            fail("clock_gettime");
        /* END TODO 3 */
        if (sent == -1 || r != (ssize_t)x->size)
            lost_peer(sent == -1 ? "write" : "read", r, i, rounds);
        if (memcmp(buf, msg, x->size) != 0)   /* every byte checked */
            failx("round %ld: the reply differs from the request", i + 1);
        if (i >= x->warmup)   /* the warm-up is not kept */
            ns[i - x->warmup] = elapsed_ns(&t0, &t1);
    }
    /* TODO 4: The figures of the x->n round trips in ns (nanoseconds):
     * sort them with qsort(3) and compare_ns() (lab.c). The median is
     * the middle one (for an even count, the mean of the two middle
     * ones), p99 the smallest that at least 99% of them do not exceed
     * (the nearest rank: the ceiling of 0.99 x->n, counted from 1),
     * min the first. */
    qsort(ns, (size_t)x->n, sizeof ns[0], compare_ns);
    median = (ns[(x->n - 1) / 2] + ns[x->n / 2]) / 2;
    p99 = ns[(x->n * 99 + 99) / 100 - 1];
    min = ns[0];
    /* END TODO 4 */
    if (median < 0 || p99 < median || min > median)
        fail("median");
    print_rtt(t, x, median, p99, min);   /* lab.c */
    free(pat);
    free(buf);
    free(ns);
}

/* Twice: x->warmup writes untimed, then x->bytes timed. */
void measure_bulk(const struct transport *t, const struct test *x)
{
    unsigned char *pat = pattern(CHUNK);   /* the stream's bytes: lab.c */
    char hdr[HDR_SIZE], reply = 0;
    struct timespec t0 = { 0 }, t1 = { 0 };
    for (int timed = x->warmup == 0; timed <= 1; timed++) {
        struct test pass = *x;
        pass.bytes = timed ? x->bytes : (long long)x->warmup * CHUNK;
        make_header(hdr, &pass);
        send_header(t->wfd, hdr, timed ? "" : ", to warm up");   /* lab.c */
        int sent = -1;
        ssize_t r = -1;
        /* TODO 5: Time the transfer: clock_gettime(2), CLOCK_MONOTONIC,
         * into t0; then pass.bytes bytes out on t->wfd in writes of CHUNK
         * bytes (the last one may be shorter) with write_all(), each taken
         * from pat at the stream's offset modulo PERIOD (lab.h), its
         * result in sent (stop at -1); then push_tail() (lab.c); then the
         * responder's 1-byte answer from t->rfd into reply (read_full(),
         * result in r), and the clock again, into t1. */
        if (clock_gettime(CLOCK_MONOTONIC, &t0) == -1)
            fail("clock_gettime");
        sent = 0;
        for (long long off = 0; off < pass.bytes && sent == 0; off += CHUNK) {
            size_t len = pass.bytes - off < CHUNK ? (size_t)(pass.bytes - off) : CHUNK;
            sent = write_all(t->wfd, (const char *)pat + off % PERIOD, len);
        }
        if (sent == 0) {
            push_tail(t, t->wfd);
            r = read_full(t->rfd, &reply, 1);
        }
        if (clock_gettime(CLOCK_MONOTONIC, &t1) == -1)
            fail("clock_gettime");
        /* END TODO 5 */
        if (sent == -1 || r != 1)
            lost_peer(sent == -1 ? "write" : "read", r, 0, 0);
        if (reply != '=')
            failx("bulk: the server found bytes that differ from what was sent");
    }
    print_bulk(t, x->bytes, elapsed_ns(&t0, &t1));   /* lab.c */
    free(pat);
}

/* Each connection made, used once, closed: x->warmup untimed, then x->n. */
void measure_conn(const struct transport *t, const struct test *x)
{
    char hdr[HDR_SIZE];
    struct timespec t0 = { 0 }, t1 = { 0 };
    char reply = 0;
    make_header(hdr, x);   /* each connection's one round trip */
    say("conn: %ld connections, %ld more to warm up, not narrated", x->n, x->warmup);
    for (long i = 0; i < x->warmup + x->n; i++) {
        if (i == x->warmup && clock_gettime(CLOCK_MONOTONIC, &t0) == -1)
            fail("clock_gettime");
        int fd = -1;
        ssize_t r = -1;
        /* TODO 6: One connection, as a short-lived client makes it:
         * socket(2) of t->family and t->type into fd, connect(2) to t->sa
         * (t->len bytes), each checked, not narrated (the narration would
         * be what we measure). Then one round trip: hdr (HDR_SIZE bytes)
         * out with write_all(), the 1-byte answer into reply with
         * read_full() (lab.c), its result in r. */
        fd = socket(t->family, t->type, 0);
        if (fd == -1)
            fail("socket");
        if (connect(fd, &t->sa, t->len) == -1)
            fail("connect %s", t->where);
        if (write_all(fd, hdr, HDR_SIZE) == 0)
            r = read_full(fd, &reply, 1);
        /* END TODO 6 */
        if (r != 1)
            lost_peer("read", r, i, x->warmup + x->n);
        if (reply != '=')
            failx("conn: the server answered '%c', not '='", reply);
        if (close(fd) == -1)   /* we close first: the TIME-WAIT is ours (lab 07) */
            fail("close");
    }
    if (clock_gettime(CLOCK_MONOTONIC, &t1) == -1)
        fail("clock_gettime");
    print_conn(t, x->n, elapsed_ns(&t0, &t1));   /* lab.c */
}
