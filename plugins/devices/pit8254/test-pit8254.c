/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * 8254 tests: OUT waveforms of every mode against virtual time, as the
 * Intel 8254 datasheet's mode figures draw them. CLK is 3579545/3 Hz;
 * a count written while the clock is at tick t is loaded at tick t+1.
 * OUT is watched two ways: edges and levels on a probe (through the
 * timers the model arms), and the OUTPUT bit of the read-back status
 * (exact at any instant).
 */
#include "harness.h"

static const char *pit_xml =
    "<device type='th-source' id='src'/>"
    "<device type='pit8254' id='pit0'/>"
    "<device type='th-probe' id='probe'/>"
    "<wire from='pit0.out0' to='probe.in0'/>"
    "<wire from='pit0.out1' to='probe.in1'/>"
    "<wire from='pit0.out2' to='probe.in2'/>"
    "<wire from='src.out0' to='pit0.gate2'/>";

static void gate2(TessMachine *m, bool level)
{
    th_source_set(m, "src", 0, level);
}

/* Time of CLK tick t (the first ns at which the counter has seen it). */
static uint64_t tick_ns(uint64_t t)
{
    return (uint64_t)(((unsigned __int128)t * 3000000000ull + 3579544) / 3579545);
}

static uint64_t now_tick(TessMachine *m)
{
    return (uint64_t)((unsigned __int128)tess_clock_ns(m) * 3579545 / 3000000000ull);
}

static void advance_to(TessMachine *m, uint64_t ns)
{
    uint64_t now = tess_clock_ns(m);
    g_assert_cmpuint(ns, >=, now);
    th_advance(m, ns - now);
}

/* Advance so that tick t is the current tick. */
static void at_tick(TessMachine *m, uint64_t t)
{
    advance_to(m, tick_ns(t));
    g_assert_cmpuint(now_tick(m), ==, t);
}

static uint8_t status(TessMachine *m, unsigned ch)
{
    th_outb(m, 0x43, 0xE0 | (2u << ch));    /* read-back: status only */
    return th_inb(m, 0x40 + ch);
}

static bool out_bit(TessMachine *m, unsigned ch)
{
    return status(m, ch) & 0x80;
}

static uint16_t latch_count(TessMachine *m, unsigned ch)
{
    th_outb(m, 0x43, ch << 6);              /* counter latch */
    uint8_t lo = th_inb(m, 0x40 + ch);
    uint8_t hi = th_inb(m, 0x40 + ch);
    return lo | hi << 8;
}

static void program(TessMachine *m, unsigned ch, unsigned mode, uint16_t count, bool bcd)
{
    th_outb(m, 0x43, ch << 6 | 0x30 | mode << 1 | (bcd ? 1 : 0));
    th_outb(m, 0x40 + ch, count & 0xFF);
    th_outb(m, 0x40 + ch, count >> 8);
}

static void test_mode0(void)
{
    TessMachine *m = th_machine(pit_xml);
    th_advance(m, 1000);
    uint64_t t0 = now_tick(m);
    th_outb(m, 0x43, 0x30);                 /* ch0, LSB+MSB, mode 0 */
    g_assert_false(out_bit(m, 0));
    g_assert_true(status(m, 0) & 0x40);     /* null count until loaded */
    th_outb(m, 0x40, 1000 & 0xFF);
    th_outb(m, 0x40, 1000 >> 8);
    unsigned e0 = th_probe_edges(m, "probe", 0);
    /* Loaded at t0+1, terminal count N = 1000 CLKs later. */
    at_tick(m, t0 + 1);
    g_assert_false(status(m, 0) & 0x40);
    g_assert_cmpuint(latch_count(m, 0), ==, 1000);
    at_tick(m, t0 + 500);
    g_assert_cmpuint(latch_count(m, 0), ==, 1000 - 499);
    at_tick(m, t0 + 1000);
    g_assert_false(th_probe_level(m, "probe", 0));
    g_assert_false(out_bit(m, 0));
    at_tick(m, t0 + 1001);
    g_assert_true(th_probe_level(m, "probe", 0));
    g_assert_cmpuint(th_probe_edges(m, "probe", 0), ==, e0 + 1);
    /* The counter keeps going through zero; OUT stays high. */
    at_tick(m, t0 + 1003);
    g_assert_cmpuint(latch_count(m, 0), ==, 0xFFFE);
    th_advance(m, 100000000);
    g_assert_cmpuint(th_probe_edges(m, "probe", 0), ==, e0 + 1);

    /* Writing the first byte of a new count stops counting, OUT low. */
    uint64_t t1 = now_tick(m);
    th_outb(m, 0x40, 0x10);
    g_assert_false(th_probe_level(m, "probe", 0));
    uint16_t held = latch_count(m, 0);
    at_tick(m, t1 + 50);
    g_assert_cmpuint(latch_count(m, 0), ==, held);
    th_outb(m, 0x40, 0x00);                 /* N = 16 */
    at_tick(m, t1 + 50 + 16);
    g_assert_false(out_bit(m, 0));
    at_tick(m, t1 + 50 + 17);
    g_assert_true(out_bit(m, 0));
    th_machine_free(m);
}

