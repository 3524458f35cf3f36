/*
 * state.c: the state directory, /run/boxstep, where concurrent runs keep
 * what they share: one record per running container.
 *
 * A record is a file named after the runtime's PID namespace and PID,
 * PIDNS-PID (a PID means something only in its namespace, and runs in
 * two namespaces may share /run), one key=value a line:
 *
 *     start=1234567
 *     pidns=4026531836
 *     net=bridge
 *     ip=10.200.0.2
 *
 * The first two lines are this module's. A PID names a process only
 * together with its start time (a dead process's PID is given to the next
 * one), and only in its own PID namespace. The lines after them are the
 * layers' own: which address or id a container holds is decided in the
 * step's layer files; this file only stores, locks, lists and sweeps.
 *
 * The directory is locked while a run reads or changes it. A record whose
 * runtime is gone (it was SIGKILLed, and its container died with it) is
 * stale: the next run, or --gc, removes it and calls the release function
 * each layer registered, for what that container left behind. A runtime
 * removes its own record when it exits: state_open_record() puts that on
 * the cleanup list. The last run out removes the directory: no state
 * outlives the last container.
 *
 * Every function returns -1 with errno set on failure; state_failed_call()
 * then names the call that failed, for the error message.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boxstep.h"
#include "internal.h"

/* A record's size, at most: step 08's names each of up to 32 layers. */
#define RECORD_MAX 16384

const char *state_dir = "/run/boxstep";
const char *layer_dir; /* NULL: the step keeps no layers (before 08) */

static int lock_fd = -1;
static char own_name[48]; /* this runtime's record, PIDNS-PID; or "" */
static int own_fd = -1; /* that file, open to append (O_APPEND) */
static char own_record[RECORD_MAX]; /* what it holds: the same lines */
static size_t own_len;
static state_release_fn *const *own_releases; /* for this record */
static char failed_call[PATH_MAX + 64];

/* Notes which call failed, keeping errno; returns -1. */
__attribute__((format(printf, 1, 2))) static int
failed(const char *fmt, ...)
{
    int err = errno;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(failed_call, sizeof(failed_call), fmt, ap);
    va_end(ap);
    errno = err;
    return -1;
}

/* The call that made the last state_*() function fail. */
const char *
state_failed_call(void)
{
    return failed_call;
}

/*
 * The directory must be the caller's own, and private: a rootless
 * runtime's lies in /tmp (step 06), where another user could have made it
 * first, to read or plant records. Checked once the lock is open, so the
 * directory checked is the one the lock is in: in a sticky /tmp no other
 * user can swap it afterwards.
 */
static int
check_own_dir(void)
{
    struct stat st;

    /* lstat(2): a symbolic link is refused, not followed. */
    if (lstat(state_dir, &st) == -1)
        return failed("lstat(\"%s\")", state_dir);
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
        errno = EPERM;
        return failed("%s: not a private directory of uid %u", state_dir,
                      (unsigned)geteuid());
    }
    return 0;
}

/*
 * Locks the state directory, making it when missing: concurrent runs take
 * turns. The last run out removes the directory (state_unlock()), so it
 * may vanish between mkdir(2) and open(2): then it is made again. A lock
 * already held is kept.
 */
int
state_lock(void)
{
    char path[PATH_MAX];

    if (lock_fd != -1)
        return 0;
    snprintf(path, sizeof(path), "%s/lock", state_dir);
    do {
        /* mkdir(2) */
        if (mkdir(state_dir, 0700) == -1 && errno != EEXIST)
            return failed("mkdir(\"%s\", 0700)", state_dir);
        lock_fd = open_locked(path);
    } while (lock_fd == -1 && errno == ENOENT);
    if (lock_fd == -1)
        return failed("open_locked(\"%s\")", path);
    trace("open_locked(\"%s\") = %d", path, lock_fd);
    if (check_own_dir() == -1) {
        close(lock_fd);
        lock_fd = -1;
        return -1;
    }
    return 0;
}

/*
 * Unlocks the state directory, and removes it when no record is left: a
 * run waiting for the lock notices that the file is gone and makes a new
 * one (open_locked()). While this runtime has a record, the directory
 * stays and so does the lock file.
 */
