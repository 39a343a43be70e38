/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the snapshot loader (`tessera run --restore`). The
 * input is a snapshot file; it goes through the whole restore - container,
 * header, plugin set, the machine it describes built afresh, every device
 * section loaded and post_load'ed, lines, RAM, clock - and is then freed.
 * Any input gets a machine or an error, never a crash, hang or leak.
 *
 * Every section carries a CRC-32, so almost every mutation would stop at
 * the CRC check and the parsers behind it would go unfuzzed: before
 * loading, this harness walks the sections as the format lays them out
 * and rewrites each CRC to match its bytes (the CRC check itself is
 * covered by tests/snapshot's corruption tests). The seed corpus
 * (corpus/snapshot/) holds real snapshots of small machines that need no
 * host files: see corpus/snapshot/README.
 */
#include "harness.h"

#include <string.h>

static uint32_t crc_table[8][256];

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xFF];
}

/* The harness's own walk and CRC are not what is fuzzed: uninstrumented,
 * they neither cost a coverage callback per byte nor show libFuzzer
 * features of their own. Eight bytes a step (slicing by 8, as the
 * loader): the CRCs cover every byte of each input. */
#define FZ_PLAIN __attribute__((no_sanitize("coverage"), noinline))

FZ_PLAIN static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (; n >= 8; p += 8, n -= 8) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + 4, 4);
        lo = GUINT32_FROM_LE(lo) ^ c;
        hi = GUINT32_FROM_LE(hi);
        c = crc_table[7][lo & 0xFF] ^ crc_table[6][(lo >> 8) & 0xFF] ^
            crc_table[5][(lo >> 16) & 0xFF] ^ crc_table[4][lo >> 24] ^
            crc_table[3][hi & 0xFF] ^ crc_table[2][(hi >> 8) & 0xFF] ^
            crc_table[1][(hi >> 16) & 0xFF] ^ crc_table[0][hi >> 24];
    }
    while (n--)
        c = crc_table[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

FZ_PLAIN static bool rd32(const uint8_t *d, size_t len, size_t *pos, uint32_t *v)
{
    if (len - *pos < 4)
        return false;
    *v = (uint32_t)d[*pos] | (uint32_t)d[*pos + 1] << 8 | (uint32_t)d[*pos + 2] << 16 |
         (uint32_t)d[*pos + 3] << 24;
    *pos += 4;
    return true;
}

/* magic[8] format u32 reserved u32, then sections: kind u32, id str,
 * type str (u32 length or 0xFFFFFFFF, bytes), version u32, length u64,
 * crc u32, bytes. Stops quietly where the input stops making sense. */
FZ_PLAIN static void fix_crcs(uint8_t *d, size_t len)
{
    size_t pos = 16;
    while (pos < len) {
        uint32_t v, lo, hi;
        if (!rd32(d, len, &pos, &v))        /* kind */
            return;
        for (int s = 0; s < 2; s++) {       /* id, type */
            if (!rd32(d, len, &pos, &v))
                return;
            if (v != 0xFFFFFFFFu) {
                if (v > len - pos)
                    return;
                pos += v;
            }
        }
        if (!rd32(d, len, &pos, &v) || !rd32(d, len, &pos, &lo) || !rd32(d, len, &pos, &hi))
            return;
        if (hi || len - pos < 4 || lo > len - pos - 4)
            return;
        uint32_t c = crc32_ieee(d + pos + 4, lo);
        for (int i = 0; i < 4; i++)
            d[pos + i] = (uint8_t)(c >> (8 * i));
        pos += 4 + lo;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        g_log_set_handler(NULL, G_LOG_LEVEL_MASK & ~G_LOG_FATAL_MASK,
                          (GLogFunc)g_log_default_handler, NULL);
        g_setenv("G_MESSAGES_DEBUG", "", TRUE);
        crc_init();
        ready = true;
    }
    uint8_t *copy = g_memdup2(data, size ? size : 1);
    fix_crcs(copy, size);
    tess_snapshot_fuzz_one(th_registry(), copy, size);
    g_free(copy);
    return 0;
}
