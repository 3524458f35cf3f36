/*
 * tools/bench-syscalls.c: times the bare system calls of the layers that
 * are not just a namespace, for make bench (tools/bench.sh).
 *
 *   bench-syscalls ROOTFS SCRATCH CGROUP-PARENT RUNS
 *
 * A step's figure in the bench is all it does; what unshare(1) adds for
 * the same flags is the kernel's share of a namespace. Mounts, cgroups
 * and overlay have no unshare to compare with: here are their calls,
 * done the shortest way with nothing around them, so a step's cost can
 * be read against them. Three namespace layers do more than unshare(1)
 * does, and get their bare calls too: step 03's PID 1 forks its command,
 * step 05 brings the loopback up, and step 06 maps 65536 ids and idmaps
 * the rootfs. Each scenario runs RUNS times,
 * after a warm-up, as one fork(2) (or clone(2) into the scenario's new
 * namespace) of a child that does the scenario's work and exits, timed
 * from before the fork to after waitpid(2) (the work a namespace's
 * teardown does at exit counts, as it does for a step). The lines on
 * stdout, one per scenario, tab-separated:
 *
 *   NAME  MEDIAN_MS  MIN_MS  MEDIAN_OVER_FORK_MS  WHAT
 *
 * where MEDIAN_OVER_FORK_MS is the median less the median of "fork" (the
 * child that does nothing).
 *
 * SCRATCH is an empty directory for the overlay's mount points.
 * CGROUP-PARENT is a directory name made at the root of each hierarchy
 * (and removed at the end if this program made it); each run's cgroup is
 * made under it and removed. It never touches any other cgroup.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *rootfs, *scratch, *cg_parent;
static char layer[512], upper[512], work[512], merged[512]; /* in scratch */

static void
die(const char *what)
{
    fprintf(stderr, "bench-syscalls: %s: %s (%s)\n", what,
            strerrorname_np(errno) ? strerrorname_np(errno) : "?",
            strerror(errno));
    exit(125);
}

/* In a child, a failed call ends it with 125; the parent then stops. */
static void
must(int ret, const char *what)
{
    if (ret < 0)
        die(what);
}

static double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* --- cgroups: the hierarchies step 07 uses, found in mountinfo ------- */

/* The controllers step 07 joins for --memory 64M --pids 64, each in the
 * hierarchy that has it: memory and pids for the limits, freezer for
 * --freeze (it joins cpu, cpuacct and blkio only for the options that
 * use them). */
static const char *const controllers[] = {"memory", "pids", "freezer"};
#define MAX_HIER 8
static char hier[MAX_HIER][256]; /* mount point of each, once */
static const char *hier_ctl[MAX_HIER]; /* a controller it has */
static int n_hier, cgroup_v2, made_parent[MAX_HIER];

/* Whether the comma-separated list OPTS holds the word WORD. */
static int
has_word(const char *opts, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = opts; (p = strstr(p, word)); p += n)
        if ((p == opts || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return 1;
    return 0;
}

/* The hierarchies from /proc/self/mountinfo (proc(5)): cgroup2 at
 * /sys/fs/cgroup alone when it is the only one, else every v1 mount that
 * holds one of the controllers. */
static void
find_hierarchies(void)
{
    char line[1024], point[256], fstype[32], opts[512];
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        die("fopen(/proc/self/mountinfo)");
    while (fgets(line, sizeof(line), f) && n_hier < MAX_HIER) {
        char *dash = strstr(line, " - ");
        if (!dash || sscanf(line, "%*s %*s %*s %*s %255s", point) != 1 ||
            sscanf(dash, " - %31s %*s %511s", fstype, opts) != 2)
            continue;
        if (!strcmp(fstype, "cgroup2") && !strcmp(point, "/sys/fs/cgroup")) {
            strcpy(hier[0], point);
            n_hier = 1;
            cgroup_v2 = 1;
            break;
        }
        if (strcmp(fstype, "cgroup"))
            continue;
        for (size_t i = 0; i < sizeof(controllers) / sizeof(*controllers); i++)
            if (has_word(opts, controllers[i])) {
                hier_ctl[n_hier] = controllers[i];
                strcpy(hier[n_hier++], point);
                break;
            }
    }
    fclose(f);
}

static void
write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, text, strlen(text)) < 0)
        die(path);
    close(fd);
}

