/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The "switch" network backend: Virtual PC's virtual switch, in process.
 *
 *     <net type="switch" name="lab"/>
 *
 * Every <net type="switch"> with the same name, in any machine of this
 * process (`tessera run a.xml b.xml`), is a port of one switch. The
 * switch learns source MAC addresses, forwards unicast frames to the
 * port that address was last seen on, and floods broadcast, multicast
 * and unknown destinations. Each VM port says where its frames may go
 * (vm=, host=, external=, all on by default) - the per-VM routing
 * preferences of Virtual PC - and frames from the host or the external
 * network reach a VM only if that VM's port accepts them.
 *
 * Uplinks belong to the switch, and any member may ask for them:
 * tap=IFNAME joins the host through a TAP device (the host sees
 * IFNAME), external=... with pcap=IFNAME bridges to a host interface
 * through libpcap capture and injection. They last as long as the switch.
 *
 * Threads: NICs send on their machines' threads, uplinks receive on the
 * switch's thread; everything that forwards holds the switch's lock,
 * which is also what serialises producers into a VM port's ring
 * (net.h): frames reach other machines through tess_net_port_deliver_async.
 * A detach takes the lock, so once it returns nothing more reaches
 * that port.
 */
#include "switch.h"

#include <string.h>

#define FDB_MAX 4096u                   /* learned addresses per switch */
#define FDB_AGE_US (300 * G_USEC_PER_SEC)

typedef struct {
    SwPort *port;
    gint64 seen;
} SwFdb;

typedef struct {
    TessDevice dev;
    char *name;
    bool vm, host, external;
    char *tap, *pcap;
    char *capture;
    SwSwitch *sw;
    SwPort *sp;                         /* while attached */
} SwitchNet;

/* Every switch of the process, by name. */
static GMutex sw_lock;
static GHashTable *sw_all;

static uint64_t mac_key(const uint8_t *mac)
{
    uint64_t k = 0;
    for (int i = 0; i < 6; i++)
        k = k << 8 | mac[i];
    return k;
}

/* May a frame entering at `from` leave at `to`? */
static bool sw_allowed(const SwPort *from, const SwPort *to)
{
    if (from == to)
        return false;
    if (from->kind == SW_VM && to->kind == SW_VM)
        return from->vm && to->vm;
    if (from->kind == SW_VM)
        return to->kind == SW_HOST ? from->host : from->external;
    if (to->kind == SW_VM)
        return from->kind == SW_HOST ? to->host : to->external;
    return false;                       /* the switch does not bridge host and wire */
}

static void sw_out(SwSwitch *sw, SwPort *to, const uint8_t *frame, size_t len)
{
    if (to->kind == SW_VM) {
        if (!tess_net_port_deliver_async(to->port, frame, len)) {
            sw->dropped++;              /* a congested port drops, as a switch does */
            return;
        }
    } else {
        sw_uplink_send(to, frame, len);
    }
    to->rx++;
}

void sw_forward(SwSwitch *sw, SwPort *from, const uint8_t *frame, size_t len)
{
    from->tx++;
    const uint8_t *dst = frame, *src = frame + 6;
    gint64 now = g_get_monotonic_time();
    if (!(src[0] & 1)) {
        uint64_t k = mac_key(src);
        SwFdb *e = g_hash_table_lookup(sw->fdb, &k);
        if (e) {
            e->port = from;
            e->seen = now;
        } else if (g_hash_table_size(sw->fdb) < FDB_MAX) {
            /* A guest spraying source addresses fills the table, then
             * its frames to new addresses are flooded: no memory grows. */
            uint64_t *key = g_new(uint64_t, 1);
            *key = k;
            e = g_new(SwFdb, 1);
            e->port = from;
            e->seen = now;
            g_hash_table_insert(sw->fdb, key, e);
        }
    }
    if (!(dst[0] & 1)) {
        uint64_t k = mac_key(dst);
        SwFdb *e = g_hash_table_lookup(sw->fdb, &k);
        if (e && now - e->seen < FDB_AGE_US) {
            if (sw_allowed(from, e->port))
                sw_out(sw, e->port, frame, len);
            return;
        }
    }
    sw->flooded++;
    for (guint i = 0; i < sw->ports->len; i++) {
        SwPort *to = sw->ports->pdata[i];
        if (sw_allowed(from, to))
            sw_out(sw, to, frame, len);
    }
}

