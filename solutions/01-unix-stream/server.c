/* server.c - lab 01: a Unix-domain stream server (upper-case echo).
 *
 *   ./server [-m MODE] [-t SECONDS] [PATH]   PATH defaults to /tmp/lab01.sock
 *
 * socket() -> bind() -> listen() -> accept() -> read()/write() -> close(),
 * one client after another, until SIGINT or SIGTERM. See unix(7), socket(2).
 */
#include "lab.h"

#include <errno.h>
/* EXTRA 1: poll(2), for -c */
#include <poll.h>
/* END EXTRA 1 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: server "
    /* EXTRA 1: -c in the usage line */
    "[-c MAX] "
    /* END EXTRA 1 */
    "[-m MODE] [-t SECONDS] [PATH]\n"
    "  Serves upper-case echo on the Unix stream socket PATH\n"
    "  (default " DEFAULT_PATH "), one client after another.\n"
    "  -m MODE     permissions of the socket file, in octal (default 0700:\n"
    "              only the owner may connect); -m 0777 lets anyone connect\n"
    "  -t SECONDS  a client that sends nothing, or reads nothing, for that\n"
    "              long is dropped (default 30; 0: wait for ever)\n"
    /* EXTRA 1: the usage of -c */
    "  -c MAX      serve up to MAX clients at once (1 to 64), all watched\n"
    "              by one poll(), instead of one after another\n"
    /* END EXTRA 1 */
    ;

static long timeout = DEFAULT_TIMEOUT;   /* -t: see serve() */

/* Echo one client until it closes. Its failures cost that client only,
 * and so does its silence: each read() and write() waits at most -t
 * seconds (bound_waits(), lab.c), then fails with EAGAIN. */
static void serve(int cfd)
{
    char buf[BUF_SIZE];
    bound_waits(cfd, (int)timeout);
    for (;;) {
        ssize_t n = read(cfd, buf, sizeof buf);
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            say("read() = -1: %s (nothing for %ld s): client dropped", strerror(errno), timeout);
            return;
        }
        if (n == -1) {
            say("read() = -1: %s", strerror(errno));
            return;
        }
        if (n == 0) {
            say("read() = 0: peer closed");
            return;
        }
        say("read() = %zd bytes", n);
        upcase(buf, (size_t)n);
        if (write_all(cfd, buf, (size_t)n) == -1) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                say("write() = -1: %s (not read for %ld s): client dropped", strerror(errno), timeout);
            else
                say("write() = -1: %s", strerror(errno));
            return;
        }
        say("write() = %zd bytes", n);
    }
}

/* close(2) frees the descriptor even when it fails: narrated, not fatal. */
static void close_client(int cfd)
{
    if (close(cfd) == -1)
        say("close(fd %d) = -1: %s", cfd, strerror(errno));
    else
        say("close(fd %d) = 0", cfd);
}

/* EXTRA 1: -c MAX: up to MAX clients at once, one poll(2) over them all */
static long max_clients;   /* -c; 0: one client after another */

/* The listener and every client in one poll(): each client waits on its
 * own. A client that sends or reads nothing for -t seconds is dropped. */
static _Noreturn void serve_many(int lfd)
{
    static struct client cl[MAX_CLIENTS];
    struct pollfd p[MAX_CLIENTS + 1];
    for (int i = 0; i < max_clients; i++)
        cl[i].fd = -1;
    /* poll() said "readable", but the client may be gone by accept(): a
     * listener that never blocks answers EAGAIN instead (accept(2)). */
    if (set_nonblocking(lfd) == -1)
        fail("fcntl");
    for (;;) {
        long long t = now_ms(), wake = -1;   /* ms to the next -t deadline */
        int n = 0;
        for (int i = 0; i < max_clients; i++) {
            p[i + 1] = (struct pollfd){ .fd = cl[i].fd, .events = cl[i].off < cl[i].len ? POLLOUT : POLLIN };
            if (cl[i].fd == -1)
                continue;
            n++;
            long long left = cl[i].last + timeout * 1000 - t;
            if (timeout > 0 && (wake == -1 || left < wake))
                wake = left < 0 ? 0 : left;
        }
        /* Full: new clients wait in the listener's queue (the backlog). */
        p[0] = (struct pollfd){ .fd = n < max_clients ? lfd : -1, .events = POLLIN };
        if (poll(p, (nfds_t)max_clients + 1, (int)wake) == -1 && errno != EINTR)
            fail("poll");
        if (p[0].revents) {
            int cfd = accept(lfd, NULL, NULL);
            if (cfd == -1 && errno != EAGAIN && errno != EWOULDBLOCK)
                accept_failed();   /* a lost connection or a pause, or exit 1 */
            for (int i = 0; cfd != -1 && i < max_clients; i++) {
                if (cl[i].fd != -1)
                    continue;
                cl[i].fd = cfd;
                cl[i].len = cl[i].off = 0;
                cl[i].last = now_ms();
                say("accept() = fd %d (%d of %ld clients)", cfd, n + 1, max_clients);
                if (set_nonblocking(cfd) == -1) {
                    say("fcntl(fd %d) = -1: %s: client dropped", cfd, strerror(errno));
                    close_client(cfd);
                    cl[i].fd = -1;
                }
                break;
            }
        }
        t = now_ms();
        for (int i = 0; i < max_clients; i++) {
            if (cl[i].fd != -1 && p[i + 1].revents) {
                if (step_client(&cl[i], p[i + 1].revents) == -1) {
                    close_client(cl[i].fd);
                    cl[i].fd = -1;
                }
            } else if (cl[i].fd != -1 && timeout > 0 && t - cl[i].last >= timeout * 1000) {
                say("fd %d: nothing read or written for %ld s: client dropped", cl[i].fd, timeout);
                close_client(cl[i].fd);
                cl[i].fd = -1;
            }
        }
    }
}
/* END EXTRA 1 */

