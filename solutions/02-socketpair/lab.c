/* lab.c - narration, error exits and byte shuffling for lab 02 (see lab.h). */
#include "lab.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

const char *prog = "lab02";

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

/* == canonical: nonblock == */
int set_nonblocking(int fd)
{
    /* F_SETFL sets every status flag at once: read them first and add
     * O_NONBLOCK, or the others (O_APPEND, O_ASYNC...) are lost. They
     * belong to the open file description, which a descriptor shares
     * with its duplicates, in this process and others (fcntl(2)). */
    int flags = fcntl(fd, F_GETFL);
    if (flags == -1)
        return -1;
    return fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}
/* == end canonical: nonblock == */

void parse_help(int argc, char *argv[], const char *usage)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            exit(0);
        }
    }
}

int fd_number(const char *s)
{
    char *end = NULL;
    long n;

    if (*s < '0' || *s > '9')   /* strtol() would take "-1", " 4" and "+4" */
        return -1;
    errno = 0;
    n = strtol(s, &end, 10);
    if (*end != '\0' || errno != 0 || n > INT_MAX)
        return -1;
    return (int)n;
}

const char *socket_kind(int fd)
{
    /* The narration says what the call made, not what it was meant to
     * make: the family comes back from getsockname(2), the type from
     * getsockopt(2) SO_TYPE (socket(7)), the flags from fcntl(2):
     * FD_CLOEXEC (F_GETFD) and O_NONBLOCK (F_GETFL). */
    static char text[96];
    struct sockaddr_storage addr;
    socklen_t len = sizeof addr, tlen = sizeof(int);
    int type = -1, fdflags = -1, flags = -1;

    if (getsockname(fd, (struct sockaddr *)&addr, &len) == -1 ||
        getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == -1 ||
        (fdflags = fcntl(fd, F_GETFD)) == -1 || (flags = fcntl(fd, F_GETFL)) == -1) {
        snprintf(text, sizeof text, "unknown: %s", strerror(errno));
        return text;
    }
    snprintf(text, sizeof text, "%s, %s%s%s", addr.ss_family == AF_UNIX ? "AF_UNIX" : "not AF_UNIX",
             type == SOCK_STREAM ? "SOCK_STREAM"
             : type == SOCK_DGRAM ? "SOCK_DGRAM"
             : type == SOCK_SEQPACKET ? "SOCK_SEQPACKET" : "another type",
             (fdflags & FD_CLOEXEC) ? " | SOCK_CLOEXEC" : "",
             (flags & O_NONBLOCK) ? " | SOCK_NONBLOCK" : "");
    return text;
}

const char *at_exec(int fd)
{
    int flags = fcntl(fd, F_GETFD);   /* fcntl(2), "File descriptor flags" */

    if (flags == -1)
        return errno == EBADF ? "is not open" : "cannot be read";
    return (flags & FD_CLOEXEC) ? "is closed by exec" : "survives exec";
}

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
