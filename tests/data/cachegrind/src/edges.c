/* edges: a small static program whose memory accesses hit the corners of cachegrind's model:
 * accesses straddling two lines, read-modify-write instructions (lackey "M"), locked RMW and
 * 16-byte compare-and-swap, x87 10-byte loads/stores, fxsave/fxrstor (a 512-byte dirty helper
 * that cachegrind cuts to the smallest line size), rep movs/stos, AVX 32-byte and masked
 * (guarded) accesses when the CPU valgrind emulates has AVX2. Deterministic: no time, no
 * randomness, no threads. Built with gcc -O1 -static. */
#include <stdint.h>
#include <string.h>

#define LINE 64
static unsigned char buf[16384] __attribute__((aligned(4096)));
static unsigned char fxarea[4096] __attribute__((aligned(4096)));
static volatile uint64_t sink;

/* Loads and stores of 1..16 bytes at every offset around the end of a line. */
static void straddle(unsigned char *base)
{
    for (unsigned off = LINE - 17; off < LINE + 1; off++) {
        unsigned char *p = base + off;
        uint8_t a; uint16_t b; uint32_t c; uint64_t d; unsigned char e[16];
        memcpy(&a, p, 1); memcpy(&b, p, 2); memcpy(&c, p, 4); memcpy(&d, p, 8);
        __asm__ volatile("movdqu (%1), %%xmm0\n\tmovdqu %%xmm0, %0"
                         : "=m"(e) : "r"(p), "m"(*(unsigned char (*)[16])p) : "xmm0");
        sink += a + b + c + d + e[0];
        d += off; memcpy(p + 256, &d, 8);
        c += off; memcpy(p + 512, &c, 4);
        b += off; memcpy(p + 768, &b, 2);
        __asm__ volatile("movdqu %%xmm0, %0" : "=m"(*(unsigned char (*)[16])(p + 1024)) : : "xmm0");
        base += 2 * LINE;
    }
}

/* Read-modify-write: add to memory (M), locked xadd and cmpxchg (CAS: M), cmpxchg16b. */
static void rmw(unsigned char *base)
{
    for (unsigned i = 0; i < 64; i++) {
        uint64_t *q = (uint64_t *)(base + i * 72);          /* walks across lines */
        __asm__ volatile("addq $3, %0" : "+m"(*q));
        __asm__ volatile("incl %0" : "+m"(*(uint32_t *)(base + 4096 + i * 61)));
        sink += __atomic_fetch_add(q + 1, 1, __ATOMIC_SEQ_CST);
        uint64_t expect = q[2];
        __atomic_compare_exchange_n(q + 2, &expect, expect + 5, 0, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST);
        unsigned char *p16 = base + 8192 + i * 48;          /* 16-aligned, some straddle */
        uint64_t lo = ((uint64_t *)p16)[0], hi = ((uint64_t *)p16)[1];
        __asm__ volatile("lock cmpxchg16b %0"
                         : "+m"(*(unsigned char (*)[16])p16), "+a"(lo), "+d"(hi)
                         : "b"(lo + 1), "c"(hi));
    }
}

/* x87 extended precision: fldt/fstpt move 10 bytes through a dirty helper. */
static void x87(unsigned char *base)
{
    for (unsigned i = 0; i < 40; i++) {
        unsigned char *p = base + i * 37;
        __asm__ volatile("fldt %1\n\tfld1\n\tfaddp\n\tfstpt %0"
                         : "=m"(*(unsigned char (*)[10])(p + 2048))
                         : "m"(*(unsigned char (*)[10])p));
    }
}

/* fxsave/fxrstor: one 512-byte dirty-helper access each (plus the XMM registers as ordinary
 * 16-byte accesses). Warm the first line of the area, leave the rest cold, so cutting the
 * size to 16 or to 64 bytes gives different miss counts. */
static void fx(void)
{
    for (unsigned i = 0; i < 6; i++) {
        unsigned char *p = fxarea + i * 528;                /* 16-aligned, all offsets in a line */
        sink += p[0];
        __asm__ volatile("fxsave %0" : "=m"(*(unsigned char (*)[512])p));
        sink += p[100];
        __asm__ volatile("fxrstor %0" : : "m"(*(unsigned char (*)[512])p));
    }
}

/* rep movsb / rep stosb / rep movsq: one load and/or store per iteration. */
static void rep(unsigned char *base)
{
    void *d = base + 3, *s = base + 1000;
    size_t n = 300;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    d = base + 5000; n = 200;
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(0x5a) : "memory");
    d = base + 6000; s = base + 7003; n = 40;
    __asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}

/* AVX2: 32-byte loads/stores straddling lines, and masked (guarded) loads/stores. */
__attribute__((target("avx2"))) static void avx(unsigned char *base)
{
    for (unsigned i = 0; i < 24; i++) {
        unsigned char *p = base + i * 40;
        __asm__ volatile("vmovdqu (%0), %%ymm1\n\tvmovdqu %%ymm1, 2048(%0)"
                         : : "r"(p) : "ymm1", "memory");
        __asm__ volatile("vpcmpeqd %%ymm2, %%ymm2, %%ymm2\n\t"
                         "vpsrlq $32, %%ymm2, %%ymm2\n\t"        /* mask: every other lane */
                         "vpmaskmovd 4096(%0), %%ymm2, %%ymm3\n\t"
                         "vpmaskmovd %%ymm3, %%ymm2, 6144(%0)"
                         : : "r"(p) : "ymm2", "ymm3", "memory");
    }
    __asm__ volatile("vzeroupper");
}

int main(void)
{
    for (unsigned i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 131 + 7);
    straddle(buf);
    rmw(buf + 2048);
    x87(buf + 512);
    fx();
    rep(buf);
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2"))
        avx(buf + 8000);
    return sink == 42;            /* keeps sink live; exit status 0 */
}
