/* lab.c - narration, error exits and byte shuffling for lab 03 (see lab.h),
 * and the checks of where a reply may go. */
/* struct ucred, SCM_CREDENTIALS and O_PATH are Linux-specific: glibc
 * declares them only with _GNU_SOURCE (feature_test_macros(7)). */
#define _GNU_SOURCE
#include "lab.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>   /* SIOCOUTQ (Linux) */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

const char *prog = "lab03";

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

void parse_args(int argc, char *argv[], const char *usage, const char *takes,
                struct sockaddr_un *addr, struct options *opt)
{
    const char *path = DEFAULT_PATH;
    int i = 1;

    memset(opt, 0, sizeof *opt);
    opt->mode = -1;
    opt->size = MAX_MSG;
    for (int j = 1; j < argc; j++) {
        if (strcmp(argv[j], "-h") == 0 || strcmp(argv[j], "--help") == 0) {
            fputs(usage, stdout);
            exit(0);
        }
    }
    for (; i < argc && argv[i][0] == '-'; i++) {
        char o = argv[i][1];
        if (o == '\0' || argv[i][2] != '\0' || strchr(takes, o) == NULL)
            usage_error(usage, "unknown option '%s'", argv[i]);
        if (o == 'n')
            opt->no_bind = 1;
        if (o == 'm')
            opt->mode = option_value(usage, argv, i++, "MODE: octal, 0 to 0777", 8, 0, 0777);
        if (o == 's')
            opt->size = option_value(usage, argv, i++, "SIZE: 1 to 65536 bytes", 10, 1, MAX_MSG);
    }
    if (i < argc)
        path = argv[i++];
    if (i < argc)
        usage_error(usage, "too many arguments");

    size_t len = strlen(path);
    if (len == 0)
        usage_error(usage, "the socket path is empty");
    if (len >= sizeof addr->sun_path)
        usage_error(usage, "socket path is %zu bytes; sun_path holds at most %zu",
                    len, sizeof addr->sun_path - 1);
    memset(addr, 0, sizeof *addr);
    addr->sun_family = AF_UNIX;
    memcpy(addr->sun_path, path, len + 1);
}

const char *socket_kind(int fd)
{
    static char kind[64];
    int domain, type;
    socklen_t len = sizeof domain;
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == -1)
        fail("getsockopt SO_DOMAIN (fd %d)", fd);
    len = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1)
        fail("getsockopt SO_TYPE (fd %d)", fd);
    snprintf(kind, sizeof kind, "%s, %s",
             domain == AF_UNIX ? "AF_UNIX" : domain == AF_INET ? "AF_INET" :
             domain == AF_INET6 ? "AF_INET6" : "another domain",
             type == SOCK_DGRAM ? "SOCK_DGRAM" : type == SOCK_STREAM ? "SOCK_STREAM" :
             type == SOCK_SEQPACKET ? "SOCK_SEQPACKET" : "another type");
    return kind;
}

const char *addr_name(const struct sockaddr_un *a, socklen_t len)
{
    static char name[sizeof a->sun_path + 3];
    size_t n = 0, start = offsetof(struct sockaddr_un, sun_path);

    if (len <= start)
        return "unnamed";
    len -= start;   /* the bytes of sun_path that hold the name */
    int abstract = a->sun_path[0] == '\0';   /* Linux-specific, unix(7) */
    name[n++] = '"';
    if (abstract)
        name[n++] = '@';
    for (size_t i = (size_t)abstract; i < len && i < sizeof a->sun_path; i++) {
        char c = a->sun_path[i];
        if (c == '\0' && !abstract)
            break;              /* a path ends at its NUL */
        name[n++] = (char)((c >= ' ' && c <= '~') ? c : '?');
    }
    name[n++] = '"';
    name[n] = '\0';
    return name;
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

/* The server's own socket file, and the share of its send buffer that one
 * receiver may hold: half, so that one that never reads leaves the other
 * half to everybody else. */
static struct stat own;
static long share;

void guard_replies(int sfd, const char *path)
{
    int sndbuf;
    socklen_t len = sizeof sndbuf;
    if (lstat(path, &own) == -1)
        fail("lstat %s", path);
    if (getsockopt(sfd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len) == -1)
        fail("getsockopt SO_SNDBUF");
    share = sndbuf / 2;
    say("getsockopt(SO_SNDBUF) = %d bytes: one receiver may hold %ld of them", sndbuf, share);
}

/* A reply not yet read is still ours: it counts against our send buffer
 * until its receiver reads it (socket(7), SO_SNDBUF). ioctl(SIOCOUTQ)
 * tells how much that is in all, overhead included (Linux: unix(7) lists
 * only SIOCINQ, but the kernel answers this one too, as for tcp(7)); who
 * holds how much, no call says. So the server keeps a count for each of
 * its last HOLDERS receivers, and whenever the total is less than the
 * counts add up to, it blames the receivers it counts the most first: the
 * biggest keeps its count, the next gets what is left, and so on. A
 * receiver that reads its replies sees its count fall back to nothing;
 * one that never reads keeps it, and once it holds its share, its replies
 * are dropped. (A guess, not a measure: it keeps one greedy receiver from
 * taking it all, not two; the kernel's own limit is the whole buffer.) */
#define HOLDERS 16
static struct holder {
    struct sockaddr_un addr;
    socklen_t len;
    long held;   /* bytes of our replies it may not have read yet */
} holders[HOLDERS];
static struct holder *last;   /* reply_refused() to reply_done() */
static long outq_before;

static long send_queue(int sfd)
{
    int n;
    if (ioctl(sfd, SIOCOUTQ, &n) == -1)
        fail("ioctl SIOCOUTQ");
    return n;
}

static void blame(long total)
{
    int done[HOLDERS] = { 0 };
    for (int k = 0; k < HOLDERS; k++) {
        int big = -1;
        for (int i = 0; i < HOLDERS; i++)
            if (!done[i] && (big == -1 || holders[i].held > holders[big].held))
                big = i;
        done[big] = 1;
        if (holders[big].held > total)
            holders[big].held = total;
        total -= holders[big].held;
    }
}

/* The receiver's count; a new one takes the place of the smallest. */
static struct holder *holder(const struct sockaddr_un *a, socklen_t len)
{
    struct holder *least = &holders[0];
    for (int i = 0; i < HOLDERS; i++) {
        if (holders[i].len == len && memcmp(&holders[i].addr, a, len) == 0)
            return &holders[i];
        if (holders[i].held < least->held)
            least = &holders[i];
    }
    memcpy(&least->addr, a, len);
    least->len = len;
    least->held = 0;
    return least;
}

/* The sender's credentials, which the kernel attached (SO_PASSCRED). */
static const struct ucred *credentials(const struct msghdr *msg)
{
    static struct ucred cred;
    _Static_assert(CRED_SPACE == CMSG_SPACE(sizeof(struct ucred)), "CRED_SPACE");
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
            c->cmsg_len == CMSG_LEN(sizeof cred)) {
            memcpy(&cred, CMSG_DATA(c), sizeof cred);   /* CMSG_DATA may be unaligned */
            return &cred;
        }
    }
    return NULL;
}

