/*
 * json_parse — the strict in-situ JSON parser (see json.h).
 *
 * One pass over the bytes, written as a single loop (a small state machine
 * with gotos) rather than recursive descent, so the cursor, the node count
 * and the node array stay in registers.  Nesting needs no stack of its own:
 * while a container is open, its node's `next` field (only known when it
 * closes) holds the index of the enclosing open container.
 *
 * Whitespace is noticed cheaply: `ws_end` is the offset just past the
 * latest whitespace run, so a container holds whitespace exactly when
 * ws_end is beyond its opening bracket when it closes (JSON_F_SPACE).
 *
 * The hot loop is string scanning: 16 bytes at a time with SSE2 (with
 * AVX2, chosen once at run time where the CPU has it, a first 16-byte probe
 * and then 32 at a time, as most keys and values are short, and with
 * AVX-512VL the same with a three-input OR; 8 with a portable SWAR fallback
 * elsewhere) until a quote, a backslash, a control
 * byte or a non-ASCII byte shows up.  One signed compare finds both of the
 * last two: as int8, bytes >= 0x80 are negative, hence "< 0x20".  When the
 * closing quote is at least 16 bytes from the end of input, the bytes after
 * it are read without bounds checks to take ":"" and ","" in one step.
 * Escapes and UTF-8 validation leave the fast path (string_rest; with
 * AVX2, string_rest_avx2 first, 64 bytes per step).
 *
 * What bounds the speed is latency, not work: where a string ends is the
 * address of the next token, so a document is one chain of dependent steps
 * (load, compare, combine, movemask, count zeros, add, load).  Hence the
 * three-input OR, the unsigned bit index (first_bit), and the key-value
 * pair step (key_at_quote), which takes both ends of "key":"value" from one
 * probe.  BENCHMARKS.md has the measurements.
 */
#include "json/json.h"
#include "util/alloc.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__) && defined(__SSE2__)
#include <immintrin.h>
#define JSON_HAVE_AVX2_DISPATCH 1
#endif

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

static __attribute__((cold, noinline)) int fail(json_doc *d, const char *s, const char *end, const char *at,
                                                 const char *what)
{
    d->err_pos = (size_t)(at - s);
    if (at < end)
        snprintf(d->err, sizeof d->err, "%s at offset %zu (near '%c')", what, d->err_pos,
                 (*at >= 0x20 && *at < 0x7f) ? *at : '?');
    else
        snprintf(d->err, sizeof d->err, "%s at offset %zu (end of input)", what, d->err_pos);
    return -EINVAL;
}

/* Nodes a document may hold per byte read: audit events take 10-16 bytes
 * a node, while '[0,0,0,...]' takes 2 — 8 bytes of nodes per byte of
 * input, 100 MB for a 12 MB body.  Past the first 64K nodes, a document
 * denser than one node per JSON_BYTES_PER_NODE bytes read so far is
 * refused as it grows, so nodes never cost more than 4x the input. */
#define JSON_BYTES_PER_NODE 4u
#define JSON_DENSITY_FREE_NODES 65536u

/* Make room for at least one more node; `read`: input bytes parsed so
 * far.  Returns 0, -ENOMEM, or -E2BIG (too dense, above). */
static __attribute__((cold, noinline)) int grow(json_doc *d, size_t read)
{
    if (d->cap >= JSON_DENSITY_FREE_NODES && d->cap > read / JSON_BYTES_PER_NODE)
        return -E2BIG;
    uint32_t cap = d->cap ? (d->cap > UINT32_MAX / 2 ? UINT32_MAX - 1 : d->cap * 2) : 256;
    json_node *n = pg_realloc(d->nodes, (size_t)cap * sizeof *n);
    if (!n)
        return -ENOMEM;
    d->nodes = n;
    d->cap = cap;
    return 0;
}

static inline int is_ws(unsigned c)
{
    const uint64_t bits = (1ull << ' ') | (1ull << '\t') | (1ull << '\n') | (1ull << '\r');
    return c <= ' ' && ((bits >> c) & 1);
}

/* Validate one UTF-8 sequence starting at p (first byte >= 0x80).
 * Returns its length or 0 if invalid. */
static int utf8_seq(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    if (c >= 0xC2 && c <= 0xDF) {
        if (end - p < 2 || (p[1] & 0xC0) != 0x80)
            return 0;
        return 2;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (end - p < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && p[1] < 0xA0)
            return 0; /* overlong */
        if (c == 0xED && p[1] >= 0xA0)
            return 0; /* UTF-16 surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (end - p < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && p[1] < 0x90)
            return 0; /* overlong */
        if (c == 0xF4 && p[1] >= 0x90)
            return 0; /* above U+10FFFF */
        return 4;
    }
    return 0;
}

static inline int is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* Why a string scan stopped at p (not a closing quote). */
static __attribute__((cold, noinline)) const char *string_error(const unsigned char *p, const unsigned char *end)
{
    if (p >= end)
        return "unterminated string";
    if (*p == '\\') {
        if (end - p < 2)
            return "unterminated string";
        return p[1] == 'u' ? "invalid \\u escape" : "invalid escape";
    }
    return *p < 0x20 ? "control character in string" : "invalid UTF-8";
}

#if defined(__SSE2__)
/* 32 copies of a byte: the SIMD scanners' constants. */
#define SPLAT32(c) {c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c}
static const unsigned char k_quote[32] __attribute__((aligned(32))) = SPLAT32('"');
static const unsigned char k_bslash[32] __attribute__((aligned(32))) = SPLAT32('\\');
static const unsigned char k_space[32] __attribute__((aligned(32))) = SPLAT32(0x20);
#endif

