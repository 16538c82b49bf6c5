/* lab.h - the helpers that this lab's server.c, client.c and measure.c share.
 *
 * Every call the lesson is about stays in server.c, client.c and measure.c, in the
 * order of the lesson: the responder's socket and its echo, the measurer's
 * clock around its round trips, its statistics, its bulk transfer and its
 * connection loop. This file holds the rest: narration, error exits, the
 * command lines, the transports' addresses, the test's header, the byte
 * pattern, the responder started over a pipe or a socketpair (lab 02's
 * fork and exec), the figures printed. It belongs to lab 11 alone: each
 * lab carries its own small copy, so a lab directory can be read, built
 * and changed without looking anywhere else.
 */
#ifndef LAB_H
#define LAB_H

#include <stddef.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>

#define DEFAULT_PATH "/tmp/lab11.sock"   /* unix: the socket file */
#define DEFAULT_PORT 5011                /* tcp, udp: on 127.0.0.1 */
#define CHUNK 65536          /* bytes a bulk write() hands the kernel, and a read() takes */
#define PERIOD 251           /* the pattern repeats every 251 bytes (a prime): see pattern() */
#define HDR_SIZE 64          /* a test's header, in bytes: see struct test */
#define MAX_SIZE (1 << 20)   /* -s: the largest message, 1 MiB (UDP: 65507) */
#define MAX_N 1000000        /* -n, -w: at most a million (8 MB of samples) */
#define MAX_BYTES (1LL << 40)   /* -b: a bulk transfer's most, 1 TiB */

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

/* == canonical: bytes == */
/* The protocol: ASCII a-z become A-Z, every other byte is left alone. */
void upcase(char *buf, size_t n);

/* write() until all n bytes are out: a write may take fewer bytes than
 * asked (a partial write) or be interrupted by a signal (EINTR). Returns 0,
 * or -1 with errno set. */
int write_all(int fd, const char *buf, size_t n);
/* == end canonical: bytes == */

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

/* The transports, by the name both programs take on their command line. */
enum kind { T_PIPE, T_SOCKETPAIR, T_UNIX, T_TCP, T_TCP_NODELAY, T_UDP };

struct transport {
    enum kind kind;
    const char *name;          /* "pipe", "socketpair", "unix", "tcp"... */
    int family, type;          /* for socket(): AF_UNIX or AF_INET, SOCK_STREAM or
                                  SOCK_DGRAM; a pipe has none (0) */
    union {                    /* unix, tcp, udp: the address, for bind() or connect() */
        struct sockaddr sa;
        struct sockaddr_un un;
        struct sockaddr_in in;
    };
    socklen_t len;             /* its length */
    char where[120];           /* as errors and the readiness line show it:
                                  /tmp/lab11.sock, 127.0.0.1:5011 */
    char shown[124];           /* as the narration shows it: "/tmp/lab11.sock"
                                  (quoted, as lab 01 does), 127.0.0.1:5011 */
    int rfd, wfd;              /* the server of a pipe or a socketpair: the
                                  descriptors it inherited (a socketpair: one, both) */
};

/* A test, as the measurer's command line asks for it and as its header
 * tells the responder: HDR_SIZE bytes of text, "MODE SIZE COUNT NODELAY",
 * padded with spaces and ended by a newline: "rtt 1 11000 0" (COUNT: the
 * round trips or connections, warm-up included; bulk: the bytes). A stream
 * has no boundaries: a header of a fixed size is read exactly, so the
 * responder never takes the first message's bytes for part of it. Each
 * test of a connection has its header; udp has none (each datagram comes
 * back as it is). */
enum mode { RTT, NAGLE, BULK, CONN };
struct test {
    enum mode mode;
    size_t size;               /* -s: bytes a message (rtt, nagle) */
    long n, warmup;            /* -n, -w: measured and warm-up rounds or connections */
    long long bytes;           /* -b: bytes of a bulk transfer */
    int nodelay;               /* tcp-nodelay: TCP_NODELAY on both ends */
    /* EXTRA 1: the client's -v */
    int writev;                /* -v: nagle's request in one writev() */
    /* END EXTRA 1 */
    /* EXTRA 2: -B BYTES, both ends */
    int buffer;                /* -B: SO_SNDBUF and SO_RCVBUF (pipe: F_SETPIPE_SZ); 0: as is */
    /* END EXTRA 2 */
};
const char *mode_name(enum mode m);

/* The command lines. -h/--help prints the usage and exits 0; anything
 * wrong is a usage error (exit 2), found before any socket exists: an
 * unknown transport or option, a number that is not digits only or out of
 * its range, a test the transport cannot run (udp: round trips only; conn:
 * unix and tcp only; nagle: SIZE 3 or more). server [-t SECONDS]
 * TRANSPORT [PATH|PORT|FDS]; client [-m MODE] [-n N] [-s SIZE] [-w N]
 * [-b BYTES] TRANSPORT [PATH|PORT] (options first: POSIX getopt(3)). */
void parse_server_args(int argc, char *argv[], const char *usage,
                       struct transport *t, int *timeout);
void parse_client_args(int argc, char *argv[], const char *usage,
                       struct transport *t, struct test *x);

/* The header of test x into hdr (HDR_SIZE bytes); and back: 0, or -1 when
 * hdr is no header this lab's client writes. */
void make_header(char *hdr, const struct test *x);
int parse_header(const char *hdr, struct test *x);
/* The client's header, out on fd with write_all() and narrated: "[client]
 * write() = 64 bytes: the header "rtt 1 11000 0"", then note. A failure
 * exits 1, as lost_peer() says. */
