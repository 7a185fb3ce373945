/* The OOM killer's choice of victim, modelled on Linux v6.12 mm/oom_kill.c (oom_badness,
 * oom_evaluate_task, select_bad_process, out_of_memory, __oom_kill_process, dump_tasks) and
 * fs/proc/base.c (proc_oom_score). It decides whom to kill and records the kill; freeing the
 * victim's memory is the facade's (task_exit after the kill, standing in for the exit and the
 * oom_reaper).
 *
 * Badness, in pages: rss (file + anon + shmem) + swap entries + page-table bytes / 4096, plus
 * oom_score_adj * (totalpages / 1000) -- the division first, as the kernel does it. Tasks that
 * are unkillable (init, kernel threads) or have oom_score_adj -1000 score LONG_MIN and are never
 * chosen. Since v5.9 badness may be negative and is not clamped.
 *
 * The scan walks the process table in creation order (the kernel's for_each_process order: new
 * tasks are appended to the init task's list), and a later task with points equal to the best so
 * far replaces it (oom_evaluate_task skips only points < chosen_points): ties go to the task
 * created last. A task already chosen whose memory has not been freed yet aborts the scan (the
 * kernel waits for the victim rather than killing a second task). */
#ifndef MMUSIM_OS_OOM_H
#define MMUSIM_OS_OOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/common/stats.h"
#include "models/os/mm.h"

#define OOM_BADNESS_MIN INT64_MIN /* LONG_MIN: never chosen */

enum oom_constraint { CONSTRAINT_NONE, CONSTRAINT_CPUSET, CONSTRAINT_MEMORY_POLICY,
                      CONSTRAINT_MEMCG };

/* What an OOM kill records (the "Killed process" line and the victim's dump_tasks row). */
typedef struct oom_report {
    uint32_t pid;
    char comm[16];
    int64_t points;          /* oom_badness() at selection */
    uint64_t totalpages;
    uint64_t total_vm;       /* pages */
    uint64_t anon_rss, file_rss, shmem_rss, swapents; /* pages */
    uint64_t pgtables_bytes;
    int oom_score_adj;
    uint32_t cgroup;
    enum oom_constraint constraint;
} oom_report;

/* oom_badness(): LONG_MIN (OOM_BADNESS_MIN) for unkillable tasks, tasks without an mm and
 * oom_score_adj -1000; else the points above. */
int64_t oom_badness(const mm_task *t, uint64_t totalpages);
/* oom_unkillable_task(): init and kernel threads */
bool oom_unkillable_task(const mm_task *t);
/* /proc/PID/oom_score: (1000 + badness * 1000 / totalpages) * 2 / 3, 0 for LONG_MIN, with
 * totalpages = RAM + swap. */
uint64_t proc_oom_score(const mm_task *t, uint64_t totalram_pages, uint64_t total_swap_pages);
/* constrained_alloc(): totalpages for a global OOM is totalram + total swap; for a memcg OOM it
 * is mem_cgroup_get_max(), or 1 when that is 0. */
uint64_t oom_totalpages(uint64_t totalram_pages, uint64_t total_swap_pages);
uint64_t oom_totalpages_memcg(uint64_t memcg_max_pages);

typedef struct oom_killer oom_killer;

/* Registers under "os.oom" when reg is non-NULL: counters kills, no_victim, aborted. */
oom_killer *oom_killer_create(task_table *tt, stats_registry *reg);
void oom_killer_destroy(oom_killer *ok);
/* vm.oom_kill_allocating_task (default 0): kill the task that asked for memory, if killable. */
void oom_set_kill_allocating_task(oom_killer *ok, bool on);

typedef struct oom_control {
    uint64_t totalpages;   /* oom_totalpages() or oom_totalpages_memcg() */
    bool memcg_oom;        /* only tasks of cgroup `memcg` are candidates */
    uint32_t memcg;
    uint32_t current_pid;  /* the allocating task (for oom_kill_allocating_task), 0 if none */
} oom_control;

enum oom_outcome {
    OOM_KILLED,    /* a victim was chosen and marked (TASK_OOM_VICTIM); *rep describes it */
    OOM_NO_VICTIM, /* nothing killable (a global OOM would panic here) */
    OOM_WAIT,      /* an earlier victim still holds its memory: nothing killed */
};

/* select_bad_process(): the task to kill, without killing it. Returns the outcome;
 * *victim and *points are set for OOM_KILLED. */
enum oom_outcome select_bad_process(const task_table *tt, const oom_control *oc,
                                    mm_task **victim, int64_t *points);
/* out_of_memory() -> oom_kill_process() -> __oom_kill_process(): choose, mark the victim,
 * append the record to the kill log and copy it to *rep (may be NULL). */
enum oom_outcome out_of_memory(oom_killer *ok, const oom_control *oc, oom_report *rep);

/* The kill log, oldest first. */
size_t oom_nr_kills(const oom_killer *ok);
const oom_report *oom_kill_at(const oom_killer *ok, size_t i);

/* "Out of memory: Killed process 171 (sh) total-vm:3102440kB, anon-rss:1670644kB,
 * file-rss:0kB, shmem-rss:1852kB, UID:0 pgtables:3336kB oom_score_adj:0" ("Memory cgroup out
 * of memory" for CONSTRAINT_MEMCG). Returns the length needed, snprintf-style. UID is 0: the
 * model has no users. */
size_t oom_format_kill(const oom_report *r, char *buf, size_t len);
/* dump_tasks(): "Tasks state (memory values in pages):", the column header and one row per
 * candidate task (killable, with an mm, in the memcg for a memcg OOM). */
size_t oom_dump_tasks(const task_table *tt, const oom_control *oc, char *buf, size_t len);

#endif
