/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PIIX3 bus master IDE (82371SB 2.5, 2.7.3): READ/WRITE DMA (EXT) through
 * PRD tables in guest RAM, the BMISTA active/interrupt/error bits for
 * each way a transfer can end, and the bounds: a descriptor or buffer
 * outside RAM is an error, and nothing is touched.
 */
#include "ide-test.h"

#define DISK_BYTES (4u << 20)
#define DISK_SECTORS (DISK_BYTES / 512)
#define RAM "<memory size='2M'/>"
#define RAM_END 0x200000u
#define TABLE 0x1000u

#define BM_ACTIVE 0x01
#define BM_ERR    0x02
#define BM_INT    0x04

typedef struct {
    char *dir, *img, *iso;
    TessMachine *m;
} Fix;

static void fix_open(Fix *f)
{
    f->dir = it_tmpdir();
    f->img = it_image(f->dir, "disk.img", DISK_BYTES);
    f->iso = it_image(f->dir, "cd.iso", 64 * 2048);
    g_autofree char *xml = g_strdup_printf(
        "<drive bus='0' unit='0'><disk format='raw' file='%s'/></drive>"
        "<drive bus='1' unit='0' media='cdrom'><disk format='raw' file='%s' readonly='on'/></drive>",
        f->img, f->iso);
    f->m = it_machine_extra(xml, RAM);
    it_enable(f->m);
}

static void fix_close(Fix *f)
{
    th_machine_free(f->m);
    g_free(f->img);
    g_free(f->iso);
    it_rmdir(f->dir);
}

static void check_mem(TessMachine *m, uint32_t addr, uint64_t file_off, size_t len)
{
    g_autofree uint8_t *buf = g_malloc(len);
    it_mem_read(m, addr, buf, len);
    for (size_t i = 0; i < len; i++)
        if (buf[i] != it_pattern(file_off + i))
            g_error("memory 0x%zx: %02x, want %02x (file offset %" G_GUINT64_FORMAT ")",
                    addr + i, buf[i], it_pattern(file_off + i), file_off + i);
}

static void fill_mem(TessMachine *m, uint32_t addr, uint8_t v, size_t len)
{
    g_autofree uint8_t *buf = g_malloc(len);
    memset(buf, v, len);
    it_mem_write(m, addr, buf, len);
}

static bool mem_is(TessMachine *m, uint32_t addr, uint8_t v, size_t len)
{
    g_autofree uint8_t *buf = g_malloc(len);
    it_mem_read(m, addr, buf, len);
    for (size_t i = 0; i < len; i++)
        if (buf[i] != v)
            return false;
    return true;
}

static uint8_t dma28(TessMachine *m, uint8_t cmd, uint32_t lba, uint8_t count)
{
    it_cmd28(m, PRI, 0, cmd, lba, count);
    return it_wait_idle(m, PRI);
}

static uint8_t dma48(TessMachine *m, uint8_t cmd, uint64_t lba, uint16_t count)
{
    it_cmd48(m, PRI, 0, cmd, lba, count);
    return it_wait_idle(m, PRI);
}

