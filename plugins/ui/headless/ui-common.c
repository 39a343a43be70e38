/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared front-end code: the screenshot, screentext and sendkey control
 * commands (see ui-common.h).
 */
#include "ui-common.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <png.h>
#include <linux/input-event-codes.h>

/* ---- code page 437 ------------------------------------------------------- */

/* IBM PC character set: the ROM font's glyphs for 00-1F and 7F are the
 * symbols, not control characters. 00 and FF draw as blanks. */
static const uint16_t cp437[256] = {
    0x0020, 0x263A, 0x263B, 0x2665, 0x2666, 0x2663, 0x2660, 0x2022,
    0x25D8, 0x25CB, 0x25D9, 0x2642, 0x2640, 0x266A, 0x266B, 0x263C,
    0x25BA, 0x25C4, 0x2195, 0x203C, 0x00B6, 0x00A7, 0x25AC, 0x21A8,
    0x2191, 0x2193, 0x2192, 0x2190, 0x221F, 0x2194, 0x25B2, 0x25BC,
    0x0020, 0x0021, 0x0022, 0x0023, 0x0024, 0x0025, 0x0026, 0x0027,
    0x0028, 0x0029, 0x002A, 0x002B, 0x002C, 0x002D, 0x002E, 0x002F,
    0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037,
    0x0038, 0x0039, 0x003A, 0x003B, 0x003C, 0x003D, 0x003E, 0x003F,
    0x0040, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047,
    0x0048, 0x0049, 0x004A, 0x004B, 0x004C, 0x004D, 0x004E, 0x004F,
    0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057,
    0x0058, 0x0059, 0x005A, 0x005B, 0x005C, 0x005D, 0x005E, 0x005F,
    0x0060, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067,
    0x0068, 0x0069, 0x006A, 0x006B, 0x006C, 0x006D, 0x006E, 0x006F,
    0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077,
    0x0078, 0x0079, 0x007A, 0x007B, 0x007C, 0x007D, 0x007E, 0x2302,
    0x00C7, 0x00FC, 0x00E9, 0x00E2, 0x00E4, 0x00E0, 0x00E5, 0x00E7,
    0x00EA, 0x00EB, 0x00E8, 0x00EF, 0x00EE, 0x00EC, 0x00C4, 0x00C5,
    0x00C9, 0x00E6, 0x00C6, 0x00F4, 0x00F6, 0x00F2, 0x00FB, 0x00F9,
    0x00FF, 0x00D6, 0x00DC, 0x00A2, 0x00A3, 0x00A5, 0x20A7, 0x0192,
    0x00E1, 0x00ED, 0x00F3, 0x00FA, 0x00F1, 0x00D1, 0x00AA, 0x00BA,
    0x00BF, 0x2310, 0x00AC, 0x00BD, 0x00BC, 0x00A1, 0x00AB, 0x00BB,
    0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x2561, 0x2562, 0x2556,
    0x2555, 0x2563, 0x2551, 0x2557, 0x255D, 0x255C, 0x255B, 0x2510,
    0x2514, 0x2534, 0x252C, 0x251C, 0x2500, 0x253C, 0x255E, 0x255F,
    0x255A, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256C, 0x2567,
    0x2568, 0x2564, 0x2565, 0x2559, 0x2558, 0x2552, 0x2553, 0x256B,
    0x256A, 0x2518, 0x250C, 0x2588, 0x2584, 0x258C, 0x2590, 0x2580,
    0x03B1, 0x00DF, 0x0393, 0x03C0, 0x03A3, 0x03C3, 0x00B5, 0x03C4,
    0x03A6, 0x0398, 0x03A9, 0x03B4, 0x221E, 0x03C6, 0x03B5, 0x2229,
    0x2261, 0x00B1, 0x2265, 0x2264, 0x2320, 0x2321, 0x00F7, 0x2248,
    0x00B0, 0x2219, 0x00B7, 0x221A, 0x207F, 0x00B2, 0x25A0, 0x0020,
};

gunichar ui_cp437_to_unicode(uint8_t c)
{
    return cp437[c];
}

/* ---- key names --------------------------------------------------------------- */

