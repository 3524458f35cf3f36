/*
 * suite-06-user.c: step 06 gives the container a user namespace of its
 * own. Root inside is an unprivileged uid outside: each property holds on
 * 06 and later, and the same check shows the leak on 05, whose root is
 * the sandbox's root. Capabilities, --verbose, the map options and their
 * errors are behaviours of 06 on.
 *
 * The --no-idmap fallback (the rootfs's shifted copy, one host range that
 * every such container shares) passes the same properties: each has a
 * twin, NAME_no_idmap, that runs the step with --no-idmap from 06 on. Its
 * control on 05, which has no such option, runs the plain check.
 *
 * Nothing here touches the machine: keys go into a session keyring the
 * check makes for itself, /etc/subuid is replaced only in the sandbox's
 * mount namespace, the user namespace limit is set only in a user
 * namespace of the check's own, and no module is ever loaded.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* ---- running the step: with --no-idmap for a twin ---- */

/* Set by a _no_idmap twin: its check runs in a process of its own. */
static bool no_idmap;

/*
 * The step's command line: STEP, then --no-idmap for a twin from step 06
 * on, then args. One buffer: each call replaces the last command line.
 */
static char *const *
box(const char *step, char *const args[])
{
    static char *argv[64];
    size_t n = 0;

    argv[n++] = STEP;
    if (no_idmap && atoi(step) >= 6)
        argv[n++] = "--no-idmap";
    for (size_t i = 0; args[i] && n < 63; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    return argv;
}

#define BOX(...) box(step, ARGV(__VA_ARGS__))

/* A property's twin that checks the --no-idmap fallback. */
#define NO_IDMAP_TWIN(check) \
    static bool check##_no_idmap(const char *step) \
    { \
        no_idmap = true; \
        return check(step); \
    }

/* ---- small helpers ---- */

/*
 * The host id that id 0 inside stands for, from a map's lines ("0 1114112
 * 65536", as uid_map shows them, or joined by "," as probe ids prints
 * them); -1 when no line maps 0. Only a line that starts at 0 can.
 */
static long
root_host_id(const char *map)
{
    unsigned long v[3];
    const char *s = map;
    char *end;

    for (;;) {
        for (int i = 0; i < 3; i++) {
            while (*s == ' ' || *s == '\t' || *s == '\n' || *s == ',')
                s++;
            if (!isdigit((unsigned char)*s))
                return -1;
            v[i] = strtoul(s, &end, 10);
            s = end;
        }
        if (v[0] == 0)
            return (long)v[1];
    }
}

/* A small file, whole. */
static void
read_text(const char *path, char *buf, size_t len)
{
    ssize_t n = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd == -1 || (n = read(fd, buf, len - 1)) < 0)
        fail_check("cannot read %s: %s", path, strerror(errno));
    buf[n] = '\0';
    close(fd);
}

/* A small file of /proc/PID, whole. */
static void
read_proc(pid_t pid, const char *file, char *buf, size_t len)
{
    char path[64];

    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
    read_text(path, buf, len);
}

/*
 * A directory for a volume, in the sandbox's private /run, that anyone
 * may write: root inside writes there as its mapped host uid.
 */
static void
make_volume_dir(char *dir, size_t len, const char *name)
{
    snprintf(dir, len, "%s/%s", getenv("TMPDIR"), name);
    if (mkdir(dir, 0777) == -1 || chmod(dir, 0777) == -1)
        fail_check("cannot make %s: %s", dir, strerror(errno));
}

static void
remove_volume_dir(const char *dir)
{
    char file[PATH_MAX];

    snprintf(file, sizeof(file), "%s/owned", dir);
    unlink(file);
    if (rmdir(dir) == -1)
        fail_check("cannot remove %s: %s", dir, strerror(errno));
}

/*
 * A container whose probe holds (probe hold) until the check is done with
 * it, found by its name among the sandbox's processes.
 */
struct holder {
    struct proc p; /* the runtime */
    pid_t pid; /* the probe-holder, as the sandbox numbers it */
};

/* Whether ancestor is pid's parent, grandparent, and so on. */
static bool
descends_from(pid_t pid, pid_t ancestor)
{
    for (int i = 0; i < 8 && pid > 1; i++)
        if ((pid = host_ppid(pid)) == ancestor)
            return true;
    return false;
}

