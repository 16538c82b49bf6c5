/* server.c - lab 02: a connected pair of sockets, shared with a child.
 *
 *   ./server [OPTIONS] < input > output      run it from its own directory
 *
 * socketpair() -> fork() -> the child keeps one end across exec and becomes
 * ./client FD -> the parent closes that end -> upper-case echo on the other
 * end until EOF -> waitpid(). See socketpair(2), unix(7), fork(2),
 * execve(2), fcntl(2), waitpid(2).
 */
#include "lab.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
/* EXTRA 2: -w, the child watched through a pidfd */
#include <poll.h>
#include <sys/pidfd.h>   /* pidfd_open(2): Linux 5.3, glibc 2.36 */
/* END EXTRA 2 */

static const char usage[] =
    "usage: server [OPTIONS] < input > output\n"
    "  Makes a connected pair of Unix stream sockets, runs ./client on one\n"
    "  end (run it from client's directory) and serves upper-case echo on\n"
    "  the other. The client sends stdin and writes the replies to stdout.\n"
    "  -k    keep the child's end open here too: the bug (no EOF if the\n"
    "        client dies)\n"
/* EXTRA 1: -f N, the client's end as descriptor N */
    "  -f N  give the client its end as descriptor N (3 or more), dup2(2)\n"
/* END EXTRA 1 */
/* EXTRA 2: -w, the child watched through a pidfd */
    "  -w    watch the child (a pidfd): its exit ends the session, even with -k\n"
/* END EXTRA 2 */
    ;

/* EXTRA 2: -w asked for; the child's pidfd, which serve() polls beside its end */
static int watch, child_fd = -1;
/* END EXTRA 2 */

/* SIGINT/SIGTERM: exit 0, as every server of the course does. Our end of
 * the pair closes with us, so the client sees EOF and ends too. Only
 * async-signal-safe calls here (signal-safety(7)): write() and _exit(). */
static void on_signal(int sig)
{
    static const char goodbye[] = "[server] signal: exit 0\n";
    (void)sig;
    if (write(2, goodbye, sizeof goodbye - 1) == -1)
        _exit(1);
    _exit(0);
}

/* Echo on our end until the other end is gone. A failure ends the session. */
static void serve(int fd)
{
    char buf[BUF_SIZE];
    for (;;) {
        /* EXTRA 2: -w: wait for data or for the child's exit, whichever comes */
        struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = child_fd, .events = POLLIN } };
        if (child_fd != -1 && poll(p, 2, -1) == -1) {
            if (errno == EINTR)
                continue;
            say("poll() = -1: %s", strerror(errno));
            return;
        }
        if (child_fd != -1 && p[0].revents == 0) {   /* the pidfd alone */
            say("poll() = 1: pidfd %d: the child has exited, yet its end is open: no EOF will come",
                child_fd);
            return;
        }
        /* END EXTRA 2 */
        ssize_t n = read(fd, buf, sizeof buf);
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
        if (write_all(fd, buf, (size_t)n) == -1) {
            say("write() = -1: %s", strerror(errno));
            return;
        }
        say("write() = %zd bytes", n);
    }
}

