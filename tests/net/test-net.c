/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The port layer (core/net.c): the async ring (order, full ring, a
 * concurrent producer), the NIC's refusal queue, link state, BUSY and
 * tx_ready, the order of a capture when the backend answers inside its
 * send, run-time swap with rollback, per-instance control commands,
 * runtime properties from the control socket, and the "none" backend.
 */
#include "tnic.h"

#include <string.h>
#include <glib/gstdio.h>

static const uint8_t bcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };

static const char *one_nic =
    "<device type='tn-nic' id='nic0' mac='52:54:00:00:00:01'>"
    "<net type='tn-backend'/></device>";

static void deliver_async_seq(TnNic *n, uint32_t seq, size_t len, bool expect)
{
    g_autoptr(GBytes) f = tn_frame(bcast, bcast, seq, len);
    gsize sz;
    const void *d = g_bytes_get_data(f, &sz);
    g_assert_cmpint(tess_net_port_deliver_async(n->port, d, sz), ==, expect);
}

static void test_ring_order(void)
{
    TessMachine *m = th_machine(one_nic);
    TnNic *n = tn_nic(m, "nic0");
    for (uint32_t i = 0; i < 100; i++)
        deliver_async_seq(n, i, 60 + i * 13, true);
    g_assert_true(tess_net_pending(m));
    g_assert_cmpuint(n->rx->len, ==, 0);        /* nothing until the machine polls */
    tess_net_poll(m);
    g_assert_false(tess_net_pending(m));
    g_assert_cmpuint(n->rx->len, ==, 100);
    for (uint32_t i = 0; i < 100; i++) {
        g_assert_cmpuint(tn_seq(n->rx->pdata[i]), ==, i);
        g_assert_cmpuint(g_bytes_get_size(n->rx->pdata[i]), ==, 60 + i * 13);
    }
    /* Malformed lengths never enter. */
    uint8_t big[TESS_NET_FRAME_MAX + 1] = { 0 };
    g_assert_false(tess_net_port_deliver_async(n->port, big, 13));
    g_assert_false(tess_net_port_deliver_async(n->port, big, sizeof(big)));
    g_assert_true(tess_net_port_deliver_async(n->port, big, TESS_NET_FRAME_MAX));
    tess_net_poll(m);
    g_assert_cmpuint(n->rx->len, ==, 101);
    th_machine_free(m);
}

static void test_ring_full(void)
{
    TessMachine *m = th_machine(one_nic);
    TnNic *n = tn_nic(m, "nic0");
    /* Fill with full-size frames (records wrap at the end of the ring). */
    uint32_t accepted = 0;
    for (uint32_t i = 0; i < 1000; i++) {
        bool room = tess_net_port_async_room(n->port, 1514);
        g_autoptr(GBytes) f = tn_frame(bcast, bcast, i, 1514);
        bool ok = tess_net_port_deliver_async(n->port, g_bytes_get_data(f, NULL), 1514);
        g_assert_cmpint(ok, ==, room);
        if (!ok)
            break;
        accepted++;
    }
    g_assert_cmpuint(accepted, >=, TESS_NET_RING_BYTES / 1536 - 1);
    g_assert_cmpuint(accepted, <=, TESS_NET_RING_BYTES / 1514);
    g_assert_cmpuint(tess_net_port_async_dropped(n->port), ==, 1);
    /* The NIC's ring is full too: frames stay in the port's ring. */
    n->refuse = true;
    tess_net_poll(m);
    g_assert_cmpuint(n->rx->len, ==, 0);
    g_assert_false(tess_net_port_async_room(n->port, 1514));
    g_autoptr(GError) err = NULL;
    g_assert_true(tess_device_set_prop(&n->dev, "refuse", "off", &err));   /* -> rx_ready */
    g_assert_cmpuint(n->rx->len, ==, accepted);
    for (uint32_t i = 0; i < accepted; i++)
        g_assert_cmpuint(tn_seq(n->rx->pdata[i]), ==, i);
    /* Room again, and the wrapped ring keeps order. */
    for (uint32_t i = 0; i < 3 * accepted; i++) {
        deliver_async_seq(n, 5000 + i, 600 + (i * 97) % 900, true);
        if (i % 7 == 6)
            tess_net_poll(m);
        if (!tess_net_port_async_room(n->port, 1514))
            tess_net_poll(m);
    }
    tess_net_poll(m);
    g_assert_cmpuint(n->rx->len, ==, 4 * accepted);
    for (uint32_t i = 0; i < 3 * accepted; i++)
        g_assert_cmpuint(tn_seq(n->rx->pdata[accepted + i]), ==, 5000 + i);
    th_machine_free(m);
}

