/*
 * util.c: small helpers the steps share.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "boxstep.h"

/*
 * The status the runtime exits with for a child's wait status: its exit
 * code, or 128+N when signal N killed it, as a shell reports it. The
 * runtime exits with that number; it does not kill itself with the same
 * signal, which could dump core or stop a debugger in the wrong process.
 */
int
exit_status_of(int wstatus)
{
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus))
        return 128 + WTERMSIG(wstatus);
    return EXIT_BOXSTEP;
}

/*
 * Whether the terminal generated this signal (Ctrl-C, Ctrl-\, a hang-up),
 * rather than a process with kill(2). The terminal signals the whole
 * foreground process group, and COMMAND is in it: forwarding such a signal
 * as well would deliver it twice.
 */
bool
sent_by_terminal(const siginfo_t *info)
{
    return info->si_code == SI_KERNEL;
}

/* pivot_root(2): glibc has no wrapper for it. */
int
pivot_root(const char *new_root, const char *put_old)
{
    return syscall(SYS_pivot_root, new_root, put_old);
}

/*
 * Makes the directories leading to path, like mkdir -p `dirname path`;
 * relative paths start at the working directory. Existing ones are fine.
 */
int
mkdir_parents(const char *path, mode_t mode)
{
    char dir[PATH_MAX];

    if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *slash = strchr(dir + 1, '/'); slash;
         slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        if (mkdir(dir, mode) == -1 && errno != EEXIST)
            return -1;
        *slash = '/';
    }
    return 0;
}
