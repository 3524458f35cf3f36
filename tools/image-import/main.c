/*
 * main.c: build/image-import, behind make image, make images,
 * make image-rm and make image-prune.
 *
 *   image-import [--name NAME] oci:DIR[:TAG]
 *   image-import [--name NAME] docker-archive:FILE
 *   image-import --list | --remove NAME | --prune
 *
 * An import reads the image (source.c), checks it is for this machine,
 * then stores each layer it does not have yet: unpacked (unpack.c) into
 * a directory of STORE/tmp, its two digests compared with the ones the
 * image claims, and only then renamed to STORE/layers/sha256-HEX. The
 * image directory is made the same way. A failure anywhere exits 125
 * and the cleanup list removes what was half made. The store's layout,
 * the format step 08 reads: image.h.
 *
 * Man pages: rename(2), fcntl(2) (the store's lock), nftw(3).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boxstep.h"
#include "internal.h"
#include "image.h"

char store_dir[PATH_MAX];

static const char help_text[] =
    "Usage: image-import [--name NAME] oci:DIR[:TAG] | docker-archive:FILE\n"
    "       image-import --list | --remove NAME | --prune\n"
    "\n"
    "Imports a container image into boxstep's store: each layer unpacked\n"
    "once into STORE/layers/sha256-DIFFID (shared by every image that has\n"
    "it), its digests checked, its whiteouts made overlayfs's; and an image\n"
    "directory, STORE/images/NAME, with a 'layers' file (one directory a\n"
    "line, top first) and a 'config' file (key=value: env, entrypoint, cmd,\n"
    "workdir, user) for build/08-overlay --image STORE/images/NAME.\n"
    "STORE is $BOXSTEP_IMAGE_DIR, else /var/lib/boxstep-images (root),\n"
    "else $XDG_DATA_HOME/boxstep-images or ~/.local/share/boxstep-images.\n"
    "\n"
    "  --name NAME     the image's name (default: from its source)\n"
    "  --list          the images, the layers, and how many images use each\n"
    "  --remove NAME   remove an image (its layers stay until --prune)\n"
    "  --prune         remove the layers no image or running container\n"
    "                  uses\n"
    "\n"
    "Exit status: 0, or 125 with a message when the image is refused: a\n"
    "corrupt archive, a digest mismatch, a missing blob, another platform,\n"
    "a path that leads out of its layer, a device node.\n";

void
fail(const char *fmt, ...)
{
    char line[2048];
    int err = errno;
    va_list ap;

    va_start(ap, fmt);
    format_error(line, sizeof(line), err, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s\n", program_name, line);
    exit_after_cleanup(EXIT_BOXSTEP);
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return (flag == FTW_DP ? rmdir(path) : unlink(path)) == -1 ? -1 : 0;
}

/* rm -rf, never crossing into a mount or following a symlink. */
void
remove_store_tree(const char *path)
{
    if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) == -1 &&
        errno != ENOENT)
        warn("nftw(\"%s\") to remove it", path);
}

static void
undo_tmpdir(void *path)
{
    remove_store_tree(path);
    free(path);
}

/* A fresh directory in STORE/tmp, removed at exit unless renamed. */
int
store_tmpdir(const char *what, char *path, size_t len)
{
    static unsigned serial;

    snprintf(path, len, "%s/tmp/%s-%d-%u", store_dir, what, getpid(), serial++);
    if (mkdir(path, 0700) == -1)
        fail("mkdir(\"%s\")", path);
    cleanup_push(undo_tmpdir, strdup(path), path);
    return 0;
}

/*
 * The store: made when missing (0700, see image.h), then locked for the
 * whole run. Its path goes into the image's layers file, joined by ':'
 * as overlayfs's lowerdir: it cannot hold one.
 */
