/*
 * suite-00-fork.c: what every step does, from the baseline on. These are
 * behaviours, not isolation properties: they have no control, and each
 * runs on every step, so no later layer may break them (step 03's init
 * must pass exit statuses and signals through, for instance).
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static void
expect_status(struct proc *p, int want, const char *what)
{
    if (p->status != want)
        fail_check("%s: exit status %d, want %d; stderr:\n%s", what, p->status,
                   want, p->err);
}

/* The runtime exits with COMMAND's exit code. */
static void
exit_status(const char *step)
{
    struct proc p;

    run(&p, ARGV(STEP, PROBE, "exit", "3"));
    expect_status(&p, 3, "probe exit 3");
    run(&p, ARGV(STEP, PROBE, "exit", "0"));
    expect_status(&p, 0, "probe exit 0");
}

/* A COMMAND killed by signal N makes the runtime exit 128+N. */
static void
signal_death(const char *step)
{
    struct proc p;

    run(&p, ARGV(STEP, PROBE, "raise", "KILL"));
    expect_status(&p, 128 + SIGKILL, "probe raise KILL");
    run(&p, ARGV(STEP, PROBE, "raise", "TERM"));
    expect_status(&p, 128 + SIGTERM, "probe raise TERM");
}

static void
command_missing(const char *step)
{
    struct proc p;

    run(&p, ARGV(STEP, "no-such-command-boxstep"));
    expect_status(&p, 127, "a command not in PATH");
    if (!strstr(p.err, "ENOENT"))
        fail_check("no ENOENT in the error: %s", p.err);
    run(&p, ARGV(STEP, "/no/such/file"));
    expect_status(&p, 127, "a missing absolute path");
}

/* /etc/passwd exists on the host and in every rootfs, and is not +x. */
static void
command_not_executable(const char *step)
{
    struct proc p;

    run(&p, ARGV(STEP, "/etc/passwd"));
    expect_status(&p, 126, "/etc/passwd as COMMAND");
    if (!strstr(p.err, "EACCES"))
        fail_check("no EACCES in the error: %s", p.err);
}

/* Bad input: one line that names the problem, a hint, status 125. */
static void
unknown_option(const char *step)
{
    struct proc p;
    char want[128];

    run(&p, ARGV(STEP, "--no-such-option", PROBE, "exit", "0"));
    expect_status(&p, 125, "--no-such-option");
    snprintf(want, sizeof(want), "%s: unknown option '--no-such-option'\n",
             step);
    if (strncmp(p.err, want, strlen(want)) != 0 || !strstr(p.err, "hint:"))
        fail_check("want '%s' and a hint, got:\n%s", want, p.err);
    run(&p, ARGV(STEP, "--env", "NOEQUALS", PROBE, "exit", "0"));
    expect_status(&p, 125, "--env NOEQUALS");
    run(&p, ARGV(STEP, "--env"));
    expect_status(&p, 125, "--env without a value");
}

static void
help(const char *step)
{
    struct proc p;
    char usage[64];

    run(&p, ARGV(STEP, "--help"));
    expect_status(&p, 0, "--help");
    snprintf(usage, sizeof(usage), "Usage: %s [OPTIONS]", step);
    if (!strstr(p.out, usage) || !strstr(p.out, "--verbose") ||
        !strstr(p.out, "--env NAME=VALUE"))
        fail_check("--help lacks the usage line or an option:\n%s", p.out);
    if (atoi(step) >= 1 && !strstr(p.out, "--hostname NAME"))
        fail_check("--help of %s lacks --hostname:\n%s", step, p.out);
    if (atoi(step) <= 5 && !strstr(p.out, "root inside this container is "
                                          "root on the host"))
        fail_check("--help of %s lacks the root warning", step);
}

/*
 * COMMAND gets PATH, HOME, TERM, HOSTNAME and what --env adds: nothing of
 * the caller's environment.
 */
