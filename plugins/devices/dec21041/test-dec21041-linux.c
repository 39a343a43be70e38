/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The register conversation Linux's de2104x driver has with a 21041, step
 * by step as the driver's source describes it (probe, open, transmit,
 * interrupt, receive, media timer, close), with the checks the driver
 * makes at each step: the chip must never give it a reason to fail. The
 * end-to-end test with the real driver in a Linux guest comes with the
 * Linux guest infrastructure; this one pins the protocol down meanwhile.
 */
#include "nic-test.h"

/* CSR offsets and bits under the driver's names */
enum {
    BusMode = 0, TxPoll = 1, RxPoll = 2, RxRingAddr = 3, TxRingAddr = 4, MacStatus = 5,
    MacMode = 6, IntrMask = 7, RxMissed = 8, ROMCmd = 9, SIAStatus = 12,
    CSR13 = 13, CSR14 = 14, CSR15 = 15,
};
#define CmdReset        (1u << 0)
#define de_bus_mode     (0x00008000u | 0x00000400u)
#define DescOwn         (1u << 31)
#define RingEnd         (1u << 25)
#define FirstFrag       (1u << 29)
#define LastFrag        (1u << 30)
#define SetupFrame      (1u << 27)
#define IntrOK          (1u << 16)
#define IntrErr         (1u << 15)
#define RxIntr          (1u << 6)
#define RxEmpty         (1u << 7)
#define TxIntr          (1u << 0)
#define TxEmpty         (1u << 2)
#define PciErr          (1u << 13)
#define TxState         (7u << 20)
#define RxState         (7u << 17)
#define LinkFail        (1u << 12)
#define LinkPass        (1u << 4)
#define TxEnable        (1u << 13)
#define RxEnable        (1u << 1)
#define FullDuplex      (1u << 9)
#define MacModeClear    ((1u << 12) | (1u << 11) | (1u << 10) | (1u << 8) | (1u << 3) | \
                         TxEnable | RxEnable | (1u << 5) | (1u << 6) | (1u << 7))
#define NonselPortActive (1u << 9)
#define SelPortActive   (1u << 8)
#define LinkFailStatus  (1u << 2)
#define NetCxnErr       (1u << 1)
#define de_intr_mask    (IntrOK | IntrErr | RxIntr | RxEmpty | TxIntr | TxEmpty | LinkPass | \
                         LinkFail | PciErr)

#define RING    0x100000u
#define NRX     64u
#define NTX     64u
#define TXRING  (RING + 16 * NRX)
#define RXBUFS  0x110000u
#define TXBUFS  0x150000u
#define SETUPB  0x190000u
#define MS      1000000ull

typedef struct {
    TessMachine *m;
    unsigned tx_head, tx_tail, rx_tail;
    bool carrier;
    unsigned rx_packets, tx_done;
    uint8_t last_rx[1600];
    size_t last_rx_len;
} De;

static void reset_mac(De *de)
{
    g_assert_cmphex(csr_r(de->m, BusMode), !=, 0xFFFFFFFF);
    csr_w(de->m, BusMode, CmdReset);
    th_advance(de->m, MS);
    csr_w(de->m, BusMode, de_bus_mode);
    th_advance(de->m, MS);
    for (int i = 0; i < 5; i++) {
        csr_r(de->m, BusMode);
        th_advance(de->m, MS);
    }
    uint32_t status = csr_r(de->m, MacStatus);
    g_assert_cmphex(status & (RxState | TxState), ==, 0);      /* else -EBUSY */
    g_assert_cmphex(status, !=, 0xFFFFFFFF);
}