static void
open_store(void)
{
    const char *env = getenv("BOXSTEP_IMAGE_DIR");
    const char *data = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    const char *sub[] = {"", "/layers", "/images", "/tmp"};
    char path[PATH_MAX + 16];

    if (env)
        snprintf(store_dir, sizeof(store_dir), "%s", env);
    else if (geteuid() == 0)
        snprintf(store_dir, sizeof(store_dir), "/var/lib/boxstep-images");
    else if (data && data[0] == '/')
        snprintf(store_dir, sizeof(store_dir), "%s/boxstep-images", data);
    else
        snprintf(store_dir, sizeof(store_dir), "%s/.local/share/boxstep-images",
                 home ?: "");
    if (store_dir[0] != '/' || strchr(store_dir, ':'))
        usage_error("store %s: must be an absolute path without ':' "
                    "(BOXSTEP_IMAGE_DIR)",
                    store_dir);
    for (size_t i = 0; i < ARRAY_SIZE(sub); i++) {
        snprintf(path, sizeof(path), "%s%s", store_dir, sub[i]);
        if (mkdir(path, 0700) == -1 && errno != EEXIST)
            fail("mkdir(\"%s\")", path);
    }
    snprintf(path, sizeof(path), "%s/lock", store_dir);
    if (open_locked(path) == -1)
        fail("open_locked(\"%s\")", path);
    /* Locked: whatever is in tmp/ is what a killed run left. */
    snprintf(path, sizeof(path), "%s/tmp", store_dir);
    remove_store_tree(path);
    if (mkdir(path, 0700) == -1)
        fail("mkdir(\"%s\")", path);
}

/* Layers unpacked and checked, to be renamed in once all are. */
static struct {
    char tmp[PATH_MAX], path[PATH_MAX];
} pending[LAYERS_MAX];
static size_t n_pending;

/*
 * A layer: stored already (shared), or unpacked into STORE/tmp and its
 * digests checked. Nothing goes into STORE/layers until every layer of
 * the image has passed (commit_layers()): a failed import adds nothing.
 */
static void
store_layer(const struct layer_src *l, char *path, size_t len)
{
    struct unpacked got;
    char *tmp = pending[n_pending].tmp;

    snprintf(path, len, "%s/layers/sha256-%s", store_dir, l->diff_id + 7);
    for (size_t i = 0; i < n_pending; i++)
        if (strcmp(pending[i].path, path) == 0)
            return; /* the same layer twice in one image */
    if (access(path, F_OK) == 0) {
        printf("layer %.19s: stored already\n", l->diff_id);
        return;
    }
    store_tmpdir("layer", tmp, PATH_MAX);
    /* A layer without a "./" entry: its root as a registry client's. */
    if (chmod(tmp, 0755) == -1)
        fail("chmod(\"%s\", 0755)", tmp);
    unpack(l->fd, l->blob, tmp, true, &got);
    errno = EBADMSG;
    if (l->blob_digest[0] && strcmp(got.blob_digest, l->blob_digest) != 0)
        fail("%s: digest mismatch: the manifest says %s, the blob is %s",
             l->blob, l->blob_digest, got.blob_digest);
    if (strcmp(got.diff_id, l->diff_id) != 0)
        fail("%s: digest mismatch: the config says diff_id %s, the "
             "uncompressed tar is %s",
             l->blob, l->diff_id, got.diff_id);
    snprintf(pending[n_pending++].path, PATH_MAX, "%s", path);
    printf("layer %.19s: unpacked, digests verified\n", l->diff_id);
}

/* Every checked layer into STORE/layers: rename(2) is atomic. */
static void
commit_layers(void)
{
    for (size_t i = 0; i < n_pending; i++)
        if (rename(pending[i].tmp, pending[i].path) == -1)
            fail("rename(\"%s\", \"%s\")", pending[i].tmp, pending[i].path);
}

/* The image directory: layers (top first) and config, then renamed in,
 * replacing an image of the same name. */
