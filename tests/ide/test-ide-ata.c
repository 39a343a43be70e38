/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PIIX3 IDE and ATA disks: the PCI function, legacy decode, IDENTIFY,
 * PIO transfers (single, multiple, CHS, LBA48), errors, resets, device
 * selection, SET FEATURES and the power commands - checked against
 * ATA/ATAPI-6 and the 82371SB datasheet, with raw images as backends.
 */
#include "ide-test.h"

/* A block backend for tests ("test-bad-disk"): 1000 sectors of 5Ah,
 * where sector `bad` fails to read and to write with an I/O error; it
 * counts flushes. */
typedef struct {
    TessDevice dev;
    uint64_t bad;
    unsigned flushes, writes;
} BadDisk;

static uint64_t bd_size(TessDevice *d) { return 1000 * 512; }
static uint32_t bd_sector_size(TessDevice *d) { return 512; }
static bool bd_read_only(TessDevice *d) { return false; }

static bool bd_check(TessDevice *d, uint64_t off, size_t len, GError **err)
{
    BadDisk *b = (BadDisk *)d;
    if (off + len > bd_size(d)) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_BOUNDS, "past the end");
        return false;
    }
    if (b->bad * 512 >= off && b->bad * 512 < off + len) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO, "sector %" G_GUINT64_FORMAT
                    ": Input/output error", b->bad);
        return false;
    }
    return true;
}

static bool bd_read(TessDevice *d, uint64_t off, void *buf, size_t len, GError **err)
{
    if (!bd_check(d, off, len, err))
        return false;
    memset(buf, 0x5A, len);
    return true;
}

static bool bd_write(TessDevice *d, uint64_t off, const void *buf, size_t len, GError **err)
{
    ((BadDisk *)d)->writes++;
    return bd_check(d, off, len, err);
}

static bool bd_flush(TessDevice *d, GError **err)
{
    ((BadDisk *)d)->flushes++;
    return true;
}

static bool bd_realize(TessDevice *d, GError **err) { return true; }

static const TessBlockOps bd_ops = {
    .size = bd_size, .sector_size = bd_sector_size, .read_only = bd_read_only,
    .read = bd_read, .write = bd_write, .flush = bd_flush,
};
static const TessIfaceSpec bd_provides[] = { { TESS_IFACE_BLOCK, &bd_ops }, TESS_IFACE_END };
static const TessPropSpec bd_props[] = {
    TESS_PROP_UINT_("bad", BadDisk, bad, "0", 0, 0, "the failing sector"),
    TESS_PROP_END
};
static const TessDeviceClass bd_class = {
    .type = "test-bad-disk", .kind = TESS_CLASS_BACKEND, .doc = "a disk with a bad sector",
    .instance_size = sizeof(BadDisk), .props = bd_props, .provides = bd_provides,
    .realize = bd_realize,
};

#define DISK_BYTES (8u << 20)            /* 16384 sectors */
#define DISK_SECTORS (DISK_BYTES / 512)

typedef struct {
    char *dir, *img;
    TessMachine *m;
} Fix;

static void fix_open(Fix *f, const char *more_drives)
{
    f->dir = it_tmpdir();
    f->img = it_image(f->dir, "disk.img", DISK_BYTES);
    g_autofree char *xml = g_strdup_printf(
        "<drive bus='0' unit='0'><disk format='raw' file='%s'/></drive>%s", f->img,
        more_drives ? more_drives : "");
    f->m = it_machine(xml);
    it_enable(f->m);
}

static void fix_close(Fix *f)
{
    th_machine_free(f->m);
    g_free(f->img);
    it_rmdir(f->dir);
}

static void test_pci_header(void)
{
    Fix f;
    fix_open(&f, NULL);
    TessMachine *m = f.m;
    g_assert_cmphex(it_cfg_read(m, 0x00, 4), ==, 0x70108086);
    g_assert_cmphex(it_cfg_read(m, 0x08, 4) >> 8, ==, 0x010180);   /* IDE, bus master */
    g_assert_cmphex(it_cfg_read(m, 0x3D, 1), ==, 0);               /* no INTx# */
    /* BAR4: 16 bytes of I/O space. */
    it_cfg_write(m, 0x20, 0xFFFFFFFF, 4);
    g_assert_cmphex(it_cfg_read(m, 0x20, 4), ==, 0xFFFFFFF1);
    for (unsigned bar = 0x10; bar < 0x20; bar += 4) {
        it_cfg_write(m, bar, 0xFFFFFFFF, 4);
        g_assert_cmphex(it_cfg_read(m, bar, 4), ==, 0);
    }
    /* IDETIM: bits 11:10 reserved. */
    it_cfg_write(m, 0x40, 0xFFFF, 2);
    g_assert_cmphex(it_cfg_read(m, 0x40, 2), ==, 0xF3FF);
    fix_close(&f);
}

static void test_decode(void)
{
    Fix f;
    fix_open(&f, NULL);
    TessMachine *m = f.m;
    /* After a reset IDETIM is 0: no legacy decode, nobody owns 1F0h. */
    tess_machine_reset(m);
    it_cfg_write(m, 0x04, 0x0005, 2);
    g_assert_null(tess_pio_owner(m, PRI + 7));
    g_assert_cmphex(th_inb(m, PRI + 7), ==, 0xFF);
    it_cfg_write(m, 0x40, 0x8000, 2);
    g_assert_nonnull(tess_pio_owner(m, PRI + 7));
    g_assert_nonnull(tess_pio_owner(m, PRI_CTL));
    g_assert_null(tess_pio_owner(m, PRI_CTL + 1));       /* 3F7h is the floppy's */
    g_assert_null(tess_pio_owner(m, SEC + 7));
    g_assert_cmphex(th_inb(m, PRI + 7), ==, S_DRDY | S_DSC);
    /* IOSE off: the ports stop answering. */
    it_cfg_write(m, 0x04, 0x0000, 2);
    g_assert_cmphex(th_inb(m, PRI + 7), ==, 0xFF);
    it_cfg_write(m, 0x04, 0x0001, 2);
    /* The secondary channel has no drive: its bus floats. */
    it_cfg_write(m, 0x42, 0x8000, 2);
    g_assert_cmphex(th_inb(m, SEC + 7), ==, 0xFF);
    g_assert_cmphex(th_inb(m, SEC + R_NSECT), ==, 0xFF);
    it_cfg_write(m, 0x40, 0x0000, 2);
    g_assert_null(tess_pio_owner(m, PRI + 7));
    fix_close(&f);
}

