/*
 * image-config.c: how an image says to run it, from step 08 on: an image
 * of the store build/image-import fills (chapter 11) is a stack of layers
 * (image.c stacks them) with a config: COMMAND's environment, command,
 * working directory and user. --env, COMMAND, --workdir and --user
 * override them; the user is a name in the image's own /etc/passwd.
 *
 * Man pages: open(2), setresuid(2), setgroups(2), passwd(5), group(5).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "step.h"

/* The largest layers or config file of a store image that is read. */
#define STORE_FILE_MAX 65536

/*
 * A file of a store image, opened only when it is a regular file of the
 * caller's that no one else may write, and small. Host root reads it, and
 * a layer kept by --keep holds whatever its container wrote: a "layers"
 * that names the host's /, a link to /etc/shadow or to /dev/zero. Those
 * files belong to the container's ids, not the caller's, and are
 * refused. NULL when dir has no such file: not an image of the store.
 */
static FILE *
open_store_file(const char *dir, const char *name)
{
    char path[PATH_MAX + 16];
    struct stat st;
    FILE *f;
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    /* open(2) O_NOFOLLOW: a symbolic link fails (ELOOP), never followed;
     * O_NONBLOCK: a FIFO does not wait for a writer. */
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd == -1 && errno == ENOENT)
        return NULL;
    if (fd == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
        st.st_uid != geteuid() || (st.st_mode & 022) ||
        st.st_size > STORE_FILE_MAX) {
        errno = fd == -1 ? errno : EPERM;
        die_hint("an image of the store is build/image-import's, owned "
                 "by you; a layer a container wrote cannot be one",
                 "--image %s: %s is not a regular file of uid %u, at most "
                 "%d bytes, that only it may write",
                 dir, name, (unsigned)geteuid(), STORE_FILE_MAX);
    }
    if (!(f = fdopen(fd, "r")))
        die("fdopen(%s)", path);
    return f;
}

/*
 * An image's config, from the store (below): its environment goes before
 * the --env the user gave (the later wins), its entrypoint before COMMAND,
 * and its cmd stands for COMMAND when none is given, as docker run does;
 * its workdir and user apply unless --workdir or --user was given.
 */
static void
read_store_config(const char *dir, struct options *o)
{
    static char *command[OPT_LIST_MAX + 1];
    const char *env[OPT_LIST_MAX];
    char *cmd[OPT_LIST_MAX];
    size_t n_env = 0, n_cmd = 0, n = 0;
    char *line = NULL;
    size_t size = 0;
    FILE *f;

    if (!(f = open_store_file(dir, "config")))
        return;
    while (getline(&line, &size, f) > 0) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "env=", 4) == 0 && n_env < OPT_LIST_MAX)
            env[n_env++] = strdup(line + 4);
        else if (strncmp(line, "entrypoint=", 11) == 0 && n < OPT_LIST_MAX)
            command[n++] = strdup(line + 11);
        else if (strncmp(line, "cmd=", 4) == 0 && n_cmd < OPT_LIST_MAX)
            cmd[n_cmd++] = strdup(line + 4);
        else if (strncmp(line, "workdir=", 8) == 0 && line[8] && !o->workdir)
            o->workdir = strdup(line + 8);
        else if (strncmp(line, "user=", 5) == 0 && line[5] && !o->user)
            o->user = strdup(line + 5);
    }
    free(line);
    fclose(f);
    for (size_t i = 0; i < o->env.len && n_env < OPT_LIST_MAX; i++)
        env[n_env++] = o->env.items[i];
    memcpy(o->env.items, env, n_env * sizeof(env[0]));
    o->env.len = n_env;
    for (size_t i = 0; o->command_given && o->command[i] && n < OPT_LIST_MAX;
         i++)
        command[n++] = o->command[i];
    for (size_t i = 0; !o->command_given && i < n_cmd && n < OPT_LIST_MAX; i++)
        command[n++] = cmd[i];
    for (size_t i = 0; o->command_given && i < n_cmd; i++)
        free(cmd[i]); /* COMMAND replaces the cmd */
    command[n] = NULL;
    if (n)
        o->command = command;
}

/*
 * An image that build/image-import made (chapter 11) is a directory of
 * the store with a file "layers": its layer directories, top first, one
 * a line; and "config". false for a plain root filesystem.
 */
bool
read_store_image(const char *dir, struct options *o)
{
    char line[PATH_MAX + 2];
    FILE *f;

    if (!(f = open_store_file(dir, "layers")))
        return false;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        if (!line[0])
            continue;
        if (o->layer_count == LAYER_MAX)
            usage_error("--image %s: more than %d layers", dir, LAYER_MAX);
        parse_layer(line, &o->layers[o->layer_count++]);
    }
    fclose(f);
    read_store_config(dir, o);
    return true;
}

/*
 * COMMAND's HOME with --user (or the image's user=): that user's home in
 * the image's /etc/passwd. Empty without one: HOME stays /root.
 */
char user_home[PATH_MAX];

/* Whether text is a number: a uid or gid, not a name. */
static bool
is_number(const char *text)
{
    return text[0] && text[strspn(text, "0123456789")] == '\0' &&
           strlen(text) < 11;
}

/*
 * The line of the image's /etc/passwd or /etc/group (NAME:x:ID:...)
 * whose name is key, or whose id is, when key is a number: its id, and
 * its fourth field: passwd's group, group's members. false if none.
 * passwd's sixth field, the home directory, goes to home, if given
 * (PATH_MAX bytes).
 */
