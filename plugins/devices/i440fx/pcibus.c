/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PCI bus behind the i440FX: configuration mechanism #1, per-function
 * configuration space, BAR decoding and INTx# to PIRQ# wiring.
 *
 * PCI Local Bus Specification 2.1: 3.2.2.3.2 (configuration mechanism #1),
 * 6.1-6.2 (header), 6.2.5 (base addresses, expansion ROM); i440FX datasheet
 * (290549-001) 3.1.1-3.1.2 (CONFADD/CONFDATA).
 */
#define G_LOG_DOMAIN "i440fx"
#include "i440fx.h"

#include <string.h>

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

static bool overlaps(unsigned reg, unsigned size, unsigned start, unsigned len)
{
    return reg < start + len && start < reg + size;
}

static uint32_t pow2_ceil32(uint64_t v)
{
    uint64_t p = 1;
    while (p < v)
        p <<= 1;
    return p > 0x80000000u ? 0x80000000u : (uint32_t)p;
}

/* ---- decoding --------------------------------------------------------- */

/* The host bridge claims DRAM below its top of memory for itself (i440FX
 * 3.3, system address map): a BAR programmed over it never sees a cycle.
 * The legacy holes (A0000-FFFFF) and everything above top of memory go to
 * PCI. */
static bool mem_reaches_pci(I440fx *s, uint64_t addr, uint64_t size)
{
    uint64_t end = addr + size;
    uint64_t tom = tess_machine_ram_below_4g(s->dev.machine);
    if (addr < 0xA0000)
        return false;
    if (tom > 0x100000 && addr < tom && end > 0x100000)
        return false;
    return true;
}

static uint32_t bar_reg_offset(int i)
{
    return i == PCI_ROM_SLOT ? PCI_ROM_ADDRESS : PCI_BAR0 + 4u * (unsigned)i;
}

/* Where BAR i currently decodes; false when it does not decode at all. */
static bool bar_target(TessPciFunction *f, int i, uint32_t *addr)
{
    uint16_t cmd = rd16(f->config + PCI_COMMAND);
    uint32_t size = f->bar_size[i];
    uint32_t reg = rd32(f->config + bar_reg_offset(i));

    if (i == PCI_ROM_SLOT) {
        *addr = reg & ~(size - 1) & 0xFFFFF800u;
        return (cmd & PCI_COMMAND_MEMORY) && (reg & 1) &&
               mem_reaches_pci(f->bus, *addr, size);
    }
    if (f->info.bars[i].kind == TESS_PCI_BAR_IO) {
        *addr = reg & ~(size - 1) & ~3u;
        /* x86 I/O space is 64 KiB: a BAR above it is never addressed. */
        return (cmd & PCI_COMMAND_IO) && (uint64_t)*addr + size <= 0x10000;
    }
    *addr = reg & ~(size - 1) & ~0xFu;
    return (cmd & PCI_COMMAND_MEMORY) && mem_reaches_pci(f->bus, *addr, size);
}

static TessMemRegion *bar_region(TessPciFunction *f, int i)
{
    return i == PCI_ROM_SLOT ? f->info.rom : f->info.bars[i].region;
}

static void bar_unmap(TessPciFunction *f, int i)
{
    if (!f->mapped[i])
        return;
    if (i != PCI_ROM_SLOT && f->info.bars[i].kind == TESS_PCI_BAR_IO)
        tess_pio_unmap(f->dev, f->mapped_addr[i]);
    else
        tess_mem_unmap(bar_region(f, i));
    f->mapped[i] = false;
}

static void bar_map(TessPciFunction *f, int i, uint32_t addr)
{
    GError *err = NULL;
    bool ok;

    if (i != PCI_ROM_SLOT && f->info.bars[i].kind == TESS_PCI_BAR_IO)
        ok = tess_pio_map(f->dev, addr, f->bar_size[i], f->info.bars[i].ops,
                          f->info.bars[i].opaque, &err);
    else
        ok = tess_mem_map(bar_region(f, i), addr, TESS_PRIO_DEVICE, TESS_MAP_RW, &err);
    if (!ok) {
        /* Two agents answering one address is a guest bug; the earlier
         * claim keeps the cycles. */
        tess_guest_error(f->dev, "%02x.%x BAR%d at 0x%x not decoded: %s",
                         f->devfn >> 3, f->devfn & 7, i, addr, err->message);
        g_error_free(err);
        return;
    }
    f->mapped[i] = true;
    f->mapped_addr[i] = addr;
    TESS_TRACE(f->bus->trace, "%s: %02x.%x %s%d mapped at 0x%x (%u bytes)", f->dev->id,
               f->devfn >> 3, f->devfn & 7, i == PCI_ROM_SLOT ? "ROM" : "BAR",
               i == PCI_ROM_SLOT ? 0 : i, addr, f->bar_size[i]);
}

/* Bring one function's decoders in line with its registers. Returns true
 * when something was released (other functions may now map). */
static bool fn_sync(TessPciFunction *f)
{
    bool released = false;
    for (int i = 0; i < 7; i++) {
        uint32_t addr;
        bool want;
        if (i == PCI_ROM_SLOT ? !f->info.rom : f->info.bars[i].kind == TESS_PCI_BAR_UNUSED)
            continue;
        want = bar_target(f, i, &addr);
        if (f->mapped[i] && (!want || f->mapped_addr[i] != addr)) {
            bar_unmap(f, i);
            released = true;
        }
        if (want && !f->mapped[i])
            bar_map(f, i, addr);
    }
    return released;
}

void pcibus_update_all(I440fx *s)
{
    TessMachine *m = s->dev.machine;
    tess_mem_begin(m);
    for (int d = 0; d < PCI_MAX_DEVFN; d++)
        if (s->fn[d])
            fn_sync(s->fn[d]);
    tess_mem_commit(m);
}

void pcibus_update_mappings(TessPciFunction *f)
{
    TessMachine *m = f->bus->dev.machine;
    tess_mem_begin(m);
    if (fn_sync(f)) {
        /* A BAR that lost a conflict may have its range free now. */
        for (int d = 0; d < PCI_MAX_DEVFN; d++)
            if (f->bus->fn[d] && f->bus->fn[d] != f)
                fn_sync(f->bus->fn[d]);
    }
    tess_mem_commit(m);
}

/* ---- INTx# ------------------------------------------------------------ */

static bool fn_pirq(TessPciFunction *f, unsigned *pirq)
{
    unsigned pin = f->config[PCI_INTERRUPT_PIN];
    unsigned slot = (unsigned)f->devfn >> 3;
    if (pin < 1 || pin > 4)
        return false;
    /* Board wiring of the i440FX/PIIX3 platform. */
    *pirq = (pin - 1 + slot - 1) & 3;
    return true;
}

static bool fn_asserted(TessPciFunction *f)
{
    return f->level && !(rd16(f->config + PCI_COMMAND) & PCI_COMMAND_INTX_DIS);
}

static const TessPciIrqRouterOps *bus_router(I440fx *s)
{
    if (s->router)
        return s->router_ops;

    GError *err = NULL;
    const char *id = s->router_id && *s->router_id ? s->router_id : NULL;
    TessDevice *r = tess_device_find_provider(&s->dev, TESS_IFACE_PCI_IRQ_ROUTER, id, &err);
    if (!r) {
        if (!s->router_lookup_failed)
            g_warning("%s: PCI interrupts go nowhere: %s", s->dev.id, err->message);
        s->router_lookup_failed = true;
        g_error_free(err);
        return NULL;
    }
    s->router = r;
    s->router_ops = tess_device_interface(r, TESS_IFACE_PCI_IRQ_ROUTER);
    /* Tell the router what it missed. */
    for (unsigned p = 0; p < 4; p++)
        if (s->pirq_level[p])
            s->router_ops->set_pirq(r, p, true);
    return s->router_ops;
}

static void bus_update_pirq(I440fx *s, unsigned pirq)
{
    bool level = false;
    for (int d = 0; d < PCI_MAX_DEVFN && !level; d++) {
        TessPciFunction *f = s->fn[d];
        unsigned p;
        if (f && fn_pirq(f, &p) && p == pirq && fn_asserted(f))
            level = true;
    }
    if (level == s->pirq_level[pirq])
        return;
    s->pirq_level[pirq] = level;
    const TessPciIrqRouterOps *ops = bus_router(s);
    if (ops && ops->set_pirq)
        ops->set_pirq(s->router, pirq, level);
}

static void fn_update_irq(TessPciFunction *f)
{
    unsigned p;
    uint16_t st = rd16(f->config + PCI_STATUS);
    st = f->level ? (st | PCI_STATUS_INTERRUPT) : (st & ~PCI_STATUS_INTERRUPT);
    wr16(f->config + PCI_STATUS, st);
    if (fn_pirq(f, &p))
        bus_update_pirq(f->bus, p);
}

/* ---- configuration space ---------------------------------------------- */

void pcibus_reset_function(TessPciFunction *f)
{
    const TessPciFunctionInfo *in = &f->info;
    uint8_t *c = f->config;

    memset(c, 0, 0x40);
    wr16(c + PCI_VENDOR_ID, in->vendor_id);
    wr16(c + PCI_DEVICE_ID, in->device_id);
    wr16(c + PCI_STATUS, PCI_STATUS_DEVSEL_MED);
    c[PCI_REVISION_ID] = in->revision;
    c[PCI_CLASS_PROG] = in->prog_if;
    c[PCI_CLASS_PROG + 1] = in->subclass;
    c[PCI_CLASS_PROG + 2] = in->class_code;
    c[PCI_HEADER_TYPE] = in->header_type;
    for (int i = 0; i < 6; i++) {
        uint32_t type = 0;
        if (in->bars[i].kind == TESS_PCI_BAR_IO)
            type = 1;
        else if (in->bars[i].kind == TESS_PCI_BAR_MEM32_PREFETCH)
            type = 0x8;
        wr32(c + PCI_BAR0 + 4 * i, type);
    }
    wr16(c + PCI_SUBSYS_VENDOR, in->subsystem_vendor_id);
    wr16(c + PCI_SUBSYS_VENDOR + 2, in->subsystem_id);
    c[PCI_INTERRUPT_PIN] = in->interrupt_pin;

    pcibus_update_mappings(f);
    fn_update_irq(f);
}

static bool check_info(const TessPciFunctionInfo *info, GError **err)
{
    for (int i = 0; i < 6; i++) {
        const TessPciBar *b = &info->bars[i];
        switch (b->kind) {
        case TESS_PCI_BAR_UNUSED:
            continue;
        case TESS_PCI_BAR_IO:
            if (b->size < 4 || b->size > 0x10000 || (b->size & (b->size - 1)) || !b->ops) {
                g_set_error(err, TESS_BUS_ERROR, TESS_ERROR_INVALID,
                            "BAR%d: an I/O BAR needs ops and a power-of-two size of 4..65536 (got %u)",
                            i, b->size);
                return false;
            }
            break;
        case TESS_PCI_BAR_MEM32:
        case TESS_PCI_BAR_MEM32_PREFETCH:
            if (b->size < 16 || (b->size & (b->size - 1)) || !b->region) {
                g_set_error(err, TESS_BUS_ERROR, TESS_ERROR_INVALID,
                            "BAR%d: a memory BAR needs a region and a power-of-two size >= 16 (got %u)",
                            i, b->size);
                return false;
            }
            break;
        default:
            g_set_error(err, TESS_BUS_ERROR, TESS_ERROR_INVALID, "BAR%d: unknown kind %d",
                        i, b->kind);
            return false;
        }
    }
    if (info->interrupt_pin > 4) {
        g_set_error(err, TESS_BUS_ERROR, TESS_ERROR_INVALID,
                    "interrupt pin %u (0 none, 1-4 INTA#-INTD#)", info->interrupt_pin);
        return false;
    }
    return true;
}

TessPciFunction *pcibus_attach(I440fx *s, TessDevice *dev, int devfn,
                               const TessPciFunctionInfo *info, GError **err)
{
    if (!check_info(info, err))
        return NULL;
    if (devfn < 0) {
        for (int slot = 1; slot < 32 && devfn < 0; slot++) {
            bool free_slot = true;
            for (int fnum = 0; fnum < 8; fnum++)
                free_slot &= s->fn[slot << 3 | fnum] == NULL;
            if (free_slot)
                devfn = slot << 3;
        }
        if (devfn < 0) {
            g_set_error(err, TESS_BUS_ERROR, TESS_ERROR_CONFLICT,
                        "%s: no free PCI slot for %s", s->dev.id, dev->id);
            return NULL;
        }
    } else if (devfn >= PCI_MAX_DEVFN) {
        g_set_error(err, TESS_BUS_ERROR, TESS_ERROR_INVALID,
                    "%s: devfn 0x%x out of range (slot << 3 | function, 0..0xff)",
                    dev->id, devfn);
        return NULL;
    } else if (s->fn[devfn]) {
        g_set_error(err, TESS_BUS_ERROR, TESS_ERROR_CONFLICT,
                    "%s: PCI %02x.%x is taken by %s", dev->id, devfn >> 3, devfn & 7,
                    s->fn[devfn]->dev->id);
        return NULL;
    }

    TessPciFunction *f = g_new0(TessPciFunction, 1);
    f->bus = s;
    f->dev = dev;
    f->devfn = devfn;
    /* Only what the function's plugin filled (its struct_size; 0 from
     * this plugin itself); members it did not know read as zero. */
    size_t n = info->struct_size ? MIN((size_t)info->struct_size, sizeof(f->info))
                                 : sizeof(f->info);
    memset(&f->info, 0, sizeof(f->info));
    memcpy(&f->info, info, n);

    /* Writable bits of the header (PCI 2.1 6.2.2-6.2.5). */
    wr16(f->wmask + PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
                                 PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DIS);
    wr16(f->w1cmask + PCI_STATUS, PCI_STATUS_W1C);
    f->wmask[PCI_CACHE_LINE] = 0xFF;
    f->wmask[PCI_LATENCY_TIMER] = 0xFF;
    for (int i = 0; i < 6; i++) {
        const TessPciBar *b = &info->bars[i];
        if (b->kind == TESS_PCI_BAR_UNUSED)
            continue;
        f->bar_size[i] = b->size;
        wr32(f->wmask + PCI_BAR0 + 4 * i,
             ~(b->size - 1) & (b->kind == TESS_PCI_BAR_IO ? ~3u : ~0xFu));
    }
    if (info->rom) {
        uint32_t sz = pow2_ceil32(tess_mem_region_size(info->rom));
        f->bar_size[PCI_ROM_SLOT] = sz < 2048 ? 2048 : sz;
        wr32(f->wmask + PCI_ROM_ADDRESS, (~(f->bar_size[PCI_ROM_SLOT] - 1) & 0xFFFFF800u) | 1);
    }
    f->wmask[PCI_INTERRUPT_LINE] = 0xFF;
    memset(f->wmask + 0x40, 0xFF, 0xC0);

    s->fn[devfn] = f;
    pcibus_reset_function(f);
    return f;
}

static void fn_detach(TessPciFunction *f)
{
    I440fx *s = f->bus;
    unsigned p;
    bool had_irq = fn_pirq(f, &p);

    tess_mem_begin(s->dev.machine);
    for (int i = 0; i < 7; i++)
        bar_unmap(f, i);
    tess_mem_commit(s->dev.machine);
    s->fn[f->devfn] = NULL;
    if (had_irq)
        bus_update_pirq(s, p);
    g_free(f);
}

void pcibus_detach_all(I440fx *s)
{
    /* Called at unrealize: the core releases every claim with its owner,
     * so only our own bookkeeping goes. */
    for (int d = 0; d < PCI_MAX_DEVFN; d++) {
        g_free(s->fn[d]);
        s->fn[d] = NULL;
    }
    s->host = NULL;
}

uint32_t pcibus_config_read(TessPciFunction *f, unsigned reg, unsigned size)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)f->config[reg + i] << (8 * i);
    if (reg >= 0x40 && f->info.config_read)
        v = f->info.config_read(f->dev, (uint8_t)reg, size, v);
    return v;
}

