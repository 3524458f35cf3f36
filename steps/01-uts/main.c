/* BEGIN STEP TEXT: make check-diffs ignores these lines, up to END.
 *
 * 01-uts: a hostname of its own.
 *
 * Adds CLONE_NEWUTS. The child starts in a new UTS namespace, a copy of
 * the host's, and sets the hostname and NIS domain name in it: the host
 * does not see them change. Everything else is still shared.
 */
static const char step_name[] = "01-uts";
static const char step_about[] =
    "This step isolates the hostname and the NIS domain name (the UTS\n"
    "namespace, uts_namespaces(7)): sethostname(2) inside changes them for\n"
    "the container only. Still shared with the host: IPC objects (step 02\n"
    "isolates them), process IDs (step 03), mounts (04), network (05),\n"
    "users (06) and resources (07).\n"
    "\n"
    "WARNING: root inside this container is root on the host. Run only\n"
    "commands you would run on the host itself.";
/* END STEP TEXT */

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "boxstep.h"

/* The child's stack for clone(2), given by its top: it grows down on
 * nearly every port (HP PA-RISC is the exception). */
#define STACK_SIZE (1024 * 1024)
static char child_stack[STACK_SIZE] __attribute__((aligned(16)));

/* The PATH COMMAND is looked up in, whatever the caller's was. */
#define CONTAINER_PATH \
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct args {
    bool help;
    bool verbose;
    const char *hostname; /* 01: --hostname */
    struct str_list env; /* --env NAME=VALUE, added to COMMAND's */
    char **command; /* COMMAND and its arguments */
    sigset_t saved_mask; /* the caller's signal mask, for COMMAND */
};

/* The signals the runtime passes on to the container. */
static const int forwarded_signals[] = {SIGHUP,  SIGINT,  SIGQUIT,
                                        SIGTERM, SIGUSR1, SIGUSR2};

static void
runtime_signal_set(sigset_t *set)
{
    sigemptyset(set);
    for (size_t i = 0; i < ARRAY_SIZE(forwarded_signals); i++)
        sigaddset(set, forwarded_signals[i]);
    sigaddset(set, SIGCHLD);
}

/*
 * Reaps every child that has exited; returns pid's exit status once pid
 * is among them, or -1 while it still runs. The runtime has one child,
 * but from step 03 the container's init runs this loop too, and there
 * orphans of any kind are its children.
 */
static int
reap_children(pid_t pid)
{
    pid_t reaped;
    int status;

    for (;;) {
        /* waitpid(2): WNOHANG, as SIGCHLD also comes when a child stops. */
        reaped = waitpid(-1, &status, WNOHANG);
        if (reaped == -1 && errno == ECHILD)
            return -1;
        must(reaped, "waitpid(-1, {%s}, WNOHANG)",
             reaped > 0 ? wait_status_str(status) : "");
        if (reaped == 0)
            return -1;
        if (reaped == pid)
            return exit_status_of(status);
    }
}

/*
 * Waits until pid exits and returns the status to exit with. Meanwhile a
 * signal sent with kill(1) is passed on to pid. One from the terminal is
 * not: the terminal signalled the whole foreground process group, pid
 * included, which would get it twice.
 */
static int
wait_for_exit(pid_t pid)
{
    sigset_t set;
    siginfo_t info;
    int sig, status;

    runtime_signal_set(&set);
    for (;;) {
        /* sigwaitinfo(2): takes one pending signal of the set, or waits. */
        sig = sigwaitinfo(&set, &info);
        if (sig == -1 && errno == EINTR) {
            /* A stop and a continue (Ctrl-Z, fg) interrupted the wait. */
            trace_call(sig, "sigwaitinfo(%s)", signal_set_str(&set));
            continue;
        }
        if (sig == -1)
            die("sigwaitinfo(%s)", signal_set_str(&set));
        trace("sigwaitinfo(%s) = SIG%s%s", signal_set_str(&set),
              sigabbrev_np(sig),
              sent_by_terminal(&info) ? " (from the terminal)" : "");
        if (sig == SIGCHLD) {
            status = reap_children(pid);
            if (status != -1)
                return status;
        } else if (!sent_by_terminal(&info)) {
            /* kill(2) */
            trace_call(kill(pid, sig), "kill(%d, SIG%s)", pid,
                       sigabbrev_np(sig));
        }
    }
}

/*
 * COMMAND's environment: a small clean one, not the caller's, which could
 * hold anything from SSH_AUTH_SOCK to LD_PRELOAD. HOSTNAME is read back
 * from the kernel, so it is the name COMMAND will see.
 */
static void
setup_environment(struct args *a)
{
    char *term = getenv("TERM") ? strdup(getenv("TERM")) : NULL;
    char hostname[HOST_NAME_MAX + 1] = "";
    int ret = gethostname(hostname, sizeof(hostname)); /* uname(2) */

    trace_call(ret, "gethostname(\"%s\", %zu)", hostname, sizeof(hostname));
    clearenv();
    setenv("PATH", CONTAINER_PATH, 1);
    setenv("HOME", "/root", 1);
    if (term)
        setenv("TERM", term, 1);
    setenv("HOSTNAME", hostname, 1);
    for (size_t i = 0; i < a->env.len; i++)
        putenv((char *)a->env.items[i]);
    free(term);
}

