#!/bin/sh
# tools/deps.sh PACKAGE...: installs the Debian packages that are missing.
#
# Only when missing, and only with apt-get; elsewhere it names them and
# fails, so a student on another distribution knows what to install.
set -eu

missing=""
for pkg in "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "boxstep needs these Debian/Ubuntu packages (or your distribution's" >&2
    echo "equivalents):$missing" >&2
    exit 1
fi
if [ "$(id -u)" != 0 ]; then
    echo "boxstep needs these packages:$missing" >&2
    echo "hint: run 'sudo make ...', or 'sudo apt-get install$missing'" >&2
    exit 1
fi
echo "installing:$missing"
# A fresh machine has no package lists yet: update once, then install.
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends $missing; then
    apt-get update
    apt-get install -y --no-install-recommends $missing
fi
