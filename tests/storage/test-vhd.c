/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Block backends through the registry: raw, fixed / dynamic / differencing
 * VHD, parent chains and their checks, footer recovery, repair, compact,
 * commit, and the undo overlay with its control commands.
 */
#include "storage-util.h"

static char *tmp;

static char *path(const char *name)
{
    return g_build_filename(tmp, name, NULL);
}

/* Every sector of [0, size) reads as the generation `gen_of(lba)` gives
 * (0: zeros). */
typedef uint32_t (*GenFn)(uint64_t lba, void *data);

static void expect_disk(TessDevice *dev, GenFn gen_of, void *data)
{
    uint64_t size = su_ops(dev)->size(dev);
    const size_t chunk = 256u << 10;
    g_autofree uint8_t *buf = g_malloc(chunk);
    uint8_t want[SU_SECTOR];
    for (uint64_t off = 0; off < size; off += chunk) {
        size_t n = (size_t)MIN((uint64_t)chunk, size - off);
        su_read(dev, off, buf, n);
        for (size_t s = 0; s < n; s += SU_SECTOR) {
            uint64_t lba = (off + s) / SU_SECTOR;
            uint32_t g = gen_of(lba, data);
            if (g)
                su_pattern(want, lba, g);
            else
                memset(want, 0, sizeof(want));
            if (memcmp(buf + s, want, SU_SECTOR))
                g_error("sector %" G_GUINT64_FORMAT ": expected generation %u", lba, g);
        }
    }
}

static void write_gen(TessDevice *dev, uint64_t off, size_t len, uint32_t gen)
{
    g_autofree uint8_t *buf = g_malloc(len);
    su_fill(buf, off, len, gen);
    su_write(dev, off, buf, len);
}

static uint32_t gen_first(uint64_t lba, void *data);

/* ---- raw -------------------------------------------------------------------------- */

static uint32_t gen_raw(uint64_t lba, void *data)
{
    return lba >= 8 && lba < 8 + 64 ? 7 : 0;
}

static void test_raw(void)
{
    TessMachine *m = th_machine("");
    g_autofree char *f = path("r.img");
    su_create("raw", f, 1 << 20, NULL, NULL, 0);
    g_assert_cmpuint(su_file_size(f), ==, 1 << 20);
    TessDevice *d = su_open(m, "raw", f, NULL);
    const TessBlockOps *ops = su_ops(d);
    g_assert_cmpuint(ops->size(d), ==, 1 << 20);
    g_assert_cmpuint(ops->sector_size(d), ==, 512);
    g_assert_false(ops->read_only(d));
    TessBlockGeometry g;
    g_assert_false(ops->geometry(d, &g));
    write_gen(d, 8 * 512, 64 * 512, 7);
    su_flush(d);
    expect_disk(d, gen_raw, NULL);

    /* Outside the disk or not whole sectors: refused, nothing touched. */
    uint8_t buf[1024];
    g_autoptr(GError) err = NULL;
    g_assert_false(ops->read(d, (1 << 20) - 512, buf, 1024, &err));
    g_assert_error(err, TESS_DEVICE_ERROR, TESS_ERROR_BOUNDS);
    g_clear_error(&err);
    g_assert_false(ops->write(d, 100, buf, 512, &err));
    g_assert_error(err, TESS_DEVICE_ERROR, TESS_ERROR_BOUNDS);
    g_clear_error(&err);
    g_assert_false(ops->read(d, UINT64_MAX - 511, buf, 512, &err));
    g_assert_error(err, TESS_DEVICE_ERROR, TESS_ERROR_BOUNDS);
    g_clear_error(&err);

    /* A second writer is refused while the image is open. */
    TessDevice *d2 = su_open_try(m, "raw", f, NULL, &err);
    g_assert_null(d2);
    g_assert_error(err, TESS_DEVICE_ERROR, TESS_ERROR_CONFLICT);
    g_clear_error(&err);
    su_close(d);

    const char *ro[] = { "readonly=on", NULL };
    d = su_open(m, "raw", f, ro);
    g_assert_true(su_ops(d)->read_only(d));
    g_assert_false(su_ops(d)->write(d, 0, buf, 512, &err));
    g_assert_nonnull(err);
    g_clear_error(&err);
    expect_disk(d, gen_raw, NULL);
    su_close(d);
    th_machine_free(m);
}

