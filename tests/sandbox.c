/*
 * sandbox.c: the throwaway outer sandbox each check runs in.
 *
 *   R (cmocka runner)  makes the test's cgroup, forks S, kills all on timeout
 *   S                  joins the cgroup, unshares five namespaces, forks I
 *   I (sandbox PID 1)  sets the sandbox up, forks W, reaps, checks leftovers
 *   W (worker)         runs the check; step binaries run below it
 *
 * Nothing a step does inside can reach the machine: the hostname, IPC
 * objects, mounts, network and processes it sees are the sandbox's, and
 * its fork loops stop at the cgroup's pids.max.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "boxstep.h"
#include "internal.h"
#include "harness.h"

#define SANDBOX_PIDS_MAX "256"
#define SANDBOX_HOSTNAME "sandbox"
#define MARKER_IFACE "bxmark0"
#define MARKER_PEER "bxmark1"
#define SANDBOX_TMP "/run/boxstep-test"
/* Where step 08 keeps containers' layers (BOXSTEP_LAYER_DIR), in the
 * sandbox's /run: never the machine's /var/lib/boxstep. */
#define SANDBOX_LAYERS "/run/boxstep-layers"

/* ---- cgroups: the test's own, found from /proc/self/mountinfo ---- */

struct cgroup_mount {
    char path[PATH_MAX];
    bool v2;
    bool v1_pids; /* a v1 hierarchy with the pids controller */
};

/* Whether a list of words (separated by spaces or commas) holds word. */
static bool
has_word(const char *list, const char *word)
{
    char buf[512], *tok, *save;

    snprintf(buf, sizeof(buf), "%s", list);
    for (tok = strtok_r(buf, " ,\n", &save); tok;
         tok = strtok_r(NULL, " ,\n", &save))
        if (strcmp(tok, word) == 0)
            return true;
    return false;
}

/* Lists the cgroup hierarchies mounted here (v1 and v2). */
static size_t
cgroup_mounts(struct cgroup_mount *mounts, size_t max)
{
    char line[1024], mnt[PATH_MAX], fstype[64], opts[512];
    size_t n = 0;
    FILE *f = fopen("/proc/self/mountinfo", "re");

    while (f && n < max && fgets(line, sizeof(line), f)) {
        char *sep = strstr(line, " - ");

        if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
            sscanf(sep + 3, "%63s %*s %511s", fstype, opts) != 2)
            continue;
        if (strcmp(fstype, "cgroup") && strcmp(fstype, "cgroup2"))
            continue;
        snprintf(mounts[n].path, sizeof(mounts[n].path), "%s", mnt);
        mounts[n].v2 = strcmp(fstype, "cgroup2") == 0;
        /* A v1 hierarchy names its controllers in its super options. */
        mounts[n].v1_pids = !mounts[n].v2 && has_word(opts, "pids");
        n++;
    }
    if (f)
        fclose(f);
    return n;
}

static bool
file_has_word(const char *path, const char *word)
{
    char buf[512] = "";
    FILE *f = fopen(path, "re");

    if (!f)
        return false;
    if (!fgets(buf, sizeof(buf), f))
        buf[0] = '\0';
    fclose(f);
    return has_word(buf, word);
}

/*
 * The hierarchy that holds the pids controller: a v1 "pids" hierarchy,
 * or cgroup2 where its root delegates pids to children.
 */
static int
pids_hierarchy(char *path, size_t len)
{
    struct cgroup_mount m[32];
    size_t n = cgroup_mounts(m, 32);
    char file[PATH_MAX + 32];

    for (size_t i = 0; i < n; i++) {
        if (m[i].v1_pids) {
            snprintf(path, len, "%s", m[i].path);
            return 0;
        }
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(file, sizeof(file), "%s/cgroup.subtree_control", m[i].path);
        if (m[i].v2 && file_has_word(file, "pids")) {
            snprintf(path, len, "%s", m[i].path);
            return 0;
        }
    }
    return -1;
}

