#!/bin/sh
# tools/shift-rootfs.sh DIR [BASE]: makes DIR-shifted, a copy of the root
# filesystem DIR whose every owner is shifted by BASE (default 1048576,
# the first range of boxstep's pool): uid 0 becomes 1048576, uid 1000
# becomes 1049576. `sudo make rootfs-shifted` runs it on build/rootfs.
#
# Step 06 uses the copy where the rootfs cannot be idmapped (a kernel
# before 5.12, a filesystem such as 9p or NFS) or with --no-idmap: a
# container whose root is mapped to BASE then owns the copy's files as
# the idmapped mount would have shown them. Every container without an
# idmapped rootfs shares that one range. Made anew each time, in a
# temporary directory renamed when complete; needs root (chown).
set -eu

dir=${1%/}
base=${2:-1048576}
out=$dir-shifted
tmp=$out.tmp

[ -d "$dir" ] || { echo "shift-rootfs: $dir is not a directory" >&2; exit 1; }
[ "$(id -u)" = 0 ] || {
    echo "shift-rootfs: chown needs root: run 'sudo make rootfs-shifted'" >&2
    exit 1
}
rm -rf "$tmp"
cp -a "$dir" "$tmp"
# chown -h: a symbolic link's own owner, never its target's. chown clears
# the setuid and setgid bits, so each file's mode is set again after it.
find "$tmp" -exec stat -c '%u %g %a %n' {} + |
    while read -r uid gid mode path; do
        chown -h "$((uid + base)):$((gid + base))" "$path"
        [ -L "$path" ] || chmod "$mode" "$path"
    done
rm -rf "$out"
mv "$tmp" "$out"
echo "rootfs-shifted: $out (owners shifted by $base)"
