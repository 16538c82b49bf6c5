/* lab.c - narration, error exits, the command lines, the test's header,
 * the byte pattern, the responder of a pipe or a socketpair, and the
 * figures, for lab 11 (see lab.h). The sections marked "canonical" are the
 * course's one text of each (tests/canonical.c), the same in every lab
 * that has them. */

/* struct tcp_info in <netinet/tcp.h> is a Linux extension, hidden under
 * -D_POSIX_C_SOURCE; _DEFAULT_SOURCE shows it (feature_test_macros(7)). */
#define _DEFAULT_SOURCE
#include "lab.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

const char *prog = "lab11";

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
static int signal_fd = -1;
static void on_exit_signal(int sig)
{
    (void)sig;
    (void)close(signal_fd);   /* the kernel would, at exit; valgrind --track-fds sees it closed */
    if (write(2, goodbye, strlen(goodbye)) == -1)
        _exit(1);
    _exit(0);
}

void exit_on_signals(int fd)
{
    snprintf(goodbye, sizeof goodbye, "[%s] signal: exit 0\n", prog);
    signal_fd = fd;
    /* sigaction(2), not signal(): under -D_POSIX_C_SOURCE, glibc's signal()
     * resets the handler on entry, so a second signal would kill us. */
    struct sigaction sa = { .sa_handler = on_exit_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* A decimal number from min to max, digits only; anything else (empty, a
 * sign, a space, a letter, too large) is a usage error naming what. */
static long long number(const char *usage, const char *what, const char *s,
                        long long min, long long max)
{
    size_t len = strlen(s);
    if (len == 0 || len > 15 || strspn(s, "0123456789") != len)
        usage_error(usage, "bad %s '%s' (digits only, %lld to %lld)", what, s, min, max);
    long long n = strtoll(s, NULL, 10);
    if (n < min || n > max)
        usage_error(usage, "bad %s '%s' (digits only, %lld to %lld)", what, s, min, max);
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

static const struct { const char *name; enum kind kind; int family, type; } kinds[] = {
    { "pipe", T_PIPE, 0, 0 },
    { "socketpair", T_SOCKETPAIR, AF_UNIX, SOCK_STREAM },
    { "unix", T_UNIX, AF_UNIX, SOCK_STREAM },
    { "tcp", T_TCP, AF_INET, SOCK_STREAM },
    { "tcp-nodelay", T_TCP_NODELAY, AF_INET, SOCK_STREAM },
    { "udp", T_UDP, AF_INET, SOCK_DGRAM },
};

/* TRANSPORT and its ADDRESS, argv[0] and argv[1] (argc of them, 0 to 2);
 * min_port: 0 for the server (any free port), 1 for the client. */
static void parse_transport(int argc, char *argv[], const char *usage, struct transport *t,
                            long long min_port)
{
    memset(t, 0, sizeof *t);
    t->rfd = t->wfd = -1;
    if (argc == 0)
        usage_error(usage, "TRANSPORT is needed (pipe, socketpair, unix, tcp, tcp-nodelay, udp)");
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(argv[0], kinds[i].name) == 0) {
            t->name = kinds[i].name;
            t->kind = kinds[i].kind;
            t->family = kinds[i].family;
            t->type = kinds[i].type;
        }
    }
    if (t->name == NULL)
        usage_error(usage, "unknown TRANSPORT '%s' (pipe, socketpair, unix, tcp, tcp-nodelay, udp)",
                    argv[0]);
    if (t->kind == T_PIPE || t->kind == T_SOCKETPAIR) {
        if (argc > 1)
            usage_error(usage, "%s takes no address: the client starts its responder", t->name);
        return;
    }
    if (argc > 2)
        usage_error(usage, "too many arguments");
    if (t->kind == T_UNIX) {
        const char *path = argc > 1 ? argv[1] : DEFAULT_PATH;
        if (path[0] == '\0' || strlen(path) >= sizeof t->un.sun_path)
            usage_error(usage, "bad PATH '%s' (1 to %zu bytes)", path, sizeof t->un.sun_path - 1);
        t->un.sun_family = AF_UNIX;
        memcpy(t->un.sun_path, path, strlen(path) + 1);
        t->len = sizeof t->un;
        snprintf(t->where, sizeof t->where, "%s", path);
        snprintf(t->shown, sizeof t->shown, "\"%s\"", path);
        return;
    }
    long long port = argc > 1 ? number(usage, "PORT", argv[1], min_port, 65535) : DEFAULT_PORT;
    t->in.sin_family = AF_INET;
    t->in.sin_port = htons((unsigned short)port);
    t->in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);   /* 127.0.0.1: this machine only */
    t->len = sizeof t->in;
    snprintf(t->where, sizeof t->where, "127.0.0.1:%lld", port);
    snprintf(t->shown, sizeof t->shown, "127.0.0.1:%lld", port);
}

