/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The harness's guest RAM sits between inaccessible guard mappings, so a
 * device model that reads or writes past the end (or before the start) of
 * guest memory faults at once in every device test, fuzz tests included,
 * instead of silently touching whatever the host has mapped there.
 */
#include "harness.h"

#include <signal.h>
#include <unistd.h>
#include <sys/wait.h>

/* In a child: touch host RAM at `off` from its start; report how it died. */
static int touch(gint64 off)
{
    pid_t pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        TessMachine *m = th_machine("");
        uint8_t *host = tess_mem_region_host(tess_machine_ram(m));
        volatile uint8_t *p = host + off;
        *p = 1;
        _exit(0);
    }
    int st;
    g_assert_cmpint(waitpid(pid, &st, 0), ==, pid);
    return WIFSIGNALED(st) ? WTERMSIG(st) : -WEXITSTATUS(st);
}

static void test_guard(void)
{
    TessMachine *m = th_machine("");
    uint64_t size = tess_machine_ram_size(m);
    th_machine_free(m);
    /* Inside: fine. Past either end: a fault. (ASan reports a SEGV on an
     * unknown address and aborts, or the signal arrives as is.) */
    g_assert_cmpint(touch(0), ==, 0);
    g_assert_cmpint(touch((gint64)size - 1), ==, 0);
    int past = touch((gint64)size);
    g_assert_true(past == SIGSEGV || past == SIGABRT || past == -1);
    int before = touch(-1);
    g_assert_true(before == SIGSEGV || before == SIGABRT || before == -1);
    int far = touch((gint64)size + (512 << 10));
    g_assert_true(far == SIGSEGV || far == SIGABRT || far == -1);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/harness/ram-guard", test_guard);
    return g_test_run();
}
