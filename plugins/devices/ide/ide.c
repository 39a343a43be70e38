/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Intel 82371SB PIIX3, function 1: the IDE controller, and its drives.
 *
 * 82371FB/SB datasheet (290550-002) 2.4 (function 1 configuration: IDETIM
 * 40h/42h, whose IDE Decode Enable bit turns each channel's legacy ports
 * on, BMIBA at 20h) and 2.5 (bus master registers). The drives follow
 * ATA/ATAPI-6 (T13 1410D): 7.x registers, 9.x protocols, 9.12 signatures.
 *
 * This file holds the controller: the PCI function, the two channels'
 * command/control block ports, register latching (a write reaches both
 * drives of a channel; a read comes from the selected one), soft reset,
 * the PIO data port, INTRQ and the channel timer that completes commands
 * in virtual time. The commands live in ide-ata.c and ide-atapi.c, the
 * bus master in ide-bmdma.c. The class "ide-drive" (one <drive>) is here
 * too: it only carries a drive's properties and its <disk> backend.
 */
#define G_LOG_DOMAIN "ide"
#include "ide.h"

#include <string.h>

static const TessDeviceClass ide_drive_class;

static inline uint16_t cfg16(const uint8_t *c, unsigned reg)
{
    return (uint16_t)(c[reg] | c[reg + 1] << 8);
}

/* ---- selection, interrupts, timer ---------------------------------------- */

IdeUnit *ide_selected(IdeChannel *ch)
{
    return &ch->unit[(ch->unit[0].r.select & DEV_DEV) ? 1 : 0];
}

/* INTRQ is driven by the selected device only, and nIEN floats it. The
 * PIIX3 latches a rising edge in BMISTA's interrupt bit (2.5.2). */
void ide_update_irq(IdeChannel *ch)
{
    IdeUnit *u = ide_selected(ch);
    bool level = u->drive && u->r.irq_pending && !(ch->r.devctl & DC_NIEN);
    if (level && !ch->r.irq_level)
        ch->r.bmista |= BMISTA_INT;
    ch->r.irq_level = level;
    tess_signal_set(ch->irq[0], level);
}

void ide_raise(IdeUnit *u)
{
    u->r.irq_pending = 1;
    ide_update_irq(u->ch);
}

void ide_arm(IdeChannel *ch, uint8_t action, uint64_t delay_ns)
{
    ch->r.action = action;
    ch->r.deadline = tess_clock_ns(ch->ide->dev.machine) + delay_ns;
    tess_timer_arm(ch->timer, ch->r.deadline);
}

void ide_cancel(IdeChannel *ch)
{
    ch->r.action = ACT_NONE;
    tess_timer_cancel(ch->timer);
}

/* ---- drive state ------------------------------------------------------------ */

/* ATA/ATAPI-6 9.12: what a device leaves in its registers after a reset
 * or EXECUTE DEVICE DIAGNOSTIC. DEV and the obsolete bits stay. */
void ide_set_signature(IdeUnit *u)
{
    u->r.nsector = u->r.hob_nsector = 1;
    u->r.sector = u->r.hob_sector = 1;
    u->r.lcyl = u->r.hob_lcyl = u->atapi ? 0x14 : 0x00;
    u->r.hcyl = u->r.hob_hcyl = u->atapi ? 0xEB : 0x00;
    u->r.select &= 0xB0;
}

static uint8_t ide_ready_status(IdeUnit *u)
{
    return u->atapi ? ST_DRDY : ST_DRDY | ST_DSC;
}

void ide_cmd_done(IdeUnit *u, bool irq)
{
    IdeChannel *ch = u->ch;
    ch->r.xfer = XF_NONE;
    ch->r.dma_wait = 0;
    ch->r.data_pos = ch->r.data_end = ch->r.buf_len = 0;
    u->r.dma = 0;
    u->r.status = ide_ready_status(u);
    if (irq)
        ide_raise(u);
}

void ide_cmd_error(IdeUnit *u, uint8_t error)
{
    TESS_TRACE(u->ch->ide->trace, "%s: channel %u unit %u: command 0x%02x aborted, error 0x%02x",
               u->ch->ide->dev.id, u->ch->index, u->index, u->r.cmd, error);
    ide_cmd_done(u, false);
    u->r.status |= ST_ERR;
    u->r.error = error;
    ide_raise(u);
}

/* Data for the host: len bytes in buf, handed out in DRQ blocks of
 * `block` bytes. The interrupt comes with each block (PIO data-in). */
void ide_pio_in(IdeUnit *u, uint8_t xfer, uint32_t len, uint32_t block, bool irq)
{
    IdeChannel *ch = u->ch;
    len = MIN(len, IDE_BUF_SIZE);
    ch->r.xfer = xfer;
    ch->r.buf_len = len;
    ch->r.data_pos = 0;
    ch->r.data_end = MIN(block, len);
    u->r.status = ide_ready_status(u) | ST_DRQ;
    if (irq)
        ide_raise(u);
}

