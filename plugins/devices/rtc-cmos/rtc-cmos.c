/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Motorola MC146818A real-time clock with the PC/AT CMOS RAM.
 *
 * Written from the MC146818A datasheet: "Address Map", "Time, Calendar
 * and Alarm Locations", "Update Cycle" (UIP, tBUC = 244 us, update cycle
 * 1984 us at 32.768 kHz), "Register A" (UIP, DV2-DV0, RS3-RS0), "Register
 * B" (SET PIE AIE UIE SQWE DM 24/12 DSE), "Register C" (IRQF PF AF UF,
 * cleared by reading), "Register D" (VRT) and "Periodic Interrupt Rate".
 *
 * The clock is not stepped. Its time is the machine's wall clock
 * (tess_clock_wall_ns: the host's time of day, or a fixed epoch in
 * deterministic mode) plus an offset the guest changes by setting the
 * time. Registers are computed when read; PF/UF/AF are counted over the
 * guest time that passed since the last look; a timer runs only while
 * an enabled interrupt source could raise IRQ (IRQ is level, held until
 * register C is read, so nothing is armed while it is high).
 *
 * Port 0x70: bit 7 NMI disable (kept), bits 6-0 register index. Port
 * 0x71: data. Bytes 0x0E-0x7F are battery-backed RAM, optionally kept in
 * `file`; the PC/AT byte layout that SeaBIOS reads (memory sizes, boot
 * order, checksum) is filled from the machine's configuration.
 */
#define G_LOG_DOMAIN "rtc"

#include <tessera/tessera.h>

#include <errno.h>
#include <string.h>

#define NS_PER_SEC 1000000000ll

/* Register indices */
enum {
    RTC_SECONDS = 0x00, RTC_SECONDS_ALARM = 0x01, RTC_MINUTES = 0x02,
    RTC_MINUTES_ALARM = 0x03, RTC_HOURS = 0x04, RTC_HOURS_ALARM = 0x05,
    RTC_DAY_OF_WEEK = 0x06, RTC_DATE_OF_MONTH = 0x07, RTC_MONTH = 0x08,
    RTC_YEAR = 0x09, RTC_REG_A = 0x0A, RTC_REG_B = 0x0B, RTC_REG_C = 0x0C,
    RTC_REG_D = 0x0D,
    CMOS_CENTURY = 0x32,        /* IBM PC/AT */
};

/* Register A */
#define REGA_UIP  0x80
#define REGA_DV   0x70
#define REGA_RS   0x0F
/* Register B */
#define REGB_SET  0x80
#define REGB_PIE  0x40
#define REGB_AIE  0x20
#define REGB_UIE  0x10
#define REGB_SQWE 0x08
#define REGB_DM   0x04
#define REGB_24H  0x02
#define REGB_DSE  0x01
/* Register C */
#define REGC_IRQF 0x80
#define REGC_PF   0x40
#define REGC_AF   0x20
#define REGC_UF   0x10
/* Register D */
#define REGD_VRT  0x80

#define DV_NORMAL 0x20          /* 010: 32.768 kHz time base */
#define T_BUC_NS  244000        /* UIP rises this long before the update */
#define T_UC_NS   1984000       /* update cycle */
#define OSC_HZ    32768
#define RTC_NEVER INT64_MAX
/* Guest time is int64 ns from 1970; the century byte is plain RAM, so
 * keep what it can name inside the range that arithmetic covers. */
#define RTC_YEAR_MIN 1900
#define RTC_YEAR_MAX 2199

enum { BASE_UTC, BASE_LOCALTIME };
static const char *const rtc_bases[] = { "utc", "localtime", NULL };

