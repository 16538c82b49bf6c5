/* client.c - lab 07: a TCP client that sends one request, half-closes,
 * reads the reply and closes; or closes at once, or aborts.
 *
 *   ./client [-r BYTES] [-s CTL] [-p MS] [-c | -L] HOST PORT < request > reply
 *
 * getaddrinfo() -> socket() -> connect() -> write() the request ->
 * shutdown(SHUT_WR) -> read() until 0 -> close().
 * See tcp(7), shutdown(2), close(2), socket(7) (SO_LINGER).
 */
#include "lab.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: client [-r BYTES] [-s CTL] [-p MS] [-c | -L]"
    " HOST PORT < request > reply\n"
    "  Sends standard input to the server at HOST PORT as one request, then\n"
    "  shuts down its sending side (FIN), writes the reply to standard output\n"
    "  until the server's FIN, and closes. Each address of HOST is tried.\n"
    "  The server takes 16 MiB at most: it resets a longer request's connection.\n"
    "  -r BYTES  SO_RCVBUF: a small receive buffer that nobody reads fills up\n"
    "            and holds the window at zero\n"
    "  -s CTL    step mode: before each call of the teardown, wait for a line\n"
    "            (Enter) from the file CTL, e.g. -s /dev/tty\n"
    "  -p MS     pause MS milliseconds before each call of the teardown\n"
    "  -c        close() right after the request: no shutdown(), no reading\n"
    "  -L        abort: SO_LINGER {on, 0 seconds}, then close()\n";

int main(int argc, char *argv[])
{
    prog = "client";
    struct args a;
    struct addrinfo *res = NULL;
    static char buf[BUF_SIZE];
    int fd = -1, rc = -1;
    char name[ADDR_STRLEN] = "", local[ADDR_STRLEN] = "";
    ssize_t n = -1;

    open_std_fds();   /* before any socket can take 0, 1 or 2 (lab.c) */
    parse_client_args(argc, argv, usage, &a);
    signal(SIGPIPE, SIG_IGN);   /* a vanished server gives EPIPE, not death */

    res = resolve(usage, &a, 0);
    /* Try each address in turn: a name may have an IPv6 and an IPv4 one. */
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        format_addr(ai->ai_addr, ai->ai_addrlen, name);
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd == -1) {   /* EAFNOSUPPORT: a machine without IPv6; try the next */
            int err = errno;
            say("socket(%s, SOCK_STREAM) = -1: %s", family_name(ai->ai_family), strerror(err));
            errno = err;
            continue;
        }
        say("socket(%s, SOCK_STREAM) = fd %d", family_name(ai->ai_family), fd);
        if (a.rcvbuf > 0)
            set_rcvbuf(fd, a.rcvbuf);   /* before connect(): tcp(7) */
        rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc == 0)
            break;
        int err = errno;   /* ECONNREFUSED: nobody listens on that port */
        say("connect(%s) = -1: %s", name, strerror(err));
        (void)close(fd);   /* connect() failed: nothing to lose */
        errno = err;
    }
    freeaddrinfo(res);
    if (rc == -1)
        fail("connect %s", name);   /* the last address's reason */
    local_name(fd, local);   /* our own port, to find us in ss */
    say("connect(%s) = 0 from %s  state=%s", name, local, tcp_state(fd));

    /* The request: all of standard input. A blocking write() waits while
     * the server's window is zero and our send buffer is full. */
    while ((n = read(0, buf, sizeof buf)) != 0) {
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1)
            fail("read stdin");
        if (write_all(fd, buf, (size_t)n) == -1) {
            fail("write");
        }
        say("write() = %zd bytes  state=%s", n, tcp_state(fd));
    }

    if (!a.close_now && !a.abort_close) {
        step(&a, fd, "shutdown(SHUT_WR)");
        rc = -1;
        /* TODO 3: Half-close the connection, result in rc: end our sending
         * direction only (shutdown(2)). Our FIN goes out, behind the
         * request, and the server's read() returns 0; the descriptor stays
         * open to read the reply. We go to FIN-WAIT-1, then FIN-WAIT-2. */
        errno = ENOSYS; /* step 3: replace this line */
        if (rc == -1)
            fail("shutdown");
        say("shutdown(SHUT_WR) = 0  state=%s", tcp_state(fd));

        step(&a, fd, "read() the reply until it returns 0");
        for (;;) {
            n = read(fd, buf, sizeof buf);
            if (n == -1 && errno == EINTR)
                continue;
            /* -1 with ECONNRESET: the server sent RST */
            if (said_read(fd, n, "the server's FIN, end of the reply", 0) == -1) {
                fail("read");
            }
            /* 0: the server's FIN. If ours was first, we are now in
             * TIME-WAIT: ss shows it, TCP_INFO on our descriptor says CLOSE. */
            if (n == 0)
                break;
            if (write_all(1, buf, (size_t)n) == -1)
                fail("write stdout");
        }
    }

    if (a.abort_close) {
        step(&a, fd, "setsockopt(SO_LINGER {1, 0})");
        rc = -1;
        /* TODO 4: Make the close() below an abort, result in rc: turn the
         * socket option SO_LINGER on for fd, with a linger time of 0
         * seconds (socket(7), "Socket options"; setsockopt(2)). close()
         * then drops whatever is queued and sends RST, not FIN: no
         * TIME-WAIT on either side. */
        errno = ENOSYS; /* step 4: replace this line */
        if (rc == -1)
            fail("setsockopt SO_LINGER");
        say("setsockopt(SO_LINGER {1, 0}) = 0");
    }

    step(&a, fd, "close(fd %d)", fd);
    int left = unread(fd);   /* unread data: close() sends RST, not FIN */
    rc = -1;
    /* TODO 5: Release the descriptor, result in rc (close(2)). The kernel
     * finishes the connection without us: it sends FIN if we have not, or
     * RST when data we never read is waiting (or SO_LINGER is 0). */
    errno = ENOSYS; /* step 5: replace this line */
    if (rc == -1)
        fail("close");
    say("close(fd %d) = 0, with %d bytes unread", fd, left);
    return 0;
}
