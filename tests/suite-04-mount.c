/*
 * suite-04-mount.c: step 04 gives the container a root filesystem and a
 * mount table of its own. Each property holds on 04 and later, and the
 * same check shows the leak on 03, which still lives in the host's tree.
 * Volumes and the rootfs option are features of 04, not isolation: they
 * are behaviours, checked on 04 and every later step.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static bool
mount_ns(const char *step)
{
    return ns_isolated(step, "mnt");
}

/*
 * How many mounts from source the sandbox's mount table lists; with
 * remove, each is detached, newest first, as it leaked from a step.
 */
static int
sandbox_mounts(const char *source, bool remove)
{
    char line[1024], word[256], points[16][PATH_MAX];
    int found = 0;
    FILE *f = fopen("/proc/self/mountinfo", "re");

    while (f && fgets(line, sizeof(line), f)) {
        char *sep = strstr(line, " - ");

        if (sep && sscanf(sep + 3, "%*s %255s", word) == 1 &&
            strcmp(word, source) == 0 && found < 16 &&
            sscanf(line, "%*s %*s %*s %*s %4095s", points[found]) == 1)
            found++;
    }
    if (f)
        fclose(f);
    for (int i = found - 1; remove && i >= 0; i--)
        if (umount2(points[i], MNT_DETACH) == -1)
            fail_check("cannot remove the leaked mount on %s: %s", points[i],
                       strerror(errno));
    return found;
}

/* A tmpfs mounted on /tmp inside never appears in the sandbox's table. */
static bool
mount_invisible(const char *step)
{
    if (strcmp(answer(ARGV(STEP, PROBE, "mount-tmpfs", "/tmp")), "mounted"))
        fail_check("the probe could not mount a tmpfs on /tmp");
    return sandbox_mounts("boxstep-probe", true) == 0;
}

/*
 * Mounts a tmpfs named boxstep-marker on dir, and writes its device as
 * MAJOR:MINOR: a mount that is easy to look for.
 */
static void
mount_marker(const char *dir, char *dev, size_t len)
{
    struct stat st;

    if (mount("boxstep-marker", dir, "tmpfs", 0, NULL) == -1 ||
        stat(dir, &st) == -1)
        fail_check("cannot mount the marker on %s: %s", dir, strerror(errno));
    snprintf(dev, len, "%u:%u", major(st.st_dev), minor(st.st_dev));
}

/* Whether the probe's answer is "present", or "absent". */
static bool
marker_present(const char *reply)
{
    if (strcmp(reply, "present") && strcmp(reply, "absent"))
        fail_check("the probe said '%s', not present or absent", reply);
    return strcmp(reply, "present") == 0;
}

/*
 * The host's mount tree is gone from the container's mount namespace, not
 * only out of sight: a chroot(2) in place of pivot_root(2) and the detach
 * of the old root hides it from .., from /proc/self/mountinfo and from
 * /proc/1/root, yet every mount stays in the namespace, held by it. A
 * tmpfs the sandbox mounts before the start is the marker: the probe
 * looks for it among all the mounts of its namespace. On 03 the probe
 * shares the sandbox's namespace, and finds it.
 */
static bool
host_mounts_detached(const char *step)
{
    char dir[300], dev[32];
    const char *reply;

    /* In the sandbox's private /run, which goes with the sandbox. */
    snprintf(dir, sizeof(dir), "%s/marker", getenv("TMPDIR"));
    if (mkdir(dir, 0755) == -1)
        fail_check("cannot make %s: %s", dir, strerror(errno));
    mount_marker(dir, dev, sizeof(dev));
    reply = answer(ARGV(STEP, PROBE, "has-mount", dev));
    if (umount2(dir, MNT_DETACH) == -1)
        fail_check("cannot remove the marker: %s", strerror(errno));
    if (strcmp(reply, "ENOSYS") == 0)
        skip_check("listmount(2) and statmount(2) need Linux 6.8");
    return !marker_present(reply);
}

/*
 * No mount propagates either way, whatever mechanism the step uses: a
 * tmpfs the probe mounts on /root inside never appears in the sandbox's
 * table, and a marker the sandbox mounts on the rootfs's mnt after the
 * container has started never appears below the container's root (it
 * would be at /mnt). On 03 the namespace is the sandbox's: both appear. /root
 * is on the root mount itself, and there on the rootfs and on every host (the
 * VM has no /mnt).
 */
