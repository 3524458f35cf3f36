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
 * Files have one owner, on the host. The root filesystem belongs to host
 * root, which is not mapped: inside it would show as nobody, and root
 * inside could not reach a volume under /root. So the runtime, still
 * host root, prepares those trees before the child starts, as detached
 * mounts (open_tree), and idmaps the rootfs with the child's namespace:
 * through that mount, host root's files look owned by root inside. It
 * attaches them in a mount namespace of its own, read-only where they
 * must be, and the child copies that namespace: the copy locks the flags.
 *
 * An ordinary user (rootless) can make a user namespace too, with only
 * its own uid mapped to 0, or a range /etc/subuid grants it, written by
 * the setuid helpers newuidmap and newgidmap. What needs the host's
 * privileges stays out of reach: no veth (--net none) and no idmapped
 * mount, so the child binds the rootfs as step 04 did.
 *
 * Man pages: user_namespaces(7), capabilities(7), subuid(5), subgid(5),
 * newuidmap(1), newgidmap(1), setresuid(2), setgroups(2), open_tree(2),
 * mount_setattr(2), move_mount(2), keyrings(7), keyctl(2), cap_to_text(3).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/keyctl.h>
#include <pwd.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "step.h"

/*
 * boxstep's pool of host ids: 65536 per container, from 1048576 on,
 * above the ranges Debian's adduser gives its first 15 users in
 * /etc/subuid (100000 on, 65536 each); an entry that reaches into the
 * pool is refused (check_not_granted()). Its first range is the shifted copies'
 * (--no-idmap), which every container without an idmapped rootfs shares; the
 * others are reserved one per running container, in its state record.
 */
#define POOL_BASE 1048576UL
#define RANGE_SIZE 65536UL
#define POOL_RANGES 1024UL
#define SHIFTED_BASE POOL_BASE
#define ID_MAX 4294967295UL /* (uid_t)-1 is no id */

extern char **environ;

/* The shifted copy of a root filesystem: DIR-shifted, next to DIR. */
static void
shifted_path(const char *rootfs, char *path, size_t len)
{
    size_t n = strlen(rootfs);

    while (n > 1 && rootfs[n - 1] == '/')
        n--;
    snprintf(path, len, "%.*s-shifted", (int)n, rootfs);
}

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
 * The caller's name, for /etc/subuid, from /etc/passwd: fgetpwent(3)
 * reads the file itself, as newuidmap does, with no NSS module to load
 * into a static binary.
 */
static bool
user_name(uid_t uid, char *name, size_t len)
{
    FILE *f = fopen("/etc/passwd", "re");
    struct passwd *pw;
    bool found = false;

    while (f && !found && (pw = fgetpwent(f)))
        if (pw->pw_uid == uid) {
            snprintf(name, len, "%s", pw->pw_name);
            found = true;
        }
    if (f)
        fclose(f);
    return found;
}

/*
 * The range subuid(5) or subgid(5) grants the caller, or a count of 0.
 * Both files name the user (by name or by uid), subgid(5) too: a gid is
 * no key there. The first line that names it counts.
 */
static struct id_range
granted_range(const char *file)
{
    char name[256] = "", number[24], line[512], who[256];
    struct id_range r = {0};
    unsigned long start, count;
    FILE *f = fopen(file, "re");

    user_name(getuid(), name, sizeof(name));
    snprintf(number, sizeof(number), "%u", (unsigned)getuid());
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "%255[^:]:%lu:%lu", who, &start, &count) == 3 &&
            (strcmp(who, name) == 0 || strcmp(who, number) == 0)) {
            r = (struct id_range){
                .inside = 1, .outside = start, .count = count};
            break;
        }
    if (f)
        fclose(f);
    return r;
}

/*
 * Root's containers must not share host ids with a user's own rootless
 * containers: a default range that meets an entry of /etc/subuid or
 * /etc/subgid is refused.
 */
