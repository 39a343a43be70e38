/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The "vde" backend against a real vde_switch (vde2) on a temporary
 * socket that this test starts and stops: two machines exchange frames
 * through it, in order; a URL with no switch behind it is refused.
 * Skips (77) when vde_switch is not installed, and in AddressSanitizer
 * builds (see main).
 */
#include "tnic.h"

#include <errno.h>

#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <glib/gstdio.h>

static const uint8_t bcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
static const uint8_t mac_a[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x0A };

static char *dir;
static GPid switch_pid;

static bool start_switch(void)
{
    g_autofree char *prog = g_find_program_in_path("vde_switch");
    if (!prog)
        return false;
    dir = g_dir_make_tmp("tess-vde-XXXXXX", NULL);
    g_autofree char *sock = g_build_filename(dir, "sw", NULL);
    g_autofree char *pidf = g_build_filename(dir, "pid", NULL);
    /* -d returns once the switch's socket exists. */
    const char *argv[] = { prog, "-s", sock, "-d", "-p", pidf, NULL };
    int status;
    g_autoptr(GError) err = NULL;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL,
                      &status, &err) || !g_spawn_check_wait_status(status, &err))
        g_error("vde_switch: %s", err->message);
    /* The daemon writes its pid file after forking: wait for it. */
    int in = inotify_init1(IN_CLOEXEC);
    g_assert_cmpint(in, >=, 0);
    g_assert_cmpint(inotify_add_watch(in, dir, IN_CLOSE_WRITE | IN_MOVED_TO), >=, 0);
    g_autofree char *pid = NULL;
    gint64 until = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (!g_file_get_contents(pidf, &pid, NULL, NULL) || !*pid) {
        g_clear_pointer(&pid, g_free);
        struct pollfd p = { .fd = in, .events = POLLIN };
        int left = (int)((until - g_get_monotonic_time()) / 1000);
        g_assert_cmpint(left, >, 0);
        if (poll(&p, 1, left) == 1) {
            char ev[4096];
            if (read(in, ev, sizeof(ev)) < 0)
                g_error("inotify: %s", g_strerror(errno));
        }
    }
    close(in);
    switch_pid = atoi(pid);
    g_assert_cmpint(switch_pid, >, 1);
    return true;
}

static void stop_switch(void)
{
    kill(switch_pid, SIGTERM);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    if (system(cmd) != 0)
        g_printerr("could not remove %s\n", dir);
}

typedef struct {
    TessMachine *m;
    unsigned want;
} Want;

static bool has(void *data)
{
    Want *w = data;
    return tn_nic(w->m, "nic0")->rx->len >= w->want;
}

static void test_two_machines(void)
{
    g_autofree char *xml1 = g_strdup_printf(
        "<device type='tn-nic' id='nic0' mac='52:54:00:00:00:0a'><net type='vde' url='vde://%s/sw'/></device>", dir);
    g_autofree char *xml2 = g_strdup_printf(
        "<device type='tn-nic' id='nic0' mac='52:54:00:00:00:0b'><net type='vde' url='%s/sw'/></device>", dir);
    TessMachine *m1 = th_machine(xml1);
    TessMachine *m2 = th_machine(xml2);
    g_assert_true(tess_net_port_link_up(tn_nic(m1, "nic0")->port));
    for (uint32_t i = 0; i < 50; i++)
        g_assert_cmpint(tn_send(m1, "nic0", bcast, i, 60 + i), ==, TESS_NET_OK);
    Want w2 = { m2, 50 };
    g_assert_true(tn_pump(m2, has, &w2));
    TnNic *n2 = tn_nic(m2, "nic0");
    for (uint32_t i = 0; i < 50; i++) {
        g_assert_cmpuint(tn_seq(n2->rx->pdata[i]), ==, i);
        g_assert_cmpuint(g_bytes_get_size(n2->rx->pdata[i]), ==, 60 + i);
    }
    /* The switch learned a: the answer goes back to m1. */
    g_assert_cmpint(tn_send(m2, "nic0", mac_a, 1000, 1514), ==, TESS_NET_OK);
    Want w1 = { m1, 1 };
    g_assert_true(tn_pump(m1, has, &w1));
    g_assert_cmpuint(tn_seq(tn_nic(m1, "nic0")->rx->pdata[0]), ==, 1000);
    /* Swapped away at run time: the thread stops, m2 hears nothing more. */
    g_autoptr(GError) err = NULL;
    TnNic *n1 = tn_nic(m1, "nic0");
    g_assert_true(tess_device_replace_child(&n1->dev, "net", 0, "none", NULL, &err));
    g_assert_cmpstr(n1->links->str, ==, "d");
    th_machine_free(m1);
    th_machine_free(m2);
}

static void test_no_switch(void)
{
    g_autofree char *xml = g_strdup_printf(
        "<device type='tn-nic' id='nic0'><net type='vde' url='vde://%s/nothing-here'/></device>", dir);
    g_autoptr(GError) err = NULL;
    TessMachine *m = th_machine_try(xml, &err);
    g_assert_null(m);
    g_assert_nonnull(strstr(err->message, "nothing-here"));
    g_clear_error(&err);
    m = th_machine_try("<device type='tn-nic' id='nic0'><net type='vde'/></device>", &err);
    g_assert_null(m);
    g_assert_nonnull(strstr(err->message, "url"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#if defined(__SANITIZE_ADDRESS__)
    /* libvdeplug dlopens its URL modules with RTLD_DEEPBIND, which the
     * AddressSanitizer runtime refuses (it aborts the process): run this
     * test from a build without -Db_sanitize. */
    g_printerr("libvdeplug cannot load its modules under AddressSanitizer: skipped\n");
    return 77;
#endif
    tn_register();
    if (!tess_registry_lookup(th_registry(), "vde") || !start_switch()) {
        g_printerr("vde_switch (vde2) or the vde backend is missing\n");
        return 77;
    }
    g_test_add_func("/vde/two-machines", test_two_machines);
    g_test_add_func("/vde/no-switch", test_no_switch);
    int rc = g_test_run();
    stop_switch();
    return rc;
}
