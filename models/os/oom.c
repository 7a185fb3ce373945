/* The OOM killer's victim selection, written from an understanding of Linux v6.12
 * mm/oom_kill.c and fs/proc/base.c (see oom.h). */
#include "models/os/oom.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/common/xalloc.h"

struct oom_killer {
    task_table *tt;
    bool kill_allocating_task;
    oom_report *log;
    size_t nr_log, cap_log;
    uint64_t kills, no_victim, aborted;
};

bool oom_unkillable_task(const mm_task *t)
{
    return task_unkillable(t);
}

/* oom_badness() */
int64_t oom_badness(const mm_task *t, uint64_t totalpages)
{
    if (oom_unkillable_task(t))
        return OOM_BADNESS_MIN;
    const mm_struct *mm = task_mm(t); /* find_lock_task_mm() */
    if (!mm)
        return OOM_BADNESS_MIN;
    int64_t adj = task_oom_score_adj(t);
    /* oom_score_adj -1000, MMF_OOM_SKIP (reaped already), in_vfork: not candidates */
    if (adj == OOM_SCORE_ADJ_MIN)
        return OOM_BADNESS_MIN;
    /* the baseline is the memory the task uses: rss, page tables and swap */
    int64_t points = (int64_t)get_mm_rss(mm) + get_mm_counter(mm, MM_SWAPENTS) +
                     (int64_t)(mm_pgtables_bytes(mm) / MM_PAGE_SIZE);
    /* normalise oom_score_adj to pages: totalpages / 1000 first */
    adj *= (int64_t)(totalpages / 1000);
    return points + adj;
}

/* proc_oom_score() */
uint64_t proc_oom_score(const mm_task *t, uint64_t totalram_pages, uint64_t total_swap_pages)
{
    uint64_t totalpages = totalram_pages + total_swap_pages;
    int64_t badness = oom_badness(t, totalpages);
    if (badness == OOM_BADNESS_MIN || !totalpages)
        return 0;
    int64_t points = (1000 + badness * 1000 / (int64_t)totalpages) * 2 / 3;
    return (uint64_t)points; /* an unsigned long in the kernel */
}

uint64_t oom_totalpages(uint64_t totalram_pages, uint64_t total_swap_pages)
{
    return totalram_pages + total_swap_pages;
}

uint64_t oom_totalpages_memcg(uint64_t memcg_max_pages)
{
    return memcg_max_pages ? memcg_max_pages : 1;
}

oom_killer *oom_killer_create(task_table *tt, stats_registry *reg)
{
    oom_killer *ok = xcalloc(1, sizeof *ok);
    ok->tt = tt;
    if (reg) {
        stats_counter(reg, "os.oom", "kills", &ok->kills, "processes the OOM killer killed");
        stats_counter(reg, "os.oom", "no_victim", &ok->no_victim,
                      "OOM invocations that found nothing killable");
        stats_counter(reg, "os.oom", "aborted", &ok->aborted,
                      "OOM invocations that waited for an earlier victim to exit");
    }
    return ok;
}

void oom_killer_destroy(oom_killer *ok)
{
    if (!ok)
        return;
    free(ok->log);
    free(ok);
}

void oom_set_kill_allocating_task(oom_killer *ok, bool on)
{
    ok->kill_allocating_task = on;
}

static bool in_scope(const mm_task *t, const oom_control *oc)
{
    return !oc->memcg_oom || task_cgroup(t) == oc->memcg;
}

/* select_bad_process() with oom_evaluate_task() */
enum oom_outcome select_bad_process(const task_table *tt, const oom_control *oc,
                                    mm_task **victim, int64_t *points)
{
    mm_task *chosen = NULL;
    int64_t chosen_points = OOM_BADNESS_MIN;
    for (mm_task *t = task_first(tt); t; t = task_next(tt, t)) {
        if (!in_scope(t, oc) || oom_unkillable_task(t))
            continue;
        /* an earlier victim not reaped yet: wait for it instead of killing another */
        if (task_state(t) == TASK_OOM_VICTIM)
            return OOM_WAIT;
        int64_t p = oom_badness(t, oc->totalpages);
        if (p == OOM_BADNESS_MIN || p < chosen_points)
            continue;
        chosen = t;
        chosen_points = p;
    }
    if (!chosen)
        return OOM_NO_VICTIM;
    *victim = chosen;
    *points = chosen_points;
    return OOM_KILLED;
}

