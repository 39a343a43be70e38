/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Memory map: priorities, aliases, split read/write routing, sub-page
 * MMIO, listeners, and the slow paths. */
#include "fabric.h"

#include <string.h>


static TessMemRegion *ram_new(TessDevice *d, const char *name, uint64_t size, uint8_t fill)
{
    GError *err = NULL;
    TessMemRegion *r = tess_mem_ram_new(d, name, size, &err);
    g_assert_no_error(err);
    memset(tess_mem_region_host(r), fill, tess_mem_region_size(r));
    return r;
}

static void map(TessMemRegion *r, uint64_t addr, int prio, unsigned access)
{
    GError *err = NULL;
    g_assert_true(tess_mem_map(r, addr, prio, access, &err));
    g_assert_no_error(err);
}

/* MMIO that records accesses and answers with its offset pattern. */
typedef struct {
    GArray *log;        /* Access */
} Mmio;

typedef struct {
    char op;
    uint64_t offset;
    unsigned size;
    uint64_t value;
} Access;

static uint64_t mmio_read(void *opaque, uint64_t offset, unsigned size)
{
    Mmio *mm = opaque;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)(0xa0 + ((offset + i) & 0x1f)) << (8 * i);
    Access a = { 'r', offset, size, v };
    g_array_append_val(mm->log, a);
    return v;
}

static void mmio_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    Mmio *mm = opaque;
    Access a = { 'w', offset, size, value };
    g_array_append_val(mm->log, a);
}

static const TessIoOps mmio32 = { mmio_read, mmio_write, TESS_W32 };
static const TessIoOps mmio_any = { mmio_read, mmio_write,
                                    TESS_W8 | TESS_W16 | TESS_W32 | TESS_W64 };

static Access *nth(Mmio *mm, unsigned i)
{
    g_assert_cmpuint(i, <, mm->log->len);
    return &g_array_index(mm->log, Access, i);
}

static void test_main_ram(void)
{
    TessMachine *m = fab_machine(true, 1, 1 << 20);
    TessMemRegion *ram = tess_machine_ram(m);
    g_assert_nonnull(ram);
    g_assert_cmpuint(tess_machine_ram_size(m), ==, 1 << 20);
    g_assert_cmpuint(tess_machine_ram_below_4g(m), ==, 1 << 20);
    uint8_t *host = tess_mem_region_host(ram);

    TessMemPage p = tess_mem_page(m, 0x12345);
    g_assert_true(p.read == host + 0x12000);
    g_assert_true(p.write == host + 0x12000);
    g_assert_true(p.ram);
    tess_mem_write(m, 0x1000, 0x0807060504030201ull, 8);
    g_assert_cmpuint(host[0x1000], ==, 1);
    g_assert_cmpuint(host[0x1007], ==, 8);
    g_assert_cmphex(tess_mem_read(m, 0x1001, 2), ==, 0x0302);

    /* Past the end of RAM: nothing. */
    p = tess_mem_page(m, 1 << 20);
    g_assert_null(p.read);
    g_assert_null(p.write);
    g_assert_cmphex(tess_mem_read(m, 1 << 20, 4), ==, 0xffffffff);
    g_assert_cmphex(tess_mem_read(m, UINT64_C(0x800000000), 8), ==, UINT64_MAX);
    g_assert_cmphex(tess_mem_read(m, UINT64_C(1) << 40, 2), ==, 0xffff);
    tess_mem_write(m, UINT64_C(1) << 40, 0, 8);
    p = tess_mem_page(m, UINT64_MAX);
    g_assert_null(p.read);
    tess_machine_free(m);
}

static void test_ram_above_4g(void)
{
    TessMachineOptions o = { .deterministic = true, .ns_per_insn = 1 };
    TessMachine *m = tess_machine_new_empty(NULL, "test", &o);
    GError *err = NULL;
    /* 64 KiB below 4 GiB, 64 KiB above: small, but the same split. */
    g_assert_true(tess_mem_create_main_ram(m, 0x20000, 0x10000, &err));
    g_assert_no_error(err);
    uint8_t *host = tess_mem_region_host(tess_machine_ram(m));
    g_assert_cmpuint(tess_machine_ram_below_4g(m), ==, 0x10000);
    g_assert_true(tess_mem_page(m, 0xf000).read == host + 0xf000);
    g_assert_null(tess_mem_page(m, 0x10000).read);
    g_assert_true(tess_mem_page(m, UINT64_C(0x100000000)).read == host + 0x10000);
    g_assert_true(tess_mem_page(m, UINT64_C(0x10000f000)).write == host + 0x1f000);
    g_assert_null(tess_mem_page(m, UINT64_C(0x100010000)).read);
    tess_machine_free(m);

    /* More than 64 GiB of address space cannot be had. */
    m = tess_machine_new_empty(NULL, "test", &o);
    g_assert_false(tess_mem_create_main_ram(m, UINT64_C(1) << 37, 0x10000, &err));
    g_assert_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID);
    g_clear_error(&err);
    g_assert_null(tess_machine_ram(m));
    tess_machine_free(m);
}

