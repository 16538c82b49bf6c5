/* server.c - lab 01: a Unix-domain stream server (upper-case echo).
 *
 *   ./server [-m MODE] [PATH]      PATH defaults to /tmp/lab01.sock
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
    "usage: server [-m MODE] [PATH]\n"
    "  Serves upper-case echo on the Unix stream socket PATH\n"
    "  (default " DEFAULT_PATH ").\n"
    "  -m MODE  permissions of the socket file, in octal (default 0700:\n"
    "           only the owner may connect); -m 0777 lets anyone connect\n";

static struct sockaddr_un addr;   /* global: the exit paths below need it */
static int lfd = -1;              /* and the signal handler closes it */

/* The file bind() created is ours to remove: on a normal exit... */
static void remove_socket_file(void)
{
    (void)unlink(addr.sun_path);   /* already gone is fine: we are exiting */
}

/* ...and on SIGINT/SIGTERM. Only async-signal-safe calls here
 * (signal-safety(7)): unlink(), close() and _exit() are, printf() is not. */
static char goodbye[160];
static void on_signal(int sig)
{
    (void)sig;
    (void)unlink(addr.sun_path);   /* already gone is fine */
    (void)close(lfd);   /* the kernel would, at exit; valgrind --track-fds sees it closed */
    if (write(2, goodbye, strlen(goodbye)) == -1)
        _exit(1);
    _exit(0);
}

/* bind() said EADDRINUSE: a file is already at PATH. Replace it only if
 * it is a socket nobody listens on (left by a server that crashed). */
static void remove_stale_socket(void)
{
    struct stat st;
    if (lstat(addr.sun_path, &st) == -1)
        fail("lstat %s", addr.sun_path);
    if (!S_ISSOCK(st.st_mode))
        failx("bind %s: the file exists and is not a socket; left alone", addr.sun_path);

    int probe = socket(AF_UNIX, SOCK_STREAM, 0);
    if (probe == -1)
        fail("socket");
    if (connect(probe, (struct sockaddr *)&addr, sizeof addr) == 0)
        failx("bind %s: Address already in use (a server is listening there)",
              addr.sun_path);
    if (errno != ECONNREFUSED)
        fail("connect (probing the old socket file)");
    (void)close(probe);   /* it never connected: nothing to lose */
    say("connect(\"%s\") = -1: Connection refused: stale socket file", addr.sun_path);
    if (unlink(addr.sun_path) == -1)
        fail("unlink %s", addr.sun_path);
    say("unlink(\"%s\") = 0", addr.sun_path);
}

/* Echo one client until it closes. Its failures cost that client only. */
static void serve(int cfd)
{
    char buf[BUF_SIZE];
    for (;;) {
        ssize_t n = read(cfd, buf, sizeof buf);
        if (n == -1 && errno == EINTR)
            continue;
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
            say("write() = -1: %s", strerror(errno));
            return;
        }
        say("write() = %zd bytes", n);
    }
}

int main(int argc, char *argv[])
{
    prog = "server";
    long mode = -1;
    int bound = -1, listening = -1;

    parse_args(argc, argv, usage, &addr, &mode);

    /* A client that vanishes would kill us with SIGPIPE on our next write;
     * ignored, the write fails with EPIPE instead and we serve the next. */
    signal(SIGPIPE, SIG_IGN);

    /* TODO 1: Create the listening socket with socket(2): domain AF_UNIX,
     * type SOCK_STREAM, protocol 0. Keep the descriptor in lfd. */
    errno = ENOSYS; /* step 1: replace this line */
    if (lfd == -1)
        fail("socket");
    say("socket(AF_UNIX, SOCK_STREAM) = fd %d", lfd);

    /* bind() creates the file with mode 0777 minus the umask. With umask
     * 077 it is born srwx------: on Linux, connect() needs write permission
     * on it, so only our own user can connect (unix(7), "Pathname socket
     * ownership and permissions": POSIX says nothing of it, and some older
     * BSDs ignore it). -m widens it afterwards, on request. */
    umask(077);
    for (int attempt = 1; attempt <= 2; attempt++) {
        /* TODO 2: Give the socket its name: bind(2) lfd to addr, keeping
         * the result in bound. (The loop around you replaces a stale socket
         * file, one left by a server that died, and lets you try again.) */
        errno = ENOSYS; /* step 2: replace this line */
        if (bound == 0 || errno != EADDRINUSE || attempt == 2)
            break;
        say("bind(\"%s\") = -1: Address already in use", addr.sun_path);
        remove_stale_socket();
    }
    if (bound == -1)
        fail("bind %s", addr.sun_path);
    atexit(remove_socket_file);
    say("bind(\"%s\") = 0", addr.sun_path);
    snprintf(goodbye, sizeof goodbye, "[server] signal: unlink(\"%s\"), exit 0\n",
             addr.sun_path);
    /* sigaction(2), not signal(): under -D_POSIX_C_SOURCE, glibc's signal()
     * resets the handler on entry, so a second signal would kill us. */
    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (mode != -1) {
        if (chmod(addr.sun_path, (mode_t)mode) == -1)
            fail("chmod %s", addr.sun_path);
        say("chmod(\"%s\", %04lo) = 0", addr.sun_path, mode);
    }

    /* TODO 3: Turn the socket into a listening one with listen(2), with a
     * backlog of 16 connections waiting to be accepted; keep the result
     * in listening. */
    errno = ENOSYS; /* step 3: replace this line */
    if (listening == -1)
        fail("listen");
    say("listen(backlog=16) = 0");
    printf("listening on %s\n", addr.sun_path);   /* the readiness line */
    (void)fflush(stdout);   /* no reader is no reason to stop serving */

    for (;;) {
        int cfd = -1;
        /* TODO 4: Wait for the next client with accept(2); it returns a
         * new descriptor, connected to that client. Keep it in cfd. */
        errno = ENOSYS; /* step 4: replace this line */
        if (cfd == -1 && (errno == EINTR || errno == ECONNABORTED))
            continue;
        if (cfd == -1)
            fail("accept");
        say("accept() = fd %d", cfd);
        serve(cfd);
        if (close(cfd) == -1)   /* the fd is freed anyway (close(2)): not fatal */
            say("close(fd %d) = -1: %s", cfd, strerror(errno));
        else
            say("close(fd %d) = 0", cfd);
    }
}
