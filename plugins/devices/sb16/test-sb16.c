/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sound Blaster 16 at the port level, against virtual time: DSP reset and
 * identification, the mixer (SB Pro aliases, IRQ and DMA selection, IRQ
 * status and acknowledges), the OPL timers, DMA playback timing, exit of
 * auto-init, pause, the MPU-401, and a fixed-seed fuzz of every register
 * with random time steps while a WAV sink mixes (run under ASan/UBSan).
 */
#include "harness.h"
#include <glib/gstdio.h>

static char *wav_path;

static char *machine_xml(void)
{
    return g_strdup_printf(
        "<memory size='2M'/>"
        "<device type='dma8237' id='dma'/>"
        "<device type='sb16' id='snd'/>"
        "<device type='audio-wav' id='audio' file='%s'/>"
        "<device type='th-probe' id='probe'/>"
        "<wire from='snd.irq5' to='probe.in0'/>"
        "<wire from='snd.irq7' to='probe.in1'/>", wav_path);
}

static void dsp_w(TessMachine *m, uint8_t v)
{
    g_assert_cmphex(th_inb(m, 0x22C) & 0x80, ==, 0);
    th_outb(m, 0x22C, v);
}

static uint8_t dsp_r(TessMachine *m)
{
    g_assert_cmphex(th_inb(m, 0x22E) & 0x80, ==, 0x80);
    return th_inb(m, 0x22A);
}

static void dsp_reset(TessMachine *m)
{
    th_outb(m, 0x226, 1);
    th_outb(m, 0x226, 0);
    g_assert_cmphex(dsp_r(m), ==, 0xAA);
}

static uint8_t mixer_r(TessMachine *m, uint8_t i)
{
    th_outb(m, 0x224, i);
    return th_inb(m, 0x225);
}

static void mixer_w(TessMachine *m, uint8_t i, uint8_t v)
{
    th_outb(m, 0x224, i);
    th_outb(m, 0x225, v);
}

static void test_dsp(void)
{
    g_autofree char *xml = machine_xml();
    TessMachine *m = th_machine(xml);
    dsp_reset(m);
    g_assert_cmphex(th_inb(m, 0x22E) & 0x80, ==, 0);     /* nothing more to read */
    dsp_w(m, 0xE1);
    g_assert_cmpuint(dsp_r(m), ==, 4);
    g_assert_cmpuint(dsp_r(m), ==, 5);
    dsp_w(m, 0xE0);
    dsp_w(m, 0x3C);
    g_assert_cmphex(dsp_r(m), ==, 0xC3);
    dsp_w(m, 0xE4);
    dsp_w(m, 0x77);
    dsp_w(m, 0xE8);
    g_assert_cmphex(dsp_r(m), ==, 0x77);
    dsp_w(m, 0xD1);
    dsp_w(m, 0xD8);
    g_assert_cmphex(dsp_r(m), ==, 0xFF);
    dsp_w(m, 0xD3);
    dsp_w(m, 0xD8);
    g_assert_cmphex(dsp_r(m), ==, 0x00);
    dsp_w(m, 0xE3);
    char s[64] = { 0 };
    for (unsigned i = 0; i < sizeof(s) - 1; i++)
        if (!(s[i] = (char)dsp_r(m)))
            break;
    g_assert_cmpstr(s, ==, "COPYRIGHT (C) CREATIVE TECHNOLOGY LTD, 1992.");
    /* A command in the middle of its parameters is forgotten by a reset. */
    dsp_w(m, 0x41);
    dsp_w(m, 0x12);
    dsp_reset(m);
    dsp_w(m, 0xE1);
    g_assert_cmpuint(dsp_r(m), ==, 4);
    th_machine_free(m);
}

static void test_mixer_irq(void)
{
    g_autofree char *xml = machine_xml();
    TessMachine *m = th_machine(xml);
    dsp_reset(m);
    g_assert_cmphex(mixer_r(m, 0x80) & 0x0F, ==, 0x02);
    g_assert_cmphex(mixer_r(m, 0x81), ==, 0x22);
    /* SB Pro master volume is the top nibbles of 0x30/0x31. */
    mixer_w(m, 0x22, 0xA5);
    g_assert_cmphex(mixer_r(m, 0x30) >> 4, ==, 0xA);
    g_assert_cmphex(mixer_r(m, 0x31) >> 4, ==, 0x5);
    g_assert_cmphex(mixer_r(m, 0x22), ==, 0xA5);
    /* Forced interrupts, the status register and the acknowledge ports. */
    dsp_w(m, 0xF2);
    g_assert_true(th_probe_level(m, "probe", 0));
    g_assert_cmphex(mixer_r(m, 0x82) & 3, ==, 1);
    (void)th_inb(m, 0x22E);
    g_assert_false(th_probe_level(m, "probe", 0));
    dsp_w(m, 0xF3);
    g_assert_cmphex(mixer_r(m, 0x82) & 3, ==, 2);
    (void)th_inb(m, 0x22E);                           /* the wrong port: still pending */
    g_assert_true(th_probe_level(m, "probe", 0));
    (void)th_inb(m, 0x22F);
    g_assert_false(th_probe_level(m, "probe", 0));
    /* Move the card to IRQ 7. */
    mixer_w(m, 0x80, 0x04);
    dsp_w(m, 0xF2);
    g_assert_false(th_probe_level(m, "probe", 0));
    g_assert_true(th_probe_level(m, "probe", 1));
    (void)th_inb(m, 0x22E);
    g_assert_false(th_probe_level(m, "probe", 1));
    th_machine_free(m);
}