/* The host is to write len bytes (PIO data-out). The first block of a
 * command comes without an interrupt, the following ones with one. */
void ide_pio_out(IdeUnit *u, uint8_t xfer, uint32_t len, bool irq)
{
    IdeChannel *ch = u->ch;
    len = MIN(len, IDE_BUF_SIZE);
    ch->r.xfer = xfer;
    ch->r.buf_len = len;
    ch->r.data_pos = 0;
    ch->r.data_end = len;
    u->r.status = ide_ready_status(u) | ST_DRQ;
    if (irq)
        ide_raise(u);
}

static void ide_busy(IdeUnit *u)
{
    u->r.status = (u->r.status & ~(ST_DRQ | ST_ERR)) | ST_BSY;
}

/* A DRQ block was drained (data-in) or filled (data-out). */
static void ide_block_done(IdeChannel *ch, IdeUnit *u)
{
    switch (ch->r.xfer) {
    case XF_PIO_IN_LAST:
        ide_cmd_done(u, false);
        break;
    case XF_ATA_READ:
        if (!u->r.left) {
            ide_cmd_done(u, false);
            break;
        }
        ide_busy(u);
        ide_arm(ch, ACT_NEXT, IDE_BLOCK_NS);
        break;
    case XF_ATA_WRITE:
    case XF_ATAPI_IN:
        ide_busy(u);
        ide_arm(ch, ACT_NEXT, IDE_BLOCK_NS);
        break;
    case XF_PACKET:
        ide_busy(u);
        ide_arm(ch, ACT_PACKET, IDE_BLOCK_NS);
        break;
    default:
        break;
    }
}

static void ide_next(IdeUnit *u)
{
    IdeChannel *ch = u->ch;
    switch (ch->r.xfer) {
    case XF_ATA_READ:
        switch (ata_next_chunk(u, false)) {
        case CHUNK_MORE: ide_pio_in(u, XF_ATA_READ, ch->r.buf_len, ch->r.buf_len, true); break;
        case CHUNK_END: ide_cmd_done(u, false); break;
        default: break;
        }
        break;
    case XF_ATA_WRITE:
        switch (ata_next_chunk(u, false)) {
        case CHUNK_MORE: ide_pio_out(u, XF_ATA_WRITE, ch->r.buf_len, true); break;
        case CHUNK_END: ide_cmd_done(u, true); break;
        default: break;
        }
        break;
    case XF_ATAPI_IN:
        if (ch->r.data_pos < ch->r.buf_len) {
            atapi_pio_block(u);
            break;
        }
        switch (atapi_next_chunk(u)) {
        case CHUNK_MORE: atapi_pio_block(u); break;
        case CHUNK_END: atapi_finish(u); break;
        default: break;
        }
        break;
    default:
        break;
    }
}

static void ide_timer(void *opaque)
{
    IdeChannel *ch = opaque;
    uint8_t act = ch->r.action;
    IdeUnit *u = &ch->unit[ch->r.active & 1];
    ch->r.action = ACT_NONE;
    switch (act) {
    case ACT_EXEC:
        TESS_TRACE(ch->ide->trace, "%s: channel %u unit %u: command 0x%02x feature 0x%02x "
                   "count 0x%02x LBA/CHS %02x %02x %02x select 0x%02x", ch->ide->dev.id,
                   ch->index, u->index, u->r.cmd, u->r.feature, u->r.nsector, u->r.hcyl,
                   u->r.lcyl, u->r.sector, u->r.select);
        if (u->atapi)
            atapi_exec(u);
        else
            ata_exec(u);
        break;
    case ACT_NEXT:
        ide_next(u);
        break;
    case ACT_PACKET:
        atapi_packet(u);
        break;
    case ACT_DMA:
        bm_run(ch);
        break;
    case ACT_RESET:
        for (unsigned i = 0; i < 2; i++) {
            IdeUnit *d = &ch->unit[i];
            d->r.select &= 0xA0;
            if (!d->drive)
                continue;
            ide_set_signature(d);
            d->r.error = 0x01;           /* diagnostic code: passed */
            d->r.status = d->atapi ? 0 : ST_DRDY | ST_DSC;
            d->r.irq_pending = 0;
            d->r.sleeping = 0;
        }
        ide_update_irq(ch);
        break;
    default:
        break;
    }
}

/* ---- command block -------------------------------------------------------- */

