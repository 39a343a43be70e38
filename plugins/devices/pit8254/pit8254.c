/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Intel 8254 programmable interval timer.
 *
 * Written from the Intel 8254 datasheet (231164): "Control Word Format",
 * "Read-Back Command", "Status Byte", "Modes" 0-5 with figures 12-17
 * (waveforms), and the "Gate Pin Operations Summary".
 *
 * The counters are never stepped per CLK. Each counter keeps a counting
 * sequence: the CLK tick `base` at which the counting element CE was
 * loaded with the initial count `n`; CE and OUT at any later tick follow
 * from the mode in closed form. Writes and GATE changes end one sequence
 * and start another. CLK ticks come from virtual time at 14.31818 MHz / 12.
 * A timer is armed only for the next OUT edge of the counters named by
 * `timed-outputs` (OUT0 drives IRQ0, OUT2 is read at port 0x61); other
 * OUT lines are brought up to date whenever the chip is accessed.
 */
#define G_LOG_DOMAIN "pit"

#include <tessera/tessera.h>

/* CLK = 14.31818 MHz / 12 = 3579545 / 3 Hz: ticks = ns * 3579545 / 3e9. */
#define PIT_HZ_NUM 3579545ull
#define PIT_HZ_DEN 3000000000ull
#define PIT_NEVER UINT64_MAX
/* Two timer callbacks in a row closer than this make the next one wait
 * this long: a one-CLK pulse is still exact, but counts of 2-5 in modes
 * 2 and 3 cannot fire every microsecond. Pulses missed that way still
 * reach the OUT line as a glitch at the next update. */
#define PIT_MIN_TIMER_NS 4000

/* Control word (datasheet figure 8) */
#define CW_BCD   0x01
#define CW_M     0x0E
#define CW_RW    0x30
#define CW_SC    0xC0
/* Read-back command */
#define RB_CNT0    0x02
#define RB_STATUS  0x10     /* active low */
#define RB_COUNT   0x20     /* active low */
/* Status byte */
#define ST_OUTPUT     0x80
#define ST_NULL_COUNT 0x40

enum { RW_LATCH = 0, RW_LSB = 1, RW_MSB = 2, RW_WORD = 3 };

typedef struct Pit Pit;

typedef struct PitChan {
    /* state */
    uint8_t ctrl;           /* RW1 RW0 M2 M1 M0 BCD */
    uint8_t mode;           /* 0-5 */
    uint8_t gate;
    uint8_t wr_msb;         /* RW=3: next write is the MSB */
    uint8_t rd_msb;         /* RW=3: next read is the MSB */
    uint8_t lsb;            /* LSB held until the MSB arrives */
    uint8_t have_count;     /* CR holds a complete count */
    uint8_t count_latched;
    uint8_t status_latched;
    uint8_t status;
    uint8_t null_count;
    uint8_t run;            /* a counting sequence exists */
    uint8_t paused;         /* modes 0/4: counting inhibited since pause_tick */
    uint8_t pending;        /* modes 2/3: new count waits for the reload */
    uint8_t out_hold;       /* OUT before `base` (or with no sequence) */
    uint8_t out_sig;        /* level the OUT line was last given */
    uint16_t cr;            /* count register as written */
    uint16_t ol;            /* output latch */
    uint16_t ce_hold;       /* CE before `base` (or with no sequence) */
    uint32_t cr_n;          /* CR as a count, 1..65536 (10000 in BCD) */
    uint32_t n;             /* initial count of the running sequence */
    uint32_t off;           /* mode 3: phase at `base` */
    uint32_t pend_n, pend_off;
    uint64_t base;
    uint64_t pause_tick;
    uint64_t pend_tick;
    uint64_t null_clear;    /* tick at which CR reaches CE */
    uint64_t sig_tick;      /* OUT line exact up to this tick */

    /* timer pacing: saved, as it decides when the next callback comes */
    uint64_t last_fire;
    bool prev_short;

    /* not state */
    Pit *pit;
    unsigned idx;
    TessTimer *timer;
} PitChan;

struct Pit {
    TessDevice dev;
    uint64_t port;
    uint64_t timed;
    TessSignal *out[3];
    PitChan ch[3];
};

/* ---- time -------------------------------------------------------------- */

static uint64_t pit_tick_of(uint64_t ns)
{
    return (uint64_t)((unsigned __int128)ns * PIT_HZ_NUM / PIT_HZ_DEN);
}

