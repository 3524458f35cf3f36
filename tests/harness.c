/*
 * harness.c: turns a suite's properties into cmocka tests, and gives the
 * checks their tools: paths, running a command, small observations. With
 * BOXSTEP_MATRIX set it runs the isolation matrix instead (make matrix):
 * the same checks, every property on every step.
 *
 * The cmocka runner never enters a namespace itself: cmocka does not fork
 * per test, and a test that died would end the run without its summary.
 * Each test runs in sandbox_run() (sandbox.c), in a forked sandbox.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "boxstep.h"
#include "harness.h"

/* From steps/NN-name/, by the Makefile (tests/tests.mk). */
const char *const all_steps[] = {BOXSTEP_STEPS};
const size_t step_count = sizeof(all_steps) / sizeof(all_steps[0]);

#define TEST_TIMEOUT_S 30

/* ---- paths ---- */

const char *
build_dir(void)
{
    static char dir[PATH_MAX];
    char *slash;

    if (dir[0])
        return dir;
    /*
     * Absolute: a check's paths must name the same file inside a container
     * whose working directory is not ours.
     */
    if (getenv("BOXSTEP_BUILD")) {
        if (!realpath(getenv("BOXSTEP_BUILD"), dir))
            snprintf(dir, sizeof(dir), "%s", getenv("BOXSTEP_BUILD"));
        return dir;
    }
    /* The suites live in build/tests/: the build directory is two up. */
    if (!realpath("/proc/self/exe", dir))
        snprintf(dir, sizeof(dir), "build/tests/x");
    for (int i = 0; i < 2 && (slash = strrchr(dir, '/')); i++)
        *slash = '\0';
    return dir;
}

/*
 * build/NN-name, or STEP_BIN when it is the step under test (make test
 * STEP=NN STEP_BIN=...): a student's binary replaces boxstep's for that
 * step only, and controls and later reruns still use boxstep's builds.
 */
const char *
step_path(const char *step)
{
    static char path[PATH_MAX];
    const char *under_test = getenv("BOXSTEP_STEP");
    const char *bin = getenv("BOXSTEP_STEP_BIN");

    if (bin && *bin && under_test && strncmp(step, under_test, 2) == 0)
        return bin;
    snprintf(path, sizeof(path), "%s/%s", build_dir(), step);
    return path;
}

const char *
probe_path(void)
{
    static char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/tests/probe", build_dir());
    return path;
}

/* ---- reporting, inside a check ---- */

static void
vreport(const char *tag, const char *fmt, va_list ap)
{
    fprintf(stderr, "    %s: ", tag);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
}

/* Prints "TAG: why" and ends the check's process with status. */
__attribute__((noreturn)) static void
end_check(const char *tag, int status, const char *fmt, va_list ap)
{
    vreport(tag, fmt, ap);
    fflush(NULL);
    _exit(status);
}

/* Reports why the check failed, and ends the check's process. */
void
fail_check(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    end_check("FAIL", 1, fmt, ap);
}

/* Reports why the check cannot run here, and ends the check's process. */
void
skip_check(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    end_check("SKIP", CHECK_SKIPPED, fmt, ap);
}

/* ---- running commands ---- */

static long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static void
child_redirect(int in, int out, int err, const struct run_opts *opts)
{
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    if (opts && opts->uid) {
        gid_t gid = opts->gid ? opts->gid : opts->uid;

        if (setgroups(0, NULL) || setresgid(gid, gid, gid) ||
            setresuid(opts->uid, opts->uid, opts->uid))
            _exit(124);
    }
    /* ptrace(2): the command stops at its execve(2), for the caller. */
    if (opts && opts->traced && ptrace(PTRACE_TRACEME, 0, NULL, NULL) == -1)
        _exit(124);
}

/* The step number of a step binary (STEP_BIN too), or -1 for another. */
static int
step_of(const char *path)
{
    const char *bin = getenv("BOXSTEP_STEP_BIN");
    char built[PATH_MAX];

    if (bin && *bin && strcmp(path, bin) == 0)
        return atoi(getenv("BOXSTEP_STEP"));
    for (size_t i = 0; i < step_count; i++) {
        snprintf(built, sizeof(built), "%s/%s", build_dir(), all_steps[i]);
        if (strcmp(path, built) == 0)
            return atoi(all_steps[i]);
    }
    return -1;
}

