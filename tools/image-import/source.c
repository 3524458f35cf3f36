/*
 * source.c: what an image is made of, read from an OCI image layout or a
 * docker archive ("docker save"), and its configuration written down.
 *
 * An OCI image layout (the OCI image spec's image-layout.md) is a
 * directory: index.json lists manifests (by tag, in the annotation
 * org.opencontainers.image.ref.name); blobs/sha256/HEX holds every blob
 * under its own digest. A manifest names a configuration blob and the
 * layer blobs, bottom first; an index may instead name one manifest per
 * platform. Every blob is checked against the digest that names it
 * before it is believed, the layers while they are unpacked (unpack.c).
 *
 * A docker archive is a tar: manifest.json names the configuration file
 * and the layers' files inside it. It is unpacked first, with the same
 * care as a layer, into the store's tmp directory (removed at exit);
 * its files are opened beneath that directory only.
 *
 * Man pages: openat2(2); jansson's documentation (json_load*).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "boxstep.h"
#include "image.h"

#define OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define REF_NAME "org.opencontainers.image.ref.name"

/*
 * Opens path beneath dir, a directory of the image's: a symlink in it
 * may lead elsewhere in the image, never out of it (RESOLVE_BENEATH).
 */
static int
open_in(int dir, const char *path, const char *what)
{
    struct open_how how = {
        .flags = O_RDONLY | O_CLOEXEC,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    int fd = syscall(SYS_openat2, dir, path, &how, sizeof(how));

    if (fd == -1 && errno == ENOENT)
        fail("%s: missing: openat2(\"%s\")", what, path);
    if (fd == -1)
        fail("%s: openat2(\"%s\", RESOLVE_BENEATH)", what, path);
    return fd;
}

/* "sha256:HEX", 64 lowercase hex digits: the only digest taken. */
static const char *
digest_hex(const char *digest, const char *what)
{
    const char *hex = digest ? digest + 7 : "";

    if (!digest || strncmp(digest, "sha256:", 7) != 0 || strlen(hex) != 64 ||
        strspn(hex, "0123456789abcdef") != 64) {
        errno = EINVAL;
        fail("%s: digest \"%s\": not sha256:HEX", what, digest ?: "");
    }
    return hex;
}

/* The SHA-256 of what fd holds, as "sha256:HEX"; fd is rewound. */
static void
fd_digest(int fd, char *digest, const char *what)
{
    struct sha256_ctx ctx;
    uint8_t buf[65536];
    ssize_t n;

    sha256_init(&ctx);
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        sha256_update(&ctx, n, buf);
    if (n < 0 || lseek(fd, 0, SEEK_SET) == -1)
        fail("%s: read", what);
    hex_digest(&ctx, digest);
}

/* A JSON file open at fd, parsed; fd closed. */
static json_t *
load_json(int fd, const char *what)
{
    json_error_t err;
    json_t *j = json_loadfd(fd, 0, &err);

    close(fd);
    if (!j || (!json_is_object(j) && !json_is_array(j))) {
        errno = EINVAL;
        fail("%s: json_loadfd: line %d: %s", what, err.line,
             j ? "not an object" : err.text);
    }
    return j;
}

/* A blob of an OCI layout, its digest checked; its fd, rewound. */
static int
open_blob(int dir, const char *digest, const char *what)
{
    char path[128], actual[DIGEST_MAX];
    int fd;

    snprintf(path, sizeof(path), "blobs/sha256/%s", digest_hex(digest, what));
    fd = open_in(dir, path, what);
    fd_digest(fd, actual, what);
    if (strcmp(actual, digest) != 0) {
        errno = EBADMSG;
        fail("%s: blob %s: its content's digest is %s", what, digest, actual);
    }
    return fd;
}

static const char *
get_string(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* The platform this machine runs, in the OCI's words (GOARCH's). */
static const char *
host_architecture(void)
{
    static const char *const names[][2] = {
        {"x86_64", "amd64"}, {"aarch64", "arm64"},   {"i686", "386"},
        {"armv7l", "arm"},   {"riscv64", "riscv64"}, {"ppc64le", "ppc64le"},
        {"s390x", "s390x"},
    };
    static struct utsname u;

    uname(&u);
    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        if (strcmp(u.machine, names[i][0]) == 0)
            return names[i][1];
    return u.machine;
}

/* Whether an index's entry is for this machine, linux/ARCH; an entry
 * without a platform is for every one. */
static bool
for_this_platform(json_t *desc)
{
    json_t *p = json_object_get(desc, "platform");

    return !p || (strcmp(get_string(p, "os") ?: "", "linux") == 0 &&
                  strcmp(get_string(p, "architecture") ?: "",
                         host_architecture()) == 0);
}

/* An index's entry for this platform; or fail, naming the ones it has. */
static json_t *
pick_platform(json_t *manifests, const char *what)
{
    char seen[512] = "";
    json_t *m, *p;
    size_t i;

    json_array_foreach(manifests, i, m)
    {
        if (for_this_platform(m))
            return m;
        p = json_object_get(m, "platform");
        snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), " %s/%s",
                 get_string(p, "os") ?: "?",
                 get_string(p, "architecture") ?: "?");
    }
    errno = ENOENT;
    fail("%s: no manifest for linux/%s; the image has:%s", what,
         host_architecture(), seen[0] ? seen : " none");
}

