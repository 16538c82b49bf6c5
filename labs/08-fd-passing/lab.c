/* lab.c - narration, error exits, the socket file, arguments and the
 * checks of a requested name for lab 08 (see lab.h). */
/* struct ucred and SCM_CREDENTIALS, MSG_CMSG_CLOEXEC: Linux-specific. */
#define _GNU_SOURCE
#include "lab.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

const char *prog = "lab08";

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

/* SIGINT, SIGTERM with an abstract name: close, one line, exit 0. */
static int abstract_fd = -1;
static char bye_abstract[64];

static void on_signal_abstract(int sig)
{
    (void)sig;
    (void)close(abstract_fd);
    if (write(2, bye_abstract, strlen(bye_abstract)) == -1)
        _exit(1);
    _exit(0);
}

/* The handler installed before close_on_signals(), called after it. */
static struct sigaction chained;
static int also_fd = -1;

static void close_then_chain(int sig)
{
    (void)close(also_fd);
    if (chained.sa_handler != SIG_DFL && chained.sa_handler != SIG_IGN)
        chained.sa_handler(sig);
    _exit(0);
}

void close_on_signals(int fd)
{
    also_fd = fd;
    struct sigaction sa = { .sa_handler = close_then_chain };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, &chained);
    sigaction(SIGINT, &sa, NULL);
}

void exit_on_signals(int lfd)
{
    abstract_fd = lfd;
    snprintf(bye_abstract, sizeof bye_abstract, "[%s] signal: close(fd %d), exit 0\n", prog, lfd);
    struct sigaction sa = { .sa_handler = on_signal_abstract };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

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

/* == canonical: option == */
/* The value of option argv[i], a number from min to max in base (8 for a
 * mode, 10 else); anything else is a usage error naming what was wanted. */
static long option_value(const char *usage, char *argv[], int i, const char *want,
                         int base, long min, long max)
{
    char *end;
    if (argv[i + 1] == NULL)
        usage_error(usage, "%s needs a value (%s)", argv[i], want);
    long v = strtol(argv[i + 1], &end, base);
    if (argv[i + 1][0] == '\0' || *end != '\0' || v < min || v > max)
        usage_error(usage, "bad %s '%s' (%s)", argv[i], argv[i + 1], want);
    return v;
}
/* == end canonical: option == */

/* -a UID[,UID...]: each a number from 0 to 4294967294 ((uid_t)-1 is no
 * user: chown(2) takes it to mean "unchanged"). */
static void parse_uids(const char *usage, const char *list, struct args *a)
{
    const char *p = list;
    for (;;) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || (*end != ',' && *end != '\0') || errno != 0 ||
            v < 0 || v > 4294967294L || a->nuids == MAX_UIDS)
            usage_error(usage, "bad -a '%s' (UID[,UID...]: at most %d, each 0 to 4294967294)",
                        list, MAX_UIDS);
        a->uids[a->nuids++] = v;
        if (*end == '\0')
            return;
        p = end + 1;
    }
}

void parse_args(int argc, char *argv[], const char *usage, int server, struct args *a)
{
    const char *path = DEFAULT_PATH;
    int i = 1;

    memset(a, 0, sizeof *a);
    a->mode = -1;
    a->timeout = DEFAULT_TIMEOUT;
    a->control = -1;
    for (int j = 1; j < argc; j++) {
        if (strcmp(argv[j], "-h") == 0 || strcmp(argv[j], "--help") == 0) {
            fputs(usage, stdout);
            exit(0);
        }
    }
    for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i += 2) {
        if (server && strcmp(argv[i], "-m") == 0)
            a->mode = option_value(usage, argv, i, "MODE: octal, 0 to 0777", 8, 0, 0777);
        else if (server && strcmp(argv[i], "-a") == 0 && argv[i + 1] == NULL)
            usage_error(usage, "-a needs a value (UID[,UID...])");
        else if (server && strcmp(argv[i], "-a") == 0)
            parse_uids(usage, argv[i + 1], a);
        else if (server && strcmp(argv[i], "-o") == 0)
            a->offset = option_value(usage, argv, i, "OFFSET: bytes, 0 to 1073741824", 10, 0, 1L << 30);
        else if (server && strcmp(argv[i], "-t") == 0)
            a->timeout = option_value(usage, argv, i, "SECONDS: 0 to 86400", 10, 0, 86400);
        else if (!server && strcmp(argv[i], "-c") == 0)
            a->control = option_value(usage, argv, i, "BYTES: 0 to 256", 10, 0, MAX_CONTROL);
        else
            usage_error(usage, "unknown option '%s'", argv[i]);
    }
    if (argc - i == 2)
        path = argv[i++];
    if (argc - i != 1)
        usage_error(usage, argc - i < 1 ? "%s is missing" : "too many arguments (%s last)",
                    server ? "DIR" : "NAME");
    if (server)
        a->dir = argv[i];
    else
        a->name = argv[i];
    if (!server && strlen(a->name) > 4096)
        usage_error(usage, "NAME is %zu bytes; the client sends at most 4096", strlen(a->name));

    /* PATH, or @NAME: unix(7), "Address format". A path fills sun_path
     * with its closing NUL, and the length given is the whole structure;
     * an abstract name begins with a NUL byte and has no closing one: the
     * length given ends it, and strace shows it as @"NAME". */
    size_t len = strlen(path);
    a->abstract = path[0] == '@';
    a->shown = path;
    if (len == 0 || (a->abstract && len == 1))
        usage_error(usage, "the socket path is empty");
    if (a->abstract && a->mode != -1)
        usage_error(usage, "-m: an abstract name has no file, and no mode");
    if (len >= sizeof a->addr.sun_path)
        usage_error(usage, "socket path is %zu bytes; sun_path holds at most %zu",
                    len, sizeof a->addr.sun_path - 1);
    a->addr.sun_family = AF_UNIX;
    if (a->abstract) {
        memcpy(a->addr.sun_path + 1, path + 1, len - 1);   /* sun_path[0] stays '\0' */
        a->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    } else {
        memcpy(a->addr.sun_path, path, len + 1);
        a->addrlen = sizeof a->addr;
    }
}

