/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ui-headless: a front end without a window. The machine's screen and
 * keyboard are reached through the control socket only:
 * `tessera ctl SOCKET screenshot FILE.png | screentext | sendkey KEYS`.
 * `tessera run --display none` adds it (id "display").
 */
#define G_LOG_DOMAIN "ui-headless"
#include "ui-common.h"

typedef struct UiHeadless {
    TessDevice dev;
    UiCommon ui;
} UiHeadless;

static bool headless_realize(TessDevice *dev, GError **err)
{
    UiHeadless *h = (UiHeadless *)dev;
    return ui_common_init(&h->ui, dev, err);
}

static void headless_unrealize(TessDevice *dev)
{
    UiHeadless *h = (UiHeadless *)dev;
    ui_common_fini(&h->ui);
}

static const char *const headless_needs[] = {
    TESS_IFACE_DISPLAY_SOURCE, TESS_IFACE_INPUT, NULL,
};

static const TessDeviceClass headless_class = {
    .type = "ui-headless",
    .kind = TESS_CLASS_BACKEND,
    .doc = "no window: screenshot, screentext and sendkey on the control socket",
    .instance_size = sizeof(UiHeadless),
    .needs = headless_needs,
    .realize = headless_realize,
    .unrealize = headless_unrealize,
};

static bool headless_plugin_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &headless_class, err);
}

TESS_PLUGIN_DEFINE("ui-headless", "1.0", "LGPL-2.1-or-later",
                   "headless front end: screenshots, screen text and keys over the control socket",
                   headless_plugin_init);
