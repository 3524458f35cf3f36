/*
 * boxstep.h: the plumbing every step shares.
 *
 * Only what would otherwise be repeated in every step lives here: error
 * messages, the verbose trace, the option parser, the synchronisation pipe,
 * the runtime's cleanup list, the state directory and a few small helpers.
 * No namespace, mount, network or cgroup policy: if deleting a step would
 * teach less, the code belongs in that step.
 *
 * Every function returns -1 with errno set on failure and never exits, so
 * the unit tests can call it. The exceptions are the die*() family, whose
 * whole job is to exit.
 */
#ifndef BOXSTEP_H
#define BOXSTEP_H

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Exit statuses of the runtime itself, as docker and podman use them. */
#define EXIT_BOXSTEP 125 /* boxstep failed: bad option, failed setup */
#define EXIT_CANNOT_EXEC 126 /* COMMAND was found but could not be run */
#define EXIT_NOT_FOUND 127 /* COMMAND was not found */

/* error.c: one error format, "NN-name: call(args): ERRNAME (message)". */
extern const char *program_name;

__attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...);
__attribute__((noreturn, format(printf, 2, 3))) void
die_hint(const char *hint, const char *fmt, ...);
__attribute__((noreturn, format(printf, 1, 2))) void
usage_error(const char *fmt, ...);
__attribute__((noreturn, format(printf, 1, 2))) void die_exec(const char *fmt,
                                                              ...);
__attribute__((format(printf, 1, 2))) void warn(const char *fmt, ...);

/* trace.c: the -v trace, "[side pid] call(args) = result". */
extern bool trace_enabled;

void trace_side(const char *side);
__attribute__((format(printf, 1, 2))) void trace(const char *fmt, ...);
__attribute__((format(printf, 2, 3))) long trace_call(long ret, const char *fmt,
                                                      ...);
__attribute__((format(printf, 2, 3))) long must(long ret, const char *fmt, ...);
__attribute__((format(printf, 3, 4))) long must_hint(long ret, const char *hint,
                                                     const char *fmt, ...);
const char *clone_flags_str(unsigned long flags);
const char *argv_str(char *const argv[]);
const char *signal_set_str(const sigset_t *set);
const char *wait_status_str(int wstatus);

/* options.c: one option table per step, one parser for all of them. */
#define OPT_LIST_MAX 32

enum opt_kind {
    OPT_FLAG, /* bool: present or not */
    OPT_STRING, /* const char *: the argument as given */
    OPT_SIZE, /* unsigned long long: a size with a K, M or G suffix */
    OPT_LIST, /* struct str_list: repeatable, each argument appended */
};

struct str_list {
    size_t len;
    const char *items[OPT_LIST_MAX];
};

struct opt {
    const char *name; /* the long name, without "--" */
    char short_name; /* the one-letter name, or 0 for none */
    enum opt_kind kind; /* what the argument is */
    void *value; /* where the parsed value goes */
    const char *step; /* the step that introduced the option: "01" */
    const char *arg_name; /* the argument's name in --help, or NULL */
    const char *help; /* one line for --help */
};

int parse_options(const struct opt *opts, int argc, char *argv[], char *err,
                  size_t err_len);
void print_help(FILE *out, const struct opt *opts, const char *about);

/* util.c: small helpers, and wrappers for calls glibc lacks. */
int exit_status_of(int wstatus);
bool sent_by_terminal(const siginfo_t *info);
int pivot_root(const char *new_root, const char *put_old);
int remove_tree(const char *path);

/*
 * sync.c: the synchronisation pipe between the runtime and its child.
 * The child blocks in sync_wait() until the runtime calls sync_release();
 * the runtime then keeps its write end open for as long as it lives, so
 * the child can ask sync_parent_alive() whether the runtime is still there.
 */
struct sync_pipe {
    int read_fd;
    int write_fd;
};

int sync_open(struct sync_pipe *sync);
int sync_release(struct sync_pipe *sync);
int sync_wait(struct sync_pipe *sync);
int sync_parent_alive(struct sync_pipe *sync);

/*
 * cleanup.c: the runtime's cleanup list. What the runtime makes, it
 * registers with the function that undoes it; every exit path of the
 * runtime (the end of main(), die()) runs the list once, newest first.
 * The child calls cleanup_forget() first: the list is the runtime's.
 */
int cleanup_push(void (*undo)(void *arg), void *arg, const char *what);
void cleanup_run(void);
void cleanup_forget(void);

/*
 * state.c: the state directory, /run/boxstep: a locked record per running
 * container, key=value lines. What a record holds is the layers' choice.
 * A stale record is one whose runtime is gone: the next run, or --gc,
 * sweeps it. Each layer gives a release function for what a gone
 * container left; it is called under the lock, once the record is gone,
 * for stale records and for the runtime's own when it exits. Lists of
 * release functions end in NULL.
 */
typedef void state_release_fn(const char *record);
typedef void state_visit_fn(const char *record, void *arg);

extern const char *state_dir;

int state_unlock(void);
int state_open_record(state_release_fn *const releases[]);
int state_record_set(const char *key, const char *value);
int state_get(const char *record, const char *key, char *value, size_t len);
int state_each(state_visit_fn *visit, void *arg);
int state_each_locked(state_visit_fn *visit, void *arg);
int state_collect_garbage(state_release_fn *const releases[]);
const char *state_failed_call(void);

/*
 * The layer directory (step 08 on), /var/lib/boxstep: a kept container's
 * own files, LAYER_DIR/NAME, on a disk. The record names a running
 * container's; a layer with a file named "keep" in it is kept when its
 * container is gone; the sweep removes every other layer no live record
 * names. layer_dir is NULL in a step that keeps no layers.
 */
typedef void state_layer_fn(const char *name, const char *path, void *arg);

extern const char *layer_dir;

int state_make_layer_dir(void);
int state_make_layer(const char *name, char *path, size_t len);
int state_each_kept_layer(state_layer_fn *visit, void *arg);
int state_remove_kept_layer(const char *name);

/*
 * netlink.c: building and sending one rtnetlink(7) request. Which message
 * to send, and why, is the step's business. nl_add() returns the new
 * attribute, or NULL (EMSGSIZE) when the request is full; a full request
 * is refused by nl_send(), so a caller need only check the send.
 */
struct nl_request {
    union {
        struct nlmsghdr header;
        char buf[1024];
    };
    bool full; /* an attribute did not fit: nl_send() refuses it */
};

void nl_start(struct nl_request *req, int type, int flags, const void *body,
              size_t len);
struct rtattr *nl_add(struct nl_request *req, int type, const void *data,
                      size_t len);
void nl_end(struct nl_request *req, struct rtattr *nest);
int nl_send(struct nl_request *req);

#endif