/* A host thread producing while the machine thread consumes. */
typedef struct {
    TnNic *n;
    uint32_t count;
    unsigned long retries;
} Producer;

static gpointer producer(gpointer data)
{
    Producer *p = data;
    for (uint32_t i = 0; i < p->count; i++) {
        size_t len = 18 + (i * 7919u) % 1500;
        g_autoptr(GBytes) f = tn_frame(bcast, bcast, i, len);
        while (!tess_net_port_deliver_async(p->n->port, g_bytes_get_data(f, NULL), len)) {
            p->retries++;
            g_thread_yield();
        }
    }
    return NULL;
}

static bool got_all(void *data)
{
    Producer *p = data;
    return p->n->rx->len >= p->count;
}

static void test_ring_concurrent(void)
{
    TessMachine *m = th_machine(one_nic);
    Producer p = { .n = tn_nic(m, "nic0"), .count = 200000 };
    GThread *t = g_thread_new("producer", producer, &p);
    g_assert_true(tn_pump(m, got_all, &p));
    g_thread_join(t);
    tess_net_poll(m);
    g_assert_cmpuint(p.n->rx->len, ==, p.count);
    for (uint32_t i = 0; i < p.count; i++) {
        g_assert_cmpuint(tn_seq(p.n->rx->pdata[i]), ==, i);
        g_assert_cmpuint(g_bytes_get_size(p.n->rx->pdata[i]), ==, 18 + (i * 7919u) % 1500);
    }
    g_assert_cmpuint(tess_net_port_async_dropped(p.n->port), ==, p.retries);
    th_machine_free(m);
}

static void test_sync_deliver_queue(void)
{
    TessMachine *m = th_machine(one_nic);
    TnNic *n = tn_nic(m, "nic0");
    TnBackend *b = tn_backend(m, "nic0.net");
    n->refuse = true;
    unsigned taken = 0;
    for (uint32_t i = 0; i < 100; i++) {
        g_autoptr(GBytes) f = tn_frame(bcast, bcast, i, 64);
        taken += tess_net_port_deliver(b->port, g_bytes_get_data(f, NULL), 64);
    }
    g_assert_cmpuint(taken, ==, 64);           /* the port's queue, then drops */
    n->refuse = false;
    tess_net_port_rx_ready(n->port);
    g_assert_cmpuint(n->rx->len, ==, 64);
    for (uint32_t i = 0; i < 64; i++)
        g_assert_cmpuint(tn_seq(n->rx->pdata[i]), ==, i);
    th_machine_free(m);
}

/* A NIC that sends from its receive callback, into a backend that
 * delivers from its send: nothing is lost, duplicated or reordered. */
static void test_reentry(void)
{
    TessMachine *m = th_machine("<device type='tn-nic' id='nic0' reply='on'>"
                                "<net type='tn-backend' echo='on'/></device>");
    TnNic *n = tn_nic(m, "nic0");
    /* Straight: receive -> send -> deliver -> receive. */
    g_assert_cmpint(tn_send(m, "nic0", bcast, 200, 60), ==, TESS_NET_OK);
    g_assert_cmpuint(n->rx->len, ==, 1);
    /* From the ring: 0, 1, 2 arrive; each answer (100, 101, 102) is
     * delivered while the ring is being drained. */
    for (uint32_t i = 0; i < 3; i++)
        deliver_async_seq(n, i, 60, true);
    tess_net_poll(m);
    g_assert_cmpuint(n->rx->len, ==, 7);
    static const uint32_t want[] = { 200, 0, 100, 1, 101, 2, 102 };
    for (guint i = 0; i < 7; i++)
        g_assert_cmpuint(tn_seq(n->rx->pdata[i]), ==, want[i]);
    th_machine_free(m);
}

