/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * 8042 tests: the controller command set, the keyboard and mouse command
 * sets, scan code sets with and without translation, the IRQ lines and
 * the output port (A20, reset), per the IBM PC/AT and PS/2 technical
 * references.
 */
#include "harness.h"

#include <tessera/input.h>

static const char *xml =
    "<device type='i8042' id='kbc'/>"
    "<device type='th-probe' id='probe'/>"
    "<wire from='kbc.irq1' to='probe.in0'/>"
    "<wire from='kbc.irq12' to='probe.in1'/>"
    "<wire from='kbc.a20' to='probe.in2'/>";

enum { KEY_A = 30, KEY_LEFTSHIFT = 42, KEY_RIGHTCTRL = 97, KEY_PAUSE = 119, KEY_SYSRQ = 99,
       KEY_F7 = 65, KEY_B = 48 };

static uint8_t status(TessMachine *m)
{
    return th_inb(m, 0x64);
}

/* Read the output buffer, which must be full. */
static uint8_t rd(TessMachine *m)
{
    g_assert_true(status(m) & 0x01);
    return th_inb(m, 0x60);
}

static void expect(TessMachine *m, const uint8_t *bytes, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        g_assert_cmphex(rd(m), ==, bytes[i]);
    g_assert_false(status(m) & 0x01);
}
#define EXPECT(m, ...) do { static const uint8_t e_[] = { __VA_ARGS__ }; \
                            expect(m, e_, sizeof(e_)); } while (0)

static void cmd(TessMachine *m, uint8_t c)
{
    th_outb(m, 0x64, c);
}

static void set_cb(TessMachine *m, uint8_t cb)
{
    cmd(m, 0x60);
    th_outb(m, 0x60, cb);
}

static void key(TessMachine *m, unsigned code, bool down)
{
    TessDevice *d = tess_machine_device(m, "kbc");
    const TessInputOps *ops = tess_device_interface(d, TESS_IFACE_INPUT);
    g_assert_nonnull(ops);
    ops->key_event(d, code, down);
}

static void mouse(TessMachine *m, int dx, int dy, int dz, unsigned buttons)
{
    TessDevice *d = tess_machine_device(m, "kbc");
    const TessInputOps *ops = tess_device_interface(d, TESS_IFACE_INPUT);
    ops->mouse_event(d, dx, dy, dz, buttons);
}

static void aux(TessMachine *m, uint8_t b)
{
    cmd(m, 0xD4);
    th_outb(m, 0x60, b);
}

static void test_controller(void)
{
    TessMachine *m = th_machine(xml);
    g_assert_cmphex(status(m) & 0x01, ==, 0);
    cmd(m, 0xAA);
    g_assert_true(status(m) & 0x08);            /* A2: last write was a command */
    EXPECT(m, 0x55);
    cmd(m, 0xAB);
    EXPECT(m, 0x00);
    cmd(m, 0xA9);
    EXPECT(m, 0x00);
    cmd(m, 0xA4);
    EXPECT(m, 0xF1);
    /* Command byte round trip; SYS shows in the status register. */
    set_cb(m, 0x45);
    g_assert_false(status(m) & 0x08);
    cmd(m, 0x20);
    EXPECT(m, 0x45);
    g_assert_true(status(m) & 0x04);
    cmd(m, 0xAD);
    cmd(m, 0xA7);
    cmd(m, 0x20);
    EXPECT(m, 0x75);
    cmd(m, 0xAE);
    cmd(m, 0xA8);
    cmd(m, 0x20);
    EXPECT(m, 0x45);
    /* Internal RAM. */
    cmd(m, 0x65);
    th_outb(m, 0x60, 0x9C);
    cmd(m, 0x25);
    EXPECT(m, 0x9C);
    /* D2/D3: bytes as if from the keyboard and the mouse. */
    set_cb(m, 0x03);
    cmd(m, 0xD2);
    th_outb(m, 0x60, 0x12);
    g_assert_true(th_probe_level(m, "probe", 0));
    g_assert_false(status(m) & 0x20);
    EXPECT(m, 0x12);
    g_assert_false(th_probe_level(m, "probe", 0));
    cmd(m, 0xD3);
    th_outb(m, 0x60, 0x34);
    g_assert_true(th_probe_level(m, "probe", 1));
    g_assert_true(status(m) & 0x20);
    EXPECT(m, 0x34);
    g_assert_false(th_probe_level(m, "probe", 1));
    th_machine_free(m);
}

