/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PS/2 keyboard: the command set and scan code sets 1, 2 and 3.
 *
 * From the IBM Personal System/2 Keyboard and Auxiliary Device technical
 * reference: "Commands from the System" (ED Set/Reset Mode Indicators, EE
 * Echo, F0 Select Alternate Scan Codes, F2 Read ID -> AB 83, F3 Set
 * Typematic Rate/Delay, F4 Enable, F5 Default Disable, F6 Set Default,
 * F7-FD set-3 key types, FE Resend, FF Reset -> AA), "Commands to the
 * System" (FA ack, AA BAT completion, FE resend, 00/FF overrun) and the
 * scan code tables. The keyboard's buffer holds 16 bytes; when a code
 * does not fit, the overrun code goes in the 17th position and keys are
 * lost until the buffer drains.
 */
#include "ps2.h"

#include <string.h>

#define KBD_ACK      0xFA
#define KBD_RESEND   0xFE
#define KBD_BAT_OK   0xAA
#define KBD_ECHO     0xEE
#define KBD_BUF_SIZE 16
#define KBD_TYPEMATIC_DEFAULT 0x2B      /* 10.9 characters/s, 500 ms */

#define KEY_SYSRQ 99
#define KEY_PAUSE 119

#define E0(x) (0xE000 | (x))

/* Scan codes by Linux key code: set 1 and set 2 (0xE0xx = E0 prefix),
 * set 3 (single byte). */
typedef struct KeyCodes {
    uint16_t s1, s2;
    uint8_t s3;
} KeyCodes;