/* The seq of each frame in a capture file, in file order (pcap_dump
 * writes the host's byte order). */
static GArray *capture_seqs(const char *file)
{
    g_autofree uint8_t *d = NULL;
    gsize n = 0;
    g_assert_true(g_file_get_contents(file, (char **)&d, &n, NULL));
    g_assert_cmpuint(n, >=, 24);
    uint32_t magic;
    memcpy(&magic, d, 4);
    g_assert_cmphex(magic, ==, 0xA1B2C3D4u);
    GArray *seqs = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    for (gsize off = 24; off + 16 <= n;) {
        uint32_t cap;
        memcpy(&cap, d + off + 8, 4);
        off += 16;
        g_assert_cmpuint(off + cap, <=, n);
        g_autoptr(GBytes) f = g_bytes_new(d + off, cap);
        uint32_t seq = tn_seq(f);
        g_array_append_val(seqs, seq);
        off += cap;
    }
    return seqs;
}

/* A backend that answers from inside its send (slirp answers ARP, ping
 * and TCP ACKs so): the capture shows each frame before the answer it
 * caused, also when the NIC answers the answer from its receive
 * callback (a send inside a send), and a frame the backend refuses is
 * not in the file. */
static void test_capture_order(void)
{
    g_autofree char *dir = g_dir_make_tmp("tess-capord-XXXXXX", NULL);
    g_autofree char *file = g_build_filename(dir, "c.pcap", NULL);
    g_autofree char *xml = g_strdup_printf(
        "<device type='tn-nic' id='nic0' mac='52:54:00:00:00:01' reply='on'>"
        "<net type='tn-backend' echo='on' capture='%s'/></device>", file);
    TessMachine *m = th_machine(xml);
    TnNic *n = tn_nic(m, "nic0");
    TnBackend *b = tn_backend(m, "nic0.net");
    /* sent 5, echoed 5, the NIC's answer 105 sent, echoed 105 */
    g_assert_cmpint(tn_send(m, "nic0", bcast, 5, 60), ==, TESS_NET_OK);
    g_assert_cmpuint(n->rx->len, ==, 2);
    g_autoptr(GError) err = NULL;
    g_assert_true(tess_device_set_prop(&b->dev, "busy", "on", &err));
    g_assert_cmpint(tn_send(m, "nic0", bcast, 7, 60), ==, TESS_NET_BUSY);
    g_assert_true(tess_device_set_prop(&b->dev, "busy", "off", &err));
    g_assert_cmpint(tn_send(m, "nic0", bcast, 200, 60), ==, TESS_NET_OK);
    th_machine_free(m);
    g_autoptr(GArray) seqs = capture_seqs(file);
    static const uint32_t want[] = { 5, 5, 105, 105, 200, 200 };
    g_assert_cmpuint(seqs->len, ==, G_N_ELEMENTS(want));
    for (guint i = 0; i < seqs->len; i++)
        g_assert_cmpuint(g_array_index(seqs, uint32_t, i), ==, want[i]);
    g_unlink(file);
    g_rmdir(dir);
}

