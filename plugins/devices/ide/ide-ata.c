/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ATA command set of a hard disk (ATA/ATAPI-6, T13 1410D, 8.x):
 * IDENTIFY DEVICE, PIO/multiple/DMA reads and writes (28- and 48-bit),
 * READ VERIFY, FLUSH CACHE, SET FEATURES, INITIALIZE DEVICE PARAMETERS,
 * SET MULTIPLE MODE and the power commands. Everything else aborts.
 */
#define G_LOG_DOMAIN "ide"
#include "ide.h"

#include <string.h>

#define ATA_MAX_CHS_SECTORS 16514064u    /* 16383 * 16 * 63 */

enum { RW_PIO, RW_MULTIPLE, RW_DMA };

/* Words 1, 3 and 6: the geometry the image records when an ATA drive can
 * report it (a VHD keeps the CHS its creator's BIOS saw), else the
 * standard translation of 16 heads and 63 sectors per track. */
void ata_default_geometry(IdeUnit *u)
{
    TessBlockGeometry g;
    uint64_t total = u->sectors;
    if (u->blk->geometry && u->blk->geometry(u->disk, &g) && g.heads >= 1 && g.heads <= 16 &&
        g.sectors >= 1 && g.sectors <= 63 && g.cylinders >= 1 && g.cylinders <= 65535) {
        u->cyls = (uint16_t)g.cylinders;
        u->heads = (uint16_t)g.heads;
        u->spt = (uint16_t)g.sectors;
    } else {
        u->heads = 16;
        u->spt = 63;
        u->cyls = (uint16_t)MIN(total / (16 * 63), 65535);
    }
    /* ATA-6 6.2.1: beyond 16,514,064 sectors, word 1 says 16383. */
    if (total > ATA_MAX_CHS_SECTORS || u->cyls > 16383)
        u->cyls = (uint16_t)MIN(u->cyls, 16383);
    if (!u->cyls)
        u->cyls = 1;
}

static void put_words(uint8_t *buf, const uint16_t *w)
{
    for (unsigned i = 0; i < 256; i++) {
        buf[2 * i] = (uint8_t)w[i];
        buf[2 * i + 1] = (uint8_t)(w[i] >> 8);
    }
    /* Word 255: signature A5h and a checksum making the 512 bytes sum to 0. */
    uint8_t sum = 0xA5;
    for (unsigned i = 0; i < 510; i++)
        sum = (uint8_t)(sum + buf[i]);
    buf[510] = 0xA5;
    buf[511] = (uint8_t)-sum;
}

/* The selected transfer modes: word 63 bits 10:8 (multiword DMA), word
 * 88 bits 13:8 (Ultra DMA). */
static void ide_dma_mode_words(IdeUnit *u, uint16_t *w)
{
    uint8_t m = u->r.xfer_mode;
    w[63] = 0x0007;
    w[88] = 0x003F;
    if ((m & 0xF8) == 0x20)
        w[63] |= (uint16_t)(0x100 << (m & 7));
    else if ((m & 0xF8) == 0x40)
        w[88] |= (uint16_t)(0x100 << (m & 7));
}

static void ide_common_identify(IdeUnit *u, uint16_t *w)
{
    char sbuf[21];
    ide_put_string(&w[10], ide_drive_serial(u, sbuf), 10);
    ide_put_string(&w[23], IDE_FIRMWARE, 4);
    ide_put_string(&w[27], ide_drive_model(u), 20);
    w[53] = 0x0007;                      /* words 54-58, 64-70 and 88 valid */
    w[64] = 0x0003;                      /* PIO modes 3 and 4 */
    w[65] = w[66] = w[67] = w[68] = 120; /* ns: MWDMA2 / PIO4 cycle times */
    w[80] = 0x007E;                      /* ATA/ATAPI-1 .. -6 */
    /* Hardware reset result: the device number's "set to one" bit. */
    w[93] = (uint16_t)(0x4000 | (u->index ? 0x0100 : 0x0001));
    ide_dma_mode_words(u, w);
}

