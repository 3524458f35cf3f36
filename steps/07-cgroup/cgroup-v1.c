/*
 * cgroup-v1.c: the container's cgroup on cgroup v1, from step 07 on.
 *
 * Before the unified hierarchy (cgroup.c), each controller had a tree of
 * its own: the memory hierarchy, the pids hierarchy, and so on, each
 * mounted on a directory of its own (/sys/fs/cgroup/memory, ...), a few
 * sometimes together in one (cpu,cpuacct on many distributions). A
 * process is in one cgroup of each hierarchy, so a container's cgroup is
 * a directory of the same path in each hierarchy boxstep uses, and its
 * PID is written into each. A hybrid host, such as the one the tests run
 * on, mounts cgroup2 too (/sys/fs/cgroup/unified), with no controller in
 * it: there v1 does the work. The jobs are the same; the files and a few
 * rules differ, and are noted where they do. A student may skip this
 * file.
 *
 * Man pages: cgroups(7); the kernel's Documentation/admin-guide/cgroup-v1/
 * (cgroups.rst, memory.rst, pids.rst, freezer-subsystem.rst, cpuacct.rst,
 * blkio-controller.rst) and Documentation/scheduler/sched-bwc.rst.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "step.h"

/*
 * The controllers boxstep uses, each where a hierarchy has it: memory,
 * pids and cpu for limits and weights, cpuacct for CPU time, freezer for
 * --freeze, blkio for --io-weight. cpuset is left out: a new cpuset
 * cgroup refuses tasks (ENOSPC) until its cpuset.cpus and cpuset.mems
 * are filled, and boxstep sets neither.
 */
static const char *const controllers[] = {"memory",  "pids",    "cpu",
                                          "cpuacct", "freezer", "blkio"};

/*
 * Whether a container started with options o needs controller. Each
 * hierarchy costs a start a mkdir(2), a move, a mount and an rmdir(2):
 * memory (the OOM report), pids and freezer (--freeze may come later)
 * always; the others only for the options that use them. o NULL: every
 * controller above, as a removal looks for them all.
 */
static bool
needed(const char *controller, const struct options *o)
{
    if (!o || !strcmp(controller, "memory") || !strcmp(controller, "pids") ||
        !strcmp(controller, "freezer"))
        return true;
    if (!strcmp(controller, "cpu"))
        return o->cpu_quota || o->cpu_weight;
    if (!strcmp(controller, "cpuacct"))
        return o->stats;
    return o->io_weight; /* blkio */
}

/*
 * Whether /proc/cgroups (cgroups(7)), read once, lists word as a
 * controller: a hierarchy's super options name its controllers among
 * other options (xattr, name=...), which mount(2) would not take alone.
 */
static bool
is_controller(const char *word)
{
    static char names[1024];
    static bool read;
    char line[256], key[66];
    size_t n = 0;
    FILE *f;

    if (!read && (f = fopen("/proc/cgroups", "re"))) {
        while (fgets(line, sizeof(line), f) && n < sizeof(names))
            if (line[0] != '#')
                n += snprintf(names + n, sizeof(names) - n, " %.*s ",
                              (int)strcspn(line, " \t\n"), line);
        fclose(f);
    }
    read = true;
    snprintf(key, sizeof(key), " %s ", word);
    return strstr(names, key) != NULL;
}

/* A hierarchy's controllers from its super options: "rw,cpu" -> "cpu". */
static void
controllers_of(char *opts, char *out, size_t len)
{
    char *word, *save;
    size_t n = 0;

    out[0] = '\0';
    for (word = strtok_r(opts, ",", &save); word && n < len;
         word = strtok_r(NULL, ",", &save))
        if (is_controller(word))
            n += snprintf(out + n, len - n, "%s%s", n ? "," : "", word);
}

/*
 * The mount point of the hierarchy of controllers[i], from
 * /proc/self/mountinfo, when options o need that controller (o NULL:
 * every one) and no controller before it in the list, also needed, is
 * in the same hierarchy: each hierarchy is found once.
 */
static bool
hierarchy_of(size_t i, const struct options *o, char *mnt, size_t len)
{
    char earlier[PATH_MAX];

    if (!needed(controllers[i], o) ||
        !cgroup_mount_point("cgroup", controllers[i], mnt, len, NULL, 0))
        return false;
    for (size_t j = 0; j < i; j++)
        if (needed(controllers[j], o) &&
            cgroup_mount_point("cgroup", controllers[j], earlier,
                               sizeof(earlier), NULL, 0) &&
            strcmp(earlier, mnt) == 0)
            return false;
    return true;
}

