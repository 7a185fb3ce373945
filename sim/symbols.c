#include "sim/symbols.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "models/common/xalloc.h"

/* what an access is attributed to: a symbol or a region */
struct bucket {
    char *name;
    const char *image; /* the image's or mapped file's path ("" for heap, stack, anon) */
    const char *kind;  /* "function", "object", "code", "data", "heap", "stack", "file", "anon" */
    uint64_t accesses, l1_misses, llc_misses, walks;
};

struct range {
    uint64_t start, end; /* run-time addresses, bias applied */
    size_t bucket;
};

struct image {
    char *path;
    uint64_t bias;
    uint64_t lo, hi; /* PT_LOAD span, bias applied */
    int loaded;      /* symbols read (bias known) */
    struct range *funcs, *objs;
    size_t nfuncs, nobjs;
    size_t code_bucket, data_bucket; /* accesses in the image outside any symbol */
    const char *bias_source;
};

struct mapping {
    uint64_t start, end;
    uint32_t file;
};

struct symbols {
    struct bucket *b;
    size_t nb, capb;
    struct image *img;
    size_t nimg, capimg;
    struct mapping *maps;
    size_t nmaps, capmaps;
    uint64_t maps_top; /* highest end of any mapping */
    uint64_t heap_lo, heap_hi;
    size_t heap, stack, anon;
    char **files; /* file id -> path (index 0 unused) */
    size_t nfiles;
    size_t *file_bucket; /* file id -> region bucket (SIZE_MAX: none yet) */
    int *file_image;     /* file id -> image index + 1 (0: not an image yet) */
    /* the program interpreter (PT_INTERP) or a static PIE executable, placed at the first
     * instruction fetch: bias = that address - the ELF entry point */
    char *pending_path;
    uint64_t pending_entry;
    int pending_is_exe;
    uint64_t exe_bias_fallback;
    int saw_ifetch;
};

static size_t add_bucket(symbols *s, const char *name, const char *image, const char *kind)
{
    if (s->nb == s->capb) {
        s->capb = s->capb ? 2 * s->capb : 64;
        s->b = xrealloc(s->b, s->capb * sizeof *s->b);
    }
    struct bucket *b = &s->b[s->nb];
    memset(b, 0, sizeof *b);
    b->name = xstrdup(name);
    b->image = image;
    b->kind = kind;
    return s->nb++;
}

static int range_cmp(const void *a, const void *b)
{
    const struct range *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    /* aliases at one address: keep the larger one first */
    if (x->end != y->end)
        return x->end > y->end ? -1 : 1;
    return x->bucket < y->bucket ? -1 : x->bucket > y->bucket;
}

/* sorts and drops aliases (same start) */
static size_t sort_ranges(struct range *r, size_t n)
{
    if (!n)
        return 0;
    qsort(r, n, sizeof *r, range_cmp);
    size_t k = 1;
    for (size_t i = 1; i < n; i++)
        if (r[i].start != r[k - 1].start)
            r[k++] = r[i];
    return k;
}

/* the range containing addr, or NULL (binary search for the last start <= addr) */
static const struct range *find_range(const struct range *r, size_t n, uint64_t addr)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r[mid].start <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    /* nested symbols: the previous ones may still cover addr */
    for (size_t i = lo; i-- > 0 && lo - i <= 4;)
        if (addr >= r[i].start && addr < r[i].end)
            return &r[i];
    return NULL;
}

struct elf_file {
    int fd;
    Elf *elf;
    GElf_Ehdr eh;
};

static int elf_open_file(const char *path, struct elf_file *f, mm_err *err)
{
    if (elf_version(EV_CURRENT) == EV_NONE)
        return mm_errf(err, "libelf: %s", elf_errmsg(-1));
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0)
        return mm_errf(err, "%s: cannot open", path);
    f->elf = elf_begin(f->fd, ELF_C_READ, NULL);
    if (!f->elf || elf_kind(f->elf) != ELF_K_ELF || !gelf_getehdr(f->elf, &f->eh)) {
        if (f->elf)
            elf_end(f->elf);
        close(f->fd);
        return mm_errf(err, "%s: not an ELF file", path);
    }
    return 0;
}

