/* lab.c - narration, error exits, argument parsing, the step mode, the
 * server's timeouts and byte shuffling for lab 07 (see lab.h). The sections
 * marked "canonical" are the course's one text of each (tests/canonical.c),
 * the same in every lab that has them. */

/* struct tcp_info in <netinet/tcp.h> is a Linux extension, hidden under
 * -D_POSIX_C_SOURCE; _DEFAULT_SOURCE shows it (feature_test_macros(7)). */
#define _DEFAULT_SOURCE
#include "lab.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

const char *prog = "lab07";

/* ADDR_STRLEN (lab.h) holds the longest host and port getnameinfo(3) may
 * write (NI_MAXHOST and NI_MAXSERV count their NUL), "[]:" and one NUL. */
_Static_assert(ADDR_STRLEN >= sizeof "[]:" + (NI_MAXHOST - 1) + (NI_MAXSERV - 1),
               "ADDR_STRLEN is too small");

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

/* == canonical: accept == */
void accept_failed(void)
{
    /* accept(2) returned -1. A signal (EINTR) or a client gone before we
     * took it (ECONNABORTED): the next one. accept(2) asks that the network
     * errors it lists be treated the same way, as a connection that went
     * wrong, not a listener. Out of descriptors or memory (EMFILE, ENFILE,
     * ENOBUFS, ENOMEM): the queue still holds the client, so trying again
     * at once would spin; a pause, then again. Anything else is a bug. */
    int err = errno;
    switch (err) {
    case EINTR:
    case ECONNABORTED:
        return;
    case EPROTO: case ENOPROTOOPT: case EOPNOTSUPP: case ENETDOWN:
    case ENETUNREACH: case EHOSTDOWN: case EHOSTUNREACH:
        say("accept() = -1: %s: that connection is lost, not the listener", strerror(err));
        return;
    case EMFILE: case ENFILE: case ENOBUFS: case ENOMEM:
        say("accept() = -1: %s: trying again in 250 ms", strerror(err));
        (void)poll(NULL, 0, 250);
        return;
    default:
        errno = err;
        fail("accept");
    }
}
/* == end canonical: accept == */

/* == canonical: timeouts == */
void bound_waits(int fd, int seconds)
{
    /* An iterative server waits on one client at a time: a client that
     * sends nothing and does not close, one that does not read its
     * replies, or one whose machine vanished without a FIN or an RST,
     * would hold it for ever, and every client after it. SO_RCVTIMEO and
     * SO_SNDTIMEO (socket(7)) bound each wait: a read() or write() that
     * waits longer fails with EAGAIN (EWOULDBLOCK), and the server drops
     * that client and takes the next. 0 seconds: no bound. */
    struct timeval tv = { .tv_sec = seconds };
    if (seconds <= 0)
        return;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == -1 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == -1)
        say("setsockopt(fd %d, SO_RCVTIMEO, SO_SNDTIMEO) = -1: %s", fd, strerror(errno));
}
/* == end canonical: timeouts == */

/* Only async-signal-safe calls in a handler (signal-safety(7)): close(),
 * write() and _exit() are, printf() is not; so the line is made beforehand. */
static char goodbye[64];
static int listener = -1;
static void on_signal(int sig)
{
    (void)sig;
    (void)close(listener);   /* the kernel would, at exit; valgrind --track-fds sees it closed */
    if (write(2, goodbye, strlen(goodbye)) == -1)
        _exit(1);
    _exit(0);
}