/* An inherited descriptor's number, for the server of a pipe or a socketpair. */
static int fd_arg(const char *usage, const char *s)
{
    return (int)number(usage, "FD", s, 3, INT_MAX);
}

void parse_server_args(int argc, char *argv[], const char *usage,
                       struct transport *t, int *timeout)
{
    int c;
    help(argc, argv, usage);
    *timeout = DEFAULT_TIMEOUT;
    opterr = 0;   /* getopt(3) stays quiet: the messages are ours */
    while ((c = getopt(argc, argv, ":t:")) != -1) {
        switch (c) {
        case 't': *timeout = (int)number(usage, "SECONDS", optarg, 0, 86400); break;
        case ':': usage_error(usage, "-%c needs a value", optopt);
        default: usage_error(usage, "unknown option '-%c'", optopt);
        }
    }
    argc -= optind;
    argv += optind;
    /* pipe RFD WFD and socketpair FD: what the client's fork and exec pass. */
    if (argc > 0 && strcmp(argv[0], "pipe") == 0 && argc == 3) {
        parse_transport(1, argv, usage, t, 0);
        t->rfd = fd_arg(usage, argv[1]);
        t->wfd = fd_arg(usage, argv[2]);
        struct stat st;
        if (fstat(t->rfd, &st) == -1 || !S_ISFIFO(st.st_mode) ||
            fstat(t->wfd, &st) == -1 || !S_ISFIFO(st.st_mode))
            usage_error(usage, "fds %d and %d are not both open pipes (the client passes them)",
                        t->rfd, t->wfd);
        return;
    }
    if (argc > 0 && strcmp(argv[0], "socketpair") == 0 && argc == 2) {
        parse_transport(1, argv, usage, t, 0);
        t->rfd = t->wfd = fd_arg(usage, argv[1]);
        int type = 0;
        socklen_t len = sizeof type;
        /* SO_TYPE (socket(7)): EBADF if fd is not open, ENOTSOCK if no socket. */
        if (getsockopt(t->rfd, SOL_SOCKET, SO_TYPE, &type, &len) == -1 || type != SOCK_STREAM)
            usage_error(usage, "fd %d is no open stream socket (the client passes it)", t->rfd);
        return;
    }
    if (argc > 0 && (strcmp(argv[0], "pipe") == 0 || strcmp(argv[0], "socketpair") == 0))
        usage_error(usage, "%s needs its inherited descriptors: the client starts it", argv[0]);
    parse_transport(argc, argv, usage, t, 0);
}

/* The client's options for getopt(3); the leading ':' makes a missing
 * value ':', not '?'. */
#define CLIENT_OPTIONS ":m:n:s:w:b:"

static const char *const modes[] = { "rtt", "nagle", "bulk", "conn" };

const char *mode_name(enum mode m)
{
    return modes[m];
}

