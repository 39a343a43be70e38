/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the VGA puts on the monitor: the CRTC's timing and addressing
 * (IBM VGA technical reference, "CRT Controller Registers": horizontal and
 * vertical display end with the overflow bits, maximum scan line and
 * double scanning, offset, start address with byte panning, preset row
 * scan, line compare, underline location, byte/word/doubleword addressing
 * and the CGA/Hercules row-scan address substitution), the serializer
 * (planar, CGA interleaved, 256-colour), the attribute controller (palette,
 * colour plane enable, P54S and colour select, pel panning, blink, line
 * graphics) and the DAC; or the Bochs VBE framebuffer. And the
 * "display-source" interface built on it.
 *
 * Change detection: each output line is described by the bytes it is made
 * from (gathered through the CRTC's addressing for VGA modes, read in
 * place for linear VBE modes) plus a small header (row scan, panning,
 * cursor, blink phase). A view keeps those bytes per line and redraws a
 * line only when they differ. Anything global (geometry, palette) is
 * compared as one key; a difference there redraws everything.
 */
#define G_LOG_DOMAIN "vga"
#include "vga.h"

#include <string.h>

enum { VK_BLANK, VK_TEXT, VK_GFX, VK_VBE };
enum { AM_BYTE, AM_WORD, AM_DWORD };
enum { SH_PLANAR, SH_CGA, SH_256 };

typedef struct VgaGeom {
    int kind;
    unsigned width, height, depth;
    /* VGA modes */
    unsigned chars;         /* character clocks fetched per line (displayed) */
    unsigned cw;            /* output pixels per character clock */
    unsigned shift;         /* SH_* */
    unsigned amode;         /* AM_* */
    unsigned aw_bit;        /* word mode: counter bit that becomes MA0 */
    unsigned cr17;
    unsigned cshift;        /* counter advances every 1 << cshift characters */
    unsigned vlines;        /* displayed scanlines */
    unsigned msl;
    unsigned dscan;
    unsigned step;          /* scanlines per output line */
    unsigned start;
    unsigned offset2;       /* counter advance per character row */
    unsigned lc;
    unsigned prs;
    unsigned pan;           /* pixels dropped at the left */
    unsigned pan_reset;     /* AR10.PP: no panning below the split */
    /* text */
    unsigned ul, cur_loc, cur_start, cur_end, cur_skew, cur_off;
    unsigned ar10;
    uint32_t font_a, font_b;
    /* VBE */
    unsigned bpp, bytespp;
    uint64_t vbe_start, vbe_line;
} VgaGeom;

/* Everything global a picture depends on; views compare it whole. */
typedef struct VgaKey {
    VgaGeom g;
    uint32_t dac[256];
    uint32_t attr[16];
} VgaKey;

#define LINE_HDR 8
#define SCRATCH_PX (TESS_DISPLAY_MAX_WIDTH + 64)
#define SCRATCH_BYTES (4 * (DISPI_MAX_XRES / 8 + 8) + LINE_HDR)

typedef struct VgaRender {
    VgaKey key;                              /* built by each render */
    uint32_t px[SCRATCH_PX];
    uint8_t src[SCRATCH_BYTES];
    uint8_t *dirty;                          /* per output line */
    unsigned dirty_cap;
    /* The core's dirty log of video memory: page_epoch[p] is the render
     * (epoch) whose fetch last found page p written. A view rendered at
     * epoch E may skip comparing a line whose pages all have an epoch <= E:
     * its shadow still holds what memory holds. */
    bool logging;
    uint64_t epoch;
    uint64_t *page_epoch;
    uint64_t *logbits;
} VgaRender;

struct TessDisplayView {
    bool valid;
    bool blank;
    VgaKey key;
    const void *pixels;
    unsigned sw, sh;
    size_t stride;
    uint8_t *shadow;
    size_t line_cap;
    unsigned lines;
    uint64_t seen;                           /* VgaRender.epoch of the last render */
    uint64_t text_tick;                      /* text: frame / 8 of the last walk */
};

/* ---- timing --------------------------------------------------------------- */

#define NOMINAL_FRAME_NS (TESS_NS_PER_SEC / 60)

