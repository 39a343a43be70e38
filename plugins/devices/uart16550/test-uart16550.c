/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NS16550A tests against the PC16550D datasheet: reset values, DLAB,
 * loopback, line timing from the divisor, interrupt identification in
 * priority order, FIFO trigger levels and the character timeout, OUT2
 * gating, modem status deltas, break, overrun, host output, and a UART
 * saved mid-character and restored, stepped alongside the original.
 */
#include "harness.h"

#include <glib/gstdio.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#define B 0x3F8
#define RBR (B + 0)
#define THR (B + 0)
#define IER (B + 1)
#define IIR (B + 2)
#define FCR (B + 2)
#define LCR (B + 3)
#define MCR (B + 4)
#define LSR (B + 5)
#define MSR (B + 6)
#define SCR (B + 7)

#define UART "<device type='uart16550' id='com1'/>"

/* Character time for `bits` half-bit units at divisor `div`, 1.8432 MHz. */
static uint64_t ct_ns(unsigned half_bits, uint64_t div)
{
    return (half_bits * 16 * div * 1000000000ull + 2 * 1843200 - 1) / (2 * 1843200);
}

#define CT_8N1_9600 ct_ns(20, 12)

static void set_divisor(TessMachine *m, uint16_t div, uint8_t lcr)
{
    th_outb(m, LCR, 0x80 | lcr);
    th_outb(m, B + 0, (uint8_t)div);
    th_outb(m, B + 1, (uint8_t)(div >> 8));
    th_outb(m, LCR, lcr);
}

static void test_reset_and_dlab(void)
{
    TessMachine *m = th_machine(UART);

    g_assert_cmphex(th_inb(m, IER), ==, 0x00);
    g_assert_cmphex(th_inb(m, IIR), ==, 0x01);
    g_assert_cmphex(th_inb(m, LCR), ==, 0x00);
    g_assert_cmphex(th_inb(m, MCR), ==, 0x00);
    g_assert_cmphex(th_inb(m, LSR), ==, 0x60);       /* THRE | TEMT */
    g_assert_cmphex(th_inb(m, MSR), ==, 0xB0);       /* DCD, DSR, CTS from a ready host */

    th_outb(m, SCR, 0x5A);
    g_assert_cmphex(th_inb(m, SCR), ==, 0x5A);
    th_outb(m, IER, 0xFF);
    g_assert_cmphex(th_inb(m, IER), ==, 0x0F);       /* four defined bits */
    th_outb(m, MCR, 0xFF);
    g_assert_cmphex(th_inb(m, MCR), ==, 0x1F);
    th_outb(m, MCR, 0x00);

    /* DLAB switches offsets 0 and 1 to the divisor latch. */
    th_outb(m, LCR, 0x83);
    th_outb(m, B + 0, 0x34);
    th_outb(m, B + 1, 0x12);
    g_assert_cmphex(th_inb(m, B + 0), ==, 0x34);
    g_assert_cmphex(th_inb(m, B + 1), ==, 0x12);
    th_outb(m, LCR, 0x03);
    g_assert_cmphex(th_inb(m, IER), ==, 0x0F);
    g_assert_cmphex(th_inb(m, LCR), ==, 0x03);

    /* Master reset: registers back, divisor and scratch kept. */
    tess_machine_reset(m);
    g_assert_cmphex(th_inb(m, IER), ==, 0);
    g_assert_cmphex(th_inb(m, LSR), ==, 0x60);
    g_assert_cmphex(th_inb(m, SCR), ==, 0x5A);
    th_outb(m, LCR, 0x80);
    g_assert_cmphex(th_inb(m, B + 0), ==, 0x34);
    th_machine_free(m);
}

