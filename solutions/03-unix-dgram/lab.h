/* lab.h - the few helpers that this lab's server.c and client.c share.
 *
 * Every socket call of the lesson stays in server.c and client.c, in its
 * order; this file holds narration, error exits, argument parsing, byte
 * shuffling, and the checks of where a reply may go. It belongs to lab 03
 * alone: each lab carries its own small copy, so a lab directory can be
 * read, built and changed without looking anywhere else.
 */
#ifndef LAB_H
#define LAB_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#define DEFAULT_PATH "/tmp/lab03.sock"   /* used when no PATH is given */
#define MAX_MSG 65536                    /* the lab's largest datagram, in bytes */
#define MAX_LINE MAX_MSG                 /* the client's longest input line */
#define MAX_LINE_IS "the largest datagram of this lab"
#define PROBE_MS 1000                    /* replies due and none for this long: */
                                         /* is the server still there? */
#define WINDOW 32768                     /* the client leaves at most this many */
                                         /* bytes unanswered (or one line) */
#define CRED_SPACE 32                    /* CMSG_SPACE(sizeof(struct ucred)): */
                                         /* room for the sender's credentials */

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

/* The command line's options. Not given: mode -1 (leave the file as bind()
 * made it), size MAX_MSG, no_bind 0. */
struct options {
    long mode;     /* -m MODE: the socket file's permissions (server) */
    long size;     /* -s SIZE: the server's receive buffer, 1 to MAX_MSG */
    int no_bind;   /* -n: the client skips bind() (client) */
    /* EXTRA 1: the client's -t SECONDS (0: not given) */
    long deadline;
    /* END EXTRA 1 */
    /* EXTRA 2: the server's -c */
    int creds;
    /* END EXTRA 2 */
};

/* Reads the command line "[OPTIONS] [PATH]" into addr and opt. takes lists
 * the option letters this program accepts ("ms" for the server, "n" for the
 * client). -h/--help prints the usage and exits 0. A PATH that sun_path
 * cannot hold (108 bytes with the closing NUL, see unix(7)) is a usage
 * error, refused before any socket exists. */
void parse_args(int argc, char *argv[], const char *usage, const char *takes,
                struct sockaddr_un *addr, struct options *opt);

/* The domain and type of socket fd, as the kernel says (getsockopt(2),
 * SO_DOMAIN and SO_TYPE, socket(7); SO_DOMAIN is Linux-specific), for the
 * narration of socket(): "AF_UNIX, SOCK_DGRAM". Exit 1 when fd is no
 * socket. Returns a static buffer. */
const char *socket_kind(int fd);

/* A socket address as narration shows it, in quotes: a path
 * ("/tmp/lab03.sock") or an abstract name with a leading @ ("@0001a", see
 * unix(7)); or unnamed when len holds no more than sun_family. Bytes that
 * are not printable ASCII show as '?'. Returns a static buffer. */
const char *addr_name(const struct sockaddr_un *a, socklen_t len);

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

/* Where the server's reply to a datagram may go (server.c explains why).
 * guard_replies(), once, after bind(): the server's own socket file (path)
 * and its send buffer (SO_SNDBUF). reply_refused(), for each datagram that
 * msg holds (the sender's address and credentials): NULL when a reply of n
 * bytes may go, with its destination in to and tolen, and in pin a
 * descriptor to close after sendto() (-1 when none); else why not, for the
 * narration. reply_done(), after sendto() returned w: a reply that went
 * is charged to its receiver, for what it holds of our send buffer, and
 * pin is closed. Linux-specific: SCM_CREDENTIALS, O_PATH, /proc/self/fd,
 * ioctl(SIOCOUTQ). */
void guard_replies(int sfd, const char *path);
const char *reply_refused(int sfd, const struct msghdr *msg, size_t n,
                          struct sockaddr_un *to, socklen_t *tolen, int *pin);
void reply_done(int sfd, ssize_t w, int pin);

/* EXTRA 1: a clock for the client's -t */
/* Milliseconds on a clock that only goes forward (clock_gettime(2),
 * CLOCK_MONOTONIC: setting the date does not move it). */
long now_ms(void);
/* END EXTRA 1 */

/* == canonical: bytes == */
/* The protocol: ASCII a-z become A-Z, every other byte is left alone. */
void upcase(char *buf, size_t n);

/* write() until all n bytes are out: a write may take fewer bytes than
 * asked (a partial write) or be interrupted by a signal (EINTR). Returns 0,
 * or -1 with errno set. */
int write_all(int fd, const char *buf, size_t n);
/* == end canonical: bytes == */

#endif
