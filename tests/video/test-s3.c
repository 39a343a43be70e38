/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * S3 Trio64 / Trio32: identification and locks, banking, packed pixel
 * modes and the refresh rate the PLL gives, the hardware cursor through
 * the cursor plane, and the graphics engine against an independent
 * software model (random rectangles, copies, patterns, lines and CPU
 * transfers with every mix, write masks, scissors and colour compare, at
 * 8, 16 and 32 bits per pixel), compared byte for byte in video memory.
 * Seeded (g_test_rand): a failure reproduces with --seed.
 */
#include "s3-test.h"

#include <math.h>

#define CMD_DRAW_ 0x10

/* ---- identification --------------------------------------------------------- */

static void test_ids(void)
{
    static const struct { const char *attrs; uint16_t dev; uint8_t cr2e, cr36; } cases[] = {
        { "", 0x8811, 0x11, 0x0E },
        { "chip='trio32' vram='2M'", 0x8810, 0x10, 0x8E },
        { "vram='1M'", 0x8811, 0x11, 0xCE },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *frag = g_strdup_printf("<device type='i440fx' id='pci'/>"
                                                "<device type='s3-trio64' id='vga' rom='' %s/>",
                                                cases[i].attrs);
        TessMachine *m = th_machine(frag);
        unsigned devfn = s3t_devfn(m);
        uint32_t id = s3t_cfg_read(m, devfn, 0);
        g_assert_cmphex(id, ==, 0x5333u | (uint32_t)cases[i].dev << 16);
        g_assert_cmphex(s3t_cfg_read(m, devfn, 8) >> 16, ==, 0x0300);   /* VGA display */
        /* BAR0: 64 MiB of memory */
        s3t_cfg_write(m, devfn, 0x10, 0xFFFFFFFFu);
        g_assert_cmphex(s3t_cfg_read(m, devfn, 0x10), ==, 0xFC000000u);
        th_outb(m, 0x3C2, 0x01);
        /* Locked: CR2D-CR3F writes are ignored. */
        vt_cr(m, 0x38, 0x00);
        vt_cr(m, 0x35, 0x05);
        g_assert_cmphex(vt_cr_read(m, 0x35), ==, 0x00);
        vt_cr(m, 0x38, 0x48);
        vt_cr(m, 0x35, 0x05);
        g_assert_cmphex(vt_cr_read(m, 0x35), ==, 0x05);
        g_assert_cmphex(vt_cr_read(m, 0x2D), ==, 0x88);
        g_assert_cmphex(vt_cr_read(m, 0x2E), ==, cases[i].cr2e);
        g_assert_cmphex(vt_cr_read(m, 0x30) & 0xFE, ==, 0xE0);
        g_assert_cmphex(vt_cr_read(m, 0x36), ==, cases[i].cr36);
        vt_cr(m, 0x2E, 0x55);                                 /* read-only */
        g_assert_cmphex(vt_cr_read(m, 0x2E), ==, cases[i].cr2e);
        /* CR40 and up need CR39 = A5h. */
        vt_cr(m, 0x50, 0x30);
        g_assert_cmphex(vt_cr_read(m, 0x50), ==, 0x00);
        vt_cr(m, 0x39, 0xA5);
        vt_cr(m, 0x50, 0x30);
        g_assert_cmphex(vt_cr_read(m, 0x50), ==, 0x30);
        /* SR09 and up need SR08 = 06h. */
        vt_sr(m, 0x12, 0x44);
        th_outb(m, 0x3C4, 0x12);
        uint8_t locked = th_inb(m, 0x3C5);
        g_assert_cmphex(locked, !=, 0x44);
        vt_sr(m, 0x08, 0x06);
        vt_sr(m, 0x12, 0x44);
        th_outb(m, 0x3C4, 0x12);
        g_assert_cmphex(th_inb(m, 0x3C5), ==, 0x44);
        /* The engine's ports answer only with CR40 bit 0. */
        th_outw(m, 0x86E8, 0x123);
        g_assert_cmphex(th_inw(m, 0x86E8), ==, 0xFFFF);
        vt_cr(m, 0x40, 0x01);
        th_outw(m, 0x86E8, 0x123);
        g_assert_cmphex(th_inw(m, 0x86E8), ==, 0x123);
        th_machine_free(m);
    }
}

static void test_bad_config(void)
{
    g_autoptr(GError) err = NULL;
    TessMachine *m = th_machine_try("<device type='i440fx' id='pci'/>"
                                    "<device type='s3-trio64' id='vga' rom='no-such-vgabios.bin'/>",
                                    &err);
    g_assert_null(m);
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(err->message, "no-such-vgabios.bin"));
    /* Memory sizes the chips do not take. */
    static const char *const bad[] = { "vram='3M'", "vram='8M'", "chip='trio32'" };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) e2 = NULL;
        g_autofree char *frag = g_strdup_printf("<device type='i440fx' id='pci'/>"
                                                "<device type='s3-trio64' id='vga' rom='' %s/>", bad[i]);
        g_assert_null(th_machine_try(frag, &e2));
        g_assert_nonnull(e2);
        g_test_message("%s: %s", bad[i], e2->message);
    }
}

/* ---- banking ---------------------------------------------------------------- */

static void test_banking(void)
{
    TessMachine *m = th_machine(S3_FRAG_ATTRS(""));
    s3t_setup(m);
    vt_set_mode(m, &vt_mode13);
    uint8_t *vram = s3t_vram(m);
    /* Enhanced mapping with the base address offset: 64K banks of the
     * whole 4M through A0000 in chain-4. */
    vt_cr(m, 0x31, 0x09);
    for (unsigned bank = 0; bank < 64; bank += 7) {
        vt_cr(m, 0x35, (uint8_t)(bank & 0xF));
        s3t_wcr_bits(m, 0x51, (uint8_t)((bank >> 4) << 2), 0x0C);
        tess_mem_write(m, 0xA0000 + 0x1234, 0xA5 ^ bank, 1);
        tess_mem_write(m, 0xAFFFC, 0x11223344u + bank, 4);
        g_assert_cmphex(vram[bank * 0x10000u + 0x1234], ==, 0xA5 ^ bank);
        uint32_t v;
        memcpy(&v, &vram[bank * 0x10000u + 0xFFFC], 4);
        g_assert_cmphex(v, ==, 0x11223344u + bank);
        g_assert_cmphex(tess_mem_read(m, 0xA0000 + 0x1234, 1), ==, 0xA5 ^ bank);
    }
    /* CR6A, when non-zero, is the bank. */
    vt_cr(m, 0x6A, 0x21);
    tess_mem_write(m, 0xA0010, 0x5A, 1);
    g_assert_cmphex(vram[0x21 * 0x10000u + 0x10], ==, 0x5A);
    vt_cr(m, 0x6A, 0x00);
    th_machine_free(m);
}

/* ---- packed modes and the PLL ------------------------------------------------- */

static uint32_t expand565(unsigned p)
{
    unsigned r = (p >> 11) & 31, g = (p >> 5) & 63, b = p & 31;
    return (r << 3 | r >> 2) << 16 | (g << 2 | g >> 4) << 8 | (b << 3 | b >> 2);
}

static uint32_t expand555(unsigned p)
{
    unsigned r = (p >> 10) & 31, g = (p >> 5) & 31, b = p & 31;
    return (r << 3 | r >> 2) << 16 | (g << 3 | g >> 2) << 8 | (b << 3 | b >> 2);
}

