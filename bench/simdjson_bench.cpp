// simdjson DOM side of the JSON parse benchmark (see bench_common.h).
#include "bench_common.h"

#include <simdjson.h>

#include <cstdint>
#include <new>
#include <string>

#define BENCH_STR_(x) #x
#define BENCH_STR(x) BENCH_STR_(x)

static simdjson::dom::parser *parser;
static std::string label;

extern "C" const char *simdjson_bench_init(size_t maxlen)
{
    static_assert(BENCH_PADDING >= simdjson::SIMDJSON_PADDING, "padding too small for simdjson");
    parser = new (std::nothrow) simdjson::dom::parser();
    if (!parser || parser->allocate(maxlen) != simdjson::SUCCESS)
        return nullptr;
    label = std::string("simdjson " BENCH_STR(SIMDJSON_VERSION) " DOM (") +
            simdjson::get_active_implementation()->name() + ")";
    return label.c_str();
}

extern "C" size_t simdjson_bench_pass(const bench_corpus *c, unsigned long long *check)
{
    size_t failures = 0;
    unsigned long long sum = 0;
    for (size_t i = 0; i < c->n; i++) {
        const uint8_t *p = reinterpret_cast<const uint8_t *>(c->base + c->off[i]);
        simdjson::dom::element doc;
        // realloc_if_needed=false: the input is already padded, nothing is copied
        if (parser->parse(p, c->len[i], false).get(doc) != simdjson::SUCCESS) {
            failures++;
            continue;
        }
        sum += static_cast<unsigned>(doc.type());
    }
    *check += sum;
    return failures;
}

extern "C" void simdjson_bench_fini(void)
{
    delete parser;
    parser = nullptr;
}