/* IBM PC/AT Technical Reference, status register bit 2 (system flag):
 * 0 after power-on, 1 after a successful self-test, and whatever is
 * written to the command byte's system flag bit. */
static void test_system_flag(void)
{
    TessMachine *m = th_machine(xml);
    g_assert_cmphex(status(m) & 0x04, ==, 0);
    cmd(m, 0xAA);
    EXPECT(m, 0x55);
    g_assert_cmphex(status(m) & 0x04, ==, 0x04);
    cmd(m, 0xAB);                               /* other commands leave it */
    EXPECT(m, 0x00);
    g_assert_cmphex(status(m) & 0x04, ==, 0x04);
    set_cb(m, 0x01);
    g_assert_cmphex(status(m) & 0x04, ==, 0);
    set_cb(m, 0x05);
    g_assert_cmphex(status(m) & 0x04, ==, 0x04);
    set_cb(m, 0x01);
    cmd(m, 0xAA);
    EXPECT(m, 0x55);
    g_assert_cmphex(status(m) & 0x04, ==, 0x04);
    th_machine_free(m);
}

static void test_output_port(void)
{
    TessMachine *m = th_machine(xml);
    g_assert_true(th_probe_level(m, "probe", 2));   /* A20 on after reset */
    cmd(m, 0xD0);
    uint8_t op = rd(m);
    g_assert_true(op & 0x02);
    g_assert_true(op & 0x01);
    cmd(m, 0xD1);
    th_outb(m, 0x60, op & ~0x02);
    g_assert_false(th_probe_level(m, "probe", 2));
    g_assert_false(m->reset_requested);
    cmd(m, 0xDF);
    g_assert_true(th_probe_level(m, "probe", 2));
    cmd(m, 0xDD);
    g_assert_false(th_probe_level(m, "probe", 2));
    /* Pulses other than bit 0 do not reset. */
    cmd(m, 0xFF);
    cmd(m, 0xF1);
    g_assert_false(m->reset_requested);
    cmd(m, 0xFE);                               /* pulse reset */
    g_assert_true(m->reset_requested);
    m->reset_requested = false;
    cmd(m, 0xD1);
    th_outb(m, 0x60, 0xDE);                     /* bit 0 low: reset */
    g_assert_true(m->reset_requested);
    th_machine_free(m);
}

static void test_keyboard_commands(void)
{
    TessMachine *m = th_machine(xml);
    th_outb(m, 0x60, 0xFF);                     /* reset */
    EXPECT(m, 0xFA, 0xAA);
    th_outb(m, 0x60, 0xF2);                     /* identify, untranslated */
    EXPECT(m, 0xFA, 0xAB, 0x83);
    th_outb(m, 0x60, 0xEE);
    EXPECT(m, 0xEE);
    th_outb(m, 0x60, 0xED);
    EXPECT(m, 0xFA);
    th_outb(m, 0x60, 0x07);
    EXPECT(m, 0xFA);
    th_outb(m, 0x60, 0xF3);
    th_outb(m, 0x60, 0x20);
    EXPECT(m, 0xFA, 0xFA);
    th_outb(m, 0x60, 0xF0);
    th_outb(m, 0x60, 0x00);
    EXPECT(m, 0xFA, 0xFA, 0x02);
    th_outb(m, 0x60, 0x12);                     /* not a command */
    EXPECT(m, 0xFE);
    th_outb(m, 0x60, 0xFE);                     /* resend */
    EXPECT(m, 0xFE);
    /* With translation the ID reads AB 41 and set 2 reads 41. */
    set_cb(m, 0x40);
    th_outb(m, 0x60, 0xF2);
    EXPECT(m, 0xFA, 0xAB, 0x41);
    th_outb(m, 0x60, 0xF0);
    th_outb(m, 0x60, 0x00);
    EXPECT(m, 0xFA, 0xFA, 0x41);
    /* Disabled keyboard sends no scan codes; enable resumes. */
    th_outb(m, 0x60, 0xF5);
    EXPECT(m, 0xFA);
    key(m, KEY_A, true);
    key(m, KEY_A, false);
    g_assert_false(status(m) & 0x01);
    th_outb(m, 0x60, 0xF4);
    EXPECT(m, 0xFA);
    key(m, KEY_A, true);
    EXPECT(m, 0x1E);
    th_machine_free(m);
}

