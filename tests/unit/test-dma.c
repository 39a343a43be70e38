/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bus-master DMA: whole-transfer bounds checks, listeners. */
#include "fabric.h"

#include <string.h>

#define RAM_SIZE 0x100000u


typedef struct {
    TessMachine *m;
    TessDevice *dev;
    uint8_t *ram;
    GArray *written;        /* start, len pairs */
    unsigned mmio_calls;
} Fix;

static void fx_written(void *opaque, uint64_t start, uint64_t len)
{
    Fix *f = opaque;
    uint64_t v[2] = { start, len };
    g_array_append_vals(f->written, v, 2);
}

static const TessMemListener fx_listener = { NULL, fx_written };

static uint64_t fx_mmio_read(void *opaque, uint64_t offset, unsigned size)
{
    ((Fix *)opaque)->mmio_calls++;
    return 0;
}

static void fx_mmio_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    ((Fix *)opaque)->mmio_calls++;
}

static const TessIoOps fx_mmio = { fx_mmio_read, fx_mmio_write, TESS_W32 };

static void fx_init(Fix *f)
{
    memset(f, 0, sizeof(*f));
    f->m = fab_machine(true, 1, RAM_SIZE);
    f->ram = tess_mem_region_host(tess_machine_ram(f->m));
    for (unsigned i = 0; i < RAM_SIZE; i++)
        f->ram[i] = (uint8_t)(i ^ (i >> 8));
    f->dev = fab_device(f->m, &fab_owner_class, "busmaster");
    f->written = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    tess_mem_add_listener(f->m, &fx_listener, f);
}

static void fx_free(Fix *f)
{
    tess_machine_free(f->m);
    g_array_unref(f->written);
}

static bool ram_pristine(Fix *f)
{
    for (unsigned i = 0; i < RAM_SIZE; i++)
        if (f->ram[i] != (uint8_t)(i ^ (i >> 8)))
            return false;
    return true;
}

static void test_in_ram(void)
{
    Fix f;
    fx_init(&f);
    GError *err = NULL;
    uint8_t buf[0x3000];

    /* Across several pages. */
    g_assert_true(tess_dma_read(f.m, 0x1800, buf, sizeof(buf), &err));
    g_assert_no_error(err);
    g_assert_cmpmem(buf, sizeof(buf), f.ram + 0x1800, sizeof(buf));
    memset(buf, 0x5a, sizeof(buf));
    g_assert_true(tess_dma_write(f.m, 0x7ff, buf, sizeof(buf), &err));
    g_assert_no_error(err);
    g_assert_cmpmem(buf, sizeof(buf), f.ram + 0x7ff, sizeof(buf));
    g_assert_cmpuint(f.ram[0x7fe], ==, (uint8_t)(0x7fe ^ 0x7));
    g_assert_cmpuint(f.ram[0x7ff + sizeof(buf)], ==,
                     (uint8_t)((0x7ff + sizeof(buf)) ^ ((0x7ff + sizeof(buf)) >> 8)));
    /* The listeners heard which RAM changed. */
    g_assert_cmpuint(f.written->len, ==, 2);
    g_assert_cmphex(g_array_index(f.written, uint64_t, 0), ==, 0x7ff);
    g_assert_cmphex(g_array_index(f.written, uint64_t, 1), ==, sizeof(buf));

    /* Up to the last byte of RAM is fine; nothing at all is fine. */
    g_assert_true(tess_dma_write(f.m, RAM_SIZE - 4, buf, 4, &err));
    g_assert_true(tess_dma_read(f.m, RAM_SIZE - 1, buf, 1, &err));
    g_assert_true(tess_dma_read(f.m, UINT64_MAX, buf, 0, &err));
    g_assert_no_error(err);
    fx_free(&f);
}

static void test_past_ram(void)
{
    Fix f;
    fx_init(&f);
    GError *err = NULL;
    uint8_t buf[0x40], copy[0x40];
    memset(buf, 0xc3, sizeof(buf));
    memcpy(copy, buf, sizeof(buf));

    /* The first 0x20 bytes are RAM, the rest are not: nothing moves. */
    g_assert_false(tess_dma_write(f.m, RAM_SIZE - 0x20, buf, sizeof(buf), &err));
    g_assert_error(err, TESS_BUS_ERROR, TESS_ERROR_BOUNDS);
    g_assert_nonnull(strstr(err->message, "0x100000"));
    g_clear_error(&err);
    g_assert_true(ram_pristine(&f));
    g_assert_cmpuint(f.written->len, ==, 0);

    g_assert_false(tess_dma_read(f.m, RAM_SIZE - 0x20, buf, sizeof(buf), &err));
    g_assert_error(err, TESS_BUS_ERROR, TESS_ERROR_BOUNDS);
    g_clear_error(&err);
    g_assert_cmpmem(buf, sizeof(buf), copy, sizeof(buf));

    /* Wholly outside. */
    g_assert_false(tess_dma_read(f.m, 0x40000000, buf, 1, &err));
    g_assert_error(err, TESS_BUS_ERROR, TESS_ERROR_BOUNDS);
    g_assert_nonnull(strstr(err->message, "0x40000000"));
    g_clear_error(&err);
    g_assert_cmpmem(buf, sizeof(buf), copy, sizeof(buf));
    fx_free(&f);
}

