/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PC speaker and port 0x61 (PIIX3 "NMI Status and Control Register",
 * 82371SB datasheet 4.7.2; the same layout as the PC/AT port B).
 *
 *   bit 0  TIM2 gate (R/W)        -> GATE of 8254 counter 2
 *   bit 1  SPKR data enable (R/W) -> speaker = OUT2 AND this bit
 *   bit 2  PCI SERR# enable (R/W), bit 3 IOCHK# enable (R/W): stored
 *   bit 4  refresh cycle toggle (RO): flips every 15.085 us (counter-1
 *          refresh period, 18 CLKs of 1.193182 MHz)
 *   bit 5  OUT2 state (RO)
 *   bit 6  IOCHK# status, bit 7 SERR# status (RO): no source here, 0
 *
 * The gate leaves through the output line "gate2" (wire it to
 * pit.gate2); OUT2 comes back through the input line "out2" (the 8254
 * times OUT2's edges, so they arrive at their virtual time).
 *
 * Sound: the cone is out while OUT2 AND SPKR_DAT. It is rendered as a
 * 48 kHz stream where each sample is the share of its period the cone
 * spent out (a box filter: a tone of any pitch keeps its duty cycle and does
 * not alias into a buzz), pushed while the cone moved in the last 50 ms;
 * a cone that stopped moving is silence, as a real speaker is.
 */
#define G_LOG_DOMAIN "speaker"

#include <tessera/tessera.h>

#define P61_TIM2_GATE 0x01
#define P61_SPKR_DAT  0x02
#define P61_RW_MASK   0x0F
#define P61_REF_TOGGLE 0x10
#define P61_OUT2      0x20

typedef struct Speaker {
    TessDevice dev;
    uint64_t port;
    TessSignal *gate2[1];

    uint8_t ctl;                /* bits 3-0 as written */
    uint8_t out2;
    uint8_t sounding;           /* gate, data and a running wave */
    uint64_t last_rise_ns;
    uint64_t period_ns;         /* OUT2 period between the last two rises */

    TessAudioStream *out;
    uint8_t cone;               /* OUT2 && SPKR_DAT */
    uint64_t snd_t;             /* rendered up to here */
    uint64_t snd_high;          /* ns of cone-out in the sample being built */
    uint64_t moved_ns;          /* the cone's last movement */
    int16_t buf[256];
    unsigned nbuf;
    uint64_t buf_t;             /* time of buf[0] */
    int32_t hp_x, hp_y;         /* high-pass filter state */
} Speaker;

#define SPK_RATE 48000u
#define SPK_AMPL 8000
#define SPK_ACTIVE_NS 50000000ull

/* Sample boundaries are at k * 1e9 / SPK_RATE ns. */
static uint64_t spk_sample_end(uint64_t t)
{
    uint64_t k = t * SPK_RATE / TESS_NS_PER_SEC + 1;
    return (k * TESS_NS_PER_SEC + SPK_RATE - 1) / SPK_RATE;
}

static void spk_flush(Speaker *s)
{
    if (s->nbuf)
        tess_audio_stream_push(s->out, s->buf_t, s->buf, s->nbuf);
    s->nbuf = 0;
}

/* Render the cone's position up to `now`. */
static void spk_render(Speaker *s, uint64_t now)
{
    if (now <= s->snd_t)
        return;
    bool active = s->moved_ns + SPK_ACTIVE_NS > s->snd_t && tess_audio_active(s->dev.machine);
    if (!active) {
        spk_flush(s);
        s->snd_t = now;
        s->snd_high = 0;
        return;
    }
    while (s->snd_t < now) {
        uint64_t end = spk_sample_end(s->snd_t);
        uint64_t start = end - (TESS_NS_PER_SEC + SPK_RATE - 1) / SPK_RATE;
        uint64_t upto = MIN(end, now);
        if (s->cone)
            s->snd_high += upto - s->snd_t;
        s->snd_t = upto;
        if (upto < end)
            break;
        uint64_t len = end - start;
        /* Cone position 0..2*AMPL, then the AC coupling every speaker
         * has (a one-pole high-pass, R = 0.995): a cone held out is
         * silence, a tone swings around zero. */
        int32_t x = (int32_t)((int64_t)2 * SPK_AMPL * (int64_t)s->snd_high / (int64_t)len);
        int32_t y = x - s->hp_x + (int32_t)(((int64_t)s->hp_y * 65209) >> 16);
        s->hp_x = x;
        s->hp_y = y;
        if (!s->nbuf)
            s->buf_t = start;
        s->buf[s->nbuf++] = (int16_t)CLAMP(y, -32767, 32767);
        if (s->nbuf == G_N_ELEMENTS(s->buf))
            spk_flush(s);
        s->snd_high = 0;
    }
}

static void spk_sync(void *opaque, uint64_t now)
{
    Speaker *s = opaque;
    spk_render(s, now);
    spk_flush(s);
}

static void spk_cone(Speaker *s)
{
    uint8_t cone = s->out2 && (s->ctl & P61_SPKR_DAT);
    if (cone == s->cone)
        return;
    uint64_t now = tess_clock_ns(s->dev.machine);
    spk_render(s, now);
    if (s->moved_ns + SPK_ACTIVE_NS <= now)
        s->snd_t = now;     /* starting from rest: no stale partial sample */
    s->cone = cone;
    s->moved_ns = now;
}

static void spk_report(Speaker *s)
{
    bool on = (s->ctl & (P61_TIM2_GATE | P61_SPKR_DAT)) == (P61_TIM2_GATE | P61_SPKR_DAT);
    if (on == (bool)s->sounding)
        return;
    s->sounding = on;
    if (on && s->period_ns)
        g_debug("%s: tone on, %.1f Hz", s->dev.id, 1e9 / (double)s->period_ns);
    else
        g_debug("%s: tone %s", s->dev.id, on ? "on" : "off");
}

static uint64_t spk_read(void *opaque, uint64_t off, unsigned size)
{
    Speaker *s = opaque;
    uint64_t now = tess_clock_ns(s->dev.machine);
    /* OUT2 as of this read, not as of the PIT's last timer callback: the
     * CPU-speed calibration loops of BIOSes and games poll this bit. */
    s->out2 = tess_device_input_level(&s->dev, "out2");
    uint64_t refresh = (uint64_t)((unsigned __int128)now * 3579545u / (3000000000ull * 18));
    return (s->ctl & P61_RW_MASK) | ((refresh & 1) ? P61_REF_TOGGLE : 0) |
           (s->out2 ? P61_OUT2 : 0);
}

static void spk_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    Speaker *s = opaque;
    s->ctl = val & P61_RW_MASK;
    tess_signal_set(s->gate2[0], s->ctl & P61_TIM2_GATE);
    spk_cone(s);
    spk_report(s);
}

