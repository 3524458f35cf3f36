/*
 * probe.c: what the tests run inside a container.
 *
 * A small static program whose subcommands observe or do one thing and
 * print one value per line, so a check can compare what it sees inside
 * with what the sandbox sees outside. Steps 00-03 run it by its host path.
 *
 *   probe hostname | domainname | pid | ppid | env | fds
 *   probe ns NAME                 dev:inode of /proc/self/ns/NAME
 *   probe sethostname NAME        sets it, prints the hostname after
 *   probe setdomainname NAME      likewise for the NIS domain name
 *   probe ipc-make KIND KEY       KIND: msg, sem or shm; prints "made"
 *   probe ipc-find KIND KEY       prints "found" or "absent"
 *   probe ipc-rm KIND KEY         removes it; prints "removed" or "absent"
 *   probe mq-make | mq-find | mq-rm NAME   POSIX message queues, likewise
 *   probe kill PID SIG            prints "ok" or the errno's name
 *   probe exit N | raise SIG      exits with N, or dies of SIG
 *   probe wait-signal             prints "ready", then the signal it gets
 *   probe count-int               prints "ready"; after a first SIGINT,
 *                                 counts them for half a second: "INT N"
 *   probe orphan                  makes an orphan named probe-orphan,
 *                                 prints "ready", runs until stdin closes
 *   probe sleeper                 renames itself probe-sleeper, pauses
 *   probe sleeper-tree            a child probe-sleeper; "ready"; pauses
 *   probe mount-tmpfs DIR         mounts a tmpfs named boxstep-probe on DIR
 *   probe reach PATH HOW          opens PATH after trying to leave the root
 *                                 HOW: dotdot, chroot or proc-root;
 *                                 prints "reached" or "unreachable"
 *   probe pids                    the PIDs /proc lists, on one line
 *   probe ls DIR                  DIR's entries, sorted, on one line
 *   probe mountflags PATH         the mount's flags: "ro" or "rw", then
 *                                 those of nosuid, nodev, noexec it has
 *   probe has-mount DEV           "present" or "absent": whether a mount of
 *                                 device DEV (MAJOR:MINOR) is anywhere in
 *                                 the mount namespace, even outside the
 *                                 root; DEV "-": prints "ready", then reads
 *                                 DEV from stdin; "ENOSYS" before 6.8
 *   probe sees-mount DEV          likewise, among the mounts below the root
 *                                 (/proc/self/mountinfo), on any kernel
 *   probe write PATH              creates PATH: "ok" or the errno's name
 *   probe rm PATH                 removes it: "removed" or "absent"
 *   probe umask                   the file mode creation mask, as 0022
 *   probe ifaces                  the network devices, sorted, on one line
 *   probe routes                  the main table's routes as DEV:DEST/LEN,
 *                                 and @GATEWAY for a route through one
 *   probe listen PORT             listens on 127.0.0.1:PORT, prints "ready",
 *                                 then "accepted" for a connection, or
 *                                 "none" when stdin closes first
 *   probe connect ADDR PORT       TCP: "connected" or the errno's name
 *   probe unix-connect NAME       the same, to the abstract socket @NAME
 *   probe ipaddr DEV [wait]       DEV's IPv4 address; with wait, then runs
 *                                 until stdin closes
 *   probe ids                     "UID GID|UID_MAP|GID_MAP": its ids, and
 *                                 the lines of its maps, joined by ","
 *   probe hold [PATH]             creates PATH if given (or prints the
 *                                 errno's name and exits), renames itself
 *                                 probe-holder, prints "ready", then runs
 *                                 until stdin closes
 *   probe owner PATH              PATH's owner, as UID:GID (lstat)
 *   probe mknod PATH              makes a block device node at PATH and
 *                                 removes it: "ok" or the errno's name
 *   probe remount PATH            remounts the mount at PATH read-write,
 *                                 suid and dev (MS_REMOUNT|MS_BIND, no
 *                                 flag): "ok" or the errno's name
 *   probe write-unnamed DIR       writes a file with no name in DIR
 *                                 (O_TMPFILE): "ok" or the errno's name
 *   probe open-handle TYPE:HEX [MOUNT]  open_by_handle_at(2) of that
 *                                 handle (name_to_handle_at's type and
 *                                 bytes) on MOUNT's filesystem (default
 *                                 /), read-only: "ok" or the errno's name
 *   probe finit-module            finit_module(2) of an empty memfd: the
 *                                 errno's name (an empty file never loads)
 *   probe key-read SERIAL         keyctl(2) KEYCTL_READ of that key: its
 *                                 payload, or the errno's name
 *   probe caps                    "full" when the effective set has every
 *                                 capability up to cap_last_cap, or
 *                                 "missing" and the names of those it lacks
 *   probe cgroup                  the cgroup paths of /proc/self/cgroup,
 *                                 each once, sorted, on one line
 *   probe fork-upto N             forks children that wait, until N of
 *                                 them or a fork fails; then ends and
 *                                 reaps them all: "COUNT" or "COUNT ERRNO"
 *   probe alloc MIB               allocates MIB MiB and touches every
 *                                 page: "ok", or ENOMEM; the OOM killer may
 *                                 end it first
 *   probe busy SECONDS [CPU]      a busy loop for SECONDS (1-10) of wall
 *                                 time, on CPU alone if given: "ok"
 *   probe tick                    prints 1, 2, 3... every 50 ms until
 *                                 stdin closes
 *   probe cgroup-write TYPE OPTS FILE VALUE  mounts a cgroup filesystem
 *                                 of TYPE (cgroup or cgroup2; OPTS "-" for
 *                                 none) read-write on /tmp/cg, writes VALUE
 *                                 to FILE there: "ok", "mount ERRNO" or the
 *                                 write's errno name
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/keyctl.h>
#include <mqueue.h>
#include <net/if.h>
#include <net/route.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int
usage(void)
{
    fprintf(stderr, "probe: unknown or incomplete subcommand\n");
    return 2;
}

static int
print_ns(const char *name)
{
    char path[64];
    struct stat st;

    snprintf(path, sizeof(path), "/proc/self/ns/%s", name);
    if (stat(path, &st) == -1) {
        perror(path);
        return 1;
    }
    printf("%lu:%lu\n", (unsigned long)st.st_dev, (unsigned long)st.st_ino);
    return 0;
}

/* Prints the hostname, or the NIS domain name; sets it first if asked. */
static int
print_names(int domain, const char *set_to)
{
    char buf[HOST_NAME_MAX + 1];
    int ret = 0;

    if (set_to) {
        ret = domain ? setdomainname(set_to, strlen(set_to))
                     : sethostname(set_to, strlen(set_to));
        if (ret == -1) {
            printf("%s\n", strerrorname_np(errno));
            return 1;
        }
    }
    if (domain ? getdomainname(buf, sizeof(buf))
               : gethostname(buf, sizeof(buf)))
        return 1;
    printf("%s\n", buf);
    return 0;
}

