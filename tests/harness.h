/*
 * harness.h: the test harness every suite uses.
 *
 * A suite lists properties and behaviours. The harness turns each into
 * cmocka tests over the steps, and runs every single check in a forked
 * child that becomes a throwaway outer sandbox (new UTS, IPC, mount,
 * network and PID namespaces, its own /proc, a private tmpfs on /run, a
 * pids-limited cgroup). The step binary runs inside it, so whatever a
 * leaking step changes, it changes only in the sandbox.
 *
 * Checks run in the sandbox, in a process that is not the cmocka runner:
 * they report a failure with fail_check(), which prints why and exits that
 * process; cmocka's own assertions are for the runner only.
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Every step that exists, in order: the directories steps/NN-name/. */
extern const char *const all_steps[];
extern const size_t step_count;

/*
 * An isolation property: check() observes one step and returns true when
 * the property holds (isolated) and false when it leaks. The harness
 * asserts it holds on first_step and every later step up to last_step,
 * and that it leaks on the step before: the very same check, proving it
 * can fail. After last_step a later layer changes the property on
 * purpose: no test runs there, and the isolation matrix shows what the
 * check sees as "by design".
 */
struct property {
    const char *name;
    const char *first_step; /* "01" */
    bool (*check)(const char *step);
    const char *last_step; /* NULL, or where a later layer changes it */
};

/*
 * A behaviour every step from first_step on must have, such as exit
 * statuses. It has no control: it is not an isolation property. check()
 * fails the test itself, with fail_check().
 */
struct behaviour {
    const char *name;
    const char *first_step;
    const char *expected; /* the last word of the test name */
    void (*check)(const char *step);
    const char *last_step; /* NULL, or the last step it applies to */
};

/*
 * A suite's main(): its properties and behaviours as cmocka tests. With
 * BOXSTEP_MATRIX set in the environment, the isolation matrix instead
 * (make matrix, tools/matrix.sh): every property on every step, one line
 * per cell on stdout, no behaviours; exit 1 when a cell contradicts the
 * property's table or its check failed.
 */
int run_suite(const char *suite, const struct property *props, size_t n_props,
              const struct behaviour *behaviours, size_t n_behaviours);

/* Runs fn(arg) as a sandbox's worker and returns fn's exit status, or -1. */
int sandbox_run(int (*fn)(void *), void *arg, int timeout_s,
                bool check_leftovers);

/*
 * Where the probe's directory appears inside a container with a rootfs:
 * /srv, empty in the rootfs, so that no test makes a directory in it. The
 * sandbox has it there too (sandbox.c), for a binary that keeps the host's
 * root.
 */
#define PROBE_DIR "/srv"

/* Paths: the binary for a step (STEP_BIN for the step under test). */
const char *step_path(const char *step);
const char *probe_path(void);
const char *build_dir(void);

/*
 * Inside a check. A check that cannot run on this machine (a kernel too
 * old for the call it needs) skips with the reason: the test is reported
 * SKIPPED, and make test fails unless tests/allowed-skips lists it.
 */
__attribute__((noreturn, format(printf, 1, 2))) void fail_check(const char *fmt,
                                                                ...);
__attribute__((noreturn, format(printf, 1, 2))) void skip_check(const char *fmt,
                                                                ...);
#define CHECK_SKIPPED 77 /* the exit status of a check that skipped */

#define OUT_MAX 16384

struct proc {
    pid_t pid;
    int in_fd; /* write end of the command's stdin, or -1 */
    int out_fd; /* read end of its stdout */
    int err_fd; /* read end of its stderr */
    char out[OUT_MAX];
    char err[OUT_MAX];
    size_t out_len, err_len;
    size_t line_pos; /* how much of out read_line() has returned */
    int status; /* as a shell reports it: the code, or 128+N */
};

struct run_opts {
    uid_t uid; /* run as this uid and gid when non-zero */
    gid_t gid; /* with uid: this gid instead, when non-zero */
    bool keep_stdin; /* give a pipe as stdin instead of /dev/null */
    bool traced; /* PTRACE_TRACEME: the caller traces it from its execve */
};

int spawn(struct proc *p, const struct run_opts *opts, char *const argv[]);
const char *read_line(struct proc *p, int timeout_ms);
int finish(struct proc *p, int timeout_ms);
int run(struct proc *p, char *const argv[]);
const char *command_line(char *const argv[]);

#define ARGV(...) ((char *const[]){__VA_ARGS__, NULL})

/* In a check(const char *step): the step's binary, and the probe. */
#define STEP ((char *)step_path(step))
#define PROBE ((char *)probe_path())

const char *answer(char *const argv[]);
void expect_exit_125(char *const argv[], const char *needle);
long time_run(char *const argv[]);
long median_of(long *values, size_t n);

/* A job-control shell (busybox sh -i from build/rootfs) on a pty. */
struct tty {
    int master;
    pid_t shell;
    char seen[OUT_MAX];
    size_t len, pos;
};

void tty_start(struct tty *t);
void tty_expect(struct tty *t, const char *text);
void tty_send(struct tty *t, const char *keys);

/* Small observations. */
char *trim(char *s);
bool matches(const char *text, const char *pattern);
int ns_id(pid_t pid, const char *ns, char *buf, size_t len);
bool process_exists(pid_t pid);
bool wait_gone(pid_t pid, int timeout_ms);
pid_t host_ppid(pid_t pid);
pid_t innermost_pid(pid_t pid);
bool ns_isolated(const char *step, const char *ns);
pid_t find_by_comm(const char *comm);
pid_t find_child_by_comm(pid_t parent, const char *comm);
int kill_by_comm(const char *comm, int sig);

#endif
