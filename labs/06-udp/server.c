/* server.c - lab 06: a UDP server (upper-case echo).
 *
 *   ./server [-b ADDR] [-s SIZE] [-r BYTES] [PORT]
 *
 * getaddrinfo() -> socket() -> bind() -> recvmsg() -> sendto() the sender,
 * one datagram after another, until SIGINT or SIGTERM. No listen(), no
 * accept(): there is no connection, each datagram carries its sender's
 * address and port. See udp(7), ip(7), ipv6(7), recv(2), send(2).
 */
#include "lab.h"

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char usage[] =
    "usage: server [-b ADDR] [-s SIZE] [-r BYTES] [PORT]\n"
    "  Serves upper-case echo over UDP on ADDR port PORT (default\n"
    "  " DEFAULT_ADDR " " DEFAULT_PORT "); PORT 0 picks any free port.\n"
    "  -b ADDR   the address to bind, numeric: 127.0.0.1 and ::1 are this\n"
    "            machine only; 0.0.0.0 or :: (IPv4 and IPv6) open the port\n"
    "            to every network the machine is on\n"
    "  -s SIZE   receive buffer in bytes, 1 to 65536 (default 65536, room\n"
    "            for any datagram); a longer datagram is truncated\n"
    "  -r BYTES  ask for a kernel receive queue (SO_RCVBUF) of BYTES; when\n"
    "            it is full, arriving datagrams are dropped\n";

static int sfd = -1;   /* global: the signal handler closes it */

/* SIGINT/SIGTERM end the server with status 0. There is no file to remove
 * (an internet socket has no name in the filesystem); only async-signal-safe
 * calls here (signal-safety(7)). */
static void on_signal(int sig)
{
    static const char goodbye[] = "[server] signal: exit 0\n";
    (void)sig;
    (void)close(sfd);   /* the kernel would, at exit; valgrind --track-fds sees it closed */
    if (write(2, goodbye, sizeof goodbye - 1) == -1)
        _exit(1);
    _exit(0);
}