static int
write_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    ssize_t n;

    if (fd == -1)
        return -1;
    n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Sends SIGKILL to every process in a cgroup until it is empty. */
static void
kill_cgroup(const char *dir)
{
    char file[PATH_MAX + 16];

    snprintf(file, sizeof(file), "%s/cgroup.procs", dir);
    for (int round = 0; round < 200; round++) {
        FILE *f = fopen(file, "re");
        int pid, found = 0;

        while (f && fscanf(f, "%d", &pid) == 1) {
            kill(pid, SIGKILL);
            found++;
        }
        if (f)
            fclose(f);
        if (!found)
            return;
        usleep(10000);
    }
}

/*
 * Removes a cgroup tree the test made, deepest first. A frozen task
 * ignores SIGKILL until thawed, so each cgroup is thawed, then emptied.
 * Returns how many cgroups there were below dir (leftovers of a step).
 */
static int
remove_cgroup_tree(const char *dir)
{
    char path[PATH_MAX];
    struct dirent *e;
    DIR *d = opendir(dir);
    int below = 0;

    if (!d)
        return 0;
    while ((e = readdir(d))) {
        if (e->d_type != DT_DIR || e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        below += 1 + remove_cgroup_tree(path);
    }
    closedir(d);
    snprintf(path, sizeof(path), "%s/freezer.state", dir);
    write_text(path, "THAWED");
    snprintf(path, sizeof(path), "%s/cgroup.freeze", dir);
    write_text(path, "0");
    kill_cgroup(dir);
    for (int i = 0; i < 100 && rmdir(dir) == -1 && errno == EBUSY; i++)
        usleep(20000);
    return below;
}

/*
 * The private cgroup parent handed to the steps (BOXSTEP_CGROUP_PARENT):
 * whatever cgroups a step makes, it makes below this name, so the check
 * for leftovers looks only at what this test's runs made. Returns how many
 * cgroups were left below it in all hierarchies, after removing them.
 */
static int
remove_parent_cgroups(const char *parent)
{
    struct cgroup_mount m[32];
    size_t n = cgroup_mounts(m, 32);
    char dir[PATH_MAX + 256];
    int left = 0;

    for (size_t i = 0; i < n; i++) {
        snprintf(dir, sizeof(dir), "%s/%s", m[i].path, parent);
        left += remove_cgroup_tree(dir);
    }
    return left;
}

/* ---- the sandbox's network: loopback up, and a marker veth pair ---- */

/*
 * ip link add MARKER_IFACE type veth peer name MARKER_PEER; then an
 * address and its route on MARKER_IFACE, up: a step that shares the
 * sandbox's network shows both devices and a route that is not its own.
 * The address is from TEST-NET-2 (RFC 5737), and no traffic is sent to it.
 */
static int
add_marker_veth(void)
{
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
    struct in_addr addr = {htonl(0xc6336401)}; /* 198.51.100.1 */
    struct ifaddrmsg ifa = {.ifa_family = AF_INET, .ifa_prefixlen = 24};
    struct rtattr *info, *data, *peer;
    struct nl_request req;

    nl_start(&req, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
    nl_add(&req, IFLA_IFNAME, MARKER_IFACE, sizeof(MARKER_IFACE));
    info = nl_add(&req, IFLA_LINKINFO, NULL, 0);
    nl_add(&req, IFLA_INFO_KIND, "veth", 5);
    data = nl_add(&req, IFLA_INFO_DATA, NULL, 0);
    peer = nl_add(&req, VETH_INFO_PEER, &ifi, sizeof(ifi));
    nl_add(&req, IFLA_IFNAME, MARKER_PEER, sizeof(MARKER_PEER));
    nl_end(&req, peer);
    nl_end(&req, data);
    nl_end(&req, info);
    if (nl_send(&req) == -1)
        return -1;
    ifa.ifa_index = if_nametoindex(MARKER_IFACE);
    nl_start(&req, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof(ifa));
    nl_add(&req, IFA_LOCAL, &addr, sizeof(addr));
    nl_add(&req, IFA_ADDRESS, &addr, sizeof(addr));
    if (nl_send(&req) == -1)
        return -1;
    ifi.ifi_index = ifa.ifa_index;
    ifi.ifi_flags = ifi.ifi_change = IFF_UP;
    nl_start(&req, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
    return nl_send(&req);
}

static int
loopback_up(void)
{
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC,
                            .ifi_index = if_nametoindex("lo"),
                            .ifi_flags = IFF_UP,
                            .ifi_change = IFF_UP};
    struct nl_request req;

    nl_start(&req, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
    return nl_send(&req);
}

/* ---- inside: set-up, and what a test may not leave behind ---- */

struct snapshot {
    char mounts[8192];
    char ifaces[1024];
};

/* The mount points, one per line, as /proc/self/mountinfo lists them. */
static void
list_mounts(char *buf, size_t len)
{
    char line[1024], mnt[PATH_MAX];
    size_t n = 0;
    FILE *f = fopen("/proc/self/mountinfo", "re");

    buf[0] = '\0';
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1 && n < len)
            n += snprintf(buf + n, len - n, "%s\n", mnt);
    if (f)
        fclose(f);
}

/* The interfaces of this network namespace, from /proc/self/net/dev. */
static void
list_ifaces(char *buf, size_t len)
{
    char line[512], name[IFNAMSIZ + 1];
    size_t n = 0;
    FILE *f = fopen("/proc/self/net/dev", "re");

    buf[0] = '\0';
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, " %16[^:]:", name) == 1 && n < len)
            n += snprintf(buf + n, len - n, "%s ", name);
    if (f)
        fclose(f);
}

