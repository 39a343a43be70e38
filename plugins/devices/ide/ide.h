/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PIIX3 IDE (82371SB function 1) and the ATA/ATAPI drives behind it:
 * private declarations shared by the controller (ide.c), the ATA command
 * set (ide-ata.c), the ATAPI packet commands (ide-atapi.c) and the bus
 * master (ide-bmdma.c).
 *
 * Registers and bits are named as in ATA/ATAPI-6 (T13 1410D) 7.x (the
 * command block and control block registers), the 82371FB/SB datasheet
 * (290550-002) 2.4-2.5 (IDETIM, BMICOM/BMISTA/BMIDTP) and MMC-2/SPC-2
 * for the packet commands.
 */
#ifndef IDE_H
#define IDE_H

#include <tessera/tessera.h>
#include <tessera/block.h>

/* ---- ATA registers (ATA/ATAPI-6 7.x) ----------------------------------- */

/* Status */
#define ST_BSY   0x80
#define ST_DRDY  0x40
#define ST_DF    0x20
#define ST_DSC   0x10            /* ATAPI: SERV */
#define ST_DRQ   0x08
#define ST_CORR  0x04
#define ST_IDX   0x02
#define ST_ERR   0x01            /* ATAPI: CHK */

/* Error */
#define ER_ICRC  0x80
#define ER_UNC   0x40
#define ER_MC    0x20
#define ER_IDNF  0x10
#define ER_MCR   0x08
#define ER_ABRT  0x04
#define ER_NM    0x02
#define ER_AMNF  0x01

/* Device register */
#define DEV_LBA  0x40
#define DEV_DEV  0x10

/* Device Control */
#define DC_HOB   0x80
#define DC_SRST  0x04
#define DC_NIEN  0x02

/* ATAPI interrupt reason, in the Sector Count register */
#define IR_COD   0x01
#define IR_IO    0x02
#define IR_REL   0x04

/* ---- commands ------------------------------------------------------------ */

#define CMD_NOP                 0x00
#define CMD_DEVICE_RESET        0x08
#define CMD_RECALIBRATE         0x10    /* 10h-1Fh */
#define CMD_READ_SECTORS        0x20
#define CMD_READ_SECTORS_NR     0x21
#define CMD_READ_SECTORS_EXT    0x24
#define CMD_READ_DMA_EXT        0x25
#define CMD_READ_NATIVE_MAX_EXT 0x27
#define CMD_READ_MULTIPLE_EXT   0x29
#define CMD_WRITE_SECTORS       0x30
#define CMD_WRITE_SECTORS_NR    0x31
#define CMD_WRITE_SECTORS_EXT   0x34
#define CMD_WRITE_DMA_EXT       0x35
#define CMD_WRITE_MULTIPLE_EXT  0x39
#define CMD_READ_VERIFY         0x40
#define CMD_READ_VERIFY_NR      0x41
#define CMD_READ_VERIFY_EXT     0x42
#define CMD_SEEK                0x70    /* 70h-7Fh */
#define CMD_EXEC_DIAGNOSTIC     0x90
#define CMD_INIT_DEV_PARAMS     0x91
#define CMD_PACKET              0xA0
#define CMD_IDENTIFY_PACKET     0xA1
#define CMD_READ_MULTIPLE       0xC4
#define CMD_WRITE_MULTIPLE      0xC5
#define CMD_SET_MULTIPLE        0xC6
#define CMD_READ_DMA            0xC8
#define CMD_READ_DMA_NR         0xC9
#define CMD_WRITE_DMA           0xCA
#define CMD_WRITE_DMA_NR        0xCB
#define CMD_STANDBY_IMMEDIATE   0xE0
#define CMD_IDLE_IMMEDIATE      0xE1
#define CMD_STANDBY             0xE2
#define CMD_IDLE                0xE3
#define CMD_CHECK_POWER_MODE    0xE5
#define CMD_SLEEP               0xE6
#define CMD_FLUSH_CACHE         0xE7
#define CMD_FLUSH_CACHE_EXT     0xEA
#define CMD_IDENTIFY            0xEC
#define CMD_SET_FEATURES        0xEF
#define CMD_READ_NATIVE_MAX     0xF8

/* ---- PIIX3 function 1 (82371SB 2.4, 2.5) -------------------------------- */

#define PIIX_IDETIM      0x40           /* primary; secondary at 42h */
#define PIIX_SIDETIM     0x44
#define IDETIM_IDE       0x8000         /* IDE Decode Enable */
#define IDETIM_WMASK     0xF3FF         /* bits 11:10 reserved */

