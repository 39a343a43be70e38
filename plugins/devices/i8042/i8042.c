/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Intel 8042 keyboard controller as programmed on the PC/AT and PS/2,
 * with its PS/2 keyboard and mouse.
 *
 * From the IBM PC/AT and PS/2 technical references, "Keyboard/Auxiliary
 * Device Controller": status register (OBF, IBF, SYS, A2, INH, AUX_OBF,
 * TO, PE), the controller command byte (INT, INT2, SYS, EN = keyboard
 * disable, EN2 = auxiliary disable, XLAT), the commands 20-3F/60-7F
 * (read/write internal RAM, byte 0 = command byte), A4-A9 (password,
 * auxiliary disable/enable/test), AA self-test (55), AB keyboard
 * interface test (00), AD/AE keyboard disable/enable, C0 read input
 * port, D0/D1 read/write output port (bit 0 system reset, active low;
 * bit 1 gate A20; bits 4/5 output buffer full for IRQ1/IRQ12), D2/D3
 * write keyboard/auxiliary output buffer, D4 write to the auxiliary
 * device, E0 read test inputs and F0-FF pulse output port.
 *
 * The status register's bit 2, the system flag (SYS), is a latch of its
 * own (PC/AT Technical Reference, keyboard controller status register):
 * 0 at power-on, set by a successful self-test (AA), and loaded from bit
 * 2 of each command byte written with 60h.
 *
 * Keyboard bytes pass the translation table when XLAT is set (set 2 ->
 * set 1; an F0 prefix is absorbed and sets bit 7 of the next code).
 * The controller's own replies come first, then keyboard bytes, then
 * mouse bytes; an interface disabled in the command byte holds its
 * device's bytes back. IRQ1 and IRQ12 are levels: high while the output
 * buffer holds a byte from that side and INT/INT2 enables it.
 */
#define G_LOG_DOMAIN "i8042"

#include <tessera/tessera.h>
#include <tessera/input.h>

#include "ps2.h"

#include <string.h>

/* Status register */
#define ST_OBF      0x01
#define ST_SYS      0x04
#define ST_A2       0x08
#define ST_INH      0x10            /* 1: keyboard not inhibited */
#define ST_AUX_OBF  0x20
/* Command byte */
#define CB_INT      0x01
#define CB_INT2     0x02
#define CB_SYS      0x04
#define CB_EN       0x10            /* 1 disables the keyboard interface */
#define CB_EN2      0x20            /* 1 disables the auxiliary interface */
#define CB_XLAT     0x40
/* Output port */
#define OP_RESET    0x01            /* 0 resets the system */
#define OP_A20      0x02
#define OP_OBF_KBD  0x10
#define OP_OBF_AUX  0x20

#define KBC_INPUT_PORT 0xB0         /* keyboard not inhibited, no jumper, 512K */
#define KBC_CQ 8
#define KBC_AUX 0x100

typedef struct Kbc {
    TessDevice dev;
    TessSignal *irq1[1];
    TessSignal *irq12[1];
    TessSignal *a20[1];

    uint8_t ram[32];                /* ram[0] = command byte */
    uint8_t outport;
    uint8_t obuf;
    uint8_t obuf_full;
    uint8_t obuf_aux;
    uint8_t a2;
    uint8_t sys;                    /* status register system flag */
    uint8_t pending;                /* command waiting for a data byte */
    uint8_t xlat_f0;
    uint16_t cq[KBC_CQ];            /* controller output: byte | KBC_AUX */
    uint8_t cq_head, cq_count;
    Ps2Kbd kbd;
    Ps2Mouse mouse;

    TessTimer *repeat_timer;
    uint16_t timer_key;             /* key the repeat timer runs for */
} Kbc;

static void kbc_cq_push(Kbc *s, uint16_t v)
{
    if (s->cq_count >= KBC_CQ)
        return;
    s->cq[(s->cq_head + s->cq_count) % KBC_CQ] = v;
    s->cq_count++;
}

