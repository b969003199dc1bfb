/*
 * fuzz_webhook — raw bytes → the webhook's HTTP request path.
 *
 * One webhook (libmicrohttpd, plain HTTP on a loopback port) feeding an
 * engine with a one-rule ruleset is started once; each input is sent as
 * the bytes of one connection (a request line, headers, a body, or
 * anything else), the write side is shut, and the answer read until the
 * server closes or goes quiet.  Finds crashes, leaks and undefined behaviour
 * in routing, authentication, Content-Length/chunked handling, body
 * accumulation and the parse-split-queue path.
 */
#include "fuzz_common.h"

#include "app/config.h"
#include "engine/engine.h"
#include "source/webhook.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

static const char rules[] =
    "- rule: Every Event\n"
    "  desc: fires on every event\n"
    "  condition: ka.verb exists and ka.uri.param[command] != x\n"
    "  output: verb=%ka.verb cluster=%ka.cluster.name\n"
    "  priority: INFO\n"
    "  source: k8s_audit\n";

static config cfg;
static ruleset *rs;
static engine *eng;
static webhook *wh;
static uint16_t port;

static engine_submit_rc submit_body(void *ctx, const char *body, size_t len, const char *origin, const char *cluster,
                                    bool marked, const run_counts *extra, engine_submit_info *info, char *err,
                                    size_t errlen)
{
    return engine_submit_events(ctx, body, len, origin, cluster, marked, extra, info, err, errlen);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_set_quiet(1);
    config_defaults(&cfg);
    cfg.open_params = strdup("http://127.0.0.1:0/k8s-audit");
    cfg.webhook_timeout_s = 1;
    cfg.webhook_max_batch = 1 << 20;
    strvec_push(&cfg.bearer_tokens, "t0ken");   /* authenticated and not: both paths */
    loader_opts lo = {.min_priority = PRI_DEBUG};
    rule_loader *l = loader_new(&lo);
    load_result res = {0};
    if (loader_add_text(l, "fuzz.yaml", rules, sizeof rules - 1, &res) || !(rs = loader_compile(l, &res)))
        abort();
    load_result_free(&res);
    loader_free(l);
    FILE *devnull = fopen("/dev/null", "w");
    engine_opts eo = {.cfg = &cfg, .rs = rs, .threads = 1, .concurrent_sources = true, .out = devnull};
    if (!(eng = engine_new(&eo)))
        abort();
    char err[256];
    if (webhook_start(&cfg, submit_body, eng, 2, &wh, err, sizeof err)) {
        fprintf(stderr, "fuzz_webhook: %s\n", err);
        abort();
    }
    port = webhook_port(wh);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0)
        return 0;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(s, (struct sockaddr *)&a, sizeof a)) {
        close(s);
        return 0;
    }
    size_t off = 0;
    while (off < size) {
        ssize_t n = send(s, data + off, size - off, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    shutdown(s, SHUT_WR);
    char tmp[4096];
    /* a complete request is answered within milliseconds; an incomplete one
     * would wait for the server's idle timeout, so give up on silence */
    struct pollfd p = {.fd = s, .events = POLLIN};
    int wait_ms = 30;
    while (poll(&p, 1, wait_ms) > 0 && recv(s, tmp, sizeof tmp, 0) > 0)
        wait_ms = 10;
    close(s);
    return 0;
}
