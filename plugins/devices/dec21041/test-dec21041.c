/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * DEC 21041 unit tests: PCI function, CSRs, serial ROM, SIA link, timer,
 * interrupts, transmit and receive lists in ring and chained mode, setup
 * frames and every filtering mode, missed frames, software reset, bus
 * errors - driven through the harness with a capture/injection backend.
 */
#include "nic-test.h"

#define RXR     0x10000u    /* receive list */
#define TXR     0x11000u    /* transmit list */
#define RXB     0x20000u    /* receive buffers, 2 KiB apart */
#define TXB     0x40000u    /* transmit buffers, 2 KiB apart */
#define SETUP   0x60000u

#define OWN     0x80000000u
#define ER      (1u << 25)
#define CH      (1u << 24)
#define IC      (1u << 31)
#define LS      (1u << 30)
#define FS      (1u << 29)
#define TDES0_LAST_BIT (1u << 30)       /* in the status written back */
#define FT1     (1u << 28)
#define SET     (1u << 27)
#define AC      (1u << 26)
#define DPD     (1u << 23)
#define FT0     (1u << 22)

#define C5_TI   (1u << 0)
#define C5_TPS  (1u << 1)
#define C5_TU   (1u << 2)
#define C5_TJT  (1u << 3)
#define C5_LNP  (1u << 4)
#define C5_RI   (1u << 6)
#define C5_RU   (1u << 7)
#define C5_RPS  (1u << 8)
#define C5_TM   (1u << 11)
#define C5_LNF  (1u << 12)
#define C5_SE   (1u << 13)
#define C5_AIS  (1u << 15)
#define C5_NIS  (1u << 16)
#define C5_RS(v) (((v) >> 17) & 7)
#define C5_TS(v) (((v) >> 20) & 7)

#define C6_HP   (1u << 0)
#define C6_SR   (1u << 1)
#define C6_HO   (1u << 2)
#define C6_IF   (1u << 4)
#define C6_PR   (1u << 6)
#define C6_PM   (1u << 7)
#define C6_ST   (1u << 13)

static const uint8_t bcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
static const uint8_t other[6] = { 0x52, 0x54, 0x00, 0x99, 0x99, 0x99 };

/* ---- list helpers ----------------------------------------------------------- */

static void rx_ring(TessMachine *m, unsigned n, unsigned bufsize)
{
    for (unsigned i = 0; i < n; i++)
        desc_set(m, RXR + 16 * i, OWN, (i == n - 1 ? ER : 0) | bufsize, RXB + 0x800 * i, 0);
    csr_w(m, 3, RXR);
}

static void tx_ring(TessMachine *m, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        desc_set(m, TXR + 16 * i, 0, i == n - 1 ? ER : 0, 0, 0);
    csr_w(m, 4, TXR);
}

/* Queue a one-buffer frame in TX descriptor i (of n) and poll. */
static void tx_queue(TessMachine *m, unsigned i, unsigned n, const void *data, size_t len,
                     uint32_t flags)
{
    mem_wr(m, TXB + 0x800 * i, data, len);
    desc_set(m, TXR + 16 * i, OWN, flags | (i == n - 1 ? ER : 0) | (uint32_t)len,
             TXB + 0x800 * i, 0);
}

/* Build a perfect-filtering setup frame: `n` addresses, broadcast in the
 * unused entries, as Linux does. */
static void setup_perfect(uint8_t sf[192], const uint8_t (*addrs)[6], unsigned n)
{
    memset(sf, 0, 192);
    for (unsigned e = 0; e < 16; e++) {
        const uint8_t *a = e < n ? addrs[e] : bcast;
        uint8_t *p = sf + 12 * e;
        p[0] = a[0]; p[1] = a[1]; p[4] = a[2]; p[5] = a[3]; p[8] = a[4]; p[9] = a[5];
    }
}

static void setup_hash(uint8_t sf[192], const uint8_t (*mc)[6], unsigned n, const uint8_t own[6])
{
    memset(sf, 0, 192);
    uint8_t table[64] = { 0 };
    table[255 / 8] |= 1u << (255 % 8);            /* broadcast */
    for (unsigned i = 0; i < n; i++) {
        unsigned h = nt_crc(mc[i], 6) & 0x1FF;
        table[h / 8] |= (uint8_t)(1u << (h % 8));
    }
    for (unsigned w = 0; w < 32; w++) {
        sf[4 * w] = table[2 * w];
        sf[4 * w + 1] = table[2 * w + 1];
    }
    uint8_t *p = sf + 156;
    p[0] = own[0]; p[1] = own[1]; p[4] = own[2]; p[5] = own[3]; p[8] = own[4]; p[9] = own[5];
}

/* Send a setup frame through TX descriptor i (of n) with filter bits. */
static void send_setup(TessMachine *m, unsigned i, unsigned n, const uint8_t sf[192],
                       uint32_t ft)
{
    mem_wr(m, SETUP, sf, 192);
    desc_set(m, TXR + 16 * i, OWN, SET | ft | (i == n - 1 ? ER : 0) | 192, SETUP, 0);
    csr_w(m, 1, 1);
    g_assert_cmphex(mem_r32(m, TXR + 16 * i) & OWN, ==, 0);
}

/* Link up, lists in place, receiver and transmitter running, perfect
 * filter for our address and broadcast. */
static TessMachine *started(unsigned nrx, unsigned ntx)
{
    TessMachine *m = nt_machine();
    nt_link_up(m);
    rx_ring(m, nrx, 1536);
    tx_ring(m, ntx);
    csr_w(m, 6, C6_SR | C6_ST);
    uint8_t sf[192];
    const uint8_t self[1][6] = { { 0x52, 0x54, 0x00, 0xAA, 0xBB, 0x01 } };
    setup_perfect(sf, self, 1);
    send_setup(m, 0, ntx, sf, 0);
    csr_w(m, 5, 0xFFFFFFFF);
    return m;
}

static size_t deliver(TessMachine *m, const uint8_t dst[6], size_t len, uint8_t seed)
{
    uint8_t f[4096];
    nt_frame(f, dst, len, seed);
    return tess_net_port_deliver(nt_backend(m)->port, f, len);
}

/* ---- PCI ------------------------------------------------------------------------ */

static void test_pci(void)
{
    TessMachine *m = nt_machine();
    g_assert_cmphex(nt_cfg_read(m, NIC_DEVFN, 0x00, 4), ==, 0x00141011);
    g_assert_cmphex(nt_cfg_read(m, NIC_DEVFN, 0x08, 4), ==, 0x02000011);
    g_assert_cmphex(nt_cfg_read(m, NIC_DEVFN, 0x3D, 1), ==, 1);          /* INTA# */
    /* BAR sizes: 128 bytes of I/O and of memory */
    nt_cfg_write(m, NIC_DEVFN, 0x10, 0xFFFFFFFF, 4);
    g_assert_cmphex(nt_cfg_read(m, NIC_DEVFN, 0x10, 4) & ~3u, ==, 0xFFFFFF80);
    nt_cfg_write(m, NIC_DEVFN, 0x14, 0xFFFFFFFF, 4);
    g_assert_cmphex(nt_cfg_read(m, NIC_DEVFN, 0x14, 4) & ~0xFu, ==, 0xFFFFFF80);
    nt_enable(m);
    /* the same CSR file through I/O and memory */
    csr_w(m, 7, 0x0001A5A5);
    g_assert_cmphex((uint32_t)tess_mem_read(m, NIC_MMIO + 7 * 8, 4), ==, 0x0001A5A5);
    tess_mem_write(m, NIC_MMIO + 3 * 8, 0x00123456, 4);
    g_assert_cmphex(csr_r(m, 3), ==, 0x00123454);                        /* longword aligned */
    /* decoding off: the ports float */
    nt_cfg_write(m, NIC_DEVFN, 0x04, 0, 2);
    g_assert_cmphex(csr_r(m, 7), ==, 0xFFFFFFFF);
    th_machine_free(m);
}

