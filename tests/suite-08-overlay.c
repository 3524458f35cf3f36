/*
 * suite-08-overlay.c: from step 08 the image is read-only and shared, and
 * each container writes into a layer of its own (overlayfs).
 *
 * Each check makes its own image: a copy of build/rootfs in the sandbox's
 * TMPDIR with a /data directory of known files (and, for a --no-idmap
 * twin, its shifted copy, tools/shift-rootfs.sh). No test writes into
 * build/rootfs. The properties hold on 08, and the same check leaks on
 * 07, whose container cannot write its root at all (06 and 07 mount it
 * read-only), and on 04-05, whose writes land in the image: the behaviour
 * image_copy shows the checksum catching that on 05. Layers go in the
 * sandbox's BOXSTEP_LAYER_DIR (sandbox.c), which the harness checks is
 * empty after each test: a test that keeps a layer removes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* What every check does inside: write, change, delete, re-make. */
#define CHANGES \
    "echo new > /data/new.txt && echo more >> /data/keep.txt && " \
    "rm /data/gone.txt && rm -r /data/dir && mkdir /data/dir && " \
    "echo c > /data/dir/c && echo ok"

/* Set by a _no_idmap twin: its check runs in a process of its own. */
static bool no_idmap;

#define NO_IDMAP_TWIN(check) \
    static bool check##_no_idmap(const char *step) \
    { \
        no_idmap = true; \
        return check(step); \
    }

#define NO_IDMAP_BEHAVIOUR(check) \
    static void check##_no_idmap(const char *step) \
    { \
        no_idmap = true; \
        check(step); \
    }

/* ---- the image ---- */

/* Writes text to dir/name: "we" a new file, "ae" at its end. */
static void
put_file(const char *dir, const char *name, const char *text, const char *mode)
{
    char path[PATH_MAX];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (!(f = fopen(path, mode)) || fputs(text, f) == EOF || fclose(f) == EOF)
        fail_check("cannot write %s: %s", path, strerror(errno));
}

static void
write_file(const char *dir, const char *name, const char *text)
{
    put_file(dir, name, text, "we");
}

static void
run_tool(char *const argv[])
{
    struct proc p;

    if (run(&p, argv) != 0)
        fail_check("%s: status %d: %s", command_line(argv), p.status, p.err);
}

/*
 * TMPDIR/NAME: build/rootfs copied, plus /data with keep.txt, gone.txt
 * and dir/{a,b}, all root's; with its shifted copy for a twin.
 */
static const char *
make_image(const char *name)
{
    static char dir[2][PATH_MAX];
    static int which;
    char rootfs[PATH_MAX], data[PATH_MAX + 8], sub[PATH_MAX + 16];
    char *path = dir[which++ % 2];

    snprintf(path, PATH_MAX, "%s/%s", getenv("TMPDIR"), name);
    snprintf(rootfs, sizeof(rootfs), "%s/rootfs", build_dir());
    run_tool(ARGV("/bin/cp", "-a", rootfs, path));
    snprintf(data, sizeof(data), "%s/data", path);
    snprintf(sub, sizeof(sub), "%s/dir", data);
    if (mkdir(data, 0755) == -1 || mkdir(sub, 0755) == -1)
        fail_check("cannot make %s: %s", sub, strerror(errno));
    write_file(data, "keep.txt", "original\n");
    write_file(data, "gone.txt", "gone\n");
    write_file(sub, "a", "a\n");
    write_file(sub, "b", "b\n");
    if (no_idmap) {
        /* make test and the VM's job run in the repository. */
        run_tool(ARGV("/bin/sh", "tools/shift-rootfs.sh", path));
    }
    return path;
}

static void
remove_image(const char *path)
{
    char shifted[PATH_MAX + 16];

    snprintf(shifted, sizeof(shifted), "%s-shifted", path);
    run_tool(ARGV("/bin/rm", "-rf", (char *)path, shifted));
}

/* FNV-1a, over bytes: the checksum of an image, as image_sum() adds up. */
static unsigned long long image_hash;

static void
hash_bytes(const void *data, size_t len)
{
    const unsigned char *b = data;

    for (size_t i = 0; i < len; i++)
        image_hash = (image_hash ^ b[i]) * 1099511628211ULL;
}