/* System V objects: make one, or look one up, by key. */
static int
sysv(const char *kind, key_t key, int flags)
{
    if (strcmp(kind, "msg") == 0)
        return msgget(key, flags);
    if (strcmp(kind, "sem") == 0)
        return semget(key, 1, flags);
    if (strcmp(kind, "shm") == 0)
        return shmget(key, 4096, flags);
    errno = EINVAL;
    return -1;
}

static int
remove_sysv(const char *kind, int id)
{
    if (strcmp(kind, "msg") == 0)
        return msgctl(id, IPC_RMID, NULL);
    if (strcmp(kind, "sem") == 0)
        return semctl(id, 0, IPC_RMID);
    return shmctl(id, IPC_RMID, NULL);
}

static int
ipc(const char *what, const char *kind, const char *key_text)
{
    key_t key = (key_t)strtol(key_text, NULL, 0);
    int make = strcmp(what, "ipc-make") == 0;
    int id = sysv(kind, key, make ? IPC_CREAT | IPC_EXCL | 0600 : 0);

    if (make && id == -1) {
        printf("%s\n", strerrorname_np(errno));
        return 1;
    }
    if (strcmp(what, "ipc-rm") == 0 && id != -1) {
        if (remove_sysv(kind, id) == -1)
            return 1;
        printf("removed\n");
        return 0;
    }
    printf("%s\n", make ? "made" : id == -1 ? "absent" : "found");
    return 0;
}

static int
mq(const char *what, const char *name)
{
    int make = strcmp(what, "mq-make") == 0;
    mqd_t q;

    if (strcmp(what, "mq-rm") == 0) {
        printf("%s\n", mq_unlink(name) == 0 ? "removed" : "absent");
        return 0;
    }
    q = mq_open(name, make ? O_CREAT | O_EXCL | O_RDWR : O_RDONLY, 0600, NULL);

    if (make && q == (mqd_t)-1) {
        printf("%s\n", strerrorname_np(errno));
        return 1;
    }
    printf("%s\n", make ? "made" : q == (mqd_t)-1 ? "absent" : "found");
    if (q != (mqd_t)-1)
        mq_close(q);
    return 0;
}

static int
signal_number(const char *name)
{
    for (int sig = 1; sig < NSIG; sig++)
        if (sigabbrev_np(sig) && strcmp(sigabbrev_np(sig), name) == 0)
            return sig;
    return atoi(name);
}

static int
do_kill(const char *pid, const char *sig)
{
    if (kill(atoi(pid), signal_number(sig)) == -1)
        printf("%s\n", strerrorname_np(errno));
    else
        printf("ok\n");
    return 0;
}

static int
do_raise(const char *name)
{
    int sig = signal_number(name);

    signal(sig, SIG_DFL);
    raise(sig);
    return 1;
}

static int
wait_signal(void)
{
    int sigs[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};
    sigset_t set;
    int sig;

    sigemptyset(&set);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaddset(&set, sigs[i]);
    sigprocmask(SIG_BLOCK, &set, NULL);
    printf("ready\n");
    fflush(stdout);
    while ((sig = sigwaitinfo(&set, NULL)) == -1)
        if (errno != EINTR)
            return 1;
    printf("%s\n", sigabbrev_np(sig));
    return 0;
}

