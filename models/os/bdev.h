/* Backing block devices of the kernel model: the disk behind the page cache and the swap devices.
 * A device is a latency per 4 KiB read and write plus a parallelism: a request submitted at time t
 * starts when the device has a free slot (max(t, next_free)), completes latency later, and moves
 * next_free on by latency / parallel, so back-to-back requests see the device's throughput and a
 * queue builds up behind a burst. Synchronous devices (zram) do the work on the submitting CPU:
 * every request costs its latency and nothing queues.
 *
 * Presets (typical figures, not measurements of a particular part):
 *   ssd   SATA SSD, 80 us read / 100 us write per 4 KiB, 8 in parallel (~100k/80k IOPS)
 *   nvme  NVMe SSD, 25 us read / 30 us write, 64 in parallel
 *   hdd   7200 rpm disk, 8 ms read and write (average seek ~4 ms + half a rotation 4.17 ms), 1
 *   zram  compressed RAM (lzo-rle), 1.5 us to decompress / 3 us to compress a page on the
 *         faulting or reclaiming CPU, synchronous, compression ratio 3.0
 * Latencies are converted to cycles at the core frequency given at creation. */
#ifndef MMUSIM_OS_BDEV_H
#define MMUSIM_OS_BDEV_H

#include <stdbool.h>
#include <stdint.h>

enum bdev_kind { BDEV_SSD, BDEV_NVME, BDEV_HDD, BDEV_ZRAM, NR_BDEV_KINDS };

struct bdev_config {
    enum bdev_kind kind;
    double read_us, write_us; /* per 4 KiB page */
    unsigned parallel;        /* requests served at once (>= 1) */
    bool synchronous;         /* SWP_SYNCHRONOUS_IO: served on the submitting CPU */
    double compress_ratio;    /* zram: original / compressed size (>= 1) */
    unsigned max_inflight;    /* requests the flusher keeps queued (nr_requests); 0 = 128 */
};

/* The preset of a kind; name lookup ("ssd", "nvme", "hdd", "zram") returns -1 when unknown. */
void bdev_config_preset(struct bdev_config *cfg, enum bdev_kind kind);
int bdev_config_by_name(struct bdev_config *cfg, const char *name);
const char *bdev_kind_name(enum bdev_kind kind);

typedef struct mm_bdev mm_bdev;

mm_bdev *mm_bdev_create(const struct bdev_config *cfg, double freq_mhz);
void mm_bdev_destroy(mm_bdev *b);
const struct bdev_config *bdev_config_of(const mm_bdev *b);

/* Submits one 4 KiB read or write at time now (cycles); returns its completion time. */
uint64_t bdev_submit(mm_bdev *b, uint64_t now, bool write);
uint64_t bdev_read_cycles(const mm_bdev *b);
uint64_t bdev_write_cycles(const mm_bdev *b);
uint64_t bdev_nr_inflight(const mm_bdev *b); /* writes queued and not yet completed */
uint64_t bdev_reads(const mm_bdev *b);
uint64_t bdev_writes(const mm_bdev *b);

#endif
