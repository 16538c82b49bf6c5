/* lab.h - the few helpers that this lab's server.c and client.c share.
 *
 * Every socket call of the lesson stays in server.c and client.c, in the
 * order of the lesson; this file holds narration, error exits, the socket
 * file, argument parsing (a path or an abstract name) and the checks of a
 * name the server is asked for. It belongs to lab 08 alone: each lab
 * carries its own small copy, so a lab directory can be read, built and
 * changed without looking anywhere else.
 */
#ifndef LAB_H
#define LAB_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#define DEFAULT_PATH "/tmp/lab08.sock"   /* used when no PATH is given */
#define MAX_NAME 255                     /* the longest file name asked for */
#define MAX_UIDS 16                      /* -a UID,UID...: at most this many */
#define MAX_CONTROL 256                  /* client -c BYTES: at most this many */

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

/* An abstract name has no file to remove: on SIGINT or SIGTERM the server
 * closes lfd and exits 0, narrating it (the kernel frees the name with
 * the last descriptor of the socket). */
void exit_on_signals(int lfd);

/* Installed after own_socket_file() or exit_on_signals(): on SIGINT or
 * SIGTERM, fd is closed too (the server's DIR), then their handler runs;
 * so that nothing but 0, 1 and 2 is open at exit (valgrind --track-fds). */
void close_on_signals(int fd);

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

/* The command line, read by parse_args():
 *   server [-m MODE] [-a UID[,UID...]] [-o OFFSET] [-t SECONDS] [PATH] DIR
 *   client [-c BYTES] [PATH] NAME
 * PATH is a file name, or @NAME: an abstract name (Linux, unix(7)), a
 * name in the kernel with no file, which addr holds as sun_path[0] == '\0'
 * followed by NAME, its length telling where NAME ends (addrlen). */
struct args {
    struct sockaddr_un addr;
    socklen_t addrlen;      /* what bind() and connect() are given */
    int abstract;           /* 1: PATH was @NAME */
    const char *shown;      /* PATH as written, for narration */
    long mode;              /* server -m: the socket file's mode; -1: 0700 */
    long uids[MAX_UIDS];    /* server -a: the users served; nuids 0: all */
    int nuids;
    long offset;            /* server -o: where the passed file starts */
    long timeout;           /* server -t: the bound on each wait */
    const char *dir;        /* server: the directory served */
    long control;           /* client -c: the control buffer's size */
    const char *name;       /* client: the file asked for */
};

/* Fills a from the command line (server: 1 for the server's, 0 for the
 * client's). -h/--help prints the usage and exits 0; anything wrong is a
 * usage error (exit 2), before any socket exists. */
void parse_args(int argc, char *argv[], const char *usage, int server, struct args *a);

/* The server's side of the protocol, around its lesson:
 * receive_request() receives one request into name (size bytes) and
 * narrates it; returns its real length (more than size: too long), 0 when
 * the client closed, -1 on error or timeout (narrated). Any descriptor
 * the client sent along is closed. (Extra 1: narrates SCM_CREDENTIALS.)
 * reply_err() sends "ERR " and the reason, one message, no descriptor.
 * uid_allowed() says whether -a lets user uid in (no -a: anyone). */
ssize_t receive_request(int cfd, char *name, size_t size);
void reply_err(int cfd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int uid_allowed(const struct args *a, long uid);

/* The client's request, one message: a->name's bytes (extra 2, with -u:
 * and SCM_CREDENTIALS claiming a->claim_uid), narrated; exit 1 when the
 * send fails. */
void send_request(int sock, const struct args *a);

/* The protocol's rule for a name asked of the server: NULL when name
 * (len bytes, not NUL-terminated) may be opened in DIR, else the reason
 * it may not, for the reply "ERR reason". A name must be 1 to MAX_NAME
 * bytes, hold no '/' and no NUL, and be neither "." nor "..": so openat()
 * stays inside DIR, whatever a client sends. */
const char *bad_name(const char *name, size_t len);

/* Copies text (n bytes, from a peer) into out (size bytes, NUL-ended) for
 * narration, each byte outside printable ASCII as '?': a hostile peer
 * cannot write terminal escapes into our log. Returns out. */
const char *printable(char *out, size_t size, const char *text, size_t n);

/* Narrates the descriptors this process holds (0 to 1023): "[client]
 * open descriptors: 0 1 2 3". */
void show_fds(void);

/* == canonical: bytes == */
/* The protocol: ASCII a-z become A-Z, every other byte is left alone. */
void upcase(char *buf, size_t n);

/* write() until all n bytes are out: a write may take fewer bytes than
 * asked (a partial write) or be interrupted by a signal (EINTR). Returns 0,
 * or -1 with errno set. */
int write_all(int fd, const char *buf, size_t n);
/* == end canonical: bytes == */

#endif
