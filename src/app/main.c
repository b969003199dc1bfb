/*
 * peregrine — command line entry: options → configuration → rules →
 * engine run.  The only place that decides exit codes.
 */
#include "app/config.h"
#include "app/serve.h"
#include "engine/engine.h"
#include "harness/ruletest.h"
#include "fields/fields.h"
#include "output/alert_sink.h"
#include "output/outputs.h"
#include "rules/rulefiles.h"
#include "rules/ruleset.h"
#include "source/input.h"
#include "source/webhook.h"
#include "util/alloc.h"
#include "util/log.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PEREGRINE_VERSION "0.1.0"
#ifndef PEREGRINE_SYSCONFDIR
#define PEREGRINE_SYSCONFDIR "/etc/peregrine"
#endif

static const char usage[] =
    "Usage: peregrine [OPTIONS]\n"
    "\n"
    "Threat detection for Kubernetes audit events, compatible with Falco's\n"
    "k8saudit + json plugins (rule language, fields, configuration, alerts).\n"
    "\n"
    "Input and configuration:\n"
    "  -c FILE               Falco-style configuration (default " PEREGRINE_SYSCONFDIR "/peregrine.yaml\n"
    "                        when it exists). Keys used: plugins (k8saudit open_params and\n"
    "                        init_config), rules_files, json_output and json_include_*,\n"
    "                        priority, rule_matching, time_format_iso_8601, buffered_outputs,\n"
    "                        stdout_output, file_output, syslog_output, program_output,\n"
    "                        http_output, output_timeout, outputs_queue, alert_rate_limit,\n"
    "                        alert_dedup. Other keys are accepted and ignored.\n"
    "  -o KEY=VALUE          Override a configuration key, e.g. -o json_output=true,\n"
    "                        -o plugins[0].open_params=/var/log/audit.log. Repeatable.\n"
    "  -e FILE               Read audit events from FILE: JSONL (one Event, EventList or\n"
    "                        JSON array per line), a directory of such files (read in\n"
    "                        modification-time order), or - for stdin. file:///PATH follows\n"
    "                        a growing file from its end across rotations until SIGTERM.\n"
    "                        Overrides open_params.\n"
    "  -r PATH               Rules file, or directory of .yaml/.yml rules files (sorted).\n"
    "                        Repeatable, loaded in order. Default: rules_files of the\n"
    "                        configuration, else " PEREGRINE_SYSCONFDIR "/rules, else the bundled\n"
    "                        rules next to the binary.\n"
    "\n"
    "Actions:\n"
    "  -V, --validate PATH   Load and compile rules (file or directory), report, exit.\n"
    "  -L                    List the loaded rules and their descriptions, exit.\n"
    "  --list[=SOURCE]       List the supported fields (SOURCE: k8s_audit), exit.\n"
    "  --test PATH           Run rule test cases (a case file, or a directory of them)\n"
    "                        against the rules of -r; print failures and 'N passed,\n"
    "                        M failed'; exit 1 if any failed. Format: README, \"Testing rules\".\n"
    "  --extract EXPR        Print, for each event of -e FILE, the values of field EXPR\n"
    "                        as one JSON object per event: {\"EXPR\": [\"v\", ...] | null}.\n"
    "                        Repeatable. Use it to see what a field yields.\n"
    "\n"
    "Output:\n"
    "  -U, --unbuffered      Flush every alert as it is written (buffered_outputs: false).\n"
    "  --threads N           Evaluate on N threads (default: the number of cores). Alerts\n"
    "                        keep input order whatever N is; 1 runs everything on one thread.\n"
    "  -q, --quiet           No log lines on stderr.\n"
    "  -v, --verbose         Print rules warnings when loading; list passing test cases.\n"
    "  -h, --help            This help.\n"
    "  --version             Print the version.\n"
    "\n"
    "Alerts go to stdout, one line each (Falco's text format, or JSON with\n"
    "json_output: true), and to every other enabled channel (file, syslog, program,\n"
    "HTTP; SIGUSR1 reopens file_output), followed at the end of the input by the run\n"
    "summary and Falco's statistics block (plus one line per alert channel).\n"
    "Problems with the input (malformed lines, events that are not audit events,\n"
    "oversized events) are reported on stderr with file and line, counted, and\n"
    "skipped; alerts a channel could not deliver are counted and reported: processing\n"
    "goes on and the exit status stays 0.\n"
    "\n"
    "Exit status: 0 when the run completed; 1 on a configuration, rules or input\n"
    "error; 2 on a usage error.\n";