/* QEMU's sendkey names (qapi QKeyCode), the common subset. */
static const struct { const char *name; uint16_t code; } key_names[] = {
    { "shift", KEY_LEFTSHIFT }, { "shift_r", KEY_RIGHTSHIFT },
    { "alt", KEY_LEFTALT }, { "alt_r", KEY_RIGHTALT }, { "altgr", KEY_RIGHTALT },
    { "ctrl", KEY_LEFTCTRL }, { "ctrl_r", KEY_RIGHTCTRL }, { "menu", KEY_COMPOSE },
    { "esc", KEY_ESC }, { "1", KEY_1 }, { "2", KEY_2 }, { "3", KEY_3 }, { "4", KEY_4 },
    { "5", KEY_5 }, { "6", KEY_6 }, { "7", KEY_7 }, { "8", KEY_8 }, { "9", KEY_9 },
    { "0", KEY_0 }, { "minus", KEY_MINUS }, { "equal", KEY_EQUAL },
    { "backspace", KEY_BACKSPACE }, { "tab", KEY_TAB },
    { "q", KEY_Q }, { "w", KEY_W }, { "e", KEY_E }, { "r", KEY_R }, { "t", KEY_T },
    { "y", KEY_Y }, { "u", KEY_U }, { "i", KEY_I }, { "o", KEY_O }, { "p", KEY_P },
    { "bracket_left", KEY_LEFTBRACE }, { "bracket_right", KEY_RIGHTBRACE },
    { "ret", KEY_ENTER }, { "a", KEY_A }, { "s", KEY_S }, { "d", KEY_D }, { "f", KEY_F },
    { "g", KEY_G }, { "h", KEY_H }, { "j", KEY_J }, { "k", KEY_K }, { "l", KEY_L },
    { "semicolon", KEY_SEMICOLON }, { "apostrophe", KEY_APOSTROPHE },
    { "grave_accent", KEY_GRAVE }, { "backslash", KEY_BACKSLASH },
    { "z", KEY_Z }, { "x", KEY_X }, { "c", KEY_C }, { "v", KEY_V }, { "b", KEY_B },
    { "n", KEY_N }, { "m", KEY_M }, { "comma", KEY_COMMA }, { "dot", KEY_DOT },
    { "slash", KEY_SLASH }, { "asterisk", KEY_KPASTERISK }, { "spc", KEY_SPACE },
    { "caps_lock", KEY_CAPSLOCK },
    { "f1", KEY_F1 }, { "f2", KEY_F2 }, { "f3", KEY_F3 }, { "f4", KEY_F4 },
    { "f5", KEY_F5 }, { "f6", KEY_F6 }, { "f7", KEY_F7 }, { "f8", KEY_F8 },
    { "f9", KEY_F9 }, { "f10", KEY_F10 }, { "f11", KEY_F11 }, { "f12", KEY_F12 },
    { "num_lock", KEY_NUMLOCK }, { "scroll_lock", KEY_SCROLLLOCK },
    { "kp_divide", KEY_KPSLASH }, { "kp_multiply", KEY_KPASTERISK },
    { "kp_subtract", KEY_KPMINUS }, { "kp_add", KEY_KPPLUS }, { "kp_enter", KEY_KPENTER },
    { "kp_decimal", KEY_KPDOT }, { "sysrq", KEY_SYSRQ }, { "print", KEY_SYSRQ },
    { "kp_0", KEY_KP0 }, { "kp_1", KEY_KP1 }, { "kp_2", KEY_KP2 }, { "kp_3", KEY_KP3 },
    { "kp_4", KEY_KP4 }, { "kp_5", KEY_KP5 }, { "kp_6", KEY_KP6 }, { "kp_7", KEY_KP7 },
    { "kp_8", KEY_KP8 }, { "kp_9", KEY_KP9 }, { "less", KEY_102ND },
    { "home", KEY_HOME }, { "up", KEY_UP }, { "pgup", KEY_PAGEUP }, { "left", KEY_LEFT },
    { "right", KEY_RIGHT }, { "end", KEY_END }, { "down", KEY_DOWN },
    { "pgdn", KEY_PAGEDOWN }, { "insert", KEY_INSERT }, { "delete", KEY_DELETE },
    { "meta_l", KEY_LEFTMETA }, { "meta_r", KEY_RIGHTMETA }, { "pause", KEY_PAUSE },
    { "kp_equals", KEY_KPEQUAL }, { "ro", KEY_RO }, { "yen", KEY_YEN },
    { "henkan", KEY_HENKAN }, { "muhenkan", KEY_MUHENKAN },
    { "katakanahiragana", KEY_KATAKANAHIRAGANA }, { "audiomute", KEY_MUTE },
    { "volumeup", KEY_VOLUMEUP }, { "volumedown", KEY_VOLUMEDOWN }, { "power", KEY_POWER },
    /* Friendlier aliases. */
    { "enter", KEY_ENTER }, { "return", KEY_ENTER }, { "space", KEY_SPACE },
    { "escape", KEY_ESC }, { "del", KEY_DELETE }, { "control", KEY_LEFTCTRL },
};

