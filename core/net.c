/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Network ports (sdk/tessera/net.h): where a NIC model meets whatever
 * backend its "net" slot holds.
 *
 * The port is the NIC's claim; the backend behind it is looked up in the
 * slot whenever it is (re)bound, so replacing the slot child is all a
 * run-time swap needs (device.c's tess_device_replace_child calls
 * tess_net_child_unbind / tess_net_child_rebind around it).
 *
 * Two ways in:
 *  - tess_net_port_deliver (machine thread): straight to the NIC, or into
 *    a small FIFO of frames it refused, in order;
 *  - tess_net_port_deliver_async (a backend's host thread): into a
 *    preallocated byte ring, single producer / single consumer. Records
 *    are [u32 length, u32 0][frame, padded to 8]; a record never wraps:
 *    where one would not fit before the end, a WRAP marker sends the
 *    consumer back to offset 0. head and tail count bytes since the
 *    start and only grow, so used = head - tail with no full/empty
 *    ambiguity. The producer publishes head with release order after
 *    writing the record; the consumer reads it with acquire order, hands
 *    the NIC a pointer into the ring (no copy) and publishes tail with
 *    release order once the NIC took the frame. Frames the NIC refuses
 *    stay in the ring: the ring is the queue, and rx_ready drains it.
 *
 * A capture records frames as the NIC sends them (when the backend takes
 * them) and as the NIC takes them, so a refused frame offered again is
 * written once. A backend may answer from inside its send (slirp answers
 * ARP, ping and TCP ACKs there), a NIC from inside its receive: while
 * such a call runs, later records wait in cap_held behind the record of
 * the frame being handed on, which is kept once the callee took it, so
 * the file shows a frame before the answers it caused.
 *
 * Waking the machine: a producer that finds m->net_kick clear sets it,
 * asks the CPU to end its slice and signals the idle wait (one lock per
 * burst, not per frame); tess_net_poll() on the machine thread clears
 * the flag before draining, so a frame pushed meanwhile kicks again.
 */
#include "core.h"

#include <stdatomic.h>
#include <string.h>
#include <pcap/pcap.h>

#define PORT_QUEUE_MAX 64u
#define RING_SIZE TESS_NET_RING_BYTES
#define RING_HDR 8u
#define RING_WRAP UINT32_MAX

G_STATIC_ASSERT(RING_SIZE % 8 == 0);
G_STATIC_ASSERT(RING_HDR + TESS_NET_FRAME_MAX <= RING_SIZE / 4);

struct TessNetPort {
    TessDevice *nic;
    char *slot;
    uint8_t mac[6];
    const TessNetNicOps *ops;
    void *opaque;
    TessDevice *backend;            /* attached backend, or NULL */
    bool link;                      /* last link state told to the NIC */
    GQueue pending;                 /* GBytes *: frames the NIC refused */

    /* async ring (see the top of the file) */
    uint8_t *ring;
    _Atomic size_t head;            /* written by the producer only */
    _Atomic size_t tail;            /* written by the consumer only */
    _Atomic unsigned long dropped;  /* ring full */

    /* capture (machine thread) */
    pcap_t *cap_dead;
    pcap_dumper_t *cap;
    char *cap_file;
    bool cap_from_prop;             /* opened from the backend's capture= */
    GQueue cap_held;                /* CapRecord *: written when the outer call returns */
    unsigned cap_depth;             /* capture_enter calls not yet left (nested: a NIC
                                     * answering from its receive callback) */
    bool draining;                  /* port_flush is running (re-entry guard) */
};

static size_t align8(size_t n)
{
    return (n + 7u) & ~(size_t)7u;
}

/* ---- capture ----------------------------------------------------------- */

typedef struct {
    int64_t ns;
    bool keep;                      /* a sent frame: false until the backend took it */
    size_t len;
    uint8_t data[];
} CapRecord;

static void capture_drop_held(TessNetPort *p)
{
    g_queue_clear_full(&p->cap_held, g_free);
}

static void capture_stop(TessNetPort *p)
{
    capture_drop_held(p);
    if (p->cap) {
        pcap_dump_flush(p->cap);
        pcap_dump_close(p->cap);
        p->cap = NULL;
    }
    g_clear_pointer(&p->cap_dead, pcap_close);
    g_clear_pointer(&p->cap_file, g_free);
    p->cap_from_prop = false;
}

static bool capture_start(TessNetPort *p, const char *file, GError **err)
{
    capture_stop(p);
    p->cap_dead = pcap_open_dead(DLT_EN10MB, TESS_NET_FRAME_MAX);
    if (!p->cap_dead) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_FAILED, "libpcap: cannot open a capture");
        return false;
    }
    p->cap = pcap_dump_open(p->cap_dead, file);
    if (!p->cap) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO, "capture %s: %s", file,
                    pcap_geterr(p->cap_dead));
        g_clear_pointer(&p->cap_dead, pcap_close);
        return false;
    }
    p->cap_file = g_strdup(file);
    return true;
}

