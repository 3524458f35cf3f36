#!/bin/sh
# vm/fetch-kernel.sh VMDIR PINFILE: the lab VM's kernel, into VMDIR/kernel.
#
# Students' VMs run a recent distribution kernel, and this machine's own
# kernel has no modules (overlay, veth and 9p must be loadable), so the lab
# VM boots Debian's linux-image-amd64 from bookworm-backports (6.12: tmpfs
# with idmapped mounts and user xattrs). It is downloaded with apt-get
# under a private apt configuration whose sources list, package lists and
# cache all live in VMDIR/apt: the host's apt sources, its package state
# and /boot are never touched, and the package is unpacked (dpkg-deb -x),
# never installed.
#
# The version is pinned in PINFILE so every run boots the same kernel.
# Backports keeps only its newest kernel: when the pin has left the suite
# we warn, naming both, and take the suite's current one rather than fail.
#
# qemu boots an uncompressed ELF vmlinux through its PVH entry note, and
# faster than the bzImage under software emulation, where the emulated CPU
# would decompress 12 MB at each boot: measured here from qemu's start to
# the guest's job, 3.3-4.0 s with vmlinux, 4.0-4.6 s with vmlinuz (4 runs
# each, TCG, 2 vCPUs). Debian ships no vmlinux: it is cut out of vmlinuz
# once here, from the payload the boot header points at. Without a PVH
# note, run.sh boots vmlinuz instead.
#
# Makes, atomically (a half-done fetch leaves no usable VMDIR/kernel):
#   VMDIR/kernel/vmlinuz, vmlinux (when usable), config, lib/modules/...
#   VMDIR/kernel/release   the modules directory name (uname -r)
#   VMDIR/kernel/version   the package version: written last, make's stamp
set -eu