unsigned ui_key_from_name(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(key_names); i++)
        if (!g_ascii_strcasecmp(key_names[i].name, name))
            return key_names[i].code;
    return 0;
}

/* ---- PNG ------------------------------------------------------------------------ */

static bool png_encode(FILE *f, const TessDisplaySurface *s)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    uint8_t *row = g_malloc((size_t)s->width * 3);
    bool ok = false;
    if (png && info && !setjmp(png_jmpbuf(png))) {
        png_init_io(png, f);
        png_set_IHDR(png, info, s->width, s->height, 8, PNG_COLOR_TYPE_RGB,
                     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
        png_write_info(png, info);
        for (unsigned y = 0; y < s->height; y++) {
            const uint32_t *px = (const uint32_t *)((const uint8_t *)s->pixels + y * s->stride);
            for (unsigned x = 0; x < s->width; x++) {
                row[3 * x] = (uint8_t)(px[x] >> 16);
                row[3 * x + 1] = (uint8_t)(px[x] >> 8);
                row[3 * x + 2] = (uint8_t)px[x];
            }
            png_write_row(png, row);
        }
        png_write_end(png, NULL);
        ok = true;
    }
    png_destroy_write_struct(&png, &info);
    g_free(row);
    return ok;
}

/* Binary PPM (P6), what QEMU's screendump writes by default. */
static bool ppm_encode(FILE *f, const TessDisplaySurface *s)
{
    if (fprintf(f, "P6\n%u %u\n255\n", s->width, s->height) < 0)
        return false;
    uint8_t *row = g_malloc((size_t)s->width * 3);
    bool ok = true;
    for (unsigned y = 0; y < s->height && ok; y++) {
        const uint32_t *px = (const uint32_t *)((const uint8_t *)s->pixels + y * s->stride);
        for (unsigned x = 0; x < s->width; x++) {
            row[3 * x] = (uint8_t)(px[x] >> 16);
            row[3 * x + 1] = (uint8_t)(px[x] >> 8);
            row[3 * x + 2] = (uint8_t)px[x];
        }
        ok = fwrite(row, 3, s->width, f) == s->width;
    }
    g_free(row);
    return ok;
}

/* Write the picture to `path` (absolute) without ever following, opening
 * for write or deleting anything but a file of our own: it is written to a
 * fresh temporary file in the same directory and renamed over `path`, which
 * must be absent or a regular file. A FIFO or device at `path` is refused
 * (opening it would block the machine or write to the device), and a
 * failed write leaves `path` as it was. */
bool ui_write_png(const char *path, const TessDisplaySurface *s, GError **err)
{
    return ui_write_image(path, s, false, err);
}

bool ui_write_image(const char *path, const TessDisplaySurface *s, bool ppm, GError **err)
{
    if (!g_path_is_absolute(path)) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_INVALID,
                    "%s: the control socket takes an absolute path "
                    "(`tessera ctl` makes a relative one absolute)", path);
        return false;
    }
    struct stat st;
    if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_INVALID,
                    "%s: exists and is not a regular file (left alone)", path);
        return false;
    }
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *base = g_path_get_basename(path);
    g_autofree char *tmp = g_strdup_printf("%s/.%s.XXXXXX", dir, base);
    int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        int e = errno;
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO, "%s: %s", path, g_strerror(e));
        return false;
    }
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        g_unlink(tmp);
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO, "%s: cannot write the image", path);
        return false;
    }
    bool ok = ppm ? ppm_encode(f, s) : png_encode(f, s);
    if (fflush(f) != 0 || ferror(f))
        ok = false;
    if (fclose(f) != 0)
        ok = false;
    /* Checked again just before the rename: what is at `path` may have
     * changed while we wrote. rename() replaces a regular file or a link
     * itself, never what a link points to. */
    if (ok && lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        g_unlink(tmp);
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_INVALID,
                    "%s: exists and is not a regular file (left alone)", path);
        return false;
    }
    if (ok && rename(tmp, path) < 0) {
        int e = errno;
        g_unlink(tmp);
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO, "%s: %s", path, g_strerror(e));
        return false;
    }
    if (!ok) {
        g_unlink(tmp);
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO, "%s: cannot write the image", path);
    }
    return ok;
}