/* ---- geometry and size rules --------------------------------------------------- */

static void test_chs(void)
{
    TessMachine *m = th_machine("");
    /* Specification appendix, worked by hand:
     * 64 MiB = 131072 sectors: spt 17, cth 7710, heads 8, cyl 963 rounds
     * down to 130968 sectors, so the size grows to 964 cylinders.
     * 2 GiB = 4194304 sectors: 17 -> heads 241 > 16 -> 31: cth 135300 >=
     * 16384 -> 63: cyl 4161 (4194288 sectors) -> 4162. Beyond 65535*16*255
     * sectors the geometry is the maximum and the size stays exact. */
    static const struct { uint64_t req; uint32_t c, h, s; uint64_t size; } cases[] = {
        { 64ull << 20, 964, 8, 17, 964ull * 8 * 17 * 512 },
        { 2ull << 30, 4162, 16, 63, 4162ull * 16 * 63 * 512 },
        { 200ull << 30, 65535, 16, 255, 200ull << 30 },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *f = path("chs.vhd");
        su_create("vhd", f, cases[i].req, "dynamic", NULL, 0);
        TessDevice *d = su_open(m, "vhd", f, NULL);
        TessBlockGeometry g;
        g_assert_true(su_ops(d)->geometry(d, &g));
        g_assert_cmpuint(g.cylinders, ==, cases[i].c);
        g_assert_cmpuint(g.heads, ==, cases[i].h);
        g_assert_cmpuint(g.sectors, ==, cases[i].s);
        g_assert_cmpuint(su_ops(d)->size(d), ==, cases[i].size);
        su_close(d);
        g_unlink(f);
    }
    th_machine_free(m);
}

typedef struct {
    const char *creator;
    uint64_t cur;
    bool max_geometry;
} FooterEdit;

static void edit_creator(uint8_t *f, void *data)
{
    FooterEdit *e = data;
    memcpy(f + 28, e->creator, 4);
    for (int i = 0; i < 8; i++)
        f[48 + i] = (uint8_t)(e->cur >> (56 - 8 * i));
    if (e->max_geometry) {
        f[56] = 0xFF, f[57] = 0xFF, f[58] = 16, f[59] = 255;
    }
}

static void test_size_rules(void)
{
    TessMachine *m = th_machine("");
    g_autofree char *f = path("rules.vhd");
    const uint64_t chs = 964ull * 8 * 17 * 512, cur = 65ull << 20;
    static const struct { const char *creator; bool max; bool by_chs; } cases[] = {
        { "vpc ", false, true }, { "qemu", false, true }, { "vs  ", false, true },
        { "win ", false, false }, { "qem2", false, false }, { "d2v ", false, false },
        { "tap\0", false, false }, { "wa\0\0", false, false }, { "CTXS", false, false },
        { "vpc ", true, false },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        su_create("vhd", f, 64ull << 20, "dynamic", NULL, 0);
        FooterEdit e = { cases[i].creator, cur, cases[i].max };
        su_edit_footer(f, edit_creator, &e);
        TessDevice *d = su_open(m, "vhd", f, NULL);
        g_assert_cmpuint(su_ops(d)->size(d), ==, cases[i].by_chs ? chs : cur);
        su_close(d);
    }
    th_machine_free(m);
}

/* ---- fixed and dynamic -------------------------------------------------------- */

static uint32_t gen_basic(uint64_t lba, void *data)
{
    /* written: [0,8) gen 1, [100, 300) gen 2 (crosses the 64 KiB block
     * boundary at 128), [1000, 1001) gen 3, the last 16 sectors gen 4 */
    uint64_t total = *(uint64_t *)data / 512;
    if (lba < 8)
        return 1;
    if (lba >= 100 && lba < 300)
        return 2;
    if (lba == 1000)
        return 3;
    if (lba >= total - 16)
        return 4;
    return 0;
}

