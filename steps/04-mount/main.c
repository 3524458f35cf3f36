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

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "boxstep.h"

/* The child's stack for clone(2), given by its top: it grows down on
 * nearly every port (HP PA-RISC is the exception). */
#define STACK_SIZE (1024 * 1024)
static char child_stack[STACK_SIZE] __attribute__((aligned(16)));

/* The PATH COMMAND is looked up in, whatever the caller's was. */
#define CONTAINER_PATH \
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* A host directory or file brought into the container: --volume. */
struct volume {
    char host[PATH_MAX];
    char container[PATH_MAX];
    bool read_only;
    int tree_fd; /* the detached copy open_tree(2) made of it */
};

struct args {
    bool help;
    bool verbose;
    const char *hostname; /* 01: --hostname */
    struct str_list env; /* --env NAME=VALUE, added to COMMAND's */
    char **command; /* COMMAND and its arguments */
    sigset_t saved_mask; /* the caller's signal mask, for COMMAND */
    struct sync_pipe sync; /* 03: the runtime releases the child */
    const char *rootfs; /* 04: --rootfs */
    int rootfs_fd; /* 04: the detached copy of it */
    struct str_list volume_specs; /* 04: --volume, as given */
    struct volume volumes[OPT_LIST_MAX]; /* 04: parsed */
};

/* The signals the runtime passes on to the container. */
static const int forwarded_signals[] = {SIGHUP,  SIGINT,  SIGQUIT,
                                        SIGTERM, SIGUSR1, SIGUSR2};

static void
runtime_signal_set(sigset_t *set)
{
    sigemptyset(set);
    for (size_t i = 0; i < ARRAY_SIZE(forwarded_signals); i++)
        sigaddset(set, forwarded_signals[i]);
    sigaddset(set, SIGCHLD);
}

/*
 * Reaps every child that has exited; returns pid's exit status once pid
 * is among them, or -1 while it still runs. The runtime has one child,
 * but from step 03 the container's init runs this loop too, and there
 * orphans of any kind are its children.
 */
static int
reap_children(pid_t pid)
{
    pid_t reaped;
    int status;

    for (;;) {
        /* waitpid(2): WNOHANG, as SIGCHLD also comes when a child stops. */
        reaped = waitpid(-1, &status, WNOHANG);
        if (reaped == -1 && errno == ECHILD)
            return -1;
        must(reaped, "waitpid(-1, {%s}, WNOHANG)",
             reaped > 0 ? wait_status_str(status) : "");
        if (reaped == 0)
            return -1;
        if (reaped == pid)
            return exit_status_of(status);
    }
}

/*
 * Waits until pid exits and returns the status to exit with. Meanwhile a
 * signal sent with kill(1) is passed on to pid. One from the terminal is
 * not: the terminal signalled the whole foreground process group, pid
 * included, which would get it twice.
 */
static int
wait_for_exit(pid_t pid)
{
    sigset_t set;
    siginfo_t info;
    int sig, status;

    runtime_signal_set(&set);
    for (;;) {
        /* sigwaitinfo(2): takes one pending signal of the set, or waits. */
        sig = sigwaitinfo(&set, &info);
        if (sig == -1 && errno == EINTR) {
            /* A stop and a continue (Ctrl-Z, fg) interrupted the wait. */
            trace_call(sig, "sigwaitinfo(%s)", signal_set_str(&set));
            continue;
        }
        if (sig == -1)
            die("sigwaitinfo(%s)", signal_set_str(&set));
        trace("sigwaitinfo(%s) = SIG%s%s", signal_set_str(&set),
              sigabbrev_np(sig),
              sent_by_terminal(&info) ? " (from the terminal)" : "");
        if (sig == SIGCHLD) {
            status = reap_children(pid);
            if (status != -1)
                return status;
        } else if (!sent_by_terminal(&info)) {
            /* kill(2) */
            trace_call(kill(pid, sig), "kill(%d, SIG%s)", pid,
                       sigabbrev_np(sig));
        }
    }
}

/*
 * COMMAND's environment: a small clean one, not the caller's, which could
 * hold anything from SSH_AUTH_SOCK to LD_PRELOAD. HOSTNAME is read back
 * from the kernel, so it is the name COMMAND will see.
 */