static void elf_close_file(struct elf_file *f)
{
    elf_end(f->elf);
    close(f->fd);
}

/* The bias of a mapping at `addr` of file offset `off`: from the PT_LOAD that covers the offset.
 * Returns 0 and *bias, or -1 when no segment covers it. */
static int bias_from_mapping(struct elf_file *f, uint64_t addr, uint64_t off, uint64_t *bias)
{
    size_t n;
    if (elf_getphdrnum(f->elf, &n))
        return -1;
    for (size_t i = 0; i < n; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(f->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
            continue;
        uint64_t page_off = ph.p_offset & ~(uint64_t)0xfff;
        if (off < page_off || off >= ph.p_offset + (ph.p_filesz ? ph.p_filesz : 1))
            continue;
        /* file offset x is at addr + (x - off); the segment's vaddr is at its p_offset */
        *bias = addr + (ph.p_offset - off) - ph.p_vaddr;
        return 0;
    }
    return -1;
}

/* Reads the image's symbols and PT_LOAD span with the bias applied. */
static void load_image(symbols *s, struct image *im, struct elf_file *f)
{
    size_t n;
    im->lo = UINT64_MAX;
    im->hi = 0;
    if (!elf_getphdrnum(f->elf, &n))
        for (size_t i = 0; i < n; i++) {
            GElf_Phdr ph;
            if (!gelf_getphdr(f->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
                continue;
            if (ph.p_vaddr + im->bias < im->lo)
                im->lo = ph.p_vaddr + im->bias;
            if (ph.p_vaddr + ph.p_memsz + im->bias > im->hi)
                im->hi = ph.p_vaddr + ph.p_memsz + im->bias;
        }
    if (im->lo > im->hi)
        im->lo = im->hi = 0;
    Elf_Scn *scn = NULL, *symtab = NULL, *dynsym = NULL;
    while ((scn = elf_nextscn(f->elf, scn))) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh))
            continue;
        if (sh.sh_type == SHT_SYMTAB)
            symtab = scn;
        else if (sh.sh_type == SHT_DYNSYM)
            dynsym = scn;
    }
    scn = symtab ? symtab : dynsym;
    size_t capf = 0, capo = 0;
    if (scn) {
        GElf_Shdr sh;
        Elf_Data *d = gelf_getshdr(scn, &sh) ? elf_getdata(scn, NULL) : NULL;
        size_t count = d && sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
        for (size_t i = 0; i < count; i++) {
            GElf_Sym sym;
            if (!gelf_getsym(d, (int)i, &sym) || sym.st_size == 0 || sym.st_shndx == SHN_UNDEF)
                continue;
            int type = GELF_ST_TYPE(sym.st_info);
            if (type != STT_FUNC && type != STT_OBJECT)
                continue;
            const char *name = elf_strptr(f->elf, sh.sh_link, sym.st_name);
            if (!name || !*name)
                continue;
            struct range r = {sym.st_value + im->bias, sym.st_value + im->bias + sym.st_size, 0};
            r.bucket = add_bucket(s, name, im->path, type == STT_FUNC ? "function" : "object");
            if (type == STT_FUNC) {
                if (im->nfuncs == capf) {
                    capf = capf ? 2 * capf : 256;
                    im->funcs = xrealloc(im->funcs, capf * sizeof *im->funcs);
                }
                im->funcs[im->nfuncs++] = r;
            } else {
                if (im->nobjs == capo) {
                    capo = capo ? 2 * capo : 256;
                    im->objs = xrealloc(im->objs, capo * sizeof *im->objs);
                }
                im->objs[im->nobjs++] = r;
            }
        }
    }
    im->nfuncs = sort_ranges(im->funcs, im->nfuncs);
    im->nobjs = sort_ranges(im->objs, im->nobjs);
    im->code_bucket = add_bucket(s, "(other code)", im->path, "code");
    im->data_bucket = add_bucket(s, "(other data)", im->path, "data");
    im->loaded = 1;
}

