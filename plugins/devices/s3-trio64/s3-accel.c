/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Trio's graphics engine: the 8514/A-compatible register set at ports
 * xxE8h (answering while CR40 bit 0 is set), at the same offsets in the
 * 64K MMIO windows (legacy: A0000h with CR53 bit 4; new: BAR0 + 16 MiB
 * with CR53 bit 3), lines (Bresenham and radial), rectangle fill, BitBLT,
 * pattern fill, short-stroke vectors, CPU-to-screen transfers through
 * PIX_TRANS (for fills, BitBLTs, patterns and lines), the sixteen
 * mixes with foreground/background selection (PIX_CNTL), colour compare,
 * read and write masks and the scissors.
 *
 * S3 Trio32/Trio64 data book, "Enhanced Commands Registers"; the 8514/A
 * technical reference for the mix functions and the line registers.
 * The packed MMIO registers at 8100h-814Bh in the layout XFree86's kdrive
 * S3 driver programs them (ALT_CURXY, ALT_STEP, ALT_MIX, ALT_PCNT, ...).
 *
 * The engine runs each command to completion when it is written, or, for
 * commands that wait for CPU data, pixel by pixel as PIX_TRANS writes
 * arrive. Every pixel address is checked against video memory: a guest
 * drawing past its end writes nothing there.
 *
 * Choices where the data book is thin: colour compare tests the source
 * pixel (SRC NE clear: pixels equal to COLOR_CMP are not written, which
 * is how XFree86 uses it for transparent copies); a pattern fill's 8x8
 * pattern is aligned to the destination rectangle's corner; CPU data
 * rules (bus widths, byte order, row padding) are those written above
 * ge_cpu_colour; image reads (screen to CPU through PIX_TRANS) follow the
 * rules written above ge_image_read.
 */
#define G_LOG_DOMAIN "s3-trio64"
#include "s3-trio64.h"

#include <stdlib.h>
#include <string.h>

/* CR50 bits 5:4: engine pixel length (24-bit modes draw in bytes). */
unsigned s3_ge_bytespp(const S3 *s)
{
    static const unsigned len[4] = { 1, 2, 1, 4 };
    return len[(s->vga.cr[0x50] >> 4) & 3];
}

/* CR50 bits 7:6 and 0: the engine's line width in pixels. */
unsigned s3_ge_width(const S3 *s)
{
    switch (s->vga.cr[0x50] & 0xC1) {
    case 0x01: return 1152;
    case 0x40: return 640;
    case 0x80: return 800;
    case 0x81: return 1600;
    case 0xC0: return 1280;
    case 0x41: case 0xC1: return 2048;
    default: return 1024;
    }
}

static inline int sext14(uint16_t v)
{
    return (int)((int32_t)((uint32_t)v << 18) >> 18);
}

static inline uint32_t px_mask(unsigned bpp)
{
    return bpp == 4 ? 0xFFFFFFFFu : (1u << (8 * bpp)) - 1;
}

/* The 8514/A mix functions (S = source, D = destination). */
static inline uint32_t ge_mix(unsigned mix, uint32_t s, uint32_t d)
{
    switch (mix & 0xF) {
    case 0x0: return ~d;
    case 0x1: return 0;
    case 0x2: return ~0u;
    case 0x3: return d;
    case 0x4: return ~s;
    case 0x5: return s ^ d;
    case 0x6: return ~(s ^ d);
    case 0x7: return s;
    case 0x8: return ~s | ~d;
    case 0x9: return ~s | d;
    case 0xA: return s | ~d;
    case 0xB: return s | d;
    case 0xC: return s & d;
    case 0xD: return ~s & d;
    case 0xE: return s & ~d;
    default:  return ~s & ~d;
    }
}

typedef struct Ge {
    S3 *s;
    uint8_t *vram;
    uint64_t vram_size;
    unsigned bpp, width;
    uint32_t mask;
    uint64_t dlo, dhi;           /* bytes written: [dlo, dhi), empty when dlo >= dhi */
} Ge;

static void ge_init(Ge *g, S3 *s)
{
    g->s = s;
    g->vram = s->vga.vram;
    g->vram_size = s->vga.vram_size;
    g->bpp = s3_ge_bytespp(s);
    g->width = s3_ge_width(s);
    g->mask = px_mask(g->bpp);
    g->dlo = UINT64_MAX;
    g->dhi = 0;
}

/* The engine writes video memory behind the CPU's back, and the core's
 * dirty log, which the renderer trusts to skip unwritten lines, must
 * hear of it. A command gathers the span of bytes it wrote and marks it
 * once when it ends (ge_done): its bounding rows, not pixel by pixel. */
static inline void ge_touch(Ge *g, uint64_t addr, uint64_t len)
{
    if (addr < g->dlo)
        g->dlo = addr;
    if (addr + len > g->dhi)
        g->dhi = addr + len;
}

static void ge_done(Ge *g)
{
    if (g->dlo < g->dhi)
        tess_mem_log_mark(g->s->vga.vram_region, g->dlo, g->dhi - g->dlo);
    g->dlo = UINT64_MAX;
    g->dhi = 0;
}

/* Coordinates are 12-bit; the address is linear from them. */
static inline bool ge_addr(const Ge *g, int x, int y, uint64_t *a)
{
    if (x < 0 || y < 0 || x > 0xFFF || y > 0xFFF)
        return false;
    *a = ((uint64_t)y * g->width + (uint64_t)x) * g->bpp;
    return *a + g->bpp <= g->vram_size;
}

static inline uint32_t ge_read(const Ge *g, int x, int y)
{
    uint64_t a;
    if (!ge_addr(g, x, y, &a))
        return 0;
    const uint8_t *p = g->vram + a;
    switch (g->bpp) {
    case 1: return p[0];
    case 2: return (uint32_t)(p[0] | p[1] << 8);
    default: return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    }
}

/* One pixel through the pipeline: source selection by PIX_CNTL, the
 * mix, colour compare, scissors and write mask. `fg`: the foreground mix
 * applies; `cpu`: colour from PIX_TRANS; `mem`: the display-memory
 * source pixel. */
