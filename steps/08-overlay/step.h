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
#include <net/if.h>
#include <netinet/in.h>
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

/* A range of ids: a line of uid_map or gid_map, in the kernel's order (06). */
struct id_range {
    unsigned long inside; /* the first id in the namespace */
    unsigned long outside; /* the host id it stands for */
    unsigned long count; /* how many ids follow, one for one */
};

/* A user namespace's uid or gid map (06): user_namespaces(7). */
struct id_map {
    size_t len;
    struct id_range ranges[OPT_LIST_MAX];
};

/*
 * boxstep's pool of host ids (06): 65536 per container, from 1048576 on,
 * above the ranges Debian's adduser gives its first 15 users in
 * /etc/subuid (100000 on, 65536 each); an entry that reaches into the
 * pool is refused. Its first range is the shifted copies' (--no-idmap),
 * which every container without an idmapped rootfs shares; the others
 * are reserved one per running container, in its state record (user.c).
 */
#define POOL_BASE 1048576UL
#define RANGE_SIZE 65536UL
#define SHIFTED_BASE POOL_BASE

/* The layers of an image, at most (08). */
#define LAYER_MAX 32

/* A layer of the image: --image (08). */
struct image_layer {
    char path[PATH_MAX]; /* the directory, absolute */
    bool kept; /* a container's layer kept by --keep: it has a keep record */
    struct id_map uid_map, gid_map; /* kept: the maps it was written under */
};

/* The cgroup hierarchy a container's cgroup is in (07). */
enum cgroup_version {
    CGROUP_NONE, /* no cgroup of its own: rootless, or no hierarchy */
    CGROUP_V1, /* one hierarchy per controller: cgroup-v1.c */
    CGROUP_V2, /* the unified hierarchy: cgroup.c */
};

/* A cgroup v1 hierarchy the container's cgroup is in (07). */
struct cgroup_v1_hierarchy {
    char mount[PATH_MAX]; /* its mount point, as the runtime sees it */
    char controllers[128]; /* its controllers, as mount(2) takes them */
};

#define CGROUP_V1_MAX 8

/* The cgroup that holds boxstep's containers' cgroups (07). */
#define CGROUP_DEFAULT_PARENT "boxstep"

/* cpu.max's and cpu.cfs_period_us's period (07): 0.1 s. */
#define CGROUP_CPU_PERIOD_US 100000L

/* --memory not given (07): no memory limit. */
#define NO_MEMORY_LIMIT (~0ULL)

/* What a cgroup's files tell (07); -1 where the kernel keeps no such count. */
struct cgroup_stats {
    long long cpu_usec; /* CPU time used, user and system */
    long long memory_peak; /* the most memory used at once, in bytes */
    long long pids_peak; /* the most tasks at once */
    long long oom_kills; /* tasks the OOM killer killed */
    long long memory_now; /* memory used now */
    long long pids_now; /* tasks now */
    long long frozen; /* 1 when frozen */
};

/* The container's network: --net (05). */
enum net_mode {
    NET_VETH, /* a veth pair, one end in the container, one on the host */
    NET_BRIDGE, /* the same, the host end plugged into a bridge */
    NET_NONE, /* the loopback only */
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
    const char *net_name; /* 05: --net, as given */
    enum net_mode net; /* 05: parsed */
    const char *ip_spec; /* 05: --ip ADDR/PREFIX, as given */
    struct in_addr ip; /* 05: its address, or 0.0.0.0: the first free */
    int prefix; /* 05: its prefix length */
    bool gc; /* 05: --gc */
    struct str_list uidmap_specs; /* 06: --uidmap, as given */
    struct str_list gidmap_specs; /* 06: --gidmap, as given */
    struct id_map uid_map; /* 06: parsed, or empty: the default */
    struct id_map gid_map; /* 06: parsed, or empty: the default */
    bool no_idmap; /* 06: --no-idmap */
    bool rootless; /* 06: run by an ordinary user, not root */
    const char *name; /* 07: --name, or NULL: generated */
    unsigned long long memory; /* 07: --memory in bytes, or NO_MEMORY_LIMIT */
    const char *pids_spec; /* 07: --pids, as given */
    long pids; /* 07: parsed, or 0: no limit */
    const char *cpus_spec; /* 07: --cpus, as given */
    long cpu_quota; /* 07: microseconds per 0.1 s period, or 0: no limit */
    const char *cpu_weight_spec; /* 07: --cpu-weight, as given */
    long cpu_weight; /* 07: 1-10000, or 0: the default */
    const char *io_weight_spec; /* 07: --io-weight, as given */
    long io_weight; /* 07: 1-10000, or 0: the default */
    bool stats; /* 07: --stats */
    const char *freeze; /* 07: --freeze NAME */
    const char *thaw; /* 07: --thaw NAME */
    const char *usage; /* 07: --usage NAME */
    const char *image; /* 08: --image, as given */
    bool command_given; /* 08: COMMAND given: an image's cmd is not used */
    struct image_layer layers[LAYER_MAX]; /* 08: parsed, top first */
    size_t layer_count;
    bool keep; /* 08: --keep */
    bool list_layers; /* 08: --layers */
    const char *rm_layer; /* 08: --rm-layer NAME */
    const char *workdir; /* 08: --workdir, or the image's */
    const char *user; /* 08: --user, or the image's: USER[:GROUP] */
};

