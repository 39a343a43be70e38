/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The headless front end's control commands, called as the control
 * socket calls them: screenshot (read back with libpng and compared with
 * the picture computed from the pattern), screentext (code page 437 to
 * UTF-8) and sendkey (scan codes arriving at the i8042).
 */
#include "video-test.h"

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
    g_test_add_func("/ui/screentext", test_screentext);
    g_test_add_func("/ui/sendkey", test_sendkey);
    g_test_add_func("/ui/no-devices", test_no_devices);
    return g_test_run();
}
