/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Creative Sound Blaster 16: the DSP (4.05), its DMA playback and
 * recording engine, the CT1745 mixer and the MPU-401 in UART mode. The
 * OPL3 is in sb16-opl.c.
 *
 * Ports from `port` (Hardware Programming Guide, "I/O addresses"):
 *   +0..+3 OPL3   +4/+5 mixer index/data   +6 DSP reset   +8/+9 OPL (bank 0)
 *   +A read data   +C write command/data (read: b7 busy)
 *   +E read-buffer status (b7 data ready; reading acknowledges the 8-bit IRQ)
 *   +F reading acknowledges the 16-bit IRQ
 *
 * The DSP consumes DMA in virtual time at the programmed rate: a timer
 * fetches what is due (DRQ up until the 8237 delivered it), decodes it into
 * the "dsp" sound stream at the time it plays, and at the end of each
 * block raises the 8- or 16-bit interrupt. A masked or unprogrammed DMA
 * channel stalls the DSP, which plays silence meanwhile, as the card does.
 */
#define G_LOG_DOMAIN "sb16"

#include "sb16.h"
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#define SB_TICK_NS 2000000ull        /* fetch DMA at least every 2 ms of audio */
#define DAC_RATE 22050u
#define DAC_HOLD_NS 100000000ull     /* a direct-mode level plays this long after its write */

static const char sb_copyright[] = "COPYRIGHT (C) CREATIVE TECHNOLOGY LTD, 1992.";

/* ---- interrupts ---------------------------------------------------------- */

static void sb_irq_update(Sb16 *s)
{
    bool on = s->irq_status != 0;
    uint8_t sel = s->mixer[0x80];
    tess_signal_set(s->irq2[0], on && (sel & 0x01));
    tess_signal_set(s->irq5[0], on && (sel & 0x02));
    tess_signal_set(s->irq7[0], on && (sel & 0x04));
    tess_signal_set(s->irq10[0], on && (sel & 0x08));
}

static void sb_raise(Sb16 *s, uint8_t which)
{
    s->irq_status |= which;
    sb_irq_update(s);
}

static void sb_ack(Sb16 *s, uint8_t which)
{
    s->irq_status &= ~which;
    sb_irq_update(s);
}

/* ---- DSP output queue ---------------------------------------------------- */

static void sb_out(Sb16 *s, uint8_t v)
{
    if (s->outq_len < sizeof(s->outq))
        s->outq[(s->outq_head + s->outq_len++) % sizeof(s->outq)] = v;
}

static uint8_t sb_out_pop(Sb16 *s)
{
    if (!s->outq_len)
        return s->outq[(s->outq_head + sizeof(s->outq) - 1) % sizeof(s->outq)];
    uint8_t v = s->outq[s->outq_head];
    s->outq_head = (s->outq_head + 1) % sizeof(s->outq);
    s->outq_len--;
    return v;
}

/* ---- mixer volumes -------------------------------------------------------- */

/* CT1745 volumes: 5 bits in b7-b3, 2 dB steps from -62 dB (0) to 0 dB (31). */
static unsigned sb_gain(uint8_t reg)
{
    unsigned v = reg >> 3;
    if (v == 0)
        return 0;
    return (unsigned)lround(65536.0 * pow(10.0, (double)((int)v - 31) * 2.0 / 20.0));
}

void sb_update_volumes(Sb16 *s)
{
    unsigned ml = sb_gain(s->mixer[0x30]), mr = sb_gain(s->mixer[0x31]);
    if (s->dsp_out) {
        unsigned vl = sb_gain(s->mixer[0x32]), vr = sb_gain(s->mixer[0x33]);
        unsigned l = (unsigned)(((uint64_t)ml * vl) >> 16), r = (unsigned)(((uint64_t)mr * vr) >> 16);
        tess_audio_stream_set_volume(s->dsp_out, l, r);
        tess_audio_stream_set_volume(s->dac_out, l, r);
    }
    if (s->fm_out) {
        unsigned fl = sb_gain(s->mixer[0x34]), fr = sb_gain(s->mixer[0x35]);
        tess_audio_stream_set_volume(s->fm_out, (unsigned)(((uint64_t)ml * fl) >> 16),
                                     (unsigned)(((uint64_t)mr * fr) >> 16));
    }
}

