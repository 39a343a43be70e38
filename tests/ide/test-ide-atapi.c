/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ATAPI CD-ROM: the packet device's ATA side (signature, IDENTIFY PACKET
 * DEVICE, the aborted IDENTIFY DEVICE) and the MMC commands through the
 * PACKET protocol (byte count limit, interrupt reason), sense data, the
 * tray, unit attention and media events.
 */
#include "ide-test.h"

#define CD_SECTORS 40u

#define SK_NOT_READY       0x02
#define SK_ILLEGAL_REQUEST 0x05
#define SK_UNIT_ATTENTION  0x06

typedef struct {
    char *dir, *iso;
    TessMachine *m;
} Fix;

/* A CD-ROM as secondary master (with an image, or an empty tray), and a
 * disk on the primary so the CD is on its own channel. */
static void fix_open(Fix *f, bool with_disc)
{
    f->dir = it_tmpdir();
    f->iso = it_image(f->dir, "cd.iso", CD_SECTORS * 2048);
    g_autofree char *disc = with_disc
        ? g_strdup_printf("<disk format='raw' file='%s' readonly='on'/>", f->iso)
        : g_strdup("");
    g_autofree char *xml = g_strdup_printf(
        "<drive bus='1' unit='0' media='cdrom'>%s</drive>", disc);
    f->m = it_machine(xml);
    it_enable(f->m);
}

static void fix_close(Fix *f)
{
    th_machine_free(f->m);
    g_free(f->iso);
    it_rmdir(f->dir);
}

/* Run a packet command with PIO data-in; returns the bytes received and
 * the final status. */
static size_t run(TessMachine *m, const uint8_t *cdb, uint16_t limit, void *buf, size_t max,
                  uint8_t *status)
{
    uint8_t st = it_packet(m, SEC, 0, cdb, limit, false);
    size_t n = it_packet_in(m, SEC, st, buf, max, status);
    /* Completion: IO and CoD set, BSY and DRQ clear. */
    g_assert_cmphex(th_inb(m, SEC + R_NSECT) & 3, ==, 3);
    g_assert_cmphex(*status & (S_BSY | S_DRQ), ==, 0);
    return n;
}

static unsigned sense_key(TessMachine *m)
{
    return th_inb(m, SEC + R_ERROR) >> 4;
}

/* REQUEST SENSE: key, ASC, ASCQ as one number. */
static uint32_t request_sense(TessMachine *m)
{
    uint8_t cdb[12] = { 0x03, 0, 0, 0, 18 }, b[18], st;
    g_assert_cmpuint(run(m, cdb, 0xFFFE, b, sizeof(b), &st), ==, 18);
    g_assert_cmphex(st & S_ERR, ==, 0);
    g_assert_cmphex(b[0] & 0x7F, ==, 0x70);
    g_assert_cmpuint(b[7], ==, 10);
    return (uint32_t)(b[2] & 0x0F) << 16 | (uint32_t)b[12] << 8 | b[13];
}

static uint8_t test_unit_ready(TessMachine *m)
{
    uint8_t cdb[12] = { 0x00 }, st;
    g_assert_cmpuint(run(m, cdb, 0xFFFE, NULL, 0, &st), ==, 0);
    return st;
}

