/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The "switch" backend: learning, unicast forwarding, flooding, per-port
 * routing preferences, separate switches by name, two machines on one
 * switch, and captures that tcpdump reads.
 */
#include "tnic.h"

#include <string.h>
#include <glib/gstdio.h>

static const uint8_t bcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
static const uint8_t mcast[6] = { 0x01, 0x00, 0x5E, 0x00, 0x00, 0x01 };
static const uint8_t mac_a[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x0A };
static const uint8_t mac_b[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x0B };
static const uint8_t mac_x[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x77 };

#define NIC(id, mac, sw, extra) \
    "<device type='tn-nic' id='" id "' mac='" mac "'><net type='switch' name='" sw "' " extra "/></device>"

static unsigned rx(TessMachine *m, const char *nic)
{
    tess_net_poll(m);
    return tn_nic(m, nic)->rx->len;
}

static void test_forwarding(void)
{
    TessMachine *m = th_machine(NIC("a", "52:54:00:00:00:0a", "fw", "")
                                NIC("b", "52:54:00:00:00:0b", "fw", "")
                                NIC("c", "52:54:00:00:00:0c", "fw", "")
                                NIC("d", "52:54:00:00:00:0d", "fw-other", ""));
    /* Broadcast and multicast: every other port of the same switch. */
    g_assert_cmpint(tn_send(m, "a", bcast, 1, 60), ==, TESS_NET_OK);
    g_assert_cmpuint(rx(m, "a"), ==, 0);
    g_assert_cmpuint(rx(m, "b"), ==, 1);
    g_assert_cmpuint(rx(m, "c"), ==, 1);
    g_assert_cmpuint(rx(m, "d"), ==, 0);
    tn_send(m, "a", mcast, 2, 60);
    g_assert_cmpuint(rx(m, "b"), ==, 2);
    g_assert_cmpuint(rx(m, "c"), ==, 2);
    /* a was learned: unicast to a reaches only a. */
    tn_send(m, "b", mac_a, 3, 60);
    g_assert_cmpuint(rx(m, "a"), ==, 1);
    g_assert_cmpuint(rx(m, "c"), ==, 2);
    g_assert_cmpuint(tn_seq(tn_nic(m, "a")->rx->pdata[0]), ==, 3);
    /* Unknown unicast is flooded. */
    tn_send(m, "a", mac_x, 4, 60);
    g_assert_cmpuint(rx(m, "b"), ==, 3);
    g_assert_cmpuint(rx(m, "c"), ==, 3);
    /* b is known now (it sent): a -> b goes to b alone. */
    tn_send(m, "a", mac_b, 5, 60);
    g_assert_cmpuint(rx(m, "b"), ==, 4);
    g_assert_cmpuint(rx(m, "c"), ==, 3);
    /* A frame to its own sender's port is not echoed. */
    tn_send(m, "b", mac_b, 6, 60);
    g_assert_cmpuint(rx(m, "b"), ==, 4);
    g_assert_cmpuint(rx(m, "a"), ==, 1);
    g_assert_cmpuint(rx(m, "c"), ==, 3);
    /* A MAC moving to another port is re-learned there. */
    TnNic *c = tn_nic(m, "c");
    g_autoptr(GBytes) f = tn_frame(bcast, mac_a, 7, 60);
    tess_net_port_send(c->port, g_bytes_get_data(f, NULL), 60);
    tn_send(m, "b", mac_a, 8, 60);
    g_assert_cmpuint(rx(m, "c"), ==, 4);
    g_assert_cmpuint(tn_seq(c->rx->pdata[3]), ==, 8);
    g_assert_cmpuint(rx(m, "a"), ==, 2);       /* only the broadcast 7 */
    /* The other switch stays silent throughout. */
    g_assert_cmpuint(rx(m, "d"), ==, 0);
    th_machine_free(m);
}

