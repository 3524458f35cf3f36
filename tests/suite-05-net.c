/*
 * suite-05-net.c: step 05 gives the container a network stack of its own.
 * Each property holds on 05 and later, and the same check shows the leak
 * on 04, which still shares the sandbox's network: its lo, its marker veth
 * pair (with an address and route of its own), its ports and its abstract
 * unix sockets. The veth, bridge and state behaviours are 05's features.
 * Traffic goes only to loopback and to addresses inside the sandbox.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <unistd.h>

#include "harness.h"

static bool
net_ns(const char *step)
{
    return ns_isolated(step, "net");
}

/* Inside, only lo and eth0. */
static bool
net_ifaces(const char *step)
{
    return strcmp(answer(ARGV(STEP, PROBE, "ifaces")), "eth0 lo") == 0;
}

/* Inside, every route goes through eth0: none of the sandbox's. */
static bool
net_routes(const char *step)
{
    char routes[OUT_MAX], *word, *save;

    snprintf(routes, sizeof(routes), "%s", answer(ARGV(STEP, PROBE, "routes")));
    if (!routes[0])
        fail_check("the routing table inside is empty");
    for (word = strtok_r(routes, " ", &save); word;
         word = strtok_r(NULL, " ", &save))
        if (strncmp(word, "eth0:", 5) != 0)
            return false;
    return true;
}

/* A socket of the sandbox's: bound, listening, for the container to try. */
static int
listen_outside(int family, const struct sockaddr *addr, socklen_t len)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fd == -1 || bind(fd, addr, len) == -1 || listen(fd, 4) == -1)
        fail_check("cannot listen in the sandbox: %s", strerror(errno));
    return fd;
}

/* Whether addr is an address of the sandbox's: a socket there binds it. */
static bool
bindable(const char *addr, int *err)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool bound;

    if (fd == -1)
        fail_check("socket(AF_INET): %s", strerror(errno));
    *err = EINVAL;
    bound = inet_pton(AF_INET, addr, &sin.sin_addr) == 1 &&
            bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
    if (!bound && errno)
        *err = errno;
    close(fd);
    return bound;
}

/*
 * The default route inside goes through the host's end of the veth pair:
 * its gateway is an address of the sandbox's, which a socket there can
 * bind. Through it the container reaches beyond its own subnet: the
 * sandbox's marker address, 198.51.100.1, is in none of the container's.
 * On 04 the routing table is the sandbox's, which has no default route.
 * The gateway is checked while the container runs (it waits for its stdin
 * to close): its veth pair, the host's end too, goes with its network
 * namespace, which the kernel frees some time after the container exits.
 */
static bool
net_default_route(const char *step)
{
    struct sockaddr_in marker = {.sin_family = AF_INET,
                                 .sin_port = htons(27003),
                                 .sin_addr.s_addr = htonl(0xc6336401)};
    struct run_opts opts = {.keep_stdin = true};
    char routes[OUT_MAX], *word, *save, *via = NULL;
    const char *reached, *line;
    bool ours;
    struct proc p;
    int fd, err = 0;

    spawn(&p, &opts,
          ARGV(STEP, "/bin/sh", "-c",
               "\"$0\" routes && { read -r line || true; }", PROBE));
    if (!(line = read_line(&p, 10000)))
        fail_check("probe routes said nothing: %s", p.err);
    snprintf(routes, sizeof(routes), "%s", line);
    for (word = strtok_r(routes, " ", &save); word && !via;
         word = strtok_r(NULL, " ", &save))
        if (strstr(word, ":0.0.0.0/0@"))
            via = strchr(word, '@') + 1;
    ours = via && bindable(via, &err);
    if (finish(&p, 10000) != 0)
        fail_check("probe routes: status %d: %s", p.status, p.err);
    if (!via)
        return false;
    if (!ours)
        fail_check("the default route's gateway %s is not the host's end (%s)",
                   via, strerror(err));
    fd = listen_outside(AF_INET, (struct sockaddr *)&marker, sizeof(marker));
    reached = answer(ARGV(STEP, PROBE, "connect", "198.51.100.1", "27003"));
    close(fd);
    if (strcmp(reached, "connected"))
        fail_check("through the default route via %s, 198.51.100.1 is not "
                   "reachable: %s",
                   via, reached);
    return true;
}