static void ata_identify(IdeUnit *u, uint8_t *buf)
{
    uint16_t w[256] = { 0 };
    IdeUnitRegs *r = &u->r;
    uint64_t total = u->sectors;
    uint32_t lba28 = (uint32_t)MIN(total, 0x0FFFFFFFu);
    uint32_t cur = (uint32_t)r->cur_cyls * r->cur_heads * r->cur_spt;

    ide_common_identify(u, w);
    w[0] = 0x0040;                       /* fixed, not removable */
    w[1] = u->cyls;
    w[3] = u->heads;
    w[4] = (uint16_t)(IDE_SECTOR * u->spt); /* obsolete: bytes per track */
    w[5] = IDE_SECTOR;                   /* obsolete: bytes per sector */
    w[6] = u->spt;
    w[20] = 3;                           /* obsolete: buffer type */
    w[21] = 512;                         /* obsolete: buffer size, sectors */
    w[22] = 4;                           /* obsolete: ECC bytes */
    w[47] = 0x8000 | IDE_MAX_MULT;
    w[49] = 0x0F00;                      /* IORDY, IORDY disable, LBA, DMA */
    w[50] = 0x4000;
    w[51] = w[52] = 0x0200;              /* obsolete: PIO/DMA timing mode 2 */
    w[54] = r->cur_cyls;
    w[55] = r->cur_heads;
    w[56] = r->cur_spt;
    w[57] = (uint16_t)cur;
    w[58] = (uint16_t)(cur >> 16);
    w[59] = (uint16_t)(0x0100 | r->mult);
    w[60] = (uint16_t)lba28;
    w[61] = (uint16_t)(lba28 >> 16);
    w[82] = 0x4028;                      /* NOP, write cache, power management */
    w[83] = 0x7400;                      /* FLUSH CACHE EXT, FLUSH CACHE, 48-bit */
    w[84] = 0x4000;
    w[85] = (uint16_t)(0x4008 | (r->wcache ? 0x0020 : 0));
    w[86] = 0x3400;
    w[87] = 0x4000;
    w[100] = (uint16_t)total;
    w[101] = (uint16_t)(total >> 16);
    w[102] = (uint16_t)(total >> 32);
    w[103] = (uint16_t)(total >> 48);
    put_words(buf, w);
}

static void atapi_identify_words(IdeUnit *u, uint8_t *buf)
{
    uint16_t w[256] = { 0 };
    ide_common_identify(u, w);
    /* ATAPI, CD-ROM (type 5), removable, DRQ within 50 us, 12-byte packets. */
    w[0] = 0x85C0;
    w[49] = 0x0B00;                      /* IORDY, LBA, DMA */
    w[71] = 30;                          /* typical release / service times */
    w[72] = 30;
    w[82] = 0x4218;                      /* NOP, DEVICE RESET, PACKET, power mgmt */
    w[83] = 0x4000;
    w[84] = 0x4000;
    w[85] = 0x4218;
    w[86] = 0x0000;
    w[87] = 0x4000;
    put_words(buf, w);
}

/* IDENTIFY PACKET DEVICE (ide-atapi.c calls it). */
void atapi_identify(IdeUnit *u)
{
    atapi_identify_words(u, u->ch->buf);
    ide_pio_in(u, XF_PIO_IN_LAST, 512, 512, true);
}

/* ---- addressing -------------------------------------------------------------- */