typedef struct Rtc {
    TessDevice dev;
    uint64_t port;
    char *file;
    char *boot_order;
    int base;
    bool fpu;
    TessSignal *irq[1];

    uint8_t cmos[128];
    uint8_t index;
    uint8_t nmi_disable;
    uint8_t flags;              /* PF AF UF, as in register C */
    uint8_t irq_level;
    uint8_t halted;             /* divider chain held in reset (DV = 11x) */
    int64_t offset_ns;          /* guest time = wall time + offset */
    int64_t halt_time;          /* guest time while halted */
    int64_t sync_time;          /* guest time up to which flags are counted */

    TessTimer *timer;
} Rtc;

/* ---- calendar ----------------------------------------------------------- */

static int64_t rtc_floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = rtc_floordiv(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = rtc_floordiv(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    return days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) -
           days_from_civil(y, m, 1);
}

static int64_t last_sunday(int64_t y, unsigned m)
{
    int64_t last = days_from_civil(y, m, days_in_month(y, m));
    return last - (((last + 4) % 7 + 7) % 7);
}

/* DSE: the MC146818A's daylight-saving rule (last Sunday in April
 * 1:59:59 -> 3:00:00, last Sunday in October 1:59:59 -> 1:00:00), as a
 * window of standard time. */
static bool rtc_in_dst(int64_t std_sec)
{
    int64_t y;
    unsigned m, d;
    civil_from_days(rtc_floordiv(std_sec, 86400), &y, &m, &d);
    int64_t start = last_sunday(y, 4) * 86400 + 2 * 3600;
    int64_t end = last_sunday(y, 10) * 86400 + 1 * 3600;
    return std_sec >= start && std_sec < end;
}

/* ---- register formats ----------------------------------------------------- */

static uint8_t rtc_enc(Rtc *r, unsigned v)
{
    if (r->cmos[RTC_REG_B] & REGB_DM)
        return v;
    return ((v / 10) % 10) << 4 | (v % 10);
}

static unsigned rtc_dec(Rtc *r, uint8_t b)
{
    if (r->cmos[RTC_REG_B] & REGB_DM)
        return b;
    return (b >> 4) * 10 + (b & 15);
}

static uint8_t rtc_enc_hour(Rtc *r, unsigned h)
{
    if (r->cmos[RTC_REG_B] & REGB_24H)
        return rtc_enc(r, h);
    unsigned h12 = h % 12 ? h % 12 : 12;
    return rtc_enc(r, h12) | (h >= 12 ? 0x80 : 0);
}

static unsigned rtc_dec_hour(Rtc *r, uint8_t b)
{
    if (r->cmos[RTC_REG_B] & REGB_24H)
        return rtc_dec(r, b);
    return rtc_dec(r, b & 0x7F) % 12 + ((b & 0x80) ? 12 : 0);
}

/* Seconds as the clock shows them (DSE applied). */
static int64_t rtc_shown_sec(Rtc *r, int64_t sec)
{
    if ((r->cmos[RTC_REG_B] & REGB_DSE) && rtc_in_dst(sec))
        return sec + 3600;
    return sec;
}

/* ---- time --------------------------------------------------------------- */

static bool rtc_running(Rtc *r)
{
    return !r->halted;
}

static int64_t rtc_time(Rtc *r)
{
    if (r->halted)
        return r->halt_time;
    int64_t t;
    if (__builtin_add_overflow(tess_clock_wall_ns(r->dev.machine), r->offset_ns, &t))
        t = r->offset_ns > 0 ? INT64_MAX / 2 : INT64_MIN / 2;
    return t;
}

static int64_t rtc_sec_of(int64_t t)
{
    return rtc_floordiv(t, NS_PER_SEC);
}

static int64_t rtc_frac_of(int64_t t)
{
    return t - rtc_sec_of(t) * NS_PER_SEC;
}

/* Guest time becomes t (keeps the flag count consistent). */
static void rtc_set_time(Rtc *r, int64_t t)
{
    if (r->halted)
        r->halt_time = t;
    else if (__builtin_sub_overflow(t, tess_clock_wall_ns(r->dev.machine), &r->offset_ns))
        r->offset_ns = 0;
    r->sync_time = t;
}