static void test_priorities(void)
{
    TessMachine *m = fab_machine(true, 1, 1 << 20);
    TessDevice *d = fab_device(m, &fab_owner_class, "d");
    uint8_t *low = tess_mem_region_host(tess_machine_ram(m));
    memset(low + 0x40000, 0x11, 0x4000);
    TessMemRegion *b = ram_new(d, "b", 0x2000, 0x22);
    TessMemRegion *c = ram_new(d, "c", 0x1000, 0x33);
    TessMemRegion *e = ram_new(d, "e", 0x1000, 0x44);

    map(b, 0x41000, TESS_PRIO_ROM, TESS_MAP_RW);
    g_assert_cmphex(tess_mem_read(m, 0x40000, 1), ==, 0x11);
    g_assert_cmphex(tess_mem_read(m, 0x41000, 1), ==, 0x22);
    g_assert_cmphex(tess_mem_read(m, 0x42fff, 1), ==, 0x22);
    g_assert_cmphex(tess_mem_read(m, 0x43000, 1), ==, 0x11);
    g_assert_true(tess_mem_page(m, 0x42000).read == tess_mem_region_host(b) + 0x1000);

    /* Equal priority: the later mapping wins... */
    map(c, 0x42000, TESS_PRIO_ROM, TESS_MAP_RW);
    g_assert_cmphex(tess_mem_read(m, 0x42000, 1), ==, 0x33);
    g_assert_cmphex(tess_mem_read(m, 0x41fff, 1), ==, 0x22);
    /* ...but not a lower one mapped later still. */
    map(e, 0x42000, TESS_PRIO_RAM, TESS_MAP_RW);
    g_assert_cmphex(tess_mem_read(m, 0x42000, 1), ==, 0x33);
    /* Re-mapping b (a move to the same place) makes it the newest. */
    map(b, 0x41000, TESS_PRIO_ROM, TESS_MAP_RW);
    g_assert_cmphex(tess_mem_read(m, 0x42000, 1), ==, 0x22);
    map(c, 0x42000, TESS_PRIO_ROM, TESS_MAP_RW);
    g_assert_cmphex(tess_mem_read(m, 0x42000, 1), ==, 0x33);

    /* Unmapping reveals what lies beneath, level by level. */
    tess_mem_unmap(c);
    g_assert_false(tess_mem_is_mapped(c));
    g_assert_cmphex(tess_mem_read(m, 0x42000, 1), ==, 0x22);
    tess_mem_unmap(b);
    /* e (RAM priority, mapped after main RAM) beats main RAM. */
    g_assert_cmphex(tess_mem_read(m, 0x42000, 1), ==, 0x44);
    g_assert_cmphex(tess_mem_read(m, 0x41000, 1), ==, 0x11);
    tess_mem_unmap(e);
    g_assert_cmphex(tess_mem_read(m, 0x42000, 1), ==, 0x11);
    g_assert_true(tess_mem_page(m, 0x42000).read == low + 0x42000);

    /* Writes follow the winner too. */
    map(c, 0x42000, TESS_PRIO_DEVICE, TESS_MAP_RW);
    tess_mem_write(m, 0x42010, 0x5a, 1);
    g_assert_cmphex(tess_mem_region_host(c)[0x10], ==, 0x5a);
    g_assert_cmphex(low[0x42010], ==, 0x11);
    tess_machine_free(m);
}

static void test_aliases(void)
{
    TessMachine *m = fab_machine(true, 1, 1 << 20);
    TessDevice *d = fab_device(m, &fab_owner_class, "d");
    GError *err = NULL;
    TessMemRegion *t = ram_new(d, "target", 0x4000, 0);
    uint8_t *th = tess_mem_region_host(t);
    for (unsigned i = 0; i < 0x4000; i++)
        th[i] = (uint8_t)(i * 7);

    TessMemRegion *a = tess_mem_alias_new(d, "a", t, 0x1000, 0x2000, &err);
    g_assert_no_error(err);
    map(a, 0x80000, TESS_PRIO_DEVICE, TESS_MAP_RW);
    g_assert_cmphex(tess_mem_read(m, 0x80000, 1), ==, (uint8_t)(0x1000 * 7));
    g_assert_cmphex(tess_mem_read(m, 0x81ffe, 2), ==,
                    (uint8_t)(0x2ffe * 7) | (uint8_t)(0x2fff * 7) << 8);
    g_assert_true(tess_mem_page(m, 0x81000).read == th + 0x2000);
    g_assert_true(tess_mem_page(m, 0x81000).write == th + 0x2000);
    tess_mem_write(m, 0x80010, 0xdeadbeef, 4);
    g_assert_cmphex(th[0x1010], ==, 0xef);
    g_assert_cmphex(th[0x1013], ==, 0xde);

    /* An alias of an alias: offsets add up. */
    TessMemRegion *aa = tess_mem_alias_new(d, "aa", a, 0x1000, 0x1000, &err);
    g_assert_no_error(err);
    map(aa, 0x90000, TESS_PRIO_DEVICE, TESS_MAP_RW);
    g_assert_cmphex(tess_mem_read(m, 0x90004, 1), ==, (uint8_t)(0x2004 * 7));
    tess_mem_write(m, 0x90008, 0x77, 1);
    g_assert_cmphex(th[0x2008], ==, 0x77);

    /* An alias must fit inside its target. */
    g_assert_null(tess_mem_alias_new(d, "bad", t, 0x3000, 0x2000, &err));
    g_assert_error(err, TESS_BUS_ERROR, TESS_ERROR_INVALID);
    g_clear_error(&err);
    g_assert_null(tess_mem_alias_new(d, "bad", a, 0, 0x2001, &err));
    g_assert_error(err, TESS_BUS_ERROR, TESS_ERROR_INVALID);
    g_clear_error(&err);

    /* An alias of MMIO dispatches to the MMIO, offset adjusted. */
    Mmio mm = { g_array_new(FALSE, TRUE, sizeof(Access)) };
    TessMemRegion *io = tess_mem_mmio_new(d, "io", 0x1000, &mmio_any, &mm);
    TessMemRegion *ia = tess_mem_alias_new(d, "io-alias", io, 0x100, 0x100, &err);
    g_assert_no_error(err);
    map(ia, 0xa0000, TESS_PRIO_DEVICE, TESS_MAP_RW);
    g_assert_null(tess_mem_page(m, 0xa0000).read);
    g_assert_cmphex(tess_mem_read(m, 0xa0004, 2), ==, 0xa5a4);
    g_assert_cmpuint(nth(&mm, 0)->offset, ==, 0x104);
    tess_mem_write(m, 0xa0010, 0x99, 1);
    g_assert_cmpint(nth(&mm, 1)->op, ==, 'w');
    g_assert_cmpuint(nth(&mm, 1)->offset, ==, 0x110);
    g_assert_cmpuint(nth(&mm, 1)->size, ==, 1);

    /* Freeing the target leaves the alias decoding nothing. */
    tess_mem_region_free(t);
    g_assert_null(tess_mem_page(m, 0x80000).read);
    g_assert_cmphex(tess_mem_read(m, 0x80000, 4), ==, 0xffffffff);
    g_assert_cmphex(tess_mem_read(m, 0x90000, 1), ==, 0xff);
    tess_mem_write(m, 0x80000, 0, 4);
    g_array_unref(mm.log);
    tess_machine_free(m);
}

