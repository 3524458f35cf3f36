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

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_link.h>
#include <linux/veth.h>
#include <net/if.h>
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

/* State shared by concurrent runs: one record per running container. */
#define STATE_DIR "/run/boxstep"
/* boxstep's addresses: 10.200.N.0/24 for veth N, 10.200.0.0/24 bridged. */
#define NET_PREFIX 0x0ac80000U /* 10.200.0.0/16 */
#define BRIDGE "boxstep0"

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
    const char *net; /* 05: --net none, veth or bridge */
    const char *ip_spec; /* 05: --ip ADDR/PREFIX */
    bool gc; /* 05: --gc */
    struct in_addr ip; /* 05: the container's address */
    struct in_addr gateway; /* 05: the host end's, or the bridge's */
    int prefix; /* 05: the subnet's prefix length */
    char host_end[IFNAMSIZ]; /* 05: the veth's end on the host */
};

/*
 * This run's record in STATE_DIR (05), and the lock on the directory while
 * it is held. They live here, not in struct args: the exit handler that
 * removes the record runs after main() has returned.
 */
static struct {
    pid_t runtime_pid;
    char path[64];
    bool bridge;
    int lock;
} record = {.lock = -1};

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
 * The record is the runtime's. The child inherited the exit handler that
 * removes it, and is PID 1 of its namespace: if the runtime is PID 1 of
 * its own (run from another container), the handler's check of getpid()
 * could not tell them apart. The child says it owns no record.
 */
static void
setup_not_the_record_owner(void)
{
    record.runtime_pid = 0;
}

/* One rtnetlink(7) request, sent with send(2) and acknowledged. */
static void
netlink(struct nl_request *req, const char *what)
{
    must(nl_send(req), "send(%s)", what);
}

/* A device's index: rtnetlink names devices by number. */
static int
ifindex(const char *name)
{
    int index = if_nametoindex(name); /* ioctl(2) SIOCGIFINDEX */

    return must(index ? index : -1, "if_nametoindex(\"%s\")", name);
}

/* RTM_NEWLINK: ifi_change says which flags change, ifi_flags to what. */
static void
link_up(const char *name)
{
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC,
                            .ifi_index = ifindex(name),
                            .ifi_flags = IFF_UP,
                            .ifi_change = IFF_UP};
    struct nl_request req;
    char what[64];

    nl_start(&req, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
    snprintf(what, sizeof(what), "RTM_NEWLINK %s up", name);
    netlink(&req, what);
}

/* RTM_NEWADDR: an IPv4 address, and with it the route to its subnet. */
static void
add_address(const char *name, struct in_addr addr, int prefix)
{
    struct ifaddrmsg ifa = {.ifa_family = AF_INET,
                            .ifa_prefixlen = prefix,
                            .ifa_index = ifindex(name)};
    struct nl_request req;
    char what[96];

    nl_start(&req, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof(ifa));
    nl_add(&req, IFA_LOCAL, &addr, sizeof(addr));
    nl_add(&req, IFA_ADDRESS, &addr, sizeof(addr));
    snprintf(what, sizeof(what), "RTM_NEWADDR %s/%d dev %s", inet_ntoa(addr),
             prefix, name);
    netlink(&req, what);
}

/* RTM_NEWROUTE: the default route, through the host's end. */
static void
add_default_route(const char *name, struct in_addr gateway)
{
    struct rtmsg rtm = {.rtm_family = AF_INET,
                        .rtm_table = RT_TABLE_MAIN,
                        .rtm_protocol = RTPROT_BOOT,
                        .rtm_scope = RT_SCOPE_UNIVERSE,
                        .rtm_type = RTN_UNICAST};
    int index = ifindex(name);
    struct nl_request req;
    char what[96];

    nl_start(&req, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &rtm, sizeof(rtm));
    nl_add(&req, RTA_GATEWAY, &gateway, sizeof(gateway));
    nl_add(&req, RTA_OIF, &index, sizeof(index));
    snprintf(what, sizeof(what), "RTM_NEWROUTE default via %s dev %s",
             inet_ntoa(gateway), name);
    netlink(&req, what);
}

/*
 * A new network namespace holds one device, lo, and it is down: not even
 * 127.0.0.1 answers until it is up. With a veth, eth0 is already here:
 * the parent created it in this namespace before releasing the child.
 * The child got a copy of the parent's lock on the state directory with
 * clone(); it lets go of it first, or the lock would live as long as init.
 */