static void ge_pixel(Ge *g, int x, int y, bool fg, uint32_t cpu, uint32_t mem)
{
    const S3Accel *a = &g->s->ge;
    if (x < a->scissors_l || x > a->scissors_r || y < a->scissors_t || y > a->scissors_b)
        return;
    uint64_t addr;
    if (!ge_addr(g, x, y, &addr))
        return;
    uint16_t mixr = fg ? a->frgd_mix : a->bkgd_mix;
    uint32_t src;
    switch ((mixr >> 5) & 3) {
    case SRC_BKGD: src = a->bkgd_color; break;
    case SRC_FRGD: src = a->frgd_color; break;
    case SRC_CPU: src = cpu; break;
    default: src = mem; break;
    }
    src &= g->mask;
    if (a->mult_misc & MULT_MISC_CMP_EN) {
        bool eq = src == (a->color_cmp & g->mask);
        if ((a->mult_misc & MULT_MISC_SRC_NE) ? !eq : eq)
            return;
    }
    uint32_t dst = ge_read(g, x, y);
    uint32_t out = ge_mix(mixr, src, dst);
    uint32_t wm = a->wrt_mask & g->mask;
    out = ((out & wm) | (dst & ~wm)) & g->mask;
    uint8_t *p = g->vram + addr;
    for (unsigned i = 0; i < g->bpp; i++)
        p[i] = (uint8_t)(out >> (8 * i));
    ge_touch(g, addr, g->bpp);
}

/* PIX_CNTL bits 7:6: what picks the foreground mix. 0: always; 2: the
 * CPU data bit; 3: the display-memory pixel under RD_MASK. */
static inline unsigned ge_mix_sel(const S3Accel *a)
{
    return (a->pix_cntl >> 6) & 3;
}

static inline bool ge_mem_bit(const S3Accel *a, uint32_t mem)
{
    return (mem & a->rd_mask) != 0;
}

/* ---- commands without CPU data --------------------------------------------- */

/* The fast paths: what a driver does most (copies and solid fills with
 * the plain source mix, every bit written, no compare) done a row at a
 * time. Only when the result is the same as the pixel pipeline's: the
 * whole operation inside the scissors and video memory. */
static bool ge_plain(const Ge *g, unsigned src)
{
    const S3Accel *a = &g->s->ge;
    return ge_mix_sel(a) == 0 && ((a->frgd_mix >> 5) & 3) == src && (a->frgd_mix & 0xF) == 7 &&
           !(a->mult_misc & MULT_MISC_CMP_EN) && (a->wrt_mask & g->mask) == g->mask;
}

/* Leftmost column, top row, width and height inside scissors and memory. */
static bool ge_rect_inside(const Ge *g, int x, int y, unsigned w, unsigned h)
{
    const S3Accel *a = &g->s->ge;
    if (x < a->scissors_l || y < a->scissors_t || x + (int)w - 1 > a->scissors_r ||
        y + (int)h - 1 > a->scissors_b || x + (int)w - 1 > 0xFFF || y + (int)h - 1 > 0xFFF)
        return false;
    uint64_t a0, a1;
    return ge_addr(g, x, y, &a0) && ge_addr(g, x + (int)w - 1, y + (int)h - 1, &a1);
}

static bool ge_fast_fill(Ge *g, int x0, int y0, unsigned w, unsigned h)
{
    const S3Accel *a = &g->s->ge;
    if (!ge_plain(g, SRC_FRGD) || !ge_rect_inside(g, x0, y0, w, h))
        return false;
    uint32_t c = a->frgd_color & g->mask;
    size_t n = (size_t)w * g->bpp;
    uint64_t first = ((uint64_t)y0 * g->width + (unsigned)x0) * g->bpp;
    uint8_t *p0 = g->vram + first;
    /* The first row pixel by pixel, the others copies of it (the C
     * library's copy beats a fill of small rows; rows wider than the
     * engine's line overlap the next, with the same pixels in phase). */
    if (g->bpp == 1) {
        memset(p0, (int)c, w);
    } else {
        for (unsigned i = 0; i < w; i++)
            for (unsigned k = 0; k < g->bpp; k++)
                p0[i * g->bpp + k] = (uint8_t)(c >> (8 * k));
    }
    ge_touch(g, first, n);
    for (unsigned j = 1; j < h; j++) {
        uint64_t row = ((uint64_t)(y0 + (int)j) * g->width + (unsigned)x0) * g->bpp;
        memmove(g->vram + row, p0, n);
        ge_touch(g, row, n);
    }
    return true;
}

/* sx0/sy0/dx0/dy0: the corner the engine starts from; stx/sty: its
 * directions. */
static bool ge_fast_copy(Ge *g, int sx0, int sy0, int dx0, int dy0, unsigned w, unsigned h,
                         int stx, int sty)
{
    if (!ge_plain(g, SRC_DISPLAY))
        return false;
    int sl = stx > 0 ? sx0 : sx0 - (int)w + 1, dl = stx > 0 ? dx0 : dx0 - (int)w + 1;
    int st = sty > 0 ? sy0 : sy0 - (int)h + 1, dt = sty > 0 ? dy0 : dy0 - (int)h + 1;
    if (sl < 0 || st < 0 || dl < 0 || dt < 0 || !ge_rect_inside(g, dl, dt, w, h) ||
        sl + (int)w - 1 > 0xFFF || st + (int)h - 1 > 0xFFF)
        return false;
    uint64_t a0, a1;
    if (!ge_addr(g, sl, st, &a0) || !ge_addr(g, sl + (int)w - 1, st + (int)h - 1, &a1))
        return false;
    /* In a row that is read and written at once, the engine's direction
     * must be the one that reads before it writes (what memmove does);
     * else the pixel pipeline's smearing is the answer. */
    if (sy0 == dy0 && dl != sl && abs(dl - sl) < (int)w && (dl > sl) != (stx < 0))
        return false;
    size_t n = (size_t)w * g->bpp;
    for (unsigned j = 0; j < h; j++) {
        int sy = sy0 + sty * (int)j, dy = dy0 + sty * (int)j;
        uint64_t drow = ((uint64_t)dy * g->width + (unsigned)dl) * g->bpp;
        memmove(g->vram + drow, g->vram + ((uint64_t)sy * g->width + (unsigned)sl) * g->bpp, n);
        ge_touch(g, drow, n);
    }
    return true;
}

/* Lines: Bresenham (the error term and the axial and diagonal steps
 * the driver computed) or radial (a direction in CMD bits 7:5, in 45
 * degree steps counter-clockwise from +X, screen Y growing downwards).
 * One step from pixel to pixel. */
static const int ge_rad_dx[8] = { 1, 1, 0, -1, -1, -1, 0, 1 };
static const int ge_rad_dy[8] = { 0, -1, -1, -1, 0, 1, 1, 1 };

