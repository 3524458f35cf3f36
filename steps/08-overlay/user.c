/*
 * user.c: users and groups of its own, from step 06 on.
 *
 * The user namespace gives the child its own user and group ids, and its
 * own capabilities. It starts with no id at all: the runtime writes two
 * maps, uid_map and gid_map, saying which host ids the namespace's ids
 * stand for. Here uid 0 inside is an unprivileged uid outside, from a
 * range of 65536 the runtime reserves for this container alone. Root
 * inside has every capability, but only over what its namespace owns:
 * the other namespaces made with it (UTS, IPC, PID, mount, network), the
 * files of mapped ids. Everything the host owns still checks the host
 * uid, so a process that escapes owns nothing.
 *
 * Two files go with this one. idmap.c: files have one owner, on the
 * host, so the runtime prepares the rootfs and the volumes, and idmaps
 * the rootfs, so that host root's files look owned by root inside.
 * rootless.c: what changes when an ordinary user runs the step.
 *
 * Man pages: user_namespaces(7), capabilities(7), subuid(5),
 * setresuid(2), setgroups(2), keyrings(7), keyctl(2), cap_to_text(3).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/keyctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "step.h"

#define POOL_RANGES 1024UL /* ranges in the pool (step.h: its base, size) */
#define ID_MAX 4294967295UL /* (uid_t)-1 is no id */

/* "C:H:N", the three numbers of a line of uid_map, in that order. */
static void
parse_range(const char *opt, const char *spec, struct id_range *r)
{
    unsigned long v[3];
    const char *s = spec;
    char *end;

    for (int i = 0; i < 3; i++) {
        errno = 0;
        v[i] = strtoul(s, &end, 10);
        if (end == s || *s == '-' || errno || v[i] > ID_MAX ||
            *end != (i < 2 ? ':' : '\0'))
            usage_error("--%s %s: not CONTAINER:HOST:COUNT", opt, spec);
        s = end + 1;
    }
    *r = (struct id_range){.inside = v[0], .outside = v[1], .count = v[2]};
    if (r->count == 0)
        usage_error("--%s %s: an empty range (COUNT 0)", opt, spec);
    if (r->count > ID_MAX - r->inside || r->count > ID_MAX - r->outside)
        usage_error("--%s %s: the range runs past the last id, %lu", opt, spec,
                    ID_MAX - 1);
}

static bool
overlap(unsigned long a, unsigned long b, unsigned long count_a,
        unsigned long count_b)
{
    return a < b + count_b && b < a + count_a;
}

/*
 * The kernel refuses a map whose ranges overlap, inside or outside
 * (EINVAL); and root inside needs uid 0 inside to be mapped.
 */
static void
check_map(const char *opt, const struct id_map *m)
{
    bool has_root = false;

    for (size_t i = 0; i < m->len; i++) {
        const struct id_range *a = &m->ranges[i];

        has_root |= a->inside == 0;
        for (size_t j = 0; j < i; j++) {
            const struct id_range *b = &m->ranges[j];

            if (overlap(a->inside, b->inside, a->count, b->count) ||
                overlap(a->outside, b->outside, a->count, b->count))
                usage_error("--%s %lu:%lu:%lu overlaps --%s %lu:%lu:%lu", opt,
                            a->inside, a->outside, a->count, opt, b->inside,
                            b->outside, b->count);
        }
    }
    if (!has_root)
        usage_error("--%s: no range maps id 0 inside, so there is no root "
                    "inside",
                    opt);
}

static void
parse_map(const char *opt, const struct str_list *specs, struct id_map *m)
{
    for (size_t i = 0; i < specs->len; i++)
        parse_range(opt, specs->items[i], &m->ranges[i]);
    m->len = specs->len;
    if (m->len)
        check_map(opt, m);
}

/*
 * Root's containers must not share host ids with a user's own rootless
 * containers: a default range that meets an entry of /etc/subuid or
 * /etc/subgid is refused.
 */
static void
check_not_granted(const char *file, unsigned long base)
{
    char line[512], *who;
    unsigned long start, count;
    FILE *f = fopen(file, "re");

    while (f && fgets(line, sizeof(line), f))
        if (parse_subid_line(line, &who, &start, &count) &&
            overlap(base, start, RANGE_SIZE, count)) {
            fclose(f);
            errno = EEXIST;
            die_hint("boxstep's pool of host ids starts at 1048576, and no "
                     "user's entry may reach into it: move that entry, or "
                     "give --uidmap and --gidmap",
                     "the host ids %lu-%lu: %s gives %s %lu-%lu", base,
                     base + RANGE_SIZE - 1, file, who, start,
                     start + count - 1);
        }
    if (f)
        fclose(f);
}