static void test_identify(void)
{
    Fix f;
    fix_open(&f, true);
    TessMachine *m = f.m;
    /* Signature after power-on. */
    it_select(m, SEC, 0);
    g_assert_cmphex(th_inb(m, SEC + R_LBAM), ==, 0x14);
    g_assert_cmphex(th_inb(m, SEC + R_LBAH), ==, 0xEB);
    /* IDENTIFY DEVICE aborts, leaving the signature to be found. */
    th_outb(m, SEC + R_LBAM, 0);
    th_outb(m, SEC + R_LBAH, 0);
    uint8_t st = it_cmd(m, SEC, 0xEC);
    g_assert_cmphex(st & (S_ERR | S_DRQ), ==, S_ERR);
    g_assert_cmphex(th_inb(m, SEC + R_ERROR) & E_ABRT, ==, E_ABRT);
    g_assert_cmphex(th_inb(m, SEC + R_LBAM), ==, 0x14);
    g_assert_cmphex(th_inb(m, SEC + R_LBAH), ==, 0xEB);

    uint16_t w[256];
    it_identify(m, SEC, 0, 0xA1, w);
    /* ATAPI, CD-ROM, removable, 12-byte packets. */
    g_assert_cmphex(w[0] & 0xC000, ==, 0x8000);
    g_assert_cmphex((w[0] >> 8) & 0x1F, ==, 0x05);
    g_assert_cmphex(w[0] & 0x0080, ==, 0x0080);
    g_assert_cmphex(w[0] & 0x0003, ==, 0x0000);
    g_assert_cmphex(w[49] & 0x0200, ==, 0x0200);
    g_assert_cmphex(w[82] & 0x0010, ==, 0x0010);   /* PACKET feature set */
    g_autofree char *model = it_ata_string(&w[27], 20);
    g_assert_cmpstr(model, ==, "TESSERA CD-ROM");
    g_assert_cmphex(w[255] & 0xFF, ==, 0xA5);
    /* DEVICE RESET: signature, no interrupt. */
    unsigned edges = it_irq_edges(m, SEC);
    th_outb(m, SEC + R_LBAM, 0x55);
    it_cmd(m, SEC, 0x08);
    g_assert_cmpuint(it_irq_edges(m, SEC), ==, edges);
    g_assert_cmphex(th_inb(m, SEC + R_LBAM), ==, 0x14);
    g_assert_cmphex(th_inb(m, SEC + R_ERROR), ==, 0x01);
    /* Disk-only commands abort. */
    g_assert_cmphex(it_cmd(m, SEC, 0xC8) & S_ERR, ==, S_ERR);
    g_assert_cmphex(it_cmd(m, SEC, 0xE7) & S_ERR, ==, S_ERR);
    fix_close(&f);
}

static void test_empty_tray(void)
{
    Fix f;
    fix_open(&f, false);
    TessMachine *m = f.m;
    unsigned edges = it_irq_edges(m, SEC);
    uint8_t st = test_unit_ready(m);
    g_assert_cmphex(st & S_ERR, ==, S_ERR);      /* CHECK CONDITION */
    g_assert_cmpuint(sense_key(m), ==, SK_NOT_READY);
    g_assert_cmpuint(it_irq_edges(m, SEC), ==, edges + 1);
    /* NOT READY, MEDIUM NOT PRESENT (tray closed). */
    g_assert_cmphex(request_sense(m), ==, 0x023A01);
    /* Sense is for the last command: now there is none. */
    g_assert_cmphex(request_sense(m), ==, 0x000000);

    uint8_t cap[12] = { 0x25 }, b[8];
    run(m, cap, 0xFFFE, b, sizeof(b), &st);
    g_assert_cmphex(st & S_ERR, ==, S_ERR);
    g_assert_cmphex(request_sense(m), ==, 0x023A01);
    /* INQUIRY works without a disc. */
    uint8_t inq[12] = { 0x12, 0, 0, 0, 36 }, ib[36];
    g_assert_cmpuint(run(m, inq, 0xFFFE, ib, sizeof(ib), &st), ==, 36);
    g_assert_cmphex(st & S_ERR, ==, 0);
    /* GET CONFIGURATION: no current profile. */
    uint8_t gc[12] = { 0x46, 0, 0, 0, 0, 0, 0, 0, 64 }, gb[64];
    size_t n = run(m, gc, 0xFFFE, gb, sizeof(gb), &st);
    g_assert_cmpuint(n, >=, 8);
    g_assert_cmphex(gb[6] << 8 | gb[7], ==, 0x0000);
    fix_close(&f);
}

