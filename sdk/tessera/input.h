/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host keyboard and mouse input, interface "input".
 *
 * Provided by guest-visible input devices (the i8042 keyboard controller
 * with its PS/2 keyboard and mouse); a UI front end finds the provider
 * with tess_device_find_provider(dev, TESS_IFACE_INPUT, NULL, ...) and
 * feeds it physical events. Calls are made on the machine's thread (a UI
 * thread posts them there).
 *
 * Keys are Linux input event codes (KEY_A = 30, KEY_ENTER = 28, ...,
 * <linux/input-event-codes.h>), a stable, documented numbering that every
 * host toolkit can map to. Report physical transitions only: the device
 * generates typematic repeats itself, as a real keyboard does, so a
 * repeated "down" for a key already down is ignored.
 */
#ifndef TESSERA_INPUT_H
#define TESSERA_INPUT_H

#include <tessera/types.h>

G_BEGIN_DECLS

#define TESS_IFACE_INPUT "input"
#define TESS_IFACE_INPUT_VERSION 1   /* see TessIfaceSpec in device.h */

/* Mouse buttons, as the `buttons` bit mask of mouse_event. */
enum {
    TESS_INPUT_BUTTON_LEFT   = 1u << 0,
    TESS_INPUT_BUTTON_RIGHT  = 1u << 1,
    TESS_INPUT_BUTTON_MIDDLE = 1u << 2,
    TESS_INPUT_BUTTON_SIDE   = 1u << 3,   /* 4th button */
    TESS_INPUT_BUTTON_EXTRA  = 1u << 4,   /* 5th button */
};

typedef struct TessInputOps {
    /* A key went down or up; `code` is a Linux KEY_* code. */
    void (*key_event)(TessDevice *dev, unsigned code, bool down);
    /* Relative motion in device counts: dx > 0 right, dy > 0 down (screen
     * direction), dz > 0 wheel turned away from the user (scroll up);
     * `buttons` is the full current button state. */
    void (*mouse_event)(TessDevice *dev, int dx, int dy, int dz, unsigned buttons);
    void *reserved[6];
} TessInputOps;

/* Host game controllers, interface "joystick" (provided by the game port).
 * Two sticks of two axes and two buttons each, as the PC game port has:
 * axes from -32768 (left / up) to 32767 (right / down), buttons bit 0 and
 * bit 1 (fire A, fire B). Calls are made on the machine's thread. */
#define TESS_IFACE_JOYSTICK "joystick"
#define TESS_IFACE_JOYSTICK_VERSION 1   /* see TessIfaceSpec in device.h */

typedef struct TessJoystickOps {
    size_t size;                    /* sizeof(TessJoystickOps) */
    /* Stick `stick` (0 or 1) is now at (x, y) with these buttons down;
     * connected = false unplugs it (its axes never time out). */
    void (*state)(TessDevice *dev, unsigned stick, bool connected, int x, int y,
                  unsigned buttons);
    void *reserved[4];
} TessJoystickOps;

G_END_DECLS

#endif
