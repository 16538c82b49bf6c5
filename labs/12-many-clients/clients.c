/* clients.c - lab 12: what the server does for one client, when poll()
 * says that client's socket is ready: read and answer whole lines (step
 * 4), send what waits (step 5), close.
 *
 * TCP is a byte stream: one read() may bring half a line, or ten lines
 * and a half, however the client wrote them. So each client has its own
 * buffer, and a line is answered only when its newline is in. No call
 * here may wait: every socket is non-blocking, and a client that is slow
 * to send or to read is left for poll() to report again, while the
 * others are served. See poll(2), read(2), write(2), tcp(7).
 */
#include "lab.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int clients_now, clients_max, freed;

void client_close(struct client *c)
{
    /* close(2) frees the descriptor even when it reports an error. */
    int rc = close(c->fd);
    clients_now--;
    freed = 1;   /* the listeners may be polled again (server.c, step 3) */
    say("close(fd %d) = %d (%d of %d clients)", c->fd, rc, clients_now, clients_max);
    c->fd = -1;
}

/* Adds n bytes to the client's replies; -1 if out[] has no room. */
static int queue(struct client *c, const char *buf, size_t n)
{
    if (c->out_start > 0) {   /* what was sent makes room at the front */
        memmove(c->out, c->out + c->out_start, c->out_end - c->out_start);
        c->out_end -= c->out_start;
        c->out_start = 0;
    }
    if (n > sizeof c->out - c->out_end)
        return -1;
    memcpy(c->out + c->out_end, buf, n);
    c->out_end += n;
    return 0;
}

void client_bye(struct client *c, const char *line)
{
    /* Behind the replies still queued, if it fits and our FIN has not
     * gone (client_flush); one try, no wait. */
    int room = c->told < 2 && queue(c, line, strlen(line)) == 0;
    if (room && write(c->fd, c->out, c->out_end) == -1)
        say("write(fd %d) = -1: %s", c->fd, strerror(errno));
    say("fd %d: %.*s%s", c->fd, (int)strlen(line) - 1, line, room ? ""
        : c->told == 2 ? " (not sent: our FIN went first)" : " (not sent: no room in its queue)");
    client_close(c);
}

/* A client we cannot serve: told BUSY, then closed. A close() with its
 * input unread would send an RST, which may destroy BUSY before it is
 * read (tcp(7)): so our FIN first, and what it sent already is read and
 * dropped, without waiting. What it sends later still meets an RST: best
 * effort. Returns close()'s result. */
static int turn_away(int fd)
{
    char drop[4096];
    if (write(fd, "BUSY\n", 5) == -1)   /* a new socket's buffer is empty: no wait */
        say("write(fd %d) = -1: %s", fd, strerror(errno));
    int k = shutdown(fd, SHUT_WR) == 0 && set_nonblocking(fd) == 0 ? 0 : 16;
    while (k++ < 16 && read(fd, drop, sizeof drop) > 0) {
        /* dropped: 64 KiB at most, then close() whatever comes */
    }
    return close(fd);
}

int client_read(struct client *c)
{
    ssize_t n = -1;
    if (c->told) {   /* an error was told: what it still sends is dropped (client_flush) */
        char drop[4096];
        n = read(c->fd, drop, sizeof drop);
        if (n > 0 || (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)))
            return 0;   /* not "a byte moved": a client that keeps sending meets -t */
        say("read(fd %d) = %zd%s%s", c->fd, n, n == 0 ? ": end of input" : ": ",
            n == 0 ? "" : strerror(errno));
        client_close(c);
        return -1;
    }
    /* TODO 4: read(2) from c->fd into the free part of c->in (after the
     * c->have bytes there), the result in n. Then, for each whole line in
     * c->in (memchr(3) finds its newline): upper-case it (upcase(), lab.c)
     * and queue() it with its newline; a queue() that fails means the
     * client does not read its replies: narrate "fd N: ... ERR too slow",
     * then client_bye() with "ERR too slow\n" and return -1. Keep the part
     * after the last newline at the front of c->in for the next read. */
    errno = ENOSYS; /* step 4: replace this line */
    if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;   /* nothing after all: poll() will tell us again */
    if (n == -1) {   /* ECONNRESET: the client sent an RST */
        say("read(fd %d) = -1: %s", c->fd, strerror(errno));
        client_close(c);
        return -1;
    }
    if (n == 0) {
        /* End of file: the client sent all it will (its shutdown() or
         * close()). Its replies still go out, then we close (step 5). */
        say("read(fd %d) = 0: end of input%s", c->fd,
            c->have > 0 ? "; a last line without its newline is not answered" : "");
        c->done = 1;
        return client_flush(c);
    }
    say("read(fd %d) = %zd bytes", c->fd, n);
    c->last = now_ms();
    if (c->have == sizeof c->in) {   /* full, and no newline in it */
        say("fd %d: a line of more than %d bytes: ERR line too long", c->fd, MAX_LINE);
        c->told = 1;   /* no more lines from it; the error goes after the replies */
        if (queue(c, "ERR line too long\n", 18) == -1) {
            client_bye(c, "ERR too slow\n");
            return -1;
        }
    }
    return client_flush(c);
}