static void
environment(const char *step)
{
    struct proc p;
    char *line, *save;
    int count = 0;

    setenv("BOXSTEP_SECRET", "must-not-leak", 1);
    setenv("TERM", "xterm-test", 1);
    run(&p, ARGV(STEP, "--env", "FOO=bar", PROBE, "env"));
    expect_status(&p, 0, "probe env");
    for (line = strtok_r(p.out, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save), count++)
        if (strncmp(line, "PATH=/", 6) && strcmp(line, "HOME=/root") &&
            strcmp(line, "TERM=xterm-test") && strcmp(line, "FOO=bar") &&
            strncmp(line, "HOSTNAME=", 9))
            fail_check("unexpected variable in COMMAND's environment: %s",
                       line);
    if (count != 5)
        fail_check("%d variables, want PATH HOME TERM HOSTNAME FOO", count);
}

/*
 * A descriptor the caller leaves open (here fd 7, not close-on-exec)
 * never reaches COMMAND: it has 0, 1 and 2 only.
 */
static void
descriptors(const char *step)
{
    struct proc p;
    int fd = open("/dev/null", O_RDONLY);

    if (fd == -1 || dup2(fd, 7) == -1)
        fail_check("cannot open fd 7");
    run(&p, ARGV(STEP, PROBE, "fds"));
    close(7);
    expect_status(&p, 0, "probe fds");
    if (strcmp(trim(p.out), "0 1 2") != 0)
        fail_check("COMMAND has descriptors '%s', want '0 1 2'", p.out);
}

/* A signal sent to the runtime with kill(2) reaches COMMAND. */
static void
sigterm_forwarded(const char *step)
{
    static const int sigs[] = {SIGTERM, SIGUSR1, SIGINT};

    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        struct proc p;
        const char *line;

        spawn(&p, NULL, ARGV(STEP, PROBE, "wait-signal"));
        if (!(line = read_line(&p, 5000)) || strcmp(line, "ready")) {
            finish(&p, 1000);
            fail_check("probe wait-signal did not start: status %d: %s%s",
                       p.status, p.out, p.err);
        }
        kill(p.pid, sigs[i]);
        if (!(line = read_line(&p, 5000)) ||
            strcmp(line, sigabbrev_np(sigs[i])))
            fail_check("COMMAND did not get SIG%s: %s", sigabbrev_np(sigs[i]),
                       line ? line : p.err);
        finish(&p, 5000);
        expect_status(&p, 0, "probe wait-signal");
    }
}

/*
 * -v traces the calls from both sides, each line tagged with the side and
 * its PID: the parent's tag is the runtime's own PID. The child is made by
 * clone(), or from step 07 on cgroup v2 by clone3() (CLONE_INTO_CGROUP).
 */
static void
trace(const char *step)
{
    struct proc p;
    char pattern[128];

    run(&p, ARGV(STEP, "-v", PROBE, "exit", "0"));
    expect_status(&p, 0, "-v probe exit 0");
    snprintf(pattern, sizeof(pattern),
             "^\\[parent %d\\] clone3?\\(.*SIGCHLD.*\\) "
             "= [0-9]+$",
             (int)p.pid);
    if (!matches(p.err, pattern))
        fail_check("no line matching %s in:\n%s", pattern, p.err);
    if (!matches(p.err, "^\\[(child|command) [0-9]+\\] execvp\\(\"/"))
        fail_check("no [child N] execvp(...) line in:\n%s", p.err);
    run(&p, ARGV(STEP, PROBE, "exit", "0"));
    if (p.err_len)
        fail_check("without -v, stderr is not empty:\n%s", p.err);
}

/* The state letter of /proc/PID/stat: R, S, T (stopped), Z... */
static char
state_of(pid_t pid)
{
    char path[64], stat[256], *close;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if (pid <= 0 || !(f = fopen(path, "re")))
        fail_check("no process %d", (int)pid);
    close = fgets(stat, sizeof(stat), f) ? strrchr(stat, ')') : NULL;
    fclose(f);
    return close ? close[2] : '?';
}

/*
 * Under a job-control shell, as a user types: Ctrl-Z stops COMMAND and
 * the runtime and gives the shell its prompt back; fg resumes them; and
 * Ctrl-C reaches COMMAND exactly once, though the terminal signals the
 * runtime too: the runtime does not forward what the terminal sent.
 */
