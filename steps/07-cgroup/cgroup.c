/*
 * cgroup.c: limits, priority, accounting and control, from step 07 on.
 *
 * A control group (cgroup) is a set of processes the kernel counts and
 * limits together; a child made by fork(2) starts in its parent's. Its
 * controllers do four jobs: limits (memory, tasks, CPU bandwidth; a
 * cgroup over its memory limit gets a task OOM-killed), priority (CPU
 * and disk weights), accounting (CPU time, peak memory) and control
 * (freeze and thaw). Each container gets a cgroup of its own, which the
 * runtime makes below one parent, "boxstep", at the root of the
 * hierarchy: never below the runtime's own cgroup, which belongs to
 * whoever started it (the test harness names another parent with
 * BOXSTEP_CGROUP_PARENT).
 *
 * cgroup v2, one unified tree mounted at /sys/fs/cgroup, is the lesson
 * and lives here, with the flow: each cgroup a directory, each knob a
 * file (memory.max, pids.max, cpu.max, ...). cgroup-v1.c holds the older
 * layout, one hierarchy per controller, that a hybrid host still uses:
 * v2 is used when cgroup2's root offers the memory, pids and cpu
 * controllers, v1 otherwise. cgroup-files.c has the small tools both
 * share (a traced write, a read, mkdir and rmdir), cgroup-options.c what
 * the user says and is told, cgroup-join.c how the child gets in. The
 * flow, in the order that matters:
 *
 *   runtime, before clone  mkdir the cgroup, write its limits, record it,
 *                          open what the child joins it by
 *   child, first           v1: write 0 (itself) to each tasks file, so it
 *                          moves in (v2: clone3() made it inside); COMMAND
 *                          starts inside
 *   child                  unshare(CLONE_NEWCGROUP): its cgroup becomes
 *                          its "/"; a cgroup filesystem, read-only, on
 *                          /sys/fs/cgroup
 *   runtime, at exit       read the accounting, kill what is left, rmdir
 *
 * Rootless: an ordinary user may not make a cgroup at the root. On v2 a
 * systemd session delegates a subtree to its user (cgroup_delegated()),
 * and the container's cgroup goes there, below a boxstep of its own;
 * without one (or on v1, which delegates nothing) the container runs
 * without a cgroup, and says so.
 *
 * Man pages: cgroups(7), cgroup_namespaces(7), unshare(2), mount(2); the
 * kernel's Documentation/admin-guide/cgroup-v2.rst.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "step.h"

static const char *const version_names[] = {
    [CGROUP_NONE] = "none",
    [CGROUP_V1] = "v1",
    [CGROUP_V2] = "v2",
};

/* ---- cgroup v2: one tree ---- */

/* The controllers a v2 container needs, and io where the kernel has it. */
static const char *const v2_controllers[] = {"cpu", "memory", "pids", "io"};

static bool
has_word(const char *list, const char *word)
{
    size_t len = strlen(word);

    for (const char *s = strstr(list, word); s; s = strstr(s + 1, word))
        if ((s == list || s[-1] == ' ') && (s[len] == ' ' || !s[len]))
            return true;
    return false;
}

/*
 * cgroup2's mount point when its root offers memory, pids and cpu; what
 * it offers is read once.
 */
bool
v2_root(char *root, size_t len)
{
    static int offers = -1; /* not read yet */
    char controllers[256];

    if (!cgroup_mount_point("cgroup2", NULL, root, len, NULL, 0))
        return false;
    if (offers == -1)
        offers = cgroup_read(root, "cgroup.controllers", controllers,
                             sizeof(controllers)) == 0 &&
                 has_word(controllers, "memory") &&
                 has_word(controllers, "pids") && has_word(controllers, "cpu");
    return offers;
}

