/*
 * pid.c: process IDs of its own, and an init to look after them, from
 * step 03 on.
 *
 * The child is the first process of a new PID namespace: PID 1 there. It
 * sees only its descendants, numbered from 1, while the host still sees
 * (and can signal) all of them under their host PIDs. PID 1 has duties,
 * so the child becomes a minimal init. And it must not outlive the
 * runtime, so the two are tied by a pipe and a death signal.
 *
 * Man pages: pid_namespaces(7), prctl(2) (PR_SET_PDEATHSIG), fork(2),
 * pipe(7), poll(2).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "step.h"

/*
 * The runtime's side of the set-up is done (later steps add to it): the
 * child may go on. The write end of the pipe stays open until the runtime
 * exits, so that init can tell whether it is still there.
 */
void
parent_release_child(struct container *c)
{
    if (sync_release(&c->sync) == -1)
        die("write(%d, \"1\", 1)", c->sync.write_fd);
}

/*
 * Blocks until the runtime has done its side of the set-up. When the
 * pipe ends instead (EPIPE), the runtime gave up before it was done, and
 * said why: the child leaves without a word of its own.
 */
void
wait_for_parent(struct container *c)
{
    if (sync_wait(&c->sync) == 0)
        return;
    if (errno == EPIPE)
        _exit(EXIT_BOXSTEP);
    die("read(%d, ..., 1)", c->sync.read_fd);
}

/*
 * The container's init must not outlive the runtime: nobody would wait
 * for it. prctl(2) PR_SET_PDEATHSIG asks the kernel for SIGKILL when the
 * parent exits, and init's death ends its whole PID namespace. Any change
 * of credentials clears the setting, so it comes after the last one (step
 * 06 adds one). The runtime may have died just before: then no signal
 * will come, but the pipe shows it, as getppid(2) cannot in a PID 1.
 */
void
setup_death_signal(struct container *c)
{
    int alive;

    must(prctl(PR_SET_PDEATHSIG, SIGKILL), "prctl(PR_SET_PDEATHSIG, SIGKILL)");
    alive = sync_parent_alive(&c->sync);
    if (alive == -1)
        die("poll([{fd=%d, POLLIN}], 1, 0)", c->sync.read_fd);
    if (!alive) {
        fprintf(stderr, "%s: the runtime exited before its container ran\n",
                program_name);
        _exit(EXIT_BOXSTEP);
    }
}

/*
 * A PID namespace's first process is its PID 1, and PID 1 has duties an
 * ordinary COMMAND does not fulfil. Every orphan in the namespace becomes
 * its child, and stays a zombie unless PID 1 reaps it. A signal whose
 * action is the default is dropped for PID 1, sent from inside the
 * namespace or from outside, so SIGTERM would not stop it: only SIGKILL
 * and SIGSTOP from an ancestor namespace always land. A blocked signal is
 * never dropped but waits: this init blocks the signals it forwards and
 * takes them with sigwaitinfo(2). And when PID 1 exits, the kernel kills
 * everything in the namespace.
 * So PID 1 is a minimal init in the runtime, like docker run --init: it
 * forks COMMAND, reaps every child, forwards signals to COMMAND and exits
 * with COMMAND's status.
 */
int
run_init(struct container *c)
{
    pid_t command;

    fflush(NULL); /* or buffered output would be written by both */
    /* fork(2): COMMAND is init's child, PID 2 in the namespace. */
    command = fork();
    if (command == 0) {
        trace_side("command");
        exec_command(c);
    }
    must(command, "fork()");
    init_say_started(c); /* 08: COMMAND runs: --keep keeps its layer */
    return wait_for_exit(command);
}