static void kbc_update_irq(Kbc *s)
{
    uint8_t cb = s->ram[0];
    tess_signal_set(s->irq1[0], s->obuf_full && !s->obuf_aux && (cb & CB_INT));
    tess_signal_set(s->irq12[0], s->obuf_full && s->obuf_aux && (cb & CB_INT2));
}

/* Fill an empty output buffer from the controller, keyboard or mouse. */
static void kbc_refill(Kbc *s)
{
    while (!s->obuf_full) {
        uint8_t b;
        if (s->cq_count) {
            uint16_t v = s->cq[s->cq_head];
            s->cq_head = (s->cq_head + 1) % KBC_CQ;
            s->cq_count--;
            s->obuf = v & 0xFF;
            s->obuf_aux = !!(v & KBC_AUX);
            s->obuf_full = 1;
        } else if (!(s->ram[0] & CB_EN) && ps2_kbd_pop(&s->kbd, &b)) {
            if (s->ram[0] & CB_XLAT) {
                if (b == 0xF0) {
                    s->xlat_f0 = 1;
                    continue;
                }
                b = ps2_xlat_table[b] | (s->xlat_f0 ? 0x80 : 0);
                s->xlat_f0 = 0;
            }
            s->obuf = b;
            s->obuf_aux = 0;
            s->obuf_full = 1;
        } else if (!(s->ram[0] & CB_EN2) && ps2_mouse_pop(&s->mouse, &b)) {
            s->obuf = b;
            s->obuf_aux = 1;
            s->obuf_full = 1;
        } else {
            break;
        }
    }
    kbc_update_irq(s);
}

/* Start, keep or stop the typematic timer after a keyboard change. */
static void kbc_repeat_sync(Kbc *s)
{
    uint16_t key = s->kbd.scanning ? s->kbd.repeat_key : 0;
    if (key == s->timer_key)
        return;
    s->timer_key = key;
    if (key)
        tess_timer_arm_in(s->repeat_timer, ps2_kbd_delay_ns(&s->kbd));
    else
        tess_timer_cancel(s->repeat_timer);
}

static void kbc_repeat_cb(void *opaque)
{
    Kbc *s = opaque;
    if (!s->timer_key || s->kbd.repeat_key != s->timer_key || !s->kbd.scanning) {
        s->timer_key = 0;
        kbc_repeat_sync(s);
        return;
    }
    ps2_kbd_repeat(&s->kbd);
    tess_timer_arm_in(s->repeat_timer, ps2_kbd_period_ns(&s->kbd));
    kbc_refill(s);
}

static uint8_t kbc_outport(Kbc *s)
{
    uint8_t v = s->outport & ~(OP_OBF_KBD | OP_OBF_AUX);
    if (s->obuf_full)
        v |= s->obuf_aux ? OP_OBF_AUX : OP_OBF_KBD;
    return v;
}

static void kbc_write_outport(Kbc *s, uint8_t v)
{
    s->outport = v;
    tess_signal_set(s->a20[0], v & OP_A20);
    if (!(v & OP_RESET))
        tess_machine_request_reset(s->dev.machine);
}

/* --debug i8042: set at realize (TESS_TRACE_INIT). */
static bool kbc_trace;