static int
hash_entry(const char *path, const struct stat *st, int type, struct FTW *f)
{
    char buf[4096];
    ssize_t n;
    int fd;

    (void)type;
    (void)f;
    hash_bytes(path, strlen(path) + 1);
    hash_bytes(&st->st_mode, sizeof(st->st_mode));
    hash_bytes(&st->st_uid, sizeof(st->st_uid));
    hash_bytes(&st->st_gid, sizeof(st->st_gid));
    hash_bytes(&st->st_rdev, sizeof(st->st_rdev));
    if (S_ISLNK(st->st_mode) && (n = readlink(path, buf, sizeof(buf))) > 0)
        hash_bytes(buf, n);
    if (S_ISREG(st->st_mode) && (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
        while ((n = read(fd, buf, sizeof(buf))) > 0)
            hash_bytes(buf, n);
        close(fd);
    }
    n = llistxattr(path, buf, sizeof(buf));
    if (n > 0)
        hash_bytes(buf, n);
    return 0;
}

/* A checksum of the whole image: names, owners, modes, contents, xattrs. */
static unsigned long long
image_sum(const char *dir)
{
    image_hash = 14695981039346656037ULL;
    /* nftw(3), in a fixed order: FTW_PHYS, and readdir's order is stable. */
    if (nftw(dir, hash_entry, 32, FTW_PHYS) == -1)
        fail_check("nftw %s: %s", dir, strerror(errno));
    return image_hash;
}

/* ---- running the step ---- */

/*
 * The step on image: --image from 08 on, --rootfs before (the same
 * directory), --no-idmap for a twin, then args.
 */
static char *const *
box(const char *step, const char *image, char *const args[])
{
    static char *argv[64];
    size_t n = 0;

    argv[n++] = STEP;
    if (atoi(step) >= 5) {
        argv[n++] = "--net";
        argv[n++] = "none";
    }
    if (no_idmap && atoi(step) >= 6)
        argv[n++] = "--no-idmap";
    if (image && atoi(step) >= 4) {
        argv[n++] = atoi(step) >= 8 ? "--image" : "--rootfs";
        argv[n++] = (char *)image;
    }
    for (size_t i = 0; args[i] && n < 63; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    return argv;
}

#define BOX(image, ...) box(step, image, ARGV(__VA_ARGS__))

/* The last line of the container's output is "ok" (CHANGES went through). */
static bool
said_ok(const struct proc *p)
{
    const char *end = p->out + p->out_len;

    while (end > p->out && end[-1] == '\n')
        end--;
    return end - p->out >= 2 && strncmp(end - 2, "ok", 2) == 0;
}

/* ---- properties ---- */

/*
 * A file written, one changed, one deleted and a directory removed and
 * made again inside: the container sees its changes, and the image is
 * byte for byte what it was. 07 refuses the writes (read-only root); 05
 * makes them in the image (image_copy); 00-03 have the host's root, where
 * the check writes nothing and counts a leak.
 */
static bool
image_unchanged(const char *step)
{
    const char *image;
    unsigned long long before, after;
    struct proc p;

    if (atoi(step) < 4)
        return false; /* the host's root: the writes would reach it */
    image = make_image("image");
    before = image_sum(image);
    run(&p, BOX(image, "/bin/sh", "-c", CHANGES));
    after = image_sum(image);
    remove_image(image);
    if (said_ok(&p) && p.status != 0)
        fail_check("the changes went through, then status %d", p.status);
    return p.status == 0 && said_ok(&p) && before == after;
}

/*
 * Two containers on one image at the same time: neither sees the
 * other's writes. The first writes and waits on its stdin; the second
 * looks for that file, then writes its own, which the first looks for.
 * 07: nothing can be written (not isolated: no root of its own to write);
 * 00-03, the host's root: not run, a leak.
 */
static bool
writes_private(const char *step)
{
    struct run_opts keep = {.keep_stdin = true};
    const char *image, *line, *seen;
    struct proc a, b;
    bool isolated;

    if (atoi(step) < 4)
        return false; /* the host's root: the writes would reach it */
    /* A first container that has exited must not end the check. */
    signal(SIGPIPE, SIG_IGN);
    image = make_image("shared-image");
    if (spawn(&a, &keep,
              BOX(image, "/bin/sh", "-c",
                  "(echo a > /data/a) 2>/dev/null && echo written || "
                  "echo refused; read x; "
                  "test -e /data/b && echo sees-b || echo no-b")) == -1)
        fail_check("cannot run the first container");
    line = read_line(&a, 10000);
    run(&b, BOX(image, "/bin/sh", "-c",
                "test -e /data/a && echo sees-a || echo no-a; "
                "echo b > /data/b && echo written"));
    if (write(a.in_fd, "\n", 1) != 1)
        fail_check("cannot write to the first container's stdin");
    close(a.in_fd);
    seen = line && strcmp(line, "written") == 0 ? read_line(&a, 10000) : NULL;
    finish(&a, 10000);
    remove_image(image);
    isolated =
        seen && strcmp(seen, "no-b") == 0 && strstr(b.out, "no-a\nwritten");
    if (seen && strcmp(seen, "sees-b") && strcmp(seen, "no-b"))
        fail_check("the first container said '%s'", seen);
    return isolated;
}

NO_IDMAP_TWIN(image_unchanged)
NO_IDMAP_TWIN(writes_private)

/* ---- behaviours ---- */

/*
 * The checksum catches a change: step 05, whose root is the image
 * itself, read-write, run on a copy, changes it.
 */
static void
image_copy_changed(const char *step)
{
    const char *image = make_image("image-05");
    unsigned long long before = image_sum(image), after;
    struct proc p;

    run(&p, BOX(image, "/bin/sh", "-c", CHANGES));
    after = image_sum(image);
    remove_image(image);
    if (p.status != 0 || !said_ok(&p))
        fail_check("the changes failed on %s: %d %s", step, p.status, p.err);
    if (before == after)
        fail_check("the image's checksum did not change: it cannot fail");
}

/* The path --keep printed: "...: kept the container's layer: PATH". */
static const char *
kept_path(const struct proc *p)
{
    static char path[PATH_MAX];
    const char *at = strstr(p->err, "kept the container's layer: ");

    if (!at || sscanf(at + strlen("kept the container's layer: "), "%4095s",
                      path) != 1)
        fail_check("--keep printed no path: %s", p->err);
    return path;
}

/* What lstat(2) says of PATH/name: its type, owner, and text. */
static struct stat
stat_in(const char *dir, const char *name, char *text, size_t len)
{
    char path[PATH_MAX * 2];
    struct stat st;
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (lstat(path, &st) == -1)
        fail_check("the upper layer lacks %s: %s", name, strerror(errno));
    if (text && S_ISREG(st.st_mode) && (f = fopen(path, "re"))) {
        n = fread(text, 1, len - 1, f);
        text[n] = '\0';
        fclose(f);
    }
    return st;
}

/* Every path below the upper layer, one a line, for the message. */
static char upper_list[4096];
static size_t upper_len, upper_prefix;

static int
list_entry(const char *path, const struct stat *st, int type, struct FTW *f)
{
    (void)st;
    (void)type;
    if (f->level > 0 && upper_len < sizeof(upper_list))
        upper_len +=
            snprintf(upper_list + upper_len, sizeof(upper_list) - upper_len,
                     "%s\n", path + upper_prefix);
    return 0;
}

static int
count_entries(const char *dir)
{
    int n = 0;

    upper_len = 0;
    upper_prefix = strlen(dir) + 1;
    upper_list[0] = '\0';
    if (nftw(dir, list_entry, 16, FTW_PHYS) == -1)
        fail_check("nftw %s: %s", dir, strerror(errno));
    for (const char *s = upper_list; *s; s++)
        n += *s == '\n';
    return n;
}

/*
 * --keep, then the upper layer holds exactly the changes: the new file;
 * the changed one copied up whole; the deleted one a whiteout (a
 * character device 0/0); the re-made directory opaque (user.overlay.
 * opaque, as userxattr marks it) with its one new file; /data itself,
 * copied up to hold them. Owned by the container's mapped host ids.
 */
static void
upper_holds_changes(const char *step)
{
    const char *image = make_image("image");
    char text[256], upper[PATH_MAX], xattr[8] = "";
    struct stat st;
    struct proc p;

    run(&p, BOX(image, "--keep", "--name", "kept", "/bin/sh", "-c", CHANGES));
    if (p.status != 0 || !said_ok(&p))
        fail_check("the changes failed: %d %s", p.status, p.err);
    snprintf(upper, sizeof(upper), "%s", kept_path(&p));
    st = stat_in(upper, "data/new.txt", text, sizeof(text));
    if (!S_ISREG(st.st_mode) || strcmp(text, "new\n") || st.st_uid < 65536)
        fail_check("new.txt: mode %o uid %u '%s'", st.st_mode, st.st_uid, text);
    st = stat_in(upper, "data/keep.txt", text, sizeof(text));
    if (strcmp(text, "original\nmore\n"))
        fail_check("keep.txt was not copied up whole: '%s'", text);
    st = stat_in(upper, "data/gone.txt", NULL, 0);
    if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(0, 0))
        fail_check("gone.txt is not a whiteout: mode %o", st.st_mode);
    snprintf(text, sizeof(text), "%s/data/dir", upper);
    if (getxattr(text, "user.overlay.opaque", xattr, sizeof(xattr)) != 1 ||
        xattr[0] != 'y')
        fail_check("data/dir is not marked opaque: %s", strerror(errno));
    stat_in(upper, "data/dir/c", NULL, 0);
    if (count_entries(upper) != 6)
        fail_check("the upper layer holds more than the changes:\n%s",
                   upper_list);
    run(&p, BOX(NULL, "--rm-layer", "kept"));
    remove_image(image);
    if (p.status != 0)
        fail_check("--rm-layer kept: %d %s", p.status, p.err);
}

/*
 * A commit: --keep, then --image KEPT:IMAGE shows the changes, the
 * deletion and the opaque directory included, in a new container, its
 * files owned by root inside (the kept range idmapped onto the new one);
 * --layers lists the kept layer until --rm-layer removes it.
 */
static void
keep_commits(const char *step)
{
    const char *image = make_image("image");
    char stacked[PATH_MAX * 2 + 2];
    struct proc p;

    run(&p, BOX(image, "--keep", "--name", "commit", "/bin/sh", "-c", CHANGES));
    if (p.status != 0 || !said_ok(&p))
        fail_check("the changes failed: %d %s", p.status, p.err);
    snprintf(stacked, sizeof(stacked), "%s:%s", kept_path(&p), image);
    if (!strstr(answer(BOX(NULL, "--layers")), "commit\t"))
        fail_check("--layers does not list the kept layer");
    run(&p, BOX(stacked, "/bin/sh", "-c",
                "cat /data/new.txt /data/keep.txt; ls /data/dir; "
                "test -e /data/gone.txt || echo gone; "
                "stat -c %u /data/new.txt /data/keep.txt"));
    if (p.status != 0 ||
        strcmp(p.out, "new\noriginal\nmore\nc\ngone\n0\n0\n") != 0)
        fail_check("a container on the kept layer said (%d):\n%s%s", p.status,
                   p.out, p.err);
    expect_exit_125(BOX(NULL, "--rm-layer", "no-such-layer"), "no kept layer");
    run(&p, BOX(NULL, "--rm-layer", "commit"));
    remove_image(image);
    if (p.status != 0 || strstr(answer(BOX(NULL, "--layers")), "commit"))
        fail_check("--rm-layer commit: %d %s", p.status, p.err);
}

NO_IDMAP_BEHAVIOUR(upper_holds_changes)
NO_IDMAP_BEHAVIOUR(keep_commits)

/* A container that waits on its stdin, run as argv: its first line is
 * "up" once it runs. */
static void
spawn_waiting(struct proc *p, char *const argv[])
{
    struct run_opts keep = {.keep_stdin = true};
    const char *line;

    if (spawn(p, &keep, argv) == -1)
        fail_check("cannot run %s", command_line(argv));
    if (!(line = read_line(p, 10000)) || strcmp(line, "up"))
        fail_check("%s did not start: %s", command_line(argv), p->err);
}

/*
 * --rm-layer refuses a kept layer while a running container uses it: the
 * one writing it (--keep: not kept until it exits), and one stacking it
 * (--image KEPT:BASE); once they are gone it removes it.
 */
static void
rm_layer_in_use_refused(const char *step)
{
    char stacked[PATH_MAX * 2 + 2];
    struct proc p, w;

    signal(SIGPIPE, SIG_IGN);
    spawn_waiting(&w, BOX(NULL, "--keep", "--name", "busy", "/bin/sh", "-c",
                          "echo up; read x"));
    expect_exit_125(BOX(NULL, "--rm-layer", "busy"), "no kept layer");
    close(w.in_fd);
    finish(&w, 10000);
    snprintf(stacked, sizeof(stacked), "%s:%s/rootfs", kept_path(&w),
             build_dir());
    spawn_waiting(&w, BOX(stacked, "--name", "stacker", "/bin/sh", "-c",
                          "echo up; read x"));
    expect_exit_125(BOX(NULL, "--rm-layer", "busy"),
                    "container stacker uses it");
    close(w.in_fd);
    finish(&w, 10000);
    run(&p, BOX(NULL, "--rm-layer", "busy"));
    if (p.status != 0 || strstr(answer(BOX(NULL, "--layers")), "busy"))
        fail_check("--rm-layer busy, once unused: %d %s", p.status, p.err);
}

/* mkdir(2) of STORE/rel, or the check fails. */
static void
make_store_dir(const char *store, const char *rel)
{
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/%s", store, rel);
    if (mkdir(path, 0755) == -1)
        fail_check("mkdir %s: %s", path, strerror(errno));
}

/*
 * An image of the store, as build/image-import writes it (its format is
 * in tools/image-import/image.h), made by hand: tar here may be busybox's
 * (the lab VM), which the importer's example needs as GNU tar. Two
 * layers, the top one with a whiteout (etc/b) and an opaque directory
 * (data), and a config with an environment and a cmd.
 */
static void
make_store_image(const char *store)
{
    char path[PATH_MAX], text[PATH_MAX * 2 + 8];

    make_store_dir(store, "");
    make_store_dir(store, "layers");
    make_store_dir(store, "layers/bottom");
    make_store_dir(store, "layers/bottom/etc");
    make_store_dir(store, "layers/bottom/data");
    make_store_dir(store, "layers/top");
    make_store_dir(store, "layers/top/etc");
    make_store_dir(store, "layers/top/data");
    make_store_dir(store, "images");
    make_store_dir(store, "images/ex");
    snprintf(path, sizeof(path), "%s/layers/bottom", store);
    write_file(path, "etc/a", "from the lower layer\n");
    write_file(path, "etc/b", "b\n");
    write_file(path, "data/x", "x\n");
    snprintf(path, sizeof(path), "%s/layers/top", store);
    write_file(path, "etc/c", "added by the upper layer\n");
    write_file(path, "data/z", "z\n");
    snprintf(path, sizeof(path), "%s/layers/top/etc/b", store);
    if (mknod(path, S_IFCHR | 0600, makedev(0, 0)) == -1)
        fail_check("mknod %s: %s", path, strerror(errno));
    snprintf(path, sizeof(path), "%s/layers/top/data", store);
    if (setxattr(path, "user.overlay.opaque", "y", 1, 0) == -1)
        fail_check("setxattr %s: %s", path, strerror(errno));
    snprintf(path, sizeof(path), "%s/images/ex", store);
    snprintf(text, sizeof(text), "%s/layers/top\n%s/layers/bottom\n", store,
             store);
    write_file(path, "layers", text);
    write_file(path, "config",
               "env=PATH=/bin\nenv=GREETING=hello\ncmd=/bin/sh\n");
}

/*
 * An image of build/image-import's store (chapter 10): --image
 * STORE/images/NAME stacks its layers, top first, with their whiteout
 * and opaque directory; its environment goes before --env, and its cmd
 * stands for a missing COMMAND. It has no shell: it is stacked on the
 * test's image. Two store images in one --image exit 125.
 */
static void
store_image_runs(const char *step)
{
    const char *base = make_image("base");
    char store[PATH_MAX], stacked[PATH_MAX * 2];
    struct run_opts keep = {.keep_stdin = true};
    struct proc p;

    snprintf(store, sizeof(store), "%s/store", getenv("TMPDIR"));
    make_store_image(store);
    snprintf(stacked, sizeof(stacked), "%s/images/ex:%s", store, base);
    run(&p, BOX(stacked, "/bin/sh", "-c",
                "cat /etc/a /etc/c; test -e /etc/b || echo b-gone; ls /data; "
                "echo $GREETING"));
    if (p.status != 0 || strcmp(p.out, "from the lower layer\nadded by the "
                                       "upper layer\nb-gone\nz\nhello\n"))
        fail_check("a container on the store's image said (%d):\n%s%s",
                   p.status, p.out, p.err);
    if (spawn(&p, &keep, BOX(stacked, NULL)) == -1 ||
        write(p.in_fd, "echo cmd $GREETING\n", 19) != 19)
        fail_check("cannot run the image's cmd");
    close(p.in_fd);
    if (finish(&p, 10000) != 0 || strcmp(p.out, "cmd hello\n"))
        fail_check("the image's cmd did not run as COMMAND (%d): %s%s",
                   p.status, p.out, p.err);
    /* Two of them: whose command and environment? Refused. */
    snprintf(stacked, sizeof(stacked), "%s/images/ex:%s/images/ex:%s", store,
             store, base);
    expect_exit_125(BOX(stacked, "/bin/true"), "two images of the store");
    remove_image(base);
    run_tool(ARGV("/bin/rm", "-rf", store));
}

/* Appends text to dir/name, or the check fails. */
static void
append_file(const char *dir, const char *name, const char *text)
{
    put_file(dir, name, text, "ae");
}

/* What the container says of itself: its directory, uid, gid and groups. */
#define WHO_AM_I "pwd; id -u; id -g; id -G"

/*
 * A store image's workdir and user apply: its user a name that only the
 * image's own /etc/passwd and /etc/group list (the host's do not), with
 * its group and supplementary group; --workdir and --user override them;
 * a name the image does not list, or an id the container does not map,
 * is refused with 125 before COMMAND runs.
 */
static void
store_image_user(const char *step)
{
    const char *base = make_image("base");
    char store[PATH_MAX], stacked[PATH_MAX * 2], etc[PATH_MAX + 8];
    struct proc p, q;

    snprintf(etc, sizeof(etc), "%s/etc", base);
    append_file(etc, "passwd", "boxuser:x:1234:1235::/data:/bin/sh\n");
    append_file(etc, "group", "boxgroup:x:1235:\nboxextra:x:1236:boxuser\n");
    snprintf(store, sizeof(store), "%s/store", getenv("TMPDIR"));
    make_store_image(store);
    snprintf(etc, sizeof(etc), "%s/images/ex", store);
    append_file(etc, "config", "workdir=/data\nuser=boxuser\n");
    snprintf(stacked, sizeof(stacked), "%s/images/ex:%s", store, base);
    run(&p, BOX(stacked, "/bin/sh", "-c", WHO_AM_I));
    if (p.status != 0 || strcmp(p.out, "/data\n1234\n1235\n1235 1236\n"))
        fail_check("the image's workdir and user did not apply (%d):\n%s%s",
                   p.status, p.out, p.err);
    run(&p, BOX(stacked, "--workdir", "/etc", "--user", "7:8", "/bin/sh", "-c",
                WHO_AM_I));
    if (p.status != 0 || strcmp(p.out, "/etc\n7\n8\n8\n"))
        fail_check("--workdir and --user did not override the image's (%d):"
                   "\n%s%s",
                   p.status, p.out, p.err);
    /* HOME: the user's in the image's /etc/passwd; / for an unlisted uid */
    run(&p, BOX(stacked, "/bin/sh", "-c", "echo $HOME"));
    run(&q, BOX(stacked, "--user", "7", "/bin/sh", "-c", "echo $HOME"));
    if (strcmp(p.out, "/data\n") || strcmp(q.out, "/\n"))
        fail_check("HOME for the image's user: '%s', for --user 7: '%s'", p.out,
                   q.out);
    run(&p, BOX(stacked, "--user", "0:boxextra", "/bin/sh", "-c", WHO_AM_I));
    if (p.status != 0 || strcmp(p.out, "/data\n0\n1236\n1236\n"))
        fail_check("--user 0:boxextra (%d):\n%s%s", p.status, p.out, p.err);
    expect_exit_125(BOX(stacked, "--user", "nosuch", "/bin/true"),
                    "not in the image's /etc/passwd");
    expect_exit_125(BOX(stacked, "--user", "0:nosuch", "/bin/true"),
                    "not in the image's /etc/group");
    expect_exit_125(BOX(stacked, "--user", "70000", "/bin/true"),
                    "setresuid(70000, 70000, 70000)");
    expect_exit_125(BOX(stacked, "--workdir", "/no/such/dir", "/bin/true"),
                    "chdir(\"/no/such/dir\")");
    remove_image(base);
    run_tool(ARGV("/bin/rm", "-rf", store));
}

/*
 * build/image-import --prune keeps a layer that a running container
 * stacks, though no image names it any more (the container's state
 * record does: lower=PATH), and the container still reads it; once the
 * container is gone, the same --prune removes it (the control).
 */
static void
prune_keeps_running_layers(const char *step)
{
    const char *base = make_image("base");
    char store[PATH_MAX], stacked[PATH_MAX * 2], path[PATH_MAX + 16],
        tool[PATH_MAX];
    struct run_opts keep = {.keep_stdin = true};
    const char *line;
    struct proc p, q;

    snprintf(store, sizeof(store), "%s/store", getenv("TMPDIR"));
    snprintf(tool, sizeof(tool), "%s/image-import", build_dir());
    make_store_image(store);
    setenv("BOXSTEP_IMAGE_DIR", store, 1);
    snprintf(stacked, sizeof(stacked), "%s/images/ex:%s", store, base);
    if (spawn(&p, &keep,
              BOX(stacked, "/bin/sh", "-c",
                  "echo started; read x; cat /etc/c")) == -1 ||
        !(line = read_line(&p, 10000)) || strcmp(line, "started"))
        fail_check("the container did not start: %s", p.err);
    snprintf(path, sizeof(path), "%s/images/ex", store);
    run_tool(ARGV("/bin/rm", "-rf", path));
    run(&q, ARGV(tool, "--prune"));
    snprintf(path, sizeof(path), "%s/layers/top/etc/c", store);
    if (q.status != 0 || !strstr(q.out, "kept ") || access(path, F_OK) == -1)
        fail_check("--prune removed a running container's layer (%d):\n%s%s",
                   q.status, q.out, q.err);
    if (write(p.in_fd, "\n", 1) != 1)
        fail_check("cannot write to the container's stdin");
    close(p.in_fd);
    if (finish(&p, 10000) != 0 || !strstr(p.out, "added by the upper layer"))
        fail_check("the container lost its layer (%d):\n%s%s", p.status, p.out,
                   p.err);
    run(&q, ARGV(tool, "--prune"));
    if (q.status != 0 || strstr(q.out, "kept ") || access(path, F_OK) == 0)
        fail_check("--prune kept an unused layer (%d):\n%s%s", q.status, q.out,
                   q.err);
    remove_image(base);
    run_tool(ARGV("/bin/rm", "-rf", store));
}

#define TIMED_RUNS 15

/*
 * The median start of /bin/true on image a and on image b (NULL: the
 * build's), over TIMED_RUNS runs each taken in turn, so that both see
 * the same machine.
 */
static void
median_starts(const char *step, const char *a, const char *b, long *a_us,
              long *b_us)
{
    long a_runs[TIMED_RUNS], b_runs[TIMED_RUNS];

    for (int i = 0; i < TIMED_RUNS; i++) {
        a_runs[i] = time_run(BOX(a, "/bin/true"));
        b_runs[i] = time_run(BOX(b, "/bin/true"));
    }
    *a_us = median_of(a_runs, TIMED_RUNS);
    *b_us = median_of(b_runs, TIMED_RUNS);
}

/*
 * Starting a container does not copy the image: on an image of 20,000
 * more files (BOXSTEP_IMAGE_FILES: 5,000 in the lab VM, under software
 * emulation) its median start is at most 1.5 times that on the plain
 * image, runs taken in turn so that both see the same machine.
 */
static void
start_does_not_copy(const char *step)
{
    const char *plain = make_image("plain"), *big = make_image("big");
    long files = atol(getenv("BOXSTEP_IMAGE_FILES") ?: "20000");
    long small_us, big_us;
    char dir[PATH_MAX + 8], name[32];

    snprintf(dir, sizeof(dir), "%s/many", big);
    if (mkdir(dir, 0755) == -1)
        fail_check("mkdir %s: %s", dir, strerror(errno));
    for (long i = 0; i < files; i++) {
        snprintf(name, sizeof(name), "f%ld", i);
        write_file(dir, name, "x\n");
    }
    median_starts(step, plain, big, &small_us, &big_us);
    remove_image(plain);
    remove_image(big);
    printf("    start: median %ld us on the plain image, %ld us with %ld "
           "more files\n",
           small_us, big_us, files);
    if (big_us * 2 > small_us * 3)
        fail_check("the start took %ld us on the big image, %ld on the "
                   "plain one: more than 1.5 times",
                   big_us, small_us);
}

/* ---- a real distribution: Debian 12 ---- */

/*
 * The Debian 12 image make test builds once (tests.mk: make image-debian
 * into build/test-images, a store of the tests' own), or a skip: it
 * needs mmdebstrap and the apt mirror, and the lab VM leaves it out of
 * its copy of build/ (tests/allowed-skips).
 */
static const char *
debian_image(void)
{
    static char dir[PATH_MAX];
    char layers[PATH_MAX + 8];

    snprintf(dir, sizeof(dir), "%s/test-images/images/debian-12", build_dir());
    snprintf(layers, sizeof(layers), "%s/layers", dir);
    if (access(layers, R_OK) == -1)
        skip_check("no Debian image in %s: make test builds it (make "
                   "image-debian: mmdebstrap and the apt mirror)",
                   dir);
    return dir;
}

/* The checksum of every layer an image of the store lists. */
static unsigned long long
layers_sum(const char *image)
{
    char path[PATH_MAX + 8], line[PATH_MAX + 2];
    unsigned long long sum = 0;
    FILE *f;

    snprintf(path, sizeof(path), "%s/layers", image);
    if (!(f = fopen(path, "re")))
        fail_check("cannot read %s: %s", path, strerror(errno));
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        sum = sum * 1099511628211ULL ^ image_sum(line);
    }
    fclose(f);
    return sum;
}