/* Writes TEXT into FILE of run cgroup I when FILE exists there. */
static void
write_if_there(int i, const char *file, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s/bench/%s", hier[i], cg_parent, file);
    if (access(path, F_OK) == 0)
        write_file(path, text);
}

static void
make_parents(void)
{
    char path[512];
    for (int i = 0; i < n_hier; i++) {
        snprintf(path, sizeof(path), "%s/%s", hier[i], cg_parent);
        if (mkdir(path, 0755) == 0)
            made_parent[i] = 1;
        else if (errno != EEXIST)
            die(path);
        if (cgroup_v2) {
            snprintf(path, sizeof(path), "%s/cgroup.subtree_control", hier[i]);
            write_file(path, "+memory +pids +cpu");
            snprintf(path, sizeof(path), "%s/%s/cgroup.subtree_control",
                     hier[i], cg_parent);
            write_file(path, "+memory +pids +cpu");
        }
    }
}

static void
remove_parents(void)
{
    char path[512];
    for (int i = 0; i < n_hier; i++) {
        snprintf(path, sizeof(path), "%s/%s", hier[i], cg_parent);
        if (made_parent[i] && rmdir(path) < 0)
            perror(path);
    }
}

static int join_fd[MAX_HIER]; /* the file each child moves itself in by */

/* Before the fork: each hierarchy's cgroup (mkdir(2)), the limits of
 * step 07's --memory 64M --pids 64, and the file the child joins by (v1:
 * tasks, v2: cgroup.procs), opened. */
static void
cgroup_before(void)
{
    char path[512];
    for (int i = 0; i < n_hier; i++) {
        snprintf(path, sizeof(path), "%s/%s/bench", hier[i], cg_parent);
        must(mkdir(path, 0755), "mkdir(cgroup)");
        snprintf(path, sizeof(path), "%s/%s/bench/%s", hier[i], cg_parent,
                 cgroup_v2 ? "cgroup.procs" : "tasks");
        join_fd[i] = open(path, O_WRONLY | O_CLOEXEC);
        must(join_fd[i], "open(tasks)");
        write_if_there(i, cgroup_v2 ? "memory.max" : "memory.limit_in_bytes",
                       "67108864");
        write_if_there(
            i, cgroup_v2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes",
            cgroup_v2 ? "0" : "67108864");
        write_if_there(i, "pids.max", "64");
    }
}

/* The child moves itself in, as step 07's does: "0" into each. */
static void
cgroup_child(void)
{
    for (int i = 0; i < n_hier; i++)
        must(write(join_fd[i], "0", 1), "write(tasks)");
}

/* After it exited: the files closed, rmdir(2) of each cgroup. */
static void
cgroup_after(void)
{
    char path[512];
    for (int i = 0; i < n_hier; i++) {
        close(join_fd[i]);
        snprintf(path, sizeof(path), "%s/%s/bench", hier[i], cg_parent);
        must(rmdir(path), "rmdir(cgroup)");
    }
}

/* --- mounts ---------------------------------------------------------- */

/* A mount namespace of the child's own, propagation cut (step 04's). */
static void
mount_ns(void)
{
    must(unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)");
    must(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL),
         "mount(/, MS_REC|MS_PRIVATE)");
}

