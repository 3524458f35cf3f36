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
 * controllers, v1 otherwise. The flow, in the order that matters:
 *
 *   runtime, before clone  mkdir the cgroup, write its limits, record it
 *   runtime, after clone   write the child's PID to cgroup.procs, then
 *                          release it: COMMAND starts inside
 *   child                  unshare(CLONE_NEWCGROUP): its cgroup becomes
 *                          its "/"; a cgroup filesystem, read-only, on
 *                          /sys/fs/cgroup
 *   runtime, at exit       read the accounting, kill what is left, rmdir
 *
 * Rootless, there is no cgroup: an ordinary user may not make one at the
 * root. On v2 a systemd user session delegates a subtree of its own,
 * which a later version may use; for now the container runs without one,
 * and says so.
 *
 * Man pages: cgroups(7), cgroup_namespaces(7), unshare(2), mount(2); the
 * kernel's Documentation/admin-guide/cgroup-v2.rst.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "step.h"

#define DEFAULT_PARENT "boxstep"
#define NAME_LEN_MAX 64
#define CPU_PERIOD_US 100000L /* cpu.max's period: 0.1 s */
#define WEIGHT_MAX 10000L /* cpu.weight and io.weight: 1-10000 */
#define PIDS_MAX 4194304L /* PID_MAX_LIMIT: no more tasks can exist */

static const char *const version_names[] = {
    [CGROUP_NONE] = "none",
    [CGROUP_V1] = "v1",
    [CGROUP_V2] = "v2",
};

/* ---- files of a cgroup: each write traced, each failure named ---- */

/* dir/file into path; -1 (ENAMETOOLONG) when it does not fit. */
static int
file_path(char *path, size_t len, const char *dir, const char *file)
{
    if (snprintf(path, len, "%s/%s", dir, file) < (int)len)
        return 0;
    errno = ENAMETOOLONG;
    return -1;
}

/* Writes value to dir/file; -1 with errno set when the kernel refuses. */
int
cgroup_try_write(const char *dir, const char *file, const char *value)
{
    char path[PATH_MAX * 2];
    ssize_t n = -1;
    int fd, err;

    if (file_path(path, sizeof(path), dir, file) == -1)
        return -1;
    /* open(2), write(2): a cgroup file takes one value per write. */
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd != -1) {
        n = write(fd, value, strlen(value));
        err = errno;
        close(fd);
        errno = err;
    }
    return trace_call(n == -1 ? -1 : 0, "write(\"%s\", \"%s\")", path, value);
}

/* The same, for what the container needs: a refusal is fatal. */
void
cgroup_write(const char *dir, const char *file, const char *value)
{
    if (cgroup_try_write(dir, file, value) == 0)
        return;
    die_hint(errno == ENOENT ? "no such file: its controller is not "
                               "enabled for this cgroup"
                             : NULL,
             "write(\"%s/%s\", \"%s\")", dir, file, value);
}

/* Whether dir/file exists: which files a cgroup has tells what it can do. */
bool
cgroup_has_file(const char *dir, const char *file)
{
    char path[PATH_MAX * 2];

    return file_path(path, sizeof(path), dir, file) == 0 &&
           access(path, F_OK) == 0;
}

/* Reads the first line of dir/file into buf, newline dropped. */
int
cgroup_read(const char *dir, const char *file, char *buf, size_t len)
{
    char path[PATH_MAX * 2];
    FILE *f;

    buf[0] = '\0';
    if (file_path(path, sizeof(path), dir, file) == -1 ||
        !(f = fopen(path, "re")))
        return -1;
    if (!fgets(buf, len, f))
        buf[0] = '\0';
    fclose(f);
    buf[strcspn(buf, "\n")] = '\0';
    return 0;
}