/*
 * --uidmap, --gidmap, --no-idmap, and what a rootless caller may ask for.
 * A map given alone serves for both.
 */
void
parse_user(struct options *o)
{
    o->rootless = geteuid() != 0;
    parse_map("uidmap", &o->uidmap_specs, &o->uid_map);
    parse_map("gidmap", &o->gidmap_specs, &o->gid_map);
    if (!o->uid_map.len)
        o->uid_map = o->gid_map;
    if (!o->gid_map.len)
        o->gid_map = o->uid_map;
    parse_idmap(o);
    if (o->rootless)
        parse_rootless(o);
}

/* The record's "ids" field: the pool range a live container holds. */
static void
note_taken_range(const char *record, void *arg)
{
    bool *taken = arg;
    char value[24], *end;
    unsigned long base;

    if (state_get(record, "ids", value, sizeof(value)) != 0)
        return;
    base = strtoul(value, &end, 10);
    if (end != value && base >= POOL_BASE &&
        (base - POOL_BASE) % RANGE_SIZE == 0 &&
        (base - POOL_BASE) / RANGE_SIZE < POOL_RANGES)
        taken[(base - POOL_BASE) / RANGE_SIZE] = true;
}

static bool
is_own_id(const struct id_map *m, unsigned long own)
{
    return m->len == 1 && m->ranges[0].outside == own &&
           m->ranges[0].count == 1;
}

static void
set_single_range(struct id_map *m, unsigned long base)
{
    m->ranges[0] = (struct id_range){.outside = base, .count = RANGE_SIZE};
    m->len = 1;
}

/*
 * The shifted copy's range, which every container without an idmapped
 * rootfs shares: not a user's either.
 */
void
use_shifted_range(struct container *c)
{
    check_not_granted("/etc/subuid", SHIFTED_BASE);
    check_not_granted("/etc/subgid", SHIFTED_BASE);
    set_single_range(&c->uid_map, SHIFTED_BASE);
    set_single_range(&c->gid_map, SHIFTED_BASE);
}

/*
 * The maps the child gets. Root's default: a range of the pool no live
 * container holds, recorded (under the state lock) until this container
 * is gone. --no-idmap: the shifted copy's range. Rootless: the caller's
 * own id, and its granted ranges.
 */
void
parent_reserve_ids(struct container *c)
{
    const struct options *o = c->opts;
    static bool taken[POOL_RANGES];
    char base[24];
    size_t i = 1; /* range 0 is the shifted copies' */

    c->uid_map = o->uid_map;
    c->gid_map = o->gid_map;
    if (o->rootless && !o->uid_map.len) {
        rootless_default_map("/etc/subuid", getuid(), &c->uid_map);
        rootless_default_map("/etc/subgid", getgid(), &c->gid_map);
    }
    /* Known before clone(): the child must not call setgroups(2) then. */
    c->setgroups_denied = o->rootless && is_own_id(&c->gid_map, getgid());
    if (o->no_idmap)
        use_shifted_range(c);
    if (o->rootless || o->no_idmap || o->uid_map.len)
        return;
    if (state_each(note_taken_range, taken) == -1)
        die("%s", state_failed_call());
    while (i < POOL_RANGES && taken[i])
        i++;
    if (i == POOL_RANGES) {
        errno = EUSERS;
        die("every range of boxstep's pool of host ids is in use");
    }
    check_not_granted("/etc/subuid", POOL_BASE + i * RANGE_SIZE);
    check_not_granted("/etc/subgid", POOL_BASE + i * RANGE_SIZE);
    set_single_range(&c->uid_map, POOL_BASE + i * RANGE_SIZE);
    set_single_range(&c->gid_map, POOL_BASE + i * RANGE_SIZE);
    snprintf(base, sizeof(base), "%lu", POOL_BASE + i * RANGE_SIZE);
    if (state_record_set("ids", base) == -1)
        die("%s", state_failed_call());
}

/* One map, written whole: the kernel takes a single write(2). */
static void
write_map(pid_t pid, const char *file, const struct id_map *m)
{
    char path[64], text[OPT_LIST_MAX * 40] = "";
    size_t len = 0;
    int fd;

    for (size_t i = 0; i < m->len; i++)
        len += snprintf(text + len, sizeof(text) - len, "%lu %lu %lu\n",
                        m->ranges[i].inside, m->ranges[i].outside,
                        m->ranges[i].count);
    snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
    /* open(2), write(2): user_namespaces(7) "User and group ID mappings" */
    fd = must(open(path, O_WRONLY | O_CLOEXEC),
              "open(\"%s\", O_WRONLY|O_CLOEXEC)", path);
    if (write(fd, text, len) != (ssize_t)len)
        die_hint(userns_blocked_hint(errno), "write(\"%s\", \"%.*s\")", path,
                 (int)len - 1, text);
    trace("write(\"%s\", \"%.*s\") = %zu", path, (int)len - 1, text, len);
    close(fd);
}

