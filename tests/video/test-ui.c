/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The headless front end's control commands, called as the control
 * socket calls them: screenshot (read back with libpng and compared with
 * the picture computed from the pattern), screentext (code page 437 to
 * UTF-8) and sendkey (scan codes arriving at the i8042).
 */
#include "s3-test.h"

#include <stdio.h>
#include <unistd.h>
#include <sys/stat.h>
#include <png.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#define UI_FRAG "<device type='vga' id='vga'/><device type='ui-headless' id='display'/>"

/* Run a control command; returns the "result" string (or NULL) and the
 * ok flag. */
static char *ctl(TessMachine *m, bool *ok, const char *cmd, const char *arg)
{
    g_autoptr(GPtrArray) machines = g_ptr_array_new();
    g_ptr_array_add(machines, m);
    g_autofree char *line = arg
        ? g_strdup_printf("{\"cmd\":\"%s\",\"args\":[\"%s\"]}", cmd, arg)
        : g_strdup_printf("{\"cmd\":\"%s\"}", cmd);
    g_autofree char *reply = tess_control_handle_line(machines, line);
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, reply, -1, NULL));
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    *ok = json_object_get_boolean_member(o, "ok");
    const char *s = json_object_get_string_member_with_default(o, *ok ? "result" : "error", NULL);
    if (!*ok)
        g_test_message("%s: %s", cmd, s);
    return g_strdup(s);
}

/* Read a PNG into XRGB pixels. */
static uint32_t *read_png(const char *path, unsigned *w, unsigned *h)
{
    FILE *f = fopen(path, "rb");
    g_assert_nonnull(f);
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    g_assert_false(setjmp(png_jmpbuf(png)));
    png_init_io(png, f);
    png_read_info(png, info);
    *w = png_get_image_width(png, info);
    *h = png_get_image_height(png, info);
    g_assert_cmpint(png_get_color_type(png, info), ==, PNG_COLOR_TYPE_RGB);
    g_assert_cmpint(png_get_bit_depth(png, info), ==, 8);
    uint32_t *px = g_new(uint32_t, (size_t)*w * *h);
    g_autofree uint8_t *row = g_malloc((size_t)*w * 3);
    for (unsigned y = 0; y < *h; y++) {
        png_read_row(png, row, NULL);
        for (unsigned x = 0; x < *w; x++)
            px[y * *w + x] = (uint32_t)row[3 * x] << 16 | row[3 * x + 1] << 8 | row[3 * x + 2];
    }
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    return px;
}

static char *tmp_png(void)
{
    g_autofree char *dir = g_dir_make_tmp("tess-video-XXXXXX", NULL);
    g_assert_nonnull(dir);
    return g_build_filename(dir, "shot.png", NULL);
}

static void rm_tmp(const char *path)
{
    g_unlink(path);
    g_autofree char *dir = g_path_get_dirname(path);
    g_rmdir(dir);
}

static uint8_t pat13(unsigned i) { return (uint8_t)(i * 7 + (i >> 9)); }

static void test_screenshot_mode13(void)
{
    TessMachine *m = th_machine(UI_FRAG);
    vt_set_mode(m, &vt_mode13);
    vt_load_dac(m);
    for (unsigned i = 0; i < 64000; i++)
        tess_mem_write(m, 0xA0000 + i, pat13(i), 1);
    g_autofree char *path = tmp_png();
    bool ok;
    g_autofree char *res = ctl(m, &ok, "screenshot", path);
    g_assert_true(ok);
    g_assert_cmpstr(res, ==, "320x200");
    unsigned w, h;
    g_autofree uint32_t *px = read_png(path, &w, &h);
    g_assert_cmpuint(w, ==, 320);
    g_assert_cmpuint(h, ==, 200);
    unsigned bad = 0;
    for (unsigned i = 0; i < 64000; i++)
        bad += px[i] != vt_dac_rgb(pat13(i));
    g_assert_cmpuint(bad, ==, 0);
    rm_tmp(path);

    /* Errors come back as errors. */
    g_autofree char *e1 = ctl(m, &ok, "screenshot", "/nonexistent-dir/x.png");
    g_assert_false(ok);
    g_autofree char *e2 = ctl(m, &ok, "screentext", NULL);
    g_assert_false(ok);
    g_assert_nonnull(strstr(e2, "graphics"));
    th_machine_free(m);
}

/* The S3's hardware cursor is in the screenshot where the guest put it
 * (the cursor plane, composed by the front end). */