/*
 * cgroup.subtree_control: a v2 cgroup's children have a controller's
 * files only when it enables that controller for them ("+memory"). Each
 * level down to the container's does, for what it offers and has not
 * enabled yet (the root's usually are, by systemd), in one write: the
 * kernel takes all or none. "No internal processes": a cgroup other
 * than the root that has processes of its own cannot enable memory,
 * pids or io for children (EBUSY; EOPNOTSUPP once cpu made it a thread
 * root), so a parent must be an empty cgroup.
 */
static void
v2_enable_controllers(const char *dir)
{
    char offered[256], enabled[256], change[64] = "";
    size_t len = 0;

    cgroup_read(dir, "cgroup.controllers", offered, sizeof(offered));
    cgroup_read(dir, "cgroup.subtree_control", enabled, sizeof(enabled));
    for (size_t i = 0; i < ARRAY_SIZE(v2_controllers); i++)
        if (has_word(offered, v2_controllers[i]) &&
            !has_word(enabled, v2_controllers[i]))
            len += snprintf(change + len, sizeof(change) - len, "%s+%s",
                            len ? " " : "", v2_controllers[i]);
    if (!len || cgroup_try_write(dir, "cgroup.subtree_control", change) == 0)
        return;
    die_hint(errno == EBUSY || errno == EOPNOTSUPP
                 ? "cgroup v2 lets only a cgroup without processes of its "
                   "own hand controllers to children: choose an empty "
                   "parent (BOXSTEP_CGROUP_PARENT)"
                 : NULL,
             "write(\"%s/cgroup.subtree_control\", \"%s\")", dir, change);
}

/*
 * io.weight, "default N": the io controller's weight for every disk,
 * which only the blk-iocost policy reads (BFQ has io.bfq.weight); a
 * kernel without it has no file, and the option is refused by name.
 */
static void
v2_io_weight(const char *dir, long weight)
{
    char value[32];

    if (!cgroup_has_file(dir, "io.weight")) {
        errno = ENOENT;
        die_hint("the io controller has no weight file here (a kernel "
                 "without blk-iocost); leave --io-weight out",
                 "--io-weight: %s/io.weight", dir);
    }
    snprintf(value, sizeof(value), "default %ld", weight);
    cgroup_write(dir, "io.weight", value);
}

/*
 * The limits, each a file (cgroup-v2.rst, "Controllers"): memory.max,
 * and memory.swap.max 0 so that the limit cannot be dodged by swapping
 * out (only where swap is accounted); pids.max; cpu.max "QUOTA PERIOD";
 * cpu.weight and io.weight, 1-10000 around a default of 100.
 */
static void
v2_limits(const char *dir, const struct options *o)
{
    char value[64];

    if (o->memory != NO_MEMORY_LIMIT) {
        snprintf(value, sizeof(value), "%llu", o->memory);
        cgroup_write(dir, "memory.max", value);
        if (cgroup_has_file(dir, "memory.swap.max"))
            cgroup_write(dir, "memory.swap.max", "0");
    }
    if (o->pids) {
        snprintf(value, sizeof(value), "%ld", o->pids);
        cgroup_write(dir, "pids.max", value);
    }
    if (o->cpu_quota) {
        snprintf(value, sizeof(value), "%ld %ld", o->cpu_quota,
                 CGROUP_CPU_PERIOD_US);
        cgroup_write(dir, "cpu.max", value);
    }
    if (o->cpu_weight) {
        snprintf(value, sizeof(value), "%ld", o->cpu_weight);
        cgroup_write(dir, "cpu.weight", value);
    }
    if (o->io_weight)
        v2_io_weight(dir, o->io_weight);
}

/*
 * The accounting (cgroup-v2.rst): cpu.stat, memory.peak (Linux 5.19),
 * pids.peak (6.1), and memory.events for the OOM kills.
 */
