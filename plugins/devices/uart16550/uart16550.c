/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * National Semiconductor NS16550A UART with FIFOs.
 *
 * PC16550D datasheet (National, June 1995): 8.x register descriptions
 * (Table II register summary, Table IV interrupt control functions,
 * 8.4 line status, 8.6 interrupt identification incl. the character
 * timeout, 8.7 modem control and loopback, 8.8 modem status).
 *
 * Characters take their real time on the line: a byte written to THR
 * reaches the host (or, in loopback, the receiver) one character time
 * after it enters the transmitter shift register, and host input enters
 * the receiver at the same rate. On the PC, OUT2 gates the interrupt onto
 * the bus, so the "irq" output is driven only while MCR.OUT2 is set (and
 * not in loopback, where the OUT pins are forced inactive).
 */
#define G_LOG_DOMAIN "uart16550"
#include <tessera/tessera.h>

#include <string.h>

#define UART_FIFO 16

/* IER */
#define IER_ERBFI 0x01
#define IER_ETBEI 0x02
#define IER_ELSI  0x04
#define IER_EDSSI 0x08
/* IIR */
#define IIR_NO_INT  0x01
#define IIR_RLS     0x06
#define IIR_RDA     0x04
#define IIR_CTI     0x0C
#define IIR_THRE    0x02
#define IIR_MS      0x00
#define IIR_FIFOS   0xC0
/* FCR */
#define FCR_FIFO_EN  0x01
#define FCR_RX_RESET 0x02
#define FCR_TX_RESET 0x04
#define FCR_DMA_MODE 0x08
#define FCR_TRIGGER  0xC0
/* LCR */
#define LCR_WLS   0x03
#define LCR_STB   0x04
#define LCR_PEN   0x08
#define LCR_SBRK  0x40
#define LCR_DLAB  0x80
/* MCR */
#define MCR_DTR   0x01
#define MCR_RTS   0x02
#define MCR_OUT1  0x04
#define MCR_OUT2  0x08
#define MCR_LOOP  0x10
/* LSR */
#define LSR_DR    0x01
#define LSR_OE    0x02
#define LSR_PE    0x04
#define LSR_FE    0x08
#define LSR_BI    0x10
#define LSR_THRE  0x20
#define LSR_TEMT  0x40
#define LSR_RXFE  0x80
#define LSR_ERRORS (LSR_OE | LSR_PE | LSR_FE | LSR_BI)
/* MSR */
#define MSR_DCTS  0x01
#define MSR_DDSR  0x02
#define MSR_TERI  0x04
#define MSR_DDCD  0x08
#define MSR_CTS   0x10
#define MSR_DSR   0x20
#define MSR_RI    0x40
#define MSR_DCD   0x80

static const uint8_t rx_trigger[4] = { 1, 4, 8, 14 };

typedef struct Uart {
    TessDevice dev;
    /* properties */
    uint64_t port;
    char *chardev_spec;
    uint64_t clock_hz;
    /* lines */
    TessSignal *irq[1];
    /* host side */
    TessChardev *chr;
    TessTimer *tx_timer, *rx_timer, *cti_timer;
    /* registers */
    uint8_t ier, fcr, lcr, mcr, lsr, msr, scr;
    uint16_t div;
    uint8_t rbr;                     /* last character read (RBR keeps it) */
    /* receiver: FIFO of (flags << 8 | char); depth 1 in 16450 mode */
    uint16_t rx_fifo[UART_FIFO];
    uint8_t rx_head, rx_count;
    uint8_t head_reported;           /* head's error flags already shown in LSR */
    uint8_t rsr_busy;                /* a host character is on the wire */
    uint8_t rsr;
    uint8_t break_sent;              /* loopback break already received */
    /* transmitter */
    uint8_t tx_fifo[UART_FIFO];
    uint8_t tx_head, tx_count;
    uint8_t tsr_busy;
    uint8_t tsr;
    /* interrupt sources that latch */
    uint8_t thre_pending;
    uint8_t cti_pending;
    /* timers across save/restore (0 = idle) */
    uint64_t tx_deadline, rx_deadline, cti_deadline;
} Uart;