typedef struct options {
    const char *config;
    strvec rules;
    strvec overrides;
    strvec extract;
    const char *input;
    const char *validate;
    bool list_rules;
    bool list_fields;
    int threads;                /* 0: not given */
    const char *test;           /* --test PATH */
    bool verbose;
    bool unbuffered;
} options;

static const char *bundled_rules_dir(void)
{
    static char path[4200];
    struct stat sb;
    if (stat(PEREGRINE_SYSCONFDIR "/rules", &sb) == 0 && S_ISDIR(sb.st_mode))
        return PEREGRINE_SYSCONFDIR "/rules";
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            snprintf(path, sizeof path, "%s/../rules", exe);
            if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
                return path;
        }
    }
    return NULL;
}

static ruleset *load_rules(const strvec *paths, const config *cfg, bool verbose_ok)
{
    loader_opts lo = {.min_priority = (priority)cfg->priority, .reference = cfg->rule_eval_reference};
    load_result res = {0};
    buf err = BUF_INIT;
    ruleset *rs = rulefiles_load(paths, &lo, &res, &err);
    if (err.len)
        fprintf(stderr, "peregrine: %s\n", buf_cstr(&err));
    if (res.n && (!rs || res.errors || verbose_ok)) {
        buf b = BUF_INIT;
        load_result_print(&res, &b);
        fputs(buf_cstr(&b), stderr);
        buf_free(&b);
    }
    if (!rs)
        fprintf(stderr, "peregrine: error loading rules: %zu error(s)\n", res.errors ? res.errors : 1);
    load_result_free(&res);
    buf_free(&err);
    return rs;
}

/* SIGHUP / watch_config_files: the same rules paths, read again. */
typedef struct reload_ctx {
    const strvec *paths;
    const config *cfg;
} reload_ctx;

static ruleset *reload_rules(void *ctx, buf *err)
{
    reload_ctx *r = ctx;
    loader_opts lo = {.min_priority = (priority)r->cfg->priority, .reference = r->cfg->rule_eval_reference};
    load_result res = {0};
    ruleset *rs = rulefiles_load(r->paths, &lo, &res, err);
    if (!rs)
        load_result_print(&res, err);
    load_result_free(&res);
    return rs;
}

static void list_fields(void)
{
    const char *plugin = NULL;
    for (int i = 0; i < FIELD__COUNT; i++) {
        const field_def *f = &field_table[i];
        if (!plugin || strcmp(plugin, f->plugin)) {
            plugin = f->plugin;
            printf("%s-------------------------------------------------------------------------------\n",
                   i ? "\n" : "");
            printf("Field Class:                  %s\n", plugin);
            printf("Event Sources:                k8s_audit\n\n");
        }
        char name[128];
        const char *arg = f->arg == FARG_KEY_REQ ? "[key]" : f->arg == FARG_INDEX_OPT ? "[index]" : "";
        snprintf(name, sizeof name, "%s%s", f->name, arg);
        printf("%-30s %s%s\n", name, f->is_list ? "(list) " : "", f->desc);
    }
}

static void list_rules(const ruleset *rs)
{
    printf("%-50s %s\n", "Rule", "Description");
    printf("%-50s %s\n", "----", "-----------");
    for (size_t i = 0; i < ruleset_count(rs); i++) {
        const rule_info *r = ruleset_rule(rs, i);
        printf("%-50s ", r->name);
        const char *sum = ruleset_rule_summary(rs, i);
        if (sum) /* correlations and suppressions say what they count */
            printf("[%s%s]%s", ruleset_rule_is_correlation(rs, i) ? "correlation " : "", sum, *r->desc ? "\n" : "");
        if (sum && *r->desc)
            printf("%51s", "");
        /* word-wrap the description at 59 columns, continuation indented by 51 */
        size_t col = 0;
        const char *p = r->desc;
        while (*p) {
            while (*p == ' ' || *p == '\n')
                p++;
            size_t w = strcspn(p, " \n");
            if (!w)
                break;
            if (col && col + w > 59) {
                printf("\n%51s", "");
                col = 0;
            }
            printf("%.*s ", (int)w, p);
            col += w + 1;
            p += w;
        }
        printf("\n\n");
    }
}

