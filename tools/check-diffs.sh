#!/bin/sh
# tools/check-diffs.sh: fails when a step does more than add to the step
# before it. `make check-diffs` runs it.
#
# Each steps/NN-name/ is a copy of the step before it plus one kernel
# feature: a new layer file, and the lines main.c and step.h gain to call
# it. The tutorial teaches a step by its diff (make diff A=02 B=03). That
# only works when the diff is made of '+' lines: a '-' line, a line of
# the earlier step changed or deleted, is easy to miss and changes what
# the reader learned before. So every such line must be listed in
# steps/ALLOWED-CHANGES with the file and the reason the step needs it;
# the header of that file explains its format.
#
# For each pair of successive steps A -> B, sorted by number, and each
# file of either directory (a new file is all additions), it checks:
#
#  1. that each main.c has exactly one per-step text block, from a line
#     starting "/* BEGIN STEP TEXT" to a line exactly "/* END STEP TEXT */".
#     The block (title comment, step name, --help text) differs in every
#     step by design: tools/strip-step-text.awk removes it before diffing.
#  2. that every line the diff removes from A is listed for step B and
#     that file.
#  3. that no hunk changes whitespace only: a re-indent, a re-wrapped line,
#     a blank line added or removed alone. Such a hunk is noise in the
#     tutorial's diff, so no entry can allow it.
#  4. that every entry still matches a line removed by its step: a stale
#     entry would tell the reader about a change that is not there.
#
# The hunks it judges are those of diff -U0: each run of changed lines on
# its own, without context. A whitespace-only change made next to a real
# one, inside the three lines of context of make diff, is caught too.
#
# It prints one line per problem, then a summary, and exits 0 when every
# step only adds, 1 when it found a problem, 2 when it could not check.
# POSIX sh, awk and diff only, so that it runs on a bare Debian.
#
# Two variables point it at a copy of the tree, to test the check itself:
#   STEPS_DIR   the directory of the steps (default: steps)
#   ALLOW_FILE  the allow-list (default: $STEPS_DIR/ALLOWED-CHANGES)
set -eu
LC_ALL=C
export LC_ALL

STEPS_DIR=${STEPS_DIR:-steps}
ALLOW_FILE=${ALLOW_FILE:-$STEPS_DIR/ALLOWED-CHANGES}
STRIP_AWK=$(dirname "$0")/strip-step-text.awk