static void test_send_link_busy(void)
{
    TessMachine *m = th_machine(one_nic);
    TnNic *n = tn_nic(m, "nic0");
    TnBackend *b = tn_backend(m, "nic0.net");
    g_assert_true(tess_net_port_link_up(n->port));
    g_assert_cmpint(tn_send(m, "nic0", bcast, 1, 60), ==, TESS_NET_OK);
    g_assert_cmpuint(b->tx->len, ==, 1);
    uint8_t tiny[13] = { 0 };
    g_assert_cmpint(tess_net_port_send(n->port, tiny, sizeof(tiny)), ==, TESS_NET_DROPPED);
    g_autoptr(GError) err = NULL;
    g_assert_true(tess_device_set_prop(&b->dev, "busy", "on", &err));
    g_assert_cmpint(tn_send(m, "nic0", bcast, 2, 60), ==, TESS_NET_BUSY);
    g_assert_true(tess_device_set_prop(&b->dev, "busy", "off", &err));
    g_assert_cmpuint(n->tx_ready, ==, 1);
    g_assert_true(tess_device_set_prop(&b->dev, "link", "off", &err));
    g_assert_cmpstr(n->links->str, ==, "d");
    g_assert_false(tess_net_port_link_up(n->port));
    g_assert_cmpint(tn_send(m, "nic0", bcast, 3, 60), ==, TESS_NET_DROPPED);
    g_assert_true(tess_device_set_prop(&b->dev, "link", "on", &err));
    g_assert_cmpstr(n->links->str, ==, "du");
    g_assert_cmpuint(b->tx->len, ==, 1);
    th_machine_free(m);
}

static void test_none(void)
{
    TessMachine *m = th_machine("<device type='tn-nic' id='nic0'><net type='none'/></device>"
                                "<device type='tn-nic' id='nic1'/>");
    TnNic *n = tn_nic(m, "nic0");
    g_assert_cmpstr(tess_machine_device(m, "nic0.net")->cls->type, ==, "none");
    g_assert_false(tess_net_port_link_up(n->port));
    g_assert_cmpint(tn_send(m, "nic0", bcast, 1, 60), ==, TESS_NET_DROPPED);
    /* An empty slot is a NIC without a backend: link down too, and a
     * backend can be plugged in at run time. */
    TnNic *n1 = tn_nic(m, "nic1");
    g_assert_null(tess_machine_device(m, "nic1.net"));
    g_assert_false(tess_net_port_link_up(n1->port));
    g_assert_cmpint(tn_send(m, "nic1", bcast, 1, 60), ==, TESS_NET_DROPPED);
    g_autoptr(GError) err = NULL;
    g_assert_true(tess_device_replace_child(&n1->dev, "net", 0, "tn-backend", NULL, &err));
    g_assert_cmpstr(n1->links->str, ==, "u");
    g_assert_cmpint(tn_send(m, "nic1", bcast, 2, 60), ==, TESS_NET_OK);
    guint ci, pi;
    g_assert_true(g_ptr_array_find(m->devices, tess_machine_device(m, "nic1.net"), &ci));
    g_assert_true(g_ptr_array_find(m->devices, &n1->dev, &pi));
    g_assert_cmpuint(ci, <, pi);
    th_machine_free(m);
}

static char *ctl(TessMachine *m, const char *json)
{
    g_autoptr(GPtrArray) ms = g_ptr_array_new();
    g_ptr_array_add(ms, m);
    return tess_control_handle_line(ms, json);
}

