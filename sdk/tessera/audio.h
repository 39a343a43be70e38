/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sound: devices produce streams of samples in virtual time; the machine
 * mixes them and hands the mix to one sink (the host's sound output, a
 * WAV file). A device never knows where its samples go, a sink never
 * knows which devices made them (DESIGN.md §2).
 *
 * A sound device opens a stream at its own rate:
 *
 *     s->out = tess_audio_stream_new(dev, "dsp", 22050, 2, sb_sync, s, err);
 *
 * and pushes frames stamped with the virtual time of their first frame:
 *
 *     tess_audio_stream_push(s->out, t_ns, frames, n);
 *
 * Frames pushed back to back form one continuous signal; a gap between
 * the end of what was pushed and the next time stamp is silence. Before
 * each mix the machine calls every stream's `sync` callback, in which the
 * device pushes what it owes up to `now` (an FM chip renders its output,
 * a DMA engine drains what it fetched), so sound is produced lazily and
 * always complete up to the moment mixed.
 *
 * The mix runs every few milliseconds of virtual time, only while a sink
 * is present, at the sink's rate, 16-bit signed stereo, streams resampled
 * to it. In deterministic mode it is a pure function of the guest: the
 * same run writes the same WAV bit for bit. In realtime mode the sink
 * absorbs the drift between virtual time and the host's audio clock (it
 * drops or repeats frames to hold its latency), never the devices.
 *
 * A sink is a backend class (kind TESS_CLASS_BACKEND) providing
 * TESS_IFACE_AUDIO_SINK with a TessAudioSinkOps; the machine uses the
 * first such device it has (`tessera run --audio wav:FILE|sdl|none` adds
 * one).
 */
#ifndef TESSERA_AUDIO_H
#define TESSERA_AUDIO_H

#include <tessera/types.h>
#include <tessera/device.h>

G_BEGIN_DECLS

#define TESS_IFACE_AUDIO_SINK "audio-sink"
#define TESS_IFACE_AUDIO_SINK_VERSION 1   /* see TessIfaceSpec in device.h */

typedef struct TessAudioStream TessAudioStream;

/* Push everything owed up to now_ns (machine thread). May be NULL. */
typedef void (*TessAudioSyncFn)(void *opaque, uint64_t now_ns);

/* Open a stream of `channels` (1 or 2) interleaved int16 samples at `rate`
 * Hz (1000..192000). Released with the device's other claims. */
TessAudioStream *tess_audio_stream_new(TessDevice *dev, const char *name, unsigned rate,
                                       unsigned channels, TessAudioSyncFn sync,
                                       void *opaque, GError **err);
/* Change the rate (and channels) for frames pushed from now on. */
void tess_audio_stream_set_format(TessAudioStream *s, unsigned rate, unsigned channels);
/* Append `frames` frames whose first one plays at t_ns (not before the end
 * of what was pushed already: overlapping frames are dropped). */
void tess_audio_stream_push(TessAudioStream *s, uint64_t t_ns, const int16_t *samples,
                            size_t frames);
/* Virtual time at which the pushed signal ends. */
uint64_t tess_audio_stream_end(TessAudioStream *s);
/* Volume applied at the mix, per channel, 0..65536 = unity (a mixer chip). */
void tess_audio_stream_set_volume(TessAudioStream *s, unsigned left, unsigned right);
/* Is any sink listening? A device may skip rendering when not. */
bool tess_audio_active(TessMachine *m);

typedef struct TessAudioSinkOps {
    size_t size;                    /* sizeof(TessAudioSinkOps) */
    /* Output rate in Hz, fixed after realize. */
    unsigned (*rate)(TessDevice *sink);
    /* Mixed frames, 16-bit signed stereo interleaved, in order. */
    void (*write)(TessDevice *sink, const int16_t *frames, size_t n);
    void *reserved[4];
} TessAudioSinkOps;

G_END_DECLS

#endif
