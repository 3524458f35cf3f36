#!/bin/sh
# tools/doctor.sh: can this machine run the boxstep steps? `make doctor`
# runs it. A preflight check for a student, before the first step.
#
# Each step adds one kernel feature, and each feature has its own ways to
# be missing: a kernel too old for close_range(CLOSE_RANGE_CLOEXEC), user
# namespaces switched off by a sysctl, cgroup v1 where rootless limits
# need v2, no newuidmap, a firewall that drops forwarded traffic. A step
# that hits one of them dies with EPERM or EINVAL and the student cannot
# tell why. This script looks at all of them at once and prints a table:
#
#   STATUS CHECK STEPS RESULT, and under a row that is not OK, "-> " and
#   what to do.
#
# STATUS is OK, INFO (a fact, nothing to do), WARN (a step may need
# something, or the next step will) or FAIL (a step in steps/ cannot run
# here). STEPS names the steps a row affects: "04+" is step 04 and every
# later one, because each step contains the step before it.
#
# The steps it reports on are those in steps/ (steps/NN-name, the one
# place the list of steps lives) and the next one, not written yet, whose
# rows say "(future)". A row that affects only steps beyond the next one
# is not shown. A check that would FAIL only the next step is shown as
# WARN "(future step NN)": the student sees what it will need, but the
# exit status stays 0 until that step exists. The exit status is 1 when a
# step in steps/ cannot run here (a FAIL row), else 0. Kernel features
# are judged by the running version (a distribution kernel may backport
# one).
#
# It changes nothing. It reads /proc, /sys, /etc and the kernel config;
# no sysctl is written, no module loaded, nothing mounted on the host, no
# cgroup touched. Firewall rules are listed only with nft and the
# iptables-save commands, which never create a table (iptables-legacy -S
# FORWARD would create the filter table, and could load ip_tables). The
# only things it runs are throwaway: `unshare -r -m true`, a user and a
# mount namespace that vanish when `true` exits, to test user namespaces
# for real. It needs no root. As root it lists the firewall and runs that
# test as uid 65534, through util-linux setpriv, or busybox su to nobody
# where util-linux is missing (the lab VM); with neither, the answer is
# "by settings only".
#
# POSIX sh and the commands busybox has, so it runs in the lab VM, whose
# guest has only busybox: check with `busybox sh tools/doctor.sh` as well
# as dash. Lines stay within 100 columns.
set -u
LC_ALL=C
export LC_ALL
PATH=$PATH:/usr/sbin:/sbin
cd "$(dirname "$0")/.." || exit 2

# The steps that exist: steps/NN-name directories. "next" is the step
# after the newest, the one written next; there is none once steps/
# reaches the end of the course plan, step 10.
PLAN_END=10
have=""
newest=-1
for dir in steps/[0-9][0-9]-*; do
    [ -d "$dir" ] || continue
    nn=${dir#steps/}
    nn=${nn%%-*}
    have="$have $nn"
    n=${nn#0}
    newest=$n
done
next=""
[ "$newest" -lt "$PLAN_END" ] && next=$((newest + 1))
# The highest step a row can be about: the next one, else the newest.
shown_hi=${next:-$newest}

# --- output --------------------------------------------------------------

fails=0
warns=0
blocked=""
blocked_why=""
next_why=""
rootless_why=""

# emit PREFIX INDENT TEXT: TEXT after PREFIX, wrapped at 100 columns,
# continuation lines indented by INDENT spaces.
emit() {
    printf '%s\n' "$3" | awk -v pre="$1" -v ind="$2" '{
        n = split($0, word, " ")
        pad = ""
        for (k = 0; k < ind; k++)
            pad = pad " "
        line = pre
        len = length(pre)
        fresh = 1
        for (k = 1; k <= n; k++) {
            if (!fresh && len + 1 + length(word[k]) > 100) {
                print line
                line = pad
                len = ind
                fresh = 1
            }
            if (fresh) {
                line = line word[k]
                len += length(word[k])
                fresh = 0
            } else {
                line = line " " word[k]
                len += 1 + length(word[k])
            }
        }
        print line
    }'
}

# add_to LIST LO HI: prints LIST with the step numbers LO..HI added.
add_to() {
    list=$1
    k=$2
    while [ "$k" -le "$3" ]; do
        case " $list " in
        *" $k "*) ;;
        *) list="$list $k" ;;
        esac
        k=$((k + 1))
    done
    printf '%s' "$list"
}

# two NUMBER: a step number with two digits.
two() {
    if [ "$1" -lt 10 ]; then printf '0%s' "$1"; else printf '%s' "$1"; fi
}