static void test_packed_modes(void)
{
    TessMachine *m = th_machine(S3_FRAG_ATTRS(""));
    s3t_setup(m);
    vt_load_dac(m);
    uint8_t *vram = s3t_vram(m);
    VtScreen s = vt_screen(m, "vga");
    const unsigned bpps[] = { 8, 15, 16, 24, 32 };
    const S3tMode *modes[] = { &s3t_640x480, &s3t_800x600 };
    for (size_t k = 0; k < G_N_ELEMENTS(modes); k++) {
        for (size_t b = 0; b < G_N_ELEMENTS(bpps); b++) {
            S3tMode md = *modes[k];
            md.bpp = bpps[b];
            unsigned bytespp = md.bpp == 15 ? 2 : md.bpp / 8;
            unsigned start = (unsigned)(k * 4096 + b * 64);
            s3t_set_mode(m, &md, start);
            for (size_t i = 0; i < (size_t)md.w * md.h * bytespp; i++)
                vram[start + i] = (uint8_t)(i * 131 + (i >> 9) * 7 + b);
            TessDisplayMode dm = vt_render(&s);
            g_assert_cmpint(dm.kind, ==, TESS_DISPLAY_GRAPHICS);
            g_assert_cmpuint(dm.width, ==, md.w);
            g_assert_cmpuint(dm.height, ==, md.h);
            g_assert_cmpuint(dm.depth, ==, md.bpp);
            /* The refresh rate the DCLK gives: f / (htotal * vtotal). */
            double f = 14318180.0 * md.m / (md.n << md.r);
            double hz = f / ((double)md.htotal * md.vtotal);
            g_assert_cmpfloat(fabs(dm.refresh_mhz / 1000.0 - hz), <, 0.05);
            unsigned bad = 0;
            for (unsigned y = 0; y < md.h; y++) {
                for (unsigned x = 0; x < md.w; x++) {
                    const uint8_t *p = &vram[start + ((size_t)y * md.w + x) * bytespp];
                    uint32_t e;
                    switch (md.bpp) {
                    case 8: e = vt_dac_rgb(p[0]); break;
                    case 15: e = expand555(p[0] | p[1] << 8); break;
                    case 16: e = expand565(p[0] | p[1] << 8); break;
                    default: e = (uint32_t)p[2] << 16 | p[1] << 8 | p[0]; break;
                    }
                    if (e != vt_px(&s, x, y) && bad++ < 5)
                        g_test_message("%ux%ux%u pixel %u,%u: expected %06x got %06x", md.w,
                                       md.h, md.bpp, x, y, e, vt_px(&s, x, y));
                }
            }
            g_assert_cmpuint(bad, ==, 0);
        }
    }
    vt_screen_free(&s);
    th_machine_free(m);
}

/* ---- the hardware cursor ----------------------------------------------------- */

static void test_cursor(void)
{
    TessMachine *m = th_machine(S3_FRAG_ATTRS(""));
    s3t_setup(m);
    vt_load_dac(m);
    VtScreen s = vt_screen(m, "vga");
    const TessDisplaySourceOps *ops2 = tess_device_interface_v(s.src, TESS_IFACE_DISPLAY_SOURCE, 2);
    g_assert_nonnull(ops2);
    g_assert_nonnull(ops2->get_cursor);
    S3tMode md = s3t_640x480;
    s3t_set_mode(m, &md, 0);
    uint8_t *vram = s3t_vram(m);
    memset(vram, 0x21, 640 * 480);
    /* The image at 3 MiB: rows alternate colours; a transparent and an
     * inverting column band. Per 16 pixels: AND word, XOR word. */
    unsigned base = 3u << 20;
    for (unsigned y = 0; y < 64; y++) {
        for (unsigned grp = 0; grp < 4; grp++) {
            uint16_t and_ = grp == 2 ? 0xFFFF : 0x0000;
            uint16_t xor_ = grp == 2 ? (uint16_t)(y & 1 ? 0xFF00 : 0x0000)
                                     : (uint16_t)(y & 1 ? 0xFFFF : 0x0000);
            uint8_t *p = &vram[base + y * 16 + grp * 4];
            p[0] = (uint8_t)(and_ >> 8); p[1] = (uint8_t)and_;
            p[2] = (uint8_t)(xor_ >> 8); p[3] = (uint8_t)xor_;
        }
    }
    vt_cr(m, 0x4C, (uint8_t)((base >> 10) >> 8));
    vt_cr(m, 0x4D, (uint8_t)(base >> 10));
    (void)vt_cr_read(m, 0x45);                 /* resets the colour stacks */
    vt_cr(m, 0x4A, 0x07);                      /* foreground: DAC 7 */
    vt_cr(m, 0x4B, 0x09);                      /* background: DAC 9 */
    vt_cr(m, 0x46, 0x01);                      /* X = 0x123 */
    vt_cr(m, 0x47, 0x23);
    vt_cr(m, 0x48, 0x00);                      /* Y = 0x45 */
    vt_cr(m, 0x49, 0x45);
    vt_cr(m, 0x4E, 0);
    vt_cr(m, 0x4F, 0);
    TessDisplayCursor cur = { .struct_size = sizeof(cur) };
    g_assert_false(ops2->get_cursor(s.src, &cur));    /* CR45 bit 0 clear */
    vt_cr(m, 0x45, 0x01);
    g_assert_true(ops2->get_cursor(s.src, &cur));
    g_assert_cmpint(cur.x, ==, 0x123);
    g_assert_cmpint(cur.y, ==, 0x45);
    g_assert_cmpuint(cur.width, ==, 64);
    vt_render(&s);
    TessDisplayRect r = tess_display_cursor_compose(&cur, &s.surf);
    g_assert_cmpuint(r.w, ==, 64);
    uint32_t under = vt_dac_rgb(0x21);
    for (unsigned y = 0; y < 64; y++) {
        for (unsigned x = 0; x < 64; x++) {
            uint32_t e;
            if (x >= 32 && x < 48)
                e = ((y & 1) && x < 40) ? under ^ 0xFFFFFF : under;
            else
                e = vt_dac_rgb((y & 1) ? 7 : 9);
            g_assert_cmphex(vt_px(&s, 0x123 + x, 0x45 + y), ==, e);
        }
    }
    g_assert_cmphex(vt_px(&s, 0x122, 0x45), ==, under);
    g_assert_cmphex(vt_px(&s, 0x123 + 64, 0x45), ==, under);
    /* The offsets skip image columns and rows; moving keeps the
     * generation, a new colour changes it. */
    uint32_t gen = cur.generation;
    vt_cr(m, 0x47, 0x30);
    g_assert_true(ops2->get_cursor(s.src, &cur));
    g_assert_cmpuint(cur.generation, ==, gen);
    g_assert_cmpint(cur.x, ==, 0x130);
    (void)vt_cr_read(m, 0x45);
    vt_cr(m, 0x4A, 0x08);
    vt_cr(m, 0x4F, 1);
    g_assert_true(ops2->get_cursor(s.src, &cur));
    g_assert_cmpuint(cur.generation, !=, gen);
    g_assert_cmphex(cur.pixels[0], ==, (TESS_DISPLAY_CURSOR_OPAQUE << 24) | vt_dac_rgb(8));
    g_assert_cmphex(cur.pixels[64], ==, (TESS_DISPLAY_CURSOR_OPAQUE << 24) | vt_dac_rgb(9));
    /* A smaller struct from an older caller is filled only as far as it goes. */
    TessDisplayCursor small = { .struct_size = offsetof(TessDisplayCursor, generation) };
    small.generation = 0xDEAD;
    g_assert_true(ops2->get_cursor(s.src, &small));
    g_assert_cmpuint(small.generation, ==, 0xDEAD);
    g_assert_cmpint(small.x, ==, 0x130);
    vt_screen_free(&s);
    th_machine_free(m);
}

/* ---- the graphics engine against a model --------------------------------------- */

/* The model: its own copy of video memory and the operations as geometry.
 * The sixteen mixes are written as truth tables over (source, destination)
 * bits: entry S*2+D. */
static const uint8_t mix_tt[16][4] = {
    { 1, 0, 1, 0 }, { 0, 0, 0, 0 }, { 1, 1, 1, 1 }, { 0, 1, 0, 1 },
    { 1, 1, 0, 0 }, { 0, 1, 1, 0 }, { 1, 0, 0, 1 }, { 0, 0, 1, 1 },
    { 1, 1, 1, 0 }, { 1, 1, 0, 1 }, { 1, 0, 1, 1 }, { 0, 1, 1, 1 },
    { 0, 0, 0, 1 }, { 0, 1, 0, 0 }, { 0, 0, 1, 0 }, { 1, 0, 0, 0 },
};

typedef struct Model {
    uint8_t *mem;
    size_t size;
    unsigned bpp, width;
    uint32_t mask;
    /* state the test programmed */
    uint32_t fg, bg, wm, rm, cmp;
    unsigned fmix, bmix;               /* mix 0-15 */
    unsigned fsrc, bsrc;               /* 0 bkgd, 1 frgd, 2 cpu, 3 display */
    bool cmp_on, cmp_ne;
    unsigned sl, st, sr, sb;
} Model;

static uint32_t model_mix(unsigned mix, uint32_t s, uint32_t d)
{
    const uint8_t *t = mix_tt[mix];
    return (t[0] ? ~s & ~d : 0) | (t[1] ? ~s & d : 0) | (t[2] ? s & ~d : 0) | (t[3] ? s & d : 0);
}

static uint32_t model_get(const Model *mo, int x, int y)
{
    size_t a = ((size_t)y * mo->width + (size_t)x) * mo->bpp;
    uint32_t v = 0;
    for (unsigned i = 0; i < mo->bpp; i++)
        v |= (uint32_t)mo->mem[a + i] << (8 * i);
    return v;
}

