/* BEGIN STEP TEXT: make check-diffs ignores these lines, up to END.
 *
 * 07-cgroup: resources of its own, limited and counted.
 *
 * Adds CLONE_NEWCGROUP, made by the child with unshare(2). The runtime
 * makes the container a cgroup of its own, below "boxstep" at the root
 * of each hierarchy, and writes its limits; the child moves itself into
 * it first thing (on v2, clone3() makes it there), then makes a cgroup
 * namespace, rooted there, and mounts a cgroup filesystem read-only on
 * /sys/fs/cgroup.
 * cgroup v2 when the host offers it, v1 (cgroup-v1.c) otherwise.
 */
static const char step_name[] = "07-cgroup";
static const char step_about[] =
    "This step gives the container a cgroup of its own (cgroups(7)), for\n"
    "the four jobs of cgroups. Limits: --memory (swap off, so the limit is\n"
    "real; over it, the OOM killer ends a task, and boxstep says so),\n"
    "--pids, --cpus. Priority: --cpu-weight (cgroup v2's cpu.weight; on\n"
    "v1, cpu.shares = weight * 1024 / 100) and --io-weight (v2 io.weight;\n"
    "v1 blkio.weight = weight * 5, only under the CFQ or BFQ scheduler).\n"
    "Accounting: --stats prints cpu_usec, memory_peak_bytes, pids_peak and\n"
    "oom_kills at exit, one key=value a line on stderr (pids_peak=unknown\n"
    "where the kernel keeps no peak). Control: --freeze, --thaw and --usage\n"
    "NAME act on a running container by name. Inside, a cgroup namespace\n"
    "(cgroup_namespaces(7)) shows the container's cgroup as / and\n"
    "/sys/fs/cgroup, read-only, its own files. cgroup v2 is used where its\n"
    "root offers memory, pids and cpu; v1 otherwise. Rootless: a cgroup in\n"
    "a v2 subtree delegated to the user (systemd-run --user --scope -p\n"
    "Delegate=yes), or none.\n"
    "Hostname (01), IPC (02), PIDs (03), mounts (04), the network (05) and\n"
    "users (06) stay private. Still shared: the rootfs's files (08).";
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
    parent_release_cgroup, /* 07: its cgroup, thawed and emptied */
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
        {"uidmap", 0, OPT_LIST, &o->uidmap_specs, "06", "CONTAINER:HOST:COUNT",
         "map COUNT uids from HOST on; repeatable (default: a pool range)"},
        {"gidmap", 0, OPT_LIST, &o->gidmap_specs, "06", "CONTAINER:HOST:COUNT",
         "the same for gids (default: as --uidmap)"},
        {"no-idmap", 0, OPT_FLAG, &o->no_idmap, "06", NULL,
         "use the rootfs's shifted copy, not an idmapped mount"},
        {"name", 0, OPT_STRING, &o->name, "07", "NAME",
         "the container's name (default: generated, box-PID)"},
        {"memory", 0, OPT_SIZE, &o->memory, "07", "SIZE",
         "limit its memory to SIZE (K, M or G), swap off"},
        {"pids", 0, OPT_STRING, &o->pids_spec, "07", "N",
         "limit its tasks (processes and threads) to N"},
        {"cpus", 0, OPT_STRING, &o->cpus_spec, "07", "N.N",
         "limit its CPU time to N.N CPUs' worth"},
        {"cpu-weight", 0, OPT_STRING, &o->cpu_weight_spec, "07", "N",
         "its share of contended CPU, 1-10000 (default 100)"},
        {"io-weight", 0, OPT_STRING, &o->io_weight_spec, "07", "N",
         "its share of contended disk time, 1-10000 (default 100)"},
        {"stats", 0, OPT_FLAG, &o->stats, "07", NULL,
         "print what it used at exit, key=value on stderr"},
        {"freeze", 0, OPT_STRING, &o->freeze, "07", "NAME",
         "freeze the running container NAME, then exit"},
        {"thaw", 0, OPT_STRING, &o->thaw, "07", "NAME",
         "thaw the running container NAME, then exit"},
        {"usage", 0, OPT_STRING, &o->usage, "07", "NAME",
         "print what the running container NAME uses now, then exit"},
        {0},
    };
    char err[256];
    int first;

    o->hostname = "box"; /* 01: the default */
    o->memory = NO_MEMORY_LIMIT; /* 07: the default */
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
    parse_rootfs_access(o->rootfs); /* 06 */
    parse_rootfs(o->rootfs); /* 04 */
    for (size_t i = 0; i < o->volume_specs.len; i++) /* 04 */
        parse_volume(o->volume_specs.items[i], &o->volumes[i]);
    parse_network(o); /* 05 */
    parse_cgroup(o); /* 07: before a rootless state directory is made */
    parse_user(o); /* 06 */
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
    join_cgroup(c); /* 07: it moves itself in, before all else */
    wait_for_parent(c);
    setup_user(c); /* 06: root inside, first */
    setup_cgroup_namespace(); /* 07: CLONE_NEWCGROUP, unshare(2) in it */
    setup_mount_namespace(c); /* 06: a copy of the runtime's, locked */
    setup_uts(o->hostname);
    setup_mount_propagation();
    setup_root_bind(c);
    setup_root_readonly(c); /* 06: rootless */
    setup_proc_sys();
    setup_cgroup_mounts(c); /* 07: read-only, on sys/fs/cgroup */
    setup_dev();
    setup_volumes(c);
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
    flags |= CLONE_NEWUSER; /* 06: user_namespaces(7) */
    flags &= ~CLONE_NEWNS; /* but made by the child (06): unshare(2) */
    fflush(NULL); /* or buffered output would be written by both */
    if (c->cgroup_dir != -1) /* 07: v2: made in its cgroup, clone3(2) */
        return clone_into_cgroup(child, flags, c);
    pid = clone(child, child_stack + STACK_SIZE, flags, c);
    if (pid == -1) /* 06: a user namespace needs no root, unless blocked */
        die_hint(userns_blocked_hint(errno), "clone(%s)",
                 clone_flags_str(flags));
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
    if (opts.freeze || opts.thaw || opts.usage) /* 07 */
        return control_cgroup(&opts);
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
    parent_reserve_ids(&ctr); /* 06 */
    parent_make_cgroup(&ctr); /* 07 */
    parent_open_trees(&ctr); /* 06 */
    parent_private_mounts(&opts); /* 06 */
    ctr.pid = clone_child(&ctr);
    parent_close_cgroup_files(&ctr); /* 07: the child joins by its own */
    parent_map_ids(&ctr); /* 06 */
    parent_idmap_rootfs(&ctr); /* 06 */
    parent_attach_trees(&ctr); /* 06 */
    parent_setup_network(&ctr); /* 05 */
    if (state_unlock() == -1) /* 05 */
        die("%s", state_failed_call());
    parent_release_child(&ctr);
    status = wait_for_exit(ctr.pid);
    cleanup_run();
    return status;
}
