/*
 * file_source — streaming JSONL reader (see file_source.h).
 */
#include "source/file_source.h"
#include "source/decode_pipe.h"
#include "util/alloc.h"
#include "util/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int run_file(const char *path, file_fd_fn fn, void *ctx, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -errno;
    }
    /* gzip, or one pretty-printed document: decoded into JSONL on the way */
    decode_pipe *dp = NULL;
    int rfd = fd;
    if (decode_pipe_needed(fd) && !(dp = decode_pipe_open(fd, path, &rfd))) {
        snprintf(err, errlen, "cannot decode %s: %s", path, strerror(errno));
        close(fd);
        return -errno;
    }
    int rc = fn(ctx, rfd, path, err, errlen);
    decode_pipe_close(dp);
    close(fd);
    return rc;
}

typedef struct dir_entry {
    char *path;
    struct timespec mtime;
} dir_entry;

static int by_mtime(const void *a, const void *b)
{
    const dir_entry *x = a, *y = b;
    if (x->mtime.tv_sec != y->mtime.tv_sec)
        return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
    if (x->mtime.tv_nsec != y->mtime.tv_nsec)
        return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
    return strcmp(x->path, y->path); /* stable tie-break */
}

static int run_dir(const char *dir, file_fd_fn fn, void *ctx, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "cannot open directory %s: %s", dir, strerror(errno));
        return -errno;
    }
    dir_entry *ents = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        size_t plen = strlen(dir) + strlen(de->d_name) + 2;
        char *p = pg_malloc(plen);
        if (!p) {
            rc = -ENOMEM;
            break;
        }
        snprintf(p, plen, "%s/%s", dir, de->d_name);
        struct stat sb;
        if (stat(p, &sb) || S_ISDIR(sb.st_mode)) {
            pg_free(p);
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            dir_entry *ne = pg_realloc(ents, cap * sizeof *ne);
            if (!ne) {
                pg_free(p);
                rc = -ENOMEM;
                break;
            }
            ents = ne;
        }
        ents[n++] = (dir_entry){p, sb.st_mtim};
    }
    closedir(d);
    if (rc == -ENOMEM)
        snprintf(err, errlen, "out of memory listing %s", dir);
    if (!rc) {
        qsort(ents, n, sizeof *ents, by_mtime);
        for (size_t i = 0; i < n && !rc; i++)
            rc = run_file(ents[i].path, fn, ctx, err, errlen);
    }
    for (size_t i = 0; i < n; i++)
        pg_free(ents[i].path);
    pg_free(ents);
    return rc;
}

int file_source_each(const char *path, file_fd_fn fn, void *ctx, char *err, size_t errlen)
{
    struct stat sb;
    if (!strcmp(path, "-"))
        return fn(ctx, STDIN_FILENO, "<stdin>", err, errlen);
    if (stat(path, &sb) != 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -errno;
    }
    if (S_ISDIR(sb.st_mode))
        return run_dir(path, fn, ctx, err, errlen);
    return run_file(path, fn, ctx, err, errlen);
}

typedef struct line_run {
    line_reader r;
    line_fn fn;
    void *ctx;
} line_run;

/* Read one file descriptor to its end, calling fn per line. */
static int read_lines(void *ctx, int fd, const char *origin, char *err, size_t errlen)
{
    line_run *lr = ctx;
    line_reader_start(&lr->r, origin);
    int rc = line_reader_fill(&lr->r, fd, lr->fn, lr->ctx, err, errlen);
    return rc ? rc : line_reader_finish(&lr->r, lr->fn, lr->ctx);
}

int file_source_run(const char *path, size_t max_line, line_fn fn, line_too_long_fn too_long, line_end_fn line_end,
                    void *ctx, file_stats *st, char *err, size_t errlen)
{
    line_run lr = {.fn = fn, .ctx = ctx};
    line_reader_init(&lr.r, max_line, st);
    line_reader_on_too_long(&lr.r, too_long, ctx);
    line_reader_on_line_end(&lr.r, line_end, ctx);
    int rc = file_source_each(path, read_lines, &lr, err, errlen);
    line_reader_free(&lr.r);
    return rc;
}
