/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * DEC 21041 "Tulip Plus" PCI Ethernet controller: private declarations
 * shared by the register file, SIA, serial ROM and timer (dec21041.c) and
 * the descriptor engine with its address filter (dec21041-ring.c).
 *
 * Register and bit names are those of the DEC 21041 hardware reference
 * manual, chapter 3 (CSR0-CSR15) and chapter 4 (descriptors, setup frame);
 * shared/reference/hardware.md §2 lists them.
 */
#ifndef DEC21041_H
#define DEC21041_H

#include <tessera/tessera.h>
#include <tessera/net.h>

/* ---- CSR0 bus mode ------------------------------------------------------ */
#define CSR0_SWR        (1u << 0)
#define CSR0_BAR        (1u << 1)
#define CSR0_DSL_SHIFT  2
#define CSR0_DSL_MASK   (0x1Fu << CSR0_DSL_SHIFT)
#define CSR0_BLE        (1u << 7)
#define CSR0_TAP_SHIFT  17
#define CSR0_TAP_MASK   (7u << CSR0_TAP_SHIFT)
#define CSR0_DBO        (1u << 20)
#define CSR0_WRITABLE   0x001FFFFEu     /* BAR .. DBO */
#define CSR0_RESET      0xFE000000u     /* reserved bits read as ones */

/* ---- CSR5 status / CSR7 interrupt enable -------------------------------- */
#define CSR5_TI         (1u << 0)       /* transmit interrupt */
#define CSR5_TPS        (1u << 1)       /* transmit process stopped */
#define CSR5_TU         (1u << 2)       /* transmit buffer unavailable */
#define CSR5_TJT        (1u << 3)       /* transmit jabber timeout */
#define CSR5_LNP        (1u << 4)       /* link pass */
#define CSR5_UNF        (1u << 5)       /* transmit underflow */
#define CSR5_RI         (1u << 6)       /* receive interrupt */
#define CSR5_RU         (1u << 7)       /* receive buffer unavailable */
#define CSR5_RPS        (1u << 8)       /* receive process stopped */
#define CSR5_RWT        (1u << 9)       /* receive watchdog timeout */
#define CSR5_AT         (1u << 10)      /* AUI/TP pin changed */
#define CSR5_TM         (1u << 11)      /* general-purpose timer expired */
#define CSR5_LNF        (1u << 12)      /* link fail */
#define CSR5_SE         (1u << 13)      /* system (bus) error */
#define CSR5_ER         (1u << 14)      /* early receive */
#define CSR5_AIS        (1u << 15)
#define CSR5_NIS        (1u << 16)
#define CSR5_RS_SHIFT   17
#define CSR5_RS_MASK    (7u << CSR5_RS_SHIFT)
#define CSR5_TS_SHIFT   20
#define CSR5_TS_MASK    (7u << CSR5_TS_SHIFT)
#define CSR5_EB_SHIFT   23
#define CSR5_EB_MASK    (7u << CSR5_EB_SHIFT)
#define CSR5_RESET      0xFC000000u     /* reserved bits read as ones */
#define CSR5_NIS_BITS   (CSR5_TI | CSR5_TU | CSR5_RI | CSR5_ER)
#define CSR5_AIS_BITS   (CSR5_TPS | CSR5_TJT | CSR5_LNP | CSR5_UNF | CSR5_RU | CSR5_RPS | \
                         CSR5_RWT | CSR5_AT | CSR5_TM | CSR5_LNF | CSR5_SE)
#define CSR5_INT_BITS   (CSR5_NIS_BITS | CSR5_AIS_BITS)
#define CSR7_MASK       (CSR5_INT_BITS | CSR5_AIS | CSR5_NIS)

/* Process states (RS/TS fields) */
enum {
    RS_STOPPED = 0, RS_FETCH = 1, RS_WAIT = 3, RS_SUSPENDED = 4,
};
enum {
    TS_STOPPED = 0, TS_FETCH = 1, TS_SUSPENDED = 6,
};
#define EB_MASTER_ABORT 1