void vga_timing(const Vga *v, VgaTiming *t)
{
    if (v->dispi_on) {
        unsigned yres = v->dispi[DISPI_INDEX_YRES], xres = v->dispi[DISPI_INDEX_XRES];
        t->vde = yres;
        t->vtotal = yres + yres / 20 + 8;
        t->vrs = yres + 2;
        t->vre = yres + 6;
        t->hde = MAX(xres / 8, 1u);
        t->htotal = t->hde + t->hde / 4 + 1;
        t->frame_ns = NOMINAL_FRAME_NS;
        t->line_ns = MAX(t->frame_ns / t->vtotal, (uint64_t)1);
        return;
    }
    const uint8_t *cr = v->cr;
    VgaCrtcExt e = { 0 };
    if (v->model && v->model->crtc_ext)
        v->model->crtc_ext(v, &e);
    t->htotal = (cr[0] | e.htotal_hi) + 5u;
    t->hde = (cr[1] | e.hde_hi) + 1u;
    t->vtotal = (cr[6] | (cr[7] & 0x01) << 8 | (cr[7] & 0x20) << 4 | e.vtotal_hi) + 2u;
    t->vde = (cr[0x12] | (cr[7] & 0x02) << 7 | (cr[7] & 0x40) << 3 | e.vde_hi) + 1u;
    t->vrs = cr[0x10] | (cr[7] & 0x04) << 6 | (cr[7] & 0x80) << 2 | e.vrs_hi;
    unsigned len = (cr[0x11] - t->vrs) & 0x0F;
    t->vre = t->vrs + (len ? len : 16);
    uint64_t dotclk = e.dotclk ? e.dotclk
                               : ((v->misc & MISC_CS) >> 2) == 1 ? 28322000 : 25175000;
    uint64_t dots = (v->sr[1] & SR01_98DM) ? 8 : 9;
    if (v->sr[1] & SR01_DCR)
        dots *= 2;
    t->line_ns = t->htotal * dots * TESS_NS_PER_SEC / dotclk / MAX(e.hmul, 1u);
    t->frame_ns = t->line_ns * t->vtotal;
    /* Timings no monitor would sync to still give a frame rate between
     * 10 and 200 Hz, so retrace polling and the frame timer make
     * progress. */
    if (t->frame_ns < TESS_NS_PER_SEC / 200 || t->frame_ns > TESS_NS_PER_SEC / 10) {
        t->frame_ns = NOMINAL_FRAME_NS;
        t->line_ns = MAX(t->frame_ns / t->vtotal, (uint64_t)1);
        t->frame_ns = t->line_ns * t->vtotal;
    }
}

/* ---- geometry ------------------------------------------------------------- */

static uint32_t font_base(unsigned sel)
{
    return (sel & 3) * 0x4000u + (sel >> 2) * 0x2000u;
}

static void vga_geometry(const Vga *v, VgaGeom *g)
{
    memset(g, 0, sizeof(*g));
    if (v->dispi_on) {
        const uint16_t *r = v->dispi;
        g->kind = VK_VBE;
        g->bpp = r[DISPI_INDEX_BPP];
        g->bytespp = vga_dispi_bytespp(g->bpp);
        g->width = MIN((unsigned)r[DISPI_INDEX_XRES], (unsigned)TESS_DISPLAY_MAX_WIDTH);
        g->height = MIN((unsigned)r[DISPI_INDEX_YRES], (unsigned)TESS_DISPLAY_MAX_HEIGHT);
        g->depth = g->bpp;
        g->vbe_line = vga_dispi_line_bytes(v);
        if (g->bpp == 4) {
            g->vbe_start = (uint64_t)r[DISPI_INDEX_Y_OFFSET] * g->vbe_line +
                           r[DISPI_INDEX_X_OFFSET] / 8;
            g->chars = (g->width + 7) / 8;
            g->cw = 8;
            g->ar10 = v->ar[0x10];
        } else {
            g->vbe_start = (uint64_t)r[DISPI_INDEX_Y_OFFSET] * g->vbe_line +
                           (uint64_t)r[DISPI_INDEX_X_OFFSET] * g->bytespp;
        }
        return;
    }
    const uint8_t *cr = v->cr, *sr = v->sr, *gr = v->gr, *ar = v->ar;
    if ((sr[0] & 3) != 3 || (sr[1] & SR01_SO) || !(v->ar_index & AR_PAS)) {
        g->kind = VK_BLANK;
        return;
    }
    VgaPacked pk;
    if (v->model && v->model->packed && v->model->packed(v, &pk)) {
        /* A model's packed-pixel mode: drawn as a linear VBE picture. */
        g->kind = VK_VBE;
        g->bpp = pk.bpp;
        g->bytespp = vga_dispi_bytespp(pk.bpp);
        g->width = MIN(pk.width, (unsigned)TESS_DISPLAY_MAX_WIDTH);
        g->height = MIN(pk.height, (unsigned)TESS_DISPLAY_MAX_HEIGHT);
        g->depth = pk.bpp;
        g->vbe_start = pk.start;
        g->vbe_line = pk.pitch;
        if (!g->bytespp || !g->width || !g->height)
            g->kind = VK_BLANK;
        return;
    }
    bool graphics = (gr[6] & GR06_GM) != 0;
    g->kind = graphics ? VK_GFX : VK_TEXT;
    g->chars = cr[1] + 1u;
    g->ar10 = ar[0x10];
    if (graphics) {
        g->shift = (gr[5] & GR05_C256) ? SH_256 : (gr[5] & GR05_SRI) ? SH_CGA : SH_PLANAR;
        g->cw = g->shift == SH_256 ? 4 : 8;
    } else {
        g->cw = (sr[1] & SR01_98DM) ? 8 : 9;
    }
    g->width = g->chars * g->cw;
    g->amode = (cr[0x14] & CR14_DW) ? AM_DWORD : (cr[0x17] & CR17_WB) ? AM_BYTE : AM_WORD;
    g->aw_bit = (cr[0x17] & CR17_AW) ? 15 : 13;
    g->cr17 = cr[0x17];
    g->cshift = (cr[0x14] & CR14_CB4) ? 2 : (cr[0x17] & CR17_CBT) ? 1 : 0;
    g->vlines = (cr[0x12] | (cr[7] & 0x02) << 7 | (cr[7] & 0x40) << 3) + 1u;
    g->msl = cr[9] & 0x1F;
    g->dscan = (cr[9] & 0x80) ? 1 : 0;
    g->step = 1u << g->dscan;
    /* Graphics rows whose scanlines all fetch the same bytes are one line
     * of the addressable picture (mode 13h: 400 scanlines, 200 lines). */
    if (graphics && (cr[0x17] & (CR17_CMS0 | CR17_SRSC)) == (CR17_CMS0 | CR17_SRSC))
        g->step *= g->msl + 1;
    g->height = MIN((g->vlines + g->step - 1) / g->step, (unsigned)TESS_DISPLAY_MAX_HEIGHT);
    g->start = ((cr[0x0C] << 8 | cr[0x0D]) + ((cr[8] >> 5) & 3)) & 0xFFFF;
    g->offset2 = cr[0x13] * 2u;
    g->lc = cr[0x18] | (cr[7] & 0x10) << 4 | (cr[9] & 0x40) << 3;
    g->prs = cr[8] & 0x1F;
    unsigned p = ar[0x13] & 0x0F;
    if (g->shift == SH_256 && graphics)
        g->pan = (p & 7) >> 1;
    else if (g->cw == 9)
        g->pan = p < 8 ? p + 1 : 0;
    else
        g->pan = p & 7;
    g->pan_reset = (ar[0x10] & AR10_PP) != 0;
    if (graphics) {
        if (g->shift == SH_256)
            g->depth = 8;
        else if (g->shift == SH_CGA)
            g->depth = 2;
        else
            g->depth = (ar[0x12] & 0xF) == 1 ? 1 : 4;
    } else {
        g->depth = 4;
        g->ul = cr[0x14] & 0x1F;
        g->cur_loc = cr[0x0E] << 8 | cr[0x0F];
        g->cur_start = cr[0x0A] & 0x1F;
        g->cur_end = cr[0x0B] & 0x1F;
        g->cur_skew = (cr[0x0B] >> 5) & 3;
        g->cur_off = (cr[0x0A] & 0x20) != 0;
        unsigned s3 = sr[3];
        g->font_a = font_base(((s3 >> 5) & 1) << 2 | ((s3 >> 2) & 3));
        g->font_b = font_base(((s3 >> 4) & 1) << 2 | (s3 & 3));
    }
    if (!g->width || !g->height)
        g->kind = VK_BLANK;
}

