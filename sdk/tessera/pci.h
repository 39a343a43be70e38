/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PCI: the "pci-bus" interface, provided by a host bridge model.
 *
 * A PCI model describes its function (IDs, class, BARs, interrupt pin,
 * optional expansion ROM) in a TessPciFunctionInfo and attaches it to the
 * bus during realize. The bus owns configuration space: the standard
 * header, BAR sizing and moves (mapping the BAR's region or ports where
 * the guest puts them while decoding is enabled in COMMAND), and INTx
 * routing from the pin to the platform's interrupt lines. Registers of the
 * device-specific area (0x40-0xFF) go to the function's config hooks.
 */
#ifndef TESSERA_PCI_H
#define TESSERA_PCI_H

#include <tessera/types.h>
#include <tessera/io.h>
#include <tessera/device.h>

G_BEGIN_DECLS

#define TESS_IFACE_PCI_BUS "pci-bus"
#define TESS_IFACE_PCI_BUS_VERSION 1   /* see TessIfaceSpec in device.h */

typedef struct TessPciFunction TessPciFunction;   /* opaque, owned by the bus */

enum {
    TESS_PCI_BAR_UNUSED = 0,
    TESS_PCI_BAR_IO,
    TESS_PCI_BAR_MEM32,
    TESS_PCI_BAR_MEM32_PREFETCH,
};

typedef struct TessPciBar {
    int kind;                 /* TESS_PCI_BAR_* */
    uint32_t size;            /* power of two; I/O >= 4, memory >= 16 */
    /* I/O BARs: ops/opaque. Memory BARs: a region (RAM-backed such as a
     * framebuffer, or MMIO) that the bus maps at the programmed address. */
    const TessIoOps *ops;
    void *opaque;
    TessMemRegion *region;
} TessPciBar;

/* Filled by the function's plugin, read by the bus's: it carries its size
 * (struct_size, set by tess_pci_attach) so that a bus reads only what the
 * function's plugin was built with; members are only ever appended. */
typedef struct TessPciFunctionInfo {
    uint32_t struct_size;     /* sizeof(TessPciFunctionInfo) where it was filled */
    uint16_t vendor_id, device_id;
    uint16_t subsystem_vendor_id, subsystem_id;
    uint8_t revision;
    uint8_t class_code, subclass, prog_if;
    uint8_t header_type;      /* bit 7: multi-function */
    uint8_t interrupt_pin;    /* 0 none, 1 INTA# .. 4 INTD# */
    TessPciBar bars[6];
    TessMemRegion *rom;       /* expansion ROM, or NULL */
    /* Device-specific config registers; NULL hooks mean plain storage.
     * `write` is called after the bytes are stored in the config array. */
    uint32_t (*config_read)(TessDevice *dev, uint8_t reg, unsigned size,
                            uint32_t stored);
    void (*config_write)(TessDevice *dev, uint8_t reg, uint32_t value,
                         unsigned size);
} TessPciFunctionInfo;

typedef struct TessPciBusOps {
    /* devfn = slot << 3 | function, or -1 for the first free slot. */
    TessPciFunction *(*attach)(TessDevice *bus, TessDevice *dev, int devfn,
                               const TessPciFunctionInfo *info, GError **err);
    void (*detach)(TessDevice *bus, TessPciFunction *fn);
    void (*set_irq)(TessPciFunction *fn, bool level);
    /* The function's 256-byte config space (for models that keep state in it). */
    uint8_t *(*config)(TessPciFunction *fn);
    int (*devfn)(TessPciFunction *fn);
} TessPciBusOps;

/*
 * PCI interrupt routing, interface "pci-irq-router", provided by the
 * PCI-to-ISA bridge (PIIX3). The host bridge ORs the INTx# of every
 * function onto the board's four PIRQ lines (a function's pin on slot S
 * drives PIRQ[(pin - 1 + S - 1) & 3]) and reports each PIRQ's level to
 * the router, which steers it to an ISA IRQ as its registers say.
 */
#define TESS_IFACE_PCI_IRQ_ROUTER "pci-irq-router"
#define TESS_IFACE_PCI_IRQ_ROUTER_VERSION 1   /* see TessIfaceSpec in device.h */

typedef struct TessPciIrqRouterOps {
    /* pirq 0..3 = PIRQA#..PIRQD#; level true = asserted. */
    void (*set_pirq)(TessDevice *router, unsigned pirq, bool level);
} TessPciIrqRouterOps;

/* Attach `dev` as a function of the PCI bus `bus_id` (NULL: the machine's
 * pci-bus provider), realizing the bus first if needed. On success *bus
 * and *ops are set for later calls (set_irq, config, detach). */
static inline TessPciFunction *tess_pci_attach(TessDevice *dev, const char *bus_id, int devfn,
                                               const TessPciFunctionInfo *info,
                                               TessDevice **bus, const TessPciBusOps **ops,
                                               GError **err)
{
    *bus = tess_device_find_provider(dev, TESS_IFACE_PCI_BUS, bus_id, err);
    if (!*bus)
        return NULL;
    *ops = (const TessPciBusOps *)tess_device_interface(*bus, TESS_IFACE_PCI_BUS);
    TessPciFunctionInfo sized = *info;
    sized.struct_size = sizeof(sized);
    return (*ops)->attach(*bus, dev, devfn, &sized, err);
}

G_END_DECLS

#endif
