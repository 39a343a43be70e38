/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * DEC 21041 "Tulip Plus" 10 Mb/s PCI Ethernet controller (1011:0014).
 *
 * This file holds the PCI function, the CSR file (HRM chapter 3), the
 * interrupt summaries, the serial interface adapter (SIA: link test,
 * NWay state, link pass/fail interrupts following the backend's cable),
 * the general-purpose timer and the 93C46 serial ROM behind CSR9. The
 * descriptor engine and the address filter are in dec21041-ring.c.
 *
 * Choices where the HRM leaves room, or where a virtual cable has no
 * analogue:
 *  - the virtual cable serves whichever port CSR13 selects (10BASE-T, AUI
 *    or BNC): link up means carrier on all of them; LNP/LNF interrupts
 *    and CSR12 LKF concern the 10BASE-T port only, as on the chip;
 *  - the link test passes DEC_LINK_TEST_NS after the SIA leaves reset
 *    (CSR13 SRL) or the cable is plugged; a pulled cable fails at once;
 *  - with CSR14 ANE set, NWay completes (ANS = 101b) against a partner
 *    offering 10BASE-T half and full duplex; the 21041 is 10 Mb/s only;
 *  - no boot ROM is fitted: boot ROM reads (CSR9 BR|RD) return 0xFF;
 *  - PCI config 0x40 (CFDD sleep/snooze) is plain storage: the model does
 *    not power down;
 *  - CSR0 PBL, CAL and BAR (burst length, cache alignment, arbitration)
 *    are kept and read back but change nothing: the model moves whole
 *    buffers at once. DBO (big-endian descriptors) and BLE (big-endian
 *    buffers) are honoured;
 *  - frames from the network are whole: short ones arrive padded to 60
 *    bytes as their sender put them on the wire, so RDES0 RF (runt), CE
 *    and collisions never occur, and transmission never underflows.
 */
#define G_LOG_DOMAIN "dec21041"
#include "dec21041.h"
#include <tessera/pci.h>

#include <string.h>

#define DEC_LINK_TEST_NS   1000000u     /* 1 ms */
#define DEC_RX_RETRY_NS    1000000u     /* re-offer a held frame while suspended */
#define PCI_STATUS_RMA     0x20         /* status byte 1 (reg 0x07): received master abort */
#define PCI_CFG_COMMAND    0x04
#define PCICMD_BME         0x04

/* ---- interrupts ---------------------------------------------------------- */

/* NIS and AIS are the OR of their group's bits enabled in CSR7 (HRM 3.2.2.6);
 * INTA# follows the summaries enabled in CSR7. */
static uint32_t dec_summaries(Dec21041 *s)
{
    uint32_t en = s->csr[5] & s->csr[7];
    return ((en & CSR5_NIS_BITS) ? CSR5_NIS : 0) | ((en & CSR5_AIS_BITS) ? CSR5_AIS : 0);
}

void dec_update_irq(Dec21041 *s)
{
    bool level = dec_summaries(s) & s->csr[7] & (CSR5_NIS | CSR5_AIS);
    if (level == (bool)s->irq_level)
        return;
    s->irq_level = level;
    if (s->fn)
        s->bus_ops->set_irq(s->fn, level);
}

void dec_raise(Dec21041 *s, uint32_t bits)
{
    s->csr[5] |= bits & CSR5_INT_BITS;
    dec_update_irq(s);
}

/* ---- bus master ------------------------------------------------------------ */

/* A master abort (DMA outside RAM) is a fatal bus error: CSR5 SE with EB,
 * the PCI status bit, and both processes stop until a software reset. */
static void dec_bus_error(Dec21041 *s, uint32_t addr, size_t len, GError *err)
{
    tess_guest_error(&s->dev, "bus master access %zu bytes at 0x%08x failed: %s", len, addr,
                     err ? err->message : "?");
    s->fatal = 1;
    s->rs = RS_STOPPED;
    s->ts = TS_STOPPED;
    s->csr[5] = (s->csr[5] & ~CSR5_EB_MASK) | EB_MASTER_ABORT << CSR5_EB_SHIFT;
    if (s->cfg)
        s->cfg[0x07] |= PCI_STATUS_RMA;
    tess_timer_cancel(s->tx_timer);
    dec_raise(s, CSR5_SE);
}

bool dec_dma_read(Dec21041 *s, uint32_t addr, void *buf, size_t len)
{
    g_autoptr(GError) err = NULL;
    if (tess_dma_read(s->dev.machine, addr, buf, len, &err))
        return true;
    dec_bus_error(s, addr, len, err);
    return false;
}

bool dec_dma_write(Dec21041 *s, uint32_t addr, const void *buf, size_t len)
{
    g_autoptr(GError) err = NULL;
    if (tess_dma_write(s->dev.machine, addr, buf, len, &err))
        return true;
    dec_bus_error(s, addr, len, err);
    return false;
}

static bool dec_bus_master(Dec21041 *s)
{
    return s->cfg && (s->cfg[PCI_CFG_COMMAND] & PCICMD_BME);
}

/* ---- SIA ---------------------------------------------------------------------- */

static bool sia_tp(Dec21041 *s)
{
    return !(s->csr[13] & CSR13_AUI);
}

/* Carrier on the selected port: SIA out of reset and the link test passed. */
bool dec_wire_up(Dec21041 *s)
{
    return (s->csr[13] & CSR13_SRL) && s->sia_link;
}

static bool sia_cable(Dec21041 *s)
{
    return (s->csr[13] & CSR13_SRL) && s->port && tess_net_port_link_up(s->port);
}

/* Follow the cable: fail at once, pass after the link test. */
static void sia_update(Dec21041 *s, bool retest)
{
    bool cable = sia_cable(s);
    if (retest || !cable) {
        bool was = s->sia_link;
        s->sia_link = 0;
        tess_timer_cancel(s->link_timer);
        /* a pulled cable is a link fail; an SIA reset or a port change is not */
        if (was && !retest && sia_tp(s))
            dec_raise(s, CSR5_LNF);
        if (!cable)
            s->sia_ans = (s->csr[14] & CSR14_ANE) && (s->csr[13] & CSR13_SRL) ? ANS_TX_DISABLE
                                                                               : ANS_DISABLED;
    }
    if (cable && !s->sia_link && !tess_timer_pending(s->link_timer))
        tess_timer_arm_in(s->link_timer, DEC_LINK_TEST_NS);
}

static void sia_link_pass(void *opaque)
{
    Dec21041 *s = opaque;
    if (!sia_cable(s))
        return;
    s->sia_link = 1;
    s->sia_ans = (s->csr[14] & CSR14_ANE) && sia_tp(s) ? ANS_COMPLETE : ANS_DISABLED;
    if (sia_tp(s))
        dec_raise(s, CSR5_LNP);
    /* a frame held back while the cable was out goes now */
    if (s->ts != TS_STOPPED)
        dec_tx_poll(s);
}

static uint32_t sia_status(Dec21041 *s)
{
    uint32_t v = s->csr[12] & (CSR12_SRA | CSR12_NRA);
    bool up = dec_wire_up(s);
    if (!up)
        v |= CSR12_NCR;
    if (!up && sia_tp(s))
        v |= CSR12_LKF;
    v |= s->sia_ans << CSR12_ANS_SHIFT;
    if (s->sia_ans == ANS_COMPLETE)
        /* link partner code word: IEEE 802.3 selector, 10BASE-T half and
         * full duplex, acknowledge */
        v |= CSR12_LPN | 0x4061u << 16;
    return v;
}

/* ---- general-purpose timer (CSR11) ------------------------------------------ */

static void gpt_arm(Dec21041 *s)
{
    uint32_t count = s->csr[11] & 0xFFFF;
    if (!count) {
        s->gpt_deadline = 0;
        tess_timer_cancel(s->gpt_timer);
        return;
    }
    s->gpt_deadline = tess_clock_ns(s->dev.machine) + (uint64_t)count * GPT_TICK_NS;
    tess_timer_arm(s->gpt_timer, s->gpt_deadline);
}

static void gpt_expired(void *opaque)
{
    Dec21041 *s = opaque;
    dec_raise(s, CSR5_TM);
    if (s->csr[11] & CSR11_CON)
        gpt_arm(s);
    else
        s->gpt_deadline = 0;
}

static uint32_t gpt_read(Dec21041 *s)
{
    uint32_t v = s->csr[11] & CSR11_CON;
    if (s->gpt_deadline) {
        uint64_t now = tess_clock_ns(s->dev.machine);
        uint64_t left = s->gpt_deadline > now ? s->gpt_deadline - now : 0;
        v |= (uint32_t)MIN((left + GPT_TICK_NS - 1) / GPT_TICK_NS, 0xFFFFu);
    }
    return v;
}

/* ---- 93C46 serial ROM (CSR9) ---------------------------------------------------- */

/* The contents Linux's de2104x and the DEC SROM format expect: the station
 * address at byte 20, controller 0's info leaf at the offset in byte 27:
 * default medium, block count, a pad byte, one block per medium (bits 5:0
 * the medium, no custom CSR values so drivers use their defaults). */
void dec_srom_build(Dec21041 *s)
{
    static const uint16_t default_media[] = {
        [MEDIA_TP_AUTO] = 0x0800, [MEDIA_TP] = 0x0000, [MEDIA_TP_FD] = 0x0204,
        [MEDIA_BNC] = 0x0001, [MEDIA_AUI] = 0x0002,
    };
    uint8_t b[SROM_WORDS * 2] = { 0 };
    b[18] = 0x01;                       /* SROM format version */
    b[19] = 1;                          /* controllers */
    memcpy(b + 20, s->mac.a, 6);
    b[26] = 0;                          /* controller 0 device number */
    b[27] = 30;                         /* controller 0 info leaf */
    b[28] = 0;
    uint16_t dm = default_media[s->media];
    b[30] = (uint8_t)dm;
    b[31] = (uint8_t)(dm >> 8);
    b[32] = 4;                          /* media blocks */
    b[33] = 0;
    b[34] = 0x00;                       /* 10BASE-T */
    b[35] = 0x04;                       /* 10BASE-T full duplex */
    b[36] = 0x01;                       /* BNC */
    b[37] = 0x02;                       /* AUI */
    /* SROM CRC over bytes 0-125 in the last word */
    uint32_t crc = ~dec_crc32_le(b, 126);
    b[126] = (uint8_t)crc;
    b[127] = (uint8_t)(crc >> 8);
    for (unsigned i = 0; i < SROM_WORDS; i++)
        s->srom[i] = (uint16_t)(b[2 * i] | b[2 * i + 1] << 8);
}

/* Microwire, as the 93C46 (64 x 16) speaks it: a start bit, a 2-bit
 * opcode and 6 address bits clocked in on SK rising edges; READ answers
 * with a dummy 0 on the last address bit's edge, then 16 data bits MSB
 * first, and continues with the next word while CS stays high. WRITE,
 * ERASE, ERAL and WRAL act only after EWEN; the part powers up write
 * disabled, so a driver that sends ERASE by mistake (Linux's 8-bit-address
 * probe of a 6-bit part does) changes nothing. DO floats high when the
 * part is not driving it. */
enum { EE_OP_EXT = 0, EE_OP_WRITE = 1, EE_OP_READ = 2, EE_OP_ERASE = 3, EE_OP_WRAL = 4 };

static void srom_clock(Dec21041 *s, bool di)
{
    switch (s->ee_state) {
    case EE_IDLE:
    case EE_START:
        if (di) {
            s->ee_state = EE_CMD;
            s->ee_bits = 0;
            s->ee_count = 0;
        }
        break;
    case EE_CMD:
        s->ee_bits = s->ee_bits << 1 | di;
        if (++s->ee_count < 8)
            break;
        s->ee_op = s->ee_bits >> 6;
        s->ee_addr = s->ee_bits & 0x3F;
        s->ee_count = 0;
        s->ee_bits = 0;
        switch (s->ee_op) {
        case EE_OP_READ:
            s->ee_state = EE_READ;
            s->ee_dout = 0;             /* the dummy bit */
            break;
        case EE_OP_WRITE:
            s->ee_state = EE_WDATA;
            break;
        case EE_OP_ERASE:
            if (s->ee_wen)
                s->srom[s->ee_addr] = 0xFFFF;
            s->ee_state = EE_DONE;
            break;
        default:
            switch (s->ee_addr >> 4) {
            case 0: s->ee_wen = 0; s->ee_state = EE_DONE; break;         /* EWDS */
            case 3: s->ee_wen = 1; s->ee_state = EE_DONE; break;         /* EWEN */
            case 2:                                                      /* ERAL */
                if (s->ee_wen)
                    for (unsigned i = 0; i < SROM_WORDS; i++)
                        s->srom[i] = 0xFFFF;
                s->ee_state = EE_DONE;
                break;
            default:                                                     /* WRAL */
                s->ee_op = EE_OP_WRAL;
                s->ee_state = EE_WDATA;
                break;
            }
        }
        break;
    case EE_READ:
        s->ee_dout = (s->srom[s->ee_addr] >> (15 - s->ee_count)) & 1;
        if (++s->ee_count == 16) {
            s->ee_count = 0;
            s->ee_addr = (s->ee_addr + 1) % SROM_WORDS;
        }
        break;
    case EE_WDATA:
        s->ee_bits = (s->ee_bits << 1 | di) & 0xFFFF;
        if (++s->ee_count < 16)
            break;
        if (s->ee_wen) {
            if (s->ee_op == EE_OP_WRAL)
                for (unsigned i = 0; i < SROM_WORDS; i++)
                    s->srom[i] = (uint16_t)s->ee_bits;
            else
                s->srom[s->ee_addr] = (uint16_t)s->ee_bits;
        }
        s->ee_state = EE_DONE;
        break;
    default:
        break;
    }
}

static void srom_write(Dec21041 *s, uint32_t v)
{
    bool cs = v & CSR9_SCS, sk = v & CSR9_SCLK, di = v & CSR9_SDI;
    if (!cs) {
        s->ee_state = EE_IDLE;
        s->ee_sk = sk;
        return;
    }
    bool rising = sk && !s->ee_sk;
    s->ee_sk = sk;
    if (rising)
        srom_clock(s, di);
}

static bool srom_dout(Dec21041 *s)
{
    switch (s->ee_state) {
    case EE_READ:
        return s->ee_dout;
    default:
        return true;                    /* floating high; after a write: ready */
    }
}

static uint32_t csr9_read(Dec21041 *s)
{
    uint32_t v = s->csr[9];
    if (v & CSR9_SR)
        return (v & ~CSR9_SDO) | (srom_dout(s) ? CSR9_SDO : 0);
    if ((v & (CSR9_BR | CSR9_RD)) == (CSR9_BR | CSR9_RD))
        return (v & ~0xFFu) | 0xFF;     /* no boot ROM fitted */
    return v;
}

/* ---- reset ------------------------------------------------------------------ */

static void dec_chip_reset(Dec21041 *s)
{
    memset(s->csr, 0, sizeof(s->csr));
    s->csr[0] = CSR0_RESET;
    s->rx_cur = s->tx_cur = 0;
    s->rs = RS_STOPPED;
    s->ts = TS_STOPPED;
    s->fatal = 0;
    s->tx_busy = 0;
    s->rx_refused = 0;
    s->gpt_deadline = 0;
    s->sia_link = 0;
    s->sia_ans = ANS_DISABLED;
    s->filter_mode = FILT_PERFECT;
    memset(s->perfect, 0, sizeof(s->perfect));
    memset(s->hash, 0, sizeof(s->hash));
    s->ee_state = EE_IDLE;
    s->ee_wen = 0;
    s->ee_sk = 0;
    tess_timer_cancel(s->gpt_timer);
    tess_timer_cancel(s->link_timer);
    tess_timer_cancel(s->tx_timer);
    tess_timer_cancel(s->rx_timer);
    dec_update_irq(s);
}

static void dec_reset(TessDevice *dev)
{
    dec_chip_reset((Dec21041 *)dev);
}

/* ---- CSR access ------------------------------------------------------------- */

static void rx_resume(Dec21041 *s)
{
    if (s->port)
        tess_net_port_rx_ready(s->port);
}

static void rx_retry(void *opaque)
{
    Dec21041 *s = opaque;
    if (s->rx_refused && s->rs == RS_SUSPENDED)
        rx_resume(s);
}

static uint64_t dec_csr_read(void *opaque, uint64_t offset, unsigned size)
{
    Dec21041 *s = opaque;
    if (offset & 7)
        return 0;
    unsigned n = (unsigned)(offset >> 3) & 15;
    switch (n) {
    case 1:
    case 2:
        return 0xFFFFFFFFu;             /* poll demands are write-only */
    case 5:
        return CSR5_RESET | (s->csr[5] & (CSR5_INT_BITS | CSR5_EB_MASK)) | dec_summaries(s) |
               s->rs << CSR5_RS_SHIFT | s->ts << CSR5_TS_SHIFT;
    case 8: {
        uint32_t v = s->csr[8];
        s->csr[8] = 0;                  /* cleared by reading */
        return v;
    }
    case 9:
        return csr9_read(s);
    case 11:
        return gpt_read(s);
    case 12:
        return sia_status(s);
    default:
        return s->csr[n];
    }
}

static void csr6_write(Dec21041 *s, uint32_t v)
{
    uint32_t old = s->csr[6];
    s->csr[6] = (v & CSR6_WRITABLE) | (old & CSR6_FILTER_RO);
    uint32_t now = s->csr[6];
    if ((old & CSR6_ST) && !(now & CSR6_ST)) {
        s->ts = TS_STOPPED;
        s->tx_busy = 0;
        tess_timer_cancel(s->tx_timer);
        dec_raise(s, CSR5_TPS);
    }
    if ((old & CSR6_SR) && !(now & CSR6_SR)) {
        s->rs = RS_STOPPED;
        tess_timer_cancel(s->rx_timer);
        dec_raise(s, CSR5_RPS);
    }
    if (!(old & CSR6_SR) && (now & CSR6_SR) && !s->fatal) {
        s->rs = RS_WAIT;
        rx_resume(s);
    }
    if (!(old & CSR6_ST) && (now & CSR6_ST) && !s->fatal) {
        s->ts = TS_FETCH;
        dec_tx_poll(s);
    }
}

static void dec_csr_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    Dec21041 *s = opaque;
    uint32_t v = (uint32_t)value;
    if (offset & 7)
        return;
    switch ((offset >> 3) & 15) {
    case 0:
        if (v & CSR0_SWR) {
            dec_chip_reset(s);
            return;
        }
        s->csr[0] = CSR0_RESET | (v & CSR0_WRITABLE);
        break;
    case 1:                             /* transmit poll demand */
        if (s->ts == TS_SUSPENDED)
            s->ts = TS_FETCH;
        dec_tx_poll(s);
        break;
    case 2:                             /* receive poll demand */
        if (s->rs == RS_SUSPENDED && !s->fatal) {
            s->rs = RS_WAIT;
            rx_resume(s);
        }
        break;
    case 3:
        s->csr[3] = v & ~3u;
        s->rx_cur = s->csr[3];
        break;
    case 4:
        s->csr[4] = v & ~3u;
        s->tx_cur = s->csr[4];
        break;
    case 5:                             /* write one to clear */
        s->csr[5] &= ~(v & CSR5_INT_BITS);
        dec_update_irq(s);
        break;
    case 6:
        csr6_write(s, v);
        break;
    case 7:
        s->csr[7] = v & CSR7_MASK;
        dec_update_irq(s);
        break;
    case 8:
        break;                          /* read-only */
    case 9:
        s->csr[9] = v & 0xFFFF;
        if (v & CSR9_SR)
            srom_write(s, v);
        break;
    case 10:
        s->csr[10] = v & 0x3FFFF;
        break;
    case 11:
        s->csr[11] = v & (CSR11_CON | 0xFFFF);
        gpt_arm(s);
        break;
    case 12:
        s->csr[12] &= ~(v & (CSR12_SRA | CSR12_NRA));
        if (((v & CSR12_ANS_MASK) >> CSR12_ANS_SHIFT) == ANS_TX_DISABLE &&
            (s->csr[14] & CSR14_ANE) && sia_tp(s)) {
            /* software restarts NWay: the link goes through negotiation again */
            s->sia_ans = ANS_TX_DISABLE;
            sia_update(s, true);
        }
        break;
    case 13: {
        uint32_t old = s->csr[13];
        s->csr[13] = v & 0xFFFF;
        bool retest = ((old ^ v) & (CSR13_SRL | CSR13_AUI)) != 0;
        sia_update(s, retest);
        break;
    }
    case 14:
        s->csr[14] = v & 0xFFFF;
        break;
    case 15:
        s->csr[15] = v & 0xFFFF;
        break;
    }
}