static void
setup_network(struct args *a)
{
    if (record.lock != -1)
        must(close(record.lock), "close(%d)", record.lock);
    record.lock = -1;
    link_up("lo");
    if (strcmp(a->net, "none") == 0)
        return;
    add_address("eth0", a->ip, a->prefix);
    link_up("eth0");
    add_default_route("eth0", a->gateway);
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
    setup_not_the_record_owner();
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
    setup_network(a);
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
    flags |= CLONE_NEWNET; /* 05: network_namespaces(7) */
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
 * RTM_NEWLINK with a linkinfo of kind "veth" creates a pair of devices,
 * joined like the two ends of a cable. The peer's own attributes go in
 * VETH_INFO_PEER, and IFLA_NET_NS_PID puts it straight into the child's
 * network namespace, named eth0 there: one request does it all.
 */
static void
create_veth(const char *host_end, pid_t child)
{
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
    struct rtattr *info, *data, *peer;
    struct nl_request req;
    char what[96];

    nl_start(&req, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
    nl_add(&req, IFLA_IFNAME, host_end, strlen(host_end) + 1);
    info = nl_add(&req, IFLA_LINKINFO, NULL, 0);
    nl_add(&req, IFLA_INFO_KIND, "veth", 5);
    data = nl_add(&req, IFLA_INFO_DATA, NULL, 0);
    peer = nl_add(&req, VETH_INFO_PEER, &ifi, sizeof(ifi));
    nl_add(&req, IFLA_IFNAME, "eth0", 5);
    nl_add(&req, IFLA_NET_NS_PID, &child, sizeof(child));
    nl_end(&req, peer);
    nl_end(&req, data);
    nl_end(&req, info);
    snprintf(what, sizeof(what),
             "RTM_NEWLINK %s type veth peer eth0 netns-of-pid %d", host_end,
             (int)child);
    netlink(&req, what);
}

/* RTM_NEWLINK with IFLA_MASTER: plugs a device into a bridge. */
static void
set_master(const char *name, const char *bridge)
{
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC,
                            .ifi_index = ifindex(name)};
    int master = ifindex(bridge);
    struct nl_request req;
    char what[64];

    nl_start(&req, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
    nl_add(&req, IFLA_MASTER, &master, sizeof(master));
    snprintf(what, sizeof(what), "RTM_NEWLINK %s master %s", name, bridge);
    netlink(&req, what);
}

/*
 * RTM_NEWLINK of kind "bridge": a virtual switch. It holds the gateway
 * address, so the host reaches the bridged containers and they it.
 */
static void
create_bridge(struct in_addr gateway)
{
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
    struct rtattr *info;
    struct nl_request req;

    nl_start(&req, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
    nl_add(&req, IFLA_IFNAME, BRIDGE, sizeof(BRIDGE));
    info = nl_add(&req, IFLA_LINKINFO, NULL, 0);
    nl_add(&req, IFLA_INFO_KIND, "bridge", 7);
    nl_end(&req, info);
    netlink(&req, "RTM_NEWLINK " BRIDGE " type bridge");
    add_address(BRIDGE, gateway, 24);
    link_up(BRIDGE);
}

/* RTM_DELLINK: the bridge goes, with the last run that used it. */
static void
delete_bridge(void)
{
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC,
                            .ifi_index = ifindex(BRIDGE)};
    struct nl_request req;

    nl_start(&req, RTM_DELLINK, 0, &ifi, sizeof(ifi));
    netlink(&req, "RTM_DELLINK " BRIDGE);
}

/*
 * Whether addr/prefix overlaps a route of the host's main table, the one
 * `ip route` lists, read from /proc/net/route (proc(5)); routes through
 * the device `except` do not count. Two subnets overlap when they agree
 * on the bits of the shorter prefix. The default route (mask 0) would
 * overlap everything, and is what the container's traffic may use.
 */
static bool
route_overlaps(struct in_addr addr, int prefix, const char *except)
{
    uint32_t want = prefix ? ~0U << (32 - prefix) : 0, dst, mask;
    char line[256], dev[IFNAMSIZ + 1];
    bool overlap = false;
    FILE *f = fopen("/proc/net/route", "re");

    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "%16s %x %*x %*x %*d %*d %*d %x", dev, &dst, &mask) ==
                3 &&
            mask && strcmp(dev, except)) {
            uint32_t both = ntohl(mask) & want;

            overlap |= (ntohl(dst) & both) == (ntohl(addr.s_addr) & both);
        }
    if (f)
        fclose(f);
    return overlap;
}