static void test_read_dma(void)
{
    Fix f;
    fix_open(&f);
    TessMachine *m = f.m;
    /* Three sectors scattered over two regions; the table ends exactly. */
    it_prd(m, TABLE, 0, 0x10000, 1024, false);
    it_prd(m, TABLE, 1, 0x30000, 512, true);
    it_bm_setup(m, 0, TABLE, true);
    unsigned edges = it_irq_edges(m, PRI);
    /* Linux order: command first, then start the bus master. */
    th_outb(m, PRI + R_NSECT, 3);
    th_outb(m, PRI + R_LBAL, 100);
    th_outb(m, PRI + R_LBAM, 0);
    th_outb(m, PRI + R_LBAH, 0);
    th_outb(m, PRI + R_DEV, 0xE0);
    th_outb(m, PRI + R_CMD, 0xC8);
    th_advance(m, 50000);
    g_assert_cmpuint(it_irq_edges(m, PRI), ==, edges);   /* waits for the bus master */
    g_assert_true(it_alt(m, PRI) & S_DRQ);
    it_bm_start(m, 0, true);
    g_assert_cmphex(it_bmista(m, 0), ==, BM_ACTIVE);
    g_assert_cmphex(it_wait_idle(m, PRI), ==, S_DRDY | S_DSC);
    g_assert_cmpuint(it_irq_edges(m, PRI), ==, edges + 1);
    /* Table exhausted with the data: not active, interrupt. */
    g_assert_cmphex(it_bmista(m, 0), ==, BM_INT);
    check_mem(m, 0x10000, 100 * 512, 1024);
    check_mem(m, 0x30000, 102 * 512, 512);
    /* The interrupt bit is write-one-to-clear. */
    th_outb(m, BMIBA + 2, BM_INT);
    g_assert_cmphex(it_bmista(m, 0), ==, 0);
    th_outb(m, BMIBA, 0x08);
    g_assert_cmphex(th_inb(m, PRI + R_STATUS), ==, S_DRDY | S_DSC);

    /* Bus master first, then READ DMA EXT; a byte count of 0 is 64 KiB. */
    it_prd(m, TABLE, 0, 0x40000, 0x10000, true);
    it_bm_setup(m, 0, TABLE, true);
    it_bm_start(m, 0, true);
    g_assert_cmphex(dma48(m, 0x25, 2000, 128), ==, S_DRDY | S_DSC);
    g_assert_cmphex(it_bmista(m, 0), ==, BM_INT);
    check_mem(m, 0x40000, 2000 * 512, 0x10000);
    fix_close(&f);
}

static void test_write_dma(void)
{
    Fix f;
    fix_open(&f);
    TessMachine *m = f.m;
    uint8_t data[1536], back[1536];
    for (unsigned i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 3 + 1);
    it_mem_write(m, 0x20000, data, 512);
    it_mem_write(m, 0x50000, data + 512, 1024);
    it_prd(m, TABLE, 0, 0x20000, 512, false);
    it_prd(m, TABLE, 1, 0x50000, 1024, true);
    it_bm_setup(m, 0, TABLE, false);
    it_bm_start(m, 0, false);
    g_assert_cmphex(dma28(m, 0xCA, 3000, 3), ==, S_DRDY | S_DSC);
    g_assert_cmphex(it_bmista(m, 0), ==, BM_INT);
    th_outb(m, BMIBA, 0x00);
    it_cmd(m, PRI, 0xE7);
    it_file_read(f.img, 3000 * 512, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), data, sizeof(data));

    /* WRITE DMA EXT of 130 sectors: more than one buffer's worth. */
    g_autofree uint8_t *big = g_malloc(130 * 512);
    g_autofree uint8_t *bigback = g_malloc(130 * 512);
    for (unsigned i = 0; i < 130 * 512; i++)
        big[i] = (uint8_t)(i / 512 + i);
    it_mem_write(m, 0x60000, big, 130 * 512);
    it_prd(m, TABLE, 0, 0x60000, 0x10000, false);
    it_prd(m, TABLE, 1, 0x70000, 2 * 512, true);
    it_bm_setup(m, 0, TABLE, false);
    it_bm_start(m, 0, false);
    g_assert_cmphex(dma48(m, 0x35, 4000, 130), ==, S_DRDY | S_DSC);
    g_assert_cmphex(it_bmista(m, 0), ==, BM_INT);
    it_cmd(m, PRI, 0xEA);
    it_file_read(f.img, 4000 * 512, bigback, 130 * 512);
    g_assert_cmpmem(bigback, 130 * 512, big, 130 * 512);
    fix_close(&f);
}