/*
 * From step 04 the container has its own root filesystem, without the
 * probe: a step's command line that names the probe by its host path gets
 * the probe's directory as a read-only volume instead, and the probe's
 * path inside it. Steps 00-03 run it by its host path.
 */
static char *const *
probe_through_volume(char *const argv[], char **buf, size_t max)
{
    static char volume[PATH_MAX + 32], rootfs[PATH_MAX];
    char dir[PATH_MAX];
    size_t n = 0;

    if (step_of(argv[0]) < 4)
        return argv;
    snprintf(dir, sizeof(dir), "%s", probe_path());
    *strrchr(dir, '/') = '\0';
    snprintf(volume, sizeof(volume), "%s:" PROBE_DIR ":ro", dir);
    buf[n++] = argv[0];
    buf[n++] = "--volume";
    buf[n++] = volume;
    /* A student's binary is elsewhere: build/rootfs is not next to it. */
    if (strcmp(argv[0], getenv("BOXSTEP_STEP_BIN") ?: "") == 0) {
        snprintf(rootfs, sizeof(rootfs), "%s/rootfs", build_dir());
        buf[n++] = "--rootfs";
        buf[n++] = rootfs;
    }
    for (size_t i = 1; argv[i] && n < max - 1; i++)
        buf[n++] = strcmp(argv[i], probe_path()) ? argv[i] : PROBE_DIR "/probe";
    buf[n] = NULL;
    return buf;
}

/* argv as a shell command line (what spawn() would run), for a terminal. */
const char *
command_line(char *const argv[])
{
    static char line[4096];
    char *rewritten[64];
    size_t n = 0;

    argv = probe_through_volume(argv, rewritten, ARRAY_SIZE(rewritten));
    line[0] = '\0';
    for (size_t i = 0; argv[i] && n < sizeof(line); i++)
        n += snprintf(line + n, sizeof(line) - n, "%s'%s'", i ? " " : "",
                      argv[i]);
    return line;
}

