/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * audio-sdl: the machine's sound through SDL2's audio output.
 *
 * Virtual time and the sound card's clock drift apart (and in
 * deterministic mode virtual time is not wall time at all), so this sink
 * holds the host queue between a floor and a ceiling: past the ceiling it
 * drops the block (latency must not grow), and below the floor it lets
 * SDL play silence, which is an underrun it counts. Silent blocks are not
 * queued at all (SDL plays silence when its queue is empty: a quiet machine
 * keeps the host's sound idle). The device is opened on the first block
 * with sound, so a machine that never sounds never opens it; with
 * `optional=on` (the command line's default) a host without sound output
 * just has none.
 */
#define G_LOG_DOMAIN "audio-sdl"

#include <tessera/tessera.h>
#include <SDL.h>

#define SDL_RATE 48000u
#define LATENCY_MAX_MS 150u

typedef struct AudioSdl {
    TessDevice dev;
    bool optional;
    bool opened, broken;
    SDL_AudioDeviceID id;
    uint64_t dropped, underruns;
} AudioSdl;

static bool asdl_open(AudioSdl *a, GError **err)
{
    if (SDL_InitSubSystem(SDL_INIT_AUDIO) != 0) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO, "SDL audio: %s", SDL_GetError());
        return false;
    }
    SDL_AudioSpec want = { .freq = SDL_RATE, .format = AUDIO_S16SYS, .channels = 2,
                           .samples = 1024 };
    a->id = SDL_OpenAudioDevice(NULL, 0, &want, NULL, 0);
    if (a->id == 0) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO, "SDL audio: %s", SDL_GetError());
        SDL_QuitSubSystem(SDL_INIT_AUDIO);
        return false;
    }
    SDL_PauseAudioDevice(a->id, 0);
    a->opened = true;
    return true;
}

static unsigned asdl_rate(TessDevice *dev)
{
    AudioSdl *a = (AudioSdl *)dev;
    return a->broken ? 0 : SDL_RATE;
}

static void asdl_write(TessDevice *dev, const int16_t *frames, size_t n)
{
    AudioSdl *a = (AudioSdl *)dev;
    if (a->broken)
        return;
    size_t i = 0;
    while (i < 2 * n && !frames[i])
        i++;
    if (i == 2 * n)
        return;                         /* silence: what an empty queue plays */
    if (!a->opened) {
        g_autoptr(GError) err = NULL;
        if (!asdl_open(a, &err)) {
            a->broken = true;
            if (a->optional)
                g_debug("%s: no sound output: %s", dev->id, err->message);
            else
                g_warning("%s: no sound output: %s", dev->id, err->message);
            return;
        }
    }
    uint32_t queued = SDL_GetQueuedAudioSize(a->id);
    if (queued == 0)
        a->underruns++;
    if (queued > SDL_RATE * 4 / 1000 * LATENCY_MAX_MS) {
        a->dropped += n;
        return;
    }
    SDL_QueueAudio(a->id, frames, (uint32_t)(n * 4));
}

static bool asdl_realize(TessDevice *dev, GError **err)
{
    return true;
}

static void asdl_unrealize(TessDevice *dev)
{
    AudioSdl *a = (AudioSdl *)dev;
    if (a->opened) {
        g_debug("%s: %" G_GUINT64_FORMAT " frames dropped, %" G_GUINT64_FORMAT " underruns",
                dev->id, a->dropped, a->underruns);
        SDL_CloseAudioDevice(a->id);
        SDL_QuitSubSystem(SDL_INIT_AUDIO);
        a->opened = false;
    }
}

static const TessAudioSinkOps asdl_ops = {
    .size = sizeof(TessAudioSinkOps),
    .rate = asdl_rate,
    .write = asdl_write,
};

static const TessIfaceSpec asdl_ifaces[] = {
    { TESS_IFACE_AUDIO_SINK, &asdl_ops, TESS_IFACE_AUDIO_SINK_VERSION },
    TESS_IFACE_END,
};

static const TessPropSpec asdl_props[] = {
    TESS_PROP_BOOL_("optional", AudioSdl, optional, "off",
                    "a host without sound output is not an error"),
    TESS_PROP_END,
};

static const TessDeviceClass asdl_class = {
    .type = "audio-sdl",
    .kind = TESS_CLASS_BACKEND,
    .doc = "sound output through SDL2 (the host's default audio device)",
    .instance_size = sizeof(AudioSdl),
    .props = asdl_props,
    .provides = asdl_ifaces,
    .realize = asdl_realize,
    .unrealize = asdl_unrealize,
};

static bool asdl_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &asdl_class, err);
}

TESS_PLUGIN_DEFINE("audio-sdl", "1.0.0", "LGPL-2.1-or-later",
                   "sound output through SDL2", asdl_init);