static void
v2_stats(const char *dir, struct cgroup_stats *s, bool all)
{
    s->oom_kills = cgroup_read_number(dir, "memory.events", "oom_kill");
    if (!all)
        return;
    s->cpu_usec = cgroup_read_number(dir, "cpu.stat", "usage_usec");
    s->memory_peak = cgroup_read_number(dir, "memory.peak", NULL);
    s->pids_peak = cgroup_read_number(dir, "pids.peak", NULL);
    s->memory_now = cgroup_read_number(dir, "memory.current", NULL);
    s->pids_now = cgroup_read_number(dir, "pids.current", NULL);
    s->frozen = cgroup_read_number(dir, "cgroup.events", "frozen");
}

/*
 * Usually the container's init has exited, and every task of its PID
 * namespace with it: the cgroup is empty, and rmdir(2) removes it at
 * once. Otherwise cgroup.kill (Linux 5.14) kills every process of the
 * cgroup at once, frozen or not; then, or on an older kernel instead,
 * each PID still in cgroup.procs gets SIGKILL until none is left.
 */
static void
v2_remove(const char *dir)
{
    if (cgroup_try_remove_dir(dir) >= 0)
        return;
    if (cgroup_has_file(dir, "cgroup.kill"))
        cgroup_try_write(dir, "cgroup.kill", "1");
    if (cgroup_kill_procs(dir, 100) == -1)
        warn("kill the processes of %s", dir);
    cgroup_remove_dir(dir);
}

/* cgroup.freeze: 1 stops every task of the cgroup, 0 lets them go on. */
static void
v2_freeze(const char *cgroup, bool frozen)
{
    char root[PATH_MAX], dir[PATH_MAX * 2];

    if (!v2_root(root, sizeof(root)))
        die("no cgroup2 hierarchy with its controllers for %s", cgroup);
    snprintf(dir, sizeof(dir), "%s/%s", root, cgroup);
    cgroup_write(dir, "cgroup.freeze", frozen ? "1" : "0");
    /* cgroup.events says "frozen 1" once every task has stopped. */
    for (int i = 0; frozen && i < 100; i++) {
        if (cgroup_read_number(dir, "cgroup.events", "frozen") == 1)
            return;
        usleep(10000);
    }
    if (frozen) {
        errno = ETIMEDOUT;
        die("%s/cgroup.events: not \"frozen 1\" after 1 s: a task is "
            "still running (it may be in the middle of a system call)",
            dir);
    }
}

/* ---- the flow: the runtime's side ---- */

static enum cgroup_version
version_here(void)
{
    char root[PATH_MAX];

    if (v2_root(root, sizeof(root)))
        return CGROUP_V2;
    return cgroup_v1_available() ? CGROUP_V1 : CGROUP_NONE;
}

/*
 * What a cgroup's files say, read by version; -1 for what it lacks. Not
 * all: the OOM kills alone, which are said at exit in any case.
 */
void
cgroup_read_stats(enum cgroup_version v, const char *cgroup,
                  struct cgroup_stats *s, bool all)
{
    char root[PATH_MAX], dir[PATH_MAX * 2];

    *s = (struct cgroup_stats){-1, -1, -1, -1, -1, -1, -1};
    if (v == CGROUP_V1) {
        cgroup_v1_stats(cgroup, s, all);
    } else if (v == CGROUP_V2 && v2_root(root, sizeof(root))) {
        snprintf(dir, sizeof(dir), "%s/%s", root, cgroup);
        v2_stats(dir, s, all);
    }
}

/* Freezes or thaws a container's cgroup, by version. */
void
cgroup_freeze(enum cgroup_version v, const char *cgroup, bool frozen)
{
    if (v == CGROUP_V1)
        cgroup_v1_freeze(cgroup, frozen);
    else
        v2_freeze(cgroup, frozen);
}

/* Thaws (v1), kills what is left and removes the cgroup, by version. */
static void
remove_cgroup(enum cgroup_version v, const char *cgroup)
{
    char root[PATH_MAX], dir[PATH_MAX * 2];

    if (v == CGROUP_V1) {
        cgroup_v1_remove(cgroup);
    } else if (v == CGROUP_V2 && v2_root(root, sizeof(root))) {
        snprintf(dir, sizeof(dir), "%s/%s", root, cgroup);
        v2_remove(dir);
        cgroup_remove_parent(root, cgroup);
    }
}

