/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Network test helpers: see tnic.h. */
#include "tnic.h"

#include <string.h>

static bool tn_nic_receive(void *opaque, const uint8_t *frame, size_t len)
{
    TnNic *n = opaque;
    if (n->refuse)
        return false;
    GBytes *b = g_bytes_new(frame, len);
    g_ptr_array_add(n->rx, b);
    uint32_t seq = 0;
    if (n->reply && len >= 18)
        memcpy(&seq, frame + 14, 4);
    if (n->reply && len >= 18 && seq < 100) {
        /* As a NIC whose receive path kicks its transmit path. */
        g_autoptr(GBytes) f = tn_frame(frame + 6, n->mac.a, seq + 100, len);
        tess_net_port_send(n->port, g_bytes_get_data(f, NULL), len);
    }
    return true;
}

static void tn_nic_link(void *opaque, bool up)
{
    TnNic *n = opaque;
    g_string_append_c(n->links, up ? 'u' : 'd');
}

static void tn_nic_tx_ready(void *opaque)
{
    ((TnNic *)opaque)->tx_ready++;
}

static const TessNetNicOps tn_nic_ops = {
    .size = sizeof(TessNetNicOps),
    .receive = tn_nic_receive,
    .link_changed = tn_nic_link,
    .tx_ready = tn_nic_tx_ready,
};

static bool tn_nic_realize(TessDevice *dev, GError **err)
{
    TnNic *n = (TnNic *)dev;
    n->rx = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    n->links = g_string_new(NULL);
    n->port = tess_net_port_new(dev, "net", n->mac.a, &tn_nic_ops, n, err);
    if (!n->port) {
        g_ptr_array_unref(n->rx);
        g_string_free(n->links, TRUE);
        return false;
    }
    return true;
}

static void tn_nic_unrealize(TessDevice *dev)
{
    TnNic *n = (TnNic *)dev;
    g_ptr_array_unref(n->rx);
    g_string_free(n->links, TRUE);
}

static void tn_nic_prop_changed(TessDevice *dev, const TessPropSpec *p)
{
    TnNic *n = (TnNic *)dev;
    if (!n->refuse)
        tess_net_port_rx_ready(n->port);
}

static const TessPropSpec tn_nic_props[] = {
    TESS_PROP_MAC_("mac", TnNic, mac, "52:54:00:12:34:56", "station address"),
    { .name = "refuse", .type = TESS_PROP_BOOL, .offset = offsetof(TnNic, refuse), .def = "off",
      .flags = TESS_PROP_F_RUNTIME, .doc = "refuse received frames (ring full)" },
    TESS_PROP_BOOL_("reply", TnNic, reply, "off", "answer frames from receive"),
    TESS_PROP_END,
};

static const TessSlotSpec tn_nic_slots[] = {
    { .element = "net", .default_type = "none", .iface = TESS_IFACE_NET, .max = 1,
      .offset = offsetof(TnNic, net), .doc = "network backend" },
    TESS_SLOT_END,
};

static const TessDeviceClass tn_nic_class = {
    .type = "tn-nic", .kind = TESS_CLASS_DEVICE, .doc = "test NIC",
    .instance_size = sizeof(TnNic), .props = tn_nic_props, .slots = tn_nic_slots,
    .realize = tn_nic_realize, .unrealize = tn_nic_unrealize,
    .prop_changed = tn_nic_prop_changed,
};

static bool tn_be_attach(TessDevice *dev, TessNetPort *port, GError **err)
{
    ((TnBackend *)dev)->port = port;
    return true;
}

static void tn_be_detach(TessDevice *dev, TessNetPort *port)
{
    ((TnBackend *)dev)->port = NULL;
}

static TessNetTx tn_be_send(TessDevice *dev, const uint8_t *frame, size_t len)
{
    TnBackend *b = (TnBackend *)dev;
    if (b->busy)
        return TESS_NET_BUSY;
    g_ptr_array_add(b->tx, g_bytes_new(frame, len));
    if (b->echo)
        tess_net_port_deliver(b->port, frame, len);
    return TESS_NET_OK;
}

static bool tn_be_link(TessDevice *dev)
{
    return ((TnBackend *)dev)->link;
}

static const TessNetBackendOps tn_be_ops = {
    .size = sizeof(TessNetBackendOps),
    .attach = tn_be_attach, .detach = tn_be_detach, .send = tn_be_send,
    .link_up = tn_be_link,
};

static bool tn_be_realize(TessDevice *dev, GError **err)
{
    TnBackend *b = (TnBackend *)dev;
    if (b->fail) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_FAILED, "told to fail");
        return false;
    }
    b->tx = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    return true;
}

static void tn_be_unrealize(TessDevice *dev)
{
    g_ptr_array_unref(((TnBackend *)dev)->tx);
}