/* Write the time and calendar registers for time t. */
static void rtc_materialize(Rtc *r, int64_t t)
{
    int64_t sec = rtc_shown_sec(r, rtc_sec_of(t));
    int64_t days = rtc_floordiv(sec, 86400);
    int64_t sod = sec - days * 86400;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    uint8_t *c = r->cmos;
    c[RTC_SECONDS] = rtc_enc(r, sod % 60);
    c[RTC_MINUTES] = rtc_enc(r, (sod / 60) % 60);
    c[RTC_HOURS] = rtc_enc_hour(r, sod / 3600);
    c[RTC_DAY_OF_WEEK] = rtc_enc(r, ((days + 4) % 7 + 7) % 7 + 1);
    c[RTC_DATE_OF_MONTH] = rtc_enc(r, d);
    c[RTC_MONTH] = rtc_enc(r, m);
    c[RTC_YEAR] = rtc_enc(r, ((y % 100) + 100) % 100);
    c[CMOS_CENTURY] = rtc_enc(r, (unsigned)(rtc_floordiv(y, 100) % 100 + 100) % 100);
}

/* Guest time from the registers, keeping the divider phase `frac`.
 * Out-of-range fields are clamped (a real chip would count through
 * them to the next rollover; nothing depends on that). */
static int64_t rtc_from_regs(Rtc *r, int64_t frac)
{
    uint8_t *c = r->cmos;
    unsigned s = rtc_dec(r, c[RTC_SECONDS]), mi = rtc_dec(r, c[RTC_MINUTES]);
    unsigned h = rtc_dec_hour(r, c[RTC_HOURS]);
    unsigned d = rtc_dec(r, c[RTC_DATE_OF_MONTH]), mo = rtc_dec(r, c[RTC_MONTH]);
    int64_t y = rtc_dec(r, c[RTC_YEAR]) % 100 + 100 * (rtc_dec(r, c[CMOS_CENTURY]) % 100);
    if (s > 59 || mi > 59 || h > 23 || mo < 1 || mo > 12 || d < 1)
        tess_guest_error(&r->dev, "time registers out of range: %02x:%02x:%02x %02x/%02x",
                         c[RTC_HOURS], c[RTC_MINUTES], c[RTC_SECONDS],
                         c[RTC_MONTH], c[RTC_DATE_OF_MONTH]);
    if (y < RTC_YEAR_MIN || y > RTC_YEAR_MAX)
        tess_guest_error(&r->dev, "year %" G_GINT64_FORMAT " (century byte %02x) clamped",
                         y, c[CMOS_CENTURY]);
    y = CLAMP(y, RTC_YEAR_MIN, RTC_YEAR_MAX);
    s = MIN(s, 59);
    mi = MIN(mi, 59);
    h = MIN(h, 23);
    mo = CLAMP(mo, 1, 12);
    d = CLAMP(d, 1, days_in_month(y, mo));
    int64_t sec = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    if ((c[RTC_REG_B] & REGB_DSE) && rtc_in_dst(sec - 3600))
        sec -= 3600;
    return sec * NS_PER_SEC + frac;
}

/* ---- events ---------------------------------------------------------------- */

static uint32_t rtc_period_cycles(Rtc *r)
{
    unsigned rs = r->cmos[RTC_REG_A] & REGA_RS;
    if (!rs)
        return 0;
    if (rs <= 2)
        return 1u << (rs + 7);      /* 256 and 512 cycles: 3.90625 / 7.8125 ms */
    return 1u << (rs - 1);
}

static int64_t rtc_cycles_of(int64_t t)
{
    return (int64_t)(((__int128)t * OSC_HZ - (t < 0 ? NS_PER_SEC - 1 : 0)) / NS_PER_SEC);
}