static void
check_not_granted(const char *file, unsigned long base)
{
    char line[512], who[256];
    unsigned long start, count;
    FILE *f = fopen(file, "re");

    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "%255[^:]:%lu:%lu", who, &start, &count) == 3 &&
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
 * Rootless, each range must be the caller's own id, or lie in the range
 * its file grants: newuidmap checks the same, but its refusal is terse.
 */
static void
check_rootless_map(const char *opt, const char *file, const struct id_map *m,
                   unsigned long own)
{
    struct id_range granted = granted_range(file);

    for (size_t i = 0; i < m->len; i++) {
        const struct id_range *r = &m->ranges[i];

        if (r->outside == own && r->count == 1)
            continue;
        if (granted.count && r->outside >= granted.outside &&
            r->outside + r->count <= granted.outside + granted.count)
            continue;
        errno = EPERM;
        die_hint(granted.count ? "a user may map only its own id and the "
                                 "range subuid(5) and subgid(5) grant it"
                               : "ask for a range in /etc/subuid and "
                                 "/etc/subgid, or map only your own id",
                 "--%s %lu:%lu:%lu: %s grants uid %u %s", opt, r->inside,
                 r->outside, r->count, file, (unsigned)getuid(),
                 granted.count ? "another range" : "no range");
    }
}

/*
 * Rootless: the caller's own id as 0, and the range the file grants it
 * (if any) from 1 on, up to 65536 ids in all.
 */
static void
rootless_default_map(const char *file, unsigned long own, struct id_map *m)
{
    struct id_range granted = granted_range(file);

    m->ranges[0] = (struct id_range){.inside = 0, .outside = own, .count = 1};
    m->len = 1;
    if (granted.count) {
        if (granted.count > RANGE_SIZE - 1)
            granted.count = RANGE_SIZE - 1;
        m->ranges[m->len++] = granted;
    }
}

/*
 * A rootless runtime cannot write /run: its records go under
 * $XDG_RUNTIME_DIR, or a directory of its own in /tmp, which anyone
 * could have made first: it must be the caller's, and private.
 */
static void
rootless_state_dir(void)
{
    static char dir[PATH_MAX];
    const char *runtime_dir = getenv("XDG_RUNTIME_DIR");
    struct stat st;

    if (runtime_dir && runtime_dir[0] == '/') {
        snprintf(dir, sizeof(dir), "%s/boxstep", runtime_dir);
    } else {
        snprintf(dir, sizeof(dir), "/tmp/boxstep-%u", (unsigned)getuid());
        if (mkdir(dir, 0700) == -1 && errno != EEXIST)
            die("mkdir(\"%s\", 0700)", dir);
        must(lstat(dir, &st), "lstat(\"%s\")", dir);
        if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
            (st.st_mode & 077)) {
            errno = EPERM;
            die_hint("another user made it first: remove it, or set "
                     "XDG_RUNTIME_DIR",
                     "%s is not a private directory of uid %u", dir,
                     (unsigned)getuid());
        }
    }
    state_dir = dir;
}

/*
 * An ordinary user's container reaches its rootfs as that user: a
 * checkout under /root, or in another user's private home, is out of
 * reach (EACCES), whatever the image's own modes.
 */
void
parse_rootfs_access(const char *rootfs)
{
    if (geteuid() == 0 || access(rootfs, X_OK) == 0 || errno != EACCES)
        return; /* parse_rootfs() says what else is wrong */
    die_hint("a rootless container needs a rootfs its user can reach: "
             "build one with 'make rootfs' in a clone of your own, or give "
             "--rootfs DIR",
             "access(\"%s\", X_OK) for --rootfs", rootfs);
}

/*
 * --uidmap, --gidmap, --no-idmap, and what a rootless caller may ask for.
 * A map given alone serves for both.
 */