static bool
find_entry(const char *file, const char *key, unsigned long *id, char *fourth,
           size_t len, char *home)
{
    char *line = NULL, *f[6], *s;
    size_t size = 0;
    bool found = false;
    FILE *fp = fopen(file, "re");

    while (fp && !found && getline(&line, &size, fp) > 0) {
        s = line;
        for (int i = 0; i < 6; i++)
            f[i] = strsep(&s, ":\n");
        if (!f[2] || !f[3] || !is_number(f[2]))
            continue;
        found = strcmp(is_number(key) ? f[2] : f[0], key) == 0;
        if (found) {
            *id = strtoul(f[2], NULL, 10);
            snprintf(fourth, len, "%s", f[3]);
            if (home) /* passwd's sixth field */
                snprintf(home, PATH_MAX, "%s", f[5] && f[5][0] ? f[5] : "/");
        }
    }
    free(line);
    if (fp)
        fclose(fp);
    return found;
}

/*
 * The groups whose member list in the image's /etc/group names user:
 * its supplementary groups, besides gid, as login(1) would set them.
 */
static size_t
member_groups(const char *user, gid_t gid, gid_t *groups, size_t max)
{
    char *line = NULL, *f[4], *s, *member;
    size_t size = 0, n = 0;
    FILE *fp = fopen("/etc/group", "re");

    groups[n++] = gid;
    while (fp && n < max && getline(&line, &size, fp) > 0) {
        s = line;
        for (int i = 0; i < 4; i++)
            f[i] = strsep(&s, ":\n");
        while (f[2] && f[3] && (member = strsep(&f[3], ",")) && n < max)
            if (strcmp(member, user) == 0 && is_number(f[2]))
                groups[n++] = strtoul(f[2], NULL, 10);
    }
    free(line);
    if (fp)
        fclose(fp);
    return n;
}

/*
 * --user or the image's user= (USER[:GROUP]), read in the container's own
 * /etc/passwd and /etc/group, not the host's: a name means what the image
 * says. A uid it does not list runs with gid 0 and HOME=/, as docker run
 * does.
 */
static void
resolve_user(const char *spec, uid_t *uid, gid_t *gid, gid_t *groups, size_t *n)
{
    static const char hint[] = "--user takes UID[:GID] or a name the "
                               "image's /etc/passwd (and /etc/group) lists";
    char user[256], *group, fourth[256] = "0";
    unsigned long u, g;

    snprintf(user, sizeof(user), "%s", spec);
    if ((group = strchr(user, ':')))
        *group++ = '\0';
    errno = ENOENT;
    if (find_entry("/etc/passwd", user, &u, fourth, sizeof(fourth), user_home))
        g = strtoul(fourth, NULL, 10);
    else if (is_number(user))
        u = strtoul(user, NULL, 10), g = 0; /* no group: 0 */
    else
        die_hint(hint, "user %s: not in the image's /etc/passwd", user);
    if (!user_home[0]) /* a uid the image does not list: no home but / */
        snprintf(user_home, sizeof(user_home), "/");
    if (group &&
        !find_entry("/etc/group", group, &g, fourth, sizeof(fourth), NULL)) {
        if (!is_number(group))
            die_hint(hint, "group %s: not in the image's /etc/group", group);
        g = strtoul(group, NULL, 10);
    }
    *uid = u;
    *gid = g;
    *n = is_number(user) ? 1 : member_groups(user, g, groups, *n);
    groups[0] = g;
}

/*
 * In the container, after pivot_root (its /etc is the image's) and
 * before the death signal (a change of credentials clears it): COMMAND's
 * working directory and user, --workdir and --user or the image's.
 * chdir(2) first, as root inside: the directory stays COMMAND's even if
 * its user may not enter it (an image's /root, run as nobody). Then
 * setgroups(2), while still root; setresgid(2) and setresuid(2) last,
 * which fail with EINVAL for an id the container's user namespace does
 * not map. init becomes that user too: it only waits and passes signals
 * on, to its own child.
 */
void
setup_image_user(const struct container *c)
{
    static const char unmapped[] = "the container maps ids 0 to 65535 only";
    const struct options *o = c->opts;
    gid_t groups[64];
    size_t n = ARRAY_SIZE(groups);
    uid_t uid;
    gid_t gid;

    if (o->workdir && chdir(o->workdir) == -1)
        die_hint(errno == ENOENT ? "the image has no such directory" : NULL,
                 "chdir(\"%s\") for --workdir", o->workdir);
    if (o->workdir)
        trace("chdir(\"%s\") = 0", o->workdir);
    if (!o->user)
        return;
    resolve_user(o->user, &uid, &gid, groups, &n);
    if (!c->setgroups_denied)
        must(setgroups(n, groups), "setgroups(%zu, [%u...])", n, (unsigned)gid);
    must_hint(setresgid(gid, gid, gid), unmapped,
              "setresgid(%u, %u, %u) for --user %s", (unsigned)gid,
              (unsigned)gid, (unsigned)gid, o->user);
    must_hint(setresuid(uid, uid, uid), unmapped,
              "setresuid(%u, %u, %u) for --user %s", (unsigned)uid,
              (unsigned)uid, (unsigned)uid, o->user);
}
