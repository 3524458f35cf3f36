/*
 * mount.c: a root filesystem and a mount table of its own, from step 04
 * on.
 *
 * The mount namespace gives the child a copy of the host's mount table:
 * from then on, mounts made on either side stay on that side (once
 * propagation is cut). The child then builds the container's tree the
 * classic way: it bind-mounts the root filesystem onto itself, mounts a
 * /proc, /sys and a minimal /dev of the container's own and the volumes
 * into it, and pivot_root(2)s into it. The host's tree is detached: not
 * one of its mounts stays in the namespace.
 *
 * Man pages: mount_namespaces(7), mount(2), pivot_root(2), umount2(2),
 * mount_setattr(2), proc(5), sysfs(5), tmpfs(5), pts(4).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "step.h"

/*
 * The default root filesystem is the one make rootfs builds next to the
 * step binaries, build/rootfs, found from /proc/self/exe: the user need
 * not name it, wherever the repository is.
 */
const char *
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

/*
 * --rootfs must be a directory. stat(2) gives a clear error before any
 * namespace is made, with the common fix.
 */
void
parse_rootfs(const char *rootfs)
{
    static const char hint[] = "build the default one with 'make rootfs', "
                               "or give --rootfs DIR";
    struct stat st;

    if (stat(rootfs, &st) == -1)
        die_hint(hint, "stat(\"%s\") for --rootfs", rootfs);
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        die_hint(hint, "stat(\"%s\") for --rootfs", rootfs);
    }
}

/*
 * HOST:CONTAINER[:ro], as docker -v takes it. HOST is made absolute now,
 * with realpath(3): the child mounts it after it has moved into the root
 * filesystem, where a relative path would mean something else.
 */
void
parse_volume(const char *spec, struct volume *v)
{
    const char *colon = strchr(spec, ':');
    const char *mode = colon ? strchr(colon + 1, ':') : NULL;
    size_t host_len = colon ? (size_t)(colon - spec) : 0;
    size_t len = mode    ? (size_t)(mode - colon - 1)
                 : colon ? strlen(colon + 1)
                         : 0;
    char host[PATH_MAX];

    if (!colon || host_len == 0 || host_len >= PATH_MAX || len >= PATH_MAX)
        usage_error("--volume %s: not HOST:CONTAINER[:ro]", spec);
    if (mode && strcmp(mode, ":ro") != 0 && strcmp(mode, ":rw") != 0)
        usage_error("--volume %s: the mode is ro or rw, not %s", spec,
                    mode + 1);
    snprintf(host, sizeof(host), "%.*s", (int)host_len, spec);
    snprintf(v->container, sizeof(v->container), "%.*s", (int)len, colon + 1);
    if (v->container[0] != '/' || strcmp(v->container, "/") == 0)
        usage_error("--volume %s: CONTAINER must be an absolute path below /",
                    spec);
    if (!realpath(host, v->host))
        die_hint("a volume's HOST path must exist",
                 "realpath(\"%s\") for "
                 "--volume",
                 host);
    v->read_only = mode && strcmp(mode, ":ro") == 0;
}

/*
 * The new mount namespace starts as a copy of the host's mount table, and
 * on most systemd machines / is a shared mount: the copies stay in the
 * same peer groups, and a mount made on either side would appear on the
 * other. Making every mount private first cuts the container out of
 * those groups; pivot_root(2) also refuses a shared new root.
 */
void
setup_mount_propagation(void)
{
    /* mount(2), mount_namespaces(7) "Shared subtrees" */
    int ret = mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);

    must_hint(ret,
              errno == EINVAL ? "/ is not a mount point here (a chroot, a "
                                "build container?): run the steps on a "
                                "machine or VM"
                              : NULL,
              "mount(NULL, \"/\", NULL, MS_REC|MS_PRIVATE, NULL)");
}

/*
 * pivot_root(2) needs the new root to be a mount point: a bind mount of
 * the root filesystem onto itself makes it one. MS_REC brings mounts
 * below it along. The child then works inside it, so the next mounts are
 * relative.
 */
