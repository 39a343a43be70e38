/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Port 0x61 with the 8254: bit 0 gates counter 2, bit 5 shows OUT2, bit 4
 * toggles with the refresh cycle (every 18 CLKs = 15.085 us).
 */
#include "harness.h"

static const char *xml =
    "<device type='pit8254' id='pit0'/>"
    "<device type='pc-speaker' id='spk'/>"
    "<wire from='spk.gate2' to='pit0.gate2'/>"
    "<wire from='pit0.out2' to='spk.out2'/>";

static void test_gate_and_out2(void)
{
    TessMachine *m = th_machine(xml);
    g_assert_cmphex(th_inb(m, 0x61) & 0x0F, ==, 0x00);
    /* Mode 0 on counter 2, count 1193 (about 1 ms), gate off: OUT2 low. */
    th_outb(m, 0x43, 0xB0);
    th_outb(m, 0x42, 1193 & 0xFF);
    th_outb(m, 0x42, 1193 >> 8);
    th_advance(m, 5000000);
    g_assert_false(th_inb(m, 0x61) & 0x20);     /* gate low: no counting */
    th_outb(m, 0x61, 0x01);                     /* gate on */
    g_assert_cmphex(th_inb(m, 0x61) & 0x0F, ==, 0x01);
    th_advance(m, 999000);
    g_assert_false(th_inb(m, 0x61) & 0x20);
    th_advance(m, 2000);
    g_assert_true(th_inb(m, 0x61) & 0x20);      /* terminal count after 1194 CLKs */
    th_machine_free(m);
}

static void test_square_wave(void)
{
    TessMachine *m = th_machine(xml);
    /* Mode 3, 1193 CLKs: about 1 kHz. */
    th_outb(m, 0x43, 0xB6);
    th_outb(m, 0x42, 1193 & 0xFF);
    th_outb(m, 0x42, 1193 >> 8);
    th_outb(m, 0x61, 0x03);                     /* gate + speaker data */
    unsigned high = 0, samples = 0;
    for (unsigned i = 0; i < 1000; i++) {
        th_advance(m, 10000);
        samples++;
        if (th_inb(m, 0x61) & 0x20)
            high++;
    }
    /* Odd count: high (N+1)/2 of N CLKs, very nearly half the time. */
    g_assert_cmpuint(high, >=, 480);
    g_assert_cmpuint(high, <=, 520);
    th_outb(m, 0x61, 0x00);
    g_assert_true(th_inb(m, 0x61) & 0x20);      /* gate low forces OUT2 high */
    th_machine_free(m);
}

/* With no timer behind OUT2 (timed-outputs = OUT0 only) port 0x61 must
 * still show OUT2 as of the read: the read asks the PIT to sync its
 * outputs (TessDeviceClass.sync_outputs). */
static void test_out2_fresh_without_timer(void)
{
    TessMachine *m = th_machine("<device type='pit8254' id='pit0' timed-outputs='0x1'/>"
                                "<device type='pc-speaker' id='spk'/>"
                                "<wire from='spk.gate2' to='pit0.gate2'/>"
                                "<wire from='pit0.out2' to='spk.out2'/>");
    th_outb(m, 0x61, 0x01);                     /* gate on */
    th_outb(m, 0x43, 0xB0);                     /* counter 2, mode 0 */
    th_outb(m, 0x42, 1193 & 0xFF);
    th_outb(m, 0x42, 1193 >> 8);
    th_advance(m, 999000);
    g_assert_false(th_inb(m, 0x61) & 0x20);
    th_advance(m, 2000);
    g_assert_true(th_inb(m, 0x61) & 0x20);      /* terminal count, seen at once */
    th_machine_free(m);
}

static void test_refresh_toggle(void)
{
    TessMachine *m = th_machine(xml);
    unsigned toggles = 0;
    uint8_t last = th_inb(m, 0x61) & 0x10;
    for (unsigned i = 0; i < 1000; i++) {
        th_advance(m, 1000);
        uint8_t v = th_inb(m, 0x61) & 0x10;
        if (v != last)
            toggles++;
        last = v;
    }
    /* 1 ms / 15.085 us = 66.3 toggles. */
    g_assert_cmpuint(toggles, >=, 65);
    g_assert_cmpuint(toggles, <=, 67);
    /* Read-only bits ignore writes; bits 2-3 are kept. */
    th_outb(m, 0x61, 0xFC);
    g_assert_cmphex(th_inb(m, 0x61) & 0xCF, ==, 0x0C);
    th_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/speaker/gate-out2", test_gate_and_out2);
    g_test_add_func("/speaker/square-wave", test_square_wave);
    g_test_add_func("/speaker/refresh-toggle", test_refresh_toggle);
    g_test_add_func("/speaker/out2-fresh-without-timer", test_out2_fresh_without_timer);
    return g_test_run();
}
