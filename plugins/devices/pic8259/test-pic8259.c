/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * 8259A tests: a PC pair (master 0x20 vectors 08-0F, slave 0xA0 vectors
 * 70-77 on master IR2), driven through a test line source and checked
 * through the master's INT on a probe and the INTA cycle (th_intack),
 * as the Intel 8259A datasheet describes them.
 */
#include "harness.h"

static void src_set(TessMachine *m, unsigned n, bool level)
{
    th_source_set(m, "src", n, level);
}

/* src.out0-7 -> master IR0-7 (but IR2 carries the slave), src.out8-15 ->
 * slave IR0-7; src.out2 is also on master IR2 (wired OR with the slave). */
static const char *pair_xml =
    "<device type='th-source' id='src'/>"
    "<device type='pic8259' id='pic0' port='0x20' role='master' slave='pic1'/>"
    "<device type='pic8259' id='pic1' port='0xA0' role='slave'/>"
    "<device type='th-probe' id='probe'/>"
    "<wire from='pic0.int' to='probe.in0'/>"
    "<wire from='pic1.int' to='probe.in1'/>"
    "<wire from='pic1.int' to='pic0.ir2'/>"
    "<wire from='src.out0' to='pic0.ir0'/>"
    "<wire from='src.out1' to='pic0.ir1'/>"
    "<wire from='src.out2' to='pic0.ir2'/>"
    "<wire from='src.out3' to='pic0.ir3'/>"
    "<wire from='src.out4' to='pic0.ir4'/>"
    "<wire from='src.out5' to='pic0.ir5'/>"
    "<wire from='src.out6' to='pic0.ir6'/>"
    "<wire from='src.out7' to='pic0.ir7'/>"
    "<wire from='src.out8' to='pic1.ir0'/>"
    "<wire from='src.out9' to='pic1.ir1'/>"
    "<wire from='src.out10' to='pic1.ir2'/>"
    "<wire from='src.out11' to='pic1.ir3'/>"
    "<wire from='src.out12' to='pic1.ir4'/>"
    "<wire from='src.out13' to='pic1.ir5'/>"
    "<wire from='src.out14' to='pic1.ir6'/>"
    "<wire from='src.out15' to='pic1.ir7'/>";

static void init_pair(TessMachine *m, uint8_t master_icw4, uint8_t slave_icw4)
{
    th_outb(m, 0x20, 0x11);     /* ICW1: edge, cascade, IC4 */
    th_outb(m, 0x21, 0x08);     /* ICW2 */
    th_outb(m, 0x21, 0x04);     /* ICW3: slave on IR2 */
    th_outb(m, 0x21, master_icw4);
    th_outb(m, 0xA0, 0x11);
    th_outb(m, 0xA1, 0x70);
    th_outb(m, 0xA1, 0x02);     /* ICW3: slave ID 2 */
    th_outb(m, 0xA1, slave_icw4);
    th_outb(m, 0x21, 0x00);     /* OCW1: unmask all */
    th_outb(m, 0xA1, 0x00);
}

static TessMachine *pair(void)
{
    TessMachine *m = th_machine(pair_xml);
    init_pair(m, 0x01, 0x01);
    return m;
}

static uint8_t read_isr(TessMachine *m, uint16_t port)
{
    th_outb(m, port, 0x0B);     /* OCW3: read ISR */
    return th_inb(m, port);
}

static uint8_t read_irr(TessMachine *m, uint16_t port)
{
    th_outb(m, port, 0x0A);     /* OCW3: read IRR */
    return th_inb(m, port);
}

static bool intr(TessMachine *m)
{
    return th_probe_level(m, "probe", 0);
}

static void test_priority_and_eoi(void)
{
    TessMachine *m = pair();
    g_assert_false(intr(m));
    src_set(m, 3, true);
    src_set(m, 1, true);
    g_assert_true(intr(m));
    g_assert_cmphex(read_irr(m, 0x20), ==, 0x0A);

    g_assert_cmphex(th_intack(m), ==, 0x09);        /* IR1 first */
    g_assert_cmphex(read_isr(m, 0x20), ==, 0x02);
    g_assert_false(intr(m));                        /* IR3 waits for IR1 */

    src_set(m, 0, true);                            /* IR0 nests above IR1 */
    g_assert_true(intr(m));
    g_assert_cmphex(th_intack(m), ==, 0x08);
    g_assert_cmphex(read_isr(m, 0x20), ==, 0x03);

    th_outb(m, 0x20, 0x20);                         /* non-specific EOI: IR0 */
    g_assert_cmphex(read_isr(m, 0x20), ==, 0x02);
    g_assert_false(intr(m));
    th_outb(m, 0x20, 0x61);                         /* specific EOI IR1 */
    g_assert_cmphex(read_isr(m, 0x20), ==, 0x00);
    g_assert_true(intr(m));
    g_assert_cmphex(th_intack(m), ==, 0x0B);

    /* Masked requests stay in IRR but do not interrupt. */
    th_outb(m, 0x20, 0x20);
    src_set(m, 6, true);
    th_outb(m, 0x21, 0x40);
    g_assert_false(intr(m));
    g_assert_cmphex(th_inb(m, 0x21), ==, 0x40);
    g_assert_true(read_irr(m, 0x20) & 0x40);
    th_outb(m, 0x21, 0x00);
    g_assert_true(intr(m));
    th_machine_free(m);
}

