/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The machine's sound mixer (sdk/tessera/audio.h).
 *
 * Every stream is resampled as it is pushed, straight into one ring of
 * 32-bit stereo accumulators indexed by output frame number (virtual time
 * x MIX_RATE), so a push costs a pass over its frames and the mix is a
 * clamp and a copy. Output frame j plays at j / MIX_RATE seconds of
 * virtual time: positions are computed from virtual time alone, never
 * from how often the mix ran, which is what makes deterministic runs
 * produce identical sound. Resampling is linear interpolation between a
 * stream's successive frames; a stream that resumes after a gap starts
 * afresh (the gap is silence).
 */
#include "core.h"

#define MIX_RATE 48000u
#define MIX_PERIOD_NS 10000000ull          /* mix every 10 ms of virtual time */
/* ... or every 50 ms while no stream pushed anything since the last mix
 * and nothing pushed is left to play (a silent machine wakes 20 times a
 * second, not 100): the mix is the same frames, in longer blocks. A push
 * brings the 10 ms back at once. */
#define MIX_IDLE_PERIOD_NS 50000000ull
#define RING_FRAMES 65536u                 /* 1.37 s: pushes reach at most this far ahead */
#define FP_ONE ((int64_t)1 << 32)          /* positions: output frames, 32.32 fixed point */
/* The mix stays this far behind virtual time: a stream synced to now has
 * pushed its last frame at most one input frame (1 ms at 1 kHz) ago, and
 * the frames after it are interpolated only once the next one comes. */
#define MIX_LAG 64u

struct TessAudioStream {
    TessDevice *dev;
    char *name;
    unsigned rate, channels;
    TessAudioSyncFn sync;
    void *opaque;
    unsigned vol[2];                        /* 0..65536 */
    int64_t step;                           /* output frames per input frame, 32.32 */
    bool have_prev;
    int64_t prev_pos;                       /* position of the last frame pushed */
    int32_t prev[2];
    int64_t next_pos;                       /* position the next frame continues at */
};

struct TessAudio {
    GPtrArray *streams;                     /* TessAudioStream * */
    TessTimer *timer;
    TessDevice *sink;
    const TessAudioSinkOps *sink_ops;
    bool looked;                            /* sink lookup done */
    uint64_t done;                          /* output frames handed to the sink */
    int32_t *ring;                          /* RING_FRAMES stereo accumulators */
    uint64_t heard_until;                   /* output frames pushes reached (exclusive) */
    bool pushed;                            /* a push since the last mix */
    bool idle;                              /* the timer is at the idle period */
    int16_t *out;
};

static int64_t ns_to_pos(uint64_t ns)
{
    return (int64_t)(((unsigned __int128)ns * MIX_RATE << 32) / TESS_NS_PER_SEC);
}

static uint64_t pos_to_ns(int64_t pos)
{
    if (pos <= 0)
        return 0;
    return (uint64_t)(((unsigned __int128)pos * TESS_NS_PER_SEC) / ((uint64_t)MIX_RATE << 32));
}

static void audio_find_sink(TessMachine *m, TessAudio *a)
{
    a->looked = true;
    for (guint i = 0; i < m->devices->len; i++) {
        TessDevice *d = m->devices->pdata[i];
        const TessAudioSinkOps *ops =
            tess_device_interface_v(d, TESS_IFACE_AUDIO_SINK, TESS_IFACE_AUDIO_SINK_VERSION);
        /* A sink whose rate is 0 has no output (a host without sound). */
        if (ops && d->priv->realized && ops->rate(d) != 0) {
            if (ops->rate(d) != MIX_RATE)
                g_warning("audio sink '%s' runs at %u Hz; the mix is %u Hz", d->id,
                          ops->rate(d), MIX_RATE);
            a->sink = d;
            a->sink_ops = ops;
            return;
        }
    }
}