static const TessIoOps dec_csr_ops = {
    .read = dec_csr_read,
    .write = dec_csr_write,
    .widths = TESS_W32,
};

/* ---- the network port ------------------------------------------------------- */

static bool dec_net_receive(void *opaque, const uint8_t *frame, size_t len)
{
    Dec21041 *s = opaque;
    uint32_t om = (s->csr[6] & CSR6_OM_MASK) >> CSR6_OM_SHIFT;
    /* no carrier, receiver stopped, looped back or not mastering: the
     * frame passes by on the wire */
    if (!dec_wire_up(s) || om || s->fatal || s->rs == RS_STOPPED || !dec_bus_master(s))
        return true;
    s->csr[12] |= CSR12_SRA;
    if (len < 6 || !dec_rx_accept(s, frame))
        return true;
    if (dec_rx_frame(s, frame, len))
        return true;
    if (!tess_timer_pending(s->rx_timer))
        tess_timer_arm_in(s->rx_timer, DEC_RX_RETRY_NS);
    return false;
}

static void dec_net_link_changed(void *opaque, bool up)
{
    Dec21041 *s = opaque;
    /* The backend that answered BUSY may be gone (a run-time swap is a
     * cable pulled and plugged back) and never call tx_ready: retry the
     * held frame when the link passes again. */
    s->tx_busy = 0;
    sia_update(s, false);
}