static void test_cascade(void)
{
    TessMachine *m = pair();
    src_set(m, 8 + 0, true);                        /* IRQ8 */
    g_assert_true(th_probe_level(m, "probe", 1));
    g_assert_true(intr(m));
    g_assert_cmphex(th_intack(m), ==, 0x70);
    g_assert_cmphex(read_isr(m, 0x20), ==, 0x04);
    g_assert_cmphex(read_isr(m, 0xA0), ==, 0x01);
    g_assert_false(intr(m));

    /* IRQ12 arrives: blocked by the master's ISR bit 2 (fully nested). */
    src_set(m, 8 + 4, true);
    g_assert_false(intr(m));
    th_outb(m, 0xA0, 0x20);                         /* EOI slave, then master */
    th_outb(m, 0x20, 0x20);
    g_assert_true(intr(m));
    g_assert_cmphex(th_intack(m), ==, 0x74);
    th_outb(m, 0xA0, 0x20);
    th_outb(m, 0x20, 0x20);
    g_assert_false(intr(m));

    /* Master IRQ1 has priority over the whole slave. */
    src_set(m, 8 + 1, true);
    src_set(m, 1, true);
    g_assert_cmphex(th_intack(m), ==, 0x09);
    th_outb(m, 0x20, 0x20);
    g_assert_cmphex(th_intack(m), ==, 0x71);
    th_machine_free(m);
}

static void test_spurious(void)
{
    TessMachine *m = pair();
    /* IR5 is masked after INT went out: INTA finds no request and gets
     * the default IR7 vector, no ISR bit. */
    src_set(m, 5, true);
    g_assert_true(intr(m));
    th_outb(m, 0x21, 0x20);
    g_assert_false(intr(m));
    g_assert_cmphex(th_intack(m), ==, 0x0F);
    g_assert_cmphex(read_isr(m, 0x20), ==, 0x00);
    th_outb(m, 0x21, 0x00);
    g_assert_cmphex(th_intack(m), ==, 0x0D);       /* still requested */
    th_outb(m, 0x20, 0x20);

    /* A level request withdrawn before INTA: spurious IRQ15 on the
     * slave; the master serves its IR2 and needs its EOI. */
    g_autoptr(GError) err = NULL;
    g_assert_true(tess_device_set_prop(tess_machine_device(m, "pic1"), "elcr", "0x40", &err));
    src_set(m, 8 + 6, true);
    g_assert_true(intr(m));
    src_set(m, 8 + 6, false);
    g_assert_cmphex(th_intack(m), ==, 0x77);
    g_assert_cmphex(read_isr(m, 0xA0), ==, 0x00);
    g_assert_cmphex(read_isr(m, 0x20), ==, 0x04);
    th_outb(m, 0x20, 0x20);

    /* An edge held only for an instant (a pulse) is still served. */
    src_set(m, 3, true);
    src_set(m, 3, false);
    g_assert_true(intr(m));
    g_assert_cmphex(th_intack(m), ==, 0x0B);
    th_outb(m, 0x20, 0x20);
    g_assert_false(intr(m));

    /* The master serves IR2 but the slave has nothing: the slave answers
     * with its IR7 vector (IRQ15) and sets no ISR bit; the master's IR2
     * is in service and needs its EOI. */
    src_set(m, 2, true);
    g_assert_cmphex(th_intack(m), ==, 0x77);
    g_assert_cmphex(read_isr(m, 0xA0), ==, 0x00);
    g_assert_cmphex(read_isr(m, 0x20), ==, 0x04);
    th_outb(m, 0x20, 0x20);
    g_assert_cmphex(read_isr(m, 0x20), ==, 0x00);

    /* An edge request must stay high until INTA: a new edge is needed
     * after it drops. */
    src_set(m, 2, false);
    src_set(m, 4, true);
    src_set(m, 4, false);
    src_set(m, 4, true);
    g_assert_cmphex(th_intack(m), ==, 0x0C);
    th_machine_free(m);
}