static void
setup_environment(struct args *a)
{
    char *term = getenv("TERM") ? strdup(getenv("TERM")) : NULL;
    char hostname[HOST_NAME_MAX + 1] = "";
    int ret = gethostname(hostname, sizeof(hostname)); /* uname(2) */

    trace_call(ret, "gethostname(\"%s\", %zu)", hostname, sizeof(hostname));
    clearenv();
    setenv("PATH", CONTAINER_PATH, 1);
    setenv("HOME", "/root", 1);
    if (term)
        setenv("TERM", term, 1);
    setenv("HOSTNAME", hostname, 1);
    for (size_t i = 0; i < a->env.len; i++)
        putenv((char *)a->env.items[i]);
    free(term);
}

/*
 * The UTS namespace holds the two names uname(2) reports besides the
 * kernel's own: the hostname and the NIS domain name. The child's
 * namespace is a copy of the host's until these calls; from then on only
 * the container sees its names. The domain name is reset to the kernel's
 * "(none)", so the container does not carry the host's.
 */
static void
setup_uts(struct args *a)
{
    /* sethostname(2) */
    must(sethostname(a->hostname, strlen(a->hostname)),
         "sethostname(\"%s\", %zu)", a->hostname, strlen(a->hostname));
    /* setdomainname(2) */
    must(setdomainname("(none)", 6), "setdomainname(\"(none)\", 6)");
}

/* Blocks until the runtime has done its side of the set-up. */
static void
wait_for_parent(struct args *a)
{
    if (sync_wait(&a->sync) == -1)
        die("read(%d, ..., 1)", a->sync.read_fd);
}

/* Replaces the child with COMMAND, or exits 126 or 127. */
__attribute__((noreturn)) static void
exec_command(struct args *a)
{
    /*
     * sigprocmask(2): a blocked signal stays blocked across execve(2), and
     * COMMAND should see the signals the caller let through.
     */
    must(sigprocmask(SIG_SETMASK, &a->saved_mask, NULL),
         "sigprocmask(SIG_SETMASK, %s)", signal_set_str(&a->saved_mask));
    setup_environment(a);
    /*
     * execvp(3) searches PATH, from the environment just set, and calls
     * execve(2), which does not return when it succeeds.
     */
    trace("execvp(\"%s\", %s)", a->command[0], argv_str(a->command));
    execvp(a->command[0], a->command);
    die_exec("execvp(\"%s\")", a->command[0]);
}

/*
 * A new mount namespace starts as a copy of the host's mount table, and on
 * most systemd machines / is a shared mount: the copies stay in the same
 * peer groups, and a mount made inside would appear on the host. Making
 * every mount private first cuts the container out of those groups.
 */
static void
setup_mount_propagation(void)
{
    /* mount(2), mount_namespaces(7) "Shared subtrees" */
    must(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL),
         "mount(NULL, \"/\", NULL, MS_REC|MS_PRIVATE, NULL)");
}

/*
 * The parent's copy of the root filesystem is a detached mount, reachable
 * only through a->rootfs_fd. move_mount(2) attaches it on top of / in the
 * child's namespace, by descriptor: the child never looks the host path
 * up. The child then works inside it, so the next mounts are relative.
 */
static void
setup_root_mount(struct args *a)
{
    must(move_mount(a->rootfs_fd, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH),
         "move_mount(%d, \"\", AT_FDCWD, \"/\", MOVE_MOUNT_F_EMPTY_PATH)",
         a->rootfs_fd);
    /* fchdir(2) */
    must(fchdir(a->rootfs_fd), "fchdir(%d)", a->rootfs_fd);
}

/*
 * A proc filesystem shows the PID namespace of the process that mounts
 * it: this one lists only the container's processes. /sys comes read-only.
 * Both are mounted before pivot_root(2): inside a user namespace (step 06)
 * the kernel allows them only while a full proc and sysfs are visible.
 */
static void
setup_proc_sys(void)
{
    must(mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL),
         "mount(\"proc\", \"proc\", \"proc\", MS_NOSUID|MS_NODEV|MS_NOEXEC, "
         "NULL)");
    must(mount("sysfs", "sys", "sysfs",
               MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL),
         "mount(\"sysfs\", \"sys\", \"sysfs\", "
         "MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL)");
}

/*
 * /dev is a small tmpfs holding only the device nodes a program expects,
 * each a bind mount of the host's node. mknod(2) would do as root, but
 * fails in a user namespace (step 06): bind mounts work in both. The
 * tmpfs itself is nodev, so no node made in it later can be opened.
 */