work=$(mktemp -d "${TMPDIR:-/tmp}/check-diffs.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 2' HUP INT TERM

# Every check appends to these two files.
problems=$work/problems # one line per problem found
changes=$work/changes   # what each step removes, for check_allow_list
: >"$problems"
: >"$changes"

problem() {
    printf '%s\n' "$*" >>"$problems"
}

# plural N WORD: "1 pair", "2 pairs".
plural() {
    if [ "$1" -eq 1 ]; then echo "$1 $2"; else echo "$1 ${2}s"; fi
}

# check_markers FILE: checks the per-step text block of FILE. When it is
# well formed, prints the numbers of its first and last lines; when not,
# reports each problem and fails.
check_markers() {
    awk -v file="$1" -v out="$problems" '
        function bad(line, msg) {
            if (line)
                printf "%s:%d: %s\n", file, line, msg >>out
            else
                printf "%s: %s\n", file, msg >>out
            nbad++
        }
        /^\/\* BEGIN STEP TEXT/ {
            if (begin)
                bad(NR, "a second \"/* BEGIN STEP TEXT\" line (the first is line " begin "); a step has exactly one text block")
            else
                begin = NR
            next
        }
        $0 == "/* END STEP TEXT */" {
            if (end)
                bad(NR, "a second \"/* END STEP TEXT */\" line (the first is line " end "); a step has exactly one text block")
            else
                end = NR
            next
        }
        /^[ \t]*\/\*[ \t]*(BEGIN|END) STEP TEXT/ {
            bad(NR, "a text block marker must start the line, and END must be exactly \"/* END STEP TEXT */\"")
        }
        END {
            if (!begin)
                bad(0, "no line starting \"/* BEGIN STEP TEXT\"; each step needs one to open its text block")
            if (!end)
                bad(0, "no line \"/* END STEP TEXT */\"; each step needs one to close its text block")
            if (begin && end && end < begin)
                bad(end, "\"/* END STEP TEXT */\" comes before \"/* BEGIN STEP TEXT\" (line " begin ")")
            if (nbad)
                exit 1
            print begin, end
        }
    ' "$1"
}

# prepare_step NAME: checks step NAME's text block and copies its files
# to $work/NAME/, main.c without the block, whose first and last line
# numbers go to $work/NAME.block. Fails when the step cannot be diffed.
prepare_step() {
    src=$STEPS_DIR/$1/main.c
    if [ ! -f "$src" ]; then
        problem "$STEPS_DIR/$1: no main.c"
        return 1
    fi
    check_markers "$src" >"$work/$1.block" || return 1
    mkdir "$work/$1"
    for f in "$STEPS_DIR/$1"/*; do
        [ -f "$f" ] && cp "$f" "$work/$1/"
    done
    awk -f "$STRIP_AWK" "$src" >"$work/$1/main.c"
}

# diff_pair A B: diffs each file of steps A and B (main.c stripped), and
# appends tab-separated records to $changes for check_allow_list:
#   P  B  A                                B was diffed with A
#   W  B  A  PATH:LINE  FILE  HUNK-HEADER  a whitespace-only hunk
#   M  B  A  PATH:LINE  FILE  LINE-TEXT    a line that hunk removes
#   R  B  A  PATH:LINE  FILE  LINE-TEXT    a line any other hunk removes
# LINE-TEXT is trimmed; PATH:LINE is where the hunk or line is in the real
# file, not in the stripped one.
diff_pair() {
    printf 'P\t%s\t%s\n' "$2" "$1" >>"$changes"
    for f in $( (ls "$work/$1"; ls "$work/$2") | sort -u); do
        if [ ! -f "$work/$2/$f" ]; then
            problem "$1 -> $2: removes $f; a step keeps every file of the step before it"
            continue
        fi
        diff_file "$1" "$2" "$f"
    done
}

# diff_file A B FILE: the records of one file of the pair; a file that is
# new in B is compared with an empty one.
diff_file() {
    a_begin=0 a_end=0 b_begin=0 b_end=0
    if [ "$3" = main.c ]; then
        read -r a_begin a_end <"$work/$1.block"
        read -r b_begin b_end <"$work/$2.block"
    fi
    : >"$work/empty"
    a_file=$work/$1/$3
    b_file=$work/$2/$3
    [ -f "$a_file" ] || a_file=$work/empty
    [ -f "$b_file" ] || b_file=$work/empty
    status=0
    diff -U0 "$a_file" "$b_file" >"$work/diff" || status=$?
    if [ "$status" -gt 1 ]; then
        echo "check-diffs: diff failed on $3 of steps $1 and $2" >&2
        exit 2
    fi
    awk -v a="$1" -v b="$2" -v dir="$STEPS_DIR" -v file="$3" \
        -v a_begin="$a_begin" -v a_end="$a_end" \
        -v b_begin="$b_begin" -v b_end="$b_end" '
        # The line number in the real file of line n of the stripped one.
        function real_line(n, begin, end) {
            return (begin == 0 || n < begin) ? n : n + end - begin + 1
        }
        function trim(s) {
            sub(/^[ \t\f\r\v]+/, "", s)
            sub(/[ \t\f\r\v]+$/, "", s)
            return s
        }
        function squeeze(s) {
            gsub(/[ \t\f\r\v]/, "", s)
            return s
        }
        # "-171,2" or "+231" -> 171 or 231
        function start_of(range) {
            sub(/^[-+]/, "", range)
            sub(/,.*/, "", range)
            return range + 0
        }
        function where(step, n) {
            return dir "/" step "/" file ":" n
        }
        function end_hunk(   i, removed, added, type) {
            if (header == "")
                return
            removed = added = ""
            for (i = 1; i <= n_removed; i++)
                removed = removed squeeze(line[i])
            for (i = 1; i <= n_added; i++)
                added = added squeeze(add[i])
            if (removed == added) {
                if (n_added)
                    print "W", b, a, where(b, real_line(b_start, b_begin, b_end)), file, header
                else
                    print "W", b, a, where(a, real_line(a_start, a_begin, a_end)), file, header
            }
            type = removed == added ? "M" : "R"
            for (i = 1; i <= n_removed; i++)
                print type, b, a, where(a, real_line(a_start + i - 1, a_begin, a_end)), file, trim(line[i])
            header = ""
        }
        BEGIN { OFS = "\t" }
        /^@@ / {
            end_hunk()
            header = $0
            split($0, field, " ")
            a_start = start_of(field[2])
            b_start = start_of(field[3])
            n_removed = n_added = 0
            next
        }
        header == "" { next } # the "---" and "+++" lines
        /^-/ { line[++n_removed] = substr($0, 2); next }
        /^\+/ { add[++n_added] = substr($0, 2); next }
        END { end_hunk() }
    ' "$work/diff" >>"$changes"
}

