/* Importers: lackey (a real capture in tests/data), Dinero din, plain text/CSV, ChampSim; their
 * error messages; auto-detection of every format under every compression; standard input. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traces/cio.h"
#include "traces/trace.h"
#include "traces_test_util.h"

static const char *src_path(const char *rel)
{
    static char buf[1024];
    const char *src = getenv("MMUSIM_SRC");
    snprintf(buf, sizeof buf, "%s/%s", src ? src : "..", rel);
    return buf;
}

static void count_types(const struct mm_event *ev, size_t n, uint64_t out[4])
{
    memset(out, 0, 4 * sizeof *out);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_lt(ev[i].type, 4);
        out[ev[i].type]++;
    }
}

/* The committed capture of tests/data/lackey_tiny.c: 162 fetches, 52 loads, 13 stores and 24
 * modifies, as counted from the file with grep (valgrind itself reported 162 guest instrs). */
START_TEST(lackey_real_capture)
{
    size_t n;
    struct mm_event *ev = tu_read_all(src_path("tests/data/lackey_tiny.txt.xz"), TRACE_FMT_AUTO, &n);
    ck_assert_uint_eq(n, 251);
    uint64_t c[4];
    count_types(ev, n, c);
    ck_assert_uint_eq(c[MM_EV_IFETCH], 162);
    ck_assert_uint_eq(c[MM_EV_READ], 52);
    ck_assert_uint_eq(c[MM_EV_WRITE], 13);
    ck_assert_uint_eq(c[MM_EV_RMW], 24);
    /* "I  00401000,1" then " S 1fff000718,8" then "I  00401001,3" */
    ck_assert_uint_eq(ev[0].type, MM_EV_IFETCH);
    ck_assert_uint_eq(ev[0].addr, 0x401000);
    ck_assert_uint_eq(ev[0].size, 1);
    ck_assert_uint_eq(ev[0].gap, 1);
    ck_assert_uint_eq(ev[1].type, MM_EV_WRITE);
    ck_assert_uint_eq(ev[1].addr, 0x1fff000718ULL);
    ck_assert_uint_eq(ev[1].size, 8);
    ck_assert_uint_eq(ev[1].gap, 0);
    ck_assert_uint_eq(ev[2].addr, 0x401001);
    ck_assert_uint_eq(ev[2].size, 3);
    /* " M 1fff000714,4" is one read-modify-write */
    size_t m = 0;
    while (ev[m].type != MM_EV_RMW)
        m++;
    ck_assert_uint_eq(ev[m].addr, 0x1fff000714ULL);
    ck_assert_uint_eq(ev[m].size, 4);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(ev[i].pid, 0);
        ck_assert_uint_eq(ev[i].cpu, 0);
    }
    free(ev);
    mm_err err;
    trace_reader *r = trace_open(src_path("tests/data/lackey_tiny.txt.xz"), TRACE_FMT_AUTO, &err);
    struct mm_event buf[64];
    while (trace_read(r, buf, 64, &err) > 0)
        ;
    struct trace_info info;
    trace_get_info(r, &info);
    ck_assert_int_eq(info.format, TRACE_FMT_LACKEY);
    ck_assert_int_eq(info.compression, TRACE_COMP_XZ);
    ck_assert_uint_eq(info.instructions, 162);
    ck_assert_uint_eq(info.bytes_in, info.bytes_total);
    trace_close(r);
}
END_TEST