/* Starts argv with its stdout and stderr on pipes. */
int
spawn(struct proc *p, const struct run_opts *opts, char *const argv[])
{
    int in[2], out[2], err[2];
    char *rewritten[64];

    memset(p, 0, sizeof(*p));
    if (opts && opts->keep_stdin) {
        if (pipe2(in, O_CLOEXEC) == -1)
            return -1;
    } else {
        in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
        in[1] = -1;
    }
    if (pipe2(out, O_CLOEXEC) == -1 || pipe2(err, O_CLOEXEC) == -1)
        return -1;
    fflush(NULL);
    argv = probe_through_volume(argv, rewritten, ARRAY_SIZE(rewritten));
    p->pid = fork();
    if (p->pid == 0) {
        child_redirect(in[0], out[1], err[1], opts);
        execv(argv[0], argv);
        fprintf(stderr, "harness: execv %s: %s\n", argv[0], strerror(errno));
        _exit(124);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    p->in_fd = in[1];
    p->out_fd = out[0];
    p->err_fd = err[0];
    return p->pid > 0 ? 0 : -1;
}

/* Reads what is ready on fd into buf; returns 0 at end of file. */
static int
drain(int *fd, char *buf, size_t *len)
{
    ssize_t n;

    if (*fd < 0)
        return 0;
    if (*len >= OUT_MAX - 1) {
        char sink[512];

        n = read(*fd, sink, sizeof(sink));
    } else {
        n = read(*fd, buf + *len, OUT_MAX - 1 - *len);
        if (n > 0)
            *len += n;
    }
    buf[*len] = '\0';
    if (n <= 0) {
        close(*fd);
        *fd = -1;
        return 0;
    }
    return 1;
}

/* Waits up to timeout_ms for output; returns poll()'s count. */
static int
pump(struct proc *p, int timeout_ms)
{
    struct pollfd fds[2] = {{.fd = p->out_fd, .events = POLLIN},
                            {.fd = p->err_fd, .events = POLLIN}};
    int n = poll(fds, 2, timeout_ms);

    if (n > 0 && fds[0].revents)
        drain(&p->out_fd, p->out, &p->out_len);
    if (n > 0 && fds[1].revents)
        drain(&p->err_fd, p->err, &p->err_len);
    return n;
}

/*
 * Returns the next line of stdout not read yet (without its newline),
 * waiting up to timeout_ms, or NULL.
 */
const char *
read_line(struct proc *p, int timeout_ms)
{
    static char line[1024];
    long deadline = now_ms() + timeout_ms;
    size_t consumed = p->line_pos;
    char *nl;

    while (!(nl = memchr(p->out + consumed, '\n', p->out_len - consumed))) {
        if (p->out_fd < 0 || now_ms() >= deadline)
            return NULL;
        pump(p, (int)(deadline - now_ms()));
    }
    snprintf(line, sizeof(line), "%.*s", (int)(nl - p->out - consumed),
             p->out + consumed);
    p->line_pos = nl - p->out + 1;
    return line;
}

/*
 * Closes the command's stdin, collects its output and waits for it.
 * Returns its status as a shell reports it (128+N for signal N), or -1
 * after killing it when it did not end within timeout_ms.
 */
int
finish(struct proc *p, int timeout_ms)
{
    long deadline = now_ms() + timeout_ms;
    int status;

    if (p->in_fd >= 0)
        close(p->in_fd);
    p->in_fd = -1;
    while (p->out_fd >= 0 || p->err_fd >= 0) {
        if (now_ms() >= deadline) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &status, 0);
            return p->status = -1;
        }
        pump(p, (int)(deadline - now_ms()));
    }
    while (waitpid(p->pid, &status, 0) == -1 && errno == EINTR)
        ;
    if (WIFSIGNALED(status))
        return p->status = 128 + WTERMSIG(status);
    return p->status = WEXITSTATUS(status);
}

/* Runs argv to the end (10 s at most); returns its status. */
int
run(struct proc *p, char *const argv[])
{
    if (spawn(p, NULL, argv) == -1)
        fail_check("cannot run %s: %s", argv[0], strerror(errno));
    return finish(p, 10000);
}

/* The probe's one-line answer; a run that fails fails the check. */
const char *
answer(char *const argv[])
{
    static char line[OUT_MAX];
    struct proc p;

    if (run(&p, argv) != 0)
        fail_check("%s: status %d: %s%s", command_line(argv), p.status, p.out,
                   p.err);
    snprintf(line, sizeof(line), "%s", trim(p.out));
    return line;
}

/* Microseconds one run of argv takes, start to exit; it must exit 0. */
long
time_run(char *const argv[])
{
    struct timespec a, b;
    struct proc p;

    clock_gettime(CLOCK_MONOTONIC, &a);
    if (run(&p, argv) != 0)
        fail_check("%s: status %d: %s", command_line(argv), p.status, p.err);
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000;
}

static int
compare_long(const void *a, const void *b)
{
    return (*(const long *)a > *(const long *)b) -
           (*(const long *)a < *(const long *)b);
}

/* The median of n values (sorted in place). */
long
median_of(long *values, size_t n)
{
    qsort(values, n, sizeof(long), compare_long);
    return values[n / 2];
}

/* Bad input: the runtime exits 125, and its message has needle in it. */
void
expect_exit_125(char *const argv[], const char *needle)
{
    struct proc p;

    if (run(&p, argv) != 125 || !strstr(p.err, needle))
        fail_check("%s: status %d, want 125 and '%s' in:\n%s",
                   command_line(argv), p.status, needle, p.err);
}

/* ---- small observations ---- */

char *
trim(char *s)
{
    size_t n = strlen(s);

    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = '\0';
    return s;
}

/* Whether a line of text matches an extended regular expression. */
bool
matches(const char *text, const char *pattern)
{
    regex_t re;
    bool found;

    if (regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE | REG_NOSUB))
        fail_check("bad pattern %s", pattern);
    found = regexec(&re, text, 0, NULL, 0) == 0;
    regfree(&re);
    return found;
}