static void test_inquiry_capacity(void)
{
    Fix f;
    fix_open(&f, true);
    TessMachine *m = f.m;
    uint8_t st, b[64];

    uint8_t inq[12] = { 0x12, 0, 0, 0, 36 };
    g_assert_cmpuint(run(m, inq, 0xFFFE, b, sizeof(b), &st), ==, 36);
    g_assert_cmphex(b[0], ==, 0x05);                  /* CD/DVD */
    g_assert_cmphex(b[1], ==, 0x80);                  /* removable */
    g_assert_cmpuint(b[4], ==, 31);
    g_assert_cmpmem(b + 8, 8, "TESSERA ", 8);
    g_assert_cmpmem(b + 16, 6, "CD-ROM", 6);
    /* Allocation length cuts the reply. */
    inq[4] = 5;
    g_assert_cmpuint(run(m, inq, 0xFFFE, b, sizeof(b), &st), ==, 5);
    /* EVPD: no pages. */
    inq[1] = 1;
    run(m, inq, 0xFFFE, b, sizeof(b), &st);
    g_assert_cmphex(st & S_ERR, ==, S_ERR);
    g_assert_cmphex(request_sense(m), ==, 0x052400);

    uint8_t cap[12] = { 0x25 };
    g_assert_cmpuint(run(m, cap, 0xFFFE, b, sizeof(b), &st), ==, 8);
    g_assert_cmphex(st & S_ERR, ==, 0);
    g_assert_cmpuint((uint32_t)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3], ==, CD_SECTORS - 1);
    g_assert_cmpuint((uint32_t)b[4] << 24 | b[5] << 16 | b[6] << 8 | b[7], ==, 2048);

    /* Unknown opcodes: ILLEGAL REQUEST, INVALID COMMAND OPERATION CODE. */
    uint8_t bad[12] = { 0xFF };
    run(m, bad, 0xFFFE, b, sizeof(b), &st);
    g_assert_cmphex(st & S_ERR, ==, S_ERR);
    g_assert_cmpuint(sense_key(m), ==, SK_ILLEGAL_REQUEST);
    g_assert_cmphex(request_sense(m), ==, 0x052000);
    fix_close(&f);
}

static void check_cd(const uint8_t *buf, uint32_t lba, uint32_t count)
{
    for (size_t i = 0; i < (size_t)count * 2048; i++)
        if (buf[i] != it_pattern((uint64_t)lba * 2048 + i))
            g_error("CD sector %u byte %zu: %02x, want %02x", lba + (unsigned)(i / 2048),
                    i % 2048, buf[i], it_pattern((uint64_t)lba * 2048 + i));
}