static void kbc_command(Kbc *s, uint8_t c)
{
    TESS_TRACE(kbc_trace, "%s: command 0x%02x", s->dev.id, c);
    s->pending = 0;
    if (c >= 0x20 && c <= 0x3F) {
        kbc_cq_push(s, s->ram[c & 0x1F]);
        return;
    }
    if (c >= 0x60 && c <= 0x7F) {
        s->pending = c;
        return;
    }
    if (c >= 0xF0) {
        /* Pulse output port bits 3-0 whose command bit is 0; bit 0 is
         * the system reset. */
        if (!(c & OP_RESET))
            tess_machine_request_reset(s->dev.machine);
        return;
    }
    switch (c) {
    case 0xA4:                      /* test password installed */
        kbc_cq_push(s, 0xF1);
        break;
    case 0xA5:                      /* load password: bytes up to 00 */
        s->pending = c;
        break;
    case 0xA6:                      /* enable security: no password */
        break;
    case 0xA7:
        s->ram[0] |= CB_EN2;
        break;
    case 0xA8:
        s->ram[0] &= ~CB_EN2;
        break;
    case 0xA9:                      /* auxiliary interface test */
        kbc_cq_push(s, 0x00);
        break;
    case 0xAA:                      /* self-test */
        kbc_cq_push(s, 0x55);
        s->sys = 1;
        break;
    case 0xAB:                      /* keyboard interface test */
        kbc_cq_push(s, 0x00);
        break;
    case 0xAD:
        s->ram[0] |= CB_EN;
        break;
    case 0xAE:
        s->ram[0] &= ~CB_EN;
        break;
    case 0xC0:
        kbc_cq_push(s, KBC_INPUT_PORT);
        break;
    case 0xC1:
    case 0xC2:                      /* poll input port into status: not wired */
        break;
    case 0xD0:
        kbc_cq_push(s, kbc_outport(s));
        break;
    case 0xD1:
    case 0xD2:
    case 0xD3:
    case 0xD4:
        s->pending = c;
        break;
    case 0xDD:                      /* A20 off (HP Vectra extension) */
        kbc_write_outport(s, s->outport & ~OP_A20);
        break;
    case 0xDF:                      /* A20 on */
        kbc_write_outport(s, s->outport | OP_A20);
        break;
    case 0xE0:                      /* read test inputs T0/T1 */
        kbc_cq_push(s, 0x00);
        break;
    default:
        tess_guest_error(&s->dev, "unknown controller command 0x%02x", c);
        break;
    }
}

static void kbc_data(Kbc *s, uint8_t v)
{
    uint8_t c = s->pending;
    TESS_TRACE(kbc_trace, "%s: data 0x%02x -> %s", s->dev.id, v,
               c >= 0x60 && c <= 0x7F ? "controller RAM" : c == 0xD1 ? "output port"
               : c == 0xD4 ? "mouse" : c == 0xD2 || c == 0xD3 ? "output buffer"
               : c == 0xA5 ? "password" : "keyboard");
    s->pending = 0;
    if (c >= 0x60 && c <= 0x7F) {
        s->ram[c & 0x1F] = v;
        if (c == 0x60)
            s->sys = !!(v & CB_SYS);
        return;
    }
    switch (c) {
    case 0xA5:
        if (v)
            s->pending = c;
        break;
    case 0xD1:
        kbc_write_outport(s, v);
        break;
    case 0xD2:
        kbc_cq_push(s, v);
        break;
    case 0xD3:
        kbc_cq_push(s, v | KBC_AUX);
        break;
    case 0xD4:
        ps2_mouse_write(&s->mouse, v);
        break;
    default:
        ps2_kbd_write(&s->kbd, v);
        kbc_repeat_sync(s);
        break;
    }
}

static uint64_t kbc_data_read(void *opaque, uint64_t off, unsigned size)
{
    Kbc *s = opaque;
    uint8_t v = s->obuf;
    TESS_TRACE(kbc_trace, "%s: read data 0x%02x%s", s->dev.id, v,
               s->obuf_full ? "" : " (output buffer empty)");
    s->obuf_full = 0;
    /* OBF going low drops IRQ1/IRQ12. The next byte of a sequence (E0 50
     * for Down) arrives from the keyboard only after this read, so the
     * line rises again: a new edge the 8259 latches while the handler for
     * this byte is still in service. Refilling without the drop would
     * keep the line high and the guest would never hear of the byte. */
    kbc_update_irq(s);
    kbc_refill(s);
    return v;
}

