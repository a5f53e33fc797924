/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ks-testd: the test service of the integration suite and of the notifyd benchmark.
 *
 * A small single-process HTTP/1.1 server (epoll, non-blocking, keep-alive) on one or many loopback
 * ports, whose /health answer is switched at run time, so that scenarios drive a real service's
 * health instead of sleeping:
 *
 *   ks-testd --port 8080 --control /run/kstest/web.cmd
 *   ks-testd --port 20000-24999            (one process serving 5000 ports, for benchmarks)
 *
 * Options:
 *   -p, --port PORT[-LAST]   listen on PORT (0: any free port), or on every port of the range;
 *                            may be given more than once
 *   -a, --address ADDR       IPv4 address to listen on (default 127.0.0.1)
 *   -c, --control FILE       command file (language in testd-command.h), read at start, re-read
 *                            when it changes (inotify, and a stat before each /health answer),
 *                            and on SIGHUP
 *   -P, --port-file FILE     write the first bound port there once listening (for --port 0)
 *   -n, --notify             send READY=1 and STATUS= to $NOTIFY_SOCKET once listening
 *   -v, --verbose            log every request to stderr
 *
 * Endpoints: /health (switchable), /ping (always 200 "pong"), /count (number of /health
 * requests received on that port), /pid (the process ID); anything else 404. GET and HEAD.
 *
 *   ks-testd --dump FILE [ARG...]
 *                            writes its whole argv to FILE and its environment to FILE.env, each
 *                            entry NUL-terminated, and exits 0: the integration suite compares
 *                            them with what a definition asked for (escaping round trip)
 *
 * Signals: SIGUSR1 switches every port's /health to 500, SIGUSR2 back to 200, SIGHUP re-reads
 * the command file, SIGTERM/SIGINT exit 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"
#include "testd-command.h"

#define IN_BUF_MAX 16384
#define MAX_PORTS 65536

typedef enum SourceType { SOURCE_LISTENER, SOURCE_CONN, SOURCE_SIGNAL, SOURCE_INOTIFY } SourceType;

/* Every epoll registration points at one of these as its first member. */
typedef struct Source {
        SourceType type;
        int fd;
} Source;

typedef struct Listener {
        Source src;
        unsigned port;
        uint64_t n_health;
        uint64_t sequence_pos;          /* /health requests since the command file was written */
} Listener;

typedef enum ConnState {
        CONN_READING,           /* waiting for (more of) a request */
        CONN_WAITING,           /* a slow answer is due at .deadline */
        CONN_HANGING,           /* never answered; dropped when the client closes */
        CONN_CLOSING,           /* close once the output is flushed */
} ConnState;

typedef struct Conn {
        Source src;
        Listener *listener;
        ConnState state;
        char in[IN_BUF_MAX];
        size_t in_len;
        size_t body_left;       /* request body bytes still to discard */
        char *out;
        size_t out_len, out_off;
        bool keep_alive;
        uint64_t deadline;      /* CLOCK_MONOTONIC ms, in CONN_WAITING */
        int slow_status;
        struct Conn *wprev, *wnext;     /* list of CONN_WAITING connections */
} Conn;

static struct {
        int epfd;
        Listener **listeners;
        size_t n_listeners;
        Conn *waiting;
        size_t n_conns;
        const char *control;
        char *control_dir, *control_base;
        struct stat control_st;
        bool control_seen;
        TestdCommand cmd;
        int forced_status;      /* from SIGUSR1/SIGUSR2, 0: none */
        bool verbose;
} S = { .epfd = -1 };

_printf_(1, 2) static void logf_(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        fprintf(stderr, "ks-testd[%d]: ", (int) getpid());
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
}

