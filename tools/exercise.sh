#!/bin/sh
# tools/exercise.sh NN [DIR]: writes the exercise of step NN into DIR
# (default exercises/NN-name) and builds it: make exercise STEP=NN.
#
# An exercise is a skeleton a student builds step NN from. It is made
# from the code, never kept by hand, so it cannot drift: it is
# steps/NN-name with what step NN adds to the step before taken out, which
# is exactly what make diff shows (the new layer file, the '+' lines of
# main.c and step.h). tools/exercise.awk turns each file of step NN, set
# against the step before, into the skeleton's: the new functions keep
# their comment and signature around a TODO(NN) body; each statement step
# NN adds to main.c becomes a TODO(NN) comment naming it and its purpose;
# declarations, struct fields, tables and the option table stay, so that
# the skeleton takes step NN's command line; a line step NN changes
# (steps/ALLOWED-CHANGES) stays as the step before has it.
#
# Then it compiles each file: a name that only the removed code used (a
# parameter of a stub, a helper, a local variable) gets a line
# "(void)NAME; /* TODO(NN): remove once used */" where the removed code
# used it, so that the skeleton builds with -Werror as it is. It writes a
# Makefile into DIR that builds DIR/NN-name with the project's flags and
# its shared/ library (make exercise-build), and builds it: a fresh
# skeleton behaves like step NN-1 where step NN's layer goes.
#
# Step 00 has no exercise: it is the baseline. There is no step before it
# to take a layer from (its diff would be the whole program), and it
# isolates nothing, so no property could show its layer missing.
#
# DIR may be a student's work: it refuses to write over it unless FORCE=1.
# The Makefile passes CC and EXERCISE_CFLAGS, the project's compiler and
# flags, and MAKE. Exit 2 on a usage error, 1 when the skeleton cannot be
# made (a bug of this tool).
set -eu
LC_ALL=C
export LC_ALL

top=$(cd "$(dirname "$0")/.." && pwd)
# The functions whose new lines stay: the skeleton takes its step's
# command line, and hands it to the layer's parse functions, stubbed.
KEEP_FUNCTIONS=parse_args
# Whose comments say what a call is for: the step's own files, and the
# shared helpers but for those that report (error.c, trace.c).
REPORTING="error.c trace.c"

steps=$(cd "$top/steps" && ls -d [0-9][0-9]-*/ | sed 's,/$,,')
exercises=$(echo "$steps" | sed 1d | cut -c1-2 | tr '\n' ' ' | sed 's/ $//')

usage() {
    echo "usage: make exercise STEP=NN [FORCE=1], NN one of: $exercises" >&2
    exit 2
}

[ $# -ge 1 ] && [ -n "$1" ] || usage
step=$1
case $step in
[0-9][0-9]) name=$(echo "$steps" | grep "^$step-" || true) ;;
*) name="" ;;
esac
[ -n "$name" ] || {
    echo "make exercise: no step $step in steps/" >&2
    usage
}
# The step before: the line above NN's in the list (none for the first).
prev=$(echo "$steps" | sed -n "/^$name\$/{x;p;q;};h")
if [ -z "$prev" ]; then
    cat >&2 <<EOF
make exercise: step $step ($name) is the baseline: it has no exercise. There
is no step before it to take a layer from, and it isolates nothing; its
process plumbing is what every exercise starts from. The exercises: $exercises
EOF
    exit 2
fi
case ${2:-} in
"") dir=$top/exercises/$name ;;
/*) dir=$2 ;;
*) dir=$(pwd)/$2 ;;
esac
shown=${dir#"$top"/}
if [ -e "$dir" ] && [ "${FORCE:-}" != 1 ]; then
    echo "make exercise: $shown exists, and may hold your work: left as it" \
        "is." >&2
    echo "hint: to start again from a fresh skeleton, move it away, or run" \
        "'make exercise STEP=$step FORCE=1' (which deletes it)" >&2
    exit 2
fi
: "${EXERCISE_CFLAGS:?run it through the Makefile: make exercise STEP=NN}"

work=$(mktemp -d "${TMPDIR:-/tmp}/exercise.XXXXXX")
trap 'rm -rf "$work"' EXIT
out=$work/$name
mkdir "$out"
cd "$top"

# The purposes: each function's comment, first sentence, by its name.
for f in shared/*.c steps/"$name"/*.c; do
    case " $REPORTING " in *" ${f#shared/} "*) continue ;; esac
    sed 's/^/ /' "$f" | awk -v index_only=1 -f tools/exercise.awk
done >"$work/purposes"

# The reasons steps/ALLOWED-CHANGES gives for step NN's changes to FILE,
# as "LINE<Tab>REASON" ("STEP | FILE | LINE | REASON", LINE may hold '|').
reasons() {
    awk -v step="$name" -v file="$1" '
        function trim(s) {
            gsub(/^[ \t]+|[ \t]+$/, "", s)
            return s
        }
        /^[ \t]*(#|$)/ { next }
        {
            n = split($0, f, "|")
            if (n < 4 || trim(f[1]) != step || trim(f[2]) != file)
                next
            line = f[3]
            for (i = 4; i < n; i++)
                line = line "|" f[i]
            printf "%s\t%s\n", trim(line), trim(f[n])
        }' steps/ALLOWED-CHANGES
}

# Each file of step NN, against the step before's (or none: a new file).
for path in steps/"$name"/*; do
    f=${path##*/}
    if [ -f "steps/$prev/$f" ]; then
        diff --old-line-format='-%L' --new-line-format='+%L' \
            --unchanged-line-format=' %L' "steps/$prev/$f" "$path" \
            >"$work/listing" || [ $? -eq 1 ]
    else
        sed 's/^/+/' "$path" >"$work/listing"
    fi
    reasons "$f" >"$work/reasons"
    awk -v step="$step" -v keep="$KEEP_FUNCTIONS" \
        -v purposes="$work/purposes" -v reasons="$work/reasons" \
        -f tools/exercise.awk "$work/listing" >"$out/$f"
