/* Allocation that cannot fail silently: out of memory ends the program with a message.
 * Used at set-up time only; the per-access path allocates nothing. */
#ifndef MMUSIM_COMMON_XALLOC_H
#define MMUSIM_COMMON_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