void pcibus_config_write(TessPciFunction *f, unsigned reg, uint32_t val, unsigned size)
{
    uint16_t old_cmd = rd16(f->config + PCI_COMMAND);

    for (unsigned i = 0; i < size; i++) {
        unsigned r = reg + i;
        uint8_t b = (uint8_t)(val >> (8 * i));
        f->config[r] = (uint8_t)((f->config[r] & ~f->wmask[r]) | (b & f->wmask[r]));
        f->config[r] &= (uint8_t)~(b & f->w1cmask[r]);
    }

    if (reg >= 0x40) {
        if (f->info.config_write)
            f->info.config_write(f->dev, (uint8_t)reg, val, size);
        return;
    }
    if (overlaps(reg, size, PCI_COMMAND, 2) || overlaps(reg, size, PCI_BAR0, 24) ||
        overlaps(reg, size, PCI_ROM_ADDRESS, 4))
        pcibus_update_mappings(f);
    if ((old_cmd ^ rd16(f->config + PCI_COMMAND)) & PCI_COMMAND_INTX_DIS) {
        unsigned p;
        if (fn_pirq(f, &p))
            bus_update_pirq(f->bus, p);
    }
}

/* ---- CONFADD / CONFDATA ----------------------------------------------- */

/* Only a DWord access to CF8h reaches CONFADD; the i440FX passes narrower
 * ones to PCI as ordinary I/O. There the PIIX3 answers at CF9h with its
 * Reset Control register (82371SB 2.3): the fabric gives a port range one
 * owner, so the bridge models that byte here. Other bytes float high. */