static void ide_command(IdeChannel *ch, uint8_t cmd)
{
    IdeUnit *u = ide_selected(ch);
    if (!u->drive) {
        /* ATA-6 9.16.1: with device 1 absent, device 0 ignores commands
         * for it, except EXECUTE DEVICE DIAGNOSTIC, which it runs. */
        IdeUnit *d0 = &ch->unit[u->index ^ 1];
        if (cmd != CMD_EXEC_DIAGNOSTIC || !d0->drive)
            return;
        u = d0;
    }
    if (ch->r.devctl & DC_SRST)
        return;
    bool reset = u->atapi && cmd == CMD_DEVICE_RESET;
    if ((u->r.status & ST_BSY) && !reset) {
        tess_guest_error(&ch->ide->dev, "channel %u: command %02xh while BSY ignored",
                         ch->index, cmd);
        return;
    }
    if (u->r.sleeping && !reset)
        return;                          /* only a reset wakes a sleeping device */
    /* A command ends whatever transfer was going on, also one of the
     * other drive (the host broke the protocol selecting away from it):
     * that one is left idle rather than busy for ever. */
    ide_cancel(ch);
    ch->r.xfer = XF_NONE;
    ch->r.dma_wait = 0;
    IdeUnit *o = &ch->unit[u->index ^ 1];
    if (o->drive && ch->r.active == o->index && (o->r.status & (ST_BSY | ST_DRQ))) {
        o->r.status = ide_ready_status(o);
        o->r.dma = 0;
    }
    ch->r.active = (uint8_t)u->index;
    u->r.irq_pending = 0;
    u->r.cmd = cmd;
    u->r.dma = 0;
    u->r.status = (u->r.status & ST_DRDY) | ST_BSY;
    ide_update_irq(ch);
    ide_arm(ch, ACT_EXEC, IDE_CMD_NS);
}

/* 16 bits through the data register. */
static uint16_t ide_data_in(IdeChannel *ch)
{
    IdeUnit *u = ide_selected(ch);
    if (!u->drive || u->index != ch->r.active || !(u->r.status & ST_DRQ) ||
        ch->r.xfer == XF_PACKET || ch->r.xfer == XF_ATA_WRITE || ch->r.xfer == XF_NONE ||
        u->r.dma)
        return 0xFFFF;
    uint32_t p = ch->r.data_pos, end = ch->r.data_end;
    uint16_t v = (uint16_t)((p < end ? ch->buf[p] : 0) | (p + 1 < end ? ch->buf[p + 1] << 8 : 0));
    ch->r.data_pos = p + 2;
    if (ch->r.data_pos >= end) {
        ch->r.data_pos = end;
        ide_block_done(ch, u);
    }
    return v;
}

static void ide_data_out(IdeChannel *ch, uint16_t v)
{
    IdeUnit *u = ide_selected(ch);
    if (!u->drive || u->index != ch->r.active || !(u->r.status & ST_DRQ) ||
        (ch->r.xfer != XF_PACKET && (ch->r.xfer != XF_ATA_WRITE || u->r.dma)))
        return;
    uint32_t p = ch->r.data_pos, end = ch->r.data_end;
    if (p < end)
        ch->buf[p] = (uint8_t)v;
    if (p + 1 < end)
        ch->buf[p + 1] = (uint8_t)(v >> 8);
    ch->r.data_pos = p + 2;
    if (ch->r.data_pos >= end) {
        ch->r.data_pos = end;
        ide_block_done(ch, u);
    }
}

static bool ide_io_enabled(IdeChannel *ch)
{
    return ch->ide->cfg && (cfg16(ch->ide->cfg, PCI_COMMAND_REG) & PCICMD_IOSE);
}

static uint8_t ide_reg_read(IdeChannel *ch, unsigned reg)
{
    IdeUnit *u = ide_selected(ch);
    IdeUnit *other = &ch->unit[u->index ^ 1];
    if (!u->drive && !other->drive)
        return 0xFF;                     /* nothing drives the bus */
    /* ATA-6 9.16.1: device 0 answers for an absent device 1, except
     * that Status reads 00h. */
    IdeUnitRegs *r = u->drive ? &u->r : &other->r;
    bool hob = ch->r.devctl & DC_HOB;
    switch (reg) {
    case 1: return r->error;
    case 2: return hob ? r->hob_nsector : r->nsector;
    case 3: return hob ? r->hob_sector : r->sector;
    case 4: return hob ? r->hob_lcyl : r->lcyl;
    case 5: return hob ? r->hob_hcyl : r->hcyl;
    case 6: return r->select;
    case 7:
        if (!u->drive)
            return 0;
        u->r.irq_pending = 0;
        ide_update_irq(ch);
        return u->r.status;
    default:
        return 0xFF;
    }
}

