/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Networking: NIC models and network backends meet at a port.
 *
 * A NIC model never knows which backend it talks to, and a backend never
 * knows the NIC model (DESIGN.md §2). The NIC declares a slot "net" whose
 * child must provide TESS_IFACE_NET:
 *
 *     typedef struct { TessDevice dev; TessDevice *net[1]; TessNetPort *port; ... } Nic;
 *     static const TessSlotSpec nic_slots[] = {
 *         { .element = "net", .default_type = "none", .iface = TESS_IFACE_NET,
 *           .max = 1, .offset = offsetof(Nic, net), .doc = "network backend" },
 *         TESS_SLOT_END,
 *     };
 *     <device type="dec21041" id="nic0"><net type="shared"/></device>
 *
 * and in realize opens its port on that slot:
 *
 *     n->port = tess_net_port_new(dev, "net", mac, &nic_net_ops, n, err);
 *
 * From then on the NIC sends with tess_net_port_send() and receives
 * through its TessNetNicOps. The port belongs to the NIC (released with
 * its other claims); the backend behind it may be replaced while the
 * machine runs (`tessera ctl SOCK net nic0 shared`): the core detaches the
 * old backend, attaches the new one and tells the NIC link down, then up.
 * The NIC sees a cable pulled and plugged back, nothing else.
 *
 * Threads: every call here, both directions, happens on the machine
 * thread, except tess_net_port_deliver_async() which a backend calls from
 * its host thread (the GLib main loop that polls its socket / tap / pcap).
 *
 * The async path and who owns what: each port has one preallocated
 * single-producer/single-consumer ring. The producer side belongs to the
 * backend attached to the port: it may call deliver_async from any thread
 * but never from two at once (a backend fed by several threads - a switch
 * shared by several machines - serialises them, e.g. under its own
 * lock), and it makes sure no call for a port is running or can start
 * once its detach() has returned (stop and join the I/O thread, or take
 * the lock the producers hold). The consumer side is the port's machine
 * thread, which drains the ring at its next safe point (between CPU
 * slices, or at once when idle); the first frame of a burst wakes it,
 * later frames of the burst cost no lock, allocation or wake-up. On a
 * detach, frames still in the ring are dropped (the cable was pulled).
 *
 * Capture: a backend class that lists TESS_NET_PROP_CAPTURE(...) among
 * its properties gets `capture="FILE.pcap"` on its <net> element for
 * free: the port writes every frame it passes, both ways, to that file
 * (libpcap format, Ethernet link type, timestamps from the machine's
 * clock). `tessera ctl SOCK capture NIC start FILE | stop` does the same
 * at run time.
 *
 * Frames are Ethernet frames from the destination MAC to the end of the
 * payload, without preamble and FCS: 14..TESS_NET_FRAME_MAX bytes. The
 * NIC pads short frames and filters by destination address itself, as
 * hardware does; the port does neither.
 */
#ifndef TESSERA_NET_H
#define TESSERA_NET_H

#include <tessera/types.h>
#include <tessera/device.h>

G_BEGIN_DECLS

#define TESS_IFACE_NET "net"
#define TESS_IFACE_NET_VERSION 1     /* see TessIfaceSpec in device.h */
#define TESS_NET_FRAME_MIN 14u
#define TESS_NET_FRAME_MAX 16384u

typedef struct TessNetPort TessNetPort;

typedef enum {
    TESS_NET_OK,        /* taken (delivered, queued or - as on a wire - lost downstream) */
    TESS_NET_BUSY,      /* not taken: the backend cannot accept more now; keep the frame
                         * and send again after the NIC's tx_ready() */
    TESS_NET_DROPPED,   /* not taken and never will be (no link, malformed length) */
} TessNetTx;

/* ---- the NIC side ------------------------------------------------------ */