static void test_reset_values(void)
{
    TessMachine *m = nt_machine();
    g_assert_cmphex(csr_r(m, 0), ==, 0xFE000000);
    uint32_t c5 = csr_r(m, 5);
    g_assert_cmpuint(C5_RS(c5), ==, 0);
    g_assert_cmpuint(C5_TS(c5), ==, 0);
    g_assert_cmphex(c5 & 0x1FFFF, ==, 0);
    g_assert_cmphex(csr_r(m, 6), ==, 0);
    g_assert_cmphex(csr_r(m, 8), ==, 0);
    /* SIA held in reset: no link */
    g_assert_cmphex(csr_r(m, 12) & 6, ==, 6);
    g_assert_false(nt_irq(m));
    th_machine_free(m);
}

/* ---- serial ROM ------------------------------------------------------------------ */

static void test_srom_read(void)
{
    TessMachine *m = nt_machine();
    /* Linux's address-size probe: an 8-bit read of 0xFF finds the dummy 0
     * after six address bits, bit 18 of its result is clear */
    unsigned probe = nt_srom_read(m, 0xFF, 8);
    g_assert_cmphex(probe & 0x40000, ==, 0);
    uint8_t b[128];
    for (unsigned i = 0; i < 64; i++) {
        unsigned w = nt_srom_read(m, i, 6) & 0xFFFF;
        b[2 * i] = (uint8_t)w;
        b[2 * i + 1] = (uint8_t)(w >> 8);
    }
    /* the layout de2104x parses */
    g_assert_cmpmem(b + 20, 6, nt_mac, 6);
    g_assert_cmpint(memcmp(b, b + 16, 8), !=, 0);       /* so it takes byte 20 */
    unsigned leaf = b[27];
    g_assert_cmpuint(leaf, ==, 30);
    g_assert_cmphex(b[leaf] | b[leaf + 1] << 8, ==, 0x0800);     /* TP auto */
    g_assert_cmpuint(b[leaf + 2], ==, 4);
    g_assert_cmpuint(b[leaf + 4] & 0x3F, ==, 0);                 /* 10BASE-T */
    g_assert_cmpuint(b[leaf + 5] & 0x3F, ==, 4);                 /* 10BASE-T FD */
    g_assert_cmpuint(b[leaf + 6] & 0x3F, ==, 1);                 /* BNC */
    g_assert_cmpuint(b[leaf + 7] & 0x3F, ==, 2);                 /* AUI */
    /* the 8-bit reads Linux makes past 63 never harm the part: ERASE
     * without EWEN does nothing */
    for (unsigned i = 64; i < 256; i++)
        nt_srom_read(m, i, 6);
    g_assert_cmphex(nt_srom_read(m, 10, 6) & 0xFFFF, ==, b[20] | b[21] << 8);

    /* sequential read: a second word follows with CS held high */
    nt_srom_bits(m, 0x6 << 6 | 10, 9);
    uint32_t w = 0;
    for (int i = 0; i < 32; i++) {
        csr_w(m, 9, 0x4801 | 2);
        w = w << 1 | ((csr_r(m, 9) >> 3) & 1);
        csr_w(m, 9, 0x4801);
    }
    nt_srom_deselect(m);
    g_assert_cmphex(w, ==, (uint32_t)(b[20] | b[21] << 8) << 16 | (b[22] | b[23] << 8));
    th_machine_free(m);
}

static void test_srom_write(void)
{
    TessMachine *m = nt_machine_net("<net type='th-net'/>", "media='tp-fd'");
    unsigned leaf = (nt_srom_read(m, 13, 6) >> 8) & 0xFF;   /* byte 27: word 13's high byte */
    g_assert_cmpuint(leaf, ==, 30);
    g_assert_cmphex(nt_srom_read(m, 15, 6) & 0xFFFF, ==, 0x0204);      /* media='tp-fd' */

    /* WRITE while disabled: ignored */
    nt_srom_bits(m, 0x5 << 6 | 40, 9);
    nt_srom_bits(m, 0xBEEF, 16);
    nt_srom_deselect(m);
    g_assert_cmphex(nt_srom_read(m, 40, 6) & 0xFFFF, ==, 0);
    /* EWEN, WRITE, EWDS */
    nt_srom_bits(m, 0x4 << 6 | 0x30, 9);
    nt_srom_deselect(m);
    nt_srom_bits(m, 0x5 << 6 | 40, 9);
    nt_srom_bits(m, 0xBEEF, 16);
    nt_srom_deselect(m);
    /* ready/busy: DO high with CS raised again */
    csr_w(m, 9, 0x4801);
    g_assert_cmphex(csr_r(m, 9) & 8, ==, 8);
    nt_srom_deselect(m);
    g_assert_cmphex(nt_srom_read(m, 40, 6) & 0xFFFF, ==, 0xBEEF);
    /* ERASE with writes enabled */
    nt_srom_bits(m, 0x7 << 6 | 40, 9);
    nt_srom_deselect(m);
    g_assert_cmphex(nt_srom_read(m, 40, 6) & 0xFFFF, ==, 0xFFFF);
    nt_srom_bits(m, 0x4 << 6 | 0x00, 9);                  /* EWDS */
    nt_srom_deselect(m);
    nt_srom_bits(m, 0x7 << 6 | 41, 9);
    nt_srom_deselect(m);
    g_assert_cmphex(nt_srom_read(m, 41, 6) & 0xFFFF, ==, 0);
    /* boot ROM reads: none fitted */
    csr_w(m, 10, 0x100);
    csr_w(m, 9, 0x5000);
    g_assert_cmphex(csr_r(m, 9) & 0xFF, ==, 0xFF);
    th_machine_free(m);
}

/* ---- SIA and link ---------------------------------------------------------------- */