static void test_loopback_timing(void)
{
    TessMachine *m = th_machine(UART);
    set_divisor(m, 12, 0x03);
    th_outb(m, MCR, 0x10);

    th_outb(m, THR, 'A');
    /* Straight into the shift register: THR empty, transmitter busy. */
    g_assert_cmphex(th_inb(m, LSR), ==, 0x20);
    th_advance(m, CT_8N1_9600 - 1);
    g_assert_cmphex(th_inb(m, LSR) & 0x01, ==, 0);
    th_advance(m, 1);
    g_assert_cmphex(th_inb(m, LSR), ==, 0x61);
    g_assert_cmphex(th_inb(m, RBR), ==, 'A');
    g_assert_cmphex(th_inb(m, LSR), ==, 0x60);
    /* RBR keeps the last character. */
    g_assert_cmphex(th_inb(m, RBR), ==, 'A');

    /* Two bytes back to back (16450 mode): THR holds the second. */
    th_outb(m, THR, '1');
    th_outb(m, THR, '2');
    g_assert_cmphex(th_inb(m, LSR) & 0x60, ==, 0x00);
    th_advance(m, CT_8N1_9600);
    g_assert_cmphex(th_inb(m, LSR) & 0x61, ==, 0x21);  /* THRE, not TEMT, DR */
    g_assert_cmphex(th_inb(m, RBR), ==, '1');
    th_advance(m, CT_8N1_9600);
    g_assert_cmphex(th_inb(m, LSR) & 0x61, ==, 0x61);
    g_assert_cmphex(th_inb(m, RBR), ==, '2');
    th_machine_free(m);
}

static void check_char_time(uint16_t div, uint8_t lcr, unsigned half_bits)
{
    TessMachine *m = th_machine(UART);
    set_divisor(m, div, lcr);
    th_outb(m, MCR, 0x10);
    uint64_t ct = ct_ns(half_bits, div ? div : 65536);
    th_outb(m, THR, 0x15);
    th_advance(m, ct - 1);
    g_assert_cmphex(th_inb(m, LSR) & 0x41, ==, 0x00);
    th_advance(m, 1);
    g_assert_cmphex(th_inb(m, LSR) & 0x41, ==, 0x41);
    /* The receiver keeps the word length's bits. */
    g_assert_cmphex(th_inb(m, RBR), ==, 0x15 & ((1u << (5 + (lcr & 3))) - 1));
    th_machine_free(m);
}

static void test_baud_rates(void)
{
    check_char_time(1, 0x03, 20);          /* 115200 8N1: 86.8 us */
    check_char_time(0x180, 0x03, 20);      /* 300 baud */
    check_char_time(12, 0x1F, 24);         /* 8 data, parity, 2 stop: 12 bits */
    check_char_time(12, 0x04, 15);         /* 5 data, 1.5 stop: 7.5 bits */
    check_char_time(12, 0x02, 18);         /* 7 data, 1 stop: 9 bits */
    check_char_time(12, 0x0A, 20);         /* 7 data, parity, 1 stop: 10 bits */
    /* Divisor 0 divides by 65536 (5.69 s per character), as the counter does. */
    check_char_time(0, 0x03, 20);
}