static void
take_snapshot(struct snapshot *s)
{
    list_mounts(s->mounts, sizeof(s->mounts));
    list_ifaces(s->ifaces, sizeof(s->ifaces));
}

static void
die_setup(const char *what)
{
    fprintf(stderr, "    FAIL: sandbox set-up: %s: %s\n", what,
            strerror(errno));
    _exit(1);
}

/*
 * The probe's directory on PROBE_DIR, read-only. From step 04 on, the
 * harness runs a step with --volume DIR:/srv:ro and the probe as
 * /srv/probe, where the container's own root has it. A binary that keeps
 * the host's root (a student's step 04 half done, or its exercise's
 * skeleton: make exercise) finds the probe at the same path, so that its
 * grade says which properties leak, not that the probe could not run. A
 * machine without /srv (the lab VM) goes without: the sandbox makes
 * nothing on the machine's disk.
 */
static void
bind_probe_dir(void)
{
    char dir[PATH_MAX];
    struct stat st;

    if (stat(PROBE_DIR, &st) == -1 && errno == ENOENT)
        return;
    snprintf(dir, sizeof(dir), "%s", probe_path());
    *strrchr(dir, '/') = '\0';
    if (mount(dir, PROBE_DIR, NULL, MS_BIND, NULL) == -1 ||
        mount(NULL, PROBE_DIR, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) ==
            -1)
        die_setup("bind the probe's directory on " PROBE_DIR);
}

static void
setup_sandbox(void)
{
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              NULL) == -1)
        die_setup("mount proc on /proc");
    if (mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") ==
        -1)
        die_setup("mount tmpfs on /run");
    if (mkdir(SANDBOX_TMP, 01777) == -1)
        die_setup("mkdir " SANDBOX_TMP);
    if (sethostname(SANDBOX_HOSTNAME, strlen(SANDBOX_HOSTNAME)) == -1 ||
        setdomainname(SANDBOX_HOSTNAME, strlen(SANDBOX_HOSTNAME)) == -1)
        die_setup("sethostname");
    if (loopback_up() == -1)
        die_setup("bring lo up");
    if (add_marker_veth() == -1)
        die_setup("add the marker veth pair " MARKER_IFACE);
    bind_probe_dir();
    setenv("TMPDIR", SANDBOX_TMP, 1);
}