static void test_link(void)
{
    TessMachine *m = nt_machine();
    csr_w(m, 7, C5_LNP | C5_LNF | C5_AIS);
    csr_w(m, 14, 0xFFFF);                                 /* ANE: TP auto */
    csr_w(m, 15, 0x0008);
    csr_w(m, 13, 0xEF01);
    /* the link test takes time */
    g_assert_cmphex(csr_r(m, 12) & 6, ==, 6);
    g_assert_false(nt_irq(m));
    th_advance(m, 2000000);
    uint32_t c12 = csr_r(m, 12);
    g_assert_cmphex(c12 & 6, ==, 0);
    g_assert_cmpuint((c12 >> 12) & 7, ==, 5);             /* NWay complete */
    g_assert_cmphex(c12 & (1u << 15), ==, 1u << 15);
    g_assert_cmphex(csr_r(m, 5) & (C5_LNP | C5_AIS), ==, C5_LNP | C5_AIS);
    g_assert_true(nt_irq(m));
    csr_w(m, 5, C5_LNP);
    g_assert_false(nt_irq(m));

    /* cable pulled: link fail at once */
    ThNet *be = nt_backend(m);
    be->link = false;
    tess_net_port_link_changed(be->port);
    g_assert_cmphex(csr_r(m, 5) & C5_LNF, ==, C5_LNF);
    g_assert_cmphex(csr_r(m, 12) & 6, ==, 6);
    g_assert_true(nt_irq(m));
    csr_w(m, 5, C5_LNF);
    /* and back */
    be->link = true;
    tess_net_port_link_changed(be->port);
    th_advance(m, 2000000);
    g_assert_cmphex(csr_r(m, 5) & C5_LNP, ==, C5_LNP);
    g_assert_cmphex(csr_r(m, 12) & 6, ==, 0);

    /* AUI selected: carrier, no link-test interrupts */
    csr_w(m, 5, 0xFFFFFFFF);
    csr_w(m, 13, 0);
    csr_w(m, 13, 0xEF09);
    th_advance(m, 2000000);
    g_assert_cmphex(csr_r(m, 12) & 6, ==, 0);
    g_assert_cmphex(csr_r(m, 5) & (C5_LNP | C5_LNF), ==, 0);
    /* SIA held in reset: no carrier, not a link fail */
    csr_w(m, 13, 0);
    g_assert_cmphex(csr_r(m, 12) & 2, ==, 2);
    g_assert_cmphex(csr_r(m, 5) & C5_LNF, ==, 0);
    th_machine_free(m);
}

static void test_no_backend(void)
{
    /* an empty slot is an unplugged cable */
    TessMachine *m = nt_machine_net("", NULL);
    nt_link_up(m);
    g_assert_cmphex(csr_r(m, 12) & 6, ==, 6);
    tx_ring(m, 2);
    csr_w(m, 6, C6_ST);
    uint8_t f[64];
    nt_frame(f, bcast, 64, 1);
    tx_queue(m, 0, 2, f, 64, FS | LS);
    csr_w(m, 1, 1);
    uint32_t t0 = mem_r32(m, TXR);
    g_assert_cmphex(t0 & OWN, ==, 0);
    g_assert_cmphex(t0 & 0x8C00, ==, 0x8C00);             /* ES, LO, NC */
    th_machine_free(m);
}

/* ---- general-purpose timer -------------------------------------------------------- */

static void test_gp_timer(void)
{
    TessMachine *m = nt_machine();
    csr_w(m, 7, C5_TM | C5_AIS);
    csr_w(m, 11, 10);
    g_assert_cmpuint(csr_r(m, 11), ==, 10);
    th_advance(m, 204800 * 4);
    g_assert_cmpuint(csr_r(m, 11), ==, 6);
    g_assert_false(nt_irq(m));
    th_advance(m, 204800 * 6);
    g_assert_cmpuint(csr_r(m, 11), ==, 0);
    g_assert_cmphex(csr_r(m, 5) & C5_TM, ==, C5_TM);
    g_assert_true(nt_irq(m));
    csr_w(m, 5, C5_TM);
    th_advance(m, 204800 * 20);
    g_assert_cmphex(csr_r(m, 5) & C5_TM, ==, 0);          /* one-shot */
    /* continuous */
    csr_w(m, 11, (1u << 16) | 5);
    th_advance(m, 204800 * 5);
    g_assert_cmphex(csr_r(m, 5) & C5_TM, ==, C5_TM);
    csr_w(m, 5, C5_TM);
    th_advance(m, 204800 * 5);
    g_assert_cmphex(csr_r(m, 5) & C5_TM, ==, C5_TM);
    g_assert_cmphex(csr_r(m, 11) & (1u << 16), ==, 1u << 16);
    csr_w(m, 11, 0);                                      /* stop */
    csr_w(m, 5, C5_TM);
    th_advance(m, 204800 * 20);
    g_assert_cmphex(csr_r(m, 5) & C5_TM, ==, 0);
    th_machine_free(m);
}

/* ---- interrupts ------------------------------------------------------------------- */

static void test_interrupts(void)
{
    TessMachine *m = nt_machine();
    csr_w(m, 11, 1);
    th_advance(m, 300000);
    /* TM is abnormal; with CSR7 clear neither summary is set, no interrupt */
    uint32_t c5 = csr_r(m, 5);
    g_assert_cmphex(c5 & C5_TM, ==, C5_TM);
    g_assert_cmphex(c5 & (C5_AIS | C5_NIS), ==, 0);
    g_assert_false(nt_irq(m));
    /* enabling the bit alone sets the summary but not INTA# */
    csr_w(m, 7, C5_TM);
    g_assert_cmphex(csr_r(m, 5) & C5_AIS, ==, C5_AIS);
    g_assert_false(nt_irq(m));
    csr_w(m, 7, C5_TM | C5_AIS);
    g_assert_true(nt_irq(m));
    /* write one to clear; other bits are not touched */
    csr_w(m, 5, C5_TI);
    g_assert_true(nt_irq(m));
    csr_w(m, 5, C5_TM);
    g_assert_false(nt_irq(m));
    g_assert_cmphex(csr_r(m, 5) & 0x1FFFF, ==, 0);
    /* a normal interrupt: TU from an empty transmit list */
    tx_ring(m, 2);
    csr_w(m, 7, C5_TU | C5_NIS);
    csr_w(m, 6, C6_ST);
    g_assert_cmphex(csr_r(m, 5) & (C5_TU | C5_NIS), ==, C5_TU | C5_NIS);
    g_assert_cmpuint(C5_TS(csr_r(m, 5)), ==, 6);          /* suspended */
    g_assert_true(nt_irq(m));
    /* reaching the PIC through PIIX3's routing: IRQ 11 is slave IR3 */
    csr_w(m, 5, C5_TU);
    g_assert_false(nt_irq(m));
    th_machine_free(m);
}

static void test_software_reset(void)
{
    TessMachine *m = started(4, 4);
    csr_w(m, 7, 0x1FFFF);
    csr_w(m, 11, 3);
    g_assert_cmpuint(C5_RS(csr_r(m, 5)), !=, 0);
    csr_w(m, 0, 1);
    uint32_t c5 = csr_r(m, 5);
    g_assert_cmpuint(C5_RS(c5), ==, 0);
    g_assert_cmpuint(C5_TS(c5), ==, 0);
    g_assert_cmphex(csr_r(m, 6), ==, 0);
    g_assert_cmphex(csr_r(m, 7), ==, 0);
    g_assert_cmphex(csr_r(m, 0), ==, 0xFE000000);
    g_assert_false(nt_irq(m));
    th_advance(m, 204800 * 10);
    g_assert_cmphex(csr_r(m, 5) & C5_TM, ==, 0);          /* timer stopped */
    g_assert_cmphex(csr_r(m, 12) & 6, ==, 6);             /* SIA reset */
    /* the SROM keeps its contents */
    g_assert_cmphex(nt_srom_read(m, 10, 6) & 0xFFFF, ==, 0x5452);
    th_machine_free(m);
}

/* ---- transmit -------------------------------------------------------------------- */

static GBytes *sent(TessMachine *m, unsigned i)
{
    ThNet *be = nt_backend(m);
    g_assert_cmpuint(be->sent->len, >, i);
    return be->sent->pdata[i];
}

