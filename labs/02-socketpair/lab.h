/* lab.h - the few helpers that this lab's server.c and client.c share.
 *
 * Every socket call stays in server.c and client.c, in the order of the
 * lesson; this file only holds narration, error exits and byte shuffling.
 * It belongs to lab 02 alone: each lab carries its own small copy, so a lab
 * directory can be read, built and changed without looking anywhere else.
 */
#ifndef LAB_H
#define LAB_H

#include <stddef.h>

#define BUF_SIZE 65536   /* bytes moved per read() */

/* "server", "child" or "client": prefixes narration and error messages. */
extern const char *prog;

/* Narration, the lesson made visible: "[server] fork() = 1234" on stderr.
 * The server and its client share one stderr, so each line goes out in a
 * single write(2): two processes writing at once cannot cut it in two. */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runtime failure: "server: socketpair: Too many open files", exit
 * status 1. fail() appends ": " and strerror(errno); failx() does not. */
_Noreturn void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void failx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Usage error: a one-line reason, then the usage text; exit status 2. */
_Noreturn void usage_error(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* -h or --help anywhere on the command line: print the usage on standard
 * output and exit 0. Each program then reads its own arguments. */
void parse_help(int argc, char *argv[], const char *usage);

/* The protocol: ASCII a-z become A-Z, every other byte is left alone. */
void upcase(char *buf, size_t n);

/* write() until all n bytes are out: a write may take fewer bytes than
 * asked (a partial write) or be interrupted by a signal (EINTR). Returns 0,
 * or -1 with errno set. */
int write_all(int fd, const char *buf, size_t n);

#endif