/* How many times one Ctrl-C delivers SIGINT: it must be once. */
static int
count_int(void)
{
    struct timespec half = {.tv_nsec = 500000000};
    sigset_t set;
    int count = 0;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    printf("ready\n");
    fflush(stdout);
    /* Ctrl-Z and fg interrupt the wait (EINTR): wait again. */
    while (sigwaitinfo(&set, NULL) == -1)
        if (errno != EINTR)
            return 1;
    for (count = 1; sigtimedwait(&set, NULL, &half) == SIGINT; count++)
        ;
    printf("INT %d\n", count);
    return 0;
}

static int
print_fds(void)
{
    const char *sep = "";

    for (int fd = 0; fd < 1024; fd++)
        if (fcntl(fd, F_GETFD) != -1) {
            printf("%s%d", sep, fd);
            sep = " ";
        }
    printf("\n");
    return 0;
}

/* A grandchild whose parent exits: it becomes an orphan to be adopted. */
static int
orphan(void)
{
    char buf[64];
    pid_t middle;

    fflush(stdout);
    middle = fork();
    if (middle == 0) {
        pid_t parent = getpid();

        if (fork() == 0) {
            prctl(PR_SET_NAME, "probe-orphan");
            for (int i = 0; i < 500 && getppid() == parent; i++)
                usleep(10000);
            pause();
            _exit(0);
        }
        _exit(0);
    }
    waitpid(middle, NULL, 0);
    usleep(50000);
    printf("ready\n");
    fflush(stdout);
    while (read(0, buf, sizeof(buf)) > 0)
        ;
    return 0;
}

__attribute__((noreturn)) static void
sleeper(void)
{
    prctl(PR_SET_NAME, "probe-sleeper");
    for (;;)
        pause();
}

/*
 * Tries to open PATH from outside the container's root. dotdot: climb
 * with .. from /. chroot: the classic double-chroot escape, a chroot into
 * a subdirectory while the working directory stays above it, then climb
 * and chroot(".") there. proc-root: through /proc/1/root, the root
 * directory of PID 1.
 */
static int
reach(const char *path, const char *how)
{
    char buf[PATH_MAX];
    const char *target = path;

    if (strcmp(how, "dotdot") == 0 || strcmp(how, "chroot") == 0) {
        if (chdir("/") == -1)
            return 1;
        /* /dev exists on both sides: the probe creates nothing. */
        if (strcmp(how, "chroot") == 0 && chroot("/dev") == -1)
            return 1;
        for (int i = 0; i < 64; i++)
            if (chdir("..") == -1)
                return 1;
        if (strcmp(how, "chroot") == 0 && chroot(".") == -1)
            return 1;
        target = path + 1; /* relative to where the climb ended */
    } else if (strcmp(how, "proc-root") == 0) {
        snprintf(buf, sizeof(buf), "/proc/1/root%s", path);
        target = buf;
    }
    printf("%s\n", access(target, F_OK) == 0 ? "reached" : "unreachable");
    return 0;
}

static int
compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Prints the words on one line, sorted if asked, and frees them. */
static int
print_words(char **words, size_t n, int sort)
{
    if (sort)
        qsort(words, n, sizeof(words[0]), compare_names);
    for (size_t i = 0; i < n; i++) {
        printf("%s%s", i ? " " : "", words[i]);
        free(words[i]);
    }
    printf("\n");
    return 0;
}

/* DIR's entries (or only the numeric ones), sorted, on one line. */
static int
list_dir(const char *dir, int numeric)
{
    char *names[1024];
    size_t n = 0;
    struct dirent *e;
    DIR *d = opendir(dir);

    if (!d)
        return 1;
    while ((e = readdir(d)) && n < 1024)
        if (e->d_name[0] != '.' &&
            (!numeric || (e->d_name[0] >= '0' && e->d_name[0] <= '9')))
            names[n++] = strdup(e->d_name);
    closedir(d);
    return print_words(names, n, !numeric);
}

static int
mountflags(const char *path)
{
    struct statvfs st;

    if (statvfs(path, &st) == -1)
        return 1;
    printf("%s%s%s%s\n", st.f_flag & ST_RDONLY ? "ro" : "rw",
           st.f_flag & ST_NOSUID ? " nosuid" : "",
           st.f_flag & ST_NODEV ? " nodev" : "",
           st.f_flag & ST_NOEXEC ? " noexec" : "");
    return 0;
}

/*
 * listmount(2) and statmount(2) came in Linux 6.8, after Debian 12's
 * headers: their numbers (457 and 458 in the system call table that
 * x86_64, arm64 and every other architecture but alpha share since Linux
 * 5.1) and the start of their structures are spelled out here, under
 * names of our own, and only fields Linux 6.8 has are read.
 */
#ifndef __NR_statmount
#define __NR_statmount 457
#endif
#ifndef __NR_listmount
#define __NR_listmount 458
#endif
#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE 0x4000U
#endif
#define PROBE_STATMOUNT_SB_BASIC 0x1U
#define PROBE_STATMOUNT_MNT_BASIC 0x2U
#define PROBE_MNT_ID_REQ_SIZE_VER0 24