static void test_tx_ring(void)
{
    TessMachine *m = started(4, 4);
    ThNet *be = nt_backend(m);
    g_assert_cmpuint(be->sent->len, ==, 0);               /* setup frames stay in the chip */
    csr_w(m, 7, 0x1FFFF);
    uint8_t f[3][200];
    for (unsigned i = 0; i < 3; i++) {
        nt_frame(f[i], other, 100 + i, (uint8_t)i);
        tx_queue(m, 1 + i, 4, f[i], 100 + i, FS | LS | (i == 2 ? IC : 0));
    }
    csr_w(m, 1, 1);
    g_assert_cmpuint(be->sent->len, ==, 3);
    for (unsigned i = 0; i < 3; i++) {
        gsize n;
        const uint8_t *d = g_bytes_get_data(sent(m, i), &n);
        g_assert_cmpmem(d, n, f[i], 100 + i);
        /* OWN back, no error; bit 30 closes the frame (Linux's de_tx
         * frees and counts a frame only with it) */
        g_assert_cmphex(mem_r32(m, TXR + 16 * (1 + i)), ==, TDES0_LAST_BIT);
    }
    uint32_t c5 = csr_r(m, 5);
    g_assert_cmphex(c5 & (C5_TI | C5_TU), ==, C5_TI | C5_TU);
    g_assert_cmpuint(C5_TS(c5), ==, 6);
    g_assert_true(nt_irq(m));
    /* wrap: TER on descriptor 3 leads back to 0 */
    csr_w(m, 5, 0xFFFFFFFF);
    nt_frame(f[0], other, 60, 9);
    tx_queue(m, 0, 4, f[0], 60, FS | LS);
    csr_w(m, 1, 1);
    g_assert_cmpuint(be->sent->len, ==, 4);
    /* short frames are padded to 60 bytes; DPD sends them as they are */
    nt_frame(f[0], other, 20, 3);
    tx_queue(m, 1, 4, f[0], 20, FS | LS);
    tx_queue(m, 2, 4, f[0], 20, FS | LS | DPD);
    csr_w(m, 1, 1);
    g_assert_cmpuint(g_bytes_get_size(sent(m, 4)), ==, 60);
    g_assert_cmpuint(g_bytes_get_size(sent(m, 5)), ==, 20);
    const uint8_t *p = g_bytes_get_data(sent(m, 4), NULL);
    for (unsigned i = 20; i < 60; i++)
        g_assert_cmpuint(p[i], ==, 0);
    /* AC: the guest supplies the CRC, which the port never sees */
    nt_frame(f[0], other, 104, 4);
    tx_queue(m, 3, 4, f[0], 104, FS | LS | AC);
    csr_w(m, 1, 1);
    g_assert_cmpuint(g_bytes_get_size(sent(m, 6)), ==, 100);
    /* the poll demand register reads all ones */
    g_assert_cmphex(csr_r(m, 1), ==, 0xFFFFFFFF);
    th_machine_free(m);
}

static void test_tx_buffers_and_chain(void)
{
    TessMachine *m = started(4, 4);
    ThNet *be = nt_backend(m);
    uint8_t f[1500];
    nt_frame(f, other, 1500, 5);
    /* ring mode, both buffers of two descriptors: 100+200 | 300+900 */
    mem_wr(m, TXB, f, 100);
    mem_wr(m, TXB + 0x1000, f + 100, 200);
    mem_wr(m, TXB + 0x2000, f + 300, 300);
    mem_wr(m, TXB + 0x3000, f + 600, 900);
    desc_set(m, TXR + 16, 0, FS | 200u << 11 | 100, TXB, TXB + 0x1000);
    desc_set(m, TXR + 32, 0, LS | 900u << 11 | 300, TXB + 0x2000, TXB + 0x3000);
    /* OWN on the tail first: the chip must not send half a frame */
    mem_w32(m, TXR + 32, OWN);
    csr_w(m, 1, 1);
    g_assert_cmpuint(be->sent->len, ==, 0);
    mem_w32(m, TXR + 16, OWN);
    csr_w(m, 1, 1);
    g_assert_cmpuint(be->sent->len, ==, 1);
    gsize n;
    const uint8_t *d = g_bytes_get_data(sent(m, 0), &n);
    g_assert_cmpmem(d, n, f, 1500);
    g_assert_cmphex(mem_r32(m, TXR + 16), ==, 0);                 /* inside the frame */
    g_assert_cmphex(mem_r32(m, TXR + 32), ==, TDES0_LAST_BIT);    /* closes it */

    /* chained mode: descriptors anywhere, buffer 2 is the next pointer */
    const uint32_t c0 = 0x70000, c1 = 0x70100, c2 = 0x70030;
    desc_set(m, c0, OWN, CH | FS | 700, TXB, c1);
    desc_set(m, c1, OWN, CH | 800, TXB + 0x1000, c2);
    desc_set(m, c2, OWN, CH | LS | IC, 0, c0);             /* zero-length tail */
    mem_wr(m, TXB, f, 700);
    mem_wr(m, TXB + 0x1000, f + 700, 800);
    csr_w(m, 6, 0);
    csr_w(m, 4, c0);
    csr_w(m, 6, C6_ST);
    g_assert_cmpuint(be->sent->len, ==, 2);
    d = g_bytes_get_data(sent(m, 1), &n);
    g_assert_cmpmem(d, n, f, 1500);
    g_assert_cmphex(csr_r(m, 5) & C5_TI, ==, C5_TI);
    /* the chain loops back to c0, which we own again: suspended there */
    g_assert_cmpuint(C5_TS(csr_r(m, 5)), ==, 6);
    th_machine_free(m);
}

static void test_tx_busy(void)
{
    TessMachine *m = started(4, 4);
    ThNet *be = nt_backend(m);
    be->busy = 1;
    uint8_t f[100];
    nt_frame(f, other, 100, 1);
    tx_queue(m, 1, 4, f, 100, FS | LS);
    tx_queue(m, 2, 4, f, 100, FS | LS);
    csr_w(m, 1, 1);
    /* refused: still owned by the chip, nothing lost */
    g_assert_cmpuint(be->busy_calls, ==, 1);
    g_assert_cmpuint(be->sent->len, ==, 0);
    g_assert_cmphex(mem_r32(m, TXR + 16) & OWN, ==, OWN);
    /* further poll demands wait for tx_ready */
    csr_w(m, 1, 1);
    g_assert_cmpuint(be->busy_calls, ==, 1);
    tess_net_port_tx_ready(be->port);
    g_assert_cmpuint(be->sent->len, ==, 2);
    g_assert_cmphex(mem_r32(m, TXR + 16) & OWN, ==, 0);
    g_assert_cmphex(mem_r32(m, TXR + 32) & OWN, ==, 0);

    /* a backend swapped out while it held us off never says tx_ready:
     * the frame goes when the new link passes */
    be->busy = 1;
    tx_queue(m, 3, 4, f, 100, FS | LS);
    csr_w(m, 1, 1);
    g_assert_cmpuint(be->sent->len, ==, 2);
    be->link = false;
    tess_net_port_link_changed(be->port);
    be->link = true;
    tess_net_port_link_changed(be->port);
    g_assert_cmpuint(be->sent->len, ==, 2);
    th_advance(m, 2000000);
    g_assert_cmpuint(be->sent->len, ==, 3);
    g_assert_cmphex(mem_r32(m, TXR + 48), ==, TDES0_LAST_BIT);
    th_machine_free(m);
}