/* CRTC counter -> plane offset. */
static inline uint32_t vga_xlate(const VgaGeom *g, uint32_t a, unsigned rs)
{
    uint32_t addr;
    a &= 0xFFFF;
    if (g->amode == AM_WORD)
        addr = ((a << 1) | ((a >> g->aw_bit) & 1)) & 0xFFFF;
    else
        addr = a;
    if (!(g->cr17 & CR17_CMS0))
        addr = (addr & ~0x2000u) | ((rs & 1u) << 13);
    if (!(g->cr17 & CR17_SRSC))
        addr = (addr & ~0x4000u) | ((rs & 2u) << 13);
    return addr;
}

static uint64_t frame_number(const Vga *v)
{
    VgaTiming t;
    vga_timing(v, &t);
    return tess_clock_ns(v->dev.machine) / t.frame_ns;
}

/* ---- colour ---------------------------------------------------------------- */

static void build_luts(const Vga *v, VgaKey *k)
{
    bool dac8 = (v->dispi[DISPI_INDEX_ENABLE] & DISPI_8BIT_DAC) || v->dac8;
    uint32_t full[256];
    for (unsigned i = 0; i < 256; i++) {
        const uint8_t *c = &v->dac[i * 3];
        uint32_t r = c[0], gg = c[1], b = c[2];
        if (!dac8) {
            r = ((r & 0x3F) << 2) | ((r & 0x3F) >> 4);
            gg = ((gg & 0x3F) << 2) | ((gg & 0x3F) >> 4);
            b = ((b & 0x3F) << 2) | ((b & 0x3F) >> 4);
        }
        full[i] = r << 16 | gg << 8 | b;
    }
    for (unsigned i = 0; i < 256; i++)
        k->dac[i] = full[i & v->pel_mask];
    const uint8_t *ar = v->ar;
    for (unsigned i = 0; i < 16; i++) {
        uint8_t pal = ar[i & ar[0x12] & 0xF];
        unsigned idx = (ar[0x10] & AR10_PS) ? (pal & 0x0F) | (ar[0x14] & 3) << 4 : pal & 0x3F;
        idx |= (ar[0x14] & 0x0C) << 4;
        k->attr[i] = k->dac[idx];
    }
}

/* ---- line sources ------------------------------------------------------------ */

typedef struct LineCtx {
    uint32_t ma;
    unsigned rs;
    unsigned pan;
} LineCtx;

/* Walk the displayed scanlines as the CRTC does and call `fn` for each
 * output line. */
typedef void (*LineFn)(void *opaque, unsigned y, const LineCtx *lc);

static void walk_lines(const VgaGeom *g, LineFn fn, void *opaque)
{
    uint32_t ma = g->start;
    unsigned rs = g->prs;
    unsigned pan = g->pan;
    for (unsigned vc = 0; vc < g->vlines; vc++) {
        if (vc == g->lc) {
            ma = 0;
            rs = 0;
            if (g->pan_reset)
                pan = 0;
        }
        if (vc % g->step == 0) {
            unsigned y = vc / g->step;
            if (y >= g->height)
                break;
            LineCtx c = { ma, rs, pan };
            fn(opaque, y, &c);
        }
        if (!g->dscan || (vc & 1)) {
            if (rs == g->msl) {
                rs = 0;
                ma = (ma + g->offset2) & 0xFFFF;
            } else {
                rs = (rs + 1) & 0x1F;
            }
        }
    }
}