/* Write one pixel as the data book describes the pipeline. */
static void model_put(Model *mo, int x, int y, bool fgsel, uint32_t cpu, uint32_t mem)
{
    if (x < (int)mo->sl || x > (int)mo->sr || y < (int)mo->st || y > (int)mo->sb)
        return;
    unsigned srcsel = fgsel ? mo->fsrc : mo->bsrc;
    uint32_t s = srcsel == 0 ? mo->bg : srcsel == 1 ? mo->fg : srcsel == 2 ? cpu : mem;
    s &= mo->mask;
    if (mo->cmp_on && ((s == (mo->cmp & mo->mask)) != mo->cmp_ne))
        return;
    uint32_t d = model_get(mo, x, y);
    uint32_t r = model_mix(fgsel ? mo->fmix : mo->bmix, s, d);
    r = ((r & mo->wm) | (d & ~mo->wm)) & mo->mask;
    size_t a = ((size_t)y * mo->width + (size_t)x) * mo->bpp;
    for (unsigned i = 0; i < mo->bpp; i++)
        mo->mem[a + i] = (uint8_t)(r >> (8 * i));
}

typedef struct Eng {
    TessMachine *m;
    uint8_t *vram;
    Model mo;
    bool mmio;                 /* drive the engine through new MMIO */
    bool packed;               /* ... and its packed registers at 8100h */
} Eng;

#define NEW_MMIO (S3_LFB + 0x1000000u)

/* The packed MMIO register that holds a port's register (0: none), as
 * XFree86's kdrive S3 driver lays them out: pairs in double words, the
 * first named in the low word. */
static uint32_t packed_off(uint32_t port, uint32_t v)
{
    switch (port) {
    case 0x82E8: return 0x8100;            /* ALT_CURXY: CUR_Y, CUR_X */
    case 0x86E8: return 0x8102;
    case 0x8AE8: return 0x8108;            /* ALT_STEP */
    case 0x8EE8: return 0x810A;
    case 0x92E8: return 0x8110;
    case 0x9AE8: return 0x8118;
    case 0x9EE8: return 0x811C;
    case 0xA2E8: return 0x8120;
    case 0xA6E8: return 0x8124;
    case 0xAAE8: return 0x8128;
    case 0xAEE8: return 0x812C;
    case 0xB2E8: return 0x8130;
    case 0xB6E8: return 0x8134;            /* ALT_MIX: BKGD_MIX, FRGD_MIX */
    case 0xBAE8: return 0x8136;
    case 0x96E8: return 0x814A;            /* ALT_PCNT: MIN_AXIS_PCNT, MAJ_AXIS_PCNT */
    case 0xBEE8:
        switch (v >> 12) {
        case 0x0: return 0x8148;
        case 0x1: return 0x8138;           /* SCISSORS_T, _L, _B, _R */
        case 0x2: return 0x813A;
        case 0x3: return 0x813C;
        case 0x4: return 0x813E;
        case 0xA: return 0x8140;           /* PIX_CNTL, MULT_MISC2 */
        case 0xD: return 0x8142;
        case 0xE: return 0x8144;           /* MULT_MISC, READ_SEL */
        case 0xF: return 0x8146;
        default: return 0;
        }
    default: return 0;
    }
}

static void eng_w(Eng *e, uint32_t port, uint32_t v)
{
    uint32_t pk = e->packed ? packed_off(port, v) : 0;
    if (pk)
        tess_mem_write(e->m, NEW_MMIO + pk, port == 0xBEE8 ? v & 0x0FFF : v & 0xFFFF, 2);
    else if (e->mmio)
        tess_mem_write(e->m, NEW_MMIO + port, v & 0xFFFF, 2);
    else
        th_outw(e->m, port, (uint16_t)v);
}

static uint16_t eng_r(Eng *e, uint32_t port)
{
    uint32_t pk = e->packed ? packed_off(port, 0) : 0;
    if (pk)
        return (uint16_t)tess_mem_read(e->m, NEW_MMIO + pk, 2);
    if (e->mmio)
        return (uint16_t)tess_mem_read(e->m, NEW_MMIO + port, 2);
    return th_inw(e->m, port);
}

/* Colour registers: 32-bit at 32 bpp (an outl, or a 32-bit MMIO write). */
static void eng_color(Eng *e, uint32_t port, uint32_t v)
{
    if (e->packed)
        tess_mem_write(e->m, NEW_MMIO + packed_off(port, 0), v, 4);
    else if (e->mmio)
        tess_mem_write(e->m, NEW_MMIO + port, v, 4);
    else if (e->mo.bpp == 4) {
        /* two 16-bit writes with MULT_MISC bit 9 set (set in setup) */
        th_outw(e->m, port, (uint16_t)v);
        th_outw(e->m, port, (uint16_t)(v >> 16));
    } else
        th_outw(e->m, port, (uint16_t)v);
}

static uint32_t rnd_color(const Model *mo)
{
    uint32_t c = g_test_rand_int() & mo->mask;
    /* Small palette now and then so colour compare hits. */
    if (g_test_rand_int_range(0, 3) == 0)
        c = (uint32_t)g_test_rand_int_range(0, 4) * 0x01010101u & mo->mask;
    return c;
}

/* Program the state shared by every operation, in the model and the device. */
static void eng_state(Eng *e, bool allow_cpu_src)
{
    Model *mo = &e->mo;
    mo->fg = rnd_color(mo);
    mo->bg = rnd_color(mo);
    mo->wm = g_test_rand_int_range(0, 4) ? mo->mask : (g_test_rand_int() & mo->mask);
    mo->rm = g_test_rand_int() & mo->mask;
    mo->cmp = rnd_color(mo);
    /* S (what drivers use most, and what the engine's row-at-a-time
     * paths take) a quarter of the time */
    mo->fmix = g_test_rand_int_range(0, 4) ? (unsigned)g_test_rand_int_range(0, 16) : 7;
    mo->bmix = (unsigned)g_test_rand_int_range(0, 16);
    static const unsigned srcs[] = { 0, 1, 3 };
    mo->fsrc = g_test_rand_bit() ? 1 : srcs[g_test_rand_int_range(0, 3)];
    mo->bsrc = srcs[g_test_rand_int_range(0, 3)];
    (void)allow_cpu_src;
    mo->cmp_on = g_test_rand_int_range(0, 4) == 0;
    mo->cmp_ne = g_test_rand_bit();
    if (g_test_rand_bit()) {
        mo->sl = mo->st = 0;
        mo->sr = mo->sb = 0xFFF;
    } else {
        mo->sl = (unsigned)g_test_rand_int_range(0, 300);
        mo->st = (unsigned)g_test_rand_int_range(0, 300);
        mo->sr = mo->sl + (unsigned)g_test_rand_int_range(0, 400);
        mo->sb = mo->st + (unsigned)g_test_rand_int_range(0, 400);
    }
    /* MULT_MISC first: at 32 bpp its bit 9 makes 16-bit colour writes
     * alternate low and high words. */
    eng_w(e, 0xBEE8, 0xE000 | (mo->bpp == 4 ? 0x200 : 0) | (mo->cmp_on ? 0x100 : 0) |
                     (mo->cmp_ne ? 0x80 : 0));
    eng_color(e, 0xA6E8, mo->fg);
    eng_color(e, 0xA2E8, mo->bg);
    eng_color(e, 0xAAE8, mo->wm);
    eng_color(e, 0xAEE8, mo->rm);
    eng_color(e, 0xB2E8, mo->cmp);
    eng_w(e, 0xBAE8, mo->fsrc << 5 | mo->fmix);
    eng_w(e, 0xB6E8, mo->bsrc << 5 | mo->bmix);
    eng_w(e, 0xBEE8, 0x1000 | mo->st);
    eng_w(e, 0xBEE8, 0x2000 | mo->sl);
    eng_w(e, 0xBEE8, 0x3000 | mo->sb);
    eng_w(e, 0xBEE8, 0x4000 | mo->sr);
}

static void eng_pix_cntl(Eng *e, unsigned sel)
{
    eng_w(e, 0xBEE8, 0xA000 | sel << 6);
}

/* Rectangle fill, foreground mix always or chosen by display memory
 * under RD_MASK (PIX_CNTL 3). */
static void op_rect(Eng *e)
{
    Model *mo = &e->mo;
    eng_state(e, false);
    unsigned sel = g_test_rand_bit() ? 3 : 0;
    eng_pix_cntl(e, sel);
    int x = g_test_rand_int_range(0, 700), y = g_test_rand_int_range(0, 700);
    int w = g_test_rand_int_range(1, 120), h = g_test_rand_int_range(1, 80);
    bool incx = g_test_rand_bit(), incy = g_test_rand_bit();
    eng_w(e, 0x86E8, (uint32_t)x);
    eng_w(e, 0x82E8, (uint32_t)y);
    eng_w(e, 0x96E8, (uint32_t)(w - 1));
    eng_w(e, 0xBEE8, (uint32_t)(h - 1));
    eng_w(e, 0x9AE8, 0x4000 | CMD_DRAW_ | (incx ? 0x20 : 0) | (incy ? 0x80 : 0) | 0x1);
    /* the rectangle covers [x0, x0+w) whichever way it is walked */
    int x0 = incx ? x : x - w + 1, y0 = incy ? y : y - h + 1;
    for (int j = 0; j < h; j++)
        for (int i = 0; i < w; i++) {
            int px = x0 + i, py = y0 + j;
            if (px < 0 || py < 0)
                continue;
            uint32_t mem = model_get(mo, px, py);
            model_put(mo, px, py, sel == 3 ? (mem & mo->rm) != 0 : true, 0, mem);
        }
}

