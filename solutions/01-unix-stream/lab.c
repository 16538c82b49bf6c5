/* lab.c - narration, error exits and byte shuffling for lab 01 (see lab.h). */
#include "lab.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

const char *prog = "lab01";

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
    fputs(usage, stderr);
    exit(2);
}

void parse_args(int argc, char *argv[], const char *usage,
                struct sockaddr_un *addr, long *mode)
{
    const char *path = DEFAULT_PATH;
    int i = 1;

    for (int j = 1; j < argc; j++) {
        if (strcmp(argv[j], "-h") == 0 || strcmp(argv[j], "--help") == 0) {
            fputs(usage, stdout);
            exit(0);
        }
    }
    if (mode != NULL && i < argc && strcmp(argv[i], "-m") == 0) {
        char *end;
        if (i + 1 >= argc)
            usage_error(usage, "-m needs a MODE");
        *mode = strtol(argv[i + 1], &end, 8);
        if (argv[i + 1][0] == '\0' || *end != '\0' || *mode < 0 || *mode > 0777)
            usage_error(usage, "bad MODE '%s' (octal, 0 to 0777)", argv[i + 1]);
        i += 2;
    }
    if (i < argc && argv[i][0] == '-')
        usage_error(usage, "unknown option '%s'", argv[i]);
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
