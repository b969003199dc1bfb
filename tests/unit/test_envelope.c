/*
 * Unit tests of src/envelope (base64, bounded gzip, sniffing, unwrapping)
 * and src/engine/dedupe.c (the recent-key window and its edit of a result).
 */
#include "test.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "engine/dedupe.h"
#include "envelope/codec.h"
#include "envelope/envelope.h"

static void gz(const char *in, size_t n, buf *out)
{
    z_stream z = {0};
    deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    buf_reserve(out, deflateBound(&z, n) + 16);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)out->data + out->len;
    z.avail_out = (uInt)(out->cap - out->len);
    deflate(&z, Z_FINISH);
    out->len += z.total_out;
    deflateEnd(&z);
}

TEST(envelope_base64)
{
    buf b = BUF_INIT;
    CHECK(base64_decode("aGVsbG8=", 8, &b) == 0 && b.len == 5 && !memcmp(b.data, "hello", 5));
    buf_clear(&b);
    CHECK(base64_decode("aGVsbG8", 7, &b) == 0 && b.len == 5);          /* padding optional */
    buf_clear(&b);
    CHECK(base64_decode("aGVs\nbG8=", 9, &b) == 0 && b.len == 5);       /* line breaks ignored */
    buf_clear(&b);
    CHECK(base64_decode("-_-_", 4, &b) == 0 && b.len == 3 && (unsigned char)b.data[0] == 0xfb);  /* URL-safe */
    buf_clear(&b);
    CHECK(base64_decode("aGVs!G8=", 8, &b) == -EINVAL);
    buf_clear(&b);
    CHECK(base64_decode("aG=Vs", 5, &b) == -EINVAL);                    /* data after padding */
    buf_clear(&b);
    CHECK(base64_decode("aGVsb", 5, &b) == -EINVAL);                    /* a lone 6 bits */
    buf_clear(&b);
    CHECK(base64_decode("", 0, &b) == 0 && b.len == 0);
    buf_free(&b);
}

TEST(envelope_gzip_bounded)
{
    size_t n = 1 << 20;
    char *zeros = calloc(1, n);
    buf z = BUF_INIT, out = BUF_INIT;
    gz(zeros, n, &z);
    CHECK(z.len < 4096);
    CHECK(gz_magic(z.data, z.len));
    CHECK(gz_inflate(z.data, z.len, n, &out) == 0 && out.len == n);
    buf_clear(&out);
    CHECK(gz_inflate(z.data, z.len, n - 1, &out) == -EFBIG);           /* a bomb stops at the bound */
    CHECK(out.len <= n - 1 + 64 * 1024);
    buf_clear(&out);
    /* two members back to back (Firehose to S3, rotated files) */
    buf two = BUF_INIT;
    gz("{\"a\":1}", 7, &two);
    gz("{\"b\":2}", 7, &two);
    CHECK(gz_inflate(two.data, two.len, 100, &out) == 0 && out.len == 14 && !memcmp(out.data, "{\"a\":1}{\"b\":2}", 14));
    buf_clear(&out);
    CHECK(gz_inflate(two.data, two.len - 3, 100, &out) == -EINVAL);     /* cut short */
    buf_clear(&out);
    two.data[12] ^= 0x55;
    CHECK(gz_inflate(two.data, two.len, 100, &out) == -EINVAL);         /* corrupt */
    /* the streaming inflater gives the same bytes fed one byte at a time */
    buf_clear(&two);
    gz("{\"a\":1}\n", 8, &two);
    gz("{\"b\":2}\n", 8, &two);
    gz_stream s;
    CHECK(gz_stream_init(&s) == 0);
    char o[64];
    size_t got = 0;
    for (size_t i = 0; i < two.len;) {
        size_t used = 1;
        long k = gz_stream_run(&s, two.data + i, &used, o + got, sizeof o - got);
        CHECK(k >= 0);
        got += (size_t)(k > 0 ? k : 0);
        i += used;
    }
    gz_stream_end(&s);
    CHECK(got == 16 && !memcmp(o, "{\"a\":1}\n{\"b\":2}\n", 16));
    buf_free(&two);
    buf_free(&z);
    buf_free(&out);
    free(zeros);
}