static uint64_t pit_ns_of(uint64_t tick)
{
    unsigned __int128 x = (unsigned __int128)tick * PIT_HZ_DEN + PIT_HZ_NUM - 1;
    x /= PIT_HZ_NUM;
    return x > UINT64_MAX ? UINT64_MAX : (uint64_t)x;
}

static uint64_t pit_now(Pit *p)
{
    return pit_tick_of(tess_clock_ns(p->dev.machine));
}

/* ---- the counting element in closed form ------------------------------- */

static uint32_t pit_modulus(PitChan *c)
{
    return (c->ctrl & CW_BCD) ? 10000 : 65536;
}

static uint32_t pit_decode(PitChan *c, uint16_t raw)
{
    uint32_t v = raw;
    if (c->ctrl & CW_BCD) {
        /* Digits above 9 count as their binary value, as a BCD counter
         * with an invalid digit still decrements through it. */
        v = ((raw >> 12) & 15) * 1000 + ((raw >> 8) & 15) * 100 +
            ((raw >> 4) & 15) * 10 + (raw & 15);
        v %= 10000;
    }
    return v ? v : pit_modulus(c);
}

static uint16_t pit_encode(PitChan *c, uint32_t v)
{
    v %= pit_modulus(c);
    if (!(c->ctrl & CW_BCD))
        return v;
    return (v / 1000) << 12 | ((v / 100) % 10) << 8 | ((v / 10) % 10) << 4 | (v % 10);
}

static uint32_t pit_half(uint32_t n)
{
    return (n + 1) / 2;
}

/* Tick at which counting is evaluated: a paused counter stands still
 * (but a count written before the pause is still loaded at `base`). */
static uint64_t pit_eff(PitChan *c, uint64_t t)
{
    if (!c->paused || t <= c->pause_tick)
        return t;
    return MAX(c->pause_tick, MIN(t, c->base));
}

/* OUT j CLKs after the sequence loaded CE. */
static bool pit_out_j(PitChan *c, uint64_t j)
{
    uint32_t n = c->n;
    switch (c->mode) {
    case 0:
    case 1:
        return j >= n;
    case 4:
    case 5:
        return j != n;
    case 2:
        return n >= 2 && j % n != n - 1;
    default:
        return (j + c->off) % n < pit_half(n);
    }
}

static bool pit_out_at(PitChan *c, uint64_t t)
{
    if (!c->run)
        return c->out_hold;
    t = pit_eff(c, t);
    if (t < c->base)
        return c->out_hold;
    return pit_out_j(c, t - c->base);
}

static uint32_t pit_ce_at(PitChan *c, uint64_t t)
{
    if (!c->run)
        return c->ce_hold;
    t = pit_eff(c, t);
    if (t < c->base)
        return c->ce_hold;
    uint64_t j = t - c->base;
    uint32_t n = c->n, m = pit_modulus(c);
    switch (c->mode) {
    case 0: case 1: case 4: case 5:
        return (n + m - (uint32_t)(j % m)) % m;
    case 2:
        return (n - (uint32_t)(j % n)) % m;
    default: {
        /* Mode 3 loads N (even) or N-1 (odd) and decrements by two. */
        uint32_t h = pit_half(n), p = (j + c->off) % n;
        uint32_t q = p < h ? p : p - h;
        uint32_t start = (n & 1) ? n - 1 : n;
        return (start - 2 * q) % m;
    }
    }
}

/* First tick after `a` at which OUT changes within the current sequence. */
static uint64_t pit_next_edge(PitChan *c, uint64_t a)
{
    if (!c->run)
        return PIT_NEVER;
    uint64_t start = a + 1;
    uint64_t t = PIT_NEVER;
    if (start <= c->base) {
        if (pit_out_j(c, 0) != (bool)c->out_hold)
            return c->base;
        start = c->base + 1;
    }
    uint64_t j0 = start - c->base, j = PIT_NEVER;
    uint32_t n = c->n;
    switch (c->mode) {
    case 0:
    case 1:
        if (j0 <= n)
            j = n;
        break;
    case 4:
    case 5:
        if (j0 <= n)
            j = n;
        else if (j0 == (uint64_t)n + 1)
            j = n + 1;
        break;
    case 2:
        if (n >= 2) {
            uint32_t r = j0 % n;
            j = (r == 0 || r == n - 1) ? j0 : j0 + (n - 1 - r);
        }
        break;
    default: {
        uint32_t h = pit_half(n);
        if (h < n) {
            uint32_t p = (j0 + c->off) % n;
            j = (p == 0 || p == h) ? j0 : p < h ? j0 + (h - p) : j0 + (n - p);
        }
        break;
    }
    }
    if (j != PIT_NEVER)
        t = c->base + j;
    if (c->paused && t != PIT_NEVER && t > c->pause_tick && t != c->base)
        return PIT_NEVER;
    return t;
}

