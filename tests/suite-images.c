/*
 * suite-images.c: real images, imported (build/image-import, make image;
 * issue 14). No step runs here: the importer is a tool of its own, and
 * what these tests check is what it writes into its store.
 *
 * Each check takes a mount namespace of its own, private, with a tmpfs
 * on WORK: the images the check builds, the store (BOXSTEP_IMAGE_DIR, so
 * that nothing is ever written to the machine's /var/lib) and the
 * overlays it mounts all go with the namespace when the check ends.
 *
 * The images are built here, with libarchive's writer: a test must be
 * able to say exactly which entries a layer has, hostile ones included,
 * and which digests the image claims. Where they are needed, controls
 * show that the observation can fail: the listing that must stay the
 * same changes when a layer is stored, the merged view differs without
 * the upper layer's whiteouts.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <nettle/sha2.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

#define WORK "/run/boxstep-images-test"
#define STORE WORK "/store"
#define OUTSIDE WORK "/outside"
#define MERGED WORK "/merged"
#define LISTING_MAX 65536

/* ---- building images ---- */

/* One entry of a layer: its type, path, and data, link target or xattr. */
struct ent {
    char type; /* f file, d dir, l symlink, h hard link, c/b device,
                  x dir with an overlay xattr */
    const char *path;
    const char *data; /* file content, link target */
    mode_t mode;
    size_t len; /* the content's length; 0: strlen(data) */
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

#define FILE_(p, d) \
    { \
        'f', p, d, 0644, 0 \
    }
#define DIR_(p) \
    { \
        'd', p, NULL, 0755, 0 \
    }
#define LINK_(p, t) \
    { \
        'l', p, t, 0777, 0 \
    }
#define HARD_(p, t) \
    { \
        'h', p, t, 0644, 0 \
    }

/* The entry's header for x; returns the length of its content. */
static size_t
set_entry(struct archive_entry *e, const struct ent *x)
{
    size_t len = x->type != 'f' ? 0 : x->len ? x->len : strlen(x->data);

    archive_entry_set_pathname(e, x->path);
    archive_entry_set_perm(e, x->mode);
    archive_entry_set_mtime(e, 1700000000, 0);
    archive_entry_set_size(e, len);
    switch (x->type) {
    case 'f':
        archive_entry_set_filetype(e, AE_IFREG);
        break;
    case 'l':
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_set_symlink(e, x->data);
        break;
    case 'h':
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_hardlink(e, x->data);
        break;
    case 'c':
    case 'b':
        archive_entry_set_filetype(e, x->type == 'c' ? AE_IFCHR : AE_IFBLK);
        archive_entry_set_rdev(e, makedev(1, 3));
        break;
    case 'x':
        archive_entry_xattr_add_entry(e, "trusted.overlay.redirect", "/etc", 4);
        /* fall through */
    default:
        archive_entry_set_filetype(e, AE_IFDIR);
    }
    return len;
}

/* A tar (pax) of these entries at path; gzipped when gz. */
static void
write_tar(const char *path, const struct ent *ents, size_t n, bool gz)
{
    struct archive *a = archive_write_new();
    struct archive_entry *e = archive_entry_new();

    archive_write_set_format_pax_restricted(a);
    /* No padding after the end: the same tar, gzipped or not. */
    archive_write_set_bytes_in_last_block(a, 1);
    if (gz)
        archive_write_add_filter_gzip(a);
    if (archive_write_open_filename(a, path) != ARCHIVE_OK)
        fail_check("archive_write_open_filename(%s): %s", path,
                   archive_error_string(a));
    for (size_t i = 0; i < n; i++) {
        size_t len;

        archive_entry_clear(e);
        len = set_entry(e, &ents[i]);
        if (archive_write_header(a, e) != ARCHIVE_OK ||
            (len && archive_write_data(a, ents[i].data, len) != (ssize_t)len))
            fail_check("writing %s: %s", ents[i].path, archive_error_string(a));
    }
    archive_entry_free(e);
    archive_write_close(a);
    archive_write_free(a);
}

/* "sha256:HEX" of a file, or of what the gzip file holds when gunzip. */
static void
digest_of(const char *path, bool gunzip, char *out)
{
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    struct sha256_ctx ctx;
    uint8_t buf[65536], d[SHA256_DIGEST_SIZE];
    la_ssize_t n;

    archive_read_support_filter_all(a);
    archive_read_support_format_raw(a);
    sha256_init(&ctx);
    if (gunzip) {
        if (archive_read_open_filename(a, path, sizeof(buf)) != ARCHIVE_OK ||
            archive_read_next_header(a, &e) != ARCHIVE_OK)
            fail_check("reading %s: %s", path, archive_error_string(a));
        while ((n = archive_read_data(a, buf, sizeof(buf))) > 0)
            sha256_update(&ctx, n, buf);
    } else {
        int fd = open(path, O_RDONLY);

        while ((n = read(fd, buf, sizeof(buf))) > 0)
            sha256_update(&ctx, n, buf);
        close(fd);
    }
    archive_read_free(a);
    sha256_digest(&ctx, sizeof(d), d);
    strcpy(out, "sha256:");
    for (size_t i = 0; i < sizeof(d); i++)
        sprintf(out + 7 + 2 * i, "%02x", d[i]);
}

static void
write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (!f || fputs(text, f) == EOF || fclose(f) == EOF)
        fail_check("writing %s: %s", path, strerror(errno));
}