static void test_read(void)
{
    Fix f;
    fix_open(&f, true);
    TessMachine *m = f.m;
    g_autofree uint8_t *buf = g_malloc(CD_SECTORS * 2048);
    uint8_t st;

    /* READ(10), byte count limit 2048: one sector per DRQ block, each
     * with an interrupt and its byte count in the cylinder registers. */
    uint8_t r10[12] = { 0x28, 0, 0, 0, 0, 7, 0, 0, 3 };
    unsigned edges = it_irq_edges(m, SEC);
    st = it_packet(m, SEC, 0, r10, 2048, false);
    for (unsigned s = 0; s < 3; s++) {
        g_assert_cmphex(st & (S_DRQ | S_ERR), ==, S_DRQ);
        g_assert_cmpuint(it_irq_edges(m, SEC), ==, edges + s + 1);
        g_assert_cmpuint(th_inb(m, SEC + R_LBAM) | th_inb(m, SEC + R_LBAH) << 8, ==, 2048);
        g_assert_cmphex(th_inb(m, SEC + R_NSECT) & 3, ==, 2);
        (void)th_inb(m, SEC + R_STATUS);
        it_read_words(m, SEC, buf + 2048 * s, 2048);
        st = it_wait(m, SEC);
    }
    g_assert_cmphex(st & (S_DRQ | S_ERR), ==, 0);
    g_assert_cmpuint(it_irq_edges(m, SEC), ==, edges + 4);   /* and one at the end */
    g_assert_cmphex(th_inb(m, SEC + R_NSECT) & 3, ==, 3);
    check_cd(buf, 7, 3);

    /* A large limit: the whole transfer in as few blocks as fit. */
    uint8_t r12[12] = { 0xA8, 0, 0, 0, 0, 2, 0, 0, 0, 20 };
    g_assert_cmpuint(run(m, r12, 0xFFFF, buf, CD_SECTORS * 2048, &st), ==, 20 * 2048);
    check_cd(buf, 2, 20);
    /* An odd limit: blocks are made even. */
    uint8_t one[12] = { 0x28, 0, 0, 0, 0, 1, 0, 0, 1 };
    st = it_packet(m, SEC, 0, one, 1001, false);
    g_assert_cmpuint(th_inb(m, SEC + R_LBAM) | th_inb(m, SEC + R_LBAH) << 8, ==, 1000);
    g_assert_cmpuint(it_packet_in(m, SEC, st, buf, 2048, &st), ==, 2048);
    check_cd(buf, 1, 1);
    /* The last sector; one past it is out of range. */
    uint8_t last[12] = { 0x28, 0, 0, 0, 0, CD_SECTORS - 1, 0, 0, 1 };
    g_assert_cmpuint(run(m, last, 0xFFFE, buf, 2048, &st), ==, 2048);
    check_cd(buf, CD_SECTORS - 1, 1);
    last[8] = 2;
    run(m, last, 0xFFFE, buf, 2048, &st);
    g_assert_cmphex(st & S_ERR, ==, S_ERR);
    g_assert_cmphex(request_sense(m), ==, 0x052100);
    /* A count of 0 moves nothing and succeeds. */
    last[8] = 0;
    g_assert_cmpuint(run(m, last, 0xFFFE, buf, 2048, &st), ==, 0);
    g_assert_cmphex(st & S_ERR, ==, 0);
    /* SEEK(10) inside and outside the disc. */
    uint8_t seek[12] = { 0x2B, 0, 0, 0, 0, 30 };
    run(m, seek, 0xFFFE, NULL, 0, &st);
    g_assert_cmphex(st & S_ERR, ==, 0);
    seek[5] = CD_SECTORS;
    run(m, seek, 0xFFFE, NULL, 0, &st);
    g_assert_cmphex(request_sense(m), ==, 0x052100);
    /* The whole disc at once: more than one buffer of sectors. */
    uint8_t all[12] = { 0x28, 0, 0, 0, 0, 0, 0, 0, CD_SECTORS };
    g_assert_cmpuint(run(m, all, 0xFFFE, buf, CD_SECTORS * 2048, &st), ==, CD_SECTORS * 2048);
    check_cd(buf, 0, CD_SECTORS);
    /* READ CD, user data only. */
    uint8_t rcd[12] = { 0xBE, 0, 0, 0, 0, 3, 0, 0, 2, 0x10 };
    g_assert_cmpuint(run(m, rcd, 0xFFFE, buf, 4096, &st), ==, 4096);
    check_cd(buf, 3, 2);
    rcd[9] = 0xF8;                                   /* raw sectors: not offered */
    run(m, rcd, 0xFFFE, buf, 4096, &st);
    g_assert_cmphex(st & S_ERR, ==, S_ERR);
    fix_close(&f);
}

