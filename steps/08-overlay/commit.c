/*
 * commit.c: a container's layer, kept and stacked on an image, from step
 * 08 on (with overlay.c).
 *
 * --keep leaves the container's upper directory in place at exit: the
 * changes it made, and nothing else. Given as the top layer of --image
 * (--image KEPT:BASE), it makes a new image out of the old one: the
 * container is "committed", as image builders make each layer. Its files
 * belong to the host range the container was mapped to; a later
 * container has a range of its own, so the kept layer records the range
 * it was written under (LAYER_DIR/NAME/keep), and the runtime idmaps it
 * with a user namespace that maps that range onto the new one. --layers
 * lists the kept layers, --rm-layer removes one. An image of the store
 * build/image-import fills is a stack of layers too: --image takes it,
 * with its config: environment, command, working directory and user.
 *
 * Man pages: user_namespaces(7), clone(2), mount_setattr(2), setresuid(2),
 * setgroups(2), passwd(5), group(5).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "step.h"

/* The largest layers or config file of a store image that is read. */
#define STORE_FILE_MAX 65536

/* A layer kept by --keep is LAYER_DIR/NAME/upper, its record NAME/keep. */
static void
keep_record_path(const char *layer, char *path, size_t len)
{
    snprintf(path, len, "%s/../keep", layer);
}

/*
 * The range a kept layer's files were written under, from its keep
 * record: "uid=HOST gid=HOST count=N", one a line. false for an image.
 */
bool
read_keep_record(const char *layer, struct image_layer *l)
{
    char path[PATH_MAX + 16], text[256] = "", value[32];
    FILE *f;
    size_t n;

    keep_record_path(layer, path, sizeof(path));
    if (!(f = fopen(path, "re")))
        return false;
    n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    if (state_get(text, "uid", value, sizeof(value)) == -1)
        return false;
    l->uid = strtoul(value, NULL, 10);
    if (state_get(text, "gid", value, sizeof(value)) == 0)
        l->gid = strtoul(value, NULL, 10);
    if (state_get(text, "count", value, sizeof(value)) == 0)
        l->count = strtoul(value, NULL, 10);
    return l->count > 0;
}

/*
 * --keep: the record that keeps the layer, and says which host range
 * wrote it, so that a later container can idmap it onto its own.
 */
void
write_keep_record(const struct container *c)
{
    char path[PATH_MAX + 16];
    FILE *f;

    snprintf(path, sizeof(path), "%s/keep", c->layer);
    if (!(f = fopen(path, "wxe")))
        die("open(\"%s\", O_WRONLY|O_CREAT|O_EXCL)", path);
    fprintf(f, "uid=%lu\ngid=%lu\ncount=%lu\n", host_root(&c->uid_map),
            host_root(&c->gid_map), c->uid_map.ranges[0].count);
    if (fclose(f) == EOF)
        die("write(\"%s\")", path);
}

/*
 * A kept layer loses its work directory at exit: only the upper
 * directory and its record stay. Its path is said, with how to use it
 * and how to remove it.
 */
void
report_kept_layer(const struct container *c)
{
    char path[PATH_MAX + 16];

    snprintf(path, sizeof(path), "%s/work", c->layer);
    if (remove_tree(path) == -1)
        warn("remove_tree(\"%s\")", path);
    fprintf(stderr,
            "%s: kept the container's layer: %s/upper\n"
            "(--image %s/upper:BASE runs on it; --rm-layer %s removes it)\n",
            program_name, c->layer, c->layer, c->name);
}

/*
 * The child of range_userns(): it holds the namespace until the runtime
 * closes its end of the pipe (or dies), and the read returns.
 */
static int
hold_namespace(void *arg)
{
    int *hold = arg;
    char byte;

    close(hold[1]);
    return read(hold[0], &byte, 1) == -1;
}

/* One line of a map file of pid's, as the runtime writes it. */
static void
write_one_map(pid_t pid, const char *file, unsigned long inside,
              unsigned long outside, unsigned long count)
{
    char path[64], text[64];
    int fd, len;

    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
    len = snprintf(text, sizeof(text), "%lu %lu %lu", inside, outside, count);
    fd = must(open(path, O_WRONLY | O_CLOEXEC), "open(\"%s\")", path);
    must(write(fd, text, len), "write(\"%s\", \"%s\")", path, text);
    close(fd);
}

