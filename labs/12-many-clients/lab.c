/* lab.c - narration, error exits, argument parsing, the server's socket
 * file and signals, the clock, and byte shuffling for lab 12 (see lab.h).
 * The sections marked "canonical" are the course's one text of each
 * (tests/canonical.c), the same in every lab that has them. */
/* NI_MAXHOST and NI_MAXSERV in <netdb.h> are hidden under
 * -D_POSIX_C_SOURCE; _DEFAULT_SOURCE shows them (feature_test_macros(7)). */
#define _DEFAULT_SOURCE
#include "lab.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *prog = "lab12";

/* ADDR_STRLEN (lab.h) holds the longest host and port getnameinfo(3) may
 * write (NI_MAXHOST and NI_MAXSERV count their NUL), "[]:" and one NUL. */
_Static_assert(ADDR_STRLEN >= sizeof "[]:" + (NI_MAXHOST - 1) + (NI_MAXSERV - 1),
               "ADDR_STRLEN is too small");
/* A reply (a whole line and its newline) always fits in an empty queue. */
_Static_assert(OUT_MAX > MAX_LINE + 1, "OUT_MAX is too small");

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

volatile sig_atomic_t stopping;
static int wake = -1;   /* the pipe's write end: the handler's one call */

/* Async-signal-safe (signal-safety(7)): a flag of type sig_atomic_t and
 * write(); errno saved, since the code the signal interrupted may be
 * about to read it. The pipe never blocks: a full pipe already wakes. */
static void on_stop_signal(int sig)
{
    int saved = errno;
    (void)sig;
    stopping = 1;
    if (write(wake, "", 1) == -1) {
        /* EAGAIN: the pipe is full, poll() will wake anyway */
    }
    errno = saved;
}

void catch_signals(int wake_fd)
{
    wake = wake_fd;
    /* sigaction(2), not signal(): under -D_POSIX_C_SOURCE, glibc's signal()
     * resets the handler on entry, so a second signal would kill us. No
     * SA_RESTART: poll() is never restarted anyway (signal(7)). */
    struct sigaction sa = { .sa_handler = on_stop_signal };
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) == -1 || sigaction(SIGTERM, &sa, NULL) == -1)
        fail("sigaction");
}

long long now_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
        fail("clock_gettime");
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A decimal number from min to max, digits only; anything else (empty,
 * a sign, a space, a letter, too large) is a usage error. */