static void
bind_node(const char *node)
{
    char target[64];
    snprintf(target, sizeof(target), "dev/%s", node + 5);
    int fd = open(target, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
    must(fd, "open(dev node)");
    close(fd);
    must(mount(node, target, NULL, MS_BIND, NULL), "mount(dev node)");
}

/* Step 04's tree: the rootfs bound onto itself, /proc, /sys, a /dev of
 * its own, pivot_root(2) into it, the host's tree detached, /tmp. */
static void
mounts_child(void)
{
    static const char *const nodes[] = {"/dev/null",    "/dev/zero",
                                        "/dev/full",    "/dev/random",
                                        "/dev/urandom", "/dev/tty"};
    mount_ns();
    must(mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL), "bind rootfs");
    must(chdir(rootfs), "chdir(rootfs)");
    must(mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL),
         "mount(proc)");
    must(mount("sysfs", "sys", "sysfs",
               MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL),
         "mount(sysfs)");
    must(mount("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
               "mode=0755,size=64k"),
         "mount(tmpfs dev)");
    for (size_t i = 0; i < sizeof(nodes) / sizeof(*nodes); i++)
        bind_node(nodes[i]);
    must(mkdir("dev/pts", 0755), "mkdir(dev/pts)");
    must(mount("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
               "newinstance,ptmxmode=0666,mode=0620"),
         "mount(devpts)");
    must(mkdir("dev/shm", 01777), "mkdir(dev/shm)");
    must(mount("shm", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"),
         "mount(shm)");
    must(mkdir("dev/mqueue", 0755), "mkdir(dev/mqueue)");
    must(mount("mqueue", "dev/mqueue", "mqueue",
               MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL),
         "mount(mqueue)");
    must(syscall(SYS_pivot_root, ".", "."), "pivot_root(., .)");
    must(umount2(".", MNT_DETACH), "umount2(., MNT_DETACH)");
    must(chdir("/"), "chdir(/)");
    must(mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"),
         "mount(tmpfs /tmp)");
}

/* Step 07's /sys/fs/cgroup inside, on v1: a tmpfs, and each hierarchy
 * mounted read-only in a directory of it (in the step, through the
 * container's cgroup namespace). */
static void
cgroup_mounts_child(void)
{
    char dir[600];
    mount_ns();
    must(mount("tmpfs", merged, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
               "mode=0755,size=64k"),
         "mount(tmpfs)");
    for (int i = 0; i < n_hier; i++) {
        snprintf(dir, sizeof(dir), "%s/%s", merged, hier_ctl[i]);
        must(mkdir(dir, 0755), "mkdir(hierarchy)");
        must(mount("cgroup", dir, "cgroup",
                   MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, hier_ctl[i]),
             "mount(cgroup)");
    }
}

/* --- overlay --------------------------------------------------------- */

/*
 * Step 08's throwaway layer: in a mount namespace of its own, a tmpfs,
 * its upper and work directories, and the rootfs as overlay's lower. The
 * namespace takes both mounts with it at exit.
 */
static void
overlay_child(void)
{
    char opts[2048];
    snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", rootfs,
             upper, work);
    mount_ns();
    must(mount("tmpfs", layer, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0711"),
         "mount(tmpfs)");
    must(mkdir(upper, 0755), "mkdir(upper)");
    must(mkdir(work, 0755), "mkdir(work)");
    must(mount("overlay", merged, "overlay", 0, opts), "mount(overlay)");
}

/* --- PID 1 and the loopback --------------------------------------------- */

/*
 * Step 03's PID 1, in the PID namespace its clone made: an init that
 * forks its command (here one that exits at once) and waits for it.
 */
static void
init_child(void)
{
    pid_t command = fork();
    must(command, "fork(command)");
    if (command == 0)
        _exit(0);
    must(waitpid(command, NULL, 0), "waitpid(command)");
}

/*
 * Step 05's loopback, up in the network namespace the clone made. The
 * step sends an RTM_NEWLINK message; ioctl(2) SIOCSIFFLAGS is the
 * shortest way to the same kernel work (netdevice(7)): the device opens,
 * and IPv4 and IPv6 give it its addresses and routes.
 */
static void
loopback_child(void)
{
    struct ifreq ifr = {.ifr_name = "lo"};
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    must(fd, "socket(AF_INET)");
    must(ioctl(fd, SIOCGIFFLAGS, &ifr), "ioctl(lo, SIOCGIFFLAGS)");
    ifr.ifr_flags |= IFF_UP;
    must(ioctl(fd, SIOCSIFFLAGS, &ifr), "ioctl(lo, SIOCSIFFLAGS)");
    close(fd);
}