/* A number: the file's first word, or the value of "key N" in it; or -1. */
long long
cgroup_read_number(const char *dir, const char *file, const char *key)
{
    char path[PATH_MAX * 2], word[64];
    long long value, found = -1;
    FILE *f;

    if (file_path(path, sizeof(path), dir, file) == -1 ||
        !(f = fopen(path, "re")))
        return -1;
    if (!key)
        found = fscanf(f, "%lld", &value) == 1 ? value : -1;
    while (key && found == -1 && fscanf(f, "%63s %lld", word, &value) == 2)
        if (strcmp(word, key) == 0)
            found = value;
    fclose(f);
    return found;
}

/*
 * Sends SIGKILL to each process in dir/cgroup.procs, for up to rounds
 * rounds 10 ms apart, until it is empty (a PID read there is one of this
 * PID namespace). Returns 0 once it is empty or gone, -1 (EBUSY) if not.
 */
int
cgroup_kill_procs(const char *dir, int rounds)
{
    char path[PATH_MAX * 2];

    if (file_path(path, sizeof(path), dir, "cgroup.procs") == -1)
        return -1;
    for (int round = 0; round < rounds; round++) {
        FILE *f = fopen(path, "re");
        int pid, found = 0;

        if (!f)
            return 0;
        while (fscanf(f, "%d", &pid) == 1 && ++found)
            /* kill(2); 0 is a process this PID namespace does not see
             * (v2 lists it so), and kill(0) would hit our own group. */
            if (pid > 0)
                trace_call(kill(pid, SIGKILL), "kill(%d, SIGKILL)", pid);
        fclose(f);
        if (!found)
            return 0;
        usleep(10000);
    }
    errno = EBUSY;
    return -1;
}

/*
 * rmdir(2) of an empty cgroup; a cgroup whose last tasks are still
 * exiting is busy (EBUSY) for a moment. One already gone is no error.
 */
void
cgroup_remove_dir(const char *dir)
{
    int ret;

    for (int i = 0; i < 100; i++) {
        ret = rmdir(dir);
        if (ret == 0 || errno != EBUSY)
            break;
        usleep(10000);
    }
    if (ret == -1 && errno == ENOENT)
        return;
    if (trace_call(ret, "rmdir(\"%s\")", dir) == -1)
        warn("rmdir(\"%s\")", dir);
}

/*
 * boxstep's parent at a hierarchy's root goes with its last container,
 * as the state directory does: rmdir(2) fails (EBUSY) while another
 * container's cgroup is in it, and a runtime that makes one after this
 * makes the parent again (cgroup_make_dirs()). The harness's parent
 * (BOXSTEP_CGROUP_PARENT) is the harness's to remove.
 */
void
cgroup_remove_parent(const char *mnt)
{
    char dir[PATH_MAX + 16];

    if (getenv("BOXSTEP_CGROUP_PARENT"))
        return;
    snprintf(dir, sizeof(dir), "%s/" DEFAULT_PARENT, mnt);
    if (rmdir(dir) == 0)
        trace("rmdir(\"%s\") = 0", dir);
}

/* The cgroup filesystems mounted at a hierarchy's root, read once. */
static struct {
    char type[32]; /* "cgroup" (v1) or "cgroup2" */
    char mnt[PATH_MAX]; /* its mount point */
    char super[256]; /* its super options: "rw,memory" */
} mounts[16];
static int mount_count = -1;

/*
 * /proc/self/mountinfo (proc(5)), once per run: its cgroup lines whose
 * field 4, the root of the mount in its filesystem, is "/": only those
 * show the paths the runtime makes.
 */
static void
read_cgroup_mounts(void)
{
    char line[2048], root[PATH_MAX], mnt[PATH_MAX], type[32], super[256];
    FILE *f = fopen("/proc/self/mountinfo", "re");

    mount_count = 0;
    while (f && mount_count < (int)ARRAY_SIZE(mounts) &&
           fgets(line, sizeof(line), f)) {
        char *sep = strstr(line, " - ");

        if (!sep || sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2 ||
            sscanf(sep + 3, "%31s %*s %255s", type, super) != 2 ||
            (strcmp(type, "cgroup") && strcmp(type, "cgroup2")) ||
            strcmp(root, "/"))
            continue;
        snprintf(mounts[mount_count].type, sizeof(mounts[0].type), "%s", type);
        snprintf(mounts[mount_count].mnt, sizeof(mounts[0].mnt), "%s", mnt);
        snprintf(mounts[mount_count].super, sizeof(mounts[0].super), "%s",
                 super);
        mount_count++;
    }
    if (f)
        fclose(f);
}

