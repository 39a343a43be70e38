/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Intel 82371SB PIIX3, function 0: the PCI-to-ISA bridge.
 *
 * 82371FB/82371SB datasheet (290550-002): 2.2 (function 0 configuration
 * registers: PIRQRC[A:D] at 60h-63h), 2.3 (ISA-compatible registers:
 * ELCR1/ELCR2 at 4D0h/4D1h, Port 92h FAST_A20/FAST_INIT).
 *
 * PIRQ levels come from the host bridge through "pci-irq-router" and
 * leave as the outputs irq0..irq15, to be wired to the PICs' inputs (ISA
 * IRQ n -> pic0.ir<n> for n < 8, pic1.ir<n-8> otherwise). The ELCR lives
 * here but acts in the PICs, through their runtime `elcr` property.
 */
#define G_LOG_DOMAIN "piix3"
#include <tessera/tessera.h>

#include <string.h>

#define PIIX3_PIRQRC   0x60
#define PIRQRC_IRQROUTEN_DISABLE 0x80
#define PIIX3_ELCR_PORT 0x4D0
#define PIIX3_PORT92    0x92

#define PORT92_FAST_INIT 0x01
#define PORT92_FAST_A20  0x02

/* IRQs a PIRQ may be steered to: 3-7, 9-12, 14, 15 (PIRQRC bits 3:0). */
#define PIRQ_VALID_IRQS 0xDEF8u
/* ELCR bits that must stay 0: IRQ0-2 in ELCR1, IRQ8 and IRQ13 in ELCR2. */
static const uint8_t elcr_mask[2] = { 0xF8, 0xDE };

typedef struct Piix3 {
    TessDevice dev;
    /* properties */
    char *bus_id;
    uint64_t devfn;
    char *pic_master, *pic_slave;
    /* lines */
    TessSignal *irq[16];
    TessSignal *a20[1];
    /* bus */
    TessDevice *bus;
    const TessPciBusOps *bus_ops;
    TessPciFunction *fn;
    uint8_t *cfg;
    /* state */
    uint8_t elcr[2];
    uint8_t port92;
    uint8_t pirq_level;                  /* bit n = PIRQ n asserted */
} Piix3;

static void piix3_route(Piix3 *s)
{
    uint16_t levels = 0;
    for (unsigned p = 0; p < 4; p++) {
        uint8_t r = s->cfg[PIIX3_PIRQRC + p];
        unsigned irq = r & 0x0F;
        if ((r & PIRQRC_IRQROUTEN_DISABLE) || !(PIRQ_VALID_IRQS & (1u << irq)))
            continue;
        if (s->pirq_level & (1u << p))
            levels |= (uint16_t)(1u << irq);
    }
    for (unsigned n = 0; n < 16; n++)
        tess_signal_set(s->irq[n], levels & (1u << n));
}

static void piix3_set_pirq(TessDevice *dev, unsigned pirq, bool level)
{
    Piix3 *s = (Piix3 *)dev;
    if (pirq > 3)
        return;
    if (level)
        s->pirq_level |= (uint8_t)(1u << pirq);
    else
        s->pirq_level &= (uint8_t)~(1u << pirq);
    piix3_route(s);
}

static void piix3_push_elcr(Piix3 *s, unsigned which)
{
    const char *id = which ? s->pic_slave : s->pic_master;
    if (!id || !*id)
        return;
    TessDevice *pic = tess_machine_device(s->dev.machine, id);
    GError *err = NULL;
    char text[8];
    g_snprintf(text, sizeof(text), "0x%02x", s->elcr[which]);
    if (!pic) {
        g_warning("%s: ELCR%u: no device '%s'", s->dev.id, which + 1, id);
        return;
    }
    if (!tess_device_set_prop(pic, "elcr", text, &err)) {
        g_warning("%s: ELCR%u: %s", s->dev.id, which + 1, err->message);
        g_error_free(err);
    }
}

/* ---- ISA-side ports ----------------------------------------------------- */

static uint64_t elcr_read(void *opaque, uint64_t off, unsigned size)
{
    Piix3 *s = opaque;
    return s->elcr[off & 1];
}