/* Moves (or copies, for a tar made elsewhere) file to blobs/sha256/HEX. */
static void
store_blob(const char *dir, const char *file, const char *digest)
{
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, digest + 7);
    if (rename(file, path) == -1)
        fail_check("rename(%s, %s): %s", file, path, strerror(errno));
}

/* A JSON text as a blob; its digest and size into desc. */
static void
json_blob(const char *dir, const char *text, char *digest)
{
    char tmp[PATH_MAX];

    snprintf(tmp, sizeof(tmp), "%s/blob.tmp", dir);
    write_text(tmp, text);
    digest_of(tmp, false, digest);
    store_blob(dir, tmp, digest);
}

/* An image being built: its layer tars, and what the test may tamper. */
struct image {
    const char *dir; /* the OCI layout */
    const char *arch; /* the config's architecture; NULL: amd64 */
    size_t n;
    const struct ent *layers[4];
    size_t sizes[4];
    char blob[4][80]; /* each layer's blob digest, once written */
    char diff_id[4][80];
    int cut; /* 1 + the layer whose blob is cut short (corrupt) */
    bool wrong_diff_id; /* the config lies about the bottom layer's */
};

#define IMAGE1(d, a) \
    ((struct image){.dir = d, .n = 1, .layers = {a}, .sizes = {N_OF(a)}})
#define IMAGE2(d, a, b) \
    ((struct image){ \
        .dir = d, .n = 2, .layers = {a, b}, .sizes = {N_OF(a), N_OF(b)}})

/* The image's configuration, its diff_ids the JSON list ids. */
static void
config_json(const struct image *im, const char *ids, char *text, size_t len)
{
    snprintf(text, len,
             "{\"architecture\":\"%s\",\"os\":\"linux\",\"config\":{\"Env\":"
             "[\"PATH=/bin\",\"GREETING=hello world\"],\"Cmd\":[\"/bin/sh\","
             "\"-c\",\"echo hi\"],\"WorkingDir\":\"/data\",\"User\":\"1000\"},"
             "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[%s]}}",
             im->arch ?: "amd64", ids);
}

/*
 * Writes im as an OCI image layout, tag "t": each layer a blob (odd
 * ones, counting from the bottom, gzipped), a config, a manifest, an
 * index.
 */