static void test_screenshot_cursor(void)
{
    TessMachine *m = th_machine(S3_FRAG_ATTRS("") "<device type='ui-headless' id='display'/>");
    s3t_setup(m);
    vt_load_dac(m);
    s3t_set_mode(m, &s3t_640x480, 0);
    uint8_t *vram = s3t_vram(m);
    for (unsigned i = 0; i < 640 * 480; i++)
        vram[i] = pat13(i);
    /* A 64x64 image at 2 MiB: an opaque foreground square in the top-left
     * 16x16 corner, inverted pixels in the next 16 columns, the rest
     * transparent. */
    unsigned base = 2u << 20;
    for (unsigned y = 0; y < 64; y++)
        for (unsigned g = 0; g < 4; g++) {
            uint8_t *p = &vram[base + y * 16 + g * 4];
            bool fgsq = y < 16 && g == 0, inv = y < 16 && g == 1;
            p[0] = p[1] = fgsq ? 0x00 : 0xFF;            /* AND */
            p[2] = p[3] = (fgsq || inv) ? 0xFF : 0x00;   /* XOR */
        }
    vt_cr(m, 0x4C, (uint8_t)((base >> 10) >> 8));
    vt_cr(m, 0x4D, (uint8_t)(base >> 10));
    (void)vt_cr_read(m, 0x45);
    vt_cr(m, 0x4A, 0xC3);
    vt_cr(m, 0x4B, 0x11);
    const unsigned cx = 500, cy = 300;
    vt_cr(m, 0x46, (uint8_t)(cx >> 8));
    vt_cr(m, 0x47, (uint8_t)cx);
    vt_cr(m, 0x48, (uint8_t)(cy >> 8));
    vt_cr(m, 0x49, (uint8_t)cy);
    vt_cr(m, 0x45, 0x01);
    g_autofree char *path = tmp_png();
    bool ok;
    g_autofree char *res = ctl(m, &ok, "screenshot", path);
    g_assert_true(ok);
    g_assert_cmpstr(res, ==, "640x480");
    unsigned w, h;
    g_autofree uint32_t *px = read_png(path, &w, &h);
    unsigned bad = 0;
    for (unsigned y = 0; y < 480; y++)
        for (unsigned x = 0; x < 640; x++) {
            uint32_t e = vt_dac_rgb(pat13(y * 640 + x));
            if (y >= cy && y < cy + 16 && x >= cx && x < cx + 16)
                e = vt_dac_rgb(0xC3);
            else if (y >= cy && y < cy + 16 && x >= cx + 16 && x < cx + 32)
                e ^= 0xFFFFFF;
            if (px[y * 640 + x] != e && bad++ < 5)
                g_test_message("pixel %u,%u: expected %06x, got %06x", x, y, e, px[y * 640 + x]);
        }
    g_assert_cmpuint(bad, ==, 0);
    rm_tmp(path);
    th_machine_free(m);
}

/* Where a screenshot may go: an absolute path to nothing or to a regular
 * file (replaced whole, through a temporary file). A relative path is
 * refused (it would resolve against the VM's directory, not the caller's:
 * `tessera ctl` sends absolute ones); a FIFO is refused at once rather than
 * opened (which blocked the machine); a link to a device is neither
 * written through nor deleted when the write fails. */
static void test_screenshot_targets(void)
{
    TessMachine *m = th_machine(UI_FRAG);
    vt_set_mode(m, &vt_mode13);
    vt_load_dac(m);
    g_autofree char *dir = g_dir_make_tmp("tess-shot-XXXXXX", NULL);
    bool ok;
    g_autofree char *e1 = ctl(m, &ok, "screenshot", "relative.png");
    g_assert_false(ok);
    g_assert_nonnull(strstr(e1, "absolute"));
    g_assert_false(g_file_test("relative.png", G_FILE_TEST_EXISTS));

    g_autofree char *fifo = g_build_filename(dir, "fifo.png", NULL);
    g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
    g_autofree char *e2 = ctl(m, &ok, "screenshot", fifo);
    g_assert_false(ok);
    g_assert_nonnull(strstr(e2, "not a regular file"));
    struct stat st;
    g_assert_cmpint(lstat(fifo, &st), ==, 0);
    g_assert_true(S_ISFIFO(st.st_mode));

    g_autofree char *link = g_build_filename(dir, "full.png", NULL);
    g_assert_cmpint(symlink("/dev/full", link), ==, 0);
    g_autofree char *e3 = ctl(m, &ok, "screenshot", link);
    g_assert_false(ok);
    g_assert_cmpint(lstat(link, &st), ==, 0);
    g_assert_true(S_ISLNK(st.st_mode));
    g_assert_cmpint(lstat("/dev/full", &st), ==, 0);

    /* A regular file is replaced; nothing else is left in the directory. */
    g_autofree char *file = g_build_filename(dir, "shot.png", NULL);
    g_assert_true(g_file_set_contents(file, "old", -1, NULL));
    g_autofree char *r = ctl(m, &ok, "screenshot", file);
    g_assert_true(ok);
    unsigned w, h;
    g_autofree uint32_t *px = read_png(file, &w, &h);
    g_assert_cmpuint(w, ==, 320);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    unsigned n = 0;
    for (const char *name; (name = g_dir_read_name(d)); n++)
        g_assert_false(name[0] == '.');
    g_assert_cmpuint(n, ==, 3);
    g_unlink(file);
    g_unlink(link);
    g_unlink(fifo);
    g_rmdir(dir);
    th_machine_free(m);
}

