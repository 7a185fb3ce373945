/* Backing block devices; see bdev.h. */
#include "models/os/bdev.h"

#include <stdlib.h>
#include <string.h>

#include "models/common/xalloc.h"
#include "models/os/reclaim_internal.h"

static const char *const kind_names[NR_BDEV_KINDS] = {"ssd", "nvme", "hdd", "zram"};

const char *bdev_kind_name(enum bdev_kind k)
{
    return (unsigned)k < NR_BDEV_KINDS ? kind_names[k] : "?";
}

void bdev_config_preset(struct bdev_config *c, enum bdev_kind k)
{
    memset(c, 0, sizeof *c);
    c->kind = k;
    c->compress_ratio = 1.0;
    c->max_inflight = 128;
    switch (k) {
    case BDEV_SSD:
        c->read_us = 80;
        c->write_us = 100;
        c->parallel = 8;
        break;
    case BDEV_NVME:
        c->read_us = 25;
        c->write_us = 30;
        c->parallel = 64;
        break;
    case BDEV_HDD:
        c->read_us = 8000;
        c->write_us = 8000;
        c->parallel = 1;
        break;
    case BDEV_ZRAM:
    default:
        c->kind = BDEV_ZRAM;
        c->read_us = 1.5;
        c->write_us = 3;
        c->parallel = 1;
        c->synchronous = true;
        c->compress_ratio = 3.0;
        break;
    }
}

int bdev_config_by_name(struct bdev_config *c, const char *name)
{
    for (int k = 0; k < NR_BDEV_KINDS; k++)
        if (strcmp(name, kind_names[k]) == 0) {
            bdev_config_preset(c, (enum bdev_kind)k);
            return 0;
        }
    return -1;
}

mm_bdev *mm_bdev_create(const struct bdev_config *cfg, double freq_mhz)
{
    mm_bdev *b = xcalloc(1, sizeof *b);
    b->cfg = *cfg;
    if (!b->cfg.parallel)
        b->cfg.parallel = 1;
    if (!b->cfg.max_inflight)
        b->cfg.max_inflight = 128;
    if (b->cfg.compress_ratio < 1.0)
        b->cfg.compress_ratio = 1.0;
    b->read_cycles = (uint64_t)(cfg->read_us * freq_mhz + 0.5);
    b->write_cycles = (uint64_t)(cfg->write_us * freq_mhz + 0.5);
    b->wb_head = b->wb_tail = LRU_NIL;
    return b;
}

void mm_bdev_destroy(mm_bdev *b) { free(b); }
const struct bdev_config *bdev_config_of(const mm_bdev *b) { return &b->cfg; }
uint64_t bdev_read_cycles(const mm_bdev *b) { return b->read_cycles; }
uint64_t bdev_write_cycles(const mm_bdev *b) { return b->write_cycles; }
uint64_t bdev_nr_inflight(const mm_bdev *b) { return b->nr_inflight; }
uint64_t bdev_reads(const mm_bdev *b) { return b->reads; }
uint64_t bdev_writes(const mm_bdev *b) { return b->writes; }

uint64_t bdev_submit(mm_bdev *b, uint64_t now, bool write)
{
    uint64_t lat = write ? b->write_cycles : b->read_cycles;
    if (write)
        b->writes++;
    else
        b->reads++;
    if (b->cfg.synchronous)
        return now + lat;
    uint64_t start = b->next_free > now ? b->next_free : now;
    b->next_free = start + lat / b->cfg.parallel;
    return start + lat;
}