static void
store_image(const struct image_src *img, char layers[][PATH_MAX],
            const char *name)
{
    char tmp[PATH_MAX], path[PATH_MAX + 16], dest[PATH_MAX];
    FILE *f;

    store_tmpdir("image", tmp, sizeof(tmp));
    snprintf(path, sizeof(path), "%s/layers", tmp);
    if (!(f = fopen(path, "wx")))
        fail("fopen(\"%s\")", path);
    for (size_t i = img->n_layers; i-- > 0;)
        fprintf(f, "%s\n", layers[i]);
    if (fclose(f) == EOF)
        fail("fclose(\"%s\")", path);
    snprintf(path, sizeof(path), "%s/config", tmp);
    write_config(path, img);
    snprintf(dest, sizeof(dest), "%s/images/%s", store_dir, name);
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dest, RENAME_EXCHANGE) == 0)
        return; /* the old image is in tmp now, removed at exit */
    if (errno != ENOENT || rename(tmp, dest) == -1)
        fail("rename(\"%s\", \"%s\")", tmp, dest);
}

static void
check_name(const char *name)
{
    if (!name[0] || name[0] == '.' || strlen(name) >= NAME_MAX ||
        name[strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                          "0123456789._-")])
        usage_error("image name \"%s\": letters, digits, '.', '_' and '-' "
                    "only, not first '.'",
                    name);
}

static void
import(const char *from, const char *name)
{
    static struct image_src img;
    static char layers[LAYERS_MAX][PATH_MAX];
    char *copy = strdup(from), *tag;

    if (strncmp(copy, "oci:", 4) == 0) {
        tag = strchr(copy + 4, ':');
        if (tag)
            *tag++ = '\0';
        read_oci(copy + 4, tag, &img);
    } else if (strncmp(copy, "docker-archive:", 15) == 0) {
        read_docker_archive(copy + 15, &img);
    } else {
        usage_error("%s: not oci:DIR[:TAG] or docker-archive:FILE", from);
    }
    check_platform(&img);
    name = name ?: img.default_name;
    check_name(name);
    for (size_t i = 0; i < img.n_layers; i++)
        store_layer(&img.layers[i], layers[i], sizeof(layers[i]));
    commit_layers();
    store_image(&img, layers, name);
    printf("image %s: %s/images/%s (%zu layers)\n", name, store_dir, name,
           img.n_layers);
    for (size_t i = 0; i < img.n_layers; i++)
        close(img.layers[i].fd);
    json_decref(img.config);
    free(copy);
}

/* Whether any image's layers file names this layer. */
static int
layer_users(const char *layer)
{
    char path[PATH_MAX + 300], line[PATH_MAX + 2];
    struct dirent *e;
    int users = 0;
    DIR *d;
    FILE *f;

    snprintf(path, sizeof(path), "%s/images", store_dir);
    if (!(d = opendir(path)))
        fail("opendir(\"%s\")", path);
    while ((e = readdir(d))) {
        snprintf(path, sizeof(path), "%s/images/%s/layers", store_dir,
                 e->d_name);
        if (e->d_name[0] == '.' || !(f = fopen(path, "re")))
            continue;
        while (fgets(line, sizeof(line), f))
            if (strcmp(strtok(line, "\n") ?: "", layer) == 0)
                users++;
        fclose(f);
    }
    closedir(d);
    return users;
}

/* A layer, as step 08 names it, and how many running containers do. */
struct lower_use {
    char path[PATH_MAX];
    int containers;
};

static void
note_lower(const char *record, void *arg)
{
    struct lower_use *u = arg;
    char line[PATH_MAX + 16];

    snprintf(line, sizeof(line), "\nlower=%s\n", u->path);
    if (strstr(record, line))
        u->containers++;
}

/*
 * How many running containers stack this layer: step 08 names each layer
 * of its image in its state record (lower=PATH, shared/state.c), which
 * root's runs keep in /run/boxstep. The state directory is locked: no
 * container starts meanwhile. An ordinary user's containers keep theirs
 * elsewhere, and use their own store: not counted.
 */