/* de21041_get_srom_info, its checks as assertions */
static void get_srom_info(De *de, uint8_t mac[6])
{
    unsigned probe = nt_srom_read(de->m, 0xFF, 8);
    unsigned ee_addr_size = probe & 0x40000 ? 8 : 6;
    g_assert_cmpuint(ee_addr_size, ==, 6);
    uint8_t ee[512 + 6] = { 0 };
    for (unsigned i = 0; i < 256; i++) {
        unsigned w = nt_srom_read(de->m, i, ee_addr_size);
        ee[2 * i] = (uint8_t)w;
        ee[2 * i + 1] = (uint8_t)(w >> 8);
    }
    unsigned sa_offset = 0;
    for (unsigned i = 0; i < 8; i++)
        if (ee[i] != ee[16 + i])
            sa_offset = 20;
    memcpy(mac, ee + sa_offset, 6);
    unsigned ofs = ee[27];
    g_assert_cmpuint(ofs, <, sizeof(ee) - 4 - 7);                /* else bad_srom */
    unsigned n_blocks = ee[ofs + 2];
    g_assert_cmpuint(n_blocks, >, 0);
    g_assert_cmpuint(sizeof(ee) - ofs, >=, 4 + 7 * n_blocks);
    unsigned default_media = ee[ofs] | ee[ofs + 1] << 8;
    g_assert_true(default_media != 0x0001 && default_media != 0x0002 && default_media != 0x0204);
    unsigned p = ofs + 4;
    for (unsigned i = 0; i < n_blocks; i++) {
        unsigned opts = ee[p];
        unsigned kind = opts & 0x3F;
        g_assert_true(kind == 0 || kind == 1 || kind == 2 || kind == 4);   /* else bad_srom */
        p += 1 + ((opts & 0x40) ? 6 : 0);
    }
}

static void set_media_tp_auto(De *de)
{
    uint32_t macmode = csr_r(de->m, MacMode);
    g_assert_cmphex(csr_r(de->m, MacStatus) & (RxState | TxState), ==, 0);  /* "chip is running" */
    csr_w(de->m, CSR13, 0);
    csr_w(de->m, CSR14, 0xFF3F);        /* revision < 0x20: autonegotiation "broken" */
    csr_w(de->m, CSR15, 0x0008);
    csr_w(de->m, CSR13, 0xEF01);
    th_advance(de->m, 10 * MS);
    macmode &= ~FullDuplex;
    if (macmode != csr_r(de->m, MacMode))
        csr_w(de->m, MacMode, macmode);
}

static void set_rx_mode(De *de, const uint8_t mac[6])
{
    /* build_setup_frame_perfect with no multicast addresses */
    uint8_t sf[192];
    memset(sf, 0xFF, sizeof(sf));
    uint8_t *p = sf + 15 * 12;
    p[0] = mac[0]; p[1] = mac[1]; p[2] = mac[0]; p[3] = mac[1];
    p[4] = mac[2]; p[5] = mac[3]; p[6] = mac[2]; p[7] = mac[3];
    p[8] = mac[4]; p[9] = mac[5]; p[10] = mac[4]; p[11] = mac[5];
    mem_wr(de->m, SETUPB, sf, sizeof(sf));
    unsigned entry = de->tx_head;
    uint32_t dummy = 0;
    if (entry != 0) {
        dummy = TXRING + 16 * entry;
        mem_w32(de->m, dummy + 4, entry == NTX - 1 ? RingEnd : 0);
        mem_w32(de->m, dummy + 8, 0);
        entry = (entry + 1) % NTX;
    }
    uint32_t txd = TXRING + 16 * entry;
    mem_w32(de->m, txd + 4, SetupFrame | (entry == NTX - 1 ? RingEnd : 0) | 192);
    mem_w32(de->m, txd + 8, SETUPB);
    mem_w32(de->m, txd, DescOwn);
    if (dummy)
        mem_w32(de->m, dummy, DescOwn);
    de->tx_head = (entry + 1) % NTX;
    csr_w(de->m, TxPoll, 1);
}

static void de_tx(De *de)
{
    while (de->tx_tail != de->tx_head) {
        uint32_t status = mem_r32(de->m, TXRING + 16 * de->tx_tail);
        if (status & DescOwn)
            break;
        g_assert_cmphex(status & (1u << 15), ==, 0);           /* TxError */
        de->tx_done++;
        de->tx_tail = (de->tx_tail + 1) % NTX;
    }
}