static void test_mode0_gate(void)
{
    TessMachine *m = th_machine(pit_xml);
    gate2(m, true);
    uint64_t t0 = now_tick(m);
    program(m, 2, 0, 100, false);
    at_tick(m, t0 + 41);                    /* 40 counts done */
    g_assert_cmpuint(latch_count(m, 2), ==, 60);
    gate2(m, false);                        /* counting suspended */
    at_tick(m, t0 + 141);
    g_assert_cmpuint(latch_count(m, 2), ==, 60);
    g_assert_false(out_bit(m, 2));
    gate2(m, true);                         /* counting resumes with the next CLK */
    at_tick(m, t0 + 141 + 59);
    g_assert_false(out_bit(m, 2));
    g_assert_cmpuint(latch_count(m, 2), ==, 1);
    at_tick(m, t0 + 141 + 60);
    g_assert_true(out_bit(m, 2));
    g_assert_true(th_probe_level(m, "probe", 2));
    th_machine_free(m);
}

static void test_mode1(void)
{
    TessMachine *m = th_machine(pit_xml);
    program(m, 2, 1, 200, false);
    g_assert_true(out_bit(m, 2));           /* high after the control word */
    th_advance(m, 50000);
    g_assert_true(out_bit(m, 2));           /* nothing until a trigger */
    uint64_t t0 = now_tick(m);
    unsigned e = th_probe_edges(m, "probe", 2);
    gate2(m, true);                         /* trigger */
    g_assert_true(out_bit(m, 2));
    at_tick(m, t0 + 1);
    g_assert_false(out_bit(m, 2));
    g_assert_false(th_probe_level(m, "probe", 2));
    at_tick(m, t0 + 200);
    g_assert_false(out_bit(m, 2));
    at_tick(m, t0 + 201);
    g_assert_true(out_bit(m, 2));
    g_assert_true(th_probe_level(m, "probe", 2));
    g_assert_cmpuint(th_probe_edges(m, "probe", 2), ==, e + 1);
    /* Retrigger during the pulse restarts it with the new count. */
    gate2(m, false);
    th_outb(m, 0x42, 50);
    th_outb(m, 0x42, 0);
    uint64_t t1 = now_tick(m);
    gate2(m, true);
    at_tick(m, t1 + 20);
    g_assert_false(out_bit(m, 2));
    gate2(m, false);
    gate2(m, true);                         /* retrigger at t1+20 */
    at_tick(m, t1 + 20 + 50);
    g_assert_false(out_bit(m, 2));
    at_tick(m, t1 + 20 + 51);
    g_assert_true(out_bit(m, 2));
    th_machine_free(m);
}

