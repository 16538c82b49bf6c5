/* client.c - lab 05: a TCP client, over IPv4 or IPv6.
 *
 *   ./client HOST PORT < input > output
 *
 * getaddrinfo() -> for each address: socket() -> connect(), until one works
 * -> copy stdin to the socket and the socket to stdout -> shutdown(SHUT_WR)
 * at the end of stdin -> read until the server closes.
 * See getaddrinfo(3), connect(2), tcp(7), shutdown(2), poll(2).
 */
#include "lab.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: client "
    "HOST PORT < input > output\n"
    "  Sends standard input to the upper-case echo server at HOST PORT over\n"
    "  TCP and writes the replies to standard output. HOST is a name\n"
    "  (localhost) or an address (127.0.0.1, ::1); each of its addresses is\n"
    "  tried in turn.\n"
    ;


int main(int argc, char *argv[])
{
    prog = "client";
    const char *host, *port;
    struct addrinfo hints, *res = NULL;
    static char out[CHUNK], in[BUF_SIZE];
    size_t pending = 0, off = 0;   /* bytes of out[] not yet sent */
    unsigned long long sent = 0, echoed = 0;   /* bytes, for the check at the end */
    int stdin_done = 0, fd = -1, rc = -1;
    int gai = EAI_SYSTEM;   /* getaddrinfo's result; EAI_SYSTEM: see errno */
    char name[ADDR_STRLEN] = "";

    open_std_fds();   /* before any socket can take 0, 1 or 2 (lab.c) */
    parse_client_args(argc, argv, usage, &host, &port);
    signal(SIGPIPE, SIG_IGN);   /* a vanished server gives EPIPE, not death */

    memset(&hints, 0, sizeof hints);
    /* TODO 6: Resolve host and port with getaddrinfo(3) into res, the
     * return value into gai. Set hints first: any family (AF_UNSPEC, so
     * both IPv6 and IPv4 addresses come back), stream sockets, and
     * AI_NUMERICSERV (the port is a number: no lookup in /etc/services). */
    errno = ENOSYS; /* step 6: replace this line */
    if (gai == EAI_SYSTEM)
        fail("getaddrinfo %s", host);
    if (gai != 0)
        failx("getaddrinfo %s: %s", host, gai_strerror(gai));   /* unknown name... */
    say_addrinfo(host, port, res);

    /* A name may have several addresses (localhost: ::1 and 127.0.0.1):
     * try them in the order getaddrinfo gave, keep the first that works. */
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        format_addr(ai->ai_addr, ai->ai_addrlen, name);
        fd = -1;
        rc = -1;
        /* TODO 7: Create a socket for this address with socket(2), with
         * ai's family, type and protocol, into fd. If that worked, narrate
         * it as the lesson's transcripts show and connect(2) it to
         * ai->ai_addr (ai->ai_addrlen bytes), result in rc: connect() sends
         * the SYN and returns when the handshake is done, or has failed. If
         * socket() failed (a machine without IPv6 refuses AF_INET6), leave
         * rc at -1: the code below narrates either failure and tries the
         * next one. */
        errno = ENOSYS; /* step 7: replace this line */
        if (rc == 0)
            break;
        int err = errno;   /* ECONNREFUSED: nobody listens on that port */
        if (fd == -1) {
            say("socket(%s, SOCK_STREAM) = -1: %s", family_name(ai->ai_family), strerror(err));
        } else {
            say("connect(%s) = -1: %s  state=%s", name, strerror(err), tcp_state(fd));
            if (close(fd) == -1)
                say("close(fd %d) = -1: %s", fd, strerror(errno));
            else
                say("close(fd %d) = 0", fd);
        }
        errno = err;
    }
    freeaddrinfo(res);
    if (rc == -1)
        fail("connect %s", name);   /* the last address's reason */
    say("connect(%s) = 0  state=%s", name, tcp_state(fd));

    /* We must never block writing while the server is blocked writing its
     * replies to us: both buffers would fill and neither side would read
     * again. So the socket is non-blocking and poll(2) says when to move. */
    if (set_nonblocking(fd) == -1)   /* F_GETFL, then F_SETFL: lab.c */
        fail("fcntl");

    for (;;) {
        struct pollfd p[2] = {
            { .fd = (stdin_done || pending) ? -1 : 0, .events = POLLIN },
            { .fd = fd, .events = POLLIN | (pending ? POLLOUT : 0) },
        };
        if (poll(p, 2, -1) == -1) {
            if (errno == EINTR)
                continue;
            fail("poll");
        }
        if (p[1].revents & POLLNVAL)   /* fd is not open: poll() would say so for ever */
            failx("poll: fd %d is not open (POLLNVAL)", fd);
        if (p[0].revents) {                      /* more input to send */
            ssize_t n = read(0, out, sizeof out);
            if (n == -1 && errno != EINTR)
                fail("read stdin");
            if (n > 0) {
                pending = (size_t)n;
                off = 0;
            }
            if (n == 0) {
                /* End of input: send our FIN, keep reading the replies. */
                if (shutdown(fd, SHUT_WR) == -1)
                    fail("shutdown");
                say("shutdown(SHUT_WR) = 0  state=%s", tcp_state(fd));
                stdin_done = 1;
            }
        }
        if (pending && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = write(fd, out + off, pending);
            if (w == -1 && errno != EAGAIN && errno != EINTR)
                fail("write");
            if (w > 0) {
                if ((size_t)w < pending)
                    say("write() = %zd bytes (partial: %zu asked)  state=%s", w, pending,
                        tcp_state(fd));
                else
                    say("write() = %zd bytes  state=%s", w, tcp_state(fd));
                off += (size_t)w;
                pending -= (size_t)w;
                sent += (unsigned long long)w;
            }
        }
        if (p[1].revents & (POLLIN | POLLERR | POLLHUP)) {
            ssize_t n = read(fd, in, sizeof in);
            if (n == -1 && errno != EAGAIN && errno != EINTR)
                fail("read");
            if (n == 0) {
                say("read() = 0: server closed  state=%s", tcp_state(fd));
                break;
            }
            if (n > 0) {
                say("read() = %zd bytes  state=%s", n, tcp_state(fd));
                echoed += (unsigned long long)n;
                if (write_all(1, in, (size_t)n) == -1)
                    fail("write stdout");
            }
        }
    }
    if (!stdin_done || pending)
        failx("the server closed the connection before all input was sent");
    if (echoed != sent)   /* an echo: as many bytes come back as went out */
        failx("the server closed the connection early: %llu bytes sent, %llu echoed",
              sent, echoed);
    (void)close(fd);   /* all replies are in: nothing to lose */
    return 0;
}