static void test_read_write_split(void)
{
    TessMachine *m = fab_machine(true, 1, 1 << 20);
    TessDevice *d = fab_device(m, &fab_owner_class, "chipset");
    GError *err = NULL;
    uint8_t *low = tess_mem_region_host(tess_machine_ram(m));
    memset(low + 0xe0000, 0x00, 0x20000);

    TessMemRegion *rom = tess_mem_rom_new(d, "bios", 0x10000, &err);
    g_assert_no_error(err);
    uint8_t *rh = tess_mem_region_host(rom);
    memset(rh, 0xea, 0x10000);
    map(rom, 0xf0000, TESS_PRIO_ROM, TESS_MAP_RW);

    /* ROM swallows writes. */
    TessMemPage p = tess_mem_page(m, 0xf0000);
    g_assert_true(p.read == rh);
    g_assert_null(p.write);
    g_assert_false(p.ram);
    tess_mem_write(m, 0xf0000, 0x12345678, 4);
    g_assert_cmphex(tess_mem_read(m, 0xf0000, 4), ==, 0xeaeaeaea);
    g_assert_cmphex(low[0xf0000], ==, 0);

    /* PAM "write enable": reads from ROM, writes to shadow RAM. */
    TessMemRegion *shadow = tess_mem_alias_new(d, "shadow", tess_machine_ram(m),
                                               0xf0000, 0x10000, &err);
    g_assert_no_error(err);
    map(rom, 0xf0000, TESS_PRIO_CHIPSET, TESS_MAP_READ);
    map(shadow, 0xf0000, TESS_PRIO_CHIPSET, TESS_MAP_WRITE);
    p = tess_mem_page(m, 0xf3000);
    g_assert_true(p.read == rh + 0x3000);
    g_assert_true(p.write == low + 0xf3000);
    g_assert_true(p.ram);
    tess_mem_write(m, 0xf3000, 0x12345678, 4);
    g_assert_cmphex(tess_mem_read(m, 0xf3000, 4), ==, 0xeaeaeaea);
    g_assert_cmphex(low[0xf3000], ==, 0x78);
    g_assert_cmphex(rh[0x3000], ==, 0xea);

    /* PAM "read enable" too: the shadow copy is now visible. */
    map(shadow, 0xf0000, TESS_PRIO_CHIPSET, TESS_MAP_RW);
    g_assert_cmphex(tess_mem_read(m, 0xf3000, 4), ==, 0x12345678);
    g_assert_true(tess_mem_page(m, 0xf3000).read == low + 0xf3000);

    /* Read-only shadow: writes fall through to the ROM below (ignored). */
    map(shadow, 0xf0000, TESS_PRIO_CHIPSET, TESS_MAP_READ);
    map(rom, 0xf0000, TESS_PRIO_ROM, TESS_MAP_RW);
    tess_mem_write(m, 0xf3000, 0xffffffff, 4);
    g_assert_cmphex(tess_mem_read(m, 0xf3000, 4), ==, 0x12345678);
    g_assert_null(tess_mem_page(m, 0xf3000).write);

    /* Bad access masks and addresses are refused. */
    g_assert_false(tess_mem_map(rom, 0xf0000, 0, 0, &err));
    g_assert_error(err, TESS_BUS_ERROR, TESS_ERROR_INVALID);
    g_clear_error(&err);
    g_assert_false(tess_mem_map(rom, (UINT64_C(1) << 36) - 0x1000, 0, TESS_MAP_RW, &err));
    g_assert_error(err, TESS_BUS_ERROR, TESS_ERROR_INVALID);
    g_clear_error(&err);
    /* A failed move leaves the old mapping alone. */
    g_assert_true(tess_mem_is_mapped(rom));
    g_assert_true(tess_mem_page(m, 0xf0000).read == low + 0xf0000);
    tess_machine_free(m);
}

static void test_subpage_mmio(void)
{
    TessMachine *m = fab_machine(true, 1, 1 << 20);
    TessDevice *d = fab_device(m, &fab_owner_class, "nic");
    uint8_t *low = tess_mem_region_host(tess_machine_ram(m));
    for (unsigned i = 0; i < 0x1000; i++)
        low[0x50000 + i] = (uint8_t)i;
    Mmio mm = { g_array_new(FALSE, TRUE, sizeof(Access)) };
    TessMemRegion *bar = tess_mem_mmio_new(d, "csr", 0x10, &mmio32, &mm);
    map(bar, 0x50010, TESS_PRIO_DEVICE, TESS_MAP_RW);

    /* The page has two owners, so no host pointers... */
    TessMemPage p = tess_mem_page(m, 0x50800);
    g_assert_null(p.read);
    g_assert_null(p.write);
    /* ...but its neighbours keep theirs. */
    g_assert_true(tess_mem_page(m, 0x51000).read == low + 0x51000);
    g_assert_true(tess_mem_page(m, 0x4f000).read == low + 0x4f000);

    g_assert_cmphex(tess_mem_read(m, 0x50004, 4), ==, 0x07060504);
    g_assert_cmphex(tess_mem_read(m, 0x50800, 1), ==, 0x00);
    g_assert_cmphex(tess_mem_read(m, 0x50014, 4), ==, 0xa7a6a5a4);
    g_assert_cmpuint(mm.log->len, ==, 1);
    g_assert_cmpuint(nth(&mm, 0)->offset, ==, 4);
    g_assert_cmpuint(nth(&mm, 0)->size, ==, 4);

    /* Straddling RAM and the BAR: each byte from its owner. */
    g_array_set_size(mm.log, 0);
    g_assert_cmphex(tess_mem_read(m, 0x5000c, 8), ==, 0xa3a2a1a00f0e0d0cull);
    g_assert_cmpuint(mm.log->len, ==, 1);
    g_assert_cmpuint(nth(&mm, 0)->offset, ==, 0);
    g_assert_cmpuint(nth(&mm, 0)->size, ==, 4);
    /* BAR end into RAM: a narrow (2-byte) piece becomes an aligned dword. */
    g_array_set_size(mm.log, 0);
    g_assert_cmphex(tess_mem_read(m, 0x5001e, 4), ==, 0x2120afaeu);
    g_assert_cmpuint(mm.log->len, ==, 1);
    g_assert_cmpuint(nth(&mm, 0)->offset, ==, 0xc);

    /* Writes: RAM bytes land in RAM, the BAR gets its part. */
    g_array_set_size(mm.log, 0);
    tess_mem_write(m, 0x5000e, 0x44332211, 4);
    g_assert_cmphex(low[0x5000e], ==, 0x11);
    g_assert_cmphex(low[0x5000f], ==, 0x22);
    g_assert_cmpuint(low[0x50010], ==, 0x10);
    g_assert_cmpuint(mm.log->len, ==, 1);
    g_assert_cmpint(nth(&mm, 0)->op, ==, 'w');
    g_assert_cmpuint(nth(&mm, 0)->offset, ==, 0);
    g_assert_cmphex(nth(&mm, 0)->value, ==, 0x4433);

    /* Two BARs in one page, and the page leaves sub-page mode when the BAR
     * moves to a page of its own (a page of nothing else). */
    Mmio mm2 = { g_array_new(FALSE, TRUE, sizeof(Access)) };
    TessMemRegion *bar2 = tess_mem_mmio_new(d, "csr2", 0x20, &mmio_any, &mm2);
    map(bar2, 0x50100, TESS_PRIO_DEVICE, TESS_MAP_RW);
    g_array_set_size(mm.log, 0);
    g_assert_cmphex(tess_mem_read(m, 0x50104, 1), ==, 0xa4);
    g_assert_cmpuint(mm2.log->len, ==, 1);
    g_assert_cmpuint(mm.log->len, ==, 0);
    map(bar, 0xfebf0000, TESS_PRIO_DEVICE, TESS_MAP_RW);
    tess_mem_unmap(bar2);
    p = tess_mem_page(m, 0x50000);
    g_assert_true(p.read == low + 0x50000);
    g_assert_cmphex(tess_mem_read(m, 0x50010, 1), ==, 0x10);
    g_array_set_size(mm.log, 0);
    g_assert_cmphex(tess_mem_read(m, 0xfebf0008, 4), ==, 0xabaaa9a8);
    g_assert_cmpuint(mm.log->len, ==, 1);
    /* The rest of that page is nobody's. */
    g_assert_cmphex(tess_mem_read(m, 0xfebf0010, 4), ==, 0xffffffff);
    g_assert_cmphex(tess_mem_read(m, 0xfebf000e, 4), ==, 0xffffafae);

    g_array_unref(mm.log);
    g_array_unref(mm2.log);
    tess_machine_free(m);
}

