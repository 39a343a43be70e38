/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * MC146818A tests: setting the clock, the update cycle and UIP, the
 * periodic, alarm and update-ended interrupts, data modes, and the CMOS
 * bytes SeaBIOS reads. Time is the deterministic machine clock; each
 * test first holds the divider in reset (DV = 110) and releases it, so
 * the first update comes exactly 500 ms after the release.
 */
#include "harness.h"

#include <glib/gstdio.h>

static const char *rtc_xml =
    "<device type='rtc-cmos' id='rtc'/>"
    "<device type='th-probe' id='probe'/>"
    "<wire from='rtc.irq' to='probe.in0'/>";

static uint8_t cmos_read(TessMachine *m, uint8_t reg)
{
    th_outb(m, 0x70, reg);
    return th_inb(m, 0x71);
}

static void cmos_write(TessMachine *m, uint8_t reg, uint8_t v)
{
    th_outb(m, 0x70, reg);
    th_outb(m, 0x71, v);
}

static bool irq(TessMachine *m)
{
    return th_probe_level(m, "probe", 0);
}

/* Set the clock (BCD, 24 h) and release the divider; returns the time of
 * the release: the seconds register advances 500 ms later. */
static uint64_t set_time(TessMachine *m, uint8_t y, uint8_t mo, uint8_t d,
                         uint8_t h, uint8_t mi, uint8_t s)
{
    cmos_write(m, 0x0A, 0x60);              /* DV = 110: divider reset */
    cmos_write(m, 0x0B, 0x82);              /* SET, 24 h, BCD */
    cmos_write(m, 0x00, s);
    cmos_write(m, 0x02, mi);
    cmos_write(m, 0x04, h);
    cmos_write(m, 0x07, d);
    cmos_write(m, 0x08, mo);
    cmos_write(m, 0x09, y);
    cmos_write(m, 0x32, 0x19);
    cmos_write(m, 0x0B, 0x02);
    cmos_write(m, 0x0A, 0x26);              /* DV = 010, 1024 Hz */
    return tess_clock_ns(m);
}

static void advance_to(TessMachine *m, uint64_t ns)
{
    uint64_t now = tess_clock_ns(m);
    g_assert_cmpuint(ns, >=, now);
    th_advance(m, ns - now);
}

static void test_update_cycle(void)
{
    TessMachine *m = th_machine(rtc_xml);
    uint64_t t0 = set_time(m, 0x99, 0x12, 0x31, 0x23, 0x59, 0x58);
    g_assert_cmphex(cmos_read(m, 0x00), ==, 0x58);
    g_assert_cmphex(cmos_read(m, 0x06), ==, 0x06);  /* 1999-12-31 was a Friday */
    /* UIP is set 244 us before the update and stays for the 1984 us
     * update cycle; the registers hold the old time until it ends. */
    advance_to(m, t0 + 500000000 - 2300000);
    g_assert_false(cmos_read(m, 0x0A) & 0x80);
    advance_to(m, t0 + 500000000 - 2000000);
    g_assert_true(cmos_read(m, 0x0A) & 0x80);
    g_assert_cmphex(cmos_read(m, 0x00), ==, 0x58);
    advance_to(m, t0 + 500000000 + 10);
    g_assert_false(cmos_read(m, 0x0A) & 0x80);
    g_assert_cmphex(cmos_read(m, 0x00), ==, 0x59);
    /* Over midnight into 2000. */
    advance_to(m, t0 + 1500000000 + 10);
    g_assert_cmphex(cmos_read(m, 0x00), ==, 0x00);
    g_assert_cmphex(cmos_read(m, 0x02), ==, 0x00);
    g_assert_cmphex(cmos_read(m, 0x04), ==, 0x00);
    g_assert_cmphex(cmos_read(m, 0x07), ==, 0x01);
    g_assert_cmphex(cmos_read(m, 0x08), ==, 0x01);
    g_assert_cmphex(cmos_read(m, 0x09), ==, 0x00);
    g_assert_cmphex(cmos_read(m, 0x32), ==, 0x20);
    g_assert_cmphex(cmos_read(m, 0x06), ==, 0x07);  /* Saturday */
    /* SET freezes the registers. */
    cmos_write(m, 0x0B, 0x82);
    th_advance(m, 3000000000ull);
    g_assert_cmphex(cmos_read(m, 0x00), ==, 0x00);
    g_assert_false(cmos_read(m, 0x0A) & 0x80);
    cmos_write(m, 0x0B, 0x02);
    th_advance(m, 1000000000);
    g_assert_cmphex(cmos_read(m, 0x00), ==, 0x01);
    g_assert_cmphex(cmos_read(m, 0x0D), ==, 0x80);  /* VRT */
    th_machine_free(m);
}

