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
    /* Input is read with read(2), not getline(3): lines that stdio holds in
     * its buffer would be invisible to poll(2). in[start..have) is input
     * not yet sent; when ready, its first len bytes are the next datagram. */
    static char in[MAX_MSG + 1], reply[MAX_MSG + 1];
    size_t start = 0, have = 0, len = 0;
    long sent = 0, received = 0;
    int stdin_done = 0, ready = 0, waiting = 0, fd = -1, rc = -1;

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
        rc = bind(fd, (struct sockaddr *)&me, sizeof(sa_family_t));
        /* END TODO 5 */
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
    rc = connect(fd, (struct sockaddr *)&addr, sizeof addr);
    /* END TODO 6 */
    if (rc == -1)
        fail("connect %s", addr.sun_path);   /* ENOENT: no file; ECONNREFUSED: nobody bound */
    say("connect(\"%s\") = 0", addr.sun_path);

    /* When the server's receive queue is full, send() would block, and the
     * server may be blocked sending us replies we are not reading. So the
     * socket is non-blocking and poll(2) says when to move: POLLOUT, on a
     * connected datagram socket, means the server's queue has room (Linux). */
    if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1)
        fail("fcntl");

    for (;;) {
        if (!ready) {   /* cut the next line out of the input */
            char *nl = memchr(in + start, '\n', have - start);
            size_t line = nl != NULL ? (size_t)(nl - (in + start)) : have - start;
            if (line > MAX_MSG)
                failx("line %ld is longer than %d bytes, the largest datagram of this lab",
                      sent + 1, MAX_MSG);
            if (nl != NULL || (stdin_done && line > 0)) {
                len = line;
                ready = 1;
            } else if (stdin_done && received == sent) {
                break;   /* every line sent, every reply in */
            }
        }
        struct pollfd p[2] = {
            { .fd = (stdin_done || ready) ? -1 : 0, .events = POLLIN },
            { .fd = fd, .events = POLLIN | (ready ? POLLOUT : 0) },
        };
        /* A line ready and no EAGAIN yet: just look (timeout 0), then try
         * send(); after EAGAIN, wait for POLLOUT. Replies due: wait, but
         * look every PROBE_MS whether the server is still there. */
        int timeout = ready && !waiting ? 0 : received < sent ? PROBE_MS : -1;
        int r = poll(p, 2, timeout);
        if (r == -1) {
            if (errno == EINTR)
                continue;
            fail("poll");
        }
        if (r == 0 && timeout > 0) {
            /* A datagram socket has no connection that the server's death
             * could end: nothing tells us. Ask (lab.c). */
            say("poll() = 0: no reply in %d ms", PROBE_MS);
            int gone = probe_bound(&addr);
            if (gone != 0) {
                say("connect(\"%s\") = -1 on a new socket: %s", addr.sun_path, strerror(gone));
                failx("the server is gone: %ld of %ld replies missing", sent - received, sent);
            }
            say("connect(\"%s\") = 0 on a new socket: the server is there", addr.sun_path);
        }
        if (p[0].revents) {   /* more input: first move the unsent part to the front */
            memmove(in, in + start, have - start);
            have -= start;
            start = 0;
            ssize_t n = read(0, in + have, sizeof in - have);
            if (n == -1 && errno != EINTR)
                fail("read stdin");
            if (n == 0)
                stdin_done = 1;
            if (n > 0)
                have += (size_t)n;
        }
        if (ready) {   /* one line, one datagram: all of it or nothing */
            ssize_t w = send(fd, in + start, len, 0);
            if (w == -1 && errno == EAGAIN) {
                if (!waiting)
                    say("send() = -1: %s (server's queue is full: waiting)", strerror(errno));
                waiting = 1;
            } else if (w == -1 && errno != EINTR) {
                fail("send");   /* ECONNREFUSED: the server is gone */
            } else if (w >= 0) {
                say("send() = %zd bytes", w);
                sent++;
                start += len;
                if (start < have)
                    start++;   /* the newline */
                ready = waiting = 0;
            }
        }
        if (p[1].revents & (POLLIN | POLLERR)) {
            /* One recv, one datagram. 0 bytes is an empty datagram, not EOF:
             * a datagram socket has no end of stream. */
            ssize_t n = recv(fd, reply, MAX_MSG, 0);
            if (n == -1 && errno != EAGAIN && errno != EINTR)
                fail("recv");
            if (n >= 0) {
                say("recv() = %zd bytes", n);
                received++;
                reply[n] = '\n';
                if (write_all(1, reply, (size_t)n + 1) == -1)
                    fail("write stdout");
            }
        }
    }
    (void)close(fd);   /* all replies are in: nothing to lose */
    return 0;
}
