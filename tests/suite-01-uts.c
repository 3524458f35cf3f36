/*
 * suite-01-uts.c: step 01 gives the container a hostname and NIS domain
 * name of its own. Each property holds on 01 and every later step, and the
 * same check shows the leak on 00.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* The probe's UTS namespace differs from the sandbox's. */
static bool
uts_ns(const char *step)
{
    return ns_isolated(step, "uts");
}

/*
 * A name set inside is seen inside, and the sandbox's is unchanged. On 00
 * the probe renames the sandbox itself: the leak.
 */
static bool
uts_name(const char *step, const char *set, const char *get)
{
    struct proc p;
    char after[256];

    if (run(&p, ARGV((char *)step_path(step), (char *)probe_path(), (char *)set,
                     "inner-name")) != 0)
        fail_check("probe %s: status %d: %s %s", set, p.status, p.out, p.err);
    if (strcmp(trim(p.out), "inner-name") != 0)
        fail_check("inside, %s reads back '%s'", set, p.out);
    if (run(&p, ARGV((char *)probe_path(), (char *)get)) != 0)
        fail_check("probe %s in the sandbox failed", get);
    snprintf(after, sizeof(after), "%s", trim(p.out));
    if (strcmp(after, "inner-name") == 0)
        return false;
    if (strcmp(after, "sandbox") != 0)
        fail_check("the sandbox's name is '%s', neither its own nor inner-name",
                   after);
    return true;
}

static bool
hostname(const char *step)
{
    return uts_name(step, "sethostname", "hostname");
}

static bool
domainname(const char *step)
{
    return uts_name(step, "setdomainname", "domainname");
}

/*
 * Nobody sets the NIS domain name inside, yet it is not the caller's: the
 * container starts with the kernel's "(none)". The sandbox has one of its
 * own, which on 00 the probe reads.
 */
static bool
domainname_unset(const char *step)
{
    char caller[256];
    const char *inside = answer(ARGV(STEP, PROBE, "domainname"));

    if (getdomainname(caller, sizeof(caller)) == -1)
        fail_check("cannot read the sandbox's domain name");
    if (strcmp(inside, "(none)") == 0)
        return true;
    if (strcmp(inside, caller) == 0)
        return false;
    fail_check("the domain name inside is '%s', neither (none) nor the "
               "caller's '%s'",
               inside, caller);
}

/* Without --hostname the container is called box, and so says HOSTNAME. */
static void
default_hostname(const char *step)
{
    struct proc p;

    if (run(&p, ARGV((char *)step_path(step), (char *)probe_path(),
                     "hostname")) != 0)
        fail_check("probe hostname: status %d", p.status);
    if (strcmp(trim(p.out), "box") != 0)
        fail_check("hostname is '%s', not box", p.out);
    if (run(&p, ARGV((char *)step_path(step), "--hostname", "web1",
                     (char *)probe_path(), "env")) != 0 ||
        !strstr(p.out, "HOSTNAME=web1\n"))
        fail_check("--hostname web1: environment has no HOSTNAME=web1:\n%s",
                   p.out);
}

/*
 * Creating a namespace without a user namespace needs CAP_SYS_ADMIN: an
 * unprivileged caller gets 125 and a hint to use sudo, whichever call
 * fails first: clone(2) with EPERM, or from step 05 the state directory
 * in /run, root's, with EACCES. The binary is copied to the sandbox's
 * /run, where nobody can execute it whatever the permissions of the
 * checkout.
 */
static void
nonroot_refused(const char *step)
{
    struct proc p;
    struct run_opts nobody = {.uid = 65534};
    char copy[256], cmd[1024];

    snprintf(copy, sizeof(copy), "%s/%s", getenv("TMPDIR"), step);
    /* From 04 the default rootfs is the one next to the binary. */
    snprintf(cmd, sizeof(cmd),
             "cp '%s' '%s' && chmod 755 '%s' && cp -a '%s/rootfs' '%s'",
             step_path(step), copy, copy, build_dir(), getenv("TMPDIR"));
    if (system(cmd) != 0)
        fail_check("cannot copy the step binary: %s", cmd);
    spawn(&p, &nobody, ARGV(copy, "/bin/true"));
    if (finish(&p, 10000) != 125)
        fail_check("as nobody: status %d, not 125; stderr: %s", p.status,
                   p.err);
    if ((!strstr(p.err, "EPERM") && !strstr(p.err, "EACCES")) ||
        !strstr(p.err, "hint:") || !strstr(p.err, "sudo"))
        fail_check("as nobody: no EPERM or EACCES and sudo hint in:\n%s",
                   p.err);
}

/*
 * -v traces the layer's calls too: the child's sethostname(2), tagged
 * with its side and PID like every line of the trace (suite 00 checks
 * the tags on every step).
 */
static void
trace_sethostname(const char *step)
{
    struct proc p;

    if (run(&p, ARGV(STEP, "-v", PROBE, "exit", "0")) != 0)
        fail_check("-v probe exit 0: status %d: %s", p.status, p.err);
    if (!matches(p.err, "^\\[child [0-9]+\\] sethostname\\(\"box\", 3\\) = 0$"))
        fail_check("no [child N] sethostname(\"box\", 3) = 0 in:\n%s", p.err);
}

int
main(void)
{
    static const struct property props[] = {
        {"uts_ns", "01", uts_ns, NULL},
        {"hostname", "01", hostname, NULL},
        {"domainname", "01", domainname, NULL},
        {"domainname_unset", "01", domainname_unset, NULL},
    };
    static const struct behaviour behaviours[] = {
        {"hostname_default", "01", "is_box", default_hostname, NULL},
        {"trace", "01", "shows_sethostname", trace_sethostname, NULL},
        /* Step 06 brings rootless containers. */
        {"nonroot", "01", "exits_125", nonroot_refused, "05"},
    };

    return run_suite("01-uts", props, sizeof(props) / sizeof(props[0]),
                     behaviours, sizeof(behaviours) / sizeof(behaviours[0]));
}