#define RC_SRST 0x02                      /* system (hard) reset, else INIT */
#define RC_RCPU 0x04                      /* 0 -> 1 starts the reset */

static uint64_t confadd_read(void *opaque, uint64_t off, unsigned size)
{
    I440fx *s = opaque;
    uint64_t v = 0;
    if (off == 0 && size == 4)
        return s->confadd;
    for (unsigned i = 0; i < size; i++) {
        uint8_t b = (off + i == 1 && s->reset_control) ? s->rc : 0xFF;
        v |= (uint64_t)b << (8 * i);
    }
    return v;
}

static void confadd_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    I440fx *s = opaque;
    if (off == 0 && size == 4) {
        s->confadd = (uint32_t)val & 0x80FFFFFCu;   /* bits 30:24 and 1:0 reserved */
        return;
    }
    if (off > 1 || off + size <= 1 || !s->reset_control)
        return;
    uint8_t v = (uint8_t)(val >> (8 * (1 - off)));
    uint8_t old = s->rc;
    s->rc = v & RC_SRST;                  /* RCPU reads back 0 */
    if (!(old & RC_RCPU) && (v & RC_RCPU))
        tess_machine_request_reset(s->dev.machine);
}

static TessPciFunction *confdata_target(I440fx *s)
{
    if (!(s->confadd & 0x80000000u))
        return NULL;
    if ((s->confadd >> 16) & 0xFF)        /* no PCI-PCI bridges: bus 0 only */
        return NULL;
    return s->fn[(s->confadd >> 8) & 0xFF];
}