/* BitBLT between possibly overlapping rectangles, walked the way a driver
 * picks so that the copy reads every source pixel before it is written. */
static void op_blt(Eng *e)
{
    Model *mo = &e->mo;
    eng_state(e, false);
    mo->fsrc = 3;
    eng_w(e, 0xBAE8, 3u << 5 | mo->fmix);
    unsigned sel = g_test_rand_int_range(0, 3) == 0 ? 3 : 0;
    eng_pix_cntl(e, sel);
    int w = g_test_rand_int_range(1, 100), h = g_test_rand_int_range(1, 70);
    int sx = g_test_rand_int_range(0, 700), sy = g_test_rand_int_range(0, 700);
    int dx = g_test_rand_bit() ? sx + g_test_rand_int_range(-40, 41) : g_test_rand_int_range(0, 700);
    int dy = g_test_rand_bit() ? sy + g_test_rand_int_range(-30, 31) : g_test_rand_int_range(0, 700);
    dx = CLAMP(dx, 0, 800);
    dy = CLAMP(dy, 0, 800);
    bool incx = !(dx > sx), incy = !(dy > sy);
    eng_w(e, 0x86E8, (uint32_t)(incx ? sx : sx + w - 1));
    eng_w(e, 0x82E8, (uint32_t)(incy ? sy : sy + h - 1));
    eng_w(e, 0x8EE8, (uint32_t)(incx ? dx : dx + w - 1));
    eng_w(e, 0x8AE8, (uint32_t)(incy ? dy : dy + h - 1));
    eng_w(e, 0x96E8, (uint32_t)(w - 1));
    eng_w(e, 0xBEE8, (uint32_t)(h - 1));
    eng_w(e, 0x9AE8, 0xC000 | CMD_DRAW_ | (incx ? 0x20 : 0) | (incy ? 0x80 : 0) | 0x1);
    /* The model: the source as it was, then the destination, except
     * where a write-masked or compared-away overlap changes what later
     * pixels read - walk in the same order to keep that exact. */
    for (int jj = 0; jj < h; jj++) {
        int j = incy ? jj : h - 1 - jj;
        for (int ii = 0; ii < w; ii++) {
            int i = incx ? ii : w - 1 - ii;
            uint32_t mem = model_get(mo, sx + i, sy + j);
            model_put(mo, dx + i, dy + j, sel == 3 ? (mem & mo->rm) != 0 : true, 0, mem);
        }
    }
}

/* Pattern fill from an 8x8 pattern below the drawing area. */
static void op_pattern(Eng *e)
{
    Model *mo = &e->mo;
    eng_state(e, false);
    unsigned sel = g_test_rand_bit() ? 3 : 0;
    if (sel == 0) {
        mo->fsrc = 3;
        eng_w(e, 0xBAE8, 3u << 5 | mo->fmix);
    }
    eng_pix_cntl(e, sel);
    int px = g_test_rand_int_range(0, 1000), py = g_test_rand_int_range(900, 1010);
    int dx = g_test_rand_int_range(0, 700), dy = g_test_rand_int_range(0, 700);
    int w = g_test_rand_int_range(1, 90), h = g_test_rand_int_range(1, 60);
    eng_w(e, 0x86E8, (uint32_t)px);
    eng_w(e, 0x82E8, (uint32_t)py);
    eng_w(e, 0x8EE8, (uint32_t)dx);
    eng_w(e, 0x8AE8, (uint32_t)dy);
    eng_w(e, 0x96E8, (uint32_t)(w - 1));
    eng_w(e, 0xBEE8, (uint32_t)(h - 1));
    eng_w(e, 0x9AE8, 0xE000 | CMD_DRAW_ | 0x20 | 0x80 | 0x1);
    for (int j = 0; j < h; j++)
        for (int i = 0; i < w; i++) {
            uint32_t mem = model_get(mo, px + (i % 8), py + (j % 8));
            model_put(mo, dx + i, dy + j, sel == 3 ? (mem & mo->rm) != 0 : true, 0, mem);
        }
}

/* A Bresenham line between two points: the minor coordinate of pixel i
 * is i * minor / major rounded half up, the major one steps by one. */
static void op_line(Eng *e)
{
    Model *mo = &e->mo;
    eng_state(e, false);
    eng_pix_cntl(e, 0);
    int x0 = g_test_rand_int_range(0, 800), y0 = g_test_rand_int_range(0, 800);
    int x1 = x0 + g_test_rand_int_range(-200, 201), y1 = y0 + g_test_rand_int_range(-200, 201);
    x1 = CLAMP(x1, 0, 900);     /* (CLAMP evaluates its argument more than once) */
    y1 = CLAMP(y1, 0, 900);
    int adx = abs(x1 - x0), ady = abs(y1 - y0);
    int sx = x1 >= x0 ? 1 : -1, sy = y1 >= y0 ? 1 : -1;
    bool ymaj = ady > adx;
    int maj = ymaj ? ady : adx, min = ymaj ? adx : ady;
    bool lpn = g_test_rand_bit();
    eng_w(e, 0x86E8, (uint32_t)x0);
    eng_w(e, 0x82E8, (uint32_t)y0);
    eng_w(e, 0x96E8, (uint32_t)maj);
    eng_w(e, 0x8AE8, (uint32_t)(2 * min) & 0x3FFF);
    eng_w(e, 0x8EE8, (uint32_t)(2 * (min - maj)) & 0x3FFF);
    eng_w(e, 0x92E8, (uint32_t)(2 * min - maj) & 0x3FFF);
    eng_w(e, 0x9AE8, 0x2000 | CMD_DRAW_ | (sx > 0 ? 0x20 : 0) | (sy > 0 ? 0x80 : 0) |
                     (ymaj ? 0x40 : 0) | (lpn ? 0x04 : 0) | 0x1);
    for (int i = 0; i <= maj; i++) {
        if (lpn && i == maj)
            break;
        int minor = maj ? (2 * i * min + maj) / (2 * maj) : 0;
        int x = ymaj ? x0 + sx * minor : x0 + sx * i;
        int y = ymaj ? y0 + sy * i : y0 + sy * minor;
        uint32_t mem = model_get(mo, x, y);
        model_put(mo, x, y, true, 0, mem);
    }
    /* The engine leaves CUR_X/CUR_Y at the end point. */
    uint16_t cx = eng_r(e, 0x86E8), cy = eng_r(e, 0x82E8);
    g_assert_cmpint(cx, ==, x1);
    g_assert_cmpint(cy, ==, y1);
}

/* CPU to screen: monochrome bits choose the mix (PIX_CNTL 2), 16-bit
 * transfers, each row padded to a whole transfer; or colour pixels with
 * 32-bit transfers. */