/* ---- CSR6 operating mode ---------------------------------------------- */
#define CSR6_HP         (1u << 0)       /* hash/perfect filtering (read-only) */
#define CSR6_SR         (1u << 1)       /* start/stop receive */
#define CSR6_HO         (1u << 2)       /* hash only (read-only) */
#define CSR6_PB         (1u << 3)       /* pass bad frames */
#define CSR6_IF         (1u << 4)       /* inverse filtering (read-only) */
#define CSR6_SB         (1u << 5)       /* start/stop backoff counter */
#define CSR6_PR         (1u << 6)       /* promiscuous */
#define CSR6_PM         (1u << 7)       /* pass all multicast */
#define CSR6_FD         (1u << 9)       /* full duplex */
#define CSR6_OM_SHIFT   10
#define CSR6_OM_MASK    (3u << CSR6_OM_SHIFT)
#define CSR6_OM_INTERNAL 1              /* internal loopback */
#define CSR6_OM_EXTERNAL 2              /* external loopback */
#define CSR6_FC         (1u << 12)      /* force collision */
#define CSR6_ST         (1u << 13)      /* start/stop transmit */
#define CSR6_TR_MASK    (3u << 14)
#define CSR6_CA         (1u << 17)      /* capture effect */
#define CSR6_SC         (1u << 31)      /* special capture effect */
#define CSR6_FILTER_RO  (CSR6_HP | CSR6_HO | CSR6_IF)
#define CSR6_WRITABLE   (CSR6_SR | CSR6_PB | CSR6_SB | CSR6_PR | CSR6_PM | CSR6_FD | \
                         CSR6_OM_MASK | CSR6_FC | CSR6_ST | CSR6_TR_MASK | CSR6_CA | CSR6_SC)

/* ---- CSR8 missed frames ------------------------------------------------- */
#define CSR8_MFO        (1u << 16)

/* ---- CSR9 serial ROM / boot ROM ----------------------------------------- */
#define CSR9_SCS        (1u << 0)       /* serial ROM chip select */
#define CSR9_SCLK       (1u << 1)
#define CSR9_SDI        (1u << 2)       /* data to the serial ROM */
#define CSR9_SDO        (1u << 3)       /* data from the serial ROM */
#define CSR9_SR         (1u << 11)      /* serial ROM select */
#define CSR9_BR         (1u << 12)      /* boot ROM select */
#define CSR9_WR         (1u << 13)
#define CSR9_RD         (1u << 14)
#define CSR9_MOD        (1u << 15)

/* ---- CSR11 general-purpose timer ---------------------------------------- */
#define CSR11_CON       (1u << 16)
#define GPT_TICK_NS     204800u         /* one count: 204.8 us at 10 Mb/s */

/* ---- CSR12 SIA status --------------------------------------------------- */
#define CSR12_NCR       (1u << 1)       /* network connection error */
#define CSR12_LKF       (1u << 2)       /* 10BASE-T link fail */
#define CSR12_SRA       (1u << 8)       /* selected port receive activity */
#define CSR12_NRA       (1u << 9)       /* non-selected port receive activity */
#define CSR12_ANS_SHIFT 12
#define CSR12_ANS_MASK  (7u << CSR12_ANS_SHIFT)
#define CSR12_LPN       (1u << 15)
#define ANS_DISABLED    0
#define ANS_TX_DISABLE  1               /* written by software: restart */
#define ANS_COMPLETE    5

/* ---- CSR13/14/15 SIA ---------------------------------------------------- */
#define CSR13_SRL       (1u << 0)       /* 0 holds the SIA in reset */
#define CSR13_AUI       (1u << 3)       /* 1 AUI/BNC, 0 10BASE-T */
#define CSR14_ANE       (1u << 7)       /* autonegotiation enable */
#define CSR15_RWD       (1u << 4)       /* receive watchdog disable */
#define CSR15_JBD       (1u << 0)       /* jabber disable */
#define CSR15_ABM       (1u << 3)       /* AUI/BNC mode: 1 BNC */

/* ---- descriptors (chapter 4) -------------------------------------------- */
#define DES0_OWN        (1u << 31)
#define DES1_ER         (1u << 25)      /* RER / TER: end of ring */
#define DES1_CH         (1u << 24)      /* RCH / TCH: second address chains */
#define DES1_BS2(x)     (((x) >> 11) & 0x7FFu)
#define DES1_BS1(x)     ((x) & 0x7FFu)

#define RDES0_FL_SHIFT  16
#define RDES0_ES        (1u << 15)
#define RDES0_DE        (1u << 14)      /* descriptor error: frame truncated */
#define RDES0_RF        (1u << 11)
#define RDES0_MF        (1u << 10)
#define RDES0_FS        (1u << 9)
#define RDES0_LS        (1u << 8)
#define RDES0_TL        (1u << 7)
#define RDES0_FT        (1u << 5)
#define RDES0_RW        (1u << 4)

#define TDES0_ES        (1u << 15)
#define TDES0_TO        (1u << 14)      /* transmit jabber timeout */
#define TDES0_LO        (1u << 11)      /* loss of carrier */
#define TDES0_NC        (1u << 10)      /* no carrier */
/* Reserved in the HRM's TDES0, yet Linux's de2104x reads it as "last
 * segment" (its LastFrag, TDES1's LS position): de_tx frees a sent
 * frame's buffer and counts it only when it is set. The model sets it
 * in the status that closes a frame (dec_tx_poll says why). */
