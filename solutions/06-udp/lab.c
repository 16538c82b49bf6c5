/* lab.c - narration, error exits, argument parsing and byte shuffling for
 * lab 06 (see lab.h). */

/* Linux-specific: glibc declares struct in_pktinfo (ip(7)) and struct
 * in6_pktinfo (ipv6(7)), which IP_PKTINFO and IPV6_PKTINFO carry, only
 * with _GNU_SOURCE. server.c and client.c need only their constants. */
#define _GNU_SOURCE
#include "lab.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *prog = "lab06";

const char server_usage[] =
    "usage: server [-b ADDR] [-s SIZE] [-r BYTES]"
    /* EXTRA 2: -l in the synopsis */
    " [-l PER_SECOND]"
    /* END EXTRA 2 */
    " [PORT]\n"
    "  Serves upper-case echo over UDP on ADDR port PORT (default\n"
    "  " DEFAULT_ADDR " " DEFAULT_PORT "); PORT 0 picks any free port.\n"
    "  -b ADDR   the address to bind, numeric: 127.0.0.1 and ::1 are this\n"
    "            machine only; 0.0.0.0, :: or '*' (quoted: the wildcard of\n"
    "            any family) open the port to every network the machine is on\n"
    "  -s SIZE   receive buffer in bytes, 1 to 65536 (default 65536, room\n"
    "            for any datagram); a longer datagram is truncated\n"
    "  -r BYTES  ask for a kernel receive queue (SO_RCVBUF) of BYTES; when\n"
    "            it is full, arriving datagrams are dropped\n"
    /* EXTRA 2: -l's lines */
    "  -l PER_SECOND  answer any one address at most PER_SECOND times a\n"
    "            second (1 to 1000000, bursts of as many); the others are\n"
    "            narrated, not answered\n"
    /* END EXTRA 2 */
    ;

const char client_usage[] =
    "usage: client [-c] [-n] [-t MS]"
    /* EXTRA 1: -r in the synopsis */
    " [-r RETRIES]"
    /* END EXTRA 1 */
    " [-b ADDR] [-p PORT] HOST PORT < input > output\n"
    "  Sends each line of standard input, without its newline, as one UDP\n"
    "  datagram to the upper-case echo server at HOST PORT (each address of\n"
    "  HOST in turn, until one answers), and writes each reply, a datagram\n"
    "  from that address and port, as one line. A line holds at most 65507\n"
    "  bytes over IPv4, 65527 over IPv6: the kernel refuses more.\n"
    "  -c       connect(): only the server's datagrams get in, and an ICMP\n"
    "           port unreachable comes back as ECONNREFUSED\n"
    "  -n       send every line, then exit: no replies expected\n"
    "  -t MS    reply timeout in ms (default 1000): when none comes for MS ms,\n"
    "           report the replies missing and exit 1\n"
    "  -b ADDR  send from ADDR (numeric), -p PORT from port PORT: bind() first\n"
    /* EXTRA 1: -r's lines */
    "  -r RETRIES  send one line at a time; when its reply does not come in\n"
    "           time, send it again, at most RETRIES times (1 to 10), each\n"
    "           time waiting twice as long as the last\n"
    /* END EXTRA 1 */
    ;

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
    int server = strchr(takes, 's') != NULL;
    int i = 1;
    unsigned char bytes[sizeof(struct in6_addr)];

    *opt = (struct options){ .host = DEFAULT_ADDR, .port = DEFAULT_PORT, .family = AF_UNSPEC,
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
        /* EXTRA 1: the client's -r RETRIES */
        if (!server && strcmp(argv[i], "-r") == 0) {
            if (i + 1 >= argc)
                usage_error(usage, "-r needs RETRIES");
            if ((opt->retries = number(argv[++i], 1, 10)) == -1)
                usage_error(usage, "bad RETRIES '%s' (1 to 10)", argv[i]);
            continue;
        }
        /* END EXTRA 1 */
        /* EXTRA 2: the server's -l PER_SECOND */
        if (server && strcmp(argv[i], "-l") == 0) {
            if (i + 1 >= argc)
                usage_error(usage, "-l needs PER_SECOND");
            if ((opt->limit = number(argv[++i], 1, 1000000)) == -1)
                usage_error(usage, "bad PER_SECOND '%s' (1 to 1000000)", argv[i]);
            continue;
        }
        /* END EXTRA 2 */
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
        const char *what = o == 'b' ? "ADDR" : o == 's' ? "SIZE" : o == 'r' ? "BYTES"
                         : o == 'p' ? "PORT" : "MS";
        long hi = o == 's' ? BUF_SIZE : o == 'r' ? 16777216 : o == 'p' ? 65535 : 3600000;
        if (i + 1 >= argc)
            usage_error(usage, "%s needs %s", argv[i], what);
        const char *arg = argv[++i];
        long v = number(arg, 1, hi);
        if (o == 'b' && server)   /* checked by getaddrinfo(AI_NUMERICHOST) */
            opt->host = arg;
        else if (o == 'b') {   /* the client's: inet_pton(3) tells its family */
            opt->local = arg;
            opt->family = inet_pton(AF_INET, arg, bytes) == 1 ? AF_INET
                        : inet_pton(AF_INET6, arg, bytes) == 1 ? AF_INET6 : AF_UNSPEC;
            if (opt->family == AF_UNSPEC)
                usage_error(usage, "bad ADDR '%s' (a numeric IPv4 or IPv6 address)", arg);
        } else if (v == -1)
            usage_error(usage, "bad %s '%s' (1 to %ld)", what, arg, hi);
        else if (o == 's')
            opt->size = v;
        else if (o == 'r')
            opt->rcvbuf = v;
        else if (o == 'p')
            opt->lport = arg;
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

static int signal_fd = -1;      /* what on_signal() closes */
static char goodbye[64];        /* what it says: "[server] signal: exit 0" */
static size_t goodbye_len;

/* Only async-signal-safe calls here (signal-safety(7)): the line to say
 * was made beforehand. */
static void on_signal(int sig)
{
    (void)sig;
    (void)close(signal_fd);   /* the kernel would, at exit; valgrind --track-fds sees it closed */
    if (write(2, goodbye, goodbye_len) == -1)
        _exit(1);
    _exit(0);
}

void exit_on_signal(int fd)
{
    struct sigaction sa = { .sa_handler = on_signal };

    signal_fd = fd;
    goodbye_len = (size_t)snprintf(goodbye, sizeof goodbye, "[%s] signal: exit 0\n", prog);
    /* sigaction(2), not signal(): what signal() does differs between
     * systems and feature macros (glibc's resets the handler on entry
     * under strict POSIX, and a second signal would kill us). */
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) == -1 || sigaction(SIGTERM, &sa, NULL) == -1)
        fail("sigaction");
}

