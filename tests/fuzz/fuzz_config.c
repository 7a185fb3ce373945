/* libFuzzer target: any bytes as an INI config layered over the embedded default, then each line
 * of the input also tried as a -o override. Must end with success or a clear error; a config that
 * loads must print and reload to the same hash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    mm_err err;
    sim_config *cfg = config_create_default(&err);
    if (!cfg)
        abort();
    if (config_load_string(cfg, text, "fuzz.ini", &err) == 0) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        config_print_ini(cfg, f);
        fclose(f);
        sim_config *again = config_create_empty();
        if (config_load_string(again, buf, "printed", &err) != 0 ||
            config_hash(again) != config_hash(cfg))
            abort(); /* what we print must load back as the same config */
        config_destroy(again);
        free(buf);
    } else if (!err.msg[0]) {
        abort();
    }
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
        if (config_override(cfg, line, &err) && !err.msg[0])
            abort();
    config_destroy(cfg);
    free(text);
    return 0;
}
