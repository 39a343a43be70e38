/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Intel 8259A programmable interrupt controller.
 *
 * Written from the Intel 8259A datasheet (231468): "Programming the 8259A"
 * (ICW1-ICW4, OCW1-OCW3), "Operation Command Words" (EOI, rotation,
 * special mask, poll), "Edge and Level Triggered Modes" with the priority
 * cell of figure 9, and "Cascading".
 *
 * One instance is one chip. A PC has a master at 0x20 and a slave at 0xA0
 * whose INT drives the master's IR2. During INTA the master puts the
 * cascade address (the IR number) on CAS0-2 and the slave whose ICW3 ID
 * matches supplies the vector; here the master calls the slaves named by
 * its `slave` property through the private "pic-cascade" interface.
 *
 * Edge mode: a rising IR edge sets the edge sense latch, which is the
 * request until the INTA that serves it (or ICW1) clears it; a new
 * request needs a new rising edge. The datasheet also wants IR held high
 * until the first INTA; models here signal edges as instant pulses
 * (lpt's ACK#, tess_signal_pulse), which a real CPU would have caught
 * within the pulse, so the latch keeps the request after IR falls.
 * Level mode (LTIM, or the PIIX ELCR bit given in the `elcr` property)
 * takes the IR level as the request, and a level that falls withdraws it.
 * An INTA that finds no request (a level request withdrawn, a request
 * masked after INT went out, a slave with nothing for its cascade
 * address) gets IR7's vector and sets no ISR bit: the spurious IRQ7
 * (IRQ15 on the slave), as the datasheet describes.
 */
#define G_LOG_DOMAIN "pic"

#include <tessera/tessera.h>

#include <string.h>

#define PIC_IFACE_CASCADE "pic-cascade"

/* ICW1 */
#define ICW1_IC4  0x01
#define ICW1_SNGL 0x02
#define ICW1_ADI  0x04
#define ICW1_LTIM 0x08
#define ICW1_SEL  0x10      /* D4 = 1 selects ICW1 at A0 = 0 */
/* ICW4 */
#define ICW4_UPM  0x01      /* 8086/8088 mode */
#define ICW4_AEOI 0x02
#define ICW4_MS   0x04
#define ICW4_BUF  0x08
#define ICW4_SFNM 0x10
/* OCW3 */
#define OCW3_RIS  0x01
#define OCW3_RR   0x02
#define OCW3_P    0x04
#define OCW3_SEL  0x08      /* D4 D3 = 0 1 selects OCW3 */
#define OCW3_SMM  0x20
#define OCW3_ESMM 0x40

enum { PIC_ROLE_MASTER, PIC_ROLE_SLAVE };
static const char *const pic_roles[] = { "master", "slave", NULL };

enum { PIC_READY = 0, PIC_WANT_ICW2 = 2, PIC_WANT_ICW3 = 3, PIC_WANT_ICW4 = 4 };

typedef struct Pic {
    TessDevice dev;
    /* properties */
    uint64_t port;
    int role;
    char *slave_ids;
    uint64_t elcr;              /* runtime: PIIX ELCR, bit n = IRn level-triggered */
    TessSignal *int_out[1];

    /* state (datasheet names) */
    uint8_t irq_level;          /* IR0-7 input levels */
    uint8_t edge;               /* edge sense latches: the edge-mode requests */
    uint8_t isr;
    uint8_t imr;
    uint8_t icw1, icw2, icw3, icw4;
    uint8_t init_step;
    uint8_t lowest;             /* IR currently holding the lowest priority */
    uint8_t rotate_aeoi;        /* OCW2 "rotate in automatic EOI mode" */
    uint8_t read_isr;           /* OCW3 RIS latched by RR */
    uint8_t poll;               /* OCW3 P: next read is the poll word */
    uint8_t smm;                /* special mask mode */
    uint8_t upm_warned;

    /* wiring, resolved at realize */
    TessDevice *slaves[8];
    unsigned nslaves;
} Pic;

typedef struct PicCascadeOps {
    /* INTA reached this chip as a slave with cascade address `cas`;
     * returns false if its ICW3 ID does not match (it stays off the bus). */
    bool (*ack)(TessDevice *slave, unsigned cas, uint8_t *vector);
} PicCascadeOps;

/* --debug pic: set at realize (TESS_TRACE_INIT). */
static bool pic_trace;

static uint8_t pic_level_mask(Pic *p)
{
    return (p->icw1 & ICW1_LTIM) ? 0xFF : (uint8_t)p->elcr;
}

static uint8_t pic_irr(Pic *p)
{
    uint8_t lm = pic_level_mask(p);
    return (p->irq_level & lm) | (p->edge & ~lm);
}

static bool pic_is_master(Pic *p)
{
    if (p->icw4 & ICW4_BUF)
        return p->icw4 & ICW4_MS;
    return p->role == PIC_ROLE_MASTER;
}

/* IR inputs of a master that carry a slave (ICW3 S7-S0). */
static uint8_t pic_cascade_mask(Pic *p)
{
    if ((p->icw1 & ICW1_SNGL) || !pic_is_master(p))
        return 0;
    return p->icw3;
}

/* The priority resolver: the IR the next INTA would serve, or -1. */
static int pic_resolve(Pic *p)
{
    uint8_t req = pic_irr(p) & ~p->imr;
    if (!req)
        return -1;
    uint8_t in = p->isr;
    if (p->smm)
        in &= ~p->imr;
    bool sfnm = (p->icw4 & ICW4_SFNM) && pic_is_master(p);
    for (unsigned k = 0; k < 8; k++) {
        unsigned ir = (p->lowest + 1 + k) & 7;
        uint8_t bit = 1u << ir;
        if (in & bit) {
            /* Special fully nested mode: a slave in service does not
             * block further requests from that same slave. */
            if (sfnm && (pic_cascade_mask(p) & bit) && (req & bit))
                return ir;
            return -1;
        }
        if (req & bit)
            return ir;
    }
    return -1;
}

static void pic_update(Pic *p)
{
    tess_signal_set(p->int_out[0], pic_resolve(p) >= 0);
}

/* The INTA sequence's effect on the registers for request `ir`. */
static void pic_service(Pic *p, unsigned ir)
{
    uint8_t bit = 1u << ir;
    if (!(pic_level_mask(p) & bit))
        p->edge &= ~bit;
    if (p->icw4 & ICW4_AEOI) {
        if (p->rotate_aeoi)
            p->lowest = ir;
    } else {
        p->isr |= bit;
    }
}

static uint8_t pic_vector(Pic *p, unsigned ir)
{
    if (p->icw4 & ICW4_UPM)
        return (p->icw2 & 0xF8) | ir;
    /* MCS-80/85 mode: an x86 CPU's second INTA cycle reads the low byte
     * of the CALL address the chip puts out. */
    if (!p->upm_warned) {
        p->upm_warned = 1;
        tess_guest_error(&p->dev, "INTA in MCS-80/85 mode (ICW4 uPM=0)");
    }
    if (p->icw1 & ICW1_ADI)
        return (p->icw1 & 0xE0) | (ir << 2);
    return (p->icw1 & 0xC0) | (ir << 3);
}

static uint8_t pic_cascade_vector(Pic *p, unsigned ir)
{
    for (unsigned i = 0; i < p->nslaves; i++) {
        const PicCascadeOps *ops = tess_device_interface(p->slaves[i], PIC_IFACE_CASCADE);
        uint8_t v;
        if (ops && ops->ack(p->slaves[i], ir, &v))
            return v;
    }
    /* No slave answered the cascade address: the data bus floats. */
    tess_guest_error(&p->dev, "INTA for cascade IR%u but no slave has that ID", ir);
    return 0xFF;
}

static uint8_t pic_inta(Pic *p)
{
    int ir = pic_resolve(p);
    uint8_t v;
    if (ir < 0) {
        /* The request went away before INTA: default IR7, no ISR bit. */
        v = pic_vector(p, 7);
    } else {
        pic_service(p, ir);
        if (pic_cascade_mask(p) & (1u << ir))
            v = pic_cascade_vector(p, ir);
        else
            v = pic_vector(p, ir);
    }
    TESS_TRACE(pic_trace, "%s: INTA IR%d -> vector 0x%02x (ISR 0x%02x)", p->dev.id,
               ir < 0 ? 7 : ir, v, p->isr);
    pic_update(p);
    return v;
}

static uint8_t pic_intc_ack(TessDevice *dev)
{
    return pic_inta((Pic *)dev);
}

static bool pic_cascade_ack(TessDevice *dev, unsigned cas, uint8_t *vector)
{
    Pic *p = (Pic *)dev;
    if (pic_is_master(p) || (p->icw3 & 7) != cas)
        return false;
    *vector = pic_inta(p);
    return true;
}

/* Highest-priority ISR bit a non-specific EOI clears; in special mask
 * mode an ISR bit masked by IMR is left alone. */
static int pic_highest_isr(Pic *p)
{
    uint8_t in = p->isr;
    if (p->smm)
        in &= ~p->imr;
    for (unsigned k = 0; k < 8; k++) {
        unsigned ir = (p->lowest + 1 + k) & 7;
        if (in & (1u << ir))
            return ir;
    }
    return -1;
}

static void pic_ocw2(Pic *p, uint8_t v)
{
    unsigned l = v & 7;
    int ir;
    switch (v >> 5) {
    case 1:                         /* non-specific EOI */
    case 5:                         /* rotate on non-specific EOI */
        ir = pic_highest_isr(p);
        if (ir >= 0) {
            p->isr &= ~(1u << ir);
            if ((v >> 5) == 5)
                p->lowest = ir;
        }
        break;
    case 3:                         /* specific EOI */
        p->isr &= ~(1u << l);
        break;
    case 7:                         /* rotate on specific EOI */
        p->isr &= ~(1u << l);
        p->lowest = l;
        break;
    case 6:                         /* set priority */
        p->lowest = l;
        break;
    case 4:                         /* rotate in automatic EOI mode (set) */
        p->rotate_aeoi = 1;
        break;
    case 0:                         /* rotate in automatic EOI mode (clear) */
        p->rotate_aeoi = 0;
        break;
    default:                        /* 2: no operation */
        break;
    }
}

static void pic_ocw3(Pic *p, uint8_t v)
{
    if (v & 0x80)
        tess_guest_error(&p->dev, "OCW3 with D7 set (0x%02x)", v);
    if (v & OCW3_ESMM)
        p->smm = !!(v & OCW3_SMM);
    if (v & OCW3_RR)
        p->read_isr = v & OCW3_RIS;
    p->poll = !!(v & OCW3_P);
}

static void pic_icw1(Pic *p, uint8_t v)
{
    p->icw1 = v;
    /* Datasheet "Initialization Command Words": edge sense reset, IMR
     * cleared, IR7 lowest priority, slave address 7, special mask mode
     * off, status read set to IRR, ICW4 functions zero without IC4.
     * ISR is cleared too, so a re-initialised chip starts clean. */
    p->edge = 0;
    p->imr = 0;
    p->isr = 0;
    p->lowest = 7;
    p->icw3 = 7;
    p->smm = 0;
    p->read_isr = 0;
    p->poll = 0;
    p->rotate_aeoi = 0;
    if (!(v & ICW1_IC4))
        p->icw4 = 0;
    p->init_step = PIC_WANT_ICW2;
}

static void pic_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    Pic *p = opaque;
    uint8_t v = val;
    TESS_TRACE(pic_trace, "%s: %s <- 0x%02x", p->dev.id,
               off == 0 ? (v & ICW1_SEL ? "ICW1" : v & OCW3_SEL ? "OCW3" : "OCW2")
               : p->init_step == PIC_WANT_ICW2 ? "ICW2" : p->init_step == PIC_WANT_ICW3 ? "ICW3"
               : p->init_step == PIC_WANT_ICW4 ? "ICW4" : "OCW1 (IMR)", v);
    if (off == 0) {
        if (v & ICW1_SEL)
            pic_icw1(p, v);
        else if (v & OCW3_SEL)
            pic_ocw3(p, v);
        else
            pic_ocw2(p, v);
    } else {
        switch (p->init_step) {
        case PIC_WANT_ICW2:
            p->icw2 = v;
            if (!(p->icw1 & ICW1_SNGL))
                p->init_step = PIC_WANT_ICW3;
            else if (p->icw1 & ICW1_IC4)
                p->init_step = PIC_WANT_ICW4;
            else
                p->init_step = PIC_READY;
            break;
        case PIC_WANT_ICW3:
            p->icw3 = v;
            p->init_step = (p->icw1 & ICW1_IC4) ? PIC_WANT_ICW4 : PIC_READY;
            break;
        case PIC_WANT_ICW4:
            p->icw4 = v & 0x1F;
            if (v & 0xE0)
                tess_guest_error(&p->dev, "ICW4 with D7-D5 set (0x%02x)", v);
            p->init_step = PIC_READY;
            break;
        default:
            p->imr = v;             /* OCW1 */
            break;
        }
    }
    pic_update(p);
}