struct container {
    const struct options *opts; /* what the user asked for */
    pid_t pid; /* the child, the container's first process */
    sigset_t saved_mask; /* the caller's signal mask, for COMMAND */
    struct sync_pipe sync; /* 03: the runtime releases the child */
    struct in_addr ip; /* 05: the container's address */
    int prefix; /* 05: its prefix length */
    struct in_addr gateway; /* 05: the host end's address, or the bridge's */
    char host_end[IFNAMSIZ]; /* 05: the veth's end on the host */
    struct id_map uid_map; /* 06: the child's maps, as written */
    struct id_map gid_map;
    bool setgroups_denied; /* 06: setgroups(2) denied, rootless */
    bool idmap; /* 06: the rootfs tree is idmapped */
    int rootfs_tree; /* 06: the runtime's rootfs tree, or -1 */
    int volume_trees[OPT_LIST_MAX]; /* 06: each volume's, or -1 */
    char name[65]; /* 07: the container's name, --name or generated */
    enum cgroup_version cgroup_version; /* 07: where its cgroup is */
    char cgroup[PATH_MAX]; /* 07: its cgroup, PARENT/NAME below the roots */
    struct cgroup_v1_hierarchy v1[CGROUP_V1_MAX]; /* 07: v1: where it is */
    size_t v1_count;
    int join_fds[CGROUP_V1_MAX]; /* 07: v1: the child moves itself in by */
    size_t join_count;
    int cgroup_dir; /* 07: v2: its directory, for clone3(2), or -1 */
    char layer[PATH_MAX]; /* 08: its upper and work: LAYER_DIR/NAME if kept */
    int started[2]; /* 08: --keep: the child's word that it started, a pipe */
    char
        scratch[PATH_MAX]; /* 08: its tmpfs's mount point, LAYER_DIR/.scratch */
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
void setup_root_bind(const struct container *c);
void setup_proc_sys(void);
void setup_dev(void);
void setup_volumes(const struct container *c);
void setup_pivot_root(void);
void setup_tmp_umask(void);

/* net.c (05): a network stack of its own. */
void parse_network(struct options *o);
void parent_reserve_network(struct container *c);
void parent_setup_network(struct container *c);
void parent_release_network(const char *record);
void setup_network(const struct container *c);

/* user.c (06): users and groups of its own. */
void parse_user(struct options *o);
void parent_reserve_ids(struct container *c);
void use_shifted_range(struct container *c);
void parent_map_ids(struct container *c);
void setup_user(const struct container *c);
const char *userns_blocked_hint(int err);

/* idmap.c (06): its files, as root inside owns them. */
void parse_idmap(const struct options *o);
void parent_open_trees(struct container *c);
void parent_private_mounts(const struct options *o);
void parent_idmap_rootfs(struct container *c);
void parent_attach_trees(const struct container *c);
void setup_mount_namespace(const struct container *c);
void setup_root_copy(void);
void setup_root_readonly(const struct container *c);
void layer_shifted_path(const char *layer, char *path, size_t len);

/* rootless.c (06): an ordinary user's container. */
void parse_rootfs_access(const char *rootfs);
void parse_rootless(struct options *o);
bool parse_subid_line(char *line, char **name, unsigned long *start,
                      unsigned long *count);
void rootless_default_map(const char *file, unsigned long own,
                          struct id_map *m);
void parent_map_helper(const char *helper, pid_t pid, const struct id_map *m);

/* cgroup.c (07): limits, priority, accounting and control; cgroup v2. */
void parent_make_cgroup(struct container *c);
void parent_release_cgroup(const char *record);
void setup_cgroup_namespace(void);
void setup_cgroup_mounts(const struct container *c);
void cgroup_read_stats(enum cgroup_version v, const char *cgroup,
                       struct cgroup_stats *s, bool all);
void cgroup_freeze(enum cgroup_version v, const char *cgroup, bool frozen);
bool cgroup_delegated(char *rel, size_t len);
bool v2_root(char *root, size_t len);

/* cgroup-join.c (07): how the child gets into its cgroup. */
void open_join_files(struct container *c);
void parent_close_cgroup_files(struct container *c);
pid_t clone_into_cgroup(int (*fn)(void *), int flags, struct container *c);
void join_cgroup(const struct container *c);

/* cgroup-options.c (07): the options, the name, what is said at exit. */
void parse_cgroup(struct options *o);
bool wants_cgroup(const struct options *o);
void say_no_cgroup(const struct options *o);
enum cgroup_version cgroup_version_named(const char *name);
bool valid_cgroup_path(const char *path);
void choose_cgroup_name(struct container *c);
int control_cgroup(const struct options *o);
void report_cgroup_stats(const struct container *c,
                         const struct cgroup_stats *s);

/* cgroup-files.c (07): a cgroup's files and directories. */
int cgroup_open(const char *dir, const char *file);
int cgroup_try_write(const char *dir, const char *file, const char *value);
void cgroup_write(const char *dir, const char *file, const char *value);
bool cgroup_has_file(const char *dir, const char *file);
int cgroup_read(const char *dir, const char *file, char *buf, size_t len);
long long cgroup_read_number(const char *dir, const char *file,
                             const char *key);
bool cgroup_mount_point(const char *fstype, const char *option, char *path,
                        size_t len, char *opts, size_t opts_len);
const char *cgroup_parent(void);
void cgroup_make_dirs(const char *root, const char *cgroup,
                      void (*parent_ready)(const char *dir));
int cgroup_try_remove_dir(const char *dir);
int cgroup_kill_procs(const char *dir, int rounds);
void cgroup_remove_dir(const char *dir);
void cgroup_remove_parent(const char *mnt, const char *cgroup);

/* cgroup-v1.c (07): the same on cgroup v1, a hierarchy per controller. */
size_t cgroup_v1_hierarchies(struct cgroup_v1_hierarchy *h, size_t max,
                             const struct options *o);
bool cgroup_v1_available(void);
void cgroup_v1_make(const char *cgroup, const struct options *o,
                    struct cgroup_v1_hierarchy *h, size_t count);
void cgroup_v1_stats(const char *cgroup, struct cgroup_stats *s, bool all);
void cgroup_v1_remove(const char *cgroup);
void cgroup_v1_freeze(const char *cgroup, bool frozen);
void setup_cgroup_v1_mounts(const struct container *c);

/* image.c (08): what --image names, and where the layer goes. */
void parse_image(struct options *o);
void parse_layer_dir(void);
void parse_layer(const char *dir, struct image_layer *l);
void check_layer_dir_reachable(uid_t uid, gid_t gid);

/* overlay.c (08): files of its own, copied only when written. */
void parent_make_layer(struct container *c);
void parent_attach_layers(struct container *c);
void setup_overlay(const struct container *c);
void parent_close_started(struct container *c);
void init_say_started(const struct container *c);
unsigned long host_root(const struct id_map *m);

/* commit.c (08): a kept layer, stacked on an image: a commit. */
#define KEEP_MAP_TEXT 1056 /* a map as text: 32 ranges of up to 33 chars */
bool read_keep_record(const char *layer, struct image_layer *l);
int write_keep_record(const struct container *c);
void format_map(const struct id_map *m, char *text, size_t len);
void report_kept_layer(const struct container *c);
void check_kept_maps(const struct container *c, const struct image_layer *l);
int range_userns(const struct container *c, const struct image_layer *l);
int control_layers(const struct options *o);

/* image-config.c (08): a store image's config: command, env, user. */
bool read_store_image(const char *dir, struct options *o);
void setup_image_user(const struct container *c);
extern char user_home[PATH_MAX];

#endif