static void test_mode2(void)
{
    TessMachine *m = th_machine(pit_xml);
    uint64_t t0 = now_tick(m);
    program(m, 0, 2, 100, false);
    unsigned e0 = th_probe_edges(m, "probe", 0);
    g_assert_true(th_probe_level(m, "probe", 0));
    /* Load at t0+1; OUT low for one CLK when CE reaches 1 (t0+100),
     * high again on reload (t0+101), every 100 CLKs. */
    at_tick(m, t0 + 99);
    g_assert_true(out_bit(m, 0));
    g_assert_cmpuint(latch_count(m, 0), ==, 2);
    at_tick(m, t0 + 100);
    g_assert_false(out_bit(m, 0));
    g_assert_false(th_probe_level(m, "probe", 0));
    at_tick(m, t0 + 101);
    g_assert_true(out_bit(m, 0));
    g_assert_cmpuint(latch_count(m, 0), ==, 100);
    g_assert_cmpuint(th_probe_edges(m, "probe", 0), ==, e0 + 1);
    /* 1000 periods later: 1000 more rising edges, not one more. */
    advance_to(m, tick_ns(t0 + 1 + 1000 * 100) + 1);
    g_assert_cmpuint(th_probe_edges(m, "probe", 0), ==, e0 + 1000);
    advance_to(m, tick_ns(t0 + 1 + 1001 * 100) - 1);
    g_assert_cmpuint(th_probe_edges(m, "probe", 0), ==, e0 + 1000);

    /* A new count waits for the end of the current period. */
    uint64_t tp = t0 + 1 + 1002 * 100;       /* a reload */
    at_tick(m, tp - 30);
    th_outb(m, 0x40, 50);
    th_outb(m, 0x40, 0);
    g_assert_true(status(m, 0) & 0x40);
    at_tick(m, tp - 1);
    g_assert_false(out_bit(m, 0));
    at_tick(m, tp);
    g_assert_false(status(m, 0) & 0x40);
    g_assert_cmpuint(latch_count(m, 0), ==, 50);
    at_tick(m, tp + 49);
    g_assert_false(out_bit(m, 0));
    at_tick(m, tp + 50);
    g_assert_true(out_bit(m, 0));
    th_machine_free(m);
}

static void test_mode2_gate(void)
{
    TessMachine *m = th_machine(pit_xml);
    gate2(m, true);
    uint64_t t0 = now_tick(m);
    program(m, 2, 2, 10, false);
    at_tick(m, t0 + 10);
    g_assert_false(out_bit(m, 2));
    gate2(m, false);                        /* OUT forced high, count stops */
    g_assert_true(out_bit(m, 2));
    g_assert_true(th_probe_level(m, "probe", 2));
    uint16_t held = latch_count(m, 2);
    at_tick(m, t0 + 40);
    g_assert_cmpuint(latch_count(m, 2), ==, held);
    gate2(m, true);                         /* reload on the next CLK */
    at_tick(m, t0 + 41);
    g_assert_cmpuint(latch_count(m, 2), ==, 10);
    at_tick(m, t0 + 49);
    g_assert_true(out_bit(m, 2));
    at_tick(m, t0 + 50);
    g_assert_false(out_bit(m, 2));
    th_machine_free(m);
}

static void test_mode3(void)
{
    TessMachine *m = th_machine(pit_xml);
    uint64_t t0 = now_tick(m);
    program(m, 0, 3, 1000, false);
    unsigned e0 = th_probe_edges(m, "probe", 0);
    /* Even N: high N/2, low N/2, CE counting down by two. */
    at_tick(m, t0 + 1);
    g_assert_cmpuint(latch_count(m, 0), ==, 1000);
    at_tick(m, t0 + 2);
    g_assert_cmpuint(latch_count(m, 0), ==, 998);
    at_tick(m, t0 + 500);
    g_assert_true(out_bit(m, 0));
    at_tick(m, t0 + 501);
    g_assert_false(out_bit(m, 0));
    g_assert_false(th_probe_level(m, "probe", 0));
    at_tick(m, t0 + 1000);
    g_assert_false(out_bit(m, 0));
    at_tick(m, t0 + 1001);
    g_assert_true(out_bit(m, 0));
    g_assert_true(th_probe_level(m, "probe", 0));
    g_assert_cmpuint(th_probe_edges(m, "probe", 0), ==, e0 + 1);
    advance_to(m, tick_ns(t0 + 1 + 50 * 1000) + 1);
    g_assert_cmpuint(th_probe_edges(m, "probe", 0), ==, e0 + 50);

    /* Odd N = 5: high 3 CLKs, low 2. */
    uint64_t t1 = now_tick(m);
    program(m, 1, 3, 5, false);
    static const bool wave[10] = { 1, 1, 1, 0, 0, 1, 1, 1, 0, 0 };
    for (unsigned i = 0; i < 10; i++) {
        at_tick(m, t1 + 1 + i);
        g_assert_cmpint(out_bit(m, 1), ==, wave[i]);
    }
    th_machine_free(m);
}

