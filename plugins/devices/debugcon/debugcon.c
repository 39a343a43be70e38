/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Debug console: bytes written to ports 0xE9 and 0x402 go to a host
 * stream. Reading 0x402 returns 0xE9, which is how firmware (SeaBIOS,
 * Bochs BIOS) detects the port before using it; reading 0xE9 does too.
 */
#include <tessera/tessera.h>

typedef struct {
    TessDevice dev;
    uint64_t port;
    uint64_t port2;
    char *output;
    TessChardev *out;
} Debugcon;

static uint64_t dbg_read(void *opaque, uint64_t offset, unsigned size)
{
    return 0xE9;
}

static void dbg_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    Debugcon *d = opaque;
    uint8_t b = (uint8_t)value;
    tess_chardev_write(d->out, &b, 1);
}

static const TessIoOps dbg_ops = { .read = dbg_read, .write = dbg_write, .widths = TESS_W8 };

static bool dbg_realize(TessDevice *dev, GError **err)
{
    Debugcon *d = (Debugcon *)dev;
    d->out = tess_chardev_open(dev, d->output, err);
    if (!d->out)
        return false;
    if (!tess_pio_map(dev, (uint32_t)d->port, 1, &dbg_ops, d, err))
        return false;
    if (d->port2 && !tess_pio_map(dev, (uint32_t)d->port2, 1, &dbg_ops, d, err))
        return false;
    return true;
}

static const TessPropSpec dbg_props[] = {
    TESS_PROP_UINT_("port", Debugcon, port, "0xe9", 1, 0xFFFF, "first console port"),
    TESS_PROP_UINT_("port2", Debugcon, port2, "0x402", 0, 0xFFFF, "second console port (0: none)"),
    TESS_PROP_STRING_("output", Debugcon, output, "stdio",
                      "host stream: stdio, file:PATH, null (--debugcon)"),
    TESS_PROP_END,
};

static const TessDeviceClass debugcon_class = {
    .type = "debugcon",
    .kind = TESS_CLASS_DEVICE,
    .doc = "debug console on ports 0xE9 and 0x402",
    .instance_size = sizeof(Debugcon),
    .props = dbg_props,
    .realize = dbg_realize,
};

static bool dbg_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &debugcon_class, err);
}

TESS_PLUGIN_DEFINE("debugcon", "0.1.0", "LGPL-2.1-or-later",
                   "debug console ports (0xE9, 0x402)", dbg_init);