/*
 * Debian runs inside 08: its /etc/os-release, apt, a dynamic binary,
 * whose libraries the image's own dynamic loader finds in the image.
 */
static void
debian_runs(const char *step)
{
    const char *debian = debian_image();
    struct proc p;

    run(&p, BOX(debian, "/bin/sh", "-c",
                "cat /etc/os-release; apt --version; "
                "/lib64/ld-linux-x86-64.so.2 --list /usr/bin/apt"));
    if (p.status != 0 || !strstr(p.out, "NAME=\"Debian GNU/Linux\"") ||
        !strstr(p.out, "VERSION_ID=\"12\"") || !strstr(p.out, "\napt 2.") ||
        !strstr(p.out, "libapt-pkg.so"))
        fail_check("Debian 12 did not run (%d):\n%s%s", p.status, p.out, p.err);
}

/*
 * Its config applies: with no COMMAND its cmd, bash, runs in its
 * workdir, /root, with its environment (LANG is the image's alone; PATH
 * is also the runtime's default). A COMMAND replaces the cmd, and --env
 * overrides the image's variable.
 */
static void
debian_config(const char *step)
{
    static const char line[] =
        "echo \"$PATH|$LANG|$(pwd)|${BASH_VERSION:+bash}\"\n";
    struct run_opts keep = {.keep_stdin = true};
    const char *debian = debian_image();
    struct proc p;

    if (spawn(&p, &keep, BOX(debian, NULL)) == -1 ||
        write(p.in_fd, line, strlen(line)) != (ssize_t)strlen(line))
        fail_check("cannot run the image's cmd");
    close(p.in_fd);
    if (finish(&p, 10000) != 0 ||
        strcmp(p.out, "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
                      "/sbin:/bin|C.UTF-8|/root|bash\n"))
        fail_check("the image's cmd, env and workdir did not apply (%d):\n"
                   "%s%s",
                   p.status, p.out, p.err);
    run(&p, BOX(debian, "--env", "LANG=C", "/bin/sh", "-c",
                "echo \"$LANG|${BASH_VERSION:+bash}\""));
    if (p.status != 0 || strcmp(p.out, "C|\n"))
        fail_check("COMMAND and --env did not override the image's (%d):\n"
                   "%s%s",
                   p.status, p.out, p.err);
}