/*
 * The hierarchies of the controllers o needs, each once; returns how
 * many. The runtime finds them, in the host's cgroup namespace: the
 * child, in its own, sees their roots as paths above its own
 * ("/../.."), and gets the runtime's list.
 */
size_t
cgroup_v1_hierarchies(struct cgroup_v1_hierarchy *h, size_t max,
                      const struct options *o)
{
    char opts[512];
    size_t n = 0;

    for (size_t i = 0; i < ARRAY_SIZE(controllers) && n < max; i++) {
        if (!hierarchy_of(i, o, h[n].mount, sizeof(h[n].mount)))
            continue;
        cgroup_mount_point("cgroup", controllers[i], h[n].mount,
                           sizeof(h[n].mount), opts, sizeof(opts));
        controllers_of(opts, h[n].controllers, sizeof(h[n].controllers));
        n++;
    }
    return n;
}

bool
cgroup_v1_available(void)
{
    char mnt[PATH_MAX];

    for (size_t i = 0; i < ARRAY_SIZE(controllers); i++)
        if (hierarchy_of(i, NULL, mnt, sizeof(mnt)))
            return true;
    return false;
}

/* The container's directory in the hierarchy that has controller. */
static bool
controller_dir(const char *controller, const char *cgroup, char *dir,
               size_t len)
{
    char mnt[PATH_MAX];

    if (!cgroup_mount_point("cgroup", controller, mnt, sizeof(mnt), NULL, 0))
        return false;
    return snprintf(dir, len, "%s/%s", mnt, cgroup) < (int)len;
}

/* A controller an option needs, and no hierarchy has: a clear error. */
static void
need(const char *controller, const char *option)
{
    char dir[PATH_MAX];

    if (controller_dir(controller, "", dir, sizeof(dir)))
        return;
    errno = ENOENT;
    die_hint("mount its hierarchy, or use cgroup v2 (cgroup_no_v1=all on "
             "the kernel's command line)",
             "%s needs the cgroup v1 %s controller: no hierarchy in "
             "/proc/self/mountinfo has it",
             option, controller);
}

/*
 * memory.rst: memory.limit_in_bytes, then memory.memsw.limit_in_bytes
 * (memory and swap together) at the same value, so that swap adds
 * nothing; the kernel refuses (EINVAL) a memsw limit below the memory
 * limit, so the order matters. It exists only where swap is accounted.
 */
static void
memory_limit(const char *dir, unsigned long long bytes)
{
    char value[32];

    snprintf(value, sizeof(value), "%llu", bytes);
    cgroup_write(dir, "memory.limit_in_bytes", value);
    if (cgroup_has_file(dir, "memory.memsw.limit_in_bytes"))
        cgroup_write(dir, "memory.memsw.limit_in_bytes", value);
}

/*
 * sched-bwc.rst: cpu.cfs_quota_us of CPU time per cpu.cfs_period_us.
 * cpu.shares is v1's weight, 1024 by default where v2's cpu.weight is
 * 100: boxstep writes weight * 1024 / 100 (2 at least), so that the same
 * --cpu-weight gives the same ratios on both.
 */
static void
cpu_limits(const char *dir, const struct options *o)
{
    char value[32];

    if (o->cpu_quota) {
        cgroup_write(dir, "cpu.cfs_period_us", "100000");
        snprintf(value, sizeof(value), "%ld", o->cpu_quota);
        cgroup_write(dir, "cpu.cfs_quota_us", value);
    }
    if (o->cpu_weight) {
        snprintf(value, sizeof(value), "%ld",
                 o->cpu_weight * 1024 / 100 < 2 ? 2
                                                : o->cpu_weight * 1024 / 100);
        cgroup_write(dir, "cpu.shares", value);
    }
}

/*
 * blkio-controller.rst: blkio.weight, 10-1000 around 500, exists only
 * under the CFQ scheduler (BFQ has blkio.bfq.weight); a disk with another
 * scheduler (mq-deadline, none) has only the throttle files. boxstep
 * writes weight * 5, within 10-1000: v2's default 100 is v1's 500.
 */
static void
io_weight(const char *dir, long weight)
{
    char value[32];
    long w = weight * 5 < 10 ? 10 : weight * 5 > 1000 ? 1000 : weight * 5;

    if (!cgroup_has_file(dir, "blkio.weight")) {
        errno = ENOENT;
        die_hint("cgroup v1 has a disk weight only under the CFQ or BFQ "
                 "scheduler (cat /sys/block/*/queue/scheduler); cgroup v2 "
                 "has io.weight",
                 "--io-weight: %s/blkio.weight", dir);
    }
    snprintf(value, sizeof(value), "%ld", w);
    cgroup_write(dir, "blkio.weight", value);
}