#define TDES0_LAST      (1u << 30)
#define TDES1_IC        (1u << 31)
#define TDES1_LS        (1u << 30)
#define TDES1_FS        (1u << 29)
#define TDES1_FT1       (1u << 28)
#define TDES1_SET       (1u << 27)
#define TDES1_AC        (1u << 26)      /* add CRC disable */
#define TDES1_DPD       (1u << 23)      /* disable padding */
#define TDES1_FT0       (1u << 22)

/* Filtering modes (TDES1 FT1:FT0 of the setup frame) */
enum { FILT_PERFECT = 0, FILT_HASH = 1, FILT_INVERSE = 2, FILT_HASH_ONLY = 3 };

#define SETUP_FRAME_LEN 192u
#define SROM_WORDS      64u             /* 93C46: 64 x 16 bits */

/* Bounds on the work one poll demand or one frame may cause, so that no
 * descriptor programming can keep the host busy: a frame spans at most
 * this many descriptors, and one transmit pass handles at most this many
 * before it yields to a zero-delay timer. */
#define DESC_PER_FRAME_MAX 128u
#define TX_PASS_MAX        256u
/* The jabber timer (transmit) and receive watchdog cut frames here. */
#define WIRE_FRAME_MAX  2560u
#define FRAME_BUF_MAX   (WIRE_FRAME_MAX + 4u)

enum { MEDIA_TP_AUTO, MEDIA_TP, MEDIA_TP_FD, MEDIA_BNC, MEDIA_AUI };

/* 93C46 Microwire state */
enum { EE_IDLE, EE_START, EE_CMD, EE_READ, EE_WDATA, EE_DONE };

typedef struct Dec21041 {
    TessDevice dev;
    /* properties */
    TessMac mac;
    char *bus_id;
    int64_t devfn;
    int media;                      /* SROM default medium */
    /* slot */
    TessDevice *net[1];

    TessNetPort *port;
    TessDevice *bus;
    const TessPciBusOps *bus_ops;
    TessPciFunction *fn;
    uint8_t *cfg;
    TessMemRegion *mmio;
    TessTimer *gpt_timer;
    TessTimer *link_timer;
    TessTimer *tx_timer;            /* continue a transmit pass / TAP polling */
    TessTimer *rx_timer;            /* re-offer a held frame while suspended */

    /* ---- saved state ---- */
    uint32_t csr[16];
    uint32_t rx_cur, tx_cur;        /* current descriptor addresses */
    uint32_t rs, ts;                /* RS / TS process states */
    uint32_t fatal;                 /* bus error latched: DMA stopped until reset */
    uint32_t irq_level;
    uint64_t gpt_deadline;          /* 0: GP timer stopped */
    uint32_t sia_link;              /* the SIA reports link pass */
    uint32_t sia_ans;               /* NWay arbitration state */
    uint32_t rx_refused;            /* the port's head frame found no descriptor */
    uint32_t filter_mode;
    uint8_t perfect[16][6];
    uint8_t hash[64];               /* 512 bits */
    uint16_t srom[SROM_WORDS];
    uint32_t ee_state, ee_bits, ee_count, ee_addr, ee_dout, ee_wen, ee_op;
    uint32_t ee_sk;
    uint32_t tx_busy;               /* the backend refused the frame at tx_cur */

    uint8_t frame[FRAME_BUF_MAX];   /* transmit assembly buffer */
    uint8_t rx_wire[TESS_NET_FRAME_MAX + 64];   /* receive: frame + pad + FCS */
} Dec21041;

/* dec21041.c */
void dec_update_irq(Dec21041 *s);
void dec_raise(Dec21041 *s, uint32_t bits);
bool dec_dma_read(Dec21041 *s, uint32_t addr, void *buf, size_t len);
bool dec_dma_write(Dec21041 *s, uint32_t addr, const void *buf, size_t len);
bool dec_wire_up(Dec21041 *s);
void dec_srom_build(Dec21041 *s);

/* dec21041-ring.c */
void dec_tx_poll(Dec21041 *s);
void dec_tx_timer(void *opaque);
bool dec_rx_frame(Dec21041 *s, const uint8_t *frame, size_t len);
bool dec_rx_accept(Dec21041 *s, const uint8_t *dst);
uint32_t dec_crc32_le(const uint8_t *p, size_t len);
uint32_t dec_next_desc(Dec21041 *s, uint32_t cur, uint32_t des1, uint32_t des3, uint32_t base);

#endif