static void sb_mixer_reset(Sb16 *s)
{
    uint8_t irqsel = s->mixer[0x80], dmasel = s->mixer[0x81];
    memset(s->mixer, 0, sizeof(s->mixer));
    /* CT1745 power-on values: master, voice and MIDI at -14 dB (24), the
     * rest muted; output switches pass line, CD and mic. */
    for (unsigned r = 0x30; r <= 0x35; r++)
        s->mixer[r] = 24 << 3;
    s->mixer[0x3C] = 0x1F;
    s->mixer[0x3D] = 0x15;
    s->mixer[0x3E] = 0x0B;
    s->mixer[0x44] = s->mixer[0x45] = s->mixer[0x46] = s->mixer[0x47] = 0x80;
    s->mixer[0x80] = irqsel;
    s->mixer[0x81] = dmasel;
    sb_update_volumes(s);
}

/* SB Pro compatibility registers map onto the SB16 pairs (4-bit volumes). */
static void sb_mixer_write(Sb16 *s, uint8_t idx, uint8_t v)
{
    switch (idx) {
    case 0x00:
        sb_mixer_reset(s);
        return;
    case 0x04: case 0x22: case 0x26: case 0x28: case 0x2E: {
        uint8_t base = idx == 0x04 ? 0x32 : idx == 0x22 ? 0x30 : idx == 0x26 ? 0x34
                     : idx == 0x28 ? 0x36 : 0x38;
        s->mixer[base] = (uint8_t)(((v >> 4) << 4) | 0x08);
        s->mixer[base + 1] = (uint8_t)(((v & 0x0F) << 4) | 0x08);
        break;
    }
    case 0x0A:
        s->mixer[0x3A] = (uint8_t)((v & 0x07) << 5);
        break;
    case 0x80:
        v &= 0x0F;
        break;
    case 0x81: {
        v &= 0xEB;                      /* channels 0, 1, 3, 5, 6, 7 */
        for (unsigned ch = 0; ch < 8; ch++) {
            if ((v & (1u << ch)) && !s->dma_claimed[ch] && s->dma_ops) {
                g_autoptr(GError) e = NULL;
                if (s->dma_ops->register_channel(s->isa_dma, ch, sb_dma_transfer, s, &e))
                    s->dma_claimed[ch] = true;
                else
                    tess_guest_error(&s->dev, "DMA %u: %s", ch, e->message);
            }
        }
        break;
    }
    case 0x82:
        return;                         /* read-only */
    default:
        break;
    }
    s->mixer[idx] = v;
    if (idx == 0x80)
        sb_irq_update(s);
    sb_update_volumes(s);
}

static uint8_t sb_mixer_read(Sb16 *s, uint8_t idx)
{
    switch (idx) {
    case 0x04: return (uint8_t)((s->mixer[0x32] & 0xF0) | (s->mixer[0x33] >> 4));
    case 0x22: return (uint8_t)((s->mixer[0x30] & 0xF0) | (s->mixer[0x31] >> 4));
    case 0x26: return (uint8_t)((s->mixer[0x34] & 0xF0) | (s->mixer[0x35] >> 4));
    case 0x28: return (uint8_t)((s->mixer[0x36] & 0xF0) | (s->mixer[0x37] >> 4));
    case 0x2E: return (uint8_t)((s->mixer[0x38] & 0xF0) | (s->mixer[0x39] >> 4));
    case 0x0A: return s->mixer[0x3A] >> 5;
    case 0x80: return s->mixer[0x80] | 0xF0;
    case 0x81: return s->mixer[0x81];
    case 0x82: return (uint8_t)(s->irq_status | 0x20);   /* b5-b4: card revision */
    default: return s->mixer[idx];
    }
}

/* ---- the DMA engine ----------------------------------------------------- */

static unsigned sb_unit_bytes(const Sb16 *s)
{
    return s->bits16 ? 2 : 1;
}

static unsigned sb_frame_units(const Sb16 *s)
{
    return s->stereo ? 2 : 1;
}

static uint64_t sb_frame_ns(const Sb16 *s, uint64_t frames)
{
    return frames * TESS_NS_PER_SEC / s->rate;
}

static void sb_schedule(Sb16 *s)
{
    if (!s->active || s->paused) {
        tess_timer_cancel(s->timer);
        return;
    }
    /* Next: the end of the block, or one tick of audio, whichever first. */
    uint64_t end_frames = s->frames_done + (s->left + sb_frame_units(s) - 1) / sb_frame_units(s);
    uint64_t t_end = s->t_base + sb_frame_ns(s, end_frames);
    uint64_t now = tess_clock_ns(s->dev.machine);
    uint64_t next = MIN(t_end, now + SB_TICK_NS);
    tess_timer_arm(s->timer, MAX(next, now + 1));
}