static void ide_reg_write(IdeChannel *ch, unsigned reg, uint8_t v)
{
    if (reg == 7) {
        ide_command(ch, v);
        return;
    }
    ch->r.devctl &= (uint8_t)~DC_HOB;
    for (unsigned i = 0; i < 2; i++) {
        IdeUnitRegs *r = &ch->unit[i].r;
        switch (reg) {
        case 1: r->hob_feature = r->feature; r->feature = v; break;
        case 2: r->hob_nsector = r->nsector; r->nsector = v; break;
        case 3: r->hob_sector = r->sector; r->sector = v; break;
        case 4: r->hob_lcyl = r->lcyl; r->lcyl = v; break;
        case 5: r->hob_hcyl = r->hcyl; r->hcyl = v; break;
        case 6: r->select = v; break;
        default: break;
        }
    }
    if (reg == 6)
        ide_update_irq(ch);
}

static uint64_t ide_cmd_read(void *opaque, uint64_t off, unsigned size)
{
    IdeChannel *ch = opaque;
    if (!ide_io_enabled(ch))
        return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
    if (off == 0) {
        IdeUnit *u = ide_selected(ch);
        if (!u->drive && !ch->unit[u->index ^ 1].drive)
            return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
        uint32_t v = ide_data_in(ch);
        if (size == 4)
            v |= (uint32_t)ide_data_in(ch) << 16;
        return size == 1 ? (v & 0xFF) : v;
    }
    /* An access wider than a byte off the data port is several 8-bit
     * registers, in ascending order. */
    uint64_t v = 0;
    for (unsigned i = 0; i < size && off + i < 8; i++)
        v |= (uint64_t)ide_reg_read(ch, (unsigned)off + i) << (8 * i);
    return v;
}

static void ide_cmd_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    IdeChannel *ch = opaque;
    if (!ide_io_enabled(ch))
        return;
    if (off == 0) {
        ide_data_out(ch, (uint16_t)val);
        if (size == 4)
            ide_data_out(ch, (uint16_t)(val >> 16));
        return;
    }
    for (unsigned i = 0; i < size && off + i < 8; i++)
        ide_reg_write(ch, (unsigned)off + i, (uint8_t)(val >> (8 * i)));
}

static const TessIoOps ide_cmd_ops = {
    .read = ide_cmd_read, .write = ide_cmd_write, .widths = TESS_W8 | TESS_W16 | TESS_W32,
};

/* ---- control block: Alternate Status / Device Control ----------------------- */

static uint64_t ide_ctl_read(void *opaque, uint64_t off, unsigned size)
{
    IdeChannel *ch = opaque;
    if (!ide_io_enabled(ch))
        return 0xFF;
    IdeUnit *u = ide_selected(ch);
    if (!u->drive)
        return ch->unit[u->index ^ 1].drive ? 0x00 : 0xFF;
    return u->r.status;
}

static void ide_ctl_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    IdeChannel *ch = opaque;
    if (!ide_io_enabled(ch))
        return;
    uint8_t old = ch->r.devctl, v = (uint8_t)val;
    ch->r.devctl = v;
    if (!(old & DC_SRST) && (v & DC_SRST)) {
        /* SRST: both devices drop what they do and stay busy until it
         * is released (ATA-6 9.2). */
        ide_cancel(ch);
        ch->r.xfer = XF_NONE;
        ch->r.dma_wait = 0;
        for (unsigned i = 0; i < 2; i++) {
            IdeUnit *u = &ch->unit[i];
            if (!u->drive)
                continue;
            u->r.status = ST_BSY;
            u->r.irq_pending = 0;
            u->r.dma = 0;
        }
    } else if ((old & DC_SRST) && !(v & DC_SRST)) {
        ide_arm(ch, ACT_RESET, IDE_RESET_NS);
    }
    ide_update_irq(ch);
}

static const TessIoOps ide_ctl_ops = {
    .read = ide_ctl_read, .write = ide_ctl_write, .widths = TESS_W8,
};

/* ---- legacy decode (IDETIM IDE bit) ------------------------------------------ */

static void ide_update_decode(Ide *s)
{
    for (unsigned c = 0; c < 2; c++) {
        IdeChannel *ch = &s->ch[c];
        bool want = cfg16(s->cfg, PIIX_IDETIM + 2 * c) & IDETIM_IDE;
        if (want == ch->decoding)
            continue;
        if (!want) {
            tess_pio_unmap(&s->dev, ch->cmd_base);
            tess_pio_unmap(&s->dev, ch->ctl_base);
            ch->decoding = false;
            continue;
        }
        GError *err = NULL;
        if (!tess_pio_map(&s->dev, ch->cmd_base, 8, &ide_cmd_ops, ch, &err)) {
            tess_guest_error(&s->dev, "%s channel not decoded: %s", c ? "secondary" : "primary",
                             err->message);
            g_error_free(err);
            continue;
        }
        if (!tess_pio_map(&s->dev, ch->ctl_base, 1, &ide_ctl_ops, ch, &err)) {
            tess_guest_error(&s->dev, "%s channel not decoded: %s", c ? "secondary" : "primary",
                             err->message);
            g_error_free(err);
            tess_pio_unmap(&s->dev, ch->cmd_base);
            continue;
        }
        ch->decoding = true;
    }
}

