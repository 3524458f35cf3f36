/*
 * cgroup-files.c: a cgroup's files and directories, from step 07 on.
 *
 * The small tools cgroup.c (v2) and cgroup-v1.c share: a cgroup is a
 * directory of a cgroup filesystem, each knob a file that takes one
 * value per write(2). Each write is traced (--verbose) and each refusal
 * named; the directories are made and removed here; the hierarchies are
 * found in /proc/self/mountinfo.
 *
 * Man pages: cgroups(7), mkdir(2), rmdir(2), kill(2), proc(5).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "step.h"

/* ---- files: each write traced, each failure named ---- */

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
    char path[PATH_MAX];
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

/*
 * Opens dir/file to write to later, open(2): the kernel checks who may
 * move a task into a cgroup with the credentials of whoever opened its
 * file, not of whoever writes to it (cgroups(7)).
 */
int
cgroup_open(const char *dir, const char *file)
{
    char path[PATH_MAX * 2];

    if (file_path(path, sizeof(path), dir, file) == -1)
        die("open(\"%s/%s\")", dir, file);
    return must(open(path, O_WRONLY | O_CLOEXEC), "open(\"%s\", O_WRONLY)",
                path);
}

/* Whether dir/file exists: which files a cgroup has tells what it can do. */
bool
cgroup_has_file(const char *dir, const char *file)
{
    char path[PATH_MAX];

    return file_path(path, sizeof(path), dir, file) == 0 &&
           access(path, F_OK) == 0;
}

/*
 * Reads dir/file, a few short lines, into buf with one read(2): a cgroup
 * file shows what it holds in one go, and needs no stdio buffer.
 */