static void
setup_dev(void)
{
    static const char *const nodes[] = {"null",   "zero",    "full",
                                        "random", "urandom", "tty"};
    char target[32], source[32];

    must(mount("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
               "mode=0755,size=64k"),
         "mount(\"tmpfs\", \"dev\", \"tmpfs\", MS_NOSUID|MS_NODEV|MS_NOEXEC, "
         "\"mode=0755,size=64k\")");
    for (size_t i = 0; i < ARRAY_SIZE(nodes); i++) {
        snprintf(target, sizeof(target), "dev/%s", nodes[i]);
        snprintf(source, sizeof(source), "/dev/%s", nodes[i]);
        /* open(2): a bind mount needs a file to cover. */
        close(must(open(target, O_CREAT | O_WRONLY | O_CLOEXEC, 0666),
                   "open(\"%s\", O_CREAT|O_WRONLY|O_CLOEXEC, 0666)", target));
        must(mount(source, target, NULL, MS_BIND, NULL),
             "mount(\"%s\", \"%s\", NULL, MS_BIND, NULL)", source, target);
    }
}

/*
 * A new devpts instance holds only the container's pseudo-terminals, and
 * /dev/ptmx points into it. POSIX message queues, private since step 02,
 * become visible in /dev/mqueue; /dev/shm is a tmpfs of its own.
 */