ssize_t receive_request(int cfd, char *name, size_t size)
{
    /* MSG_TRUNC as a flag (Linux): n is the message's real length, even
     * past the buffer. The control buffer takes what the kernel attaches:
     * a client's SCM_RIGHTS would put descriptors into our table, so each
     * one that comes is closed; more than the buffer holds, the kernel
     * closes itself (MSG_CTRUNC). */
    union { char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(16 * sizeof(int))];
            struct cmsghdr align; } control;
    struct iovec iov = { .iov_base = name, .iov_len = size };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                          .msg_control = control.buf, .msg_controllen = sizeof control.buf };
    char shown[MAX_NAME + 1];
    ssize_t n;
    do
        n = recvmsg(cfd, &msg, MSG_TRUNC | MSG_CMSG_CLOEXEC);
    while (n == -1 && errno == EINTR);
    if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
        say("recvmsg() = -1: %s (nothing came in time): client dropped", strerror(errno));
    else if (n == -1)
        say("recvmsg() = -1: %s", strerror(errno));
    else if (n == 0)
        say("recvmsg() = 0: peer closed");
    if (n <= 0)
        return n;
    say("recvmsg() = %zd bytes: \"%s\"%s", n, printable(shown, sizeof shown, name, (size_t)n),
        msg.msg_flags & MSG_CTRUNC ? " (MSG_CTRUNC: control data dropped)" : "");
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(c) + i * sizeof fd, sizeof fd);
                say("SCM_RIGHTS fd %d from the client: not wanted, close(fd %d) = %d",
                    fd, fd, close(fd));
            }
        }
    }
    return n;
}

void send_request(int sock, const struct args *a)
{
    size_t len = strlen(a->name);
    ssize_t w;
    do
        w = send(sock, a->name, len, 0);
    while (w == -1 && errno == EINTR);
    if (w == -1)
        fail("send");
    say("send() = %zd bytes", w);
}

void reply_err(int cfd, const char *fmt, ...)
{
    char text[512] = "ERR ";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text + 4, sizeof text - 4, fmt, ap);
    va_end(ap);
    ssize_t w;
    do
        w = send(cfd, text, strlen(text), 0);
    while (w == -1 && errno == EINTR);
    if (w == -1)
        say("send(\"%s\") = -1: %s", text, strerror(errno));
    else
        say("send(\"%s\") = %zd bytes", text, w);
}

int uid_allowed(const struct args *a, long uid)
{
    int allowed = a->nuids == 0;
    for (int i = 0; i < a->nuids; i++)
        allowed |= a->uids[i] == uid;
    return allowed;
}

const char *bad_name(const char *name, size_t len)
{
    if (len == 0)
        return "empty name";
    if (len > MAX_NAME)
        return "name too long (at most 255 bytes)";
    if (memchr(name, '\0', len) != NULL)
        return "bad name: it holds a NUL byte";
    if (memchr(name, '/', len) != NULL)
        return "bad name: it holds '/' (only files directly in DIR are served)";
    if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
        return "bad name: . and .. are not files in DIR";
    return NULL;
}

const char *printable(char *out, size_t size, const char *text, size_t n)
{
    size_t i;
    for (i = 0; i < n && i + 1 < size; i++) {
        out[i] = '?';
        if (text[i] >= 0x20 && text[i] < 0x7f)
            out[i] = text[i];
    }
    out[i] = '\0';
    return out;
}

void show_fds(void)
{
    /* fcntl(F_GETFD) fails with EBADF exactly on a descriptor not open. */
    char list[256] = "";
    size_t used = 0;
    for (int fd = 0; fd < 1024; fd++) {
        if (fcntl(fd, F_GETFD) == -1)
            continue;
        int w = snprintf(list + used, sizeof list - used, " %d", fd);
        if (w > 0 && (size_t)w < sizeof list - used)
            used += (size_t)w;
    }
    say("open descriptors:%s", list);
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
