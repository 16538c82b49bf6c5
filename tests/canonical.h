/* tests/canonical.h - the one text of the declarations that every lab's
 * lab.h carries, section by section, as tests/canonical.c holds their
 * code. tests/canonical.sh keeps the copies identical.
 */

/* == canonical: narration == */
/* The program's name ("server", "client"...): prefixes its narration and
 * its error messages. */
extern const char *prog;

/* Narration, the lesson made visible: "[server] accept() = fd 4" on stderr. */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runtime failure: "server: bind /tmp/x.sock: Address already in use",
 * exit status 1. fail() appends ": " and strerror(errno); failx() does not. */
_Noreturn void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void failx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Usage error: a one-line reason, then the usage text; exit status 2. */
_Noreturn void usage_error(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* == end canonical: narration == */

/* == canonical: std-fds == */
/* The first call of every program: descriptors 0, 1 and 2, when closed,
 * are opened on /dev/null, so that no socket can take their numbers. */
void open_std_fds(void);
/* == end canonical: std-fds == */

/* == canonical: bytes == */
/* The protocol: ASCII a-z become A-Z, every other byte is left alone. */
void upcase(char *buf, size_t n);

/* write() until all n bytes are out: a write may take fewer bytes than
 * asked (a partial write) or be interrupted by a signal (EINTR). Returns 0,
 * or -1 with errno set. */
int write_all(int fd, const char *buf, size_t n);
/* == end canonical: bytes == */

/* == canonical: nonblock == */
/* Adds O_NONBLOCK to fd's status flags, keeping the others. Returns 0, or
 * -1 with errno set (fcntl(2)). */
int set_nonblocking(int fd);
/* == end canonical: nonblock == */

/* == canonical: socket-file == */
/* A server's socket file, in the order the server calls them:
 * lock_socket_path() before bind(): PATH.lock, locked while the server
 * runs (a second server on PATH exits 1 here); replace_stale_socket() when
 * bind() says EADDRINUSE: the file at PATH is removed if it is a socket
 * nobody answers on, else exit 1; own_socket_file() right after bind():
 * the file is this server's, removed at exit (normal or SIGINT/SIGTERM,
 * which also close lfd) only if it is still the one bind() made.
 * probe_socket_file() connects without waiting: 0 when a server answers
 * (or its queue is full), else connect()'s errno (ECONNREFUSED: nobody). */
void lock_socket_path(const char *path);
void replace_stale_socket(const struct sockaddr_un *addr, int type);
void own_socket_file(int lfd);
int probe_socket_file(const struct sockaddr_un *addr, int type);
/* == end canonical: socket-file == */

/* == canonical: accept == */
/* After accept() returned -1: returns for what costs one connection at
 * most (EINTR, ECONNABORTED, the network errors accept(2) lists), after a
 * 250 ms pause when descriptors or memory ran out (EMFILE, ENFILE,
 * ENOBUFS, ENOMEM: no spinning); exits 1 for anything else. */
void accept_failed(void);
/* == end canonical: accept == */

/* == canonical: timeouts == */
/* A server's bound on each wait for one client (-t SECONDS; 0: none):
 * a read() or write() on fd that waits longer fails with EAGAIN. Set on
 * each accepted descriptor; a failure is narrated, not fatal. */
#define DEFAULT_TIMEOUT 30
void bound_waits(int fd, int seconds);
/* == end canonical: timeouts == */

/* == canonical: lines == */
/* A client's standard input, read with read(2) into a buffer of its own,
 * not with getline(3): lines that stdio holds in its buffer would be
 * invisible to poll(2). buf[start..have) is read and not sent yet; done
 * once read() said end of file. A line is at most MAX_LINE bytes (lab.h;
 * MAX_LINE_IS says why, in the error). next_line(): 1 when a whole line
 * is there, the first *len bytes of buf + start, without its newline; 0
 * when more input is needed, or none will come (done). A longer line:
 * exit 1, naming it, the number-th. read_input(), when poll(2) says there
 * is more: read(2) on 0 after the part not sent. line_sent(): the line of
 * len bytes went, and its newline with it. */
struct input {
    char buf[MAX_LINE + 1];
    size_t start, have;
    int done;
};
int next_line(struct input *in, size_t *len, long number);
void read_input(struct input *in);
void line_sent(struct input *in, size_t len);
/* == end canonical: lines == */