static int64_t rtc_time_of_cycles(int64_t cyc)
{
    __int128 x = (__int128)cyc * NS_PER_SEC;
    return (int64_t)((x + (x >= 0 ? OSC_HZ - 1 : 0)) / OSC_HZ);
}

static bool rtc_alarm_field_ok(Rtc *r, uint8_t a, unsigned limit, bool hour)
{
    if ((a & 0xC0) == 0xC0)
        return true;
    for (unsigned v = 0; v < limit; v++)
        if ((hour ? rtc_enc_hour(r, v) : rtc_enc(r, v)) == a)
            return true;
    return false;
}

static bool rtc_alarm_match(uint8_t alarm, uint8_t reg)
{
    return (alarm & 0xC0) == 0xC0 || alarm == reg;
}

/* First second s in [from, to] at which the alarm matches, or RTC_NEVER. */
static int64_t rtc_next_alarm(Rtc *r, int64_t from, int64_t to)
{
    uint8_t as = r->cmos[RTC_SECONDS_ALARM], am = r->cmos[RTC_MINUTES_ALARM];
    uint8_t ah = r->cmos[RTC_HOURS_ALARM];
    if (!rtc_alarm_field_ok(r, as, 60, false) || !rtc_alarm_field_ok(r, am, 60, false) ||
        !rtc_alarm_field_ok(r, ah, 24, true))
        return RTC_NEVER;
    /* Every pattern recurs within a day (plus an hour for DSE). */
    int64_t minute = rtc_floordiv(from, 60) * 60;
    for (unsigned k = 0; k <= 25 * 60 && minute <= to; k++, minute += 60) {
        int64_t shown = rtc_shown_sec(r, minute);
        int64_t sod = shown - rtc_floordiv(shown, 86400) * 86400;
        if (!rtc_alarm_match(ah, rtc_enc_hour(r, sod / 3600)) ||
            !rtc_alarm_match(am, rtc_enc(r, (sod / 60) % 60)))
            continue;
        for (unsigned s = 0; s < 60; s++) {
            int64_t cand = minute + s;
            if (cand < from)
                continue;
            if (cand > to)
                return RTC_NEVER;
            if (rtc_alarm_match(as, rtc_enc(r, s)))
                return cand;
        }
    }
    return RTC_NEVER;
}

static bool rtc_updating(Rtc *r)
{
    return rtc_running(r) && !(r->cmos[RTC_REG_B] & REGB_SET);
}

/* Count the events between sync_time and now into the flags. */
static void rtc_sync(Rtc *r)
{
    int64_t now = rtc_time(r);
    int64_t t0 = r->sync_time;
    r->sync_time = now;
    if (now <= t0 || !rtc_running(r))
        return;
    uint32_t p = rtc_period_cycles(r);
    if (p && rtc_floordiv(rtc_cycles_of(now), p) > rtc_floordiv(rtc_cycles_of(t0), p))
        r->flags |= REGC_PF;
    if (rtc_updating(r)) {
        int64_t s0 = rtc_sec_of(t0), s1 = rtc_sec_of(now);
        if (s1 > s0) {
            r->flags |= REGC_UF;
            if (!(r->flags & REGC_AF) && rtc_next_alarm(r, s0 + 1, s1) != RTC_NEVER)
                r->flags |= REGC_AF;
        }
    }
}

static void rtc_arm(Rtc *r);

static void rtc_update_irq(Rtc *r)
{
    rtc_sync(r);
    bool level = r->flags & r->cmos[RTC_REG_B] & (REGC_PF | REGC_AF | REGC_UF);
    r->irq_level = level;
    tess_signal_set(r->irq[0], level);
    rtc_arm(r);
}

