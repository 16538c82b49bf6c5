/* client.c - lab 04: a Unix-domain seqpacket client.
 *
 *   ./client [PATH] < input > output      PATH defaults to /tmp/lab04.sock
 *
 * socket(SOCK_SEQPACKET) -> connect() -> each input line, without its
 * newline, goes out as one message; each reply is printed on its own line
 * -> at the end of input, once every reply is in, close().
 * See unix(7), connect(2), send(2), recv(2), poll(2).
 */
#include "lab.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char usage[] =
    "usage: client [PATH] < input > output\n"
    "  Sends each line of standard input as one message to the upper-case\n"
    "  echo server at the Unix seqpacket socket PATH (default\n"
    "  " DEFAULT_PATH ") and prints each reply on its own line.\n"
    /* EXTRA 2: the usage of -w SECONDS */
    "  -w SECONDS  exit 1 when a reply is owed and nothing comes for that long\n"
    /* END EXTRA 2 */
    ;

int main(int argc, char *argv[])
{
    prog = "client";
    struct sockaddr_un addr;
    /* Input is read with read(2), not getline(3): lines that stdio holds in
     * its buffer would be invisible to poll(2). in[start..have) is input
     * not yet sent; when ready, its first len bytes are the next message. */
    static char in[MAX_MSG + 1], reply[MAX_MSG + 1];
    size_t start = 0, have = 0, len = 0;
    long sent = 0, received = 0;   /* messages sent, replies received */
    int ready = 0, stdin_done = 0, fd = -1, rc = -1;

    open_std_fds();   /* before any socket can take 0, 1 or 2 (lab.c) */
    parse_args(argc, argv, usage, &addr, NULL, NULL, NULL);
    signal(SIGPIPE, SIG_IGN);   /* a vanished server gives EPIPE, not death */

    /* TODO 5: Create a socket of the server's type into fd (socket(2)),
     * check it and narrate it as the server does, then connect it to the
     * path in addr (connect(2)), keeping connect's result in rc. */
    fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    if (fd == -1)
        fail("socket");
    say("socket(AF_UNIX, SOCK_SEQPACKET) = fd %d", fd);
    rc = connect(fd, (struct sockaddr *)&addr, sizeof addr);
    /* END TODO 5 */
    if (rc == -1)
        fail("connect %s", addr.sun_path);   /* ENOENT: no file; ECONNREFUSED: nobody listens */
    say("connect(\"%s\") = 0", addr.sun_path);

    /* As in lab 01, we must never block sending while the server is
     * blocked sending replies to us: the socket is non-blocking and
     * poll(2) says when to move. Many messages may be in flight. */
    if (set_nonblocking(fd) == -1)   /* F_GETFL, then F_SETFL: lab.c */
        fail("fcntl");

    for (;;) {
        if (!ready) {   /* cut the next line out of the input */
            char *nl = memchr(in + start, '\n', have - start);
            size_t line = nl != NULL ? (size_t)(nl - (in + start)) : have - start;
            if (line > MAX_MSG)
                failx("line %ld is longer than %d bytes, the largest message",
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
        /* EXTRA 2: -w SECONDS: a server that owes a reply and is silent
         * (stopped, hung, hostile) must not hold us for ever: wait that
         * long at most for anything to happen. Then the poll() below
         * returns at once: readiness stays until it is used. */
        if (reply_wait > 0 && received < sent) {
            int moved = poll(p, 2, (int)reply_wait * 1000);
            if (moved == -1 && errno != EINTR)
                fail("poll");
            if (moved == 0)
                failx("no reply for %ld s (messages sent: %ld, replies received: %ld)",
                      reply_wait, sent, received);
        }
        /* END EXTRA 2 */
        if (poll(p, 2, -1) == -1) {
            if (errno == EINTR)
                continue;
            fail("poll");
        }
        if (p[1].revents & POLLNVAL)   /* our socket is not open: a bug, not a peer */
            failx("poll: fd %d is not an open descriptor (POLLNVAL)", fd);
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
        if (p[1].revents & (POLLIN | POLLERR | POLLHUP)) {
            ssize_t n = recv(fd, reply, MAX_MSG, 0);
            if (n == -1 && errno != EAGAIN && errno != EINTR)
                fail("recv");
            /* The wart again (see server.c): a 0 is an empty reply or the
             * end. With no reply owed it can only be the end. */
            if (n == 0 && (received == sent || peer_closed(fd))) {
                say("recv() = 0: server closed");
                failx("the server closed the connection early (messages sent: %ld, "
                      "replies received: %ld)", sent, received);
            }
            if (n >= 0) {
                if (n == 0)
                    say("recv() = 0 bytes: an empty reply");
                else
                    say("recv() = %zd bytes", n);
                if (++received > sent)   /* a broken or hostile server */
                    failx("the server sent a reply to no message (messages sent: %ld)", sent);
                reply[n] = '\n';
                if (write_all(1, reply, (size_t)n + 1) == -1)
                    fail("write stdout");
            }
        }
        if (ready && (p[1].revents & POLLOUT)) {
            /* One send(), one message: whole, or EAGAIN and we try again.
             * EPIPE: the server is gone; the next recv() says so. */
            ssize_t w = send(fd, in + start, len, 0);
            if (w == -1 && errno != EAGAIN && errno != EINTR && errno != EPIPE)
                fail("send");
            if (w >= 0) {
                say("send() = %zd bytes", w);
                sent++;
                start += len;
                if (start < have)
                    start++;   /* the newline */
                ready = 0;
            }
        }
    }
    if (close(fd) == -1)
        fail("close");
    say("close(fd %d) = 0", fd);
    return 0;
}
