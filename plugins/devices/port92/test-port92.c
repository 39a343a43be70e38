/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "harness.h"

static void test_a20(void)
{
    TessMachine *m = th_machine("<device type='port92' id='p92'/>"
                                "<device type='th-probe' id='probe'/>"
                                "<wire from='p92.a20' to='probe.in0'/>");
    g_assert_false(th_probe_level(m, "probe", 0));
    g_assert_cmpuint(th_inb(m, 0x92), ==, 0);
    th_outb(m, 0x92, 0x02);
    g_assert_true(th_probe_level(m, "probe", 0));
    g_assert_cmpuint(th_inb(m, 0x92), ==, 0x02);
    th_outb(m, 0x92, 0x08);
    g_assert_false(th_probe_level(m, "probe", 0));
    g_assert_cmpuint(th_inb(m, 0x92), ==, 0x08);
    g_assert_false(m->reset_requested);
    th_machine_free(m);
}

static void test_fast_reset(void)
{
    TessMachine *m = th_machine("<device type='port92' id='p92'/>");
    th_outb(m, 0x92, 0x03);
    g_assert_true(m->reset_requested);
    /* bit 0 reads back as 0 */
    g_assert_cmpuint(th_inb(m, 0x92) & 1, ==, 0);
    th_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/port92/a20", test_a20);
    g_test_add_func("/port92/fast-reset", test_fast_reset);
    return g_test_run();
}
