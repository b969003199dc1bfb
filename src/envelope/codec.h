/*
 * codec — the byte-level layers of cloud deliveries: base64 (Firehose
 * records, Pub/Sub message data) and gzip/zlib (CloudWatch Logs payloads,
 * compressed bodies and files), each bounded so a small input cannot
 * expand without limit.
 *
 * Ownership: results are appended to a caller-owned buf; the streaming
 * inflater is a caller-owned struct released with gz_stream_end().
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_ENVELOPE_CODEC_H
#define PEREGRINE_ENVELOPE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* Decode base64 (standard or URL-safe alphabet, padding optional, ASCII
 * whitespace ignored) of s[0..n) onto out.  0, -EINVAL on a byte outside
 * the alphabet or a misplaced '=', -ENOMEM. */
int base64_decode(const char *s, size_t n, buf *out);

/* Whether p[0..n) starts like a gzip member (1f 8b). */
static inline bool gz_magic(const void *p, size_t n)
{
    const unsigned char *b = p;
    return n >= 2 && b[0] == 0x1f && b[1] == 0x8b;
}

/* Inflate gzip (every concatenated member) or zlib data p[0..n) onto out,
 * at most max_out bytes.  0; -EFBIG when the output would exceed max_out
 * (a decompression bomb: nothing more is inflated); -EINVAL for corrupt
 * or truncated data; -ENOMEM. */
int gz_inflate(const void *p, size_t n, size_t max_out, buf *out);

/* Streaming inflate of concatenated gzip members (files). */
typedef struct gz_stream {
    void *z;                    /* z_stream, opaque here */
    bool done;                  /* a member ended and no input followed yet */
} gz_stream;
int gz_stream_init(gz_stream *s);
/* Feed in[0..*n_in): inflates into out[0..n_out), returns the bytes
 * written (>= 0) and sets *n_in to the input consumed; -EINVAL on corrupt
 * data.  Call again with the rest (or more input) until it returns 0 with
 * no input left. */
long gz_stream_run(gz_stream *s, const void *in, size_t *n_in, void *out, size_t n_out);
void gz_stream_end(gz_stream *s);

#endif
