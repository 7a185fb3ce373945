/* Unit tests for the engine's translate path (sim/translate.h): the MMU built from the config,
 * the stand-in first-touch kernel (address spaces per pid, PCIDs with lazy flushes, munmap with
 * shootdowns, exit), huge first-touch pages, nested mode, config errors, and one run of the
 * engine on a native trace that carries OS events. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "models/common/rng.h"
#include "models/common/stats.h"
#include "sim/config.h"
#include "sim/engine.h"
#include "sim/translate.h"
#include "traces/trace.h"

#include "mmu_test_util.h"

static stats_registry *REG;
static cache_hier *H;
static xlate *X;
static sim_config *CFG;

static void build(unsigned ncpus, const char *const *overrides)
{
    mm_err err;
    CFG = config_create_default(&err);
    ck_assert_ptr_nonnull(CFG);
    for (size_t i = 0; overrides && overrides[i]; i++)
        ck_assert_msg(config_override(CFG, overrides[i], &err) == 0, "%s", err.msg);
    REG = stats_create();
    struct cache_hier_params hp = tm_caches();
    hp.ncpus = ncpus;
    H = cache_hier_create(&hp, REG, &err);
    ck_assert_ptr_nonnull(H);
    X = xlate_create(CFG, ncpus, H, 1, REG, &err);
    ck_assert_msg(X != NULL, "%s", err.msg);
}

static void teardown(void)
{
    xlate_destroy(X);
    cache_hier_destroy(H);
    stats_destroy(REG);
    config_destroy(CFG);
    X = NULL;
}

static uint64_t st(const char *name)
{
    const stats_entry *e = stats_find(REG, name);
    ck_assert_msg(e != NULL, "no statistic %s", name);
    return stats_value(e);
}

static uint64_t acc(unsigned cpu, uint32_t pid, uint64_t va, unsigned type)
{
    uint64_t pa = 0;
    uint32_t cyc = 0;
    ck_assert_int_eq(xlate_access(X, cpu, pid, va, type, &pa, &cyc), 0);
    return pa;
}

static void os_event(unsigned type, unsigned cpu, uint32_t pid, uint64_t addr, uint64_t len)
{
    struct mm_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = (uint8_t)type;
    ev.cpu = (uint16_t)cpu;
    ev.pid = pid;
    ev.addr = addr;
    ev.len = len;
    xlate_os_event(X, &ev);
}

START_TEST(default_machine_is_skylake_sp)
{
    build(1, NULL);
    const tlb *d = mmu_tlb(X->mmu, 0, MMU_L1D), *s = mmu_tlb(X->mmu, 0, MMU_STLB);
    const tlb *i = mmu_tlb(X->mmu, 0, MMU_L1I);
    ck_assert_uint_eq(d->arr[TLB_4K].ways, 4);
    ck_assert_uint_eq(cache_set_of(d->arr[TLB_4K].c, ~0ull) + 1, 16);
    ck_assert_uint_eq(d->arr[TLB_2M].ways, 4);
    ck_assert_uint_eq(d->arr[TLB_1G].ways, 4);
    ck_assert_uint_eq(i->arr[TLB_4K].ways, 8);
    ck_assert_ptr_null(i->arr[TLB_1G].c);
    ck_assert_uint_eq(s->arr[TLB_4K].ways, 12);
    ck_assert_uint_eq(cache_set_of(s->arr[TLB_4K].c, ~0ull) + 1, 128);
    ck_assert_int_eq(s->holder[TLB_2M], TLB_4K);
    ck_assert_uint_eq(s->latency, 9);
    ck_assert_uint_eq(d->latency, 0);
    ck_assert_ptr_nonnull(stats_find(REG, "pwc.pde.accesses"));
    ck_assert_ptr_null(stats_find(REG, "pwc.pml5.accesses"));
    ck_assert_ptr_null(stats_find(REG, "walker.host_refs"));
    teardown();
}
END_TEST

static void expect_config_error(const char *override, const char *needle)
{
    mm_err err;
    sim_config *cfg = config_create_default(&err);
    ck_assert_ptr_nonnull(cfg);
    ck_assert_msg(config_override(cfg, override, &err) == 0, "%s", err.msg);
    stats_registry *reg = stats_create();
    struct cache_hier_params hp = tm_caches();
    cache_hier *h = cache_hier_create(&hp, reg, &err);
    xlate *x = xlate_create(cfg, 1, h, 1, reg, &err);
    ck_assert_msg(x == NULL, "%s accepted", override);
    ck_assert_msg(strstr(err.msg, needle), "%s: '%s' lacks '%s'", override, err.msg, needle);
    cache_hier_destroy(h);
    stats_destroy(reg);
    config_destroy(cfg);
}

START_TEST(config_errors_name_the_key)
{
    expect_config_error("tlb.stlb.assoc_4k=16", "[tlb.stlb] entries_4k = 1536");
    expect_config_error("tlb.stlb.assoc_4k=16", "set count 96 of the 4k array is not a power of two");
    expect_config_error("tlb.stlb.replacement=plru", "plru replacement needs a power-of-two assoc");
    expect_config_error("tlb.l1d.assoc_1g=3", "[tlb.l1d] entries_1g = 4");
    expect_config_error("tlb.stlb.entries_2m=32", "entries_2m must be 0");
    expect_config_error("pwc.pde_assoc=6", "[pwc] pde_entries = 32");
    expect_config_error("mmu.first_touch_page=8K", "x86-64 pages are 4K, 2M or 1G");
    expect_config_error("mmu.page_size=8K", "4K base pages");
}
END_TEST

START_TEST(first_touch_then_munmap)
{
    build(1, NULL);
    uint64_t pa = acc(0, 7, 0x10000123, MM_EV_READ);
    ck_assert_uint_eq(pa & 0xfff, 0x123);
    acc(0, 7, 0x10001000, MM_EV_WRITE);
    acc(0, 7, 0x10000000, MM_EV_READ);
    ck_assert_uint_eq(st("os.first_touch_faults"), 2);
    ck_assert_uint_eq(st("os.pgtable.pages"), 4);
    ck_assert_uint_eq(st("os.address_spaces"), 1);
    os_event(MM_EV_MUNMAP, 0, 7, 0x10000000, 8192);
    ck_assert_uint_eq(st("os.munmaps"), 1);
    ck_assert_uint_eq(st("os.unmapped_pages"), 2);
    ck_assert_uint_eq(st("os.pgtable.pages"), 1); /* PT, PD, PDPT freed */
    ck_assert_uint_eq(st("tlb.shootdowns"), 1);
    ck_assert_uint_eq(st("tlb.shootdown_ipis"), 0); /* no other CPU */
    ck_assert_uint_eq(st("tlb.l1d.invalidations"), 2);
    /* the next access faults again, and gets a freed frame back */
    uint64_t pa2 = acc(0, 7, 0x10000123, MM_EV_READ);
    ck_assert_uint_eq(st("os.first_touch_faults"), 3);
    ck_assert_uint_eq(st("tlb.l1d.misses"), 3);
    ck_assert_uint_ne(pa2 >> 12, 0);
    teardown();
}
END_TEST