static void
terminal_keys(const char *step)
{
    char line[1024], comm[16];
    pid_t command, runtime;
    struct tty t;

    tty_start(&t);
    tty_expect(&t, "PROMPT> ");
    snprintf(line, sizeof(line), "%s\n",
             command_line(ARGV(STEP, PROBE, "count-int")));
    tty_send(&t, line);
    tty_expect(&t, "ready");
    tty_send(&t, "\x1a"); /* Ctrl-Z */
    tty_expect(&t, "Stopped");
    tty_expect(&t, "PROMPT> ");
    /*
     * The runtime is the shell's child, named after its binary (its first
     * 15 characters); from 03 its init has the same name.
     */
    snprintf(comm, sizeof(comm), "%.15s", strrchr(STEP, '/') + 1);
    command = find_by_comm("probe");
    runtime = find_child_by_comm(t.shell, comm);
    /* The stop lands a moment after the prompt: wait up to 2 s for it. */
    for (int i = 0;
         i < 200 && (state_of(command) != 'T' || state_of(runtime) != 'T'); i++)
        usleep(10000);
    if (state_of(command) != 'T' || state_of(runtime) != 'T')
        fail_check("after Ctrl-Z, COMMAND is '%c' and the runtime '%c', "
                   "not both stopped (T)",
                   state_of(command), state_of(runtime));
    tty_send(&t, "fg\n");
    usleep(200000);
    tty_send(&t, "\x03"); /* Ctrl-C */
    tty_expect(&t, "INT ");
    if (strncmp(t.seen + t.pos, "1", 1) != 0)
        fail_check("one Ctrl-C delivered %.1s SIGINTs to COMMAND, not one",
                   t.seen + t.pos);
    tty_expect(&t, "PROMPT> ");
    tty_send(&t, "echo status=$?\n"); /* fg's status is the job's */
    tty_expect(&t, "status=0");
    tty_send(&t, "exit\n");
    waitpid(t.shell, NULL, 0);
    close(t.master);
}

/* Step 00 needs no privilege: it runs for an unprivileged user. */
static void
nonroot_runs(const char *step)
{
    struct proc p;
    struct run_opts nobody = {.uid = 65534};
    char bin[256], probe[256], cmd[768];

    snprintf(bin, sizeof(bin), "%s/step", getenv("TMPDIR"));
    snprintf(probe, sizeof(probe), "%s/probe", getenv("TMPDIR"));
    snprintf(cmd, sizeof(cmd),
             "cp '%s' '%s' && cp '%s' '%s' && chmod 755 "
             "'%s' '%s'",
             STEP, bin, PROBE, probe, bin, probe);
    if (system(cmd) != 0)
        fail_check("cannot copy the binaries: %s", cmd);
    spawn(&p, &nobody, ARGV(bin, probe, "exit", "7"));
    finish(&p, 10000);
    expect_status(&p, 7, "step 00 as nobody");
}

int
main(void)
{
    static const struct behaviour behaviours[] = {
        {"exit_status", "00", "propagates", exit_status, NULL},
        {"signal_death", "00", "is_128_plus_n", signal_death, NULL},
        {"command_missing", "00", "exits_127", command_missing, NULL},
        {"command_not_executable", "00", "exits_126", command_not_executable,
         NULL},
        {"unknown_option", "00", "exits_125", unknown_option, NULL},
        {"help", "00", "lists_options", help, NULL},
        {"environment", "00", "is_clean", environment, NULL},
        {"descriptors", "00", "only_stdio", descriptors, NULL},
        {"sigterm_forwarded", "00", "reaches_command", sigterm_forwarded, NULL},
        {"trace", "00", "tags_side_and_pid", trace, NULL},
        {"terminal_keys", "00", "reach_command_once", terminal_keys, NULL},
        {"nonroot", "00", "runs", nonroot_runs, "00"},
    };

    return run_suite("00-fork", NULL, 0, behaviours,
                     sizeof(behaviours) / sizeof(behaviours[0]));
}
