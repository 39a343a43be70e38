/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VGA mode tests: program each mode as a BIOS does, draw a known pattern
 * through the CPU window or the linear framebuffer, render through the
 * "display-source" interface and compare every pixel with the picture the
 * test computes from the pattern and the register values.
 */
#include "video-test.h"

#define VGA_FRAG "<device type='vga' id='vga'/>"

/* Attribute path: 4-bit pixel -> palette register -> DAC index -> RGB. */
static uint32_t attr_rgb(const VgaModeRegs *r, unsigned idx4)
{
    uint8_t pal = r->ar[idx4 & r->ar[0x12] & 0xF];
    unsigned idx = (r->ar[0x10] & 0x80) ? (pal & 0x0Fu) | (r->ar[0x14] & 3u) << 4 : pal & 0x3Fu;
    idx |= (r->ar[0x14] & 0x0Cu) << 4;
    return vt_dac_rgb(idx);
}

static unsigned count_mismatches(const VtScreen *s, unsigned w, unsigned h,
                                 uint32_t (*expect)(unsigned x, unsigned y, void *ctx), void *ctx)
{
    unsigned bad = 0;
    for (unsigned y = 0; y < h; y++)
        for (unsigned x = 0; x < w; x++) {
            uint32_t e = expect(x, y, ctx), got = vt_px(s, x, y);
            if (e != got && bad++ < 5)
                g_test_message("pixel %u,%u: expected %06x, got %06x", x, y, e, got);
        }
    return bad;
}

/* ---- text ------------------------------------------------------------------ */

typedef struct TextCtx {
    const VgaModeRegs *r;
    unsigned cols, cw;
    unsigned cur_col, cur_row;
    bool cursor_on, blink_off;
} TextCtx;

static uint8_t text_ch(unsigned i) { return (uint8_t)(i * 7 + 1); }
static uint8_t text_at(unsigned i) { return (uint8_t)((i * 11 + 0x1E) & 0xFF); }

static uint32_t expect_text(unsigned x, unsigned y, void *opaque)
{
    TextCtx *c = opaque;
    unsigned col = x / c->cw, dot = x % c->cw, row = y / 16, rs = y % 16;
    unsigned i = row * c->cols + col;
    uint8_t ch = text_ch(i), at = text_at(i);
    unsigned fg = at & 0xF, bg = (at >> 4) & 7;      /* AR10 blink enabled */
    uint8_t glyph = vt_glyph(0, ch, rs);
    bool cursor = c->cursor_on && col == c->cur_col && row == c->cur_row && rs >= 13 && rs <= 14;
    if ((at & 0x80) && c->blink_off)
        fg = bg;
    if (cursor) {
        fg = at & 0xF;
        return attr_rgb(c->r, fg);
    }
    bool on;
    if (dot < 8)
        on = glyph & (0x80 >> dot);
    else
        on = ch >= 0xC0 && ch <= 0xDF && (glyph & 1);   /* AR10 line graphics */
    return attr_rgb(c->r, on ? fg : bg);
}

static void fill_text(TessMachine *m, unsigned cells)
{
    for (unsigned i = 0; i < cells; i++) {
        tess_mem_write(m, 0xB8000 + 2 * i, text_ch(i), 1);
        tess_mem_write(m, 0xB8000 + 2 * i + 1, text_at(i), 1);
    }
}

static void set_cursor(TessMachine *m, unsigned pos)
{
    vt_cr(m, 0x0E, (uint8_t)(pos >> 8));
    vt_cr(m, 0x0F, (uint8_t)pos);
}

static void test_text80(void)
{
    TessMachine *m = th_machine(VGA_FRAG);
    vt_set_mode(m, &vt_mode03);
    vt_load_dac(m);
    vt_load_font(m, 0, 16);
    fill_text(m, 80 * 25);
    set_cursor(m, 5 * 80 + 10);
    VtScreen s = vt_screen(m, "vga");
    TessDisplayMode md = vt_render(&s);
    g_assert_cmpint(md.kind, ==, TESS_DISPLAY_TEXT);
    g_assert_cmpuint(md.width, ==, 720);
    g_assert_cmpuint(md.height, ==, 400);
    g_assert_cmpuint(md.cols, ==, 80);
    g_assert_cmpuint(md.rows, ==, 25);
    g_assert_cmpuint(md.cell_w, ==, 9);
    g_assert_cmpuint(md.cell_h, ==, 16);
    g_assert_cmpint(md.cursor_col, ==, 10);
    g_assert_cmpint(md.cursor_row, ==, 5);
    g_assert_cmpuint(md.aspect_w, ==, 4);
    g_assert_cmpuint(md.aspect_h, ==, 3);
    /* 28.322 MHz / (100 x 9) / 449 lines = 70.086 Hz */
    g_assert_cmpuint(md.refresh_mhz, >=, 70080);
    g_assert_cmpuint(md.refresh_mhz, <=, 70090);
    TextCtx c = { &vt_mode03, 80, 9, 10, 5, true, false };
    g_assert_cmpuint(count_mismatches(&s, 720, 400, expect_text, &c), ==, 0);

    /* Frames 8-15: cursor off; frames 16-31: blinking characters off. */
    uint64_t frame_ns = TESS_NS_PER_SEC * 1000 / md.refresh_mhz;
    th_advance(m, frame_ns * 8 + frame_ns / 2);
    vt_render(&s);
    c.cursor_on = false;
    g_assert_cmpuint(count_mismatches(&s, 720, 400, expect_text, &c), ==, 0);
    th_advance(m, frame_ns * 8);
    vt_render(&s);
    c.cursor_on = true;
    c.blink_off = true;
    g_assert_cmpuint(count_mismatches(&s, 720, 400, expect_text, &c), ==, 0);

    /* Cells come back as stored. */
    TessDisplayCell cells[80 * 25];
    g_assert_cmpuint(s.ops->get_text(s.src, cells, G_N_ELEMENTS(cells)), ==, 2000);
    for (unsigned i = 0; i < 2000; i++) {
        g_assert_cmpuint(cells[i].ch, ==, text_ch(i));
        g_assert_cmpuint(cells[i].attr, ==, text_at(i));
    }
    vt_screen_free(&s);
    th_machine_free(m);
}