/* Gather the bytes of one VGA text or graphics line into `out` (header
 * first); returns the length. */
static size_t gather_vga(const Vga *v, const VgaGeom *g, const LineCtx *lc, uint64_t frame,
                         uint8_t *out)
{
    /* One character more when panning brings part of it into view. */
    unsigned n = g->chars + (lc->pan ? 1 : 0);
    const uint8_t *vram = v->vram;
    memset(out, 0, LINE_HDR);
    out[0] = (uint8_t)lc->rs;
    out[1] = (uint8_t)lc->pan;
    uint8_t *p = out + LINE_HDR;
    if (g->kind == VK_TEXT) {
        bool any_blink = false;
        for (unsigned c = 0; c < n; c++) {
            uint32_t po = vga_xlate(g, lc->ma + (c >> g->cshift), lc->rs);
            uint8_t ch = vram[po * 4], at = vram[po * 4 + 1];
            uint32_t fb = (at & 0x08) ? g->font_a : g->font_b;
            p[0] = ch;
            p[1] = at;
            p[2] = vram[(fb + ch * 32u + lc->rs) * 4 + 2];
            any_blink |= (at & 0x80) != 0;
            p += 3;
        }
        /* Cursor: the character clock whose counter matches, delayed by
         * the skew; blinking every 8 frames. Header bytes 2-3. */
        unsigned cur = 0xFFFF;
        if (!g->cur_off && g->cur_start <= g->cur_end && lc->rs >= g->cur_start &&
            lc->rs <= g->cur_end && !((frame >> 3) & 1)) {
            uint32_t d = (g->cur_loc - lc->ma) & 0xFFFF;
            if ((d >> g->cshift) + g->cur_skew < n)
                cur = (d >> g->cshift) + g->cur_skew;
        }
        out[2] = (uint8_t)cur;
        out[3] = (uint8_t)(cur >> 8);
        if ((g->ar10 & AR10_EB) && any_blink)
            out[4] = 1 + ((frame >> 4) & 1);
        return LINE_HDR + 3 * n;
    }
    for (unsigned c = 0; c < n; c++) {
        uint32_t po = vga_xlate(g, lc->ma + (c >> g->cshift), lc->rs);
        memcpy(p, &vram[po * 4], 4);
        p += 4;
    }
    return LINE_HDR + 4 * n;
}

/* A VBE 4-bit line: plane bytes from the framebuffer's plane space. */
static size_t gather_vbe4(const Vga *v, const VgaGeom *g, unsigned y, uint8_t *out)
{
    unsigned n = g->chars;
    uint64_t space = v->vram_size / 4;
    memset(out, 0, LINE_HDR);
    uint8_t *p = out + LINE_HDR;
    uint64_t po = g->vbe_start + (uint64_t)y * g->vbe_line;
    for (unsigned c = 0; c < n; c++, po++, p += 4) {
        if (po < space)
            memcpy(p, &v->vram[po * 4], 4);
        else
            memset(p, 0, 4);
    }
    return LINE_HDR + 4 * n;
}

/* ---- pixels -------------------------------------------------------------- */

/* Byte i of spread[b] is bit (7 - i) of b: eight pixels of one plane. */
static uint64_t spread[256];

/* 15 and 16 bpp pixels to XRGB a byte at a time: each colour bit lands in
 * bits of the result that no bit of the other byte reaches (the green
 * field that straddles the bytes expands, with its replicated top bits,
 * into disjoint bits), so a pixel is hc_lo[low byte] | hc_hi[high byte],
 * two loads where the arithmetic takes a dozen operations. [0] 5:5:5,
 * [1] 5:6:5. */
static uint32_t hc_lo[2][256], hc_hi[2][256];

static void hicolour_init(void)
{
    for (unsigned v = 0; v < 256; v++) {
        unsigned b = v & 31, b8 = b << 3 | b >> 2;
        /* 5:5:5: x rrrrr gg | ggg bbbbb */
        unsigned r5 = (v >> 2) & 31, g2 = v & 3;
        hc_lo[0][v] = ((v >> 5) << 3 | v >> 7) << 8 | b8;
        hc_hi[0][v] = (r5 << 3 | r5 >> 2) << 16 | (g2 << 6 | g2 << 1) << 8;
        /* 5:6:5: rrrrr ggg | ggg bbbbb */
        unsigned r = v >> 3, g3 = v & 7;
        hc_lo[1][v] = ((v >> 5) << 2) << 8 | b8;
        hc_hi[1][v] = (r << 3 | r >> 2) << 16 | (g3 << 5 | g3 >> 1) << 8;
    }
}

static void spread_init(void)
{
    if (spread[255])
        return;
    hicolour_init();
    for (unsigned b = 0; b < 256; b++) {
        uint64_t s = 0;
        for (unsigned i = 0; i < 8; i++)
            if (b & (0x80u >> i))
                s |= (uint64_t)1 << (8 * i);
        spread[b] = s;
    }
}

