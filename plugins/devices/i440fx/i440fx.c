/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Intel 82441FX PCI and Memory Controller (i440FX host bridge), PCI 00:00.0.
 *
 * Intel 440FX PCIset datasheet (290549-001): 3.2 (configuration
 * registers: PAM0-PAM6 at 59h-5Fh, SMRAM at 72h), 3.3 (system address map).
 * The PCI bus itself is in pcibus.c.
 */
#define G_LOG_DOMAIN "i440fx"
#include "i440fx.h"

#include <string.h>

/* PAM: one nibble per segment; bit 0 RE (reads go to DRAM), bit 1 WE
 * (writes go to DRAM), bit 2 CE (cacheable, no effect here). */
static const struct {
    uint32_t base, size;
    uint8_t reg, shift;
} pam_seg[I440FX_PAM_SEGMENTS] = {
    { 0xF0000, 0x10000, 0x59, 4 },
    { 0xC0000, 0x4000, 0x5A, 0 }, { 0xC4000, 0x4000, 0x5A, 4 },
    { 0xC8000, 0x4000, 0x5B, 0 }, { 0xCC000, 0x4000, 0x5B, 4 },
    { 0xD0000, 0x4000, 0x5C, 0 }, { 0xD4000, 0x4000, 0x5C, 4 },
    { 0xD8000, 0x4000, 0x5D, 0 }, { 0xDC000, 0x4000, 0x5D, 4 },
    { 0xE0000, 0x4000, 0x5E, 0 }, { 0xE4000, 0x4000, 0x5E, 4 },
    { 0xE8000, 0x4000, 0x5F, 0 }, { 0xEC000, 0x4000, 0x5F, 4 },
};

/* Below RAM (priority RAM + 1): A0000-FFFFF belong to PCI unless PAM or
 * SMRAM say DRAM, so main RAM must not show through where no device
 * answers. ROMs, the VGA window and the PAM aliases sit above this. */
#define I440FX_PRIO_LEGACY_HOLE (TESS_PRIO_RAM + 1)

static uint64_t hole_read(void *opaque, uint64_t off, unsigned size)
{
    return size >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * size)) - 1;
}

static void hole_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
}

static const TessIoOps hole_ops = {
    .read = hole_read, .write = hole_write,
    .widths = TESS_W8 | TESS_W16 | TESS_W32 | TESS_W64,
};

void i440fx_update_pam(I440fx *s)
{
    TessMachine *m = s->dev.machine;
    const uint8_t *c = s->host->config;

    tess_mem_begin(m);
    for (int i = 0; i < I440FX_PAM_SEGMENTS; i++) {
        unsigned bits = (c[pam_seg[i].reg] >> pam_seg[i].shift) & 3;
        unsigned access = ((bits & 1) ? TESS_MAP_READ : 0) | ((bits & 2) ? TESS_MAP_WRITE : 0);
        if (access == s->pam_access[i])
            continue;
        if (!s->pam[i]) {
            if (access)
                tess_guest_error(&s->dev, "PAM enables DRAM at 0x%x, which has no RAM",
                                 pam_seg[i].base);
            s->pam_access[i] = access;
            continue;
        }
        tess_mem_unmap(s->pam[i]);
        if (access) {
            GError *err = NULL;
            if (!tess_mem_map(s->pam[i], pam_seg[i].base, TESS_PRIO_CHIPSET, access, &err)) {
                g_warning("%s: PAM segment 0x%x: %s", s->dev.id, pam_seg[i].base, err->message);
                g_error_free(err);
            }
        }
        s->pam_access[i] = access;
    }
    tess_mem_commit(m);
}

/* Non-SMM cycles reach SMRAM's DRAM only while SMRAM is enabled and open
 * (3.2.24); otherwise A0000-BFFFF goes to PCI (the VGA window). */
void i440fx_update_smram(I440fx *s)
{
    bool open = (s->smram & SMRAM_G_SMRAME) && (s->smram & SMRAM_D_OPEN);
    if (!s->smram_alias || open == s->smram_mapped)
        return;
    if (open) {
        GError *err = NULL;
        if (!tess_mem_map(s->smram_alias, 0xA0000, TESS_PRIO_CHIPSET, TESS_MAP_RW, &err)) {
            g_warning("%s: SMRAM: %s", s->dev.id, err->message);
            g_error_free(err);
            return;
        }
    } else {
        tess_mem_unmap(s->smram_alias);
    }
    s->smram_mapped = open;
}