/* ---- commands ---------------------------------------------------------------- */

static UiCommon *ui_of(TessDevice *dev)
{
    return &((UiHead *)dev)->ui;
}

static bool need_display(UiCommon *u, GError **err)
{
    if (u->src)
        return true;
    g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_NOT_FOUND,
                "the machine has no display (no device provides \"%s\")",
                TESS_IFACE_DISPLAY_SOURCE);
    return false;
}

static char *cmd_screenshot(TessDevice *dev, int argc, char **argv, GError **err)
{
    UiCommon *u = ui_of(dev);
    /* QMP's screendump passes its format; PNG otherwise. */
    if (argc < 1 || argc > 2 || (argc == 2 && strcmp(argv[1], "png") && strcmp(argv[1], "ppm"))) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "usage: screenshot FILE [png|ppm]");
        return NULL;
    }
    if (!need_display(u, err))
        return NULL;
    TessDisplayMode md;
    u->dops->get_mode(u->src, &md);
    /* A blank screen is a black picture of the last size VGA would use. */
    unsigned w = md.width ? md.width : 640, h = md.height ? md.height : 480;
    TessDisplaySurface s = { g_new0(uint32_t, (size_t)w * h), w, h, (size_t)w * 4 };
    u->dops->render(u->src, NULL, &s, NULL);
    /* A hardware cursor (display-source version 2) is part of what the
     * monitor shows. */
    const TessDisplaySourceOps *ops2 = tess_device_interface_v(u->src, TESS_IFACE_DISPLAY_SOURCE, 2);
    if (ops2 && ops2->get_cursor) {
        g_autofree TessDisplayCursor *cur = g_new0(TessDisplayCursor, 1);
        cur->struct_size = sizeof(*cur);
        if (ops2->get_cursor(u->src, cur))
            tess_display_cursor_compose(cur, &s);
    }
    bool ok = ui_write_image(argv[0], &s, argc == 2 && !strcmp(argv[1], "ppm"), err);
    g_free(s.pixels);
    return ok ? g_strdup_printf("%ux%u", w, h) : NULL;
}

static char *cmd_screentext(TessDevice *dev, int argc, char **argv, GError **err)
{
    UiCommon *u = ui_of(dev);
    if (!need_display(u, err))
        return NULL;
    TessDisplayMode md;
    u->dops->get_mode(u->src, &md);
    if (md.kind != TESS_DISPLAY_TEXT) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_UNSUPPORTED,
                    md.kind == TESS_DISPLAY_BLANK ? "the screen is blank"
                                                  : "the screen is in a graphics mode (%ux%u)",
                    md.width, md.height);
        return NULL;
    }
    unsigned n = md.cols * md.rows;
    g_autofree TessDisplayCell *cells = g_new0(TessDisplayCell, n ? n : 1);
    n = u->dops->get_text(u->src, cells, n);
    GString *out = g_string_new(NULL);
    for (unsigned r = 0; r < md.rows && r * md.cols < n; r++) {
        gsize start = out->len;
        for (unsigned c = 0; c < md.cols && r * md.cols + c < n; c++)
            g_string_append_unichar(out, ui_cp437_to_unicode(cells[r * md.cols + c].ch));
        /* Trailing blanks say nothing. */
        while (out->len > start && out->str[out->len - 1] == ' ')
            g_string_truncate(out, out->len - 1);
        if (r + 1 < md.rows)
            g_string_append_c(out, '\n');
    }
    return g_string_free(out, FALSE);
}

/* Key timing for sendkey: a combination's keys go down together, come up
 * HOLD later in reverse order, and the next combination starts GAP after
 * the previous one; 16 bytes of keyboard buffer never overflow. */
#define KEY_HOLD_NS (20 * 1000 * 1000ull)
#define KEY_GAP_NS  (40 * 1000 * 1000ull)

void ui_send_key(UiCommon *u, unsigned code, bool down)
{
    if (u->iops && u->iops->key_event)
        u->iops->key_event(u->input, code, down);
}

static void keys_run(UiCommon *u)
{
    uint64_t now = tess_clock_ns(u->dev->machine);
    guint i = 0;
    while (i < u->keys->len) {
        UiKeyEvent *e = &g_array_index(u->keys, UiKeyEvent, i);
        if (e->at_ns > now)
            break;
        ui_send_key(u, e->code, e->down);
        i++;
    }
    g_array_remove_range(u->keys, 0, i);
    if (u->keys->len)
        tess_timer_arm(u->key_timer, g_array_index(u->keys, UiKeyEvent, 0).at_ns);
}

