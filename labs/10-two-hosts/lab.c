/* lab.c - narration, error exits, argument parsing, the server's socket
 * file, signals and timeouts, and byte shuffling for lab 10 (see lab.h).
 * The sections marked "canonical" are the course's one text of each
 * (tests/canonical.c), the same in every lab that has them. */

/* struct tcp_info in <netinet/tcp.h> is a Linux extension, hidden under
 * -D_POSIX_C_SOURCE; _DEFAULT_SOURCE shows it (feature_test_macros(7)). */
#define _DEFAULT_SOURCE
#include "lab.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

const char *prog = "lab10";

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

/* == canonical: socket-file == */
/* The server's socket file and its lock file, removed at exit only if they
 * are still the files this server made: same device and inode (st_dev,
 * st_ino) as lstat(2) saw right after they were made. Whatever another
 * program put at the path since (a new server's socket, a symbolic link)
 * is not ours to remove. */
static char sock_path[sizeof ((struct sockaddr_un *)0)->sun_path];
static char lock_path[sizeof sock_path + sizeof ".lock"];
static struct stat sock_st, lock_st;
static int sock_owned, lock_owned, lock_fd = -1, listen_fd = -1;
static char bye_removed[sizeof sock_path + 64], bye_left[sizeof sock_path + 96];

static int still_ours(const char *path, const struct stat *st)
{
    struct stat now;
    return lstat(path, &now) == 0 && now.st_dev == st->st_dev && now.st_ino == st->st_ino;
}

/* Async-signal-safe (signal-safety(7)): lstat(), unlink() only. Returns
 * 1 when the socket file was removed. */
static int remove_own_files(void)
{
    int removed = 0;
    if (sock_owned && still_ours(sock_path, &sock_st))
        removed = unlink(sock_path) == 0;
    sock_owned = 0;
    if (lock_owned && still_ours(lock_path, &lock_st))
        (void)unlink(lock_path);
    lock_owned = 0;
    return removed;
}

static void remove_at_exit(void)
{
    (void)remove_own_files();
    if (lock_fd != -1)
        (void)close(lock_fd);   /* after the files: the lock goes last */
    lock_fd = -1;
}

/* SIGINT, SIGTERM: the files go, the listening socket is closed (the
 * kernel would, at exit; valgrind --track-fds sees it closed), one line,
 * exit 0. The lines are made beforehand: printf() is not async-signal-safe. */
static void on_signal(int sig)
{
    (void)sig;
    const char *bye = remove_own_files() ? bye_removed : bye_left;
    (void)close(listen_fd);
    (void)close(lock_fd);   /* after the files: the lock goes last */
    if (write(2, bye, strlen(bye)) == -1)
        _exit(1);
    _exit(0);
}

void lock_socket_path(const char *path)
{
    /* Two servers started on one path must not both take it. The probe
     * below calls a socket file stale when nobody listens on it, but a
     * server that has bound and not yet listened looks just the same; so
     * each server first takes a lock on PATH.lock (fcntl(2), F_SETLK: it
     * never waits) and holds it while it runs. The second server stops
     * here, before it can remove the first one's socket file. */
    snprintf(sock_path, sizeof sock_path, "%s", path);
    snprintf(lock_path, sizeof lock_path, "%s.lock", path);
    for (;;) {
        /* O_NOFOLLOW: a symbolic link at PATH.lock is not followed. */
        int fd = open(lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd == -1)
            fail("open %s", lock_path);
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
        if (fcntl(fd, F_SETLK, &fl) == -1) {
            if (errno == EACCES || errno == EAGAIN)
                failx("bind %s: Address already in use (another server holds %s)", path, lock_path);
            fail("fcntl %s F_SETLK", lock_path);
        }
        /* The server that held the lock may have removed the file as it
         * exited, after we opened it: then the lock is on a file nobody
         * else will see; open the one at the path now. */
        if (fstat(fd, &lock_st) == -1)
            fail("fstat %s", lock_path);
        if (still_ours(lock_path, &lock_st)) {
            lock_fd = fd;
            lock_owned = 1;
            atexit(remove_at_exit);
            say("fcntl(fd %d, F_SETLK) = 0: %s is locked while this server runs", fd, lock_path);
            return;
        }
        (void)close(fd);
    }
}