/* "dev:inode" of /proc/PID/ns/NS, as the kernel selftests compare them. */
int
ns_id(pid_t pid, const char *ns, char *buf, size_t len)
{
    char path[64];
    struct stat st;

    snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns);
    if (stat(path, &st) == -1)
        return -1;
    snprintf(buf, len, "%lu:%lu", (unsigned long)st.st_dev,
             (unsigned long)st.st_ino);
    return 0;
}

static int
status_field(pid_t pid, const char *field, char *buf, size_t len)
{
    char path[64], line[256];
    size_t flen = strlen(field);
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    if (!(f = fopen(path, "re")))
        return -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
            snprintf(buf, len, "%s", trim(line + flen + 1));
            fclose(f);
            return 0;
        }
    fclose(f);
    return -1;
}

/* Whether pid exists in the sandbox and is not a zombie. */
bool
process_exists(pid_t pid)
{
    char state[64];

    return status_field(pid, "State", state, sizeof(state)) == 0 &&
           state[0] != 'Z';
}

/* Waits until pid is gone from the sandbox's /proc: reaped, not a zombie. */
bool
wait_gone(pid_t pid, int timeout_ms)
{
    char path[64];
    long deadline = now_ms() + timeout_ms;

    snprintf(path, sizeof(path), "/proc/%d", (int)pid);
    while (access(path, F_OK) == 0) {
        if (now_ms() >= deadline)
            return false;
        usleep(10000);
    }
    return true;
}

/* The parent of pid, as the sandbox numbers it. */
pid_t
host_ppid(pid_t pid)
{
    char buf[32];

    return status_field(pid, "PPid", buf, sizeof(buf)) == 0 ? atoi(buf) : -1;
}

/* pid's number in its own (innermost) PID namespace: NSpid's last field. */
pid_t
innermost_pid(pid_t pid)
{
    char buf[128];
    char *last;

    if (status_field(pid, "NSpid", buf, sizeof(buf)) == -1)
        return -1;
    last = strrchr(buf, '\t') ? strrchr(buf, '\t') : buf;
    return atoi(last);
}

/*
 * Whether the probe, run by the step, is in another NS namespace than the
 * sandbox: compare device and inode of /proc/PID/ns/NS, as the kernel's
 * selftests do.
 */
bool
ns_isolated(const char *step, const char *ns)
{
    struct proc p;
    char outside[64];

    if (ns_id(getpid(), ns, outside, sizeof(outside)) == -1)
        fail_check("cannot read the sandbox's %s namespace", ns);
    if (run(&p, ARGV((char *)step_path(step), (char *)probe_path(), "ns",
                     (char *)ns)) != 0)
        fail_check("probe ns %s: status %d: %s", ns, p.status, p.err);
    return strcmp(trim(p.out), outside) != 0;
}

/* Calls fn on each live process of the sandbox whose name is comm. */
static int
each_by_comm(const char *comm, void (*fn)(pid_t, int), int arg)
{
    char path[300], name[64];
    struct dirent *e;
    DIR *d = opendir("/proc");
    int count = 0;

    while (d && (e = readdir(d))) {
        pid_t pid = atoi(e->d_name);
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
        if (pid <= 0 || !(f = fopen(path, "re")))
            continue;
        if (fgets(name, sizeof(name), f) && strcmp(trim(name), comm) == 0 &&
            process_exists(pid)) {
            count++;
            fn(pid, arg);
        }
        fclose(f);
    }
    if (d)
        closedir(d);
    return count;
}

static pid_t found_pid;

static void
remember(pid_t pid, int unused)
{
    (void)unused;
    found_pid = pid;
}

static void
send_signal(pid_t pid, int sig)
{
    kill(pid, sig);
}

static void
remember_child(pid_t pid, int parent)
{
    if (host_ppid(pid) == parent)
        found_pid = pid;
}

/* A live process of the sandbox named comm (see prctl PR_SET_NAME). */
pid_t
find_by_comm(const char *comm)
{
    found_pid = -1;
    each_by_comm(comm, remember, 0);
    return found_pid;
}

