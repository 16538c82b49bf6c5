/* server.c - lab 12: one process, many clients at once, with poll().
 *
 *   ./server [-b ADDR] [-u PATH] [-t SECONDS] [-c MAX] [PORT]
 *
 * the listeners (labs 05 and 01), every socket non-blocking -> a loop:
 * the poll set (step 1) -> poll() until something is ready or a client's
 * time is up (step 2) -> accept() what waits (step 3) -> read and answer
 * lines (step 4, clients.c) -> send what waits (step 5, clients.c) ->
 * close idle clients (step 6); until SIGINT or SIGTERM.
 * See poll(2), accept(2), socket(7), getrlimit(2).
 */
#include "lab.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: server [-b ADDR] [-u PATH] [-t SECONDS] [-c MAX]"
    " [PORT]\n"
    "  Serves upper-case echo, a line for a line, to many clients at once:\n"
    "  TCP on ADDR:PORT and, with -u, a Unix stream socket at PATH.\n"
    "  -b ADDR     numeric address to bind (default " DEFAULT_HOST ")\n"
    "  -u PATH     a Unix socket file at PATH too\n"
    "  -t SECONDS  a client that moves no byte for that long is told BYE idle\n"
    "              and closed (default 30; 0: never)\n"
    "  -c MAX      clients served at once, 1 to 1000 (default 64); one more\n"
    "              is told BUSY and closed\n"
    "  PORT        default " DEFAULT_PORT "; 0 picks any free port\n";

int main(int argc, char *argv[])
{
    prog = "server";
    struct server_args a;
    struct addrinfo hints, *res = NULL;
    char name[ADDR_STRLEN];
    int wake[2], ufd = -1;
    int resting = 0;   /* out of descriptors: the listeners are not polled */
    long long retry = 0;   /* ...until a client leaves, or this time comes */

    open_std_fds();   /* before any socket can take 0, 1 or 2 (lab.c) */
    parse_server_args(argc, argv, usage, &a);
    /* A client that vanishes would kill us with SIGPIPE on our next write;
     * ignored, the write fails with EPIPE instead, and only that client goes. */
    signal(SIGPIPE, SIG_IGN);

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;        /* IPv4 or IPv6: the address decides */
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;   /* numbers: no DNS */
    int gai = getaddrinfo(a.host, a.port, &hints, &res);
    if (gai != 0)
        gai_failed(usage, gai, "ADDR", a.host, "(numeric: 127.0.0.1, 0.0.0.0, ::1)");
    format_addr(res->ai_addr, res->ai_addrlen, name);
    int tfd = listener(res->ai_family, res->ai_addr, res->ai_addrlen, name);
    freeaddrinfo(res);
    local_name(tfd, name);   /* with port 0, the one the kernel chose */
    if (a.upath != NULL)
        ufd = listener(AF_UNIX, (struct sockaddr *)&a.uaddr, sizeof a.uaddr, a.upath);

    /* The table: one slot a client, -c of them; the poll set: the
     * self-pipe, the two listeners, then one entry a client. */
    struct client *table = calloc((size_t)a.max, sizeof *table);
    struct pollfd *p = calloc((size_t)a.max + 3, sizeof *p);
    int *slot = calloc((size_t)a.max + 3, sizeof *slot);
    if (table == NULL || p == NULL || slot == NULL)
        fail("calloc");
    for (int i = 0; i < a.max; i++)
        table[i].fd = -1;
    clients_max = a.max;
    if (pipe(wake) == -1 || set_nonblocking(wake[0]) == -1 || set_nonblocking(wake[1]) == -1)
        fail("pipe");
    catch_signals(wake[1]);   /* SIGINT, SIGTERM: stopping = 1, a byte in the pipe */
    if (ufd != -1)
        printf("listening on %s and %s\n", name, a.upath);   /* the readiness line */
    else
        printf("listening on %s\n", name);
    (void)fflush(stdout);   /* no reader is no reason to stop serving */

    while (!stopping) {
        int nfds = 3;   /* entries in p */
        long long now = now_ms();
        /* Out of descriptors (step 3), the listeners rest until a client
         * leaves, or a second passes (ENFILE: one may be freed elsewhere). */
        if (resting && (freed || now >= retry)) {
            say("%s: the listeners are polled again", freed ? "a client left" : "1 s passed");
            resting = 0;
        }
        freed = 0;
        /* TODO 1: The poll set, anew each turn: p[0] the self-pipe's read
         * end wake[0], p[1] and p[2] the listeners tfd and ufd (-1 while
         * resting: poll() skips a negative fd), all for POLLIN; then one
         * entry for each slot in use, from p[3] on, counted in nfds, and
         * slot[n] the slot of p[n]: its fd, POLLIN unless it is done, and
         * POLLOUT while it has replies queued (out_start before out_end).
         * Never POLLOUT for nothing: poll() would return at once, for ever.
         * Only the slots in use: poll() refuses more entries than the
         * process may have descriptors (EINVAL), and costs one look each. */
        errno = ENOSYS; /* step 1: replace this line */
        /* ms; -1: no limit. Resting: until the retry, at the latest. */
        int timeout = resting ? (int)(retry > now ? retry - now : 0) : -1, ready = -1;
        /* TODO 2: Bound the wait by the first client's deadline, c->last
         * plus a.idle seconds (none with -t 0), over the clients in p, as
         * milliseconds from now (0 if already past) when that is sooner
         * than timeout; then poll(2) the nfds entries of p, the result in
         * ready. */
        errno = ENOSYS; /* step 2: replace this line */
        if (ready == -1 && errno == EINTR)
            continue;   /* a signal: SIGINT and SIGTERM end the loop */
        if (ready == -1 && errno == EINVAL) {
            clients_over_limit(table, nfds);   /* the limit went down: fewer clients */
            continue;
        }
        if (ready == -1)
            fail("poll");
        say("poll(%d fds, %d ms) = %d (%d of %d clients)", nfds, timeout, ready,
            clients_now, clients_max);
        now = now_ms();
        if (p[1].revents)
            resting = accept_clients(tfd, table, NULL);
        if (!resting && p[2].revents)
            resting = accept_clients(ufd, table, a.upath);
        if (resting && (p[1].revents || p[2].revents))   /* out this turn: a second */
            retry = now + 1000;
        for (int n = 3; n < nfds; n++) {
            struct client *c = &table[slot[n]];
            short r = p[n].revents;
            if (c->fd != p[n].fd)   /* closed this turn (a slot is taken again next turn) */
                continue;
            if ((r & (POLLIN | POLLHUP | POLLERR)) && !c->done && client_read(c) == -1)
                continue;
            if ((r & (POLLOUT | POLLHUP | POLLERR)) && c->out_start < c->out_end)
                (void)client_flush(c);
        }
        /* TODO 6: Each client whose deadline (c->last plus a.idle seconds,
         * none with -t 0) has come, by now: narrate "fd N: no byte for S
         * s", and end it with client_bye(c, "BYE idle\n"). */
        errno = ENOSYS; /* step 6: replace this line */
    }
    say("signal: BYE shutdown to %d of %d clients", clients_now, clients_max);
    for (int i = 0; i < a.max; i++)
        if (table[i].fd != -1)
            client_bye(&table[i], "BYE shutdown\n");
    (void)close(tfd);   /* valgrind --track-fds: nothing left open */
    if (ufd != -1)
        (void)close(ufd);
    (void)close(wake[0]);
    (void)close(wake[1]);
    free(table);
    free(p);
    free(slot);
    say("exit 0");
    return 0;   /* exit(): the socket file goes, if still ours (lab.c) */
}