static void fill_report(oom_report *r, const mm_task *t, int64_t points, const oom_control *oc)
{
    const mm_struct *mm = task_mm(t);
    mm_stat st;
    mm_get_stat(mm, &st);
    memset(r, 0, sizeof *r);
    r->pid = task_pid(t);
    snprintf(r->comm, sizeof r->comm, "%s", task_comm(t));
    r->points = points;
    r->totalpages = oc->totalpages;
    r->total_vm = st.total_vm;
    r->anon_rss = st.rss[MM_ANONPAGES];
    r->file_rss = st.rss[MM_FILEPAGES];
    r->shmem_rss = st.rss[MM_SHMEMPAGES];
    r->swapents = st.rss[MM_SWAPENTS];
    r->pgtables_bytes = st.pgtables_bytes;
    r->oom_score_adj = task_oom_score_adj(t);
    r->cgroup = task_cgroup(t);
    r->constraint = oc->memcg_oom ? CONSTRAINT_MEMCG : CONSTRAINT_NONE;
}

enum oom_outcome out_of_memory(oom_killer *ok, const oom_control *oc, oom_report *rep)
{
    mm_task *victim = NULL;
    int64_t points = 0;
    enum oom_outcome out = OOM_NO_VICTIM;
    /* sysctl_oom_kill_allocating_task: the current task, when it may be killed (global OOM) */
    if (ok->kill_allocating_task && !oc->memcg_oom && oc->current_pid) {
        mm_task *cur = task_find(ok->tt, oc->current_pid);
        if (cur && task_mm(cur) && !oom_unkillable_task(cur) &&
            task_oom_score_adj(cur) != OOM_SCORE_ADJ_MIN && task_state(cur) == TASK_ALIVE) {
            victim = cur;
            points = oom_badness(cur, oc->totalpages);
            out = OOM_KILLED;
        }
    }
    if (!victim)
        out = select_bad_process(ok->tt, oc, &victim, &points);
    if (out == OOM_NO_VICTIM) {
        ok->no_victim++;
        return out;
    }
    if (out == OOM_WAIT) {
        ok->aborted++;
        return out;
    }
    if (ok->nr_log == ok->cap_log) {
        ok->cap_log = ok->cap_log ? ok->cap_log * 2 : 16;
        ok->log = xrealloc(ok->log, ok->cap_log * sizeof *ok->log);
    }
    oom_report *r = &ok->log[ok->nr_log++];
    fill_report(r, victim, points, oc);
    task_mark_oom_victim(victim);
    ok->kills++;
    if (rep)
        *rep = *r;
    return OOM_KILLED;
}

size_t oom_nr_kills(const oom_killer *ok)
{
    return ok->nr_log;
}

const oom_report *oom_kill_at(const oom_killer *ok, size_t i)
{
    return i < ok->nr_log ? &ok->log[i] : NULL;
}

#define K(pages) ((pages) << (MM_PAGE_SHIFT - 10))

size_t oom_format_kill(const oom_report *r, char *buf, size_t len)
{
    int n = snprintf(buf, len,
                     "%s: Killed process %" PRIu32 " (%s) total-vm:%" PRIu64 "kB, anon-rss:%" PRIu64
                     "kB, file-rss:%" PRIu64 "kB, shmem-rss:%" PRIu64 "kB, UID:0 pgtables:%" PRIu64
                     "kB oom_score_adj:%d",
                     r->constraint == CONSTRAINT_MEMCG ? "Memory cgroup out of memory"
                                                       : "Out of memory",
                     r->pid, r->comm, K(r->total_vm), K(r->anon_rss), K(r->file_rss),
                     K(r->shmem_rss), r->pgtables_bytes >> 10, r->oom_score_adj);
    return n < 0 ? 0 : (size_t)n;
}

static size_t append(char *buf, size_t len, size_t n, const char *s)
{
    size_t l = strlen(s);
    if (n + 1 < len)
        snprintf(buf + n, len - n, "%s", s);
    return n + l;
}

/* dump_tasks() and dump_task() */
size_t oom_dump_tasks(const task_table *tt, const oom_control *oc, char *buf, size_t len)
{
    size_t n = 0;
    if (len)
        buf[0] = '\0';
    n = append(buf, len, n, "Tasks state (memory values in pages):\n");
    n = append(buf, len, n,
               "[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem "
               "pgtables_bytes swapents oom_score_adj name\n");
    for (const mm_task *t = task_first(tt); t; t = task_next(tt, t)) {
        if (!in_scope(t, oc) || oom_unkillable_task(t) || !task_mm(t))
            continue;
        mm_stat st;
        mm_get_stat(task_mm(t), &st);
        char line[256];
        snprintf(line, sizeof line,
                 "[%7" PRIu32 "] %5d %5" PRIu32 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
                 " %9" PRIu64 " %8" PRIu64 " %8" PRIu64 "         %5d %s\n",
                 task_pid(t), 0, task_pid(t), st.total_vm, get_mm_rss(task_mm(t)),
                 st.rss[MM_ANONPAGES], st.rss[MM_FILEPAGES], st.rss[MM_SHMEMPAGES],
                 st.pgtables_bytes, st.rss[MM_SWAPENTS], task_oom_score_adj(t), task_comm(t));
        n = append(buf, len, n, line);
    }
    return n;
}