static void test_text40(void)
{
    TessMachine *m = th_machine(VGA_FRAG);
    vt_set_mode(m, &vt_mode01);
    vt_load_dac(m);
    vt_load_font(m, 0, 16);
    fill_text(m, 40 * 25);
    set_cursor(m, 24 * 40 + 39);
    VtScreen s = vt_screen(m, "vga");
    TessDisplayMode md = vt_render(&s);
    g_assert_cmpuint(md.width, ==, 360);
    g_assert_cmpuint(md.cols, ==, 40);
    g_assert_cmpint(md.cursor_row, ==, 24);
    TextCtx c = { &vt_mode01, 40, 9, 39, 24, true, false };
    g_assert_cmpuint(count_mismatches(&s, 360, 400, expect_text, &c), ==, 0);
    vt_screen_free(&s);
    th_machine_free(m);
}

/* SR03 selects two fonts; attribute bit 3 chooses map A. */
static void test_font_select(void)
{
    TessMachine *m = th_machine(VGA_FRAG);
    vt_set_mode(m, &vt_mode03);
    vt_load_dac(m);
    vt_load_font(m, 0, 16);
    vt_load_font(m, 5, 16);
    vt_sr(m, 3, 0x24);              /* map A = 5 (bit 5 + bits 3:2 = 01), map B = 0 */
    tess_mem_write(m, 0xB8000, 'A', 1);
    tess_mem_write(m, 0xB8001, 0x0F, 1);    /* bit 3 set: map A */
    tess_mem_write(m, 0xB8002, 'A', 1);
    tess_mem_write(m, 0xB8003, 0x07, 1);    /* map B */
    vt_cr(m, 0x0A, 0x20);                    /* cursor off */
    VtScreen s = vt_screen(m, "vga");
    vt_render(&s);
    for (unsigned rs = 0; rs < 16; rs++)
        for (unsigned dot = 0; dot < 8; dot++) {
            bool a = vt_glyph(5, 'A', rs) & (0x80 >> dot);
            bool b = vt_glyph(0, 'A', rs) & (0x80 >> dot);
            g_assert_cmphex(vt_px(&s, dot, rs), ==, attr_rgb(&vt_mode03, a ? 0xF : 0));
            g_assert_cmphex(vt_px(&s, 9 + dot, rs), ==, attr_rgb(&vt_mode03, b ? 0x7 : 0));
        }
    vt_screen_free(&s);
    th_machine_free(m);
}

/* ---- 16-colour planar --------------------------------------------------- */

static uint8_t plane_pat(unsigned p, unsigned off) { return (uint8_t)((off * (p + 3)) ^ (p * 0x55) ^ (off >> 5)); }

static uint32_t expect_planar12(unsigned x, unsigned y, void *opaque)
{
    unsigned off = y * 80 + x / 8, bit = 7 - x % 8, idx = 0;
    for (unsigned p = 0; p < 4; p++)
        idx |= ((plane_pat(p, off) >> bit) & 1u) << p;
    return attr_rgb(&vt_mode12, idx);
}

static void test_planar12(void)
{
    TessMachine *m = th_machine(VGA_FRAG);
    vt_set_mode(m, &vt_mode12);
    vt_load_dac(m);
    for (unsigned p = 0; p < 4; p++) {
        vt_sr(m, 2, (uint8_t)(1 << p));
        for (unsigned off = 0; off < 80 * 480; off++)
            tess_mem_write(m, 0xA0000 + off, plane_pat(p, off), 1);
    }
    vt_sr(m, 2, 0x0F);
    VtScreen s = vt_screen(m, "vga");
    TessDisplayMode md = vt_render(&s);
    g_assert_cmpuint(md.width, ==, 640);
    g_assert_cmpuint(md.height, ==, 480);
    g_assert_cmpuint(md.depth, ==, 4);
    g_assert_cmpuint(md.refresh_mhz, >=, 59900);
    g_assert_cmpuint(md.refresh_mhz, <=, 59960);
    g_assert_cmpuint(count_mismatches(&s, 640, 480, expect_planar12, NULL), ==, 0);

    /* Read mode 0 with Read Map Select gives each plane back. */
    for (unsigned p = 0; p < 4; p++) {
        vt_gr(m, 4, (uint8_t)p);
        for (unsigned off = 0; off < 300; off += 7)
            g_assert_cmphex(tess_mem_read(m, 0xA0000 + off, 1), ==, plane_pat(p, off));
    }
    vt_screen_free(&s);
    th_machine_free(m);
}

static uint8_t read_plane(TessMachine *m, unsigned p, uint32_t off)
{
    vt_gr(m, 5, 0x00);
    vt_gr(m, 4, (uint8_t)p);
    return (uint8_t)tess_mem_read(m, 0xA0000 + off, 1);
}

static void set_planes(TessMachine *m, uint32_t off, const uint8_t v[4])
{
    vt_gr(m, 5, 0x00);
    vt_gr(m, 1, 0x00);
    vt_gr(m, 3, 0x00);
    vt_gr(m, 8, 0xFF);
    for (unsigned p = 0; p < 4; p++) {
        vt_sr(m, 2, (uint8_t)(1 << p));
        tess_mem_write(m, 0xA0000 + off, v[p], 1);
    }
    vt_sr(m, 2, 0x0F);
}

