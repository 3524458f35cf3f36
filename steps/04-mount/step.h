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

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "boxstep.h"

/* A host directory or file brought into the container: --volume (04). */
struct volume {
    char host[PATH_MAX];
    char container[PATH_MAX];
    bool read_only;
};

struct options {
    bool help;
    bool verbose;
    const char *hostname; /* 01: --hostname */
    struct str_list env; /* --env NAME=VALUE, added to COMMAND's */
    char **command; /* COMMAND and its arguments */
    const char *rootfs; /* 04: --rootfs */
    struct str_list volume_specs; /* 04: --volume, as given */
    struct volume volumes[OPT_LIST_MAX]; /* 04: parsed */
};

struct container {
    const struct options *opts; /* what the user asked for */
    pid_t pid; /* the child, the container's first process */
    sigset_t saved_mask; /* the caller's signal mask, for COMMAND */
    struct sync_pipe sync; /* 03: the runtime releases the child */
};

/* process.c (00): the child process, signals, waiting, exit status. */
void parent_close_fds(void);
void parent_block_signals(struct container *c);
int wait_for_exit(pid_t pid);
int exec_command(struct container *c);

/* uts.c (01): a hostname of its own. */
void setup_uts(const char *hostname);

/* pid.c (03): PID 1, and dying with the runtime. */
void parent_release_child(struct container *c);
void wait_for_parent(struct container *c);
void setup_death_signal(struct container *c);
int run_init(struct container *c);

/* mount.c (04): a root filesystem and a mount table of its own. */
const char *default_rootfs(void);
void parse_rootfs(const char *rootfs);
void parse_volume(const char *spec, struct volume *v);
void setup_mount_propagation(void);
void setup_root_bind(const char *rootfs);
void setup_proc_sys(void);
void setup_dev(void);
void setup_volumes(const struct volume *volumes, size_t count);
void setup_pivot_root(void);
void setup_tmp_umask(void);

#endif
