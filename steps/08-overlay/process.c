/*
 * process.c: the container's process, from step 00 on.
 *
 * Before any namespace, a container is a child process: the runtime
 * clones it (main.c), passes signals on to it, waits for it and exits
 * with its status; the child sets up COMMAND's environment and execs it.
 * This file holds that plumbing, which every later step keeps as it is.
 *
 * Man pages: clone(2), execve(2), waitpid(2), sigwaitinfo(2),
 * sigprocmask(2), close_range(2), signal(7), environ(7).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "step.h"

/* The PATH COMMAND is looked up in, whatever the caller's was. */
#define CONTAINER_PATH \
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

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
 * close_range(2): a descriptor the caller left open (a socket, a secret
 * file) must not reach COMMAND. Marking every one above stderr
 * close-on-exec closes them in COMMAND and leaves them to the runtime.
 */
void
parent_close_fds(void)
{
    must(close_range(3, ~0U, CLOSE_RANGE_CLOEXEC),
         "close_range(3, ~0U, CLOSE_RANGE_CLOEXEC)");
}

/*
 * Blocks the forwarded signals and SIGCHLD before clone(): the runtime
 * takes them one by one in wait_for_exit() instead of dying of them, and
 * none is lost between clone() and the wait.
 */
void
parent_block_signals(struct container *c)
{
    sigset_t set;

    runtime_signal_set(&set);
    /* sigprocmask(2) */
    must(sigprocmask(SIG_BLOCK, &set, &c->saved_mask),
         "sigprocmask(SIG_BLOCK, %s)", signal_set_str(&set));
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
int
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
setup_environment(const struct str_list *env)
{
    char *term = getenv("TERM") ? strdup(getenv("TERM")) : NULL;
    char hostname[HOST_NAME_MAX + 1] = "";
    int ret = gethostname(hostname, sizeof(hostname)); /* uname(2) */

    trace_call(ret, "gethostname(\"%s\", %zu)", hostname, sizeof(hostname));
    clearenv();
    setenv("PATH", CONTAINER_PATH, 1);
    setenv("HOME", "/root", 1);
    if (user_home[0]) /* 08: --user's, from the image's /etc/passwd */
        setenv("HOME", user_home, 1);
    if (term)
        setenv("TERM", term, 1);
    setenv("HOSTNAME", hostname, 1);
    for (size_t i = 0; i < env->len; i++)
        putenv((char *)env->items[i]);
    free(term);
}

/*
 * Replaces the process with COMMAND, or exits 126 or 127: it never
 * returns. It is not declared noreturn: AddressSanitizer (make
 * SANITIZE=1) checks the stack at every call of a noreturn function, and
 * warns about the one clone() runs the child on, which it does not know.
 */
int
exec_command(struct container *c)
{
    char **command = c->opts->command;

    /*
     * sigprocmask(2): a blocked signal stays blocked across execve(2), and
     * COMMAND should see the signals the caller let through.
     */
    must(sigprocmask(SIG_SETMASK, &c->saved_mask, NULL),
         "sigprocmask(SIG_SETMASK, %s)", signal_set_str(&c->saved_mask));
    setup_environment(&c->opts->env);
    /*
     * execvp(3) searches PATH, from the environment just set, and calls
     * execve(2), which does not return when it succeeds.
     */
    trace("execvp(\"%s\", %s)", command[0], argv_str(command));
    execvp(command[0], command);
    die_exec("execvp(\"%s\")", command[0]);
}