static void elcr_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    Piix3 *s = opaque;
    unsigned i = off & 1;
    uint8_t v = (uint8_t)val & elcr_mask[i];
    if ((uint8_t)val & ~elcr_mask[i])
        tess_guest_error(&s->dev, "ELCR%u=0x%02x sets level mode on a reserved IRQ", i + 1,
                         (unsigned)(uint8_t)val);
    if (v == s->elcr[i])
        return;
    s->elcr[i] = v;
    piix3_push_elcr(s, i);
}

static const TessIoOps elcr_ops = { .read = elcr_read, .write = elcr_write, .widths = TESS_W8 };

static uint64_t port92_read(void *opaque, uint64_t off, unsigned size)
{
    Piix3 *s = opaque;
    return s->port92;
}

static void port92_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    Piix3 *s = opaque;
    uint8_t old = s->port92;
    s->port92 = (uint8_t)val & (PORT92_FAST_A20 | PORT92_FAST_INIT);
    tess_signal_set(s->a20[0], s->port92 & PORT92_FAST_A20);
    /* FAST_INIT: a 0 -> 1 transition pulses INIT. */
    if (!(old & PORT92_FAST_INIT) && (s->port92 & PORT92_FAST_INIT))
        tess_machine_request_reset(s->dev.machine);
}

static const TessIoOps port92_ops = { .read = port92_read, .write = port92_write, .widths = TESS_W8 };

/* ---- configuration space ------------------------------------------------ */

static void piix3_config_write(TessDevice *dev, uint8_t reg, uint32_t val, unsigned size)
{
    Piix3 *s = (Piix3 *)dev;
    if (reg < PIIX3_PIRQRC + 4 && PIIX3_PIRQRC < reg + size) {
        for (unsigned p = 0; p < 4; p++) {
            uint8_t *r = &s->cfg[PIIX3_PIRQRC + p];
            if (PIIX3_PIRQRC + p < reg || PIIX3_PIRQRC + p >= reg + size)
                continue;
            *r &= 0x8F;                  /* bits 6:4 reserved */
            if (!(*r & PIRQRC_IRQROUTEN_DISABLE) && !(PIRQ_VALID_IRQS & (1u << (*r & 0x0F))))
                tess_guest_error(dev, "PIRQ%c routed to reserved IRQ %u", 'A' + p, *r & 0x0F);
        }
        piix3_route(s);
    }
}

/* Reset values from the datasheet's register table (2.2). */
static void piix3_reset_config(Piix3 *s)
{
    uint8_t *c = s->cfg;
    memset(c + 0x40, 0, 0xC0);
    c[0x4C] = 0x4D;                      /* IORT */
    c[0x4E] = 0x03;                      /* XBCS */
    for (unsigned p = 0; p < 4; p++)
        c[PIIX3_PIRQRC + p] = PIRQRC_IRQROUTEN_DISABLE;
    c[0x69] = 0x02;                      /* TOM */
    c[0x70] = 0x80;                      /* MBIRQ0 */
    c[0x71] = 0x80;                      /* MBIRQ1 */
    c[0x76] = 0x0C;                      /* MBDMA0 */
    c[0x77] = 0x0C;                      /* MBDMA1 */
    c[0x78] = 0x02;                      /* PCSC */
    c[0xA0] = 0x08;                      /* SMICNTL */
    c[0xA8] = 0x0F;                      /* FTMR */
}

static void piix3_reset(TessDevice *dev)
{
    Piix3 *s = (Piix3 *)dev;
    piix3_reset_config(s);
    s->port92 = 0;
    tess_signal_set(s->a20[0], false);
    for (unsigned i = 0; i < 2; i++) {
        s->elcr[i] = 0;
        piix3_push_elcr(s, i);
    }
    piix3_route(s);
}

