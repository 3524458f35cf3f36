/*
 * sandbox-cli.c: build/tests/sandbox [--timeout SECONDS] [--] COMMAND...
 *
 * Runs COMMAND as root in the same throwaway outer sandbox the tests use
 * (new UTS, IPC, mount, network and PID namespaces, hostname "sandbox",
 * its own /proc, a private tmpfs on /run, a pids-limited cgroup), with
 * stdin from /dev/null, and exits with COMMAND's status. The tutorial's
 * shell sessions run in it, so a step that leaks leaks only into it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static int
exec_command(void *arg)
{
    char **argv = arg;
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

    /* Only stdin (from /dev/null), stdout and stderr reach COMMAND. */
    if (null == -1 || dup2(null, 0) == -1 ||
        close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == -1) {
        perror("sandbox: /dev/null");
        return 125;
    }
    execvp(argv[0], argv);
    fprintf(stderr, "sandbox: %s: %s\n", argv[0], strerror(errno));
    return errno == ENOENT ? 127 : 126;
}

int
main(int argc, char *argv[])
{
    int timeout = 120, i = 1;

    if (i + 1 < argc && strcmp(argv[i], "--timeout") == 0) {
        timeout = atoi(argv[i + 1]);
        i += 2;
    }
    if (i < argc && strcmp(argv[i], "--") == 0)
        i++;
    if (i >= argc || geteuid() != 0) {
        fprintf(stderr, "usage: sudo %s [--timeout SECONDS] [--] COMMAND...\n",
                argv[0]);
        return 125;
    }
    return sandbox_run(exec_command, argv + i, timeout, false);
}