static uint64_t confdata_read(void *opaque, uint64_t off, unsigned size)
{
    I440fx *s = opaque;
    TessPciFunction *f = confdata_target(s);
    unsigned reg = (s->confadd & 0xFC) + (unsigned)off;
    if (!f) {                             /* master abort */
        TESS_TRACE(s->trace, "config read %02x:%02x.%x [%02x]/%u: no function (master abort)",
                   (s->confadd >> 16) & 0xFF, (s->confadd >> 11) & 0x1F,
                   (s->confadd >> 8) & 7, reg, size);
        return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
    }
    uint64_t v = pcibus_config_read(f, reg, size);
    TESS_TRACE(s->trace, "config read 00:%02x.%x [%02x]/%u -> 0x%0*" G_GINT64_MODIFIER "x (%s)",
               f->devfn >> 3, f->devfn & 7, reg, size, (int)size * 2, v, f->dev->id);
    return v;
}

static void confdata_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    I440fx *s = opaque;
    TessPciFunction *f = confdata_target(s);
    TESS_TRACE(s->trace, "config write %02x:%02x.%x [%02x]/%u <- 0x%0*" G_GINT64_MODIFIER "x (%s)",
               (s->confadd >> 16) & 0xFF, (s->confadd >> 11) & 0x1F, (s->confadd >> 8) & 7,
               (s->confadd & 0xFC) + (unsigned)off, size, (int)size * 2, val,
               f ? f->dev->id : "no function");
    if (f)
        pcibus_config_write(f, (s->confadd & 0xFC) + (unsigned)off, (uint32_t)val, size);
}