/* The inode of a PID namespace: what tells two of them apart. */
static unsigned long
pid_namespace(void)
{
    struct stat st;

    return stat("/proc/self/ns/pid", &st) == 0 ? st.st_ino : 0;
}

/*
 * Whether a record's runtime still runs: its PID must name a process that
 * started at the recorded time. A runtime that was SIGKILLed left its
 * record behind; its container died with it, and the kernel removed the
 * veth pair with the namespace, so the record is all that is left. A PID
 * means something only in its PID namespace: a record made in another one
 * (which shares /run with this one) cannot be judged, and counts as live.
 */
static bool
record_is_live(const char *name, char *net, char *ip)
{
    char path[PATH_MAX];
    unsigned long long start, now;
    unsigned long pidns;
    bool ok;
    FILE *f;

    snprintf(path, sizeof(path), STATE_DIR "/%s", name);
    f = fopen(path, "re");
    ok = f && fscanf(f, "start=%llu pidns=%lu net=%15s ip=%15s", &start, &pidns,
                     net, ip) == 4;
    if (f)
        fclose(f);
    if (ok && pidns != pid_namespace())
        return true;
    return ok && process_start_time(atoi(name), &now) == 0 && now == start;
}

/*
 * Deletes the stale records, and notes the bridge addresses the live ones
 * use. Returns how many live runs use the bridge.
 */
static int
forget_stale_records(bool bridge_used[256])
{
    char net[16], ip[16];
    struct dirent *e;
    int users = 0;
    DIR *dir = opendir(STATE_DIR);

    while (dir && (e = readdir(dir))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        if (!record_is_live(e->d_name, net, ip)) {
            /* unlinkat(2) */
            must(unlinkat(dirfd(dir), e->d_name, 0), "unlinkat(\"%s\")",
                 e->d_name);
        } else if (strcmp(net, "bridge") == 0) {
            users++;
            bridge_used[ntohl(inet_addr(ip)) & 0xff] = true;
        }
    }
    if (dir)
        closedir(dir);
    return users;
}

/*
 * Locks the state directory: concurrent runs take turns to read the
 * records, pick an address, and write their own. The last run out removes
 * the directory (unlock_state()), so it may vanish between mkdir(2) and
 * open(2): then it is made again.
 */
static int
lock_state(void)
{
    int lock;

    do {
        if (mkdir(STATE_DIR, 0700) == -1 && errno != EEXIST)
            die("mkdir(\"" STATE_DIR "\", 0700)");
        lock = open_locked(STATE_DIR "/lock");
    } while (lock == -1 && errno == ENOENT);
    return must(lock, "open_locked(\"" STATE_DIR "/lock\")");
}

/*
 * Unlocks the state directory, removing it when no record is left: no
 * state outlives the last container. A run waiting for the lock notices
 * the file is gone and makes a new one (open_locked()).
 */
static void
unlock_state(int lock)
{
    int ret;

    must(unlink(STATE_DIR "/lock"), "unlink(\"" STATE_DIR "/lock\")");
    /* rmdir(2) fails with ENOTEMPTY while other runs have records. */
    ret = trace_call(rmdir(STATE_DIR), "rmdir(\"" STATE_DIR "\")");
    if (ret == -1 && errno != ENOTEMPTY)
        die("rmdir(\"" STATE_DIR "\")");
    must(close(lock), "close(%d)", lock);
}

/*
 * The first free veth subnet 10.200.N.0/24, N from 1 to 254, free when no
 * host route overlaps it; or the first bridge address 10.200.0.2-254 that
 * no live record holds (.1 is the bridge's, .0 and .255 are not hosts').
 */