static void test_update_interrupt(void)
{
    TessMachine *m = th_machine(rtc_xml);
    uint64_t t0 = set_time(m, 0x24, 0x02, 0x28, 0x12, 0x00, 0x00);
    cmos_write(m, 0x0B, 0x12);              /* UIE */
    advance_to(m, t0 + 499000000);
    g_assert_false(irq(m));
    advance_to(m, t0 + 500000000);
    g_assert_true(irq(m));
    /* IRQF | UF (PF counts too, at 1024 Hz, but is not enabled) */
    g_assert_cmphex(cmos_read(m, 0x0C) & 0xB0, ==, 0x90);
    g_assert_false(irq(m));
    g_assert_cmphex(cmos_read(m, 0x0C), ==, 0x00);
    advance_to(m, t0 + 1500000000);
    g_assert_true(irq(m));
    /* Flags are set whether or not enabled; IRQF only for enabled ones. */
    cmos_write(m, 0x0B, 0x02);
    g_assert_cmphex(cmos_read(m, 0x0C) & 0x90, ==, 0x10);
    th_machine_free(m);
}

static void test_periodic(void)
{
    TessMachine *m = th_machine(rtc_xml);
    uint64_t t0 = set_time(m, 0x24, 0x01, 0x01, 0x00, 0x00, 0x00);
    /* RS = 0110: 1024 Hz, 976.5625 us; the divider phase is 500 ms. */
    cmos_write(m, 0x0B, 0x42);              /* PIE */
    advance_to(m, t0 + 976000);
    g_assert_false(irq(m));
    advance_to(m, t0 + 977000);
    g_assert_true(irq(m));
    g_assert_cmphex(cmos_read(m, 0x0C), ==, 0xC0);
    /* Count interrupts over 100 ms, acknowledging each. */
    unsigned n = 0;
    for (unsigned i = 0; i < 1000; i++) {
        th_advance(m, 100000);
        if (irq(m)) {
            n++;
            cmos_read(m, 0x0C);
        }
    }
    g_assert_cmpuint(n, ==, 102);           /* 100 ms * 1024 Hz = 102.4 */
    /* RS = 0011: 8192 Hz, 122.070 us. */
    cmos_write(m, 0x0A, 0x23);
    cmos_read(m, 0x0C);
    n = 0;
    for (unsigned i = 0; i < 1000; i++) {
        th_advance(m, 10000);
        if (irq(m)) {
            n++;
            cmos_read(m, 0x0C);
        }
    }
    g_assert_cmpuint(n, >=, 81);            /* 10 ms * 8192 Hz = 81.9 */
    g_assert_cmpuint(n, <=, 82);
    /* RS = 0000: no periodic interrupt. */
    cmos_write(m, 0x0A, 0x20);
    cmos_read(m, 0x0C);
    th_advance(m, 100000000);
    g_assert_false(irq(m));
    th_machine_free(m);
}

static void test_alarm(void)
{
    TessMachine *m = th_machine(rtc_xml);
    uint64_t t0 = set_time(m, 0x24, 0x06, 0x15, 0x10, 0x00, 0x00);
    cmos_write(m, 0x01, 0x05);              /* 10:00:05 */
    cmos_write(m, 0x03, 0x00);
    cmos_write(m, 0x05, 0x10);
    cmos_write(m, 0x0B, 0x22);              /* AIE */
    advance_to(m, t0 + 4400000000ull);
    g_assert_false(irq(m));
    advance_to(m, t0 + 4500000000ull);
    g_assert_true(irq(m));
    g_assert_cmphex(cmos_read(m, 0x0C) & 0xA0, ==, 0xA0);
    g_assert_cmphex(cmos_read(m, 0x00), ==, 0x05);
    /* Don't-care hours and minutes: every minute at second 30. */
    cmos_write(m, 0x01, 0x30);
    cmos_write(m, 0x03, 0xC0);
    cmos_write(m, 0x05, 0xFF);
    unsigned n = 0;
    for (unsigned i = 0; i < 180; i++) {
        th_advance(m, 1000000000);
        if (irq(m)) {
            n++;
            g_assert_cmphex(cmos_read(m, 0x00), ==, 0x30);
            cmos_read(m, 0x0C);
        }
    }
    g_assert_cmpuint(n, ==, 3);
    /* All three don't care: every second. */
    cmos_write(m, 0x01, 0xC0);
    cmos_read(m, 0x0C);
    n = 0;
    for (unsigned i = 0; i < 10; i++) {
        th_advance(m, 1000000000);
        if (irq(m)) {
            n++;
            cmos_read(m, 0x0C);
        }
    }
    g_assert_cmpuint(n, ==, 10);
    th_machine_free(m);
}

