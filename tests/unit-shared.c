/*
 * unit-shared.c: cmocka unit tests for shared/, the plumbing every step
 * uses. Nothing is mocked: the functions that exit run in a forked child
 * whose stderr and exit status are checked, and the sync pipe, the wait
 * statuses and the signals are real ones from the kernel.
 *
 * cmocka runs every test in this one process, so a test that exits would
 * end the run: die() and friends only ever run in a child.
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
#include <sys/file.h>
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

#define EPERM_LINE "unit: mount(\"proc\"): EPERM (Operation not permitted)\n"
#define ROOT_HINT \
    "hint: this step needs root to create namespaces: run it with sudo\n"
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

/* ---- format_error, hint_for ---- */

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

static void
hint_for__eperm__depends_on_root(void **state)
{
    (void)state;
    if (geteuid() == 0)
        assert_null(hint_for(EPERM));
    else
        assert_string_equal(hint_for(EPERM), "this step needs root to "
                                             "create namespaces: run it "
                                             "with sudo");
    assert_null(hint_for(ENOENT));
    assert_null(hint_for(0));
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
    assert_string_equal(r.err, geteuid() ? EPERM_LINE ROOT_HINT : EPERM_LINE);
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
             "permitted)\n%s%s",
             (int)r.pid, EPERM_LINE, geteuid() ? ROOT_HINT : "");
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
    assert_string_equal(r.err, geteuid() ? EPERM_LINE ROOT_HINT : EPERM_LINE);
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

static void
die__eperm_not_root__adds_sudo_hint(void **state)
{
    struct child_result r;

    (void)state;
    run_in_child(die_as_nobody_in_child, NULL, &r);
    assert_exited(&r, EXIT_BOXSTEP);
    assert_string_equal(r.err, EPERM_LINE ROOT_HINT);
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

#define TEST(f) cmocka_unit_test_setup(f, reset_globals)

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
        TEST(hint_for__eperm__depends_on_root),
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
        TEST(die__eperm_not_root__adds_sudo_hint),
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
    };

    program_name = "unit";
    return cmocka_run_group_tests_name("unit-shared", tests, NULL, NULL);
}