/* The runtime's own cgroup, once remove_own_cgroup() has removed it. */
static const char *own_removed;

/*
 * The runtime's cleanup: the accounting is read first (--stats), while
 * the cgroup still exists, and an OOM kill is said in any case
 * (cgroup-options.c). Then whatever is left is killed, and the cgroup
 * removed.
 */
static void
remove_own_cgroup(void *arg)
{
    const struct container *c = arg;
    struct cgroup_stats s;

    cgroup_read_stats(c->cgroup_version, c->cgroup, &s, c->opts->stats);
    report_cgroup_stats(c, &s);
    remove_cgroup(c->cgroup_version, c->cgroup);
    own_removed = c->cgroup;
}

/*
 * Rootless, on v2: the subtree delegated to the caller, if any. systemd
 * delegates one to each user (user@UID.service, and any unit started
 * with Delegate=yes) by giving the user its directory and its
 * cgroup.procs, cgroup.subtree_control and cgroup.threads: the user may
 * make cgroups below it, write their limits and move its own processes
 * between them. The caller's cgroup is /proc/self/cgroup's "0::" line;
 * the delegation's root, the highest of it and its ancestors the caller
 * owns. Its path below cgroup2's root goes to rel.
 */
bool
cgroup_delegated(char *rel, size_t len)
{
    char root[PATH_MAX], own[PATH_MAX + 8] = "", line[PATH_MAX + 8];
    char dir[PATH_MAX * 2], procs[PATH_MAX * 2 + 16];
    struct stat st;
    bool found = false;
    FILE *f;

    if (!v2_root(root, sizeof(root)) || !(f = fopen("/proc/self/cgroup", "re")))
        return false;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "0::/", 4) == 0)
            snprintf(own, sizeof(own), "%s", line + 4);
    fclose(f);
    own[strcspn(own, "\n")] = '\0';
    while (own[0]) {
        char *slash = strrchr(own, '/');

        if (snprintf(dir, sizeof(dir), "%s/%s", root, own) >=
                (int)sizeof(dir) ||
            snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir) >=
                (int)sizeof(procs) ||
            stat(dir, &st) == -1 || st.st_uid != geteuid() ||
            access(procs, W_OK) == -1)
            break;
        found = snprintf(rel, len, "%s", own) < (int)len;
        if (!slash)
            break;
        *slash = '\0';
    }
    return found;
}

/*
 * v2: the container's cgroup below top, the root of cgroup2 (root) or
 * of the delegated subtree (rootless), where the controllers are handed
 * down from; then its limits.
 */
static void
make_v2(const struct container *c, const char *delegated)
{
    char root[PATH_MAX], top[PATH_MAX * 2], dir[PATH_MAX * 2];
    size_t skip = delegated[0] ? strlen(delegated) + 1 : 0;

    v2_root(root, sizeof(root));
    snprintf(top, sizeof(top), "%s%s%s", root, skip ? "/" : "", delegated);
    cgroup_make_dirs(top, c->cgroup + skip, v2_enable_controllers);
    snprintf(dir, sizeof(dir), "%s/%s", root, c->cgroup);
    v2_limits(dir, c->opts);
}

/*
 * Under the state lock, before clone(): the name, then the cgroup and
 * its limits. The record names the cgroup before it exists, and its
 * removal is on the cleanup list before it is made, so that no exit, not
 * even a SIGKILL of the runtime (the next run's sweep), leaves it.
 * Rootless, the cgroup goes in the caller's delegated subtree, if any.
 */