static void sb_drq(Sb16 *s, unsigned ch, bool on)
{
    uint8_t bit = (uint8_t)(1u << ch);
    if (on == !!(s->drq & bit))
        return;
    s->drq = on ? (s->drq | bit) : (s->drq & ~bit);
    s->dma_ops->set_drq(s->isa_dma, ch, on);
}

/* The 8237 calls this while our DRQ is high (or, in block mode, until
 * terminal count): move what the DSP wants, and no more. */
uint32_t sb_dma_transfer(void *opaque, unsigned ch, uint32_t pos, uint32_t size)
{
    Sb16 *s = opaque;
    if (!s->active || ch != s->channel || s->want == 0) {
        sb_drq(s, ch, false);
        return pos;
    }
    uint32_t n = MIN(s->want, size - pos);
    if (s->input) {
        uint8_t fill[256];
        memset(fill, s->is_signed ? 0x00 : (s->bits16 ? 0x00 : 0x80), sizeof(fill));
        if (s->bits16 && !s->is_signed)
            for (unsigned i = 1; i < sizeof(fill); i += 2)
                fill[i] = 0x80;
        uint32_t done = 0;
        while (done < n) {
            uint32_t k = MIN(n - done, (uint32_t)sizeof(fill));
            uint32_t w = s->dma_ops->write_memory(s->isa_dma, ch, fill, pos + done, k);
            done += w;
            if (w < k)
                break;
        }
        n = done;
        s->fetched += n;
    } else {
        n = MIN(n, (uint32_t)sizeof(s->fetch) - s->fetched);
        n = s->dma_ops->read_memory(s->isa_dma, ch, s->fetch + s->fetched, pos, n);
        s->fetched += n;
    }
    s->want -= n;
    if (s->want == 0)
        sb_drq(s, ch, false);
    return pos + n;
}

static int16_t sb_sample(const Sb16 *s, const uint8_t *p)
{
    if (s->bits16) {
        uint16_t v = (uint16_t)(p[0] | p[1] << 8);
        return (int16_t)(s->is_signed ? v : v ^ 0x8000);
    }
    uint8_t b = s->is_signed ? (uint8_t)(p[0] ^ 0x80) : p[0];
    return (int16_t)(((int)b - 128) * 256);
}

static void sb_block_end(Sb16 *s)
{
    sb_raise(s, s->bits16 ? SB_IRQ_16 : SB_IRQ_8);
    if (s->autoinit && !s->exit_auto) {
        s->left = s->count;
    } else {
        s->active = 0;
        s->exit_auto = 0;
    }
}

/* Consume what is due by now: fetch it through DMA, play it, end blocks. */
static void sb_run(Sb16 *s)
{
    uint64_t now = tess_clock_ns(s->dev.machine);
    unsigned fu = sb_frame_units(s), ub = sb_unit_bytes(s);
    while (s->active && !s->paused) {
        uint64_t due = (now - MIN(now, s->t_base)) * s->rate / TESS_NS_PER_SEC;
        if (due <= s->frames_done)
            break;
        uint64_t frames = due - s->frames_done;
        uint32_t left_frames = (s->left + fu - 1) / fu;
        frames = MIN(frames, (uint64_t)left_frames);
        frames = MIN(frames, (uint64_t)(sizeof(s->fetch) / (fu * ub)));
        uint32_t units = (uint32_t)MIN(frames * fu, (uint64_t)s->left);
        uint64_t t0 = s->t_base + sb_frame_ns(s, s->frames_done);
        if (s->silence) {
            s->fetched = units * ub;
        } else {
            s->fetched = 0;
            s->want = MIN(units * ub, (uint32_t)sizeof(s->fetch));
            sb_drq(s, s->channel, true);
            if (s->want) {
                /* The channel did not deliver (masked, not programmed): the
                 * DSP waits; frames due meanwhile are silence. */
                sb_drq(s, s->channel, false);
                s->want = 0;
            }
        }
        uint32_t got_units = s->fetched / ub;
        if (!s->input && !s->silence && got_units >= fu) {
            int16_t pcm[2 * 2048];
            uint32_t nf = got_units / fu;
            for (uint32_t f = 0; f < nf; f++) {
                int16_t l = sb_sample(s, &s->fetch[(f * fu) * ub]);
                int16_t r = fu == 2 ? sb_sample(s, &s->fetch[(f * fu + 1) * ub]) : l;
                pcm[2 * f] = l;
                pcm[2 * f + 1] = r;
            }
            tess_audio_stream_push(s->dsp_out, t0, pcm, nf);
        }
        if (got_units == 0) {
            /* Stalled: time moves on, the block does not. */
            s->t_base = now;
            s->frames_done = 0;
            break;
        }
        s->left -= got_units;
        s->frames_done += (got_units + fu - 1) / fu;
        if (s->left == 0)
            sb_block_end(s);
        if (got_units < units) {
            /* The 8237 gave less than was due (terminal count of a
             * single-cycle channel, a window end): the DSP waited for
             * the rest from here. */
            s->t_base = now;
            s->frames_done = 0;
            break;
        }
    }
    sb_schedule(s);
}