static void test_auto_eoi(void)
{
    TessMachine *m = th_machine(pair_xml);
    init_pair(m, 0x03, 0x01);                       /* master AEOI */
    src_set(m, 3, true);
    g_assert_cmphex(th_intack(m), ==, 0x0B);
    g_assert_cmphex(read_isr(m, 0x20), ==, 0x00);
    g_assert_false(intr(m));                        /* edge consumed */

    /* Rotate in AEOI mode: a served IR becomes lowest priority. */
    th_outb(m, 0x20, 0x80);
    src_set(m, 3, false);
    src_set(m, 3, true);
    src_set(m, 4, true);
    g_assert_cmphex(th_intack(m), ==, 0x0B);        /* 3 before 4 */
    src_set(m, 3, false);
    src_set(m, 3, true);
    g_assert_cmphex(th_intack(m), ==, 0x0C);        /* 3 is now lowest */
    g_assert_cmphex(th_intack(m), ==, 0x0B);
    th_machine_free(m);
}

static void test_rotation(void)
{
    TessMachine *m = pair();
    /* Set priority: IR3 lowest, so IR4 is highest. */
    th_outb(m, 0x20, 0xC3);
    src_set(m, 1, true);
    src_set(m, 5, true);
    g_assert_cmphex(th_intack(m), ==, 0x0D);
    /* IR1 is below IR5 now, so it waits. */
    g_assert_false(intr(m));
    /* Rotate on non-specific EOI: IR5 becomes lowest, IR6 highest. */
    th_outb(m, 0x20, 0xA0);
    g_assert_cmphex(read_isr(m, 0x20), ==, 0x00);
    g_assert_true(intr(m));
    src_set(m, 7, true);
    g_assert_cmphex(th_intack(m), ==, 0x0F);        /* 7 ahead of 1 */
    /* Rotate on specific EOI for IR7: IR7 lowest, IR0 highest. */
    th_outb(m, 0x20, 0xE7);
    src_set(m, 0, true);
    g_assert_cmphex(th_intack(m), ==, 0x08);
    th_outb(m, 0x20, 0x60);                         /* specific EOI IR0 */
    g_assert_cmphex(th_intack(m), ==, 0x09);
    th_machine_free(m);
}

static void test_special_mask(void)
{
    TessMachine *m = pair();
    src_set(m, 1, true);
    g_assert_cmphex(th_intack(m), ==, 0x09);
    src_set(m, 3, true);
    g_assert_false(intr(m));                        /* nested below IR1 */
    th_outb(m, 0x21, 0x02);                         /* mask IR1 */
    g_assert_false(intr(m));
    th_outb(m, 0x20, 0x68);                         /* OCW3: set special mask */
    g_assert_true(intr(m));
    g_assert_cmphex(th_intack(m), ==, 0x0B);
    /* A non-specific EOI skips the masked IR1 and ends IR3. */
    th_outb(m, 0x20, 0x20);
    g_assert_cmphex(read_isr(m, 0x20), ==, 0x02);
    th_outb(m, 0x20, 0x48);                         /* reset special mask */
    th_outb(m, 0x20, 0x61);
    g_assert_cmphex(read_isr(m, 0x20), ==, 0x00);
    th_machine_free(m);
}

static void test_poll(void)
{
    TessMachine *m = pair();
    th_outb(m, 0x20, 0x0C);                         /* OCW3: poll */
    g_assert_cmphex(th_inb(m, 0x20), ==, 0x00);     /* nothing pending */
    src_set(m, 6, true);
    src_set(m, 4, true);
    th_outb(m, 0x20, 0x0C);
    g_assert_cmphex(th_inb(m, 0x21), ==, 0x84);     /* I=1, W=4 */
    g_assert_cmphex(read_isr(m, 0x20), ==, 0x10);
    /* The poll is one read only. */
    g_assert_cmphex(th_inb(m, 0x21), ==, 0x00);
    th_machine_free(m);
}

