/*
 * suite-03-pid.c: step 03 gives the container process IDs of its own and
 * an init. Each property holds on 03 and later, and the same check shows
 * the leak on 02. The checks look from the sandbox, which as the parent
 * PID namespace sees every process of the container: /proc/PID/status
 * gives a process's parent (PPid) and its number in each namespace
 * (NSpid), the innermost last.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
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

/* Waits for a traced process's next stop; its end fails the check. */
static int
traced_stop(pid_t pid, const char *who)
{
    int status;

    if (waitpid(pid, &status, __WALL) != pid)
        fail_check("waitpid(%s): %s", who, strerror(errno));
    if (!WIFSTOPPED(status))
        fail_check("%s ended (wait status 0x%x) before the check's stop", who,
                   (unsigned int)status);
    return status;
}

/*
 * The runtime, traced since its execve(2), runs to its first fork or
 * clone: the new process, the container's first, is traced from its
 * start, and the runtime goes on untraced. Returns that child, stopped.
 */
static pid_t
trace_container_start(pid_t runtime)
{
    unsigned long child;
    int status = traced_stop(runtime, "the runtime"), sig = 0, event;

    if (ptrace(PTRACE_SETOPTIONS, runtime, NULL,
               PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK |
                   PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE) == -1)
        fail_check("ptrace(PTRACE_SETOPTIONS): %s", strerror(errno));
    for (;;) {
        if (ptrace(PTRACE_CONT, runtime, NULL, sig) == -1)
            fail_check("ptrace(PTRACE_CONT): %s", strerror(errno));
        status = traced_stop(runtime, "the runtime");
        event = status >> 16;
        if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK ||
            event == PTRACE_EVENT_CLONE)
            break;
        /* A signal the runtime got goes on to it. */
        sig = WSTOPSIG(status) == SIGTRAP ? 0 : WSTOPSIG(status);
    }
    if (ptrace(PTRACE_GETEVENTMSG, runtime, NULL, &child) == -1 ||
        ptrace(PTRACE_DETACH, runtime, NULL, 0) == -1)
        fail_check("ptrace at the runtime's clone: %s", strerror(errno));
    /*
     * A process traced from its start first stops with a SIGSTOP. It
     * alone is held: the processes it forks are not traced.
     */
    traced_stop(child, "the container");
    if (ptrace(PTRACE_SETOPTIONS, child, NULL,
               PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD) == -1)
        fail_check("ptrace(PTRACE_SETOPTIONS): %s", strerror(errno));
    return child;
}

/*
 * Runs the traced child until it enters prctl(PR_SET_PDEATHSIG) or
 * execve(2), whichever comes first, and leaves it stopped there. A step
 * before 03 never calls that prctl: its child stops at COMMAND's execve.
 * PTRACE_GET_SYSCALL_INFO tells a system call's entry from its exit, and
 * its number and arguments, on every architecture.
 */
static void
stop_before_death_signal(pid_t child)
{
    struct __ptrace_syscall_info info;
    int status, sig = 0;

    for (;;) {
        if (ptrace(PTRACE_SYSCALL, child, NULL, sig) == -1)
            fail_check("ptrace(PTRACE_SYSCALL): %s", strerror(errno));
        status = traced_stop(child, "the container");
        sig = 0;
        if (WSTOPSIG(status) != (SIGTRAP | 0x80)) {
            sig = WSTOPSIG(status); /* not a system call: a signal */
            continue;
        }
        if (ptrace(PTRACE_GET_SYSCALL_INFO, child, sizeof(info), &info) <= 0)
            fail_check("ptrace(PTRACE_GET_SYSCALL_INFO): %s", strerror(errno));
        if (info.op == PTRACE_SYSCALL_INFO_ENTRY &&
            ((info.entry.nr == __NR_prctl &&
              info.entry.args[0] == PR_SET_PDEATHSIG) ||
             info.entry.nr == __NR_execve || info.entry.nr == __NR_execveat))
            return;
    }
}

/*
 * The runtime dies after it released its child but before the child
 * asked for PR_SET_PDEATHSIG: no signal will ever come, and on 03 the
 * child must see that the runtime is gone, exit 125 and never start
 * COMMAND. ptrace(2) holds the child at that point, so the race happens
 * every time. The check makes itself a subreaper: the orphaned child
 * becomes its own, to wait for. On 02 the child stops at COMMAND's
 * execve(), and COMMAND runs: it prints its PID.
 */
static bool
pid_runtime_dies_in_setup(const char *step)
{
    struct run_opts traced = {.traced = true};
    char out[OUT_MAX], err[OUT_MAX];
    siginfo_t gone;
    struct proc p;
    pid_t child;
    int status;

    if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
        fail_check("prctl(PR_SET_CHILD_SUBREAPER): %s", strerror(errno));
    if (spawn(&p, &traced, ARGV(STEP, PROBE, "pid")) == -1)
        fail_check("cannot run %s: %s", STEP, strerror(errno));
    child = trace_container_start(p.pid);
    stop_before_death_signal(child);
    /* The runtime is dead (WNOWAIT: finish() reaps it); the child goes on. */
    kill(p.pid, SIGKILL);
    if (waitid(P_PID, p.pid, &gone, WEXITED | WNOWAIT) == -1 ||
        ptrace(PTRACE_DETACH, child, NULL, 0) == -1)
        fail_check("cannot let the container go on: %s", strerror(errno));
    if (finish(&p, 10000) == -1) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        fail_check("the container did not end within 10 s");
    }
    if (waitpid(child, &status, 0) != child)
        fail_check("the orphaned container was not the check's to reap");
    snprintf(out, sizeof(out), "%s", trim(p.out));
    snprintf(err, sizeof(err), "%s", p.err);
    /* A 05 runtime leaves its record behind: the next run removes it. */
    if (run(&p, ARGV(STEP, PROBE, "exit", "0")) != 0)
        fail_check("the run after the SIGKILL failed: %s", p.err);
    if (out[0])
        return false;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 125)
        fail_check("the container's wait status is 0x%x, not exit 125, and "
                   "COMMAND printed nothing: %s",
                   (unsigned int)status, err);
    return true;
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
        {"pid_runtime_dies_in_setup", "03", pid_runtime_dies_in_setup, NULL},
    };

    return run_suite("03-pid", props, sizeof(props) / sizeof(props[0]), NULL,
                     0);
}
