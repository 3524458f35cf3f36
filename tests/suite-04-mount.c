/*
 * suite-04-mount.c: step 04 gives the container a root filesystem and a
 * mount table of its own. Each property holds on 04 and later, and the
 * same check shows the leak on 03, which still lives in the host's tree.
 * Volumes and the rootfs option are features of 04, not isolation: they
 * are behaviours, checked on 04 and every later step.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static bool
mount_ns(const char *step)
{
    return ns_isolated(step, "mnt");
}

/* Whether the sandbox's mount table lists a mount from source. */
static bool
sandbox_has_mount(const char *source)
{
    char line[1024], word[256];
    bool found = false;
    FILE *f = fopen("/proc/self/mountinfo", "re");

    while (f && fgets(line, sizeof(line), f)) {
        char *sep = strstr(line, " - ");

        if (sep && sscanf(sep + 3, "%*s %255s", word) == 1 &&
            strcmp(word, source) == 0)
            found = true;
    }
    if (f)
        fclose(f);
    return found;
}

/* A tmpfs mounted on /tmp inside never appears in the sandbox's table. */
static bool
mount_invisible(const char *step)
{
    bool leaked;

    if (strcmp(answer(ARGV(STEP, PROBE, "mount-tmpfs", "/tmp")), "mounted"))
        fail_check("the probe could not mount a tmpfs on /tmp");
    leaked = sandbox_has_mount("boxstep-probe");
    if (leaked && umount2("/tmp", MNT_DETACH) == -1)
        fail_check("cannot remove the leaked mount: %s", strerror(errno));
    return !leaked;
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

/* /dev holds only the nodes and links a program expects. */
static bool
dev_nodes(const char *step)
{
    return strcmp(answer(ARGV(STEP, PROBE, "ls", "/dev")),
                  "fd full mqueue null ptmx pts random shm stderr stdin "
                  "stdout tty urandom zero") == 0;
}

/* /sys is mounted read-only: checked by its flag, never by a write. */
static bool
sys_readonly(const char *step)
{
    return strcmp(answer(ARGV(STEP, PROBE, "mountflag", "/sys")), "ro") == 0;
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
    if (sandbox_has_mount("boxstep-probe"))
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
    snprintf(line, sizeof(line), "%s --env PS1=INNER\\$\\  /bin/sh -i\n", STEP);
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
        {"escape_dotdot", "04", escape_dotdot, NULL},
        {"escape_chroot", "04", escape_chroot, NULL},
        {"escape_proc_root", "04", escape_proc_root, NULL},
        {"proc_pids", "04", proc_pids, NULL},
        {"dev_nodes", "04", dev_nodes, NULL},
        {"sys_readonly", "04", sys_readonly, NULL},
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
