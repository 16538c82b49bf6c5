/* client.c - lab 08: asks for a file and receives an open descriptor.
 *
 *   ./client [-c BYTES] [PATH] NAME > output     PATH: /tmp/lab08.sock
 *
 * socket(SOCK_SEQPACKET) -> connect() -> send() NAME -> recvmsg() "OK" and
 * a descriptor (SCM_RIGHTS) in the control data, or "ERR reason" -> read()
 * the file from that descriptor to standard output. The client never opens
 * the file: it may have no right to. See unix(7), cmsg(3), recvmsg(2).
 */
/* MSG_CMSG_CLOEXEC is Linux-specific. */
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
    "usage: client [-c BYTES] [PATH] NAME > output\n"
    "  Asks the server at the Unix seqpacket socket PATH (default\n"
    "  " DEFAULT_PATH "; @NAME: an abstract name) for the file NAME,\n"
    "  receives it as an open descriptor and copies it to standard output.\n"
    "  -c BYTES  the size of the buffer for control data (default: room\n"
    "            for one descriptor, CMSG_SPACE(sizeof(int)))\n"
    /* EXTRA 2: the usage of -u UID */
    "  -u UID    send the request with credentials claiming user UID\n"
    "            (SCM_CREDENTIALS): only root may claim another's\n"
    /* END EXTRA 2 */
    ;

int main(int argc, char *argv[])
{
    prog = "client";
    struct args a;
    int sock = -1, rc = -1, fd = -1;
    char reply[512], shown[512], why[512];

    open_std_fds();   /* before any socket can take 0, 1 or 2 (lab.c) */
    parse_args(argc, argv, usage, 0, &a);
    signal(SIGPIPE, SIG_IGN);   /* a vanished server: EPIPE, not death */

    /* TODO 7: Create a socket of the server's type into sock (socket(2)),
     * check it and narrate it as the server does, then connect it to the
     * address in a.addr, of length a.addrlen (connect(2)), keeping
     * connect's result in rc. */
    sock = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    if (sock == -1)
        fail("socket");
    say("socket(AF_UNIX, SOCK_SEQPACKET) = fd %d", sock);
    rc = connect(sock, (struct sockaddr *)&a.addr, a.addrlen);
    /* END TODO 7 */
    if (rc == -1)
        fail("connect %s", a.shown);   /* ENOENT: no file; EACCES: its mode; ECONNREFUSED: nobody */
    say("connect(\"%s\") = 0", a.shown);

    /* The request, one message: the name's bytes (lab.c). */
    size_t len = strlen(a.name);
    send_request(sock, &a);

    /* The reply's bytes go to reply; its control data to control, of the
     * size -c asked for, or CMSG_SPACE(sizeof(int)): room for one
     * descriptor. The union aligns the buffer for struct cmsghdr. */
    union { char buf[MAX_CONTROL]; struct cmsghdr align; } control;
    size_t space = a.control == -1 ? CMSG_SPACE(sizeof(int)) : (size_t)a.control;
    struct iovec iov = { .iov_base = reply, .iov_len = sizeof reply - 1 };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                          .msg_control = space > 0 ? control.buf : NULL, .msg_controllen = space };
    ssize_t n = -1;
    do {   /* again if a signal interrupts it (EINTR) */
        /* TODO 8: Receive the reply, bytes and control data, into msg
         * with recvmsg(2), keeping the result in n. Ask that any
         * descriptor received be close-on-exec (MSG_CMSG_CLOEXEC,
         * recvmsg(2), Linux-specific): it is ours, not for programs we
         * might exec. */
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
        /* END TODO 8 */
    } while (n == -1 && errno == EINTR);
    if (n == -1)
        fail("recvmsg");
    if (n == 0)
        failx("recvmsg: the server closed the connection without a reply");
    reply[n] = '\0';

    /* TODO 9: Walk the control messages, from CMSG_FIRSTHDR(&msg) with
     * CMSG_NXTHDR (cmsg(3)); in each one at level SOL_SOCKET of type
     * SCM_RIGHTS, the data (CMSG_DATA) holds (cmsg_len - CMSG_LEN(0)) /
     * sizeof(int) descriptors, now ours: keep the first in fd, and close
     * any other, since a hostile server could fill our table. */
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
            int got;
            memcpy(&got, CMSG_DATA(c) + i * sizeof got, sizeof got);
            if (fd == -1)
                fd = got;
            else
                (void)close(got);
        }
    }
    /* END TODO 9 */
    if ((msg.msg_flags & MSG_CTRUNC) && fd == -1)
        say("recvmsg() = %zd bytes, MSG_CTRUNC: %zu bytes of control buffer, "
            "one descriptor needs %zu (CMSG_LEN(sizeof(int))): the kernel closed it",
            n, space, (size_t)CMSG_LEN(sizeof(int)));
    else if (msg.msg_flags & MSG_CTRUNC)
        say("recvmsg(): MSG_CTRUNC: the kernel closed what did not fit");
    if (strncmp(reply, "OK", 2) != 0 || n != 2) {
        if (fd != -1)
            (void)close(fd);
        failx("%s: %s", printable(shown, sizeof shown, a.name, len),
              strncmp(reply, "ERR ", 4) == 0 ? printable(why, sizeof why, reply + 4, (size_t)n - 4)
                                             : "not a reply of this protocol");
    }
    if (fd == -1) {
        show_fds();   /* what this process holds: the kernel kept nothing for us */
        failx("%s: OK came without a descriptor", printable(shown, sizeof shown, a.name, len));
    }
    say("recvmsg() = %zd bytes + SCM_RIGHTS fd %d", n, fd);

    /* What fd is: /proc/self/fd/N names the file it leads to (proc(5)). */
    char target[4096];
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t t = readlink(link, target, sizeof target - 1);
    target[t == -1 ? 0 : t] = '\0';
    say("readlink(\"%s\") = \"%s\"", link, t == -1 ? strerror(errno) : target);
    struct stat st;
    if (fstat(fd, &st) == -1)
        fail("fstat fd %d", fd);
    if (!S_ISREG(st.st_mode))   /* a hostile server could pass a socket or a pipe */
        failx("%s: fd %d is not a regular file: refused", a.name, fd);
    say("lseek(fd %d, 0, SEEK_CUR) = %ld", fd, (long)lseek(fd, 0, SEEK_CUR));

    /* The file's bytes, from the descriptor we were given. */
    static char buf[65536];
    long long total = 0;
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r == -1 && errno == EINTR)
            continue;
        if (r == -1)
            fail("read fd %d", fd);
        if (r == 0)
            break;
        if (write_all(1, buf, (size_t)r) == -1)
            fail("write");
        total += r;
    }
    say("read(fd %d) = 0: %lld bytes copied to standard output", fd, total);
    if (close(fd) == -1 || close(sock) == -1)
        fail("close");
    return 0;
}