/* --- the user namespace --------------------------------------------- */

/* Step 06's ids: 65536 of them, from the first base its state hands out
 * (root may map any host ids). unshare -r maps one. */
#define ID_BASE "1114112"

/* In the parent, once the child is made: its uid and gid maps. */
static void
map_ids(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
    write_file(path, "0 " ID_BASE " 65536\n");
    snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
    write_file(path, "0 " ID_BASE " 65536\n");
}

/*
 * The maps, and step 06's rootfs as the child's namespace sees it: a
 * detached copy (open_tree(2)), idmapped with that namespace
 * (mount_setattr(2) MOUNT_ATTR_IDMAP), attached (move_mount(2)); after
 * the run it is detached again (idmap_after()).
 */
static void
map_ids_and_rootfs(pid_t pid)
{
    char path[64];
    map_ids(pid);
    int tree = (int)syscall(SYS_open_tree, AT_FDCWD, rootfs,
                            OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    must(tree, "open_tree(rootfs)");
    snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
    int userns = open(path, O_RDONLY | O_CLOEXEC);
    must(userns, "open(ns/user)");
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP,
                              .userns_fd = (unsigned)userns};
    must((int)syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE,
                      &attr, sizeof(attr)),
         "mount_setattr(MOUNT_ATTR_IDMAP)");
    must((int)syscall(SYS_move_mount, tree, "", AT_FDCWD, merged,
                      MOVE_MOUNT_F_EMPTY_PATH),
         "move_mount(rootfs)");
    close(userns);
    close(tree);
}

static void
idmap_after(void)
{
    must(umount2(merged, MNT_DETACH), "umount2(merged)");
}

/* The child becomes root of its namespace, as unshare -r's command. */
static void
user_child(void)
{
    must(setresgid(0, 0, 0), "setresgid(0)");
    must(setresuid(0, 0, 0), "setresuid(0)");
}

/* ... and as step 06's child, with a session keyring of its own
 * (keyctl(2)). */
static void
user_keyring_child(void)
{
    user_child();
    must((int)syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL),
         "keyctl(KEYCTL_JOIN_SESSION_KEYRING)");
}

/* --- the runs -------------------------------------------------------- */

struct scenario {
    const char *name, *what;
    int clone_flags; /* the child's new namespaces, or 0: a fork */
    void (*before)(void); /* in the parent, before the fork */
    void (*child)(void); /* in the child, then it exits */
    void (*after)(void); /* in the parent, after waitpid */
    void (*made)(pid_t); /* in the parent, once the child is made */
};

static const struct scenario scenarios[] = {
    {.name = "fork", .what = "fork(2), _exit(2), waitpid(2): the floor"},
    {.name = "pid-init",
     .what = "clone(CLONE_NEWPID), and PID 1 forks a command and waits for "
             "it",
     .clone_flags = CLONE_NEWPID,
     .child = init_child},
    {.name = "net-ns",
     .what = "clone(CLONE_NEWNET), nothing more: what unshare -n does",
     .clone_flags = CLONE_NEWNET},
    {.name = "net-lo",
     .what = "clone(CLONE_NEWNET), and lo up (ioctl SIOCSIFFLAGS)",
     .clone_flags = CLONE_NEWNET,
     .child = loopback_child},
    {.name = "user-ns",
     .what = "clone(CLONE_NEWUSER), maps of 65536 uids and gids, the child "
             "root in it",
     .clone_flags = CLONE_NEWUSER,
     .child = user_child,
     .made = map_ids},
    {.name = "user-idmap",
     .what = "user-ns + a session keyring, the rootfs idmapped with it "
             "(open_tree, mount_setattr, move_mount)",
     .clone_flags = CLONE_NEWUSER,
     .child = user_keyring_child,
     .after = idmap_after,
     .made = map_ids_and_rootfs},
    {.name = "mount-ns",
     .what = "unshare(CLONE_NEWNS), mount(/, MS_REC|MS_PRIVATE)",
     .child = mount_ns},
    {.name = "mounts",
     .what = "mount-ns + step 04's tree: bind, proc, sysfs, /dev, pivot_root",
     .child = mounts_child},
    {.name = "cgroup",
     .what = "a cgroup in memory, pids, freezer: mkdir, limits, the child "
             "writing itself into tasks, rmdir",
     .before = cgroup_before,
     .child = cgroup_child,
     .after = cgroup_after},
    {.name = "cgroup-mounts",
     .what = "mount-ns + a tmpfs, and each v1 hierarchy mounted read-only in "
             "it",
     .child = cgroup_mounts_child},
    {.name = "overlay",
     .what = "mount-ns + a tmpfs; mkdir upper, work in it; mount(overlay)",
     .child = overlay_child},
};

