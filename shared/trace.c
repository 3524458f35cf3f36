/*
 * trace.c: the -v/--verbose trace.
 *
 * Every kernel call a step makes to build its container is printed to
 * stderr, tagged with the side that made it and its PID as that side sees
 * it:
 *
 *     [parent 4242] clone(CLONE_NEWUTS|SIGCHLD) = 4243
 *     [child 4243] sethostname("box", 3) = 0
 *
 * Each line is written with a single write(2), so the lines of parent and
 * child interleave but never cut into each other.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "boxstep.h"
#include "internal.h"

bool trace_enabled;
static const char *trace_side_name = "parent";

/* Names the side of the lines that follow: "parent", "child", ... */
void
trace_side(const char *side)
{
    trace_side_name = side;
}

/* Formats one trace line, newline included; returns its length. */
int
format_trace(char *buf, size_t len, const char *side, pid_t pid,
             const char *fmt, va_list ap)
{
    int n = snprintf(buf, len, "[%s %d] ", side, (int)pid);

    if (n < 0 || (size_t)n >= len)
        return n;
    n += vsnprintf(buf + n, len - n, fmt, ap);
    if ((size_t)n >= len - 1)
        n = len - 2;
    buf[n++] = '\n';
    buf[n] = '\0';
    return n;
}

static void
vtrace(const char *fmt, va_list ap)
{
    char line[1024];
    int saved_errno = errno;
    int n =
        format_trace(line, sizeof(line), trace_side_name, getpid(), fmt, ap);

    if (n > 0 && write(STDERR_FILENO, line, n) < 0) {
        /* Nothing sensible to do: the trace is best effort. */
    }
    errno = saved_errno;
}

/* Prints one line of the trace, when tracing is on. */
void
trace(const char *fmt, ...)
{
    va_list ap;

    if (!trace_enabled)
        return;
    va_start(ap, fmt);
    vtrace(fmt, ap);
    va_end(ap);
}

static void
vtrace_result(long ret, int err, const char *fmt, va_list ap)
{
    char call[768];

    if (!trace_enabled)
        return;
    vsnprintf(call, sizeof(call), fmt, ap);
    if (ret == -1)
        trace("%s = -1 %s (%s)", call, strerrorname_np(err), strerror(err));
    else
        trace("%s = %ld", call, ret);
}

/*
 * Traces a call that has just returned ret, "call(args) = ret" or
 * "call(args) = -1 ERRNAME (message)", and returns ret with errno intact.
 * The format's arguments must not change errno.
 */
long
trace_call(long ret, const char *fmt, ...)
{
    int err = errno;
    va_list ap;

    va_start(ap, fmt);
    vtrace_result(ret, err, fmt, ap);
    va_end(ap);
    errno = err;
    return ret;
}

static long
vmust(long ret, const char *hint, const char *fmt, va_list ap)
{
    int err = errno;
    va_list copy;

    va_copy(copy, ap);
    vtrace_result(ret, err, fmt, copy);
    va_end(copy);
    if (ret == -1) {
        char call[768];

        vsnprintf(call, sizeof(call), fmt, ap);
        errno = err;
        die_hint(hint, "%s", call);
    }
    errno = err;
    return ret;
}

/* Like trace_call(), and a call that failed (-1) is fatal: die(). */
long
must(long ret, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ret = vmust(ret, NULL, fmt, ap);
    va_end(ap);
    return ret;
}

/* Like must(), with a hint (or NULL) under the error line. */
long
must_hint(long ret, const char *hint, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ret = vmust(ret, hint, fmt, ap);
    va_end(ap);
    return ret;
}

/*
 * "KILL" for SIGKILL. sigabbrev_np(3) has no name for the real-time
 * signals, nor for the two glibc keeps for itself: "RTMIN+1" as kill -l
 * names them, or the bare number.
 */