/* PT_INTERP's path, or NULL */
static char *interp_of(struct elf_file *f)
{
    size_t n, size;
    const char *raw = elf_rawfile(f->elf, &size);
    if (!raw || elf_getphdrnum(f->elf, &n))
        return NULL;
    for (size_t i = 0; i < n; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(f->elf, (int)i, &ph) || ph.p_type != PT_INTERP)
            continue;
        if (ph.p_offset >= size || ph.p_filesz == 0 || ph.p_filesz > size - ph.p_offset)
            return NULL;
        size_t len = strnlen(raw + ph.p_offset, ph.p_filesz);
        char *path = xmalloc(len + 1);
        memcpy(path, raw + ph.p_offset, len);
        path[len] = 0;
        return path;
    }
    return NULL;
}

static struct image *new_image(symbols *s, const char *path)
{
    if (s->nimg == s->capimg) {
        s->capimg = s->capimg ? 2 * s->capimg : 8;
        s->img = xrealloc(s->img, s->capimg * sizeof *s->img);
    }
    struct image *im = &s->img[s->nimg++];
    memset(im, 0, sizeof *im);
    im->path = xstrdup(path);
    return im;
}

symbols *symbols_create(const struct symbols_opts *o, const trace_reader *tr, mm_err *err)
{
    symbols *s = xcalloc(1, sizeof *s);
    s->heap = add_bucket(s, "[heap]", "", "heap");
    s->stack = add_bucket(s, "[stack]", "", "stack");
    s->anon = add_bucket(s, "[anon]", "", "anon");
    s->heap_lo = UINT64_MAX;
    /* file.N metadata: the paths behind the trace's file ids */
    size_t nmeta = tr ? trace_meta_count(tr) : 0;
    for (size_t i = 0; i < nmeta; i++) {
        const struct trace_kv *kv = trace_meta_at(tr, i);
        if (strncmp(kv->key, "file.", 5))
            continue;
        char *end;
        unsigned long id = strtoul(kv->key + 5, &end, 10);
        if (*end || id == 0 || id > 1000000)
            continue;
        if (id >= s->nfiles) {
            size_t n = id + 1;
            s->files = xrealloc(s->files, n * sizeof *s->files);
            s->file_bucket = xrealloc(s->file_bucket, n * sizeof *s->file_bucket);
            s->file_image = xrealloc(s->file_image, n * sizeof *s->file_image);
            for (size_t k = s->nfiles; k < n; k++) {
                s->files[k] = NULL;
                s->file_bucket[k] = SIZE_MAX;
                s->file_image[k] = 0;
            }
            s->nfiles = n;
        }
        free(s->files[id]);
        s->files[id] = xstrdup(kv->value);
    }
    const char *exe = o->elf ? o->elf : tr ? trace_meta_get(tr, "executable") : NULL;
    if (exe) {
        struct elf_file f;
        mm_err why;
        if (elf_open_file(exe, &f, &why)) {
            if (o->elf) { /* asked for: an error; from metadata: attribute without it */
                mm_errf(err, "--elf %s", why.msg);
                symbols_destroy(s);
                return NULL;
            }
            fprintf(stderr, "mmusim run: --symbols: %s (the trace's executable); no symbols for it\n",
                    why.msg);
        } else {
            char *interp = interp_of(&f);
            if (f.eh.e_type == ET_DYN && !o->have_base && !interp) {
                /* static PIE: it runs first, so its entry point dates the load address */
                s->pending_path = xstrdup(exe);
                s->pending_entry = f.eh.e_entry;
                s->pending_is_exe = 1;
                s->exe_bias_fallback = SYMBOLS_VALGRIND_PIE_BASE;
            } else {
                struct image *im = new_image(s, exe);
                if (f.eh.e_type == ET_EXEC) {
                    im->bias = 0;
                    im->bias_source = "ET_EXEC";
                } else if (o->have_base) {
                    im->bias = o->elf_base;
                    im->bias_source = "--elf-base";
                } else {
                    im->bias = SYMBOLS_VALGRIND_PIE_BASE;
                    im->bias_source = "valgrind PIE default";
                }
                load_image(s, im, &f);
            }
            elf_close_file(&f);
            if (interp) {
                struct elf_file fi;
                if (!elf_open_file(interp, &fi, &why)) {
                    s->pending_path = interp;
                    s->pending_entry = fi.eh.e_entry;
                    interp = NULL;
                    elf_close_file(&fi);
                }
                free(interp);
            }
        }
    }
    return s;
}