static void test_identify(void)
{
    Fix f;
    fix_open(&f, NULL);
    TessMachine *m = f.m;
    uint16_t w[256];
    unsigned edges = it_irq_edges(m, PRI);

    it_select(m, PRI, 0);
    uint8_t st = it_cmd(m, PRI, 0xEC);
    g_assert_cmphex(st, ==, S_DRDY | S_DSC | S_DRQ);
    g_assert_cmpuint(it_irq_edges(m, PRI), ==, edges + 1);
    g_assert_true(it_irq(m, PRI));
    g_assert_cmphex(th_inb(m, PRI + R_STATUS), ==, S_DRDY | S_DSC | S_DRQ);
    g_assert_false(it_irq(m, PRI));      /* reading Status clears INTRQ */
    for (unsigned i = 0; i < 256; i++)
        w[i] = th_inw(m, PRI + R_DATA);
    g_assert_cmphex(th_inb(m, PRI + R_STATUS), ==, S_DRDY | S_DSC);
    g_assert_cmpuint(it_irq_edges(m, PRI), ==, edges + 1);   /* none at the end */

    g_assert_cmphex(w[0] & 0x8080, ==, 0);                    /* ATA, not removable */
    /* Standard translation: 16 heads, 63 sectors, total / 1008 cylinders. */
    g_assert_cmpuint(w[1], ==, DISK_SECTORS / (16 * 63));
    g_assert_cmpuint(w[3], ==, 16);
    g_assert_cmpuint(w[6], ==, 63);
    g_assert_cmphex(w[49] & 0x0300, ==, 0x0300);             /* LBA and DMA */
    g_assert_cmphex(w[53] & 0x0007, ==, 0x0007);
    g_assert_cmpuint(w[54], ==, w[1]);
    g_assert_cmpuint(w[55], ==, 16);
    g_assert_cmpuint(w[56], ==, 63);
    g_assert_cmpuint(w[57] | (uint32_t)w[58] << 16, ==, (uint32_t)w[1] * 16 * 63);
    g_assert_cmpuint(w[60] | (uint32_t)w[61] << 16, ==, DISK_SECTORS);
    g_assert_cmphex(w[47] & 0xFF, >=, 1);
    g_assert_cmphex(w[83] & 0xC400, ==, 0x4400);             /* 48-bit supported */
    g_assert_cmphex(w[86] & 0x0400, ==, 0x0400);             /* ... and enabled */
    g_assert_cmphex(w[83] & 0x3000, ==, 0x3000);             /* FLUSH CACHE (EXT) */
    uint64_t lba48 = w[100] | (uint64_t)w[101] << 16 | (uint64_t)w[102] << 32 |
                     (uint64_t)w[103] << 48;
    g_assert_cmpuint(lba48, ==, DISK_SECTORS);
    g_autofree char *model = it_ata_string(&w[27], 20);
    g_assert_cmpstr(model, ==, "TESSERA HARDDISK");
    /* The first character is in the high byte of word 27. */
    g_assert_cmphex(w[27], ==, 'T' << 8 | 'E');
    g_autofree char *fw = it_ata_string(&w[23], 4);
    g_assert_cmpstr(fw, !=, "");
    g_autofree char *serial = it_ata_string(&w[10], 10);
    g_assert_cmpstr(serial, !=, "");
    /* Word 255: signature A5h, checksum making the 512 bytes sum to 0. */
    uint8_t sum = 0;
    for (unsigned i = 0; i < 256; i++)
        sum = (uint8_t)(sum + (w[i] & 0xFF) + (w[i] >> 8));
    g_assert_cmphex(w[255] & 0xFF, ==, 0xA5);
    g_assert_cmphex(sum, ==, 0);
    fix_close(&f);
}

static void test_identify_strings(void)
{
    g_autofree char *dir = it_tmpdir();
    g_autofree char *img = it_image(dir, "d.img", 1 << 20);
    g_autofree char *xml = g_strdup_printf(
        "<drive bus='1' unit='1' model='ACME Disk 3000' serial='SN-42'>"
        "<disk format='raw' file='%s'/></drive>", img);
    TessMachine *m = it_machine(xml);
    it_enable(m);
    uint16_t w[256];
    it_identify(m, SEC, 1, 0xEC, w);
    g_autofree char *model = it_ata_string(&w[27], 20);
    g_autofree char *serial = it_ata_string(&w[10], 10);
    g_assert_cmpstr(model, ==, "ACME Disk 3000");
    g_assert_cmpstr(serial, ==, "SN-42");
    /* A 1 MiB disk: 2048 sectors, 2 cylinders of 16 x 63. */
    g_assert_cmpuint(w[1], ==, 2);
    g_assert_cmpuint(w[60], ==, 2048);
    th_machine_free(m);
    it_rmdir(g_steal_pointer(&dir));
}

/* A VHD records the CHS its creator's BIOS used: IDENTIFY reports it. */
static void test_identify_vhd_geometry(void)
{
    const TessDeviceClass *cls = tess_registry_lookup(th_registry(), "vhd");
    const TessBlockOps *ops = tess_block_class_ops(cls);
    if (!ops || !ops->create) {
        g_test_skip("no vhd backend");
        return;
    }
    g_autofree char *dir = it_tmpdir();
    g_autofree char *vhd = g_build_filename(dir, "d.vhd", NULL);
    GError *err = NULL;
    TessBlockCreate c = { .file = vhd, .size = 20u << 20, .type = "dynamic" };
    g_assert_true(ops->create(&c, &err));
    g_assert_no_error(err);
    g_autofree char *xml = g_strdup_printf(
        "<drive bus='0' unit='0'><disk format='vhd' file='%s'/></drive>", vhd);
    TessMachine *m = it_machine(xml);
    it_enable(m);
    TessDevice *disk = tess_machine_device(m, "ide0.drive0.disk");
    g_assert_nonnull(disk);
    TessBlockGeometry g;
    g_assert_true(tess_block_ops(disk)->geometry(disk, &g));
    /* VHD specification, CHS calculation: 20 MiB gives 17 sectors per
     * track and 4 heads, not the 16/63 translation. */
    g_assert_cmpuint(g.sectors, ==, 17);
    g_assert_cmpuint(g.heads, ==, 4);
    uint16_t w[256];
    it_identify(m, PRI, 0, 0xEC, w);
    g_assert_cmpuint(w[1], ==, g.cylinders);
    g_assert_cmpuint(w[3], ==, g.heads);
    g_assert_cmpuint(w[6], ==, g.sectors);
    uint64_t total = tess_block_ops(disk)->size(disk) / 512;
    g_assert_cmpuint(w[60] | (uint32_t)w[61] << 16, ==, total);
    th_machine_free(m);
    it_rmdir(g_steal_pointer(&dir));
}