struct probe_mnt_id_req {
    uint32_t size;
    uint32_t spare;
    uint64_t mnt_id;
    uint64_t param; /* statmount: what to fill in; listmount: the last ID */
};

struct probe_statmount {
    uint32_t size;
    uint32_t spare1;
    uint64_t mask;
    uint32_t sb_dev_major;
    uint32_t sb_dev_minor;
    uint64_t sb_magic;
    uint32_t sb_flags;
    uint32_t fs_type;
    uint64_t mnt_id;
    uint64_t mnt_parent_id; /* the mount itself for its namespace's top */
};

/* statmount(2) of the mount with that unique ID. */
static int
stat_mount(uint64_t id, struct probe_statmount *sm)
{
    static union {
        struct probe_statmount sm;
        char room[4096]; /* the kernel's structure is larger */
    } buf;
    struct probe_mnt_id_req req = {.size = PROBE_MNT_ID_REQ_SIZE_VER0,
                                   .mnt_id = id,
                                   .param = PROBE_STATMOUNT_SB_BASIC |
                                            PROBE_STATMOUNT_MNT_BASIC};

    if (syscall(__NR_statmount, &req, &buf, sizeof(buf), 0) == -1)
        return -1;
    *sm = buf.sm;
    return 0;
}

/*
 * The device MAJOR:MINOR of has-mount and sees-mount; "-": prints "ready",
 * then reads it from stdin. Returns -1 when there is none.
 */
static int
mount_device(const char *dev, unsigned int *major, unsigned int *minor)
{
    char line[64];

    if (strcmp(dev, "-") == 0) {
        printf("ready\n");
        fflush(stdout);
        if (!fgets(line, sizeof(line), stdin))
            return -1;
        dev = line;
    }
    return sscanf(dev, "%u:%u", major, minor) == 2 ? 0 : -1;
}

/*
 * Whether the mount namespace holds a mount of device major:minor. A
 * process sees only the mounts below its root in /proc/self/mountinfo,
 * but the kernel keeps the whole tree: from the root's mount, the parents
 * lead up to the namespace's top, and listmount(2) lists every mount
 * below that, reachable from the root or not.
 */
static int
has_mount(const char *dev)
{
    struct statx root;
    struct probe_statmount sm;
    struct probe_mnt_id_req req = {.size = PROBE_MNT_ID_REQ_SIZE_VER0};
    uint64_t ids[256];
    unsigned int major, minor;
    long n;

    if (mount_device(dev, &major, &minor) == -1)
        return usage();
    if (statx(AT_FDCWD, "/", 0, STATX_MNT_ID_UNIQUE, &root) == -1)
        return printf("%s\n", strerrorname_np(errno)) < 0;
    if (!(root.stx_mask & STATX_MNT_ID_UNIQUE))
        return printf("ENOSYS\n") < 0;
    for (req.mnt_id = root.stx_mnt_id;; req.mnt_id = sm.mnt_parent_id) {
        if (stat_mount(req.mnt_id, &sm) == -1)
            return printf("%s\n", strerrorname_np(errno)) < 0;
        if (sm.sb_dev_major == major && sm.sb_dev_minor == minor)
            return printf("present\n") < 0;
        if (sm.mnt_parent_id == req.mnt_id)
            break;
    }
    /* Page through the list: param is the last ID of the page before. */
    while ((n = syscall(__NR_listmount, &req, ids, 256, 0)) > 0) {
        for (long i = 0; i < n; i++) {
            if (stat_mount(ids[i], &sm) == -1)
                return printf("%s\n", strerrorname_np(errno)) < 0;
            if (sm.sb_dev_major == major && sm.sb_dev_minor == minor)
                return printf("present\n") < 0;
        }
        req.param = ids[n - 1];
    }
    if (n == -1)
        return printf("%s\n", strerrorname_np(errno)) < 0;
    return printf("absent\n") < 0;
}

/* Whether a mount of device major:minor is below the root: mountinfo. */
static int
sees_mount(const char *dev)
{
    unsigned int major, minor, ma, mi;
    bool seen = false;
    char line[1024];
    FILE *f;

    if (mount_device(dev, &major, &minor) == -1)
        return usage();
    if (!(f = fopen("/proc/self/mountinfo", "re")))
        return printf("%s\n", strerrorname_np(errno)) < 0;
    /* proc(5): the third field is the device, MAJOR:MINOR. */
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "%*s %*s %u:%u", &ma, &mi) == 2 && ma == major &&
            mi == minor)
            seen = true;
    fclose(f);
    return printf(seen ? "present\n" : "absent\n") < 0;
}

static int
write_file(const char *path)
{
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);

    if (fd == -1 || write(fd, "probe\n", 6) != 6) {
        printf("%s\n", strerrorname_np(errno));
        return 0;
    }
    close(fd);
    printf("ok\n");
    return 0;
}

static int
remove_file(const char *path)
{
    if (unlink(path) == 0)
        printf("removed\n");
    else
        printf("%s\n", errno == ENOENT ? "absent" : strerrorname_np(errno));
    return 0;
}

/* umask(2) can only set the mask: it is read by setting it back. */
static int
print_umask(void)
{
    mode_t mask = umask(0);

    umask(mask);
    printf("%04o\n", (unsigned int)mask);
    return 0;
}