static void test_scancodes(void)
{
    TessMachine *m = th_machine(xml);
    set_cb(m, 0x00);                            /* set 2, untranslated */
    key(m, KEY_A, true);
    key(m, KEY_A, true);                        /* host repeat: ignored */
    key(m, KEY_A, false);
    EXPECT(m, 0x1C, 0xF0, 0x1C);
    key(m, KEY_RIGHTCTRL, true);
    key(m, KEY_RIGHTCTRL, false);
    EXPECT(m, 0xE0, 0x14, 0xE0, 0xF0, 0x14);
    key(m, KEY_F7, true);
    EXPECT(m, 0x83);
    key(m, KEY_F7, false);
    EXPECT(m, 0xF0, 0x83);
    key(m, KEY_PAUSE, true);
    key(m, KEY_PAUSE, false);
    EXPECT(m, 0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77);
    key(m, KEY_SYSRQ, true);
    EXPECT(m, 0xE0, 0x12, 0xE0, 0x7C);
    key(m, KEY_SYSRQ, false);

    /* Translated: the controller turns set 2 into set 1. */
    (void)th_inb(m, 0x60);
    while (status(m) & 1)
        (void)th_inb(m, 0x60);
    set_cb(m, 0x40);
    key(m, KEY_A, true);
    key(m, KEY_A, false);
    EXPECT(m, 0x1E, 0x9E);
    key(m, KEY_RIGHTCTRL, true);
    key(m, KEY_RIGHTCTRL, false);
    EXPECT(m, 0xE0, 0x1D, 0xE0, 0x9D);
    key(m, KEY_F7, true);
    key(m, KEY_F7, false);
    EXPECT(m, 0x41, 0xC1);
    key(m, KEY_PAUSE, true);
    EXPECT(m, 0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5);

    /* Set 1 from the keyboard, untranslated. */
    set_cb(m, 0x00);
    th_outb(m, 0x60, 0xF0);
    th_outb(m, 0x60, 0x01);
    EXPECT(m, 0xFA, 0xFA);
    key(m, KEY_LEFTSHIFT, true);
    key(m, KEY_LEFTSHIFT, false);
    EXPECT(m, 0x2A, 0xAA);
    key(m, KEY_RIGHTCTRL, true);
    key(m, KEY_RIGHTCTRL, false);
    EXPECT(m, 0xE0, 0x1D, 0xE0, 0x9D);
    /* Set 3: no E0 prefixes. */
    th_outb(m, 0x60, 0xF0);
    th_outb(m, 0x60, 0x03);
    EXPECT(m, 0xFA, 0xFA);
    key(m, KEY_RIGHTCTRL, true);
    key(m, KEY_RIGHTCTRL, false);
    EXPECT(m, 0x58, 0xF0, 0x58);
    key(m, KEY_F7, true);
    EXPECT(m, 0x37);
    th_machine_free(m);
}

/* Every key of the PC keyboard as a real 8042 delivers it with translation
 * on (the keyboard in set 2, the guest reading set 1): make and break
 * sequences from the IBM scan code set 1 table, indexed by Linux key code.
 * Written out here rather than derived from the plugin's table. Each byte
 * raises IRQ1 afresh: an interrupt-driven guest (SeaBIOS INT 09h, GRUB)
 * reads one byte per interrupt, so the second byte of E0 50 (Down) needs
 * its own edge. */
