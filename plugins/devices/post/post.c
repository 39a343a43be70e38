/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * POST code port (0x80). BIOSes write their power-on self-test progress
 * codes here, as an ISA POST card would show them; each new code goes to
 * the debug log (`--debug post`) and the last one reads back, as on the
 * chipsets that latch it. Linux also writes here, as an I/O delay after
 * the PIT's and the CMOS's ports (outb_p), thousands of times a second:
 * a write that repeats the code, or that nobody would see logged, costs
 * no formatting.
 */
#define G_LOG_DOMAIN "post"

#include <tessera/tessera.h>

typedef struct Post {
    TessDevice dev;
    uint64_t port;
    uint8_t last;
} Post;

static uint64_t post_read(void *opaque, uint64_t off, unsigned size)
{
    return ((Post *)opaque)->last;
}

static void post_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    Post *p = opaque;
    if (p->last == (uint8_t)val)
        return;
    p->last = (uint8_t)val;
    if (!g_log_writer_default_would_drop(G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN))
        g_debug("%s: POST code 0x%02x", p->dev.id, p->last);
}

static const TessIoOps post_io = {
    .read = post_read,
    .write = post_write,
    .widths = TESS_W8,
};

static bool post_realize(TessDevice *dev, GError **err)
{
    Post *p = (Post *)dev;
    return tess_pio_map(dev, (uint32_t)p->port, 1, &post_io, p, err);
}

static const TessPropSpec post_props[] = {
    TESS_PROP_UINT_("port", Post, port, "0x80", 0, 0xFFFF, "POST code port"),
    TESS_PROP_END,
};

static const TessStateField post_state_fields[] = {
    TESS_STATE_U8(Post, last),
    TESS_STATE_END,
};

static const TessStateDesc post_state = { .version = 1, .fields = post_state_fields };

static const TessDeviceClass post_class = {
    .type = "post",
    .kind = TESS_CLASS_DEVICE,
    .doc = "POST code port: codes to the debug log, last code reads back",
    .instance_size = sizeof(Post),
    .props = post_props,
    .state = &post_state,
    .realize = post_realize,
};

static bool post_plugin_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &post_class, err);
}

TESS_PLUGIN_DEFINE("post", "0.1.0", "LGPL-2.1-or-later",
                   "POST code port 0x80", post_plugin_init);
