/*
 * admin — the small admin web server of Falco's `webserver` keys:
 * health (k8s_healthz_endpoint, default /healthz), readiness (/readyz) and
 * Prometheus metrics (/metrics when prometheus_metrics_enabled).
 *
 *   /healthz  200 while the pipeline runs and the input is alive (the
 *             webhook listens), 503 otherwise
 *   /readyz   200 once rules are loaded and the listeners are up
 *   /metrics  metrics.h
 *
 * Ownership: admin_start() returns a server freed by admin_stop(); it
 * borrows the metrics sources, which must outlive it.
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_ADMIN_H
#define PEREGRINE_ADMIN_H

#include <stdbool.h>
#include <stdint.h>

#include "ops/metrics.h"

typedef struct admin_opts {
    const char *listen_address;     /* "" or NULL = every interface */
    uint16_t port;                  /* 0 = any free port */
    const char *healthz_path;       /* default "/healthz" */
    bool metrics;                   /* serve /metrics */
    const char *ssl_certificate;    /* PEM with certificate and key; NULL = plain HTTP */
    const metrics_sources *src;
} admin_opts;

typedef struct admin admin;

int admin_start(const admin_opts *o, admin **out, char *err, size_t errlen);
void admin_stop(admin *a);

#endif