static void op_cpu(Eng *e)
{
    Model *mo = &e->mo;
    eng_state(e, true);
    bool mono = g_test_rand_bit();
    int x = g_test_rand_int_range(0, 700), y = g_test_rand_int_range(0, 700);
    int w = g_test_rand_int_range(1, 70), h = g_test_rand_int_range(1, 40);
    bool swap = g_test_rand_bit();
    if (mono) {
        mo->fsrc = 1;
        mo->bsrc = 0;
        eng_w(e, 0xBAE8, 1u << 5 | mo->fmix);
        eng_w(e, 0xB6E8, 0u << 5 | mo->bmix);
        eng_pix_cntl(e, 2);
    } else {
        mo->fsrc = 2;
        eng_w(e, 0xBAE8, 2u << 5 | mo->fmix);
        eng_pix_cntl(e, 0);
    }
    eng_w(e, 0x86E8, (uint32_t)x);
    eng_w(e, 0x82E8, (uint32_t)y);
    eng_w(e, 0x96E8, (uint32_t)(w - 1));
    eng_w(e, 0xBEE8, (uint32_t)(h - 1));
    unsigned bus = mono ? 1 : 2;                 /* 16-bit or 32-bit transfers */
    eng_w(e, 0x9AE8, 0x4000 | (swap ? 0x1000 : 0) | bus << 9 | 0x100 | CMD_DRAW_ | 0x20 | 0x80 |
                     (mono ? 0x02 : 0) | 0x1);
    uint16_t st = eng_r(e, 0x9AE8);
    g_assert_true(st & 0x200);                   /* busy: waiting for data */
    for (int j = 0; j < h; j++) {
        if (mono) {
            /* bytes in display order b0 b1 per 16-bit transfer */
            int nwords = (w + 15) / 16;
            for (int k = 0; k < nwords; k++) {
                uint8_t b0 = (uint8_t)g_test_rand_int(), b1 = (uint8_t)g_test_rand_int();
                uint16_t word = swap ? (uint16_t)(b0 | b1 << 8) : (uint16_t)(b1 | b0 << 8);
                if (e->mmio)
                    tess_mem_write(e->m, NEW_MMIO + (uint32_t)g_test_rand_int_range(0, 0x4000) * 2, word, 2);
                else
                    th_outw(e->m, 0xE2E8, word);
                for (int bit = 0; bit < 16; bit++) {
                    int i = k * 16 + bit;
                    if (i >= w)
                        break;
                    uint8_t by = bit < 8 ? b0 : b1;
                    bool on = (by >> (7 - (bit & 7))) & 1;
                    uint32_t mem = model_get(mo, x + i, y + j);
                    model_put(mo, x + i, y + j, on, 0, mem);
                }
            }
        } else {
            unsigned per = 4 / mo->bpp;
            int ndw = (w + (int)per - 1) / (int)per;
            for (int k = 0; k < ndw; k++) {
                uint32_t dw = g_test_rand_int();
                if (e->mmio)
                    tess_mem_write(e->m, NEW_MMIO + (uint32_t)g_test_rand_int_range(0, 0x2000) * 4, dw, 4);
                else
                    th_outl(e->m, 0xE2E8, dw);
                for (unsigned p = 0; p < per; p++) {
                    int i = k * (int)per + (int)p;
                    if (i >= w)
                        break;
                    uint32_t c = (uint32_t)((uint64_t)dw >> (8 * mo->bpp * p)) & mo->mask;
                    uint32_t mem = model_get(mo, x + i, y + j);
                    model_put(mo, x + i, y + j, true, c, mem);
                }
            }
        }
    }
    st = eng_r(e, 0x9AE8);
    g_assert_false(st & 0x200);
}

/* ---- CPU data through PIX_TRANS, every way ------------------------------------ */

/* The data book's rules as the model applies them: CMD bits 10:9 give the
 * transfer's width (8, 16, 32 bits; 3 is 32 too). A write carries its low
 * bytes, as many as a transfer takes; narrower writes fill a transfer in
 * the order they come. Colour data: pixels low byte first, straddling
 * transfers when they are wider. Monochrome: bits most significant first
 * in each byte, the transfer's high byte first (low byte first with BYTE
 * SWAP). Each row begins a new transfer; a line is one row. */
typedef struct Xfer {
    Eng *e;
    unsigned bus;                      /* bytes a transfer */
    bool swap;
} Xfer;

static void xfer_write(Xfer *x, unsigned size, uint32_t v)
{
    Eng *e = x->e;
    if (e->mmio) {
        uint32_t at = (uint32_t)g_test_rand_int_range(0, (int)(0x8000 / size)) * size;
        tess_mem_write(e->m, NEW_MMIO + at, v, size);
    } else if (size == 4) {
        th_outl(e->m, 0xE2E8, v);
    } else {
        uint16_t port = g_test_rand_bit() ? 0xE2E8 : 0xE2EA;
        if (size == 2)
            th_outw(e->m, port, (uint16_t)v);
        else
            th_outb(e->m, port, (uint8_t)v);
    }
}

/* One transfer, t[0] the first byte to arrive (the lowest of a write). */
static void xfer_send(Xfer *x, const uint8_t *t)
{
    unsigned r = (unsigned)g_test_rand_int_range(0, 6), ws = x->bus;
    if (r == 0 && x->bus < 4)
        ws = x->bus * 2;               /* a wider write: its high bytes ignored */
    else if (r == 1 && x->bus > 1)
        ws = x->bus / 2;               /* narrower writes fill the transfer */
    if (ws >= x->bus) {
        uint32_t v = g_test_rand_int();
        for (unsigned i = 0; i < x->bus; i++)
            v = (v & ~(0xFFu << (8 * i))) | (uint32_t)t[i] << (8 * i);
        xfer_write(x, ws, ws == 4 ? v : v & ((1u << (8 * ws)) - 1));
        return;
    }
    for (unsigned k = 0; k < x->bus; k += ws) {
        uint32_t v = 0;
        for (unsigned i = 0; i < ws; i++)
            v |= (uint32_t)t[k + i] << (8 * i);
        xfer_write(x, ws, v);
    }
}

/* A row of n units (bits or pixels) in random data; returns it in out[]. */
static void xfer_row(Xfer *x, bool mono, unsigned bpp, unsigned n, uint32_t *out)
{
    unsigned bytes = mono ? (n + 7) / 8 : n * bpp;
    unsigned len = (bytes + x->bus - 1) / x->bus * x->bus;
    g_autofree uint8_t *d = g_malloc(len);          /* display order */
    for (unsigned i = 0; i < len; i++)
        d[i] = (uint8_t)g_test_rand_int();
    for (unsigned i = 0; i < n; i++) {
        if (mono) {
            out[i] = (d[i / 8] >> (7 - i % 8)) & 1;
        } else {
            uint32_t c = 0;
            for (unsigned k = 0; k < bpp; k++)
                c |= (uint32_t)d[i * bpp + k] << (8 * k);
            out[i] = c;
        }
    }
    for (unsigned k = 0; k < len; k += x->bus) {
        uint8_t t[4];
        for (unsigned i = 0; i < x->bus; i++)
            t[i] = (mono && !x->swap) ? d[k + x->bus - 1 - i] : d[k + i];
        xfer_send(x, t);
    }
}

/* A rectangle fill, BitBLT or Bresenham line fed through PIX_TRANS. */
static void op_xfer(Eng *e)
{
    Model *mo = &e->mo;
    eng_state(e, true);
    bool mono = g_test_rand_int_range(0, 3) != 0;
    unsigned sel;
    if (mono) {
        sel = g_test_rand_int_range(0, 4) ? 2 : g_test_rand_bit() ? 3 : 0;
    } else {
        sel = g_test_rand_bit() ? 0 : 3;
        mo->fsrc = 2;
        eng_w(e, 0xBAE8, 2u << 5 | mo->fmix);
    }
    eng_pix_cntl(e, sel);
    Xfer x = { e, 0, g_test_rand_bit() };
    unsigned busf = (unsigned)g_test_rand_int_range(0, 4);
    x.bus = busf == 0 ? 1 : busf == 1 ? 2 : 4;
    unsigned op = (unsigned)g_test_rand_int_range(0, 3);   /* rect, BitBLT, line */
    uint16_t cmd = (uint16_t)((x.swap ? 0x1000 : 0) | busf << 9 | 0x100 | CMD_DRAW_ | 0x1 |
                              (mono ? 0x02 : 0));
    g_autofree uint32_t *units = g_new(uint32_t, 4096);
    if (op < 2) {
        int w = g_test_rand_int_range(1, 70), h = g_test_rand_int_range(1, 30);
        bool incx = g_test_rand_bit(), incy = g_test_rand_bit();
        int sx = incx ? 1 : -1, sy = incy ? 1 : -1;
        int x0 = g_test_rand_int_range(100, 700), y0 = g_test_rand_int_range(100, 700);
        int dx0 = g_test_rand_int_range(100, 700), dy0 = g_test_rand_int_range(100, 700);
        eng_w(e, 0x86E8, (uint32_t)x0);
        eng_w(e, 0x82E8, (uint32_t)y0);
        if (op == 1) {
            eng_w(e, 0x8EE8, (uint32_t)dx0);
            eng_w(e, 0x8AE8, (uint32_t)dy0);
        }
        eng_w(e, 0x96E8, (uint32_t)(w - 1));
        eng_w(e, 0xBEE8, (uint32_t)(h - 1));
        eng_w(e, 0x9AE8, (op ? 0xC000u : 0x4000u) | cmd | (incx ? 0x20 : 0) | (incy ? 0x80 : 0));
        g_assert_true(eng_r(e, 0x9AE8) & 0x200);
        for (int j = 0; j < h; j++) {
            xfer_row(&x, mono, mo->bpp, (unsigned)w, units);
            for (int i = 0; i < w; i++) {
                int px = x0 + sx * i, py = y0 + sy * j;       /* source (a fill: itself) */
                int qx = op ? dx0 + sx * i : px, qy = op ? dy0 + sy * j : py;
                uint32_t mem = model_get(mo, px, py);
                bool fg = sel == 2 ? units[i] != 0 : sel == 3 ? (mem & mo->rm) != 0 : true;
                model_put(mo, qx, qy, fg, mono ? 0 : units[i], mem);
            }
        }
        g_assert_cmphex(eng_r(e, 0x9AE8) & 0x600, ==, 0x400);    /* idle, FIFO empty */
        g_assert_cmpint(eng_r(e, 0x82E8), ==, y0 + sy * h);
        if (op == 1)
            g_assert_cmpint(eng_r(e, 0x8AE8) & 0xFFF, ==, dy0 + sy * h);
        return;
    }
    int x0 = g_test_rand_int_range(0, 800), y0 = g_test_rand_int_range(0, 800);
    int x1 = x0 + g_test_rand_int_range(-200, 201), y1 = y0 + g_test_rand_int_range(-200, 201);
    x1 = CLAMP(x1, 0, 900);
    y1 = CLAMP(y1, 0, 900);
    int adx = abs(x1 - x0), ady = abs(y1 - y0);
    int sx = x1 >= x0 ? 1 : -1, sy = y1 >= y0 ? 1 : -1;
    bool ymaj = ady > adx, lpn = g_test_rand_bit();
    int maj = ymaj ? ady : adx, min = ymaj ? adx : ady;
    eng_w(e, 0x86E8, (uint32_t)x0);
    eng_w(e, 0x82E8, (uint32_t)y0);
    eng_w(e, 0x96E8, (uint32_t)maj);
    eng_w(e, 0x8AE8, (uint32_t)(2 * min) & 0x3FFF);
    eng_w(e, 0x8EE8, (uint32_t)(2 * (min - maj)) & 0x3FFF);
    eng_w(e, 0x92E8, (uint32_t)(2 * min - maj) & 0x3FFF);
    eng_w(e, 0x9AE8, 0x2000u | cmd | (sx > 0 ? 0x20 : 0) | (sy > 0 ? 0x80 : 0) |
                     (ymaj ? 0x40 : 0) | (lpn ? 0x04 : 0));
    xfer_row(&x, mono, mo->bpp, (unsigned)maj + 1, units);
    for (int i = 0; i <= maj; i++) {
        if (lpn && i == maj)
            break;
        int minor = maj ? (2 * i * min + maj) / (2 * maj) : 0;
        int px = ymaj ? x0 + sx * minor : x0 + sx * i;
        int py = ymaj ? y0 + sy * i : y0 + sy * minor;
        uint32_t mem = model_get(mo, px, py);
        bool fg = sel == 2 ? units[i] != 0 : sel == 3 ? (mem & mo->rm) != 0 : true;
        model_put(mo, px, py, fg, mono ? 0 : units[i], mem);
    }
    g_assert_cmphex(eng_r(e, 0x9AE8) & 0x600, ==, 0x400);
    g_assert_cmpint(eng_r(e, 0x86E8), ==, x1);
    g_assert_cmpint(eng_r(e, 0x82E8), ==, y1);
}

