/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parallel port tests: data latch, status with and without a printer,
 * strobe -> chardev, BUSY/ACK timing, IRQ on the end of ACK#, a driver
 * that waits for not-busy before each strobe.
 */
#include "harness.h"

#include <glib/gstdio.h>

#define DATA 0x378
#define STAT 0x379
#define CTRL 0x37A

static char *tmp_out(char **dir)
{
    g_autoptr(GError) err = NULL;
    *dir = g_dir_make_tmp("lpt-XXXXXX", &err);
    g_assert_nonnull(*dir);
    return g_build_filename(*dir, "printer.out", NULL);
}

static TessMachine *printer_machine(const char *path)
{
    g_autofree char *frag = g_strdup_printf(
        "<device type='lpt' id='lpt1' chardev='file:%s'/>"
        "<device type='th-probe' id='probe'/>"
        "<wire from='lpt1.irq' to='probe.in0'/>", path);
    return th_machine(frag);
}

static void strobe(TessMachine *m, uint8_t ctrl)
{
    th_outb(m, CTRL, ctrl | 0x01);
    th_outb(m, CTRL, ctrl);
}

static void test_registers(void)
{
    TessMachine *m = th_machine("<device type='lpt' id='lpt1'/>");
    /* Nothing attached: BUSY, PE, SLCT and ERROR# float high. */
    g_assert_cmphex(th_inb(m, STAT), ==, 0x7F);
    th_outb(m, DATA, 0xA5);
    g_assert_cmphex(th_inb(m, DATA), ==, 0xA5);
    g_assert_cmphex(th_inb(m, CTRL), ==, 0xC0);        /* after reset */
    th_outb(m, CTRL, 0xFF);
    g_assert_cmphex(th_inb(m, CTRL), ==, 0xFF);
    /* Direction bit: the data lines are inputs, pulled up. */
    g_assert_cmphex(th_inb(m, DATA), ==, 0xFF);
    th_outb(m, CTRL, 0x0C);
    g_assert_cmphex(th_inb(m, DATA), ==, 0xA5);
    th_outb(m, STAT, 0x00);                            /* read-only */
    g_assert_cmphex(th_inb(m, STAT), ==, 0x7F);
    /* Strobing with nobody there goes nowhere. */
    strobe(m, 0x0C);
    g_assert_cmphex(th_inb(m, STAT), ==, 0x7F);
    th_machine_free(m);
}

static void test_print_and_irq(void)
{
    char *dir;
    g_autofree char *path = tmp_out(&dir);
    TessMachine *m = printer_machine(path);

    /* Ready printer: not busy, no ACK, paper, selected, no error. */
    g_assert_cmphex(th_inb(m, STAT), ==, 0xDF);
    th_outb(m, CTRL, 0x0C);                            /* INIT# high, SLCT IN */

    th_outb(m, DATA, 'P');
    strobe(m, 0x0C);
    g_assert_cmphex(th_inb(m, STAT), ==, 0x5F);        /* BUSY */
    th_advance(m, 4999);
    g_assert_cmphex(th_inb(m, STAT), ==, 0x5F);
    th_advance(m, 1);
    g_assert_cmphex(th_inb(m, STAT), ==, 0x9F);        /* ACK# low, BUSY low */
    th_advance(m, 5000);
    g_assert_cmphex(th_inb(m, STAT), ==, 0xDF);
    g_assert_cmpuint(th_probe_edges(m, "probe", 0), ==, 0);   /* IRQ EN off */

    /* With IRQ EN: one edge at the end of ACK#. */
    th_outb(m, CTRL, 0x1C);
    g_assert_cmpuint(th_probe_edges(m, "probe", 0), ==, 0);   /* enabling is quiet */
    th_outb(m, DATA, 'C');
    strobe(m, 0x1C);
    th_advance(m, 9999);
    g_assert_cmpuint(th_probe_edges(m, "probe", 0), ==, 0);
    th_advance(m, 1);
    g_assert_cmpuint(th_probe_edges(m, "probe", 0), ==, 1);
    g_assert_false(th_probe_level(m, "probe", 0));

    /* A byte strobed while busy is not taken. */
    th_outb(m, DATA, '!');
    strobe(m, 0x1C);
    th_outb(m, DATA, '?');
    strobe(m, 0x1C);
    th_advance(m, 10000);
    g_assert_cmpuint(th_probe_edges(m, "probe", 0), ==, 2);

    g_autofree char *got = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(path, &got, &len, NULL));
    g_assert_cmpuint(len, ==, 3);
    g_assert_cmpmem(got, len, "PC!", 3);

    /* INIT# low aborts the handshake. */
    strobe(m, 0x1C);
    th_outb(m, CTRL, 0x18);
    g_assert_cmphex(th_inb(m, STAT), ==, 0xDF);
    th_advance(m, 20000);
    g_assert_cmpuint(th_probe_edges(m, "probe", 0), ==, 2);
    th_machine_free(m);
    g_unlink(path);
    g_rmdir(dir);
    g_free(dir);
}

