/* BEGIN STEP TEXT: make check-diffs ignores these lines, up to END.
 *
 * 02-ipc: IPC objects of its own.
 *
 * Adds CLONE_NEWIPC. System V message queues, semaphore sets and shared
 * memory segments are found by a system-wide key; POSIX message queues by
 * name. In a new IPC namespace both tables start empty, and what the
 * container makes there the host cannot find, nor the reverse.
 */
static const char step_name[] = "02-ipc";
static const char step_about[] =
    "This step isolates inter-process communication objects (the IPC\n"
    "namespace, ipc_namespaces(7)): System V message queues, semaphore\n"
    "sets and shared memory segments, and POSIX message queues. Inside, a\n"
    "key or queue name finds only the container's objects. Step 01's\n"
    "hostname stays private. Still shared with the host: process IDs\n"
    "(step 03 isolates them), mounts (04), network (05), users (06) and\n"
    "resources (07).\n"
    "\n"
    "WARNING: root inside this container is root on the host. Run only\n"
    "commands you would run on the host itself.";
/* END STEP TEXT */

/*
 * main.c: the spine of the step. main() is the runtime's sequence and
 * child() the container's, one call a line, in the order that matters;
 * each layer's code is in its own file (step.h lists them).
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
        {"hostname", 0, OPT_STRING, &o->hostname, "01", "NAME",
         "the container's hostname (default: box)"},
        {0},
    };
    char err[256];
    int first;

    o->hostname = "box"; /* 01: the default */
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
    const struct options *o = c->opts;

    trace_side("child");
    cleanup_forget();
    setup_uts(o->hostname);
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

    flags |= CLONE_NEWUTS; /* 01: uts_namespaces(7) */
    flags |= CLONE_NEWIPC; /* 02: ipc_namespaces(7) */
    fflush(NULL); /* or buffered output would be written by both */
    pid = clone(child, child_stack + STACK_SIZE, flags, c);
    if (pid == -1 && errno == EPERM && geteuid() != 0) /* 01 */
        die_hint("creating namespaces needs root: run it with sudo",
                 "clone(%s)", clone_flags_str(flags));
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
