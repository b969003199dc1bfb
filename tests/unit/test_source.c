/* Unit tests: the line reader shared by the file and follow sources, and
 * the follow source itself (rotation by rename and by truncation, with
 * inotify and in polling mode). */
#include "test.h"

#include "source/file_source.h"
#include "source/follow_source.h"
#include "util/line_reader.h"
#include "json/json.h"
#include "util/buf.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Collects every line as "LINE\n" into a buffer; counts them. */
typedef struct collector {
    buf b;
    atomic_int n;
    int flushes;
    atomic_int idles;   /* follow: times every written line was handed out */
} collector;

static int collect(void *ctx, char *line, size_t len, const char *origin, uint64_t lineno)
{
    (void)origin;
    (void)lineno;
    collector *c = ctx;
    if (!line) {
        c->flushes++;             /* a flush point: nothing buffered is left */
        return 0;
    }
    buf_put(&c->b, line, len);
    buf_putc(&c->b, '\n');
    atomic_fetch_add(&c->n, 1);
    return 0;
}

static void put(int fd, const char *s) { CHECK(write(fd, s, strlen(s)) == (ssize_t)strlen(s)); }

TEST(line_reader_keeps_partial_line_between_fills)
{
    int p[2];
    CHECK(pipe2(p, O_NONBLOCK) == 0);
    file_stats st = {0};
    collector c = {BUF_INIT, 0, 0, 0};
    line_reader r;
    char err[128];
    line_reader_init(&r, 64, &st);
    line_reader_start(&r, "pipe");
    put(p[1], "ab");
    CHECK(line_reader_fill(&r, p[0], collect, &c, err, sizeof err) == 0);
    CHECK(c.n == 0 && line_reader_pending(&r) == 2);
    CHECK(c.flushes > 0); /* before waiting for the rest of the line */
    put(p[1], "c\r\n\n de\nxy");
    CHECK(line_reader_fill(&r, p[0], collect, &c, err, sizeof err) == 0);
    CHECK_STR(buf_cstr(&c.b), "abc\n de\n");
    CHECK(line_reader_pending(&r) == 2);
    CHECK(line_reader_finish(&r, collect, &c) == 0);
    CHECK_STR(buf_cstr(&c.b), "abc\n de\nxy\n");
    CHECK(st.lines == 3 && st.files == 1 && st.too_long == 0);
    line_reader_free(&r);
    buf_free(&c.b);
    close(p[0]);
    close(p[1]);
}

TEST(line_reader_discards_a_line_begun_before_start)
{
    int p[2];
    CHECK(pipe2(p, O_NONBLOCK) == 0);
    file_stats st = {0};
    collector c = {BUF_INIT, 0, 0, 0};
    line_reader r;
    char err[128];
    line_reader_init(&r, 64, &st);
    line_reader_start(&r, "pipe");
    line_reader_discard_partial(&r);
    put(p[1], "tail of an old line\nnew\n");
    CHECK(line_reader_fill(&r, p[0], collect, &c, err, sizeof err) == 0);
    CHECK_STR(buf_cstr(&c.b), "new\n");
    CHECK(st.lines == 1 && st.too_long == 0);
    line_reader_free(&r);
    buf_free(&c.b);
    close(p[0]);
    close(p[1]);
}

/* A line far longer than the read chunk is skipped without being held:
 * the buffer never grows past max_line + one chunk. */
TEST(line_reader_skips_overlong_lines_in_bounded_memory)
{
    char path[] = "/tmp/pg-lr-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    put(fd, "short\n");
    size_t big = 3u << 20;
    char *x = malloc(big);
    memset(x, 'x', big);
    CHECK(write(fd, x, big) == (ssize_t)big);
    put(fd, "\nafter\n0123456789\n");
    CHECK(write(fd, x, big) == (ssize_t)big); /* over-long and unterminated at EOF */
    free(x);
    lseek(fd, 0, SEEK_SET);
    file_stats st = {0};
    collector c = {BUF_INIT, 0, 0, 0};
    line_reader r;
    char err[128];
    line_reader_init(&r, 9, &st);
    line_reader_start(&r, path);
    log_set_quiet(1);
    CHECK(line_reader_fill(&r, fd, collect, &c, err, sizeof err) == 0);
    CHECK(line_reader_finish(&r, collect, &c) == 0);
    log_set_quiet(0);
    CHECK_STR(buf_cstr(&c.b), "short\nafter\n");
    CHECK(st.too_long == 3);
    CHECK(r.cap <= 9 + 256 * 1024 + 2);
    line_reader_free(&r);
    buf_free(&c.b);
    close(fd);
    unlink(path);
}