static void
write_oci(struct image *im)
{
    char path[PATH_MAX], text[8192], layers[4096] = "", ids[2048] = "";
    char config[80], manifest[80];

    snprintf(path, sizeof(path), "%s/blobs/sha256", im->dir);
    for (char *c = path + 1; (c = strchr(c, '/')); c++) {
        *c = '\0';
        mkdir(path, 0755);
        *c = '/';
    }
    mkdir(path, 0755);
    for (size_t i = 0; i < im->n; i++) {
        bool gz = i % 2 == 1;

        snprintf(path, sizeof(path), "%s/layer.tmp", im->dir);
        write_tar(path, im->layers[i], im->sizes[i], gz);
        digest_of(path, gz, im->diff_id[i]);
        if (im->cut == (int)i + 1 && truncate(path, 60) == -1)
            fail_check("truncate(%s): %s", path, strerror(errno));
        digest_of(path, false, im->blob[i]);
        if (im->wrong_diff_id && i == 0)
            im->diff_id[0][70] = im->diff_id[0][70] == '0' ? '1' : '0';
        store_blob(im->dir, path, im->blob[i]);
        snprintf(layers + strlen(layers), sizeof(layers) - strlen(layers),
                 "%s{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar%s"
                 "\",\"digest\":\"%s\",\"size\":1}",
                 i ? "," : "", gz ? "+gzip" : "", im->blob[i]);
        snprintf(ids + strlen(ids), sizeof(ids) - strlen(ids), "%s\"%s\"",
                 i ? "," : "", im->diff_id[i]);
    }
    config_json(im, ids, text, sizeof(text));
    json_blob(im->dir, text, config);
    snprintf(text, sizeof(text),
             "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/"
             "vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":1},"
             "\"layers\":[%s]}",
             config, layers);
    json_blob(im->dir, text, manifest);
    snprintf(text, sizeof(text),
             "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/"
             "vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":1,"
             "\"annotations\":{\"org.opencontainers.image.ref.name\":\"t\"}}]}",
             manifest);
    snprintf(path, sizeof(path), "%s/index.json", im->dir);
    write_text(path, text);
    snprintf(path, sizeof(path), "%s/oci-layout", im->dir);
    write_text(path, "{\"imageLayoutVersion\":\"1.0.0\"}");
}

/* ---- the check's world ---- */

/* A mount namespace of the check's own, with a tmpfs on WORK. */
static void
enter_work(void)
{
    if (unshare(CLONE_NEWNS) == -1 ||
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
        fail_check("a private mount namespace: %s", strerror(errno));
    mkdir(WORK, 0755);
    if (mount("tmpfs", WORK, "tmpfs", 0, "mode=0755") == -1)
        fail_check("mount tmpfs on %s: %s", WORK, strerror(errno));
    mkdir(OUTSIDE, 0755);
    write_text(OUTSIDE "/secret", "host secret\n");
    mkdir(MERGED, 0755);
    setenv("BOXSTEP_IMAGE_DIR", STORE, 1);
}

static const char *
tool(void)
{
    static char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/image-import", build_dir());
    return path;
}

/* Imports oci:DIR:t as name; fails the check unless it succeeds. */
static void
import_ok(const char *dir, const char *name)
{
    char from[PATH_MAX];
    struct proc p;

    snprintf(from, sizeof(from), "oci:%s:t", dir);
    if (run(&p, ARGV((char *)tool(), "--name", (char *)name, from)) != 0)
        fail_check("importing %s: status %d:\n%s%s", from, p.status, p.out,
                   p.err);
}

/* Every entry under WORK, one a line: path, type and mode, owner, size,
 * xattrs count not included; sorted by nftw's walk of a tmpfs. */
static char listing_buf[LISTING_MAX];
static size_t listing_len;

static int
list_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)flag;
    (void)ftw;
    listing_len += snprintf(
        listing_buf + listing_len, sizeof(listing_buf) - listing_len,
        "%s %o %u:%u %lld\n", path, st->st_mode, st->st_uid, st->st_gid,
        S_ISDIR(st->st_mode) ? 0LL : (long long)st->st_size);
    return listing_len >= sizeof(listing_buf) - 1;
}

static char *
listing(void)
{
    listing_len = 0;
    listing_buf[0] = '\0';
    if (nftw(WORK, list_entry, 16, FTW_PHYS) != 0)
        fail_check("listing %s: too much, or %s", WORK, strerror(errno));
    return strdup(listing_buf);
}

/* An import that must fail: 125, "image-import: ", the needle in its
 * message, and no file made, changed or removed anywhere under WORK. */
static void
import_refused(const char *dir, const char *needle)
{
    char from[PATH_MAX], *before = listing(), *after;
    struct proc p;

    snprintf(from, sizeof(from), "oci:%s:t", dir);
    if (run(&p, ARGV((char *)tool(), "--name", "refused", from)) != 125 ||
        strncmp(p.err, "image-import: ", 14) != 0 || !strstr(p.err, needle))
        fail_check("%s: status %d, want 125 and 'image-import: ...%s...' in:"
                   "\n%s",
                   from, p.status, needle, p.err);
    after = listing();
    if (strcmp(before, after) != 0)
        fail_check("%s wrote under %s:\nbefore:\n%s\nafter:\n%s", from, WORK,
                   before, after);
    free(before);
    free(after);
}