/*
 * While the child waits on the pipe: its maps. An ordinary user may write
 * a map of its own id alone, and a gid map only once setgroups(2) is
 * denied in the namespace: dropping a group can grant what the group was
 * denied (a file of mode 0707).
 * Wider maps go through the setuid helpers.
 */
void
parent_map_ids(struct container *c)
{
    char path[64];
    int fd;

    if (!c->opts->rootless) {
        write_map(c->pid, "uid_map", &c->uid_map);
        write_map(c->pid, "gid_map", &c->gid_map);
        return;
    }
    if (is_own_id(&c->uid_map, getuid()))
        write_map(c->pid, "uid_map", &c->uid_map);
    else
        parent_map_helper("newuidmap", c->pid, &c->uid_map);
    if (c->setgroups_denied) {
        snprintf(path, sizeof(path), "/proc/%d/setgroups", c->pid);
        fd = must(open(path, O_WRONLY | O_CLOEXEC),
                  "open(\"%s\", O_WRONLY|O_CLOEXEC)", path);
        must(write(fd, "deny", 4), "write(\"%s\", \"deny\")", path);
        close(fd);
        write_map(c->pid, "gid_map", &c->gid_map);
    } else {
        parent_map_helper("newgidmap", c->pid, &c->gid_map);
    }
}

/*
 * A user namespace isolates only the keys of keyrings made inside it; the
 * session keyring the child inherited is the caller's, keys and all.
 * keyctl(2) KEYCTL_JOIN_SESSION_KEYRING with no name: a new, empty one.
 */
static void
setup_session_keyring(void)
{
    must(syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL),
         "keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL)");
}

/* --verbose: the capability sets, as libcap writes them ("=ep": all). */
static void
trace_capabilities(void)
{
    cap_t caps;
    char *text;

    if (!trace_enabled)
        return;
    caps = cap_get_proc(); /* capget(2) */
    text = caps ? cap_to_text(caps, NULL) : NULL;
    trace("cap_get_proc() = \"%s\"", text ? text : "?");
    cap_free(text);
    cap_free(caps);
}

/*
 * The child's first act once the maps are written. Until now it kept the
 * host's ids, unmapped in its own namespace: it would make files as host
 * root. setgroups(2) drops the supplementary groups (refused where the
 * runtime denied it: there are none to drop), then setresgid(2) and
 * setresuid(2) make it root inside, a mapped host id outside.
 */
void
setup_user(const struct container *c)
{
    if (!c->setgroups_denied &&
        trace_call(setgroups(0, NULL), "setgroups(0, NULL)") == -1)
        die_hint(userns_blocked_hint(errno), "setgroups(0, NULL)");
    if (trace_call(setresgid(0, 0, 0), "setresgid(0, 0, 0)") == -1)
        die_hint(userns_blocked_hint(errno), "setresgid(0, 0, 0)");
    if (trace_call(setresuid(0, 0, 0), "setresuid(0, 0, 0)") == -1)
        die_hint(userns_blocked_hint(errno), "setresuid(0, 0, 0)");
    setup_session_keyring();
    trace_capabilities();
}

static bool
read_setting(const char *path, const char *value)
{
    char buf[16] = "";
    FILE *f = fopen(path, "re");

    if (f) {
        if (!fgets(buf, sizeof(buf), f))
            buf[0] = '\0';
        fclose(f);
    }
    return strncmp(buf, value, strlen(value)) == 0;
}

/*
 * Why a user namespace was refused, when a setting of the machine is the
 * cause, and how to allow it; NULL when none is.
 */
const char *
userns_blocked_hint(int err)
{
    if (err == ENOSPC)
        return "the limit of user namespaces is reached, or 0: 'sysctl "
               "user.max_user_namespaces' shows it, and 'sudo sysctl -w "
               "user.max_user_namespaces=15000' raises it";
    if (err != EPERM && err != EACCES)
        return NULL;
    if (read_setting("/proc/sys/kernel/unprivileged_userns_clone", "0"))
        return "Debian's kernel.unprivileged_userns_clone is 0: 'sudo sysctl "
               "-w kernel.unprivileged_userns_clone=1' allows user "
               "namespaces, or run it with sudo";
    if (read_setting("/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
                     "1"))
        return "AppArmor restricts unprivileged user namespaces (Ubuntu): "
               "'sudo sysctl -w "
               "kernel.apparmor_restrict_unprivileged_userns=0' allows "
               "them, or run it with sudo";
    return geteuid() ? "run it with sudo" : NULL;
}