static void test_tx_linux_setup(void)
{
    /* de2104x's pattern: a dummy descriptor (no FS/LS, no buffer) before
     * the setup frame when the ring is not at entry 0 */
    TessMachine *m = started(4, 4);
    ThNet *be = nt_backend(m);
    uint8_t sf[192];
    const uint8_t addrs[2][6] = { { 0x01, 0x00, 0x5E, 0x00, 0x00, 0x01 },
                                  { 0x52, 0x54, 0x00, 0xAA, 0xBB, 0x01 } };
    setup_perfect(sf, addrs, 2);
    mem_wr(m, SETUP, sf, 192);
    desc_set(m, TXR + 32, 0, SET | 192, SETUP, 0);
    desc_set(m, TXR + 16, 0, 0, 0, 0);
    mem_w32(m, TXR + 32, OWN);
    mem_w32(m, TXR + 16, OWN);
    csr_w(m, 1, 1);
    g_assert_cmphex(mem_r32(m, TXR + 16) & OWN, ==, 0);
    g_assert_cmphex(mem_r32(m, TXR + 32) & OWN, ==, 0);
    g_assert_cmpuint(be->sent->len, ==, 0);
    /* the new table is in force */
    g_assert_true(deliver(m, addrs[0], 80, 1));
    g_assert_cmphex(mem_r32(m, RXR) & OWN, ==, 0);
    th_machine_free(m);
}

static void test_tx_jabber(void)
{
    /* a chained list that loops on itself without LS */
    TessMachine *m = started(4, 4);
    ThNet *be = nt_backend(m);
    desc_set(m, 0x70000, OWN, CH | FS | 1000, TXB, 0x70010);
    desc_set(m, 0x70010, OWN, CH | 1000, TXB, 0x70010);
    csr_w(m, 6, 0);
    csr_w(m, 4, 0x70000);
    csr_w(m, 7, 0x1FFFF);
    csr_w(m, 6, C6_ST);
    g_assert_cmpuint(be->sent->len, ==, 0);
    uint32_t c5 = csr_r(m, 5);
    g_assert_cmphex(c5 & C5_TJT, ==, C5_TJT);
    g_assert_cmpuint(C5_TS(c5), ==, 0);
    g_assert_cmphex(mem_r32(m, 0x70010) & 0xC000, ==, 0xC000);     /* ES, TO */
    g_assert_true(nt_irq(m));

    /* a zero-sized self-loop: bounded too */
    desc_set(m, 0x70020, OWN, CH | FS, 0, 0x70020);
    csr_w(m, 6, 0);
    csr_w(m, 4, 0x70020);
    csr_w(m, 6, C6_ST);
    g_assert_cmpuint(C5_TS(csr_r(m, 5)), ==, 0);
    th_machine_free(m);
}

static void test_tx_many(void)
{
    /* more descriptors than one pass handles: the rest follow in time */
    TessMachine *m = started(4, 4);
    ThNet *be = nt_backend(m);
    const unsigned n = 600;
    uint8_t f[64];
    nt_frame(f, other, 64, 2);
    mem_wr(m, TXB, f, 64);
    for (unsigned i = 0; i < n; i++)
        desc_set(m, 0x100000 + 16 * i, OWN, FS | LS | (i == n - 1 ? ER : 0) | 64, TXB, 0);
    csr_w(m, 6, 0);
    csr_w(m, 4, 0x100000);
    csr_w(m, 6, C6_ST);
    g_assert_cmpuint(be->sent->len, <, n);
    for (int i = 0; i < 10 && be->sent->len < n; i++)
        th_advance(m, 10000);
    g_assert_cmpuint(be->sent->len, ==, n);
    th_machine_free(m);
}

/* ---- receive ---------------------------------------------------------------------- */

static void check_rx(TessMachine *m, unsigned i, const uint8_t *f, size_t len)
{
    uint32_t r0 = mem_r32(m, RXR + 16 * i);
    size_t wire = MAX(len, (size_t)60);
    g_assert_cmphex(r0 & OWN, ==, 0);
    g_assert_cmphex(r0 & 0x38008300, ==, 0x0300);        /* what Linux checks */
    g_assert_cmpuint((r0 >> 16) & 0x3FFF, ==, wire + 4);
    uint8_t buf[2048];
    mem_rd(m, RXB + 0x800 * i, buf, wire + 4);
    g_assert_cmpmem(buf, len, f, len);
    for (size_t k = len; k < wire; k++)
        g_assert_cmpuint(buf[k], ==, 0);
    uint32_t fcs = ~nt_crc(buf, wire);
    g_assert_cmphex(buf[wire] | buf[wire + 1] << 8 | buf[wire + 2] << 16 |
                    (uint32_t)buf[wire + 3] << 24, ==, fcs);
}

/* The FCS after frames of every length class the CRC's paths take
 * (dec_crc32_le: 16-byte folds from 64 bytes on where the host has
 * PCLMULQDQ, 8-byte slices, single bytes), against the test's bitwise
 * CRC */
static void test_rx_fcs_lengths(void)
{
    static const size_t lens[] = { 60, 63, 64, 65, 79, 80, 81, 95, 127, 128, 129, 143, 144,
                                   200, 255, 256, 257, 1000, 1499, 1512, 1513, 1514 };
    TessMachine *m = started(4, 4);
    uint8_t f[1514];
    for (unsigned n = 0; n < G_N_ELEMENTS(lens); n++) {
        unsigned i = n % 4;
        nt_frame(f, nt_mac, lens[n], (uint8_t)(n + 1));
        g_assert_true(deliver(m, nt_mac, lens[n], (uint8_t)(n + 1)));
        check_rx(m, i, f, lens[n]);
        mem_w32(m, RXR + 16 * i, OWN);
    }
    th_machine_free(m);
}

static void test_rx_ring(void)
{
    TessMachine *m = started(4, 4);
    csr_w(m, 7, 0x1FFFF);
    uint8_t f[1514];
    nt_frame(f, nt_mac, 1514, 7);
    g_assert_true(deliver(m, nt_mac, 1514, 7));
    check_rx(m, 0, f, 1514);
    g_assert_cmphex(csr_r(m, 5) & C5_RI, ==, C5_RI);
    g_assert_true(nt_irq(m));
    /* short frame padded, broadcast flagged as multicast */
    nt_frame(f, bcast, 42, 8);
    g_assert_true(deliver(m, bcast, 42, 8));
    check_rx(m, 1, f, 42);
    g_assert_cmphex(mem_r32(m, RXR + 16) & (1u << 10), ==, 1u << 10);
    g_assert_cmphex(mem_r32(m, RXR) & (1u << 10), ==, 0);
    /* another station's frame is filtered out */
    g_assert_true(deliver(m, other, 100, 1));
    g_assert_cmphex(mem_r32(m, RXR + 32) & OWN, ==, OWN);
    /* and the ring wraps */
    nt_frame(f, nt_mac, 70, 2);
    deliver(m, nt_mac, 70, 2);
    deliver(m, nt_mac, 71, 3);
    mem_w32(m, RXR, OWN);
    deliver(m, nt_mac, 72, 4);
    check_rx(m, 2, f, 70);
    nt_frame(f, nt_mac, 72, 4);
    check_rx(m, 0, f, 72);
    th_machine_free(m);
}