/* The probe-holder below the runtime: another container may hold too. */
static pid_t
holder_of(pid_t runtime)
{
    char path[300], name[32];
    struct dirent *e;
    DIR *d = opendir("/proc");
    pid_t found = -1;

    while (d && found == -1 && (e = readdir(d))) {
        pid_t pid = atoi(e->d_name);
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
        if (pid <= 1 || !(f = fopen(path, "re")))
            continue;
        if (fgets(name, sizeof(name), f) &&
            strcmp(trim(name), "probe-holder") == 0 &&
            descends_from(pid, runtime))
            found = pid;
        fclose(f);
    }
    if (d)
        closedir(d);
    return found;
}

/*
 * Starts a holder; with a volume directory, it first makes the file
 * "owned" in it. From step 04 the directory is a --volume on /mnt; before
 * 04 the container shares the sandbox's files, and the probe finds it at
 * its own path (as the harness does the probe itself).
 */
static void
start_holder(const char *step, struct holder *h, const char *volume)
{
    struct run_opts opts = {.keep_stdin = true};
    char spec[PATH_MAX + 8], file[PATH_MAX + 8];
    const char *line;

    snprintf(spec, sizeof(spec), "%s:/mnt", volume ? volume : "");
    snprintf(file, sizeof(file), "%s/owned", volume ? volume : "");
    if (volume && atoi(step) >= 4)
        spawn(&h->p, &opts, BOX("--volume", spec, PROBE, "hold", "/mnt/owned"));
    else if (volume)
        spawn(&h->p, &opts, BOX(PROBE, "hold", file));
    else
        spawn(&h->p, &opts, BOX(PROBE, "hold"));
    if (!(line = read_line(&h->p, 10000)) || strcmp(line, "ready"))
        fail_check("probe hold did not start: %s %s", line ? line : "",
                   h->p.err);
    if ((h->pid = holder_of(h->p.pid)) == -1)
        fail_check("no probe-holder below the runtime %d", (int)h->p.pid);
}

static void
stop_holder(struct holder *h)
{
    if (finish(&h->p, 10000) != 0)
        fail_check("the holder's container exited %d: %s", h->p.status,
                   h->p.err);
}

/* ---- properties ---- */

/* The probe's user namespace is not the sandbox's. */
static bool
user_ns(const char *step)
{
    char outside[64];

    if (ns_id(getpid(), "user", outside, sizeof(outside)) == -1)
        fail_check("cannot read the sandbox's user namespace");
    return strcmp(answer(BOX(PROBE, "ns", "user")), outside) != 0;
}

/*
 * Inside, the probe is root (uid and gid 0), and /proc/self/uid_map maps
 * that root to a host uid that is not root. On 05 the container is in the
 * host's user namespace, whose map is the identity, 0 0 4294967295.
 */
static bool
uid_mapped(const char *step)
{
    char ids[OUT_MAX], *uid_map, *bar;
    long root;

    snprintf(ids, sizeof(ids), "%s", answer(BOX(PROBE, "ids")));
    if (strncmp(ids, "0 0|", 4) != 0 || !(bar = strchr(ids + 4, '|')))
        fail_check("inside, the probe is not root: probe ids said '%s'", ids);
    uid_map = ids + 4;
    *bar = '\0';
    if ((root = root_host_id(uid_map)) == -1)
        fail_check("uid_map inside maps no root: '%s'", uid_map);
    return root != 0;
}

/*
 * From outside, a process of the container runs as the host ids its
 * namespace maps root to (Uid and Gid of /proc/PID/status: real,
 * effective, saved and filesystem ids); returns whether those are not
 * root's.
 */
static bool
runs_as_mapped_root(pid_t pid)
{
    static const char *const fields[][2] = {{"Uid:", "uid_map"},
                                            {"Gid:", "gid_map"}};
    char status[4096], map[1024];
    bool unprivileged = true;

    read_proc(pid, "status", status, sizeof(status));
    for (size_t i = 0; i < 2; i++) {
        const char *line = strstr(status, fields[i][0]);
        unsigned long id[4];
        long root;

        read_proc(pid, fields[i][1], map, sizeof(map));
        root = root_host_id(map);
        if (!line || sscanf(line + 4, "%lu %lu %lu %lu", &id[0], &id[1], &id[2],
                            &id[3]) != 4)
            fail_check("no %s line in /proc/%d/status", fields[i][0], pid);
        for (size_t j = 0; j < 4; j++)
            if ((long)id[j] != root)
                fail_check("process %d: %s %lu %lu %lu %lu, not the host id "
                           "%ld its %s gives root",
                           pid, fields[i][0], id[0], id[1], id[2], id[3], root,
                           fields[i][1]);
        unprivileged &= root != 0;
    }
    return unprivileged;
}

