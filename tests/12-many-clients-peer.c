/* tests/12-many-clients-peer.c - the clients tests/12-many-clients.bats
 * needs that neither bash's /dev/tcp nor the lab's client can be (the
 * .bats file builds it with cc):
 *
 *   peer crowd ADDR PORT N LINES MS [first|hold]
 *       N connections at once, in one process: each sends LINES lines,
 *       "cI lJ\n", stop-and-wait (the next MS ms after the last one's
 *       reply), checks each reply (the line upper-cased) and times it
 *       from its send. Prints "replies=R max_ms=X median_ms=Y
 *       served_while_first=K of N": K, the connections that had a reply
 *       when connection 1 had its last one. "first": stop then (an
 *       iterative server serves one connection at a time); "hold": once
 *       all are answered, print "held N" and keep every connection open
 *       until standard input ends. Then each is closed.
 *   peer bytes ADDR PORT TEXT
 *       TEXT, one byte a write (TCP_NODELAY: a segment each), 1 ms apart;
 *       then shutdown(SHUT_WR); prints what comes back, to the end.
 *   peer late ADDR PORT LEN FILE
 *       a small receive buffer (SO_RCVBUF 4096); lines of LEN bytes sent,
 *       none read, until FILE (the server's narration) says "partial";
 *       then shutdown(SHUT_WR), reads to the end and checks every reply.
 *       Prints "replies=R bytes=B".
 *   peer half ADDR PORT TEXT
 *       sends TEXT (half a line), prints "sent", and waits to be killed.
 *   peer rst ADDR PORT TEXT
 *       sends TEXT, then closes with SO_LINGER 0: an RST, not a FIN.
 *
 * Every wait is bounded by LIMIT seconds. A failure: one line
 * "peer: what: reason" on stderr, exit 1; a usage error, exit 2.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LIMIT 10      /* seconds any wait may last: lib.bash's WAIT_LIMIT */
#define MAXN 1000

static void die(const char *fmt, ...)
{
    va_list ap;
    fputs("peer: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static struct addrinfo *ai;

static int connected(int rcvbuf)
{
    int fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (fd == -1)
        die("socket: %s", strerror(errno));
    if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) == -1)
        die("setsockopt SO_RCVBUF: %s", strerror(errno));
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1)
        die("connect: %s", strerror(errno));
    return fd;
}

static void send_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
        if (w == -1 && errno == EINTR)
            continue;
        if (w == -1)
            die("send: %s", strerror(errno));
        buf += w;
        n -= (size_t)w;
    }
}

/* Reads fd to its end (at most cap bytes, LIMIT seconds) into buf. */
static size_t read_to_end(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    long long end = now_us() + LIMIT * 1000000LL;
    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int left = (int)((end - now_us()) / 1000);
        if (left <= 0 || poll(&p, 1, left) == 0)
            die("read: no end after %d s (%zu bytes in)", LIMIT, len);
        ssize_t r = read(fd, buf + len, cap - len);
        if (r == -1 && errno == EINTR)
            continue;
        if (r == -1)
            die("read: %s (%zu bytes in)", strerror(errno), len);
        if (r == 0)
            return len;
        len += (size_t)r;
        if (len == cap)
            die("read: more than %zu bytes", cap);
    }
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

struct conn {
    int fd, sent, answered;   /* lines sent; replies in */
    long long sent_at, next_at;
    size_t have;
    char in[64];
};

