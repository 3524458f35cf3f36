# Prints a step's main.c without its per-step text: the block from the
# line "/* BEGIN STEP TEXT..." to the line "/* END STEP TEXT */". That
# block (title comment, step name, --help paragraph) differs in every
# step by design; make check-diffs and the tutorial's diffs leave it out.
/^\/\* BEGIN STEP TEXT/ { skipping = 1 }
!skipping { print }
/^\/\* END STEP TEXT \*\// { skipping = 0 }