/* ---- OUT line ---------------------------------------------------------- */

static void pit_emit_to(PitChan *c, uint64_t t)
{
    if (t < c->sig_tick)
        return;
    bool lvl = pit_out_at(c, t);
    TessSignal *s = c->pit->out[c->idx];
    if (lvl != (bool)c->out_sig) {
        tess_signal_set(s, lvl);
    } else if (t > c->sig_tick && pit_next_edge(c, c->sig_tick) <= t) {
        /* A whole pulse passed since the last update: show it. */
        tess_signal_set(s, !lvl);
        tess_signal_set(s, lvl);
    }
    c->out_sig = lvl;
    c->sig_tick = t;
}

/* Bring the counter to tick t: apply a reload that fell due, clear null
 * count once CR has reached CE, and update the OUT line. */
static void pit_sync(PitChan *c, uint64_t t)
{
    if (c->pending && c->pend_tick <= t) {
        pit_emit_to(c, c->pend_tick - 1);
        c->out_hold = pit_out_at(c, c->pend_tick - 1);
        c->ce_hold = pit_ce_at(c, c->pend_tick - 1);
        c->base = c->pend_tick;
        c->n = c->pend_n;
        c->off = c->pend_off;
        c->pending = 0;
    }
    pit_emit_to(c, t);
    if (c->null_count && c->null_clear <= t)
        c->null_count = 0;
}

/* floor_ns: earliest deadline allowed (timer callbacks pass now + the
 * minimum spacing). */
static void pit_arm(PitChan *c, uint64_t floor_ns)
{
    Pit *p = c->pit;
    if (!(p->timed & (1u << c->idx))) {
        tess_timer_cancel(c->timer);
        return;
    }
    uint64_t e = pit_next_edge(c, c->sig_tick);
    if (c->pending && c->pend_tick < e)
        e = c->pend_tick;
    if (e == PIT_NEVER) {
        tess_timer_cancel(c->timer);
        return;
    }
    tess_timer_arm(c->timer, MAX(pit_ns_of(e), floor_ns));
}

static void pit_timer_cb(void *opaque)
{
    PitChan *c = opaque;
    uint64_t now = tess_clock_ns(c->pit->dev.machine);
    bool short_gap = now - c->last_fire < PIT_MIN_TIMER_NS;
    uint64_t floor_ns = short_gap && c->prev_short ? now + PIT_MIN_TIMER_NS : 0;
    c->prev_short = short_gap;
    c->last_fire = now;
    pit_sync(c, pit_tick_of(now));
    pit_arm(c, floor_ns);
}

/* State changed at tick t: show OUT now and re-arm. */
static void pit_refresh(PitChan *c, uint64_t t)
{
    pit_emit_to(c, t);
    pit_arm(c, 0);
}

/* ---- programming ------------------------------------------------------- */

static void pit_set_pause(PitChan *c, uint64_t t, bool pause)
{
    if (pause && !c->paused) {
        c->paused = 1;
        c->pause_tick = t;
    } else if (!pause && c->paused) {
        c->paused = 0;
        if (c->run) {
            if (c->pause_tick >= c->base)
                c->base += t - c->pause_tick;
            else if (t >= c->base)
                c->base = t;
        }
    }
}

static void pit_update_pause(PitChan *c, uint64_t t)
{
    bool want = (c->mode == 0 || c->mode == 4) && !c->gate;
    pit_set_pause(c, t, want);
}

/* Start a sequence with CR at the next CLK. */
static void pit_start(PitChan *c, uint64_t t, uint32_t off)
{
    c->ce_hold = pit_ce_at(c, t);
    c->out_hold = pit_out_at(c, t);
    c->run = 1;
    c->pending = 0;
    c->base = t + 1;
    c->n = c->cr_n;
    c->off = off;
    c->paused = 0;
    if (c->null_count)
        c->null_clear = t + 1;
}

/* Tick and phase of the next reload boundary of a running mode 2/3
 * sequence, at or after tick `from`. */