static bool ata_decode(IdeUnit *u, bool lba48, uint64_t *lba, uint32_t *count)
{
    IdeUnitRegs *r = &u->r;
    if (lba48) {
        *count = (uint32_t)(r->hob_nsector << 8 | r->nsector);
        if (!*count)
            *count = 65536;
        *lba = (uint64_t)r->hob_hcyl << 40 | (uint64_t)r->hob_lcyl << 32 |
               (uint64_t)r->hob_sector << 24 | (uint64_t)r->hcyl << 16 |
               (uint64_t)r->lcyl << 8 | r->sector;
        return true;
    }
    *count = r->nsector ? r->nsector : 256;
    if (r->select & DEV_LBA) {
        *lba = (uint64_t)(r->select & 0x0F) << 24 | (uint64_t)r->hcyl << 16 |
               (uint64_t)r->lcyl << 8 | r->sector;
        return true;
    }
    /* CHS through the current translation (INITIALIZE DEVICE PARAMETERS). */
    unsigned cyl = (unsigned)(r->hcyl << 8 | r->lcyl), head = r->select & 0x0F;
    if (!r->sector || r->sector > r->cur_spt || head >= r->cur_heads)
        return false;
    *lba = ((uint64_t)cyl * r->cur_heads + head) * r->cur_spt + r->sector - 1;
    return true;
}

/* Leave `lba` in the registers the way the command addressed (the
 * failing sector after an error, the last one moved otherwise), and the
 * sectors still to go in the count. */
static void ata_set_addr(IdeUnit *u, uint64_t lba)
{
    IdeUnitRegs *r = &u->r;
    if (r->lba48) {
        r->sector = (uint8_t)lba;
        r->lcyl = (uint8_t)(lba >> 8);
        r->hcyl = (uint8_t)(lba >> 16);
        r->hob_sector = (uint8_t)(lba >> 24);
        r->hob_lcyl = (uint8_t)(lba >> 32);
        r->hob_hcyl = (uint8_t)(lba >> 40);
        r->nsector = (uint8_t)r->left;
        r->hob_nsector = (uint8_t)(r->left >> 8);
    } else if (r->select & DEV_LBA) {
        r->sector = (uint8_t)lba;
        r->lcyl = (uint8_t)(lba >> 8);
        r->hcyl = (uint8_t)(lba >> 16);
        r->select = (uint8_t)((r->select & 0xF0) | ((lba >> 24) & 0x0F));
        r->nsector = (uint8_t)r->left;
    } else if (r->cur_heads && r->cur_spt) {
        uint64_t track = lba / r->cur_spt;
        uint64_t cyl = track / r->cur_heads;
        r->sector = (uint8_t)(lba % r->cur_spt + 1);
        r->select = (uint8_t)((r->select & 0xF0) | (track % r->cur_heads));
        r->lcyl = (uint8_t)cyl;
        r->hcyl = (uint8_t)(cyl >> 8);
        r->nsector = (uint8_t)r->left;
    }
}

static void ata_fail(IdeUnit *u, uint64_t lba, uint8_t error)
{
    ata_set_addr(u, lba);
    ide_cmd_error(u, error);
}

/* Move n sectors between the backend and the channel buffer. Backend
 * errors become what a disk reports: an address past the end is IDNF, a
 * failed read UNC, a failed (or refused) write ABRT. */
static bool ata_io(IdeUnit *u, bool write, uint64_t lba, uint32_t n)
{
    GError *e = NULL;
    uint8_t *buf = u->ch->buf;
    bool ok = write ? u->blk->write(u->disk, lba * IDE_SECTOR, buf, (size_t)n * IDE_SECTOR, &e)
                    : u->blk->read(u->disk, lba * IDE_SECTOR, buf, (size_t)n * IDE_SECTOR, &e);
    if (ok)
        return true;
    uint8_t er = e->code == TESS_ERROR_BOUNDS ? ER_IDNF : write ? ER_ABRT : ER_UNC;
    g_debug("%s: %s of %u sectors at %" G_GUINT64_FORMAT " failed: %s", u->drive->dev.id,
            write ? "write" : "read", n, lba, e->message);
    g_error_free(e);
    ata_fail(u, lba, er);
    return false;
}