/*
 * A user namespace that maps a kept layer's range onto this container's:
 * an idmapped mount reads a file's host id as an id in that namespace,
 * then maps it out, so host id OLD+k shows as NEW+k: root inside's k.
 * clone(2) makes it in a child that only holds it while the runtime
 * writes the maps and opens it; then the child goes.
 */
int
range_userns(const struct container *c, const struct image_layer *l)
{
    static char stack[16384] __attribute__((aligned(16)));
    int hold[2], ns;
    char path[64];
    pid_t pid;

    must(pipe2(hold, O_CLOEXEC), "pipe2()");
    pid = must(clone(hold_namespace, stack + sizeof(stack),
                     CLONE_NEWUSER | SIGCHLD, hold),
               "clone(CLONE_NEWUSER)");
    write_one_map(pid, "uid_map", l->uid, host_root(&c->uid_map), l->count);
    write_one_map(pid, "gid_map", l->gid, host_root(&c->gid_map), l->count);
    snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
    ns = must(open(path, O_RDONLY | O_CLOEXEC), "open(\"%s\")", path);
    close(hold[1]);
    close(hold[0]);
    waitpid(pid, NULL, 0);
    return ns;
}

/*
 * A file of a store image, opened only when it is a regular file of the
 * caller's that no one else may write, and small. Host root reads it, and
 * a layer kept by --keep holds whatever its container wrote: a "layers"
 * that names the host's /, a link to /etc/shadow or to /dev/zero. Those
 * files belong to the container's ids, not the caller's, and are
 * refused. NULL when dir has no such file: not an image of the store.
 */
static FILE *
open_store_file(const char *dir, const char *name)
{
    char path[PATH_MAX + 16];
    struct stat st;
    FILE *f;
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    /* open(2) O_NOFOLLOW: a symbolic link fails (ELOOP), never followed;
     * O_NONBLOCK: a FIFO does not wait for a writer. */
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd == -1 && errno == ENOENT)
        return NULL;
    if (fd == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
        st.st_uid != geteuid() || (st.st_mode & 022) ||
        st.st_size > STORE_FILE_MAX) {
        errno = fd == -1 ? errno : EPERM;
        die_hint("an image of the store is build/image-import's, owned "
                 "by you; a layer a container wrote cannot be one",
                 "--image %s: %s is not a regular file of uid %u, at most "
                 "%d bytes, that only it may write",
                 dir, name, (unsigned)geteuid(), STORE_FILE_MAX);
    }
    if (!(f = fdopen(fd, "r")))
        die("fdopen(%s)", path);
    return f;
}

/*
 * An image's config, from the store (below): its environment goes before
 * the --env the user gave (the later wins), its entrypoint before COMMAND,
 * and its cmd stands for COMMAND when none is given, as docker run does;
 * its workdir and user apply unless --workdir or --user was given.
 */
static void
read_store_config(const char *dir, struct options *o)
{
    static char *command[OPT_LIST_MAX + 1];
    const char *env[OPT_LIST_MAX];
    char *cmd[OPT_LIST_MAX];
    size_t n_env = 0, n_cmd = 0, n = 0;
    char *line = NULL;
    size_t size = 0;
    FILE *f;

    if (!(f = open_store_file(dir, "config")))
        return;
    while (getline(&line, &size, f) > 0) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "env=", 4) == 0 && n_env < OPT_LIST_MAX)
            env[n_env++] = strdup(line + 4);
        else if (strncmp(line, "entrypoint=", 11) == 0 && n < OPT_LIST_MAX)
            command[n++] = strdup(line + 11);
        else if (strncmp(line, "cmd=", 4) == 0 && n_cmd < OPT_LIST_MAX)
            cmd[n_cmd++] = strdup(line + 4);
        else if (strncmp(line, "workdir=", 8) == 0 && line[8] && !o->workdir)
            o->workdir = strdup(line + 8);
        else if (strncmp(line, "user=", 5) == 0 && line[5] && !o->user)
            o->user = strdup(line + 5);
    }
    free(line);
    fclose(f);
    for (size_t i = 0; i < o->env.len && n_env < OPT_LIST_MAX; i++)
        env[n_env++] = o->env.items[i];
    memcpy(o->env.items, env, n_env * sizeof(env[0]));
    o->env.len = n_env;
    for (size_t i = 0; o->command_given && o->command[i] && n < OPT_LIST_MAX;
         i++)
        command[n++] = o->command[i];
    for (size_t i = 0; !o->command_given && i < n_cmd && n < OPT_LIST_MAX; i++)
        command[n++] = cmd[i];
    for (size_t i = 0; o->command_given && i < n_cmd; i++)
        free(cmd[i]); /* COMMAND replaces the cmd */
    command[n] = NULL;
    if (n)
        o->command = command;
}