/* SIGUSR1 in a file run: the alert channels reopen (acted on by the sink,
 * on the emitter's thread; serve() takes the signal itself). */
static atomic_int reopen_requested;

static void on_sigusr1(int sig)
{
    (void)sig;
    reopen_requested = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run_extract(const options *o, const config *cfg)
{
    size_t n = o->extract.n;
    field_ref *refs = pg_calloc(n, sizeof *refs);
    if (!refs)
        return 1;
    for (size_t i = 0; i < n; i++) {
        char err[256];
        const char *t = o->extract.v[i];
        if (field_ref_parse_flags(t, strlen(t), FIELD_PARSE_VERBATIM, &refs[i], err, sizeof err)) {
            fprintf(stderr, "peregrine: --extract %s: %s\n", t, err);
            for (size_t k = 0; k < i; k++)
                field_ref_free(&refs[k]);
            pg_free(refs);
            return 2;
        }
    }
    engine_opts eo = {.cfg = cfg, .extract = refs, .extract_text = (const char *const *)o->extract.v,
                      .nextract = n, .out = stdout};
    engine *e = engine_new(&eo);
    int rc = 1;
    char err[512];
    if (e && !input_run_file(e, o->input, err, sizeof err))
        rc = 0;
    else if (e)
        fprintf(stderr, "peregrine: %s\n", err);
    engine_free(e);
    for (size_t i = 0; i < n; i++)
        field_ref_free(&refs[i]);
    pg_free(refs);
    return rc;
}

/* --threads, defaulting to the number of cores.  Rules that read evt.num
 * or evt.reltime depend on the order events are numbered in, which only
 * one thread reproduces exactly, so they run on one thread. */
static int effective_threads(const options *o, const ruleset *rs)
{
    int n = o->threads;
    if (!n) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        n = cores > 0 ? (int)(cores > 64 ? 64 : cores) : 1;
    }
    const char *ordered = n > 1 && rs ? ruleset_uses_order(rs) : NULL;
    if (ordered) {
        if (o->threads > 1)
            log_msg("rules use %s, which numbers events in input order: running on one thread", ordered);
        return 1;
    }
    return n;
}

/* The command line into o.  Returns -1 to go on, or the exit status
 * (0 after --help, --version or --list; 2 on a usage error). */
static int parse_options(int argc, char **argv, options *o)
{
    enum { OPT_LIST = 1000, OPT_EXTRACT, OPT_VERSION, OPT_THREADS, OPT_TEST };
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},       {"version", no_argument, NULL, OPT_VERSION},
        {"list", optional_argument, NULL, OPT_LIST}, {"extract", required_argument, NULL, OPT_EXTRACT},
        {"validate", required_argument, NULL, 'V'}, {"unbuffered", no_argument, NULL, 'U'},
        {"quiet", no_argument, NULL, 'q'},      {"threads", required_argument, NULL, OPT_THREADS},
        {"test", required_argument, NULL, OPT_TEST},    {"verbose", no_argument, NULL, 'v'},
        {0, 0, 0, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "hc:r:o:e:V:LUqv", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(usage, stdout);
            return 0;
        case OPT_VERSION:
            printf("Peregrine version: %s\nk8saudit compatible version: 0.18.0\njson compatible version: 0.7.4\n"
                   "Engine version: 0.62.0\n", PEREGRINE_VERSION);
            return 0;
        case 'c': o->config = optarg; break;
        case 'r': strvec_push(&o->rules, optarg); break;
        case 'o': strvec_push(&o->overrides, optarg); break;
        case 'e': o->input = optarg; break;
        case 'V': o->validate = optarg; break;
        case 'L': o->list_rules = true; break;
        case 'U': o->unbuffered = true; break;
        case 'q': log_set_quiet(1); break;
        case 'v': o->verbose = true; break;
        case OPT_TEST: o->test = optarg; break;
        case OPT_LIST:
            if (optarg && strcmp(optarg, "k8s_audit") && strcmp(optarg, "k8saudit") && strcmp(optarg, "json")) {
                fprintf(stderr, "peregrine: --list: unknown source '%s' (only k8s_audit)\n", optarg);
                return 2;
            }
            o->list_fields = true;
            break;
        case OPT_EXTRACT: strvec_push(&o->extract, optarg); break;
        case OPT_THREADS: {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 256) {
                fprintf(stderr, "peregrine: --threads: expected a number from 1 to 256, got '%s'\n", optarg);
                return 2;
            }
            o->threads = (int)n;
            break;
        }
        default:
            fputs("Try 'peregrine --help'.\n", stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "peregrine: unexpected argument '%s'\nTry 'peregrine --help'.\n", argv[optind]);
        return 2;
    }
    if (o->list_fields) {
        list_fields();
        return 0;
    }
    return -1;
}