# row STATUS CHECK STEPS RESULT [FIX]: one line of the table. STEPS is
# "NN", "NN+", "NN-MM", "all" or a word such as "info". A row that
# affects only steps beyond the next one is not shown (then "shown" is
# 0, else 1); a FAIL that affects only the next step becomes a WARN.
row() {
    st=$1
    steps=$3
    text=$4
    lo=""
    shown=0
    case $steps in
    all) lo=0 hi=$shown_hi ;;
    [0-9][0-9]+) lo=${steps%+} hi=$shown_hi ;;
    [0-9][0-9]-[0-9][0-9]) lo=${steps%-*} hi=${steps#*-} ;;
    [0-9][0-9]) lo=$steps hi=$steps ;;
    esac
    if [ -n "$lo" ]; then
        case $lo in 0?) lo=${lo#0} ;; esac
        case $hi in 0?) hi=${hi#0} ;; esac
        [ "$lo" -gt "$shown_hi" ] && return 0
        if [ "$lo" -gt "$newest" ]; then
            steps="$steps (future)"
            if [ "$st" = FAIL ]; then
                st=WARN
                text="$text (future step $(two "$lo"))"
                blocked=$(add_to "$blocked" "$lo" "$hi")
                next_why="$next_why, ${2#  }"
            fi
        elif [ "$st" = FAIL ]; then
            fails=1
            blocked=$(add_to "$blocked" "$lo" "$hi")
            blocked_why="$blocked_why, ${2#  }"
            [ -n "$next" ] && [ "$hi" -ge "$next" ] && next_why="$next_why, ${2#  }"
        fi
    fi
    shown=1
    [ "$st" = WARN ] && warns=$((warns + 1))
    emit "$(printf '%-6s %-23s %-12s ' "$st" "$2" "$steps")" 44 "$text"
    if [ $# -ge 5 ] && [ -n "$5" ] && [ "$st" != OK ]; then
        emit "      -> " 9 "$5"
    fi
}

# rootless WHY: adds WHY to what rootless 06+ needs, unless the row just
# given to row() was not shown.
rootless() {
    [ "$shown" = 1 ] && rootless_why="$rootless_why, $1"
}

# --- facts ---------------------------------------------------------------

uid=$(id -u)
kver=$(uname -r)
kmaj=${kver%%.*}
kmin=${kver#*.}
kmin=${kmin%%[!0-9]*}
case $kmaj$kmin in
'' | *[!0-9]*) kmaj=0 kmin=0 ;;
esac
kcode=$((kmaj * 1000 + kmin))
arch=$(uname -m)

# The user a rootless run would be: the one behind sudo, else ourselves.
if [ "$uid" = 0 ] && [ -n "${SUDO_UID:-}" ] && [ "${SUDO_UID:-}" != 0 ]; then
    inv_user=${SUDO_USER:-$SUDO_UID}
    inv_uid=$SUDO_UID
else
    inv_user=$(id -un 2>/dev/null || echo "$uid")
    inv_uid=$uid
fi

# cgroup mounts from mountinfo: "v1 MOUNTPOINT CONTROLLERS" (co-mounted
# controllers joined by commas) and "v2 MOUNTPOINT".
cgmounts=$(awk '{
    for (i = 7; $i != "-"; i++)
        ;
    if ($(i + 1) == "cgroup2") {
        print "v2", $5
    } else if ($(i + 1) == "cgroup") {
        n = split($(i + 3), opt, ",")
        c = ""
        for (k = 1; k <= n; k++)
            if (opt[k] ~ /^(cpuset|cpu|cpuacct|blkio|io|memory|devices|freezer)$/ ||
                opt[k] ~ /^(net_cls|net_prio|perf_event|hugetlb|pids|rdma|misc|name=.*)$/)
                c = c (c == "" ? "" : ",") opt[k]
        if (!(c in seen))
            print "v1", $5, c
        seen[c] = 1
    }
}' /proc/self/mountinfo)
v1ctl=$(printf '%s\n' "$cgmounts" | awk '$1 == "v1" { printf "%s ", $3 }')
v1ctl=${v1ctl% }
v2mnt=$(printf '%s\n' "$cgmounts" | awk '$1 == "v2" { print $2; exit }')
v2ctl=""
v2sub=""
if [ -n "$v2mnt" ]; then
    v2ctl=$(cat "$v2mnt/cgroup.controllers" 2>/dev/null)
    v2sub=$(cat "$v2mnt/cgroup.subtree_control" 2>/dev/null)
fi
if [ -n "$v1ctl" ] && [ -n "$v2mnt" ]; then
    cgmode=hybrid
elif [ -n "$v1ctl" ]; then
    cgmode=v1
elif [ -n "$v2mnt" ]; then
    cgmode=v2
else
    cgmode=none
fi

# The kernel's configuration, when it tells: /proc/config.gz or /boot.
if [ -r /proc/config.gz ]; then
    kconfig_src=/proc/config.gz
    kconfig=$(zcat /proc/config.gz 2>/dev/null)
elif [ -r "/boot/config-$kver" ]; then
    kconfig_src=/boot/config-$kver
    kconfig=$(cat "/boot/config-$kver")
else
    kconfig_src=""
    kconfig=""
fi
kmods=/lib/modules/$kver

# kstate SYMBOL MODULE: sets "state" to how a kernel feature is present:
# "built in", "module (loaded)", "module (will load)", "missing" or
# "unknown".
kstate() {
    val=""
    if [ -n "$kconfig_src" ]; then
        val=$(printf '%s\n' "$kconfig" | grep "^CONFIG_$1=" | cut -d= -f2)
        [ -n "$val" ] || val=n
    fi
    case $val in
    y) state="built in" ;;
    m)
        if [ -e "/sys/module/$2/initstate" ]; then
            state="module (loaded)"
        elif grep -q "/$2\.ko" "$kmods/modules.dep" 2>/dev/null; then
            state="module (will load)"
        else
            state=missing
        fi
        ;;
    n) state=missing ;;
    *)
        # No configuration: sysfs, then the module lists. A built-in
        # feature without parameters has no /sys/module entry, so with
        # no module support at all (no /proc/modules) we cannot tell.
        if [ -e "/sys/module/$2/initstate" ]; then
            state="module (loaded)"
        elif [ -d "/sys/module/$2" ]; then
            state="built in"
        elif grep -q "/$2\.ko" "$kmods/modules.builtin" 2>/dev/null; then
            state="built in"
        elif grep -q "/$2\.ko" "$kmods/modules.dep" 2>/dev/null; then
            state="module (will load)"
        elif [ -e /proc/modules ] && [ -e "$kmods/modules.builtin" ]; then
            state=missing
        else
            state=unknown
        fi
        ;;
    esac
}

# --- the table -----------------------------------------------------------

echo "boxstep doctor: can this machine run the steps? (it only reads; it changes nothing)"
if [ -n "$next" ]; then
    emit "" 0 "steps in steps/:${have:- none}; the next one, not written yet: $(two "$next"),\
 \"(future)\" below."
    echo "NN+ = step NN and every later step, up to the next one."
else
    emit "" 0 "steps in steps/:$have; no next step: $PLAN_END ends the course plan."
    echo "NN+ = step NN and every later step."
fi
echo
printf '%-6s %-23s %-12s %s\n' STATUS CHECK STEPS RESULT

# Kernel and the features each step needs, by the version that brought it.
if [ "$kcode" -ge 6003 ]; then
    row OK kernel all "$kver: has every feature below"
else
    row INFO kernel all "$kver: features judged by version below"
fi

# feature NAME STEPS MAJOR MINOR CLASS WHAT: CLASS is the status when the
# kernel is older (FAIL, WARN or INFO).
feature() {
    if [ "$kcode" -ge $(($3 * 1000 + $4)) ]; then
        row OK "  $1" "$2" "$6"
    else
        row "$5" "  $1" "$2" "missing (needs $3.$4, this is $kmaj.$kmin): $6" \
            "a kernel >= $3.$4 (Debian 12: linux-image-amd64 from bookworm-backports), or make vm"
        [ "$5" = WARN ] && rootless "kernel >= $3.$4"
    fi
}
# make test waits for every step with pidfd_open (tests/sandbox.c).
feature "pidfd_open 5.3" all 5 3 FAIL "make test's timeouts, for every step"
if [ -e /proc/self/ns/time ]; then tns="present"; else tns="not in this kernel"; fi
feature "time namespace 5.6" info 5 6 INFO "no step uses it; $tns"
if [ "$cgmode" = v2 ]; then
    feature "CLONE_INTO_CGROUP 5.7" 07+ 5 7 FAIL "clone3 straight into a cgroup v2"