static void audio_mix(void *opaque)
{
    TessMachine *m = opaque;
    TessAudio *a = m->audio;
    uint64_t now = tess_clock_ns(m);
    if (!a->looked)
        audio_find_sink(m, a);
    if (!a->sink) {
        /* Nobody listens: stop mixing; pushes now only track positions. */
        a->done = (uint64_t)(ns_to_pos(now) >> 32);
        return;
    }
    for (guint i = 0; i < a->streams->len; i++) {
        TessAudioStream *s = a->streams->pdata[i];
        if (s->sync)
            s->sync(s->opaque, now);
    }
    uint64_t end = (uint64_t)(ns_to_pos(now) >> 32);
    end = end > MIX_LAG ? end - MIX_LAG : 0;
    while (a->done < end) {
        size_t n = MIN(end - a->done, (uint64_t)RING_FRAMES / 4);
        for (size_t k = 0; k < n; k++) {
            int32_t *acc = &a->ring[((a->done + k) % RING_FRAMES) * 2];
            a->out[2 * k] = (int16_t)CLAMP(acc[0], -32768, 32767);
            a->out[2 * k + 1] = (int16_t)CLAMP(acc[1], -32768, 32767);
            acc[0] = acc[1] = 0;
        }
        a->sink_ops->write(a->sink, a->out, n);
        a->done += n;
    }
    a->idle = !a->pushed && a->done >= a->heard_until;
    a->pushed = false;
    tess_timer_arm(a->timer, now + (a->idle ? MIX_IDLE_PERIOD_NS : MIX_PERIOD_NS));
}

static TessAudio *audio_get(TessMachine *m)
{
    if (!m->audio) {
        TessAudio *a = g_new0(TessAudio, 1);
        a->streams = g_ptr_array_new();
        a->ring = g_new0(int32_t, RING_FRAMES * 2);
        a->out = g_new(int16_t, RING_FRAMES / 4 * 2);
        m->audio = a;
    }
    return m->audio;
}

static void audio_start_timer(TessMachine *m)
{
    TessAudio *a = m->audio;
    if (a->timer)
        return;
    a->timer = tess_timer_new(m->root, audio_mix, m);
    a->done = (uint64_t)(ns_to_pos(tess_clock_ns(m)) >> 32);
    tess_timer_arm(a->timer, tess_clock_ns(m) + MIX_PERIOD_NS);
}

bool tess_audio_active(TessMachine *m)
{
    TessAudio *a = m->audio;
    return a && (!a->looked || a->sink);
}

TessAudioStream *tess_audio_stream_new(TessDevice *dev, const char *name, unsigned rate,
                                       unsigned channels, TessAudioSyncFn sync,
                                       void *opaque, GError **err)
{
    if (rate < 1000 || rate > 192000 || channels < 1 || channels > 2) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_INVALID,
                    "audio stream '%s': %u Hz x %u channels is not a format Tessera mixes",
                    name, rate, channels);
        return NULL;
    }
    TessAudio *a = audio_get(dev->machine);
    TessAudioStream *s = g_new0(TessAudioStream, 1);
    s->dev = dev;
    s->name = g_strdup(name);
    s->sync = sync;
    s->opaque = opaque;
    s->vol[0] = s->vol[1] = 65536;
    tess_audio_stream_set_format(s, rate, channels);
    g_ptr_array_add(a->streams, s);
    audio_start_timer(dev->machine);
    return s;
}

void tess_audio_stream_set_format(TessAudioStream *s, unsigned rate, unsigned channels)
{
    rate = CLAMP(rate, 1000u, 192000u);
    channels = CLAMP(channels, 1u, 2u);
    if (rate == s->rate && channels == s->channels)
        return;
    s->rate = rate;
    s->channels = channels;
    s->step = (int64_t)(((uint64_t)MIX_RATE << 32) / rate);
}

void tess_audio_stream_set_volume(TessAudioStream *s, unsigned left, unsigned right)
{
    s->vol[0] = MIN(left, 65536u);
    s->vol[1] = MIN(right, 65536u);
}

uint64_t tess_audio_stream_end(TessAudioStream *s)
{
    return pos_to_ns(s->next_pos);
}

