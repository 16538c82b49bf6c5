/* server.c - lab 04: a Unix-domain seqpacket server (upper-case echo).
 *
 *   ./server [-m MODE] [-s SIZE] [-t SECONDS] [PATH]   PATH: /tmp/lab04.sock
 *
 * socket(SOCK_SEQPACKET) -> bind() -> listen() -> accept() -> recvmsg()/send()
 * -> close(), one client after another, until SIGINT or SIGTERM. A connection,
 * as in lab 01, that keeps message boundaries, as datagrams do in lab 03.
 * POSIX defines SOCK_SEQPACKET; on AF_UNIX, Linux has it since 2.6.4
 * (unix(7)), and so do FreeBSD, NetBSD and illumos; macOS and OpenBSD do
 * not. See unix(7), socket(2), recvmsg(2), poll(2).
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
    "usage: server [-m MODE] [-s SIZE] [-t SECONDS] [PATH]\n"
    "  Serves upper-case echo, one reply per message, on the Unix seqpacket\n"
    "  socket PATH (default " DEFAULT_PATH "), one client after another.\n"
    "  -m MODE     permissions of the socket file, in octal (default 0700:\n"
    "              only the owner may connect); -m 0777 lets anyone connect\n"
    "  -s SIZE     receive into a buffer of SIZE bytes (default 65536, the\n"
    "              largest message); a longer message is truncated\n"
    "  -t SECONDS  a client that sends nothing, or reads nothing, for that\n"
    "              long is dropped (default 30; 0: wait for ever)\n";

static long timeout = DEFAULT_TIMEOUT;   /* -t: see serve() */
static void serve(int cfd, size_t size);   /* below main(), in lesson order */

int main(int argc, char *argv[])
{
    prog = "server";
    struct sockaddr_un addr;
    long mode = -1, size = MAX_MSG;
    int lfd = -1, bound = -1, listening = -1;

    open_std_fds();   /* before any socket can take 0, 1 or 2 (lab.c) */
    parse_args(argc, argv, usage, &addr, &mode, &size, &timeout);

    /* A client that vanishes would kill us with SIGPIPE on our next send;
     * ignored, the send fails with EPIPE instead and we serve the next. */
    signal(SIGPIPE, SIG_IGN);

    /* TODO 1: Create the listening socket, a Unix-domain socket that is
     * connection-oriented and keeps message boundaries (socket(2); unix(7)
     * names the type); keep its descriptor in lfd. */
    errno = ENOSYS; /* step 1: replace this line */
    if (lfd == -1)
        fail("socket");
    say("socket(AF_UNIX, SOCK_SEQPACKET) = fd %d", lfd);

    /* The socket file, as in lab 01 (lab.c): a lock on PATH.lock first; a
     * umask that gives the file its mode at birth (0700, or -m MODE); a
     * stale file replaced, one of any other kind left alone (our probe is
     * a seqpacket connect(): a stream or datagram socket there answers
     * EPROTOTYPE); and the file removed at exit only if it is still ours. */
    lock_socket_path(addr.sun_path);
    umask(mode == -1 ? 077 : (mode_t)(~mode & 0777));
    if (mode != -1)
        say("umask(%04lo): bind() makes the file with mode %04lo", ~mode & 0777, mode);
    for (int attempt = 1; attempt <= 2; attempt++) {
        /* TODO 2: Give the socket its name, the path in addr, with bind(2),
         * keeping the result in bound; the length is that of the whole
         * address (unix(7), "Pathname sockets"). The loop around you
         * replaces a stale socket file, one a dead server left, and lets
         * you try again. */
        errno = ENOSYS; /* step 2: replace this line */
        if (bound == 0 || errno != EADDRINUSE || attempt == 2)
            break;
        say("bind(\"%s\") = -1: Address already in use", addr.sun_path);
        replace_stale_socket(&addr, SOCK_SEQPACKET);   /* or exit 1: lab.c */
    }
    if (bound == -1)
        fail("bind %s", addr.sun_path);
    own_socket_file(lfd);
    say("bind(\"%s\") = 0", addr.sun_path);

    /* TODO 3: Make the socket a listening one, with room for 16
     * connections waiting to be accepted (listen(2)); keep the result in
     * listening. */
    errno = ENOSYS; /* step 3: replace this line */
    if (listening == -1)
        fail("listen");
    say("listen(backlog=16) = 0");
    printf("listening on %s\n", addr.sun_path);   /* the readiness line */
    (void)fflush(stdout);   /* no reader is no reason to stop serving */

    for (;;) {
        int cfd = -1;
        /* TODO 4: Take the next client's connection with accept(2), which
         * waits for one; keep the new descriptor, connected to that client
         * alone, in cfd. The listening socket stays for the next client. */
        errno = ENOSYS; /* step 4: replace this line */
        if (cfd == -1) {
            accept_failed();   /* a lost connection or a pause, or exit 1: lab.c */
            continue;
        }
        say("accept() = fd %d", cfd);
        serve(cfd, (size_t)size);
        if (close(cfd) == -1)   /* the fd is freed anyway (close(2)): not fatal */
            say("close(fd %d) = -1: %s", cfd, strerror(errno));
        else
            say("close(fd %d) = 0", cfd);
    }
}

