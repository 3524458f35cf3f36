#!/bin/sh
# tools/tutorial.sh [--check]: makes tutorial.md from tutorial.md.in.
#
#   tools/tutorial.sh          regenerates tutorial.md (make tutorial)
#   tools/tutorial.sh --check  regenerates build/tutorial.md and compares it
#                              with tutorial.md; exit 1 and a unified diff
#                              when they differ (make tutorial-check)
#
# Runs as root from the top of the repository, after make: the sessions run
# the step binaries in build/.
#
# tutorial.md.in is Markdown plus four directives, each alone on a line:
#
#   @diff NN MM    a ```diff block: what step MM adds to step NN, as make diff
#                  shows it (tools/step-diff.sh): the new layer file first,
#                  then main.c without its step text (so its hunks' line
#                  numbers count from the line after that block), step.h.
#   @run COMMAND   "$ COMMAND" and its real output, stdout and stderr together,
#                  then "[exit status N]" when N is not 0. Consecutive @run
#                  lines make one ```console block. Each line runs alone in a
#                  fresh sandbox (below): nothing carries over to the next.
#                  Blanks at the end of output lines are dropped.
#   @picture NAME "ALT"
#                  a picture: "![ALT](pictures/NAME.svg)". tools/pictures.sh
#                  draws pictures/NAME.svg from its source, pictures/NAME.dot
#                  or, for step-NN, the step's code, or, for matrix, the
#                  recorded matrix (recorded/matrix.tsv); --check draws it into
#                  build/pictures/ and fails when the committed SVG differs.
#                  ALT, the text a reader who cannot see the picture gets,
#                  is required: what the picture shows, in a sentence, with
#                  no '"', '[' or ']'.
#   @recorded FILE "COMMAND"
#                  a recording: what COMMAND printed or wrote once, kept in
#                  FILE (a path from the top of the repository, committed),
#                  for a command no session can replay: one that takes
#                  minutes, or needs root outside the sandbox. First a line
#                  in italics that says so ("Recorded with `COMMAND`, kept
#                  in [`FILE`](FILE): `make tutorial-check` does not run it
#                  again."), then FILE verbatim: as Markdown when it ends
#                  in .md, else in a ``` block. --check includes the
#                  committed FILE as it is, so the check stays
#                  deterministic; refreshing FILE is the job of whatever
#                  wrote it (sudo make matrix-record, for recorded/). The
#                  COMMAND is required, in double quotes, with no '"' or
#                  '`' inside.
#
# A line starting with "@@" is copied with one "@" removed; any other line
# starting with "@" and a lower-case letter is an error (a mistyped
# directive); every other line is copied as it is.
#
# TUTORIAL_IN and TUTORIAL_OUT name other files than tutorial.md.in and
# tutorial.md, to try a directive on a small file; --check then writes to
# build/ a file of TUTORIAL_OUT's name.
#
# The check masks numbers: inside ```console blocks every run of digits
# compares equal (PIDs, inode numbers, namespace ids differ from run to run);
# everything else, prose and diffs included, must match exactly.
set -eu

# Every session runs in one clean, fixed environment, whoever calls us.
if [ "${BOXSTEP_TUTORIAL_ENV:-}" != clean ]; then
    exec env -i BOXSTEP_TUTORIAL_ENV=clean LC_ALL=C HOME=/root \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        TUTORIAL_IN="${TUTORIAL_IN:-tutorial.md.in}" \
        TUTORIAL_OUT="${TUTORIAL_OUT:-tutorial.md}" \
        sh "$0" "$@"
fi
unset BOXSTEP_TUTORIAL_ENV