#define PCI_COMMAND_REG  0x04
#define PCI_STATUS_REG   0x06
#define PCICMD_IOSE      0x0001
#define PCICMD_BME       0x0004
#define PCISTS_RMA       0x2000         /* received master abort */

#define BM_BMICOM        0x00
#define BM_BMISTA        0x02
#define BM_BMIDTP        0x04
#define BMICOM_SSBM      0x01           /* start/stop bus master */
#define BMICOM_RWCON     0x08           /* 1: bus master writes memory */
#define BMISTA_BMIDEA    0x01           /* active */
#define BMISTA_ERR       0x02           /* IDE DMA error */
#define BMISTA_INT       0x04           /* IDE interrupt status */
#define BMISTA_DMA0CAP   0x20
#define BMISTA_DMA1CAP   0x40
#define PRD_EOT          0x80000000u

/* ---- model ------------------------------------------------------------- */

#define IDE_SECTOR       512u
#define CD_SECTOR        2048u
#define IDE_BUF_SIZE     0x10000u       /* one DMA chunk / largest DRQ block */
#define IDE_MAX_MULT     16u            /* READ/WRITE MULTIPLE block limit */

/* Virtual-time latencies: short, fixed, so runs are deterministic. */
#define IDE_CMD_NS       5000u          /* command accepted -> first phase */
#define IDE_BLOCK_NS     2000u          /* between PIO DRQ blocks */
#define IDE_RESET_NS     20000u         /* SRST released -> signature */
#define IDE_DMA_NS       5000u          /* bus master started -> transfer */

enum { MEDIA_DISK, MEDIA_CDROM };

/* What the channel's timer does when it fires. */
enum {
    ACT_NONE,
    ACT_EXEC,            /* run the command written to the Command register */
    ACT_NEXT,            /* a PIO DRQ block was drained or filled */
    ACT_RESET,           /* SRST released: reset done, signatures */
    ACT_DMA,             /* run the bus master */
    ACT_PACKET,          /* ATAPI: the 12-byte command packet arrived */
};

/* What the data in the buffer is for (how the transfer goes on). */
enum {
    XF_NONE,
    XF_PIO_IN_LAST,      /* a single PIO-in block (IDENTIFY...) */
    XF_ATA_READ,         /* READ SECTORS/MULTIPLE/DMA */
    XF_ATA_WRITE,        /* WRITE SECTORS/MULTIPLE/DMA */
    XF_PACKET,           /* receiving an ATAPI command packet */
    XF_ATAPI_IN,         /* ATAPI data to the host */
};

typedef struct Ide Ide;
typedef struct IdeChannel IdeChannel;

/* The class "ide-drive": one <drive> of the machine file. */
typedef struct IdeDrive {
    TessDevice dev;
    uint64_t bus, unit;
    int media;
    char *model, *serial;
    bool wcache;
    TessDevice *disk[1];
    /* set by the controller */
    Ide *ide;
    struct IdeUnit *u;
} IdeDrive;

/* Per-drive state saved with the machine: a plain struct, saved whole. */
typedef struct IdeUnitRegs {
    /* task file: every write reaches both drives of a channel */
    uint8_t feature, nsector, sector, lcyl, hcyl, select;
    uint8_t hob_feature, hob_nsector, hob_sector, hob_lcyl, hob_hcyl;
    uint8_t status, error;
    uint8_t irq_pending;
    uint8_t cmd;
    uint8_t mult;              /* READ/WRITE MULTIPLE block, 0 = disabled */
    uint8_t xfer_mode;         /* SET FEATURES 03h value */
    uint8_t wcache;
    uint8_t sleeping;
    uint8_t standby;
    uint8_t lba48;             /* the running command is a 48-bit one */
    uint8_t dma;               /* the running command moves data by DMA */
    uint16_t cur_cyls, cur_heads, cur_spt;   /* current CHS translation */
    uint64_t lba;              /* next sector of the running command */
    uint32_t left;             /* sectors still to move */
    uint32_t chunk;            /* sectors in the buffer (ATA) */
    /* ATAPI */
    uint8_t sense_key, asc, ascq;
    uint8_t unit_attention;    /* a medium change not yet reported */
    uint8_t tray_open, locked, medium;
    uint8_t media_event;       /* GET EVENT STATUS media event code */
    uint8_t cdb[12];
    uint16_t byte_limit;       /* byte count limit of the running PACKET */
    uint32_t atapi_left;       /* bytes still to send for the command */
    uint32_t cd_lba, cd_left;  /* READ: next sector, sectors still to read */
} IdeUnitRegs;