/*
 * Outside, the container's processes (the probe and the container's init
 * above it) run as the mapped host uid and gid, not as root. On 05 they
 * run as root: an escape would own the host.
 */
static bool
host_ids(const char *step)
{
    struct holder h;
    bool probe, init;

    start_holder(step, &h, NULL);
    probe = runs_as_mapped_root(h.pid);
    init = runs_as_mapped_root(host_ppid(h.pid));
    stop_holder(&h);
    if (probe != init)
        fail_check("the probe %s root outside, its init %s",
                   probe ? "is not" : "is", init ? "is not" : "is");
    return probe;
}

/*
 * A file root makes inside a rw volume is owned, on the host, by the host
 * uid root is mapped to: the volume is not idmapped. On 05, by root.
 */
static bool
volume_owner(const char *step)
{
    char dir[PATH_MAX], file[PATH_MAX + 8], map[1024];
    struct holder h;
    struct stat st;
    long root;

    make_volume_dir(dir, sizeof(dir), "volume");
    start_holder(step, &h, dir);
    read_proc(h.pid, "uid_map", map, sizeof(map));
    root = root_host_id(map);
    snprintf(file, sizeof(file), "%s/owned", dir);
    if (stat(file, &st) == -1)
        fail_check("the container made no %s: %s", file, strerror(errno));
    stop_holder(&h);
    remove_volume_dir(dir);
    if ((long)st.st_uid != root)
        fail_check("the volume's file is owned by %u, not by %ld, the host "
                   "uid of root inside",
                   (unsigned)st.st_uid, root);
    return st.st_uid != 0;
}

/*
 * mknod(2) of a block device is refused, full capabilities or not: a
 * device node would reach the host's devices, so the kernel asks for
 * CAP_MKNOD in the host's user namespace. On 05 it is made (on the
 * container's /tmp tmpfs; the probe removes it at once).
 */
static bool
mknod_refused(const char *step)
{
    const char *reply = answer(BOX(PROBE, "mknod", "/tmp/boxstep-blk"));

    if (strcmp(reply, "ok") && strcmp(reply, "EPERM"))
        fail_check("probe mknod said '%s', neither ok nor EPERM", reply);
    return strcmp(reply, "EPERM") == 0;
}

/*
 * open_by_handle_at(2) opens a file by its handle, ignoring the root
 * directory: the classic container escape (shocker). The check takes the
 * handle of the build directory, outside the container's root but on the
 * rootfs's filesystem, and the probe opens it read-only through the
 * mount of /. On 05 root has CAP_DAC_READ_SEARCH on the host: it opens.
 * Nothing is written.
 */
static bool
open_by_handle_refused(const char *step)
{
    struct file_handle *fh = malloc(sizeof(*fh) + MAX_HANDLE_SZ);
    char rootfs[PATH_MAX], spec[2 * MAX_HANDLE_SZ + 16];
    struct stat dir, root;
    const char *reply;
    int mount_id;
    size_t n;

    if (!fh)
        fail_check("out of memory");
    snprintf(rootfs, sizeof(rootfs), "%s/rootfs", build_dir());
    if (stat(build_dir(), &dir) == -1 || stat(rootfs, &root) == -1 ||
        dir.st_dev != root.st_dev)
        fail_check("%s is not on the filesystem of %s", build_dir(), rootfs);
    fh->handle_bytes = MAX_HANDLE_SZ;
    if (name_to_handle_at(AT_FDCWD, build_dir(), fh, &mount_id, 0) == -1) {
        if (errno == EOPNOTSUPP)
            skip_check("%s's filesystem gives no file handles", build_dir());
        fail_check("name_to_handle_at(%s): %s", build_dir(), strerror(errno));
    }
    n = snprintf(spec, sizeof(spec), "%d:", fh->handle_type);
    for (unsigned int i = 0; i < fh->handle_bytes; i++)
        n += snprintf(spec + n, sizeof(spec) - n, "%02x", fh->f_handle[i]);
    free(fh);
    /* Before 04 the probe's / is the sandbox's: the build dir's mount. */
    reply = answer(BOX(PROBE, "open-handle", spec,
                       atoi(step) < 4 ? (char *)build_dir() : "/"));
    if (strcmp(reply, "ok") && strcmp(reply, "EPERM"))
        fail_check("probe open-handle said '%s', neither ok nor EPERM", reply);
    return strcmp(reply, "EPERM") == 0;
}