/*
 * The main routing table, as DEV:DEST/PREFIX words, with @GATEWAY for a
 * route through one, from /proc/net/route.
 */
static int
print_routes(void)
{
    char line[256], dev[IF_NAMESIZE + 1], dest[INET_ADDRSTRLEN],
        via[INET_ADDRSTRLEN];
    unsigned int dst, gw, flags, mask;
    const char *sep = "";
    FILE *f = fopen("/proc/self/net/route", "re");

    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "%16s %x %x %x %*d %*d %*d %x", dev, &dst, &gw, &flags,
                   &mask) == 5) {
            inet_ntop(AF_INET, &dst, dest, sizeof(dest));
            inet_ntop(AF_INET, &gw, via, sizeof(via));
            printf("%s%s:%s/%d%s%s", sep, dev, dest, __builtin_popcount(mask),
                   flags & RTF_GATEWAY ? "@" : "",
                   flags & RTF_GATEWAY ? via : "");
            sep = " ";
        }
    printf("\n");
    return f ? fclose(f) : 1;
}

/* The devices of this network namespace, from /proc/net/dev. */
static int
print_ifaces(void)
{
    char line[256], name[IF_NAMESIZE + 1], *names[64];
    size_t n = 0;
    FILE *f = fopen("/proc/self/net/dev", "re");

    while (f && fgets(line, sizeof(line), f) && n < 64)
        if (sscanf(line, " %16[^:]:", name) == 1 && strchr(line, ':'))
            names[n++] = strdup(name);
    if (f)
        fclose(f);
    return print_words(names, n, 1);
}

/* Waits for a connection on 127.0.0.1:PORT, or for stdin to close. */
static int
listen_once(const char *port)
{
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons(atoi(port)),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    struct pollfd pfd[2] = {{.fd = fd, .events = POLLIN},
                            {.fd = 0, .events = POLLIN}};

    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == -1 ||
        listen(fd, 1) == -1) {
        printf("%s\n", strerrorname_np(errno));
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    poll(pfd, 2, 20000);
    if (pfd[0].revents & POLLIN) {
        /*
         * Accept, and hold the connection until stdin closes: closing a
         * listener with a connection pending resets it, and on a slow
         * machine the reset can reach the client before its connect()
         * has returned.
         */
        int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

        printf("accepted\n");
        fflush(stdout);
        poll(&pfd[1], 1, 20000);
        if (conn >= 0)
            close(conn);
        return 0;
    }
    printf("none\n");
    return 0;
}

/* Connects, 5 s at most; prints "connected" or the errno's name. */
static int
connect_to(int family, const struct sockaddr *addr, socklen_t len)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval five = {.tv_sec = 5};

    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &five, sizeof(five));
    if (connect(fd, addr, len) == -1)
        printf("%s\n", strerrorname_np(errno));
    else
        printf("connected\n");
    close(fd);
    return 0;
}

static int
tcp_connect(const char *ip, const char *port)
{
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons(atoi(port))};

    inet_pton(AF_INET, ip, &addr.sin_addr);
    return connect_to(AF_INET, (struct sockaddr *)&addr, sizeof(addr));
}

/* An abstract unix socket: a name in the network namespace, no file. */
static int
unix_connect(const char *name)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};

    snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1, "%s", name);
    return connect_to(AF_UNIX, (struct sockaddr *)&addr,
                      offsetof(struct sockaddr_un, sun_path) + 1 +
                          strlen(name));
}

static int
print_ipaddr(const char *dev, int wait)
{
    struct ifreq ifr = {.ifr_addr.sa_family = AF_INET};
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    char buf[64];

    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
    if (ioctl(fd, SIOCGIFADDR, &ifr) == -1) {
        printf("%s\n", strerrorname_np(errno));
        return 1;
    }
    printf("%s\n", inet_ntoa(((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr));
    fflush(stdout);
    while (wait && read(0, buf, sizeof(buf)) > 0)
        ;
    return 0;
}

/*
 * Both processes carry their name before "ready": the check looks for them
 * by name as soon as it reads that line, and must not miss one.
 */
static int
sleeper_tree(void)
{
    prctl(PR_SET_NAME, "probe-sleeper");
    fflush(stdout);
    if (fork() == 0)
        sleeper();
    printf("ready\n");
    fflush(stdout);
    sleeper();
}

/* The lines of /proc/self/FILE, their fields single-spaced, joined by ",". */
static void
print_map(const char *file)
{
    char path[64], line[128];
    unsigned long inside, outside, count;
    const char *sep = "";
    FILE *f;

    snprintf(path, sizeof(path), "/proc/self/%s", file);
    f = fopen(path, "re");
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "%lu %lu %lu", &inside, &outside, &count) == 3) {
            printf("%s%lu %lu %lu", sep, inside, outside, count);
            sep = ",";
        }
    if (f)
        fclose(f);
}

/* "UID GID|UID_MAP|GID_MAP": who the probe is, and how its ids map. */
static int
print_ids(void)
{
    printf("%u %u|", (unsigned)getuid(), (unsigned)getgid());
    print_map("uid_map");
    printf("|");
    print_map("gid_map");
    printf("\n");
    return 0;
}

