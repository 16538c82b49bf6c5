/* client.c - lab 06: a UDP client.
 *
 *   ./client [-c] [-n] [-t MS] HOST PORT < input > output
 *
 * getaddrinfo() -> socket() (-> connect() with -c) -> each input line is one
 * datagram sent, each datagram received is one output line -> at the end of
 * input, wait for the replies still missing. UDP may lose any datagram, so
 * the client waits at most MS ms for the next reply, then reports what is
 * missing. See udp(7), getaddrinfo(3), send(2), recv(2), poll(2).
 */
#include "lab.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char usage[] =
    "usage: client [-c] [-n] [-t MS] HOST PORT < input > output\n"
    "  Sends each line of standard input, without its newline, as one UDP\n"
    "  datagram to the upper-case echo server at HOST PORT, and writes each\n"
    "  reply to standard output as one line. A line holds at most 65507\n"
    "  bytes over IPv4, 65527 over IPv6: the kernel refuses more. When\n"
    "  HOST has several addresses, each is tried until one answers.\n"
    "  -c     connect() the socket: send() needs no address, only the\n"
    "         server's datagrams get in, and an ICMP port unreachable comes\n"
    "         back as ECONNREFUSED\n"
    "  -n     no replies expected: send every line, then exit without\n"
    "         waiting (replies that come meanwhile are still printed)\n"
    "  -t MS  reply timeout, in ms (default 1000): when replies are missing\n"
    "         and none comes for MS ms, report them lost and exit 1\n";

/* A socket for the first usable address from *ai on, connected with -c;
 * *ai is left pointing at that address. One that cannot be used from here
 * (no IPv6, say) is narrated and skipped; when none is left, we exit. */
static int open_socket(struct addrinfo **ai, int connect_it, const char *host)
{
    for (; *ai != NULL; *ai = (*ai)->ai_next) {
        struct addrinfo *a = *ai;
        int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd == -1) {
            say("socket(%s, SOCK_DGRAM) = -1: %s", family_name(a->ai_family), strerror(errno));
            continue;
        }
        say("socket(%s, SOCK_DGRAM) = fd %d", family_name(a->ai_family), fd);
        if (connect_it) {
            int rc = -1;
            /* TODO 5: connect(2) fd to the server's address a->ai_addr
             * (a->ai_addrlen bytes); keep the result in rc. On a UDP socket
             * connect() sends nothing: it fixes the destination of send(),
             * the kernel then drops datagrams from anyone else, and reports
             * an ICMP "port unreachable" as ECONNREFUSED (udp(7)). */
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
        if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1)
            fail("fcntl");
        return fd;
    }
    failx("no usable address for %s", host);
}