static void test_cross_page(void)
{
    TessMachine *m = fab_machine(true, 1, 0x10000);
    TessDevice *d = fab_device(m, &fab_owner_class, "d");
    GError *err = NULL;
    uint8_t *low = tess_mem_region_host(tess_machine_ram(m));
    TessMemRegion *rom = tess_mem_rom_new(d, "rom", 0x1000, &err);
    memset(tess_mem_region_host(rom), 0xcc, 0x1000);
    map(rom, 0x10000, TESS_PRIO_ROM, TESS_MAP_RW);

    /* RAM page then ROM page. */
    tess_mem_write(m, 0xfffc, 0x8877665544332211ull, 8);
    g_assert_cmphex(low[0xfffc], ==, 0x11);
    g_assert_cmphex(low[0xffff], ==, 0x44);
    g_assert_cmphex(tess_mem_read(m, 0xfffe, 4), ==, 0xcccc4433);
    g_assert_cmphex(tess_mem_read(m, 0xfff9, 8), ==, 0xcc44332211000000ull);
    /* ROM page then a hole. */
    g_assert_cmphex(tess_mem_read(m, 0x10ffe, 4), ==, 0xffffcccc);
    /* Hole then RAM, at the bottom of 4 GiB wrapping nowhere. */
    g_assert_cmphex(tess_mem_read(m, 0xfffffffe, 4), ==, 0xffffffff);
    tess_machine_free(m);
}

/* ---- listeners ------------------------------------------------------------ */

typedef struct {
    GArray *changed;    /* pairs start, len */
    GArray *written;
} Heard;

static void heard_changed(void *opaque, uint64_t start, uint64_t len)
{
    Heard *h = opaque;
    uint64_t v[2] = { start, len };
    g_array_append_vals(h->changed, v, 2);
}

static void heard_written(void *opaque, uint64_t start, uint64_t len)
{
    Heard *h = opaque;
    uint64_t v[2] = { start, len };
    g_array_append_vals(h->written, v, 2);
}

static const TessMemListener heard_listener = { heard_changed, heard_written };

static void expect_changes(Heard *h, const uint64_t *want, unsigned pairs)
{
    g_assert_cmpuint(h->changed->len, ==, pairs * 2);
    for (unsigned i = 0; i < pairs * 2; i++)
        g_assert_cmphex(g_array_index(h->changed, uint64_t, i), ==, want[i]);
    g_array_set_size(h->changed, 0);
}

static void test_listener(void)
{
    TessMachine *m = fab_machine(true, 1, 1 << 20);
    TessDevice *d = fab_device(m, &fab_owner_class, "d");
    Heard h = { g_array_new(FALSE, FALSE, 8), g_array_new(FALSE, FALSE, 8) };
    tess_mem_add_listener(m, &heard_listener, &h);

    TessMemRegion *r = ram_new(d, "r", 0x3000, 0);
    map(r, 0x200000, TESS_PRIO_DEVICE, TESS_MAP_RW);
    expect_changes(&h, (const uint64_t[]) { 0x200000, 0x3000 }, 1);

    /* A move: the old place and the new one. */
    map(r, 0x300000, TESS_PRIO_DEVICE, TESS_MAP_RW);
    expect_changes(&h, (const uint64_t[]) { 0x200000, 0x3000, 0x300000, 0x3000 }, 2);
    /* Overlapping move: one merged range. */
    map(r, 0x301000, TESS_PRIO_DEVICE, TESS_MAP_RW);
    expect_changes(&h, (const uint64_t[]) { 0x300000, 0x4000 }, 1);

    tess_mem_unmap(r);
    expect_changes(&h, (const uint64_t[]) { 0x301000, 0x3000 }, 1);
    tess_mem_unmap(r);      /* not mapped: nothing changes */
    expect_changes(&h, NULL, 0);

    /* Sub-page regions invalidate the whole page they sit in. */
    Mmio mm = { g_array_new(FALSE, TRUE, sizeof(Access)) };
    TessMemRegion *bar = tess_mem_mmio_new(d, "bar", 0x10, &mmio32, &mm);
    map(bar, 0x80ff8, TESS_PRIO_DEVICE, TESS_MAP_RW);
    expect_changes(&h, (const uint64_t[]) { 0x80000, 0x2000 }, 1);

    /* Batches: silence until commit, then sorted, merged ranges. */
    tess_mem_begin(m);
    map(r, 0x500000, TESS_PRIO_DEVICE, TESS_MAP_RW);
    tess_mem_begin(m);
    map(bar, 0x400000, TESS_PRIO_DEVICE, TESS_MAP_RW);
    tess_mem_commit(m);
    expect_changes(&h, NULL, 0);
    g_assert_true(tess_mem_page(m, 0x500000).read == tess_mem_region_host(r));
    tess_mem_unmap(r);
    tess_mem_commit(m);
    expect_changes(&h, (const uint64_t[]) {
        0x80000, 0x2000, 0x400000, 0x1000, 0x500000, 0x3000,
    }, 3);

    /* Freeing a device's regions is a change too. */
    tess_device_unrealize(d);
    expect_changes(&h, (const uint64_t[]) { 0x400000, 0x1000 }, 1);
    g_assert_cmphex(tess_mem_read(m, 0x400000, 4), ==, 0xffffffff);

    tess_mem_remove_listener(m, &heard_listener, &h);
    TessDevice *d2 = fab_device(m, &fab_owner_class, "d2");
    map(ram_new(d2, "x", 0x1000, 0), 0x600000, 0, TESS_MAP_RW);
    expect_changes(&h, NULL, 0);
    g_assert_cmpuint(h.written->len, ==, 0);

    g_array_unref(h.changed);
    g_array_unref(h.written);
    g_array_unref(mm.log);
    tess_machine_free(m);
}

