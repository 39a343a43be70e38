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
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>
#include <gio/gio.h>
#include <glib-unix.h>

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
    if (!tess_registry_lookup(th_registry(), "ui-sdl") ||
        !tess_registry_lookup(th_registry(), "i8042")) {
        g_test_skip("the ui-sdl or i8042 plugin is not built");
        return;
    }
    g_autofree char *xvfb_path = g_find_program_in_path("Xvfb");
    g_autofree char *xdo_path = g_find_program_in_path("xdotool");
    if (!xvfb_path || !xdo_path) {
        g_test_skip("Xvfb or xdotool is not installed (Debian: xvfb, xdotool)");
        return;
    }
    Xvfb x = { 0 };
    if (!xvfb_start(&x)) {
        g_test_skip("Xvfb did not start");
        return;
    }
    g_setenv("DISPLAY", x.display, TRUE);
    g_setenv("SDL_VIDEODRIVER", "x11", TRUE);

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

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ui-sdl/xvfb-key", test_sdl_key);
    return g_test_run();
}
