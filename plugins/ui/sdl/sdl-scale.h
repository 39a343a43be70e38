/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The window's picture without an SDL renderer: where the machine's
 * picture lands in the window (its aspect kept, centred, black around it)
 * and a nearest-pixel scale of only the part that changed, so a text
 * cursor's blink costs the few window pixels of its cell, not a redraw
 * and upload of the whole window. Plain C on 32-bit pixels, no SDL: the
 * unit test (test-sdl-scale.c) runs without a display.
 */
#ifndef TESS_SDL_SCALE_H
#define TESS_SDL_SCALE_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>

typedef struct SdlBox {
    int x, y, w, h;
} SdlBox;

/* The picture's place in a win_w x win_h window: the logical size lw x lh
 * (the picture at its aspect) scaled to fit, centred. */
static inline SdlBox sdl_fit(unsigned lw, unsigned lh, int win_w, int win_h)
{
    SdlBox b = { 0, 0, win_w, win_h };
    if (!lw || !lh || win_w <= 0 || win_h <= 0)
        return b;
    /* the width that fits at full height, else the height at full width */
    int64_t w = (int64_t)win_h * lw / lh;
    if (w <= win_w) {
        b.w = (int)w;
    } else {
        b.h = (int)((int64_t)win_w * lh / lw);
    }
    if (b.w < 1)
        b.w = 1;
    if (b.h < 1)
        b.h = 1;
    b.x = (win_w - b.w) / 2;
    b.y = (win_h - b.h) / 2;
    return b;
}

/* Destination pixel d (0 <= d < dn) samples source pixel (2d + 1) sn / 2dn:
 * the source pixel under its centre. */
static inline unsigned sdl_src_of(unsigned d, unsigned sn, unsigned dn)
{
    return (unsigned)(((uint64_t)(2 * d + 1) * sn) / (2 * (uint64_t)dn));
}

/* The destination span [*d0, *d1) whose samples fall in source [s0, s1). */
static inline void sdl_span(unsigned s0, unsigned s1, unsigned sn, unsigned dn, unsigned *d0,
                            unsigned *d1)
{
    /* first d with src_of(d) >= s0: (2d + 1) sn >= 2 s0 dn */
    uint64_t a = 2 * (uint64_t)s0 * dn;
    uint64_t lo = a <= sn ? 0 : (a - sn + 2 * (uint64_t)sn - 1) / (2 * (uint64_t)sn);
    uint64_t b = 2 * (uint64_t)s1 * dn;
    uint64_t hi = b <= sn ? 0 : (b - sn + 2 * (uint64_t)sn - 1) / (2 * (uint64_t)sn);
    *d0 = (unsigned)(lo < dn ? lo : dn);
    *d1 = (unsigned)(hi < dn ? hi : dn);
}

/* The window rectangle (in window coordinates) that shows the source
 * rectangle sx,sy,sw,sh of a pic_w x pic_h picture placed at `box`;
 * w or h 0 when it shows nowhere. */
static inline SdlBox sdl_map_rect(SdlBox box, unsigned pic_w, unsigned pic_h, unsigned sx,
                                  unsigned sy, unsigned sw, unsigned sh)
{
    SdlBox r = { 0, 0, 0, 0 };
    if (!pic_w || !pic_h || box.w <= 0 || box.h <= 0 || sx >= pic_w || sy >= pic_h)
        return r;
    unsigned ex = sx + sw > pic_w ? pic_w : sx + sw, ey = sy + sh > pic_h ? pic_h : sy + sh;
    unsigned x0, x1, y0, y1;
    sdl_span(sx, ex, pic_w, (unsigned)box.w, &x0, &x1);
    sdl_span(sy, ey, pic_h, (unsigned)box.h, &y0, &y1);
    if (x1 <= x0 || y1 <= y0)
        return r;
    r.x = box.x + (int)x0;
    r.y = box.y + (int)y0;
    r.w = (int)(x1 - x0);
    r.h = (int)(y1 - y0);
    return r;
}

/* Draw the window rectangle `r` (inside `box`) from the picture: `dst`
 * is the window's pixels (dst_pitch bytes a row), `src` the picture's
 * (pic_w a row). */
static inline void sdl_scale_rect(uint32_t *dst, size_t dst_pitch, SdlBox box, SdlBox r,
                                  const uint32_t *src, unsigned pic_w, unsigned pic_h,
                                  unsigned *xmap)
{
    if ((unsigned)box.w == pic_w && (unsigned)box.h == pic_h) {
        /* 1:1 (a 1024x768 mode in a window of its size): rows as they are */
        for (int j = 0; j < r.h; j++)
            memcpy((uint8_t *)dst + (size_t)(r.y + j) * dst_pitch + (size_t)r.x * 4,
                   src + (size_t)(r.y - box.y + j) * pic_w + (r.x - box.x), (size_t)r.w * 4);
        return;
    }
    /* xmap: r.w entries, the source column of each destination column */
    for (int i = 0; i < r.w; i++)
        xmap[i] = sdl_src_of((unsigned)(r.x - box.x + i), pic_w, (unsigned)box.w);
    const uint32_t *last_row = NULL;
    uint32_t *last_out = NULL;
    for (int j = 0; j < r.h; j++) {
        unsigned sy = sdl_src_of((unsigned)(r.y - box.y + j), pic_h, (unsigned)box.h);
        const uint32_t *row = src + (size_t)sy * pic_w;
        uint32_t *out = (uint32_t *)((uint8_t *)dst + (size_t)(r.y + j) * dst_pitch) + r.x;
        if (row == last_row) {
            memcpy(out, last_out, (size_t)r.w * 4);     /* a repeated source row */
        } else {
            for (int i = 0; i < r.w; i++)
                out[i] = row[xmap[i]];
        }
        last_row = row;
        last_out = out;
    }
}

#endif