static void
setup_dev_pts_shm_mqueue(void)
{
    must(mkdir("dev/pts", 0755), "mkdir(\"dev/pts\", 0755)");
    must(mount("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
               "newinstance,ptmxmode=0666,mode=0620"),
         "mount(\"devpts\", \"dev/pts\", \"devpts\", MS_NOSUID|MS_NOEXEC, "
         "\"newinstance,ptmxmode=0666,mode=0620\")");
    /* symlink(2) */
    must(symlink("pts/ptmx", "dev/ptmx"),
         "symlink(\"pts/ptmx\", \"dev/ptmx\")");
    must(mkdir("dev/shm", 01777), "mkdir(\"dev/shm\", 01777)");
    must(mount("shm", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"),
         "mount(\"shm\", \"dev/shm\", \"tmpfs\", MS_NOSUID|MS_NODEV, "
         "\"mode=1777\")");
    must(mkdir("dev/mqueue", 0755), "mkdir(\"dev/mqueue\", 0755)");
    must(mount("mqueue", "dev/mqueue", "mqueue",
               MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL),
         "mount(\"mqueue\", \"dev/mqueue\", \"mqueue\", "
         "MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL)");
}

/* The links programs expect: /dev/fd and the three standard streams. */
static void
setup_dev_links(void)
{
    static const char *const links[][2] = {{"/proc/self/fd", "dev/fd"},
                                           {"/proc/self/fd/0", "dev/stdin"},
                                           {"/proc/self/fd/1", "dev/stdout"},
                                           {"/proc/self/fd/2", "dev/stderr"}};

    for (size_t i = 0; i < ARRAY_SIZE(links); i++)
        must(symlink(links[i][0], links[i][1]), "symlink(\"%s\", \"%s\")",
             links[i][0], links[i][1]);
}

/*
 * Each volume's detached copy is attached at its place in the new root,
 * made first when missing: a directory for a directory, an empty file for
 * a file. Read-only volumes were made read-only by the parent already.
 */
static void
setup_volumes(struct args *a)
{
    char target[PATH_MAX + 1];
    struct stat st;

    for (size_t i = 0; i < a->volume_specs.len; i++) {
        struct volume *v = &a->volumes[i];

        snprintf(target, sizeof(target), ".%s", v->container);
        must(fstat(v->tree_fd, &st), "fstat(%d)", v->tree_fd);
        must(mkdir_parents(target, 0755), "mkdir_parents(\"%s\", 0755)",
             target);
        if (S_ISDIR(st.st_mode) && mkdir(target, 0755) == -1 && errno != EEXIST)
            die("mkdir(\"%s\", 0755)", target);
        if (!S_ISDIR(st.st_mode))
            close(must(open(target, O_CREAT | O_WRONLY | O_CLOEXEC, 0644),
                       "open(\"%s\", O_CREAT|O_WRONLY|O_CLOEXEC, 0644)",
                       target));
        must(move_mount(v->tree_fd, "", AT_FDCWD, target,
                        MOVE_MOUNT_F_EMPTY_PATH),
             "move_mount(%d, \"\", AT_FDCWD, \"%s\", MOVE_MOUNT_F_EMPTY_PATH)",
             v->tree_fd, target);
    }
}

/*
 * pivot_root(".", ".") makes the working directory, the container's root
 * mount, the root of the namespace, and stacks the old root on top of it;
 * umount2(2) with MNT_DETACH then takes the old root away. Unlike
 * chroot(2), nothing of the host's tree is left in the namespace: no ..
 * leads back, and neither does a second chroot or /proc/1/root.
 */
static void
setup_pivot_root(void)
{
    struct stat cwd, root;

    must(pivot_root(".", "."), "pivot_root(\".\", \".\")");
    must(umount2(".", MNT_DETACH), "umount2(\".\", MNT_DETACH)");
    must(chdir("/"), "chdir(\"/\")");
    if (stat(".", &cwd) == -1 || stat("/", &root) == -1 ||
        cwd.st_dev != root.st_dev || cwd.st_ino != root.st_ino) {
        errno = EXDEV;
        die("the working directory is outside the new root");
    }
}

/* A /tmp of the container's own; and files it makes are not group-written. */
static void
setup_tmp_umask(void)
{
    must(mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"),
         "mount(\"tmpfs\", \"/tmp\", \"tmpfs\", MS_NOSUID|MS_NODEV, "
         "\"mode=1777\")");
    /* umask(2) */
    trace("umask(022) = 0%o", umask(022));
}

/*
 * The container's init must not outlive the runtime: nobody would wait
 * for it. prctl(2) PR_SET_PDEATHSIG asks the kernel for SIGKILL when the
 * parent exits, and init's death ends its whole PID namespace. Any change
 * of credentials clears the setting, so it comes after the last one (step
 * 06 adds one). The runtime may have died just before: then no signal
 * will come, but the pipe shows it, as getppid(2) cannot in a PID 1.
 */
static void
setup_death_signal(struct args *a)
{
    int alive;

    must(prctl(PR_SET_PDEATHSIG, SIGKILL), "prctl(PR_SET_PDEATHSIG, SIGKILL)");
    alive = sync_parent_alive(&a->sync);
    if (alive == -1)
        die("poll([{fd=%d, POLLIN}], 1, 0)", a->sync.read_fd);
    if (!alive) {
        fprintf(stderr, "%s: the runtime exited before its container ran\n",
                program_name);
        _exit(EXIT_BOXSTEP);
    }
}

/*
 * A PID namespace's first process is its PID 1, and PID 1 has duties an
 * ordinary COMMAND does not fulfil. Every orphan in the namespace becomes
 * its child, and stays a zombie unless PID 1 reaps it. The kernel gives
 * PID 1 no signal it has no handler for, so SIGTERM would not stop it.
 * And when PID 1 exits, the kernel kills everything in the namespace.
 * So PID 1 is a minimal init in the runtime, like docker run --init: it
 * forks COMMAND, reaps every child, forwards signals to COMMAND and exits
 * with COMMAND's status.
 */
static int
run_init(struct args *a)
{
    pid_t command;

    fflush(NULL); /* or buffered output would be written by both */
    /* fork(2): COMMAND is init's child, PID 2 in the namespace. */
    command = fork();
    if (command == 0) {
        trace_side("command");
        exec_command(a);
    }
    must(command, "fork()");
    return wait_for_exit(command);
}

/* The child: what runs inside the container, up to COMMAND. */
static int
child(void *arg)
{
    struct args *a = arg;

    trace_side("child");
    wait_for_parent(a);
    setup_uts(a);
    setup_mount_propagation();
    setup_root_mount(a);
    setup_proc_sys();
    setup_dev();
    setup_dev_pts_shm_mqueue();
    setup_dev_links();
    setup_volumes(a);
    setup_pivot_root();
    setup_tmp_umask();
    setup_death_signal(a);
    return run_init(a);
}

/*
 * clone(2) with no namespace flag is fork(2) with a stack of our own: the
 * child gets a copy of the parent's memory and shares every namespace.
 * Each later step adds one flag here.
 */
static pid_t
clone_child(struct args *a)
{
    int flags = SIGCHLD;
    pid_t pid;

    flags |= CLONE_NEWUTS; /* 01: uts_namespaces(7) */
    flags |= CLONE_NEWIPC; /* 02: ipc_namespaces(7) */
    flags |= CLONE_NEWPID; /* 03: pid_namespaces(7) */
    flags |= CLONE_NEWNS; /* 04: mount_namespaces(7) */
    fflush(NULL); /* or buffered output would be written by both */
    pid = clone(child, child_stack + STACK_SIZE, flags, a);
    return must(pid, "clone(%s)", clone_flags_str(flags));
}

/*
 * open_tree(2) with OPEN_TREE_CLONE copies the mount tree at path, with
 * its submounts (AT_RECURSIVE), into a new detached mount, reachable only
 * through the descriptor. The parent makes these copies as host root:
 * from step 06 the child is the container's root, which may not even be
 * allowed to look a host path up. The child inherits the descriptors
 * through clone() and attaches the copies in its own namespace.
 */
static int
parent_open_tree(const char *path, bool want_dir, const char *what,
                 const char *hint)
{
    struct mount_attr private_tree = {.propagation = MS_PRIVATE};
    struct stat st;
    int fd;

    /* stat(2): a clear error for a missing path, before the kernel's. */
    if (stat(path, &st) == -1)
        die_hint(hint, "stat(\"%s\") for %s", path, what);
    if (want_dir && !S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        die_hint(hint, "stat(\"%s\") for %s", path, what);
    }
    fd = must(open_tree(AT_FDCWD, path,
                        OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE),
              "open_tree(AT_FDCWD, \"%s\", "
              "OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC|AT_RECURSIVE)",
              path);
    /*
     * mount_setattr(2): a copy keeps its source's propagation, and the
     * copy of a shared mount (all of / on a systemd machine) joins the
     * host's peer group: mounts made under it in the container would
     * appear on the host, and pivot_root(2) refuses a shared new root.
     * The child's MS_PRIVATE does not reach copies not yet attached.
     */
    must(mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &private_tree,
                       sizeof(private_tree)),
         "mount_setattr(%d, \"\", AT_EMPTY_PATH|AT_RECURSIVE, "
         "{.propagation = MS_PRIVATE})",
         fd);
    return fd;
}