/* The index of the lowest set bit of a nonzero movemask, ready to add to
 * a pointer.  From __builtin_ctz's int GCC emits a sign extension first:
 * one more step on the parser's critical path, since the scan's result is
 * the next token's address (BENCHMARKS.md has what it cost). */
static inline size_t first_bit(unsigned mask)
{
#if defined(__x86_64__) && defined(__GNUC__)
    /* GCC still sign-extends in places (it knows 0..31 and may pick either
     * extension); a 64-bit tzcnt of the zero-extended mask needs neither.
     * tzcnt runs as bsf on CPUs without BMI: the same for a nonzero mask. */
    uint64_t r;
    __asm__("tzcnt %1, %0" : "=r"(r) : "r"((uint64_t)mask) : "cc");
    return (size_t)r;
#else
    return (unsigned)__builtin_ctz(mask);
#endif
}

static inline int plain_byte(unsigned c) { return c != '"' && c != '\\' && c >= 0x20 && c < 0x80; }

/* The fast string scan: from p, skip bytes that are neither a quote, a
 * backslash, a control byte nor non-ASCII.  Returns the first such byte,
 * or end.  `lim16` is end - 16 (as an integer: no pointer underflow). */
/* The scanners' constants, loaded once per parse and opaque to the
 * optimizer (an empty asm): otherwise it rebuilds them at every string,
 * and turns the one signed compare into min + compare. */
#if defined(__SSE2__)
typedef struct scan_consts_sse2 {
    __m128i quote, bslash, space;
} scan_consts_sse2;

static inline __attribute__((always_inline)) scan_consts_sse2 scan_consts_sse2_load(void)
{
    scan_consts_sse2 k = {_mm_load_si128((const __m128i *)k_quote), _mm_load_si128((const __m128i *)k_bslash),
                          _mm_load_si128((const __m128i *)k_space)};
#if defined(__GNUC__)
    __asm__("" : "+x"(k.quote), "+x"(k.bslash), "+x"(k.space));
#endif
    return k;
}
#else
typedef struct scan_consts_sse2 {
    int unused;
} scan_consts_sse2;

static inline scan_consts_sse2 scan_consts_sse2_load(void) { return (scan_consts_sse2){0}; }
#endif

/* The stop bytes (quote, backslash, control, non-ASCII) among the 16 at p
 * (p <= lim16), bit i for p[i]: the scan's step, and what the key-value
 * pair step reads two string ends from (see key_at_quote).  0 without
 * SSE2: no pair step. */
static inline __attribute__((always_inline)) unsigned probe16_sse2(const unsigned char *p, scan_consts_sse2 k)
{
#if defined(__SSE2__)
    __m128i v = _mm_loadu_si128((const __m128i *)p);
    __m128i m = _mm_or_si128(_mm_cmpeq_epi8(v, k.quote), _mm_cmpeq_epi8(v, k.bslash));
    m = _mm_or_si128(m, _mm_cmplt_epi8(v, k.space)); /* control or non-ASCII: negative as int8 */
    return (unsigned)_mm_movemask_epi8(m);
#else
    (void)p;
    (void)k;
    return 0;
#endif
}

/* The fast string scan: from p, skip bytes that are neither a quote, a
 * backslash, a control byte nor non-ASCII.  Returns the first such byte,
 * or end.  `lim16` is end - 16 (as an integer: no pointer underflow). */
static inline __attribute__((always_inline)) const unsigned char *
skip_plain_sse2(const unsigned char *p, const unsigned char *end, uintptr_t lim16, scan_consts_sse2 k)
{
#if defined(__SSE2__)
    while ((uintptr_t)p <= lim16) {
        unsigned mask = probe16_sse2(p, k);
        if (mask)
            return p + first_bit(mask);
        p += 16;
    }
#else
    (void)lim16;
    (void)k;
    while (end - p >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
        uint64_t q = v ^ (ones * '"'), b = v ^ (ones * '\\');
        uint64_t m = ((q - ones) & ~q) | ((b - ones) & ~b) | ((v - ones * 0x20) & ~v) | v;
        if (m & highs)
            break;
        p += 8;
    }
#endif
    while (p < end && plain_byte(*p))
        p++;
    return p;
}

#ifdef JSON_HAVE_AVX2_DISPATCH
typedef struct scan_consts_avx2 {
    __m256i quote, bslash, space;
} scan_consts_avx2;

static inline __attribute__((always_inline, target("avx2"))) scan_consts_avx2 scan_consts_avx2_load(void)
{
    scan_consts_avx2 k = {_mm256_load_si256((const __m256i *)k_quote), _mm256_load_si256((const __m256i *)k_bslash),
                          _mm256_load_si256((const __m256i *)k_space)};
    __asm__("" : "+x"(k.quote), "+x"(k.bslash), "+x"(k.space));
    return k;
}

/* The wide scan, written once for two instruction sets: OR3 combines the
 * three compare results.  The scan's result is the address of the next
 * thing parsed, so its latency is on the parser's critical path: with
 * AVX-512VL one three-input OR (vpternlogd) replaces two ORs, a step less
 * per string. */