/* ---- the merged view ---- */

static char view_buf[LISTING_MAX];
static size_t view_len, view_root;

/* One line per entry of the merged tree: path, type, mode, content. */
static int
view_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    char data[256] = "";
    ssize_t n = 0;
    int fd;

    (void)flag;
    (void)ftw;
    if (S_ISLNK(st->st_mode))
        n = readlink(path, data, sizeof(data) - 1);
    else if (S_ISREG(st->st_mode) && (fd = open(path, O_RDONLY)) >= 0) {
        n = read(fd, data, sizeof(data) - 1);
        close(fd);
    }
    data[n > 0 ? n : 0] = '\0';
    view_len +=
        snprintf(view_buf + view_len, sizeof(view_buf) - view_len, "%s %o %s\n",
                 path + view_root, st->st_mode, trim(data));
    return 0;
}

/* A tree as a view: a line per entry, paths from its root. */
static const char *
view_of(const char *dir)
{
    view_len = 0;
    view_root = strlen(dir);
    nftw(dir, view_entry, 16, FTW_PHYS);
    return view_buf;
}

/* The layers' overlay (read-only: lowerdir only), walked, unmounted. */
static const char *
merged_view(const char *lowerdir, bool userxattr)
{
    char opts[8192];

    snprintf(opts, sizeof(opts), "lowerdir=%s%s", lowerdir,
             userxattr ? ",userxattr" : "");
    if (mount("overlay", MERGED, "overlay", MS_RDONLY, opts) == -1)
        fail_check("mount overlay %s: %s", opts, strerror(errno));
    view_of(MERGED);
    umount2(MERGED, MNT_DETACH);
    return view_buf;
}

/* The image's layers file, as overlayfs's lowerdir: lines joined by ':'. */
static void
lowerdir_of(const char *name, char *out, size_t len)
{
    char path[PATH_MAX], line[PATH_MAX];
    FILE *f;

    snprintf(path, sizeof(path), STORE "/images/%s/layers", name);
    if (!(f = fopen(path, "r")))
        fail_check("%s: %s", path, strerror(errno));
    out[0] = '\0';
    while (fgets(line, sizeof(line), f))
        snprintf(out + strlen(out), len - strlen(out), "%s%s",
                 out[0] ? ":" : "", trim(line));
    fclose(f);
}

/* The lower layer: a base; the upper deletes etc/b with a whiteout and
 * replaces data/ with an opaque directory holding only z. */
static const struct ent lower[] = {
    DIR_("./"),
    DIR_("./etc"),
    FILE_("./etc/a", "A"),
    FILE_("./etc/b", "B"),
    HARD_("./etc/a2", "./etc/a"),
    DIR_("./data"),
    FILE_("./data/x", "X"),
    DIR_("./data/sub"),
    FILE_("./data/sub/deep", "D"),
    {'f', "./bin/tool", "T", 04755, 0},
    LINK_("./link", "/etc/a"),
};
static const struct ent upper[] = {
    FILE_("./etc/.wh.b", ""),         FILE_("./etc/c", "C"),  DIR_("./data"),
    FILE_("./data/.wh..wh..opq", ""), FILE_("./data/z", "Z"),
};

/* What a registry client shows for lower then upper (docker export). */
static const char registry_view[] = " 40755 \n"
                                    "/etc 40755 \n"
                                    "/etc/a 100644 A\n"
                                    "/etc/a2 100644 A\n"
                                    "/etc/c 100644 C\n"
                                    "/data 40755 \n"
                                    "/data/z 100644 Z\n"
                                    "/bin 40755 \n"
                                    "/bin/tool 104755 T\n"
                                    "/link 120777 /etc/a\n";

static int
by_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The text's lines, sorted: nftw's order is the directory's. */
static char *
sorted(const char *text)
{
    char *copy = strdup(text), *lines[1024], *out, *save, *l;
    size_t n = 0;

    for (l = strtok_r(copy, "\n", &save); l && n < N_OF(lines);
         l = strtok_r(NULL, "\n", &save))
        lines[n++] = l;
    qsort(lines, n, sizeof(lines[0]), by_line);
    out = calloc(1, strlen(text) + 2);
    for (size_t i = 0; i < n; i++)
        strcat(strcat(out, lines[i]), "\n");
    free(copy);
    return out;
}