static void ge_line_step(const S3Accel *a, int *x, int *y, int *err)
{
    if (a->cmd & CMD_LINETYPE) {
        unsigned d = (a->cmd >> 5) & 7;
        *x += ge_rad_dx[d];
        *y += ge_rad_dy[d];
        return;
    }
    int sx = (a->cmd & CMD_INC_X) ? 1 : -1, sy = (a->cmd & CMD_INC_Y) ? 1 : -1;
    bool ymaj = a->cmd & CMD_YMAJ;
    if (ymaj)
        *y += sy;
    else
        *x += sx;
    if (*err >= 0) {
        if (ymaj)
            *x += sx;
        else
            *y += sy;
        *err += sext14(a->destx_diastp);
    } else {
        *err += sext14(a->desty_axstp);
    }
    /* keep the register's 14-bit range */
    *err = sext14((uint16_t)*err);
}

static void ge_line(Ge *g)
{
    S3Accel *a = &g->s->ge;
    int x = a->cur_x & 0xFFF, y = a->cur_y & 0xFFF, err = sext14(a->err_term);
    unsigned n = a->maj_axis_pcnt & 0xFFF;
    bool draw = a->cmd & CMD_DRAW;
    unsigned sel = ge_mix_sel(a);
    for (unsigned i = 0; i <= n; i++) {
        if (draw && !((a->cmd & CMD_LPN) && i == n)) {
            uint32_t mem = ge_read(g, x, y);
            ge_pixel(g, x, y, sel == 3 ? ge_mem_bit(a, mem) : true, 0, mem);
        }
        if (i == n)
            break;
        ge_line_step(a, &x, &y, &err);
    }
    if (!(a->cmd & CMD_LINETYPE))
        a->err_term = (uint16_t)err & 0x3FFF;
    a->cur_x = (uint16_t)(x & 0xFFF);
    a->cur_y = (uint16_t)(y & 0xFFF);
}

/* SHORT_STROKE (9EE8h): each byte a vector of bits 3:0 pixels in the
 * radial direction of bits 7:5, drawn when bit 4 is set (else a move),
 * from CUR_X/CUR_Y, which are left on its last pixel; CMD's mixes, LAST
 * PIXEL OFF and the rest apply. Two a word: the high byte first unless
 * CMD's BYTE SWAP. */
static void ge_short_stroke(Ge *g, uint8_t v)
{
    S3Accel *a = &g->s->ge;
    uint16_t cmd = a->cmd, n = a->maj_axis_pcnt;
    a->cmd = (uint16_t)((cmd & ~(0xE0 | CMD_DRAW)) | CMD_LINETYPE | (v & 0xE0) |
                        ((v & 0x10) ? CMD_DRAW : 0));
    a->maj_axis_pcnt = v & 0x0F;
    ge_line(g);
    a->cmd = cmd;
    a->maj_axis_pcnt = n;
}

static void ge_rect(Ge *g)
{
    S3Accel *a = &g->s->ge;
    int x0 = a->cur_x & 0xFFF, y = a->cur_y & 0xFFF;
    unsigned w = (a->maj_axis_pcnt & 0xFFF) + 1u, h = (a->min_axis_pcnt & 0xFFF) + 1u;
    int sx = (a->cmd & CMD_INC_X) ? 1 : -1, sy = (a->cmd & CMD_INC_Y) ? 1 : -1;
    unsigned sel = ge_mix_sel(a);
    if ((a->cmd & CMD_DRAW) &&
        ge_fast_fill(g, sx > 0 ? x0 : x0 - (int)w + 1, sy > 0 ? y : y - (int)h + 1, w, h)) {
        y += sy * (int)h;
    } else if (a->cmd & CMD_DRAW) {
        for (unsigned j = 0; j < h; j++, y += sy) {
            int x = x0;
            for (unsigned i = 0; i < w; i++, x += sx) {
                uint32_t mem = ge_read(g, x, y);
                ge_pixel(g, x, y, sel == 3 ? ge_mem_bit(a, mem) : true, 0, mem);
            }
        }
    } else {
        y += sy * (int)h;
    }
    a->cur_y = (uint16_t)(y & 0xFFF);
}

/* Where the registers are left after a BitBLT or pattern fill of h rows. */
static void ge_bitblt_end(S3Accel *a, bool pattern)
{
    int sty = (pattern || (a->cmd & CMD_INC_Y)) ? 1 : -1;
    int h = (int)(a->min_axis_pcnt & 0xFFF) + 1;
    if (!pattern)
        a->cur_y = (uint16_t)(((a->cur_y & 0xFFF) + sty * h) & 0xFFF);
    a->desty_axstp = (uint16_t)(((a->desty_axstp & 0xFFF) + sty * h) & 0xFFF);
}

static void ge_bitblt(Ge *g, bool pattern)
{
    S3Accel *a = &g->s->ge;
    int sx0 = a->cur_x & 0xFFF, sy = a->cur_y & 0xFFF;
    int dx0 = a->destx_diastp & 0xFFF, dy = a->desty_axstp & 0xFFF;
    unsigned w = (a->maj_axis_pcnt & 0xFFF) + 1u, h = (a->min_axis_pcnt & 0xFFF) + 1u;
    int stx = (a->cmd & CMD_INC_X) ? 1 : -1, sty = (a->cmd & CMD_INC_Y) ? 1 : -1;
    unsigned sel = ge_mix_sel(a);
    if (pattern)
        stx = sty = 1;              /* pattern fills run left to right, top down */
    if ((a->cmd & CMD_DRAW) && !pattern && ge_fast_copy(g, sx0, sy, dx0, dy, w, h, stx, sty)) {
        /* done a row at a time */
    } else if (a->cmd & CMD_DRAW) {
        for (unsigned j = 0; j < h; j++) {
            for (unsigned i = 0; i < w; i++) {
                int px, py;
                if (pattern) {
                    px = sx0 + (int)(i & 7);
                    py = sy + (int)(j & 7);
                } else {
                    px = sx0 + stx * (int)i;
                    py = sy + sty * (int)j;
                }
                uint32_t mem = ge_read(g, px, py);
                ge_pixel(g, dx0 + stx * (int)i, dy + sty * (int)j,
                         sel == 3 ? ge_mem_bit(a, mem) : true, 0, mem);
            }
        }
    }
    ge_bitblt_end(a, pattern);
}

/* ---- CPU data (PIX_TRANS) ---------------------------------------------------- */

