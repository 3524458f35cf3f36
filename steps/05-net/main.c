/* BEGIN STEP TEXT: make check-diffs ignores these lines, up to END.
 *
 * 05-net: a network stack of its own.
 *
 * Adds CLONE_NEWNET. The child starts in a new network namespace with
 * only a loopback device, down. The parent creates a veth pair, one end
 * in each namespace, and the two sides give their ends an address; the
 * container's default route goes through the host's end. With --net
 * bridge the host ends join one bridge, so containers reach each other.
 * What concurrent runs share (addresses, the bridge) is recorded in a
 * locked state directory, /run/boxstep.
 */
static const char step_name[] = "05-net";
static const char step_about[] =
    "This step isolates the network (the network namespace,\n"
    "network_namespaces(7)): devices, addresses, routes, firewall rules,\n"
    "sockets, abstract unix sockets and /proc/net are the container's own.\n"
    "--net veth (the default): an eth0 whose peer stays on the host; the\n"
    "container gets 10.200.N.2/24 and the host end 10.200.N.1, N the first\n"
    "free of 1-254. --net bridge: host ends join the bridge boxstep0\n"
    "(10.200.0.1/24), and containers get 10.200.0.2-254 and reach each\n"
    "other. --net none: loopback only. --ip ADDR/PREFIX picks the address.\n"
    "The range must not overlap the host's routes: a clash is an error.\n"
    "Running containers are recorded in /run/boxstep; --gc removes what a\n"
    "killed runtime left there. Hostname (01), IPC (02), PIDs (03) and\n"
    "mounts (04) stay private. Still shared: users (06) and resources (07).\n"
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

/*
 * What a container can leave behind on the host when its runtime is
 * killed, and the layer's function that releases it. The next run, or
 * --gc, calls them for each container whose runtime is gone; a runtime
 * calls them for its own container when it exits.
 */
static state_release_fn *const releases[] = {
    parent_release_network, /* 05: the bridge, once its last user is gone */
    NULL,
};

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
        {"net", 0, OPT_STRING, &o->net_name, "05", "none|veth|bridge",
         "the container's network (default: veth)"},
        {"ip", 0, OPT_STRING, &o->ip_spec, "05", "ADDR/PREFIX",
         "its address (default: the first free one)"},
        {"gc", 0, OPT_FLAG, &o->gc, "05", NULL,
         "remove what killed runtimes left, then exit"},
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
    parse_network(o); /* 05 */
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
    setup_network(c);
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
    flags |= CLONE_NEWNET; /* 05: network_namespaces(7) */
    fflush(NULL); /* or buffered output would be written by both */
    pid = clone(child, child_stack + STACK_SIZE, flags, c);
    if (pid == -1 && errno == EPERM && geteuid() != 0) /* 01 */
        die_hint("creating namespaces needs root: run it with sudo",
                 "clone(%s)", clone_flags_str(flags));
    return must(pid, "clone(%s)", clone_flags_str(flags));
}

/* --gc (05): what runtimes killed with SIGKILL left goes; then exit. */
static int
collect_garbage(void)
{
    if (state_collect_garbage(releases) == -1)
        die("%s", state_failed_call());
    return 0;
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
    if (opts.gc) /* 05 */
        return collect_garbage();
    parent_close_fds();
    parent_block_signals(&ctr);
    if (sync_open(&ctr.sync) == -1) /* 03 */
        die("pipe2(..., O_CLOEXEC)");
    if (state_open_record(releases) == -1) /* 05 */
        die_hint(geteuid() ? "the state directory is root's: run it with "
                             "sudo"
                           : NULL,
                 "%s", state_failed_call());
    parent_reserve_network(&ctr); /* 05 */
    ctr.pid = clone_child(&ctr);
    parent_setup_network(&ctr); /* 05 */
    if (state_unlock() == -1) /* 05 */
        die("%s", state_failed_call());
    parent_release_child(&ctr);
    status = wait_for_exit(ctr.pid);
    cleanup_run();
    return status;
}