void symbols_destroy(symbols *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nb; i++)
        free(s->b[i].name);
    for (size_t i = 0; i < s->nimg; i++) {
        free(s->img[i].path);
        free(s->img[i].funcs);
        free(s->img[i].objs);
    }
    for (size_t i = 0; i < s->nfiles; i++)
        free(s->files[i]);
    free(s->files);
    free(s->file_bucket);
    free(s->file_image);
    free(s->pending_path);
    free(s->b);
    free(s->img);
    free(s->maps);
    free(s);
}

/* A PROT_EXEC mapping of a file: that file becomes an image (once), biased by this mapping. */
static void map_library(symbols *s, const struct mm_event *ev)
{
    uint32_t id = ev->file;
    if (s->file_image[id] || !s->files[id])
        return;
    for (size_t i = 0; i < s->nimg; i++)
        if (!strcmp(s->img[i].path, s->files[id])) { /* the executable itself, mapped */
            s->file_image[id] = (int)i + 1;
            return;
        }
    struct elf_file f;
    mm_err why;
    s->file_image[id] = -1; /* tried */
    if (elf_open_file(s->files[id], &f, &why))
        return;
    uint64_t bias;
    if (bias_from_mapping(&f, ev->addr, ev->arg, &bias) == 0) {
        struct image *im = new_image(s, s->files[id]);
        im->bias = bias;
        im->bias_source = "mmap";
        load_image(s, im, &f);
        s->file_image[id] = (int)s->nimg;
    }
    elf_close_file(&f);
}

void symbols_os_event(symbols *s, const struct mm_event *ev)
{
    if (ev->type == MM_EV_BRK) {
        if (ev->addr && ev->addr < s->heap_lo)
            s->heap_lo = ev->addr;
        if (ev->addr > s->heap_hi)
            s->heap_hi = ev->addr;
        return;
    }
    if (ev->type != MM_EV_MMAP || !ev->len)
        return;
    if (s->nmaps == s->capmaps) {
        s->capmaps = s->capmaps ? 2 * s->capmaps : 64;
        s->maps = xrealloc(s->maps, s->capmaps * sizeof *s->maps);
    }
    int file = ev->file && ev->file < s->nfiles && !(ev->flags & MM_MAP_ANONYMOUS);
    s->maps[s->nmaps++] = (struct mapping){ev->addr, ev->addr + ev->len, file ? ev->file : 0};
    if (ev->addr + ev->len > s->maps_top)
        s->maps_top = ev->addr + ev->len;
    if (file && (ev->flags & MM_PROT_EXEC))
        map_library(s, ev);
}

