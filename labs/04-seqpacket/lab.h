/* lab.h - the few helpers that this lab's server.c and client.c share.
 *
 * Every socket call of the lesson stays in server.c and client.c, in the
 * order of the lesson; this file holds narration, error exits, argument
 * parsing, the protocol, and peer_closed(): the one question both programs
 * must ask after a receive returned 0. It belongs to lab 04 alone: each lab
 * carries its own small copy, so a lab directory can be read, built and
 * changed without looking anywhere else.
 */
#ifndef LAB_H
#define LAB_H

#include <stddef.h>
#include <sys/un.h>

#define DEFAULT_PATH "/tmp/lab04.sock"   /* used when no PATH is given */
#define MAX_MSG 65536                    /* the largest message of this lab */

/* "server" or "client": prefixes narration and error messages. */
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

/* Reads the command line "[-m MODE] [-s SIZE] [PATH]" into addr, *mode and
 * *size (the client passes NULL for both: it takes no option). -h/--help
 * prints the usage and exits 0. A PATH that sun_path cannot hold (108 bytes
 * with the closing NUL, see unix(7)) is a usage error, refused before any
 * socket exists. SIZE is 1 to MAX_MSG. */
void parse_args(int argc, char *argv[], const char *usage,
                struct sockaddr_un *addr, long *mode, long *size);

/* The protocol: ASCII a-z become A-Z, every other byte is left alone. */
void upcase(char *buf, size_t n);

/* The wart of AF_UNIX SOCK_SEQPACKET: a receive returns 0 both for a
 * message of zero bytes and at the end of the connection (EOF), with no
 * flag to tell them apart. Call this right after a receive returned 0: it
 * asks poll(2), without waiting, whether the peer has shut down its
 * sending side (POLLRDHUP, Linux-specific) or closed. Returns 1 if so: the
 * 0 was most likely the end. Returns 0 if not: the 0 was a message, since
 * a shut-down peer stays shut down. What remains ambiguous (an empty
 * message, then the peer closed) the protocol must rule out: see server.c. */
int peer_closed(int fd);

/* write() until all n bytes are out: a write may take fewer bytes than
 * asked, or fail with EINTR before any; both mean "go on". 0, or -1 with
 * errno set. */
int write_all(int fd, const char *buf, size_t n);

#endif
