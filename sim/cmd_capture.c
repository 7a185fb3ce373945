/* mmusim capture: run a real program under valgrind (lackey's memory trace plus valgrind's system
 * call trace) and write one native trace where its accesses and its mmap, munmap, brk, mprotect,
 * madvise, mremap, fork/clone and exit events stand in the order they happened.
 *
 * valgrind writes its log into a pipe (--log-fd); each line is converted as it arrives
 * (traces/capture.c) into a temporary native trace beside OUT, so nothing the size of the text
 * log is ever stored. At the end the trace is rewritten with the complete metadata (the files the
 * mappings named are known only then) and renamed into place. The program's own arguments go to
 * execvp as they are: nothing passes through a shell. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <getopt.h>
#include <libelf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "models/common/errors.h"
#include "models/common/xalloc.h"
#include "sim/commands.h"
#include "traces/capture.h"
#include "traces/trace.h"

#define CAPTURE_BATCH 4096
#define CAPTURE_LOG_FD 97 /* the fd number valgrind writes its log to, in the child */

/* The executable execvp would run: PROG itself when it has a slash, else the first match in PATH. */
static char *resolve_program(const char *prog)
{
    if (strchr(prog, '/'))
        return realpath(prog, NULL);
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    char *copy = xstrdup(path), *save = NULL;
    for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        char *cand = xasprintf("%s/%s", *dir ? dir : ".", prog);
        if (access(cand, X_OK) == 0) {
            char *real = realpath(cand, NULL);
            free(cand);
            free(copy);
            return real;
        }
        free(cand);
    }
    free(copy);
    return NULL;
}

/* The GNU build-id note of an ELF file as hex, and its PT_LOAD segments ("vaddr+memsz:rwx ..."),
 * read with libelf. Either may come back NULL when the file has none. */
static void read_elf_identity(const char *path, char **build_id, char **segments)
{
    *build_id = *segments = NULL;
    if (elf_version(EV_CURRENT) == EV_NONE)
        return;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return;
    Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
    if (elf && elf_kind(elf) == ELF_K_ELF) {
        Elf_Scn *scn = NULL;
        while (!*build_id && (scn = elf_nextscn(elf, scn))) {
            GElf_Shdr sh;
            if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
                continue;
            Elf_Data *data = elf_getdata(scn, NULL);
            size_t off = 0, name_off, desc_off;
            GElf_Nhdr nh;
            while (data && (off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
                if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
                    !memcmp((char *)data->d_buf + name_off, "GNU", 4)) {
                    char *hex = xmalloc(nh.n_descsz * 2 + 1);
                    const unsigned char *d = (const unsigned char *)data->d_buf + desc_off;
                    for (size_t i = 0; i < nh.n_descsz; i++)
                        sprintf(hex + 2 * i, "%02x", d[i]);
                    hex[nh.n_descsz * 2] = 0;
                    *build_id = hex;
                    break;
                }
            }
        }
        size_t nph = 0;
        if (elf_getphdrnum(elf, &nph) == 0) {
            size_t cap = 64 + nph * 48, len = 0;
            char *s = xcalloc(1, cap);
            for (size_t i = 0; i < nph; i++) {
                GElf_Phdr ph;
                if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
                    continue;
                len += (size_t)snprintf(s + len, cap - len, "%s0x%llx+0x%llx:%c%c%c", len ? " " : "",
                                        (unsigned long long)ph.p_vaddr, (unsigned long long)ph.p_memsz,
                                        ph.p_flags & PF_R ? 'r' : '-', ph.p_flags & PF_W ? 'w' : '-',
                                        ph.p_flags & PF_X ? 'x' : '-');
            }
            if (len)
                *segments = s;
            else
                free(s);
        }
    }
    if (elf)
        elf_end(elf);
    close(fd);
}