/* ---- screen to CPU: image reads through PIX_TRANS ------------------------------- */

/* One PIX_TRANS read of `size` bytes, at a port or anywhere in the MMIO
 * window's image transfer area. */
static uint32_t xfer_read(Eng *e, unsigned size)
{
    if (e->mmio) {
        uint32_t at = (uint32_t)g_test_rand_int_range(0, (int)(0x8000 / size)) * size;
        return (uint32_t)tess_mem_read(e->m, NEW_MMIO + at, size);
    }
    if (size == 4)
        return th_inl(e->m, 0xE2E8);
    uint16_t port = g_test_rand_bit() ? 0xE2E8 : 0xE2EA;
    return size == 2 ? th_inw(e->m, port) : th_inb(e->m, port);
}

/* The model's side of a read: the rectangle's rows as the data book
 * frames CPU colour data (pixels low byte first, straddling transfers,
 * each row padded with zeros to a whole transfer), compared byte for byte
 * with what reads of random widths return (a read takes as many bytes as
 * a transfer holds, zeros above; the bytes stream on in order across
 * transfers, zeros past the image's end). Video memory must not change,
 * though PIX_TRANS writes come in between. */
static void op_read(Eng *e)
{
    Model *mo = &e->mo;
    eng_state(e, false);                         /* masks, mixes, scissors: ignored */
    unsigned busf = (unsigned)g_test_rand_int_range(0, 4);
    unsigned bus = busf == 0 ? 1 : busf == 1 ? 2 : 4;
    int w = g_test_rand_int_range(1, 60), h = g_test_rand_int_range(1, 25);
    bool incx = g_test_rand_bit(), incy = g_test_rand_bit();
    int sx = incx ? 1 : -1, sy = incy ? 1 : -1;
    int x0 = g_test_rand_int_range(100, 700), y0 = g_test_rand_int_range(100, 700);
    eng_w(e, 0x86E8, (uint32_t)x0);
    eng_w(e, 0x82E8, (uint32_t)y0);
    eng_w(e, 0x96E8, (uint32_t)(w - 1));
    eng_w(e, 0xBEE8, (uint32_t)(h - 1));
    eng_w(e, 0x9AE8, 0x4000u | busf << 9 | 0x100 | (g_test_rand_bit() ? CMD_DRAW_ : 0) |
                     (incx ? 0x20 : 0) | (incy ? 0x80 : 0));
    g_assert_cmphex(eng_r(e, 0x9AE8) & 0x300, ==, 0x300);        /* busy, data ready */
    unsigned rowlen = ((unsigned)w * mo->bpp + bus - 1) / bus * bus;
    g_autofree uint8_t *want = g_malloc0((size_t)rowlen * (unsigned)h);
    for (int j = 0; j < h; j++)
        for (int i = 0; i < w; i++) {
            uint32_t px = model_get(mo, x0 + sx * i, y0 + sy * j);
            for (unsigned k = 0; k < mo->bpp; k++)
                want[(size_t)j * rowlen + (unsigned)i * mo->bpp + k] = (uint8_t)(px >> (8 * k));
        }
    size_t total = (size_t)rowlen * (unsigned)h, at = 0;
    while (at < total) {
        unsigned r = (unsigned)g_test_rand_int_range(0, 4);
        unsigned size = r == 0 && bus < 4 ? bus * 2 : r == 1 && bus > 1 ? bus / 2 : bus;
        if (g_test_rand_int_range(0, 8) == 0) {
            Xfer x = { e, bus, false };
            xfer_write(&x, bus, g_test_rand_int() & (bus == 4 ? ~0u : (1u << (8 * bus)) - 1));
        }
        uint32_t v = xfer_read(e, size);
        unsigned n = MIN(size, bus);
        for (unsigned k = 0; k < size; k++) {
            uint8_t got = (uint8_t)(v >> (8 * k));
            uint8_t exp = k < n && at + k < total ? want[at + k] : 0;
            if (got != exp)
                g_error("image read %dx%d at %d,%d (%u bpp, %u-byte transfers): byte %zu "
                        "of %zu read %02x, should be %02x", w, h, x0, y0, mo->bpp * 8, bus,
                        at + k, total, got, exp);
        }
        at += n;
        if (at < total)
            g_assert_true(eng_r(e, 0x9AE8) & 0x100);
    }
    g_assert_cmphex(eng_r(e, 0x9AE8) & 0x700, ==, 0x400);        /* idle, nothing to read */
    g_assert_cmpint(eng_r(e, 0x82E8), ==, (y0 + sy * h) & 0xFFF);
    /* Nothing waits: a read gives the idle bus's ones. */
    g_assert_cmphex(xfer_read(e, 2), ==, 0xFFFF);
}

/* Short-stroke vectors (9EE8h): two a word, the high byte first unless
 * BYTE SWAP; each of bits 3:0 pixels in the radial direction of bits 7:5
 * (45 degree steps counter-clockwise from +X), drawn with bit 4, from
 * CUR_X/CUR_Y, which end on the vector's last pixel (not drawn with LAST
 * PIXEL OFF). */
