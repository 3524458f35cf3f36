/*
 * internal.h: what only shared/ itself, its unit tests and the test
 * harness call. Students read boxstep.h; these are the pieces behind it.
 */
#ifndef BOXSTEP_INTERNAL_H
#define BOXSTEP_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

#include "boxstep.h"

/* error.c: "call(args): ERRNAME (message)" into buf. */
int format_error(char *buf, size_t len, int err, const char *fmt, va_list ap);

/* trace.c: "[side pid] call(args) = result" into buf. */
int format_trace(char *buf, size_t len, const char *side, pid_t pid,
                 const char *fmt, va_list ap);

/* options.c: a size with a K, M or G suffix, for OPT_SIZE. */
int parse_size(const char *text, unsigned long long *bytes);

/* cleanup.c: the end of every fatal path (die()). */
__attribute__((noreturn)) void exit_after_cleanup(int status);

/* state.c: the lock, and the sweep, that state_*() use inside. */
int state_lock(void);
int state_sweep(state_release_fn *const releases[]);

/* util.c: what the state directory and the test harness build on. */
int open_locked(const char *path);
int process_start_time(pid_t pid, unsigned long long *ticks);
bool process_runs(pid_t pid, unsigned long long start);
unsigned long pid_namespace_inode(void);

#endif
