/*
 * suite-02-ipc.c: step 02 gives the container IPC objects of its own.
 * System V objects are found by key, POSIX message queues by name; each
 * check makes one outside and one inside, and looks for each from the
 * other side: isolated when neither is seen, leaking when both are.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static bool
ipc_ns(const char *step)
{
    return ns_isolated(step, "ipc");
}

/* Runs the probe (in the sandbox, or through the step) for one word. */
static const char *
probe_word(const char *step, char *op, char *kind, char *key)
{
    static char word[64];
    struct proc p;

    if (step)
        run(&p, kind ? ARGV(STEP, PROBE, op, kind, key)
                     : ARGV(STEP, PROBE, op, key));
    else
        run(&p, kind ? ARGV(PROBE, op, kind, key) : ARGV(PROBE, op, key));
    if (p.status != 0)
        fail_check("probe %s %s: status %d: %s %s", op, key, p.status, p.out,
                   p.err);
    snprintf(word, sizeof(word), "%s", trim(p.out));
    return word;
}

/*
 * One object made outside, one inside; then each looked up from the other
 * side. KIND is msg, sem or shm for System V, NULL for a POSIX queue.
 */
static bool
objects_isolated(const char *step, char *kind, char *key_out, char *key_in)
{
    char *make = kind ? "ipc-make" : "mq-make";
    char *find = kind ? "ipc-find" : "mq-find";
    char *rm = kind ? "ipc-rm" : "mq-rm";
    bool seen_inside, seen_outside;

    if (strcmp(probe_word(NULL, make, kind, key_out), "made"))
        fail_check("cannot make %s %s in the sandbox", kind, key_out);
    seen_inside = !strcmp(probe_word(step, find, kind, key_out), "found");
    if (strcmp(probe_word(step, make, kind, key_in), "made"))
        fail_check("cannot make %s %s inside", kind, key_in);
    seen_outside = !strcmp(probe_word(NULL, find, kind, key_in), "found");
    probe_word(NULL, rm, kind, key_out);
    probe_word(NULL, rm, kind, key_in);
    if (seen_inside != seen_outside)
        fail_check("half isolated: the sandbox's object is %s inside, the "
                   "container's %s outside",
                   seen_inside ? "seen" : "unseen",
                   seen_outside ? "seen" : "unseen");
    return !seen_inside;
}

static bool
sysv_msg(const char *step)
{
    return objects_isolated(step, "msg", "0x62780001", "0x62780002");
}

static bool
sysv_sem(const char *step)
{
    return objects_isolated(step, "sem", "0x62780003", "0x62780004");
}

static bool
sysv_shm(const char *step)
{
    return objects_isolated(step, "shm", "0x62780005", "0x62780006");
}

/* mq_open(3) needs no /dev/mqueue: the kernel keeps one per namespace. */
static bool
posix_mq(const char *step)
{
    return objects_isolated(step, NULL, "/boxstep-outside", "/boxstep-inside");
}

int
main(void)
{
    static const struct property props[] = {
        {"ipc_ns", "02", ipc_ns, NULL},     {"sysv_msg", "02", sysv_msg, NULL},
        {"sysv_sem", "02", sysv_sem, NULL}, {"sysv_shm", "02", sysv_shm, NULL},
        {"posix_mq", "02", posix_mq, NULL},
    };

    return run_suite("02-ipc", props, sizeof(props) / sizeof(props[0]), NULL,
                     0);
}