static void host_smram_write(I440fx *s)
{
    uint8_t v = s->host->config[I440FX_SMRAM];
    /* D_LCK freezes D_OPEN, D_LCK and G_SMRAME until reset; only D_CLS
     * stays writable. Setting D_LCK closes SMRAM. */
    if (s->smram & SMRAM_D_LCK)
        v = (uint8_t)((s->smram & ~SMRAM_D_CLS) | (v & SMRAM_D_CLS));
    if (v & SMRAM_D_LCK)
        v &= (uint8_t)~SMRAM_D_OPEN;
    if ((v & (SMRAM_D_OPEN | SMRAM_D_CLS)) == (SMRAM_D_OPEN | SMRAM_D_CLS))
        tess_guest_error(&s->dev, "SMRAM: D_OPEN and D_CLS both set (undefined)");
    s->smram = s->host->config[I440FX_SMRAM] = v;
    i440fx_update_smram(s);
}

static void host_config_write(TessDevice *dev, uint8_t reg, uint32_t val, unsigned size)
{
    I440fx *s = (I440fx *)dev;
    if (reg < I440FX_PAM0 + 7 && I440FX_PAM0 < reg + size)
        i440fx_update_pam(s);
    if (reg <= I440FX_SMRAM && I440FX_SMRAM < reg + size)
        host_smram_write(s);
}

static void host_reset_registers(I440fx *s)
{
    uint8_t *c = s->host->config;

    pcibus_reset_function(s->host);
    /* PCICMD: memory access and bus master hardwired on; PCISTS: fast
     * back-to-back capable, medium DEVSEL. */
    c[PCI_COMMAND] = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
    c[PCI_STATUS] = PCI_STATUS_FAST_B2B;
    c[PCI_STATUS + 1] = PCI_STATUS_DEVSEL_MED >> 8;
    memset(c + 0x40, 0, 0xC0);
    c[I440FX_SMRAM] = SMRAM_C_BASE_SEG;
    s->smram = SMRAM_C_BASE_SEG;
    i440fx_update_pam(s);
    i440fx_update_smram(s);
}

static void i440fx_reset(TessDevice *dev)
{
    I440fx *s = (I440fx *)dev;
    s->confadd = 0;
    s->rc = 0;
    /* PCIRST#: every function's header returns to its reset state; the
     * device-specific registers (40h-FFh) are each model's to reset. */
    for (int d = 0; d < PCI_MAX_DEVFN; d++)
        if (s->fn[d] && s->fn[d] != s->host)
            pcibus_reset_function(s->fn[d]);
    host_reset_registers(s);
}

static bool i440fx_realize(TessDevice *dev, GError **err)
{
    I440fx *s = (I440fx *)dev;
    TessMachine *m = dev->machine;
    TESS_TRACE_INIT(s->trace);
    TessPciFunctionInfo info = {
        .vendor_id = 0x8086, .device_id = 0x1237,
        .subsystem_vendor_id = (uint16_t)(s->subsystem >> 16),
        .subsystem_id = (uint16_t)s->subsystem,
        .revision = 0x02,
        .class_code = 0x06, .subclass = 0x00, .prog_if = 0x00,   /* host bridge */
        .header_type = 0x00,
        .config_write = host_config_write,
    };

    s->host = pcibus_attach(s, dev, 0, &info, err);
    if (!s->host)
        return false;
    s->host_config = s->host->config;

    /* Host bridge registers the guest may change. */
    uint8_t *w = s->host->wmask;
    w[PCI_COMMAND] = PCI_COMMAND_PARITY;
    w[PCI_COMMAND + 1] = PCI_COMMAND_SERR >> 8;
    w[PCI_CACHE_LINE] = 0;
    w[PCI_LATENCY_TIMER] = 0xF8;             /* MLT: count in units of 8 clocks */
    w[PCI_INTERRUPT_LINE] = 0;
    w[I440FX_PAM0] = 0x70;                   /* PAM0 low nibble reserved */
    for (int r = I440FX_PAM0 + 1; r < I440FX_PAM0 + 7; r++)
        w[r] = 0x77;                         /* bit 3 of each nibble reserved */
    w[I440FX_SMRAM] = SMRAM_D_OPEN | SMRAM_D_CLS | SMRAM_D_LCK | SMRAM_G_SMRAME;

    if (!tess_pio_map(dev, 0xCF8, 4, &i440fx_confadd_ops, s, err) ||
        !tess_pio_map(dev, 0xCFC, 4, &i440fx_confdata_ops, s, err))
        goto fail;

    TessMemRegion *ram = tess_machine_ram(m);
    uint64_t below = tess_machine_ram_below_4g(m);
    for (int i = 0; i < I440FX_PAM_SEGMENTS; i++) {
        if (!ram || pam_seg[i].base + pam_seg[i].size > below)
            continue;                        /* no DRAM behind this segment */
        char name[32];
        g_snprintf(name, sizeof(name), "pam-%05x", pam_seg[i].base);
        s->pam[i] = tess_mem_alias_new(dev, name, ram, pam_seg[i].base, pam_seg[i].size, err);
        if (!s->pam[i])
            goto fail;
    }
    if (ram && below >= 0xC0000) {
        s->smram_alias = tess_mem_alias_new(dev, "smram", ram, 0xA0000, 0x20000, err);
        if (!s->smram_alias)
            goto fail;
    }
    s->hole = tess_mem_mmio_new(dev, "pci-legacy", 0x60000, &hole_ops, s);
    if (!s->hole || !tess_mem_map(s->hole, 0xA0000, I440FX_PRIO_LEGACY_HOLE, TESS_MAP_RW, err))
        goto fail;
    return true;

fail:
    pcibus_detach_all(s);
    return false;
}

