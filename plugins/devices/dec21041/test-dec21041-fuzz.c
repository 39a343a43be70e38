/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * DEC 21041 fuzz test: random CSR programming, random descriptor lists
 * and buffers pointing everywhere (RAM, its edges, MMIO, nothing), frames
 * injected, link flapping, time passing - a fixed seed and a bounded
 * number of operations, under ASan/UBSan. The chip must never fault the
 * host or hang, and what it reports must stay self-consistent: the RS/TS
 * fields hold valid states, the summaries follow CSR5 & CSR7, INTA#
 * follows the summaries, and no descriptor outside RAM is ever written.
 */
#include "nic-test.h"

#define RAM_SIZE (4u << 20)

static uint32_t rnd_addr(GRand *r)
{
    switch (g_rand_int_range(r, 0, 8)) {
    case 0: return g_rand_int(r);                                  /* anywhere */
    case 1: return RAM_SIZE - (uint32_t)g_rand_int_range(r, 0, 64);        /* RAM's end */
    case 2: return NIC_MMIO + (uint32_t)g_rand_int_range(r, 0, 128);      /* our own CSRs */
    case 3: return 0xFFFFFFF0u + (uint32_t)g_rand_int_range(r, 0, 16);    /* wraps */
    default: return (uint32_t)g_rand_int_range(r, 0x10000, 0x20000) & ~3u;  /* the lists */
    }
}

static void rnd_desc(TessMachine *m, GRand *r)
{
    uint32_t a = (uint32_t)g_rand_int_range(r, 0x10000, 0x20000) & ~15u;
    if (g_rand_int_range(r, 0, 4) == 0) {
        /* anything at all */
        a |= (uint32_t)g_rand_int_range(r, 0, 4) * 4;
        desc_set(m, a, g_rand_int(r), g_rand_int(r),
                 g_rand_boolean(r) ? rnd_addr(r) : (uint32_t)g_rand_int_range(r, 0x20000, 0x30000),
                 g_rand_boolean(r) ? rnd_addr(r) : (a & ~0xFFu) + 16 * (uint32_t)g_rand_int_range(r, 0, 16));
        return;
    }
    /* plausible: owned, a frame or part of one, buffers in RAM */
    static const uint32_t flags[] = { 3u << 29, 1u << 29, 1u << 30, 0, 1u << 27, 1u << 31 | 3u << 29 };
    uint32_t d1 = flags[g_rand_int_range(r, 0, G_N_ELEMENTS(flags))];
    d1 |= (uint32_t)g_rand_int_range(r, 0, 1600);
    if (g_rand_int_range(r, 0, 4) == 0)
        d1 |= 1u << 24;                                   /* chained */
    else if (g_rand_boolean(r))
        d1 |= (uint32_t)g_rand_int_range(r, 0, 600) << 11;
    if (g_rand_int_range(r, 0, 16) == 0)
        d1 |= 1u << 25;                                   /* end of ring */
    d1 |= g_rand_int(r) & ((1u << 28) | (1u << 26) | (1u << 23) | (1u << 22));
    uint32_t d3 = (d1 & (1u << 24)) ? (uint32_t)g_rand_int_range(r, 0x10000, 0x20000) & ~15u
                                    : (uint32_t)g_rand_int_range(r, 0x20000, 0x30000);
    desc_set(m, a, 0x80000000u, d1, (uint32_t)g_rand_int_range(r, 0x20000, 0x30000), d3);
}

static void check_invariants(TessMachine *m)
{
    uint32_t c5 = csr_r(m, 5), c7 = csr_r(m, 7);
    unsigned rs = (c5 >> 17) & 7, ts = (c5 >> 20) & 7;
    g_assert_true(rs == 0 || rs == 1 || rs == 3 || rs == 4);
    g_assert_true(ts == 0 || ts == 1 || ts == 6);
    bool nis = c5 & c7 & (0x1u | 0x4u | 0x40u | 0x4000u);
    bool ais = c5 & c7 & 0x3FBAu;
    g_assert_cmpint(!!(c5 & (1u << 16)), ==, nis);
    g_assert_cmpint(!!(c5 & (1u << 15)), ==, ais);
    bool irq = (nis && (c7 & (1u << 16))) || (ais && (c7 & (1u << 15)));
    g_assert_cmpint(th_probe_level(m, "probe", 0), ==, irq);
    g_assert_cmphex(c5 & 0xFC000000u, ==, 0xFC000000u);
}