/*
 * What Debian writes lands in the container's upper layer (kept here, to
 * be looked at, then removed): a new file, and a whiteout for a deleted
 * one; the imported layers are byte for byte what they were.
 */
static void
debian_writes_upper(const char *step)
{
    const char *debian = debian_image();
    unsigned long long before = layers_sum(debian);
    char text[256], upper[PATH_MAX];
    struct stat st;
    struct proc p;

    run(&p, BOX(debian, "--keep", "--name", "debian-kept", "/bin/sh", "-c",
                "echo written > /root/new.txt && rm /etc/issue && echo ok"));
    if (p.status != 0 || !said_ok(&p))
        fail_check("the writes failed: %d %s", p.status, p.err);
    snprintf(upper, sizeof(upper), "%s", kept_path(&p));
    st = stat_in(upper, "root/new.txt", text, sizeof(text));
    if (!S_ISREG(st.st_mode) || strcmp(text, "written\n"))
        fail_check("root/new.txt: mode %o '%s'", st.st_mode, text);
    st = stat_in(upper, "etc/issue", NULL, 0);
    if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(0, 0))
        fail_check("etc/issue is not a whiteout: mode %o", st.st_mode);
    run(&p, BOX(NULL, "--rm-layer", "debian-kept"));
    if (p.status != 0)
        fail_check("--rm-layer debian-kept: %d %s", p.status, p.err);
    if (layers_sum(debian) != before)
        fail_check("the imported layers changed");
}