static void
choose_address(struct args *a, const bool bridge_used[256])
{
    bool bridge = strcmp(a->net, "bridge") == 0;

    for (uint32_t n = bridge ? 2 : 1; n < 255 && !a->ip.s_addr; n++) {
        struct in_addr subnet = {htonl(NET_PREFIX | n << 8)};

        if (bridge && !bridge_used[n])
            a->ip.s_addr = htonl(NET_PREFIX | n);
        else if (!bridge && !route_overlaps(subnet, 24, ""))
            a->ip.s_addr = htonl(NET_PREFIX | n << 8 | 2);
    }
    if (!a->ip.s_addr) {
        errno = EADDRNOTAVAIL;
        die_hint(bridge ? "254 bridged containers run already"
                        : "the host's routes cover 10.200.0.0/16: pick an "
                          "address with --ip",
                 "choosing an address for --net %s", a->net);
    }
    a->prefix = 24;
}

/*
 * The gateway is the bridge's address, or in veth mode the first other
 * address of the container's subnet. An address another bridged container
 * holds is taken; and the subnet must not overlap a route of the host's,
 * except the bridge's own.
 */
static void
check_address(struct args *a, const bool bridge_used[256])
{
    uint32_t net = ntohl(a->ip.s_addr) & ~0U << (32 - a->prefix);
    bool bridge = strcmp(a->net, "bridge") == 0;

    a->gateway.s_addr = htonl(bridge ? NET_PREFIX | 1 : net | 1);
    if (a->gateway.s_addr == a->ip.s_addr)
        a->gateway.s_addr = htonl(net | 2);
    if (bridge && bridge_used[ntohl(a->ip.s_addr) & 0xff]) {
        errno = EADDRINUSE;
        die_hint("another bridged container has it: pick another --ip",
                 "--ip %s/%d", inet_ntoa(a->ip), a->prefix);
    }
    if (route_overlaps(a->ip, a->prefix, bridge ? BRIDGE : "")) {
        errno = EADDRINUSE;
        die_hint("the host already routes that subnet: pick another --ip",
                 "--ip %s/%d", inet_ntoa(a->ip), a->prefix);
    }
}

/*
 * When the runtime exits, by returning from main() or through die(): its
 * record goes, and the bridge with the last run that used it. A signal
 * that kills it (SIGKILL, or one it does not catch) skips exit handlers:
 * the next run, or --gc, finds that record stale. The child has this
 * handler too (clone() copied it), and must leave the record alone.
 */
static void
remove_record(void)
{
    bool used[256] = {false};

    if (getpid() != record.runtime_pid)
        return;
    if (record.lock == -1)
        record.lock = lock_state();
    if (record.path[0])
        trace_call(unlink(record.path), "unlink(\"%s\")", record.path);
    if (forget_stale_records(used) == 0 && record.bridge &&
        if_nametoindex(BRIDGE))
        delete_bridge();
    unlock_state(record.lock);
}

/* This run's record: its PID and start time, network mode and address. */
static void
write_record(struct args *a)
{
    unsigned long long start;
    FILE *f;

    must(process_start_time(record.runtime_pid, &start),
         "process_start_time(%d)", record.runtime_pid);
    snprintf(record.path, sizeof(record.path), STATE_DIR "/%d",
             record.runtime_pid);
    if (!(f = fopen(record.path, "wxe")))
        die("open(\"%s\", O_WRONLY|O_CREAT|O_EXCL)", record.path);
    fprintf(f, "start=%llu pidns=%lu net=%s ip=%s\n", start, pid_namespace(),
            a->net, inet_ntoa(a->ip));
    if (fclose(f) == EOF)
        die("write(\"%s\")", record.path);
    trace("fopen(\"%s\", \"wx\"): start=%llu net=%s ip=%s", record.path, start,
          a->net, inet_ntoa(a->ip));
}

/*
 * Before clone(), with the state locked: stale records go, an address is
 * chosen and recorded, and the bridge is made on first use. The lock is
 * held until the host end exists (parent_setup_network()), so that a
 * concurrent run sees this one's route and record.
 */
static void
parent_reserve_network(struct args *a)
{
    bool bridge_used[256] = {false};

    if (strcmp(a->net, "none") == 0)
        return;
    record.lock = lock_state();
    record.runtime_pid = getpid();
    record.bridge = strcmp(a->net, "bridge") == 0;
    /* atexit(3): from here on, every exit removes what this run made. */
    atexit(remove_record);
    forget_stale_records(bridge_used);
    if (!a->ip.s_addr)
        choose_address(a, bridge_used);
    check_address(a, bridge_used);
    write_record(a);
    /* A bridge that a killed runtime left, with no user now, is reused. */
    if (strcmp(a->net, "bridge") == 0 && !if_nametoindex(BRIDGE))
        create_bridge(a->gateway);
    snprintf(a->host_end, sizeof(a->host_end), "bx%d", (int)getpid());
}