vmdir=$1
pinfile=$2
pin=$(grep -v '^[[:space:]]*#' "$pinfile" | grep -v '^[[:space:]]*$' | head -n 1)
mirror=${VM_APT_MIRROR:-http://deb.debian.org/debian}
suite=${VM_APT_SUITE:-bookworm-backports}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
meta=linux-image-amd64

say() { echo "vm: $*"; }
die() { echo "vm: $*" >&2; exit 1; }

[ -n "$pin" ] || die "no kernel version in $pinfile"

# ---- the private apt configuration ----
apt=$vmdir/apt
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs"
echo "deb [signed-by=$keyring] $mirror $suite main" >"$apt/sources.list"
aptdir=$(cd "$apt" && pwd)
# sourceparts=- hides /etc/apt/sources.list.d; the lists and the cache
# (pkgcache.bin too) go to our directory; as root, apt would otherwise
# hand the download to the _apt user, who cannot write into build/.
set -- -o Dir::Etc::sourcelist="$aptdir/sources.list" \
    -o Dir::Etc::sourceparts=- \
    -o Dir::State::Lists="$aptdir/lists" \
    -o Dir::Cache="$aptdir/cache" \
    -o APT::Get::List-Cleanup=0
[ "$(id -u)" != 0 ] || set -- "$@" -o APT::Sandbox::User=root

say "updating the package list of $suite (private apt configuration in $apt)"
apt-get -q "$@" update >"$apt/update.log" 2>&1 ||
    { cat "$apt/update.log" >&2; die "apt-get update of $suite failed"; }

versions=$(apt-cache "$@" madison "$meta" | awk -F'|' '{gsub(/ /, "", $2); print $2}')
[ -n "$versions" ] || die "$suite lists no $meta (mirror $mirror)"
version=$pin
if ! printf '%s\n' "$versions" | grep -qxF "$pin"; then
    version=$(printf '%s\n' "$versions" | head -n 1)
    echo "vm: WARNING: $meta $pin, pinned in $pinfile, has left $suite;" \
        "using the suite's current $version instead: put $version in $pinfile" >&2
fi

# The metapackage is empty: the kernel is in the package it depends on,
# "linux-image-6.12.NN+debNN-amd64 (= VERSION)".
depends=$(apt-cache "$@" show "$meta=$version" | sed -n 's/^Depends: *//p' | head -n 1)
image=$(echo "$depends" | sed -n 's/^\(linux-image-[^ ,]*\).*/\1/p')
image_version=$(echo "$depends" | sed -n 's/^linux-image-[^ ,]* *(= *\([^)]*\)).*/\1/p')
[ -n "$image" ] && [ -n "$image_version" ] ||
    die "cannot tell which kernel package $meta $version depends on ($depends)"

# apt-get download names the file so (an epoch's colon becomes %3a).
deb=${image}_$(echo "$image_version" | sed 's/:/%3a/')_amd64.deb
if [ -f "$apt/debs/$deb" ]; then
    say "already downloaded: $deb"
else
    say "downloading $image $image_version"
    (cd "$apt/debs" && apt-get -q "$@" download "$image=$image_version") ||
        die "apt-get download $image=$image_version failed"
    [ -f "$apt/debs/$deb" ] || die "apt-get download made no $apt/debs/$deb"
fi

# ---- unpack, next to the final directory, then swap it in ----
tmp=$vmdir/kernel.tmp
rm -rf "$tmp"
mkdir -p "$tmp"
say "unpacking $deb"
dpkg-deb -x "$apt/debs/$deb" "$tmp/pkg"
release=$(ls "$tmp/pkg/lib/modules" | head -n 1)
[ -n "$release" ] && [ -f "$tmp/pkg/boot/vmlinuz-$release" ] ||
    die "$deb holds no vmlinuz and modules"
mv "$tmp/pkg/boot/vmlinuz-$release" "$tmp/vmlinuz"
mv "$tmp/pkg/boot/config-$release" "$tmp/config"
mkdir -p "$tmp/lib/modules"
mv "$tmp/pkg/lib/modules/$release" "$tmp/lib/modules/$release"
rm -rf "$tmp/pkg"

# ---- vmlinux, from the bzImage payload ----
# The x86 boot header (Documentation/arch/x86/boot.rst) gives the payload
# exactly: setup_sects at 0x1f1, payload_offset and payload_length at
# 0x248 (protocol 2.08+), counted from the protected-mode code that starts
# after (setup_sects + 1) * 512 bytes. The payload's last 4 bytes are the
# uncompressed size (little endian), which checks the result. The magic at
# its start names the compressor; no guessing by scanning for one.
u8() { od -An -tu1 -j "$2" -N1 "$1" | tr -d ' '; }
u32() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }
extract_vmlinux() {
    img=$1 out=$2
    [ "$(od -An -c -j 514 -N4 "$img" | tr -d ' ')" = HdrS ] || return 1
    sects=$(u8 "$img" 497)
    [ "$sects" != 0 ] || sects=4
    start=$(((sects + 1) * 512 + $(u32 "$img" 584)))
    len=$(u32 "$img" 588)
    size=$(u32 "$img" $((start + len - 4)))
    magic=$(od -An -tx1 -j "$start" -N4 "$img" | tr -d ' ')
    case $magic in
    28b52ffd) unpack="zstd -dcq" ;;
    fd377a58) unpack="xz -dc" ;;
    1f8b*) unpack="gzip -dc" ;;
    *) echo "vm: unknown kernel compression (magic $magic)" >&2; return 1 ;;
    esac
    tail -c +$((start + 1)) "$img" | head -c $((len - 4)) | $unpack >"$out" ||
        return 1
    [ "$(wc -c <"$out")" = "$size" ] || return 1
    [ "$(od -An -c -N4 "$out" | tr -d ' ')" = 177ELF ] || return 1
    # qemu -kernel takes an ELF on x86 only through the PVH entry note
    # (Xen note type 18, XEN_ELFNOTE_PHYS32_ENTRY).
    readelf -n "$out" 2>/dev/null | grep -Eq 'Xen.*(\(0x0*12\)|PHYS32_ENTRY)'
}
if extract_vmlinux "$tmp/vmlinuz" "$tmp/vmlinux"; then
    say "vmlinux: $(($(wc -c <"$tmp/vmlinux") / 1048576)) MiB, uncompressed from vmlinuz"
else
    rm -f "$tmp/vmlinux"
    echo "vm: warning: no bootable vmlinux could be cut out of vmlinuz;" \
        "booting vmlinuz (about 0.6 s slower)" >&2
fi

echo "$release" >"$tmp/release"
echo "$image $image_version" >"$tmp/package"
echo "$version" >"$tmp/version"
rm -rf "$vmdir/kernel"
mv "$tmp" "$vmdir/kernel"
say "kernel $release ready in $vmdir/kernel"