static uint64_t pic_read(void *opaque, uint64_t off, unsigned size)
{
    Pic *p = opaque;
    if (p->poll) {
        /* Poll command: this read is the interrupt acknowledge. */
        p->poll = 0;
        int ir = pic_resolve(p);
        if (ir < 0)
            return 0;
        pic_service(p, ir);
        pic_update(p);
        return 0x80 | ir;
    }
    if (off == 0)
        return p->read_isr ? p->isr : pic_irr(p);
    return p->imr;
}

static const TessIoOps pic_io = {
    .read = pic_read,
    .write = pic_write,
    .widths = TESS_W8,
};

static void pic_set_ir(TessDevice *dev, unsigned n, bool level)
{
    Pic *p = (Pic *)dev;
    uint8_t bit = 1u << (n & 7);
    if (!!(p->irq_level & bit) != level)
        TESS_TRACE(pic_trace, "%s: IR%u %s", p->dev.id, n & 7, level ? "raised" : "lowered");
    if (level) {
        if (!(p->irq_level & bit))
            p->edge |= bit;
        p->irq_level |= bit;
    } else {
        p->irq_level &= ~bit;
    }
    pic_update(p);
}

static bool pic_realize(TessDevice *dev, GError **err)
{
    Pic *p = (Pic *)dev;
    TESS_TRACE_INIT(pic_trace);
    p->nslaves = 0;
    if (p->slave_ids && *p->slave_ids) {
        g_auto(GStrv) ids = g_strsplit(p->slave_ids, ",", -1);
        for (char **id = ids; *id; id++) {
            g_strstrip(*id);
            if (!**id)
                continue;
            if (p->nslaves == G_N_ELEMENTS(p->slaves)) {
                g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                            "%s: more than 8 slaves", dev->id);
                return false;
            }
            TessDevice *s = tess_device_find_provider(dev, PIC_IFACE_CASCADE, *id, err);
            if (!s)
                return false;
            if (s == dev) {
                g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                            "%s: a PIC cannot be its own slave", dev->id);
                return false;
            }
            p->slaves[p->nslaves++] = s;
        }
    }
    return tess_pio_map(dev, (uint32_t)p->port, 2, &pic_io, p, err);
}

