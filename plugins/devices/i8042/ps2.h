/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PS/2 keyboard and mouse as the i8042 sees them: byte streams in, byte
 * streams out. Private to the i8042 plugin.
 */
#ifndef TESS_I8042_PS2_H
#define TESS_I8042_PS2_H

#include <tessera/tessera.h>

#define PS2_QUEUE_MAX 17          /* 16 bytes + the keyboard's overrun code */

typedef struct Ps2Queue {
    uint8_t data[PS2_QUEUE_MAX];
    uint8_t head;
    uint8_t count;
} Ps2Queue;

static inline void ps2_queue_clear(Ps2Queue *q)
{
    q->head = q->count = 0;
}

static inline unsigned ps2_queue_free(const Ps2Queue *q, unsigned cap)
{
    return q->count < cap ? cap - q->count : 0;
}

static inline void ps2_queue_push(Ps2Queue *q, uint8_t b)
{
    if (q->count >= PS2_QUEUE_MAX)
        return;
    q->data[(q->head + q->count) % PS2_QUEUE_MAX] = b;
    q->count++;
}

static inline bool ps2_queue_pop(Ps2Queue *q, uint8_t *b)
{
    if (!q->count)
        return false;
    *b = q->data[q->head];
    q->head = (q->head + 1) % PS2_QUEUE_MAX;
    q->count--;
    return true;
}

/* The keyboard (IBM PS/2 keyboard technical reference: "Commands from
 * the system", "Scan code sets"). */
typedef struct Ps2Kbd {
    Ps2Queue resp;              /* command responses: sent before scan codes */
    Ps2Queue scan;              /* the 16-byte key buffer */
    uint8_t scanning;
    uint8_t set;                /* scan code set 1, 2 or 3 */
    uint8_t leds;
    uint8_t typematic;          /* F3 rate/delay byte */
    uint8_t pending;            /* command waiting for its parameter */
    uint8_t last;               /* last byte sent, for Resend */
    uint8_t overrun;            /* overrun code is in the buffer */
    uint8_t down[32];           /* Linux key codes currently down */
    uint16_t repeat_key;        /* key held for typematic repeat (0: none) */
} Ps2Kbd;

void ps2_kbd_reset(Ps2Kbd *k);
/* A byte from the controller. */
void ps2_kbd_write(Ps2Kbd *k, uint8_t b);
/* Returns true when typematic repeat should start (delay) or stop. */
void ps2_kbd_key(Ps2Kbd *k, unsigned code, bool down);
void ps2_kbd_repeat(Ps2Kbd *k);
bool ps2_kbd_pop(Ps2Kbd *k, uint8_t *b);
bool ps2_kbd_has_data(const Ps2Kbd *k);
/* Typematic delay and period in ns from the F3 byte. */
uint64_t ps2_kbd_delay_ns(const Ps2Kbd *k);
uint64_t ps2_kbd_period_ns(const Ps2Kbd *k);

/* The 8042's set 2 -> set 1 translation table (IBM PC/AT technical
 * reference). */
extern const uint8_t ps2_xlat_table[256];

/* The mouse (IBM PS/2 mouse technical reference; Microsoft IntelliMouse
 * extensions: rates 200,100,80 -> ID 3; 200,200,80 -> ID 4). */
typedef struct Ps2Mouse {
    Ps2Queue q;
    uint8_t reporting;
    uint8_t remote;
    uint8_t wrap;
    uint8_t scaling21;
    uint8_t resolution;
    uint8_t rate;
    uint8_t id;
    uint8_t pending;
    uint8_t last;
    uint8_t hist[3];
    uint8_t buttons;
    uint8_t dirty;              /* a change not yet reported */
    int32_t dx, dy, dz;         /* PS/2 sense: dy > 0 up, dz > 0 toward the user */
} Ps2Mouse;

void ps2_mouse_reset(Ps2Mouse *m);
void ps2_mouse_write(Ps2Mouse *m, uint8_t b);
void ps2_mouse_event(Ps2Mouse *m, int dx, int dy, int dz, unsigned buttons);
bool ps2_mouse_pop(Ps2Mouse *m, uint8_t *b);
bool ps2_mouse_has_data(Ps2Mouse *m);

#endif