/* A text screen as the guest sees it: drawn with the font in plane 2. */
static void test_screenshot_text(void)
{
    TessMachine *m = th_machine(UI_FRAG);
    vt_set_mode(m, &vt_mode03);
    vt_load_dac(m);
    vt_load_font(m, 0, 16);
    for (unsigned i = 0; i < 2000; i++) {
        tess_mem_write(m, 0xB8000 + 2 * i, (uint8_t)(i * 3), 1);
        tess_mem_write(m, 0xB8000 + 2 * i + 1, (uint8_t)(0x1F + (i & 0x30)), 1);
    }
    vt_cr(m, 0x0A, 0x20);                   /* cursor off */
    g_autofree char *path = tmp_png();
    bool ok;
    g_autofree char *res = ctl(m, &ok, "screenshot", path);
    g_assert_true(ok);
    unsigned w, h;
    g_autofree uint32_t *px = read_png(path, &w, &h);
    g_assert_cmpuint(w, ==, 720);
    g_assert_cmpuint(h, ==, 400);
    unsigned bad = 0;
    for (unsigned y = 0; y < 400; y++)
        for (unsigned x = 0; x < 720; x++) {
            unsigned i = (y / 16) * 80 + x / 9, dot = x % 9;
            uint8_t ch = (uint8_t)(i * 3), at = (uint8_t)(0x1F + (i & 0x30));
            uint8_t glyph = vt_glyph(0, ch, y % 16);
            bool on = dot < 8 ? (glyph & (0x80 >> dot)) != 0
                              : (ch >= 0xC0 && ch <= 0xDF && (glyph & 1));
            unsigned c = on ? (at & 0xF) : ((at >> 4) & 7);
            /* mode 03h palette: 0-5 -> 0-5, 6 -> 0x14, 7 -> 7, 8-F -> 0x38-0x3F */
            static const uint8_t pal[16] = { 0, 1, 2, 3, 4, 5, 0x14, 7, 0x38, 0x39, 0x3A,
                                             0x3B, 0x3C, 0x3D, 0x3E, 0x3F };
            bad += px[y * 720 + x] != vt_dac_rgb(pal[c]);
        }
    g_assert_cmpuint(bad, ==, 0);
    rm_tmp(path);
    th_machine_free(m);
}

static void test_screentext(void)
{
    TessMachine *m = th_machine(UI_FRAG);
    vt_set_mode(m, &vt_mode03);
    /* Row 0: "Hi ╔═╗ ☺ ßÇ", row 2: "é", others blank. */
    static const uint8_t row0[] = { 'H', 'i', ' ', 0xC9, 0xCD, 0xBB, ' ', 0x01, ' ', 0xE1, 0x80 };
    for (unsigned i = 0; i < 2000; i++) {
        tess_mem_write(m, 0xB8000 + 2 * i, ' ', 1);
        tess_mem_write(m, 0xB8000 + 2 * i + 1, 0x07, 1);
    }
    for (unsigned i = 0; i < sizeof(row0); i++)
        tess_mem_write(m, 0xB8000 + 2 * i, row0[i], 1);
    tess_mem_write(m, 0xB8000 + 2 * (2 * 80 + 5), 0x82, 1);
    tess_mem_write(m, 0xB8000 + 2 * (24 * 80 + 79), 0xB0, 1);
    bool ok;
    g_autofree char *text = ctl(m, &ok, "screentext", NULL);
    g_assert_true(ok);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, 25);
    g_assert_cmpstr(lines[0], ==, "Hi \u2554\u2550\u2557 \u263A \u00DF\u00C7");
    g_assert_cmpstr(lines[1], ==, "");
    g_assert_cmpstr(lines[2], ==, "     \u00E9");
    g_assert_cmpuint(g_utf8_strlen(lines[24], -1), ==, 80);
    g_assert_true(g_str_has_suffix(lines[24], "\u2591"));
    th_machine_free(m);
}