#define OR3_SSE(a, b, c) _mm_or_si128(_mm_or_si128(a, b), c)
#define OR3_AVX(a, b, c) _mm256_or_si256(_mm256_or_si256(a, b), c)
#define OR3_TERN128(a, b, c) _mm_ternarylogic_epi32(a, b, c, 0xFE) /* 0xFE: a | b | c */
#define OR3_TERN256(a, b, c) _mm256_ternarylogic_epi32(a, b, c, 0xFE)

/* probe16 for the wide variants: OR3 combines the three compare results. */
#define PROBE16_WIDE(OR3_128)                                                                                    \
    __m128i v = _mm_loadu_si128((const __m128i *)p);                                                            \
    return (unsigned)_mm_movemask_epi8(OR3_128(_mm_cmpeq_epi8(v, _mm256_castsi256_si128(k.quote)),              \
                                               _mm_cmpeq_epi8(v, _mm256_castsi256_si128(k.bslash)),             \
                                               _mm_cmplt_epi8(v, _mm256_castsi256_si128(k.space))));

/* The wide scan, written once for two instruction sets (OR3 above). */
#define SKIP_PLAIN_WIDE(PROBE16, OR3_256)                                                                        \
    /* Most keys and values are shorter than 16 bytes: probe 16 first. */                                       \
    if (likely((uintptr_t)p <= lim16)) {                                                                        \
        unsigned mask = PROBE16(p, k);                                                                          \
        if (mask)                                                                                               \
            return p + first_bit(mask);                                                                         \
        p += 16;                                                                                                \
    }                                                                                                           \
    while ((uintptr_t)p <= lim16 - 16) {                                                                        \
        __m256i v = _mm256_loadu_si256((const __m256i *)p);                                                     \
        /* the third: control or non-ASCII */                                                                   \
        __m256i m = OR3_256(_mm256_cmpeq_epi8(v, k.quote), _mm256_cmpeq_epi8(v, k.bslash),                      \
                            _mm256_cmpgt_epi8(k.space, v));                                                     \
        unsigned mask = (unsigned)_mm256_movemask_epi8(m);                                                      \
        if (mask)                                                                                               \
            return p + first_bit(mask);                                                                         \
        p += 32;                                                                                                \
    }                                                                                                           \
    scan_consts_sse2 k16 = {_mm256_castsi256_si128(k.quote), _mm256_castsi256_si128(k.bslash),                  \
                            _mm256_castsi256_si128(k.space)};                                                   \
    return skip_plain_sse2(p, end, lim16, k16);

static inline __attribute__((always_inline, target("avx2"))) unsigned probe16_avx2(const unsigned char *p,
                                                                                   scan_consts_avx2 k)
{
    PROBE16_WIDE(OR3_SSE)
}

static inline __attribute__((always_inline, target("avx2"))) const unsigned char *
skip_plain_avx2(const unsigned char *p, const unsigned char *end, uintptr_t lim16, scan_consts_avx2 k)
{
    SKIP_PLAIN_WIDE(probe16_avx2, OR3_AVX)
}

#define JSON_AVX512_TARGET "avx2,avx512f,avx512vl"
typedef scan_consts_avx2 scan_consts_avx512;
#define scan_consts_avx512_load scan_consts_avx2_load

static inline __attribute__((always_inline, target(JSON_AVX512_TARGET))) unsigned
probe16_avx512(const unsigned char *p, scan_consts_avx512 k)
{
    PROBE16_WIDE(OR3_TERN128)
}

static inline __attribute__((always_inline, target(JSON_AVX512_TARGET))) const unsigned char *
skip_plain_avx512(const unsigned char *p, const unsigned char *end, uintptr_t lim16, scan_consts_avx512 k)
{
    SKIP_PLAIN_WIDE(probe16_avx512, OR3_TERN256)
}
#endif

typedef struct scan_result {
    const unsigned char *p;
    unsigned flags;
} scan_result;

/* The rest of a string whose fast scan stopped at p on something other
 * than a quote: escapes, UTF-8 sequences, errors.  Returns the closing
 * quote, or where the string is invalid (end when unterminated); flags
 * tell whether there were escapes.  Off the hot path. */
static __attribute__((noinline)) scan_result string_rest(const unsigned char *p, const unsigned char *end,
                                                         uintptr_t lim16)
{
    unsigned flags = 0;
    const scan_consts_sse2 k = scan_consts_sse2_load();
    while (p < end) {
        unsigned c = *p;
        if (c == '"')
            break;
        if (c == '\\') {
            flags = JSON_F_ESCAPES;
            if (end - p < 2)
                break;
            switch (p[1]) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                p += 2;
                break;
            case 'u':
                if (end - p < 6 || !is_hex(p[2]) || !is_hex(p[3]) || !is_hex(p[4]) || !is_hex(p[5]))
                    return (scan_result){p, flags};
                p += 6;
                break;
            default:
                return (scan_result){p, flags};
            }
        } else if (c < 0x20) {
            break;
        } else if (c >= 0x80) {
            int n = utf8_seq(p, end);
            if (!n)
                break;
            p += n;
        }
        p = skip_plain_sse2(p, end, lim16, k);
    }
    return (scan_result){p, flags};
}

#ifdef JSON_HAVE_AVX2_DISPATCH
static inline __attribute__((always_inline, target("avx2"))) uint64_t bits64(__m256i lo, __m256i hi)
{
    return (uint64_t)(uint32_t)_mm256_movemask_epi8(lo) | (uint64_t)(uint32_t)_mm256_movemask_epi8(hi) << 32;
}