int main(int argc, char *argv[])
{
    prog = "server";
    int sv[2] = { -1, -1 };   /* sv[0]: the server's end; sv[1]: the child's */
    int keep = 0, rc = -1, closed = -1, status = 0;
    pid_t pid = -1, waited = -1;
    char fdarg[16];           /* sv[1] as text: the client's argument */
    /* EXTRA 1: -f N: the descriptor the client gets (-1: sv[1], as it is) */
    int target = -1;
    /* END EXTRA 1 */

    open_std_fds();   /* before any socket can take 0, 1 or 2 (lab.c) */
    parse_help(argc, argv, usage);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-k") == 0)
            keep = 1;
        /* EXTRA 1: -f N; 0, 1 and 2 are the client's standard streams */
        else if (strcmp(argv[i], "-f") == 0) {
            if (i + 1 == argc || (target = fd_number(argv[++i])) < 3)
                usage_error(usage, "-f needs N, a descriptor number of 3 or more");
        }
        /* END EXTRA 1 */
        /* EXTRA 2: -w */
        else if (strcmp(argv[i], "-w") == 0)
            watch = 1;
        /* END EXTRA 2 */
        else if (argv[i][0] == '-')
            usage_error(usage, "unknown option '%s'", argv[i]);
        else
            usage_error(usage, "unexpected argument '%s' (the pair needs no path)", argv[i]);
    }
    signal(SIGPIPE, SIG_IGN);   /* a vanished client gives EPIPE, not death */
    /* sigaction(2), not signal(): under -D_POSIX_C_SOURCE, glibc's signal()
     * resets the handler on entry, so a second signal would kill us. */
    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    /* SOCK_CLOEXEC (Linux-specific, also in the BSDs) sets FD_CLOEXEC on
     * both ends at birth: exec closes them, so no end leaks into a program
     * that was not meant to have it. The child opts one end back in. */
    /* TODO 1: Make a connected pair of Unix stream sockets, both ends
     * close-on-exec from birth, with socketpair(2) ("DESCRIPTION"; the
     * type flags are in socket(2)). Its two descriptors land in sv; its
     * result, 0 or -1, goes in rc. */
    rc = socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
    /* END TODO 1 */
    if (rc == -1)
        fail("socketpair");
    say("socketpair(%s) = fds %d, %d", socket_kind(sv[0]), sv[0], sv[1]);   /* read back */
    snprintf(fdarg, sizeof fdarg, "%d", sv[1]);

    /* TODO 2: Start the child with fork(2), keeping what it returns in
     * pid ("RETURN VALUE"). The code after the gap takes the branches:
     * parent, child, failure. */
    pid = fork();
    /* END TODO 2 */
    if (pid == -1)
        fail("fork");
    if (pid == 0) {
        int cleared = -1;   /* fcntl()'s result */
        prog = "child";
        say("fork() = 0: this is the child, pid %ld, parent %ld", (long)getpid(), (long)getppid());
        /* TODO 3: Let the child's end, sv[1], survive exec: clear that
         * descriptor's close-on-exec flag with fcntl(2) ("File descriptor
         * flags"), keeping the result in cleared. sv[0] keeps its flag:
         * exec closes it. */
        cleared = fcntl(sv[1], F_SETFD, 0);
        /* END TODO 3 */
        if (cleared == -1)
            fail("fcntl fd %d F_SETFD", sv[1]);
        say("fcntl() = %d: fd %d %s, fd %d %s", cleared, sv[1], at_exec(sv[1]), sv[0], at_exec(sv[0]));
        /* EXTRA 1: -f N: the end moves to N (dup2(2)), as systemd passes sockets
         * from 3 (sd_listen_fds(3)). dup2() clears FD_CLOEXEC on N; when N is
         * sv[1] already, it does nothing, and closing sv[1] would lose the end. */
        if (target != -1 && target != sv[1]) {
            if (dup2(sv[1], target) == -1)
                fail("dup2 fd %d to fd %d", sv[1], target);
            if (close(sv[1]) == -1)
                fail("close fd %d", sv[1]);
            say("dup2(fd %d, fd %d) = %d, close(fd %d) = 0: fd %d %s", sv[1], target, target,
                sv[1], target, at_exec(target));
            snprintf(fdarg, sizeof fdarg, "%d", target);
        }
        /* END EXTRA 1 */
        say("execl(\"./client\", \"./client\", \"%s\")", fdarg);
        /* TODO 4: Become the client: replace this program with ./client
         * through execl(3), whose list of arguments is the new program's
         * argv: its name, then fdarg (sv[1]'s number as text), then the
         * end of the list. exec returns only when it failed. */
        execl("./client", "./client", fdarg, (char *)NULL);
        /* END TODO 4 */
        fail("execl ./client");   /* exec returns only when it failed */
    }
    say("fork() = %ld: the child", (long)pid);
    /* EXTRA 2: -w: a pidfd (pidfd_open(2), Linux 5.3) becomes readable when
     * the child exits. Opened after fork(), it is ours alone (close-on-exec
     * too), and no race: an unreaped child keeps its pid. */
    if (watch) {
        child_fd = pidfd_open(pid, 0);
        if (child_fd == -1)
            fail("pidfd_open %ld", (long)pid);
        say("pidfd_open(%ld) = fd %d", (long)pid, child_fd);
    }
    /* END EXTRA 2 */

    if (keep) {
        say("-k: fd %d, the child's end, stays open here too (the bug)", sv[1]);
    } else {
        /* TODO 5: Close the child's end, sv[1], in the parent (close(2)),
         * keeping the result in closed. The server reads EOF only once
         * every descriptor for that end is closed: left open here, it
         * would hold EOF back forever if the client died. */
        closed = close(sv[1]);
        /* END TODO 5 */
        if (closed == -1)   /* not fatal: Linux frees the fd anyway, close(2) */
            say("close(fd %d) = -1: %s", sv[1], strerror(errno));
        else
            say("close(fd %d) = 0  (the child's end)", sv[1]);
    }

    serve(sv[0]);
    if (close(sv[0]) == -1)
        say("close(fd %d) = -1: %s", sv[0], strerror(errno));
    else
        say("close(fd %d) = 0", sv[0]);
    if (keep) {
        if (close(sv[1]) == -1)
            say("close(fd %d) = -1: %s", sv[1], strerror(errno));
        else
            say("close(fd %d) = 0  (the child's end, kept by -k)", sv[1]);
    }
    /* EXTRA 2: the pidfd, done with */
    if (child_fd != -1 && close(child_fd) == -1)
        say("close(fd %d) = -1: %s", child_fd, strerror(errno));
    /* END EXTRA 2 */

    /* Collect the child's exit status (waitpid(2)): it becomes ours. */
    do
        waited = waitpid(pid, &status, 0);
    while (waited == -1 && errno == EINTR);
    if (waited == -1)
        fail("waitpid %ld", (long)pid);
    if (WIFSIGNALED(status)) {
        say("waitpid(%ld) = %ld: killed by signal %d (%s)", (long)pid, (long)waited,
            WTERMSIG(status), strsignal(WTERMSIG(status)));
        failx("the client was killed by signal %d", WTERMSIG(status));
    }
    say("waitpid(%ld) = %ld: exited with status %d", (long)pid, (long)waited,
        WEXITSTATUS(status));
    if (WEXITSTATUS(status) != 0)
        failx("the client exited with status %d", WEXITSTATUS(status));
    return 0;
}
