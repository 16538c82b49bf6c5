/* server.c - lab 08: hands out open files, not their bytes (SCM_RIGHTS).
 *
 *   ./server [-m MODE] [-a UID[,UID...]] [-o OFFSET] [-t SECONDS] [PATH] DIR
 *
 * socket(SOCK_SEQPACKET) -> bind() -> listen() -> accept() -> SO_PEERCRED
 * -> a file name -> open it in DIR -> sendmsg() "OK" and the descriptor
 * (SCM_RIGHTS), or "ERR reason" -> close(), client after client. Privilege
 * separation: the server opens what the client may not, checks who the
 * client is, and passes an open file. See unix(7), cmsg(3), sendmsg(2),
 * socket(7) (SO_PEERCRED), openat(2).
 */
/* struct ucred (SO_PEERCRED, SCM_CREDENTIALS) is Linux-specific. */
#define _GNU_SOURCE
#include "lab.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: server [-m MODE] [-a UID[,UID...]] [-o OFFSET] [-t SECONDS] [PATH] DIR\n"
    "  Hands out the regular files directly inside DIR as open, read-only\n"
    "  descriptors (SCM_RIGHTS) on the Unix seqpacket socket PATH (default\n"
    "  " DEFAULT_PATH "; @NAME: an abstract name, no file), one client\n"
    "  after another. A request is a file name; the reply is OK with the\n"
    "  descriptor, or ERR and a reason.\n"
    "  -m MODE     permissions of the socket file, in octal (default 0700:\n"
    "              only the owner may connect)\n"
    "  -a UIDS     serve only these users (SO_PEERCRED); ERR to the others\n"
    "  -o OFFSET   pass each file with its offset at byte OFFSET (lseek)\n"
    /* EXTRA 1: the usage of -p */
    "  -p          ask for the sender's credentials on each message\n"
    "              (SO_PASSCRED) and narrate them (SCM_CREDENTIALS)\n"
    /* END EXTRA 1 */
    "  -t SECONDS  a client silent for that long is dropped (default 30)\n";

static struct args a;
static int dir_fd = -1;
static void serve(int cfd);   /* below main(), in lesson order */

int main(int argc, char *argv[])
{
    prog = "server";
    int lfd = -1, bound = -1, listening = -1;

    open_std_fds();   /* before any socket can take 0, 1 or 2 (lab.c) */
    parse_args(argc, argv, usage, 1, &a);
    signal(SIGPIPE, SIG_IGN);   /* a vanished client: EPIPE, not death */
    /* DIR, opened once: each name is opened relative to it (openat). */
    dir_fd = open(a.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd == -1)
        fail("open %s", a.dir);
    say("open(\"%s\", O_DIRECTORY) = fd %d", a.dir, dir_fd);

    /* TODO 1: Create the listening socket: a Unix-domain socket that is
     * connection-oriented and keeps message boundaries, as in lab 04
     * (socket(2), unix(7)); keep its descriptor in lfd. */
    lfd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    /* END TODO 1 */
    if (lfd == -1)
        fail("socket");
    say("socket(AF_UNIX, SOCK_SEQPACKET) = fd %d", lfd);

    /* A path is a file, handled as in lab 04 (lab.c): a lock, a mode at
     * birth (0700 unless -m), a stale file replaced, removed at exit if
     * still ours. An abstract name is no file: nothing to lock, no mode,
     * nothing stale (the kernel frees the name with the socket). */
    if (!a.abstract) {
        lock_socket_path(a.addr.sun_path);
        umask(a.mode == -1 ? 077 : (mode_t)(~a.mode & 0777));
    }
    for (int attempt = 1; attempt <= 2; attempt++) {
        /* TODO 2: Give the socket its name with bind(2): the address in
         * a.addr, of the length a.addrlen (a path: the whole structure; an
         * abstract name: just up to its last byte, unix(7) "Address
         * format"). Keep the result in bound. */
        bound = bind(lfd, (struct sockaddr *)&a.addr, a.addrlen);
        /* END TODO 2 */
        if (bound == 0 || errno != EADDRINUSE || a.abstract || attempt == 2)
            break;
        say("bind(\"%s\") = -1: Address already in use", a.shown);
        replace_stale_socket(&a.addr, SOCK_SEQPACKET);   /* or exit 1: lab.c */
    }
    if (bound == -1)
        fail("bind %s", a.shown);
    if (a.abstract)
        exit_on_signals(lfd);
    else
        own_socket_file(lfd);
    close_on_signals(dir_fd);
    say("bind(\"%s\") = 0", a.shown);

    /* TODO 3: Make the socket a listening one, with room for 16
     * connections waiting (listen(2)); keep the result in listening. */
    listening = listen(lfd, 16);
    /* END TODO 3 */
    if (listening == -1)
        fail("listen");
    say("listen(backlog=16) = 0");
    /* EXTRA 1: -p: SO_PASSCRED (Linux, unix(7)) on the listener; each
     * accepted socket inherits it, and every message it receives then
     * carries its sender's pid, uid and gid (SCM_CREDENTIALS). */
    int one = 1;
    if (a.passcred && setsockopt(lfd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) == -1)
        fail("setsockopt SO_PASSCRED");
    if (a.passcred)
        say("setsockopt(SO_PASSCRED) = 0");
    /* END EXTRA 1 */
    printf("listening on %s\n", a.shown);   /* the readiness line */
    (void)fflush(stdout);

    for (;;) {
        int cfd = -1;
        /* TODO 4: Take the next client's connection with accept(2) into
         * cfd; no need for its address (a client's is usually unnamed). */
        cfd = accept(lfd, NULL, NULL);
        /* END TODO 4 */
        if (cfd == -1) {
            accept_failed();   /* a lost connection or a pause, or exit 1: lab.c */
            continue;
        }
        say("accept() = fd %d", cfd);
        serve(cfd);
        if (close(cfd) == -1)   /* the fd is freed anyway (close(2)) */
            say("close(fd %d) = -1: %s", cfd, strerror(errno));
        else
            say("close(fd %d) = 0", cfd);
    }
}

