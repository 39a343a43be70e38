/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz the legacy PC devices (8259A pair, 8254, port 0x61, MC146818,
 * 8237A pair, 8042, POST port) with random port I/O, interrupt
 * acknowledges, DMA requests, host input and random advances of virtual
 * time, from a fixed seed. Nothing may crash (the build runs this under
 * ASan/UBSan); every device must still answer sanely afterwards.
 */
#include "harness.h"

#include <tessera/input.h>

static const char *xml =
    "<memory size='2M'/>"
    "<device type='pic8259' id='pic0' port='0x20' slave='pic1'/>"
    "<device type='pic8259' id='pic1' port='0xA0' role='slave'/>"
    "<device type='pit8254' id='pit0'/>"
    "<device type='pc-speaker' id='spk'/>"
    "<device type='rtc-cmos' id='rtc'/>"
    "<device type='dma8237' id='dma'/>"
    "<device type='i8042' id='kbc'/>"
    "<device type='post' id='post'/>"
    "<device type='th-probe' id='probe'/>"
    "<wire from='pic0.int' to='probe.in0'/>"
    "<wire from='pic1.int' to='pic0.ir2'/>"
    "<wire from='pit0.out0' to='pic0.ir0'/>"
    "<wire from='kbc.irq1' to='pic0.ir1'/>"
    "<wire from='rtc.irq' to='pic1.ir0'/>"
    "<wire from='kbc.irq12' to='pic1.ir4'/>"
    "<wire from='spk.gate2' to='pit0.gate2'/>"
    "<wire from='pit0.out2' to='spk.out2'/>"
    "<wire from='kbc.a20' to='probe.in1'/>";

static const uint16_t ports[] = {
    0x20, 0x21, 0xA0, 0xA1,
    0x40, 0x41, 0x42, 0x43, 0x43, 0x43,
    0x61,
    0x70, 0x71, 0x71,
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
    0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F,
    0xC0, 0xC2, 0xC4, 0xC6, 0xC8, 0xCA, 0xCC, 0xCE,
    0xD0, 0xD2, 0xD4, 0xD6, 0xD8, 0xDA, 0xDC, 0xDE, 0xD1,
    0x81, 0x82, 0x83, 0x87, 0x89, 0x8A, 0x8B, 0x8F, 0x84,
    0x80,
    0x60, 0x64, 0x64,
};

typedef struct {
    TessDevice *dma;
    const TessIsaDmaOps *ops;
    GRand *rand;
    uint8_t buf[4096];
} FuzzDev;

static uint32_t fuzz_xfer(void *opaque, unsigned ch, uint32_t pos, uint32_t size)
{
    FuzzDev *f = opaque;
    uint32_t n = MIN((uint32_t)g_rand_int_range(f->rand, 0, 600), size - pos);
    n = MIN(n, sizeof(f->buf));
    switch (g_rand_int_range(f->rand, 0, 4)) {
    case 0:
        n = f->ops->write_memory(f->dma, ch, f->buf, pos, n);
        break;
    case 1:
        n = f->ops->read_memory(f->dma, ch, f->buf, pos, n);
        break;
    case 2:
        f->ops->set_drq(f->dma, ch, false);
        break;
    default:
        n = 0;                      /* no progress: the retry timer runs */
        break;
    }
    return pos + n;
}

static void test_fuzz(void)
{
    TessMachine *m = th_machine(xml);
    g_autoptr(GRand) rand = g_rand_new_with_seed(0x8259);
    static FuzzDev fdev;
    fdev.rand = rand;
    fdev.dma = tess_machine_device(m, "dma");
    fdev.ops = tess_device_interface(fdev.dma, TESS_IFACE_ISA_DMA);
    g_autoptr(GError) err = NULL;
    static const unsigned chans[] = { 0, 1, 2, 3, 5, 6, 7 };
    for (unsigned i = 0; i < G_N_ELEMENTS(chans); i++)
        g_assert_true(fdev.ops->register_channel(fdev.dma, chans[i], fuzz_xfer, &fdev, &err));
    TessDevice *kbc = tess_machine_device(m, "kbc");
    const TessInputOps *input = tess_device_interface(kbc, TESS_IFACE_INPUT);
    TessDevice *pic1 = tess_machine_device(m, "pic1");

    unsigned ops = 200000;
    if (g_test_slow())
        ops *= 10;
    for (unsigned i = 0; i < ops; i++) {
        unsigned what = g_rand_int_range(rand, 0, 100);
        if (what < 45) {
            uint16_t p = ports[g_rand_int_range(rand, 0, G_N_ELEMENTS(ports))];
            th_outb(m, p, g_rand_int_range(rand, 0, 256));
        } else if (what < 85) {
            uint16_t p = ports[g_rand_int_range(rand, 0, G_N_ELEMENTS(ports))];
            (void)th_inb(m, p);
        } else if (what < 92) {
            th_advance(m, g_rand_int_range(rand, 0, 8) == 0
                              ? g_rand_int_range(rand, 0, 5000000)
                              : g_rand_int_range(rand, 0, 50000));
        } else if (what < 94) {
            (void)th_intack(m);
        } else if (what < 96) {
            unsigned ch = chans[g_rand_int_range(rand, 0, G_N_ELEMENTS(chans))];
            fdev.ops->set_drq(fdev.dma, ch, g_rand_boolean(rand));
        } else if (what < 98) {
            input->key_event(kbc, g_rand_int_range(rand, 0, 140), g_rand_boolean(rand));
        } else if (what < 99) {
            input->mouse_event(kbc, g_rand_int_range(rand, -400, 400),
                               g_rand_int_range(rand, -400, 400),
                               g_rand_int_range(rand, -3, 4), g_rand_int_range(rand, 0, 32));
        } else {
            g_autofree char *v = g_strdup_printf("%d", g_rand_int_range(rand, 0, 256));
            g_assert_true(tess_device_set_prop(pic1, "elcr", v, &err));
        }
    }
    /* Still alive: reinitialise the master and see an interrupt. */
    th_outb(m, 0x20, 0x11);
    th_outb(m, 0x21, 0x08);
    th_outb(m, 0x21, 0x04);
    th_outb(m, 0x21, 0x01);
    th_outb(m, 0x21, 0xFE);
    th_outb(m, 0x43, 0x34);
    th_outb(m, 0x40, 100);
    th_outb(m, 0x40, 0);
    th_advance(m, 200000);
    g_assert_true(th_probe_level(m, "probe", 0));
    g_assert_cmphex(th_intack(m), ==, 0x08);
    th_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/legacy/fuzz", test_fuzz);
    return g_test_run();
}