static void test_binary_12h(void)
{
    TessMachine *m = th_machine(rtc_xml);
    cmos_write(m, 0x0A, 0x60);
    cmos_write(m, 0x0B, 0x84);              /* SET, binary, 12 h */
    cmos_write(m, 0x00, 59);
    cmos_write(m, 0x02, 59);
    cmos_write(m, 0x04, 0x80 | 11);         /* 11 PM */
    cmos_write(m, 0x07, 28);
    cmos_write(m, 0x08, 2);
    cmos_write(m, 0x09, 24);
    cmos_write(m, 0x32, 20);
    cmos_write(m, 0x0B, 0x04);
    cmos_write(m, 0x0A, 0x26);
    th_advance(m, 500000010);
    /* 2024 is a leap year: 29 February, 12 AM. */
    g_assert_cmpuint(cmos_read(m, 0x00), ==, 0);
    g_assert_cmpuint(cmos_read(m, 0x04), ==, 12);
    g_assert_cmpuint(cmos_read(m, 0x07), ==, 29);
    g_assert_cmpuint(cmos_read(m, 0x08), ==, 2);
    /* Switch to 24 h BCD while SET holds the registers, write 12:34:56. */
    cmos_write(m, 0x0B, 0x82);
    cmos_write(m, 0x04, 0x12);
    cmos_write(m, 0x02, 0x34);
    cmos_write(m, 0x00, 0x56);
    cmos_write(m, 0x07, 0x29);
    cmos_write(m, 0x08, 0x02);
    cmos_write(m, 0x09, 0x24);
    cmos_write(m, 0x32, 0x20);
    cmos_write(m, 0x0B, 0x02);
    g_assert_cmphex(cmos_read(m, 0x04), ==, 0x12);
    g_assert_cmphex(cmos_read(m, 0x02), ==, 0x34);
    /* Writing one field of a running clock. */
    cmos_write(m, 0x04, 0x07);
    g_assert_cmphex(cmos_read(m, 0x04), ==, 0x07);
    g_assert_cmphex(cmos_read(m, 0x02), ==, 0x34);
    th_machine_free(m);
}

static void test_dse(void)
{
    TessMachine *m = th_machine(rtc_xml);
    /* Last Sunday in April 1995 was the 30th. */
    cmos_write(m, 0x0A, 0x60);
    cmos_write(m, 0x0B, 0x83);              /* SET, 24 h, DSE */
    cmos_write(m, 0x00, 0x59);
    cmos_write(m, 0x02, 0x59);
    cmos_write(m, 0x04, 0x01);
    cmos_write(m, 0x07, 0x30);
    cmos_write(m, 0x08, 0x04);
    cmos_write(m, 0x09, 0x95);
    cmos_write(m, 0x32, 0x19);
    cmos_write(m, 0x0B, 0x03);
    cmos_write(m, 0x0A, 0x26);
    th_advance(m, 500000010);
    g_assert_cmphex(cmos_read(m, 0x04), ==, 0x03);  /* 1:59:59 -> 3:00:00 */
    g_assert_cmphex(cmos_read(m, 0x02), ==, 0x00);
    th_machine_free(m);
}