/* Rectangle fills, BitBLTs, pattern fills and lines with CMD bit 8 wait
 * for their pixels through PIX_TRANS (E2E8h, or anywhere in the MMIO
 * window's first 32K). CMD bits 10:9 give the transfer's width: 8, 16 or
 * 32 bits (3 counts as 32). A write carries as many of its low bytes as
 * the transfer takes; narrower writes fill one transfer in the order
 * they come. The data is either
 *  - colour (the foreground mix takes its source from the CPU and the
 *    CPU does not pick the mix): whole pixels, low byte first, a pixel
 *    free to straddle two transfers (32 bpp through 16-bit transfers);
 *  - or monochrome: one bit a pixel, most significant first in each byte,
 *    the transfer's high byte first, or its low byte first with CMD's
 *    BYTE SWAP; a set bit picks the foreground mix when PIX_CNTL says the
 *    CPU picks it (else every pixel takes the foreground mix).
 * Each row of a rectangle, BitBLT or pattern starts on a new transfer: the
 * rest of the one that ended a row is dropped. A line is one row of MAJ_
 * AXIS_PCNT + 1 places (the last one not drawn with LAST PIXEL OFF). */

static bool ge_cpu_colour(const S3Accel *a)
{
    return ge_mix_sel(a) != 2 && ((a->frgd_mix >> 5) & 3) == SRC_CPU;
}

static unsigned ge_bus_bytes(const S3Accel *a)
{
    static const unsigned bytes[4] = { 1, 2, 4, 4 };
    return bytes[(a->cmd >> CMD_BUS_SHIFT) & 3];
}

static void ge_cpu_start(S3Accel *a)
{
    a->busy = 1;
    a->run_x = a->run_y = 0;
    a->run_bits = 0;
    a->run_data = 0;
    a->xfer_n = 0;
}

static void ge_cpu_finish(S3Accel *a)
{
    switch (a->cmd >> CMD_OP_SHIFT) {
    case GE_RECT: {
        int sy = (a->cmd & CMD_INC_Y) ? 1 : -1;
        a->cur_y = (uint16_t)(((a->cur_y & 0xFFF) + sy * ((a->min_axis_pcnt & 0xFFF) + 1)) & 0xFFF);
        break;
    }
    case GE_BITBLT: ge_bitblt_end(a, false); break;
    case GE_PATTERN: ge_bitblt_end(a, true); break;
    default: break;                 /* lines moved CUR_X/CUR_Y as they went */
    }
    a->busy = 0;
}

/* The next pixel of the waiting command; `bit`: the monochrome bit (true
 * for colour data). False when the row or the command ended. */
static bool ge_cpu_pixel(Ge *g, bool bit, uint32_t colour)
{
    S3Accel *a = &g->s->ge;
    unsigned sel = ge_mix_sel(a);
    bool draw = a->cmd & CMD_DRAW;
    unsigned op = a->cmd >> CMD_OP_SHIFT;
    if (op == GE_LINE) {
        unsigned n = a->maj_axis_pcnt & 0xFFF;
        int x = a->cur_x & 0xFFF, y = a->cur_y & 0xFFF, err = sext14(a->err_term);
        if (draw && !((a->cmd & CMD_LPN) && a->run_x == n)) {
            uint32_t mem = ge_read(g, x, y);
            ge_pixel(g, x, y, sel == 2 ? bit : sel == 3 ? ge_mem_bit(a, mem) : true, colour, mem);
        }
        if (a->run_x++ >= n) {
            ge_cpu_finish(a);
            return false;
        }
        ge_line_step(a, &x, &y, &err);
        a->cur_x = (uint16_t)(x & 0xFFF);
        a->cur_y = (uint16_t)(y & 0xFFF);
        if (!(a->cmd & CMD_LINETYPE))
            a->err_term = (uint16_t)err & 0x3FFF;
        return true;
    }
    unsigned w = (a->maj_axis_pcnt & 0xFFF) + 1u, h = (a->min_axis_pcnt & 0xFFF) + 1u;
    int sx = (a->cmd & CMD_INC_X) ? 1 : -1, sy = (a->cmd & CMD_INC_Y) ? 1 : -1;
    int i = a->run_x, j = a->run_y;
    if (draw) {
        int x, y, srcx, srcy;
        if (op == GE_RECT) {
            x = srcx = (a->cur_x & 0xFFF) + sx * i;
            y = srcy = (a->cur_y & 0xFFF) + sy * j;
        } else if (op == GE_PATTERN) {
            x = (a->destx_diastp & 0xFFF) + i;
            y = (a->desty_axstp & 0xFFF) + j;
            srcx = (a->cur_x & 0xFFF) + (i & 7);
            srcy = (a->cur_y & 0xFFF) + (j & 7);
        } else {
            x = (a->destx_diastp & 0xFFF) + sx * i;
            y = (a->desty_axstp & 0xFFF) + sy * j;
            srcx = (a->cur_x & 0xFFF) + sx * i;
            srcy = (a->cur_y & 0xFFF) + sy * j;
        }
        uint32_t mem = ge_read(g, srcx, srcy);
        ge_pixel(g, x, y, sel == 2 ? bit : sel == 3 ? ge_mem_bit(a, mem) : true, colour, mem);
    }
    if (++a->run_x >= w) {
        a->run_x = 0;
        if (++a->run_y >= h)
            ge_cpu_finish(a);
        return false;               /* the next row starts on a new transfer */
    }
    return true;
}

/* One whole transfer, its bytes in the order they came. */
static void ge_transfer(Ge *g, const uint8_t *t, unsigned n)
{
    S3Accel *a = &g->s->ge;
    if (ge_cpu_colour(a)) {
        if (a->run_bits >= g->bpp) {
            a->run_bits = 0;        /* CR50 changed under it, or a snapshot's word */
            a->run_data = 0;
        }
        for (unsigned i = 0; i < n && a->busy; i++) {
            a->run_data |= (uint32_t)t[i] << (8 * a->run_bits);
            if (++a->run_bits < g->bpp)
                continue;
            uint32_t c = a->run_data & g->mask;
            a->run_data = 0;
            a->run_bits = 0;
            if (!ge_cpu_pixel(g, true, c))
                return;             /* the row (or all) is done: drop the rest */
        }
        return;
    }
    for (unsigned i = 0; i < n && a->busy; i++) {
        uint8_t byte = t[(a->cmd & CMD_BYTE_SWAP) ? i : n - 1 - i];
        for (int b = 7; b >= 0; b--)
            if (!ge_cpu_pixel(g, (byte >> b) & 1, 0))
                return;
    }
}

/* ---- image reads (screen to CPU) ---------------------------------------------- */