/* Bytes of v that may follow a backslash: " / b f n r t u (a backslash
 * cannot, it would have extended the run).  Two nibble lookups: each
 * letter has a bit, set in the entry of its low nibble and in that of its
 * high nibble, so a byte is a letter when the two entries share a bit
 * (bytes >= 0x80 look up 0). */
static inline __attribute__((always_inline, target("avx2"))) __m256i escape_letters(__m256i v)
{
    enum { Q = 1, SL = 2, B = 4, F = 8, N = 16, R = 32, T = 64, U = 128 };
    const __m256i lo_tab = _mm256_setr_epi8(0, 0, Q | B | R, 0, T, (char)U, F, 0, 0, 0, 0, 0, 0, 0, N, SL, /* x2 */
                                            0, 0, Q | B | R, 0, T, (char)U, F, 0, 0, 0, 0, 0, 0, 0, N, SL);
    const __m256i hi_tab = _mm256_setr_epi8(0, 0, Q | SL, 0, 0, 0, B | F | N, (char)(R | T | U), 0, 0, 0, 0, 0, 0, 0, 0,
                                            0, 0, Q | SL, 0, 0, 0, B | F | N, (char)(R | T | U), 0, 0, 0, 0, 0, 0, 0, 0);
    const __m256i nib = _mm256_set1_epi8(0x0F);
    __m256i lo = _mm256_shuffle_epi8(lo_tab, _mm256_and_si256(v, nib));
    __m256i hi = _mm256_shuffle_epi8(hi_tab, _mm256_and_si256(_mm256_srli_epi16(v, 4), nib));
    __m256i both = _mm256_and_si256(lo, hi);
    return _mm256_xor_si256(_mm256_cmpeq_epi8(both, _mm256_setzero_si256()), _mm256_set1_epi8(-1));
}

static inline __attribute__((always_inline, target("avx2"))) __m256i hex_digits(__m256i v)
{
    __m256i lc = _mm256_or_si256(v, _mm256_set1_epi8(0x20));
    __m256i dig = _mm256_and_si256(_mm256_cmpgt_epi8(v, _mm256_set1_epi8('0' - 1)),
                                   _mm256_cmpgt_epi8(_mm256_set1_epi8('9' + 1), v));
    __m256i let = _mm256_and_si256(_mm256_cmpgt_epi8(lc, _mm256_set1_epi8('a' - 1)),
                                   _mm256_cmpgt_epi8(_mm256_set1_epi8('f' + 1), lc));
    return _mm256_or_si256(dig, let);
}

/*
 * string_rest for AVX2 machines: the same result as string_rest, 64 bytes
 * per step instead of one escape per step (audit logs are full of Go's
 * \u0026 and of JSON quoted inside strings).  For a block: the bytes right
 * after a run of backslashes of odd length are the escaped ones (found
 * with one addition per run parity: adding a run's first bit to the run
 * carries to the byte after it); the first quote not escaped ends the
 * string; every escaped byte must be one of "/bfnrtu, and a u must be
 * followed by four hex digits.  A block starts where no escape is open:
 * when a run of backslashes reaches its last 8 bytes, the block ends
 * before that run (so every escape it decides, \uXXXX included, lies
 * inside it).  Anything else — control or non-ASCII bytes, an invalid
 * escape, a string that does not end before the input does — is left to
 * string_rest from the block's start, which also gives the exact error.  The unit test
 * json_escaped_strings_avx2_matches_portable holds the two to the same
 * results.
 */
static __attribute__((noinline, target("avx2"))) scan_result string_rest_avx2(const unsigned char *p,
                                                                              const unsigned char *end,
                                                                              uintptr_t lim16)
{
    const uint64_t even = 0x5555555555555555ull;
    unsigned flags = 0;
    unsigned char tail[64];
    while (p < end) {
        const unsigned char *blk = p;
        if (end - p < 64) {
            /* the last bytes of the input (an event's last member is often
             * an annotation full of \"), padded with NULs: control bytes,
             * so a block that runs into them is left to string_rest */
            memset(tail, 0, sizeof tail);
            memcpy(tail, p, (size_t)(end - p));
            blk = tail;
        }
        __m256i a = _mm256_loadu_si256((const __m256i *)blk), b = _mm256_loadu_si256((const __m256i *)(blk + 32));
        const __m256i quote = _mm256_set1_epi8('"'), bslash = _mm256_set1_epi8('\\'), space = _mm256_set1_epi8(0x20);
        uint64_t quotes = bits64(_mm256_cmpeq_epi8(a, quote), _mm256_cmpeq_epi8(b, quote));
        uint64_t bs = bits64(_mm256_cmpeq_epi8(a, bslash), _mm256_cmpeq_epi8(b, bslash));
        uint64_t odd = bits64(_mm256_cmpgt_epi8(space, a), _mm256_cmpgt_epi8(space, b)); /* control, non-ASCII */
        uint64_t own = ~0ull; /* the bytes this step decides: [0, cut) */
        unsigned cut = 64;
        if (bs >> 56) {
            unsigned j = 56 + (unsigned)__builtin_ctzll(bs >> 56);
            while (j > 0 && ((bs >> (j - 1)) & 1))
                j--;
            if (j == 0)
                break;
            cut = j;
            own = (1ull << j) - 1;
            bs &= own;
        }
        uint64_t starts = bs & ~(bs << 1);
        uint64_t after_even = (bs + (starts & even)) & ~bs, after_odd = (bs + (starts & ~even)) & ~bs;
        uint64_t escaped = (after_even & ~even) | (after_odd & even);
        uint64_t closing = quotes & ~escaped & own;
        closing &= -closing; /* the first one */
        uint64_t in = closing ? closing - 1 : own; /* this block's bytes of the string */
        if (odd & in)
            break;
        uint64_t esc = escaped & in;
        if (esc) {
            uint64_t letters = bits64(escape_letters(a), escape_letters(b));
            if (esc & ~letters)
                break;
            uint64_t u = esc & bits64(_mm256_cmpeq_epi8(a, _mm256_set1_epi8('u')), _mm256_cmpeq_epi8(b, _mm256_set1_epi8('u')));
            if (u) { /* at byte 56 at most (see the cut), so its digits are in this block */
                uint64_t hex = bits64(hex_digits(a), hex_digits(b));
                if (((u << 1) | (u << 2) | (u << 3) | (u << 4)) & ~hex)
                    break;
            }
        }
        if (bs & in)
            flags = JSON_F_ESCAPES;
        if (closing)
            return (scan_result){p + __builtin_ctzll(closing), flags};
        p += cut;
    }
    scan_result r = string_rest(p, end, lim16);
    r.flags |= flags;
    return r;
}
#endif


