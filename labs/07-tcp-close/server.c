/* server.c - lab 07: a TCP server that reads a whole request, replies and
 * closes; -s holds each step of the teardown still.
 *
 * socket() -> setsockopt(SO_REUSEADDR) -> bind() -> listen() -> accept() ->
 * read() until 0 -> write() the reply -> shutdown(SHUT_WR) -> close(), one
 * client after another, until SIGINT or SIGTERM. See tcp(7), shutdown(2).
 */
#include "lab.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: server [-b ADDR] [-r BYTES] [-s CTL] [-p MS] [-a] [-n] [PORT]\n"
    "  Reads each client's request until the client shuts down its sending\n"
    "  side (read() returns 0), replies with it upper-cased, then closes.\n"
    "  -b ADDR   address to bind (default " DEFAULT_HOST ", this machine only;\n"
    "            ::1 is IPv6 loopback; 0.0.0.0 or :: lets other machines in)\n"
    "  -r BYTES  SO_RCVBUF: small, and not read, it holds the window at zero\n"
    "  -s CTL    step mode: before each call of the teardown, wait for a line\n"
    "            (Enter) from the file CTL, e.g. -s /dev/tty\n"
    "  -p MS     pause MS milliseconds before each call of the teardown\n"
    "  -a        active close: answer the first read and send FIN first\n"
    "  -n        no SO_REUSEADDR: a restart fails while TIME-WAIT holds the port\n"
    "  PORT      default " DEFAULT_PORT "; 0 picks any free port\n";

/* A failed call costs this client only: narrate it, then close. */
static void failed(int cfd, const char *call)
{
    say("%s = -1: %s  state=%s", call, strerror(errno), tcp_state(cfd));
}


static void serve(struct args *a, int cfd);   /* below main(): lesson order */

int main(int argc, char *argv[])
{
    prog = "server";
    struct args a;
    struct addrinfo *res = NULL;
    int lfd = -1, rc = -1;
    char name[ADDR_STRLEN];

    parse_server_args(argc, argv, usage, &a);
    signal(SIGPIPE, SIG_IGN);   /* a vanished client: EPIPE, not death */
    res = resolve(usage, &a, 1);
    format_addr(res->ai_addr, res->ai_addrlen, name);

    lfd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    if (lfd == -1)
        fail("socket");
    say("socket(%s, SOCK_STREAM) = fd %d", family_name(res->ai_family), lfd);
    exit_on_signals(lfd);
    if (!a.no_reuse) {
        /* TODO 1: Set SO_REUSEADDR to 1 on lfd with setsockopt(2) (level
         * SOL_SOCKET, socket(7)), result in rc: bind() may then take a port
         * that only TIME-WAIT connections still hold, so a restarted server
         * gets its port back at once. */
        errno = ENOSYS; /* step 1: replace this line */
        if (rc == -1)
            fail("setsockopt SO_REUSEADDR");
        say("setsockopt(SO_REUSEADDR, 1) = 0");
    }
    if (a.rcvbuf > 0)
        set_rcvbuf(lfd, a.rcvbuf);   /* accepted sockets inherit it */
    if (bind(lfd, res->ai_addr, res->ai_addrlen) == -1)
        fail("bind %s", name);   /* EADDRINUSE: a listener, or TIME-WAIT (-n) */
    freeaddrinfo(res);
    local_name(lfd, name);   /* with port 0, the port the kernel chose */
    say("bind(%s) = 0", name);
    if (listen(lfd, 16) == -1)
        fail("listen");
    say("listen(backlog=16) = 0  state=%s", tcp_state(lfd));
    printf("listening on %s\n", name);   /* the readiness line */
    (void)fflush(stdout);   /* no reader is no reason to stop serving */

    for (;;) {
        struct sockaddr_storage sa;
        socklen_t salen = sizeof sa;
        int cfd = accept(lfd, (struct sockaddr *)&sa, &salen);
        if (cfd == -1 && (errno == EINTR || errno == ECONNABORTED))
            continue;   /* a client that left while queued costs nothing */
        if (cfd == -1)
            fail("accept");
        format_addr((struct sockaddr *)&sa, salen, name);
        say("accept() = fd %d from %s  state=%s", cfd, name, tcp_state(cfd));
        serve(&a, cfd);
    }
}

/* One client: the whole request, the reply, our FIN, close. */
static void serve(struct args *a, int cfd)
{
    static char req[REQUEST_MAX + 1];   /* one more: to know one is too long */
    size_t len = 0;
    ssize_t n = -1;

    /* A request has no length field: it ends where the client's FIN is.
     * After read() returns 0 we are in CLOSE-WAIT: the client can send no
     * more, and we can still send all we like. (-a answers the first read.) */
    step(a, cfd, a->active ? "read() once" : "read() until it returns 0");
    for (;;) {
        n = -1;
        /* TODO 2: read(2) the next part of the request from cfd into
         * req + len, at most sizeof req - len bytes, into n. This loop
         * calls it until it returns 0: the client's FIN, its shutdown(). */
        errno = ENOSYS; /* step 2: replace this line */
        if (n == -1 && errno == EINTR)
            continue;
        if (said_read(cfd, n, "the client's FIN, end of its data") <= 0)
            break;
        len += (size_t)n;
        if (a->active)
            break;
        if (len > REQUEST_MAX) {
            say("the request exceeds %zu bytes: dropped", REQUEST_MAX);
            goto done;
        }
    }
    if (n == -1)
        goto done;

    step(a, cfd, "write() the reply");
    upcase(req, len);
    if (write_all(cfd, req, len) == -1) {
        failed(cfd, "write()");
        goto done;
    }
    say("write() = %zu bytes  state=%s", len, tcp_state(cfd));

    /* Our FIN, queued behind the reply: CLOSE-WAIT -> LAST-ACK, or with -a
     * (we are first) ESTABLISHED -> FIN-WAIT-1. We keep the descriptor. */
    step(a, cfd, "shutdown(SHUT_WR)");
    if (shutdown(cfd, SHUT_WR) == -1) {
        failed(cfd, "shutdown(SHUT_WR)");
        goto done;
    }
    say("shutdown(SHUT_WR) = 0  state=%s", tcp_state(cfd));
    if (n > 0) {
        /* -a: the client's data and FIN are still to come. Read them all:
         * close() with data unread would send RST. */
        step(a, cfd, "read() until it returns 0");
        for (;;) {
            n = read(cfd, req, sizeof req);
            if (n == -1 && errno == EINTR)
                continue;
            if (said_read(cfd, n, "the client's FIN, end of its data") <= 0)
                break;
        }
    }
done:
    step(a, cfd, "close(fd %d)", cfd);
    if (close(cfd) == -1)   /* the descriptor goes; the kernel ends the connection */
        say("close(fd %d) = -1: %s", cfd, strerror(errno));
    else
        say("close(fd %d) = 0", cfd);
}