/* Each limit, in the hierarchy of its controller. */
static void
write_limits(const char *cgroup, const struct options *o)
{
    char dir[PATH_MAX], value[32];

    if (o->memory != NO_MEMORY_LIMIT &&
        controller_dir("memory", cgroup, dir, sizeof(dir)))
        memory_limit(dir, o->memory);
    if (o->pids && controller_dir("pids", cgroup, dir, sizeof(dir))) {
        snprintf(value, sizeof(value), "%ld", o->pids);
        cgroup_write(dir, "pids.max", value);
    }
    if ((o->cpu_quota || o->cpu_weight) &&
        controller_dir("cpu", cgroup, dir, sizeof(dir)))
        cpu_limits(dir, o);
    if (o->io_weight && controller_dir("blkio", cgroup, dir, sizeof(dir)))
        io_weight(dir, o->io_weight);
}

/*
 * The runtime's own container's cgroup, and the options that chose its
 * hierarchies: its removal looks in those alone (cgroup_v1_remove()).
 */
static const char *own_cgroup;
static const struct options *own_options;

/*
 * The container's cgroup in each hierarchy, then its limits. An option
 * whose controller has no hierarchy is refused first, by name.
 */
void
cgroup_v1_make(const char *cgroup, const struct options *o,
               struct cgroup_v1_hierarchy *h, size_t count)
{
    own_cgroup = cgroup;
    own_options = o;
    if (o->memory != NO_MEMORY_LIMIT)
        need("memory", "--memory");
    if (o->pids)
        need("pids", "--pids");
    if (o->cpu_quota || o->cpu_weight)
        need("cpu", o->cpu_quota ? "--cpus" : "--cpu-weight");
    if (o->io_weight)
        need("blkio", "--io-weight");
    for (size_t i = 0; i < count; i++)
        cgroup_make_dirs(h[i].mount, cgroup, NULL);
    write_limits(cgroup, o);
}

/*
 * The accounting: an OOM kill from memory.oom_control's oom_kill
 * (memory.failcnt stays 0 after one); with all, cpuacct.usage in
 * nanoseconds (where the container is in cpuacct: with --stats), the
 * memory high-water mark, the tasks. pids.peak came in Linux 6.1, for v1
 * too: before it the kernel keeps no peak of tasks, and it stays -1.
 */
void
cgroup_v1_stats(const char *cgroup, struct cgroup_stats *s, bool all)
{
    char dir[PATH_MAX], state[16];

    if (controller_dir("memory", cgroup, dir, sizeof(dir)))
        s->oom_kills =
            cgroup_read_number(dir, "memory.oom_control", "oom_kill");
    if (!all)
        return;
    if (controller_dir("cpuacct", cgroup, dir, sizeof(dir)) &&
        (s->cpu_usec = cgroup_read_number(dir, "cpuacct.usage", NULL)) >= 0)
        s->cpu_usec /= 1000;
    if (controller_dir("memory", cgroup, dir, sizeof(dir))) {
        s->memory_peak =
            cgroup_read_number(dir, "memory.max_usage_in_bytes", NULL);
        s->memory_now = cgroup_read_number(dir, "memory.usage_in_bytes", NULL);
    }
    if (controller_dir("pids", cgroup, dir, sizeof(dir))) {
        s->pids_peak = cgroup_read_number(dir, "pids.peak", NULL);
        s->pids_now = cgroup_read_number(dir, "pids.current", NULL);
    }
    if (controller_dir("freezer", cgroup, dir, sizeof(dir)) &&
        cgroup_read(dir, "freezer.state", state, sizeof(state)) == 0)
        s->frozen = strcmp(state, "THAWED") != 0;
}

/*
 * Usually the container's init has exited, and every task of its PID
 * namespace with it: each cgroup is empty, and rmdir(2) removes it at
 * once. Returns whether one was busy.
 */
static bool
remove_empty(const char *cgroup, const struct options *o)
{
    char mnt[PATH_MAX], dir[PATH_MAX];
    bool busy = false;

    for (size_t i = 0; i < ARRAY_SIZE(controllers); i++) {
        if (!hierarchy_of(i, o, mnt, sizeof(mnt)) ||
            snprintf(dir, sizeof(dir), "%s/%s", mnt, cgroup) >=
                (int)sizeof(dir))
            continue;
        switch (cgroup_try_remove_dir(dir)) {
        case 1:
            cgroup_remove_parent(mnt, cgroup);
            break;
        case -1:
            busy = true;
        }
    }
    return busy;
}