/* Scan a number from p; returns its end, or NULL with *errp at the fault. */
static inline const unsigned char *scan_number(const unsigned char *p, const unsigned char *end,
                                               const unsigned char **errp)
{
    if (*p == '-') {
        p++;
        if (p >= end)
            goto bad;
    }
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        p++;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    } else {
        goto bad;
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || *p < '0' || *p > '9')
            goto bad;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p | 0x20) == 'e') {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || *p < '0' || *p > '9')
            goto bad;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    return p;
bad:
    *errp = p;
    return NULL;
}

static inline void set_node(json_node *n, uint32_t start, uint32_t len, uint32_t next, json_type t, uint8_t flags)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* two 8-byte stores instead of six field stores (layout checked below) */
    uint64_t a = start | (uint64_t)len << 32, b = next | (uint64_t)t << 32 | (uint64_t)flags << 40;
    memcpy(n, &a, 8);
    memcpy((char *)n + 8, &b, 8);
#else
    *n = (json_node){.start = start, .len = len, .next = next, .type = (uint8_t)t, .flags = flags, .unused = 0};
#endif
}
_Static_assert(sizeof(json_node) == 16 && offsetof(json_node, len) == 4 && offsetof(json_node, next) == 8 &&
                   offsetof(json_node, type) == 12 && offsetof(json_node, flags) == 13 &&
                   offsetof(json_node, unused) == 14,
               "set_node assumes this json_node layout");

/*
 * The parser proper, instantiated once per string scanner (VARIANT).
 * States:
 *   value        a value is expected (whitespace first)
 *   key          an object key is expected (whitespace skipped)
 *   after_value  a value just ended: ',' or the closing bracket of `cur`
 *   close        p is at the closing bracket of `cur`
 * The common compact shapes ("key":"value", ",\"next\"") take the first
 * branch of each state.
 */
#define JSON_PARSE_BODY(VARIANT)                                                                                    \
    const unsigned char *const s = (const unsigned char *)src;                                                      \
    const unsigned char *p = s;                                                                                     \
    const unsigned char *const end = s + len;                                                                       \
    const uintptr_t lim16 = (uintptr_t)end - 16;                                                                    \
    const scan_consts_##VARIANT k = scan_consts_##VARIANT##_load();                                                 \
    json_node *nodes = d->nodes;                                                                                    \
    uint32_t count = 0, cap = d->cap;                                                                               \
    uint32_t cur = JSON_NONE; /* innermost open container */                                                        \
    unsigned char close_ch = 0; /* its closing bracket */                                                           \
    unsigned depth = 0;                                                                                             \
    const unsigned max_depth = d->max_depth;                                                                        \
    uint32_t ws_end = 0;                                                                                            \
    uint32_t n_root_keys = 0;                                                                                       \
    const unsigned char *at = p, *q; /* at: set on every path to fail */                                            \
    const char *what = NULL;                                                                                        \
    unsigned fl;                                                                                                    \
                                                                                                                    \
value:                                                                                                              \
    if (likely(p < end)) {                                                                                          \
        if (likely(*p == '"'))                                                                                      \
            goto string_value;                                                                                      \
        if (*p > ' ')                                                                                               \
            goto dispatch;                                                                                          \
    }                                                                                                               \
    SKIP_WS();                                                                                                      \
    if (unlikely(p >= end))                                                                                         \
        FAIL(p, "expected a value");                                                                                \