int
state_unlock(void)
{
    char path[PATH_MAX];
    int ret;

    if (lock_fd == -1)
        return 0;
    snprintf(path, sizeof(path), "%s/lock", state_dir);
    if (!own_name[0]) {
        /* unlink(2) */
        if (trace_call(unlink(path), "unlink(\"%s\")", path) == -1)
            return failed("unlink(\"%s\")", path);
        /* rmdir(2) fails with ENOTEMPTY while other runs have records. */
        ret = trace_call(rmdir(state_dir), "rmdir(\"%s\")", state_dir);
        if (ret == -1 && errno != ENOTEMPTY)
            return failed("rmdir(\"%s\")", state_dir);
    }
    /* close(2): the lock goes with the descriptor. */
    ret = trace_call(close(lock_fd), "close(%d)", lock_fd);
    lock_fd = -1;
    return ret == -1 ? failed("close(lock)") : 0;
}

/* Copies the value of key in record to value; -1 (ENOENT) when absent. */
int
state_get(const char *record, const char *key, char *value, size_t len)
{
    size_t key_len = strlen(key);

    for (const char *line = record; line && *line;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, key, key_len) == 0 && line[key_len] == '=') {
            const char *start = line + key_len + 1;

            snprintf(value, len, "%.*s", (int)strcspn(start, "\n"), start);
            return 0;
        }
    }
    errno = ENOENT;
    return -1;
}

/*
 * This process's PID namespace (util.c), read once: a process never
 * changes its own (unshare(2) and setns(2) with CLONE_NEWPID move its
 * children only). A child made in a new one reads no record.
 */
static unsigned long
own_pid_namespace(void)
{
    static unsigned long inode;

    if (!inode)
        inode = pid_namespace_inode();
    return inode;
}

/*
 * Whether a record's runtime still runs: its PID names a process that
 * started at the recorded time, and has not exited (a SIGKILLed runtime
 * stays a zombie until its parent reaps it). This runtime's own record
 * is live without a look. A record made in another PID namespace (one
 * that shares /run with this one) cannot be judged: it counts as live.
 * A record too damaged to read is stale.
 */
static bool
record_is_live(const char *name, pid_t pid, const char *record)
{
    char start[32], pidns[32];

    if (strcmp(name, own_name) == 0)
        return true;
    if (state_get(record, "start", start, sizeof(start)) == -1 ||
        state_get(record, "pidns", pidns, sizeof(pidns)) == -1)
        return false;
    if (strtoul(pidns, NULL, 10) != own_pid_namespace())
        return true;
    return process_runs(pid, strtoull(start, NULL, 10));
}

/* Reads the record of that name into buf; -1 when it cannot. */
static int
read_record(const char *name, char *buf, size_t len)
{
    char path[PATH_MAX];
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "%s/%s", state_dir, name);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
        return failed("open(\"%s\", O_RDONLY)", path);
    n = read(fd, buf, len - 1);
    close(fd);
    if (n == -1)
        return failed("read(\"%s\")", path);
    buf[n] = '\0';
    return 0;
}

/*
 * Removes the record of that name, then calls each release function (a
 * NULL ends the list) for what its container left.
 */
static int
release_record(const char *name, const char *record,
               state_release_fn *const releases[])
{
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/%s", state_dir, name);
    /* unlink(2) */
    if (trace_call(unlink(path), "unlink(\"%s\")", path) == -1)
        return failed("unlink(\"%s\")", path);
    for (size_t i = 0; releases[i]; i++)
        releases[i](record);
    return 0;
}

/* The PID in a record's name, PIDNS-PID; 0 if the name is not one. */
static pid_t
record_pid(const char *name)
{
    size_t digits = strspn(name, "0123456789");
    char *end;
    long pid;

    if (digits == 0 || name[digits] != '-')
        return 0;
    pid = strtol(name + digits + 1, &end, 10);
    return *end == '\0' && pid > 0 && pid <= INT_MAX ? (pid_t)pid : 0;
}

/*
 * Calls visit(name, pid, record, arg) for each record of the directory,
 * which must be locked; a record's name is PIDNS-PID. This runtime's own
 * is not read back: it is the copy in memory.
 */
static int
each_record(int (*visit)(const char *, pid_t, const char *, void *), void *arg)
{
    char *buf = malloc(RECORD_MAX); /* not on the stack: a page is used */
    struct dirent *e;
    int ret = 0;
    DIR *dir = buf ? opendir(state_dir) : NULL;

    if (!dir) {
        free(buf);
        return failed("opendir(\"%s\")", state_dir);
    }
    while (ret == 0 && (e = readdir(dir))) {
        const char *record = buf;
        pid_t pid = record_pid(e->d_name);

        if (pid == 0)
            continue;
        if (strcmp(e->d_name, own_name) == 0)
            record = own_record;
        else if (read_record(e->d_name, buf, RECORD_MAX) == -1)
            continue;
        ret = visit(e->d_name, pid, record, arg);
    }
    closedir(dir);
    free(buf);
    return ret;
}