int probe_socket_file(const struct sockaddr_un *addr, int type)
{
    /* connect(2) on a socket that never blocks: a listening stream or
     * seqpacket socket whose queue is full answers EAGAIN rather than
     * making us wait (Linux). A datagram socket answers at once. */
    int fd = socket(AF_UNIX, type, 0);
    if (fd == -1)
        fail("socket");
    if (set_nonblocking(fd) == -1)
        fail("fcntl");
    int err = connect(fd, (const struct sockaddr *)addr, sizeof *addr) == 0 ? 0 : errno;
    (void)close(fd);   /* a probe: nothing was sent */
    return err == EAGAIN ? 0 : err;
}

void replace_stale_socket(const struct sockaddr_un *addr, int type)
{
    struct stat st;
    if (lstat(addr->sun_path, &st) == -1)
        fail("lstat %s", addr->sun_path);
    if (!S_ISSOCK(st.st_mode))
        failx("bind %s: the file exists and is not a socket; left alone", addr->sun_path);
    int err = probe_socket_file(addr, type);
    if (err == 0)
        failx("bind %s: Address already in use (a server answers there)", addr->sun_path);
    if (err != ECONNREFUSED) {
        errno = err;
        fail("connect %s (probing the old socket file)", addr->sun_path);
    }
    say("connect(\"%s\") = -1: Connection refused: stale socket file", addr->sun_path);
    /* We hold the lock: no other server can have bound it since. */
    if (unlink(addr->sun_path) == -1)
        fail("unlink %s", addr->sun_path);
    say("unlink(\"%s\") = 0", addr->sun_path);
}

void own_socket_file(int lfd)
{
    /* Right after bind(): the file bind() made, to remove at exit. */
    if (lstat(sock_path, &sock_st) == -1)
        fail("lstat %s", sock_path);
    sock_owned = 1;
    listen_fd = lfd;
    snprintf(bye_removed, sizeof bye_removed, "[%s] signal: unlink(\"%s\"), exit 0\n", prog, sock_path);
    snprintf(bye_left, sizeof bye_left,
             "[%s] signal: %s is no longer the file this server made: left alone, exit 0\n",
             prog, sock_path);
    /* sigaction(2), not signal(): under -D_POSIX_C_SOURCE, glibc's signal()
     * resets the handler on entry, so a second signal would kill us. */
    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}
/* == end canonical: socket-file == */

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

/* SIGINT, SIGTERM: both listeners closed (the kernel would, at exit;
 * valgrind --track-fds sees them closed), then, with a socket file, the
 * handler own_socket_file() installed (it removes the file if still ours,
 * says so and exits 0); else one line, exit 0. Only async-signal-safe
 * calls (signal-safety(7)): close(), write(), _exit(); the line is made
 * beforehand. */
static int listeners[2] = { -1, -1 };
static struct sigaction chained;   /* the handler before ours */
static char goodbye[64];

static void on_exit_signal(int sig)
{
    (void)close(listeners[0]);
    if (chained.sa_handler != SIG_DFL && chained.sa_handler != SIG_IGN)
        chained.sa_handler(sig);   /* closes listeners[1] and exits */
    (void)close(listeners[1]);
    if (write(2, goodbye, strlen(goodbye)) == -1)
        _exit(1);
    _exit(0);
}

void exit_on_signals(int tcp_fd, int unix_fd)
{
    snprintf(goodbye, sizeof goodbye, "[%s] signal: exit 0\n", prog);
    listeners[0] = tcp_fd;
    listeners[1] = unix_fd;
    /* sigaction(2), not signal(): under -D_POSIX_C_SOURCE, glibc's signal()
     * resets the handler on entry, so a second signal would kill us. */
    struct sigaction sa = { .sa_handler = on_exit_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, &chained);
    sigaction(SIGINT, &sa, NULL);
}

/* A decimal number from min to max, digits only; anything else (empty,
 * a sign, a space, a letter, too large) is a usage error. */
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
#define SERVER_OPTIONS ":b:u:t:"

void parse_server_args(int argc, char *argv[], const char *usage,
                       struct server_args *a)
{
    int c;
    help(argc, argv, usage);
    memset(a, 0, sizeof *a);
    a->host = DEFAULT_HOST;
    a->port = DEFAULT_PORT;
    a->timeout = DEFAULT_TIMEOUT;
    opterr = 0;   /* getopt(3) stays quiet: the messages are ours */
    while ((c = getopt(argc, argv, SERVER_OPTIONS)) != -1) {
        switch (c) {
        case 'b': a->host = optarg; break;
        case 'u': a->upath = optarg; break;
        case 't': a->timeout = (int)number(usage, "SECONDS", optarg, 0, 86400); break;
        case ':': usage_error(usage, "-%c needs a value", optopt);
        default: usage_error(usage, "unknown option '-%c'", optopt);
        }
    }
    if (optind < argc)
        a->port = argv[optind++];
    if (optind < argc)
        usage_error(usage, "too many arguments");
    number(usage, "PORT", a->port, 0, 65535);
    if (a->upath == NULL)
        return;