void send_header(int fd, const char *hdr, const char *note);

/* The bytes every test sends: byte k of a stream is k % PERIOD. pattern()
 * returns a buffer of n + PERIOD such bytes (freed by the caller): the
 * bytes from stream offset k are at pattern + k % PERIOD. A lost, doubled
 * or misplaced piece shows as bytes that differ. */
unsigned char *pattern(size_t n);
/* The same bytes, into the n bytes at p (the server's, static: nothing to
 * free when a signal ends it). */
void fill_pattern(unsigned char *p, size_t n);

/* read() until n bytes are in buf: returns n, fewer at end of file, or -1
 * with errno set. EINTR is retried. */
ssize_t read_full(int fd, void *buf, size_t n);

/* b - a, in nanoseconds. */
long long elapsed_ns(const struct timespec *a, const struct timespec *b);

/* qsort(3)'s comparison for an array of long long. */
int compare_ns(const void *a, const void *b);

/* The measurer of a pipe or a socketpair starts its responder: ./server
 * next to its own binary (argv0's directory), forked and exec'd with the
 * child's descriptors inherited, as lab 02 does. pipe: two pipes, t->rfd
 * and t->wfd are the client's ends; socketpair: one pair, both are the
 * client's end. Narrated. Returns the child's pid. */
pid_t spawn_responder(struct transport *t, const char *argv0);

/* After the test: the responder of a pipe or a socketpair (pid) must exit
 * 0 once the client's ends are closed; else exit 1, saying how it ended. */
void reap_responder(pid_t pid);

/* A read or write in the middle of a test failed, or read() found the end
 * of the stream (r >= 0): the responder is gone, or a datagram was lost.
 * Exits 1: "client: read: the server closed the connection (killed?) in
 * round 3 of 11000", "client: write: Connection reset by peer" (rounds 0:
 * no round named). */
_Noreturn void lost_peer(const char *call, ssize_t r, long round, long rounds);

/* The figures, one line on stdout each (the format is stable: bench and
 * the tests read it). */
void print_rtt(const struct transport *t, const struct test *x,
               long long median, long long p99, long long min);
void print_bulk(const struct transport *t, long long bytes, long long ns);
void print_conn(const struct transport *t, long n, long long ns);

/* The server's signals, for a port or inherited descriptors (a socket
 * file has own_socket_file()'s): SIGINT and SIGTERM close fd and end it
 * with status 0, after "[server] signal: exit 0". */
void exit_on_signals(int fd);

/* The TCP state of a socket, for the narration: "  state=ESTABLISHED",
 * or "" for any other socket (getsockopt(TCP_INFO), Linux-specific). */
const char *tcp_note(int fd);

/* "AF_UNIX", "AF_INET"; "SOCK_STREAM", "SOCK_DGRAM": for the narration. */
const char *family_name(int family);
const char *type_name(int type);

/* The responder's side of a bulk test: reads bytes from fd and checks
 * each one against the pattern (pat: pattern(CHUNK)). Returns 1 when all
 * came intact, 0 when one differed, -1 when the stream ended early or
 * read() failed (errno set). */
int drain(int fd, long long bytes, const unsigned char *pat);

/* The measurer's request of x->size bytes from msg: one write_all(); for
 * -m nagle two write()s, 2 bytes, then the rest (RFC 896's small
 * segment). Returns 0, or -1 with errno set. */
int send_request(int fd, const unsigned char *msg, const struct test *x);

/* The server's address, read back with getsockname(2) into t (its sa,
 * len, where, shown): after bind() to port 0, the port the kernel chose. */
void local_name(int fd, struct transport *t);

/* nagle's server: the ACK of each request delayed, as the receiver's ACKs
 * are once a connection goes back and forth (RFC 1122 4.2.3.2): the
 * delayed ACK that Nagle's algorithm waits for. TCP only. */
void delay_acks(int fd);

/* The server of udp: each datagram back to its sender, until a signal.
 * me: the server's own address, never answered. Narrated: a new sender,
 * a reply that could not go; never a round trip. */
_Noreturn void serve_datagrams(int fd, const struct sockaddr_in *me);

/* The server's narration of a test's header; accepted: the connection's
 * fd, narrated first (its accept() was not), or -1. */
void say_test(const struct test *x, int accepted);

/* measure.c: the client's measurements, on the descriptors t->rfd and
 * t->wfd (conn: its own connections to t->sa). Each prints its line of
 * figures, or exits 1 (lost_peer()). */
void measure_rtt(const struct transport *t, const struct test *x);
void measure_bulk(const struct transport *t, const struct test *x);
void measure_conn(const struct transport *t, const struct test *x);

/* The end of a bulk transfer over tcp (Nagle on): its last segment, less
 * than a full one, may wait for the ACK of an earlier small one (Linux's
 * Nagle, with Minshall's change: a write of 64 KiB on lo leaves a small
 * tail each time), and the receiver may delay that ACK by 40 ms, the
 * test's clock running. push_tail() sends it now. Other transports:
 * nothing to do. */
void push_tail(const struct transport *t, int fd);

/* The server's side of a bulk test (drain(), then '=' when every byte was
 * intact, '!' if not) or of one conn round trip ('='). Returns 0, or -1
 * when this client is to be dropped (narrated). */
int answer(int rfd, int wfd, const struct test *x, const unsigned char *pat);

#endif