/* Read up to *n sectors; when a multi-sector read fails, find the first
 * bad sector the way a drive would, one sector at a time: the good ones
 * before it are delivered (*n cut to them), the next chunk starts at the
 * bad one and reports its address. */
static bool ata_read_chunk(IdeUnit *u, uint64_t lba, uint32_t *n)
{
    GError *e = NULL;
    uint8_t *buf = u->ch->buf;
    if (*n == 1)
        return ata_io(u, false, lba, 1);
    if (u->blk->read(u->disk, lba * IDE_SECTOR, buf, (size_t)*n * IDE_SECTOR, &e))
        return true;
    bool bounds = e->code == TESS_ERROR_BOUNDS;
    g_error_free(e);
    if (bounds)
        return ata_io(u, false, lba, *n);
    for (uint32_t i = 0; i < *n; i++) {
        if (!u->blk->read(u->disk, (lba + i) * IDE_SECTOR, buf + (size_t)i * IDE_SECTOR,
                          IDE_SECTOR, NULL)) {
            if (!i)
                return ata_io(u, false, lba, 1);
            *n = i;
            return true;
        }
    }
    return true;
}

static bool ata_flush(IdeUnit *u)
{
    GError *e = NULL;
    if (!u->blk->flush || u->blk->flush(u->disk, &e))
        return true;
    g_debug("%s: flush failed: %s", u->drive->dev.id, e->message);
    g_error_free(e);
    ide_cmd_error(u, ER_ABRT);
    return false;
}

static bool ata_is_multiple(uint8_t cmd)
{
    return cmd == CMD_READ_MULTIPLE || cmd == CMD_WRITE_MULTIPLE ||
           cmd == CMD_READ_MULTIPLE_EXT || cmd == CMD_WRITE_MULTIPLE_EXT;
}

/* Commit the data the host wrote (writes), then make the buffer hold the
 * next piece of the transfer: a DRQ block for PIO (one sector, or the
 * multiple count), up to the whole buffer for DMA. */
IdeChunk ata_next_chunk(IdeUnit *u, bool dma)
{
    IdeChannel *ch = u->ch;
    IdeUnitRegs *r = &u->r;
    bool write = ch->r.xfer == XF_ATA_WRITE;

    if (write && r->chunk) {
        if (!ata_io(u, true, r->lba, r->chunk))
            return CHUNK_FAIL;
        r->lba += r->chunk;
        r->left -= r->chunk;
        r->chunk = 0;
        ata_set_addr(u, r->lba - 1);
        if (!r->wcache && !ata_flush(u))
            return CHUNK_FAIL;
    }
    if (!r->left)
        return CHUNK_END;
    if (r->lba >= u->sectors) {
        ata_fail(u, r->lba, ER_IDNF);
        return CHUNK_FAIL;
    }
    uint32_t n = dma ? IDE_BUF_SIZE / IDE_SECTOR : ata_is_multiple(r->cmd) ? r->mult : 1;
    n = (uint32_t)MIN((uint64_t)MIN(n, r->left), u->sectors - r->lba);
    if (!write) {
        if (!ata_read_chunk(u, r->lba, &n))
            return CHUNK_FAIL;
        r->lba += n;
        r->left -= n;
        ata_set_addr(u, r->lba - 1);
    } else {
        r->chunk = n;
    }
    ch->r.buf_len = ch->r.data_end = n * IDE_SECTOR;
    ch->r.data_pos = 0;
    return CHUNK_MORE;
}