static void test_high_and_sparse(void)
{
    TessMachine *m = fab_machine(true, 1, 0x1000);
    TessDevice *d = fab_device(m, &fab_owner_class, "d");
    TessMemRegion *r = ram_new(d, "top", 0x2000, 0x5e);
    /* The top of the 36-bit space. */
    map(r, (UINT64_C(1) << 36) - 0x2000, TESS_PRIO_DEVICE, TESS_MAP_RW);
    g_assert_cmphex(tess_mem_read(m, (UINT64_C(1) << 36) - 4, 4), ==, 0x5e5e5e5e);
    g_assert_cmphex(tess_mem_read(m, (UINT64_C(1) << 36) - 2, 4), ==, 0xffff5e5e);
    tess_mem_write(m, (UINT64_C(1) << 36) - 1, 0xaabb, 2);
    g_assert_cmphex(tess_mem_region_host(r)[0x1fff], ==, 0xbb);
    /* Leaves are 16 MiB apart from each other: crossing one. */
    TessMemRegion *s = ram_new(d, "span", 0x2000, 0x6f);
    map(s, 0x1fff000, TESS_PRIO_DEVICE, TESS_MAP_RW);
    g_assert_cmphex(tess_mem_read(m, 0x1ffffff, 2), ==, 0x6f6f);
    g_assert_true(tess_mem_page(m, 0x2000000).read == tess_mem_region_host(s) + 0x1000);
    tess_machine_free(m);
}

/* Regions spanning whole page-table leaves (16 MiB each) take a
 * shortcut when mapped and unmapped: every page must still come out as
 * the page-by-page search would make it - the top mapping wins, its host
 * pointers advance page by page, a read-only or smaller mapping over it
 * still decides its pages, and unmapping leaves nothing behind. */
static void test_big_regions(void)
{
    TessMachineOptions o = { .deterministic = true, .ns_per_insn = 1 };
    TessMachine *m = tess_machine_new_empty(NULL, "test", &o);
    TessDevice *d = fab_device(m, &fab_owner_class, "d");
    const uint64_t size = 40u << 20, at = (64u << 20) - 0x3000;   /* not leaf-aligned */
    TessMemRegion *big = ram_new(d, "big", size, 0);
    uint8_t *h = tess_mem_region_host(big);
    map(big, at, TESS_PRIO_DEVICE, TESS_MAP_RW);
    for (uint64_t off = 0; off < size; off += 0x1000) {
        TessMemPage p = tess_mem_page(m, at + off);
        g_assert_true(p.read == h + off && p.write == h + off && p.ram);
    }
    g_assert_null(tess_mem_page(m, at - 0x1000).read);
    g_assert_null(tess_mem_page(m, at + size).read);

    /* a ROM-like read-only region over part of it, and a one-page MMIO
     * window: both rank higher */
    TessMemRegion *ro = ram_new(d, "ro", 20u << 20, 0);
    map(ro, 64u << 20, TESS_PRIO_DEVICE + 1, TESS_MAP_READ);
    Mmio mm = { g_array_new(FALSE, TRUE, sizeof(Access)) };
    TessMemRegion *win = tess_mem_mmio_new(d, "win", 0x1000, &mmio32, &mm);
    map(win, 80u << 20, TESS_PRIO_DEVICE + 2, TESS_MAP_RW);
    for (uint64_t off = 0; off < size; off += 0x1000) {
        uint64_t pa = at + off;
        TessMemPage p = tess_mem_page(m, pa);
        if (pa == 80u << 20) {
            g_assert_null(p.read);
            g_assert_null(p.write);
        } else if (pa >= 64u << 20 && pa < 84u << 20) {
            g_assert_true(p.read == tess_mem_region_host(ro) + (pa - (64u << 20)));
            g_assert_true(p.write == h + off);
        } else {
            g_assert_true(p.read == h + off && p.write == h + off);
        }
    }
    tess_mem_unmap(ro);
    tess_mem_unmap(win);
    for (uint64_t off = 0; off < size; off += 0x1000)
        g_assert_true(tess_mem_page(m, at + off).read == h + off);
    tess_mem_unmap(big);
    for (uint64_t off = 0; off < size; off += 0x1000) {
        TessMemPage p = tess_mem_page(m, at + off);
        g_assert_true(!p.read && !p.write && !p.ram);
    }
    /* and back again, after the leaves went */
    map(big, at, TESS_PRIO_DEVICE, TESS_MAP_RW);
    g_assert_true(tess_mem_page(m, at + size - 0x1000).write == h + size - 0x1000);
    g_array_unref(mm.log);
    tess_machine_free(m);
}

/* ---- in-place changes ------------------------------------------------------ */

