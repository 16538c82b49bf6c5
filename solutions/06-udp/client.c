/* client.c - lab 06: a UDP client.
 *
 *   ./client [-c] [-n] [-t MS] [-b ADDR] [-p PORT] HOST PORT < input > output
 *
 * getaddrinfo() -> socket() (-> bind() with -b/-p) (-> connect() with -c)
 * -> each input line one datagram, each datagram from the server one output
 * line -> at the end of input, wait at most MS ms for each reply still
 * missing: UDP may lose any datagram. udp(7), send(2), recv(2), poll(2).
 */
#include "lab.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A socket for the first usable address from *ai on (*ai is left there),
 * bound with -b or -p, connected with -c. One that cannot be used from here
 * (no IPv6, say) is narrated and skipped; when none is left, we exit. */
static int open_socket(struct addrinfo **ai, const struct options *opt)
{
    for (; *ai != NULL; *ai = (*ai)->ai_next) {
        struct addrinfo *a = *ai, *me = NULL;
        int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd == -1) {
            say("socket(%s, SOCK_DGRAM) = -1: %s", family_name(a->ai_family), strerror(errno));
            continue;
        }
        say("socket(%s, SOCK_DGRAM) = fd %d", family_name(a->ai_family), fd);
        /* Without bind(2), the kernel binds the socket at the first send:
         * the address the route gives, a port of ip_local_port_range
         * (ip(7)). With -b or -p we choose: a datagram's source is whatever
         * its sender chose, which is why a server must not trust it. */
        me = local_address(opt, a->ai_family);   /* getaddrinfo(3); NULL: no -b, no -p */
        if (me != NULL && bind(fd, me->ai_addr, me->ai_addrlen) == -1)
            fail("bind %s", addr_name(me->ai_addr, me->ai_addrlen));
        if (me != NULL) {
            say("bind(%s) = 0", addr_name(me->ai_addr, me->ai_addrlen));
            freeaddrinfo(me);
        }
        if (opt->connect) {
            int rc = -1;
            /* TODO 5: Give the socket a peer: connect(2) fd to the server's
             * address, the one a describes, and keep the result in rc. On
             * UDP this sends nothing: it fixes where send() goes, makes the
             * kernel drop datagrams from anyone else, and reports an ICMP
             * "port unreachable" as ECONNREFUSED (udp(7), DESCRIPTION and
             * ERRORS). */
            rc = connect(fd, a->ai_addr, a->ai_addrlen);
            /* END TODO 5 */
            if (rc == -1) {
                say("connect(%s) = -1: %s", addr_name(a->ai_addr, a->ai_addrlen), strerror(errno));
                (void)close(fd);   /* connect() failed: nothing to lose */
                continue;
            }
            say("connect(%s) = 0", addr_name(a->ai_addr, a->ai_addrlen));
        }
        /* Non-blocking, and poll(2) says when to move: we read the
         * replies while we still have lines to send. */
        if (set_nonblocking(fd) == -1)   /* F_GETFL, then F_SETFL: lab.c */
            fail("fcntl");
        return fd;
    }
    failx("no usable address for %s", opt->host);
}
/* EXTRA 1: the echo check: is reply the upper-case echo of line? */

/* A reply is to the line in flight only if it is that line's echo: after a
 * retransmission, the server may answer both copies, and the second answer
 * arrives while the next line is in flight. A real protocol numbers its
 * requests (DNS's ID; UNIX Network Programming 22.5); an echo compares. */
static int is_echo(const char *reply, size_t n, const char *line, size_t len)
{
    if (n != len)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (reply[i] != (line[i] >= 'a' && line[i] <= 'z' ? line[i] - 'a' + 'A' : line[i]))
            return 0;
    return 1;
}
/* END EXTRA 1 */