/*
 * The copies of the root filesystem and of each volume. A read-only
 * volume is made so by mount_setattr(2) on its copy, with AT_RECURSIVE
 * for its submounts too: a plain MS_RDONLY remount would leave them
 * writable, and would fail inside a user namespace (step 06).
 */
static void
parent_open_mounts(struct args *a)
{
    struct mount_attr read_only = {.attr_set = MOUNT_ATTR_RDONLY};

    a->rootfs_fd = parent_open_tree(a->rootfs, true, "--rootfs",
                                    "build the default one with 'make "
                                    "rootfs', or give --rootfs DIR");
    for (size_t i = 0; i < a->volume_specs.len; i++) {
        struct volume *v = &a->volumes[i];

        v->tree_fd = parent_open_tree(v->host, false, "--volume",
                                      "a volume's HOST path must exist");
        if (v->read_only)
            must(mount_setattr(v->tree_fd, "", AT_EMPTY_PATH | AT_RECURSIVE,
                               &read_only, sizeof(read_only)),
                 "mount_setattr(%d, \"\", AT_EMPTY_PATH|AT_RECURSIVE, "
                 "{MOUNT_ATTR_RDONLY})",
                 v->tree_fd);
    }
}

/*
 * The runtime's side of the set-up is done (later steps add to it): the
 * child may go on. The write end of the pipe stays open until the runtime
 * exits, so that init can tell whether it is still there.
 */
static void
parent_release_child(struct args *a)
{
    if (sync_release(&a->sync) == -1)
        die("write(%d, \"1\", 1)", a->sync.write_fd);
}

/*
 * Blocks the forwarded signals and SIGCHLD before clone(): the runtime
 * takes them one by one in wait_for_exit() instead of dying of them, and
 * none is lost between clone() and the wait.
 */
static void
block_signals(struct args *a)
{
    sigset_t set;

    runtime_signal_set(&set);
    /* sigprocmask(2) */
    must(sigprocmask(SIG_BLOCK, &set, &a->saved_mask),
         "sigprocmask(SIG_BLOCK, %s)", signal_set_str(&set));
}