void parse_client_args(int argc, char *argv[], const char *usage,
                       struct transport *t, struct test *x)
{
    int c, mode = -1;
    long long n = -1, size = -1, warmup = -1;
    help(argc, argv, usage);
    memset(x, 0, sizeof *x);
    x->bytes = 256LL << 20;   /* 256 MiB */
    opterr = 0;
    while ((c = getopt(argc, argv, CLIENT_OPTIONS)) != -1) {
        switch (c) {
        case 'm':
            for (int i = 0; i < 4; i++)
                if (strcmp(optarg, modes[i]) == 0)
                    mode = i;
            if (mode == -1)
                usage_error(usage, "unknown MODE '%s' (rtt, nagle, bulk, conn)", optarg);
            break;
        case 'n': n = number(usage, "N", optarg, 1, MAX_N); break;
        case 's': size = number(usage, "SIZE", optarg, 1, MAX_SIZE); break;
        case 'w': warmup = number(usage, "WARMUP", optarg, 0, MAX_N); break;
        case 'b': x->bytes = number(usage, "BYTES", optarg, 1, MAX_BYTES); break;
        case ':': usage_error(usage, "-%c needs a value", optopt);
        default: usage_error(usage, "unknown option '-%c'", optopt);
        }
    }
    parse_transport(argc - optind, argv + optind, usage, t, 1);
    x->mode = mode == -1 ? RTT : (enum mode)mode;
    /* conn: one byte each way, nothing for Nagle's algorithm to hold. */
    x->nodelay = t->kind == T_TCP_NODELAY && x->mode != CONN;
    /* The defaults: about a tenth of a second of each test on this machine,
     * a tenth of the rounds more to warm up (caches, the CPU's clock, the
     * scheduler's choice of cores). bulk's warm-up counts writes of CHUNK. */
    static const long defaults[] = { 10000, 20, 1, 2000 };
    x->n = n != -1 ? (long)n : defaults[x->mode];
    x->size = size != -1 ? (size_t)size : x->mode == NAGLE ? 100 : 1;
    x->warmup = warmup != -1 ? (long)warmup : x->mode == BULK ? 256 : x->n / 10 > 0 ? x->n / 10 : 1;
    if (t->kind == T_UDP && x->mode != RTT)
        usage_error(usage, "udp: round trips only (-m rtt): no stream, no connection");
    if (x->mode == CONN && t->kind != T_UNIX && t->kind != T_TCP && t->kind != T_TCP_NODELAY)
        usage_error(usage, "-m conn: unix, tcp and tcp-nodelay only (a %s has no connect())", t->name);
    if (t->kind == T_UDP && x->size > 65507)
        usage_error(usage, "bad SIZE '%zu' (udp: 1 to 65507, an IPv4 datagram's most)", x->size);
    if (x->mode == NAGLE && x->size < 3)
        usage_error(usage, "bad SIZE '%zu' (nagle: 3 or more: 2 bytes, then the rest)", x->size);
}

void make_header(char *hdr, const struct test *x)
{
    long long count = x->mode == BULK ? x->bytes : x->warmup + x->n;
    int n = snprintf(hdr, HDR_SIZE, "%s %zu %lld %d", mode_name(x->mode), x->size, count,
                     x->nodelay);
    memset(hdr + n, ' ', (size_t)(HDR_SIZE - n));   /* and no NUL: a fixed size */
    hdr[HDR_SIZE - 1] = '\n';
}

/* The next decimal field of the header at *p, after its spaces, into *v;
 * *p moves past it. Returns 0, or -1 when there is none. */
static int field(char **p, long long *v)
{
    char *end;
    while (**p == ' ')
        (*p)++;
    if (**p < '0' || **p > '9')
        return -1;
    errno = 0;
    *v = strtoll(*p, &end, 10);
    if (errno != 0 || (*end != ' ' && *end != '\n'))
        return -1;
    *p = end;
    return 0;
}

int parse_header(const char *hdr, struct test *x)
{
    char text[HDR_SIZE + 1], *p = text;
    long long size = 0, count = 0, nodelay = 0;
    int mode = -1;
    memcpy(text, hdr, HDR_SIZE);
    text[HDR_SIZE] = '\0';
    memset(x, 0, sizeof *x);
    size_t w = strcspn(text, " \n");   /* the mode's word */
    for (int i = 0; i < 4; i++)
        if (strlen(modes[i]) == w && strncmp(text, modes[i], w) == 0)
            mode = i;
    p += w;
    if (text[HDR_SIZE - 1] != '\n' || mode == -1 || field(&p, &size) == -1 ||
        field(&p, &count) == -1 || field(&p, &nodelay) == -1)
        return -1;
    if (size < 1 || size > MAX_SIZE || count < 1 || (mode != BULK && count > 2LL * MAX_N) ||
        (mode == BULK && count > MAX_BYTES))
        return -1;   /* what our client can ask for, no more: a peer chose these */
    x->mode = (enum mode)mode;
    x->size = (size_t)size;
    x->bytes = count;
    x->n = mode == BULK ? 0 : (long)count;
    x->nodelay = nodelay != 0;
    return 0;
}

