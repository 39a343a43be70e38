/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared bits of the registry test plugins: a trivial device class. */
#include <tessera/tessera.h>

typedef struct { TessDevice dev; uint64_t value; } TpDev;

static bool tp_realize(TessDevice *dev, GError **err) { return true; }

static const TessPropSpec tp_props[] = {
    TESS_PROP_UINT_("value", TpDev, value, "7", 0, 100, "a number"),
    TESS_PROP_END,
};

#define TP_CLASS(var, name) \
    static const TessDeviceClass var = { .type = name, .kind = TESS_CLASS_DEVICE, \
        .doc = "registry test class", .instance_size = sizeof(TpDev), \
        .props = tp_props, .realize = tp_realize }