static uint64_t pit_next_reload(PitChan *c, uint64_t from, bool *low_phase)
{
    uint64_t j0 = from - c->base;
    uint32_t n = c->n;
    *low_phase = false;
    if (c->mode == 2) {
        uint64_t k = (j0 + n - 1) / n;
        return c->base + k * n;
    }
    uint32_t h = pit_half(n);
    uint32_t p = (j0 + c->off) % n;
    if (p == 0)
        return from;
    if (h < n && p == h) {
        *low_phase = true;
        return from;
    }
    if (p < h && h < n) {
        *low_phase = true;
        return from + (h - p);
    }
    return from + (n - p);
}

static void pit_count_written(PitChan *c, uint64_t t)
{
    c->cr_n = pit_decode(c, c->cr);
    c->have_count = 1;
    c->null_count = 1;
    c->null_clear = PIT_NEVER;
    switch (c->mode) {
    case 0:
    case 4:
        /* Loaded at the next CLK; GATE low then holds it there. */
        pit_start(c, t, 0);
        if (c->mode == 0)
            c->out_hold = 0;
        pit_update_pause(c, t);
        break;
    case 1:
    case 5:
        break;                      /* loaded by the next trigger */
    default:
        if (c->run && t + 1 > c->base) {
            bool low;
            c->pending = 1;
            c->pend_tick = pit_next_reload(c, t + 1, &low);
            c->pend_n = c->cr_n;
            c->pend_off = low ? pit_half(c->cr_n) : 0;
            if (c->mode == 3 && c->pend_off >= c->cr_n)
                c->pend_off = 0;
            c->null_clear = c->pend_tick;
        } else if (c->run) {
            c->n = c->cr_n;         /* not loaded yet: the load takes it */
            c->null_clear = c->base;
        } else if (c->gate) {
            pit_start(c, t, 0);
            c->out_hold = 1;
        }
        break;
    }
}

static void pit_control(PitChan *c, uint8_t cw, uint64_t t)
{
    c->ce_hold = pit_ce_at(c, t);
    c->ctrl = cw & 0x3F;
    c->mode = (cw >> 1) & 7;
    if (c->mode > 5)
        c->mode -= 4;               /* M2 is don't-care for modes 2 and 3 */
    c->out_hold = c->mode != 0;
    c->run = 0;
    c->pending = 0;
    c->paused = 0;
    c->have_count = 0;
    c->null_count = 1;
    c->null_clear = PIT_NEVER;
    c->wr_msb = 0;
    c->rd_msb = 0;
    c->count_latched = 0;
    c->status_latched = 0;
    pit_update_pause(c, t);
}

static void pit_latch_count(PitChan *c, uint64_t t)
{
    if (c->count_latched)
        return;                     /* later latches are ignored until read */
    c->ol = pit_encode(c, pit_ce_at(c, t));
    c->count_latched = 1;
}

static void pit_latch_status(PitChan *c, uint64_t t)
{
    if (c->status_latched)
        return;
    c->status = (pit_out_at(c, t) ? ST_OUTPUT : 0) |
                (c->null_count ? ST_NULL_COUNT : 0) | (c->ctrl & 0x3F);
    c->status_latched = 1;
}

static void pit_sync_all(Pit *p, uint64_t t)
{
    for (unsigned i = 0; i < 3; i++)
        pit_sync(&p->ch[i], t);
}

/* Someone samples an OUT line (port 61h bit 5): show it as of now. */
static void pit_sync_outputs(TessDevice *dev)
{
    Pit *p = (Pit *)dev;
    uint64_t t = pit_now(p);
    for (unsigned i = 0; i < 3; i++) {
        pit_sync(&p->ch[i], t);
        pit_arm(&p->ch[i], 0);
    }
}

static void pit_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    Pit *p = opaque;
    uint8_t v = val;
    uint64_t t = pit_now(p);
    pit_sync_all(p, t);

    if (off == 3) {
        unsigned sc = v >> 6;
        if (sc == 3) {
            for (unsigned i = 0; i < 3; i++) {
                if (!(v & (RB_CNT0 << i)))
                    continue;
                if (!(v & RB_COUNT))
                    pit_latch_count(&p->ch[i], t);
                if (!(v & RB_STATUS))
                    pit_latch_status(&p->ch[i], t);
            }
            return;
        }
        PitChan *c = &p->ch[sc];
        if (((v & CW_RW) >> 4) == RW_LATCH) {
            pit_latch_count(c, t);
            return;
        }
        pit_control(c, v, t);
        pit_refresh(c, t);
        return;
    }

    PitChan *c = &p->ch[off];
    switch ((c->ctrl & CW_RW) >> 4) {
    case RW_LSB:
        c->cr = v;
        break;
    case RW_MSB:
        c->cr = v << 8;
        break;
    default:
        if (!c->wr_msb) {
            c->lsb = v;
            c->wr_msb = 1;
            if (c->mode == 0) {
                /* Writing the first byte stops counting; OUT goes low. */
                c->ce_hold = pit_ce_at(c, t);
                c->out_hold = 0;
                c->run = 0;
                c->pending = 0;
                pit_refresh(c, t);
            }
            return;
        }
        c->wr_msb = 0;
        c->cr = c->lsb | v << 8;
        break;
    }
    pit_count_written(c, t);
    pit_refresh(c, t);
}