/* Likewise, among the children of parent. */
pid_t
find_child_by_comm(pid_t parent, const char *comm)
{
    found_pid = -1;
    each_by_comm(comm, remember_child, parent);
    return found_pid;
}

/* Signals every live process named comm; returns how many there were. */
int
kill_by_comm(const char *comm, int sig)
{
    return each_by_comm(comm, send_signal, sig);
}

/* A job-control shell (busybox sh -i) on a pseudo-terminal. */
void
tty_start(struct tty *t)
{
    char shell[512];

    memset(t, 0, sizeof(*t));
    snprintf(shell, sizeof(shell), "%s/rootfs/bin/busybox", build_dir());
    t->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (t->master == -1 || grantpt(t->master) || unlockpt(t->master))
        fail_check("cannot open a pseudo-terminal");
    fflush(NULL);
    if ((t->shell = fork()) == 0) {
        /* A new session whose first terminal opened becomes its own. */
        int slave = (setsid(), open(ptsname(t->master), O_RDWR));

        dup2(slave, 0);
        dup2(slave, 1);
        dup2(slave, 2);
        setenv("PS1", "PROMPT> ", 1);
        execl(shell, "sh", "-i", (char *)NULL);
        _exit(127);
    }
}

/* Reads the terminal until text appears (after what was matched before). */
void
tty_expect(struct tty *t, const char *text)
{
    struct pollfd pfd = {.fd = t->master, .events = POLLIN};
    char *found;

    for (int waited = 0; waited < 10000; waited += 50) {
        t->seen[t->len] = '\0';
        if ((found = strstr(t->seen + t->pos, text))) {
            t->pos = found - t->seen + strlen(text);
            return;
        }
        if (poll(&pfd, 1, 50) == 1 && t->len < sizeof(t->seen) - 1) {
            ssize_t n =
                read(t->master, t->seen + t->len, sizeof(t->seen) - 1 - t->len);
            t->len += n > 0 ? n : 0;
        }
    }
    fail_check("the terminal never showed '%s'; it shows:\n%s", text,
               t->seen + t->pos);
}

void
tty_send(struct tty *t, const char *keys)
{
    if (write(t->master, keys, strlen(keys)) != (ssize_t)strlen(keys))
        fail_check("cannot type on the terminal");
}

/* ---- the suite: properties and behaviours become cmocka tests ---- */

struct test_case {
    char name[128];
    const char *step;
    const struct property *prop;
    const struct behaviour *beh;
    bool expect_isolated;
};

static int
step_number(const char *step)
{
    return atoi(step);
}

/* Whether step is within first..last (last NULL: no end). */
static bool
in_range(const char *step, const char *first, const char *last)
{
    return step_number(step) >= step_number(first) &&
           (!last || step_number(step) <= step_number(last));
}

/*
 * What a property's table says of it on a step: it leaks before its
 * first_step, holds from there to its last_step, and after that a later
 * layer changes it on purpose. The cmocka tests and the matrix both ask
 * this, so they cannot disagree on what a step should show.
 */
enum expectation { EXPECT_LEAK, EXPECT_HOLD, EXPECT_CHANGED };

static enum expectation
expectation(const struct property *prop, const char *step)
{
    if (step_number(step) < step_number(prop->first_step))
        return EXPECT_LEAK;
    if (in_range(step, prop->first_step, prop->last_step))
        return EXPECT_HOLD;
    return EXPECT_CHANGED;
}

/* The last word of a property's test name on a step. */
static const char *
expectation_word(enum expectation want)
{
    return want == EXPECT_HOLD   ? "isolated"
           : want == EXPECT_LEAK ? "leaks"
                                 : "changed";
}

/* A test's name, as tests/allowed-skips and make grade know it. */
static void
test_name(char *buf, size_t len, const char *name, const char *step,
          const char *word)
{
    snprintf(buf, len, "%s__step%.2s__%s", name, step, word);
}

