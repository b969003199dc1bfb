/*
 * gen_rules — a deterministic generator of realistic Falco rule sets for
 * Kubernetes audit events, to measure how evaluation scales with the number
 * of rules (issue 18; `make -C bench scale`, tests/scale/run.sh).
 *
 *   gen_rules N SEED > rules.yaml
 *   gen_rules N SEED wide > rules.yaml    (for tests: see "wide mode" below)
 *
 * Writes N rules plus the lists and macros they use, in Falco's rules
 * syntax, and a summary to stderr.  The same N and SEED give the same bytes.
 *
 * What it models: the rulesets that reach thousands of rules — per-tenant
 * copies of a detection pack, generated allow-list rules, imported Sigma
 * rules.  The rules are grouped by tenant (one per ~40 rules); each tenant
 * has its lists (namespaces, admins, service accounts, images) and macros
 * (its scope, its actors), shared by its rules, and global lists and macros
 * (kevt, kcreate, pod, sensitive paths, system users ...) shared by all.
 * Each rule is one of ~30 templates written after real k8s-audit rules:
 * conditions on ka.verb, ka.target.resource/subresource/namespace/name,
 * ka.user.name/groups, ka.useragent, ka.uri, ka.response.code,
 * ka.auth.decision, ka.sourceips, ka.impuser.name, ka.req.* and
 * jevt.value[/...], with `in` lists, `startswith`, `endswith`, `contains`,
 * `=`, `!=`, `exists`, `intersects`, `and`/`or`/`not`, macros; a few
 * `%field` in each output; mixed priorities; ~10 % with `exceptions:`.
 *
 * Why this shape, for the benchmark to mean something:
 *   - ~30 % of the rules give the rule index (src/rules/index.c) nothing to
 *     prune on: no `ka.verb`/`ka.target.resource` `=`/`in` required by the
 *     condition (constraints on users, namespaces, agents, URIs; verbs only
 *     under `not` or in one branch of an `or`), so every event visits them;
 *   - ~6 % use `regex` (full-match patterns without nested repetition);
 *   - literals are mostly distinct per rule (generated tenants, apps,
 *     names, images, users), so shared work does not collapse to a few
 *     checks; but about one tenant in six lives in a namespace of the bench
 *     corpus (bench/gen_corpus.c: its namespaces, workloads, images, users,
 *     agents, resources), and its rules draw some literals from the corpus,
 *     so that a small fraction of events alert (~0.1-2 % at 2,000 rules) and
 *     rules do not all fail on their first check.
 * The template mix (TPL_* below) sets the fractions; the summary on stderr
 * reports them.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ randomness */

#include "bench_rng.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define PICK(a) ((a)[rn(NELEM(a))])

/* ------------------------------------------------------------ text */

typedef struct sb {
    char *d;
    size_t n, cap;
} sb;

static void sb_add(sb *b, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sb *b, const char *f, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, f);
        int k = vsnprintf(b->d ? b->d + b->n : NULL, b->d ? b->cap - b->n : 0, f, ap);
        va_end(ap);
        if (k < 0)
            exit(1);
        if (b->d && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->n + (size_t)k + 1)
            cap *= 2;
        b->d = realloc(b->d, cap);
        if (!b->d) {
            perror("gen_rules");
            exit(1);
        }
        b->cap = cap;
    }
}

static void sb_reset(sb *b)
{
    b->n = 0;
    if (b->d)
        b->d[0] = 0;
}

/* printf into one of a ring of static buffers */
static const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *f, ...)
{
    static char ring[32][256];
    static unsigned idx;
    char *b = ring[idx++ % 32];
    va_list ap;
    va_start(ap, f);
    vsnprintf(b, sizeof ring[0], f, ap);
    va_end(ap);
    return b;
}

/* ------------------------------------------------------------ vocabularies */

/* The bench corpus's world (bench/gen_corpus.c): namespace, workload,
 * image repository (ka.req.pod.containers.image.repository), service account. */
typedef struct cwl {
    const char *ns, *name, *repo, *sa;
} cwl;

