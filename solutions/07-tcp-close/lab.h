/* lab.h - the few helpers that this lab's server.c and client.c share.
 *
 * Every socket call this lesson is about (setsockopt SO_REUSEADDR and
 * SO_LINGER, read, shutdown, close) stays in server.c and client.c, in the
 * order of the lesson; this file holds narration, error exits, argument
 * parsing, the step mode, byte shuffling, and the calls earlier labs taught
 * (getaddrinfo, getsockname, accept, the bound of -t) or that only observe
 * (TCP_INFO, FIONREAD) or set the stage (SO_RCVBUF). It belongs to lab 07 alone: each lab carries
 * its own small copy, so a lab directory can be read, built and changed
 * without looking anywhere else.
 */
#ifndef LAB_H
#define LAB_H

#include <stddef.h>
#include <sys/types.h>
#include <stdio.h>
#include <netdb.h>
#include <sys/socket.h>

#define DEFAULT_HOST "127.0.0.1"   /* the server's bind address: loopback only */
#define DEFAULT_PORT "5007"        /* the server's port when none is given */
#define BUF_SIZE 65536             /* bytes moved per read() */
/* The longest request the server keeps: 16 MiB, as both usages say. */
#define REQUEST_MAX ((size_t)16 * 1024 * 1024)
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

/* The command lines, both programs' options in one place. -h/--help prints
 * the usage and exits 0; anything wrong is a usage error (exit 2), found
 * before any socket exists. A port is digits only, 0 to 65535 for the
 * server (0: any free port), 1 to 65535 for the client. */
struct args {
    const char *host;   /* server -b ADDR (numeric, or "any"); client HOST */
    const char *port;   /* PORT, a string: the form getaddrinfo() takes */
    int rcvbuf;         /* -r BYTES: SO_RCVBUF; 0: the kernel's default */
    FILE *ctl;          /* -s CTL: step mode, Enter read from CTL; NULL: off */
    int pause_ms;       /* -p MS: pause MS milliseconds before each step; 0: off */
    int active;         /* server -a: answer the first read, send FIN first */
    int no_reuse;       /* server -n: do not set SO_REUSEADDR */
    int timeout;        /* server -t SECONDS: bound_waits(); 0: no bound */
    int close_now;      /* client -c: close() right after the request */
    int abort_close;    /* client -L: SO_LINGER {1, 0}, then close(): RST */
    /* EXTRA 1: server -d */
    int drain;          /* server -d: refuse with a message, drain, then close */
    /* END EXTRA 1 */
    /* EXTRA 2: client -w SECONDS */
    int max_wait;       /* client -w SECONDS: the bound on each wait; 0: none */
    /* END EXTRA 2 */
};
void parse_server_args(int argc, char *argv[], const char *usage, struct args *a);
void parse_client_args(int argc, char *argv[], const char *usage, struct args *a);

/* The server's signals: SIGINT and SIGTERM end it with status 0, after a
 * "[server] signal: exit 0" line; the handler closes fd, its listening
 * socket, first. (There is no file to remove: a port is freed when its
 * socket closes.) */
void exit_on_signals(int fd);

/* accept(2) the next client on lfd and narrate it ("accept() = fd 4 from
 * 127.0.0.1:35410  state=ESTABLISHED"); a failed accept() costs that
 * connection only (accept_failed()), and the next is taken. Returns the
 * connected descriptor. */
int accept_client(int lfd);

/* Step mode (-s CTL): narrate "step: about to WHAT, press Enter" with the
 * socket's state, then wait for one line from CTL, so that you (or a test)
 * can look at ss and strace while the connection is held still. At the end
 * of CTL the program stops pausing. With -p MS, first narrate "step: about
 * to WHAT, pausing MS ms" and sleep that long (nanosleep(2)): a pause
 * before each step of the teardown, with no terminal needed. Without -s
 * and -p it does nothing. */
void step(struct args *a, int fd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Narrates the result n of a read() on fd and returns n: "read() = 12
 * bytes", "read() = 0: " and at_zero (what end of file means here), or
 * "read() = -1: " and the reason, errno kept (said_failed(), with the
 * bound timeout that bound_waits() set on fd: the server's -t; 0: none);
 * each with fd's state. */
ssize_t said_read(int fd, ssize_t n, const char *at_zero, int timeout);

/* Narrates a call on fd that returned -1, errno kept: "write() = -1:
 * Broken pipe  state=CLOSE_WAIT". EAGAIN, with a timeout, is a wait that
 * lasted that long (bound_waits(): SO_RCVTIMEO, SO_SNDTIMEO): the client
 * sent nothing, or read nothing, for timeout seconds (idle says which:
 * "nothing", "not read") and is dropped: "(nothing for 30 s): client
 * dropped". */
void said_failed(int fd, const char *call, const char *idle, int timeout);

/* -r BYTES: setsockopt(SO_RCVBUF) on fd, narrated (socket(7)). A small
 * receive buffer fills after a few kilobytes when nobody reads, and the
 * window advertised to the peer drops to zero: a FIN queued behind more
 * data then waits. Set before listen() or connect(): tcp(7). */
void set_rcvbuf(int fd, int bytes);

/* The TCP state of socket fd, by the kernel's name ("ESTABLISHED",
 * "FIN_WAIT1", "CLOSE"...), read with getsockopt(TCP_INFO). Linux-specific. */
const char *tcp_state(int fd);

/* Bytes received on fd and not read yet (ioctl FIONREAD, tcp(7) SIOCINQ). */
int unread(int fd);

/* getaddrinfo(3) for a->host and a->port, stream sockets, any family. The
 * server's (passive) address is numeric, and a bad one is a usage error;
 * "any" is every interface: a NULL node with AI_PASSIVE, the wildcard
 * address of each family (lab 05 says why). Exits on failure; the caller
 * frees the list with freeaddrinfo(). */
struct addrinfo *resolve(const char *usage, const struct args *a, int passive);

/* fd's own address, read with getsockname(2), formatted into out: after
 * bind() to port 0 (or connect()) it shows the port the kernel chose. */
void local_name(int fd, char *out);

/* "127.0.0.1:5007" or "[::1]:5007", numeric, into out (ADDR_STRLEN bytes). */
void format_addr(const struct sockaddr *sa, socklen_t len, char *out);

/* "AF_INET" or "AF_INET6", for the narration. */
const char *family_name(int family);

/* == canonical: bytes == */
/* The protocol: ASCII a-z become A-Z, every other byte is left alone. */
void upcase(char *buf, size_t n);

/* write() until all n bytes are out: a write may take fewer bytes than
 * asked (a partial write) or be interrupted by a signal (EINTR). Returns 0,
 * or -1 with errno set. */
int write_all(int fd, const char *buf, size_t n);
/* == end canonical: bytes == */

#endif