static void de_rx(De *de)
{
    for (unsigned work = NRX; --work;) {
        uint32_t d = RING + 16 * de->rx_tail;
        uint32_t status = mem_r32(de->m, d);
        if (status & DescOwn)
            break;
        unsigned len = ((status >> 16) & 0x7FF) - 4;
        g_assert_cmphex(status & 0x38008300, ==, 0x0300);      /* else rx error accounting */
        de->last_rx_len = len;
        mem_rd(de->m, RXBUFS + 0x800 * de->rx_tail, de->last_rx, MIN(len, sizeof(de->last_rx)));
        de->rx_packets++;
        mem_w32(de->m, d + 4, (de->rx_tail == NRX - 1 ? RingEnd : 0) | 1536);
        mem_w32(de->m, d, DescOwn);
        de->rx_tail = (de->rx_tail + 1) % NRX;
    }
}

/* de_interrupt: returns false for IRQ_NONE */
static bool de_interrupt(De *de)
{
    uint32_t status = csr_r(de->m, MacStatus);
    if (!(status & (IntrOK | IntrErr)) || status == 0xFFFF)
        return false;
    csr_w(de->m, MacStatus, status);
    if (status & (RxIntr | RxEmpty)) {
        de_rx(de);
        if (status & RxEmpty)
            csr_w(de->m, RxPoll, 1);
    }
    if (status & (TxIntr | TxEmpty))
        de_tx(de);
    if (status & LinkPass)
        de->carrier = true;
    else if (status & LinkFail)
        de->carrier = false;
    g_assert_cmphex(status & PciErr, ==, 0);
    return true;
}

/* Service INTA# until it drops, as the kernel does for a level IRQ. */
static void service(De *de)
{
    for (int i = 0; i < 8 && nt_irq(de->m); i++)
        g_assert_true(de_interrupt(de));
    g_assert_false(nt_irq(de->m));
}