/* Processes other than the sandbox's init, as "pid (name)" words. */
static int
list_strays(char *buf, size_t len)
{
    char path[300], name[64];
    struct dirent *e;
    DIR *d = opendir("/proc");
    int count = 0;
    size_t n = 0;

    buf[0] = '\0';
    while (d && (e = readdir(d))) {
        int pid = atoi(e->d_name);
        FILE *f;

        if (pid <= 1)
            continue;
        snprintf(path, sizeof(path), "/proc/%d/comm", pid);
        name[0] = '\0';
        if ((f = fopen(path, "re"))) {
            if (!fgets(name, sizeof(name), f))
                name[0] = '\0';
            fclose(f);
        }
        count++;
        if (n < len)
            n += snprintf(buf + n, len - n, "%d (%s) ", pid,
                          strtok(name, "\n") ? name : "?");
    }
    if (d)
        closedir(d);
    return count;
}

/* Reaps children without blocking; returns whether worker was one. */
static bool
reap_some(pid_t worker, int *worker_status)
{
    int status;
    pid_t pid;
    bool got = false;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        if (pid == worker) {
            *worker_status = status;
            got = true;
        }
    return got;
}

/* Counts (and names) what is left in dir: a state file, a layer. */
static int
list_left(const char *what, const char *dir)
{
    struct dirent *e;
    int left = 0;
    DIR *d = opendir(dir);

    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') {
            fprintf(stderr, "    FAIL: %s left: %s/%s\n", what, dir, e->d_name);
            left++;
        }
    if (d)
        closedir(d);
    return left;
}

/*
 * After the check: no process, mount, interface, state file or layer
 * (step 08's, BOXSTEP_LAYER_DIR) may be left. Processes get two seconds to
 * finish exiting.
 */
static int
check_leftovers(const struct snapshot *before)
{
    struct snapshot after;
    char strays[512];
    int left = 0, dummy;

    for (int i = 0; i < 200 && list_strays(strays, sizeof(strays)); i++) {
        reap_some(-1, &dummy);
        usleep(10000);
    }
    if (list_strays(strays, sizeof(strays))) {
        fprintf(stderr, "    FAIL: processes left: %s\n", strays);
        left++;
    }
    /* The kernel removes a container's veth pair after it exits. */
    take_snapshot(&after);
    for (int i = 0; i < 200 && strcmp(before->ifaces, after.ifaces); i++) {
        usleep(10000);
        take_snapshot(&after);
    }
    if (strcmp(before->mounts, after.mounts)) {
        fprintf(stderr, "    FAIL: mounts changed; now:\n%s", after.mounts);
        left++;
    }
    if (strcmp(before->ifaces, after.ifaces)) {
        fprintf(stderr, "    FAIL: interfaces left: %s (before: %s)\n",
                after.ifaces, before->ifaces);
        left++;
    }
    left += list_left("state", "/run/boxstep");
    left += list_left("a layer", SANDBOX_LAYERS);
    return left;
}

/* I: the sandbox's PID 1. */
static int
sandbox_init(int (*fn)(void *), void *arg, bool check)
{
    struct snapshot before;
    int status = 0;
    pid_t worker;

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    setup_sandbox();
    take_snapshot(&before);
    fflush(NULL);
    worker = fork();
    if (worker == 0)
        _exit(fn(arg));
    for (;;) {
        int st;
        pid_t pid = waitpid(-1, &st, 0);

        if (pid == worker) {
            status = st;
            break;
        }
        if (pid == -1 && errno != EINTR)
            break;
    }
    if (check && check_leftovers(&before))
        return 1;
    if (WIFSIGNALED(status) && !check)
        return 128 + WTERMSIG(status);
    if (WIFSIGNALED(status)) {
        fprintf(stderr, "    FAIL: the check died of signal %d\n",
                WTERMSIG(status));
        return 1;
    }
    return WEXITSTATUS(status);
}