START_TEST(lackey_errors_and_keep_going)
{
    const char *path = tu_path("bad.lackey");
    const char *text = "==12== Lackey, an example Valgrind tool\n"
                       "I  04001290,3\n"
                       " L 1ffefffd40,8\n"
                       "SB 04001290\n"
                       " Q 1234,8\n"         /* line 5: unknown type */
                       " S 1ffefffd40,0\n"   /* line 6: size 0 */
                       " S zz,8\n"           /* line 7: bad address */
                       " M 1ffefffd48,8\n"
                       "\n";
    tu_write_file(path, text, strlen(text));
    mm_err err;
    ck_assert_int_eq(tu_read_until_error(path, TRACE_FMT_LACKEY, &err), -1);
    char want[1024];
    snprintf(want, sizeof want, "%s: line 5: expected 'I  ADDR,SIZE', ' L|S|M ADDR,SIZE' or a "
                                "valgrind '==PID==' line, got ' Q 1234,8'", path);
    ck_assert_str_eq(err.msg, want);
    /* the records before the bad line come out first, the error on the next read */
    trace_reader *r = trace_open(path, TRACE_FMT_AUTO, &err);
    struct mm_event first[16];
    ck_assert_int_eq(trace_read(r, first, 16, &err), 2);
    ck_assert_uint_eq(first[1].addr, 0x1ffefffd40ULL);
    ck_assert_int_eq(trace_read(r, first, 16, &err), -1);
    ck_assert_str_eq(err.msg, want);
    ck_assert_int_eq(trace_read(r, first, 16, &err), -1); /* and stays */
    struct trace_info before;
    trace_get_info(r, &before);
    ck_assert_uint_eq(before.records, 2);
    trace_close(r);
    r = trace_open(path, TRACE_FMT_AUTO, &err);
    ck_assert_ptr_nonnull(r);
    trace_set_keep_going(r, 1);
    struct mm_event ev[16];
    ck_assert_int_eq(trace_read(r, ev, 16, &err), 3);
    ck_assert_uint_eq(ev[2].type, MM_EV_RMW);
    ck_assert_uint_eq(ev[2].addr, 0x1ffefffd48ULL);
    struct trace_info info;
    trace_get_info(r, &info);
    ck_assert_uint_eq(info.bad_records, 3);
    ck_assert_int_eq(info.format, TRACE_FMT_LACKEY);
    trace_close(r);
    /* size 0 message */
    const char *t2 = "I  0400,3\n S 10,0\n";
    tu_write_file(path, t2, strlen(t2));
    ck_assert_int_eq(tu_read_until_error(path, TRACE_FMT_LACKEY, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "line 2: expected an access size of 1..4096 bytes, got '0'"));
}
END_TEST

START_TEST(din_handwritten)
{
    const char *path = tu_path("sample.din");
    const char *text = "2 400100\n"
                       "0 7ffd1000\n"
                       "1 0x7ffd1008 8\n"   /* Dinero IV extended size field, hex */
                       "3 0\n"              /* escape: ignored */
                       "  0\t1ffe0  10\n"   /* size 0x10 */
                       "4 0\n"              /* flush: ignored */
                       "# a comment\n"
                       "\n"
                       "2 400104 trailing words are Dinero comments\n";
    tu_write_file(path, text, strlen(text));
    size_t n;
    struct mm_event *ev = tu_read_all(path, TRACE_FMT_AUTO, &n);
    ck_assert_uint_eq(n, 5);
    ck_assert_uint_eq(ev[0].type, MM_EV_IFETCH);
    ck_assert_uint_eq(ev[0].addr, 0x400100);
    ck_assert_uint_eq(ev[0].size, 4);
    ck_assert_uint_eq(ev[0].gap, 1);
    ck_assert_uint_eq(ev[1].type, MM_EV_READ);
    ck_assert_uint_eq(ev[1].addr, 0x7ffd1000);
    ck_assert_uint_eq(ev[1].gap, 0);
    ck_assert_uint_eq(ev[2].type, MM_EV_WRITE);
    ck_assert_uint_eq(ev[2].addr, 0x7ffd1008);
    ck_assert_uint_eq(ev[2].size, 8);
    ck_assert_uint_eq(ev[3].addr, 0x1ffe0);
    ck_assert_uint_eq(ev[3].size, 16);
    ck_assert_uint_eq(ev[4].addr, 0x400104);
    free(ev);
    mm_err err;
    trace_reader *r = trace_open(path, TRACE_FMT_AUTO, &err);
    struct mm_event buf[16];
    ck_assert_int_eq(trace_read(r, buf, 16, &err), 5);
    ck_assert_uint_eq(trace_ignored_records(r), 2);
    struct trace_info info;
    trace_get_info(r, &info);
    ck_assert_int_eq(info.format, TRACE_FMT_DIN);
    ck_assert_uint_eq(info.instructions, 2);
    trace_close(r);

    const char *bad = "0 1000\n7 2000\n";
    tu_write_file(path, bad, strlen(bad));
    ck_assert_int_eq(tu_read_until_error(path, TRACE_FMT_DIN, &err), -1);
    char want[1024];
    snprintf(want, sizeof want, "%s: line 2: expected a label 0-4 (read, write, fetch, escape, "
                                "flush), got '7'", path);
    ck_assert_str_eq(err.msg, want);
    const char *bad2 = "0 1000\n1 12g4\n";
    tu_write_file(path, bad2, strlen(bad2));
    ck_assert_int_eq(tu_read_until_error(path, TRACE_FMT_DIN, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "line 2: expected a hex address, got '12g4'"));
    const char *bad3 = "0 1000 2000\n";
    tu_write_file(path, bad3, strlen(bad3));
    ck_assert_int_eq(tu_read_until_error(path, TRACE_FMT_DIN, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "line 1: expected an access size of 1..4096 bytes"));
}
END_TEST