START_TEST(munmap_shoots_down_other_cpus)
{
    static const char *const o[] = {"tlb.shootdown_cost=777", NULL};
    build(4, o);
    for (unsigned c = 0; c < 3; c++)
        acc(c, 1, 0x20000000, MM_EV_READ);
    acc(3, 2, 0x20000000, MM_EV_READ);
    os_event(MM_EV_MUNMAP, 1, 1, 0x20000000, 4096);
    ck_assert_uint_eq(st("tlb.shootdown_ipis"), 2);
    ck_assert_uint_eq(st("tlb.shootdown_cycles"), 2 * 777);
    ck_assert_uint_eq(st("tlb.cpu0.l1d.invalidations"), 1);
    ck_assert_uint_eq(st("tlb.cpu2.l1d.invalidations"), 1);
    ck_assert_uint_eq(st("tlb.cpu3.l1d.invalidations"), 0);
    teardown();
}
END_TEST

/* CPU 0 leaves address space 1 for 2; CPU 1 unmaps a page of 1 (no IPI to CPU 0, which runs
 * something else); when CPU 0 comes back to 1 it flushes the PCID instead of using the stale
 * entry, as Linux does with tlb_gen. Without the change, coming back keeps the entries. */
START_TEST(pcid_lazy_flush_after_a_missed_shootdown)
{
    build(2, NULL);
    acc(0, 1, 0x30000000, MM_EV_READ);
    acc(0, 1, 0x30001000, MM_EV_READ);
    acc(0, 2, 0x40000000, MM_EV_READ);
    acc(1, 1, 0x30000000, MM_EV_READ);
    os_event(MM_EV_MUNMAP, 1, 1, 0x30000000, 4096);
    ck_assert_uint_eq(st("tlb.shootdown_ipis"), 0);
    uint64_t faults = st("os.first_touch_faults");
    uint64_t m0 = st("tlb.cpu0.l1d.misses");
    acc(0, 1, 0x30000000, MM_EV_READ);
    ck_assert_uint_eq(st("tlb.lazy_flushes"), 1);
    ck_assert_uint_eq(st("os.first_touch_faults"), faults + 1);
    acc(0, 1, 0x30001000, MM_EV_READ); /* flushed with the PCID */
    ck_assert_uint_eq(st("tlb.cpu0.l1d.misses") - m0, 2);
    /* back and forth with no change in between: entries kept */
    acc(0, 2, 0x40000000, MM_EV_READ);
    acc(0, 1, 0x30001000, MM_EV_READ);
    ck_assert_uint_eq(st("tlb.cpu0.l1d.misses") - m0, 2);
    ck_assert_uint_eq(st("tlb.lazy_flushes"), 1);
    teardown();
}
END_TEST

