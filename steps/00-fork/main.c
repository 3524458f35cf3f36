/* BEGIN STEP TEXT: make check-diffs ignores these lines, up to END.
 *
 * 00-fork: the baseline, a child process that shares everything.
 *
 * It runs COMMAND as a child made with clone(2) and no namespace flag,
 * waits for it and exits with its status. The child sees the host's
 * hostname, IPC objects, processes, mounts, network, users and resources,
 * and changes them for everyone. Each later step is a copy of this file
 * plus one layer of isolation; the tests run the same checks here to
 * show what leaks without it.
 */
static const char step_name[] = "00-fork";
static const char step_about[] =
    "This step isolates nothing. COMMAND is an ordinary child process: it\n"
    "shares the hostname, IPC objects, process IDs, mounts, network, users\n"
    "and resources of the host, and whatever it changes, it changes for\n"
    "everyone. Step 01 gives it a hostname of its own.\n"
    "\n"
    "WARNING: root inside this container is root on the host. Run only\n"
    "commands you would run on the host itself.";
/* END STEP TEXT */

/*
 * main.c: the spine of the step. main() is the runtime's sequence and
 * child() the container's, one call a line, in the order that matters;
 * each layer's code is in its own file (step.h lists them).
 */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "step.h"

/* The child's stack for clone(2), given by its top: it grows down on
 * nearly every port (HP PA-RISC is the exception). */
#define STACK_SIZE (1024 * 1024)
static char child_stack[STACK_SIZE] __attribute__((aligned(16)));

static void
parse_args(struct options *o, int argc, char *argv[])
{
    static char *default_command[] = {"/bin/sh", NULL};
    const struct opt opts[] = {
        {"help", 'h', OPT_FLAG, &o->help, "00", NULL,
         "show this help and exit"},
        {"verbose", 'v', OPT_FLAG, &o->verbose, "00", NULL,
         "trace every kernel call to stderr"},
        {"env", 0, OPT_LIST, &o->env, "00", "NAME=VALUE",
         "add a variable to COMMAND's environment"},
        {0},
    };
    char err[256];
    int first;

    first = parse_options(opts, argc, argv, err, sizeof(err));

    if (first == -1)
        usage_error("%s", err);
    if (o->help) {
        print_help(stdout, opts, step_about);
        exit(0);
    }
    for (size_t i = 0; i < o->env.len; i++)
        if (!strchr(o->env.items[i], '=') || o->env.items[i][0] == '=')
            usage_error("--env %s: not NAME=VALUE", o->env.items[i]);
    trace_enabled = o->verbose;
    o->command = first < argc ? argv + first : default_command;
}

/*
 * The child: what runs inside the container, up to COMMAND. It starts as
 * a copy of the runtime, in the namespaces clone() gave it; what the
 * runtime made on the host is the runtime's to undo, so it forgets that
 * list first.
 */
static int
child(void *arg)
{
    struct container *c = arg;

    trace_side("child");
    cleanup_forget();
    return exec_command(c);
}

/*
 * clone(2) with no namespace flag is fork(2) with a stack of our own: the
 * child gets a copy of the parent's memory and shares every namespace.
 * Each later step adds one flag here.
 */
static pid_t
clone_child(struct container *c)
{
    int flags = SIGCHLD;
    pid_t pid;

    fflush(NULL); /* or buffered output would be written by both */
    pid = clone(child, child_stack + STACK_SIZE, flags, c);
    return must(pid, "clone(%s)", clone_flags_str(flags));
}

/*
 * The runtime, in the order that matters: what the child must know is
 * prepared before clone(), as the child starts with a copy of the
 * runtime's memory; what only the runtime can do, from outside, is done
 * while the child waits on the pipe (from step 03); then the child is
 * released and waited for, and what the runtime made is undone. The
 * calls a step adds carry its number.
 */
int
main(int argc, char *argv[])
{
    /*
     * static, not on the stack: .bss starts zeroed and only the pages
     * written are ever mapped in, whereas a zeroed stack variable is
     * written out whole at every start (struct options grows to 256 KB in
     * step 04, room for 32 --volume paths).
     */
    static struct options opts;
    static struct container ctr;
    int status;

    ctr.opts = &opts;
    program_name = step_name;
    parse_args(&opts, argc, argv);
    parent_close_fds();
    parent_block_signals(&ctr);
    ctr.pid = clone_child(&ctr);
    status = wait_for_exit(ctr.pid);
    cleanup_run();
    return status;
}