static int
layer_containers(const char *layer)
{
    struct lower_use u = {.containers = 0};

    if (geteuid() != 0 || !realpath(layer, u.path))
        return 0;
    if (state_each(note_lower, &u) == -1)
        fail("%s", state_failed_call());
    return u.containers;
}

/* --list: the images, then the layers and how many images use each;
 * --prune: removes those no image and no running container uses. */
static void
each_layer(bool prune)
{
    char path[PATH_MAX + 300];
    struct dirent *e;
    DIR *d;

    if (geteuid() == 0 && state_lock() == -1)
        fail("%s", state_failed_call());
    snprintf(path, sizeof(path), "%s/layers", store_dir);
    if (!(d = opendir(path)))
        fail("opendir(\"%s\")", path);
    while ((e = readdir(d))) {
        int users, running;

        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/layers/%s", store_dir, e->d_name);
        users = layer_users(path);
        running = layer_containers(path);
        if (!prune)
            printf("  %s  used by %d image(s), %d running container(s)\n", path,
                   users, running);
        else if (users == 0 && running)
            printf("kept %s: %d running container(s) stack it\n", path,
                   running);
        else if (users == 0) {
            remove_store_tree(path);
            printf("removed %s\n", path);
        }
    }
    closedir(d);
    if (geteuid() == 0 && state_unlock() == -1)
        fail("%s", state_failed_call());
}

static void
list(void)
{
    char path[PATH_MAX + 300], line[PATH_MAX + 2];
    struct dirent *e;
    DIR *d;
    FILE *f;

    snprintf(path, sizeof(path), "%s/images", store_dir);
    printf("images in %s:\n", path);
    if (!(d = opendir(path)))
        fail("opendir(\"%s\")", path);
    while ((e = readdir(d))) {
        snprintf(path, sizeof(path), "%s/images/%s/config", store_dir,
                 e->d_name);
        if (e->d_name[0] == '.' || !(f = fopen(path, "re")))
            continue;
        while (fgets(line, sizeof(line), f))
            if (strncmp(line, "source=", 7) == 0)
                printf("  %s  from %s", e->d_name, line + 7);
        fclose(f);
    }
    closedir(d);
    printf("layers:\n");
    each_layer(false);
}

static void
remove_image(const char *name)
{
    char path[PATH_MAX + NAME_MAX];

    check_name(name);
    snprintf(path, sizeof(path), "%s/images/%s", store_dir, name);
    if (access(path, F_OK) == -1)
        fail("image %s: access(\"%s\")", name, path);
    remove_store_tree(path);
    printf("removed image %s; its layers stay until --prune\n", name);
}

int
main(int argc, char *argv[])
{
    bool help = false, list_flag = false, prune = false;
    const char *name = NULL, *remove = NULL;
    const struct opt opts[] = {
        {"name", 0, OPT_STRING, &name, "14", "NAME",
         "the image's name (default: from its source)"},
        {"list", 0, OPT_FLAG, &list_flag, "14", NULL,
         "the images and the layers, and which are used"},
        {"remove", 0, OPT_STRING, &remove, "14", "NAME",
         "remove an image (its layers stay until --prune)"},
        {"prune", 0, OPT_FLAG, &prune, "14", NULL,
         "remove the layers no image or running container uses"},
        {"help", 'h', OPT_FLAG, &help, "14", NULL, "this help"},
        {0},
    };
    char err[256];
    int first;

    program_name = "image-import";
    setvbuf(stdout, NULL, _IOLBF, 0);
    first = parse_options(opts, argc, argv, err, sizeof(err));
    if (first < 0)
        usage_error("%s", err);
    if (help) {
        fputs(help_text, stdout);
        return 0;
    }
    if (list_flag + prune + !!remove + (first < argc) != 1)
        usage_error("give one of SOURCE, --list, --remove NAME, --prune");
    open_store();
    if (list_flag)
        list();
    else if (prune)
        each_layer(true);
    else if (remove)
        remove_image(remove);
    else
        import(argv[first], name);
    cleanup_run();
    return 0;
}