static void op_stroke(Eng *e)
{
    static const int ddx[8] = { 1, 1, 0, -1, -1, -1, 0, 1 };
    static const int ddy[8] = { 0, -1, -1, -1, 0, 1, 1, 1 };
    Model *mo = &e->mo;
    eng_state(e, false);
    eng_pix_cntl(e, 0);
    int x = g_test_rand_int_range(250, 750), y = g_test_rand_int_range(250, 750);
    bool lpn = g_test_rand_bit(), swap = g_test_rand_bit();
    eng_w(e, 0x86E8, (uint32_t)x);
    eng_w(e, 0x82E8, (uint32_t)y);
    eng_w(e, 0x9AE8, (swap ? 0x1000u : 0) | 0x08 | (lpn ? 0x04 : 0) | 0x1);   /* NOP, radial */
    int words = g_test_rand_int_range(1, 8);
    for (int k = 0; k < words; k++) {
        uint16_t w = (uint16_t)g_test_rand_int();
        if (!e->mmio && g_test_rand_bit()) {
            th_outb(e->m, 0x9EE8, (uint8_t)w);          /* stored */
            th_outb(e->m, 0x9EE9, (uint8_t)(w >> 8));   /* drawn */
        } else {
            eng_w(e, 0x9EE8, w);
        }
        uint8_t v[2] = { (uint8_t)(w >> 8), (uint8_t)w };
        if (swap) {
            v[0] = (uint8_t)w;
            v[1] = (uint8_t)(w >> 8);
        }
        for (int s = 0; s < 2; s++) {
            int d = v[s] >> 5, len = v[s] & 15;
            for (int i = 0; i <= len; i++) {
                if ((v[s] & 0x10) && !(lpn && i == len)) {
                    uint32_t mem = model_get(mo, x, y);
                    model_put(mo, x, y, true, 0, mem);
                }
                if (i == len)
                    break;
                x += ddx[d];
                y += ddy[d];
            }
        }
    }
    g_assert_cmpint(eng_r(e, 0x86E8), ==, x);
    g_assert_cmpint(eng_r(e, 0x82E8), ==, y);
}

static void eng_compare(Eng *e, const char *what, unsigned n)
{
    if (memcmp(e->vram, e->mo.mem, e->mo.size)) {
        for (size_t i = 0; i < e->mo.size; i++)
            if (e->vram[i] != e->mo.mem[i]) {
                size_t px = i / e->mo.bpp;
                g_error("after %s #%u at %u bpp: byte %zu (pixel %zu,%zu): device %02x, model %02x",
                        what, n, e->mo.bpp * 8, i, px % e->mo.width, px / e->mo.width,
                        e->vram[i], e->mo.mem[i]);
            }
    }
}

/* `shown`: in a 640x480 mode at that depth with the engine 640 pixels
 * wide, rendering after every command through a view (which redraws
 * only what the dirty log says changed) and in full, the two compared. */
static void engine_run_as(unsigned bytespp, bool mmio, bool packed, unsigned iterations, bool shown)
{
    TessMachine *m = th_machine(S3_FRAG_ATTRS(""));
    s3t_setup(m);
    Eng e = { .m = m, .vram = s3t_vram(m), .mmio = mmio || packed, .packed = packed };
    e.mo.bpp = bytespp;
    e.mo.width = shown ? 640 : 1024;
    e.mo.mask = bytespp == 4 ? 0xFFFFFFFFu : (1u << (8 * bytespp)) - 1;
    e.mo.size = 4u << 20;
    VtScreen full = { 0 }, inc = { 0 };
    TessDisplayView *view = NULL;
    if (shown) {
        vt_load_dac(m);
        S3tMode md = s3t_640x480;
        md.bpp = bytespp * 8;
        s3t_set_mode(m, &md, 0);
        full = vt_screen(m, "vga");
        inc = vt_screen(m, "vga");
        vt_screen_alloc(&full, 640, 480);
        vt_screen_alloc(&inc, 640, 480);
        view = inc.ops->view_new(inc.src);
    }
    uint8_t cr50 = (bytespp == 1 ? 0x00 : bytespp == 2 ? 0x10 : 0x30) | (shown ? 0x40 : 0x00);
    vt_cr(m, 0x50, cr50);
    if (e.mmio)
        vt_cr(m, 0x53, 0x08);
    for (size_t i = 0; i < e.mo.size; i++)
        e.vram[i] = (uint8_t)(g_test_rand_int() >> 7);
    e.mo.mem = g_memdup2(e.vram, e.mo.size);
    static const struct { const char *name; void (*fn)(Eng *); } ops[] = {
        { "rectangle fill", op_rect }, { "BitBLT", op_blt }, { "pattern fill", op_pattern },
        { "line", op_line }, { "CPU transfer", op_cpu }, { "PIX_TRANS command", op_xfer },
        { "PIX_TRANS command", op_xfer }, { "short strokes", op_stroke },
        { "image read", op_read },
    };
    for (unsigned n = 0; n < iterations; n++) {
        unsigned k = (unsigned)g_test_rand_int_range(0, G_N_ELEMENTS(ops));
        if (shown)
            inc.ops->render(inc.src, view, &inc.surf, NULL);
        ops[k].fn(&e);
        eng_compare(&e, ops[k].name, n);
        if (shown) {
            inc.ops->render(inc.src, view, &inc.surf, NULL);
            full.ops->render(full.src, NULL, &full.surf, NULL);
            for (unsigned y = 0; y < 480; y++)
                for (unsigned x = 0; x < 640; x++)
                    if (vt_px(&inc, x, y) != vt_px(&full, x, y))
                        g_error("after %s #%u: pixel %u,%u not redrawn (%06x, should be %06x)",
                                ops[k].name, n, x, y, vt_px(&inc, x, y), vt_px(&full, x, y));
        }
    }
    if (shown) {
        inc.ops->view_free(inc.src, view);
        vt_screen_free(&inc);
        vt_screen_free(&full);
    }
    g_free(e.mo.mem);
    th_machine_free(m);
}

static void engine_run(unsigned bytespp, bool mmio, bool packed, unsigned iterations)
{
    engine_run_as(bytespp, mmio, packed, iterations, false);
}

/* The engine's writes reach the dirty log the renderer trusts. */
static void test_engine_dirty(void)
{
    engine_run_as(1, false, false, 120, true);
    engine_run_as(2, false, true, 80, true);
}

static void test_engine_8(void) { engine_run(1, false, false, 400); }
static void test_engine_16(void) { engine_run(2, false, false, 400); }
static void test_engine_32(void) { engine_run(4, false, false, 400); }
static void test_engine_mmio(void) { engine_run(2, true, false, 250); }
static void test_engine_mmio32(void) { engine_run(4, true, false, 200); }
static void test_engine_packed(void) { engine_run(1, false, true, 250); }
static void test_engine_packed32(void) { engine_run(4, false, true, 200); }

/* The packed registers as double words (the first named in the low
 * word), read back through the ports; a fill started by ALT_CMD; byte
 * writes into them; GP_STAT there. */
static void test_packed_pairs(void)
{
    TessMachine *m = th_machine(S3_FRAG_ATTRS(""));
    s3t_setup(m);
    vt_cr(m, 0x53, 0x08);
    uint8_t *vram = s3t_vram(m);
    memset(vram, 0, 1 << 20);
    const uint64_t r = NEW_MMIO;
    tess_mem_write(m, r + 0x8100, 17u << 16 | 5, 4);          /* ALT_CURXY: X 17, Y 5 */
    tess_mem_write(m, r + 0x8108, 300u << 16 | 200, 4);       /* ALT_STEP */
    tess_mem_write(m, r + 0x8148, 9u << 16 | 2, 4);           /* ALT_PCNT: 10 wide, 3 high */
    tess_mem_write(m, r + 0x8134, 0x27u << 16 | 0x03, 4);     /* ALT_MIX: fg S from FRGD */
    tess_mem_write(m, r + 0x8138, 3u << 16 | 4, 4);           /* SCISSORS: L 3, T 4 */
    tess_mem_write(m, r + 0x813C, 20u << 16 | 6, 4);          /* R 20, B 6 */
    tess_mem_write(m, r + 0x8124, 0x11223344u, 4);            /* FRGD_COLOR whole */
    tess_mem_write(m, r + 0x8128, 0xFFFFFFFFu, 4);
    tess_mem_write(m, r + 0x8144, 0x0004u << 16 | 0x0000, 4); /* MULT_MISC 0, READ_SEL 4 */
    g_assert_cmpuint(th_inw(m, 0x86E8), ==, 17);
    g_assert_cmpuint(th_inw(m, 0x82E8), ==, 5);
    g_assert_cmpuint(th_inw(m, 0x8EE8), ==, 300);
    g_assert_cmpuint(th_inw(m, 0x8AE8), ==, 200);
    g_assert_cmpuint(th_inw(m, 0x96E8), ==, 9);
    g_assert_cmphex(th_inw(m, 0xBAE8), ==, 0x27);
    g_assert_cmphex(th_inw(m, 0xB6E8), ==, 0x03);
    g_assert_cmphex(th_inw(m, 0xBEE8), ==, 0x4000 | 20);       /* READ_SEL 4: SCISSORS_R */
    g_assert_cmphex(tess_mem_read(m, r + 0x8124, 4), ==, 0x11223344u);
    g_assert_cmphex(tess_mem_read(m, r + 0x8100, 4), ==, 17u << 16 | 5);
    /* a byte into the high half of FRGD_COLOR */
    tess_mem_write(m, r + 0x8127, 0x99, 1);
    g_assert_cmphex(tess_mem_read(m, r + 0x8124, 4), ==, 0x99223344u);
    tess_mem_write(m, r + 0x8124, 0x5C, 4);
    /* ALT_CMD: a fill of 10 x 3 from (17, 5), clipped to x <= 20, y <= 6 */
    tess_mem_write(m, r + 0x8118, 0x40B1, 4);
    g_assert_cmphex(tess_mem_read(m, r + 0x8118, 2) & 0x600, ==, 0x400);
    for (unsigned y = 0; y < 10; y++)
        for (unsigned x = 0; x < 30; x++) {
            bool in = y >= 5 && y <= 6 && x >= 17 && x <= 20;
            g_assert_cmphex(vram[y * 1024 + x], ==, in ? 0x5C : 0);
        }
    g_assert_cmpuint(th_inw(m, 0x82E8), ==, 8);               /* CUR_Y moved past it */
    /* a short-stroke pair through 811Ch: 3 pixels right, then 2 down */
    tess_mem_write(m, r + 0x8100, 40u << 16 | 40, 4);
    tess_mem_write(m, r + 0x8138, 0, 4);
    tess_mem_write(m, r + 0x813C, 0x0FFF0FFFu, 4);
    tess_mem_write(m, r + 0x8118, 0x0009, 2);                 /* NOP, radial, write */
    tess_mem_write(m, r + 0x811C, 0x13u << 8 | 0xD2, 2);      /* 0 deg len 3; 270 deg len 2 */
    static const unsigned px[][2] = { { 40, 40 }, { 41, 40 }, { 42, 40 }, { 43, 40 },
                                      { 43, 41 }, { 43, 42 } };
    for (size_t i = 0; i < G_N_ELEMENTS(px); i++)
        g_assert_cmphex(vram[px[i][1] * 1024 + px[i][0]], ==, 0x5C);
    g_assert_cmphex(vram[39 * 1024 + 43], ==, 0);
    g_assert_cmpuint(th_inw(m, 0x86E8), ==, 43);
    g_assert_cmpuint(th_inw(m, 0x82E8), ==, 42);
    th_machine_free(m);
}