static void basic_io(TessMachine *m, const char *f, const char *type, uint32_t bs)
{
    su_create("vhd", f, 8 << 20, type, NULL, bs);
    TessDevice *d = su_open(m, "vhd", f, NULL);
    uint64_t size = su_ops(d)->size(d);
    g_assert_cmpuint(size, >=, 8 << 20);
    write_gen(d, 0, 8 * 512, 1);
    write_gen(d, 100 * 512, 200 * 512, 2);
    write_gen(d, 1000 * 512, 512, 3);
    write_gen(d, size - 16 * 512, 16 * 512, 4);
    expect_disk(d, gen_basic, &size);        /* before any flush */
    su_flush(d);
    su_close(d);
    g_assert_cmpuint(su_check("vhd", f, false, NULL), ==, 0);
    d = su_open(m, "vhd", f, (const char *[]){ "readonly=on", NULL });
    expect_disk(d, gen_basic, &size);
    TessBlockInfo in = { 0 };
    g_assert_true(su_ops(d)->info(d, &in, NULL));
    g_assert_cmpstr(in.format, ==, "vhd");
    g_assert_cmpstr(in.subformat, ==, type);
    g_assert_cmpuint(in.size, ==, size);
    if (!strcmp(type, "dynamic")) {
        g_assert_cmpuint(in.block_size, ==, bs);
        /* blocks of 64 KiB = 128 sectors: 0-2 (0..7, 100..299), 7 (1000),
         * and the one or two the last 16 sectors fall in */
        uint64_t spb = bs / 512, total = size / 512;
        uint64_t tail = (total - 1) / spb - (total - 16) / spb + 1;
        g_assert_cmpuint(in.blocks_allocated, ==, 4 + tail);
        g_assert_cmpuint(in.blocks_total, ==, (size + bs - 1) / bs);
    }
    tess_block_info_clear(&in);
    su_close(d);
}

static void test_fixed(void)
{
    TessMachine *m = th_machine("");
    g_autofree char *f = path("fixed.vhd");
    basic_io(m, f, "fixed", 0);
    th_machine_free(m);
}

static void test_dynamic(void)
{
    TessMachine *m = th_machine("");
    g_autofree char *f = path("dyn.vhd");
    basic_io(m, f, "dynamic", 64 << 10);
    th_machine_free(m);
}

static void test_footer_511(void)
{
    /* Before Virtual PC 2004 the footer was 511 bytes: the same structure
     * without its last reserved byte (zero, so the checksum is the same). */
    TessMachine *m = th_machine("");
    g_autofree char *f = path("old.vhd");
    su_create("vhd", f, 1 << 20, "fixed", NULL, 0);
    TessDevice *d = su_open(m, "vhd", f, NULL);
    uint64_t size = su_ops(d)->size(d);
    write_gen(d, 0, 16 * 512, 9);
    su_close(d);
    g_assert_cmpint(truncate(f, (off_t)(su_file_size(f) - 1)), ==, 0);
    d = su_open(m, "vhd", f, NULL);
    g_assert_cmpuint(su_ops(d)->size(d), ==, size);
    expect_disk(d, gen_first, NULL);
    su_close(d);
    g_assert_cmpuint(su_check("vhd", f, false, NULL), ==, 0);
    th_machine_free(m);
}

/* ---- differencing chains ------------------------------------------------------- */

static uint32_t gen_chain(uint64_t lba, void *data)
{
    int depth = *(int *)data;      /* how many layers carry writes */
    uint64_t k = lba * 512;
    if (depth >= 4 && k >= (700u << 10) && k < (701u << 10))
        return 4;                  /* written through the top at run time */
    if (depth >= 3 && ((k >= (384u << 10) && k < (640u << 10)) || lba == 5))
        return 3;
    if (depth >= 2 && k >= (256u << 10) && k < (512u << 10))
        return 2;
    if (k < (1u << 20))
        return 1;
    return 0;
}

