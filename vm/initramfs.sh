#!/bin/sh
# vm/initramfs.sh KERNELDIR BUSYBOX INIT OUT [ELF...]: the lab VM's initramfs.
#
# The guest has no disk, no compiler and no package manager: the project
# (steps, tests, build/rootfs) comes in over 9p at run time, and this
# archive carries only what must exist before that and what the dynamic
# test binaries need to start:
#   - busybox (static) and a link per applet: the guest's whole userland;
#   - INIT, the guest's /init (vm/init);
#   - the shared libraries that `ldd ELF...` lists (glibc and libcmocka
#     for the suites; whatever DEBUG=1 or SANITIZE=1 steps link), at the
#     paths ldd names;
#   - the kernel modules in $VM_MODULES that the kernel does not have
#     built in (modules.builtin, made from the package's config, says
#     which), with every module they depend on (their .modinfo says
#     which), decompressed here once rather than by the emulated CPU at
#     each boot, and a modules.dep made by busybox depmod, since kmod may
#     be missing on the host and is not in the guest;
#   - /etc: passwd and group with root and nobody (the suites drop to
#     uid 65534), subuid and subgid (empty), and newuidmap/newgidmap with
#     a user and subordinate ids when the host has them (see ROOTLESS).
# It is not compressed: 7 MB raw or 3 MB gzipped made no measurable
# difference to the boot (2.6-3.8 s either way under TCG), so one step less.
set -eu

kdir=$1 busybox=$2 init=$3 out=$4
shift 4
release=$(cat "$kdir/release")
kmods=$kdir/lib/modules/$release
stage=$out.d

die() { echo "vm: $*" >&2; exit 1; }

rm -rf "$stage"
mkdir -p "$stage"
for d in bin sbin usr/bin usr/sbin etc proc sys dev tmp run root newroot \
    lib/modules/"$release" lib64 etc/boxstep-vm; do
    mkdir -p "$stage/$d"
done
chmod 1777 "$stage/tmp"
chmod 0700 "$stage/root"

# ---- busybox and its applets ----
if readelf -l "$busybox" 2>/dev/null | grep -q 'program interpreter'; then
    die "$busybox is dynamically linked: install busybox-static"
fi
cp "$busybox" "$stage/bin/busybox"
for applet in $("$busybox" --list-full); do
    [ "$applet" = bin/busybox ] || ln -sf /bin/busybox "$stage/$applet"
done
cp "$init" "$stage/init"
chmod 0755 "$stage/init"

# ---- /etc ----
cat >"$stage/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$stage/etc/group" <<'EOF'
root:x:0:
tty:x:5:
nogroup:x:65534:
EOF
cat >"$stage/etc/hosts" <<'EOF'
127.0.0.1 localhost
::1 localhost
127.0.1.1 boxstep-vm
EOF
echo boxstep-vm >"$stage/etc/hostname"
# busybox ash reads it for login shells (make vm).
cat >"$stage/etc/profile" <<'EOF'
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=${TERM:-vt100}
PS1='boxstep-vm:\w\$ '
EOF

# ---- ROOTLESS: newuidmap and newgidmap ----
# The rootless steps (06 on) map a range of ids through the setuid
# newuidmap/newgidmap, which refuse a user without a passwd entry and
# read /etc/subuid and /etc/subgid. They come from the host's uidmap
# package (make vm installs it: VM_PKGS); a user "student" (uid 1000)
# owns 100000:65536 as Debian gives its first user. They must stay setuid:
# cp -p drops the bit when it cannot keep the owner (not run as root), so
# it is set again; the archive makes them root's (vm/init checks the bit).
# subuid and subgid exist even empty: the tests bind-mount private copies
# over them, and a file that does not exist cannot be bound over.
: >"$stage/etc/subuid"
: >"$stage/etc/subgid"
rootless=""
for tool in newuidmap newgidmap; do
    path=$(command -v "$tool" 2>/dev/null || true)
    [ -n "$path" ] || continue
    cp -p "$path" "$stage/usr/bin/$tool"
    chmod u+s "$stage/usr/bin/$tool"
    rootless="$rootless $path"