static uint64_t pit_read(void *opaque, uint64_t off, unsigned size)
{
    Pit *p = opaque;
    uint64_t t = pit_now(p);
    pit_sync_all(p, t);
    if (off == 3)
        return 0xFF;                /* the control word register is write-only */

    PitChan *c = &p->ch[off];
    if (c->status_latched) {
        c->status_latched = 0;
        return c->status;
    }
    uint16_t v = c->count_latched ? c->ol : pit_encode(c, pit_ce_at(c, t));
    uint8_t r;
    switch ((c->ctrl & CW_RW) >> 4) {
    case RW_LSB:
        r = v;
        c->count_latched = 0;
        break;
    case RW_MSB:
        r = v >> 8;
        c->count_latched = 0;
        break;
    default:
        if (!c->rd_msb) {
            r = v;
            c->rd_msb = 1;
        } else {
            r = v >> 8;
            c->rd_msb = 0;
            c->count_latched = 0;
        }
        break;
    }
    return r;
}

static const TessIoOps pit_io = {
    .read = pit_read,
    .write = pit_write,
    .widths = TESS_W8,
};

static void pit_gate_change(PitChan *c, bool level)
{
    uint64_t t = pit_now(c->pit);
    pit_sync(c, t);
    if ((bool)c->gate == level)
        return;
    c->gate = level;
    switch (c->mode) {
    case 0:
    case 4:
        pit_update_pause(c, t);
        break;
    case 1:
    case 5:
        if (level && c->have_count) {
            pit_start(c, t, 0);     /* trigger: CR to CE on the next CLK */
            c->null_clear = t + 1;
        }
        break;
    default:
        if (!level) {
            /* GATE low stops counting and sets OUT high at once. */
            c->ce_hold = pit_ce_at(c, t);
            c->out_hold = 1;
            c->run = 0;
            c->pending = 0;
        } else if (c->have_count) {
            pit_start(c, t, 0);
            c->out_hold = 1;
        }
        break;
    }
    pit_refresh(c, t);
}

static void pit_set_gate2(TessDevice *dev, unsigned n, bool level)
{
    pit_gate_change(&((Pit *)dev)->ch[2], level);
}

static void pit_chan_reset(PitChan *c)
{
    uint64_t t = pit_now(c->pit);
    /* Power-up state is undefined; start as after a mode 0 control word
     * with no count, so OUT is low and nothing counts. */
    c->ce_hold = 0;
    pit_control(c, 0x30, t);
    c->cr = 0;
    c->cr_n = 65536;
    pit_refresh(c, t);
}

static void pit_reset(TessDevice *dev)
{
    Pit *p = (Pit *)dev;
    for (unsigned i = 0; i < 3; i++)
        pit_chan_reset(&p->ch[i]);
}

static bool pit_realize(TessDevice *dev, GError **err)
{
    Pit *p = (Pit *)dev;
    for (unsigned i = 0; i < 3; i++) {
        PitChan *c = &p->ch[i];
        c->pit = p;
        c->idx = i;
        /* GATE0 and GATE1 are tied high on a PC. */
        c->gate = i != 2 ? 1 : tess_device_input_level(dev, "gate2");
        c->timer = tess_timer_new(dev, pit_timer_cb, c);
    }
    return tess_pio_map(dev, (uint32_t)p->port, 4, &pit_io, p, err);
}

/* A snapshot is untrusted: counts a write could not give (the timing
 * arithmetic divides by them: a running sequence's, a pending one's,
 * the count register's) and modes past 5 are refused. */
static bool pit_count_ok(uint32_t n)
{
    return n >= 1 && n <= 65536;
}

