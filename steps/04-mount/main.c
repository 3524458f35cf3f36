/* BEGIN STEP TEXT: make check-diffs ignores these lines, up to END.
 *
 * 04-mount: a root filesystem of its own.
 *
 * Adds CLONE_NEWNS. The child gets a copy of the host's mount table, cuts
 * it off from the host's (private propagation), stacks the container's
 * root filesystem on top of /, mounts a /proc, /sys and a minimal /dev of
 * its own into it, then pivot_root(2)s into it and detaches the host's
 * tree: nothing of it stays reachable. Volumes (--volume) bring chosen
 * host directories along, read-only on request.
 */
static const char step_name[] = "04-mount";
static const char step_about[] =
    "This step isolates mounts (the mount namespace, mount_namespaces(7)):\n"
    "the container has its own root filesystem (--rootfs, default: the\n"
    "busybox rootfs built next to this binary, build/rootfs), its own /proc\n"
    "(ps lists only its processes), a read-only /sys, a /dev holding only\n"
    "null zero full random urandom tty, a new devpts, shm and mqueue, and a\n"
    "tmpfs /tmp. Mounts made inside never reach the host, and the host's\n"
    "tree is unreachable: not by .., chroot or /proc/1/root. Hostname (01),\n"
    "IPC (02) and PIDs (03) stay private.\n"
    "Defaults: umask 022; rlimits, oom_score_adj and the terminal are the\n"
    "caller's; there is no /dev/console.\n"
    "Still shared: the network (step 05 isolates it), users (06) and\n"
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
        {"rootfs", 0, OPT_STRING, &o->rootfs, "04", "DIR",
         "the root filesystem (default: build/rootfs)"},
        {"volume", 0, OPT_LIST, &o->volume_specs, "04", "HOST:CONTAINER[:ro]",
         "bring HOST in at CONTAINER; repeatable"},
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
    if (!o->rootfs) /* 04 */
        o->rootfs = default_rootfs();
    parse_rootfs(o->rootfs); /* 04 */
    for (size_t i = 0; i < o->volume_specs.len; i++) /* 04 */
        parse_volume(o->volume_specs.items[i], &o->volumes[i]);
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
    wait_for_parent(c);
    setup_uts(o->hostname);
    setup_mount_propagation();
    setup_root_bind(o->rootfs);
    setup_proc_sys();
    setup_dev();
    setup_volumes(o->volumes, o->volume_specs.len);
    setup_pivot_root();
    setup_tmp_umask();
    setup_death_signal(c);
    return run_init(c);
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
    flags |= CLONE_NEWPID; /* 03: pid_namespaces(7) */
    flags |= CLONE_NEWNS; /* 04: mount_namespaces(7) */
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
    if (sync_open(&ctr.sync) == -1) /* 03 */
        die("pipe2(..., O_CLOEXEC)");
    ctr.pid = clone_child(&ctr);
    parent_release_child(&ctr);
    status = wait_for_exit(ctr.pid);
    cleanup_run();
    return status;
}