static void pic_reset(TessDevice *dev)
{
    Pic *p = (Pic *)dev;
    /* The 8259A has no reset pin; a PC reset leaves it as after an ICW1
     * with no ICW4, in 8086 mode so a stray INTA still gets a vector. */
    p->edge = 0;
    p->isr = 0;
    p->imr = 0;
    p->icw1 = 0;
    p->icw2 = 0;
    p->icw3 = 0;
    p->icw4 = ICW4_UPM;
    p->init_step = PIC_READY;
    p->lowest = 7;
    p->rotate_aeoi = 0;
    p->read_isr = 0;
    p->poll = 0;
    p->smm = 0;
    pic_update(p);
}

static void pic_prop_changed(TessDevice *dev, const TessPropSpec *prop)
{
    pic_update((Pic *)dev);
}

static bool pic_post_load(TessDevice *dev, uint32_t version, GError **err)
{
    pic_update((Pic *)dev);
    return true;
}

static const TessPropSpec pic_props[] = {
    TESS_PROP_UINT_("port", Pic, port, "0x20", 0, 0xFFFE,
                    "I/O base (two ports): 0x20 master, 0xA0 slave"),
    TESS_PROP_ENUM_("role", Pic, role, "master", pic_roles,
                    "SP/EN pin: master or slave (ICW4 M/S decides in buffered mode)"),
    TESS_PROP_STRING_("slave", Pic, slave_ids, NULL,
                      "master only: comma-separated ids of the slave PICs on CAS0-2"),
    { .name = "elcr", .type = TESS_PROP_UINT, .offset = offsetof(Pic, elcr),
      .def = "0", .umin = 0, .umax = 0xFF, .flags = TESS_PROP_F_RUNTIME,
      .doc = "edge/level control (PIIX ELCR): bit n set = IRn level-triggered" },
    TESS_PROP_END,
};