struct addrinfo *local_address(const struct options *opt, int family)
{
    /* With no -b the node is NULL, and AI_PASSIVE makes getaddrinfo(3)
     * return the wildcard address (0.0.0.0 or ::): any address of ours,
     * the kernel picks one by route at each send. (With a node, AI_PASSIVE
     * is ignored.) */
    struct addrinfo *ai = NULL, hints = {
        .ai_family = family, .ai_socktype = SOCK_DGRAM,
        .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | (opt->local == NULL ? AI_PASSIVE : 0),
    };
    if (opt->local == NULL && opt->lport == NULL)
        return NULL;
    int rc = getaddrinfo(opt->local, opt->lport != NULL ? opt->lport : "0", &hints, &ai);
    if (rc == EAI_SYSTEM)
        fail("getaddrinfo %s", opt->local != NULL ? opt->local : "(any)");
    if (rc != 0)
        failx("getaddrinfo %s: %s", opt->local != NULL ? opt->local : "(any)", gai_strerror(rc));
    return ai;
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

/* The sockaddr_in or sockaddr_in6 that sa points to, copied out: a
 * struct sockaddr pointer may point to storage of another type. */
static struct sockaddr_in in4(const struct sockaddr *sa)
{
    struct sockaddr_in sin;
    memcpy(&sin, sa, sizeof sin);
    return sin;
}

static struct sockaddr_in6 in6(const struct sockaddr *sa)
{
    struct sockaddr_in6 sin6;
    memcpy(&sin6, sa, sizeof sin6);
    return sin6;
}

int addr_port(const struct sockaddr *sa)
{
    if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
        return -1;
    return ntohs(sa->sa_family == AF_INET6 ? in6(sa).sin6_port : in4(sa).sin_port);
}

int same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
    if (a->sa_family != b->sa_family || addr_port(a) != addr_port(b))
        return 0;
    if (a->sa_family == AF_INET6) {
        struct sockaddr_in6 x = in6(a), y = in6(b);
        return IN6_ARE_ADDR_EQUAL(&x.sin6_addr, &y.sin6_addr);
    }
    return in4(a).sin_addr.s_addr == in4(b).sin_addr.s_addr;
}
/* EXTRA 2: the key of a source address */

