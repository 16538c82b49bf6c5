/* server.c - lab 03: a Unix-domain datagram server (upper-case echo).
 *
 *   ./server [-m MODE] [-s SIZE] [PATH]      PATH defaults to /tmp/lab03.sock
 *
 * socket() -> bind() -> recvmsg() -> sendto() the sender, one datagram after
 * another, until SIGINT or SIGTERM. No listen(), no accept(): there is no
 * connection, each datagram carries its sender's address, and the server
 * checks where its reply would land before it sends. See unix(7),
 * socket(2), recv(2), send(2).
 */
#define _DEFAULT_SOURCE   /* for SO_PASSCRED, Linux-specific (feature_test_macros(7)) */
#include "lab.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: server [-m MODE] [-s SIZE]"
    " [PATH]\n"
    "  Serves upper-case echo on the Unix datagram socket PATH\n"
    "  (default " DEFAULT_PATH ").\n"
    "  -m MODE  permissions of the socket file, in octal (default 0700:\n"
    "           only the owner may send); -m 0777 lets anyone send\n"
    "  -s SIZE  receive buffer in bytes, 1 to 65536 (default 65536, the\n"
    "           largest datagram of this lab); a longer datagram is truncated\n"
    ;
static const char takes[] = "ms"   /* the option letters */
    ;

int main(int argc, char *argv[])
{
    prog = "server";
    static char buf[MAX_MSG];
    struct sockaddr_un addr, bound;
    socklen_t boundlen = sizeof bound;
    struct options opt;
    int sfd = -1, rc = -1, on = 1;

    open_std_fds();   /* before any socket can take 0, 1 or 2 (lab.c) */
    parse_args(argc, argv, usage, takes, &addr, &opt);
    signal(SIGPIPE, SIG_IGN);   /* the course's rule; datagrams never raise it */

    /* TODO 1: Create the server's socket, a Unix-domain one that carries
     * datagrams, and keep its descriptor in sfd. socket(2) for the call,
     * unix(7) for the domain and the types it offers. */
    errno = ENOSYS; /* step 1: replace this line */
    if (sfd == -1)
        fail("socket");
    say("socket(%s) = fd %d", socket_kind(sfd), sfd);   /* as the kernel says: lab.c */

    /* Linux-specific (unix(7), SO_PASSCRED): each datagram comes with its
     * sender's pid, uid and gid (SCM_CREDENTIALS), checked by the kernel.
     * Set before bind(): no datagram can come without them. */
    if (setsockopt(sfd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) == -1)
        fail("setsockopt SO_PASSCRED");
    say("setsockopt(SO_PASSCRED) = 0");

    /* The socket file, as in lab 01 (lab.c): a lock on PATH.lock first; a
     * umask that gives the file its mode at birth (0700: on Linux, sending
     * to it needs write permission on it, so only our own user may send;
     * -m MODE for another); a stale file replaced (our probe's datagram
     * connect() says ECONNREFUSED when nobody is bound there, and succeeds
     * when a server is); the file removed at exit only if it is still ours. */
    lock_socket_path(addr.sun_path);
    umask(opt.mode == -1 ? 077 : (mode_t)(~opt.mode & 0777));
    if (opt.mode != -1)
        say("umask(%04lo): bind() makes the file with mode %04lo", ~opt.mode & 0777, opt.mode);
    for (int attempt = 1; attempt <= 2; attempt++) {
        /* TODO 2: Give sfd its name, the path in addr that clients send
         * to, and keep the call's result in rc. bind(2); unix(7),
         * "Pathname sockets". (The loop around you replaces a stale
         * socket file and lets you try again.) */
        errno = ENOSYS; /* step 2: replace this line */
        if (rc == 0 || errno != EADDRINUSE || attempt == 2)
            break;
        say("bind(\"%s\") = -1: Address already in use", addr.sun_path);
        replace_stale_socket(&addr, SOCK_DGRAM);   /* or exit 1: lab.c */
    }
    if (rc == -1)
        fail("bind %s", addr.sun_path);
    /* The name the socket got, as the kernel says (getsockname(2)): what
     * bind() really did, whatever it was asked. */
    if (getsockname(sfd, (struct sockaddr *)&bound, &boundlen) == -1)
        fail("getsockname");
    say("bind(%s) = 0", addr_name(&bound, boundlen));
    own_socket_file(sfd);   /* removed at exit: lab.c */
    guard_replies(sfd, addr.sun_path);   /* what a reply must not reach: lab.c */
    printf("receiving on %s\n", addr.sun_path);   /* the readiness line */
    (void)fflush(stdout);   /* no reader is no reason to stop serving */

    for (;;) {
        /* The sender's address, filled by recvmsg(). For a path that fills
         * sun_path, Linux gives the length as 111: one byte more than a
         * struct sockaddr_un, for a NUL that is not there. The union has
         * room for it; lab.c reads sun_path only. */
        union { struct sockaddr_un un; struct sockaddr_storage room; } from;
        struct sockaddr_un to;   /* the reply's address */
        socklen_t tolen = 0;
        /* Room for the credentials only: a descriptor sent along
         * (SCM_RIGHTS) finds none; the kernel closes it (MSG_CTRUNC). */
        union { struct cmsghdr align; char buf[CRED_SPACE]; } cred;
        struct iovec iov = { .iov_base = buf, .iov_len = (size_t)opt.size };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                              .msg_control = cred.buf, .msg_controllen = sizeof cred.buf };
        ssize_t n = -1, w = -1;
        int pin = -1;

        /* TODO 3: Receive one datagram into msg, with its sender's address
         * in from, and keep the datagram's real length in n, even when buf
         * is too short for it. recv(2), "recvmsg()" for the address and
         * its length (value-result: the room going in, the address's
         * length coming out), "The flags argument" for the real length
         * (a Linux-specific flag). */
        errno = ENOSYS; /* step 3: replace this line */
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
        const char *sender = addr_name(&from.un, msg.msg_namelen);
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

        /* The sender chose the address we reply to. A path is looked up
         * again by sendto(), through symbolic links: made a link to our own
         * socket, it loops one datagram for ever; to one the sender may not
         * write to, it has us deliver there with our rights (a confused
         * deputy). So it must be a socket of the sender's uid, and not ours;
         * and a receiver holds at most its share of our unread replies.
         * lab.c checks, and gives the destination: to, tolen bytes long. */
        const char *why = reply_refused(sfd, &msg, len, &to, &tolen, &pin);
        if (why != NULL) {
            say("sendto(%s) refused: %s", sender, why);
            continue;
        }
        do {
            /* TODO 4: Send the reply, the first len bytes of buf, to the
             * checked address in to (tolen bytes long, not sizeof to),
             * without ever waiting for room: a reply that cannot go at once
             * must fail with EAGAIN. Keep the result in w. send(2),
             * "sendto()" and the flags (one is Linux and BSD, not POSIX). */
            errno = ENOSYS; /* step 4: replace this line */
        } while (w == -1 && errno == EINTR);
        /* A sender that is gone costs its reply only (ECONNREFUSED); so
         * does a receiver with no room (EAGAIN): waiting for one would
         * stop everyone else. */
        sender = addr_name(&to, tolen);   /* a path's: /proc/self/fd/N */
        if (w == -1 && errno == EAGAIN)
            say("sendto(%s) = -1: %s: reply dropped", sender, strerror(errno));
        else if (w == -1)
            say("sendto(%s) = -1: %s", sender, strerror(errno));
        else
            say("sendto(%s) = %zd bytes", sender, w);
        reply_done(sfd, w, pin);   /* w charged to its receiver; pin closed */
    }
}