static void rtc_arm(Rtc *r)
{
    uint8_t b = r->cmos[RTC_REG_B];
    if (r->irq_level || !rtc_running(r)) {
        tess_timer_cancel(r->timer);
        return;
    }
    int64_t now = rtc_time(r), next = RTC_NEVER;
    uint32_t p = rtc_period_cycles(r);
    if ((b & REGB_PIE) && p) {
        int64_t k = rtc_floordiv(rtc_cycles_of(now), p) + 1;
        next = MIN(next, rtc_time_of_cycles(k * p));
    }
    if (rtc_updating(r)) {
        int64_t s = rtc_sec_of(now) + 1;
        if (b & REGB_UIE)
            next = MIN(next, s * NS_PER_SEC);
        if (b & REGB_AIE) {
            int64_t a = rtc_next_alarm(r, s, s + 26 * 3600);
            if (a != RTC_NEVER)
                next = MIN(next, a * NS_PER_SEC);
        }
    }
    if (next == RTC_NEVER) {
        tess_timer_cancel(r->timer);
        return;
    }
    tess_timer_arm_in(r->timer, next > now ? (uint64_t)(next - now) : 0);
}

static void rtc_timer_cb(void *opaque)
{
    rtc_update_irq(opaque);
}

/* ---- ports -------------------------------------------------------------- */

static bool rtc_is_time_reg(unsigned i)
{
    return i == RTC_SECONDS || i == RTC_MINUTES || i == RTC_HOURS ||
           (i >= RTC_DAY_OF_WEEK && i <= RTC_YEAR) || i == CMOS_CENTURY;
}

static void rtc_write_a(Rtc *r, uint8_t v)
{
    bool was_halted = r->halted;
    r->cmos[RTC_REG_A] = v & ~REGA_UIP;
    bool reset = (v & 0x60) == 0x60;
    if ((v & REGA_DV) != DV_NORMAL && !reset)
        tess_guest_error(&r->dev, "register A: DV=%u does not fit the 32.768 kHz crystal",
                         (v >> 4) & 7);
    if (reset && !was_halted) {
        r->halt_time = rtc_time(r);
        r->halted = 1;
    } else if (!reset && was_halted) {
        /* The first update comes 500 ms after the divider is released. */
        int64_t t = rtc_sec_of(r->halt_time) * NS_PER_SEC + NS_PER_SEC / 2;
        r->halted = 0;
        rtc_set_time(r, t);
    }
}

static void rtc_write_b(Rtc *r, uint8_t v)
{
    uint8_t old = r->cmos[RTC_REG_B];
    if (v & REGB_SET)
        v &= ~REGB_UIE;             /* SET going high clears UIE */
    if ((v & REGB_SET) && !(old & REGB_SET))
        rtc_materialize(r, rtc_time(r));
    r->cmos[RTC_REG_B] = v;
    if (!(v & REGB_SET) && (old & REGB_SET))
        rtc_set_time(r, rtc_from_regs(r, rtc_frac_of(rtc_time(r))));
}

static void rtc_data_write(Rtc *r, uint8_t v)
{
    unsigned i = r->index;
    rtc_sync(r);
    switch (i) {
    case RTC_REG_A:
        rtc_write_a(r, v);
        break;
    case RTC_REG_B:
        rtc_write_b(r, v);
        break;
    case RTC_REG_C:
    case RTC_REG_D:
        break;                      /* read-only */
    default:
        if (rtc_is_time_reg(i) && !(r->cmos[RTC_REG_B] & REGB_SET)) {
            /* Setting one field of a running clock. */
            int64_t t = rtc_time(r);
            rtc_materialize(r, t);
            r->cmos[i] = v;
            rtc_set_time(r, rtc_from_regs(r, rtc_frac_of(t)));
        } else {
            r->cmos[i] = v;
        }
        break;
    }
    rtc_update_irq(r);
}

