/*
 * reader.c: a layer's blob read through two libarchive readers, and its
 * two digests computed on the way.
 *
 * The first reader only decompresses (format "raw", every filter:
 * gzip, zstd, xz, or none); the second reads the tar from the first's
 * output. SHA-256 runs over the bytes each one is handed, so one pass
 * gives the blob's digest (the manifest's: of the file as stored) and
 * the diff_id (the configuration's: of the uncompressed tar). What the
 * tar reader leaves (the zero blocks after its end) is read and hashed
 * too. The caller compares both before the layer goes in.
 *
 * Man pages: libarchive(3), archive_read(3), archive_read_open(3);
 * nettle's manual (sha256).
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "boxstep.h"
#include "image.h"

/* An error of libarchive's: its text, and errno when it set one. */
void
fail_archive(struct archive *a, const char *call, const char *blob)
{
    int err = archive_errno(a);

    errno = err > 0 ? err : EILSEQ;
    fail("%s(%s): %s", call, blob, archive_error_string(a) ?: "corrupt");
}

/* libarchive's read callback for the blob: the file, hashed. */
static la_ssize_t
read_blob(struct archive *a, void *arg, const void **buf)
{
    struct reader *r = arg;
    ssize_t n = read(r->fd, r->buf, sizeof(r->buf));

    if (n < 0) {
        archive_set_error(a, errno, "read: %s", strerror(errno));
        return -1;
    }
    sha256_update(&r->blob_sha, n, (const uint8_t *)r->buf);
    *buf = r->buf;
    return n;
}

/* The tar reader's callback: decompressed bytes from raw, hashed. */
static la_ssize_t
read_tar(struct archive *a, void *arg, const void **buf)
{
    struct reader *r = arg;
    la_ssize_t n = archive_read_data(r->raw, r->tar_buf, sizeof(r->tar_buf));

    if (n < 0) {
        archive_set_error(a, archive_errno(r->raw), "%s",
                          archive_error_string(r->raw));
        return -1;
    }
    sha256_update(&r->tar_sha, n, (const uint8_t *)r->tar_buf);
    *buf = r->tar_buf;
    return n;
}

/* The digest, "sha256:HEX", into out (DIGEST_MAX bytes). */
void
hex_digest(struct sha256_ctx *ctx, char *out)
{
    uint8_t d[SHA256_DIGEST_SIZE];

    sha256_digest(ctx, sizeof(d), d);
    strcpy(out, "sha256:");
    for (size_t i = 0; i < sizeof(d); i++)
        sprintf(out + 7 + 2 * i, "%02x", d[i]);
}

/* Opens the blob at fd (blob: its name) through both readers. */
void
open_reader(struct reader *r, int fd, const char *blob)
{
    struct archive_entry *e;

    r->name = blob;
    r->fd = fd;
    sha256_init(&r->blob_sha);
    sha256_init(&r->tar_sha);
    r->raw = archive_read_new();
    archive_read_support_filter_all(r->raw);
    archive_read_support_format_raw(r->raw);
    if (archive_read_open(r->raw, r, NULL, read_blob, NULL) != ARCHIVE_OK ||
        archive_read_next_header(r->raw, &e) != ARCHIVE_OK)
        fail_archive(r->raw, "archive_read_open", blob);
    r->tar = archive_read_new();
    archive_read_support_format_tar(r->tar);
    if (archive_read_open(r->tar, r, NULL, read_tar, NULL) != ARCHIVE_OK)
        fail_archive(r->tar, "archive_read_open", blob);
}

/* Reads what the tar reader left (padding) and closes both; out gets
 * the digests. */
void
close_reader(struct reader *r, struct unpacked *out)
{
    const void *buf;

    while (read_tar(r->tar, r, &buf) > 0)
        ;
    while (read_blob(r->raw, r, &buf) > 0)
        ;
    hex_digest(&r->blob_sha, out->blob_digest);
    hex_digest(&r->tar_sha, out->diff_id);
    archive_read_free(r->tar);
    archive_read_free(r->raw);
}