static void draw_text(const VgaGeom *g, const VgaKey *k, const uint8_t *src, uint32_t *px)
{
    unsigned n = g->chars + (src[1] ? 1 : 0);
    unsigned rs = src[0];
    unsigned cursor = src[2] | src[3] << 8;
    bool blink_off = src[4] == 2;
    const uint8_t *p = src + LINE_HDR;
    unsigned cw = g->cw;
    bool elg = g->ar10 & AR10_ELG;
    bool eb = g->ar10 & AR10_EB;
    for (unsigned c = 0; c < n; c++, p += 3, px += cw) {
        uint8_t ch = p[0], at = p[1], glyph = p[2];
        unsigned fgi = at & 0x0F, bgi = at >> 4;
        bool full = false;
        if (eb) {
            bgi &= 7;
            if ((at & 0x80) && blink_off)
                fgi = bgi;
        }
        if (rs == g->ul && (at & 0x77) == 0x01) {
            glyph = 0xFF;
            full = true;
        }
        if (c == cursor) {
            glyph = 0xFF;
            full = true;
            fgi = at & 0x0F;
        }
        uint32_t fg = k->attr[fgi], bg = k->attr[bgi];
        for (unsigned i = 0; i < 8; i++)
            px[i] = (glyph & (0x80u >> i)) ? fg : bg;
        if (cw == 9)
            px[8] = (full || (elg && ch >= 0xC0 && ch <= 0xDF && (glyph & 1))) ? fg : bg;
    }
}

static void draw_planar(const VgaGeom *g, const VgaKey *k, const uint8_t *src, unsigned n,
                        uint32_t *px)
{
    const uint8_t *p = src + LINE_HDR;
    for (unsigned c = 0; c < n; c++, p += 4) {
        if (g->shift == SH_256 && g->kind != VK_VBE) {
            px[0] = k->dac[p[0]];
            px[1] = k->dac[p[1]];
            px[2] = k->dac[p[2]];
            px[3] = k->dac[p[3]];
            px += 4;
        } else if (g->shift == SH_CGA) {
            for (unsigned i = 0; i < 8; i++) {
                unsigned lo_b = i < 4 ? p[0] : p[1], hi_b = i < 4 ? p[2] : p[3];
                unsigned sh = 6 - 2 * (i & 3);
                unsigned idx = ((lo_b >> sh) & 3) | ((hi_b >> sh) & 3) << 2;
                px[i] = k->attr[idx];
            }
            px += 8;
        } else {
            uint64_t s = spread[p[0]] | spread[p[1]] << 1 | spread[p[2]] << 2 | spread[p[3]] << 3;
            for (unsigned i = 0; i < 8; i++)
                px[i] = k->attr[(s >> (8 * i)) & 0xF];
            px += 8;
        }
    }
}

static void draw_vbe(const Vga *v, const VgaGeom *g, const VgaKey *k, const uint8_t *s,
                     unsigned w, uint32_t *px)
{
    switch (g->bpp) {
    case 8:
        for (unsigned x = 0; x < w; x++)
            px[x] = k->dac[s[x]];
        break;
    case 15:
    case 16: {
        const uint32_t *lo = hc_lo[g->bpp == 16], *hi = hc_hi[g->bpp == 16];
        for (unsigned x = 0; x < w; x++)
            px[x] = lo[s[2 * x]] | hi[s[2 * x + 1]];
        break;
    }
    case 24:
        for (unsigned x = 0; x < w; x++)
            px[x] = (uint32_t)s[3 * x + 2] << 16 | s[3 * x + 1] << 8 | s[3 * x];
        break;
    default:
        for (unsigned x = 0; x < w; x++) {
            uint32_t p;
            memcpy(&p, s + 4 * x, 4);
            px[x] = GUINT32_FROM_LE(p) & 0xFFFFFF;
        }
        break;
    }
}

/* ---- rendering ---------------------------------------------------------- */

static VgaRender *render_scratch(Vga *v)
{
    if (!v->render) {
        v->render = g_new0(VgaRender, 1);
        spread_init();
    }
    return v->render;
}

void vga_render_free(Vga *v)
{
    if (v->render) {
        g_free(v->render->dirty);
        g_free(v->render->page_epoch);
        g_free(v->render->logbits);
        if (v->render->logging)
            tess_mem_log_stop(v->vram_region);
        g_free(v->render);
        v->render = NULL;
    }
}

static size_t line_cap(const VgaGeom *g)
{
    switch (g->kind) {
    case VK_TEXT: return LINE_HDR + 3 * (g->chars + 1);
    case VK_GFX: return LINE_HDR + 4 * (g->chars + 1);
    case VK_VBE: return g->bpp == 4 ? LINE_HDR + 4 * g->chars : (size_t)g->width * g->bytespp;
    default: return 0;
    }
}

typedef struct RenderJob {
    Vga *v;
    VgaRender *r;
    const VgaGeom *g;
    TessDisplayView *view;
    const TessDisplaySurface *surf;
    bool full;
    uint64_t frame;
    unsigned w;               /* pixels written per line (clipped) */
} RenderJob;

static void put_line(RenderJob *j, unsigned y, const uint32_t *px)
{
    memcpy((uint8_t *)j->surf->pixels + (size_t)y * j->surf->stride, px, (size_t)j->w * 4);
    j->r->dirty[y] = 1;
}

/* Fetch the dirty log: pages written since the last fetch get this
 * render's epoch. */