static void test_chain(void)
{
    TessMachine *m = th_machine("");
    g_autofree char *base = path("base.vhd"), *mid = path("mid.vhd"), *top = path("top.vhd");
    su_create("vhd", base, 4 << 20, "dynamic", NULL, 64 << 10);
    TessDevice *d = su_open(m, "vhd", base, NULL);
    write_gen(d, 0, 1 << 20, 1);
    su_close(d);
    su_create("vhd", mid, 0, "differencing", base, 64 << 10);
    d = su_open(m, "vhd", mid, NULL);
    write_gen(d, 256 << 10, 256 << 10, 2);
    su_close(d);
    su_create("vhd", top, 0, NULL, mid, 0);     /* parent= alone means differencing */
    d = su_open(m, "vhd", top, NULL);
    write_gen(d, 384 << 10, 256 << 10, 3);
    write_gen(d, 5 * 512, 512, 3);
    su_close(d);

    g_autofree char *hb = su_sha256_file(base), *hm = su_sha256_file(mid);
    d = su_open(m, "vhd", top, NULL);
    int depth = 3;
    expect_disk(d, gen_chain, &depth);
    write_gen(d, 700 << 10, 1 << 10, 4);
    depth = 4;
    expect_disk(d, gen_chain, &depth);
    TessBlockInfo in = { 0 };
    g_assert_true(su_ops(d)->info(d, &in, NULL));
    g_assert_cmpstr(in.subformat, ==, "differencing");
    g_autofree char *canon_mid = g_canonicalize_filename(mid, NULL);
    g_autofree char *canon_parent = g_canonicalize_filename(in.parent, NULL);
    g_assert_cmpstr(canon_parent, ==, canon_mid);
    tess_block_info_clear(&in);
    su_close(d);
    /* writes land in the top: the parents are byte-identical */
    g_autofree char *hb2 = su_sha256_file(base), *hm2 = su_sha256_file(mid);
    g_assert_cmpstr(hb, ==, hb2);
    g_assert_cmpstr(hm, ==, hm2);
    g_assert_cmpuint(su_check("vhd", top, false, NULL), ==, 0);

    /* A parent is opened read-only: a child in use does not stop another
     * reader of it, but does stop a writer. */
    d = su_open(m, "vhd", top, NULL);
    TessDevice *r = su_open(m, "vhd", mid, (const char *[]){ "readonly=on", NULL });
    su_close(r);
    g_autoptr(GError) err = NULL;
    g_assert_null(su_open_try(m, "vhd", mid, NULL, &err));
    g_assert_error(err, TESS_DEVICE_ERROR, TESS_ERROR_CONFLICT);
    su_close(d);

    /* commit the top into mid: mid now reads what top did, top is empty */
    g_clear_error(&err);
    g_assert_true(su_cops("vhd")->commit_file(top, NULL, NULL, &err));
    g_assert_no_error(err);
    d = su_open(m, "vhd", mid, (const char *[]){ "readonly=on", NULL });
    expect_disk(d, gen_chain, &depth);
    su_close(d);
    d = su_open(m, "vhd", top, NULL);
    expect_disk(d, gen_chain, &depth);
    g_assert_true(su_ops(d)->info(d, &in, NULL));
    g_assert_cmpuint(in.blocks_allocated, ==, 0);
    tess_block_info_clear(&in);
    su_close(d);
    su_assert_file_sha(base, hb);
    th_machine_free(m);
}

static void test_parent_changed(void)
{
    TessMachine *m = th_machine("");
    g_autofree char *base = path("pc-base.vhd"), *child = path("pc-child.vhd");
    su_create("vhd", base, 1 << 20, "dynamic", NULL, 0);
    su_create("vhd", child, 0, "differencing", base, 0);
    su_close(su_open(m, "vhd", child, NULL));

    /* written after the child was made: its modification time moves on */
    struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = time(NULL) + 60 } };
    g_assert_cmpint(utimensat(AT_FDCWD, base, ts, 0), ==, 0);
    g_autoptr(GError) err = NULL;
    g_assert_null(su_open_try(m, "vhd", child, NULL, &err));
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(err->message, "modified"));
    g_assert_nonnull(strstr(err->message, child));
    g_clear_error(&err);

    /* a different image in the parent's place: UUID mismatch */
    su_create("vhd", base, 1 << 20, "dynamic", NULL, 0);
    g_assert_null(su_open_try(m, "vhd", child, NULL, &err));
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(err->message, "is not its parent"));
    g_clear_error(&err);

    /* no parent at all */
    g_unlink(base);
    g_assert_null(su_open_try(m, "vhd", child, NULL, &err));
    g_assert_error(err, TESS_DEVICE_ERROR, TESS_ERROR_NOT_FOUND);
    th_machine_free(m);
}

