/* tests/05-tcp-peer.c - lab 05's client, N times over in one process, for
 * tests/05-tcp.bats (which builds it with cc): many clients in a row cost
 * one process, not a fork and exec of each.
 *
 *   peer ADDR PORT N
 *
 * Makes N TCP connections to the server at ADDR PORT (numbers: 127.0.0.1,
 * ::1), one after another, each as lab 05's client does with one line of
 * input: the i-th sends "client i\n", shuts down its sending side
 * (shutdown(SHUT_WR): a FIN), reads until the server closes, must have
 * read exactly "CLIENT i\n", and closes. Each call waits LIMIT seconds at
 * most (SO_SNDTIMEO, SO_RCVTIMEO). Prints the last reply. A failure: one
 * line "peer: connection I: what: reason" on stderr, exit 1.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define LIMIT 10   /* seconds a call may wait: lib.bash's WAIT_LIMIT */

static long conn;   /* the connection under way, 1 to N; 0: none */

static void die(const char *fmt, ...)
{
    va_list ap;
    fputs("peer: ", stderr);
    if (conn > 0)
        fprintf(stderr, "connection %ld: ", conn);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void fail(const char *call)
{
    die("%s: %s", call, strerror(errno));
}

/* BUF's LEN bytes, quoted, into OUT (4 bytes a byte at most): \n, \xNN. */
static const char *quoted(const char *buf, size_t len, char *out)
{
    char *o = out;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c == '\n')
            o += sprintf(o, "\\n");
        else if (c < ' ' || c > '~' || c == '\\')
            o += sprintf(o, "\\x%02x", c);
        else
            *o++ = (char)c;
    }
    *o = '\0';
    return out;
}

int main(int argc, char *argv[])
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
    struct addrinfo *ai;
    struct timeval limit = { .tv_sec = LIMIT };
    char line[64], want[64], got[256], shown[4 * sizeof got + 1];
    size_t len = 0;
    char *end;
    long n = argc == 4 ? strtol(argv[3], &end, 10) : 0;

    if (argc != 4 || *end != '\0' || n < 1) {
        fprintf(stderr, "usage: peer ADDR PORT N (numbers; N >= 1)\n");
        return 2;
    }
    int gai = getaddrinfo(argv[1], argv[2], &hints, &ai);   /* AF_UNSPEC: 4 or 6 */
    if (gai != 0)
        die("getaddrinfo %s %s: %s", argv[1], argv[2], gai_strerror(gai));
    for (conn = 1; conn <= n; conn++) {
        int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd == -1)
            fail("socket");
        if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit) == -1 ||
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) == -1)
            fail("setsockopt");
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1)
            fail("connect");
        int m = snprintf(line, sizeof line, "client %ld\n", conn);
        ssize_t w = send(fd, line, (size_t)m, MSG_NOSIGNAL);   /* EPIPE, not SIGPIPE */
        if (w == -1)
            fail("send");
        if (w != m)
            die("send: %zd bytes of %d", w, m);
        if (shutdown(fd, SHUT_WR) == -1)
            fail("shutdown");
        for (len = 0;;) {   /* the reply, up to the server's FIN */
            ssize_t r = read(fd, got + len, sizeof got - len);
            if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
                die("read: nothing for %d s after '%s': no reply, or the server never closed",
                    LIMIT, quoted(got, len, shown));
            if (r == -1)
                fail("read");
            if (r == 0)
                break;
            len += (size_t)r;
            if (len == sizeof got)
                die("read: %zu bytes and no end: '%s'", len, quoted(got, len, shown));
        }
        m = snprintf(want, sizeof want, "CLIENT %ld\n", conn);
        if (len != (size_t)m || memcmp(got, want, len) != 0)
            die("reply '%s', expected 'CLIENT %ld\\n'", quoted(got, len, shown), conn);
        if (close(fd) == -1)
            fail("close");
    }
    conn = 0;
    freeaddrinfo(ai);
    if (fwrite(got, 1, len, stdout) != len || fflush(stdout) == EOF)
        fail("write stdout");
    return 0;
}
