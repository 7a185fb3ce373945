/* Private to traces/: small number and field scanners for the text importers. Each works on a
 * [p, end) range and advances p; none allocates. */
#ifndef MMUSIM_TRACES_PARSE_H
#define MMUSIM_TRACES_PARSE_H

#include <stdint.h>

static inline int hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Hex digits (no prefix). 1 ok, 0 none, -1 overflow. */
static inline int scan_hex(const char **pp, const char *end, uint64_t *out)
{
    const char *p = *pp;
    uint64_t v = 0;
    int n = 0, d;
    while (p < end && (d = hex_digit((unsigned char)*p)) >= 0) {
        if (v >> 60)
            return -1;
        v = (v << 4) | (uint64_t)d;
        p++;
        n++;
    }
    if (!n)
        return 0;
    *pp = p;
    *out = v;
    return 1;
}

/* Decimal digits. 1 ok, 0 none, -1 overflow. */
static inline int scan_dec(const char **pp, const char *end, uint64_t *out)
{
    const char *p = *pp;
    uint64_t v = 0;
    int n = 0;
    while (p < end && *p >= '0' && *p <= '9') {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
        p++;
        n++;
    }
    if (!n)
        return 0;
    *pp = p;
    *out = v;
    return 1;
}

/* Decimal, or hex with a 0x prefix. */
static inline int scan_num(const char **pp, const char *end, uint64_t *out)
{
    const char *p = *pp;
    if (end - p > 2 && p[0] == '0' && (p[1] | 0x20) == 'x') {
        const char *q = p + 2;
        int rc = scan_hex(&q, end, out);
        if (rc > 0)
            *pp = q;
        return rc;
    }
    return scan_dec(pp, end, out);
}

/* Hex with an optional 0x prefix (Dinero's addresses). */
static inline int scan_hex_opt0x(const char **pp, const char *end, uint64_t *out)
{
    const char *p = *pp;
    if (end - p > 2 && p[0] == '0' && (p[1] | 0x20) == 'x') {
        const char *q = p + 2;
        int rc = scan_hex(&q, end, out);
        if (rc > 0)
            *pp = q;
        return rc;
    }
    return scan_hex(pp, end, out);
}

static inline const char *skip_blanks(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* The field at p (up to a blank, comma or the end), for error messages. */
static inline int field_len(const char *p, const char *end)
{
    const char *q = p;
    while (q < end && *q != ' ' && *q != '\t' && *q != ',' && q - p < 40)
        q++;
    return (int)(q - p);
}

#endif
