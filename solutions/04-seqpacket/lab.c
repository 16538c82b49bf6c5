/* lab.c - narration, error exits, arguments and peer_closed() for lab 04
 * (see lab.h). */

/* POLLRDHUP is Linux-specific: <poll.h> declares it only with _GNU_SOURCE. */
#define _GNU_SOURCE
#include "lab.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

const char *prog = "lab04";

void say(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One fprintf, so one write(2): when the server and the client share a
     * terminal or a log, their lines interleave whole. */
    fprintf(stderr, "[%s] %s\n", prog, line);
}

void fail(const char *fmt, ...)
{
    const char *reason = strerror(errno);   /* before stdio can change errno */
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, ": %s\n", reason);
    va_end(ap);
    exit(1);
}

void failx(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

void usage_error(const char *usage, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n%s", usage);
    va_end(ap);
    exit(2);
}

/* The number after an option: -m MODE (octal) or -s SIZE (decimal). */
static long option_value(const char *usage, char *argv[], int i, const char *name,
                         int base, long max)
{
    char *end;
    if (argv[i + 1] == NULL)
        usage_error(usage, "%s needs a %s", argv[i], name);
    long v = strtol(argv[i + 1], &end, base);
    if (argv[i + 1][0] == '\0' || *end != '\0' || v < (base == 8 ? 0 : 1) || v > max)
        usage_error(usage, "bad %s '%s' (%s)", name, argv[i + 1],
                    base == 8 ? "octal, 0 to 0777" : "bytes, 1 to 65536");
    return v;
}

void parse_args(int argc, char *argv[], const char *usage,
                struct sockaddr_un *addr, long *mode, long *size)
{
    const char *path = DEFAULT_PATH;
    int i = 1;

    for (int j = 1; j < argc; j++) {
        if (strcmp(argv[j], "-h") == 0 || strcmp(argv[j], "--help") == 0) {
            fputs(usage, stdout);
            exit(0);
        }
    }
    for (; i < argc && argv[i][0] == '-'; i += 2) {
        if (mode != NULL && strcmp(argv[i], "-m") == 0)
            *mode = option_value(usage, argv, i, "MODE", 8, 0777);
        else if (size != NULL && strcmp(argv[i], "-s") == 0)
            *size = option_value(usage, argv, i, "SIZE", 10, MAX_MSG);
        else
            usage_error(usage, "unknown option '%s'", argv[i]);
    }
    if (i < argc)
        path = argv[i++];
    if (i < argc)
        usage_error(usage, "too many arguments");

    size_t len = strlen(path);
    if (len == 0)
        usage_error(usage, "the socket path is empty");
    if (len >= sizeof addr->sun_path)
        usage_error(usage, "socket path is %zu bytes; sun_path holds at most %zu",
                    len, sizeof addr->sun_path - 1);
    memset(addr, 0, sizeof *addr);
    addr->sun_family = AF_UNIX;
    memcpy(addr->sun_path, path, len + 1);
}

void upcase(char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (buf[i] >= 'a' && buf[i] <= 'z')
            buf[i] = (char)(buf[i] - 'a' + 'A');
}

int peer_closed(int fd)
{
    /* Timeout 0: poll(2) only looks, it never waits. POLLRDHUP (Linux
     * 2.6.17, see poll(2); it works on seqpacket sockets too) reports that
     * the peer shut down its writing side; a peer that closed altogether
     * also gives POLLHUP. Once set, they stay set: so if they are clear
     * now, the peer had not shut down when our receive returned 0, and
     * that 0 was an empty message. */
    struct pollfd p = { .fd = fd, .events = POLLRDHUP };
    while (poll(&p, 1, 0) == -1)
        if (errno != EINTR)
            fail("poll");
    return (p.revents & (POLLRDHUP | POLLHUP)) != 0;
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