static void serve(int cfd)
{
    struct ucred who = { .pid = 0 };
    int got = -1;
    bound_waits(cfd, (int)a.timeout);   /* a silent client costs -t at most */

    /* TODO 5: Ask the kernel who is connected: getsockopt(2) at level
     * SOL_SOCKET, option SO_PEERCRED (unix(7), socket(7)), into who, its
     * length in a socklen_t of your own. The answer is what the kernel
     * recorded at connect(): the client cannot forge it. Keep the
     * result in got. */
    socklen_t wholen = sizeof who;
    got = getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &who, &wholen);
    /* END TODO 5 */
    if (got == -1) {
        say("getsockopt(SO_PEERCRED) = -1: %s", strerror(errno));
        return;
    }
    say("getsockopt(SO_PEERCRED) = pid %ld uid %ld gid %ld",
        (long)who.pid, (long)who.uid, (long)who.gid);

    /* The request (lab.c): any descriptor the client sends is closed. */
    char name[MAX_NAME + 1], shown[MAX_NAME + 1];
    ssize_t n = receive_request(cfd, name, sizeof name);
    if (n <= 0)
        return;
    printable(shown, sizeof shown, name, (size_t)n);
    /* -a: the uid the kernel vouched for; the name: inside DIR (lab.c). */
    char denied[64];
    snprintf(denied, sizeof denied, "not allowed: uid %ld", (long)who.uid);
    const char *bad = !uid_allowed(&a, (long)who.uid) ? denied
                      : bad_name(name, n > MAX_NAME ? MAX_NAME + 1 : (size_t)n);
    if (bad != NULL) {
        reply_err(cfd, "%s", bad);
        return;
    }
    name[n] = '\0';

    /* Opened here, by us, relative to DIR: read-only; O_NOFOLLOW, a
     * symbolic link planted in DIR fails with ELOOP rather than lead
     * anywhere; O_NONBLOCK, a FIFO planted there cannot hang the open
     * (on a regular file it changes nothing). Then: a regular file only. */
    int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    struct stat st;
    if (fd == -1) {
        reply_err(cfd, "%s", errno == ELOOP ? "a symbolic link: refused (O_NOFOLLOW)" : strerror(errno));
        return;
    }
    say("openat(\"%s\", O_RDONLY|O_NOFOLLOW|O_NONBLOCK|O_NOCTTY|O_CLOEXEC) = fd %d", shown, fd);
    if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
        reply_err(cfd, "not a regular file");
    } else if (a.offset > 0 && lseek(fd, a.offset, SEEK_SET) == -1) {
        reply_err(cfd, "lseek: %s", strerror(errno));
    } else {
        if (a.offset > 0)
            say("lseek(fd %d, %ld) = %ld: the offset travels with the open file", fd, a.offset, a.offset);
        ssize_t w = -1;
        do {   /* again if a signal interrupts it (EINTR) */
            /* TODO 6: Reply "OK" (2 bytes) with fd attached, in one
             * sendmsg(2): a msghdr with one iovec for the bytes and a
             * control buffer holding one cmsghdr at level SOL_SOCKET, type
             * SCM_RIGHTS, carrying fd. cmsg(3): CMSG_SPACE sizes the
             * buffer, which must be aligned, and zeroed (its padding goes
             * to the kernel too); CMSG_LEN gives cmsg_len; CMSG_FIRSTHDR
             * and CMSG_DATA say where to write. Keep the result in w. */
            union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } out = { { 0 } };
            struct iovec ok = { .iov_base = "OK", .iov_len = 2 };
            struct msghdr reply = { .msg_iov = &ok, .msg_iovlen = 1,
                                    .msg_control = out.buf, .msg_controllen = sizeof out.buf };
            struct cmsghdr *c = CMSG_FIRSTHDR(&reply);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof fd);
            memcpy(CMSG_DATA(c), &fd, sizeof fd);
            w = sendmsg(cfd, &reply, 0);
            /* END TODO 6 */
        } while (w == -1 && errno == EINTR);
        if (w == -1)
            say("sendmsg() = -1: %s", strerror(errno));
        else
            say("sendmsg() = %zd bytes + SCM_RIGHTS fd %d", w, fd);
    }
    say("close(fd %d) = %d", fd, close(fd));
}