/*
 * Starting on Debian costs what starting on busybox does: overlayfs
 * copies nothing at the start, whatever the image's size. Medians of
 * runs taken in turn, at most 1.5 times; the figures are printed for the
 * tutorial.
 */
static void
debian_start(const char *step)
{
    const char *debian = debian_image();
    long busybox_us, debian_us;

    median_starts(step, NULL, debian, &busybox_us, &debian_us);
    printf("    start: median %ld us on busybox, %ld us on Debian 12 (%d "
           "runs each)\n",
           busybox_us, debian_us, TIMED_RUNS);
    if (debian_us * 2 > busybox_us * 3)
        fail_check("the start took %ld us on Debian, %ld on busybox: more "
                   "than 1.5 times",
                   debian_us, busybox_us);
}

/* Whether LAYER_DIR/name is there. */
static bool
layer_there(const char *name)
{
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/%s", getenv("BOXSTEP_LAYER_DIR"), name);
    return access(path, F_OK) == 0;
}

/* How many entries dir holds, but for . and .. and the names in except
 * (NUL-separated); they are said in left. */
static int
entries_but(const char *dir, const char *except, char *left, size_t len)
{
    struct dirent *e;
    DIR *d = opendir(dir);
    int n = 0;

    left[0] = '\0';
    while (d && (e = readdir(d))) {
        bool excepted = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");

        for (const char *x = except; *x && !excepted; x += strlen(x) + 1)
            excepted = !strcmp(e->d_name, x);
        if (!excepted && ++n)
            snprintf(left + strlen(left), len - strlen(left), " %s", e->d_name);
    }
    if (d)
        closedir(d);
    return n;
}

/*
 * A container's throwaway layer is never on the disk: while it runs,
 * having written a file, the layer directory holds nothing of it, and
 * the scratch filesystem's mount point is empty on the host (its tmpfs
 * is in the container's mount namespace only); its runtime killed with
 * SIGKILL, nothing is left for --gc. A --keep container's runtime killed
 * the same way wrote no keep record: its layer is left until --gc, which
 * removes it. After a reboot /run is empty but kept layers remain: a
 * layer no record claims and no keep file keeps (made here by hand) goes
 * with the next run. A kept layer stays through all of them.
 */
static void
killed_runtime_leaves_nothing(const char *step)
{
    struct run_opts keep = {.keep_stdin = true};
    char path[PATH_MAX], scratch[PATH_MAX], left[512];
    const char *dir = getenv("BOXSTEP_LAYER_DIR"), *line;
    struct proc p, q;
    bool left_for_gc;

    snprintf(scratch, sizeof(scratch), "%s/.scratch", dir);
    run(&q, BOX(NULL, "--keep", "--name", "stays", "/bin/true"));
    if (spawn(&p, &keep,
              BOX(NULL, "--name", "killed", "/bin/sh", "-c",
                  "echo x > /x && echo written; read x")) == -1)
        fail_check("cannot run the container");
    if (!(line = read_line(&p, 10000)) || strcmp(line, "written"))
        fail_check("the container did not write: %s", p.err);
    if (entries_but(dir, ".boxstep-layers\0.scratch\0stays\0", left,
                    sizeof(left)) ||
        entries_but(scratch, "", left, sizeof(left)))
        fail_check("a running container's layer is on the disk:%s", left);
    kill(p.pid, SIGKILL);
    finish(&p, 10000);
    if (entries_but(dir, ".boxstep-layers\0.scratch\0stays\0", left,
                    sizeof(left)) ||
        entries_but(scratch, "", left, sizeof(left)))
        fail_check("the killed runtime left:%s", left);
    run(&q, BOX(NULL, "--gc"));
    if (q.status != 0)
        fail_check("--gc: %d %s", q.status, q.err);
    spawn_waiting(&p, BOX(NULL, "--keep", "--name", "killed-kept", "/bin/sh",
                          "-c", "echo up; read x"));
    kill(p.pid, SIGKILL);
    finish(&p, 10000);
    left_for_gc = layer_there("killed-kept");
    run(&q, BOX(NULL, "--gc"));
    if (layer_there("killed-kept")) {
        run(&p, BOX(NULL, "--rm-layer", "killed-kept"));
        fail_check("--gc left the layer of a --keep runtime killed: %d %s",
                   q.status, q.err);
    }
    if (!left_for_gc)
        fail_check("the killed --keep runtime left no layer: --gc had "
                   "nothing to remove");
    snprintf(path, sizeof(path), "%s/rebooted", dir);
    if (mkdir(path, 0700) == -1)
        fail_check("mkdir %s: %s", path, strerror(errno));
    write_file(path, "left", "x\n");
    run(&q, BOX(NULL, "/bin/true"));
    if (q.status != 0 || layer_there("rebooted"))
        fail_check("the next run left a layer no record claims: %s", q.err);
    if (!strstr(answer(BOX(NULL, "--layers")), "stays\t"))
        fail_check("the sweep removed a kept layer");
    run(&q, BOX(NULL, "--rm-layer", "stays"));
}

/* Runs argv with BOXSTEP_LAYER_DIR=dir, then puts the sandbox's back. */
static void
run_with_layer_dir(struct proc *p, const char *dir, char *const argv[])
{
    char saved[PATH_MAX];

    snprintf(saved, sizeof(saved), "%s", getenv("BOXSTEP_LAYER_DIR"));
    setenv("BOXSTEP_LAYER_DIR", dir, 1);
    run(p, argv);
    setenv("BOXSTEP_LAYER_DIR", saved, 1);
}

/*
 * Bad input, said clearly, with 125, and nothing half made (the harness
 * checks the layer directory): a missing layer, --image with --rootfs, a
 * kept layer's directory on an overlay, a name a kept layer has, a layer
 * directory below one the container's root cannot pass through.
 */
static void
layer_errors(const char *step)
{
    char dir[PATH_MAX], opts[PATH_MAX * 3], env[PATH_MAX + 32];
    const char *tmp = getenv("TMPDIR");
    struct proc p;

    expect_exit_125(BOX("/no/such/layer", "/bin/true"),
                    "stat(\"/no/such/layer\")");
    expect_exit_125(
        ARGV(STEP, "--image", "/tmp", "--rootfs", "/tmp", "/bin/true"),
        "give one");
    run(&p, BOX(NULL, "--keep", "--name", "taken", "/bin/true"));
    expect_exit_125(BOX(NULL, "--keep", "--name", "taken", "/bin/true"),
                    "that name");
    run(&p, BOX(NULL, "--rm-layer", "taken"));
    /* An overlay of the sandbox's own, unmounted after. */
    snprintf(dir, sizeof(dir), "%s/ovl", tmp);
    snprintf(opts, sizeof(opts),
             "lowerdir=%s/ovl-lower,upperdir=%s/ovl-upper,workdir=%s/ovl-work",
             tmp, tmp, tmp);
    for (const char *d = "ovl\0ovl-lower\0ovl-upper\0ovl-work\0"; *d;
         d += strlen(d) + 1) {
        snprintf(env, sizeof(env), "%s/%s", tmp, d);
        if (mkdir(env, 0755) == -1)
            fail_check("mkdir %s: %s", env, strerror(errno));
    }
    run_tool(ARGV("/bin/mount", "-t", "overlay", "overlay", "-o", opts, dir));
    snprintf(env, sizeof(env), "%s/layers", dir);
    run_with_layer_dir(&p, env, BOX(NULL, "--keep", "/bin/true"));
    run_tool(ARGV("/bin/rm", "-rf", env));
    run_tool(ARGV("/bin/umount", dir));
    if (p.status != 125 || !strstr(p.err, "refuses"))
        fail_check("a layer directory on an overlay: %d %s", p.status, p.err);
    /* Below a directory the container's root cannot pass through. */
    snprintf(dir, sizeof(dir), "%s/private", tmp);
    snprintf(env, sizeof(env), "%s/layers", dir);
    if (mkdir(dir, 0700) == -1)
        fail_check("mkdir %s: %s", dir, strerror(errno));
    run_with_layer_dir(&p, env, BOX(NULL, "--keep", "/bin/true"));
    run_tool(ARGV("/bin/rm", "-rf", dir));
    if (p.status != 125 || !strstr(p.err, "cannot pass through"))
        fail_check("a layer directory below a 0700 one: %d %s", p.status,
                   p.err);
}

