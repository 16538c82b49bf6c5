/* tests/01-unix-stream-peer.c - lab 01's client, N times over in one
 * process, for tests/01-unix-stream.bats (which builds it with cc): many
 * clients in a row cost one process, not a fork and exec of each.
 *
 *   peer PATH N
 *
 * Makes N connections to the Unix stream server at PATH, one after
 * another, each as lab 01's client does with one line of input: the i-th
 * sends "client i\n", shuts down its sending side (shutdown(SHUT_WR)),
 * reads until the server closes, must have read exactly "CLIENT i\n", and
 * closes. Each call waits LIMIT seconds at most (SO_SNDTIMEO, SO_RCVTIMEO).
 * Prints the last reply. A failure: one line "peer: connection I: what:
 * reason" on stderr, exit 1.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
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
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    struct timeval limit = { .tv_sec = LIMIT };
    char line[64], want[64], got[256], shown[4 * sizeof got + 1];
    size_t len = 0;
    char *end;
    long n = argc == 3 ? strtol(argv[2], &end, 10) : 0;

    if (argc != 3 || *end != '\0' || n < 1 || strlen(argv[1]) >= sizeof addr.sun_path) {
        fprintf(stderr, "usage: peer PATH N (N >= 1, PATH under %zu bytes)\n", sizeof addr.sun_path);
        return 2;
    }
    memcpy(addr.sun_path, argv[1], strlen(argv[1]));
    for (conn = 1; conn <= n; conn++) {
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd == -1)
            fail("socket");
        if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit) == -1 ||
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) == -1)
            fail("setsockopt");
        if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == -1)
            fail("connect");
        int m = snprintf(line, sizeof line, "client %ld\n", conn);
        ssize_t w = send(fd, line, (size_t)m, MSG_NOSIGNAL);   /* EPIPE, not SIGPIPE */
        if (w == -1)
            fail("send");
        if (w != m)
            die("send: %zd bytes of %d", w, m);
        if (shutdown(fd, SHUT_WR) == -1)
            fail("shutdown");
        for (len = 0;;) {   /* the reply, up to the server's close */
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
    if (fwrite(got, 1, len, stdout) != len || fflush(stdout) == EOF)
        fail("write stdout");
    return 0;
}