static bool fifo_mode(const Uart *u) { return u->fcr & FCR_FIFO_EN; }
static unsigned fifo_depth(const Uart *u) { return fifo_mode(u) ? UART_FIFO : 1; }

/* One character on the line: start bit, 5-8 data bits, parity, 1/1.5/2
 * stop bits, each 16 clocks of the divided reference clock. */
static uint64_t char_time_ns(const Uart *u)
{
    unsigned half_bits = 2 * (1 + 5 + (u->lcr & LCR_WLS) + ((u->lcr & LCR_PEN) ? 1 : 0));
    if (!(u->lcr & LCR_STB))
        half_bits += 2;
    else
        half_bits += (u->lcr & LCR_WLS) == 0 ? 3 : 4;
    /* A divisor of 0 counts through all 16 bits. */
    uint64_t div = u->div ? u->div : 65536;
    uint64_t clk = u->clock_hz ? u->clock_hz : 1843200;
    return (half_bits * 16 * div * TESS_NS_PER_SEC + 2 * clk - 1) / (2 * clk);
}

/* ---- interrupts ----------------------------------------------------------- */

static bool rx_data_int(const Uart *u)
{
    if (!u->rx_count)
        return false;
    return !fifo_mode(u) || u->rx_count >= rx_trigger[u->fcr >> 6];
}

/* Table IV: highest priority source first. */
static uint8_t uart_iid(const Uart *u)
{
    if ((u->ier & IER_ELSI) && (u->lsr & LSR_ERRORS))
        return IIR_RLS;
    if ((u->ier & IER_ERBFI) && rx_data_int(u))
        return IIR_RDA;
    if ((u->ier & IER_ERBFI) && u->cti_pending)
        return IIR_CTI;
    if ((u->ier & IER_ETBEI) && u->thre_pending)
        return IIR_THRE;
    if ((u->ier & IER_EDSSI) && (u->msr & 0x0F))
        return IIR_MS;
    return IIR_NO_INT;
}

static void uart_update_irq(Uart *u)
{
    bool gate = (u->mcr & MCR_OUT2) && !(u->mcr & MCR_LOOP);
    tess_signal_set(u->irq[0], gate && uart_iid(u) != IIR_NO_INT);
}

/* ---- modem lines ---------------------------------------------------------- */

static uint8_t modem_inputs(const Uart *u)
{
    if (u->mcr & MCR_LOOP) {
        uint8_t in = 0;
        if (u->mcr & MCR_RTS)  in |= MSR_CTS;
        if (u->mcr & MCR_DTR)  in |= MSR_DSR;
        if (u->mcr & MCR_OUT1) in |= MSR_RI;
        if (u->mcr & MCR_OUT2) in |= MSR_DCD;
        return in;
    }
    /* The host end is a connected, ready DCE. */
    return MSR_CTS | MSR_DSR | MSR_DCD;
}

static void modem_update(Uart *u)
{
    uint8_t old = u->msr & 0xF0, now = modem_inputs(u);
    uint8_t chg = old ^ now;
    if (chg & MSR_CTS) u->msr |= MSR_DCTS;
    if (chg & MSR_DSR) u->msr |= MSR_DDSR;
    if ((old & MSR_RI) && !(now & MSR_RI)) u->msr |= MSR_TERI;
    if (chg & MSR_DCD) u->msr |= MSR_DDCD;
    u->msr = (uint8_t)((u->msr & 0x0F) | now);
}

/* ---- receiver ------------------------------------------------------------- */

static void rx_reveal_head(Uart *u)
{
    /* 8.4: a character's PE/FE/BI show in LSR when it reaches the top. */
    if (u->rx_count) {
        u->lsr |= (uint8_t)(u->rx_fifo[u->rx_head] >> 8);
        u->head_reported = 0;
    }
}

static void cti_rearm(Uart *u)
{
    u->cti_pending = 0;
    if (fifo_mode(u) && u->rx_count)
        tess_timer_arm_in(u->cti_timer, 4 * char_time_ns(u));
    else
        tess_timer_cancel(u->cti_timer);
}

