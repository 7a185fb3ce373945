/* Unit tests for sim/config: layering, overrides, includes, validation messages. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/config.h"

static char tmpdir[256];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/mmusim-cfg-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static char *write_file(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return path;
}

START_TEST(default_loads_and_has_every_schema_key)
{
    mm_err err;
    sim_config *cfg = config_create_default(&err);
    ck_assert_msg(cfg != NULL, "%s", err.msg);
    uint64_t size;
    ck_assert_int_eq(config_get_u64(cfg, "cache.l1d", "size", &size, &err), 0);
    ck_assert_uint_eq(size, 32 * 1024);
    /* every key of every fixed section has a default value */
    for (const struct cfg_key_def *d = config_schema; d->key; d++) {
        char secs[256];
        snprintf(secs, sizeof secs, "%s", d->sections);
        for (char *s = strtok(secs, "|"); s; s = strtok(NULL, "|"))
            ck_assert_msg(config_has(cfg, s, d->key), "default lacks [%s] %s", s, d->key);
    }
    config_destroy(cfg);
}
END_TEST

START_TEST(overrides_win_and_split_at_last_dot)
{
    mm_err err;
    sim_config *cfg = config_create_default(&err);
    ck_assert_int_eq(config_override(cfg, "cache.l1d.size=64K", &err), 0);
    ck_assert_int_eq(config_override(cfg, "mmu.translate=false", &err), 0);
    uint64_t size;
    int tr;
    config_get_u64(cfg, "cache.l1d", "size", &size, &err);
    config_get_bool(cfg, "mmu", "translate", &tr, &err);
    ck_assert_uint_eq(size, 65536);
    ck_assert_int_eq(tr, 0);
    ck_assert_str_eq(config_where(cfg, "cache.l1d", "size"), "-o cache.l1d.size=64K: [cache.l1d] size = 64K");
    config_destroy(cfg);
}
END_TEST

START_TEST(file_layers_and_include_relative)
{
    make_tmpdir();
    write_file("family.ini", "[cache.l2]\nsize = 2M\nassoc = 16\n");
    char *machine = write_file("machine.ini", "include = family.ini\n[cache.l2]\nassoc = 8\n");
    mm_err err;
    sim_config *cfg = config_create_default(&err);
    ck_assert_msg(config_load_file(cfg, machine, &err) == 0, "%s", err.msg);
    uint64_t size, assoc;
    config_get_u64(cfg, "cache.l2", "size", &size, &err);
    config_get_u64(cfg, "cache.l2", "assoc", &assoc, &err);
    ck_assert_uint_eq(size, 2u << 20); /* from the included file */
    ck_assert_uint_eq(assoc, 8);       /* the including file's later key wins */
    config_destroy(cfg);
}
END_TEST

START_TEST(include_cycle_is_refused)
{
    make_tmpdir();
    write_file("a.ini", "include = b.ini\n");
    write_file("b.ini", "include = a.ini\n");
    char path[512];
    snprintf(path, sizeof path, "%s/a.ini", tmpdir);
    mm_err err;
    sim_config *cfg = config_create_empty();
    ck_assert_int_eq(config_load_file(cfg, path, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "include cycle"));
    config_destroy(cfg);
}
END_TEST

static void expect_error(const char *text, const char *needle)
{
    mm_err err;
    sim_config *cfg = config_create_empty();
    int rc = config_load_string(cfg, text, "t.ini", &err);
    ck_assert_msg(rc == -1, "accepted: %s", text);
    ck_assert_msg(strstr(err.msg, needle) != NULL, "message '%s' lacks '%s'", err.msg, needle);
    config_destroy(cfg);
}