int main(int argc, char *argv[])
{
    prog = "server";
    struct sockaddr_un addr;
    long mode = -1;
    struct options opt = { .mode = &mode, .timeout = &timeout };
    int lfd = -1, bound = -1, listening = -1;

    open_std_fds();   /* before any socket can take 0, 1 or 2 (lab.c) */
    /* EXTRA 1: the server takes -c MAX */
    opt.clients = &max_clients;
    /* END EXTRA 1 */
    parse_args(argc, argv, usage, &addr, &opt);

    /* A client that vanishes would kill us with SIGPIPE on our next write;
     * ignored, the write fails with EPIPE instead and we serve the next. */
    signal(SIGPIPE, SIG_IGN);

    /* TODO 1: Make the server's socket: a Unix-domain one (this machine
     * only, named by a path) that carries a byte stream, and keep its
     * descriptor in lfd, which the code below checks and uses. See
     * socket(2) and unix(7). */
    lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    /* END TODO 1 */
    if (lfd == -1)
        fail("socket");
    say("socket(AF_UNIX, SOCK_STREAM) = fd %d", lfd);

    /* The path is this server's while it runs: a lock on PATH.lock, taken
     * before bind() (lab.c). A second server on the same path stops here,
     * before it can take our socket file for a stale one. */
    lock_socket_path(addr.sun_path);

    /* bind() creates the file with mode 0777 minus the umask. With umask
     * 077 it is born srwx------: on Linux, connect() needs write permission
     * on it, so only our own user can connect (unix(7), "Pathname socket
     * ownership and permissions": POSIX says nothing of it, and some older
     * BSDs ignore it). -m MODE sets the umask that gives exactly MODE, so
     * the file has it from birth: a chmod() afterwards would look the path
     * up again, and follow whatever had been put there in between. */
    umask(mode == -1 ? 077 : (mode_t)(~mode & 0777));
    if (mode != -1)
        say("umask(%04lo): bind() makes the file with mode %04lo", ~mode & 0777, mode);
    for (int attempt = 1; attempt <= 2; attempt++) {
        /* TODO 2: Give the socket its name, the path that parse_args()
         * put in addr, and keep the call's result in bound; do not exit
         * on a failure: the loop around you replaces a stale socket file
         * and lets you try again. See bind(2), unix(7) "Address format". */
        bound = bind(lfd, (struct sockaddr *)&addr, sizeof addr);
        /* END TODO 2 */
        if (bound == 0 || errno != EADDRINUSE || attempt == 2)
            break;
        say("bind(\"%s\") = -1: Address already in use", addr.sun_path);
        replace_stale_socket(&addr, SOCK_STREAM);   /* or exit 1: lab.c */
    }
    if (bound == -1)
        fail("bind %s", addr.sun_path);
    /* From now on the file is ours to remove, at exit or on SIGINT and
     * SIGTERM, but only while it is still the file bind() made (lab.c). */
    own_socket_file(lfd);
    say("bind(\"%s\") = 0", addr.sun_path);

    /* TODO 3: Make the socket accept connections, with room for 16 of
     * them waiting to be taken, and keep the call's result in listening.
     * See listen(2). */
    listening = listen(lfd, 16);
    /* END TODO 3 */
    if (listening == -1)
        fail("listen");
    say("listen(backlog=16) = 0");
    printf("listening on %s\n", addr.sun_path);   /* the readiness line */
    (void)fflush(stdout);   /* no reader is no reason to stop serving */
    /* EXTRA 1: -c MAX: many clients at once, not one after another */
    if (max_clients > 0)
        serve_many(lfd);
    /* END EXTRA 1 */

    for (;;) {
        int cfd = -1;
        /* TODO 4: Take the next client off the listening socket's queue,
         * waiting for one if need be, and keep the new descriptor, which
         * is connected to that client alone, in cfd. The client's address
         * is not needed. See accept(2). */
        cfd = accept(lfd, NULL, NULL);
        /* END TODO 4 */
        if (cfd == -1) {
            accept_failed();   /* a lost connection or a pause, or exit 1: lab.c */
            continue;
        }
        say("accept() = fd %d", cfd);
        serve(cfd);
        close_client(cfd);
    }
}
