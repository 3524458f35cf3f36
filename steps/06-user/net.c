/*
 * net.c: a network stack of its own, from step 05 on.
 *
 * The network namespace gives the child its own devices, addresses,
 * routes, firewall rules, sockets and /proc/net; it starts with a
 * loopback only, and down. To reach anything, the container needs a
 * device: the runtime creates a veth pair, two devices joined like the
 * ends of a cable, with one end (eth0) in the container and the other on
 * the host. Each side gives its end an address, and the container's
 * default route goes through the host's end. With --net bridge the host
 * ends are plugged into one bridge, a virtual switch, so containers also
 * reach each other.
 *
 * Concurrent containers must not take the same address: each run writes
 * its choice into its record in the state directory (shared/state.c), and
 * chooses among the addresses no live record holds.
 *
 * Man pages: network_namespaces(7), veth(4), rtnetlink(7), netlink(7),
 * ip(7), ip-link(8), ip-route(8).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/veth.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "step.h"

/* boxstep's addresses: 10.200.N.0/24 for veth N, 10.200.0.0/24 bridged. */
#define NET_PREFIX 0x0ac80000U /* 10.200.0.0/16 */
#define BRIDGE "boxstep0"

static const char *const net_names[] = {
    [NET_VETH] = "veth",
    [NET_BRIDGE] = "bridge",
    [NET_NONE] = "none",
};

/* One rtnetlink(7) request, sent with send(2) and acknowledged. */
static void
send_request(struct nl_request *req, const char *what)
{
    must(nl_send(req), "send(%s)", what);
}

/* A device's index: rtnetlink names devices by number. */
static int
ifindex(const char *name)
{
    int index = if_nametoindex(name); /* ioctl(2) SIOCGIFINDEX */

    return must(index ? index : -1, "if_nametoindex(\"%s\")", name);
}

/*
 * RTM_NEWLINK: ifi_change says which flags change, ifi_flags to what. A
 * link may be named by IFLA_IFNAME instead of its index (ifi_index 0):
 * no lookup first.
 */