/*
 * finit_module(2) is refused (EPERM): loading a module needs
 * CAP_SYS_MODULE on the host. An empty file never loads, so on 05 the
 * kernel gets past that check and refuses the contents (ENOEXEC or
 * EINVAL): no module is ever loaded. A kernel without modules gives
 * ENOSYS on both, and one with modules disabled EPERM on both: skips.
 */
static bool
finit_module_refused(const char *step)
{
    char disabled[8] = "0";
    FILE *f = fopen("/proc/sys/kernel/modules_disabled", "re");
    const char *reply;

    if (f && !fgets(disabled, sizeof(disabled), f))
        disabled[0] = '0';
    if (f)
        fclose(f);
    if (disabled[0] == '1')
        skip_check("kernel.modules_disabled is 1: finit_module(2) gives "
                   "EPERM even to the host's root");
    reply = answer(BOX(PROBE, "finit-module"));
    if (strcmp(reply, "ENOSYS") == 0)
        skip_check("this kernel has no module support (CONFIG_MODULES=n): "
                   "finit_module(2) gives ENOSYS");
    if (strcmp(reply, "EPERM") && strcmp(reply, "ENOEXEC") &&
        strcmp(reply, "EINVAL"))
        fail_check("probe finit-module said '%s'", reply);
    return strcmp(reply, "EPERM") == 0;
}

/*
 * A key in the caller's session keyring cannot be read inside: the
 * container joins a session keyring of its own. (The user namespace alone
 * does not hide it: a process possesses the keys of the session keyring
 * it inherited, whatever its uid.) The check makes a fresh session keyring for
 * itself first, so the machine's keyrings are untouched, and invalidates the
 * key at the end. On 05 the container reads the key.
 */
static bool
keyring_private(const char *step)
{
    static const char secret[] = "boxstep-secret";
    char serial[24], mine[64] = "";
    struct proc p;
    long key;

    if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) == -1 ||
        (key = syscall(SYS_add_key, "user", "boxstep-test", secret,
                       strlen(secret), KEY_SPEC_SESSION_KEYRING)) == -1)
        fail_check("cannot add a key to a session keyring: %s",
                   strerror(errno));
    if (syscall(SYS_keyctl, KEYCTL_READ, key, mine, sizeof(mine) - 1) !=
            (long)strlen(secret) ||
        strcmp(mine, secret))
        fail_check("the check cannot read its own key %ld", key);
    snprintf(serial, sizeof(serial), "%ld", key);
    run(&p, BOX(PROBE, "key-read", serial));
    syscall(SYS_keyctl, KEYCTL_INVALIDATE, key);
    if (p.status != 0)
        fail_check("probe key-read: status %d: %s", p.status, p.err);
    trim(p.out);
    if (strcmp(p.out, secret) && p.out[0] != 'E')
        fail_check("probe key-read said '%s'", p.out);
    return strcmp(p.out, secret) != 0;
}

/*
 * The rootfs refuses writes (EROFS) until step 08 gives each container a
 * layer of its own: through the idmapped mount a write would land in the
 * shared image as host root. The probe writes a file with no name
 * (O_TMPFILE), so that where the write succeeds, on 05 in build/rootfs,
 * nothing is left.
 */
static bool
rootfs_readonly(const char *step)
{
    const char *reply = answer(BOX(PROBE, "write-unnamed", "/"));

    if (strcmp(reply, "ok") && strcmp(reply, "EROFS"))
        fail_check("probe write-unnamed / said '%s'", reply);
    return strcmp(reply, "EROFS") == 0;
}

/* "EPERM": the remount was refused; "ok": it was made. */
static bool
remount_refused(const char *reply)
{
    if (strcmp(reply, "ok") && strcmp(reply, "EPERM"))
        fail_check("probe remount said '%s'", reply);
    return strcmp(reply, "EPERM") == 0;
}

/*
 * The rootfs is nosuid and nodev (the flags statvfs(3) gives for /): no
 * setuid file or device node in the shared image acts. On 05 it has
 * neither flag.
 */
static bool
rootfs_nosuid_nodev(const char *step)
{
    char flags[256];

    snprintf(flags, sizeof(flags), " %s ",
             answer(BOX(PROBE, "mountflags", "/")));
    return strstr(flags, " nosuid ") && strstr(flags, " nodev ");
}

/*
 * Root inside cannot take those flags off again: remounting / read-write,
 * suid and dev is refused (EPERM), as the flags came locked with the
 * copy of the runtime's mount namespace. On 05 the remount succeeds (in
 * the container's own mount namespace; / was read-write already).
 */
static bool
rootfs_flags_locked(const char *step)
{
    return remount_refused(answer(BOX(PROBE, "remount", "/")));
}