else
    feature "CLONE_INTO_CGROUP 5.7" 07+ 5 7 INFO "used on cgroup v2 only (here: $cgmode)"
fi
feature "pidfd setns 5.8" 09+ 5 8 FAIL "setns(pidfd) joins several namespaces at once"
feature "close_range 5.11" all 5 11 FAIL "every step calls it first (CLOSE_RANGE_CLOEXEC)"
feature "userns overlayfs 5.11" 08+ 5 11 WARN "overlay mounted in a user namespace (rootless)"
feature "mount_setattr 5.12" 04+ 5 12 FAIL "mount_setattr(2), AT_RECURSIVE: read-only volumes"
feature "idmapped mounts 5.12" 06+ 5 12 FAIL "open_tree, move_mount, MOUNT_ATTR_IDMAP"
# Which filesystems can be idmapped, and since when, is judged below, for
# the filesystem build/rootfs is on ("idmapped rootfs").
# Only make test needs it: without it, one check is skipped (allowed-skips).
feature "listmount 6.8" 04+ 6 8 INFO "make test's check that no host mount stays in the container's namespace"

# Root, and the capabilities root has here.
capeff=$(awk '/^CapEff:/ { print $2 }' /proc/self/status)
caplast=$(cat /proc/sys/kernel/cap_last_cap 2>/dev/null || echo 40)
capmissing=$(printf '%s\n' "$capeff" | awk -v last="$caplast" '{
    split("chown dac_override dac_read_search fowner fsetid kill setgid setuid " \
        "setpcap linux_immutable net_bind_service net_broadcast net_admin " \
        "net_raw ipc_lock ipc_owner sys_module sys_rawio sys_chroot sys_ptrace " \
        "sys_pacct sys_admin sys_boot sys_nice sys_resource sys_time " \
        "sys_tty_config mknod lease audit_write audit_control setfcap " \
        "mac_override mac_admin syslog wake_alarm block_suspend audit_read " \
        "perfmon bpf checkpoint_restore", name, " ")
    h = tolower($1)
    n = length(h)
    out = ""
    for (b = 0; b <= last; b++) {
        d = index("0123456789abcdef", substr(h, n - int(b / 4), 1)) - 1
        if (d < 0)
            d = 0
        for (k = 0; k < b % 4; k++)
            d = int(d / 2)
        if (d % 2 == 0)
            out = out " " (name[b + 1] != "" ? name[b + 1] : "cap" b)
    }
    print substr(out, 2)
}')
rootless_note=""
[ "$shown_hi" -ge 6 ] && rootless_note=", 06+ can also run rootless"
if [ "$uid" = 0 ]; then
    case " $capmissing " in
    *" sys_admin "*)
        row FAIL root 01-05 "uid 0 but without CAP_SYS_ADMIN: namespaces fail with EPERM" \
            "run on a host or VM, not in an unprivileged container (docker run --privileged)"
        ;;
    *) row OK root 01-05 "yes (uid 0); 00 needs no root$rootless_note" ;;
    esac
    # Beyond sys_admin, the steps need net_admin (05) and setuid/setgid
    # (06, to write id maps); others missing are information.
    capsteps=""
    case " $capmissing " in
    *" setuid "* | *" setgid "*) capsteps=06+ ;;
    esac
    case " $capmissing " in
    *" net_admin "*) capsteps=05+ ;;
    esac
    if [ -n "$capsteps" ]; then
        row FAIL "  capabilities" "$capsteps" "root here lacks: $capmissing" \
            "run on a host or VM, not in a container that drops capabilities"
    elif [ -n "$capmissing" ]; then
        row INFO "  capabilities" info "root here lacks: $capmissing (no step needs it)"
    fi
else
    row WARN root 01-05 "no (uid $uid): 00 runs; 01-05 need root$rootless_note" \
        "run those steps with sudo (sudo make doctor also lists the firewall)"
fi

# Namespaces: /proc/self/ns has an entry for each kind the kernel has.
nsmissing=""
nsfirst=""
for pair in uts:01 ipc:02 pid:03 mnt:04 net:05 user:06 cgroup:07 time:; do
    ns=${pair%:*}
    if [ ! -e "/proc/self/ns/$ns" ]; then
        nsmissing="$nsmissing $ns"
        step=${pair#*:}
        if [ -n "$step" ] && { [ -z "$nsfirst" ] || [ "$step" -lt "$nsfirst" ]; }; then
            nsfirst=$step
        fi
    fi
done
if [ -z "$nsmissing" ]; then
    row OK namespaces all "all 8: uts ipc pid mnt net user cgroup time"
elif [ -z "$nsfirst" ]; then
    row INFO namespaces info "missing:$nsmissing (no step uses it)"
else
    row FAIL namespaces "$nsfirst+" "missing:$nsmissing" \
        "a kernel built with CONFIG_*_NS for them (distribution kernels have all)"
fi

# cgroups: the layout, the controllers step 07 uses, delegation.
case $cgmode in
hybrid)
    row INFO "cgroup layout" 07+ \
        "hybrid: v1 hierarchies, and cgroup2 at $v2mnt (controllers: ${v2ctl:-none})"
    ;;
v1) row INFO "cgroup layout" 07+ "v1 only" ;;
v2) row INFO "cgroup layout" 07+ "v2 only, at $v2mnt" ;;
none) row FAIL "cgroup layout" 07+ "no cgroup filesystem mounted" \
    "mount cgroup2 on /sys/fs/cgroup (your init normally does)" ;;
esac
if [ -n "$v1ctl" ]; then
    row INFO "  v1 hierarchies" 07+ \
        "$v1ctl (one word per hierarchy; commas join co-mounted controllers)"
fi
if [ "$cgmode" = v2 ]; then
    row INFO "  v2 controllers" 07+ \
        "available: ${v2ctl:-none}; enabled for children: ${v2sub:-none}"