static uint64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static int epoll_add(Source *s, uint32_t events) {
        struct epoll_event ev = { .events = events, .data.ptr = s };

        return epoll_ctl(S.epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0 ? -errno : 0;
}

static void epoll_mod(Source *s, uint32_t events) {
        struct epoll_event ev = { .events = events, .data.ptr = s };

        (void) epoll_ctl(S.epfd, EPOLL_CTL_MOD, s->fd, &ev);
}

/* ---- command file ------------------------------------------------------------------------- */

static char *read_file(const char *path) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char *buf = NULL;
        size_t size = 0;

        if (!f)
                return NULL;
        FILE *m = open_memstream(&buf, &size);
        if (!m)
                return NULL;
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && size < (1 << 20))
                fwrite(chunk, 1, n, m);
        fclose(m);
        return buf;
}

static int write_file_atomic(const char *path, const char *text) {
        _cleanup_free_ char *tmp = NULL;
        int fd;

        if (asprintf(&tmp, "%s.ks-testd.%d", path, (int) getpid()) < 0)
                return -ENOMEM;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        size_t len = strlen(text);
        if (write(fd, text, len) != (ssize_t) len) {
                close(fd);
                unlink(tmp);
                return -EIO;
        }
        close(fd);
        if (rename(tmp, path) < 0) {
                int r = -errno;
                unlink(tmp);
                return r;
        }
        return 0;
}

static _Noreturn void do_action(TestdAction a, int code) {
        fflush(NULL);
        switch (a) {
        case TESTD_ACTION_EXIT:
                _exit(code);
        case TESTD_ACTION_CRASH:
                signal(SIGSEGV, SIG_DFL);
                raise(SIGSEGV);
                break;
        case TESTD_ACTION_ABORT:
                abort();
        case TESTD_ACTION_NONE:
                break;
        }
        _exit(255);
}

static void control_reload(const char *why) {
        _cleanup_free_ char *text = NULL;
        TestdCommand n;
        unsigned line = 0;
        struct stat st;
        bool same;

        if (!S.control)
                return;
        if (stat(S.control, &st) < 0) {
                if (S.control_seen)
                        logf_("%s: gone (%s), keeping the current behaviour", S.control, why);
                S.control_seen = false;
                return;
        }
        text = read_file(S.control);
        if (!text) {
                logf_("%s: cannot read: %m", S.control);
                return;
        }
        /* The same file again (its inotify event after a stat saw it, SIGHUP): not a new sequence. */
        same = S.control_seen && st.st_ino == S.control_st.st_ino && st.st_size == S.control_st.st_size &&
               st.st_mtim.tv_sec == S.control_st.st_mtim.tv_sec &&
               st.st_mtim.tv_nsec == S.control_st.st_mtim.tv_nsec;
        S.control_st = st;
        S.control_seen = true;

        testd_command_init(&n);
        if (testd_command_parse(text, &n, &line) < 0) {
                logf_("%s:%u: cannot parse, keeping the current behaviour", S.control, line);
                return;
        }
        testd_command_done(&S.cmd);
        S.cmd = n;
        /* A "sequence" starts again with every new file. */
        for (size_t i = 0; !same && i < S.n_listeners; i++)
                S.listeners[i]->sequence_pos = 0;
        /* A file written after SIGUSR1/2 is the newer word. */
        S.forced_status = 0;
        logf_("%s: loaded (%s): /health mode %d status %d", S.control, why,
              (int) S.cmd.behaviour.mode, S.cmd.behaviour.status);

        if (S.cmd.action != TESTD_ACTION_NONE) {
                if (!S.cmd.action_repeat) {
                        _cleanup_free_ char *rest = testd_text_drop_line(text, S.cmd.action_line);
                        int r = rest ? write_file_atomic(S.control, rest) : -ENOMEM;
                        if (r < 0)
                                logf_("%s: cannot remove the one-shot action: %s", S.control, strerror(-r));
                }
                logf_("action from %s: %s %d", S.control,
                      S.cmd.action == TESTD_ACTION_EXIT ? "exit" :
                      S.cmd.action == TESTD_ACTION_CRASH ? "crash" : "abort", S.cmd.exit_code);
                do_action(S.cmd.action, S.cmd.exit_code);
        }
}