static void ata_rw(IdeUnit *u, bool write, bool lba48, int how)
{
    IdeChannel *ch = u->ch;
    IdeUnitRegs *r = &u->r;
    uint64_t lba;
    uint32_t count;

    if (how == RW_MULTIPLE && !r->mult) {
        ide_cmd_error(u, ER_ABRT);       /* SET MULTIPLE MODE first */
        return;
    }
    r->lba48 = lba48;
    r->standby = 0;
    if (!ata_decode(u, lba48, &lba, &count)) {
        ide_cmd_error(u, ER_IDNF);
        return;
    }
    r->lba = lba;
    r->left = count;
    r->chunk = 0;
    if (lba >= u->sectors) {
        ata_fail(u, lba, ER_IDNF);
        return;
    }
    ch->r.xfer = write ? XF_ATA_WRITE : XF_ATA_READ;
    if (how == RW_DMA) {
        r->dma = 1;
        ch->r.buf_len = ch->r.data_pos = ch->r.data_end = 0;
        u->r.status = ST_DRDY | ST_DSC | ST_DRQ;
        bm_drive_ready(ch);
        return;
    }
    switch (ata_next_chunk(u, false)) {
    case CHUNK_MORE:
        if (write)
            ide_pio_out(u, XF_ATA_WRITE, ch->r.buf_len, false);
        else
            ide_pio_in(u, XF_ATA_READ, ch->r.buf_len, ch->r.buf_len, true);
        break;
    case CHUNK_END:
        ide_cmd_done(u, true);
        break;
    default:
        break;
    }
}

static void ata_verify(IdeUnit *u, bool lba48)
{
    uint64_t lba;
    uint32_t count;
    u->r.lba48 = lba48;
    u->r.left = 0;
    u->r.standby = 0;
    if (!ata_decode(u, lba48, &lba, &count)) {
        ide_cmd_error(u, ER_IDNF);
        return;
    }
    if (lba + count > u->sectors) {
        ata_fail(u, MAX(lba, u->sectors), ER_IDNF);
        return;
    }
    ata_set_addr(u, lba + count - 1);
    ide_cmd_done(u, true);
}

/* SET FEATURES, shared with packet devices (ATA-6 8.37). */
void ide_set_features(IdeUnit *u)
{
    IdeUnitRegs *r = &u->r;
    uint8_t m = r->nsector;
    switch (r->feature) {
    case 0x03:                           /* set transfer mode */
        if (m <= 0x01 || (m >= 0x08 && m <= 0x0C))
            break;                       /* PIO default / PIO mode 0-4 */
        if ((m >= 0x20 && m <= 0x22) || (m >= 0x40 && m <= 0x45)) {
            r->xfer_mode = m;            /* multiword DMA 0-2, Ultra DMA 0-5 */
            break;
        }
        ide_cmd_error(u, ER_ABRT);
        return;
    case 0x02:                           /* enable write cache */
        if (u->atapi)
            goto abort;
        r->wcache = 1;
        break;
    case 0x82:                           /* disable write cache: flush it */
        if (u->atapi)
            goto abort;
        if (r->wcache && !ata_flush(u))
            return;
        r->wcache = 0;
        break;
    case 0x55: case 0xAA:                /* read look-ahead off / on */
    case 0x66: case 0xCC:                /* keep / revert to power-on defaults */
        break;
    default:
        goto abort;
    }
    ide_cmd_done(u, true);
    return;
abort:
    ide_cmd_error(u, ER_ABRT);
}

/* Power commands, shared with packet devices. Returns false if cmd is
 * not one. */
bool ide_power_command(IdeUnit *u, uint8_t cmd)
{
    IdeUnitRegs *r = &u->r;
    switch (cmd) {
    case CMD_STANDBY_IMMEDIATE: case 0x94:
    case CMD_STANDBY: case 0x96:
        r->standby = 1;
        break;
    case CMD_IDLE_IMMEDIATE: case 0x95:
    case CMD_IDLE: case 0x97:
        r->standby = 0;
        break;
    case CMD_CHECK_POWER_MODE: case 0x98:
        r->nsector = r->standby ? 0x00 : 0xFF;
        break;
    case CMD_SLEEP: case 0x99:
        ide_cmd_done(u, true);
        r->sleeping = 1;
        return true;
    default:
        return false;
    }
    ide_cmd_done(u, true);
    return true;
}