static void test_sendkey(void)
{
    if (!tess_registry_lookup(th_registry(), "i8042")) {
        g_test_skip("the i8042 plugin is not built");
        return;
    }
    TessMachine *m = th_machine(UI_FRAG "<device type='i8042' id='kbc'/>");
    /* As a BIOS leaves it: translation to scan code set 1 on. */
    th_outb(m, 0x64, 0x60);
    th_outb(m, 0x60, 0x40);
    bool ok;
    g_autofree char *r1 = ctl(m, &ok, "sendkey", "shift-a");
    g_assert_true(ok);
    g_autofree char *r2 = ctl(m, &ok, "sendkey", "ret");
    g_assert_true(ok);
    uint8_t got[16];
    unsigned n = 0;
    for (unsigned t = 0; t < 200 && n < G_N_ELEMENTS(got); t++) {
        while ((th_inb(m, 0x64) & 1) && n < G_N_ELEMENTS(got))
            got[n++] = th_inb(m, 0x60);
        th_advance(m, 1000000);
    }
    /* Set 1: LShift 2A, A 1E, breaks with bit 7; Enter 1C. */
    static const uint8_t want[] = { 0x2A, 0x1E, 0x9E, 0xAA, 0x1C, 0x9C };
    g_assert_cmpuint(n, ==, sizeof(want));
    g_assert_cmpmem(got, n, want, sizeof(want));
    /* Unknown names send nothing. */
    g_autofree char *r3 = ctl(m, &ok, "sendkey", "ctrl-nosuchkey");
    g_assert_false(ok);
    th_advance(m, 100000000);
    g_assert_cmphex(th_inb(m, 0x64) & 1, ==, 0);
    th_machine_free(m);
}

/* Every key name sendkey knows for a PC key, typed one at a time: the
 * bytes a guest reads with translation on (set 1: make, then break),
 * E0 and E1 prefixes included. */
