/*
 * overlay.c: files of its own, copied only when written, from step 08
 * on.
 *
 * Up to step 07 every container shared one root filesystem, read-only.
 * Now the image is a stack of read-only layers (--image A:B:C, A on top)
 * that no container ever writes, and each container gets a layer of its
 * own on top: an upper directory, and a work directory overlayfs needs
 * beside it. overlayfs merges them: a file is read from the highest
 * layer that has it; the first write to an image file copies it up whole
 * into the upper layer (copy-up); a deletion leaves a whiteout there (a
 * character device 0/0) that hides the file below; a directory removed
 * and made again is marked opaque, so that nothing below shows through
 * it.
 *
 * Where the container's layer lives. Most containers throw it away at
 * exit: theirs is on a tmpfs of their own (the scratch filesystem),
 * mounted on LAYER_DIR/.scratch in a mount namespace no other container
 * shares. What they write stays in memory, counted against --memory,
 * and nothing of it is ever on the disk: it goes with the last mount
 * namespace that holds it, also when the runtime is killed. A layer
 * kept by --keep must outlive the container, a reboot too: it is made on
 * the disk, in LAYER_DIR/NAME (/var/lib/boxstep by default).
 *
 * Who mounts what, and where. An overlay mount cannot be idmapped (EINVAL),
 * but its layers can: the runtime, host root, opens each image layer as a
 * detached tree, idmaps it with the child's user namespace (so host root's
 * files look owned by root inside, as in step 06), makes it read-only and
 * attaches it at lower/N on the scratch filesystem, in its private mount
 * namespace. The child copies that namespace (step 06) and mounts the
 * overlay itself, inside its user namespace: overlayfs takes its layers by
 * path, in the mounter's own mount namespace, and only there. Mounted
 * there, with "userxattr", overlayfs marks opaque directories with
 * user.overlay.* extended attributes (trusted.* needs host root), and the
 * files the container makes land in the upper layer owned by its mapped
 * host ids. A layer kept by --keep was written under another container's
 * maps: the runtime idmaps it with a user namespace of its own that maps
 * those host ids onto this container's (commit.c). Without idmapped mounts
 * (--no-idmap, or an image on 9p or NFS) the layers are the images' shifted
 * copies; rootless, the image the user owns, as is.
 *
 * Man pages: overlayfs (Documentation/filesystems/overlayfs.rst),
 * fsopen(2), fsconfig(2), fsmount(2), move_mount(2), open_tree(2),
 * mount_setattr(2), tmpfs(5), user_namespaces(7), xattr(7).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "step.h"

/* The host id that root inside stands for, in map m. */
unsigned long
host_root(const struct id_map *m)
{
    for (size_t i = 0; i < m->len; i++)
        if (m->ranges[i].inside == 0)
            return m->ranges[i].outside;
    return 0;
}

/*
 * Every container's scratch filesystem is mounted on this one directory
 * of LAYER_DIR, each in a mount namespace of its own: none sees another's.
 */
#define SCRATCH ".scratch"

/* mkdir(2), and chown(2) to uid:gid unless uid is -1: root inside must
 * write its layer; rootless, it is ours already. */
static void
make_dir(const char *parent, const char *name, uid_t uid, gid_t gid)
{
    char path[PATH_MAX + 16];

    snprintf(path, sizeof(path), "%s/%s", parent, name);
    must(mkdir(path, 0755), "mkdir(\"%s\", 0755)", path);
    if (uid != (uid_t)-1)
        must(chown(path, uid, gid), "chown(\"%s\", %u, %u)", path,
             (unsigned)uid, (unsigned)gid);
}

/*
 * --keep keeps the layer of a container that started: its init forked
 * COMMAND, whatever COMMAND then does (a name not found, 127, included).
 * A start that failed (the runtime's set-up, the child's overlay, --user
 * or --workdir refused, the fork of COMMAND itself) ends with 125 before
 * that, and the layer, which holds nothing the container wrote, goes as
 * a throwaway one does. The exit status cannot tell the two, as COMMAND
 * may exit 125 itself: init says it started with a byte on a pipe, once
 * fork(2) succeeded, and the runtime reads it at its exit without
 * waiting. Init then closes both ends: it holds no descriptor of the
 * runtime's for the container's life.
 */