static void test_iir_priority(void)
{
    TessMachine *m = th_machine(UART);
    set_divisor(m, 1, 0x03);
    uint64_t ct = ct_ns(20, 1);
    th_outb(m, MCR, 0x10);
    th_inb(m, MSR);                        /* entering loopback changed the inputs */

    /* Three bytes without reading: the third overruns RBR (16450 mode). */
    th_outb(m, THR, 'x');
    th_outb(m, THR, 'y');
    th_advance(m, ct);
    th_outb(m, THR, 'z');
    th_advance(m, 2 * ct);
    th_outb(m, MCR, 0x12);                 /* RTS -> CTS changes: DCTS */
    th_outb(m, IER, 0x0F);                 /* ETBEI with THR empty: THRE */

    g_assert_cmphex(th_inb(m, IIR), ==, 0x06);             /* line status */
    g_assert_cmphex(th_inb(m, LSR), ==, 0x63);             /* OE | DR */
    g_assert_cmphex(th_inb(m, IIR), ==, 0x04);             /* received data */
    g_assert_cmphex(th_inb(m, RBR), ==, 'z');              /* overwritten */
    g_assert_cmphex(th_inb(m, IIR), ==, 0x02);             /* THRE ... */
    g_assert_cmphex(th_inb(m, IIR), ==, 0x00);             /* ... cleared by that read */
    g_assert_cmphex(th_inb(m, MSR), ==, 0x11);             /* CTS, DCTS */
    g_assert_cmphex(th_inb(m, IIR), ==, 0x01);
    g_assert_cmphex(th_inb(m, MSR), ==, 0x10);

    /* Writing THR also clears THRE; it comes back when THR empties. */
    th_outb(m, IER, 0x02);
    th_outb(m, IER, 0x00);
    th_outb(m, IER, 0x02);
    g_assert_cmphex(th_inb(m, IIR), ==, 0x02);
    th_outb(m, IER, 0x00);
    th_outb(m, IER, 0x02);
    th_outb(m, THR, 'a');                  /* moves to TSR at once: THR empty again */
    g_assert_cmphex(th_inb(m, IIR), ==, 0x02);
    th_outb(m, THR, 'b');
    g_assert_cmphex(th_inb(m, IIR), ==, 0x01);
    th_advance(m, ct);
    g_assert_cmphex(th_inb(m, IIR), ==, 0x02);
    th_machine_free(m);
}

static void test_fifo_trigger_and_timeout(void)
{
    static const struct { uint8_t fcr; unsigned level; } trig[] = {
        { 0x01, 1 }, { 0x41, 4 }, { 0x81, 8 }, { 0xC1, 14 },
    };
    for (unsigned t = 0; t < G_N_ELEMENTS(trig); t++) {
        TessMachine *m = th_machine(UART);
        set_divisor(m, 1, 0x03);
        uint64_t ct = ct_ns(20, 1);
        th_outb(m, MCR, 0x10);
        th_outb(m, FCR, trig[t].fcr);
        th_outb(m, IER, 0x01);
        g_assert_cmphex(th_inb(m, IIR), ==, 0xC1);          /* FIFOs enabled */
        for (unsigned i = 0; i < trig[t].level - 1; i++)
            th_outb(m, THR, (uint8_t)i);
        th_advance(m, (trig[t].level - 1) * ct);
        g_assert_cmphex(th_inb(m, LSR) & 1, ==, trig[t].level > 1);
        if (trig[t].level > 1)
            g_assert_cmphex(th_inb(m, IIR), ==, 0xC1);
        th_outb(m, THR, 0xEE);
        th_advance(m, ct);
        g_assert_cmphex(th_inb(m, IIR), ==, 0xC4);
        /* Dropping below the trigger clears it. */
        th_inb(m, RBR);
        if (trig[t].level > 1)
            g_assert_cmphex(th_inb(m, IIR), ==, 0xC1);
        th_machine_free(m);
    }

    /* Character timeout: data below the trigger, 4 character times idle. */
    TessMachine *m = th_machine(UART);
    set_divisor(m, 12, 0x03);
    uint64_t ct = CT_8N1_9600;
    th_outb(m, MCR, 0x10);
    th_outb(m, FCR, 0x81);
    th_outb(m, IER, 0x01);
    th_outb(m, THR, 'a');
    th_outb(m, THR, 'b');
    th_outb(m, THR, 'c');
    th_advance(m, 3 * ct);                    /* 'c' just arrived */
    th_advance(m, 4 * ct - 1);
    g_assert_cmphex(th_inb(m, IIR), ==, 0xC1);
    th_advance(m, 1);
    g_assert_cmphex(th_inb(m, IIR), ==, 0xCC);
    /* Reading RBR clears it; it returns 4 character times later. */
    g_assert_cmphex(th_inb(m, RBR), ==, 'a');
    g_assert_cmphex(th_inb(m, IIR), ==, 0xC1);
    th_advance(m, 4 * ct);
    g_assert_cmphex(th_inb(m, IIR), ==, 0xCC);
    th_inb(m, RBR);
    th_inb(m, RBR);
    th_advance(m, 10 * ct);
    g_assert_cmphex(th_inb(m, IIR), ==, 0xC1);          /* empty: no timeout */

    /* 16-byte FIFOs: 17 bytes fit in transmitter (16 + shift register),
     * the receiver keeps 16 and flags the 17th as an overrun. */
    for (unsigned i = 0; i < 18; i++)
        th_outb(m, THR, (uint8_t)(0x40 + i));             /* the 18th is lost */
    th_advance(m, 16 * ct);
    g_assert_cmphex(th_inb(m, LSR) & 0x60, ==, 0x20);   /* last byte in TSR */
    th_advance(m, ct);
    uint8_t lsr = th_inb(m, LSR);
    g_assert_cmphex(lsr & 0x63, ==, 0x63);              /* OE, DR, idle */
    for (unsigned i = 0; i < 16; i++)
        g_assert_cmphex(th_inb(m, RBR), ==, 0x40 + i);
    g_assert_cmphex(th_inb(m, LSR) & 1, ==, 0);

    /* FCR: RX reset empties the receiver FIFO; disabling FIFOs too. */
    th_outb(m, THR, 1);
    th_outb(m, THR, 2);
    th_advance(m, 2 * ct);
    g_assert_cmphex(th_inb(m, LSR) & 1, ==, 1);
    th_outb(m, FCR, 0x83);
    g_assert_cmphex(th_inb(m, LSR) & 1, ==, 0);
    th_outb(m, THR, 3);
    th_advance(m, ct);
    th_outb(m, FCR, 0x00);
    g_assert_cmphex(th_inb(m, LSR) & 1, ==, 0);
    g_assert_cmphex(th_inb(m, IIR), ==, 0x01);
    th_machine_free(m);
}