/*
 * After clone(): the veth pair, the host's end plugged into the bridge or
 * given the gateway address, and up. The kernel removes the pair when the
 * container's namespace goes: the runtime need not, and does not wait.
 */
static void
parent_setup_network(struct args *a, pid_t child)
{
    if (strcmp(a->net, "none") == 0)
        return;
    create_veth(a->host_end, child);
    if (strcmp(a->net, "bridge") == 0)
        set_master(a->host_end, BRIDGE);
    else
        add_address(a->host_end, a->gateway, a->prefix);
    link_up(a->host_end);
    must(close(record.lock), "close(%d)", record.lock);
    record.lock = -1;
}

/* --gc: what killed runtimes left, records and an unused bridge, goes. */
static int
parent_collect_garbage(void)
{
    bool used[256] = {false};
    int lock = lock_state();

    if (forget_stale_records(used) == 0 && if_nametoindex(BRIDGE))
        delete_bridge();
    unlock_state(lock);
    return 0;
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

/*
 * --ip ADDR/PREFIX: a host address of its subnet (not the subnet's first,
 * its network, nor its last, its broadcast), and for --net bridge one of
 * 10.200.0.2-254 (.1 is the bridge's).
 */
static void
parse_ip(struct args *a)
{
    const char *slash = strchr(a->ip_spec, '/');
    char addr[INET_ADDRSTRLEN], *end;
    long prefix = slash ? strtol(slash + 1, &end, 10) : 0;
    uint32_t host;

    if (!slash || slash - a->ip_spec >= INET_ADDRSTRLEN || *end || prefix < 8 ||
        prefix > 30)
        usage_error("--ip %s: not ADDR/PREFIX, PREFIX 8 to 30", a->ip_spec);
    snprintf(addr, sizeof(addr), "%.*s", (int)(slash - a->ip_spec), a->ip_spec);
    if (inet_pton(AF_INET, addr, &a->ip) != 1)
        usage_error("--ip %s: %s is not an IPv4 address", a->ip_spec, addr);
    a->prefix = prefix;
    host = ntohl(a->ip.s_addr) & ~(~0U << (32 - prefix));
    if (host == 0 || host == ~(~0U << (32 - prefix)))
        usage_error("--ip %s: the subnet's network or broadcast address",
                    a->ip_spec);
    if (strcmp(a->net, "bridge") == 0 &&
        ((ntohl(a->ip.s_addr) & ~0xffU) != NET_PREFIX || prefix != 24 ||
         host == 1))
        usage_error("--ip %s: --net bridge addresses are 10.200.0.2-254/24",
                    a->ip_spec);
}

/* --net and --ip. */
static void
parse_network(struct args *a)
{
    if (!a->net)
        a->net = "veth";
    if (strcmp(a->net, "none") && strcmp(a->net, "veth") &&
        strcmp(a->net, "bridge"))
        usage_error("--net %s: not none, veth or bridge", a->net);
    if (a->ip_spec)
        parse_ip(a);
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
        {"net", 0, OPT_STRING, &a->net, "05", "none|veth|bridge",
         "the container's network (default: veth)"},
        {"ip", 0, OPT_STRING, &a->ip_spec, "05", "ADDR/PREFIX",
         "its address (default: the first free one)"},
        {"gc", 0, OPT_FLAG, &a->gc, "05", NULL,
         "remove what killed runtimes left, then exit"},
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
    parse_network(a); /* 05 */
}

int
main(int argc, char *argv[])
{
    struct args a = {0};
    pid_t child_pid;

    program_name = step_name;
    parse_args(&a, argc, argv);
    if (a.gc) /* 05 */
        return parent_collect_garbage();
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
    parent_reserve_network(&a); /* 05 */
    child_pid = clone_child(&a);
    parent_setup_network(&a, child_pid); /* 05 */
    parent_release_child(&a);
    return wait_for_exit(child_pid);
}
