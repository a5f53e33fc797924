/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Runs the output through a pager on a terminal; see pager.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "pager.h"

static pid_t pager_pid;

int ks_pager_open(void) {
        const char *pager;
        int fds[2];

        if (pager_pid > 0)
                return 1;
        if (!isatty(STDOUT_FILENO))
                return 0;
        pager = getenv("SYSTEMD_PAGER");
        if (!pager)
                pager = getenv("PAGER");
        if (!pager)
                pager = "less";
        if (pager[0] == 0 || streq(pager, "cat"))
                return 0;

        fflush(stdout);
        if (pipe2(fds, O_CLOEXEC) < 0)
                return 0;
        pid_t pid = fork();
        if (pid < 0) {
                close(fds[0]);
                close(fds[1]);
                return 0;
        }
        if (pid == 0) {
                if (dup2(fds[0], STDIN_FILENO) < 0)
                        _exit(EXIT_FAILURE);
                setenv("LESS", "FRSXMK", 0);
                execl("/bin/sh", "sh", "-c", pager, (char *) NULL);
                _exit(EXIT_FAILURE);
        }
        close(fds[0]);
        if (dup2(fds[1], STDOUT_FILENO) < 0) {
                close(fds[1]);
                return 0;
        }
        close(fds[1]);
        pager_pid = pid;
        return 1;
}

void ks_pager_close(void) {
        if (pager_pid <= 0)
                return;
        fflush(stdout);
        /* The pager reads until end of file: close our end of the pipe, then wait for it. */
        fclose(stdout);
        while (waitpid(pager_pid, NULL, 0) < 0 && errno == EINTR)
                ;
        pager_pid = 0;
}