static void rx_clear(Uart *u)
{
    u->rx_count = 0;
    u->rx_head = 0;
    u->cti_pending = 0;
    tess_timer_cancel(u->cti_timer);
}

static void rx_push(Uart *u, uint8_t ch, uint8_t flags)
{
    if (u->rx_count == fifo_depth(u)) {
        u->lsr |= LSR_OE;
        if (fifo_mode(u)) {
            /* The FIFO is kept; the character in the shift register is lost. */
            cti_rearm(u);
            uart_update_irq(u);
            return;
        }
        /* 16450 mode: the new character overwrites RBR. */
        u->rx_count = 0;
    }
    unsigned idx = (u->rx_head + u->rx_count) % UART_FIFO;
    u->rx_fifo[idx] = (uint16_t)(flags << 8 | ch);
    u->rx_count++;
    if (u->rx_count == 1)
        rx_reveal_head(u);
    cti_rearm(u);
    uart_update_irq(u);
}

static uint8_t rx_pop(Uart *u)
{
    if (!u->rx_count)
        return u->rbr;
    u->rbr = (uint8_t)u->rx_fifo[u->rx_head];
    u->rx_head = (uint8_t)((u->rx_head + 1) % UART_FIFO);
    u->rx_count--;
    rx_reveal_head(u);
    cti_rearm(u);
    uart_update_irq(u);
    if (u->chr && !(u->mcr & MCR_LOOP))
        tess_chardev_accept_input(u->chr);
    return u->rbr;
}

static bool rx_errors_in_fifo(const Uart *u)
{
    for (unsigned i = 0; i < u->rx_count; i++) {
        if (i == 0 && u->head_reported)
            continue;
        if (u->rx_fifo[(u->rx_head + i) % UART_FIFO] >> 8)
            return true;
    }
    return false;
}

static void rx_timer_fire(void *opaque)
{
    Uart *u = opaque;
    u->rx_deadline = 0;
    if (!u->rsr_busy)
        return;
    u->rsr_busy = 0;
    rx_push(u, u->rsr, 0);
    if (u->chr)
        tess_chardev_accept_input(u->chr);
}

static void cti_timer_fire(void *opaque)
{
    Uart *u = opaque;
    u->cti_deadline = 0;
    if (fifo_mode(u) && u->rx_count) {
        u->cti_pending = 1;
        uart_update_irq(u);
    }
}

static size_t chr_can_receive(void *opaque)
{
    Uart *u = opaque;
    /* The receiver input is disconnected in loopback; otherwise one
     * character at a time, and only with room for it (the host end waits
     * rather than overrunning us). */
    if ((u->mcr & MCR_LOOP) || u->rsr_busy || u->rx_count >= fifo_depth(u))
        return 0;
    return 1;
}

static void chr_receive(void *opaque, const uint8_t *buf, size_t len)
{
    Uart *u = opaque;
    if (!len)
        return;
    if (u->rsr_busy || (u->mcr & MCR_LOOP)) {
        g_debug("%s: %zu host byte(s) arrived while the receiver was busy", u->dev.id, len);
        return;
    }
    u->rsr = buf[0];
    u->rsr_busy = 1;
    tess_timer_arm_in(u->rx_timer, char_time_ns(u));
    if (len > 1)
        g_debug("%s: host offered %zu bytes, took 1", u->dev.id, len);
}

/* ---- transmitter ---------------------------------------------------------- */

static void tx_start(Uart *u)
{
    if (u->tsr_busy || !u->tx_count)
        return;
    u->tsr = u->tx_fifo[u->tx_head];
    u->tx_head = (uint8_t)((u->tx_head + 1) % UART_FIFO);
    u->tx_count--;
    u->tsr_busy = 1;
    if (!u->tx_count)
        u->thre_pending = 1;         /* THR (or the TX FIFO) just emptied */
    tess_timer_arm_in(u->tx_timer, char_time_ns(u));
}

static void tx_timer_fire(void *opaque)
{
    Uart *u = opaque;
    u->tx_deadline = 0;
    if (!u->tsr_busy)
        return;
    u->tsr_busy = 0;
    if (u->mcr & MCR_LOOP)
        rx_push(u, u->tsr, 0);
    else if (u->chr)
        tess_chardev_write(u->chr, &u->tsr, 1);
    tx_start(u);
    uart_update_irq(u);
}

