/* Exit codes and the error buffer that readers and parsers fill instead of exiting, so the
 * command decides how to end and tests can assert the message. */
#ifndef MMUSIM_COMMON_ERRORS_H
#define MMUSIM_COMMON_ERRORS_H

#include <stdarg.h>

enum mmusim_exit {
    MMUSIM_EXIT_OK = 0,
    MMUSIM_EXIT_FAILURE = 1,     /* the run failed for another reason (I/O on output, ...) */
    MMUSIM_EXIT_USAGE = 2,       /* bad command line or bad configuration */
    MMUSIM_EXIT_DATA = 3,        /* bad input data: corrupt, truncated or impossible trace */
    MMUSIM_EXIT_INTERRUPTED = 4, /* stopped by SIGINT/SIGTERM; reports written, complete=false */
};

#define MM_ERR_MAX 1024

typedef struct mm_err {
    char msg[MM_ERR_MAX]; /* one line, no trailing newline: "FILE: offset N: what was expected" */
} mm_err;

/* Formats into err (if non-NULL) and returns -1, so `return mm_errf(err, ...)` reads naturally. */
int mm_errf(mm_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