static bool
mount_propagation(const char *step)
{
    struct run_opts opts = {.keep_stdin = true};
    char dir[PATH_MAX], dev[32];
    bool out, in;
    const char *line;
    struct proc p;

    if (strcmp(answer(ARGV(STEP, PROBE, "mount-tmpfs", "/root")), "mounted"))
        fail_check("the probe could not mount a tmpfs on /root");
    out = sandbox_mounts("boxstep-probe", true) > 0;
    spawn(&p, &opts, ARGV(STEP, PROBE, "sees-mount", "-"));
    if (!(line = read_line(&p, 5000)) || strcmp(line, "ready"))
        fail_check("probe sees-mount did not start: %s", p.err);
    snprintf(dir, sizeof(dir), "%s/rootfs/mnt", build_dir());
    mount_marker(dir, dev, sizeof(dev));
    if (dprintf(p.in_fd, "%s\n", dev) < 0 || !(line = read_line(&p, 5000)))
        fail_check("probe sees-mount did not answer: %s", p.err);
    in = marker_present(line);
    if (umount2(dir, MNT_DETACH) == -1)
        fail_check("cannot remove the marker: %s", strerror(errno));
    if (finish(&p, 5000) != 0)
        fail_check("probe sees-mount: status %d: %s", p.status, p.err);
    if (out != in)
        fail_check("half isolated: a mount made inside %s outside, one made "
                   "outside %s inside",
                   out ? "appeared" : "did not appear",
                   in ? "appeared" : "did not appear");
    return !out;
}

/*
 * A marker file next to the container's root filesystem, outside it: can
 * the container reach it? HOW is the way out it tries.
 */
static bool
escape_blocked(const char *step, char *how)
{
    char marker[512];
    const char *reply;
    int fd;

    snprintf(marker, sizeof(marker), "%s/boxstep-marker-%d", build_dir(),
             (int)getpid());
    if ((fd = open(marker, O_CREAT | O_WRONLY | O_CLOEXEC, 0644)) == -1)
        fail_check("cannot make the marker %s", marker);
    close(fd);
    reply = answer(ARGV(STEP, PROBE, "reach", marker, how));
    unlink(marker);
    if (strcmp(reply, "reached") && strcmp(reply, "unreachable"))
        fail_check("probe reach said '%s'", reply);
    return strcmp(reply, "unreachable") == 0;
}

static bool
escape_dotdot(const char *step)
{
    return escape_blocked(step, "dotdot");
}

static bool
escape_chroot(const char *step)
{
    return escape_blocked(step, "chroot");
}

static bool
escape_proc_root(const char *step)
{
    return escape_blocked(step, "proc-root");
}

/* /proc lists the container's init and the probe: PIDs 1 and 2, no more. */
static bool
proc_pids(const char *step)
{
    return strcmp(answer(ARGV(STEP, PROBE, "pids")), "1 2") == 0;
}

/*
 * A file written in /tmp is the container's own: the next container does
 * not find it. Without a tmpfs of its own, /tmp is the rootfs's directory
 * (on 03, the machine's /tmp: the sandbox keeps it, as a student's binary
 * may live there), shared by every container and the host: there the next
 * container finds the file, and removes it; the check removes it too,
 * whatever the containers said.
 */
static bool
tmp_private(const char *step)
{
    const char *cgroup_parent = getenv("BOXSTEP_CGROUP_PARENT");
    char path[300];
    const char *reply;

    /* The name is that of the test's cgroup (its last part), unique. */
    snprintf(path, sizeof(path), "/tmp/%s",
             strrchr(cgroup_parent, '/') ? strrchr(cgroup_parent, '/') + 1
                                         : cgroup_parent);
    if (strcmp(answer(ARGV(STEP, PROBE, "write", path)), "ok"))
        fail_check("the probe could not write %s", path);
    reply = answer(ARGV(STEP, PROBE, "rm", path));
    unlink(path); /* on 03, in the machine's /tmp */
    if (strcmp(reply, "removed") && strcmp(reply, "absent"))
        fail_check("probe rm %s said '%s'", path, reply);
    return strcmp(reply, "absent") == 0;
}

/*
 * COMMAND's umask is 022, whatever the caller's: the check calls the step
 * with umask 000, the most permissive, which on 03 COMMAND inherits.
 */
static bool
umask_fixed(const char *step)
{
    mode_t caller = umask(0);
    const char *reply = answer(ARGV(STEP, PROBE, "umask"));

    umask(caller);
    if (strcmp(reply, "0022") && strcmp(reply, "0000"))
        fail_check("the umask inside is %s, neither 0022 nor the caller's",
                   reply);
    return strcmp(reply, "0022") == 0;
}