START_TEST(switch_events_and_global_kernel_pages)
{
    static const char *const o[] = {"tlb.pcid=false", NULL};
    build(1, o);
    uint64_t kva = 0xffffffff81000000ull;
    acc(0, 1, kva, MM_EV_IFETCH);
    acc(0, 1, 0x1000, MM_EV_READ);
    os_event(MM_EV_SWITCH, 0, 2, 0, 0);
    ck_assert_uint_eq(st("tlb.context_switches"), 2);
    uint64_t walks = st("walker.walks");
    acc(0, 2, kva, MM_EV_IFETCH); /* global: survives the flush, shared by every process */
    ck_assert_uint_eq(st("walker.walks"), walks);
    acc(0, 2, 0x1000, MM_EV_READ); /* flushed: a walk, and pid 2's own first touch */
    ck_assert_uint_eq(st("os.first_touch_faults"), 3);
    os_event(MM_EV_SWITCH, 0, 2, 0, 0); /* already running: nothing */
    ck_assert_uint_eq(st("tlb.context_switches"), 2);
    teardown();
}
END_TEST

START_TEST(exit_tears_the_address_space_down)
{
    build(1, NULL);
    for (uint64_t i = 0; i < 10; i++)
        acc(0, 5, 0x50000000 + (i << 21), MM_EV_WRITE);
    ck_assert_uint_eq(st("os.pgtable.pages"), 1 + 1 + 1 + 10);
    os_event(MM_EV_EXIT, 0, 5, 0, 0);
    ck_assert_uint_eq(st("os.exits"), 1);
    ck_assert_uint_eq(st("os.address_spaces"), 0);
    ck_assert_uint_eq(st("os.pgtable.pages"), 0);
    os_event(MM_EV_EXIT, 0, 5, 0, 0); /* gone already */
    ck_assert_uint_eq(st("os.exits"), 1);
    acc(0, 5, 0x50000000, MM_EV_READ); /* a new process with the same pid */
    ck_assert_uint_eq(st("os.address_spaces"), 1);
    ck_assert_uint_eq(st("os.first_touch_faults"), 11);
    teardown();
}
END_TEST