static void i440fx_unrealize(TessDevice *dev)
{
    pcibus_detach_all((I440fx *)dev);
}

static bool i440fx_post_load(TessDevice *dev, uint32_t version, GError **err)
{
    I440fx *s = (I440fx *)dev;
    /* Registers are back; make the memory map and decoders match them. */
    for (int i = 0; i < I440FX_PAM_SEGMENTS; i++) {
        if (s->pam[i] && s->pam_access[i])
            tess_mem_unmap(s->pam[i]);
        s->pam_access[i] = 0;
    }
    i440fx_update_pam(s);
    i440fx_update_smram(s);
    pcibus_update_all(s);
    return true;
}

static const TessPropSpec i440fx_props[] = {
    TESS_PROP_UINT_("subsystem", I440fx, subsystem, "0", 0, 0xFFFFFFFFu,
                    "subsystem vendor << 16 | subsystem id of 00:00.0 (0x1af41100 makes SeaBIOS say \"QEMU\")"),
    TESS_PROP_STRING_("irq-router", I440fx, router_id, NULL,
                      "id of the pci-irq-router device (default: the only one)"),
    TESS_PROP_BOOL_("reset-control", I440fx, reset_control, "on",
                    "answer the PIIX3 Reset Control register at CF9h (byte I/O passed to PCI)"),
    TESS_PROP_END
};

static const TessIfaceSpec i440fx_provides[] = {
    { .name = TESS_IFACE_PCI_BUS, .ops = &i440fx_pci_bus_ops },
    TESS_IFACE_END
};

static const char *const i440fx_needs[] = { TESS_IFACE_PCI_IRQ_ROUTER, NULL };

static const TessStateField i440fx_state_fields[] = {
    TESS_STATE_U32(I440fx, confadd),
    TESS_STATE_U8(I440fx, smram),
    TESS_STATE_U8(I440fx, rc),
    TESS_STATE_PTRBUF(I440fx, host_config, 256),
    TESS_STATE_END
};

static const TessStateDesc i440fx_state = {
    .version = 1,
    .fields = i440fx_state_fields,
    .post_load = i440fx_post_load,
};

static const TessDeviceClass i440fx_class = {
    .type = "i440fx",
    .kind = TESS_CLASS_DEVICE,
    .doc = "Intel 82441FX host bridge: PCI configuration mechanism #1, PAM shadowing, SMRAM",
    .instance_size = sizeof(I440fx),
    .props = i440fx_props,
    .provides = i440fx_provides,
    .needs = i440fx_needs,
    .state = &i440fx_state,
    .realize = i440fx_realize,
    .reset = i440fx_reset,
    .unrealize = i440fx_unrealize,
};

static bool i440fx_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &i440fx_class, err);
}

TESS_PLUGIN_DEFINE("i440fx", "1.0", "LGPL-2.1-or-later",
                   "Intel 440FX PCI host bridge and memory controller", i440fx_init);