static const TessLineSpec pic_lines[] = {
    TESS_LINE_IN_("ir", 8, pic_set_ir, "interrupt request inputs IR0-IR7"),
    TESS_LINE_OUT_("int", 1, Pic, int_out, "INT: to the CPU's intr, or a master's IR"),
    TESS_LINE_END,
};

static const TessIntcOps pic_intc_ops = { .ack = pic_intc_ack };
static const PicCascadeOps pic_cascade_ops = { .ack = pic_cascade_ack };

static const TessIfaceSpec pic_ifaces[] = {
    { TESS_IFACE_INTC, &pic_intc_ops },
    { PIC_IFACE_CASCADE, &pic_cascade_ops },
    TESS_IFACE_END,
};

static const TessStateField pic_state_fields[] = {
    TESS_STATE_U8(Pic, irq_level),
    TESS_STATE_U8(Pic, edge),
    TESS_STATE_U8(Pic, isr),
    TESS_STATE_U8(Pic, imr),
    TESS_STATE_U8(Pic, icw1),
    TESS_STATE_U8(Pic, icw2),
    TESS_STATE_U8(Pic, icw3),
    TESS_STATE_U8(Pic, icw4),
    TESS_STATE_U8(Pic, init_step),
    TESS_STATE_U8(Pic, lowest),
    TESS_STATE_U8(Pic, rotate_aeoi),
    TESS_STATE_U8(Pic, read_isr),
    TESS_STATE_U8(Pic, poll),
    TESS_STATE_U8(Pic, smm),
    TESS_STATE_U64(Pic, elcr),
    TESS_STATE_END,
};

static const TessStateDesc pic_state = {
    .version = 1,
    .fields = pic_state_fields,
    .post_load = pic_post_load,
};

static const char *const pic_needs[] = { PIC_IFACE_CASCADE, NULL };

static const TessDeviceClass pic_class = {
    .type = "pic8259",
    .kind = TESS_CLASS_DEVICE,
    .doc = "Intel 8259A programmable interrupt controller",
    .instance_size = sizeof(Pic),
    .props = pic_props,
    .lines = pic_lines,
    .provides = pic_ifaces,
    .needs = pic_needs,
    .state = &pic_state,
    .realize = pic_realize,
    .reset = pic_reset,
    .prop_changed = pic_prop_changed,
};

static bool pic_plugin_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &pic_class, err);
}

TESS_PLUGIN_DEFINE("pic8259", "0.1.0", "LGPL-2.1-or-later",
                   "Intel 8259A interrupt controller", pic_plugin_init);