static void log_update(Vga *v, VgaRender *r)
{
    uint64_t pages = v->vram_size >> TESS_PAGE_SHIFT;
    if (!r->logging) {
        if (!v->vram_region || !tess_mem_log_start(v->vram_region, NULL))
            return;
        r->logging = true;
        r->page_epoch = g_new0(uint64_t, pages);
        r->logbits = g_new(uint64_t, (pages + 63) / 64);
    }
    r->epoch++;
    if (!tess_mem_log_fetch(v->vram_region, 0, v->vram_size, r->logbits))
        return;
    for (uint64_t w = 0; w < (pages + 63) / 64; w++)
        for (uint64_t bits = r->logbits[w]; bits; bits &= bits - 1)
            r->page_epoch[w * 64 + (uint64_t)__builtin_ctzll(bits)] = r->epoch;
}

/* Video memory [off, off+len) unwritten since the view last showed it. */
static bool vram_clean(const RenderJob *j, uint64_t off, size_t len)
{
    if (j->full || !j->view || !j->r->logging || len == 0)
        return false;
    for (uint64_t p = off >> TESS_PAGE_SHIFT; p <= (off + len - 1) >> TESS_PAGE_SHIFT; p++)
        if (j->r->page_epoch[p] > j->view->seen)
            return false;
    return true;
}

/* Compare a line's source with the view's shadow; true when it must be
 * drawn (and the shadow now holds it). */
static bool line_changed(RenderJob *j, unsigned y, const uint8_t *src, size_t len)
{
    TessDisplayView *vw = j->view;
    if (!vw)
        return true;
    uint8_t *sh = vw->shadow + (size_t)y * vw->line_cap;
    if (!j->full && !memcmp(sh, src, len))
        return false;
    memcpy(sh, src, len);
    return true;
}

static void render_vga_line(void *opaque, unsigned y, const LineCtx *lc)
{
    RenderJob *j = opaque;
    if (y >= j->surf->height)
        return;
    const VgaGeom *g = j->g;
    size_t len = gather_vga(j->v, g, lc, j->frame, j->r->src);
    if (!line_changed(j, y, j->r->src, len))
        return;
    uint32_t *px = j->r->px;
    if (g->kind == VK_TEXT)
        draw_text(g, &j->r->key, j->r->src, px);
    else
        draw_planar(g, &j->r->key, j->r->src, g->chars + (j->r->src[1] ? 1 : 0), px);
    put_line(j, y, px + MIN(j->r->src[1], 8u));
}

static void render_vbe(RenderJob *j)
{
    const Vga *v = j->v;
    const VgaGeom *g = j->g;
    unsigned h = MIN(g->height, j->surf->height);
    uint32_t *px = j->r->px;
    for (unsigned y = 0; y < h; y++) {
        if (g->bpp == 4) {
            size_t len = gather_vbe4(v, g, y, j->r->src);
            if (!line_changed(j, y, j->r->src, len))
                continue;
            draw_planar(g, &j->r->key, j->r->src, g->chars, px);
            put_line(j, y, px);
            continue;
        }
        uint64_t off = g->vbe_start + (uint64_t)y * g->vbe_line;
        size_t len = (size_t)g->width * g->bytespp;
        if (off >= v->vram_size) {
            static const uint8_t zero[4] = { 0 };
            /* Past the end of video memory: black. Track it as one byte. */
            if (!line_changed(j, y, zero, 1))
                continue;
            memset(px, 0, (size_t)g->width * 4);
            put_line(j, y, px);
            continue;
        }
        size_t avail = (size_t)MIN((uint64_t)len, v->vram_size - off);
        const uint8_t *s = v->vram + off;
        if (vram_clean(j, off, avail) || !line_changed(j, y, s, avail))
            continue;
        unsigned wv = (unsigned)(avail / g->bytespp);
        /* Straight into the surface when the whole line fits. */
        uint32_t *out = j->w == g->width
            ? (uint32_t *)((uint8_t *)j->surf->pixels + (size_t)y * j->surf->stride) : px;
        draw_vbe(v, g, &j->r->key, s, wv, out);
        if (wv < g->width)
            memset(out + wv, 0, (size_t)(g->width - wv) * 4);
        if (out == px)
            put_line(j, y, px);
        else
            j->r->dirty[y] = 1;
    }
}

static void fill_black(const TessDisplaySurface *s)
{
    for (unsigned y = 0; y < s->height; y++)
        memset((uint8_t *)s->pixels + (size_t)y * s->stride, 0, (size_t)s->width * 4);
}

static void add_rects(const VgaRender *r, unsigned h, unsigned w, TessDisplayUpdate *upd)
{
    upd->nrects = 0;
    if (!w)
        return;
    /* Runs of dirty lines, merged across gaps of growing size until
     * they fit. */
    for (unsigned gap = 0;; gap = gap ? gap * 2 : 1) {
        unsigned n = 0;
        bool overflow = false;
        for (unsigned y = 0; y < h;) {
            if (!r->dirty[y]) {
                y++;
                continue;
            }
            unsigned y0 = y, last = y;
            for (unsigned k = y + 1; k < h && k <= last + gap + 1; k++)
                if (r->dirty[k])
                    last = k;
            y = last + 1;
            if (n == TESS_DISPLAY_MAX_RECTS) {
                overflow = true;
                break;
            }
            upd->rects[n++] = (TessDisplayRect){ 0, y0, w, last + 1 - y0 };
        }
        if (!overflow) {
            upd->nrects = n;
            return;
        }
    }
}

/* What a listener's render in a frame callback found (the still-frame
 * rule above vga_frame_timer_cb). */