fi
cgmissing=""
cgfound=""
for c in memory cpu pids cpuset freezer io; do
    v1name=$c
    [ "$c" = io ] && v1name=blkio
    # shellcheck disable=SC2020 # both blanks and commas separate names
    if printf '%s\n' "$v1ctl" | tr ' ,' '\n\n' | grep -qx "$v1name"; then
        cgfound="$cgfound $v1name(v1)"
    elif printf '%s\n' "$v2ctl" | tr ' ' '\n' | grep -qx "$c"; then
        cgfound="$cgfound $c(v2)"
    elif [ "$c" = freezer ] && [ -n "$v2mnt" ] && [ "$kcode" -ge 5002 ]; then
        cgfound="$cgfound freezer(v2 cgroup.freeze)"
    else
        cgmissing="$cgmissing $c"
    fi
done
if [ -z "$cgmissing" ]; then
    row OK "  controllers" 07+ "usable:$cgfound"
else
    row FAIL "  controllers" 07+ "missing:$cgmissing; usable:${cgfound:- none}" \
        "a kernel with those controllers, not disabled on the command line (cgroup_disable=)"
fi

# Which version step 07 takes here, as version_here() does: v2 when
# cgroup2's root offers memory, pids and cpu; else v1 when a hierarchy has
# one of the controllers it uses; else none.
has_words() { # has_words "LIST" WORD...: every WORD is in LIST (blanks, commas)
    list=$1
    shift
    for w in "$@"; do
        # shellcheck disable=SC2020 # both blanks and commas separate names
        printf '%s\n' "$list" | tr ' ,' '\n\n' | grep -qx "$w" || return 1
    done
}
cgroots=""
if [ -n "$v2mnt" ] && has_words "$v2ctl" memory pids cpu; then
    cguse=v2
    cgroots=" $v2mnt"
else
    cguse=none
    for c in memory pids cpu cpuacct freezer blkio; do
        m=$(printf '%s\n' "$cgmounts" | awk -v c="$c" '$1 == "v1" {
            n = split($3, w, ",")
            for (k = 1; k <= n; k++)
                if (w[k] == c) { print $2; exit }
        }')
        [ -n "$m" ] || continue
        cguse=v1
        case " $cgroots " in *" $m "*) ;; *) cgroots="$cgroots $m" ;; esac
    done
fi
case $cguse in
v2) row OK "  07 uses" 07+ "cgroup v2: $v2mnt offers memory, pids and cpu (cgroup.c)" ;;
v1) row OK "  07 uses" 07+ \
    "cgroup v1 (cgroup-v1.c): cgroup2 ${v2mnt:+at $v2mnt }lacks memory, pids or cpu" ;;
none) row FAIL "  07 uses" 07+ "no cgroup: no hierarchy it can use" \
    "mount cgroup2 on /sys/fs/cgroup (or the v1 hierarchies)" ;;
esac

# Whether root could make boxstep's parent, or write into it, at the root
# of each hierarchy 07 uses: the mount read-write, "boxstep" a directory
# root may write, or absent from a root directory root may write. Only
# looked at, never made.
if [ "$cguse" != none ]; then
    cgbad=""
    for m in $cgroots; do
        opts=$(awk -v m="$m" '$5 == m { print $6; exit }' /proc/self/mountinfo)
        case ,$opts, in
        *,ro,*) cgbad="$cgbad $m (read-only mount)" ;;
        *)
            if [ -e "$m/boxstep" ] && [ ! -d "$m/boxstep" ]; then
                cgbad="$cgbad $m/boxstep (not a directory)"
            elif [ "$uid" = 0 ] && [ -d "$m/boxstep" ] && [ ! -w "$m/boxstep" ]; then
                cgbad="$cgbad $m/boxstep (not writable)"
            elif [ "$uid" = 0 ] && [ ! -d "$m/boxstep" ] && [ ! -w "$m" ]; then
                cgbad="$cgbad $m (cannot make boxstep)"
            fi
            ;;
        esac
    done
    cgwhere="boxstep at the root of:$cgroots"
    if [ -n "$cgbad" ]; then
        row FAIL "  boxstep parent" 07+ "not usable:$cgbad" \
            "07 makes its cgroups there as root: a read-write cgroup filesystem (not a container's)"
    elif [ "$uid" != 0 ]; then
        row INFO "  boxstep parent" 07+ \
            "$cgwhere; writable only by root (run sudo make doctor to check)"
    else
        row OK "  boxstep parent" 07+ "$cgwhere; writable"
    fi
fi

# Delegation: rootless limits need a cgroup v2 subtree that belongs to
# the user, which systemd gives to user@UID.service.
if [ "$inv_uid" = 0 ]; then
    row INFO "  v2 delegation" 07+ "n/a: running as root (run as your user to check it)"
elif [ "$cgmode" != v2 ]; then
    row WARN "  v2 delegation" 07+ \
        "rootless cgroup limits need cgroup v2 only (here: $cgmode); as root 07 works" \
        "run 07 as root, or boot with systemd.unified_cgroup_hierarchy=1"
    rootless "cgroup v2 delegation"
elif [ ! -d /run/systemd/system ]; then
    row INFO "  v2 delegation" 07+ \
        "n/a: not systemd; rootless 07 needs a cgroup chowned to $inv_user"
else
    dcg=$v2mnt/user.slice/user-$inv_uid.slice/user@$inv_uid.service
    if [ ! -d "$dcg" ]; then
        row WARN "  v2 delegation" 07+ "no $dcg" \
            "log in through a systemd session (or: loginctl enable-linger $inv_user)"
        rootless "cgroup v2 delegation"
    elif [ "$(stat -c %u "$dcg" 2>/dev/null)" = "$inv_uid" ] &&
        [ "$(stat -c %u "$dcg/cgroup.procs" 2>/dev/null)" = "$inv_uid" ]; then
        dctl=$(cat "$dcg/cgroup.controllers" 2>/dev/null)
        dmissing=""
        for c in memory cpu pids cpuset io; do
            printf '%s\n' "$dctl" | tr ' ' '\n' | grep -qx "$c" || dmissing="$dmissing $c"
        done
        if [ -z "$dmissing" ]; then
            row OK "  v2 delegation" 07+ "$dcg is $inv_user's; delegated: $dctl"
        else
            row WARN "  v2 delegation" 07+ \
                "$dcg is $inv_user's; delegated: ${dctl:-none}; not:$dmissing" \
                "sudo systemctl edit user@.service: [Service] Delegate=cpu cpuset io memory pids"
            rootless "controllers not delegated"
        fi
    else
        row WARN "  v2 delegation" 07+ "$dcg does not belong to $inv_user" \
            "systemd should delegate it (Delegate=yes in user@.service)"
        rootless "cgroup v2 delegation"
    fi