dispatch:                                                                                                           \
    switch (*p) {                                                                                                   \
    case '"':                                                                                                       \
        goto string_value;                                                                                          \
    case '{':                                                                                                       \
    case '[':                                                                                                       \
        RESERVE();                                                                                                  \
        if (unlikely(++depth > max_depth))                                                                          \
            FAIL(p, "nesting too deep");                                                                            \
        close_ch = (unsigned char)(*p + 2); /* '{' + 2 == '}', '[' + 2 == ']' */                                    \
        set_node(&nodes[count], (uint32_t)(p - s), 0, cur, close_ch == '}' ? JSON_OBJECT : JSON_ARRAY, 0);          \
        cur = count++;                                                                                              \
        p++;                                                                                                        \
        if (likely(p < end)) {                                                                                      \
            if (*p == '"' && close_ch == '}')                                                                       \
                goto key_at_quote;                                                                                  \
            if (*p <= ' ')                                                                                          \
                SKIP_WS();                                                                                          \
            if (likely(p < end) && *p == close_ch)                                                                  \
                goto close;                                                                                         \
        }                                                                                                           \
        if (close_ch == '}')                                                                                        \
            goto key;                                                                                               \
        goto value;                                                                                                 \
    case 't':                                                                                                       \
        RESERVE();                                                                                                  \
        if (unlikely(end - p < 4 || memcmp(p, "true", 4) != 0))                                                     \
            FAIL(p, "invalid literal");                                                                             \
        set_node(&nodes[count], (uint32_t)(p - s), 4, count + 1, JSON_TRUE, 0);                                     \
        count++;                                                                                                    \
        p += 4;                                                                                                     \
        goto after_value;                                                                                           \
    case 'f':                                                                                                       \
        RESERVE();                                                                                                  \
        if (unlikely(end - p < 5 || memcmp(p, "false", 5) != 0))                                                    \
            FAIL(p, "invalid literal");                                                                             \
        set_node(&nodes[count], (uint32_t)(p - s), 5, count + 1, JSON_FALSE, 0);                                    \
        count++;                                                                                                    \
        p += 5;                                                                                                     \
        goto after_value;                                                                                           \
    case 'n':                                                                                                       \
        RESERVE();                                                                                                  \
        if (unlikely(end - p < 4 || memcmp(p, "null", 4) != 0))                                                     \
            FAIL(p, "invalid literal");                                                                             \
        set_node(&nodes[count], (uint32_t)(p - s), 4, count + 1, JSON_NULL, 0);                                     \
        count++;                                                                                                    \
        p += 4;                                                                                                     \
        goto after_value;                                                                                           \
    case '-':                                                                                                       \
    case '0': case '1': case '2': case '3': case '4':                                                               \
    case '5': case '6': case '7': case '8': case '9':                                                               \
        RESERVE();                                                                                                  \
        q = scan_number(p, end, &at);                                                                               \
        if (unlikely(!q)) {                                                                                         \
            what = "invalid number";                                                                                \
            goto fail;                                                                                              \
        }                                                                                                           \
        set_node(&nodes[count], (uint32_t)(p - s), (uint32_t)(q - p), count + 1, JSON_NUMBER, 0);                   \
        count++;                                                                                                    \
        p = q;                                                                                                      \
        goto after_value;                                                                                           \
    default:                                                                                                        \
        FAIL(p, "unexpected character");                                                                            \
    }                                                                                                               \
                                                                                                                    \
string_value:                                                                                                       \
    RESERVE();                                                                                                      \
    q = skip_plain_##VARIANT(p + 1, end, lim16, k);                                                                 \
string_value_scanned: /* q: where the scan of the string at p stopped */                                            \
    if (likely((uintptr_t)q <= lim16 && *q == '"')) {                                                               \
        /* plain string, 16 readable bytes from q: look ahead for ,"key" */                                         \
        set_node(&nodes[count], (uint32_t)(p + 1 - s), (uint32_t)(q - p - 1), count + 1, JSON_STRING, 0);           \
        count++;                                                                                                    \
        if (q[1] == ',' && close_ch == '}' && q[2] == '"') {                                                        \
            p = q + 2;                                                                                              \
            goto key_at_quote;                                                                                      \
        }                                                                                                           \
        p = q + 1;                                                                                                  \
        goto after_value;                                                                                           \
    }                                                                                                               \
    SCAN_STRING_REST();                                                                                             \
    set_node(&nodes[count], (uint32_t)(p + 1 - s), (uint32_t)(q - p - 1), count + 1, JSON_STRING, (uint8_t)fl);     \
    count++;                                                                                                        \
    p = q + 1;                                                                                                      \
                                                                                                                    \
after_value:                                                                                                        \
    if (unlikely(cur == JSON_NONE))                                                                                 \
        goto done;                                                                                                  \
    if (likely(p < end)) {                                                                                          \
        if (*p == ',') {                                                                                            \
            p++;                                                                                                    \
            if (close_ch == '}') {                                                                                  \
                if (likely(p < end && *p == '"'))                                                                   \
                    goto key_at_quote;                                                                              \
                goto key;                                                                                           \
            }                                                                                                       \
            goto value;                                                                                             \
        }                                                                                                           \
        if (*p == close_ch)                                                                                         \
            goto close;                                                                                             \
        SKIP_WS();                                                                                                  \
        if (likely(p < end)) {                                                                                      \
            if (*p == ',') {                                                                                        \
                p++;                                                                                                \
                if (close_ch == '}')                                                                                \
                    goto key;                                                                                       \
                goto value;                                                                                         \
            }                                                                                                       \
            if (*p == close_ch)                                                                                     \
                goto close;                                                                                         \
        }                                                                                                           \
    }                                                                                                               \
    FAIL(p, close_ch == '}' ? "expected ',' or '}'" : "expected ',' or ']'");                                       \
                                                                                                                    \
key:                                                                                                                \
    SKIP_WS();                                                                                                      \
    if (unlikely(p >= end || *p != '"'))                                                                            \
        FAIL(p, "expected object key");                                                                             \
