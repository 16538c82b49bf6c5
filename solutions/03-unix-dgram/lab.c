/* lab.c - narration, error exits and byte shuffling for lab 03 (see lab.h). */
#include "lab.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *prog = "lab03";

void say(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One fprintf, so one write(2) (stderr is unbuffered): when the server
     * and the client share a terminal or a log, their lines interleave
     * whole, never cut into each other. */
    fprintf(stderr, "[%s] %s\n", prog, line);
}

void fail(const char *fmt, ...)
{
    const char *reason = strerror(errno);   /* before stdio can change errno */
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, ": %s\n", reason);
    va_end(ap);
    exit(1);
}

void failx(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

void usage_error(const char *usage, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n%s", usage);
    va_end(ap);
    exit(2);
}

void parse_args(int argc, char *argv[], const char *usage, const char *takes,
                struct sockaddr_un *addr, struct options *opt)
{
    const char *path = DEFAULT_PATH;
    int i = 1;

    opt->mode = -1;
    opt->size = MAX_MSG;
    opt->no_bind = 0;
    for (int j = 1; j < argc; j++) {
        if (strcmp(argv[j], "-h") == 0 || strcmp(argv[j], "--help") == 0) {
            fputs(usage, stdout);
            exit(0);
        }
    }
    for (; i < argc && argv[i][0] == '-'; i++) {
        char o = argv[i][1];
        if (o == '\0' || argv[i][2] != '\0' || strchr(takes, o) == NULL)
            usage_error(usage, "unknown option '%s'", argv[i]);
        if (o == 'n') {
            opt->no_bind = 1;
            continue;
        }
        if (i + 1 >= argc)
            usage_error(usage, "%s needs a %s", argv[i], o == 'm' ? "MODE" : "SIZE");
        const char *arg = argv[++i];
        char *end;
        long v = strtol(arg, &end, o == 'm' ? 8 : 10);
        int bad = arg[0] == '\0' || *end != '\0';
        if (o == 'm' && (bad || v < 0 || v > 0777))
            usage_error(usage, "bad MODE '%s' (octal, 0 to 0777)", arg);
        if (o == 's' && (bad || v < 1 || v > MAX_MSG))
            usage_error(usage, "bad SIZE '%s' (1 to %d bytes)", arg, MAX_MSG);
        if (o == 'm')
            opt->mode = v;
        else
            opt->size = v;
    }
    if (i < argc)
        path = argv[i++];
    if (i < argc)
        usage_error(usage, "too many arguments");

    size_t len = strlen(path);
    if (len == 0)
        usage_error(usage, "the socket path is empty");
    if (len >= sizeof addr->sun_path)
        usage_error(usage, "socket path is %zu bytes; sun_path holds at most %zu",
                    len, sizeof addr->sun_path - 1);
    memset(addr, 0, sizeof *addr);
    addr->sun_family = AF_UNIX;
    memcpy(addr->sun_path, path, len + 1);
}

const char *addr_name(const struct sockaddr_un *a, socklen_t len)
{
    static char name[sizeof a->sun_path + 3];
    size_t n = 0, start = offsetof(struct sockaddr_un, sun_path);

    if (len <= start)
        return "unnamed";
    len -= start;   /* the bytes of sun_path that hold the name */
    int abstract = a->sun_path[0] == '\0';   /* Linux-specific, unix(7) */
    name[n++] = '"';
    if (abstract)
        name[n++] = '@';
    for (size_t i = (size_t)abstract; i < len && i < sizeof a->sun_path; i++) {
        char c = a->sun_path[i];
        if (c == '\0' && !abstract)
            break;              /* a path ends at its NUL */
        name[n++] = (char)((c >= ' ' && c <= '~') ? c : '?');
    }
    name[n++] = '"';
    name[n] = '\0';
    return name;
}

void upcase(char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (buf[i] >= 'a' && buf[i] <= 'z')
            buf[i] = (char)(buf[i] - 'a' + 'A');
}

int write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w == -1 && errno == EINTR)
            continue;
        if (w == -1)
            return -1;
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

int probe_bound(const struct sockaddr_un *addr)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    if (fd == -1)
        fail("socket");
    int err = connect(fd, (const struct sockaddr *)addr, sizeof *addr) == 0 ? 0 : errno;
    (void)close(fd);   /* a probe: nothing was sent */
    return err;
}
