/* Generators: determinism, and that each kind produces the pattern it names. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "traces/gen.h"
#include "traces/trace.h"
#include "traces_test_util.h"

static struct mm_event *generate(const struct gen_options *o, size_t *n)
{
    mm_err err;
    gen *g = gen_create(o, &err);
    if (!g)
        ck_abort_msg("gen_create: %s", err.msg);
    struct mm_event *ev = malloc((o->count + 1) * sizeof *ev);
    size_t got = 0, k;
    while ((k = gen_fill(g, ev + got, 777)) > 0)
        got += k;
    gen_destroy(g);
    *n = got;
    return ev;
}

START_TEST(same_seed_same_events_different_seed_differs)
{
    for (int kind = 0; kind < GEN_KIND_COUNT; kind++) {
        struct gen_options o;
        gen_options_default(&o, (enum gen_kind)kind);
        o.count = 5000;
        o.footprint = 1 << 20;
        mm_err err;
        if (kind == GEN_MIX)
            ck_assert_int_eq(gen_parse_mix("stream:50,random:30,hot:20,chase:5:1M,zipf:5:1M", &o,
                                           &err), 0);
        size_t n1, n2, n3;
        struct mm_event *a = generate(&o, &n1), *b = generate(&o, &n2);
        ck_assert_uint_eq(n1, 5000);
        ck_assert_uint_eq(n2, 5000);
        ck_assert_int_eq(memcmp(a, b, n1 * sizeof *a), 0);
        o.seed = 2;
        struct mm_event *c = generate(&o, &n3);
        if (kind != GEN_STREAM && kind != GEN_STRIDE) /* those are seed-free but for the r/w mix */
            ck_assert_int_ne(memcmp(a, c, n1 * sizeof *a), 0);
        free(a);
        free(b);
        free(c);
    }
}
END_TEST

START_TEST(stream_stride_random_hot_shapes)
{
    struct gen_options o;
    gen_options_default(&o, GEN_STREAM);
    o.count = 3000;
    o.footprint = 8192;
    o.base = 0x100000;
    size_t n;
    struct mm_event *ev = generate(&o, &n);
    for (size_t i = 0; i < n; i++) /* 1024 accesses of 8 bytes a pass */
        ck_assert_uint_eq(ev[i].addr, 0x100000 + (i % 1024) * 8);
    unsigned reads = 0;
    for (size_t i = 0; i < n; i++)
        reads += ev[i].type == MM_EV_READ;
    ck_assert(reads > 1900 && reads < 2300); /* 70% of 3000 */
    free(ev);

    gen_options_default(&o, GEN_STRIDE);
    o.count = 40;
    o.footprint = 16 * 4096;
    o.base = 0;
    ev = generate(&o, &n);
    for (size_t i = 0; i < 16; i++)
        ck_assert_uint_eq(ev[i].addr, i * 4096);
    ck_assert_uint_eq(ev[16].addr, 8); /* second pass shifted by one access */
    ck_assert_uint_eq(ev[17].addr, 4096 + 8);
    free(ev);

    for (int kind = GEN_RANDOM; kind <= GEN_HOT; kind++) {
        gen_options_default(&o, (enum gen_kind)kind);
        o.count = 20000;
        o.size = 64;
        o.read_ratio = 1.0;
        uint64_t fp = kind == GEN_HOT ? 256u << 10 : 1u << 20;
        if (kind == GEN_RANDOM)
            o.footprint = fp;
        ev = generate(&o, &n);
        uint64_t lo = UINT64_MAX, hi = 0;
        for (size_t i = 0; i < n; i++) {
            ck_assert_uint_eq(ev[i].addr % 64, 0);
            ck_assert_uint_eq(ev[i].type, MM_EV_READ);
            lo = ev[i].addr < lo ? ev[i].addr : lo;
            hi = ev[i].addr > hi ? ev[i].addr : hi;
        }
        ck_assert_uint_ge(lo, o.base);
        ck_assert_uint_lt(hi, o.base + fp);
        ck_assert_uint_gt(hi - lo, fp / 2); /* spread over the footprint */
        free(ev);
    }
}
END_TEST

START_TEST(chase_is_one_cycle)
{
    struct gen_options o;
    gen_options_default(&o, GEN_CHASE);
    uint64_t nodes = 1000;
    o.footprint = nodes * 64;
    o.count = 2 * nodes;
    o.base = 0;
    size_t n;
    struct mm_event *ev = generate(&o, &n);
    unsigned char *seen = calloc(nodes, 1);
    for (size_t i = 0; i < nodes; i++) {
        ck_assert_uint_eq(ev[i].addr % 64, 0);
        uint64_t node = ev[i].addr / 64;
        ck_assert_uint_lt(node, nodes);
        ck_assert_uint_eq(seen[node], 0); /* every node once per cycle */
        seen[node] = 1;
        ck_assert_uint_eq(ev[i].type, MM_EV_READ); /* chase reads by default */
    }
    for (size_t i = 0; i < nodes; i++) /* and the cycle repeats */
        ck_assert_uint_eq(ev[i].addr, ev[i + nodes].addr);
    free(seen);
    free(ev);
}
END_TEST

