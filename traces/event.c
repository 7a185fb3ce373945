#include "traces/event.h"

#include <string.h>

static const char *const type_names[MM_EV_TYPE_MAX] = {
    [MM_EV_READ] = "read",         [MM_EV_WRITE] = "write",
    [MM_EV_IFETCH] = "ifetch",     [MM_EV_RMW] = "rmw",
    [MM_EV_MMAP] = "mmap",         [MM_EV_MUNMAP] = "munmap",
    [MM_EV_BRK] = "brk",           [MM_EV_MPROTECT] = "mprotect",
    [MM_EV_MADVISE] = "madvise",   [MM_EV_FORK] = "fork",
    [MM_EV_EXIT] = "exit",         [MM_EV_SWITCH] = "switch",
    [MM_EV_FILE_READ] = "file_read", [MM_EV_FILE_WRITE] = "file_write",
    [MM_EV_CGROUP_MOVE] = "cgroup_move", [MM_EV_HOTPLUG] = "hotplug",
    [MM_EV_KMALLOC] = "kmalloc",   [MM_EV_KFREE] = "kfree",
    [MM_EV_VMALLOC] = "vmalloc",   [MM_EV_VFREE] = "vfree",
};

const char *mm_event_type_name(unsigned type)
{
    if (type < MM_EV_TYPE_MAX && type_names[type])
        return type_names[type];
    return "unknown";
}

int mm_event_type_from_name(const char *name)
{
    for (unsigned t = 0; t < MM_EV_TYPE_MAX; t++)
        if (type_names[t] && strcmp(type_names[t], name) == 0)
            return (int)t;
    return -1;
}
