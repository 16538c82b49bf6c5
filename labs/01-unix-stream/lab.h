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

/* Reads the command line "[-m MODE] [PATH]" into addr (and *mode, when
 * mode is not NULL; the client takes no -m). -h/--help prints the usage and
 * exits 0. A PATH that sun_path cannot hold (108 bytes with the closing
 * NUL, see unix(7)) is a usage error, refused before any socket exists. */
void parse_args(int argc, char *argv[], const char *usage,
                struct sockaddr_un *addr, long *mode);

/* The protocol: ASCII a-z become A-Z, every other byte is left alone. */
void upcase(char *buf, size_t n);

/* write() until all n bytes are out: a write may take fewer bytes than
 * asked (a partial write) or be interrupted by a signal (EINTR). Returns 0,
 * or -1 with errno set. */
int write_all(int fd, const char *buf, size_t n);

#endif