fi

# Unprivileged user namespaces: the settings that block them, then a
# real try as an unprivileged user when we can be one.
usblock=""
usfix=""
v=$(cat /proc/sys/kernel/apparmor_restrict_unprivileged_userns 2>/dev/null)
if [ "$v" = 1 ]; then
    usblock="$usblock kernel.apparmor_restrict_unprivileged_userns=1"
    usfix="$usfix kernel.apparmor_restrict_unprivileged_userns=0"
fi
v=$(cat /proc/sys/kernel/unprivileged_userns_clone 2>/dev/null)
if [ "$v" = 0 ]; then
    usblock="$usblock kernel.unprivileged_userns_clone=0"
    usfix="$usfix kernel.unprivileged_userns_clone=1"
fi
usmax=$(cat /proc/sys/user/max_user_namespaces 2>/dev/null)
if [ "$usmax" = 0 ]; then
    usblock="$usblock user.max_user_namespaces=0"
    usfix="$usfix user.max_user_namespaces=15000"
fi
if command -v unshare >/dev/null 2>&1; then
    unshare_cmd=unshare
elif command -v busybox >/dev/null 2>&1 && busybox unshare --help >/dev/null 2>&1; then
    unshare_cmd="busybox unshare"
else
    unshare_cmd=""
fi
# find_setpriv: util-linux setpriv, by path: busybox sh would run its own
# applet, which cannot change uids.
find_setpriv() {
    for p in /usr/bin/setpriv /bin/setpriv /usr/sbin/setpriv /sbin/setpriv; do
        [ -x "$p" ] && "$p" --help 2>&1 | grep -q -- --reuid && echo "$p" && return 0
    done
    return 1
}
# -r maps us to root and -m makes a mount namespace: under AppArmor's
# restriction the first part succeeds and the second fails.
# oneline TEXT: TEXT on one line, at most 80 characters (an error message).
oneline() {
    printf '%s' "$1" | tr '\n' ' ' | head -c 80
}
ustest=""
usfailed=0
if [ -z "$unshare_cmd" ]; then
    ustest="by settings only (no unshare command)"
elif [ "$uid" != 0 ]; then
    if err=$(cd / && $unshare_cmd -r -m true 2>&1); then
        ustest="unshare -r -m worked as uid $uid"
    else
        ustest="unshare -r -m failed as uid $uid: $(oneline "$err")"
        usfailed=1
    fi
elif setpriv=$(find_setpriv); then
    # $unshare_cmd stays unquoted: it may be "busybox unshare".
    # shellcheck disable=SC2086
    if err=$(cd / && "$setpriv" --reuid=65534 --regid=65534 --clear-groups -- \
        $unshare_cmd -r -m true 2>&1); then
        ustest="unshare -r -m worked as uid 65534"
    else
        ustest="unshare -r -m failed as uid 65534: $(oneline "$err")"
        usfailed=1
    fi
elif command -v busybox >/dev/null 2>&1 && grep -q '^nobody:' /etc/passwd 2>/dev/null; then
    # No util-linux (the lab VM): busybox su, which as root asks nothing.
    if err=$(busybox su -s /bin/sh nobody -c "cd / && $unshare_cmd -r -m true" 2>&1); then
        ustest="unshare -r -m worked as nobody"
    else
        ustest="unshare -r -m failed as nobody: $(oneline "$err")"
        usfailed=1
    fi
else
    ustest="by settings only (root, and no setpriv or nobody to test as)"
fi
# unshare(CLONE_NEWUSER) fails with EPERM in a chroot, whatever the
# settings say.
# In a chroot, init's root differs from ours (when we may look at it),
# or no mount is at "/" in mountinfo, whose paths start at our root.
chrooted=""
initroot=$(stat -L -c %d:%i /proc/1/root/. 2>/dev/null)
if { [ -n "$initroot" ] && [ "$initroot" != "$(stat -L -c %d:%i /.)" ]; } ||
    ! awk '$5 == "/" { found = 1 } END { exit !found }' /proc/self/mountinfo; then
    chrooted=" (this shell is in a chroot: EPERM there)"
fi
if [ -z "$usblock" ] && [ "$usfailed" = 0 ]; then
    row OK "unprivileged userns" 06+ "allowed: $ustest; max_user_namespaces=${usmax:-?}"
else
    if [ -z "$usblock" ] && [ -n "$chrooted" ]; then
        usblock=" the chroot this shell runs in"
    elif [ -z "$usblock" ]; then
        usblock=" no known setting (seccomp? an LSM?)"
    fi
    row WARN "unprivileged userns" 06+ \
        "blocked by$usblock; $ustest; rootless 06+ cannot run, root can" \
        "${usfix:+sudo sysctl -w$usfix (this check only reads it), or }run 06+ as root$chrooted"
    rootless "unprivileged user namespaces"
fi
if [ "$uid" = 0 ] && [ -n "$unshare_cmd" ]; then
    if err=$(cd / && $unshare_cmd -U true 2>&1); then
        row OK "  userns as root" 06+ "unshare -U worked as root"
    else
        row FAIL "  userns as root" 06+ \
            "root cannot make a user namespace: $(oneline "$err")" \
            "user.max_user_namespaces > 0; in a container, let its seccomp allow unshare$chrooted"
    fi
fi

