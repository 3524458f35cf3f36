/*
 * unit-shared.c: cmocka unit tests for shared/, the plumbing every step
 * uses. Nothing is mocked: the functions that exit run in a forked child
 * whose stderr and exit status are checked, and the sync pipe, the wait
 * statuses and the signals are real ones from the kernel.
 *
 * cmocka runs every test in this one process, so a test that exits would
 * end the run: die() and friends only ever run in a child.
 *
 * Nothing outside the tests changes: files are made in a fresh directory
 * under /tmp, removed after the test, and links and mounts change only in
 * a child's own network or mount namespace.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/veth.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "boxstep.h"
#include "internal.h"

#define EPERM_LINE "unit: mount(\"proc\"): EPERM (Operation not permitted)\n"
#define CHILD_TIMEOUT 10 /* seconds before a stuck child is killed */

/* What a child wrote to stderr and how it ended. */
struct child_result {
    pid_t pid;
    int status;
    char err[4096];
    size_t err_len;
};

typedef void child_fn(void *arg);

/*
 * Forks a child that runs fn(arg) with stderr on a pipe and exits 0 if fn
 * returns. Returns the read end of the pipe.
 */
static int
child_start(child_fn *fn, void *arg, struct child_result *r)
{
    static const int fatal[] = {SIGSEGV, SIGBUS,  SIGILL,
                                SIGFPE,  SIGABRT, SIGSYS};
    int fds[2];

    memset(r, 0, sizeof(*r));
    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    fflush(NULL); /* or the child's exit() writes our buffers again */
    r->pid = fork();
    assert_int_not_equal(r->pid, -1);
    if (r->pid == 0) {
        /* cmocka's handlers would go on running the tests in here. */
        for (size_t i = 0; i < ARRAY_SIZE(fatal); i++)
            signal(fatal[i], SIG_DFL);
        alarm(CHILD_TIMEOUT);
        if (dup2(fds[1], STDERR_FILENO) == -1)
            _exit(99);
        fn(arg);
        _exit(0);
    }
    close(fds[1]);
    return fds[0];
}

/* Reads the child's stderr up to EOF, keeping what fits, and reaps it. */
static void
child_finish(int err_fd, struct child_result *r)
{
    char discard[512];
    ssize_t n;

    for (;;) {
        size_t room = sizeof(r->err) - 1 - r->err_len;

        if (room > 0)
            n = read(err_fd, r->err + r->err_len, room);
        else
            n = read(err_fd, discard, sizeof(discard));
        if (n == -1 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (room > 0)
            r->err_len += n;
    }
    r->err[r->err_len] = '\0';
    close(err_fd);
    while (waitpid(r->pid, &r->status, 0) == -1)
        assert_int_equal(errno, EINTR);
}

static void
run_in_child(child_fn *fn, void *arg, struct child_result *r)
{
    child_finish(child_start(fn, arg, r), r);
}

static void
assert_exited(const struct child_result *r, int code)
{
    if (!WIFEXITED(r->status) || WEXITSTATUS(r->status) != code)
        fail_msg("child %s, expected exited %d; stderr:\n%s",
                 wait_status_str(r->status), code, r->err);
}

/* Captures what this process writes to stderr between begin and end. */
struct capture {
    int saved_fd;
    int read_fd;
};

static void
capture_begin(struct capture *c)
{
    int fds[2];

    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    fflush(stderr);
    c->saved_fd = dup(STDERR_FILENO);
    assert_int_not_equal(c->saved_fd, -1);
    assert_int_not_equal(dup2(fds[1], STDERR_FILENO), -1);
    close(fds[1]);
    c->read_fd = fds[0];
}

/* Restores stderr, then reads what was written: the pipe is at EOF. */
static void
capture_end(struct capture *c, char *buf, size_t len)
{
    size_t got = 0;
    ssize_t n;

    fflush(stderr);
    dup2(c->saved_fd, STDERR_FILENO);
    close(c->saved_fd);
    while (got < len - 1 &&
           (n = read(c->read_fd, buf + got, len - 1 - got)) != 0) {
        if (n == -1 && errno == EINTR)
            continue;
        assert_true(n > 0);
        got += n;
    }
    buf[got] = '\0';
    close(c->read_fd);
}

/* format_error() and format_trace() take a va_list. */
__attribute__((format(printf, 4, 5))) static int
error_text(char *buf, size_t len, int err, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = format_error(buf, len, err, fmt, ap);
    va_end(ap);
    return n;
}

__attribute__((format(printf, 5, 6))) static int
trace_text(char *buf, size_t len, const char *side, pid_t pid, const char *fmt,
           ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = format_trace(buf, len, side, pid, fmt, ap);
    va_end(ap);
    return n;
}

/* The expected trace line of this process, "[parent 123] what\n". */
static const char *
own_trace_line(const char *side, const char *what)
{
    static char line[512];

    snprintf(line, sizeof(line), "[%s %d] %s\n", side, (int)getpid(), what);
    return line;
}

/* Each test starts with tracing off and the trace side "parent". */
static int
reset_globals(void **state)
{
    (void)state;
    trace_enabled = false;
    trace_side("parent");
    program_name = "unit";
    return 0;
}

/* ---- parse_size ---- */

static void
assert_size(const char *text, unsigned long long expected)
{
    unsigned long long bytes = 12345;

    if (parse_size(text, &bytes) != 0)
        fail_msg("parse_size(\"%s\") failed: %s", text, strerror(errno));
    if (bytes != expected)
        fail_msg("parse_size(\"%s\") = %llu, expected %llu", text, bytes,
                 expected);
}

static void
assert_size_error(const char *text, int err)
{
    unsigned long long bytes = 12345;

    errno = 0;
    if (parse_size(text, &bytes) != -1)
        fail_msg("parse_size(\"%s\") succeeded with %llu", text, bytes);
    if (errno != err)
        fail_msg("parse_size(\"%s\"): errno %s, expected %s", text,
                 strerrorname_np(errno), strerrorname_np(err));
}

static void
parse_size__plain_number__is_bytes(void **state)
{
    (void)state;
    assert_size("1", 1);
    assert_size("4096", 4096);
    assert_size("18446744073709551615", ULLONG_MAX);
}

static void
parse_size__zero__is_zero(void **state)
{
    (void)state;
    assert_size("0", 0);
    assert_size("0K", 0);
}

static void
parse_size__with_suffix__multiplies_by_1024(void **state)
{
    (void)state;
    assert_size("1K", 1024);
    assert_size("1k", 1024);
    assert_size("64M", 64ULL << 20);
    assert_size("64m", 64ULL << 20);
    assert_size("3G", 3ULL << 30);
    assert_size("3g", 3ULL << 30);
}

static void
parse_size__largest_that_fits__is_accepted(void **state)
{
    (void)state;
    /* (2^64 - 1) / 2^30 = 17179869183, rounded down */
    assert_size("17179869183G", 17179869183ULL << 30);
}

static void
parse_size__not_a_size__fails_with_einval(void **state)
{
    (void)state;
    assert_size_error("", EINVAL);
    assert_size_error("abc", EINVAL);
    assert_size_error("12X", EINVAL);
    assert_size_error("-1", EINVAL);
    assert_size_error("+1", EINVAL);
    assert_size_error(" 5", EINVAL);
    assert_size_error("5 ", EINVAL);
    assert_size_error("1KB", EINVAL);
    assert_size_error("K", EINVAL);
    assert_size_error("0x10", EINVAL);
}

static void
parse_size__too_large__fails_with_erange(void **state)
{
    (void)state;
    assert_size_error("18446744073709551615G", ERANGE);
    assert_size_error("17179869184G", ERANGE);
    assert_size_error("18014398509481984K", ERANGE);
    assert_size_error("18446744073709551616", ERANGE);
    assert_size_error("99999999999999999999999", ERANGE);
}

/* ---- parse_options ---- */

struct values {
    bool help;
    bool verbose;
    const char *hostname;
    unsigned long long memory;
    struct str_list env;
};

static struct values v;
static char err[256];

static const struct opt opts[] = {
    {"help", 'h', OPT_FLAG, &v.help, "00", NULL, "show this help and exit"},
    {"verbose", 'v', OPT_FLAG, &v.verbose, "00", NULL,
     "trace every kernel call to stderr"},
    {"env", 0, OPT_LIST, &v.env, "00", "NAME=VALUE",
     "add a variable to COMMAND's environment"},
    {"hostname", 0, OPT_STRING, &v.hostname, "01", "NAME",
     "the container's hostname"},
    {"memory", 'm', OPT_SIZE, &v.memory, "05", "BYTES", "a memory limit"},
    {0},
};

static int
parse(int argc, char *argv[])
{
    memset(&v, 0, sizeof(v));
    memset(err, 0, sizeof(err));
    errno = 0;
    return parse_options(opts, argc, argv, err, sizeof(err));
}

#define PARSE(...) \
    ({ \
        char *argv_[] = {"unit", __VA_ARGS__, NULL}; \
        parse(ARRAY_SIZE(argv_) - 1, argv_); \
    })

static void
parse_options__no_arguments__returns_argc(void **state)
{
    char *argv[] = {"unit", NULL};

    (void)state;
    assert_int_equal(parse(1, argv), 1);
    assert_false(v.help);
    assert_null(v.hostname);
}

static void
parse_options__long_option_then_value__stores_it(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--hostname", "box"), 3);
    assert_string_equal(v.hostname, "box");
}

static void
parse_options__long_option_equals_value__stores_it(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--hostname=box"), 2);
    assert_string_equal(v.hostname, "box");
}

static void
parse_options__value_with_equals__splits_at_the_first(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--env=A=1"), 2);
    assert_int_equal(v.env.len, 1);
    assert_string_equal(v.env.items[0], "A=1");
}

static void
parse_options__short_flags__are_set(void **state)
{
    (void)state;
    assert_int_equal(PARSE("-h", "-v"), 3);
    assert_true(v.help);
    assert_true(v.verbose);
}

static void
parse_options__long_flags__are_set(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--verbose"), 2);
    assert_true(v.verbose);
    assert_false(v.help);
}

static void
parse_options__short_option_then_value__stores_it(void **state)
{
    (void)state;
    assert_int_equal(PARSE("-m", "1K"), 3);
    assert_true(v.memory == 1024);
}

static void
parse_options__command__stops_at_it(void **state)
{
    (void)state;
    /* -c and -h belong to sh, not to us. */
    assert_int_equal(PARSE("-v", "sh", "-c", "hostname", "-h"), 2);
    assert_true(v.verbose);
    assert_false(v.help);
}

static void
parse_options__double_dash__ends_options(void **state)
{
    (void)state;
    assert_int_equal(PARSE("-v", "--", "-h"), 3);
    assert_true(v.verbose);
    assert_false(v.help);
}

static void
parse_options__double_dash_last__returns_argc(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--"), 2);
}

static void
parse_options__lone_dash__is_the_command(void **state)
{
    (void)state;
    assert_int_equal(PARSE("-", "-h"), 1);
    assert_false(v.help);
}

static void
parse_options__unknown_long_option__fails_naming_it(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--nope", "sh"), -1);
    assert_int_equal(errno, EINVAL);
    assert_string_equal(err, "unknown option '--nope'");
}

static void
parse_options__unknown_short_option__fails_naming_it(void **state)
{
    (void)state;
    assert_int_equal(PARSE("-x"), -1);
    assert_int_equal(errno, EINVAL);
    assert_string_equal(err, "unknown option '-x'");
}

static void
parse_options__prefix_of_a_name__is_unknown(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--host", "box"), -1);
    assert_string_equal(err, "unknown option '--host'");
    assert_int_equal(PARSE("--hostnames=box"), -1);
    assert_string_equal(err, "unknown option '--hostnames=box'");
}

static void
parse_options__missing_value__fails_with_usage(void **state)
{
    (void)state;
    assert_int_equal(PARSE("-v", "--hostname"), -1);
    assert_int_equal(errno, EINVAL);
    assert_string_equal(err, "--hostname needs a value: --hostname NAME");
}

static void
parse_options__flag_given_a_value__fails(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--verbose=1"), -1);
    assert_int_equal(errno, EINVAL);
    assert_string_equal(err, "--verbose takes no value");
    assert_false(v.verbose);
}

static void
parse_options__size__is_parsed(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--memory", "64M"), 3);
    assert_true(v.memory == 64ULL << 20);
    assert_int_equal(PARSE("--memory=2g", "sh"), 2);
    assert_true(v.memory == 2ULL << 30);
}

static void
parse_options__bad_size__fails_with_message(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--memory", "12X"), -1);
    assert_int_equal(errno, EINVAL);
    assert_string_equal(err, "--memory 12X: not a size (a number with an "
                             "optional K, M or G suffix)");
}

static void
parse_options__size_too_large__fails_with_erange(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--memory=18446744073709551615G"), -1);
    assert_int_equal(errno, ERANGE);
    assert_string_equal(err, "--memory 18446744073709551615G: too large");
}

static void
parse_options__list__accumulates_in_order(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--env", "A=1", "-v", "--env=B=2", "sh"), 5);
    assert_int_equal(v.env.len, 2);
    assert_string_equal(v.env.items[0], "A=1");
    assert_string_equal(v.env.items[1], "B=2");
    assert_true(v.verbose);
}

/* argv: "unit" then n times "--env", "Vi=i". */
static int
parse_env_times(int n)
{
    static char values[OPT_LIST_MAX + 1][32];
    char *argv[2 * (OPT_LIST_MAX + 1) + 2];
    int argc = 0;

    assert_true(n <= OPT_LIST_MAX + 1);
    argv[argc++] = "unit";
    for (int i = 0; i < n; i++) {
        snprintf(values[i], sizeof(values[i]), "V%d=%d", i, i);
        argv[argc++] = "--env";
        argv[argc++] = values[i];
    }
    argv[argc] = NULL;
    return parse(argc, argv);
}

static void
parse_options__list_at_its_limit__is_accepted(void **state)
{
    (void)state;
    assert_int_equal(parse_env_times(OPT_LIST_MAX), 2 * OPT_LIST_MAX + 1);
    assert_int_equal(v.env.len, OPT_LIST_MAX);
    assert_string_equal(v.env.items[OPT_LIST_MAX - 1], "V31=31");
}

static void
parse_options__list_past_its_limit__fails_with_e2big(void **state)
{
    char expected[64];

    (void)state;
    assert_int_equal(parse_env_times(OPT_LIST_MAX + 1), -1);
    assert_int_equal(errno, E2BIG);
    snprintf(expected, sizeof(expected), "--env: at most %d of them",
             OPT_LIST_MAX);
    assert_string_equal(err, expected);
    assert_int_equal(v.env.len, OPT_LIST_MAX);
}

/* ---- print_help ---- */

static void
print_help__options__one_line_each_with_its_step(void **state)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    (void)state;
    assert_non_null(out);
    print_help(out, opts, "About this step.");
    assert_int_equal(fclose(out), 0);
    assert_non_null(strstr(text, "Usage: unit [OPTIONS] [--] [COMMAND "
                                 "[ARG...]]\n"));
    assert_non_null(strstr(text, "\n  -h, --help               show this "
                                 "help and exit [00]\n"));
    assert_non_null(strstr(text, "\n      --env NAME=VALUE     add a "
                                 "variable to COMMAND's environment [00]\n"));
    assert_non_null(strstr(text, "\n  -m, --memory BYTES       a memory "
                                 "limit [05]\n"));
    assert_non_null(strstr(text, "\n\nAbout this step.\n"));
    free(text);
}