static void ide_config_write(TessDevice *dev, uint8_t reg, uint32_t val, unsigned size)
{
    Ide *s = (Ide *)dev;
    /* IDETIM bits 11:10 are reserved; past SIDETIM (44h) everything is. */
    s->cfg[PIIX_IDETIM + 1] &= IDETIM_WMASK >> 8;
    s->cfg[PIIX_IDETIM + 3] &= IDETIM_WMASK >> 8;
    for (unsigned i = 0; i < size; i++)
        if (reg + i > PIIX_SIDETIM && reg + i < 256)
            s->cfg[reg + i] = 0;
    ide_update_decode(s);
}

/* ---- drives ---------------------------------------------------------------- */

void ide_put_string(uint16_t *words, const char *s, unsigned nwords)
{
    size_t n = s ? strlen(s) : 0;
    /* ATA strings: two characters a word, the first in the high byte,
     * padded with spaces. */
    for (unsigned i = 0; i < nwords; i++) {
        uint8_t hi = 2 * i < n ? (uint8_t)s[2 * i] : ' ';
        uint8_t lo = 2 * i + 1 < n ? (uint8_t)s[2 * i + 1] : ' ';
        words[i] = (uint16_t)(hi << 8 | lo);
    }
}

const char *ide_drive_model(IdeUnit *u)
{
    if (u->drive->model && *u->drive->model)
        return u->drive->model;
    return u->atapi ? "TESSERA CD-ROM" : "TESSERA HARDDISK";
}

const char *ide_drive_serial(IdeUnit *u, char buf[21])
{
    if (u->drive->serial && *u->drive->serial)
        return u->drive->serial;
    /* Stable across runs: derived from the drive's id. */
    g_snprintf(buf, 21, "TS%08X%u%u", g_str_hash(u->drive->dev.id),
               u->ch->index, u->index);
    return buf;
}

/* Everything back to power-on defaults, except what is mechanical: a
 * CD-ROM tray stays open or closed, its disc in or out. */
static void ide_unit_power_on(IdeUnit *u)
{
    uint8_t medium = u->r.medium, tray_open = u->r.tray_open;
    memset(&u->r, 0, sizeof(u->r));
    if (!u->drive)
        return;
    ide_set_signature(u);
    u->r.error = 0x01;
    u->r.status = u->atapi ? 0 : ST_DRDY | ST_DSC;
    u->r.cur_cyls = u->cyls;
    u->r.cur_heads = u->heads;
    u->r.cur_spt = u->spt;
    u->r.wcache = u->drive->wcache;
    u->r.xfer_mode = 0x22;               /* multiword DMA mode 2 */
    if (u->atapi) {
        atapi_reset_media(u);
        if (u->powered) {
            u->r.medium = medium;
            u->r.tray_open = tray_open;
        }
    }
    u->powered = true;
}

/* EXECUTE DEVICE DIAGNOSTIC (ATA-6 8.11): both devices test themselves
 * and load their signatures; device 0 reports for both. */
void ide_exec_diagnostic(IdeChannel *ch)
{
    for (unsigned i = 0; i < 2; i++) {
        IdeUnit *d = &ch->unit[i];
        if (!d->drive)
            continue;
        ide_cmd_done(d, false);
        ide_set_signature(d);
        d->r.error = 0x01;               /* device 0 passed, device 1 passed or absent */
        d->r.status = d->atapi ? 0 : ST_DRDY | ST_DSC;
        d->r.irq_pending = 0;
    }
    ide_raise(ch->unit[0].drive ? &ch->unit[0] : &ch->unit[1]);
}

static void ide_channel_reset(IdeChannel *ch)
{
    ide_cancel(ch);
    memset(&ch->r, 0, sizeof(ch->r));    /* BMICOM, BMISTA, BMIDTP: 00h (2.5) */
    for (unsigned i = 0; i < 2; i++)
        ide_unit_power_on(&ch->unit[i]);
    ide_update_irq(ch);
}

static void ide_reset(TessDevice *dev)
{
    Ide *s = (Ide *)dev;
    memset(s->cfg + 0x40, 0, 0xC0);
    ide_update_decode(s);
    for (unsigned c = 0; c < 2; c++)
        ide_channel_reset(&s->ch[c]);
}

/* ---- control commands -------------------------------------------------------- */