static void vga_note_render(Vga *v, const TessDisplayUpdate *upd, bool blink_only)
{
    if (!v->in_frame)
        return;
    v->frame_rendered = true;
    /* The blink phases change on their own: still, for this rule. */
    if (upd->nrects && !blink_only)
        v->frame_changed = true;
}

bool vga_render(TessDevice *dev, TessDisplayView *view, const TessDisplaySurface *surf,
                       TessDisplayUpdate *upd)
{
    Vga *v = (Vga *)dev;
    VgaRender *r = render_scratch(v);
    TessDisplayUpdate dummy;
    if (!upd)
        upd = &dummy;
    upd->nrects = 0;
    VgaGeom g;
    vga_geometry(v, &g);
    memset(&r->key, 0, sizeof(r->key));
    memcpy(&r->key.g, &g, sizeof(g));
    if (!surf || !surf->pixels || !surf->width || !surf->height)
        return g.kind != VK_BLANK;

    bool same_surface = view && view->valid && view->pixels == surf->pixels &&
                        view->sw == surf->width && view->sh == surf->height &&
                        view->stride == surf->stride;
    if (g.kind == VK_BLANK) {
        if (!(same_surface && view->blank)) {
            fill_black(surf);
            upd->nrects = 1;
            upd->rects[0] = (TessDisplayRect){ 0, 0, surf->width, surf->height };
        }
        vga_note_render(v, upd, false);
        if (view) {
            view->valid = true;
            view->blank = true;
            view->pixels = surf->pixels;
            view->sw = surf->width;
            view->sh = surf->height;
            view->stride = surf->stride;
        }
        return false;
    }
    build_luts(v, &r->key);
    log_update(v, r);

    RenderJob j = { .v = v, .r = r, .g = &g, .view = view, .surf = surf,
                    .frame = frame_number(v), .w = MIN(g.width, surf->width) };
    j.full = !same_surface || view->blank || memcmp(&view->key, &r->key, sizeof(r->key));
    unsigned h = MIN(g.height, surf->height);
    if (view && j.full) {
        size_t cap = line_cap(&g);
        if (view->line_cap != cap || view->lines != g.height) {
            g_free(view->shadow);
            view->shadow = g_malloc0(cap * g.height);
            view->line_cap = cap;
            view->lines = g.height;
        }
        view->key = r->key;
        view->valid = true;
        view->blank = false;
        view->pixels = surf->pixels;
        view->sw = surf->width;
        view->sh = surf->height;
        view->stride = surf->stride;
    }
    if (r->dirty_cap < g.height) {
        g_free(r->dirty);
        r->dirty = g_malloc(g.height);
        r->dirty_cap = g.height;
    }
    memset(r->dirty, 0, g.height);
    if (j.full && (surf->width > g.width || surf->height > g.height))
        fill_black(surf);       /* the margin outside the picture */

    /* A planar picture depends on nothing but the planes and the key;
     * text also on the cursor and character blink phases, which change
     * every 8 frames: between those, unwritten planes leave nothing to
     * look at (a still text screen must not cost a walk of every line at
     * every frame). */
    bool planes_clean = g.kind != VK_VBE &&
                        vram_clean(&j, 0, MIN(v->vram_size, 4 * (uint64_t)VGA_PLANE_SIZE));
    if (g.kind == VK_VBE)
        render_vbe(&j);
    else if (!planes_clean || (g.kind == VK_TEXT && view->text_tick != j.frame >> 3))
        walk_lines(&g, render_vga_line, &j);
    if (view && g.kind == VK_TEXT)
        view->text_tick = j.frame >> 3;

    if (j.full) {
        upd->nrects = 1;
        upd->rects[0] = (TessDisplayRect){ 0, 0, surf->width, surf->height };
    } else {
        add_rects(r, h, j.w, upd);
    }
    if (view)
        view->seen = r->epoch;
    vga_note_render(v, upd, planes_clean && !j.full);
    return true;
}

/* ---- text ------------------------------------------------------------------ */

void vga_get_mode(TessDevice *dev, TessDisplayMode *m)
{
    Vga *v = (Vga *)dev;
    VgaGeom g;
    vga_geometry(v, &g);
    memset(m, 0, sizeof(*m));
    m->cursor_col = m->cursor_row = -1;
    if (g.kind != VK_BLANK) {
        VgaTiming t;
        vga_timing(v, &t);
        m->kind = g.kind == VK_TEXT ? TESS_DISPLAY_TEXT : TESS_DISPLAY_GRAPHICS;
        m->width = g.width;
        m->height = g.height;
        m->depth = g.depth;
        m->refresh_mhz = (unsigned)(TESS_NS_PER_SEC * 1000 / t.frame_ns);
        if (g.kind == VK_VBE) {
            unsigned a = g.width, b = g.height;
            while (b) {
                unsigned t2 = a % b;
                a = b;
                b = t2;
            }
            m->aspect_w = g.width / a;
            m->aspect_h = g.height / a;
        } else {
            m->aspect_w = 4;
            m->aspect_h = 3;
        }
        if (g.kind == VK_TEXT) {
            unsigned rowlines = (g.msl + 1) << g.dscan;
            m->cols = g.chars;
            m->rows = (g.vlines + rowlines - 1) / rowlines;
            m->cell_w = g.cw;
            m->cell_h = g.msl + 1;
            if (!g.cur_off && g.cur_start <= g.cur_end && g.offset2) {
                uint32_t d = (g.cur_loc - g.start) & 0xFFFF;
                unsigned row = d / g.offset2, col = d % g.offset2;
                if (row < m->rows && col < m->cols) {
                    m->cursor_row = (int)row;
                    m->cursor_col = (int)col;
                }
            }
        }
    }
    TessDisplayMode cmp = *m;
    cmp.cursor_col = cmp.cursor_row = 0;
    cmp.generation = 0;
    if (memcmp(&cmp, &v->last_mode, sizeof(cmp))) {
        v->last_mode = cmp;
        v->mode_gen++;
    }
    m->generation = v->mode_gen;
}