static void check_sector(const uint8_t *buf, uint64_t lba)
{
    for (unsigned i = 0; i < 512; i++)
        if (buf[i] != it_pattern(lba * 512 + i))
            g_error("sector %" G_GUINT64_FORMAT " byte %u: %02x, want %02x", lba, i, buf[i],
                    it_pattern(lba * 512 + i));
}

static void test_pio_read(void)
{
    Fix f;
    fix_open(&f, NULL);
    TessMachine *m = f.m;
    uint8_t buf[512];
    unsigned edges = it_irq_edges(m, PRI);

    uint8_t st = it_cmd28(m, PRI, 0, 0x20, 1000, 3);
    for (unsigned s = 0; s < 3; s++) {
        g_assert_cmphex(st, ==, S_DRDY | S_DSC | S_DRQ);
        g_assert_cmpuint(it_irq_edges(m, PRI), ==, edges + s + 1);   /* one per block */
        (void)th_inb(m, PRI + R_STATUS);
        it_read_words(m, PRI, buf, 512);
        check_sector(buf, 1000 + s);
        st = it_wait(m, PRI);
    }
    g_assert_cmphex(st, ==, S_DRDY | S_DSC);
    g_assert_cmpuint(it_irq_edges(m, PRI), ==, edges + 3);
    /* Registers: the last sector read, nothing left. */
    g_assert_cmpuint(th_inb(m, PRI + R_LBAL) | th_inb(m, PRI + R_LBAM) << 8, ==, 1002);
    g_assert_cmpuint(th_inb(m, PRI + R_NSECT), ==, 0);

    /* 32-bit accesses to the data port move two words. */
    it_cmd28(m, PRI, 0, 0x20, 77, 1);
    for (unsigned i = 0; i < 512; i += 4) {
        uint32_t v = th_inl(m, PRI + R_DATA);
        memcpy(buf + i, &v, 4);
    }
    check_sector(buf, 77);
    g_assert_cmphex(it_wait(m, PRI), ==, S_DRDY | S_DSC);

    /* READ SECTORS EXT and the last sector of the disk. */
    st = it_cmd48(m, PRI, 0, 0x24, DISK_SECTORS - 1, 1);
    g_assert_cmphex(st, ==, S_DRDY | S_DSC | S_DRQ);
    it_read_words(m, PRI, buf, 512);
    check_sector(buf, DISK_SECTORS - 1);
    fix_close(&f);
}

static void test_pio_write(void)
{
    Fix f;
    fix_open(&f, NULL);
    TessMachine *m = f.m;
    uint8_t data[1024], back[1024];
    for (unsigned i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 31 + 5);
    unsigned edges = it_irq_edges(m, PRI);

    uint8_t st = it_cmd28(m, PRI, 0, 0x30, 20, 2);
    /* PIO data-out: DRQ for the first block without an interrupt. */
    g_assert_cmphex(st, ==, S_DRDY | S_DSC | S_DRQ);
    g_assert_cmpuint(it_irq_edges(m, PRI), ==, edges);
    it_write_words(m, PRI, data, 512);
    st = it_wait(m, PRI);
    g_assert_cmphex(st, ==, S_DRDY | S_DSC | S_DRQ);
    g_assert_cmpuint(it_irq_edges(m, PRI), ==, edges + 1);
    (void)th_inb(m, PRI + R_STATUS);
    for (unsigned i = 0; i < 512; i += 4) {   /* 32-bit accesses: two words each */
        uint32_t v;
        memcpy(&v, data + 512 + i, 4);
        th_outl(m, PRI + R_DATA, v);
    }
    st = it_wait(m, PRI);
    g_assert_cmphex(st, ==, S_DRDY | S_DSC);
    g_assert_cmpuint(it_irq_edges(m, PRI), ==, edges + 2);
    g_assert_cmphex(it_cmd(m, PRI, 0xE7), ==, S_DRDY | S_DSC);       /* FLUSH CACHE */
    it_file_read(f.img, 20 * 512, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), data, sizeof(data));
    /* Neighbours untouched. */
    it_file_read(f.img, 19 * 512, back, 512);
    check_sector(back, 19);
    it_file_read(f.img, 22 * 512, back, 512);
    check_sector(back, 22);

    /* Read it back through the drive. */
    it_cmd28(m, PRI, 0, 0x20, 21, 1);
    it_read_words(m, PRI, back, 512);
    g_assert_cmpmem(back, 512, data + 512, 512);

    /* WRITE SECTORS EXT */
    it_cmd48(m, PRI, 0, 0x34, 5000, 1);
    it_write_words(m, PRI, data, 512);
    g_assert_cmphex(it_wait(m, PRI), ==, S_DRDY | S_DSC);
    g_assert_cmphex(it_cmd(m, PRI, 0xEA), ==, S_DRDY | S_DSC);       /* FLUSH CACHE EXT */
    it_file_read(f.img, 5000 * 512, back, 512);
    g_assert_cmpmem(back, 512, data, 512);
    fix_close(&f);
}

static void test_multiple(void)
{
    Fix f;
    fix_open(&f, NULL);
    TessMachine *m = f.m;
    uint8_t buf[4 * 512];
    uint16_t w[256];

    /* Not enabled yet: READ MULTIPLE aborts. */
    uint8_t st = it_cmd28(m, PRI, 0, 0xC4, 0, 1);
    g_assert_cmphex(st, ==, S_DRDY | S_DSC | S_ERR);
    g_assert_cmphex(th_inb(m, PRI + R_ERROR), ==, E_ABRT);
    /* Block sizes must be powers of two up to word 47's limit. */
    th_outb(m, PRI + R_NSECT, 3);
    g_assert_cmphex(it_cmd(m, PRI, 0xC6), ==, S_DRDY | S_DSC | S_ERR);
    th_outb(m, PRI + R_NSECT, 4);
    g_assert_cmphex(it_cmd(m, PRI, 0xC6), ==, S_DRDY | S_DSC);
    it_identify(m, PRI, 0, 0xEC, w);
    g_assert_cmphex(w[59], ==, 0x0104);

    /* 10 sectors: DRQ blocks of 4, 4, 2, each with an interrupt. */
    unsigned edges = it_irq_edges(m, PRI);
    st = it_cmd28(m, PRI, 0, 0xC4, 300, 10);
    unsigned sizes[3] = { 4, 4, 2 }, lba = 300;
    for (unsigned b = 0; b < 3; b++) {
        g_assert_cmphex(st, ==, S_DRDY | S_DSC | S_DRQ);
        g_assert_cmpuint(it_irq_edges(m, PRI), ==, edges + b + 1);
        (void)th_inb(m, PRI + R_STATUS);
        it_read_words(m, PRI, buf, sizes[b] * 512);
        for (unsigned s = 0; s < sizes[b]; s++)
            check_sector(buf + 512 * s, lba + s);
        lba += sizes[b];
        st = it_wait(m, PRI);
    }
    g_assert_cmphex(st, ==, S_DRDY | S_DSC);

    /* WRITE MULTIPLE EXT: 6 sectors in blocks of 4 and 2. */
    uint8_t data[6 * 512], back[6 * 512];
    for (unsigned i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i ^ 0x5A);
    edges = it_irq_edges(m, PRI);
    st = it_cmd48(m, PRI, 0, 0x39, 700, 6);
    g_assert_cmphex(st, ==, S_DRDY | S_DSC | S_DRQ);
    it_write_words(m, PRI, data, 4 * 512);
    st = it_wait(m, PRI);
    g_assert_cmphex(st, ==, S_DRDY | S_DSC | S_DRQ);
    (void)th_inb(m, PRI + R_STATUS);
    it_write_words(m, PRI, data + 4 * 512, 2 * 512);
    g_assert_cmphex(it_wait(m, PRI), ==, S_DRDY | S_DSC);
    g_assert_cmpuint(it_irq_edges(m, PRI), ==, edges + 2);
    it_cmd(m, PRI, 0xE7);
    it_file_read(f.img, 700 * 512, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), data, sizeof(data));

    /* 0 disables multiple mode again. */
    th_outb(m, PRI + R_NSECT, 0);
    g_assert_cmphex(it_cmd(m, PRI, 0xC6), ==, S_DRDY | S_DSC);
    g_assert_cmphex(it_cmd28(m, PRI, 0, 0xC5, 0, 1), ==, S_DRDY | S_DSC | S_ERR);
    fix_close(&f);
}