static IdeUnit *ide_find_cdrom(TessMachine *m, const char *id, GError **err)
{
    TessDevice *d = tess_machine_device(m, id);
    if (d && d->cls == &ide_drive_class) {
        IdeDrive *drv = (IdeDrive *)d;
        if (drv->u && drv->u->atapi)
            return drv->u;
    } else if (d && d->cls->type && !strcmp(d->cls->type, "ide")) {
        /* The controller: fine when it has exactly one CD-ROM drive. */
        Ide *s = (Ide *)d;
        IdeUnit *found = NULL;
        unsigned n = 0;
        for (unsigned c = 0; c < 2; c++)
            for (unsigned i = 0; i < 2; i++)
                if (s->ch[c].unit[i].drive && s->ch[c].unit[i].atapi) {
                    found = &s->ch[c].unit[i];
                    n++;
                }
        if (n == 1)
            return found;
    }
    g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_NOT_FOUND,
                "'%s' is not a CD-ROM drive (give the drive's id, e.g. ide0.drive1)", id);
    return NULL;
}

static char *ide_cmd_eject(TessDevice *dev, int argc, char **argv, GError **err)
{
    if (argc != 1) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_INVALID, "usage: eject ID");
        return NULL;
    }
    IdeUnit *u = ide_find_cdrom(dev->machine, argv[0], err);
    if (!u)
        return NULL;
    if (u->r.locked) {
        /* As the button on the drive: a prevented medium stays; the
         * guest is told someone asked (GET EVENT STATUS: eject request). */
        u->r.media_event = 1;
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_FAILED,
                    "%s: the guest has locked the tray (PREVENT MEDIUM REMOVAL)",
                    u->drive->dev.id);
        return NULL;
    }
    atapi_set_medium(u, false, true);
    return g_strdup_printf("%s: ejected", u->drive->dev.id);
}

static char *ide_cmd_insert(TessDevice *dev, int argc, char **argv, GError **err)
{
    if (argc != 1) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_INVALID, "usage: insert ID");
        return NULL;
    }
    IdeUnit *u = ide_find_cdrom(dev->machine, argv[0], err);
    if (!u)
        return NULL;
    if (!u->disk) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_NOT_FOUND,
                    "%s: no image configured (<disk> in the machine file)", u->drive->dev.id);
        return NULL;
    }
    atapi_set_medium(u, true, false);
    return g_strdup_printf("%s: medium inserted", u->drive->dev.id);
}

static bool ide_add_command(TessDevice *dev, const char *name, TessControlFn fn,
                            const char *usage, GError **err)
{
    GError *e = NULL;
    if (tess_control_add_command(dev, name, fn, usage, &e))
        return true;
    /* Another controller added it; its handler serves every drive. */
    if (g_error_matches(e, TESS_CONFIG_ERROR, TESS_ERROR_DUPLICATE)) {
        g_error_free(e);
        return true;
    }
    g_propagate_error(err, e);
    return false;
}

/* ---- lifecycle -------------------------------------------------------------- */

static bool ide_setup_unit(Ide *s, IdeDrive *d, GError **err)
{
    IdeChannel *ch = &s->ch[d->bus];
    IdeUnit *u = &ch->unit[d->unit];
    if (u->drive) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_CONFLICT,
                    "%s and %s are both on bus %u unit %u", u->drive->dev.id, d->dev.id,
                    (unsigned)d->bus, (unsigned)d->unit);
        return false;
    }
    u->drive = d;
    u->atapi = d->media == MEDIA_CDROM;
    u->disk = d->disk[0];
    u->blk = u->disk ? tess_block_ops(u->disk) : NULL;
    if (u->disk && !u->blk) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "%s: its <disk> provides no block interface", d->dev.id);
        return false;
    }
    if (u->blk && u->blk->sector_size(u->disk) != IDE_SECTOR) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "%s: %u-byte sectors; an ATA drive needs 512", d->dev.id,
                    u->blk->sector_size(u->disk));
        return false;
    }
    u->sectors = u->blk ? u->blk->size(u->disk) / IDE_SECTOR : 0;
    if (!u->atapi)
        ata_default_geometry(u);
    d->ide = s;
    d->u = u;
    return true;
}

