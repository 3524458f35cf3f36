/*
 * sandbox-cli.c: build/tests/sandbox [--timeout SECONDS] [--] COMMAND...
 *                build/tests/sandbox --interactive [COMMAND...]
 *
 * Runs COMMAND as root in the same throwaway outer sandbox the tests use
 * (new UTS, IPC, mount, network and PID namespaces, hostname "sandbox",
 * its own /proc, a private tmpfs on /run, the probe's directory on /srv,
 * lo up, the marker veth bxmark0, a pids-limited cgroup), with stdin from
 * /dev/null, and exits with COMMAND's status. The tutorial's shell sessions run
 * in it, so a step that leaks leaks only into it.
 *
 * --interactive (make sandbox) is the student's way into the very same
 * sandbox: COMMAND (default: a bash shell) keeps the terminal, with job
 * control, and there is no time limit. Leaving the shell ends the
 * sandbox, and everything in it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boxstep.h"
#include "harness.h"

/* The shell of --interactive: no rc file, a prompt that says where. */
static char *default_shell[] = {"bash", "--norc", "-i", NULL};

static int
run_command(char **argv)
{
    /* Only stdin, stdout and stderr reach COMMAND. */
    if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == -1) {
        perror("sandbox: close_range");
        return 125;
    }
    execvp(argv[0], argv);
    fprintf(stderr, "sandbox: %s: %s\n", argv[0], strerror(errno));
    return errno == ENOENT ? 127 : 126;
}

static int
exec_command(void *arg)
{
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

    if (null == -1 || dup2(null, 0) == -1) {
        perror("sandbox: /dev/null");
        return 125;
    }
    return run_command(arg);
}

/* The terminal stays: the shell takes it over for its jobs. */
static int
exec_interactive(void *arg)
{
    /* What make sandbox's make left: a make run inside would see it. */
    static const char *const make_vars[] = {"MAKELEVEL",    "MAKEFLAGS",
                                            "MFLAGS",       "MAKEOVERRIDES",
                                            "MAKE_TERMOUT", "MAKE_TERMERR"};

    for (size_t i = 0; i < ARRAY_SIZE(make_vars); i++)
        unsetenv(make_vars[i]);
    setenv("PS1", "boxstep-sandbox:\\w# ", 1);
    return run_command(arg);
}

static int
interactive(char **argv)
{
    printf("boxstep: a shell in the sandbox the tutorial's sessions run in:\n"
           "hostname sandbox, its own IPC, mounts (a private /run), network "
           "(lo,\nbxmark0 198.51.100.1/24) and PIDs (its own /proc), in a "
           "pids-limited\ncgroup. exit (or Ctrl-D) ends it, and all it "
           "holds.\n");
    return sandbox_run(exec_interactive, argv[0] ? argv : default_shell, -1,
                       false);
}

int
main(int argc, char *argv[])
{
    int timeout = 120, i = 1;

    if (argc >= 2 && strcmp(argv[1], "--interactive") == 0 && geteuid() == 0)
        return interactive(argv + 2);
    if (i + 1 < argc && strcmp(argv[i], "--timeout") == 0) {
        timeout = atoi(argv[i + 1]);
        i += 2;
    }
    if (i < argc && strcmp(argv[i], "--") == 0)
        i++;
    if (i >= argc || geteuid() != 0) {
        fprintf(stderr,
                "usage: sudo %s [--timeout SECONDS] [--] COMMAND...\n"
                "       sudo %s --interactive [COMMAND...]\n",
                argv[0], argv[0]);
        return 125;
    }
    return sandbox_run(exec_command, argv + i, timeout, false);
}
