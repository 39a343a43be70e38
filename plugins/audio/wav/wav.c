/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * audio-wav: the machine's sound into a RIFF/WAVE file (PCM, 16-bit,
 * stereo, 48 kHz). The header's sizes are rewritten after every block, so
 * the file is a complete WAV at any moment, even if the process is killed.
 */
#define G_LOG_DOMAIN "audio-wav"

#include <tessera/tessera.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define WAV_RATE 48000u
#define WAV_HEADER 44u
/* A RIFF size field is 32 bits: stop writing before it wraps. */
#define WAV_MAX_DATA (0xFFFFFFFFull - WAV_HEADER)

typedef struct Wav {
    TessDevice dev;
    char *file;
    int fd;
    uint64_t data_bytes;
    bool failed;
} Wav;

static void wav_put32(uint8_t *p, uint32_t v)
{
    p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24;
}

static void wav_put16(uint8_t *p, uint16_t v)
{
    p[0] = v; p[1] = v >> 8;
}

static bool wav_header(Wav *w)
{
    uint8_t h[WAV_HEADER];
    memcpy(h, "RIFF", 4);
    wav_put32(h + 4, (uint32_t)(36 + w->data_bytes));
    memcpy(h + 8, "WAVEfmt ", 8);
    wav_put32(h + 16, 16);
    wav_put16(h + 20, 1);                       /* PCM */
    wav_put16(h + 22, 2);
    wav_put32(h + 24, WAV_RATE);
    wav_put32(h + 28, WAV_RATE * 4);
    wav_put16(h + 32, 4);
    wav_put16(h + 34, 16);
    memcpy(h + 36, "data", 4);
    wav_put32(h + 40, (uint32_t)w->data_bytes);
    return pwrite(w->fd, h, sizeof(h), 0) == (ssize_t)sizeof(h);
}

static unsigned wav_rate(TessDevice *dev)
{
    return WAV_RATE;
}

static void wav_write(TessDevice *dev, const int16_t *frames, size_t n)
{
    Wav *w = (Wav *)dev;
    if (w->failed)
        return;
    uint64_t len = (uint64_t)n * 4;
    if (w->data_bytes + len > WAV_MAX_DATA) {
        g_warning("%s: %s reached the WAV size limit; sound is no longer recorded",
                  dev->id, w->file);
        w->failed = true;
        return;
    }
    uint8_t buf[4096];
    size_t done = 0;
    while (done < n) {
        size_t k = MIN(n - done, sizeof(buf) / 4);
        for (size_t i = 0; i < k; i++) {
            wav_put16(buf + 4 * i, (uint16_t)frames[2 * (done + i)]);
            wav_put16(buf + 4 * i + 2, (uint16_t)frames[2 * (done + i) + 1]);
        }
        if (pwrite(w->fd, buf, k * 4, WAV_HEADER + w->data_bytes) != (ssize_t)(k * 4)) {
            g_warning("%s: writing %s: %s; sound is no longer recorded", dev->id, w->file,
                      g_strerror(errno));
            w->failed = true;
            return;
        }
        w->data_bytes += k * 4;
        done += k;
    }
    if (!wav_header(w)) {
        g_warning("%s: writing %s: %s", dev->id, w->file, g_strerror(errno));
        w->failed = true;
    }
}

static bool wav_realize(TessDevice *dev, GError **err)
{
    Wav *w = (Wav *)dev;
    w->fd = -1;
    if (tess_machine_dry_run(dev->machine))
        return true;                /* validate: the file is not made (its directory is checked) */
    /* Never follow a link or block on a FIFO; replace only a regular file. */
    w->fd = open(w->file, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
                 0644);
    struct stat st;
    if (w->fd < 0 || fstat(w->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = w->fd < 0 ? errno : EINVAL;
        if (w->fd >= 0)
            close(w->fd);
        w->fd = -1;
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO, "cannot write the WAV file %s: %s",
                    w->file, e == EINVAL ? "not a regular file" : g_strerror(e));
        return false;
    }
    if (!wav_header(w)) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO, "writing %s: %s", w->file,
                    g_strerror(errno));
        close(w->fd);
        w->fd = -1;
        return false;
    }
    return true;
}

static void wav_unrealize(TessDevice *dev)
{
    Wav *w = (Wav *)dev;
    if (w->fd >= 0) {
        wav_header(w);
        close(w->fd);
        w->fd = -1;
    }
}

static const TessAudioSinkOps wav_ops = {
    .size = sizeof(TessAudioSinkOps),
    .rate = wav_rate,
    .write = wav_write,
};

static const TessIfaceSpec wav_ifaces[] = {
    { TESS_IFACE_AUDIO_SINK, &wav_ops, TESS_IFACE_AUDIO_SINK_VERSION },
    TESS_IFACE_END,
};

static const TessPropSpec wav_props[] = {
    { .name = "file", .type = TESS_PROP_PATH, .offset = offsetof(Wav, file),
      .flags = TESS_PROP_F_REQUIRED | TESS_PROP_F_OUTPUT, .doc = "WAV file to write (replaced if it exists)" },
    TESS_PROP_END,
};

static const TessDeviceClass wav_class = {
    .type = "audio-wav",
    .kind = TESS_CLASS_BACKEND,
    .doc = "sound output into a WAV file (16-bit stereo, 48 kHz)",
    .instance_size = sizeof(Wav),
    .props = wav_props,
    .provides = wav_ifaces,
    .realize = wav_realize,
    .unrealize = wav_unrealize,
};

static bool wav_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &wav_class, err);
}

TESS_PLUGIN_DEFINE("audio-wav", "1.0.0", "LGPL-2.1-or-later",
                   "sound output into a WAV file", wav_init);