typedef struct PcKey {
    uint8_t code;
    uint8_t make[6], nmake;
    uint8_t brk[6], nbrk;
} PcKey;
#define K1(c, sc) { c, { sc }, 1, { (sc) | 0x80 }, 1 }
#define KE0(c, sc) { c, { 0xE0, sc }, 2, { 0xE0, (sc) | 0x80 }, 2 }
static const PcKey pc_keys[] = {
    K1(1, 0x01), K1(2, 0x02), K1(3, 0x03), K1(4, 0x04), K1(5, 0x05), K1(6, 0x06),
    K1(7, 0x07), K1(8, 0x08), K1(9, 0x09), K1(10, 0x0A), K1(11, 0x0B), K1(12, 0x0C),
    K1(13, 0x0D), K1(14, 0x0E), K1(15, 0x0F), K1(16, 0x10), K1(17, 0x11), K1(18, 0x12),
    K1(19, 0x13), K1(20, 0x14), K1(21, 0x15), K1(22, 0x16), K1(23, 0x17), K1(24, 0x18),
    K1(25, 0x19), K1(26, 0x1A), K1(27, 0x1B), K1(28, 0x1C), K1(29, 0x1D), K1(30, 0x1E),
    K1(31, 0x1F), K1(32, 0x20), K1(33, 0x21), K1(34, 0x22), K1(35, 0x23), K1(36, 0x24),
    K1(37, 0x25), K1(38, 0x26), K1(39, 0x27), K1(40, 0x28), K1(41, 0x29), K1(42, 0x2A),
    K1(43, 0x2B), K1(44, 0x2C), K1(45, 0x2D), K1(46, 0x2E), K1(47, 0x2F), K1(48, 0x30),
    K1(49, 0x31), K1(50, 0x32), K1(51, 0x33), K1(52, 0x34), K1(53, 0x35), K1(54, 0x36),
    K1(55, 0x37), K1(56, 0x38), K1(57, 0x39), K1(58, 0x3A), K1(59, 0x3B), K1(60, 0x3C),
    K1(61, 0x3D), K1(62, 0x3E), K1(63, 0x3F), K1(64, 0x40), K1(65, 0x41), K1(66, 0x42),
    K1(67, 0x43), K1(68, 0x44), K1(69, 0x45), K1(70, 0x46), K1(71, 0x47), K1(72, 0x48),
    K1(73, 0x49), K1(74, 0x4A), K1(75, 0x4B), K1(76, 0x4C), K1(77, 0x4D), K1(78, 0x4E),
    K1(79, 0x4F), K1(80, 0x50), K1(81, 0x51), K1(82, 0x52), K1(83, 0x53),
    K1(86, 0x56),                       /* 102nd key (ISO < >) */
    K1(87, 0x57), K1(88, 0x58),         /* F11, F12 */
    K1(89, 0x73), K1(92, 0x79), K1(93, 0x70), K1(94, 0x7B), K1(124, 0x7D), /* Japanese */
    KE0(96, 0x1C),                      /* Keypad Enter */
    KE0(97, 0x1D),                      /* Right Ctrl */
    KE0(98, 0x35),                      /* Keypad / */
    KE0(100, 0x38),                     /* Right Alt */
    KE0(102, 0x47), KE0(103, 0x48), KE0(104, 0x49),  /* Home Up PgUp */
    KE0(105, 0x4B), KE0(106, 0x4D),                  /* Left Right */
    KE0(107, 0x4F), KE0(108, 0x50), KE0(109, 0x51),  /* End Down PgDn */
    KE0(110, 0x52), KE0(111, 0x53),                  /* Insert Delete */
    KE0(113, 0x20), KE0(114, 0x2E), KE0(115, 0x30),  /* Mute Vol- Vol+ */
    KE0(116, 0x5E),                     /* Power */
    KE0(125, 0x5B), KE0(126, 0x5C), KE0(127, 0x5D),  /* Windows, Menu */
    /* Print Screen: a fake Left Shift around E0 37. */
    { 99, { 0xE0, 0x2A, 0xE0, 0x37 }, 4, { 0xE0, 0xB7, 0xE0, 0xAA }, 4 },
    /* Pause: Ctrl+NumLock behind E1, all at make; no break code. */
    { 119, { 0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5 }, 6, { 0 }, 0 },
};

/* Read what the controller offers as an interrupt-driven guest does:
 * one byte per new IRQ1 edge. */
static void expect_irq_bytes(TessMachine *m, const uint8_t *want, unsigned n, unsigned code)
{
    for (unsigned i = 0; i < n; i++) {
        unsigned edges = th_probe_edges(m, "probe", 0);
        g_assert_true(th_probe_level(m, "probe", 0));
        uint8_t b = th_inb(m, 0x60);
        if (b != want[i])
            g_error("key %u byte %u: got %02X, want %02X", code, i, b, want[i]);
        if (i + 1 < n && th_probe_edges(m, "probe", 0) != edges + 1)
            g_error("key %u byte %u: no new IRQ1 edge for the next byte", code, i + 1);
    }
    g_assert_false(status(m) & 0x01);
    g_assert_false(th_probe_level(m, "probe", 0));
}