static void test_toc(void)
{
    Fix f;
    fix_open(&f, true);
    TessMachine *m = f.m;
    uint8_t b[64], st;

    /* Format 0, LBA: header, track 1 at 0, lead-out at the capacity. */
    uint8_t toc[12] = { 0x43, 0, 0, 0, 0, 0, 0, 0, 64 };
    g_assert_cmpuint(run(m, toc, 0xFFFE, b, sizeof(b), &st), ==, 20);
    g_assert_cmpuint(b[0] << 8 | b[1], ==, 18);
    g_assert_cmpuint(b[2], ==, 1);
    g_assert_cmpuint(b[3], ==, 1);
    g_assert_cmphex(b[5], ==, 0x14);
    g_assert_cmpuint(b[6], ==, 1);
    g_assert_cmpuint((uint32_t)b[8] << 24 | b[9] << 16 | b[10] << 8 | b[11], ==, 0);
    g_assert_cmpuint(b[14], ==, 0xAA);
    g_assert_cmpuint((uint32_t)b[16] << 24 | b[17] << 16 | b[18] << 8 | b[19], ==, CD_SECTORS);
    /* MSF: track 1 at 00:02:00, lead-out at (40 + 150) frames = 00:02:40. */
    toc[1] = 2;
    g_assert_cmpuint(run(m, toc, 0xFFFE, b, sizeof(b), &st), ==, 20);
    g_assert_cmpmem(b + 8, 4, ((uint8_t[]){ 0, 0, 2, 0 }), 4);
    g_assert_cmpmem(b + 16, 4, ((uint8_t[]){ 0, 0, 2, 40 }), 4);
    /* Starting at the lead-out: only it. */
    toc[6] = 0xAA;
    g_assert_cmpuint(run(m, toc, 0xFFFE, b, sizeof(b), &st), ==, 12);
    g_assert_cmpuint(b[6], ==, 0xAA);
    toc[6] = 2;
    run(m, toc, 0xFFFE, b, sizeof(b), &st);
    g_assert_cmphex(st & S_ERR, ==, S_ERR);
    /* Format 1: session info. */
    uint8_t ses[12] = { 0x43, 0, 1, 0, 0, 0, 0, 0, 12 };
    g_assert_cmpuint(run(m, ses, 0xFFFE, b, sizeof(b), &st), ==, 12);
    g_assert_cmpuint(b[0] << 8 | b[1], ==, 10);
    g_assert_cmpuint(b[6], ==, 1);
    /* Format 1 the SFF-8020 way, in the control byte. */
    uint8_t old[12] = { 0x43, 0, 0, 0, 0, 0, 0, 0, 12, 0x40 };
    g_assert_cmpuint(run(m, old, 0xFFFE, b, sizeof(b), &st), ==, 12);
    g_assert_cmpuint(b[0] << 8 | b[1], ==, 10);
    /* Format 2: full TOC, four descriptors; A2 is the lead-out in MSF. */
    uint8_t full[12] = { 0x43, 2, 2, 0, 0, 0, 0, 0, 64 };
    g_assert_cmpuint(run(m, full, 0xFFFE, b, sizeof(b), &st), ==, 4 + 4 * 11);
    g_assert_cmphex(b[4 + 2 * 11 + 3], ==, 0xA2);
    g_assert_cmpmem(b + 4 + 2 * 11 + 8, 3, ((uint8_t[]){ 0, 2, 40 }), 3);
    fix_close(&f);
}

static void test_mode_sense(void)
{
    Fix f;
    fix_open(&f, true);
    TessMachine *m = f.m;
    uint8_t b[128], st;
    uint8_t ms[12] = { 0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 128 };
    size_t n = run(m, ms, 0xFFFE, b, sizeof(b), &st);
    g_assert_cmpuint(n, ==, 8 + 20);
    g_assert_cmpuint(b[0] << 8 | b[1], ==, n - 2);
    g_assert_cmphex(b[8], ==, 0x2A);
    g_assert_cmpuint(b[9], ==, 0x12);
    g_assert_cmphex(b[8 + 6] & 0x08, ==, 0x08);      /* eject supported */
    g_assert_cmphex(b[8 + 6] & 0x02, ==, 0x00);      /* not locked */
    /* All pages: error recovery (01h) and capabilities. */
    ms[2] = 0x3F;
    n = run(m, ms, 0xFFFE, b, sizeof(b), &st);
    g_assert_cmpuint(n, ==, 8 + 12 + 20);
    g_assert_cmphex(b[8], ==, 0x01);
    g_assert_cmphex(b[20], ==, 0x2A);
    /* Saved values: not supported; unknown page: invalid field. */
    ms[2] = 0xC0 | 0x2A;
    run(m, ms, 0xFFFE, b, sizeof(b), &st);
    g_assert_cmphex(request_sense(m), ==, 0x053900);
    ms[2] = 0x05;
    run(m, ms, 0xFFFE, b, sizeof(b), &st);
    g_assert_cmphex(request_sense(m), ==, 0x052400);

    /* GET CONFIGURATION: current profile CD-ROM. */
    uint8_t gc[12] = { 0x46, 0, 0, 0, 0, 0, 0, 0, 64 };
    n = run(m, gc, 0xFFFE, b, sizeof(b), &st);
    g_assert_cmphex(b[6] << 8 | b[7], ==, 0x0008);
    g_assert_cmpuint((uint32_t)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3], ==, n - 4);
    g_assert_cmphex(b[8] << 8 | b[9], ==, 0x0000);   /* profile list first */
    g_assert_cmphex(b[12] << 8 | b[13], ==, 0x0008);
    /* READ DISC INFORMATION */
    uint8_t di[12] = { 0x51, 0, 0, 0, 0, 0, 0, 0, 34 };
    g_assert_cmpuint(run(m, di, 0xFFFE, b, sizeof(b), &st), ==, 34);
    g_assert_cmpuint(b[0] << 8 | b[1], ==, 32);
    g_assert_cmphex(b[2] & 0x03, ==, 0x02);          /* complete disc */
    /* SET CD SPEED, MECHANISM STATUS */
    uint8_t sp[12] = { 0xBB, 0, 0xFF, 0xFF };
    run(m, sp, 0xFFFE, b, sizeof(b), &st);
    g_assert_cmphex(st & S_ERR, ==, 0);
    uint8_t mech[12] = { 0xBD, 0, 0, 0, 0, 0, 0, 0, 0, 8 };
    g_assert_cmpuint(run(m, mech, 0xFFFE, b, sizeof(b), &st), ==, 8);
    fix_close(&f);
}