START_TEST(text_and_csv)
{
    const char *path = tu_path("sample.txt");
    const char *text = "# type address size\n"
                       "R 0x7ffd1234 8\n"
                       "W 4096\n"                        /* default size 8, decimal address */
                       "x 0x400000 4 # fetch\n"
                       "I,0x400004,2\n"                  /* CSV */
                       "M, 0x1000 ,16\n"
                       "read 0x10 1 cpu=3 pid=77 gap=5\n"
                       "  \n"
                       "rmw 0x20 0x40\r\n";              /* CRLF, hex size */
    tu_write_file(path, text, strlen(text));
    size_t n;
    struct mm_event *ev = tu_read_all(path, TRACE_FMT_AUTO, &n);
    ck_assert_uint_eq(n, 7);
    ck_assert_uint_eq(ev[0].type, MM_EV_READ);
    ck_assert_uint_eq(ev[0].addr, 0x7ffd1234);
    ck_assert_uint_eq(ev[0].size, 8);
    ck_assert_uint_eq(ev[1].type, MM_EV_WRITE);
    ck_assert_uint_eq(ev[1].addr, 4096);
    ck_assert_uint_eq(ev[1].size, 8);
    ck_assert_uint_eq(ev[2].type, MM_EV_IFETCH);
    ck_assert_uint_eq(ev[2].size, 4);
    ck_assert_uint_eq(ev[3].type, MM_EV_IFETCH);
    ck_assert_uint_eq(ev[3].addr, 0x400004);
    ck_assert_uint_eq(ev[3].size, 2);
    ck_assert_uint_eq(ev[4].type, MM_EV_RMW);
    ck_assert_uint_eq(ev[4].size, 16);
    ck_assert_uint_eq(ev[5].cpu, 3);
    ck_assert_uint_eq(ev[5].pid, 77);
    ck_assert_uint_eq(ev[5].gap, 5);
    ck_assert_uint_eq(ev[6].type, MM_EV_RMW);
    ck_assert_uint_eq(ev[6].size, 64);
    free(ev);

    mm_err err;
    char want[1024];
    const char *bad = "R 0x10 8\nQ 0x10 8\n";
    tu_write_file(path, bad, strlen(bad));
    ck_assert_int_eq(tu_read_until_error(path, TRACE_FMT_TEXT, &err), -1);
    snprintf(want, sizeof want, "%s: line 2: expected an access type R, W, X, I or M, got 'Q'", path);
    ck_assert_str_eq(err.msg, want);
    const char *bad2 = "W 0x10 5000\n";
    tu_write_file(path, bad2, strlen(bad2));
    ck_assert_int_eq(tu_read_until_error(path, TRACE_FMT_TEXT, &err), -1);
    snprintf(want, sizeof want, "%s: line 1: expected an access size of 1..4096 bytes, got '5000'",
             path);
    ck_assert_str_eq(err.msg, want);
    const char *bad3 = "W 0x10 0\n";
    tu_write_file(path, bad3, strlen(bad3));
    ck_assert_int_eq(tu_read_until_error(path, TRACE_FMT_TEXT, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "got '0'"));
    const char *bad4 = "W 0x10 8 color=red\n";
    tu_write_file(path, bad4, strlen(bad4));
    ck_assert_int_eq(tu_read_until_error(path, TRACE_FMT_TEXT, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "line 1: expected cpu=N, pid=N, gap=N or a '#' comment, got 'color=red'"));
    const char *hdr = "type,address,size\nR,0x10,8\n";
    tu_write_file(path, hdr, strlen(hdr));
    size_t hn;
    struct mm_event *hev = tu_read_all(path, TRACE_FMT_AUTO, &hn);
    ck_assert_uint_eq(hn, 1);
    ck_assert_uint_eq(hev[0].addr, 0x10);
    free(hev);
    const char *bad5 = "R 0xfffffffffffffffff 8\n";
    tu_write_file(path, bad5, strlen(bad5));
    ck_assert_int_eq(tu_read_until_error(path, TRACE_FMT_TEXT, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "line 1: expected an address"));
}
END_TEST

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Three hand-made input_instr records. */
static size_t champsim_sample(unsigned char *buf)
{
    memset(buf, 0, 3 * 64);
    /* 1: a load and a store: mov (src) -> (dst) */
    put64(buf + 0, 0x401000);
    buf[10] = 1; /* destination register */
    put64(buf + 16, 0x7ffd0010);  /* destination_memory[0] */
    put64(buf + 32, 0x601000);    /* source_memory[0] */
    /* 2: a taken branch, no memory */
    put64(buf + 64, 0x401004);
    buf[64 + 8] = 1;
    buf[64 + 9] = 1;
    /* 3: two stores (both destinations), two loads (source slots 1 and 3) */
    put64(buf + 128, 0x401008);
    put64(buf + 128 + 16, 0xa000);
    put64(buf + 128 + 24, 0xa008);
    put64(buf + 128 + 40, 0xb000);
    put64(buf + 128 + 56, 0xb018);
    return 3 * 64;
}