static uint8_t rtc_data_read(Rtc *r)
{
    unsigned i = r->index;
    switch (i) {
    case RTC_REG_A: {
        uint8_t v = r->cmos[RTC_REG_A];
        if (rtc_updating(r) && rtc_frac_of(rtc_time(r)) >= NS_PER_SEC - T_BUC_NS - T_UC_NS)
            v |= REGA_UIP;
        return v;
    }
    case RTC_REG_C: {
        rtc_sync(r);
        uint8_t v = r->flags;
        if (r->flags & r->cmos[RTC_REG_B] & (REGC_PF | REGC_AF | REGC_UF))
            v |= REGC_IRQF;
        r->flags = 0;
        rtc_update_irq(r);
        return v;
    }
    case RTC_REG_D:
        return REGD_VRT;
    default:
        if (rtc_is_time_reg(i) && !(r->cmos[RTC_REG_B] & REGB_SET))
            rtc_materialize(r, rtc_time(r));
        return r->cmos[i];
    }
}

static uint64_t rtc_read(void *opaque, uint64_t off, unsigned size)
{
    Rtc *r = opaque;
    if (off == 0)
        return 0xFF;                /* the index port is write-only */
    return rtc_data_read(r);
}

static void rtc_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    Rtc *r = opaque;
    if (off == 0) {
        r->index = val & 0x7F;
        r->nmi_disable = !!(val & 0x80);
    } else {
        rtc_data_write(r, val);
    }
}

static const TessIoOps rtc_io = {
    .read = rtc_read,
    .write = rtc_write,
    .widths = TESS_W8,
};

/* ---- configuration bytes --------------------------------------------------- */

static bool rtc_boot_order(Rtc *r, GError **err)
{
    const char *s = r->boot_order ? r->boot_order : "";
    unsigned code[3] = { 0, 0, 0 };
    size_t n = strlen(s);
    if (n > 3) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "boot-order '%s': at most three devices", s);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case 'a': code[i] = 1; break;   /* floppy */
        case 'c': code[i] = 2; break;   /* hard disk */
        case 'd': code[i] = 3; break;   /* CD-ROM */
        case 'n': code[i] = 4; break;   /* network (BEV) */
        default:
            g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                        "boot-order '%s': '%c' is not one of a, c, d, n", s, s[i]);
            return false;
        }
    }
    if (n) {
        r->cmos[0x3D] = code[0] | code[1] << 4;
        r->cmos[0x38] = code[2] << 4 | 0x01;    /* bit 0: skip the floppy signature check */
    }
    return true;
}

static void rtc_config_bytes(Rtc *r)
{
    TessMachine *m = r->dev.machine;
    uint64_t below = tess_machine_ram_below_4g(m);
    uint64_t above = tess_machine_ram_size(m) > below ? tess_machine_ram_size(m) - below : 0;
    uint8_t *c = r->cmos;

    c[0x14] = r->fpu ? 0x06 : 0x04; /* equipment: PS/2 mouse, EGA/VGA, no floppies, FPU (bit 1) */
    c[0x15] = 640 & 0xFF;           /* base memory in KiB */
    c[0x16] = 640 >> 8;
    uint64_t ext = below > 0x100000 ? (below - 0x100000) / 1024 : 0;
    ext = MIN(ext, 0xFFFF);
    c[0x17] = c[0x30] = ext & 0xFF;
    c[0x18] = c[0x31] = ext >> 8;
    uint64_t ext16 = below > 0x1000000 ? (below - 0x1000000) >> 16 : 0;
    ext16 = MIN(ext16, 0xFFFF);
    c[0x34] = ext16 & 0xFF;
    c[0x35] = ext16 >> 8;
    uint64_t hi = MIN(above >> 16, 0xFFFFFF);
    c[0x5B] = hi & 0xFF;
    c[0x5C] = (hi >> 8) & 0xFF;
    c[0x5D] = hi >> 16;
    c[0x5F] = 0;                    /* CPUs - 1 */
}

static void rtc_checksum(Rtc *r)
{
    unsigned sum = 0;
    for (unsigned i = 0x10; i <= 0x2D; i++)
        sum += r->cmos[i];
    r->cmos[0x2E] = sum >> 8;
    r->cmos[0x2F] = sum & 0xFF;
}