static void test_write_modes(void)
{
    TessMachine *m = th_machine(VGA_FRAG);
    vt_set_mode(m, &vt_mode12);
    static const uint8_t L[4] = { 0x0F, 0xF0, 0x33, 0xCC };
    set_planes(m, 0, L);

    /* Write mode 0 with set/reset on every plane and a bit mask: masked
     * bits come from the latches (loaded from offset 0). */
    (void)tess_mem_read(m, 0xA0000, 1);
    vt_gr(m, 0, 0x05);
    vt_gr(m, 1, 0x0F);
    vt_gr(m, 8, 0xF0);
    tess_mem_write(m, 0xA0001, 0x00, 1);
    for (unsigned p = 0; p < 4; p++) {
        uint8_t e = (uint8_t)(((0x05 >> p) & 1 ? 0xF0 : 0x00) | (L[p] & 0x0F));
        g_assert_cmphex(read_plane(m, p, 1), ==, e);
    }

    /* Write mode 0, rotate 4 and OR with the latches. */
    (void)tess_mem_read(m, 0xA0000, 1);
    vt_gr(m, 1, 0x00);
    vt_gr(m, 8, 0xFF);
    vt_gr(m, 3, (2 << 3) | 4);
    tess_mem_write(m, 0xA0002, 0x12, 1);
    vt_gr(m, 3, 0x00);
    for (unsigned p = 0; p < 4; p++)
        g_assert_cmphex(read_plane(m, p, 2), ==, L[p] | 0x21);

    /* Write mode 1: the latches as they are. */
    (void)tess_mem_read(m, 0xA0000, 1);
    vt_gr(m, 5, 0x01);
    tess_mem_write(m, 0xA0003, 0xAA, 1);
    for (unsigned p = 0; p < 4; p++)
        g_assert_cmphex(read_plane(m, p, 3), ==, L[p]);

    /* Write mode 2: data bits choose all-ones per plane, AND, bit mask. */
    (void)tess_mem_read(m, 0xA0000, 1);
    vt_gr(m, 5, 0x02);
    vt_gr(m, 3, 1 << 3);
    vt_gr(m, 8, 0x3C);
    tess_mem_write(m, 0xA0004, 0x09, 1);
    vt_gr(m, 3, 0x00);
    vt_gr(m, 8, 0xFF);
    for (unsigned p = 0; p < 4; p++) {
        uint8_t d = (0x09 >> p) & 1 ? 0xFF : 0x00;
        uint8_t e = (uint8_t)(((d & L[p]) & 0x3C) | (L[p] & ~0x3C));
        g_assert_cmphex(read_plane(m, p, 4), ==, e);
    }

    /* Write mode 3: rotated data ANDed with the bit mask is the mask;
     * set/reset is the data. */
    (void)tess_mem_read(m, 0xA0000, 1);
    vt_gr(m, 5, 0x03);
    vt_gr(m, 0, 0x06);
    vt_gr(m, 3, 0x01);
    vt_gr(m, 8, 0xF0);
    tess_mem_write(m, 0xA0005, 0x3C, 1);     /* ror 1 = 0x1E; mask 0x10 */
    vt_gr(m, 3, 0x00);
    vt_gr(m, 8, 0xFF);
    for (unsigned p = 0; p < 4; p++) {
        uint8_t d = (0x06 >> p) & 1 ? 0xFF : 0x00;
        uint8_t e = (uint8_t)((d & 0x10) | (L[p] & ~0x10));
        g_assert_cmphex(read_plane(m, p, 5), ==, e);
    }

    /* Read mode 1: colour compare with don't care. */
    vt_gr(m, 5, 0x08);
    vt_gr(m, 2, 0x05);
    vt_gr(m, 7, 0x0F);
    g_assert_cmphex(tess_mem_read(m, 0xA0000, 1), ==, 0x03);
    vt_gr(m, 7, 0x01);
    g_assert_cmphex(tess_mem_read(m, 0xA0000, 1), ==, 0x0F);
    vt_gr(m, 7, 0x00);
    g_assert_cmphex(tess_mem_read(m, 0xA0000, 1), ==, 0xFF);

    /* Memory map select: with map 1 (A0000, 64K) B8000 is not decoded. */
    g_assert_cmphex(tess_mem_read(m, 0xB8000, 1), ==, 0xFF);
    th_machine_free(m);
}

/* ---- 256 colours ----------------------------------------------------------- */

static uint8_t pix_pat(unsigned i) { return (uint8_t)(i * 31 + (i >> 8) * 7); }

static uint32_t expect_mode13(unsigned x, unsigned y, void *opaque)
{
    return vt_dac_rgb(pix_pat(y * 320 + x));
}

static void test_mode13(void)
{
    TessMachine *m = th_machine(VGA_FRAG);
    vt_set_mode(m, &vt_mode13);
    vt_load_dac(m);
    for (unsigned i = 0; i < 64000; i++)
        tess_mem_write(m, 0xA0000 + i, pix_pat(i), 1);
    VtScreen s = vt_screen(m, "vga");
    TessDisplayMode md = vt_render(&s);
    g_assert_cmpuint(md.width, ==, 320);
    g_assert_cmpuint(md.height, ==, 200);
    g_assert_cmpuint(md.depth, ==, 8);
    g_assert_cmpuint(count_mismatches(&s, 320, 200, expect_mode13, NULL), ==, 0);
    /* Chain-4 reads see the bytes written. */
    g_assert_cmphex(tess_mem_read(m, 0xA0000 + 12345, 1), ==, pix_pat(12345));

    /* The pel mask applies to the DAC index. */
    th_outb(m, 0x3C6, 0x0F);
    vt_render(&s);
    g_assert_cmphex(vt_px(&s, 7, 3), ==, vt_dac_rgb(pix_pat(3 * 320 + 7) & 0x0F));
    th_outb(m, 0x3C6, 0xFF);

    /* Chain-4 planes: pixel x lives in plane x & 3 at offset x >> 2. */
    vt_sr(m, 4, 0x06);
    vt_gr(m, 5, 0x40);
    vt_gr(m, 4, 2);
    g_assert_cmphex(tess_mem_read(m, 0xA0000 + 10, 1), ==, pix_pat(10 * 4 + 2));
    vt_screen_free(&s);
    th_machine_free(m);
}

typedef struct { unsigned start_row; unsigned split; } ModeXCtx;

static uint8_t mx_pat(unsigned plane, unsigned off) { return (uint8_t)(off * 3 + plane * 67 + (off >> 7)); }

static uint32_t expect_modex(unsigned x, unsigned y, void *opaque)
{
    ModeXCtx *c = opaque;
    unsigned row = y < c->split ? y + c->start_row : y - c->split;
    return vt_dac_rgb(mx_pat(x & 3, row * 80 + x / 4));
}

static void test_modex(void)
{
    TessMachine *m = th_machine(VGA_FRAG);
    vt_set_modex(m);
    vt_load_dac(m);
    for (unsigned p = 0; p < 4; p++) {
        vt_sr(m, 2, (uint8_t)(1 << p));
        for (unsigned off = 0; off < 65536; off++)
            tess_mem_write(m, 0xA0000 + off, mx_pat(p, off), 1);
    }
    VtScreen s = vt_screen(m, "vga");
    TessDisplayMode md = vt_render(&s);
    g_assert_cmpuint(md.width, ==, 320);
    g_assert_cmpuint(md.height, ==, 240);
    ModeXCtx c = { 0, 1000 };
    g_assert_cmpuint(count_mismatches(&s, 320, 240, expect_modex, &c), ==, 0);

    /* Page flip: start address at row 240. */
    unsigned start = 240 * 80;
    vt_cr(m, 0x0C, (uint8_t)(start >> 8));
    vt_cr(m, 0x0D, (uint8_t)start);
    vt_render(&s);
    c.start_row = 240;
    g_assert_cmpuint(count_mismatches(&s, 320, 240, expect_modex, &c), ==, 0);

    /* Split screen: line compare at scanline 200 (output line 100) shows
     * memory from address 0 below it. */
    vt_cr(m, 0x18, 200 & 0xFF);
    vt_cr(m, 0x07, (uint8_t)(vt_cr_read(m, 0x07) & ~0x10));
    vt_cr(m, 0x09, (uint8_t)(vt_cr_read(m, 0x09) & ~0x40));
    vt_render(&s);
    c.split = 100;
    g_assert_cmpuint(count_mismatches(&s, 320, 240, expect_modex, &c), ==, 0);
    vt_screen_free(&s);
    th_machine_free(m);
}

