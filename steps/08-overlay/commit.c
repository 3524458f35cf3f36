/*
 * commit.c: a container's layer, kept and stacked on an image, from step
 * 08 on (with overlay.c).
 *
 * --keep leaves the container's upper directory in place at exit: the
 * changes it made, and nothing else. Given as the top layer of --image
 * (--image KEPT:BASE), it makes a new image out of the old one: the
 * container is "committed", as image builders make each layer. Its files
 * belong to the host ids the container was mapped to; a later container
 * has a range of its own, so the kept layer records the maps it was
 * written under (LAYER_DIR/NAME/keep), and the runtime idmaps it with a
 * user namespace that takes each old host id to the new one. --layers
 * lists the kept layers, --rm-layer removes one.
 *
 * Man pages: user_namespaces(7), clone(2), mount_setattr(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "step.h"

/* A keep record's size, at most: two maps of OPT_LIST_MAX ranges. */
#define KEEP_RECORD_MAX 4096

/* The last id a map may name, as user.c's ID_MAX: (uid_t)-1 is no id. */
#define KEPT_ID_MAX 4294967295UL

/*
 * Whether layer, a real path, is where --keep puts a layer:
 * LAYER_DIR/NAME/upper.
 */
static bool
in_layer_dir(const char *layer)
{
    char dir[PATH_MAX];
    const char *name, *slash;
    size_t len;

    if (!realpath(layer_dir, dir))
        return false; /* no layer kept yet */
    len = strlen(dir);
    if (strncmp(layer, dir, len) != 0 || layer[len] != '/')
        return false;
    name = layer + len + 1;
    slash = strchr(name, '/');
    return name[0] != '.' && slash && slash > name &&
           strcmp(slash, "/upper") == 0;
}

/*
 * The keep record of the layer in dir (LAYER_DIR/NAME), the one way it
 * is ever read: only when dir and the record are the caller's, and no
 * one else may write either. Whoever could would choose the host ids the
 * layer is idmapped from (--image), or make --layers print a file of
 * root's: a symbolic link is not followed (O_NOFOLLOW), and a hard link
 * (a second name, st_nlink 2) is refused. NULL otherwise.
 */
static FILE *
open_keep_file(const char *dir)
{
    struct stat st;
    FILE *f = NULL;
    int dir_fd, fd = -1;

    /* open(2) O_DIRECTORY|O_NOFOLLOW, then openat(2) the record in it */
    dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir_fd != -1 && fstat(dir_fd, &st) == 0 && st.st_uid == geteuid() &&
        !(st.st_mode & 022))
        fd = openat(dir_fd, "keep",
                    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (dir_fd != -1)
        close(dir_fd);
    if (fd != -1 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
        st.st_uid == geteuid() && !(st.st_mode & 022) && st.st_nlink == 1)
        f = fdopen(fd, "r");
    if (!f)
        trace("%s/keep: not a keep record of uid %u's: not a kept layer", dir,
              (unsigned)geteuid());
    if (!f && fd != -1)
        close(fd);
    return f;
}

/*
 * The record of a layer --image names, when it is one --keep left:
 * LAYER_DIR/NAME/upper, the record beside it in LAYER_DIR/NAME (a keep
 * file beside any other directory is anyone's to plant). NULL otherwise:
 * the layer is read as an image's.
 */
static FILE *
open_keep_record(const char *layer)
{
    char dir[PATH_MAX];

    if (!in_layer_dir(layer))
        return NULL;
    /* layer ends in "/upper": its directory is what comes before */
    snprintf(dir, sizeof(dir), "%.*s", (int)(strlen(layer) - strlen("/upper")),
             layer);
    return open_keep_file(dir);
}

/*
 * A map as a keep record holds it: each range CONTAINER:HOST:COUNT, as
 * --uidmap takes it, joined by ','.
 */
void
format_map(const struct id_map *m, char *text, size_t len)
{
    size_t n = 0;

    text[0] = '\0';
    for (size_t i = 0; i < m->len && n < len; i++)
        n += snprintf(text + n, len - n, "%s%lu:%lu:%lu", i ? "," : "",
                      m->ranges[i].inside, m->ranges[i].outside,
                      m->ranges[i].count);
}