static uint32_t gen_first(uint64_t lba, void *data)
{
    return lba < 16 ? 9 : 0;
}

static void zero_locators(uint8_t *h)
{
    memset(h + 576, 0, 8 * 24);
    su_fix_checksum(h, 1024, 36);
}

static void test_locators(void)
{
    TessMachine *m = th_machine("");
    g_autofree char *d1 = path("loc1"), *d2 = path("loc2"), *d3 = path("loc3");
    g_assert_cmpint(g_mkdir(d1, 0755), ==, 0);
    g_assert_cmpint(g_mkdir(d3, 0755), ==, 0);
    g_autofree char *base = g_build_filename(d1, "base.vhd", NULL);
    g_autofree char *child = g_build_filename(d1, "child.vhd", NULL);
    su_create("vhd", base, 1 << 20, "dynamic", NULL, 0);
    TessDevice *d = su_open(m, "vhd", base, NULL);
    write_gen(d, 0, 16 * 512, 9);
    su_close(d);
    su_create("vhd", child, 0, "differencing", base, 0);

    /* both moved together: the relative locator (W2ru) finds the parent */
    g_assert_cmpint(g_rename(d1, d2), ==, 0);
    g_autofree char *child2 = g_build_filename(d2, "child.vhd", NULL);
    d = su_open(m, "vhd", child2, NULL);
    expect_disk(d, gen_first, NULL);
    su_close(d);
    g_assert_cmpint(g_rename(d2, d1), ==, 0);

    /* only the child moved: the absolute locator (W2ku) finds it */
    g_autofree char *child3 = g_build_filename(d3, "child.vhd", NULL);
    g_assert_cmpint(g_rename(child, child3), ==, 0);
    d = su_open(m, "vhd", child3, NULL);
    expect_disk(d, gen_first, NULL);
    su_close(d);
    g_assert_cmpint(g_rename(child3, child), ==, 0);

    /* no locators at all: the parent's unicode name, next to the child */
    uint8_t h[1024];
    su_pread(child, h, sizeof(h), 512);
    g_assert_cmpmem(h, 8, "cxsparse", 8);
    zero_locators(h);
    su_pwrite(child, h, sizeof(h), 512);
    d = su_open(m, "vhd", child, NULL);
    expect_disk(d, gen_first, NULL);
    su_close(d);
    th_machine_free(m);
}

/* ---- recovery ------------------------------------------------------------------ */

static uint32_t gen_two_blocks(uint64_t lba, void *data)
{
    bool dropped = data && *(bool *)data;
    if (lba < 4)
        return 1;
    if (lba >= 4096 && lba < 4100)
        return dropped ? 0 : 2;
    return 0;
}

static void make_two_blocks(TessMachine *m, const char *f)
{
    su_create("vhd", f, 8 << 20, "dynamic", NULL, 0);
    TessDevice *d = su_open(m, "vhd", f, NULL);
    write_gen(d, 0, 4 * 512, 1);
    write_gen(d, 4096 * 512, 4 * 512, 2);
    su_close(d);
}