static int crowd(int n, int lines, int ms, const char *mode)
{
    static struct conn c[MAXN];
    static struct pollfd p[MAXN + 1];
    long long *lat = calloc((size_t)n * (size_t)lines, sizeof *lat);
    int replies = 0, first_done = -1, hold = strcmp(mode, "hold") == 0;
    long long end = now_us() + LIMIT * 1000000LL;
    if (lat == NULL)
        die("calloc");
    for (int i = 0; i < n; i++)
        c[i] = (struct conn){ .fd = connected(0) };
    while (replies < n * lines) {
        long long now = now_us();
        int timeout = (int)((end - now) / 1000);
        if (timeout <= 0)
            die("only %d of %d replies after %d s", replies, n * lines, LIMIT);
        for (int i = 0; i < n; i++) {
            struct conn *k = &c[i];
            if (k->sent == k->answered && k->sent < lines && now >= k->next_at) {
                char line[64];
                int m = snprintf(line, sizeof line, "c%d l%d\n", i + 1, k->sent + 1);
                k->sent_at = now_us();
                send_all(k->fd, line, (size_t)m);
                k->sent++;
            } else if (k->sent == k->answered && k->sent < lines) {
                int left = (int)((k->next_at - now + 999) / 1000);
                if (left < timeout)
                    timeout = left;
            }
            p[i] = (struct pollfd){ .fd = k->sent > k->answered ? k->fd : -1, .events = POLLIN };
        }
        if (poll(p, (nfds_t)n, timeout) == -1 && errno != EINTR)
            die("poll: %s", strerror(errno));
        for (int i = 0; i < n; i++) {
            struct conn *k = &c[i];
            if (!p[i].revents)
                continue;
            ssize_t r = read(k->fd, k->in + k->have, sizeof k->in - 1 - k->have);
            if (r == -1 && errno == EINTR)
                continue;
            if (r <= 0)
                die("connection %d: read: %s after %d of %d replies", i + 1,
                    r == 0 ? "the server closed" : strerror(errno), k->answered, lines);
            k->have += (size_t)r;
            char *nl = memchr(k->in, '\n', k->have);
            if (nl == NULL)
                continue;
            char want[64];
            int m = snprintf(want, sizeof want, "C%d L%d\n", i + 1, k->sent);
            k->in[k->have] = '\0';
            if (k->have != (size_t)m || memcmp(k->in, want, (size_t)m) != 0)
                die("connection %d: reply '%.*s', expected '%.*s'", i + 1,
                    (int)k->have - 1, k->in, m - 1, want);
            lat[replies++] = now_us() - k->sent_at;
            k->have = 0;
            k->answered++;
            k->next_at = now_us() + ms * 1000LL;
            if (i == 0 && k->answered == lines)
                first_done = 0;   /* counted below, once this turn is read */
        }
        if (first_done == 0)
            for (int j = 0; j < n; j++)
                first_done += c[j].answered > 0;
        if (first_done != -1 && strcmp(mode, "first") == 0)
            break;
    }
    qsort(lat, (size_t)replies, sizeof *lat, cmp_ll);
    printf("replies=%d max_ms=%lld.%01lld median_ms=%lld.%01lld served_while_first=%d of %d\n",
           replies, lat[replies - 1] / 1000, lat[replies - 1] % 1000 / 100,
           lat[replies / 2] / 1000, lat[replies / 2] % 1000 / 100, first_done, n);
    if (hold) {
        char buf[256];
        printf("held %d\n", n);
        fflush(stdout);
        while (read(0, buf, sizeof buf) > 0)
            ;
    }
    fflush(stdout);
    for (int i = 0; i < n; i++)
        close(c[i].fd);
    free(lat);
    return 0;
}

