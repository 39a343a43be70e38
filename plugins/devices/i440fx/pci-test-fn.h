/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A PCI function for tests ("test-pci-fn"), registered as a builtin class:
 * BAR0 4 KiB MMIO (reads 0xC0DE0000 | offset), BAR1 16 I/O ports (reads
 * 0x40 + offset), BAR2 64 KiB prefetchable RAM, optional 6 KiB expansion
 * ROM whose bytes are 0x5A ^ (offset & 0xFF), interrupt pin `pin`.
 * Shared by the i440fx and piix3 tests.
 */
#ifndef PCI_TEST_FN_H
#define PCI_TEST_FN_H

#include "harness.h"

#include <string.h>

typedef struct TestFn {
    TessDevice dev;
    int64_t devfn;
    uint64_t pin;
    bool with_rom;
    TessDevice *bus;
    const TessPciBusOps *ops;
    TessPciFunction *fn;
    TessMemRegion *mmio, *ram, *rom;
} TestFn;

static uint64_t tfn_mmio_read(void *opaque, uint64_t off, unsigned size)
{
    uint64_t v = 0xC0DE0000u | off;
    return size >= 8 ? v : v & ((UINT64_C(1) << (8 * size)) - 1);
}

static void tfn_mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
}

static const TessIoOps tfn_mmio_ops = {
    .read = tfn_mmio_read, .write = tfn_mmio_write, .widths = TESS_W32,
};

static uint64_t tfn_io_read(void *opaque, uint64_t off, unsigned size)
{
    return 0x40 + off;
}

static void tfn_io_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
}

static const TessIoOps tfn_io_ops = { .read = tfn_io_read, .write = tfn_io_write, .widths = TESS_W8 };

static bool tfn_realize(TessDevice *dev, GError **err)
{
    TestFn *t = (TestFn *)dev;
    TessPciFunctionInfo info = {
        .vendor_id = 0x1234, .device_id = 0x5678,
        .subsystem_vendor_id = 0xABCD, .subsystem_id = 0xEF01,
        .revision = 0x07, .class_code = 0xFF, .subclass = 0x00, .prog_if = 0x00,
        .interrupt_pin = (uint8_t)t->pin,
    };
    t->bus = tess_device_find_provider(dev, TESS_IFACE_PCI_BUS, NULL, err);
    if (!t->bus)
        return false;
    t->ops = tess_device_interface(t->bus, TESS_IFACE_PCI_BUS);
    t->mmio = tess_mem_mmio_new(dev, "tfn-mmio", 4096, &tfn_mmio_ops, t);
    t->ram = tess_mem_ram_new(dev, "tfn-ram", 65536, err);
    if (!t->ram)
        return false;
    info.bars[0] = (TessPciBar){ .kind = TESS_PCI_BAR_MEM32, .size = 4096, .region = t->mmio };
    info.bars[1] = (TessPciBar){ .kind = TESS_PCI_BAR_IO, .size = 16, .ops = &tfn_io_ops, .opaque = t };
    info.bars[2] = (TessPciBar){ .kind = TESS_PCI_BAR_MEM32_PREFETCH, .size = 65536, .region = t->ram };
    if (t->with_rom) {
        t->rom = tess_mem_rom_new(dev, "tfn-rom", 6144, err);
        if (!t->rom)
            return false;
        uint8_t *h = tess_mem_region_host(t->rom);
        for (unsigned i = 0; i < 6144; i++)
            h[i] = (uint8_t)(0x5A ^ (i & 0xFF));
        info.rom = t->rom;
    }
    t->fn = t->ops->attach(t->bus, dev, (int)t->devfn, &info, err);
    return t->fn != NULL;
}

static const TessPropSpec tfn_props[] = {
    TESS_PROP_INT_("devfn", TestFn, devfn, "-1", -1, 255, "slot << 3 | fn, -1 = any"),
    TESS_PROP_UINT_("pin", TestFn, pin, "1", 0, 4, "interrupt pin"),
    TESS_PROP_BOOL_("rom", TestFn, with_rom, "off", "expansion ROM"),
    TESS_PROP_END
};

static const TessDeviceClass tfn_class = {
    .type = "test-pci-fn",
    .kind = TESS_CLASS_DEVICE,
    .doc = "PCI test function",
    .instance_size = sizeof(TestFn),
    .props = tfn_props,
    .realize = tfn_realize,
};

static void tfn_register(void)
{
    g_autoptr(GError) err = NULL;
    if (!tess_registry_lookup(th_registry(), tfn_class.type) &&
        !tess_registry_add_builtin(th_registry(), &tfn_class, &err))
        g_error("%s", err->message);
}

static TestFn *tfn_get(TessMachine *m, const char *id)
{
    TessDevice *d = tess_machine_device(m, id);
    g_assert_nonnull(d);
    return (TestFn *)d;
}

/* Configuration mechanism #1 from the CPU's side. */
static inline uint32_t cfg_read(TessMachine *m, unsigned devfn, unsigned reg, unsigned size)
{
    th_outl(m, 0xCF8, 0x80000000u | devfn << 8 | (reg & 0xFC));
    return tess_pio_read(m, 0xCFC + (reg & 3), size);
}

static inline void cfg_write(TessMachine *m, unsigned devfn, unsigned reg, uint32_t v,
                             unsigned size)
{
    th_outl(m, 0xCF8, 0x80000000u | devfn << 8 | (reg & 0xFC));
    tess_pio_write(m, 0xCFC + (reg & 3), v, size);
}

#endif