static const struct {
    const char *name;
    uint8_t bytes[8];
    unsigned n;
} every_key[] = {
    { "esc", { 0x01, 0x81 }, 2 },
    { "1", { 0x02, 0x82 }, 2 },
    { "2", { 0x03, 0x83 }, 2 },
    { "3", { 0x04, 0x84 }, 2 },
    { "4", { 0x05, 0x85 }, 2 },
    { "5", { 0x06, 0x86 }, 2 },
    { "6", { 0x07, 0x87 }, 2 },
    { "7", { 0x08, 0x88 }, 2 },
    { "8", { 0x09, 0x89 }, 2 },
    { "9", { 0x0A, 0x8A }, 2 },
    { "0", { 0x0B, 0x8B }, 2 },
    { "minus", { 0x0C, 0x8C }, 2 },
    { "equal", { 0x0D, 0x8D }, 2 },
    { "backspace", { 0x0E, 0x8E }, 2 },
    { "tab", { 0x0F, 0x8F }, 2 },
    { "q", { 0x10, 0x90 }, 2 },
    { "w", { 0x11, 0x91 }, 2 },
    { "e", { 0x12, 0x92 }, 2 },
    { "r", { 0x13, 0x93 }, 2 },
    { "t", { 0x14, 0x94 }, 2 },
    { "y", { 0x15, 0x95 }, 2 },
    { "u", { 0x16, 0x96 }, 2 },
    { "i", { 0x17, 0x97 }, 2 },
    { "o", { 0x18, 0x98 }, 2 },
    { "p", { 0x19, 0x99 }, 2 },
    { "bracket_left", { 0x1A, 0x9A }, 2 },
    { "bracket_right", { 0x1B, 0x9B }, 2 },
    { "ret", { 0x1C, 0x9C }, 2 },
    { "ctrl", { 0x1D, 0x9D }, 2 },
    { "a", { 0x1E, 0x9E }, 2 },
    { "s", { 0x1F, 0x9F }, 2 },
    { "d", { 0x20, 0xA0 }, 2 },
    { "f", { 0x21, 0xA1 }, 2 },
    { "g", { 0x22, 0xA2 }, 2 },
    { "h", { 0x23, 0xA3 }, 2 },
    { "j", { 0x24, 0xA4 }, 2 },
    { "k", { 0x25, 0xA5 }, 2 },
    { "l", { 0x26, 0xA6 }, 2 },
    { "semicolon", { 0x27, 0xA7 }, 2 },
    { "apostrophe", { 0x28, 0xA8 }, 2 },
    { "grave_accent", { 0x29, 0xA9 }, 2 },
    { "shift", { 0x2A, 0xAA }, 2 },
    { "backslash", { 0x2B, 0xAB }, 2 },
    { "z", { 0x2C, 0xAC }, 2 },
    { "x", { 0x2D, 0xAD }, 2 },
    { "c", { 0x2E, 0xAE }, 2 },
    { "v", { 0x2F, 0xAF }, 2 },
    { "b", { 0x30, 0xB0 }, 2 },
    { "n", { 0x31, 0xB1 }, 2 },
    { "m", { 0x32, 0xB2 }, 2 },
    { "comma", { 0x33, 0xB3 }, 2 },
    { "dot", { 0x34, 0xB4 }, 2 },
    { "slash", { 0x35, 0xB5 }, 2 },
    { "shift_r", { 0x36, 0xB6 }, 2 },
    { "kp_multiply", { 0x37, 0xB7 }, 2 },
    { "alt", { 0x38, 0xB8 }, 2 },
    { "spc", { 0x39, 0xB9 }, 2 },
    { "caps_lock", { 0x3A, 0xBA }, 2 },
    { "f1", { 0x3B, 0xBB }, 2 },
    { "f2", { 0x3C, 0xBC }, 2 },
    { "f3", { 0x3D, 0xBD }, 2 },
    { "f4", { 0x3E, 0xBE }, 2 },
    { "f5", { 0x3F, 0xBF }, 2 },
    { "f6", { 0x40, 0xC0 }, 2 },
    { "f7", { 0x41, 0xC1 }, 2 },
    { "f8", { 0x42, 0xC2 }, 2 },
    { "f9", { 0x43, 0xC3 }, 2 },
    { "f10", { 0x44, 0xC4 }, 2 },
    { "num_lock", { 0x45, 0xC5 }, 2 },
    { "scroll_lock", { 0x46, 0xC6 }, 2 },
    { "kp_7", { 0x47, 0xC7 }, 2 },
    { "kp_8", { 0x48, 0xC8 }, 2 },
    { "kp_9", { 0x49, 0xC9 }, 2 },
    { "kp_subtract", { 0x4A, 0xCA }, 2 },
    { "kp_4", { 0x4B, 0xCB }, 2 },
    { "kp_5", { 0x4C, 0xCC }, 2 },
    { "kp_6", { 0x4D, 0xCD }, 2 },
    { "kp_add", { 0x4E, 0xCE }, 2 },
    { "kp_1", { 0x4F, 0xCF }, 2 },
    { "kp_2", { 0x50, 0xD0 }, 2 },
    { "kp_3", { 0x51, 0xD1 }, 2 },
    { "kp_0", { 0x52, 0xD2 }, 2 },
    { "kp_decimal", { 0x53, 0xD3 }, 2 },
    { "less", { 0x56, 0xD6 }, 2 },
    { "f11", { 0x57, 0xD7 }, 2 },
    { "f12", { 0x58, 0xD8 }, 2 },
    { "ro", { 0x73, 0xF3 }, 2 },
    { "henkan", { 0x79, 0xF9 }, 2 },
    { "katakanahiragana", { 0x70, 0xF0 }, 2 },
    { "muhenkan", { 0x7B, 0xFB }, 2 },
    { "yen", { 0x7D, 0xFD }, 2 },
    { "kp_equals", { 0x59, 0xD9 }, 2 },
    { "kp_enter", { 0xE0, 0x1C, 0xE0, 0x9C }, 4 },
    { "ctrl_r", { 0xE0, 0x1D, 0xE0, 0x9D }, 4 },
    { "kp_divide", { 0xE0, 0x35, 0xE0, 0xB5 }, 4 },
    { "alt_r", { 0xE0, 0x38, 0xE0, 0xB8 }, 4 },
    { "home", { 0xE0, 0x47, 0xE0, 0xC7 }, 4 },
    { "up", { 0xE0, 0x48, 0xE0, 0xC8 }, 4 },
    { "pgup", { 0xE0, 0x49, 0xE0, 0xC9 }, 4 },
    { "left", { 0xE0, 0x4B, 0xE0, 0xCB }, 4 },
    { "right", { 0xE0, 0x4D, 0xE0, 0xCD }, 4 },
    { "end", { 0xE0, 0x4F, 0xE0, 0xCF }, 4 },
    { "down", { 0xE0, 0x50, 0xE0, 0xD0 }, 4 },
    { "pgdn", { 0xE0, 0x51, 0xE0, 0xD1 }, 4 },
    { "insert", { 0xE0, 0x52, 0xE0, 0xD2 }, 4 },
    { "delete", { 0xE0, 0x53, 0xE0, 0xD3 }, 4 },
    { "audiomute", { 0xE0, 0x20, 0xE0, 0xA0 }, 4 },
    { "volumedown", { 0xE0, 0x2E, 0xE0, 0xAE }, 4 },
    { "volumeup", { 0xE0, 0x30, 0xE0, 0xB0 }, 4 },
    { "power", { 0xE0, 0x5E, 0xE0, 0xDE }, 4 },
    { "meta_l", { 0xE0, 0x5B, 0xE0, 0xDB }, 4 },
    { "meta_r", { 0xE0, 0x5C, 0xE0, 0xDC }, 4 },
    { "menu", { 0xE0, 0x5D, 0xE0, 0xDD }, 4 },
    /* Print Screen: E0 2A E0 37 / E0 B7 E0 AA; Pause: make only. */
    { "print", { 0xE0, 0x2A, 0xE0, 0x37, 0xE0, 0xB7, 0xE0, 0xAA }, 8 },
    { "pause", { 0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5 }, 6 },
};