static size_t region_of(symbols *s, uint64_t addr)
{
    if (addr >= s->heap_lo && addr < s->heap_hi)
        return s->heap;
    for (size_t i = s->nmaps; i-- > 0;) { /* the newest mapping wins */
        const struct mapping *m = &s->maps[i];
        if (addr < m->start || addr >= m->end)
            continue;
        if (!m->file)
            return s->anon;
        if (s->file_bucket[m->file] == SIZE_MAX)
            s->file_bucket[m->file] = add_bucket(s, "[file]", s->files[m->file], "file");
        return s->file_bucket[m->file];
    }
    /* above every mapping and the heap: the stack (it grows down from the top) */
    if (addr >= s->maps_top && (s->heap_hi == 0 || addr >= s->heap_hi))
        return s->stack;
    return s->anon;
}

static size_t bucket_of(symbols *s, const struct mm_event *ev)
{
    uint64_t a = ev->addr;
    for (size_t i = 0; i < s->nimg; i++) {
        const struct image *im = &s->img[i];
        if (a < im->lo || a >= im->hi)
            continue;
        const struct range *r = ev->type == MM_EV_IFETCH ? find_range(im->funcs, im->nfuncs, a)
                                                         : find_range(im->objs, im->nobjs, a);
        if (r)
            return r->bucket;
        return ev->type == MM_EV_IFETCH ? im->code_bucket : im->data_bucket;
    }
    return region_of(s, a);
}

/* The first instruction fetch is the entry point of the interpreter (or of a static PIE). */
static __attribute__((noinline)) void first_ifetch(symbols *s, uint64_t addr)
{
    s->saw_ifetch = 1;
    if (!s->pending_path)
        return;
    uint64_t bias = addr - s->pending_entry;
    const char *how = "first ifetch = entry";
    if (addr < s->pending_entry || (bias & 0xfff)) {
        if (!s->pending_is_exe)
            goto out; /* not what it should be: leave the interpreter out */
        bias = s->exe_bias_fallback;
        how = "valgrind PIE default";
    }
    struct elf_file f;
    mm_err why;
    if (!elf_open_file(s->pending_path, &f, &why)) {
        struct image *im = new_image(s, s->pending_path);
        im->bias = bias;
        im->bias_source = how;
        load_image(s, im, &f);
        elf_close_file(&f);
    }
out:
    free(s->pending_path);
    s->pending_path = NULL;
}

void symbols_access(symbols *s, const struct mm_event *ev, unsigned level, uint64_t walks)
{
    if (__builtin_expect(!s->saw_ifetch, 0) && ev->type == MM_EV_IFETCH)
        first_ifetch(s, ev->addr);
    struct bucket *b = &s->b[bucket_of(s, ev)];
    b->accesses++;
    b->l1_misses += level > 1;
    b->llc_misses += level >= 4; /* LEVEL_MEM */
    b->walks += walks;
}

void symbols_reset(symbols *s)
{
    for (size_t i = 0; i < s->nb; i++)
        s->b[i].accesses = s->b[i].l1_misses = s->b[i].llc_misses = s->b[i].walks = 0;
}

static const symbols *sort_ctx;

static int bucket_rank_cmp(const void *pa, const void *pb)
{
    const struct bucket *x = &sort_ctx->b[*(const size_t *)pa], *y = &sort_ctx->b[*(const size_t *)pb];
    if (x->l1_misses != y->l1_misses)
        return x->l1_misses > y->l1_misses ? -1 : 1;
    if (x->llc_misses != y->llc_misses)
        return x->llc_misses > y->llc_misses ? -1 : 1;
    if (x->walks != y->walks)
        return x->walks > y->walks ? -1 : 1;
    if (x->accesses != y->accesses)
        return x->accesses > y->accesses ? -1 : 1;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->image, y->image);
}

