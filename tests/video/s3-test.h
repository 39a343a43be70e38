/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers for the S3 Trio64 tests: a machine with the i440FX and the S3,
 * PCI configuration of BAR0, the unlock keys, and a packed-pixel mode
 * programmed as Linux's s3fb does (standard CRTC timings, CR5D/CR5E
 * overflows, CR13/CR51 offset, CR3A/CR67/CR50 pixel format, SR12/SR13
 * DCLK loaded through SR15 bit 5).
 */
#ifndef TESS_S3_TEST_H
#define TESS_S3_TEST_H

#include "video-test.h"

#define S3_LFB 0xE0000000u
#define S3_FRAG_ATTRS(attrs)                                                  \
    "<device type='i440fx' id='pci'/>"                                        \
    "<device type='s3-trio64' id='vga' rom='' " attrs "/>"

static inline unsigned s3t_devfn(TessMachine *m)
{
    for (unsigned devfn = 0; devfn < 256; devfn += 8) {
        th_outl(m, 0xCF8, 0x80000000u | devfn << 8);
        uint32_t id = th_inl(m, 0xCFC);
        if ((id & 0xFFFF) == 0x5333)
            return devfn;
    }
    g_assert_not_reached();
    return 0;
}

static inline uint32_t s3t_cfg_read(TessMachine *m, unsigned devfn, unsigned reg)
{
    th_outl(m, 0xCF8, 0x80000000u | devfn << 8 | (reg & 0xFC));
    return th_inl(m, 0xCFC);
}

static inline void s3t_cfg_write(TessMachine *m, unsigned devfn, unsigned reg, uint32_t v)
{
    th_outl(m, 0xCF8, 0x80000000u | devfn << 8 | (reg & 0xFC));
    th_outl(m, 0xCFC, v);
}

/* BAR0 at S3_LFB, memory and I/O decoding on; colour CRTC addressing;
 * every register unlocked; the engine's ports on. */
static inline void s3t_setup(TessMachine *m)
{
    unsigned devfn = s3t_devfn(m);
    s3t_cfg_write(m, devfn, 0x10, S3_LFB);
    s3t_cfg_write(m, devfn, 0x04, 0x0003);
    th_outb(m, 0x3C2, 0x03);
    vt_cr(m, 0x38, 0x48);
    vt_cr(m, 0x39, 0xA5);
    vt_sr(m, 0x08, 0x06);
    vt_cr(m, 0x40, 0x01);
}

static inline uint8_t *s3t_vram(TessMachine *m)
{
    TessMemPage p = tess_mem_page(m, S3_LFB);
    g_assert_nonnull(p.read);
    return p.read;
}

/* A packed mode: `bpp` 8/15/16/24/32, timings of a VESA mode (pixels), the
 * DCLK from M, N, R. */
typedef struct S3tMode {
    unsigned w, h, bpp;
    unsigned htotal, hss, hse, vtotal, vss, vse;
    unsigned m, n, r;
} S3tMode;

static inline void s3t_wcr_bits(TessMachine *m, uint8_t idx, uint8_t val, uint8_t mask)
{
    uint8_t old = vt_cr_read(m, idx);
    vt_cr(m, idx, (uint8_t)((old & ~mask) | (val & mask)));
}