static bool rtc_load_file(Rtc *r, GError **err)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) ferr = NULL;
    if (!g_file_get_contents(r->file, &data, &len, &ferr)) {
        if (g_error_matches(ferr, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return true;            /* created at power-off */
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO, "NVRAM file %s: %s",
                    r->file, ferr->message);
        return false;
    }
    if (len != sizeof(r->cmos)) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_INVALID,
                    "NVRAM file %s: %" G_GSIZE_FORMAT " bytes, expected %zu",
                    r->file, len, sizeof(r->cmos));
        return false;
    }
    /* Time and status registers come from the clock, not the file. */
    memcpy(r->cmos + RTC_REG_A, data + RTC_REG_A, 2);
    memcpy(r->cmos + 0x0E, data + 0x0E, sizeof(r->cmos) - 0x0E);
    memcpy(r->cmos + RTC_SECONDS_ALARM, data + RTC_SECONDS_ALARM, 1);
    memcpy(r->cmos + RTC_MINUTES_ALARM, data + RTC_MINUTES_ALARM, 1);
    memcpy(r->cmos + RTC_HOURS_ALARM, data + RTC_HOURS_ALARM, 1);
    r->cmos[RTC_REG_A] &= ~REGA_UIP;
    r->cmos[RTC_REG_B] &= ~(REGB_SET | REGB_PIE | REGB_AIE | REGB_UIE | REGB_SQWE);
    return true;
}

static bool rtc_realize(TessDevice *dev, GError **err)
{
    Rtc *r = (Rtc *)dev;
    memset(r->cmos, 0, sizeof(r->cmos));
    r->cmos[RTC_REG_A] = DV_NORMAL | 0x06;  /* 32.768 kHz, 1024 Hz periodic rate */
    r->cmos[RTC_REG_B] = REGB_24H;
    r->cmos[RTC_REG_D] = REGD_VRT;
    if (r->file && *r->file && !rtc_load_file(r, err))
        return false;
    rtc_config_bytes(r);
    if (!rtc_boot_order(r, err))
        return false;
    rtc_checksum(r);
    if ((r->cmos[RTC_REG_A] & 0x60) == 0x60) {
        r->halted = 1;
        r->halt_time = tess_clock_wall_ns(dev->machine);
    }

    r->offset_ns = 0;
    if (r->base == BASE_LOCALTIME && !tess_clock_deterministic(dev->machine)) {
        g_autoptr(GDateTime) now = g_date_time_new_now_local();
        r->offset_ns = (int64_t)(g_date_time_get_utc_offset(now) / G_TIME_SPAN_SECOND) * NS_PER_SEC;
    }
    r->sync_time = rtc_time(r);
    r->timer = tess_timer_new(dev, rtc_timer_cb, r);
    return tess_pio_map(dev, (uint32_t)r->port, 2, &rtc_io, r, err);
}

static void rtc_unrealize(TessDevice *dev)
{
    Rtc *r = (Rtc *)dev;
    /* validate (dry) never ran the machine: nothing to keep */
    if (!r->file || !*r->file || tess_machine_dry_run(dev->machine))
        return;
    if (!(r->cmos[RTC_REG_B] & REGB_SET))
        rtc_materialize(r, rtc_time(r));
    g_autoptr(GError) err = NULL;
    if (!g_file_set_contents(r->file, (const char *)r->cmos, sizeof(r->cmos), &err))
        g_warning("%s: cannot save NVRAM: %s", dev->id, err->message);
}

static void rtc_reset(TessDevice *dev)
{
    Rtc *r = (Rtc *)dev;
    /* RESET pin: PIE AIE UIE SQWE and the flags clear; time and RAM stay. */
    rtc_sync(r);
    r->cmos[RTC_REG_B] &= ~(REGB_PIE | REGB_AIE | REGB_UIE | REGB_SQWE);
    r->flags = 0;
    r->nmi_disable = 0;
    rtc_update_irq(r);
}