static void test_every_key_translated(void)
{
    TessMachine *m = th_machine(xml);
    set_cb(m, 0x41);                            /* XLAT, INT: as every BIOS leaves it */
    for (size_t i = 0; i < G_N_ELEMENTS(pc_keys); i++) {
        const PcKey *k = &pc_keys[i];
        key(m, k->code, true);
        expect_irq_bytes(m, k->make, k->nmake, k->code);
        key(m, k->code, false);
        expect_irq_bytes(m, k->brk, k->nbrk, k->code);
    }
    /* Untranslated set 2 keeps the prefixes and F0 break: Down is E0 72,
     * E0 F0 72, each byte with its own edge. */
    set_cb(m, 0x01);
    key(m, 108, true);
    expect_irq_bytes(m, (const uint8_t[]){ 0xE0, 0x72 }, 2, 108);
    key(m, 108, false);
    expect_irq_bytes(m, (const uint8_t[]){ 0xE0, 0xF0, 0x72 }, 3, 108);
    th_machine_free(m);
}

static void test_irq_and_disable(void)
{
    TessMachine *m = th_machine(xml);
    set_cb(m, 0x41);                            /* XLAT, INT */
    key(m, KEY_A, true);
    g_assert_true(th_probe_level(m, "probe", 0));
    g_assert_cmphex(th_inb(m, 0x60), ==, 0x1E);
    g_assert_false(th_probe_level(m, "probe", 0));
    /* Keyboard interface disabled: bytes wait in the keyboard. */
    cmd(m, 0xAD);
    key(m, KEY_A, false);
    g_assert_false(status(m) & 0x01);
    g_assert_false(th_probe_level(m, "probe", 0));
    cmd(m, 0xAE);
    g_assert_true(th_probe_level(m, "probe", 0));
    EXPECT(m, 0x9E);
    /* INT off: data but no IRQ. */
    set_cb(m, 0x40);
    key(m, KEY_B, true);
    g_assert_true(status(m) & 0x01);
    g_assert_false(th_probe_level(m, "probe", 0));
    EXPECT(m, 0x30);
    th_machine_free(m);
}

static void test_overrun(void)
{
    TessMachine *m = th_machine(xml);
    set_cb(m, 0x10);                            /* keyboard interface off, set 2 raw */
    /* 20 single-byte make codes into a 16-byte buffer. */
    static const unsigned keys[20] = { 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,
                                       30, 31, 32, 33, 34, 35, 36, 37, 38, 44 };
    static const uint8_t set2[20] = { 0x15, 0x1D, 0x24, 0x2D, 0x2C, 0x35, 0x3C, 0x43,
                                      0x44, 0x4D, 0x1C, 0x1B, 0x23, 0x2B, 0x34, 0x33,
                                      0x3B, 0x42, 0x4B, 0x1A };
    for (unsigned i = 0; i < 20; i++)
        key(m, keys[i], true);
    set_cb(m, 0x00);
    for (unsigned i = 0; i < 16; i++)
        g_assert_cmphex(rd(m), ==, set2[i]);
    g_assert_cmphex(rd(m), ==, 0x00);           /* overrun code in the 17th place */
    g_assert_false(status(m) & 0x01);
    /* After draining, keys get through again. */
    key(m, 45, true);
    EXPECT(m, 0x22);
    th_machine_free(m);
}

static void test_typematic(void)
{
    TessMachine *m = th_machine(xml);
    set_cb(m, 0x40);
    key(m, KEY_A, true);
    EXPECT(m, 0x1E);
    /* Default 500 ms delay, then 10.9/s: (8 + 3) * 2 / 240 s = 91.67 ms. */
    th_advance(m, 499000000);
    g_assert_false(status(m) & 0x01);
    th_advance(m, 2000000);
    EXPECT(m, 0x1E);
    th_advance(m, 90000000);
    g_assert_false(status(m) & 0x01);
    th_advance(m, 1000000);
    EXPECT(m, 0x1E);
    key(m, KEY_A, false);
    EXPECT(m, 0x9E);
    th_advance(m, 2000000000ull);
    g_assert_false(status(m) & 0x01);
    /* Fastest rate, shortest delay: 250 ms then 30/s. */
    th_outb(m, 0x60, 0xF3);
    th_outb(m, 0x60, 0x00);
    EXPECT(m, 0xFA, 0xFA);
    key(m, KEY_B, true);
    th_advance(m, 250000000 + 1000000000 - 1);
    /* Make + 30 repeats (250 ms + k * 33.3 ms) within 1.25 s; the output
     * buffer takes the make, the keyboard holds 16 and then the overrun
     * code, translated to set 1's FF. */
    for (unsigned i = 0; i < 17; i++)
        g_assert_cmphex(rd(m), ==, 0x30);
    EXPECT(m, 0xFF);
    th_machine_free(m);
}

