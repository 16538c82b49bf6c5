/* tests/canonical.c - the one text of the helpers that every lab's lab.c
 * carries. Labs share no code (each builds and reads alone), so each lab.c
 * holds a copy of the sections it needs, between the same markers as here;
 * tests/canonical.sh (in make test and CI) fails when a copy differs from
 * this text by a single byte. Change a helper here, then in every lab
 * (tests/canonical.sh --fix copies it over). Declarations: canonical.h.
 *
 * Every lab: narration, std-fds, bytes. Clients that poll: nonblock.
 * Labs whose options are "-X NUMBER" (01, 04): option. Datagram clients
 * that read lines (03, 06): lines.
 * Servers on a socket file (labs 01, 03, 04, 08, 10, 11, 12): socket-file.
 * Servers that accept() one client at a time (labs 01, 04, 05, 07, 08, 10,
 * 11): accept, timeouts; lab 12's poll server, which must never pause or
 * block on one client, has neither.
 * This file is not compiled on its own; each lab compiles its copy.
 */

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
