/* lab.h - the few helpers that this lab's server.c and client.c share.
 *
 * Every socket call stays in server.c and client.c, in the order of the
 * lesson; this file only holds narration, error exits, argument parsing and
 * byte shuffling. It belongs to lab 03 alone: each lab carries its own small
 * copy, so a lab directory can be read, built and changed without looking
 * anywhere else.
 */
#ifndef LAB_H
#define LAB_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#define DEFAULT_PATH "/tmp/lab03.sock"   /* used when no PATH is given */
#define MAX_MSG 65536                    /* the lab's largest datagram, in bytes */
#define PROBE_MS 1000                    /* replies due and none for this long: */
                                         /* is the server still there? */

/* "server" or "client": prefixes narration and error messages. */
extern const char *prog;

/* Narration, the lesson made visible: "[server] sendto("@0001a") = 5 bytes"
 * on stderr. */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runtime failure: "server: bind /tmp/x.sock: Address already in use",
 * exit status 1. fail() appends ": " and strerror(errno); failx() does not. */
_Noreturn void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void failx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Usage error: a one-line reason, then the usage text; exit status 2. */
_Noreturn void usage_error(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The command line's options. Not given: mode -1 (leave the file as bind()
 * made it), size MAX_MSG, no_bind 0. */
struct options {
    long mode;     /* -m MODE: the socket file's permissions (server) */
    long size;     /* -s SIZE: the server's receive buffer, 1 to MAX_MSG */
    int no_bind;   /* -n: the client skips bind() (client) */
};

/* Reads the command line "[OPTIONS] [PATH]" into addr and opt. takes lists
 * the option letters this program accepts ("ms" for the server, "n" for the
 * client). -h/--help prints the usage and exits 0. A PATH that sun_path
 * cannot hold (108 bytes with the closing NUL, see unix(7)) is a usage
 * error, refused before any socket exists. */
void parse_args(int argc, char *argv[], const char *usage, const char *takes,
                struct sockaddr_un *addr, struct options *opt);

/* A socket address as narration shows it, in quotes: a path
 * ("/tmp/lab03.sock") or an abstract name with a leading @ ("@0001a", see
 * unix(7)); or unnamed when len holds no more than sun_family. Bytes that
 * are not printable ASCII show as '?'. Returns a static buffer. */
const char *addr_name(const struct sockaddr_un *a, socklen_t len);

/* The protocol: ASCII a-z become A-Z, every other byte is left alone. */
void upcase(char *buf, size_t n);

/* write() until all n bytes are out: a write may take fewer bytes than
 * asked (a partial write) or be interrupted by a signal (EINTR). Returns 0,
 * or -1 with errno set. */
int write_all(int fd, const char *buf, size_t n);

/* Is a socket bound at addr? connect(2) a new datagram socket to it, then
 * close it, having sent nothing: 0 when one is, else connect's errno:
 * ECONNREFUSED (the file is there, nobody is bound to it: a stale file, or
 * a server gone), ENOENT (no file), EACCES... */
int probe_bound(const struct sockaddr_un *addr);

#endif