static void test_swap(void)
{
    TessMachine *m = th_machine(one_nic);
    TnNic *n = tn_nic(m, "nic0");
    guint ndev = m->devices->len;
    /* A backend that fails to realize: the old one stays, link untouched
     * but for the re-bind (down, up). */
    g_autoptr(GError) err = NULL;
    const char *fail[] = { "fail=on", NULL };
    g_assert_false(tess_device_replace_child(&n->dev, "net", 0, "tn-backend", fail, &err));
    g_assert_nonnull(strstr(err->message, "told to fail"));
    g_assert_nonnull(strstr(err->message, "stays tn-backend"));
    g_clear_error(&err);
    TnBackend *b = tn_backend(m, "nic0.net");
    g_assert_true(b->port != NULL);
    g_assert_true(tess_net_port_link_up(n->port));
    g_assert_cmpstr(n->links->str, ==, "du");
    g_assert_cmpint(tn_send(m, "nic0", bcast, 1, 60), ==, TESS_NET_OK);
    g_assert_cmpuint(b->tx->len, ==, 1);
    /* Unknown type, unknown property, not a network backend. */
    g_assert_false(tess_device_replace_child(&n->dev, "net", 0, "no-such", NULL, &err));
    g_clear_error(&err);
    const char *bad[] = { "bogus=1", NULL };
    g_assert_false(tess_device_replace_child(&n->dev, "net", 0, "switch", bad, &err));
    g_clear_error(&err);
    g_assert_false(tess_device_replace_child(&n->dev, "net", 0, "th-probe", NULL, &err));
    g_clear_error(&err);
    g_assert_false(tess_device_replace_child(&n->dev, "disk", 0, "none", NULL, &err));
    g_assert_nonnull(strstr(err->message, "no <disk> slot"));
    g_clear_error(&err);
    g_assert_true(tess_machine_device(m, "nic0.net") == &b->dev);
    g_assert_cmpstr(n->links->str, ==, "du");

    /* Through the control socket: to none (cable pulled), then back. */
    g_autofree char *r1 = ctl(m, "{\"cmd\":\"net\",\"args\":[\"nic0\",\"none\"]}");
    g_assert_nonnull(strstr(r1, "\"ok\":true"));
    g_assert_cmpstr(n->links->str, ==, "dud");
    g_assert_cmpstr(tess_machine_device(m, "nic0.net")->cls->type, ==, "none");
    g_assert_cmpuint(m->devices->len, ==, ndev);
    g_autofree char *r2 = ctl(m, "{\"cmd\":\"net\",\"args\":[\"nic0\",\"tn-backend\",\"link=on\"]}");
    g_assert_nonnull(strstr(r2, "\"ok\":true"));
    g_assert_cmpstr(n->links->str, ==, "dudu");
    b = tn_backend(m, "nic0.net");
    g_assert_cmpint(tn_send(m, "nic0", bcast, 2, 60), ==, TESS_NET_OK);
    g_assert_cmpuint(b->tx->len, ==, 1);
    /* Children still come before their parent. */
    guint ci, pi;
    g_assert_true(g_ptr_array_find(m->devices, &b->dev, &ci));
    g_assert_true(g_ptr_array_find(m->devices, &n->dev, &pi));
    g_assert_cmpuint(ci, <, pi);
    g_autofree char *r3 = ctl(m, "{\"cmd\":\"net\",\"args\":[\"nic0\",\"tn-backend\",\"fail=on\"]}");
    g_assert_nonnull(strstr(r3, "\"ok\":false"));
    g_assert_true(tess_machine_device(m, "nic0.net") == &b->dev);
    th_machine_free(m);
}

static void test_instance_commands(void)
{
    TessMachine *m = th_machine(
        "<device type='tn-nic' id='nic0' mac='52:54:00:00:00:01'><net type='tn-backend'/></device>"
        "<device type='tn-nic' id='nic1' mac='52:54:00:00:00:02'><net type='tn-backend'/></device>");
    g_autofree char *r1 = ctl(m, "{\"cmd\":\"net\",\"args\":[\"nic1\",\"none\"]}");
    g_assert_nonnull(strstr(r1, "\"ok\":true"));
    g_assert_cmpstr(tess_machine_device(m, "nic0.net")->cls->type, ==, "tn-backend");
    g_assert_cmpstr(tess_machine_device(m, "nic1.net")->cls->type, ==, "none");
    g_assert_cmpstr(tn_nic(m, "nic0")->links->str, ==, "");
    g_assert_cmpstr(tn_nic(m, "nic1")->links->str, ==, "d");
    /* Addressed through a descendant: nic0.net's nearest ancestor with
     * the command is nic0. */
    g_autofree char *r2 = ctl(m, "{\"cmd\":\"net\",\"args\":[\"nic0.net\",\"none\"]}");
    g_assert_nonnull(strstr(r2, "\"ok\":true"));
    g_assert_cmpstr(tn_nic(m, "nic0")->links->str, ==, "d");
    g_autofree char *r3 = ctl(m, "{\"cmd\":\"net\",\"args\":[\"nic7\",\"none\"]}");
    g_assert_nonnull(strstr(r3, "nic0, nic1"));
    g_autofree char *r4 = ctl(m, "{\"cmd\":\"help\"}");
    g_assert_nonnull(strstr(r4, "[nic0]"));
    g_assert_nonnull(strstr(r4, "[nic1]"));
    /* A machine-wide command cannot take a per-instance name. */
    g_autoptr(GError) err = NULL;
    g_assert_false(tess_control_add_command(tess_machine_device(m, "nic0"), "net", NULL,
                                            NULL, &err));
    g_assert_error(err, TESS_CONFIG_ERROR, TESS_ERROR_DUPLICATE);
    th_machine_free(m);
}