/* Cheap check before each answer, so that a write to the file is seen by the very next request
 * even if its inotify event has not been processed yet. */
static void control_check(void) {
        struct stat st;

        if (!S.control)
                return;
        if (stat(S.control, &st) < 0) {
                if (S.control_seen)
                        control_reload("removed");
                return;
        }
        if (!S.control_seen || st.st_ino != S.control_st.st_ino || st.st_size != S.control_st.st_size ||
            st.st_mtim.tv_sec != S.control_st.st_mtim.tv_sec ||
            st.st_mtim.tv_nsec != S.control_st.st_mtim.tv_nsec)
                control_reload("changed");
}

/* ---- connections -------------------------------------------------------------------------- */

static void waiting_unlink(Conn *c) {
        if (c->state != CONN_WAITING)
                return;
        if (c->wprev)
                c->wprev->wnext = c->wnext;
        else
                S.waiting = c->wnext;
        if (c->wnext)
                c->wnext->wprev = c->wprev;
        c->wprev = c->wnext = NULL;
}

static void conn_free(Conn *c) {
        waiting_unlink(c);
        (void) epoll_ctl(S.epfd, EPOLL_CTL_DEL, c->src.fd, NULL);
        close(c->src.fd);
        free(c->out);
        free(c);
        S.n_conns--;
}

static int conn_queue(Conn *c, const char *data, size_t len) {
        char *n = realloc(c->out, c->out_len + len);

        if (!n)
                return -ENOMEM;
        memcpy(n + c->out_len, data, len);
        c->out = n;
        c->out_len += len;
        return 0;
}

static int conn_respond(Conn *c, const TestdRequest *req, int status, const char *body) {
        char head[256];
        int n;

        n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                     "Connection: %s\r\n\r\n",
                     status, testd_reason_phrase(status), strlen(body),
                     c->keep_alive ? "keep-alive" : "close");
        if (conn_queue(c, head, (size_t) n) < 0)
                return -ENOMEM;
        if (!req || !streq(req->method, "HEAD"))
                if (conn_queue(c, body, strlen(body)) < 0)
                        return -ENOMEM;
        return 0;
}

/* Writes what is queued. Returns < 0 when the connection is to be dropped. */
static int conn_flush(Conn *c) {
        while (c->out_off < c->out_len) {
                ssize_t k = write(c->src.fd, c->out + c->out_off, c->out_len - c->out_off);
                if (k < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                break;
                        return -errno;
                }
                c->out_off += (size_t) k;
        }
        if (c->out_off < c->out_len) {
                epoll_mod(&c->src, EPOLLIN | EPOLLOUT);
                return 0;
        }
        c->out_off = c->out_len = 0;
        if (c->state == CONN_CLOSING)
                return -ECONNRESET;
        epoll_mod(&c->src, EPOLLIN);
        return 0;
}

static const char *health_body(int status) {
        if (S.cmd.body)
                return S.cmd.body;
        return status >= 200 && status < 300 ? "ok\n" : "fail\n";
}