START_TEST(champsim_records)
{
    unsigned char buf[3 * 64];
    size_t len = champsim_sample(buf);
    const char *path = tu_path("sample.champsim");
    tu_write_file(path, buf, len);
    size_t n;
    struct mm_event *ev = tu_read_all(path, TRACE_FMT_AUTO, &n);
    ck_assert_uint_eq(n, 3 + 1 + 5);
    ck_assert_uint_eq(ev[0].type, MM_EV_IFETCH);
    ck_assert_uint_eq(ev[0].addr, 0x401000);
    ck_assert_uint_eq(ev[0].size, 4);
    ck_assert_uint_eq(ev[0].gap, 1);
    ck_assert_uint_eq(ev[1].type, MM_EV_READ);
    ck_assert_uint_eq(ev[1].addr, 0x601000);
    ck_assert_uint_eq(ev[1].size, 8);
    ck_assert_uint_eq(ev[1].gap, 0);
    ck_assert_uint_eq(ev[2].type, MM_EV_WRITE);
    ck_assert_uint_eq(ev[2].addr, 0x7ffd0010);
    ck_assert_uint_eq(ev[3].type, MM_EV_IFETCH);
    ck_assert_uint_eq(ev[3].addr, 0x401004);
    ck_assert_uint_eq(ev[4].type, MM_EV_IFETCH);
    /* sources first (slots 1 and 3), then destinations (slots 0 and 1) */
    ck_assert_uint_eq(ev[5].addr, 0xb000);
    ck_assert_uint_eq(ev[5].type, MM_EV_READ);
    ck_assert_uint_eq(ev[6].addr, 0xb018);
    ck_assert_uint_eq(ev[6].type, MM_EV_READ);
    ck_assert_uint_eq(ev[7].addr, 0xa000);
    ck_assert_uint_eq(ev[7].type, MM_EV_WRITE);
    ck_assert_uint_eq(ev[8].addr, 0xa008);
    ck_assert_uint_eq(ev[8].type, MM_EV_WRITE);
    free(ev);
    /* reading one event at a time crosses the per-record expansion */
    mm_err err;
    trace_reader *r = trace_open(path, TRACE_FMT_CHAMPSIM, &err);
    struct mm_event one;
    uint64_t k = 0;
    while (trace_read(r, &one, 1, &err) == 1)
        k++;
    ck_assert_uint_eq(k, 9);
    struct trace_info info;
    trace_get_info(r, &info);
    ck_assert_uint_eq(info.instructions, 3);
    trace_close(r);
    /* a cut record: error names the offset */
    tu_write_file(path, buf, len - 10);
    ck_assert_int_eq(tu_read_until_error(path, TRACE_FMT_CHAMPSIM, &err), -1);
    char want[1024];
    snprintf(want, sizeof want, "%s: offset 128: truncated ChampSim record (54 of 64 bytes)", path);
    ck_assert_str_eq(err.msg, want);
    /* an implausible record */
    buf[64 + 8] = 7;
    tu_write_file(path, buf, len);
    ck_assert_int_eq(tu_read_until_error(path, TRACE_FMT_CHAMPSIM, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "offset 64: expected is_branch"));
}
END_TEST

/* Each format written plain, then through gzip, xz and zstd: detection must find the format from
 * content alone (the file names say nothing). */
