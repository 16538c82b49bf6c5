/* lab.c - narration, error exits and argument parsing for lab 06 (see lab.h). */
#include "lab.h"

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *prog = "lab06";

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

/* The value of s if it is digits only (no sign, no space) and between lo
 * and hi; otherwise -1. */
static long number(const char *s, long lo, long hi)
{
    long v = 0;
    if (*s == '\0')
        return -1;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9' || v > hi)   /* v > hi: stop before overflow */
            return -1;
        v = v * 10 + (*s - '0');
    }
    return (v >= lo && v <= hi) ? v : -1;
}

void parse_args(int argc, char *argv[], const char *usage, const char *takes,
                struct options *opt)
{
    int server = strchr(takes, 'b') != NULL;
    int i = 1;

    *opt = (struct options){ .host = DEFAULT_ADDR, .port = DEFAULT_PORT,
                             .size = BUF_SIZE, .timeout = DEFAULT_TIMEOUT };
    for (int j = 1; j < argc; j++) {
        if (strcmp(argv[j], "-h") == 0 || strcmp(argv[j], "--help") == 0) {
            fputs(usage, stdout);
            exit(0);
        }
    }
    for (; i < argc && argv[i][0] == '-'; i++) {
        char o = argv[i][1];
        if (strcmp(argv[i], "--") == 0) {   /* the end of the options, as getopt(3) */
            i++;
            break;
        }
        if (o == '\0' || argv[i][2] != '\0' || strchr(takes, o) == NULL)
            usage_error(usage, "unknown option '%s'", argv[i]);
        if (o == 'c') {
            opt->connect = 1;
            continue;
        }
        if (o == 'n') {
            opt->no_reply = 1;
            continue;
        }
        const char *what = o == 'b' ? "ADDR" : o == 's' ? "SIZE" : o == 'r' ? "BYTES" : "MS";
        long hi = o == 's' ? BUF_SIZE : o == 'r' ? 16777216 : 3600000;
        if (i + 1 >= argc)
            usage_error(usage, "%s needs %s", argv[i], what);
        const char *arg = argv[++i];
        long v = number(arg, 1, hi);
        if (o == 'b')
            opt->host = arg;   /* checked by getaddrinfo(AI_NUMERICHOST) */
        else if (v == -1)
            usage_error(usage, "bad %s '%s' (1 to %ld)", what, arg, hi);
        else if (o == 's')
            opt->size = v;
        else if (o == 'r')
            opt->rcvbuf = v;
        else
            opt->timeout = v;
    }
    if (!server && argc - i < 2)
        usage_error(usage, "HOST and PORT are needed");
    if (!server)
        opt->host = argv[i++];
    if (i < argc)
        opt->port = argv[i++];
    if (i < argc)
        usage_error(usage, "too many arguments");
    if (number(opt->port, server ? 0 : 1, 65535) == -1)
        usage_error(usage, "bad PORT '%s' (digits only, %d to 65535)", opt->port,
                    server ? 0 : 1);
}

const char *family_name(int family)
{
    return family == AF_INET ? "AF_INET" : family == AF_INET6 ? "AF_INET6" : "AF_?";
}

const char *addr_name(const struct sockaddr *sa, socklen_t len)
{
    static char name[96];
    char host[64], port[8];
    /* getnameinfo(3) with NI_NUMERIC*: numbers only, no DNS lookup. */
    int rc = getnameinfo(sa, len, host, sizeof host, port, sizeof port,
                         NI_NUMERICHOST | NI_NUMERICSERV);
    if (rc != 0)
        snprintf(name, sizeof name, "(unknown address: %s)", gai_strerror(rc));
    else if (sa->sa_family == AF_INET6)
        snprintf(name, sizeof name, "[%s]:%s", host, port);   /* the colons need brackets */
    else
        snprintf(name, sizeof name, "%s:%s", host, port);
    return name;
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
