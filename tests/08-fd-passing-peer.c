/* tests/08-fd-passing-peer.c - what lab 08's programs will not do, for
 * tests/08-fd-passing.bats (which builds it with cc). One mode a run:
 *
 *   peer peercred
 *       getsockopt(SO_PEERCRED) on the accepted end of a TCP connection
 *       over 127.0.0.1 (port 0: any free one), then on one end of a Unix
 *       socketpair, for contrast. Prints one line each, as the kernel
 *       answered, "tcp (...): pid P uid U gid G", "unix (...): pid P uid U
 *       gid G" (uid and gid unsigned), and "self: pid P uid U gid G", this
 *       process's own ids.
 *   peer inflight
 *       A pipe's write end sent over a socketpair (SCM_RIGHTS) and never
 *       received: the sender closes its own copy, and the pipe's read end
 *       still sees no EOF (poll, timeout 0); then the receiving socket is
 *       closed, message unread, and the read end sees EOF. Prints what
 *       poll() and read() said at each point.
 *   peer send-fds N PATH NAME
 *       A hostile client: connects to the lab's server at PATH (@NAME: an
 *       abstract name), sends the request NAME with N descriptors of its
 *       own (SCM_RIGHTS, N copies of /dev/null), and prints the reply.
 *   peer serve-fds N PATH FILE
 *       A hostile server: listens at PATH, prints "listening on PATH",
 *       takes one client, reads its request and replies OK with N
 *       descriptors in one SCM_RIGHTS message: FILE first, then N - 1
 *       copies of /dev/null. Waits for the client to close, then exits 0.
 *
 * A failure: one line "peer: what: reason" on stderr, exit 1.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_FDS 253   /* SCM_MAX_FD: the most one SCM_RIGHTS message carries */

static void fail(const char *what)
{
    fprintf(stderr, "peer: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void print_cred(const char *what, int fd)
{
    struct ucred c;
    socklen_t len = sizeof c;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c, &len) == -1)
        fail("getsockopt SO_PEERCRED");
    printf("%s: pid %ld uid %lu gid %lu\n", what, (long)c.pid, (unsigned long)c.uid,
           (unsigned long)c.gid);
}

static int peercred(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0), s, sv[2];
    if (l == -1 || c == -1)
        fail("socket");
    if (bind(l, (struct sockaddr *)&a, sizeof a) == -1 || listen(l, 1) == -1 ||
        getsockname(l, (struct sockaddr *)&a, &alen) == -1)
        fail("bind 127.0.0.1:0");
    if (connect(c, (struct sockaddr *)&a, sizeof a) == -1)
        fail("connect");
    if ((s = accept(l, NULL, NULL)) == -1)
        fail("accept");
    char what[64];
    snprintf(what, sizeof what, "tcp (127.0.0.1:%d, the accepted end)", ntohs(a.sin_port));
    print_cred(what, s);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
        fail("socketpair");
    print_cred("unix (a socketpair)", sv[0]);
    printf("self: pid %ld uid %lu gid %lu\n", (long)getpid(), (unsigned long)getuid(),
           (unsigned long)getgid());
    return 0;
}

/* The pipe's read end, looked at without waiting. */
static void look(const char *when, int rfd)
{
    struct pollfd p = { .fd = rfd, .events = POLLIN };
    int n = poll(&p, 1, 0);
    if (n == -1)
        fail("poll");
    printf("%s: poll(read end, timeout 0) = %d, revents=%s%s%s", when, n,
           p.revents == 0 ? "0" : "", p.revents & POLLIN ? "POLLIN " : "",
           p.revents & POLLHUP ? "POLLHUP" : "");
    if (n == 1) {
        char b;
        printf(", read() = %zd", read(rfd, &b, 1));
    }
    printf("\n");
}

