/* client.c - lab 12: a client that sends its input a line at a time,
 * pausing between lines if asked, so that many slow clients can be open
 * at the server at once.
 *
 *   ./client [-i SECONDS] HOST PORT < input > output
 *   ./client [-i SECONDS] PATH < input > output      (a Unix socket file)
 *
 * connect(), as lab 05's client (TCP) or lab 01's (a path) -> a loop:
 * poll() the socket and standard input -> send the next line when its time
 * has come (step 7), write each reply to standard output -> shutdown(
 * SHUT_WR) at the end of input -> read until the server closes.
 * See poll(2), connect(2), shutdown(2), clock_gettime(2).
 */
#include "lab.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: client [-i SECONDS]"
    " HOST PORT < input > output\n"
    "       client [-i SECONDS] PATH < input > output\n"
    "  Sends standard input, line by line, to the upper-case echo server at\n"
    "  HOST PORT (TCP) or at the Unix socket file PATH (a name with a '/'),\n"
    "  and writes the replies to standard output.\n"
    "  -i SECONDS  wait that long after each line (0.005: 5 ms; default 0)\n"
    ;

/* A connected socket: to each of HOST's addresses in turn (lab 05), or to
 * the file PATH (lab 01). */
static int connect_to(const struct client_args *a)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
    struct addrinfo unix_ai = { .ai_family = AF_UNIX, .ai_socktype = SOCK_STREAM,
                                .ai_addr = (struct sockaddr *)&a->uaddr,
                                .ai_addrlen = sizeof a->uaddr };
    struct addrinfo *res = &unix_ai;
    char name[ADDR_STRLEN];
    int gai = a->host == NULL ? 0 : getaddrinfo(a->host, a->port, &hints, &res);
    if (gai != 0)
        gai_failed(usage, gai, "HOST", a->host, "(a name or a number: localhost, 127.0.0.1, ::1)");
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, SOCK_STREAM, 0);
        if (fd == -1)
            fail("socket");
        say("socket(%s, SOCK_STREAM) = fd %d", family_name(ai->ai_family), fd);
        if (ai->ai_family == AF_UNIX)
            snprintf(name, sizeof name, "\"%s\"", a->uaddr.sun_path);
        else
            format_addr(ai->ai_addr, ai->ai_addrlen, name);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            say("connect(%s) = 0", name);
            if (res != &unix_ai)
                freeaddrinfo(res);
            return fd;
        }
        if (ai->ai_next == NULL)   /* the last address: its error is ours */
            fail("connect %s", a->host != NULL ? name : a->uaddr.sun_path);
        say("connect(%s) = -1: %s", name, strerror(errno));
        (void)close(fd);
    }
    failx("connect: no address");   /* getaddrinfo() returns one at least */
}

int main(int argc, char *argv[])
{
    prog = "client";
    struct client_args a;
    static char in[65536], reply[65536];
    size_t start = 0, have = 0;   /* in[start..have): read, not sent */
    int eof = 0, shut = 0;        /* the end of input seen; our FIN sent */
    long long next_at = 0;        /* now_ms() when the next line may go */

    open_std_fds();   /* before any socket can take 0, 1 or 2 (lab.c) */
    parse_client_args(argc, argv, usage, &a);   /* or exit 2, before any socket */
    signal(SIGPIPE, SIG_IGN);   /* a vanished server gives EPIPE, not death */
    int fd = connect_to(&a);
    /* Never block on one side while the other has something to say: the
     * socket is non-blocking and poll() says which way to move (lab 05). */
    if (set_nonblocking(fd) == -1)
        fail("fcntl");

    for (;;) {
        /* The next line, in[start..start+len): up to its newline; without
         * one, what there is, once no more can come or fit. 0: none yet. */
        char *nl = memchr(in + start, '\n', have - start);
        size_t len = nl != NULL ? (size_t)(nl - in) + 1 - start
                   : (eof || have == sizeof in) ? have - start : 0;
        long long now = now_ms();
        int send_now = len > 0 && now >= next_at, timeout = -1;
        /* TODO 7: A line that waits for its time (len > 0, but next_at has
         * not come): poll() must wake when it comes, timeout ms from now.
         * Nothing else may wake it (the server has answered), and a
         * timeout of -1 would wait for ever. */
        errno = ENOSYS; /* step 7: replace this line */
        if (len == 0 && eof && !shut) {
            /* All sent: our FIN, and we read the replies still to come. */
            if (shutdown(fd, SHUT_WR) == -1)
                fail("shutdown");
            say("shutdown(SHUT_WR) = 0");
            shut = 1;
        }
        struct pollfd p[2] = {
            { .fd = (eof || len > 0 || have == sizeof in) ? -1 : 0, .events = POLLIN },
            { .fd = fd, .events = POLLIN | (send_now ? POLLOUT : 0) },
        };
        if (poll(p, 2, timeout) == -1) {
            if (errno == EINTR)
                continue;
            fail("poll");
        }
        if (p[1].revents & POLLNVAL)   /* fd is not open: poll() would say so for ever */
            failx("poll: fd %d is not open (POLLNVAL)", fd);
        if (p[0].revents) {   /* more input: after what waits, moved to the front */
            memmove(in, in + start, have - start);
            have -= start;
            start = 0;
            ssize_t n = read(0, in + have, sizeof in - have);
            if (n == -1 && errno != EINTR)
                fail("read stdin");
            eof = n == 0;
            have += n > 0 ? (size_t)n : 0;
        }
        if (send_now && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = write(fd, in + start, len);
            if (w == -1 && errno != EAGAIN && errno != EINTR)
                fail("write");   /* EPIPE, ECONNRESET: the server went */
            if (w > 0 && (size_t)w < len)
                say("write() = %zd bytes (partial: %zu asked)", w, len);
            else if (w > 0)
                say("write() = %zd bytes", w);
            start += w > 0 ? (size_t)w : 0;
            if (w > 0 && (size_t)w == len)   /* the whole line: the pause starts */
                next_at = now_ms() + a.pause_ms;
        }
        if (p[1].revents & (POLLIN | POLLERR | POLLHUP)) {
            ssize_t n = read(fd, reply, sizeof reply);
            if (n == -1 && errno != EAGAIN && errno != EINTR)
                fail("read");   /* ECONNRESET */
            if (n == 0) {
                say("read() = 0: server closed");
                break;
            }
            if (n > 0) {
                say("read() = %zd bytes", n);
                if (write_all(1, reply, (size_t)n) == -1)
                    fail("write stdout");
            }
        }
    }
    if (!shut)
        failx("the server closed the connection before all input was sent");
    (void)close(fd);   /* all replies are in: nothing to lose */
    return 0;
}