static bool pit_post_load(TessDevice *dev, uint32_t version, GError **err)
{
    Pit *p = (Pit *)dev;
    for (unsigned i = 0; i < 3; i++) {
        PitChan *c = &p->ch[i];
        if (c->mode > 5 || !pit_count_ok(c->cr_n) || (c->run && !pit_count_ok(c->n)) ||
            (c->pending && !pit_count_ok(c->pend_n))) {
            g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_INVALID,
                        "pit8254: channel %u: mode %u, count %u, initial count %u: "
                        "not a state the timer can be in", i, c->mode, c->cr_n, c->n);
            return false;
        }
    }
    for (unsigned i = 0; i < 3; i++) {
        PitChan *c = &p->ch[i];
        tess_signal_set(p->out[i], c->out_sig);
        pit_arm(c, 0);
    }
    return true;
}

static const TessPropSpec pit_props[] = {
    TESS_PROP_UINT_("port", Pit, port, "0x40", 0, 0xFFFC, "I/O base (four ports)"),
    TESS_PROP_UINT_("timed-outputs", Pit, timed, "0x5", 0, 7,
                    "bit n: keep OUTn exact with timers (OUT0 -> IRQ0, OUT2 -> port 0x61)"),
    TESS_PROP_END,
};

static const TessLineSpec pit_lines[] = {
    TESS_LINE_OUT_("out", 3, Pit, out, "counter outputs OUT0-OUT2"),
    TESS_LINE_IN_("gate2", 1, pit_set_gate2, "GATE of counter 2 (GATE0/1 are tied high)"),
    TESS_LINE_END,
};

#define PIT_CHAN_STATE(i)                                              \
    TESS_STATE_U8(Pit, ch[i].ctrl), TESS_STATE_U8(Pit, ch[i].mode),    \
    TESS_STATE_U8(Pit, ch[i].gate), TESS_STATE_U8(Pit, ch[i].wr_msb),  \
    TESS_STATE_U8(Pit, ch[i].rd_msb), TESS_STATE_U8(Pit, ch[i].lsb),   \
    TESS_STATE_U8(Pit, ch[i].have_count),                              \
    TESS_STATE_U8(Pit, ch[i].count_latched),                           \
    TESS_STATE_U8(Pit, ch[i].status_latched),                          \
    TESS_STATE_U8(Pit, ch[i].status),                                  \
    TESS_STATE_U8(Pit, ch[i].null_count), TESS_STATE_U8(Pit, ch[i].run), \
    TESS_STATE_U8(Pit, ch[i].paused),                                  \
    TESS_STATE_U8(Pit, ch[i].pending),                                 \
    TESS_STATE_U8(Pit, ch[i].out_hold), TESS_STATE_U8(Pit, ch[i].out_sig), \
    TESS_STATE_U16(Pit, ch[i].cr), TESS_STATE_U16(Pit, ch[i].ol),      \
    TESS_STATE_U16(Pit, ch[i].ce_hold),                                \
    TESS_STATE_U32(Pit, ch[i].cr_n), TESS_STATE_U32(Pit, ch[i].n),     \
    TESS_STATE_U32(Pit, ch[i].off), TESS_STATE_U32(Pit, ch[i].pend_n), \
    TESS_STATE_U32(Pit, ch[i].pend_off),                               \
    TESS_STATE_U64(Pit, ch[i].base), TESS_STATE_U64(Pit, ch[i].pause_tick), \
    TESS_STATE_U64(Pit, ch[i].pend_tick),                              \
    TESS_STATE_U64(Pit, ch[i].null_clear),                             \
    TESS_STATE_U64(Pit, ch[i].sig_tick),                               \
    TESS_STATE_U64(Pit, ch[i].last_fire), TESS_STATE_BOOL(Pit, ch[i].prev_short)

static const TessStateField pit_state_fields[] = {
    PIT_CHAN_STATE(0),
    PIT_CHAN_STATE(1),
    PIT_CHAN_STATE(2),
    TESS_STATE_END,
};

static const TessStateDesc pit_state = {
    .version = 1,
    .fields = pit_state_fields,
    .post_load = pit_post_load,
};

static const TessDeviceClass pit_class = {
    .type = "pit8254",
    .kind = TESS_CLASS_DEVICE,
    .doc = "Intel 8254 programmable interval timer",
    .instance_size = sizeof(Pit),
    .props = pit_props,
    .lines = pit_lines,
    .state = &pit_state,
    .realize = pit_realize,
    .reset = pit_reset,
    .sync_outputs = pit_sync_outputs,
};

static bool pit_plugin_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &pit_class, err);
}

TESS_PLUGIN_DEFINE("pit8254", "0.1.0", "LGPL-2.1-or-later",
                   "Intel 8254 programmable interval timer", pit_plugin_init);
