/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test exit port (0xF4), as QEMU's isa-debug-exit: a guest write of V ends
 * the run with process exit status (V << 1) | 1, so a test guest can report
 * success or failure to the harness that started it. Only the low byte
 * counts: exit statuses are 8 bits.
 */
#include <tessera/tessera.h>

typedef struct {
    TessDevice dev;
    uint64_t port;
} TestExit;

static uint64_t tx_read(void *opaque, uint64_t offset, unsigned size)
{
    return ~0ull;
}

static void tx_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    TestExit *t = opaque;
    tess_machine_request_exit(t->dev.machine, (int)((((uint32_t)value << 1) | 1) & 0xFF));
}

/* Accept every width in one access, so a 16- or 32-bit write is one exit. */
static const TessIoOps tx_ops = {
    .read = tx_read, .write = tx_write, .widths = TESS_W8 | TESS_W16 | TESS_W32,
};

static bool tx_realize(TessDevice *dev, GError **err)
{
    TestExit *t = (TestExit *)dev;
    return tess_pio_map(dev, (uint32_t)t->port, 4, &tx_ops, t, err);
}

static const TessPropSpec tx_props[] = {
    TESS_PROP_UINT_("port", TestExit, port, "0xf4", 1, 0xFFFC, "exit port"),
    TESS_PROP_END,
};

static const TessDeviceClass test_exit_class = {
    .type = "test-exit",
    .kind = TESS_CLASS_DEVICE,
    .doc = "guest-controlled exit status (isa-debug-exit compatible)",
    .instance_size = sizeof(TestExit),
    .props = tx_props,
    .realize = tx_realize,
};

static bool tx_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &test_exit_class, err);
}

TESS_PLUGIN_DEFINE("test-exit", "0.1.0", "LGPL-2.1-or-later",
                   "exit the run with a status chosen by the guest", tx_init);