static bool
same_lines(const char *a, const char *b)
{
    char *sa = sorted(a), *sb = sorted(b);
    bool same = strcmp(sa, sb) == 0;

    free(sa);
    free(sb);
    return same;
}

static int
merged_view_check(void *arg)
{
    struct image im = IMAGE2(WORK "/two", lower, upper);
    char lowerdir[8192], only_lower[PATH_MAX];
    const char *view;

    (void)arg;
    enter_work();
    write_oci(&im);
    import_ok(im.dir, "two");
    lowerdir_of("two", lowerdir, sizeof(lowerdir));
    /* Control: the lower layer alone has etc/b and data/x. */
    snprintf(only_lower, sizeof(only_lower), "%s", strchr(lowerdir, ':') + 1);
    view = view_of(only_lower);
    if (!strstr(view, "/etc/b ") || !strstr(view, "/data/x "))
        fail_check("the lower layer alone lacks etc/b or data/x:\n%s", view);
    /* Inside a user namespace (userxattr), as step 08 mounts it; as
     * host root mounts it (trusted.overlay.*). */
    for (int userxattr = 1; userxattr >= 0; userxattr--) {
        view = merged_view(lowerdir, userxattr);
        if (!same_lines(view, registry_view))
            fail_check("merged view%s:\n%swant:\n%s",
                       userxattr ? " with userxattr" : "", view, registry_view);
    }
    return 0;
}

/* The config, as step 08 will read it. */
static int
config_check(void *arg)
{
    struct image im = IMAGE2(WORK "/two", lower, upper);
    static const char want[] = "os=linux\narchitecture=amd64\n"
                               "env=PATH=/bin\nenv=GREETING=hello world\n"
                               "cmd=/bin/sh\ncmd=-c\ncmd=echo hi\n"
                               "workdir=/data\nuser=1000\n";
    char text[4096] = "";
    FILE *f;
    size_t n;

    (void)arg;
    enter_work();
    write_oci(&im);
    import_ok(im.dir, "two");
    if (!(f = fopen(STORE "/images/two/config", "r")))
        fail_check("no config: %s", strerror(errno));
    n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    if (strncmp(text, "source=oci:" WORK "/two:t\nmanifest=sha256:", 50) != 0 ||
        !strstr(text, want))
        fail_check("config:\n%swant source=, manifest=, then:\n%s", text, want);
    return 0;
}

/* ---- sharing ---- */

static int
count_layers(void)
{
    char *l = listing(), *c = l;
    int n = 0;

    while ((c = strstr(c, STORE "/layers/sha256-"))) {
        c += strlen(STORE "/layers/sha256-");
        if (strcspn(c, "/ ") == 64 && c[64] == ' ')
            n++;
    }
    free(l);
    return n;
}

static int
shared_layer_check(void *arg)
{
    static const struct ent other[] = {FILE_("./etc/other", "O")};
    struct image a = IMAGE2(WORK "/a", lower, upper);
    struct image b = IMAGE2(WORK "/b", lower, other);
    char la[8192], lb[8192], path[PATH_MAX];
    struct stat before, after;

    (void)arg;
    enter_work();
    write_oci(&a);
    write_oci(&b);
    import_ok(a.dir, "a");
    snprintf(path, sizeof(path), STORE "/layers/sha256-%s", a.diff_id[0] + 7);
    if (stat(path, &before) == -1)
        fail_check("%s: %s", path, strerror(errno));
    import_ok(b.dir, "b");
    lowerdir_of("a", la, sizeof(la));
    lowerdir_of("b", lb, sizeof(lb));
    if (stat(path, &after) == -1 || after.st_ino != before.st_ino)
        fail_check("the shared layer %s was unpacked again", path);
    if (strcmp(strchr(la, ':') + 1, path) != 0 ||
        strcmp(strchr(lb, ':') + 1, path) != 0)
        fail_check("the images' bottom layers: %s and %s, want %s", la, lb,
                   path);
    if (count_layers() != 3)
        fail_check("%d layers stored for 3 different ones", count_layers());
    /* Removing a leaves its own layer unused: --prune takes it alone. */
    answer(ARGV((char *)tool(), "--remove", "a"));
    answer(ARGV((char *)tool(), "--prune"));
    if (count_layers() != 2 || access(path, F_OK) == -1)
        fail_check("after --remove a and --prune: %d layers, %s %s",
                   count_layers(), path, access(path, F_OK) ? "gone" : "there");
    return 0;
}

