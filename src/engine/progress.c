/*
 * progress — live progress line (see progress.h).
 */
#include "engine/progress.h"
#include "util/log.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t input_size(const char *path)
{
    struct stat sb;
    if (!strcmp(path, "-") || stat(path, &sb))
        return 0;
    if (!S_ISDIR(sb.st_mode))
        return S_ISREG(sb.st_mode) ? (uint64_t)sb.st_size : 0;
    uint64_t total = 0;
    DIR *d = opendir(path);
    struct dirent *de;
    char full[4096];
    while (d && (de = readdir(d))) {
        snprintf(full, sizeof full, "%s/%s", path, de->d_name);
        if (stat(full, &sb) == 0 && S_ISREG(sb.st_mode))
            total += (uint64_t)sb.st_size;
    }
    if (d)
        closedir(d);
    return total;
}

void progress_start(progress *p, const char *path)
{
    memset(p, 0, sizeof *p);
    p->on = isatty(STDERR_FILENO) && !log_is_quiet();
    if (!p->on)
        return;
    p->total_bytes = input_size(path);
    p->t0 = p->last = now_s();
}

bool progress_due(progress *p)
{
    if (!p->on)
        return false;
    double t = now_s();
    if (t - p->last < 0.5)
        return false;
    p->last = t;
    return true;
}

void progress_draw(progress *p, uint64_t bytes, uint64_t events, uint64_t alerts)
{
    double dt = p->last - p->t0;
    char pct[16] = "";
    if (p->total_bytes)
        snprintf(pct, sizeof pct, "  %.1f%%", 100.0 * (double)bytes / (double)p->total_bytes);
    fprintf(stderr, "\r\033[K%llu events  %.0f ev/s%s  %llu alerts", (unsigned long long)events,
            dt > 0 ? (double)events / dt : 0.0, pct, (unsigned long long)alerts);
    fflush(stderr);
    p->drawn = true;
}

void progress_end(progress *p)
{
    if (p->drawn)
        fprintf(stderr, "\r\033[K");
    p->drawn = false;
}