# The sandbox each @run line runs in, as a command prefix: the command comes
# after it as "sh -c COMMAND". It is the test harness's throwaway sandbox,
# build/tests/sandbox (make tutorial builds it): it runs its argument vector
# as root in fresh UTS, IPC, mount, network and PID namespaces, with
# hostname "sandbox", its own /proc, a private tmpfs on /run, the same
# working directory and stdin from /dev/null, and exits with the command's
# status. So step 00 changing "the host's" hostname changes the sandbox's,
# never this machine's. No stand-in: another sandbox would print other
# output, and the check would fail for a reason that is not the code's.
SANDBOX='build/tests/sandbox --'
if [ ! -x build/tests/sandbox ]; then
    echo "tutorial.sh: no build/tests/sandbox: run 'sudo make tutorial'" >&2
    exit 1
fi

# Seconds a session may take before the script gives up on it.
RUN_TIMEOUT=60

IN=$TUTORIAL_IN
OUT=$TUTORIAL_OUT
CHECK_OUT=build/${OUT##*/}
prog=tools/tutorial.sh

die() {
    echo "$prog: $*" >&2
    exit 1
}

usage() {
    echo "usage: $prog [--check]" >&2
    exit 2
}

check=false
case $#:${1-} in
0:) ;;
1:--check) check=true ;;
*) usage ;;
esac

if [ ! -f "$IN" ] || [ ! -d steps ]; then
    die "no $IN: run me from the top of the boxstep repository"
fi
[ "$(id -u)" = 0 ] ||
    die "the sessions run containers and need root: sudo make tutorial"
