/*
 * suite-06-rootless.c: from step 06 an ordinary user runs a container
 * (rootless), end to end. Each check runs the step as an unused numeric
 * uid the harness switches to: no account is made on the machine.
 *
 * Only root may set the check up, so each check first takes a mount
 * namespace of its own (the sandbox's would keep what it mounts, and the
 * leftover check would see it), private, so that nothing propagates out:
 *   - a tmpfs on /tmp: the sandbox shares the machine's /tmp, where a
 *     rootless runtime keeps its records (/tmp/boxstep-UID);
 *   - the step binary, the rootfs and the probe, bind-mounted into a
 *     directory of it that the uid can reach: the clone may be under
 *     /root, which it cannot;
 *   - where newuidmap needs them, private copies of /etc/passwd,
 *     /etc/subuid and /etc/subgid, bind-mounted over the machine's, with a
 *     line for the uid.
 * All of it goes with the namespace when the check's process exits.
 *
 * These are behaviours, not isolation properties: steps 00-05 need root,
 * so a rootless run of step 05 is no control. What 06 isolates as root
 * (maps, capabilities, keys) is suite-06-user's.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* The check's own directory, on its private tmpfs on /tmp. */
#define STAGE "/tmp/boxstep-rootless-test"
/* The range the private /etc/subuid and /etc/subgid grant the uid. */
#define SUBID_START 200000
#define SUBID_COUNT 65536
/* The probe, as a staged run sees it (staged_argv() adds the volume). */
#define RL_PROBE PROBE_DIR "/probe"
#define NO_ARGS ((char *const[]){NULL})

/* The ids the check runs as, and its staged step binary. */
static uid_t rl_uid;
static gid_t rl_gid;
static uid_t other_id; /* another unused id, for a gid or a stranger */
static char staged_step[PATH_MAX];
static bool student_binary;

/* Whether a line of file starts with "ID:": a subordinate id entry. */
static bool
named_in(const char *file, unsigned long id)
{
    char prefix[24], line[512];
    FILE *f = fopen(file, "re");
    bool found = false;

    snprintf(prefix, sizeof(prefix), "%lu:", id);
    while (f && !found && fgets(line, sizeof(line), f))
        found = strncmp(line, prefix, strlen(prefix)) == 0;
    if (f)
        fclose(f);
    return found;
}

/*
 * The first id from start down that no account, group or subordinate id
 * entry uses: an id nobody owns anything as. getpwuid(3) and getgrgid(3)
 * ask NSS, so accounts from elsewhere than /etc count too.
 */
static unsigned long
free_id_below(unsigned long start)
{
    for (unsigned long id = start; id > 1000; id--)
        if (!getpwuid(id) && !getgrgid(id) && !named_in("/etc/subuid", id) &&
            !named_in("/etc/subgid", id))
            return id;
    fail_check("no unused id from %lu down to 1001", start);
}

static void
must_mount(const char *src, const char *target, const char *type,
           unsigned long flags, const char *data)
{
    if (mount(src, target, type, flags, data) == -1)
        fail_check("mount(%s, %s, %s): %s", src ? src : "NULL", target,
                   type ? type : "NULL", strerror(errno));
}

/* A directory of mode, whatever the check's umask. */
static void
make_dir(const char *path, mode_t mode)
{
    if (mkdir(path, mode) == -1 || chmod(path, mode) == -1)
        fail_check("mkdir %s: %s", path, strerror(errno));
}

/*
 * A detached copy of the mount at path, with those below it: a bind
 * mount to attach later (open_tree(2)), taken before the tmpfs covers
 * /tmp, where the build or a student's binary may be.
 */
static int
detached(const char *path)
{
    int tree = open_tree(AT_FDCWD, path,
                         OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);

    if (tree == -1)
        fail_check("open_tree(%s): %s", path, strerror(errno));
    return tree;
}

/* Attaches it at path, made first as a file or a directory (mode 0755). */
static void
attach(int tree, const char *path, bool dir)
{
    int fd;

    if (dir) {
        make_dir(path, 0755);
    } else if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                          0644)) != -1) {
        close(fd);
    }
    if (move_mount(tree, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) == -1)
        fail_check("move_mount(%s): %s", path, strerror(errno));
    close(tree);
}

/*
 * The check's set-up, as root: its own mount namespace, a tmpfs on /tmp,
 * the step, the rootfs and the probe bind-mounted into STAGE, the ids.
 * The runs that follow see what it mounts (they start in this
 * namespace); the sandbox does not.
 */