static uint8_t media_event(TessMachine *m, uint8_t *media_status)
{
    uint8_t gesn[12] = { 0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8 }, b[8], st;
    g_assert_cmpuint(run(m, gesn, 0xFFFE, b, sizeof(b), &st), ==, 8);
    g_assert_cmphex(st & S_ERR, ==, 0);
    g_assert_cmphex(b[2] & 0x07, ==, 0x04);          /* media class */
    g_assert_cmphex(b[3] & 0x10, ==, 0x10);
    *media_status = b[5];
    return b[4] & 0x0F;
}

static void test_media_change(void)
{
    Fix f;
    fix_open(&f, true);
    TessMachine *m = f.m;
    uint8_t st, ms, b[8];
    g_assert_cmphex(test_unit_ready(m) & S_ERR, ==, 0);
    g_assert_cmpuint(media_event(m, &ms), ==, 0);
    g_assert_cmphex(ms, ==, 0x02);                   /* medium present, tray closed */

    /* GESN asynchronous mode is not offered. */
    uint8_t async[12] = { 0x4A, 0, 0, 0, 0x10, 0, 0, 0, 8 };
    run(m, async, 0xFFFE, b, sizeof(b), &st);
    g_assert_cmphex(st & S_ERR, ==, S_ERR);

    /* Locked: START STOP UNIT cannot eject. */
    uint8_t lock[12] = { 0x1E, 0, 0, 0, 1 };
    run(m, lock, 0xFFFE, NULL, 0, &st);
    uint8_t eject[12] = { 0x1B, 0, 0, 0, 0x02 };
    run(m, eject, 0xFFFE, NULL, 0, &st);
    g_assert_cmphex(st & S_ERR, ==, S_ERR);
    g_assert_cmphex(request_sense(m), ==, 0x055302);
    uint8_t mode[12] = { 0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 28 }, mb[28];
    run(m, mode, 0xFFFE, mb, sizeof(mb), &st);
    g_assert_cmphex(mb[8 + 6] & 0x02, ==, 0x02);     /* lock state */
    lock[4] = 0;
    run(m, lock, 0xFFFE, NULL, 0, &st);

    /* Eject: tray open, NOT READY 3A/02, a media removal event. */
    run(m, eject, 0xFFFE, NULL, 0, &st);
    g_assert_cmphex(st & S_ERR, ==, 0);
    g_assert_cmphex(test_unit_ready(m) & S_ERR, ==, S_ERR);
    g_assert_cmphex(request_sense(m), ==, 0x023A02);
    g_assert_cmpuint(media_event(m, &ms), ==, 3);
    g_assert_cmphex(ms, ==, 0x01);                   /* tray open, no medium */
    g_assert_cmpuint(media_event(m, &ms), ==, 0);    /* reported once */

    /* Load: the disc comes back; the next command gets UNIT ATTENTION
     * (28h, medium may have changed), then all is well. */
    uint8_t load[12] = { 0x1B, 0, 0, 0, 0x03 };
    run(m, load, 0xFFFE, NULL, 0, &st);
    g_assert_cmpuint(media_event(m, &ms), ==, 2);    /* new media */
    g_assert_cmphex(ms, ==, 0x02);
    g_assert_cmphex(test_unit_ready(m) & S_ERR, ==, S_ERR);
    g_assert_cmpuint(sense_key(m), ==, SK_UNIT_ATTENTION);
    g_assert_cmphex(test_unit_ready(m) & S_ERR, ==, 0);

    /* INQUIRY does not consume a unit attention; REQUEST SENSE reports it. */
    run(m, eject, 0xFFFE, NULL, 0, &st);
    run(m, load, 0xFFFE, NULL, 0, &st);
    uint8_t inq[12] = { 0x12, 0, 0, 0, 36 }, ib[36];
    run(m, inq, 0xFFFE, ib, sizeof(ib), &st);
    g_assert_cmphex(st & S_ERR, ==, 0);
    g_assert_cmphex(request_sense(m), ==, 0x062800);
    g_assert_cmphex(test_unit_ready(m) & S_ERR, ==, 0);
    fix_close(&f);
}