void ata_exec(IdeUnit *u)
{
    IdeUnitRegs *r = &u->r;
    uint8_t cmd = r->cmd;

    if ((cmd & 0xF0) == CMD_RECALIBRATE || (cmd & 0xF0) == CMD_SEEK) {
        ide_cmd_done(u, true);
        return;
    }
    if (ide_power_command(u, cmd))
        return;
    switch (cmd) {
    case CMD_IDENTIFY:
        ata_identify(u, u->ch->buf);
        ide_pio_in(u, XF_PIO_IN_LAST, 512, 512, true);
        break;
    case CMD_READ_SECTORS: case CMD_READ_SECTORS_NR:
        ata_rw(u, false, false, RW_PIO);
        break;
    case CMD_READ_SECTORS_EXT:
        ata_rw(u, false, true, RW_PIO);
        break;
    case CMD_WRITE_SECTORS: case CMD_WRITE_SECTORS_NR:
        ata_rw(u, true, false, RW_PIO);
        break;
    case CMD_WRITE_SECTORS_EXT:
        ata_rw(u, true, true, RW_PIO);
        break;
    case CMD_READ_MULTIPLE:
        ata_rw(u, false, false, RW_MULTIPLE);
        break;
    case CMD_READ_MULTIPLE_EXT:
        ata_rw(u, false, true, RW_MULTIPLE);
        break;
    case CMD_WRITE_MULTIPLE:
        ata_rw(u, true, false, RW_MULTIPLE);
        break;
    case CMD_WRITE_MULTIPLE_EXT:
        ata_rw(u, true, true, RW_MULTIPLE);
        break;
    case CMD_READ_DMA: case CMD_READ_DMA_NR:
        ata_rw(u, false, false, RW_DMA);
        break;
    case CMD_READ_DMA_EXT:
        ata_rw(u, false, true, RW_DMA);
        break;
    case CMD_WRITE_DMA: case CMD_WRITE_DMA_NR:
        ata_rw(u, true, false, RW_DMA);
        break;
    case CMD_WRITE_DMA_EXT:
        ata_rw(u, true, true, RW_DMA);
        break;
    case CMD_READ_VERIFY: case CMD_READ_VERIFY_NR:
        ata_verify(u, false);
        break;
    case CMD_READ_VERIFY_EXT:
        ata_verify(u, true);
        break;
    case CMD_FLUSH_CACHE: case CMD_FLUSH_CACHE_EXT:
        if (ata_flush(u))
            ide_cmd_done(u, true);
        break;
    case CMD_SET_FEATURES:
        ide_set_features(u);
        break;
    case CMD_SET_MULTIPLE:
        if (r->nsector > IDE_MAX_MULT || (r->nsector & (r->nsector - 1))) {
            ide_cmd_error(u, ER_ABRT);
            break;
        }
        r->mult = r->nsector;            /* 0 disables READ/WRITE MULTIPLE */
        ide_cmd_done(u, true);
        break;
    case CMD_INIT_DEV_PARAMS: {
        unsigned heads = (r->select & 0x0F) + 1u, spt = r->nsector;
        if (!spt) {
            ide_cmd_error(u, ER_ABRT);
            break;
        }
        r->cur_heads = (uint16_t)heads;
        r->cur_spt = (uint16_t)spt;
        r->cur_cyls = (uint16_t)MIN(u->sectors / (heads * spt), 65535);
        ide_cmd_done(u, true);
        break;
    }
    case CMD_EXEC_DIAGNOSTIC:
        ide_exec_diagnostic(u->ch);
        break;
    default:
        /* NOP, DEVICE RESET, PACKET, IDENTIFY PACKET DEVICE and anything
         * unknown: aborted (NOP always is, by definition). */
        ide_cmd_error(u, ER_ABRT);
        break;
    }
}