/* Handles one complete request. Returns < 0 to drop the connection. */
static int conn_handle(Conn *c, const TestdRequest *req) {
        char buf[64];

        c->keep_alive = req->keep_alive;
        if (S.verbose)
                logf_("port %u: %s %s", c->listener->port, req->method, req->path);

        if (!streq(req->method, "GET") && !streq(req->method, "HEAD")) {
                c->keep_alive = false;
                return conn_respond(c, req, 405, "method not allowed\n");
        }

        if (streq(req->path, "/ping"))
                return conn_respond(c, req, 200, "pong\n");
        if (streq(req->path, "/pid")) {
                snprintf(buf, sizeof(buf), "%d\n", (int) getpid());
                return conn_respond(c, req, 200, buf);
        }
        if (streq(req->path, "/count")) {
                snprintf(buf, sizeof(buf), "%" PRIu64 "\n", c->listener->n_health);
                return conn_respond(c, req, 200, buf);
        }
        if (!streq(req->path, "/health"))
                return conn_respond(c, req, 404, "not found\n");

        c->listener->n_health++;
        control_check();
        if (S.forced_status != 0)
                return conn_respond(c, req, S.forced_status, health_body(S.forced_status));

        const TestdBehaviour *b = testd_command_behaviour(&S.cmd, c->listener->port);
        switch (b->mode) {
        case TESTD_MODE_STATUS:
                return conn_respond(c, req, b->status, health_body(b->status));
        case TESTD_MODE_SEQUENCE: {
                int status = testd_sequence_status(b, c->listener->sequence_pos++);
                return conn_respond(c, req, status, health_body(status));
        }
        case TESTD_MODE_SLOW:
                c->state = CONN_WAITING;
                c->deadline = now_ms() + b->delay_ms;
                c->slow_status = b->status;
                c->wnext = S.waiting;
                if (S.waiting)
                        S.waiting->wprev = c;
                S.waiting = c;
                return 0;
        case TESTD_MODE_HANG:
                c->state = CONN_HANGING;
                return 0;
        case TESTD_MODE_CLOSE:
                return -ECONNRESET;
        case TESTD_MODE_GARBAGE: {
                static const char junk[] = "\x01\x7f\xfe garbage, not HTTP \xff\r\n\r\n";
                c->state = CONN_CLOSING;
                return conn_queue(c, junk, sizeof(junk) - 1);
        }
        }
        return -EINVAL;
}

/* Parses and answers what is buffered, as long as answers are immediate (pipelining). */
static int conn_process(Conn *c) {
        while (c->state == CONN_READING) {
                TestdRequest req;
                size_t skip;
                int r;

                if (c->body_left > 0) {
                        skip = MIN(c->body_left, c->in_len);
                        memmove(c->in, c->in + skip, c->in_len - skip);
                        c->in_len -= skip;
                        c->body_left -= skip;
                        if (c->body_left > 0)
                                break;
                }
                r = testd_http_parse_head(c->in, c->in_len, &req);
                if (r < 0) {
                        c->keep_alive = false;
                        c->state = CONN_CLOSING;
                        if (conn_respond(c, NULL, 400, "bad request\n") < 0)
                                return -ENOMEM;
                        break;
                }
                if (r == 0) {
                        if (c->in_len == sizeof(c->in)) {
                                c->keep_alive = false;
                                c->state = CONN_CLOSING;
                                if (conn_respond(c, NULL, 431, "request head too large\n") < 0)
                                        return -ENOMEM;
                        }
                        break;
                }
                memmove(c->in, c->in + r, c->in_len - (size_t) r);
                c->in_len -= (size_t) r;
                c->body_left = req.content_length;

                r = conn_handle(c, &req);
                if (r < 0)
                        return r;
                if (!c->keep_alive && c->state == CONN_READING)
                        c->state = CONN_CLOSING;
        }
        return conn_flush(c);
}

static void conn_event(Conn *c, uint32_t events) {
        if (events & EPOLLIN) {
                for (;;) {
                        char discard[4096];
                        char *dst = c->state == CONN_READING ? c->in + c->in_len : discard;
                        size_t room = c->state == CONN_READING ? sizeof(c->in) - c->in_len : sizeof(discard);
                        ssize_t k;

                        if (room == 0)
                                break;
                        k = read(c->src.fd, dst, room);
                        if (k == 0) {
                                conn_free(c);
                                return;
                        }
                        if (k < 0) {
                                if (errno == EAGAIN || errno == EINTR)
                                        break;
                                conn_free(c);
                                return;
                        }
                        if (c->state == CONN_READING)
                                c->in_len += (size_t) k;
                }
        } else if (events & (EPOLLHUP | EPOLLERR)) {
                conn_free(c);
                return;
        }
        if (conn_process(c) < 0)
                conn_free(c);
}

