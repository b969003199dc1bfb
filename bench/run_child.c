/*
 * run_child — run one command and report its wall time and resource usage.
 *
 *   run_child STDOUT STDERR PROGRAM [ARG...]
 *
 * Runs PROGRAM with stdin from /dev/null and stdout/stderr redirected to
 * the given files (/dev/null to discard), waits for it with wait4() and
 * prints one line to stdout:
 *
 *   rc=N wall_s=S maxrss_kb=K utime_s=U stime_s=T
 *
 * Why a C program: Linux's ru_maxrss is the high-water mark of the child's
 * whole life, including the moments before exec when it is still a copy of
 * (or, after vfork, shares) the parent's memory.  Spawned from Python the
 * child would report Python's RSS; forked from this small process it
 * reports the measured program's own peak plus at most a few hundred KB.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double tv_s(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6; }

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: run_child STDOUT STDERR PROGRAM [ARG...]\n");
        return 2;
    }
    fflush(stdout);
    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0) {
        perror("run_child: fork");
        return 1;
    }
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int out = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
            _exit(126);
        execvp(argv[3], argv + 3);
        dprintf(2, "run_child: %s: %s\n", argv[3], strerror(errno));
        _exit(127);
    }
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            perror("run_child: wait4");
            return 1;
        }
    }
    double wall = now_s() - t0;
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    printf("rc=%d wall_s=%.6f maxrss_kb=%ld utime_s=%.6f stime_s=%.6f\n", rc, wall, ru.ru_maxrss, tv_s(ru.ru_utime),
           tv_s(ru.ru_stime));
    return 0;
}
