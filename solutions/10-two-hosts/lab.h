/* lab.h - the few helpers that this lab's server.c and client.c share.
 *
 * Every socket call the lesson is about stays in server.c and client.c, in
 * the order of the lesson; this file only holds narration, error exits,
 * argument parsing (the client's ADDRESS), the server's socket file and
 * signals, its bound on each wait for a client, and byte shuffling (the
 * server's echo loop). It belongs to lab 10 alone: each lab carries its own
 * small copy, so a lab directory can be read, built and changed without
 * looking anywhere else.
 */
#ifndef LAB_H
#define LAB_H

#include <stddef.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#define DEFAULT_HOST "127.0.0.1"   /* the server's bind address: this host only */
#define DEFAULT_PORT "5010"        /* the server's port when none is given */
#define BUF_SIZE 65536             /* bytes the server moves per read() */
#define CHUNK (1024 * 1024)        /* bytes the client hands write() */
/* "[host]:port", numeric, with room for what getnameinfo(3) may write:
 * NI_MAXHOST + NI_MAXSERV bytes (<netdb.h> declares them only under
 * _DEFAULT_SOURCE: lab.c checks the sum). It holds a quoted socket path
 * too (sun_path: 108 bytes). */
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

/* The server's command line: server [-b ADDR] [-u PATH] [-t SECONDS] [PORT].
 * -h/--help prints the usage and exits 0; anything wrong is a usage error
 * (exit 2), found before any socket exists. PORT is digits only, 0 to
 * 65535 (0: any free port), kept a string, the form getaddrinfo() takes.
 * -u PATH is a file name, or @NAME: an abstract name (Linux, unix(7)).
 * For a file, uaddr and ulen are ready for bind(); for @NAME, uaddr is an
 * AF_UNIX address with sun_path all zeros and ulen is 0: server.c fills
 * them in (its step 2). */
struct server_args {
    const char *host;          /* -b ADDR, numeric: 127.0.0.1, 10.0.0.1, 0.0.0.0, ::1 */
    const char *port;          /* PORT */
    const char *upath;         /* -u PATH or @NAME as written; NULL: no -u */
    int abstract;              /* 1: -u @NAME */
    struct sockaddr_un uaddr;  /* the Unix listener's address... */
    socklen_t ulen;            /* ...and its length, for bind() */
    char ushown[ADDR_STRLEN];  /* "\"/tmp/x.sock\"" or @NAME, for the narration */
    int timeout;               /* -t SECONDS, for bound_waits(); 0: no bound */
    /* EXTRA 1: the server's -c */
    int creds;                 /* -c: narrate each Unix client's SO_PEERCRED */
    /* END EXTRA 1 */
};
void parse_server_args(int argc, char *argv[], const char *usage,
                       struct server_args *a);

/* The client's ADDRESS, or its -b SRCADDR: an address for connect() or
 * bind(), of family AF_UNIX, AF_INET or AF_INET6. */
struct address {
    int family;
    int abstract;              /* 1: @NAME, which client.c fills in (its step 5) */
    union {                    /* the address itself, as connect() takes it */
        struct sockaddr sa;
        struct sockaddr_un un;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
    };
    socklen_t len;             /* its length; 0 for @NAME until filled in */
    const char *name;          /* as errors show it: /tmp/x.sock, @x, 10.0.0.1:5010 */
    char shown[ADDR_STRLEN];   /* as the narration shows it: "/tmp/x.sock", @x, 10.0.0.1:5010 */
};

/* client [-b SRCADDR] ADDRESS: ADDRESS is unix:/path, @name, HOST:PORT or
 * [v6]:PORT, HOST and v6 numeric, PORT 1 to 65535, digits only; anything
 * else is a usage error, before any socket exists. For @name, to->un is an
 * AF_UNIX address with sun_path all zeros and to->len is 0. */
void parse_client_args(int argc, char *argv[], const char *usage, struct address *to);
/* EXTRA 2: the client's -b SRCADDR */
/* -b SRCADDR, port 0, of ADDRESS's family; len 0: no -b. */
extern struct address source;
/* END EXTRA 2 */

/* "127.0.0.1:5010" or "[::1]:5010", numeric, into out (ADDR_STRLEN bytes). */
void format_addr(const struct sockaddr *sa, socklen_t len, char *out);

/* The server's getaddrinfo() returned gai, not 0: exits. EAI_NONAME, an
 * ADDR that is no number, is a usage error (exit 2); EAI_SYSTEM has its
 * reason in errno; any other code, gai_strerror()'s text (exit 1). */
_Noreturn void gai_failed(const char *usage, int gai, const char *host);

/* fd's own address, read with getsockname(2), formatted into out: after
 * bind() to port 0 it shows the port the kernel chose. */
void local_name(int fd, char *out);

/* "AF_INET", "AF_INET6" or "AF_UNIX", for the narration. */
const char *family_name(int family);

/* Narrates what getaddrinfo() returned: every address, in order. */
void say_addrinfo(const char *host, const char *port, const struct addrinfo *res);

/* The server's signals: SIGINT and SIGTERM close both listeners (unix_fd
 * -1: none) and end it with status 0. With a socket file, the handler
 * that own_socket_file() installed then runs: the file is removed if it is
 * still ours, "[server] signal: unlink(PATH), exit 0". Else "[server]
 * signal: exit 0" (an abstract name goes with its socket, a port too).
 * Called once, after own_socket_file(). */
void exit_on_signals(int tcp_fd, int unix_fd);

/* The TCP state of socket fd, by the kernel's name ("ESTABLISHED",
 * "SYN_SENT", "LISTEN"...), read with getsockopt(TCP_INFO). Linux-specific.
 * tcp_note(): "  state=ESTABLISHED" for a TCP socket, "" for a Unix one,
 * for narration that serves both. */
const char *tcp_state(int fd);
const char *tcp_note(int fd);

/* == canonical: bytes == */
/* The protocol: ASCII a-z become A-Z, every other byte is left alone. */
void upcase(char *buf, size_t n);

/* write() until all n bytes are out: a write may take fewer bytes than
 * asked (a partial write) or be interrupted by a signal (EINTR). Returns 0,
 * or -1 with errno set. */
int write_all(int fd, const char *buf, size_t n);
/* == end canonical: bytes == */

/* The server's side of the protocol, the same as labs 01 and 05: read what
 * the client sends, upper-case ASCII a-z, write it back, until the client
 * closes (read() = 0). A failure ends this client only: narrated, not
 * fatal; so does a read() or write() that waited timeout seconds, the
 * bound that bound_waits() set on cfd (EAGAIN): "client dropped". The
 * caller closes cfd. */
void echo_client(int cfd, int timeout);

#endif
