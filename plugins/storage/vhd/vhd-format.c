/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VHD structures: see vhd-format.h. Field offsets are the specification's
 * "Hard Disk Footer Format" and "Dynamic Disk Header Format" tables.
 */
#include "vhd-format.h"

#include <string.h>

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) << 32 | get32(p + 4); }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)(v >> 32)); put32(p + 4, (uint32_t)v); }

/* A sum has no branches worth a fuzzer's attention: in a coverage build
 * (clang, scripts/fuzz.sh) its loop cost a callback per step, and every
 * open and check sums the footer, its copy and the header. */
#if defined(__clang__)
__attribute__((no_sanitize("coverage")))
#endif
uint32_t vhd_checksum(const uint8_t *buf, size_t len, size_t csum_off)
{
    /* The one's complement of the byte sum with the checksum field taken
     * as zero: the whole sum, then the field's bytes taken out again.
     * Eight bytes a step: the byte pairs of a word added in 16-bit lanes
     * (at most 510 a lane per step, so a lane holds 128 steps), the lanes
     * folded into the sum every 64 steps. */
    uint32_t sum = 0;
    size_t i = 0;
    while (i + 8 <= len) {
        uint64_t lanes = 0;
        for (unsigned step = 0; step < 64 && i + 8 <= len; step++, i += 8) {
            uint64_t w;
            memcpy(&w, buf + i, 8);
            lanes += (w & 0x00FF00FF00FF00FFull) + ((w >> 8) & 0x00FF00FF00FF00FFull);
        }
        sum += (uint32_t)((lanes & 0xFFFF) + ((lanes >> 16) & 0xFFFF) +
                          ((lanes >> 32) & 0xFFFF) + (lanes >> 48));
    }
    for (; i < len; i++)
        sum += buf[i];
    for (i = csum_off; i < len && i < csum_off + 4; i++)
        sum -= buf[i];
    return ~sum;
}

void vhd_footer_decode(const uint8_t *b, VhdFooter *f)
{
    memset(f, 0, sizeof(*f));
    memcpy(f->cookie, b, 8);
    f->features = get32(b + 8);
    f->version = get32(b + 12);
    f->data_offset = get64(b + 16);
    f->timestamp = get32(b + 24);
    memcpy(f->creator_app, b + 28, 4);
    f->creator_version = get32(b + 32);
    f->creator_os = get32(b + 36);
    f->orig_size = get64(b + 40);
    f->cur_size = get64(b + 48);
    f->cylinders = get16(b + 56);
    f->heads = b[58];
    f->spt = b[59];
    f->disk_type = get32(b + 60);
    f->checksum = get32(b + 64);
    memcpy(f->uuid, b + 68, 16);
    f->saved_state = b[84];
}

void vhd_footer_encode(VhdFooter *f, uint8_t *b)
{
    memset(b, 0, VHD_FOOTER_SIZE);
    memcpy(b, f->cookie, 8);
    put32(b + 8, f->features);
    put32(b + 12, f->version);
    put64(b + 16, f->data_offset);
    put32(b + 24, f->timestamp);
    memcpy(b + 28, f->creator_app, 4);
    put32(b + 32, f->creator_version);
    put32(b + 36, f->creator_os);
    put64(b + 40, f->orig_size);
    put64(b + 48, f->cur_size);
    put16(b + 56, f->cylinders);
    b[58] = f->heads;
    b[59] = f->spt;
    put32(b + 60, f->disk_type);
    memcpy(b + 68, f->uuid, 16);
    b[84] = f->saved_state;
    f->checksum = vhd_checksum(b, VHD_FOOTER_SIZE, 64);
    put32(b + 64, f->checksum);
}

bool vhd_footer_ok(const uint8_t *b, size_t len)
{
    return memcmp(b, "conectix", 8) == 0 && vhd_checksum(b, len, 64) == get32(b + 64);
}

void vhd_header_decode(const uint8_t *b, VhdHeader *h)
{
    memset(h, 0, sizeof(*h));
    memcpy(h->cookie, b, 8);
    h->data_offset = get64(b + 8);
    h->table_offset = get64(b + 16);
    h->version = get32(b + 24);
    h->max_entries = get32(b + 28);
    h->block_size = get32(b + 32);
    h->checksum = get32(b + 36);
    memcpy(h->parent_uuid, b + 40, 16);
    h->parent_ts = get32(b + 56);
    memcpy(h->parent_name, b + 64, 512);
    for (int i = 0; i < 8; i++) {
        const uint8_t *e = b + 576 + 24 * i;
        h->loc[i].code = get32(e);
        h->loc[i].space = get32(e + 4);
        h->loc[i].length = get32(e + 8);
        h->loc[i].reserved = get32(e + 12);
        h->loc[i].offset = get64(e + 16);
    }
}

void vhd_header_encode(VhdHeader *h, uint8_t *b)
{
    memset(b, 0, VHD_HEADER_SIZE);
    memcpy(b, h->cookie, 8);
    put64(b + 8, h->data_offset);
    put64(b + 16, h->table_offset);
    put32(b + 24, h->version);
    put32(b + 28, h->max_entries);
    put32(b + 32, h->block_size);
    memcpy(b + 40, h->parent_uuid, 16);
    put32(b + 56, h->parent_ts);
    memcpy(b + 64, h->parent_name, 512);
    for (int i = 0; i < 8; i++) {
        uint8_t *e = b + 576 + 24 * i;
        put32(e, h->loc[i].code);
        put32(e + 4, h->loc[i].space);
        put32(e + 8, h->loc[i].length);
        put32(e + 12, h->loc[i].reserved);
        put64(e + 16, h->loc[i].offset);
    }
    h->checksum = vhd_checksum(b, VHD_HEADER_SIZE, 36);
    put32(b + 36, h->checksum);
}