static long number(const char *usage, const char *what, const char *s,
                   long min, long max)
{
    size_t len = strlen(s);
    if (len == 0 || len > 9 || strspn(s, "0123456789") != len)
        usage_error(usage, "bad %s '%s' (digits only, %ld to %ld)", what, s, min, max);
    long n = strtol(s, NULL, 10);
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

/* A Unix socket path into addr, or a usage error: sun_path holds at most
 * 107 bytes and its NUL (unix(7)). */
static void unix_path(const char *usage, const char *what, const char *path,
                      struct sockaddr_un *addr)
{
    size_t len = strlen(path);
    if (len == 0)
        usage_error(usage, "%s: the socket path is empty", what);
    if (len >= sizeof addr->sun_path)
        usage_error(usage, "%s: socket path is %zu bytes; sun_path holds at most %zu",
                    what, len, sizeof addr->sun_path - 1);
    memset(addr, 0, sizeof *addr);
    addr->sun_family = AF_UNIX;
    memcpy(addr->sun_path, path, len + 1);
}

/* The server's options for getopt(3); the leading ':' makes a missing
 * value ':', not '?'. */
#define SERVER_OPTIONS ":b:u:t:c:"

void parse_server_args(int argc, char *argv[], const char *usage,
                       struct server_args *a)
{
    int c;
    help(argc, argv, usage);
    memset(a, 0, sizeof *a);
    a->host = DEFAULT_HOST;
    a->port = DEFAULT_PORT;
    a->idle = DEFAULT_IDLE;
    a->max = DEFAULT_MAX;
    opterr = 0;   /* getopt(3) stays quiet: the messages are ours */
    while ((c = getopt(argc, argv, SERVER_OPTIONS)) != -1) {
        switch (c) {
        case 'b': a->host = optarg; break;
        case 'u': a->upath = optarg; unix_path(usage, "-u", optarg, &a->uaddr); break;
        case 't': a->idle = (int)number(usage, "SECONDS", optarg, 0, 86400); break;
        case 'c': a->max = (int)number(usage, "MAX", optarg, 1, MAX_CLIENTS); break;
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

/* -i SECONDS: digits, and at most three after a point (0.005: 5 ms),
 * 0 to 3600. Returns milliseconds. */
static long pause_ms(const char *usage, const char *s)
{
    size_t whole = strspn(s, "0123456789"), frac = 0;
    if (s[whole] == '.')
        frac = strspn(s + whole + 1, "0123456789");
    size_t len = whole + (s[whole] == '.') + frac;
    if (whole == 0 || whole > 4 || (s[whole] == '.' && (frac == 0 || frac > 3)) || s[len] != '\0')
        usage_error(usage, "bad SECONDS '%s' (0 to 3600, at most 3 decimals: 0.005)", s);
    long ms = strtol(s, NULL, 10) * 1000;
    for (size_t i = 0, scale = 100; i < frac; i++, scale /= 10)
        ms += (long)(s[whole + 1 + i] - '0') * (long)scale;
    if (ms > 3600L * 1000)
        usage_error(usage, "bad SECONDS '%s' (0 to 3600, at most 3 decimals: 0.005)", s);
    return ms;
}

/* The client's options for getopt(3). */
#define CLIENT_OPTIONS ":i:"

void parse_client_args(int argc, char *argv[], const char *usage, struct client_args *a)
{
    int c;
    help(argc, argv, usage);
    memset(a, 0, sizeof *a);
    opterr = 0;
    while ((c = getopt(argc, argv, CLIENT_OPTIONS)) != -1) {
        switch (c) {
        case 'i': a->pause_ms = pause_ms(usage, optarg); break;
        case ':': usage_error(usage, "-%c needs a value", optopt);
        default: usage_error(usage, "unknown option '-%c'", optopt);
        }
    }
    int left = argc - optind;
    if (left == 0)
        usage_error(usage, "HOST PORT, or PATH, is needed");
    if (left > 2)
        usage_error(usage, "too many arguments");
    if (left == 1 && strchr(argv[optind], '/') == NULL)
        usage_error(usage, "PORT is needed (or a PATH with a '/': ./x.sock)");
    if (left == 1) {
        unix_path(usage, "PATH", argv[optind], &a->uaddr);
        return;
    }
    a->host = argv[optind];
    a->port = argv[optind + 1];
    number(usage, "PORT", a->port, 1, 65535);
}

void format_addr(const struct sockaddr *sa, socklen_t len, char *out)
{
    char host[NI_MAXHOST], port[NI_MAXSERV];   /* getnameinfo(3)'s sizes */
    /* getnameinfo(3) is getaddrinfo backwards; NI_NUMERIC* asks for
     * numbers, not names, so it never waits for DNS. */
    int rc = getnameinfo(sa, len, host, sizeof host, port, sizeof port,
                         NI_NUMERICHOST | NI_NUMERICSERV);
    if (sa->sa_family == AF_UNIX)
        snprintf(out, ADDR_STRLEN, "a Unix peer");   /* unnamed, as clients are */
    else if (rc != 0)
        snprintf(out, ADDR_STRLEN, "(getnameinfo: %s)", gai_strerror(rc));
    else if (sa->sa_family == AF_INET6)
        snprintf(out, ADDR_STRLEN, "[%s]:%s", host, port);   /* the colons need brackets */
    else
        snprintf(out, ADDR_STRLEN, "%s:%s", host, port);
}

void gai_failed(const char *usage, int gai, const char *what, const char *host,
                const char *hint)
{
    if (gai == EAI_NONAME)
        usage_error(usage, "bad %s '%s' %s", what, host, hint);
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

/* A listening socket, non-blocking, as in labs 05 and 01 (a socket file:
 * locked, born srwx------, a stale one replaced, removed at exit). */
int listener(int family, const struct sockaddr *sa, socklen_t len, const char *shown)
{
    int one = 1, fd = socket(family, SOCK_STREAM, 0);
    if (fd == -1)
        fail("socket");
    say("socket(%s, SOCK_STREAM) = fd %d", family_name(family), fd);
    if (family != AF_UNIX && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1)
        fail("setsockopt SO_REUSEADDR");
    if (family == AF_UNIX) {
        lock_socket_path(shown);
        umask(077);
    }
    int rc = bind(fd, sa, len);
    if (rc == -1 && errno == EADDRINUSE && family == AF_UNIX) {
        replace_stale_socket((const struct sockaddr_un *)sa, SOCK_STREAM);   /* or exit 1 */
        rc = bind(fd, sa, len);
    }
    if (rc == -1)
        fail("bind %s", shown);
    if (family == AF_UNIX)
        own_socket_file(fd);
    say("bind(%s) = 0", shown);
    if (listen(fd, BACKLOG) == -1)
        fail("listen");
    say("listen(backlog=%d) = 0", BACKLOG);
    /* poll() may say "a connection waits" and the client be gone by
     * accept(): a listener that never blocks then says EAGAIN (accept(2)). */
    if (set_nonblocking(fd) == -1)
        fail("fcntl");
    return fd;
}