static void test_chs(void)
{
    Fix f;
    fix_open(&f, NULL);
    TessMachine *m = f.m;
    uint16_t w[256];
    uint8_t buf[512];

    /* INITIALIZE DEVICE PARAMETERS: 4 heads, 17 sectors per track. */
    th_outb(m, PRI + R_NSECT, 17);
    th_outb(m, PRI + R_DEV, 0xA0 | 3);
    g_assert_cmphex(it_cmd(m, PRI, 0x91), ==, S_DRDY | S_DSC);
    it_identify(m, PRI, 0, 0xEC, w);
    g_assert_cmpuint(w[55], ==, 4);
    g_assert_cmpuint(w[56], ==, 17);
    g_assert_cmpuint(w[54], ==, DISK_SECTORS / (4 * 17));
    g_assert_cmpuint(w[57] | (uint32_t)w[58] << 16, ==, (uint32_t)w[54] * 4 * 17);
    g_assert_cmpuint(w[1], ==, DISK_SECTORS / (16 * 63));   /* default unchanged */

    /* Cylinder 5, head 2, sector 3: LBA (5 * 4 + 2) * 17 + 2 = 376. */
    th_outb(m, PRI + R_NSECT, 1);
    th_outb(m, PRI + R_LBAL, 3);
    th_outb(m, PRI + R_LBAM, 5);
    th_outb(m, PRI + R_LBAH, 0);
    th_outb(m, PRI + R_DEV, 0xA0 | 2);
    g_assert_cmphex(it_cmd(m, PRI, 0x20), ==, S_DRDY | S_DSC | S_DRQ);
    it_read_words(m, PRI, buf, 512);
    check_sector(buf, 376);

    /* Sector 0 and a head past the translation do not exist. */
    th_outb(m, PRI + R_LBAL, 0);
    g_assert_cmphex(it_cmd(m, PRI, 0x20), ==, S_DRDY | S_DSC | S_ERR);
    g_assert_cmphex(th_inb(m, PRI + R_ERROR), ==, E_IDNF);
    th_outb(m, PRI + R_LBAL, 1);
    th_outb(m, PRI + R_DEV, 0xA0 | 4);
    g_assert_cmphex(it_cmd(m, PRI, 0x20), ==, S_DRDY | S_DSC | S_ERR);
    g_assert_cmphex(th_inb(m, PRI + R_ERROR), ==, E_IDNF);
    /* 0 sectors per track is refused. */
    th_outb(m, PRI + R_NSECT, 0);
    g_assert_cmphex(it_cmd(m, PRI, 0x91), ==, S_DRDY | S_DSC | S_ERR);
    fix_close(&f);
}

/* Beyond 2^28 sectors only the 48-bit commands reach. */
static void test_lba48_sparse(void)
{
    g_autofree char *dir = it_tmpdir();
    g_autofree char *img = g_build_filename(dir, "big.img", NULL);
    const uint64_t sectors = (1ull << 28) + 4096;
    int fd = open(img, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, (off_t)(sectors * 512)), ==, 0);
    close(fd);
    const uint64_t lba = (1ull << 28) + 1234;
    uint8_t sec[512], buf[512];
    for (unsigned i = 0; i < 512; i++)
        sec[i] = it_pattern(lba * 512 + i);
    it_file_write(img, lba * 512, sec, 512);

    g_autofree char *xml = g_strdup_printf(
        "<drive bus='0' unit='0'><disk format='raw' file='%s'/></drive>", img);
    TessMachine *m = it_machine(xml);
    it_enable(m);
    uint16_t w[256];
    it_identify(m, PRI, 0, 0xEC, w);
    g_assert_cmphex(w[60] | (uint32_t)w[61] << 16, ==, 0x0FFFFFFF);
    uint64_t total = w[100] | (uint64_t)w[101] << 16 | (uint64_t)w[102] << 32 |
                     (uint64_t)w[103] << 48;
    g_assert_cmpuint(total, ==, sectors);
    g_assert_cmpuint(w[1], ==, 16383);

    g_assert_cmphex(it_cmd48(m, PRI, 0, 0x24, lba, 1), ==, S_DRDY | S_DSC | S_DRQ);
    it_read_words(m, PRI, buf, 512);
    g_assert_cmpmem(buf, 512, sec, 512);
    g_assert_cmphex(it_wait(m, PRI), ==, S_DRDY | S_DSC);
    /* The registers hold the 48-bit address: HOB gives bits 47:24. */
    th_outb(m, PRI_CTL, 0x80);
    g_assert_cmphex(th_inb(m, PRI + R_LBAL), ==, (uint8_t)(lba >> 24));
    th_outb(m, PRI_CTL, 0x00);
    g_assert_cmphex(th_inb(m, PRI + R_LBAL), ==, (uint8_t)lba);

    /* Write past 2^28, then see it in the file. */
    for (unsigned i = 0; i < 512; i++)
        sec[i] = (uint8_t)(0xC3 ^ i);
    it_cmd48(m, PRI, 0, 0x34, lba + 100, 1);
    it_write_words(m, PRI, sec, 512);
    g_assert_cmphex(it_wait(m, PRI), ==, S_DRDY | S_DSC);
    it_cmd(m, PRI, 0xEA);
    it_file_read(img, (lba + 100) * 512, buf, 512);
    g_assert_cmpmem(buf, 512, sec, 512);

    /* A sector count of 0 means 65536 for the EXT commands: the last
     * 100 sectors exist, then IDNF. */
    uint8_t st = it_cmd48(m, PRI, 0, 0x42, sectors - 100, 0);
    g_assert_cmphex(st, ==, S_DRDY | S_DSC | S_ERR);
    g_assert_cmphex(th_inb(m, PRI + R_ERROR), ==, E_IDNF);
    th_machine_free(m);
    it_rmdir(g_steal_pointer(&dir));
}