static void
rootless_enter(const char *step)
{
    char path[PATH_MAX];
    const char *bin = getenv("BOXSTEP_STEP_BIN");
    int rootfs, probe, binary;

    if (unshare(CLONE_NEWNS) == -1)
        fail_check("unshare(CLONE_NEWNS): %s", strerror(errno));
    must_mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
    snprintf(path, sizeof(path), "%s/rootfs", build_dir());
    rootfs = detached(path);
    probe = detached(probe_path());
    binary = detached(step_path(step));
    must_mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
    make_dir(STAGE, 0755);
    attach(rootfs, STAGE "/rootfs", true);
    make_dir(STAGE "/tests", 0755);
    attach(probe, STAGE "/tests/probe", false);
    snprintf(staged_step, sizeof(staged_step), STAGE "/%s", step);
    attach(binary, staged_step, false);
    /* A student's binary gets --rootfs, as spawn() gives it (README). */
    student_binary = bin && *bin && strcmp(bin, step_path(step)) == 0;
    rl_uid = free_id_below(64999);
    rl_gid = rl_uid;
    other_id = free_id_below(rl_uid - 1);
    /* Step 08's layers: a directory of the uid's own, on this tmpfs. */
    make_dir(STAGE "/layers", 0700);
    if (chown(STAGE "/layers", rl_uid, rl_gid) == -1)
        fail_check("chown %s: %s", STAGE "/layers", strerror(errno));
    setenv("BOXSTEP_LAYER_DIR", STAGE "/layers", 1);
    if (chdir(STAGE) == -1)
        fail_check("chdir %s: %s", STAGE, strerror(errno));
    unsetenv("XDG_RUNTIME_DIR");
}

/* Writes text to path, replacing what was there. */
static void
write_text_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "we");

    if (!f || fputs(text, f) == EOF || fclose(f) == EOF ||
        chmod(path, mode) == -1)
        fail_check("cannot write %s: %s", path, strerror(errno));
}

/*
 * /etc on a machine that lacks one of the files (no user ever got
 * subordinate ids): an overlay whose upper layer is on the check's
 * tmpfs, so that the missing file can be made without touching the
 * machine's /etc.
 */
static void
overlay_etc(void)
{
    static bool done;

    if (done)
        return;
    make_dir(STAGE "/etc-upper", 0755);
    make_dir(STAGE "/etc-work", 0755);
    must_mount("overlay", "/etc", "overlay", 0,
               "lowerdir=/etc,upperdir=" STAGE "/etc-upper,workdir=" STAGE
               "/etc-work");
    done = true;
}

/*
 * A private /etc/NAME in the check's namespace: the machine's, plus line,
 * bind-mounted over it. newuidmap and the step read it there.
 */
static void
private_etc(const char *name, const char *line)
{
    char real[64], copy[PATH_MAX], buf[4096], last = '\n';
    FILE *in, *out;
    size_t n;

    snprintf(real, sizeof(real), "/etc/%s", name);
    snprintf(copy, sizeof(copy), STAGE "/etc-%s", name);
    if (!(out = fopen(copy, "we")))
        fail_check("cannot make %s: %s", copy, strerror(errno));
    if ((in = fopen(real, "re"))) {
        while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
            fwrite(buf, 1, n, out);
            last = buf[n - 1];
        }
        fclose(in);
    }
    /* A last line without its newline would swallow ours. */
    fprintf(out, "%s%s\n", last == '\n' ? "" : "\n", line);
    if (fclose(out) == EOF || chmod(copy, 0644) == -1)
        fail_check("cannot write %s: %s", copy, strerror(errno));
    if (access(real, F_OK) == -1) {
        overlay_etc();
        write_text_file(real, "", 0644);
    }
    must_mount(copy, real, NULL, MS_BIND, NULL);
}

/*
 * The uid gets an account (passwd, with rl_gid its group) and the range
 * SUBID_START..+SUBID_COUNT of subordinate uids and gids.
 */
static void
grant_subids(void)
{
    char line[256];

    snprintf(line, sizeof(line),
             "boxstep-test-%u:x:%u:%u:boxstep rootless test:/nonexistent:"
             "/usr/sbin/nologin",
             (unsigned)rl_uid, (unsigned)rl_uid, (unsigned)rl_gid);
    private_etc("passwd", line);
    snprintf(line, sizeof(line), "boxstep-test-%u:%d:%d", (unsigned)rl_uid,
             SUBID_START, SUBID_COUNT);
    private_etc("subuid", line);
    private_etc("subgid", line);
}

/*
 * The staged step's command line: the step, then --rootfs for a
 * student's binary, the probe's directory as a volume when args run the
 * probe, then args.
 */