/*
 * A read-only volume stays so: remounting it read-write is refused. On
 * 05 it succeeds, in the container's mount namespace. Before step 04
 * there are no volumes: the probe directory the sandbox binds on /srv
 * stands in for one.
 */
static bool
volume_ro_locked(const char *step)
{
    char spec[PATH_MAX + 8];

    if (atoi(step) < 4)
        return remount_refused(answer(BOX(PROBE, "remount", PROBE_DIR)));
    snprintf(spec, sizeof(spec), "%s:/mnt:ro", build_dir());
    return remount_refused(
        answer(BOX("--volume", spec, PROBE, "remount", "/mnt")));
}

/*
 * Two containers at once, each writing into a volume of its own: their
 * files belong to two different host uids, neither root. So a process
 * escaping one container owns nothing of the other's. On 05 both are
 * root's. Every --no-idmap container shares the shifted copy's range: the
 * twin skips there, once it has seen that one shared, non-root uid.
 */
static bool
ranges_differ(const char *step)
{
    char dirs[2][PATH_MAX], file[PATH_MAX + 8];
    struct holder h[2];
    uid_t owner[2];

    for (int i = 0; i < 2; i++) {
        struct stat st;

        make_volume_dir(dirs[i], sizeof(dirs[i]), i ? "volume-b" : "volume-a");
        start_holder(step, &h[i], dirs[i]);
        snprintf(file, sizeof(file), "%s/owned", dirs[i]);
        if (stat(file, &st) == -1)
            fail_check("the container made no %s", file);
        owner[i] = st.st_uid;
    }
    for (int i = 0; i < 2; i++) {
        stop_holder(&h[i]);
        remove_volume_dir(dirs[i]);
    }
    if (owner[0] == 0 || owner[1] == 0)
        return false;
    if (owner[0] == owner[1] && no_idmap && atoi(step) >= 6)
        skip_check("--no-idmap: both owned by %u, the shifted copy's range, "
                   "which every such container shares by design",
                   (unsigned)owner[0]);
    return owner[0] != owner[1];
}

NO_IDMAP_TWIN(user_ns)
NO_IDMAP_TWIN(uid_mapped)
NO_IDMAP_TWIN(host_ids)
NO_IDMAP_TWIN(volume_owner)
NO_IDMAP_TWIN(mknod_refused)
NO_IDMAP_TWIN(open_by_handle_refused)
NO_IDMAP_TWIN(finit_module_refused)
NO_IDMAP_TWIN(keyring_private)
NO_IDMAP_TWIN(rootfs_readonly)
NO_IDMAP_TWIN(rootfs_nosuid_nodev)
NO_IDMAP_TWIN(rootfs_flags_locked)
NO_IDMAP_TWIN(volume_ro_locked)
NO_IDMAP_TWIN(ranges_differ)

/* ---- behaviours ---- */

/*
 * Root inside has the full effective set, as libcap reads it: every
 * capability up to the kernel's cap_last_cap. It acts only on what the
 * container's namespaces own (the properties above). Step 10 cuts it.
 */
static void
caps_full(const char *step)
{
    const char *reply = answer(BOX(PROBE, "caps"));

    if (strcmp(reply, "full"))
        fail_check("the effective set inside is not full: %s", reply);
}

static void
caps_full_no_idmap(const char *step)
{
    no_idmap = true;
    caps_full(step);
}

/*
 * The rootfs, seen inside, still belongs to root: through the idmapped
 * mount, or in the shifted copy. Without either it would show as nobody
 * (65534), host root being unmapped in the container's namespace.
 */
static void
rootfs_root_owned(const char *step)
{
    const char *reply = answer(BOX(PROBE, "owner", "/bin/busybox"));

    if (strcmp(reply, "0:0"))
        fail_check("/bin/busybox is owned by %s inside, not by root", reply);
}

static void
rootfs_root_owned_no_idmap(const char *step)
{
    no_idmap = true;
    rootfs_root_owned(step);
}

/* A --verbose run, whose trace must say text. */
static void
verbose_says(const char *step, const char *text)
{
    struct proc p;

    if (run(&p, BOX("--verbose", "--net", "none", PROBE, "exit", "0")) != 0)
        fail_check("the --verbose run exited %d: %s", p.status, p.err);
    if (!strstr(p.err, text))
        fail_check("--verbose does not say '%s':\n%s", text, p.err);
}

/* --verbose says how the rootfs is owned, and shows the capabilities. */
static void
verbose_rootfs(const char *step)
{
    verbose_says(step, "rootfs: idmapped by the runtime");
    verbose_says(step, "cap_get_proc() = \"=ep\"");
}