/* Add the line from (p0, v0) to (p1, v1) at the output frames in (p0, p1]. */
static void audio_segment(TessAudio *a, int64_t p0, const int32_t v0[2], int64_t p1,
                          const int32_t v1[2])
{
    int64_t lo = (int64_t)a->done;
    int64_t j = (p0 >> 32) + 1;
    int64_t last = p1 >> 32;
    if (j < lo)
        j = lo;                              /* late: that sound has been played */
    if (last >= lo + (int64_t)RING_FRAMES)
        last = lo + RING_FRAMES - 1;         /* too far ahead: dropped */
    int64_t span = p1 - p0;
    for (; j <= last; j++) {
        int64_t f = span > 0 ? (((j << 32) - p0) << 16) / span : 65536;   /* 0..65536 */
        int32_t *acc = &a->ring[((uint64_t)j % RING_FRAMES) * 2];
        acc[0] += v0[0] + (int32_t)(((int64_t)(v1[0] - v0[0]) * f) >> 16);
        acc[1] += v0[1] + (int32_t)(((int64_t)(v1[1] - v0[1]) * f) >> 16);
    }
}

void tess_audio_stream_push(TessAudioStream *s, uint64_t t_ns, const int16_t *samples,
                            size_t frames)
{
    TessAudio *a = s->dev->machine->audio;
    int64_t pos = ns_to_pos(t_ns);
    bool tracking_only = a->looked && !a->sink;
    /* Continuous with what came before (within one output frame)? Then
     * the new frames follow the old ones exactly; else a fresh start. */
    bool cont = s->have_prev && llabs(pos - s->next_pos) < FP_ONE;
    if (cont)
        pos = s->next_pos;
    else if (s->have_prev && pos < s->next_pos) {
        /* Overlaps what was pushed: drop the overlapping frames. */
        int64_t skip = (s->next_pos - pos + s->step - 1) / s->step;
        if ((uint64_t)skip >= frames)
            return;
        samples += skip * s->channels;
        frames -= skip;
        pos = s->next_pos;
        cont = true;
    }
    if (!tracking_only) {
        for (size_t k = 0; k < frames; k++) {
            int32_t v[2];
            const int16_t *f = &samples[k * s->channels];
            v[0] = (int32_t)(((int64_t)f[0] * s->vol[0]) >> 16);
            v[1] = (int32_t)(((int64_t)f[s->channels - 1] * s->vol[1]) >> 16);
            int64_t p = pos + (int64_t)k * s->step;
            if (k == 0 && !cont) {
                /* The first frame after silence: it alone covers its slot. */
                audio_segment(a, p - 1, v, p, v);
            } else {
                audio_segment(a, s->prev_pos, s->prev, p, v);
            }
            s->prev[0] = v[0];
            s->prev[1] = v[1];
            s->prev_pos = p;
        }
    }
    s->have_prev = frames > 0 || s->have_prev;
    s->next_pos = pos + (int64_t)frames * s->step;
    if (frames) {
        uint64_t reach = (uint64_t)MAX(s->next_pos >> 32, 0) + 1;
        a->heard_until = MAX(a->heard_until, reach);
        a->pushed = true;
        if (a->idle && a->timer) {
            a->idle = false;                  /* sound again: the short period */
            uint64_t now = tess_clock_ns(s->dev->machine);
            tess_timer_arm(a->timer, now + MIX_PERIOD_NS);
        }
    }
    if (tracking_only)
        s->prev_pos = s->next_pos - s->step;
}

static void stream_free(TessAudioStream *s)
{
    g_free(s->name);
    g_free(s);
}

void tess_audio_release_owner(TessMachine *m, TessDevice *owner)
{
    TessAudio *a = m->audio;
    if (!a)
        return;
    for (guint i = a->streams->len; i-- > 0;) {
        TessAudioStream *s = a->streams->pdata[i];
        if (s->dev == owner) {
            g_ptr_array_remove_index(a->streams, i);
            stream_free(s);
        }
    }
    if (a->sink == owner) {
        a->sink = NULL;
        a->sink_ops = NULL;
    }
}

void tess_audio_free(TessMachine *m)
{
    TessAudio *a = m->audio;
    if (!a)
        return;
    for (guint i = 0; i < a->streams->len; i++)
        stream_free(a->streams->pdata[i]);
    g_ptr_array_unref(a->streams);
    g_free(a->ring);
    g_free(a->out);
    g_free(a);
    m->audio = NULL;
}