/* ---- CGA modes ---------------------------------------------------------------- */

static uint8_t cga_pat(unsigned y, unsigned b) { return (uint8_t)(y * 5 + b * 29 + (b >> 3)); }

static void cga_fill(TessMachine *m, unsigned bytes_per_line)
{
    for (unsigned y = 0; y < 200; y++)
        for (unsigned b = 0; b < bytes_per_line; b++)
            tess_mem_write(m, 0xB8000 + (y & 1) * 0x2000 + (y / 2) * bytes_per_line + b,
                           cga_pat(y, b), 1);
}

static uint32_t expect_cga4(unsigned x, unsigned y, void *opaque)
{
    uint8_t byte = cga_pat(y, x / 4);
    unsigned v = (byte >> (6 - 2 * (x % 4))) & 3;
    return attr_rgb(&vt_mode04, v);
}

static uint32_t expect_cga2(unsigned x, unsigned y, void *opaque)
{
    uint8_t byte = cga_pat(y, x / 8);
    return attr_rgb(&vt_mode06, (byte >> (7 - x % 8)) & 1);
}

static void test_cga(void)
{
    TessMachine *m = th_machine(VGA_FRAG);
    vt_set_mode(m, &vt_mode04);
    vt_load_dac(m);
    cga_fill(m, 80);
    VtScreen s = vt_screen(m, "vga");
    TessDisplayMode md = vt_render(&s);
    g_assert_cmpuint(md.width, ==, 320);
    g_assert_cmpuint(md.height, ==, 200);
    g_assert_cmpuint(md.depth, ==, 2);
    g_assert_cmpuint(count_mismatches(&s, 320, 200, expect_cga4, NULL), ==, 0);

    vt_set_mode(m, &vt_mode06);
    cga_fill(m, 80);
    md = vt_render(&s);
    g_assert_cmpuint(md.width, ==, 640);
    g_assert_cmpuint(md.height, ==, 200);
    g_assert_cmpuint(md.depth, ==, 1);
    g_assert_cmpuint(count_mismatches(&s, 640, 200, expect_cga2, NULL), ==, 0);
    vt_screen_free(&s);
    th_machine_free(m);
}

/* ---- attribute controller ------------------------------------------------- */

static void test_attribute(void)
{
    TessMachine *m = th_machine(VGA_FRAG);
    vt_set_mode(m, &vt_mode12);
    vt_load_dac(m);
    /* The flip-flop: reading 3DA resets it to "index". */
    (void)th_inb(m, 0x3DA);
    th_outb(m, 0x3C0, 0x05);
    th_outb(m, 0x3C0, 0x2A);
    g_assert_cmphex(th_inb(m, 0x3C1), ==, 0x2A);
    th_outb(m, 0x3C0, 0x06);             /* index again after the data */
    (void)th_inb(m, 0x3DA);
    th_outb(m, 0x3C0, 0x06);             /* reset: this is an index write */
    g_assert_cmphex(th_inb(m, 0x3C0), ==, 0x06);
    (void)th_inb(m, 0x3DA);
    th_outb(m, 0x3C0, 0x20);

    /* Pixel of colour 5 at (0,0): plane 0 and 2 bit 7. */
    static const uint8_t P[4] = { 0x80, 0x00, 0x80, 0x00 };
    set_planes(m, 0, P);
    VtScreen s = vt_screen(m, "vga");
    vt_render(&s);
    g_assert_cmphex(vt_px(&s, 0, 0), ==, vt_dac_rgb(0x2A));
    /* P54S with colour select: bits 5:4 from AR14 1:0, bits 7:6 from 3:2. */
    vt_ar(m, 0x10, 0x81);
    vt_ar(m, 0x14, 0x0E);
    vt_render(&s);
    g_assert_cmphex(vt_px(&s, 0, 0), ==, vt_dac_rgb(0xC0 | 0x20 | (0x2A & 0x0F)));
    vt_ar(m, 0x10, 0x01);
    vt_ar(m, 0x14, 0x00);
    /* Colour plane enable masks the pixel before the palette. */
    vt_ar(m, 0x12, 0x01);
    vt_render(&s);
    g_assert_cmphex(vt_px(&s, 0, 0), ==, vt_dac_rgb(0x01));
    vt_ar(m, 0x12, 0x0F);
    /* Horizontal pel panning by 3: pixel 0 is what was pixel 3. */
    static const uint8_t Q[4] = { 0x10, 0x00, 0x00, 0x00 };
    set_planes(m, 0, Q);
    vt_ar(m, 0x13, 3);
    vt_render(&s);
    g_assert_cmphex(vt_px(&s, 0, 0), ==, vt_dac_rgb(0x01));
    g_assert_cmphex(vt_px(&s, 1, 0), ==, vt_dac_rgb(0x00));
    /* Screen off (SR01 bit 5) blanks. */
    vt_sr(m, 1, 0x21);
    TessDisplayMode md;
    s.ops->get_mode(s.src, &md);
    g_assert_cmpint(md.kind, ==, TESS_DISPLAY_BLANK);
    g_assert_false(s.ops->render(s.src, NULL, &s.surf, NULL));
    g_assert_cmphex(vt_px(&s, 5, 5), ==, 0);
    vt_screen_free(&s);
    th_machine_free(m);
}