static void conns_expire(void) {
        uint64_t now = now_ms();

        for (Conn *c = S.waiting, *next; c; c = next) {
                next = c->wnext;
                if (c->deadline > now)
                        continue;
                waiting_unlink(c);
                c->state = c->keep_alive ? CONN_READING : CONN_CLOSING;
                if (conn_respond(c, NULL, c->slow_status, health_body(c->slow_status)) < 0 ||
                    conn_process(c) < 0)
                        conn_free(c);
        }
}

static int next_timeout(void) {
        uint64_t now = now_ms(), min = UINT64_MAX;

        for (Conn *c = S.waiting; c; c = c->wnext)
                min = MIN(min, c->deadline);
        if (min == UINT64_MAX)
                return -1;
        return min <= now ? 0 : (int) MIN(min - now, (uint64_t) INT_MAX);
}

static void listener_accept(Listener *l) {
        for (;;) {
                int fd = accept4(l->src.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0) {
                        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                                logf_("accept on port %u: %m", l->port);
                        return;
                }
                Conn *c = calloc(1, sizeof(Conn));
                if (!c) {
                        close(fd);
                        return;
                }
                c->src = (Source) { .type = SOURCE_CONN, .fd = fd };
                c->listener = l;
                c->state = CONN_READING;
                int one = 1;
                (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                if (epoll_add(&c->src, EPOLLIN) < 0) {
                        close(fd);
                        free(c);
                        continue;
                }
                S.n_conns++;
        }
}

/* ---- setup -------------------------------------------------------------------------------- */

static int listen_on(struct in_addr addr, unsigned port, Listener **ret) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = addr, .sin_port = htons(port) };
        socklen_t salen = sizeof(sa);
        int one = 1;
        _cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -errno;
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, 1024) < 0)
                return -errno;
        if (getsockname(fd, (struct sockaddr *) &sa, &salen) < 0)
                return -errno;

        Listener *l = calloc(1, sizeof(Listener));
        if (!l)
                return -ENOMEM;
        l->src = (Source) { .type = SOURCE_LISTENER, .fd = TAKE_FD(fd) };
        l->port = ntohs(sa.sin_port);
        *ret = l;
        return 0;
}

static int parse_port_range(const char *s, unsigned *ret_first, unsigned *ret_last) {
        char *end;
        unsigned long a, b;

        errno = 0;
        a = strtoul(s, &end, 10);
        if (errno || end == s || a > 65535)
                return -EINVAL;
        b = a;
        if (*end == '-') {
                const char *s2 = end + 1;
                b = strtoul(s2, &end, 10);
                if (errno || end == s2 || b > 65535 || b < a || a == 0)
                        return -EINVAL;
        }
        if (*end)
                return -EINVAL;
        *ret_first = (unsigned) a;
        *ret_last = (unsigned) b;
        return 0;
}

static void raise_nofile(void) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &rl);
        }
}

/* sd_notify() without libsystemd, so the helper builds and runs anywhere. */
static void notify(const char *msg) {
        const char *e = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t len;
        _cleanup_close_ int fd = -EBADF;

        if (!e || (e[0] != '/' && e[0] != '@') || strlen(e) >= sizeof(sa.sun_path))
                return;
        len = strlen(e);
        memcpy(sa.sun_path, e, len);
        if (sa.sun_path[0] == '@')
                sa.sun_path[0] = '\0';
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return;
        if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *) &sa,
                   (socklen_t) (offsetof(struct sockaddr_un, sun_path) + len)) < 0)
                logf_("sd_notify: %m");
}

extern char **environ;

static int write_strv(const char *path, char *const *v) {
        _cleanup_fclose_ FILE *f = fopen(path, "we");

        if (!f)
                return -errno;
        for (; *v; v++)
                fwrite(*v, 1, strlen(*v) + 1, f);
        if (fflush(f) != 0 || ferror(f))
                return -EIO;
        return 0;
}