static void test_out2_gating(void)
{
    TessMachine *m = th_machine(UART "<device type='th-probe' id='probe'/>"
                                "<wire from='com1.irq' to='probe.in0'/>");
    th_outb(m, IER, 0x02);                    /* THRE pending */
    g_assert_cmphex(th_inb(m, IIR), ==, 0x02);
    th_outb(m, IER, 0x00);
    th_outb(m, IER, 0x02);
    g_assert_false(th_probe_level(m, "probe", 0));      /* OUT2 = 0 */
    th_outb(m, MCR, 0x08);
    g_assert_true(th_probe_level(m, "probe", 0));
    th_outb(m, MCR, 0x18);                              /* loopback forces OUT2 off */
    g_assert_false(th_probe_level(m, "probe", 0));
    th_outb(m, MCR, 0x08);
    g_assert_true(th_probe_level(m, "probe", 0));
    th_inb(m, IIR);                                     /* clears THRE */
    g_assert_false(th_probe_level(m, "probe", 0));
    th_machine_free(m);
}

static void test_modem_status(void)
{
    TessMachine *m = th_machine(UART);
    th_outb(m, MCR, 0x10);
    /* Entering loopback drops CTS, DSR, DCD (all outputs off): deltas. */
    g_assert_cmphex(th_inb(m, MSR), ==, 0x0B);
    g_assert_cmphex(th_inb(m, MSR), ==, 0x00);
    th_outb(m, MCR, 0x11);                    /* DTR -> DSR */
    g_assert_cmphex(th_inb(m, MSR), ==, 0x22);
    th_outb(m, MCR, 0x19);                    /* OUT2 -> DCD */
    g_assert_cmphex(th_inb(m, MSR), ==, 0xA8);
    th_outb(m, MCR, 0x1D);                    /* OUT1 -> RI: no delta on the rising edge */
    g_assert_cmphex(th_inb(m, MSR), ==, 0xE0);
    th_outb(m, MCR, 0x19);                    /* trailing edge of RI: TERI */
    g_assert_cmphex(th_inb(m, MSR), ==, 0xA4);
    /* MSR interrupt. */
    th_outb(m, IER, 0x08);
    th_outb(m, MCR, 0x1B);
    g_assert_cmphex(th_inb(m, IIR), ==, 0x00);
    th_inb(m, MSR);
    g_assert_cmphex(th_inb(m, IIR), ==, 0x01);
    th_machine_free(m);
}

