#!/bin/sh
# tools/image-example.sh [--hostile] DIR: the tutorial's example image,
# written as an OCI image layout in DIR (tools/oci-layout.sh), tag v1.
#
# Two layers. The lower one has etc/a, etc/b and data/x; the upper one
# deletes etc/b with a whiteout (.wh.b), replaces data/ with an opaque
# directory (.wh..wh..opq) holding only z, and adds etc/c. The plain
# tars stay beside the layout (DIR.src/lower.tar, upper.tar) to be read.
#
# With --hostile, the upper layer instead tries to write outside: a
# symlink evil -> /etc, then a file evil/planted through it.
#
# Every tar is made the same way each time (names sorted, times 0, owner
# root), so the digests the tutorial shows are the same on every run.
set -eu
hostile=false
[ "${1:-}" = --hostile ] && { hostile=true; shift; }
[ $# -eq 1 ] || { echo "usage: $0 [--hostile] DIR" >&2; exit 2; }
dir=$1 src=$1.src
umask 022
rm -rf "$dir" "$src"
mkdir -p "$src/lower/etc" "$src/lower/data" "$src/upper/etc" "$src/upper/data"

tar_of() { # DIR TAR [TAR OPTIONS...]
    d=$1 t=$2
    shift 2
    tar -C "$d" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
        --format=gnu "$@" -cf "$t" .
}

echo "from the lower layer" >"$src/lower/etc/a"
echo "deleted by the upper layer" >"$src/lower/etc/b"
echo "hidden by the opaque directory" >"$src/lower/data/x"
tar_of "$src/lower" "$src/lower.tar"

if $hostile; then
    ln -s /etc "$src/upper/evil"
    tar_of "$src/upper" "$src/upper.tar"
    echo "planted" >"$src/planted"
    tar -C "$src" --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu \
        --transform 's,^planted,./evil/planted,' -rf "$src/upper.tar" planted
else
    : >"$src/upper/etc/.wh.b"
    : >"$src/upper/data/.wh..wh..opq"
    echo "added by the upper layer" >"$src/upper/etc/c"
    echo "the only file of data/ now" >"$src/upper/data/z"
    tar_of "$src/upper" "$src/upper.tar"
fi
rm -rf "$src/lower" "$src/upper" "$src/planted"

"$(dirname "$0")/oci-layout.sh" "$dir" v1 \
    '{"Env":["PATH=/bin","GREETING=hello"],"Cmd":["/bin/sh"],"WorkingDir":"/data"}' \
    "$src/lower.tar" "$src/upper.tar"