static const cwl corpus_wl[] = {
    {"kube-system", "coredns", "registry.k8s.io/coredns/coredns", "coredns"},
    {"kube-system", "metrics-server", "registry.k8s.io/metrics-server/metrics-server", "metrics-server"},
    {"kube-system", "cilium", "quay.io/cilium/cilium", "cilium"},
    {"kube-system", "kube-proxy", "registry.k8s.io/kube-proxy", "kube-proxy"},
    {"monitoring", "prometheus-server", "quay.io/prometheus/prometheus", "prometheus-server"},
    {"monitoring", "grafana", "docker.io/grafana/grafana", "grafana"},
    {"monitoring", "node-exporter", "quay.io/prometheus/node-exporter", "node-exporter"},
    {"argocd", "argocd-server", "quay.io/argoproj/argocd", "argocd-server"},
    {"argocd", "argocd-repo-server", "quay.io/argoproj/argocd", "argocd-repo-server"},
    {"cert-manager", "cert-manager", "quay.io/jetstack/cert-manager-controller", "cert-manager"},
    {"ingress-nginx", "ingress-nginx-controller", "registry.k8s.io/ingress-nginx/controller", "ingress-nginx"},
    {"payments", "payments-api", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/payments/api", "payments-api"},
    {"payments", "payments-worker", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/payments/worker", "payments-worker"},
    {"checkout", "checkout-frontend", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout/frontend", "default"},
    {"checkout", "cart", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout/cart", "cart"},
    {"web", "frontend", "docker.io/library/nginx", "default"},
    {"web", "api-gateway", "docker.io/envoyproxy/envoy", "api-gateway"},
    {"data", "postgres", "docker.io/bitnami/postgresql", "postgres"},
    {"data", "redis", "docker.io/library/redis", "default"},
    {"data", "kafka", "docker.io/bitnami/kafka", "kafka"},
    {"ci", "gitlab-runner", "registry.gitlab.com/gitlab-org/gitlab-runner", "gitlab-runner"},
};

static const char *corpus_humans[] = {"alice@example.com", "bob@example.com", "carol.ops@example.com",
                                      "dave@example.com", "kubernetes-admin", "erin-sre@example.com", "ci-deployer"};
static const char *corpus_agents[] = {"kubectl/v1.29.2", "kubectl/v1.28.4", "curl/", "Mozilla/5.0 zgrab",
                                      "Mozilla/5.0 (Macintosh"};
static const char *corpus_cmds[] = {"sh", "bash", "id", "cat", "sh&command=-c&command=curl"};
static const char *corpus_ctrl[] = {"replicaset-controller", "deployment-controller", "namespace-controller",
                                    "job-controller", "cronjob-controller", "node-controller"};

static const char *words[] = {
    "atlas", "beacon", "cobalt", "delta", "ember", "falcon", "garnet", "harbor", "indigo", "juniper", "kestrel",
    "lumen", "meadow", "nimbus", "onyx", "pioneer", "quartz", "raven", "sierra", "tundra", "umber", "vertex",
    "willow", "xenon", "yonder", "zephyr", "amber", "basalt", "cedar", "dune", "echo", "fjord", "glacier", "helix",
    "iris", "jade", "krypton", "lotus", "maple", "nova", "opal", "prism", "quill", "ridge", "sable", "topaz",
    "vale", "wren", "yarrow", "zinc", "aurora", "birch", "canyon", "drift", "ether", "flint", "grove", "hazel",
    "ivy", "jasper", "lynx", "mesa", "orchid", "pebble",
};
static const char *apps[] = {
    "api", "web", "worker", "ledger", "billing", "search", "auth", "gateway", "cache", "queue", "scheduler",
    "reports", "media", "inventory", "orders", "catalog", "notifier", "mailer", "exporter", "ingest", "etl",
    "ml-serving", "feature-store", "profile", "session", "pricing", "fraud", "audit", "backup", "sync",
    "crawler", "indexer", "uploader", "transcoder", "analytics", "webhooks", "graphql", "admin-ui",
};
static const char *purposes[] = {"config", "settings", "env", "flags", "tls", "credentials", "db", "oauth",
                                 "tokens", "certs", "keys", "secrets", "routes", "limits", "features"};
static const char *firsts[] = {"ana", "ben", "chloe", "dmitri", "elena", "farid", "grace", "hiro",
                               "ines", "jonas", "kira", "leo", "mei", "nadia", "omar", "priya"};
static const char *lasts[] = {"silva", "novak", "kim", "okafor", "berg", "rossi", "tanaka", "müller",
                              "dubois", "khan", "lopez", "smith", "ivanova", "chen", "haddad", "nyberg"};
static const char *registries[] = {"registry.example.net", "ghcr.io/example-org", "quay.io/example",
                                   "987654321098.dkr.ecr.us-east-1.amazonaws.com", "gcr.io/example-prod",
                                   "docker.io/exampleorg"};
static const char *bad_images[] = {"docker.io/nicolaka/netshoot", "docker.io/kalilinux/kali-rolling",
                                   "docker.io/bitnami/kubectl", "docker.io/alpine/socat", "docker.io/xmrig/xmrig",
                                   "docker.io/library/busybox", "docker.io/library/ubuntu", "docker.io/library/alpine"};
static const char *tool_agents[] = {"python-requests/", "kube-hunter", "Go-http-client/1.1", "kubectl-who-can",
                                    "peirates", "kubeletctl", "okhttp/", "PostmanRuntime/", "Boto3/",
                                    "aws-sdk-go/", "helm/v3", "terraform-provider-kubernetes", "k9s/", "kubiscan"};
static const char *tool_cmds[] = {"psql", "redis-cli", "mysql", "python", "nc", "wget", "env", "ps", "nsenter",
                                  "chroot", "mount", "tcpdump", "kubectl", "base64", "openssl"};
static const char *crd_domains[] = {"cert-manager.io", "argoproj.io", "cilium.io", "monitoring.coreos.com",
                                    "example.net", "istio.io", "keda.sh", "external-secrets.io", "kyverno.io"};
static const char *extra_resources[] = {"cronjobs", "ingresses", "networkpolicies", "horizontalpodautoscalers",
                                        "poddisruptionbudgets", "persistentvolumes", "storageclasses",
                                        "certificatesigningrequests", "mutatingwebhookconfigurations",
                                        "validatingwebhookconfigurations", "priorityclasses", "csidrivers"};
static const char *workload_res[] = {"deployments", "statefulsets", "daemonsets", "replicasets", "jobs"};
static const char *config_res[] = {"configmaps", "secrets", "services", "serviceaccounts", "persistentvolumeclaims",
                                   "endpointslices"};

/* ------------------------------------------------------------ tenants */

#define MAXT 8
typedef struct tenant {
    char id[48];   /* in list and macro names: atlas_100 */
    char slug[48]; /* in values: atlas-100 */
    char ns[MAXT][64];
    char app[MAXT][64];
    char admin[MAXT][96];
    char sa[MAXT][160];
    char image[MAXT][160];
    unsigned nns, napp, nadmin, nsa, nimage;
    int real;       /* ns[0] is a corpus namespace */
    unsigned ncorp; /* app[0..ncorp) are corpus workloads */
} tenant;

static tenant *tenants;
static unsigned ntenants;

static void str_set(char *dst, size_t cap, const char *s) { snprintf(dst, cap, "%s", s); }
#define SET(a, s) str_set((a), sizeof(a), (s))

static const char *gen_human(const char *tid)
{
    const char *first = PICK(firsts);
    return fmt("%s.%s@%s.example.net", first, PICK(lasts), tid);
}

static void make_tenant(tenant *t, unsigned i)
{
    memset(t, 0, sizeof *t);
    snprintf(t->id, sizeof t->id, "%s_%u", words[i % NELEM(words)], 100 + i);
    snprintf(t->slug, sizeof t->slug, "%s-%u", words[i % NELEM(words)], 100 + i);
    /* one tenant in six owns a namespace of the corpus */
    t->real = i % 6 == 1;
    const cwl *cw = NULL;
    unsigned ncw = 0;
    if (t->real) {
        static const char *cns[] = {"payments", "checkout", "web", "data", "ci", "monitoring", "argocd",
                                    "kube-system", "cert-manager", "ingress-nginx"};
        const char *ns = cns[(i / 6) % NELEM(cns)];
        SET(t->ns[t->nns++], ns);
        for (unsigned k = 0; k < NELEM(corpus_wl); k++)
            if (!strcmp(corpus_wl[k].ns, ns)) {
                if (!cw)
                    cw = &corpus_wl[k];
                ncw++;
            }
    }
    static const char *envs[] = {"prod", "staging", "dev", "batch", "canary", "sandbox"};
    unsigned want = 2 + rn(3);
    unsigned e0 = rn(NELEM(envs));
    while (t->nns < want)
        SET(t->ns[t->nns], fmt("%s-%s", t->slug, envs[(e0 + t->nns) % NELEM(envs)])), t->nns++;
    /* apps: the corpus workloads of its namespace first */
    for (unsigned k = 0; k < ncw && t->napp < 3; k++)
        SET(t->app[t->napp++], cw[k].name);
    unsigned ncorp = t->ncorp = t->napp;
    want = t->napp + 3 + rn(4);
    unsigned a0 = rn(NELEM(apps));
    while (t->napp < want && t->napp < MAXT)
        SET(t->app[t->napp], fmt("%s-%s", t->slug, apps[(a0 + t->napp * 7) % NELEM(apps)])), t->napp++;
    /* admins: humans of the corpus for real tenants, generated ones */
    if (t->real) {
        SET(t->admin[t->nadmin++], corpus_humans[i % 4]);
        SET(t->admin[t->nadmin++], "kubernetes-admin");
    }
    want = t->nadmin + 2 + rn(3);
    while (t->nadmin < want)
        SET(t->admin[t->nadmin++], gen_human(t->slug));
    /* service accounts and images of its apps */
    for (unsigned k = 0; k < t->napp && t->nsa < 6; k++) {
        const char *ns = t->ns[k < ncorp ? 0 : 1 + k % (t->nns - 1)];
        const char *sa = k < ncorp ? cw[k].sa : t->app[k];
        SET(t->sa[t->nsa++], fmt("system:serviceaccount:%s:%s", ns, sa));
    }
    const char *reg = PICK(registries);
    for (unsigned k = 0; k < t->napp && t->nimage < 6; k++)
        SET(t->image[t->nimage++], k < ncorp ? cw[k].repo : fmt("%s/%s/%s", reg, t->slug, apps[(a0 + k * 7) % NELEM(apps)]));
}

/* ------------------------------------------------------------ lists and macros */

static sb out;

static void list_begin(const char *name)
{
    sb_add(&out, "- list: %s\n  items: [", name);
}

static void list_item(int first, const char *v) { sb_add(&out, "%s\"%s\"", first ? "" : ", ", v); }
static void list_end(void) { sb_add(&out, "]\n\n"); }

static void list_of(const char *name, const char (*v)[64], unsigned n)
{
    list_begin(name);
    for (unsigned i = 0; i < n; i++)
        list_item(i == 0, v[i]);
    list_end();
}

static void write_globals(void)
{
    sb_add(&out,
           "- required_engine_version: 15\n\n"
           "- list: k8s_audit_stages\n  items: [\"ResponseComplete\"]\n\n"
           "- list: read_verbs\n  items: [get, list, watch]\n\n"
           "- list: write_verbs\n  items: [create, update, patch, delete, deletecollection]\n\n"
           "- list: rbac_resources\n  items: [roles, clusterroles, rolebindings, clusterrolebindings]\n\n"
           "- list: workload_resources\n  items: [deployments, statefulsets, daemonsets, replicasets, jobs, cronjobs]\n\n"
           "- list: sensitive_host_paths\n  items: [\"/\", \"/proc\", \"/var/run/docker.sock\", \"/etc\", \"/root\","
           " \"/var/lib/kubelet\", \"/run/containerd/containerd.sock\", \"/etc/kubernetes\"]\n\n"
           "- list: system_namespaces\n  items: [kube-system, kube-public, kube-node-lease]\n\n"
           "- list: k8s_system_users\n  items: [\"system:kube-controller-manager\", \"system:kube-scheduler\","
           " \"system:apiserver\", \"kubernetes-admin\", \"system:addon-manager\", \"eks:node-manager\"]\n\n"
           "- list: exec_subresources\n  items: [exec, attach, portforward]\n\n"
           "- list: scanner_agents\n  items: [\"curl/8.4.0\", \"Mozilla/5.0 zgrab/0.x\", \"kube-hunter\", \"python-requests/2.31.0\"]\n\n"
           "- list: exposed_service_types\n  items: [NodePort, LoadBalancer]\n\n"
           "- macro: kevt\n  condition: (jevt.value[/stage] in (k8s_audit_stages))\n\n"
           "- macro: kget\n  condition: ka.verb=get\n\n"
           "- macro: kread\n  condition: (ka.verb in (read_verbs))\n\n"
           "- macro: kcreate\n  condition: ka.verb=create\n\n"
           "- macro: kmodify\n  condition: (ka.verb in (create, update, patch))\n\n"
           "- macro: kdelete\n  condition: ka.verb=delete\n\n"
           "- macro: kwrite\n  condition: (not ka.verb in (read_verbs))\n\n"
           "- macro: pod\n  condition: ka.target.resource=pods and not ka.target.subresource exists\n\n"
           "- macro: pod_subresource\n  condition: ka.target.resource=pods and ka.target.subresource exists\n\n"
           "- macro: secret\n  condition: ka.target.resource=secrets\n\n"
           "- macro: configmap\n  condition: ka.target.resource=configmaps\n\n"
           "- macro: service\n  condition: ka.target.resource=services\n\n"
           "- macro: rbac_object\n  condition: ka.target.resource in (rbac_resources)\n\n"
           "- macro: non_system_user\n  condition: (not ka.user.name startswith \"system:\")\n\n"
           "- macro: response_successful\n  condition: (ka.response.code startswith 2)\n\n"
           "- macro: forbidden\n  condition: (ka.response.code=403 or ka.auth.decision=forbid)\n\n"
           "- macro: system_actor\n  condition: (ka.user.name in (k8s_system_users) or ka.user.name startswith \"system:node:\""
           " or ka.user.name startswith \"system:serviceaccount:kube-system:\")\n\n");
}

static void write_tenant_items(const tenant *t)
{
    list_of(fmt("%s_namespaces", t->id), t->ns, t->nns);
    list_begin(fmt("%s_admins", t->id));
    for (unsigned i = 0; i < t->nadmin; i++)
        list_item(i == 0, t->admin[i]);
    list_end();
    list_begin(fmt("%s_service_accounts", t->id));
    for (unsigned i = 0; i < t->nsa; i++)
        list_item(i == 0, t->sa[i]);
    list_end();
    list_begin(fmt("%s_images", t->id));
    for (unsigned i = 0; i < t->nimage; i++)
        list_item(i == 0, t->image[i]);
    list_end();
    sb_add(&out, "- macro: %s_scope\n  condition: ka.target.namespace in (%s_namespaces)\n\n", t->id, t->id);
    sb_add(&out,
           "- macro: %s_actor\n  condition: (ka.user.name in (%s_admins) or ka.user.name in (%s_service_accounts))\n\n",
           t->id, t->id, t->id);
}

/* ------------------------------------------------------------ rule pieces */

/* Every random draw is its own statement: the order in which a compiler
 * evaluates function arguments is unspecified, and the bytes must not
 * depend on it. */

typedef struct rule {
    const tenant *t;
    unsigned idx;
    int corpus; /* this rule draws literals from the corpus */
    sb cond;
    const char *title;
    const char *fields; /* output fields after the title */
    int prunable, regex;
} rule;

#define C(...) sb_add(&r->cond, __VA_ARGS__)

/* A namespace or an app of the tenant: a rule that does not draw from the
 * corpus leaves out the tenant's corpus namespace and workloads. */
static const char *t_ns(const rule *r)
{
    if (!r->t->real)
        return r->t->ns[rn(r->t->nns)];
    if (r->corpus)
        return chance(60) ? r->t->ns[0] : r->t->ns[rn(r->t->nns)];
    return r->t->ns[1 + rn(r->t->nns - 1)];
}

static const char *t_app(const rule *r)
{
    const tenant *t = r->t;
    if (r->corpus && t->ncorp)
        return chance(60) ? t->app[rn(t->ncorp)] : t->app[rn(t->napp)];
    return t->app[t->ncorp + rn(t->napp - t->ncorp)];
}

static const char *t_admin(const rule *r) { return r->t->admin[rn(r->t->nadmin)]; }

/* a user that is not one of the tenant's actors */
static const char *other_user(const rule *r)
{
    if (r->corpus) {
        if (chance(50))
            return PICK(corpus_humans);
        const cwl *w = &corpus_wl[rn(NELEM(corpus_wl))];
        return fmt("system:serviceaccount:%s:%s", w->ns, w->sa);
    }
    if (chance(70)) {
        const char *w = PICK(words);
        return gen_human(w);
    }
    const char *ns = r->t->ns[rn(r->t->nns)];
    return fmt("system:serviceaccount:%s:%s", ns, PICK(apps));
}

static const char *agent(const rule *r)
{
    if (r->corpus && chance(60))
        return PICK(corpus_agents);
    const char *a = PICK(tool_agents);
    return fmt("%s%u", a, rn(10));
}

static const char *cmd(const rule *r) { return r->corpus && chance(50) ? PICK(corpus_cmds) : PICK(tool_cmds); }

static const char *res_name(const rule *r)
{
    const char *app = t_app(r);
    if (r->corpus && chance(50))
        return chance(50) ? fmt("%s-credentials", app) : fmt("%s-config", app);
    return fmt("%s-%s", app, PICK(purposes));
}

static const char *image(const rule *r)
{
    static const char *kinds[] = {"miner", "toolbox", "shell", "proxy"};
    if (r->corpus && chance(30))
        return PICK(bad_images);
    const char *w = PICK(words);
    unsigned k = rn(100);
    return fmt("docker.io/%s%u/%s", w, k, PICK(kinds));
}

static const char *ip_prefix(const rule *r)
{
    static const char *corpus_nets[] = {"203.0.113.", "198.51.100.", "10.0.16.", "203.0.113.4"};
    static const char *nets[] = {"192.0.2.", "100.64.", "172.31.", "100.100."};
    if (r->corpus && chance(50))
        return PICK(corpus_nets);
    const char *net = PICK(nets);
    return fmt("%s%u.", net, rn(250));
}

/* ("a", "b", ...): k namespaces of the tenant, maybe one shared one */
static void ns_set(rule *r, unsigned k)
{
    const tenant *t = r->t;
    unsigned first = t->real && !r->corpus; /* leave the corpus namespace out */
    unsigned n = t->nns - first;
    unsigned off = t->real && r->corpus ? 0 : rn(n);
    C("(");
    for (unsigned i = 0; i < k && i < n; i++)
        C("%s\"%s\"", i ? ", " : "", t->ns[first + (off + i) % n]);
    if (chance(30)) {
        const char *w = PICK(words);
        C(", \"%s-%s\"", w, PICK(((const char *[]){"shared", "tools", "ops"})));
    }
    C(")");
}

/* ------------------------------------------------------------ templates */

/* Rules the index can prune: the condition requires ka.verb and/or
 * ka.target.resource literals (through macros or directly). */

static void p_secret_read(rule *r)
{
    C("kevt and kread and secret and %s_scope and not %s_actor", r->t->id, r->t->id);
    C(" and ka.target.name in (\"%s\"", res_name(r));
    C(", \"%s\")", res_name(r));
    r->title = "Secret read by a non-owner";
    r->fields = "user=%ka.user.name secret=%ka.target.name ns=%ka.target.namespace verb=%ka.verb";
}

static void p_bad_image(rule *r)
{
    C("kevt and kcreate and pod and ka.target.namespace in ");
    ns_set(r, 2);
    C(" and ka.req.pod.containers.image.repository intersects (\"%s\"", image(r));
    C(", \"%s\"", image(r));
    C(", \"%s\")", image(r));
    r->title = "Pod created from a forbidden image";
    r->fields = "user=%ka.user.name pod=%ka.resp.name ns=%ka.target.namespace images=%ka.req.pod.containers.image";
}

static void p_foreign_image(rule *r)
{
    C("kevt and kcreate and pod and %s_scope and not ka.req.pod.containers.image.repository in (%s_images)"
      " and not ka.user.name in (k8s_system_users)",
      r->t->id, r->t->id);
    C(" and ka.target.name startswith \"%s\"", t_app(r));
    r->title = "Pod with an image outside the tenant's registry";
    r->fields = "user=%ka.user.name ns=%ka.target.namespace images=%ka.req.pod.containers.image.repository";
}

static void p_rbac_change(rule *r)
{
    const char *prefix = r->corpus && chance(50) ? fmt("system:controller:%s", PICK(corpus_ctrl))
                                                 : fmt("%s:%s", r->t->slug, PICK(purposes));
    C("kmodify and rbac_object and ka.target.name startswith \"%s\" and not ka.user.name in (%s_admins)", prefix,
      r->t->id);
    if (chance(50))
        C(" and not system_actor");
    r->title = "RBAC object of the tenant changed";
    r->fields = "user=%ka.user.name kind=%ka.target.resource name=%ka.target.name verb=%ka.verb";
}

static void p_exec(rule *r)
{
    C("ka.verb in (create, get) and pod_subresource and ka.target.subresource in (exec_subresources)");
    C(" and ka.target.namespace = \"%s\"", t_ns(r));
    C(" and ka.uri contains \"command=%s\"", cmd(r));
    if (chance(50))
        C(" and not ka.user.name in (%s_admins)", r->t->id);
    r->title = "Shell-like command in a tenant pod";
    r->fields = "user=%ka.user.name pod=%ka.target.name ns=%ka.target.namespace command=%ka.uri.param[command]";
}

static void p_delete(rule *r)
{
    static const char *rs[] = {"pods", "deployments", "configmaps", "secrets", "services", "statefulsets", "jobs"};
    C("kdelete and ka.target.resource = %s", PICK(rs));
    C(" and ka.target.namespace = \"%s\"", t_ns(r));
    C(" and ka.target.name %s", chance(70) ? "startswith" : "contains");
    C(" \"%s\"", t_app(r));
    if (chance(50))
        C(" and not %s_actor", r->t->id);
    r->title = "Tenant object deleted";
    r->fields = "user=%ka.user.name kind=%ka.target.resource name=%ka.target.name ns=%ka.target.namespace";
}

static void p_config_change(rule *r)
{
    C("ka.verb in (update, patch) and configmap and ka.target.name = \"%s\"", res_name(r));
    C(" and ka.user.name != \"%s\"", r->t->sa[rn(r->t->nsa)]);
    if (chance(40))
        C(" and response_successful");
    r->title = "Configuration changed by another account";
    r->fields = "user=%ka.user.name configmap=%ka.target.name ns=%ka.target.namespace agent=%ka.useragent";
}

static void p_service_exposed(rule *r)
{
    C("kevt and kcreate and service and ka.req.service.type in (exposed_service_types) and ka.target.namespace in ");
    ns_set(r, 3);
    r->title = "Service exposed outside the cluster";
    r->fields = "user=%ka.user.name service=%ka.target.name ns=%ka.target.namespace type=%ka.req.service.type";
}

static void p_hostpath(rule *r)
{
    C("kevt and kcreate and pod and ka.req.pod.volumes.hostpath intersects (sensitive_host_paths)"
      " and not ka.req.pod.containers.image.repository in (%s_images) and ka.target.namespace in ",
      r->t->id);
    ns_set(r, 2);
    r->title = "Pod mounting a sensitive host path";
    r->fields = "user=%ka.user.name pod=%ka.resp.name ns=%ka.target.namespace paths=%ka.req.pod.volumes.hostpath";
}

static void p_privileged(rule *r)
{
    C("kcreate and pod and (ka.req.pod.containers.privileged intersects (true) or ka.req.pod.host_network = true)");
    C(" and ka.target.namespace = \"%s\" and not ka.user.name in (%s_service_accounts)", t_ns(r), r->t->id);
    r->title = "Privileged pod in a tenant namespace";
    r->fields = "user=%ka.user.name pod=%ka.resp.name ns=%ka.target.namespace images=%ka.req.pod.containers.image";
}

static void p_node_tamper(rule *r)
{
    C("ka.verb in (update, patch, delete) and ka.target.resource in (leases, nodes)"
      " and not ka.user.name startswith \"system:node:\"");
    if (r->corpus && chance(50)) {
        unsigned node = rn(12); /* the corpus's node names */
        C(" and ka.target.name startswith \"ip-10-0-%u-%u.\"", 16 + node % 3 * 16, 11 + node * 7 % 200);
    } else if (r->corpus) {
        C(" and ka.target.name = \"%s-leader-election\"", corpus_wl[rn(NELEM(corpus_wl))].name);
    } else {
        C(" and ka.target.name %s", chance(50) ? "endswith" : "startswith");
        C(" \"%s-%s\"", r->t->slug, PICK(apps));
    }
    r->title = "Node or lease changed by a non-node";
    r->fields = "user=%ka.user.name kind=%ka.target.resource name=%ka.target.name verb=%ka.verb";
}

static void p_crd(rule *r)
{
    C("ka.verb in (create, delete, update) and ka.target.resource = customresourcedefinitions and ka.target.name endswith");
    if (r->corpus)
        C(" \".%s\"", PICK(crd_domains));
    else
        C(" \".%s.%s\"", r->t->slug, PICK(crd_domains));
    C(" and not ka.user.name in (%s_admins)", r->t->id);
    r->title = "CustomResourceDefinition changed";
    r->fields = "user=%ka.user.name crd=%ka.target.name verb=%ka.verb";
}

static void p_token(rule *r)
{
    C("kcreate and ka.target.resource = serviceaccounts and ka.target.subresource = token");
    C(" and ka.target.namespace = \"%s\" and not ka.user.name startswith \"system:node:\"", t_ns(r));
    r->title = "Service account token requested by a non-node";
    r->fields = "user=%ka.user.name sa=%ka.target.name ns=%ka.target.namespace";
}

static void p_label_change(rule *r)
{
    C("kmodify and ka.target.resource in (%s", PICK(workload_res));
    C(", %s)", PICK(workload_res));
    C(" and jevt.value[/requestObject/metadata/labels/app.kubernetes.io~1name] = \"%s\"", t_app(r));
    C(" and not %s_actor", r->t->id);
    r->title = "Workload of the tenant changed by another account";
    r->fields = "user=%ka.user.name kind=%ka.target.resource name=%ka.target.name "
                "app=%jevt.value[/requestObject/metadata/labels/app.kubernetes.io~1name]";
}

static void p_cluster_list(rule *r)
{
    C("ka.verb in (list, watch) and ka.target.resource = secrets and not ka.target.namespace exists");
    C(" and ka.user.name startswith \"system:serviceaccount:%s:\"", t_ns(r));
    C(" and not ka.user.name in (%s_service_accounts)", r->t->id);
    r->title = "Cluster-wide listing by a tenant service account";
    r->fields = "user=%ka.user.name kind=%ka.target.resource uri=%ka.uri";
}

static void p_new_resource(rule *r)
{
    C("kevt and kcreate and ka.target.resource in (%s", PICK(extra_resources));
    C(", %s)", PICK(config_res));
    C(" and %s_scope and ka.target.name %s", r->t->id, chance(50) ? "startswith" : "endswith");
    if (chance(50))
        C(" \"%s\"", t_app(r));
    else
        C(" \"-%s\"", PICK(purposes));
    r->title = "Unexpected object created in a tenant namespace";
    r->fields = "user=%ka.user.name kind=%ka.target.resource name=%ka.target.name ns=%ka.target.namespace";
}

/* Rules the index cannot prune. */

static void u_unknown_actor(rule *r)
{
    C("kevt and ka.target.namespace in ");
    ns_set(r, 2);
    C(" and non_system_user and not %s_actor", r->t->id);
    C(" and ka.useragent startswith \"%s\"", agent(r));
    r->title = "Human outside the tenant's admins in its namespaces";
    r->fields = "user=%ka.user.name verb=%ka.verb kind=%ka.target.resource ns=%ka.target.namespace agent=%ka.useragent";
}

static void u_user_writes(rule *r)
{
    C("kwrite and ka.user.name = \"%s\"", other_user(r));
    C(" and ka.target.name startswith \"%s\" and not ka.target.resource in (leases, events)", t_app(r));
    r->title = "Writes by a watched account";
    r->fields = "user=%ka.user.name verb=%ka.verb kind=%ka.target.resource name=%ka.target.name";
}

static void u_forbidden(rule *r)
{
    C("forbidden and ka.uri startswith \"/api/v1/namespaces/%s/\"", t_ns(r));
    C(" and not ka.user.name in (%s_admins)", r->t->id);
    r->title = "Forbidden request into a tenant namespace";
    r->fields = "user=%ka.user.name uri=%ka.uri code=%ka.response.code reason=%ka.response.reason";
}

static void u_agent(rule *r)
{
    const char *a = agent(r);
    if (chance(50))
        C("ka.useragent contains \"%s\" and %s_scope and not ka.user.name in (%s_admins)", a, r->t->id, r->t->id);
    else
        C("(ka.useragent startswith \"%s\" or ka.useragent in (scanner_agents)) and %s_scope", a, r->t->id);
    r->title = "Client tool seen against the API server";
    r->fields = "user=%ka.user.name agent=%ka.useragent uri=%ka.uri src=%jevt.value[/sourceIPs/0]";
}

static void u_source_ip(rule *r)
{
    if (chance(50)) {
        C("jevt.value[/sourceIPs/0] startswith \"%s\"", ip_prefix(r));
        C(" and ka.user.name in (%s_admins) and %s_scope", r->t->id, r->t->id);
    } else {
        C("ka.sourceips intersects (\"%s1\"", ip_prefix(r));
        C(", \"%s2\"", ip_prefix(r));
        C(", \"%s3\") and not system_actor", ip_prefix(r));
    }
    r->title = "Request from an unexpected network";
    r->fields = "user=%ka.user.name src=%ka.sourceips uri=%ka.uri";
}

static void u_groups(rule *r)
{
    static const char *corpus_groups[] = {"system:unauthenticated", "oidc:engineering", "kubeadm:cluster-admins"};
    if (r->corpus)
        C("ka.user.groups intersects (\"%s\"", PICK(corpus_groups));
    else
        C("ka.user.groups intersects (\"oidc:%s\"", r->t->slug);
    C(", \"oidc:%s\")", PICK(words));
    C(" and %s_scope and ka.auth.decision = %s", r->t->id, chance(70) ? "forbid" : "allow");
    r->title = "Group member acting in a tenant namespace";
    r->fields = "user=%ka.user.name groups=%ka.user.groups ns=%ka.target.namespace decision=%ka.auth.decision";
}

static void u_impersonation(rule *r)
{
    const char *ns = r->corpus && chance(50) ? "ci" : t_ns(r);
    C("ka.impuser.name exists and (ka.impuser.name startswith \"system:serviceaccount:%s:\""
      " or ka.impuser.name in (%s_service_accounts))",
      ns, r->t->id);
    r->title = "Impersonation of a tenant service account";
    r->fields = "user=%ka.user.name as=%ka.impuser.name verb=%ka.verb uri=%ka.uri";
}

static void u_uri(rule *r)
{
    static const char *params[] = {"dryRun=All", "force=true", "fieldManager=kubectl-client-side-apply",
                                   "propagationPolicy=Orphan", "gracePeriodSeconds=0", "pretty=true"};
    if (chance(50))
        C("ka.uri startswith \"/api/v1");
    else
        C("ka.uri startswith \"/apis/%s/v1", chance(50) ? "apps" : "batch");
    C("/namespaces/%s/\"", t_ns(r));
    C(" and ka.uri contains \"%s\" and not %s_actor", PICK(params), r->t->id);
    r->title = "Unusual API call on a tenant namespace";
    r->fields = "user=%ka.user.name uri=%ka.uri verb=%ka.verb";
}

static void u_or_branch(rule *r)
{
    C("((ka.verb = delete and jevt.value[/requestObject/gracePeriodSeconds] = 0) or ka.uri contains "
      "\"gracePeriodSeconds=0\") and ka.target.namespace = \"%s\"", t_ns(r));
    C(" and ka.user.name != \"%s\"", t_admin(r));
    r->title = "Forced deletion in a tenant namespace";
    r->fields = "user=%ka.user.name kind=%ka.target.resource name=%ka.target.name uri=%ka.uri";
}

static void u_name(rule *r)
{
    C("ka.target.name startswith \"%s\"", t_app(r));
    C(" and ka.target.namespace = \"%s\" and (forbidden or ka.response.code in (404, 409, 422))", t_ns(r));
    r->title = "Failed requests on a tenant object";
    r->fields = "user=%ka.user.name name=%ka.target.name code=%ka.response.code verb=%ka.verb";
}

static void u_reason(rule *r)
{
    /* the corpus's service accounts are bound to a ClusterRole named after
     * their workload: writes outside the workload's namespace */
    const cwl *w = &corpus_wl[rn(NELEM(corpus_wl))];
    C("jevt.value[/annotations/authorization.k8s.io~1reason] contains \"ClusterRole \\\"");
    if (r->corpus)
        C("%s", w->name);
    else
        C("%s-%s", r->t->slug, PICK(purposes));
    C("\\\"\" and kwrite and ka.target.namespace != \"%s\"", r->corpus ? w->ns : t_ns(r));
    C(" and not ka.user.name in (%s_admins) and not system_actor", r->t->id);
    r->title = "Access granted through a tenant role";
    r->fields = "user=%ka.user.name reason=%ka.auth.reason uri=%ka.uri";
}

/* regex (~6 %): the first three are prunable, the last two not */

static void x_pod_name(rule *r)
{
    C("kdelete and ka.target.resource = pods and ka.target.name regex \"%s-[b-z2-9]{9,10}-[b-z2-9]{5}\"", t_app(r));
    C(" and not %s_actor", r->t->id);
    r->title = "Deployment pod deleted by hand";
    r->fields = "user=%ka.user.name pod=%ka.target.name ns=%ka.target.namespace";
}

static void x_exec_uri(rule *r)
{
    C("ka.verb in (create, get) and ka.target.resource = pods and ka.uri regex ");
    C("\"/api/v1/namespaces/%s/pods/[a-z0-9-]+/(exec|attach)[?].*command=(", t_ns(r));
    C("%s|", cmd(r));
    C("%s).*\"", cmd(r));
    r->title = "Exec with a watched command";
    r->fields = "user=%ka.user.name pod=%ka.target.name uri=%ka.uri";
}

static void x_helm_secret(rule *r)
{
    C("kread and secret and ka.target.name regex \"sh[.]helm[.]release[.]v1[.]%s[.]v[0-9]+\"", t_app(r));
    C(" and not %s_actor", r->t->id);
    r->title = "Helm release secret read";
    r->fields = "user=%ka.user.name secret=%ka.target.name ns=%ka.target.namespace";
}

static void x_sa_user(rule *r)
{
    C("kwrite and ka.user.name regex \"system:serviceaccount:(%s|", t_ns(r));
    C("%s):[a-z0-9-]+\"", t_ns(r));
    C(" and not ka.target.namespace in (%s_namespaces)", r->t->id);
    C(" and jevt.value[/objectRef/apiGroup] in (\"rbac.authorization.k8s.io\", \"apps\", \"batch\")");
    r->title = "Tenant service account writing elsewhere";
    r->fields = "user=%ka.user.name verb=%ka.verb kind=%ka.target.resource ns=%ka.target.namespace";
}

static void x_old_kubectl(rule *r)
{
    unsigned lo = 10 + rn(10);
    unsigned hi = rn(9);
    C("ka.useragent regex \"kubectl/v1[.](%u|%u|2[0-%u])[.][0-9]+ .*\" and %s_scope and kwrite", lo, lo + 1, hi,
      r->t->id);
    r->title = "Outdated kubectl used on a tenant namespace";
    r->fields = "user=%ka.user.name agent=%ka.useragent ns=%ka.target.namespace";
}

typedef void (*tpl_fn_w)(rule *);

/* ------------------------------------------------------------ wide mode */

/* `gen_rules N SEED wide`: a quarter of the rules come from these instead,
 * forms the main mix leaves out, for the differential test
 * (tests/scale/run.sh) rather than the benchmark: transformers, glob and
 * iglob, pmatch, icontains, operator modifiers, val(), len(), numeric
 * comparisons, nested not/or, empty literals, non-ASCII literals, an `in`
 * longer than the rule index takes, regex constructs a multi-pattern
 * matcher may not take (lookaround, back-references, (?i)). */

static const char *upper(const char *s)
{
    char *u = (char *)fmt("%s", s);
    for (char *p = u; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    return u;
}

/* s with the regex metacharacters it may hold each in a bracket: [.] [(] */
static const char *rx_quote(const char *s)
{
    static char b[512];
    size_t n = 0;
    for (; *s && n + 4 < sizeof b; s++) {
        if (strchr(".()[]{}*+?|$", *s)) {
            b[n++] = '[';
            b[n++] = *s;
            b[n++] = ']';
        } else {
            b[n++] = *s;
        }
    }
    b[n] = 0;
    return fmt("%s", b);
}

static void w_case(rule *r)
{
    C("(toupper(ka.user.name) = \"%s\"", upper(t_admin(r)));
    C(" or ka.useragent icontains \"%s\"", upper(agent(r)));
    C(" or tolower(ka.target.name) endswith \"-%s\")", PICK(purposes));
    C(" and %s_scope", r->t->id);
    r->title = "Case-insensitive match in a tenant namespace";
    r->fields = "user=%ka.user.name agent=%ka.useragent name=%ka.target.name";
}

static void w_glob(rule *r)
{
    C("ka.uri glob \"/api/v1/namespaces/%s/pods/*/exec*\"", t_ns(r));
    C(" or ka.uri iglob \"/APIS/APPS/V1/NAMESPACES/%s/*\"", upper(t_ns(r)));
    C(" or ka.target.name glob \"%s-?????\"", t_app(r));
    r->title = "Glob match on a tenant path";
    r->fields = "user=%ka.user.name uri=%ka.uri";
}

static void w_pmatch(rule *r)
{
    C("jevt.value[/requestObject/spec/volumes/1/hostPath/path] pmatch (/var/run, /proc, /etc/%s)", PICK(purposes));
    C(" or ka.uri pmatch (/api/v1/namespaces/%s/secrets", t_ns(r));
    C(", /apis/rbac.authorization.k8s.io/v1/clusterrolebindings/%s)", t_app(r));
    r->title = "Path prefix match";
    r->fields = "user=%ka.user.name uri=%ka.uri path=%jevt.value[/requestObject/spec/volumes/1/hostPath/path]";
}

static void w_modifiers(rule *r)
{
    C("ka.uri startswith anyof (\"/api/v1/namespaces/%s/\"", t_ns(r));
    C(", \"/apis/apps/v1/namespaces/%s/\")", t_ns(r));
    C(" and ka.target.name contains oneof (\"%s\", \"-config\")", t_app(r));
    C(" and ka.user.name != allof (\"%s\"", t_admin(r));
    C(", \"%s\")", t_admin(r));
    r->title = "Operator modifiers";
    r->fields = "user=%ka.user.name name=%ka.target.name";
}

static void w_val_len(rule *r)
{
    C("(ka.target.namespace = val(jevt.value[/user/extra/authentication.kubernetes.io~1pod-name/0])");
    C(" or len(ka.target.name) > %u", 30 + rn(20));
    C(" or len(ka.user.groups) >= %u", 4 + rn(2));
    C(" or basename(ka.uri) startswith \"%s\")", PICK(((const char *[]){"exec", "log", "token", "status", "binding"})));
    C(" and ka.response.code >= %u", PICK(((const unsigned[]){400, 403, 404, 409})));
    C(" and %s_scope", r->t->id);
    r->title = "Transformers and numbers";
    r->fields = "user=%ka.user.name name=%ka.target.name code=%ka.response.code";
}

static void w_nested(rule *r)
{
    C("kevt and not (ka.verb in (get, list, watch) or ka.target.namespace in (%s_namespaces)", r->t->id);
    C(" or (ka.user.name startswith \"system:\" and not ka.user.name = \"%s\"))", other_user(r));
    C(" and (ka.target.resource in (secrets, configmaps) or not ka.target.subresource exists)");
    C(" and ka.target.name startswith \"%s\"", t_app(r));
    r->title = "Nested not and or";
    r->fields = "user=%ka.user.name verb=%ka.verb name=%ka.target.name";
}

static void w_empty(rule *r)
{
    C("(ka.target.subresource = \"\" or ka.target.name startswith \"\" and ka.useragent contains \"\")");
    C(" and ka.user.name endswith \"%s\"", t_admin(r));
    r->title = "Empty literals";
    r->fields = "user=%ka.user.name sub=%ka.target.subresource";
}

static void w_long_in(rule *r)
{
    /* more literals than the index keeps (INDEX_MAX_LITS, index.c) */
    C("ka.target.resource in (pods, secrets, configmaps");
    unsigned n = 70 + rn(10);
    for (unsigned i = 0; i < n; i++)
        C(", %s-%u", r->t->slug, i);
    C(") and ka.verb in (delete, deletecollection, %s)", PICK(((const char *[]){"escalate", "bind", "impersonate"})));
    C(" and ka.target.namespace = \"%s\"", t_ns(r));
    r->title = "Long resource list";
    r->fields = "user=%ka.user.name kind=%ka.target.resource name=%ka.target.name";
}

static void w_regex_hard(rule *r)
{
    switch (rn(4)) {
    case 0:
        C("ka.target.name regex \"(?!kube-)%s-[a-z0-9.-]*(credentials|config)\"", t_app(r));
        break;
    case 1:
        C("ka.target.name regex \"([a-z]+)-\\\\1(-.*)?\"");
        break;
    case 2:
        C("ka.useragent regex \"(?i).*%s.*\"", rx_quote(upper(agent(r))));
        break;
    default:
        C("ka.user.name regex \"system:serviceaccount:%s:(?=[a-z]*-)[a-z-]+\"", t_ns(r));
    }
    C(" and ka.target.namespace in (%s_namespaces)", r->t->id);
    r->title = "Regex beyond literals";
    r->fields = "user=%ka.user.name name=%ka.target.name agent=%ka.useragent";
}

static const tpl_fn_w wide_tpl[] = {w_case, w_glob, w_pmatch, w_modifiers, w_val_len,
                                    w_nested, w_empty, w_long_in, w_regex_hard};
#define WIDE_PERCENT 25

typedef void (*tpl_fn)(rule *);
static const tpl_fn prunable[] = {p_secret_read, p_bad_image,    p_foreign_image, p_rbac_change,    p_exec,
                                  p_delete,      p_config_change, p_service_exposed, p_hostpath, p_privileged,
                                  p_node_tamper, p_crd,          p_token,         p_label_change,   p_cluster_list,
                                  p_new_resource};
static const tpl_fn unprunable[] = {u_unknown_actor, u_user_writes, u_forbidden, u_agent, u_source_ip, u_groups,
                                    u_impersonation, u_uri,         u_or_branch, u_name,  u_reason};
static const tpl_fn regex_tpl[] = {x_pod_name, x_exec_uri, x_helm_secret, x_sa_user, x_old_kubectl};
#define REGEX_PRUNABLE 3 /* regex_tpl[0..2] */

/* ------------------------------------------------------------ rules */

/* percent of the rules of a tenant in a corpus namespace, and of the
 * others, that draw literals from the corpus: what sets the alert rate */
#define CORPUS_REAL 15
#define CORPUS_OTHER 2

static const char *priorities[] = {"EMERGENCY", "ALERT", "CRITICAL", "ERROR", "WARNING", "NOTICE", "INFORMATIONAL", "DEBUG"};
static const unsigned prio_w[] = {1, 2, 12, 18, 35, 20, 10, 2};

static unsigned pick_w(const unsigned *w, unsigned n)
{
    unsigned total = 0;
    for (unsigned i = 0; i < n; i++)
        total += w[i];
    unsigned x = rn(total);
    for (unsigned i = 0; i < n; i++) {
        if (x < w[i])
            return i;
        x -= w[i];
    }
    return n - 1;
}

static struct {
    unsigned unprunable, regex, exceptions, corpus, wide;
} stats;

static void write_exceptions(const rule *r)
{
    const tenant *t = r->t;
    sb_add(&out, "  exceptions:\n");
    const char *a, *b;
    switch (rn(3)) {
    case 0:
        a = t->admin[rn(t->nadmin)];
        b = t->ns[rn(t->nns)];
        sb_add(&out, "    - name: known_%s_operators\n      fields: [ka.user.name, ka.target.namespace]\n"
                     "      values:\n        - [\"%s\", \"%s\"]\n",
               t->id, a, b);
        if (chance(50)) {
            a = t->sa[rn(t->nsa)];
            b = t->ns[rn(t->nns)];
            sb_add(&out, "        - [\"%s\", \"%s\"]\n", a, b);
        }
        break;
    case 1:
        a = t->app[rn(t->napp)];
        sb_add(&out, "    - name: trusted_names\n      fields: ka.target.name\n      values: [\"%s-%s\"", a,
               PICK(purposes));
        a = t->app[rn(t->napp)];
        sb_add(&out, ", \"%s-%s\"]\n", a, PICK(purposes));
        break;
    default:
        a = t->ns[rn(t->nns)];
        b = t->ns[rn(t->nns)];
        sb_add(&out, "    - name: automation_in_sandbox\n      fields: [ka.user.name, ka.target.namespace]\n"
                     "      comps: [startswith, =]\n      values:\n        - [\"system:serviceaccount:%s:\", \"%s\"]\n",
               a, b);
    }
}

static int wide; /* the third argument is "wide" */

static void write_rule(unsigned i)
{
    rule r = {.t = &tenants[i % ntenants], .idx = i};
    r.corpus = r.t->real ? chance(CORPUS_REAL) : chance(CORPUS_OTHER);
    unsigned x = rn(100);
    if (wide && chance(WIDE_PERCENT)) { /* no draw at all without "wide": the default bytes stay */
        PICK(wide_tpl)(&r);
        r.prunable = 1; /* not counted below */
        stats.wide++;
    } else if (x < 6) {
        unsigned k = rn(NELEM(regex_tpl));
        regex_tpl[k](&r);
        r.regex = 1;
        r.prunable = k < REGEX_PRUNABLE;
    } else if (x < 6 + 28) {
        PICK(unprunable)(&r);
    } else {
        PICK(prunable)(&r);
        r.prunable = 1;
    }
    stats.unprunable += !r.prunable;
    stats.regex += r.regex;
    stats.corpus += r.corpus;
    sb_add(&out, "- rule: %s (%s) r%05u\n", r.title, r.t->slug, i);
    sb_add(&out, "  desc: %s; generated rule %u of tenant %s.\n", r.title, i, r.t->slug);
    sb_add(&out, "  condition: >-\n    %s\n", r.cond.d);
    sb_add(&out, "  output: \"%s [%s] (%s)\"\n", r.title, r.t->slug, r.fields);
    sb_add(&out, "  priority: %s\n  source: k8s_audit\n", priorities[pick_w(prio_w, NELEM(prio_w))]);
    sb_add(&out, "  tags: [k8s, %s, %s]\n", r.t->id,
           PICK(((const char *[]){"mitre_persistence", "mitre_privilege_escalation", "mitre_discovery",
                                  "mitre_execution", "mitre_credential_access", "mitre_defense_evasion"})));
    if (chance(10)) {
        write_exceptions(&r);
        stats.exceptions++;
    }
    sb_add(&out, "\n");
    free(r.cond.d);
}

int main(int argc, char **argv)
{
    if (argc != 3 && !(argc == 4 && !strcmp(argv[3], "wide"))) {
        fprintf(stderr, "usage: gen_rules N SEED [wide] > rules.yaml\n");
        return 2;
    }
    wide = argc == 4;
    long n = strtol(argv[1], NULL, 10);
    if (n <= 0 || n > 10000000) {
        fprintf(stderr, "gen_rules: N must be in 1..10000000\n");
        return 2;
    }
    rng = strtoull(argv[2], NULL, 0) * 0x2545F4914F6CDD1Dull + 7;
    ntenants = (unsigned)(n / 40) < 2 ? 2 : (unsigned)(n / 40);
    tenants = calloc(ntenants, sizeof *tenants);
    if (!tenants) {
        perror("gen_rules");
        return 1;
    }
    sb_add(&out, "# Generated by bench/gen_rules %ld %s: %ld rules over %u tenants (see bench/gen_rules.c).\n\n", n,
           argv[2], n, ntenants);
    write_globals();
    unsigned real = 0;
    for (unsigned t = 0; t < ntenants; t++) {
        make_tenant(&tenants[t], t);
        real += tenants[t].real;
        write_tenant_items(&tenants[t]);
    }
    for (unsigned i = 0; i < (unsigned)n; i++) {
        write_rule(i);
        if (out.n > (1u << 20)) {
            if (fwrite(out.d, 1, out.n, stdout) != out.n) {
                perror("gen_rules: write");
                return 1;
            }
            sb_reset(&out);
        }
    }
    if (fwrite(out.d, 1, out.n, stdout) != out.n || fflush(stdout)) {
        perror("gen_rules: write");
        return 1;
    }
    fprintf(stderr,
            "gen_rules: %ld rules, %u tenants (%u in corpus namespaces), %u lists, %u macros; "
            "%u (%.1f%%) without a verb/resource constraint, %u (%.1f%%) with regex, %u with exceptions, "
            "%u drawing literals from the corpus, %u from the wide mix\n",
            n, ntenants, real, 12 + 4 * ntenants, 17 + 2 * ntenants, stats.unprunable,
            100.0 * stats.unprunable / (double)n, stats.regex, 100.0 * stats.regex / (double)n, stats.exceptions,
            stats.corpus, stats.wide);
    free(out.d);
    free(tenants);
    return 0;
}
