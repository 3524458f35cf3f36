/*
 * image.h: boxstep's image importer (build/image-import, make image).
 *
 * THE IMAGE FORMAT boxstep reads (step 08's --image DIR, from issue 14).
 * Everything lives in one store, STORE:
 *
 *   STORE = $BOXSTEP_IMAGE_DIR, else /var/lib/boxstep-images for root,
 *           else $XDG_DATA_HOME/boxstep-images or
 *           ~/.local/share/boxstep-images. Mode 0700: its layers hold
 *           setuid files and file capabilities as data, which no host
 *           user may reach and run. Not inside step 08's layer
 *           directory (/var/lib/boxstep): its sweep removes every entry
 *           there that no container claims.
 *
 *   STORE/layers/sha256-HEX/   one layer, unpacked: a plain directory
 *           tree, the root of what the layer adds. HEX is the layer's
 *           diff_id: the SHA-256 of its uncompressed tar, as the image's
 *           configuration lists it (rootfs.diff_ids), so a layer shipped
 *           gzipped in one image and plain in another is stored once.
 *           Whiteouts are overlayfs's: a deleted NAME is a character
 *           device 0/0; an opaque directory carries both
 *           trusted.overlay.opaque=y (an overlay mounted by host root)
 *           and user.overlay.opaque=y (one mounted with "userxattr", as
 *           step 08 mounts it inside the container's user namespace).
 *           Never written after its rename into place. --prune
 *           removes it once no image lists it and no running step 08
 *           container names it in its state record (lower=PATH, in
 *           /run/boxstep: shared/state.c).
 *
 *   STORE/images/NAME/layers   the image's layers: one absolute path a
 *           line (STORE/layers/sha256-HEX), TOP FIRST, the order of
 *           --image A:B:C and of overlayfs's lowerdir. No path holds a
 *           ':' (the store's path is refused with one).
 *
 *   STORE/images/NAME/config   key=value lines, in this order, each key
 *           at most once except the lists, which repeat their key once
 *           per element, in order (an absent key: an empty list or no
 *           value):
 *             source=oci:DIR[:TAG] or docker-archive:FILE
 *             manifest=sha256:HEX   (docker-archive: its config's digest)
 *             os=linux
 *             architecture=amd64
 *             env=NAME=VALUE        (repeated) the environment
 *             entrypoint=ARG        (repeated) the program and its first
 *                                   arguments
 *             cmd=ARG               (repeated) the default arguments;
 *                                   a COMMAND given replaces these only
 *             workdir=/PATH         the working directory
 *             user=UID[:GID] or a name
 *           A value is the rest of the line after the first '=', with no
 *           newline in it (an image whose config has one is refused).
 *
 *   STORE/tmp/   layers and images being made; renamed into place when
 *           complete, so a failed import leaves nothing half-made. What
 *           a killed import left there, the next run removes.
 *   STORE/lock   held (fcntl) for a whole import, list, removal or prune.
 *
 * An image directory is thus told apart from a plain root filesystem by
 * its "layers" file.
 */
#ifndef IMAGE_H
#define IMAGE_H

#include <archive.h>
#include <jansson.h>
#include <limits.h>
#include <nettle/sha2.h>
#include <stdbool.h>
#include <stddef.h>

#define DIGEST_MAX 72 /* "sha256:" + 64 hex digits + '\0' */
#define LAYERS_MAX 128

/* One layer of an image being imported: where its blob is, what it is. */
struct layer_src {
    int fd; /* the (maybe compressed) tar file, open */
    char blob[PATH_MAX]; /* its name, for messages */
    char blob_digest[DIGEST_MAX]; /* "sha256:HEX", or "" when unknown */
    char diff_id[DIGEST_MAX]; /* "sha256:HEX" of the uncompressed tar */
};

/* An image read from its source, before it is stored. */
struct image_src {
    char source[PATH_MAX]; /* as given: oci:DIR:TAG */
    char manifest[DIGEST_MAX];
    char default_name[NAME_MAX];
    json_t *config; /* the image's configuration (OCI image config) */
    size_t n_layers;
    struct layer_src layers[LAYERS_MAX]; /* bottom first, as manifests */
};

/* main.c: the store. */
extern char store_dir[PATH_MAX];
int store_tmpdir(const char *what, char *path, size_t len);
void remove_store_tree(const char *path);

/* source.c: reading an OCI layout or a docker archive. */
void read_oci(const char *dir, const char *tag, struct image_src *img);
void read_docker_archive(const char *file, struct image_src *img);
void check_platform(const struct image_src *img);
void write_config(const char *path, const struct image_src *img);

/* What reading a layer's blob found: its two digests. */
struct unpacked {
    char blob_digest[DIGEST_MAX]; /* of the file as read */
    char diff_id[DIGEST_MAX]; /* of the tar stream, decompressed */
};

/* reader.c: a blob read through two libarchive readers, hashed. */
#define BLOCK 65536

struct reader {
    const char *name; /* the blob, for messages */
    int fd;
    struct archive *raw; /* the blob, decompressed */
    struct archive *tar; /* the tar read from raw */
    struct sha256_ctx blob_sha, tar_sha;
    char buf[BLOCK], tar_buf[BLOCK];
};

void open_reader(struct reader *r, int fd, const char *blob);
void close_reader(struct reader *r, struct unpacked *out);
void hex_digest(struct sha256_ctx *ctx, char *out);
__attribute__((noreturn)) void fail_archive(struct archive *a, const char *call,
                                            const char *blob);

/* unpack.c: unpacking one archive beneath a directory, safely. */

void unpack(int fd, const char *archive, const char *dir, bool whiteouts,
            struct unpacked *out);

/* Errors: "image-import: WHAT: ERRNAME (message)", exit 125. */
__attribute__((noreturn, format(printf, 1, 2))) void fail(const char *fmt, ...);

#endif