static void test_footer_copy(void)
{
    TessMachine *m = th_machine("");
    g_autofree char *f = path("fc.vhd");
    make_two_blocks(m, f);
    g_autofree char *sum = su_sha256_file(f);
    uint64_t size = su_file_size(f);

    /* a damaged footer at the end: Virtual PC's rule, the copy stands in */
    uint8_t b = 0x5A;
    su_pwrite(f, &b, 1, size - 512 + 100);
    TessDevice *d = su_open(m, "vhd", f, (const char *[]){ "readonly=on", NULL });
    expect_disk(d, gen_two_blocks, NULL);
    su_close(d);
    TessBlockCheck res;
    g_assert_cmpuint(su_check("vhd", f, false, &res), ==, 1);
    g_assert_nonnull(strstr(res.report->str, "footer at the end"));
    g_string_free(res.report, TRUE);
    g_assert_cmpuint(su_check("vhd", f, true, NULL), ==, 0);
    g_assert_cmpuint(su_check("vhd", f, false, NULL), ==, 0);
    su_assert_file_sha(f, sum);

    /* a damaged copy (what qemu reads): reported, rewritten by repair, and
     * by any read-write open */
    su_pwrite(f, &b, 1, 100);
    g_assert_cmpuint(su_check("vhd", f, false, NULL), ==, 1);
    d = su_open(m, "vhd", f, NULL);
    su_close(d);
    su_assert_file_sha(f, sum);

    /* both gone: a clear error */
    su_pwrite(f, &b, 1, 100);
    su_pwrite(f, &b, 1, size - 512 + 100);
    g_autoptr(GError) err = NULL;
    g_assert_null(su_open_try(m, "vhd", f, NULL, &err));
    g_assert_error(err, TESS_DEVICE_ERROR, TESS_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, f));
    g_assert_nonnull(strstr(err->message, "checksum"));
    th_machine_free(m);
}

static void test_repair_bat(void)
{
    TessMachine *m = th_machine("");
    g_autofree char *f = path("bat.vhd");
    make_two_blocks(m, f);
    /* header at 512, BAT at its table offset: point entry 1 (the block of
     * sectors 4096..8191) past the end of the file */
    uint8_t h[1024];
    su_pread(f, h, sizeof(h), 512);
    uint64_t bat = su_be64(h + 16);
    uint8_t e[4];
    su_put32(e, 0x00FFFFF0);
    su_pwrite(f, e, 4, bat + 1 * 4);
    g_autoptr(GError) err = NULL;
    g_assert_null(su_open_try(m, "vhd", f, NULL, &err));
    g_assert_error(err, TESS_DEVICE_ERROR, TESS_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, "BAT entry 1"));
    g_assert_nonnull(strstr(err->message, f));
    g_clear_error(&err);
    /* The bad entry, and the block's data it no longer reaches: lost. */
    g_assert_cmpuint(su_check("vhd", f, false, NULL), ==, 2);
    g_assert_cmpuint(su_check("vhd", f, true, NULL), ==, 0);
    g_assert_cmpuint(su_check("vhd", f, false, NULL), ==, 0);
    bool dropped = true;
    TessDevice *d = su_open(m, "vhd", f, NULL);
    expect_disk(d, gen_two_blocks, &dropped);
    su_close(d);

    /* an entry pointing into the BAT itself */
    uint8_t into[4];
    su_put32(into, (uint32_t)(bat / 512));
    su_pwrite(f, into, 4, bat + 3 * 4);
    g_assert_null(su_open_try(m, "vhd", f, NULL, &err));
    g_assert_error(err, TESS_DEVICE_ERROR, TESS_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, "metadata"));
    g_assert_cmpuint(su_check("vhd", f, false, NULL), ==, 1);
    g_assert_cmpuint(su_check("vhd", f, true, NULL), ==, 0);
    d = su_open(m, "vhd", f, NULL);
    expect_disk(d, gen_two_blocks, &dropped);
    su_close(d);
    th_machine_free(m);
}

static void test_compact(void)
{
    TessMachine *m = th_machine("");
    g_autofree char *f = path("compact.vhd");
    su_create("vhd", f, 16 << 20, "dynamic", NULL, 0);
    TessDevice *d = su_open(m, "vhd", f, NULL);
    g_autofree uint8_t *zero = g_malloc0(64 << 10);
    su_write(d, 2 << 20, zero, 64 << 10);          /* allocates block 1, all zero */
    su_write(d, 8 << 20, zero, 64 << 10);          /* block 4 */
    write_gen(d, 0, 4 * 512, 1);
    write_gen(d, 4096 * 512 * 3, 4 * 512, 2);      /* block 3 */
    g_autofree char *view = su_sha256_disk(d);
    su_close(d);
    uint64_t before = su_file_size(f);
    uint64_t freed = 0;
    g_autoptr(GError) err = NULL;
    g_assert_true(su_cops("vhd")->compact_file(f, NULL, NULL, &freed, &err));
    g_assert_no_error(err);
    uint64_t bs = (2 << 20) + 512;
    g_assert_cmpuint(su_file_size(f), ==, before - 2 * bs);
    g_assert_cmpuint(su_check("vhd", f, false, NULL), ==, 0);
    d = su_open(m, "vhd", f, NULL);
    g_autofree char *view2 = su_sha256_disk(d);
    g_assert_cmpstr(view, ==, view2);
    TessBlockInfo in = { 0 };
    g_assert_true(su_ops(d)->info(d, &in, NULL));
    g_assert_cmpuint(in.blocks_allocated, ==, 2);
    tess_block_info_clear(&in);
    su_close(d);
    th_machine_free(m);
}