void
init_say_started(const struct container *c)
{
    if (!c->opts->keep)
        return;
    must(write(c->started[1], "1", 1), "write(%d, \"1\", 1)", c->started[1]);
    close(c->started[0]);
    close(c->started[1]);
}

/* After clone(): the pipe's write end is the child's alone, so that the
 * runtime reads end of file, not EAGAIN, once the child has gone. */
void
parent_close_started(struct container *c)
{
    if (c->started[1] != -1)
        close(c->started[1]);
    c->started[1] = -1;
}

/*
 * At the runtime's exit: the layer of a container that started is kept,
 * its keep record written now and not before, and said, with how to use
 * it; the layer of a container that never started goes. A runtime killed
 * with SIGKILL writes no record: its layer is one no record claims, and
 * the next run, or --gc, removes it with all else it left.
 */
static void
leave_kept_layer(void *arg)
{
    struct container *c = arg;
    bool started;
    char byte;

    /* read(2): EAGAIN, or 0 (end of file), when init never wrote */
    started = read(c->started[0], &byte, 1) == 1;
    if (started && write_keep_record(c) == 0) {
        report_kept_layer(c);
        return;
    }
    if (trace_call(remove_tree(c->layer), "remove_tree(\"%s\")", c->layer) ==
        -1)
        warn("remove_tree(\"%s\")", c->layer);
    else
        fprintf(stderr, "%s: %s: its layer is not kept\n", program_name,
                started ? "no keep record could be written"
                        : "the container did not start");
}

/*
 * --keep: the layer goes on the disk, LAYER_DIR/NAME, through the state
 * module (which records it, and sweeps it if the keep record is never
 * written), with its upper and work directories, owned by the host ids
 * root inside stands for. NAME stays the caller's, mode 0711: root inside
 * passes through it to them, and cannot put anything beside them, such
 * as a keep record of its own making. overlayfs refuses an overlay as
 * upper layer.
 */
static void
make_kept_layer(struct container *c)
{
    uid_t uid = geteuid() == 0 ? host_root(&c->uid_map) : (uid_t)-1;
    gid_t gid = geteuid() == 0 ? host_root(&c->gid_map) : (gid_t)-1;
    struct statfs fs;

    /* pipe2(2): O_NONBLOCK, the runtime never waits on it */
    must(pipe2(c->started, O_CLOEXEC | O_NONBLOCK),
         "pipe2(..., O_CLOEXEC|O_NONBLOCK)");
    if (state_make_layer(c->name, c->layer, sizeof(c->layer)) == -1)
        die_hint(errno == EEXIST ? "a kept layer or a running container has "
                                   "that name: --name another, or "
                                   "--rm-layer NAME (--layers lists them)"
                                 : NULL,
                 "%s", state_failed_call());
    if (cleanup_push(leave_kept_layer, c, "the container's kept layer") == -1)
        die("cleanup_push()");
    /* statfs(2) */
    if (statfs(c->layer, &fs) == 0 && fs.f_type == OVERLAYFS_SUPER_MAGIC) {
        errno = EINVAL;
        die_hint("give the layers a directory on ext4, xfs, btrfs or tmpfs: "
                 "BOXSTEP_LAYER_DIR=DIR",
                 "%s is on an overlay, which overlayfs refuses as an upper "
                 "layer",
                 layer_dir);
    }
    if (uid != (uid_t)-1)
        must(chmod(c->layer, 0711), "chmod(\"%s\", 0711)", c->layer);
    make_dir(c->layer, "upper", uid, gid);
    make_dir(c->layer, "work", uid, gid);
}