void
parse_user(struct options *o)
{
    char shifted[PATH_MAX + 16];

    o->rootless = geteuid() != 0;
    parse_map("uidmap", &o->uidmap_specs, &o->uid_map);
    parse_map("gidmap", &o->gidmap_specs, &o->gid_map);
    if (!o->uid_map.len)
        o->uid_map = o->gid_map;
    if (!o->gid_map.len)
        o->gid_map = o->uid_map;
    if (o->no_idmap && o->uid_map.len)
        usage_error("--no-idmap maps the shifted copy's fixed range, "
                    "%lu-%lu: it takes no --uidmap or --gidmap",
                    SHIFTED_BASE, SHIFTED_BASE + RANGE_SIZE - 1);
    if (o->no_idmap && o->rootless)
        usage_error("--no-idmap: a rootless container needs no shifted "
                    "copy, its rootfs is not idmapped");
    if (o->no_idmap) {
        shifted_path(o->rootfs, shifted, sizeof(shifted));
        if (access(shifted, F_OK) == -1)
            die_hint(strcmp(o->rootfs, default_rootfs()) == 0
                         ? "make it with 'sudo make rootfs-shifted'"
                         : "boxstep shifts only the rootfs it builds: "
                           "tools/shift-rootfs.sh DIR makes a copy of your "
                           "own",
                     "--no-idmap: access(\"%s\") for the shifted copy of %s",
                     shifted, o->rootfs);
    }
    if (!o->rootless)
        return;
    if (o->net != NET_NONE && o->net_name)
        usage_error("--net %s: a device on the host needs CAP_NET_ADMIN in "
                    "the host's network namespace, which only root has: run "
                    "it with sudo, or use --net none",
                    o->net_name);
    o->net = NET_NONE; /* the default without root */
    if (o->ip_spec)
        usage_error("--ip: the address of a veth, whose host end needs "
                    "CAP_NET_ADMIN in the host's network namespace, which "
                    "only root has: run it with sudo; a rootless container "
                    "has only its loopback");
    if (o->uid_map.len) {
        check_rootless_map("uidmap", "/etc/subuid", &o->uid_map, getuid());
        check_rootless_map("gidmap", "/etc/subgid", &o->gid_map, getgid());
    }
    rootless_state_dir();
}