static int
read_file(const char *dir, const char *file, char *buf, size_t len)
{
    char path[PATH_MAX];
    ssize_t n;
    int fd;

    buf[0] = '\0';
    if (file_path(path, sizeof(path), dir, file) == -1 ||
        (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
        return -1;
    n = read(fd, buf, len - 1);
    close(fd);
    if (n == -1)
        return -1;
    buf[n] = '\0';
    return 0;
}

/* Reads the first line of dir/file into buf, newline dropped. */
int
cgroup_read(const char *dir, const char *file, char *buf, size_t len)
{
    if (read_file(dir, file, buf, len) == -1)
        return -1;
    buf[strcspn(buf, "\n")] = '\0';
    return 0;
}

/* A number, as the whole word; or -1. */
static long long
number(const char *word)
{
    char *end;
    long long value = word ? strtoll(word, &end, 10) : -1;

    return word && end != word && !*end ? value : -1;
}

/*
 * A number: the file's first word, or the value of "key N" in it; or -1.
 * The files read so (memory.events, cpu.stat, pids.peak, ...) are a few
 * lines each.
 */
long long
cgroup_read_number(const char *dir, const char *file, const char *key)
{
    char buf[1024], *word, *save;

    if (read_file(dir, file, buf, sizeof(buf)) == -1)
        return -1;
    word = strtok_r(buf, " \n", &save);
    if (!key)
        return number(word);
    for (; word; word = strtok_r(NULL, " \n", &save)) {
        char *value = strtok_r(NULL, " \n", &save);

        if (strcmp(word, key) == 0)
            return number(value);
    }
    return -1;
}

/* ---- hierarchies, in /proc/self/mountinfo ---- */

/*
 * The cgroup filesystems mounted at a hierarchy's root, read once: their
 * fields point into text, which holds only what was read.
 */
static struct {
    const char *type; /* "cgroup" (v1) or "cgroup2" */
    const char *mnt; /* its mount point */
    const char *super; /* its super options: "rw,memory" */
} mounts[16];
static char text[4096];
static int mount_count = -1;

/* A copy of word in text; NULL when text is full. */
static const char *
keep(const char *word)
{
    static size_t used;
    size_t len = strlen(word) + 1;
    char *copy = text + used;

    if (len > sizeof(text) - used)
        return NULL;
    memcpy(copy, word, len);
    used += len;
    return copy;
}

/*
 * /proc/self/mountinfo (proc(5)), once per run: its cgroup lines whose
 * field 4, the root of the mount in its filesystem, is "/": only those
 * show the paths the runtime makes. A line is "ID PARENT MAJ:MIN ROOT
 * POINT OPTIONS [TAGS...] - TYPE SOURCE SUPER-OPTIONS".
 */
static void
read_cgroup_mounts(void)
{
    char line[2048], *word[5], *type, *super, *save;
    FILE *f = fopen("/proc/self/mountinfo", "re");

    mount_count = 0;
    while (f && mount_count < (int)ARRAY_SIZE(mounts) &&
           fgets(line, sizeof(line), f)) {
        char *sep = strstr(line, " - ");

        if (!sep)
            continue;
        *sep = '\0';
        word[0] = strtok_r(line, " ", &save);
        for (int i = 1; i < 5; i++)
            word[i] = strtok_r(NULL, " ", &save);
        type = strtok_r(sep + 3, " ", &save);
        super =
            strtok_r(NULL, " ", &save) ? strtok_r(NULL, " \n", &save) : NULL;
        if (!word[4] || !super || strcmp(word[3], "/") ||
            (strcmp(type, "cgroup") && strcmp(type, "cgroup2")))
            continue;
        mounts[mount_count].type = keep(type);
        mounts[mount_count].mnt = keep(word[4]);
        mounts[mount_count].super = keep(super);
        if (!mounts[mount_count].super)
            break; /* text is full */
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

/* ---- directories: made, emptied, removed ---- */

/* Where the container's cgroups go: BOXSTEP_CGROUP_PARENT, or boxstep. */
const char *
cgroup_parent(void)
{
    return getenv("BOXSTEP_CGROUP_PARENT") ?: CGROUP_DEFAULT_PARENT;
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
    char dir[PATH_MAX];
    size_t len;
    int tries = 0;

again:
    len = snprintf(dir, sizeof(dir), "%s", root);
    if (parent_ready)
        parent_ready(dir);
    for (const char *s = cgroup; *s; s += strcspn(s, "/"), s += *s == '/') {
        int n = strcspn(s, "/");
        bool last = s[n] == '\0';

        if (len < sizeof(dir))
            len += snprintf(dir + len, sizeof(dir) - len, "/%.*s", n, s);
        if (len >= sizeof(dir)) {
            errno = ENAMETOOLONG;
            die("mkdir(\"%s/%s\")", root, cgroup);
        }
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
 * Sends SIGKILL to each process in dir/cgroup.procs, for up to rounds
 * rounds 10 ms apart, until it is empty (a PID read there is one of this
 * PID namespace). Returns 0 once it is empty or gone, -1 (EBUSY) if not.
 */
int
cgroup_kill_procs(const char *dir, int rounds)
{
    char path[PATH_MAX];

    if (file_path(path, sizeof(path), dir, "cgroup.procs") == -1)
        return -1;
    for (int round = 0; round < rounds; round++) {
        FILE *f = fopen(path, "re");
        char line[24];
        int pid, found = 0;

        if (!f)
            return 0;
        while (fgets(line, sizeof(line), f) && ++found)
            /* kill(2); 0 is a process this PID namespace does not see
             * (v2 lists it so), and kill(0) would hit our own group. */
            if ((pid = atoi(line)) > 0)
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
 * One rmdir(2), no retry: 1 when it removed dir, 0 when dir was not
 * there, -1 when the kernel refused (EBUSY: tasks are left in it).
 */
int
cgroup_try_remove_dir(const char *dir)
{
    if (rmdir(dir) == -1)
        return errno == ENOENT ? 0 : -1;
    trace("rmdir(\"%s\") = 0", dir);
    return 1;
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
 * boxstep's parent goes with its last container, as the state directory
 * does: rmdir(2) fails (EBUSY) while another container's cgroup is in it,
 * and a runtime that makes one after this makes the parent again
 * (cgroup_make_dirs()). Only a parent named boxstep is removed, at the
 * root or in a delegated subtree: the harness's (BOXSTEP_CGROUP_PARENT)
 * is the harness's to remove.
 */
void
cgroup_remove_parent(const char *mnt, const char *cgroup)
{
    const char *slash = strrchr(cgroup, '/');
    int len = slash ? (int)(slash - cgroup) : 0;
    size_t name_len = strlen(CGROUP_DEFAULT_PARENT);
    char dir[PATH_MAX];

    if (len < (int)name_len ||
        strncmp(slash - name_len, CGROUP_DEFAULT_PARENT, name_len) ||
        (len > (int)name_len && slash[-(int)name_len - 1] != '/') ||
        snprintf(dir, sizeof(dir), "%s/%.*s", mnt, len, cgroup) >=
            (int)sizeof(dir))
        return;
    if (rmdir(dir) == 0)
        trace("rmdir(\"%s\") = 0", dir);
}