static void test_alias_move(void)
{
    TessMachine *m = fab_machine(true, 1, 1 << 20);
    TessDevice *d = fab_device(m, &fab_owner_class, "d");
    Heard h = { g_array_new(FALSE, FALSE, 8), g_array_new(FALSE, FALSE, 8) };
    TessMemRegion *vram = ram_new(d, "vram", 0x40000, 0);
    uint8_t *host = tess_mem_region_host(vram);
    for (unsigned b = 0; b < 4; b++)
        memset(host + b * 0x10000, 0x10 + b, 0x10000);
    GError *err = NULL;
    TessMemRegion *win = tess_mem_alias_new(d, "win", vram, 0, 0x10000, &err);
    g_assert_no_error(err);
    map(win, 0xA0000, TESS_PRIO_DEVICE, TESS_MAP_RW);
    tess_mem_add_listener(m, &heard_listener, &h);

    g_assert_cmphex(tess_mem_read(m, 0xA1234, 1), ==, 0x10);
    /* A bank switch: only the window is reported, and every page of it
     * now shows the new bank, through the slow and the cached path. */
    g_assert_true(tess_mem_alias_set_offset(win, 0x20000, &err));
    g_assert_no_error(err);
    expect_changes(&h, (const uint64_t[]) { 0xA0000, 0x10000 }, 1);
    g_assert_cmphex(tess_mem_alias_offset(win), ==, 0x20000);
    g_assert_cmphex(tess_mem_read(m, 0xA1234, 1), ==, 0x12);
    for (uint64_t pa = 0xA0000; pa < 0xB0000; pa += TESS_PAGE_SIZE) {
        TessMemPage p = tess_mem_page(m, pa);
        g_assert_true(p.read == host + 0x20000 + (pa - 0xA0000));
        g_assert_true(p.write == p.read);
    }
    tess_mem_write(m, 0xAFFFF, 0x77, 1);
    g_assert_cmphex(host[0x2FFFF], ==, 0x77);
    /* The same offset again is no change. */
    g_assert_true(tess_mem_alias_set_offset(win, 0x20000, &err));
    expect_changes(&h, NULL, 0);
    /* Past the end of the target: refused, nothing changes. */
    g_assert_false(tess_mem_alias_set_offset(win, 0x38000, &err));
    g_assert_error(err, TESS_BUS_ERROR, TESS_ERROR_INVALID);
    g_clear_error(&err);
    g_assert_false(tess_mem_alias_set_offset(win, UINT64_MAX - 0x1000, &err));
    g_clear_error(&err);
    g_assert_false(tess_mem_alias_set_offset(vram, 0, &err));    /* not an alias */
    g_clear_error(&err);
    expect_changes(&h, NULL, 0);
    g_assert_cmphex(tess_mem_read(m, 0xA0000, 1), ==, 0x12);

    /* Inside a batch the listeners hear once, at the end. */
    tess_mem_begin(m);
    g_assert_true(tess_mem_alias_set_offset(win, 0x10000, &err));
    g_assert_true(tess_mem_alias_set_offset(win, 0x30000, &err));
    expect_changes(&h, NULL, 0);
    tess_mem_commit(m);
    expect_changes(&h, (const uint64_t[]) { 0xA0000, 0x10000 }, 1);
    g_assert_cmphex(tess_mem_read(m, 0xA0000, 1), ==, 0x13);

    /* An unmapped alias moves silently and shows the bank once mapped. */
    tess_mem_unmap(win);
    expect_changes(&h, (const uint64_t[]) { 0xA0000, 0x10000 }, 1);
    g_assert_true(tess_mem_alias_set_offset(win, 0x10000, &err));
    expect_changes(&h, NULL, 0);
    map(win, 0xB0000, TESS_PRIO_DEVICE, TESS_MAP_RW);
    g_assert_cmphex(tess_mem_read(m, 0xB0000, 1), ==, 0x11);
    g_assert_cmphex(tess_mem_read(m, 0xA0000, 1), ==, 0);   /* RAM below again */

    /* A freed target: the alias is dark and cannot be pointed anywhere. */
    tess_mem_remove_listener(m, &heard_listener, &h);
    tess_mem_region_free(vram);
    g_assert_false(tess_mem_alias_set_offset(win, 0, &err));
    g_clear_error(&err);
    g_assert_cmphex(tess_mem_read(m, 0xB0000, 1), ==, 0xff);
    g_array_unref(h.changed);
    g_array_unref(h.written);
    tess_machine_free(m);
}

static void test_enable(void)
{
    TessMachine *m = fab_machine(true, 1, 1 << 20);
    TessDevice *d = fab_device(m, &fab_owner_class, "d");
    Heard h = { g_array_new(FALSE, FALSE, 8), g_array_new(FALSE, FALSE, 8) };
    Mmio mm = { g_array_new(FALSE, TRUE, sizeof(Access)) };
    TessMemRegion *legacy = tess_mem_mmio_new(d, "legacy", 0x20000, &mmio_any, &mm);
    map(legacy, 0xA0000, TESS_PRIO_DEVICE, TESS_MAP_RW);
    TessMemRegion *fast = ram_new(d, "fast", 0x8000, 0x3c);
    map(fast, 0xB8000, TESS_PRIO_DEVICE + 1, TESS_MAP_RW);
    tess_mem_add_listener(m, &heard_listener, &h);
    g_assert_true(tess_mem_is_enabled(fast));
    g_assert_cmphex(tess_mem_read(m, 0xB8000, 1), ==, 0x3c);

    /* Off: the window below answers, and only the window is reported. */
    tess_mem_set_enabled(fast, false);
    expect_changes(&h, (const uint64_t[]) { 0xB8000, 0x8000 }, 1);
    g_assert_false(tess_mem_is_enabled(fast));
    g_assert_true(tess_mem_is_mapped(fast));
    g_assert_null(tess_mem_page(m, 0xB8000).read);
    g_assert_cmphex(tess_mem_read(m, 0xB8001, 1), ==, 0xa0 + (0x18001 & 0x1f));
    g_assert_cmpuint(mm.log->len, ==, 1);
    tess_mem_set_enabled(fast, false);          /* already off */
    expect_changes(&h, NULL, 0);
    /* A disabled mapping also yields inside a shared page. */
    TessMemRegion *small = ram_new(d, "small", 0x100, 0x5a);
    map(small, 0xA0100, TESS_PRIO_DEVICE + 1, TESS_MAP_RW);
    g_assert_cmphex(tess_mem_read(m, 0xA0100, 1), ==, 0x5a);
    tess_mem_set_enabled(small, false);
    g_assert_cmphex(tess_mem_read(m, 0xA0100, 1), ==, 0xa0);

    /* On again: back on top, same rank as before. */
    g_array_set_size(h.changed, 0);
    tess_mem_set_enabled(fast, true);
    expect_changes(&h, (const uint64_t[]) { 0xB8000, 0x8000 }, 1);
    g_assert_true(tess_mem_page(m, 0xB8000).read == tess_mem_region_host(fast));
    /* The setting survives an unmap and a map elsewhere. */
    tess_mem_set_enabled(fast, false);
    tess_mem_unmap(fast);
    map(fast, 0xB0000, TESS_PRIO_DEVICE + 1, TESS_MAP_RW);
    g_assert_null(tess_mem_page(m, 0xB0000).read);
    tess_mem_set_enabled(fast, true);
    g_assert_nonnull(tess_mem_page(m, 0xB0000).read);

    tess_mem_remove_listener(m, &heard_listener, &h);
    g_array_unref(h.changed);
    g_array_unref(h.written);
    g_array_unref(mm.log);
    tess_machine_free(m);
}

