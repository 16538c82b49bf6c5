/* lab.c - narration, error exits, argument parsing, the server's signals
 * and timeouts, and byte shuffling for lab 05 (see lab.h). The sections
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
#include <sys/time.h>
#include <unistd.h>

const char *prog = "lab05";

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

static void help(int argc, char *argv[], const char *usage)
{
    for (int j = 1; j < argc; j++) {
        if (strcmp(argv[j], "-h") == 0 || strcmp(argv[j], "--help") == 0) {
            fputs(usage, stdout);
            exit(0);
        }
    }
}

/* The server's options for getopt(3); the leading ':' makes a missing
 * value ':', not '?'. */
#define SERVER_OPTIONS ":b:q:d:At:"
/* EXTRA 2: and -k SECONDS */
#undef SERVER_OPTIONS
#define SERVER_OPTIONS ":b:q:d:At:k:"
/* END EXTRA 2 */

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
    a->timeout = DEFAULT_TIMEOUT;
    /* EXTRA 2: no keepalive without -k */
    a->keepalive = 0;
    /* END EXTRA 2 */
    opterr = 0;   /* getopt(3) stays quiet: the messages are ours */
    while ((c = getopt(argc, argv, SERVER_OPTIONS)) != -1) {
        switch (c) {
        case 'b': a->host = optarg; break;
        case 'q': a->backlog = (int)number(usage, "BACKLOG", optarg, 0, 65535); break;
        case 'd': a->defer = (int)number(usage, "SECONDS", optarg, 1, 3600); break;
        case 'A': a->no_accept = 1; break;
        case 't': a->timeout = (int)number(usage, "SECONDS", optarg, 0, 86400); break;
        /* EXTRA 2: TCP_KEEPIDLE's largest value is 32767 s (tcp(7)) */
        case 'k': a->keepalive = (int)number(usage, "SECONDS", optarg, 1, 32767); break;
        /* END EXTRA 2 */
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

/* EXTRA 1: set by -T */
int connect_limit = 0;
/* END EXTRA 1 */

void parse_client_args(int argc, char *argv[], const char *usage,
                       const char **host, const char **port)
{
    int i = 1;
    help(argc, argv, usage);
    /* EXTRA 1: -T SECONDS, before HOST (-T alone: an unknown option, below) */
    if (argc > 2 && strcmp(argv[1], "-T") == 0) {
        connect_limit = (int)number(usage, "SECONDS", argv[2], 1, 3600);
        argc -= 2;   /* the rest is read as if -T SECONDS were not there */
        argv += 2;
    }
    /* END EXTRA 1 */
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

void gai_failed(const char *usage, int gai, const char *host)
{
    if (gai == EAI_NONAME)
        usage_error(usage, "bad ADDR '%s' (numeric: 127.0.0.1, ::1, 0.0.0.0, ::; or any)", host);
    if (gai == EAI_SYSTEM)
        fail("getaddrinfo %s", host);
    failx("getaddrinfo %s: %s", host, gai_strerror(gai));   /* unknown name... */
}

void local_name(int fd, char *out)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    if (getsockname(fd, (struct sockaddr *)&sa, &len) == -1)
        fail("getsockname");
    format_addr((struct sockaddr *)&sa, len, out);
}

void never_accept(void)
{
    say("-A: not accepting; connections wait in the accept queue");
    for (;;)
        pause();   /* until SIGINT or SIGTERM: exit_on_signals() */
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
    if (host == NULL)
        say("getaddrinfo(NULL, \"%s\", AI_PASSIVE) = %s", port, list);
    else
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

void echo_client(int cfd, int timeout)
{
    char buf[BUF_SIZE];
    for (;;) {
        ssize_t n = read(cfd, buf, sizeof buf);
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* SO_RCVTIMEO: silent for timeout seconds, or gone */
            say("read() = -1: %s (nothing for %d s): client dropped  state=%s",
                strerror(errno), timeout, tcp_state(cfd));
            return;
        }
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
            if (errno == EAGAIN || errno == EWOULDBLOCK)   /* SO_SNDTIMEO: a zero window */
                say("write() = -1: %s (not read for %d s): client dropped  state=%s",
                    strerror(errno), timeout, tcp_state(cfd));
            else   /* EPIPE, ECONNRESET */
                say("write() = -1: %s  state=%s", strerror(errno), tcp_state(cfd));
            return;
        }
        say("write() = %zd bytes  state=%s", n, tcp_state(cfd));
    }
}