static void test_dac_and_regs(void)
{
    TessMachine *m = th_machine(VGA_FRAG);
    th_outb(m, 0x3C2, 0x67);
    g_assert_cmphex(th_inb(m, 0x3CC), ==, 0x67);
    /* DAC write index auto-increments after three components. */
    th_outb(m, 0x3C8, 0xFE);
    for (unsigned i = 0; i < 6; i++)
        th_outb(m, 0x3C9, (uint8_t)(i + 10));
    g_assert_cmphex(th_inb(m, 0x3C8), ==, 0x00);
    th_outb(m, 0x3C7, 0xFF);
    g_assert_cmphex(th_inb(m, 0x3C7), ==, 0x03);
    g_assert_cmphex(th_inb(m, 0x3C9), ==, 13);
    g_assert_cmphex(th_inb(m, 0x3C9), ==, 14);
    g_assert_cmphex(th_inb(m, 0x3C9), ==, 15);
    /* A 6-bit DAC keeps 6 bits. */
    th_outb(m, 0x3C8, 1);
    th_outb(m, 0x3C9, 0xFF);
    th_outb(m, 0x3C9, 0x40);
    th_outb(m, 0x3C9, 0x3F);
    th_outb(m, 0x3C7, 1);
    g_assert_cmphex(th_inb(m, 0x3C9), ==, 0x3F);
    g_assert_cmphex(th_inb(m, 0x3C9), ==, 0x00);
    g_assert_cmphex(th_inb(m, 0x3C9), ==, 0x3F);
    /* CRTC protect: CR11 bit 7 guards CR00-CR07 except CR07 bit 4. */
    vt_cr(m, 0x11, 0x80);
    vt_cr(m, 0x01, 0x4F);
    vt_cr(m, 0x07, 0xFF);
    g_assert_cmphex(vt_cr_read(m, 0x01), ==, 0x00);
    g_assert_cmphex(vt_cr_read(m, 0x07), ==, 0x10);
    /* MISC I/O address select: with mono addressing the CRTC is at 3B4. */
    th_outb(m, 0x3C2, 0x66);
    g_assert_cmphex(th_inb(m, 0x3D5), ==, 0xFF);
    th_outb(m, 0x3B4, 0x13);
    th_outb(m, 0x3B5, 0x28);
    g_assert_cmphex(th_inb(m, 0x3B5), ==, 0x28);
    th_machine_free(m);
}

/* ---- timing ------------------------------------------------------------------- */

/* Advance to `pos` ns into the next frame. */
static void goto_frame_pos(TessMachine *m, uint64_t frame_ns, uint64_t pos)
{
    uint64_t now = tess_clock_ns(m);
    th_advance(m, frame_ns - now % frame_ns + pos);
}

static void test_retrace(void)
{
    TessMachine *m = th_machine(VGA_FRAG);
    vt_set_mode(m, &vt_mode03);
    /* Mode 03h: 28.322 MHz dot clock, 100 characters of 9 dots per line,
     * 449 lines; 400 displayed, vertical retrace from line 0x19C until
     * the line counter's low nibble is CR11's 0xE (2 lines). */
    uint64_t line_ns = 100 * 9 * TESS_NS_PER_SEC / 28322000;
    uint64_t frame_ns = line_ns * 449;
    goto_frame_pos(m, frame_ns, line_ns / 10);
    g_assert_cmphex(th_inb(m, 0x3DA) & 0x09, ==, 0x00);     /* displaying */
    goto_frame_pos(m, frame_ns, line_ns * 0x19C + line_ns / 2);
    g_assert_cmphex(th_inb(m, 0x3DA) & 0x09, ==, 0x09);     /* retrace */
    goto_frame_pos(m, frame_ns, line_ns * 0x19E + line_ns / 2);
    g_assert_cmphex(th_inb(m, 0x3DA) & 0x09, ==, 0x01);     /* blank, no retrace */
    goto_frame_pos(m, frame_ns, line_ns * 10 + line_ns * 9 / 10);
    g_assert_cmphex(th_inb(m, 0x3DA) & 0x09, ==, 0x01);     /* horizontal blank */
    /* Over a whole frame, retrace is seen for 2 of 449 lines. */
    unsigned vr = 0, samples = 449 * 4;
    for (unsigned i = 0; i < samples; i++) {
        th_advance(m, frame_ns / samples);
        vr += (th_inb(m, 0x3DA) & 0x08) != 0;
    }
    g_assert_cmpuint(vr, >=, 7);
    g_assert_cmpuint(vr, <=, 9);
    th_machine_free(m);
}

typedef struct { unsigned frames; } FrameCount;

static void count_frame(void *opaque, TessDevice *src)
{
    ((FrameCount *)opaque)->frames++;
}

static const TessDisplayListener count_listener = { .frame = count_frame };

static void test_frames(void)
{
    TessMachine *m = th_machine(VGA_FRAG);
    vt_set_mode(m, &vt_mode13);
    VtScreen s = vt_screen(m, "vga");
    FrameCount fc = { 0 };
    s.ops->add_listener(s.src, &count_listener, &fc);
    th_advance(m, TESS_NS_PER_SEC);
    g_assert_cmpuint(fc.frames, >=, 69);
    g_assert_cmpuint(fc.frames, <=, 71);
    s.ops->remove_listener(s.src, &count_listener, &fc);
    th_advance(m, TESS_NS_PER_SEC);
    g_assert_cmpuint(fc.frames, <=, 71);
    th_machine_free(m);
}

/* A listener that renders (as a window does) on a still screen hears
 * every 4th frame once 16 frames in a row changed nothing, and every
 * frame again from the first one after the picture or a register changed
 * (at most 4 frames later); a text cursor's blink alone keeps it at every
 * 4th frame but shows on its frame. */
typedef struct {
    VtScreen *s;
    TessDisplayView *view;
    unsigned frames, changed;
    uint64_t last_change_ns;
    TessMachine *m;
} RenderCount;

static void render_frame(void *opaque, TessDevice *src)
{
    RenderCount *rc = opaque;
    TessDisplayUpdate upd;
    rc->s->ops->render(src, rc->view, &rc->s->surf, &upd);
    rc->frames++;
    if (upd.nrects) {
        rc->changed++;
        rc->last_change_ns = tess_clock_ns(rc->m);
    }
}

static const TessDisplayListener render_listener = { .frame = render_frame };