static void test_page_mmio(void)
{
    TessMachine *m = fab_machine(true, 1, 1 << 20);
    TessDevice *d = fab_device(m, &fab_owner_class, "d");
    Mmio mm = { g_array_new(FALSE, TRUE, sizeof(Access)) };
    TessMemRegion *regs = tess_mem_mmio_new(d, "regs", 0x4000, &mmio32, &mm);
    map(regs, 0xE0000000, TESS_PRIO_DEVICE, TESS_MAP_RW);
    uint64_t off = 0;
    g_assert_true(tess_mem_page_mmio(m, 0xE0002abc, TESS_MAP_READ, &off) == regs);
    g_assert_cmphex(off, ==, 0x2000);
    g_assert_true(tess_mem_page_mmio(m, 0xE0003000, TESS_MAP_WRITE, &off) == regs);
    g_assert_cmphex(off, ==, 0x3000);
    /* RAM, nothing, or a page two owners share: no MMIO page. */
    g_assert_null(tess_mem_page_mmio(m, 0x1000, TESS_MAP_READ, &off));
    g_assert_null(tess_mem_page_mmio(m, 0xE0004000, TESS_MAP_READ, &off));
    TessMemRegion *bar = tess_mem_mmio_new(d, "bar", 0x10, &mmio32, &mm);
    map(bar, 0xE0001010, TESS_PRIO_DEVICE + 1, TESS_MAP_RW);
    g_assert_null(tess_mem_page_mmio(m, 0xE0001000, TESS_MAP_READ, &off));
    /* Through an alias: the device region and its own offset. */
    GError *err = NULL;
    TessMemRegion *a = tess_mem_alias_new(d, "a", regs, 0x3000, 0x1000, &err);
    g_assert_no_error(err);
    map(a, 0xD0000000, TESS_PRIO_DEVICE, TESS_MAP_READ);
    g_assert_true(tess_mem_page_mmio(m, 0xD0000000, TESS_MAP_READ, &off) == regs);
    g_assert_cmphex(off, ==, 0x3000);
    g_assert_null(tess_mem_page_mmio(m, 0xD0000000, TESS_MAP_WRITE, &off));

    /* Region accesses adapt widths as tess_mem_read/write do. */
    g_array_set_size(mm.log, 0);
    g_assert_cmphex(tess_mem_region_read(regs, 0x2001, 1), ==, 0xa1);
    Access *x = nth(&mm, 0);
    g_assert_cmpint(x->op, ==, 'r');
    g_assert_cmphex(x->offset, ==, 0x2000);
    g_assert_cmpuint(x->size, ==, 4);
    g_assert_cmphex(tess_mem_region_read(a, 4, 8), ==, tess_mem_read(m, 0xD0000004, 8));
    tess_mem_region_write(regs, 0x10, 0x1122334455667788ull, 8);
    x = nth(&mm, mm.log->len - 1);
    g_assert_cmpint(x->op, ==, 'w');
    g_assert_cmphex(x->offset, ==, 0x14);
    g_assert_cmphex(x->value, ==, 0x11223344);
    /* Past the end: all ones, writes dropped. */
    guint n = mm.log->len;
    g_assert_cmphex(tess_mem_region_read(regs, 0x4000, 4), ==, 0xffffffff);
    tess_mem_region_write(regs, 0x4000, 1, 4);
    g_assert_cmpuint(mm.log->len, ==, n);
    /* RAM regions give their bytes. */
    TessMemRegion *r = ram_new(d, "r", 0x1000, 0x42);
    g_assert_cmphex(tess_mem_region_read(r, 0xffe, 4), ==, 0xffff4242);
    tess_mem_region_write(r, 0x10, 0xbeef, 2);
    g_assert_cmphex(tess_mem_region_host(r)[0x10], ==, 0xef);
    g_array_unref(mm.log);
    tess_machine_free(m);
}

/* ---- dirty log ------------------------------------------------------------- */

typedef struct {
    GArray *ranges;
    TessMachine *m;
    uint64_t mark;      /* guest address the hook reports written, or 0 */
} Synced;

static void synced(void *opaque, uint64_t start, uint64_t len)
{
    Synced *s = opaque;
    uint64_t v[2] = { start, len };
    g_array_append_vals(s->ranges, v, 2);
    if (s->mark)
        tess_mem_log_dirty(s->m, s->mark, 1);
}

static uint64_t fetch1(TessMemRegion *r)
{
    uint64_t bits = 0;
    tess_mem_log_fetch(r, 0, tess_mem_region_size(r), &bits);
    return bits;
}