static void test_overflow(void)
{
    Fix f;
    fx_init(&f);
    GError *err = NULL;
    uint8_t buf[0x2000];
    memset(buf, 0x96, sizeof(buf));

    /* paddr + len wraps past 2^64 back into RAM: must still fail. */
    g_assert_false(tess_dma_write(f.m, UINT64_MAX - 0xf, buf, 0x100, &err));
    g_assert_error(err, TESS_BUS_ERROR, TESS_ERROR_BOUNDS);
    g_clear_error(&err);
    g_assert_false(tess_dma_write(f.m, UINT64_C(0xfffffffffffff000), buf, 0x2000, &err));
    g_assert_error(err, TESS_BUS_ERROR, TESS_ERROR_BOUNDS);
    g_clear_error(&err);
    g_assert_false(tess_dma_read(f.m, UINT64_MAX, buf, 2, &err));
    g_assert_error(err, TESS_BUS_ERROR, TESS_ERROR_BOUNDS);
    g_clear_error(&err);
    /* A length near SIZE_MAX from a small address. */
    g_assert_false(tess_dma_read(f.m, 0x1000, buf, SIZE_MAX, &err));
    g_assert_error(err, TESS_BUS_ERROR, TESS_ERROR_BOUNDS);
    g_clear_error(&err);
    /* The end of the 36-bit space. */
    g_assert_false(tess_dma_read(f.m, (UINT64_C(1) << 36) - 1, buf, 2, &err));
    g_assert_error(err, TESS_BUS_ERROR, TESS_ERROR_BOUNDS);
    g_clear_error(&err);

    g_assert_true(ram_pristine(&f));
    g_assert_cmpuint(f.written->len, ==, 0);
    for (unsigned i = 0; i < sizeof(buf); i++)
        g_assert_cmpuint(buf[i], ==, 0x96);
    fx_free(&f);
}

static void test_mmio_and_rom(void)
{
    Fix f;
    fx_init(&f);
    GError *err = NULL;
    uint8_t buf[0x200];
    memset(buf, 0x3c, sizeof(buf));

    /* A small MMIO BAR inside a RAM page: the page is mixed. */
    TessMemRegion *bar = tess_mem_mmio_new(f.dev, "bar", 0x10, &fx_mmio, &f);
    g_assert_true(tess_mem_map(bar, 0x50080, TESS_PRIO_DEVICE, TESS_MAP_RW, &err));
    g_assert_false(tess_dma_write(f.m, 0x50000, buf, sizeof(buf), &err));
    g_assert_error(err, TESS_BUS_ERROR, TESS_ERROR_BOUNDS);
    g_assert_nonnull(strstr(err->message, "0x50080"));
    g_clear_error(&err);
    g_assert_false(tess_dma_read(f.m, 0x50000, buf, sizeof(buf), &err));
    g_clear_error(&err);
    g_assert_cmpuint(f.mmio_calls, ==, 0);
    g_assert_true(ram_pristine(&f));
    /* The RAM bytes beside it remain reachable. */
    g_assert_true(tess_dma_write(f.m, 0x50000, buf, 0x80, &err));
    g_assert_true(tess_dma_read(f.m, 0x50090, buf, 0x100, &err));
    g_assert_cmpmem(buf, 0x100, f.ram + 0x50090, 0x100);
    g_assert_no_error(err);

    /* ROM: readable by DMA, never writable. */
    TessMemRegion *rom = tess_mem_rom_new(f.dev, "rom", 0x1000, &err);
    memset(tess_mem_region_host(rom), 0xe5, 0x1000);
    g_assert_true(tess_mem_map(rom, 0xc0000, TESS_PRIO_ROM, TESS_MAP_RW, &err));
    g_assert_true(tess_dma_read(f.m, 0xbff00, buf, 0x200, &err));
    g_assert_no_error(err);
    g_assert_cmpmem(buf, 0x100, f.ram + 0xbff00, 0x100);
    g_assert_cmpuint(buf[0x100], ==, 0xe5);
    g_assert_false(tess_dma_write(f.m, 0xbff00, buf, 0x200, &err));
    g_assert_error(err, TESS_BUS_ERROR, TESS_ERROR_BOUNDS);
    g_assert_nonnull(strstr(err->message, "0xc0000"));
    g_clear_error(&err);
    g_assert_cmpuint(f.ram[0xbff00], ==, (uint8_t)(0xbff00 ^ 0xbff));

    /* PAM-style: writes to shadow RAM, reads from ROM; DMA sees the same. */
    TessMemRegion *shadow = tess_mem_alias_new(f.dev, "shadow", tess_machine_ram(f.m),
                                               0xc0000, 0x1000, &err);
    g_assert_true(tess_mem_map(shadow, 0xc0000, TESS_PRIO_CHIPSET, TESS_MAP_WRITE, &err));
    memset(buf, 0x11, 0x10);
    g_assert_true(tess_dma_write(f.m, 0xc0000, buf, 0x10, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(f.ram[0xc0000], ==, 0x11);
    g_assert_true(tess_dma_read(f.m, 0xc0000, buf, 0x10, &err));
    g_assert_cmpuint(buf[0], ==, 0xe5);
    fx_free(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/dma/in-ram", test_in_ram);
    g_test_add_func("/dma/past-ram", test_past_ram);
    g_test_add_func("/dma/overflow", test_overflow);
    g_test_add_func("/dma/mmio-and-rom", test_mmio_and_rom);
    return g_test_run();
}