static void test_break(void)
{
    TessMachine *m = th_machine(UART);
    set_divisor(m, 12, 0x03);
    th_outb(m, MCR, 0x10);
    th_outb(m, IER, 0x05);
    th_outb(m, LCR, 0x43);                    /* set break */
    th_advance(m, CT_8N1_9600);
    g_assert_cmphex(th_inb(m, IIR), ==, 0x06);
    g_assert_cmphex(th_inb(m, LSR), ==, 0x71);          /* BI | DR | THRE | TEMT */
    g_assert_cmphex(th_inb(m, IIR), ==, 0x04);
    g_assert_cmphex(th_inb(m, RBR), ==, 0x00);
    /* One character per break. */
    th_advance(m, 5 * CT_8N1_9600);
    g_assert_cmphex(th_inb(m, LSR), ==, 0x60);
    th_outb(m, LCR, 0x03);

    /* In FIFO mode BI shows when the break character reaches the top,
     * and LSR bit 7 says an error waits in the FIFO. */
    th_outb(m, FCR, 0xC1);
    th_outb(m, THR, 'q');
    th_advance(m, CT_8N1_9600);
    th_outb(m, LCR, 0x43);
    th_advance(m, CT_8N1_9600);
    th_outb(m, LCR, 0x03);
    g_assert_cmphex(th_inb(m, LSR), ==, 0xE1);          /* bit 7, not BI yet */
    g_assert_cmphex(th_inb(m, RBR), ==, 'q');
    g_assert_cmphex(th_inb(m, LSR), ==, 0xF1);          /* BI now at the top */
    g_assert_cmphex(th_inb(m, LSR), ==, 0x61);          /* cleared by the read */
    g_assert_cmphex(th_inb(m, RBR), ==, 0x00);
    th_machine_free(m);
}

static void test_host_output(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_dir_make_tmp("uart-XXXXXX", &err);
    g_assert_nonnull(dir);
    g_autofree char *path = g_build_filename(dir, "out.txt", NULL);
    g_autofree char *frag = g_strdup_printf("<device type='uart16550' id='com1' chardev='file:%s'/>",
                                            path);
    TessMachine *m = th_machine(frag);
    set_divisor(m, 12, 0x03);
    th_outb(m, FCR, 0x07);
    for (const char *p = "Hello"; *p; p++)
        th_outb(m, THR, (uint8_t)*p);

    g_autofree char *got = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(path, &got, &len, NULL));
    g_assert_cmpuint(len, ==, 0);                 /* nothing has left yet */
    g_clear_pointer(&got, g_free);
    th_advance(m, 2 * CT_8N1_9600);
    g_assert_true(g_file_get_contents(path, &got, &len, NULL));
    g_assert_cmpuint(len, ==, 2);
    g_clear_pointer(&got, g_free);
    th_advance(m, 3 * CT_8N1_9600);
    g_assert_true(g_file_get_contents(path, &got, &len, NULL));
    g_assert_cmpstr(got, ==, "Hello");
    th_machine_free(m);
    g_unlink(path);
    g_rmdir(dir);
}


/* ---- snapshots ----------------------------------------------------------- */

/* A machine with a CPU (snapshots record one) that never runs: time moves
 * only by hand, as in the other tests. */
typedef struct {
    char *dir, *rom, *snap;
} SnapEnv;

static TessMachine *snap_machine(SnapEnv *e)
{
    g_autoptr(GError) err = NULL;
    e->dir = g_dir_make_tmp("uart-snap-XXXXXX", &err);
    g_assert_no_error(err);
    e->rom = g_build_filename(e->dir, "rom.bin", NULL);
    e->snap = g_build_filename(e->dir, "s.snap", NULL);
    g_autofree uint8_t *rom = g_malloc(0x10000);
    memset(rom, 0xF4, 0x10000);                  /* HLT all over */
    g_assert_true(g_file_set_contents(e->rom, (const char *)rom, 0x10000, NULL));
    g_autofree char *frag =
        g_strdup_printf("<cpu type='x86' model='pentium'/>"
                        "<device type='bios-rom' id='bios' file='%s'/>" UART, e->rom);
    return th_machine(frag);
}

