/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An ATAPI CD-ROM drive: the ATA commands a packet device takes
 * (ATA/ATAPI-6 8.x, the PACKET protocol of 9.8-9.9) and the MMC-2 packet
 * commands a BIOS, DOS, Windows and Linux use. Sense data follows SPC-2
 * (fixed format); a data track of 2048-byte sectors, the backend's bytes
 * at lba * 2048.
 */
#define G_LOG_DOMAIN "ide"
#include "ide.h"

#include <string.h>

/* Sense keys and additional sense codes (SPC-2 / MMC-2) */
#define SK_NO_SENSE        0x00
#define SK_NOT_READY       0x02
#define SK_MEDIUM_ERROR    0x03
#define SK_ILLEGAL_REQUEST 0x05
#define SK_UNIT_ATTENTION  0x06
#define SK_ABORTED_COMMAND 0x0B

#define ASC_UNRECOVERED_READ  0x11
#define ASC_INVALID_OPCODE    0x20
#define ASC_LBA_OUT_OF_RANGE  0x21
#define ASC_INVALID_FIELD     0x24
#define ASC_MEDIUM_CHANGED    0x28
#define ASC_SAVING_PARAMS     0x39
#define ASC_MEDIUM_NOT_PRESENT 0x3A
#define ASC_REMOVAL_PREVENTED 0x53

/* Operation codes */
#define GPCMD_TEST_UNIT_READY   0x00
#define GPCMD_REQUEST_SENSE     0x03
#define GPCMD_INQUIRY           0x12
#define GPCMD_START_STOP_UNIT   0x1B
#define GPCMD_PREVENT_ALLOW     0x1E
#define GPCMD_READ_CAPACITY     0x25
#define GPCMD_READ_10           0x28
#define GPCMD_SEEK_10           0x2B
#define GPCMD_READ_TOC          0x43
#define GPCMD_GET_CONFIGURATION 0x46
#define GPCMD_GET_EVENT_STATUS  0x4A
#define GPCMD_READ_DISC_INFO    0x51
#define GPCMD_MODE_SENSE_10     0x5A
#define GPCMD_READ_12           0xA8
#define GPCMD_SET_CD_SPEED      0xBB
#define GPCMD_MECHANISM_STATUS  0xBD
#define GPCMD_READ_CD           0xBE

/* GET EVENT STATUS NOTIFICATION media event codes */
#define MEC_NO_CHANGE     0
#define MEC_EJECT_REQUEST 1
#define MEC_NEW_MEDIA     2
#define MEC_MEDIA_REMOVAL 3

#define CD_BUF_SECTORS (IDE_BUF_SIZE / CD_SECTOR)
#define CD_READ_SPEED  5632u             /* KB/s: 32x */

static inline uint32_t be16(const uint8_t *p) { return (uint32_t)(p[0] << 8 | p[1]); }
static inline uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void st16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void st32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static uint32_t cd_capacity(IdeUnit *u)
{
    return (uint32_t)MIN(u->sectors / (CD_SECTOR / IDE_SECTOR), 0xFFFFFFFFu);
}

static void set_reason(IdeUnit *u, uint8_t reason)
{
    u->r.nsector = (uint8_t)((u->r.nsector & ~(IR_COD | IR_IO | IR_REL)) | reason);
}

/* ---- completion ------------------------------------------------------------ */

void atapi_finish(IdeUnit *u)
{
    ide_cmd_done(u, false);
    u->r.sense_key = SK_NO_SENSE;
    u->r.asc = u->r.ascq = 0;
    u->r.error = 0;
    set_reason(u, IR_IO | IR_COD);
    ide_raise(u);
}

/* CHECK CONDITION: CHK in Status, the sense key in Error bits 7:4. */
static void atapi_error(IdeUnit *u, uint8_t key, uint8_t asc, uint8_t ascq)
{
    ide_cmd_done(u, false);
    u->r.sense_key = key;
    u->r.asc = asc;
    u->r.ascq = ascq;
    u->r.status = ST_DRDY | ST_ERR;
    u->r.error = (uint8_t)(key << 4 | (key == SK_ILLEGAL_REQUEST ? ER_ABRT : 0));
    set_reason(u, IR_IO | IR_COD);
    ide_raise(u);
}

void atapi_dma_error(IdeUnit *u)
{
    atapi_error(u, SK_ABORTED_COMMAND, 0x00, 0x00);
}