/*
 * An image that build/image-import made (chapter 11) is a directory of
 * the store with a file "layers": its layer directories, top first, one
 * a line; and "config". false for a plain root filesystem.
 */
bool
read_store_image(const char *dir, struct options *o)
{
    char line[PATH_MAX + 2];
    FILE *f;

    if (!(f = open_store_file(dir, "layers")))
        return false;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        if (!line[0])
            continue;
        if (o->layer_count == LAYER_MAX)
            usage_error("--image %s: more than %d layers", dir, LAYER_MAX);
        parse_layer(line, &o->layers[o->layer_count++]);
    }
    fclose(f);
    read_store_config(dir, o);
    return true;
}

/*
 * COMMAND's HOME with --user (or the image's user=): that user's home in
 * the image's /etc/passwd. Empty without one: HOME stays /root.
 */
char user_home[PATH_MAX];

/* Whether text is a number: a uid or gid, not a name. */
static bool
is_number(const char *text)
{
    return text[0] && text[strspn(text, "0123456789")] == '\0' &&
           strlen(text) < 11;
}

/*
 * The line of the image's /etc/passwd or /etc/group (NAME:x:ID:...)
 * whose name is key, or whose id is, when key is a number: its id, and
 * its fourth field: passwd's group, group's members. false if none.
 * passwd's sixth field, the home directory, goes to home, if given
 * (PATH_MAX bytes).
 */
static bool
find_entry(const char *file, const char *key, unsigned long *id, char *fourth,
           size_t len, char *home)
{
    char *line = NULL, *f[6], *s;
    size_t size = 0;
    bool found = false;
    FILE *fp = fopen(file, "re");

    while (fp && !found && getline(&line, &size, fp) > 0) {
        s = line;
        for (int i = 0; i < 6; i++)
            f[i] = strsep(&s, ":\n");
        if (!f[2] || !f[3] || !is_number(f[2]))
            continue;
        found = strcmp(is_number(key) ? f[2] : f[0], key) == 0;
        if (found) {
            *id = strtoul(f[2], NULL, 10);
            snprintf(fourth, len, "%s", f[3]);
            if (home) /* passwd's sixth field */
                snprintf(home, PATH_MAX, "%s", f[5] && f[5][0] ? f[5] : "/");
        }
    }
    free(line);
    if (fp)
        fclose(fp);
    return found;
}

/*
 * The groups whose member list in the image's /etc/group names user:
 * its supplementary groups, besides gid, as login(1) would set them.
 */
static size_t
member_groups(const char *user, gid_t gid, gid_t *groups, size_t max)
{
    char *line = NULL, *f[4], *s, *member;
    size_t size = 0, n = 0;
    FILE *fp = fopen("/etc/group", "re");

    groups[n++] = gid;
    while (fp && n < max && getline(&line, &size, fp) > 0) {
        s = line;
        for (int i = 0; i < 4; i++)
            f[i] = strsep(&s, ":\n");
        while (f[2] && f[3] && (member = strsep(&f[3], ",")) && n < max)
            if (strcmp(member, user) == 0 && is_number(f[2]))
                groups[n++] = strtoul(f[2], NULL, 10);
    }
    free(line);
    if (fp)
        fclose(fp);
    return n;
}

/*
 * --user or the image's user= (USER[:GROUP]), read in the container's own
 * /etc/passwd and /etc/group, not the host's: a name means what the image
 * says. A uid it does not list runs with gid 0 and HOME=/, as docker run
 * does.
 */
