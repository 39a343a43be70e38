/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IBM PC parallel printer adapter (standard parallel port, with the PS/2
 * direction bit), and a Centronics printer on its far end.
 *
 * IBM Personal Computer Technical Reference, "Parallel Printer Adapter":
 * data (base+0), status (base+1: BUSY# 7, ACK# 6, PE 5, SLCT 4, ERROR# 3),
 * control (base+2: STROBE 0, AUTO FD 1, INIT# 2, SLCT IN 3, IRQ EN 4;
 * PS/2 adds DIR 5). The adapter interrupts when ACK# returns high at the
 * end of the printer's acknowledge pulse, if IRQ EN is set.
 *
 * The printer: with a `chardev` it is online and ready; strobing a byte
 * sends it to the chardev, then the printer is busy for 5 us and
 * acknowledges with a 5 us ACK# pulse (Centronics timing, virtual time).
 * Like Centronics printers that drop BUSY within the ACK# pulse, BUSY
 * goes low as ACK# falls, and from then on the printer takes the next
 * byte: a driver that waits for BUSY low before each STROBE never loses
 * one, and a BIOS that waits for ACK# sees the printer ready. A byte
 * strobed during the pulse makes the printer busy again while that
 * pulse runs to its end, so every byte gets its own ACK# pulse and
 * interrupt.
 * With no chardev nothing is connected and the inputs float high.
 */
#define G_LOG_DOMAIN "lpt"
#include <tessera/tessera.h>

#define ST_BUSY_N  0x80              /* 1 = not busy (the line is inverted) */
#define ST_ACK_N   0x40
#define ST_PE      0x20
#define ST_SLCT    0x10
#define ST_ERROR_N 0x08
#define ST_UNUSED  0x07              /* not driven: read as 1 */

#define CT_STROBE  0x01
#define CT_AUTOFD  0x02
#define CT_INIT_N  0x04
#define CT_SLCTIN  0x08
#define CT_IRQ_EN  0x10
#define CT_DIR     0x20

#define LPT_BUSY_NS 5000
#define LPT_ACK_NS  5000

enum { PR_IDLE, PR_BUSY, PR_ACK };

typedef struct Lpt {
    TessDevice dev;
    /* properties */
    uint64_t port;
    char *chardev_spec;
    /* lines */
    TessSignal *irq[1];
    TessChardev *chr;
    TessTimer *timer;
    /* state */
    uint8_t data, control;
    uint8_t phase;
    uint64_t deadline;              /* end of the phase */
    uint64_t ack_end;               /* PR_BUSY: the previous byte's ACK# low until then (0: none) */
} Lpt;

static uint8_t lpt_status(const Lpt *s)
{
    if (!s->chr)
        return ST_ACK_N | ST_PE | ST_SLCT | ST_ERROR_N | ST_UNUSED;   /* BUSY floats high */
    uint8_t st = ST_SLCT | ST_ERROR_N | ST_UNUSED;
    if (s->phase != PR_BUSY)
        st |= ST_BUSY_N;
    if (s->phase != PR_ACK && !s->ack_end)
        st |= ST_ACK_N;
    return st;
}

static void lpt_arm(Lpt *s)
{
    uint64_t next = s->phase != PR_IDLE ? s->deadline : 0;
    if (s->ack_end && (!next || s->ack_end < next))
        next = s->ack_end;
    if (next)
        tess_timer_arm(s->timer, next);
    else
        tess_timer_cancel(s->timer);
}

/* ACK# low -> high: the adapter's interrupt edge. */
static void lpt_ack_done(Lpt *s)
{
    if (s->control & CT_IRQ_EN)
        tess_signal_pulse(s->irq[0]);
}

static void lpt_timer_fire(void *opaque)
{
    Lpt *s = opaque;
    uint64_t now = tess_clock_ns(s->dev.machine);
    /* The earlier byte's pulse ends first: it began before this busy
     * period, and a busy period is no shorter than a pulse. */
    if (s->ack_end && s->ack_end <= now) {
        s->ack_end = 0;
        lpt_ack_done(s);
    }
    if (s->phase != PR_IDLE && s->deadline <= now) {
        if (s->phase == PR_BUSY) {
            s->phase = PR_ACK;
            s->deadline = now + LPT_ACK_NS;
        } else {
            s->phase = PR_IDLE;
            s->deadline = 0;
            lpt_ack_done(s);
        }
    }
    lpt_arm(s);
}

static void lpt_strobe(Lpt *s)
{
    if (!s->chr)
        return;
    if (s->phase == PR_BUSY) {
        tess_guest_error(&s->dev, "byte 0x%02x strobed while the printer is busy", s->data);
        return;
    }
    tess_chardev_write(s->chr, &s->data, 1);
    if (s->phase == PR_ACK)
        s->ack_end = s->deadline;
    s->phase = PR_BUSY;
    s->deadline = tess_clock_ns(s->dev.machine) + LPT_BUSY_NS;
    lpt_arm(s);
}

static uint64_t lpt_read(void *opaque, uint64_t off, unsigned size)
{
    Lpt *s = opaque;
    switch (off) {
    case 0:
        /* In input mode nobody drives the data lines: pulled up. */
        return (s->control & CT_DIR) ? 0xFF : s->data;
    case 1:
        return lpt_status(s);
    default:
        return s->control | 0xC0;
    }
}

static void lpt_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    Lpt *s = opaque;
    uint8_t v = (uint8_t)val;
    switch (off) {
    case 0:
        s->data = v;
        break;
    case 1:
        break;                        /* status is read-only */
    default: {
        uint8_t old = s->control;
        s->control = v & 0x3F;
        /* The printer latches data as STROBE# goes active. */
        if (!(old & CT_STROBE) && (s->control & CT_STROBE))
            lpt_strobe(s);
        /* INIT# low resets the printer; it comes back idle. */
        if (!(s->control & CT_INIT_N) && (s->phase != PR_IDLE || s->ack_end)) {
            tess_timer_cancel(s->timer);
            s->phase = PR_IDLE;
            s->deadline = 0;
            s->ack_end = 0;
        }
        break;
    }
    }
}