static uint64_t read_lba28(TessMachine *m, uint32_t base)
{
    return th_inb(m, base + R_LBAL) | th_inb(m, base + R_LBAM) << 8 |
           th_inb(m, base + R_LBAH) << 16 | (uint64_t)(th_inb(m, base + R_DEV) & 0x0F) << 24;
}

static void test_errors(void)
{
    Fix f;
    fix_open(&f, NULL);
    TessMachine *m = f.m;
    uint8_t buf[512];
    unsigned edges = it_irq_edges(m, PRI);

    /* An address past the end: IDNF with ERR, the address in the registers. */
    uint8_t st = it_cmd28(m, PRI, 0, 0x20, DISK_SECTORS, 1);
    g_assert_cmphex(st, ==, S_DRDY | S_DSC | S_ERR);
    g_assert_cmphex(th_inb(m, PRI + R_ERROR), ==, E_IDNF);
    g_assert_cmpuint(read_lba28(m, PRI), ==, DISK_SECTORS);
    g_assert_cmpuint(it_irq_edges(m, PRI), ==, edges + 1);

    /* Across the end: two sectors arrive, then IDNF at the first missing one. */
    st = it_cmd28(m, PRI, 0, 0x20, DISK_SECTORS - 2, 4);
    for (unsigned s = 0; s < 2; s++) {
        g_assert_cmphex(st, ==, S_DRDY | S_DSC | S_DRQ);
        it_read_words(m, PRI, buf, 512);
        check_sector(buf, DISK_SECTORS - 2 + s);
        st = it_wait(m, PRI);
    }
    g_assert_cmphex(st, ==, S_DRDY | S_DSC | S_ERR);
    g_assert_cmphex(th_inb(m, PRI + R_ERROR), ==, E_IDNF);
    g_assert_cmpuint(read_lba28(m, PRI), ==, DISK_SECTORS);

    /* Writes past the end and READ VERIFY too. */
    g_assert_cmphex(it_cmd28(m, PRI, 0, 0x30, DISK_SECTORS + 5, 1), ==, S_DRDY | S_DSC | S_ERR);
    g_assert_cmphex(th_inb(m, PRI + R_ERROR), ==, E_IDNF);
    g_assert_cmphex(it_cmd28(m, PRI, 0, 0x40, DISK_SECTORS - 1, 2), ==, S_DRDY | S_DSC | S_ERR);
    g_assert_cmphex(th_inb(m, PRI + R_ERROR), ==, E_IDNF);
    g_assert_cmphex(it_cmd28(m, PRI, 0, 0x40, DISK_SECTORS - 2, 2), ==, S_DRDY | S_DSC);

    /* Unknown commands, NOP, and the packet commands abort. */
    static const uint8_t abort_cmds[] = { 0x5A, 0xFF, 0x00, 0xA0, 0xA1, 0x08, 0xB0 };
    for (unsigned i = 0; i < G_N_ELEMENTS(abort_cmds); i++) {
        edges = it_irq_edges(m, PRI);
        g_assert_cmphex(it_cmd(m, PRI, abort_cmds[i]), ==, S_DRDY | S_DSC | S_ERR);
        g_assert_cmphex(th_inb(m, PRI + R_ERROR), ==, E_ABRT);
        g_assert_cmpuint(it_irq_edges(m, PRI), ==, edges + 1);
    }
    /* The next good command clears ERR. */
    g_assert_cmphex(it_cmd28(m, PRI, 0, 0x40, 0, 1), ==, S_DRDY | S_DSC);
    fix_close(&f);
}

static void test_readonly(void)
{
    g_autofree char *dir = it_tmpdir();
    g_autofree char *img = it_image(dir, "ro.img", 1 << 20);
    g_autofree char *xml = g_strdup_printf(
        "<drive bus='0' unit='0'><disk format='raw' file='%s' readonly='on'/></drive>", img);
    TessMachine *m = it_machine(xml);
    it_enable(m);
    uint8_t data[512] = { 1, 2, 3 }, back[512];
    g_assert_cmphex(it_cmd28(m, PRI, 0, 0x30, 3, 1), ==, S_DRDY | S_DSC | S_DRQ);
    it_write_words(m, PRI, data, 512);
    g_assert_cmphex(it_wait(m, PRI), ==, S_DRDY | S_DSC | S_ERR);
    g_assert_cmphex(th_inb(m, PRI + R_ERROR), ==, E_ABRT);
    it_file_read(img, 3 * 512, back, 512);
    check_sector(back, 3);
    th_machine_free(m);
    it_rmdir(g_steal_pointer(&dir));
}

/* Backend I/O errors: a failed read is UNC, a failed write ABRT, at the
 * failing sector; FLUSH CACHE reaches the backend. */