/* The configuration file (-c, else the system one when present), the -o
 * overrides, init_config, and -e.  0, or 1 after printing the error. */
static int load_config(const options *o, config *cfg, const char **cfgpath)
{
    char err[1024] = "";
    struct stat sb;
    *cfgpath = o->config;
    if (!*cfgpath && stat(PEREGRINE_SYSCONFDIR "/peregrine.yaml", &sb) == 0)
        *cfgpath = PEREGRINE_SYSCONFDIR "/peregrine.yaml";
    int rc = *cfgpath ? config_load_file(cfg, *cfgpath, err, sizeof err) : 0;
    for (size_t i = 0; i < o->overrides.n && !rc; i++)
        rc = config_override(cfg, o->overrides.v[i], err, sizeof err);
    if (!rc && o->input) { /* before the init_config checks, some of which depend on the input */
        pg_free(cfg->open_params);
        cfg->open_params = pg_strdup(o->input);
    }
    if (!rc)
        rc = config_decode_init(cfg, err, sizeof err);
    if (rc) {
        fprintf(stderr, "peregrine: %s\n", err);
        return 1;
    }
    return 0;
}

/* -V PATH: load and compile, report. */
static int run_validate(const options *o, const config *cfg)
{
    strvec paths = {0};
    strvec_push(&paths, o->validate);
    ruleset *rs = load_rules(&paths, cfg, true);
    strvec_free(&paths);
    if (rs)
        printf("%s: Ok\n", o->validate);
    ruleset_free(rs);
    return rs ? 0 : 1;
}

/* The input open_params names: 0 file, 1 serving (webhook or follow), -1
 * an unsupported scheme or none (reported). */
static int input_kind(const config *cfg)
{
    if (!cfg->open_params || !*cfg->open_params) {
        fprintf(stderr, "peregrine: no input: give -e FILE or the k8saudit plugin's open_params\n");
        return -1;
    }
    if (webhook_is_url(cfg->open_params) || !strncmp(cfg->open_params, "file://", 7))
        return 1;
    if (strstr(cfg->open_params, "://")) {
        fprintf(stderr, "peregrine: open_params '%s': scheme not supported (use http://, https://, file:// or a path)\n",
                cfg->open_params);
        return -1;
    }
    return 0;
}

/* Serving: the webhook or a followed file, with rules reloads watching the
 * rules files, their directories and the configuration file. */
static int run_serving(const config *cfg, engine *e, int threads, const strvec *rule_paths, const char *cfgpath,
                       outputs *outs)
{
    reload_ctx rctx = {rule_paths, cfg};
    serve_reload rl = {.reload = reload_rules, .ctx = &rctx, .reopen = &reopen_requested, .outs = outs};
    buf ignored = BUF_INIT;
    rulefiles_expand(rule_paths, &rl.watch, &ignored);
    for (size_t i = 0; i < rule_paths->n; i++)
        strvec_push(&rl.watch, rule_paths->v[i]);   /* directories: files added or removed */
    if (cfgpath)
        strvec_push(&rl.watch, cfgpath);
    buf_free(&ignored);
    int rc = serve(cfg, e, threads, &rl, stdout);
    strvec_free(&rl.watch);
    outputs_drain(outs);
    return rc;
}

/* Detection: rules loaded, alert channels up, the engine run over the
 * input (a file run, or serving until SIGTERM). */