/*
 * A layer kept by --keep holds what its container wrote, and host root
 * reads the store files of each --image part: a "layers" file planted
 * there naming the host's / must not make the next container's image,
 * nor a "layers" link to a host file be followed. Both exit 125, and
 * nothing of the host is shown.
 */
static void
kept_layer_not_an_image(const char *step)
{
    const char *image = make_image("image");
    char stacked[PATH_MAX * 2 + 2], link[PATH_MAX];
    struct proc p;

    run(&p, BOX(image, "--keep", "--name", "planted", "/bin/sh", "-c",
                "echo / > /layers && echo cmd=/bin/true > /config"));
    if (p.status != 0)
        fail_check("the planting container failed: %d %s", p.status, p.err);
    snprintf(stacked, sizeof(stacked), "%s:%s", kept_path(&p), image);
    run(&p, BOX(stacked, "/bin/cat", "/etc/shadow"));
    if (p.status != 125 || !strstr(p.err, "layers is not a regular file"))
        fail_check("a kept layer's planted layers file was read as an "
                   "image's (%d):\n%s%s",
                   p.status, p.out, p.err);
    run(&p, BOX(NULL, "--rm-layer", "planted"));
    snprintf(link, sizeof(link), "%s/link-image", getenv("TMPDIR"));
    snprintf(stacked, sizeof(stacked), "%s/layers", link);
    if (mkdir(link, 0755) == -1 || symlink("/etc/hostname", stacked) == -1)
        fail_check("a layers link in %s: %s", link, strerror(errno));
    expect_exit_125(BOX(link, "/bin/true"), "layers is not a regular file");
    run_tool(ARGV("/bin/rm", "-rf", link));
    remove_image(image);
}

/*
 * A kept layer is idmapped onto the next container by its whole maps, uid
 * and gid each, every range: kept by a container that maps root alone,
 * then 1-65535 from another host range, and its gids from a third, a
 * file of uid 1000 and gid 5000 is still 1000:5000 on a container whose
 * maps split elsewhere (uids at 500, gids at 1000: each old range meets
 * two new ones, clipped at both ends), not nobody's; its root's file is
 * root's (as in keep_commits).
 */
static void
keep_remaps_every_range(const char *step)
{
    char stacked[PATH_MAX * 2 + 2];
    struct proc p, q;

    run(&p, BOX(NULL, "--keep", "--name", "ranges", "--uidmap", "0:2000000:1",
                "--uidmap", "1:2100000:65535", "--gidmap", "0:2200000:65536",
                "/bin/sh", "-c",
                "echo x > /f && chown 1000:5000 /f && echo x > /r"));
    if (p.status != 0)
        fail_check("the keeping container failed: %d %s", p.status, p.err);
    snprintf(stacked, sizeof(stacked), "%s:%s/rootfs", kept_path(&p),
             build_dir());
    run(&q, BOX(stacked, "--uidmap", "0:3000000:500", "--uidmap",
                "500:3100000:65036", "--gidmap", "0:3200000:1000", "--gidmap",
                "1000:3300000:64536", "/bin/stat", "-c", "%u:%g", "/f", "/r"));
    run_tool(BOX(NULL, "--rm-layer", "ranges"));
    if (q.status != 0 || strcmp(q.out, "1000:5000\n0:0\n"))
        fail_check("the kept layer's files, on the next container (%d):\n"
                   "%s%s",
                   q.status, q.out, q.err);
}

/*
 * DIR/upper, with DIR/keep beside it, as --keep leaves a layer, and a
 * file of host uid:gid 5000:5000 in it; the keep record claims that it
 * was written under 5000 on, as whoever may write DIR could claim. Made
 * by root (the test), the record too, but for the owner given.
 */
static void
plant_kept_layer(const char *dir, uid_t owner)
{
    char upper[PATH_MAX + 8], path[PATH_MAX + 16];

    snprintf(upper, sizeof(upper), "%s/upper", dir);
    snprintf(path, sizeof(path), "%s/owned", upper);
    if (mkdir(dir, 0700) == -1 || mkdir(upper, 0755) == -1)
        fail_check("mkdir %s: %s", upper, strerror(errno));
    write_file(upper, "owned", "x\n");
    if (chown(path, 5000, 5000) == -1)
        fail_check("chown %s: %s", path, strerror(errno));
    write_file(dir, "keep", "uidmap=0:5000:1\ngidmap=0:5000:1\n");
    snprintf(path, sizeof(path), "%s/keep", dir);
    if (chown(path, owner, owner) == -1)
        fail_check("chown %s: %s", path, strerror(errno));
}

/* What stat -c %u:%g says inside of /owned, on dir/upper over the build's
 * image, and of /new, which a container kept in the layer kept. */
static const char *
owner_inside(const char *step, const char *dir, const char *file)
{
    static char out[3][64];
    static int which;
    char stacked[PATH_MAX * 2 + 16];
    char *text = out[which++ % 3];
    struct proc p;

    snprintf(stacked, sizeof(stacked), "%s/upper:%s/rootfs", dir, build_dir());
    run(&p, BOX(stacked, "/bin/stat", "-c", "%u:%g", (char *)file));
    snprintf(text, 64, "%s", p.status == 0 ? p.out : p.err);
    text[strcspn(text, "\n")] = '\0';
    return text;
}

/* LAYER_DIR/name/keep. */
static const char *
keep_path(const char *dir, const char *name)
{
    static char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/%s/keep", dir, name);
    return path;
}

/*
 * The layers planted in LAYER_DIR with a record that is not one --keep
 * left: owned by uid 5000; root's but writable by all (0666); a symbolic
 * link, or a hard link, to a record of root's beside them (LAYER_DIR/
 * .record, which a user could not write but could link to); root's, in a
 * layer directory uid 5000 owns (as a container's root owned it, and
 * could swap its record).
 */
static const char *const planted_layers[] = {"planted", "open", "linked",
                                             "hard", "dir-owned"};
#define PLANTED (sizeof(planted_layers) / sizeof(planted_layers[0]))

static void
plant_bad_records(const char *dir)
{
    char path[PATH_MAX], record[PATH_MAX];

    write_file(dir, ".record", "uidmap=0:5000:1\ngidmap=0:5000:1\n");
    snprintf(record, sizeof(record), "%s/.record", dir);
    for (size_t i = 0; i < PLANTED; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, planted_layers[i]);
        plant_kept_layer(path, i == 0 ? 5000 : 0);
    }
    if (chmod(keep_path(dir, "open"), 0666) == -1 ||
        unlink(keep_path(dir, "linked")) == -1 ||
        symlink(record, keep_path(dir, "linked")) == -1 ||
        unlink(keep_path(dir, "hard")) == -1 ||
        link(record, keep_path(dir, "hard")) == -1)
        fail_check("planting the records in %s: %s", dir, strerror(errno));
    snprintf(path, sizeof(path), "%s/dir-owned", dir);
    if (chown(path, 5000, 5000) == -1)
        fail_check("chown %s: %s", path, strerror(errno));
}

/*
 * A keep record counts only where --keep writes it, LAYER_DIR/NAME/keep,
 * and only when it and NAME are the caller's, a regular file of one name
 * that no one else may write: one planted beside an image directory
 * elsewhere, or in LAYER_DIR in any of the ways plant_bad_records() says,
 * does not choose the range the layer is idmapped from (the file of host
 * uid 5000 shows as 5000 inside, as in any image, not as root), and
 * --layers prints none of them (it would print what a link points to).
 * A layer --keep kept shows its files as root's, and --layers its record
 * (the controls); its directory is the caller's, not the container's.
 */