static void capture_write(TessNetPort *p, int64_t ns, const void *frame, size_t len)
{
    struct pcap_pkthdr h = {
        .ts = { .tv_sec = ns / 1000000000, .tv_usec = (ns % 1000000000) / 1000 },
        .caplen = (bpf_u_int32)len,
        .len = (bpf_u_int32)len,
    };
    pcap_dump((u_char *)p->cap, &h, frame);
    /* A capture is for reading while the machine runs (tail -f | tcpdump):
     * keep the file whole at every frame. */
    pcap_dump_flush(p->cap);
}

static CapRecord *capture_hold(TessNetPort *p, const void *frame, size_t len, bool keep)
{
    CapRecord *r = g_malloc(sizeof(CapRecord) + len);
    r->ns = tess_clock_wall_ns(p->nic->machine);
    r->keep = keep;
    r->len = len;
    memcpy(r->data, frame, len);
    g_queue_push_tail(&p->cap_held, r);
    return r;
}

/* Around a call that hands a frame on (the backend's send, the NIC's
 * receive) and may cause more frames before it returns: the frame's
 * record goes first and is kept if the callee took the frame. A capture
 * stopped or restarted meanwhile (from a callback) dropped what was held. */
static CapRecord *capture_enter(TessNetPort *p, const void *frame, size_t len)
{
    p->cap_depth++;
    return p->cap ? capture_hold(p, frame, len, false) : NULL;
}

static void capture_release(TessNetPort *p);

static void capture_leave(TessNetPort *p, CapRecord *rec, bool taken)
{
    if (rec && taken && g_queue_find(&p->cap_held, rec))
        rec->keep = true;
    if (!--p->cap_depth)
        capture_release(p);
}

/* The outermost call returned: write what was held, in order. */
static void capture_release(TessNetPort *p)
{
    CapRecord *r;
    while ((r = g_queue_pop_head(&p->cap_held))) {
        if (r->keep && p->cap)
            capture_write(p, r->ns, r->data, r->len);
        g_free(r);
    }
}

/* The backend's capture= property, if it has one and it is set. */
static const char *backend_capture(TessDevice *be)
{
    const TessPropSpec *ps = tess_device_find_prop(be, "capture");
    if (!ps || ps->type != TESS_PROP_PATH)
        return NULL;
    const char *f = *(char **)((char *)be + ps->offset);
    return f && *f ? f : NULL;
}

/* ---- binding ------------------------------------------------------------ */

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
    if (!ops || !ops->send) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_INVALID,
                    "'%s' does not provide the %s interface", be->id, TESS_IFACE_NET);
        return false;
    }
    /* validate (dry): the file is not created; its directory is checked
     * with the other paths of the machine file. */
    const char *cap = p->nic->machine->dry ? NULL : backend_capture(be);
    if (cap && !capture_start(p, cap, err))
        return false;
    p->cap_from_prop = cap != NULL;
    if (ops->attach && !ops->attach(be, p, err)) {
        if (p->cap_from_prop)
            capture_stop(p);
        return false;
    }
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
    /* The producer has stopped (detach's promise): whatever it left in
     * the ring was on the cable that was just pulled. */
    atomic_store_explicit(&p->tail, atomic_load_explicit(&p->head, memory_order_acquire),
                          memory_order_release);
    g_queue_clear_full(&p->pending, (GDestroyNotify)g_bytes_unref);
    if (p->cap_from_prop)
        capture_stop(p);
}