static void sb_timer_cb(void *opaque)
{
    sb_run(opaque);
}

static void sb_dsp_sync(void *opaque, uint64_t now)
{
    Sb16 *s = opaque;
    if (s->active && !s->paused)
        sb_run(s);
}

/* Direct mode (command 0x10): a held level, sampled at 22050 Hz while it
 * is recent. */
static void sb_dac_sync(void *opaque, uint64_t now)
{
    Sb16 *s = opaque;
    uint64_t end = MIN(now, s->dac_until_ns);
    if (end <= s->dac_pushed_ns)
        return;
    uint64_t n = (end - s->dac_pushed_ns) * DAC_RATE / TESS_NS_PER_SEC;
    if (n == 0)
        return;
    int16_t buf[256];
    int16_t v = (int16_t)(((int)s->dac_level - 128) * 256);
    for (unsigned i = 0; i < G_N_ELEMENTS(buf); i++)
        buf[i] = v;
    uint64_t t = s->dac_pushed_ns;
    for (uint64_t done = 0; done < n;) {
        unsigned k = (unsigned)MIN(n - done, (uint64_t)G_N_ELEMENTS(buf));
        tess_audio_stream_push(s->dac_out, t + done * TESS_NS_PER_SEC / DAC_RATE, buf, k);
        done += k;
    }
    s->dac_pushed_ns = t + n * TESS_NS_PER_SEC / DAC_RATE;
}

static void sb_dac_write(Sb16 *s, uint8_t v)
{
    uint64_t now = tess_clock_ns(s->dev.machine);
    sb_dac_sync(s, now);
    if (s->dac_until_ns < now)
        s->dac_pushed_ns = now;
    s->dac_level = v;
    s->dac_until_ns = now + DAC_HOLD_NS;
}

static void sb_start(Sb16 *s, bool bits16, bool autoinit, bool input, bool stereo,
                     bool is_signed, uint32_t units)
{
    if (s->active)
        sb_run(s);                      /* finish what is due under the old program */
    s->bits16 = bits16;
    s->autoinit = autoinit;
    s->input = input;
    s->stereo = stereo;
    s->is_signed = is_signed;
    s->silence = 0;
    s->count = s->left = units ? units : 1;
    s->channel = (uint8_t)(bits16 ? s->hdma : s->dma);
    s->active = 1;
    s->paused = 0;
    s->exit_auto = 0;
    s->t_base = tess_clock_ns(s->dev.machine);
    s->frames_done = 0;
    if (!s->rate)
        s->rate = 11025;
    tess_audio_stream_set_format(s->dsp_out, s->rate, 2);
    if (!s->dma_claimed[s->channel])
        tess_guest_error(&s->dev, "transfer on DMA %u, which the card is not set up for",
                         s->channel);
    sb_schedule(s);
}

static void sb_set_rate(Sb16 *s, uint32_t rate)
{
    if (s->active)
        sb_run(s);
    s->rate = CLAMP(rate, 4000u, 48000u);
    if (s->active) {
        s->t_base = tess_clock_ns(s->dev.machine);
        s->frames_done = 0;
        sb_schedule(s);
    }
}

/* ---- DSP commands --------------------------------------------------------- */

static unsigned sb_param_count(uint8_t cmd)
{
    switch (cmd) {
    case 0x10: case 0x38: case 0x40: case 0xE0: case 0xE2: case 0xE4:
        return 1;
    case 0x14: case 0x16: case 0x17: case 0x24: case 0x41: case 0x42: case 0x48:
    case 0x74: case 0x75: case 0x76: case 0x77: case 0x80:
        return 2;
    default:
        return (cmd >= 0xB0 && cmd <= 0xCF) ? 3 : 0;
    }
}