/* One run: fork, let the child go, wait; in milliseconds. */
static double
run_once(const struct scenario *s)
{
    int gate[2];
    char go;
    must(pipe2(gate, O_CLOEXEC), "pipe2()");
    double start = now_ms();
    if (s->before)
        s->before();
    /*
     * clone(2) with no stack of its own returns in the child on a copy of
     * the parent's, as fork(2) does; the new namespaces are the child's.
     */
    pid_t pid = s->clone_flags
                    ? (pid_t)syscall(SYS_clone, SIGCHLD | s->clone_flags, NULL,
                                     NULL, NULL, 0)
                    : fork();
    must(pid, "fork()");
    if (pid == 0) {
        close(gate[1]);
        if (read(gate[0], &go, 1) != 1)
            _exit(125);
        if (s->child)
            s->child();
        _exit(0);
    }
    close(gate[0]);
    if (s->made)
        s->made(pid);
    must(write(gate[1], "1", 1), "write(gate)");
    close(gate[1]);
    int status;
    must(waitpid(pid, &status, 0), "waitpid()");
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        fprintf(stderr, "bench-syscalls: %s: the child failed\n", s->name);
        exit(125);
    }
    if (s->after)
        s->after();
    return now_ms() - start;
}

static int
by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
    if (argc != 5 || atoi(argv[4]) < 1) {
        fprintf(stderr, "usage: bench-syscalls ROOTFS SCRATCH CGROUP-PARENT "
                        "RUNS\n");
        return 125;
    }
    rootfs = argv[1];
    scratch = argv[2];
    cg_parent = argv[3];
    int runs = atoi(argv[4]);
    snprintf(layer, sizeof(layer), "%s/layer", scratch);
    snprintf(upper, sizeof(upper), "%s/upper", layer);
    snprintf(work, sizeof(work), "%s/work", layer);
    snprintf(merged, sizeof(merged), "%s/merged", scratch);
    must(mkdir(merged, 0755), "mkdir(merged)");
    must(mkdir(layer, 0755), "mkdir(layer)");
    find_hierarchies();
    make_parents();

    double *t = calloc(runs, sizeof(*t)), fork_median = 0;
    if (!t)
        die("calloc()");
    for (size_t i = 0; i < sizeof(scenarios) / sizeof(*scenarios); i++) {
        const struct scenario *s = &scenarios[i];
        if ((s->before == cgroup_before && n_hier == 0) ||
            (s->child == cgroup_mounts_child && (n_hier == 0 || cgroup_v2)))
            continue;
        for (int r = 0; r < 3; r++) /* warm-up */
            run_once(s);
        for (int r = 0; r < runs; r++)
            t[r] = run_once(s);
        qsort(t, runs, sizeof(*t), by_value);
        double median =
            runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2;
        if (i == 0)
            fork_median = median;
        printf("%s\t%.3f\t%.3f\t%.3f\t%s\n", s->name, median, t[0],
               median - fork_median, s->what);
    }
    remove_parents();
    rmdir(merged);
    rmdir(layer);
    return 0;
}