/* ---- block mode vs callback mode vs a model ---- */

/* What both modes must produce for `in`, by the rules of line_reader.h:
 * "N:text\n" per line handed out, "N:too long B\n" per over-long line. */
static void model_lines(const char *in, size_t n, size_t max_line, buf *out)
{
    uint64_t lineno = 0;
    size_t i = 0;
    while (i < n) {
        const char *nl = memchr(in + i, '\n', n - i);
        size_t len = nl ? (size_t)(nl - (in + i)) : n - i, raw = len;
        lineno++;
        if (len && in[i + len - 1] == '\r')
            len--;
        if (len > max_line)
            buf_printf(out, "%llu:too long %zu\n", (unsigned long long)lineno, raw);
        else if (len)
            buf_printf(out, "%llu:%.*s\n", (unsigned long long)lineno, (int)len, in + i);
        i += raw + 1;
    }
}

typedef struct block_collector {
    buf *data;
    buf *out;
} block_collector;

static int collect_block_line(void *ctx, size_t off, size_t len, uint64_t lineno)
{
    block_collector *bc = ctx;
    buf_printf(bc->out, "%llu:%.*s\n", (unsigned long long)lineno, (int)len, bc->data->data + off);
    return 0;
}

static void collect_too_long(void *ctx, const char *origin, uint64_t lineno, uint64_t bytes)
{
    (void)origin;
    block_collector *bc = ctx;
    buf_printf(bc->out, "%llu:too long %llu\n", (unsigned long long)lineno, (unsigned long long)bytes);
}

/* Block mode splits exactly like the model whatever the block size: lines
 * and numbers, \r\n, empty lines, over-long lines across blocks and at
 * the end of file (reported in order with the lines), a final
 * unterminated line. */
TEST(line_reader_block_mode_matches_model)
{
    unsigned seed = 12345;
    for (int round = 0; round < 300; round++) {
        /* random input from a small alphabet rich in edge cases */
        size_t n = (size_t)(rand_r(&seed) % 400);
        char *in = malloc(n + 1);
        for (size_t i = 0; i < n; i++) {
            int k = rand_r(&seed) % 10;
            in[i] = k < 2 ? '\n' : k < 3 ? '\r' : (char)('a' + k);
        }
        if (rand_r(&seed) % 3 == 0) { /* some long runs */
            size_t at = n ? (size_t)rand_r(&seed) % n : 0, len = (size_t)(rand_r(&seed) % 60);
            for (size_t i = at; i < n && i < at + len; i++)
                in[i] = 'x';
        }
        size_t max_line = 1 + (size_t)(rand_r(&seed) % 20), want = 1 + (size_t)(rand_r(&seed) % 50);
        char path[] = "/tmp/pg-blk-XXXXXX";
        int fd = mkstemp(path);
        CHECK(fd >= 0);
        CHECK(write(fd, in, n) == (ssize_t)n);
        lseek(fd, 0, SEEK_SET);

        buf want_out = BUF_INIT, got = BUF_INIT, data = BUF_INIT;
        model_lines(in, n, max_line, &want_out);
        file_stats st = {0};
        line_reader r;
        char err[128];
        line_reader_init(&r, max_line, &st);
        line_reader_start(&r, "blk");
        block_collector bc = {&data, &got};
        line_reader_on_too_long(&r, collect_too_long, &bc);
        int rc;
        while ((rc = line_reader_block(&r, fd, &data, want, collect_block_line, &bc, err, sizeof err)) == 1)
            CHECK(data.data[data.len] == '\0');
        CHECK(rc == 0);
        if (strcmp(buf_cstr(&got), buf_cstr(&want_out)))
            test_fail(__FILE__, __LINE__, "round %d (max_line %zu, want %zu): block mode\n%s\nmodel\n%s", round,
                      max_line, want, buf_cstr(&got), buf_cstr(&want_out));

        /* the callback mode agrees on the lines and the count */
        collector c = {BUF_INIT, 0, 0, 0};
        file_stats st3 = {0};
        log_set_quiet(1);
        CHECK(file_source_run(path, max_line, collect, NULL, NULL, &c, &st3, err, sizeof err) == 0);
        log_set_quiet(0);
        CHECK(st3.too_long == st.too_long && st3.lines == st.lines);
        buf lines_only = BUF_INIT;
        for (const char *l = buf_cstr(&got); *l;) {
            const char *e = strchr(l, '\n');
            const char *colon = strchr(l, ':');
            if (strncmp(colon, ":too long ", 10))
                buf_put(&lines_only, colon + 1, (size_t)(e - colon));
            l = e + 1;
        }
        CHECK_STR(buf_cstr(&c.b), buf_cstr(&lines_only));
        buf_free(&lines_only);
        buf_free(&c.b);

        line_reader_free(&r);
        close(fd);
        unlink(path);
        free(in);
        buf_free(&want_out);
        buf_free(&got);
        buf_free(&data);
    }
}

