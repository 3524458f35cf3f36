/* BEGIN STEP TEXT: make check-diffs ignores these lines, up to END.
 *
 * 08-overlay: files of its own, copied only when written.
 *
 * The root filesystem becomes an image: read-only layers (--image A:B:C,
 * the top one first) that no container writes. Each container gets a
 * layer of its own, an upper and a work directory, on a tmpfs of its own
 * that goes with it (on the disk, LAYER_DIR/NAME, with --keep), and the
 * child mounts an overlay of them all inside its user namespace as its
 * root; the runtime idmaps each image layer for it first (overlay.c).
 */
static const char step_name[] = "08-overlay";
static const char step_about[] =
    "This step gives the container files of its own (overlayfs): the image\n"
    "(--image A:B:C, A on top; --rootfs DIR is --image DIR) is read-only\n"
    "and shared; what the container writes goes to a layer of its own,\n"
    "copied up from the image only when a file is first changed; a\n"
    "deleted file leaves a whiteout there. That layer is in memory (a\n"
    "tmpfs of its own, counted against --memory) and goes at exit, unless\n"
    "--keep: then it is made on the disk, in /var/lib/boxstep/NAME\n"
    "($XDG_DATA_HOME/boxstep for an ordinary user; BOXSTEP_LAYER_DIR moves\n"
    "it), stays if the container started, its path is printed, and\n"
    "--image PATH:BASE runs a new container on it (a commit). --layers\n"
    "lists the kept layers, --rm-layer NAME removes one, --gc removes what\n"
    "no container claims; none of the three needs an image.\n"
    "An image build/image-import made (--image STORE/images/NAME) brings\n"
    "its environment, command, working directory and user: COMMAND,\n"
    "--env, --workdir and --user override them.\n"
    "Hostname (01), IPC (02), PIDs (03), mounts (04), the network (05),\n"
    "users (06) and resources (07) stay private.";
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
        {"image", 0, OPT_STRING, &o->image, "08", "DIR[:DIR...]",
         "the image's layers, top first (default: build/rootfs)"},
        {"keep", 0, OPT_FLAG, &o->keep, "08", NULL,
         "keep the container's layer at exit, and print its path"},
        {"layers", 0, OPT_FLAG, &o->list_layers, "08", NULL,
         "list the kept layers, then exit"},
        {"rm-layer", 0, OPT_STRING, &o->rm_layer, "08", "NAME",
         "remove the kept layer NAME, then exit"},
        {"workdir", 0, OPT_STRING, &o->workdir, "08", "DIR",
         "COMMAND's working directory (default: the image's, or /)"},
        {"user", 0, OPT_STRING, &o->user, "08", "USER[:GROUP]",
         "run COMMAND as USER: a uid, or a name in the image's /etc/passwd"},
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
    o->command_given = first < argc; /* 08: else an image's cmd */
    if (o->gc || o->list_layers || o->rm_layer) { /* 08: no image read */
        parse_layer_dir();
        o->rootless = geteuid() != 0; /* 06: its own state directory */
        if (o->rootless)
            parse_rootless(o);
        return;
    }
    parse_image(o); /* 08: --image, its base is the rootfs */
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
    setup_overlay(c); /* 08: the image's layers and its own, merged */
    setup_root_bind(c);
    setup_root_readonly(c); /* 06: rootless */
    setup_proc_sys();
    setup_cgroup_mounts(c); /* 07: read-only, on sys/fs/cgroup */
    setup_dev();
    setup_volumes(c);
    setup_pivot_root();
    setup_tmp_umask();
    setup_network(c);
    setup_image_user(c); /* 08: --user, --workdir, or the image's */
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
    if (opts.list_layers || opts.rm_layer) /* 08 */
        return control_layers(&opts);
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
    parent_make_layer(&ctr); /* 08: where its upper and work go */
    parent_open_trees(&ctr); /* 06 */
    parent_private_mounts(&opts); /* 06 */
    ctr.pid = clone_child(&ctr);
    parent_close_cgroup_files(&ctr); /* 07: the child joins by its own */
    parent_close_started(&ctr); /* 08: --keep: the child's end of its pipe */
    parent_map_ids(&ctr); /* 06 */
    parent_idmap_rootfs(&ctr); /* 06 */
    parent_attach_layers(&ctr); /* 08: its tmpfs, the image's, idmapped */
    parent_attach_trees(&ctr); /* 06 */
    parent_setup_network(&ctr); /* 05 */
    if (state_unlock() == -1) /* 05 */
        die("%s", state_failed_call());
    parent_release_child(&ctr);
    status = wait_for_exit(ctr.pid);
    cleanup_run();
    return status;
}