static char *const *
staged_argv(char *const args[])
{
    static char *argv[64];
    size_t n = 0;
    bool probe = false;

    for (size_t i = 0; args[i]; i++)
        probe |= strcmp(args[i], RL_PROBE) == 0;
    argv[n++] = staged_step;
    if (student_binary) {
        argv[n++] = "--rootfs";
        argv[n++] = STAGE "/rootfs";
    }
    if (probe) {
        argv[n++] = "--volume";
        argv[n++] = STAGE "/tests:" PROBE_DIR ":ro";
    }
    for (size_t i = 0; args[i] && n < 63; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    return argv;
}

/* Starts the staged step with args as the uid; input on stdin if any. */
static void
rl_spawn(struct proc *p, bool keep_stdin, char *const args[])
{
    struct run_opts opts = {
        .uid = rl_uid, .gid = rl_gid, .keep_stdin = keep_stdin};

    if (spawn(p, &opts, staged_argv(args)) == -1)
        fail_check("cannot run %s: %s", staged_step, strerror(errno));
}

/* Runs it to the end (20 s at most), with input on its stdin. */
static int
rl_run(struct proc *p, const char *input, char *const args[])
{
    rl_spawn(p, input != NULL, args);
    if (input &&
        write(p->in_fd, input, strlen(input)) != (ssize_t)strlen(input))
        fail_check("cannot write to the container's stdin");
    return finish(p, 20000);
}

/* Its output, every run of blanks one space and each line trimmed. */
static char *
squeezed(struct proc *p)
{
    char *to = p->out;
    bool blank = false;

    for (const char *from = p->out; *from; from++) {
        if (*from == ' ' || *from == '\t') {
            blank = true;
            continue;
        }
        if (blank && to > p->out && to[-1] != '\n' && *from != '\n')
            *to++ = ' ';
        blank = false;
        *to++ = *from;
    }
    *to = '\0';
    return trim(p->out);
}

/* A rootless run succeeds, and prints exactly want. */
static void
expect_output(const char *input, char *const args[], const char *want)
{
    struct proc p;

    if (rl_run(&p, input, args) != 0)
        fail_check("%s as uid %u: status %d:\n%s%s",
                   command_line(staged_argv(args)), (unsigned)rl_uid, p.status,
                   p.out, p.err);
    if (strcmp(squeezed(&p), want))
        fail_check("%s as uid %u printed:\n%s\nnot:\n%s\n%s",
                   command_line(staged_argv(args)), (unsigned)rl_uid, p.out,
                   want, p.err);
}

/* A rootless run is refused: 125, with needle in its message. */
static void
rl_expect_125(char *const args[], const char *needle)
{
    struct proc p;

    if (rl_run(&p, NULL, args) != 125 || !strstr(p.err, needle))
        fail_check("%s as uid %u: status %d, want 125 and '%s' in:\n%s",
                   command_line(staged_argv(args)), (unsigned)rl_uid, p.status,
                   needle, p.err);
}

static bool
exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

/* The default state directory of a rootless run: /tmp/boxstep-UID. */
static const char *
tmp_state_dir(void)
{
    static char dir[64];

    snprintf(dir, sizeof(dir), "/tmp/boxstep-%u", (unsigned)rl_uid);
    return dir;
}

/* No state is left: not the uid's, and not root's. */
static void
expect_no_state(const char *when)
{
    if (exists(tmp_state_dir()))
        fail_check("%s, %s is still there", when, tmp_state_dir());
    if (exists("/run/boxstep"))
        fail_check("%s, a rootless run left /run/boxstep", when);
}

/*
 * An unprivileged uid with no subordinate ids runs the step with no
 * option at all and gets a shell: root inside, its own uid as the only
 * one mapped (setgroups denied, as the kernel requires for such a gid
 * map), the hostname box, PID 2 under the init, the rootfs as /, a /proc
 * of the container's two processes, and loopback up (a ping gets its
 * reply). With the probe: its PIDs, its only device, its read-only root.
 */
static void
plain_works(const char *step)
{
    /* From 08 the root is an overlay of its own: overlay_own_image(). */
    bool shared_root = atoi(step) < 8;
    char script[512], want[512], dev_ino[64] = "";
    struct stat st;

    rootless_enter(step);
    /* The staged rootfs is the build's, bind-mounted: the same inode. */
    if (stat(STAGE "/rootfs", &st) == -1)
        fail_check("stat %s/rootfs: %s", STAGE, strerror(errno));
    if (shared_root)
        snprintf(dev_ino, sizeof(dev_ino), "%lu:%lu\n",
                 (unsigned long)st.st_dev, (unsigned long)st.st_ino);
    snprintf(script, sizeof(script),
             "id -u\nhostname\necho $$\necho /proc/[0-9]*\n"
             "cat /proc/self/uid_map\ncat /proc/self/gid_map\n"
             "cat /proc/self/setgroups\n%s"
             "ping -c 1 -W 2 127.0.0.1 >/dev/null && echo loopback up\n",
             shared_root ? "stat -c %d:%i /\n" : "");
    snprintf(want, sizeof(want),
             "0\nbox\n2\n/proc/1 /proc/2\n0 %u 1\n0 %u 1\ndeny\n%s"
             "loopback up",
             (unsigned)rl_uid, (unsigned)rl_gid, dev_ino);
    expect_output(script, NO_ARGS, want);
    expect_output(NULL, ARGV(RL_PROBE, "pids"), "1 2");
    expect_output(NULL, ARGV("--net", "none", RL_PROBE, "ifaces"), "lo");
    expect_output(NULL, ARGV("--hostname", "rl", RL_PROBE, "hostname"), "rl");
    if (shared_root)
        expect_output(NULL, ARGV(RL_PROBE, "mountflags", "/"),
                      "ro nosuid nodev");
    expect_no_state("after the runs");
}

/*
 * With a grant in /etc/subuid and /etc/subgid (and the passwd entry
 * newuidmap wants), the maps are wider, written by newuidmap and
 * newgidmap: the own id as 0, the granted range from 1 on. setgroups is
 * allowed then, and root inside can give a file to uid 1000, an id only
 * the grant maps. Explicit --uidmap and --gidmap within the grant work
 * too. The gid may differ from the uid: subgid(5) lists ranges by the
 * user, not by its group.
 */
static void
subids_work(const char *step, bool own_gid)
{
    static const char script[] = "id -u; hostname; echo $$; "
                                 "cat /proc/self/uid_map /proc/self/gid_map "
                                 "/proc/self/setgroups; touch /tmp/f && "
                                 "chown 1000:1000 /tmp/f && stat -c %u:%g "
                                 "/tmp/f";
    char want[512], own_uid[32], own_gid_map[32];

    rootless_enter(step);
    if (own_gid)
        rl_gid = other_id;
    if (access("/usr/bin/newuidmap", X_OK) ||
        access("/usr/bin/newgidmap", X_OK))
        fail_check("no newuidmap or newgidmap: install Debian's uidmap");
    grant_subids();
    snprintf(want, sizeof(want),
             "0\nbox\n2\n0 %u 1\n1 %d %d\n0 %u 1\n1 %d %d\nallow\n1000:1000",
             (unsigned)rl_uid, SUBID_START, SUBID_COUNT - 1, (unsigned)rl_gid,
             SUBID_START, SUBID_COUNT - 1);
    expect_output(NULL, ARGV("/bin/sh", "-c", (char *)script), want);
    snprintf(own_uid, sizeof(own_uid), "0:%u:1", (unsigned)rl_uid);
    snprintf(own_gid_map, sizeof(own_gid_map), "0:%u:1", (unsigned)rl_gid);
    snprintf(want, sizeof(want), "0 %u 1\n1 %d 10\n0 %u 1\n1 %d 5",
             (unsigned)rl_uid, SUBID_START, (unsigned)rl_gid,
             SUBID_START + 100);
    expect_output(NULL,
                  ARGV("--uidmap", own_uid, "--uidmap", "1:200000:10",
                       "--gidmap", own_gid_map, "--gidmap", "1:200100:5",
                       "/bin/cat", "/proc/self/uid_map", "/proc/self/gid_map"),
                  want);
    expect_no_state("after the runs");
}

static void
subids_same_gid(const char *step)
{
    subids_work(step, false);
}

static void
subids_other_gid(const char *step)
{
    subids_work(step, true);
}

/*
 * What needs the host's privileges is refused before anything is made,
 * with a message that names what is missing: a veth or a bridge on the
 * host (CAP_NET_ADMIN), an address for one, a range subuid(5) does not
 * grant (none at first, then another), the shifted copy's fixed range.
 */
static void
privileged_refused(const char *step)
{
    char needle[128], own[32];

    rootless_enter(step);
    rl_expect_125(ARGV("--net", "veth", "/bin/true"), "CAP_NET_ADMIN");
    rl_expect_125(ARGV("--net", "bridge", "/bin/true"), "CAP_NET_ADMIN");
    rl_expect_125(ARGV("--ip", "10.200.7.2/24", "/bin/true"), "CAP_NET_ADMIN");
    rl_expect_125(ARGV("--no-idmap", "/bin/true"), "--no-idmap");
    snprintf(needle, sizeof(needle),
             "--uidmap 0:300000:10: /etc/subuid grants uid %u no range",
             (unsigned)rl_uid);
    rl_expect_125(ARGV("--uidmap", "0:300000:10", "/bin/true"), needle);
    snprintf(own, sizeof(own), "0:%u:1", (unsigned)rl_uid);
    snprintf(needle, sizeof(needle),
             "--gidmap 0:300000:10: /etc/subgid grants uid %u no range",
             (unsigned)rl_uid);
    rl_expect_125(ARGV("--uidmap", own, "--gidmap", "0:300000:10", "/bin/true"),
                  needle);
    grant_subids();
    snprintf(needle, sizeof(needle),
             "--uidmap 0:300000:10: /etc/subuid grants uid %u another range",
             (unsigned)rl_uid);
    rl_expect_125(ARGV("--uidmap", "0:300000:10", "/bin/true"), needle);
    expect_no_state("after the refused runs");
}

/* The name of a runtime's record: its PID namespace's inode, its PID. */
static void
record_path(const char *dir, pid_t runtime, char *path, size_t len)
{
    struct stat st;

    if (stat("/proc/self/ns/pid", &st) == -1)
        fail_check("stat /proc/self/ns/pid: %s", strerror(errno));
    snprintf(path, len, "%s/%lu-%d", dir, (unsigned long)st.st_ino,
             (int)runtime);
}

/* Starts a container that prints ready and waits for its stdin to close. */
static void
start_waiting(struct proc *p)
{
    const char *line;

    rl_spawn(p, true, ARGV("/bin/sh", "-c", "echo ready; read x; true"));
    if (!(line = read_line(p, 10000)) || strcmp(line, "ready"))
        fail_check("the rootless container did not start: %s", p->err);
}

static void
finish_waiting(struct proc *p)
{
    if (finish(p, 10000) != 0)
        fail_check("the rootless container exited %d: %s", p->status, p->err);
}

/*
 * While a rootless container runs, its record is in dir, a directory of
 * the uid's alone (0700); with the last container it goes.
 */
static void
expect_private_records(const char *dir, struct proc *p)
{
    char record[PATH_MAX];
    struct stat st;

    if (lstat(dir, &st) == -1)
        fail_check("no state directory %s while a container runs", dir);
    if (!S_ISDIR(st.st_mode) || st.st_uid != rl_uid ||
        (st.st_mode & 07777) != 0700)
        fail_check("%s: mode %o, owner %u; want a directory, 0700, of uid %u",
                   dir, (unsigned)st.st_mode, (unsigned)st.st_uid,
                   (unsigned)rl_uid);
    record_path(dir, p->pid, record, sizeof(record));
    if (!exists(record))
        fail_check("no record %s for the running container", record);
}

/*
 * XDG_RUNTIME_DIR unset: records go to /tmp/boxstep-UID, made by the run
 * (0700, the uid's), removed when the last container exits. Root's
 * /run/boxstep is not touched.
 */
static void
state_in_tmp(const char *step)
{
    struct proc p;

    rootless_enter(step);
    expect_no_state("before the run");
    start_waiting(&p);
    expect_private_records(tmp_state_dir(), &p);
    if (exists("/run/boxstep"))
        fail_check("a rootless run made /run/boxstep");
    finish_waiting(&p);
    expect_no_state("after the container exited");
}

/*
 * /tmp/boxstep-UID made first by someone else is refused (125), and left
 * as it was: a directory of another uid, one of the uid's own that others
 * may enter, and a symbolic link to a private directory of its own.
 */
static void
state_tmp_refused(const char *step)
{
    char needle[128];
    const char *dir;

    rootless_enter(step);
    dir = tmp_state_dir();
    snprintf(needle, sizeof(needle), "%s is not a private directory of uid %u",
             dir, (unsigned)rl_uid);
    make_dir(dir, 0700);
    if (chown(dir, other_id, other_id) == -1)
        fail_check("chown %s: %s", dir, strerror(errno));
    rl_expect_125(ARGV("/bin/true"), needle);
    if (chown(dir, rl_uid, rl_gid) == -1 || chmod(dir, 0755) == -1)
        fail_check("chown %s: %s", dir, strerror(errno));
    rl_expect_125(ARGV("/bin/true"), needle);
    if (rmdir(dir) == -1)
        fail_check("the refused run removed or filled %s: %s", dir,
                   strerror(errno));
    make_dir("/tmp/boxstep-rootless-own", 0700);
    if (chown("/tmp/boxstep-rootless-own", rl_uid, rl_gid) == -1 ||
        symlink("/tmp/boxstep-rootless-own", dir) == -1)
        fail_check("cannot make the link %s: %s", dir, strerror(errno));
    rl_expect_125(ARGV("/bin/true"), needle);
    if (unlink(dir) == -1 || rmdir("/tmp/boxstep-rootless-own") == -1)
        fail_check("the refused run changed %s: %s", dir, strerror(errno));
}

/*
 * XDG_RUNTIME_DIR set (as a login session sets it, to a directory of the
 * user's): records go to $XDG_RUNTIME_DIR/boxstep, and /tmp stays clean.
 */
static void
state_in_xdg(const char *step)
{
    static const char xdg[] = "/tmp/boxstep-rootless-xdg";
    struct proc p;

    rootless_enter(step);
    make_dir(xdg, 0700);
    if (chown(xdg, rl_uid, rl_gid) == -1)
        fail_check("chown %s: %s", xdg, strerror(errno));
    setenv("XDG_RUNTIME_DIR", xdg, 1);
    start_waiting(&p);
    expect_private_records("/tmp/boxstep-rootless-xdg/boxstep", &p);
    expect_no_state("with XDG_RUNTIME_DIR set");
    finish_waiting(&p);
    if (exists("/tmp/boxstep-rootless-xdg/boxstep"))
        fail_check("$XDG_RUNTIME_DIR/boxstep is still there after the run");
    unsetenv("XDG_RUNTIME_DIR");
    if (rmdir(xdg) == -1)
        fail_check("rmdir %s: %s", xdg, strerror(errno));
}

/*
 * A SIGKILLed rootless runtime leaves its record (its container dies with
 * it); --gc, rootless too, removes it from the uid's own directory and
 * keeps a live container's. The directory goes with that container.
 */
static void
gc_own_state(const char *step)
{
    char stale[PATH_MAX], live[PATH_MAX];
    struct proc a, b, gc;
    pid_t sleeper = -1;

    rootless_enter(step);
    start_waiting(&a);
    record_path(tmp_state_dir(), a.pid, live, sizeof(live));
    rl_spawn(&b, false, ARGV(RL_PROBE, "sleeper"));
    for (int i = 0; i < 500 && sleeper == -1; i++) {
        usleep(10000);
        sleeper = find_by_comm("probe-sleeper");
    }
    if (sleeper == -1)
        fail_check("the second container never started its sleeper: %s", b.err);
    record_path(tmp_state_dir(), b.pid, stale, sizeof(stale));
    kill(b.pid, SIGKILL);
    finish(&b, 10000);
    if (!wait_gone(sleeper, 5000))
        fail_check("the container outlived its SIGKILLed runtime");
    if (!exists(stale))
        fail_check("after SIGKILL, no record %s left to collect", stale);
    if (rl_run(&gc, NULL, ARGV("--gc")) != 0)
        fail_check("--gc as uid %u: status %d: %s", (unsigned)rl_uid, gc.status,
                   gc.err);
    if (exists(stale) || !exists(live))
        fail_check("--gc: the stale record %s, the live one %s",
                   exists(stale) ? "stayed" : "went",
                   exists(live) ? "stayed" : "went");
    finish_waiting(&a);
    expect_no_state("after the last container");
}

/*
 * From step 07: an ordinary user may not make a cgroup at the root of a
 * hierarchy, so a rootless container runs without one and says so in one
 * line; the options that need a cgroup are refused, by name.
 */
static void
no_cgroup(const char *step)
{
    struct proc p;

    rootless_enter(step);
    if (rl_run(&p, NULL, ARGV("/bin/true")) != 0 ||
        !strstr(p.err, "rootless: the container runs without a cgroup"))
        fail_check("/bin/true as uid %u: status %d, want 0 and a line saying "
                   "there is no cgroup:\n%s",
                   (unsigned)rl_uid, p.status, p.err);
    rl_expect_125(ARGV("--memory", "64M", "/bin/true"), "need a cgroup");
    rl_expect_125(ARGV("--pids", "32", "/bin/true"), "need a cgroup");
    rl_expect_125(ARGV("--cpus", "0.5", "/bin/true"), "need a cgroup");
    rl_expect_125(ARGV("--stats", "/bin/true"), "need a cgroup");
    expect_no_state("after the runs");
}

/* Writes text to dir/file as root; a refusal fails the check. */
static void
cgroup_file(const char *dir, const char *file, const char *text)
{
    char path[PATH_MAX * 2];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd == -1 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        fail_check("write %s to %s: %s", text, path, strerror(errno));
    close(fd);
}

/* mkdir(2) of a cgroup given to the uid, as systemd's Delegate= does. */
static void
delegate_dir(const char *dir)
{
    static const char *const files[] = {
        "", "/cgroup.procs", "/cgroup.subtree_control", "/cgroup.threads"};
    char path[PATH_MAX * 2];

    make_dir(dir, 0755);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", dir, files[i]);
        if (chown(path, rl_uid, rl_gid) == -1)
            fail_check("chown %s: %s", path, strerror(errno));
    }
}

