/*
 * rootless.c: an ordinary user's container, from step 06 on (with
 * user.c).
 *
 * An ordinary user can make a user namespace too, with only its own uid
 * mapped to 0, or a range /etc/subuid grants it, written by the setuid
 * helpers newuidmap and newgidmap. What needs the host's privileges stays
 * out of reach: no veth (--net none) and no idmapped mount, so the child
 * binds the rootfs as step 04 did; and the records go to a directory of
 * the user's own. A student may skip this file.
 *
 * Man pages: subuid(5), subgid(5), newuidmap(1), newgidmap(1),
 * posix_spawn(3), user_namespaces(7).
 */
#include <errno.h>
#include <pwd.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "step.h"

extern char **environ;

/*
 * The caller's name, for /etc/subuid, from /etc/passwd: fgetpwent(3)
 * reads the file itself, as newuidmap does, with no NSS module to load
 * into a static binary.
 */
static bool
user_name(uid_t uid, char *name, size_t len)
{
    FILE *f = fopen("/etc/passwd", "re");
    struct passwd *pw;
    bool found = false;

    while (f && !found && (pw = fgetpwent(f)))
        if (pw->pw_uid == uid) {
            snprintf(name, len, "%s", pw->pw_name);
            found = true;
        }
    if (f)
        fclose(f);
    return found;
}

/*
 * A line of subuid(5) or subgid(5), "NAME:START:COUNT"; false if it is not
 * one. line is cut where the name ends.
 */
bool
parse_subid_line(char *line, char **name, unsigned long *start,
                 unsigned long *count)
{
    char *end;

    *name = strsep(&line, ":");
    if (!line || !**name)
        return false;
    *start = strtoul(line, &end, 10);
    if (end == line || *end != ':')
        return false;
    line = end + 1;
    *count = strtoul(line, &end, 10);
    return end != line;
}

/*
 * The range subuid(5) or subgid(5) grants the caller, or a count of 0.
 * Both files name the user (by name or by uid), subgid(5) too: a gid is
 * no key there. The first line that names it counts.
 */
static struct id_range
granted_range(const char *file)
{
    char name[256] = "", number[24], line[512], *who;
    struct id_range r = {0};
    unsigned long start, count;
    FILE *f = fopen(file, "re");

    user_name(getuid(), name, sizeof(name));
    snprintf(number, sizeof(number), "%u", (unsigned)getuid());
    while (f && fgets(line, sizeof(line), f))
        if (parse_subid_line(line, &who, &start, &count) &&
            (strcmp(who, name) == 0 || strcmp(who, number) == 0)) {
            r = (struct id_range){
                .inside = 1, .outside = start, .count = count};
            break;
        }
    if (f)
        fclose(f);
    return r;
}

/*
 * Rootless, each range must be the caller's own id, or lie in the range
 * its file grants: newuidmap checks the same, but its refusal is terse.
 */
static void
check_rootless_map(const char *opt, const char *file, const struct id_map *m,
                   unsigned long own)
{
    struct id_range granted = granted_range(file);

    for (size_t i = 0; i < m->len; i++) {
        const struct id_range *r = &m->ranges[i];

        if (r->outside == own && r->count == 1)
            continue;
        if (granted.count && r->outside >= granted.outside &&
            r->outside + r->count <= granted.outside + granted.count)
            continue;
        errno = EPERM;
        die_hint(granted.count ? "a user may map only its own id and the "
                                 "range subuid(5) and subgid(5) grant it"
                               : "ask for a range in /etc/subuid and "
                                 "/etc/subgid, or map only your own id",
                 "--%s %lu:%lu:%lu: %s grants uid %u %s", opt, r->inside,
                 r->outside, r->count, file, (unsigned)getuid(),
                 granted.count ? "another range" : "no range");
    }
}

/*
 * Rootless: the caller's own id as 0, and the range the file grants it
 * (if any) from 1 on, up to 65536 ids in all.
 */
void
rootless_default_map(const char *file, unsigned long own, struct id_map *m)
{
    struct id_range granted = granted_range(file);

    m->ranges[0] = (struct id_range){.inside = 0, .outside = own, .count = 1};
    m->len = 1;
    if (granted.count) {
        if (granted.count > RANGE_SIZE - 1)
            granted.count = RANGE_SIZE - 1;
        m->ranges[m->len++] = granted;
    }
}