static void test_dirty_log(void)
{
    TessMachine *m = fab_machine(true, 1, 1 << 20);
    TessDevice *d = fab_device(m, &fab_owner_class, "d");
    Heard h = { g_array_new(FALSE, FALSE, 8), g_array_new(FALSE, FALSE, 8) };
    TessMemRegion *vram = ram_new(d, "vram", 0x10000, 0);     /* 16 pages */
    uint8_t *host = tess_mem_region_host(vram);
    map(vram, 0xE0000000, TESS_PRIO_DEVICE, TESS_MAP_RW);
    GError *err = NULL;
    TessMemRegion *win = tess_mem_alias_new(d, "win", vram, 0x8000, 0x4000, &err);
    map(win, 0xA0000, TESS_PRIO_DEVICE, TESS_MAP_RW);
    g_assert_no_error(err);

    /* Not logged: every page reads as dirty, and pointers are plain. */
    g_assert_false(tess_mem_log_active(vram));
    g_assert_cmphex(fetch1(vram), ==, 0xffff);
    /* Only RAM keeps a log. */
    g_assert_false(tess_mem_log_start(win, &err));
    g_assert_error(err, TESS_BUS_ERROR, TESS_ERROR_INVALID);
    g_clear_error(&err);

    tess_mem_add_listener(m, &heard_listener, &h);
    g_assert_true(tess_mem_log_start(vram, &err));
    g_assert_no_error(err);
    g_assert_true(tess_mem_log_active(vram));
    /* Both windows are told (their pages are logged now). */
    expect_changes(&h, (const uint64_t[]) { 0xA0000, 0x4000, 0xE0000000, 0x10000 }, 2);
    bool logged = false;
    g_assert_nonnull(tess_mem_page(m, 0xE0000000).write);   /* starts dirty */
    g_assert_cmphex(fetch1(vram), ==, 0xffff);                 /* first fetch: all */
    /* Clean pages lost their write pointers: listeners were told. */
    expect_changes(&h, (const uint64_t[]) { 0xA0000, 0x4000, 0xE0000000, 0x10000 }, 2);
    g_assert_cmphex(fetch1(vram), ==, 0);
    expect_changes(&h, NULL, 0);
    for (uint64_t pa = 0xE0000000; pa < 0xE0010000; pa += 0x1000) {
        TessMemPage p = tess_mem_page(m, pa);
        g_assert_null(p.write);
        g_assert_true(p.read == host + (pa - 0xE0000000));
        g_assert_true(p.ram);
        TessMemPage u = tess_mem_page_unlogged(m, pa, &logged);
        g_assert_true(logged);
        g_assert_true(u.write == p.read);
    }
    g_assert_null(tess_mem_page(m, 0xA0000).write);
    tess_mem_page_unlogged(m, 0x1000, &logged);
    g_assert_false(logged);

    /* A CPU store (slow path): marked, and the page (through both of its
     * windows) gets its write pointer back without any listener call. */
    tess_mem_write(m, 0xE0009004, 0xabcd, 2);
    g_assert_cmphex(host[0x9004], ==, 0xcd);
    expect_changes(&h, NULL, 0);
    g_assert_true(tess_mem_page(m, 0xE0009000).write == host + 0x9000);
    g_assert_true(tess_mem_page(m, 0xA1000).write == host + 0x9000);
    g_assert_null(tess_mem_page(m, 0xA0000).write);
    /* Through the alias, across a page boundary: two pages. */
    tess_mem_write(m, 0xA2FFE, 0x11223344, 4);
    g_assert_cmphex(fetch1(vram), ==, (1u << 9) | (1u << 10) | (1u << 11));
    expect_changes(&h, (const uint64_t[]) {
        0xA1000, 0x3000, 0xE0009000, 0x3000,
    }, 2);
    g_assert_null(tess_mem_page(m, 0xA1000).write);
    g_assert_null(tess_mem_page(m, 0xE0009000).write);

    /* DMA marks what it wrote. */
    uint8_t buf[0x1800] = { 0 };
    g_assert_true(tess_dma_write(m, 0xE0000800, buf, sizeof(buf), &err));
    g_assert_no_error(err);
    g_assert_cmpuint(h.written->len, ==, 2);
    g_array_set_size(h.written, 0);
    /* Devices mark their own writes; marks outside the region are dropped. */
    tess_mem_log_mark(vram, 0xF000, 1);
    tess_mem_log_mark(vram, 0x10000, 0x1000);
    tess_mem_log_mark(vram, UINT64_MAX - 1, 0x1000);
    tess_mem_log_mark(vram, 0xF000, UINT64_MAX);            /* clipped, no wrap */
    /* Writes elsewhere, and region writes, are handled too. */
    tess_mem_write(m, 0x5000, 1, 1);
    tess_mem_region_write(win, 0x3000, 7, 1);       /* vram page 0xB */
    g_assert_cmphex(host[0xB000], ==, 7);
    /* Part of the log: only those pages are reported and cleared. */
    uint64_t bits = 0;
    g_assert_true(tess_mem_log_fetch(vram, 0x1000, 0x2000, &bits));
    g_assert_cmphex(bits, ==, 0x1);                 /* page 1 of [1, 3) */
    g_array_set_size(h.changed, 0);
    g_assert_cmphex(fetch1(vram), ==, (1u << 0) | (1u << 0xB) | (1u << 0xF));

    /* A CPU with a log of its own is asked before the bits are read, for
     * each window the region is written through. */
    Synced sy = { g_array_new(FALSE, FALSE, 8), m, 0xA3010 };
    tess_mem_add_log_sync(m, synced, &sy);
    g_assert_cmphex(fetch1(vram), ==, 1u << 0xB);
    g_assert_cmpuint(sy.ranges->len, ==, 4);
    g_assert_cmphex(g_array_index(sy.ranges, uint64_t, 0), ==, 0xA0000);
    g_assert_cmphex(g_array_index(sy.ranges, uint64_t, 1), ==, 0x4000);
    g_assert_cmphex(g_array_index(sy.ranges, uint64_t, 2), ==, 0xE0000000);
    g_assert_cmphex(g_array_index(sy.ranges, uint64_t, 3), ==, 0x10000);
    tess_mem_remove_log_sync(m, synced, &sy);
    sy.mark = 0;
    g_assert_cmphex(fetch1(vram), ==, 0);
    g_assert_cmpuint(sy.ranges->len, ==, 4);

    /* Nested starts; the last stop gives every pointer back. */
    g_assert_true(tess_mem_log_start(vram, &err));
    tess_mem_log_stop(vram);
    g_assert_true(tess_mem_log_active(vram));
    g_assert_null(tess_mem_page(m, 0xE0000000).write);
    g_array_set_size(h.changed, 0);
    tess_mem_log_stop(vram);
    g_assert_false(tess_mem_log_active(vram));
    expect_changes(&h, (const uint64_t[]) { 0xA0000, 0x4000, 0xE0000000, 0x10000 }, 2);
    g_assert_true(tess_mem_page(m, 0xE0000000).write == host);
    tess_mem_log_stop(vram);    /* not logged: nothing */

    /* A region freed while logged. */
    g_assert_true(tess_mem_log_start(vram, &err));
    tess_mem_remove_listener(m, &heard_listener, &h);
    tess_mem_region_free(vram);
    tess_mem_write(m, 0xA0000, 1, 1);
    g_array_unref(sy.ranges);
    g_array_unref(h.changed);
    g_array_unref(h.written);
    tess_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/mem/main-ram", test_main_ram);
    g_test_add_func("/mem/ram-above-4g", test_ram_above_4g);
    g_test_add_func("/mem/priorities", test_priorities);
    g_test_add_func("/mem/aliases", test_aliases);
    g_test_add_func("/mem/read-write-split", test_read_write_split);
    g_test_add_func("/mem/subpage-mmio", test_subpage_mmio);
    g_test_add_func("/mem/cross-page", test_cross_page);
    g_test_add_func("/mem/listener", test_listener);
    g_test_add_func("/mem/high-and-sparse", test_high_and_sparse);
    g_test_add_func("/mem/big-regions", test_big_regions);
    g_test_add_func("/mem/alias-move", test_alias_move);
    g_test_add_func("/mem/enable", test_enable);
    g_test_add_func("/mem/page-mmio", test_page_mmio);
    g_test_add_func("/mem/dirty-log", test_dirty_log);
    return g_test_run();
}
