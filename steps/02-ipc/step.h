/*
 * step.h: what the files of this step share.
 *
 * struct options is what the user asked for, filled by parse_args() in
 * main.c and only read afterwards; struct container is what the runtime
 * made for this container. Each layer file declares its functions here:
 * parent_* run in the runtime, setup_* in the container.
 */
#ifndef STEP_H
#define STEP_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "boxstep.h"

struct options {
    bool help;
    bool verbose;
    const char *hostname; /* 01: --hostname */
    struct str_list env; /* --env NAME=VALUE, added to COMMAND's */
    char **command; /* COMMAND and its arguments */
};

struct container {
    const struct options *opts; /* what the user asked for */
    pid_t pid; /* the child, the container's first process */
    sigset_t saved_mask; /* the caller's signal mask, for COMMAND */
};

/* process.c (00): the child process, signals, waiting, exit status. */
void parent_close_fds(void);
void parent_block_signals(struct container *c);
int wait_for_exit(pid_t pid);
int exec_command(struct container *c);

/* uts.c (01): a hostname of its own. */
void setup_uts(const char *hostname);

#endif