/* ---- per-NIC control commands ---------------------------------------------- */

static TessNetPort *nic_port(TessDevice *nic)
{
    GPtrArray *ports = nic->machine->net_ports;
    for (guint i = 0; i < ports->len; i++)
        if (((TessNetPort *)ports->pdata[i])->nic == nic)
            return ports->pdata[i];
    return NULL;
}

/* net NIC TYPE [key=value ...] */
static char *cmd_net(TessDevice *nic, int argc, char **argv, GError **err)
{
    TessNetPort *p = nic_port(nic);
    if (argc < 2 || !p) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "usage: net NIC TYPE [key=value ...] (e.g. net nic0 switch name=lab)");
        return NULL;
    }
    if (!tess_device_replace_child(nic, p->slot, 0, argv[1], (const char *const *)argv + 2,
                                   err))
        return NULL;
    return g_strdup_printf("%s: %s, link %s", nic->id, argv[1], p->link ? "up" : "down");
}

/* capture NIC start FILE | stop */
static char *cmd_capture(TessDevice *nic, int argc, char **argv, GError **err)
{
    TessNetPort *p = nic_port(nic);
    if (p && argc == 3 && !strcmp(argv[1], "start")) {
        if (!capture_start(p, argv[2], err))
            return NULL;
        return g_strdup_printf("%s: capturing to %s", nic->id, argv[2]);
    }
    if (p && argc == 2 && !strcmp(argv[1], "stop")) {
        if (!p->cap) {
            g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_INVALID, "%s: no capture running",
                        nic->id);
            return NULL;
        }
        g_autofree char *f = g_strdup(p->cap_file);
        capture_stop(p);
        return g_strdup_printf("%s: capture %s closed", nic->id, f);
    }
    g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                "usage: capture NIC start FILE.pcap | capture NIC stop");
    return NULL;
}

static bool add_nic_commands(TessDevice *nic, GError **err)
{
    TessMachine *m = nic->machine;
    for (guint i = 0; m->commands && i < m->commands->len; i++) {
        TessCommand *c = m->commands->pdata[i];
        if (c->owner == nic && !strcmp(c->name, "net"))
            return true;            /* a second port of the same NIC */
    }
    return tess_control_add_instance_command(nic, "net", cmd_net,
                                             "NIC TYPE [key=value ...]  change the NIC's network backend",
                                             err) &&
           tess_control_add_instance_command(nic, "capture", cmd_capture,
                                             "NIC start FILE.pcap | stop  capture the NIC's frames",
                                             err);
}

/* ---- the NIC side ------------------------------------------------------- */

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
    p->ring = g_malloc(RING_SIZE);
    if (!add_nic_commands(nic, err) || !port_bind(p, err)) {
        capture_stop(p);
        g_free(p->ring);
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
    capture_stop(p);
    g_queue_clear_full(&p->pending, (GDestroyNotify)g_bytes_unref);
    g_free(p->ring);
    g_free(p->slot);
    g_free(p);
}

TessNetTx tess_net_port_send(TessNetPort *p, const void *frame, size_t len)
{
    if (len < TESS_NET_FRAME_MIN || len > TESS_NET_FRAME_MAX || !p->backend || !p->link)
        return TESS_NET_DROPPED;
    const TessNetBackendOps *ops = tess_net_backend_ops(p->backend);
    if (!p->cap && !p->cap_depth)
        return ops->send(p->backend, frame, len);
    CapRecord *rec = capture_enter(p, frame, len);
    TessNetTx r = ops->send(p->backend, frame, len);
    capture_leave(p, rec, r == TESS_NET_OK);
    return r;
}

