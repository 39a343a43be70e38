/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The SB16's OPL3 (Yamaha YMF262): synthesis by Nuked OPL3 (Debian's
 * libadplug), the part the library leaves out by this model: the address
 * latches of both register banks, the two timers and the status register
 * that AdLib detection routines poll (YMF262 data sheet, registers 02h-04h).
 *
 * Sound is rendered lazily at the chip's own rate (49716 Hz): up to the
 * moment of each register write, so a note starts when the guest wrote
 * it, and up to the mix on every sync.
 */
#define G_LOG_DOMAIN "sb16"

#include "sb16.h"

/* Timer 1 counts 80 us, timer 2 320 us per step, up from the preset to 256. */
static uint64_t opl_period(const SbOpl *o, unsigned t)
{
    return (uint64_t)(256 - o->timer[t]) * (t == 0 ? 80000u : 320000u);
}

/* A running timer overflows every period from its start, whether or not
 * anyone looks: a flag is latched when an overflow fell after the flags
 * were last reset. Computed when the status is read or reg 4 changes. */
static void opl_timers_update(Sb16 *s)
{
    SbOpl *o = &s->opl;
    uint64_t now = tess_clock_ns(s->dev.machine);
    for (unsigned t = 0; t < 2; t++) {
        uint8_t start = t == 0 ? 0x01 : 0x02;
        uint8_t mask = t == 0 ? 0x40 : 0x20;
        if (!(o->ctrl & start) || (o->ctrl & mask))
            continue;
        uint64_t p = opl_period(o, t);
        if ((now - o->start_ns[t]) / p > (o->ack_ns[t] - o->start_ns[t]) / p)
            o->flags |= mask;
    }
}

uint8_t sb_opl_status(Sb16 *s)
{
    opl_timers_update(s);
    uint8_t f = s->opl.flags & 0x60;
    return f ? (f | 0x80) : 0;          /* OPL3: bits 2-1 read 0 (0x06 on an OPL2) */
}

void sb_opl_write_addr(Sb16 *s, unsigned bank, uint8_t v)
{
    /* Bank 1 registers exist only in OPL3 mode, except 0x105 itself. */
    s->opl.addr = (uint16_t)((bank ? 0x100 : 0) | v);
}

/* No key down and every envelope at full attenuation: the chip is
 * silent until a register write, so rendering it would be wasted work
 * (a guest that never plays FM costs nothing). */
static bool opl_silent(const SbOpl *o)
{
    for (unsigned i = 0; i < 36; i++)
        if (o->chip.slot[i].key || o->chip.slot[i].eg_rout < 0x1FF)
            return false;
    return true;
}

static void opl_render(Sb16 *s, uint64_t now)
{
    SbOpl *o = &s->opl;
    if (now <= o->rendered_ns)
        return;
    uint64_t n = (now - o->rendered_ns) * OPL_RATE / TESS_NS_PER_SEC;
    if (n == 0)
        return;
    if (!tess_audio_active(s->dev.machine) || n > OPL_RATE || opl_silent(o)) {
        /* Nobody listens, nothing sounds, or a long silence of the
         * machine: skip ahead. */
        o->rendered_ns += n * TESS_NS_PER_SEC / OPL_RATE;
        return;
    }
    int16_t buf[2 * 256];
    uint64_t t = o->rendered_ns;
    uint64_t done = 0;
    while (done < n) {
        unsigned k = (unsigned)MIN(n - done, 256u);
        for (unsigned i = 0; i < k; i++)
            OPL3_Generate(&o->chip, &buf[2 * i]);
        tess_audio_stream_push(s->fm_out, t + done * TESS_NS_PER_SEC / OPL_RATE, buf, k);
        done += k;
    }
    o->rendered_ns = t + n * TESS_NS_PER_SEC / OPL_RATE;
}

void sb_opl_sync(void *opaque, uint64_t now)
{
    opl_render(opaque, now);
}

void sb_opl_write_data(Sb16 *s, uint8_t v)
{
    SbOpl *o = &s->opl;
    uint16_t a = o->addr;
    opl_render(s, tess_clock_ns(s->dev.machine));
    switch (a) {
    case 0x002:
    case 0x003:
        o->timer[a - 2] = v;
        return;
    case 0x004:
        opl_timers_update(s);
        if (v & 0x80) {                 /* IRQ reset: clear the flags, nothing else */
            o->flags = 0;
            o->ack_ns[0] = o->ack_ns[1] = tess_clock_ns(s->dev.machine);
            return;
        }
        for (unsigned t = 0; t < 2; t++) {
            uint8_t start = t == 0 ? 0x01 : 0x02;
            if ((v & start) && !(o->ctrl & start))
                o->start_ns[t] = o->ack_ns[t] = tess_clock_ns(s->dev.machine);
        }
        o->ctrl = v & 0x63;
        o->flags &= ~(v & 0x60);        /* a masked timer's flag is cleared */
        return;
    case 0x105:
        o->opl3 = v & 1;
        break;
    default:
        if ((a & 0x100) && !o->opl3 && a != 0x104)
            return;                     /* bank 1 is absent in OPL2 mode */
        break;
    }
    o->regs[a & 0x1FF] = v;
    OPL3_WriteReg(&o->chip, a, v);
}

/* The synthesis state is rebuilt from the registers: notes that were
 * sounding start again from their attack. */
void sb_opl_post_load(Sb16 *s)
{
    SbOpl *o = &s->opl;
    OPL3_Reset(&o->chip, OPL_RATE);
    OPL3_WriteReg(&o->chip, 0x105, o->regs[0x105]);
    OPL3_WriteReg(&o->chip, 0x104, o->regs[0x104]);
    for (unsigned a = 0x20; a < 0x200; a++)
        if ((a & 0xFF) >= 0x20 && a != 0x104 && a != 0x105)
            OPL3_WriteReg(&o->chip, (uint16_t)a, o->regs[a]);
    o->rendered_ns = tess_clock_ns(s->dev.machine);
}

void sb_opl_reset(Sb16 *s)
{
    SbOpl *o = &s->opl;
    OPL3_Reset(&o->chip, OPL_RATE);
    memset(o->regs, 0, sizeof(o->regs));
    o->addr = 0;
    o->timer[0] = o->timer[1] = 0;
    o->ctrl = 0;
    o->flags = 0;
    o->opl3 = 0;
    o->rendered_ns = tess_clock_ns(s->dev.machine);
}

/* 0x388-0x38B: the AdLib-compatible ports (bank 0 at 388/389, bank 1 at
 * 38A/38B). */
static uint64_t adlib_read(void *opaque, uint64_t off, unsigned size)
{
    Sb16 *s = opaque;
    return (off & 1) ? 0xFF : sb_opl_status(s);
}

static void adlib_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    Sb16 *s = opaque;
    if (off & 1)
        sb_opl_write_data(s, (uint8_t)v);
    else
        sb_opl_write_addr(s, off >> 1, (uint8_t)v);
}

const TessIoOps sb_adlib_io = { .read = adlib_read, .write = adlib_write, .widths = TESS_W8 };

bool sb_opl_realize(Sb16 *s, GError **err)
{
    s->fm_out = tess_audio_stream_new(&s->dev, "fm", OPL_RATE, 2, sb_opl_sync, s, err);
    if (!s->fm_out)
        return false;
    if (s->adlib && !tess_pio_map(&s->dev, 0x388, 4, &sb_adlib_io, s, err))
        return false;
    return true;
}