/* ---- undo ------------------------------------------------------------------------- */

static uint32_t gen_undo(uint64_t lba, void *data)
{
    int phase = *(int *)data;
    if (phase >= 2 && lba >= 30 && lba < 40)
        return 6;
    if (lba < 64)
        return 5;
    return 0;
}

static void undo_case(const char *format, const char *mode)
{
    TessMachine *m = th_machine("");
    g_autofree char *f = path(!strcmp(format, "raw") ? "u.img" : "u.vhd");
    g_autofree char *ov = g_strconcat(f, ".undo.vhd", NULL);
    if (!strcmp(format, "raw"))
        su_create("raw", f, 1 << 20, NULL, NULL, 0);
    else
        su_create("vhd", f, 1 << 20, "dynamic", NULL, 0);
    TessDevice *d = su_open(m, format, f, NULL);
    write_gen(d, 0, 64 * 512, 5);
    su_close(d);
    g_autofree char *before = su_sha256_file(f);

    g_autofree char *undo = g_strdup_printf("undo=%s", mode);
    d = su_open(m, format, f, (const char *[]){ undo, NULL });
    g_assert_true(g_file_test(ov, G_FILE_TEST_EXISTS));
    TessBlockInfo in = { 0 };
    g_assert_true(su_ops(d)->info(d, &in, NULL));
    g_assert_cmpstr(in.overlay, ==, ov);
    g_assert_cmpstr(in.format, ==, format);
    tess_block_info_clear(&in);
    write_gen(d, 30 * 512, 10 * 512, 6);
    su_flush(d);
    int phase = 2;
    expect_disk(d, gen_undo, &phase);
    g_autofree char *view = su_sha256_disk(d);
    /* the image itself is untouched while the machine runs */
    su_assert_file_sha(f, before);
    su_close(d);

    g_autofree char *after = su_sha256_file(f);
    if (!strcmp(mode, "discard")) {
        g_assert_cmpstr(before, ==, after);
        g_assert_false(g_file_test(ov, G_FILE_TEST_EXISTS));
    } else if (!strcmp(mode, "commit")) {
        g_assert_false(g_file_test(ov, G_FILE_TEST_EXISTS));
        d = su_open(m, format, f, NULL);
        g_autofree char *view2 = su_sha256_disk(d);
        g_assert_cmpstr(view, ==, view2);
        su_close(d);
    } else {
        /* ask: the overlay stays, and `img commit` applies it */
        g_assert_cmpstr(before, ==, after);
        g_assert_true(g_file_test(ov, G_FILE_TEST_EXISTS));
        g_autoptr(GError) err = NULL;
        /* a machine started now is told about the overlay left behind */
        g_assert_null(su_open_try(m, format, f, (const char *[]){ undo, NULL }, &err));
        g_assert_error(err, TESS_DEVICE_ERROR, TESS_ERROR_CONFLICT);
        g_assert_nonnull(strstr(err->message, "tessera img commit"));
        g_clear_error(&err);
        g_assert_true(su_cops("vhd")->commit_file(ov, NULL, NULL, &err));
        g_assert_no_error(err);
        g_unlink(ov);
        d = su_open(m, format, f, NULL);
        g_autofree char *view2 = su_sha256_disk(d);
        g_assert_cmpstr(view, ==, view2);
        su_close(d);
        /* nothing written: nothing to ask about */
        d = su_open(m, format, f, (const char *[]){ undo, NULL });
        su_close(d);
        g_assert_false(g_file_test(ov, G_FILE_TEST_EXISTS));
    }
    g_unlink(f);
    th_machine_free(m);
}

