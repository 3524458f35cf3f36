/*
 * internal.h: what only shared/ itself and its unit tests call. Students
 * read boxstep.h; these are the pieces behind it.
 */
#ifndef BOXSTEP_INTERNAL_H
#define BOXSTEP_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

/* error.c: "call(args): ERRNAME (message)" into buf. */
int format_error(char *buf, size_t len, int err, const char *fmt, va_list ap);

/* trace.c: "[side pid] call(args) = result" into buf. */
int format_trace(char *buf, size_t len, const char *side, pid_t pid,
                 const char *fmt, va_list ap);

/* options.c: a size with a K, M or G suffix, for OPT_SIZE. */
int parse_size(const char *text, unsigned long long *bytes);

#endif