/* Echo one client, one reply per message, until it closes. Its failures
 * cost that client only, and so does its silence: each receive and send
 * waits at most -t seconds (bound_waits(), lab.c). Each recvmsg() takes
 * exactly one message; what does not fit in the buffer is discarded,
 * never read later as in a stream. */
static void serve(int cfd, size_t size)
{
    static char buf[MAX_MSG];
    struct iovec iov = { .iov_base = buf, .iov_len = size };
    bound_waits(cfd, (int)timeout);
    for (;;) {
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
        ssize_t n = -1, w;
        int closed = 0;
        /* TODO 6: Receive one whole message into msg with recvmsg(2),
         * keeping the result in n, and ask that n be the message's real
         * length even when the buffer was too short (recv(2), "The flags
         * argument"; Linux-specific as an input flag). msg.msg_flags says
         * whether the message was cut. */
        errno = ENOSYS; /* step 6: replace this line */
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            say("recvmsg() = -1: %s (nothing for %ld s): client dropped", strerror(errno), timeout);
            return;
        }
        if (n == -1) {
            say("recvmsg() = -1: %s", strerror(errno));
            return;
        }
        /* TODO 7: Tell an empty message from the end: only when n is 0, set
         * closed to the answer of peer_closed() (lab.c), which asks poll(2)
         * for POLLRDHUP. recvmsg() returns 0 for both; the answer is
         * certain only because this is request/reply: the client closes
         * after it has read every reply, never with an empty message still
         * waiting here for its reply. */
        errno = ENOSYS; /* step 7: replace this line */
        if (closed) {
            say("recvmsg() = 0: peer closed");
            return;
        }
        if (n == 0) {
            say("recvmsg() = 0 bytes: an empty message");
        } else if (msg.msg_flags & MSG_TRUNC) {
            say("recvmsg() = %zd bytes, buffer holds %zu: truncated (MSG_TRUNC)", n, size);
            n = (ssize_t)size;   /* the bytes we hold; the rest is gone */
        } else {
            say("recvmsg() = %zd bytes", n);
        }
        upcase(buf, (size_t)n);
        /* One send(), one message: it goes whole or not at all, there is
         * no partial send on a seqpacket socket. EPIPE: the client left. */
        do
            w = send(cfd, buf, (size_t)n, 0);
        while (w == -1 && errno == EINTR);
        if (w == -1) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                say("send() = -1: %s (not read for %ld s): client dropped", strerror(errno), timeout);
            else
                say("send() = -1: %s", strerror(errno));
            return;
        }
        say("send() = %zd bytes", w);
    }
}