static const TessIoOps spk_io = {
    .read = spk_read,
    .write = spk_write,
    .widths = TESS_W8,
};

static void spk_set_out2(TessDevice *dev, unsigned n, bool level)
{
    Speaker *s = (Speaker *)dev;
    if (level && !s->out2) {
        uint64_t now = tess_clock_ns(dev->machine);
        if (s->last_rise_ns && now > s->last_rise_ns)
            s->period_ns = now - s->last_rise_ns;
        s->last_rise_ns = now;
    }
    s->out2 = level;
    spk_cone(s);
}

static bool spk_realize(TessDevice *dev, GError **err)
{
    Speaker *s = (Speaker *)dev;
    s->out2 = tess_device_input_level(dev, "out2");
    s->out = tess_audio_stream_new(dev, "speaker", SPK_RATE, 1, spk_sync, s, err);
    return s->out && tess_pio_map(dev, (uint32_t)s->port, 1, &spk_io, s, err);
}

static void spk_reset(TessDevice *dev)
{
    Speaker *s = (Speaker *)dev;
    s->ctl = 0;
    s->period_ns = 0;
    s->last_rise_ns = 0;
    s->cone = 0;
    s->moved_ns = 0;
    s->snd_t = tess_clock_ns(dev->machine);
    s->snd_high = 0;
    s->nbuf = 0;
    tess_signal_set(s->gate2[0], false);
    spk_report(s);
}

static bool spk_post_load(TessDevice *dev, uint32_t version, GError **err)
{
    Speaker *s = (Speaker *)dev;
    tess_signal_set(s->gate2[0], s->ctl & P61_TIM2_GATE);
    return true;
}

static const TessPropSpec spk_props[] = {
    TESS_PROP_UINT_("port", Speaker, port, "0x61", 0, 0xFFFF, "NMI status and control port"),
    TESS_PROP_END,
};

static const TessLineSpec spk_lines[] = {
    TESS_LINE_OUT_("gate2", 1, Speaker, gate2, "TIM2 gate: wire to the 8254's gate2"),
    TESS_LINE_IN_("out2", 1, spk_set_out2, "OUT2 of the 8254: wire from pit.out2"),
    TESS_LINE_END,
};

static const TessStateField spk_state_fields[] = {
    TESS_STATE_U8(Speaker, ctl),
    TESS_STATE_U8(Speaker, out2),
    TESS_STATE_U8(Speaker, sounding),
    TESS_STATE_U64(Speaker, last_rise_ns),
    TESS_STATE_U64(Speaker, period_ns),
    TESS_STATE_U8(Speaker, cone),
    TESS_STATE_U64(Speaker, moved_ns),
    TESS_STATE_END,
};

static const TessStateDesc spk_state = {
    .version = 1,
    .fields = spk_state_fields,
    .post_load = spk_post_load,
};

static const TessDeviceClass spk_class = {
    .type = "pc-speaker",
    .kind = TESS_CLASS_DEVICE,
    .doc = "PC speaker and port 0x61 (timer 2 gate, speaker data, refresh toggle, OUT2)",
    .instance_size = sizeof(Speaker),
    .props = spk_props,
    .lines = spk_lines,
    .state = &spk_state,
    .realize = spk_realize,
    .reset = spk_reset,
};

static bool spk_plugin_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &spk_class, err);
}

TESS_PLUGIN_DEFINE("speaker", "0.1.0", "LGPL-2.1-or-later",
                   "PC speaker and port 0x61", spk_plugin_init);