static void
resolve_user(const char *spec, uid_t *uid, gid_t *gid, gid_t *groups, size_t *n)
{
    static const char hint[] = "--user takes UID[:GID] or a name the "
                               "image's /etc/passwd (and /etc/group) lists";
    char user[256], *group, fourth[256] = "0";
    unsigned long u, g;

    snprintf(user, sizeof(user), "%s", spec);
    if ((group = strchr(user, ':')))
        *group++ = '\0';
    errno = ENOENT;
    if (find_entry("/etc/passwd", user, &u, fourth, sizeof(fourth), user_home))
        g = strtoul(fourth, NULL, 10);
    else if (is_number(user))
        u = strtoul(user, NULL, 10), g = 0; /* no group: 0 */
    else
        die_hint(hint, "user %s: not in the image's /etc/passwd", user);
    if (!user_home[0]) /* a uid the image does not list: no home but / */
        snprintf(user_home, sizeof(user_home), "/");
    if (group &&
        !find_entry("/etc/group", group, &g, fourth, sizeof(fourth), NULL)) {
        if (!is_number(group))
            die_hint(hint, "group %s: not in the image's /etc/group", group);
        g = strtoul(group, NULL, 10);
    }
    *uid = u;
    *gid = g;
    *n = is_number(user) ? 1 : member_groups(user, g, groups, *n);
    groups[0] = g;
}

/*
 * In the container, after pivot_root (its /etc is the image's) and
 * before the death signal (a change of credentials clears it): COMMAND's
 * working directory and user, --workdir and --user or the image's.
 * chdir(2) first, as root inside: the directory stays COMMAND's even if
 * its user may not enter it (an image's /root, run as nobody). Then
 * setgroups(2), while still root; setresgid(2) and setresuid(2) last,
 * which fail with EINVAL for an id the container's user namespace does
 * not map. init becomes that user too: it only waits and passes signals
 * on, to its own child.
 */
void
setup_image_user(const struct container *c)
{
    static const char unmapped[] = "the container maps ids 0 to 65535 only";
    const struct options *o = c->opts;
    gid_t groups[64];
    size_t n = ARRAY_SIZE(groups);
    uid_t uid;
    gid_t gid;

    if (o->workdir && chdir(o->workdir) == -1)
        die_hint(errno == ENOENT ? "the image has no such directory" : NULL,
                 "chdir(\"%s\") for --workdir", o->workdir);
    if (o->workdir)
        trace("chdir(\"%s\") = 0", o->workdir);
    if (!o->user)
        return;
    resolve_user(o->user, &uid, &gid, groups, &n);
    if (!c->setgroups_denied)
        must(setgroups(n, groups), "setgroups(%zu, [%u...])", n, (unsigned)gid);
    must_hint(setresgid(gid, gid, gid), unmapped,
              "setresgid(%u, %u, %u) for --user %s", (unsigned)gid,
              (unsigned)gid, (unsigned)gid, o->user);
    must_hint(setresuid(uid, uid, uid), unmapped,
              "setresuid(%u, %u, %u) for --user %s", (unsigned)uid,
              (unsigned)uid, (unsigned)uid, o->user);
}

static void
print_kept_layer(const char *name, const char *path, void *arg)
{
    char record[PATH_MAX + 16], text[256] = "";
    size_t n = 0;
    FILE *f;

    (void)arg;
    snprintf(record, sizeof(record), "%s/keep", path);
    if ((f = fopen(record, "re"))) {
        n = fread(text, 1, sizeof(text) - 1, f);
        fclose(f);
    }
    text[n] = '\0';
    for (char *nl = strchr(text, '\n'); nl; nl = strchr(nl, '\n'))
        *nl = nl[1] ? ' ' : '\0';
    printf("%s\t%s/upper\t%s\n", name, path, text);
}

/*
 * --layers: the kept layers, one a line: NAME, the upper directory to
 * give --image, and the host range it was written under. --rm-layer
 * NAME: one of them goes.
 */
int
control_layers(const struct options *o)
{
    if (o->rm_layer && state_remove_kept_layer(o->rm_layer) == -1)
        die_hint(errno == ENOENT  ? "--layers lists the kept layers"
                 : errno == EBUSY ? "remove it once that container has exited"
                                  : NULL,
                 "--rm-layer %s: %s", o->rm_layer, state_failed_call());
    if (o->list_layers && state_each_kept_layer(print_kept_layer, NULL) == -1)
        die("%s", state_failed_call());
    return 0;
}