static void test_prd_sizes(void)
{
    Fix f;
    fix_open(&f);
    TessMachine *m = f.m;

    /* A table larger than the transfer: the drive finishes, the bus
     * master stays active until the host stops it. */
    it_prd(m, TABLE, 0, 0x10000, 4096, true);
    it_bm_setup(m, 0, TABLE, true);
    it_bm_start(m, 0, true);
    g_assert_cmphex(dma28(m, 0xC8, 7, 2), ==, S_DRDY | S_DSC);
    g_assert_cmphex(it_bmista(m, 0), ==, BM_ACTIVE | BM_INT);
    check_mem(m, 0x10000, 7 * 512, 1024);
    th_outb(m, BMIBA, 0x08);
    g_assert_cmphex(it_bmista(m, 0), ==, BM_INT);
    (void)th_inb(m, PRI + R_STATUS);

    /* A table smaller than the transfer: the bus master stops, no
     * interrupt, the drive still wants to move data. */
    it_prd(m, TABLE, 0, 0x20000, 512, true);
    it_bm_setup(m, 0, TABLE, true);
    unsigned edges = it_irq_edges(m, PRI);
    it_bm_start(m, 0, true);
    th_outb(m, PRI + R_NSECT, 2);
    th_outb(m, PRI + R_LBAL, 50);
    th_outb(m, PRI + R_DEV, 0xE0);
    th_outb(m, PRI + R_CMD, 0xC8);
    th_advance(m, 100000);
    g_assert_cmphex(it_bmista(m, 0), ==, 0);
    g_assert_cmpuint(it_irq_edges(m, PRI), ==, edges);
    g_assert_cmphex(it_alt(m, PRI) & S_DRQ, ==, S_DRQ);
    check_mem(m, 0x20000, 50 * 512, 512);
    /* A second table picks up where the data stopped. */
    it_prd(m, TABLE, 0, 0x21000, 512, true);
    th_outb(m, BMIBA, 0x08);
    it_bm_start(m, 0, true);
    g_assert_cmphex(it_wait_idle(m, PRI), ==, S_DRDY | S_DSC);
    g_assert_cmphex(it_bmista(m, 0), ==, BM_INT);
    check_mem(m, 0x21000, 51 * 512, 512);

    /* Odd byte counts and addresses: bit 0 is ignored. */
    it_prd(m, TABLE, 0, 0x30001, 513, false);
    it_prd(m, TABLE, 1, 0x31000, 512, true);
    it_bm_setup(m, 0, TABLE, true);
    it_bm_start(m, 0, true);
    g_assert_cmphex(dma28(m, 0xC8, 60, 2), ==, S_DRDY | S_DSC);
    check_mem(m, 0x30000, 60 * 512, 512);
    check_mem(m, 0x31000, 61 * 512, 512);
    fix_close(&f);
}

/* A table may not cross 64 KiB: the descriptor pointer wraps in its page. */
static void test_prd_wrap(void)
{
    Fix f;
    fix_open(&f);
    TessMachine *m = f.m;
    it_prd(m, 0x1FFF8, 0, 0x40000, 512, false);
    it_prd(m, 0x10000, 0, 0x41000, 512, true);
    fill_mem(m, 0x20000, 0xEE, 16);      /* where a linear table would go on */
    it_bm_setup(m, 0, 0x1FFF8, true);
    it_bm_start(m, 0, true);
    g_assert_cmphex(dma28(m, 0xC8, 9, 2), ==, S_DRDY | S_DSC);
    check_mem(m, 0x40000, 9 * 512, 512);
    check_mem(m, 0x41000, 10 * 512, 512);
    fix_close(&f);
}

static void test_outside_ram(void)
{
    Fix f;
    fix_open(&f);
    TessMachine *m = f.m;

    /* The second region runs off the end of RAM: the first is filled,
     * the second not at all, the bus master reports an error. */
    fill_mem(m, 0x10000, 0x11, 512);
    fill_mem(m, RAM_END - 256, 0x22, 256);
    it_prd(m, TABLE, 0, 0x10000, 512, false);
    it_prd(m, TABLE, 1, RAM_END - 256, 512, true);
    it_bm_setup(m, 0, TABLE, true);
    unsigned edges = it_irq_edges(m, PRI);
    it_bm_start(m, 0, true);
    uint8_t st = dma28(m, 0xC8, 30, 2);
    g_assert_cmphex(st, ==, S_DRDY | S_DSC | S_ERR);
    g_assert_cmphex(th_inb(m, PRI + R_ERROR), ==, E_ABRT);
    g_assert_cmpuint(it_irq_edges(m, PRI), ==, edges + 1);
    g_assert_cmphex(it_bmista(m, 0), ==, BM_ERR | BM_INT);
    check_mem(m, 0x10000, 30 * 512, 512);
    g_assert_true(mem_is(m, RAM_END - 256, 0x22, 256));
    /* PCI status: received master abort (write one to clear). */
    g_assert_cmphex(it_cfg_read(m, 0x06, 2) & 0x2000, ==, 0x2000);
    it_cfg_write(m, 0x06, 0x2000, 2);
    g_assert_cmphex(it_cfg_read(m, 0x06, 2) & 0x2000, ==, 0);
    th_outb(m, BMIBA + 2, BM_ERR | BM_INT);
    g_assert_cmphex(it_bmista(m, 0), ==, 0);

    /* A descriptor table outside RAM. */
    th_outb(m, BMIBA, 0x00);
    it_bm_setup(m, 0, 0x10000000u, true);
    it_bm_start(m, 0, true);
    g_assert_cmphex(dma28(m, 0xC8, 30, 1), ==, S_DRDY | S_DSC | S_ERR);
    g_assert_cmphex(it_bmista(m, 0), ==, BM_ERR | BM_INT);

    /* Writes to the disk from outside RAM: the image is not touched. */
    th_outb(m, BMIBA, 0x00);
    it_prd(m, TABLE, 0, 0xFFFF0000u, 1024, true);
    it_bm_setup(m, 0, TABLE, false);
    it_bm_start(m, 0, false);
    g_assert_cmphex(dma28(m, 0xCA, 40, 2), ==, S_DRDY | S_DSC | S_ERR);
    g_assert_cmphex(it_bmista(m, 0), ==, BM_ERR | BM_INT);
    it_cmd(m, PRI, 0xE7);
    uint8_t back[1024];
    it_file_read(f.img, 40 * 512, back, sizeof(back));
    for (unsigned i = 0; i < sizeof(back); i++)
        g_assert_cmphex(back[i], ==, it_pattern(40 * 512 + i));
    fix_close(&f);
}