bool vhd_header_ok(const uint8_t *b)
{
    return memcmp(b, "cxsparse", 8) == 0 &&
           vhd_checksum(b, VHD_HEADER_SIZE, 36) == get32(b + 36);
}

/* Specification appendix "CHS Calculation". */
void vhd_chs(uint64_t total, uint16_t *cyl, uint8_t *heads, uint8_t *spt)
{
    uint64_t s, h, cth;
    if (total > 65535ull * 16 * 255)
        total = 65535ull * 16 * 255;
    if (total >= 65535ull * 16 * 63) {
        s = 255;
        h = 16;
        cth = total / s;
    } else {
        s = 17;
        cth = total / s;
        h = (cth + 1023) / 1024;
        if (h < 4)
            h = 4;
        if (cth >= h * 1024 || h > 16) {
            s = 31;
            h = 16;
            cth = total / s;
        }
        if (cth >= h * 1024) {
            s = 63;
            h = 16;
            cth = total / s;
        }
    }
    *cyl = (uint16_t)(cth / h);
    *heads = (uint8_t)h;
    *spt = (uint8_t)s;
}

static bool chs_is_max(uint16_t c, uint8_t h, uint8_t s)
{
    return c == 65535 && h == 16 && s == 255;
}

uint64_t vhd_round_size(uint64_t bytes)
{
    uint64_t want = (bytes + 511) / 512;
    uint16_t c;
    uint8_t h, s;
    /* The appendix rounds down; step up until C*H*S covers the request
     * (a few steps: each cylinder adds at most 16*255 sectors). */
    for (uint64_t t = want;; t++) {
        vhd_chs(t, &c, &h, &s);
        if (chs_is_max(c, h, s) && (uint64_t)c * h * s < want)
            return want * 512;
        if ((uint64_t)c * h * s >= want)
            return (uint64_t)c * h * s * 512;
    }
}

uint64_t vhd_disk_size(const VhdFooter *f)
{
    static const char chs_creators[][4] = { {'v','p','c',' '}, {'v','s',' ',' '},
                                            {'q','e','m','u'} };
    bool use_chs = false;
    for (size_t i = 0; i < G_N_ELEMENTS(chs_creators); i++)
        if (!memcmp(f->creator_app, chs_creators[i], 4))
            use_chs = true;
    if (use_chs && !chs_is_max(f->cylinders, f->heads, f->spt))
        return (uint64_t)f->cylinders * f->heads * f->spt * 512;
    return f->cur_size & ~(uint64_t)511;
}

uint32_t vhd_time_from_unix(int64_t t)
{
    int64_t v = t - VHD_EPOCH;
    return v < 0 ? 0 : v > 0xFFFFFFFFll ? 0xFFFFFFFFu : (uint32_t)v;
}

int64_t vhd_time_to_unix(uint32_t t)
{
    return (int64_t)t + VHD_EPOCH;
}

char *vhd_uuid_text(const uint8_t u[16])
{
    return g_strdup_printf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                           "%02x%02x%02x%02x%02x%02x",
                           u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
                           u[10], u[11], u[12], u[13], u[14], u[15]);
}

void vhd_uuid_generate(uint8_t u[16])
{
    g_autofree char *s = g_uuid_string_random();
    int j = 0;
    for (const char *p = s; *p && j < 32; p++) {
        if (!g_ascii_isxdigit(*p))
            continue;
        int v = g_ascii_xdigit_value(*p);
        if (j & 1)
            u[j / 2] |= (uint8_t)v;
        else
            u[j / 2] = (uint8_t)(v << 4);
        j++;
    }
}

bool vhd_uuid_is_zero(const uint8_t u[16])
{
    for (int i = 0; i < 16; i++)
        if (u[i])
            return false;
    return true;
}

char *vhd_utf16_decode(const uint8_t *b, size_t len, bool big_endian)
{
    size_t n = len / 2;
    g_autofree gunichar2 *w = g_new(gunichar2, n + 1);
    size_t k = 0;
    for (; k < n; k++) {
        w[k] = big_endian ? (gunichar2)(b[2 * k] << 8 | b[2 * k + 1])
                          : (gunichar2)(b[2 * k + 1] << 8 | b[2 * k]);
        if (!w[k])
            break;
    }
    if (k == 0)
        return NULL;
    return g_utf16_to_utf8(w, (glong)k, NULL, NULL, NULL);
}

uint8_t *vhd_utf16_encode(const char *s, bool big_endian, size_t *out_len)
{
    glong n = 0;
    g_autofree gunichar2 *w = g_utf8_to_utf16(s, -1, NULL, &n, NULL);
    if (!w) {
        *out_len = 0;
        return g_malloc0(2);
    }
    uint8_t *b = g_malloc((size_t)n * 2 + 2);
    for (glong i = 0; i < n; i++) {
        b[2 * i + (big_endian ? 0 : 1)] = (uint8_t)(w[i] >> 8);
        b[2 * i + (big_endian ? 1 : 0)] = (uint8_t)w[i];
    }
    *out_len = (size_t)n * 2;
    return b;
}
