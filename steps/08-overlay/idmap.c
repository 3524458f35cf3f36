/*
 * idmap.c: the container's files, as root inside owns them, from step 06
 * on (with user.c).
 *
 * Files have one owner, on the host. The root filesystem belongs to host
 * root, which is not mapped: inside it would show as nobody, and root
 * inside could not reach a volume under /root. So the runtime, still
 * host root, prepares those trees before the child starts, as detached
 * mounts (open_tree), and idmaps the rootfs with the child's namespace:
 * through that mount, host root's files look owned by root inside. It
 * attaches them in a mount namespace of its own, read-only where they
 * must be, and the child copies that namespace: the copy locks the flags.
 * Where the rootfs cannot be idmapped, a copy shifted to one fixed range
 * serves instead (sudo make rootfs-shifted).
 *
 * Man pages: open_tree(2), mount_setattr(2), move_mount(2),
 * mount_namespaces(7), unshare(2), pivot_root(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "step.h"

/* The shifted copy of a root filesystem: DIR-shifted, next to DIR. */
static void
shifted_path(const char *rootfs, char *path, size_t len)
{
    size_t n = strlen(rootfs);

    while (n > 1 && rootfs[n - 1] == '/')
        n--;
    snprintf(path, len, "%.*s-shifted", (int)n, rootfs);
}

/* 08: each image layer's shifted copy, for overlay.c (--no-idmap). */
void
layer_shifted_path(const char *layer, char *path, size_t len)
{
    shifted_path(layer, path, len);
}

/*
 * --no-idmap: root's container uses the rootfs's shifted copy, which must
 * be there, and it maps one fixed range; a rootless one has no
 * idmapped rootfs to replace.
 */
void
parse_idmap(const struct options *o)
{
    char shifted[PATH_MAX + 16];

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
    char *line = NULL, *sep;
    size_t size = 0;
    bool found = false;
    FILE *f;

    if (statx(AT_FDCWD, path, 0, STATX_MNT_ID, &stx) == -1 ||
        !(stx.stx_mask & STATX_MNT_ID))
        return false;
    f = fopen("/proc/self/mountinfo", "re");
    while (f && !found && getline(&line, &size, f) > 0)
        found =
            strtoul(line, NULL, 10) == stx.stx_mnt_id &&
            (sep = strstr(line, " - ")) &&
            snprintf(type, 64, "%.*s", (int)strcspn(sep + 3, " "), sep + 3) > 0;
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
    if (c->layer[0]) /* 08: the container's own layer takes its writes */
        return;
    must(mount_setattr(AT_FDCWD, ".", AT_RECURSIVE, &flags, sizeof(flags)),
         "mount_setattr(AT_FDCWD, \".\", AT_RECURSIVE, "
         "{MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV})");
}