unsigned vga_get_text(TessDevice *dev, TessDisplayCell *cells, unsigned max)
{
    Vga *v = (Vga *)dev;
    TessDisplayMode m;
    vga_get_mode(dev, &m);
    if (m.kind != TESS_DISPLAY_TEXT)
        return 0;
    VgaGeom g;
    vga_geometry(v, &g);
    unsigned n = 0;
    for (unsigned row = 0; row < m.rows; row++) {
        uint32_t ma = g.start + row * g.offset2;
        for (unsigned col = 0; col < m.cols; col++) {
            if (n >= max)
                return n;
            uint32_t po = vga_xlate(&g, ma + (col >> g.cshift), 0);
            cells[n].ch = v->vram[po * 4];
            cells[n].attr = v->vram[po * 4 + 1];
            n++;
        }
    }
    return n;
}

/* ---- views and listeners --------------------------------------------------- */

TessDisplayView *vga_view_new(TessDevice *dev)
{
    return g_new0(TessDisplayView, 1);
}

void vga_view_free(TessDevice *dev, TessDisplayView *view)
{
    if (!view)
        return;
    g_free(view->shadow);
    g_free(view);
}

/* A still picture: listeners hear every 4th frame once 16 frames in a
 * row changed nothing but the text blink phases. That frame's number is a multiple of 4, so the
 * text blink phases (every 8 frames) are still shown on their frame; the
 * first change after a still spell shows at most 3 frames late, and from
 * then on every frame is heard again. A machine thread with a window
 * open on a still screen wakes 18 times a second, not 70. */
#define VGA_IDLE_AFTER 16
#define VGA_IDLE_STRIDE 4

static void arm_frame(Vga *v, unsigned stride)
{
    VgaTiming t;
    vga_timing(v, &t);
    uint64_t now = tess_clock_ns(v->dev.machine);
    uint64_t phase = (uint64_t)MIN(t.vrs, t.vtotal) * t.line_ns % t.frame_ns;
    uint64_t k = now >= phase ? (now - phase) / t.frame_ns + 1 : 0;
    k = (k + stride - 1) / stride * stride;
    tess_timer_arm(v->frame_timer, k * t.frame_ns + phase);
}

void vga_frame_timer_cb(void *opaque)
{
    Vga *v = opaque;
    if (!v->listeners || !v->listeners->len)
        return;
    v->in_frame = true;
    v->frame_rendered = v->frame_changed = false;
    /* A callback may remove listeners: call from a copy. */
    g_autoptr(GArray) copy = g_array_copy(v->listeners);
    for (guint i = 0; i < copy->len; i++) {
        VgaListener *l = &g_array_index(copy, VgaListener, i);
        l->l->frame(l->opaque, &v->dev);
    }
    v->in_frame = false;
    /* Still only when a listener looked (rendered) and saw nothing new:
     * a listener that does not render hears every frame. */
    bool still = v->frame_rendered && !v->frame_changed && !v->io_seen;
    v->io_seen = false;
    v->idle_frames = still ? v->idle_frames + 1 : 0;
    if (v->listeners->len)
        arm_frame(v, v->idle_frames >= VGA_IDLE_AFTER ? VGA_IDLE_STRIDE : 1);
}

void vga_listeners_changed(Vga *v)
{
    v->idle_frames = 0;
    if (v->listeners->len) {
        if (!tess_timer_pending(v->frame_timer))
            arm_frame(v, 1);
    } else {
        tess_timer_cancel(v->frame_timer);
    }
}

void vga_add_listener(TessDevice *dev, const TessDisplayListener *l, void *opaque)
{
    Vga *v = (Vga *)dev;
    for (guint i = 0; i < v->listeners->len; i++) {
        VgaListener *e = &g_array_index(v->listeners, VgaListener, i);
        if (e->l == l && e->opaque == opaque)
            return;
    }
    VgaListener e = { l, opaque };
    g_array_append_val(v->listeners, e);
    vga_listeners_changed(v);
}

void vga_remove_listener(TessDevice *dev, const TessDisplayListener *l, void *opaque)
{
    Vga *v = (Vga *)dev;
    if (!v->listeners)
        return;
    for (guint i = 0; i < v->listeners->len; i++) {
        VgaListener *e = &g_array_index(v->listeners, VgaListener, i);
        if (e->l == l && e->opaque == opaque) {
            g_array_remove_index(v->listeners, i);
            break;
        }
    }
    vga_listeners_changed(v);
}

const TessDisplaySourceOps vga_display_ops = {
    .get_mode = vga_get_mode,
    .get_text = vga_get_text,
    .view_new = vga_view_new,
    .view_free = vga_view_free,
    .render = vga_render,
    .add_listener = vga_add_listener,
    .remove_listener = vga_remove_listener,
};
