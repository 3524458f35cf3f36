#!/bin/sh
# rootfs/build.sh BUSYBOX OUT: builds the container's root filesystem.
#
# BUSYBOX is a statically linked busybox (Debian's busybox-static); OUT is
# made anew each time (idempotent): busybox with a link for each applet,
# the files of rootfs/skel, and the empty directories the steps mount on
# (/mnt and /srv for volumes; the tests bring their probe in on /srv).
set -eu

busybox=$1
out=$2
skel=$(dirname "$0")/skel

if readelf -l "$busybox" 2>/dev/null | grep -q 'Requesting program interpreter'; then
    echo "rootfs: $busybox is dynamically linked; the container has no" \
        "libraries: install busybox-static" >&2
    exit 1
fi

tmp=$out.tmp
rm -rf "$tmp"
mkdir -p "$tmp"
for dir in bin sbin usr/bin usr/sbin etc proc sys dev tmp root mnt srv; do
    mkdir -p "$tmp/$dir"
done
chmod 1777 "$tmp/tmp"
chmod 0700 "$tmp/root"
cp "$busybox" "$tmp/bin/busybox"
for applet in $("$tmp/bin/busybox" --list-full); do
    [ "$applet" = bin/busybox ] || ln -sf /bin/busybox "$tmp/$applet"
done
cp -R "$skel/." "$tmp/"
rm -rf "$out"
mv "$tmp" "$out"
echo "rootfs: $out ($("$out/bin/busybox" --list | wc -l) applets)"
