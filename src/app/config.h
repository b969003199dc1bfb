/*
 * config loading — falco.yaml (the keys Peregrine uses; others are
 * accepted and ignored), `-o key=value` overrides, and the k8saudit
 * init_config, into the struct of util/config.h.
 *
 * Errors follow util/error.h: 0, or a negative errno with a message in err.
 * Ownership: the caller owns the struct; config_free releases its strings.
 */
#ifndef PEREGRINE_CONFIG_H
#define PEREGRINE_CONFIG_H

#include <stddef.h>

#include "util/config.h"

void config_defaults(config *c);
/* Load a falco.yaml. */
int config_load_file(config *c, const char *path, char *err, size_t errlen);
/* Apply "key=value" (e.g. json_output=true, plugins[0].open_params=x). */
int config_override(config *c, const char *kv, char *err, size_t errlen);
/* Decode init_config into the numeric fields. */
int config_decode_init(config *c, char *err, size_t errlen);
void config_free(config *c);

#endif