void
parent_make_cgroup(struct container *c)
{
    const struct options *o = c->opts;
    char delegated[PATH_MAX] = "";
    int len;

    c->cgroup_dir = -1;
    choose_cgroup_name(c);
    if (!o->rootless)
        c->cgroup_version = version_here();
    else if (cgroup_delegated(delegated, sizeof(delegated)))
        c->cgroup_version = CGROUP_V2;
    if (c->cgroup_version == CGROUP_NONE) {
        say_no_cgroup(o);
        return;
    }
    if (delegated[0])
        len = snprintf(c->cgroup, sizeof(c->cgroup),
                       "%s/" CGROUP_DEFAULT_PARENT "/%s", delegated, c->name);
    else
        len = snprintf(c->cgroup, sizeof(c->cgroup), "%s/%s", cgroup_parent(),
                       c->name);
    if (len >= (int)sizeof(c->cgroup)) {
        errno = ENAMETOOLONG;
        die("the container's cgroup path: longer than %zu bytes",
            sizeof(c->cgroup) - 1);
    }
    if (state_record_set("cgroup", c->cgroup) == -1 ||
        state_record_set("cgroup_version", version_names[c->cgroup_version]))
        die("%s", state_failed_call());
    if (cleanup_push(remove_own_cgroup, c, "the container's cgroup") == -1)
        die("cleanup_push()");
    trace("cgroup: %s, %s%s", version_names[c->cgroup_version], c->cgroup,
          delegated[0] ? " (delegated to this user)" : "");
    if (c->cgroup_version == CGROUP_V1) {
        c->v1_count = cgroup_v1_hierarchies(c->v1, CGROUP_V1_MAX, o);
        cgroup_v1_make(c->cgroup, o, c->v1, c->v1_count);
    } else {
        make_v2(c, delegated);
    }
    open_join_files(c);
}

/*
 * The release function for a stale record: its runtime is gone. Its
 * container died with it (PR_SET_PDEATHSIG), except a frozen one on v1,
 * whose tasks wait until thawed: thawed, killed and removed here. Only
 * the cgroup the record names is touched, and only a path of ours. The
 * runtime's own record comes here too, at its exit, after
 * remove_own_cgroup() has removed its cgroup: nothing is left to do.
 */
void
parent_release_cgroup(const char *record)
{
    char cgroup[PATH_MAX], version[8];

    if (state_get(record, "cgroup", cgroup, sizeof(cgroup)) == -1 ||
        state_get(record, "cgroup_version", version, sizeof(version)) == -1 ||
        !valid_cgroup_path(cgroup))
        return;
    if (own_removed && strcmp(cgroup, own_removed) == 0)
        return;
    remove_cgroup(cgroup_version_named(version), cgroup);
}

/* ---- the flow: the child's side ---- */

/*
 * unshare(2) CLONE_NEWCGROUP, cgroup_namespaces(7): a cgroup namespace
 * is rooted where its creator stands, its cgroup in each hierarchy. So
 * it is made now, by the child, once it is in the container's cgroup
 * (join_cgroup()): /proc/self/cgroup then shows "/", and the host's
 * paths stay hidden. clone() could not do it on v1: the child was not
 * inside yet.
 */
void
setup_cgroup_namespace(void)
{
    must(unshare(CLONE_NEWCGROUP), "unshare(CLONE_NEWCGROUP)");
}

/*
 * A cgroup filesystem on sys/fs/cgroup, before pivot_root(2), so that
 * tools inside read their own limits. Mounted in the new namespace, it
 * shows the container's cgroup as its root; read-only, and root inside
 * could not change its limits anyway: the files belong to the host's
 * root, unmapped here.
 */
void
setup_cgroup_mounts(const struct container *c)
{
    if (c->cgroup_version == CGROUP_V1) {
        setup_cgroup_v1_mounts(c);
        return;
    }
    if (c->cgroup_version != CGROUP_V2)
        return;
    must(mount("cgroup2", "sys/fs/cgroup", "cgroup2",
               MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL),
         "mount(\"cgroup2\", \"sys/fs/cgroup\", \"cgroup2\", "
         "MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL)");
}