/* Whether word is one of the comma-separated words of list. */
static bool
has_option(const char *list, const char *word)
{
    size_t len = strlen(word);

    for (const char *s = strstr(list, word); s; s = strstr(s + 1, word))
        if ((s == list || s[-1] == ',') && (s[len] == ',' || !s[len]))
            return true;
    return false;
}

/*
 * The mount point of a hierarchy at its root: fstype "cgroup2", or
 * "cgroup" with option among its super options (a v1 controller). With
 * opts, the super options too.
 */
bool
cgroup_mount_point(const char *fstype, const char *option, char *path,
                   size_t len, char *opts, size_t opts_len)
{
    if (mount_count == -1)
        read_cgroup_mounts();
    for (int i = 0; i < mount_count; i++) {
        if (strcmp(mounts[i].type, fstype) ||
            (option && !has_option(mounts[i].super, option)))
            continue;
        snprintf(path, len, "%s", mounts[i].mnt);
        if (opts)
            snprintf(opts, opts_len, "%s", mounts[i].super);
        return true;
    }
    return false;
}

/* ---- options ---- */

/* A name of ours: letters, digits, - _ . ; no ".", "..", or leading '-'. */
static bool
valid_name(const char *name)
{
    size_t len = strlen(name);

    if (len == 0 || len > NAME_LEN_MAX || name[0] == '-' ||
        strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    for (const char *s = name; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("-_.", *s))
            return false;
    return true;
}

/* A cgroup path below the roots: valid names joined by '/'. */
static bool
valid_cgroup_path(const char *path)
{
    char copy[PATH_MAX], *word, *save;
    int words = 0;

    if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy) ||
        !path[0] || path[0] == '/' || strstr(path, "//") ||
        path[strlen(path) - 1] == '/')
        return false;
    for (word = strtok_r(copy, "/", &save); word;
         word = strtok_r(NULL, "/", &save), words++)
        if (!valid_name(word))
            return false;
    return words > 0;
}

static void
check_name(const char *opt, const char *name)
{
    if (name && !valid_name(name))
        usage_error("--%s %s: a name is 1-%d letters, digits, '-', '_' or "
                    "'.', and not '.', '..' or a leading '-'",
                    opt, name, NAME_LEN_MAX);
}

/* A whole number from 1 to max, or 0 when the option was not given. */
static long
parse_count(const char *opt, const char *text, long max)
{
    char *end;
    long value;

    if (!text)
        return 0;
    errno = 0;
    value = strtol(text, &end, 10);
    if (end == text || *end || errno || value < 1 || value > max)
        usage_error("--%s %s: not a whole number from 1 to %ld", opt, text,
                    max);
    return value;
}

/*
 * --cpus N.N: CPUs' worth of time per period, as a quota in microseconds
 * (cpu.max, cpu.cfs_quota_us); the kernel takes no quota under 1 ms.
 * More CPUs than the machine has is no limit at all: said, not refused.
 */
static long
parse_cpus(const char *text)
{
    char *end;
    double cpus;
    long online = sysconf(_SC_NPROCESSORS_ONLN);

    if (!text)
        return 0;
    errno = 0;
    cpus = strtod(text, &end);
    if (end == text || *end || errno || !isfinite(cpus) ||
        cpus * CPU_PERIOD_US < 1000 || cpus > 1000)
        usage_error("--cpus %s: not a number of CPUs from 0.01 to 1000", text);
    if (online > 0 && cpus > online)
        fprintf(stderr,
                "%s: --cpus %s: more than the %ld CPUs here, so no limit in "
                "effect\n",
                program_name, text, online);
    return (long)(cpus * CPU_PERIOD_US + 0.5);
}

