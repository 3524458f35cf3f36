/*
 * sync.c: the synchronisation pipe between the runtime and its child.
 *
 * pipe(7) gives two things for free. A read() blocks until the other side
 * writes, so the child can wait for the runtime to finish its side of the
 * set-up. And once every write end is closed, read() returns 0 and poll()
 * reports POLLHUP: a pipe tells the child when the runtime is gone.
 *
 * The rule that makes both work: each side closes the end it does not use.
 * The child inherits both ends from clone(); until it closes its own copy
 * of the write end, that copy keeps the pipe open and the child never
 * sees the runtime go.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "boxstep.h"

/* Makes the pipe, close-on-exec, so COMMAND never inherits it. */
int
sync_open(struct sync_pipe *sync)
{
    int fds[2] = {-1, -1};
    int ret = pipe2(fds, O_CLOEXEC); /* pipe2(2) */

    /* Traced after the call: the trace prints what pipe2() filled in. */
    if (trace_call(ret, "pipe2([%d, %d], O_CLOEXEC)", fds[0], fds[1]) == -1)
        return -1;
    sync->read_fd = fds[0];
    sync->write_fd = fds[1];
    return 0;
}

/* Runtime side: lets the child go on. The write end stays open. */
int
sync_release(struct sync_pipe *sync)
{
    if (trace_call(close(sync->read_fd), "close(%d)", sync->read_fd) == -1)
        return -1;
    return trace_call(write(sync->write_fd, "1", 1), "write(%d, \"1\", 1)",
                      sync->write_fd) == 1
               ? 0
               : -1;
}

/*
 * Child side: closes its copy of the write end, then blocks until the
 * runtime releases it. Returns -1 with errno EPIPE when the runtime died
 * before it could.
 */
int
sync_wait(struct sync_pipe *sync)
{
    char byte;
    ssize_t n;

    if (trace_call(close(sync->write_fd), "close(%d)", sync->write_fd) == -1)
        return -1;
    n = trace_call(read(sync->read_fd, &byte, 1), "read(%d, ..., 1)",
                   sync->read_fd);
    if (n == 0)
        errno = EPIPE;
    return n == 1 ? 0 : -1;
}

/*
 * Child side, after sync_wait(): 1 while the runtime holds its write end
 * open, 0 once it has exited (POLLHUP), -1 on error.
 */
int
sync_parent_alive(struct sync_pipe *sync)
{
    struct pollfd pfd = {.fd = sync->read_fd, .events = POLLIN};
    int n = trace_call(poll(&pfd, 1, 0), "poll([{fd=%d, POLLIN}], 1, 0)",
                       sync->read_fd);

    if (n == -1)
        return -1;
    return !(pfd.revents & (POLLHUP | POLLIN));
}
