/*
 * cgroup-join.c: how the child gets into its cgroup, from step 07 on.
 *
 * A limit counts only for the tasks in the cgroup, so COMMAND must start
 * inside. The runtime opens, before clone(), what the child gets in by;
 * on v1 the child then writes itself into each hierarchy's tasks file,
 * and on v2 clone3(2) makes it inside. Neither moves a task by its PID,
 * which makes the first start after a pause wait for an RCU grace period
 * (join_cgroup() says why); chapter 9 tells how that was found.
 *
 * Man pages: cgroups(7), clone(2) (clone3, CLONE_INTO_CGROUP), open(2),
 * write(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h> /* struct clone_args, CLONE_INTO_CGROUP */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "step.h"

/*
 * How the child gets in, opened here, before clone(), by the runtime
 * (host root, or rootless the user the subtree is delegated to). v1: the
 * tasks file of each hierarchy, which the child writes itself into
 * through its copy of the descriptor. v2: the cgroup's directory, which
 * clone3(2) makes the child in (open(2), O_DIRECTORY).
 */
void
open_join_files(struct container *c)
{
    char root[PATH_MAX], dir[PATH_MAX * 2];

    if (c->cgroup_version == CGROUP_V1) {
        for (size_t i = 0; i < c->v1_count; i++) {
            snprintf(dir, sizeof(dir), "%s/%s", c->v1[i].mount, c->cgroup);
            c->join_fds[c->join_count++] = cgroup_open(dir, "tasks");
        }
        return;
    }
    v2_root(root, sizeof(root));
    snprintf(dir, sizeof(dir), "%s/%s", root, c->cgroup);
    c->cgroup_dir = must(open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC),
                         "open(\"%s\", O_DIRECTORY)", dir);
}

/* After clone(): the runtime's copies of those files go; the child's stay. */
void
parent_close_cgroup_files(struct container *c)
{
    for (size_t i = 0; i < c->join_count; i++)
        close(c->join_fds[i]);
    if (c->cgroup_dir != -1)
        close(c->cgroup_dir);
}

/*
 * v2: the child is made in its cgroup, clone3(2) with CLONE_INTO_CGROUP
 * and the cgroup's directory: it never exists outside it, and nothing
 * has to move it, so no lock is taken for writing (join_cgroup() says
 * why that matters). glibc has no wrapper: syscall(2). With no stack
 * given, the child runs on a copy of the runtime's, as after fork(2): it
 * returns here, runs fn and exits.
 */
pid_t
clone_into_cgroup(int (*fn)(void *), int flags, struct container *c)
{
    struct clone_args args = {
        .flags = (unsigned)(flags & ~CSIGNAL) | CLONE_INTO_CGROUP,
        .exit_signal = (unsigned)(flags & CSIGNAL),
        .cgroup = (unsigned)c->cgroup_dir,
    };
    pid_t pid = syscall(SYS_clone3, &args, sizeof(args));

    if (pid == 0)
        _exit(fn(c));
    if (pid == -1)
        die_hint(userns_blocked_hint(errno),
                 "clone3({%s|CLONE_INTO_CGROUP, %d})", clone_flags_str(flags),
                 c->cgroup_dir);
    return must(pid, "clone3({%s|CLONE_INTO_CGROUP, %d})",
                clone_flags_str(flags), c->cgroup_dir);
}

/*
 * The child, first thing, on v1: it moves itself into its cgroup, write(2)
 * of "0" (itself) to each tasks file the runtime opened for it. It may:
 * a user namespace changes what it may do, not yet who it is (still host
 * root until setup_user(); rootless, the user, as the runtime was), and
 * the kernel checks whoever opened the file anyway. So COMMAND and all it
 * forks start inside. Why the child, and not the runtime writing the
 * child's PID: moving a task named by its PID takes a lock that every
 * fork in the system takes too (cgroup_threadgroup_rwsem), and the first
 * to take it for writing after a quiet while waits for an RCU grace
 * period, 10 ms and more on this machine; a single thread moving itself
 * ("0" to tasks) is spared it in recent kernels (6.12 and 6.18 here). On v2,
 * where cgroup.procs would move a whole process under that lock,
 * clone_into_cgroup() made the child inside: it only closes its copy of the
 * directory, which its init would otherwise hold for the container's whole
 * life.
 */
void
join_cgroup(const struct container *c)
{
    for (size_t i = 0; i < c->join_count; i++) {
        must(write(c->join_fds[i], "0", 1), "write(%d \"%s/%s/tasks\", \"0\")",
             c->join_fds[i], c->v1[i].mount, c->cgroup);
        close(c->join_fds[i]);
    }
    if (c->cgroup_dir != -1)
        close(c->cgroup_dir);
}
