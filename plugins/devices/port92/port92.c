/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * System Control Port A (port 0x92, PS/2 and every PC chipset since):
 * bit 1 gates A20 ("fast A20"), bit 0 written as 1 resets the processor
 * ("fast reset"; it reads back as 0 once the reset is done). Other bits
 * are stored (bit 3 is the CMOS/password lock on some boards).
 * Reference: IBM PS/2 hardware technical reference, "System Control Port A".
 */
#define G_LOG_DOMAIN "port92"
#include <tessera/tessera.h>

typedef struct {
    TessDevice dev;
    uint8_t value;
    TessSignal *a20;
} Port92;

static uint64_t p92_read(void *opaque, uint64_t offset, unsigned size)
{
    Port92 *p = opaque;
    return p->value;
}

static void p92_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    Port92 *p = opaque;
    p->value = (uint8_t)(value & ~1u);
    tess_signal_set(p->a20, (value & 2) != 0);
    /* Fast reset resets the whole machine (the CPU's RESET pin on a PC
     * also re-runs the BIOS, which reinitialises the board). */
    if (value & 1)
        tess_machine_request_reset(p->dev.machine);
}

static const TessIoOps p92_ops = { .read = p92_read, .write = p92_write, .widths = TESS_W8 };

static bool p92_realize(TessDevice *dev, GError **err)
{
    Port92 *p = (Port92 *)dev;
    return tess_pio_map(dev, 0x92, 1, &p92_ops, p, err);
}

static void p92_reset(TessDevice *dev)
{
    Port92 *p = (Port92 *)dev;
    p->value = 0;
    tess_signal_lower(p->a20);
}

static const TessLineSpec p92_lines[] = {
    TESS_LINE_OUT_("a20", 1, Port92, a20, "A20 gate (bit 1)"),
    TESS_LINE_END,
};

static const TessStateField p92_fields[] = {
    TESS_STATE_U8(Port92, value),
    TESS_STATE_END,
};

static bool p92_post_load(TessDevice *dev, uint32_t version, GError **err)
{
    Port92 *p = (Port92 *)dev;
    tess_signal_set(p->a20, (p->value & 2) != 0);
    return true;
}

static const TessStateDesc p92_state = { .version = 1, .fields = p92_fields, .post_load = p92_post_load };

static const TessDeviceClass p92_class = {
    .type = "port92",
    .kind = TESS_CLASS_DEVICE,
    .doc = "System Control Port A: fast A20 gate and fast reset",
    .instance_size = sizeof(Port92),
    .lines = p92_lines,
    .state = &p92_state,
    .realize = p92_realize,
    .reset = p92_reset,
};

static bool p92_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &p92_class, err);
}

TESS_PLUGIN_DEFINE("port92", "0.1.0", "LGPL-2.1-or-later",
                   "System Control Port A (A20, fast reset)", p92_init);