/* indices of the buckets with accesses, best first; totals in *tot */
static size_t *ranked(const symbols *s, size_t *n, struct bucket *tot)
{
    size_t *idx = xmalloc((s->nb + 1) * sizeof *idx);
    size_t k = 0;
    memset(tot, 0, sizeof *tot);
    for (size_t i = 0; i < s->nb; i++) {
        const struct bucket *b = &s->b[i];
        if (!b->accesses)
            continue;
        idx[k++] = i;
        tot->accesses += b->accesses;
        tot->l1_misses += b->l1_misses;
        tot->llc_misses += b->llc_misses;
        tot->walks += b->walks;
    }
    sort_ctx = s;
    qsort(idx, k, sizeof *idx, bucket_rank_cmp);
    sort_ctx = NULL;
    *n = k;
    return idx;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

void symbols_report_text(FILE *out, const symbols *s, unsigned top)
{
    struct bucket tot;
    size_t n;
    size_t *idx = ranked(s, &n, &tot);
    fprintf(out, "\nsymbols: %zu image(s)", s->nimg);
    for (size_t i = 0; i < s->nimg; i++)
        fprintf(out, "%s %s @ 0x%llx (%s, %zu functions, %zu objects)", i ? ";" : ":",
                base_name(s->img[i].path), (unsigned long long)s->img[i].bias, s->img[i].bias_source,
                s->img[i].nfuncs, s->img[i].nobjs);
    fprintf(out, "\n%-32s %-20s %14s %12s %12s %10s %8s\n", "symbol", "image", "accesses",
            "L1 misses", "LLC misses", "TLB walks", "L1 share");
    for (size_t i = 0; i < n && i < top; i++) {
        const struct bucket *b = &s->b[idx[i]];
        fprintf(out, "%-32.32s %-20.20s %14llu %12llu %12llu %10llu %7.2f%%\n", b->name,
                base_name(b->image), (unsigned long long)b->accesses,
                (unsigned long long)b->l1_misses, (unsigned long long)b->llc_misses,
                (unsigned long long)b->walks,
                tot.l1_misses ? 100.0 * (double)b->l1_misses / (double)tot.l1_misses : 0.0);
    }
    if (n > top)
        fprintf(out, "(%zu more; --json lists all under \"symbols\")\n", n - top);
    free(idx);
}

json_t *symbols_json(const symbols *s)
{
    struct bucket tot;
    size_t n;
    size_t *idx = ranked(s, &n, &tot);
    json_t *root = json_object();
    json_t *images = json_array();
    for (size_t i = 0; i < s->nimg; i++) {
        const struct image *im = &s->img[i];
        json_t *o = json_object();
        char buf[32];
        json_object_set_new(o, "path", json_string(im->path));
        snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)im->bias);
        json_object_set_new(o, "bias", json_string(buf));
        json_object_set_new(o, "bias_source", json_string(im->bias_source));
        json_object_set_new(o, "functions", json_integer((json_int_t)im->nfuncs));
        json_object_set_new(o, "objects", json_integer((json_int_t)im->nobjs));
        json_array_append_new(images, o);
    }
    json_object_set_new(root, "images", images);
    json_t *t = json_object();
    json_object_set_new(t, "accesses", json_integer((json_int_t)tot.accesses));
    json_object_set_new(t, "l1_misses", json_integer((json_int_t)tot.l1_misses));
    json_object_set_new(t, "llc_misses", json_integer((json_int_t)tot.llc_misses));
    json_object_set_new(t, "tlb_walks", json_integer((json_int_t)tot.walks));
    json_object_set_new(root, "totals", t);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct bucket *b = &s->b[idx[i]];
        json_t *o = json_object();
        json_object_set_new(o, "symbol", json_string(b->name));
        json_object_set_new(o, "image", json_string(b->image));
        json_object_set_new(o, "kind", json_string(b->kind));
        json_object_set_new(o, "accesses", json_integer((json_int_t)b->accesses));
        json_object_set_new(o, "l1_misses", json_integer((json_int_t)b->l1_misses));
        json_object_set_new(o, "llc_misses", json_integer((json_int_t)b->llc_misses));
        json_object_set_new(o, "tlb_walks", json_integer((json_int_t)b->walks));
        json_array_append_new(list, o);
    }
    json_object_set_new(root, "buckets", list);
    free(idx);
    return root;
}
