/*
 * cgroup-options.c: what a user says to step 07's cgroups, and is told.
 *
 * The options and their checks (--memory, --pids, --cpus, the weights);
 * the container's name, which --freeze, --thaw and --usage take to act
 * on a running container; and the lines said at exit (--stats, an OOM
 * kill). The cgroup work itself is in cgroup.c (v2) and cgroup-v1.c.
 *
 * Man pages: cgroups(7); the kernel's Documentation/admin-guide/
 * cgroup-v2.rst for the ranges of the values.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "step.h"

#define NAME_LEN_MAX 64
#define WEIGHT_MAX 10000L /* cpu.weight and io.weight: 1-10000 */
#define PIDS_MAX 4194304L /* PID_MAX_LIMIT: no more tasks can exist */

/* ---- the options ---- */

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
bool
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
    long online;

    if (!text)
        return 0;
    online = sysconf(_SC_NPROCESSORS_ONLN);
    errno = 0;
    cpus = strtod(text, &end);
    if (end == text || *end || errno || !isfinite(cpus) ||
        cpus * CGROUP_CPU_PERIOD_US < 1000 || cpus > 1000)
        usage_error("--cpus %s: not a number of CPUs from 0.01 to 1000", text);
    if (online > 0 && cpus > online)
        fprintf(stderr,
                "%s: --cpus %s: more than the %ld CPUs here, so no limit in "
                "effect\n",
                program_name, text, online);
    return (long)(cpus * CGROUP_CPU_PERIOD_US + 0.5);
}

/* Whether the user asked for anything a cgroup must do. */
bool
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
    char delegated[PATH_MAX];

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
    if (geteuid() != 0 && wants_cgroup(o) &&
        !cgroup_delegated(delegated, sizeof(delegated)))
        usage_error("--memory, --pids, --cpus, --cpu-weight, --io-weight and "
                    "--stats need a cgroup: root's, or a cgroup v2 subtree "
                    "delegated to you (systemd-run --user --scope -p "
                    "Delegate=yes ...); neither is here");
}

/* Root on a machine with no cgroup filesystem at all, or rootless. */
void
say_no_cgroup(const struct options *o)
{
    if (wants_cgroup(o)) {
        errno = ENOENT;
        die_hint("mount cgroup2 on /sys/fs/cgroup (or the v1 hierarchies)",
                 "no cgroup hierarchy in /proc/self/mountinfo");
    }
    fprintf(stderr,
            "%s: %s: the container runs without a cgroup of its own "
            "(no limits, no accounting)%s\n",
            program_name, o->rootless ? "rootless" : "no cgroup hierarchy",
            o->rootless ? ": no cgroup v2 subtree is delegated to you" : "");
}

/* ---- the name, and control by name ---- */

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
void
choose_cgroup_name(struct container *c)
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

/* A value of --stats or --usage: the number, or "unknown" where none is kept.
 */
static void
print_stat(FILE *out, const char *key, long long value)
{
    if (value < 0)
        fprintf(out, "%s=unknown\n", key);
    else
        fprintf(out, "%s=%lld\n", key, value);
}

/* A version as a record writes it ("v1", "v2"); CGROUP_NONE otherwise. */
enum cgroup_version
cgroup_version_named(const char *name)
{
    return strcmp(name, "v1") == 0   ? CGROUP_V1
           : strcmp(name, "v2") == 0 ? CGROUP_V2
                                     : CGROUP_NONE;
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
    v = cgroup_version_named(f.version);
    if (!f.taken || v == CGROUP_NONE || !valid_cgroup_path(f.cgroup)) {
        errno = f.taken ? ENOENT : ESRCH;
        die_hint(f.taken ? "it runs without a cgroup (rootless)" : NULL,
                 "%s: %s", name,
                 f.taken ? "no cgroup" : "no running container has that name");
    }
    if (o->usage) {
        cgroup_read_stats(v, f.cgroup, &s, true);
        print_stat(stdout, "cpu_usec", s.cpu_usec);
        print_stat(stdout, "memory_bytes", s.memory_now);
        print_stat(stdout, "pids", s.pids_now);
        print_stat(stdout, "frozen", s.frozen);
        return 0;
    }
    cgroup_freeze(v, f.cgroup, o->freeze != NULL);
    return 0;
}

/* ---- what is said at exit ---- */

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

/*
 * At exit: --stats, one key=value a line; and an OOM kill in any case,
 * as the exit status 137 alone does not say who sent the SIGKILL.
 */
void
report_cgroup_stats(const struct container *c, const struct cgroup_stats *s)
{
    const struct options *o = c->opts;

    if (o->stats) {
        print_stat(stderr, "cpu_usec", s->cpu_usec);
        print_stat(stderr, "memory_peak_bytes", s->memory_peak);
        print_stat(stderr, "pids_peak", s->pids_peak);
        print_stat(stderr, "oom_kills", s->oom_kills);
    }
    if (s->oom_kills > 0)
        fprintf(stderr,
                "%s: the OOM killer killed %lld process(es) of the "
                "container: it reached %s%s\n",
                program_name, s->oom_kills,
                o->memory == NO_MEMORY_LIMIT ? "a memory limit above its own"
                                             : "--memory ",
                o->memory == NO_MEMORY_LIMIT ? "" : size_str(o->memory));
}
