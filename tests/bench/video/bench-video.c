/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Video benchmark (not part of `meson test`; run `meson test --benchmark
 * --suite video` or the binary itself, preferably in a release build):
 * the cost of a full-screen update in mode 13h and in 1024x768x32 through
 * the display-source interface, with dirty tracking (a view) and without
 * (view NULL); the cost of a frame where nothing changed; and how fast the
 * guest writes the legacy window through the RAM fast path and through
 * the planar write logic.
 *
 * `bench-video FRAMES static|change|write` runs one 1024x768x32 case only,
 * FRAMES times with a view (as a front end renders), for instruction
 * counts under callgrind (run-frames.sh): an unchanged screen, a screen
 * the guest rewrote whole (the writes, then the render), or the writes
 * alone (to take off). 0 frames measures the set-up.
 */
#include "video-test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*Change)(TessMachine *m, unsigned frame);

static void change13(TessMachine *m, unsigned frame)
{
    /* Every pixel changes: 64000 bytes through the CPU window. */
    for (unsigned i = 0; i < 64000; i += 4)
        tess_mem_write(m, 0xA0000 + i, (i + frame) * 0x01010101u, 4);
}

static void change32(TessMachine *m, unsigned frame)
{
    static uint32_t row[1024];
    for (unsigned y = 0; y < 768; y++) {
        for (unsigned x = 0; x < 1024; x++)
            row[x] = x * 0x10101u + y + frame;
        tess_dma_write(m, 0xE0000000 + y * 4096, row, sizeof(row), NULL);
    }
}

static double now_us(void)
{
    return (double)g_get_monotonic_time();
}

static void bench_mode(const char *name, TessMachine *m, Change change, unsigned frames)
{
    VtScreen s = vt_screen(m, "vga");
    vt_render(&s);
    TessDisplayView *view = s.ops->view_new(s.src);
    TessDisplayUpdate u;
    double t_change = 0, t_full = 0, t_dirty = 0, t_same_full = 0, t_same_dirty = 0;
    s.ops->render(s.src, view, &s.surf, &u);
    for (unsigned f = 0; f < frames; f++) {
        double t0 = now_us();
        change(m, f);
        double t1 = now_us();
        s.ops->render(s.src, NULL, &s.surf, &u);
        double t2 = now_us();
        s.ops->render(s.src, view, &s.surf, &u);
        double t3 = now_us();
        s.ops->render(s.src, NULL, &s.surf, &u);
        double t4 = now_us();
        s.ops->render(s.src, view, &s.surf, &u);
        double t5 = now_us();
        g_assert_cmpuint(u.nrects, ==, 0);
        t_change += t1 - t0;
        t_full += t2 - t1;
        t_dirty += t3 - t2;
        t_same_full += t4 - t3;
        t_same_dirty += t5 - t4;
    }
    printf("%-16s full-screen update: %8.1f us without dirty tracking, %8.1f us with\n",
           name, t_full / frames, t_dirty / frames);
    printf("%-16s unchanged frame:    %8.1f us without dirty tracking, %8.1f us with"
           " (%.3f%% of a core at 60 Hz)\n", name, t_same_full / frames, t_same_dirty / frames,
           t_same_dirty / frames * 60 / 1e4);
    printf("%-16s (guest writing the frame: %.1f us)\n", name, t_change / frames);
    s.ops->view_free(s.src, view);
    vt_screen_free(&s);
}

static void bench_window(TessMachine *m)
{
    vt_set_mode(m, &vt_mode13);
    double t0 = now_us();
    for (unsigned r = 0; r < 20; r++)
        for (unsigned i = 0; i < 64000; i++)
            tess_mem_write(m, 0xA0000 + i, i + r, 1);
    double t1 = now_us();
    vt_gr(m, 8, 0x7F);                   /* bit mask: the write logic runs */
    for (unsigned r = 0; r < 20; r++)
        for (unsigned i = 0; i < 64000; i++)
            tess_mem_write(m, 0xA0000 + i, i + r, 1);
    double t2 = now_us();
    vt_gr(m, 8, 0xFF);
    printf("window byte writes: %.1f ns each through the RAM alias, %.1f ns through the write logic\n",
           (t1 - t0) * 1000 / (20 * 64000.0), (t2 - t1) * 1000 / (20 * 64000.0));
}

static void set_mode32(TessMachine *m)
{
    vt_dispi(m, 1, 1024);
    vt_dispi(m, 2, 768);
    vt_dispi(m, 3, 32);
    vt_dispi(m, 4, 0x41);
}

/* One case, for callgrind: FRAMES renders with a view. */
static int bench_case(unsigned frames, const char *what)
{
    bool render = strcmp(what, "write") != 0;
    bool change = strcmp(what, "static") != 0;
    if (strcmp(what, "static") && strcmp(what, "change") && strcmp(what, "write")) {
        fprintf(stderr, "bench-video: unknown case '%s' (static, change, write)\n", what);
        return 2;
    }
    TessMachine *m = th_machine("<device type='vga' id='vga'/>");
    set_mode32(m);
    VtScreen s = vt_screen(m, "vga");
    vt_render(&s);
    TessDisplayView *view = s.ops->view_new(s.src);
    TessDisplayUpdate u;
    s.ops->render(s.src, view, &s.surf, &u);
    s.ops->render(s.src, view, &s.surf, &u);
    for (unsigned f = 0; f < frames; f++) {
        if (change)
            change32(m, f + 1);
        if (render) {
            s.ops->render(s.src, view, &s.surf, &u);
            g_assert_cmpuint(u.nrects, ==, change ? 1 : 0);
        }
    }
    s.ops->view_free(s.src, view);
    vt_screen_free(&s);
    th_machine_free(m);
    return 0;
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (argc > 2)
        return bench_case((unsigned)atoi(argv[1]), argv[2]);
    unsigned frames = argc > 1 ? (unsigned)atoi(argv[1]) : 200;
    if (!frames)
        frames = 200;

    TessMachine *m = th_machine("<device type='vga' id='vga'/>");
    vt_set_mode(m, &vt_mode13);
    vt_load_dac(m);
    bench_mode("mode 13h", m, change13, frames);

    set_mode32(m);
    bench_mode("1024x768x32", m, change32, frames / 4 ? frames / 4 : 1);

    vt_dispi(m, 4, 0);
    bench_window(m);
    th_machine_free(m);
    return 0;
}
