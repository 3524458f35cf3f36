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
 * A kept layer's record, LAYER_DIR/NAME/keep beside its upper directory,
 * opened only there, and only when it is a regular file of the caller's
 * that no one else may write: a keep file beside any other directory is
 * anyone's to plant, and would choose the host range the layer is
 * idmapped from. NULL otherwise: the layer is read as an image's.
 */
static FILE *
open_keep_record(const char *layer)
{
    char path[PATH_MAX + 16];
    struct stat st;
    FILE *f = NULL;
    int fd;

    if (!in_layer_dir(layer))
        return NULL;
    snprintf(path, sizeof(path), "%s/../keep", layer);
    /* open(2) O_NOFOLLOW, O_NONBLOCK: as open_store_file() does */
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd == -1)
        return NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
        !(st.st_mode & 022))
        f = fdopen(fd, "r");
    else
        trace("%s: not a keep record of uid %u's: not a kept layer", path,
              (unsigned)geteuid());
    if (!f)
        close(fd);
    return f;
}

/*
 * The range a kept layer's files were written under, from its keep
 * record: "uid=HOST gid=HOST count=N", one a line. false for an image.
 */
bool
read_keep_record(const char *layer, struct image_layer *l)
{
    char text[256] = "", value[32];
    FILE *f;
    size_t n;

    if (!(f = open_keep_record(layer)))
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
    int fd;

    snprintf(path, sizeof(path), "%s/keep", c->layer);
    /* open(2), 0644: never writable by others, whatever the umask, as its
     * reader requires */
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd == -1 || !(f = fdopen(fd, "w")))
        die("open(\"%s\", O_WRONLY|O_CREAT|O_EXCL, 0644)", path);
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
