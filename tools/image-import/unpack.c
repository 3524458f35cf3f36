/*
 * unpack.c: one layer's tar unpacked beneath a directory, and nowhere
 * else; its two digests computed on the way.
 *
 * An image is untrusted input: whoever made it chose every name, link
 * and mode in its archives. A path like "../../etc/cron.d/x", "/root/x",
 * a symlink "lib -> /etc" followed by a file "lib/passwd", or a hard link
 * to "/etc/shadow" would write outside the layer if paths were simply
 * joined and opened. So no path of the archive is ever resolved as a
 * string: each entry's parent is reached one component at a time, each
 * opened with openat2(2) RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS from the
 * one before, starting at the layer's own directory; the last component
 * is made with the *at() calls and O_NOFOLLOW / AT_SYMLINK_NOFOLLOW. A
 * symlink is stored as data and never followed here (inside the
 * container it resolves in the container's root, which is its
 * business). ".." anywhere and absolute paths are refused outright.
 * Device nodes are refused: a layer could hand the container the host's
 * disk. Setuid bits and file capabilities are kept, as data: the store
 * is 0700, and the container sees them through its own user namespace.
 *
 * Whiteouts: a tar cannot hold overlayfs's whiteouts (a character
 * device 0/0) portably, so OCI layers say "deleted" with names: ".wh.X"
 * deletes X of the layers below, ".wh..wh..opq" in a directory hides
 * everything below it there. Unpacking turns them into overlayfs's own
 * markers: mknod X 0/0, and the opaque xattrs on the directory.
 *
 * The archive is read, and its digests computed, by reader.c.
 *
 * Man pages: openat2(2), mknodat(2), linkat(2), symlinkat(2),
 * fsetxattr(2), xattr(7), libarchive(3), archive_read(3).
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "boxstep.h"
#include "image.h"

#define WHITEOUT ".wh."
#define OPAQUE ".wh..wh..opq"

/* ---- paths: refused, or split into components ---- */

/*
 * The entry's path made relative and clean: "./a//b/" is "a/b", the
 * layer's root is "". Absolute paths and ".." are refused: an archive
 * has no business naming anything above its own root.
 */
static void
clean_path(const char *in, char *out, size_t len, const char *blob)
{
    char copy[PATH_MAX], *save, *c;

    if (!in || strlen(in) >= sizeof(copy)) {
        errno = ENAMETOOLONG;
        fail("%s: an entry's path", blob);
    }
    if (in[0] == '/') {
        errno = EPERM;
        fail("%s: entry \"%s\": an absolute path is refused", blob, in);
    }
    strcpy(copy, in);
    out[0] = '\0';
    for (c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (strcmp(c, "..") == 0) {
            errno = EPERM;
            fail("%s: entry \"%s\": \"..\" is refused", blob, in);
        }
        if (strcmp(c, ".") == 0)
            continue;
        if (strlen(out) + strlen(c) + 2 > len) {
            errno = ENAMETOOLONG;
            fail("%s: entry \"%s\"", blob, in);
        }
        if (out[0])
            strcat(out, "/");
        strcat(out, c);
    }
}

/*
 * openat2(2) one component below dir: RESOLVE_BENEATH keeps it under
 * dir, RESOLVE_NO_SYMLINKS refuses a symlink (ELOOP) instead of
 * following it. glibc 2.36 has no wrapper.
 */
static int
open_beneath(int dir, const char *name, int flags)
{
    struct open_how how = {
        .flags = flags | O_CLOEXEC | O_NOFOLLOW,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
                   RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
    };

    return syscall(SYS_openat2, dir, name, &how, sizeof(how));
}

/*
 * The directory that holds path's last component, opened component by
 * component from root; missing ones are made (0755) when create. Its
 * last component goes to *base. A component that is a symlink or a file
 * fails: it is never followed.
 */
static int
open_parent(int root, char *path, const char **base, bool create,
            const char *blob)
{
    char *slash = strrchr(path, '/'), *c, *save;
    int dir = dup(root), next;

    *base = slash ? slash + 1 : path;
    if (!slash)
        return dir;
    *slash = '\0';
    for (c = strtok_r(path, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        next = open_beneath(dir, c, O_PATH | O_DIRECTORY);
        if (next == -1 && errno == ENOENT && create &&
            mkdirat(dir, c, 0755) == 0)
            next = open_beneath(dir, c, O_PATH | O_DIRECTORY);
        if (next == -1)
            fail("%s: openat2(\"%s\", RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS):"
                 " a parent that is not a directory is refused (a symlink"
                 " is never followed)",
                 blob, c);
        close(dir);
        dir = next;
    }
    *slash = '/';
    return dir;
}

/* ---- one entry ---- */

/*
 * The extended attributes an entry may carry: user.* and a file
 * capability (security.capability), as data. overlayfs's own markers are
 * refused: they would redirect lookups or hide files in ways the
 * whiteout names do not say. Others (SELinux labels, ACLs) are dropped.
 */
static void
set_xattrs(int fd, struct archive_entry *e, const char *path, const char *blob)
{
    const char *name;
    const void *value;
    size_t size;

    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
        if (strstr(name, "overlay.")) {
            errno = EPERM;
            fail("%s: entry \"%s\": xattr %s is overlayfs's own: refused", blob,
                 path, name);
        }
        if (strncmp(name, "user.", 5) != 0 &&
            strcmp(name, "security.capability") != 0)
            continue;
        if (fsetxattr(fd, name, value, size, 0) == -1)
            fail("%s: fsetxattr(\"%s\", \"%s\")", blob, path, name);
    }
}