START_TEST(errors_name_file_line_key_and_rule)
{
    expect_error("[cache.l1d]\nsize = 32K\nasoc = 8\n", "t.ini:3: unknown key 'asoc' in [cache.l1d] (did you mean 'assoc'?)");
    expect_error("[cache.l1x]\nsize = 32K\n", "t.ini:2: unknown section [cache.l1x] (did you mean [cache.l1i]?)");
    expect_error("[cache.l1d]\nsize = 32Q\n", "t.ini:2: [cache.l1d] size = '32Q': expected a non-negative size");
    expect_error("[cache.l1d]\nsize = -4K\n", "expected a non-negative size");
    expect_error("[cache.l1d]\nassoc = 0\n", "t.ini:2: [cache.l1d] assoc = '0': must be between 1 and");
    expect_error("[cache.l1d]\nsize = 99999999999999999999\n", "overflows 64 bits");
    expect_error("[cache.l1d]\nsize = 20000000000000000G\n", "overflows 64 bits");
    expect_error("[mmu]\ntranslate = maybe\n", "t.ini:2: [mmu] translate = 'maybe': expected true or false");
    expect_error("[cache.llc]\nreplacement = fifo\n", "expected one of lru|plru|random|srrip|brrip|drrip");
    expect_error("size = 4\n", "outside any [section]");
    expect_error("[cache.l1d\nsize = 4\n", "t.ini:1: not valid INI");
}
END_TEST

START_TEST(override_errors)
{
    mm_err err;
    sim_config *cfg = config_create_default(&err);
    ck_assert_int_eq(config_override(cfg, "cache.l1d.size", &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "expected section.key=value"));
    ck_assert_int_eq(config_override(cfg, "cache.l1d.sise=4K", &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "did you mean 'size'"));
    config_destroy(cfg);
}
END_TEST

START_TEST(sizes_and_numbers)
{
    uint64_t v;
    ck_assert_int_eq(config_parse_size("4K", &v), 0);
    ck_assert_uint_eq(v, 4096);
    ck_assert_int_eq(config_parse_size("2MiB", &v), 0);
    ck_assert_uint_eq(v, 2u << 20);
    ck_assert_int_eq(config_parse_size("1g", &v), 0);
    ck_assert_uint_eq(v, 1u << 30);
    ck_assert_int_eq(config_parse_size("0x1000", &v), 0);
    ck_assert_uint_eq(v, 4096);
    ck_assert_int_eq(config_parse_size("16E", &v), -1);
    ck_assert_int_eq(config_parse_size("", &v), -1);
    ck_assert_int_eq(config_parse_size("17179869184G", &v), -2);
    ck_assert_int_eq(config_parse_uint("12x", &v), -1);
}
END_TEST

START_TEST(print_is_reloadable_and_hash_stable)
{
    mm_err err;
    sim_config *a = config_create_default(&err);
    config_override(a, "cache.llc.size=16M", &err);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    config_print_ini(a, f);
    fclose(f);
    sim_config *b = config_create_empty();
    ck_assert_msg(config_load_string(b, buf, "printed", &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(config_hash(a), config_hash(b));
    config_override(b, "cache.llc.size=32M", &err);
    ck_assert_uint_ne(config_hash(a), config_hash(b));
    free(buf);
    config_destroy(a);
    config_destroy(b);
}
END_TEST

START_TEST(open_sections_accept_any_name)
{
    /* [cgroup.NAME] is open, but has no keys yet: an unknown key there is still refused */
    expect_error("[cgroup.web]\nfoo = 1\n", "unknown");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, default_loads_and_has_every_schema_key);
    tcase_add_test(tc, overrides_win_and_split_at_last_dot);
    tcase_add_test(tc, file_layers_and_include_relative);
    tcase_add_test(tc, include_cycle_is_refused);
    tcase_add_test(tc, errors_name_file_line_key_and_rule);
    tcase_add_test(tc, override_errors);
    tcase_add_test(tc, sizes_and_numbers);
    tcase_add_test(tc, print_is_reloadable_and_hash_stable);
    tcase_add_test(tc, open_sections_accept_any_name);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