TEST(file_source_reads_whole_file_with_final_unterminated_line)
{
    char path[] = "/tmp/pg-fs-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    put(fd, "a\r\n\nb\nlast");
    close(fd);
    file_stats st = {0};
    collector c = {BUF_INIT, 0, 0, 0};
    char err[128];
    CHECK(file_source_run(path, 100, collect, NULL, NULL, &c, &st, err, sizeof err) == 0);
    CHECK_STR(buf_cstr(&c.b), "a\nb\nlast\n");
    CHECK(st.lines == 3 && st.files == 1);
    buf_free(&c.b);
    unlink(path);
}

TEST(follow_url_path)
{
    char out[64], err[128];
    CHECK(follow_source_url_path("file:///var/log/a.log", out, sizeof out, err, sizeof err) == 0);
    CHECK_STR(out, "/var/log/a.log");
    CHECK(follow_source_url_path("file://host/x%20y", out, sizeof out, err, sizeof err) == 0);
    CHECK_STR(out, "/x y");
    CHECK(follow_source_url_path("file:///a?b", out, sizeof out, err, sizeof err) == 0);
    CHECK_STR(out, "/a");
    CHECK(follow_source_url_path("file://audit.log", out, sizeof out, err, sizeof err) == -EINVAL);
    CHECK(follow_source_url_path("file:///a%2", out, sizeof out, err, sizeof err) == -EINVAL);
    CHECK(follow_source_url_path("file:///a%00", out, sizeof out, err, sizeof err) == -EINVAL);
    CHECK(follow_source_url_path("http://x/", out, sizeof out, err, sizeof err) == -EINVAL);
}

/* --- follow: a writer thread rotates the file while the source follows it */

typedef struct scenario {
    char dir[64], path[96];
    collector c;
    atomic_int stop;
    int failed;
} scenario;

static void ms_sleep(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void append(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600);
    if (fd >= 0) {
        put(fd, s);
        close(fd);
    }
}

static void count_idle(void *ctx) { atomic_fetch_add(&((collector *)ctx)->idles, 1); }

/* Wait until the follower is at the end of the file (it has opened it,
 * skipped what it held and handed out everything since): 5 s at most. */
static void wait_following(scenario *s)
{
    for (int i = 0; i < 500 && !atomic_load(&s->c.idles); i++)
        ms_sleep(10);
    if (!atomic_load(&s->c.idles))
        s->failed = 1;
}

/* Wait until the follower has handed out n lines (copy-truncate loses
 * whatever is not read before the truncation, by design of that rotation). */
static void wait_lines(scenario *s, int n)
{
    for (int i = 0; i < 500 && atomic_load(&s->c.n) < n; i++)
        ms_sleep(10);
    if (atomic_load(&s->c.n) < n)
        s->failed = 1;
}