START_TEST(huge_first_touch_pages)
{
    static const char *const o[] = {"mmu.first_touch_page=2M", NULL};
    build(1, o);
    uint64_t a = acc(0, 1, 0x60000000, MM_EV_READ);
    uint64_t b = acc(0, 1, 0x601ff000, MM_EV_READ);
    ck_assert_uint_eq(b - a, 0x1ff000); /* one physically contiguous 2 MiB frame */
    ck_assert_uint_eq(a & 0x1fffff, 0);
    ck_assert_uint_eq(st("os.first_touch_faults"), 1);
    ck_assert_uint_eq(st("tlb.l1d.misses_2m"), 1);
    /* unmap 4K in the middle: the page splits; touching the hole maps a 4K page there */
    os_event(MM_EV_MUNMAP, 0, 1, 0x60100000, 4096);
    ck_assert_uint_eq(st("os.pgtable.splits"), 1);
    acc(0, 1, 0x60100000, MM_EV_READ);
    ck_assert_uint_eq(st("os.first_touch_faults"), 2);
    ck_assert_uint_eq(st("os.first_touch_smaller_pages"), 1);
    ck_assert_uint_eq(acc(0, 1, 0x60000000, MM_EV_READ), a); /* the rest kept its frames */
    teardown();

    static const char *const g[] = {"mmu.first_touch_page=1G", NULL};
    build(1, g);
    a = acc(0, 1, 0x80000000, MM_EV_READ);
    b = acc(0, 1, 0xbffff000, MM_EV_READ);
    ck_assert_uint_eq(b - a, 0x3ffff000);
    ck_assert_uint_eq(st("os.first_touch_faults"), 1);
    ck_assert_uint_eq(st("tlb.l1d.misses_1g"), 1);
    teardown();
}
END_TEST

START_TEST(nested_mode_maps_guest_memory_on_first_touch)
{
    static const char *const o[] = {"walker.nested=true", "pwc.pde_entries=0", "pwc.pdpt_entries=0",
                                    "pwc.pml4_entries=0", "tlb.stlb.entries_4k=0", NULL};
    build(1, o);
    acc(0, 1, 0x70000000, MM_EV_READ);
    ck_assert_uint_eq(st("os.first_touch_faults"), 1);
    /* the guest root, PDPT, PD, PT and the data page: 5 guest frames the host maps */
    ck_assert_uint_eq(st("os.host_first_touch_faults"), 5);
    ck_assert_uint_eq(st("os.host_pgtable.pages"), 4);
    ck_assert_uint_eq(st("os.pgtable.pages"), 4);
    /* 64 more pages: the dTLB has 64 entries, so the first page's walk is a full 2D walk */
    for (uint64_t i = 1; i <= 64; i++)
        acc(0, 1, 0x70000000 + (i << 12), MM_EV_READ);
    uint64_t refs = st("walker.memory_refs");
    acc(0, 1, 0x70000000, MM_EV_READ);
    ck_assert_uint_eq(st("walker.memory_refs") - refs, 24);
    teardown();
}
END_TEST

/* Random accesses, munmaps, switches and exits by 3 processes on 4 CPUs: every translation must be
 * what the page tables say at that moment (no stale TLB or page-walk-cache entry survives), in
 * every mode. */
START_TEST(random_stress_translations_match_the_page_tables)
{
    static const char *const modes[][4] = {
        {NULL},
        {"tlb.pcid=false", NULL},
        {"mmu.first_touch_page=2M", NULL},
        {"walker.nested=true", "mmu.host_page=2M", NULL},
        {"walker.levels=5", "tlb.stlb.entries_4k=48", "tlb.stlb.assoc_4k=12", NULL},
    };
    for (size_t mo = 0; mo < sizeof modes / sizeof *modes; mo++) {
        build(4, modes[mo]);
        rng r;
        rng_seed(&r, 11 + mo);
        uint64_t checked = 0;
        for (int step = 0; step < 40000; step++) {
            unsigned cpu = (unsigned)rng_below(&r, 4);
            uint32_t pid = 1 + (uint32_t)rng_below(&r, 3);
            /* mostly user pages, some kernel ones (global, shared by the three) */
            uint64_t base = rng_below(&r, 8) ? 0x7f0000000000ull : 0xffff888000000000ull;
            uint64_t va = base + (rng_below(&r, 8 << 20) & ~7ull);
            uint64_t dice = rng_below(&r, 1000);
            if (dice < 20) {
                uint64_t pages = 1 + rng_below(&r, 40);
                os_event(MM_EV_MUNMAP, cpu, pid, va & ~0xfffull, pages << 12);
            } else if (dice < 40) {
                os_event(MM_EV_SWITCH, cpu, pid, 0, 0);
            } else if (dice < 42) {
                os_event(MM_EV_EXIT, cpu, pid, 0, 0);
            } else {
                static const unsigned types[] = {MM_EV_READ, MM_EV_WRITE, MM_EV_IFETCH, MM_EV_RMW};
                unsigned type = types[rng_below(&r, 4)];
                uint64_t pa = acc(cpu, pid, va, type), want = 0;
                ck_assert_msg(xlate_lookup(X, pid, va, &want), "va %llx not mapped after access",
                              (unsigned long long)va);
                ck_assert_msg(pa == want, "mode %zu step %d cpu %u pid %u va %llx: pa %llx, tables %llx",
                              mo, step, cpu, pid, (unsigned long long)va, (unsigned long long)pa,
                              (unsigned long long)want);
                checked++;
            }
        }
        ck_assert_uint_gt(checked, 35000);
        ck_assert_uint_gt(st("os.unmapped_pages"), 0);
        ck_assert_uint_eq(st("mmu.unresolved_faults"), 0);
        teardown();
    }
}
END_TEST