static const char *
signal_abbrev(int sig)
{
    static char buf[24];
    const char *abbrev = sigabbrev_np(sig);

    if (abbrev)
        return abbrev;
    if (sig >= SIGRTMIN && sig <= SIGRTMAX)
        snprintf(buf, sizeof(buf), "RTMIN+%d", sig - SIGRTMIN);
    else
        snprintf(buf, sizeof(buf), "%d", sig);
    return buf;
}

/* "CLONE_NEWUTS|CLONE_NEWIPC|SIGCHLD" for the flags given to clone(2). */
const char *
clone_flags_str(unsigned long flags)
{
    static const struct {
        unsigned long flag;
        const char *name;
    } names[] = {
        {CLONE_NEWUTS, "CLONE_NEWUTS"},       {CLONE_NEWIPC, "CLONE_NEWIPC"},
        {CLONE_NEWPID, "CLONE_NEWPID"},       {CLONE_NEWNS, "CLONE_NEWNS"},
        {CLONE_NEWNET, "CLONE_NEWNET"},       {CLONE_NEWUSER, "CLONE_NEWUSER"},
        {CLONE_NEWCGROUP, "CLONE_NEWCGROUP"},
    };
    static char buf[256];
    unsigned long sig = flags & 0xff;
    size_t n = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        if (flags & names[i].flag)
            n += snprintf(buf + n, sizeof(buf) - n, "%s|", names[i].name);
    if (sig != 0 && sigabbrev_np(sig))
        snprintf(buf + n, sizeof(buf) - n, "SIG%s", sigabbrev_np(sig));
    else if (n > 0)
        buf[n - 1] = '\0';
    else
        snprintf(buf, sizeof(buf), "0");
    return buf;
}

/*
 * ["sh", "-c", "echo \"hi\""] for an argument vector: each argument in
 * double quotes, " and \ escaped as in C, so the trace is unambiguous. A
 * vector too long for the buffer ends in "...".
 */
const char *
argv_str(char *const argv[])
{
    static char buf[1024];
    const size_t room = sizeof(buf) - 5; /* for "...]" and the NUL */
    size_t n = 0;

    buf[n++] = '[';
    for (size_t i = 0; argv[i] && n + 4 < room; i++) {
        if (i) {
            buf[n++] = ',';
            buf[n++] = ' ';
        }
        buf[n++] = '"';
        for (const char *c = argv[i]; *c && n + 3 < room; c++) {
            if (*c == '"' || *c == '\\')
                buf[n++] = '\\';
            buf[n++] = *c;
        }
        buf[n++] = '"';
    }
    snprintf(buf + n, sizeof(buf) - n, "%s]", n + 4 < room ? "" : "...");
    return buf;
}

/* {HUP INT TERM} for a set of signals. */
const char *
signal_set_str(const sigset_t *set)
{
    static char buf[256];
    size_t n = snprintf(buf, sizeof(buf), "{");

    for (int sig = 1; sig < SIGRTMIN && n < sizeof(buf); sig++)
        if (sigismember(set, sig) == 1)
            n += snprintf(buf + n, sizeof(buf) - n, "%s%s", n > 1 ? " " : "",
                          signal_abbrev(sig));
    if (n < sizeof(buf))
        snprintf(buf + n, sizeof(buf) - n, "}");
    return buf;
}

/* "exited 3" or "killed by SIGKILL" for a status from waitpid(2). */
const char *
wait_status_str(int wstatus)
{
    static char buf[64];

    if (WIFEXITED(wstatus))
        snprintf(buf, sizeof(buf), "exited %d", WEXITSTATUS(wstatus));
    else if (WIFSIGNALED(wstatus))
        snprintf(buf, sizeof(buf), "killed by SIG%s",
                 signal_abbrev(WTERMSIG(wstatus)));
    else if (WIFSTOPPED(wstatus))
        snprintf(buf, sizeof(buf), "stopped by SIG%s",
                 signal_abbrev(WSTOPSIG(wstatus)));
    else
        snprintf(buf, sizeof(buf), "continued");
    return buf;
}