static gboolean fdb_points_to(gpointer key, gpointer value, gpointer port)
{
    return ((SwFdb *)value)->port == port;
}

/* ---- joining and leaving -------------------------------------------------------- */

static SwSwitch *sw_join(const char *name)
{
    g_mutex_lock(&sw_lock);
    if (!sw_all)
        sw_all = g_hash_table_new(g_str_hash, g_str_equal);
    SwSwitch *sw = g_hash_table_lookup(sw_all, name);
    if (!sw) {
        sw = g_new0(SwSwitch, 1);
        sw->name = g_strdup(name);
        g_mutex_init(&sw->lock);
        sw->ports = g_ptr_array_new();
        sw->fdb = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
        sw->wake_fd = -1;
        g_hash_table_insert(sw_all, sw->name, sw);
    }
    sw->refs++;
    g_mutex_unlock(&sw_lock);
    return sw;
}

static void sw_leave(SwSwitch *sw)
{
    g_mutex_lock(&sw_lock);
    bool last = --sw->refs == 0;
    if (last)
        g_hash_table_remove(sw_all, sw->name);
    g_mutex_unlock(&sw_lock);
    if (!last)
        return;
    sw_uplinks_close(sw);
    g_ptr_array_unref(sw->ports);
    g_hash_table_unref(sw->fdb);
    g_mutex_clear(&sw->lock);
    g_free(sw->name);
    g_free(sw);
}

/* ---- the backend --------------------------------------------------------------- */

static bool switch_attach(TessDevice *dev, TessNetPort *port, GError **err)
{
    SwitchNet *s = (SwitchNet *)dev;
    if (s->sp) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_INVALID,
                    "%s: a switch backend serves one NIC port", dev->id);
        return false;
    }
    SwPort *p = g_new0(SwPort, 1);
    p->sw = s->sw;
    p->kind = SW_VM;
    p->port = port;
    p->vm = s->vm;
    p->host = s->host;
    p->external = s->external;
    p->fd = -1;
    g_mutex_lock(&s->sw->lock);
    g_ptr_array_add(s->sw->ports, p);
    g_mutex_unlock(&s->sw->lock);
    s->sp = p;
    return true;
}

static void switch_detach(TessDevice *dev, TessNetPort *port)
{
    SwitchNet *s = (SwitchNet *)dev;
    if (!s->sp)
        return;
    g_mutex_lock(&s->sw->lock);
    g_ptr_array_remove(s->sw->ports, s->sp);
    g_hash_table_foreach_remove(s->sw->fdb, fdb_points_to, s->sp);
    g_mutex_unlock(&s->sw->lock);
    g_clear_pointer(&s->sp, g_free);
}

static TessNetTx switch_send(TessDevice *dev, const uint8_t *frame, size_t len)
{
    SwitchNet *s = (SwitchNet *)dev;
    if (!s->sp)
        return TESS_NET_DROPPED;
    g_mutex_lock(&s->sw->lock);
    sw_forward(s->sw, s->sp, frame, len);
    g_mutex_unlock(&s->sw->lock);
    return TESS_NET_OK;
}

static const TessNetBackendOps switch_ops = {
    .size = sizeof(TessNetBackendOps),
    .attach = switch_attach,
    .detach = switch_detach,
    .send = switch_send,
};

static void switch_prop_changed(TessDevice *dev, const TessPropSpec *prop)
{
    SwitchNet *s = (SwitchNet *)dev;
    if (!s->sp)
        return;
    g_mutex_lock(&s->sw->lock);
    s->sp->vm = s->vm;
    s->sp->host = s->host;
    s->sp->external = s->external;
    g_mutex_unlock(&s->sw->lock);
}