/* A rectangle command with CMD bit 8 set and bit 0 (WRITE) clear reads
 * the rectangle at CUR_X/CUR_Y, MAJ_AXIS_PCNT + 1 by MIN_AXIS_PCNT + 1
 * pixels in the directions CMD's +X/+Y bits give, back through PIX_TRANS
 * with the same framing as CPU colour data: CMD bits 10:9 the transfer's
 * width, pixels low byte first and free to straddle transfers, each row
 * starting on a new transfer (the rest of the one that ended a row reads
 * as zeros). A read takes as many of the transfer's bytes as it is wide
 * (its bytes beyond the transfer read as zeros); narrower reads take the
 * transfer in order. GP_STAT's DATA READY is set while pixels remain.
 * Display memory is read as it is: masks, mixes and scissors are for
 * writes. When the last row has been read CUR_Y has moved as a fill
 * leaves it. Reading when nothing is waiting gives all ones, as an idle
 * bus would. The progress is kept in the registers the writes use (no
 * state of its own), so a snapshot taken mid-read resumes it. */

static bool ge_reading(const S3Accel *a)
{
    return a->busy && !(a->cmd & CMD_RD) && (a->cmd >> CMD_OP_SHIFT) == GE_RECT;
}

/* The next transfer of the image into a->xfer. */
static void ge_read_transfer(Ge *g)
{
    S3Accel *a = &g->s->ge;
    unsigned bus = ge_bus_bytes(a);
    unsigned w = (a->maj_axis_pcnt & 0xFFF) + 1u, h = (a->min_axis_pcnt & 0xFFF) + 1u;
    int sx = (a->cmd & CMD_INC_X) ? 1 : -1, sy = (a->cmd & CMD_INC_Y) ? 1 : -1;
    bool row_done = false;
    memset(a->xfer, 0, sizeof(a->xfer));
    if (a->run_bits >= g->bpp)
        a->run_bits = 0;            /* CR50 changed under it, or a snapshot's byte */
    for (unsigned i = 0; i < bus && a->busy && !row_done; i++) {
        uint32_t px = ge_read(g, (a->cur_x & 0xFFF) + sx * a->run_x,
                              (a->cur_y & 0xFFF) + sy * a->run_y);
        a->xfer[i] = (uint8_t)(px >> (8 * a->run_bits));
        if (++a->run_bits < g->bpp)
            continue;
        a->run_bits = 0;
        if (++a->run_x >= w) {
            a->run_x = 0;
            row_done = true;
            if (++a->run_y >= h)
                ge_cpu_finish(a);
        }
    }
}

/* Image data left to read: pixels, or the rest of a fetched transfer. */
static bool ge_image_pending(const S3Accel *a)
{
    return ge_reading(a) || (a->xfer_n && !(a->cmd & CMD_RD) &&
                             (a->cmd >> CMD_OP_SHIFT) == GE_RECT);
}

/* A PIX_TRANS read of `size` bytes. */
static uint32_t ge_image_read(S3 *s, unsigned size)
{
    S3Accel *a = &s->ge;
    if (!ge_image_pending(a))
        return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
    Ge g;
    ge_init(&g, s);
    unsigned bus = ge_bus_bytes(a), n = MIN(size, bus);
    if (a->xfer_n >= bus)
        a->xfer_n = 0;              /* CMD rewritten, or a snapshot's byte */
    uint32_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        if (!a->xfer_n) {
            if (!ge_reading(a))
                break;              /* the image ended inside this read */
            ge_read_transfer(&g);
        }
        v |= (uint32_t)a->xfer[a->xfer_n] << (8 * i);
        if (++a->xfer_n == bus)
            a->xfer_n = 0;
    }
    return v;
}

/* A PIX_TRANS write of `size` bytes. */
static void ge_pix_trans(S3 *s, uint32_t val, unsigned size)
{
    S3Accel *a = &s->ge;
    if (!a->busy || ge_reading(a))
        return;                     /* nothing waits for data, or an image is being read */
    Ge g;
    ge_init(&g, s);
    unsigned bus = ge_bus_bytes(a), n = MIN(size, bus);
    if (a->xfer_n >= bus)
        a->xfer_n = 0;              /* CMD rewritten, or a snapshot's word */
    for (unsigned i = 0; i < n && a->busy; i++) {
        a->xfer[a->xfer_n++] = (uint8_t)(val >> (8 * i));
        if (a->xfer_n == bus) {
            a->xfer_n = 0;
            ge_transfer(&g, a->xfer, bus);
        }
    }
    ge_done(&g);
}

/* ---- command dispatch --------------------------------------------------------- */

static void ge_command(S3 *s, uint16_t cmd)
{
    S3Accel *a = &s->ge;
    a->cmd = cmd;
    a->hi_word = 0;
    a->busy = 0;
    a->xfer_n = 0;                  /* what a former read or write left is dropped */
    Ge g;
    ge_init(&g, s);
    unsigned op = cmd >> CMD_OP_SHIFT;
    if ((cmd & CMD_WAIT_CPU) &&
        (op == GE_RECT || op == GE_LINE || op == GE_BITBLT || op == GE_PATTERN)) {
        ge_cpu_start(a);
        return;
    }
    switch (op) {
    case GE_NOP: break;
    case GE_LINE: ge_line(&g); break;
    case GE_RECT: ge_rect(&g); break;
    case GE_BITBLT: ge_bitblt(&g, false); break;
    case GE_PATTERN: ge_bitblt(&g, true); break;
    default:
        s3_err(s, "graphics engine command %u not on the Trio", op);
        break;
    }
    ge_done(&g);
}

static void ge_short_strokes(S3 *s, uint16_t w)
{
    S3Accel *a = &s->ge;
    a->short_stroke = w;
    Ge g;
    ge_init(&g, s);
    if (a->cmd & CMD_BYTE_SWAP) {
        ge_short_stroke(&g, (uint8_t)w);
        ge_short_stroke(&g, (uint8_t)(w >> 8));
    } else {
        ge_short_stroke(&g, (uint8_t)(w >> 8));
        ge_short_stroke(&g, (uint8_t)w);
    }
    ge_done(&g);
}

static void ge_multifunc(S3 *s, uint16_t val)
{
    S3Accel *a = &s->ge;
    uint16_t v = val & 0x0FFF;
    switch (val >> 12) {
    case MF_MIN_AXIS_PCNT: a->min_axis_pcnt = v; break;
    case MF_SCISSORS_T: a->scissors_t = v; break;
    case MF_SCISSORS_L: a->scissors_l = v; break;
    case MF_SCISSORS_B: a->scissors_b = v; break;
    case MF_SCISSORS_R: a->scissors_r = v; break;
    case MF_PIX_CNTL: a->pix_cntl = v; break;
    case MF_MULT_MISC2: a->mult_misc2 = v; break;
    case MF_MULT_MISC: a->mult_misc = v; break;
    case MF_READ_SEL: a->read_sel = v; break;
    default: break;
    }
}