static void *writer(void *arg)
{
    scenario *s = arg;
    char old[128];
    snprintf(old, sizeof old, "%s.1", s->path);
    wait_following(s);
    append(s->path, " ends\n");      /* the end of a line begun before: not read */
    append(s->path, "partial-");     /* a line written in two parts */
    ms_sleep(50);
    append(s->path, "one\ntwo\n");
    rename(s->path, old);            /* rotation by rename ... */
    append(old, "three\n");          /* ... the writer has not reopened yet */
    ms_sleep(50);
    append(s->path, "four\n");       /* ... now it has */
    append(s->path, "five\n");
    wait_lines(s, 5);
    truncate(s->path, 0);            /* copy-truncate */
    append(s->path, "six\n");
    ms_sleep(50);
    unlink(s->path);                 /* removed, then created again */
    ms_sleep(50);
    append(s->path, "seven\n");
    append(s->path, "eight\n");      /* written just before the stop: drained */
    s->stop = 1;
    return NULL;
}

static void follow_scenario(bool no_inotify)
{
    scenario s = {.c = {BUF_INIT, 0, 0, 0}};
    snprintf(s.dir, sizeof s.dir, "/tmp/pg-follow-XXXXXX");
    CHECK(mkdtemp(s.dir) != NULL);
    snprintf(s.path, sizeof s.path, "%s/audit.log", s.dir);
    append(s.path, "old1\nold2\nhalf of old3"); /* existing content is not read */
    file_stats st = {0};
    follow_stats fst = {0};
    follow_opts o = {.max_line = 1024, .stop = &s.stop, .poll_ms = 20, .idle = count_idle, .no_inotify = no_inotify};
    pthread_t t;
    pthread_create(&t, NULL, writer, &s);
    char err[256] = "";
    log_set_quiet(1);
    int rc = follow_source_run(s.path, &o, collect, &s.c, &st, &fst, err, sizeof err);
    log_set_quiet(0);
    pthread_join(t, NULL);
    CHECK(rc == 0);
    CHECK(!s.failed);
    CHECK_STR(buf_cstr(&s.c.b), "partial-one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\n");
    CHECK(fst.rotations == 2 && fst.truncations == 1);
    buf_free(&s.c.b);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s.dir);
    CHECK(system(cmd) == 0);
}

TEST(follow_survives_rotation_inotify) { follow_scenario(false); }
TEST(follow_survives_rotation_polling) { follow_scenario(true); }

TEST(follow_errors)
{
    file_stats st = {0};
    atomic_int stop = 1;
    follow_opts o = {.max_line = 64, .stop = &stop};
    char err[256];
    collector c = {BUF_INIT, 0, 0, 0};
    CHECK(follow_source_run("/nonexistent-dir/x.log", &o, collect, &c, &st, NULL, err, sizeof err) == -ENOENT);
    CHECK(strstr(err, "/nonexistent-dir") != NULL);
    CHECK(follow_source_run("/tmp", &o, collect, &c, &st, NULL, err, sizeof err) == -EINVAL);
    /* a file that does not exist yet in an existing directory is fine */
    log_set_quiet(1);
    CHECK(follow_source_run("/tmp/pg-follow-not-there", &o, collect, &c, &st, NULL, err, sizeof err) == 0);
    log_set_quiet(0);
    buf_free(&c.b);
}

/* copy-truncate where the writer is already past our offset again when we
 * look: the size never shrinks from our point of view. */
static void *rewriter(void *arg)
{
    scenario *s = arg;
    wait_following(s);
    append(s->path, "first\n");
    wait_lines(s, 1);
    ms_sleep(50); /* inside the 300 ms poll interval */
    int fd = open(s->path, O_WRONLY | O_TRUNC);
    put(fd, "second, longer than the first\nthird\n");
    close(fd);
    wait_lines(s, 3);
    s->stop = 1;
    return NULL;
}