/* The worker: runs the check on its step and judges the observation. */
static int
case_worker(void *arg)
{
    struct test_case *tc = arg;
    bool held;

    if (tc->beh) {
        tc->beh->check(tc->step);
        return 0;
    }
    held = tc->prop->check(tc->step);
    if (held == tc->expect_isolated)
        return 0;
    if (held)
        fail_check("%s held on %s, the control, where it must leak: is that "
                   "binary really the step before?",
                   tc->prop->name, tc->step);
    fail_check("%s leaked on %s", tc->prop->name, tc->step);
}

static void
run_case(void **state)
{
    struct test_case *tc = *state;
    int status = sandbox_run(case_worker, tc, TEST_TIMEOUT_S, true);

    if (status == CHECK_SKIPPED)
        skip();
    if (status != 0)
        fail_msg("%s: see the lines above", tc->name);
}

static void
add_case(struct test_case *cases, struct CMUnitTest *tests, size_t *n,
         const char *name, const char *step, const char *word)
{
    struct test_case *tc = &cases[*n];

    test_name(tc->name, sizeof(tc->name), name, step, word);
    tc->step = step;
    tests[*n] = (struct CMUnitTest){
        .name = tc->name, .test_func = run_case, .initial_state = tc};
    (*n)++;
}

/* ---- the isolation matrix: every property on every step ---- */

/*
 * The matrix worker's exit status when the property leaked: distinct from
 * 0 (held), from fail_check()'s 1 (the check itself failed) and from
 * CHECK_SKIPPED.
 */
#define CHECK_LEAKED 3

enum verdict { HELD, LEAKED, ERROR, SKIPPED };
static const char *const verdict_words[] = {"held", "leaked", "error",
                                            "skipped"};

static int
matrix_worker(void *arg)
{
    const struct test_case *tc = arg;

    return tc->prop->check(tc->step) ? 0 : CHECK_LEAKED;
}

/*
 * From what a check wrote on stderr, its reason (the text of its FAIL or
 * SKIP line and what follows) on one line without tabs, for the matrix.
 */
static void
cell_reason(const char *text, int status, char *reason, size_t len)
{
    const char *from = strstr(text, "FAIL: ") ?: strstr(text, "SKIP: ");

    if (!from) {
        snprintf(reason, len, "the sandbox ended with status %d", status);
        return;
    }
    /* "FAIL: " and "SKIP: " are as long. */
    snprintf(reason, len, "%s", from + strlen("FAIL: "));
    for (char *c = trim(reason); *c; c++)
        if (*c == '\t' || *c == '\n')
            *c = ' ';
}

/*
 * Runs one property on one step in its own sandbox, with the sandbox's
 * stderr kept in a memory file: the reason of an error or a skip. The
 * whole stderr of an error goes on to ours, for the matrix's log.
 */
static enum verdict
run_cell(struct test_case *tc, char *reason, size_t len)
{
    char text[4096] = "";
    int fd = memfd_create("boxstep-matrix-cell", MFD_CLOEXEC);
    int saved = dup(STDERR_FILENO), status;
    enum verdict v;
    ssize_t n;

    if (fd == -1 || saved == -1 || dup2(fd, STDERR_FILENO) == -1) {
        perror("matrix: cannot capture a check's stderr");
        exit(2);
    }
    status = sandbox_run(matrix_worker, tc, TEST_TIMEOUT_S, true);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    n = pread(fd, text, sizeof(text) - 1, 0);
    text[n > 0 ? n : 0] = '\0';
    close(fd);
    v = status == 0               ? HELD
        : status == CHECK_LEAKED  ? LEAKED
        : status == CHECK_SKIPPED ? SKIPPED
                                  : ERROR;
    if (v == ERROR)
        fprintf(stderr, "%s on %s:\n%s", tc->prop->name, tc->step, text);
    if (v == ERROR || v == SKIPPED)
        cell_reason(text, status, reason, len);
    return v;
}

