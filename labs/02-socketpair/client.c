/* client.c - lab 02: the child's half of a socket pair.
 *
 *   ./client FD < input > output      ./server runs it; FD is inherited
 *
 * No socket(), no connect(): descriptor FD is already a connected stream
 * socket, inherited across fork() and exec(). Copy stdin to it and it to
 * stdout -> shutdown(SHUT_WR) at the end of stdin -> read until the server
 * closes. See socketpair(2), unix(7), shutdown(2), poll(2).
 */
#include "lab.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char usage[] =
    "usage: client FD < input > output\n"
    "  Sends standard input over FD, a connected stream socket that it\n"
    "  inherited, and writes the replies to standard output. ./server\n"
    "  starts it with the right FD; by hand, FD must be an open socket.\n";

int main(int argc, char *argv[])
{
    prog = "client";
    static char out[BUF_SIZE], in[BUF_SIZE];
    size_t pending = 0, off = 0;   /* bytes of out[] not yet sent */
    unsigned long long sent = 0, echoed = 0;   /* bytes, for the check at the end */
    int stdin_done = 0, fd = -1, rc = -1, type = 0;
    socklen_t len = sizeof type;
    struct sockaddr_un peer;

    open_std_fds();   /* before any socket can take 0, 1 or 2 (lab.c) */
    parse_help(argc, argv, usage);
    if (argc < 2)
        usage_error(usage, "missing FD, the number of an inherited socket descriptor");
    if (argc > 2)
        usage_error(usage, "too many arguments");
    fd = fd_number(argv[1]);   /* lab.c */
    if (fd == -1)
        usage_error(usage, "FD '%s' is not a descriptor number", argv[1]);

    /* Is fd a stream socket? getsockopt(2) SO_TYPE says, and it fails with
     * EBADF if fd is not open, ENOTSOCK if it is not a socket (socket(7)). */
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1)
        usage_error(usage, "fd %d is not %s: %s", fd,
                    errno == EBADF ? "open" : "a socket", strerror(errno));
    if (type != SOCK_STREAM)
        usage_error(usage, "fd %d is a socket, but not a stream socket", fd);
    say("getsockopt(fd %d, SO_TYPE) = SOCK_STREAM: inherited", fd);

    /* Connected, to whom? The ends socketpair(2) makes are unnamed: the
     * address comes back with only its family, addrlen 2 (unix(7)). */
    len = sizeof peer;
    if (getpeername(fd, (struct sockaddr *)&peer, &len) == -1)
        usage_error(usage, "fd %d is not connected: %s", fd, strerror(errno));
    say("getpeername(fd %d) = 0: addrlen %u, %s", fd, (unsigned)len,
        len == sizeof(sa_family_t) ? "the peer has no name" : "the peer has a name");
    signal(SIGPIPE, SIG_IGN);   /* a vanished server gives EPIPE, not death */

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
        if (p[1].revents & POLLNVAL)   /* fd is closed: no call on it can work again */
            failx("poll: fd %d is not open (POLLNVAL)", fd);
        if (p[0].revents) {                      /* more input to send */
            ssize_t r = read(0, out, sizeof out);
            if (r == -1 && errno != EINTR)
                fail("read stdin");
            if (r > 0) {
                pending = (size_t)r;
                off = 0;
            }
            if (r == 0) {
                /* TODO 6: Tell the server that the input is over: close
                 * the sending direction of fd, and only that one, with
                 * shutdown(2) ("DESCRIPTION"); keep the result in rc. The
                 * replies still have to be read. */
                errno = ENOSYS; /* step 6: replace this line */
                if (rc == -1)
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
            ssize_t r = read(fd, in, sizeof in);
            if (r == -1 && errno != EAGAIN && errno != EINTR)
                fail("read");
            if (r == 0) {
                say("read() = 0: server closed");
                break;
            }
            if (r > 0) {
                say("read() = %zd bytes", r);
                echoed += (unsigned long long)r;
                if (write_all(1, in, (size_t)r) == -1)
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