/* The index.json entry for tag, or its only one. */
static json_t *
pick_tag(json_t *manifests, const char *tag, const char *what)
{
    json_t *m, *found = NULL;
    size_t i;

    json_array_foreach(manifests, i, m)
    {
        const char *name =
            get_string(json_object_get(m, "annotations"), REF_NAME);

        if (tag ? name && strcmp(name, tag) == 0
                : json_array_size(manifests) == 1)
            found = m;
    }
    if (!found) {
        errno = ENOENT;
        fail("%s: %s", what,
             tag ? "no manifest of that tag in index.json"
                 : "index.json lists several images: name one, oci:DIR:TAG");
    }
    return found;
}

/* The config's diff_ids: one per layer, or the image is refused. */
static json_t *
diff_ids(const struct image_src *img, size_t n_layers)
{
    json_t *ids =
        json_object_get(json_object_get(img->config, "rootfs"), "diff_ids");

    if (json_array_size(ids) != n_layers || n_layers > LAYERS_MAX) {
        errno = EINVAL;
        fail("%s: %zu layers, %zu diff_ids in the config (at most %d)",
             img->source, n_layers, json_array_size(ids), LAYERS_MAX);
    }
    return ids;
}

/* The next layer: its file beneath dir, its digests (blob_digest ""
 * when its name is none), its diff_id from the config. */
static void
add_layer(struct image_src *img, int dir, const char *path,
          const char *blob_digest, json_t *ids, size_t n)
{
    size_t i = img->n_layers++;
    struct layer_src *s = &img->layers[i];
    char name[sizeof(s->blob)];

    snprintf(name, sizeof(name), "%s: layer %zu of %zu (%s)", img->source,
             i + 1, n, path);
    memcpy(s->blob, name, sizeof(name));
    snprintf(s->blob_digest, sizeof(s->blob_digest), "%s", blob_digest);
    snprintf(s->diff_id, sizeof(s->diff_id), "%s",
             json_string_value(json_array_get(ids, i)) ?: "");
    digest_hex(s->diff_id, s->blob);
    s->fd = open_in(dir, path, s->blob);
}

/* An OCI manifest's layers: each a blob named by its digest. */
static void
add_oci_layers(struct image_src *img, json_t *layers, int dir)
{
    json_t *ids = diff_ids(img, json_array_size(layers)), *l;
    char path[128];
    size_t i;

    json_array_foreach(layers, i, l)
    {
        const char *digest = get_string(l, "digest");

        snprintf(path, sizeof(path), "blobs/sha256/%s",
                 digest_hex(digest, img->source));
        add_layer(img, dir, path, digest, ids, json_array_size(layers));
    }
}

/* A name for the image from where it came: letters, digits, . _ - */
static void
set_default_name(struct image_src *img, const char *base, const char *tag)
{
    const char *slash = strrchr(base, '/');
    char *c;

    snprintf(img->default_name, sizeof(img->default_name), "%s%s%s",
             slash && slash[1] ? slash + 1 : base, tag ? "-" : "", tag ?: "");
    for (c = img->default_name; *c; c++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                    "0123456789._-",
                    *c))
            *c = '-';
    if (img->default_name[0] == '.')
        img->default_name[0] = '_';
}

/*
 * oci:DIR[:TAG]: index.json, then (through a per-platform index) the
 * manifest, its config and its layers. held is the document desc points
 * into, freed once desc is read.
 */
void
read_oci(const char *path, const char *tag, struct image_src *img)
{
    int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    json_t *held, *desc, *manifest;
    const char *type;

    if (dir == -1)
        fail("oci:%s: open", path);
    snprintf(img->source, sizeof(img->source), "oci:%s%s%s", path,
             tag ? ":" : "", tag ?: "");
    held = load_json(open_in(dir, "index.json", img->source), img->source);
    desc = pick_tag(json_object_get(held, "manifests"), tag, img->source);
    while ((type = get_string(desc, "mediaType")) &&
           (strcmp(type, OCI_INDEX) == 0 || strcmp(type, DOCKER_LIST) == 0)) {
        json_t *sub =
            load_json(open_blob(dir, get_string(desc, "digest"), img->source),
                      img->source);

        json_decref(held);
        held = sub;
        desc = pick_platform(json_object_get(sub, "manifests"), img->source);
    }
    if (!for_this_platform(desc))
        pick_platform(json_object_get(held, "manifests"), img->source);
    snprintf(img->manifest, sizeof(img->manifest), "%s",
             get_string(desc, "digest") ?: "");
    json_decref(held);
    manifest =
        load_json(open_blob(dir, img->manifest, img->source), img->source);
    img->config = load_json(
        open_blob(dir,
                  get_string(json_object_get(manifest, "config"), "digest"),
                  img->source),
        img->source);
    add_oci_layers(img, json_object_get(manifest, "layers"), dir);
    json_decref(manifest);
    close(dir);
    set_default_name(img, path, tag);
}