START_TEST(autodetect_every_format_every_compression)
{
    unsigned char cs[3 * 64];
    size_t cslen = champsim_sample(cs);
    const char *din = "0 1000\n1 2000\n2 3000\n";
    const char *txt = "R 0x1000 8\nW 0x2000 8\nX 0x3000 4\n";
    const char *csv = "R,0x1000,8\nW,0x2000,8\nI,0x3000,4\n";
    struct {
        const void *data;
        size_t len;
        enum trace_format fmt;
        size_t records;
    } cases[] = {
        {cs, cslen, TRACE_FMT_CHAMPSIM, 9},
        {din, strlen(din), TRACE_FMT_DIN, 3},
        {txt, strlen(txt), TRACE_FMT_TEXT, 3},
        {csv, strlen(csv), TRACE_FMT_TEXT, 3},
    };
    static const enum trace_compression comps[] = {TRACE_COMP_NONE, TRACE_COMP_GZIP,
                                                   TRACE_COMP_XZ, TRACE_COMP_ZSTD};
    /* the real lackey capture, decompressed */
    mm_err lerr;
    cio_reader *lk = cio_open(src_path("tests/data/lackey_tiny.txt.xz"), &lerr);
    ck_assert_ptr_nonnull(lk);
    static unsigned char lackey[1 << 16];
    long long lackey_len = cio_read(lk, lackey, sizeof lackey, &lerr);
    ck_assert_int_gt(lackey_len, 1000);
    cio_close(lk);
    char packed[1024];
    snprintf(packed, sizeof packed, "%s", tu_path("packed.dat"));
    for (unsigned c = 0; c < sizeof cases / sizeof *cases + 1; c++) {
        int is_lackey = c == sizeof cases / sizeof *cases;
        const void *data = is_lackey ? lackey : cases[c].data;
        size_t len = is_lackey ? (size_t)lackey_len : cases[c].len;
        enum trace_format want = is_lackey ? TRACE_FMT_LACKEY : cases[c].fmt;
        size_t records = is_lackey ? 251 : cases[c].records;
        for (unsigned k = 0; k < 4; k++) {
            tu_write_compressed(packed, data, len, comps[k]);
            mm_err err;
            trace_reader *r = trace_open(packed, TRACE_FMT_AUTO, &err);
            if (!r)
                ck_abort_msg("case %u under %s: %s", c, trace_compression_name(comps[k]), err.msg);
            struct mm_event ev[512];
            long got = trace_read(r, ev, 512, &err);
            struct trace_info info;
            trace_get_info(r, &info);
            ck_assert_int_eq(info.format, want);
            ck_assert_int_eq(info.compression, comps[k]);
            ck_assert_int_eq(got, (long)records);
            trace_close(r);
        }
    }
}
END_TEST

START_TEST(detection_failures_and_stdin)
{
    const char *path = tu_path("junk.txt");
    const char *junk = "hello world\nthis is not a trace\n";
    tu_write_file(path, junk, strlen(junk));
    mm_err err;
    ck_assert_ptr_null(trace_open(path, TRACE_FMT_AUTO, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "cannot detect the trace format"));
    ck_assert_ptr_nonnull(strstr(err.msg, "got 'hello world'"));
    tu_write_file(path, "", 0);
    ck_assert_ptr_null(trace_open(path, TRACE_FMT_AUTO, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "empty input"));
    unsigned char bin[100];
    memset(bin, 0xff, sizeof bin);
    bin[3] = 0;
    tu_write_file(path, bin, sizeof bin);
    ck_assert_ptr_null(trace_open(path, TRACE_FMT_AUTO, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "unrecognised binary data"));
    ck_assert_ptr_null(trace_open(tu_path("does-not-exist"), TRACE_FMT_AUTO, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "cannot open"));
    /* compressed streams cut in the middle */
    size_t tlen;
    char *lines = tu_lines("R", 1, 20000, &tlen);
    for (unsigned c = TRACE_COMP_GZIP; c <= TRACE_COMP_ZSTD; c++) {
        size_t clen;
        unsigned char *packed = tu_compress(lines, tlen, (enum trace_compression)c, &clen);
        ck_assert_uint_gt(clen, 3000);
        tu_write_file(path, packed, 3000);
        ck_assert_int_eq(tu_read_until_error(path, TRACE_FMT_AUTO, &err), -1);
        char want[64];
        snprintf(want, sizeof want, "truncated %s stream",
                 trace_compression_name((enum trace_compression)c));
        if (!strstr(err.msg, want) || !strstr(err.msg, path))
            ck_abort_msg("%s: unclear message '%s'", want, err.msg);
        /* and damaged in the middle */
        memset(packed + clen / 2, 'x', 40);
        tu_write_file(path, packed, clen);
        ck_assert_int_eq(tu_read_until_error(path, TRACE_FMT_AUTO, &err), -1);
        snprintf(want, sizeof want, "corrupt %s data",
                 trace_compression_name((enum trace_compression)c));
        if (!strstr(err.msg, want) || !strstr(err.msg, "offset "))
            ck_abort_msg("%s: unclear message '%s'", want, err.msg);
        free(packed);
    }
    free(lines);
    /* text from standard input, through zstd */
    const char *two = "R 0x10 8\nW 0x20 4\n";
    size_t zlen;
    unsigned char *z = tu_compress(two, strlen(two), TRACE_COMP_ZSTD, &zlen);
    struct tu_stdin feed = tu_stdin_feed(z, zlen);
    trace_reader *r = trace_open("-", TRACE_FMT_AUTO, &err);
    ck_assert_ptr_nonnull(r);
    struct mm_event ev[4];
    ck_assert_int_eq(trace_read(r, ev, 4, &err), 2);
    ck_assert_uint_eq(ev[1].addr, 0x20);
    ck_assert_int_eq(trace_read(r, ev, 4, &err), 0);
    struct trace_info info;
    trace_get_info(r, &info);
    ck_assert_str_eq(info.path, "-");
    ck_assert_int_eq(info.format, TRACE_FMT_TEXT);
    ck_assert_int_eq(info.compression, TRACE_COMP_ZSTD);
    ck_assert_int_eq(info.hash_complete, 1);
    trace_close(r);
    tu_stdin_restore(feed);
    free(z);
}
END_TEST

