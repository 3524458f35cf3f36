# shellcheck shell=sh
# tools/step-main.sh: sourced by the tools that read a step's main.c
# (step-flags.sh, step-picture.sh); needs $prog and STEPS_DIR.
#
# step_main NN: sets main to steps/NN-name/main.c, or exits: 2 when NN is
# not a step number, 1 when no such step exists.
# shellcheck disable=SC2154 # prog: set by the sourcing script
step_main() {
    case $#:${1-} in
    1:[0-9][0-9]) ;;
    *)
        echo "usage: $prog NN   (a step number, such as 03)" >&2
        exit 2
        ;;
    esac
    main=""
    for dir in "$STEPS_DIR/$1"-*/; do
        [ -f "${dir}main.c" ] && main=${dir}main.c
    done
    if [ -z "$main" ]; then
        echo "$prog: no step $1 (no $STEPS_DIR/$1-name/main.c)" >&2
        exit 1
    fi
}