static void test_rx_unavailable(void)
{
    TessMachine *m = started(2, 4);
    ThNet *be = nt_backend(m);
    csr_w(m, 7, 0x1FFFF);
    deliver(m, nt_mac, 100, 1);
    deliver(m, nt_mac, 101, 2);
    g_assert_cmpuint(C5_RS(csr_r(m, 5)), ==, 3);
    /* third frame: no descriptor. RU, suspended, one missed frame; the
     * port keeps it */
    deliver(m, nt_mac, 102, 3);
    deliver(m, nt_mac, 103, 4);
    uint32_t c5 = csr_r(m, 5);
    g_assert_cmphex(c5 & C5_RU, ==, C5_RU);
    g_assert_cmpuint(C5_RS(c5), ==, 4);
    g_assert_cmphex(csr_r(m, 8), ==, 1);
    g_assert_cmphex(csr_r(m, 8), ==, 0);                  /* cleared by reading */
    /* the guest gives both descriptors back and demands a poll */
    mem_w32(m, RXR, OWN);
    mem_w32(m, RXR + 16, OWN);
    csr_w(m, 2, 1);
    uint8_t f[200];
    nt_frame(f, nt_mac, 102, 3);
    check_rx(m, 0, f, 102);
    nt_frame(f, nt_mac, 103, 4);
    check_rx(m, 1, f, 103);
    g_assert_cmpuint(C5_RS(csr_r(m, 5)), ==, 3);
    (void)be;
    /* receiver stopped: frames pass by, RPS */
    csr_w(m, 6, C6_ST);
    g_assert_cmphex(csr_r(m, 5) & C5_RPS, ==, C5_RPS);
    g_assert_cmpuint(C5_RS(csr_r(m, 5)), ==, 0);
    mem_w32(m, RXR, OWN);
    deliver(m, nt_mac, 104, 5);
    g_assert_cmphex(mem_r32(m, RXR) & OWN, ==, OWN);
    th_machine_free(m);
}

static void test_rx_chained_split(void)
{
    TessMachine *m = started(4, 4);
    /* chained descriptors with 64-byte buffers: a frame spans several */
    const uint32_t d[4] = { 0x70000, 0x70200, 0x70040, 0x70400 };
    for (unsigned i = 0; i < 4; i++)
        desc_set(m, d[i], OWN, CH | 64, RXB + 0x100 * i, d[(i + 1) % 4]);
    csr_w(m, 6, C6_ST);
    csr_w(m, 3, d[0]);
    csr_w(m, 6, C6_ST | C6_SR);
    uint8_t f[200];
    nt_frame(f, nt_mac, 180, 11);
    deliver(m, nt_mac, 180, 11);
    uint32_t s0 = mem_r32(m, d[0]), s1 = mem_r32(m, d[1]), s2 = mem_r32(m, d[2]);
    g_assert_cmphex(s0 & (OWN | 0x300), ==, 0x200);        /* FS */
    g_assert_cmphex(s1 & (OWN | 0x300), ==, 0);
    g_assert_cmphex(s2 & (OWN | 0x300), ==, 0x100);        /* LS */
    g_assert_cmpuint((s2 >> 16) & 0x3FFF, ==, 184);
    g_assert_cmphex(mem_r32(m, d[3]) & OWN, ==, OWN);
    uint8_t buf[192];
    for (unsigned i = 0; i < 3; i++)
        mem_rd(m, RXB + 0x100 * i, buf + 64 * i, 64);
    g_assert_cmpmem(buf, 180, f, 180);

    /* ring mode with both buffers */
    for (unsigned i = 0; i < 2; i++)
        desc_set(m, RXR + 16 * i, OWN, (i ? ER : 0) | 100u << 11 | 50,
                 RXB + 0x800 * i, RXB + 0x800 * i + 0x400);
    csr_w(m, 6, C6_ST);
    csr_w(m, 3, RXR);
    csr_w(m, 6, C6_ST | C6_SR);
    deliver(m, nt_mac, 180, 11);
    g_assert_cmphex(mem_r32(m, RXR) & (OWN | 0x300), ==, 0x200);
    g_assert_cmphex(mem_r32(m, RXR + 16) & (OWN | 0x300), ==, 0x100);
    mem_rd(m, RXB, buf, 50);
    mem_rd(m, RXB + 0x400, buf + 50, 100);
    mem_rd(m, RXB + 0x800, buf + 150, 30);
    g_assert_cmpmem(buf, 180, f, 180);
    th_machine_free(m);
}

static void test_rx_truncated(void)
{
    /* a ring whose buffers cannot hold the frame: the chip fills what it
     * has, closes the last descriptor with DE, and nothing hangs */
    TessMachine *m = started(4, 4);
    desc_set(m, 0x70000, OWN, CH | 32, RXB, 0x70010);
    desc_set(m, 0x70010, OWN, CH | 32, RXB + 0x100, 0x70000);
    csr_w(m, 6, C6_ST);
    csr_w(m, 3, 0x70000);
    csr_w(m, 6, C6_ST | C6_SR);
    csr_w(m, 8, 0);
    g_assert_true(deliver(m, nt_mac, 500, 1));
    uint32_t s1 = mem_r32(m, 0x70010);
    g_assert_cmphex(s1 & (OWN | 0x4100 | 0x8000), ==, 0xC100);      /* ES, DE, LS */
    g_assert_cmpuint((s1 >> 16) & 0x3FFF, ==, 64);
    g_assert_cmphex(csr_r(m, 5) & C5_RU, ==, C5_RU);
    g_assert_cmpuint(csr_r(m, 8), ==, 1);

    /* zero-sized buffers everywhere, looping */
    desc_set(m, 0x70020, OWN, CH, 0, 0x70020);
    csr_w(m, 6, C6_ST);
    csr_w(m, 3, 0x70020);
    csr_w(m, 6, C6_ST | C6_SR);
    g_assert_true(deliver(m, nt_mac, 500, 1));
    g_assert_cmphex(mem_r32(m, 0x70020) & OWN, ==, 0);
    th_machine_free(m);
}

static void test_rx_long(void)
{
    TessMachine *m = started(4, 4);
    /* longer than 1518 on the wire: TL, still received (over two
     * 1536-byte buffers; the status is in the last descriptor) */
    g_assert_true(deliver(m, nt_mac, 1600, 1));
    g_assert_cmphex(mem_r32(m, RXR) & (OWN | 0x380), ==, 0x200);
    uint32_t r1 = mem_r32(m, RXR + 16);
    g_assert_cmphex(r1 & (OWN | 0x380), ==, 0x180);
    g_assert_cmpuint((r1 >> 16) & 0x3FFF, ==, 1604);
    /* beyond the receive watchdog: cut at 2560 bytes, RW and RWT */
    rx_ring(m, 4, 1536);
    g_assert_true(deliver(m, nt_mac, 3000, 1));
    uint32_t w1 = mem_r32(m, RXR + 16);
    g_assert_cmphex(w1 & (OWN | 0x8110), ==, 0x8110);      /* ES, LS, RW */
    g_assert_cmpuint((w1 >> 16) & 0x3FFF, ==, 2560);
    g_assert_cmphex(csr_r(m, 5) & (1u << 9), ==, 1u << 9);
    /* with the watchdog disabled (CSR15 RWD) it arrives whole */
    csr_w(m, 15, 0x0008 | 0x10);
    rx_ring(m, 4, 1536);
    g_assert_true(deliver(m, nt_mac, 3000, 1));
    uint32_t w2 = mem_r32(m, RXR + 16);
    g_assert_cmphex(w2 & (OWN | 0x8110), ==, 0x100);
    g_assert_cmpuint((w2 >> 16) & 0x3FFF, ==, 3004);
    th_machine_free(m);
}

/* ---- filters ----------------------------------------------------------------------- */

/* Deliver a frame to `dst` and say whether it landed in descriptor 0
 * (which is then handed back). */