/* The engine hands OS events to the translate path: a native trace with an access, a munmap of
 * its page and the access again takes two first-touch faults. */
START_TEST(engine_applies_os_events_from_a_trace)
{
    char path[] = "/tmp/mmusim-test-translate-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    mm_err err;
    trace_writer *w = trace_writer_open(path, TRACE_COMP_NONE, 0, NULL, 0, &err);
    ck_assert_msg(w != NULL, "%s", err.msg);
    struct mm_event ev[4];
    memset(ev, 0, sizeof ev);
    ev[0].type = MM_EV_READ;
    ev[0].addr = 0x12345000;
    ev[0].size = 8;
    ev[0].pid = 3;
    ev[1].type = MM_EV_MUNMAP;
    ev[1].addr = 0x12345000;
    ev[1].len = 4096;
    ev[1].pid = 3;
    ev[2] = ev[0];
    ev[3] = ev[0];
    ev[3].addr += 64;
    ck_assert_int_eq(trace_writer_put(w, ev, 4, &err), 0);
    ck_assert_int_eq(trace_writer_close(w, &err), 0);

    sim_config *cfg = config_create_default(&err);
    stats_registry *reg = stats_create();
    engine *e = engine_create(cfg, 1, reg, &err);
    ck_assert_msg(e != NULL, "%s", err.msg);
    trace_reader *r = trace_open(path, TRACE_FMT_AUTO, &err);
    ck_assert_msg(r != NULL, "%s", err.msg);
    struct engine_opts o;
    memset(&o, 0, sizeof o);
    struct engine_result res;
    ck_assert_int_eq(engine_run(e, &r, 1, &o, &res, &err), 0);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.first_touch_faults")), 2);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.munmaps")), 1);
    ck_assert_uint_eq(stats_value(stats_find(reg, "sim.accesses")), 3);
    ck_assert_uint_eq(stats_value(stats_find(reg, "tlb.l1d.accesses")), 3);
    ck_assert_uint_eq(stats_value(stats_find(reg, "tlb.l1d.misses")), 2);
    trace_close(r);
    engine_destroy(e);
    stats_destroy(reg);
    config_destroy(cfg);
    unlink(path);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("translate");
    TCase *tc = tcase_create("translate");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, default_machine_is_skylake_sp);
    tcase_add_test(tc, config_errors_name_the_key);
    tcase_add_test(tc, first_touch_then_munmap);
    tcase_add_test(tc, munmap_shoots_down_other_cpus);
    tcase_add_test(tc, pcid_lazy_flush_after_a_missed_shootdown);
    tcase_add_test(tc, switch_events_and_global_kernel_pages);
    tcase_add_test(tc, exit_tears_the_address_space_down);
    tcase_add_test(tc, huge_first_touch_pages);
    tcase_add_test(tc, nested_mode_maps_guest_memory_on_first_touch);
    tcase_add_test(tc, random_stress_translations_match_the_page_tables);
    tcase_add_test(tc, engine_applies_os_events_from_a_trace);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
