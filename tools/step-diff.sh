#!/bin/sh
# tools/step-diff.sh A B: what step B adds to step A, steps named by
# number (make diff A=04 B=05; the tutorial's @diff).
#
# A recursive unified diff of the two step directories, each main.c
# without its per-step text block (tools/strip-step-text.awk), in the
# order a reader wants: the files B adds first (the new layer, shown
# whole), then main.c (the spine's hook lines), then step.h, then any
# other file that changed. Exit 0, whether or not they differ.
set -eu
LC_ALL=C
export LC_ALL

top=$(dirname "$0")/..
strip=$top/tools/strip-step-text.awk

step_dir() {
    for d in "$top"/steps/"$1"-*/; do
        [ -d "$d" ] && { echo "${d%/}"; return 0; }
    done
    echo "no step $1 in steps/" >&2
    exit 2
}

a=$(step_dir "$1")
b=$(step_dir "$2")
a_name=steps/${a##*/}
b_name=steps/${b##*/}
work=$(mktemp -d "${TMPDIR:-/tmp}/step-diff.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The file as the diff shows it: main.c without its text block.
prepare() {
    if [ ! -f "$1/$2" ]; then
        : >"$work/$3"
    elif [ "$2" = main.c ]; then
        awk -f "$strip" "$1/$2" >"$work/$3"
    else
        cat "$1/$2" >"$work/$3"
    fi
}

show() {
    prepare "$a" "$1" a
    prepare "$b" "$1" b
    old=$a_name/$1
    new=$b_name/$1
    [ -f "$a/$1" ] || old=/dev/null
    [ -f "$b/$1" ] || new=/dev/null
    diff -u --label "$old" --label "$new" "$work/a" "$work/b" || [ $? -eq 1 ]
}

files=$( (ls "$a"; ls "$b") | sort -u)
for f in $files; do
    [ -f "$a/$f" ] || show "$f"
done
for f in main.c step.h; do
    [ -f "$a/$f" ] && [ -f "$b/$f" ] && show "$f"
done
for f in $files; do
    case $f in main.c | step.h) continue ;; esac
    [ -f "$a/$f" ] && show "$f"
done
exit 0
