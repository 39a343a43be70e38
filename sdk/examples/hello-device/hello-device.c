/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An out-of-tree Tessera device plugin: a "hello" port that answers a
 * greeting one byte per read and counts the bytes written to it. It is
 * built against the installed SDK only (pkg-config tessera-sdk), which is
 * all a third-party plugin needs.
 *
 *   <device type="hello-device" id="hello" port="0x520"/>
 */
#include <string.h>
#include <tessera/tessera.h>

typedef struct {
    TessDevice dev;
    uint64_t port;
    char *greeting;
    unsigned pos;
    uint32_t written;
} Hello;

/* The ops take the access width; one byte at a time is all this port
 * accepts (TESS_W8), so the core never hands it anything else. */
static uint64_t hello_read(void *opaque, uint64_t offset, G_GNUC_UNUSED unsigned size)
{
    Hello *h = opaque;
    if (offset == 1)
        return h->written & 0xFF;
    size_t len = strlen(h->greeting);
    if (!len)
        return 0;
    uint8_t c = (uint8_t)h->greeting[h->pos % len];
    h->pos++;
    return c;
}

static void hello_write(void *opaque, uint64_t offset, G_GNUC_UNUSED uint64_t value,
                        G_GNUC_UNUSED unsigned size)
{
    Hello *h = opaque;
    if (offset == 0)
        h->pos = 0;      /* any write to the data port rewinds */
    h->written++;
}

static const TessIoOps hello_ops = { .read = hello_read, .write = hello_write, .widths = TESS_W8 };

static bool hello_realize(TessDevice *dev, GError **err)
{
    Hello *h = (Hello *)dev;
    return tess_pio_map(dev, (uint32_t)h->port, 2, &hello_ops, h, err);
}

static void hello_reset(TessDevice *dev)
{
    Hello *h = (Hello *)dev;
    h->pos = 0;
    h->written = 0;
}

static const TessPropSpec hello_props[] = {
    TESS_PROP_UINT_("port", Hello, port, "0x520", 1, 0xFFFE, "data port (status at port+1; 0x510 is fw-cfg)"),
    TESS_PROP_STRING_("greeting", Hello, greeting, "hello, world", "what reads return"),
    TESS_PROP_END,
};

static const TessDeviceClass hello_class = {
    .type = "hello-device",
    .kind = TESS_CLASS_DEVICE,
    .doc = "example out-of-tree device: a greeting on a port",
    .instance_size = sizeof(Hello),
    .props = hello_props,
    .realize = hello_realize,
    .reset = hello_reset,
};

static bool hello_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &hello_class, err);
}

TESS_PLUGIN_DEFINE("hello-device", "1.0.0", "MIT",
                   "example third-party plugin built against the installed SDK", hello_init);