/*
 * A process the check can find from outside by its name while it runs,
 * after it made PATH: it holds until stdin closes. The name comes before
 * "ready", so that the check finds it as soon as it reads that line.
 */
static int
hold(const char *path)
{
    char buf[64];
    int fd;

    if (path) {
        fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
        if (fd == -1)
            return printf("%s\n", strerrorname_np(errno)) < 0;
        close(fd);
    }
    prctl(PR_SET_NAME, "probe-holder");
    printf("ready\n");
    fflush(stdout);
    while (read(0, buf, sizeof(buf)) > 0)
        ;
    return 0;
}

static int
print_owner(const char *path)
{
    struct stat st;

    if (lstat(path, &st) == -1)
        return printf("%s\n", strerrorname_np(errno)) < 0;
    return printf("%u:%u\n", (unsigned)st.st_uid, (unsigned)st.st_gid) < 0;
}

/*
 * A block device node with loop0's numbers, 7:0: making it is all that
 * is tried. It is never opened, and is removed at once.
 */
static int
make_node(const char *path)
{
    if (mknod(path, S_IFBLK | 0600, makedev(7, 0)) == -1)
        return printf("%s\n", strerrorname_np(errno)) < 0;
    unlink(path);
    return printf("ok\n") < 0;
}

/*
 * mount(2) MS_REMOUNT|MS_BIND with no other flag asks for the mount's own
 * flags to be cleared: read-write, suid, dev. The kernel refuses
 * (EPERM) to clear a flag a copy into a less privileged mount namespace
 * locked.
 */
static int
remount_clear(const char *path)
{
    if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND, NULL) == -1)
        printf("%s\n", strerrorname_np(errno));
    else
        printf("ok\n");
    return 0;
}

/*
 * A write that leaves nothing behind where it succeeds: O_TMPFILE makes
 * an inode in DIR's filesystem that has no name and goes on close. A
 * filesystem without O_TMPFILE (9p) gets a named file, removed at once.
 */
static int
write_unnamed(const char *dir)
{
    char path[PATH_MAX];
    int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);

    if (fd == -1 && errno == EOPNOTSUPP) {
        snprintf(path, sizeof(path), "%s/.probe-unnamed-%d", dir, getpid());
        fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
        if (fd != -1)
            unlink(path);
    }
    if (fd == -1 || write(fd, "probe\n", 6) != 6)
        return printf("%s\n", strerrorname_np(errno)) < 0;
    close(fd);
    return printf("ok\n") < 0;
}

/*
 * open_by_handle_at(2) opens a file by the handle name_to_handle_at(2)
 * gave, on the filesystem of the mount given, wherever the file is: no
 * path, so no root directory, stands in the way. The kernel asks for
 * CAP_DAC_READ_SEARCH in the host's user namespace. Read-only, and
 * without O_DIRECTORY: since Linux 6.10 that flag lets a namespace's root
 * decode handles below its own mounts, another question.
 */
static int
open_handle(const char *spec, const char *mount)
{
    const char *hex = strchr(spec, ':');
    struct file_handle *fh = malloc(sizeof(*fh) + MAX_HANDLE_SZ);
    unsigned int n = 0;
    int root, fd;

    if (!hex || !fh)
        return usage();
    fh->handle_type = atoi(spec);
    for (hex++; isxdigit(hex[0]) && isxdigit(hex[1]) && n < MAX_HANDLE_SZ;
         hex += 2)
        sscanf(hex, "%2hhx", &fh->f_handle[n++]);
    if (*hex)
        return usage();
    fh->handle_bytes = n;
    root = open(mount ? mount : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    fd = open_by_handle_at(root, fh, O_RDONLY | O_CLOEXEC);
    free(fh);
    if (fd == -1)
        return printf("%s\n", strerrorname_np(errno)) < 0;
    close(fd);
    return printf("ok\n") < 0;
}

/*
 * finit_module(2) of an empty file: nothing can load from it. The kernel
 * checks CAP_SYS_MODULE (in the host's user namespace) first, EPERM,
 * then the module's contents: ENOEXEC or EINVAL. ENOSYS: a kernel
 * without module support.
 */
static int
finit_empty(void)
{
    int fd = memfd_create("probe-empty", MFD_CLOEXEC);

    if (fd == -1)
        return printf("%s\n", strerrorname_np(errno)) < 0;
    if (syscall(SYS_finit_module, fd, "", 0) == 0)
        return printf("loaded\n") < 0;
    return printf("%s\n", strerrorname_np(errno)) < 0;
}

/* keyctl(2) KEYCTL_READ: the payload of key SERIAL, if it may be read. */
static int
key_read(const char *serial)
{
    char buf[256];
    long n = syscall(SYS_keyctl, KEYCTL_READ, (int32_t)atol(serial), buf,
                     sizeof(buf) - 1);

    if (n == -1)
        return printf("%s\n", strerrorname_np(errno)) < 0;
    buf[n < (long)sizeof(buf) - 1 ? n : (long)sizeof(buf) - 1] = '\0';
    return printf("%s\n", buf) < 0;
}

/*
 * The effective capability set, read with libcap (cap_get_proc(3)),
 * against every capability this kernel has: 0 to cap_last_cap.
 */
static int
print_caps(void)
{
    FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
    cap_t caps = cap_get_proc();
    cap_flag_value_t value;
    int last = -1, missing = 0;

    if (!f || fscanf(f, "%d", &last) != 1 || !caps)
        return printf("%s\n", strerrorname_np(errno)) < 0;
    fclose(f);
    for (int cap = 0; cap <= last; cap++)
        if (cap_get_flag(caps, cap, CAP_EFFECTIVE, &value) == -1 ||
            value != CAP_SET) {
            char *name = cap_to_name(cap);

            printf("%s%s", missing++ ? " " : "missing ", name ? name : "?");
            cap_free(name);
        }
    cap_free(caps);
    printf("%s\n", missing ? "" : "full");
    return 0;
}

static int
compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The paths of /proc/self/cgroup ("ID:CONTROLLERS:PATH"), each once. */
static int
print_cgroups(void)
{
    char line[4096], *paths[64];
    size_t n = 0;
    FILE *f = fopen("/proc/self/cgroup", "re");

    if (!f)
        return printf("%s\n", strerrorname_np(errno)) < 0;
    while (n < 64 && fgets(line, sizeof(line), f)) {
        char *path =
            strchr(line, ':') ? strchr(strchr(line, ':') + 1, ':') : NULL;

        if (path)
            paths[n++] = strndup(path + 1, strcspn(path + 1, "\n"));
    }
    fclose(f);
    qsort(paths, n, sizeof(paths[0]), compare_strings);
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(paths[i], paths[i - 1]))
            printf("%s%s", i ? " " : "", paths[i]);
    printf("\n");
    return 0;
}

