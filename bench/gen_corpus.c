/*
 * gen_corpus — a deterministic generator of realistic Kubernetes audit logs.
 *
 *   gen_corpus N SEED > corpus.jsonl
 *
 * Writes N audit.k8s.io/v1 Event objects, one compact JSON document per
 * line, as the API server's log backend does, and prints the size
 * distribution and the mix to stderr.  The same N and SEED always give the
 * same bytes.
 *
 * The mix follows what production clusters log:
 *   verbs    ~40% get, 18% watch, 15% list, 13% create, 8% update, 4% patch, 2% delete
 *   levels   ~68% Metadata (no bodies), 17% Request, 15% RequestResponse
 *   users    ~48% service accounts (with user.extra pod/node bindings), 31% nodes,
 *            13% kube-controller-manager / kube-scheduler, 8% humans, a few anonymous
 *   objects  pods, configmaps, leases, nodes, secrets, services, endpointslices,
 *            deployments first; exec/attach/portforward, RBAC objects, 403s,
 *            RequestReceived stages, token and access reviews
 *   sizes    mean ~1.6 KB, median ~1.2 KB, p99 ~12 KB; pod creates with bodies
 *            5–15 KB (containers, securityContext, volumes incl. hostPath, env...)
 * Strings are escaped like Go's encoding/json (\u0026, \u003c, \u003e, \").
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------ randomness */

#include "bench_rng.h"

/* Pick an index by weights (a zero-terminated list is not needed: n given). */
static unsigned pick(const unsigned *w, unsigned n)
{
    unsigned total = 0;
    for (unsigned i = 0; i < n; i++)
        total += w[i];
    unsigned r = rn(total);
    for (unsigned i = 0; i < n; i++) {
        if (r < w[i])
            return i;
        r -= w[i];
    }
    return n - 1;
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define PICK(a) ((a)[rn(NELEM(a))])

/* ------------------------------------------------------------ the writer */

typedef struct writer {
    char *d;
    size_t n, cap;
    int depth;
    unsigned char first[128];
    int after_key;
} writer;

static void w_grow(writer *w, size_t extra)
{
    if (w->n + extra <= w->cap)
        return;
    size_t cap = w->cap ? w->cap : 65536;
    while (cap < w->n + extra)
        cap *= 2;
    w->d = realloc(w->d, cap);
    if (!w->d) {
        perror("gen_corpus");
        exit(1);
    }
    w->cap = cap;
}

static void w_raw(writer *w, const char *s, size_t n)
{
    w_grow(w, n);
    memcpy(w->d + w->n, s, n);
    w->n += n;
}

static void w_c(writer *w, char c)
{
    w_grow(w, 1);
    w->d[w->n++] = c;
}

/* The separator before a value: a comma unless first in its container or after a key. */
static void w_sep(writer *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->depth > 0) {
        if (!w->first[w->depth])
            w_c(w, ',');
        w->first[w->depth] = 0;
    }
}

/* A JSON string escaped as Go's encoding/json writes it (HTML-safe). */
static void w_strn(writer *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    w_grow(w, n * 6 + 2);
    char *o = w->d + w->n;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': *o++ = '\\'; *o++ = '"'; break;
        case '\\': *o++ = '\\'; *o++ = '\\'; break;
        case '\n': *o++ = '\\'; *o++ = 'n'; break;
        case '\r': *o++ = '\\'; *o++ = 'r'; break;
        case '\t': *o++ = '\\'; *o++ = 't'; break;
        case '<': case '>': case '&':
            memcpy(o, "\\u00", 4);
            o[4] = hex[c >> 4];
            o[5] = hex[c & 15];
            o += 6;
            break;
        default:
            if (c < 0x20) {
                memcpy(o, "\\u00", 4);
                o[4] = hex[c >> 4];
                o[5] = hex[c & 15];
                o += 6;
            } else {
                *o++ = (char)c;
            }
        }
    }
    *o++ = '"';
    w->n = (size_t)(o - w->d);
}

static void s_(writer *w, const char *s)
{
    w_sep(w);
    w_strn(w, s, strlen(s));
}

static void k_(writer *w, const char *key)
{
    w_sep(w);
    w_strn(w, key, strlen(key));
    w_c(w, ':');
    w->after_key = 1;
}

static void ob(writer *w)
{
    w_sep(w);
    w_c(w, '{');
    w->first[++w->depth] = 1;
}
static void oe(writer *w)
{
    w->depth--;
    w_c(w, '}');
}
static void ab(writer *w)
{
    w_sep(w);
    w_c(w, '[');
    w->first[++w->depth] = 1;
}
static void ae(writer *w)
{
    w->depth--;
    w_c(w, ']');
}

static void i_(writer *w, long v)
{
    char t[32];
    w_sep(w);
    w_raw(w, t, (size_t)snprintf(t, sizeof t, "%ld", v));
}
static void b_(writer *w, int v)
{
    w_sep(w);
    w_raw(w, v ? "true" : "false", v ? 4 : 5);
}
static void null_(writer *w)
{
    w_sep(w);
    w_raw(w, "null", 4);
}

static void ks(writer *w, const char *k, const char *v) { k_(w, k), s_(w, v); }
static void ki(writer *w, const char *k, long v) { k_(w, k), i_(w, v); }
static void kb(writer *w, const char *k, int v) { k_(w, k), b_(w, v); }
static void ko(writer *w, const char *k) { k_(w, k), ob(w); }
static void ka(writer *w, const char *k) { k_(w, k), ab(w); }

/* printf into one of a ring of static buffers. */
static const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *f, ...)
{
    static char ring[64][1024];
    static unsigned idx;
    char *b = ring[idx++ % 64];
    va_list ap;
    va_start(ap, f);
    vsnprintf(b, sizeof ring[0], f, ap);
    va_end(ap);
    return b;
}

/* ------------------------------------------------------------ the world */

static const char *uuid(void)
{
    uint64_t a = rnd64(), b = rnd64();
    return fmt("%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff,
               (unsigned)a & 0xfff, (unsigned)(0x8000 | ((b >> 48) & 0x3fff)),
               (unsigned long long)(b & 0xffffffffffffull));
}

static const char *suffix(unsigned n)
{
    static const char al[] = "bcdfghjklmnpqrstvwxz2456789";
    static char ring[16][512];
    static unsigned idx;
    char *b = ring[idx++ % 16];
    if (n >= sizeof ring[0])
        n = sizeof ring[0] - 1;
    for (unsigned i = 0; i < n; i++)
        b[i] = al[rn(sizeof al - 1)];
    b[n] = 0;
    return b;
}

static long resource_version = 48213377;

typedef struct workload {
    const char *ns, *name, *image, *sa, *kind;
    unsigned ports, replicas;
} workload;