static void sb_dsp_reset(Sb16 *s)
{
    if (s->active && s->dma_ops)
        sb_drq(s, s->channel, false);
    s->active = 0;
    s->paused = 0;
    s->cmd_need = s->cmd_got = 0;
    s->cmd = 0;
    s->outq_len = s->outq_head = 0;
    s->speaker = 0;
    s->time_constant = 0;
    s->rate = 11025;
    s->block8 = 0x7FF;
    s->irq_status = 0;
    s->mpu_uart = 0;
    s->mpu_qlen = 0;
    tess_timer_cancel(s->timer);
    sb_irq_update(s);
}

static void sb_dsp_exec(Sb16 *s)
{
    const uint8_t *p = s->params;
    uint16_t w = (uint16_t)(p[0] | p[1] << 8);
    uint8_t c = s->cmd;
    if (c >= 0xB0 && c <= 0xCF) {
        /* Bx: 16-bit, Cx: 8-bit; b3 input, b2 auto-init; mode b4 signed, b5 stereo.
         * Length: transfer units (bytes or words) - 1. */
        if (c & 0x01)
            tess_guest_error(&s->dev, "DSP command 0x%02x: bit 0 set", c);
        uint16_t len = (uint16_t)(p[1] | p[2] << 8);
        sb_start(s, c < 0xC0, c & 0x04, c & 0x08, p[0] & 0x20, p[0] & 0x10, len + 1u);
        return;
    }
    switch (c) {
    case 0x10:
        sb_dac_write(s, p[0]);
        break;
    case 0x14: case 0x91:               /* 8-bit single-cycle (0x91: high speed, block size) */
        sb_start(s, false, false, false, s->mixer[0x0E] & 0x02, false,
                 c == 0x14 ? w + 1u : s->block8 + 1u);
        break;
    case 0x1C: case 0x90:               /* 8-bit auto-init, length from 0x48 */
        sb_start(s, false, true, false, s->mixer[0x0E] & 0x02, false, s->block8 + 1u);
        break;
    case 0x20:
        sb_out(s, 0x80);                /* direct ADC: silence */
        break;
    case 0x24: case 0x99:
        sb_start(s, false, false, true, false, false, c == 0x24 ? w + 1u : s->block8 + 1u);
        break;
    case 0x2C: case 0x98:
        sb_start(s, false, true, true, false, false, s->block8 + 1u);
        break;
    case 0x30: case 0x31:
        break;                          /* MIDI input: nothing ever arrives */
    case 0x38:
        if (s->midi)
            fputc(p[0], s->midi);
        break;
    case 0x40: {
        s->time_constant = p[0];
        unsigned ch = (s->mixer[0x0E] & 0x02) ? 2 : 1;
        sb_set_rate(s, 1000000u / (256u - p[0]) / ch);
        break;
    }
    case 0x41: case 0x42:
        sb_set_rate(s, (uint32_t)(p[0] << 8 | p[1]));   /* high byte first */
        break;
    case 0x45: case 0x47:               /* continue auto-init */
        if (s->active)
            s->exit_auto = 0;
        break;
    case 0x48:
        s->block8 = w;
        break;
    case 0x80:                          /* silence: an interrupt after w+1 samples */
        sb_start(s, false, false, false, false, false, w + 1u);
        s->silence = 1;
        break;
    case 0xD0: case 0xD5:
        if (s->active) {
            sb_run(s);
            s->paused = 1;
            sb_schedule(s);
        }
        break;
    case 0xD4: case 0xD6:
        if (s->active && s->paused) {
            s->paused = 0;
            s->t_base = tess_clock_ns(s->dev.machine);
            s->frames_done = 0;
            sb_schedule(s);
        }
        break;
    case 0xD1:
        s->speaker = 1;                 /* DSP 4.x: the output is always on */
        break;
    case 0xD3:
        s->speaker = 0;
        break;
    case 0xD8:
        sb_out(s, s->speaker ? 0xFF : 0x00);
        break;
    case 0xD9: case 0xDA:
        if (s->active)
            s->exit_auto = 1;
        break;
    case 0xE0:
        sb_out(s, (uint8_t)~p[0]);
        break;
    case 0xE1:
        sb_out(s, SB_DSP_MAJOR);
        sb_out(s, SB_DSP_MINOR);
        break;
    case 0xE2:
        break;                          /* DMA identification: not modelled */
    case 0xE3:
        for (const char *q = sb_copyright; ; q++) {
            sb_out(s, (uint8_t)*q);
            if (!*q)
                break;
        }
        break;
    case 0xE4:
        s->test_reg = p[0];
        break;
    case 0xE8:
        sb_out(s, s->test_reg);
        break;
    case 0xF2:
        sb_raise(s, SB_IRQ_8);
        break;
    case 0xF3:
        sb_raise(s, SB_IRQ_16);
        break;
    case 0xF8:
        sb_out(s, 0);
        break;
    default:
        tess_guest_error(&s->dev, "DSP command 0x%02x not implemented", c);
        break;
    }
}

