/* lab.c - narration, error exits, argument parsing and byte shuffling for
 * lab 05 (see lab.h). */

/* struct tcp_info in <netinet/tcp.h> is a Linux extension, hidden under
 * -D_POSIX_C_SOURCE; _DEFAULT_SOURCE shows it (feature_test_macros(7)). */
#define _DEFAULT_SOURCE
#include "lab.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *prog = "lab05";

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

/* A decimal number from min to max, digits only; anything else (empty,
 * a sign, a letter, too large) is a usage error. */
static long number(const char *usage, const char *what, const char *s,
                   long min, long max)
{
    long n = 0;
    size_t len = strlen(s);
    if (len == 0 || len > 9 || strspn(s, "0123456789") != len)
        usage_error(usage, "bad %s '%s' (digits only, %ld to %ld)", what, s, min, max);
    n = strtol(s, NULL, 10);
    if (n < min || n > max)
        usage_error(usage, "bad %s '%s' (digits only, %ld to %ld)", what, s, min, max);
    return n;
}

static void help(int argc, char *argv[], const char *usage)
{
    for (int j = 1; j < argc; j++) {
        if (strcmp(argv[j], "-h") == 0 || strcmp(argv[j], "--help") == 0) {
            fputs(usage, stdout);
            exit(0);
        }
    }
}

void parse_server_args(int argc, char *argv[], const char *usage,
                       struct server_args *a)
{
    int c;
    help(argc, argv, usage);
    a->host = DEFAULT_HOST;
    a->port = DEFAULT_PORT;
    a->backlog = DEFAULT_BACKLOG;
    a->defer = 0;
    a->no_accept = 0;
    opterr = 0;   /* getopt(3) stays quiet: the messages are ours */
    while ((c = getopt(argc, argv, ":b:q:d:A")) != -1) {
        switch (c) {
        case 'b': a->host = optarg; break;
        case 'q': a->backlog = (int)number(usage, "BACKLOG", optarg, 0, 65535); break;
        case 'd': a->defer = (int)number(usage, "SECONDS", optarg, 1, 3600); break;
        case 'A': a->no_accept = 1; break;
        case ':': usage_error(usage, "-%c needs a value", optopt);
        default: usage_error(usage, "unknown option '-%c'", optopt);
        }
    }
    if (optind < argc)
        a->port = argv[optind++];
    if (optind < argc)
        usage_error(usage, "too many arguments");
    number(usage, "PORT", a->port, 0, 65535);
}

void parse_client_args(int argc, char *argv[], const char *usage,
                       const char **host, const char **port)
{
    int i = 1;
    help(argc, argv, usage);
    if (argc > 1 && strcmp(argv[1], "--") == 0)
        i = 2;   /* the end of the options, as for getopt(3): PORT may be "-1" */
    else if (argc > 1 && argv[1][0] == '-' && argv[1][1] != '\0')
        usage_error(usage, "unknown option '%s'", argv[1]);
    if (argc - i != 2)
        usage_error(usage, "%s", argc - i < 2 ? "HOST and PORT are needed" : "too many arguments");
    *host = argv[i];
    *port = argv[i + 1];
    number(usage, "PORT", *port, 1, 65535);
}

void format_addr(const struct sockaddr *sa, socklen_t len, char *out)
{
    char host[INET6_ADDRSTRLEN], port[8];   /* the longest numeric forms */
    /* getnameinfo(3) is getaddrinfo backwards; NI_NUMERIC* asks for
     * numbers, not names, so it never waits for DNS. */
    int rc = getnameinfo(sa, len, host, sizeof host, port, sizeof port,
                         NI_NUMERICHOST | NI_NUMERICSERV);
    if (rc != 0)
        snprintf(out, ADDR_STRLEN, "(getnameinfo: %s)", gai_strerror(rc));
    else if (sa->sa_family == AF_INET6)
        snprintf(out, ADDR_STRLEN, "[%s]:%s", host, port);   /* the colons need brackets */
    else
        snprintf(out, ADDR_STRLEN, "%s:%s", host, port);
}

const char *family_name(int family)
{
    return family == AF_INET ? "AF_INET" : family == AF_INET6 ? "AF_INET6" : "AF_?";
}

void say_addrinfo(const char *host, const char *port, const struct addrinfo *res)
{
    char list[400] = "", one[ADDR_STRLEN];
    size_t used = 0;   /* bytes of list[] in use, before its NUL */
    for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        format_addr(ai->ai_addr, ai->ai_addrlen, one);
        size_t len = strlen(one);
        if (used + len + 2 < sizeof list) {   /* room for " ", one and the NUL */
            if (used > 0)
                list[used++] = ' ';
            memcpy(list + used, one, len + 1);
            used += len;
        }
    }
    say("getaddrinfo(\"%s\", \"%s\") = %s", host, port, list);
}

const char *tcp_state(int fd)
{
    /* The kernel's names, in the kernel's order (include/net/tcp_states.h);
     * ss(8) prints the same states as ESTAB, SYN-SENT, FIN-WAIT-1... */
    static const char *const names[] = {
        "?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
        "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
    };
    struct tcp_info info;
    socklen_t len = sizeof info;
    int saved = errno;   /* narration must not change the errno it reports */
    memset(&info, 0, sizeof info);
    /* TCP_INFO (Linux-specific, tcp(7)) fills a struct tcp_info; tcpi_state
     * is the state of this end of the connection, right now. */
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == -1) {
        errno = saved;
        return "?";
    }
    errno = saved;
    return info.tcpi_state < sizeof names / sizeof names[0] ? names[info.tcpi_state] : "?";
}

/* The protocol: ASCII a-z become A-Z, every other byte is left alone. */
static void upcase(char *buf, size_t n)
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

void echo_client(int cfd)
{
    char buf[BUF_SIZE];
    for (;;) {
        ssize_t n = read(cfd, buf, sizeof buf);
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1) {
            /* a reset: ECONNRESET */
            say("read() = -1: %s  state=%s", strerror(errno), tcp_state(cfd));
            return;
        }
        if (n == 0) {
            say("read() = 0: peer closed  state=%s", tcp_state(cfd));
            return;
        }
        say("read() = %zd bytes  state=%s", n, tcp_state(cfd));
        upcase(buf, (size_t)n);
        if (write_all(cfd, buf, (size_t)n) == -1) {
            /* EPIPE, ECONNRESET */
            say("write() = -1: %s  state=%s", strerror(errno), tcp_state(cfd));
            return;
        }
        say("write() = %zd bytes  state=%s", n, tcp_state(cfd));
    }
}