/*
 * Before clone(), under the state lock: where the container's layer
 * goes, the scratch filesystem's mount point (made once, and left: an
 * empty directory), and, with --keep, the layer on the disk. The image's
 * layers are recorded too, lower=PATH: build/image-import --prune leaves
 * a layer that a running container stacks.
 */
void
parent_make_layer(struct container *c)
{
    c->started[0] = c->started[1] = -1; /* no pipe: fd 0 is stdin */
    if (state_make_layer_dir() == -1)
        die("%s", state_failed_call());
    if (geteuid() == 0)
        check_layer_dir_reachable(host_root(&c->uid_map),
                                  host_root(&c->gid_map));
    snprintf(c->scratch, sizeof(c->scratch), "%s/" SCRATCH, layer_dir);
    if (mkdir(c->scratch, 0711) == -1 && errno != EEXIST)
        die("mkdir(\"%s\", 0711)", c->scratch);
    for (size_t i = 0; i < c->opts->layer_count; i++)
        if (state_record_set("lower", c->opts->layers[i].path) == -1)
            die("%s", state_failed_call());
    if (c->opts->keep)
        make_kept_layer(c);
    else
        snprintf(c->layer, sizeof(c->layer), "%s", c->scratch);
    trace("layer: %s/upper%s, over %zu image layer%s", c->layer,
          c->opts->keep ? "" : " (a tmpfs of its own)", c->opts->layer_count,
          c->opts->layer_count > 1 ? "s" : "");
}

/*
 * The container's scratch filesystem: a tmpfs of its own, mount(2), on
 * LAYER_DIR/.scratch in a mount namespace only it uses. It holds the
 * attach points of the image's layers and, unless --keep, the upper and
 * work directories (owned by uid:gid, or, with -1, by whoever mounts).
 */
static void
mount_scratch(const struct container *c, uid_t uid, gid_t gid)
{
    must(mount("tmpfs", c->scratch, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0711"),
         "mount(\"tmpfs\", \"%s\", \"tmpfs\", MS_NOSUID|MS_NODEV, "
         "\"mode=0711\")",
         c->scratch);
    if (c->opts->keep)
        return;
    make_dir(c->scratch, "upper", uid, gid);
    make_dir(c->scratch, "work", uid, gid);
}

/*
 * The tree a layer's mount is made from: the layer itself when it is
 * idmapped; without idmapped mounts, an image's shifted copy, or a kept
 * layer as it is, if it was written under this container's maps.
 */
static void
layer_source(const struct container *c, const struct image_layer *l, char *path,
             size_t len)
{
    snprintf(path, len, "%s", l->path);
    if (c->idmap)
        return;
    check_kept_maps(c, l);
    if (l->kept)
        return;
    layer_shifted_path(l->path, path, len);
    if (access(path, F_OK) == -1)
        die_hint("boxstep shifts only the rootfs it builds: "
                 "tools/shift-rootfs.sh DIR makes a copy of your own",
                 "access(\"%s\") for the shifted copy of %s", path, l->path);
}

/*
 * After the maps are written, in the runtime's private mount namespace:
 * the scratch filesystem, then each image layer, opened (open_tree(2)),
 * idmapped (mount_setattr(2)) with the child's user namespace, or a kept
 * layer's own, made read-only, nosuid and nodev, and attached with
 * move_mount(2) at lower/N on it. The child copies that namespace: there
 * it can name them to overlayfs.
 */
void
parent_attach_layers(struct container *c)
{
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY |
                                          MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
    char source[PATH_MAX + 16], target[PATH_MAX + 32], ns_path[64];
    int tree, userns;

    if (c->opts->rootless) {
        for (size_t i = 0; i < c->opts->layer_count; i++)
            check_kept_maps(c, &c->opts->layers[i]);
        return; /* the child names the user's own image */
    }
    mount_scratch(c, host_root(&c->uid_map), host_root(&c->gid_map));
    snprintf(target, sizeof(target), "%s/lower", c->scratch);
    must(mkdir(target, 0755), "mkdir(\"%s\", 0755)", target);
    snprintf(ns_path, sizeof(ns_path), "/proc/%d/ns/user", (int)c->pid);
    for (size_t i = 0; i < c->opts->layer_count; i++) {
        const struct image_layer *l = &c->opts->layers[i];

        layer_source(c, l, source, sizeof(source));
        snprintf(target, sizeof(target), "%s/lower/%zu", c->scratch, i);
        must(mkdir(target, 0755), "mkdir(\"%s\", 0755)", target);
        tree = must(
            open_tree(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC),
            "open_tree(AT_FDCWD, \"%s\", OPEN_TREE_CLONE)", source);
        attr.attr_set |= c->idmap ? MOUNT_ATTR_IDMAP : 0;
        attr.propagation = MS_PRIVATE;
        userns = !c->idmap ? -1
                 : l->kept ? range_userns(c, l)
                           : must(open(ns_path, O_RDONLY | O_CLOEXEC),
                                  "open(\"%s\")", ns_path);
        attr.userns_fd = userns;
        must(mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)),
             "mount_setattr(%d, \"\", AT_EMPTY_PATH, {MOUNT_ATTR_RDONLY|"
             "MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV%s})",
             tree, c->idmap ? "|MOUNT_ATTR_IDMAP" : "");
        must(move_mount(tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH),
             "move_mount(%d, \"\", AT_FDCWD, \"%s\", MOVE_MOUNT_F_EMPTY_PATH)",
             tree, target);
        close(tree);
        if (userns != -1)
            close(userns);
    }
}