static const KeyCodes kbd_map[128] = {
    [1] = { 0x01, 0x76, 0x08 },         /* Esc */
    [2] = { 0x02, 0x16, 0x16 },         /* 1 */
    [3] = { 0x03, 0x1E, 0x1E },
    [4] = { 0x04, 0x26, 0x26 },
    [5] = { 0x05, 0x25, 0x25 },
    [6] = { 0x06, 0x2E, 0x2E },
    [7] = { 0x07, 0x36, 0x36 },
    [8] = { 0x08, 0x3D, 0x3D },
    [9] = { 0x09, 0x3E, 0x3E },
    [10] = { 0x0A, 0x46, 0x46 },
    [11] = { 0x0B, 0x45, 0x45 },        /* 0 */
    [12] = { 0x0C, 0x4E, 0x4E },        /* - */
    [13] = { 0x0D, 0x55, 0x55 },        /* = */
    [14] = { 0x0E, 0x66, 0x66 },        /* Backspace */
    [15] = { 0x0F, 0x0D, 0x0D },        /* Tab */
    [16] = { 0x10, 0x15, 0x15 },        /* Q */
    [17] = { 0x11, 0x1D, 0x1D },
    [18] = { 0x12, 0x24, 0x24 },
    [19] = { 0x13, 0x2D, 0x2D },
    [20] = { 0x14, 0x2C, 0x2C },
    [21] = { 0x15, 0x35, 0x35 },
    [22] = { 0x16, 0x3C, 0x3C },
    [23] = { 0x17, 0x43, 0x43 },
    [24] = { 0x18, 0x44, 0x44 },
    [25] = { 0x19, 0x4D, 0x4D },        /* P */
    [26] = { 0x1A, 0x54, 0x54 },        /* [ */
    [27] = { 0x1B, 0x5B, 0x5B },        /* ] */
    [28] = { 0x1C, 0x5A, 0x5A },        /* Enter */
    [29] = { 0x1D, 0x14, 0x11 },        /* Left Ctrl */
    [30] = { 0x1E, 0x1C, 0x1C },        /* A */
    [31] = { 0x1F, 0x1B, 0x1B },
    [32] = { 0x20, 0x23, 0x23 },
    [33] = { 0x21, 0x2B, 0x2B },
    [34] = { 0x22, 0x34, 0x34 },
    [35] = { 0x23, 0x33, 0x33 },
    [36] = { 0x24, 0x3B, 0x3B },
    [37] = { 0x25, 0x42, 0x42 },
    [38] = { 0x26, 0x4B, 0x4B },        /* L */
    [39] = { 0x27, 0x4C, 0x4C },        /* ; */
    [40] = { 0x28, 0x52, 0x52 },        /* ' */
    [41] = { 0x29, 0x0E, 0x0E },        /* ` */
    [42] = { 0x2A, 0x12, 0x12 },        /* Left Shift */
    [43] = { 0x2B, 0x5D, 0x5C },        /* \ */
    [44] = { 0x2C, 0x1A, 0x1A },        /* Z */
    [45] = { 0x2D, 0x22, 0x22 },
    [46] = { 0x2E, 0x21, 0x21 },
    [47] = { 0x2F, 0x2A, 0x2A },
    [48] = { 0x30, 0x32, 0x32 },
    [49] = { 0x31, 0x31, 0x31 },
    [50] = { 0x32, 0x3A, 0x3A },        /* M */
    [51] = { 0x33, 0x41, 0x41 },        /* , */
    [52] = { 0x34, 0x49, 0x49 },        /* . */
    [53] = { 0x35, 0x4A, 0x4A },        /* / */
    [54] = { 0x36, 0x59, 0x59 },        /* Right Shift */
    [55] = { 0x37, 0x7C, 0x7E },        /* Keypad * */
    [56] = { 0x38, 0x11, 0x19 },        /* Left Alt */
    [57] = { 0x39, 0x29, 0x29 },        /* Space */
    [58] = { 0x3A, 0x58, 0x14 },        /* Caps Lock */
    [59] = { 0x3B, 0x05, 0x07 },        /* F1 */
    [60] = { 0x3C, 0x06, 0x0F },
    [61] = { 0x3D, 0x04, 0x17 },
    [62] = { 0x3E, 0x0C, 0x1F },
    [63] = { 0x3F, 0x03, 0x27 },
    [64] = { 0x40, 0x0B, 0x2F },
    [65] = { 0x41, 0x83, 0x37 },        /* F7 */
    [66] = { 0x42, 0x0A, 0x3F },
    [67] = { 0x43, 0x01, 0x47 },
    [68] = { 0x44, 0x09, 0x4F },        /* F10 */
    [69] = { 0x45, 0x77, 0x76 },        /* Num Lock */
    [70] = { 0x46, 0x7E, 0x5F },        /* Scroll Lock */
    [71] = { 0x47, 0x6C, 0x6C },        /* Keypad 7 */
    [72] = { 0x48, 0x75, 0x75 },
    [73] = { 0x49, 0x7D, 0x7D },
    [74] = { 0x4A, 0x7B, 0x84 },        /* Keypad - */
    [75] = { 0x4B, 0x6B, 0x6B },
    [76] = { 0x4C, 0x73, 0x73 },
    [77] = { 0x4D, 0x74, 0x74 },
    [78] = { 0x4E, 0x79, 0x7C },        /* Keypad + */
    [79] = { 0x4F, 0x69, 0x69 },
    [80] = { 0x50, 0x72, 0x72 },
    [81] = { 0x51, 0x7A, 0x7A },
    [82] = { 0x52, 0x70, 0x70 },        /* Keypad 0 */
    [83] = { 0x53, 0x71, 0x71 },        /* Keypad . */
    [85] = { 0x76, 0x5F, 0 },           /* Zenkaku/Hankaku */
    [86] = { 0x56, 0x61, 0x13 },        /* 102nd key */
    [87] = { 0x57, 0x78, 0x56 },        /* F11 */
    [88] = { 0x58, 0x07, 0x5E },        /* F12 */
    [89] = { 0x73, 0x51, 0 },           /* Ro */
    [90] = { 0x78, 0x63, 0 },           /* Katakana */
    [91] = { 0x77, 0x62, 0 },           /* Hiragana */
    [92] = { 0x79, 0x64, 0x86 },        /* Henkan */
    [93] = { 0x70, 0x13, 0x87 },        /* Katakana/Hiragana */
    [94] = { 0x7B, 0x67, 0x85 },        /* Muhenkan */
    [95] = { 0x5C, 0x27, 0 },           /* Keypad JP comma */
    [96] = { E0(0x1C), E0(0x5A), 0x79 },/* Keypad Enter */
    [97] = { E0(0x1D), E0(0x14), 0x58 },/* Right Ctrl */
    [98] = { E0(0x35), E0(0x4A), 0x77 },/* Keypad / */
    [99] = { E0(0x37), E0(0x7C), 0x57 },/* Print Screen (special sequences) */
    [100] = { E0(0x38), E0(0x11), 0x39 },/* Right Alt */
    [102] = { E0(0x47), E0(0x6C), 0x6E },/* Home */
    [103] = { E0(0x48), E0(0x75), 0x63 },/* Up */
    [104] = { E0(0x49), E0(0x7D), 0x6F },/* Page Up */
    [105] = { E0(0x4B), E0(0x6B), 0x61 },/* Left */
    [106] = { E0(0x4D), E0(0x74), 0x6A },/* Right */
    [107] = { E0(0x4F), E0(0x69), 0x65 },/* End */
    [108] = { E0(0x50), E0(0x72), 0x60 },/* Down */
    [109] = { E0(0x51), E0(0x7A), 0x6D },/* Page Down */
    [110] = { E0(0x52), E0(0x70), 0x67 },/* Insert */
    [111] = { E0(0x53), E0(0x71), 0x64 },/* Delete */
    [113] = { E0(0x20), E0(0x23), 0 },  /* Mute */
    [114] = { E0(0x2E), E0(0x21), 0 },  /* Volume Down */
    [115] = { E0(0x30), E0(0x32), 0 },  /* Volume Up */
    [116] = { E0(0x5E), E0(0x37), 0 },  /* Power */
    [117] = { 0x59, 0x0F, 0 },          /* Keypad = */
    [119] = { 0x45, 0x77, 0x62 },       /* Pause (special sequences) */
    [121] = { 0x7E, 0x6D, 0 },          /* Keypad comma */
    [124] = { 0x7D, 0x6A, 0x5D },       /* Yen */
    [125] = { E0(0x5B), E0(0x1F), 0x8B },/* Left Windows */
    [126] = { E0(0x5C), E0(0x27), 0x8C },/* Right Windows */
    [127] = { E0(0x5D), E0(0x2F), 0x8D },/* Menu */
};