/*
 * A bounded fork loop: each child blocks on a pipe until the probe
 * closes its end, so all of them exist at once; at most N, and never
 * more than 1024. Then every child is released and reaped.
 */
static int
fork_upto(const char *arg)
{
    int n = atoi(arg), count = 0, err = 0, p[2];
    char c;

    if (n < 1 || n > 1024 || pipe2(p, O_CLOEXEC) == -1)
        return usage();
    fflush(NULL);
    while (count < n) {
        pid_t pid = fork();

        if (pid == -1) {
            err = errno;
            break;
        }
        if (pid == 0) {
            close(p[1]);
            _exit(read(p[0], &c, 1) == -1);
        }
        count++;
    }
    close(p[1]);
    while (wait(NULL) > 0 || errno == EINTR)
        ;
    if (err)
        return printf("%d %s\n", count, strerrorname_np(err)) < 0;
    return printf("%d\n", count) < 0;
}

/* Allocates and touches MIB MiB: memory that counts, not just reserved. */
static int
alloc_touch(const char *arg)
{
    long mib = atol(arg);
    size_t len = (size_t)mib << 20;
    char *mem = mib > 0 && mib <= 4096 ? malloc(len) : NULL;

    if (mib < 1 || mib > 4096)
        return usage();
    if (!mem)
        return printf("ENOMEM\n") < 0;
    for (size_t i = 0; i < len; i += 4096)
        mem[i] = 1;
    free(mem);
    return printf("ok\n") < 0;
}

static double
now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Spins for seconds of wall time, on one CPU if asked. */
static int
busy(const char *arg, const char *cpu)
{
    double seconds = atof(arg), end = now_seconds() + seconds;
    volatile unsigned long spins = 0;
    cpu_set_t set;

    if (seconds < 1 || seconds > 10)
        return usage();
    if (cpu) {
        CPU_ZERO(&set);
        CPU_SET(atoi(cpu), &set);
        if (sched_setaffinity(0, sizeof(set), &set) == -1)
            return printf("%s\n", strerrorname_np(errno)) < 0;
    }
    while (now_seconds() < end)
        for (int i = 0; i < 100000; i++)
            spins++;
    return printf("ok\n") < 0;
}

/* A counter a check can watch stop (frozen) and go on (thawed). */
static int
tick(void)
{
    struct pollfd in = {.fd = STDIN_FILENO, .events = POLLIN};

    setvbuf(stdout, NULL, _IOLBF, 0);
    for (unsigned long n = 1;; n++) {
        printf("%lu\n", n);
        if (poll(&in, 1, 50) != 0)
            return 0; /* stdin closed (or readable): done */
    }
}

/* A cgroup filesystem of the probe's own, read-write, and one write. */
static int
cgroup_write(const char *type, const char *opts, const char *file,
             const char *value)
{
    char path[PATH_MAX];
    int fd, err = 0;

    if (mkdir("/tmp/cg", 0755) == -1 && errno != EEXIST)
        return printf("mkdir %s\n", strerrorname_np(errno)) < 0;
    if (mount("cgroup", "/tmp/cg", type, 0, strcmp(opts, "-") ? opts : NULL))
        return printf("mount %s\n", strerrorname_np(errno)) < 0;
    snprintf(path, sizeof(path), "/tmp/cg/%s", file);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd == -1 || write(fd, value, strlen(value)) == -1)
        err = errno;
    if (fd != -1)
        close(fd);
    umount2("/tmp/cg", MNT_DETACH);
    return printf("%s\n", err ? strerrorname_np(err) : "ok") < 0;
}