int main(int argc, char *argv[])
{
    prog = "client";
    struct options opt;
    struct addrinfo *list = NULL, *ai = NULL, hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICSERV,
    };
    /* Input is read with read(2), not getline(3): lines that stdio holds in
     * its buffer would be invisible to poll(2). in[start..have) is input
     * not yet sent; when ready, its first len bytes are the next datagram. */
    static char in[BUF_SIZE + 1], reply[BUF_SIZE + 1];
    size_t start = 0, have = 0, len = 0;
    char why[200] = "";             /* set when this address gives no reply */
    long sent = 0, received = 0;
    int stdin_done = 0, ready = 0, answered = 0, fd = -1;

    parse_args(argc, argv, usage, "cnt", &opt);
    signal(SIGPIPE, SIG_IGN);
    /* A name may have several addresses (localhost: ::1 and 127.0.0.1, on
     * many machines); getaddrinfo(3) lists them in the order to try. */
    int gai = getaddrinfo(opt.host, opt.port, &hints, &list);
    if (gai != 0)
        failx("getaddrinfo %s: %s", opt.host, gai_strerror(gai));
    ai = list;
    fd = open_socket(&ai, opt.connect, opt.host);

    /* Only a reply proves that a server is there. Until the first one, we
     * send one line and wait (holding); no reply in time, or ECONNREFUSED
     * when connected, and the next address gets the same line. */
    for (;;) {
        int holding = !answered && !opt.no_reply && sent > 0;
        int waiting = !opt.no_reply && received < sent;
        if (!ready && !holding) {   /* cut the next line out of the input */
            char *nl = memchr(in + start, '\n', have - start);
            size_t line = nl != NULL ? (size_t)(nl - (in + start)) : have - start;
            if (line > BUF_SIZE)
                failx("line %ld is longer than %d bytes", sent + 1, BUF_SIZE);
            if (nl != NULL || (stdin_done && line > 0)) {
                len = line;
                ready = 1;
            } else if (stdin_done && !waiting) {
                break;   /* every line sent, every reply in (or none expected) */
            }
        }
        struct pollfd p[2] = {
            { .fd = (stdin_done || ready || holding) ? -1 : 0, .events = POLLIN },
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
        if (r > 0 && p[0].revents) {   /* more input: first move the unsent part to the front */
            memmove(in, in + start, have - start);
            have -= start;
            start = 0;
            ssize_t n = read(0, in + have, sizeof in - have);
            if (n == -1 && errno != EINTR)
                fail("read stdin");
            if (n == 0)
                stdin_done = 1;
            if (n > 0)
                have += (size_t)n;
        }
        if (ready) {   /* one line, one datagram: all or nothing */
            ssize_t w = -1;
            /* TODO 6: Send the line as one datagram: the len bytes at
             * in + start. Connected (opt.connect), with send(2); otherwise with
             * sendto(2) to the server's address ai->ai_addr (ai->ai_addrlen
             * bytes). Keep the result in w. */
            if (opt.connect)
                w = send(fd, in + start, len, 0);
            else
                w = sendto(fd, in + start, len, 0, ai->ai_addr, ai->ai_addrlen);
            /* END TODO 6 */
            if (w == -1 && errno != EAGAIN && errno != EINTR)   /* EMSGSIZE: too long */
                fail("%s line %ld (%zu bytes)", opt.connect ? "send" : "sendto", sent + 1, len);
            if (w >= 0) {   /* else EAGAIN: our send buffer is full; POLLOUT says when */
                say("%s(%s) = %zd bytes", opt.connect ? "send" : "sendto",
                    opt.connect ? "" : addr_name(ai->ai_addr, ai->ai_addrlen), w);
                sent++;
                start += len;
                if (start < have)
                    start++;   /* the newline */
                ready = 0;
            }
        }
        if (r > 0 && (p[1].revents & (POLLIN | POLLERR))) {
            /* One recvfrom, one datagram. 0 bytes is an empty datagram, not
             * an end: a datagram socket has no end of stream. */
            struct sockaddr_storage from;
            socklen_t fromlen = sizeof from;
            ssize_t n = recvfrom(fd, reply, BUF_SIZE, 0, (struct sockaddr *)&from, &fromlen);
            if (n == -1 && errno == ECONNREFUSED) {   /* the ICMP error: connected only */
                say("recvfrom() = -1: %s", strerror(errno));
                snprintf(why, sizeof why, "recvfrom %s: %s",
                         addr_name(ai->ai_addr, ai->ai_addrlen), strerror(ECONNREFUSED));
            } else if (n == -1 && errno != EAGAIN && errno != EINTR) {
                fail("recvfrom");
            } else if (n >= 0) {
                say("recvfrom() = %zd bytes from %s", n,
                    addr_name((struct sockaddr *)&from, fromlen));
                received++;
                answered = 1;
                reply[n] = '\n';
                if (write_all(1, reply, (size_t)n + 1) == -1)
                    fail("write stdout");
            }
        }
        if (why[0] != '\0') {   /* no reply from this address */
            if (answered || opt.no_reply || ai->ai_next == NULL)
                failx("%s", why);
            if (close(fd) == -1)
                say("close(fd %d) = -1: %s: trying the next address", fd, strerror(errno));
            else
                say("close(fd %d) = 0: no answer, trying the next address", fd);
            ai = ai->ai_next;
            fd = open_socket(&ai, opt.connect, opt.host);
            why[0] = '\0';
            sent = 0;
            start = 0;   /* the same first line, again: in[0..len), kept while we held */
            ready = 1;
        }
    }
    freeaddrinfo(list);
    (void)close(fd);   /* all replies are in: nothing to lose */
    return 0;
}
