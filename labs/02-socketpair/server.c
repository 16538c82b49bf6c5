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

static const char usage[] =
    "usage: server [OPTIONS] < input > output\n"
    "  Makes a connected pair of Unix stream sockets, runs ./client on one\n"
    "  end (run it from client's directory) and serves upper-case echo on\n"
    "  the other. The client sends stdin and writes the replies to stdout.\n"
    "  -k    keep the child's end open here too: the bug (no EOF if the\n"
    "        client dies)\n"
    ;


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

    open_std_fds();   /* before any socket can take 0, 1 or 2 (lab.c) */
    parse_help(argc, argv, usage);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-k") == 0)
            keep = 1;
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
    errno = ENOSYS; /* step 1: replace this line */
    if (rc == -1)
        fail("socketpair");
    say("socketpair(%s) = fds %d, %d", socket_kind(sv[0]), sv[0], sv[1]);   /* read back */
    snprintf(fdarg, sizeof fdarg, "%d", sv[1]);

    /* TODO 2: Start the child with fork(2), keeping what it returns in
     * pid ("RETURN VALUE"). The code after the gap takes the branches:
     * parent, child, failure. */
    errno = ENOSYS; /* step 2: replace this line */
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
        errno = ENOSYS; /* step 3: replace this line */
        if (cleared == -1)
            fail("fcntl fd %d F_SETFD", sv[1]);
        say("fcntl() = %d: fd %d %s, fd %d %s", cleared, sv[1], at_exec(sv[1]), sv[0], at_exec(sv[0]));
        say("execl(\"./client\", \"./client\", \"%s\")", fdarg);
        /* TODO 4: Become the client: replace this program with ./client
         * through execl(3), whose list of arguments is the new program's
         * argv: its name, then fdarg (sv[1]'s number as text), then the
         * end of the list. exec returns only when it failed. */
        errno = ENOSYS; /* step 4: replace this line */
        fail("execl ./client");   /* exec returns only when it failed */
    }
    say("fork() = %ld: the child", (long)pid);

    if (keep) {
        say("-k: fd %d, the child's end, stays open here too (the bug)", sv[1]);
    } else {
        /* TODO 5: Close the child's end, sv[1], in the parent (close(2)),
         * keeping the result in closed. The server reads EOF only once
         * every descriptor for that end is closed: left open here, it
         * would hold EOF back forever if the client died. */
        errno = ENOSYS; /* step 5: replace this line */
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