/*
 * lowerdir: the layers, top first, separated by ':': the runtime's
 * attached copies, or (rootless) the user's own directories.
 */
static void
lower_dirs(const struct container *c, char *text, size_t len)
{
    size_t n = 0;

    text[0] = '\0';
    for (size_t i = 0; i < c->opts->layer_count && n < len; i++) {
        if (c->opts->rootless)
            n += snprintf(text + n, len - n, "%s%s", i ? ":" : "",
                          c->opts->layers[i].path);
        else
            n += snprintf(text + n, len - n, "%s%s/lower/%zu", i ? ":" : "",
                          c->scratch, i);
    }
}

/*
 * fsconfig(2) for one option of the overlay, or the command that makes
 * it; overlayfs says why it refuses in the context's log, which read(2)
 * gives, a message a line.
 */
static void
overlay_option(int fs, unsigned int cmd, const char *key, const char *value)
{
    static const char *const cmds[] = {
        [FSCONFIG_SET_FLAG] = "FSCONFIG_SET_FLAG",
        [FSCONFIG_SET_STRING] = "FSCONFIG_SET_STRING",
        [FSCONFIG_CMD_CREATE] = "FSCONFIG_CMD_CREATE"};
    char call[PATH_MAX * LAYER_MAX], log[512] = "";
    ssize_t n;

    snprintf(call, sizeof(call), "fsconfig(%d, %s, %s%s%s, %s%s%s, 0)", fs,
             cmds[cmd], key ? "\"" : "", key ? key : "NULL", key ? "\"" : "",
             value ? "\"" : "", value ? value : "NULL", value ? "\"" : "");
    if (trace_call(fsconfig(fs, cmd, key, value, 0), "%s", call) == 0)
        return;
    n = read(fs, log, sizeof(log) - 1);
    log[n > 0 ? n - (log[n - 1] == '\n') : 0] = '\0';
    die_hint(log[0] ? log : NULL, "%s", call);
}

/*
 * The root mode's volumes: the runtime attached them on the image it
 * attached (step 06), where the overlay would hide them. Each is copied
 * (open_tree(2), recursive: its flags stay locked) before the overlay
 * covers it, to be attached on the overlay after.
 */