/* A driver that waits for BUSY low (status bit 7 set) before every
 * STROBE, the IBM BIOS way, never loses a byte, even one strobed during
 * the previous byte's ACK# pulse: each is taken, acknowledged and
 * interrupts. */
static void test_busy_handshake(void)
{
    char *dir;
    g_autofree char *path = tmp_out(&dir);
    TessMachine *m = printer_machine(path);
    static const char text[] = "ABCD";

    th_outb(m, CTRL, 0x1C);                            /* IRQ EN, SLCT IN, INIT# */
    for (unsigned i = 0; i < 4; i++) {
        unsigned polls = 0;
        while (!(th_inb(m, STAT) & 0x80)) {
            g_assert_cmpuint(++polls, <, 1000);
            th_advance(m, 100);
        }
        th_outb(m, DATA, (uint8_t)text[i]);
        strobe(m, 0x1C);
        /* Taken: BUSY; the previous byte's ACK# pulse runs on. */
        g_assert_cmphex(th_inb(m, STAT), ==, i ? 0x1F : 0x5F);
    }
    th_advance(m, 10000);
    g_assert_cmphex(th_inb(m, STAT), ==, 0xDF);
    g_assert_cmpuint(th_probe_edges(m, "probe", 0), ==, 4);

    g_autofree char *got = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(path, &got, &len, NULL));
    g_assert_cmpmem(got, len, text, 4);
    th_machine_free(m);
    g_unlink(path);
    g_rmdir(dir);
    g_free(dir);
}

static void test_fuzz(void)
{
    char *dir;
    g_autofree char *path = tmp_out(&dir);
    TessMachine *m = printer_machine(path);
    GRand *rnd = g_rand_new_with_seed(0x378);
    for (unsigned i = 0; i < 30000; i++) {
        uint32_t v = g_rand_int(rnd);
        switch (v & 3) {
        case 0: case 1:
            th_outb(m, DATA + ((v >> 2) % 3), (uint8_t)(v >> 8));
            break;
        case 2:
            th_inb(m, DATA + ((v >> 2) % 3));
            break;
        default:
            th_advance(m, (v >> 8) % 20000);
            break;
        }
    }
    g_rand_free(rnd);
    th_advance(m, 20000);
    th_outb(m, CTRL, 0x0C);
    g_assert_cmphex(th_inb(m, STAT), ==, 0xDF);
    th_machine_free(m);
    g_unlink(path);
    g_rmdir(dir);
    g_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/lpt/registers", test_registers);
    g_test_add_func("/lpt/print-and-irq", test_print_and_irq);
    g_test_add_func("/lpt/busy-handshake", test_busy_handshake);
    g_test_add_func("/lpt/fuzz", test_fuzz);
    return g_test_run();
}