static void test_backend_errors(void)
{
    g_autoptr(GError) err = NULL;
    if (!tess_registry_lookup(th_registry(), bd_class.type))
        g_assert_true(tess_registry_add_builtin(th_registry(), &bd_class, &err));
    TessMachine *m = it_machine("<drive bus='0' unit='0'><disk format='test-bad-disk' bad='7'/></drive>");
    it_enable(m);
    BadDisk *bd = (BadDisk *)tess_machine_device(m, "ide0.drive0.disk");
    g_assert_nonnull(bd);
    uint8_t buf[512];

    uint8_t st = it_cmd28(m, PRI, 0, 0x20, 6, 3);
    g_assert_cmphex(st, ==, S_DRDY | S_DSC | S_DRQ);
    it_read_words(m, PRI, buf, 512);
    g_assert_cmphex(buf[0], ==, 0x5A);
    st = it_wait(m, PRI);
    g_assert_cmphex(st, ==, S_DRDY | S_DSC | S_ERR);
    g_assert_cmphex(th_inb(m, PRI + R_ERROR), ==, E_UNC);
    g_assert_cmpuint(read_lba28(m, PRI), ==, 7);

    /* DMA read over the bad sector: the two before it arrive, then UNC
     * with the bad sector's address. */
    uint8_t junk[4 * 512], got[4 * 512];
    memset(junk, 0xEE, sizeof(junk));
    it_mem_write(m, 0x10000, junk, sizeof(junk));
    it_prd(m, 0x1000, 0, 0x10000, 4 * 512, true);
    it_bm_setup(m, 0, 0x1000, true);
    it_bm_start(m, 0, true);
    it_cmd28(m, PRI, 0, 0xC8, 5, 4);
    g_assert_cmphex(it_wait_idle(m, PRI), ==, S_DRDY | S_DSC | S_ERR);
    g_assert_cmphex(th_inb(m, PRI + R_ERROR), ==, E_UNC);
    g_assert_cmpuint(read_lba28(m, PRI), ==, 7);
    it_mem_read(m, 0x10000, got, sizeof(got));
    for (unsigned i = 0; i < sizeof(got); i++)
        g_assert_cmphex(got[i], ==, i < 2 * 512 ? 0x5A : 0xEE);
    th_outb(m, BMIBA, 0x08);

    st = it_cmd28(m, PRI, 0, 0x30, 7, 1);
    g_assert_cmphex(st, ==, S_DRDY | S_DSC | S_DRQ);
    it_write_words(m, PRI, buf, 512);
    g_assert_cmphex(it_wait(m, PRI), ==, S_DRDY | S_DSC | S_ERR);
    g_assert_cmphex(th_inb(m, PRI + R_ERROR), ==, E_ABRT);
    g_assert_cmpuint(read_lba28(m, PRI), ==, 7);

    /* FLUSH CACHE calls the backend; with the write cache off every
     * write command is followed by a flush. */
    unsigned f0 = bd->flushes;
    it_cmd(m, PRI, 0xE7);
    g_assert_cmpuint(bd->flushes, ==, f0 + 1);
    it_cmd28(m, PRI, 0, 0x30, 100, 2);
    it_write_words(m, PRI, buf, 512);
    it_wait(m, PRI);
    it_write_words(m, PRI, buf, 512);
    g_assert_cmphex(it_wait(m, PRI), ==, S_DRDY | S_DSC);
    g_assert_cmpuint(bd->flushes, ==, f0 + 1);              /* cached */
    th_outb(m, PRI + R_FEAT, 0x82);
    it_cmd(m, PRI, 0xEF);
    unsigned f1 = bd->flushes;
    it_cmd28(m, PRI, 0, 0x30, 100, 1);
    it_write_words(m, PRI, buf, 512);
    g_assert_cmphex(it_wait(m, PRI), ==, S_DRDY | S_DSC);
    g_assert_cmpuint(bd->flushes, ==, f1 + 1);
    th_machine_free(m);
}

static void check_signature(TessMachine *m, uint32_t base, unsigned unit, bool atapi)
{
    it_select(m, base, unit);
    g_assert_cmphex(th_inb(m, base + R_NSECT), ==, 0x01);
    g_assert_cmphex(th_inb(m, base + R_LBAL), ==, 0x01);
    g_assert_cmphex(th_inb(m, base + R_LBAM), ==, atapi ? 0x14 : 0x00);
    g_assert_cmphex(th_inb(m, base + R_LBAH), ==, atapi ? 0xEB : 0x00);
    g_assert_cmphex(th_inb(m, base + R_ERROR), ==, 0x01);
    g_assert_cmphex(th_inb(m, base + R_STATUS), ==, atapi ? 0x00 : S_DRDY | S_DSC);
}

static void test_soft_reset(void)
{
    Fix f;
    fix_open(&f, "<drive bus='0' unit='1' media='cdrom'/>");
    TessMachine *m = f.m;
    unsigned edges = it_irq_edges(m, PRI);

    /* Leave junk and a half-done transfer behind. */
    it_cmd28(m, PRI, 0, 0x20, 1234, 5);
    g_assert_true(it_alt(m, PRI) & S_DRQ);
    edges = it_irq_edges(m, PRI);
    th_outb(m, PRI_CTL, 0x04);           /* SRST */
    g_assert_cmphex(it_alt(m, PRI), ==, S_BSY);
    th_advance(m, 100000);
    g_assert_cmphex(it_alt(m, PRI), ==, S_BSY);   /* busy while SRST is set */
    th_outb(m, PRI_CTL, 0x00);
    it_wait(m, PRI);
    g_assert_cmpuint(it_irq_edges(m, PRI), ==, edges);   /* no interrupt */
    /* Device 0 is selected afterwards. */
    g_assert_cmphex(th_inb(m, PRI + R_DEV) & 0x10, ==, 0);
    check_signature(m, PRI, 0, false);
    check_signature(m, PRI, 1, true);
    /* The transfer is gone. */
    it_select(m, PRI, 0);
    g_assert_cmphex(th_inw(m, PRI + R_DATA), ==, 0xFFFF);

    /* EXECUTE DEVICE DIAGNOSTIC: the same signatures, with an interrupt. */
    th_outb(m, PRI + R_LBAM, 0x77);
    edges = it_irq_edges(m, PRI);
    it_select(m, PRI, 0);
    it_cmd(m, PRI, 0x90);
    g_assert_cmpuint(it_irq_edges(m, PRI), ==, edges + 1);
    check_signature(m, PRI, 0, false);
    check_signature(m, PRI, 1, true);
    fix_close(&f);
}

static void test_absent_slave(void)
{
    Fix f;
    fix_open(&f, NULL);
    TessMachine *m = f.m;
    it_select(m, PRI, 1);
    /* ATA-6 9.16.1: Status and Alternate Status read 00h; the other
     * registers are device 0's, which latched the writes too. */
    g_assert_cmphex(th_inb(m, PRI + R_STATUS), ==, 0x00);
    g_assert_cmphex(it_alt(m, PRI), ==, 0x00);
    th_outb(m, PRI + R_NSECT, 0x55);
    th_outb(m, PRI + R_LBAL, 0xAA);
    g_assert_cmphex(th_inb(m, PRI + R_NSECT), ==, 0x55);
    g_assert_cmphex(th_inb(m, PRI + R_LBAL), ==, 0xAA);
    g_assert_cmphex(th_inb(m, PRI + R_DEV) & 0x10, ==, 0x10);
    /* Commands to it go nowhere. */
    unsigned edges = it_irq_edges(m, PRI);
    th_outb(m, PRI + R_CMD, 0xEC);
    g_assert_cmphex(it_alt(m, PRI), ==, 0x00);
    th_advance(m, 1000000);
    g_assert_cmpuint(it_irq_edges(m, PRI), ==, edges);
    it_select(m, PRI, 0);
    g_assert_cmphex(th_inb(m, PRI + R_STATUS), ==, S_DRDY | S_DSC);
    /* ... except EXECUTE DEVICE DIAGNOSTIC, which device 0 runs. */
    it_select(m, PRI, 1);
    th_outb(m, PRI + R_CMD, 0x90);
    th_advance(m, 1000000);
    it_select(m, PRI, 0);
    g_assert_cmphex(th_inb(m, PRI + R_ERROR), ==, 0x01);
    g_assert_cmphex(th_inb(m, PRI + R_STATUS), ==, S_DRDY | S_DSC);
    fix_close(&f);
}