static void opl_w(TessMachine *m, uint8_t r, uint8_t v)
{
    th_outb(m, 0x388, r);
    th_outb(m, 0x389, v);
}

static void test_opl_timers(void)
{
    g_autofree char *xml = machine_xml();
    TessMachine *m = th_machine(xml);
    opl_w(m, 4, 0x60);
    opl_w(m, 4, 0x80);
    g_assert_cmphex(th_inb(m, 0x388) & 0xE0, ==, 0);
    opl_w(m, 2, 0xFF);                  /* one step: 80 us */
    opl_w(m, 4, 0x21);                  /* start T1, mask T2 */
    th_advance(m, 79000);
    g_assert_cmphex(th_inb(m, 0x388) & 0xE0, ==, 0);
    th_advance(m, 2000);
    g_assert_cmphex(th_inb(m, 0x388) & 0xE0, ==, 0xC0);
    g_assert_cmphex(th_inb(m, 0x228) & 0xE0, ==, 0xC0); /* the same chip at base+8 */
    opl_w(m, 4, 0x80);
    g_assert_cmphex(th_inb(m, 0x388), ==, 0);
    /* Timer 2: 320 us steps. */
    opl_w(m, 3, 0xFE);                  /* two steps */
    opl_w(m, 4, 0x42);
    th_advance(m, 600000);
    g_assert_cmphex(th_inb(m, 0x388) & 0xE0, ==, 0);
    th_advance(m, 50000);
    g_assert_cmphex(th_inb(m, 0x388) & 0xE0, ==, 0xA0);
    th_machine_free(m);
}

/* 8237 channel 1 (or 5): single mode, memory to I/O, `count` units. */
static void dma_program(TessMachine *m, unsigned ch, uint32_t addr, uint32_t units, bool autoinit)
{
    uint8_t mode = 0x48 | (autoinit ? 0x10 : 0) | (ch & 3);
    if (ch < 4) {
        th_outb(m, 0x0A, 0x04 | ch);
        th_outb(m, 0x0B, mode);
        th_outb(m, 0x0C, 0);
        th_outb(m, ch * 2, addr & 0xFF);
        th_outb(m, ch * 2, (addr >> 8) & 0xFF);
        th_outb(m, 0x83, (addr >> 16) & 0xFF);
        th_outb(m, ch * 2 + 1, (units - 1) & 0xFF);
        th_outb(m, ch * 2 + 1, (units - 1) >> 8);
        th_outb(m, 0x0A, ch);
        th_outb(m, 0xD6, 0xC0);         /* channel 4 cascades DMA1 */
        th_outb(m, 0xD4, 0x00);
    } else {
        unsigned c = ch & 3;
        th_outb(m, 0xD4, 0x04 | c);
        th_outb(m, 0xD6, mode);
        th_outb(m, 0xD8, 0);
        th_outb(m, 0xC0 + c * 4, (addr >> 1) & 0xFF);
        th_outb(m, 0xC0 + c * 4, (addr >> 9) & 0xFF);
        th_outb(m, 0x8B, (addr >> 16) & 0xFE);
        th_outb(m, 0xC2 + c * 4, (units - 1) & 0xFF);
        th_outb(m, 0xC2 + c * 4, (units - 1) >> 8);
        th_outb(m, 0xD4, c);
    }
}