/* S: joins the test's cgroup, unshares, and waits for the sandbox. */
static int
sandbox_outer(int (*fn)(void *), void *arg, const char *cgroup, bool check)
{
    char procs[PATH_MAX + 16], pid_text[16];
    int status;
    pid_t init;

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    snprintf(procs, sizeof(procs), "%s/cgroup.procs", cgroup);
    snprintf(pid_text, sizeof(pid_text), "%d", (int)getpid());
    if (write_text(procs, pid_text) == -1)
        die_setup("join the test cgroup");
    if (unshare(CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNS | CLONE_NEWNET |
                CLONE_NEWPID) == -1)
        die_setup("unshare");
    /*
     * No mount made in the sandbox may propagate to the machine: cut every
     * mount off its peer group. Then make them all shared again, peers only
     * within the sandbox: / is shared on a systemd machine, as on most
     * students', and the steps must work there, not only on a private /.
     */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
        die_setup("make / rprivate");
    if (mount(NULL, "/", NULL, MS_REC | MS_SHARED, NULL) == -1)
        die_setup("make / rshared within the sandbox");
    init = fork();
    if (init == 0)
        _exit(sandbox_init(fn, arg, check));
    if (init == -1 || waitpid(init, &status, 0) == -1)
        die_setup("fork the sandbox's init");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/*
 * The cgroup parent of the sandbox this harness runs in, when it runs in
 * one (make test inside make sandbox): BOXSTEP_CGROUP_PARENT as it was
 * at the start, before the harness set its own; "" outside any. Its
 * cgroups go below that parent, which the sandbox removes when it ends,
 * whatever happened to this harness.
 */
static const char *
enclosing_parent(void)
{
    static char parent[128];
    static bool known;

    if (!known)
        snprintf(parent, sizeof(parent), "%s",
                 getenv("BOXSTEP_CGROUP_PARENT") ?: "");
    known = true;
    return parent;
}

/*
 * A harness killed from outside (Ctrl-C on make test, a timeout(1)) could
 * not remove its cgroups: the next run does. They are named after the
 * runner's PID namespace and PID; those whose runner is gone are thawed,
 * emptied and removed. A PID means something only in its namespace: the
 * cgroups of a runner in another one (make test run inside make sandbox,
 * or the make sandbox around it) are left alone. So is one whose PID was
 * reused since: erring on the safe side.
 */
static void
remove_stale_cgroups(void)
{
    struct cgroup_mount m[32];
    size_t n = cgroup_mounts(m, 32);
    char path[PATH_MAX + 256];
    struct dirent *e;

    for (size_t i = 0; i < n; i++) {
        char base[PATH_MAX + 192];
        DIR *d;

        snprintf(base, sizeof(base), "%s/%s", m[i].path, enclosing_parent());
        d = opendir(base);
        while (d && (e = readdir(d))) {
            unsigned long pidns;
            int pid, counter;

            if ((sscanf(e->d_name, "boxstep-harness-%lu-%d-%d", &pidns, &pid,
                        &counter) == 3 ||
                 sscanf(e->d_name, "boxstep-test-%lu-%d-%d", &pidns, &pid,
                        &counter) == 3) &&
                pidns == pid_namespace_inode() && kill(pid, 0) == -1 &&
                errno == ESRCH) {
                snprintf(path, sizeof(path), "%s/%s", base, e->d_name);
                remove_cgroup_tree(path);
            }
        }
        if (d)
            closedir(d);
    }
}

/* Makes a cgroup of the pids hierarchy with the sandbox's pids.max. */
static int
make_pids_cgroup(const char *dir)
{
    char file[PATH_MAX + 16];

    snprintf(file, sizeof(file), "%s/pids.max", dir);
    if (mkdir(dir, 0755) == -1 || write_text(file, SANDBOX_PIDS_MAX)) {
        fprintf(stderr, "    FAIL: cannot make %s: %s\n", dir, strerror(errno));
        rmdir(dir);
        return -1;
    }
    return 0;
}

/*
 * Makes the test's pids cgroup, and names the steps' cgroup parent. The
 * parent is made in the pids hierarchy too, with the same limit: a step
 * that moves its container into a cgroup of its own (07) moves it out of
 * the test's cgroup, and a fork loop there must still stop. Inside a
 * sandbox, both go below its own parent.
 */
static int
make_test_cgroup(char *cgroup, size_t len, char *parent, size_t plen)
{
    static int counter;
    const char *outer = enclosing_parent();
    char root[PATH_MAX], name[64], dir[PATH_MAX + 256];

    if (pids_hierarchy(root, sizeof(root)) == -1) {
        fprintf(stderr, "    FAIL: no cgroup hierarchy with the pids "
                        "controller: the sandbox cannot bound fork loops\n");
        return -1;
    }
    if (outer[0]) {
        /* cgroup v2: the parent hands the pids controller on (v1: no file). */
        snprintf(dir, sizeof(dir), "%s/%s/cgroup.subtree_control", root, outer);
        write_text(dir, "+pids");
    }
    counter++;
    snprintf(name, sizeof(name), "%lu-%d-%d", pid_namespace_inode(),
             (int)getpid(), counter);
    snprintf(cgroup, len, "%s/%s%sboxstep-harness-%s", root, outer,
             outer[0] ? "/" : "", name);
    snprintf(parent, plen, "%s%sboxstep-test-%s", outer, outer[0] ? "/" : "",
             name);
    snprintf(dir, sizeof(dir), "%s/%s", root, parent);
    if (make_pids_cgroup(cgroup) == -1)
        return -1;
    if (make_pids_cgroup(dir) == -1) {
        rmdir(cgroup);
        return -1;
    }
    return 0;
}

/*
 * Waits for S up to timeout_s (a negative timeout_s: for ever); returns
 * its exit status, or -1. On a timeout the steps' cgroups are thawed and
 * emptied first: a frozen task ignores SIGKILL until it is thawed.
 */
static int
wait_sandbox(pid_t outer, int timeout_s, const char *cgroup, const char *parent)
{
    int pidfd = syscall(SYS_pidfd_open, outer, 0);
    struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
    int status;

    if (pidfd == -1 || poll(&pfd, 1, timeout_s * 1000) == 0) {
        fprintf(stderr, "    FAIL: timed out after %d s: killing the test\n",
                timeout_s);
        remove_parent_cgroups(parent);
        kill_cgroup(cgroup);
        kill(outer, SIGKILL);
        waitpid(outer, &status, 0);
        if (pidfd >= 0)
            close(pidfd);
        return -1;
    }
    close(pidfd);
    waitpid(outer, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * Runs fn(arg) as a fresh sandbox's worker, and returns fn's exit status
 * (0 for a pass), or 1 when something was left behind, or -1 on timeout.
 */
int
sandbox_run(int (*fn)(void *), void *arg, int timeout_s, bool check)
{
    char cgroup[PATH_MAX], parent[256];
    int status, left;
    pid_t outer;

    remove_stale_cgroups();
    if (make_test_cgroup(cgroup, sizeof(cgroup), parent, sizeof(parent)))
        return -1;
    setenv("BOXSTEP_CGROUP_PARENT", parent, 1);
    /* The image store (tools/image-import), in the sandbox's own /run:
     * never the machine's /var/lib/boxstep-images. */
    setenv("BOXSTEP_IMAGE_DIR", "/run/boxstep-images", 1);
    setenv("BOXSTEP_LAYER_DIR", SANDBOX_LAYERS, 1);
    fflush(NULL);
    outer = fork();
    if (outer == 0)
        _exit(sandbox_outer(fn, arg, cgroup, check));
    status = wait_sandbox(outer, timeout_s, cgroup, parent);
    /* Steps' cgroups first: thawed, emptied, then removed. */
    left = remove_parent_cgroups(parent);
    if (left && check) {
        /* Whatever the check said: a skip or a leak left things behind. */
        fprintf(stderr, "    FAIL: %d cgroups left below %s\n", left, parent);
        status = 1;
    }
    remove_cgroup_tree(cgroup);
    return status;
}