void send_header(int fd, const char *hdr, const char *note)
{
    size_t n = HDR_SIZE - 1;   /* the text without its padding and newline */
    while (n > 0 && hdr[n - 1] == ' ')
        n--;
    if (write_all(fd, hdr, HDR_SIZE) == -1)
        lost_peer("write", -1, 0, 0);
    say("write() = %d bytes: the header \"%.*s\"%s", HDR_SIZE, (int)n, hdr, note);
}

void fill_pattern(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i % PERIOD);
}

unsigned char *pattern(size_t n)
{
    unsigned char *p = malloc(n + PERIOD);
    if (p == NULL)
        fail("malloc %zu", n + PERIOD);
    fill_pattern(p, n + PERIOD);
    return p;
}

ssize_t read_full(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r == -1 && errno == EINTR)
            continue;
        if (r == -1)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

long long elapsed_ns(const struct timespec *a, const struct timespec *b)
{
    return (b->tv_sec - a->tv_sec) * 1000000000LL + (b->tv_nsec - a->tv_nsec);
}

int compare_ns(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* Where ./server is: next to this program, argv0's directory; "./server"
 * when argv0 has no '/' (found on $PATH: run it from its directory). */
static void server_path(const char *argv0, char *out, size_t size)
{
    const char *slash = strrchr(argv0, '/');
    if (slash == NULL)
        snprintf(out, size, "./server");
    else
        snprintf(out, size, "%.*s/server", (int)(slash - argv0), argv0);
}

pid_t spawn_responder(struct transport *t, const char *argv0)
{
    int mine[2] = { -1, -1 }, theirs[2] = { -1, -1 };   /* [0] read, [1] write */
    char path[PATH_MAX], a1[16], a2[16];
    server_path(argv0, path, sizeof path);
    if (t->kind == T_PIPE) {
        /* A pipe goes one way (pipe(7)): one for each direction. The client
         * writes into the first and reads from the second. */
        int up[2], down[2];
        if (pipe(up) == -1 || pipe(down) == -1)
            fail("pipe");
        say("pipe() = fds %d, %d; pipe() = fds %d, %d", up[0], up[1], down[0], down[1]);
        mine[0] = down[0], mine[1] = up[1];
        theirs[0] = up[0], theirs[1] = down[1];
    } else {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
            fail("socketpair");
        say("socketpair(AF_UNIX, SOCK_STREAM) = fds %d, %d", sv[0], sv[1]);
        mine[0] = mine[1] = sv[0];
        theirs[0] = theirs[1] = sv[1];
    }
    snprintf(a1, sizeof a1, "%d", theirs[0]);
    snprintf(a2, sizeof a2, "%d", theirs[1]);
    pid_t pid = fork();
    if (pid == -1)
        fail("fork");
    if (pid == 0) {
        /* The child keeps only its ends: ours closed here, so that the
         * responder sees EOF when the client closes them (lab 02). */
        prog = "child";
        if (close(mine[0]) == -1 || (mine[1] != mine[0] && close(mine[1]) == -1))
            fail("close");
        if (t->kind == T_PIPE)
            execl(path, "server", "pipe", a1, a2, (char *)NULL);
        else
            execl(path, "server", "socketpair", a1, (char *)NULL);
        fail("execl %s", path);   /* exec returns only when it failed */
    }
    if (t->kind == T_PIPE)
        say("fork() = %ld: the child runs %s pipe %s %s", (long)pid, path, a1, a2);
    else
        say("fork() = %ld: the child runs %s socketpair %s", (long)pid, path, a1);
    if (close(theirs[0]) == -1 || (theirs[1] != theirs[0] && close(theirs[1]) == -1))
        fail("close");
    t->rfd = mine[0];
    t->wfd = mine[1];
    return pid;
}

void reap_responder(pid_t pid)
{
    int status = 0;
    pid_t waited;
    do
        waited = waitpid(pid, &status, 0);
    while (waited == -1 && errno == EINTR);
    if (waited == -1)
        fail("waitpid %ld", (long)pid);
    if (WIFSIGNALED(status))
        failx("the server was killed by signal %d", WTERMSIG(status));
    if (WEXITSTATUS(status) != 0)
        failx("the server exited with status %d", WEXITSTATUS(status));
    say("waitpid(%ld) = %ld: exited with status 0", (long)pid, (long)waited);
}

void lost_peer(const char *call, ssize_t r, long round, long rounds)
{
    char where[64] = "";
    if (rounds > 0)   /* bulk and the header: no rounds to name */
        snprintf(where, sizeof where, " in round %ld of %ld", round + 1, rounds);
    if (r >= 0)   /* read() = 0: the end of the stream, in the middle of a test */
        failx("%s: the server closed the connection (killed?)%s", call, where);
    if (errno == EAGAIN || errno == EWOULDBLOCK)   /* SO_RCVTIMEO: udp's bound */
        failx("%s: no reply in 1 s (a datagram lost, or no server)%s", call, where);
    fail("%s%s", call, where);   /* EPIPE, ECONNRESET... */
}

void print_rtt(const struct transport *t, const struct test *x,
               long long median, long long p99, long long min)
{
    const char *label = mode_name(x->mode);
    printf("%s %s size=%zu n=%ld median_us=%.2f p99_us=%.2f min_us=%.2f\n", label, t->name,
           x->size, x->n, (double)median / 1e3, (double)p99 / 1e3, (double)min / 1e3);
    if (fflush(stdout) == EOF)
        fail("write stdout");
}

void print_bulk(const struct transport *t, long long bytes, long long ns)
{
    double s = (double)ns / 1e9;
    printf("bulk %s bytes=%lld write=%d seconds=%.6f gib_s=%.3f\n", t->name, bytes, CHUNK, s,
           (double)bytes / s / (1024.0 * 1024 * 1024));
    if (fflush(stdout) == EOF)
        fail("write stdout");
}

void print_conn(const struct transport *t, long n, long long ns)
{
    double s = (double)ns / 1e9;
    printf("conn %s n=%ld seconds=%.6f per_s=%.0f\n", t->name, n, s, (double)n / s);
    if (fflush(stdout) == EOF)
        fail("write stdout");
}

const char *tcp_note(int fd)
{
    /* The kernel's names, in the kernel's order (include/net/tcp_states.h). */
    static const char *const names[] = {
        "?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
        "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
    };
    static char note[40];
    struct tcp_info info;
    socklen_t len = sizeof info;
    int saved = errno, type = 0;   /* narration must not change the errno it reports */
    socklen_t tlen = sizeof type;
    struct sockaddr_storage me;
    socklen_t mlen = sizeof me;
    note[0] = '\0';
    memset(&info, 0, sizeof info);
    /* TCP_INFO (Linux-specific, tcp(7)): only for a TCP socket. */
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == 0 && type == SOCK_STREAM &&
        getsockname(fd, (struct sockaddr *)&me, &mlen) == 0 && me.ss_family == AF_INET &&
        getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0 &&
        info.tcpi_state < sizeof names / sizeof names[0])
        snprintf(note, sizeof note, "  state=%s", names[info.tcpi_state]);
    errno = saved;
    return note;
}