/*
 * Whether map m is one the kernel takes, and the runtime could have
 * written: the checks user.c makes of --uidmap (parse_range(),
 * check_map()), which exit there, made here of a record that may have
 * been changed by hand. Every range maps at least one id and runs past
 * no id; no two ranges meet, inside or outside; id 0 inside is mapped.
 */
static bool
kept_map_is_valid(const struct id_map *m)
{
    bool has_root = false;

    for (size_t i = 0; i < m->len; i++) {
        const struct id_range *a = &m->ranges[i];

        if (a->count == 0 || a->count > KEPT_ID_MAX - a->inside ||
            a->count > KEPT_ID_MAX - a->outside)
            return false;
        has_root |= a->inside == 0;
        for (size_t j = 0; j < i; j++) {
            const struct id_range *b = &m->ranges[j];

            if ((a->inside < b->inside + b->count &&
                 b->inside < a->inside + a->count) ||
                (a->outside < b->outside + b->count &&
                 b->outside < a->outside + a->count))
                return false;
        }
    }
    return has_root;
}

/*
 * The same, read back into m: ranges of three numbers, digits only, at
 * most OPT_LIST_MAX of them. false when text is not one, or not a valid
 * map.
 */
static bool
parse_kept_map(const char *text, struct id_map *m)
{
    const char *s = text;
    char *end = NULL;
    unsigned long v[3];

    m->len = 0;
    do {
        if (m->len == OPT_LIST_MAX)
            return false;
        for (int i = 0; i < 3; i++) {
            errno = 0;
            v[i] = strtoul(s, &end, 10);
            if (*s < '0' || *s > '9' || errno || v[i] > KEPT_ID_MAX ||
                (i < 2 ? *end != ':' : *end != ',' && *end != '\0'))
                return false;
            s = end + 1;
        }
        m->ranges[m->len++] =
            (struct id_range){.inside = v[0], .outside = v[1], .count = v[2]};
    } while (*end == ',');
    return kept_map_is_valid(m);
}

/*
 * The maps a kept layer's files were written under, from its keep
 * record: "uidmap=MAP" and "gidmap=MAP", a line each. false for an
 * image's layer; a record without two valid maps is refused.
 */
bool
read_keep_record(const char *layer, struct image_layer *l)
{
    char text[KEEP_RECORD_MAX] = "", value[KEEP_RECORD_MAX];
    FILE *f;
    size_t n;

    if (!(f = open_keep_record(layer)))
        return false;
    n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    if (state_get(text, "uidmap", value, sizeof(value)) == -1 ||
        !parse_kept_map(value, &l->uid_map) ||
        state_get(text, "gidmap", value, sizeof(value)) == -1 ||
        !parse_kept_map(value, &l->gid_map)) {
        errno = EINVAL;
        die_hint("a layer kept by an older boxstep, or a record changed by "
                 "hand: --rm-layer NAME removes it (--layers lists them)",
                 "--image %s: its keep record holds no valid uidmap= and "
                 "gidmap=",
                 layer);
    }
    return true;
}

/*
 * --keep, at the runtime's exit, once the container started: the record
 * that keeps the layer, and says under which maps it was written, uid
 * and gid, every range, so that a later container can idmap it onto its
 * own. Until it is there, the sweep removes the layer of a runtime gone.
 * -1 when it cannot be written (said): the layer is not kept.
 */
int
write_keep_record(const struct container *c)
{
    char path[PATH_MAX + 16], uids[KEEP_MAP_TEXT], gids[KEEP_MAP_TEXT];
    FILE *f;
    int fd;

    snprintf(path, sizeof(path), "%s/keep", c->layer);
    /* open(2), 0644: never writable by others, whatever the umask, as its
     * reader requires */
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd == -1 || !(f = fdopen(fd, "w"))) {
        warn("open(\"%s\", O_WRONLY|O_CREAT|O_EXCL, 0644)", path);
        if (fd != -1)
            close(fd);
        return -1;
    }
    format_map(&c->uid_map, uids, sizeof(uids));
    format_map(&c->gid_map, gids, sizeof(gids));
    fprintf(f, "uidmap=%s\ngidmap=%s\n", uids, gids);
    if (fclose(f) == EOF) {
        warn("write(\"%s\")", path);
        return -1;
    }
    return 0;
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

/* Whether two maps hold the same ranges. */
static bool
same_map(const struct id_map *a, const struct id_map *b)
{
    return a->len == b->len &&
           memcmp(a->ranges, b->ranges, a->len * sizeof(a->ranges[0])) == 0;
}