/* The control socket's eject / insert commands. */
static void test_control_eject(void)
{
    Fix f;
    fix_open(&f, true);
    TessMachine *m = f.m;
    g_autoptr(GPtrArray) ms = g_ptr_array_new();
    g_ptr_array_add(ms, m);
    uint8_t st;

    g_autofree char *r1 = tess_control_handle_line(ms, "{\"cmd\":\"eject\",\"args\":[\"ide0.drive0\"]}");
    g_assert_nonnull(strstr(r1, "\"ok\":true"));
    g_assert_cmphex(test_unit_ready(m) & S_ERR, ==, S_ERR);
    g_assert_cmphex(request_sense(m), ==, 0x023A02);
    g_autofree char *r2 = tess_control_handle_line(ms, "{\"cmd\":\"insert\",\"args\":[\"ide0\"]}");
    g_assert_nonnull(strstr(r2, "\"ok\":true"));
    g_assert_cmphex(test_unit_ready(m) & S_ERR, ==, S_ERR);
    g_assert_cmpuint(sense_key(m), ==, SK_UNIT_ATTENTION);
    g_assert_cmphex(test_unit_ready(m) & S_ERR, ==, 0);
    /* A locked tray stays shut; not a CD-ROM: an error. */
    uint8_t lock[12] = { 0x1E, 0, 0, 0, 1 };
    run(m, lock, 0xFFFE, NULL, 0, &st);
    g_autofree char *r3 = tess_control_handle_line(ms, "{\"cmd\":\"eject\",\"args\":[\"ide0.drive0\"]}");
    g_assert_nonnull(strstr(r3, "\"ok\":false"));
    g_assert_cmphex(test_unit_ready(m) & S_ERR, ==, 0);
    g_autofree char *r4 = tess_control_handle_line(ms, "{\"cmd\":\"eject\",\"args\":[\"pic0\"]}");
    g_assert_nonnull(strstr(r4, "\"ok\":false"));
    fix_close(&f);
}

/* The disc taken away in the middle of a READ: NOT READY when the
 * drive goes for the next sectors. */
