/* lab.c - narration, error exits and byte shuffling for lab 02 (see lab.h). */
#include "lab.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *prog = "lab02";

/* One line on stderr: "[prog] message" (narration) or "prog: message" and,
 * when reason is not NULL, ": reason". Built in a buffer and written with
 * one write(2): the client inherits the server's stderr, and a line sent in
 * several pieces (as stdio does) could be cut by the other process's. */
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

void parse_help(int argc, char *argv[], const char *usage)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            exit(0);
        }
    }
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