static void test_frames_still(void)
{
    TessMachine *m = th_machine(VGA_FRAG);
    vt_set_mode(m, &vt_mode13);
    VtScreen s = vt_screen(m, "vga");
    vt_screen_alloc(&s, 320, 200);
    RenderCount rc = { &s, s.ops->view_new(s.src), 0, 0, 0, m };
    s.ops->add_listener(s.src, &render_listener, &rc);
    th_advance(m, TESS_NS_PER_SEC / 2);                 /* settle */
    rc.frames = 0;
    th_advance(m, TESS_NS_PER_SEC);
    /* 70 frames a second, a quarter of them heard */
    g_assert_cmpuint(rc.frames, >=, 16);
    g_assert_cmpuint(rc.frames, <=, 19);
    /* A write to video memory shows within 4 frames, then every frame. */
    tess_mem_write(m, 0xA0000 + 1000, 0x2A, 1);
    uint64_t t0 = tess_clock_ns(m);
    rc.changed = 0;
    th_advance(m, 4 * TESS_NS_PER_SEC / 70 + 1000);
    g_assert_cmpuint(rc.changed, ==, 1);
    g_assert_cmpuint(rc.last_change_ns - t0, <=, 4 * TESS_NS_PER_SEC / 70 + 1000);
    rc.frames = 0;
    for (unsigned i = 0; i < 10; i++) {                 /* a change every frame */
        tess_mem_write(m, 0xA0000 + i, (uint8_t)i, 1);
        th_advance(m, TESS_NS_PER_SEC / 70);
    }
    g_assert_cmpuint(rc.frames, >=, 9);
    /* A register write alone brings every frame back too. */
    th_advance(m, TESS_NS_PER_SEC);
    rc.frames = 0;
    th_outb(m, 0x3C8, 0);
    th_advance(m, 4 * TESS_NS_PER_SEC / 70 + 1000);
    g_assert_cmpuint(rc.frames, ==, 1);                 /* the frame already due */
    rc.frames = 0;
    th_advance(m, 3 * TESS_NS_PER_SEC / 70 + 1000);
    g_assert_cmpuint(rc.frames, ==, 3);                 /* then every frame */
    /* Text: the blink shows on its frame (every 8), heard every 4th. */
    vt_set_mode(m, &vt_mode03);
    vt_screen_alloc(&s, 720, 400);
    vt_cr(m, 0x0A, 0x0D);
    vt_cr(m, 0x0B, 0x0E);
    th_advance(m, TESS_NS_PER_SEC);
    rc.frames = rc.changed = 0;
    th_advance(m, TESS_NS_PER_SEC);
    g_assert_cmpuint(rc.frames, >=, 16);
    g_assert_cmpuint(rc.frames, <=, 19);
    g_assert_cmpuint(rc.changed, >=, 8);                 /* 70 / 8 blink phases */
    g_assert_cmpuint(rc.changed, <=, 9);
    s.ops->remove_listener(s.src, &render_listener, &rc);
    s.ops->view_free(s.src, rc.view);
    vt_screen_free(&s);
    th_machine_free(m);
}

/* ---- VBE through DISPI ----------------------------------------------------- */

static uint32_t vbe_pat(unsigned x, unsigned y) { return (x * 0x010203u + y * 0x030201u) & 0xFFFFFF; }

static void test_vbe32(void)
{
    TessMachine *m = th_machine(VGA_FRAG);
    g_assert_cmphex(vt_dispi_read(m, 0), ==, 0xB0C5);
    vt_dispi(m, 0, 0xB0C0);
    g_assert_cmphex(vt_dispi_read(m, 0), ==, 0xB0C0);
    vt_dispi(m, 0, 0x1234);
    g_assert_cmphex(vt_dispi_read(m, 0), ==, 0xB0C0);
    g_assert_cmpuint(vt_dispi_read(m, 0xA), ==, 16 * 1024 / 64);
    vt_dispi(m, 4, 0x02);                         /* GETCAPS */
    g_assert_cmpuint(vt_dispi_read(m, 1), ==, 2560);
    g_assert_cmpuint(vt_dispi_read(m, 3), ==, 32);
    vt_dispi(m, 4, 0x00);

    vt_dispi(m, 1, 1024);
    vt_dispi(m, 2, 768);
    vt_dispi(m, 3, 32);
    vt_dispi(m, 4, 0x41);                         /* ENABLED | LFB_ENABLED */
    g_assert_cmpuint(vt_dispi_read(m, 6), ==, 1024);
    g_assert_cmpuint(vt_dispi_read(m, 7), ==, 16 * 1024 * 1024 / 4096);
    g_autofree uint32_t *row = g_new(uint32_t, 1024);
    for (unsigned y = 0; y < 768; y++) {
        for (unsigned x = 0; x < 1024; x++)
            row[x] = GUINT32_TO_LE(vbe_pat(x, y));
        g_assert_true(tess_dma_write(m, 0xE0000000 + y * 4096, row, 4096, NULL));
    }
    VtScreen s = vt_screen(m, "vga");
    TessDisplayMode md = vt_render(&s);
    g_assert_cmpint(md.kind, ==, TESS_DISPLAY_GRAPHICS);
    g_assert_cmpuint(md.width, ==, 1024);
    g_assert_cmpuint(md.height, ==, 768);
    g_assert_cmpuint(md.depth, ==, 32);
    g_assert_cmpuint(md.aspect_w, ==, 4);
    g_assert_cmpuint(md.aspect_h, ==, 3);
    unsigned bad = 0;
    for (unsigned y = 0; y < 768; y++)
        for (unsigned x = 0; x < 1024; x++)
            bad += vt_px(&s, x, y) != vbe_pat(x, y);
    g_assert_cmpuint(bad, ==, 0);

    /* Display start through X/Y offset. */
    vt_dispi(m, 9, 10);
    vt_dispi(m, 8, 3);
    vt_render(&s);
    g_assert_cmphex(vt_px(&s, 0, 0), ==, vbe_pat(3, 10));
    g_assert_cmphex(vt_px(&s, 100, 200), ==, vbe_pat(103, 210));
    /* Disabling returns to the VGA picture (blank: no VGA mode set). */
    vt_dispi(m, 4, 0x00);
    s.ops->get_mode(s.src, &md);
    g_assert_cmpint(md.kind, ==, TESS_DISPLAY_BLANK);
    vt_screen_free(&s);
    th_machine_free(m);
}