static bool accepted(TessMachine *m, const uint8_t dst[6])
{
    uint32_t c6 = csr_r(m, 6) & (C6_PR | C6_PM);
    mem_w32(m, RXR, OWN);
    csr_w(m, 6, C6_ST);
    csr_w(m, 3, RXR);
    csr_w(m, 6, c6 | C6_ST | C6_SR);
    deliver(m, dst, 64, 0);
    return !(mem_r32(m, RXR) & OWN);
}

static void test_filters(void)
{
    TessMachine *m = started(1, 4);
    const uint8_t mc1[6] = { 0x01, 0x00, 0x5E, 0x00, 0x00, 0x01 };
    const uint8_t mc2[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };
    uint8_t mc3[6] = { 0x01, 0x00, 0x5E, 0x7F, 0x00, 0x09 };
    uint8_t sf[192];

    /* perfect: our address and broadcast only */
    g_assert_true(accepted(m, nt_mac));
    g_assert_true(accepted(m, bcast));
    g_assert_false(accepted(m, other));
    g_assert_false(accepted(m, mc1));
    g_assert_cmphex(csr_r(m, 6) & (C6_HP | C6_HO | C6_IF), ==, 0);

    /* perfect, 16 addresses */
    uint8_t addrs[16][6];
    for (unsigned i = 0; i < 16; i++) {
        memcpy(addrs[i], other, 6);
        addrs[i][5] = (uint8_t)i;
    }
    setup_perfect(sf, (const uint8_t (*)[6])addrs, 16);
    send_setup(m, 1, 4, sf, 0);
    for (unsigned i = 0; i < 16; i++)
        g_assert_true(accepted(m, addrs[i]));
    g_assert_false(accepted(m, nt_mac));
    g_assert_false(accepted(m, bcast));

    /* hash: multicast by the table, unicast by entry 13 */
    const uint8_t mcs[2][6] = { { 0x01, 0x00, 0x5E, 0x00, 0x00, 0x01 },
                                { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 } };
    setup_hash(sf, mcs, 2, nt_mac);
    send_setup(m, 2, 4, sf, FT0);
    g_assert_cmphex(csr_r(m, 6) & (C6_HP | C6_HO | C6_IF), ==, C6_HP);
    g_assert_true(accepted(m, mc1));
    g_assert_true(accepted(m, mc2));
    g_assert_true(accepted(m, bcast));
    g_assert_true(accepted(m, nt_mac));
    g_assert_false(accepted(m, other));
    /* a multicast address whose hash bit is clear */
    unsigned h1 = nt_crc(mc1, 6) & 0x1FF, h2 = nt_crc(mc2, 6) & 0x1FF;
    for (mc3[5] = 0;; mc3[5]++) {
        unsigned h = nt_crc(mc3, 6) & 0x1FF;
        if (h != h1 && h != h2 && h != 255)
            break;
    }
    g_assert_false(accepted(m, mc3));

    /* hash only: unicast by the table too */
    const uint8_t self_mc[2][6] = { { 0x52, 0x54, 0x00, 0xAA, 0xBB, 0x01 },
                                    { 0x01, 0x00, 0x5E, 0x00, 0x00, 0x01 } };
    setup_hash(sf, self_mc, 2, other);
    send_setup(m, 3, 4, sf, FT1 | FT0);
    g_assert_cmphex(csr_r(m, 6) & (C6_HP | C6_HO | C6_IF), ==, C6_HP | C6_HO);
    g_assert_true(accepted(m, nt_mac));
    g_assert_true(accepted(m, mc1));
    g_assert_false(accepted(m, other) && (nt_crc(other, 6) & 0x1FF) != (nt_crc(nt_mac, 6) & 0x1FF));
    g_assert_false(accepted(m, mc3));

    /* inverse: everything except the table */
    const uint8_t inv[1][6] = { { 0x52, 0x54, 0x00, 0x99, 0x99, 0x99 } };
    setup_perfect(sf, inv, 1);
    send_setup(m, 0, 4, sf, FT1);
    g_assert_cmphex(csr_r(m, 6) & (C6_HP | C6_HO | C6_IF), ==, C6_IF);
    g_assert_false(accepted(m, other));
    g_assert_false(accepted(m, bcast));                    /* broadcast fills the table */
    g_assert_true(accepted(m, nt_mac));
    g_assert_true(accepted(m, mc1));

    /* back to perfect for our address; then PM and PR */
    const uint8_t self[1][6] = { { 0x52, 0x54, 0x00, 0xAA, 0xBB, 0x01 } };
    setup_perfect(sf, self, 1);
    send_setup(m, 1, 4, sf, 0);
    g_assert_false(accepted(m, mc1));
    csr_w(m, 6, C6_ST | C6_SR | C6_PM);
    g_assert_true(accepted(m, mc1));
    g_assert_true(accepted(m, mc3));
    g_assert_false(accepted(m, other));
    csr_w(m, 6, C6_ST | C6_SR | C6_PR);
    g_assert_true(accepted(m, other));
    g_assert_true(accepted(m, mc1));
    /* HP/HO/IF are read-only */
    csr_w(m, 6, C6_ST | C6_SR | C6_HP | C6_HO | C6_IF);
    g_assert_cmphex(csr_r(m, 6) & (C6_HP | C6_HO | C6_IF), ==, 0);
    th_machine_free(m);
}

/* ---- loopback, byte order, bus errors ------------------------------------------------ */

static void test_loopback(void)
{
    TessMachine *m = started(4, 4);
    ThNet *be = nt_backend(m);
    csr_w(m, 6, C6_SR | C6_ST | 1u << 10);                /* internal loopback */
    uint8_t f[100];
    nt_frame(f, nt_mac, 100, 6);
    tx_queue(m, 1, 4, f, 100, FS | LS);
    csr_w(m, 1, 1);
    g_assert_cmpuint(be->sent->len, ==, 0);
    check_rx(m, 0, f, 100);
    /* frames from the network do not reach a looped-back receiver */
    deliver(m, nt_mac, 100, 1);
    g_assert_cmphex(mem_r32(m, RXR + 16) & OWN, ==, OWN);
    th_machine_free(m);
}

static uint32_t bswap(uint32_t v)
{
    return v >> 24 | (v >> 8 & 0xFF00) | (v << 8 & 0xFF0000) | v << 24;
}

static void test_big_endian(void)
{
    TessMachine *m = started(4, 4);
    ThNet *be = nt_backend(m);
    csr_w(m, 0, (1u << 20) | (1u << 7));                  /* DBO, BLE */
    /* descriptors big-endian, data in big-endian longwords */
    uint8_t f[64], fbe[64];
    nt_frame(f, other, 64, 3);
    for (unsigned i = 0; i < 64; i += 4)
        for (unsigned k = 0; k < 4; k++)
            fbe[i + k] = f[i + 3 - k];
    mem_wr(m, TXB + 0x800, fbe, 64);
    desc_set(m, TXR + 16, 0, bswap(FS | LS | 64), bswap(TXB + 0x800), 0);
    mem_w32(m, TXR + 16, bswap(OWN));
    csr_w(m, 1, 1);
    g_assert_cmpuint(be->sent->len, ==, 1);
    gsize n;
    const uint8_t *d = g_bytes_get_data(sent(m, 0), &n);
    g_assert_cmpmem(d, n, f, 64);
    g_assert_cmphex(mem_r32(m, TXR + 16), ==, bswap(TDES0_LAST_BIT));
    /* receive: the status word is big-endian */
    desc_set(m, RXR, bswap(OWN), bswap(1536), bswap(RXB), 0);
    deliver(m, nt_mac, 64, 5);
    uint32_t r0 = bswap(mem_r32(m, RXR));
    g_assert_cmphex(r0 & (OWN | 0x300), ==, 0x300);
    uint8_t buf[4];
    mem_rd(m, RXB, buf, 4);
    g_assert_cmpmem(buf, 4, ((uint8_t[]){ nt_mac[3], nt_mac[2], nt_mac[1], nt_mac[0] }), 4);
    th_machine_free(m);
}