int main(int argc, char *argv[])
{
    prog = "server";
    static char buf[BUF_SIZE];
    struct options opt;
    struct addrinfo *ai = NULL, hints = {
        .ai_family = AF_UNSPEC,      /* IPv4 or IPv6: whatever ADDR is */
        .ai_socktype = SOCK_DGRAM,   /* UDP */
        .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV,
    };
    struct sockaddr_storage me;   /* room for an IPv4 or an IPv6 address */
    socklen_t melen = sizeof me;
    int rc = -1;

    parse_args(argc, argv, usage, "bsr", &opt);
    signal(SIGPIPE, SIG_IGN);   /* the course's rule; datagrams never raise it */

    /* getaddrinfo(3) turns the strings into a socket address. With
     * AI_NUMERICHOST it never asks DNS: ADDR must be a number, and there is
     * exactly one result. */
    int gai = getaddrinfo(opt.host, opt.port, &hints, &ai);
    if (gai == EAI_NONAME)   /* not a numeric address: the user's error */
        usage_error(usage, "bad ADDR '%s': %s", opt.host, gai_strerror(gai));
    if (gai == EAI_SYSTEM)
        fail("getaddrinfo %s", opt.host);
    if (gai != 0)
        failx("getaddrinfo %s: %s", opt.host, gai_strerror(gai));

    /* TODO 1: Create the socket with socket(2), as getaddrinfo describes
     * it: domain ai->ai_family (AF_INET or AF_INET6), type ai->ai_socktype
     * (SOCK_DGRAM), protocol ai->ai_protocol (UDP). Keep it in sfd. */
    errno = ENOSYS; /* step 1: replace this line */
    if (sfd == -1)
        fail("socket");
    say("socket(%s, SOCK_DGRAM) = fd %d", family_name(ai->ai_family), sfd);

    if (opt.rcvbuf > 0) {
        /* The kernel queues arriving datagrams until we receive them, up to
         * SO_RCVBUF bytes (socket(7)); counted with the kernel's overhead
         * per datagram, not just the data. Linux doubles the value asked
         * for and enforces a minimum: getsockopt() shows what we got. */
        int size = (int)opt.rcvbuf;
        socklen_t sizelen = sizeof size;
        if (setsockopt(sfd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size) == -1)
            fail("setsockopt SO_RCVBUF");
        say("setsockopt(SO_RCVBUF, %ld) = 0", opt.rcvbuf);
        if (getsockopt(sfd, SOL_SOCKET, SO_RCVBUF, &size, &sizelen) == -1)
            fail("getsockopt SO_RCVBUF");
        say("getsockopt(SO_RCVBUF) = %d (Linux doubles the request, with a minimum)", size);
    }

    /* TODO 2: Give the socket its address, the one clients send to: bind(2)
     * sfd to ai->ai_addr (ai->ai_addrlen bytes). Keep the result in rc. */
    errno = ENOSYS; /* step 2: replace this line */
    if (rc == -1)
        fail("bind %s", addr_name(ai->ai_addr, ai->ai_addrlen));
    say("bind(%s) = 0", addr_name(ai->ai_addr, ai->ai_addrlen));
    freeaddrinfo(ai);
    /* sigaction(2), not signal(): under -D_POSIX_C_SOURCE, glibc's signal()
     * resets the handler on entry, so a second signal would kill us. */
    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    /* With PORT 0 the kernel chose the port: getsockname(2) tells which. */
    if (getsockname(sfd, (struct sockaddr *)&me, &melen) == -1)
        fail("getsockname");
    printf("receiving on %s\n", addr_name((struct sockaddr *)&me, melen));   /* readiness */
    (void)fflush(stdout);   /* no reader is no reason to stop serving */

    for (;;) {
        struct sockaddr_storage from;   /* the sender's address, filled by recvmsg */
        struct iovec iov = { .iov_base = buf, .iov_len = (size_t)opt.size };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
        ssize_t n = -1, w = -1;

        /* TODO 3: Receive one datagram with recvmsg(2), and its sender's
         * address and port with it: point msg.msg_name at from and set
         * msg.msg_namelen to sizeof from (recvmsg replaces it with the
         * address's real length). Pass the flag MSG_TRUNC (Linux-specific,
         * recv(2)): n is then the datagram's real length, even when buf was
         * too short. */
        errno = ENOSYS; /* step 3: replace this line */
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1)
            fail("recvmsg");
        /* addr_name() returns a static buffer: keep a copy for the reply. */
        char sender[96];
        snprintf(sender, sizeof sender, "%s",
                 addr_name((struct sockaddr *)&from, msg.msg_namelen));
        size_t len = (size_t)n;   /* 0 is an empty datagram, not an end */
        /* POSIX: recvmsg sets MSG_TRUNC in msg_flags when the datagram was
         * longer than the buffer; the rest of it is gone for good. */
        if (msg.msg_flags & MSG_TRUNC) {
            len = iov.iov_len;
            say("recvmsg() = %zd bytes from %s, buffer holds %zu: truncated (MSG_TRUNC)",
                n, sender, len);
        } else {
            say("recvmsg() = %zd bytes from %s", n, sender);
        }
        upcase(buf, len);

        do {
            /* TODO 4: Reply with sendto(2): the first len bytes of buf, to
             * the sender's address (from, msg.msg_namelen bytes long).
             * Keep the result in w. */
            errno = ENOSYS; /* step 4: replace this line */
        } while (w == -1 && errno == EINTR);
        /* Nothing tells us whether the reply arrives: a client that is gone
         * costs its reply only. */
        if (w == -1)
            say("sendto(%s) = -1: %s", sender, strerror(errno));
        else
            say("sendto(%s) = %zd bytes", sender, w);
    }
}
