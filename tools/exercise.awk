# tools/exercise.awk: one file of an exercise's skeleton, for
# tools/exercise.sh (make exercise STEP=NN).
#
# The input is one file of step NN set against the same file of the step
# before it, every line tagged: ' ' in both, '-' only in the earlier step,
# '+' only in step NN (a file new in step NN is all '+'). The output is
# step NN with what it adds taken out:
#
#  - a function step NN adds keeps its comment and its signature; its body
#    becomes a TODO(NN) comment (with the calls step NN's own body makes, as
#    a hint), a placeholder, and the smallest return that builds;
#  - a statement step NN adds to a function of the earlier step becomes a
#    TODO(NN) comment that shows the statement and says what it is for: the
#    text of its trailing comment, or else the first sentence of the
#    comment of the first function it calls (the "purposes" file);
#  - except in the functions named in `keep` (parse_args: the skeleton
#    takes its step's whole command line), and a new local variable whose
#    initialiser calls nothing: those lines stay (but not in a function
#    whose parameters step NN changes: the variable may stand for an old
#    parameter, or use a new one);
#  - a line step NN changes or removes stays as the earlier step has it,
#    after a TODO(NN) note with the reason steps/ALLOWED-CHANGES gives (the
#    "reasons" file), so the skeleton behaves like the earlier step there;
#    what step NN has instead becomes TODO(NN) comments. A function whose
#    header step NN changes (its parameters) keeps the earlier header and
#    body, with step NN's new lines in it as TODO(NN) comments;
#  - everything else step NN adds stays: includes, macros, comments, types,
#    struct fields, declarations and tables; main.c's text block (--help)
#    is step NN's.
#
# A placeholder is a line "/* exercise-uses: NAME... */" listing the
# names the removed code used: parameters first for a stub. exercise.sh
# compiles the skeleton, and turns each placeholder into the lines
# "(void)NAME;" the compiler asks for (a name nothing uses any more), or
# into nothing.
#
# With index_only=1 it prints instead, for each function defined in its
# input, "NAME<Tab>the first sentence of its comment": the purposes file.
#
# Variables: step (03), keep (function names), purposes and reasons (files
# of "KEY<Tab>TEXT" lines), index_only. POSIX awk (Debian's mawk).

BEGIN {
    W = 80
    n = split(keep, parts, " ")
    for (i = 1; i <= n; i++)
        keep_fn[parts[i]] = 1
    n = split("if else for while do switch case return sizeof goto break " \
              "continue default typeof", parts, " ")
    for (i = 1; i <= n; i++)
        keyword[parts[i]] = 1
    load(purposes, purpose)
    load(reasons, reason)
    depth = 0     # braces open on step NN's side
    fn = ""       # the function whose body this is, or ""
    n_old = 0     # lines of the earlier step, kept until the hunk ends
}

# Reads "KEY<Tab>TEXT" lines into map.
function load(file, map,    line, tab) {
    if (file == "")
        return
    while ((getline line < file) > 0) {
        tab = index(line, "\t")
        if (tab)
            map[substr(line, 1, tab - 1)] = substr(line, tab + 1)
    }
    close(file)
}

# Prints a line of the skeleton (nothing when making the index).
function put(s) {
    if (!index_only)
        print s
}

function trim(s) {
    sub(/^[ \t]+/, "", s)
    sub(/[ \t]+$/, "", s)
    return s
}

function indent_of(s) {
    match(s, /^[ ]*/)
    return substr(s, 1, RLENGTH)
}

# The code of a line: comments out (st["c"] carries one that goes on),
# string and character literals emptied, so braces in them do not count.
function code_of(s, st,    out, i, n, c, q) {
    out = ""
    n = length(s)
    i = 1
    while (i <= n) {
        c = substr(s, i, 1)
        if (st["c"]) {
            if (substr(s, i, 2) == "*/") {
                st["c"] = 0
                i += 2
            } else
                i++
            continue
        }
        if (substr(s, i, 2) == "/*") {
            st["c"] = 1
            out = out " "
            i += 2
            continue
        }
        if (c == "\"" || c == "'") {
            q = c
            for (i++; i <= n && substr(s, i, 1) != q; i++)
                if (substr(s, i, 1) == "\\")
                    i++
            out = out q q
            i++
            continue
        }
        out = out c
        i++
    }
    return out
}