/* Joins argv into one line for the metadata, quoting words with spaces or quotes. */
static char *join_cmdline(char *const *argv)
{
    size_t cap = 16, len = 0;
    char *s = xcalloc(1, cap);
    for (size_t i = 0; argv[i]; i++) {
        const char *a = argv[i];
        int quote = !*a || strpbrk(a, " \t'\"\\") != NULL;
        size_t need = len + strlen(a) * 4 + 8;
        if (need > cap) {
            cap = need * 2;
            s = xrealloc(s, cap);
        }
        if (i)
            s[len++] = ' ';
        if (quote) {
            s[len++] = '\'';
            for (; *a; a++) {
                if (*a == '\'') {
                    memcpy(s + len, "'\\''", 4);
                    len += 4;
                } else {
                    s[len++] = *a;
                }
            }
            s[len++] = '\'';
        } else {
            memcpy(s + len, a, strlen(a));
            len += strlen(a);
        }
        s[len] = 0;
    }
    return s;
}

struct line_buffer {
    int fd;
    char *buf;
    size_t cap, start, end;
    int eof;
};

/* The next line from fd (without the newline), or NULL at the end. */
static char *next_line(struct line_buffer *lb, size_t *len)
{
    for (;;) {
        char *nl = lb->end > lb->start ? memchr(lb->buf + lb->start, '\n', lb->end - lb->start) : NULL;
        if (nl) {
            char *line = lb->buf + lb->start;
            *len = (size_t)(nl - line);
            lb->start = (size_t)(nl - lb->buf) + 1;
            return line;
        }
        if (lb->eof) {
            if (lb->end > lb->start) { /* a last line without a newline */
                char *line = lb->buf + lb->start;
                *len = lb->end - lb->start;
                lb->start = lb->end;
                return line;
            }
            return NULL;
        }
        if (lb->start > 0) {
            memmove(lb->buf, lb->buf + lb->start, lb->end - lb->start);
            lb->end -= lb->start;
            lb->start = 0;
        }
        if (lb->end == lb->cap) {
            lb->cap *= 2;
            lb->buf = xrealloc(lb->buf, lb->cap);
        }
        ssize_t n = read(lb->fd, lb->buf + lb->end, lb->cap - lb->end);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            lb->eof = 1;
        else
            lb->end += (size_t)n;
    }
}

static void capture_usage(FILE *out)
{
    fprintf(out,
            "usage: mmusim capture [-o OUT] [--compress C] [--level N] [-q] -- PROG [ARGS...]\n\n"
            "Runs PROG under valgrind (lackey --trace-mem=yes, --trace-syscalls=yes) and writes one\n"
            "native trace (default OUT: PROG's name + .mmt) with its accesses and its memory system\n"
            "calls in order, and metadata: command line, executable, ELF build-id and PT_LOAD\n"
            "segments, files mapped. Forked children run untraced (their fork is recorded).\n"
            "  -o, --output FILE     the trace to write\n"
            "  -c, --compress C      chunk compression: zstd (default), gzip, xz, none\n"
            "      --level N         compression level (0: the codec's default)\n"
            "      --valgrind PATH   the valgrind to run (default: valgrind from PATH)\n"
            "  -q, --quiet           no progress line\n");
}