static void test_mouse(void)
{
    TessMachine *m = th_machine(xml);
    set_cb(m, 0x02);                            /* INT2 */
    aux(m, 0xFF);
    g_assert_true(status(m) & 0x20);
    g_assert_true(th_probe_level(m, "probe", 1));
    EXPECT(m, 0xFA, 0xAA, 0x00);
    aux(m, 0xF2);
    EXPECT(m, 0xFA, 0x00);
    /* Status request: stream, disabled, 1:1, resolution 2, 100/s. */
    aux(m, 0xE9);
    EXPECT(m, 0xFA, 0x00, 0x02, 0x64);
    aux(m, 0xE8);
    aux(m, 0x03);
    aux(m, 0xE7);
    aux(m, 0xE9);
    EXPECT(m, 0xFA, 0xFA, 0xFA, 0xFA, 0x10, 0x03, 0x64);
    aux(m, 0xE6);
    EXPECT(m, 0xFA);
    /* Streaming: right 10, up 5, left button. */
    aux(m, 0xF4);
    EXPECT(m, 0xFA);
    mouse(m, 10, -5, 0, TESS_INPUT_BUTTON_LEFT);
    g_assert_true(status(m) & 0x20);
    EXPECT(m, 0x09, 0x0A, 0x05);
    /* Left 3 and down 300: Y overflows the 9-bit field; the rest of the
     * motion follows in a second report. */
    mouse(m, -3, 300, 0, 0);
    EXPECT(m, 0xB8, 0xFD, 0x00, 0x28, 0x00, 0xD4);
    /* IntelliMouse: 200, 100, 80 then ID 3 and 4-byte packets. */
    static const uint8_t rates[3] = { 200, 100, 80 };
    for (unsigned i = 0; i < 3; i++) {
        aux(m, 0xF3);
        aux(m, rates[i]);
    }
    EXPECT(m, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA);
    aux(m, 0xF2);
    EXPECT(m, 0xFA, 0x03);
    aux(m, 0xF4);
    EXPECT(m, 0xFA);
    mouse(m, 0, 0, 1, 0);                       /* wheel up: -1 */
    EXPECT(m, 0x08, 0x00, 0x00, 0xFF);
    /* 200, 200, 80: Explorer ID 4. */
    static const uint8_t rates4[3] = { 200, 200, 80 };
    for (unsigned i = 0; i < 3; i++) {
        aux(m, 0xF3);
        aux(m, rates4[i]);
    }
    aux(m, 0xF2);
    EXPECT(m, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0x04);
    /* Remote mode: nothing streams; Read Data gives the packet. */
    aux(m, 0xF0);
    EXPECT(m, 0xFA);
    mouse(m, 1, 0, 0, TESS_INPUT_BUTTON_RIGHT);
    g_assert_false(status(m) & 0x01);
    aux(m, 0xEB);
    EXPECT(m, 0xFA, 0x0A, 0x01, 0x00, 0x00);
    /* Wrap mode echoes until EC. */
    aux(m, 0xEE);
    aux(m, 0x42);
    aux(m, 0xEC);
    EXPECT(m, 0xFA, 0x42, 0xFA);
    aux(m, 0x55);                               /* not a command */
    EXPECT(m, 0xFE);
    /* Aux interface disabled: mouse bytes held back. */
    cmd(m, 0xA7);
    aux(m, 0xF2);
    g_assert_false(status(m) & 0x01);
    cmd(m, 0xA8);
    EXPECT(m, 0xFA, 0x04);
    th_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/i8042/controller", test_controller);
    g_test_add_func("/i8042/system-flag", test_system_flag);
    g_test_add_func("/i8042/output-port", test_output_port);
    g_test_add_func("/i8042/keyboard-commands", test_keyboard_commands);
    g_test_add_func("/i8042/scancodes", test_scancodes);
    g_test_add_func("/i8042/every-key", test_every_key_translated);
    g_test_add_func("/i8042/irq-disable", test_irq_and_disable);
    g_test_add_func("/i8042/overrun", test_overrun);
    g_test_add_func("/i8042/typematic", test_typematic);
    g_test_add_func("/i8042/mouse", test_mouse);
    return g_test_run();
}
