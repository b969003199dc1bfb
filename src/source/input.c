/*
 * input — files and follow mode into the engine (see input.h).
 */
#include "source/input.h"
#include "source/file_source.h"
#include "source/follow_source.h"
#include "util/config.h"

static int read_fd(void *ctx, int fd, const char *origin, char *err, size_t errlen)
{
    return engine_read_fd(ctx, fd, origin, err, errlen);
}

int input_run_file(engine *e, const char *path, char *err, size_t errlen)
{
    err[0] = 0;
    engine_input_begin(e, path);
    int rc = file_source_each(path, read_fd, e, err, errlen);
    return engine_input_end(e, rc, err, errlen);
}

int input_run_follow(engine *e, const char *url, atomic_int *stop, char *err, size_t errlen)
{
    err[0] = 0;
    char path[4096];
    int rc = follow_source_url_path(url, path, sizeof path, err, errlen);
    if (rc)
        return rc;
    file_stats fs = {0};
    follow_opts fo = {.max_line = config_payload_limit(engine_config(e)), .stop = stop,
                      .too_long = engine_line_too_long};
    rc = follow_source_run(path, &fo, engine_line, e, &fs, NULL, err, errlen);
    return engine_input_end(e, rc, err, errlen);
}