static uint64_t kbc_status_read(void *opaque, uint64_t off, unsigned size)
{
    Kbc *s = opaque;
    return (s->obuf_full ? ST_OBF : 0) | (s->sys ? ST_SYS : 0) |
           (s->a2 ? ST_A2 : 0) | ST_INH |
           (s->obuf_full && s->obuf_aux ? ST_AUX_OBF : 0);
}

static void kbc_data_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    Kbc *s = opaque;
    s->a2 = 0;
    kbc_data(s, val);
    kbc_refill(s);
}

static void kbc_command_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    Kbc *s = opaque;
    s->a2 = 1;
    kbc_command(s, val);
    kbc_refill(s);
}

static const TessIoOps kbc_data_io = {
    .read = kbc_data_read,
    .write = kbc_data_write,
    .widths = TESS_W8,
};

static const TessIoOps kbc_cmd_io = {
    .read = kbc_status_read,
    .write = kbc_command_write,
    .widths = TESS_W8,
};

/* ---- host input ------------------------------------------------------------ */

static void kbc_key_event(TessDevice *dev, unsigned code, bool down)
{
    Kbc *s = (Kbc *)dev;
    ps2_kbd_key(&s->kbd, code, down);
    kbc_repeat_sync(s);
    kbc_refill(s);
}

static void kbc_mouse_event(TessDevice *dev, int dx, int dy, int dz, unsigned buttons)
{
    Kbc *s = (Kbc *)dev;
    ps2_mouse_event(&s->mouse, dx, dy, dz, buttons);
    kbc_refill(s);
}

static const TessInputOps kbc_input_ops = {
    .key_event = kbc_key_event,
    .mouse_event = kbc_mouse_event,
};

/* ---- lifecycle ------------------------------------------------------------- */

static bool kbc_realize(TessDevice *dev, GError **err)
{
    Kbc *s = (Kbc *)dev;
    TESS_TRACE_INIT(kbc_trace);
    s->repeat_timer = tess_timer_new(dev, kbc_repeat_cb, s);
    return tess_pio_map(dev, 0x60, 1, &kbc_data_io, s, err) &&
           tess_pio_map(dev, 0x64, 1, &kbc_cmd_io, s, err);
}

static void kbc_reset(TessDevice *dev)
{
    Kbc *s = (Kbc *)dev;
    memset(s->ram, 0, sizeof(s->ram));
    s->obuf = 0;
    s->obuf_full = 0;
    s->obuf_aux = 0;
    s->a2 = 0;
    s->sys = 0;
    s->pending = 0;
    s->xlat_f0 = 0;
    s->cq_head = s->cq_count = 0;
    ps2_kbd_reset(&s->kbd);
    ps2_mouse_reset(&s->mouse);
    s->timer_key = 0;
    tess_timer_cancel(s->repeat_timer);
    /* Output port after reset: system running, A20 enabled. */
    s->outport = 0xCF;
    tess_signal_set(s->a20[0], true);
    kbc_update_irq(s);
}

static bool kbc_post_load(TessDevice *dev, uint32_t version, GError **err)
{
    Kbc *s = (Kbc *)dev;
    if (version < 2)                /* SYS followed the command byte */
        s->sys = !!(s->ram[0] & CB_SYS);
    tess_signal_set(s->a20[0], s->outport & OP_A20);
    s->timer_key = 0;
    kbc_repeat_sync(s);
    kbc_update_irq(s);
    return true;
}

static const TessLineSpec kbc_lines[] = {
    TESS_LINE_OUT_("irq1", 1, Kbc, irq1, "keyboard interrupt (IRQ 1)"),
    TESS_LINE_OUT_("irq12", 1, Kbc, irq12, "auxiliary (mouse) interrupt (IRQ 12)"),
    TESS_LINE_OUT_("a20", 1, Kbc, a20, "output port bit 1: gate A20 (wire to cpu.a20)"),
    TESS_LINE_END,
};