static void
verbose_rootfs_no_idmap(const char *step)
{
    no_idmap = true;
    verbose_says(step, "rootfs: the shifted copy, not idmapped");
}

/*
 * --uidmap and --gidmap replace the default range, in uid_map's order
 * (CONTAINER:HOST:COUNT); one given alone serves for both.
 */
static void
map_options(const char *step)
{
    const char *reply;

    reply = answer(ARGV(STEP, "--uidmap", "0:2000000:65536", PROBE, "ids"));
    if (strcmp(reply, "0 0|0 2000000 65536|0 2000000 65536"))
        fail_check("--uidmap 0:2000000:65536 alone gave '%s'", reply);
    reply = answer(ARGV(STEP, "--uidmap", "0:2000000:1000", "--uidmap",
                        "1000:2100000:1000", "--gidmap", "0:2200000:65536",
                        PROBE, "ids"));
    if (strcmp(reply, "0 0|0 2000000 1000,1000 2100000 1000|0 2200000 65536"))
        fail_check("two --uidmap and a --gidmap gave '%s'", reply);
}

/*
 * A read-write volume root inside may not write to (its owner unmapped,
 * not writable by others) gets a hint up front, and the write inside is
 * indeed refused with EACCES; made writable for others, no hint, and the
 * write succeeds.
 */
static void
volume_hint(const char *step)
{
    char dir[PATH_MAX], spec[PATH_MAX + 8];
    struct proc p;

    make_volume_dir(dir, sizeof(dir), "volume-hint");
    chmod(dir, 0755);
    snprintf(spec, sizeof(spec), "%s:/mnt", dir);
    run(&p,
        BOX("--net", "none", "--volume", spec, PROBE, "write", "/mnt/owned"));
    if (!strstr(p.err, "hint: root inside writes there as host uid") ||
        !strstr(p.err, "EACCES") || strcmp(trim(p.out), "EACCES"))
        fail_check("a volume of host root, mode 0755: wrote '%s', said:\n%s",
                   p.out, p.err);
    chmod(dir, 0777);
    run(&p,
        BOX("--net", "none", "--volume", spec, PROBE, "write", "/mnt/owned"));
    if (strstr(p.err, "hint:") || strcmp(trim(p.out), "ok"))
        fail_check("a volume of mode 0777: wrote '%s', said:\n%s", p.out,
                   p.err);
    remove_volume_dir(dir);
}

/*
 * A --rootfs given as a symbolic link works, as on 05: the runtime follows
 * it where it attaches the rootfs (MOVE_MOUNT_T_SYMLINKS).
 */
static void
rootfs_symlink(const char *step)
{
    char link[PATH_MAX], target[PATH_MAX];
    struct proc p;

    snprintf(link, sizeof(link), "%s/rootfs-link", getenv("TMPDIR"));
    snprintf(target, sizeof(target), "%s/rootfs", build_dir());
    if (symlink(target, link) == -1)
        fail_check("cannot make %s: %s", link, strerror(errno));
    run(&p, BOX("--net", "none", "--rootfs", link, "/bin/true"));
    unlink(link);
    if (p.status != 0)
        fail_check("--rootfs %s (a link) exited %d: %s", link, p.status, p.err);
}

/* Bad maps, and --no-idmap where it cannot work: clear errors, 125. */
static void
map_errors(const char *step)
{
    char rootfs[PATH_MAX];

    expect_exit_125(ARGV(STEP, "--uidmap", "0:2000000:65536", "--uidmap",
                         "100:3000000:10", PROBE, "exit", "0"),
                    "overlaps");
    expect_exit_125(ARGV(STEP, "--uidmap", "0:2000000:100", "--uidmap",
                         "200:2000050:10", PROBE, "exit", "0"),
                    "overlaps");
    expect_exit_125(ARGV(STEP, "--uidmap", "0:2000000:0", PROBE, "exit", "0"),
                    "an empty range");
    expect_exit_125(
        ARGV(STEP, "--uidmap", "0:4294967000:65536", PROBE, "exit", "0"),
        "past the last id");
    expect_exit_125(
        ARGV(STEP, "--gidmap", "1:2000000:65536", PROBE, "exit", "0"),
        "no range maps id 0");
    expect_exit_125(ARGV(STEP, "--uidmap", "0:2000000", PROBE, "exit", "0"),
                    "CONTAINER:HOST:COUNT");
    expect_exit_125(ARGV(STEP, "--no-idmap", "--uidmap", "0:2000000:65536",
                         PROBE, "exit", "0"),
                    "takes no --uidmap");
    /* A rootfs of the user's own has no shifted copy. */
    snprintf(rootfs, sizeof(rootfs), "%s/own-rootfs", getenv("TMPDIR"));
    if (mkdir(rootfs, 0755) == -1)
        fail_check("cannot make %s: %s", rootfs, strerror(errno));
    expect_exit_125(ARGV(STEP, "--no-idmap", "--rootfs", rootfs, "/bin/true"),
                    "shifted copy");
    rmdir(rootfs);
}