/* /dev holds only the nodes and links a program expects. */
static bool
dev_nodes(const char *step)
{
    return strcmp(answer(ARGV(STEP, PROBE, "ls", "/dev")),
                  "fd full mqueue null ptmx pts random shm stderr stdin "
                  "stdout tty urandom zero") == 0;
}

/* Whether the mount at path inside has every flag of flags ("ro nodev"). */
static bool
mounted_with(const char *step, const char *path, const char *flags)
{
    char has[256], want[256], *word, *save;

    snprintf(has, sizeof(has), " %s ",
             answer(ARGV(STEP, PROBE, "mountflags", (char *)path)));
    snprintf(want, sizeof(want), "%s", flags);
    for (word = strtok_r(want, " ", &save); word;
         word = strtok_r(NULL, " ", &save)) {
        char spaced[64];

        snprintf(spaced, sizeof(spaced), " %s ", word);
        if (!strstr(has, spaced))
            return false;
    }
    return true;
}

/*
 * The /dev tmpfs cannot hold a device node or a program that works: its
 * nodes are bind mounts of their own, so it is nosuid, nodev and noexec.
 * On 03 /dev is the machine's devtmpfs.
 */
static bool
dev_flags(const char *step)
{
    return mounted_with(step, "/dev", "nosuid nodev noexec");
}

/* /sys is mounted read-only: checked by its flag, never by a write. */
static bool
sys_readonly(const char *step)
{
    return mounted_with(step, "/sys", "ro");
}

/*
 * A volume HOST directory with a file and a submount (a tmpfs), made in
 * the sandbox's private /run; returns the directory.
 */
static const char *
make_volume(void)
{
    static char dir[256];
    char sub[300];

    snprintf(dir, sizeof(dir), "%s/volume", getenv("TMPDIR"));
    snprintf(sub, sizeof(sub), "%s/sub", dir);
    if (mkdir(dir, 0755) == -1 || mkdir(sub, 0755) == -1 ||
        mount("boxstep-sub", sub, "tmpfs", 0, NULL) == -1)
        fail_check("cannot make the volume %s: %s", dir, strerror(errno));
    return dir;
}

static void
remove_volume(const char *dir)
{
    char sub[300];

    snprintf(sub, sizeof(sub), "%s/sub", dir);
    umount2(sub, MNT_DETACH);
}

/* A :ro volume refuses writes, in its submounts too; a rw one does not. */
static void
volume_read_only(const char *step)
{
    char spec[512], seen[512];
    const char *dir = make_volume();

    snprintf(spec, sizeof(spec), "%s:/mnt:ro", dir);
    if (strcmp(answer(ARGV(STEP, "--volume", spec, PROBE, "write", "/mnt/f")),
               "EROFS"))
        fail_check("a write to a :ro volume was not refused with EROFS");
    if (strcmp(
            answer(ARGV(STEP, "--volume", spec, PROBE, "write", "/mnt/sub/f")),
            "EROFS"))
        fail_check("a write to a :ro volume's submount was not refused");
    snprintf(spec, sizeof(spec), "%s:/mnt", dir);
    if (strcmp(
            answer(ARGV(STEP, "--volume", spec, PROBE, "write", "/mnt/sub/f")),
            "ok"))
        fail_check("a write to a rw volume's submount failed");
    snprintf(seen, sizeof(seen), "%s/sub/f", dir);
    if (access(seen, F_OK) != 0)
        fail_check("the rw volume's write is not seen outside at %s", seen);
    remove_volume(dir);
}

/*
 * A mount made inside a volume does not reach the volume's source, even
 * when that is a shared mount (the sandbox's / is shared, as on systemd).
 */
static void
volume_mount_stays_inside(const char *step)
{
    char spec[512];
    const char *dir = make_volume();

    snprintf(spec, sizeof(spec), "%s:/mnt", dir);
    if (strcmp(answer(ARGV(STEP, "--volume", spec, PROBE, "mount-tmpfs",
                           "/mnt/sub")),
               "mounted"))
        fail_check("the probe could not mount inside the volume");
    if (sandbox_mounts("boxstep-probe", true))
        fail_check("a mount made inside the volume appeared in the sandbox");
    remove_volume(dir);
}