/* A file's whole content, in memory (freed by the check's exit). */
static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    char *buf = malloc(1 << 20);

    if (!f || !buf)
        fail_check("%s: %s", path, strerror(errno));
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

/*
 * The same two layers as a docker archive (docker save's format:
 * manifest.json, the config named by its digest, LAYER/layer.tar) share
 * the OCI image's stored layers: they are keyed by diff_id, and the OCI
 * image's upper layer was gzipped, this one is not.
 */
static int
docker_archive_check(void *arg)
{
    struct image im = IMAGE2(WORK "/two", lower, upper);
    char ids[8192], config[4096], manifest[512], digest[80], name[80];
    size_t len0, len1;
    char *tar0, *tar1;
    struct proc p;

    (void)arg;
    enter_work();
    write_oci(&im);
    import_ok(im.dir, "two");
    write_tar(WORK "/l0.tar", lower, N_OF(lower), false);
    write_tar(WORK "/l1.tar", upper, N_OF(upper), false);
    tar0 = slurp(WORK "/l0.tar", &len0);
    tar1 = slurp(WORK "/l1.tar", &len1);
    snprintf(ids, sizeof(ids), "\"%s\",\"%s\"", im.diff_id[0], im.diff_id[1]);
    config_json(&im, ids, config, sizeof(config));
    write_text(WORK "/config.tmp", config);
    digest_of(WORK "/config.tmp", false, digest);
    snprintf(name, sizeof(name), "%s.json", digest + 7);
    snprintf(manifest, sizeof(manifest),
             "[{\"Config\":\"%s\",\"RepoTags\":[\"two:latest\"],"
             "\"Layers\":[\"l0/layer.tar\",\"l1/layer.tar\"]}]",
             name);
    const struct ent docker[] = {
        FILE_("manifest.json", manifest),
        FILE_(name, config),
        DIR_("l0"),
        {'f', "l0/layer.tar", tar0, 0644, len0},
        DIR_("l1"),
        {'f', "l1/layer.tar", tar1, 0644, len1},
    };
    write_tar(WORK "/two.tar", docker, N_OF(docker), false);
    if (run(&p, ARGV((char *)tool(), "docker-archive:" WORK "/two.tar")) != 0)
        fail_check("docker-archive: status %d:\n%s%s", p.status, p.out, p.err);
    if (count_layers() != 2 || !strstr(p.out, "image two-latest:"))
        fail_check("%d layers stored for the same 2; output:\n%s",
                   count_layers(), p.out);
    lowerdir_of("two-latest", ids, sizeof(ids));
    if (!same_lines(merged_view(ids, true), registry_view))
        fail_check("merged view:\n%swant:\n%s", view_buf, registry_view);
    return 0;
}

/* ---- hostile layers ---- */

/* A good image first, so that the store holds something to keep. */
static void
hostile(const struct ent *ents, size_t n, const char *needle)
{
    struct image good = IMAGE1(WORK "/good", lower);
    struct image bad = {
        .dir = WORK "/bad", .n = 1, .layers = {ents}, .sizes = {n}};

    enter_work();
    write_oci(&good);
    import_ok(good.dir, "good");
    write_oci(&bad);
    import_refused(bad.dir, needle);
}

#define HOSTILE(fn, needle, ...) \
    static int fn(void *arg) \
    { \
        static const struct ent ents[] = {__VA_ARGS__}; \
        (void)arg; \
        hostile(ents, N_OF(ents), needle); \
        return 0; \
    }

HOSTILE(dotdot_check, "\"..\" is refused", FILE_("../../escape", "x"))
HOSTILE(absolute_check, "an absolute path is refused",
        FILE_(OUTSIDE "/planted", "x"))
HOSTILE(symlink_parent_check, "RESOLVE_NO_SYMLINKS", LINK_("./evil", OUTSIDE),
        FILE_("./evil/planted", "x"))
HOSTILE(relative_symlink_parent_check, "RESOLVE_NO_SYMLINKS",
        LINK_("./evil", "../../../outside"), FILE_("./evil/planted", "x"))
HOSTILE(hardlink_out_check, "\"..\" is refused",
        HARD_("./secret", "../../../outside/secret"))
HOSTILE(hardlink_absolute_check, "an absolute path is refused",
        HARD_("./secret", OUTSIDE "/secret"))