static void test_hob_and_nien(void)
{
    Fix f;
    fix_open(&f, NULL);
    TessMachine *m = f.m;
    /* Each register keeps the previous write for HOB reads. */
    th_outb(m, PRI + R_NSECT, 0x12);
    th_outb(m, PRI + R_NSECT, 0x34);
    g_assert_cmphex(th_inb(m, PRI + R_NSECT), ==, 0x34);
    th_outb(m, PRI_CTL, 0x80);
    g_assert_cmphex(th_inb(m, PRI + R_NSECT), ==, 0x12);
    /* A write to a command block register clears HOB. */
    th_outb(m, PRI + R_LBAL, 0x01);
    g_assert_cmphex(th_inb(m, PRI + R_NSECT), ==, 0x34);

    /* nIEN: the command completes, INTRQ stays low. */
    th_outb(m, PRI_CTL, 0x02);
    unsigned edges = it_irq_edges(m, PRI);
    it_cmd28(m, PRI, 0, 0x40, 0, 1);
    g_assert_cmpuint(it_irq_edges(m, PRI), ==, edges);
    /* Clearing nIEN shows the still pending interrupt. */
    th_outb(m, PRI_CTL, 0x00);
    g_assert_true(it_irq(m, PRI));
    (void)th_inb(m, PRI + R_STATUS);
    g_assert_false(it_irq(m, PRI));
    /* The interrupt reaches the slave 8259's IR6 (ISA IRQ 14). */
    th_outb(m, 0xA0, 0x0A);              /* OCW3: read IRR */
    it_cmd28(m, PRI, 0, 0x40, 0, 1);
    g_assert_cmphex(th_inb(m, 0xA0) & 0x40, ==, 0x40);
    fix_close(&f);
}

static void test_set_features(void)
{
    Fix f;
    fix_open(&f, NULL);
    TessMachine *m = f.m;
    uint16_t w[256];

    it_identify(m, PRI, 0, 0xEC, w);
    g_assert_cmphex(w[82] & 0x0020, ==, 0x0020);
    g_assert_cmphex(w[85] & 0x0020, ==, 0x0020);  /* write cache on by default */
    th_outb(m, PRI + R_FEAT, 0x82);
    g_assert_cmphex(it_cmd(m, PRI, 0xEF), ==, S_DRDY | S_DSC);
    it_identify(m, PRI, 0, 0xEC, w);
    g_assert_cmphex(w[85] & 0x0020, ==, 0);
    /* With the cache off every write reaches the image at once. */
    uint8_t data[512], back[512];
    memset(data, 0xE1, sizeof(data));
    it_cmd28(m, PRI, 0, 0x30, 9, 1);
    it_write_words(m, PRI, data, 512);
    g_assert_cmphex(it_wait(m, PRI), ==, S_DRDY | S_DSC);
    it_file_read(f.img, 9 * 512, back, 512);
    g_assert_cmpmem(back, 512, data, 512);
    th_outb(m, PRI + R_FEAT, 0x02);
    g_assert_cmphex(it_cmd(m, PRI, 0xEF), ==, S_DRDY | S_DSC);

    /* Transfer modes: UDMA2 selected shows in word 88, MWDMA1 in 63. */
    th_outb(m, PRI + R_FEAT, 0x03);
    th_outb(m, PRI + R_NSECT, 0x42);
    g_assert_cmphex(it_cmd(m, PRI, 0xEF), ==, S_DRDY | S_DSC);
    it_identify(m, PRI, 0, 0xEC, w);
    g_assert_cmphex(w[88], ==, 0x003F | 0x0400);
    g_assert_cmphex(w[63] & 0xFF00, ==, 0);
    th_outb(m, PRI + R_FEAT, 0x03);
    th_outb(m, PRI + R_NSECT, 0x21);
    g_assert_cmphex(it_cmd(m, PRI, 0xEF), ==, S_DRDY | S_DSC);
    it_identify(m, PRI, 0, 0xEC, w);
    g_assert_cmphex(w[63], ==, 0x0007 | 0x0200);
    g_assert_cmphex(w[88] & 0xFF00, ==, 0);
    /* PIO mode 4 is fine; UDMA 7 and an unknown subcommand are not. */
    th_outb(m, PRI + R_FEAT, 0x03);
    th_outb(m, PRI + R_NSECT, 0x0C);
    g_assert_cmphex(it_cmd(m, PRI, 0xEF), ==, S_DRDY | S_DSC);
    th_outb(m, PRI + R_NSECT, 0x47);
    g_assert_cmphex(it_cmd(m, PRI, 0xEF), ==, S_DRDY | S_DSC | S_ERR);
    th_outb(m, PRI + R_FEAT, 0x31);
    g_assert_cmphex(it_cmd(m, PRI, 0xEF), ==, S_DRDY | S_DSC | S_ERR);
    g_assert_cmphex(th_inb(m, PRI + R_ERROR), ==, E_ABRT);
    fix_close(&f);
}