function count(s, ch,    n, i) {
    n = 0
    for (i = 1; i <= length(s); i++)
        if (substr(s, i, 1) == ch)
            n++
    return n
}

# The names code uses, space-separated, each once: no keywords, and no
# member names (after "." or "->"), which are not variables.
function names_in(code, calls_only,    out, seen, rest, name, before, after) {
    out = ""
    rest = code
    while (match(rest, /[A-Za-z_][A-Za-z0-9_]*/)) {
        name = substr(rest, RSTART, RLENGTH)
        before = substr(rest, 1, RSTART - 1)
        rest = substr(rest, RSTART + RLENGTH)
        after = rest
        sub(/^[ \t]+/, "", after)
        if (before ~ /(\.|->)[ \t]*$/ || before ~ /[0-9]$/ ||
            (name in keyword) || (name in seen))
            continue
        if (calls_only && substr(after, 1, 1) != "(")
            continue
        seen[name] = 1
        out = out (out == "" ? "" : " ") name
    }
    return out
}

# "a b c" -> "a(), b() and c()"
function call_list(names,    n, parts, i, out) {
    n = split(names, parts, " ")
    out = ""
    for (i = 1; i <= n; i++)
        out = out (i == 1 ? "" : i == n ? " and " : ", ") parts[i] "()"
    return out
}

# Prints text as comment lines, words wrapped at W columns: the first
# line after first, the others after rest.
function wrap(text, first, rest,    n, words, i, line, lead) {
    n = split(text, words, " ")
    line = ""
    lead = first
    for (i = 1; i <= n; i++) {
        if (line != "" && length(lead line " " words[i]) > W) {
            put(lead line)
            line = ""
            lead = rest
        }
        line = line (line == "" ? "" : " ") words[i]
    }
    if (line != "")
        put(lead line)
}

# A comment: on one line when it fits, else as a block; text's own
# continuation lines are indented when it is code.
function comment(ind, text, more, is_code) {
    if (more == "" && length(ind "/* " text " */") <= W) {
        put(ind "/* " text " */")
        return
    }
    put(ind "/*")
    wrap(text, ind " * ", ind (is_code ? " *     " : " * "))
    if (more != "")
        wrap(more, ind " * ", ind " * ")
    put(ind " */")
}

function placeholder(ind, names) {
    if (names != "")
        put(ind "/* exercise-uses: " names " */")
}

# The first sentence of a comment's text.
function first_sentence(text,    at) {
    text = trim(text)
    at = index(text ". ", ". ")
    return at ? substr(text, 1, at) : text
}

# ---- statements step NN adds: TODO comments ----

# Whether a line goes on the statement being gathered.
function continues(s, code) {
    return n_group && (length(indent_of(s)) > length(group_ind) ||
                       group_open > 0 || trim(code) ~ /^else/)
}

function gather(s, code) {
    if (!n_group)
        group_ind = indent_of(s)
    group[++n_group] = s
    group_open += count(code, "(") + count(code, "{") - \
                  count(code, ")") - count(code, "}")
}