/* ---- format_error ---- */

static void
format_error__errno__appends_name_and_message(void **state)
{
    char buf[128];
    int n;

    (void)state;
    n = error_text(buf, sizeof(buf), EPERM, "call(\"%s\")", "x");
    assert_string_equal(buf, "call(\"x\"): EPERM (Operation not permitted)");
    assert_int_equal(n, strlen(buf));
}

static void
format_error__unknown_errno__names_it_e_question_mark(void **state)
{
    char buf[128];

    (void)state;
    error_text(buf, sizeof(buf), 4242, "call()");
    assert_string_equal(buf, "call(): E? (Unknown error 4242)");
}

static void
format_error__small_buffer__truncates_and_returns_full_length(void **state)
{
    char buf[8], buf2[16];
    int n;

    (void)state;
    n = error_text(buf, sizeof(buf), EPERM, "call(\"%s\")", "x");
    assert_string_equal(buf, "call(\"x");
    assert_true(n >= (int)sizeof(buf));

    /* The call fits, its errno does not. */
    n = error_text(buf2, sizeof(buf2), EPERM, "call(\"%s\")", "x");
    assert_string_equal(buf2, "call(\"x\"): EPER");
    assert_int_equal(n, strlen("call(\"x\"): EPERM (Operation not "
                               "permitted)"));
}

/* ---- format_trace, trace, trace_call ---- */

static void
format_trace__call__prints_side_pid_call_and_newline(void **state)
{
    char buf[128];
    int n;

    (void)state;
    n = trace_text(buf, sizeof(buf), "child", 42, "sethostname(\"%s\") = %d",
                   "box", 0);
    assert_string_equal(buf, "[child 42] sethostname(\"box\") = 0\n");
    assert_int_equal(n, strlen(buf));
}

static void
format_trace__long_call__is_cut_and_keeps_its_newline(void **state)
{
    char buf[16];
    int n;

    (void)state;
    n = trace_text(buf, sizeof(buf), "child", 42, "sethostname(\"%s\") = %d",
                   "box", 0);
    assert_string_equal(buf, "[child 42] set\n");
    assert_int_equal(n, strlen(buf));
}

static void
trace__disabled__writes_nothing(void **state)
{
    struct capture c;
    char out[256];

    (void)state;
    capture_begin(&c);
    trace("clone(%s) = %d", "SIGCHLD", 1);
    trace_call(0, "sethostname(\"%s\")", "box");
    capture_end(&c, out, sizeof(out));
    assert_string_equal(out, "");
}

static void
trace__enabled__writes_one_line_with_side_and_pid(void **state)
{
    struct capture c;
    char out[256];

    (void)state;
    trace_enabled = true;
    trace_side("child");
    capture_begin(&c);
    trace("execvp(\"%s\")", "sh");
    capture_end(&c, out, sizeof(out));
    assert_string_equal(out, own_trace_line("child", "execvp(\"sh\")"));
}

static void
trace_call__failed__traces_errno_and_keeps_it(void **state)
{
    struct capture c;
    char out[256];
    long ret;
    int err;

    (void)state;
    trace_enabled = true;
    capture_begin(&c);
    errno = EPERM;
    ret = trace_call(-1, "mount(\"%s\")", "proc");
    err = errno;
    capture_end(&c, out, sizeof(out));
    assert_int_equal(ret, -1);
    assert_int_equal(err, EPERM);
    assert_string_equal(
        out,
        own_trace_line("parent",
                       "mount(\"proc\") = -1 EPERM (Operation not permitted)"));
}

/* ---- must ---- */

static void
must__succeeded__returns_value_and_keeps_errno(void **state)
{
    (void)state;
    errno = EAGAIN;
    assert_int_equal(must(42, "read(%d)", 3), 42);
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(must(0, "close(%d)", 3), 0);
}

static void
must__tracing__writes_the_trace_line(void **state)
{
    struct capture c;
    char out[256];
    long ret;

    (void)state;
    trace_enabled = true;
    capture_begin(&c);
    ret = must(0, "sethostname(\"%s\")", "box");
    capture_end(&c, out, sizeof(out));
    assert_int_equal(ret, 0);
    assert_string_equal(out,
                        own_trace_line("parent", "sethostname(\"box\") = 0"));
}

static void
must__not_tracing__writes_nothing(void **state)
{
    struct capture c;
    char out[256];

    (void)state;
    capture_begin(&c);
    must(0, "sethostname(\"%s\")", "box");
    capture_end(&c, out, sizeof(out));
    assert_string_equal(out, "");
}

static void
must_fail_in_child(void *arg)
{
    trace_enabled = arg != NULL;
    errno = EPERM;
    must(-1, "mount(\"%s\")", "proc");
    fprintf(stderr, "must() returned\n");
}

static void
must__failed__dies_with_125(void **state)
{
    struct child_result r;

    (void)state;
    run_in_child(must_fail_in_child, NULL, &r);
    assert_exited(&r, EXIT_BOXSTEP);
    assert_string_equal(r.err, EPERM_LINE);
}

static void
must__failed_while_tracing__traces_then_dies(void **state)
{
    struct child_result r;
    char expected[512];

    (void)state;
    run_in_child(must_fail_in_child, "trace", &r);
    assert_exited(&r, EXIT_BOXSTEP);
    snprintf(expected, sizeof(expected),
             "[parent %d] mount(\"proc\") = -1 EPERM (Operation not "
             "permitted)\n%s",
             (int)r.pid, EPERM_LINE);
    assert_string_equal(r.err, expected);
}

/* ---- die, die_hint, warn, usage_error, die_exec ---- */

static void
die_in_child(void *arg)
{
    (void)arg;
    errno = EPERM;
    die("mount(\"%s\")", "proc");
}

static void
die__eperm__prints_error_line_and_exits_125(void **state)
{
    struct child_result r;

    (void)state;
    run_in_child(die_in_child, NULL, &r);
    assert_exited(&r, EXIT_BOXSTEP);
    assert_string_equal(r.err, EPERM_LINE);
}

static void
die_as_nobody_in_child(void *arg)
{
    /*
     * All three uids, and dumpable again: LeakSanitizer's tracer must be
     * allowed to ptrace(2) this child when die() exits.
     */
    if (geteuid() == 0 && setresuid(65534, 65534, 65534) == -1) {
        perror("setresuid");
        _exit(98);
    }
    prctl(PR_SET_DUMPABLE, 1);
    die_in_child(arg);
}

/*
 * die() guesses no cause: EPERM as a user may mean "not root" in one step
 * and "user namespaces are blocked" in another. A hint is the caller's,
 * given with die_hint() where the cause is known.
 */
static void
die__eperm_not_root__guesses_no_hint(void **state)
{
    struct child_result r;

    (void)state;
    run_in_child(die_as_nobody_in_child, NULL, &r);
    assert_exited(&r, EXIT_BOXSTEP);
    assert_string_equal(r.err, EPERM_LINE);
}

static void
die_hint_in_child(void *arg)
{
    (void)arg;
    errno = ENOSPC;
    die_hint("free some space", "write(%d)", 3);
}

static void
die_hint__own_hint__is_printed_after_the_error(void **state)
{
    struct child_result r;

    (void)state;
    run_in_child(die_hint_in_child, NULL, &r);
    assert_exited(&r, EXIT_BOXSTEP);
    assert_string_equal(r.err, "unit: write(3): ENOSPC (No space left on "
                               "device)\nhint: free some space\n");
}

static void
warn__error__prints_line_and_keeps_errno(void **state)
{
    struct capture c;
    char out[256];

    (void)state;
    capture_begin(&c);
    errno = ENOENT;
    warn("umount(\"%s\")", "/old");
    capture_end(&c, out, sizeof(out));
    assert_int_equal(errno, ENOENT);
    assert_string_equal(
        out, "unit: umount(\"/old\"): ENOENT (No such file or directory)\n");
}

static void
usage_error_in_child(void *arg)
{
    (void)arg;
    errno = EPERM; /* not printed: a usage error has no errno */
    usage_error("%s", "unknown option '--nope'");
}

static void
usage_error__message__prints_it_and_help_hint_and_exits_125(void **state)
{
    struct child_result r;

    (void)state;
    run_in_child(usage_error_in_child, NULL, &r);
    assert_exited(&r, EXIT_BOXSTEP);
    assert_string_equal(r.err, "unit: unknown option '--nope'\n"
                               "hint: 'unit --help' lists the options\n");
}

/* A real failed execvp(3) of arg, then die_exec(). */
static void
exec_in_child(void *arg)
{
    char *argv[] = {arg, NULL};

    execvp(argv[0], argv);
    die_exec("execvp(\"%s\")", argv[0]);
}