static void test_preferences(void)
{
    TessMachine *m = th_machine(NIC("a", "52:54:00:00:00:0a", "pref", "")
                                NIC("b", "52:54:00:00:00:0b", "pref", "")
                                NIC("c", "52:54:00:00:00:0c", "pref", "vm='off'"));
    /* c does not talk to other VMs, either way. */
    tn_send(m, "a", bcast, 1, 60);
    g_assert_cmpuint(rx(m, "b"), ==, 1);
    g_assert_cmpuint(rx(m, "c"), ==, 0);
    tn_send(m, "c", bcast, 2, 60);
    g_assert_cmpuint(rx(m, "a"), ==, 0);
    g_assert_cmpuint(rx(m, "b"), ==, 1);
    /* Changed at run time (a runtime property). */
    g_autoptr(GError) err = NULL;
    g_assert_true(tess_device_set_prop(tess_machine_device(m, "c.net"), "vm", "on", &err));
    tn_send(m, "c", bcast, 3, 60);
    g_assert_cmpuint(rx(m, "a"), ==, 1);
    g_assert_cmpuint(rx(m, "b"), ==, 2);
    g_assert_true(tess_device_set_prop(tess_machine_device(m, "a.net"), "vm", "off", &err));
    tn_send(m, "b", bcast, 4, 60);
    g_assert_cmpuint(rx(m, "a"), ==, 1);
    g_assert_cmpuint(rx(m, "c"), ==, 1);
    th_machine_free(m);
}

/* Source addresses sprayed by a hostile guest: the table stays bounded
 * and forwarding keeps working (by flooding). */
static void test_table_bound(void)
{
    TessMachine *m = th_machine(NIC("a", "52:54:00:00:00:0a", "spray", "")
                                NIC("b", "52:54:00:00:00:0b", "spray", ""));
    TnNic *a = tn_nic(m, "a");
    for (uint32_t i = 0; i < 10000; i++) {
        uint8_t src[6] = { 0x02, 0, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i, 1 };
        g_autoptr(GBytes) f = tn_frame(mac_x, src, i, 60);
        tess_net_port_send(a->port, g_bytes_get_data(f, NULL), 60);
        if (i % 100 == 99)
            tess_net_poll(m);
    }
    g_assert_cmpuint(rx(m, "b"), ==, 10000);
    g_autofree char *st = NULL;
    {
        g_autoptr(GPtrArray) ms = g_ptr_array_new();
        g_ptr_array_add(ms, m);
        st = tess_control_handle_line(ms, "{\"cmd\":\"switch\",\"args\":[\"a.net\"]}");
    }
    g_assert_nonnull(strstr(st, "4096 addresses"));
    th_machine_free(m);
}

/* Two machines of one process on one switch. */
static void test_two_machines(void)
{
    TessMachine *m1 = th_machine(NIC("nic0", "52:54:00:00:00:0a", "lab", ""));
    TessMachine *m2 = th_machine(NIC("nic0", "52:54:00:00:00:0b", "lab", ""));
    TessMachine *m3 = th_machine(NIC("nic0", "52:54:00:00:00:0c", "lab2", ""));
    tn_send(m1, "nic0", bcast, 1, 100);
    g_assert_true(tess_net_pending(m2));
    g_assert_false(tess_net_pending(m1));
    g_assert_cmpuint(rx(m2, "nic0"), ==, 1);
    g_assert_cmpuint(rx(m3, "nic0"), ==, 0);
    tn_send(m2, "nic0", mac_a, 2, 1514);
    g_assert_cmpuint(rx(m1, "nic0"), ==, 1);
    g_assert_cmpuint(tn_seq(tn_nic(m1, "nic0")->rx->pdata[0]), ==, 2);
    /* One machine leaving does not disturb the other's port. */
    th_machine_free(m1);
    tn_send(m2, "nic0", mac_a, 3, 60);           /* a unknown now: flooded to nobody */
    g_assert_cmpuint(rx(m2, "nic0"), ==, 1);
    /* And its backend swapped at run time joins another switch. */
    g_autoptr(GError) err = NULL;
    const char *lab2[] = { "name=lab2", NULL };
    TnNic *n2 = tn_nic(m2, "nic0");
    g_assert_true(tess_device_replace_child(&n2->dev, "net", 0, "switch", lab2, &err));
    g_assert_cmpstr(n2->links->str, ==, "du");
    tn_send(m3, "nic0", bcast, 4, 60);
    g_assert_cmpuint(rx(m2, "nic0"), ==, 2);
    th_machine_free(m2);
    th_machine_free(m3);
}

typedef struct {
    TessMachine *m;
    const char *nic;
    unsigned want;
} Want;

static bool has_frames(void *data)
{
    Want *w = data;
    return tn_nic(w->m, w->nic)->rx->len >= w->want;
}