    /* -u PATH, or @NAME: unix(7), "Address format". A path fills sun_path
     * with its closing NUL; an abstract name, sun_path[0] = '\0' and NAME
     * after it, has none (server.c fills it in). Either way at most 107
     * bytes of path or name, checked here, before any socket. */
    size_t len = strlen(a->upath);
    a->abstract = a->upath[0] == '@';
    if (len == 0 || (a->abstract && len == 1))
        usage_error(usage, "-u: the socket path is empty");
    if (len - a->abstract >= sizeof a->uaddr.sun_path)   /* '@' stands for the null byte */
        usage_error(usage, "-u: %s is %zu bytes; sun_path holds at most %zu",
                    a->abstract ? "the name" : "socket path", len - a->abstract,
                    sizeof a->uaddr.sun_path - 1);
    a->uaddr.sun_family = AF_UNIX;
    if (!a->abstract) {
        memcpy(a->uaddr.sun_path, a->upath, len + 1);
        a->ulen = sizeof a->uaddr;
    }
    snprintf(a->ushown, sizeof a->ushown, a->abstract ? "%s" : "\"%s\"", a->upath);
}

/* A numeric IPv4 or IPv6 address (inet_pton(3): no names, no "127.1")
 * and a port into to; 0 if host is no such number. */
static int inet_address(const char *host, long port, struct address *to)
{
    memset(&to->in6, 0, sizeof to->in6);
    if (inet_pton(AF_INET, host, &to->in.sin_addr) == 1) {
        to->in.sin_family = AF_INET;
        to->in.sin_port = htons((unsigned short)port);
        to->len = sizeof to->in;
    } else if (inet_pton(AF_INET6, host, &to->in6.sin6_addr) == 1) {
        to->in6.sin6_family = AF_INET6;
        to->in6.sin6_port = htons((unsigned short)port);
        to->len = sizeof to->in6;
    } else {
        return 0;
    }
    to->family = to->sa.sa_family;
    format_addr(&to->sa, to->len, to->shown);
    return 1;
}


void parse_client_args(int argc, char *argv[], const char *usage, struct address *to)
{
    static char host[INET6_ADDRSTRLEN + 1];
    int i = 1;
    help(argc, argv, usage);
    if (argc > i && argv[i][0] == '-' && argv[i][1] != '\0')
        usage_error(usage, "unknown option '%s'", argv[i]);
    if (argc <= i)
        usage_error(usage, "ADDRESS is needed");
    if (argc > i + 1)
        usage_error(usage, "too many arguments");
    const char *arg = argv[i], *colon = strrchr(arg, ':');
    size_t len = strlen(arg);
    memset(to, 0, sizeof *to);
    to->name = arg;
    if ((strncmp(arg, "unix:", 5) == 0 && len > 5 && len - 5 >= sizeof to->un.sun_path) ||
        (arg[0] == '@' && len > sizeof to->un.sun_path))   /* as lab 01 says it */
        usage_error(usage, "%s is %zu bytes; sun_path holds at most %zu",
                    arg[0] == '@' ? "the name" : "socket path", arg[0] == '@' ? len - 1 : len - 5,
                    sizeof to->un.sun_path - 1);
    if (strncmp(arg, "unix:", 5) == 0 && len > 5 && len - 5 < sizeof to->un.sun_path) {
        to->family = to->un.sun_family = AF_UNIX;   /* a path: the file's name */
        memcpy(to->un.sun_path, arg + 5, len - 5 + 1);
        to->len = sizeof to->un;
        to->name = arg + 5;
        snprintf(to->shown, sizeof to->shown, "\"%s\"", arg + 5);
    } else if (arg[0] == '@' && len > 1 && len <= sizeof to->un.sun_path) {
        to->family = to->un.sun_family = AF_UNIX;   /* abstract: client.c fills it in */
        to->abstract = 1;
        snprintf(to->shown, sizeof to->shown, "%s", arg);
    } else {
        /* HOST:PORT, or [v6]:PORT: the brackets keep v6's colons apart */
        size_t hlen = colon == NULL ? 0 : (size_t)(colon - arg);
        int v6 = arg[0] == '[' && hlen >= 2 && arg[hlen - 1] == ']';
        if (v6)
            hlen -= 2;
        if (hlen == 0 || hlen >= sizeof host)
            usage_error(usage, "bad ADDRESS '%s' (unix:/path, @name, HOST:PORT or [v6]:PORT)", arg);
        memcpy(host, arg + v6, hlen);
        host[hlen] = '\0';
        size_t plen = strlen(colon + 1);   /* PORT: digits only, 1 to 65535 */
        long port = plen == 0 || plen > 5 || strspn(colon + 1, "0123456789") != plen
                    ? 0 : strtol(colon + 1, NULL, 10);
        if (port < 1 || port > 65535 || !inet_address(host, port, to) ||
            (to->family == AF_INET6) != v6)
            usage_error(usage, "bad ADDRESS '%s' (unix:/path, @name, HOST:PORT or [v6]:PORT)", arg);
    }
}

