/* lab.h - the few helpers that this lab's server.c and client.c share.
 *
 * Every socket call stays in server.c and client.c, in the order of the
 * lesson; this file only holds narration, error exits, argument parsing and
 * byte shuffling. It belongs to lab 06 alone: each lab carries its own small
 * copy, so a lab directory can be read, built and changed without looking
 * anywhere else.
 */
#ifndef LAB_H
#define LAB_H

#include <stddef.h>
#include <sys/socket.h>

#define DEFAULT_ADDR "127.0.0.1"   /* the server's -b: loopback, this machine only */
#define DEFAULT_PORT "5006"        /* used when the server is given no PORT */
#define DEFAULT_TIMEOUT 1000       /* the client's -t: reply timeout, in ms */
/* No UDP datagram carries more than 65535 - 8 (UDP header) bytes of data;
 * over IPv4 the 20-byte IP header counts too, so 65507 (udp(7), ip(7)).
 * A buffer of 64 KiB holds any datagram whole. */
#define BUF_SIZE 65536

/* "server" or "client": prefixes narration and error messages. */
extern const char *prog;

/* Narration, the lesson made visible:
 * "[server] recvmsg() = 5 bytes from 127.0.0.1:40000" on stderr. */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runtime failure: "server: bind 127.0.0.1:5006: Address already in use",
 * exit status 1. fail() appends ": " and strerror(errno); failx() does not. */
_Noreturn void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void failx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Usage error: a one-line reason, then the usage text; exit status 2. */
_Noreturn void usage_error(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The command line. Options not given keep these defaults. */
struct options {
    const char *host;   /* server: -b ADDR (DEFAULT_ADDR); client: HOST */
    const char *port;   /* PORT: digits only, checked (server: DEFAULT_PORT) */
    long size;          /* server -s SIZE: receive buffer, 1 to BUF_SIZE */
    long rcvbuf;        /* server -r BYTES: SO_RCVBUF; 0 leaves the kernel's */
    long timeout;       /* client -t MS: reply timeout (DEFAULT_TIMEOUT) */
    int connect;        /* client -c: connect() the socket */
    int no_reply;       /* client -n: send only, expect no replies */
};

/* Reads the command line into opt. takes lists the option letters this
 * program accepts: "bsr" for the server, which takes [PORT]; "cnt" for the
 * client, which takes HOST PORT. -h/--help prints the usage and exits 0.
 * A PORT that is not digits only, or out of range (server 0 to 65535, 0
 * meaning any free port; client 1 to 65535), is a usage error, refused
 * before any lookup or socket call. */
void parse_args(int argc, char *argv[], const char *usage, const char *takes,
                struct options *opt);

/* "AF_INET" or "AF_INET6", for narration. */
const char *family_name(int family);

/* An internet address as narration shows it: "127.0.0.1:5006" or
 * "[::1]:5006". Returns a static buffer. */
const char *addr_name(const struct sockaddr *sa, socklen_t len);

/* The protocol: ASCII a-z become A-Z, every other byte is left alone. */
void upcase(char *buf, size_t n);

/* write() until all n bytes are out: a write may take fewer bytes than
 * asked (a partial write) or be interrupted by a signal (EINTR). Returns 0,
 * or -1 with errno set. */
int write_all(int fd, const char *buf, size_t n);

#endif