/* Owner (root only: it needs CAP_CHOWN), mode after it (chown clears
 * setuid), times: as the archive says. */
static void
set_meta(int fd, struct archive_entry *e, const char *path, const char *blob)
{
    struct timespec t[2] = {
        {archive_entry_mtime(e), archive_entry_mtime_nsec(e)},
        {archive_entry_mtime(e), archive_entry_mtime_nsec(e)},
    };

    if (geteuid() == 0 &&
        fchown(fd, archive_entry_uid(e), archive_entry_gid(e)) == -1)
        fail("%s: fchown(\"%s\")", blob, path);
    if (fchmod(fd, archive_entry_perm(e)) == -1)
        fail("%s: fchmod(\"%s\")", blob, path);
    set_xattrs(fd, e, path, blob);
    if (futimens(fd, t) == -1)
        fail("%s: futimens(\"%s\")", blob, path);
}

/* A later entry replaces an earlier one of the same name (tar's rule);
 * a directory stays a directory. */
static void
make_room(int dir, const char *name, bool for_dir, const char *path,
          const char *blob)
{
    struct stat st;

    if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
        return;
    if (S_ISDIR(st.st_mode) && for_dir)
        return;
    if (unlinkat(dir, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) == -1)
        fail("%s: unlinkat(\"%s\") to replace it", blob, path);
}

static void
write_file(struct reader *r, int dir, const char *name, struct archive_entry *e,
           const char *path)
{
    const void *buf;
    size_t size;
    la_int64_t offset;
    int fd, ret;

    fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                0600);
    if (fd == -1)
        fail("%s: openat(\"%s\", O_CREAT|O_EXCL|O_NOFOLLOW)", r->name, path);
    while ((ret = archive_read_data_block(r->tar, &buf, &size, &offset)) ==
           ARCHIVE_OK)
        if (pwrite(fd, buf, size, offset) != (ssize_t)size)
            fail("%s: pwrite(\"%s\")", r->name, path);
    if (ret != ARCHIVE_EOF)
        fail_archive(r->tar, "archive_read_data_block", r->name);
    if (ftruncate(fd, archive_entry_size(e)) == -1)
        fail("%s: ftruncate(\"%s\")", r->name, path);
    set_meta(fd, e, path, r->name);
    close(fd);
}

static void
make_dir(int dir, const char *name, struct archive_entry *e, const char *path,
         const char *blob)
{
    int fd;

    if (mkdirat(dir, name, 0700) == -1 && errno != EEXIST)
        fail("%s: mkdirat(\"%s\")", blob, path);
    if ((fd = open_beneath(dir, name, O_RDONLY | O_DIRECTORY)) == -1)
        fail("%s: openat2(\"%s\")", blob, path);
    set_meta(fd, e, path, blob);
    close(fd);
}

/* A symlink: stored, never followed. Its owner and times, not its mode. */
static void
make_symlink(int dir, const char *name, struct archive_entry *e,
             const char *path, const char *blob)
{
    const char *target = archive_entry_symlink(e);
    struct timespec t[2] = {{archive_entry_mtime(e), 0},
                            {archive_entry_mtime(e), 0}};

    if (!target || symlinkat(target, dir, name) == -1)
        fail("%s: symlinkat(\"%s\")", blob, path);
    if (geteuid() == 0 &&
        fchownat(dir, name, archive_entry_uid(e), archive_entry_gid(e),
                 AT_SYMLINK_NOFOLLOW) == -1)
        fail("%s: fchownat(\"%s\")", blob, path);
    utimensat(dir, name, t, AT_SYMLINK_NOFOLLOW);
}

/* A hard link to an earlier entry: its target is a path of the archive
 * too, reached the same way, and linked without following it. */
static void
make_hardlink(int root, int dir, const char *name, const char *target,
              const char *path, const char *blob)
{
    char clean[PATH_MAX];
    const char *tbase;
    int tdir;

    clean_path(target, clean, sizeof(clean), blob);
    if (!clean[0]) {
        errno = EPERM;
        fail("%s: hard link \"%s\" to the layer's root", blob, path);
    }
    tdir = open_parent(root, clean, &tbase, false, blob);
    if (linkat(tdir, tbase, dir, name, 0) == -1)
        fail("%s: linkat(\"%s\", \"%s\")", blob, target, path);
    close(tdir);
}