/*
 * From step 07, on cgroup v2: a subtree delegated to the uid, made here
 * as systemd makes a user's (the directory and its cgroup.procs,
 * cgroup.subtree_control and cgroup.threads given to the uid), with the
 * check's process moved into a cgroup of it, as a user's shell is. A
 * rootless container then gets a cgroup of its own in that subtree, with
 * its limits: inside, pids.max reads 16 and a fork loop stops there; the
 * cgroup goes with it. Without a delegation, the same options are refused
 * (no_cgroup above). cgroup v1 delegates nothing: skipped there.
 */
static void
delegated_cgroup(const char *step)
{
    const char *parent = getenv("BOXSTEP_CGROUP_PARENT");
    char top[PATH_MAX], deleg[PATH_MAX], session[PATH_MAX + 16];
    char own[PATH_MAX + 8] = "", line[PATH_MAX + 8], pid[16], left[PATH_MAX];
    char err[32] = "";
    int count = -1;
    struct proc p;
    FILE *f;

    snprintf(top, sizeof(top), "/sys/fs/cgroup/%s", parent);
    if (access("/sys/fs/cgroup/cgroup.subtree_control", F_OK) == -1 ||
        access(top, F_OK) == -1)
        skip_check("cgroup v1 here: only cgroup v2 delegates a subtree");
    rootless_enter(step);
    f = fopen("/proc/self/cgroup", "re");
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "0::", 3) == 0)
            snprintf(own, sizeof(own), "/sys/fs/cgroup%s", line + 3);
    if (f)
        fclose(f);
    own[strcspn(own, "\n")] = '\0';
    cgroup_file(top, "cgroup.subtree_control", "+memory +pids");
    snprintf(deleg, sizeof(deleg), "%s/delegated", top);
    snprintf(session, sizeof(session), "%s/session", deleg);
    delegate_dir(deleg);
    delegate_dir(session);
    snprintf(pid, sizeof(pid), "%d", (int)getpid());
    cgroup_file(session, "cgroup.procs", pid);
    rl_run(
        &p, NULL,
        ARGV("--pids", "16", "--memory", "64M", RL_PROBE, "fork-upto", "64"));
    cgroup_file(own, "cgroup.procs", pid);
    /* The init and the probe count too: at most 14 children. */
    if (p.status != 0 || sscanf(p.out, "%d %31s", &count, err) != 2 ||
        strcmp(err, "EAGAIN") || count > 14 || count < 8)
        fail_check("--pids 16 as uid %u in a delegated subtree: status %d, "
                   "the fork loop says '%s', want 8-14 and EAGAIN:\n%s",
                   (unsigned)rl_uid, p.status, p.out, p.err);
    snprintf(left, sizeof(left), "%s/boxstep", deleg);
    if (access(left, F_OK) == 0)
        fail_check("%s is left after the container", left);
    rmdir(session);
    rmdir(deleg);
}