static void test_vbe_formats(void)
{
    TessMachine *m = th_machine(VGA_FRAG);
    VtScreen s = vt_screen(m, "vga");
    /* 8 bpp through the banked window at A0000, with the 6-bit DAC. */
    vt_load_dac(m);
    vt_dispi(m, 1, 640);
    vt_dispi(m, 2, 480);
    vt_dispi(m, 3, 8);
    vt_dispi(m, 4, 0x01);
    for (unsigned bank = 0; bank < 5; bank++) {
        vt_dispi(m, 5, (uint16_t)bank);
        for (unsigned i = 0; i < 65536; i += 4) {
            unsigned a = bank * 65536 + i;
            uint32_t v4 = pix_pat(a) | pix_pat(a + 1) << 8 | pix_pat(a + 2) << 16 |
                          (uint32_t)pix_pat(a + 3) << 24;
            tess_mem_write(m, 0xA0000 + i, v4, 4);
        }
    }
    TessDisplayMode md = vt_render(&s);
    g_assert_cmpuint(md.width, ==, 640);
    unsigned bad = 0;
    for (unsigned y = 0; y < 480; y++)
        for (unsigned x = 0; x < 640; x++)
            bad += vt_px(&s, x, y) != vt_dac_rgb(pix_pat(y * 640 + x));
    g_assert_cmpuint(bad, ==, 0);
    /* The bank window reads back. */
    vt_dispi(m, 5, 2);
    g_assert_cmphex(tess_mem_read(m, 0xA0000 + 77, 1), ==, pix_pat(2 * 65536 + 77));
    /* 8-bit DAC: values used as they are. */
    vt_dispi(m, 4, 0x21 | 0x80);
    th_outb(m, 0x3C8, pix_pat(0));
    th_outb(m, 0x3C9, 0xFF);
    th_outb(m, 0x3C9, 0x80);
    th_outb(m, 0x3C9, 0x01);
    vt_render(&s);
    g_assert_cmphex(vt_px(&s, 0, 0), ==, 0xFF8001);

    /* 16 bpp (5:6:5) and 15 bpp (5:5:5) and 24 bpp (B, G, R). */
    vt_dispi(m, 4, 0);
    vt_dispi(m, 3, 16);
    vt_dispi(m, 4, 0x41);
    uint16_t px16 = (uint16_t)(0x1F << 11 | 0x20 << 5 | 0x01);
    tess_mem_write(m, 0xE0000000 + 2 * (640 * 3 + 5), px16, 2);
    vt_render(&s);
    g_assert_cmphex(vt_px(&s, 5, 3), ==, 0xFF8208);
    vt_dispi(m, 4, 0);
    vt_dispi(m, 3, 15);
    vt_dispi(m, 4, 0x41);
    tess_mem_write(m, 0xE0000000 + 2 * (640 * 3 + 5), (0x1F << 10 | 0x10 << 5 | 0x01), 2);
    vt_render(&s);
    g_assert_cmphex(vt_px(&s, 5, 3), ==, 0xFF8408);
    vt_dispi(m, 4, 0);
    vt_dispi(m, 3, 24);
    vt_dispi(m, 4, 0x41);
    tess_mem_write(m, 0xE0000000 + 3 * (640 * 3 + 5), 0x11, 1);
    tess_mem_write(m, 0xE0000000 + 3 * (640 * 3 + 5) + 1, 0x22, 1);
    tess_mem_write(m, 0xE0000000 + 3 * (640 * 3 + 5) + 2, 0x33, 1);
    md = vt_render(&s);
    g_assert_cmpuint(md.depth, ==, 24);
    g_assert_cmphex(vt_px(&s, 5, 3), ==, 0x332211);
    /* Cleared on enable without NOCLEARMEM. */
    g_assert_cmphex(vt_px(&s, 6, 3), ==, 0);

    /* A mode that does not fit video memory is refused. */
    vt_dispi(m, 4, 0);
    vt_dispi(m, 1, 2560);
    vt_dispi(m, 2, 1600);
    vt_dispi(m, 3, 32);
    vt_dispi(m, 4, 0x41);
    g_assert_cmphex(vt_dispi_read(m, 4) & 1, ==, 1);   /* 16M: it fits exactly */
    vt_screen_free(&s);
    th_machine_free(m);

    m = th_machine("<device type='vga' id='vga' vram='4M'/>");
    vt_dispi(m, 1, 2560);
    vt_dispi(m, 2, 1600);
    vt_dispi(m, 3, 32);
    vt_dispi(m, 4, 0x41);
    g_assert_cmphex(vt_dispi_read(m, 4) & 1, ==, 0);
    th_machine_free(m);
}

/* ---- dirty tracking ----------------------------------------------------------- */

static unsigned upd_lines(const TessDisplayUpdate *u)
{
    unsigned n = 0;
    for (unsigned i = 0; i < u->nrects; i++)
        n += u->rects[i].h;
    return n;
}

static void test_dirty(void)
{
    TessMachine *m = th_machine(VGA_FRAG);
    VtScreen s = vt_screen(m, "vga");
    TessDisplayView *view = s.ops->view_new(s.src);
    TessDisplayUpdate u;

    /* Mode 13h through the CPU window. */
    vt_set_mode(m, &vt_mode13);
    vt_load_dac(m);
    vt_screen_alloc(&s, 320, 200);
    g_assert_true(s.ops->render(s.src, view, &s.surf, &u));
    g_assert_cmpuint(u.nrects, ==, 1);
    g_assert_cmpuint(u.rects[0].w, ==, 320);
    g_assert_cmpuint(u.rects[0].h, ==, 200);
    s.ops->render(s.src, view, &s.surf, &u);
    g_assert_cmpuint(u.nrects, ==, 0);
    tess_mem_write(m, 0xA0000 + 320 * 50 + 10, 0x42, 1);
    tess_mem_write(m, 0xA0000 + 320 * 51 + 10, 0x42, 1);
    tess_mem_write(m, 0xA0000 + 320 * 150, 0x43, 1);
    s.ops->render(s.src, view, &s.surf, &u);
    g_assert_cmpuint(u.nrects, ==, 2);
    g_assert_cmpuint(u.rects[0].y, ==, 50);
    g_assert_cmpuint(u.rects[0].h, ==, 2);
    g_assert_cmpuint(u.rects[1].y, ==, 150);
    g_assert_cmphex(vt_px(&s, 10, 51), ==, vt_dac_rgb(0x42));
    /* A palette change redraws everything. */
    th_outb(m, 0x3C8, 0x42);
    th_outb(m, 0x3C9, 1);
    th_outb(m, 0x3C9, 2);
    th_outb(m, 0x3C9, 3);
    s.ops->render(s.src, view, &s.surf, &u);
    g_assert_cmpuint(upd_lines(&u), ==, 200);

    /* 1024x768x32: writes to the LFB never reach the device. */
    vt_dispi(m, 1, 1024);
    vt_dispi(m, 2, 768);
    vt_dispi(m, 3, 32);
    vt_dispi(m, 4, 0x41);
    vt_screen_alloc(&s, 1024, 768);
    s.ops->render(s.src, view, &s.surf, &u);
    g_assert_cmpuint(upd_lines(&u), ==, 768);
    s.ops->render(s.src, view, &s.surf, &u);
    g_assert_cmpuint(u.nrects, ==, 0);
    uint32_t px = GUINT32_TO_LE(0x123456);
    g_assert_true(tess_dma_write(m, 0xE0000000 + 4096 * 700 + 4 * 1000, &px, 4, NULL));
    s.ops->render(s.src, view, &s.surf, &u);
    g_assert_cmpuint(u.nrects, ==, 1);
    g_assert_cmpuint(u.rects[0].y, ==, 700);
    g_assert_cmpuint(u.rects[0].h, ==, 1);
    g_assert_cmphex(vt_px(&s, 1000, 700), ==, 0x123456);
    /* Many scattered changes merge into at most TESS_DISPLAY_MAX_RECTS. */
    for (unsigned y = 0; y < 768; y += 3)
        tess_mem_write(m, 0xE0000000 + 4096ull * y, y + 1, 4);
    s.ops->render(s.src, view, &s.surf, &u);
    g_assert_cmpuint(u.nrects, >=, 1);
    g_assert_cmpuint(u.nrects, <=, TESS_DISPLAY_MAX_RECTS);
    for (unsigned y = 0; y < 768; y += 3) {
        bool in = false;
        for (unsigned i = 0; i < u.nrects; i++)
            in |= y >= u.rects[i].y && y < u.rects[i].y + u.rects[i].h;
        g_assert_true(in);
    }
    /* Another surface: full redraw. */
    VtScreen s2 = s;
    s2.surf.pixels = NULL;
    vt_screen_alloc(&s2, 1024, 768);
    s.ops->render(s.src, view, &s2.surf, &u);
    g_assert_cmpuint(upd_lines(&u), ==, 768);
    g_assert_cmphex(s2.surf.pixels[700 * 1024 + 1000], ==, 0x123456);
    vt_screen_free(&s2);
    s.ops->view_free(s.src, view);
    vt_screen_free(&s);
    th_machine_free(m);
}

