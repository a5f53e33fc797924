/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The foreign-PID probe: passes with CAP_SYS_ADMIN, refuses (with a reason naming the
 * capability) in a child that dropped it. Skipped when not run as root. */
#include <errno.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>

#include "test.h"
#include "privilege.h"

static int drop_sys_admin(void) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[2] = {};

        if (syscall(SYS_capget, &h, d) < 0)
                return -errno;
        d[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
        d[CAP_SYS_ADMIN / 32].permitted &= ~(1u << (CAP_SYS_ADMIN % 32));
        if (syscall(SYS_capset, &h, d) < 0)
                return -errno;
        return 0;
}

int main(void) {
        char reason[256];
        pid_t pid;
        int status;

        if (geteuid() != 0) {
                printf("SKIP: needs root (CAP_SYS_ADMIN) to test the positive case\n");
                return 77;
        }
        ASSERT_EQ(ks_privilege_check_foreign_pid(reason, sizeof reason), 0);

        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                int r;
                if (drop_sys_admin() < 0)
                        _exit(2);
                r = ks_privilege_check_foreign_pid(reason, sizeof reason);
                fprintf(stderr, "without CAP_SYS_ADMIN: %d %s\n", r, reason);
                _exit(r == -EPERM && strstr(reason, "CAP_SYS_ADMIN") ? 0 : 1);
        }
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status));
        ASSERT_EQ(WEXITSTATUS(status), 0);
        TEST_DONE();
}