/*
 * 08, rootless: the image is the user's own (a copy here, as 'make
 * rootfs' in a clone of their own makes one), and the container writes
 * into a layer of its own, in the uid's BOXSTEP_LAYER_DIR: the image is
 * as it was after, and no layer is left.
 */
static void
overlay_own_image(const char *step)
{
    char owner[32], root_line[160];
    struct stat st;
    struct proc p;

    rootless_enter(step);
    /* On the build's image, a root of its own: not the image's inode. */
    if (stat(STAGE "/rootfs", &st) == -1)
        fail_check("stat %s/rootfs: %s", STAGE, strerror(errno));
    snprintf(root_line, sizeof(root_line),
             "[ \"$(stat -c %%d:%%i /)\" != %lu:%lu ] && echo own-root\n",
             (unsigned long)st.st_dev, (unsigned long)st.st_ino);
    expect_output(root_line, NO_ARGS, "own-root");
    expect_output(NULL, ARGV(RL_PROBE, "mountflags", "/"), "rw nosuid nodev");
    snprintf(owner, sizeof(owner), "%u:%u", (unsigned)rl_uid, (unsigned)rl_gid);
    if (run(&p, ARGV("/bin/cp", "-a", STAGE "/rootfs/.", STAGE "/own")) ||
        run(&p, ARGV("/bin/chown", "-R", owner, STAGE "/own")))
        fail_check("cannot make the uid's own image: %s", p.err);
    expect_output(NULL,
                  ARGV("--image", STAGE "/own", "/bin/sh", "-c",
                       "echo x > /new && rm /etc/hostname && cat /new && "
                       "echo ok"),
                  "x\nok");
    if (exists(STAGE "/own/new") || !exists(STAGE "/own/etc/hostname"))
        fail_check("the rootless container changed its image");
    /* The layer directory keeps only its mark (.boxstep-layers) and the
     * scratch filesystem's mount point, empty. */
    if (unlink(STAGE "/layers/.boxstep-layers") == -1 ||
        rmdir(STAGE "/layers/.scratch") == -1 || rmdir(STAGE "/layers") == -1)
        fail_check("a layer is left in %s: %s", STAGE "/layers",
                   strerror(errno));
    expect_no_state("after the run");
}