/*
 * One property on one step, printed as one tab-separated line on stdout:
 *
 *   matrix SUITE PROPERTY FIRST_STEP LAST_STEP STEP VERDICT JUDGEMENT
 *          TEST REASON
 *
 * LAST_STEP is "-" when none. VERDICT is what the check saw: held,
 * leaked, error (the check failed, or left something behind), skipped.
 * JUDGEMENT compares it with the property's table: expected, by-design
 * (after last_step, where a later layer changes it on purpose: whatever
 * it saw), contradicts (a cmocka test would fail on it), or the verdict
 * again for an error or a skip. TEST is the cell's name as a test's
 * (uts_ns__step00__leaks; "changed" after last_step), REASON is empty but
 * for an error or a skip. Returns whether the cell is a problem: a
 * contradiction or an error.
 */
static bool
matrix_cell(const char *suite, const struct property *prop, const char *step)
{
    struct test_case tc = {.step = step, .prop = prop};
    enum expectation want = expectation(prop, step);
    char reason[512] = "", name[128];
    enum verdict v = run_cell(&tc, reason, sizeof(reason));
    bool observed = v == HELD || v == LEAKED;
    bool contradicts = observed && want != EXPECT_CHANGED &&
                       (v == HELD) != (want == EXPECT_HOLD);
    const char *judgement = verdict_words[v];

    if (observed)
        judgement = want == EXPECT_CHANGED ? "by-design"
                    : contradicts          ? "contradicts"
                                           : "expected";
    test_name(name, sizeof(name), prop->name, step, expectation_word(want));
    printf("matrix\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", suite, prop->name,
           prop->first_step, prop->last_step ?: "-", step, verdict_words[v],
           judgement, name, reason);
    return v == ERROR || contradicts;
}

/*
 * BOXSTEP_MATRIX=1: every property on every step, one line per cell
 * (tools/matrix.sh makes the table). Behaviours are not isolation and
 * have no place in it. Returns how many cells were problems.
 */
static int
run_matrix(const char *suite, const struct property *props, size_t n_props)
{
    int problems = 0;

    for (size_t i = 0; i < n_props; i++)
        for (size_t s = 0; s < step_count; s++)
            problems += matrix_cell(suite, &props[i], all_steps[s]);
    return problems;
}

/*
 * Each property: its control on the step before first_step (it must
 * leak there), then first_step and every later step up to last_step (it
 * must hold). Each behaviour: every step from first_step on. With
 * BOXSTEP_MATRIX set, the matrix instead (run_matrix()).
 */
int
run_suite(const char *suite, const struct property *props, size_t n_props,
          const struct behaviour *behaviours, size_t n_behaviours)
{
    size_t max = (n_props + n_behaviours) * (step_count + 1), n = 0;
    struct test_case *cases;
    struct CMUnitTest *tests;
    int failed;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (geteuid() != 0) {
        fprintf(stderr,
                "%s: the tests need root (namespaces, cgroups): "
                "sudo make test\n",
                suite);
        return 1;
    }
    if (getenv("BOXSTEP_MATRIX"))
        return run_matrix(suite, props, n_props) ? 1 : 0;
    cases = calloc(max, sizeof(*cases));
    tests = calloc(max, sizeof(*tests));
    for (size_t i = 0; i < n_props; i++)
        for (size_t s = 0; s < step_count; s++) {
            enum expectation want = expectation(&props[i], all_steps[s]);
            bool control = step_number(all_steps[s]) ==
                           step_number(props[i].first_step) - 1;

            if (want == EXPECT_CHANGED || (want == EXPECT_LEAK && !control))
                continue;
            cases[n].prop = &props[i];
            cases[n].expect_isolated = want == EXPECT_HOLD;
            add_case(cases, tests, &n, props[i].name, all_steps[s],
                     expectation_word(want));
        }
    for (size_t i = 0; i < n_behaviours; i++)
        for (size_t s = 0; s < step_count; s++) {
            if (!in_range(all_steps[s], behaviours[i].first_step,
                          behaviours[i].last_step))
                continue;
            cases[n].beh = &behaviours[i];
            add_case(cases, tests, &n, behaviours[i].name, all_steps[s],
                     behaviours[i].expected);
        }
    failed = _cmocka_run_group_tests(suite, tests, n, NULL, NULL);
    free(tests);
    free(cases);
    return failed;
}