static const char EV[] = "{\"kind\":\"Event\",\"auditID\":\"a1\",\"stage\":\"ResponseComplete\","
                         "\"stageTimestamp\":\"2024-01-01T00:00:00Z\"}";

TEST(envelope_sniff_and_decode)
{
    envelope *e = envelope_new();
    char err[256];
    envelope_opts o = {.accept = ENV_ANY, .max_bytes = 1 << 20};
    buf in = BUF_INIT;
    /* a CloudWatch message: the audit stream kept, the group names the cluster */
    buf_printf(&in, "{\"messageType\":\"DATA_MESSAGE\",\"logGroup\":\"/aws/eks/kite/cluster\","
                    "\"logStream\":\"kube-apiserver-audit-1\",\"logEvents\":[{\"id\":\"1\",\"message\":");
    json_write_string(&in, EV, strlen(EV));
    buf_puts(&in, "}]}");
    CHECK(envelope_decode(e, in.data, in.len, &o, err, sizeof err) == ENV_CWL);
    CHECK(envelope_ngroups(e) == 1);
    CHECK_STR(envelope_cluster(e, &envelope_groups(e)[0]), "kite");
    CHECK(envelope_groups(e)[0].nevents == 1);
    CHECK(!strncmp(envelope_text(e) + envelope_groups(e)[0].off, "[{\"kind\":\"Event\"", 16));
    /* another stream: recognized, nothing kept, counted */
    buf_clear(&in);
    buf_puts(&in, "{\"messageType\":\"DATA_MESSAGE\",\"logGroup\":\"/aws/eks/kite/cluster\","
                  "\"logStream\":\"authenticator-1\",\"logEvents\":[{\"id\":\"1\",\"message\":\"time=x\"}]}");
    CHECK(envelope_decode(e, in.data, in.len, &o, err, sizeof err) == ENV_CWL);
    CHECK(envelope_ngroups(e) == 0 && envelope_result_counts(e)->skipped == 1);
    /* a control message */
    const char *ctl = "{\"messageType\":\"CONTROL_MESSAGE\",\"logGroup\":\"\",\"logStream\":\"\",\"logEvents\":[]}";
    CHECK(envelope_decode(e, ctl, strlen(ctl), &o, err, sizeof err) == ENV_CWL);
    CHECK(envelope_result_counts(e)->control == 1);
    /* a route that takes only Firehose refuses it */
    envelope_opts fo = o;
    fo.accept = ENV_BIT(ENV_FIREHOSE);
    CHECK(envelope_decode(e, ctl, strlen(ctl), &fo, err, sizeof err) == -EINVAL);
    /* a truncated CloudWatch event: counted, its auditID reported */
    buf_clear(&in);
    buf_puts(&in, "{\"messageType\":\"DATA_MESSAGE\",\"logStream\":\"kube-apiserver-audit-1\",\"logEvents\":[{\"message\":");
    const char *cut = "{\"kind\":\"Event\",\"auditID\":\"5f0b-77\",\"requestObject\":{\"x\":\"yyy[Truncated...]";
    json_write_string(&in, cut, strlen(cut));
    buf_puts(&in, "}]}");
    CHECK(envelope_decode(e, in.data, in.len, &o, err, sizeof err) == ENV_CWL);
    CHECK(envelope_result_counts(e)->truncated == 1);
    CHECK(strstr(envelope_messages(e)->data, "auditID 5f0b-77") != NULL);
    /* AKS: the placeholder for a large object is left out */
    buf_clear(&in);
    buf_puts(&in, "{\"records\":[{\"category\":\"kube-audit\",\"resourceId\":\"/X/MANAGEDCLUSTERS/OSPREY\","
                  "\"properties\":{\"log\":");
    const char *big = "{\"kind\":\"Event\",\"auditID\":\"b\",\"requestObject\":\"skipped-too-big-size-object\","
                      "\"stageTimestamp\":\"2024-01-01T00:00:00Z\"}";
    json_write_string(&in, big, strlen(big));
    buf_puts(&in, "}}]}");
    CHECK(envelope_decode(e, in.data, in.len, &o, err, sizeof err) == ENV_AKS);
    CHECK_STR(envelope_cluster(e, &envelope_groups(e)[0]), "osprey");
    CHECK(strstr(envelope_text(e), "requestObject") == NULL && strstr(envelope_text(e), "\"auditID\":\"b\""));
    /* plain text is not an envelope */
    CHECK(envelope_decode(e, "hello", 5, &o, err, sizeof err) == -EINVAL);
    CHECK(envelope_decode(e, "[{\"log\":\"hello\"}]", 17, &o, err, sizeof err) == -EINVAL);
    /* a CloudWatch export line */
    size_t skip;
    CHECK(envelope_export_prefix("2026-01-01T00:00:01.234Z {\"a\":1}", 32, &skip) && skip == 25);
    CHECK(!envelope_export_prefix("{\"a\":1}", 7, &skip));
    buf_free(&in);
    envelope_free(e);
}