static void snap_env_free(SnapEnv *e)
{
    g_unlink(e->snap);
    g_unlink(e->rom);
    g_rmdir(e->dir);
    g_free(e->snap);
    g_free(e->rom);
    g_free(e->dir);
}

static TessMachine *save_and_restore(TessMachine *m, const SnapEnv *e)
{
    g_autoptr(GError) err = NULL;
    g_assert_true(tess_snapshot_save(m, e->snap, &err));
    g_assert_no_error(err);
    TessMachine *r = tess_snapshot_restore(th_registry(), e->snap, NULL, &err);
    g_assert_no_error(err);
    g_assert_nonnull(r);
    return r;
}

/* Every device field, line level and armed timer (the snapshot's
 * description), less the file's own name. */
static char *state_of(TessMachine *m, const SnapEnv *e)
{
    g_autoptr(GError) err = NULL;
    g_assert_true(tess_snapshot_save(m, e->snap, &err));
    g_autoptr(GString) out = g_string_new(NULL);
    g_assert_true(tess_snapshot_describe(e->snap, true, out, &err));
    g_assert_no_error(err);
    g_auto(GStrv) lines = g_strsplit(out->str, "\n", -1);
    GString *kept = g_string_new(NULL);
    for (char **l = lines; *l; l++)
        if (!g_str_has_prefix(*l, "file:") && !g_str_has_prefix(*l, "size:"))
            g_string_append_printf(kept, "%s\n", *l);
    return g_string_free(kept, FALSE);
}

/* The same guest accesses on both machines give the same values. */
static uint8_t both_inb(TessMachine *a, TessMachine *b, uint32_t port)
{
    uint8_t va = th_inb(a, port), vb = th_inb(b, port);
    g_assert_cmphex(va, ==, vb);
    return va;
}

static void both_check(TessMachine *a, TessMachine *b, const SnapEnv *e)
{
    g_autofree char *sa = state_of(a, e), *sb = state_of(b, e);
    g_auto(GStrv) la = g_strsplit(sa, "\n", -1), lb = g_strsplit(sb, "\n", -1);
    /* The first field that differs names it; a section's line (its CRC)
     * is what differs where no field does (lines, clock). */
    guint n = MIN(g_strv_length(la), g_strv_length(lb));
    for (guint i = 0; i < n; i++)
        if (g_str_has_prefix(la[i], "       ") && strcmp(la[i], lb[i]))
            g_assert_cmpstr(la[i], ==, lb[i]);
    g_assert_cmpstr(sa, ==, sb);
}

/* Saved mid-character with THRE pending, the transmitter timer armed and
 * the interrupt raised, then restored: stepped the same way, the restored
 * UART is the original at every step, through timers that fire on time,
 * timers a late LSR read catches up with (a CPU slice past the deadline),
 * the THRE interrupt, loopback reception and the character timeout. */