# check_allow_list: reads the allow-list, then $changes. Reports each
# malformed or repeated entry, whitespace-only hunk, removed line that no
# entry allows, and entry that allows nothing; writes the number of
# entries to $work/allowed.
check_allow_list() {
    allow=$ALLOW_FILE
    [ -f "$allow" ] || allow=/dev/null
    awk -v allow_name="$ALLOW_FILE" -v steps_dir="$STEPS_DIR" \
        -v count_file="$work/allowed" '
        function trim(s) {
            sub(/^[ \t\f\r\v]+/, "", s)
            sub(/[ \t\f\r\v]+$/, "", s)
            return s
        }
        function last_index(s, c,   i, at) {
            at = 0
            while ((i = index(substr(s, at + 1), c)) > 0)
                at += i
            return at
        }
        # The text of the record after its nth tab.
        function rest(n,   s, i) {
            s = $0
            for (i = 0; i < n; i++)
                s = substr(s, index(s, "\t") + 1)
            return s
        }
        function bad_entry(msg) {
            entry_problem[++n_entry_problems] = allow_name ":" FNR ": " msg
        }
        # What an entry or a record names: step, file and line.
        function key_of(step, file, text) {
            return step SUBSEP file SUBSEP text
        }

        BEGIN { FS = "\t" } # for the records; entries are split by hand

        # The allow-list: "STEP | FILE | LINE | REASON". LINE may hold a
        # "|", REASON may not: the fields end at the first two and the last.
        FILENAME == ARGV[1] {
            if ($0 ~ /^[ \t]*#/ || $0 ~ /^[ \t\r]*$/)
                next
            first = index($0, "|")
            second = first ? index(substr($0, first + 1), "|") : 0
            second = second ? first + second : 0
            last = last_index($0, "|")
            if (first == 0 || second == 0 || second == last) {
                bad_entry("not an entry \"NN-name | file | removed line | reason\", nor a comment (#)")
                next
            }
            step = trim(substr($0, 1, first - 1))
            file = trim(substr($0, first + 1, second - first - 1))
            text = trim(substr($0, second + 1, last - second - 1))
            reason = trim(substr($0, last + 1))
            if (step !~ /^[0-9][0-9]-/) {
                bad_entry("\"" step "\" is not a step name such as 03-pid")
                next
            }
            if (file == "" || file ~ /\//) {
                bad_entry("\"" file "\" is not a file name such as main.c")
                next
            }
            if (reason == "") {
                bad_entry("no reason after the last \"|\"; say why the step must change the line")
                next
            }
            key = key_of(step, file, text)
            if (key in entry_line) {
                bad_entry("repeats the entry of line " entry_line[key])
                next
            }
            entry_line[key] = FNR
            entry[++n_entries] = key
            next
        }

        # The records of diff_pair and main, tab-separated.
        $1 == "P" { diffed[$2] = 1; next }
        $1 == "S" { skipped[$2] = 1; next }
        $1 == "W" {
            print $3 " -> " $2 ": hunk " rest(5) " (" $4 ") changes whitespace only; undo it, as no allow-list entry can excuse it"
            next
        }
        $1 == "M" {
            if (key_of($2, $5, rest(5)) in entry_line)
                used[key_of($2, $5, rest(5))] = 1
            next
        }
        $1 == "R" {
            key = key_of($2, $5, rest(5))
            if (key in entry_line) {
                used[key] = 1
                next
            }
            print $3 " -> " $2 ": changes or removes \"" rest(5) "\" (" $4 "), not in " allow_name "; to allow it, add: " $2 " | " $5 " | " rest(5) " | <why " $2 " must change it>"
            next
        }

        END {
            for (i = 1; i <= n_entry_problems; i++)
                print entry_problem[i]
            for (i = 1; i <= n_entries; i++) {
                key = entry[i]
                if (key in used)
                    continue
                split(key, part, SUBSEP)
                where = allow_name ":" entry_line[key]
                text = substr(key, length(part[1]) + length(part[2]) + 3)
                if (part[1] in diffed)
                    print where ": stale entry, " part[1] " no longer changes or removes \"" text "\" in " part[2] "; delete the entry"
                else if (!(part[1] in skipped))
                    print where ": \"" part[1] "\" is not a step after the first in " steps_dir
            }
            print n_entries + 0 >count_file
        }
    ' "$allow" "$changes" >>"$problems"
}

main() {
    n_steps=0
    n_pairs=0
    prev=""
    prev_ok=no
    for dir in "$STEPS_DIR"/[0-9][0-9]-*/; do
        [ -d "$dir" ] || continue
        name=${dir%/}
        name=${name##*/}
        n_steps=$((n_steps + 1))
        ok=yes
        prepare_step "$name" || ok=no
        if [ -n "$prev" ]; then
            n_pairs=$((n_pairs + 1))
            if [ "$prev_ok" = yes ] && [ "$ok" = yes ]; then
                diff_pair "$prev" "$name"
            else
                # Record "S": B was skipped, as a text block is broken.
                # Its entries are not stale, just unchecked.
                printf 'S\t%s\t%s\n' "$name" "$prev" >>"$changes"
            fi
        fi
        prev=$name
        prev_ok=$ok
    done
    if [ "$n_steps" -eq 0 ]; then
        echo "check-diffs: no steps in $STEPS_DIR (no $STEPS_DIR/NN-name/)" >&2
        exit 2
    fi
    check_allow_list

    n_problems=$(awk 'END { print NR }' "$problems")
    if [ "$n_problems" -eq 0 ]; then
        echo "check-diffs: $(plural "$n_pairs" "step pair"), only additions" \
            "($(plural "$(cat "$work/allowed")" "allowed change"))"
        exit 0
    fi
    cat "$problems" >&2
    echo "check-diffs: $(plural "$n_pairs" "step pair")," \
        "$(plural "$n_problems" problem)" >&2
    exit 1
}

main
