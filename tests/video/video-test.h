/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the video tests and the video benchmark: program the
 * VGA exactly as a BIOS sets a standard mode (register tables from the IBM
 * VGA technical reference's mode tables), load fonts and palettes, and
 * render through the "display-source" interface.
 */
#ifndef TESS_VIDEO_TEST_H
#define TESS_VIDEO_TEST_H

#include "harness.h"
#include <tessera/display.h>

#include <string.h>

typedef struct VgaModeRegs {
    uint8_t misc;
    uint8_t sr[5];      /* SR00-SR04 (SR00 is written last, as 0x03) */
    uint8_t cr[25];
    uint8_t ar[21];
    uint8_t gr[9];
} VgaModeRegs;

static const VgaModeRegs vt_mode03 = {
    0x67, { 0x03, 0x00, 0x03, 0x00, 0x02 },
    { 0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E, 0x00,
      0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A, 0x3B, 0x3C,
      0x3D, 0x3E, 0x3F, 0x0C, 0x00, 0x0F, 0x08, 0x00 },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x0F, 0xFF },
};

static const VgaModeRegs vt_mode01 = {   /* 40x25 text */
    0x67, { 0x03, 0x08, 0x03, 0x00, 0x02 },
    { 0x2D, 0x27, 0x28, 0x90, 0x2B, 0xA0, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E, 0x00,
      0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x14, 0x1F, 0x96, 0xB9, 0xA3, 0xFF },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A, 0x3B, 0x3C,
      0x3D, 0x3E, 0x3F, 0x0C, 0x00, 0x0F, 0x08, 0x00 },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x0F, 0xFF },
};

static const VgaModeRegs vt_mode04 = {   /* CGA 320x200x4 */
    0x63, { 0x03, 0x09, 0x03, 0x00, 0x02 },
    { 0x2D, 0x27, 0x28, 0x90, 0x2B, 0x80, 0xBF, 0x1F, 0x00, 0xC1, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x14, 0x00, 0x96, 0xB9, 0xA2, 0xFF },
    { 0x00, 0x13, 0x15, 0x17, 0x02, 0x04, 0x06, 0x07, 0x10, 0x11, 0x12, 0x13, 0x14,
      0x15, 0x16, 0x17, 0x01, 0x00, 0x03, 0x00, 0x00 },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x0F, 0x0F, 0xFF },
};

static const VgaModeRegs vt_mode06 = {   /* CGA 640x200x2 */
    0x63, { 0x03, 0x01, 0x01, 0x00, 0x06 },
    { 0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0xBF, 0x1F, 0x00, 0xC1, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x00, 0x96, 0xB9, 0xC2, 0xFF },
    { 0x00, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17,
      0x17, 0x17, 0x17, 0x01, 0x00, 0x01, 0x00, 0x00 },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0D, 0x0F, 0xFF },
};

static const VgaModeRegs vt_mode12 = {   /* 640x480x16 */
    0xE3, { 0x03, 0x01, 0x0F, 0x00, 0x06 },
    { 0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0x0B, 0x3E, 0x00, 0x40, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x59, 0xEA, 0x8C, 0xDF, 0x28, 0x00, 0xE7, 0x04, 0xE3, 0xFF },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A, 0x3B, 0x3C,
      0x3D, 0x3E, 0x3F, 0x01, 0x00, 0x0F, 0x00, 0x00 },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0F, 0xFF },
};

static const VgaModeRegs vt_mode13 = {   /* 320x200x256 */
    0x63, { 0x03, 0x01, 0x0F, 0x00, 0x0E },
    { 0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0xBF, 0x1F, 0x00, 0x41, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x40, 0x96, 0xB9, 0xA3, 0xFF },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C,
      0x0D, 0x0E, 0x0F, 0x41, 0x00, 0x0F, 0x00, 0x00 },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0F, 0xFF },
};