/* "AF_UNIX", "AF_INET"; "SOCK_STREAM", "SOCK_DGRAM": for the narration. */
const char *family_name(int family)
{
    return family == AF_UNIX ? "AF_UNIX" : family == AF_INET ? "AF_INET" : "AF_?";
}

const char *type_name(int type)
{
    return type == SOCK_STREAM ? "SOCK_STREAM" : type == SOCK_DGRAM ? "SOCK_DGRAM" : "SOCK_?";
}

int drain(int fd, long long bytes, const unsigned char *pat)
{
    static unsigned char buf[CHUNK];
    int intact = 1;
    for (long long off = 0; off < bytes;) {
        size_t want = bytes - off < CHUNK ? (size_t)(bytes - off) : CHUNK;
        ssize_t r = read(fd, buf, want);
        if (r == -1 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;   /* errno set; 0: the end of the stream, errno left as it was */
        /* Every byte checked, where it falls in the stream: pat holds CHUNK
         * + PERIOD bytes of the pattern. */
        if (intact && memcmp(buf, pat + off % PERIOD, (size_t)r) != 0)
            intact = 0;
        off += r;
    }
    return intact;
}

int send_request(int fd, const unsigned char *msg, const struct test *x)
{
    if (x->mode != NAGLE)
        return write_all(fd, (const char *)msg, x->size);
    /* The request in two write()s, as a program that writes a header, then
     * a body, does: the first part, 2 bytes, leaves at once; with Nagle's
     * algorithm (tcp(7), RFC 896) the second waits until the first is
     * acknowledged, and the receiver delays that ACK (RFC 1122 4.2.3.2)
     * hoping to send it with its reply, which waits for the second part. */
    if (write_all(fd, (const char *)msg, 2) == -1)
        return -1;
    return write_all(fd, (const char *)msg + 2, x->size - 2);
}

void serve_datagrams(int fd, const struct sockaddr_in *me)
{
    static char buf[65536];
    struct sockaddr_in from, last = { 0 };
    for (;;) {
        socklen_t len = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &len);
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1)
            fail("recvfrom");
        /* Never trust an address a peer chose: a datagram "from" our own
         * address would have us answer ourselves for ever. */
        if (from.sin_port == me->sin_port && from.sin_addr.s_addr == me->sin_addr.s_addr)
            continue;
        if (from.sin_port != last.sin_port || from.sin_addr.s_addr != last.sin_addr.s_addr)
            say("recvfrom() = %zd bytes from port %u: a new client", n, ntohs(from.sin_port));
        last = from;
        /* MSG_DONTWAIT: a reply that cannot go at once is dropped, never
         * waited for (the client's 1 s bound sees the loss). */
        if (sendto(fd, buf, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&from, len) == -1)
            say("sendto() = -1: %s: reply dropped", strerror(errno));
    }
}