/* gzip members, xz streams and zstd frames written one after another read as one stream */
START_TEST(concatenated_compressed_streams)
{
    size_t la, lb, pa, pe, pb;
    char *a = tu_lines("R", 1, 3000, &la), *b = tu_lines("W", 3001, 5000, &lb);
    for (unsigned c = TRACE_COMP_GZIP; c <= TRACE_COMP_ZSTD; c++) {
        const char *path = tu_path("cat.dat");
        unsigned char *ca = tu_compress(a, la, (enum trace_compression)c, &pa);
        unsigned char *ce = tu_compress("", 0, (enum trace_compression)c, &pe); /* empty member */
        unsigned char *cb = tu_compress(b, lb, (enum trace_compression)c, &pb);
        unsigned char *all = malloc(pa + pe + pb);
        memcpy(all, ca, pa);
        memcpy(all + pa, ce, pe);
        memcpy(all + pa + pe, cb, pb);
        tu_write_file(path, all, pa + pe + pb);
        free(ca);
        free(ce);
        free(cb);
        free(all);
        size_t n;
        struct mm_event *ev = tu_read_all(path, TRACE_FMT_AUTO, &n);
        ck_assert_uint_eq(n, 5000);
        ck_assert_uint_eq(ev[2999].addr, 3000);
        ck_assert_uint_eq(ev[2999].type, MM_EV_READ);
        ck_assert_uint_eq(ev[3000].addr, 3001);
        ck_assert_uint_eq(ev[3000].type, MM_EV_WRITE);
        ck_assert_uint_eq(ev[4999].addr, 5000);
        free(ev);
    }
    free(a);
    free(b);
}
END_TEST

START_TEST(long_lines_and_no_final_newline)
{
    const char *path = tu_path("long.txt");
    size_t n = 200000;
    char *t = malloc(n + 64);
    strcpy(t, "R 0x10 8 #");
    memset(t + 10, 'x', n);
    strcpy(t + 10 + n, "\nW 0x20 8");
    tu_write_file(path, t, strlen(t));
    size_t got;
    struct mm_event *ev = tu_read_all(path, TRACE_FMT_TEXT, &got);
    ck_assert_uint_eq(got, 2);
    ck_assert_uint_eq(ev[1].addr, 0x20);
    free(ev);
    free(t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("traces_import");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, lackey_real_capture);
    tcase_add_test(tc, lackey_errors_and_keep_going);
    tcase_add_test(tc, din_handwritten);
    tcase_add_test(tc, text_and_csv);
    tcase_add_test(tc, champsim_records);
    tcase_add_test(tc, autodetect_every_format_every_compression);
    tcase_add_test(tc, detection_failures_and_stdin);
    tcase_add_test(tc, concatenated_compressed_streams);
    tcase_add_test(tc, long_lines_and_no_final_newline);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