static void
keep_record_only_in_layer_dir(const char *step)
{
    const char *dir = getenv("BOXSTEP_LAYER_DIR");
    char elsewhere[PATH_MAX], kept[PATH_MAX], path[PATH_MAX], layers[4096];
    char outside[64], genuine[64];
    const char *owner;
    struct stat st;
    struct proc p;

    snprintf(elsewhere, sizeof(elsewhere), "%s/fake", getenv("TMPDIR"));
    snprintf(kept, sizeof(kept), "%s/genuine", dir);
    run(&p, BOX(NULL, "--keep", "--name", "genuine", "/bin/sh", "-c",
                "echo x > /new")); /* and LAYER_DIR is made */
    plant_kept_layer(elsewhere, 0);
    plant_bad_records(dir);
    snprintf(outside, sizeof(outside), "%s",
             owner_inside(step, elsewhere, "/owned"));
    snprintf(genuine, sizeof(genuine), "%s", owner_inside(step, kept, "/new"));
    snprintf(layers, sizeof(layers), "%s", answer(BOX(NULL, "--layers")));
    for (size_t i = 0; i < PLANTED; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, planted_layers[i]);
        owner = owner_inside(step, path, "/owned");
        if (strcmp(owner, "5000:5000"))
            fail_check("a keep record in LAYER_DIR/%s chose the range: "
                       "/owned is %s",
                       planted_layers[i], owner);
    }
    if (lstat(kept, &st) == -1)
        fail_check("lstat %s: %s", kept, strerror(errno));
    snprintf(path, sizeof(path), "%s/.record", dir);
    run_tool(ARGV("/bin/rm", "-rf", elsewhere, path));
    for (size_t i = 0; i < PLANTED; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, planted_layers[i]);
        run_tool(ARGV("/bin/rm", "-rf", path));
    }
    run_tool(BOX(NULL, "--rm-layer", "genuine"));
    if (strcmp(outside, "5000:5000"))
        fail_check("a keep record beside an image chose the range: /owned "
                   "is %s",
                   outside);
    if (strstr(layers, "0:5000:1") || !strstr(layers, "genuine\t") ||
        !strstr(layers, "uidmap=0:"))
        fail_check("--layers printed a planted record, or not the genuine "
                   "one:\n%s",
                   layers);
    if (strcmp(genuine, "0:0"))
        fail_check("a layer --keep kept: /new is %s", genuine);
    if (st.st_uid != 0 || (st.st_mode & 022))
        fail_check("a kept layer's directory is uid %u's, mode %o: its "
                   "container's root could swap its record",
                   (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
}

/*
 * A keep record changed by hand is checked as --uidmap is, or the runtime
 * would write what it says into a map: a field empty or negative, an id
 * past 4294967294 (or past 64 bits), a range that runs past it or maps no
 * id, two ranges that meet inside or outside, no root inside, a comma at
 * the end, more than 32 ranges. Each exits 125, saying the record holds
 * no valid map; the record --keep wrote runs (the control).
 */
static void
keep_record_checked(const char *step)
{
    static const char *const bad[] = {"0::65536",
                                      "0:-1:5",
                                      "0:2000000:65536,",
                                      "0:4294967295:1",
                                      "0:18446744073709551615:1",
                                      "0:4294967000:1000",
                                      "0:2000000:0",
                                      "0:2000000:10,5:2100000:10",
                                      "0:2000000:10,10:2000005:10",
                                      "1:2000000:10",
                                      NULL /* 33 ranges */};
    char dir[PATH_MAX], stacked[PATH_MAX * 2], genuine[512];
    char text[40 * 34 + 16], record[sizeof(text) * 2];
    struct proc p, q;

    run(&p, BOX(NULL, "--keep", "--name", "edited", "/bin/true"));
    snprintf(dir, sizeof(dir), "%s/edited", getenv("BOXSTEP_LAYER_DIR"));
    snprintf(stacked, sizeof(stacked), "%s/upper:%s/rootfs", dir, build_dir());
    stat_in(dir, "keep", genuine, sizeof(genuine));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "uidmap=%s",
                 bad[i] ? bad[i] : "0:2000000:1");
        for (int r = 1; !bad[i] && r < 33; r++)
            snprintf(text + strlen(text), sizeof(text) - strlen(text),
                     ",%d:%d:1", r, 2000000 + r);
        snprintf(record, sizeof(record), "%s\ngidmap=%s\n", text, text + 7);
        write_file(dir, "keep", record);
        run(&q, BOX(stacked, "/bin/true"));
        if (q.status != 125 || !strstr(q.err, "no valid uidmap="))
            fail_check("a keep record of %s: %d %s", text, q.status, q.err);
    }
    write_file(dir, "keep", genuine);
    run(&q, BOX(stacked, "/bin/true"));
    run_tool(BOX(NULL, "--rm-layer", "edited"));
    if (p.status != 0 || q.status != 0)
        fail_check("the record --keep wrote: %d %s; %d %s", p.status, p.err,
                   q.status, q.err);
}

/*
 * BOXSTEP_LAYER_DIR may name any directory. The sweep (--gc, every run)
 * removes what no container claims only in one marked as boxstep's: a
 * directory with files of its own and no mark is refused, and --gc
 * leaves its files alone.
 */
static void
foreign_layer_dir_untouched(const char *step)
{
    const char *tmp = getenv("TMPDIR");
    char dir[PATH_MAX], precious[PATH_MAX + 16];
    struct proc gc, p;

    snprintf(dir, sizeof(dir), "%s/srv", tmp);
    snprintf(precious, sizeof(precious), "%s/precious", dir);
    if (mkdir(dir, 0755) == -1 || mkdir(precious, 0700) == -1)
        fail_check("mkdir %s: %s", precious, strerror(errno));
    run_with_layer_dir(&gc, dir, BOX(NULL, "--gc"));
    run_with_layer_dir(&p, dir, BOX(NULL, "/bin/true"));
    if (access(precious, F_OK) == -1)
        fail_check("--gc with BOXSTEP_LAYER_DIR=%s removed %s (%d %s)", dir,
                   precious, gc.status, gc.err);
    run_tool(ARGV("/bin/rm", "-rf", dir));
    if (p.status != 125 || !strstr(p.err, "not a layer directory"))
        fail_check("a layer directory with files of its own: %d %s", p.status,
                   p.err);
}

/*
 * --keep keeps the layer of a container that started, and only that: a
 * start refused before COMMAND (--user the image does not list, a
 * --workdir it lacks, the fork of COMMAND under --pids 1: 125) leaves no
 * layer, and says so; a COMMAND not found (127) did start, and so did one
 * that exits 125 itself: their layers are kept (the controls).
 */
static void
keep_needs_a_start(const char *step)
{
    struct proc p, q, r, f, own;
    bool user_kept, workdir_kept, fork_kept, started_kept, own_kept;

    run(&f,
        BOX(NULL, "--keep", "--name", "no-fork", "--pids", "1", "/bin/true"));
    fork_kept = layer_there("no-fork");
    if (fork_kept)
        run(&r, BOX(NULL, "--rm-layer", "no-fork"));
    if (f.status != 125 || fork_kept || !strstr(f.err, "not kept"))
        fail_check("--pids 1, no fork of COMMAND (%d): %s: %s", f.status,
                   fork_kept ? "kept" : "not kept", f.err);
    run(&own,
        BOX(NULL, "--keep", "--name", "own125", "/bin/sh", "-c", "exit 125"));
    own_kept = strstr(answer(BOX(NULL, "--layers")), "own125\t");
    if (own_kept)
        run_tool(BOX(NULL, "--rm-layer", "own125"));
    if (own.status != 125 || !own_kept)
        fail_check("COMMAND that exits 125 itself (%d) did not keep its "
                   "layer: %s",
                   own.status, own.err);

    run(&p, BOX(NULL, "--keep", "--name", "no-user", "--user", "nosuch",
                "/bin/true"));
    user_kept = layer_there("no-user");
    run(&q, BOX(NULL, "--keep", "--name", "no-dir", "--workdir", "/no/such/dir",
                "/bin/true"));
    workdir_kept = layer_there("no-dir");
    run(&r, BOX(NULL, "--keep", "--name", "started", "/no/such/command"));
    started_kept = strstr(answer(BOX(NULL, "--layers")), "started\t");
    run_tool(BOX(NULL, "--rm-layer", "started"));
    if (user_kept || workdir_kept) {
        run(&r, BOX(NULL, "--rm-layer", "no-user"));
        run(&r, BOX(NULL, "--rm-layer", "no-dir"));
        fail_check("a container that never started kept its layer: "
                   "--user nosuch %s (%d), --workdir %s (%d)",
                   user_kept ? "kept" : "not kept", p.status,
                   workdir_kept ? "kept" : "not kept", q.status);
    }
    if (p.status != 125 || q.status != 125 || !strstr(p.err, "not kept"))
        fail_check("a start that failed: %d, %d: %s", p.status, q.status,
                   p.err);
    if (r.status != 127 || !started_kept)
        fail_check("COMMAND not found (%d) did not keep its layer: %s",
                   r.status, r.err);
}