/* A docker archive's file named by its digest ("HEX.json",
 * "blobs/sha256/HEX"): the digest, or "" when the name is not one. */
static void
digest_of_name(const char *name, char *digest)
{
    const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
    size_t hex = strspn(base, "0123456789abcdef");

    digest[0] = '\0';
    if (hex == 64 && (!base[64] || strcmp(base + 64, ".json") == 0))
        snprintf(digest, DIGEST_MAX, "sha256:%.64s", base);
}

/*
 * docker-archive:FILE: unpacked into the store's tmp directory, then
 * manifest.json's first image: its config (checked against its name when
 * that is a digest) and its layers.
 */
void
read_docker_archive(const char *file, struct image_src *img)
{
    char tmp[PATH_MAX], digest[DIGEST_MAX], actual[DIGEST_MAX];
    struct unpacked ignored;
    json_t *doc, *manifest, *layers, *l, *ids;
    const char *config;
    int fd = open(file, O_RDONLY | O_CLOEXEC), dir;
    size_t i;

    snprintf(img->source, sizeof(img->source), "docker-archive:%s", file);
    if (fd == -1)
        fail("%s: open", img->source);
    store_tmpdir("archive", tmp, sizeof(tmp));
    unpack(fd, img->source, tmp, false, &ignored);
    close(fd);
    dir = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    doc = load_json(open_in(dir, "manifest.json", img->source), img->source);
    manifest = json_array_get(doc, 0);
    config = get_string(manifest, "Config");
    layers = json_object_get(manifest, "Layers");
    if (!config || !json_is_array(layers)) {
        errno = EINVAL;
        fail("%s: manifest.json: no Config and Layers", img->source);
    }
    fd = open_in(dir, config, img->source);
    digest_of_name(config, digest);
    fd_digest(fd, actual, img->source);
    if (digest[0] && strcmp(digest, actual) != 0) {
        errno = EBADMSG;
        fail("%s: %s: its content's digest is %s", img->source, config, actual);
    }
    snprintf(img->manifest, sizeof(img->manifest), "%s", actual);
    img->config = load_json(fd, img->source);
    ids = diff_ids(img, json_array_size(layers));
    json_array_foreach(layers, i, l)
    {
        const char *path = json_string_value(l) ?: "";

        digest_of_name(path, digest);
        add_layer(img, dir, path, digest, ids, json_array_size(layers));
    }
    close(dir);
    set_default_name(img,
                     json_string_value(json_array_get(
                         json_object_get(manifest, "RepoTags"), 0))
                         ?: file,
                     NULL);
    json_decref(doc);
}

/* The config says linux and this machine's architecture, or no import. */
void
check_platform(const struct image_src *img)
{
    const char *os = get_string(img->config, "os");
    const char *arch = get_string(img->config, "architecture");

    if (!os || !arch || strcmp(os, "linux") != 0 ||
        strcmp(arch, host_architecture()) != 0) {
        errno = ENOEXEC;
        fail("%s: the image is for %s/%s, this machine is linux/%s",
             img->source, os ?: "?", arch ?: "?", host_architecture());
    }
}

/* key=value, one line; a value with a newline cannot be written. */
static void
put(FILE *f, const char *key, const char *value, const char *what)
{
    if (!value)
        return;
    if (strchr(value, '\n')) {
        errno = EINVAL;
        fail("%s: config %s: a value with a newline", what, key);
    }
    fprintf(f, "%s=%s\n", key, value);
}

static void
put_list(FILE *f, const char *key, json_t *list, const char *what)
{
    json_t *v;
    size_t i;

    json_array_foreach(list, i, v) put(f, key, json_string_value(v), what);
}

/* The config file of the image directory: see image.h. */
void
write_config(const char *path, const struct image_src *img)
{
    json_t *c = json_object_get(img->config, "config");
    FILE *f = fopen(path, "wx");

    if (!f)
        fail("fopen(\"%s\")", path);
    put(f, "source", img->source, img->source);
    put(f, "manifest", img->manifest, img->source);
    put(f, "os", get_string(img->config, "os"), img->source);
    put(f, "architecture", get_string(img->config, "architecture"),
        img->source);
    put_list(f, "env", json_object_get(c, "Env"), img->source);
    put_list(f, "entrypoint", json_object_get(c, "Entrypoint"), img->source);
    put_list(f, "cmd", json_object_get(c, "Cmd"), img->source);
    put(f, "workdir", get_string(c, "WorkingDir"), img->source);
    put(f, "user", get_string(c, "User"), img->source);
    if (fclose(f) == EOF)
        fail("fclose(\"%s\")", path);
}