for dir in steps/[0-9][0-9]-*/; do
    name=${dir#steps/}
    name=${name%/}
    [ -x "build/$name" ] || die "build/$name is missing: run make first"
done

mkdir -p build
tmp=$(mktemp -d build/tutorial.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# The directory of step NN: steps/NN-name.
step_dir() {
    for dir in steps/"$1"-*/; do
        [ -d "$dir" ] && {
            echo "${dir%/}"
            return 0
        }
    done
    die "$IN:$lineno: no step $1 in steps/"
}

# @diff NN MM: what make diff A=NN B=MM shows (tools/step-diff.sh).
emit_diff() {
    [ $# -eq 2 ] || die "$IN:$lineno: usage: @diff NN MM"
    step_dir "$1" >/dev/null
    step_dir "$2" >/dev/null
    tools/step-diff.sh "$1" "$2" >"$tmp/diff"
    [ -s "$tmp/diff" ] || die "$IN:$lineno: steps $1 and $2 do not differ"
    echo '```diff'
    cat "$tmp/diff"
    echo '```'
}

# @run COMMAND: one session line and its output.
emit_run() {
    [ -n "$1" ] || die "$IN:$lineno: @run needs a command"
    printf '$ %s\n' "$1"
    status=0
    eval "timeout -k 5 $RUN_TIMEOUT $SANDBOX sh -c \"\$1\"" \
        </dev/null >"$tmp/run" 2>&1 || status=$?
    [ "$status" -ne 124 ] ||
        die "$IN:$lineno: still running after ${RUN_TIMEOUT}s: $1"
    awk '{ sub(/[ \t]+$/, ""); print }' "$tmp/run"
    [ "$status" -eq 0 ] || echo "[exit status $status]"
}

# unquote DIRECTIVE WHAT TEXT FORBIDDEN NAMED: TEXT without its double
# quotes, in $unquoted; dies when TEXT is not one non-empty quoted string,
# or holds a character of FORBIDDEN (a bracket expression, such as [][]),
# which NAMED names for the reader.
unquote() {
    case $3 in
    '""' | *'"'*'"'*'"'* | *$4*)
        die "$IN:$lineno: @$1: $2 must be non-empty, in double quotes, with" \
            "no '\"' or $5 inside"
        ;;
    '"'*'"')
        unquoted=${3#\"}
        unquoted=${unquoted%\"}
        ;;
    *) die "$IN:$lineno: @$1: $2 goes in double quotes" ;;
    esac
}

# @picture NAME "ALT": draws (or checks) the picture, then links it.
emit_picture() {
    set -- "${1# }"
    name=${1%% *}
    alt=${1#"$name"}
    alt=${alt# }
    case $name in
    "" | *[!a-z0-9-]* | -*)
        die "$IN:$lineno: usage: @picture NAME \"ALT\", NAME of a-z, 0-9, -"
        ;;
    esac
    unquote "picture $name" ALT "$alt" '[][]' "'[' or ']'"
    alt=$unquoted
    if $check; then
        tools/pictures.sh check "$name" >&2 ||
            die "$IN:$lineno: picture $name is not up to date (above)"
    else
        tools/pictures.sh draw "$name" >&2 ||
            die "$IN:$lineno: could not draw picture $name (above)"
    fi
    printf '![%s](pictures/%s.svg)\n' "$alt" "$name"
}

# @recorded FILE "COMMAND": the note, then the committed recording.
emit_recorded() {
    set -- "${1# }"
    file=${1%% *}
    command=${1#"$file"}
    command=${command# }
    unquote "recorded $file" COMMAND "$command" '[`]' "'\`'"
    command=$unquoted
    case $file in
    "" | /* | *..*)
        die "$IN:$lineno: @recorded: FILE must be a path inside the" \
            "repository, such as recorded/matrix.md"
        ;;
    esac
    [ -f "$file" ] ||
        die "$IN:$lineno: no $file: record it ($command) and commit it"
    # shellcheck disable=SC2016 # the backquotes are Markdown's
    printf '*Recorded with `%s`, kept in [`%s`](%s): `make tutorial-check`' \
        "$command" "$file" "$file"
    printf ' does not run it again.*\n\n'
    case $file in
    *.md) cat "$file" ;;
    *)
        echo '```'
        cat "$file"
        echo '```'
        ;;
    esac
}

generate() {
    cat <<'EOF'
<!-- Generated from tutorial.md.in by `make tutorial` (tools/tutorial.sh)
     and checked by `make tutorial-check`: edit tutorial.md.in, never
     this file. -->
EOF
    lineno=0
    in_run=false
    while IFS= read -r line || [ -n "$line" ]; do
        lineno=$((lineno + 1))
        case $line in
        @run | '@run '*)
            $in_run || echo '```console'
            in_run=true
            cmd=${line#@run}
            emit_run "${cmd# }"
            continue
            ;;
        esac
        if $in_run; then
            echo '```'
            in_run=false
        fi
        case $line in
        @diff | '@diff '*)
            set -f
            # shellcheck disable=SC2086 # split "NN MM" into two words
            set -- ${line#@diff}
            set +f
            emit_diff "$@"
            ;;
        @picture | '@picture '*) emit_picture "${line#@picture}" ;;
        @recorded | '@recorded '*) emit_recorded "${line#@recorded}" ;;
        @@*) printf '%s\n' "${line#@}" ;;
        @[a-z]*) die "$IN:$lineno: unknown directive: $line" ;;
        *) printf '%s\n' "$line" ;;
        esac
    done <"$IN"
    if $in_run; then
        echo '```'
    fi
}

# Replaces every run of digits inside ```console blocks with "#".
mask() {
    awk '
        /^```/ {
            if (console)
                console = 0
            else if ($0 ~ /^```console[ \t]*$/)
                console = 1
            print
            next
        }
        console { gsub(/[0-9]+/, "#") }
        { print }
    ' "$1"
}

if ! $check; then
    generate >"$tmp/tutorial.md"
    mv "$tmp/tutorial.md" "$OUT"
    echo "$prog: wrote $OUT"
    exit 0
fi

[ -f "$OUT" ] || die "no $OUT to check: run make tutorial"
generate >"$CHECK_OUT"
mask "$OUT" >"$tmp/committed"
mask "$CHECK_OUT" >"$tmp/regenerated"
if ! diff -u --label "$OUT (numbers in console blocks masked)" \
    --label "$CHECK_OUT (regenerated, masked alike)" \
    "$tmp/committed" "$tmp/regenerated"; then
    echo "$prog: $OUT differs from what $IN and the code make now." >&2
    echo "hint: edit $IN (not $OUT), run 'sudo make tutorial', commit both" >&2
    exit 1
fi
echo "$prog: $OUT is up to date"