const uint8_t ps2_xlat_table[256] = {
    0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
    0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a, 0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
    0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c, 0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
    0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e, 0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
    0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60, 0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
    0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e, 0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
    0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b, 0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
    0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45, 0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
    0x80, 0x81, 0x82, 0x41, 0x54, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f,
    0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f,
    0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
    0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
    0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf,
    0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf,
    0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef,
    0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
};

static void kbd_defaults(Ps2Kbd *k)
{
    k->typematic = KBD_TYPEMATIC_DEFAULT;
    k->repeat_key = 0;
}

static void kbd_clear_buffer(Ps2Kbd *k)
{
    ps2_queue_clear(&k->scan);
    k->overrun = 0;
}

void ps2_kbd_reset(Ps2Kbd *k)
{
    ps2_queue_clear(&k->resp);
    kbd_clear_buffer(k);
    kbd_defaults(k);
    k->scanning = 1;
    k->set = 2;
    k->leds = 0;
    k->pending = 0;
    k->last = 0;
    memset(k->down, 0, sizeof(k->down));
}

static void kbd_respond(Ps2Kbd *k, uint8_t b)
{
    ps2_queue_push(&k->resp, b);
}

void ps2_kbd_write(Ps2Kbd *k, uint8_t b)
{
    uint8_t cmd = k->pending;
    if (cmd) {
        k->pending = 0;
        switch (cmd) {
        case 0xED:                      /* Set/Reset Mode Indicators */
            k->leds = b & 7;
            kbd_respond(k, KBD_ACK);
            return;
        case 0xF3:                      /* Set Typematic Rate/Delay */
            k->typematic = b & 0x7F;
            kbd_respond(k, KBD_ACK);
            return;
        case 0xF0:                      /* Select Alternate Scan Codes */
            if (b == 0) {
                kbd_respond(k, KBD_ACK);
                kbd_respond(k, k->set);
            } else if (b <= 3) {
                k->set = b;
                kbd_clear_buffer(k);
                kbd_respond(k, KBD_ACK);
            } else {
                kbd_respond(k, KBD_RESEND);
            }
            return;
        default:
            break;
        }
    }
    switch (b) {
    case 0xED:
    case 0xF3:
    case 0xF0:
        k->pending = b;
        kbd_respond(k, KBD_ACK);
        break;
    case 0xEE:                          /* Echo */
        kbd_respond(k, KBD_ECHO);
        break;
    case 0xF2:                          /* Read ID */
        kbd_respond(k, KBD_ACK);
        kbd_respond(k, 0xAB);
        kbd_respond(k, 0x83);
        break;
    case 0xF4:                          /* Enable */
        kbd_clear_buffer(k);
        k->scanning = 1;
        kbd_respond(k, KBD_ACK);
        break;
    case 0xF5:                          /* Default Disable */
        kbd_clear_buffer(k);
        kbd_defaults(k);
        k->scanning = 0;
        kbd_respond(k, KBD_ACK);
        break;
    case 0xF6:                          /* Set Default */
        kbd_clear_buffer(k);
        kbd_defaults(k);
        k->scanning = 1;
        kbd_respond(k, KBD_ACK);
        break;
    case 0xF7: case 0xF8: case 0xF9: case 0xFA:
    case 0xFB: case 0xFC: case 0xFD:
        /* Set-3 key types: acknowledged; every key stays make/break
         * typematic. */
        kbd_respond(k, KBD_ACK);
        break;
    case 0xFE:                          /* Resend */
        kbd_respond(k, k->last);
        break;
    case 0xFF:                          /* Reset */
        ps2_kbd_reset(k);
        kbd_respond(k, KBD_ACK);
        kbd_respond(k, KBD_BAT_OK);
        break;
    default:
        kbd_respond(k, KBD_RESEND);
        break;
    }
}

