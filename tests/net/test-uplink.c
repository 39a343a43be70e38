/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The switch's uplinks, inside a private network namespace this test
 * makes for itself (never a real interface): the host uplink is a TAP
 * device the switch creates, to which the test gives an address, so the
 * namespace's kernel answers the VM's ARP; the external uplink captures
 * and injects on one end of a veth pair whose other end has an address.
 * Routing preferences (host=off, external=off) hold the VM's frames back.
 * Skips (77) where namespaces, TAP or raw sockets are not permitted.
 */
#include "tnic.h"

#include <errno.h>
#include <sched.h>
#include <string.h>

static const uint8_t bcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
static const uint8_t vm_mac[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x0A };

static bool sh(const char *cmd)
{
    int status = 0;
    g_autoptr(GError) err = NULL;
    const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
    return g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL,
                        &status, &err) &&
           g_spawn_check_wait_status(status, NULL);
}

static void send_arp(TessMachine *m, const uint8_t ip_me[4], const uint8_t ip_target[4])
{
    uint8_t a[42] = { 0 };
    memcpy(a, bcast, 6);
    memcpy(a + 6, vm_mac, 6);
    a[12] = 0x08; a[13] = 0x06;
    a[15] = 1;
    a[16] = 0x08;
    a[18] = 6;
    a[19] = 4;
    a[21] = 1;
    memcpy(a + 22, vm_mac, 6);
    memcpy(a + 28, ip_me, 4);
    memcpy(a + 38, ip_target, 4);
    g_assert_cmpint(tess_net_port_send(tn_nic(m, "nic0")->port, a, sizeof(a)), ==, TESS_NET_OK);
}

typedef struct {
    TessMachine *m;
    const uint8_t *ip;
} ArpWait;

static bool got_arp_reply(void *data)
{
    ArpWait *w = data;
    GPtrArray *rx = tn_nic(w->m, "nic0")->rx;
    for (guint i = 0; i < rx->len; i++) {
        gsize n;
        const uint8_t *f = g_bytes_get_data(rx->pdata[i], &n);
        if (n >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 2 && !memcmp(f + 28, w->ip, 4) &&
            !memcmp(f, vm_mac, 6))
            return true;
    }
    return false;
}

static char *status(TessMachine *m)
{
    g_autoptr(GPtrArray) ms = g_ptr_array_new();
    g_ptr_array_add(ms, m);
    return tess_control_handle_line(ms, "{\"cmd\":\"switch\",\"args\":[\"nic0.net\"]}");
}

/* The uplink's line of the switch status: "  host: in N out M". */
static uint64_t uplink_out(const char *st, const char *kind)
{
    g_autofree char *key = g_strdup_printf("%s: in ", kind);
    const char *l = strstr(st, key);
    g_assert_nonnull(l);
    const char *o = strstr(l, " out ");
    g_assert_nonnull(o);
    return g_ascii_strtoull(o + 5, NULL, 10);
}

static void test_tap(void)
{
    g_autoptr(GError) err = NULL;
    TessMachine *m = th_machine_try("<device type='tn-nic' id='nic0' mac='52:54:00:00:00:0a'>"
                                    "<net type='switch' name='up-tap' tap='tt0' host='off'/></device>",
                                    &err);
    if (!m) {
        g_test_skip(err->message);
        return;
    }
    g_assert_true(sh("ip addr add 10.9.0.1/24 dev tt0 && ip link set tt0 up"));
    static const uint8_t me[4] = { 10, 9, 0, 2 }, host[4] = { 10, 9, 0, 1 };
    /* host=off: nothing goes to the TAP. */
    send_arp(m, me, host);
    g_autofree char *s1 = status(m);
    g_assert_cmpuint(uplink_out(s1, "host"), ==, 0);
    g_assert_true(tess_device_set_prop(tess_machine_device(m, "nic0.net"), "host", "on", &err));
    send_arp(m, me, host);
    ArpWait w = { m, host };
    g_assert_true(tn_pump(m, got_arp_reply, &w));
    th_machine_free(m);
    g_assert_false(sh("ip link show tt0 2>/dev/null"));      /* gone with the switch */
}

static void test_pcap(void)
{
    if (!sh("ip link add tva type veth peer name tvb && ip addr add 10.8.0.1/24 dev tvb && "
            "ip link set tva up && ip link set tvb up")) {
        g_test_skip("cannot create a veth pair");
        return;
    }
    g_autoptr(GError) err = NULL;
    TessMachine *m = th_machine_try("<device type='tn-nic' id='nic0' mac='52:54:00:00:00:0a'>"
                                    "<net type='switch' name='up-ext' pcap='tva' external='off'/></device>",
                                    &err);
    if (!m) {
        g_test_skip(err->message);
        return;
    }
    static const uint8_t me[4] = { 10, 8, 0, 2 }, peer[4] = { 10, 8, 0, 1 };
    send_arp(m, me, peer);
    g_autofree char *s1 = status(m);
    g_assert_cmpuint(uplink_out(s1, "external"), ==, 0);
    g_assert_true(tess_device_set_prop(tess_machine_device(m, "nic0.net"), "external", "on", &err));
    send_arp(m, me, peer);
    ArpWait w = { m, peer };
    g_assert_true(tn_pump(m, got_arp_reply, &w));
    th_machine_free(m);
    /* A name that is no interface is refused at realize. */
    TessMachine *bad = th_machine_try("<device type='tn-nic' id='nic0'>"
                                      "<net type='switch' name='up-bad' pcap='no-such-if0'/></device>",
                                      &err);
    g_assert_null(bad);
    g_assert_nonnull(strstr(err->message, "no-such-if0"));
}

int main(int argc, char **argv)
{
    /* First, before any thread exists: a namespace of our own. */
    if (unshare(CLONE_NEWNET) != 0) {
        g_printerr("unshare(CLONE_NEWNET): %s: skipped\n", g_strerror(errno));
        return 77;
    }
    g_autofree char *ip = g_find_program_in_path("ip");
    if (!ip && !g_file_test("/usr/sbin/ip", G_FILE_TEST_IS_EXECUTABLE) &&
        !g_file_test("/sbin/ip", G_FILE_TEST_IS_EXECUTABLE)) {
        g_printerr("iproute2's ip is not installed: skipped\n");
        return 77;
    }
    g_setenv("PATH", "/usr/sbin:/sbin:/usr/bin:/bin", TRUE);
    g_test_init(&argc, &argv, NULL);
    tn_register();
    g_test_add_func("/uplink/tap", test_tap);
    g_test_add_func("/uplink/pcap", test_pcap);
    return g_test_run();
}
