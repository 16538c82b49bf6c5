/* server.c - lab 01: a Unix-domain stream server (upper-case echo).
 *
 *   ./server [-m MODE] [-t SECONDS] [PATH]   PATH defaults to /tmp/lab01.sock
 *
 * socket() -> bind() -> listen() -> accept() -> read()/write() -> close(),
 * one client after another, until SIGINT or SIGTERM. See unix(7), socket(2).
 */
#include "lab.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: server "
    "[-m MODE] [-t SECONDS] [PATH]\n"
    "  Serves upper-case echo on the Unix stream socket PATH\n"
    "  (default " DEFAULT_PATH "), one client after another.\n"
    "  -m MODE     permissions of the socket file, in octal (default 0700:\n"
    "              only the owner may connect); -m 0777 lets anyone connect\n"
    "  -t SECONDS  a client that sends nothing, or reads nothing, for that\n"
    "              long is dropped (default 30; 0: wait for ever)\n"
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


int main(int argc, char *argv[])
{
    prog = "server";
    struct sockaddr_un addr;
    long mode = -1;
    struct options opt = { .mode = &mode, .timeout = &timeout };
    int lfd = -1, bound = -1, listening = -1;

    open_std_fds();   /* before any socket can take 0, 1 or 2 (lab.c) */
    parse_args(argc, argv, usage, &addr, &opt);

    /* A client that vanishes would kill us with SIGPIPE on our next write;
     * ignored, the write fails with EPIPE instead and we serve the next. */
    signal(SIGPIPE, SIG_IGN);

    /* TODO 1: Make the server's socket: a Unix-domain one (this machine
     * only, named by a path) that carries a byte stream, and keep its
     * descriptor in lfd, which the code below checks and uses. See
     * socket(2) and unix(7). */
    errno = ENOSYS; /* step 1: replace this line */
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
        errno = ENOSYS; /* step 2: replace this line */
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
    errno = ENOSYS; /* step 3: replace this line */
    if (listening == -1)
        fail("listen");
    say("listen(backlog=16) = 0");
    printf("listening on %s\n", addr.sun_path);   /* the readiness line */
    (void)fflush(stdout);   /* no reader is no reason to stop serving */

    for (;;) {
        int cfd = -1;
        /* TODO 4: Take the next client off the listening socket's queue,
         * waiting for one if need be, and keep the new descriptor, which
         * is connected to that client alone, in cfd. The client's address
         * is not needed. See accept(2). */
        errno = ENOSYS; /* step 4: replace this line */
        if (cfd == -1) {
            accept_failed();   /* a lost connection or a pause, or exit 1: lab.c */
            continue;
        }
        say("accept() = fd %d", cfd);
        serve(cfd);
        close_client(cfd);
    }
}