int cmd_capture(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},   {"compress", required_argument, NULL, 'c'},
        {"level", required_argument, NULL, 'l'},    {"valgrind", required_argument, NULL, 'V'},
        {"quiet", no_argument, NULL, 'q'},          {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out_path = NULL, *valgrind = "valgrind";
    enum trace_compression comp = TRACE_COMP_ZSTD;
    int level = 0, quiet = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+o:c:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out_path = optarg; break;
        case 'c': {
            int v = trace_compression_from_name(optarg);
            if (v < 0) {
                fprintf(stderr, "mmusim capture: --compress '%s': expected zstd, gzip, xz or none\n", optarg);
                return MMUSIM_EXIT_USAGE;
            }
            comp = (enum trace_compression)v;
            break;
        }
        case 'l': level = atoi(optarg); break;
        case 'V': valgrind = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': capture_usage(stdout); return 0;
        default: capture_usage(stderr); return MMUSIM_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "mmusim capture: no program given (mmusim capture -- PROG ARGS...)\n");
        return MMUSIM_EXIT_USAGE;
    }
    char **prog_argv = argv + optind;
    char *exe = resolve_program(prog_argv[0]);
    if (!exe) {
        fprintf(stderr, "mmusim capture: %s: program not found\n", prog_argv[0]);
        return MMUSIM_EXIT_USAGE;
    }
    char *default_out = NULL;
    if (!out_path) {
        const char *base = strrchr(prog_argv[0], '/');
        default_out = xasprintf("%s.mmt", base ? base + 1 : prog_argv[0]);
        out_path = default_out;
    }

    int pipefd[2];
    if (pipe(pipefd)) {
        fprintf(stderr, "mmusim capture: pipe: %s\n", strerror(errno));
        return MMUSIM_EXIT_FAILURE;
    }
    /* valgrind's arguments, then the program's, untouched */
    size_t nprog = (size_t)(argc - optind);
    char **vargv = xcalloc(nprog + 10, sizeof *vargv);
    char logfd_opt[32];
    snprintf(logfd_opt, sizeof logfd_opt, "--log-fd=%d", CAPTURE_LOG_FD);
    size_t k = 0;
    vargv[k++] = (char *)valgrind;
    vargv[k++] = "--tool=lackey";
    vargv[k++] = "--trace-mem=yes";
    vargv[k++] = "--trace-syscalls=yes";
    vargv[k++] = "--child-silent-after-fork=yes";
    vargv[k++] = logfd_opt;
    for (size_t i = 0; i < nprog; i++)
        vargv[k++] = prog_argv[i];
    vargv[k] = NULL;

    pid_t child = fork();
    if (child < 0) {
        fprintf(stderr, "mmusim capture: fork: %s\n", strerror(errno));
        return MMUSIM_EXIT_FAILURE;
    }
    if (child == 0) {
        close(pipefd[0]);
        if (dup2(pipefd[1], CAPTURE_LOG_FD) < 0)
            _exit(126);
        if (pipefd[1] != CAPTURE_LOG_FD)
            close(pipefd[1]);
        execvp(valgrind, vargv);
        fprintf(stderr, "mmusim capture: cannot run %s: %s (install valgrind)\n", valgrind,
                strerror(errno));
        _exit(127);
    }
    close(pipefd[1]);

    mm_err err;
    char *tmp_path = xasprintf("%s.capture.%ld", out_path, (long)getpid());
    trace_writer *tw = trace_writer_open(tmp_path, TRACE_COMP_ZSTD, 1, NULL, 0, &err);
    int rc = MMUSIM_EXIT_OK;
    capture_parser *cp = capture_parser_create("valgrind log");
    struct mm_event *batch = xmalloc(CAPTURE_BATCH * sizeof *batch);
    size_t nb = 0;
    uint64_t records = 0;
    struct line_buffer lb = {pipefd[0], xmalloc(1 << 16), 1 << 16, 0, 0, 0};
    int show = !quiet && isatty(2);
    time_t last = 0;
    if (!tw) {
        fprintf(stderr, "mmusim capture: %s\n", err.msg);
        rc = MMUSIM_EXIT_FAILURE;
    }
    char *line;
    size_t len;
    while ((line = next_line(&lb, &len))) {
        if (rc)
            continue; /* drain the pipe so valgrind can finish */
        struct mm_event ev[CAPTURE_MAX_EVENTS_PER_LINE];
        int n = capture_parse_line(cp, line, len, ev, &err);
        if (n < 0) {
            fprintf(stderr, "mmusim capture: %s\n", err.msg);
            rc = MMUSIM_EXIT_DATA;
            continue;
        }
        for (int i = 0; i < n; i++) {
            batch[nb++] = ev[i];
            if (nb == CAPTURE_BATCH) {
                if (trace_writer_put(tw, batch, nb, &err)) {
                    fprintf(stderr, "mmusim capture: %s\n", err.msg);
                    rc = MMUSIM_EXIT_FAILURE;
                }
                records += nb;
                nb = 0;
                if (show && time(NULL) != last) {
                    last = time(NULL);
                    fprintf(stderr, "\r  %.1fM records, %llu system calls   ", (double)records / 1e6,
                            (unsigned long long)capture_syscalls_seen(cp));
                }
            }
        }
    }
    close(pipefd[0]);
    if (!rc && nb && trace_writer_put(tw, batch, nb, &err)) {
        fprintf(stderr, "mmusim capture: %s\n", err.msg);
        rc = MMUSIM_EXIT_FAILURE;
    }
    records += nb;
    if (tw && trace_writer_close(tw, &err) && !rc) {
        fprintf(stderr, "mmusim capture: %s\n", err.msg);
        rc = MMUSIM_EXIT_FAILURE;
    }
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
        ;
    if (show)
        fprintf(stderr, "\r%60s\r", "");
    int prog_exit = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (!rc && WIFEXITED(status) && (prog_exit == 126 || prog_exit == 127) && records == 0) {
        fprintf(stderr, "mmusim capture: valgrind did not run %s (exit %d)\n", prog_argv[0], prog_exit);
        rc = MMUSIM_EXIT_FAILURE;
    }

    if (!rc) {
        /* the final trace: the same events, with every piece of metadata now known */
        char *build_id, *segments;
        read_elf_identity(exe, &build_id, &segments);
        char *cmdline = join_cmdline(prog_argv);
        char exit_str[16];
        snprintf(exit_str, sizeof exit_str, "%d", prog_exit);
        size_t nfiles = capture_file_count(cp);
        struct trace_kv *meta = xcalloc(nfiles + 12, sizeof *meta);
        size_t nm = 0;
        meta[nm++] = (struct trace_kv){"tool", "mmusim capture (valgrind lackey + syscall trace)"};
        meta[nm++] = (struct trace_kv){"cmdline", cmdline};
        meta[nm++] = (struct trace_kv){"executable", exe};
        if (build_id)
            meta[nm++] = (struct trace_kv){"build_id", build_id};
        if (segments)
            meta[nm++] = (struct trace_kv){"exe_segments", segments};
        meta[nm++] = (struct trace_kv){"page_size", "4096"};
        meta[nm++] = (struct trace_kv){"cpus", "1"};
        meta[nm++] = (struct trace_kv){"exit_status", exit_str};
        for (size_t i = 0; i < nfiles; i++)
            meta[nm++] = capture_file_at(cp, i);
        trace_reader *tr = trace_open(tmp_path, TRACE_FMT_NATIVE, &err);
        char *final_tmp = xasprintf("%s.tmp.%ld", out_path, (long)getpid());
        trace_writer *fw = tr ? trace_writer_open(final_tmp, comp, level, meta, nm, &err) : NULL;
        long n = 0;
        while (fw && (n = trace_read(tr, batch, CAPTURE_BATCH, &err)) > 0)
            if (trace_writer_put(fw, batch, (size_t)n, &err)) {
                n = -1;
                break;
            }
        if (!fw || n < 0 || trace_writer_close(fw, &err) || rename(final_tmp, out_path)) {
            fprintf(stderr, "mmusim capture: %s: %s\n", out_path, err.msg[0] ? err.msg : strerror(errno));
            unlink(final_tmp);
            rc = MMUSIM_EXIT_FAILURE;
        }
        if (tr)
            trace_close(tr);
        if (!rc && !quiet)
            fprintf(stderr, "mmusim capture: %s: %llu records (%llu system calls seen), program exit %d\n",
                    out_path, (unsigned long long)records, (unsigned long long)capture_syscalls_seen(cp),
                    prog_exit);
        free(final_tmp);
        free(meta);
        free(cmdline);
        free(build_id);
        free(segments);
    }
    unlink(tmp_path);
    free(tmp_path);
    free(lb.buf);
    free(batch);
    capture_parser_destroy(cp);
    free(vargv);
    free(exe);
    free(default_out);
    return rc;
}