key_at_quote:                                                                                                       \
    RESERVE();                                                                                                      \
    /* The pair step: "key":"value" within the 16 bytes after the key's                                             \
     * quote gives both string ends from one probe, the value's by a shift of                                       \
     * the same mask rather than a second load, compare and movemask on the                                         \
     * critical path.  Anything else goes the general way below. */                                                 \
    if (likely((uintptr_t)p < lim16)) {                                                                             \
        unsigned m = probe16_##VARIANT(p + 1, k);                                                                   \
        const unsigned char *const wend = p + 17; /* the window: p[1..17) */                                        \
        if (likely(m)) {                                                                                            \
            q = p + 1 + first_bit(m);                                                                               \
            if (likely(*q == '"' && (uintptr_t)q <= lim16 && q[1] == ':' && q[2] == '"')) {                         \
                const unsigned char *v = q + 3;                                                                     \
                unsigned rest = m >> (v - (p + 1));                                                                 \
                set_node(&nodes[count], (uint32_t)(p + 1 - s), (uint32_t)(q - p - 1), count + 1, JSON_STRING, 0);   \
                NOTE_ROOT_KEY();                                                                                    \
                count++;                                                                                            \
                p = q + 2;                                                                                          \
                if (v > wend)                                                                                       \
                    goto string_value; /* the value starts past the window */                                       \
                RESERVE();                                                                                          \
                /* where the value's scan stops: in the window, from the mask; else                                 \
                 * from the window's end on, the bytes before it being plain */                                     \
                q = rest ? v + first_bit(rest) : skip_plain_##VARIANT(wend, end, lim16, k);                         \
                goto string_value_scanned;                                                                          \
            }                                                                                                       \
            goto key_scanned; /* not a pair of strings: on with the key as scanned */                               \
        }                                                                                                           \
        q = skip_plain_##VARIANT(wend, end, lim16, k); /* a long key: its first 16 bytes are plain */               \
        goto key_scanned;                                                                                           \
    }                                                                                                               \
    q = skip_plain_##VARIANT(p + 1, end, lim16, k);                                                                 \
key_scanned: /* q: where the scan of the key at p stopped */                                                        \
    if (likely((uintptr_t)q <= lim16 && *q == '"')) {                                                               \
        /* plain key, 16 readable bytes from q: look ahead for :"value" */                                          \
        set_node(&nodes[count], (uint32_t)(p + 1 - s), (uint32_t)(q - p - 1), count + 1, JSON_STRING, 0);           \
        NOTE_ROOT_KEY();                                                                                            \
        count++;                                                                                                    \
        if (likely(q[1] == ':')) {                                                                                  \
            p = q + 2;                                                                                              \
            if (likely(*p == '"'))                                                                                  \
                goto string_value;                                                                                  \
            goto value;                                                                                             \
        }                                                                                                           \
        p = q + 1;                                                                                                  \
        goto after_key;                                                                                             \
    }                                                                                                               \
    SCAN_STRING_REST();                                                                                             \
    set_node(&nodes[count], (uint32_t)(p + 1 - s), (uint32_t)(q - p - 1), count + 1, JSON_STRING, (uint8_t)fl);     \
    NOTE_ROOT_KEY();                                                                                                \
    count++;                                                                                                        \
    p = q + 1;                                                                                                      \
after_key:                                                                                                          \
    if (likely(p < end && *p == ':')) {                                                                             \
        p++;                                                                                                        \
        goto value;                                                                                                 \
    }                                                                                                               \
    SKIP_WS();                                                                                                      \
    if (unlikely(p >= end || *p != ':'))                                                                            \
        FAIL(p, "expected ':'");                                                                                    \
    p++;                                                                                                            \
    goto value;                                                                                                     \
                                                                                                                    \
close: {                                                                                                            \
    json_node *n = &nodes[cur];                                                                                     \
    uint32_t parent = n->next;                                                                                      \
    p++;                                                                                                            \
    n->len = (uint32_t)(p - s) - n->start;                                                                          \
    n->next = count;                                                                                                \
    if (ws_end > n->start)                                                                                          \
        n->flags = JSON_F_SPACE;                                                                                    \
    depth--;                                                                                                        \
    cur = parent;                                                                                                   \
    close_ch = cur == JSON_NONE ? 0 : nodes[cur].type == JSON_OBJECT ? '}' : ']';                                   \
    goto after_value;                                                                                               \
}                                                                                                                   \
                                                                                                                    \
done:                                                                                                               \
    d->count = count;                                                                                               \
    d->n_root_keys = n_root_keys;                                                                                   \
    if (unlikely(d->line_mode))                                                                                     \
        return line_end(d, s, p, end);                                                                              \
    SKIP_WS();                                                                                                      \
    if (unlikely(p != end))                                                                                         \
        return fail(d, src, (const char *)end, (const char *)p, "unexpected data after the JSON value");            \
    return 0;                                                                                                       \
                                                                                                                    \
fail:                                                                                                               \
    d->n_root_keys = n_root_keys;                                                                                   \
    d->count = count;                                                                                               \
    return fail(d, src, (const char *)end, (const char *)at, what);                                                 \
                                                                                                                    \
oom:                                                                                                                \
    d->n_root_keys = n_root_keys;                                                                                   \
    d->count = count;                                                                                               \
    return -ENOMEM;

/* json_parse_line's test once the root value has closed at p: no
 * whitespace inside it, and the line's newline right after. */
static int line_end(json_doc *d, const unsigned char *s, const unsigned char *p, const unsigned char *end)
{
    if ((d->nodes[0].flags & JSON_F_SPACE) || p >= end)
        return 1;
    if (*p == '\n' || (*p == '\r' && end - p >= 2 && p[1] == '\n')) {
        d->src_len = (size_t)(p - s);
        return 0;
    }
    return 1;
}