static const workload workloads[] = {
    {"kube-system", "coredns", "registry.k8s.io/coredns/coredns:v1.11.1", "coredns", "Deployment", 1, 2},
    {"kube-system", "metrics-server", "registry.k8s.io/metrics-server/metrics-server:v0.7.1", "metrics-server", "Deployment", 1, 1},
    {"kube-system", "ebs-csi-controller", "public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:v1.30.0", "ebs-csi-controller-sa", "Deployment", 2, 2},
    {"kube-system", "cilium", "quay.io/cilium/cilium:v1.15.4", "cilium", "DaemonSet", 2, 12},
    {"kube-system", "cilium-operator", "quay.io/cilium/operator-generic:v1.15.4", "cilium-operator", "Deployment", 1, 2},
    {"kube-system", "kube-proxy", "registry.k8s.io/kube-proxy:v1.29.3", "kube-proxy", "DaemonSet", 0, 12},
    {"monitoring", "prometheus-server", "quay.io/prometheus/prometheus:v2.51.2", "prometheus-server", "StatefulSet", 1, 2},
    {"monitoring", "grafana", "docker.io/grafana/grafana:10.4.2", "grafana", "Deployment", 1, 1},
    {"monitoring", "kube-state-metrics", "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.12.0", "kube-state-metrics", "Deployment", 2, 1},
    {"monitoring", "node-exporter", "quay.io/prometheus/node-exporter:v1.8.0", "node-exporter", "DaemonSet", 1, 12},
    {"argocd", "argocd-server", "quay.io/argoproj/argocd:v2.10.7", "argocd-server", "Deployment", 2, 2},
    {"argocd", "argocd-repo-server", "quay.io/argoproj/argocd:v2.10.7", "argocd-repo-server", "Deployment", 1, 2},
    {"argocd", "argocd-application-controller", "quay.io/argoproj/argocd:v2.10.7", "argocd-application-controller", "StatefulSet", 1, 1},
    {"cert-manager", "cert-manager", "quay.io/jetstack/cert-manager-controller:v1.14.5", "cert-manager", "Deployment", 1, 1},
    {"cert-manager", "cert-manager-webhook", "quay.io/jetstack/cert-manager-webhook:v1.14.5", "cert-manager-webhook", "Deployment", 1, 1},
    {"ingress-nginx", "ingress-nginx-controller", "registry.k8s.io/ingress-nginx/controller:v1.10.1", "ingress-nginx", "Deployment", 3, 3},
    {"payments", "payments-api", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/payments/api:2024.05.3", "payments-api", "Deployment", 2, 4},
    {"payments", "payments-worker", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/payments/worker:2024.05.3", "payments-worker", "Deployment", 1, 3},
    {"checkout", "checkout-frontend", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout/frontend:v3.18.0", "default", "Deployment", 1, 6},
    {"checkout", "cart", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout/cart:v3.18.0", "cart", "Deployment", 1, 3},
    {"web", "frontend", "docker.io/library/nginx:1.25.5", "default", "Deployment", 1, 4},
    {"web", "api-gateway", "docker.io/envoyproxy/envoy:v1.30.1", "api-gateway", "Deployment", 2, 2},
    {"data", "postgres", "docker.io/bitnami/postgresql:16.2.0", "postgres", "StatefulSet", 1, 3},
    {"data", "redis", "docker.io/library/redis:7.2.4", "default", "StatefulSet", 1, 3},
    {"data", "kafka", "docker.io/bitnami/kafka:3.7.0", "kafka", "StatefulSet", 2, 3},
    {"ci", "gitlab-runner", "registry.gitlab.com/gitlab-org/gitlab-runner:v16.11.0", "gitlab-runner", "Deployment", 0, 1},
};

static const char *controller_sas[] = {
    "replicaset-controller", "deployment-controller", "endpointslice-controller", "generic-garbage-collector",
    "namespace-controller", "node-controller", "daemon-set-controller", "job-controller",
    "statefulset-controller", "horizontal-pod-autoscaler", "resourcequota-controller",
    "attachdetach-controller", "pvc-protection-controller", "endpoint-controller", "cronjob-controller",
    "ttl-after-finished-controller", "service-account-controller", "root-ca-cert-publisher",
};

static const char *humans[] = {
    "alice@example.com", "bob@example.com", "carol.ops@example.com", "dave@example.com",
    "kubernetes-admin", "erin-sre@example.com", "ci-deployer",
};

#define NNODES 12
static const char *node_name(unsigned i)
{
    return fmt("ip-10-0-%u-%u.eu-west-1.compute.internal", 16 + i % 3 * 16, 11 + i * 7 % 200);
}
static const char *node_uid(unsigned i)
{
    return fmt("5f3c%04x-9a2e-4b7d-8c%02x-0e4a1b2c%04x", i * 977 % 65536, i, i * 31);
}

static const char *pod_name(const workload *wl)
{
    if (!strcmp(wl->kind, "StatefulSet"))
        return fmt("%s-%u", wl->name, rn(wl->replicas));
    if (!strcmp(wl->kind, "DaemonSet"))
        return fmt("%s-%s", wl->name, suffix(5));
    return fmt("%s-%s-%s", wl->name, suffix(9 + rn(2)), suffix(5));
}

/* ------------------------------------------------------------ time */

static uint64_t now_us = 1717405447000000ull; /* 2024-06-03T09:04:07Z */

static const char *ts_us(uint64_t us)
{
    time_t sec = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    return fmt("%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
               tm.tm_min, tm.tm_sec, (unsigned)(us % 1000000));
}

static const char *ts_s(uint64_t us)
{
    time_t sec = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    return fmt("%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
               tm.tm_min, tm.tm_sec);
}

/* ------------------------------------------------------------ users */

enum { U_SA, U_NODE, U_CTRL, U_HUMAN, U_ANON };

typedef struct user {
    int kind;
    const char *name;
    const workload *wl; /* service accounts of workloads */
    const char *ctrl_sa;
    unsigned node;
    const char *agent;
    const char *ip;
    const char *reason;
    char buf[4][512]; /* owned copies of the strings above */
} user;

static void make_user_(user *u, int kind);

/* The fmt() ring is reused within an event: keep copies. */
static void make_user(user *u, int kind)
{
    make_user_(u, kind);
    const char **f[4] = {&u->name, &u->agent, &u->ip, &u->reason};
    for (int i = 0; i < 4; i++) {
        snprintf(u->buf[i], sizeof u->buf[i], "%s", *f[i]);
        *f[i] = u->buf[i];
    }
}

static void make_user_(user *u, int kind)
{
    memset(u, 0, sizeof *u);
    u->kind = kind;
    switch (kind) {
    case U_SA:
        if (chance(30)) {
            u->ctrl_sa = PICK(controller_sas);
            u->name = fmt("system:serviceaccount:kube-system:%s", u->ctrl_sa);
            u->agent = fmt("kube-controller-manager/v1.29.3 (linux/amd64) kubernetes/6813625/system:serviceaccount:kube-system:%s",
                           u->ctrl_sa);
            u->ip = "10.0.16.10";
            u->reason = fmt("RBAC: allowed by ClusterRoleBinding \"system:controller:%s\" of ClusterRole "
                            "\"system:controller:%s\" to ServiceAccount \"%s/kube-system\"",
                            u->ctrl_sa, u->ctrl_sa, u->ctrl_sa);
        } else {
            u->wl = &PICK(workloads);
            u->node = rn(NNODES);
            u->name = fmt("system:serviceaccount:%s:%s", u->wl->ns, u->wl->sa);
            static const char *agents[] = {"%s/v0.0.0 (linux/amd64) kubernetes/$Format", "Go-http-client/2.0",
                                           "%s/v1.29.0 (linux/amd64) kubernetes/3f7a50f"};
            const char *a = PICK(agents);
            u->agent = strchr(a, '%') ? fmt(a, u->wl->name) : a;
            u->ip = fmt("10.0.%u.%u", 64 + rn(64), 2 + rn(250));
            u->reason = fmt("RBAC: allowed by ClusterRoleBinding \"%s\" of ClusterRole \"%s\" to ServiceAccount \"%s/%s\"",
                            u->wl->name, u->wl->name, u->wl->sa, u->wl->ns);
        }
        break;
    case U_NODE:
        u->node = rn(NNODES);
        u->name = fmt("system:node:%s", node_name(u->node));
        u->agent = "kubelet/v1.29.3 (linux/amd64) kubernetes/6813625";
        u->ip = fmt("10.0.%u.%u", 16 + u->node % 3 * 16, 11 + u->node * 7 % 200);
        u->reason = "";
        break;
    case U_CTRL:
        if (chance(62)) {
            u->name = "system:kube-controller-manager";
            u->agent = chance(50) ? "kube-controller-manager/v1.29.3 (linux/amd64) kubernetes/6813625/leader-election"
                                  : "kube-controller-manager/v1.29.3 (linux/amd64) kubernetes/6813625/shared-informers";
            u->reason = "RBAC: allowed by ClusterRoleBinding \"system:kube-controller-manager\" of ClusterRole "
                        "\"system:kube-controller-manager\" to User \"system:kube-controller-manager\"";
        } else {
            u->name = "system:kube-scheduler";
            u->agent = chance(50) ? "kube-scheduler/v1.29.3 (linux/amd64) kubernetes/6813625/scheduler"
                                  : "kube-scheduler/v1.29.3 (linux/amd64) kubernetes/6813625/leader-election";
            u->reason = "RBAC: allowed by ClusterRoleBinding \"system:kube-scheduler\" of ClusterRole "
                        "\"system:kube-scheduler\" to User \"system:kube-scheduler\"";
        }
        u->ip = "10.0.16.10";
        break;
    case U_HUMAN:
        u->name = PICK(humans);
        u->agent = chance(80) ? (chance(60) ? "kubectl/v1.29.2 (darwin/arm64) kubernetes/4b8e819"
                                            : "kubectl/v1.28.4 (linux/amd64) kubernetes/bae2c62")
                              : "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
                                "Lens/2024.4.230844-latest Chrome/122.0.6261.156 Electron/29.3.0 Safari/537.36";
        u->ip = fmt("203.0.113.%u", 10 + rn(40));
        u->reason = strcmp(u->name, "kubernetes-admin") == 0
                        ? "RBAC: allowed by ClusterRoleBinding \"kubeadm:cluster-admins\" of ClusterRole \"cluster-admin\" to Group \"kubeadm:cluster-admins\""
                        : "RBAC: allowed by ClusterRoleBinding \"oidc-platform-admins\" of ClusterRole \"cluster-admin\" to Group \"oidc:platform\"";
        break;
    default:
        u->name = "system:anonymous";
        u->agent = chance(50) ? "curl/8.4.0" : "Mozilla/5.0 zgrab/0.x";
        u->ip = fmt("198.51.100.%u", 1 + rn(250));
        u->reason = "";
    }
}

static void write_user(writer *w, const user *u)
{
    ko(w, "user");
    ks(w, "username", u->name);
    if (u->kind != U_ANON && u->kind != U_CTRL)
        ks(w, "uid", uuid());
    ka(w, "groups");
    switch (u->kind) {
    case U_SA:
        s_(w, "system:serviceaccounts");
        s_(w, fmt("system:serviceaccounts:%s", u->wl ? u->wl->ns : "kube-system"));
        s_(w, "system:authenticated");
        break;
    case U_NODE:
        s_(w, "system:nodes");
        s_(w, "system:authenticated");
        break;
    case U_CTRL:
        s_(w, "system:authenticated");
        break;
    case U_HUMAN:
        if (strcmp(u->name, "kubernetes-admin") == 0) {
            s_(w, "kubeadm:cluster-admins");
        } else {
            s_(w, "oidc:platform");
            s_(w, "oidc:engineering");
        }
        s_(w, "system:authenticated");
        break;
    default:
        s_(w, "system:unauthenticated");
    }
    ae(w);
    if (u->kind == U_SA) {
        ko(w, "extra");
        ka(w, "authentication.kubernetes.io/credential-id");
        s_(w, fmt("JTI=%s", uuid()));
        ae(w);
        if (u->wl) {
            ka(w, "authentication.kubernetes.io/node-name");
            s_(w, node_name(u->node));
            ae(w);
            ka(w, "authentication.kubernetes.io/node-uid");
            s_(w, node_uid(u->node));
            ae(w);
            ka(w, "authentication.kubernetes.io/pod-name");
            s_(w, pod_name(u->wl));
            ae(w);
            ka(w, "authentication.kubernetes.io/pod-uid");
            s_(w, uuid());
            ae(w);
        }
        oe(w);
    } else if (u->kind == U_HUMAN && chance(40)) {
        ko(w, "extra");
        ka(w, "iam.example.com/session");
        s_(w, fmt("sess-%s", suffix(16)));
        ae(w);
        oe(w);
    }
    oe(w);
}

/* ------------------------------------------------------------ resources */

typedef struct res {
    const char *resource, *group, *version, *kind;
    int namespaced;
} res;

enum {
    R_PODS, R_CONFIGMAPS, R_LEASES, R_NODES, R_SECRETS, R_SERVICES, R_ENDPOINTSLICES, R_DEPLOYMENTS,
    R_REPLICASETS, R_EVENTS, R_SERVICEACCOUNTS, R_NAMESPACES, R_ROLES, R_CLUSTERROLES, R_ROLEBINDINGS,
    R_CLUSTERROLEBINDINGS, R_DAEMONSETS, R_STATEFULSETS, R_JOBS, R_PVCS, R_TOKENREVIEWS, R_SARS, R_CRDS,
    R_COUNT
};

static const res resources[R_COUNT] = {
    [R_PODS] = {"pods", "", "v1", "Pod", 1},
    [R_CONFIGMAPS] = {"configmaps", "", "v1", "ConfigMap", 1},
    [R_LEASES] = {"leases", "coordination.k8s.io", "v1", "Lease", 1},
    [R_NODES] = {"nodes", "", "v1", "Node", 0},
    [R_SECRETS] = {"secrets", "", "v1", "Secret", 1},
    [R_SERVICES] = {"services", "", "v1", "Service", 1},
    [R_ENDPOINTSLICES] = {"endpointslices", "discovery.k8s.io", "v1", "EndpointSlice", 1},
    [R_DEPLOYMENTS] = {"deployments", "apps", "v1", "Deployment", 1},
    [R_REPLICASETS] = {"replicasets", "apps", "v1", "ReplicaSet", 1},
    [R_EVENTS] = {"events", "", "v1", "Event", 1},
    [R_SERVICEACCOUNTS] = {"serviceaccounts", "", "v1", "ServiceAccount", 1},
    [R_NAMESPACES] = {"namespaces", "", "v1", "Namespace", 0},
    [R_ROLES] = {"roles", "rbac.authorization.k8s.io", "v1", "Role", 1},
    [R_CLUSTERROLES] = {"clusterroles", "rbac.authorization.k8s.io", "v1", "ClusterRole", 0},
    [R_ROLEBINDINGS] = {"rolebindings", "rbac.authorization.k8s.io", "v1", "RoleBinding", 1},
    [R_CLUSTERROLEBINDINGS] = {"clusterrolebindings", "rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", 0},
    [R_DAEMONSETS] = {"daemonsets", "apps", "v1", "DaemonSet", 1},
    [R_STATEFULSETS] = {"statefulsets", "apps", "v1", "StatefulSet", 1},
    [R_JOBS] = {"jobs", "batch", "v1", "Job", 1},
    [R_PVCS] = {"persistentvolumeclaims", "", "v1", "PersistentVolumeClaim", 1},
    [R_TOKENREVIEWS] = {"tokenreviews", "authentication.k8s.io", "v1", "TokenReview", 0},
    [R_SARS] = {"subjectaccessreviews", "authorization.k8s.io", "v1", "SubjectAccessReview", 0},
    [R_CRDS] = {"customresourcedefinitions", "apiextensions.k8s.io", "v1", "CustomResourceDefinition", 0},
};

enum { V_GET, V_WATCH, V_LIST, V_CREATE, V_UPDATE, V_PATCH, V_DELETE, V_COUNT };
static const char *verb_names[V_COUNT] = {"get", "watch", "list", "create", "update", "patch", "delete"};
static const unsigned verb_weights[V_COUNT] = {400, 180, 150, 130, 80, 40, 20};

/* Resource weights per verb (index = R_*). */
static const unsigned res_w[V_COUNT][R_COUNT] = {
    /*              pod cm  lea nod sec svc eps dep rs  ev  sa  ns  rol cro rb  crb ds  sts job pvc tr  sar crd */
    [V_GET]    = {260, 190, 150, 90, 80, 30, 20, 30, 10, 0, 20, 20, 5, 5, 5, 5, 5, 5, 5, 5, 0, 0, 5},
    [V_WATCH]  = {200, 150, 10, 80, 100, 80, 90, 60, 40, 20, 30, 30, 15, 15, 15, 15, 20, 15, 15, 15, 0, 0, 20},
    [V_LIST]   = {200, 150, 10, 80, 100, 80, 90, 60, 40, 20, 30, 30, 15, 15, 15, 15, 20, 15, 15, 15, 0, 0, 20},
    [V_CREATE] = {150, 30, 20, 5, 20, 10, 20, 15, 20, 250, 40, 5, 8, 4, 8, 4, 2, 2, 10, 5, 160, 200, 1},
    [V_UPDATE] = {80, 120, 450, 60, 20, 20, 100, 40, 30, 10, 5, 2, 5, 5, 5, 5, 10, 10, 10, 5, 0, 0, 5},
    [V_PATCH]  = {300, 40, 5, 250, 20, 20, 30, 100, 30, 100, 5, 5, 5, 5, 5, 5, 20, 10, 10, 5, 0, 0, 5},
    [V_DELETE] = {400, 80, 5, 10, 60, 20, 80, 40, 100, 50, 20, 10, 10, 5, 10, 5, 5, 5, 40, 20, 0, 0, 2},
};

/* ------------------------------------------------------------ objects */

static void labels_app(writer *w, const workload *wl)
{
    ko(w, "labels");
    ks(w, "app.kubernetes.io/name", wl->name);
    ks(w, "app.kubernetes.io/instance", fmt("%s-%s", wl->name, wl->ns));
    if (chance(60))
        ks(w, "app.kubernetes.io/part-of", wl->ns);
    if (chance(50))
        ks(w, "pod-template-hash", suffix(10));
    oe(w);
}

static void managed_fields(writer *w, const char *manager, const char *op, uint64_t t, int big)
{
    ka(w, "managedFields");
    ob(w);
    ks(w, "manager", manager);
    ks(w, "operation", op);
    ks(w, "apiVersion", "v1");
    ks(w, "time", ts_s(t));
    ks(w, "fieldsType", "FieldsV1");
    ko(w, "fieldsV1");
    ko(w, "f:metadata");
    ko(w, "f:labels");
    ko(w, "f:app.kubernetes.io/name");
    oe(w);
    oe(w);
    oe(w);
    if (big) {
        ko(w, "f:spec");
        ko(w, "f:containers");
        ko(w, "k:{\"name\":\"app\"}");
        ko(w, ".");
        oe(w);
        ko(w, "f:image");
        oe(w);
        ko(w, "f:imagePullPolicy");
        oe(w);
        ko(w, "f:name");
        oe(w);
        ko(w, "f:resources");
        oe(w);
        oe(w);
        oe(w);
        ko(w, "f:dnsPolicy");
        oe(w);
        ko(w, "f:restartPolicy");
        oe(w);
        oe(w);
    }
    oe(w);
    oe(w);
    ae(w);
}

static void meta(writer *w, const char *name, const char *ns, const workload *wl, int with_rv)
{
    ko(w, "metadata");
    ks(w, "name", name);
    if (ns)
        ks(w, "namespace", ns);
    if (with_rv) {
        ks(w, "uid", uuid());
        ks(w, "resourceVersion", fmt("%ld", resource_version - rn(100000)));
        ks(w, "creationTimestamp", ts_s(now_us - (uint64_t)rn(86400 * 30) * 1000000));
    } else {
        k_(w, "creationTimestamp");
        null_(w);
    }
    if (wl)
        labels_app(w, wl);
    oe(w);
}

static void resources_block(writer *w)
{
    static const char *cpu[] = {"50m", "100m", "250m", "500m", "1"};
    static const char *mem[] = {"64Mi", "128Mi", "256Mi", "512Mi", "1Gi", "2Gi"};
    ko(w, "resources");
    if (chance(70)) {
        ko(w, "limits");
        ks(w, "memory", PICK(mem));
        if (chance(50))
            ks(w, "cpu", PICK(cpu));
        oe(w);
    }
    ko(w, "requests");
    ks(w, "cpu", PICK(cpu));
    ks(w, "memory", PICK(mem));
    oe(w);
    oe(w);
}

static void probe(writer *w, const char *key, unsigned port)
{
    ko(w, key);
    ko(w, "httpGet");
    ks(w, "path", chance(50) ? "/healthz" : "/ready");
    ki(w, "port", port);
    ks(w, "scheme", "HTTP");
    oe(w);
    ki(w, "initialDelaySeconds", 5 + rn(30));
    ki(w, "timeoutSeconds", 1 + rn(5));
    ki(w, "periodSeconds", 10);
    ki(w, "successThreshold", 1);
    ki(w, "failureThreshold", 3);
    oe(w);
}

static void env_block(writer *w, unsigned n, const workload *wl)
{
    static const char *names[] = {"LOG_LEVEL", "HTTP_PORT", "DATABASE_URL", "REDIS_HOST", "KAFKA_BROKERS",
                                  "OTEL_EXPORTER_OTLP_ENDPOINT", "FEATURE_FLAGS", "JAVA_OPTS", "GOMAXPROCS",
                                  "AWS_REGION", "TZ", "API_TOKEN", "SENTRY_DSN", "CACHE_TTL", "QUERY"};
    ka(w, "env");
    for (unsigned i = 0; i < n; i++) {
        ob(w);
        unsigned r = rn(10);
        const char *nm = names[i % NELEM(names)];
        ks(w, "name", i < NELEM(names) ? nm : fmt("%s_%u", nm, i));
        if (r < 2) {
            ko(w, "valueFrom");
            ko(w, "secretKeyRef");
            ks(w, "name", fmt("%s-credentials", wl->name));
            ks(w, "key", "password");
            oe(w);
            oe(w);
        } else if (r < 3) {
            ko(w, "valueFrom");
            ko(w, "fieldRef");
            ks(w, "apiVersion", "v1");
            ks(w, "fieldPath", chance(50) ? "status.podIP" : "metadata.namespace");
            oe(w);
            oe(w);
        } else if (!strcmp(nm, "DATABASE_URL")) {
            ks(w, "value", fmt("postgres://%s:5432/%s?sslmode=require&pool_max_conns=20", "postgres.data.svc.cluster.local",
                               wl->name));
        } else if (!strcmp(nm, "JAVA_OPTS")) {
            ks(w, "value", "-XX:+UseG1GC -XX:MaxRAMPercentage=75.0 -Dlog4j2.formatMsgNoLookups=true");
        } else if (!strcmp(nm, "QUERY")) {
            ks(w, "value", "status<>'done' && retries<3");
        } else {
            ks(w, "value", fmt("%s-%s", wl->name, suffix(6)));
        }
        oe(w);
    }
    ae(w);
}

static void container(writer *w, const workload *wl, const char *name, unsigned nenv, int risky, int init)
{
    ob(w);
    ks(w, "name", name);
    ks(w, "image", init ? "docker.io/library/busybox:1.36" : wl->image);
    if (init || chance(40)) {
        ka(w, "command");
        s_(w, init ? "sh" : "/bin/sh");
        s_(w, "-c");
        s_(w, init ? "until nc -z postgres.data 5432; do echo waiting for db; sleep 2; done"
                   : fmt("exec /usr/local/bin/%s --config=/etc/%s/config.yaml 2>&1 | tee -a /var/log/app.log", wl->name,
                         wl->name));
        ae(w);
    }
    if (!init && chance(50)) {
        ka(w, "args");
        s_(w, "--v=2");
        s_(w, fmt("--metrics-bind-address=:%u", 8080 + rn(10)));
        s_(w, "--leader-elect=true");
        ae(w);
    }
    if (!init && wl->ports) {
        ka(w, "ports");
        for (unsigned p = 0; p < wl->ports; p++) {
            ob(w);
            ks(w, "name", p == 0 ? "http" : fmt("port-%u", p));
            ki(w, "containerPort", 8080 + p);
            ks(w, "protocol", "TCP");
            oe(w);
        }
        ae(w);
    }
    if (nenv)
        env_block(w, nenv, wl);
    resources_block(w);
    ka(w, "volumeMounts");
    ob(w);
    ks(w, "name", "config");
    ks(w, "mountPath", fmt("/etc/%s", wl->name));
    kb(w, "readOnly", 1);
    oe(w);
    ob(w);
    ks(w, "name", fmt("kube-api-access-%s", suffix(5)));
    kb(w, "readOnly", 1);
    ks(w, "mountPath", "/var/run/secrets/kubernetes.io/serviceaccount");
    oe(w);
    if (risky) {
        ob(w);
        ks(w, "name", "host-root");
        ks(w, "mountPath", "/host");
        oe(w);
    }
    ae(w);
    if (!init) {
        probe(w, "livenessProbe", 8080);
        probe(w, "readinessProbe", 8080);
    }
    ks(w, "terminationMessagePath", "/dev/termination-log");
    ks(w, "terminationMessagePolicy", "File");
    ks(w, "imagePullPolicy", chance(70) ? "IfNotPresent" : "Always");
    ko(w, "securityContext");
    if (risky) {
        kb(w, "privileged", 1);
        ko(w, "capabilities");
        ka(w, "add");
        s_(w, "SYS_ADMIN");
        s_(w, "NET_ADMIN");
        ae(w);
        oe(w);
        ki(w, "runAsUser", 0);
    } else {
        kb(w, "allowPrivilegeEscalation", 0);
        ko(w, "capabilities");
        ka(w, "drop");
        s_(w, "ALL");
        ae(w);
        oe(w);
        kb(w, "readOnlyRootFilesystem", 1);
        kb(w, "runAsNonRoot", 1);
        ki(w, "runAsUser", 65532);
    }
    oe(w);
    if (chance(20))
        kb(w, "stdin", 1), kb(w, "tty", 1);
    oe(w);
}

/* A PodSpec sized by nenv (env vars per container) and ncont (containers). */
static void pod_spec(writer *w, const workload *wl, unsigned ncont, unsigned nenv, int risky, int with_node)
{
    ko(w, "spec");
    ka(w, "volumes");
    ob(w);
    ks(w, "name", "config");
    ko(w, "configMap");
    ks(w, "name", fmt("%s-config", wl->name));
    ki(w, "defaultMode", 420);
    oe(w);
    oe(w);
    if (risky) {
        ob(w);
        ks(w, "name", "host-root");
        ko(w, "hostPath");
        ks(w, "path", PICK(((const char *[]){"/", "/var/run/docker.sock", "/proc", "/var/log", "/etc"})));
        ks(w, "type", chance(50) ? "Directory" : "");
        oe(w);
        oe(w);
    }
    if (chance(30)) {
        ob(w);
        ks(w, "name", "data");
        ko(w, "persistentVolumeClaim");
        ks(w, "claimName", fmt("data-%s-0", wl->name));
        oe(w);
        oe(w);
    }
    ob(w);
    ks(w, "name", "tmp");
    ko(w, "emptyDir");
    if (chance(50))
        ks(w, "sizeLimit", "1Gi");
    oe(w);
    oe(w);
    ob(w);
    ks(w, "name", fmt("kube-api-access-%s", suffix(5)));
    ko(w, "projected");
    ka(w, "sources");
    ob(w);
    ko(w, "serviceAccountToken");
    ki(w, "expirationSeconds", 3607);
    ks(w, "path", "token");
    oe(w);
    oe(w);
    ob(w);
    ko(w, "configMap");
    ks(w, "name", "kube-root-ca.crt");
    ka(w, "items");
    ob(w);
    ks(w, "key", "ca.crt");
    ks(w, "path", "ca.crt");
    oe(w);
    ae(w);
    oe(w);
    oe(w);
    ob(w);
    ko(w, "downwardAPI");
    ka(w, "items");
    ob(w);
    ks(w, "path", "namespace");
    ko(w, "fieldRef");
    ks(w, "apiVersion", "v1");
    ks(w, "fieldPath", "metadata.namespace");
    oe(w);
    oe(w);
    ae(w);
    oe(w);
    oe(w);
    ae(w);
    ki(w, "defaultMode", 420);
    oe(w);
    oe(w);
    ae(w);
    if (chance(25)) {
        ka(w, "initContainers");
        container(w, wl, "wait-for-db", 2, 0, 1);
        ae(w);
    }
    ka(w, "containers");
    for (unsigned c = 0; c < ncont; c++)
        container(w, wl, c == 0 ? "app" : (c == 1 ? "istio-proxy" : fmt("sidecar-%u", c)), nenv, risky && c == 0, 0);
    ae(w);
    ks(w, "restartPolicy", "Always");
    ki(w, "terminationGracePeriodSeconds", 30);
    ks(w, "dnsPolicy", "ClusterFirst");
    ks(w, "serviceAccountName", wl->sa);
    ks(w, "serviceAccount", wl->sa);
    if (with_node)
        ks(w, "nodeName", node_name(rn(NNODES)));
    if (risky) {
        kb(w, "hostNetwork", chance(50));
        kb(w, "hostPID", chance(30));
    }
    ko(w, "securityContext");
    if (!risky) {
        ki(w, "fsGroup", 65532);
        ko(w, "seccompProfile");
        ks(w, "type", "RuntimeDefault");
        oe(w);
    }
    oe(w);
    if (chance(40)) {
        ko(w, "affinity");
        ko(w, "podAntiAffinity");
        ka(w, "preferredDuringSchedulingIgnoredDuringExecution");
        ob(w);
        ki(w, "weight", 100);
        ko(w, "podAffinityTerm");
        ko(w, "labelSelector");
        ko(w, "matchLabels");
        ks(w, "app.kubernetes.io/name", wl->name);
        oe(w);
        oe(w);
        ks(w, "topologyKey", "kubernetes.io/hostname");
        oe(w);
        oe(w);
        ae(w);
        oe(w);
        oe(w);
    }
    ks(w, "schedulerName", "default-scheduler");
    ka(w, "tolerations");
    static const char *taints[] = {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"};
    for (unsigned t = 0; t < 2; t++) {
        ob(w);
        ks(w, "key", taints[t]);
        ks(w, "operator", "Exists");
        ks(w, "effect", "NoExecute");
        ki(w, "tolerationSeconds", 300);
        oe(w);
    }
    ae(w);
    ki(w, "priority", 0);
    kb(w, "enableServiceLinks", 1);
    ks(w, "preemptionPolicy", "PreemptLowerPriority");
    oe(w);
}

static void pod_object(writer *w, const workload *wl, const char *name, unsigned budget, int created, int risky)
{
    /* budget ~ target bytes: containers and env vars scale with it */
    unsigned ncont = budget > 11000 ? 2 + (unsigned)chance(30) : (budget > 7000 ? 1 + rn(2) : 1);
    /* fitted on the output (least squares over 200k events, sd ~0.6 KB): a pod
     * is ~2.45 KB + ~1.1 KB per container + ~79 bytes per env var per container */
    int left = (int)budget - 2450 - (int)ncont * 1100;
    unsigned nenv = left > 0 ? (unsigned)left / (ncont * 79) : 0;
    if (nenv < 2)
        nenv = 2;
    if (nenv > 200)
        nenv = 200;
    ob(w);
    ks(w, "kind", "Pod");
    ks(w, "apiVersion", "v1");
    ko(w, "metadata");
    ks(w, "name", name);
    ks(w, "generateName", fmt("%s-", wl->name));
    ks(w, "namespace", wl->ns);
    if (created) {
        ks(w, "uid", uuid());
        ks(w, "resourceVersion", fmt("%ld", resource_version));
        ks(w, "creationTimestamp", ts_s(now_us));
    } else {
        k_(w, "creationTimestamp");
        null_(w);
    }
    labels_app(w, wl);
    ko(w, "annotations");
    ks(w, "kubectl.kubernetes.io/restartedAt", ts_s(now_us - 86400000000ull));
    if (chance(40))
        ks(w, "prometheus.io/scrape", "true"), ks(w, "prometheus.io/port", "9090");
    oe(w);
    ka(w, "ownerReferences");
    ob(w);
    ks(w, "apiVersion", "apps/v1");
    ks(w, "kind", strcmp(wl->kind, "Deployment") ? wl->kind : "ReplicaSet");
    ks(w, "name", fmt("%s-%s", wl->name, suffix(10)));
    ks(w, "uid", uuid());
    kb(w, "controller", 1);
    kb(w, "blockOwnerDeletion", 1);
    oe(w);
    ae(w);
    if (created)
        managed_fields(w, "kube-controller-manager", "Update", now_us, 1);
    oe(w);
    pod_spec(w, wl, ncont, nenv, risky, created && chance(30));
    ko(w, "status");
    ks(w, "phase", "Pending");
    if (created)
        ks(w, "qosClass", "Burstable");
    oe(w);
    oe(w);
}

static void deployment_object(writer *w, const workload *wl, int full)
{
    ob(w);
    ks(w, "kind", "Deployment");
    ks(w, "apiVersion", "apps/v1");
    ko(w, "metadata");
    ks(w, "name", wl->name);
    ks(w, "namespace", wl->ns);
    ks(w, "uid", uuid());
    ks(w, "resourceVersion", fmt("%ld", resource_version - rn(1000)));
    ki(w, "generation", 1 + rn(40));
    ks(w, "creationTimestamp", ts_s(now_us - 86400ull * 1000000 * (1 + rn(200))));
    labels_app(w, wl);
    ko(w, "annotations");
    ks(w, "deployment.kubernetes.io/revision", fmt("%u", 1 + rn(30)));
    if (full && chance(50))
        ks(w, "kubectl.kubernetes.io/last-applied-configuration",
           fmt("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"annotations\":{},\"name\":\"%s\","
               "\"namespace\":\"%s\"},\"spec\":{\"replicas\":%u,\"selector\":{\"matchLabels\":{\"app.kubernetes.io/name\":"
               "\"%s\"}},\"template\":{\"metadata\":{\"labels\":{\"app.kubernetes.io/name\":\"%s\"}},\"spec\":"
               "{\"containers\":[{\"image\":\"%s\",\"name\":\"app\"}]}}}}\n",
               wl->name, wl->ns, wl->replicas, wl->name, wl->name, wl->image));
    oe(w);
    oe(w);
    ko(w, "spec");
    ki(w, "replicas", wl->replicas);
    ko(w, "selector");
    ko(w, "matchLabels");
    ks(w, "app.kubernetes.io/name", wl->name);
    oe(w);
    oe(w);
    ko(w, "template");
    ko(w, "metadata");
    k_(w, "creationTimestamp");
    null_(w);
    labels_app(w, wl);
    oe(w);
    pod_spec(w, wl, 1, full ? 4 + rn(6) : 1, 0, 0);
    oe(w);
    ko(w, "strategy");
    ks(w, "type", "RollingUpdate");
    ko(w, "rollingUpdate");
    ks(w, "maxUnavailable", "25%");
    ks(w, "maxSurge", "25%");
    oe(w);
    oe(w);
    ki(w, "revisionHistoryLimit", 10);
    ki(w, "progressDeadlineSeconds", 600);
    oe(w);
    ko(w, "status");
    ki(w, "observedGeneration", 1 + rn(40));
    ki(w, "replicas", wl->replicas);
    ki(w, "updatedReplicas", wl->replicas);
    ki(w, "readyReplicas", wl->replicas);
    ki(w, "availableReplicas", wl->replicas);
    oe(w);
    oe(w);
}

static void configmap_object(writer *w, const char *name, const char *ns, unsigned size)
{
    ob(w);
    ks(w, "kind", "ConfigMap");
    ks(w, "apiVersion", "v1");
    meta(w, name, ns, NULL, 1);
    ko(w, "data");
    if (!strcmp(name, "kube-root-ca.crt")) {
        ks(w, "ca.crt",
           "-----BEGIN CERTIFICATE-----\nMIIC/jCCAeagAwIBAgIBADANBgkqhkiG9w0BAQsFADAVMRMwEQYDVQQDEwprdWJl\ncm5ldGVzMB4XDTI0"
           "MDEwMTAwMDAwMFoXDTM0MDEwMTAwMDAwMFowFTETMBEGA1UE\nAxMKa3ViZXJuZXRlczCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBAL\n"
           "-----END CERTIFICATE-----\n");
    } else {
        unsigned left = size;
        unsigned i = 0;
        while (left > 80) {
            const char *v = fmt("# generated\nlog_level: info\nlisten: \"0.0.0.0:%u\"\nupstream: http://%s.svc:80/?a=1&b=2\n"
                                "limits:\n  rps: %u\n  burst: %u\n",
                                8000 + rn(1000), name, rn(1000), rn(5000));
            ks(w, i == 0 ? "config.yaml" : fmt("extra-%u.yaml", i), v);
            left -= left > 160 ? 160 : left;
            i++;
        }
    }
    oe(w);
    oe(w);
}

static void secret_object(writer *w, const char *name, const char *ns)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    ob(w);
    ks(w, "kind", "Secret");
    ks(w, "apiVersion", "v1");
    meta(w, name, ns, NULL, 1);
    ko(w, "data");
    unsigned n = 1 + rn(3);
    for (unsigned i = 0; i < n; i++) {
        char v[257];
        unsigned len = 16 + rn(60) * 4;
        for (unsigned j = 0; j < len; j++)
            v[j] = b64[rn(64)];
        v[len] = 0;
        ks(w, i == 0 ? "password" : (i == 1 ? "username" : "tls.key"), v);
    }
    oe(w);
    ks(w, "type", "Opaque");
    oe(w);
}

static void lease_object(writer *w, const char *name, const char *ns, const char *holder)
{
    ob(w);
    ks(w, "kind", "Lease");
    ks(w, "apiVersion", "coordination.k8s.io/v1");
    ko(w, "metadata");
    ks(w, "name", name);
    ks(w, "namespace", ns);
    ks(w, "uid", uuid());
    ks(w, "resourceVersion", fmt("%ld", resource_version));
    ks(w, "creationTimestamp", ts_s(now_us - 86400ull * 1000000 * 20));
    if (!strcmp(ns, "kube-node-lease")) {
        ka(w, "ownerReferences");
        ob(w);
        ks(w, "apiVersion", "v1");
        ks(w, "kind", "Node");
        ks(w, "name", name);
        ks(w, "uid", uuid());
        oe(w);
        ae(w);
    }
    managed_fields(w, "kubelet", "Update", now_us, 0);
    oe(w);
    ko(w, "spec");
    ks(w, "holderIdentity", holder);
    ki(w, "leaseDurationSeconds", 40);
    ks(w, "renewTime", ts_us(now_us));
    oe(w);
    oe(w);
}

static void service_object(writer *w, const workload *wl)
{
    ob(w);
    ks(w, "kind", "Service");
    ks(w, "apiVersion", "v1");
    meta(w, wl->name, wl->ns, wl, 1);
    ko(w, "spec");
    ka(w, "ports");
    ob(w);
    ks(w, "name", "http");
    ks(w, "protocol", "TCP");
    ki(w, "port", 80);
    ki(w, "targetPort", 8080);
    oe(w);
    ae(w);
    ko(w, "selector");
    ks(w, "app.kubernetes.io/name", wl->name);
    oe(w);
    ks(w, "clusterIP", fmt("172.20.%u.%u", rn(256), 1 + rn(254)));
    ks(w, "type", chance(80) ? "ClusterIP" : "LoadBalancer");
    ks(w, "sessionAffinity", "None");
    oe(w);
    ko(w, "status");
    ko(w, "loadBalancer");
    oe(w);
    oe(w);
    oe(w);
}

static void endpointslice_object(writer *w, const workload *wl)
{
    ob(w);
    ks(w, "kind", "EndpointSlice");
    ks(w, "apiVersion", "discovery.k8s.io/v1");
    meta(w, fmt("%s-%s", wl->name, suffix(5)), wl->ns, wl, 1);
    ks(w, "addressType", "IPv4");
    ka(w, "endpoints");
    for (unsigned i = 0; i < wl->replicas && i < 6; i++) {
        ob(w);
        ka(w, "addresses");
        s_(w, fmt("10.0.%u.%u", 64 + rn(64), 2 + rn(250)));
        ae(w);
        ko(w, "conditions");
        kb(w, "ready", 1);
        kb(w, "serving", 1);
        kb(w, "terminating", 0);
        oe(w);
        ko(w, "targetRef");
        ks(w, "kind", "Pod");
        ks(w, "namespace", wl->ns);
        ks(w, "name", pod_name(wl));
        ks(w, "uid", uuid());
        oe(w);
        ks(w, "nodeName", node_name(rn(NNODES)));
        oe(w);
    }
    ae(w);
    ka(w, "ports");
    ob(w);
    ks(w, "name", "http");
    ks(w, "protocol", "TCP");
    ki(w, "port", 8080);
    oe(w);
    ae(w);
    oe(w);
}

static void rbac_object(writer *w, int r, const char *name, const char *ns)
{
    ob(w);
    ks(w, "kind", resources[r].kind);
    ks(w, "apiVersion", "rbac.authorization.k8s.io/v1");
    meta(w, name, ns, NULL, 1);
    if (r == R_ROLES || r == R_CLUSTERROLES) {
        ka(w, "rules");
        unsigned n = 1 + rn(4);
        for (unsigned i = 0; i < n; i++) {
            ob(w);
            ka(w, "apiGroups");
            s_(w, i == 0 ? "" : "apps");
            ae(w);
            ka(w, "resources");
            s_(w, i == 0 ? "pods" : "deployments");
            if (chance(30))
                s_(w, chance(50) ? "secrets" : "pods/exec");
            ae(w);
            ka(w, "verbs");
            if (chance(15)) {
                s_(w, "*");
            } else {
                s_(w, "get");
                s_(w, "list");
                s_(w, "watch");
            }
            ae(w);
            oe(w);
        }
        ae(w);
    } else {
        ka(w, "subjects");
        ob(w);
        ks(w, "kind", chance(60) ? "ServiceAccount" : "Group");
        ks(w, "name", chance(60) ? "default" : "system:authenticated");
        if (ns)
            ks(w, "namespace", ns);
        oe(w);
        ae(w);
        ko(w, "roleRef");
        ks(w, "apiGroup", "rbac.authorization.k8s.io");
        ks(w, "kind", r == R_ROLEBINDINGS && chance(50) ? "Role" : "ClusterRole");
        ks(w, "name", chance(20) ? "cluster-admin" : name);
        oe(w);
    }
    oe(w);
}

static void event_object(writer *w, const workload *wl, unsigned node)
{
    static const char *reasons[][2] = {
        {"Pulled", "Container image \"%s\" already present on machine"},
        {"Created", "Created container app"},
        {"Started", "Started container app"},
        {"Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503"},
        {"BackOff", "Back-off restarting failed container app in pod %s"},
        {"Scheduled", "Successfully assigned %s to node"},
        {"Killing", "Stopping container app"},
    };
    unsigned r = rn(NELEM(reasons));
    const char *pod = pod_name(wl);
    ob(w);
    ks(w, "kind", "Event");
    ks(w, "apiVersion", "v1");
    ko(w, "metadata");
    ks(w, "name", fmt("%s.%llx", pod, (unsigned long long)(rnd64() & 0xffffffffffffull)));
    ks(w, "namespace", wl->ns);
    k_(w, "creationTimestamp");
    null_(w);
    oe(w);
    ko(w, "involvedObject");
    ks(w, "kind", "Pod");
    ks(w, "namespace", wl->ns);
    ks(w, "name", pod);
    ks(w, "uid", uuid());
    ks(w, "apiVersion", "v1");
    ks(w, "resourceVersion", fmt("%ld", resource_version - rn(1000)));
    ks(w, "fieldPath", "spec.containers{app}");
    oe(w);
    ks(w, "reason", reasons[r][0]);
    ks(w, "message", strchr(reasons[r][1], '%') ? fmt(reasons[r][1], r == 0 ? wl->image : pod) : reasons[r][1]);
    ko(w, "source");
    ks(w, "component", "kubelet");
    ks(w, "host", node_name(node));
    oe(w);
    ks(w, "firstTimestamp", ts_s(now_us));
    ks(w, "lastTimestamp", ts_s(now_us));
    ki(w, "count", 1);
    ks(w, "type", r == 3 || r == 4 ? "Warning" : "Normal");
    ks(w, "eventTime", "0001-01-01T00:00:00Z");  /* Go's zero time, as seen in the wild */
    ks(w, "reportingComponent", "kubelet");
    ks(w, "reportingInstance", node_name(node));
    oe(w);
}

static void node_object(writer *w, unsigned node, int full)
{
    static const char *conds[] = {"MemoryPressure", "DiskPressure", "PIDPressure", "Ready"};
    ob(w);
    ks(w, "kind", "Node");
    ks(w, "apiVersion", "v1");
    ko(w, "metadata");
    ks(w, "name", node_name(node));
    ks(w, "uid", node_uid(node));
    ks(w, "resourceVersion", fmt("%ld", resource_version));
    ko(w, "labels");
    ks(w, "kubernetes.io/hostname", node_name(node));
    ks(w, "kubernetes.io/os", "linux");
    ks(w, "kubernetes.io/arch", "amd64");
    ks(w, "node.kubernetes.io/instance-type", "m6i.2xlarge");
    ks(w, "topology.kubernetes.io/region", "eu-west-1");
    ks(w, "topology.kubernetes.io/zone", fmt("eu-west-1%c", 'a' + node % 3));
    oe(w);
    oe(w);
    ko(w, "status");
    if (full) {
        ko(w, "capacity");
        ks(w, "cpu", "8");
        ks(w, "memory", "32386148Ki");
        ks(w, "pods", "110");
        oe(w);
    }
    ka(w, "conditions");
    for (unsigned c = 0; c < 4; c++) {
        ob(w);
        ks(w, "type", conds[c]);
        ks(w, "status", c == 3 ? "True" : "False");
        ks(w, "lastHeartbeatTime", ts_s(now_us));
        ks(w, "lastTransitionTime", ts_s(now_us - 86400ull * 1000000 * 3));
        ks(w, "reason", c == 3 ? "KubeletReady" : fmt("KubeletHasNo%s", conds[c]));
        ks(w, "message", c == 3 ? "kubelet is posting ready status" : "kubelet has sufficient resources");
        oe(w);
    }
    ae(w);
    if (full) {
        ka(w, "images");
        unsigned n = 8 + rn(24);
        for (unsigned i = 0; i < n; i++) {
            const workload *wl = &workloads[(node + i) % NELEM(workloads)];
            ob(w);
            ka(w, "names");
            s_(w, fmt("%s@sha256:%016llx%016llx", wl->image, (unsigned long long)rnd64(), (unsigned long long)rnd64()));
            s_(w, wl->image);
            ae(w);
            ki(w, "sizeBytes", 10000000 + rn(400000000));
            oe(w);
        }
        ae(w);
    }
    oe(w);
    oe(w);
}

static void review_object(writer *w, int r, const user *u, int response)
{
    ob(w);
    ks(w, "kind", resources[r].kind);
    ks(w, "apiVersion", r == R_TOKENREVIEWS ? "authentication.k8s.io/v1" : "authorization.k8s.io/v1");
    ko(w, "metadata");
    k_(w, "creationTimestamp");
    null_(w);
    oe(w);
    ko(w, "spec");
    if (r == R_TOKENREVIEWS) {
        ks(w, "token", fmt("eyJhbGciOiJSUzI1NiIsImtpZCI6I%s.eyJhdWQiOlsiaHR0cHM6Ly9rdWJlcm5ldGVzLmRlZmF1bHQuc3ZjIl0%s.%s",
                           suffix(12), suffix(12), suffix(12)));
        ka(w, "audiences");
        s_(w, "https://kubernetes.default.svc");
        ae(w);
    } else {
        ko(w, "resourceAttributes");
        ks(w, "namespace", u->wl ? u->wl->ns : "default");
        ks(w, "verb", "get");
        ks(w, "group", "metrics.k8s.io");
        ks(w, "resource", "pods");
        oe(w);
        ks(w, "user", fmt("system:serviceaccount:monitoring:%s", "prometheus-server"));
        ka(w, "groups");
        s_(w, "system:serviceaccounts");
        s_(w, "system:authenticated");
        ae(w);
    }
    oe(w);
    ko(w, "status");
    if (response) {
        if (r == R_TOKENREVIEWS) {
            kb(w, "authenticated", 1);
            ko(w, "user");
            ks(w, "username", "system:serviceaccount:monitoring:prometheus-server");
            ks(w, "uid", uuid());
            oe(w);
        } else {
            kb(w, "allowed", 1);
            ks(w, "reason", "RBAC: allowed by ClusterRoleBinding \"prometheus-server\" of ClusterRole \"prometheus-server\" "
                            "to ServiceAccount \"prometheus-server/monitoring\"");
        }
    }
    oe(w);
    oe(w);
}

static void generic_object(writer *w, int r, const char *name, const char *ns, const workload *wl)
{
    ob(w);
    ks(w, "kind", resources[r].kind);
    ks(w, "apiVersion", *resources[r].group ? fmt("%s/%s", resources[r].group, resources[r].version) : "v1");
    meta(w, name, ns, wl, 1);
    if (r == R_REPLICASETS || r == R_DAEMONSETS || r == R_STATEFULSETS) {
        ko(w, "spec");
        ki(w, "replicas", wl ? wl->replicas : 1);
        oe(w);
        ko(w, "status");
        ki(w, "replicas", wl ? wl->replicas : 1);
        ki(w, "readyReplicas", wl ? wl->replicas : 1);
        ki(w, "observedGeneration", 1 + rn(40));
        oe(w);
    } else if (r == R_PVCS) {
        ko(w, "spec");
        ka(w, "accessModes");
        s_(w, "ReadWriteOnce");
        ae(w);
        ko(w, "resources");
        ko(w, "requests");
        ks(w, "storage", "20Gi");
        oe(w);
        oe(w);
        ks(w, "storageClassName", "gp3");
        oe(w);
    } else if (r == R_SERVICEACCOUNTS) {
        kb(w, "automountServiceAccountToken", chance(50));
    }
    oe(w);
}

/* ------------------------------------------------------------ the event */

static struct {
    unsigned long verbs[V_COUNT], levels[3], users[5], stages[4], res[R_COUNT], codes403, subres, hostpath;
    /* pod creates that carry a body: count and byte sizes (set per event, summed by main) */
    int pod_create_body;
    unsigned long podc_n;
    unsigned long long podc_bytes;
    uint32_t podc_min, podc_max;
} mix;

static int level_rr; /* the event being written is at RequestResponse level */

static void object_body(writer *w, int r, int verb, const user *u, const workload *wl, const char *name,
                        const char *ns, int response, int risky)
{
    switch (r) {
    case R_PODS: {
        /* a pod create event with bodies lands at 5-15 KB */
        unsigned budget;
        if (verb == V_CREATE)
            /* ~1.2 KB of envelope around one body (Request) or two (RequestResponse);
             * the smallest pod (one container, two env vars) is ~3.7 KB */
            budget = level_rr ? 3800 + rn(2700) : 4600 + rn(8600);
        else
            budget = 5500 + rn(11000);
        pod_object(w, wl, name, budget, response || verb != V_CREATE, risky);
        break;
    }
    case R_DEPLOYMENTS: deployment_object(w, wl, verb == V_CREATE || chance(30)); break;
    case R_CONFIGMAPS: configmap_object(w, name, ns, 100 + rn(chance(25) ? 5000 : 800)); break;
    case R_SECRETS: secret_object(w, name, ns); break;
    case R_LEASES:
        lease_object(w, name, ns, u->kind == U_NODE ? node_name(u->node) : fmt("%s_%s", name, uuid()));
        break;
    case R_SERVICES: service_object(w, wl); break;
    case R_ENDPOINTSLICES: endpointslice_object(w, wl); break;
    case R_ROLES: case R_CLUSTERROLES: case R_ROLEBINDINGS: case R_CLUSTERROLEBINDINGS:
        rbac_object(w, r, name, ns);
        break;
    case R_EVENTS: event_object(w, wl, u->node); break;
    case R_NODES: node_object(w, u->kind == U_NODE ? u->node : rn(NNODES), response && chance(80)); break;
    case R_TOKENREVIEWS: case R_SARS: review_object(w, r, u, response); break;
    default: generic_object(w, r, name, ns, wl);
    }
}

static void list_body(writer *w, int r, const user *u, const workload *wl, const char *ns)
{
    ob(w);
    ks(w, "kind", fmt("%sList", resources[r].kind));
    ks(w, "apiVersion", *resources[r].group ? fmt("%s/%s", resources[r].group, resources[r].version) : "v1");
    ko(w, "metadata");
    ks(w, "resourceVersion", fmt("%ld", resource_version));
    oe(w);
    ka(w, "items");
    unsigned n = rn(chance(50) ? 3 : 9);
    for (unsigned i = 0; i < n; i++) {
        switch (r) {
        case R_CONFIGMAPS: configmap_object(w, fmt("%s-config", wl->name), ns, 100 + rn(400)); break;
        case R_SECRETS: secret_object(w, fmt("%s-token-%s", wl->name, suffix(5)), ns); break;
        case R_SERVICES: service_object(w, wl); break;
        case R_ENDPOINTSLICES: endpointslice_object(w, wl); break;
        case R_LEASES: lease_object(w, wl->name, ns, uuid()); break;
        case R_PODS:
            if (chance(50)) {
                pod_object(w, wl, pod_name(wl), 3500 + rn(2500), 1, 0);
                break;
            }
            /* fall through */
        case R_DEPLOYMENTS: case R_NODES:
            /* big kinds: list metadata only (as a PartialObjectMetadataList would) */
            ob(w);
            meta(w, r == R_NODES ? node_name(rn(NNODES)) : pod_name(wl), r == R_NODES ? NULL : ns, wl, 1);
            oe(w);
            break;
        default: generic_object(w, r, fmt("%s-%s", wl->name, suffix(4)), ns, wl);
        }
    }
    ae(w);
    oe(w);
    (void)u;
}

static void status_failure(writer *w, int code, const char *reason, const char *msg, const char *name, const char *kind)
{
    ko(w, "responseStatus");
    ko(w, "metadata");
    oe(w);
    ks(w, "status", "Failure");
    ks(w, "message", msg);
    ks(w, "reason", reason);
    if (name || kind) {
        ko(w, "details");
        if (name)
            ks(w, "name", name);
        if (kind)
            ks(w, "kind", kind);
        oe(w);
    }
    ki(w, "code", code);
    oe(w);
}

static void gen_event(writer *w)
{
    /* who */
    static const unsigned user_w[] = {480, 310, 130, 75, 5};
    int ukind = (int)pick(user_w, NELEM(user_w));
    user u;
    make_user(&u, ukind);

    /* what */
    int verb = (int)pick(verb_weights, V_COUNT);
    int r = (int)pick(res_w[verb], R_COUNT);
    const char *subresource = NULL;
    /* kubelets and the controller manager take and renew leases */
    if (ukind == U_NODE && (verb == V_UPDATE || (verb == V_GET && chance(50))) && chance(60))
        r = R_LEASES;
    if (ukind == U_CTRL && (verb == V_UPDATE || (verb == V_GET && chance(50))) && chance(50))
        r = R_LEASES;
    if (ukind == U_NODE && verb == V_PATCH && chance(60)) {
        r = R_NODES;
        subresource = "status";
    }
    if (ukind == U_NODE && verb == V_CREATE && chance(30)) {
        r = R_SERVICEACCOUNTS;
        subresource = "token";
    }
    if (ukind == U_CTRL && verb == V_CREATE && !strcmp(u.name, "system:kube-scheduler") && chance(70)) {
        r = R_PODS;
        subresource = "binding";
    }
    if (r == R_PODS && !subresource) {
        if ((verb == V_CREATE || verb == V_GET) && chance(ukind == U_HUMAN ? 40 : 4))
            subresource = PICK(((const char *[]){"exec", "exec", "attach", "portforward", "log"}));
        else if (verb == V_PATCH && chance(60))
            subresource = "status";
        else if (verb == V_CREATE && chance(15))
            subresource = "eviction";
    }
    if (subresource && (!strcmp(subresource, "exec") || !strcmp(subresource, "attach") ||
                        !strcmp(subresource, "portforward")) && chance(70)) {
        ukind = U_HUMAN;
        make_user(&u, ukind);
    }
    const res *rs = &resources[r];

    /* which object */
    const workload *wl = u.wl ? u.wl : &PICK(workloads);
    if (!chance(60))
        wl = &PICK(workloads);
    const char *ns = rs->namespaced ? wl->ns : NULL;
    const char *name = NULL;
    switch (r) {
    case R_PODS: name = pod_name(wl); break;
    case R_CONFIGMAPS:
        name = chance(30) ? "kube-root-ca.crt" : fmt("%s-config", wl->name);
        break;
    case R_SECRETS: name = chance(50) ? fmt("%s-credentials", wl->name) : fmt("sh.helm.release.v1.%s.v%u", wl->name, 1 + rn(20)); break;
    case R_LEASES:
        if (ukind == U_NODE) {
            ns = "kube-node-lease";
            name = node_name(u.node);
        } else if (ukind == U_CTRL) {
            ns = "kube-system";
            name = strstr(u.name, "scheduler") ? "kube-scheduler" : "kube-controller-manager";
        } else {
            name = fmt("%s-leader-election", wl->name);
        }
        break;
    case R_NODES: name = node_name(ukind == U_NODE ? u.node : rn(NNODES)); break;
    case R_NAMESPACES: name = wl->ns; break;
    case R_SERVICEACCOUNTS: name = wl->sa; break;
    case R_EVENTS: name = fmt("%s.%llx", pod_name(wl), (unsigned long long)(rnd64() & 0xffffffffffull)); break;
    case R_ENDPOINTSLICES: name = fmt("%s-%s", wl->name, suffix(5)); break;
    case R_CLUSTERROLES: case R_CLUSTERROLEBINDINGS:
        name = chance(50) ? fmt("system:controller:%s", PICK(controller_sas)) : wl->name;
        break;
    case R_CRDS: name = PICK(((const char *[]){"certificates.cert-manager.io", "applications.argoproj.io",
                                               "ciliumnetworkpolicies.cilium.io", "servicemonitors.monitoring.coreos.com"}));
        break;
    case R_TOKENREVIEWS: case R_SARS: name = NULL; break;
    default: name = wl->name;
    }
    int collection = verb == V_LIST || verb == V_WATCH;
    if (collection || r == R_TOKENREVIEWS || r == R_SARS)
        name = NULL;
    char namebuf[256];
    if (name) {
        snprintf(namebuf, sizeof namebuf, "%s", name);
        name = namebuf;
    }
    if (collection && rs->namespaced && chance(30))
        ns = NULL; /* cluster-wide list/watch */

    /* level and stage */
    static const unsigned level_w[] = {680, 170, 150};
    int level = (int)pick(level_w, 3);
    level_rr = level == 2;
    static const char *levels[] = {"Metadata", "Request", "RequestResponse"};
    int stage = 0; /* 0 ResponseComplete, 1 RequestReceived, 2 ResponseStarted, 3 Panic */
    if (chance(3))
        stage = 1;
    else if (verb == V_WATCH && chance(50))
        stage = 2;
    else if (subresource && (!strcmp(subresource, "exec") || !strcmp(subresource, "attach") ||
                             !strcmp(subresource, "portforward")) && chance(50))
        stage = 2;
    static const char *stages[] = {"ResponseComplete", "RequestReceived", "ResponseStarted", "Panic"};

    /* outcome */
    int code = verb == V_CREATE ? 201 : 200;
    if (subresource && !strcmp(subresource, "exec") && stage == 2)
        code = 101;
    int forbidden = ukind == U_ANON ? chance(90) : chance(ukind == U_HUMAN ? 8 : 1);
    if (forbidden)
        code = 403;
    else if (verb == V_GET && chance(4))
        code = 404;
    else if (verb == V_UPDATE && chance(5))
        code = 409;
    else if (verb == V_CREATE && r == R_PODS && !subresource && chance(5))
        code = 422;
    int risky = r == R_PODS && verb == V_CREATE && !subresource && chance(12);

    /* time */
    now_us += 1 + rn(2500) + (chance(5) ? rn(20000) : 0);
    resource_version += 1 + rn(3);
    uint64_t t0 = now_us;
    uint64_t lat = stage == 1 ? 0 : (verb == V_WATCH && stage == 0) ? 60000000ull + rn(540000000) : 300 + rn(30000);

    /* the URI */
    char uri[1024];
    const char *base = *rs->group ? fmt("/apis/%s/%s", rs->group, rs->version) : "/api/v1";
    int un = snprintf(uri, sizeof uri, "%s", base);
    if (ns)
        un += snprintf(uri + un, sizeof uri - (size_t)un, "/namespaces/%s", ns);
    un += snprintf(uri + un, sizeof uri - (size_t)un, "/%s", rs->resource);
    if (name)
        un += snprintf(uri + un, sizeof uri - (size_t)un, "/%s", name);
    if (subresource)
        un += snprintf(uri + un, sizeof uri - (size_t)un, "/%s", subresource);
    if (verb == V_WATCH) {
        un += snprintf(uri + un, sizeof uri - (size_t)un,
                       "?allowWatchBookmarks=true&resourceVersion=%ld&timeout=%um%us&timeoutSeconds=%u&watch=true",
                       resource_version - rn(5000), 5 + rn(5), rn(60), 300 + rn(300));
    } else if (verb == V_LIST) {
        if (chance(40))
            un += snprintf(uri + un, sizeof uri - (size_t)un, "?limit=500&resourceVersion=0");
        else if (chance(50))
            un += snprintf(uri + un, sizeof uri - (size_t)un, "?labelSelector=app.kubernetes.io%%2Fname%%3D%s&limit=500",
                           wl->name);
        else
            un += snprintf(uri + un, sizeof uri - (size_t)un, "?fieldSelector=spec.nodeName%%3D%s", node_name(rn(NNODES)));
    } else if (subresource && !strcmp(subresource, "exec")) {
        un += snprintf(uri + un, sizeof uri - (size_t)un, "?command=%s&container=app&stdin=true&stdout=true&tty=true",
                       PICK(((const char *[]){"sh", "bash", "cat&command=%2Fetc%2Fshadow", "id",
                                              "sh&command=-c&command=curl+-s+http%3A%2F%2F169.254.169.254%2Flatest%2Fmeta-data%2F"})));
    } else if (subresource && !strcmp(subresource, "log")) {
        un += snprintf(uri + un, sizeof uri - (size_t)un, "?container=app&follow=true&tailLines=100");
    } else if (verb == V_PATCH || (verb == V_UPDATE && chance(30)) || (verb == V_CREATE && chance(20))) {
        un += snprintf(uri + un, sizeof uri - (size_t)un, "?fieldManager=%s%s", verb == V_PATCH && chance(40) ? "kubectl-client-side-apply" : "kubectl",
                       verb == V_PATCH && chance(30) ? "&force=true" : "");
    } else if (verb == V_GET && r == R_NODES && ukind == U_NODE && chance(50)) {
        un += snprintf(uri + un, sizeof uri - (size_t)un, "?resourceVersion=0&timeout=10s");
    }
    (void)un;
    /* the anonymous scanner probes non-resource URLs too */
    int nonresource = ukind == U_ANON && chance(50);
    if (nonresource)
        snprintf(uri, sizeof uri, "%s", PICK(((const char *[]){"/version", "/healthz", "/apis", "/.env", "/api/v1/pods?x=<script>"})));

    /* write */
    w->after_key = 0;
    ob(w);
    ks(w, "kind", "Event");
    ks(w, "apiVersion", "audit.k8s.io/v1");
    ks(w, "level", levels[level]);
    ks(w, "auditID", uuid());
    ks(w, "stage", stages[stage]);
    ks(w, "requestURI", uri);
    ks(w, "verb", verb_names[verb]);
    write_user(w, &u);
    if (ukind == U_HUMAN && chance(3)) {
        ko(w, "impersonatedUser");
        ks(w, "username", "system:serviceaccount:ci:gitlab-runner");
        ka(w, "groups");
        s_(w, "system:serviceaccounts");
        s_(w, "system:authenticated");
        ae(w);
        oe(w);
    }
    ka(w, "sourceIPs");
    s_(w, u.ip);
    if (ukind == U_HUMAN && chance(30))
        s_(w, "10.0.0.12");
    ae(w);
    ks(w, "userAgent", u.agent);
    if (!nonresource) {
        ko(w, "objectRef");
        ks(w, "resource", rs->resource);
        if (ns)
            ks(w, "namespace", ns);
        if (name)
            ks(w, "name", name);
        if (verb == V_UPDATE || verb == V_DELETE || (verb == V_GET && chance(10)))
            ks(w, "uid", uuid());
        if (*rs->group)
            ks(w, "apiGroup", rs->group);
        ks(w, "apiVersion", rs->version);
        if (verb == V_UPDATE)
            ks(w, "resourceVersion", fmt("%ld", resource_version - rn(10)));
        if (subresource)
            ks(w, "subresource", subresource);
        oe(w);
    }
    if (stage != 1) {
        if (code == 403) {
            const char *msg;
            if (nonresource)
                msg = fmt("forbidden: User \"system:anonymous\" cannot get path \"%s\"", uri);
            else
                msg = fmt("%s%s%s is forbidden: User \"%s\" cannot %s resource \"%s%s%s\" in API group \"%s\"%s%s%s",
                          rs->resource, name ? " \"" : "", name ? fmt("%s\"", name) : "", u.name, verb_names[verb],
                          rs->resource, subresource ? "/" : "", subresource ? subresource : "", rs->group,
                          ns ? " in the namespace \"" : "", ns ? ns : "", ns ? "\"" : " at the cluster scope");
            status_failure(w, 403, "Forbidden", msg, name, nonresource ? NULL : rs->resource);
        } else if (code == 404) {
            status_failure(w, 404, "NotFound", fmt("%s \"%s\" not found", rs->resource, name ? name : ""), name, rs->resource);
        } else if (code == 409) {
            status_failure(w, 409, "Conflict",
                           fmt("Operation cannot be fulfilled on %s.%s \"%s\": the object has been modified; please apply your "
                               "changes to the latest version and try again",
                               rs->resource, *rs->group ? rs->group : "", name ? name : ""),
                           name, rs->resource);
        } else if (code == 422) {
            status_failure(w, 422, "Invalid",
                           fmt("Pod \"%s\" is invalid: spec.containers[0].resources.requests: Invalid value: \"2Gi\": must be "
                               "less than or equal to memory limit of 1Gi",
                               name ? name : ""),
                           name, "Pod");
        } else {
            ko(w, "responseStatus");
            ko(w, "metadata");
            oe(w);
            ki(w, "code", code);
            oe(w);
        }
    }
    int writes = verb == V_CREATE || verb == V_UPDATE || verb == V_PATCH || verb == V_DELETE;
    int exec_like = subresource && (!strcmp(subresource, "exec") || !strcmp(subresource, "attach") ||
                                    !strcmp(subresource, "portforward") || !strcmp(subresource, "log"));
    if (level >= 1 && writes && !exec_like && !nonresource) {
        k_(w, "requestObject");
        if (verb == V_DELETE) {
            ob(w);
            ks(w, "kind", "DeleteOptions");
            ks(w, "apiVersion", "meta.k8s.io/__internal");
            ks(w, "propagationPolicy", chance(70) ? "Background" : "Foreground");
            if (chance(30))
                ki(w, "gracePeriodSeconds", 0);
            oe(w);
        } else if (verb == V_PATCH) {
            ob(w);
            if (r == R_NODES || (subresource && !strcmp(subresource, "status"))) {
                ko(w, "status");
                ka(w, "$setElementOrder/conditions");
                static const char *ct[] = {"MemoryPressure", "DiskPressure", "PIDPressure", "Ready"};
                for (unsigned c = 0; c < 4; c++) {
                    ob(w);
                    ks(w, "type", ct[c]);
                    oe(w);
                }
                ae(w);
                ka(w, "conditions");
                for (unsigned c = 0; c < 4; c++) {
                    ob(w);
                    ks(w, "lastHeartbeatTime", ts_s(now_us));
                    ks(w, "type", ct[c]);
                    oe(w);
                }
                ae(w);
                oe(w);
            } else if (r == R_DEPLOYMENTS) {
                ko(w, "spec");
                ko(w, "template");
                ko(w, "metadata");
                ko(w, "annotations");
                ks(w, "kubectl.kubernetes.io/restartedAt", ts_s(now_us));
                oe(w);
                oe(w);
                oe(w);
                oe(w);
            } else {
                ko(w, "metadata");
                ko(w, "annotations");
                ks(w, "example.com/last-seen", ts_us(now_us));
                ks(w, "note", "patched by <automation> & friends");
                oe(w);
                oe(w);
            }
            oe(w);
        } else if (subresource && !strcmp(subresource, "binding")) {
            ob(w);
            ks(w, "kind", "Binding");
            ks(w, "apiVersion", "v1");
            meta(w, name ? name : "", ns, NULL, 0);
            ko(w, "target");
            ks(w, "kind", "Node");
            ks(w, "name", node_name(rn(NNODES)));
            oe(w);
            oe(w);
        } else if (subresource && !strcmp(subresource, "token")) {
            ob(w);
            ks(w, "kind", "TokenRequest");
            ks(w, "apiVersion", "authentication.k8s.io/v1");
            meta(w, wl->sa, wl->ns, NULL, 0);
            ko(w, "spec");
            ka(w, "audiences");
            s_(w, "https://kubernetes.default.svc.cluster.local");
            ae(w);
            ki(w, "expirationSeconds", 3607);
            ko(w, "boundObjectRef");
            ks(w, "kind", "Pod");
            ks(w, "apiVersion", "v1");
            ks(w, "name", pod_name(wl));
            ks(w, "uid", uuid());
            oe(w);
            oe(w);
            ko(w, "status");
            ks(w, "token", "");
            k_(w, "expirationTimestamp");
            null_(w);
            oe(w);
            oe(w);
        } else if (subresource && !strcmp(subresource, "eviction")) {
            ob(w);
            ks(w, "kind", "Eviction");
            ks(w, "apiVersion", "policy/v1");
            meta(w, name ? name : "", ns, NULL, 0);
            oe(w);
        } else {
            object_body(w, r, verb, &u, wl, name ? name : fmt("%s-%s", wl->name, suffix(5)), ns, 0, risky);
        }
    }
    if (level == 2 && stage == 0 && code < 300 && !exec_like && !nonresource && verb != V_WATCH &&
        !(subresource && (!strcmp(subresource, "binding") || !strcmp(subresource, "eviction")))) {
        k_(w, "responseObject");
        if (verb == V_LIST) {
            list_body(w, r, &u, wl, ns ? ns : wl->ns);
        } else if (verb == V_DELETE) {
            ob(w);
            ks(w, "kind", "Status");
            ks(w, "apiVersion", "v1");
            ko(w, "metadata");
            oe(w);
            ks(w, "status", "Success");
            ko(w, "details");
            if (name)
                ks(w, "name", name);
            ks(w, "kind", rs->resource);
            ks(w, "uid", uuid());
            oe(w);
            oe(w);
        } else if (subresource && !strcmp(subresource, "token")) {
            ob(w);
            ks(w, "kind", "TokenRequest");
            ks(w, "apiVersion", "authentication.k8s.io/v1");
            meta(w, wl->sa, wl->ns, NULL, 0);
            ko(w, "status");
            ks(w, "token", fmt("eyJhbGciOiJSUzI1NiIsImtpZCI6I%s.%s.%s", suffix(40), suffix(300), suffix(200)));
            ks(w, "expirationTimestamp", ts_s(now_us + 3607000000ull));
            oe(w);
            oe(w);
        } else {
            object_body(w, r, verb, &u, wl, name ? name : fmt("%s-%s", wl->name, suffix(5)), ns, 1, risky);
        }
    }
    ks(w, "requestReceivedTimestamp", ts_us(t0));
    ks(w, "stageTimestamp", ts_us(t0 + lat));
    if (stage != 1) {
        ko(w, "annotations");
        ks(w, "authorization.k8s.io/decision", code == 403 ? "forbid" : "allow");
        ks(w, "authorization.k8s.io/reason", code == 403 ? "" : u.reason);
        if (r == R_PODS && verb == V_CREATE && !subresource) {
            ks(w, "pod-security.kubernetes.io/enforce-policy", risky ? "privileged:latest" : "baseline:latest");
            if (chance(40))
                ks(w, "mutation.webhook.admission.k8s.io/round_0_index_0",
                   "{\"configuration\":\"istio-sidecar-injector\",\"webhook\":\"namespace.sidecar-injector.istio.io\",\"mutated\":true}");
        }
        if (r == R_PODS && subresource && !strcmp(subresource, "exec") && chance(50))
            ks(w, "apiserver.latency.k8s.io/total", fmt("%u.%06us", rn(3), rn(1000000)));
        oe(w);
    }
    oe(w);
    w_c(w, '\n');

    mix.verbs[verb]++;
    mix.levels[level]++;
    mix.users[ukind]++;
    mix.stages[stage]++;
    mix.res[r]++;
    mix.codes403 += code == 403;
    mix.subres += subresource != NULL;
    mix.hostpath += risky;
    mix.pod_create_body = r == R_PODS && verb == V_CREATE && !subresource && level > 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: gen_corpus N SEED > corpus.jsonl\n");
        return 2;
    }
    long n = strtol(argv[1], NULL, 10);
    rng = strtoull(argv[2], NULL, 0) * 0x2545F4914F6CDD1Dull + 1;
    if (n <= 0) {
        fprintf(stderr, "gen_corpus: N must be positive\n");
        return 2;
    }
    uint32_t *sizes = malloc((size_t)n * sizeof *sizes);
    if (!sizes) {
        perror("gen_corpus");
        return 1;
    }
    writer w = {0};
    unsigned long long total = 0;
    for (long i = 0; i < n; i++) {
        size_t before = w.n;
        gen_event(&w);
        sizes[i] = (uint32_t)(w.n - before - 1);
        total += sizes[i];
        if (mix.pod_create_body && memmem(w.d + before, sizes[i], "\"requestObject\"", 15)) {
            if (!mix.podc_n || sizes[i] < mix.podc_min)
                mix.podc_min = sizes[i];
            if (sizes[i] > mix.podc_max)
                mix.podc_max = sizes[i];
            mix.podc_n++;
            mix.podc_bytes += sizes[i];
        }
        if (w.n > (1u << 20)) {
            if (fwrite(w.d, 1, w.n, stdout) != w.n) {
                perror("gen_corpus: write");
                return 1;
            }
            w.n = 0;
        }
    }
    if (fwrite(w.d, 1, w.n, stdout) != w.n || fflush(stdout)) {
        perror("gen_corpus: write");
        return 1;
    }
    qsort(sizes, (size_t)n, sizeof *sizes, cmp_u32);
    double mean = (double)total / (double)n;
    fprintf(stderr, "gen_corpus: %ld events, %.1f MB; size bytes: mean %.0f, median %u, p90 %u, p99 %u, max %u\n", n,
            (double)(total + (unsigned long long)n) / 1e6, mean, sizes[n / 2], sizes[n * 90 / 100], sizes[n * 99 / 100],
            sizes[n - 1]);
    fprintf(stderr, "  pod creates with bodies: %lu, bytes min %u, mean %.0f, max %u\n", mix.podc_n, mix.podc_min,
            mix.podc_n ? (double)mix.podc_bytes / (double)mix.podc_n : 0.0, mix.podc_max);
    fprintf(stderr, "  verbs:");
    for (int v = 0; v < V_COUNT; v++)
        fprintf(stderr, " %s %.1f%%", verb_names[v], 100.0 * (double)mix.verbs[v] / (double)n);
    fprintf(stderr, "\n  levels: Metadata %.1f%%, Request %.1f%%, RequestResponse %.1f%%\n",
            100.0 * (double)mix.levels[0] / (double)n, 100.0 * (double)mix.levels[1] / (double)n,
            100.0 * (double)mix.levels[2] / (double)n);
    fprintf(stderr, "  users: serviceaccounts %.1f%%, nodes %.1f%%, controller-manager/scheduler %.1f%%, humans %.1f%%, anonymous %.2f%%\n",
            100.0 * (double)mix.users[0] / (double)n, 100.0 * (double)mix.users[1] / (double)n,
            100.0 * (double)mix.users[2] / (double)n, 100.0 * (double)mix.users[3] / (double)n,
            100.0 * (double)mix.users[4] / (double)n);
    fprintf(stderr, "  stages: ResponseComplete %.1f%%, RequestReceived %.1f%%, ResponseStarted %.1f%%; 403s %.2f%%; subresources %.1f%%; hostPath pod creates %lu\n",
            100.0 * (double)mix.stages[0] / (double)n, 100.0 * (double)mix.stages[1] / (double)n,
            100.0 * (double)mix.stages[2] / (double)n, 100.0 * (double)mix.codes403 / (double)n,
            100.0 * (double)mix.subres / (double)n, mix.hostpath);
    fprintf(stderr, "  resources:");
    for (int r = 0; r < R_COUNT; r++)
        if (mix.res[r] * 1000 >= (unsigned long)n)
            fprintf(stderr, " %s %.1f%%", resources[r].resource, 100.0 * (double)mix.res[r] / (double)n);
    fprintf(stderr, "\n");
    free(sizes);
    free(w.d);
    return 0;
}