static void
copy_volumes(const struct container *c, int *copies)
{
    char path[PATH_MAX + 2];

    for (size_t i = 0; i < c->opts->volume_specs.len; i++) {
        copies[i] = -1;
        if (c->volume_trees[i] == -1)
            continue; /* rootless: setup_volumes() binds it */
        snprintf(path, sizeof(path), ".%s", c->opts->volumes[i].container);
        copies[i] =
            must(open_tree(AT_FDCWD, path,
                           OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE),
                 "open_tree(AT_FDCWD, \"%s\", OPEN_TREE_CLONE|"
                 "AT_RECURSIVE)",
                 path);
    }
}

static void
attach_volume_copies(const struct container *c, const int *copies)
{
    char path[PATH_MAX + 2];

    for (size_t i = 0; i < c->opts->volume_specs.len; i++) {
        if (copies[i] == -1)
            continue;
        snprintf(path, sizeof(path), ".%s", c->opts->volumes[i].container);
        must(move_mount(copies[i], "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH),
             "move_mount(%d, \"\", AT_FDCWD, \"%s\", "
             "MOVE_MOUNT_F_EMPTY_PATH)",
             copies[i], path);
        close(copies[i]);
    }
}

/*
 * An imported image may lack the directories the container's own
 * filesystems are mounted on: they are made in the container's layer
 * (mkdir(2)), which the image never sees.
 */
static void
make_mount_points(void)
{
    static const char *const dirs[] = {"proc", "sys", "dev", "tmp"};

    for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
        if (mkdir(dirs[i], strcmp(dirs[i], "tmp") ? 0755 : 01777) == -1 &&
            errno != EEXIST)
            die("mkdir(\"%s\")", dirs[i]);
}

/*
 * The child, in its own mount namespace: the overlay, made with the new
 * mount API, fsopen(2), fsconfig(2) and fsmount(2) (the classic way is
 * one mount(2) with "lowerdir=A:B,upperdir=U,workdir=W,userxattr"; this
 * one says why it refuses). It is attached over the image the runtime
 * attached (or, rootless, over the image's path), and the child enters
 * it: from here on, the container's root is the merged view. Rootless,
 * the runtime has no mount namespace of its own: the child mounts the
 * scratch filesystem itself, in its own.
 */
void
setup_overlay(const struct container *c)
{
    char lower[LAYER_MAX * (PATH_MAX + 16)], dir[PATH_MAX + 16];
    int copies[OPT_LIST_MAX], fs, mnt;

    if (c->opts->rootless && !c->opts->keep)
        mount_scratch(c, (uid_t)-1, (gid_t)-1);
    fs = must(fsopen("overlay", FSOPEN_CLOEXEC), "fsopen(\"overlay\")");
    lower_dirs(c, lower, sizeof(lower));
    overlay_option(fs, FSCONFIG_SET_STRING, "lowerdir", lower);
    snprintf(dir, sizeof(dir), "%s/upper", c->layer);
    overlay_option(fs, FSCONFIG_SET_STRING, "upperdir", dir);
    snprintf(dir, sizeof(dir), "%s/work", c->layer);
    overlay_option(fs, FSCONFIG_SET_STRING, "workdir", dir);
    /* Opaque directories marked with user.overlay.*: a user namespace's. */
    overlay_option(fs, FSCONFIG_SET_FLAG, "userxattr", NULL);
    overlay_option(fs, FSCONFIG_CMD_CREATE, NULL, NULL);
    mnt =
        must(fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV),
             "fsmount(%d, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID|"
             "MOUNT_ATTR_NODEV)",
             fs);
    copy_volumes(c, copies);
    must(move_mount(mnt, "", AT_FDCWD,
                    c->rootfs_tree != -1 ? "." : c->opts->rootfs,
                    MOVE_MOUNT_F_EMPTY_PATH),
         "move_mount(%d, \"\", AT_FDCWD, \"%s\", MOVE_MOUNT_F_EMPTY_PATH)", mnt,
         c->rootfs_tree != -1 ? "." : c->opts->rootfs);
    must(fchdir(mnt), "fchdir(%d)", mnt);
    make_mount_points();
    attach_volume_copies(c, copies);
    close(mnt);
    close(fs);
}
