/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The "none" network backend: the cable unplugged. The NIC's port is
 * attached (so `tessera ctl SOCK net nic0 shared` later is a plain swap)
 * but the link stays down and every frame sent is dropped, as on a NIC
 * with nothing in its socket.
 */
#include <tessera/tessera.h>

typedef struct {
    TessDevice dev;
    char *capture;
} NoneNet;

static bool none_attach(TessDevice *dev, TessNetPort *port, GError **err)
{
    return true;
}

static void none_detach(TessDevice *dev, TessNetPort *port)
{
}

static TessNetTx none_send(TessDevice *dev, const uint8_t *frame, size_t len)
{
    return TESS_NET_DROPPED;
}

static bool none_link_up(TessDevice *dev)
{
    return false;
}

static const TessNetBackendOps none_ops = {
    .size = sizeof(TessNetBackendOps),
    .attach = none_attach,
    .detach = none_detach,
    .send = none_send,
    .link_up = none_link_up,
};

static bool none_realize(TessDevice *dev, GError **err)
{
    return true;
}

static const TessPropSpec none_props[] = {
    TESS_NET_PROP_CAPTURE(NoneNet, capture),
    TESS_PROP_END,
};

static const TessIfaceSpec none_provides[] = {
    { TESS_IFACE_NET, &none_ops, TESS_IFACE_NET_VERSION },
    TESS_IFACE_END,
};

static const TessDeviceClass none_class = {
    .type = "none",
    .kind = TESS_CLASS_BACKEND,
    .doc = "network backend: no cable (link down, frames sent are dropped); <net type=\"none\"/>",
    .instance_size = sizeof(NoneNet),
    .props = none_props,
    .provides = none_provides,
    .realize = none_realize,
};

static bool none_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &none_class, err);
}

TESS_PLUGIN_DEFINE("none", "0.1.0", "LGPL-2.1-or-later", "network backend: cable unplugged",
                   none_init);