static void test_mode4(void)
{
    TessMachine *m = th_machine(pit_xml);
    uint64_t t0 = now_tick(m);
    program(m, 0, 4, 300, false);
    unsigned e0 = th_probe_edges(m, "probe", 0);
    at_tick(m, t0 + 300);
    g_assert_true(out_bit(m, 0));
    at_tick(m, t0 + 301);                   /* CE reaches 0: one CLK low */
    g_assert_false(out_bit(m, 0));
    at_tick(m, t0 + 302);
    g_assert_true(out_bit(m, 0));
    g_assert_cmpuint(th_probe_edges(m, "probe", 0), ==, e0 + 1);
    /* Only once per count written. */
    th_advance(m, 200000000);
    g_assert_cmpuint(th_probe_edges(m, "probe", 0), ==, e0 + 1);
    /* Writing a count restarts the strobe (software trigger). */
    uint64_t t1 = now_tick(m);
    th_outb(m, 0x40, 20);
    th_outb(m, 0x40, 0);
    at_tick(m, t1 + 21);
    g_assert_false(out_bit(m, 0));
    at_tick(m, t1 + 22);
    g_assert_cmpuint(th_probe_edges(m, "probe", 0), ==, e0 + 2);
    th_machine_free(m);
}

static void test_mode5(void)
{
    TessMachine *m = th_machine(pit_xml);
    program(m, 2, 5, 40, false);
    th_advance(m, 100000);
    g_assert_true(out_bit(m, 2));
    uint64_t t0 = now_tick(m);
    gate2(m, true);
    at_tick(m, t0 + 41);
    g_assert_false(out_bit(m, 2));
    at_tick(m, t0 + 42);
    g_assert_true(out_bit(m, 2));
    /* Retrigger. */
    gate2(m, false);
    uint64_t t1 = now_tick(m);
    gate2(m, true);
    at_tick(m, t1 + 41);
    g_assert_false(out_bit(m, 2));
    th_machine_free(m);
}

static void test_bcd_and_latch(void)
{
    TessMachine *m = th_machine(pit_xml);
    uint64_t t0 = now_tick(m);
    program(m, 1, 0, 0x1234, true);         /* 1234 decimal */
    at_tick(m, t0 + 1 + 235);
    g_assert_cmphex(latch_count(m, 1), ==, 0x0999);
    /* A latched value holds until read; further latches are ignored. */
    th_outb(m, 0x43, 0x40);
    at_tick(m, t0 + 1 + 300);
    th_outb(m, 0x43, 0x40);
    g_assert_cmphex(th_inb(m, 0x41), ==, 0x99);
    g_assert_cmphex(th_inb(m, 0x41), ==, 0x09);
    /* BCD 0 is 10000: wraps 0000 -> 9999. */
    uint64_t t1 = now_tick(m);
    program(m, 1, 0, 0x0000, true);
    at_tick(m, t1 + 2);
    g_assert_cmphex(latch_count(m, 1), ==, 0x9999);

    /* LSB-only and MSB-only access. */
    th_outb(m, 0x43, 0x50);                 /* ch1 LSB only, mode 0 */
    uint64_t t2 = now_tick(m);
    th_outb(m, 0x41, 0x80);
    at_tick(m, t2 + 1 + 0x10);
    th_outb(m, 0x43, 0x40);
    g_assert_cmphex(th_inb(m, 0x41), ==, 0x70);
    th_outb(m, 0x43, 0x60);                 /* MSB only */
    uint64_t t3 = now_tick(m);
    th_outb(m, 0x41, 0x02);                 /* 0x0200 */
    at_tick(m, t3 + 1 + 0x100);
    g_assert_cmphex(th_inb(m, 0x41), ==, 0x01);
    th_machine_free(m);
}

