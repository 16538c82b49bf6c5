/* server.c - lab 03: a Unix-domain datagram server (upper-case echo).
 *
 *   ./server [-m MODE] [-s SIZE] [PATH]      PATH defaults to /tmp/lab03.sock
 *
 * socket() -> bind() -> recvmsg() -> sendto() the sender, one datagram after
 * another, until SIGINT or SIGTERM. No listen(), no accept(): there is no
 * connection, each datagram carries its sender's address. See unix(7),
 * socket(2), recv(2), send(2).
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
    "usage: server [-m MODE] [-s SIZE] [PATH]\n"
    "  Serves upper-case echo on the Unix datagram socket PATH\n"
    "  (default " DEFAULT_PATH ").\n"
    "  -m MODE  permissions of the socket file, in octal (default 0700:\n"
    "           only the owner may send); -m 0777 lets anyone send\n"
    "  -s SIZE  receive buffer in bytes, 1 to 65536 (default 65536, the\n"
    "           largest datagram of this lab); a longer datagram is truncated\n";

static struct sockaddr_un addr;   /* global: the exit paths below need it */
static int sfd = -1;              /* and the signal handler closes it */

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
    (void)close(sfd);   /* the kernel would, at exit; valgrind --track-fds sees it closed */
    if (write(2, goodbye, strlen(goodbye)) == -1)
        _exit(1);
    _exit(0);
}

/* bind() said EADDRINUSE: a file is already at PATH. Replace it only if it
 * is a socket nobody is bound to (left by a server that crashed): connect()
 * of a datagram probe says ECONNREFUSED then, and succeeds if one is. */
static void remove_stale_socket(void)
{
    struct stat st;
    if (lstat(addr.sun_path, &st) == -1)
        fail("lstat %s", addr.sun_path);
    if (!S_ISSOCK(st.st_mode))
        failx("bind %s: the file exists and is not a socket; left alone", addr.sun_path);

    int err = probe_bound(&addr);   /* lab.c */
    if (err == 0)
        failx("bind %s: Address already in use (a server is bound there)",
              addr.sun_path);
    if (err != ECONNREFUSED) {
        errno = err;
        fail("connect (probing the old socket file)");
    }
    say("connect(\"%s\") = -1: Connection refused: stale socket file", addr.sun_path);
    if (unlink(addr.sun_path) == -1)
        fail("unlink %s", addr.sun_path);
    say("unlink(\"%s\") = 0", addr.sun_path);
}

int main(int argc, char *argv[])
{
    prog = "server";
    static char buf[MAX_MSG];
    struct options opt;
    int rc = -1;

    parse_args(argc, argv, usage, "ms", &addr, &opt);
    signal(SIGPIPE, SIG_IGN);   /* the course's rule; datagrams never raise it */

    /* TODO 1: Create the socket with socket(2): domain AF_UNIX, type
     * SOCK_DGRAM (datagrams), protocol 0. Keep the descriptor in sfd. */
    sfd = socket(AF_UNIX, SOCK_DGRAM, 0);
    /* END TODO 1 */
    if (sfd == -1)
        fail("socket");
    say("socket(AF_UNIX, SOCK_DGRAM) = fd %d", sfd);

    /* bind() creates the file with mode 0777 minus the umask. With umask
     * 077 it is born srwx------: on Linux, sending to it needs write
     * permission on it, so only our own user may send (unix(7), "Pathname
     * socket ownership and permissions": POSIX says nothing of it, and some
     * older BSDs ignore it). -m widens it afterwards, on request. */
    umask(077);
    for (int attempt = 1; attempt <= 2; attempt++) {
        /* TODO 2: Give the socket its name, the address clients send to:
         * bind(2) sfd to addr, keeping the result in rc. (The loop around
         * you replaces a stale socket file and lets you try again.) */
        rc = bind(sfd, (struct sockaddr *)&addr, sizeof addr);
        /* END TODO 2 */
        if (rc == 0 || errno != EADDRINUSE || attempt == 2)
            break;
        say("bind(\"%s\") = -1: Address already in use", addr.sun_path);
        remove_stale_socket();
    }
    if (rc == -1)
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
    if (opt.mode != -1) {
        if (chmod(addr.sun_path, (mode_t)opt.mode) == -1)
            fail("chmod %s", addr.sun_path);
        say("chmod(\"%s\", %04lo) = 0", addr.sun_path, opt.mode);
    }
    printf("receiving on %s\n", addr.sun_path);   /* the readiness line */
    (void)fflush(stdout);   /* no reader is no reason to stop serving */

    for (;;) {
        struct sockaddr_un from;   /* the sender's address, filled by recvmsg */
        struct iovec iov = { .iov_base = buf, .iov_len = (size_t)opt.size };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
        ssize_t n = -1, w = -1;

        /* TODO 3: Receive one datagram with recvmsg(2), and its sender's
         * address with it: point msg.msg_name at from and set msg.msg_namelen
         * to sizeof from (recvmsg replaces it with the address's real length).
         * Pass the flag MSG_TRUNC (Linux-specific, recv(2)): n is then the
         * datagram's real length, even when buf was too short. */
        msg.msg_name = &from;
        msg.msg_namelen = sizeof from;
        n = recvmsg(sfd, &msg, MSG_TRUNC);
        /* END TODO 3 */
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1)
            fail("recvmsg");
        /* A sender that never bound an address has none: nowhere to reply.
         * (Linux gives its length as 0; unix(7) says sizeof(sa_family_t).) */
        if (msg.msg_namelen <= sizeof(sa_family_t)) {
            say("recvmsg() = %zd bytes from an unnamed socket: cannot reply", n);
            continue;
        }
        const char *sender = addr_name(&from, msg.msg_namelen);
        size_t len = (size_t)n;
        /* POSIX: recvmsg sets MSG_TRUNC in msg_flags when the datagram was
         * longer than the buffer; the rest of it is gone for good. */
        if (msg.msg_flags & MSG_TRUNC) {
            len = iov.iov_len;
            say("recvmsg() = %zd bytes from %s, buffer holds %zu: truncated (MSG_TRUNC)",
                n, sender, len);
        } else {
            say("recvmsg() = %zd bytes from %s", n, sender);
        }
        upcase(buf, len);

        do {
            /* TODO 4: Reply with sendto(2): the first len bytes of buf, to
             * the sender's address (from, msg.msg_namelen bytes long).
             * Keep the result in w. */
            w = sendto(sfd, buf, len, 0, (struct sockaddr *)&from, msg.msg_namelen);
            /* END TODO 4 */
        } while (w == -1 && errno == EINTR);
        /* A sender that is gone costs its reply only (ECONNREFUSED). */
        if (w == -1)
            say("sendto(%s) = -1: %s", sender, strerror(errno));
        else
            say("sendto(%s) = %zd bytes", sender, w);
    }
}