/*
 * Without idmapped mounts (--no-idmap, rootless) a kept layer is used as
 * it is: only by a container with the maps it was written under, or its
 * files would show under other ids.
 */
void
check_kept_maps(const struct container *c, const struct image_layer *l)
{
    char old[2][KEEP_MAP_TEXT], new[2][KEEP_MAP_TEXT];

    if (!l->kept || (same_map(&l->uid_map, &c->uid_map) &&
                     same_map(&l->gid_map, &c->gid_map)))
        return;
    format_map(&l->uid_map, old[0], sizeof(old[0]));
    format_map(&l->gid_map, old[1], sizeof(old[1]));
    format_map(&c->uid_map, new[0], sizeof(new[0]));
    format_map(&c->gid_map, new[1], sizeof(new[1]));
    errno = EOPNOTSUPP;
    die_hint(c->opts->rootless
                 ? "rootless, nothing is idmapped: run it under the maps it "
                   "was kept under (--layers shows them)"
                 : "a kept layer is idmapped onto a new range: leave "
                   "--no-idmap out",
             "--image %s: written under uidmap=%s gidmap=%s, and this "
             "container maps uidmap=%s gidmap=%s",
             l->path, old[0], old[1], new[0], new[1]);
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

/*
 * A map file of pid's that takes a kept layer's host ids, as its
 * container's map (old) gave them, to this container's (new): for each
 * container id both maps hold, the old host id goes to the new one, a
 * line for each stretch where one range of each meet. An id only the old
 * map held has no new host id: its files show as nobody (65534). One
 * write(2), as the kernel takes a map.
 */
static void
write_remap(pid_t pid, const char *file, const struct id_map *old,
            const struct id_map *new)
{
    /* Two sets of disjoint ranges (both maps were checked) meet in fewer
     * stretches than both hold, each a line of at most 33 characters. */
    char path[64], text[2 * OPT_LIST_MAX * 36] = "";
    size_t len = 0;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
    for (size_t i = 0; i < old->len; i++)
        for (size_t j = 0; j < new->len; j++) {
            const struct id_range *o = &old->ranges[i], *w = &new->ranges[j];
            unsigned long first = o->inside > w->inside ? o->inside : w->inside;
            unsigned long end = o->inside + o->count < w->inside + w->count
                                    ? o->inside + o->count
                                    : w->inside + w->count;

            if (first < end)
                len += snprintf(text + len, sizeof(text) - len, "%lu %lu %lu\n",
                                o->outside + first - o->inside,
                                w->outside + first - w->inside, end - first);
            if (len >= sizeof(text)) {
                errno = E2BIG;
                die("write(\"%s\"): more than %zu bytes of map", path,
                    sizeof(text) - 1);
            }
        }
    if (len == 0) {
        errno = EINVAL;
        die_hint("the kept layer's maps (--layers shows them) and this "
                 "container's must both map some container id: --uidmap, "
                 "--gidmap",
                 "write(\"%s\", \"\"): the kept layer's map and this "
                 "container's share no container id",
                 path);
    }
    fd = must(open(path, O_WRONLY | O_CLOEXEC), "open(\"%s\")", path);
    must(write(fd, text, len), "write(\"%s\", \"%.*s\")", path, (int)len - 1,
         text);
    close(fd);
}

/*
 * A user namespace that maps a kept layer's host ids onto this
 * container's, range by range: an idmapped mount reads a file's host id
 * as an id in that namespace, then maps it out, so the host id the old
 * map gave container id k shows as the one the new map gives k.
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
    write_remap(pid, "uid_map", &l->uid_map, &c->uid_map);
    write_remap(pid, "gid_map", &l->gid_map, &c->gid_map);
    snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
    ns = must(open(path, O_RDONLY | O_CLOEXEC), "open(\"%s\")", path);
    close(hold[1]);
    close(hold[0]);
    waitpid(pid, NULL, 0);
    return ns;
}

static void
print_kept_layer(const char *name, const char *path, void *arg)
{
    char text[KEEP_RECORD_MAX] = "";
    size_t n = 0;
    FILE *f;

    (void)arg;
    if ((f = open_keep_file(path))) {
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
 * give --image, and the maps it was written under, its keep record's
 * uidmap= and gidmap= (empty when the record is not the caller's own).
 * --rm-layer NAME: one of them goes.
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
