/* The unit of work the trace readers hand to the engine: one access or one OS event.
 * Every reader (native, lackey, din, text, ChampSim) decodes into arrays of these. */
#ifndef MMUSIM_TRACES_EVENT_H
#define MMUSIM_TRACES_EVENT_H

#include <stdint.h>

enum mm_event_type {
    /* accesses: the low values so that `type < MM_EV_OS_FIRST` tests for an access */
    MM_EV_READ = 0,   /* data load */
    MM_EV_WRITE = 1,  /* data store */
    MM_EV_IFETCH = 2, /* instruction fetch */
    MM_EV_RMW = 3,    /* read-modify-write: one access (cachegrind's "M") */
    MM_EV_OS_FIRST = 16,
    /* OS events; the kernel model gives them meaning, the trace format carries them */
    MM_EV_MMAP = 16,     /* addr, len, arg = file offset, flags = prot | map flags, file = file id */
    MM_EV_MUNMAP = 17,   /* addr, len */
    MM_EV_BRK = 18,      /* addr = new program break */
    MM_EV_MPROTECT = 19, /* addr, len, flags = prot */
    MM_EV_MADVISE = 20,  /* addr, len, flags = advice (MM_MADV_*) */
    MM_EV_FORK = 21,     /* pid = parent, arg = child pid */
    MM_EV_EXIT = 22,     /* pid */
    MM_EV_SWITCH = 23,   /* cpu now runs pid */
    MM_EV_FILE_READ = 24,  /* file = file id, arg = offset, len */
    MM_EV_FILE_WRITE = 25, /* file = file id, arg = offset, len */
    MM_EV_CGROUP_MOVE = 26, /* pid moves to cgroup arg */
    MM_EV_HOTPLUG = 27,     /* addr = physical start, len, flags = MM_HOTPLUG_ONLINE/OFFLINE */
    MM_EV_KMALLOC = 28,     /* len = bytes, arg = object id */
    MM_EV_KFREE = 29,       /* arg = object id */
    MM_EV_VMALLOC = 30,     /* len = bytes, arg = object id */
    MM_EV_VFREE = 31,       /* arg = object id */
    MM_EV_TYPE_MAX = 32
};

/* mmap flags packed into mm_event.flags: prot in the low byte, map flags above */
#define MM_PROT_READ 0x1u
#define MM_PROT_WRITE 0x2u
#define MM_PROT_EXEC 0x4u
#define MM_MAP_SHARED 0x100u
#define MM_MAP_PRIVATE 0x200u
#define MM_MAP_ANONYMOUS 0x400u
#define MM_MAP_FIXED 0x800u
#define MM_MAP_HUGETLB 0x1000u
#define MM_MAP_HUGE_1GB 0x2000u

#define MM_MADV_DONTNEED 4u
#define MM_MADV_FREE 8u
#define MM_MADV_HUGEPAGE 14u
#define MM_MADV_NOHUGEPAGE 15u

#define MM_HOTPLUG_ONLINE 1u
#define MM_HOTPLUG_OFFLINE 2u
#define MM_HOTPLUG_ONLINE_MOVABLE 3u

/* Largest access a record may describe (a page). */
#define MM_ACCESS_MAX_SIZE 4096u
#define MM_MAX_CPUS 256u

struct mm_event {
    uint64_t addr;  /* access: virtual address; OS event: start address */
    uint64_t len;   /* OS event: length in bytes; access: 0 */
    uint64_t arg;   /* OS event: file offset, child pid, cgroup id, object id */
    uint32_t pid;   /* process issuing the record */
    uint32_t gap;   /* instructions retired since this cpu's previous record (0 if unknown) */
    uint32_t size;  /* access: bytes touched (1..MM_ACCESS_MAX_SIZE) */
    uint32_t flags; /* OS event: prot / map flags / advice / hotplug op */
    uint32_t file;  /* OS event: file id for file mappings and file I/O */
    uint16_t cpu;   /* cpu the record runs on */
    uint8_t type;   /* enum mm_event_type */
    uint8_t reserved;
};

static inline int mm_event_is_access(const struct mm_event *e)
{
    return e->type < MM_EV_OS_FIRST;
}

/* Stable lower-case names, used by `mmusim info`, the text format and errors. */
const char *mm_event_type_name(unsigned type);
/* Returns the type for a name, or -1. */
int mm_event_type_from_name(const char *name);

#endif