/*
 * Otherwise (a runtime that died, an error before the container ran):
 * freezer-subsystem.rst: a frozen task ignores SIGKILL until it is
 * thawed. So every task gets SIGKILL first, then the cgroup is thawed,
 * and the tasks die before they run again; then each hierarchy's cgroup
 * is emptied and removed. The runtime's own is looked for in the
 * hierarchies it made it in; another's, in all of boxstep's: a later run
 * may remove a cgroup a killed runtime left.
 */
void
cgroup_v1_remove(const char *cgroup)
{
    const struct options *o =
        own_cgroup && strcmp(cgroup, own_cgroup) == 0 ? own_options : NULL;
    char mnt[PATH_MAX], dir[PATH_MAX], state[16];

    if (!remove_empty(cgroup, o))
        return;
    if (controller_dir("freezer", cgroup, dir, sizeof(dir)) &&
        cgroup_read(dir, "freezer.state", state, sizeof(state)) == 0 &&
        strcmp(state, "THAWED") != 0) {
        cgroup_kill_procs(dir, 1);
        cgroup_try_write(dir, "freezer.state", "THAWED");
    }
    for (size_t i = 0; i < ARRAY_SIZE(controllers); i++) {
        if (!hierarchy_of(i, o, mnt, sizeof(mnt)) ||
            snprintf(dir, sizeof(dir), "%s/%s", mnt, cgroup) >=
                (int)sizeof(dir) ||
            access(dir, F_OK) == -1)
            continue;
        if (cgroup_kill_procs(dir, 100) == -1)
            warn("kill the processes of %s", dir);
        cgroup_remove_dir(dir);
        cgroup_remove_parent(mnt, cgroup);
    }
}

/*
 * freezer.state: FROZEN stops every task, THAWED lets them go on; it
 * reads FREEZING until every task has stopped.
 */
void
cgroup_v1_freeze(const char *cgroup, bool frozen)
{
    const char *want = frozen ? "FROZEN" : "THAWED";
    char dir[PATH_MAX], state[16];

    if (!controller_dir("freezer", cgroup, dir, sizeof(dir))) {
        errno = ENOENT;
        die("--%s needs the cgroup v1 freezer controller: no hierarchy in "
            "/proc/self/mountinfo has it",
            frozen ? "freeze" : "thaw");
    }
    cgroup_write(dir, "freezer.state", want);
    for (int i = 0; i < 100; i++) {
        if (cgroup_read(dir, "freezer.state", state, sizeof(state)) == 0 &&
            strcmp(state, want) == 0)
            return;
        usleep(10000);
    }
    errno = ETIMEDOUT;
    die("%s/freezer.state: %s, not %s after 1 s", dir, state, want);
}

/*
 * In the child, before pivot_root(2): a small tmpfs on sys/fs/cgroup,
 * with one read-only mount of each hierarchy the container is in, named
 * as on the host. In the child's cgroup namespace each shows its cgroup
 * as the root. The hierarchies it is not in (cpuset, devices) are left
 * out: their namespace root is the host's own cgroup there. A mapped root
 * may mount them (the cgroup namespace is its own), but not write its
 * limits: they belong to the host's root.
 */
void
setup_cgroup_v1_mounts(const struct container *c)
{
    unsigned long flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
    char target[PATH_MAX];

    must(mount("tmpfs", "sys/fs/cgroup", "tmpfs",
               MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=64k"),
         "mount(\"tmpfs\", \"sys/fs/cgroup\", \"tmpfs\", "
         "MS_NOSUID|MS_NODEV|MS_NOEXEC, \"mode=0755,size=64k\")");
    for (size_t i = 0; i < c->v1_count; i++) {
        const struct cgroup_v1_hierarchy *h = &c->v1[i];

        if (snprintf(target, sizeof(target), "sys/fs/cgroup/%s",
                     strrchr(h->mount, '/') + 1) >= (int)sizeof(target))
            continue;
        must(mkdir(target, 0755), "mkdir(\"%s\", 0755)", target);
        must(mount("cgroup", target, "cgroup", flags, h->controllers),
             "mount(\"cgroup\", \"%s\", \"cgroup\", "
             "MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC, \"%s\")",
             target, h->controllers);
    }
    /* The tmpfs itself read-only too, once its directories are made. */
    must(mount(NULL, "sys/fs/cgroup", NULL, MS_REMOUNT | flags, NULL),
         "mount(NULL, \"sys/fs/cgroup\", NULL, "
         "MS_REMOUNT|MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL)");
}
