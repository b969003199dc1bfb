/*
 * envelope_internal — what envelope.c (sniffing, unwrapping, output) and
 * gke.c (LogEntry conversion) share.  Not for use outside src/envelope/.
 */
#ifndef PEREGRINE_ENVELOPE_INTERNAL_H
#define PEREGRINE_ENVELOPE_INTERNAL_H

#include "envelope/envelope.h"

/* The decoded text of string node v: a pointer into the document when it
 * has no escapes, else into `scratch` (overwritten). */
const char *env_str(const json_doc *d, uint32_t v, buf *scratch, size_t *len);
/* String member `key` of object obj, decoded (NULL when absent or not a
 * string). */
const char *env_member_str(const json_doc *d, uint32_t obj, const char *key, buf *scratch, size_t *len);

/* Convert LogEntry v of d into an audit Event appended to out (compact
 * JSON).  Returns 1 when converted (cluster gets resource.labels
 * cluster_name, or stays as it was), 0 when the entry is not a Kubernetes
 * audit entry (out unchanged), -ENOMEM. */
int gke_convert(const json_doc *d, uint32_t v, bool faithful, buf *out, char *cluster, size_t clen);

/* Where the JSON value starting at p[0] ('{' or '[') ends (its length),
 * or 0 when it does not within n bytes (strings and escapes respected). */
size_t env_value_end(const char *p, size_t n);

/* Parse an RFC 3339 time into seconds and nanoseconds (UTC).  0 or -EINVAL. */
int env_parse_time(const char *s, size_t n, int64_t *sec, long *nsec);

#endif