/* The record's "ids" field: the pool range a live container holds. */
static void
note_taken_range(const char *record, void *arg)
{
    bool *taken = arg;
    char value[24];
    unsigned long base;

    if (state_get(record, "ids", value, sizeof(value)) == 0 &&
        sscanf(value, "%lu", &base) == 1 && base >= POOL_BASE &&
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
static void
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

/*
 * The type of the filesystem that holds path, as mountinfo(5) names it:
 * statx(2) gives the id of its mount, mountinfo that mount's type, after
 * the " - ". statfs(2) cannot tell: 9p reports the magic number of the
 * host's filesystem behind the share (ext4, say), as if it were local.
 */
static bool
mount_fs_type(const char *path, char type[64])
{
    struct statx stx;
    unsigned long id;
    char *line = NULL, *sep;
    size_t size = 0;
    bool found = false;
    FILE *f;

    if (statx(AT_FDCWD, path, 0, STATX_MNT_ID, &stx) == -1 ||
        !(stx.stx_mask & STATX_MNT_ID))
        return false;
    f = fopen("/proc/self/mountinfo", "re");
    while (f && !found && getline(&line, &size, f) > 0)
        found = sscanf(line, "%lu", &id) == 1 && id == stx.stx_mnt_id &&
                (sep = strstr(line, " - ")) &&
                sscanf(sep + 3, "%63s", type) == 1;
    free(line);
    if (f)
        fclose(f);
    return found;
}

/*
 * Filesystems that cannot be idmapped: the shifted copy serves instead.
 * Those are all on anonymous devices (major 0), as are tmpfs and btrfs,
 * which can: a filesystem on a block device (ext4, xfs) is taken as it
 * is, without the tens of microseconds the mountinfo lookup costs.
 */
static bool
idmap_unsupported(const char *path)
{
    char type[64];
    struct stat st;

    /* stat(2), makedev(3) */
    if (stat(path, &st) == 0 && major(st.st_dev) != 0)
        return false;
    if (!mount_fs_type(path, type))
        return false; /* open_tree() or mount_setattr() will say why */
    return strcmp(type, "9p") == 0 || strncmp(type, "nfs", 3) == 0 ||
           strcmp(type, "overlay") == 0 || strncmp(type, "fuse", 4) == 0;
}

/*
 * open_tree(2) with OPEN_TREE_CLONE: a copy of the mount at path, and of
 * those below it (AT_RECURSIVE), attached nowhere yet: a detached mount,
 * held by the descriptor. Like any copy, it keeps the source's
 * propagation: a copy of a shared mount would join the host's peer group,
 * so it is made private. Rootless, the call is refused (EPERM): -1, and
 * the child binds the path itself, as in step 04.
 */
static int
open_detached_tree(const char *path, bool rootless)
{
    struct mount_attr private = {.propagation = MS_PRIVATE};
    int tree = open_tree(AT_FDCWD, path,
                         OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);

    if (tree == -1 && (errno == EPERM || errno == ENOSYS) && rootless) {
        trace_call(tree,
                   "open_tree(AT_FDCWD, \"%s\", OPEN_TREE_CLONE|"
                   "OPEN_TREE_CLOEXEC|AT_RECURSIVE)",
                   path);
        return -1;
    }
    must_hint(tree,
              errno == ENOSYS  ? "idmapped mounts need Linux 5.12 or later "
                                 "(and valgrind 3.19 does not know the call)"
              : errno == EPERM ? "this is root of a user namespace, not the "
                                 "host's (unshare -r, a container): run it "
                                 "as the host's root, or as an ordinary user"
                               : NULL,
              "open_tree(AT_FDCWD, \"%s\", OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC|"
              "AT_RECURSIVE)",
              path);
    must(mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &private,
                       sizeof(private)),
         "mount_setattr(%d, \"\", AT_EMPTY_PATH|AT_RECURSIVE, "
         "{.propagation=MS_PRIVATE})",
         tree);
    return tree;
}

/* mount_setattr(2) on a whole detached tree. */
static void
set_tree_attr(int tree, struct mount_attr *attr, const char *what)
{
    must(mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, attr,
                       sizeof(*attr)),
         "mount_setattr(%d, \"\", AT_EMPTY_PATH|AT_RECURSIVE, {%s})", tree,
         what);
}

/*
 * move_mount(2): a detached tree, attached at path, following a symbolic
 * link there as mount(2) does (a --rootfs given as a link).
 */
static void
attach_tree(int tree, const char *path)
{
    must(move_mount(tree, "", AT_FDCWD, path,
                    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_SYMLINKS),
         "move_mount(%d, \"\", AT_FDCWD, \"%s\", "
         "MOVE_MOUNT_F_EMPTY_PATH|MOVE_MOUNT_T_SYMLINKS)",
         tree, path);
}

/*
 * Before clone(): the rootfs and the volumes as detached mounts, which
 * the child, a copy of the runtime, holds too. After setresuid() the
 * child is a mapped host uid, which may not reach them (a volume under
 * /root, a home of mode 0750); and only the runtime may idmap. Where the
 * rootfs cannot be idmapped, its shifted copy, already owned by the
 * shifted range, is the tree.
 */