START_TEST(zipf_is_skewed_and_mix_follows_weights)
{
    struct gen_options o;
    gen_options_default(&o, GEN_ZIPF);
    o.count = 100000;
    o.footprint = 1 << 20; /* 131072 slots of 8 bytes */
    o.zipf_s = 1.2;
    size_t n;
    struct mm_event *ev = generate(&o, &n);
    /* the most popular slot takes a large share; with s=1.2 rank 1 has ~ 1/zeta(1.2) = 18% */
    uint32_t *count = calloc(o.footprint / 8, sizeof *count);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_ge(ev[i].addr, o.base);
        ck_assert_uint_lt(ev[i].addr, o.base + o.footprint);
        count[(ev[i].addr - o.base) / 8]++;
    }
    uint32_t top = 0;
    for (size_t i = 0; i < o.footprint / 8; i++)
        top = count[i] > top ? count[i] : top;
    ck_assert_uint_gt(top, 12000);
    ck_assert_uint_lt(top, 25000);
    free(count);
    free(ev);

    gen_options_default(&o, GEN_MIX);
    mm_err err;
    ck_assert_int_eq(gen_parse_mix("stream:50:64M,random:30:1G,hot:20:256K", &o, &err), 0);
    o.count = 100000;
    ev = generate(&o, &n);
    /* parts live in their own GiB-aligned regions: stream, then random, then hot */
    unsigned in[3] = {0};
    for (size_t i = 0; i < n; i++) {
        uint64_t off = ev[i].addr - o.base;
        unsigned part = (unsigned)(off >> 30);
        ck_assert_uint_lt(part, 3);
        in[part]++;
    }
    ck_assert(in[0] > 48500 && in[0] < 51500);
    ck_assert(in[1] > 28500 && in[1] < 31500);
    ck_assert(in[2] > 18500 && in[2] < 21500);
    free(ev);
    ck_assert_int_eq(gen_parse_mix("stream:50,bogus:3", &o, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "bogus"));
    ck_assert_int_eq(gen_parse_mix("stream:x", &o, &err), -1);
}
END_TEST

START_TEST(cpus_pids_gap_and_file_determinism)
{
    struct gen_options o;
    gen_options_default(&o, GEN_RANDOM);
    o.count = 40;
    o.cpus = 4;
    o.pids = 2;
    o.quantum = 10;
    o.gap = 3;
    size_t n;
    struct mm_event *ev = generate(&o, &n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(ev[i].cpu, (i / 10) % 4);
        ck_assert_uint_eq(ev[i].pid, 1000 + ((i / 10) % 4) % 2);
        ck_assert_uint_eq(ev[i].gap, 3);
    }
    free(ev);
    /* the same options through the writer twice: byte-identical files */
    gen_options_default(&o, GEN_ZIPF);
    o.count = 300000;
    unsigned char *bytes[2];
    size_t len[2];
    for (int k = 0; k < 2; k++) {
        mm_err err;
        const char *path = tu_path(k ? "b.mmt" : "a.mmt");
        gen *g = gen_create(&o, &err);
        trace_writer *w = trace_writer_open(path, TRACE_COMP_GZIP, 0, NULL, 0, &err);
        struct mm_event buf[1000];
        size_t got;
        while ((got = gen_fill(g, buf, 1000)) > 0)
            ck_assert_int_eq(trace_writer_put(w, buf, got, &err), 0);
        ck_assert_int_eq(trace_writer_close(w, &err), 0);
        gen_destroy(g);
        bytes[k] = tu_read_file(path, &len[k]);
    }
    ck_assert_uint_eq(len[0], len[1]);
    ck_assert_int_eq(memcmp(bytes[0], bytes[1], len[0]), 0);
    free(bytes[0]);
    free(bytes[1]);
}
END_TEST

START_TEST(bad_options_are_refused)
{
    struct gen_options o;
    mm_err err;
    gen_options_default(&o, GEN_STREAM);
    o.size = 0;
    ck_assert_ptr_null(gen_create(&o, &err));
    gen_options_default(&o, GEN_STREAM);
    o.footprint = 4;
    ck_assert_ptr_null(gen_create(&o, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "footprint"));
    gen_options_default(&o, GEN_MIX);
    ck_assert_ptr_null(gen_create(&o, &err));
    uint64_t v;
    ck_assert_int_eq(gen_parse_size("64M", &v), 0);
    ck_assert_uint_eq(v, 64u << 20);
    ck_assert_int_eq(gen_parse_size("0x1000", &v), 0);
    ck_assert_uint_eq(v, 4096);
    ck_assert_int_eq(gen_parse_size("12Q", &v), -1);
    ck_assert_int_eq(gen_parse_count("20M", &v), 0);
    ck_assert_uint_eq(v, 20000000);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("traces_gen");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, same_seed_same_events_different_seed_differs);
    tcase_add_test(tc, stream_stride_random_hot_shapes);
    tcase_add_test(tc, chase_is_one_cycle);
    tcase_add_test(tc, zipf_is_skewed_and_mix_follows_weights);
    tcase_add_test(tc, cpus_pids_gap_and_file_determinism);
    tcase_add_test(tc, bad_options_are_refused);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