static void dec_net_tx_ready(void *opaque)
{
    Dec21041 *s = opaque;
    if (!s->tx_busy)
        return;
    s->tx_busy = 0;
    dec_tx_poll(s);
}

static const TessNetNicOps dec_net_ops = {
    .size = sizeof(TessNetNicOps),
    .receive = dec_net_receive,
    .link_changed = dec_net_link_changed,
    .tx_ready = dec_net_tx_ready,
};

/* ---- class ---------------------------------------------------------------------- */

static bool dec_realize(TessDevice *dev, GError **err)
{
    Dec21041 *s = (Dec21041 *)dev;
    const char *bus_id = s->bus_id && *s->bus_id ? s->bus_id : NULL;

    if (s->mac.a[0] & 1) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "%s: mac %02x:%02x:%02x:%02x:%02x:%02x is a multicast address", dev->id,
                    s->mac.a[0], s->mac.a[1], s->mac.a[2], s->mac.a[3], s->mac.a[4], s->mac.a[5]);
        return false;
    }
    dec_srom_build(s);
    s->mmio = tess_mem_mmio_new(dev, "dec21041-csr", 128, &dec_csr_ops, s);
    TessPciFunctionInfo info = {
        .vendor_id = 0x1011, .device_id = 0x0014,
        .revision = 0x11,                   /* 21041 pass 2 */
        .class_code = 0x02, .subclass = 0x00, .prog_if = 0x00,
        .interrupt_pin = 1,                 /* INTA# */
        .bars[0] = { .kind = TESS_PCI_BAR_IO, .size = 128, .ops = &dec_csr_ops, .opaque = s },
        .bars[1] = { .kind = TESS_PCI_BAR_MEM32, .size = 128, .region = s->mmio },
    };
    s->fn = tess_pci_attach(dev, bus_id, (int)s->devfn, &info, &s->bus, &s->bus_ops, err);
    if (!s->fn)
        return false;
    s->cfg = s->bus_ops->config(s->fn);
    s->gpt_timer = tess_timer_new(dev, gpt_expired, s);
    s->link_timer = tess_timer_new(dev, sia_link_pass, s);
    s->tx_timer = tess_timer_new(dev, dec_tx_timer, s);
    s->rx_timer = tess_timer_new(dev, rx_retry, s);
    s->port = tess_net_port_new(dev, "net", s->mac.a, &dec_net_ops, s, err);
    if (!s->port) {
        s->bus_ops->detach(s->bus, s->fn);
        s->fn = NULL;
        return false;
    }
    dec_chip_reset(s);
    return true;
}