static void sb_dsp_write(Sb16 *s, uint8_t v)
{
    if (s->cmd_need) {
        s->params[s->cmd_got++] = v;
        if (s->cmd_got == s->cmd_need) {
            s->cmd_need = 0;
            sb_dsp_exec(s);
        }
        return;
    }
    s->cmd = v;
    s->cmd_got = 0;
    s->cmd_need = (uint8_t)sb_param_count(v);
    if (!s->cmd_need)
        sb_dsp_exec(s);
}

/* ---- ports ------------------------------------------------------------------ */

static uint64_t sb_read(void *opaque, uint64_t off, unsigned size)
{
    Sb16 *s = opaque;
    switch (off) {
    case 0x0: case 0x8:
        return sb_opl_status(s);
    case 0x2:
        return sb_opl_status(s);
    case 0x4:
        return s->mix_index;
    case 0x5:
        return sb_mixer_read(s, s->mix_index);
    case 0xA:
        return sb_out_pop(s);
    case 0xC:
        return 0x7F;                    /* never busy */
    case 0xE:
        sb_ack(s, SB_IRQ_8);
        return s->outq_len ? 0xFF : 0x7F;
    case 0xF:
        sb_ack(s, SB_IRQ_16);
        return 0xFF;
    default:
        return 0xFF;
    }
}

static void sb_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    Sb16 *s = opaque;
    uint8_t b = (uint8_t)v;
    switch (off) {
    case 0x0: case 0x8:
        sb_opl_write_addr(s, 0, b);
        break;
    case 0x2:
        sb_opl_write_addr(s, 1, b);
        break;
    case 0x1: case 0x3: case 0x9:
        sb_opl_write_data(s, b);
        break;
    case 0x4:
        s->mix_index = b;
        break;
    case 0x5:
        sb_mixer_write(s, s->mix_index, b);
        break;
    case 0x6:
        /* Reset: 1 then 0; the DSP answers 0xAA when it leaves reset. */
        if ((b & 1) && !s->reset_latch) {
            s->reset_latch = 1;
        } else if (!(b & 1) && s->reset_latch) {
            s->reset_latch = 0;
            sb_dsp_reset(s);
            sb_out(s, 0xAA);
        }
        break;
    case 0xC:
        sb_dsp_write(s, b);
        break;
    default:
        break;
    }
}

static const TessIoOps sb_io = { .read = sb_read, .write = sb_write, .widths = TESS_W8 };

/* ---- MPU-401 (UART mode) ----------------------------------------------------- */

static void mpu_ack(Sb16 *s)
{
    if (s->mpu_qlen < sizeof(s->mpu_q))
        s->mpu_q[s->mpu_qlen++] = 0xFE;
}

static uint64_t mpu_read(void *opaque, uint64_t off, unsigned size)
{
    Sb16 *s = opaque;
    if (off == 0) {
        if (!s->mpu_qlen)
            return 0xFF;
        uint8_t v = s->mpu_q[0];
        memmove(s->mpu_q, s->mpu_q + 1, --s->mpu_qlen);
        if (!s->mpu_qlen)
            sb_ack(s, SB_IRQ_MPU);
        return v;
    }
    /* Status: b7 DSR (0 = a byte to read), b6 DRR (0 = ready to take one). */
    return (s->mpu_qlen ? 0x00 : 0x80) | 0x3F;
}

static void mpu_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    Sb16 *s = opaque;
    if (off == 0) {
        if (s->mpu_uart && s->midi)
            fputc((int)(v & 0xFF), s->midi);
        return;
    }
    switch (v & 0xFF) {
    case 0xFF:                          /* reset: intelligent mode, acknowledged */
        if (s->mpu_uart)
            s->mpu_uart = 0;            /* leaving UART mode: no acknowledge */
        else
            mpu_ack(s);
        break;
    case 0x3F:
        if (!s->mpu_uart)
            mpu_ack(s);
        s->mpu_uart = 1;
        break;
    default:
        if (!s->mpu_uart)
            mpu_ack(s);
        break;
    }
}