void addr_key(const struct sockaddr *sa, unsigned char key[16])
{
    struct in6_addr mapped = IN6ADDR_ANY_INIT;

    if (sa->sa_family == AF_INET6) {
        mapped = in6(sa).sin6_addr;
    } else {
        struct in_addr a = in4(sa).sin_addr;
        mapped.s6_addr[10] = mapped.s6_addr[11] = 0xff;   /* ::ffff:0:0/96, RFC 4291 2.5.5.2 */
        memcpy(&mapped.s6_addr[12], &a, 4);
    }
    memcpy(key, &mapped, 16);
}
/* END EXTRA 2 */

int is_wildcard(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 x = in6(sa);
        return IN6_IS_ADDR_UNSPECIFIED(&x.sin6_addr);
    }
    return in4(sa).sin_addr.s_addr == htonl(INADDR_ANY);
}

_Static_assert(PKTINFO_SPACE >= CMSG_SPACE(sizeof(struct in6_pktinfo)) &&
               PKTINFO_SPACE >= CMSG_SPACE(sizeof(struct in_pktinfo)),
               "PKTINFO_SPACE (lab.h) holds either control message");

const char *peer_name(struct msghdr *msg, const char *sep)
{
    static char name[200];
    char to[INET6_ADDRSTRLEN] = "";
    struct in_pktinfo pi;
    struct in6_pktinfo pi6;

    /* cmsg(3): walk the control messages with CMSG_FIRSTHDR/CMSG_NXTHDR;
     * CMSG_DATA need not be aligned for the structure: copy it out. */
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            memcpy(&pi, CMSG_DATA(c), sizeof pi);   /* ipi_addr: the header's destination */
            (void)inet_ntop(AF_INET, &pi.ipi_addr, to, sizeof to);
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            memcpy(&pi6, CMSG_DATA(c), sizeof pi6);
            (void)inet_ntop(AF_INET6, &pi6.ipi6_addr, to, sizeof to);
        }
    }
    snprintf(name, sizeof name, "%s%s%s", addr_name(msg->msg_name, msg->msg_namelen),
             to[0] != '\0' ? sep : "", to);
    return name;
}

const char *rcvbuf_rule(long asked, int got)
{
    static char rule[160];
    char text[32] = "";
    /* Linux-specific: the cap, net.core.rmem_max (socket(7), SO_RCVBUF). */
    FILE *f = fopen("/proc/sys/net/core/rmem_max", "r");
    if (f != NULL) {
        if (fgets(text, sizeof text, f) == NULL)
            text[0] = '\0';
        (void)fclose(f);   /* read only: nothing to lose */
    }
    text[strcspn(text, "\n")] = '\0';
    long max = number(text, 0, INT_MAX);   /* -1: unreadable */
    long kept = max >= 0 && asked > max ? max : asked;
    if (max < 0)
        snprintf(rule, sizeof rule, "(asked %ld; Linux caps it at net.core.rmem_max, "
                 "then doubles it: socket(7))", asked);
    else if (got == 2 * kept)
        snprintf(rule, sizeof rule, "(asked %ld, %s net.core.rmem_max %ld, doubled: socket(7))",
                 asked, asked > max ? "capped at" : "within", max);
    else
        snprintf(rule, sizeof rule, "(asked %ld, net.core.rmem_max %ld: Linux's minimum, "
                 "socket(7))", asked, max);
    return rule;
}

/* == canonical: lines == */
int next_line(struct input *in, size_t *len, long number)
{
    char *nl = memchr(in->buf + in->start, '\n', in->have - in->start);
    size_t line = nl != NULL ? (size_t)(nl - (in->buf + in->start)) : in->have - in->start;
    if (line > MAX_LINE)
        failx("line %ld is longer than %d bytes, %s", number, MAX_LINE, MAX_LINE_IS);
    *len = line;
    return nl != NULL || (in->done && line > 0);   /* the last line may lack its newline */
}

void read_input(struct input *in)
{
    /* First move the part not sent yet to the front: room for a whole line. */
    memmove(in->buf, in->buf + in->start, in->have - in->start);
    in->have -= in->start;
    in->start = 0;
    ssize_t n = read(0, in->buf + in->have, sizeof in->buf - in->have);
    if (n == -1 && errno != EINTR)
        fail("read stdin");
    if (n == 0)
        in->done = 1;
    if (n > 0)
        in->have += (size_t)n;
}

void line_sent(struct input *in, size_t len)
{
    in->start += len;
    if (in->start < in->have)
        in->start++;   /* the newline */
}
/* == end canonical: lines == */

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