/*
 * The default range must not meet a range /etc/subuid or /etc/subgid
 * gives a user (the user's own rootless containers run there). A private
 * copy is bind-mounted over the file, in the sandbox's mount namespace
 * only, with an entry over 1048576-1179647: boxstep's first two ranges.
 * Explicit maps are the way round it.
 */
static void
subid_collision(const char *step)
{
    static const char *const files[] = {"/etc/subuid", "/etc/subgid"};
    char copy[PATH_MAX];
    struct proc p;
    FILE *f;

    snprintf(copy, sizeof(copy), "%s/subid", getenv("TMPDIR"));
    if (!(f = fopen(copy, "we")) ||
        fprintf(f, "boxstep-test:1048576:131072\n") < 0 || fclose(f))
        fail_check("cannot write %s", copy);
    for (size_t i = 0; i < 2; i++) {
        if (mount(copy, files[i], NULL, MS_BIND, NULL) == -1)
            fail_check("cannot bind %s over %s: %s", copy, files[i],
                       strerror(errno));
        expect_exit_125(ARGV(STEP, PROBE, "exit", "0"), files[i]);
        if (run(&p, ARGV(STEP, "--uidmap", "0:2000000:65536", PROBE, "exit",
                         "0")) != 0)
            fail_check("with %s replaced, --uidmap did not run: %s", files[i],
                       p.err);
        if (umount2(files[i], 0) == -1)
            fail_check("cannot unmount %s: %s", files[i], strerror(errno));
    }
    unlink(copy);
}

/* Writes text to path: whether it worked, with errno set if not. */
static bool
write_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    ssize_t n = fd == -1 ? -1 : write(fd, text, strlen(text));

    if (fd != -1)
        close(fd);
    return n == (ssize_t)strlen(text);
}

/*
 * In the check's own user namespace, where user.max_user_namespaces is
 * 0: the step cannot make its user namespace (ENOSPC), and says which
 * setting refused it. The limit is one of that namespace's (a user
 * namespace has a set of user.* limits of its own), and its creator has
 * CAP_SYS_RESOURCE over it, which writing it asks for. The namespace also
 * gets a mount namespace of its own: open_tree(2) asks for CAP_SYS_ADMIN
 * over the owner of the caller's mount namespace.
 */
static void
run_without_user_namespaces(const char *step)
{
    const char *limit = "/proc/sys/user/max_user_namespaces";
    struct proc p;

    if (unshare(CLONE_NEWNS) == -1)
        fail_check("unshare(CLONE_NEWNS): %s", strerror(errno));
    if (!write_text(limit, "0"))
        fail_check("cannot write 0 to %s in the check's user namespace: %s",
                   limit, strerror(errno));
    run(&p, ARGV(STEP, "--net", "none", PROBE, "exit", "0"));
    if (p.status != 125 || !strstr(p.err, "ENOSPC") ||
        !strstr(p.err, "user.max_user_namespaces"))
        fail_check("with %s at 0: status %d, want 125, ENOSPC and a hint "
                   "naming user.max_user_namespaces:\n%s",
                   limit, p.status, p.err);
}

/*
 * The check forks a child that makes a user namespace; the check, root
 * in the sandbox's, maps the whole id range one for one into it, so the
 * child stays root with its files and the step's. Then the child runs
 * the step there. The sandbox's own limit must not change.
 */