int main(int argc, char *argv[])
{
    prog = "client";
    struct options opt;
    struct addrinfo *list = NULL, *ai = NULL;
    static struct input in;   /* standard input: in.buf[in.start..in.have) is not sent yet */
    static char reply[BUF_SIZE + 1];
    size_t len = 0;           /* when ready, the next datagram: len bytes at in.buf + in.start */
    char why[200] = "";       /* set when this address gives no reply */
    long sent = 0, received = 0;
    int ready = 0, answered = 0, fd = -1;

    open_std_fds();   /* before any socket can take 0, 1 or 2 (lab.c) */
    parse_args(argc, argv, client_usage, "bcnpt", &opt);
    signal(SIGPIPE, SIG_IGN);
    /* EXTRA 1: the retransmissions' state */
    long tries = 0, first_timeout = opt.timeout;   /* this line's resends so far; -t */
    size_t line_at = 0;   /* where the line in flight starts in in.buf: kept while we hold */
    /* END EXTRA 1 */
    /* A name may have several addresses (localhost: ::1 and 127.0.0.1, on
     * many machines); getaddrinfo(3) lists them in the order to try. With
     * -b, only those of ADDR's family: we cannot send from ADDR to others. */
    struct addrinfo hints = { .ai_family = opt.family, .ai_socktype = SOCK_DGRAM,
                              .ai_flags = AI_NUMERICSERV };
    int gai = getaddrinfo(opt.host, opt.port, &hints, &list);
    if (gai != 0)
        failx("getaddrinfo %s%s%s: %s", opt.host, opt.local != NULL ? " for -b " : "",
              opt.local != NULL ? opt.local : "", gai_strerror(gai));
    ai = list;
    fd = open_socket(&ai, &opt);

    /* Only a reply proves that a server is there. Until the first one, we
     * send one line and wait (holding); no reply in time, or ECONNREFUSED
     * when connected, and the next address gets the same line. */
    for (;;) {
        int holding = !answered && !opt.no_reply && sent > 0;
        int waiting = !opt.no_reply && received < sent;
        /* EXTRA 1: with -r, one line at a time: it may have to go again */
        holding |= opt.retries > 0 && waiting;
        /* END EXTRA 1 */
        if (!ready && !holding) {
            ready = next_line(&in, &len, sent + 1);   /* a whole line in? (lab.c) */
            if (!ready && in.done && !waiting)
                break;   /* every line sent, every reply in (or none expected) */
        }
        struct pollfd p[2] = {
            { .fd = (in.done || ready || holding) ? -1 : 0, .events = POLLIN },
            { .fd = fd, .events = POLLIN | (ready ? POLLOUT : 0) },
        };
        int r = poll(p, 2, waiting ? (int)opt.timeout : -1);
        if (r == -1 && errno != EINTR)
            fail("poll");
        if (r == 0) {   /* UDP says nothing about a lost datagram: time does */
            say("poll() = 0: no reply in %ld ms", opt.timeout);
            snprintf(why, sizeof why, "%ld of %ld replies missing after %ld ms: lost, or no server at %s",
                     sent - received, sent, opt.timeout, addr_name(ai->ai_addr, ai->ai_addrlen));
        }
        /* EXTRA 1: a lost line goes again (-r RETRIES), each wait twice the last */
        if (r == 0 && !ready && tries < opt.retries) {
            /* Back off: a congested path gets room (RFC 8085, 3.1.3); at
             * most an hour, -t's own limit, which poll()'s int holds. */
            opt.timeout = opt.timeout > 1800000 ? 3600000 : 2 * opt.timeout;
            say("retry %ld of %ld: line %ld again, then wait %ld ms", ++tries, opt.retries, sent,
                opt.timeout);
            why[0] = '\0';
            in.start = line_at;   /* the same bytes: we held, so nothing moved them */
            sent--;
            ready = 1;
        } else if (r == 0) {   /* this address gave up: the next one starts afresh */
            tries = 0;
            opt.timeout = first_timeout;
        }
        /* END EXTRA 1 */
        if (r > 0 && p[0].revents)
            read_input(&in);   /* read(2), not stdio: poll() cannot see stdio's buffer */
        if (ready) {   /* one line, one datagram: all or nothing */
            ssize_t w = -1;
            /* TODO 6: Send the line as one datagram, without its newline:
             * its len bytes, which start at in.start in in.buf. A connected
             * socket (opt.connect) knows its peer (send(2)); an unconnected
             * one must be told, each time, the server's address that ai
             * describes (sendto(2)). Keep the result in w. */
            if (opt.connect)
                w = send(fd, in.buf + in.start, len, 0);
            else
                w = sendto(fd, in.buf + in.start, len, 0, ai->ai_addr, ai->ai_addrlen);
            /* END TODO 6 */
            if (w == -1 && errno != EAGAIN && errno != EINTR)   /* EMSGSIZE: too long */
                fail("%s line %ld (%zu bytes)", opt.connect ? "send" : "sendto", sent + 1, len);
            if (w >= 0) {   /* else EAGAIN: our send buffer is full; POLLOUT says when */
                say("%s(%s) = %zd bytes", opt.connect ? "send" : "sendto",
                    opt.connect ? "" : addr_name(ai->ai_addr, ai->ai_addrlen), w);
                if (sent++ == 0) {   /* bound now, by bind() or by this first send */
                    struct sockaddr_storage me;
                    socklen_t melen = sizeof me;
                    if (getsockname(fd, (struct sockaddr *)&me, &melen) == -1)
                        fail("getsockname");
                    say("getsockname() = %s", addr_name((struct sockaddr *)&me, melen));
                }
                /* EXTRA 1: where the line in flight starts, to send it again */
                line_at = in.start;
                /* END EXTRA 1 */
                line_sent(&in, len);
                ready = 0;
            }
        }
        if (r > 0 && (p[1].revents & (POLLIN | POLLERR | POLLNVAL))) {
            /* One recvfrom, one datagram; after POLLERR, the ICMP error; after
             * POLLNVAL (fd is not open), EBADF: we exit, rather than spin.
             * 0 bytes is an empty datagram, not an end: a datagram has no end. */
            struct sockaddr_storage from;
            socklen_t fromlen = sizeof from;
            ssize_t n = recvfrom(fd, reply, BUF_SIZE, 0, (struct sockaddr *)&from, &fromlen);
            if (n == -1 && errno == ECONNREFUSED) {   /* the ICMP error: connected only */
                say("recvfrom() = -1: %s", strerror(errno));
                snprintf(why, sizeof why, "recvfrom %s: %s",
                         addr_name(ai->ai_addr, ai->ai_addrlen), strerror(ECONNREFUSED));
            } else if (n == -1 && errno != EAGAIN && errno != EINTR) {
                fail("recvfrom");
            } else if (n >= 0 && !same_addr((struct sockaddr *)&from, ai->ai_addr)) {
                /* Anybody who learns our port can send to it, and an
                 * unconnected socket takes it all: a reply is a datagram
                 * from the address and port we sent to (UNP 8.8). Connected,
                 * the kernel drops the others itself (udp(7)). */
                say("recvfrom() = %zd bytes from %s: not the server, ignored", n,
                    addr_name((struct sockaddr *)&from, fromlen));
            /* EXTRA 1: with -r, only the echo of the line in flight is its reply */
            } else if (n >= 0 && opt.retries > 0
                       && (received >= sent || !is_echo(reply, (size_t)n, in.buf + line_at, len))) {
                say("recvfrom() = %zd bytes from %s: not the echo of line %ld (a late duplicate?),"
                    " ignored", n, addr_name((struct sockaddr *)&from, fromlen), sent);
            /* END EXTRA 1 */
            } else if (n >= 0) {
                say("recvfrom() = %zd bytes from %s", n, addr_name((struct sockaddr *)&from, fromlen));
                received++;
                answered = 1;
                /* EXTRA 1: answered: the next line starts with -t again */
                tries = 0;
                opt.timeout = first_timeout;
                /* END EXTRA 1 */
                reply[n] = '\n';
                if (write_all(1, reply, (size_t)n + 1) == -1)
                    fail("write stdout");
            }
        }
        if (why[0] != '\0') {   /* no reply from this address */
            if (answered || opt.no_reply || ai->ai_next == NULL)
                failx("%s", why);
            if (close(fd) == -1)
                fail("close fd %d", fd);
            say("close(fd %d) = 0: no answer, trying the next address", fd);
            ai = ai->ai_next;
            fd = open_socket(&ai, &opt);
            why[0] = '\0';
            sent = 0;
            in.start = 0;   /* the same first line, again: in.buf[0..len), kept while we held */
            ready = 1;
        }
    }
    freeaddrinfo(list);
    (void)close(fd);   /* all replies are in: nothing to lose */
    return 0;
}