static void tn_be_prop_changed(TessDevice *dev, const TessPropSpec *p)
{
    TnBackend *b = (TnBackend *)dev;
    if (b->port && !strcmp(p->name, "link"))
        tess_net_port_link_changed(b->port);
    if (b->port && !strcmp(p->name, "busy") && !b->busy)
        tess_net_port_tx_ready(b->port);
}

static const TessPropSpec tn_be_props[] = {
    TESS_PROP_BOOL_("fail", TnBackend, fail, "off", "fail to realize"),
    { .name = "link", .type = TESS_PROP_BOOL, .offset = offsetof(TnBackend, link), .def = "on",
      .flags = TESS_PROP_F_RUNTIME, .doc = "link state" },
    { .name = "busy", .type = TESS_PROP_BOOL, .offset = offsetof(TnBackend, busy), .def = "off",
      .flags = TESS_PROP_F_RUNTIME, .doc = "refuse frames with TESS_NET_BUSY" },
    TESS_PROP_BOOL_("echo", TnBackend, echo, "off", "deliver every frame sent back to the NIC"),
    TESS_NET_PROP_CAPTURE(TnBackend, capture),
    TESS_PROP_END,
};

static const TessIfaceSpec tn_be_provides[] = {
    { TESS_IFACE_NET, &tn_be_ops },
    TESS_IFACE_END,
};

static const TessDeviceClass tn_be_class = {
    .type = "tn-backend", .kind = TESS_CLASS_BACKEND, .doc = "test network backend",
    .instance_size = sizeof(TnBackend), .props = tn_be_props, .provides = tn_be_provides,
    .realize = tn_be_realize, .unrealize = tn_be_unrealize,
    .prop_changed = tn_be_prop_changed,
};

void tn_register(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    g_autoptr(GError) err = NULL;
    if (!tess_registry_add_builtin(th_registry(), &tn_nic_class, &err) ||
        !tess_registry_add_builtin(th_registry(), &tn_be_class, &err))
        g_error("tn_register: %s", err->message);
}

TnNic *tn_nic(TessMachine *m, const char *id)
{
    TessDevice *d = tess_machine_device(m, id);
    g_assert_nonnull(d);
    g_assert_true(d->cls == &tn_nic_class);
    return (TnNic *)d;
}

TnBackend *tn_backend(TessMachine *m, const char *id)
{
    TessDevice *d = tess_machine_device(m, id);
    g_assert_nonnull(d);
    g_assert_true(d->cls == &tn_be_class);
    return (TnBackend *)d;
}

GBytes *tn_frame(const uint8_t dst[6], const uint8_t src[6], uint32_t seq, size_t len)
{
    g_assert_cmpuint(len, >=, 18);
    uint8_t *f = g_malloc0(MAX(len, 18));
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    f[12] = 0x88;
    f[13] = 0xB5;
    memcpy(f + 14, &seq, 4);
    for (size_t i = 18; i < len; i++)
        f[i] = (uint8_t)(seq + i);
    return g_bytes_new_take(f, len);
}

uint32_t tn_seq(GBytes *frame)
{
    gsize n;
    const uint8_t *d = g_bytes_get_data(frame, &n);
    g_assert_cmpuint(n, >=, 18);
    uint32_t s;
    memcpy(&s, d + 14, 4);
    for (size_t i = 18; i < n; i++)
        g_assert_cmpuint(d[i], ==, (uint8_t)(s + i));
    return s;
}

TessNetTx tn_send(TessMachine *m, const char *nic, const uint8_t dst[6], uint32_t seq,
                  size_t len)
{
    TnNic *n = tn_nic(m, nic);
    g_autoptr(GBytes) f = tn_frame(dst, n->mac.a, seq, len);
    gsize sz;
    const void *d = g_bytes_get_data(f, &sz);
    return tess_net_port_send(n->port, d, sz);
}

void tn_pump_once(TessMachine *m, gint64 wait_us)
{
    /* As the run loop waits: a posted request or a ring's first frame
     * signals m->cond. */
    gint64 until = g_get_monotonic_time() + wait_us;
    g_mutex_lock(&m->lock);
    while (wait_us > 0 && g_async_queue_length(m->requests) <= 0 && !tess_net_pending(m))
        if (!g_cond_wait_until(&m->cond, &m->lock, until))
            break;
    g_mutex_unlock(&m->lock);
    tess_net_poll(m);
    TessRequest *r;
    while ((r = g_async_queue_try_pop(m->requests))) {
        r->fn(m, r->data);
        g_free(r);
        tess_net_poll(m);
    }
}

bool tn_pump(TessMachine *m, bool (*done)(void *data), void *data)
{
    gint64 until = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (!done(data)) {
        if (g_get_monotonic_time() > until)
            return false;
        tn_pump_once(m, 100000);
    }
    return true;
}
