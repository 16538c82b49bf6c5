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
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char usage[] =
    "usage: client [-n]"
    /* EXTRA 1: the option -t, in the usage */
    " [-t SECONDS]"
    /* END EXTRA 1 */
    " [PATH] < input > output\n"
    "  Sends each line of standard input, without its newline, as one\n"
    "  datagram (at most 65536 bytes) to the upper-case echo server at the\n"
    "  Unix datagram socket PATH (default " DEFAULT_PATH "), and writes\n"
    "  each reply to standard output as one line.\n"
    "  -n  no bind: show why the client needs an address (the server\n"
    "      cannot reply, and the client waits forever)\n"
    /* EXTRA 1: the option -t, in the usage */
    "  -t SECONDS  give up (exit 1) when replies are due and none has come\n"
    "      for SECONDS, 1 to 3600\n"
    /* END EXTRA 1 */
    ;
static const char takes[] = "n"   /* the option letters */
    /* EXTRA 1: the option -t */
    "t"
    /* END EXTRA 1 */
    ;

int main(int argc, char *argv[])
{
    prog = "client";
    struct sockaddr_un addr, me = { .sun_family = AF_UNIX }, peer;
    socklen_t melen = sizeof me, peerlen = sizeof peer;
    struct options opt;
    /* Standard input, read with read(2) into a buffer of our own (lab.c):
     * when ready, the next line is its first len bytes unsent. */
    static struct input in;
    static char reply[MAX_MSG + 1];
    size_t len = 0, unanswered = 0;   /* bytes sent, no reply yet */
    long sent = 0, received = 0;
    int ready = 0, waiting = 0, fd = -1, rc = -1, connected = -1;
    /* EXTRA 1: -t: when the client last had news: a reply, or none due */
    long news_at = 0, seen = -1;
    /* END EXTRA 1 */

    open_std_fds();   /* before any socket can take 0, 1 or 2 (lab.c) */
    parse_args(argc, argv, usage, takes, &addr, &opt);
    signal(SIGPIPE, SIG_IGN);

    fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    if (fd == -1)
        fail("socket");
    say("socket(AF_UNIX, SOCK_DGRAM) = fd %d", fd);

    if (opt.no_bind) {
        say("bind() skipped (-n): the server will have no address to reply to");
    } else {
        /* TODO 5: Give fd an address of its own, or the replies have
         * nowhere to go, and keep the call's result in rc. Let the kernel
         * choose a name that is unique and makes no file: unix(7),
         * "Autobind feature" says which address, of which length, asks for
         * one (me holds AF_UNIX and nothing else); bind(2). */
        rc = bind(fd, (struct sockaddr *)&me, sizeof(sa_family_t));
        /* END TODO 5 */
        if (rc == -1)
            fail("bind (autobind)");
        say("bind(addrlen=%zu: autobind) = 0", sizeof(sa_family_t));
    }
    if (getsockname(fd, (struct sockaddr *)&me, &melen) == -1)
        fail("getsockname");
    say("getsockname() = %s", addr_name(&me, melen));

    /* TODO 6: Make the server, at addr, the socket's default destination
     * and its only source, so that send() needs no address and only the
     * server's datagrams reach us; keep the call's result in connected.
     * connect(2) (on a datagram socket it sends nothing); unix(7),
     * "ERRORS", for what a missing server looks like. */
    connected = connect(fd, (struct sockaddr *)&addr, sizeof addr);
    /* END TODO 6 */
    if (connected == -1)
        fail("connect %s", addr.sun_path);   /* ENOENT: no file; ECONNREFUSED: nobody bound */
    /* Our peer now, as the kernel says (getpeername(2)): the server, if
     * that is where connect() was asked to go. */
    if (getpeername(fd, (struct sockaddr *)&peer, &peerlen) == -1)
        fail("getpeername");
    say("connect(%s) = 0", addr_name(&peer, peerlen));

    /* When the server's receive queue is full, send() would block, while
     * the server's replies wait for us to read them. So the socket is
     * non-blocking and poll(2) says when to move: POLLOUT, on a connected
     * datagram socket, means the server's queue has room (Linux). */
    if (set_nonblocking(fd) == -1)   /* F_GETFL, then F_SETFL: lab.c */
        fail("fcntl");

    for (;;) {
        if (!ready)   /* a whole line in the input? (lab.c) */
            ready = next_line(&in, &len, sent + 1);
        if (!ready && in.done && received == sent)
            break;   /* every line sent, every reply in */
        /* The server does not wait for a receiver that lags: a reply it
         * cannot send at once is dropped. So we send no more while WINDOW
         * bytes are unanswered (one line always goes), and read. */
        int go = ready && (unanswered == 0 || unanswered + len <= WINDOW);
        struct pollfd p[2] = {
            { .fd = (in.done || ready) ? -1 : 0, .events = POLLIN },
            { .fd = fd, .events = POLLIN | (go ? POLLOUT : 0) },
        };
        /* A line to send and no EAGAIN yet: just look (timeout 0), then try
         * send(); after EAGAIN, wait for POLLOUT. Replies due: wait, but
         * look every PROBE_MS whether the server is still there. */
        int timeout = go && !waiting ? 0 : received < sent ? PROBE_MS : -1;
        /* EXTRA 1: -t SECONDS: replies due, and none for that long: give up */
        if (received != seen || received == sent) {
            seen = received;   /* news, or nothing due: the clock starts again */
            news_at = now_ms();   /* (lab.c) */
        }
        if (opt.deadline > 0 && received < sent) {
            long left = news_at + opt.deadline * 1000 - now_ms();
            if (left <= 0)
                failx("no reply in %ld s: %ld of %ld replies missing", opt.deadline, sent - received, sent);
            if (timeout != 0 && left < timeout)
                timeout = (int)left;   /* wake at the deadline */
        }
        /* END EXTRA 1 */
        int r = poll(p, 2, timeout);
        if (r == -1) {
            if (errno == EINTR)
                continue;
            fail("poll");
        }
        if (r == 0 && timeout > 0) {
            /* A datagram socket has no connection that the server's death
             * could end: nothing tells us. Ask (lab.c). */
            say("poll() = 0: no reply in %d ms", timeout);
            int gone = probe_socket_file(&addr, SOCK_DGRAM);
            if (gone != 0) {
                say("connect(\"%s\") = -1 on a new socket: %s", addr.sun_path, strerror(gone));
                failx("the server is gone: %ld of %ld replies missing", sent - received, sent);
            }
            say("connect(\"%s\") = 0 on a new socket: the server is there", addr.sun_path);
        }
        /* The socket closed under us (POLLNVAL), or shut both ways
         * (POLLHUP): no call on it can make progress, and poll(2) would
         * say so again at once, for ever. */
        if (p[1].revents & (POLLNVAL | POLLHUP))
            failx("poll: fd %d %s", fd, p[1].revents & POLLNVAL ? "is not open (POLLNVAL)" : "hung up (POLLHUP)");
        if (p[0].revents)
            read_input(&in);   /* read(2) on 0, after what is not sent: lab.c */
        if (go) {   /* one line, one datagram: all of it or nothing */
            ssize_t w = send(fd, in.buf + in.start, len, 0);
            if (w == -1 && errno == EAGAIN) {
                if (!waiting)
                    say("send() = -1: %s (server's queue is full: waiting)", strerror(errno));
                waiting = 1;
            } else if (w == -1 && errno != EINTR) {
                fail("send");   /* ECONNREFUSED: the server is gone */
            } else if (w >= 0) {
                say("send() = %zd bytes", w);
                sent++;
                unanswered += len;
                line_sent(&in, len);
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
                /* A reply is as long as its line, or shorter (server -s) */
                unanswered = received == sent || (size_t)n > unanswered ? 0 : unanswered - (size_t)n;
                reply[n] = '\n';
                if (write_all(1, reply, (size_t)n + 1) == -1)
                    fail("write stdout");
            }
        }
    }
    (void)close(fd);   /* all replies are in: nothing to lose */
    return 0;
}
