/*
 * util.c: small helpers the steps share.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "boxstep.h"
#include "internal.h"

/*
 * The status the runtime exits with for a child's wait status: its exit
 * code, or 128+N when signal N killed it, as a shell reports it. The
 * runtime exits with that number; it does not kill itself with the same
 * signal, which could dump core or stop a debugger in the wrong process.
 */
int
exit_status_of(int wstatus)
{
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus))
        return 128 + WTERMSIG(wstatus);
    return EXIT_BOXSTEP;
}

/*
 * Whether the terminal generated this signal (Ctrl-C, Ctrl-\, a hang-up),
 * rather than a process with kill(2). The terminal signals the whole
 * foreground process group, and COMMAND is in it: forwarding such a signal
 * as well would deliver it twice.
 */
bool
sent_by_terminal(const siginfo_t *info)
{
    return info->si_code == SI_KERNEL;
}

/* pivot_root(2): glibc has no wrapper for it. */
int
pivot_root(const char *new_root, const char *put_old)
{
    return syscall(SYS_pivot_root, new_root, put_old);
}

/*
 * Opens (creating it) and locks a lock file: runs that share state take
 * turns. fcntl(2) F_SETLKW takes a POSIX record lock, which belongs to the
 * process: a child made by fork(2) or clone(2) does not inherit it, so the
 * container never holds its runtime's lock. It goes when the process
 * closes any descriptor of the file, or exits. The last user may unlink
 * the file; whoever was waiting then holds a lock on a file no longer
 * there, so after the lock the path must still name the locked file, or
 * it starts again.
 */
int
open_locked(const char *path)
{
    struct flock whole = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    struct stat locked, named;

    for (;;) {
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600), err;

        if (fd == -1)
            return -1;
        if (fcntl(fd, F_SETLKW, &whole) == -1) {
            err = errno;
            close(fd);
            if (err == EINTR)
                continue;
            errno = err;
            return -1;
        }
        if (fstat(fd, &locked) == 0 && stat(path, &named) == 0 &&
            locked.st_dev == named.st_dev && locked.st_ino == named.st_ino)
            return fd;
        close(fd); /* replaced or removed while this run waited */
    }
}

/*
 * The inode of this process's PID namespace, /proc/self/ns/pid: what
 * tells two namespaces apart. A PID means something only in its own.
 */
unsigned long
pid_namespace_inode(void)
{
    struct stat st;

    return stat("/proc/self/ns/pid", &st) == 0 ? st.st_ino : 0;
}

/*
 * pid's state (field 3 of /proc/PID/stat, proc(5): R, S, Z, ...) and
 * when it started, in clock ticks since boot (field 22).
 */
static int
read_process_stat(pid_t pid, char *state, unsigned long long *ticks)
{
    char path[64], buf[1024], *field = NULL, *end;
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    /* open(2), read(2): one line, read whole. */
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
        return -1;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n > 0) {
        buf[n] = '\0';
        field = strrchr(buf, ')');
    }
    /* After "pid (comm) ": field 3 is the state; skip to field 22. */
    if (field && field[1] == ' ' && field[2])
        *state = field[2];
    else
        field = NULL;
    for (int i = 3; field && i <= 22; i++)
        field = strchr(field + 1, ' ');
    if (field)
        *ticks = strtoull(field, &end, 10);
    if (!field || end == field) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

/*
 * When pid started: a PID names a process only together with its start
 * time: once a process is gone, the kernel may give its PID to another.
 */
int
process_start_time(pid_t pid, unsigned long long *ticks)
{
    char state;

    return read_process_stat(pid, &state, ticks);
}

/*
 * Whether the process that started at start still runs as pid. One that
 * has exited and waits for its parent to reap it (a zombie, Z; or X,
 * dead) keeps its PID and its start time, but runs no more.
 */
bool
process_runs(pid_t pid, unsigned long long start)
{
    unsigned long long ticks;
    char state;

    return read_process_stat(pid, &state, &ticks) == 0 && ticks == start &&
           state != 'Z' && state != 'X';
}

/*
 * Whether name, in the directory dirfd, is on a mount of its own: the
 * removal below never crosses into one (a layer still attached there
 * would be deleted through it).
 */
static bool
crosses_mount(int dirfd, const char *name)
{
    struct statx parent, entry;

    /* statx(2): the mount's id, STATX_MNT_ID */
    if (statx(dirfd, "", AT_EMPTY_PATH, STATX_MNT_ID, &parent) == -1 ||
        statx(dirfd, name, AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &entry) == -1)
        return false;
    return parent.stx_mnt_id != entry.stx_mnt_id;
}

/*
 * Opens the directory name for the removal; one without a search or read
 * bit for its owner (overlayfs makes its work directory mode 000) is
 * given them first: the owner may always change the mode.
 */
static int
open_for_removal(int dirfd, const char *name)
{
    int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    int fd = openat(dirfd, name, flags);

    if (fd == -1 && errno == EACCES && fchmodat(dirfd, name, 0700, 0) == 0)
        fd = openat(dirfd, name, flags);
    return fd;
}

/* Removes name in the directory parent, and what it holds. */
static int
remove_at(int parent, const char *name)
{
    struct dirent *e;
    struct stat st;
    int fd, ret = 0;
    DIR *dir;

    if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlinkat(parent, name, 0);
    if (parent != AT_FDCWD && crosses_mount(parent, name)) {
        errno = EBUSY;
        return -1;
    }
    if ((fd = open_for_removal(parent, name)) == -1 || !(dir = fdopendir(fd))) {
        if (fd != -1)
            close(fd);
        return -1;
    }
    while (ret == 0 && (e = readdir(dir)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            ret = remove_at(dirfd(dir), e->d_name);
    closedir(dir);
    return ret == -1 ? -1 : unlinkat(parent, name, AT_REMOVEDIR);
}

/*
 * rm -r path, as unlinkat(2) and rmdir: a container's layer, whose files
 * belong to many owners. It stops at the first failure (errno set), and
 * never removes through a mount point.
 */
int
remove_tree(const char *path)
{
    return remove_at(AT_FDCWD, path);
}