#define SKIP_WS()                                                                                            \
    do {                                                                                                     \
        if (p < end && is_ws(*p)) {                                                                          \
            do                                                                                               \
                p++;                                                                                         \
            while (p < end && is_ws(*p));                                                                    \
            ws_end = (uint32_t)(p - s);                                                                      \
        }                                                                                                    \
    } while (0)

/* Note a key of the root object (cur == 0) for event_root_index, with no
 * branch: every key is written to the next free slot, only the root's
 * advance it.  Past JSON_ROOT_KEYS_MAX the slots wrap and the count says
 * the list is incomplete. */
#define NOTE_ROOT_KEY()                                                                                      \
    do {                                                                                                     \
        d->root_keys[n_root_keys & (JSON_ROOT_KEYS_MAX - 1)] = count;                                        \
        n_root_keys += cur == 0;                                                                             \
    } while (0)

#define RESERVE()                                                                                            \
    do {                                                                                                     \
        if (unlikely(count == cap)) {                                                                        \
            d->count = count;                                                                                \
            int grc_ = grow(d, (size_t)(p - s));                                                             \
            if (grc_ == -E2BIG) {                                                                            \
                at = p;                                                                                      \
                what = "more than one JSON value per 4 bytes";                                               \
                goto fail;                                                                                   \
            }                                                                                                \
            if (grc_)                                                                                        \
                goto oom;                                                                                    \
            nodes = d->nodes;                                                                                \
            cap = d->cap;                                                                                    \
        }                                                                                                    \
    } while (0)

/* p is at an opening quote, q where the fast scan stopped: q becomes the
 * closing quote, fl the flags. */
#define SCAN_STRING_REST()                                                                                   \
    do {                                                                                                     \
        fl = 0;                                                                                              \
        if (unlikely(q >= end || *q != '"')) {                                                               \
            scan_result r_ = STRING_REST(q, end, lim16);                                                     \
            q = r_.p;                                                                                        \
            fl = r_.flags;                                                                                   \
            if (unlikely(q >= end || *q != '"'))                                                             \
                FAIL(q, string_error(q, end));                                                               \
        }                                                                                                    \
    } while (0)

#define FAIL(where, msg)                                                                                     \
    do {                                                                                                     \
        at = (where);                                                                                        \
        what = (msg);                                                                                        \
        goto fail;                                                                                           \
    } while (0)

#define STRING_REST string_rest
static int parse_generic(json_doc *d, const char *src, size_t len)
{
    JSON_PARSE_BODY(sse2)
}

/* Test hooks, deliberately not in json.h (tests declare them): force the
 * portable SSE2/SWAR parser, or the AVX2 one, even where a wider one is
 * available, so that all are tested on one machine (on 0: back to the
 * CPU's choice).  Not for concurrent use with parsing. */
void json_parse_force_portable(int on);
int json_parse_force_avx2(int on);

#ifdef JSON_HAVE_AVX2_DISPATCH
static int (*_Atomic parse_fn)(json_doc *, const char *, size_t);

#undef STRING_REST
#define STRING_REST string_rest_avx2
__attribute__((target("avx2"))) static int parse_avx2(json_doc *d, const char *src, size_t len)
{
    JSON_PARSE_BODY(avx2)
}

__attribute__((target(JSON_AVX512_TARGET))) static int parse_avx512(json_doc *d, const char *src, size_t len)
{
    JSON_PARSE_BODY(avx512)
}

static int (*resolve_parse(void))(json_doc *, const char *, size_t)
{
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl"))
        return parse_avx512;
    return __builtin_cpu_supports("avx2") ? parse_avx2 : parse_generic;
}

void json_parse_force_portable(int on) { parse_fn = on ? parse_generic : NULL; }

int json_parse_force_avx2(int on)
{
    __builtin_cpu_init();
    bool avx2 = __builtin_cpu_supports("avx2");
    parse_fn = on && avx2 ? parse_avx2 : on ? parse_generic : NULL;
    return avx2;
}
#else
void json_parse_force_portable(int on) { (void)on; }
int json_parse_force_avx2(int on)
{
    (void)on;
    return 0;
}
#endif

void json_doc_init(json_doc *d)
{
    memset(d, 0, sizeof *d);
    d->max_depth = JSON_DEFAULT_MAX_DEPTH;
}

void json_doc_free(json_doc *d)
{
    pg_free(d->nodes);
    d->nodes = NULL;
    d->count = d->cap = 0;
}

int json_parse_line(json_doc *d, const char *src, size_t avail, size_t *len)
{
    /* a container from the first byte: no whitespace before it either */
    if (avail < 2 || (src[0] != '{' && src[0] != '['))
        return 1;
    d->line_mode = true;
    int rc = json_parse(d, src, avail);
    d->line_mode = false;
    if (rc == 0) {
        *len = d->src_len;
        return 0;
    }
    return rc == -ENOMEM ? -ENOMEM : 1;
}

int json_parse(json_doc *d, const char *src, size_t len)
{
    d->src = src;
    d->src_len = len;
    d->count = 0;
    d->err[0] = 0;
    d->err_pos = 0;
    if (len >= UINT32_MAX) {
        snprintf(d->err, sizeof d->err, "input too large (%zu bytes)", len);
        return -E2BIG;
    }
#ifdef JSON_HAVE_AVX2_DISPATCH
    int (*fn)(json_doc *, const char *, size_t) = parse_fn;
    if (unlikely(!fn))
        parse_fn = fn = resolve_parse();
    return fn(d, src, len);
#else
    return parse_generic(d, src, len);
#endif
}
