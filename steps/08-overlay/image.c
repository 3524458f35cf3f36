/*
 * image.c: what --image names, and where a container's own layer goes,
 * from step 08 on.
 *
 * Read and checked before anything is made: each layer of --image A:B:C
 * (a directory, or an image of build/image-import's store:
 * image-config.c), its real path, and the layer directory
 * (BOXSTEP_LAYER_DIR, or the default for root and for an ordinary user),
 * which the container's root must be able to pass through to reach its
 * layers. overlay.c makes and mounts them.
 *
 * Man pages: realpath(3), stat(2), overlayfs
 * (Documentation/filesystems/overlayfs.rst).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "step.h"

/*
 * Where the layers live: BOXSTEP_LAYER_DIR (the tests' own), else
 * /var/lib/boxstep for root, and for an ordinary user
 * $XDG_DATA_HOME/boxstep or ~/.local/share/boxstep. All that --layers,
 * --rm-layer and --gc need: they read no image, and work without one.
 */
void
parse_layer_dir(void)
{
    static char dir[PATH_MAX];
    const char *env = getenv("BOXSTEP_LAYER_DIR");
    const char *data = getenv("XDG_DATA_HOME"), *home = getenv("HOME");

    if (env && env[0] != '/')
        usage_error("BOXSTEP_LAYER_DIR=%s: not an absolute path", env);
    if (env)
        snprintf(dir, sizeof(dir), "%s", env);
    else if (geteuid() == 0)
        snprintf(dir, sizeof(dir), "/var/lib/boxstep");
    else if (data && data[0] == '/')
        snprintf(dir, sizeof(dir), "%s/boxstep", data);
    else if (home && home[0] == '/')
        snprintf(dir, sizeof(dir), "%s/.local/share/boxstep", home);
    else
        usage_error("an ordinary user's layers go in $XDG_DATA_HOME or "
                    "$HOME: set one, or BOXSTEP_LAYER_DIR");
    /* overlayfs's lowerdir separates its layers with ':' */
    if (strchr(dir, ':'))
        usage_error("%s: a layer directory with ':' in its path cannot be "
                    "named to overlayfs: set BOXSTEP_LAYER_DIR",
                    dir);
    layer_dir = dir;
}

/* One layer of --image: a directory, its path made absolute. */
void
parse_layer(const char *dir, struct image_layer *l)
{
    static const char hint[] = "build the default image with 'make rootfs', "
                               "or give --image DIR[:DIR...]";
    struct stat st;

    if (stat(dir, &st) == -1)
        die_hint(hint, "stat(\"%s\") for --image", dir);
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        die_hint(hint, "stat(\"%s\") for --image", dir);
    }
    if (!realpath(dir, l->path))
        die("realpath(\"%s\") for --image", dir);
    if (strchr(l->path, ':'))
        usage_error("--image %s: its path %s has a ':', which separates "
                    "overlayfs's layers",
                    dir, l->path);
    l->kept = read_keep_record(l->path, l);
}

/*
 * --image A:B:C, top layer first, as overlayfs's lowerdir lists them,
 * each a directory or an image of the store (one at most: its config
 * says how to run the container); --rootfs DIR is the same as
 * --image DIR. The bottom layer is the base
 * image: it is the rootfs the earlier steps' code attaches the volumes
 * to, and their mount points must be in it.
 */
void
parse_image(struct options *o)
{
    const char *spec = o->image ?: o->rootfs ?: default_rootfs();
    char *copy = strdup(spec), *save = NULL;
    int stores = 0;

    if (o->image && o->rootfs)
        usage_error("--image and --rootfs name the same thing: give one");
    parse_layer_dir(); /* a kept layer is known by its place there */
    if (!copy)
        die("strdup()");
    for (char *dir = strtok_r(copy, ":", &save); dir;
         dir = strtok_r(NULL, ":", &save)) {
        if (read_store_image(dir, o)) {
            if (++stores > 1)
                usage_error("--image %s: two images of the store, each with "
                            "a command and environment: give one",
                            spec);
            continue;
        }
        if (o->layer_count == LAYER_MAX)
            usage_error("--image %s: at most %d layers", spec, LAYER_MAX);
        parse_layer(dir, &o->layers[o->layer_count++]);
    }
    free(copy);
    if (o->layer_count == 0)
        usage_error("--image %s: no layer", spec);
    o->rootfs = o->layers[o->layer_count - 1].path;
}

/*
 * The container's root, host uid:gid, names its layers to overlayfs by
 * path: each directory down to LAYER_DIR must let it pass (stat(2)).
 * Said here, before anything is made: overlayfs would say only ENODATA.
 */
void
check_layer_dir_reachable(uid_t uid, gid_t gid)
{
    char path[PATH_MAX];
    struct stat st;
    bool passes;

    snprintf(path, sizeof(path), "%s", layer_dir);
    for (;;) {
        if (stat(path[0] ? path : "/", &st) == -1)
            die("stat(\"%s\")", path[0] ? path : "/");
        passes = st.st_uid == uid   ? st.st_mode & S_IXUSR
                 : st.st_gid == gid ? st.st_mode & S_IXGRP
                                    : st.st_mode & S_IXOTH;
        if (!passes) {
            errno = EACCES;
            die_hint("chmod o+x that directory, or give BOXSTEP_LAYER_DIR "
                     "one below directories all may pass through",
                     "%s, mode %04o: the container's root (host uid %u) "
                     "cannot pass through it to the layers in %s",
                     path[0] ? path : "/", (unsigned)(st.st_mode & 07777),
                     (unsigned)uid, layer_dir);
        }
        if (!path[0])
            return;
        *strrchr(path, '/') = '\0';
    }
}