static void test_level_elcr(void)
{
    TessMachine *m = pair();
    g_autoptr(GError) err = NULL;
    TessDevice *pic1 = tess_machine_device(m, "pic1");
    g_assert_true(tess_device_set_prop(pic1, "elcr", "0x08", &err));   /* IRQ11 level */
    src_set(m, 8 + 3, true);
    g_assert_cmphex(th_intack(m), ==, 0x73);
    th_outb(m, 0xA0, 0x20);
    th_outb(m, 0x20, 0x20);
    /* Still high: a level input asks again, no new edge needed. */
    g_assert_true(intr(m));
    g_assert_cmphex(th_intack(m), ==, 0x73);
    th_outb(m, 0xA0, 0x20);
    th_outb(m, 0x20, 0x20);
    /* The slave raised INT again after its EOI, latched as an edge on the
     * master's IR2; the level then goes away: the master still serves
     * IR2 and the slave answers with its IR7, the spurious IRQ15. */
    src_set(m, 8 + 3, false);
    g_assert_false(th_probe_level(m, "probe", 1));
    g_assert_true(intr(m));
    g_assert_cmphex(th_intack(m), ==, 0x77);
    th_outb(m, 0x20, 0x20);
    g_assert_false(intr(m));

    /* LTIM in ICW1 makes every input level-triggered. */
    th_outb(m, 0x20, 0x19);
    th_outb(m, 0x21, 0x08);
    th_outb(m, 0x21, 0x04);
    th_outb(m, 0x21, 0x01);
    src_set(m, 5, true);                            /* edge reset by ICW1... */
    g_assert_cmphex(th_intack(m), ==, 0x0D);
    th_outb(m, 0x20, 0x20);
    g_assert_cmphex(th_intack(m), ==, 0x0D);        /* ...but level asks again */
    th_machine_free(m);
}

static void test_icw1_resets(void)
{
    TessMachine *m = pair();
    th_outb(m, 0x21, 0xFF);
    src_set(m, 3, true);
    /* ICW1 clears IMR and the edge latches: IR3, held high, needs a new edge. */
    th_outb(m, 0x20, 0x11);
    th_outb(m, 0x21, 0x08);
    th_outb(m, 0x21, 0x04);
    th_outb(m, 0x21, 0x01);
    g_assert_cmphex(th_inb(m, 0x21), ==, 0x00);
    g_assert_false(intr(m));
    src_set(m, 3, false);
    src_set(m, 3, true);
    g_assert_true(intr(m));
    /* Reads default to IRR after ICW1. */
    g_assert_cmphex(th_inb(m, 0x20), ==, 0x08);
    th_machine_free(m);
}

static void test_special_fully_nested(void)
{
    for (int sfnm = 0; sfnm <= 1; sfnm++) {
        TessMachine *m = th_machine(pair_xml);
        init_pair(m, sfnm ? 0x11 : 0x01, 0x01);
        src_set(m, 8 + 5, true);
        g_assert_cmphex(th_intack(m), ==, 0x75);
        /* A higher slave request while IRQ13 is in service. */
        src_set(m, 8 + 1, true);
        g_assert_true(th_probe_level(m, "probe", 1));
        if (sfnm) {
            g_assert_true(intr(m));
            g_assert_cmphex(th_intack(m), ==, 0x71);
            g_assert_cmphex(read_isr(m, 0xA0), ==, 0x22);
        } else {
            g_assert_false(intr(m));
        }
        th_machine_free(m);
    }
}

static void test_mcs80_mode(void)
{
    TessMachine *m = th_machine(pair_xml);
    /* ICW1 without IC4, call address interval 4, A7-A5 = 101. */
    th_outb(m, 0x20, 0xB6);                         /* SNGL, ADI, no IC4 */
    th_outb(m, 0x21, 0x12);
    th_outb(m, 0x21, 0x00);
    src_set(m, 3, true);
    /* The second INTA byte is the low CALL address: A7-A5 | IR << 2. */
    g_assert_cmphex(th_intack(m), ==, 0xA0 | (3 << 2));
    th_machine_free(m);
}

static void test_bad_config(void)
{
    g_autoptr(GError) err = NULL;
    TessMachine *m = th_machine_try("<device type='pic8259' id='pic0' slave='nope'/>", &err);
    g_assert_null(m);
    g_assert_nonnull(err);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pic8259/priority-eoi", test_priority_and_eoi);
    g_test_add_func("/pic8259/cascade", test_cascade);
    g_test_add_func("/pic8259/spurious", test_spurious);
    g_test_add_func("/pic8259/auto-eoi", test_auto_eoi);
    g_test_add_func("/pic8259/rotation", test_rotation);
    g_test_add_func("/pic8259/special-mask", test_special_mask);
    g_test_add_func("/pic8259/poll", test_poll);
    g_test_add_func("/pic8259/level-elcr", test_level_elcr);
    g_test_add_func("/pic8259/icw1-resets", test_icw1_resets);
    g_test_add_func("/pic8259/special-fully-nested", test_special_fully_nested);
    g_test_add_func("/pic8259/mcs80-mode", test_mcs80_mode);
    g_test_add_func("/pic8259/bad-config", test_bad_config);
    return g_test_run();
}