int main(int argc, char *argv[])
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
    const char *mode = argc > 1 ? argv[1] : "";
    if (argc < 5) {
        fprintf(stderr, "usage: peer crowd|bytes|late|half|rst ADDR PORT ARGS...\n");
        return 2;
    }
    int gai = getaddrinfo(argv[2], argv[3], &hints, &ai);
    if (gai != 0)
        die("getaddrinfo %s %s: %s", argv[2], argv[3], gai_strerror(gai));
    if (strcmp(mode, "crowd") == 0 && argc >= 7) {
        int n = atoi(argv[4]), lines = atoi(argv[5]), ms = atoi(argv[6]);
        if (n < 1 || n > MAXN || lines < 1 || ms < 0)
            die("crowd: N 1 to %d, LINES 1 or more, MS 0 or more", MAXN);
        return crowd(n, lines, ms, argc > 7 ? argv[7] : "");
    }
    if (strcmp(mode, "bytes") == 0) {
        static char got[65536];
        int fd = connected(0), one = 1;
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == -1)
            die("setsockopt TCP_NODELAY: %s", strerror(errno));
        for (const char *s = argv[4]; *s != '\0'; s++) {
            send_all(fd, s, 1);
            (void)poll(NULL, 0, 1);   /* 1 ms: the server reads before the next comes */
        }
        if (shutdown(fd, SHUT_WR) == -1)
            die("shutdown: %s", strerror(errno));
        size_t len = read_to_end(fd, got, sizeof got);
        fwrite(got, 1, len, stdout);
        return 0;
    }
    if (strcmp(mode, "late") == 0 && argc >= 6) {
        /* Lines of LEN bytes, none read, until the server narrates a
         * partial write in FILE (its stderr): its socket buffer is full,
         * and the rest of a reply waits in its queue. Then our FIN, and
         * every reply read and checked. Never more than 32 KiB ahead of
         * what the server narrates it has read: else, on a loaded
         * machine, lines in flight would be read after the partial write
         * and fill its 64 KiB queue (ERR too slow), which is not this. */
        int len = atoi(argv[4]), lines = 0, found = 0;
        size_t max = 8u << 20, total = 0, taken = 0;   /* 8 MiB at most; bytes it read */
        if (len < 8 || len > 4000)
            die("late: LEN 8 to 4000");
        char *out = malloc(max), *got = malloc(max + 1), line[512];
        FILE *f = fopen(argv[5], "r");
        if (out == NULL || got == NULL)
            die("malloc");
        if (f == NULL)
            die("fopen %s: %s", argv[5], strerror(errno));
        int fd = connected(4096);
        long long end = now_us() + LIMIT * 1000000LL;
        while (!found && total + (size_t)len + 1 <= max) {
            while (fgets(line, sizeof line, f) != NULL) {   /* the narration since the last look */
                size_t n = 0;
                found = found || strstr(line, "partial") != NULL;
                if (sscanf(line, "[server] read(fd %*d) = %zu bytes", &n) == 1)
                    taken += n;
            }
            clearerr(f);   /* at its end for now; more may come */
            if (found)
                break;
            if (total - taken >= 32768) {   /* far enough ahead: let it read */
                struct timespec pause = { .tv_nsec = 200000 };   /* 0.2 ms */
                if (now_us() > end)
                    die("late: the server read %zu of %zu bytes in %d s", taken, total, LIMIT);
                (void)nanosleep(&pause, NULL);
                continue;
            }
            char *l = out + total;
            int k = snprintf(l, (size_t)len + 1, "line %d ", lines);
            for (int j = k; j < len; j++)
                l[j] = (char)('a' + (lines + j) % 26);
            l[len] = '\n';
            send_all(fd, l, (size_t)len + 1);
            total += (size_t)len + 1;
            lines++;
        }
        if (!found)
            die("late: no partial write narrated in %s after %d lines (%zu bytes)", argv[5], lines, total);
        if (shutdown(fd, SHUT_WR) == -1)
            die("shutdown: %s", strerror(errno));
        size_t n = read_to_end(fd, got, max + 1);
        for (size_t i = 0; i < total; i++)
            out[i] = out[i] >= 'a' && out[i] <= 'z' ? (char)(out[i] - 'a' + 'A') : out[i];
        if (n != total || memcmp(out, got, total) != 0) {
            size_t i = 0;
            while (i < n && i < total && out[i] == got[i])
                i++;
            die("late: %zu bytes back of %zu, the first difference at byte %zu", n, total, i);
        }
        printf("replies=%d bytes=%zu\n", lines, n);
        return 0;
    }
    if (strcmp(mode, "half") == 0 || strcmp(mode, "rst") == 0) {
        int fd = connected(0);
        send_all(fd, argv[4], strlen(argv[4]));
        if (mode[0] == 'h') {
            printf("sent\n");
            fflush(stdout);
            for (;;)
                pause();   /* until SIGKILL */
        }
        struct linger lg = { .l_onoff = 1, .l_linger = 0 };   /* close() sends an RST */
        if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == -1)
            die("setsockopt SO_LINGER: %s", strerror(errno));
        close(fd);
        return 0;
    }
    fprintf(stderr, "usage: peer crowd|bytes|late|half|rst ADDR PORT ARGS...\n");
    return 2;
}