const char *reply_refused(int sfd, const struct msghdr *msg, size_t n,
                          struct sockaddr_un *to, socklen_t *tolen, int *pin)
{
    static char why[160];
    const struct sockaddr_un *from = msg->msg_name;
    char path[sizeof from->sun_path + 1];
    struct stat st;
    /* Linux says 111 for a path of 108 bytes, counting the NUL that
     * sun_path has no room for: only what is there counts. */
    socklen_t len = msg->msg_namelen < sizeof *from ? msg->msg_namelen : sizeof *from;

    *pin = -1;
    outq_before = send_queue(sfd);
    blame(outq_before);
    last = holder(from, len);
    if (last->held > 0 && last->held + (long)n > share) {   /* (one reply always may go) */
        snprintf(why, sizeof why, "it may hold %ld bytes of our replies unread (ioctl SIOCOUTQ);"
                 " its share is %ld: reply dropped", last->held, share);
        return why;
    }
    /* An abstract name (Linux, unix(7)) is no file: no link can stand for
     * it, no permission guards it, so its sender could send there itself;
     * and it cannot be ours, which is a path. */
    memcpy(to, from, len);
    *tolen = len;
    if (from->sun_path[0] == '\0')
        return NULL;

    /* A path is looked up again when we send: pin what is there now, the
     * link itself if it is one (O_PATH with O_NOFOLLOW, open(2)), check
     * it, and send to that very file through /proc/self/fd (proc(5)). */
    const struct ucred *cred = credentials(msg);
    if (cred == NULL)
        return "no credentials came with it (SO_PASSCRED)";
    len -= offsetof(struct sockaddr_un, sun_path);
    memcpy(path, from->sun_path, len);
    path[len] = '\0';   /* (a path of 108 bytes has none) */
    int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd == -1) {
        snprintf(why, sizeof why, "open(O_PATH|O_NOFOLLOW): %s", strerror(errno));
        return why;
    }
    if (fstat(fd, &st) == -1)
        snprintf(why, sizeof why, "fstat: %s", strerror(errno));
    else if (!S_ISSOCK(st.st_mode))
        snprintf(why, sizeof why, "%snot a socket", S_ISLNK(st.st_mode) ? "a symbolic link, " : "");
    else if (st.st_uid != cred->uid)
        snprintf(why, sizeof why, "a socket of uid %ld, not the sender's (uid %ld)",
                 (long)st.st_uid, (long)cred->uid);
    else if (st.st_dev == own.st_dev && st.st_ino == own.st_ino)
        snprintf(why, sizeof why, "this server's own socket");
    else {
        snprintf(to->sun_path, sizeof to->sun_path, "/proc/self/fd/%d", fd);
        *tolen = sizeof *to;
        *pin = fd;
        return NULL;
    }
    (void)close(fd);   /* O_PATH: nothing was opened for reading or writing */
    return why;
}

void reply_done(int sfd, ssize_t w, int pin)
{
    if (w >= 0) {
        long took = send_queue(sfd) - outq_before;
        last->held += took > 0 ? took : 0;
    }
    if (pin != -1 && close(pin) == -1)
        fail("close");
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