static const TessIoOps mpu_io = { .read = mpu_read, .write = mpu_write, .widths = TESS_W8 };

/* ---- lifecycle -------------------------------------------------------------- */

static uint8_t sb_irq_bits(uint64_t irq)
{
    return irq == 2 || irq == 9 ? 0x01 : irq == 5 ? 0x02 : irq == 7 ? 0x04 : 0x08;
}

static bool sb_realize(TessDevice *dev, GError **err)
{
    Sb16 *s = (Sb16 *)dev;
    if (s->irq != 2 && s->irq != 5 && s->irq != 7 && s->irq != 9 && s->irq != 10) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "irq %" G_GUINT64_FORMAT ": a Sound Blaster 16 uses 2(9), 5, 7 or 10", s->irq);
        return false;
    }
    if (s->dma == 2 || s->dma > 3 || s->hdma < 5 || s->hdma > 7) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "dma %" G_GUINT64_FORMAT " / hdma %" G_GUINT64_FORMAT
                    ": 8-bit DMA is 0, 1 or 3 and 16-bit DMA 5, 6 or 7", s->dma, s->hdma);
        return false;
    }
    s->isa_dma = tess_device_find_provider(dev, TESS_IFACE_ISA_DMA, NULL, err);
    if (!s->isa_dma)
        return false;
    s->dma_ops = tess_device_interface(s->isa_dma, TESS_IFACE_ISA_DMA);
    for (unsigned i = 0; i < 2; i++) {
        unsigned ch = i ? (unsigned)s->hdma : (unsigned)s->dma;
        if (!s->dma_ops->register_channel(s->isa_dma, ch, sb_dma_transfer, s, err))
            return false;
        s->dma_claimed[ch] = true;
    }
    s->timer = tess_timer_new(dev, sb_timer_cb, s);
    s->dsp_out = tess_audio_stream_new(dev, "dsp", 22050, 2, sb_dsp_sync, s, err);
    if (!s->dsp_out)
        return false;
    s->dac_out = tess_audio_stream_new(dev, "dac", DAC_RATE, 1, sb_dac_sync, s, err);
    if (!s->dac_out || !sb_opl_realize(s, err))
        return false;
    if (!tess_pio_map(dev, (uint32_t)s->port, 16, &sb_io, s, err))
        return false;
    if (s->mpu_port && !tess_pio_map(dev, (uint32_t)s->mpu_port, 2, &mpu_io, s, err))
        return false;
    /* validate (dry): the file is not made (its directory is checked) */
    if (s->midi_file && !tess_machine_dry_run(dev->machine)) {
        int fd = open(s->midi_file, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK |
                      O_CLOEXEC, 0644);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            int e = fd < 0 ? errno : EINVAL;
            if (fd >= 0)
                close(fd);
            g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO, "MIDI file %s: %s",
                        s->midi_file, e == EINVAL ? "not a regular file" : g_strerror(e));
            return false;
        }
        s->midi = fdopen(fd, "wb");
    }
    return true;
}

static void sb_reset(TessDevice *dev)
{
    Sb16 *s = (Sb16 *)dev;
    s->mixer[0x80] = sb_irq_bits(s->irq);
    s->mixer[0x81] = (uint8_t)((1u << s->dma) | (1u << s->hdma));
    sb_mixer_reset(s);
    sb_dsp_reset(s);
    sb_opl_reset(s);
    s->reset_latch = 0;
    s->mix_index = 0;
    s->dac_level = 0x80;
    s->dac_until_ns = s->dac_pushed_ns = 0;
}

static void sb_unrealize(TessDevice *dev)
{
    Sb16 *s = (Sb16 *)dev;
    if (s->midi) {
        fclose(s->midi);
        s->midi = NULL;
    }
}

static bool sb_post_load(TessDevice *dev, uint32_t version, GError **err)
{
    Sb16 *s = (Sb16 *)dev;
    sb_opl_post_load(s);
    sb_update_volumes(s);
    sb_irq_update(s);
    sb_schedule(s);
    return true;
}

