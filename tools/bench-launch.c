/*
 * tools/bench-launch.c: runs a command once and prints the peak memory of
 * the process it starts, for make bench (tools/bench.sh).
 *
 *   bench-launch COMMAND [ARG...]
 *
 * prints one line on stdout, "maxrss_kb=N hwm_kb=N", and exits with
 * COMMAND's status (128+N when signal N ended it; 125 on its own error):
 *
 *   maxrss_kb  ru_maxrss of wait4(2) (getrusage(2)): the largest resident
 *              set of COMMAND's process and of every descendant that it,
 *              or a descendant, waited for. For a runtime, that includes
 *              the container's own processes.
 *   hwm_kb     VmHWM of COMMAND's own process (proc(5)): its resident
 *              high-water mark alone, read just before it exits, while
 *              its memory still exists. The tracer's stop at
 *              PTRACE_EVENT_EXIT (ptrace(2)) holds it there for the read.
 *
 * Why a tiny static launcher: the kernel carries a process's high-water
 * mark across execve(2), so the child's ru_maxrss starts at the size of
 * the launcher it was forked from. A launcher of a few hundred kilobytes
 * keeps that below any runtime's own; one in Python (70 MB) would hide it.
 *
 * Only COMMAND's first process is traced (no PTRACE_O_TRACECLONE): its
 * children and threads run untraced, and it is stopped twice, after its
 * execve and at its exit, so the figures are its own and its run is not
 * slowed. Times come from hyperfine, never from here.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static void
die(const char *what)
{
    fprintf(stderr, "bench-launch: %s: %s (%s)\n", what,
            strerrorname_np(errno) ? strerrorname_np(errno) : "?",
            strerror(errno));
    exit(125);
}

/* VmHWM of PID in kB, from /proc/PID/status (proc(5)); -1 if not there. */
static long
vm_hwm_kb(pid_t pid)
{
    char path[64], line[256];
    long kb = -1;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

/* The child: asks to be traced (ptrace(2)), then becomes COMMAND. */
static void
run_traced(char **argv)
{
    if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
        die("ptrace(PTRACE_TRACEME)");
    execvp(argv[0], argv);
    fprintf(stderr, "bench-launch: execvp(%s): %s\n", argv[0], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
}

int
main(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: bench-launch COMMAND [ARG...]\n");
        return 125;
    }
    pid_t pid = fork(); /* fork(2) */
    if (pid < 0)
        die("fork()");
    if (pid == 0)
        run_traced(argv + 1);

    long hwm = -1;
    int status;
    struct rusage ru;
    for (;;) {
        /* wait4(2): also the rusage of the child once it has exited. */
        if (wait4(pid, &status, 0, &ru) < 0)
            die("wait4()");
        if (WIFEXITED(status) || WIFSIGNALED(status))
            break;
        int event = status >> 16, sig = WSTOPSIG(status);
        if (sig == SIGTRAP && event == 0) {
            /* The stop after its execve: from now on, stop at its exit
             * and at any further execve (which then sends no SIGTRAP);
             * die if we do. */
            if (ptrace(PTRACE_SETOPTIONS, pid, NULL,
                       (void *)(PTRACE_O_TRACEEXIT | PTRACE_O_TRACEEXEC |
                                PTRACE_O_EXITKILL)) < 0)
                die("ptrace(PTRACE_SETOPTIONS)");
            sig = 0;
        } else if (event == PTRACE_EVENT_EXIT) {
            hwm = vm_hwm_kb(pid);
            sig = 0;
        } else if (event != 0) {
            sig = 0;
        }
        /* Any other stop is a signal for it: deliver it. */
        if (ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig) < 0)
            die("ptrace(PTRACE_CONT)");
    }
    printf("maxrss_kb=%ld hwm_kb=%ld\n", ru.ru_maxrss, hwm);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
