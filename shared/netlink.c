/*
 * netlink.c: the plumbing of an rtnetlink request, rtnetlink(7).
 *
 * The kernel's network configuration (links, addresses, routes) is read
 * and changed with messages on a NETLINK_ROUTE socket: a header, a fixed
 * struct for the object (ifinfomsg, ifaddrmsg, rtmsg), then attributes,
 * type-length-value records that may nest. This file builds and sends
 * them; which messages to send is each step's business.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "boxstep.h"

/* Starts a request: the header, then the object's fixed struct. */
void
nl_start(struct nl_request *req, int type, int flags, const void *body,
         size_t len)
{
    memset(req, 0, sizeof(*req));
    req->header.nlmsg_len = NLMSG_LENGTH(len);
    req->header.nlmsg_type = type;
    req->header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
    memcpy(NLMSG_DATA(&req->header), body, len);
}

/*
 * Appends one attribute; data may be NULL for an empty (nest) one. When
 * the request has no room left, it returns NULL and marks the request
 * full: nl_send() then fails with EMSGSIZE, so a caller checks only the
 * send, and no half-built request reaches the kernel.
 */
struct rtattr *
nl_add(struct nl_request *req, int type, const void *data, size_t len)
{
    struct rtattr *attr = (struct rtattr *)((char *)&req->header +
                                            NLMSG_ALIGN(req->header.nlmsg_len));

    if (NLMSG_ALIGN(req->header.nlmsg_len) + RTA_SPACE(len) >
        sizeof(req->buf)) {
        req->full = true;
        errno = EMSGSIZE;
        return NULL;
    }
    attr->rta_type = type;
    attr->rta_len = RTA_LENGTH(len);
    if (len)
        memcpy(RTA_DATA(attr), data, len);
    req->header.nlmsg_len =
        NLMSG_ALIGN(req->header.nlmsg_len) + RTA_ALIGN(attr->rta_len);
    return attr;
}

/* Closes a nest opened with nl_add(req, type, NULL, 0); NULL is ignored. */
void
nl_end(struct nl_request *req, struct rtattr *nest)
{
    if (!nest)
        return;
    nest->rta_len = (char *)&req->header + req->header.nlmsg_len - (char *)nest;
}

/*
 * Sends the request and waits for the kernel's acknowledgement. Returns 0,
 * or -1 with errno set to the kernel's error (EEXIST, EPERM...).
 */
int
nl_send(struct nl_request *req)
{
    union {
        struct nlmsghdr header;
        char buf[4096];
    } reply;
    ssize_t n;
    int fd, err;

    if (req->full) {
        errno = EMSGSIZE;
        return -1;
    }
    fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd == -1)
        return -1;
    n = send(fd, &req->header, req->header.nlmsg_len, 0);
    if (n >= 0)
        n = recv(fd, &reply, sizeof(reply), 0);
    err = errno;
    close(fd);
    if (n < 0) {
        errno = err;
        return -1;
    }
    if (reply.header.nlmsg_type == NLMSG_ERROR) {
        struct nlmsgerr *ack = NLMSG_DATA(&reply.header);

        if (ack->error) {
            errno = -ack->error;
            return -1;
        }
    }
    return 0;
}