/*
 * The default root filesystem is the one make rootfs builds next to the
 * step binaries, build/rootfs, found from /proc/self/exe: the user need
 * not name it, wherever the repository is.
 */
static const char *
default_rootfs(void)
{
    static char path[PATH_MAX];
    char *slash;
    ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 8);

    if (n <= 0 || !(slash = memrchr(path, '/', n)))
        return "rootfs";
    strcpy(slash + 1, "rootfs");
    return path;
}

/* HOST:CONTAINER[:ro], as docker -v takes it. */
static void
parse_volume(const char *spec, struct volume *v)
{
    const char *colon = strchr(spec, ':');
    const char *mode = colon ? strchr(colon + 1, ':') : NULL;
    size_t host_len = colon ? (size_t)(colon - spec) : 0;
    size_t len = mode    ? (size_t)(mode - colon - 1)
                 : colon ? strlen(colon + 1)
                         : 0;

    if (!colon || host_len == 0 || host_len >= PATH_MAX || len >= PATH_MAX)
        usage_error("--volume %s: not HOST:CONTAINER[:ro]", spec);
    if (mode && strcmp(mode, ":ro") != 0 && strcmp(mode, ":rw") != 0)
        usage_error("--volume %s: the mode is ro or rw, not %s", spec,
                    mode + 1);
    snprintf(v->host, sizeof(v->host), "%.*s", (int)host_len, spec);
    snprintf(v->container, sizeof(v->container), "%.*s", (int)len, colon + 1);
    if (v->container[0] != '/' || strcmp(v->container, "/") == 0)
        usage_error("--volume %s: CONTAINER must be an absolute path below /",
                    spec);
    v->read_only = mode && strcmp(mode, ":ro") == 0;
}

static void
parse_args(struct args *a, int argc, char *argv[])
{
    static char *default_command[] = {"/bin/sh", NULL};
    const struct opt opts[] = {
        {"help", 'h', OPT_FLAG, &a->help, "00", NULL,
         "show this help and exit"},
        {"verbose", 'v', OPT_FLAG, &a->verbose, "00", NULL,
         "trace every kernel call to stderr"},
        {"env", 0, OPT_LIST, &a->env, "00", "NAME=VALUE",
         "add a variable to COMMAND's environment"},
        {"hostname", 0, OPT_STRING, &a->hostname, "01", "NAME",
         "the container's hostname (default: box)"},
        {"rootfs", 0, OPT_STRING, &a->rootfs, "04", "DIR",
         "the root filesystem (default: build/rootfs)"},
        {"volume", 0, OPT_LIST, &a->volume_specs, "04", "HOST:CONTAINER[:ro]",
         "bring HOST in at CONTAINER; repeatable"},
        {0},
    };
    char err[256];
    int first;

    a->hostname = "box"; /* 01: the default */
    first = parse_options(opts, argc, argv, err, sizeof(err));

    if (first == -1)
        usage_error("%s", err);
    if (a->help) {
        print_help(stdout, opts, step_about);
        exit(0);
    }
    for (size_t i = 0; i < a->env.len; i++)
        if (!strchr(a->env.items[i], '=') || a->env.items[i][0] == '=')
            usage_error("--env %s: not NAME=VALUE", a->env.items[i]);
    trace_enabled = a->verbose;
    a->command = first < argc ? argv + first : default_command;
    if (!a->rootfs) /* 04 */
        a->rootfs = default_rootfs();
    for (size_t i = 0; i < a->volume_specs.len; i++) /* 04 */
        parse_volume(a->volume_specs.items[i], &a->volumes[i]);
}

int
main(int argc, char *argv[])
{
    struct args a = {0};
    pid_t child_pid;

    program_name = step_name;
    parse_args(&a, argc, argv);
    /*
     * close_range(2): a descriptor the caller left open (a socket, a
     * secret file) must not reach COMMAND. Marking every one above stderr
     * close-on-exec closes them in COMMAND and leaves them to the runtime.
     */
    must(close_range(3, ~0U, CLOSE_RANGE_CLOEXEC),
         "close_range(3, ~0U, CLOSE_RANGE_CLOEXEC)");
    block_signals(&a);
    if (sync_open(&a.sync) == -1) /* 03 */
        die("pipe2(..., O_CLOEXEC)");
    parent_open_mounts(&a); /* 04 */
    child_pid = clone_child(&a);
    parent_release_child(&a);
    return wait_for_exit(child_pid);
}