static void key_timer_cb(void *opaque)
{
    keys_run(opaque);
}

static char *cmd_sendkey(TessDevice *dev, int argc, char **argv, GError **err)
{
    UiCommon *u = ui_of(dev);
    if (argc < 1) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "usage: sendkey KEYS... (e.g. ctrl-alt-delete, shift-a, ret)");
        return NULL;
    }
    if (!u->input) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_NOT_FOUND,
                    "the machine has no keyboard (no device provides \"%s\")", TESS_IFACE_INPUT);
        return NULL;
    }
    /* Parse everything first: a bad name sends nothing. */
    g_autoptr(GArray) combos = g_array_new(FALSE, FALSE, sizeof(GArray *));
    bool ok = true;
    for (int a = 0; a < argc && ok; a++) {
        g_auto(GStrv) parts = g_strsplit(argv[a], "-", -1);
        GArray *codes = g_array_new(FALSE, FALSE, sizeof(uint16_t));
        g_array_append_val(combos, codes);
        for (char **p = parts; *p && ok; p++) {
            uint16_t code = (uint16_t)ui_key_from_name(*p);
            if (!code) {
                g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                            "sendkey: unknown key '%s' in '%s'", *p, argv[a]);
                ok = false;
            }
            g_array_append_val(codes, code);
        }
    }
    if (ok) {
        uint64_t t = tess_clock_ns(dev->machine);
        if (u->keys->len)
            t = MAX(t, g_array_index(u->keys, UiKeyEvent, u->keys->len - 1).at_ns + KEY_GAP_NS - KEY_HOLD_NS);
        for (guint c = 0; c < combos->len; c++, t += KEY_GAP_NS) {
            GArray *codes = g_array_index(combos, GArray *, c);
            for (guint k = 0; k < codes->len; k++) {
                UiKeyEvent e = { t, g_array_index(codes, uint16_t, k), true };
                g_array_append_val(u->keys, e);
            }
            for (guint k = codes->len; k-- > 0;) {
                UiKeyEvent e = { t + KEY_HOLD_NS, g_array_index(codes, uint16_t, k), false };
                g_array_append_val(u->keys, e);
            }
        }
        keys_run(u);
    }
    for (guint c = 0; c < combos->len; c++)
        g_array_free(g_array_index(combos, GArray *, c), TRUE);
    return NULL;
}

/* ---- setup ---------------------------------------------------------------------- */

static TessDevice *optional_provider(TessDevice *dev, const char *iface, GError **err,
                                     bool *failed)
{
    GError *e = NULL;
    TessDevice *p = tess_device_find_provider(dev, iface, NULL, &e);
    if (!p && e) {
        if (g_error_matches(e, TESS_CONFIG_ERROR, TESS_ERROR_NOT_FOUND)) {
            g_debug("%s: %s", dev->id, e->message);
            g_error_free(e);
        } else {
            g_propagate_error(err, e);
            *failed = true;
        }
    }
    return p;
}

bool ui_common_init(UiCommon *u, TessDevice *dev, GError **err)
{
    bool failed = false;
    u->dev = dev;
    u->src = optional_provider(dev, TESS_IFACE_DISPLAY_SOURCE, err, &failed);
    if (failed)
        return false;
    u->dops = u->src ? tess_device_interface(u->src, TESS_IFACE_DISPLAY_SOURCE) : NULL;
    u->input = optional_provider(dev, TESS_IFACE_INPUT, err, &failed);
    if (failed)
        return false;
    u->iops = u->input ? tess_device_interface(u->input, TESS_IFACE_INPUT) : NULL;
    if (!tess_control_add_command(dev, "screenshot", cmd_screenshot,
                                  "FILE [png|ppm]  write the screen as an image (PNG unless ppm)", err) ||
        !tess_control_add_command(dev, "screentext", cmd_screentext,
                                  " print a text-mode screen as UTF-8 lines", err) ||
        !tess_control_add_command(dev, "sendkey", cmd_sendkey,
                                  "KEYS...  type key combinations (ctrl-alt-delete, shift-a, ret)",
                                  err))
        return false;
    u->key_timer = tess_timer_new(dev, key_timer_cb, u);
    u->keys = g_array_new(FALSE, FALSE, sizeof(UiKeyEvent));
    return true;
}

void ui_common_fini(UiCommon *u)
{
    if (u->keys)
        g_array_free(u->keys, TRUE);
    u->keys = NULL;
}