static void test_power(void)
{
    Fix f;
    fix_open(&f, NULL);
    TessMachine *m = f.m;
    it_select(m, PRI, 0);
    g_assert_cmphex(it_cmd(m, PRI, 0xE5), ==, S_DRDY | S_DSC);   /* CHECK POWER MODE */
    g_assert_cmphex(th_inb(m, PRI + R_NSECT), ==, 0xFF);
    g_assert_cmphex(it_cmd(m, PRI, 0xE0), ==, S_DRDY | S_DSC);   /* STANDBY IMMEDIATE */
    it_cmd(m, PRI, 0xE5);
    g_assert_cmphex(th_inb(m, PRI + R_NSECT), ==, 0x00);
    /* A media access spins it up. */
    it_cmd28(m, PRI, 0, 0x40, 0, 1);
    it_cmd(m, PRI, 0xE5);
    g_assert_cmphex(th_inb(m, PRI + R_NSECT), ==, 0xFF);
    it_cmd(m, PRI, 0xE2);                                        /* STANDBY */
    it_cmd(m, PRI, 0xE1);                                        /* IDLE IMMEDIATE */
    it_cmd(m, PRI, 0xE5);
    g_assert_cmphex(th_inb(m, PRI + R_NSECT), ==, 0xFF);
    it_cmd(m, PRI, 0x96);                                        /* old STANDBY */
    it_cmd(m, PRI, 0x98);                                        /* old CHECK POWER MODE */
    g_assert_cmphex(th_inb(m, PRI + R_NSECT), ==, 0x00);

    /* SLEEP: only a reset brings it back. */
    unsigned edges = it_irq_edges(m, PRI);
    it_cmd(m, PRI, 0xE6);
    g_assert_cmpuint(it_irq_edges(m, PRI), ==, edges + 1);
    (void)th_inb(m, PRI + R_STATUS);
    th_outb(m, PRI + R_CMD, 0xEC);
    th_advance(m, 1000000);
    g_assert_cmpuint(it_irq_edges(m, PRI), ==, edges + 1);
    g_assert_false(it_alt(m, PRI) & S_DRQ);
    th_outb(m, PRI_CTL, 0x04);
    th_outb(m, PRI_CTL, 0x00);
    it_wait(m, PRI);
    uint16_t w[256];
    it_identify(m, PRI, 0, 0xEC, w);
    fix_close(&f);
}

static void test_busy_and_stray(void)
{
    Fix f;
    fix_open(&f, NULL);
    TessMachine *m = f.m;
    /* A command written while BSY is ignored. */
    it_cmd28(m, PRI, 0, 0x40, 0, 1);
    th_outb(m, PRI + R_NSECT, 1);
    th_outb(m, PRI + R_CMD, 0x20);
    g_assert_true(it_alt(m, PRI) & S_BSY);
    th_outb(m, PRI + R_CMD, 0xEC);
    g_assert_cmphex(it_wait(m, PRI), ==, S_DRDY | S_DSC | S_DRQ);
    uint8_t buf[512];
    it_read_words(m, PRI, buf, 512);
    check_sector(buf, 0);                /* the READ ran, not IDENTIFY */
    /* Data port accesses without DRQ change nothing. */
    g_assert_cmphex(th_inw(m, PRI + R_DATA), ==, 0xFFFF);
    th_outw(m, PRI + R_DATA, 0x1234);
    g_assert_cmphex(it_alt(m, PRI), ==, S_DRDY | S_DSC);
    /* A new command ends a transfer half way. */
    it_cmd28(m, PRI, 0, 0x20, 10, 2);
    (void)th_inw(m, PRI + R_DATA);
    it_cmd28(m, PRI, 0, 0x20, 40, 1);
    it_read_words(m, PRI, buf, 512);
    check_sector(buf, 40);
    fix_close(&f);
}

/* Machine-file mistakes are configuration errors that say what is wrong. */
static void test_config_errors(void)
{
    g_autofree char *dir = it_tmpdir();
    g_autofree char *img = it_image(dir, "d.img", 1 << 20);
    g_autofree char *disk = g_strdup_printf("<disk format='raw' file='%s'/>", img);
    g_autofree char *two = g_strdup_printf(
        "<drive bus='0' unit='1'>%s</drive><drive bus='0' unit='1' media='cdrom'/>", disk);
    g_autofree char *five = g_strdup_printf(
        "<drive bus='0' unit='0'>%s</drive><drive bus='0' unit='1' media='cdrom'/>"
        "<drive bus='1' unit='0' media='cdrom'/><drive bus='1' unit='1' media='cdrom'/>"
        "<drive bus='1' unit='1' media='cdrom'/>", disk);
    g_autofree char *longmodel = g_strdup_printf(
        "<drive model='0123456789012345678901234567890123456789X'>%s</drive>", disk);
    struct { const char *drives, *want; } cases[] = {
        { two, "both on bus 0 unit 1" },
        { five, "at most 4" },
        { "<drive bus='0' unit='0'/>", "needs an image" },
        { longmodel, "longer than 40" },
        { "<drive bus='2' media='cdrom'/>", "bus" },
        { "<drive media='floppy'/>", "floppy" },
        { "<drive media='cdrom'><disk format='nonesuch' file='x'/></drive>", "nonesuch" },
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *xml = g_strdup_printf("%s<device type='ide' id='ide0'>%s</device>",
                                               IT_BASE, cases[i].drives);
        GError *err = NULL;
        TessMachine *m = th_machine_try(xml, &err);
        g_assert_null(m);
        g_assert_nonnull(err);
        if (!strstr(err->message, cases[i].want))
            g_error("case %u: '%s' lacks '%s'", i, err->message, cases[i].want);
        g_error_free(err);
    }
    /* The PIIX3's function 0 slot is taken; no PCI bus at all. */
    GError *err = NULL;
    g_autofree char *taken = g_strdup_printf("%s<device type='ide' id='ide0' devfn='0x08'/>",
                                             IT_BASE);
    g_assert_null(th_machine_try(taken, &err));
    g_assert_nonnull(strstr(err->message, "taken"));
    g_clear_error(&err);
    g_assert_null(th_machine_try("<device type='ide' id='ide0'/>", &err));
    g_assert_nonnull(strstr(err->message, "pci-bus"));
    g_clear_error(&err);
    it_rmdir(g_steal_pointer(&dir));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ide/ata/pci-header", test_pci_header);
    g_test_add_func("/ide/ata/decode", test_decode);
    g_test_add_func("/ide/ata/identify", test_identify);
    g_test_add_func("/ide/ata/identify-strings", test_identify_strings);
    g_test_add_func("/ide/ata/identify-vhd-geometry", test_identify_vhd_geometry);
    g_test_add_func("/ide/ata/pio-read", test_pio_read);
    g_test_add_func("/ide/ata/pio-write", test_pio_write);
    g_test_add_func("/ide/ata/multiple", test_multiple);
    g_test_add_func("/ide/ata/chs", test_chs);
    g_test_add_func("/ide/ata/lba48-sparse", test_lba48_sparse);
    g_test_add_func("/ide/ata/errors", test_errors);
    g_test_add_func("/ide/ata/readonly", test_readonly);
    g_test_add_func("/ide/ata/backend-errors", test_backend_errors);
    g_test_add_func("/ide/ata/soft-reset", test_soft_reset);
    g_test_add_func("/ide/ata/absent-slave", test_absent_slave);
    g_test_add_func("/ide/ata/hob-nien", test_hob_and_nien);
    g_test_add_func("/ide/ata/set-features", test_set_features);
    g_test_add_func("/ide/ata/power", test_power);
    g_test_add_func("/ide/ata/busy-stray", test_busy_and_stray);
    g_test_add_func("/ide/ata/config-errors", test_config_errors);
    return g_test_run();
}
