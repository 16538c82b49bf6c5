/* client.c - lab 03: a Unix-domain datagram client.
 *
 *   ./client [-n] [PATH] < input > output      PATH defaults to /tmp/lab03.sock
 *
 * socket() -> bind() (autobind: an address of our own, for the replies) ->
 * connect() (the default destination) -> each input line is one datagram
 * sent, each datagram received is one output line -> at the end of input,
 * wait until every reply is in. See unix(7), send(2), recv(2), poll(2).
 */
#include "lab.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char usage[] =
    "usage: client [-n] [PATH] < input > output\n"
    "  Sends each line of standard input, without its newline, as one\n"
    "  datagram (at most 65536 bytes) to the upper-case echo server at the\n"
    "  Unix datagram socket PATH (default " DEFAULT_PATH "), and writes\n"
    "  each reply to standard output as one line.\n"
    "  -n  no bind: show why the client needs an address (the server\n"
    "      cannot reply, and the client waits forever)\n";

int main(int argc, char *argv[])
{
    prog = "client";
    struct sockaddr_un addr, me = { .sun_family = AF_UNIX };
    socklen_t melen = sizeof me;
    struct options opt;
    static char in[MAX_MSG + 1];   /* a reply, and room for its newline */
    char *line = NULL;             /* the line waiting to be sent, from getline */
    size_t cap = 0;
    ssize_t len = 0;
    long sent = 0, received = 0, lineno = 0;
    int stdin_done = 0, have_line = 0, waiting = 0, fd = -1, rc = -1;

    parse_args(argc, argv, usage, "n", &addr, &opt);
    signal(SIGPIPE, SIG_IGN);

    fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    if (fd == -1)
        fail("socket");
    say("socket(AF_UNIX, SOCK_DGRAM) = fd %d", fd);

    if (opt.no_bind) {
        say("bind() skipped (-n): the server will have no address to reply to");
    } else {
        /* TODO 5: Give the client an address of its own, or the replies have
         * nowhere to go: bind(2) fd to me with an address length of
         * sizeof(sa_family_t) (sun_family only). That is Linux autobind
         * (unix(7), "Autobind feature"): the kernel picks an abstract name,
         * and no file is made. Keep the result in rc. */
        errno = ENOSYS; /* step 5: replace this line */
        if (rc == -1)
            fail("bind (autobind)");
        say("bind(addrlen=%zu: autobind) = 0", sizeof(sa_family_t));
    }
    if (getsockname(fd, (struct sockaddr *)&me, &melen) == -1)
        fail("getsockname");
    say("getsockname() = %s", addr_name(&me, melen));

    rc = -1;   /* until connect() says otherwise */
    /* TODO 6: connect(2) fd to the server's address addr, keeping the result
     * in rc. A datagram socket makes no connection: connect() sets the
     * default destination of send(), and from now on only the server's
     * datagrams reach us. */
    errno = ENOSYS; /* step 6: replace this line */
    if (rc == -1)
        fail("connect %s", addr.sun_path);   /* ENOENT: no file; ECONNREFUSED: nobody bound */
    say("connect(\"%s\") = 0", addr.sun_path);

    /* When the server's receive queue is full, send() would block, and the
     * server may be blocked sending us replies we are not reading. So the
     * socket is non-blocking and poll(2) says when to move: POLLOUT, on a
     * connected datagram socket, means the server's queue has room (Linux).
     * stdin is unbuffered: poll() sees the file descriptor, not stdio's
     * buffer, which could otherwise hold lines poll() knows nothing about. */
    if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1)
        fail("fcntl");
    (void)setvbuf(stdin, NULL, _IONBF, 0);   /* _IONBF allocates nothing: no failure */

    while (!stdin_done || have_line || received < sent) {
        struct pollfd p[2] = {
            { .fd = (stdin_done || have_line) ? -1 : 0, .events = POLLIN },
            { .fd = fd, .events = POLLIN | (have_line ? POLLOUT : 0) },
        };
        if (poll(p, 2, -1) == -1) {
            if (errno == EINTR)
                continue;
            fail("poll");
        }
        if (p[0].revents) {                       /* one more line to send */
            len = getline(&line, &cap, stdin);    /* any byte but newline */
            if (len == -1 && ferror(stdin))
                fail("read stdin");
            if (len == -1) {
                stdin_done = 1;
            } else {
                lineno++;
                if (len > 0 && line[len - 1] == '\n')
                    len--;
                if (len > MAX_MSG)
                    failx("line %ld is %zd bytes; a datagram of this lab holds at most %d",
                          lineno, len, MAX_MSG);
                have_line = 1;
            }
        }
        if (have_line) {   /* one line, one datagram: all of it or nothing */
            ssize_t w = send(fd, line, (size_t)len, 0);
            if (w == -1 && errno == EAGAIN) {
                if (!waiting)
                    say("send() = -1: %s (server's queue is full: waiting)", strerror(errno));
                waiting = 1;
            } else if (w == -1 && errno != EINTR) {
                fail("send");   /* ECONNREFUSED: the server is gone */
            } else if (w >= 0) {
                say("send() = %zd bytes", w);
                sent++;
                have_line = waiting = 0;
            }
        }
        if (p[1].revents & (POLLIN | POLLERR)) {
            /* One recv, one datagram. 0 bytes is an empty datagram, not EOF:
             * a datagram socket has no end of stream. */
            ssize_t n = recv(fd, in, MAX_MSG, 0);
            if (n == -1 && errno != EAGAIN && errno != EINTR)
                fail("recv");
            if (n >= 0) {
                say("recv() = %zd bytes", n);
                received++;
                in[n] = '\n';
                if (write_all(1, in, (size_t)n + 1) == -1)
                    fail("write stdout");
            }
        }
    }
    free(line);
    (void)close(fd);   /* all replies are in: nothing to lose */
    return 0;
}