static void test_undo_discard_vhd(void) { undo_case("vhd", "discard"); }
static void test_undo_discard_raw(void) { undo_case("raw", "discard"); }
static void test_undo_commit_vhd(void) { undo_case("vhd", "commit"); }
static void test_undo_commit_raw(void) { undo_case("raw", "commit"); }
static void test_undo_ask(void) { undo_case("vhd", "ask"); }

static char *control(TessMachine *m, const char *cmd, const char *arg)
{
    g_autoptr(GPtrArray) ms = g_ptr_array_new();
    g_ptr_array_add(ms, m);
    g_autofree char *line = g_strdup_printf("{\"cmd\":\"%s\",\"args\":[\"%s\"]}", cmd, arg);
    return tess_control_handle_line(ms, line);
}

static void test_undo_control(void)
{
    g_autofree char *f = path("ctl.img");
    su_create("raw", f, 1 << 20, NULL, NULL, 0);
    g_autofree char *zero_sum = su_sha256_file(f);
    g_autofree char *frag = g_strdup_printf(
        "<device type='raw' id='d0' file='%s' undo='discard'/>", f);
    TessMachine *m = th_machine(frag);
    TessDevice *d = tess_machine_device(m, "d0");
    g_assert_nonnull(d);
    write_gen(d, 0, 64 * 512, 5);
    g_autofree char *r1 = control(m, "disk-commit", "d0");
    g_assert_nonnull(strstr(r1, "\"ok\":true"));
    int phase = 1;
    expect_disk(d, gen_undo, &phase);
    g_autofree char *committed = su_sha256_file(f);
    g_assert_cmpstr(committed, !=, zero_sum);

    write_gen(d, 30 * 512, 10 * 512, 6);
    phase = 2;
    expect_disk(d, gen_undo, &phase);
    g_autofree char *r2 = control(m, "disk-discard", "d0");
    g_assert_nonnull(strstr(r2, "\"ok\":true"));
    phase = 1;
    expect_disk(d, gen_undo, &phase);
    g_autofree char *r3 = control(m, "disk-commit", "nosuch");
    g_assert_nonnull(strstr(r3, "\"ok\":false"));
    write_gen(d, 30 * 512, 10 * 512, 6);
    th_machine_free(m);      /* power-off: discard */
    g_autofree char *final = su_sha256_file(f);
    g_assert_cmpstr(final, ==, committed);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tmp = su_tmpdir();
    g_test_add_func("/storage/raw/basic", test_raw);
    g_test_add_func("/storage/vhd/chs", test_chs);
    g_test_add_func("/storage/vhd/size-rules", test_size_rules);
    g_test_add_func("/storage/vhd/fixed", test_fixed);
    g_test_add_func("/storage/vhd/dynamic", test_dynamic);
    g_test_add_func("/storage/vhd/footer-511", test_footer_511);
    g_test_add_func("/storage/vhd/chain", test_chain);
    g_test_add_func("/storage/vhd/parent-changed", test_parent_changed);
    g_test_add_func("/storage/vhd/locators", test_locators);
    g_test_add_func("/storage/vhd/footer-copy", test_footer_copy);
    g_test_add_func("/storage/vhd/repair-bat", test_repair_bat);
    g_test_add_func("/storage/vhd/compact", test_compact);
    g_test_add_func("/storage/undo/discard-vhd", test_undo_discard_vhd);
    g_test_add_func("/storage/undo/discard-raw", test_undo_discard_raw);
    g_test_add_func("/storage/undo/commit-vhd", test_undo_commit_vhd);
    g_test_add_func("/storage/undo/commit-raw", test_undo_commit_raw);
    g_test_add_func("/storage/undo/ask", test_undo_ask);
    g_test_add_func("/storage/undo/control", test_undo_control);
    int rc = g_test_run();
    su_rmtree(tmp);
    g_free(tmp);
    return rc;
}
