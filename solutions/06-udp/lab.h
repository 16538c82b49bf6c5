/* lab.h - the few helpers that this lab's server.c and client.c share.
 *
 * Every socket call stays in server.c and client.c, in the order of the
 * lesson; this file only holds narration, error exits, argument parsing
 * (and the usage texts), address lookups and comparisons, the server's
 * signal handler and the client's input buffer. It belongs to lab 06 alone:
 * each lab carries its own small copy, so a lab directory can be read,
 * built and changed without looking anywhere else.
 */
#ifndef LAB_H
#define LAB_H

#include <stddef.h>
#include <netdb.h>
#include <sys/socket.h>

#define DEFAULT_ADDR "127.0.0.1"   /* the server's -b: loopback, this machine only */
#define DEFAULT_PORT "5006"        /* used when the server is given no PORT */
#define DEFAULT_TIMEOUT 1000       /* the client's -t: reply timeout, in ms */
/* No UDP datagram carries more than 65535 - 8 (UDP header) bytes of data;
 * over IPv4 the 20-byte IP header counts too, so 65507 (udp(7), ip(7)).
 * A buffer of 64 KiB holds any datagram whole. */
#define BUF_SIZE 65536
#define MAX_LINE BUF_SIZE             /* the client's longest input line */
#define MAX_LINE_IS "the client's buffer (a datagram holds 65507 at most)"

/* Each program's usage text: for -h, and after a usage error. */
extern const char server_usage[], client_usage[];

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

/* The command line. Options not given keep these defaults. */
struct options {
    const char *host;   /* server: -b ADDR (DEFAULT_ADDR) or '*'; client: HOST */
    const char *port;   /* PORT: digits only, checked (server: DEFAULT_PORT) */
    const char *local;  /* client -b ADDR: the address to send from (NULL: any) */
    const char *lport;  /* client -p PORT: the port to send from (NULL: any) */
    int family;         /* client: AF_INET or AF_INET6, -b ADDR's; AF_UNSPEC without */
    long size;          /* server -s SIZE: receive buffer, 1 to BUF_SIZE */
    long rcvbuf;        /* server -r BYTES: SO_RCVBUF; 0 leaves the kernel's */
    long timeout;       /* client -t MS: reply timeout (DEFAULT_TIMEOUT) */
    int connect;        /* client -c: connect() the socket */
    int no_reply;       /* client -n: send only, expect no replies */
    /* EXTRA 1: the client's -r */
    long retries;       /* client -r RETRIES: a line without reply goes again, at most so often */
    /* END EXTRA 1 */
    /* EXTRA 2: the server's -l */
    long limit;         /* server -l PER_SECOND: replies a second to any one address (0: all) */
    /* END EXTRA 2 */
};

/* Reads the command line into opt. takes lists the option letters this
 * program accepts: "bsr" for the server, which takes [PORT]; "bcnpt" for
 * the client, which takes HOST PORT. -h/--help prints the usage and exits
 * 0. A PORT that is not digits only, or out of range (server 0 to 65535, 0
 * meaning any free port; client 1 to 65535), is a usage error, refused
 * before any lookup or socket call. */
/* EXTRA 1: the client's -r */
/* The client also takes -r RETRIES, 1 to 10 (opt->retries). */
/* END EXTRA 1 */
/* EXTRA 2: the server's -l */
/* The server also takes -l PER_SECOND, 1 to 1000000 (opt->limit). */
/* END EXTRA 2 */
void parse_args(int argc, char *argv[], const char *usage, const char *takes,
                struct options *opt);

/* The server's end: on SIGINT or SIGTERM, fd is closed, "[server] signal:
 * exit 0" said, and the process exits with status 0. */
void exit_on_signal(int fd);

/* The client's local address, for bind(): -b ADDR and -p PORT of opt, of
 * family (AF_INET or AF_INET6, the server's). NULL when the client has
 * neither option: the kernel binds the socket at its first send. */
struct addrinfo *local_address(const struct options *opt, int family);

/* "AF_INET" or "AF_INET6", for narration. */
const char *family_name(int family);

/* An internet address as narration shows it: "127.0.0.1:5006" or
 * "[::1]:5006". Returns a static buffer. */
const char *addr_name(const struct sockaddr *sa, socklen_t len);

/* The port of an AF_INET or AF_INET6 address, in host byte order; -1 for
 * any other family (no address: AF_UNSPEC). */
int addr_port(const struct sockaddr *sa);

/* 1 when a and b are the same family, address and port, else 0. */
int same_addr(const struct sockaddr *a, const struct sockaddr *b);

/* 1 for the wildcard address, 0.0.0.0 or ::, which takes datagrams sent to
 * any address of the machine. */
int is_wildcard(const struct sockaddr *sa);
/* EXTRA 2: the key of a source address, for the rate limit */

/* The 16 bytes of sa's IP address, the port left out: an IPv6 address as
 * it is, an IPv4 one as IPv6 writes it (::ffff:a.b.c.d), so that a client
 * is one source whichever family the server's socket shows it in. */
void addr_key(const struct sockaddr *sa, unsigned char key[16]);
/* END EXTRA 2 */

/* Linux-specific (ip(7), ipv6(7)): room for the control message that
 * IP_PKTINFO or IPV6_RECVPKTINFO adds to a received datagram: an
 * in6_pktinfo is 20 bytes (an in_pktinfo 12), CMSG_SPACE adds the header.
 * lab.c checks the size against the real structures. */
#define PKTINFO_SPACE CMSG_SPACE(20)

/* The sender of a datagram that recvmsg() put in msg, as addr_name() shows
 * it; then, when msg carries an IP_PKTINFO or IPV6_PKTINFO control
 * message, sep and the address the datagram was sent to:
 * "127.0.0.1:40000 to 127.0.0.2". Returns a static buffer. */
const char *peer_name(struct msghdr *msg, const char *sep);

/* Narration for SO_RCVBUF: what Linux made of asked bytes, got being what
 * getsockopt() returned: "(asked 16777216, capped at net.core.rmem_max
 * 4194304, doubled: socket(7))". Returns a static buffer. */
const char *rcvbuf_rule(long asked, int got);

/* == canonical: lines == */
/* A client's standard input, read with read(2) into a buffer of its own,
 * not with getline(3): lines that stdio holds in its buffer would be
 * invisible to poll(2). buf[start..have) is read and not sent yet; done
 * once read() said end of file. A line is at most MAX_LINE bytes (lab.h;
 * MAX_LINE_IS says why, in the error). next_line(): 1 when a whole line
 * is there, the first *len bytes of buf + start, without its newline; 0
 * when more input is needed, or none will come (done). A longer line:
 * exit 1, naming it, the number-th. read_input(), when poll(2) says there
 * is more: read(2) on 0 after the part not sent. line_sent(): the line of
 * len bytes went, and its newline with it. */
struct input {
    char buf[MAX_LINE + 1];
    size_t start, have;
    int done;
};
int next_line(struct input *in, size_t *len, long number);
void read_input(struct input *in);
void line_sent(struct input *in, size_t len);
/* == end canonical: lines == */

/* == canonical: bytes == */
/* The protocol: ASCII a-z become A-Z, every other byte is left alone. */
void upcase(char *buf, size_t n);

/* write() until all n bytes are out: a write may take fewer bytes than
 * asked (a partial write) or be interrupted by a signal (EINTR). Returns 0,
 * or -1 with errno set. */
int write_all(int fd, const char *buf, size_t n);
/* == end canonical: bytes == */

#endif