/* ".wh.NAME": NAME of the layers below is deleted: overlayfs's whiteout. */
static void
make_whiteout(int dir, const char *name, const char *path, const char *blob)
{
    const char *hidden = name + strlen(WHITEOUT);

    if (!hidden[0] || strcmp(hidden, ".") == 0 || strcmp(hidden, "..") == 0 ||
        strncmp(hidden, WHITEOUT, strlen(WHITEOUT)) == 0) {
        errno = EPERM;
        fail("%s: whiteout \"%s\": not a name", blob, path);
    }
    make_room(dir, hidden, false, path, blob);
    if (mknodat(dir, hidden, S_IFCHR | 0000, makedev(0, 0)) == -1)
        fail("%s: mknodat(\"%s\", S_IFCHR, 0/0) for \"%s\"", blob, hidden,
             path);
}

/*
 * ".wh..wh..opq": the directory hides what the layers below have in it.
 * Both markers: trusted.* for an overlay host root mounts, user.* for
 * one mounted with userxattr (step 08, in a user namespace); each mount
 * reads only its own. trusted.* needs CAP_SYS_ADMIN: a user's import
 * has only the user.* one, which is what a rootless step 08 reads.
 */
static void
make_opaque(int dir, const char *path, const char *blob)
{
    if (geteuid() == 0 &&
        fsetxattr(dir, "trusted.overlay.opaque", "y", 1, 0) == -1)
        fail("%s: fsetxattr(trusted.overlay.opaque) for \"%s\"", blob, path);
    if (fsetxattr(dir, "user.overlay.opaque", "y", 1, 0) == -1)
        fail("%s: fsetxattr(user.overlay.opaque) for \"%s\"", blob, path);
}

/* The opaque marker goes on the directory itself, opened for xattrs. */
static void
mark_opaque(int parent, const char *path, const char *blob)
{
    int fd = open_beneath(parent, ".", O_RDONLY | O_DIRECTORY);

    if (fd == -1)
        fail("%s: openat2(\"%s\")", blob, path);
    make_opaque(fd, path, blob);
    close(fd);
}

/* One entry of the archive, beneath root. */
static void
unpack_entry(struct reader *r, int root, struct archive_entry *e,
             bool whiteouts)
{
    char path[PATH_MAX], where[PATH_MAX];
    const char *name, *link = archive_entry_hardlink(e);
    mode_t type = archive_entry_filetype(e);
    int dir;

    clean_path(archive_entry_pathname(e), path, sizeof(path), r->name);
    if (!path[0]) { /* "./": the layer's root itself */
        if (type == AE_IFDIR)
            set_meta(root, e, ".", r->name);
        return;
    }
    snprintf(where, sizeof(where), "%s", path);
    dir = open_parent(root, path, &name, true, r->name);
    if (whiteouts && strcmp(name, OPAQUE) == 0)
        mark_opaque(dir, where, r->name);
    else if (whiteouts && strncmp(name, WHITEOUT, strlen(WHITEOUT)) == 0)
        make_whiteout(dir, name, where, r->name);
    else if (link) {
        make_room(dir, name, false, where, r->name);
        make_hardlink(root, dir, name, link, where, r->name);
    } else if (type == AE_IFDIR) {
        make_room(dir, name, true, where, r->name);
        make_dir(dir, name, e, where, r->name);
    } else if (type == AE_IFREG) {
        make_room(dir, name, false, where, r->name);
        write_file(r, dir, name, e, where);
    } else if (type == AE_IFLNK) {
        make_room(dir, name, false, where, r->name);
        make_symlink(dir, name, e, where, r->name);
    } else if (type == AE_IFIFO) {
        make_room(dir, name, false, where, r->name);
        if (mknodat(dir, name, S_IFIFO | archive_entry_perm(e), 0) == -1)
            fail("%s: mknodat(\"%s\", S_IFIFO)", r->name, where);
    } else {
        errno = EPERM;
        fail("%s: entry \"%s\": %s refused", r->name, where,
             type == AE_IFCHR || type == AE_IFBLK ? "a device node"
                                                  : "a socket or unknown type");
    }
    close(dir);
}

/*
 * Unpacks the archive open at fd (named archive in messages) into dir,
 * which exists and is empty, with whiteouts turned into overlayfs's when
 * asked; out gets the digests.
 */
void
unpack(int fd, const char *archive, const char *dir, bool whiteouts,
       struct unpacked *out)
{
    struct reader *r = calloc(1, sizeof(*r));
    struct archive_entry *e;
    int root, ret;

    if (!r)
        fail("calloc");
    if ((root = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) ==
        -1)
        fail("open(\"%s\")", dir);
    open_reader(r, fd, archive);
    /* ARCHIVE_WARN: an entry read, with a remark (an unknown pax key). */
    while ((ret = archive_read_next_header(r->tar, &e)) == ARCHIVE_OK ||
           ret == ARCHIVE_WARN)
        unpack_entry(r, root, e, whiteouts);
    if (ret != ARCHIVE_EOF)
        fail_archive(r->tar, "archive_read_next_header", archive);
    close_reader(r, out);
    close(root);
    free(r);
}