static void test_eject_mid_read(void)
{
    Fix f;
    fix_open(&f, true);
    TessMachine *m = f.m;
    g_autoptr(GPtrArray) ms = g_ptr_array_new();
    g_ptr_array_add(ms, m);
    uint8_t all[12] = { 0x28, 0, 0, 0, 0, 0, 0, 0, CD_SECTORS };
    uint8_t st = it_packet(m, SEC, 0, all, 0x8000, false);
    g_assert_cmphex(st & S_DRQ, ==, S_DRQ);
    g_autofree char *r = tess_control_handle_line(ms, "{\"cmd\":\"eject\",\"args\":[\"ide0.drive0\"]}");
    g_assert_nonnull(strstr(r, "\"ok\":true"));
    unsigned blocks = 0;
    while ((st & S_DRQ) && blocks < 10) {
        unsigned n = th_inb(m, SEC + R_LBAM) | th_inb(m, SEC + R_LBAH) << 8;
        for (unsigned i = 0; i < n; i += 2)
            (void)th_inw(m, SEC + R_DATA);
        st = it_wait(m, SEC);
        blocks++;
    }
    g_assert_cmpuint(blocks, ==, 2);     /* the buffered 32 sectors, no more */
    g_assert_cmphex(st & S_ERR, ==, S_ERR);
    g_assert_cmphex(request_sense(m), ==, 0x023A02);
    fix_close(&f);
}

/* ATA commands a packet device shares with disks. */
static void test_ata_side(void)
{
    Fix f;
    fix_open(&f, true);
    TessMachine *m = f.m;
    uint8_t b[8], st;
    it_select(m, SEC, 0);
    th_outb(m, SEC + R_FEAT, 0x03);
    th_outb(m, SEC + R_NSECT, 0x22);
    g_assert_cmphex(it_cmd(m, SEC, 0xEF) & S_ERR, ==, 0);
    th_outb(m, SEC + R_FEAT, 0x02);      /* write cache: not for a CD */
    g_assert_cmphex(it_cmd(m, SEC, 0xEF) & S_ERR, ==, S_ERR);
    g_assert_cmphex(it_cmd(m, SEC, 0xE5) & S_ERR, ==, 0);
    g_assert_cmphex(th_inb(m, SEC + R_NSECT), ==, 0xFF);
    unsigned edges = it_irq_edges(m, SEC);
    it_cmd(m, SEC, 0x90);
    g_assert_cmpuint(it_irq_edges(m, SEC), ==, edges + 1);
    g_assert_cmphex(th_inb(m, SEC + R_LBAM), ==, 0x14);
    g_assert_cmphex(th_inb(m, SEC + R_LBAH), ==, 0xEB);
    g_assert_cmphex(th_inb(m, SEC + R_ERROR), ==, 0x01);
    /* GET EVENT STATUS without the media class: no event available. */
    uint8_t gesn[12] = { 0x4A, 1, 0, 0, 0x02, 0, 0, 0, 8 };
    g_assert_cmpuint(run(m, gesn, 0xFFFE, b, sizeof(b), &st), ==, 4);
    g_assert_cmphex(b[2] & 0x80, ==, 0x80);
    fix_close(&f);
}

/* Reset keeps the tray as it is: the disc stays out after a reboot. */
static void test_reset_keeps_tray(void)
{
    Fix f;
    fix_open(&f, true);
    TessMachine *m = f.m;
    uint8_t st;
    uint8_t eject[12] = { 0x1B, 0, 0, 0, 0x02 };
    run(m, eject, 0xFFFE, NULL, 0, &st);
    tess_machine_reset(m);
    it_enable(m);
    it_wait(m, SEC);
    g_assert_cmphex(test_unit_ready(m) & S_ERR, ==, S_ERR);
    g_assert_cmphex(request_sense(m), ==, 0x023A02);
    fix_close(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ide/atapi/identify", test_identify);
    g_test_add_func("/ide/atapi/empty-tray", test_empty_tray);
    g_test_add_func("/ide/atapi/inquiry-capacity", test_inquiry_capacity);
    g_test_add_func("/ide/atapi/read", test_read);
    g_test_add_func("/ide/atapi/toc", test_toc);
    g_test_add_func("/ide/atapi/mode-sense", test_mode_sense);
    g_test_add_func("/ide/atapi/media-change", test_media_change);
    g_test_add_func("/ide/atapi/control-eject", test_control_eject);
    g_test_add_func("/ide/atapi/reset-keeps-tray", test_reset_keeps_tray);
    g_test_add_func("/ide/atapi/eject-mid-read", test_eject_mid_read);
    g_test_add_func("/ide/atapi/ata-side", test_ata_side);
    return g_test_run();
}
