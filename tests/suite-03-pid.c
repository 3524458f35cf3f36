/*
 * suite-03-pid.c: step 03 gives the container process IDs of its own and
 * an init. Each property holds on 03 and later, and the same check shows
 * the leak on 02. The checks look from the sandbox, which as the parent
 * PID namespace sees every process of the container: /proc/PID/status
 * gives a process's parent (PPid) and its number in each namespace
 * (NSpid), the innermost last.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static bool
pid_ns(const char *step)
{
    return ns_isolated(step, "pid");
}

/* COMMAND's parent is PID 1: the container's init, not the runtime. */
static bool
pid_init(const char *step)
{
    struct proc p;

    if (run(&p, ARGV(STEP, PROBE, "ppid")) != 0)
        fail_check("probe ppid: status %d: %s", p.status, p.err);
    return atoi(p.out) == 1;
}

/* A process of the sandbox, with a PID well above the container's own. */
static pid_t
start_target(void)
{
    struct proc p;

    for (int i = 0; i < 10; i++)
        if (fork() == 0)
            _exit(0);
    while (wait(NULL) > 0)
        ;
    if (spawn(&p, NULL, ARGV(PROBE, "sleeper")) == -1)
        fail_check("cannot start probe sleeper");
    return p.pid;
}

/*
 * From inside, kill(2) of a sandbox process: on 03 that PID does not
 * exist in the container's namespace (ESRCH) and the target lives.
 */
static bool
pid_kill_outside(const char *step)
{
    struct proc p;
    pid_t target = start_target();
    char pid_text[16];
    bool refused, died;

    snprintf(pid_text, sizeof(pid_text), "%d", (int)target);
    run(&p, ARGV(STEP, PROBE, "kill", pid_text, "TERM"));
    refused = strcmp(trim(p.out), "ok") != 0;
    died = waitpid(target, NULL, refused ? WNOHANG : 0) == target;
    if (!died) {
        kill(target, SIGKILL);
        waitpid(target, NULL, 0);
    }
    if (refused == died)
        fail_check("kill from inside said '%s', yet the target %s", p.out,
                   died ? "died" : "lives");
    return refused;
}

/*
 * A grandchild whose parent exits is an orphan: on 03 the container's
 * init adopts it (its parent is the process whose innermost PID is 1, not
 * the sandbox's init), and reaps it when it dies. On 02 the sandbox's
 * init adopts it: the orphan escapes the container.
 */
static bool
pid_orphan_reaped(const char *step)
{
    struct proc p;
    struct run_opts opts = {.keep_stdin = true};
    const char *line;
    pid_t orphan, parent;
    bool adopted_inside;

    spawn(&p, &opts, ARGV(STEP, PROBE, "orphan"));
    if (!(line = read_line(&p, 5000)) || strcmp(line, "ready"))
        fail_check("probe orphan did not start: %s", p.err);
    if ((orphan = find_by_comm("probe-orphan")) == -1)
        fail_check("no probe-orphan process in the sandbox");
    parent = host_ppid(orphan);
    adopted_inside = parent != 1 && innermost_pid(parent) == 1;
    if (!adopted_inside && parent != 1)
        fail_check("the orphan's parent %d is neither init", (int)parent);
    kill(orphan, SIGTERM);
    if (!wait_gone(orphan, 2000))
        fail_check("the orphan %d was not reaped after it died", (int)orphan);
    if (finish(&p, 5000) != 0)
        fail_check("probe orphan: status %d: %s", p.status, p.err);
    return adopted_inside;
}

/* Waits up to 2 s until no process named comm is left in the sandbox. */
static bool
all_gone(const char *comm)
{
    for (int i = 0; i < 200; i++) {
        if (find_by_comm(comm) == -1)
            return true;
        usleep(10000);
    }
    return false;
}

/*
 * SIGKILL to the runtime: on 03 init gets PR_SET_PDEATHSIG and its death
 * ends the namespace; on 02 COMMAND and its child live on. What the
 * runtime could not clean, the next run must: only then is the leak check
 * made.
 */
static bool
pid_dies_with_runtime(const char *step)
{
    struct proc p;
    const char *line;
    bool gone;

    spawn(&p, NULL, ARGV(STEP, PROBE, "sleeper-tree"));
    if (!(line = read_line(&p, 5000)) || strcmp(line, "ready"))
        fail_check("probe sleeper-tree did not start: %s", p.err);
    kill(p.pid, SIGKILL);
    waitpid(p.pid, NULL, 0);
    gone = all_gone("probe-sleeper");
    if (!gone) {
        kill_by_comm("probe-sleeper", SIGKILL);
        all_gone("probe-sleeper");
    }
    if (run(&p, ARGV(STEP, PROBE, "exit", "0")) != 0)
        fail_check("the run after the SIGKILL failed: %s", p.err);
    return gone;
}

int
main(void)
{
    static const struct property props[] = {
        {"pid_ns", "03", pid_ns, NULL},
        {"pid_init", "03", pid_init, NULL},
        {"pid_kill_outside", "03", pid_kill_outside, NULL},
        {"pid_orphan_reaped", "03", pid_orphan_reaped, NULL},
        {"pid_dies_with_runtime", "03", pid_dies_with_runtime, NULL},
    };

    return run_suite("03-pid", props, sizeof(props) / sizeof(props[0]), NULL,
                     0);
}