static void test_sendkey_every_key(void)
{
    if (!tess_registry_lookup(th_registry(), "i8042")) {
        g_test_skip("the i8042 plugin is not built");
        return;
    }
    TessMachine *m = th_machine(UI_FRAG "<device type='i8042' id='kbc'/>");
    th_outb(m, 0x64, 0x60);
    th_outb(m, 0x60, 0x40);
    for (size_t i = 0; i < G_N_ELEMENTS(every_key); i++) {
        bool ok;
        g_autofree char *r = ctl(m, &ok, "sendkey", every_key[i].name);
        if (!ok)
            g_error("sendkey %s: %s", every_key[i].name, r ? r : "failed");
        uint8_t got[16];
        unsigned n = 0;
        for (unsigned t = 0; t < 100 && n < G_N_ELEMENTS(got); t++) {
            while ((th_inb(m, 0x64) & 1) && n < G_N_ELEMENTS(got))
                got[n++] = th_inb(m, 0x60);
            th_advance(m, 1000000);
        }
        if (n != every_key[i].n || memcmp(got, every_key[i].bytes, n))
            g_error("sendkey %s: %u bytes %02X %02X %02X..., want %u bytes %02X %02X %02X...",
                    every_key[i].name, n, got[0], n > 1 ? got[1] : 0, n > 2 ? got[2] : 0,
                    every_key[i].n, every_key[i].bytes[0], every_key[i].bytes[1],
                    every_key[i].bytes[2]);
    }
    th_machine_free(m);
}

/* Without a display or keyboard the commands say so instead of failing
 * the machine. */
static void test_no_devices(void)
{
    TessMachine *m = th_machine("<device type='ui-headless' id='display'/>");
    bool ok;
    g_autofree char *e1 = ctl(m, &ok, "screenshot", "/tmp/never.png");
    g_assert_false(ok);
    g_assert_nonnull(strstr(e1, "no display"));
    g_autofree char *e2 = ctl(m, &ok, "sendkey", "a");
    g_assert_false(ok);
    g_assert_nonnull(strstr(e2, "no keyboard"));
    th_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ui/screenshot-mode13", test_screenshot_mode13);
    g_test_add_func("/ui/screenshot-text", test_screenshot_text);
    g_test_add_func("/ui/screenshot-targets", test_screenshot_targets);
    g_test_add_func("/ui/screenshot-cursor", test_screenshot_cursor);
    g_test_add_func("/ui/screentext", test_screentext);
    g_test_add_func("/ui/sendkey", test_sendkey);
    g_test_add_func("/ui/sendkey-every-key", test_sendkey_every_key);
    g_test_add_func("/ui/no-devices", test_no_devices);
    return g_test_run();
}