void
setup_root_bind(const struct container *c)
{
    const char *rootfs = c->opts->rootfs;

    if (c->rootfs_tree != -1) { /* 06: the runtime attached it */
        setup_root_copy();
        return;
    }
    must(mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL),
         "mount(\"%s\", \"%s\", NULL, MS_BIND|MS_REC, NULL)", rootfs, rootfs);
    /* chdir(2): after the mount, so the path leads into the new mount. */
    must(chdir(rootfs), "chdir(\"%s\")", rootfs);
}

/*
 * A proc filesystem shows the PID namespace of the process that mounts
 * it: this one lists only the container's processes. /sys comes read-only.
 * Both are mounted before pivot_root(2): inside a user namespace (step 06)
 * the kernel allows them only while a full proc and sysfs are visible.
 */
void
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
setup_dev_nodes(void)
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

/* /dev: the nodes, the terminals and IPC, and the links programs expect. */
void
setup_dev(void)
{
    static const char *const links[][2] = {{"/proc/self/fd", "dev/fd"},
                                           {"/proc/self/fd/0", "dev/stdin"},
                                           {"/proc/self/fd/1", "dev/stdout"},
                                           {"/proc/self/fd/2", "dev/stderr"}};

    setup_dev_nodes();
    setup_dev_pts_shm_mqueue();
    for (size_t i = 0; i < ARRAY_SIZE(links); i++)
        must(symlink(links[i][0], links[i][1]), "symlink(\"%s\", \"%s\")",
             links[i][0], links[i][1]);
}

/*
 * Each volume is bind-mounted at its place in the new root, submounts
 * included (MS_REC). The place must exist in the image: up to step 07
 * the image is shared by every container, and none writes into it (from
 * step 08 the container's own layer can hold a new mount point). A
 * read-only volume is made so with mount_setattr(2) and AT_RECURSIVE: a
 * plain MS_RDONLY remount would leave its submounts writable.
 */
void
setup_volumes(const struct container *c)
{
    const struct volume *volumes = c->opts->volumes;
    size_t count = c->opts->volume_specs.len;
    struct mount_attr read_only = {.attr_set = MOUNT_ATTR_RDONLY};
    char target[PATH_MAX + 1];
    struct stat st;

    for (size_t i = 0; i < count; i++) {
        const struct volume *v = &volumes[i];

        if (c->volume_trees[i] != -1) /* 06: the runtime attached it */
            continue;
        snprintf(target, sizeof(target), ".%s", v->container);
        if (stat(target, &st) == -1)
            die_hint("a volume's CONTAINER path must exist in the root "
                     "filesystem: boxstep makes nothing in the shared image "
                     "before step 08",
                     "stat(\"%s\") for --volume %s:%s", target, v->host,
                     v->container);
        must(mount(v->host, target, NULL, MS_BIND | MS_REC, NULL),
             "mount(\"%s\", \"%s\", NULL, MS_BIND|MS_REC, NULL)", v->host,
             target);
        if (v->read_only)
            must(mount_setattr(AT_FDCWD, target, AT_RECURSIVE, &read_only,
                               sizeof(read_only)),
                 "mount_setattr(AT_FDCWD, \"%s\", AT_RECURSIVE, "
                 "{MOUNT_ATTR_RDONLY})",
                 target);
    }
}

/*
 * pivot_root(".", ".") makes the working directory, the container's root
 * mount, the root of the namespace, and stacks the old root on top of it;
 * umount2(2) with MNT_DETACH then takes the old root away. Unlike
 * chroot(2), which only changes where / leads for one process, nothing of
 * the host's tree is left in the namespace: no .. leads back, and neither
 * does a second chroot or /proc/1/root.
 */
void
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
void
setup_tmp_umask(void)
{
    must(mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"),
         "mount(\"tmpfs\", \"/tmp\", \"tmpfs\", MS_NOSUID|MS_NODEV, "
         "\"mode=1777\")");
    /* umask(2) */
    trace("umask(022) = 0%o", umask(022));
}