void
parent_open_trees(struct container *c)
{
    const struct options *o = c->opts;
    char shifted[PATH_MAX + 16];
    const char *rootfs = o->rootfs;

    c->idmap = !o->rootless && !o->no_idmap;
    if (c->idmap && idmap_unsupported(o->rootfs)) {
        shifted_path(o->rootfs, shifted, sizeof(shifted));
        if (access(shifted, F_OK) == -1) {
            errno = EOPNOTSUPP;
            die_hint(strcmp(rootfs, default_rootfs()) == 0
                         ? "use a rootfs on a local filesystem (ext4, xfs, "
                           "btrfs, tmpfs), or run 'sudo make rootfs-shifted'"
                         : "use a rootfs on a local filesystem (ext4, xfs, "
                           "btrfs, tmpfs), or make a shifted copy with "
                           "tools/shift-rootfs.sh DIR",
                     "%s cannot be idmapped, and has no shifted copy", rootfs);
        }
        if (o->uid_map.len) {
            errno = EOPNOTSUPP;
            die_hint("its shifted copy belongs to one fixed range: use it "
                     "without --uidmap and --gidmap",
                     "%s cannot be idmapped, and --uidmap needs an idmapped "
                     "rootfs",
                     rootfs);
        }
        c->idmap = false;
        use_shifted_range(c);
    }
    if (!o->rootless && !c->idmap) {
        shifted_path(o->rootfs, shifted, sizeof(shifted));
        rootfs = shifted;
    }
    trace("rootfs: %s", o->rootless ? "bind-mounted by the child (rootless)"
                        : c->idmap  ? "idmapped by the runtime"
                                    : "the shifted copy, not idmapped");
    c->rootfs_tree = open_detached_tree(rootfs, o->rootless);
    for (size_t i = 0; i < o->volume_specs.len; i++)
        c->volume_trees[i] =
            open_detached_tree(o->volumes[i].host, o->rootless);
}

/*
 * Root's runtime prepares the container's tree in a mount namespace of
 * its own: unshare(2), then every mount private, so that nothing it
 * attaches reaches the host's tree (on most systemd machines / is shared).
 * The child starts in this namespace, and copies it (setup_mount_namespace()).
 */
void
parent_private_mounts(const struct options *o)
{
    if (o->rootless)
        return;
    must(unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)");
    must(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL),
         "mount(NULL, \"/\", NULL, MS_REC|MS_PRIVATE, NULL)");
}

/* Whether a map gives host id some id inside. */
static bool
maps_host_id(const struct id_map *m, unsigned long id)
{
    for (size_t i = 0; i < m->len; i++)
        if (id >= m->ranges[i].outside &&
            id - m->ranges[i].outside < m->ranges[i].count)
            return true;
    return false;
}

/*
 * A volume is not idmapped: root inside writes to it as its mapped host
 * uid, which the host's modes may refuse (EACCES). Said once, up front,
 * for a read-write volume whose owner is not mapped and that others may
 * not write to.
 */
static void
note_unwritable_volume(const struct container *c, const struct volume *v)
{
    struct stat st;
    unsigned long root = 0;

    for (size_t i = 0; i < c->uid_map.len; i++)
        if (c->uid_map.ranges[i].inside == 0)
            root = c->uid_map.ranges[i].outside;
    if (v->read_only || stat(v->host, &st) == -1 ||
        maps_host_id(&c->uid_map, st.st_uid) || (st.st_mode & S_IWOTH))
        return;
    fprintf(stderr,
            "%s: --volume %s:%s: its owner, host uid %u, is not mapped "
            "inside\nhint: root inside writes there as host uid %lu and may "
            "be refused (EACCES): give it to that uid, or let others write\n",
            program_name, v->host, v->container, (unsigned)st.st_uid, root);
}

/*
 * After the idmap: the trees, read-only, nosuid and nodev where they must
 * be, attached in the runtime's namespace with move_mount(2): the rootfs
 * (or its shifted copy) over the rootfs's path, though any directory
 * would do since the child pivots into it; each volume at its place in
 * it. The child's copy of this namespace gets them with those flags
 * locked.
 */
