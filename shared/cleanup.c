/*
 * cleanup.c: the runtime's cleanup list.
 *
 * What the runtime makes on the host (a record in the state directory,
 * later a cgroup or a container's layer), it registers here, with the
 * function that undoes it. Every exit path of the runtime, the end of
 * main() and die() alike, runs the list once, newest first, as a stack
 * unwinds: what was made last may depend on what was made before it.
 *
 * The child that clone(2) makes is a copy of the runtime's memory, this
 * list included, but what is on it is the runtime's to undo. The child
 * calls cleanup_forget() first: from then on the list is empty in the
 * child, and its fatal path, die(), ends it with _exit(2) at once.
 *
 * An undo function warns and goes on; it never dies. It runs at most
 * once: it leaves the list before it is called, so a die() inside one
 * would run only the undos still left.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "boxstep.h"
#include "internal.h"

#define CLEANUP_MAX 16

static struct {
    void (*undo)(void *arg);
    void *arg;
    const char *what;
} cleanups[CLEANUP_MAX];
static size_t cleanup_count;
static bool forgotten;

/* Registers undo(arg), to run at the runtime's exit; what names it. */
int
cleanup_push(void (*undo)(void *arg), void *arg, const char *what)
{
    if (cleanup_count == CLEANUP_MAX) {
        errno = ENOSPC;
        return -1;
    }
    cleanups[cleanup_count].undo = undo;
    cleanups[cleanup_count].arg = arg;
    cleanups[cleanup_count].what = what;
    cleanup_count++;
    return 0;
}

/* Runs every registered undo, newest first, and empties the list. */
void
cleanup_run(void)
{
    while (cleanup_count > 0) {
        cleanup_count--;
        trace("cleanup: %s", cleanups[cleanup_count].what);
        cleanups[cleanup_count].undo(cleanups[cleanup_count].arg);
    }
}

/* In the child: the list is the runtime's; die() now exits at once. */
void
cleanup_forget(void)
{
    cleanup_count = 0;
    forgotten = true;
}

/*
 * The end of every fatal path: the runtime undoes what it made and exits;
 * a child that forgot the list leaves with _exit(2), which runs no exit
 * handler. Output still buffered is written first, by both.
 */
void
exit_after_cleanup(int status)
{
    fflush(NULL);
    if (forgotten)
        _exit(status);
    cleanup_run();
    exit(status);
}