static void thr_write(Uart *u, uint8_t v)
{
    if (u->tx_count == fifo_depth(u)) {
        /* Writing a full FIFO loses the byte. */
        tess_guest_error(&u->dev, "THR written while the transmitter FIFO is full");
    } else {
        u->tx_fifo[(u->tx_head + u->tx_count) % UART_FIFO] = v;
        u->tx_count++;
    }
    u->thre_pending = 0;
    tx_start(u);
    uart_update_irq(u);
}

/* LCR.SBRK in loopback: the receiver sees the line held spacing and, after
 * one character time, takes in one zero character flagged BI. */
static void break_check(Uart *u)
{
    if (!(u->lcr & LCR_SBRK))
        u->break_sent = 0;
    else if ((u->mcr & MCR_LOOP) && !u->break_sent && !u->rsr_busy) {
        u->rsr_busy = 2;             /* a break, not a host byte, is arriving */
        tess_timer_arm_in(u->rx_timer, char_time_ns(u));
    }
}

static void rx_timer_cb(void *opaque)
{
    Uart *u = opaque;
    if (u->rsr_busy == 2) {
        u->rx_deadline = 0;
        u->rsr_busy = 0;
        if ((u->lcr & LCR_SBRK) && (u->mcr & MCR_LOOP) && !u->break_sent) {
            u->break_sent = 1;
            rx_push(u, 0, LSR_BI);
        }
        return;
    }
    rx_timer_fire(opaque);
}

/* ---- registers ------------------------------------------------------------ */

/* The transmitter as of now. Timers run between the CPU's slices, so a
 * character whose time is over may still sit in the shift register when
 * the guest looks; a guest that polls LSR against its own clock (SeaBIOS
 * gives up on a character after 10 ms of TSC time) would then see THRE
 * late, drop characters when the host stalls it, and print differently
 * under load. What the line has sent by now has gone. */
static void tx_catch_up(Uart *u)
{
    while (u->tsr_busy && tess_timer_pending(u->tx_timer) &&
           tess_timer_deadline(u->tx_timer) <= tess_clock_ns(u->dev.machine)) {
        tess_timer_cancel(u->tx_timer);
        tx_timer_fire(u);
    }
}

static uint8_t lsr_read(Uart *u)
{
    tx_catch_up(u);
    uint8_t v = u->lsr & LSR_ERRORS;
    if (u->rx_count)
        v |= LSR_DR;
    if (!u->tx_count)
        v |= LSR_THRE;
    if (!u->tx_count && !u->tsr_busy)
        v |= LSR_TEMT;
    if (fifo_mode(u) && rx_errors_in_fifo(u))
        v |= LSR_RXFE;
    u->lsr &= (uint8_t)~LSR_ERRORS;
    u->head_reported = 1;
    uart_update_irq(u);
    return v;
}

static void fcr_write(Uart *u, uint8_t v)
{
    bool was = fifo_mode(u), now = v & FCR_FIFO_EN;
    if (was != now) {
        /* Changing FIFO enable empties both FIFOs. */
        rx_clear(u);
        u->tx_count = 0;
        u->tx_head = 0;
    }
    if (!now) {
        u->fcr = 0;
        uart_update_irq(u);
        return;
    }
    if (v & FCR_RX_RESET)
        rx_clear(u);
    if ((v & FCR_TX_RESET) && u->tx_count) {
        u->tx_count = 0;
        u->tx_head = 0;
        u->thre_pending = 1;
    }
    u->fcr = v & (FCR_FIFO_EN | FCR_DMA_MODE | FCR_TRIGGER);
    uart_update_irq(u);
}

static void mcr_write(Uart *u, uint8_t v)
{
    bool was_loop = u->mcr & MCR_LOOP;
    u->mcr = v & 0x1F;
    modem_update(u);
    break_check(u);
    uart_update_irq(u);
    if (was_loop && !(u->mcr & MCR_LOOP) && u->chr)
        tess_chardev_accept_input(u->chr);
}