static void
userns_limit(const char *step)
{
    const char *limit = "/proc/sys/user/max_user_namespaces";
    char before[32], after[32], path[64];
    int ready[2], go[2], status;
    pid_t child;
    char c;

    read_text(limit, before, sizeof(before));
    if (pipe2(ready, O_CLOEXEC) == -1 || pipe2(go, O_CLOEXEC) == -1 ||
        (child = fork()) == -1)
        fail_check("cannot fork: %s", strerror(errno));
    if (child == 0) {
        close(ready[0]);
        close(go[1]);
        if (unshare(CLONE_NEWUSER) == -1)
            fail_check("unshare(CLONE_NEWUSER): %s", strerror(errno));
        if (write(ready[1], "u", 1) != 1 || read(go[0], &c, 1) != 1)
            _exit(1);
        run_without_user_namespaces(step);
        _exit(0);
    }
    /* Only the other side's ends stay open: a read sees it exit. */
    close(ready[1]);
    close(go[0]);
    if (read(ready[0], &c, 1) != 1)
        fail_check("the child made no user namespace");
    snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)child);
    if (!write_text(path, "0 0 4294967295\n"))
        fail_check("cannot write %s: %s", path, strerror(errno));
    snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)child);
    if (!write_text(path, "0 0 4294967295\n"))
        fail_check("cannot write %s: %s", path, strerror(errno));
    if (write(go[1], "g", 1) != 1 || waitpid(child, &status, 0) == -1)
        fail_check("cannot release the child");
    read_text(limit, after, sizeof(after));
    if (strcmp(before, after))
        fail_check("%s changed outside the check's namespace: %s to %s", limit,
                   trim(before), trim(after));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_check("in the check's user namespace: see above");
}

int
main(void)
{
    static const struct property props[] = {
        {"user_ns", "06", user_ns, NULL},
        {"uid_mapped", "06", uid_mapped, NULL},
        {"host_ids", "06", host_ids, NULL},
        {"volume_owner", "06", volume_owner, NULL},
        {"mknod_refused", "06", mknod_refused, NULL},
        {"open_by_handle_refused", "06", open_by_handle_refused, NULL},
        {"finit_module_refused", "06", finit_module_refused, NULL},
        {"keyring_private", "06", keyring_private, NULL},
        {"rootfs_readonly", "06", rootfs_readonly, "07"},
        {"rootfs_nosuid_nodev", "06", rootfs_nosuid_nodev, "07"},
        {"rootfs_flags_locked", "06", rootfs_flags_locked, "07"},
        {"volume_ro_locked", "06", volume_ro_locked, NULL},
        {"ranges_differ", "06", ranges_differ, NULL},
        {"user_ns_no_idmap", "06", user_ns_no_idmap, NULL},
        {"uid_mapped_no_idmap", "06", uid_mapped_no_idmap, NULL},
        {"host_ids_no_idmap", "06", host_ids_no_idmap, NULL},
        {"volume_owner_no_idmap", "06", volume_owner_no_idmap, NULL},
        {"mknod_refused_no_idmap", "06", mknod_refused_no_idmap, NULL},
        {"open_by_handle_refused_no_idmap", "06",
         open_by_handle_refused_no_idmap, NULL},
        {"finit_module_refused_no_idmap", "06", finit_module_refused_no_idmap,
         NULL},
        {"keyring_private_no_idmap", "06", keyring_private_no_idmap, NULL},
        {"rootfs_readonly_no_idmap", "06", rootfs_readonly_no_idmap, "07"},
        {"rootfs_nosuid_nodev_no_idmap", "06", rootfs_nosuid_nodev_no_idmap,
         "07"},
        {"rootfs_flags_locked_no_idmap", "06", rootfs_flags_locked_no_idmap,
         "07"},
        {"volume_ro_locked_no_idmap", "06", volume_ro_locked_no_idmap, NULL},
        {"ranges_differ_no_idmap", "06", ranges_differ_no_idmap, NULL},
    };
    static const struct behaviour behaviours[] = {
        {"caps", "06", "full", caps_full, "09"},
        {"caps_no_idmap", "06", "full", caps_full_no_idmap, "09"},
        {"rootfs_owner", "06", "root_inside", rootfs_root_owned, NULL},
        {"rootfs_owner_no_idmap", "06", "root_inside",
         rootfs_root_owned_no_idmap, NULL},
        {"verbose", "06", "says_idmapped", verbose_rootfs, NULL},
        {"verbose_no_idmap", "06", "says_shifted_copy", verbose_rootfs_no_idmap,
         NULL},
        {"map_options", "06", "replace_the_default", map_options, NULL},
        {"volume_hint", "06", "said_up_front", volume_hint, NULL},
        {"rootfs_symlink", "06", "followed", rootfs_symlink, NULL},
        {"map_errors", "06", "exit_125", map_errors, NULL},
        {"subid_collision", "06", "exit_125", subid_collision, NULL},
        {"userns_limit", "06", "exit_125", userns_limit, NULL},
    };

    return run_suite("06-user", props, sizeof(props) / sizeof(props[0]),
                     behaviours, sizeof(behaviours) / sizeof(behaviours[0]));
}
