/* Configuration: INI files read with inih, layered. The embedded default (configs/default.ini)
 * comes first, then -c FILE (and what it includes), then each -o section.key=value; later wins.
 * Every key is declared in a schema (sim/config_schema.c) with its type and range, so an unknown
 * key, a bad number or an impossible value is refused with the file, line and rule. */
#ifndef MMUSIM_SIM_CONFIG_H
#define MMUSIM_SIM_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "models/common/errors.h"

typedef struct sim_config sim_config;

enum cfg_type { CFG_BOOL, CFG_UINT, CFG_SIZE, CFG_DOUBLE, CFG_ENUM, CFG_STRING };

struct cfg_key_def {
    const char *sections; /* '|'-separated section names this key belongs to */
    const char *key;
    enum cfg_type type;
    uint64_t min, max;    /* CFG_UINT and CFG_SIZE: inclusive range */
    const char *choices;  /* CFG_ENUM: '|'-separated names */
    const char *desc;
};

/* The schema: every valid (section, key). Terminated by an entry with key NULL. */
extern const struct cfg_key_def config_schema[];
/* Sections that take any name after a dot, e.g. "cgroup." for [cgroup.NAME]. NULL-terminated. */
extern const char *const config_open_sections[];

/* The embedded default config text (generated from configs/default.ini at build time). */
extern const char mmusim_default_config[];

/* A config holding the embedded default. NULL with err on failure (only if the default is bad). */
sim_config *config_create_default(mm_err *err);
/* An empty config (no layer yet): for tests and for loading a file on its own. */
sim_config *config_create_empty(void);
void config_destroy(sim_config *cfg);

/* Layers a file on top (following `include = other.ini` lines, relative to the including file). */
int config_load_file(sim_config *cfg, const char *path, mm_err *err);
/* Layers INI text on top; name is used in messages ("<default>", a test name). */
int config_load_string(sim_config *cfg, const char *text, const char *name, mm_err *err);
/* Applies "section.key=value" (the section may contain dots: cache.l1d.size=64K). */
int config_override(sim_config *cfg, const char *assignment, mm_err *err);

/* Typed accessors. The key must be in the schema and its value valid (config_validate).
 * A missing key yields err "no value for [section] key". */
int config_get_bool(const sim_config *cfg, const char *section, const char *key, int *out,
                    mm_err *err);
int config_get_u64(const sim_config *cfg, const char *section, const char *key, uint64_t *out,
                   mm_err *err);
int config_get_double(const sim_config *cfg, const char *section, const char *key, double *out,
                      mm_err *err);
/* Index of the value within the key's choices. */
int config_get_enum(const sim_config *cfg, const char *section, const char *key, int *out,
                    mm_err *err);
const char *config_get_string(const sim_config *cfg, const char *section, const char *key);
int config_has(const sim_config *cfg, const char *section, const char *key);

/* "FILE:LINE: [section] key = value" for the entry, for messages about a value's meaning. */
const char *config_where(const sim_config *cfg, const char *section, const char *key);

/* Effective config, in a stable order (schema order, then open sections by name). */
size_t config_count(const sim_config *cfg);
void config_entry_at(const sim_config *cfg, size_t i, const char **section, const char **key,
                     const char **value);
void config_print_ini(const sim_config *cfg, FILE *out);
/* 64-bit hash of the effective config (for checkpoints and sweep bookkeeping). */
uint64_t config_hash(const sim_config *cfg);

/* Parsing helpers shared with the commands: sizes take K, M, G, T suffixes (powers of 1024).
 * Each returns 0, -1 when the text is not of the form, -2 when the value overflows 64 bits. */
int config_parse_size(const char *s, uint64_t *out);
int config_parse_uint(const char *s, uint64_t *out);
int config_parse_bool(const char *s, int *out);

#endif