/*
 * --layers, --rm-layer and --gc read no image: a copy of the binary with
 * no rootfs beside it (its default image) lists a kept layer, removes it,
 * and collects garbage; the same copy cannot run a container, for want of
 * that image (the control: the image is missing indeed).
 */
static void
layer_control_without_image(const char *step)
{
    char dir[PATH_MAX], bin[PATH_MAX + 16];
    struct proc list, rm, gc, ran;

    snprintf(dir, sizeof(dir), "%s/no-image", getenv("TMPDIR"));
    snprintf(bin, sizeof(bin), "%s/boxstep", dir);
    if (mkdir(dir, 0755) == -1)
        fail_check("mkdir %s: %s", dir, strerror(errno));
    run_tool(ARGV("/bin/cp", STEP, bin));
    run_tool(BOX(NULL, "--keep", "--name", "listed", "/bin/true"));
    run(&list, ARGV(bin, "--layers"));
    run(&rm, ARGV(bin, "--rm-layer", "listed"));
    run(&gc, ARGV(bin, "--gc"));
    run(&ran, ARGV(bin, "--net", "none", "/bin/true"));
    if (layer_there("listed"))
        run_tool(BOX(NULL, "--rm-layer", "listed"));
    run_tool(ARGV("/bin/rm", "-rf", dir));
    if (ran.status != 125 || !strstr(ran.err, "make rootfs"))
        fail_check("the copy found an image: %d %s", ran.status, ran.err);
    if (list.status != 0 || !strstr(list.out, "listed\t"))
        fail_check("--layers without an image: %d %s", list.status, list.err);
    if (rm.status != 0 || gc.status != 0)
        fail_check("--rm-layer, --gc without an image: %d %s; %d %s", rm.status,
                   rm.err, gc.status, gc.err);
}

/* How many pipes process pid holds, in /proc/PID/fd. */
static int
count_pipes(pid_t pid)
{
    char dir[64], path[PATH_MAX], link[64];
    struct dirent *e;
    DIR *d;
    int n = 0;

    snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
    if (!(d = opendir(dir)))
        fail_check("opendir %s: %s", dir, strerror(errno));
    while ((e = readdir(d))) {
        ssize_t len;

        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        len = readlink(path, link, sizeof(link) - 1);
        n += len > 0 && strncmp(link, "pipe:", 5) == 0;
    }
    closedir(d);
    return n;
}

/* The pipes a waiting container's runtime holds, and its init, the
 * runtime's one child. */
static void
count_container_pipes(const char *step, char *const argv[], int *runtime,
                      int *init)
{
    char path[64], text[64] = "";
    struct proc p;
    FILE *f;

    spawn_waiting(&p, argv);
    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)p.pid,
             (int)p.pid);
    if ((f = fopen(path, "re"))) {
        if (!fgets(text, sizeof(text), f))
            text[0] = '\0';
        fclose(f);
    }
    *runtime = count_pipes(p.pid);
    *init = atoi(text) > 0 ? count_pipes(atoi(text)) : -1;
    close(p.in_fd);
    finish(&p, 10000);
    (void)step;
}

/*
 * --keep's pipe, on which init says COMMAND was forked, is held by no one
 * longer than it must: the runtime keeps its read end only, and init,
 * once it wrote, neither (it lives as long as the container). So the
 * runtime of a --keep container holds one pipe more than the same
 * container's without it, and its init as many as without.
 */
static void
keep_pipe_closed(const char *step)
{
    int runtime, init, kept_runtime, kept_init;

    signal(SIGPIPE, SIG_IGN);
    count_container_pipes(step, BOX(NULL, "/bin/sh", "-c", "echo up; read x"),
                          &runtime, &init);
    count_container_pipes(step,
                          BOX(NULL, "--keep", "--name", "pipes", "/bin/sh",
                              "-c", "echo up; read x"),
                          &kept_runtime, &kept_init);
    run_tool(BOX(NULL, "--rm-layer", "pipes"));
    if (init == -1 || kept_init != init || kept_runtime != runtime + 1)
        fail_check("pipes held: without --keep, the runtime %d and init %d; "
                   "with --keep, %d and %d",
                   runtime, init, kept_runtime, kept_init);
}

/* --verbose says how the root was made: an overlay, idmapped layers. */
static void
verbose_overlay(const char *step)
{
    struct proc p;

    run(&p, BOX(NULL, "--verbose", "/bin/true"));
    if (p.status != 0 || !strstr(p.err, "fsopen(\"overlay\")") ||
        !strstr(p.err, "\"userxattr\"") || !strstr(p.err, "layer: ") ||
        (!no_idmap && !strstr(p.err, "MOUNT_ATTR_IDMAP")))
        fail_check("--verbose does not say how the overlay is made:\n%s",
                   p.err);
}

NO_IDMAP_BEHAVIOUR(verbose_overlay)

int
main(void)
{
    static const struct property props[] = {
        {"image_unchanged", "08", image_unchanged, NULL},
        {"writes_private", "08", writes_private, NULL},
        {"image_unchanged_no_idmap", "08", image_unchanged_no_idmap, NULL},
        {"writes_private_no_idmap", "08", writes_private_no_idmap, NULL},
    };
    static const struct behaviour behaviours[] = {
        {"image_copy", "05", "changed", image_copy_changed, "05"},
        {"upper", "08", "holds_the_changes", upper_holds_changes, NULL},
        {"upper_no_idmap", "08", "holds_the_changes",
         upper_holds_changes_no_idmap, NULL},
        {"keep", "08", "commits_a_layer", keep_commits, NULL},
        {"keep_no_idmap", "08", "commits_a_layer", keep_commits_no_idmap, NULL},
        {"rm_layer", "08", "refuses_a_layer_in_use", rm_layer_in_use_refused,
         NULL},
        {"store_image", "08", "runs_a_store_image", store_image_runs, NULL},
        {"store_image_user", "08", "workdir_and_user_apply", store_image_user,
         NULL},
        {"image_prune", "08", "keeps_a_running_containers_layers",
         prune_keeps_running_layers, NULL},
        {"start", "08", "does_not_copy_the_image", start_does_not_copy, NULL},
        {"debian", "08", "runs_debian_12", debian_runs, NULL},
        {"debian_config", "08", "applies_cmd_env_workdir", debian_config, NULL},
        {"debian_layers", "08", "unchanged_writes_in_upper",
         debian_writes_upper, NULL},
        {"debian_start", "08", "within_1_5x_of_busybox", debian_start, NULL},
        {"killed_runtime", "08", "leaves_no_layer",
         killed_runtime_leaves_nothing, NULL},
        {"layer_errors", "08", "exit_125", layer_errors, NULL},
        {"kept_layer", "08", "never_read_as_an_image", kept_layer_not_an_image,
         NULL},
        {"foreign_layer_dir", "08", "left_alone", foreign_layer_dir_untouched,
         NULL},
        {"keep_start", "08", "keeps_only_a_started_layer", keep_needs_a_start,
         NULL},
        {"layer_control", "08", "needs_no_image", layer_control_without_image,
         NULL},
        {"keep_record", "08", "counts_only_in_the_layer_dir",
         keep_record_only_in_layer_dir, NULL},
        {"keep_ranges", "08", "remaps_every_range", keep_remaps_every_range,
         NULL},
        {"keep_record_checked", "08", "as_uidmap_is", keep_record_checked,
         NULL},
        {"keep_pipe", "08", "closed_where_unused", keep_pipe_closed, NULL},
        {"verbose", "08", "says_how", verbose_overlay, NULL},
        {"verbose_no_idmap", "08", "says_how", verbose_overlay_no_idmap, NULL},
    };

    return run_suite("08-overlay", props, sizeof(props) / sizeof(props[0]),
                     behaviours, sizeof(behaviours) / sizeof(behaviours[0]));
}