static int run_detect(const options *o, config *cfg, const strvec *rule_paths, const char *cfgpath)
{
    ruleset *rs = load_rules(rule_paths, cfg, o->verbose);
    if (!rs)
        return 1;
    if (o->list_rules) {
        list_rules(rs);
        ruleset_free(rs);
        return 0;
    }
    int kind = input_kind(cfg);
    if (kind < 0) {
        ruleset_free(rs);
        return 1;
    }
    if (kind)
        serve_block_signals();
    if (o->unbuffered)
        cfg->buffered_outputs = false;
    /* after serve_block_signals: the channels' threads inherit the mask */
    char err[1024] = "";
    outputs *outs = outputs_new(cfg, err, sizeof err);
    if (!outs) {
        fprintf(stderr, "peregrine: %s\n", err);
        ruleset_free(rs);
        return 1;
    }
    if (!kind) {
        struct sigaction sa = {.sa_handler = on_sigusr1, .sa_flags = SA_RESTART};
        sigemptyset(&sa.sa_mask);
        sigaction(SIGUSR1, &sa, NULL);
    }
    outputs_sink osink;
    /* a serving run is live: the pipeline has a worker thread that
     * flushes alerts whenever it is idle */
    engine_opts eo = {.cfg = cfg, .rs = rs, .threads = effective_threads(o, rs), .concurrent_sources = kind,
                      .unbuffered = !cfg->buffered_outputs, .out = stdout,
                      .sink = outputs_sink_init(&osink, outs, &reopen_requested)};
    char eerr[1024] = "out of memory";
    eo.err = eerr;
    eo.errlen = sizeof eerr;
    engine *e = engine_new(&eo);
    int rc = 0;
    if (!e) {
        fprintf(stderr, "peregrine: %s\n", eerr);
        rc = 1;
    } else if (kind) {
        rc = run_serving(cfg, e, eo.threads, rule_paths, cfgpath, outs);
    } else {
        double t0 = now_s();
        if (input_run_file(e, cfg->open_params, err, sizeof err)) {
            fprintf(stderr, "peregrine: %s\n", err);
            rc = 1;
        }
        double elapsed = now_s() - t0;
        outputs_drain(outs);
        engine_print_stats(e, elapsed, stdout);
    }
    if (e)
        outputs_print_stats(outs, stdout);
    engine_free(e);
    outputs_close(outs);
    outputs_sink_free(&osink);
    ruleset_free(rs);
    return rc;
}

int main(int argc, char **argv)
{
    /* Buffers of 1 MiB and more (request bodies, their node arrays) are
     * mapped on their own and returned when freed: glibc's default moves
     * that threshold up to 32 MiB after the first large free, after which
     * freed bodies stay resident and memory is no longer bounded by the
     * webhook's budget. */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    options o = {0};
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0)
        goto out_opts;
    config cfg;
    config_defaults(&cfg);
    strvec fallback = {0};      /* the bundled rules directory, when no rules are given */
    const char *cfgpath;
    if ((rc = load_config(&o, &cfg, &cfgpath)))
        goto out;
    if (o.extract.n) {
        if (!cfg.open_params) {
            fprintf(stderr, "peregrine: --extract needs an input (-e FILE)\n");
            rc = 2;
            goto out;
        }
        o.input = cfg.open_params;
        rc = run_extract(&o, &cfg);
        goto out;
    }
    if (o.validate) {
        rc = run_validate(&o, &cfg);
        goto out;
    }
    const strvec *rule_paths = o.rules.n ? &o.rules : &cfg.rules_files;
    if (!rule_paths->n) {
        const char *dir = bundled_rules_dir();
        if (!dir) {
            fprintf(stderr, "peregrine: no rules given (-r) and no bundled rules found\n");
            rc = 1;
            goto out;
        }
        strvec_push(&fallback, dir);
        rule_paths = &fallback;
    }
    if (o.test) {
        ruletest_opts to = {.cfg = &cfg, .rule_paths = rule_paths, .path = o.test, .verbose = o.verbose,
                            .out = stdout};
        rc = ruletest_run(&to) == 0 ? 0 : 1;
        goto out;
    }
    rc = run_detect(&o, &cfg, rule_paths, cfgpath);
out:
    strvec_free(&fallback);
    config_free(&cfg);
out_opts:
    strvec_free(&o.rules);
    strvec_free(&o.overrides);
    strvec_free(&o.extract);
    return rc;
}