/*
 * The UTS namespace holds the two names uname(2) reports besides the
 * kernel's own: the hostname and the NIS domain name. The child's
 * namespace is a copy of the host's until these calls; from then on only
 * the container sees its names. The domain name is reset to the kernel's
 * "(none)", so the container does not carry the host's.
 */
static void
setup_uts(struct args *a)
{
    /* sethostname(2) */
    must(sethostname(a->hostname, strlen(a->hostname)),
         "sethostname(\"%s\", %zu)", a->hostname, strlen(a->hostname));
    /* setdomainname(2) */
    must(setdomainname("(none)", 6), "setdomainname(\"(none)\", 6)");
}

/* Replaces the child with COMMAND, or exits 126 or 127. */
__attribute__((noreturn)) static void
exec_command(struct args *a)
{
    /*
     * sigprocmask(2): a blocked signal stays blocked across execve(2), and
     * COMMAND should see the signals the caller let through.
     */
    must(sigprocmask(SIG_SETMASK, &a->saved_mask, NULL),
         "sigprocmask(SIG_SETMASK, %s)", signal_set_str(&a->saved_mask));
    setup_environment(a);
    /*
     * execvp(3) searches PATH, from the environment just set, and calls
     * execve(2), which does not return when it succeeds.
     */
    trace("execvp(\"%s\", %s)", a->command[0], argv_str(a->command));
    execvp(a->command[0], a->command);
    die_exec("execvp(\"%s\")", a->command[0]);
}

/* The child: what runs inside the container, up to COMMAND. */
static int
child(void *arg)
{
    struct args *a = arg;

    trace_side("child");
    setup_uts(a);
    exec_command(a);
}

/*
 * clone(2) with no namespace flag is fork(2) with a stack of our own: the
 * child gets a copy of the parent's memory and shares every namespace.
 * Each later step adds one flag here.
 */
static pid_t
clone_child(struct args *a)
{
    int flags = SIGCHLD;
    pid_t pid;

    flags |= CLONE_NEWUTS; /* 01: uts_namespaces(7) */
    fflush(NULL); /* or buffered output would be written by both */
    pid = clone(child, child_stack + STACK_SIZE, flags, a);
    return must(pid, "clone(%s)", clone_flags_str(flags));
}

/*
 * Blocks the forwarded signals and SIGCHLD before clone(): the runtime
 * takes them one by one in wait_for_exit() instead of dying of them, and
 * none is lost between clone() and the wait.
 */
static void
block_signals(struct args *a)
{
    sigset_t set;

    runtime_signal_set(&set);
    /* sigprocmask(2) */
    must(sigprocmask(SIG_BLOCK, &set, &a->saved_mask),
         "sigprocmask(SIG_BLOCK, %s)", signal_set_str(&set));
}

static void
parse_args(struct args *a, int argc, char *argv[])
{
    static char *default_command[] = {"/bin/sh", NULL};
    const struct opt opts[] = {
        {"help", 'h', OPT_FLAG, &a->help, "00", NULL,
         "show this help and exit"},
        {"verbose", 'v', OPT_FLAG, &a->verbose, "00", NULL,
         "trace every kernel call to stderr"},
        {"env", 0, OPT_LIST, &a->env, "00", "NAME=VALUE",
         "add a variable to COMMAND's environment"},
        {"hostname", 0, OPT_STRING, &a->hostname, "01", "NAME",
         "the container's hostname (default: box)"},
        {0},
    };
    char err[256];
    int first;

    a->hostname = "box"; /* 01: the default */
    first = parse_options(opts, argc, argv, err, sizeof(err));

    if (first == -1)
        usage_error("%s", err);
    if (a->help) {
        print_help(stdout, opts, step_about);
        exit(0);
    }
    for (size_t i = 0; i < a->env.len; i++)
        if (!strchr(a->env.items[i], '=') || a->env.items[i][0] == '=')
            usage_error("--env %s: not NAME=VALUE", a->env.items[i]);
    trace_enabled = a->verbose;
    a->command = first < argc ? argv + first : default_command;
}

int
main(int argc, char *argv[])
{
    struct args a = {0};
    pid_t child_pid;

    program_name = step_name;
    parse_args(&a, argc, argv);
    /*
     * close_range(2): a descriptor the caller left open (a socket, a
     * secret file) must not reach COMMAND. Marking every one above stderr
     * close-on-exec closes them in COMMAND and leaves them to the runtime.
     */
    must(close_range(3, ~0U, CLOSE_RANGE_CLOEXEC),
         "close_range(3, ~0U, CLOSE_RANGE_CLOEXEC)");
    block_signals(&a);
    child_pid = clone_child(&a);
    return wait_for_exit(child_pid);
}