static void
die_exec__not_found__exits_127_with_path_hint(void **state)
{
    struct child_result r;

    (void)state;
    run_in_child(exec_in_child, "/nonexistent/boxstep-unit", &r);
    assert_exited(&r, EXIT_NOT_FOUND);
    assert_string_equal(r.err,
                        "unit: execvp(\"/nonexistent/boxstep-unit\"): "
                        "ENOENT (No such file or directory)\n"
                        "hint: COMMAND is looked up in the container's PATH: "
                        "give a full path or check the name\n");
}

static void
die_exec__cannot_run__exits_126(void **state)
{
    struct child_result r;

    (void)state;
    /* execve(2) of a directory fails with EACCES, even for root. */
    run_in_child(exec_in_child, "/", &r);
    assert_exited(&r, EXIT_CANNOT_EXEC);
    assert_string_equal(r.err,
                        "unit: execvp(\"/\"): EACCES (Permission denied)\n");
}

/* ---- clone_flags_str, argv_str, signal_set_str ---- */

static void
clone_flags_str__namespaces_and_signal__joined_by_bars(void **state)
{
    (void)state;
    assert_string_equal(clone_flags_str(CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD),
                        "CLONE_NEWUTS|CLONE_NEWIPC|SIGCHLD");
}

static void
clone_flags_str__signal_only__is_the_signal(void **state)
{
    (void)state;
    assert_string_equal(clone_flags_str(SIGCHLD), "SIGCHLD");
}

static void
clone_flags_str__zero__is_0(void **state)
{
    (void)state;
    assert_string_equal(clone_flags_str(0), "0");
}

static void
clone_flags_str__no_signal__has_no_trailing_bar(void **state)
{
    (void)state;
    assert_string_equal(clone_flags_str(CLONE_NEWPID | CLONE_NEWNS),
                        "CLONE_NEWPID|CLONE_NEWNS");
}

static void
clone_flags_str__every_namespace__all_named(void **state)
{
    (void)state;
    assert_string_equal(
        clone_flags_str(CLONE_NEWCGROUP | CLONE_NEWUSER | CLONE_NEWNET |
                        CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC |
                        CLONE_NEWUTS | SIGCHLD),
        "CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWPID|CLONE_NEWNS|CLONE_NEWNET|"
        "CLONE_NEWUSER|CLONE_NEWCGROUP|SIGCHLD");
}

static void
argv_str__arguments__quoted_and_comma_separated(void **state)
{
    char *argv[] = {"sh", "-c", "echo hi", NULL};

    (void)state;
    assert_string_equal(argv_str(argv), "[\"sh\", \"-c\", \"echo hi\"]");
}

static void
argv_str__empty__is_brackets(void **state)
{
    char *argv[] = {NULL};

    (void)state;
    assert_string_equal(argv_str(argv), "[]");
}

static void
argv_str__too_long__is_cut_and_terminated(void **state)
{
    static char word[100];
    char *argv[21];
    const char *s;

    (void)state;
    memset(word, 'a', sizeof(word) - 1);
    for (size_t i = 0; i < ARRAY_SIZE(argv) - 1; i++)
        argv[i] = word;
    argv[ARRAY_SIZE(argv) - 1] = NULL;
    s = argv_str(argv);
    assert_true(strlen(s) < 1024);
    assert_memory_equal(s, "[\"aaa", 5);
    assert_string_equal(s + strlen(s) - 4, "...]");
}

static void
argv_str__quotes_and_backslashes__are_escaped(void **state)
{
    char *argv[] = {"sh", "-c", "echo \"a\\b\"", NULL};

    (void)state;
    assert_string_equal(argv_str(argv),
                        "[\"sh\", \"-c\", \"echo \\\"a\\\\b\\\"\"]");
}

static void
signal_set_str__empty__is_braces(void **state)
{
    sigset_t set;

    (void)state;
    sigemptyset(&set);
    assert_string_equal(signal_set_str(&set), "{}");
}

static void
signal_set_str__some__space_separated_in_order(void **state)
{
    sigset_t set;

    (void)state;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGRTMIN); /* the real-time ones are left out */
    assert_string_equal(signal_set_str(&set), "{HUP INT TERM}");
}

static void
signal_set_str__full__names_every_one(void **state)
{
    sigset_t set;
    const char *s;

    (void)state;
    sigfillset(&set);
    s = signal_set_str(&set);
    assert_memory_equal(s, "{HUP INT QUIT ILL ", 18);
    assert_non_null(strstr(s, " KILL "));
    assert_non_null(strstr(s, " SYS}"));
    assert_null(strstr(s, "null"));
}

static void
signal_set_str__unnamed_signal__shows_its_number(void **state)
{
    sigset_t set;
    const char *s;

    (void)state;
    /*
     * Every bit set, as the kernel may report a mask that holds the two
     * signals glibc keeps for itself and sigaddset(3) refuses.
     */
    memset(&set, 0xff, sizeof(set));
    s = signal_set_str(&set);
    assert_null(strstr(s, "null"));
    assert_non_null(strstr(s, " SYS "));
    assert_non_null(strstr(s, " 32 33}"));
}

/* ---- wait_status_str, exit_status_of: real statuses ---- */

static void
pause_forever(void *arg)
{
    (void)arg;
    for (;;)
        pause();
}

static int
status_of_exit(int code)
{
    pid_t pid;
    int status;

    fflush(NULL);
    pid = fork();
    assert_int_not_equal(pid, -1);
    if (pid == 0)
        _exit(code);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static int
status_of_kill(int sig)
{
    struct child_result r;
    int fd = child_start(pause_forever, NULL, &r);

    assert_int_equal(kill(r.pid, sig), 0);
    child_finish(fd, &r);
    return r.status;
}

static void
wait_status_str__exited__shows_code(void **state)
{
    (void)state;
    assert_string_equal(wait_status_str(status_of_exit(3)), "exited 3");
    assert_string_equal(wait_status_str(status_of_exit(0)), "exited 0");
}

static void
wait_status_str__killed__shows_signal(void **state)
{
    (void)state;
    assert_string_equal(wait_status_str(status_of_kill(SIGKILL)),
                        "killed by SIGKILL");
}

static void
wait_status_str__killed_by_realtime_signal__shows_rtmin_plus_n(void **state)
{
    (void)state;
    assert_string_equal(wait_status_str(status_of_kill(SIGRTMIN + 1)),
                        "killed by SIGRTMIN+1");
}

static void
wait_status_str__stopped_and_continued__shows_them(void **state)
{
    struct child_result r;
    int fd = child_start(pause_forever, NULL, &r);
    int status;

    (void)state;
    assert_int_equal(kill(r.pid, SIGSTOP), 0);
    assert_int_equal(waitpid(r.pid, &status, WUNTRACED), r.pid);
    assert_string_equal(wait_status_str(status), "stopped by SIGSTOP");
    assert_int_equal(kill(r.pid, SIGCONT), 0);
    assert_int_equal(waitpid(r.pid, &status, WCONTINUED), r.pid);
    assert_string_equal(wait_status_str(status), "continued");
    assert_int_equal(kill(r.pid, SIGKILL), 0);
    child_finish(fd, &r);
}

static void
exit_status_of__exited__is_the_code(void **state)
{
    (void)state;
    assert_int_equal(exit_status_of(status_of_exit(0)), 0);
    assert_int_equal(exit_status_of(status_of_exit(3)), 3);
    assert_int_equal(exit_status_of(status_of_exit(255)), 255);
}

static void
exit_status_of__killed__is_128_plus_signal(void **state)
{
    (void)state;
    assert_int_equal(exit_status_of(status_of_kill(SIGKILL)), 128 + SIGKILL);
    assert_int_equal(exit_status_of(status_of_kill(SIGTERM)), 128 + SIGTERM);
}

/* ---- sent_by_terminal ---- */

static void
sent_by_terminal__si_kernel__is_true(void **state)
{
    siginfo_t info;

    (void)state;
    memset(&info, 0, sizeof(info));
    info.si_signo = SIGINT;
    info.si_code = SI_KERNEL;
    assert_true(sent_by_terminal(&info));
}

/* A real signal to this process, taken with sigwaitinfo(2). */
static siginfo_t
own_signal(bool queued)
{
    sigset_t set, saved;
    siginfo_t info;

    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    assert_int_equal(sigprocmask(SIG_BLOCK, &set, &saved), 0);
    if (queued)
        assert_int_equal(sigqueue(getpid(), SIGUSR1, (union sigval){0}), 0);
    else
        assert_int_equal(kill(getpid(), SIGUSR1), 0);
    assert_int_equal(sigwaitinfo(&set, &info), SIGUSR1);
    assert_int_equal(sigprocmask(SIG_SETMASK, &saved, NULL), 0);
    return info;
}

static void
sent_by_terminal__kill__is_false(void **state)
{
    siginfo_t info = own_signal(false);

    (void)state;
    assert_int_equal(info.si_code, SI_USER);
    assert_false(sent_by_terminal(&info));
}

static void
sent_by_terminal__sigqueue__is_false(void **state)
{
    siginfo_t info = own_signal(true);

    (void)state;
    assert_int_equal(info.si_code, SI_QUEUE);
    assert_false(sent_by_terminal(&info));
}

struct tty {
    const char *path;
    int ready_fd;
};

/* Session leader on the terminal: waits for the SIGINT of a ^C. */
static void
wait_for_ctrl_c(void *arg)
{
    struct tty *tty = arg;
    siginfo_t info;
    sigset_t set;
    int fd;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    if (setsid() == -1 || (fd = open(tty->path, O_RDWR)) == -1) {
        perror("setsid or open");
        _exit(97);
    }
    if (write(tty->ready_fd, "1", 1) != 1)
        _exit(96);
    if (sigwaitinfo(&set, &info) != SIGINT)
        _exit(95);
    fprintf(stderr, "si_code=%d terminal=%d\n", info.si_code,
            sent_by_terminal(&info));
    close(fd);
}

static void
sent_by_terminal__ctrl_c_on_a_pty__is_true(void **state)
{
    struct child_result r;
    struct tty tty;
    int master, ready[2], fd;
    char byte, expected[64];

    (void)state;
    master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master == -1 || grantpt(master) == -1 || unlockpt(master) == -1) {
        if (master != -1)
            close(master);
        skip();
    }
    tty.path = ptsname(master);
    assert_non_null(tty.path);
    assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
    tty.ready_fd = ready[1];
    fd = child_start(wait_for_ctrl_c, &tty, &r);
    close(ready[1]);
    if (read(ready[0], &byte, 1) == 1)
        assert_int_equal(write(master, "\x03", 1), 1);
    close(ready[0]);
    child_finish(fd, &r);
    close(master);
    assert_exited(&r, 0);
    snprintf(expected, sizeof(expected), "si_code=%d terminal=1\n", SI_KERNEL);
    assert_string_equal(r.err, expected);
}

/* ---- the sync pipe ---- */

static void
sync_open__pipe__both_ends_close_on_exec(void **state)
{
    struct sync_pipe sync;

    (void)state;
    assert_int_equal(sync_open(&sync), 0);
    assert_true(fcntl(sync.read_fd, F_GETFD) & FD_CLOEXEC);
    assert_true(fcntl(sync.write_fd, F_GETFD) & FD_CLOEXEC);
    close(sync.read_fd);
    close(sync.write_fd);
}

static void
sync_open__tracing__traces_the_fds_it_got(void **state)
{
    struct sync_pipe sync;
    struct capture c;
    char out[256], call[64];
    int ret;

    (void)state;
    trace_enabled = true;
    capture_begin(&c);
    ret = sync_open(&sync);
    capture_end(&c, out, sizeof(out));
    assert_int_equal(ret, 0);
    snprintf(call, sizeof(call), "pipe2([%d, %d], O_CLOEXEC) = 0", sync.read_fd,
             sync.write_fd);
    assert_string_equal(out, own_trace_line("parent", call));
    close(sync.read_fd);
    close(sync.write_fd);
}

