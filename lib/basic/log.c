/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The programs' logger: stderr (with <N> when it is the journal), journal socket, kmsg or memory (see log.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "strv.h"

static int max_level = LOG_INFO;
static int stderr_is_journal = -1;
static ks_log_target target = KS_LOG_TARGET_CONSOLE;
static int log_fd = -EBADF;
static const char *identifier;
static char **kept;             /* KS_LOG_TARGET_MEMORY */

void ks_log_set_max_level(int level) {
        max_level = level;
}

int ks_log_get_max_level(void) {
        return max_level;
}

int ks_log_level_from_string(const char *s) {
        static const char *const names[] = { "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug" };

        for (int i = 0; i < (int) ELEMENTSOF(names); i++)
                if (streq(s, names[i]))
                        return i;
        return -EINVAL;
}

void ks_log_set_identifier(const char *s) {
        identifier = s;
}

static const char *get_identifier(void) {
        return identifier ?: program_invocation_short_name;
}

static int open_journal(void) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/run/systemd/journal/socket" };
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -errno;
        /* connect() on a datagram socket fails unless journald is listening. */
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return -errno;
        return TAKE_FD(fd);
}

static int open_kmsg(void) {
        struct stat st;
        int fd;

        /* In containers /dev/kmsg may be missing or a plain file: only a real device will do. */
        if (stat("/dev/kmsg", &st) < 0 || !S_ISCHR(st.st_mode))
                return -ENODEV;
        fd = open("/dev/kmsg", O_WRONLY | O_NOCTTY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

void ks_log_close(void) {
        if (log_fd >= 0)
                close(log_fd);
        log_fd = -EBADF;
        kept = strv_free(kept);
        target = KS_LOG_TARGET_CONSOLE;
}

int ks_log_open(ks_log_target t) {
        int fd = -EBADF;

        ks_log_close();
        if (t == KS_LOG_TARGET_JOURNAL)
                fd = open_journal();
        else if (t == KS_LOG_TARGET_KMSG)
                fd = open_kmsg();
        if (fd < 0 && fd != -EBADF)
                return fd;
        log_fd = fd;
        target = t;
        return 0;
}

ks_log_target ks_log_get_target(void) {
        return target;
}

char **ks_log_take_kept(void) {
        return TAKE_PTR(kept);
}

/* systemd's convention (systemd.exec(5), $JOURNAL_STREAM): stderr is connected to the journal when
 * the variable names stderr's device and inode. An inherited variable with a redirected stderr (a
 * shell started from a service, a test) does not match, and a terminal gets no "<3>". */
bool ks_log_stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        uintmax_t dev, ino;
        struct stat st;
        int n = 0;

        if (!e || sscanf(e, "%ju:%ju%n", &dev, &ino, &n) != 2 || e[n] != 0)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (uintmax_t) st.st_dev == dev && (uintmax_t) st.st_ino == ino;
}

/* One record to the journal or kmsg, whole or not at all; false when it did not go. */
static bool write_record(int level, const char *text) {
        char buf[2048];
        int n;

        switch (target) {
        case KS_LOG_TARGET_JOURNAL:
                /* The native protocol; text is one line. */
                n = snprintf(buf, sizeof buf, "PRIORITY=%d\nSYSLOG_FACILITY=%d\nSYSLOG_IDENTIFIER=%s\nMESSAGE=%s\n",
                             level, LOG_DAEMON >> 3, get_identifier(), text);
                if (n >= (int) sizeof buf) {
                        n = sizeof buf - 1;
                        buf[n - 1] = '\n';
                }
                return send(log_fd, buf, n, MSG_NOSIGNAL) == n;
        case KS_LOG_TARGET_KMSG:
                /* One write per record: the kernel takes it as one message. LOG_DAEMON, since
                 * kernel facility 0 is refused for user space. */
                n = snprintf(buf, 1024, "<%d>%s[%d]: %s\n", LOG_DAEMON | level, get_identifier(), (int) getpid(), text);
                if (n >= 1024) {
                        n = 1023;
                        buf[n - 1] = '\n';
                }
                return write(log_fd, buf, n) == n;
        case KS_LOG_TARGET_MEMORY:
                return strv_extend(&kept, text) >= 0;
        case KS_LOG_TARGET_CONSOLE:
                break;
        }
        return false;
}

int ks_log_string(int level, const char *text) {
        if (level > max_level)
                return 0;
        if (write_record(level, text))
                return 0;
        if (stderr_is_journal < 0)
                stderr_is_journal = ks_log_stderr_is_journal();
        if (stderr_is_journal)
                fprintf(stderr, "<%d>%s\n", level, text);
        else
                fprintf(stderr, "%s\n", text);
        return 0;
}

int ks_log_internal(int level, int error, const char *func, const char *format, ...) {
        int e = error < 0 ? -error : error;

        if (level <= max_level) {
                _cleanup_free_ char *text = NULL;
                int saved_errno = errno;
                char buf[1024];
                va_list ap;

                errno = e;
                va_start(ap, format);
                if (vasprintf(&text, format, ap) < 0) {
                        /* Out of memory: the message, cut short, rather than nothing. */
                        text = NULL;
                        va_end(ap);
                        errno = e;
                        va_start(ap, format);
                        vsnprintf(buf, sizeof buf, format, ap);
                }
                va_end(ap);
                (void) ks_log_string(level, text ?: buf);
                errno = saved_errno;
        }
        return -e;
}