/* Runs the binary at path as the uid, with args; its status. */
static int
rl_run_binary(struct proc *p, const char *path, char *const args[])
{
    struct run_opts opts = {.uid = rl_uid, .gid = rl_gid};
    char *argv[8] = {(char *)path};

    for (size_t i = 0; args[i] && i < 6; i++)
        argv[i + 1] = args[i];
    if (spawn(p, &opts, argv) == -1)
        fail_check("cannot run %s: %s", path, strerror(errno));
    return finish(p, 20000);
}

/*
 * 08, rootless, a kept layer: --keep keeps it in the uid's layer
 * directory; a keep record that names other maps than the container's is
 * refused (nothing is idmapped rootless: its files would show under
 * other ids), the genuine one runs. --layers, --rm-layer and --gc read no
 * image: a copy of the binary with no rootfs beside it lists the layer,
 * removes it, and --gc removes a layer no record claims (one a killed
 * runtime would leave).
 */
static void
rootless_kept_layer(const char *step)
{
    char owner[32], stacked[PATH_MAX], record[256], genuine[256] = "";
    struct proc p, list, rm, gc;
    FILE *f;

    rootless_enter(step);
    snprintf(owner, sizeof(owner), "%u:%u", (unsigned)rl_uid, (unsigned)rl_gid);
    if (run(&p, ARGV("/bin/cp", "-a", STAGE "/rootfs/.", STAGE "/own")) ||
        run(&p, ARGV("/bin/chown", "-R", owner, STAGE "/own")) ||
        run(&p, ARGV("/bin/mkdir", STAGE "/bare")) ||
        run(&p, ARGV("/bin/cp", staged_step, STAGE "/bare/boxstep")))
        fail_check("cannot stage the image and the bare binary: %s", p.err);
    if (rl_run(&p, NULL,
               ARGV("--image", STAGE "/own", "--keep", "--name", "rl-kept",
                    "/bin/sh", "-c", "echo x > /k")) != 0)
        fail_check("--keep, rootless: %d %s", p.status, p.err);
    snprintf(stacked, sizeof(stacked), "%s/layers/rl-kept/upper:%s/own", STAGE,
             STAGE);
    if ((f = fopen(STAGE "/layers/rl-kept/keep", "re"))) {
        if (!fread(genuine, 1, sizeof(genuine) - 1, f))
            genuine[0] = '\0';
        fclose(f);
    }
    snprintf(record, sizeof(record), "uidmap=0:%u:1\ngidmap=0:%u:1\n",
             (unsigned)other_id, (unsigned)other_id);
    write_text_file(STAGE "/layers/rl-kept/keep", record, 0644);
    if (chown(STAGE "/layers/rl-kept/keep", rl_uid, rl_gid) == -1)
        fail_check("chown the keep record: %s", strerror(errno));
    rl_run(&p, NULL, ARGV("--image", stacked, "/bin/cat", "/k"));
    if (p.status != 125 || !strstr(p.err, "written under uidmap="))
        fail_check("a kept layer of other maps, rootless: %d %s%s", p.status,
                   p.out, p.err);
    write_text_file(STAGE "/layers/rl-kept/keep", genuine, 0644);
    if (chown(STAGE "/layers/rl-kept/keep", rl_uid, rl_gid) == -1)
        fail_check("chown the keep record: %s", strerror(errno));
    expect_output(NULL, ARGV("--image", stacked, "/bin/cat", "/k"), "x");
    if (run(&p, ARGV("/bin/mkdir", "-p", STAGE "/layers/stale/upper")) ||
        run(&p, ARGV("/bin/chown", "-R", owner, STAGE "/layers/stale")))
        fail_check("cannot make a stale layer: %s", p.err);
    rl_run_binary(&list, STAGE "/bare/boxstep", ARGV("--layers"));
    rl_run_binary(&rm, STAGE "/bare/boxstep", ARGV("--rm-layer", "rl-kept"));
    rl_run_binary(&gc, STAGE "/bare/boxstep", ARGV("--gc"));
    if (list.status != 0 || !strstr(list.out, "rl-kept\t"))
        fail_check("--layers without an image, rootless: %d %s%s", list.status,
                   list.out, list.err);
    if (rm.status != 0 || exists(STAGE "/layers/rl-kept"))
        fail_check("--rm-layer without an image, rootless: %d %s", rm.status,
                   rm.err);
    if (gc.status != 0 || exists(STAGE "/layers/stale"))
        fail_check("--gc without an image, rootless, left a layer no record "
                   "claims: %d %s",
                   gc.status, gc.err);
    if (unlink(STAGE "/layers/.boxstep-layers") == -1 ||
        rmdir(STAGE "/layers/.scratch") == -1 || rmdir(STAGE "/layers") == -1)
        fail_check("a layer is left in %s: %s", STAGE "/layers",
                   strerror(errno));
    expect_no_state("after the runs");
}