static uint64_t uart_read(void *opaque, uint64_t off, unsigned size)
{
    Uart *u = opaque;
    uint8_t v;

    switch (off) {
    case 0:
        if (u->lcr & LCR_DLAB)
            return u->div & 0xFF;
        return rx_pop(u);
    case 1:
        if (u->lcr & LCR_DLAB)
            return u->div >> 8;
        return u->ier;
    case 2:
        v = uart_iid(u);
        /* Reading IIR while it shows THRE clears that source. */
        if (v == IIR_THRE) {
            u->thre_pending = 0;
            uart_update_irq(u);
        }
        return v | (fifo_mode(u) ? IIR_FIFOS : 0);
    case 3:
        return u->lcr;
    case 4:
        return u->mcr;
    case 5:
        return lsr_read(u);
    case 6:
        v = u->msr;
        u->msr &= 0xF0;
        uart_update_irq(u);
        return v;
    default:
        return u->scr;
    }
}

static void uart_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    Uart *u = opaque;
    uint8_t v = (uint8_t)val;

    switch (off) {
    case 0:
        if (u->lcr & LCR_DLAB)
            u->div = (uint16_t)((u->div & 0xFF00) | v);
        else
            thr_write(u, v);
        break;
    case 1:
        if (u->lcr & LCR_DLAB) {
            u->div = (uint16_t)((u->div & 0x00FF) | v << 8);
        } else {
            /* Enabling ETBEI with THR empty raises THRE at once. */
            if (!(u->ier & IER_ETBEI) && (v & IER_ETBEI) && !u->tx_count)
                u->thre_pending = 1;
            u->ier = v & 0x0F;
            uart_update_irq(u);
        }
        break;
    case 2:
        fcr_write(u, v);
        break;
    case 3:
        u->lcr = v;
        break_check(u);
        break;
    case 4:
        mcr_write(u, v);
        break;
    case 5:
    case 6:
        break;                        /* LSR/MSR: factory test only */
    default:
        u->scr = v;
        break;
    }
}

static const TessIoOps uart_ops = { .read = uart_read, .write = uart_write, .widths = TESS_W8 };

/* ---- lifecycle ------------------------------------------------------------ */

static void uart_reset(TessDevice *dev)
{
    Uart *u = (Uart *)dev;
    /* Master reset (Table III); DLL/DLM and SCR keep their contents. */
    u->ier = u->fcr = u->lcr = u->mcr = 0;
    u->lsr = 0;
    rx_clear(u);
    u->tx_count = u->tx_head = 0;
    u->tsr_busy = u->rsr_busy = 0;
    u->thre_pending = 0;
    u->break_sent = 0;
    u->head_reported = 0;
    tess_timer_cancel(u->tx_timer);
    tess_timer_cancel(u->rx_timer);
    u->msr = modem_inputs(u);
    uart_update_irq(u);
    if (u->chr)
        tess_chardev_accept_input(u->chr);
}

static const TessChardevHandlers uart_chr_handlers = {
    .can_receive = chr_can_receive,
    .receive = chr_receive,
};

static bool uart_realize(TessDevice *dev, GError **err)
{
    Uart *u = (Uart *)dev;
    const char *spec = u->chardev_spec && *u->chardev_spec ? u->chardev_spec : "null";

    /* The divisor is undefined at power-on. 115200 baud, what firmware
     * consoles program: SeaBIOS's sercon never sets it, and its output
     * loop yields to interrupts while it waits for TEMT, where the timer
     * tick flushes the same pending character again (a doubled letter
     * and a cursor move on the terminal); at 9600 baud that wait is 12
     * times longer, and the garbling follows most words. */
    u->div = 1;
    if (!tess_pio_map(dev, (uint32_t)u->port, 8, &uart_ops, u, err))
        return false;
    u->tx_timer = tess_timer_new(dev, tx_timer_fire, u);
    u->rx_timer = tess_timer_new(dev, rx_timer_cb, u);
    u->cti_timer = tess_timer_new(dev, cti_timer_fire, u);
    u->chr = tess_chardev_open(dev, spec, err);
    if (!u->chr)
        return false;
    tess_chardev_set_handlers(u->chr, &uart_chr_handlers, u);
    return true;
}

