/* lab.h - the few helpers that this lab's server.c and client.c share.
 *
 * Every socket call stays in server.c and client.c, in the order of the
 * lesson; this file only holds narration, error exits and byte shuffling.
 * It belongs to lab 01 alone: each lab carries its own small copy, so a lab
 * directory can be read, built and changed without looking anywhere else.
 */
#ifndef LAB_H
#define LAB_H

#include <stddef.h>
#include <sys/un.h>

#define DEFAULT_PATH "/tmp/lab01.sock"   /* used when no PATH is given */
#define BUF_SIZE 65536                   /* bytes the server moves per read() */
#define CHUNK (1024 * 1024)              /* bytes the client hands write() */

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

/* The options a program takes: where each one's value goes, or NULL when
 * the program does not take it (then it is a usage error). */
struct options {
    long *mode;      /* -m MODE: the socket file's permissions, in octal */
    long *timeout;   /* -t SECONDS: the bound on each wait for the peer */
};

/* Reads the command line "[OPTIONS] [PATH]" into addr and where opt
 * says. -h/--help prints the usage and exits 0. A PATH that sun_path
 * cannot hold (108 bytes with the closing NUL, see unix(7)) is a usage
 * error, refused before any socket exists. */
void parse_args(int argc, char *argv[], const char *usage,
                struct sockaddr_un *addr, const struct options *opt);


/* == canonical: bytes == */
/* The protocol: ASCII a-z become A-Z, every other byte is left alone. */
void upcase(char *buf, size_t n);

/* write() until all n bytes are out: a write may take fewer bytes than
 * asked (a partial write) or be interrupted by a signal (EINTR). Returns 0,
 * or -1 with errno set. */
int write_all(int fd, const char *buf, size_t n);
/* == end canonical: bytes == */

#endif
