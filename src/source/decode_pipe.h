/*
 * decode_pipe — input files that are not plain JSONL, made into JSONL for
 * the line reader: gzip-compressed files (CloudWatch exports, Firehose-to-S3
 * objects, rotated logs; concatenated members included) are inflated, and a
 * file holding one pretty-printed JSON document (what `aws logs
 * filter-log-events` and `gcloud logging read --format=json` print) is
 * joined into one line — JSON has no raw newline inside strings, so turning
 * each newline into a space keeps the document the same.
 *
 * A thread decodes into one end of a socket pair; the reader reads the
 * other end like any file.  The joined document is one payload, so it is
 * bounded by the payload limit like any line.
 *
 * Ownership: decode_pipe_open returns a handle the caller closes with
 * decode_pipe_close (which stops and joins the thread); the source fd stays
 * the caller's.
 */
#ifndef PEREGRINE_DECODE_PIPE_H
#define PEREGRINE_DECODE_PIPE_H

#include <stdbool.h>

typedef struct decode_pipe decode_pipe;

/* Whether fd (a regular file, at offset 0) needs decoding: gzip magic, or
 * a first line that is only "{" or "[". */
bool decode_pipe_needed(int fd);

/* Start decoding fd.  Returns the handle and sets *out_fd to read from,
 * or NULL (errno set). */
decode_pipe *decode_pipe_open(int fd, const char *origin, int *out_fd);
/* Stop, join, close.  Returns 0, or -EINVAL when the data was corrupt
 * (reported on stderr with the file name). */
int decode_pipe_close(decode_pipe *p);

#endif