/* Connects from the sandbox; whether it got through, and if not, why. */
static bool
connect_outside(int port, int *err)
{
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons(port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool connected = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;

    *err = errno;
    close(fd);
    return connected;
}

/*
 * A TCP service on 127.0.0.1 inside is not reachable from the sandbox's
 * loopback, and one of the sandbox's is not reachable from inside.
 * The ports (27001, 27002, and 27003 above) are below the range the kernel
 * picks a connect(2)'s source port from (ip_local_port_range, 32768 to
 * 60999). A connect to a port of that range on 127.0.0.1 where nothing
 * listens can, rarely, reach itself: when the kernel picks that very port
 * as the source, the two ends are one socket (a TCP simultaneous open),
 * and a loopback no one serves looks served.
 */
static bool
tcp_loopback(const char *step)
{
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons(27002),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct run_opts opts = {.keep_stdin = true};
    bool reached_inside, reached_outside;
    const char *line;
    struct proc p;
    int fd, err = 0;

    spawn(&p, &opts, ARGV(STEP, PROBE, "listen", "27001"));
    if (!(line = read_line(&p, 10000)) || strcmp(line, "ready"))
        fail_check("probe listen did not start: %s", p.err);
    reached_inside = connect_outside(27001, &err);
    finish(&p, 10000);
    fd = listen_outside(AF_INET, (struct sockaddr *)&addr, sizeof(addr));
    reached_outside =
        !strcmp(answer(ARGV(STEP, PROBE, "connect", "127.0.0.1", "27002")),
                "connected");
    close(fd);
    if (reached_inside != reached_outside)
        fail_check("half isolated: inside %s reached (%s), outside %s",
                   reached_inside ? "was" : "was not",
                   reached_inside ? "" : strerrorname_np(err),
                   reached_outside ? "was" : "was not");
    return !reached_inside;
}

/* An abstract unix socket bound in the sandbox is not there inside. */
static bool
abstract_unix(const char *step)
{
    static const char name[] = "boxstep-test-abstract";
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    const char *reply;
    int fd;

    memcpy(addr.sun_path + 1, name, sizeof(name) - 1);
    fd = listen_outside(AF_UNIX, (struct sockaddr *)&addr,
                        offsetof(struct sockaddr_un, sun_path) + sizeof(name));
    reply = answer(ARGV(STEP, PROBE, "unix-connect", (char *)name));
    close(fd);
    if (strcmp(reply, "connected") && strcmp(reply, "ECONNREFUSED"))
        fail_check("probe unix-connect said '%s'", reply);
    return strcmp(reply, "ECONNREFUSED") == 0;
}

/* busybox ping from build/rootfs, run in the sandbox. */
static int
ping_from_sandbox(const char *addr)
{
    char busybox[512];
    struct proc p;

    snprintf(busybox, sizeof(busybox), "%s/rootfs/bin/busybox", build_dir());
    return run(&p, ARGV(busybox, "ping", "-c", "3", "-w", "8", (char *)addr));
}

/*
 * The host's end and the container ping each other (a first packet after
 * link-up may be lost: three tries, eight seconds).
 */
static void
veth_ping(const char *step)
{
    struct run_opts opts = {.keep_stdin = true};
    const char *line;
    struct proc p;

    spawn(&p, &opts,
          ARGV(STEP, "--ip", "10.200.7.2/24", "/bin/sh", "-c",
               "ping -c 3 -w 8 10.200.7.1 >/dev/null && echo pinged; read x; "
               "true"));
    if (!(line = read_line(&p, 15000)) || strcmp(line, "pinged"))
        fail_check("the container could not ping the host end: %s", p.err);
    if (ping_from_sandbox("10.200.7.2") != 0)
        fail_check("the sandbox could not ping the container at 10.200.7.2");
    if (finish(&p, 10000) != 0)
        fail_check("the container exited %d: %s", p.status, p.err);
}

/* Whether a device of that name is in the sandbox, waiting up to 2 s. */
static bool
device_gone(const char *name)
{
    for (int i = 0; i < 200; i++) {
        if (if_nametoindex(name) == 0)
            return true;
        usleep(10000);
    }
    return false;
}

/* Two containers on --net bridge reach each other; the bridge goes after. */
static void
bridge_pair(const char *step)
{
    struct run_opts opts = {.keep_stdin = true};
    const char *line;
    struct proc a, b;

    spawn(&a, &opts,
          ARGV(STEP, "--net", "bridge", "--ip", "10.200.0.10/24", "/bin/sh",
               "-c", "echo up; read x; true"));
    if (!(line = read_line(&a, 10000)) || strcmp(line, "up"))
        fail_check("the first bridged container did not start: %s", a.err);
    if (if_nametoindex("boxstep0") == 0)
        fail_check("no bridge boxstep0 while a container uses it");
    expect_exit_125(ARGV(STEP, "--net", "bridge", "--ip", "10.200.0.10/24",
                         PROBE, "exit", "0"),
                    "EADDRINUSE");
    run(&b, ARGV(STEP, "--net", "bridge", "--ip", "10.200.0.11/24", "ping",
                 "-c", "3", "-w", "8", "10.200.0.10"));
    if (b.status != 0)
        fail_check("the second container could not ping the first: %s%s", b.out,
                   b.err);
    finish(&a, 10000);
    if (!device_gone("boxstep0"))
        fail_check("the bridge is still there after its last container");
}

static void
net_none(const char *step)
{
    if (strcmp(answer(ARGV(STEP, "--net", "none", PROBE, "ifaces")), "lo"))
        fail_check("--net none has more than lo");
}

/* Two containers at once get different addresses by themselves. */
static void
concurrent_addresses(const char *step)
{
    struct run_opts opts = {.keep_stdin = true};
    char first[64];
    const char *line;
    struct proc a, b;

    spawn(&a, &opts, ARGV(STEP, PROBE, "ipaddr", "eth0", "wait"));
    if (!(line = read_line(&a, 10000)))
        fail_check("the first container did not start: %s", a.err);
    snprintf(first, sizeof(first), "%s", line);
    spawn(&b, &opts, ARGV(STEP, PROBE, "ipaddr", "eth0", "wait"));
    if (!(line = read_line(&b, 10000)))
        fail_check("the second container did not start: %s", b.err);
    if (strcmp(first, line) == 0 || strncmp(first, "10.200.", 7) ||
        strncmp(line, "10.200.", 7))
        fail_check("two containers got %s and %s", first, line);
    finish(&a, 10000);
    finish(&b, 10000);
}

/* Bad --net and --ip, and an --ip that clashes with a sandbox route. */
static void
net_errors(const char *step)
{
    expect_exit_125(ARGV(STEP, "--net", "wifi", PROBE, "exit", "0"),
                    "not none, veth or bridge");
    expect_exit_125(ARGV(STEP, "--ip", "10.200.7", PROBE, "exit", "0"),
                    "ADDR/PREFIX");
    expect_exit_125(ARGV(STEP, "--net", "bridge", "--ip", "10.9.0.5/24", PROBE,
                         "exit", "0"),
                    "10.200.0.2-254");
    expect_exit_125(ARGV(STEP, "--ip", "10.200.7.2/24junk", PROBE, "exit", "0"),
                    "ADDR/PREFIX");
    expect_exit_125(ARGV(STEP, "--ip", "10.200.8.0/24", PROBE, "exit", "0"),
                    "network or broadcast");
    expect_exit_125(ARGV(STEP, "--net", "bridge", "--ip", "10.200.0.1/24",
                         PROBE, "exit", "0"),
                    "10.200.0.2-254");
    /* 198.51.100.0/24 is the sandbox's marker route. */
    expect_exit_125(ARGV(STEP, "--ip", "198.51.100.7/24", PROBE, "exit", "0"),
                    "EADDRINUSE");
}

/*
 * A SIGKILLed runtime cannot remove its record, nor the bridge it was the
 * last user of; its container died with it. --gc removes both.
 */
static void
gc_after_kill(const char *step)
{
    struct proc p;
    const char *line;

    spawn(&p, NULL, ARGV(STEP, "--net", "bridge", PROBE, "sleeper"));
    for (int i = 0; i < 500 && find_by_comm("probe-sleeper") == -1; i++)
        usleep(10000);
    kill(p.pid, SIGKILL);
    waitpid(p.pid, NULL, 0);
    if (access("/run/boxstep", F_OK) != 0 || if_nametoindex("boxstep0") == 0)
        fail_check("after SIGKILL, no record or bridge left to collect");
    line = answer(ARGV(STEP, "--gc"));
    if (access("/run/boxstep", F_OK) == 0 || !device_gone("boxstep0"))
        fail_check("--gc left the state directory or the bridge (%s)", line);
}

/*
 * The runtime is itself PID 1 of a PID namespace (as when it runs in
 * another container), and its child, PID 1 too, dies during set-up: the
 * run exits 125 and leaves no state behind. That the child never removes
 * the runtime's record is the shared module's to prove (unit-shared:
 * state__child_dies_in_set_up__record_stays_until_the_runtime_exits).
 */
static void
record_owner(const char *step)
{
    char rootfs[512], out[OUT_MAX] = "";
    int err[2], status;
    size_t len = 0;
    ssize_t n;
    pid_t outer;

    snprintf(rootfs, sizeof(rootfs), "%s/rootfs", build_dir());
    if (pipe2(err, O_CLOEXEC) == -1 || (outer = fork()) == -1)
        fail_check("cannot fork: %s", strerror(errno));
    if (outer == 0) {
        if (unshare(CLONE_NEWPID) == -1 || (outer = fork()) == -1)
            _exit(124);
        if (outer == 0) {
            dup2(err[1], 2);
            /* The volume's mount point is not in the image: 125. */
            execv(STEP,
                  ARGV(STEP, "--rootfs", rootfs, "--net", "bridge", "--volume",
                       "/etc/hostname:/proc/boxstep-x", "/bin/true"));
            _exit(124);
        }
        waitpid(outer, &status, 0);
        _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 124);
    }
    close(err[1]);
    while ((n = read(err[0], out + len, sizeof(out) - 1 - len)) > 0)
        len += n;
    close(err[0]);
    waitpid(outer, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 125)
        fail_check("the run exited %d, not 125:\n%s", WEXITSTATUS(status), out);
    if (access("/run/boxstep", F_OK) == 0)
        fail_check("the runtime left /run/boxstep");
}

int
main(void)
{
    static const struct property props[] = {
        {"net_ns", "05", net_ns, NULL},
        {"net_ifaces", "05", net_ifaces, NULL},
        {"net_routes", "05", net_routes, NULL},
        {"net_default_route", "05", net_default_route, NULL},
        {"tcp_loopback", "05", tcp_loopback, NULL},
        {"abstract_unix", "05", abstract_unix, NULL},
    };
    static const struct behaviour behaviours[] = {
        {"veth", "05", "pings_both_ways", veth_ping, NULL},
        {"bridge", "05", "joins_containers", bridge_pair, NULL},
        {"net_none", "05", "has_only_lo", net_none, NULL},
        {"addresses", "05", "differ", concurrent_addresses, NULL},
        {"net_errors", "05", "exit_125", net_errors, NULL},
        {"gc", "05", "removes_what_sigkill_left", gc_after_kill, NULL},
        {"record", "05", "removed_when_set_up_fails", record_owner, NULL},
    };

    return run_suite("05-net", props, sizeof(props) / sizeof(props[0]),
                     behaviours, sizeof(behaviours) / sizeof(behaviours[0]));
}