static void test_dma_playback(void)
{
    g_autofree char *xml = machine_xml();
    TessMachine *m = th_machine(xml);
    dsp_reset(m);
    /* 8-bit single-cycle, 1000 bytes at 10000 Hz: 100 ms. */
    dma_program(m, 1, 0x10000, 1000, false);
    dsp_w(m, 0x41);
    dsp_w(m, 10000 >> 8);
    dsp_w(m, 10000 & 0xFF);
    dsp_w(m, 0x14);
    dsp_w(m, (1000 - 1) & 0xFF);
    dsp_w(m, (1000 - 1) >> 8);
    th_advance(m, 99000000);
    g_assert_false(th_probe_level(m, "probe", 0));
    th_advance(m, 2000000);
    g_assert_true(th_probe_level(m, "probe", 0));
    /* The 8237 reached terminal count: status bit 1 (channel 1). */
    g_assert_cmphex(th_inb(m, 0x08) & 0x02, ==, 0x02);
    (void)th_inb(m, 0x22E);
    th_advance(m, 200000000);
    g_assert_false(th_probe_level(m, "probe", 0));

    /* 16-bit auto-init, 500 words a block, stereo at 25000 Hz: 10 ms a block. */
    dma_program(m, 5, 0x20000, 2000, true);
    dsp_w(m, 0x41);
    dsp_w(m, 25000 >> 8);
    dsp_w(m, 25000 & 0xFF);
    dsp_w(m, 0xB6);
    dsp_w(m, 0x30);
    dsp_w(m, (500 - 1) & 0xFF);
    dsp_w(m, (500 - 1) >> 8);
    unsigned edges = th_probe_edges(m, "probe", 0);
    for (unsigned b = 0; b < 5; b++) {
        th_advance(m, 10000000);
        g_assert_true(th_probe_level(m, "probe", 0));
        (void)th_inb(m, 0x22F);
    }
    g_assert_cmpuint(th_probe_edges(m, "probe", 0), ==, edges + 5);
    /* Pause: no block ends while paused; continue resumes. */
    dsp_w(m, 0xD5);
    th_advance(m, 50000000);
    g_assert_cmpuint(th_probe_edges(m, "probe", 0), ==, edges + 5);
    dsp_w(m, 0xD6);
    th_advance(m, 10000000);
    g_assert_cmpuint(th_probe_edges(m, "probe", 0), ==, edges + 6);
    (void)th_inb(m, 0x22F);
    /* Exit auto-init: this block is the last. */
    dsp_w(m, 0xD9);
    th_advance(m, 10000000);
    (void)th_inb(m, 0x22F);
    th_advance(m, 50000000);
    g_assert_cmpuint(th_probe_edges(m, "probe", 0), ==, edges + 7);
    th_machine_free(m);
}

static void test_mpu(void)
{
    g_autofree char *xml = machine_xml();
    TessMachine *m = th_machine(xml);
    g_assert_cmphex(th_inb(m, 0x331) & 0xC0, ==, 0x80);   /* ready, nothing to read */
    th_outb(m, 0x331, 0xFF);
    g_assert_cmphex(th_inb(m, 0x331) & 0x80, ==, 0);
    g_assert_cmphex(th_inb(m, 0x330), ==, 0xFE);
    th_outb(m, 0x331, 0x3F);                                  /* UART mode */
    g_assert_cmphex(th_inb(m, 0x330), ==, 0xFE);
    th_outb(m, 0x330, 0x90);                                  /* MIDI bytes: no reply */
    g_assert_cmphex(th_inb(m, 0x331) & 0x80, ==, 0x80);
    th_machine_free(m);
}

static const uint16_t fuzz_ports[] = {
    0x220, 0x221, 0x222, 0x223, 0x224, 0x225, 0x225, 0x226, 0x228, 0x229,
    0x22A, 0x22C, 0x22C, 0x22C, 0x22E, 0x22F, 0x330, 0x331, 0x388, 0x389, 0x38A, 0x38B,
    0x00, 0x02, 0x03, 0x0A, 0x0B, 0x0C, 0x83, 0xC4, 0xC6, 0xD4, 0xD6, 0xD8, 0x8B,
};

static void test_fuzz(void)
{
    g_autofree char *xml = machine_xml();
    TessMachine *m = th_machine(xml);
    g_autoptr(GRand) rand = g_rand_new_with_seed(0x5b16);
    unsigned ops = g_test_slow() ? 2000000 : 200000;
    for (unsigned i = 0; i < ops; i++) {
        unsigned what = g_rand_int_range(rand, 0, 100);
        uint16_t p = fuzz_ports[g_rand_int_range(rand, 0, G_N_ELEMENTS(fuzz_ports))];
        if (what < 50)
            th_outb(m, p, (uint8_t)g_rand_int_range(rand, 0, 256));
        else if (what < 95)
            (void)th_inb(m, p);
        else
            th_advance(m, g_rand_int_range(rand, 0, 8) == 0 ? g_rand_int_range(rand, 0, 50000000)
                                                           : g_rand_int_range(rand, 0, 100000));
    }
    /* Still a Sound Blaster. */
    dsp_reset(m);
    dsp_w(m, 0xE1);
    g_assert_cmpuint(dsp_r(m), ==, 4);
    th_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_autofree char *dir = g_dir_make_tmp("tess-sb16-XXXXXX", NULL);
    wav_path = g_build_filename(dir, "out.wav", NULL);
    g_test_add_func("/sb16/dsp", test_dsp);
    g_test_add_func("/sb16/mixer-irq", test_mixer_irq);
    g_test_add_func("/sb16/opl-timers", test_opl_timers);
    g_test_add_func("/sb16/dma-playback", test_dma_playback);
    g_test_add_func("/sb16/mpu", test_mpu);
    g_test_add_func("/sb16/fuzz", test_fuzz);
    int rc = g_test_run();
    g_unlink(wav_path);
    g_rmdir(dir);
    g_free(wav_path);
    return rc;
}
