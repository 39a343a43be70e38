/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* POST port: codes are kept and read back; nothing else is claimed. */
#include "harness.h"

static void test_post(void)
{
    TessMachine *m = th_machine("<device type='post' id='post'/>");
    g_assert_cmphex(th_inb(m, 0x80), ==, 0x00);
    th_outb(m, 0x80, 0x12);
    th_outb(m, 0x80, 0xA5);
    g_assert_cmphex(th_inb(m, 0x80), ==, 0xA5);
    g_assert_true(tess_pio_owner(m, 0x80) == tess_machine_device(m, "post"));
    g_assert_null(tess_pio_owner(m, 0x81));
    g_assert_cmphex(th_inb(m, 0x81), ==, 0xFF);
    th_machine_free(m);
}

static void test_post_port(void)
{
    TessMachine *m = th_machine("<device type='post' id='post' port='0x84'/>");
    th_outb(m, 0x84, 0x3C);
    g_assert_cmphex(th_inb(m, 0x84), ==, 0x3C);
    g_assert_null(tess_pio_owner(m, 0x80));
    th_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/post/codes", test_post);
    g_test_add_func("/post/port", test_post_port);
    return g_test_run();
}
