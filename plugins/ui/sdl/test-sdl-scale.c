/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The window's scaling without a renderer (sdl-scale.h): the picture's
 * place in the window, and that redrawing only the window rectangle a
 * changed source rectangle maps to gives exactly the window a whole
 * redraw gives, while touching no more than that rectangle (a blinking
 * text cursor costs its cell).
 */
#include <stdbool.h>
#include <glib.h>

#include "sdl-scale.h"

static void test_fit(void)
{
    SdlBox b = sdl_fit(720, 540, 720, 540);
    g_assert_cmpint(b.x, ==, 0);
    g_assert_cmpint(b.y, ==, 0);
    g_assert_cmpint(b.w, ==, 720);
    g_assert_cmpint(b.h, ==, 540);
    b = sdl_fit(640, 480, 1000, 480);           /* wider: bars left and right */
    g_assert_cmpint(b.w, ==, 640);
    g_assert_cmpint(b.h, ==, 480);
    g_assert_cmpint(b.x, ==, 180);
    g_assert_cmpint(b.y, ==, 0);
    b = sdl_fit(640, 480, 640, 1000);           /* taller: bars above and below */
    g_assert_cmpint(b.w, ==, 640);
    g_assert_cmpint(b.h, ==, 480);
    g_assert_cmpint(b.y, ==, 260);
    b = sdl_fit(640, 480, 0, 0);                /* no window yet: nothing drawn */
    g_assert_cmpint(b.w, ==, 0);
}

/* The whole window from the picture. */
static void full_draw(uint32_t *win, int ww, int wh, SdlBox box, const uint32_t *pic,
                      unsigned pw, unsigned ph, unsigned *xmap)
{
    memset(win, 0, (size_t)ww * wh * 4);
    sdl_scale_rect(win, (size_t)ww * 4, box, box, pic, pw, ph, xmap);
}

/* Random pictures, window sizes and changed rectangles: the partial
 * redraw equals the whole one and stays inside its rectangle. */
static void test_partial(void)
{
    static const struct { unsigned pw, ph; int ww, wh; } cases[] = {
        { 720, 400, 720, 540 }, { 640, 480, 640, 480 }, { 640, 400, 1280, 960 },
        { 320, 200, 640, 480 }, { 1024, 768, 800, 600 }, { 720, 400, 1000, 700 },
        { 1280, 1024, 333, 277 },
    };
    for (size_t c = 0; c < G_N_ELEMENTS(cases); c++) {
        unsigned pw = cases[c].pw, ph = cases[c].ph;
        int ww = cases[c].ww, wh = cases[c].wh;
        /* the picture at 4:3, as the window shows it */
        SdlBox box = sdl_fit(4 * 1000, 3 * 1000, ww, wh);
        uint32_t *pic = g_new(uint32_t, (size_t)pw * ph);
        uint32_t *win = g_new(uint32_t, (size_t)ww * wh);
        uint32_t *ref = g_new(uint32_t, (size_t)ww * wh);
        uint32_t *before = g_new(uint32_t, (size_t)ww * wh);
        unsigned *xmap = g_new(unsigned, (size_t)ww);
        for (size_t i = 0; i < (size_t)pw * ph; i++)
            pic[i] = g_test_rand_int() & 0xFFFFFF;
        full_draw(win, ww, wh, box, pic, pw, ph, xmap);
        for (int n = 0; n < 60; n++) {
            unsigned rw = (unsigned)g_test_rand_int_range(1, n % 3 ? 20 : (int)pw + 1);
            unsigned rh = (unsigned)g_test_rand_int_range(1, n % 3 ? 20 : (int)ph + 1);
            unsigned rx = (unsigned)g_test_rand_int_range(0, (int)(pw - MIN(rw, pw)) + 1);
            unsigned ry = (unsigned)g_test_rand_int_range(0, (int)(ph - MIN(rh, ph)) + 1);
            for (unsigned y = ry; y < MIN(ry + rh, ph); y++)
                for (unsigned x = rx; x < MIN(rx + rw, pw); x++)
                    pic[(size_t)y * pw + x] = g_test_rand_int() & 0xFFFFFF;
            memcpy(before, win, (size_t)ww * wh * 4);
            SdlBox r = sdl_map_rect(box, pw, ph, rx, ry, rw, rh);
            /* empty when the window, smaller than the picture, samples
             * none of the changed pixels */
            if (r.w && r.h) {
                g_assert_cmpint(r.x, >=, box.x);
                g_assert_cmpint(r.y, >=, box.y);
                g_assert_cmpint(r.x + r.w, <=, box.x + box.w);
                g_assert_cmpint(r.y + r.h, <=, box.y + box.h);
            }
            sdl_scale_rect(win, (size_t)ww * 4, box, r, pic, pw, ph, xmap);
            full_draw(ref, ww, wh, box, pic, pw, ph, xmap);
            for (int y = 0; y < wh; y++)
                for (int x = 0; x < ww; x++) {
                    size_t i = (size_t)y * ww + x;
                    bool inside = x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h;
                    if (win[i] != ref[i])
                        g_error("case %zu change %d (%u,%u %ux%u -> %d,%d %dx%d): window pixel "
                                "%d,%d is %06x, a whole redraw gives %06x", c, n, rx, ry, rw, rh,
                                r.x, r.y, r.w, r.h, x, y, win[i], ref[i]);
                    if (!inside && win[i] != before[i])
                        g_error("case %zu: pixel %d,%d outside the rectangle changed", c, x, y);
                }
            /* no bigger than the source rectangle scaled, plus a pixel a side */
            double sx = (double)box.w / pw, sy = (double)box.h / ph;
            g_assert_cmpfloat(r.w, <=, MIN(rw, pw) * sx + 2);
            g_assert_cmpfloat(r.h, <=, MIN(rh, ph) * sy + 2);
        }
        g_free(pic);
        g_free(win);
        g_free(ref);
        g_free(before);
        g_free(xmap);
    }
}

/* A 9x16 text cell of a 720x400 screen in a 720x540 window: the window
 * pixels of that cell alone (9 x 21.6). */
static void test_cell(void)
{
    SdlBox box = sdl_fit(720, 540, 720, 540);
    SdlBox r = sdl_map_rect(box, 720, 400, 9 * 40, 16 * 12, 9, 16);
    g_assert_cmpint(r.w, ==, 9);
    g_assert_cmpint(r.h, >=, 21);
    g_assert_cmpint(r.h, <=, 22);
    g_assert_cmpint(r.x, ==, 360);
    g_assert_cmpint(r.y, >=, 259);
    g_assert_cmpint(r.y, <=, 260);
    /* outside the picture: nothing */
    r = sdl_map_rect(box, 720, 400, 720, 0, 9, 16);
    g_assert_cmpint(r.w, ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ui-sdl/scale/fit", test_fit);
    g_test_add_func("/ui-sdl/scale/partial-equals-whole", test_partial);
    g_test_add_func("/ui-sdl/scale/text-cell", test_cell);
    return g_test_run();
}