/* Queue a whole scan code sequence, or the overrun code if it does not
 * fit. */
static void kbd_queue_seq(Ps2Kbd *k, const uint8_t *seq, unsigned n)
{
    if (k->overrun)
        return;                         /* lost until the buffer drains */
    if (k->scan.count + n > KBD_BUF_SIZE) {
        ps2_queue_push(&k->scan, k->set == 1 ? 0xFF : 0x00);
        k->overrun = 1;
        return;
    }
    for (unsigned i = 0; i < n; i++)
        ps2_queue_push(&k->scan, seq[i]);
}

static unsigned kbd_sequence(Ps2Kbd *k, unsigned code, bool down, uint8_t *s)
{
    const KeyCodes *kc = &kbd_map[code];
    unsigned n = 0;
    if (k->set == 3) {
        if (!kc->s3)
            return 0;
        if (!down)
            s[n++] = 0xF0;
        s[n++] = kc->s3;
        return n;
    }
    if (code == KEY_PAUSE) {
        /* Pause has no break code in sets 1 and 2. */
        static const uint8_t p1[] = { 0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5 };
        static const uint8_t p2[] = { 0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77 };
        if (!down)
            return 0;
        const uint8_t *p = k->set == 1 ? p1 : p2;
        n = k->set == 1 ? sizeof(p1) : sizeof(p2);
        memcpy(s, p, n);
        return n;
    }
    if (code == KEY_SYSRQ) {
        static const uint8_t m1[] = { 0xE0, 0x2A, 0xE0, 0x37 }, b1[] = { 0xE0, 0xB7, 0xE0, 0xAA };
        static const uint8_t m2[] = { 0xE0, 0x12, 0xE0, 0x7C }, b2[] = { 0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12 };
        const uint8_t *p = k->set == 1 ? (down ? m1 : b1) : (down ? m2 : b2);
        n = k->set == 1 ? 4 : (down ? sizeof(m2) : sizeof(b2));
        memcpy(s, p, n);
        return n;
    }
    uint16_t sc = k->set == 1 ? kc->s1 : kc->s2;
    if (!sc)
        return 0;
    if (sc & 0xFF00)
        s[n++] = 0xE0;
    if (k->set == 1) {
        s[n++] = (sc & 0xFF) | (down ? 0 : 0x80);
    } else {
        if (!down)
            s[n++] = 0xF0;
        s[n++] = sc & 0xFF;
    }
    return n;
}

void ps2_kbd_key(Ps2Kbd *k, unsigned code, bool down)
{
    if (code >= G_N_ELEMENTS(kbd_map))
        return;
    uint8_t bit = 1u << (code & 7);
    bool was = k->down[code >> 3] & bit;
    if (down == was)
        return;                         /* host repeats are ignored */
    if (down)
        k->down[code >> 3] |= bit;
    else
        k->down[code >> 3] &= ~bit;

    if (down)
        k->repeat_key = code == KEY_PAUSE ? 0 : code;
    else if (k->repeat_key == code)
        k->repeat_key = 0;

    if (!k->scanning)
        return;
    uint8_t seq[8];
    unsigned n = kbd_sequence(k, code, down, seq);
    if (n)
        kbd_queue_seq(k, seq, n);
}

void ps2_kbd_repeat(Ps2Kbd *k)
{
    if (!k->repeat_key || !k->scanning)
        return;
    uint8_t seq[8];
    unsigned n = kbd_sequence(k, k->repeat_key, true, seq);
    if (n)
        kbd_queue_seq(k, seq, n);
}

uint64_t ps2_kbd_delay_ns(const Ps2Kbd *k)
{
    return (uint64_t)(((k->typematic >> 5) & 3) + 1) * 250000000ull;
}

uint64_t ps2_kbd_period_ns(const Ps2Kbd *k)
{
    /* (8 + A) * 2^B / 240 seconds: 30.0 down to 2.0 characters/s. */
    unsigned a = k->typematic & 7, b = (k->typematic >> 3) & 3;
    return ((uint64_t)(8 + a) << b) * 1000000000ull / 240;
}

bool ps2_kbd_has_data(const Ps2Kbd *k)
{
    return k->resp.count || k->scan.count;
}

bool ps2_kbd_pop(Ps2Kbd *k, uint8_t *b)
{
    if (!ps2_queue_pop(&k->resp, b)) {
        if (!ps2_queue_pop(&k->scan, b))
            return false;
        if (!k->scan.count)
            k->overrun = 0;
    }
    k->last = *b;
    return true;
}