bool tess_net_port_link_up(TessNetPort *p)
{
    return p->link;
}

/* Hand the NIC one frame; false when it refuses it. */
static bool nic_receive(TessNetPort *p, const uint8_t *frame, size_t len)
{
    if (!p->cap && !p->cap_depth)
        return p->ops->receive(p->opaque, frame, len);
    CapRecord *rec = capture_enter(p, frame, len);
    bool taken = p->ops->receive(p->opaque, frame, len);
    capture_leave(p, rec, taken);
    return taken;
}

/* Offer the NIC what waits for it - frames it refused earlier first,
 * then the ring - until it refuses one or nothing is left. A NIC may
 * send from its receive callback, and a backend may deliver from that
 * send: the nested call only queues (`draining`), and this loop picks
 * the queued frame up. */
static void port_flush(TessNetPort *p)
{
    if (p->draining)
        return;
    p->draining = true;
    for (;;) {
        GBytes *b = g_queue_peek_head(&p->pending);
        if (b) {
            gsize n;
            const uint8_t *d = g_bytes_get_data(b, &n);
            if (!nic_receive(p, d, n))
                break;
            g_bytes_unref(g_queue_pop_head(&p->pending));
            continue;
        }
        size_t tail = atomic_load_explicit(&p->tail, memory_order_relaxed);
        size_t head = atomic_load_explicit(&p->head, memory_order_acquire);
        if (tail == head)
            break;
        size_t pos = tail % RING_SIZE;
        uint32_t len;
        memcpy(&len, p->ring + pos, 4);
        if (len == RING_WRAP) {
            atomic_store_explicit(&p->tail, tail + (RING_SIZE - pos), memory_order_release);
            continue;
        }
        if (p->link) {
            const uint8_t *frame = p->ring + pos + RING_HDR;
            if (!nic_receive(p, frame, len))
                break;              /* stays in the ring: rx_ready offers it again */
        }
        atomic_store_explicit(&p->tail, tail + align8(RING_HDR + len), memory_order_release);
    }
    p->draining = false;
}

void tess_net_port_rx_ready(TessNetPort *p)
{
    port_flush(p);
}

void tess_net_port_set_mac(TessNetPort *p, const uint8_t mac[6])
{
    memcpy(p->mac, mac, 6);
}

const uint8_t *tess_net_port_mac(TessNetPort *p)
{
    return p->mac;
}

/* ---- the backend side ------------------------------------------------------ */

bool tess_net_port_deliver(TessNetPort *p, const void *frame, size_t len)
{
    if (len < TESS_NET_FRAME_MIN || len > TESS_NET_FRAME_MAX || !p->link)
        return false;
    /* Frames already waiting (queued, or in the ring) came first. */
    port_flush(p);
    bool ring_empty = atomic_load_explicit(&p->tail, memory_order_relaxed) ==
                      atomic_load_explicit(&p->head, memory_order_acquire);
    if (!p->draining && ring_empty && g_queue_is_empty(&p->pending) &&
        nic_receive(p, frame, len))
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

/* Room for a record of len bytes at head, given tail; returns the bytes
 * the record takes from head (with a skipped end), or 0 when full. */
static size_t ring_need(size_t head, size_t tail, size_t len)
{
    size_t need = align8(RING_HDR + len);
    size_t pos = head % RING_SIZE;
    if (pos + need > RING_SIZE)
        need += RING_SIZE - pos;
    return head - tail + need <= RING_SIZE ? need : 0;
}

bool tess_net_port_async_room(TessNetPort *p, size_t len)
{
    size_t head = atomic_load_explicit(&p->head, memory_order_relaxed);
    size_t tail = atomic_load_explicit(&p->tail, memory_order_acquire);
    return ring_need(head, tail, len) != 0;
}

static void kick_machine(TessMachine *m)
{
    /* Pairs with the fence in tess_net_poll: either the consumer sees our
     * head, or we see its cleared flag (store-load ordering). */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&m->net_kick, memory_order_relaxed) ||
        atomic_exchange_explicit(&m->net_kick, 1, memory_order_acq_rel))
        return;
    /* End the CPU's slice so the frame is not held for a whole slice,
     * and wake an idle loop. */
    g_atomic_int_set(&m->cpu_run.stop, 1);
    g_mutex_lock(&m->lock);
    g_cond_broadcast(&m->cond);
    g_mutex_unlock(&m->lock);
}