static char *switch_cmd_status(TessDevice *dev, int argc, char **argv, GError **err)
{
    SwitchNet *s = (SwitchNet *)dev;
    SwSwitch *sw = s->sw;
    g_mutex_lock(&sw->lock);
    GString *out = g_string_new(NULL);
    g_string_append_printf(out, "switch %s: %u ports, %u addresses, %" G_GUINT64_FORMAT
                           " flooded, %" G_GUINT64_FORMAT " dropped", sw->name, sw->ports->len,
                           g_hash_table_size(sw->fdb), sw->flooded, sw->dropped);
    for (guint i = 0; i < sw->ports->len; i++) {
        SwPort *p = sw->ports->pdata[i];
        g_string_append_printf(out, "\n  %s: in %" G_GUINT64_FORMAT " out %" G_GUINT64_FORMAT,
                               p->kind == SW_VM ? "vm" : p->kind == SW_HOST ? "host" : "external",
                               p->tx, p->rx);
    }
    g_mutex_unlock(&sw->lock);
    return g_string_free(out, FALSE);
}

static bool switch_realize(TessDevice *dev, GError **err)
{
    SwitchNet *s = (SwitchNet *)dev;
    if (!s->name || !*s->name) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_INVALID, "name must not be empty");
        return false;
    }
    s->sw = sw_join(s->name);
    bool ok = true;
    /* validate: no TAP device or host interface is opened */
    bool dry = tess_machine_dry_run(dev->machine);
    g_mutex_lock(&s->sw->lock);
    if (!dry && s->tap && *s->tap)
        ok = sw_uplink_tap(s->sw, s->tap, err);
    if (ok && !dry && s->pcap && *s->pcap)
        ok = sw_uplink_pcap(s->sw, s->pcap, err);
    g_mutex_unlock(&s->sw->lock);
    if (ok)
        ok = tess_control_add_instance_command(dev, "switch", switch_cmd_status,
                                               "ID  the switch's ports and counters", err);
    if (!ok) {
        sw_leave(g_steal_pointer(&s->sw));
        return false;
    }
    return true;
}

static void switch_unrealize(TessDevice *dev)
{
    SwitchNet *s = (SwitchNet *)dev;
    if (s->sw)
        sw_leave(g_steal_pointer(&s->sw));
}

static const TessPropSpec switch_props[] = {
    TESS_PROP_STRING_("name", SwitchNet, name, "default",
                      "the switch to join: every <net type=\"switch\"> of this process with this name"),
    { .name = "vm", .type = TESS_PROP_BOOL, .offset = offsetof(SwitchNet, vm), .def = "on",
      .flags = TESS_PROP_F_RUNTIME,
      .doc = "exchange frames with the other VMs on the switch" },
    { .name = "host", .type = TESS_PROP_BOOL, .offset = offsetof(SwitchNet, host), .def = "on",
      .flags = TESS_PROP_F_RUNTIME,
      .doc = "exchange frames with the host (the switch's TAP uplink)" },
    { .name = "external", .type = TESS_PROP_BOOL, .offset = offsetof(SwitchNet, external),
      .def = "on", .flags = TESS_PROP_F_RUNTIME,
      .doc = "exchange frames with the external network (the switch's pcap uplink)" },
    TESS_PROP_STRING_("tap", SwitchNet, tap, NULL,
                      "give the switch a host uplink: TAP device IFNAME (/dev/net/tun; needs CAP_NET_ADMIN)"),
    TESS_PROP_STRING_("pcap", SwitchNet, pcap, NULL,
                      "give the switch an external uplink: capture and inject on host interface IFNAME (libpcap; needs CAP_NET_RAW)"),
    TESS_NET_PROP_CAPTURE(SwitchNet, capture),
    TESS_PROP_END,
};

static const TessIfaceSpec switch_provides[] = {
    { TESS_IFACE_NET, &switch_ops, TESS_IFACE_NET_VERSION },
    TESS_IFACE_END,
};

static const TessDeviceClass switch_class = {
    .type = "switch",
    .kind = TESS_CLASS_BACKEND,
    .doc = "network backend: in-process virtual switch shared by machines (MAC learning, "
           "per-VM routing; TAP and pcap uplinks); <net type=\"switch\" name=\"lab\"/>",
    .instance_size = sizeof(SwitchNet),
    .props = switch_props,
    .provides = switch_provides,
    .realize = switch_realize,
    .unrealize = switch_unrealize,
    .prop_changed = switch_prop_changed,
};

static bool switch_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &switch_class, err);
}

TESS_PLUGIN_DEFINE("switch", "0.1.0", "LGPL-2.1-or-later",
                   "network backend: in-process virtual switch", switch_init);