# The statement gathered becomes a TODO comment and a placeholder. Its
# comments are cut out of the code shown (a comment cannot hold one): a
# trailing "/* NN: text */" gives its purpose.
function flush_group(    i, line, code, said, c, text, st, calls, n, parts) {
    if (!n_group)
        return
    code = ""
    said = ""
    for (i = 1; i <= n_group; i++) {
        line = trim(group[i])
        while (match(line, /\/\*[^*]*\*+([^\/*][^*]*\*+)*\//)) {
            c = trim(substr(line, RSTART + 2, RLENGTH - 4))
            line = trim(substr(line, 1, RSTART - 1) " " \
                        substr(line, RSTART + RLENGTH))
            sub(/^[0-9][0-9]:?[ ]*/, "", c)
            if (c != "")
                said = said (said == "" ? "" : " ") c
        }
        code = code (code == "" ? "" : " ") line
    }
    gsub(/\( /, "(", code)
    delete st
    text = code_of(code, st)
    if (said == "") {
        n = split(names_in(text, 1), parts, " ")
        for (i = 1; i <= n && said == ""; i++)
            if (parts[i] in purpose)
                said = parts[i] "(): " purpose[parts[i]]
    }
    comment(group_ind, "TODO(" step "): " code, said, 1)
    placeholder(group_ind, names_in(text, 0))
    n_group = 0
    group_open = 0
}

# ---- lines step NN changes or removes: kept, with a note ----

function old_line(s) {
    if (s ~ /^\/\* BEGIN STEP TEXT/)
        old_block = 1
    if (old_block) {
        if (s == "/* END STEP TEXT */")
            old_block = 0
        return
    }
    old[++n_old] = s
}

function end_hunk(    i, why, t, ind) {
    flush_group()
    if (!n_old)
        return
    why = ""
    for (i = 1; i <= n_old; i++) {
        t = trim(old[i])
        if ((t in reason) && index(why, reason[t]) == 0)
            why = why (why == "" ? "" : "; ") reason[t]
    }
    if (why != "" && why !~ /\.$/)
        why = why "."
    ind = indent_of(old[1])
    comment(ind, "TODO(" step "): step " step " " \
            (hunk_new ? "replaces" : "removes") " the " \
            (n_old > 1 ? n_old " lines" : "line") " below" \
            (why == "" ? "." : ": " why), "", 0)
    for (i = 1; i <= n_old; i++)
        put(old[i])
    n_old = 0
    hunk_new = 0
}

# ---- functions step NN adds: stubs ----

function start_stub() {
    stub_body = ""
    put("{")
}

# The parameters' names: "int (*fn)(void *), void *arg" -> "fn arg".
function param_names(params,    out, n, parts, i, p) {
    out = ""
    gsub(/\([^()]*\)[ ]*$/, "", params) # a function pointer's own list
    n = split(params, parts, ",")
    for (i = 1; i <= n; i++) {
        p = trim(parts[i])
        if (match(p, /\([ ]*\*[ ]*[A-Za-z_][A-Za-z0-9_]*[ ]*\)/)) {
            p = substr(p, RSTART + 1, RLENGTH - 2)
        } else {
            gsub(/\[[^]]*\]/, "", p)
            if (p == "void" || p == "..." || p !~ /[ *]/)
                continue
        }
        match(p, /[A-Za-z_][A-Za-z0-9_]*[ ]*$/)
        out = out (out == "" ? "" : " ") trim(substr(p, RSTART))
    }
    return out
}

# The smallest return for a type: nothing, NULL, false, 0, or {0}.
function smallest_return(type) {
    gsub(/__attribute__[ ]*\(\(.*\)\)/, "", type)
    gsub(/(^|[ ])(static|inline|extern)[ ]/, " ", type)
    type = trim(type)
    if (type == "void")
        return ""
    if (type ~ /\*/)
        return "return NULL;"
    if (type == "bool")
        return "return false;"
    if (type ~ /^(const )?(struct|union) /)
        return "return (" type "){0};"
    return "return 0;"
}

function end_stub(    text, calls, params) {
    text = "TODO(" step "): write " fn "()" \
           (hdr_comment ? ", as the comment above says." : ".")
    calls = names_in(stub_body, 1)
    if (calls != "")
        text = text " Step " step "'s own calls " call_list(calls) "."
    comment("    ", text, "", 0)
    params = hdr_params
    sub(/^[^(]*\(/, "", params)
    sub(/\)[^)]*$/, "", params)
    placeholder("    ", trim(param_names(params) " " names_in(stub_body, 0)))
    if (smallest_return(hdr_type) != "")
        put("    " smallest_return(hdr_type))
    put("}")
}

# ---- step NN's side, line by line ----

function reset_header() {
    hdr_changed = 0
    hdr_name = ""
    hdr_type = ""
    hdr_params = ""
    hdr_started = 0
}

# A line outside any function: comments, preprocessor lines, declarations,
# definitions and the header of a function.
function top_level(tag, s, code) {
    if (in_pp || code ~ /^#/) {
        in_pp = s ~ /\\$/
        emit(tag, s)
        return
    }
    if (trim(code) == "") {
        emit(tag, s)
        last_comment = trim(s) != "" ? NR : 0
        if (trim(s) == "")
            reset_header()
        return
    }
    if (s == "{" && hdr_name != "") {
        fn = hdr_name
        fn_new = hdr_tag == "+" && !hdr_changed
        fn_changed = hdr_changed
        depth = 1
        if (index_only && hdr_comment && comment_text != "")
            printf "%s\t%s\n", fn, first_sentence(comment_text)
        if (fn_new && !index_only)
            start_stub()
        else
            emit(tag, s)
        return
    }
    if (!hdr_started) {
        hdr_started = 1
        hdr_comment = last_comment == NR - 1
        if (!hdr_comment)
            comment_text = ""
    }
    if (match(s, /^[A-Za-z_][A-Za-z0-9_]*\(/)) {
        hdr_type = hdr_type " " hdr_params
        hdr_name = substr(s, 1, RLENGTH - 1)
        hdr_tag = tag
        hdr_changed = tag == "+" && replaces_header(hdr_name)
        hdr_params = s
    } else if (hdr_name != "")
        hdr_params = hdr_params " " s
    else
        hdr_type = hdr_type " " s
    depth += count(code, "{") - count(code, "}")
    emit(tag, s)
    if (depth == 0 && code ~ /[;}][ \t]*$/)
        reset_header()
}

# Whether the lines step NN removes in this hunk hold the header of the
# function name: then step NN changes its parameters (steps/ALLOWED-CHANGES)
# and the function is the earlier step's, not a new one.
function replaces_header(name,    i) {
    for (i = 1; i <= n_old; i++)
        if (index(old[i], name "(") == 1)
            return 1
    return 0
}

# Prints a line outside the functions. One that a changed hunk brings
# cannot stand next to the line it replaces: it is shown in a comment.
function emit(tag, s) {
    if (tag == "+" && n_old && fn == "")
        comment(indent_of(s), "TODO(" step "): step " step " has: " trim(s),
                "", 1)
    else
        put(s)
}

function in_function(tag, s, code,    opens) {
    opens = count(code, "{") - count(code, "}")
    if (fn_new) {
        stub_body = stub_body " " code
        depth += opens
        if (depth == 0) {
            end_stub()
            fn = ""
            reset_header()
        }
        return
    }
    if (tag == "+" && continues(s, code)) {
        gather(s, code)
    } else if (tag == "+" && trim(s) == "") {
        flush_group() # a blank line starts no statement
        put(s)
    } else if (tag == "+") {
        flush_group()
        if (!n_old && ((fn in keep_fn) ||
                       (!fn_changed && is_local_variable(code))))
            put(s)
        else
            gather(s, code)
    } else {
        flush_group()
        put(s)
    }
    depth += opens
    if (depth == 0) {
        fn = ""
        reset_header()
    }
}

# "const struct options *o = c->opts;": a declaration that calls nothing.
function is_local_variable(code,    first) {
    code = trim(code)
    first = code
    sub(/[^A-Za-z0-9_].*/, "", first)
    return !(first in keyword) && code ~ /^(const |static |struct |enum |unsigned )*[A-Za-z_][A-Za-z0-9_]*[ *]+(const )?[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?( = [^(]*)?;$/
}

{
    tag = substr($0, 1, 1)
    s = substr($0, 2)
    if (tag == "-") {
        old_line(s)
        next
    }
    if (tag == " ") {
        end_hunk()
        old_line_state(s)
    } else if (n_old)
        hunk_new = 1 # the hunk replaces lines, not only removes them
    # main.c's text block: step NN's, as it is.
    if (s ~ /^\/\* BEGIN STEP TEXT/)
        new_block = 1
    if (new_block) {
        put(s)
        if (s == "/* END STEP TEXT */")
            new_block = 0
        next
    }
    code = code_of(s, st_new)
    if (index_only && fn == "" && trim(code) == "" && trim(s) != "")
        collect_comment(s)
    if (fn != "")
        in_function(tag, s, code)
    else
        top_level(tag, s, code)
}

# A line both steps have also moves the earlier step's text block state.
function old_line_state(s) {
    if (s ~ /^\/\* BEGIN STEP TEXT/)
        old_block = 1
    if (s == "/* END STEP TEXT */")
        old_block = 0
}

# The text of the comment above a function, for the purposes file.
function collect_comment(s,    t) {
    t = s
    gsub(/^[ \t]*(\/\*+|\*+\/|\*)?[ \t]*/, "", t)
    sub(/[ \t]*\*+\/[ \t]*$/, "", t)
    if (last_comment != NR - 1 || s ~ /^\/\*/)
        comment_text = ""
    comment_text = comment_text " " t
}

END {
    end_hunk()
}