static const TessIfaceSpec kbc_ifaces[] = {
    { TESS_IFACE_INPUT, &kbc_input_ops },
    TESS_IFACE_END,
};

#define KBC_Q_STATE(q) TESS_STATE_BUF(Kbc, q.data), TESS_STATE_U8(Kbc, q.head), \
                       TESS_STATE_U8(Kbc, q.count)

static const TessStateField kbc_state_fields[] = {
    TESS_STATE_BUF(Kbc, ram),
    TESS_STATE_U8(Kbc, outport),
    TESS_STATE_U8(Kbc, obuf),
    TESS_STATE_U8(Kbc, obuf_full),
    TESS_STATE_U8(Kbc, obuf_aux),
    TESS_STATE_U8(Kbc, a2),
    { .name = "sys", .type = TESS_STATE_T_U8, .offset = offsetof(Kbc, sys), .size = 1,
      .since = 2 },
    TESS_STATE_U8(Kbc, pending),
    TESS_STATE_U8(Kbc, xlat_f0),
    TESS_STATE_ARRAY(TESS_STATE_T_U16, Kbc, cq, KBC_CQ),
    TESS_STATE_U8(Kbc, cq_head),
    TESS_STATE_U8(Kbc, cq_count),
    KBC_Q_STATE(kbd.resp),
    KBC_Q_STATE(kbd.scan),
    TESS_STATE_U8(Kbc, kbd.scanning),
    TESS_STATE_U8(Kbc, kbd.set),
    TESS_STATE_U8(Kbc, kbd.leds),
    TESS_STATE_U8(Kbc, kbd.typematic),
    TESS_STATE_U8(Kbc, kbd.pending),
    TESS_STATE_U8(Kbc, kbd.last),
    TESS_STATE_U8(Kbc, kbd.overrun),
    TESS_STATE_BUF(Kbc, kbd.down),
    TESS_STATE_U16(Kbc, kbd.repeat_key),
    KBC_Q_STATE(mouse.q),
    TESS_STATE_U8(Kbc, mouse.reporting),
    TESS_STATE_U8(Kbc, mouse.remote),
    TESS_STATE_U8(Kbc, mouse.wrap),
    TESS_STATE_U8(Kbc, mouse.scaling21),
    TESS_STATE_U8(Kbc, mouse.resolution),
    TESS_STATE_U8(Kbc, mouse.rate),
    TESS_STATE_U8(Kbc, mouse.id),
    TESS_STATE_U8(Kbc, mouse.pending),
    TESS_STATE_U8(Kbc, mouse.last),
    TESS_STATE_BUF(Kbc, mouse.hist),
    TESS_STATE_U8(Kbc, mouse.buttons),
    TESS_STATE_U8(Kbc, mouse.dirty),
    TESS_STATE_U32(Kbc, mouse.dx),
    TESS_STATE_U32(Kbc, mouse.dy),
    TESS_STATE_U32(Kbc, mouse.dz),
    TESS_STATE_END,
};

static const TessStateDesc kbc_state = {
    .version = 2,
    .fields = kbc_state_fields,
    .post_load = kbc_post_load,
};

static const TessDeviceClass kbc_class = {
    .type = "i8042",
    .kind = TESS_CLASS_DEVICE,
    .doc = "8042 keyboard controller with PS/2 keyboard and mouse",
    .instance_size = sizeof(Kbc),
    .lines = kbc_lines,
    .provides = kbc_ifaces,
    .state = &kbc_state,
    .realize = kbc_realize,
    .reset = kbc_reset,
};

static bool kbc_plugin_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &kbc_class, err);
}

TESS_PLUGIN_DEFINE("i8042", "0.1.0", "LGPL-2.1-or-later",
                   "8042 keyboard controller, PS/2 keyboard and mouse", kbc_plugin_init);