static uint16_t ge_multifunc_read(const S3Accel *a)
{
    /* READ_SEL picks which index reads back. */
    switch (a->read_sel & 0xF) {
    case 0: return a->min_axis_pcnt;
    case 1: return 0x1000 | a->scissors_t;
    case 2: return 0x2000 | a->scissors_l;
    case 3: return 0x3000 | a->scissors_b;
    case 4: return 0x4000 | a->scissors_r;
    case 5: return 0xA000 | a->pix_cntl;
    case 6: return 0xE000 | a->mult_misc;
    default: return 0xFFFF;
    }
}

/* Colour-sized registers: 32-bit writes set them whole; 16-bit writes
 * set the low word, or alternate low/high with MULT_MISC bit 9 (32-bit
 * registers). */
static void ge_set32(S3Accel *a, uint32_t *reg, uint32_t val, unsigned size)
{
    if (size == 4) {
        *reg = val;
    } else if (a->mult_misc & 0x0200) {
        if (a->hi_word)
            *reg = (*reg & 0xFFFF) | (val & 0xFFFF) << 16;
        else
            *reg = (*reg & 0xFFFF0000u) | (val & 0xFFFF);
        a->hi_word ^= 1;
    } else {
        *reg = val & 0xFFFF;
    }
}

static void ge_reg_write(S3 *s, uint32_t port, uint32_t val, unsigned size)
{
    S3Accel *a = &s->ge;
    uint16_t w = (uint16_t)val;
    switch (port) {
    case 0x42E8:
        /* SUBSYS_CNTL: bits 15:14 = 10 resets the engine; bits 3:0
         * clear interrupt status, bits 11:8 enable. */
        if ((w >> 14) == 2)
            s3_accel_reset(s);
        a->subsys_stat &= (uint16_t)~(w & 0x0F);
        a->subsys_cntl = w & 0x0F00;
        break;
    case 0x4AE8: a->advfunc_cntl = w & 0x3F; break;
    case 0x82E8: a->cur_y = w & 0xFFF; break;
    case 0x86E8: a->cur_x = w & 0xFFF; break;
    case 0x8AE8: a->desty_axstp = w & 0x3FFF; break;
    case 0x8EE8: a->destx_diastp = w & 0x3FFF; break;
    case 0x92E8: a->err_term = w & 0x3FFF; break;
    case 0x96E8: a->maj_axis_pcnt = w & 0xFFF; break;
    case 0x9AE8: ge_command(s, w); break;
    case 0x9EE8: ge_short_strokes(s, w); break;
    case 0xA2E8: ge_set32(a, &a->bkgd_color, val, size); break;
    case 0xA6E8: ge_set32(a, &a->frgd_color, val, size); break;
    case 0xAAE8: ge_set32(a, &a->wrt_mask, val, size); break;
    case 0xAEE8: ge_set32(a, &a->rd_mask, val, size); break;
    case 0xB2E8: ge_set32(a, &a->color_cmp, val, size); break;
    case 0xB6E8: a->bkgd_mix = w & 0x6F; break;
    case 0xBAE8: a->frgd_mix = w & 0x6F; break;
    case 0xBEE8: ge_multifunc(s, w); break;
    case 0xE2E8: case 0xE2EA: ge_pix_trans(s, val, size); break;
    default: break;
    }
}

static uint32_t ge_reg_read(S3 *s, uint32_t port)
{
    S3Accel *a = &s->ge;
    switch (port) {
    case 0x42E8: return a->subsys_stat;
    case 0x4AE8: return a->advfunc_cntl;
    case 0x82E8: return a->cur_y;
    case 0x86E8: return a->cur_x;
    case 0x8AE8: return a->desty_axstp;
    case 0x8EE8: return a->destx_diastp;
    case 0x92E8: return a->err_term;
    case 0x96E8: return a->maj_axis_pcnt;
    /* GP_STAT: busy while a command waits for CPU data; the FIFO is
     * always empty (commands complete at once), which drivers that wait
     * for room (bits 7:0, 15:11 clear) or for GP_STAT_EMPTY both see. */
    case 0x9AE8: return GP_STAT_EMPTY | (a->busy ? GP_STAT_BUSY : 0) |
                        (ge_image_pending(a) ? GP_STAT_DATRDY : 0);
    case 0x9EE8: return a->short_stroke;
    case 0xA2E8: return a->bkgd_color & 0xFFFF;
    case 0xA6E8: return a->frgd_color & 0xFFFF;
    case 0xAAE8: return a->wrt_mask & 0xFFFF;
    case 0xAEE8: return a->rd_mask & 0xFFFF;
    case 0xB2E8: return a->color_cmp & 0xFFFF;
    case 0xB6E8: return a->bkgd_mix;
    case 0xBAE8: return a->frgd_mix;
    case 0xBEE8: return ge_multifunc_read(a);
    default: return 0xFFFF;
    }
}

void s3_accel_reset(S3 *s)
{
    S3Accel *a = &s->ge;
    memset(a, 0, sizeof(*a));
    a->scissors_b = a->scissors_r = 0xFFF;
    a->wrt_mask = a->rd_mask = 0xFFFFFFFFu;
    a->frgd_mix = a->bkgd_mix = 0x07;
}

/* ---- ports ------------------------------------------------------------------- */

static uint64_t ge_access_read(S3 *s, uint32_t port, unsigned size)
{
    if ((port & ~3u) == 0xE2E8)
        return ge_image_read(s, size);
    uint32_t v = ge_reg_read(s, port & ~1u);
    if (size == 1)
        return (port & 1) ? v >> 8 & 0xFF : v & 0xFF;
    return size == 2 ? (v & 0xFFFF) : v;
}

static void ge_access_write(S3 *s, uint32_t port, uint64_t val, unsigned size)
{
    uint32_t base = port & ~1u;
    if (size == 1 && base != 0xE2E8 && base != 0xE2EA) {
        /* A byte of a 16-bit register: merge (the command fires on the
         * high byte, as a 16-bit write would). */
        uint32_t cur = ge_reg_read(s, base);
        if (base == 0x9AE8)
            cur = s->ge.cmd;
        if (base == 0xBEE8 || base == 0x42E8)
            cur = 0;
        uint32_t v = (port & 1) ? (cur & 0xFF) | (uint32_t)(val & 0xFF) << 8
                                : (cur & 0xFF00) | (uint32_t)(val & 0xFF);
        if (base == 0x9AE8 && !(port & 1)) {
            s->ge.cmd = (uint16_t)v;
            return;
        }
        if (base == 0x9EE8 && !(port & 1)) {
            s->ge.short_stroke = (uint16_t)v;   /* the strokes go with the high byte */
            return;
        }
        ge_reg_write(s, base, v, 2);
        return;
    }
    ge_reg_write(s, base, (uint32_t)val, size);
}

