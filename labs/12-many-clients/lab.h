/* lab.h - the few helpers that this lab's server (server.c, clients.c)
 * and client.c share.
 *
 * Every socket call the lesson is about stays in server.c, clients.c and
 * client.c, in the order of the lesson; this file only holds narration,
 * error exits, argument parsing, the server's socket file and signals, the
 * clock, and byte shuffling. It belongs to lab 12 alone: each lab carries
 * its own small copy, so a lab directory can be read, built and changed
 * without looking anywhere else.
 */
#ifndef LAB_H
#define LAB_H

#include <signal.h>
#include <stddef.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#define DEFAULT_HOST "127.0.0.1"   /* the server's bind address: this host only */
#define DEFAULT_PORT "5012"        /* the server's port when none is given */
#define DEFAULT_IDLE 30            /* -t: seconds a client may be silent */
#define DEFAULT_MAX 64             /* -c: clients served at once */
#define MAX_CLIENTS 1000           /* -c's largest value */
#define MAX_LINE 4096              /* bytes of a line, without its newline */
#define OUT_MAX 65536              /* bytes of replies queued for a client that does not read */
#define BACKLOG 128                /* listen(2): connections the kernel queues for us */
/* "[host]:port", numeric, with room for what getnameinfo(3) may write:
 * NI_MAXHOST + NI_MAXSERV bytes (<netdb.h> declares them only under
 * _DEFAULT_SOURCE: lab.c checks the sum). It holds a socket path too
 * (sun_path: 108 bytes). */
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

/* == canonical: bytes == */
/* The protocol: ASCII a-z become A-Z, every other byte is left alone. */
void upcase(char *buf, size_t n);

/* write() until all n bytes are out: a write may take fewer bytes than
 * asked (a partial write) or be interrupted by a signal (EINTR). Returns 0,
 * or -1 with errno set. */
int write_all(int fd, const char *buf, size_t n);
/* == end canonical: bytes == */

/* The server's command line: server [-b ADDR] [-u PATH] [-t SECONDS]
 * [-c MAX] [PORT]. -h/--help prints the usage and exits 0; anything wrong
 * is a usage error (exit 2), found before any socket exists. PORT is
 * digits only, 0 to 65535 (0: any free port), kept a string, the form
 * getaddrinfo() takes. With -u, uaddr is ready for bind(). */
struct server_args {
    const char *host;          /* -b ADDR, numeric: 127.0.0.1, 0.0.0.0, ::1 */
    const char *port;          /* PORT */
    const char *upath;         /* -u PATH; NULL: no Unix listener */
    struct sockaddr_un uaddr;  /* its address, for bind() */
    int idle;                  /* -t SECONDS: a silent client is closed; 0: never */
    int max;                   /* -c MAX: clients served at once */
};
void parse_server_args(int argc, char *argv[], const char *usage,
                       struct server_args *a);

/* The client's command line: client [-i SECONDS] HOST PORT, or
 * client [-i SECONDS] PATH (a Unix socket file: a name with a '/').
 * SECONDS may have a fraction (0.005); it comes back in milliseconds. */
struct client_args {
    const char *host, *port;   /* HOST PORT; host NULL: a Unix path */
    struct sockaddr_un uaddr;  /* PATH, ready for connect() */
    long pause_ms;             /* -i: after each line sent; 0: none */
};
void parse_client_args(int argc, char *argv[], const char *usage, struct client_args *a);

/* "127.0.0.1:5012" or "[::1]:5012", numeric, into out (ADDR_STRLEN bytes). */
void format_addr(const struct sockaddr *sa, socklen_t len, char *out);

/* getaddrinfo() returned gai, not 0: exits. EAI_NONAME (no such host, or
 * not a number where one is wanted) is a usage error (exit 2): "bad WHAT
 * 'HOST' HINT"; EAI_SYSTEM has its reason in errno; any other code,
 * gai_strerror()'s text (exit 1). */
_Noreturn void gai_failed(const char *usage, int gai, const char *what, const char *host,
                          const char *hint);

/* fd's own address, read with getsockname(2), formatted into out: after
 * bind() to port 0 it shows the port the kernel chose. */
void local_name(int fd, char *out);

/* "AF_INET", "AF_INET6" or "AF_UNIX", for the narration. */
const char *family_name(int family);

/* A listening socket of family (AF_INET, AF_INET6, AF_UNIX) bound to sa,
 * non-blocking, each call narrated, as labs 05 and 01 made them; a socket
 * file is locked, born srwx------, a stale one replaced, and removed at
 * exit if still ours. shown: the address as the narration shows it. */
int listener(int family, const struct sockaddr *sa, socklen_t len, const char *shown);

/* Milliseconds on a clock that only goes forward (CLOCK_MONOTONIC,
 * clock_gettime(2)): for deadlines, which the wall clock may jump. */
long long now_ms(void);

/* The server's signals: SIGINT and SIGTERM set `stopping` and write one
 * byte to wake_fd, the write end of a pipe whose read end the server
 * polls (the self-pipe: a signal that comes just before poll() would
 * otherwise wait for the next event). Called once, after
 * own_socket_file(): it replaces that function's handler, and the file
 * is removed at exit() instead. */
extern volatile sig_atomic_t stopping;
void catch_signals(int wake_fd);

/* The server's clients (clients.c), one slot each in a table of -c MAX;
 * a free slot has fd -1. A client's bytes wait in two buffers: in[], read
 * and not yet a whole line; out[out_start..out_end), replies the kernel
 * has not taken yet (its socket buffer was full). */
struct client {
    int fd;
    int done;                  /* its end of file read: closed once out[] is sent */
    int told;                  /* 1: an error line queued, its input dropped; 2: then our FIN sent */
    long long last;            /* now_ms() when a byte last moved, either way */
    size_t have;               /* bytes in in[] */
    size_t out_start, out_end;
    char name[ADDR_STRLEN];    /* the peer, for the narration */
    char in[MAX_LINE + 1];     /* a line of MAX_LINE bytes and its newline */
    char out[OUT_MAX];
};
extern int clients_now, clients_max;   /* slots in use, slots in all (-c) */
extern int freed;                      /* a client was closed: a descriptor is free */

/* Step 4: read what fd has, and answer every whole line in it. Step 5:
 * hand the kernel what out[] holds, as much as it takes. Each returns -1
 * when the client was closed (end of file with nothing left to send, an
 * error, too long a line, too slow a reader), else 0. */
int client_read(struct client *c);
int client_flush(struct client *c);
/* Step 3: takes the connections waiting on lfd (path: the socket file of
 * a Unix listener, NULL for TCP), each into a free slot of table, or told
 * BUSY when none is free. Returns 1 when descriptors ran out. */
int accept_clients(int lfd, struct client *table, const char *path);
/* A last line to a client, best effort (it may not be read, or fit), then
 * close(): "BYE idle", "BYE shutdown", "BUSY". */
void client_bye(struct client *c, const char *line);
/* poll() said EINVAL: RLIMIT_NOFILE was lowered below the poll set's
 * nfds entries while the server ran. Clients are told BUSY and closed,
 * the last slots first, until the set fits; exits 1 if none is left. */
void clients_over_limit(struct client *table, int nfds);
/* close(), narrated, the slot freed. */
void client_close(struct client *c);

#endif