static bool ide_realize(TessDevice *dev, GError **err)
{
    Ide *s = (Ide *)dev;
    TESS_TRACE_INIT(s->trace);
    const char *bus_id = s->bus_id && *s->bus_id ? s->bus_id : NULL;

    for (unsigned c = 0; c < 2; c++) {
        IdeChannel *ch = &s->ch[c];
        ch->ide = s;
        ch->index = c;
        ch->cmd_base = c ? 0x170 : 0x1F0;
        ch->ctl_base = c ? 0x376 : 0x3F6;
        ch->irq = c ? s->irq15 : s->irq14;
        for (unsigned i = 0; i < 2; i++) {
            ch->unit[i].ch = ch;
            ch->unit[i].index = i;
        }
    }
    for (unsigned i = 0; i < G_N_ELEMENTS(s->drives); i++) {
        TessDevice *d = s->drives[i];
        if (!d)
            continue;
        if (d->cls != &ide_drive_class) {
            g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                        "%s: a <drive> must be an ide-drive, not a %s", d->id, d->cls->type);
            return false;
        }
        if (!ide_setup_unit(s, (IdeDrive *)d, err))
            return false;
    }

    TessPciFunctionInfo info = {
        .vendor_id = 0x8086, .device_id = 0x7010,
        .revision = 0x00,
        .class_code = 0x01, .subclass = 0x01, .prog_if = 0x80,   /* IDE, bus master */
        .interrupt_pin = 0,              /* legacy IRQ 14/15, not INTx# */
        .bars[4] = { .kind = TESS_PCI_BAR_IO, .size = 16, .ops = &ide_bmdma_ops, .opaque = s },
        .config_write = ide_config_write,
    };
    s->fn = tess_pci_attach(dev, bus_id, (int)s->devfn, &info, &s->bus, &s->bus_ops, err);
    if (!s->fn)
        return false;
    s->cfg = s->bus_ops->config(s->fn);

    for (unsigned c = 0; c < 2; c++)
        s->ch[c].timer = tess_timer_new(dev, ide_timer, &s->ch[c]);

    bool any_cd = false;
    for (unsigned c = 0; c < 2; c++)
        for (unsigned i = 0; i < 2; i++)
            any_cd |= s->ch[c].unit[i].drive && s->ch[c].unit[i].atapi;
    if (any_cd &&
        (!ide_add_command(dev, "eject", ide_cmd_eject,
                          "ID  open a CD-ROM drive's tray and remove its disc", err) ||
         !ide_add_command(dev, "insert", ide_cmd_insert,
                          "ID  put a CD-ROM drive's configured disc back and close the tray",
                          err))) {
        s->bus_ops->detach(s->bus, s->fn);
        s->fn = NULL;
        return false;
    }
    ide_reset(dev);
    return true;
}

static void ide_unrealize(TessDevice *dev)
{
    Ide *s = (Ide *)dev;
    for (unsigned i = 0; i < G_N_ELEMENTS(s->drives); i++)
        if (s->drives[i] && s->drives[i]->cls == &ide_drive_class)
            ((IdeDrive *)s->drives[i])->u = NULL;
    if (s->fn && s->bus_ops)
        s->bus_ops->detach(s->bus, s->fn);
    s->fn = NULL;
}

static bool ide_post_load(TessDevice *dev, uint32_t version, GError **err)
{
    Ide *s = (Ide *)dev;
    ide_update_decode(s);
    for (unsigned c = 0; c < 2; c++) {
        IdeChannel *ch = &s->ch[c];
        if (ch->r.data_pos > IDE_BUF_SIZE || ch->r.data_end > IDE_BUF_SIZE ||
            ch->r.buf_len > IDE_BUF_SIZE) {
            g_set_error(err, TESS_STATE_ERROR, TESS_ERROR_INVALID,
                        "%s: channel %u transfer state out of range", dev->id, c);
            return false;
        }
        tess_timer_cancel(ch->timer);
        if (ch->r.action != ACT_NONE)
            tess_timer_arm(ch->timer, ch->r.deadline);
        tess_signal_set(ch->irq[0], ch->r.irq_level);
    }
    return true;
}

static const char *const media_names[] = { "disk", "cdrom", NULL };

static bool drive_realize(TessDevice *dev, GError **err)
{
    IdeDrive *d = (IdeDrive *)dev;
    if (d->media == MEDIA_DISK && !d->disk[0]) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "%s: a hard disk needs an image (<disk format=\"...\" file=\"...\"/>)",
                    dev->id);
        return false;
    }
    if (d->model && strlen(d->model) > 40) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "%s: model '%s' is longer than 40 characters", dev->id, d->model);
        return false;
    }
    if (d->serial && strlen(d->serial) > 20) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "%s: serial '%s' is longer than 20 characters", dev->id, d->serial);
        return false;
    }
    return true;
}

static const TessSlotSpec drive_slots[] = {
    { .element = "disk", .type_attr = "format", .iface = TESS_IFACE_BLOCK, .max = 1,
      .offset = offsetof(IdeDrive, disk),
      .doc = "the image: <disk format=\"raw|vhd\" file=\"...\"/> (none: an empty CD-ROM tray)" },
    TESS_SLOT_END
};