void format_addr(const struct sockaddr *sa, socklen_t len, char *out)
{
    char host[NI_MAXHOST], port[NI_MAXSERV];   /* getnameinfo(3)'s sizes */
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

void gai_failed(const char *usage, int gai, const char *host)
{
    if (gai == EAI_NONAME)
        usage_error(usage, "bad ADDR '%s' (numeric: 127.0.0.1, 10.0.0.1, 0.0.0.0, ::1, ::)", host);
    if (gai == EAI_SYSTEM)
        fail("getaddrinfo %s", host);
    failx("getaddrinfo %s: %s", host, gai_strerror(gai));
}

void local_name(int fd, char *out)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    if (getsockname(fd, (struct sockaddr *)&sa, &len) == -1)
        fail("getsockname");
    format_addr((struct sockaddr *)&sa, len, out);
}

const char *family_name(int family)
{
    return family == AF_INET ? "AF_INET" : family == AF_INET6 ? "AF_INET6"
         : family == AF_UNIX ? "AF_UNIX" : "AF_?";
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

/* The kernel's names, in the kernel's order (include/net/tcp_states.h);
 * ss(8) prints the same states as ESTAB, SYN-SENT, FIN-WAIT-1... Index 0:
 * not a TCP socket (a Unix one: TCP_INFO fails). */
static const char *const states[] = {
    NULL, "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
    "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
};

static unsigned state_of(int fd)
{
    struct tcp_info info;
    socklen_t len = sizeof info;
    int saved = errno;   /* narration must not change the errno it reports */
    memset(&info, 0, sizeof info);
    /* TCP_INFO (Linux-specific, tcp(7)) fills a struct tcp_info; tcpi_state
     * is the state of this end of the connection, right now. */
    int rc = getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len);
    errno = saved;
    return rc == -1 || info.tcpi_state >= sizeof states / sizeof states[0] ? 0 : info.tcpi_state;
}

const char *tcp_state(int fd)
{
    unsigned s = state_of(fd);
    return s == 0 ? "?" : states[s];
}

const char *tcp_note(int fd)
{
    static char note[32];
    unsigned s = state_of(fd);
    if (s == 0)
        return "";
    snprintf(note, sizeof note, "  state=%s", states[s]);
    return note;
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
            say("read() = -1: %s (nothing for %d s): client dropped%s",
                strerror(errno), timeout, tcp_note(cfd));
            return;
        }
        if (n == -1) {   /* a reset: ECONNRESET */
            say("read() = -1: %s%s", strerror(errno), tcp_note(cfd));
            return;
        }
        if (n == 0) {
            say("read() = 0: peer closed%s", tcp_note(cfd));
            return;
        }
        say("read() = %zd bytes%s", n, tcp_note(cfd));
        upcase(buf, (size_t)n);
        if (write_all(cfd, buf, (size_t)n) == -1) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)   /* SO_SNDTIMEO: not read */
                say("write() = -1: %s (not read for %d s): client dropped%s",
                    strerror(errno), timeout, tcp_note(cfd));
            else   /* EPIPE, ECONNRESET */
                say("write() = -1: %s%s", strerror(errno), tcp_note(cfd));
            return;
        }
        say("write() = %zd bytes%s", n, tcp_note(cfd));
    }
}