void exit_on_signals(int fd)
{
    snprintf(goodbye, sizeof goodbye, "[%s] signal: exit 0\n", prog);
    listener = fd;
    /* sigaction(2), not signal(): under -D_POSIX_C_SOURCE, glibc's signal()
     * resets the handler on entry, so a second signal would kill us. */
    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
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

/* Options common to both programs, and the ones of each (getopt(3)). */
static void parse(int argc, char *argv[], const char *usage, const char *optstring,
                  struct args *a)
{
    const char *ctl = NULL;
    int c;
    for (int j = 1; j < argc; j++) {
        if (strcmp(argv[j], "-h") == 0 || strcmp(argv[j], "--help") == 0) {
            fputs(usage, stdout);
            exit(0);
        }
    }
    memset(a, 0, sizeof *a);
    a->timeout = DEFAULT_TIMEOUT;   /* the server's; the client has no -t */
    opterr = 0;   /* getopt(3) stays quiet: the messages are ours */
    while ((c = getopt(argc, argv, optstring)) != -1) {
        switch (c) {
        case 'b': a->host = optarg; break;
        case 'r': a->rcvbuf = (int)number(usage, "BYTES", optarg, 1, 1 << 30); break;
        case 's': ctl = optarg; break;
        case 'p': a->pause_ms = (int)number(usage, "MS", optarg, 1, 3600000); break;
        case 'a': a->active = 1; break;
        case 'n': a->no_reuse = 1; break;
        case 't': a->timeout = (int)number(usage, "SECONDS", optarg, 0, 86400); break;
        case 'c': a->close_now = 1; break;
        case 'L': a->abort_close = 1; break;
        case ':': usage_error(usage, "-%c needs a value", optopt);
        default: usage_error(usage, "unknown option '-%c'", optopt);
        }
    }
    if (a->close_now && a->abort_close)
        usage_error(usage, "-c and -L exclude each other");
    if (ctl != NULL && (a->ctl = fopen(ctl, "r")) == NULL)
        fail("open %s", ctl);   /* e.g. /dev/tty when there is no terminal */
}

void parse_server_args(int argc, char *argv[], const char *usage, struct args *a)
{
    const char *options = ":b:r:s:p:ant:";
    parse(argc, argv, usage, options, a);
    if (a->host == NULL)
        a->host = DEFAULT_HOST;
    a->port = DEFAULT_PORT;
    if (optind < argc)
        a->port = argv[optind++];
    if (optind < argc)
        usage_error(usage, "too many arguments");
    number(usage, "PORT", a->port, 0, 65535);
}

void parse_client_args(int argc, char *argv[], const char *usage, struct args *a)
{
    const char *options = ":r:s:p:cL";
    parse(argc, argv, usage, options, a);
    if (argc - optind != 2)
        usage_error(usage, "%s", argc - optind < 2 ? "HOST and PORT are needed"
                                                   : "too many arguments");
    a->host = argv[optind];
    a->port = argv[optind + 1];
    number(usage, "PORT", a->port, 1, 65535);
}

int accept_client(int lfd)
{
    for (;;) {
        struct sockaddr_storage sa;
        socklen_t salen = sizeof sa;
        char name[ADDR_STRLEN];
        int cfd = accept(lfd, (struct sockaddr *)&sa, &salen);
        if (cfd == -1) {
            accept_failed();   /* a lost connection or a pause, or exit 1 */
            continue;
        }
        format_addr((struct sockaddr *)&sa, salen, name);
        say("accept() = fd %d from %s  state=%s", cfd, name, tcp_state(cfd));
        return cfd;
    }
}

void step(struct args *a, int fd, const char *fmt, ...)
{
    char what[256], line[256];
    va_list ap;
    if (a->ctl == NULL && a->pause_ms == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (a->pause_ms > 0) {
        struct timespec left = { a->pause_ms / 1000, a->pause_ms % 1000 * 1000000L };
        say("step: about to %s, pausing %d ms  state=%s", what, a->pause_ms, tcp_state(fd));
        while (nanosleep(&left, &left) == -1 && errno == EINTR) {
            /* nanosleep(2) leaves the time still to wait in left */
        }
    }
    if (a->ctl == NULL)
        return;
    say("step: about to %s, press Enter  state=%s", what, tcp_state(fd));
    if (fgets(line, sizeof line, a->ctl) == NULL) {
        say("step: end of the step input: no more pauses");
        (void)fclose(a->ctl);   /* read only: nothing to flush */
        a->ctl = NULL;
    }
}

ssize_t said_read(int fd, ssize_t n, const char *at_zero, int timeout)
{
    int saved = errno;
    if (n > 0)
        say("read() = %zd bytes  state=%s", n, tcp_state(fd));
    else if (n == 0)
        say("read() = 0: %s  state=%s", at_zero, tcp_state(fd));
    else
        said_failed(fd, "read()", "nothing", timeout);
    errno = saved;
    return n;
}

void said_failed(int fd, const char *call, const char *idle, int timeout)
{
    int saved = errno;
    if ((saved == EAGAIN || saved == EWOULDBLOCK) && timeout > 0)
        say("%s = -1: %s (%s for %d s): client dropped  state=%s", call, strerror(saved), idle,
            timeout, tcp_state(fd));
    else
        say("%s = -1: %s  state=%s", call, strerror(saved), tcp_state(fd));
    errno = saved;
}

void set_rcvbuf(int fd, int bytes)
{
    /* The kernel doubles the value, for its own bookkeeping (socket(7)). */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes) == -1)
        fail("setsockopt SO_RCVBUF");
    say("setsockopt(SO_RCVBUF, %d) = 0", bytes);
}