static void test_bm_gates(void)
{
    Fix f;
    fix_open(&f);
    TessMachine *m = f.m;
    it_prd(m, TABLE, 0, 0x10000, 512, true);
    fill_mem(m, 0x10000, 0x33, 512);

    /* Bus mastering disabled in PCICMD: nothing moves. */
    it_cfg_write(m, 0x04, 0x0001, 2);
    it_bm_setup(m, 0, TABLE, true);
    it_bm_start(m, 0, true);
    th_outb(m, PRI + R_NSECT, 1);
    th_outb(m, PRI + R_LBAL, 5);
    th_outb(m, PRI + R_DEV, 0xE0);
    th_outb(m, PRI + R_CMD, 0xC8);
    th_advance(m, 200000);
    g_assert_true(mem_is(m, 0x10000, 0x33, 512));
    g_assert_true(it_alt(m, PRI) & S_DRQ);

    /* Direction the wrong way round: the transfer does not happen. */
    it_cfg_write(m, 0x04, 0x0005, 2);
    th_outb(m, BMIBA, 0x00);
    it_bm_start(m, 0, false);
    th_advance(m, 200000);
    g_assert_true(mem_is(m, 0x10000, 0x33, 512));
    /* Right way: it does. */
    th_outb(m, BMIBA, 0x08);
    it_bm_start(m, 0, true);
    g_assert_cmphex(it_wait_idle(m, PRI), ==, S_DRDY | S_DSC);
    check_mem(m, 0x10000, 5 * 512, 512);

    /* Stopping the bus master half way: SSBM cleared before it ran. */
    th_outb(m, BMIBA, 0x08);
    it_prd(m, TABLE, 0, 0x11000, 512, true);
    fill_mem(m, 0x11000, 0x44, 512);
    it_bm_start(m, 0, true);
    th_outb(m, PRI + R_CMD, 0xC8);
    th_advance(m, 3000);
    th_outb(m, BMIBA, 0x08);
    th_advance(m, 200000);
    g_assert_true(mem_is(m, 0x11000, 0x44, 512));
    g_assert_cmphex(it_bmista(m, 0) & BM_ACTIVE, ==, 0);

    /* BMIDTP is dword aligned; BMICOM keeps only SSBM and RWCON; the
     * drive-capable bits of BMISTA are storage. */
    th_outl(m, BMIBA + 4, 0x12345677);
    g_assert_cmphex(th_inl(m, BMIBA + 4), ==, 0x12345674);
    th_outb(m, BMIBA + 2, 0x60);
    g_assert_cmphex(it_bmista(m, 0) & 0x60, ==, 0x60);
    g_assert_cmphex(th_inb(m, BMIBA + 8), ==, 0);     /* secondary BMICOM */
    fix_close(&f);
}

