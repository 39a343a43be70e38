/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What every Tessera front end shares: finding the machine's picture
 * ("display-source") and keyboard ("input"), and the control commands
 * screenshot, screentext and sendkey. Compiled into the ui-headless and
 * ui-sdl plugins (one source, two modules).
 *
 * A front end's instance struct starts with a TessDevice followed by a
 * UiCommon, so the command handlers find it from the device:
 *
 *     typedef struct { TessDevice dev; UiCommon ui; ... } MyUi;
 */
#ifndef TESS_UI_COMMON_H
#define TESS_UI_COMMON_H

#include <tessera/tessera.h>
#include <tessera/display.h>
#include <tessera/input.h>

typedef struct UiKeyEvent {
    uint64_t at_ns;            /* virtual time to deliver */
    uint16_t code;             /* Linux KEY_* */
    bool down;
} UiKeyEvent;

typedef struct UiCommon {
    TessDevice *dev;
    TessDevice *src;                       /* display source, or NULL */
    const TessDisplaySourceOps *dops;
    TessDevice *input;                     /* keyboard/mouse, or NULL */
    const TessInputOps *iops;
    TessTimer *key_timer;
    GArray *keys;                          /* UiKeyEvent, sorted by time */
} UiCommon;

typedef struct UiHead {
    TessDevice dev;
    UiCommon ui;
} UiHead;

/* Find the providers (either may be missing: the commands then say so)
 * and add the control commands. Call from realize. */
bool ui_common_init(UiCommon *u, TessDevice *dev, GError **err);
void ui_common_fini(UiCommon *u);

/* Write 32-bit XRGB pixels as an 8-bit RGB PNG. */
bool ui_write_png(const char *path, const TessDisplaySurface *s, GError **err);
/* The same, as binary PPM (P6) when ppm. */
bool ui_write_image(const char *path, const TessDisplaySurface *s, bool ppm, GError **err);

/* Unicode for a code page 437 character (the PC's ROM font). */
gunichar ui_cp437_to_unicode(uint8_t c);

/* A QEMU-style key name ("a", "ret", "ctrl", "f1", "kp_5") as a Linux
 * KEY_* code, or 0. */
unsigned ui_key_from_name(const char *name);

/* Deliver a key event to the input device now (machine thread). */
void ui_send_key(UiCommon *u, unsigned code, bool down);

#endif