int
main(int argc, char *argv[])
{
    const char *cmd = argc > 1 ? argv[1] : "";
    const char *arg = argc > 2 ? argv[2] : NULL;
    const char *arg2 = argc > 3 ? argv[3] : NULL;

    if (!strcmp(cmd, "hostname") || !strcmp(cmd, "domainname"))
        return print_names(cmd[0] == 'd', NULL);
    if ((!strcmp(cmd, "sethostname") || !strcmp(cmd, "setdomainname")) && arg)
        return print_names(cmd[3] == 'd', arg);
    if (!strcmp(cmd, "pid") || !strcmp(cmd, "ppid"))
        return printf("%d\n", cmd[0] == 'p' && cmd[1] == 'i' ? getpid()
                                                             : getppid()) < 0;
    if (!strcmp(cmd, "ns") && arg)
        return print_ns(arg);
    if (!strncmp(cmd, "ipc-", 4) && arg && arg2)
        return ipc(cmd, arg, arg2);
    if (!strncmp(cmd, "mq-", 3) && arg)
        return mq(cmd, arg);
    if (!strcmp(cmd, "kill") && arg && arg2)
        return do_kill(arg, arg2);
    if (!strcmp(cmd, "exit") && arg)
        return atoi(arg);
    if (!strcmp(cmd, "raise") && arg)
        return do_raise(arg);
    if (!strcmp(cmd, "env")) {
        for (char **e = environ; *e; e++)
            printf("%s\n", *e);
        return 0;
    }
    if (!strcmp(cmd, "fds"))
        return print_fds();
    if (!strcmp(cmd, "wait-signal"))
        return wait_signal();
    if (!strcmp(cmd, "count-int"))
        return count_int();
    if (!strcmp(cmd, "orphan"))
        return orphan();
    if (!strcmp(cmd, "sleeper"))
        sleeper();
    if (!strcmp(cmd, "sleeper-tree"))
        return sleeper_tree();
    if (!strcmp(cmd, "mount-tmpfs") && arg) {
        if (mount("boxstep-probe", arg, "tmpfs", 0, NULL) == -1)
            return printf("%s\n", strerrorname_np(errno)) < 0;
        return printf("mounted\n") < 0;
    }
    if (!strcmp(cmd, "reach") && arg && arg2)
        return reach(arg, arg2);
    if (!strcmp(cmd, "pids"))
        return list_dir("/proc", 1);
    if (!strcmp(cmd, "ls") && arg)
        return list_dir(arg, 0);
    if (!strcmp(cmd, "mountflags") && arg)
        return mountflags(arg);
    if (!strcmp(cmd, "has-mount") && arg)
        return has_mount(arg);
    if (!strcmp(cmd, "sees-mount") && arg)
        return sees_mount(arg);
    if (!strcmp(cmd, "write") && arg)
        return write_file(arg);
    if (!strcmp(cmd, "rm") && arg)
        return remove_file(arg);
    if (!strcmp(cmd, "umask"))
        return print_umask();
    if (!strcmp(cmd, "ifaces"))
        return print_ifaces();
    if (!strcmp(cmd, "routes"))
        return print_routes();
    if (!strcmp(cmd, "listen") && arg)
        return listen_once(arg);
    if (!strcmp(cmd, "connect") && arg && arg2)
        return tcp_connect(arg, arg2);
    if (!strcmp(cmd, "unix-connect") && arg)
        return unix_connect(arg);
    if (!strcmp(cmd, "ipaddr") && arg)
        return print_ipaddr(arg, arg2 != NULL);
    if (!strcmp(cmd, "ids"))
        return print_ids();
    if (!strcmp(cmd, "hold"))
        return hold(arg);
    if (!strcmp(cmd, "owner") && arg)
        return print_owner(arg);
    if (!strcmp(cmd, "mknod") && arg)
        return make_node(arg);
    if (!strcmp(cmd, "open-handle") && arg)
        return open_handle(arg, arg2);
    if (!strcmp(cmd, "remount") && arg)
        return remount_clear(arg);
    if (!strcmp(cmd, "write-unnamed") && arg)
        return write_unnamed(arg);
    if (!strcmp(cmd, "finit-module"))
        return finit_empty();
    if (!strcmp(cmd, "key-read") && arg)
        return key_read(arg);
    if (!strcmp(cmd, "caps"))
        return print_caps();
    if (!strcmp(cmd, "cgroup"))
        return print_cgroups();
    if (!strcmp(cmd, "fork-upto") && arg)
        return fork_upto(arg);
    if (!strcmp(cmd, "alloc") && arg)
        return alloc_touch(arg);
    if (!strcmp(cmd, "busy") && arg)
        return busy(arg, arg2);
    if (!strcmp(cmd, "tick"))
        return tick();
    if (!strcmp(cmd, "cgroup-write") && argc == 6)
        return cgroup_write(arg, arg2, argv[4], argv[5]);
    return usage();
}
