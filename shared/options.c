/*
 * options.c: the command line every step shares,
 *
 *     NN-name [OPTIONS] [--] [COMMAND [ARG...]]
 *
 * Each step keeps its own table of struct opt, one line per option, so a
 * step's diff shows the option it adds. Parsing stops at the first word
 * that is not an option, as in env(1) or sudo(8): "01-uts sh -c hostname"
 * runs "sh -c hostname", and -c belongs to sh.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boxstep.h"
#include "internal.h"

static const struct opt *
find_long(const struct opt *opts, const char *name, size_t len)
{
    for (; opts->name; opts++)
        if (strlen(opts->name) == len && strncmp(opts->name, name, len) == 0)
            return opts;
    return NULL;
}

static const struct opt *
find_short(const struct opt *opts, char name)
{
    for (; opts->name; opts++)
        if (opts->short_name && opts->short_name == name)
            return opts;
    return NULL;
}

/*
 * Parses a size: a whole number of bytes with an optional K, M or G
 * suffix, powers of 1024 as in docker --memory. Returns -1 with errno
 * EINVAL for anything else and ERANGE when it does not fit.
 */
int
parse_size(const char *text, unsigned long long *bytes)
{
    unsigned long long value, unit = 1;
    char *end;

    if (*text < '0' || *text > '9') {
        errno = EINVAL;
        return -1;
    }
    errno = 0;
    value = strtoull(text, &end, 10);
    if (errno == ERANGE)
        return -1;
    if (*end == 'K' || *end == 'k')
        unit = 1ULL << 10;
    else if (*end == 'M' || *end == 'm')
        unit = 1ULL << 20;
    else if (*end == 'G' || *end == 'g')
        unit = 1ULL << 30;
    if (unit != 1)
        end++;
    if (*end != '\0') {
        errno = EINVAL;
        return -1;
    }
    if (value > ULLONG_MAX / unit) {
        errno = ERANGE;
        return -1;
    }
    *bytes = value * unit;
    return 0;
}

static int
store_value(const struct opt *opt, const char *arg, char *err, size_t len)
{
    struct str_list *list = opt->value;

    switch (opt->kind) {
    case OPT_FLAG:
        *(bool *)opt->value = true;
        return 0;
    case OPT_STRING:
        *(const char **)opt->value = arg;
        return 0;
    case OPT_SIZE:
        if (parse_size(arg, opt->value) == 0)
            return 0;
        snprintf(err, len, "--%s %s: %s", opt->name, arg,
                 errno == ERANGE ? "too large"
                                 : "not a size (a number with an optional "
                                   "K, M or G suffix)");
        return -1;
    case OPT_LIST:
        if (list->len < OPT_LIST_MAX) {
            list->items[list->len++] = arg;
            return 0;
        }
        snprintf(err, len, "--%s: at most %d of them", opt->name, OPT_LIST_MAX);
        errno = E2BIG;
        return -1;
    }
    errno = EINVAL;
    return -1;
}

/* Parses one option at argv[*i], and its argument; advances *i. */
static int
parse_one(const struct opt *opts, int argc, char *argv[], int *i, char *err,
          size_t len)
{
    const char *word = argv[*i], *arg = NULL;
    const struct opt *opt;

    if (word[1] == '-') {
        const char *eq = strchr(word + 2, '=');
        size_t name_len = eq ? (size_t)(eq - word - 2) : strlen(word + 2);

        opt = find_long(opts, word + 2, name_len);
        arg = eq ? eq + 1 : NULL;
    } else {
        opt = word[2] == '\0' ? find_short(opts, word[1]) : NULL;
    }
    errno = EINVAL;
    if (!opt) {
        snprintf(err, len, "unknown option '%s'", word);
        return -1;
    }
    if (opt->kind == OPT_FLAG && arg) {
        snprintf(err, len, "--%s takes no value", opt->name);
        return -1;
    }
    if (opt->kind != OPT_FLAG && !arg) {
        if (*i + 1 >= argc) {
            snprintf(err, len, "--%s needs a value: --%s %s", opt->name,
                     opt->name, opt->arg_name);
            return -1;
        }
        arg = argv[++*i];
    }
    (*i)++;
    return store_value(opt, arg, err, len);
}

/*
 * Parses the options in argv[1..] into the table's values. Returns the
 * index of COMMAND (argc when there is none), or -1 with a message in err
 * and errno set.
 */
int
parse_options(const struct opt *opts, int argc, char *argv[], char *err,
              size_t err_len)
{
    int i = 1;

    while (i < argc && argv[i][0] == '-' && argv[i][1] != '\0') {
        if (strcmp(argv[i], "--") == 0)
            return i + 1;
        if (parse_one(opts, argc, argv, &i, err, err_len) == -1)
            return -1;
    }
    return i;
}

/* Prints --help: usage, each option with the step that brought it. */
void
print_help(FILE *out, const struct opt *opts, const char *about)
{
    fprintf(out,
            "Usage: %s [OPTIONS] [--] [COMMAND [ARG...]]\n"
            "Runs COMMAND (default: /bin/sh) in a container and exits with "
            "its status.\n\nOptions (and the step that introduced each):\n",
            program_name);
    for (; opts->name; opts++) {
        char left[64];

        snprintf(
            left, sizeof(left), "%c%c%c --%s%s%s", opts->short_name ? '-' : ' ',
            opts->short_name ? opts->short_name : ' ',
            opts->short_name ? ',' : ' ', opts->name, opts->arg_name ? " " : "",
            opts->arg_name ? opts->arg_name : "");
        /* A name too long for the column gets its text on the next line. */
        if (strlen(left) > 24)
            fprintf(out, "  %s\n  %-24s %s [%s]\n", left, "", opts->help,
                    opts->step);
        else
            fprintf(out, "  %-24s %s [%s]\n", left, opts->help, opts->step);
    }
    fprintf(out,
            "\nExit status: COMMAND's own; 128+N if it died of signal N; "
            "125 if boxstep\nfailed; 126 if COMMAND could not be run; 127 "
            "if it was not found.\n\n%s\n",
            about);
}