const TessIoOps i440fx_confadd_ops = {
    .read = confadd_read, .write = confadd_write,
    .widths = TESS_W8 | TESS_W16 | TESS_W32,
};

const TessIoOps i440fx_confdata_ops = {
    .read = confdata_read, .write = confdata_write,
    .widths = TESS_W8 | TESS_W16 | TESS_W32,
};

/* ---- the "pci-bus" interface ------------------------------------------ */

static TessPciFunction *bus_attach(TessDevice *bus, TessDevice *dev, int devfn,
                                   const TessPciFunctionInfo *info, GError **err)
{
    return pcibus_attach((I440fx *)bus, dev, devfn, info, err);
}

static void bus_detach(TessDevice *bus, TessPciFunction *fn)
{
    I440fx *s = (I440fx *)bus;
    /* Look the pointer up rather than trusting it: after the bus went
     * away (teardown in any order) it is no longer in the table. */
    for (int d = 0; d < PCI_MAX_DEVFN; d++) {
        if (fn && s->fn[d] == fn && fn != s->host) {
            fn_detach(fn);
            return;
        }
    }
}

static void bus_set_irq(TessPciFunction *fn, bool level)
{
    if (fn->level == level)
        return;
    fn->level = level;
    fn_update_irq(fn);
}

static uint8_t *bus_config(TessPciFunction *fn)
{
    return fn->config;
}

static int bus_devfn(TessPciFunction *fn)
{
    return fn->devfn;
}

const TessPciBusOps i440fx_pci_bus_ops = {
    .attach = bus_attach,
    .detach = bus_detach,
    .set_irq = bus_set_irq,
    .config = bus_config,
    .devfn = bus_devfn,
};