/* Two machines behind one control socket: the request names one. */
static void test_machine_addressing(void)
{
    TessMachine *a = th_machine(one_nic), *b = th_machine(one_nic);
    g_free(b->name);
    b->name = g_strdup("b");
    g_autoptr(GPtrArray) ms = g_ptr_array_new();
    g_ptr_array_add(ms, a);
    g_ptr_array_add(ms, b);
    g_autofree char *r1 = tess_control_handle_line(
        ms, "{\"cmd\":\"net\",\"machine\":\"b\",\"args\":[\"nic0\",\"none\"]}");
    g_assert_nonnull(strstr(r1, "\"ok\":true"));
    g_assert_cmpstr(tn_nic(b, "nic0")->links->str, ==, "d");
    g_assert_cmpstr(tn_nic(a, "nic0")->links->str, ==, "");
    g_autofree char *r2 = tess_control_handle_line(
        ms, "{\"cmd\":\"net\",\"machine\":\"zz\",\"args\":[\"nic0\",\"none\"]}");
    g_assert_nonnull(strstr(r2, "no such machine"));
    th_machine_free(a);
    th_machine_free(b);
}

static void test_set_runtime_prop(void)
{
    TessMachine *m = th_machine(one_nic);
    g_autofree char *r1 = ctl(m, "{\"cmd\":\"set\",\"args\":[\"nic0.net.link\",\"off\"]}");
    g_assert_nonnull(strstr(r1, "\"ok\":true"));
    g_assert_nonnull(strstr(r1, "nic0.net.link = off"));
    g_assert_cmpstr(tn_nic(m, "nic0")->links->str, ==, "d");
    g_autofree char *r2 = ctl(m, "{\"cmd\":\"set\",\"args\":[\"nic0.mac\",\"52:54:00:00:00:09\"]}");
    g_assert_nonnull(strstr(r2, "cannot change while the machine runs"));
    g_autofree char *r3 = ctl(m, "{\"cmd\":\"set\",\"args\":[\"nic0.net.link\",\"maybe\"]}");
    g_assert_nonnull(strstr(r3, "\"ok\":false"));
    g_autofree char *r4 = ctl(m, "{\"cmd\":\"set\",\"args\":[\"nope.x\",\"1\"]}");
    g_assert_nonnull(strstr(r4, "no device 'nope'"));
    g_autofree char *r5 = ctl(m, "{\"cmd\":\"set\",\"args\":[\"nic0\"]}");
    g_assert_nonnull(strstr(r5, "usage"));
    th_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tn_register();
    g_test_add_func("/net/ring/order", test_ring_order);
    g_test_add_func("/net/ring/full", test_ring_full);
    g_test_add_func("/net/ring/concurrent", test_ring_concurrent);
    g_test_add_func("/net/port/sync-queue", test_sync_deliver_queue);
    g_test_add_func("/net/port/link-busy", test_send_link_busy);
    g_test_add_func("/net/port/reentry", test_reentry);
    g_test_add_func("/net/port/capture-order", test_capture_order);
    g_test_add_func("/net/none", test_none);
    g_test_add_func("/net/swap", test_swap);
    g_test_add_func("/net/commands/per-instance", test_instance_commands);
    g_test_add_func("/net/commands/set", test_set_runtime_prop);
    g_test_add_func("/net/commands/machine", test_machine_addressing);
    return g_test_run();
}