static void test_atapi_dma(void)
{
    Fix f;
    fix_open(&f);
    TessMachine *m = f.m;
    it_prd(m, TABLE, 0, 0x10000, 3 * 2048, true);
    it_bm_setup(m, 1, TABLE, true);
    it_bm_start(m, 1, true);
    uint8_t cdb[12] = { 0x28, 0, 0, 0, 0, 10, 0, 0, 3 };   /* READ(10) lba 10, 3 */
    it_packet(m, SEC, 0, cdb, 0xFFFE, true);
    uint8_t st = it_wait_idle(m, SEC);
    g_assert_cmphex(st & (S_DRQ | S_ERR), ==, 0);
    g_assert_cmphex(th_inb(m, SEC + R_NSECT) & 3, ==, 3);     /* IO and CoD: done */
    g_assert_cmphex(it_bmista(m, 1), ==, BM_INT);
    check_mem(m, 0x10000, 10 * 2048, 3 * 2048);
    fix_close(&f);
}

/* 2 MiB in one command: more than the bus master moves per timer slice,
 * through 32 descriptors that all point at one 64 KiB buffer. */
static void test_large(void)
{
    Fix f;
    fix_open(&f);
    TessMachine *m = f.m;
    for (unsigned i = 0; i < 32; i++)
        it_prd(m, TABLE, i, 0x100000, 0x10000, i == 31);
    it_bm_setup(m, 0, TABLE, true);
    it_bm_start(m, 0, true);
    g_assert_cmphex(dma48(m, 0x25, 1000, 4096), ==, S_DRDY | S_DSC);
    g_assert_cmphex(it_bmista(m, 0), ==, BM_INT);
    check_mem(m, 0x100000, (1000 + 4096 - 128) * 512ull, 0x10000);
    /* Stopped while the transfer is between slices: it stays put. */
    it_bm_setup(m, 0, TABLE, true);
    it_bm_start(m, 0, true);
    it_cmd48(m, PRI, 0, 0x25, 0, 4096);
    uint8_t cur[2] = { 0 };
    for (unsigned i = 0; i < 100; i++) {
        th_advance(m, 1000);
        it_mem_read(m, 0x100000, cur, sizeof(cur));
        if ((cur[0] | cur[1] << 8) == 1920)  /* the first 1 MiB slice is in */
            break;
    }
    g_assert_cmpuint(cur[0] | cur[1] << 8, ==, 1920);
    th_outb(m, BMIBA, 0x08);
    g_assert_cmphex(it_bmista(m, 0) & (BM_ACTIVE | BM_INT), ==, 0);
    th_advance(m, 1000000);
    g_assert_true(it_alt(m, PRI) & S_DRQ);
    it_mem_read(m, 0x100000, cur, sizeof(cur));
    g_assert_cmpuint(cur[0] | cur[1] << 8, ==, 1920);
    fix_close(&f);
}

static void test_atapi_dma_error(void)
{
    Fix f;
    fix_open(&f);
    TessMachine *m = f.m;
    it_prd(m, TABLE, 0, RAM_END - 1024, 2048, true);
    it_bm_setup(m, 1, TABLE, true);
    it_bm_start(m, 1, true);
    uint8_t cdb[12] = { 0x28, 0, 0, 0, 0, 1, 0, 0, 1 };
    it_packet(m, SEC, 0, cdb, 0xFFFE, true);
    uint8_t st = it_wait_idle(m, SEC);
    g_assert_cmphex(st & S_ERR, ==, S_ERR);
    g_assert_cmphex(th_inb(m, SEC + R_ERROR) >> 4, ==, 0x0B);     /* ABORTED COMMAND */
    g_assert_cmphex(it_bmista(m, 1), ==, BM_ERR | BM_INT);
    fix_close(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ide/dma/read", test_read_dma);
    g_test_add_func("/ide/dma/write", test_write_dma);
    g_test_add_func("/ide/dma/prd-sizes", test_prd_sizes);
    g_test_add_func("/ide/dma/prd-wrap", test_prd_wrap);
    g_test_add_func("/ide/dma/outside-ram", test_outside_ram);
    g_test_add_func("/ide/dma/gates", test_bm_gates);
    g_test_add_func("/ide/dma/atapi", test_atapi_dma);
    g_test_add_func("/ide/dma/large", test_large);
    g_test_add_func("/ide/dma/atapi-error", test_atapi_dma_error);
    return g_test_run();
}