static void test_cmos_layout(void)
{
    TessMachine *m = th_machine("<memory size='64M'/>"
                                "<device type='rtc-cmos' id='rtc' boot-order='cda'/>");
    g_assert_cmphex(cmos_read(m, 0x15), ==, 0x80);  /* 640 KiB base memory */
    /* Equipment: no floppies (bits 7-6, 0), a coprocessor (bit 1, the
     * default "fpu" property), EGA/VGA (bits 5-4 = 0). */
    g_assert_cmphex(cmos_read(m, 0x14) & 0xF3, ==, 0x02);
    TessMachine *sx = th_machine("<memory size='64M'/>"
                                 "<device type='rtc-cmos' id='rtc' fpu='false'/>");
    g_assert_cmphex(cmos_read(sx, 0x14) & 0x02, ==, 0x00);   /* a 486SX board */
    th_machine_free(sx);
    g_assert_cmphex(cmos_read(m, 0x16), ==, 0x02);
    /* (64 MiB - 1 MiB) / 1 KiB = 64512 */
    g_assert_cmphex(cmos_read(m, 0x17), ==, 0x00);
    g_assert_cmphex(cmos_read(m, 0x18), ==, 0xFC);
    g_assert_cmphex(cmos_read(m, 0x30), ==, 0x00);
    g_assert_cmphex(cmos_read(m, 0x31), ==, 0xFC);
    /* (64 MiB - 16 MiB) / 64 KiB = 768 */
    g_assert_cmphex(cmos_read(m, 0x34), ==, 0x00);
    g_assert_cmphex(cmos_read(m, 0x35), ==, 0x03);
    g_assert_cmphex(cmos_read(m, 0x5B), ==, 0x00);
    g_assert_cmphex(cmos_read(m, 0x5F), ==, 0x00);
    /* Boot order c, d, a: 2, 3, 1. */
    g_assert_cmphex(cmos_read(m, 0x3D), ==, 0x32);
    g_assert_cmphex(cmos_read(m, 0x38), ==, 0x11);
    unsigned sum = 0;
    for (unsigned i = 0x10; i <= 0x2D; i++)
        sum += cmos_read(m, i);
    g_assert_cmphex(cmos_read(m, 0x2E), ==, sum >> 8);
    g_assert_cmphex(cmos_read(m, 0x2F), ==, sum & 0xFF);
    /* Plain RAM; index port bit 7 is the NMI mask, not an address bit. */
    cmos_write(m, 0x80 | 0x40, 0x5A);
    g_assert_cmphex(cmos_read(m, 0x40), ==, 0x5A);
    g_assert_cmphex(th_inb(m, 0x70), ==, 0xFF);
    th_machine_free(m);

    m = th_machine("<memory size='6G'/><device type='rtc-cmos' id='rtc'/>");
    g_assert_cmphex(cmos_read(m, 0x31), ==, 0xFF); /* capped */
    uint64_t above = tess_machine_ram_size(m) - tess_machine_ram_below_4g(m);
    g_assert_cmphex(cmos_read(m, 0x5B), ==, (above >> 16) & 0xFF);
    g_assert_cmphex(cmos_read(m, 0x5C), ==, (above >> 24) & 0xFF);
    g_assert_cmphex(cmos_read(m, 0x5D), ==, (above >> 32) & 0xFF);
    th_machine_free(m);

    g_autoptr(GError) err = NULL;
    g_assert_null(th_machine_try("<device type='rtc-cmos' id='rtc' boot-order='cx'/>", &err));
}

static void test_nvram_file(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_dir_make_tmp("rtc-XXXXXX", &err);
    g_assert_no_error(err);
    g_autofree char *path = g_build_filename(dir, "nvram.bin", NULL);
    g_autofree char *xml = g_strdup_printf("<device type='rtc-cmos' id='rtc' file='%s'/>", path);
    TessMachine *m = th_machine(xml);
    cmos_write(m, 0x50, 0xC3);
    th_machine_free(m);
    g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
    m = th_machine(xml);
    g_assert_cmphex(cmos_read(m, 0x50), ==, 0xC3);
    th_machine_free(m);
    /* A file of the wrong size is refused. */
    g_assert_true(g_file_set_contents(path, "short", 5, NULL));
    g_assert_null(th_machine_try(xml, &err));
    g_unlink(path);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rtc-cmos/update-cycle", test_update_cycle);
    g_test_add_func("/rtc-cmos/update-interrupt", test_update_interrupt);
    g_test_add_func("/rtc-cmos/periodic", test_periodic);
    g_test_add_func("/rtc-cmos/alarm", test_alarm);
    g_test_add_func("/rtc-cmos/binary-12h", test_binary_12h);
    g_test_add_func("/rtc-cmos/dse", test_dse);
    g_test_add_func("/rtc-cmos/cmos-layout", test_cmos_layout);
    g_test_add_func("/rtc-cmos/nvram-file", test_nvram_file);
    return g_test_run();
}