static void test_snapshot_mid_character(void)
{
    SnapEnv e = { 0 };
    TessMachine *a = snap_machine(&e);
    uint64_t ct = ct_ns(20, 1);                  /* 8N1 at 115200 baud */
    set_divisor(a, 1, 0x03);
    th_outb(a, FCR, 0x01);
    th_outb(a, MCR, 0x0B);                       /* DTR, RTS, OUT2 */
    th_outb(a, IER, 0x02);                       /* ETBEI */
    th_outb(a, THR, 'x');
    th_outb(a, THR, 'y');
    th_outb(a, THR, 'z');
    th_advance(a, ct / 3);
    g_assert_cmphex(th_inb(a, LSR), ==, 0x00);   /* 'x' on the line, two queued */

    TessMachine *b = save_and_restore(a, &e);
    both_check(a, b, &e);
    g_assert_cmphex(both_inb(a, b, LSR), ==, 0x00);
    /* On time: 'x' leaves, 'y' starts, 'z' still queued. */
    th_advance(a, ct - ct / 3);
    th_advance(b, ct - ct / 3);
    both_check(a, b, &e);
    /* Late: the clock passes 'y''s end with no timer run, as in a CPU
     * slice; the LSR read catches up ('y' out, 'z' in the shift register,
     * THR empty, THRE pending and the interrupt up). */
    uint64_t late = tess_clock_ns(a) + ct + ct / 2;
    tess_clock_advance_to(a, late);
    tess_clock_advance_to(b, late);
    g_assert_cmphex(both_inb(a, b, LSR), ==, 0x20);
    both_check(a, b, &e);

    /* Saved again with THRE pending and the line raised. */
    TessMachine *c = save_and_restore(a, &e);
    both_check(a, c, &e);
    th_machine_free(b);
    g_assert_cmphex(both_inb(a, c, IIR), ==, 0xC2);   /* THRE (clears it) */
    g_assert_cmphex(both_inb(a, c, IIR), ==, 0xC1);
    th_advance(a, ct);
    th_advance(c, ct);
    g_assert_cmphex(both_inb(a, c, LSR), ==, 0x60);
    both_check(a, c, &e);

    /* Loopback with a character half received and two in the FIFO: the
     * receive timer and then the character timeout across a restore. */
    th_outb(a, MCR, 0x10);
    th_outb(c, MCR, 0x10);
    th_outb(a, FCR, 0x41);                       /* trigger level 4 */
    th_outb(c, FCR, 0x41);
    th_outb(a, IER, 0x01);
    th_outb(c, IER, 0x01);
    for (const char *p = "abc"; *p; p++) {
        th_outb(a, THR, (uint8_t)*p);
        th_outb(c, THR, (uint8_t)*p);
    }
    th_advance(a, 2 * ct + ct / 2);
    th_advance(c, 2 * ct + ct / 2);
    TessMachine *d = save_and_restore(a, &e);
    both_check(a, d, &e);
    th_machine_free(c);
    for (unsigned k = 0; k < 12; k++) {
        th_advance(a, ct / 2);
        th_advance(d, ct / 2);
        both_inb(a, d, IIR);
        both_inb(a, d, LSR);
        both_check(a, d, &e);
    }
    g_assert_cmphex(both_inb(a, d, IIR), ==, 0xCC);   /* character timeout */
    for (const char *p = "abc"; *p; p++)
        g_assert_cmphex(both_inb(a, d, RBR), ==, (uint8_t)*p);
    both_check(a, d, &e);
    th_machine_free(d);
    th_machine_free(a);
    snap_env_free(&e);
}

/* ---- host input through a tcp chardev -------------------------------------- */

static int free_tcp_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&a, &len), ==, 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* Run the host side (main loop) until the machine has a request, then
 * run the requests on "the machine thread" as the run loop would. */
static void pump_until_request(TessMachine *m)
{
    while (g_async_queue_length(m->requests) <= 0)
        g_main_context_iteration(NULL, TRUE);
}

static void drain(TessMachine *m)
{
    TessRequest *r;
    while ((r = g_async_queue_try_pop(m->requests))) {
        r->fn(m, r->data);
        g_free(r);
    }
}

