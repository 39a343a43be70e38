/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bad input: random values into every VGA and DISPI register, random
 * memory writes, and renders in between (with and without a view, into
 * surfaces of the mode's size and smaller). Meant for ASan/UBSan builds:
 * whatever the registers say, the device must render something bounded
 * and never read outside video memory. Seeded (g_test_rand), so a failure
 * reproduces with --seed. The S3 Trio64 gets the same treatment plus its
 * extended registers, the graphics engine's ports and both MMIO windows.
 */
#include "s3-test.h"

static const uint16_t ports[] = {
    0x3B4, 0x3B5, 0x3BA, 0x3C0, 0x3C1, 0x3C2, 0x3C4, 0x3C5, 0x3C6, 0x3C7, 0x3C8, 0x3C9,
    0x3CA, 0x3CC, 0x3CE, 0x3CF, 0x3D4, 0x3D5, 0x3DA,
};

static unsigned renders[3];       /* by TessDisplayKind */

static void render_all(VtScreen *s, TessDisplayView *view, TessDisplaySurface *small)
{
    TessDisplayMode md;
    s->ops->get_mode(s->src, &md);
    renders[md.kind]++;
    g_assert_cmpuint(md.width, <=, TESS_DISPLAY_MAX_WIDTH);
    g_assert_cmpuint(md.height, <=, TESS_DISPLAY_MAX_HEIGHT);
    if (md.kind == TESS_DISPLAY_BLANK) {
        g_assert_cmpuint(md.width, ==, 0);
    } else {
        g_assert_cmpuint(md.width, >, 0);
        g_assert_cmpuint(md.height, >, 0);
    }
    if (md.width && (md.width != s->surf.width || md.height != s->surf.height))
        vt_screen_alloc(s, md.width, md.height);
    TessDisplayUpdate u;
    if (s->surf.pixels) {
        s->ops->render(s->src, view, &s->surf, &u);
        g_assert_cmpuint(u.nrects, <=, TESS_DISPLAY_MAX_RECTS);
        for (unsigned i = 0; i < u.nrects; i++) {
            g_assert_cmpuint(u.rects[i].x + u.rects[i].w, <=, s->surf.width);
            g_assert_cmpuint(u.rects[i].y + u.rects[i].h, <=, s->surf.height);
        }
    }
    s->ops->render(s->src, NULL, small, &u);
    TessDisplayCell cells[64];
    g_assert_cmpuint(s->ops->get_text(s->src, cells, G_N_ELEMENTS(cells)), <=, 64);
}

static void fuzz_once(const char *frag, unsigned iterations)
{
    TessMachine *m = th_machine(frag);
    VtScreen s = vt_screen(m, "vga");
    TessDisplayView *view = s.ops->view_new(s.src);
    uint32_t small_px[37 * 23];
    TessDisplaySurface small = { small_px, 37, 23, 37 * 4 };
    /* Start from a real mode so that the random walk spends time in
     * displayable states, and switch between a few. */
    const VgaModeRegs *modes[] = { &vt_mode03, &vt_mode12, &vt_mode13, &vt_mode04, &vt_mode06 };
    for (unsigned it = 0; it < iterations; it++) {
        unsigned what = (unsigned)g_test_rand_int_range(0, 100);
        if (what < 2) {
            vt_set_mode(m, modes[g_test_rand_int_range(0, G_N_ELEMENTS(modes))]);
        } else if (what < 40) {
            uint16_t p = ports[g_test_rand_int_range(0, G_N_ELEMENTS(ports))];
            th_outb(m, p, (uint8_t)g_test_rand_int());
            (void)th_inb(m, ports[g_test_rand_int_range(0, G_N_ELEMENTS(ports))]);
        } else if (what < 60) {
            /* Indexed register with a random value, the usual way. */
            static const uint16_t idx[] = { 0x3C4, 0x3CE, 0x3D4, 0x3B4 };
            uint16_t p = idx[g_test_rand_int_range(0, G_N_ELEMENTS(idx))];
            th_outb(m, p, (uint8_t)g_test_rand_int_range(0, 0x20));
            th_outb(m, (uint16_t)(p + 1), (uint8_t)g_test_rand_int());
            (void)th_inb(m, 0x3DA);
            th_outb(m, 0x3C0, (uint8_t)g_test_rand_int_range(0, 0x40));
            th_outb(m, 0x3C0, (uint8_t)g_test_rand_int());
        } else if (what < 72) {
            /* DISPI: any index, any value, including huge modes. */
            uint16_t vals[] = { 0, 1, 4, 8, 15, 16, 24, 32, 640, 1024, 2560, 4096, 0x7FFF,
                                0xFFFF, (uint16_t)g_test_rand_int() };
            vt_dispi(m, (uint16_t)g_test_rand_int_range(0, 12),
                     vals[g_test_rand_int_range(0, G_N_ELEMENTS(vals))]);
            if (g_test_rand_bit())
                vt_dispi(m, 4, (uint16_t)(g_test_rand_bit() ? 0x41 : g_test_rand_int()));
        } else if (what < 90) {
            uint64_t a = 0xA0000 + (uint64_t)g_test_rand_int_range(0, 0x20000);
            unsigned sz = 1u << g_test_rand_int_range(0, 3);
            if (g_test_rand_bit())
                tess_mem_write(m, a & ~(uint64_t)(sz - 1), g_test_rand_int(), sz);
            else
                (void)tess_mem_read(m, a & ~(uint64_t)(sz - 1), sz);
        } else if (what < 93) {
            th_advance(m, (uint64_t)g_test_rand_int_range(1, 20000000));
        } else {
            render_all(&s, view, &small);
        }
    }
    render_all(&s, view, &small);
    s.ops->view_free(s.src, view);
    vt_screen_free(&s);
    th_machine_free(m);
}

/* Hand-picked absurd values on top of a text and a graphics mode. */
static void test_absurd(void)
{
    TessMachine *m = th_machine("<device type='vga' id='vga' vram='256K'/>");
    VtScreen s = vt_screen(m, "vga");
    uint32_t small_px[16];
    TessDisplaySurface small = { small_px, 4, 4, 16 };
    const VgaModeRegs *modes[] = { &vt_mode03, &vt_mode13 };
    for (unsigned k = 0; k < G_N_ELEMENTS(modes); k++) {
        vt_set_mode(m, modes[k]);
        vt_cr(m, 0x11, 0x00);
        /* Everything at its maximum: 256 characters, 1024 lines, rows of
         * 32 scanlines doubled, start and cursor at the end. */
        static const uint8_t cr_max[][2] = { { 0x00, 0xFF }, { 0x01, 0xFF }, { 0x06, 0xFF },
            { 0x07, 0xFF }, { 0x09, 0xDF }, { 0x0C, 0xFF }, { 0x0D, 0xFF }, { 0x0E, 0xFF },
            { 0x0F, 0xFF }, { 0x12, 0xFF }, { 0x13, 0xFF }, { 0x18, 0x00 }, { 0x08, 0x7F } };
        for (size_t i = 0; i < G_N_ELEMENTS(cr_max); i++)
            vt_cr(m, cr_max[i][0], cr_max[i][1]);
        vt_ar(m, 0x13, 0x0F);
        render_all(&s, NULL, &small);
        /* And everything zero. */
        for (unsigned i = 0; i < 0x19; i++)
            vt_cr(m, (uint8_t)i, 0);
        render_all(&s, NULL, &small);
        (void)th_inb(m, 0x3DA);
        th_advance(m, 123456789);
        (void)th_inb(m, 0x3DA);
    }
    /* DISPI: a mode too big for video memory, offsets past the end. */
    vt_dispi(m, 1, 2560);
    vt_dispi(m, 2, 1600);
    vt_dispi(m, 3, 32);
    vt_dispi(m, 4, 0x41);
    TessDisplayMode md;
    s.ops->get_mode(s.src, &md);
    g_assert_cmpuint(md.width, !=, 2560);
    vt_dispi(m, 1, 320);
    vt_dispi(m, 2, 200);
    vt_dispi(m, 3, 32);
    vt_dispi(m, 4, 0x41);
    vt_dispi(m, 6, 0xFFFF);
    vt_dispi(m, 9, 0xFFFF);
    vt_dispi(m, 8, 0xFFFF);
    render_all(&s, NULL, &small);
    s.ops->get_mode(s.src, &md);
    g_assert_cmpuint(md.width, ==, 320);
    vt_dispi(m, 3, 4);
    render_all(&s, NULL, &small);
    vt_dispi(m, 5, 0xFFFF);
    tess_mem_write(m, 0xA0000, 0x12345678, 4);
    vt_screen_free(&s);
    th_machine_free(m);
}

/* The S3: unlocked extended registers with random values (banks, start
 * addresses, pixel formats, cursor places past video memory), engine
 * commands with random coordinates and sizes, PIX_TRANS data with no
 * command waiting and too much for the one that is, MMIO windows switched
 * on and off, renders and cursors in between. */
static void test_s3_random(void)
{
    static const char *const frags[] = { S3_FRAG_ATTRS("vram='1M'"), S3_FRAG_ATTRS("chip='trio32' vram='2M'"),
                                         S3_FRAG_ATTRS("") };
    static const uint16_t ge_ports[] = { 0x42E8, 0x4AE8, 0x82E8, 0x86E8, 0x8AE8, 0x8EE8, 0x92E8,
                                         0x96E8, 0x9AE8, 0x9EE8, 0xA2E8, 0xA6E8, 0xAAE8, 0xAEE8,
                                         0xB2E8, 0xB6E8, 0xBAE8, 0xBEE8, 0xE2E8 };
    unsigned shown = 0;
    for (size_t f = 0; f < G_N_ELEMENTS(frags); f++) {
        TessMachine *m = th_machine(frags[f]);
        s3t_setup(m);
        VtScreen s = vt_screen(m, "vga");
        const TessDisplaySourceOps *ops2 = tess_device_interface_v(s.src, TESS_IFACE_DISPLAY_SOURCE, 2);
        g_assert_nonnull(ops2);
        g_autofree TessDisplayCursor *cur = g_new0(TessDisplayCursor, 1);
        TessDisplayView *view = s.ops->view_new(s.src);
        uint32_t small_px[37 * 23];
        TessDisplaySurface small = { small_px, 37, 23, 37 * 4 };
        for (unsigned it = 0; it < 6000; it++) {
            unsigned what = (unsigned)g_test_rand_int_range(0, 100);
            if (what < 3) {
                S3tMode md = g_test_rand_bit() ? s3t_640x480 : s3t_800x600;
                static const unsigned bpps[] = { 8, 15, 16, 32 };
                md.bpp = bpps[g_test_rand_int_range(0, 4)];
                s3t_set_mode(m, &md, (unsigned)g_test_rand_int_range(0, 1 << 22) & ~3u);
            } else if (what < 5) {
                vt_set_mode(m, &vt_mode13);
                s3t_setup(m);
            } else if (what < 30) {
                bool sr = g_test_rand_int_range(0, 4) == 0;
                uint8_t idx = (uint8_t)(sr ? g_test_rand_int_range(0x08, 0x20)
                                           : g_test_rand_int_range(0x19, 0x80));
                if (!sr && idx == 0x40)
                    continue;                     /* keep the engine's ports on */
                if (sr)
                    vt_sr(m, idx, (uint8_t)g_test_rand_int());
                else
                    vt_cr(m, idx, (uint8_t)g_test_rand_int());
                (void)(sr ? (th_outb(m, 0x3C4, idx), th_inb(m, 0x3C5)) : vt_cr_read(m, idx));
            } else if (what < 60) {
                uint16_t p = ge_ports[g_test_rand_int_range(0, G_N_ELEMENTS(ge_ports))];
                uint32_t v = g_test_rand_int();
                if (p == 0x9AE8 && g_test_rand_bit())
                    v &= 0xFF; /* keep small commands common */
                if (p == 0x96E8 || p == 0xBEE8)
                    v &= 0xF0FF;                  /* small rectangles, mostly */
                switch (g_test_rand_int_range(0, 3)) {
                case 0: th_outb(m, p + (uint16_t)g_test_rand_int_range(0, 2), (uint8_t)v); break;
                case 1: th_outw(m, p, (uint16_t)v); break;
                default: th_outl(m, p, v); break;
                }
                (void)th_inw(m, ge_ports[g_test_rand_int_range(0, G_N_ELEMENTS(ge_ports))]);
            } else if (what < 65) {
                /* a command waiting for CPU data (any op, bus width, byte
                 * order), then data through the port or MMIO, packed
                 * registers, short strokes */
                if (g_test_rand_int_range(0, 4) == 0)
                    s3t_wcr_bits(m, 0x53, 0x08, 0x18);       /* new MMIO on */
                uint16_t cmd = (uint16_t)(g_test_rand_int() | 0x0100);
                th_outw(m, 0x96E8, (uint16_t)g_test_rand_int_range(0, 0x40));
                th_outw(m, 0xBEE8, (uint16_t)g_test_rand_int_range(0, 0x40));
                th_outw(m, 0x9AE8, cmd);
                for (int k = g_test_rand_int_range(0, 40); k > 0; k--) {
                    unsigned sz = 1u << g_test_rand_int_range(0, 3);
                    if (g_test_rand_bit())
                        tess_mem_write(m, S3_LFB + 0x1000000u + (uint64_t)g_test_rand_int_range(0, 0x8000) / sz * sz,
                                       g_test_rand_int(), sz);
                    else if (sz == 4)
                        th_outl(m, 0xE2E8, g_test_rand_int());
                    else if (sz == 2)
                        th_outw(m, g_test_rand_bit() ? 0xE2E8 : 0xE2EA, (uint16_t)g_test_rand_int());
                    else
                        th_outb(m, 0xE2E8 + (uint16_t)g_test_rand_int_range(0, 4), (uint8_t)g_test_rand_int());
                }
                unsigned sz = 1u << g_test_rand_int_range(0, 3);
                uint64_t pk = S3_LFB + 0x1000000u + (uint64_t)g_test_rand_int_range(0x8100, 0x8150) / sz * sz;
                if (g_test_rand_bit())
                    tess_mem_write(m, pk, g_test_rand_int(), sz);
                else
                    (void)tess_mem_read(m, pk, sz);
                th_outw(m, 0x9EE8, (uint16_t)g_test_rand_int());
            } else if (what < 80) {
                static const uint64_t bases[] = { 0xA0000, S3_LFB, S3_LFB + 0x1000000u, S3_LFB + 0x3FFFFF0u };
                uint64_t a = bases[g_test_rand_int_range(0, G_N_ELEMENTS(bases))] +
                             (uint64_t)g_test_rand_int_range(0, 0x10000);
                unsigned sz = 1u << g_test_rand_int_range(0, 3);
                a &= ~(uint64_t)(sz - 1);
                if (g_test_rand_bit())
                    tess_mem_write(m, a, g_test_rand_int(), sz);
                else
                    (void)tess_mem_read(m, a, sz);
            } else if (what < 83) {
                th_advance(m, (uint64_t)g_test_rand_int_range(1, 20000000));
            } else {
                render_all(&s, view, &small);
                cur->struct_size = sizeof(*cur);
                if (ops2->get_cursor(s.src, cur)) {
                    shown++;
                    g_assert_cmpuint(cur->width, <=, TESS_DISPLAY_CURSOR_MAX);
                    if (s.surf.pixels)
                        tess_display_cursor_compose(cur, &s.surf);
                    tess_display_cursor_compose(cur, &small);
                }
            }
        }
        render_all(&s, view, &small);
        s.ops->view_free(s.src, view);
        vt_screen_free(&s);
        th_machine_free(m);
    }
    g_test_message("cursors shown: %u", shown);
}

static void test_random(void)
{
    fuzz_once("<device type='vga' id='vga'/>", 4000);
    fuzz_once("<device type='vga' id='vga' vram='1M'/>", 4000);
    g_test_message("renders: %u blank, %u text, %u graphics", renders[0], renders[1], renders[2]);
    g_assert_cmpuint(renders[TESS_DISPLAY_TEXT] + renders[TESS_DISPLAY_GRAPHICS], >, 100);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vga-fuzz/absurd", test_absurd);
    g_test_add_func("/vga-fuzz/random", test_random);
    g_test_add_func("/vga-fuzz/s3-random", test_s3_random);
    return g_test_run();
}