done

# The names only the removed code used, from the compiler: "LINE NAME".
unused_names() {
    flags=$(echo " $EXERCISE_CFLAGS " | sed 's/ -Werror / /')
    # shellcheck disable=SC2086
    if ! ${CC:-gcc} $flags -fdiagnostics-plain-output -c -o /dev/null "$1" \
        2>"$work/warnings"; then
        cat "$work/warnings" >&2
        echo "tools/exercise.sh: the skeleton's $1 does not compile" >&2
        exit 1
    fi
    sed -n 's/^[^:]*:\([0-9]*\):[0-9]*: warning: /\1 /p' "$work/warnings" |
        while read -r line message; do
            case $message in
            "unused variable '"* | "unused parameter '"* | \
                "variable '"*"' set but not used"* | \
                "'"*"' defined but not used"*)
                echo "$line $(echo "$message" | cut -d"'" -f2)"
                ;;
            *)
                cat "$work/warnings" >&2
                echo "tools/exercise.sh: unexpected warning in $1" >&2
                exit 1
                ;;
            esac
        done
}

# Each placeholder becomes "(void)NAME;" for the names the compiler found
# unused before it, the first placeholder after each name's line that
# lists it; or nothing.
for c in "$out"/*.c; do
    unused_names "$c" >"$work/unused"
    awk -v step="$step" -v unused="$work/unused" '
        BEGIN {
            while ((getline entry < unused) > 0) {
                split(entry, f, " ")
                line[++n] = f[1]
                name[n] = f[2]
            }
        }
        /^[ ]*\/\* exercise-uses: .* \*\/$/ {
            match($0, /^[ ]*/)
            ind = substr($0, 1, RLENGTH)
            k = split($0, uses, " ")
            delete done
            for (j = 3; j < k; j++)
                for (i = 1; i <= n; i++)
                    if (!placed[i] && name[i] == uses[j] && line[i] < FNR &&
                        !(uses[j] in done)) {
                        placed[i] = done[uses[j]] = 1
                        printf "%s(void)%s; /* TODO(%s): remove once used */\n",
                            ind, uses[j], step
                    }
            next
        }
        { print }
        END {
            for (i = 1; i <= n; i++)
                if (!placed[i]) {
                    printf "tools/exercise.sh: nothing the skeleton " \
                        "removed used %s (line %d)\n", name[i], line[i] \
                        >"/dev/stderr"
                    bad = 1
                }
            exit bad
        }' "$c" >"$work/placed"
    cp "$work/placed" "$c"
done

case $dir in
"$top"/exercises/*/*) root=$top ;;
"$top"/exercises/*) root=../.. ;;
*) root=$top ;;
esac
cat >"$out/Makefile" <<EOF
# $shown/Makefile, written by make exercise STEP=$step: builds this
# skeleton of step $step into $name, here, with boxstep's compiler flags
# and its shared/ library (make exercise-build, in the project).
#
#   make                  build ./$name
#   grep -n 'TODO($step)' *.c *.h     what is left to write
#
# From the project's directory, to grade it (as root):
#
#   sudo make grade STEP=$step STEP_BIN=$shown/$name
BOXSTEP := $root

all:
	@\$(MAKE) --no-print-directory -C \$(BOXSTEP) exercise-build \\
		EXERCISE=\$(CURDIR)

.PHONY: all
EOF

if [ -e "$dir" ]; then
    rm -rf "$dir"
fi
mkdir -p "$(dirname "$dir")"
cp -R "$out" "$dir"
"${MAKE:-make}" --no-print-directory -C "$top" exercise-build EXERCISE="$dir"
todo=$(cat "$dir"/*.c "$dir"/*.h | grep -c "TODO($step)" || true)
[ "$todo" = 1 ] && comments=comment || comments=comments
echo "$shown: step $step without its layer, $todo TODO($step) $comments" \
    "where it goes:"
cat <<EOF
  what to write:  grep -n 'TODO($step)' $shown/*.[ch]
  build:          make -C $shown
  grade:          sudo make grade STEP=$step STEP_BIN=$shown/$name
                  (in make sandbox you are root already: no sudo)
EOF