int client_flush(struct client *c)
{
    size_t want = c->out_end - c->out_start;
    ssize_t w = 0;
    if (want > 0) {
        /* TODO 5: write(2) the queued replies, c->out from c->out_start
         * to c->out_end, to c->fd, the result in w. The kernel may take
         * fewer bytes than asked (a partial write): move c->out_start past
         * what it took, so that the rest goes when poll() says POLLOUT. */
        errno = ENOSYS; /* step 5: replace this line */
        if (w == -1 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            say("write(fd %d) = -1: %s", c->fd, strerror(errno));   /* EPIPE, ECONNRESET */
            client_close(c);
            return -1;
        }
        if (w > 0 && (size_t)w < want)
            say("write(fd %d) = %zd bytes (partial: %zu asked)", c->fd, w, want);
        else if (w > 0)
            say("write(fd %d) = %zd bytes", c->fd, w);
        if (w > 0)
            c->last = now_ms();
    }
    if (c->out_start == c->out_end)
        c->out_start = c->out_end = 0;
    if (c->done && c->out_end == 0) {   /* all said: the end of this client */
        client_close(c);
        return -1;
    }
    if (c->told == 1 && c->out_end == 0) {
        /* All it is owed is sent, the error last. A close() now, with its
         * input unread, would send an RST (tcp(7); RFC 1122 4.2.2.13), and
         * an RST may destroy the error line before the client reads it.
         * So: our FIN first, then its input read and dropped until its own
         * FIN, or -t: a "lingering close", as web servers do. */
        if (shutdown(c->fd, SHUT_WR) == -1) {
            say("shutdown(fd %d, SHUT_WR) = -1: %s", c->fd, strerror(errno));
            client_close(c);
            return -1;
        }
        say("shutdown(fd %d, SHUT_WR) = 0: its input is dropped until it closes", c->fd);
        c->told = 2;
    }
    return 0;
}


/* Step 3: the connections waiting on lfd, 16 at most a turn (a flood of
 * connects must not keep the connected clients waiting), each a client,
 * or told BUSY when all -c slots are in use: a client that waited in the
 * backlog would not know why nothing happens. Returns 1 when descriptors
 * ran out: the listeners then rest (main) until one is free. */
int accept_clients(int lfd, struct client *table, const char *path)
{
    for (int k = 0; k < 16; k++) {
        struct sockaddr_storage peer;
        socklen_t peerlen = sizeof peer;
        int cfd = accept(lfd, (struct sockaddr *)&peer, &peerlen);
        /* TODO 3: accept() failed with EMFILE or ENFILE: no descriptor was
         * left for the new socket (the process's RLIMIT_NOFILE, ulimit -n,
         * or the system's). The connection is still queued, so poll()
         * would report the listener again at once, and accept() fail
         * again, for ever: the spin the lesson shows. Narrate it and
         * return 1: main() leaves the listeners out of poll() until a
         * client leaves (or a second passes). */
        errno = ENOSYS; /* step 3: replace this line */
        if (cfd == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;   /* none left (or the client gave up before we took it) */
        if (cfd == -1 && errno != EINTR && errno != ECONNABORTED && errno != ENOBUFS &&
            errno != ENOMEM && errno != EPROTO && errno != ENETDOWN && errno != ENETUNREACH &&
            errno != EHOSTDOWN && errno != EHOSTUNREACH && errno != ENOPROTOOPT && errno != EOPNOTSUPP)
            fail("accept");
        if (cfd == -1) {   /* one lost connection, not the listener (accept(2)) */
            say("accept() = -1: %s", strerror(errno));
            continue;
        }
        char name[ADDR_STRLEN];
        if (path != NULL)
            snprintf(name, sizeof name, "%s", path);
        else
            format_addr((struct sockaddr *)&peer, peerlen, name);
        if (clients_now == clients_max) {
            say("accept() = fd %d from %s: BUSY (%d of %d clients)", cfd, name, clients_now, clients_max);
            say("close(fd %d) = %d", cfd, turn_away(cfd));
            continue;
        }
        /* Accepted sockets do not inherit O_NONBLOCK on Linux (accept(2)). */
        if (set_nonblocking(cfd) == -1) {
            say("fcntl(fd %d, F_SETFL, O_NONBLOCK) = -1: %s: closed", cfd, strerror(errno));
            (void)close(cfd);
            continue;
        }
        struct client *c = table;
        while (c->fd != -1)   /* a free slot: there is one, clients_now < clients_max */
            c++;
        memset(c, 0, offsetof(struct client, in));   /* in[] and out[] need no zeros */
        c->fd = cfd;
        c->last = now_ms();
        memcpy(c->name, name, sizeof name);
        clients_now++;
        say("accept() = fd %d from %s (%d of %d clients)", cfd, name, clients_now, clients_max);
    }
    return 0;
}

void clients_over_limit(struct client *table, int nfds)
{
    /* poll(2): EINVAL when nfds exceeds RLIMIT_NOFILE: the limit was
     * lowered while we ran (prlimit(1) can do it to any process). */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
        fail("getrlimit");
    say("poll(%d fds) = -1: Invalid argument: RLIMIT_NOFILE is now %llu", nfds,
        (unsigned long long)rl.rlim_cur);
    if (clients_now == 0 || rl.rlim_cur < 4)
        failx("poll: RLIMIT_NOFILE %llu leaves no room for a client", (unsigned long long)rl.rlim_cur);
    for (int i = clients_max - 1; i >= 0 && (rlim_t)clients_now + 3 > rl.rlim_cur; i--)
        if (table[i].fd != -1)
            client_bye(&table[i], "BUSY\n");   /* the last slots first */
}