static void dec_unrealize(TessDevice *dev)
{
    Dec21041 *s = (Dec21041 *)dev;
    if (s->fn && s->bus_ops)
        s->bus_ops->detach(s->bus, s->fn);
    s->fn = NULL;
}

static bool dec_post_load(TessDevice *dev, uint32_t version, GError **err)
{
    Dec21041 *s = (Dec21041 *)dev;
    if (s->ee_addr >= SROM_WORDS || s->ee_count > 16 || s->filter_mode > 3 ||
        s->rs > 7 || s->ts > 7) {
        g_set_error(err, TESS_STATE_ERROR, TESS_ERROR_INVALID, "%s: state out of range", dev->id);
        return false;
    }
    tess_timer_cancel(s->gpt_timer);
    if (s->gpt_deadline)
        tess_timer_arm(s->gpt_timer, s->gpt_deadline);
    tess_timer_cancel(s->link_timer);
    if (sia_cable(s) && !s->sia_link)
        tess_timer_arm_in(s->link_timer, DEC_LINK_TEST_NS);
    s->irq_level = (dec_summaries(s) & s->csr[7] & (CSR5_NIS | CSR5_AIS)) != 0;
    if (s->fn)
        s->bus_ops->set_irq(s->fn, s->irq_level);
    return true;
}