HOSTILE(hardlink_through_symlink_check, "RESOLVE_NO_SYMLINKS",
        LINK_("./evil", OUTSIDE), HARD_("./secret", "./evil/secret"))
HOSTILE(symlink_replaces_dir_check, "RESOLVE_NO_SYMLINKS", DIR_("./etc"),
        LINK_("./etc", OUTSIDE), FILE_("./etc/planted", "x"))
HOSTILE(char_device_check, "a device node refused",
        {'c', "./dev/mem", NULL, 0666, 0})
HOSTILE(block_device_check, "a device node refused",
        {'b', "./dev/vda", NULL, 0666, 0})
HOSTILE(overlay_xattr_check, "overlayfs's own: refused",
        {'x', "./redirected", NULL, 0755, 0})
HOSTILE(whiteout_dotdot_check, "not a name", FILE_("./etc/.wh...", ""))

/* Control: the same listing sees a layer that is stored. */
static int
listing_control_check(void *arg)
{
    struct image im = IMAGE1(WORK "/good", lower);
    char *before, *after;

    (void)arg;
    enter_work();
    write_oci(&im);
    before = listing();
    import_ok(im.dir, "good");
    after = listing();
    if (strcmp(before, after) == 0 || !strstr(after, "/data/sub/deep "))
        fail_check("the listing did not see the layer stored:\n%s", after);
    free(before);
    free(after);
    return 0;
}

/* ---- broken images: 125, and nothing left ---- */

static void
two_layers(struct image *im)
{
    *im = IMAGE2(WORK "/two", lower, upper);
    enter_work();
    /* Something in the store already: what must stay as it was. */
    static const struct ent another[] = {FILE_("./another", "x")};
    struct image other = IMAGE1(WORK "/other", another);
    write_oci(&other);
    import_ok(other.dir, "other");
    write_oci(im);
}

static void
blob_path(const struct image *im, int i, char *path, size_t len)
{
    snprintf(path, len, "%s/blobs/sha256/%s", im->dir, im->blob[i] + 7);
}

/* The upper layer's blob swapped for another valid tar. */
static int
digest_mismatch_check(void *arg)
{
    static const struct ent evil[] = {FILE_("./etc/a", "not A")};
    struct image im;
    char path[PATH_MAX];

    (void)arg;
    two_layers(&im);
    blob_path(&im, 1, path, sizeof(path));
    write_tar(path, evil, N_OF(evil), true);
    import_refused(im.dir, "digest mismatch");
    return 0;
}

/* The config names another diff_id for a layer its blob matches: the
 * uncompressed tar's digest is checked too. */
static int
diff_id_mismatch_check(void *arg)
{
    struct image im;

    (void)arg;
    two_layers(&im);
    im.dir = WORK "/lie";
    im.wrong_diff_id = true;
    write_oci(&im);
    import_refused(im.dir, "the config says diff_id");
    return 0;
}

/*
 * The upper layer's blob swapped for the same tar, not gzipped: its
 * diff_id still matches, so only the manifest's digest of the blob can
 * tell. What the manifest names is what must be imported.
 */
static int
blob_digest_mismatch_check(void *arg)
{
    struct image im;
    char path[PATH_MAX];

    (void)arg;
    two_layers(&im);
    blob_path(&im, 1, path, sizeof(path));
    write_tar(path, upper, N_OF(upper), false);
    import_refused(im.dir, "the manifest says");
    return 0;
}

/* The upper layer's gzip cut short: the manifest names the short blob
 * by its own digest, so only the archive is wrong. */
static int
corrupt_archive_check(void *arg)
{
    struct image im;

    (void)arg;
    two_layers(&im);
    im.dir = WORK "/cut";
    im.cut = 2;
    write_oci(&im);
    import_refused(im.dir, "archive_read");
    return 0;
}

static int
missing_blob_check(void *arg)
{
    struct image im;
    char path[PATH_MAX];

    (void)arg;
    two_layers(&im);
    blob_path(&im, 0, path, sizeof(path));
    unlink(path);
    import_refused(im.dir, "missing");
    return 0;
}

static int
wrong_architecture_check(void *arg)
{
    struct image im;

    (void)arg;
    two_layers(&im);
    im = IMAGE2(WORK "/arm", lower, upper);
    im.arch = "arm64";
    write_oci(&im);
    import_refused(im.dir, "the image is for linux/arm64");
    return 0;
}

