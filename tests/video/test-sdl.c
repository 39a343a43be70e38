/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The SDL window under Xvfb: open it, type a real X key event into it
 * with xdotool (XTEST), and check that the guest's keyboard controller
 * received the key's scan codes. Skipped, with a message, when Xvfb,
 * xdotool, the ui-sdl plugin or the i8042 plugin is missing.
 *
 * The machine has no CPU, so the test plays the machine thread itself:
 * it runs the requests the window posts and advances virtual time so the
 * VGA's frame callbacks draw into the window's surface.
 */
#include "video-test.h"

#include <errno.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>

typedef struct {
    GPid pid;
    char *display;
} Xvfb;

static bool xvfb_start(Xvfb *x)
{
    int fds[2];
    if (!g_unix_open_pipe(fds, FD_CLOEXEC, NULL))
        return false;
    const char *argv[] = { "Xvfb", "-displayfd", "3", "-screen", "0", "800x600x24",
                           "-nolisten", "tcp", NULL };
    int src_fds[] = { fds[1] };
    int tgt_fds[] = { 3 };
    g_autoptr(GError) err = NULL;
    gboolean ok = g_spawn_async_with_pipes_and_fds(
        NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
        G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, -1, -1, -1, src_fds, tgt_fds, 1,
        &x->pid, NULL, NULL, NULL, &err);
    close(fds[1]);
    if (!ok) {
        close(fds[0]);
        g_test_message("Xvfb: %s", err->message);
        return false;
    }
    /* Xvfb writes the display number once it accepts connections. */
    char buf[32];
    size_t n = 0;
    while (n < sizeof(buf) - 1) {
        ssize_t r = read(fds[0], buf + n, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || buf[n] == '\n')
            break;
        n++;
    }
    close(fds[0]);
    buf[n] = 0;
    if (!n) {
        kill(x->pid, SIGTERM);
        g_spawn_close_pid(x->pid);
        return false;
    }
    x->display = g_strdup_printf(":%s", buf);
    return true;
}

static void xvfb_stop(Xvfb *x)
{
    kill(x->pid, SIGTERM);
    int status;
    waitpid(x->pid, &status, 0);
    g_spawn_close_pid(x->pid);
    g_free(x->display);
}

/* What every window test needs: the ui-sdl plugin (and the plugin NEEDS,
 * when given), Xvfb (and the program TOOL, when given), a fresh X display
 * for SDL. Marks the test skipped and returns false when any is missing. */
static bool sdl_on_xvfb(Xvfb *x, const char *needs, const char *tool)
{
    const char *plugin = !tess_registry_lookup(th_registry(), "ui-sdl") ? "ui-sdl"
                       : needs && !tess_registry_lookup(th_registry(), needs) ? needs : NULL;
    if (plugin) {
        g_test_skip_printf("the %s plugin is not built", plugin);
        return false;
    }
    g_autofree char *xvfb_path = g_find_program_in_path("Xvfb");
    g_autofree char *tool_path = tool ? g_find_program_in_path(tool) : NULL;
    const char *prog = !xvfb_path ? "Xvfb" : tool && !tool_path ? tool : NULL;
    if (prog) {
        g_test_skip_printf("%s is not installed (Debian: xvfb, xdotool)", prog);
        return false;
    }
    if (!xvfb_start(x)) {
        g_test_skip("Xvfb did not start");
        return false;
    }
    g_setenv("DISPLAY", x->display, TRUE);
    g_setenv("SDL_VIDEODRIVER", "x11", TRUE);
    return true;
}

static void drain_requests(TessMachine *m)
{
    TessRequest *r;
    while ((r = g_async_queue_try_pop(m->requests))) {
        r->fn(m, r->data);
        g_free(r);
    }
}

static void xdotool_done(GObject *src, GAsyncResult *res, gpointer data)
{
    GError *err = NULL;
    if (!g_subprocess_wait_check_finish(G_SUBPROCESS(src), res, &err)) {
        g_test_message("xdotool: %s", err->message);
        g_error_free(err);
    }
    *(int *)data = 1;
}

static void test_sdl_key(void)
{
    Xvfb x = { 0 };
    if (!sdl_on_xvfb(&x, "i8042", "xdotool"))
        return;

    TessMachine *m = th_machine("<device type='vga' id='vga'/><device type='i8042' id='kbc'/>"
                                "<device type='ui-sdl' id='display' poll-ms='5'/>");
    vt_set_mode(m, &vt_mode03);
    th_outb(m, 0x64, 0x60);             /* command byte: translate to set 1 */
    th_outb(m, 0x60, 0x40);

    int xdo_finished = 0;
    g_autoptr(GError) err = NULL;
    g_autoptr(GSubprocess) xdo = g_subprocess_new(
        G_SUBPROCESS_FLAGS_NONE, &err, "xdotool", "search", "--sync", "--onlyvisible",
        "--name", "Tessera", "windowfocus", "--sync", "key", "--delay", "50", "a", NULL);
    g_assert_no_error(err);
    g_subprocess_wait_check_async(xdo, NULL, xdotool_done, &xdo_finished);

    uint8_t got[8];
    unsigned n = 0;
    gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    while (g_get_monotonic_time() < deadline && (n < 2 || !xdo_finished)) {
        g_main_context_iteration(NULL, TRUE);
        drain_requests(m);
        th_advance(m, 5 * 1000 * 1000);
        while ((th_inb(m, 0x64) & 1) && n < G_N_ELEMENTS(got))
            got[n++] = th_inb(m, 0x60);
    }
    if (!xdo_finished)
        g_subprocess_force_exit(xdo);
    g_assert_true(xdo_finished);
    /* Scan code set 1: 'A' make 1E, break 9E. */
    g_assert_cmpuint(n, ==, 2);
    g_assert_cmphex(got[0], ==, 0x1E);
    g_assert_cmphex(got[1], ==, 0x9E);
    th_machine_free(m);
    xvfb_stop(&x);
}