/* Whether the user asked for anything a cgroup must do. */
static bool
wants_cgroup(const struct options *o)
{
    return o->memory != NO_MEMORY_LIMIT || o->pids || o->cpu_quota ||
           o->cpu_weight || o->io_weight || o->stats;
}

/*
 * --name, the limits, the control options; and the parent, from
 * BOXSTEP_CGROUP_PARENT. Rootless, there is no cgroup: what needs one is
 * refused.
 */
void
parse_cgroup(struct options *o)
{
    const char *parent = getenv("BOXSTEP_CGROUP_PARENT");

    check_name("name", o->name);
    check_name("freeze", o->freeze);
    check_name("thaw", o->thaw);
    check_name("usage", o->usage);
    if (!!o->freeze + !!o->thaw + !!o->usage > 1)
        usage_error("--freeze, --thaw and --usage: one at a time");
    if (o->memory == 0)
        usage_error("--memory 0: a limit must be above 0");
    o->pids = parse_count("pids", o->pids_spec, PIDS_MAX);
    o->cpu_weight = parse_count("cpu-weight", o->cpu_weight_spec, WEIGHT_MAX);
    o->io_weight = parse_count("io-weight", o->io_weight_spec, WEIGHT_MAX);
    o->cpu_quota = parse_cpus(o->cpus_spec);
    if (parent && !valid_cgroup_path(parent))
        usage_error("BOXSTEP_CGROUP_PARENT=%s: not a cgroup path below the "
                    "root (names joined by '/')",
                    parent);
    if (geteuid() != 0 && wants_cgroup(o))
        usage_error("--memory, --pids, --cpus, --cpu-weight, --io-weight and "
                    "--stats need a cgroup, which only root may make here: "
                    "run it with sudo (a rootless container has none)");
}

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

/* cgroup2's mount point when its root offers memory, pids and cpu. */
static bool
v2_root(char *root, size_t len)
{
    char controllers[256];

    return cgroup_mount_point("cgroup2", NULL, root, len, NULL, 0) &&
           cgroup_read(root, "cgroup.controllers", controllers,
                       sizeof(controllers)) == 0 &&
           has_word(controllers, "memory") && has_word(controllers, "pids") &&
           has_word(controllers, "cpu");
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
 * mkdir(2) in a cgroup filesystem makes a cgroup, its files filled in by
 * the kernel. The parent's levels below root may exist already; the
 * container's own may not: its name is its own. parent_ready, when given,
 * is called on root and each level above the container's (v2 enables the
 * controllers there).
 */