/* One SCM_RIGHTS message with n descriptors of fds, and the bytes text. */
static ssize_t send_fds(int sock, const char *text, const int *fds, int n)
{
    static union { char buf[CMSG_SPACE(MAX_FDS * sizeof(int))]; struct cmsghdr align; } u;
    struct iovec iov = { .iov_base = (void *)text, .iov_len = strlen(text) };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (n > 0) {
        m.msg_control = u.buf;
        m.msg_controllen = CMSG_SPACE(n * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(n * sizeof(int));
        memcpy(CMSG_DATA(c), fds, n * sizeof(int));
    }
    return sendmsg(sock, &m, 0);
}

static int inflight(void)
{
    int p[2], sv[2];
    if (pipe(p) == -1 || socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == -1)
        fail("pipe, socketpair");
    if (send_fds(sv[0], "x", &p[1], 1) == -1)
        fail("sendmsg");
    printf("sendmsg(SCM_RIGHTS: the pipe's write end, fd %d) = 1\n", p[1]);
    close(p[1]);
    printf("close(fd %d): the sender's own copy of the write end\n", p[1]);
    look("in flight", p[0]);
    close(sv[1]);
    printf("close(fd %d): the receiving socket, its message never received\n", sv[1]);
    look("after", p[0]);
    return 0;
}

static int unix_socket(const char *path, struct sockaddr_un *a, socklen_t *alen)
{
    size_t len = strlen(path);
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    if (len == 0 || len >= sizeof a->sun_path) {
        fprintf(stderr, "peer: %s: bad socket path\n", path);
        exit(2);
    }
    memcpy(a->sun_path, path, len);
    if (path[0] == '@')
        a->sun_path[0] = '\0';   /* an abstract name: its length ends it */
    *alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (path[0] != '@'));
    int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    if (fd == -1)
        fail("socket");
    return fd;
}

static int send_many(int n, const char *path, const char *name)
{
    int fds[MAX_FDS];
    struct sockaddr_un a;
    socklen_t alen;
    int sock = unix_socket(path, &a, &alen);
    if (connect(sock, (struct sockaddr *)&a, alen) == -1)
        fail("connect");
    for (int i = 0; i < n; i++)
        if ((fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
            fail("open /dev/null");
    if (send_fds(sock, name, fds, n) == -1)
        fail("sendmsg");
    printf("sendmsg(\"%s\" + SCM_RIGHTS, %d descriptors: fd %d to %d) = %zu\n", name, n,
           n > 0 ? fds[0] : -1, n > 0 ? fds[n - 1] : -1, strlen(name));
    char reply[512];
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
    struct iovec iov = { .iov_base = reply, .iov_len = sizeof reply - 1 };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = u.buf, .msg_controllen = sizeof u.buf };
    ssize_t r = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
    if (r == -1)
        fail("recvmsg");
    reply[r] = '\0';
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    int fd = -1;
    if (c != NULL && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
        memcpy(&fd, CMSG_DATA(c), sizeof fd);
    printf("reply: \"%s\"", reply);
    if (fd != -1)
        printf(" + SCM_RIGHTS fd %d", fd);
    printf("\n");
    return 0;
}

static int serve_many(int n, const char *path, const char *file)
{
    int fds[MAX_FDS];
    struct sockaddr_un a;
    socklen_t alen;
    int lfd = unix_socket(path, &a, &alen);
    if (bind(lfd, (struct sockaddr *)&a, alen) == -1 || listen(lfd, 1) == -1)
        fail("bind, listen");
    printf("listening on %s\n", path);
    fflush(stdout);
    int cfd = accept(lfd, NULL, NULL);
    if (cfd == -1)
        fail("accept");
    char req[512];
    if (recv(cfd, req, sizeof req, 0) == -1)
        fail("recv");
    if ((fds[0] = open(file, O_RDONLY | O_CLOEXEC)) == -1)
        fail("open FILE");
    for (int i = 1; i < n; i++)
        if ((fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
            fail("open /dev/null");
    if (send_fds(cfd, "OK", fds, n) == -1)
        fail("sendmsg");
    printf("sendmsg(\"OK\" + SCM_RIGHTS, %d descriptors: %s, then /dev/null) = 2\n", n, file);
    fflush(stdout);
    while (recv(cfd, req, sizeof req, 0) > 0)   /* until the client closes */
        ;
    return 0;
}

int main(int argc, char *argv[])
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 2 && strcmp(argv[1], "peercred") == 0)
        return peercred();
    if (argc == 2 && strcmp(argv[1], "inflight") == 0)
        return inflight();
    if (argc == 5 && strcmp(argv[1], "send-fds") == 0 && atoi(argv[2]) >= 0 && atoi(argv[2]) <= MAX_FDS)
        return send_many(atoi(argv[2]), argv[3], argv[4]);
    if (argc == 5 && strcmp(argv[1], "serve-fds") == 0 && atoi(argv[2]) >= 1 && atoi(argv[2]) <= MAX_FDS)
        return serve_many(atoi(argv[2]), argv[3], argv[4]);
    fprintf(stderr, "usage: peer peercred | inflight | send-fds N PATH NAME | serve-fds N PATH FILE\n");
    return 2;
}