/* A still text screen: nothing to draw between cursor phases (every 8
 * frames), then only the cursor's lines; a written cell redraws its row. */
static void test_dirty_text(void)
{
    TessMachine *m = th_machine(VGA_FRAG);
    vt_set_mode(m, &vt_mode03);
    vt_load_dac(m);
    vt_load_font(m, 0, 16);
    for (unsigned i = 0; i < 80 * 25; i++) {
        tess_mem_write(m, 0xB8000 + 2 * i, 'a' + i % 26, 1);
        tess_mem_write(m, 0xB8000 + 2 * i + 1, 0x07, 1);     /* no blinking cells */
    }
    set_cursor(m, 5 * 80 + 10);
    VtScreen s = vt_screen(m, "vga");
    TessDisplayMode md = vt_render(&s);
    uint64_t frame_ns = TESS_NS_PER_SEC * 1000 / md.refresh_mhz;
    TessDisplayView *view = s.ops->view_new(s.src);
    TessDisplayUpdate u;
    s.ops->render(s.src, view, &s.surf, &u);
    g_assert_cmpuint(upd_lines(&u), ==, 400);
    s.ops->render(s.src, view, &s.surf, &u);
    g_assert_cmpuint(u.nrects, ==, 0);
    th_advance(m, frame_ns * 3);                 /* same cursor phase */
    s.ops->render(s.src, view, &s.surf, &u);
    g_assert_cmpuint(u.nrects, ==, 0);

    tess_mem_write(m, 0xB8000 + 2 * (12 * 80 + 3), 'X', 1);
    s.ops->render(s.src, view, &s.surf, &u);
    g_assert_cmpuint(u.nrects, ==, 1);
    g_assert_cmpuint(u.rects[0].y, ==, 12 * 16);
    g_assert_cmpuint(u.rects[0].h, ==, 16);

    /* Frame 8: the cursor goes off, its two scan lines (13-14) redraw. */
    th_advance(m, frame_ns * 5 + frame_ns / 2);
    s.ops->render(s.src, view, &s.surf, &u);
    g_assert_cmpuint(u.nrects, ==, 1);
    g_assert_cmpuint(u.rects[0].y, ==, 5 * 16 + 13);
    g_assert_cmpuint(u.rects[0].h, ==, 2);
    uint32_t off[2][9];
    for (unsigned y = 0; y < 2; y++)
        for (unsigned x = 0; x < 9; x++)
            off[y][x] = vt_px(&s, 10 * 9 + x, 5 * 16 + 13 + y);
    s.ops->render(s.src, view, &s.surf, &u);
    g_assert_cmpuint(u.nrects, ==, 0);
    /* Frame 16: on again (blink phase too, but no cell blinks). */
    th_advance(m, frame_ns * 8);
    s.ops->render(s.src, view, &s.surf, &u);
    g_assert_cmpuint(u.nrects, ==, 1);
    g_assert_cmpuint(u.rects[0].y, ==, 5 * 16 + 13);
    g_assert_cmpuint(u.rects[0].h, ==, 2);
    unsigned changed = 0;
    for (unsigned y = 0; y < 2; y++)
        for (unsigned x = 0; x < 9; x++)
            changed += vt_px(&s, 10 * 9 + x, 5 * 16 + 13 + y) != off[y][x];
    g_assert_cmpuint(changed, >, 0);
    s.ops->view_free(s.src, view);
    vt_screen_free(&s);
    th_machine_free(m);
}

/* The fast path (an alias over the window in chain-4) and the slow path
 * agree, and the alias goes away when the write logic is needed. */
static void test_window_paths(void)
{
    TessMachine *m = th_machine(VGA_FRAG);
    vt_set_mode(m, &vt_mode13);
    TessMemPage pg = tess_mem_page(m, 0xA1000);
    g_assert_nonnull(pg.write);
    vt_gr(m, 8, 0x0F);                       /* bit mask: write logic active */
    pg = tess_mem_page(m, 0xA1000);
    g_assert_null(pg.write);
    tess_mem_write(m, 0xA0000, 0xAB, 1);     /* latches are 0: low nibble only */
    vt_gr(m, 8, 0xFF);
    g_assert_cmphex(tess_mem_read(m, 0xA0000, 1), ==, 0x0B);
    /* RAM disabled in MISC: nothing decodes. */
    th_outb(m, 0x3C2, 0x61);
    g_assert_cmphex(tess_mem_read(m, 0xA0000, 1), ==, 0xFF);
    th_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vga/text80", test_text80);
    g_test_add_func("/vga/text40", test_text40);
    g_test_add_func("/vga/font-select", test_font_select);
    g_test_add_func("/vga/planar12", test_planar12);
    g_test_add_func("/vga/write-modes", test_write_modes);
    g_test_add_func("/vga/mode13", test_mode13);
    g_test_add_func("/vga/modex", test_modex);
    g_test_add_func("/vga/cga", test_cga);
    g_test_add_func("/vga/attribute", test_attribute);
    g_test_add_func("/vga/dac-regs", test_dac_and_regs);
    g_test_add_func("/vga/retrace", test_retrace);
    g_test_add_func("/vga/frames", test_frames);
    g_test_add_func("/vga/frames-still", test_frames_still);
    g_test_add_func("/vga/vbe32", test_vbe32);
    g_test_add_func("/vga/vbe-formats", test_vbe_formats);
    g_test_add_func("/vga/dirty", test_dirty);
    g_test_add_func("/vga/dirty-text", test_dirty_text);
    g_test_add_func("/vga/window-paths", test_window_paths);
    return g_test_run();
}