/* Machines on their own threads exchanging frames through the switch. */
typedef struct {
    TessMachine *m;
    unsigned n;
} Blaster;

static gpointer blaster(gpointer data)
{
    Blaster *b = data;
    for (unsigned i = 0; i < b->n; i++) {
        while (tn_send(b->m, "nic0", bcast, i, 60 + i % 1000) != TESS_NET_OK)
            g_thread_yield();
        if (i % 64 == 63)
            tn_pump_once(b->m, 0);              /* this machine's own loop turns too */
    }
    return NULL;
}

static void test_threads(void)
{
    TessMachine *m1 = th_machine(NIC("nic0", "52:54:00:00:00:0a", "thr", ""));
    TessMachine *m2 = th_machine(NIC("nic0", "52:54:00:00:00:0b", "thr", ""));
    Blaster b1 = { m1, 20000 }, b2 = { m2, 20000 };
    GThread *t1 = g_thread_new("m1", blaster, &b1);
    /* m2 blasts from this thread's point of view too: both produce into
     * each other's ring at once, serialised by the switch. */
    GThread *t2 = g_thread_new("m2", blaster, &b2);
    g_thread_join(t1);
    g_thread_join(t2);
    Want w1 = { m1, "nic0", 1 }, w2 = { m2, "nic0", 1 };
    tn_pump(m1, has_frames, &w1);
    tn_pump(m2, has_frames, &w2);
    /* What arrived arrived in order; what the full ring refused is
     * counted, never half-delivered. */
    for (int k = 0; k < 2; k++) {
        TessMachine *m = k ? m2 : m1;
        TnNic *n = tn_nic(m, "nic0");
        tess_net_poll(m);
        int64_t last = -1;
        for (guint i = 0; i < n->rx->len; i++) {
            uint32_t s = tn_seq(n->rx->pdata[i]);
            g_assert_cmpint((int64_t)s, >, last);
            last = s;
        }
        g_assert_cmpuint(n->rx->len + tess_net_port_async_dropped(n->port), ==, 20000);
    }
    th_machine_free(m1);
    th_machine_free(m2);
}

/* A machine with nothing to do sleeps until a host thread hands it work,
 * with no deadline (the run loop's idle wait when no timer is armed). A
 * frame a peer machine sends through the switch must end that sleep at
 * once - not at the next timer tick, of which there may be none - and
 * end the CPU's slice when it is running. */
typedef struct {
    TessMachine *m;
    bool asleep;                    /* under m->lock */
    bool woken;                     /* by the frame, not by the 10 s bound */
} Sleeper;

static gpointer sleeper(gpointer data)
{
    Sleeper *s = data;
    TessMachine *m = s->m;
    gint64 bound = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    bool timed_out = false;
    g_mutex_lock(&m->lock);
    while (!tess_net_pending(m) && !timed_out) {
        s->asleep = true;           /* seen under the lock: we are in the wait */
        timed_out = !g_cond_wait_until(&m->cond, &m->lock, bound);
    }
    s->woken = !timed_out;
    g_mutex_unlock(&m->lock);
    tess_net_poll(m);
    return NULL;
}

static void test_wake_idle_peer(void)
{
    TessMachine *m1 = th_machine(NIC("nic0", "52:54:00:00:00:0a", "wake", ""));
    TessMachine *m2 = th_machine(NIC("nic0", "52:54:00:00:00:0b", "wake", ""));
    for (unsigned round = 0; round < 20; round++) {
        Sleeper s = { m2 };
        g_atomic_int_set(&m2->cpu_run.stop, 0);
        /* Even rounds: the frame comes while the machine sleeps; odd
         * rounds: before it goes to sleep, which it then must not. */
        GThread *t = NULL;
        if (round % 2 == 0) {
            t = g_thread_new("m2", sleeper, &s);
            for (bool asleep = false; !asleep; g_thread_yield()) {
                g_mutex_lock(&m2->lock);
                asleep = s.asleep;  /* set under the lock the wait releases */
                g_mutex_unlock(&m2->lock);
            }
        }
        g_assert_cmpint(tn_send(m1, "nic0", bcast, round, 60), ==, TESS_NET_OK);
        g_assert_cmpint(g_atomic_int_get(&m2->cpu_run.stop), ==, 1);
        if (!t)
            t = g_thread_new("m2", sleeper, &s);
        g_thread_join(t);
        g_assert_true(s.woken);
        g_assert_cmpuint(tn_nic(m2, "nic0")->rx->len, ==, round + 1);
        g_assert_cmpuint(tn_seq(tn_nic(m2, "nic0")->rx->pdata[round]), ==, round);
    }
    th_machine_free(m1);
    th_machine_free(m2);
}