/* ---- make pull ---- */

/*
 * make pull, from a registry named by BOXSTEP_TEST_REGISTRY (an image
 * reference, e.g. localhost:5000/alpine:3.20; BOXSTEP_TEST_PULL_FLAGS
 * for skopeo, e.g. --src-tls-verify=false). The project needs no
 * internet, and the sandbox has no network: with no registry named the
 * test is skipped (tests/allowed-skips). It runs in the runner, with a
 * store of its own in a temporary directory, which it removes.
 */
static void
pull_test(void **state)
{
    const char *ref = getenv("BOXSTEP_TEST_REGISTRY");
    char store[] = "/tmp/boxstep-pull-XXXXXX", cmd[PATH_MAX * 2];
    int status;

    (void)state;
    if (!ref) {
        fprintf(stderr, "    no registry: set BOXSTEP_TEST_REGISTRY to an "
                        "image reference to test make pull\n");
        skip();
    }
    assert_non_null(mkdtemp(store));
    snprintf(
        cmd, sizeof(cmd),
        "BOXSTEP_IMAGE_DIR=%s/store make -C %s/.. --no-print-directory "
        "pull IMAGE='%s' PULL_FLAGS='%s' && test -s %s/store/images/*/layers",
        store, build_dir(), ref, getenv("BOXSTEP_TEST_PULL_FLAGS") ?: "",
        store);
    status = system(cmd);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", store);
    if (system(cmd) != 0)
        fprintf(stderr, "    could not remove %s\n", store);
    assert_int_equal(status, 0);
}

/* ---- cmocka ---- */

static int (*const checks[])(void *) = {
    merged_view_check,
    config_check,
    shared_layer_check,
    docker_archive_check,
    listing_control_check,
    dotdot_check,
    absolute_check,
    symlink_parent_check,
    relative_symlink_parent_check,
    hardlink_out_check,
    hardlink_absolute_check,
    hardlink_through_symlink_check,
    symlink_replaces_dir_check,
    char_device_check,
    block_device_check,
    overlay_xattr_check,
    whiteout_dotdot_check,
    digest_mismatch_check,
    blob_digest_mismatch_check,
    diff_id_mismatch_check,
    corrupt_archive_check,
    missing_blob_check,
    wrong_architecture_check,
};

static void
run_check(void **state)
{
    int (*check)(void *) = *(int (**)(void *))state;

    assert_int_equal(sandbox_run(check, NULL, 60, true), 0);
}

int
main(void)
{
    static const char *const names[] = {
        "image_merged_view__is_a_registry_clients",
        "image_config__is_written",
        "image_layer__shared_stored_once",
        "image_docker_archive__shares_the_oci_layers",
        "image_listing__sees_a_layer_stored",
        "hostile_dotdot__refused",
        "hostile_absolute_path__refused",
        "hostile_symlink_parent__refused",
        "hostile_relative_symlink_parent__refused",
        "hostile_hardlink_dotdot__refused",
        "hostile_hardlink_absolute__refused",
        "hostile_hardlink_through_symlink__refused",
        "hostile_symlink_replaces_dir__refused",
        "hostile_char_device__refused",
        "hostile_block_device__refused",
        "hostile_overlay_xattr__refused",
        "hostile_whiteout_dotdot__refused",
        "image_digest_mismatch__refused",
        "image_blob_digest_mismatch__refused",
        "image_diff_id_mismatch__refused",
        "image_corrupt_archive__refused",
        "image_missing_blob__refused",
        "image_wrong_architecture__refused",
    };
    struct CMUnitTest tests[N_OF(checks) + 1];

    if (geteuid() != 0) {
        fprintf(stderr, "images: the tests need root: sudo make test\n");
        return 1;
    }
    if (getenv("BOXSTEP_MATRIX"))
        return 0; /* no isolation property here */
    for (size_t i = 0; i < N_OF(checks); i++)
        tests[i] = (struct CMUnitTest){names[i], run_check, NULL, NULL,
                                       (void *)checks[i]};
    tests[N_OF(checks)] = (struct CMUnitTest){"image_pull__from_a_registry",
                                              pull_test, NULL, NULL, NULL};
    return _cmocka_run_group_tests("images", tests, N_OF(tests), NULL, NULL);
}