void say_test(const struct test *x, int accepted)
{
    if (accepted != -1)
        say("accept() = fd %d%s", accepted, tcp_note(accepted));
    if (x->mode == BULK)   /* a bulk test counts bytes, the others round trips */
        say("read() = %d bytes: bulk bytes=%lld nodelay=%d", HDR_SIZE, x->bytes, x->nodelay);
    else
        say("read() = %d bytes: %s size=%zu count=%lld nodelay=%d", HDR_SIZE, mode_name(x->mode),
            x->size, x->bytes, x->nodelay);
}

int answer(int rfd, int wfd, const struct test *x, const unsigned char *pat)
{
    errno = 0;
    int intact = x->mode == CONN ? 1 : drain(rfd, x->bytes, pat);
    if (intact == -1 || write_all(wfd, intact ? "=" : "!", 1) == -1) {
        say("%s: %s: client dropped", mode_name(x->mode),
            errno ? strerror(errno) : "the stream ended early");
        return -1;
    }
    if (x->mode == BULK)
        say("bulk: %lld bytes read, %s", x->bytes, intact ? "intact" : "NOT as sent");
    return 0;
}

void local_name(int fd, struct transport *t)
{
    if (getsockname(fd, &t->sa, &t->len) == -1)
        fail("getsockname");
    snprintf(t->where, sizeof t->where, "127.0.0.1:%u", ntohs(t->in.sin_port));
    snprintf(t->shown, sizeof t->shown, "%s", t->where);
}

void delay_acks(int fd)
{
    /* Linux delays ACKs by its own guess, which changes with its version
     * (quick at first, then "pingpong" mode after 1 or 3 replies, left when
     * the ACK timer fires); asked for after each reply (tcp(7),
     * TCP_QUICKACK 0), they are delayed on every version. */
    int zero = 0;
    if (setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof zero) == -1)
        say("setsockopt(TCP_QUICKACK, 0) = -1: %s", strerror(errno));
}

void push_tail(const struct transport *t, int fd)
{
    /* TCP_NODELAY on "forces an explicit flush of pending output" (tcp(7));
     * off again, the next transfer is Nagle's as before. (TCP_CORK, or a
     * shutdown(SHUT_WR) when nothing more is to be sent, push it too.) */
    int on = 1, off = 0;
    if (t->kind != T_TCP)
        return;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) == -1 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &off, sizeof off) == -1)
        fail("setsockopt TCP_NODELAY");
}
