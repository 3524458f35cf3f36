/*
 * util.c: small helpers the steps share.
 */
#include <signal.h>
#include <sys/wait.h>

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
