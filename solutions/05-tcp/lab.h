/* lab.h - the few helpers that this lab's server.c and client.c share.
 *
 * Every socket call the lesson is about stays in server.c and client.c, in
 * the order of the lesson; this file only holds narration, error exits,
 * argument parsing, the server's signals, its bound on each wait for a
 * client, and byte shuffling (the server's echo loop). It belongs to lab 05
 * alone: each lab carries its own small copy, so a lab directory can be
 * read, built and changed without looking anywhere else.
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
/* "[host]:port", numeric, with room for what getnameinfo(3) may write:
 * NI_MAXHOST + NI_MAXSERV bytes (<netdb.h> declares them only under
 * _DEFAULT_SOURCE: lab.c checks the sum). INET6_ADDRSTRLEN is not enough:
 * a link-local IPv6 address ends with its interface's name,
 * fe80:1111:2222:3333:4444:5555:6666:7777%abcdefghijklmno (55 characters). */
#define ADDR_STRLEN (1025 + 32 + 2)

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

/* The command lines. -h/--help prints the usage and exits 0; anything
 * wrong is a usage error (exit 2), found before any socket exists. A port
 * is digits only, 0 to 65535 for the server (0: any free port), 1 to 65535
 * for the client; it stays a string, the form getaddrinfo() takes. */
struct server_args {
    const char *host;   /* -b ADDR, numeric (127.0.0.1, ::1, 0.0.0.0, ::) or "any" */
    const char *port;   /* PORT */
    int backlog;        /* -q BACKLOG, for listen() */
    int defer;          /* -d SECONDS, for TCP_DEFER_ACCEPT; 0: not set */
    int no_accept;      /* -A: listen, never accept */
    int timeout;        /* -t SECONDS, for bound_waits(); 0: no bound */
    /* EXTRA 2: the server's -k SECONDS */
    int keepalive;      /* -k SECONDS, keepalive probes (tcp(7)); 0: none */
    /* END EXTRA 2 */
};
void parse_server_args(int argc, char *argv[], const char *usage,
                       struct server_args *a);
void parse_client_args(int argc, char *argv[], const char *usage,
                       const char **host, const char **port);
/* EXTRA 1: the client's -T SECONDS */
/* client -T SECONDS HOST PORT: each connect() waits SECONDS at most; 0
 * (no -T): as long as the kernel retries the SYN. */
extern int connect_limit;
/* END EXTRA 1 */

/* "127.0.0.1:5005" or "[::1]:5005", numeric, into out (ADDR_STRLEN bytes). */
void format_addr(const struct sockaddr *sa, socklen_t len, char *out);

/* The server's getaddrinfo() returned gai, not 0: exits. EAI_NONAME, an
 * ADDR that is no number, is a usage error (exit 2); EAI_SYSTEM has its
 * reason in errno; any other code, gai_strerror()'s text (exit 1). */
_Noreturn void gai_failed(const char *usage, int gai, const char *host);

/* fd's own address, read with getsockname(2), formatted into out: after
 * bind() to port 0 it shows the port the kernel chose. */
void local_name(int fd, char *out);

/* -A: narrates that the server does not accept, and waits for a signal.
 * The kernel still completes handshakes and queues them; with the queue
 * full, new SYNs are dropped (the client sends them again). */
_Noreturn void never_accept(void);

/* "AF_INET" or "AF_INET6", for the narration. */
const char *family_name(int family);

/* Narrates what getaddrinfo() returned: every address, in order. A NULL
 * host is the passive form, getaddrinfo(NULL, PORT, AI_PASSIVE). */
void say_addrinfo(const char *host, const char *port, const struct addrinfo *res);

/* The server's signals: SIGINT and SIGTERM end it with status 0, after a
 * "[server] signal: exit 0" line; the handler closes fd, its listening
 * socket, first. (There is no file to remove: a port is freed when its
 * socket closes.) */
void exit_on_signals(int fd);

/* The TCP state of socket fd, by the kernel's name ("ESTABLISHED",
 * "SYN_SENT", "LISTEN"...), read with getsockopt(TCP_INFO). Linux-specific. */
const char *tcp_state(int fd);

/* == canonical: bytes == */
/* The protocol: ASCII a-z become A-Z, every other byte is left alone. */
void upcase(char *buf, size_t n);

/* write() until all n bytes are out: a write may take fewer bytes than
 * asked (a partial write) or be interrupted by a signal (EINTR). Returns 0,
 * or -1 with errno set. */
int write_all(int fd, const char *buf, size_t n);
/* == end canonical: bytes == */

/* The server's side of the protocol, the same as lab 01's: read what the
 * client sends, upper-case ASCII a-z, write it back, until the client
 * closes (read() = 0). A failure ends this client only: narrated, not
 * fatal; so does a read() or write() that waited timeout seconds, the
 * bound that bound_waits() set on cfd (EAGAIN): "client dropped". The
 * caller closes cfd. */
void echo_client(int cfd, int timeout);

#endif