static bool have_tcpdump(void)
{
    g_autofree char *p = g_find_program_in_path("tcpdump");
    if (!p)
        p = g_strdup(g_file_test("/usr/bin/tcpdump", G_FILE_TEST_IS_EXECUTABLE) ? "x" : NULL);
    return p != NULL;
}

static char *tcpdump_read(const char *file, GError **err)
{
    g_autofree char *prog = g_find_program_in_path("tcpdump");
    const char *argv[] = { prog ? prog : "/usr/bin/tcpdump", "-nn", "-e", "-r", file, NULL };
    char *out = NULL;
    int status = 0;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
                      NULL, &status, err))
        return NULL;
    if (!g_spawn_check_wait_status(status, err)) {
        g_free(out);
        return NULL;
    }
    return out;
}

/* Packets in tcpdump's output: lines that are not hex dump lines. */
static unsigned count_lines(const char *s)
{
    unsigned n = 0;
    for (bool bol = true; *s; s++) {
        if (bol && *s != '\t')
            n++;
        bol = *s == '\n';
    }
    return n;
}

static void test_capture(void)
{
    if (!have_tcpdump()) {
        g_test_skip("tcpdump is not installed");
        return;
    }
    g_autofree char *dir = g_dir_make_tmp("tess-cap-XXXXXX", NULL);
    g_autofree char *f1 = g_build_filename(dir, "a.pcap", NULL);
    g_autofree char *f2 = g_build_filename(dir, "b.pcap", NULL);
    g_autofree char *xml = g_strdup_printf(
        NIC("a", "52:54:00:00:00:0a", "cap", "capture='%s'") NIC("b", "52:54:00:00:00:0b", "cap", ""),
        f1);
    TessMachine *m = th_machine(xml);
    tn_send(m, "a", bcast, 1, 60);
    tn_send(m, "b", mac_a, 2, 200);
    g_assert_cmpuint(rx(m, "a"), ==, 1);
    /* And one started at run time on b. */
    g_autoptr(GPtrArray) ms = g_ptr_array_new();
    g_ptr_array_add(ms, m);
    g_autofree char *req = g_strdup_printf("{\"cmd\":\"capture\",\"args\":[\"b\",\"start\",\"%s\"]}", f2);
    g_autofree char *r1 = tess_control_handle_line(ms, req);
    g_assert_nonnull(strstr(r1, "\"ok\":true"));
    tn_send(m, "b", mac_a, 3, 70);
    tn_send(m, "a", mac_b, 4, 80);
    g_assert_cmpuint(rx(m, "b"), ==, 2);
    g_assert_cmpuint(rx(m, "a"), ==, 2);
    g_autofree char *r2 = tess_control_handle_line(ms, "{\"cmd\":\"capture\",\"args\":[\"b\",\"stop\"]}");
    g_assert_nonnull(strstr(r2, "closed"));
    tn_send(m, "b", mac_a, 5, 90);              /* not in b.pcap */
    g_assert_cmpuint(rx(m, "a"), ==, 3);
    g_autofree char *r3 = tess_control_handle_line(ms, "{\"cmd\":\"capture\",\"args\":[\"b\",\"stop\"]}");
    g_assert_nonnull(strstr(r3, "no capture running"));
    g_autofree char *r4 = tess_control_handle_line(
        ms, "{\"cmd\":\"capture\",\"args\":[\"b\",\"start\",\"/nonexistent/dir/x.pcap\"]}");
    g_assert_nonnull(strstr(r4, "\"ok\":false"));
    th_machine_free(m);

    g_autoptr(GError) err = NULL;
    g_autofree char *o1 = tcpdump_read(f1, &err);
    g_assert_no_error(err);
    /* a: sent 1 (60), got 2 (200), sent 4 (80), got 3 (70), got 5 (90). */
    g_assert_cmpuint(count_lines(o1), ==, 5);
    g_assert_nonnull(strstr(o1, "52:54:00:00:00:0a > ff:ff:ff:ff:ff:ff, ethertype Unknown (0x88b5), length 60"));
    g_assert_nonnull(strstr(o1, "52:54:00:00:00:0b > 52:54:00:00:00:0a, ethertype Unknown (0x88b5), length 200"));
    g_autofree char *o2 = tcpdump_read(f2, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(count_lines(o2), ==, 2);
    g_assert_nonnull(strstr(o2, "length 70"));
    g_assert_nonnull(strstr(o2, "length 80"));
    g_unlink(f1);
    g_unlink(f2);
    g_rmdir(dir);
}

/* Hostile guests: random frames (any length, any addresses) from random
 * NICs, with backends swapped, links pulled and receivers refusing in
 * between. Nothing may crash, leak into another switch, or arrive out
 * of shape; ASan and UBSan watch the memory. */
static void test_fuzz(void)
{
    TessMachine *m = th_machine(NIC("a", "52:54:00:00:00:0a", "fz", "")
                                NIC("b", "52:54:00:00:00:0b", "fz", "")
                                NIC("c", "52:54:00:00:00:0c", "fz", "host='off'")
                                NIC("d", "52:54:00:00:00:0d", "fz-iso", ""));
    GRand *r = g_rand_new_with_seed(0x5eed);
    const char *nics[] = { "a", "b", "c", "d" };
    static uint8_t buf[TESS_NET_FRAME_MAX + 64];
    for (unsigned i = 0; i < 20000; i++) {
        const char *id = nics[g_rand_int_range(r, 0, 4)];
        TnNic *n = tn_nic(m, id);
        unsigned op = g_rand_int_range(r, 0, 100);
        if (op < 90) {
            size_t len = g_rand_int_range(r, 0, 4) == 0 ? g_rand_int_range(r, 0, sizeof(buf))
                                                         : g_rand_int_range(r, 0, 1600);
            for (size_t k = 0; k < MIN(len, 64u); k++)
                buf[k] = (uint8_t)g_rand_int(r);
            if (g_rand_boolean(r))          /* a known or broadcast destination */
                memcpy(buf, g_rand_boolean(r) ? bcast : mac_a, 6);
            TessNetTx t = tess_net_port_send(n->port, buf, len);
            g_assert_true(t == TESS_NET_OK || t == TESS_NET_DROPPED);
            g_assert_true(t == TESS_NET_DROPPED ||
                          (len >= TESS_NET_FRAME_MIN && len <= TESS_NET_FRAME_MAX));
        } else if (op < 93) {
            n->refuse = !n->refuse;
            if (!n->refuse)
                tess_net_port_rx_ready(n->port);
        } else if (op < 96) {
            g_autoptr(GError) err = NULL;
            const char *sw = g_rand_boolean(r) ? "name=fz" : "name=fz-iso";
            const char *props[] = { sw, NULL };
            const char *type = g_rand_int_range(r, 0, 3) ? "switch" : "none";
            g_assert_true(tess_device_replace_child(&n->dev, "net", 0, type,
                                                    strcmp(type, "none") ? props : NULL, &err));
        } else {
            tess_net_poll(m);
        }
    }
    tess_net_poll(m);
    for (int k = 0; k < 4; k++) {
        TnNic *n = tn_nic(m, nics[k]);
        for (guint i = 0; i < n->rx->len; i++) {
            gsize len = g_bytes_get_size(n->rx->pdata[i]);
            g_assert_cmpuint(len, >=, TESS_NET_FRAME_MIN);
            g_assert_cmpuint(len, <=, TESS_NET_FRAME_MAX);
        }
    }
    g_rand_free(r);
    th_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tn_register();
    g_test_add_func("/switch/forwarding", test_forwarding);
    g_test_add_func("/switch/preferences", test_preferences);
    g_test_add_func("/switch/table-bound", test_table_bound);
    g_test_add_func("/switch/two-machines", test_two_machines);
    g_test_add_func("/switch/threads", test_threads);
    g_test_add_func("/switch/wake-idle-peer", test_wake_idle_peer);
    g_test_add_func("/switch/capture", test_capture);
    g_test_add_func("/switch/fuzz", test_fuzz);
    return g_test_run();
}