static inline void s3t_set_mode(TessMachine *m, const S3tMode *md, unsigned start_bytes)
{
    /* CRTC clocks per pixel: two in the 16-bit modes, three in packed
     * 24-bit (the Trio's RAMDAC takes 24-bit pixels a byte per clock) */
    unsigned hmul = (md->bpp == 15 || md->bpp == 16) ? 2 : md->bpp == 24 ? 3 : 1;
    unsigned bytespp = md->bpp == 15 ? 2 : md->bpp / 8;
    vt_sr(m, 0, 0x01);
    th_outb(m, 0x3C2, 0xEF);                       /* colour, RAM on, DCLK (CS = 3) */
    vt_sr(m, 1, 0x01);
    vt_sr(m, 2, 0x0F);
    vt_sr(m, 3, 0x00);
    vt_sr(m, 4, 0x0E);
    vt_sr(m, 0, 0x03);
    vt_gr(m, 5, 0x40);
    vt_gr(m, 6, 0x05);
    (void)th_inb(m, 0x3DA);
    for (unsigned i = 0; i < 16; i++) {
        th_outb(m, 0x3C0, (uint8_t)i);
        th_outb(m, 0x3C0, (uint8_t)i);
    }
    th_outb(m, 0x3C0, 0x10); th_outb(m, 0x3C0, 0x41);
    th_outb(m, 0x3C0, 0x12); th_outb(m, 0x3C0, 0x0F);
    th_outb(m, 0x3C0, 0x13); th_outb(m, 0x3C0, 0x00);
    th_outb(m, 0x3C0, 0x14); th_outb(m, 0x3C0, 0x00);
    th_outb(m, 0x3C0, 0x20);
    vt_cr(m, 0x11, 0x00);
    unsigned ht = md->htotal * hmul / 8 - 5, hd = md->w * hmul / 8 - 1;
    unsigned hs = md->hss * hmul / 8, he = md->hse * hmul / 8;
    unsigned vt = md->vtotal - 2, vd = md->h - 1, vs = md->vss, ve = md->vse;
    vt_cr(m, 0x00, (uint8_t)ht);
    vt_cr(m, 0x01, (uint8_t)hd);
    vt_cr(m, 0x02, (uint8_t)hd);
    vt_cr(m, 0x03, 0x80 | ((ht + 5) & 0x1F));
    vt_cr(m, 0x04, (uint8_t)hs);
    vt_cr(m, 0x05, (uint8_t)(he & 0x1F));
    vt_cr(m, 0x06, (uint8_t)vt);
    vt_cr(m, 0x07, (uint8_t)((vt >> 8 & 1) | (vd >> 8 & 1) << 1 | (vs >> 8 & 1) << 2 |
                            (vd >> 8 & 1) << 3 | 1 << 4 | (vt >> 9 & 1) << 5 |
                            (vd >> 9 & 1) << 6 | (vs >> 9 & 1) << 7));
    vt_cr(m, 0x08, 0x00);
    vt_cr(m, 0x09, 0x40);
    vt_cr(m, 0x10, (uint8_t)vs);
    vt_cr(m, 0x11, (uint8_t)(ve & 0x0F));
    vt_cr(m, 0x12, (uint8_t)vd);
    vt_cr(m, 0x14, 0x00);
    vt_cr(m, 0x15, (uint8_t)vd);
    vt_cr(m, 0x16, (uint8_t)vt);
    vt_cr(m, 0x17, 0xE3);
    vt_cr(m, 0x18, 0xFF);
    vt_cr(m, 0x5D, (uint8_t)((ht >> 8 & 1) | (hd >> 8 & 1) << 1 | (hd >> 8 & 1) << 2 |
                             (hs >> 8 & 1) << 4));
    vt_cr(m, 0x5E, (uint8_t)((vt >> 10 & 1) | (vd >> 10 & 1) << 1 | (vd >> 10 & 1) << 2 |
                             (vs >> 10 & 1) << 4 | 1 << 6));
    unsigned offset = md->w * bytespp / 8;
    vt_cr(m, 0x13, (uint8_t)offset);
    s3t_wcr_bits(m, 0x51, (uint8_t)((offset >> 8) << 4), 0x30);
    vt_cr(m, 0x43, 0x00);
    unsigned start = start_bytes / 4;
    vt_cr(m, 0x0C, (uint8_t)(start >> 8));
    vt_cr(m, 0x0D, (uint8_t)start);
    vt_cr(m, 0x69, (uint8_t)(start >> 16));
    s3t_wcr_bits(m, 0x58, 0x10, 0x10);
    s3t_wcr_bits(m, 0x31, 0x08, 0x08);
    vt_cr(m, 0x3A, 0x35);
    uint8_t cr50 = md->bpp == 8 || md->bpp == 24 ? 0x00 : md->bpp == 32 ? 0x30 : 0x10;
    s3t_wcr_bits(m, 0x50, cr50, 0x30);
    uint8_t cr67 = md->bpp == 8 ? 0x00 : md->bpp == 15 ? 0x30 : md->bpp == 16 ? 0x50
                 : md->bpp == 24 ? 0x70 : 0xD0;
    s3t_wcr_bits(m, 0x67, cr67, 0xF0);
    vt_sr(m, 0x12, (uint8_t)((md->n - 2) | md->r << 5));
    vt_sr(m, 0x13, (uint8_t)(md->m - 2));
    th_outb(m, 0x3C4, 0x15);
    uint8_t sr15 = th_inb(m, 0x3C5);
    vt_sr(m, 0x15, sr15 & ~0x20);
    vt_sr(m, 0x15, sr15 | 0x20);
    vt_sr(m, 0x15, sr15 & ~0x20);
}

/* VESA 640x480@60 (25.175 MHz: M 51 N 29 R 0 is 25.180 MHz), 800x600@60
 * (40 MHz: M 81 N 29 R 0 = 39.99 MHz). */
static const S3tMode s3t_640x480 = { 640, 480, 8, 800, 656, 752, 525, 490, 492, 51, 29, 0 };
static const S3tMode s3t_800x600 = { 800, 600, 8, 1056, 840, 968, 628, 601, 605, 81, 29, 0 };

#endif
