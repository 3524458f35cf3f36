#!/bin/sh
# tools/step-diff.sh A B: diff -u of two steps' main.c, named by number.
set -eu
step_dir() {
    for d in steps/$1-*/; do
        [ -d "$d" ] && { echo "${d%/}"; return 0; }
    done
    echo "no step $1 in steps/" >&2
    exit 2
}
a=$(step_dir "$1")
b=$(step_dir "$2")
diff -u "$a/main.c" "$b/main.c" || [ $? -eq 1 ]