bool tess_net_port_deliver_async(TessNetPort *p, const void *frame, size_t len)
{
    if (len < TESS_NET_FRAME_MIN || len > TESS_NET_FRAME_MAX)
        return false;
    size_t head = atomic_load_explicit(&p->head, memory_order_relaxed);
    size_t tail = atomic_load_explicit(&p->tail, memory_order_acquire);
    size_t need = ring_need(head, tail, len);
    if (!need) {
        atomic_fetch_add_explicit(&p->dropped, 1, memory_order_relaxed);
        return false;
    }
    size_t pos = head % RING_SIZE;
    if (pos + align8(RING_HDR + len) > RING_SIZE) {
        uint32_t wrap = RING_WRAP;
        memcpy(p->ring + pos, &wrap, 4);
        head += RING_SIZE - pos;
        pos = 0;
    }
    uint32_t hdr[2] = { (uint32_t)len, 0 };
    memcpy(p->ring + pos, hdr, RING_HDR);
    memcpy(p->ring + pos + RING_HDR, frame, len);
    head += align8(RING_HDR + len);
    atomic_store_explicit(&p->head, head, memory_order_release);
    kick_machine(p->nic->machine);
    return true;
}

unsigned long tess_net_port_async_dropped(TessNetPort *p)
{
    return atomic_load_explicit(&p->dropped, memory_order_relaxed);
}

void tess_net_poll(TessMachine *m)
{
    if (!atomic_load_explicit(&m->net_kick, memory_order_acquire))
        return;
    atomic_store_explicit(&m->net_kick, 0, memory_order_relaxed);
    atomic_thread_fence(memory_order_seq_cst);
    for (guint i = 0; i < m->net_ports->len; i++)
        port_flush(m->net_ports->pdata[i]);
}

bool tess_net_pending(TessMachine *m)
{
    return atomic_load_explicit(&m->net_kick, memory_order_acquire) != 0;
}

/* ---- run-time swap (device.c) ---------------------------------------------- */

void tess_net_child_unbind(TessDevice *parent, TessDevice *child)
{
    GPtrArray *ports = parent->machine->net_ports;
    for (guint i = 0; i < ports->len; i++) {
        TessNetPort *p = ports->pdata[i];
        if (p->nic == parent && p->backend == child) {
            port_unbind(p);
            tell_link(p);           /* the cable is pulled */
        }
    }
}

bool tess_net_child_rebind(TessDevice *parent, GError **err)
{
    GPtrArray *ports = parent->machine->net_ports;
    for (guint i = 0; i < ports->len; i++) {
        TessNetPort *p = ports->pdata[i];
        if (p->nic != parent || p->backend)
            continue;
        if (!port_bind(p, err))
            return false;
        tell_link(p);               /* and plugged back */
    }
    return true;
}

/* ---- after a restore (state.c) ------------------------------------------------ */

/* A backend with a state table (shared: libslirp's NAT and DHCP state)
 * carries on where it was saved. One without (a switch and its learnt
 * addresses, VDE, a tap or pcap uplink: host resources that cannot be
 * saved) starts afresh, which the NIC sees as a cable pulled and plugged
 * back: its driver renegotiates and re-announces itself, as after a swap. */
void tess_net_restored(TessMachine *m)
{
    for (guint i = 0; i < m->net_ports->len; i++) {
        TessNetPort *p = m->net_ports->pdata[i];
        if (!p->backend || p->backend->cls->state || !p->link || !p->ops->link_changed)
            continue;
        p->link = false;
        p->ops->link_changed(p->opaque, false);
        p->link = backend_link(p);
        if (p->link)
            p->ops->link_changed(p->opaque, true);
    }
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