# Step 06 run as root idmaps the rootfs (mount_setattr MOUNT_ATTR_IDMAP),
# which the filesystem under it must support, by kernel version. On 9p,
# NFS, an overlay or FUSE the step uses the shifted copy,
# build/rootfs-shifted, by itself: it reads the type of the mount that
# holds the rootfs from mountinfo, as this check does (statfs would not
# do: a 9P2000.L share reports the host's filesystem). Here the mount is
# the longest mount point that is a prefix of the path. Rootless runs
# idmap nothing.
if [ -d build/rootfs ]; then fsdir=build/rootfs; else fsdir=.; fi
fspath=$(cd "$fsdir" 2>/dev/null && pwd -P)
fstype=$(awk -v p="$fspath" '{
    for (i = 7; $i != "-"; i++)
        ;
    mp = $5
    if (p == mp || mp == "/" || index(p, mp "/") == 1)
        if (length(mp) >= best) {
            best = length(mp)
            type = $(i + 1)
        }
} END { print type }' /proc/self/mountinfo 2>/dev/null)
fsname=$fstype
fsneed=""
case $fstype in
ext2 | ext3 | ext4) fsname=ext4 fsneed=5012 ;;
xfs | vfat) fsneed=5012 ;;
btrfs) fsneed=5015 ;;
tmpfs) fsneed=6003 ;;
9p | nfs | nfs4 | overlay | fuse | fuse.* | fuseblk) fsname=auto:$fstype ;;
*) fsname="" ;;
esac
shifted=""
[ -x build/rootfs-shifted/bin/busybox ] && shifted=yes
shiftfix="sudo make rootfs-shifted (make test builds it too)"
case $fsname in
auto:*)
    if [ -n "$shifted" ]; then
        row OK "idmapped rootfs" 06+ "$fsdir is on $fstype, which cannot be idmapped: step 06\
 uses build/rootfs-shifted, which is built (and refuses --uidmap there)"
    else
        row WARN "idmapped rootfs" 06+ "$fsdir is on $fstype, which cannot be idmapped, and\
 build/rootfs-shifted is not built: step 06 as root refuses to start (rootless runs)" \
            "$shiftfix"
    fi
    ;;
"")
    row INFO "idmapped rootfs" 06+ "$fsdir is on ${fstype:-a filesystem mountinfo does not\
 show}: if step 06 fails at mount_setattr with EINVAL, use --no-idmap" \
        "$shiftfix, then --no-idmap"
    ;;
*)
    fsver="$((fsneed / 1000)).$((fsneed % 1000))"
    if [ "$kcode" -ge "$fsneed" ]; then
        row OK "idmapped rootfs" 06+ "$fsdir is on $fsname, idmappable since $fsver"
    else
        row WARN "idmapped rootfs" 06+ "$fsdir is on $fsname, idmappable only since $fsver\
 (this is $kmaj.$kmin): step 06 as root fails at mount_setattr (rootless runs)" \
            "a kernel >= $fsver; or $shiftfix, then --no-idmap"
    fi
    ;;
esac
if [ -n "$shifted" ]; then
    row OK "  shifted rootfs" 06+ "build/rootfs-shifted (for --no-idmap, owners from 1048576)"
else
    row INFO "  shifted rootfs" 06+ "not built: --no-idmap and make test use it; sudo make\
 rootfs-shifted builds it"
fi

# Root's containers take their host ids from boxstep's pool, 65536 each
# from 1048576 on (1024 ranges); an /etc/subuid or /etc/subgid entry that
# reaches into it shares host ids with them, and a container whose range
# meets one is refused.
pool=$(awk -F: 'FILENAME ~ /subuid$/ { f = "subuid" } FILENAME ~ /subgid$/ { f = "subgid" }
    NF >= 3 && $2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ &&
        $2 + $3 > 1048576 && $2 < 1048576 + 1024 * 65536 {
        printf " %s:%s:%s (%s)", $1, $2, $3, f
    }' /etc/subuid /etc/subgid 2>/dev/null)
if [ -z "$pool" ]; then
    row OK "id pool 1048576+" 06+ "no /etc/subuid or /etc/subgid entry reaches into\
 boxstep's pool of host ids"
else
    row WARN "id pool 1048576+" 06+ "entries reach into boxstep's pool of host ids:$pool;\
 a root-run container whose range meets one is refused" \
        "move them below 1048576 (usermod --del-subuids, --add-subuids), or give step 06\
 --uidmap and --gidmap"
fi

# /etc/subuid and /etc/subgid, and newuidmap/newgidmap (package uidmap):
# a rootless user maps more than its own id only through them.
if [ "$inv_uid" = 0 ]; then
    nsub=$(grep -c . /etc/subuid 2>/dev/null)
    row INFO "subuid/subgid" 06+ \
        "n/a: root writes its maps itself (/etc/subuid: ${nsub:-0} entries)"
else
    ranges=""
    for f in /etc/subuid /etc/subgid; do
        r=$(grep -E "^($inv_user|$inv_uid):" "$f" 2>/dev/null | cut -d: -f2- | tr '\n' ' ')
        r=${r% }
        ranges="$ranges${ranges:+;} ${f#/etc/} ${r:-none}"
    done
    case $ranges in
    *none*)
        row WARN "subuid/subgid" 06+ "$inv_user:$ranges" \
            "sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $inv_user"
        rootless "/etc/subuid range"
        ;;
    *) row OK "subuid/subgid" 06+ "$inv_user:$ranges" ;;
    esac
fi
nu=$(command -v newuidmap 2>/dev/null)
ng=$(command -v newgidmap 2>/dev/null)
if [ -n "$nu" ] && [ -n "$ng" ]; then
    row OK "newuidmap/newgidmap" 06+ "$nu, $ng"
else
    if command -v apt-get >/dev/null 2>&1; then
        fix="sudo apt-get install uidmap"
    else
        fix="install uidmap (the lab VM copies the host's: install it there, then make vm)"
    fi
    row WARN "newuidmap/newgidmap" 06+ "missing: rootless 06+ needs them to map a range" "$fix"
    rootless newuidmap
fi

# Filesystems and network devices the steps use.
kstate OVERLAY_FS overlay
grep -qw overlay /proc/filesystems 2>/dev/null && [ "$state" != "built in" ] &&
    state="available (in /proc/filesystems)"
case $state in
missing) row FAIL overlayfs 08+ "missing" "a kernel with CONFIG_OVERLAY_FS" ;;
unknown) row WARN overlayfs 08+ "unknown (no kernel config, not in /proc/filesystems)" ;;
*) row OK overlayfs 08+ "$state" ;;
esac
# Step 08 keeps each container's layer in the layer directory
# (BOXSTEP_LAYER_DIR, else /var/lib/boxstep as root, $XDG_DATA_HOME/boxstep
# or ~/.local/share/boxstep as a user), whose filesystem must take an
# upper layer: overlayfs refuses an overlay there (the step exits 125).
if [ "$(id -u)" = 0 ]; then layers=${BOXSTEP_LAYER_DIR:-/var/lib/boxstep}
else layers=${BOXSTEP_LAYER_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/boxstep}; fi
lpath=$layers
while [ ! -d "$lpath" ] && [ "$lpath" != / ]; do lpath=$(dirname "$lpath"); done
ltype=$(stat -f -c %T "$lpath" 2>/dev/null)
case $ltype in
overlayfs) row FAIL "layer directory" 08+ "$layers is on an overlay" \
    "BOXSTEP_LAYER_DIR=DIR on ext4, xfs, btrfs or tmpfs" ;;