static inline void vt_sr(TessMachine *m, uint8_t i, uint8_t v) { th_outb(m, 0x3C4, i); th_outb(m, 0x3C5, v); }
static inline void vt_gr(TessMachine *m, uint8_t i, uint8_t v) { th_outb(m, 0x3CE, i); th_outb(m, 0x3CF, v); }
static inline void vt_cr(TessMachine *m, uint8_t i, uint8_t v) { th_outb(m, 0x3D4, i); th_outb(m, 0x3D5, v); }
static inline uint8_t vt_cr_read(TessMachine *m, uint8_t i) { th_outb(m, 0x3D4, i); return th_inb(m, 0x3D5); }
static inline void vt_ar(TessMachine *m, uint8_t i, uint8_t v)
{
    (void)th_inb(m, 0x3DA);
    th_outb(m, 0x3C0, i);          /* PAS clear while writing */
    th_outb(m, 0x3C0, v);
    th_outb(m, 0x3C0, 0x20);
}

/* Program a mode as the BIOS's set-mode routine does. */
static inline void vt_set_mode(TessMachine *m, const VgaModeRegs *r)
{
    vt_sr(m, 0, 0x01);                       /* synchronous reset */
    th_outb(m, 0x3C2, r->misc);
    for (unsigned i = 1; i < 5; i++)
        vt_sr(m, (uint8_t)i, r->sr[i]);
    vt_sr(m, 0, 0x03);
    vt_cr(m, 0x11, (uint8_t)(r->cr[0x11] & 0x7F)); /* unprotect CR00-07 */
    for (unsigned i = 0; i < 25; i++)
        vt_cr(m, (uint8_t)i, r->cr[i]);
    (void)th_inb(m, 0x3DA);
    for (unsigned i = 0; i < 21; i++) {
        th_outb(m, 0x3C0, (uint8_t)i);
        th_outb(m, 0x3C0, r->ar[i]);
    }
    for (unsigned i = 0; i < 9; i++)
        vt_gr(m, (uint8_t)i, r->gr[i]);
    th_outb(m, 0x3C0, 0x20);                 /* PAS: video on */
}

/* Mode X from mode 13h (Abrash's 320x240 tweak). */
static inline void vt_set_modex(TessMachine *m)
{
    vt_set_mode(m, &vt_mode13);
    vt_sr(m, 4, 0x06);                       /* chain-4 off */
    vt_sr(m, 0, 0x01);
    th_outb(m, 0x3C2, 0xE3);
    vt_sr(m, 0, 0x03);
    vt_cr(m, 0x11, 0x2C);                    /* unprotect */
    static const uint8_t tw[][2] = { { 0x06, 0x0D }, { 0x07, 0x3E }, { 0x09, 0x41 },
        { 0x10, 0xEA }, { 0x11, 0xAC }, { 0x12, 0xDF }, { 0x14, 0x00 }, { 0x15, 0xE7 },
        { 0x16, 0x06 }, { 0x17, 0xE3 } };
    for (size_t i = 0; i < G_N_ELEMENTS(tw); i++)
        vt_cr(m, tw[i][0], tw[i][1]);
}

/* A palette where every entry is distinct: the 6-bit DAC values the tests
 * load, and their 8-bit expansion. */
static inline void vt_dac_entry(unsigned i, uint8_t rgb[3])
{
    rgb[0] = (uint8_t)((i * 7 + 3) & 63);
    rgb[1] = (uint8_t)((i * 13 + 5) & 63);
    rgb[2] = (uint8_t)((i >> 2) ^ ((i & 3) << 4));
}

static inline uint32_t vt_dac_rgb(unsigned i)
{
    uint8_t c[3];
    vt_dac_entry(i, c);
    uint32_t r = (uint32_t)(c[0] << 2 | c[0] >> 4), g = (uint32_t)(c[1] << 2 | c[1] >> 4),
             b = (uint32_t)(c[2] << 2 | c[2] >> 4);
    return r << 16 | g << 8 | b;
}