static void test_readback(void)
{
    TessMachine *m = th_machine(pit_xml);
    uint64_t t0 = now_tick(m);
    program(m, 0, 2, 1000, false);
    program(m, 1, 3, 0, true);
    /* Status of both, count and status of ch0 together. */
    th_outb(m, 0x43, 0xC0 | 0x06);          /* count + status, ch0 and ch1 */
    uint8_t st0 = th_inb(m, 0x40);
    g_assert_cmphex(st0, ==, 0x80 | 0x40 | 0x34);   /* OUT high, null count, RW3 mode 2 */
    uint16_t c0 = th_inb(m, 0x40);
    c0 |= th_inb(m, 0x40) << 8;
    g_assert_cmphex(st0 & 0x3F, ==, 0x34);
    (void)c0;
    g_assert_cmphex(th_inb(m, 0x41), ==, 0x80 | 0x40 | 0x37);
    at_tick(m, t0 + 11);
    th_outb(m, 0x43, 0xC0 | 0x20 | 0x02);   /* status only, ch0 */
    g_assert_cmphex(th_inb(m, 0x40), ==, 0x80 | 0x34);
    th_outb(m, 0x43, 0xC0 | 0x10 | 0x02);   /* count only, ch0 */
    at_tick(m, t0 + 20);
    uint16_t c = th_inb(m, 0x40);
    c |= th_inb(m, 0x40) << 8;
    g_assert_cmpuint(c, ==, 1000 - 10);
    /* The control register reads as nothing. */
    g_assert_cmphex(th_inb(m, 0x43), ==, 0xFF);
    th_machine_free(m);
}

static void test_untimed_output(void)
{
    /* OUT1 is not timed by default: no timer runs for it, yet it is
     * exact whenever the chip is accessed. */
    TessMachine *m = th_machine(pit_xml);
    uint64_t t0 = now_tick(m);
    program(m, 1, 2, 18, false);            /* DRAM refresh rate */
    unsigned e = th_probe_edges(m, "probe", 1);
    th_advance(m, 1000000);
    g_assert_cmpuint(th_probe_edges(m, "probe", 1), ==, e);
    g_assert_true(th_probe_level(m, "probe", 1));
    /* The next tick where CE is 1 (OUT low), then the reload. */
    uint64_t base = t0 + 1, t = now_tick(m) + 1;
    t += (base + 17 + 18 * 1000 - t) % 18;
    at_tick(m, t);
    (void)th_inb(m, 0x41);
    g_assert_false(th_probe_level(m, "probe", 1));
    at_tick(m, t + 1);
    (void)th_inb(m, 0x41);
    g_assert_true(th_probe_level(m, "probe", 1));
    g_assert_cmpuint(th_probe_edges(m, "probe", 1), ==, e + 1);
    th_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pit8254/mode0", test_mode0);
    g_test_add_func("/pit8254/mode0-gate", test_mode0_gate);
    g_test_add_func("/pit8254/mode1", test_mode1);
    g_test_add_func("/pit8254/mode2", test_mode2);
    g_test_add_func("/pit8254/mode2-gate", test_mode2_gate);
    g_test_add_func("/pit8254/mode3", test_mode3);
    g_test_add_func("/pit8254/mode4", test_mode4);
    g_test_add_func("/pit8254/mode5", test_mode5);
    g_test_add_func("/pit8254/bcd-latch", test_bcd_and_latch);
    g_test_add_func("/pit8254/read-back", test_readback);
    g_test_add_func("/pit8254/untimed-output", test_untimed_output);
    return g_test_run();
}