/* The ports answer only while CR40 bit 0 (enhanced register access). */
static uint64_t s3_accel_port_read(S3 *s, uint32_t port, unsigned size)
{
    if (!s3_enh_regs(s))
        return size == 4 ? 0xFFFFFFFFu : size == 2 ? 0xFFFF : 0xFF;
    return ge_access_read(s, port, size);
}

static void s3_accel_port_write(S3 *s, uint32_t port, uint64_t val, unsigned size)
{
    if (s3_enh_regs(s))
        ge_access_write(s, port, val, size);
}

#define GE_PORT(p)                                                                 \
    static uint64_t ge_##p##_read(void *o, uint64_t off, unsigned size)           \
    { return s3_accel_port_read(o, 0x##p + (uint32_t)off, size); }                \
    static void ge_##p##_write(void *o, uint64_t off, uint64_t val, unsigned size) \
    { s3_accel_port_write(o, 0x##p + (uint32_t)off, val, size); }                 \
    static const TessIoOps ge_##p##_ops = { .read = ge_##p##_read, .write = ge_##p##_write, \
                                            .widths = TESS_W8 | TESS_W16 | TESS_W32 }
GE_PORT(42E8); GE_PORT(4AE8); GE_PORT(82E8); GE_PORT(86E8); GE_PORT(8AE8); GE_PORT(8EE8);
GE_PORT(92E8); GE_PORT(96E8); GE_PORT(9AE8); GE_PORT(9EE8); GE_PORT(A2E8); GE_PORT(A6E8);
GE_PORT(AAE8); GE_PORT(AEE8); GE_PORT(B2E8); GE_PORT(B6E8); GE_PORT(BAE8); GE_PORT(BEE8);
GE_PORT(E2E8);

bool s3_accel_map_ports(S3 *s, GError **err)
{
    static const struct { uint32_t port; const TessIoOps *ops; } map[] = {
        { 0x42E8, &ge_42E8_ops }, { 0x4AE8, &ge_4AE8_ops }, { 0x82E8, &ge_82E8_ops },
        { 0x86E8, &ge_86E8_ops }, { 0x8AE8, &ge_8AE8_ops }, { 0x8EE8, &ge_8EE8_ops },
        { 0x92E8, &ge_92E8_ops }, { 0x96E8, &ge_96E8_ops }, { 0x9AE8, &ge_9AE8_ops },
        { 0x9EE8, &ge_9EE8_ops }, { 0xA2E8, &ge_A2E8_ops }, { 0xA6E8, &ge_A6E8_ops },
        { 0xAAE8, &ge_AAE8_ops }, { 0xAEE8, &ge_AEE8_ops }, { 0xB2E8, &ge_B2E8_ops },
        { 0xB6E8, &ge_B6E8_ops }, { 0xBAE8, &ge_BAE8_ops }, { 0xBEE8, &ge_BEE8_ops },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(map); i++)
        if (!tess_pio_map(&s->vga.dev, map[i].port, 2, map[i].ops, s, err))
            return false;
    /* PIX_TRANS and PIX_TRANS_EXT: one 32-bit register */
    return tess_pio_map(&s->vga.dev, 0xE2E8, 4, &ge_E2E8_ops, s, err);
}

/* ---- the packed registers (MMIO 8100h-814Bh) ------------------------------------ */

/* Pairs of the 16-bit registers in double words, the first named in the
 * low word: ALT_CURXY (CUR_Y, CUR_X), ALT_STEP (DESTY_AXSTP, DESTX_
 * DIASTP), ERR_TERM, CMD, SHORT_STROKE, the colour registers whole (low
 * word, high word), ALT_MIX (BKGD_MIX, FRGD_MIX), SCISSORS_T/L and B/R,
 * PIX_CNTL and MULT_MISC2, MULT_MISC and READ_SEL, ALT_PCNT (MIN_AXIS_
 * PCNT, MAJ_AXIS_PCNT). The second-point registers of later chips
 * (8104h, 810Ch, 8114h) are not on the Trio64: ignored, read as 0. */
enum { PK_NONE, PK_PORT, PK_LO, PK_HI, PK_MF };
typedef struct GePacked { uint8_t kind; uint8_t mf; uint16_t port; } GePacked;

static GePacked ge_packed(uint32_t off)
{
    static const GePacked map[38] = {
        [0x00] = { PK_PORT, 0, 0x82E8 }, [0x01] = { PK_PORT, 0, 0x86E8 },
        [0x04] = { PK_PORT, 0, 0x8AE8 }, [0x05] = { PK_PORT, 0, 0x8EE8 },
        [0x08] = { PK_PORT, 0, 0x92E8 }, [0x0C] = { PK_PORT, 0, 0x9AE8 },
        [0x0E] = { PK_PORT, 0, 0x9EE8 },
        [0x10] = { PK_LO, 0, 0xA2E8 }, [0x11] = { PK_HI, 0, 0xA2E8 },
        [0x12] = { PK_LO, 0, 0xA6E8 }, [0x13] = { PK_HI, 0, 0xA6E8 },
        [0x14] = { PK_LO, 0, 0xAAE8 }, [0x15] = { PK_HI, 0, 0xAAE8 },
        [0x16] = { PK_LO, 0, 0xAEE8 }, [0x17] = { PK_HI, 0, 0xAEE8 },
        [0x18] = { PK_LO, 0, 0xB2E8 }, [0x19] = { PK_HI, 0, 0xB2E8 },
        [0x1A] = { PK_PORT, 0, 0xB6E8 }, [0x1B] = { PK_PORT, 0, 0xBAE8 },
        [0x1C] = { PK_MF, MF_SCISSORS_T, 0 }, [0x1D] = { PK_MF, MF_SCISSORS_L, 0 },
        [0x1E] = { PK_MF, MF_SCISSORS_B, 0 }, [0x1F] = { PK_MF, MF_SCISSORS_R, 0 },
        [0x20] = { PK_MF, MF_PIX_CNTL, 0 }, [0x21] = { PK_MF, MF_MULT_MISC2, 0 },
        [0x22] = { PK_MF, MF_MULT_MISC, 0 }, [0x23] = { PK_MF, MF_READ_SEL, 0 },
        [0x24] = { PK_MF, MF_MIN_AXIS_PCNT, 0 }, [0x25] = { PK_PORT, 0, 0x96E8 },
    };
    unsigned i = (off - 0x8100) / 2;
    return i < G_N_ELEMENTS(map) ? map[i] : (GePacked){ PK_NONE, 0, 0 };
}

static uint32_t *ge_colour_reg(S3Accel *a, uint16_t port)
{
    switch (port) {
    case 0xA2E8: return &a->bkgd_color;
    case 0xA6E8: return &a->frgd_color;
    case 0xAAE8: return &a->wrt_mask;
    case 0xAEE8: return &a->rd_mask;
    default: return &a->color_cmp;
    }
}

static uint16_t ge_mf_value(const S3Accel *a, unsigned idx)
{
    switch (idx) {
    case MF_MIN_AXIS_PCNT: return a->min_axis_pcnt;
    case MF_SCISSORS_T: return a->scissors_t;
    case MF_SCISSORS_L: return a->scissors_l;
    case MF_SCISSORS_B: return a->scissors_b;
    case MF_SCISSORS_R: return a->scissors_r;
    case MF_PIX_CNTL: return a->pix_cntl;
    case MF_MULT_MISC2: return a->mult_misc2;
    case MF_MULT_MISC: return a->mult_misc;
    default: return a->read_sel;
    }
}

static uint16_t ge_packed_read16(S3 *s, uint32_t off)
{
    GePacked p = ge_packed(off);
    switch (p.kind) {
    case PK_PORT: return (uint16_t)ge_reg_read(s, p.port);
    case PK_LO: return (uint16_t)*ge_colour_reg(&s->ge, p.port);
    case PK_HI: return (uint16_t)(*ge_colour_reg(&s->ge, p.port) >> 16);
    case PK_MF: return ge_mf_value(&s->ge, p.mf);
    default: return 0;
    }
}

static void ge_packed_write16(S3 *s, uint32_t off, uint16_t w)
{
    GePacked p = ge_packed(off);
    switch (p.kind) {
    case PK_PORT: ge_reg_write(s, p.port, w, 2); break;
    case PK_LO: {
        uint32_t *r = ge_colour_reg(&s->ge, p.port);
        *r = (*r & 0xFFFF0000u) | w;
        break;
    }
    case PK_HI: {
        uint32_t *r = ge_colour_reg(&s->ge, p.port);
        *r = (*r & 0xFFFFu) | (uint32_t)w << 16;
        break;
    }
    case PK_MF: ge_multifunc(s, (uint16_t)(p.mf << 12 | (w & 0x0FFF))); break;
    default: break;
    }
}

static uint64_t ge_packed_read(S3 *s, uint32_t off, unsigned size)
{
    if (size == 1)
        return (off & 1) ? ge_packed_read16(s, off & ~1u) >> 8 : ge_packed_read16(s, off) & 0xFF;
    uint64_t v = ge_packed_read16(s, off & ~1u);
    if (size == 4)
        v |= (uint64_t)ge_packed_read16(s, (off & ~1u) + 2) << 16;
    return v;
}

static void ge_packed_write(S3 *s, uint32_t off, uint64_t val, unsigned size)
{
    if (size == 1) {
        GePacked p = ge_packed(off & ~1u);
        if (p.kind == PK_PORT) {
            /* as a byte at the port: CMD and SHORT_STROKE go with the high byte */
            ge_access_write(s, p.port + (off & 1), val, 1);
            return;
        }
        uint16_t cur = ge_packed_read16(s, off & ~1u);
        uint16_t w = (off & 1) ? (uint16_t)((cur & 0xFF) | (val & 0xFF) << 8)
                               : (uint16_t)((cur & 0xFF00) | (val & 0xFF));
        ge_packed_write16(s, off & ~1u, w);
        return;
    }
    /* the low word first: CMD, in the low word of 8118h, fires after
     * everything written before it */
    ge_packed_write16(s, off & ~1u, (uint16_t)val);
    if (size == 4)
        ge_packed_write16(s, (off & ~1u) + 2, (uint16_t)(val >> 16));
}

/* ---- MMIO -------------------------------------------------------------------- */

uint64_t s3_accel_mmio_read(S3 *s, uint32_t off, unsigned size)
{
    off &= 0xFFFF;
    if (off < 0x8000)
        return ge_image_read(s, size);  /* the image transfer area: PIX_TRANS */
    if (off >= 0x83C0 && off < 0x83E0) {
        /* The VGA registers, as ports 3C0-3DF (Trio64V+ new MMIO). */
        uint64_t r = 0;
        for (unsigned i = 0; i < size; i++)
            r |= (uint64_t)tess_pio_read(s->vga.dev.machine, 0x3C0 + (off - 0x83C0) + i, 1) << (8 * i);
        return r;
    }
    if (off >= 0x8100 && off < 0x814C)
        return ge_packed_read(s, off, size);
    switch (off & ~3u) {
    case 0x8504: return s->ge.subsys_stat;
    case 0x850C: return s->ge.advfunc_cntl;
    case 0xFF20: return s3_ddc_read(s);
    default: break;
    }
    if ((off & 0x3FF) == 0x2E8 || (off & 0x3FF) == 0x2EA)
        return ge_access_read(s, off, size);
    return 0xFFFFFFFFu & ((size == 4) ? 0xFFFFFFFFu : (1u << (8 * size)) - 1);
}

void s3_accel_mmio_write(S3 *s, uint32_t off, uint64_t val, unsigned size)
{
    off &= 0xFFFF;
    if (off < 0x8000) {
        ge_pix_trans(s, (uint32_t)val, size);
        return;
    }
    if (off >= 0x83C0 && off < 0x83E0) {
        for (unsigned i = 0; i < size; i++)
            tess_pio_write(s->vga.dev.machine, 0x3C0 + (off - 0x83C0) + i,
                           (uint8_t)(val >> (8 * i)), 1);
        return;
    }
    if (off >= 0x8100 && off < 0x814C) {
        ge_packed_write(s, off, val, size);
        return;
    }
    switch (off & ~3u) {
    case 0x8504: ge_reg_write(s, 0x42E8, (uint32_t)val, 2); return;
    case 0x850C: ge_reg_write(s, 0x4AE8, (uint32_t)val, 2); return;
    case 0xFF20: s3_ddc_write(s, (uint8_t)val); return;
    default: break;
    }
    if ((off & 0x3FF) == 0x2E8 && size == 4 && off != 0xE2E8) {
        /* A 32-bit write at a 16-bit register: colour registers take it
         * whole; others take the low word. */
        ge_reg_write(s, off, (uint32_t)val, 4);
        return;
    }
    if ((off & 0x3FF) == 0x2E8 || (off & 0x3FF) == 0x2EA) {
        ge_access_write(s, off, val, size);
    }
}