/* A control command's reply text (the test's machine thread runs it). */
static char *ctl(TessMachine *m, const char *cmd)
{
    g_autoptr(GPtrArray) machines = g_ptr_array_new();
    g_ptr_array_add(machines, m);
    g_autofree char *line = g_strdup_printf("{\"cmd\":\"%s\"}", cmd);
    g_autofree char *reply = tess_control_handle_line(machines, line);
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, reply, -1, NULL));
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    g_assert_true(json_object_get_boolean_member(o, "ok"));
    return g_strdup(json_object_get_string_member(o, "result"));
}

typedef struct {
    uint64_t presents, full, pixels;
    int surface;
} WinStats;

static WinStats win_stats(TessMachine *m)
{
    g_autofree char *r = ctl(m, "window-stats");
    WinStats st = { 0 };
    g_assert_cmpint(sscanf(r, "presents %" G_GUINT64_FORMAT " full %" G_GUINT64_FORMAT
                           " pixels %" G_GUINT64_FORMAT " surface %d",
                           &st.presents, &st.full, &st.pixels, &st.surface), ==, 4);
    return st;
}

/* Run the machine for `ms` of virtual time in 5 ms steps, the window's
 * main loop turning in between (each frame that changed the picture
 * wakes it). */
static void run_window(TessMachine *m, unsigned ms)
{
    for (unsigned t = 0; t < ms; t += 5) {
        while (g_main_context_iteration(NULL, FALSE))
            ;
        drain_requests(m);
        th_advance(m, 5 * 1000 * 1000);
    }
    /* what the last frames asked for */
    for (int i = 0; i < 20; i++) {
        g_usleep(2000);
        while (g_main_context_iteration(NULL, FALSE))
            ;
    }
}

/* What a still screen costs the window: a text screen whose cursor blinks
 * updates the cursor's scan lines and nothing else, a still graphics screen
 * updates nothing at all. (Without a GPU, as here, the window draws into
 * its surface; a GPU renderer redraws its window each present, which the
 * GPU does, and the test checks only the first part there.) */
static void test_sdl_still(void)
{
    Xvfb x = { 0 };
    if (!sdl_on_xvfb(&x, NULL, NULL))
        return;
    TessMachine *m = th_machine("<device type='vga' id='vga'/>"
                                "<device type='ui-sdl' id='display'/>");
    vt_set_mode(m, &vt_mode03);
    for (unsigned i = 0; i < 80 * 25; i++) {
        tess_mem_write(m, 0xB8000 + 2 * i, 'A' + i % 26, 1);
        tess_mem_write(m, 0xB8000 + 2 * i + 1, 0x07, 1);     /* no character blink */
    }
    vt_cr(m, 0x0A, 0x0D);                                   /* an underline cursor */
    vt_cr(m, 0x0B, 0x0E);
    vt_cr(m, 0x0E, (5 * 80 + 10) >> 8);
    vt_cr(m, 0x0F, (5 * 80 + 10) & 0xFF);
    run_window(m, 1000);                                    /* mapped, first picture */
    WinStats a = win_stats(m);
    g_assert_cmpuint(a.presents, >, 0);
    run_window(m, 2000);
    WinStats b = win_stats(m);
    /* The cursor is on for 8 frames and off for 8 at 70 Hz: about 17
     * toggles in 2 s, each one present. */
    uint64_t n = b.presents - a.presents;
    g_test_message("text, 2 s: %" G_GUINT64_FORMAT " presents, %" G_GUINT64_FORMAT
                   " whole-window, %" G_GUINT64_FORMAT " pixels (surface %d)", n,
                   b.full - a.full, b.pixels - a.pixels, b.surface);
    g_assert_cmpuint(n, >=, 14);
    g_assert_cmpuint(n, <=, 20);
    if (b.surface) {
        g_assert_cmpuint(b.full, ==, a.full);
        /* the display reports changed scan lines: the cursor's two lines
         * of 720x400 are a band of at most 4 rows of the 720x540 window
         * (the window is 388800 pixels) */
        g_assert_cmpuint(b.pixels - a.pixels, <=, n * 720 * 4);
    }

    /* A still graphics screen: mode 13h, drawn once. */
    vt_set_mode(m, &vt_mode13);
    for (unsigned i = 0; i < 320 * 200; i++)
        tess_mem_write(m, 0xA0000 + i, (uint8_t)(i * 7), 1);
    run_window(m, 1000);
    WinStats c = win_stats(m);
    run_window(m, 1500);
    WinStats d = win_stats(m);
    g_test_message("graphics, 1.5 s: %" G_GUINT64_FORMAT " presents",
                   d.presents - c.presents);
    g_assert_cmpuint(d.presents, ==, c.presents);
    g_assert_cmpuint(d.pixels, ==, c.pixels);
    /* and a change shows again, as a band of the changed rows */
    for (unsigned i = 0; i < 320; i++)
        tess_mem_write(m, 0xA0000 + 100 * 320 + i, 0x0F, 1);
    run_window(m, 200);
    WinStats e = win_stats(m);
    g_assert_cmpuint(e.presents, >, d.presents);
    if (e.surface) {
        g_assert_cmpuint(e.full, ==, d.full);
        g_assert_cmpuint(e.pixels - d.pixels, <, 640 * 480 / 4);
    }
    th_machine_free(m);
    xvfb_stop(&x);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ui-sdl/xvfb-key", test_sdl_key);
    g_test_add_func("/ui-sdl/xvfb-still-screen", test_sdl_still);
    return g_test_run();
}