done
if [ -n "$rootless" ]; then
    echo 'student:x:1000:1000:student:/home/student:/bin/sh' >>"$stage/etc/passwd"
    echo 'student:x:1000:' >>"$stage/etc/group"
    echo 'student:100000:65536' >"$stage/etc/subuid"
    echo 'student:100000:65536' >"$stage/etc/subgid"
    mkdir -p "$stage/home/student"
    [ ! -f /etc/login.defs ] || cp /etc/login.defs "$stage/etc/login.defs"
    echo "vm: rootless tools:$rootless (user student, uid 1000)"
else
    echo "vm: no newuidmap on the host (package uidmap): the guest has none"
fi

# ---- shared libraries ----
# ldd prints "name => /path (addr)" and "/lib64/ld-linux-x86-64.so.2
# (addr)"; a static binary makes it fail, which only means nothing to copy.
libs=$(for f in "$@" $rootless; do
    [ -f "$f" ] && ldd "$f" 2>/dev/null || true
done | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u)
for lib in $libs; do
    mkdir -p "$stage$(dirname "$lib")"
    cp -L "$lib" "$stage$lib"
done
echo "vm: libraries:" $libs

# ---- kernel modules ----
# A module's file is found by its name in modules.order (loadable) or
# modules.builtin (built in: nothing to load); names treat - and _ alike.
find_module() { # LIST NAME
    awk -v n="$2" '{ b = $0; sub(/.*\//, "", b); sub(/\.ko.*$/, "", b);
        gsub(/-/, "_", b); if (b == n) { print; exit } }' "$kmods/$1"
}
unpack_module() { # SRC-WITHOUT-SUFFIX DEST
    if [ -f "$1.xz" ]; then xz -dc "$1.xz" >"$2"
    elif [ -f "$1.zst" ]; then zstd -dcq "$1.zst" >"$2"
    elif [ -f "$1.gz" ]; then gzip -dc "$1.gz" >"$2"
    elif [ -f "$1" ]; then cp "$1" "$2"
    else return 1
    fi
}
queue=$(echo "${VM_MODULES:-}" | tr '-' '_')
done_mods="" builtin="" load=""
while :; do
    set -- $queue
    [ $# -gt 0 ] || break
    name=$1
    shift
    queue="$*"
    case " $done_mods " in *" $name "*) continue ;; esac
    done_mods="$done_mods $name"
    if [ -n "$(find_module modules.builtin "$name")" ]; then
        builtin="$builtin $name"
        continue
    fi
    rel=$(find_module modules.order "$name")
    [ -n "$rel" ] || die "kernel $release has no module $name (not built in either)"
    mkdir -p "$stage/lib/modules/$release/$(dirname "$rel")"
    unpack_module "$kmods/$rel" "$stage/lib/modules/$release/$rel" ||
        die "no file for module $name ($rel) in $kmods"
    deps=$(tr '\0' '\n' <"$stage/lib/modules/$release/$rel" |
        sed -n 's/^depends=//p' | tr ',-' ' _')
    queue="$queue $deps"
    load="$load $name"
done
cp "$kmods/modules.builtin" "$kmods/modules.order" "$stage/lib/modules/$release/"
"$busybox" depmod -b "$stage" "$release"
# The ones asked for, in order; modprobe pulls in their dependencies.
for m in $(echo "${VM_MODULES:-}" | tr '-' '_'); do
    case " $builtin " in *" $m "*) ;; *) echo "$m" ;; esac
done >"$stage/etc/boxstep-vm/modules"
echo "vm: modules to load:" $(cat "$stage/etc/boxstep-vm/modules") \
    "(with dependencies:$load); built in:$builtin"

# ---- the archive ----
# Owned by root whoever builds it; the kernel's own built-in initramfs
# supplies /dev/console, so no device node (and no root) is needed here.
(cd "$stage" && find . | LC_ALL=C sort | ./bin/busybox cpio -o -H newc -R 0:0) \
    >"$out.tmp" 2>/dev/null
mv "$out.tmp" "$out"
rm -rf "$stage"
echo "vm: initramfs $out ($(($(wc -c <"$out") / 1024)) KiB)"