/* The child's side: wait, then ask whether the parent is still there. */
static void
sync_child(void *arg)
{
    struct sync_pipe *sync = arg;
    int ret = sync_wait(sync);
    int err = errno;

    if (ret == -1) {
        fprintf(stderr, "wait=-1 errno=%s\n", strerrorname_np(err));
        return;
    }
    fprintf(stderr, "wait=0 alive=%d\n", sync_parent_alive(sync));
}

static void
sync__released__child_goes_on_and_sees_parent_alive(void **state)
{
    struct child_result r;
    struct sync_pipe sync;
    int fd;

    (void)state;
    assert_int_equal(sync_open(&sync), 0);
    fd = child_start(sync_child, &sync, &r);
    assert_int_equal(sync_release(&sync), 0);
    child_finish(fd, &r); /* the write end stays open until the child ends */
    close(sync.write_fd);
    assert_exited(&r, 0);
    assert_string_equal(r.err, "wait=0 alive=1\n");
}

static void
sync__parent_closes_without_release__wait_fails_with_epipe(void **state)
{
    struct child_result r;
    struct sync_pipe sync;
    int fd;

    (void)state;
    assert_int_equal(sync_open(&sync), 0);
    fd = child_start(sync_child, &sync, &r);
    close(sync.read_fd);
    close(sync.write_fd);
    child_finish(fd, &r);
    assert_exited(&r, 0);
    assert_string_equal(r.err, "wait=-1 errno=EPIPE\n");
}

/* Waits until every write end is gone, then asks. */
static void
sync_child_outliving_parent(void *arg)
{
    struct sync_pipe *sync = arg;
    char byte;

    if (sync_wait(sync) == -1) {
        fprintf(stderr, "wait=-1 errno=%s\n", strerrorname_np(errno));
        return;
    }
    for (;;) {
        ssize_t n = read(sync->read_fd, &byte, 1);

        if (n == 0)
            break;
        if (n == -1 && errno == EINTR)
            continue;
        fprintf(stderr, "read() = %zd, expected EOF\n", n);
        return;
    }
    fprintf(stderr, "wait=0 alive=%d\n", sync_parent_alive(sync));
}

static void
sync__parent_closed_write_end__child_sees_it_gone(void **state)
{
    struct child_result r;
    struct sync_pipe sync;
    int fd;

    (void)state;
    assert_int_equal(sync_open(&sync), 0);
    fd = child_start(sync_child_outliving_parent, &sync, &r);
    assert_int_equal(sync_release(&sync), 0);
    close(sync.write_fd);
    child_finish(fd, &r);
    assert_exited(&r, 0);
    assert_string_equal(r.err, "wait=0 alive=0\n");
}

static void
sync_parent_alive__write_end_open_then_closed__is_1_then_0(void **state)
{
    struct sync_pipe sync;

    (void)state;
    assert_int_equal(sync_open(&sync), 0);
    assert_int_equal(sync_parent_alive(&sync), 1);
    close(sync.write_fd);
    assert_int_equal(sync_parent_alive(&sync), 0);
    close(sync.read_fd);
}

/* ---- a temporary directory for the tests that make files ---- */

/*
 * A fresh directory under /tmp, made before the test and removed after
 * it, with the working directory restored, even when the test fails.
 */
static struct {
    char dir[64];
    int cwd_fd;
} tmp;