static void test_linux(void)
{
    De de = { .m = nt_machine() };
    TessMachine *m = de.m;
    ThNet *be = nt_backend(m);

    /* ---- probe: wake, reset, SROM, sleep */
    nt_cfg_write(m, NIC_DEVFN, 0x40, nt_cfg_read(m, NIC_DEVFN, 0x40, 4) & ~0xC0000000u, 4);
    reset_mac(&de);
    uint8_t mac[6];
    get_srom_info(&de, mac);
    g_assert_cmpmem(mac, 6, nt_mac, 6);
    g_assert_cmpuint(nt_cfg_read(m, NIC_DEVFN, 0x08, 1), <, 0x20);   /* the csr14_brk table */
    csr_w(m, CSR13, 0);
    nt_cfg_write(m, NIC_DEVFN, 0x40, nt_cfg_read(m, NIC_DEVFN, 0x40, 4) | 0x80000000u, 4);

    /* ---- open: rings, de_init_hw */
    for (unsigned i = 0; i < NRX; i++)
        desc_set(m, RING + 16 * i, DescOwn, (i == NRX - 1 ? RingEnd : 0) | 1536,
                 RXBUFS + 0x800 * i, 0);
    for (unsigned i = 0; i < NTX; i++)
        desc_set(m, TXRING + 16 * i, 0, i == NTX - 1 ? RingEnd : 0, 0, 0);
    csr_w(m, IntrMask, 0);
    nt_cfg_write(m, NIC_DEVFN, 0x40, nt_cfg_read(m, NIC_DEVFN, 0x40, 4) & ~0xC0000000u, 4);
    uint32_t macmode = csr_r(m, MacMode) & ~MacModeClear;
    reset_mac(&de);
    set_media_tp_auto(&de);
    csr_w(m, RxRingAddr, RING);
    csr_w(m, TxRingAddr, TXRING);
    csr_w(m, MacMode, TxEnable | RxEnable | macmode);
    csr_r(m, RxMissed);
    csr_w(m, IntrMask, de_intr_mask);
    set_rx_mode(&de, mac);

    /* the link pass the SIA latched during set_media arrives now */
    g_assert_true(nt_irq(m));
    service(&de);
    g_assert_true(de.carrier);
    g_assert_cmpuint(de.tx_tail, ==, de.tx_head);          /* setup frame reclaimed */
    g_assert_cmpuint(be->sent->len, ==, 0);

    /* ---- de_start_xmit, a few frames */
    for (unsigned k = 0; k < 5; k++) {
        uint8_t f[200];
        nt_frame(f, (const uint8_t *)"\xff\xff\xff\xff\xff\xff", 98 + k, (uint8_t)k);
        unsigned entry = de.tx_head;
        mem_wr(m, TXBUFS + 0x800 * entry, f, 98 + k);
        mem_w32(m, TXRING + 16 * entry + 4,
                FirstFrag | LastFrag | (entry == NTX - 1 ? RingEnd : 0) | (98 + k));
        mem_w32(m, TXRING + 16 * entry + 8, TXBUFS + 0x800 * entry);
        mem_w32(m, TXRING + 16 * entry, DescOwn);
        de.tx_head = (entry + 1) % NTX;
        csr_w(m, TxPoll, 1);
        service(&de);
    }
    g_assert_cmpuint(be->sent->len, ==, 5);
    g_assert_cmpuint(de.tx_tail, ==, de.tx_head);

    /* ---- receive: ours and broadcast in, another station's filtered */
    uint8_t f[1514];
    for (unsigned k = 0; k < 100; k++) {
        size_t len = 60 + (k * 37) % 1455;
        nt_frame(f, k % 3 == 2 ? (const uint8_t *)"\x02\x00\x00\x00\x00\x77" :
                    k % 3 ? (const uint8_t *)"\xff\xff\xff\xff\xff\xff" : mac, len, (uint8_t)k);
        g_assert_true(tess_net_port_deliver(be->port, f, len));
        service(&de);
        if (k % 3 != 2) {
            g_assert_cmpuint(de.last_rx_len, ==, len);
            g_assert_cmpmem(de.last_rx, len, f, len);
        }
    }
    g_assert_cmpuint(de.rx_packets, ==, 67);
    /* a burst larger than the ring: nothing lost, RxEmpty + RxPoll recover */
    for (unsigned k = 0; k < 100; k++) {
        nt_frame(f, mac, 100, (uint8_t)k);
        g_assert_true(tess_net_port_deliver(be->port, f, 100));
    }
    /* the ring filled up: one frame found no descriptor (the port keeps
     * it and those behind it) */
    g_assert_cmpuint(csr_r(m, RxMissed) & 0xFFFF, ==, 1);
    for (int i = 0; i < 8; i++)
        service(&de);
    g_assert_cmpuint(de.rx_packets, ==, 167);
    g_assert_cmphex(csr_r(m, MacStatus) & RxState, ==, 3u << 17);     /* waiting */

    /* ---- de21041_media_timer */
    uint32_t sia = csr_r(m, SIAStatus);
    csr_w(m, SIAStatus, NonselPortActive | SelPortActive);
    g_assert_cmphex(sia & NetCxnErr, ==, 0);
    g_assert_cmphex(sia & LinkFailStatus, ==, 0);
    g_assert_cmphex(csr_r(m, SIAStatus) & (NonselPortActive | SelPortActive), ==, 0);

    /* cable out, cable in */
    be->link = false;
    tess_net_port_link_changed(be->port);
    service(&de);
    g_assert_false(de.carrier);
    be->link = true;
    tess_net_port_link_changed(be->port);
    th_advance(m, 5 * MS);
    service(&de);
    g_assert_true(de.carrier);

    /* ---- de_close: de_stop_hw */
    csr_w(m, IntrMask, 0);
    uint32_t mode = csr_r(m, MacMode);
    csr_w(m, MacMode, mode & ~(TxEnable | RxEnable));
    csr_r(m, MacMode);
    g_assert_cmphex(csr_r(m, MacStatus) & (RxState | TxState), ==, 0);
    csr_w(m, MacStatus, csr_r(m, MacStatus));
    g_assert_false(nt_irq(m));
    th_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/dec21041/linux-de2104x", test_linux);
    return g_test_run();
}