static const TessPropSpec sb_props[] = {
    TESS_PROP_UINT_("port", Sb16, port, "0x220", 0x200, 0x2F0, "base port (0x220, 0x240, 0x260, 0x280)"),
    TESS_PROP_UINT_("mpu", Sb16, mpu_port, "0x330", 0, 0x3FE, "MPU-401 port (0x330, 0x300; 0: none)"),
    TESS_PROP_UINT_("irq", Sb16, irq, "5", 2, 10, "interrupt: 2(9), 5, 7 or 10"),
    TESS_PROP_UINT_("dma", Sb16, dma, "1", 0, 3, "8-bit DMA channel: 0, 1 or 3"),
    TESS_PROP_UINT_("hdma", Sb16, hdma, "5", 5, 7, "16-bit DMA channel: 5, 6 or 7"),
    TESS_PROP_BOOL_("adlib", Sb16, adlib, "on", "OPL3 also at the AdLib ports 0x388-0x38B"),
    TESS_PROP_PATH_("midi", Sb16, midi_file, NULL, "write the MPU-401's MIDI bytes to this file"),
    TESS_PROP_END,
};

static const TessLineSpec sb_lines[] = {
    TESS_LINE_OUT_("irq2", 1, Sb16, irq2, "ISA IRQ 2 (9) when the mixer selects it"),
    TESS_LINE_OUT_("irq5", 1, Sb16, irq5, "ISA IRQ 5"),
    TESS_LINE_OUT_("irq7", 1, Sb16, irq7, "ISA IRQ 7"),
    TESS_LINE_OUT_("irq10", 1, Sb16, irq10, "ISA IRQ 10"),
    TESS_LINE_END,
};

#define SB_U8(f) TESS_STATE_U8(Sb16, f)
static const TessStateField sb_fields[] = {
    SB_U8(reset_latch), SB_U8(cmd), SB_U8(cmd_need), SB_U8(cmd_got), TESS_STATE_BUF(Sb16, params),
    TESS_STATE_BUF(Sb16, outq), SB_U8(outq_head), SB_U8(outq_len), SB_U8(test_reg),
    SB_U8(speaker), SB_U8(time_constant), TESS_STATE_U32(Sb16, rate),
    TESS_STATE_U16(Sb16, block8), SB_U8(dac_level),
    SB_U8(active), SB_U8(paused), SB_U8(bits16), SB_U8(stereo), SB_U8(is_signed),
    SB_U8(autoinit), SB_U8(input), SB_U8(silence), SB_U8(channel), SB_U8(exit_auto),
    TESS_STATE_U32(Sb16, count), TESS_STATE_U32(Sb16, left), TESS_STATE_U64(Sb16, t_base),
    TESS_STATE_U64(Sb16, frames_done),
    SB_U8(mix_index), TESS_STATE_BUF(Sb16, mixer), SB_U8(irq_status),
    SB_U8(mpu_uart), TESS_STATE_BUF(Sb16, mpu_q), SB_U8(mpu_qlen),
    TESS_STATE_BUF(Sb16, opl.regs), TESS_STATE_U16(Sb16, opl.addr),
    TESS_STATE_BUF(Sb16, opl.timer), TESS_STATE_U8(Sb16, opl.ctrl),
    TESS_STATE_ARRAY(TESS_STATE_T_U64, Sb16, opl.start_ns, 2),
    TESS_STATE_ARRAY(TESS_STATE_T_U64, Sb16, opl.ack_ns, 2),
    TESS_STATE_U8(Sb16, opl.flags), TESS_STATE_U8(Sb16, opl.opl3),
    TESS_STATE_U8(Sb16, drq),
    TESS_STATE_END,
};

static const TessStateDesc sb_state = { .version = 1, .fields = sb_fields,
                                        .post_load = sb_post_load };

static const char *const sb_needs[] = { TESS_IFACE_ISA_DMA, NULL };

static const TessDeviceClass sb_class = {
    .type = "sb16",
    .kind = TESS_CLASS_DEVICE,
    .doc = "Creative Sound Blaster 16: DSP 4.05, CT1745 mixer, OPL3 FM, MPU-401 UART",
    .instance_size = sizeof(Sb16),
    .props = sb_props,
    .lines = sb_lines,
    .needs = sb_needs,
    .state = &sb_state,
    .realize = sb_realize,
    .reset = sb_reset,
    .unrealize = sb_unrealize,
};

static bool sb_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &sb_class, err);
}

TESS_PLUGIN_DEFINE("sb16", "1.0.0", "LGPL-2.1-or-later",
                   "Creative Sound Blaster 16 with OPL3 FM synthesis", sb_init);