/*
 * A rootless runtime cannot write /run: its records go under
 * $XDG_RUNTIME_DIR, or a directory of its own in /tmp, which anyone
 * could have made first: it must be the caller's, and private.
 */
static void
rootless_state_dir(void)
{
    static char dir[PATH_MAX];
    const char *runtime_dir = getenv("XDG_RUNTIME_DIR");
    struct stat st;

    if (runtime_dir && runtime_dir[0] == '/') {
        snprintf(dir, sizeof(dir), "%s/boxstep", runtime_dir);
    } else {
        snprintf(dir, sizeof(dir), "/tmp/boxstep-%u", (unsigned)getuid());
        if (mkdir(dir, 0700) == -1 && errno != EEXIST)
            die("mkdir(\"%s\", 0700)", dir);
        must(lstat(dir, &st), "lstat(\"%s\")", dir);
        if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
            (st.st_mode & 077)) {
            errno = EPERM;
            die_hint("another user made it first: remove it, or set "
                     "XDG_RUNTIME_DIR",
                     "%s is not a private directory of uid %u", dir,
                     (unsigned)getuid());
        }
    }
    state_dir = dir;
}

/*
 * An ordinary user's container reaches its rootfs as that user: a
 * checkout under /root, or in another user's private home, is out of
 * reach (EACCES), whatever the image's own modes.
 */
void
parse_rootfs_access(const char *rootfs)
{
    if (geteuid() == 0 || access(rootfs, X_OK) == 0 || errno != EACCES)
        return; /* parse_rootfs() says what else is wrong */
    die_hint("a rootless container needs a rootfs its user can reach: "
             "build one with 'make rootfs' in a clone of your own, or give "
             "--rootfs DIR",
             "access(\"%s\", X_OK) for --rootfs", rootfs);
}

/*
 * What a rootless caller may not ask for, and where its records go: a
 * device on the host and a range subuid(5) does not grant are refused.
 */
void
parse_rootless(struct options *o)
{
    if (o->net != NET_NONE && o->net_name)
        usage_error("--net %s: a device on the host needs CAP_NET_ADMIN in "
                    "the host's network namespace, which only root has: run "
                    "it with sudo, or use --net none",
                    o->net_name);
    o->net = NET_NONE; /* the default without root */
    if (o->ip_spec)
        usage_error("--ip: the address of a veth, whose host end needs "
                    "CAP_NET_ADMIN in the host's network namespace, which "
                    "only root has: run it with sudo; a rootless container "
                    "has only its loopback");
    if (o->uid_map.len) {
        check_rootless_map("uidmap", "/etc/subuid", &o->uid_map, getuid());
        check_rootless_map("gidmap", "/etc/subgid", &o->gid_map, getgid());
    }
    rootless_state_dir();
}

/*
 * newuidmap(1) and newgidmap(1), setuid root, write a map wider than the
 * caller's own id, once subuid(5) and subgid(5) grant it the ids.
 */
void
parent_map_helper(const char *helper, pid_t pid, const struct id_map *m)
{
    char args[OPT_LIST_MAX * 3 + 1][24];
    char *argv[OPT_LIST_MAX * 3 + 3] = {(char *)helper, args[0]};
    size_t n = 2;
    pid_t child;
    int status;

    snprintf(args[0], sizeof(args[0]), "%d", pid);
    for (size_t i = 0; i < m->len; i++) {
        snprintf(args[n - 1], 24, "%lu", m->ranges[i].inside);
        snprintf(args[n], 24, "%lu", m->ranges[i].outside);
        snprintf(args[n + 1], 24, "%lu", m->ranges[i].count);
        argv[n] = args[n - 1];
        argv[n + 1] = args[n];
        argv[n + 2] = args[n + 1];
        n += 3;
    }
    argv[n] = NULL;
    trace("posix_spawnp(\"%s\", %s)", helper, argv_str(argv));
    /* posix_spawnp(3), waitpid(2) */
    errno = posix_spawnp(&child, helper, NULL, NULL, argv, environ);
    if (errno)
        die_hint("newuidmap and newgidmap are in Debian's uidmap package",
                 "posix_spawnp(\"%s\")", helper);
    must(waitpid(child, &status, 0), "waitpid(%d)", child);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        errno = EPERM;
        die_hint("it said why above; subuid(5) and subgid(5) list the ranges "
                 "a user may map",
                 "%s %s: %s", helper, args[0], wait_status_str(status));
    }
}
