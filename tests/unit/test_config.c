/*
 * Unit tests of configuration loading (src/app/config.c): the error
 * contract (util/error.h) on every failure, allocation failures included,
 * and init_config given as a YAML mapping.
 */
#include "test.h"

#include "app/config.h"
#include "util/alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static int load_text(config *c, const char *yaml, char *err, size_t errlen)
{
    char path[] = "/tmp/peregrine-test-config-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -errno;
    int ok = write(fd, yaml, strlen(yaml)) == (ssize_t)strlen(yaml);
    close(fd);
    int rc = ok ? config_load_file(c, path, err, errlen) : -EIO;
    unlink(path);
    return rc;
}

/* Each allocation of an override failing in turn: a negative errno and a
 * message, never an untouched buffer (main prints it). */
TEST(config_override_out_of_memory_says_so)
{
    static const char *const kvs[] = {"plugins[0].open_params=/var/log/audit.log", "plugins[0].init_config={}",
                                      "rules_files=/etc/peregrine/rules", "file_output.filename=/tmp/x",
                                      "json_output=true"};
    for (size_t i = 0; i < sizeof kvs / sizeof *kvs; i++) {
        for (long k = 0; k < 4; k++) {
            config c;
            config_defaults(&c);
            char err[256] = "untouched";
            pg_alloc_fail_after(k);
            int rc = config_override(&c, kvs[i], err, sizeof err);
            pg_alloc_fail_after(-1);
            if (rc) {
                CHECK(rc == -ENOMEM);
                CHECK(strstr(err, "out of memory") != NULL);
            }
            config_free(&c);
        }
    }
    config c;
    config_defaults(&c);
    char err[256] = "";
    CHECK(config_override(&c, "no-equals-sign", err, sizeof err) < 0 && err[0]);
    config_free(&c);
}

/* init_config as a mapping goes through the YAML → JSON of test events:
 * a plain `inf` is a string (not an invalid JSON number), numbers stay
 * numbers. */
TEST(config_init_config_mapping_inf_is_a_string)
{
    config c;
    config_defaults(&c);
    char err[512] = "";
    int rc = load_text(&c,
                       "plugins:\n  - name: k8saudit\n    open_params: /var/log/audit.log\n"
                       "    init_config: {clusterName: inf, maxEventSize: 4096, sslCertificate: 0x10}\n",
                       err, sizeof err);
    CHECK(rc == 0);
    CHECK_STR(c.init_config, "{\"clusterName\":\"inf\",\"maxEventSize\":4096,\"sslCertificate\":\"0x10\"}");
    CHECK(config_decode_init(&c, err, sizeof err) == 0);
    CHECK_STR(c.cluster_name, "inf");
    CHECK(c.max_event_size == 4096);
    if (err[0] && rc)
        fprintf(stderr, "  %s\n", err);
    config_free(&c);
}