static const TessIoOps lpt_ops = { .read = lpt_read, .write = lpt_write, .widths = TESS_W8 };

static void lpt_reset(TessDevice *dev)
{
    Lpt *s = (Lpt *)dev;
    s->data = 0;
    s->control = 0;
    s->phase = PR_IDLE;
    s->deadline = 0;
    s->ack_end = 0;
    tess_timer_cancel(s->timer);
    tess_signal_lower(s->irq[0]);
}

static bool lpt_realize(TessDevice *dev, GError **err)
{
    Lpt *s = (Lpt *)dev;
    if (!tess_pio_map(dev, (uint32_t)s->port, 3, &lpt_ops, s, err))
        return false;
    s->timer = tess_timer_new(dev, lpt_timer_fire, s);
    if (s->chardev_spec && *s->chardev_spec) {
        s->chr = tess_chardev_open(dev, s->chardev_spec, err);
        if (!s->chr)
            return false;
    }
    return true;
}

static bool lpt_post_load(TessDevice *dev, uint32_t version, GError **err)
{
    Lpt *s = (Lpt *)dev;
    if (s->phase > PR_ACK)
        s->phase = PR_IDLE;
    if (s->phase != PR_BUSY)
        s->ack_end = 0;
    lpt_arm(s);
    return true;
}

static const TessPropSpec lpt_props[] = {
    TESS_PROP_UINT_("port", Lpt, port, "0x378", 0, 0xFFFC, "I/O base (data, status, control)"),
    TESS_PROP_STRING_("chardev", Lpt, chardev_spec, NULL,
                      "printer output (file:PATH, stdio, ...); empty: no printer attached"),
    TESS_PROP_END
};

static const TessLineSpec lpt_lines[] = {
    TESS_LINE_OUT_("irq", 1, Lpt, irq, "pulses at the end of ACK# when IRQ EN is set (LPT1: IRQ 7)"),
    TESS_LINE_END
};

static const TessStateField lpt_state_fields[] = {
    TESS_STATE_U8(Lpt, data), TESS_STATE_U8(Lpt, control), TESS_STATE_U8(Lpt, phase),
    TESS_STATE_U64(Lpt, deadline),
    { .name = "ack_end", .type = TESS_STATE_T_U64, .offset = offsetof(Lpt, ack_end), .size = 1,
      .since = 2 },
    TESS_STATE_END
};

static const TessStateDesc lpt_state = {
    .version = 2, .fields = lpt_state_fields, .post_load = lpt_post_load,
};

static const TessDeviceClass lpt_class = {
    .type = "lpt",
    .kind = TESS_CLASS_DEVICE,
    .doc = "PC parallel printer port with a Centronics printer behind it",
    .instance_size = sizeof(Lpt),
    .props = lpt_props,
    .lines = lpt_lines,
    .state = &lpt_state,
    .realize = lpt_realize,
    .reset = lpt_reset,
};

static bool lpt_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &lpt_class, err);
}

TESS_PLUGIN_DEFINE("lpt", "1.0", "LGPL-2.1-or-later", "PC parallel printer port", lpt_init);