static bool piix3_realize(TessDevice *dev, GError **err)
{
    Piix3 *s = (Piix3 *)dev;
    const char *bus_id = s->bus_id && *s->bus_id ? s->bus_id : NULL;
    TessPciFunctionInfo info = {
        .vendor_id = 0x8086, .device_id = 0x7000,
        .revision = 0x00,
        .class_code = 0x06, .subclass = 0x01, .prog_if = 0x00,  /* ISA bridge */
        .header_type = 0x80,             /* multi-function: IDE and USB follow */
        .config_write = piix3_config_write,
    };

    s->fn = tess_pci_attach(dev, bus_id, (int)s->devfn, &info, &s->bus, &s->bus_ops, err);
    if (!s->fn)
        return false;
    s->cfg = s->bus_ops->config(s->fn);
    piix3_reset_config(s);

    if (!tess_pio_map(dev, PIIX3_ELCR_PORT, 2, &elcr_ops, s, err) ||
        !tess_pio_map(dev, PIIX3_PORT92, 1, &port92_ops, s, err)) {
        s->bus_ops->detach(s->bus, s->fn);
        s->fn = NULL;
        return false;
    }
    return true;
}

static bool piix3_post_load(TessDevice *dev, uint32_t version, GError **err)
{
    Piix3 *s = (Piix3 *)dev;
    tess_signal_set(s->a20[0], s->port92 & PORT92_FAST_A20);
    piix3_push_elcr(s, 0);
    piix3_push_elcr(s, 1);
    piix3_route(s);
    return true;
}

static const TessPropSpec piix3_props[] = {
    TESS_PROP_STRING_("bus", Piix3, bus_id, NULL, "id of the pci-bus provider (default: the only one)"),
    TESS_PROP_UINT_("devfn", Piix3, devfn, "0x08", 0, 0xFF, "PCI slot << 3 | function"),
    TESS_PROP_STRING_("pic-master", Piix3, pic_master, "pic0", "device whose `elcr` ELCR1 (4D0h) sets"),
    TESS_PROP_STRING_("pic-slave", Piix3, pic_slave, "pic1", "device whose `elcr` ELCR2 (4D1h) sets"),
    TESS_PROP_END
};

static const TessLineSpec piix3_lines[] = {
    TESS_LINE_OUT_("irq", 16, Piix3, irq, "ISA IRQ n driven by the PIRQs routed to it (irq0..irq15)"),
    TESS_LINE_OUT_("a20", 1, Piix3, a20, "Port 92h FAST_A20 (high: A20 enabled); OR it with the i8042's"),
    TESS_LINE_END
};

static const TessPciIrqRouterOps piix3_router_ops = { .set_pirq = piix3_set_pirq };

static const TessIfaceSpec piix3_provides[] = {
    { .name = TESS_IFACE_PCI_IRQ_ROUTER, .ops = &piix3_router_ops },
    TESS_IFACE_END
};

static const char *const piix3_needs[] = { TESS_IFACE_PCI_BUS, NULL };

static const TessStateField piix3_state_fields[] = {
    TESS_STATE_ARRAY(TESS_STATE_T_U8, Piix3, elcr, 2),
    TESS_STATE_U8(Piix3, port92),
    TESS_STATE_U8(Piix3, pirq_level),
    TESS_STATE_PTRBUF(Piix3, cfg, 256),
    TESS_STATE_END
};

static const TessStateDesc piix3_state = {
    .version = 1,
    .fields = piix3_state_fields,
    .post_load = piix3_post_load,
};

static const TessDeviceClass piix3_class = {
    .type = "piix3",
    .kind = TESS_CLASS_DEVICE,
    .doc = "Intel 82371SB PIIX3 PCI-to-ISA bridge: PIRQ routing, ELCR, port 92h",
    .instance_size = sizeof(Piix3),
    .props = piix3_props,
    .lines = piix3_lines,
    .provides = piix3_provides,
    .needs = piix3_needs,
    .state = &piix3_state,
    .realize = piix3_realize,
    .reset = piix3_reset,
};

static bool piix3_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &piix3_class, err);
}

TESS_PLUGIN_DEFINE("piix3", "1.0", "LGPL-2.1-or-later",
                   "Intel PIIX3 PCI-to-ISA bridge", piix3_init);