const char *tcp_state(int fd)
{
    /* The kernel's names, in the kernel's order (include/net/tcp_states.h);
     * ss(8) prints the same states as ESTAB, FIN-WAIT-1, TIME-WAIT... */
    static const char *const names[] = {
        "?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
        "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
    };
    struct tcp_info info;
    socklen_t len = sizeof info;
    int saved = errno;   /* narration must not change the errno it reports */
    memset(&info, 0, sizeof info);
    /* TCP_INFO (Linux-specific, tcp(7)) fills a struct tcp_info; tcpi_state
     * is the state of this end of the connection, right now. A socket that
     * went to TIME-WAIT while its descriptor is open reads CLOSE: the
     * kernel moved the connection to a separate, small TIME-WAIT object. */
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == -1) {
        errno = saved;
        return "?";
    }
    errno = saved;
    return info.tcpi_state < sizeof names / sizeof names[0] ? names[info.tcpi_state] : "?";
}

int unread(int fd)
{
    int n = 0;
    int saved = errno;
    if (ioctl(fd, FIONREAD, &n) == -1)
        n = 0;
    errno = saved;
    return n;
}

struct addrinfo *resolve(const char *usage, const struct args *a, int passive)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;        /* IPv4 or IPv6: the address decides */
    hints.ai_socktype = SOCK_STREAM;    /* TCP */
    /* The server's ADDR is a number (AI_NUMERICHOST: no DNS), 0.0.0.0 and
     * :: too, or "any": a NULL node, where AI_PASSIVE gives each family's
     * wildcard address. With a node, getaddrinfo(3) ignores AI_PASSIVE. */
    const char *node = passive && strcmp(a->host, "any") == 0 ? NULL : a->host;
    hints.ai_flags = AI_NUMERICSERV;
    if (passive)
        hints.ai_flags |= node == NULL ? AI_PASSIVE : AI_NUMERICHOST;
    int gai = getaddrinfo(node, a->port, &hints, &res);
    if (gai == EAI_NONAME && passive)
        usage_error(usage, "bad ADDR '%s' (numeric: 127.0.0.1, ::1, 0.0.0.0, ::; or any)", a->host);
    if (gai != 0)
        failx("getaddrinfo %s: %s", a->host, gai_strerror(gai));
    return res;
}

void local_name(int fd, char *out)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    if (getsockname(fd, (struct sockaddr *)&sa, &len) == -1)
        fail("getsockname");
    format_addr((struct sockaddr *)&sa, len, out);
}

void format_addr(const struct sockaddr *sa, socklen_t len, char *out)
{
    char host[NI_MAXHOST], port[NI_MAXSERV];   /* getnameinfo(3)'s sizes */
    /* getnameinfo(3) is getaddrinfo backwards; NI_NUMERIC* asks for
     * numbers, not names, so it never waits for DNS. A link-local IPv6
     * address comes with its scope, "%" and the interface's name. */
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