static int
tmp_setup(void **state)
{
    reset_globals(state);
    snprintf(tmp.dir, sizeof(tmp.dir), "/tmp/boxstep-unit.XXXXXX");
    if (!mkdtemp(tmp.dir))
        return -1;
    tmp.cwd_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (tmp.cwd_fd == -1) {
        rmdir(tmp.dir);
        return -1;
    }
    return 0;
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int
tmp_teardown(void **state)
{
    int ret = fchdir(tmp.cwd_fd);

    (void)state;
    close(tmp.cwd_fd);
    if (nftw(tmp.dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == -1)
        ret = -1;
    return ret;
}

/* buf = the temporary directory/rel */
static char *
in_tmp(char buf[PATH_MAX], const char *rel)
{
    snprintf(buf, PATH_MAX, "%s/%s", tmp.dir, rel);
    return buf;
}

static bool
exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

/* How many entries a directory holds, . and .. aside. */
static int
entries_in(const char *path)
{
    DIR *dir = opendir(path);
    struct dirent *e;
    int n = 0;

    assert_non_null(dir);
    while ((e = readdir(dir)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(dir);
    return n;
}

/* ---- open_locked ---- */

struct try_lock {
    const char *path;
    int inherited_fd; /* the parent's locked fd, closed first, or -1 */
};

/* The lock open_locked() takes: a POSIX write lock on the whole file. */
static struct flock whole_file = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

/* Another process tries the lock on path, without waiting. */
static void
try_lock_in_child(void *arg)
{
    struct try_lock *t = arg;
    int fd;

    if (t->inherited_fd != -1)
        close(t->inherited_fd);
    fd = open(t->path, O_RDWR | O_CLOEXEC);
    if (fd == -1) {
        fprintf(stderr, "open: %s\n", strerrorname_np(errno));
        return;
    }
    if (fcntl(fd, F_SETLK, &whole_file) == 0)
        fprintf(stderr, "lock=0\n");
    else
        fprintf(stderr, "lock=-1 %s\n", strerrorname_np(errno));
    close(fd);
}

static void
open_locked__new_path__creates_and_locks_it_until_closed(void **state)
{
    char path[PATH_MAX];
    struct child_result r;
    struct try_lock t;
    mode_t mask = umask(022);
    struct stat st;
    int fd;

    (void)state;
    umask(mask);
    fd = open_locked(in_tmp(path, "lock"));
    assert_int_not_equal(fd, -1);
    assert_int_equal(fstat(fd, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600 & ~mask);
    assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);

    t.path = path;
    t.inherited_fd = fd;
    run_in_child(try_lock_in_child, &t, &r);
    assert_exited(&r, 0);
    assert_string_equal(r.err, "lock=-1 EAGAIN\n");

    close(fd);
    t.inherited_fd = -1;
    run_in_child(try_lock_in_child, &t, &r);
    assert_exited(&r, 0);
    assert_string_equal(r.err, "lock=0\n");
}

static void
open_locked__existing_file__locks_it_and_keeps_its_content(void **state)
{
    char path[PATH_MAX], buf[16];
    struct stat before, after;
    int fd;

    (void)state;
    fd = open(in_tmp(path, "lock"), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
              0600);
    assert_int_not_equal(fd, -1);
    assert_int_equal(write(fd, "state", 5), 5);
    assert_int_equal(fstat(fd, &before), 0);
    close(fd);

    fd = open_locked(path);
    assert_int_not_equal(fd, -1);
    assert_int_equal(fstat(fd, &after), 0);
    assert_true(after.st_ino == before.st_ino);
    assert_int_equal(read(fd, buf, sizeof(buf)), 5);
    assert_memory_equal(buf, "state", 5);
    close(fd);
}

static void
open_locked__missing_directory__fails_with_enoent(void **state)
{
    char path[PATH_MAX];

    (void)state;
    errno = 0;
    assert_int_equal(open_locked(in_tmp(path, "gone/lock")), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(entries_in(tmp.dir), 0);
}

/*
 * Whether pid waits for a lock on inode ino: /proc/locks lists the
 * waiters with "->", "1: -> POSIX  ADVISORY  WRITE PID MAJ:MIN:INODE ...".
 * Looks for up to 5 seconds.
 */
static bool
waits_for_lock(pid_t pid, ino_t ino)
{
    const struct timespec tick = {0, 10 * 1000 * 1000};

    for (int i = 0; i < 500; i++) {
        FILE *f = fopen("/proc/locks", "re");
        char line[256], *arrow;
        unsigned long inode;
        bool found = false;
        int who;

        if (!f)
            return false;
        while (!found && fgets(line, sizeof(line), f))
            found = (arrow = strstr(line, "-> POSIX")) &&
                    sscanf(arrow, "-> POSIX %*s %*s %d %*x:%*x:%lu", &who,
                           &inode) == 2 &&
                    who == pid && inode == ino;
        fclose(f);
        if (found)
            return true;
        nanosleep(&tick, NULL);
    }
    return false;
}

struct relock {
    const char *path;
    int held_fd; /* the parent's locked fd */
    int report[2]; /* the child writes the inode it locked to report[1] */
    int done[2]; /* EOF on done[0] once the parent has looked */
};

static void
open_locked_and_report(void *arg)
{
    struct relock *rl = arg;
    struct stat st;
    char byte;
    int fd;

    /* Closing its copy of the descriptor lets go of no lock of the parent. */
    close(rl->held_fd);
    close(rl->report[0]);
    close(rl->done[1]);
    fd = open_locked(rl->path);
    if (fd == -1 || fstat(fd, &st) == -1) {
        fprintf(stderr, "open_locked: %s\n", strerrorname_np(errno));
        _exit(1);
    }
    if (write(rl->report[1], &st.st_ino, sizeof(st.st_ino)) !=
        sizeof(st.st_ino))
        _exit(2);
    while (read(rl->done[0], &byte, 1) == -1 && errno == EINTR)
        continue;
    close(fd);
}

static void
open_locked__file_replaced_while_waiting__locks_the_new_one(void **state)
{
    char path[PATH_MAX], other[64] = "";
    struct stat old_file, new_file, named;
    struct pollfd report;
    struct child_result r;
    struct relock rl;
    bool waiting, replaced;
    ino_t locked = 0;
    int err_fd, fd;

    (void)state;
    rl.path = in_tmp(path, "lock");
    rl.held_fd = open_locked(path);
    assert_int_not_equal(rl.held_fd, -1);
    assert_int_equal(fstat(rl.held_fd, &old_file), 0);
    assert_int_equal(pipe2(rl.report, O_CLOEXEC), 0);
    assert_int_equal(pipe2(rl.done, O_CLOEXEC), 0);

    err_fd = child_start(open_locked_and_report, &rl, &r);
    close(rl.report[1]);
    close(rl.done[0]);
    /* The child waits in fcntl(2) on the file this process holds... */
    waiting = waits_for_lock(r.pid, old_file.st_ino);
    /* ...which is unlinked, a new one made in its place, then let go. */
    replaced =
        unlink(path) == 0 &&
        (fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) != -1 &&
        fstat(fd, &new_file) == 0 && close(fd) == 0;
    close(rl.held_fd);

    report.fd = rl.report[0];
    report.events = POLLIN;
    if (poll(&report, 1, 5000) == 1 &&
        read(rl.report[0], &locked, sizeof(locked)) == sizeof(locked)) {
        /* While the child holds its lock, nobody else gets it. */
        struct try_lock t = {path, -1};
        struct child_result tr;

        run_in_child(try_lock_in_child, &t, &tr);
        snprintf(other, sizeof(other), "%s", tr.err);
    } else {
        kill(r.pid, SIGKILL);
    }
    close(rl.done[1]);
    close(rl.report[0]);
    child_finish(err_fd, &r);

    assert_true(waiting);
    assert_true(replaced);
    assert_exited(&r, 0);
    assert_int_equal(stat(path, &named), 0);
    assert_true(new_file.st_ino != old_file.st_ino);
    if (locked != new_file.st_ino || locked != named.st_ino)
        fail_msg("the child locked inode %lu; the old file was %lu, the "
                 "new one %lu",
                 (unsigned long)locked, (unsigned long)old_file.st_ino,
                 (unsigned long)new_file.st_ino);
    assert_string_equal(other, "lock=-1 EAGAIN\n");
}

/*
 * A child made while the lock is held does not hold it: once the parent
 * lets go, another process gets the lock although that child still has
 * its copy of the descriptor (the container never holds its runtime's
 * lock). open_locked() itself is the judge, under a 3 s alarm.
 */
static void
keep_descriptor_until_told(void *arg)
{
    int *done = arg;
    char byte;

    close(done[1]);
    while (read(done[0], &byte, 1) == -1 && errno == EINTR)
        continue;
}

static void
open_locked_under_alarm(void *arg)
{
    alarm(3);
    if (open_locked(arg) == -1)
        fprintf(stderr, "open_locked: %s\n", strerrorname_np(errno));
    else
        fprintf(stderr, "locked\n");
}

static void
open_locked__child_made_after_the_lock__does_not_hold_it(void **state)
{
    struct child_result holder, other;
    char path[PATH_MAX];
    int done[2], err_fd, fd;

    (void)state;
    fd = open_locked(in_tmp(path, "lock"));
    assert_int_not_equal(fd, -1);
    assert_int_equal(pipe2(done, O_CLOEXEC), 0);
    err_fd = child_start(keep_descriptor_until_told, done, &holder);
    close(done[0]);
    close(fd);
    run_in_child(open_locked_under_alarm, path, &other);
    close(done[1]);
    child_finish(err_fd, &holder);
    assert_exited(&holder, 0);
    assert_exited(&other, 0);
    assert_string_equal(other.err, "locked\n");
}

/* ---- cleanup: the runtime's list ---- */

static void
note_undo(void *what)
{
    fprintf(stderr, "undo %s\n", (const char *)what);
}

static void
push_three_then_run_twice(void *arg)
{
    (void)arg;
    cleanup_push(note_undo, "first", "first");
    cleanup_push(note_undo, "second", "second");
    cleanup_push(note_undo, "third", "third");
    cleanup_run();
    cleanup_run();
}

static void
cleanup_run__three_undos__newest_first_and_once(void **state)
{
    struct child_result r;

    (void)state;
    run_in_child(push_three_then_run_twice, NULL, &r);
    assert_exited(&r, 0);
    assert_string_equal(r.err, "undo third\nundo second\nundo first\n");
}

static void
push_then_die(void *arg)
{
    cleanup_push(note_undo, "record", "record");
    if (arg)
        cleanup_forget();
    errno = EPERM;
    die("mount(\"%s\")", "proc");
}

static void
die__in_the_runtime__undoes_the_list_then_exits_125(void **state)
{
    struct child_result r;

    (void)state;
    run_in_child(push_then_die, NULL, &r);
    assert_exited(&r, EXIT_BOXSTEP);
    assert_string_equal(r.err, EPERM_LINE "undo record\n");
}

/* The child that clone() makes forgets the runtime's list first. */
static void
die__after_cleanup_forget__undoes_nothing(void **state)
{
    struct child_result r;

    (void)state;
    run_in_child(push_then_die, "child", &r);
    assert_exited(&r, EXIT_BOXSTEP);
    assert_string_equal(r.err, EPERM_LINE);
}

static int undo_count;

static void
count_undo(void *arg)
{
    (void)arg;
    undo_count++;
}

static void
push_past_the_limit(void *arg)
{
    int pushed = 0;

    (void)arg;
    while (cleanup_push(count_undo, NULL, "undo") == 0 && pushed < 1000)
        pushed++;
    fprintf(stderr, "pushed %d, then %s\n", pushed, strerrorname_np(errno));
    cleanup_run();
    fprintf(stderr, "undone %d\n", undo_count);
}

static void
cleanup_push__list_full__fails_with_enospc(void **state)
{
    struct child_result r;

    (void)state;
    run_in_child(push_past_the_limit, NULL, &r);
    assert_exited(&r, 0);
    assert_string_equal(r.err, "pushed 16, then ENOSPC\nundone 16\n");
}

/* ---- state: the state directory ---- */

/* Each state test runs in a child, with the directory under tmp. */
static char *
state_dir_in_tmp(void)
{
    static char dir[PATH_MAX];

    state_dir = in_tmp(dir, "state");
    return dir;
}

static unsigned long
own_pid_namespace(void)
{
    struct stat st;

    assert_int_equal(stat("/proc/self/ns/pid", &st), 0);
    return st.st_ino;
}

/* The path of the record of pid in PID namespace pidns: PIDNS-PID. */
static char *
record_path(char *buf, size_t len, pid_t pid, unsigned long pidns)
{
    snprintf(buf, len, "%s/%lu-%d", state_dir, pidns, (int)pid);
    return buf;
}

/* Whether the record of pid in this PID namespace exists. */
static const char *
record_kept(pid_t pid, unsigned long pidns)
{
    char path[PATH_MAX + 32];

    return exists(record_path(path, sizeof(path), pid, pidns)) ? "kept"
                                                               : "gone";
}

/* A record as a runtime would have written it, for pid. */
static void
write_record(pid_t pid, unsigned long long start, unsigned long pidns,
             const char *fields)
{
    char path[PATH_MAX + 32];
    FILE *f;

    mkdir(state_dir, 0700);
    record_path(path, sizeof(path), pid, pidns);
    f = fopen(path, "we");
    assert_non_null(f);
    fprintf(f, "start=%llu\npidns=%lu\n%s", start, pidns, fields);
    fclose(f);
}

static char *
read_text(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd == -1 ? -1 : read(fd, buf, len - 1);

    if (fd != -1)
        close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static void
note_release(const char *record)
{
    char net[32] = "-";

    state_get(record, "net", net, sizeof(net));
    fprintf(stderr, "release net=%s\n", net);
}

static state_release_fn *const note_releases[] = {note_release, NULL};

static void
open_set_and_show(void *arg)
{
    char path[PATH_MAX + 16], text[512], value[64];
    unsigned long long start;

    (void)arg;
    state_dir_in_tmp();
    if (state_open_record(note_releases) == -1 ||
        state_record_set("net", "bridge") == -1 ||
        state_record_set("ip", "10.200.0.2") == -1 || state_unlock() == -1) {
        fprintf(stderr, "%s: %s\n", state_failed_call(),
                strerrorname_np(errno));
        return;
    }
    record_path(path, sizeof(path), getpid(), own_pid_namespace());
    read_text(path, text, sizeof(text));
    process_start_time(getpid(), &start);
    snprintf(value, sizeof(value), "start=%llu\npidns=%lu\n", start,
             own_pid_namespace());
    fprintf(stderr, "head %s\n",
            strncmp(text, value, strlen(value)) ? text : "ok");
    fprintf(stderr, "rest %s", text + strlen(value));
    fprintf(stderr, "lock file %s\n",
            exists(in_tmp(path, "state/lock")) ? "left" : "gone");
    cleanup_run();
    fprintf(stderr, "dir %s\n", exists(state_dir) ? "left" : "gone");
}

/*
 * A runtime's record: the module's two lines, then the layers' fields;
 * at its exit (cleanup_run) the record goes, the release functions are
 * called for it, and the directory goes with the last record.
 */
static void
state_open_record__fields_then_exit__record_released_and_dir_gone(void **state)
{
    struct child_result r;

    (void)state;
    run_in_child(open_set_and_show, NULL, &r);
    assert_exited(&r, 0);
    assert_string_equal(r.err, "head ok\nrest net=bridge\nip=10.200.0.2\n"
                               "lock file left\nrelease net=bridge\n"
                               "dir gone\n");
}

static void
sweep_and_show(void *arg)
{
    char path[PATH_MAX + 32];
    unsigned long long start;
    pid_t parent = getppid();
    int swept;

    (void)arg;
    state_dir_in_tmp();
    process_start_time(parent, &start);
    /* Live: the test runner, its start time right. */
    write_record(parent, start, own_pid_namespace(), "net=live\n");
    /* Stale: the same PID, started at another time (the PID reused). */
    write_record(1, 999999999999ULL, own_pid_namespace(), "net=reused\n");
    /* Of another PID namespace: cannot be judged, counts as live. */
    write_record(2, 1, own_pid_namespace() + 1, "net=elsewhere\n");
    if (state_lock() == -1)
        return;
    swept = state_sweep(note_releases);
    fprintf(stderr, "swept %d\n", swept);
    fprintf(stderr, "live %s\n", record_kept(parent, own_pid_namespace()));
    fprintf(stderr, "reused %s\n", record_kept(1, own_pid_namespace()));
    fprintf(stderr, "elsewhere %s\n", record_kept(2, own_pid_namespace() + 1));
    unlink(record_path(path, sizeof(path), 2, own_pid_namespace() + 1));
    unlink(record_path(path, sizeof(path), parent, own_pid_namespace()));
    state_unlock();
}

static void
state_sweep__dead_runtime__record_released_live_ones_kept(void **state)
{
    struct child_result r;

    (void)state;
    run_in_child(sweep_and_show, NULL, &r);
    assert_exited(&r, 0);
    assert_string_equal(r.err, "release net=reused\nswept 1\nlive kept\n"
                               "reused gone\nelsewhere kept\n");
}

/* A child that has exited and is not reaped yet: a zombie. */
static pid_t
zombie_child(void)
{
    siginfo_t info;
    pid_t pid = fork();

    if (pid == 0)
        _exit(0);
    /* waitid(2) WNOWAIT: waits until it has exited, and leaves it so. */
    if (pid > 0)
        waitid(P_PID, pid, &info, WEXITED | WNOWAIT);
    return pid;
}

static void
sweep_zombie_and_show(void *arg)
{
    unsigned long long start = 0;
    pid_t zombie = zombie_child();
    int swept;

    (void)arg;
    state_dir_in_tmp();
    process_start_time(zombie, &start);
    write_record(zombie, start, own_pid_namespace(), "net=zombie\n");
    if (state_lock() == -1)
        return;
    swept = state_sweep(note_releases);
    fprintf(stderr, "swept %d\n", swept);
    fprintf(stderr, "zombie %s\n", record_kept(zombie, own_pid_namespace()));
    state_unlock();
    waitpid(zombie, NULL, 0);
}

/*
 * A runtime SIGKILLed stays a zombie, its PID and start time intact, until
 * its parent reaps it: it runs no more, so its record is stale.
 */
static void
state_sweep__zombie_runtime__record_released(void **state)
{
    struct child_result r;

    (void)state;
    run_in_child(sweep_zombie_and_show, NULL, &r);
    assert_exited(&r, 0);
    assert_string_equal(r.err, "release net=zombie\nswept 1\nzombie gone\n");
}

static void
print_net(const char *record, void *arg)
{
    char net[32];

    (void)arg;
    if (state_get(record, "net", net, sizeof(net)) == 0)
        fprintf(stderr, "visit net=%s\n", net);
}

static void
each_and_show(void *arg)
{
    (void)arg;
    state_dir_in_tmp();
    write_record(1, 999999999999ULL, own_pid_namespace(), "net=reused\n");
    if (state_open_record(note_releases) == -1 ||
        state_record_set("net", "mine") == -1)
        return;
    state_each(print_net, NULL);
    fprintf(stderr, "reused %s\n", record_kept(1, own_pid_namespace()));
    cleanup_run();
}

/* Opening a record sweeps first; state_each() visits live records only. */
static void
state_each__after_open__visits_live_records_only(void **state)
{
    struct child_result r;

    (void)state;
    run_in_child(each_and_show, NULL, &r);
    assert_exited(&r, 0);
    assert_string_equal(r.err, "release net=reused\nvisit net=mine\n"
                               "reused gone\nrelease net=mine\n");
}

static void
each_locked_and_show(void *arg)
{
    (void)arg;
    state_dir_in_tmp();
    write_record(1, 999999999999ULL, own_pid_namespace(), "net=stale\n");
    write_record(1, 1, 1, "net=other-pidns\n");
    if (state_each_locked(print_net, NULL) == -1)
        fprintf(stderr, "%s: %s\n", state_failed_call(),
                strerrorname_np(errno));
    fprintf(stderr, "stale %s, lock %s\n", record_kept(1, own_pid_namespace()),
            exists(in_tmp((char[PATH_MAX]){0}, "state/lock")) ? "left"
                                                              : "gone");
}

/*
 * A run with no record of its own (07's --freeze NAME) visits the live
 * records under the lock, and sweeps nothing: a record of another PID
 * namespace counts as live, a stale one stays for the next sweep.
 */
static void
state_each_locked__no_record__visits_live_sweeps_nothing(void **state)
{
    struct child_result r;

    (void)state;
    run_in_child(each_locked_and_show, NULL, &r);
    assert_exited(&r, 0);
    assert_string_equal(r.err, "visit net=other-pidns\nstale kept, lock "
                               "gone\n");
}

static void
open_in_shared_dir(void *arg)
{
    (void)arg;
    state_dir_in_tmp();
    mkdir(state_dir, 0700);
    chmod(state_dir, 0755);
    if (state_open_record(NULL) == -1)
        fprintf(stderr, "%s: %s\n", state_failed_call(),
                strerrorname_np(errno));
    chmod(state_dir, 0700);
    cleanup_run();
}

/*
 * A state directory others may read (or one another user made: the same
 * check, by owner) is refused, and no record is made in it.
 */
static void
state_open_record__dir_not_private__refused(void **state)
{
    struct child_result r;
    char expected[PATH_MAX + 64];

    (void)state;
    run_in_child(open_in_shared_dir, NULL, &r);
    assert_exited(&r, 0);
    snprintf(expected, sizeof(expected),
             "%s: not a private directory of uid 0: EPERM\n",
             in_tmp((char[PATH_MAX]){0}, "state"));
    assert_string_equal(r.err, expected);
}

static void
gc_and_show(void *arg)
{
    (void)arg;
    state_dir_in_tmp();
    write_record(1, 999999999999ULL, own_pid_namespace(), "net=bridge\n");
    if (state_collect_garbage(note_releases) == -1)
        fprintf(stderr, "%s: %s\n", state_failed_call(),
                strerrorname_np(errno));
    fprintf(stderr, "dir %s\n", exists(state_dir) ? "left" : "gone");
}

static void
state_collect_garbage__stale_record__released_and_dir_gone(void **state)
{
    struct child_result r;

    (void)state;
    run_in_child(gc_and_show, NULL, &r);
    assert_exited(&r, 0);
    assert_string_equal(r.err, "release net=bridge\ndir gone\n");
}

/* ---- the layer directory (step 08) ---- */

static void
make_file(const char *path)
{
    int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);

    assert_true(fd >= 0);
    close(fd);
}

/* rm -r: nested directories, a file, a link, and a directory of mode 000. */
static void
remove_tree__nested__all_gone(void **state)
{
    char top[PATH_MAX], path[PATH_MAX];

    (void)state;
    assert_int_equal(mkdir(in_tmp(top, "t"), 0755), 0);
    assert_int_equal(mkdir(in_tmp(path, "t/a"), 0755), 0);
    assert_int_equal(mkdir(in_tmp(path, "t/a/b"), 0755), 0);
    make_file(in_tmp(path, "t/a/b/file"));
    assert_int_equal(symlink("/", in_tmp(path, "t/link")), 0);
    assert_int_equal(mkdir(in_tmp(path, "t/work"), 0), 0);
    assert_int_equal(remove_tree(top), 0);
    assert_false(exists(top));
    assert_true(exists("/")); /* the link was not followed */
}

/* A missing path is already removed. */
static void
remove_tree__missing__succeeds(void **state)
{
    char path[PATH_MAX];

    (void)state;
    assert_int_equal(remove_tree(in_tmp(path, "none")), 0);
}

/*
 * The sweep, with a record of this runtime's own: a layer no record
 * names goes, a kept one and this runtime's own stay; at the runtime's
 * exit its own goes too. A name in use is refused with EEXIST.
 */
static void
sweep_layers_and_show(void *arg)
{
    static char dir[PATH_MAX];
    char path[PATH_MAX], own[PATH_MAX];

    (void)arg;
    state_dir_in_tmp();
    layer_dir = in_tmp(dir, "layers");
    assert_int_equal(mkdir(layer_dir, 0711), 0);
    make_file(in_tmp(path, "layers/.boxstep-layers")); /* boxstep's */
    assert_int_equal(mkdir(in_tmp(path, "layers/orphan"), 0700), 0);
    make_file(in_tmp(path, "layers/orphan/f"));
    assert_int_equal(mkdir(in_tmp(path, "layers/kept"), 0700), 0);
    make_file(in_tmp(path, "layers/kept/keep"));
    if (state_open_record(note_releases) == -1 ||
        state_make_layer("mine", own, sizeof(own)) == -1)
        fprintf(stderr, "%s\n", state_failed_call());
    if (state_make_layer("kept", path, sizeof(path)) == -1)
        fprintf(stderr, "kept: %s\n", strerrorname_np(errno));
    state_unlock();
    if (state_collect_garbage(note_releases) == -1)
        fprintf(stderr, "%s\n", state_failed_call());
    fprintf(stderr, "orphan %s, kept %s, mine %s\n",
            exists(in_tmp(path, "layers/orphan")) ? "left" : "gone",
            exists(in_tmp(path, "layers/kept")) ? "left" : "gone",
            exists(own) ? "left" : "gone");
    cleanup_run();
    fprintf(stderr, "at exit: mine %s\n", exists(own) ? "left" : "gone");
}

static void
state_sweep__layers__unclaimed_gone_kept_and_own_stay(void **state)
{
    struct child_result r;

    (void)state;
    run_in_child(sweep_layers_and_show, NULL, &r);
    assert_exited(&r, 0);
    assert_string_equal(r.err, "kept: EEXIST\norphan gone, kept left, mine "
                               "left\nrelease net=-\nat exit: mine gone\n");
}

/*
 * The runtime's child dies during set-up (die() after cleanup_forget(),
 * as child() does first): the runtime's record stays until the runtime
 * itself exits. The child's PID is not what tells them apart: here both
 * could be PID 1 of their own namespaces.
 */
static void
child_dies_then_runtime_exits(void *arg)
{
    struct child_result child;
    char path[PATH_MAX + 16];

    (void)arg;
    state_dir_in_tmp();
    if (state_open_record(note_releases) == -1 || state_unlock() == -1)
        return;
    run_in_child(push_then_die, "child", &child);
    record_path(path, sizeof(path), getpid(), own_pid_namespace());
    fprintf(stderr, "child exited %d, record %s\n",
            WIFEXITED(child.status) ? WEXITSTATUS(child.status) : -1,
            exists(path) ? "kept" : "gone");
    cleanup_run();
    fprintf(stderr, "dir %s\n", exists(state_dir) ? "left" : "gone");
}

static void
state__child_dies_in_set_up__record_stays_until_the_runtime_exits(void **state)
{
    struct child_result r;

    (void)state;
    run_in_child(child_dies_then_runtime_exits, NULL, &r);
    assert_exited(&r, 0);
    assert_string_equal(r.err, "child exited 125, record kept\n"
                               "release net=-\ndir gone\n");
}

/*
 * A PID means something only in its namespace: a record of the same PID
 * made in another PID namespace that shares the directory is another
 * runtime's, and this one's is made beside it.
 */
static void
same_pid_other_namespace(void *arg)
{
    (void)arg;
    state_dir_in_tmp();
    write_record(getpid(), 1, own_pid_namespace() + 1, "net=elsewhere\n");
    if (state_open_record(note_releases) == -1) {
        fprintf(stderr, "%s: %s\n", state_failed_call(),
                strerrorname_np(errno));
        return;
    }
    fprintf(stderr, "mine %s, elsewhere %s\n",
            record_kept(getpid(), own_pid_namespace()),
            record_kept(getpid(), own_pid_namespace() + 1));
    cleanup_run();
    fprintf(stderr, "elsewhere %s\n",
            record_kept(getpid(), own_pid_namespace() + 1));
}

static void
state_open_record__same_pid_in_another_namespace__both_kept(void **state)
{
    struct child_result r;

    (void)state;
    run_in_child(same_pid_other_namespace, NULL, &r);
    assert_exited(&r, 0);
    assert_string_equal(r.err, "mine kept, elsewhere kept\n"
                               "release net=-\nelsewhere kept\n");
}

static void
record_set_without_record(void *arg)
{
    (void)arg;
    state_dir_in_tmp();
    if (state_record_set("net", "veth") == -1)
        fprintf(stderr, "%s\n", strerrorname_np(errno));
}

static void
state_record_set__no_record_opened__fails(void **state)
{
    struct child_result r;

    (void)state;
    run_in_child(record_set_without_record, NULL, &r);
    assert_exited(&r, 0);
    assert_string_equal(r.err, "ENOENT\n");
}

static void
state_get__key__value_up_to_the_newline(void **state)
{
    char value[16];

    (void)state;
    assert_int_equal(state_get("start=1\nnet=bridge\nip=10.200.0.2\n", "ip",
                               value, sizeof(value)),
                     0);
    assert_string_equal(value, "10.200.0.2");
    assert_int_equal(
        state_get("network=x\nnet=veth", "net", value, sizeof(value)), 0);
    assert_string_equal(value, "veth");
    errno = 0;
    assert_int_equal(
        state_get("start=1\nnetwork=x\n", "net", value, sizeof(value)), -1);
    assert_int_equal(errno, ENOENT);
}

/* ---- process_start_time ---- */

/*
 * Field 22 of /proc/PID/stat, proc(5), parsed here on its own: the
 * fields after the last ')' (the command name may hold any), split at
 * spaces; the first of them is field 3. 0 when it cannot be read: no
 * process starts at the very tick the machine boots.
 */
static unsigned long long
stat_field_22(pid_t pid)
{
    char path[64], line[1024] = "", *rest, *save = NULL;
    FILE *f;
    int field = 2;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if (!(f = fopen(path, "re")))
        return 0;
    if (!fgets(line, sizeof(line), f))
        line[0] = '\0';
    fclose(f);
    if (!(rest = strrchr(line, ')')))
        return 0;
    for (char *word = strtok_r(rest + 1, " ", &save); word;
         word = strtok_r(NULL, " ", &save))
        if (++field == 22)
            return strtoull(word, NULL, 10);
    return 0;
}

static void
process_start_time__self__is_field_22_of_proc_stat(void **state)
{
    unsigned long long ticks = 0;

    (void)state;
    assert_int_equal(process_start_time(getpid(), &ticks), 0);
    assert_true(ticks > 0);
    assert_true(ticks == stat_field_22(getpid()));
}

static void
process_start_time__child__is_not_before_its_parent(void **state)
{
    unsigned long long parent = 0, child = 0, expected;
    struct child_result r;
    int fd, ret;

    (void)state;
    assert_int_equal(process_start_time(getpid(), &parent), 0);
    fd = child_start(pause_forever, NULL, &r);
    ret = process_start_time(r.pid, &child);
    expected = stat_field_22(r.pid);
    kill(r.pid, SIGKILL);
    child_finish(fd, &r);
    assert_int_equal(ret, 0);
    assert_true(expected > 0);
    assert_true(child == expected);
    if (child < parent)
        fail_msg("child started at %llu, before its parent at %llu", child,
                 parent);
}

#define ODD_NAME "x) 1 2 (3) 4 5" /* 15 bytes at most, the NUL included */

/* Takes a name that a parser cutting at the first ')' would misread. */
static void
rename_in_child(void *arg)
{
    int *fds = arg; /* the go pipe's read end, the ready pipe's write end */
    char byte;

    if (read(fds[0], &byte, 1) != 1 || prctl(PR_SET_NAME, ODD_NAME) == -1 ||
        write(fds[1], "1", 1) != 1)
        _exit(1);
    for (;;)
        pause();
}

static void
process_start_time__name_with_parens_and_spaces__still_field_22(void **state)
{
    unsigned long long before, ticks = 0;
    int go[2], ready[2], fds[2], err_fd, ret = -1;
    char path[64], line[256] = "";
    struct child_result r;
    struct pollfd p;
    FILE *f;

    (void)state;
    assert_int_equal(pipe2(go, O_CLOEXEC), 0);
    assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
    fds[0] = go[0];
    fds[1] = ready[1];
    err_fd = child_start(rename_in_child, fds, &r);
    close(go[0]);
    close(ready[1]);
    before = stat_field_22(r.pid); /* while its name is still ours */
    p.fd = ready[0];
    p.events = POLLIN;
    if (write(go[1], "1", 1) == 1 && poll(&p, 1, 5000) == 1) {
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)r.pid);
        if ((f = fopen(path, "re"))) {
            if (!fgets(line, sizeof(line), f))
                line[0] = '\0';
            fclose(f);
        }
        ret = process_start_time(r.pid, &ticks);
    }
    kill(r.pid, SIGKILL);
    close(go[1]);
    close(ready[0]);
    child_finish(err_fd, &r);
    assert_non_null(strstr(line, " (" ODD_NAME ") "));
    assert_int_equal(ret, 0);
    assert_true(before > 0);
    assert_true(ticks == before);
}

/* A running child runs; the same child, exited and not reaped, does not. */
static void
process_runs__zombie__does_not(void **state)
{
    unsigned long long start = 0;
    struct child_result r;
    bool running, zombie;
    pid_t pid;
    int fd;

    (void)state;
    fd = child_start(pause_forever, NULL, &r);
    process_start_time(r.pid, &start);
    running = process_runs(r.pid, start);
    assert_false(process_runs(r.pid, start + 1));
    kill(r.pid, SIGKILL);
    child_finish(fd, &r);
    assert_true(running);
    pid = zombie_child();
    assert_true(pid > 0);
    assert_int_equal(process_start_time(pid, &start), 0);
    zombie = process_runs(pid, start);
    waitpid(pid, NULL, 0);
    assert_false(zombie);
}

static void
assert_no_start_time(pid_t pid)
{
    unsigned long long ticks = 42;

    errno = 0;
    if (process_start_time(pid, &ticks) != -1)
        fail_msg("process_start_time(%d) succeeded: %llu", (int)pid, ticks);
    if (errno != ENOENT)
        fail_msg("process_start_time(%d): errno %s, expected ENOENT", (int)pid,
                 strerrorname_np(errno));
    assert_true(ticks == 42);
}

static void
process_start_time__no_such_pid__fails_with_enoent(void **state)
{
    FILE *f = fopen("/proc/sys/kernel/pid_max", "re");
    int pid_max = 0;

    (void)state;
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%d", &pid_max), 1);
    fclose(f);
    /* PIDs are below pid_max: neither can name a process. */
    assert_no_start_time(pid_max);
    assert_no_start_time(INT_MAX);
}

/* ---- netlink: building a request ---- */

/* Where byte p of the request is, counted from its header. */
static size_t
offset_in(const struct nl_request *req, const void *p)
{
    return (const char *)p - req->buf;
}

/* Bytes [from, to) of the request are all zero. */
static void
assert_zero(const struct nl_request *req, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (req->buf[i])
            fail_msg("byte %zu of the request is 0x%02x, expected 0", i,
                     (unsigned char)req->buf[i]);
}

/*
 * Walks the attributes in [first, first + len), as the kernel does:
 * returns how many, with their types, and fails unless they end exactly
 * at first + len.
 */
static int
walk_attrs(struct rtattr *first, int len, unsigned short *types, int max)
{
    struct rtattr *a = first;
    int n = 0;

    for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        assert_true(n < max);
        types[n++] = a->rta_type;
    }
    assert_int_equal(len, 0);
    return n;
}

static void
nl_start__body__follows_header_with_request_and_ack(void **state)
{
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC,
                            .ifi_index = 7,
                            .ifi_flags = IFF_UP,
                            .ifi_change = IFF_UP};
    struct nl_request req;

    (void)state;
    memset(&req, 0xa5, sizeof(req));
    nl_start(&req, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
    assert_int_equal(req.header.nlmsg_len, NLMSG_LENGTH(sizeof(ifi)));
    assert_int_equal(req.header.nlmsg_type, RTM_NEWLINK);
    assert_int_equal(req.header.nlmsg_flags,
                     NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
    assert_int_equal(req.header.nlmsg_seq, 0);
    assert_int_equal(req.header.nlmsg_pid, 0);
    assert_int_equal(offset_in(&req, NLMSG_DATA(&req.header)), NLMSG_HDRLEN);
    assert_memory_equal(NLMSG_DATA(&req.header), &ifi, sizeof(ifi));
    assert_zero(&req, req.header.nlmsg_len, sizeof(req.buf));

    nl_start(&req, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
    assert_int_equal(req.header.nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
}

static void
nl_add__attributes__aligned_one_after_another(void **state)
{
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
    unsigned short types[8];
    struct nl_request req;
    struct rtattr *name, *mtu, *empty;
    unsigned int bytes = 1500;
    size_t end;

    (void)state;
    nl_start(&req, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
    name = nl_add(&req, IFLA_IFNAME, "veth0", 6);
    mtu = nl_add(&req, IFLA_MTU, &bytes, sizeof(bytes));
    empty = nl_add(&req, IFLA_LINKINFO, NULL, 0);
    assert_non_null(name);
    assert_non_null(mtu);
    assert_non_null(empty);

    assert_int_equal(offset_in(&req, name), NLMSG_SPACE(sizeof(ifi)));
    assert_int_equal(name->rta_type, IFLA_IFNAME);
    assert_int_equal(name->rta_len, RTA_LENGTH(6));
    assert_string_equal(RTA_DATA(name), "veth0");
    /* 6 bytes of data, padded to 8: the next one starts aligned. */
    assert_int_equal(offset_in(&req, mtu),
                     offset_in(&req, name) + RTA_ALIGN(name->rta_len));
    assert_int_equal(offset_in(&req, mtu) % RTA_ALIGNTO, 0);
    assert_zero(&req, offset_in(&req, name) + name->rta_len,
                offset_in(&req, mtu));
    assert_int_equal(mtu->rta_len, RTA_LENGTH(sizeof(bytes)));
    assert_memory_equal(RTA_DATA(mtu), &bytes, sizeof(bytes));
    assert_int_equal(offset_in(&req, empty),
                     offset_in(&req, mtu) + RTA_ALIGN(mtu->rta_len));
    assert_int_equal(empty->rta_len, RTA_LENGTH(0));

    end = offset_in(&req, empty) + RTA_ALIGN(empty->rta_len);
    assert_int_equal(req.header.nlmsg_len, end);
    assert_int_equal(req.header.nlmsg_len % NLMSG_ALIGNTO, 0);
    assert_zero(&req, end, sizeof(req.buf));
    assert_int_equal(walk_attrs(name, NLMSG_PAYLOAD(&req.header, sizeof(ifi)),
                                types, ARRAY_SIZE(types)),
                     3);
    assert_int_equal(types[0], IFLA_IFNAME);
    assert_int_equal(types[1], IFLA_MTU);
    assert_int_equal(types[2], IFLA_LINKINFO);
}

static void
nl_add__body_not_a_multiple_of_4__attribute_is_aligned(void **state)
{
    struct rtgenmsg gen = {.rtgen_family = AF_UNSPEC};
    struct nl_request req;
    struct rtattr *attr;

    (void)state;
    memset(&req, 0xa5, sizeof(req));
    nl_start(&req, RTM_GETLINK, 0, &gen, sizeof(gen));
    assert_int_equal(req.header.nlmsg_len, NLMSG_LENGTH(1));
    attr = nl_add(&req, IFLA_IFNAME, "lo", 3);
    assert_non_null(attr);
    assert_int_equal(offset_in(&req, attr), NLMSG_SPACE(1));
    assert_zero(&req, NLMSG_LENGTH(1), NLMSG_SPACE(1));
    assert_int_equal(attr->rta_len, RTA_LENGTH(3));
    assert_int_equal(req.header.nlmsg_len, NLMSG_SPACE(1) + RTA_SPACE(3));
}

static void
nl_end__nests__each_rta_len_covers_its_children(void **state)
{
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
    struct rtattr *info, *data, *peer, *empty;
    unsigned short types[8];
    struct nl_request req;
    unsigned int bytes = 1500;
    const char *end;

    (void)state;
    /* The veth request of step 05: LINKINFO { KIND, DATA { PEER } }. */
    nl_start(&req, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
    nl_add(&req, IFLA_IFNAME, "vb-host", 8);
    info = nl_add(&req, IFLA_LINKINFO, NULL, 0);
    nl_add(&req, IFLA_INFO_KIND, "veth", 5);
    data = nl_add(&req, IFLA_INFO_DATA, NULL, 0);
    peer = nl_add(&req, VETH_INFO_PEER, &ifi, sizeof(ifi));
    nl_add(&req, IFLA_IFNAME, "eth0", 5);
    nl_end(&req, peer);
    nl_end(&req, data);
    nl_end(&req, info);
    end = req.buf + req.header.nlmsg_len;

    assert_ptr_equal((char *)peer + peer->rta_len, end);
    assert_ptr_equal((char *)data + data->rta_len, end);
    assert_ptr_equal((char *)info + info->rta_len, end);
    assert_int_equal(peer->rta_len, RTA_SPACE(sizeof(ifi)) + RTA_SPACE(5));
    assert_int_equal(data->rta_len, RTA_LENGTH(0) + peer->rta_len);
    assert_int_equal(info->rta_len,
                     RTA_LENGTH(0) + RTA_SPACE(5) + data->rta_len);

    /* The kernel's walk: IFNAME then LINKINFO, and in it KIND then DATA. */
    assert_int_equal(
        walk_attrs((struct rtattr *)(req.buf + NLMSG_SPACE(sizeof(ifi))),
                   NLMSG_PAYLOAD(&req.header, sizeof(ifi)), types,
                   ARRAY_SIZE(types)),
        2);
    assert_int_equal(types[1], IFLA_LINKINFO);
    assert_int_equal(
        walk_attrs(RTA_DATA(info), RTA_PAYLOAD(info), types, ARRAY_SIZE(types)),
        2);
    assert_int_equal(types[0], IFLA_INFO_KIND);
    assert_int_equal(types[1], IFLA_INFO_DATA);
    assert_int_equal(
        walk_attrs(RTA_DATA(data), RTA_PAYLOAD(data), types, ARRAY_SIZE(types)),
        1);
    assert_int_equal(types[0], VETH_INFO_PEER);

    /* A nest closed at once is empty; what follows one is not in it. */
    empty = nl_add(&req, IFLA_AF_SPEC, NULL, 0);
    nl_end(&req, empty);
    assert_int_equal(empty->rta_len, RTA_LENGTH(0));
    nl_add(&req, IFLA_MTU, &bytes, sizeof(bytes));
    assert_ptr_equal((char *)info + info->rta_len, end);
    assert_int_equal(
        walk_attrs((struct rtattr *)(req.buf + NLMSG_SPACE(sizeof(ifi))),
                   NLMSG_PAYLOAD(&req.header, sizeof(ifi)), types,
                   ARRAY_SIZE(types)),
        4);
    assert_int_equal(types[2], IFLA_AF_SPEC);
    assert_int_equal(types[3], IFLA_MTU);
}

static void
nl_add__exactly_the_room_left__fills_the_buffer(void **state)
{
    static const char data[sizeof(((struct nl_request *)0)->buf)];
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
    struct nl_request req;
    size_t room;

    (void)state;
    nl_start(&req, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
    room = sizeof(req.buf) - req.header.nlmsg_len;
    errno = 0;
    assert_null(nl_add(&req, IFLA_IFALIAS, data, room - RTA_LENGTH(0) + 1));
    assert_int_equal(errno, EMSGSIZE);
    assert_int_equal(req.header.nlmsg_len, NLMSG_LENGTH(sizeof(ifi)));
    assert_zero(&req, req.header.nlmsg_len, sizeof(req.buf));
    assert_non_null(nl_add(&req, IFLA_IFALIAS, data, room - RTA_LENGTH(0)));
    assert_int_equal(req.header.nlmsg_len, sizeof(req.buf));
}

static void
nl_add__buffer_full__fails_with_emsgsize(void **state)
{
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
    struct nl_request req;
    unsigned int bytes = 1500;
    size_t fit, added = 0, len;

    (void)state;
    nl_start(&req, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
    fit = (sizeof(req.buf) - req.header.nlmsg_len) / RTA_SPACE(sizeof(bytes));
    while (nl_add(&req, IFLA_MTU, &bytes, sizeof(bytes)))
        assert_true(++added <= fit);
    assert_int_equal(errno, EMSGSIZE);
    assert_int_equal(added, fit);
    len = req.header.nlmsg_len;
    assert_true(len <= sizeof(req.buf));
    assert_true(len + RTA_SPACE(sizeof(bytes)) > sizeof(req.buf));
    /* Failing changes nothing, however often. */
    errno = 0;
    assert_null(nl_add(&req, IFLA_MTU, &bytes, sizeof(bytes)));
    assert_int_equal(errno, EMSGSIZE);
    assert_int_equal(req.header.nlmsg_len, len);
}

/* A request that overflowed is refused whole, however the caller went on. */
static void
nl_send__full_request__fails_with_emsgsize(void **state)
{
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
    struct nl_request req;
    struct rtattr *nest;

    (void)state;
    nl_start(&req, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
    while ((nest = nl_add(&req, IFLA_LINKINFO, NULL, 0)))
        continue;
    nl_end(&req, nest); /* NULL: nothing to close, nothing to crash */
    errno = 0;
    assert_int_equal(nl_send(&req), -1);
    assert_int_equal(errno, EMSGSIZE);
}

/* ---- netlink: nl_send, in a network namespace of the child's own ---- */

/* The host's network is never touched: a child that cannot leave it stops. */
static void
enter_new_netns(void)
{
    if (unshare(CLONE_NEWNET) == -1) {
        fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", strerrorname_np(errno));
        _exit(1);
    }
}

/* RTM_NEWLINK setting IFF_UP, as step 05 brings a link up. */
static int
send_link_up(int index)
{
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC,
                            .ifi_index = index,
                            .ifi_flags = IFF_UP,
                            .ifi_change = IFF_UP};
    struct nl_request req;

    nl_start(&req, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
    return nl_send(&req);
}

/* "up" or "down", from ioctl(2) SIOCGIFFLAGS, or why it failed. */
static const char *
link_state(const char *name)
{
    struct ifreq ifr;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = -1;

    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    if (fd != -1) {
        ret = ioctl(fd, SIOCGIFFLAGS, &ifr);
        close(fd);
    }
    if (ret == -1)
        return strerrorname_np(errno);
    return ifr.ifr_flags & IFF_UP ? "up" : "down";
}

static void
link_up_missing_in_child(void *arg)
{
    int ret;

    (void)arg;
    enter_new_netns();
    errno = 0;
    ret = send_link_up(4242); /* a new namespace has lo, index 1, only */
    fprintf(stderr, "nl_send=%d %s\n", ret, ret ? strerrorname_np(errno) : "");
}

static void
nl_send__link_up_on_missing_index__fails_with_enodev(void **state)
{
    struct child_result r;

    (void)state;
    run_in_child(link_up_missing_in_child, NULL, &r);
    assert_exited(&r, 0);
    assert_string_equal(r.err, "nl_send=-1 ENODEV\n");
}

static void
lo_up_in_child(void *arg)
{
    const char *before;
    int ret;

    (void)arg;
    enter_new_netns();
    before = link_state("lo");
    errno = 0;
    ret = send_link_up(if_nametoindex("lo"));
    fprintf(stderr, "lo %s, nl_send=%d %s, lo %s\n", before, ret,
            ret ? strerrorname_np(errno) : "", link_state("lo"));
}

static void
nl_send__lo_up_in_new_netns__lo_is_up(void **state)
{
    struct child_result r;

    (void)state;
    run_in_child(lo_up_in_child, NULL, &r);
    assert_exited(&r, 0);
    assert_string_equal(r.err, "lo down, nl_send=0 , lo up\n");
}

/* ---- pivot_root ---- */

/*
 * In a mount namespace of its own, private, so nothing can leak out. The
 * kernel ignores the type of a propagation change; valgrind 3.19 reads it
 * as a string, and reports the NULL that mount(2) allows: "none".
 */
static void
pivot_root_in_child(void *arg)
{
    const char *new_root = arg;
    int ret;

    if (unshare(CLONE_NEWNS) == -1 ||
        mount(NULL, "/", "none", MS_REC | MS_PRIVATE, NULL) == -1) {
        fprintf(stderr, "unshare or mount: %s\n", strerrorname_np(errno));
        _exit(1);
    }
    errno = 0;
    ret = pivot_root(new_root, ".");
    fprintf(stderr, "pivot_root=%d %s\n", ret,
            ret ? strerrorname_np(errno) : "");
}

static void
pivot_root__missing_new_root__fails_with_enoent(void **state)
{
    char path[PATH_MAX];
    struct child_result r;

    (void)state;
    run_in_child(pivot_root_in_child, in_tmp(path, "nonexistent"), &r);
    assert_exited(&r, 0);
    assert_string_equal(r.err, "pivot_root=-1 ENOENT\n");
}

#define TEST(f) cmocka_unit_test_setup(f, reset_globals)
#define TEST_TMP(f) cmocka_unit_test_setup_teardown(f, tmp_setup, tmp_teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(parse_size__plain_number__is_bytes),
        TEST(parse_size__zero__is_zero),
        TEST(parse_size__with_suffix__multiplies_by_1024),
        TEST(parse_size__largest_that_fits__is_accepted),
        TEST(parse_size__not_a_size__fails_with_einval),
        TEST(parse_size__too_large__fails_with_erange),
        TEST(parse_options__no_arguments__returns_argc),
        TEST(parse_options__long_option_then_value__stores_it),
        TEST(parse_options__long_option_equals_value__stores_it),
        TEST(parse_options__value_with_equals__splits_at_the_first),
        TEST(parse_options__short_flags__are_set),
        TEST(parse_options__long_flags__are_set),
        TEST(parse_options__short_option_then_value__stores_it),
        TEST(parse_options__command__stops_at_it),
        TEST(parse_options__double_dash__ends_options),
        TEST(parse_options__double_dash_last__returns_argc),
        TEST(parse_options__lone_dash__is_the_command),
        TEST(parse_options__unknown_long_option__fails_naming_it),
        TEST(parse_options__unknown_short_option__fails_naming_it),
        TEST(parse_options__prefix_of_a_name__is_unknown),
        TEST(parse_options__missing_value__fails_with_usage),
        TEST(parse_options__flag_given_a_value__fails),
        TEST(parse_options__size__is_parsed),
        TEST(parse_options__bad_size__fails_with_message),
        TEST(parse_options__size_too_large__fails_with_erange),
        TEST(parse_options__list__accumulates_in_order),
        TEST(parse_options__list_at_its_limit__is_accepted),
        TEST(parse_options__list_past_its_limit__fails_with_e2big),
        TEST(print_help__options__one_line_each_with_its_step),
        TEST(format_error__errno__appends_name_and_message),
        TEST(format_error__unknown_errno__names_it_e_question_mark),
        TEST(format_error__small_buffer__truncates_and_returns_full_length),
        TEST(format_trace__call__prints_side_pid_call_and_newline),
        TEST(format_trace__long_call__is_cut_and_keeps_its_newline),
        TEST(trace__disabled__writes_nothing),
        TEST(trace__enabled__writes_one_line_with_side_and_pid),
        TEST(trace_call__failed__traces_errno_and_keeps_it),
        TEST(must__succeeded__returns_value_and_keeps_errno),
        TEST(must__tracing__writes_the_trace_line),
        TEST(must__not_tracing__writes_nothing),
        TEST(must__failed__dies_with_125),
        TEST(must__failed_while_tracing__traces_then_dies),
        TEST(die__eperm__prints_error_line_and_exits_125),
        TEST(die__eperm_not_root__guesses_no_hint),
        TEST(die_hint__own_hint__is_printed_after_the_error),
        TEST(warn__error__prints_line_and_keeps_errno),
        TEST(usage_error__message__prints_it_and_help_hint_and_exits_125),
        TEST(die_exec__not_found__exits_127_with_path_hint),
        TEST(die_exec__cannot_run__exits_126),
        TEST(clone_flags_str__namespaces_and_signal__joined_by_bars),
        TEST(clone_flags_str__signal_only__is_the_signal),
        TEST(clone_flags_str__zero__is_0),
        TEST(clone_flags_str__no_signal__has_no_trailing_bar),
        TEST(clone_flags_str__every_namespace__all_named),
        TEST(argv_str__arguments__quoted_and_comma_separated),
        TEST(argv_str__empty__is_brackets),
        TEST(argv_str__too_long__is_cut_and_terminated),
        TEST(argv_str__quotes_and_backslashes__are_escaped),
        TEST(signal_set_str__empty__is_braces),
        TEST(signal_set_str__some__space_separated_in_order),
        TEST(signal_set_str__full__names_every_one),
        TEST(signal_set_str__unnamed_signal__shows_its_number),
        TEST(wait_status_str__exited__shows_code),
        TEST(wait_status_str__killed__shows_signal),
        TEST(wait_status_str__killed_by_realtime_signal__shows_rtmin_plus_n),
        TEST(wait_status_str__stopped_and_continued__shows_them),
        TEST(exit_status_of__exited__is_the_code),
        TEST(exit_status_of__killed__is_128_plus_signal),
        TEST(sent_by_terminal__si_kernel__is_true),
        TEST(sent_by_terminal__kill__is_false),
        TEST(sent_by_terminal__sigqueue__is_false),
        TEST(sent_by_terminal__ctrl_c_on_a_pty__is_true),
        TEST(sync_open__pipe__both_ends_close_on_exec),
        TEST(sync_open__tracing__traces_the_fds_it_got),
        TEST(sync__released__child_goes_on_and_sees_parent_alive),
        TEST(sync__parent_closes_without_release__wait_fails_with_epipe),
        TEST(sync__parent_closed_write_end__child_sees_it_gone),
        TEST(sync_parent_alive__write_end_open_then_closed__is_1_then_0),
        TEST_TMP(open_locked__new_path__creates_and_locks_it_until_closed),
        TEST_TMP(open_locked__existing_file__locks_it_and_keeps_its_content),
        TEST_TMP(open_locked__missing_directory__fails_with_enoent),
        TEST_TMP(open_locked__file_replaced_while_waiting__locks_the_new_one),
        TEST_TMP(open_locked__child_made_after_the_lock__does_not_hold_it),
        TEST(cleanup_run__three_undos__newest_first_and_once),
        TEST(die__in_the_runtime__undoes_the_list_then_exits_125),
        TEST(die__after_cleanup_forget__undoes_nothing),
        TEST(cleanup_push__list_full__fails_with_enospc),
        TEST_TMP(
            state_open_record__fields_then_exit__record_released_and_dir_gone),
        TEST_TMP(state_sweep__dead_runtime__record_released_live_ones_kept),
        TEST_TMP(state_sweep__zombie_runtime__record_released),
        TEST_TMP(state_each__after_open__visits_live_records_only),
        TEST_TMP(state_each_locked__no_record__visits_live_sweeps_nothing),
        TEST_TMP(state_open_record__dir_not_private__refused),
        TEST_TMP(state_collect_garbage__stale_record__released_and_dir_gone),
        TEST_TMP(
            state__child_dies_in_set_up__record_stays_until_the_runtime_exits),
        TEST_TMP(state_open_record__same_pid_in_another_namespace__both_kept),
        TEST_TMP(state_record_set__no_record_opened__fails),
        TEST_TMP(remove_tree__nested__all_gone),
        TEST_TMP(remove_tree__missing__succeeds),
        TEST_TMP(state_sweep__layers__unclaimed_gone_kept_and_own_stay),
        TEST(state_get__key__value_up_to_the_newline),
        TEST(process_start_time__self__is_field_22_of_proc_stat),
        TEST(process_start_time__child__is_not_before_its_parent),
        TEST(process_start_time__name_with_parens_and_spaces__still_field_22),
        TEST(process_start_time__no_such_pid__fails_with_enoent),
        TEST(process_runs__zombie__does_not),
        TEST(nl_start__body__follows_header_with_request_and_ack),
        TEST(nl_add__attributes__aligned_one_after_another),
        TEST(nl_add__body_not_a_multiple_of_4__attribute_is_aligned),
        TEST(nl_end__nests__each_rta_len_covers_its_children),
        TEST(nl_add__exactly_the_room_left__fills_the_buffer),
        TEST(nl_add__buffer_full__fails_with_emsgsize),
        TEST(nl_send__full_request__fails_with_emsgsize),
        TEST(nl_send__link_up_on_missing_index__fails_with_enodev),
        TEST(nl_send__lo_up_in_new_netns__lo_is_up),
        TEST_TMP(pivot_root__missing_new_root__fails_with_enoent),
    };

    program_name = "unit";
    return cmocka_run_group_tests_name("unit-shared", tests, NULL, NULL);
}