static bool rtc_post_load(TessDevice *dev, uint32_t version, GError **err)
{
    Rtc *r = (Rtc *)dev;
    /* The time (running or halted) and the time the flags are counted
     * to lie where the registers can show them: the event arithmetic
     * (seconds and cycles as nanoseconds) holds there and not beyond. */
    const int64_t lo = days_from_civil(RTC_YEAR_MIN, 1, 1) * 86400 * NS_PER_SEC;
    const int64_t hi = days_from_civil(RTC_YEAR_MAX + 1, 1, 1) * 86400 * NS_PER_SEC;
    int64_t t = rtc_time(r);
    if (t < lo || t >= hi || r->sync_time < lo || r->sync_time >= hi) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_INVALID,
                    "%s: clock time %" G_GINT64_FORMAT " ns (counted to %" G_GINT64_FORMAT
                    " ns) is outside the years %d-%d the RTC keeps", dev->id, t,
                    r->sync_time, RTC_YEAR_MIN, RTC_YEAR_MAX);
        return false;
    }
    tess_signal_set(r->irq[0], r->irq_level);
    rtc_arm(r);
    return true;
}

static const TessPropSpec rtc_props[] = {
    TESS_PROP_UINT_("port", Rtc, port, "0x70", 0, 0xFFFE, "index/data port pair"),
    TESS_PROP_PATH_("file", Rtc, file, NULL,
                    "NVRAM backing file (128 bytes): loaded at power-on, saved at power-off"),
    TESS_PROP_STRING_("boot-order", Rtc, boot_order, "cdn",
                      "boot devices for SeaBIOS, up to three of a (floppy), c (disk), d (CD), n (network)"),
    TESS_PROP_BOOL_("fpu", Rtc, fpu, "true",
                    "equipment byte: a math coprocessor is fitted (false with the 486SX model)"),
    TESS_PROP_ENUM_("base", Rtc, base, "utc", rtc_bases,
                    "clock base: utc or the host's localtime (deterministic runs always use utc)"),
    TESS_PROP_END,
};

static const TessLineSpec rtc_lines[] = {
    TESS_LINE_OUT_("irq", 1, Rtc, irq, "IRQ (IRQ 8 on a PC), high while IRQF is set"),
    TESS_LINE_END,
};

static const TessStateField rtc_state_fields[] = {
    TESS_STATE_BUF(Rtc, cmos),
    TESS_STATE_U8(Rtc, index),
    TESS_STATE_U8(Rtc, nmi_disable),
    TESS_STATE_U8(Rtc, flags),
    TESS_STATE_U8(Rtc, irq_level),
    TESS_STATE_U8(Rtc, halted),
    TESS_STATE_U64(Rtc, offset_ns),
    TESS_STATE_U64(Rtc, halt_time),
    TESS_STATE_U64(Rtc, sync_time),
    TESS_STATE_END,
};

static const TessStateDesc rtc_state = {
    .version = 1,
    .fields = rtc_state_fields,
    .post_load = rtc_post_load,
};

static const TessDeviceClass rtc_class = {
    .type = "rtc-cmos",
    .kind = TESS_CLASS_DEVICE,
    .doc = "Motorola MC146818A real-time clock and PC/AT CMOS RAM",
    .instance_size = sizeof(Rtc),
    .props = rtc_props,
    .lines = rtc_lines,
    .state = &rtc_state,
    .realize = rtc_realize,
    .reset = rtc_reset,
    .unrealize = rtc_unrealize,
};

static bool rtc_plugin_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &rtc_class, err);
}

TESS_PLUGIN_DEFINE("rtc-cmos", "0.1.0", "LGPL-2.1-or-later",
                   "MC146818A RTC and CMOS RAM", rtc_plugin_init);
