# tools/picture.awk: the awk helpers the pictures' scripts share
# (matrix-picture.sh, bench-picture.sh, step-picture.sh), put before each
# one's own program. The pictures are graphviz HTML-like tables, so a
# text goes into a cell escaped. fail() needs -v prog= and -v file=.

# Ends the program with "PROG: FILE:LINE: MSG" on stderr; the script's
# END block checks failed.
function fail(msg) {
    printf "%s: %s:%d: %s\n", prog, file, FNR, msg >"/dev/stderr"
    failed = 1
    exit 1
}

# A text as graphviz's HTML-like labels take it.
function esc(s) {
    gsub(/&/, "\\&amp;", s)
    gsub(/</, "\\&lt;", s)
    gsub(/>/, "\\&gt;", s)
    return s
}

# One cell of a table row.
function cell(attrs, text) {
    return "<TD " attrs ">" text "</TD>"
}