/* The legacy MMIO window at A0000 (CR53 bit 4): registers at A8000 +
 * (port & 0x7FFF), image data below. */
static void test_legacy_mmio(void)
{
    TessMachine *m = th_machine(S3_FRAG_ATTRS(""));
    s3t_setup(m);
    vt_set_mode(m, &vt_mode13);
    uint8_t *vram = s3t_vram(m);
    memset(vram, 0, 1 << 20);
    vt_cr(m, 0x53, 0x10);
    tess_mem_write(m, 0xA0000 + 0xA6E8, 0x5C, 2);         /* FRGD_COLOR */
    tess_mem_write(m, 0xA0000 + 0xBAE8, 0x27, 2);         /* FRGD_MIX: frgd colour, S */
    tess_mem_write(m, 0xA0000 + 0x86E8, 10, 2);
    tess_mem_write(m, 0xA0000 + 0x82E8, 3, 2);
    tess_mem_write(m, 0xA0000 + 0x96E8, 4, 2);
    tess_mem_write(m, 0xA0000 + 0xBEE8, 1, 2);
    tess_mem_write(m, 0xA0000 + 0x9AE8, 0x40B1, 2);
    for (unsigned y = 0; y < 6; y++)
        for (unsigned x = 0; x < 20; x++) {
            bool in = y >= 3 && y <= 4 && x >= 10 && x <= 14;
            g_assert_cmphex(vram[y * 1024 + x], ==, in ? 0x5C : 0);
        }
    /* The VGA memory behind it is not reached meanwhile; off again, it is. */
    tess_mem_write(m, 0xA0000, 0x77, 1);
    g_assert_cmphex(vram[0], ==, 0);
    vt_cr(m, 0x53, 0x00);
    tess_mem_write(m, 0xA0000, 0x77, 1);
    g_assert_cmphex(vram[0], ==, 0x77);
    th_machine_free(m);
}

/* ---- DDC ---------------------------------------------------------------------- */

/* I2C bit-banged through the serial port at new MMIO FF20h, as the
 * kernel's i2c-algo-bit does for s3fb: bit 0 SCL out, 1 SDA out, 2 SCL
 * in, 3 SDA in, 4 drive enable. */
typedef struct I2c { TessMachine *m; uint8_t out; } I2c;

static void i2c_set(I2c *b, bool scl, bool sda)
{
    b->out = (uint8_t)(0x10 | (scl ? 1 : 0) | (sda ? 2 : 0));
    tess_mem_write(b->m, S3_LFB + 0x1000000u + 0xFF20, b->out, 1);
}

static bool i2c_sda(I2c *b)
{
    return tess_mem_read(b->m, S3_LFB + 0x1000000u + 0xFF20, 1) & 0x08;
}

static void i2c_start(I2c *b)
{
    i2c_set(b, true, true);
    i2c_set(b, true, false);
    i2c_set(b, false, false);
}

static void i2c_stop(I2c *b)
{
    i2c_set(b, false, false);
    i2c_set(b, true, false);
    i2c_set(b, true, true);
}

/* Send a byte; true when the slave acknowledged. */
static bool i2c_send(I2c *b, uint8_t v)
{
    for (int i = 7; i >= 0; i--) {
        i2c_set(b, false, (v >> i) & 1);
        i2c_set(b, true, (v >> i) & 1);
        i2c_set(b, false, (v >> i) & 1);
    }
    i2c_set(b, false, true);
    i2c_set(b, true, true);
    bool ack = !i2c_sda(b);
    i2c_set(b, false, true);
    return ack;
}

static uint8_t i2c_recv(I2c *b, bool ack)
{
    uint8_t v = 0;
    for (int i = 0; i < 8; i++) {
        i2c_set(b, false, true);
        i2c_set(b, true, true);
        v = (uint8_t)(v << 1 | i2c_sda(b));
    }
    i2c_set(b, false, true);
    i2c_set(b, false, !ack);
    i2c_set(b, true, !ack);
    i2c_set(b, false, !ack);
    return v;
}

static void test_ddc(void)
{
    TessMachine *m = th_machine(S3_FRAG_ATTRS(""));
    s3t_setup(m);
    vt_cr(m, 0x53, 0x08);                       /* new MMIO on */
    I2c b = { m, 0 };
    /* Nobody at 0x37 (the DDC/CI address): no acknowledge. */
    i2c_start(&b);
    g_assert_false(i2c_send(&b, 0x37 << 1));
    i2c_stop(&b);
    /* Offset 0, then read 128 bytes. */
    uint8_t edid[128];
    for (unsigned pass = 0; pass < 2; pass++) {
        i2c_start(&b);
        g_assert_true(i2c_send(&b, 0xA0));
        g_assert_true(i2c_send(&b, 0x00));
        i2c_start(&b);                          /* repeated start */
        g_assert_true(i2c_send(&b, 0xA1));
        for (unsigned i = 0; i < 128; i++)
            edid[i] = i2c_recv(&b, i < 127);
        i2c_stop(&b);
        static const uint8_t hdr[8] = { 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00 };
        g_assert_cmpmem(edid, 8, hdr, 8);
        uint8_t sum = 0;
        for (unsigned i = 0; i < 128; i++)
            sum = (uint8_t)(sum + edid[i]);
        g_assert_cmpuint(sum, ==, 0);
        g_assert_cmphex(edid[0x12], ==, 1);      /* EDID 1.3 */
        g_assert_cmphex(edid[0x13], ==, 3);
        g_assert_true(edid[0x23] & 0x20);        /* 640x480@60 */
        g_assert_true(edid[0x24] & 0x08);        /* 1024x768@60 */
    }
    th_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/s3/ids", test_ids);
    g_test_add_func("/s3/bad-config", test_bad_config);
    g_test_add_func("/s3/banking", test_banking);
    g_test_add_func("/s3/packed-modes", test_packed_modes);
    g_test_add_func("/s3/cursor", test_cursor);
    g_test_add_func("/s3/engine/8bpp", test_engine_8);
    g_test_add_func("/s3/engine/16bpp", test_engine_16);
    g_test_add_func("/s3/engine/32bpp", test_engine_32);
    g_test_add_func("/s3/engine/new-mmio", test_engine_mmio);
    g_test_add_func("/s3/engine/new-mmio-32bpp", test_engine_mmio32);
    g_test_add_func("/s3/engine/packed", test_engine_packed);
    g_test_add_func("/s3/engine/packed-32bpp", test_engine_packed32);
    g_test_add_func("/s3/engine/dirty-log", test_engine_dirty);
    g_test_add_func("/s3/legacy-mmio", test_legacy_mmio);
    g_test_add_func("/s3/packed-registers", test_packed_pairs);
    g_test_add_func("/s3/ddc", test_ddc);
    return g_test_run();
}