"") row WARN "layer directory" 08+ "$layers: its filesystem is unknown" ;;
*) row OK "layer directory" 08+ "$layers, on $ltype: an upper layer can live there" ;;
esac
kstate VETH veth
case $state in
missing) row FAIL veth 05+ "missing" "a kernel with CONFIG_VETH" ;;
unknown) row WARN veth 05+ "unknown: no kernel config and no modules to look at" ;;
*) row OK veth 05+ "$state" ;;
esac
kstate BRIDGE bridge
case $state in
missing) row FAIL bridge 05+ "missing" "a kernel with CONFIG_BRIDGE" ;;
unknown) row WARN bridge 05+ "unknown: no kernel config and no modules to look at" ;;
*) row OK bridge 05+ "$state" ;;
esac
kstate 9P_FS 9p
grep -qw 9p /proc/filesystems 2>/dev/null && state="available (in /proc/filesystems)"
row INFO 9p vm "$state; only the lab VM's kernel needs it (its project share)"

# A firewall that drops forwarded traffic. Step 05 routes nothing beyond
# the host (no NAT), but with bridge-nf-call-iptables=1 (br_netfilter,
# which Docker loads) even frames between two ports of boxstep0 go through
# the FORWARD chain, and Docker's FORWARD policy drop stops --net bridge
# containers from reaching each other. Policies only: a drop rule inside
# a chain is not looked at. nft and iptables-save only list (they never
# create a table); both need root.
fwdrop=""
fwtools=""
if [ "$uid" = 0 ]; then
    if command -v nft >/dev/null 2>&1; then
        fwtools="$fwtools nft"
        nft list ruleset 2>/dev/null | grep 'hook forward' | grep -q 'policy drop' &&
            fwdrop="$fwdrop nft"
    fi
    for t in iptables-save iptables-legacy-save iptables-nft-save; do
        command -v $t >/dev/null 2>&1 || continue
        fwtools="$fwtools $t"
        $t 2>/dev/null | awk '/^\*/ { t = $1 } t == "*filter" && /^:FORWARD DROP/ { f = 1 }
            END { exit !f }' && fwdrop="$fwdrop $t"
    done
fi
bnf=$(cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null)
case $bnf in
1) bnfnote="bridge-nf-call-iptables=1: bridged frames pass FORWARD too" ;;
0) bnfnote="bridge-nf-call-iptables=0: bridged frames skip FORWARD" ;;
*) bnfnote="no br_netfilter now: bridged frames skip FORWARD" ;;
esac
if [ "$uid" != 0 ]; then
    row INFO firewall 05+ "could not check: listing the rules needs root (sudo make doctor)"
elif [ -n "$fwdrop" ] && [ "$bnf" = 1 ]; then
    row WARN firewall 05+ "FORWARD policy drop (seen by$fwdrop); $bnfnote:\
 --net bridge containers cannot reach each other" \
        "sudo iptables -I FORWARD -i boxstep0 -o boxstep0 -j ACCEPT (with Docker: -I DOCKER-USER)"
elif [ -n "$fwdrop" ]; then
    row INFO firewall 05+ "FORWARD policy drop (seen by$fwdrop): it drops only traffic\
 beyond the host, which 05 does not route; $bnfnote"
elif [ -n "$fwtools" ]; then
    row OK firewall 05+ "no FORWARD policy drop (checked with$fwtools); $bnfnote"
else
    legacy=$(tr '\n' ' ' 2>/dev/null </proc/net/ip_tables_names)
    row INFO firewall 05+ "could not check nftables: no nft, no iptables-save;\
 legacy iptables tables: ${legacy:-none}; $bnfnote"
fi
fwd=$(cat /proc/sys/net/ipv4/ip_forward 2>/dev/null)
case $fwd in
1) row INFO ip_forward 05+ "1: the host routes between interfaces (05 sets up no NAT)" ;;
0) row INFO ip_forward 05+ \
    "0: containers reach the host and each other, not beyond it (05 needs no more)" ;;
*) row INFO ip_forward 05+ "could not read /proc/sys/net/ipv4/ip_forward" ;;
esac

# Step 05's addresses, 10.200.N.0/24 (0 for the bridge), must not clash
# with a route of the host: it skips a veth subnet that does and refuses
# the bridge's. Its own devices (boxstep0, bxPID) do not count. Two
# subnets clash when they agree on the bits of the shorter prefix.
clash=$(awk 'function hex(h,  v, k) {
        v = 0
        for (k = 1; k <= length(h); k++)
            v = v * 16 + index("0123456789ABCDEF", toupper(substr(h, k, 1))) - 1
        return v
    }
    function ip(h,  v, k) { # /proc/net/route: little-endian hex
        v = 0
        for (k = 7; k >= 1; k -= 2)
            v = v * 256 + hex(substr(h, k, 2))
        return v
    }
    function pow2(n,  v) { # no "^": busybox awk may lack math support
        for (v = 1; n > 0; n--)
            v *= 2
        return v
    }
    function bits(m,  n) {
        for (n = 0; m >= pow2(31); n++)
            m = (m - pow2(31)) * 2
        return n
    }
    function same(a, b, k) {
        return int(a / pow2(32 - k)) == int(b / pow2(32 - k))
    }
    NR > 1 && $8 != "00000000" && $1 != "boxstep0" && $1 !~ /^bx[0-9]+$/ {
        d = ip($2)
        p = bits(ip($8))
        net = (10 * 256 + 200) * 65536
        what = sprintf("%d.%d.%d.%d/%d (%s)", int(d / 16777216), int(d / 65536) % 256,
            int(d / 256) % 256, d % 256, p, $1)
        if (p <= 16 && same(d, net, p))
            all = all " " what
        else if (same(d, net, p < 24 ? p : 24))
            bridge = bridge " " what
        else if (p > 16 && same(d, net, 16))
            some = some " " what
    }
    END {
        if (all != "") print "all" all
        else if (bridge != "") print "bridge" bridge
        else if (some != "") print "some" some
    }' /proc/net/route 2>/dev/null)