static void test_host_input(void)
{
    int port = free_tcp_port();
    g_autofree char *frag = g_strdup_printf(
        "<device type='uart16550' id='com1' chardev='tcp:127.0.0.1:%d'/>", port);
    TessMachine *m = th_machine(frag);
    set_divisor(m, 12, 0x03);

    int cl = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    g_assert_cmpint(connect(cl, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    g_assert_cmpint(write(cl, "abc", 3), ==, 3);
    pump_until_request(m);
    drain(m);

    /* 16450 mode: one character on the wire at a time, at line speed. */
    th_advance(m, CT_8N1_9600 - 1);
    g_assert_cmphex(th_inb(m, LSR) & 1, ==, 0);
    th_advance(m, 1);
    g_assert_cmphex(th_inb(m, LSR) & 1, ==, 1);
    /* The host waits while RBR is full: no overrun however long. */
    drain(m);
    th_advance(m, 20 * CT_8N1_9600);
    drain(m);
    g_assert_cmphex(th_inb(m, LSR) & 0x03, ==, 0x01);
    g_assert_cmphex(th_inb(m, RBR), ==, 'a');
    drain(m);
    th_advance(m, CT_8N1_9600);
    g_assert_cmphex(th_inb(m, RBR), ==, 'b');

    /* FIFO mode takes the rest back to back. */
    th_outb(m, FCR, 0x01);
    g_assert_cmpint(write(cl, "defg", 4), ==, 4);
    g_main_context_iteration(NULL, TRUE);           /* the host side reads them */
    for (unsigned i = 0; i < 5; i++) {
        drain(m);
        th_advance(m, CT_8N1_9600);
    }
    drain(m);
    char got[6] = { 0 };
    for (unsigned i = 0; i < 5 && (th_inb(m, LSR) & 1); i++)
        got[i] = (char)th_inb(m, RBR);
    g_assert_cmpstr(got, ==, "cdefg");

    /* Output reaches the client. */
    th_outb(m, THR, 'Z');
    th_advance(m, CT_8N1_9600);
    char c = 0;
    g_assert_cmpint(read(cl, &c, 1), ==, 1);
    g_assert_cmpint(c, ==, 'Z');

    close(cl);
    drain(m);
    th_machine_free(m);
}

static void test_fuzz(void)
{
    TessMachine *m = th_machine(UART "<device type='th-probe' id='probe'/>"
                                "<wire from='com1.irq' to='probe.in0'/>");
    GRand *rnd = g_rand_new_with_seed(0x16550);
    for (unsigned i = 0; i < 60000; i++) {
        uint32_t v = g_rand_int(rnd);
        unsigned port = B + (v & 7);
        switch (g_rand_int_range(rnd, 0, 5)) {
        case 0: case 1:
            /* Small divisors most of the time so data moves. */
            if (port == B + 3 && (v & 0x80000000u))
                set_divisor(m, (uint16_t)(v >> 8) & 3, (uint8_t)(v >> 16) & 0x7F);
            else
                th_outb(m, port, (uint8_t)(v >> 8));
            break;
        case 2: case 3:
            th_inb(m, port);
            break;
        default:
            th_advance(m, v % 400000);
            break;
        }
    }
    g_rand_free(rnd);
    /* Consistency afterwards: IRQ line agrees with IIR and OUT2. */
    uint8_t mcr = th_inb(m, MCR);
    uint8_t iir = th_inb(m, IIR);
    bool expect = (mcr & 0x08) && !(mcr & 0x10) && !(iir & 1);
    if ((iir & 0x0F) != 0x02)                      /* reading IIR may clear THRE */
        g_assert_cmpint(th_probe_level(m, "probe", 0), ==, expect);
    th_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/uart16550/reset-and-dlab", test_reset_and_dlab);
    g_test_add_func("/uart16550/loopback-timing", test_loopback_timing);
    g_test_add_func("/uart16550/baud-rates", test_baud_rates);
    g_test_add_func("/uart16550/iir-priority", test_iir_priority);
    g_test_add_func("/uart16550/fifo-trigger-and-timeout", test_fifo_trigger_and_timeout);
    g_test_add_func("/uart16550/out2-gating", test_out2_gating);
    g_test_add_func("/uart16550/modem-status", test_modem_status);
    g_test_add_func("/uart16550/break", test_break);
    g_test_add_func("/uart16550/host-output", test_host_output);
    g_test_add_func("/uart16550/host-input", test_host_input);
    g_test_add_func("/uart16550/snapshot-mid-character", test_snapshot_mid_character);
    g_test_add_func("/uart16550/fuzz", test_fuzz);
    return g_test_run();
}