TEST(envelope_inflated_bound)
{
    /* a gzip body that inflates past max_bytes is refused, not truncated */
    size_t n = 1 << 20;
    char *sp = malloc(n);
    memset(sp, ' ', n);
    memcpy(sp, "[", 1);
    sp[n - 1] = ']';
    buf z = BUF_INIT;
    gz(sp, n, &z);
    envelope *e = envelope_new();
    char err[256];
    envelope_opts o = {.accept = ENV_ANY, .max_bytes = n / 2};
    CHECK(envelope_decode(e, z.data, z.len, &o, err, sizeof err) == -EFBIG);
    CHECK(strstr(err, "payload limit") != NULL);
    envelope_free(e);
    buf_free(&z);
    free(sp);
}

/* The window against a plain list of the last N keys. */
TEST(dedupe_window_matches_reference)
{
    size_t win = 100;
    dedupe *d = dedupe_new(win);
    uint64_t ref[100];
    size_t nref = 0, head = 0;
    unsigned seed = 7;
    for (int i = 0; i < 20000; i++) {
        seed = seed * 1103515245u + 12345u;
        uint64_t k = (seed >> 8) % 300;     /* many repeats, many evictions */
        bool want = false;
        for (size_t j = 0; j < nref; j++)
            want |= ref[j] == (k ? k : 1);
        bool got = dedupe_seen(d, k);
        CHECK(got == want);
        if (got != want)
            break;
        if (!want) {
            if (nref < win)
                ref[nref++] = k ? k : 1;
            else {
                ref[head] = k ? k : 1;
                head = (head + 1) % win;
            }
        }
    }
    dedupe_free(d);
    CHECK(dedupe_new(0) == NULL);
}

TEST(dedupe_apply_removes_text_and_spans)
{
    dedupe *d = dedupe_new(16);
    worker_result r = {0};
    /* three events: A (2 alerts), B (1), A again (2) */
    const char *lines[] = {"a1\n", "a2\n", "b1\n", "a1\n", "a2\n"};
    size_t ev_of[] = {0, 0, 1, 2, 2};
    uint64_t keys[] = {11, 22, 11};
    r.spans = calloc(8, sizeof *r.spans);
    r.marks = calloc(4, sizeof *r.marks);
    for (size_t e = 0, li = 0; e < 3; e++) {
        event_mark m = {.key = keys[e], .text_off = r.text.len, .span_off = r.nspans};
        for (; li < 5 && ev_of[li] == e; li++) {
            r.spans[r.nspans++] = (alert_span){(uint32_t)r.text.len, 3, (uint32_t)li};
            buf_puts(&r.text, lines[li]);
        }
        m.text_end = r.text.len;
        m.span_end = r.nspans;
        r.marks[r.nmarks++] = m;
    }
    r.counts.events = 3;
    r.counts.alerts = 5;
    dedupe_apply(d, &r);
    CHECK(r.text.len == 9 && !memcmp(r.text.data, "a1\na2\nb1\n", 9));
    CHECK(r.nspans == 3 && r.spans[2].off == 6 && r.spans[2].rule == 2);
    CHECK(r.counts.events == 2 && r.counts.alerts == 3 && r.counts.duplicates == 1);
    CHECK(dedupe_seen(d, 22) && dedupe_seen(d, 11));    /* both remembered */
    buf_free(&r.text);
    free(r.spans);
    free(r.marks);
    dedupe_free(d);
}
