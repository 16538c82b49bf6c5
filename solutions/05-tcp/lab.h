/* lab.h - the few helpers that this lab's server.c and client.c share.
 *
 * Every socket call the lesson is about stays in server.c and client.c, in
 * the order of the lesson; this file only holds narration, error exits,
 * argument parsing and byte shuffling (the server's echo loop). It belongs to lab 05 alone: each lab
 * carries its own small copy, so a lab directory can be read, built and
 * changed without looking anywhere else.
 */
#ifndef LAB_H
#define LAB_H

#include <stddef.h>
#include <netdb.h>
#include <sys/socket.h>

#define DEFAULT_HOST "127.0.0.1"   /* the server's bind address: loopback only */
#define DEFAULT_PORT "5005"        /* the server's port when none is given */
#define DEFAULT_BACKLOG 16         /* listen() backlog when -q is not given */
#define BUF_SIZE 65536             /* bytes the server moves per read() */
#define CHUNK (1024 * 1024)        /* bytes the client hands write() */
#define ADDR_STRLEN 64             /* "[1234:...:ffff]:65535" fits */

/* "server" or "client": prefixes narration and error messages. */
extern const char *prog;

/* Narration, the lesson made visible: "[server] accept() = fd 4" on stderr. */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runtime failure: "server: bind 127.0.0.1:5005: Address already in use",
 * exit status 1. fail() appends ": " and strerror(errno); failx() does not. */
_Noreturn void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void failx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Usage error: a one-line reason, then the usage text; exit status 2. */
_Noreturn void usage_error(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The command lines. -h/--help prints the usage and exits 0; anything
 * wrong is a usage error (exit 2), found before any socket exists. A port
 * is digits only, 0 to 65535 for the server (0: any free port), 1 to 65535
 * for the client; it stays a string, the form getaddrinfo() takes. */
struct server_args {
    const char *host;   /* -b ADDR, numeric: 127.0.0.1, ::1, 0.0.0.0, :: */
    const char *port;   /* PORT */
    int backlog;        /* -q BACKLOG, for listen() */
    int defer;          /* -d SECONDS, for TCP_DEFER_ACCEPT; 0: not set */
    int no_accept;      /* -A: listen, never accept */
};
void parse_server_args(int argc, char *argv[], const char *usage,
                       struct server_args *a);
void parse_client_args(int argc, char *argv[], const char *usage,
                       const char **host, const char **port);

/* "127.0.0.1:5005" or "[::1]:5005", numeric, into out (ADDR_STRLEN bytes). */
void format_addr(const struct sockaddr *sa, socklen_t len, char *out);

/* "AF_INET" or "AF_INET6", for the narration. */
const char *family_name(int family);

/* Narrates what getaddrinfo() returned: every address, in order. */
void say_addrinfo(const char *host, const char *port, const struct addrinfo *res);

/* The TCP state of socket fd, by the kernel's name ("ESTABLISHED",
 * "SYN_SENT", "LISTEN"...), read with getsockopt(TCP_INFO). Linux-specific. */
const char *tcp_state(int fd);

/* write() until all n bytes are out: a write may take fewer bytes than
 * asked (a partial write) or be interrupted by a signal (EINTR). Returns 0,
 * or -1 with errno set. */
int write_all(int fd, const char *buf, size_t n);

/* The server's side of the protocol, the same as lab 01's: read what the
 * client sends, upper-case ASCII a-z, write it back, until the client
 * closes (read() = 0). A failure ends this client only: narrated, not
 * fatal. The caller closes cfd. */
void echo_client(int cfd);

#endif