static bool uart_pre_save(TessDevice *dev, GError **err)
{
    Uart *u = (Uart *)dev;
    u->tx_deadline = tess_timer_pending(u->tx_timer) ? tess_timer_deadline(u->tx_timer) : 0;
    u->rx_deadline = tess_timer_pending(u->rx_timer) ? tess_timer_deadline(u->rx_timer) : 0;
    u->cti_deadline = tess_timer_pending(u->cti_timer) ? tess_timer_deadline(u->cti_timer) : 0;
    return true;
}

static bool uart_post_load(TessDevice *dev, uint32_t version, GError **err)
{
    Uart *u = (Uart *)dev;
    u->rx_head %= UART_FIFO;
    u->tx_head %= UART_FIFO;
    if (u->rx_count > UART_FIFO) u->rx_count = UART_FIFO;
    if (u->tx_count > UART_FIFO) u->tx_count = UART_FIFO;
    tess_timer_cancel(u->tx_timer);
    tess_timer_cancel(u->rx_timer);
    tess_timer_cancel(u->cti_timer);
    if (u->tx_deadline) tess_timer_arm(u->tx_timer, u->tx_deadline);
    if (u->rx_deadline) tess_timer_arm(u->rx_timer, u->rx_deadline);
    if (u->cti_deadline) tess_timer_arm(u->cti_timer, u->cti_deadline);
    uart_update_irq(u);
    return true;
}

static const TessPropSpec uart_props[] = {
    TESS_PROP_UINT_("port", Uart, port, "0x3f8", 0, 0xFFF8, "I/O base (8 ports)"),
    TESS_PROP_STRING_("chardev", Uart, chardev_spec, "null",
                      "host side: stdio, file:PATH, null, pty, tcp:127.0.0.1:PORT"),
    TESS_PROP_UINT_("clock", Uart, clock_hz, "1843200", 1, 24000000, "reference clock (Hz)"),
    TESS_PROP_END
};

static const TessLineSpec uart_lines[] = {
    TESS_LINE_OUT_("irq", 1, Uart, irq, "interrupt, gated by MCR.OUT2 as on the PC (COM1: IRQ 4)"),
    TESS_LINE_END
};

#define U8F(f) TESS_STATE_U8(Uart, f)
static const TessStateField uart_state_fields[] = {
    U8F(ier), U8F(fcr), U8F(lcr), U8F(mcr), U8F(lsr), U8F(msr), U8F(scr),
    TESS_STATE_U16(Uart, div), U8F(rbr),
    TESS_STATE_ARRAY(TESS_STATE_T_U16, Uart, rx_fifo, UART_FIFO),
    U8F(rx_head), U8F(rx_count), U8F(head_reported), U8F(rsr_busy), U8F(rsr), U8F(break_sent),
    TESS_STATE_BUF(Uart, tx_fifo), U8F(tx_head), U8F(tx_count), U8F(tsr_busy), U8F(tsr),
    U8F(thre_pending), U8F(cti_pending),
    TESS_STATE_U64(Uart, tx_deadline), TESS_STATE_U64(Uart, rx_deadline),
    TESS_STATE_U64(Uart, cti_deadline),
    TESS_STATE_END
};

static const TessStateDesc uart_state = {
    .version = 1,
    .fields = uart_state_fields,
    .pre_save = uart_pre_save,
    .post_load = uart_post_load,
};

static const TessDeviceClass uart_class = {
    .type = "uart16550",
    .kind = TESS_CLASS_DEVICE,
    .doc = "NS16550A UART with 16-byte FIFOs",
    .instance_size = sizeof(Uart),
    .props = uart_props,
    .lines = uart_lines,
    .state = &uart_state,
    .realize = uart_realize,
    .reset = uart_reset,
};

static bool uart_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &uart_class, err);
}

TESS_PLUGIN_DEFINE("uart16550", "1.0", "LGPL-2.1-or-later",
                   "NS16550A serial port", uart_init);
