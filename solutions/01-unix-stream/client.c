/* client.c - lab 01: a Unix-domain stream client.
 *
 *   ./client [PATH] < input > output      PATH defaults to /tmp/lab01.sock
 *
 * socket() -> connect() -> copy stdin to the socket and the socket to stdout
 * -> shutdown(SHUT_WR) at the end of stdin -> read until the server closes.
 * See unix(7), connect(2), shutdown(2), poll(2).
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
    "usage: client "
    /* EXTRA 2: -t in the usage line */
    "[-t SECONDS] "
    /* END EXTRA 2 */
    "[PATH] < input > output\n"
    "  Sends standard input to the upper-case echo server at the Unix\n"
    "  stream socket PATH (default " DEFAULT_PATH ") and writes the\n"
    "  replies to standard output.\n"
    /* EXTRA 2: the usage of -t */
    "  -t SECONDS  give up (exit 1) when the server, owing a reply, sends\n"
    "              nothing for that long (default 0: wait for ever)\n"
    /* END EXTRA 2 */
    ;

int main(int argc, char *argv[])
{
    prog = "client";
    struct sockaddr_un addr;
    static char out[CHUNK], in[BUF_SIZE];
    size_t pending = 0, off = 0;   /* bytes of out[] not yet sent */
    unsigned long long sent = 0, echoed = 0;   /* bytes, for the check at the end */
    int stdin_done = 0, fd = -1, connected = -1;
    struct options opt = { .mode = NULL };   /* the client takes no option */

    open_std_fds();   /* before any socket can take 0, 1 or 2 (lab.c) */
    /* EXTRA 2: -t SECONDS */
    long limit = 0;
    opt.timeout = &limit;
    /* END EXTRA 2 */
    parse_args(argc, argv, usage, &addr, &opt);
    signal(SIGPIPE, SIG_IGN);   /* a vanished server gives EPIPE, not death */

    /* TODO 5: Make a socket of the server's kind in fd (checked and
     * narrated as the server does), then connect it to the server's path,
     * in addr, keeping the result in connected. See socket(2),
     * connect(2), and unix(7) "ERRORS". */
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd == -1)
        fail("socket");
    say("socket(AF_UNIX, SOCK_STREAM) = fd %d", fd);
    connected = connect(fd, (struct sockaddr *)&addr, sizeof addr);
    /* END TODO 5 */
    if (connected == -1)
        fail("connect %s", addr.sun_path);   /* ENOENT: no file; ECONNREFUSED: nobody listens */
    say("connect(\"%s\") = 0", addr.sun_path);

    /* We must never block writing while the server is blocked writing its
     * replies to us: both buffers would fill and neither side would read
     * again. So the socket is non-blocking and poll(2) says when to move. */
    if (set_nonblocking(fd) == -1)   /* fcntl(2), F_GETFL then F_SETFL: lab.c */
        fail("fcntl");

    for (;;) {
        struct pollfd p[2] = {
            { .fd = (stdin_done || pending) ? -1 : 0, .events = POLLIN },
            { .fd = fd, .events = POLLIN | (pending ? POLLOUT : 0) },
        };
        int wait_ms = -1;   /* poll(2)'s timeout: -1 waits for ever */
        /* EXTRA 2: -t: owed a reply (or the end), wait that long at most */
        if (limit > 0 && (pending || stdin_done || sent > echoed))
            wait_ms = (int)limit * 1000;
        /* END EXTRA 2 */
        int ready = poll(p, 2, wait_ms);
        if (ready == -1) {
            if (errno == EINTR)
                continue;
            fail("poll");
        }
        /* EXTRA 2: poll() = 0: nothing came for -t seconds */
        if (ready == 0) {
            say("poll() = 0: nothing from the server for %ld s", limit);
            failx("no reply from the server for %ld s: giving up", limit);
        }
        /* END EXTRA 2 */
        /* POLLNVAL: fd is not an open descriptor (poll(2)). Only a bug does
         * that (fd closed too early, say), and poll() would say it again at
         * once, for ever: stop rather than spin at full speed. */
        if (p[1].revents & POLLNVAL)
            failx("poll: fd %d is not open (POLLNVAL): was it closed?", fd);
        if (p[0].revents) {                      /* more input to send */
            ssize_t n = read(0, out, sizeof out);
            if (n == -1 && errno != EINTR)
                fail("read stdin");
            if (n > 0) {
                pending = (size_t)n;
                off = 0;
            }
            if (n == 0) {
                int shut = -1;
                /* TODO 6: Tell the server that nothing more is coming
                 * (standard input is over), while keeping the socket
                 * open for the replies still on their way: close the
                 * sending direction only. Keep the result in shut. See
                 * shutdown(2). */
                shut = shutdown(fd, SHUT_WR);
                /* END TODO 6 */
                if (shut == -1)
                    fail("shutdown");
                say("shutdown(SHUT_WR) = 0");
                stdin_done = 1;
            }
        }
        if (pending && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = write(fd, out + off, pending);
            if (w == -1 && errno != EAGAIN && errno != EINTR)
                fail("write");
            if (w > 0) {
                if ((size_t)w < pending)
                    say("write() = %zd bytes (partial: %zu asked)", w, pending);
                else
                    say("write() = %zd bytes", w);
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
                say("read() = 0: server closed");
                break;
            }
            if (n > 0) {
                say("read() = %zd bytes", n);
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