typedef struct TessNetNicOps {
    size_t size;        /* sizeof(TessNetNicOps) */
    /* A frame for the NIC (valid during the call only). Return false when
     * the NIC cannot take it now (its receive ring is full or stopped):
     * the port keeps it in a small bounded queue, in order, and offers it
     * again after tess_net_port_rx_ready(); frames that overflow that
     * queue are dropped, as a switch drops them at a congested port. */
    bool (*receive)(void *opaque, const uint8_t *frame, size_t len);
    /* The link (cable) went up or down. */
    void (*link_changed)(void *opaque, bool up);
    /* The backend takes frames again after a TESS_NET_BUSY. May be NULL. */
    void (*tx_ready)(void *opaque);
} TessNetNicOps;

/* Open the port of `nic` on its slot `slot` ("net"). The slot may be
 * empty (no backend: link down until one is attached). mac is the NIC's
 * address (backends such as a switch or DHCP server may use it). */
TessNetPort *tess_net_port_new(TessDevice *nic, const char *slot, const uint8_t mac[6],
                               const TessNetNicOps *ops, void *opaque, GError **err);
/* Send one frame to the network. */
TessNetTx tess_net_port_send(TessNetPort *port, const void *frame, size_t len);
/* Is the cable plugged in (a backend attached and its link up)? */
bool tess_net_port_link_up(TessNetPort *port);
/* The NIC has room again: offer queued frames now. */
void tess_net_port_rx_ready(TessNetPort *port);
/* The guest changed the NIC's station address. */
void tess_net_port_set_mac(TessNetPort *port, const uint8_t mac[6]);
const uint8_t *tess_net_port_mac(TessNetPort *port);

/* ---- the backend side -------------------------------------------------- */

/* A backend class (kind TESS_CLASS_BACKEND) provides
 * { TESS_IFACE_NET, &ops } with a const TessNetBackendOps. */
typedef struct TessNetBackendOps {
    size_t size;        /* sizeof(TessNetBackendOps) */
    /* A NIC's port is connected to this backend (at machine start or on a
     * run-time swap). One port at a time. */
    bool (*attach)(TessDevice *backend, TessNetPort *port, GError **err);
    /* The port goes away or moves to another backend: forget it, and
     * deliver nothing more to it. */
    void (*detach)(TessDevice *backend, TessNetPort *port);
    /* A frame from the NIC. */
    TessNetTx (*send)(TessDevice *backend, const uint8_t *frame, size_t len);
    /* Link state; NULL: up while attached. A backend whose link changes
     * on its own (a switch uplink) calls tess_net_port_link_changed(). */
    bool (*link_up)(TessDevice *backend);
    void *reserved[4];
} TessNetBackendOps;

/* The capture property every backend should list (a char * PATH field). */
#define TESS_NET_PROP_CAPTURE(S, f) \
    TESS_PROP_PATH_("capture", S, f, NULL, \
                    "write every frame through this port to FILE.pcap (tcpdump -r reads it)")

static inline const TessNetBackendOps *tess_net_backend_ops(TessDevice *dev)
{
    return (const TessNetBackendOps *)tess_device_interface_v(dev, TESS_IFACE_NET, TESS_IFACE_NET_VERSION);
}

/* Backend -> NIC on the machine thread. Returns false when the frame was
 * dropped (port queue full). */
bool tess_net_port_deliver(TessNetPort *port, const void *frame, size_t len);
/* Backend -> NIC from one host thread (the backend's I/O thread): the
 * frame is copied into a bounded lock-free ring and delivered on the
 * machine thread, in order, without a lock or an allocation per frame.
 * Returns false when the ring is full (frame dropped; a backend that
 * would rather wait checks tess_net_port_async_room() first). The ring
 * has TESS_NET_RING_BYTES, 8 bytes of header per frame included (about
 * 170 full-size Ethernet frames). See "The async path" above for the rules. */
bool tess_net_port_deliver_async(TessNetPort *port, const void *frame, size_t len);
#define TESS_NET_RING_BYTES (256u * 1024u)
/* Producer side: would a frame of len bytes fit in the ring now? */
bool tess_net_port_async_room(TessNetPort *port, size_t len);
/* The backend's own link changed (machine thread). */
void tess_net_port_link_changed(TessNetPort *port);
/* The backend can take frames again after returning TESS_NET_BUSY. */
void tess_net_port_tx_ready(TessNetPort *port);

G_END_DECLS

#endif