static const char *const media_names[] = { "tp-auto", "tp", "tp-fd", "bnc", "aui", NULL };

static const TessPropSpec dec_props[] = {
    TESS_PROP_MAC_("mac", Dec21041, mac, "52:54:00:21:04:01", "station address, stored in the serial ROM"),
    TESS_PROP_STRING_("bus", Dec21041, bus_id, NULL, "id of the pci-bus provider (default: the only one)"),
    TESS_PROP_INT_("devfn", Dec21041, devfn, "-1", -1, 0xFF, "PCI slot << 3 | function (-1: the first free slot)"),
    TESS_PROP_ENUM_("media", Dec21041, media, "tp-auto", media_names,
                    "default medium in the serial ROM's info leaf"),
    TESS_PROP_END
};

static const TessSlotSpec dec_slots[] = {
    { .element = "net", .default_type = "none", .iface = TESS_IFACE_NET, .max = 1,
      .offset = offsetof(Dec21041, net),
      .doc = "network backend: <net type=\"shared|switch|vde|none\"/> (no <net>: cable unplugged)" },
    TESS_SLOT_END
};

static const char *const dec_needs[] = { TESS_IFACE_PCI_BUS, TESS_IFACE_NET, NULL };

static const TessStateField dec_state_fields[] = {
    TESS_STATE_ARRAY(TESS_STATE_T_U32, Dec21041, csr, 16),
    TESS_STATE_U32(Dec21041, rx_cur),
    TESS_STATE_U32(Dec21041, tx_cur),
    TESS_STATE_U32(Dec21041, rs),
    TESS_STATE_U32(Dec21041, ts),
    TESS_STATE_U32(Dec21041, fatal),
    TESS_STATE_U32(Dec21041, irq_level),
    TESS_STATE_U64(Dec21041, gpt_deadline),
    TESS_STATE_U32(Dec21041, sia_link),
    TESS_STATE_U32(Dec21041, sia_ans),
    TESS_STATE_U32(Dec21041, rx_refused),
    TESS_STATE_U32(Dec21041, filter_mode),
    TESS_STATE_BUF(Dec21041, perfect),
    TESS_STATE_BUF(Dec21041, hash),
    TESS_STATE_ARRAY(TESS_STATE_T_U16, Dec21041, srom, SROM_WORDS),
    TESS_STATE_U32(Dec21041, ee_state),
    TESS_STATE_U32(Dec21041, ee_bits),
    TESS_STATE_U32(Dec21041, ee_count),
    TESS_STATE_U32(Dec21041, ee_addr),
    TESS_STATE_U32(Dec21041, ee_dout),
    TESS_STATE_U32(Dec21041, ee_wen),
    TESS_STATE_U32(Dec21041, ee_op),
    TESS_STATE_U32(Dec21041, ee_sk),
    TESS_STATE_U32(Dec21041, tx_busy),
    /* The function's configuration space (BARs, command register): the
     * host bridge's post_load maps the BARs from it. Version 1 lacked it
     * (a restored NIC answered nothing until its driver placed it again). */
    { .name = "cfg", .type = TESS_STATE_T_PTRBUF, .offset = offsetof(Dec21041, cfg),
      .size = 256, .since = 2 },
    TESS_STATE_END
};

static const TessStateDesc dec_state = {
    .version = 2, .fields = dec_state_fields, .post_load = dec_post_load,
};

static const TessDeviceClass dec21041_class = {
    .type = "dec21041",
    .kind = TESS_CLASS_DEVICE,
    .doc = "DEC 21041 \"Tulip Plus\" 10 Mb/s PCI Ethernet controller (1011:0014)",
    .instance_size = sizeof(Dec21041),
    .props = dec_props,
    .needs = dec_needs,
    .slots = dec_slots,
    .state = &dec_state,
    .realize = dec_realize,
    .reset = dec_reset,
    .unrealize = dec_unrealize,
};

static bool dec_plugin_init(TessRegistry *reg, GError **err)
{
    static const TessDeviceClass *const classes[] = { &dec21041_class, NULL };
    return tess_register_classes(reg, classes, err);
}

TESS_PLUGIN_DEFINE("dec21041", "0.1.0", "LGPL-2.1-or-later",
                   "DEC 21041 Tulip Plus Ethernet controller",
                   dec_plugin_init);
