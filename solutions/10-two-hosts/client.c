/* client.c - lab 10: one client for both kinds of socket, TCP and Unix.
 *
 *   ./client ADDRESS < input > output
 *           ADDRESS: unix:/path, @name, HOST:PORT or [v6]:PORT
 *
 * the address, parsed -> socket() of its family -> connect() -> copy stdin
 * to the socket and the socket to stdout -> shutdown(SHUT_WR) at the end
 * of stdin -> read until the server closes. Only the address differs:
 * everything after connect() is the same for both. See unix(7), ip(7),
 * connect(2), shutdown(2), poll(2).
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
    /* EXTRA 2: -b in the usage */
    "[-b SRCADDR] "
    /* END EXTRA 2 */
    "ADDRESS < input > output\n"
    "  Sends standard input to the upper-case echo server at ADDRESS and\n"
    "  writes the replies to standard output. ADDRESS is one of:\n"
    "    unix:/path   a Unix socket file (this host's filesystem)\n"
    "    @name        an abstract Unix name (Linux; this network namespace)\n"
    "    HOST:PORT    TCP to a numeric IPv4 address: 10.0.0.1:5010\n"
    "    [v6]:PORT    TCP to a numeric IPv6 address: [::1]:5010\n"
    /* EXTRA 2: -b in the usage */
    "  -b SRCADDR  TCP from this address of this host (bind() before\n"
    "              connect(); the kernel picks the port)\n"
    /* END EXTRA 2 */
    ;

int main(int argc, char *argv[])
{
    prog = "client";
    struct address to;
    static char out[CHUNK], in[BUF_SIZE];
    size_t pending = 0, off = 0;   /* bytes of out[] not yet sent */
    unsigned long long sent = 0, echoed = 0;   /* bytes, for the check at the end */
    int stdin_done = 0, fd = -1, rc = -1;

    open_std_fds();   /* before any socket can take 0, 1 or 2 (lab.c) */
    parse_client_args(argc, argv, usage, &to);   /* or exit 2, before any socket */
    signal(SIGPIPE, SIG_IGN);   /* a vanished server gives EPIPE, not death */

    if (to.abstract) {
        /* TODO 5: The abstract name in to.name ("@name") as an address, as
         * the server's step 2 made it (unix(7) "Address format"): to.un's
         * sun_path starts with a null byte, the name follows, no null byte
         * ends it; its length, in to.len, is where sun_path starts in the
         * structure plus the bytes of sun_path in use (offsetof(3)). */
        size_t len = strlen(to.name);   /* '@' and the name: that many bytes */
        memcpy(to.un.sun_path + 1, to.name + 1, len - 1);   /* [0] stays '\0' */
        to.len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
        /* END TODO 5 */
    }

    /* TODO 6: A stream socket(2) of the address's family (to.family) into
     * fd, checked and narrated as the lesson's transcripts show; then
     * connect(2) it to to.sa (to.len bytes), the result in rc. */
    fd = socket(to.family, SOCK_STREAM, 0);
    if (fd == -1)
        fail("socket");
    say("socket(%s, SOCK_STREAM) = fd %d%s", family_name(to.family), fd, tcp_note(fd));
    /* EXTRA 2: -b SRCADDR: our end's address, chosen before connect() */
    /* Without it, connect() picks the source address by the route to the
     * server (ip route get) and any free port. bind(2) to one of this
     * host's addresses, port 0, picks it ourselves: the server's accept()
     * shows it. An address this host lacks: EADDRNOTAVAIL. */
    if (source.len > 0 && bind(fd, &source.sa, source.len) == -1)
        fail("bind %s", source.name);
    if (source.len > 0)
        say("bind(%s) = 0", source.shown);
    /* END EXTRA 2 */
    rc = connect(fd, &to.sa, to.len);
    /* END TODO 6 */
    if (rc == -1)   /* ENOENT: no file; ECONNREFUSED: nobody listens */
        fail("connect %s", to.name);
    say("connect(%s) = 0%s", to.shown, tcp_note(fd));

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
                say("shutdown(SHUT_WR) = 0%s", tcp_note(fd));
                stdin_done = 1;
            }
        }
        if (pending && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = write(fd, out + off, pending);
            if (w == -1 && errno != EAGAIN && errno != EINTR)
                fail("write");
            if (w > 0) {
                if ((size_t)w < pending)
                    say("write() = %zd bytes (partial: %zu asked)%s", w, pending, tcp_note(fd));
                else
                    say("write() = %zd bytes%s", w, tcp_note(fd));
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
                say("read() = 0: server closed%s", tcp_note(fd));
                break;
            }
            if (n > 0) {
                say("read() = %zd bytes%s", n, tcp_note(fd));
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
