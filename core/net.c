/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Network ports (sdk/tessera/net.h): where a NIC model meets whatever
 * backend its "net" slot holds.
 *
 * The port is the NIC's claim; the backend behind it is looked up in the
 * slot whenever it is (re)bound, so replacing the slot child is all a
 * run-time swap needs. A small FIFO keeps frames the NIC could not take
 * yet, in order.
 */
#include "core.h"

#define PORT_QUEUE_MAX 64u

struct TessNetPort {
    TessDevice *nic;
    char *slot;
    uint8_t mac[6];
    const TessNetNicOps *ops;
    void *opaque;
    TessDevice *backend;            /* attached backend, or NULL */
    bool link;                      /* last link state told to the NIC */
    GQueue pending;                 /* GBytes *: frames the NIC refused */
};

/* The backend currently in the NIC's slot, or NULL. */
static TessDevice *slot_backend(TessNetPort *p)
{
    for (const TessSlotSpec *s = p->nic->cls->slots; s && s->element; s++) {
        if (strcmp(s->element, p->slot) != 0)
            continue;
        TessDevice **field = (TessDevice **)((char *)p->nic + s->offset);
        return field[0];
    }
    return NULL;
}

static bool backend_link(TessNetPort *p)
{
    if (!p->backend)
        return false;
    const TessNetBackendOps *ops = tess_net_backend_ops(p->backend);
    return !ops->link_up || ops->link_up(p->backend);
}

static void tell_link(TessNetPort *p)
{
    bool up = backend_link(p);
    if (up == p->link)
        return;
    p->link = up;
    if (p->ops->link_changed)
        p->ops->link_changed(p->opaque, up);
}

/* Connect the port to whatever its slot holds now. */
static bool port_bind(TessNetPort *p, GError **err)
{
    TessDevice *be = slot_backend(p);
    if (!be)
        return true;
    const TessNetBackendOps *ops = tess_net_backend_ops(be);
    if (!ops) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_INVALID,
                    "'%s' does not provide the %s interface", be->id, TESS_IFACE_NET);
        return false;
    }
    if (ops->attach && !ops->attach(be, p, err))
        return false;
    p->backend = be;
    return true;
}

static void port_unbind(TessNetPort *p)
{
    if (!p->backend)
        return;
    const TessNetBackendOps *ops = tess_net_backend_ops(p->backend);
    if (ops->detach)
        ops->detach(p->backend, p);
    p->backend = NULL;
}

TessNetPort *tess_net_port_new(TessDevice *nic, const char *slot, const uint8_t mac[6],
                               const TessNetNicOps *ops, void *opaque, GError **err)
{
    g_return_val_if_fail(nic && slot && ops && ops->receive, NULL);
    TessNetPort *p = g_new0(TessNetPort, 1);
    p->nic = nic;
    p->slot = g_strdup(slot);
    memcpy(p->mac, mac, 6);
    p->ops = ops;
    p->opaque = opaque;
    g_queue_init(&p->pending);
    if (!port_bind(p, err)) {
        g_free(p->slot);
        g_free(p);
        return NULL;
    }
    p->link = backend_link(p);
    g_ptr_array_add(nic->machine->net_ports, p);
    return p;
}

static void port_free(TessNetPort *p)
{
    port_unbind(p);
    g_queue_clear_full(&p->pending, (GDestroyNotify)g_bytes_unref);
    g_free(p->slot);
    g_free(p);
}

TessNetTx tess_net_port_send(TessNetPort *p, const void *frame, size_t len)
{
    if (len < TESS_NET_FRAME_MIN || len > TESS_NET_FRAME_MAX || !p->backend || !p->link)
        return TESS_NET_DROPPED;
    const TessNetBackendOps *ops = tess_net_backend_ops(p->backend);
    return ops->send(p->backend, frame, len);
}

bool tess_net_port_link_up(TessNetPort *p)
{
    return p->link;
}

void tess_net_port_rx_ready(TessNetPort *p)
{
    GBytes *b;
    while ((b = g_queue_peek_head(&p->pending))) {
        gsize n;
        const uint8_t *d = g_bytes_get_data(b, &n);
        if (!p->ops->receive(p->opaque, d, n))
            return;
        g_bytes_unref(g_queue_pop_head(&p->pending));
    }
}

void tess_net_port_set_mac(TessNetPort *p, const uint8_t mac[6])
{
    memcpy(p->mac, mac, 6);
}

const uint8_t *tess_net_port_mac(TessNetPort *p)
{
    return p->mac;
}

bool tess_net_port_deliver(TessNetPort *p, const void *frame, size_t len)
{
    if (len < TESS_NET_FRAME_MIN || len > TESS_NET_FRAME_MAX || !p->link)
        return false;
    if (g_queue_is_empty(&p->pending) && p->ops->receive(p->opaque, frame, len))
        return true;
    if (p->pending.length >= PORT_QUEUE_MAX)
        return false;
    g_queue_push_tail(&p->pending, g_bytes_new(frame, len));
    return true;
}

void tess_net_port_link_changed(TessNetPort *p)
{
    tell_link(p);
}

void tess_net_port_tx_ready(TessNetPort *p)
{
    if (p->ops->tx_ready)
        p->ops->tx_ready(p->opaque);
}

/* Host thread -> machine thread. FIXME(net): this first version copies
 * each frame into a posted request; net.h promises a lock-free ring
 * without per-frame allocation. */
typedef struct {
    TessNetPort *port;
    size_t len;
    uint8_t data[];
} AsyncFrame;

static void async_deliver(TessMachine *m, void *data)
{
    AsyncFrame *f = data;
    if (g_ptr_array_find(m->net_ports, f->port, NULL))
        tess_net_port_deliver(f->port, f->data, f->len);
    g_free(f);
}

bool tess_net_port_deliver_async(TessNetPort *p, const void *frame, size_t len)
{
    if (len < TESS_NET_FRAME_MIN || len > TESS_NET_FRAME_MAX)
        return false;
    AsyncFrame *f = g_malloc(sizeof(*f) + len);
    f->port = p;
    f->len = len;
    memcpy(f->data, frame, len);
    tess_machine_post(p->nic->machine, async_deliver, f);
    return true;
}

void tess_net_release_owner(TessMachine *m, TessDevice *owner)
{
    for (guint i = m->net_ports->len; i-- > 0;) {
        TessNetPort *p = m->net_ports->pdata[i];
        if (p->nic == owner) {
            g_ptr_array_remove_index(m->net_ports, i);
            port_free(p);
        }
    }
}