static int dump(int argc, char **argv) {
        _cleanup_free_ char *envpath = NULL;
        int r;

        if (argc < 3 || asprintf(&envpath, "%s.env", argv[2]) < 0) {
                logf_("--dump needs a file name");
                return 2;
        }
        r = write_strv(argv[2], argv);
        if (r >= 0)
                r = write_strv(envpath, environ);
        if (r < 0) {
                logf_("cannot write %s: %s", argv[2], strerror(-r));
                return 1;
        }
        return 0;
}

static void usage(void) {
        fputs("usage: ks-testd [-a ADDR] -p PORT[-LAST]... [-c COMMAND-FILE] [-P PORT-FILE] [-n] [-v]\n"
              "       ks-testd --dump FILE [ARG...]\n"
              "see the header comment of tests/helpers/ks-testd.c\n", stderr);
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "port", required_argument, NULL, 'p' },
                { "address", required_argument, NULL, 'a' },
                { "control", required_argument, NULL, 'c' },
                { "port-file", required_argument, NULL, 'P' },
                { "notify", no_argument, NULL, 'n' },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        struct in_addr addr = { .s_addr = htonl(INADDR_LOOPBACK) };
        const char *port_file = NULL;
        bool do_notify = false;
        unsigned ranges[64][2];
        size_t n_ranges = 0, total = 0;
        int c;

        /* Before option parsing: the arguments after FILE are data, whatever they look like. */
        if (argc >= 2 && streq(argv[1], "--dump"))
                return dump(argc, argv);

        while ((c = getopt_long(argc, argv, "p:a:c:P:nvh", opts, NULL)) >= 0)
                switch (c) {
                case 'p':
                        if (n_ranges == ELEMENTSOF(ranges) ||
                            parse_port_range(optarg, &ranges[n_ranges][0], &ranges[n_ranges][1]) < 0) {
                                logf_("invalid port or range: %s", optarg);
                                return 2;
                        }
                        total += ranges[n_ranges][1] - ranges[n_ranges][0] + 1;
                        n_ranges++;
                        break;
                case 'a':
                        if (inet_pton(AF_INET, optarg, &addr) != 1) {
                                logf_("invalid IPv4 address: %s", optarg);
                                return 2;
                        }
                        break;
                case 'c':
                        S.control = optarg;
                        break;
                case 'P':
                        port_file = optarg;
                        break;
                case 'n':
                        do_notify = true;
                        break;
                case 'v':
                        S.verbose = true;
                        break;
                case 'h':
                        usage();
                        return 0;
                default:
                        usage();
                        return 2;
                }
        if (optind != argc || n_ranges == 0 || total > MAX_PORTS) {
                usage();
                return 2;
        }

        testd_command_init(&S.cmd);
        raise_nofile();
        signal(SIGPIPE, SIG_IGN);

        S.epfd = epoll_create1(EPOLL_CLOEXEC);
        if (S.epfd < 0) {
                logf_("epoll_create1: %m");
                return 1;
        }

        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGUSR1);
        sigaddset(&mask, SIGUSR2);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        Source sigsrc = { .type = SOURCE_SIGNAL, .fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC) };
        if (sigsrc.fd < 0 || epoll_add(&sigsrc, EPOLLIN) < 0) {
                logf_("signalfd: %m");
                return 1;
        }

        Source insrc = { .type = SOURCE_INOTIFY, .fd = -EBADF };
        if (S.control) {
                _cleanup_free_ char *copy = strdup(S.control);
                char *slash = copy ? strrchr(copy, '/') : NULL;

                if (!copy)
                        return 1;
                S.control_base = strdup(slash ? slash + 1 : copy);
                if (slash == copy)
                        S.control_dir = strdup("/");
                else if (slash) {
                        *slash = '\0';
                        S.control_dir = strdup(copy);
                } else
                        S.control_dir = strdup(".");
                if (!S.control_base || !S.control_dir)
                        return 1;
                /* The directory may be on a fresh /run: create it, so it can be watched. */
                for (char *q = S.control_dir + 1; *q; q++)
                        if (*q == '/') {
                                *q = '\0';
                                (void) mkdir(S.control_dir, 0755);
                                *q = '/';
                        }
                (void) mkdir(S.control_dir, 0755);
                insrc.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
                if (insrc.fd < 0 ||
                    inotify_add_watch(insrc.fd, S.control_dir,
                                      IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE) < 0 ||
                    epoll_add(&insrc, EPOLLIN) < 0)
                        logf_("cannot watch %s (%m); the file is still checked before each answer",
                              S.control_dir);
                control_reload("start");
        }

        S.listeners = calloc(total, sizeof(Listener *));
        if (!S.listeners)
                return 1;
        for (size_t i = 0; i < n_ranges; i++)
                for (unsigned p = ranges[i][0]; p <= ranges[i][1]; p++) {
                        Listener *l = NULL;
                        int r = listen_on(addr, p, &l);
                        if (r < 0) {
                                logf_("cannot listen on port %u: %s", p, strerror(-r));
                                return 1;
                        }
                        if (epoll_add(&l->src, EPOLLIN) < 0) {
                                logf_("epoll_ctl: %m");
                                return 1;
                        }
                        S.listeners[S.n_listeners++] = l;
                }

        logf_("listening on %zu port(s), first %u", S.n_listeners, S.listeners[0]->port);
        if (port_file) {
                char buf[16];
                snprintf(buf, sizeof(buf), "%u\n", S.listeners[0]->port);
                if (write_file_atomic(port_file, buf) < 0)
                        logf_("cannot write %s", port_file);
        }
        if (do_notify) {
                char msg[128];
                snprintf(msg, sizeof(msg), "READY=1\nSTATUS=listening on %zu port(s), first %u",
                         S.n_listeners, S.listeners[0]->port);
                notify(msg);
        }

        for (;;) {
                struct epoll_event evs[256];
                int n = epoll_wait(S.epfd, evs, (int) ELEMENTSOF(evs), next_timeout());

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        logf_("epoll_wait: %m");
                        return 1;
                }
                for (int i = 0; i < n; i++) {
                        Source *s = evs[i].data.ptr;

                        switch (s->type) {
                        case SOURCE_LISTENER:
                                listener_accept((Listener *) s);
                                break;
                        case SOURCE_CONN:
                                conn_event((Conn *) s, evs[i].events);
                                break;
                        case SOURCE_INOTIFY: {
                                char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
                                bool hit = false;
                                ssize_t k;

                                while ((k = read(s->fd, buf, sizeof(buf))) > 0)
                                        for (char *p = buf; p < buf + k;) {
                                                struct inotify_event *e = (struct inotify_event *) p;
                                                if (e->len > 0 && streq(e->name, S.control_base))
                                                        hit = true;
                                                p += sizeof(*e) + e->len;
                                        }
                                if (hit)
                                        control_check();
                                break;
                        }
                        case SOURCE_SIGNAL: {
                                struct signalfd_siginfo si;

                                while (read(s->fd, &si, sizeof(si)) == sizeof(si))
                                        switch (si.ssi_signo) {
                                        case SIGHUP:
                                                control_reload("SIGHUP");
                                                break;
                                        case SIGUSR1:
                                                S.forced_status = 500;
                                                logf_("SIGUSR1: /health answers 500");
                                                break;
                                        case SIGUSR2:
                                                S.forced_status = 200;
                                                logf_("SIGUSR2: /health answers 200");
                                                break;
                                        default:
                                                logf_("signal %u, exiting", si.ssi_signo);
                                                return 0;
                                        }
                                break;
                        }
                        }
                }
                conns_expire();
        }
}