static const TessPropSpec drive_props[] = {
    TESS_PROP_UINT_("bus", IdeDrive, bus, "0", 0, 1, "channel: 0 primary (1F0h, IRQ 14), 1 secondary (170h, IRQ 15)"),
    TESS_PROP_UINT_("unit", IdeDrive, unit, "0", 0, 1, "0 master (device 0), 1 slave (device 1)"),
    TESS_PROP_ENUM_("media", IdeDrive, media, "disk", media_names, "ATA hard disk or ATAPI CD-ROM"),
    TESS_PROP_STRING_("model", IdeDrive, model, NULL, "IDENTIFY model string (default: TESSERA HARDDISK / TESSERA CD-ROM)"),
    TESS_PROP_STRING_("serial", IdeDrive, serial, NULL, "IDENTIFY serial number (default: derived from the id)"),
    TESS_PROP_BOOL_("write-cache", IdeDrive, wcache, "on", "write cache enabled at power-on (off: flush after every write)"),
    TESS_PROP_END
};

static const TessDeviceClass ide_drive_class = {
    .type = "ide-drive",
    .kind = TESS_CLASS_DEVICE,
    .doc = "a drive on an IDE channel (<drive> inside an ide device)",
    .instance_size = sizeof(IdeDrive),
    .props = drive_props,
    .slots = drive_slots,
    .realize = drive_realize,
};

static const TessSlotSpec ide_slots[] = {
    { .element = "drive", .default_type = "ide-drive", .max = 4,
      .offset = offsetof(Ide, drives),
      .doc = "<drive bus=\"0|1\" unit=\"0|1\" media=\"disk|cdrom\"><disk .../></drive>" },
    TESS_SLOT_END
};

static const TessPropSpec ide_props[] = {
    TESS_PROP_STRING_("bus", Ide, bus_id, NULL, "id of the pci-bus provider (default: the only one)"),
    TESS_PROP_UINT_("devfn", Ide, devfn, "0x09", 0, 0xFF, "PCI slot << 3 | function (PIIX3: 1.1)"),
    TESS_PROP_END
};

static const TessLineSpec ide_lines[] = {
    TESS_LINE_OUT_("irq14", 1, Ide, irq14, "primary channel INTRQ (ISA IRQ 14)"),
    TESS_LINE_OUT_("irq15", 1, Ide, irq15, "secondary channel INTRQ (ISA IRQ 15)"),
    TESS_LINE_END
};

static const char *const ide_needs[] = { TESS_IFACE_PCI_BUS, TESS_IFACE_BLOCK, NULL };

#define UNIT_STATE(c, i) \
    { .name = "ch" #c ".unit" #i, .type = TESS_STATE_T_BUF, \
      .offset = offsetof(Ide, ch[c].unit[i].r), .size = sizeof(IdeUnitRegs) }
#define CHAN_STATE(c) \
    { .name = "ch" #c ".regs", .type = TESS_STATE_T_BUF, \
      .offset = offsetof(Ide, ch[c].r), .size = sizeof(IdeChanRegs) }, \
    { .name = "ch" #c ".buf", .type = TESS_STATE_T_BUF, \
      .offset = offsetof(Ide, ch[c].buf), .size = IDE_BUF_SIZE }

static const TessStateField ide_state_fields[] = {
    CHAN_STATE(0), CHAN_STATE(1),
    UNIT_STATE(0, 0), UNIT_STATE(0, 1), UNIT_STATE(1, 0), UNIT_STATE(1, 1),
    /* IDETIM (legacy decode), command register, BMIBA: kept in the
     * function's config space, which the bus owns but does not save */
    TESS_STATE_PTRBUF(Ide, cfg, 256),
    TESS_STATE_END
};

static const TessStateDesc ide_state = {
    .version = 1, .fields = ide_state_fields, .post_load = ide_post_load,
};

static const TessDeviceClass ide_class = {
    .type = "ide",
    .kind = TESS_CLASS_DEVICE,
    .doc = "Intel PIIX3 IDE controller (8086:7010): two ATA/ATAPI channels, bus-master DMA",
    .instance_size = sizeof(Ide),
    .props = ide_props,
    .lines = ide_lines,
    .needs = ide_needs,
    .slots = ide_slots,
    .state = &ide_state,
    .realize = ide_realize,
    .reset = ide_reset,
    .unrealize = ide_unrealize,
};

static bool ide_plugin_init(TessRegistry *reg, GError **err)
{
    static const TessDeviceClass *const classes[] = { &ide_drive_class, &ide_class, NULL };
    return tess_register_classes(reg, classes, err);
}

TESS_PLUGIN_DEFINE("ide", "0.1.0", "LGPL-2.1-or-later",
                   "PIIX3 IDE controller with ATA disks and ATAPI CD-ROM drives",
                   ide_plugin_init);