typedef struct IdeUnit {
    IdeChannel *ch;
    unsigned index;            /* 0 master, 1 slave */
    IdeDrive *drive;           /* NULL: no device */
    TessDevice *disk;          /* NULL: no image (empty tray) */
    const TessBlockOps *blk;
    bool atapi;
    uint64_t sectors;          /* 512-byte sectors */
    uint16_t cyls, heads, spt; /* default CHS (IDENTIFY words 1, 3, 6) */
    bool powered;              /* past the first power-on (the tray keeps its state) */
    IdeUnitRegs r;
} IdeUnit;

typedef struct IdeChanRegs {
    uint8_t devctl;
    uint8_t action;            /* ACT_* pending on the timer */
    uint64_t deadline;
    uint8_t xfer;              /* XF_* */
    uint8_t dma_wait;          /* the drive requests DMA (DMARQ) */
    uint8_t irq_level;
    uint8_t active;            /* the unit whose command runs */
    uint32_t data_pos;         /* next byte of buf for the host */
    uint32_t data_end;         /* end of the current PIO DRQ block */
    uint32_t buf_len;          /* bytes of buf that belong to the transfer */
    uint8_t bmicom, bmista;
    uint32_t bmidtp;
    /* bus master progress through the PRD table */
    uint8_t prd_have, prd_eot;
    uint32_t prd_next, prd_buf, prd_left;
} IdeChanRegs;

struct IdeChannel {
    Ide *ide;
    unsigned index;
    uint16_t cmd_base, ctl_base;
    TessSignal **irq;
    TessTimer *timer;
    bool decoding;
    IdeUnit unit[2];
    IdeChanRegs r;
    uint8_t buf[IDE_BUF_SIZE];
};

struct Ide {
    TessDevice dev;
    /* properties */
    char *bus_id;
    uint64_t devfn;
    /* lines */
    TessSignal *irq14[1], *irq15[1];
    /* slots */
    TessDevice *drives[4];
    /* bus */
    TessDevice *bus;
    const TessPciBusOps *bus_ops;
    TessPciFunction *fn;
    bool trace;                /* --debug ide (TESS_TRACE_INIT at realize) */
    uint8_t *cfg;
    IdeChannel ch[2];
};

/* ide.c */
IdeUnit *ide_selected(IdeChannel *ch);
void ide_update_irq(IdeChannel *ch);
void ide_raise(IdeUnit *u);
void ide_arm(IdeChannel *ch, uint8_t action, uint64_t delay_ns);
void ide_cancel(IdeChannel *ch);
void ide_set_signature(IdeUnit *u);
void ide_cmd_done(IdeUnit *u, bool irq);
void ide_cmd_error(IdeUnit *u, uint8_t error);
void ide_pio_in(IdeUnit *u, uint8_t xfer, uint32_t len, uint32_t block, bool irq);
void ide_pio_out(IdeUnit *u, uint8_t xfer, uint32_t len, bool irq);
void ide_exec_diagnostic(IdeChannel *ch);
void ide_put_string(uint16_t *words, const char *s, unsigned nwords);
const char *ide_drive_model(IdeUnit *u);
const char *ide_drive_serial(IdeUnit *u, char buf[21]);
#define IDE_FIRMWARE "0.1.0"

/* Result of moving a transfer on to its next buffer of data. */
typedef enum {
    CHUNK_MORE,          /* buf holds the next data (or room for it) */
    CHUNK_END,           /* nothing left: the caller completes the command */
    CHUNK_FAIL,          /* the command failed; error status and IRQ are set */
} IdeChunk;

/* ide-ata.c */
void ata_exec(IdeUnit *u);
IdeChunk ata_next_chunk(IdeUnit *u, bool dma);
void ata_default_geometry(IdeUnit *u);
void atapi_identify(IdeUnit *u);
void ide_set_features(IdeUnit *u);
bool ide_power_command(IdeUnit *u, uint8_t cmd);

/* ide-atapi.c */
void atapi_exec(IdeUnit *u);
void atapi_packet(IdeUnit *u);
IdeChunk atapi_next_chunk(IdeUnit *u);
void atapi_pio_block(IdeUnit *u);
void atapi_dma_error(IdeUnit *u);
void atapi_reset_media(IdeUnit *u);
void atapi_set_medium(IdeUnit *u, bool present, bool tray_open);
void atapi_finish(IdeUnit *u);

/* ide-bmdma.c */
extern const TessIoOps ide_bmdma_ops;
void bm_run(IdeChannel *ch);
void bm_drive_ready(IdeChannel *ch);

#endif
