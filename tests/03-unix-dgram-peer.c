/* tests/03-unix-dgram-peer.c - a Unix datagram sender that lab 03's client
 * will not be, for tests/03-unix-dgram.bats (which builds it with cc): it
 * binds a path of its choosing, and never reads a reply.
 *
 *   peer [-b PATH] [-c COUNT] SERVER
 *
 * Binds PATH (default: autobind, an abstract name), connects to SERVER and
 * prints "bound" on standard output. Then, for each line of standard
 * input, sends COUNT datagrams (default 1) holding that line, each one
 * waiting for room in the server's queue, and prints "sent N" (N in all).
 * At the end of input it exits 0, its replies unread. A failure: one line
 * "peer: call: reason", exit 1.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void fail(const char *call)
{
    fprintf(stderr, "peer: %s: %s\n", call, strerror(errno));
    exit(1);
}

/* A path fills sun_path up to all its 108 bytes, NUL or no NUL (Linux). */
static void address(struct sockaddr_un *a, const char *path)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    if (strlen(path) > sizeof a->sun_path) {
        fprintf(stderr, "peer: %s: path too long\n", path);
        exit(2);
    }
    memcpy(a->sun_path, path, strlen(path));
}

int main(int argc, char *argv[])
{
    struct sockaddr_un me, server;
    const char *path = NULL;
    long count = 1, sent = 0;
    char line[4096];
    int opt;

    while ((opt = getopt(argc, argv, "b:c:")) != -1) {
        if (opt == 'b')
            path = optarg;
        else if (opt == 'c')
            count = atol(optarg);
        else
            return 2;
    }
    if (optind != argc - 1) {
        fprintf(stderr, "usage: peer [-b PATH] [-c COUNT] SERVER\n");
        return 2;
    }
    address(&server, argv[optind]);
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    if (fd == -1)
        fail("socket");
    memset(&me, 0, sizeof me);
    me.sun_family = AF_UNIX;
    if (path != NULL)
        address(&me, path);
    if (bind(fd, (struct sockaddr *)&me, path != NULL ? sizeof me : sizeof(sa_family_t)) == -1)
        fail("bind");
    if (connect(fd, (struct sockaddr *)&server, sizeof server) == -1)
        fail("connect");
    printf("bound\n");
    fflush(stdout);
    while (fgets(line, sizeof line, stdin) != NULL) {
        size_t len = strcspn(line, "\n");
        for (long i = 0; i < count; i++) {
            if (send(fd, line, len, 0) == -1)   /* blocks while the queue is full */
                fail("send");
            sent++;
        }
        printf("sent %ld\n", sent);
        fflush(stdout);
    }
    return 0;
}