void
cgroup_make_dirs(const char *root, const char *cgroup,
                 void (*parent_ready)(const char *dir))
{
    char dir[PATH_MAX * 2];
    size_t len;
    int tries = 0;

again:
    len = snprintf(dir, sizeof(dir), "%s", root);
    if (parent_ready)
        parent_ready(dir);
    for (const char *s = cgroup; *s; s += strcspn(s, "/"), s += *s == '/') {
        int n = strcspn(s, "/");
        bool last = s[n] == '\0';

        len += snprintf(dir + len, sizeof(dir) - len, "/%.*s", n, s);
        if (trace_call(mkdir(dir, 0755), "mkdir(\"%s\", 0755)", dir) == -1 &&
            (last || errno != EEXIST)) {
            /* Another runtime's last container took the parent away
             * between two of these mkdirs (cgroup_remove_parent()). */
            if (errno == ENOENT && tries++ < 3)
                goto again;
            die_hint(errno == EEXIST ? "a cgroup of that name is left, or "
                                       "belongs to a container of another "
                                       "state directory: --name another"
                                     : NULL,
                     "mkdir(\"%s\", 0755)", dir);
        }
        if (!last && parent_ready)
            parent_ready(dir);
    }
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
        snprintf(value, sizeof(value), "%ld %ld", o->cpu_quota, CPU_PERIOD_US);
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
v2_stats(const char *dir, struct cgroup_stats *s)
{
    s->cpu_usec = cgroup_read_number(dir, "cpu.stat", "usage_usec");
    s->memory_peak = cgroup_read_number(dir, "memory.peak", NULL);
    s->pids_peak = cgroup_read_number(dir, "pids.peak", NULL);
    s->oom_kills = cgroup_read_number(dir, "memory.events", "oom_kill");
    s->memory_now = cgroup_read_number(dir, "memory.current", NULL);
    s->pids_now = cgroup_read_number(dir, "pids.current", NULL);
    s->frozen = cgroup_read_number(dir, "cgroup.events", "frozen");
}

/*
 * cgroup.kill (Linux 5.14) kills every process of the cgroup at once,
 * frozen or not; then, or on an older kernel instead, each PID still in
 * cgroup.procs gets SIGKILL until none is left.
 */
static void
v2_remove(const char *dir)
{
    if (access(dir, F_OK) == -1)
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

/* Where the container's cgroups go: BOXSTEP_CGROUP_PARENT, or boxstep. */
static const char *
cgroup_parent(void)
{
    return getenv("BOXSTEP_CGROUP_PARENT") ?: DEFAULT_PARENT;
}

struct found {
    const char *name; /* the name looked for */
    bool taken; /* a live record holds it */
    char cgroup[PATH_MAX]; /* its record's cgroup, or "" */
    char version[8]; /* and its version */
};

static void
note_name(const char *record, void *arg)
{
    struct found *f = arg;
    char name[NAME_LEN_MAX + 1];

    if (state_get(record, "name", name, sizeof(name)) == -1 ||
        strcmp(name, f->name))
        return;
    f->taken = true;
    state_get(record, "cgroup", f->cgroup, sizeof(f->cgroup));
    state_get(record, "cgroup_version", f->version, sizeof(f->version));
}

/* Whether a live record holds name (the state directory is locked). */
static bool
name_taken(const char *name)
{
    struct found f = {.name = name};

    if (state_each(note_name, &f) == -1)
        die("%s", state_failed_call());
    return f.taken;
}

/*
 * The container's name: --name, or box-PID with the runtime's PID, and a
 * number after it while a live record holds that (a runtime of another
 * PID namespace may have the same PID). Recorded under the lock, so two
 * runs cannot both take it.
 */
static void
choose_name(struct container *c)
{
    const char *name = c->opts->name;

    if (name && name_taken(name)) {
        errno = EEXIST;
        die_hint("two running containers cannot share a name: choose "
                 "another, or leave --name out for a generated one",
                 "--name %s: a running container has it", name);
    }
    if (name)
        snprintf(c->name, sizeof(c->name), "%s", name);
    else
        snprintf(c->name, sizeof(c->name), "box-%d", (int)getpid());
    for (int i = 2; !name && name_taken(c->name); i++)
        snprintf(c->name, sizeof(c->name), "box-%d-%d", (int)getpid(), i);
    if (state_record_set("name", c->name) == -1)
        die("%s", state_failed_call());
}

static enum cgroup_version
version_here(void)
{
    char root[PATH_MAX];

    if (v2_root(root, sizeof(root)))
        return CGROUP_V2;
    return cgroup_v1_available() ? CGROUP_V1 : CGROUP_NONE;
}

/* What a cgroup's files say, read by version; -1 for what it lacks. */
static void
read_stats(enum cgroup_version v, const char *cgroup, struct cgroup_stats *s)
{
    char root[PATH_MAX], dir[PATH_MAX * 2];

    *s = (struct cgroup_stats){-1, -1, -1, -1, -1, -1, -1};
    if (v == CGROUP_V1) {
        cgroup_v1_stats(cgroup, s);
    } else if (v == CGROUP_V2 && v2_root(root, sizeof(root))) {
        snprintf(dir, sizeof(dir), "%s/%s", root, cgroup);
        v2_stats(dir, s);
    }
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
        cgroup_remove_parent(root);
    }
}

/* A size as --memory takes it: 64M rather than 67108864. */
static const char *
size_str(unsigned long long bytes)
{
    static char text[32];
    const char *units = "GMK";
    int shift = 30;

    for (const char *u = units; *u; u++, shift -= 10)
        if (bytes && bytes % (1ULL << shift) == 0) {
            snprintf(text, sizeof(text), "%llu%c", bytes >> shift, *u);
            return text;
        }
    snprintf(text, sizeof(text), "%llu bytes", bytes);
    return text;
}

/* A value of --stats: the number, or "unknown" where the kernel keeps none. */
static void
print_stat(const char *key, long long value)
{
    if (value < 0)
        fprintf(stderr, "%s=unknown\n", key);
    else
        fprintf(stderr, "%s=%lld\n", key, value);
}

/*
 * The runtime's cleanup: the accounting is read first (--stats), while
 * the cgroup still exists; an OOM kill is said in any case, as the exit
 * status 137 alone does not say who sent the SIGKILL. Then whatever is
 * left is killed, and the cgroup removed.
 */
static void
remove_own_cgroup(void *arg)
{
    const struct container *c = arg;
    struct cgroup_stats s;

    read_stats(c->cgroup_version, c->cgroup, &s);
    if (c->opts->stats) {
        print_stat("cpu_usec", s.cpu_usec);
        print_stat("memory_peak_bytes", s.memory_peak);
        print_stat("pids_peak", s.pids_peak);
        print_stat("oom_kills", s.oom_kills);
    }
    if (s.oom_kills > 0)
        fprintf(stderr,
                "%s: the OOM killer killed %lld process(es) of the "
                "container: it reached %s%s\n",
                program_name, s.oom_kills,
                c->opts->memory == NO_MEMORY_LIMIT ? "a memory limit above "
                                                     "its own"
                                                   : "--memory ",
                c->opts->memory == NO_MEMORY_LIMIT ? ""
                                                   : size_str(c->opts->memory));
    remove_cgroup(c->cgroup_version, c->cgroup);
}

/* Root on a machine with no cgroup filesystem at all, or rootless. */
static void
say_no_cgroup(const struct options *o)
{
    if (wants_cgroup(o)) {
        errno = ENOENT;
        die_hint("mount cgroup2 on /sys/fs/cgroup (or the v1 hierarchies)",
                 "no cgroup hierarchy in /proc/self/mountinfo");
    }
    fprintf(stderr,
            "%s: %s: the container runs without a cgroup of its own "
            "(no limits, no accounting)\n",
            program_name, o->rootless ? "rootless" : "no cgroup hierarchy");
}

/*
 * Under the state lock, before clone(): the name, then the cgroup and
 * its limits. The record names the cgroup before it exists, and its
 * removal is on the cleanup list before it is made, so that no exit, not
 * even a SIGKILL of the runtime (the next run's sweep), leaves it.
 */
void
parent_make_cgroup(struct container *c)
{
    const struct options *o = c->opts;
    char root[PATH_MAX], dir[PATH_MAX * 2];

    choose_name(c);
    c->cgroup_version = o->rootless ? CGROUP_NONE : version_here();
    if (c->cgroup_version == CGROUP_NONE) {
        say_no_cgroup(o);
        return;
    }
    snprintf(c->cgroup, sizeof(c->cgroup), "%s/%s", cgroup_parent(), c->name);
    if (state_record_set("cgroup", c->cgroup) == -1 ||
        state_record_set("cgroup_version", version_names[c->cgroup_version]))
        die("%s", state_failed_call());
    if (cleanup_push(remove_own_cgroup, c, "the container's cgroup") == -1)
        die("cleanup_push()");
    trace("cgroup: %s, %s", version_names[c->cgroup_version], c->cgroup);
    if (c->cgroup_version == CGROUP_V1) {
        c->v1_count = cgroup_v1_hierarchies(c->v1, CGROUP_V1_MAX);
        cgroup_v1_make(c->cgroup, o, c->v1, c->v1_count);
        return;
    }
    v2_root(root, sizeof(root));
    cgroup_make_dirs(root, c->cgroup, v2_enable_controllers);
    snprintf(dir, sizeof(dir), "%s/%s", root, c->cgroup);
    v2_limits(dir, o);
}

/*
 * After clone(), while the child waits on the pipe: writing its PID to
 * cgroup.procs moves it in (cgroup-v2.rst, "Processes"), so COMMAND and
 * everything it forks start inside. On v2, clone3(CLONE_INTO_CGROUP)
 * could have made it there; v1 has no such call.
 */
void
parent_join_cgroup(const struct container *c)
{
    char root[PATH_MAX], dir[PATH_MAX * 2], pid[16];

    snprintf(pid, sizeof(pid), "%d", (int)c->pid);
    if (c->cgroup_version == CGROUP_V1) {
        cgroup_v1_join(c->cgroup, pid, c->v1, c->v1_count);
    } else if (c->cgroup_version == CGROUP_V2) {
        v2_root(root, sizeof(root));
        snprintf(dir, sizeof(dir), "%s/%s", root, c->cgroup);
        cgroup_write(dir, "cgroup.procs", pid);
    }
}

/*
 * The release function for a stale record: its runtime is gone. Its
 * container died with it (PR_SET_PDEATHSIG), except a frozen one on v1,
 * whose tasks wait until thawed: thawed, killed and removed here. Only
 * the cgroup the record names is touched, and only a path of ours.
 */
void
parent_release_cgroup(const char *record)
{
    char cgroup[PATH_MAX], version[8];

    if (state_get(record, "cgroup", cgroup, sizeof(cgroup)) == -1 ||
        state_get(record, "cgroup_version", version, sizeof(version)) == -1 ||
        !valid_cgroup_path(cgroup))
        return;
    remove_cgroup(strcmp(version, "v1") == 0   ? CGROUP_V1
                  : strcmp(version, "v2") == 0 ? CGROUP_V2
                                               : CGROUP_NONE,
                  cgroup);
}

/*
 * --freeze, --thaw, --usage NAME: the live record of that name gives its
 * cgroup. Freezing stops every task where it stands, as SIGSTOP would,
 * but unseen by the tasks and without a signal they could catch.
 */
int
control_cgroup(const struct options *o)
{
    const char *name = o->freeze ?: o->thaw ?: o->usage;
    struct found f = {.name = name};
    enum cgroup_version v;
    struct cgroup_stats s;

    if (state_each_locked(note_name, &f) == -1)
        die("%s", state_failed_call());
    v = strcmp(f.version, "v1") == 0   ? CGROUP_V1
        : strcmp(f.version, "v2") == 0 ? CGROUP_V2
                                       : CGROUP_NONE;
    if (!f.taken || v == CGROUP_NONE || !valid_cgroup_path(f.cgroup)) {
        errno = f.taken ? ENOENT : ESRCH;
        die_hint(f.taken ? "it runs without a cgroup (rootless)" : NULL,
                 "%s: %s", name,
                 f.taken ? "no cgroup" : "no running container has that name");
    }
    if (o->usage) {
        read_stats(v, f.cgroup, &s);
        printf("cpu_usec=%lld\nmemory_bytes=%lld\npids=%lld\nfrozen=%lld\n",
               s.cpu_usec, s.memory_now, s.pids_now, s.frozen);
        return 0;
    }
    if (v == CGROUP_V1)
        cgroup_v1_freeze(f.cgroup, o->freeze != NULL);
    else
        v2_freeze(f.cgroup, o->freeze != NULL);
    return 0;
}

/* ---- the flow: the child's side ---- */

/*
 * unshare(2) CLONE_NEWCGROUP, cgroup_namespaces(7): a cgroup namespace
 * is rooted where its creator stands, its cgroup in each hierarchy. So
 * it is made now, by the child, after the runtime moved it into the
 * container's cgroup: /proc/self/cgroup then shows "/", and the host's
 * paths stay hidden. clone() could not do it: the child was not inside
 * yet.
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
