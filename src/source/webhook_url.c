/*
 * webhook_url — open_params "http(s)://host:port/path" for the webhook
 * (see webhook.h: webhook_parse_url, webhook_is_url).
 */
#include "source/webhook.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>

bool webhook_is_url(const char *s)
{
    return s && (!strncasecmp(s, "http://", 7) || !strncasecmp(s, "https://", 8));
}

int webhook_parse_url(const char *s, webhook_url *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof *u);
    const char *p;
    if (!strncasecmp(s, "https://", 8)) {
        u->tls = true;
        p = s + 8;
    } else if (!strncasecmp(s, "http://", 7)) {
        p = s + 7;
    } else {
        snprintf(err, errlen, "open_params '%s': not an http:// or https:// URL", s);
        return -1;
    }
    const char *hend;
    if (*p == '[') {                /* [v6]:port */
        hend = strchr(p, ']');
        if (!hend) {
            snprintf(err, errlen, "open_params '%s': unterminated IPv6 address", s);
            return -1;
        }
        snprintf(u->host, sizeof u->host, "%.*s", (int)(hend - p - 1), p + 1);
        p = hend + 1;
    } else {
        hend = p + strcspn(p, ":/");
        if ((size_t)(hend - p) >= sizeof u->host) {
            snprintf(err, errlen, "open_params '%s': host name too long", s);
            return -1;
        }
        snprintf(u->host, sizeof u->host, "%.*s", (int)(hend - p), p);
        p = hend;
    }
    if (*p != ':') {
        snprintf(err, errlen, "open_params '%s': a port is required (e.g. http://:9765/k8s-audit)", s);
        return -1;
    }
    p++;
    char *end;
    long port = strtol(p, &end, 10);
    if (end == p || port < 0 || port > 65535 || (*end && *end != '/')) {
        snprintf(err, errlen, "open_params '%s': invalid port", s);
        return -1;
    }
    u->port = (uint16_t)port;
    const char *path = *end ? end : "/";
    if (strlen(path) >= sizeof u->path || strpbrk(path, "?#")) {
        snprintf(err, errlen, "open_params '%s': invalid path", s);
        return -1;
    }
    snprintf(u->path, sizeof u->path, "%s", path);
    /* "/k8s-audit/" serves "/k8s-audit" */
    size_t n = strlen(u->path);
    while (n > 1 && u->path[n - 1] == '/')
        u->path[--n] = 0;
    return 0;
}
