/*
 * error.c: one error format for every step,
 *
 *     04-mount: pivot_root(".", "."): EINVAL (Invalid argument)
 *
 * the program, the call with its telling argument, the symbolic errno and
 * its message; then, where the cause is common, one line "hint: ...".
 * Like TLPI's errExit() it prints the errno's name, which is what a reader
 * looks up in the man page's ERRORS section.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boxstep.h"
#include "internal.h"

const char *program_name = "boxstep";

/* Formats "call(args): ERRNAME (message)" into buf; returns its length. */
int
format_error(char *buf, size_t len, int err, const char *fmt, va_list ap)
{
    int n = vsnprintf(buf, len, fmt, ap);
    const char *name = strerrorname_np(err);

    if (n < 0 || (size_t)n >= len)
        return n;
    return n + snprintf(buf + n, len - n, ": %s (%s)", name ? name : "E?",
                        strerror(err));
}

static void
print_error(int err, const char *hint, const char *fmt, va_list ap)
{
    char line[1024];

    format_error(line, sizeof(line), err, fmt, ap);
    fprintf(stderr, "%s: %s\n", program_name, line);
    if (hint)
        fprintf(stderr, "hint: %s\n", hint);
}

/*
 * Prints the error for errno and exits with status 125, the runtime after
 * undoing what it made (cleanup.c), the child at once.
 */
void
die(const char *fmt, ...)
{
    int err = errno;
    va_list ap;

    va_start(ap, fmt);
    print_error(err, NULL, fmt, ap);
    va_end(ap);
    exit_after_cleanup(EXIT_BOXSTEP);
}

/* Like die(), with a hint of the caller's own. */
void
die_hint(const char *hint, const char *fmt, ...)
{
    int err = errno;
    va_list ap;

    va_start(ap, fmt);
    print_error(err, hint, fmt, ap);
    va_end(ap);
    exit_after_cleanup(EXIT_BOXSTEP);
}

/* Prints the error for errno and goes on. */
void
warn(const char *fmt, ...)
{
    int err = errno;
    va_list ap;

    va_start(ap, fmt);
    print_error(err, NULL, fmt, ap);
    va_end(ap);
    errno = err;
}

/* Bad input on the command line: no errno, a pointer to --help, 125. */
void
usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", program_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nhint: '%s --help' lists the options\n", program_name);
    exit_after_cleanup(EXIT_BOXSTEP);
}

/*
 * A failed execve(2) of COMMAND. The shell's convention, which docker
 * follows: 127 when no such file was found along PATH, 126 when one was
 * found but could not be run (no execute permission, a directory, a
 * binary for another machine).
 */
void
die_exec(const char *fmt, ...)
{
    int err = errno;
    va_list ap;

    va_start(ap, fmt);
    print_error(err,
                err == ENOENT ? "COMMAND is looked up in the container's "
                                "PATH: give a full path or check the name"
                              : NULL,
                fmt, ap);
    va_end(ap);
    fflush(stdout);
    _exit(err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC);
}