TEST(follow_detects_truncation_rewritten_past_offset)
{
    scenario s = {.c = {BUF_INIT, 0, 0, 0}};
    snprintf(s.dir, sizeof s.dir, "/tmp/pg-follow-XXXXXX");
    CHECK(mkdtemp(s.dir) != NULL);
    snprintf(s.path, sizeof s.path, "%s/audit.log", s.dir);
    append(s.path, "");
    file_stats st = {0};
    follow_stats fst = {0};
    follow_opts o = {.max_line = 1024, .stop = &s.stop, .poll_ms = 300, .idle = count_idle, .no_inotify = true};
    pthread_t t;
    pthread_create(&t, NULL, rewriter, &s);
    char err[256] = "";
    log_set_quiet(1);
    CHECK(follow_source_run(s.path, &o, collect, &s.c, &st, &fst, err, sizeof err) == 0);
    log_set_quiet(0);
    pthread_join(t, NULL);
    CHECK(!s.failed);
    CHECK_STR(buf_cstr(&s.c.b), "first\nsecond, longer than the first\nthird\n");
    CHECK(fst.truncations == 1 && fst.rotations == 0);
    buf_free(&s.c.b);
    unlink(s.path);
    rmdir(s.dir);
}

/* A line-end oracle (line_reader_on_line_end) built on json_parse_line,
 * as the engine's: lines, numbers and counts must be exactly those of the
 * plain search for '\n', whatever the lines hold; where the oracle
 * decides, its parse must equal json_parse of the line. */
typedef struct oracle_ctx {
    collector c;        /* first: collect() takes the same ctx */
    json_doc d, check;
    int decided, mismatches;
} oracle_ctx;

static size_t parse_line_end(void *ctx, const char *p, size_t avail)
{
    oracle_ctx *o = ctx;
    size_t len;
    if (json_parse_line(&o->d, p, avail, &len) != 0)
        return 0;
    o->decided++;
    if (json_parse(&o->check, p, len) != 0 || o->check.count != o->d.count ||
        memcmp(o->check.nodes, o->d.nodes, o->d.count * sizeof *o->d.nodes) || o->d.src_len != len)
        o->mismatches++;
    return p[len] == '\n' ? len : len + 1;
}

TEST(line_reader_line_end_oracle_matches_search)
{
    static const char *const pieces[] = {
        "{\"a\":\"x\"}", "{\"a\": 1}", "[1,2]", "123", "{\"a\":", "{}", "{} ", " {}", "[]", "\r", "\n", "\n",
        "\n", "\"s\"", "{\"k\":\"a\\nb\"}", "{\"k\":\"a\tb\"}", "{\"k\":[true,null,{\"x\":-1.5e3}]}", "x",
        "{\"long\":\"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\"}", "}", "{\"a\":\"\\u0026\"}",
    };
    unsigned seed = 777;
    int decided = 0;
    for (int round = 0; round < 400; round++) {
        buf in = BUF_INIT;
        int np = rand_r(&seed) % 30;
        for (int i = 0; i < np; i++) {
            buf_puts(&in, pieces[rand_r(&seed) % (sizeof pieces / sizeof *pieces)]);
            if (rand_r(&seed) % 2)
                buf_puts(&in, rand_r(&seed) % 4 ? "\n" : "\r\n");
        }
        size_t max_line = 8 + (size_t)(rand_r(&seed) % 60);
        char path[] = "/tmp/pg-ole-XXXXXX";
        int fd = mkstemp(path);
        CHECK(fd >= 0);
        CHECK(write(fd, in.data, in.len) == (ssize_t)in.len);
        close(fd);

        char err[128];
        collector plain = {BUF_INIT, 0, 0, 0};
        file_stats s1 = {0}, s2 = {0};
        oracle_ctx o = {{BUF_INIT, 0, 0, 0}, {0}, {0}, 0, 0};
        json_doc_init(&o.d);
        json_doc_init(&o.check);
        log_set_quiet(1);
        CHECK(file_source_run(path, max_line, collect, NULL, NULL, &plain, &s1, err, sizeof err) == 0);
        CHECK(file_source_run(path, max_line, collect, NULL, parse_line_end, &o, &s2, err, sizeof err) == 0);
        log_set_quiet(0);
        CHECK_STR(buf_cstr(&o.c.b), buf_cstr(&plain.b));
        CHECK(s1.lines == s2.lines && s1.too_long == s2.too_long && s1.bytes == s2.bytes);
        CHECK(o.mismatches == 0);
        decided += o.decided;
        json_doc_free(&o.d);
        json_doc_free(&o.check);
        buf_free(&o.c.b);
        buf_free(&plain.b);
        buf_free(&in);
        unlink(path);
    }
    CHECK(decided > 300); /* the oracle did decide, often (677 with this seed) */
}