typedef struct {
    unsigned sent, received, bus_errors;
} Stats;

/* Running lists, link up, receiver and transmitter on. */
static void restart(TessMachine *m)
{
    csr_w(m, 0, 1);
    nt_link_up(m);
    csr_w(m, 3, 0x10000);
    csr_w(m, 4, 0x18000);
    csr_w(m, 7, 0x1FFFF);
    csr_w(m, 6, (1u << 1) | (1u << 13) | (1u << 6));
}

static void fuzz(unsigned seed, unsigned ops, Stats *st)
{
    TessMachine *m = nt_machine();
    ThNet *be = nt_backend(m);
    GRand *r = g_rand_new_with_seed(seed);
    uint8_t f[4096];

    /* A base to mutate from */
    for (unsigned i = 0; i < 256; i++)
        rnd_desc(m, r);
    restart(m);

    for (unsigned op = 0; op < ops; op++) {
        switch (g_rand_int_range(r, 0, 12)) {
        case 0: {
            unsigned n = (unsigned)g_rand_int_range(r, 0, 16);
            uint32_t v = g_rand_int(r);
            if (n == 0 && g_rand_int_range(r, 0, 4))
                v &= ~1u;                           /* reset only sometimes */
            if (n == 13 && g_rand_boolean(r))
                v = 0xEF01;
            if (n == 9 && g_rand_boolean(r))
                v = 0x4800 | (v & 7);               /* Microwire traffic */
            csr_w(m, n, v);
            break;
        }
        case 1:
            csr_r(m, (unsigned)g_rand_int_range(r, 0, 16));
            break;
        case 2:
        case 3:
            rnd_desc(m, r);
            break;
        case 4:
            csr_w(m, 3, g_rand_int_range(r, 0, 3) ? 0x10000 + (g_rand_int(r) & 0xFFF0) : rnd_addr(r));
            break;
        case 5:
            csr_w(m, 4, g_rand_int_range(r, 0, 3) ? 0x10000 + (g_rand_int(r) & 0xFFF0) : rnd_addr(r));
            break;
        case 6:
            csr_w(m, 1, 1);
            break;
        case 7:
            csr_w(m, 2, 1);
            break;
        case 8: {
            size_t len = (size_t)g_rand_int_range(r, 0, sizeof(f));
            for (size_t i = 0; i < len; i++)
                f[i] = (uint8_t)g_rand_int(r);
            if (len >= 6 && g_rand_boolean(r))
                memcpy(f, g_rand_boolean(r) ? nt_mac : (const uint8_t *)"\xff\xff\xff\xff\xff\xff", 6);
            if (be->port)
                tess_net_port_deliver(be->port, f, len);
            break;
        }
        case 9:
            be->link = g_rand_int_range(r, 0, 4) != 0;
            if (be->port)
                tess_net_port_link_changed(be->port);
            break;
        case 10:
            be->busy = (unsigned)g_rand_int_range(r, 0, 3);
            if (!be->busy && be->port)
                tess_net_port_tx_ready(be->port);
            break;
        default:
            th_advance(m, (uint64_t)g_rand_int_range(r, 0, 3000000));
            break;
        }
        st->sent += be->sent->len;
        g_ptr_array_set_size(be->sent, 0);
        uint32_t c5 = csr_r(m, 5);
        if (c5 & (1u << 6)) {
            st->received++;
            csr_w(m, 5, 1u << 6);
        }
        if ((c5 & (1u << 13)) && g_rand_boolean(r)) {
            /* a fatal bus error stops the chip until a reset: give it one */
            st->bus_errors++;
            restart(m);
        }
        if (op % 16 == 0) {
            /* keep the PCI side sane so DMA keeps being exercised */
            nt_cfg_write(m, NIC_DEVFN, 0x04, 0x0007, 2);
            check_invariants(m);
        }
    }
    check_invariants(m);
    g_rand_free(r);
    th_machine_free(m);
}

static void test_fuzz(void)
{
    Stats st = { 0 };
    for (unsigned seed = 1; seed <= 8; seed++)
        fuzz(seed, 20000, &st);
    g_test_message("sent %u, receive interrupts %u, bus errors %u", st.sent, st.received,
                   st.bus_errors);
    /* the run must have exercised both directions and the error path */
    g_assert_cmpuint(st.sent, >, 0);
    g_assert_cmpuint(st.received, >, 0);
    g_assert_cmpuint(st.bus_errors, >, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/dec21041/fuzz", test_fuzz);
    return g_test_run();
}
