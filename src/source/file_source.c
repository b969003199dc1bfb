/*
 * file_source — streaming JSONL reader (see file_source.h).
 */
#include "source/file_source.h"
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

#define READ_CHUNK (256 * 1024)

typedef struct reader {
    char *buf;
    size_t cap, len, pos;   /* data is buf[pos..len) */
    size_t max_line;
} reader;

/* Read one file descriptor to its end, calling fn per line. */
static int read_fd(reader *r, int fd, const char *origin, line_fn fn, void *ctx, file_stats *st,
                   char *err, size_t errlen)
{
    uint64_t lineno = 0;
    int skipping = 0;      /* inside an over-long line: drop bytes until '\n' */
    uint64_t skip_bytes = 0;
    int eof = 0;
    r->len = r->pos = 0;
    st->files++;
    for (;;) {
        /* hand out every complete line in the buffer */
        while (r->pos < r->len) {
            char *start = r->buf + r->pos;
            char *nl = memchr(start, '\n', r->len - r->pos);
            if (!nl && !eof)
                break;
            size_t n = nl ? (size_t)(nl - start) : r->len - r->pos;
            r->pos += n + (nl ? 1 : 0);
            lineno++;
            if (skipping) {
                skipping = 0;
                skip_bytes += n;
                log_msg("%s:%llu: line of %llu bytes exceeds the %zu-byte payload limit; skipped", origin,
                        (unsigned long long)lineno, (unsigned long long)skip_bytes, r->max_line);
                continue;
            }
            if (n > 0 && start[n - 1] == '\r')
                n--;
            if (n == 0)
                continue; /* empty lines are skipped, as upstream does */
            if (n > r->max_line) {
                st->too_long++;
                log_msg("%s:%llu: line of %zu bytes exceeds the %zu-byte payload limit; skipped", origin,
                        (unsigned long long)lineno, n, r->max_line);
                continue;
            }
            st->lines++;
            st->bytes += n;
            int rc = fn(ctx, start, n, origin, lineno);
            if (rc)
                return rc;
        }
        if (eof)
            return 0;
        /* flush point: every complete line buffered has been handed out */
        int frc = fn(ctx, NULL, 0, origin, lineno);
        if (frc)
            return frc;
        /* move the partial line to the front, grow if needed, read more */
        if (r->pos > 0) {
            memmove(r->buf, r->buf + r->pos, r->len - r->pos);
            r->len -= r->pos;
            r->pos = 0;
        }
        if (r->len >= r->max_line + 1) {
            /* over-long line: forget what we have and skip to its newline */
            if (!skipping) {
                st->too_long++;
                skipping = 1;
                skip_bytes = 0;
            }
            skip_bytes += r->len;
            r->len = 0;
        }
        if (r->cap - r->len < READ_CHUNK / 4) {
            size_t cap = r->cap ? r->cap * 2 : READ_CHUNK;
            size_t limit = r->max_line + READ_CHUNK + 1;
            if (cap > limit)
                cap = limit;
            if (cap > r->cap) {
                char *p = pg_realloc(r->buf, cap);
                if (!p) {
                    snprintf(err, errlen, "%s: out of memory", origin);
                    return -ENOMEM;
                }
                r->buf = p;
                r->cap = cap;
            }
        }
        ssize_t got = read(fd, r->buf + r->len, r->cap - r->len);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            snprintf(err, errlen, "%s: read error: %s", origin, strerror(errno));
            return -errno;
        }
        if (got == 0) {
            eof = 1;
            if (skipping) {
                skipping = 0;
                lineno++;
                log_msg("%s:%llu: line of %llu bytes exceeds the %zu-byte payload limit; skipped", origin,
                        (unsigned long long)lineno, (unsigned long long)(skip_bytes + r->len), r->max_line);
                r->len = 0;
            }
        }
        r->len += (size_t)got;
    }
}

static int run_file(reader *r, const char *path, line_fn fn, void *ctx, file_stats *st, char *err,
                    size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -errno;
    }
    int rc = read_fd(r, fd, path, fn, ctx, st, err, errlen);
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

static int run_dir(reader *r, const char *dir, line_fn fn, void *ctx, file_stats *st, char *err,
                   size_t errlen)
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
            rc = run_file(r, ents[i].path, fn, ctx, st, err, errlen);
    }
    for (size_t i = 0; i < n; i++)
        pg_free(ents[i].path);
    pg_free(ents);
    return rc;
}

int file_source_run(const char *path, size_t max_line, line_fn fn, void *ctx, file_stats *st,
                    char *err, size_t errlen)
{
    reader r = {.max_line = max_line};
    int rc;
    struct stat sb;
    if (!strcmp(path, "-")) {
        rc = read_fd(&r, STDIN_FILENO, "<stdin>", fn, ctx, st, err, errlen);
    } else if (stat(path, &sb) != 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        rc = -errno;
    } else if (S_ISDIR(sb.st_mode)) {
        rc = run_dir(&r, path, fn, ctx, st, err, errlen);
    } else {
        rc = run_file(&r, path, fn, ctx, st, err, errlen);
    }
    pg_free(r.buf);
    return rc;
}