static void test_bus_error(void)
{
    TessMachine *m = started(4, 4);
    csr_w(m, 7, 0x1FFFF);
    csr_w(m, 6, 0);
    csr_w(m, 4, 0xF0000000);                              /* no RAM there */
    csr_w(m, 6, C6_ST);
    uint32_t c5 = csr_r(m, 5);
    g_assert_cmphex(c5 & C5_SE, ==, C5_SE);
    g_assert_cmpuint((c5 >> 23) & 7, ==, 1);              /* master abort */
    g_assert_cmpuint(C5_TS(c5), ==, 0);
    g_assert_cmphex(nt_cfg_read(m, NIC_DEVFN, 0x06, 2) & 0x2000, ==, 0x2000);
    g_assert_true(nt_irq(m));
    /* nothing moves until a software reset */
    csr_w(m, 1, 1);
    g_assert_cmpuint(C5_TS(csr_r(m, 5)), ==, 0);
    csr_w(m, 0, 1);
    g_assert_cmphex(csr_r(m, 5) & C5_SE, ==, 0);
    /* a receive buffer in ROM-less space */
    nt_link_up(m);
    desc_set(m, RXR, OWN, ER | 1536, 0xF0000000, 0);
    csr_w(m, 3, RXR);
    csr_w(m, 6, C6_PR | C6_SR);
    g_assert_true(deliver(m, nt_mac, 64, 1));
    g_assert_cmphex(csr_r(m, 5) & C5_SE, ==, C5_SE);
    g_assert_cmpuint(C5_RS(csr_r(m, 5)), ==, 0);
    /* bus mastering off: nothing is fetched */
    csr_w(m, 0, 1);
    nt_link_up(m);
    nt_cfg_write(m, NIC_DEVFN, 0x04, 0x0003, 2);
    tx_ring(m, 2);
    csr_w(m, 6, C6_ST);
    g_assert_cmphex(csr_r(m, 5) & (C5_SE | C5_TU), ==, 0);
    th_machine_free(m);
}

static void test_tap(void)
{
    /* CSR0 TAP: the chip polls a suspended list on its own */
    TessMachine *m = started(4, 4);
    ThNet *be = nt_backend(m);
    csr_w(m, 0, 1u << 17);                                /* 200 us */
    csr_w(m, 1, 1);
    uint8_t f[64];
    nt_frame(f, other, 64, 1);
    tx_queue(m, 1, 4, f, 64, FS | LS);
    g_assert_cmpuint(be->sent->len, ==, 0);
    csr_w(m, 5, 0xFFFFFFFF);
    th_advance(m, 250000);
    g_assert_cmpuint(be->sent->len, ==, 1);
    /* TU once the list is empty again, and not at every automatic poll */
    g_assert_cmphex(csr_r(m, 5) & C5_TU, ==, C5_TU);
    csr_w(m, 5, C5_TU);
    th_advance(m, 2000000);
    g_assert_cmphex(csr_r(m, 5) & C5_TU, ==, 0);
    g_assert_cmpuint(C5_TS(csr_r(m, 5)), ==, 6);
    th_machine_free(m);
}

static void test_skip_length(void)
{
    /* CSR0 DSL: ring descriptors 16 + 4 * DSL bytes apart */
    TessMachine *m = started(4, 4);
    ThNet *be = nt_backend(m);
    csr_w(m, 6, 0);
    csr_w(m, 0, 3u << 2);
    uint8_t f[64];
    nt_frame(f, other, 64, 1);
    mem_wr(m, TXB, f, 64);
    desc_set(m, 0x70000, OWN, FS | LS | 64, TXB, 0);
    desc_set(m, 0x70010, OWN, FS | LS | 64, TXB, 0);          /* skipped over */
    desc_set(m, 0x7001C, OWN, FS | LS | ER | 64, TXB, 0);
    csr_w(m, 4, 0x70000);
    csr_w(m, 6, C6_ST);
    g_assert_cmpuint(be->sent->len, ==, 2);
    g_assert_cmphex(mem_r32(m, 0x70010), ==, OWN);
    g_assert_cmphex(mem_r32(m, 0x7001C), ==, TDES0_LAST_BIT);
    th_machine_free(m);
}

static void test_station_address(void)
{
    /* the port learns the station address the guest filters for */
    TessMachine *m = started(4, 4);
    ThNet *be = nt_backend(m);
    g_assert_cmpmem(tess_net_port_mac(be->port), 6, nt_mac, 6);
    uint8_t sf[192];
    const uint8_t mine[2][6] = { { 0x01, 0x00, 0x5E, 0x00, 0x00, 0x01 },
                                 { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 } };
    setup_perfect(sf, mine, 2);
    send_setup(m, 1, 4, sf, 0);
    g_assert_cmpmem(tess_net_port_mac(be->port), 6, mine[1], 6);
    th_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/dec21041/pci", test_pci);
    g_test_add_func("/dec21041/reset-values", test_reset_values);
    g_test_add_func("/dec21041/srom-read", test_srom_read);
    g_test_add_func("/dec21041/srom-write", test_srom_write);
    g_test_add_func("/dec21041/link", test_link);
    g_test_add_func("/dec21041/no-backend", test_no_backend);
    g_test_add_func("/dec21041/gp-timer", test_gp_timer);
    g_test_add_func("/dec21041/interrupts", test_interrupts);
    g_test_add_func("/dec21041/software-reset", test_software_reset);
    g_test_add_func("/dec21041/tx-ring", test_tx_ring);
    g_test_add_func("/dec21041/tx-buffers-chain", test_tx_buffers_and_chain);
    g_test_add_func("/dec21041/tx-busy", test_tx_busy);
    g_test_add_func("/dec21041/tx-linux-setup", test_tx_linux_setup);
    g_test_add_func("/dec21041/tx-jabber", test_tx_jabber);
    g_test_add_func("/dec21041/tx-many", test_tx_many);
    g_test_add_func("/dec21041/tap", test_tap);
    g_test_add_func("/dec21041/rx-ring", test_rx_ring);
    g_test_add_func("/dec21041/rx-fcs-lengths", test_rx_fcs_lengths);
    g_test_add_func("/dec21041/rx-unavailable", test_rx_unavailable);
    g_test_add_func("/dec21041/rx-chained-split", test_rx_chained_split);
    g_test_add_func("/dec21041/rx-truncated", test_rx_truncated);
    g_test_add_func("/dec21041/rx-long", test_rx_long);
    g_test_add_func("/dec21041/filters", test_filters);
    g_test_add_func("/dec21041/loopback", test_loopback);
    g_test_add_func("/dec21041/big-endian", test_big_endian);
    g_test_add_func("/dec21041/bus-error", test_bus_error);
    g_test_add_func("/dec21041/skip-length", test_skip_length);
    g_test_add_func("/dec21041/station-address", test_station_address);
    return g_test_run();
}