/*
 * ---- The layer directory (step 08 on) ----
 *
 * A kept container's files outlive its record: they live in a directory
 * of their own, LAYER_DIR/NAME, on a disk, not in /run. The record names
 * it (layer=PATH) while the container runs. A layer holding a file named
 * "keep" is kept when its container is gone (--keep); any other layer no
 * live record names is removed by the sweep, after a reboot too.
 */

/*
 * The file that marks a directory as boxstep's layer directory. The sweep
 * removes what no container claims in it, so it touches only a directory
 * with this mark: BOXSTEP_LAYER_DIR may name any directory, /srv or a
 * home. An empty one gets it when first used; one with files and no mark
 * is refused.
 */
#define LAYER_MARK ".boxstep-layers"

static bool
layer_dir_is_ours(void)
{
    char path[PATH_MAX];
    struct stat st;

    snprintf(path, sizeof(path), "%s/" LAYER_MARK, layer_dir);
    return lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
           st.st_uid == geteuid();
}

static int
mark_layer_dir(void)
{
    char path[PATH_MAX];
    bool empty = true;
    struct dirent *e;
    DIR *dir;
    int fd;

    if (layer_dir_is_ours())
        return 0;
    if (!(dir = opendir(layer_dir)))
        return failed("opendir(\"%s\")", layer_dir);
    while ((e = readdir(dir)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            empty = false;
    closedir(dir);
    if (!empty) {
        errno = ENOTEMPTY;
        return failed("%s: has files and no " LAYER_MARK
                      ": not a layer directory of boxstep's",
                      layer_dir);
    }
    snprintf(path, sizeof(path), "%s/" LAYER_MARK, layer_dir);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd == -1)
        return failed("open(\"%s\", O_CREAT|O_EXCL)", path);
    return close(fd);
}

/* The directory, made when missing: root's 0711, so that a mapped root
 * can pass through it to its own layer; always its caller's. */
int
state_make_layer_dir(void)
{
    struct stat st;

    if (!layer_dir)
        return failed("no layer directory");
    if (mkdir(layer_dir, 0711) == -1 && errno != EEXIST)
        return failed("mkdir(\"%s\", 0711)", layer_dir);
    if (lstat(layer_dir, &st) == -1)
        return failed("lstat(\"%s\")", layer_dir);
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022)) {
        errno = EPERM;
        return failed("%s: not a directory of uid %u that only it may "
                      "write to",
                      layer_dir, (unsigned)geteuid());
    }
    return mark_layer_dir();
}

/*
 * Makes this container's layer directory, LAYER_DIR/NAME, mode 0700, and
 * names it in the record; the path goes to path. The state directory
 * must be locked (between state_open_record() and state_unlock()). A
 * name in use, by a kept layer or a running container, fails with EEXIST.
 */
int
state_make_layer(const char *name, char *path, size_t len)
{
    if (state_make_layer_dir() == -1)
        return -1;
    snprintf(path, len, "%s/%s", layer_dir, name);
    if (mkdir(path, 0700) == -1)
        return failed("mkdir(\"%s\", 0700)", path);
    trace("mkdir(\"%s\", 0700) = 0", path);
    return state_record_set("layer", path);
}