/* Bad --volume and --rootfs: a message naming the problem, and 125. */
static void
mount_errors(const char *step)
{
    char file[256];
    int fd;

    expect_exit_125(
        ARGV(STEP, "--volume", "/no/such/dir:/mnt", PROBE, "exit", "0"),
        "/no/such/dir");
    expect_exit_125(ARGV(STEP, "--volume", "/tmp:mnt", PROBE, "exit", "0"),
                    "absolute");
    expect_exit_125(ARGV(STEP, "--volume", "/tmp", PROBE, "exit", "0"),
                    "HOST:CONTAINER");
    expect_exit_125(ARGV(STEP, "--volume", "/tmp:/mnt:rx", PROBE, "exit", "0"),
                    "ro or rw");
    /* Up to step 07 the image is shared: nothing is made in it. */
    snprintf(file, sizeof(file), "%s/rootfs/boxstep-no-dir", build_dir());
    expect_exit_125(
        ARGV(STEP, "--volume", "/tmp:/boxstep-no-dir/deep", PROBE, "exit", "0"),
        "CONTAINER path must exist");
    if (access(file, F_OK) == 0)
        fail_check("a volume made %s in the shared image", file);
    expect_exit_125(ARGV(STEP, "--rootfs", "/no/such/rootfs", "/bin/true"),
                    "stat(\"/no/such/rootfs\")");
    snprintf(file, sizeof(file), "%s/not-a-dir", getenv("TMPDIR"));
    if ((fd = open(file, O_CREAT | O_WRONLY, 0644)) == -1)
        fail_check("cannot make %s", file);
    close(fd);
    expect_exit_125(ARGV(STEP, "--rootfs", file, "/bin/true"), "ENOTDIR");
}

/*
 * The container's own shell on a terminal: job control works as on the
 * host. Ctrl-Z stops a job and gives the prompt back, fg resumes it,
 * Ctrl-C ends it, and exit ends the container with its status.
 */
static void
shell_job_control(const char *step)
{
    char line[4096];
    struct tty t;

    tty_start(&t);
    tty_expect(&t, "PROMPT> ");
    /* command_line(): a student's binary gets --rootfs, as in spawn(). */
    snprintf(line, sizeof(line), "%s\n",
             command_line(ARGV(STEP, "--env", "PS1=INNER$ ", "/bin/sh", "-i")));
    tty_send(&t, line);
    tty_expect(&t, "INNER$ ");
    tty_send(&t, "sleep 100\n");
    usleep(300000);
    tty_send(&t, "\x1a"); /* Ctrl-Z */
    tty_expect(&t, "Stopped");
    tty_expect(&t, "INNER$ ");
    tty_send(&t, "fg\n");
    usleep(300000);
    tty_send(&t, "\x03"); /* Ctrl-C */
    tty_expect(&t, "INNER$ ");
    tty_send(&t, "echo inner=$? tty=$(tty)\n");
    tty_expect(&t, "inner=130 tty=");
    tty_send(&t, "exit 3\n");
    tty_expect(&t, "PROMPT> ");
    tty_send(&t, "echo outer=$?\n");
    tty_expect(&t, "outer=3");
    tty_send(&t, "exit\n");
    waitpid(t.shell, NULL, 0);
    close(t.master);
}

int
main(void)
{
    static const struct property props[] = {
        {"mount_ns", "04", mount_ns, NULL},
        {"mount_invisible", "04", mount_invisible, NULL},
        {"mount_propagation", "04", mount_propagation, NULL},
        {"host_mounts_detached", "04", host_mounts_detached, NULL},
        {"escape_dotdot", "04", escape_dotdot, NULL},
        {"escape_chroot", "04", escape_chroot, NULL},
        {"escape_proc_root", "04", escape_proc_root, NULL},
        {"proc_pids", "04", proc_pids, NULL},
        {"dev_nodes", "04", dev_nodes, NULL},
        {"dev_flags", "04", dev_flags, NULL},
        {"sys_readonly", "04", sys_readonly, NULL},
        {"tmp_private", "04", tmp_private, NULL},
        {"umask_fixed", "04", umask_fixed, NULL},
    };
    static const struct behaviour behaviours[] = {
        {"volume", "04", "ro_refuses_writes", volume_read_only, NULL},
        {"volume_mount", "04", "stays_inside", volume_mount_stays_inside, NULL},
        {"mount_errors", "04", "exit_125", mount_errors, NULL},
        {"shell", "04", "has_job_control", shell_job_control, NULL},
    };

    return run_suite("04-mount", props, sizeof(props) / sizeof(props[0]),
                     behaviours, sizeof(behaviours) / sizeof(behaviours[0]));
}