void
parent_attach_trees(const struct container *c)
{
    const struct options *o = c->opts;
    struct mount_attr image = {
        .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
    struct mount_attr read_only = {.attr_set = MOUNT_ATTR_RDONLY};
    char target[PATH_MAX * 2];

    if (c->rootfs_tree == -1)
        return; /* rootless: the child binds them */
    set_tree_attr(c->rootfs_tree, &image,
                  "MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV");
    attach_tree(c->rootfs_tree, o->rootfs);
    for (size_t i = 0; i < o->volume_specs.len; i++) {
        const struct volume *v = &o->volumes[i];

        snprintf(target, sizeof(target), "%s%s", o->rootfs, v->container);
        if (access(target, F_OK) == -1)
            die_hint("a volume's CONTAINER path must exist in the root "
                     "filesystem: boxstep makes nothing in the shared image "
                     "before step 08",
                     "access(\"%s\") for --volume %s:%s", target, v->host,
                     v->container);
        note_unwritable_volume(c, v);
        if (v->read_only)
            set_tree_attr(c->volume_trees[i], &read_only, "MOUNT_ATTR_RDONLY");
        attach_tree(c->volume_trees[i], target);
    }
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
 * newuidmap(1) and newgidmap(1), setuid root, write a map wider than the
 * caller's own id, once subuid(5) and subgid(5) grant it the ids.
 */
static void
run_map_helper(const char *helper, pid_t pid, const struct id_map *m)
{
    char args[OPT_LIST_MAX * 3 + 1][24];
    char *argv[OPT_LIST_MAX * 3 + 3] = {(char *)helper, args[0]};
    size_t n = 2;
    pid_t child;
    int status;

    snprintf(args[0], sizeof(args[0]), "%d", pid);
    for (size_t i = 0; i < m->len; i++) {
        snprintf(args[n - 1], 24, "%lu", m->ranges[i].inside);
        snprintf(args[n], 24, "%lu", m->ranges[i].outside);
        snprintf(args[n + 1], 24, "%lu", m->ranges[i].count);
        argv[n] = args[n - 1];
        argv[n + 1] = args[n];
        argv[n + 2] = args[n + 1];
        n += 3;
    }
    argv[n] = NULL;
    trace("posix_spawnp(\"%s\", %s)", helper, argv_str(argv));
    /* posix_spawnp(3), waitpid(2) */
    errno = posix_spawnp(&child, helper, NULL, NULL, argv, environ);
    if (errno)
        die_hint("newuidmap and newgidmap are in Debian's uidmap package",
                 "posix_spawnp(\"%s\")", helper);
    must(waitpid(child, &status, 0), "waitpid(%d)", child);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        errno = EPERM;
        die_hint("it said why above; subuid(5) and subgid(5) list the ranges "
                 "a user may map",
                 "%s %s: %s", helper, args[0], wait_status_str(status));
    }
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
        run_map_helper("newuidmap", c->pid, &c->uid_map);
    if (c->setgroups_denied) {
        snprintf(path, sizeof(path), "/proc/%d/setgroups", c->pid);
        fd = must(open(path, O_WRONLY | O_CLOEXEC),
                  "open(\"%s\", O_WRONLY|O_CLOEXEC)", path);
        must(write(fd, "deny", 4), "write(\"%s\", \"deny\")", path);
        close(fd);
        write_map(c->pid, "gid_map", &c->gid_map);
    } else {
        run_map_helper("newgidmap", c->pid, &c->gid_map);
    }
}

/*
 * mount_setattr(2) MOUNT_ATTR_IDMAP: through the rootfs tree, files show
 * the owner the child's namespace maps them to: host root's files as
 * root inside. Only the runtime may do it: it needs CAP_SYS_ADMIN over
 * the user namespace that owns the tree's mount namespace, the host's.
 * The child's copy of the descriptor names the same tree, so the idmap
 * reaches it, though clone() came first.
 */
void
parent_idmap_rootfs(struct container *c)
{
    struct mount_attr idmap = {.attr_set = MOUNT_ATTR_IDMAP};
    char path[64];
    int userns, ret;

    if (!c->idmap)
        return;
    snprintf(path, sizeof(path), "/proc/%d/ns/user", c->pid);
    userns = must(open(path, O_RDONLY | O_CLOEXEC),
                  "open(\"%s\", O_RDONLY|O_CLOEXEC)", path);
    idmap.userns_fd = userns;
    /* Called before must_hint() reads errno for the hint. */
    ret = mount_setattr(c->rootfs_tree, "", AT_EMPTY_PATH | AT_RECURSIVE,
                        &idmap, sizeof(idmap));
    must_hint(ret,
              errno == EINVAL  ? "this filesystem cannot be idmapped: run "
                                 "'sudo make rootfs-shifted', then use "
                                 "--no-idmap"
              : errno == EPERM ? "only the host's root may idmap the host's "
                                 "files: run it as the host's root, or as an "
                                 "ordinary user"
                               : NULL,
              "mount_setattr(%d, \"\", AT_EMPTY_PATH|AT_RECURSIVE, "
              "{MOUNT_ATTR_IDMAP, .userns_fd=%d})",
              c->rootfs_tree, userns);
    close(userns);
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

/*
 * The child's mount namespace, made now rather than by clone(): the
 * runtime attached the trees in its own (private) mount namespace, which
 * the child shares until this call. unshare(2) copies it, and since the
 * copy is owned by the child's user namespace, a less privileged one, the
 * kernel locks what it copies: the read-only, nosuid and nodev flags
 * cannot be cleared, nor a mount taken off what it covers. Flags the
 * child set itself, in a namespace it owns, it could clear again. The
 * working directory moves to the copy of the tree it was in.
 */
void
setup_mount_namespace(const struct container *c)
{
    if (c->rootfs_tree != -1)
        must(fchdir(c->rootfs_tree), "fchdir(%d)", c->rootfs_tree);
    must(unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)");
}

/*
 * pivot_root(2) refuses a locked mount as the new root: it would uncover
 * what the mount hides. So the child copies the tree it stands in:
 * open_tree(2), recursive, whose copy keeps the locked flags but is
 * locked to no place, attached with move_mount(2) on top of the child's
 * /, a place it can always reach (pivot_root takes it from there), and
 * entered with fchdir(2).
 */
void
setup_root_copy(void)
{
    int tree =
        must(open_tree(AT_FDCWD, ".",
                       OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE),
             "open_tree(AT_FDCWD, \".\", OPEN_TREE_CLONE|"
             "OPEN_TREE_CLOEXEC|AT_RECURSIVE)");

    must(move_mount(tree, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH),
         "move_mount(%d, \"\", AT_FDCWD, \"/\", MOVE_MOUNT_F_EMPTY_PATH)",
         tree);
    must(fchdir(tree), "fchdir(%d)", tree);
    close(tree);
}

/*
 * The rootfs, read-only, nosuid and nodev until step 08 gives each
 * container a layer of its own: a write through an idmapped mount lands
 * in the shared image as host root, so root inside could plant a setuid
 * root file on the host. mount_setattr(2) with AT_RECURSIVE adds the
 * flags to the whole tree. Root's runtime set them already, locked (see
 * setup_mount_namespace()), and attached the volumes in the tree since:
 * this is for a rootless child, which binds the rootfs itself. Its flags
 * are not locked, and root inside could clear them; but it writes as the
 * user, who could write those files anyway.
 */
void
setup_root_readonly(const struct container *c)
{
    struct mount_attr flags = {
        .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};

    if (c->rootfs_tree != -1)
        return;
    must(mount_setattr(AT_FDCWD, ".", AT_RECURSIVE, &flags, sizeof(flags)),
         "mount_setattr(AT_FDCWD, \".\", AT_RECURSIVE, "
         "{MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV})");
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