/* Whether a record holds the line KEY=VALUE (a key may repeat). */
static bool
record_has(const char *record, const char *key, const char *value)
{
    size_t key_len = strlen(key), value_len = strlen(value);

    for (const char *line = record; line && *line;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (strncmp(line, key, key_len) == 0 && line[key_len] == '=' &&
            strncmp(line + key_len + 1, value, value_len) == 0 &&
            strchr("\n", line[key_len + 1 + value_len]))
            return true;
    return false;
}

/*
 * A layer a live record claims: its container's own (layer=PATH), or one
 * it stacks as an image layer (lower=PATH/upper, the real path, as
 * parse_layer() records it). visit_if_live() sets claimed, and the name
 * of the claiming container, when it has one.
 */
struct claim {
    char path[PATH_MAX], upper[PATH_MAX];
    char by[65];
    bool claimed;
};

static void
note_claim(const char *record, void *arg)
{
    struct claim *c = arg;

    if (record_has(record, "layer", c->path) ||
        (c->upper[0] && record_has(record, "lower", c->upper))) {
        c->claimed = true;
        if (state_get(record, "name", c->by, sizeof(c->by)) == -1)
            snprintf(c->by, sizeof(c->by), "?");
    }
}

/* The claim on LAYER_DIR/name, by every live record (locked). */
static int
find_claim(const char *name, struct claim *c)
{
    char upper[PATH_MAX + 8];

    *c = (struct claim){.claimed = false};
    snprintf(c->path, sizeof(c->path), "%s/%s", layer_dir, name);
    snprintf(upper, sizeof(upper), "%s/upper", c->path);
    if (!realpath(upper, c->upper))
        c->upper[0] = '\0';
    return state_each(note_claim, c);
}

/* Whether LAYER_DIR/name holds a file named keep. */
static bool
layer_is_kept(const char *name)
{
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/%s/keep", layer_dir, name);
    return access(path, F_OK) == 0;
}

/*
 * The layers no live record names and no keep file claims go (locked).
 * One that cannot be removed is said, and the sweep goes on.
 */
static int
sweep_layers(void)
{
    struct claim claim;
    char path[PATH_MAX];
    struct dirent *e;
    DIR *dir;

    if (!layer_dir || !layer_dir_is_ours() || !(dir = opendir(layer_dir)))
        return 0; /* no layer made yet, or not our directory */
    while ((e = readdir(dir))) {
        if (e->d_name[0] == '.' || layer_is_kept(e->d_name))
            continue;
        if (find_claim(e->d_name, &claim) == -1) {
            closedir(dir);
            return -1;
        }
        snprintf(path, sizeof(path), "%s", claim.path);
        if (!claim.claimed &&
            trace_call(remove_tree(path), "remove_tree(\"%s\")", path) == -1)
            warn("remove_tree(\"%s\")", path);
    }
    closedir(dir);
    return 0;
}

/* Calls visit(name, path, arg) for each kept layer, locked meanwhile. */
int
state_each_kept_layer(state_layer_fn *visit, void *arg)
{
    char path[PATH_MAX];
    struct dirent *e;
    DIR *dir;

    if (state_lock() == -1)
        return -1;
    if (layer_dir && layer_dir_is_ours() && (dir = opendir(layer_dir))) {
        while ((e = readdir(dir)))
            if (e->d_name[0] != '.' && layer_is_kept(e->d_name)) {
                snprintf(path, sizeof(path), "%s/%s", layer_dir, e->d_name);
                visit(e->d_name, path, arg);
            }
        closedir(dir);
    }
    return state_unlock();
}

/*
 * Removes the kept layer of that name: -1 with ENOENT when none is kept,
 * EBUSY while a running container writes it or stacks it.
 */
int
state_remove_kept_layer(const char *name)
{
    struct claim claim;
    char path[PATH_MAX];
    int ret = 0, err;

    if (state_lock() == -1)
        return -1;
    snprintf(path, sizeof(path), "%s/%s", layer_dir ?: "", name);
    if (!layer_dir || !layer_dir_is_ours() || strchr(name, '/') ||
        name[0] == '.' || !layer_is_kept(name)) {
        errno = ENOENT;
        ret = failed("%s: no kept layer", path);
    } else if (find_claim(name, &claim) == -1) {
        ret = -1;
    } else if (claim.claimed) {
        errno = EBUSY;
        ret = failed("%s: the running container %s uses it", path, claim.by);
    } else if (trace_call(remove_tree(path), "remove_tree(\"%s\")", path) ==
               -1) {
        ret = failed("remove_tree(\"%s\")", path);
    }
    err = errno;
    if (state_unlock() == -1)
        return -1;
    errno = err;
    return ret;
}

struct sweep {
    state_release_fn *const *releases;
    int count;
};

static int
release_if_stale(const char *name, pid_t pid, const char *record, void *arg)
{
    struct sweep *sweep = arg;

    if (record_is_live(name, pid, record))
        return 0;
    sweep->count++;
    return release_record(name, record, sweep->releases);
}

/*
 * Removes every stale record, calling the release functions for each;
 * returns how many there were. The directory must be locked.
 */
int
state_sweep(state_release_fn *const releases[])
{
    struct sweep sweep = {releases, 0};

    if (each_record(release_if_stale, &sweep) == -1 || sweep_layers() == -1)
        return -1;
    return sweep.count;
}

struct visit_live {
    state_visit_fn *visit;
    void *arg;
};

static int
visit_if_live(const char *name, pid_t pid, const char *record, void *arg)
{
    struct visit_live *v = arg;

    if (record_is_live(name, pid, record))
        v->visit(record, v->arg);
    return 0;
}

/* Calls visit(record, arg) for each live record. Locked, as above. */
int
state_each(state_visit_fn *visit, void *arg)
{
    struct visit_live v = {visit, arg};

    return each_record(visit_if_live, &v);
}

/*
 * The cleanup of this runtime's record, at its exit: the record goes, the
 * layers release what only it used (the copy in memory tells them what
 * it held), and stale records go too, so that the directory can go with
 * the last run. It warns and goes on.
 */
static void
close_own_record(void *unused)
{
    (void)unused;
    if (state_lock() == -1) {
        warn("%s", state_failed_call());
        return;
    }
    if (own_name[0] && release_record(own_name, own_record, own_releases) == -1)
        warn("%s", state_failed_call());
    own_name[0] = '\0';
    if (own_fd != -1)
        close(own_fd);
    own_fd = -1;
    if (state_sweep(own_releases) == -1)
        warn("%s", state_failed_call());
    if (state_unlock() == -1)
        warn("%s", state_failed_call());
}

/*
 * Adds a line to this runtime's record: one write(2) to the file, so
 * that the record names a resource before the layer makes it (a runtime
 * SIGKILLed after that leaves it to the sweep), and to the copy.
 */
__attribute__((format(printf, 1, 2))) static int
append_line(const char *fmt, ...)
{
    size_t room = sizeof(own_record) - own_len;
    va_list ap;
    ssize_t n;
    int len;

    if (own_fd == -1) {
        errno = ENOENT;
        return failed("%s: no record of this runtime's", state_dir);
    }
    va_start(ap, fmt);
    len = vsnprintf(own_record + own_len, room, fmt, ap);
    va_end(ap);
    if (len >= (int)room) {
        own_record[own_len] = '\0';
        errno = EFBIG;
        return failed("%s/%s: more than %zu bytes", state_dir, own_name,
                      sizeof(own_record) - 1);
    }
    /* write(2): on O_APPEND, at the end of the file, whole. */
    n = write(own_fd, own_record + own_len, len);
    if (n != len) {
        if (n >= 0)
            errno = ENOSPC; /* a short write: the disk is full */
        own_record[own_len] = '\0';
        return failed("write(\"%s/%s\")", state_dir, own_name);
    }
    own_len += len;
    return 0;
}

/*
 * Locks the directory, sweeps the stale records and makes this runtime's
 * own: its PID, start time and PID namespace. releases lists the layers'
 * release functions, ending in NULL: for the stale records now, and for
 * this one when the runtime exits. Its removal is registered
 * on the cleanup list first, so that the directory goes on every exit.
 * The directory stays locked (state_unlock()) while the layers choose
 * what they need and add it (state_record_set()).
 */
int
state_open_record(state_release_fn *const releases[])
{
    unsigned long long start;
    char path[PATH_MAX];
    pid_t pid = getpid();
    int fd;

    if (state_lock() == -1)
        return -1;
    own_releases = releases;
    if (cleanup_push(close_own_record, NULL, "this container's record") == -1)
        return failed("cleanup_push()");
    if (state_sweep(releases) == -1)
        return -1;
    if (process_start_time(pid, &start) == -1)
        return failed("process_start_time(%d)", (int)pid);
    snprintf(path, sizeof(path), "%s/%lu-%d", state_dir, own_pid_namespace(),
             (int)pid);
    /*
     * open(2): O_EXCL, a record is never overwritten; O_APPEND, each line
     * goes at its end. It stays open until the runtime exits, for the
     * lines the layers add.
     */
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
    if (fd == -1)
        return failed("open(\"%s\", O_WRONLY|O_CREAT|O_EXCL|O_APPEND)", path);
    own_fd = fd;
    own_len = 0;
    snprintf(own_name, sizeof(own_name), "%s", strrchr(path, '/') + 1);
    if (append_line("start=%llu\npidns=%lu\n", start, own_pid_namespace()) ==
        -1)
        return -1;
    trace("open(\"%s\", O_CREAT|O_EXCL): start=%llu", path, start);
    return 0;
}

/* Adds key=value to this runtime's record. */
int
state_record_set(const char *key, const char *value)
{
    if (append_line("%s=%s\n", key, value) == -1)
        return -1;
    trace("record %s/%s: %s=%s", state_dir, own_name, key, value);
    return 0;
}

/*
 * For a run that makes no container (07's --freeze NAME): calls
 * visit(record, arg) for each live record, with the directory locked
 * meanwhile, so no record changes under it. Stale records stay for the
 * next sweep.
 */
int
state_each_locked(state_visit_fn *visit, void *arg)
{
    int err;

    if (state_lock() == -1)
        return -1;
    if (state_each(visit, arg) == -1) {
        err = errno;
        state_unlock();
        errno = err;
        return -1;
    }
    return state_unlock();
}

/* --gc: the stale records go, and what their containers left. */
int
state_collect_garbage(state_release_fn *const releases[])
{
    if (state_lock() == -1 || state_sweep(releases) == -1)
        return -1;
    return state_unlock();
}