static bool atapi_ready(IdeUnit *u)
{
    if (u->r.medium)
        return true;
    atapi_error(u, SK_NOT_READY, ASC_MEDIUM_NOT_PRESENT, u->r.tray_open ? 0x02 : 0x01);
    return false;
}

/* ---- data to the host --------------------------------------------------------- */

/* Hand out the next DRQ block: at most the byte count limit the host
 * gave, even unless it is the last (ATA-6 9.8). */
void atapi_pio_block(IdeUnit *u)
{
    IdeChannel *ch = u->ch;
    uint32_t avail = ch->r.buf_len - ch->r.data_pos;
    uint32_t blk = MIN(avail, u->r.byte_limit);
    if ((ch->r.data_pos + blk < ch->r.buf_len || u->r.cd_left) && (blk & 1))
        blk--;
    ch->r.xfer = XF_ATAPI_IN;
    ch->r.data_end = ch->r.data_pos + blk;
    u->r.lcyl = (uint8_t)blk;
    u->r.hcyl = (uint8_t)(blk >> 8);
    set_reason(u, IR_IO);
    u->r.status = ST_DRDY | ST_DRQ;
    ide_raise(u);
}

/* Start the data phase: len bytes are in buf (a reply), or cd_left
 * sectors are to be read from cd_lba. */
static void atapi_send(IdeUnit *u, uint32_t len)
{
    IdeChannel *ch = u->ch;
    ch->r.xfer = XF_ATAPI_IN;
    ch->r.buf_len = MIN(len, IDE_BUF_SIZE);
    ch->r.data_pos = 0;
    if (!ch->r.buf_len && !u->r.cd_left) {
        atapi_finish(u);
        return;
    }
    if (u->r.dma) {
        u->r.status = ST_DRDY | ST_DRQ;
        bm_drive_ready(ch);
        return;
    }
    if (!ch->r.buf_len) {
        switch (atapi_next_chunk(u)) {
        case CHUNK_MORE: break;
        case CHUNK_END: atapi_finish(u); return;
        default: return;
        }
    }
    atapi_pio_block(u);
}

static void atapi_reply(IdeUnit *u, uint32_t len, uint32_t alloc)
{
    u->r.cd_left = 0;
    atapi_send(u, MIN(len, alloc));
}

