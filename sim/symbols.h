/* ELF symbol attribution for `mmusim run --symbols`: which function fetched the instructions that
 * missed, which data object (or region: heap, stack, a mapped file, anonymous memory) the missing
 * loads and stores touched.
 *
 * Images: the main executable (--elf, else the trace's `executable` metadata) and every file the
 * trace maps with PROT_EXEC (MM_EV_MMAP with a file id whose `file.N` metadata names it). Their
 * .symtab (else .dynsym) functions (STT_FUNC) and data objects (STT_OBJECT) with a size are kept
 * sorted by address for binary search. A library's load bias is that of the PT_LOAD segment its
 * executable mapping covers; the executable's is 0 for ET_EXEC, --elf-base for PIE if given,
 * else 0x108000, where valgrind (which `mmusim capture` uses) loads amd64 PIE executables.
 *
 * Every measured access lands in exactly one bucket, so the buckets' accesses and misses add up to
 * the run's totals. Misses are what the engine knows for free: the cache level that served the
 * access (L1 miss: served below L1; LLC miss: served by memory) and the page walks started while
 * translating it (the walker's walk counter, read only when attribution is on). */
#ifndef MMUSIM_SIM_SYMBOLS_H
#define MMUSIM_SIM_SYMBOLS_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "models/common/errors.h"
#include "models/common/stats.h"
#include "traces/event.h"
#include "traces/trace.h"

#define SYMBOLS_VALGRIND_PIE_BASE 0x108000ull

typedef struct symbols symbols;

struct symbols_opts {
    const char *elf;   /* the main executable; NULL: the trace's `executable` metadata */
    uint64_t elf_base; /* load address of a PIE executable */
    int have_base;     /* elf_base given */
};

/* Loads the executable's symbols (when there is one) and keeps the trace's file names for the
 * libraries it maps later. NULL with err when the given --elf cannot be read. */
symbols *symbols_create(const struct symbols_opts *o, const trace_reader *tr, mm_err *err);
void symbols_destroy(symbols *s);

/* OS events: MMAP (regions, libraries), BRK (the heap). */
void symbols_os_event(symbols *s, const struct mm_event *ev);
/* One measured access, served by cache level `level` (enum mem_level), `walks` page walks. */
void symbols_access(symbols *s, const struct mm_event *ev, unsigned level, uint64_t walks);
/* Warmup over: counts back to zero (the regions and images stay). */
void symbols_reset(symbols *s);

/* The text table: the top `top` buckets by L1 misses. */
void symbols_report_text(FILE *out, const symbols *s, unsigned top);
/* Every bucket with an access, by L1 misses; plus the images and their biases. */
json_t *symbols_json(const symbols *s);

#endif