static void
link_up(const char *name)
{
    struct ifinfomsg ifi = {
        .ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
    struct nl_request req;
    char what[64];

    nl_start(&req, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
    nl_add(&req, IFLA_IFNAME, name, strlen(name) + 1);
    snprintf(what, sizeof(what), "RTM_NEWLINK %s up", name);
    send_request(&req, what);
}

/* RTM_NEWADDR: an IPv4 address, and with it the route to its subnet. */
static void
add_address(const char *name, struct in_addr addr, int prefix)
{
    struct ifaddrmsg ifa = {.ifa_family = AF_INET,
                            .ifa_prefixlen = prefix,
                            .ifa_index = ifindex(name)};
    struct nl_request req;
    char what[96];

    nl_start(&req, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof(ifa));
    nl_add(&req, IFA_LOCAL, &addr, sizeof(addr));
    nl_add(&req, IFA_ADDRESS, &addr, sizeof(addr));
    snprintf(what, sizeof(what), "RTM_NEWADDR %s/%d dev %s", inet_ntoa(addr),
             prefix, name);
    send_request(&req, what);
}

/* RTM_NEWROUTE: the default route, through the host's end. */
static void
add_default_route(const char *name, struct in_addr gateway)
{
    struct rtmsg rtm = {.rtm_family = AF_INET,
                        .rtm_table = RT_TABLE_MAIN,
                        .rtm_protocol = RTPROT_BOOT,
                        .rtm_scope = RT_SCOPE_UNIVERSE,
                        .rtm_type = RTN_UNICAST};
    int index = ifindex(name);
    struct nl_request req;
    char what[96];

    nl_start(&req, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &rtm, sizeof(rtm));
    nl_add(&req, RTA_GATEWAY, &gateway, sizeof(gateway));
    nl_add(&req, RTA_OIF, &index, sizeof(index));
    snprintf(what, sizeof(what), "RTM_NEWROUTE default via %s dev %s",
             inet_ntoa(gateway), name);
    send_request(&req, what);
}

/*
 * RTM_NEWLINK with a linkinfo of kind "veth" creates a pair of devices,
 * joined like the two ends of a cable. The peer's own attributes go in
 * VETH_INFO_PEER, and IFLA_NET_NS_PID puts it straight into the child's
 * network namespace, named eth0 there: one request does it all.
 */
static void
create_veth(const char *host_end, pid_t child_pid)
{
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
    struct rtattr *info, *data, *peer;
    struct nl_request req;
    char what[96];

    nl_start(&req, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
    nl_add(&req, IFLA_IFNAME, host_end, strlen(host_end) + 1);
    info = nl_add(&req, IFLA_LINKINFO, NULL, 0);
    nl_add(&req, IFLA_INFO_KIND, "veth", 5);
    data = nl_add(&req, IFLA_INFO_DATA, NULL, 0);
    peer = nl_add(&req, VETH_INFO_PEER, &ifi, sizeof(ifi));
    nl_add(&req, IFLA_IFNAME, "eth0", 5);
    nl_add(&req, IFLA_NET_NS_PID, &child_pid, sizeof(child_pid));
    nl_end(&req, peer);
    nl_end(&req, data);
    nl_end(&req, info);
    snprintf(what, sizeof(what),
             "RTM_NEWLINK %s type veth peer eth0 netns-of-pid %d", host_end,
             (int)child_pid);
    send_request(&req, what);
}

/* RTM_NEWLINK with IFLA_MASTER: plugs a device into a bridge. */
static void
set_master(const char *name, const char *bridge)
{
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC,
                            .ifi_index = ifindex(name)};
    int master = ifindex(bridge);
    struct nl_request req;
    char what[64];

    nl_start(&req, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
    nl_add(&req, IFLA_MASTER, &master, sizeof(master));
    snprintf(what, sizeof(what), "RTM_NEWLINK %s master %s", name, bridge);
    send_request(&req, what);
}

/*
 * RTM_NEWLINK of kind "bridge": a virtual switch. It holds the gateway
 * address, so the host reaches the bridged containers and they it.
 */
static void
create_bridge(struct in_addr gateway)
{
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
    struct rtattr *info;
    struct nl_request req;

    nl_start(&req, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
    nl_add(&req, IFLA_IFNAME, BRIDGE, sizeof(BRIDGE));
    info = nl_add(&req, IFLA_LINKINFO, NULL, 0);
    nl_add(&req, IFLA_INFO_KIND, "bridge", 7);
    nl_end(&req, info);
    send_request(&req, "RTM_NEWLINK " BRIDGE " type bridge");
    add_address(BRIDGE, gateway, 24);
    link_up(BRIDGE);
}

/*
 * The device, destination and mask of a line of /proc/net/route (its
 * fields 1, 2 and 8, the addresses in hex); false for the header line.
 * line is cut into its fields.
 */
static bool
route_fields(char *line, char **dev, uint32_t *dst, uint32_t *mask)
{
    char *field[8], *save, *dst_end, *mask_end;
    int n = 0;

    for (char *f = strtok_r(line, " \t\n", &save); f && n < 8;
         f = strtok_r(NULL, " \t\n", &save))
        field[n++] = f;
    if (n < 8)
        return false;
    *dev = field[0];
    *dst = strtoul(field[1], &dst_end, 16);
    *mask = strtoul(field[7], &mask_end, 16);
    return *dst_end == '\0' && *mask_end == '\0';
}

/*
 * Whether addr/prefix overlaps a route of the host's main table, the one
 * `ip route` lists, read from /proc/net/route (proc(5)); routes through
 * the device `except` do not count. Two subnets overlap when they agree
 * on the bits of the shorter prefix. The default route (mask 0) would
 * overlap everything, and is what the container's traffic may use.
 */
static bool
route_overlaps(struct in_addr addr, int prefix, const char *except)
{
    uint32_t want = prefix ? ~0U << (32 - prefix) : 0, dst, mask;
    char line[256], *dev;
    bool overlap = false;
    FILE *f = fopen("/proc/net/route", "re");

    while (f && fgets(line, sizeof(line), f))
        if (route_fields(line, &dev, &dst, &mask) && mask &&
            strcmp(dev, except)) {
            uint32_t both = ntohl(mask) & want;

            overlap |= (ntohl(dst) & both) == (ntohl(addr.s_addr) & both);
        }
    if (f)
        fclose(f);
    return overlap;
}

/* Whether a record's container was plugged into the bridge. */
static bool
uses_bridge(const char *record)
{
    char net[16];

    return state_get(record, "net", net, sizeof(net)) == 0 &&
           strcmp(net, "bridge") == 0;
}

/* Notes the bridge address a live record holds: bridge_used[last byte]. */
static void
note_bridge_address(const char *record, void *bridge_used)
{
    char ip[INET_ADDRSTRLEN];

    if (uses_bridge(record) && state_get(record, "ip", ip, sizeof(ip)) == 0)
        ((bool *)bridge_used)[ntohl(inet_addr(ip)) & 0xff] = true;
}

/*
 * The first free veth subnet 10.200.N.0/24, N from 1 to 254, free when no
 * host route overlaps it; or the first bridge address 10.200.0.2-254 that
 * no live record holds (.1 is the bridge's, .0 and .255 are not hosts').
 */
static void
choose_address(struct container *c, const bool bridge_used[256])
{
    bool bridge = c->opts->net == NET_BRIDGE;

    for (uint32_t n = bridge ? 2 : 1; n < 255 && !c->ip.s_addr; n++) {
        struct in_addr subnet = {htonl(NET_PREFIX | n << 8)};

        if (bridge && !bridge_used[n])
            c->ip.s_addr = htonl(NET_PREFIX | n);
        else if (!bridge && !route_overlaps(subnet, 24, ""))
            c->ip.s_addr = htonl(NET_PREFIX | n << 8 | 2);
    }
    if (!c->ip.s_addr) {
        errno = EADDRNOTAVAIL;
        die_hint(bridge ? "254 bridged containers run already"
                        : "the host's routes cover 10.200.0.0/16: pick an "
                          "address with --ip",
                 "choosing an address for --net %s", net_names[c->opts->net]);
    }
    c->prefix = 24;
}

/*
 * The gateway is the bridge's address, or in veth mode the first other
 * address of the container's subnet. An address another bridged container
 * holds is taken; and the subnet must not overlap a route of the host's,
 * except the bridge's own.
 */
static void
check_address(struct container *c, const bool bridge_used[256])
{
    uint32_t net = ntohl(c->ip.s_addr) & ~0U << (32 - c->prefix);
    bool bridge = c->opts->net == NET_BRIDGE;

    c->gateway.s_addr = htonl(bridge ? NET_PREFIX | 1 : net | 1);
    if (c->gateway.s_addr == c->ip.s_addr)
        c->gateway.s_addr = htonl(net | 2);
    if (bridge && bridge_used[ntohl(c->ip.s_addr) & 0xff]) {
        errno = EADDRINUSE;
        die_hint("another bridged container has it: pick another --ip",
                 "--ip %s/%d", inet_ntoa(c->ip), c->prefix);
    }
    if (route_overlaps(c->ip, c->prefix, bridge ? BRIDGE : "")) {
        errno = EADDRINUSE;
        die_hint("the host already routes that subnet: pick another --ip",
                 "--ip %s/%d", inet_ntoa(c->ip), c->prefix);
    }
}

/*
 * Before clone(), so that the child knows its address, and with the state
 * directory locked: the address is chosen among those no live container
 * holds, and recorded; the bridge is made on first use (or reused, when a
 * killed runtime left it). The lock is held until the host end exists
 * (parent_setup_network()), so a concurrent run sees this one's route
 * and record.
 */
void
parent_reserve_network(struct container *c)
{
    bool bridge_used[256] = {false};

    if (c->opts->net == NET_NONE)
        return;
    if (state_each(note_bridge_address, bridge_used) == -1)
        die("%s", state_failed_call());
    c->ip = c->opts->ip;
    c->prefix = c->opts->prefix;
    if (!c->ip.s_addr)
        choose_address(c, bridge_used);
    check_address(c, bridge_used);
    if (state_record_set("net", net_names[c->opts->net]) == -1 ||
        state_record_set("ip", inet_ntoa(c->ip)) == -1)
        die("%s", state_failed_call());
    if (c->opts->net == NET_BRIDGE && !if_nametoindex(BRIDGE))
        create_bridge(c->gateway);
    snprintf(c->host_end, sizeof(c->host_end), "bx%d", (int)getpid());
}

/*
 * After clone(), while the child waits: the veth pair, the host's end
 * plugged into the bridge or given the gateway address, and up. The
 * kernel removes the pair when the container's namespace goes: the
 * runtime need not, and does not wait.
 */
void
parent_setup_network(struct container *c)
{
    if (c->opts->net == NET_NONE)
        return;
    create_veth(c->host_end, c->pid);
    if (c->opts->net == NET_BRIDGE)
        set_master(c->host_end, BRIDGE);
    else
        add_address(c->host_end, c->gateway, c->prefix);
    link_up(c->host_end);
}

static void
count_bridge_user(const char *record, void *users)
{
    if (uses_bridge(record))
        ++*(int *)users;
}

/*
 * What a gone container leaves, called with the state locked and its
 * record already removed: the veth pair went with its namespace, but the
 * bridge stays until its last user is gone. It warns, never dies: it runs
 * while the runtime exits.
 */
void
parent_release_network(const char *record)
{
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
    struct nl_request req;
    int users = 0;

    if (!uses_bridge(record))
        return;
    if (state_each(count_bridge_user, &users) == -1)
        warn("%s", state_failed_call());
    if (users > 0 || !(ifi.ifi_index = if_nametoindex(BRIDGE)))
        return;
    /* RTM_DELLINK: the bridge goes, with the last run that used it. */
    nl_start(&req, RTM_DELLINK, 0, &ifi, sizeof(ifi));
    if (trace_call(nl_send(&req), "send(RTM_DELLINK " BRIDGE ")") == -1)
        warn("send(RTM_DELLINK " BRIDGE ")");
}

/*
 * A new network namespace holds one device, lo, and it is down: not even
 * 127.0.0.1 answers until it is up. With a veth, eth0 is already here:
 * the parent created it in this namespace before releasing the child.
 */
void
setup_network(const struct container *c)
{
    link_up("lo");
    if (c->opts->net == NET_NONE)
        return;
    add_address("eth0", c->ip, c->prefix);
    link_up("eth0");
    add_default_route("eth0", c->gateway);
}

/*
 * --ip ADDR/PREFIX: a host address of its subnet (not the subnet's first,
 * its network, nor its last, its broadcast), and for --net bridge one of
 * 10.200.0.2-254 (.1 is the bridge's).
 */
static void
parse_ip(struct options *o)
{
    const char *slash = strchr(o->ip_spec, '/');
    char addr[INET_ADDRSTRLEN], *end;
    long prefix = slash ? strtol(slash + 1, &end, 10) : 0;
    uint32_t host;

    if (!slash || slash - o->ip_spec >= INET_ADDRSTRLEN || *end || prefix < 8 ||
        prefix > 30)
        usage_error("--ip %s: not ADDR/PREFIX, PREFIX 8 to 30", o->ip_spec);
    snprintf(addr, sizeof(addr), "%.*s", (int)(slash - o->ip_spec), o->ip_spec);
    if (inet_pton(AF_INET, addr, &o->ip) != 1)
        usage_error("--ip %s: %s is not an IPv4 address", o->ip_spec, addr);
    o->prefix = prefix;
    host = ntohl(o->ip.s_addr) & ~(~0U << (32 - prefix));
    if (host == 0 || host == ~(~0U << (32 - prefix)))
        usage_error("--ip %s: the subnet's network or broadcast address",
                    o->ip_spec);
    if (o->net == NET_BRIDGE && ((ntohl(o->ip.s_addr) & ~0xffU) != NET_PREFIX ||
                                 prefix != 24 || host == 1))
        usage_error("--ip %s: --net bridge addresses are 10.200.0.2-254/24",
                    o->ip_spec);
}

/* --net and --ip. */
void
parse_network(struct options *o)
{
    size_t i = 0;

    while (o->net_name && i < ARRAY_SIZE(net_names) &&
           strcmp(o->net_name, net_names[i]))
        i++;
    if (i == ARRAY_SIZE(net_names))
        usage_error("--net %s: not none, veth or bridge", o->net_name);
    o->net = o->net_name ? (enum net_mode)i : NET_VETH;
    if (o->ip_spec)
        parse_ip(o);
}