int
main(void)
{
    static const struct behaviour behaviours[] = {
        {"rootless", "06", "works_without_subids", plain_works, NULL},
        {"rootless_subids", "06", "map_the_granted_range", subids_same_gid,
         NULL},
        {"rootless_subids_other_gid", "06", "map_the_granted_range",
         subids_other_gid, NULL},
        {"rootless_privileged", "06", "exit_125", privileged_refused, NULL},
        {"rootless_state", "06", "in_private_tmp_dir", state_in_tmp, NULL},
        {"rootless_state_dir", "06", "refused_if_not_own", state_tmp_refused,
         NULL},
        {"rootless_state", "06", "in_xdg_runtime_dir", state_in_xdg, NULL},
        {"rootless_gc", "06", "removes_own_stale_records", gc_own_state, NULL},
        {"rootless_overlay", "08", "writes_its_own_layer", overlay_own_image,
         NULL},
        {"rootless_kept_layer", "08", "checked_listed_removed",
         rootless_kept_layer, NULL},
        {"rootless_cgroup", "07", "none_and_said", no_cgroup, NULL},
        {"rootless_cgroup", "07", "in_delegated_subtree", delegated_cgroup,
         NULL},
    };

    return run_suite("06-rootless", NULL, 0, behaviours,
                     sizeof(behaviours) / sizeof(behaviours[0]));
}