static inline void vt_load_dac(TessMachine *m)
{
    th_outb(m, 0x3C8, 0);
    for (unsigned i = 0; i < 256; i++) {
        uint8_t c[3];
        vt_dac_entry(i, c);
        th_outb(m, 0x3C9, c[0]);
        th_outb(m, 0x3C9, c[1]);
        th_outb(m, 0x3C9, c[2]);
    }
}

/* A synthetic 8x16 font: every glyph row different, so a wrong character,
 * row or map shows up. */
static inline uint8_t vt_glyph(unsigned map, unsigned ch, unsigned row)
{
    uint32_t h = (ch * 2654435761u) ^ (row * 40503u) ^ (map * 0x9E3779B9u);
    h ^= h >> 13;
    h *= 0x5bd1e995u;
    h ^= h >> 15;
    return (uint8_t)h;
}

/* Load font `map` (0-7) into plane 2 the way the BIOS does (planar
 * access to plane 2 at A0000), then restore text-mode addressing. */
static inline void vt_load_font(TessMachine *m, unsigned map, unsigned height)
{
    vt_sr(m, 2, 0x04);
    vt_sr(m, 4, 0x07);
    vt_gr(m, 4, 0x02);
    vt_gr(m, 5, 0x00);
    vt_gr(m, 6, 0x04);
    uint32_t base = (map & 3) * 0x4000u + (map >> 2) * 0x2000u;
    for (unsigned ch = 0; ch < 256; ch++)
        for (unsigned row = 0; row < 32; row++)
            tess_mem_write(m, 0xA0000 + base + ch * 32 + row,
                           row < height ? vt_glyph(map, ch, row) : 0, 1);
    vt_sr(m, 2, 0x03);
    vt_sr(m, 4, 0x02);
    vt_gr(m, 4, 0x00);
    vt_gr(m, 5, 0x10);
    vt_gr(m, 6, 0x0E);
}

static inline void vt_dispi(TessMachine *m, uint16_t index, uint16_t value)
{
    th_outw(m, 0x1CE, index);
    th_outw(m, 0x1CF, value);
}

static inline uint16_t vt_dispi_read(TessMachine *m, uint16_t index)
{
    th_outw(m, 0x1CE, index);
    return th_inw(m, 0x1CF);
}

/* ---- rendering through the interface --------------------------------------- */

typedef struct VtScreen {
    TessDevice *src;
    const TessDisplaySourceOps *ops;
    TessDisplaySurface surf;
} VtScreen;

static inline VtScreen vt_screen(TessMachine *m, const char *id)
{
    VtScreen s = { 0 };
    s.src = tess_machine_device(m, id);
    g_assert_nonnull(s.src);
    s.ops = tess_device_interface(s.src, TESS_IFACE_DISPLAY_SOURCE);
    g_assert_nonnull(s.ops);
    return s;
}

static inline void vt_screen_alloc(VtScreen *s, unsigned w, unsigned h)
{
    g_free(s->surf.pixels);
    s->surf.pixels = g_new0(uint32_t, (size_t)w * h);
    s->surf.width = w;
    s->surf.height = h;
    s->surf.stride = (size_t)w * 4;
}

/* Render the whole picture into a surface of the mode's size. */
static inline TessDisplayMode vt_render(VtScreen *s)
{
    TessDisplayMode md;
    s->ops->get_mode(s->src, &md);
    if (!s->surf.pixels || md.width != s->surf.width || md.height != s->surf.height)
        vt_screen_alloc(s, MAX(md.width, 1u), MAX(md.height, 1u));
    s->ops->render(s->src, NULL, &s->surf, NULL);
    return md;
}

static inline uint32_t vt_px(const VtScreen *s, unsigned x, unsigned y)
{
    return s->surf.pixels[(size_t)y * (s->surf.stride / 4) + x];
}

static inline void vt_screen_free(VtScreen *s)
{
    g_free(s->surf.pixels);
    s->surf.pixels = NULL;
}

#endif