case $clash in
all*) row WARN "routes vs 10.200/16" 05+ \
    "every 10.200.N.0/24 clashes with${clash#all}: --net veth and bridge are refused" \
    "run 05 with --net veth --ip ADDR/PREFIX outside your routes, or --net none" ;;
bridge*) row WARN "routes vs 10.200/16" 05+ \
    "the bridge's 10.200.0.0/24 clashes with${clash#bridge}: --net bridge is refused" \
    "use --net veth (it picks a free subnet): the bridge needs 10.200.0.0/24 free" ;;
some*) row INFO "routes vs 10.200/16" 05+ \
    "05 skips the subnets of${clash#some} and uses a free one" ;;
*) row OK "routes vs 10.200/16" 05+ "no host route clashes with step 05's addresses" ;;
esac

# Propagation of /: systemd makes it shared; the steps make it rprivate
# in their own mount namespace from 04 on, so this is information.
prop=$(awk '$5 == "/" {
    p = "private"
    for (i = 7; $i != "-"; i++) {
        if ($i ~ /^shared:/) p = "shared (" $i ")"
        else if ($i ~ /^master:/ && p == "private") p = "slave (" $i ")"
    }
    last = p
} END { print last }' /proc/self/mountinfo)
row INFO "propagation of /" 04+ \
    "${prop:-unknown}; steps 04+ make it rprivate in their own namespace"

# A container or WSL: the initial namespaces have fixed inode numbers
# (PROC_*_INIT_INO), so a different number means we are nested.
nested=""
for pair in uts:4026531838 ipc:4026531839 user:4026531837 pid:4026531836 cgroup:4026531835; do
    ns=${pair%:*}
    ino=$(stat -L -c %i "/proc/self/ns/$ns" 2>/dev/null) || continue
    [ "$ino" = "${pair#*:}" ] || nested="$nested $ns"
done
hints=""
[ -e /.dockerenv ] && hints="$hints /.dockerenv"
[ -e /run/.containerenv ] && hints="$hints /run/.containerenv"
grep -qE 'docker|lxc|kubepods|containerd|libpod' /proc/1/cgroup 2>/dev/null &&
    hints="$hints /proc/1/cgroup"
virt=""
if command -v systemd-detect-virt >/dev/null 2>&1; then
    virt=$(systemd-detect-virt 2>/dev/null)
    vm=$(systemd-detect-virt --vm 2>/dev/null)
    [ -n "$vm" ] && [ "$vm" != none ] && [ "$vm" != "$virt" ] && virt="$virt, vm: $vm"
    virt="; systemd-detect-virt: $virt"
fi
if grep -qiE 'microsoft|wsl' /proc/sys/kernel/osrelease 2>/dev/null; then
    row WARN "container or WSL" all "WSL ($kver)$virt: nested namespaces may be restricted" \
        "WSL2 runs the steps; if one fails with EPERM, use make vm"
elif [ -n "$nested" ]; then
    row WARN "container or WSL" all \
        "inside a container: not the initial namespaces:$nested${hints:+ (hints:$hints)}$virt" \
        "nested namespaces may be restricted (seccomp, no CAP_SYS_ADMIN): use a VM (make vm)"
elif [ -n "$hints" ]; then
    row INFO "container or WSL" all \
        "no: initial namespaces, though$hints exists (left from an image)$virt"
else
    row OK "container or WSL" all "no: initial namespaces$virt"
fi

# The static binaries are built for this machine; the lab VM is x86_64.
if [ "$arch" = x86_64 ]; then
    row OK architecture all "x86_64, as the lab VM"
else
    row WARN architecture vm "$arch: the steps run here, but the lab VM (x86_64) cannot run them" \
        "use make vm on an x86_64 machine"
fi

# busybox-static (the rootfs is made from it) and the built rootfs.
if command -v dpkg-query >/dev/null 2>&1; then
    bbstatus=$(dpkg-query -W -f='${Status}' busybox-static 2>/dev/null)
    if [ "$bbstatus" = "install ok installed" ]; then
        row OK busybox-static 04+ "installed (build/rootfs is made from /bin/busybox)"
    else
        row WARN busybox-static 04+ "not installed: make rootfs, test and demo need it" \
            "sudo apt-get install busybox-static (make test installs it)"
    fi
elif [ -x /bin/busybox ]; then
    row INFO busybox-static 04+ "/bin/busybox present (no dpkg: static or not unknown)"
else
    row WARN busybox-static 04+ "no dpkg and no /bin/busybox" "install a static busybox"
fi
if [ -x build/rootfs/bin/busybox ]; then
    row OK rootfs 04+ "build/rootfs/bin/busybox"
else
    row WARN rootfs 04+ "not built: make test and demo, and steps 04+, use it" "make rootfs"
fi

# --- summary -------------------------------------------------------------

# Which steps of steps/ can run.
can=""
cannot=""
for nn in $have; do
    n=${nn#0}
    case " $blocked " in
    *" $n "*) cannot="$cannot $nn" ;;
    *) can="$can $nn" ;;
    esac
done

echo
echo "summary"
if [ "$uid" = 0 ] || [ "$newest" -lt 1 ]; then
    emit "  can run here:     " 20 "${can:- none}"
else
    hi=5
    [ "$newest" -lt 5 ] && hi=$newest
    emit "  can run here:     " 20 "${can:- none} (01-$(two "$hi") with sudo)"
fi
emit "  cannot run here:  " 20 "${cannot:- none}${blocked_why:+ (${blocked_why#, })}"
if [ -z "$next" ]; then
    emit "  next step:        " 20 "none: step $PLAN_END ends the course plan"
else
    case " $blocked " in
    *" $next "*)
        emit "  next step:        " 20 "$(two "$next") will not run here (${next_why#, })"
        ;;
    *) emit "  next step:        " 20 "$(two "$next") (not written yet): no blocker found" ;;
    esac
fi
[ "$warns" -gt 0 ] &&
    emit "  warnings:         " 20 "$warns (read the WARN rows before the steps they name)"
if [ "$shown_hi" -lt 6 ]; then
    : # no rootless step is shown yet
elif [ -n "$rootless_why" ]; then
    emit "  rootless (06+):   " 20 "needs: ${rootless_why#, }"
else
    emit "  rootless (06+):   " 20 "no blocker found${ustest:+ ($ustest)}"
fi
if [ "$fails" = 0 ]; then
    echo "  exit status 0: no step in steps/ is blocked"
else
    echo "  exit status 1: a step in steps/ cannot run here"
fi
exit $fails