/* Refill the buffer with the next sectors of a READ. */
IdeChunk atapi_next_chunk(IdeUnit *u)
{
    IdeChannel *ch = u->ch;
    IdeUnitRegs *r = &u->r;
    if (!r->cd_left)
        return CHUNK_END;
    if (!r->medium) {                    /* ejected under the transfer */
        atapi_error(u, SK_NOT_READY, ASC_MEDIUM_NOT_PRESENT, r->tray_open ? 0x02 : 0x01);
        return CHUNK_FAIL;
    }
    uint32_t n = MIN(r->cd_left, CD_BUF_SECTORS);
    GError *e = NULL;
    if (!u->blk->read(u->disk, (uint64_t)r->cd_lba * CD_SECTOR, ch->buf,
                      (size_t)n * CD_SECTOR, &e)) {
        g_debug("%s: read of %u sectors at %u failed: %s", u->drive->dev.id, n, r->cd_lba,
                e->message);
        bool bounds = e->code == TESS_ERROR_BOUNDS;
        g_error_free(e);
        if (bounds)
            atapi_error(u, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
        else
            atapi_error(u, SK_MEDIUM_ERROR, ASC_UNRECOVERED_READ, 0);
        return CHUNK_FAIL;
    }
    r->cd_lba += n;
    r->cd_left -= n;
    ch->r.buf_len = n * CD_SECTOR;
    ch->r.data_pos = 0;
    return CHUNK_MORE;
}

/* ---- media --------------------------------------------------------------- */

void atapi_reset_media(IdeUnit *u)
{
    u->r.medium = u->disk != NULL;
    u->r.tray_open = 0;
    u->r.locked = 0;
    u->r.unit_attention = 0;
    u->r.media_event = MEC_NO_CHANGE;
    u->r.sense_key = SK_NO_SENSE;
}

void atapi_set_medium(IdeUnit *u, bool present, bool tray_open)
{
    bool was = u->r.medium;
    u->r.tray_open = tray_open;
    u->r.medium = present && u->disk;
    if (u->r.medium && !was) {
        u->r.unit_attention = 1;         /* NOT READY TO READY CHANGE */
        u->r.media_event = MEC_NEW_MEDIA;
    } else if (!u->r.medium && was) {
        u->r.media_event = MEC_MEDIA_REMOVAL;
    }
}

/* ---- packet commands ---------------------------------------------------------- */

static void lba_to_msf(uint8_t *p, uint32_t lba)
{
    lba += 150;                          /* the 2-second pregap */
    p[0] = (uint8_t)(lba / (75 * 60));
    p[1] = (uint8_t)((lba / 75) % 60);
    p[2] = (uint8_t)(lba % 75);
}

static void toc_addr(uint8_t *p, uint32_t lba, bool msf)
{
    if (msf) {
        p[0] = 0;
        lba_to_msf(p + 1, lba);
    } else {
        st32(p, lba);
    }
}

static void cmd_request_sense(IdeUnit *u, const uint8_t *cdb)
{
    uint8_t *b = u->ch->buf;
    IdeUnitRegs *r = &u->r;
    if (r->unit_attention && r->sense_key == SK_NO_SENSE) {
        r->sense_key = SK_UNIT_ATTENTION;
        r->asc = ASC_MEDIUM_CHANGED;
        r->ascq = 0;
    }
    r->unit_attention = 0;
    memset(b, 0, 18);
    b[0] = 0x70;                         /* current error, fixed format */
    b[2] = r->sense_key;
    b[7] = 10;
    b[12] = r->asc;
    b[13] = r->ascq;
    atapi_reply(u, 18, cdb[4]);
}

static void cmd_inquiry(IdeUnit *u, const uint8_t *cdb)
{
    uint8_t *b = u->ch->buf;
    if (cdb[1] & 1) {                    /* EVPD: no vital product data pages */
        atapi_error(u, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    const char *model = ide_drive_model(u);
    if (g_str_has_prefix(model, "TESSERA "))
        model += 8;
    memset(b, 0, 36);
    b[0] = 0x05;                         /* CD/DVD device */
    b[1] = 0x80;                         /* removable */
    b[2] = 0x00;
    b[3] = 0x21;                         /* ATAPI, response data format 1 */
    b[4] = 31;
    memset(b + 8, ' ', 28);
    memcpy(b + 8, "TESSERA", 7);
    memcpy(b + 16, model, MIN(strlen(model), 16));
    memcpy(b + 32, IDE_FIRMWARE, MIN(strlen(IDE_FIRMWARE), 4));
    atapi_reply(u, 36, be16(cdb + 3));
}

static void cmd_read_capacity(IdeUnit *u)
{
    uint8_t *b = u->ch->buf;
    uint32_t cap = cd_capacity(u);
    st32(b, cap ? cap - 1 : 0);
    st32(b + 4, CD_SECTOR);
    atapi_reply(u, 8, 8);
}

static void cmd_read(IdeUnit *u, uint32_t lba, uint32_t count)
{
    if ((uint64_t)lba + count > cd_capacity(u)) {
        atapi_error(u, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
        return;
    }
    u->r.cd_lba = lba;
    u->r.cd_left = count;
    atapi_send(u, 0);
}

static void cmd_read_cd(IdeUnit *u, const uint8_t *cdb)
{
    unsigned type = (cdb[1] >> 2) & 7, fields = cdb[9] & 0xF8;
    uint32_t count = (uint32_t)(cdb[6] << 16 | cdb[7] << 8 | cdb[8]);
    /* A data track: any type or Mode 1, user data only (or nothing). */
    if ((type != 0 && type != 2) || (fields != 0x10 && fields != 0x00) || (cdb[10] & 7)) {
        atapi_error(u, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    if (!fields) {
        atapi_finish(u);
        return;
    }
    cmd_read(u, be32(cdb + 2), count);
}

static void cmd_read_toc(IdeUnit *u, const uint8_t *cdb)
{
    uint8_t *b = u->ch->buf;
    bool msf = cdb[1] & 2;
    unsigned format = cdb[2] & 0x0F, track = cdb[6];
    uint32_t cap = cd_capacity(u), len;
    if (!format)
        format = cdb[9] >> 6;            /* SFF-8020 put it in the control byte */
    memset(b, 0, 64);
    switch (format) {
    case 0: {                            /* TOC */
        uint8_t *p = b + 4;
        if (track > 1 && track != 0xAA) {
            atapi_error(u, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
            return;
        }
        if (track <= 1) {
            p[1] = 0x14;                 /* ADR 1, data track */
            p[2] = 1;
            toc_addr(p + 4, 0, msf);
            p += 8;
        }
        p[1] = 0x14;
        p[2] = 0xAA;                     /* lead-out */
        toc_addr(p + 4, cap, msf);
        p += 8;
        len = (uint32_t)(p - b);
        b[2] = b[3] = 1;
        break;
    }
    case 1:                              /* session information */
        len = 12;
        b[2] = b[3] = 1;
        b[5] = 0x14;
        b[6] = 1;
        toc_addr(b + 8, 0, msf);
        break;
    case 2: {                            /* full TOC: points A0, A1, A2, 1 */
        static const uint8_t points[4] = { 0xA0, 0xA1, 0xA2, 0x01 };
        uint8_t *p = b + 4;
        for (unsigned i = 0; i < 4; i++, p += 11) {
            p[0] = 1;                    /* session */
            p[1] = 0x14;
            p[3] = points[i];
            if (points[i] == 0xA0)
                p[8] = 1;                /* first track; disc type CD-ROM */
            else if (points[i] == 0xA1)
                p[8] = 1;                /* last track */
            else if (points[i] == 0xA2)
                lba_to_msf(p + 8, cap);
            else
                lba_to_msf(p + 8, 0);
        }
        len = (uint32_t)(p - b);
        b[2] = b[3] = 1;
        break;
    }
    default:
        atapi_error(u, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    st16(b, len - 2);
    atapi_reply(u, len, be16(cdb + 7));
}

static void cmd_mode_sense(IdeUnit *u, const uint8_t *cdb)
{
    uint8_t *b = u->ch->buf;
    unsigned pc = cdb[2] >> 6, page = cdb[2] & 0x3F;
    bool all = page == 0x3F, found = false;
    uint8_t *p = b + 8;
    if (pc == 3) {
        atapi_error(u, SK_ILLEGAL_REQUEST, ASC_SAVING_PARAMS, 0);
        return;
    }
    memset(b, 0, 64);
    if (all || page == 0x01) {           /* read error recovery */
        p[0] = 0x01;
        p[1] = 0x0A;
        if (pc != 1)
            p[3] = 5;                    /* read retry count */
        p += 12;
        found = true;
    }
    if (all || page == 0x2A) {           /* CD capabilities and mechanical status */
        p[0] = 0x2A;
        p[1] = 0x12;
        if (pc != 1) {
            p[4] = 0x70;                 /* mode 2 form 1/2, multi-session */
            p[6] = (uint8_t)(0x29 | (u->r.locked ? 0x02 : 0));  /* tray, eject, lock */
            st16(p + 8, CD_READ_SPEED);
            st16(p + 10, 256);           /* volume levels */
            st16(p + 12, 512);           /* buffer, KB */
            st16(p + 14, CD_READ_SPEED);
        }
        p += 20;
        found = true;
    }
    if (!found) {
        atapi_error(u, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    uint32_t len = (uint32_t)(p - b);
    st16(b, len - 2);
    /* Medium type (SFF-8020): 120 mm data disc, or no disc (door closed/open). */
    b[2] = u->r.medium ? 0x01 : u->r.tray_open ? 0x71 : 0x70;
    atapi_reply(u, len, be16(cdb + 7));
}

static uint8_t *feature(uint8_t *p, unsigned code, uint8_t flags, unsigned len)
{
    st16(p, code);
    p[2] = flags;
    p[3] = (uint8_t)len;
    return p + 4;
}

static void cmd_get_configuration(IdeUnit *u, const uint8_t *cdb)
{
    uint8_t *b = u->ch->buf;
    unsigned rt = cdb[1] & 3, start = be16(cdb + 2);
    bool cd = u->r.medium;
    uint8_t *p = b + 8;
    if (rt == 3) {
        atapi_error(u, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    memset(b, 0, 64);
    st16(b + 6, cd ? 0x0008 : 0x0000);   /* current profile: CD-ROM */
#define WANT(code) ((rt == 2) ? start == (code) : start <= (code))
    if (WANT(0x0000)) {                  /* profile list */
        uint8_t *d = feature(p, 0x0000, 0x03, 4);
        st16(d, 0x0008);
        d[2] = cd ? 1 : 0;
        p = d + 4;
    }
    if (WANT(0x0001)) {                  /* core: ATAPI */
        uint8_t *d = feature(p, 0x0001, 0x03, 4);
        st32(d, 2);
        p = d + 4;
    }
    if (WANT(0x0003)) {                  /* removable medium: tray, eject, lock */
        uint8_t *d = feature(p, 0x0003, 0x03, 4);
        d[0] = (uint8_t)(0x29 | (u->r.locked ? 0x04 : 0));
        p = d + 4;
    }
    if (WANT(0x0010)) {                  /* random readable */
        uint8_t *d = feature(p, 0x0010, cd ? 0x01 : 0x00, 8);
        st32(d, CD_SECTOR);
        st16(d + 4, 1);
        p = d + 8;
    }
#undef WANT
    uint32_t len = (uint32_t)(p - b);
    st32(b, len - 4);
    atapi_reply(u, len, be16(cdb + 7));
}

static void cmd_get_event_status(IdeUnit *u, const uint8_t *cdb)
{
    uint8_t *b = u->ch->buf;
    uint32_t len;
    if (!(cdb[1] & 1)) {                 /* only polled operation */
        atapi_error(u, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    memset(b, 0, 8);
    b[3] = 0x10;                         /* supported classes: media */
    if (cdb[4] & 0x10) {
        st16(b, 6);
        b[2] = 0x04;                     /* media class */
        b[4] = u->r.media_event;
        b[5] = (uint8_t)((u->r.tray_open ? 0x01 : 0) | (u->r.medium ? 0x02 : 0));
        u->r.media_event = MEC_NO_CHANGE;
        len = 8;
    } else {
        st16(b, 2);
        b[2] = 0x80;                     /* no event available */
        len = 4;
    }
    atapi_reply(u, len, be16(cdb + 7));
}

static void cmd_read_disc_info(IdeUnit *u, const uint8_t *cdb)
{
    uint8_t *b = u->ch->buf;
    if (cdb[1] & 7) {
        atapi_error(u, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    memset(b, 0, 34);
    st16(b, 32);
    b[2] = 0x0E;                         /* last session complete, disc complete */
    b[3] = 1;                            /* first track */
    b[4] = 1;                            /* sessions */
    b[5] = 1;                            /* first track of the last session */
    b[6] = 1;                            /* last track of the last session */
    memset(b + 16, 0xFF, 8);             /* no next session, no lead-out limit */
    atapi_reply(u, 34, be16(cdb + 7));
}

static void cmd_start_stop(IdeUnit *u, const uint8_t *cdb)
{
    bool loej = cdb[4] & 2, start = cdb[4] & 1;
    if (loej && !start) {
        if (u->r.locked) {
            atapi_error(u, SK_ILLEGAL_REQUEST, ASC_REMOVAL_PREVENTED, 0x02);
            return;
        }
        atapi_set_medium(u, false, true);
    } else if (loej && start) {
        /* Close the tray: the disc in it (the configured image) loads. */
        atapi_set_medium(u, u->r.tray_open ? u->disk != NULL : u->r.medium, false);
    }
    atapi_finish(u);
}

static void cmd_mechanism_status(IdeUnit *u, const uint8_t *cdb)
{
    uint8_t *b = u->ch->buf;
    memset(b, 0, 8);
    b[1] = u->r.tray_open ? 0x10 : 0x00;
    atapi_reply(u, 8, be16(cdb + 8));
}

/* The 12-byte packet arrived (ACT_PACKET). */
void atapi_packet(IdeUnit *u)
{
    IdeUnitRegs *r = &u->r;
    const uint8_t *cdb = r->cdb;
    memcpy(r->cdb, u->ch->buf, sizeof(r->cdb));
    u->ch->r.xfer = XF_NONE;

    uint8_t op = cdb[0];
    TESS_TRACE(u->ch->ide->trace, "%s: channel %u unit %u: packet %02x %02x %02x %02x %02x %02x "
               "%02x %02x %02x %02x %02x %02x", u->ch->ide->dev.id, u->ch->index, u->index,
               cdb[0], cdb[1], cdb[2], cdb[3], cdb[4], cdb[5], cdb[6], cdb[7], cdb[8], cdb[9],
               cdb[10], cdb[11]);
    /* A pending UNIT ATTENTION fails the first command, except those
     * that report status (SPC-2 5.6.5, MMC-2 5.x). */
    if (r->unit_attention && op != GPCMD_INQUIRY && op != GPCMD_REQUEST_SENSE &&
        op != GPCMD_GET_CONFIGURATION && op != GPCMD_GET_EVENT_STATUS) {
        r->unit_attention = 0;
        atapi_error(u, SK_UNIT_ATTENTION, ASC_MEDIUM_CHANGED, 0);
        return;
    }
    switch (op) {
    case GPCMD_TEST_UNIT_READY:
        if (atapi_ready(u))
            atapi_finish(u);
        break;
    case GPCMD_REQUEST_SENSE:
        cmd_request_sense(u, cdb);
        break;
    case GPCMD_INQUIRY:
        cmd_inquiry(u, cdb);
        break;
    case GPCMD_START_STOP_UNIT:
        cmd_start_stop(u, cdb);
        break;
    case GPCMD_PREVENT_ALLOW:
        r->locked = cdb[4] & 1;
        atapi_finish(u);
        break;
    case GPCMD_READ_CAPACITY:
        if (atapi_ready(u))
            cmd_read_capacity(u);
        break;
    case GPCMD_READ_10:
        if (atapi_ready(u))
            cmd_read(u, be32(cdb + 2), be16(cdb + 7));
        break;
    case GPCMD_READ_12:
        if (atapi_ready(u))
            cmd_read(u, be32(cdb + 2), be32(cdb + 6));
        break;
    case GPCMD_READ_CD:
        if (atapi_ready(u))
            cmd_read_cd(u, cdb);
        break;
    case GPCMD_SEEK_10:
        if (!atapi_ready(u))
            break;
        if (be32(cdb + 2) >= cd_capacity(u))
            atapi_error(u, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
        else
            atapi_finish(u);
        break;
    case GPCMD_READ_TOC:
        if (atapi_ready(u))
            cmd_read_toc(u, cdb);
        break;
    case GPCMD_MODE_SENSE_10:
        cmd_mode_sense(u, cdb);
        break;
    case GPCMD_GET_CONFIGURATION:
        cmd_get_configuration(u, cdb);
        break;
    case GPCMD_GET_EVENT_STATUS:
        cmd_get_event_status(u, cdb);
        break;
    case GPCMD_READ_DISC_INFO:
        if (atapi_ready(u))
            cmd_read_disc_info(u, cdb);
        break;
    case GPCMD_SET_CD_SPEED:
        atapi_finish(u);
        break;
    case GPCMD_MECHANISM_STATUS:
        cmd_mechanism_status(u, cdb);
        break;
    default:
        atapi_error(u, SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
        break;
    }
}

/* ---- ATA commands of a packet device --------------------------------------- */

static void atapi_start_packet(IdeUnit *u)
{
    IdeChannel *ch = u->ch;
    IdeUnitRegs *r = &u->r;
    uint32_t limit = (uint32_t)(r->hcyl << 8 | r->lcyl);
    /* 0 is not a limit a host may give; FFFFh means FFFEh (ATA-6 9.8). */
    if (limit == 0 || limit == 0xFFFF)
        limit = 0xFFFE;
    r->byte_limit = (uint16_t)MAX(limit & ~1u, 2u);
    r->dma = r->feature & 1;
    r->cd_left = 0;
    ch->r.xfer = XF_PACKET;
    ch->r.buf_len = ch->r.data_end = 12;
    ch->r.data_pos = 0;
    set_reason(u, IR_COD);
    r->status = ST_DRDY | ST_DRQ;        /* no interrupt: the host polls for DRQ */
}

void atapi_exec(IdeUnit *u)
{
    IdeUnitRegs *r = &u->r;
    uint8_t cmd = r->cmd;
    if (ide_power_command(u, cmd))
        return;
    switch (cmd) {
    case CMD_PACKET:
        atapi_start_packet(u);
        break;
    case CMD_IDENTIFY_PACKET:
        atapi_identify(u);
        break;
    case CMD_DEVICE_RESET:
        ide_cmd_done(u, false);
        ide_set_signature(u);
        r->error = 0x01;
        r->status = 0;
        r->sleeping = 0;
        break;
    case CMD_EXEC_DIAGNOSTIC:
        ide_exec_diagnostic(u->ch);
        break;
    case CMD_SET_FEATURES:
        ide_set_features(u);
        break;
    case CMD_IDENTIFY:
    case CMD_READ_SECTORS:
        /* ATA-6 8.15: a packet device aborts these with its signature
         * in the registers, which is how hosts tell it from a disk. */
        ide_set_signature(u);
        ide_cmd_error(u, ER_ABRT);
        break;
    default:
        ide_cmd_error(u, ER_ABRT);
        break;
    }
}
