/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Port I/O map: claims, conflicts, width adaptation, split accesses. */
#include "fabric.h"

#include <string.h>

static const TessDeviceClass kbc_class = {
    .type = "i8042", .kind = TESS_CLASS_DEVICE, .doc = "stands in for a kbc",
    .instance_size = sizeof(TessDevice), .realize = fab_realize_nothing,
};

/* A device that records every access it sees. */
typedef struct {
    char op;
    uint64_t offset;
    unsigned size;
    uint64_t value;
} Access;

typedef struct {
    GArray *log;            /* Access */
    uint8_t regs[16];       /* read data, little-endian */
} Rec;

static uint64_t rec_read(void *opaque, uint64_t offset, unsigned size)
{
    Rec *r = opaque;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)r->regs[(offset + i) % 16] << (8 * i);
    Access a = { 'r', offset, size, v };
    g_array_append_val(r->log, a);
    return v;
}

static void rec_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    Rec *r = opaque;
    Access a = { 'w', offset, size, value };
    g_array_append_val(r->log, a);
}

static const TessIoOps ops8 = { rec_read, rec_write, TESS_W8 };
static const TessIoOps ops16 = { rec_read, rec_write, TESS_W16 };
static const TessIoOps ops32 = { rec_read, rec_write, TESS_W32 };
static const TessIoOps ops_default = { rec_read, rec_write, 0 };

static void rec_init(Rec *r)
{
    r->log = g_array_new(FALSE, TRUE, sizeof(Access));
    for (unsigned i = 0; i < 16; i++)
        r->regs[i] = (uint8_t)(0x10 + i);
}

static void check_log(Rec *r, const Access *want, unsigned n)
{
    g_assert_cmpuint(r->log->len, ==, n);
    for (unsigned i = 0; i < n; i++) {
        Access *a = &g_array_index(r->log, Access, i);
        g_assert_cmpint(a->op, ==, want[i].op);
        g_assert_cmpuint(a->offset, ==, want[i].offset);
        g_assert_cmpuint(a->size, ==, want[i].size);
        g_assert_cmphex(a->value, ==, want[i].value);
    }
    g_array_set_size(r->log, 0);
}

static void test_overlap_names_both(void)
{
    TessMachine *m = fab_machine(true, 1, 0);
    TessDevice *kbc = fab_device(m, &kbc_class, "kbc");
    TessDevice *kbd = fab_device(m, &fab_owner_class, "kbd0");
    Rec r;
    rec_init(&r);
    GError *err = NULL;

    g_assert_true(tess_pio_map(kbc, 0x60, 1, &ops8, &r, &err));
    g_assert_no_error(err);
    g_assert_false(tess_pio_map(kbd, 0x60, 5, &ops8, &r, &err));
    g_assert_error(err, TESS_BUS_ERROR, TESS_ERROR_CONFLICT);
    g_assert_cmpstr(err->message, ==,
                    "ports 0x60-0x64 of 'kbd0' overlap ports 0x60-0x60 of 'kbc' (i8042)");
    g_clear_error(&err);

    /* Overlap only at the far end of the new claim. */
    g_assert_true(tess_pio_map(kbc, 0x64, 1, &ops8, &r, &err));
    g_assert_false(tess_pio_map(kbd, 0x61, 4, &ops8, &r, &err));
    g_assert_error(err, TESS_BUS_ERROR, TESS_ERROR_CONFLICT);
    g_assert_nonnull(strstr(err->message, "ports 0x61-0x64 of 'kbd0'"));
    g_assert_nonnull(strstr(err->message, "ports 0x64-0x64 of 'kbc'"));
    g_clear_error(&err);

    /* The failed claims left nothing behind. */
    g_assert_true(tess_pio_owner(m, 0x61) == NULL);
    g_assert_true(tess_pio_owner(m, 0x60) == kbc);
    g_assert_true(tess_pio_map(kbd, 0x61, 3, &ops8, &r, &err));
    g_assert_true(tess_pio_owner(m, 0x63) == kbd);

    tess_machine_free(m);
    g_array_unref(r.log);
}

static void test_invalid_ranges(void)
{
    TessMachine *m = fab_machine(true, 1, 0);
    TessDevice *d = fab_device(m, &fab_owner_class, "d");
    Rec r;
    rec_init(&r);
    GError *err = NULL;

    g_assert_false(tess_pio_map(d, 0x100, 0, &ops8, &r, &err));
    g_assert_error(err, TESS_BUS_ERROR, TESS_ERROR_INVALID);
    g_clear_error(&err);
    g_assert_false(tess_pio_map(d, 0x10000, 1, &ops8, &r, &err));
    g_assert_error(err, TESS_BUS_ERROR, TESS_ERROR_INVALID);
    g_clear_error(&err);
    g_assert_false(tess_pio_map(d, 0xffff, 2, &ops8, &r, &err));
    g_assert_error(err, TESS_BUS_ERROR, TESS_ERROR_INVALID);
    g_clear_error(&err);
    g_assert_false(tess_pio_map(d, 0x10, UINT32_MAX, &ops8, &r, &err));
    g_assert_error(err, TESS_BUS_ERROR, TESS_ERROR_INVALID);
    g_clear_error(&err);
    g_assert_true(tess_pio_map(d, 0xffff, 1, &ops8, &r, &err));
    g_assert_no_error(err);
    g_assert_true(tess_pio_owner(m, 0xffff) == d);

    tess_machine_free(m);
    g_array_unref(r.log);
}

static void test_split_wide(void)
{
    TessMachine *m = fab_machine(true, 1, 0);
    TessDevice *d = fab_device(m, &fab_owner_class, "d");
    Rec r8, r16;
    rec_init(&r8);
    rec_init(&r16);
    g_assert_true(tess_pio_map(d, 0x300, 8, &ops8, &r8, NULL));
    g_assert_true(tess_pio_map(d, 0x310, 8, &ops16, &r16, NULL));

    /* 32-bit read of an 8-bit device: four byte reads, ascending, LE. */
    g_assert_cmphex(tess_pio_read(m, 0x300, 4), ==, 0x13121110);
    check_log(&r8, (const Access[]) {
        { 'r', 0, 1, 0x10 }, { 'r', 1, 1, 0x11 }, { 'r', 2, 1, 0x12 }, { 'r', 3, 1, 0x13 },
    }, 4);
    tess_pio_write(m, 0x304, 0x44332211, 4);
    check_log(&r8, (const Access[]) {
        { 'w', 4, 1, 0x11 }, { 'w', 5, 1, 0x22 }, { 'w', 6, 1, 0x33 }, { 'w', 7, 1, 0x44 },
    }, 4);
    g_assert_cmphex(tess_pio_read(m, 0x302, 2), ==, 0x1312);
    check_log(&r8, (const Access[]) { { 'r', 2, 1, 0x12 }, { 'r', 3, 1, 0x13 } }, 2);

    /* widths 0 means 8-bit only. */
    Rec rd;
    rec_init(&rd);
    g_assert_true(tess_pio_map(d, 0x320, 4, &ops_default, &rd, NULL));
    tess_pio_write(m, 0x320, 0xbeef, 2);
    check_log(&rd, (const Access[]) { { 'w', 0, 1, 0xef }, { 'w', 1, 1, 0xbe } }, 2);

    /* 32-bit access of a 16-bit device: two word accesses. */
    g_assert_cmphex(tess_pio_read(m, 0x312, 4), ==, 0x15141312);
    check_log(&r16, (const Access[]) { { 'r', 2, 2, 0x1312 }, { 'r', 4, 2, 0x1514 } }, 2);
    tess_pio_write(m, 0x310, 0xcafef00d, 4);
    check_log(&r16, (const Access[]) { { 'w', 0, 2, 0xf00d }, { 'w', 2, 2, 0xcafe } }, 2);
    /* A size it accepts passes straight through. */
    g_assert_cmphex(tess_pio_read(m, 0x314, 2), ==, 0x1514);
    check_log(&r16, (const Access[]) { { 'r', 4, 2, 0x1514 } }, 1);

    tess_machine_free(m);
    g_array_unref(r8.log);
    g_array_unref(r16.log);
    g_array_unref(rd.log);
}

static void test_narrow_to_wide(void)
{
    TessMachine *m = fab_machine(true, 1, 0);
    TessDevice *d = fab_device(m, &fab_owner_class, "d");
    Rec r;
    rec_init(&r);
    g_assert_true(tess_pio_map(d, 0xcf8, 8, &ops32, &r, NULL));

    /* A byte read becomes the aligned dword; the byte is extracted. */
    g_assert_cmphex(tess_pio_read(m, 0xcfa, 1), ==, 0x12);
    check_log(&r, (const Access[]) { { 'r', 0, 4, 0x13121110 } }, 1);
    g_assert_cmphex(tess_pio_read(m, 0xcfe, 2), ==, 0x1716);
    check_log(&r, (const Access[]) { { 'r', 4, 4, 0x17161514 } }, 1);
    /* A write is shifted into place with zeros around it. */
    tess_pio_write(m, 0xcf9, 0xab, 1);
    check_log(&r, (const Access[]) { { 'w', 0, 4, 0x0000ab00 } }, 1);
    tess_pio_write(m, 0xcfe, 0x1234, 2);
    check_log(&r, (const Access[]) { { 'w', 4, 4, 0x12340000 } }, 1);
    /* A word straddling two dwords takes one dword access each. */
    g_assert_cmphex(tess_pio_read(m, 0xcfb, 2), ==, 0x1413);
    check_log(&r, (const Access[]) {
        { 'r', 0, 4, 0x13121110 }, { 'r', 4, 4, 0x17161514 },
    }, 2);
    tess_pio_write(m, 0xcfb, 0x5566, 2);
    check_log(&r, (const Access[]) {
        { 'w', 0, 4, 0x66000000 }, { 'w', 4, 4, 0x00000055 },
    }, 2);

    tess_machine_free(m);
    g_array_unref(r.log);
}

static void test_straddle_and_unowned(void)
{
    TessMachine *m = fab_machine(true, 1, 0);
    TessDevice *a = fab_device(m, &fab_owner_class, "a");
    TessDevice *b = fab_device(m, &fab_owner_class, "b");
    Rec ra, rb;
    rec_init(&ra);
    rec_init(&rb);
    g_assert_true(tess_pio_map(a, 0x100, 2, &ops16, &ra, NULL));
    g_assert_true(tess_pio_map(b, 0x102, 2, &ops16, &rb, NULL));

    /* Split at the boundary, each part to its owner, offsets relative. */
    g_assert_cmphex(tess_pio_read(m, 0x100, 4), ==, 0x11101110);
    check_log(&ra, (const Access[]) { { 'r', 0, 2, 0x1110 } }, 1);
    check_log(&rb, (const Access[]) { { 'r', 0, 2, 0x1110 } }, 1);
    tess_pio_write(m, 0x100, 0xaabbccdd, 4);
    check_log(&ra, (const Access[]) { { 'w', 0, 2, 0xccdd } }, 1);
    check_log(&rb, (const Access[]) { { 'w', 0, 2, 0xaabb } }, 1);

    /* Runs past b into free ports: those bytes read as ones. */
    g_assert_cmphex(tess_pio_read(m, 0x102, 4), ==, 0xffff1110);
    check_log(&rb, (const Access[]) { { 'r', 0, 2, 0x1110 } }, 1);
    /* Starts on a free port and runs into a. The byte at 0x100 is a
     * narrow access to a 16-bit device: one word at offset 0. */
    g_assert_cmphex(tess_pio_read(m, 0xff, 2), ==, 0x10ff);
    check_log(&ra, (const Access[]) { { 'r', 0, 2, 0x1110 } }, 1);
    tess_pio_write(m, 0xfe, 0x11223344, 4);
    check_log(&ra, (const Access[]) { { 'w', 0, 2, 0x1122 } }, 1);

    /* Nobody home. */
    g_assert_cmphex(tess_pio_read(m, 0x500, 1), ==, 0xff);
    g_assert_cmphex(tess_pio_read(m, 0x500, 2), ==, 0xffff);
    g_assert_cmphex(tess_pio_read(m, 0x500, 4), ==, 0xffffffff);
    tess_pio_write(m, 0x500, 0x12345678, 4);
    g_assert_true(tess_pio_owner(m, 0x500) == NULL);
    /* The top of the port space does not wrap into port 0. */
    g_assert_cmphex(tess_pio_read(m, 0xffff, 4), ==, 0xffffffff);

    tess_machine_free(m);
    g_array_unref(ra.log);
    g_array_unref(rb.log);
}

static void test_unmap_and_release(void)
{
    TessMachine *m = fab_machine(true, 1, 0);
    TessDevice *a = fab_device(m, &fab_owner_class, "a");
    TessDevice *b = fab_device(m, &fab_owner_class, "b");
    Rec r;
    rec_init(&r);
    g_assert_true(tess_pio_map(a, 0x3f8, 8, &ops8, &r, NULL));
    g_assert_true(tess_pio_map(a, 0x2f8, 8, &ops8, &r, NULL));
    g_assert_cmphex(tess_pio_read(m, 0x3f8, 1), ==, 0x10);

    tess_pio_unmap(a, 0x3f8);
    g_assert_true(tess_pio_owner(m, 0x3f8) == NULL);
    g_assert_true(tess_pio_owner(m, 0x2f8) == a);
    g_assert_cmphex(tess_pio_read(m, 0x3f8, 1), ==, 0xff);
    /* Someone else may claim the freed ports now. */
    g_assert_true(tess_pio_map(b, 0x3f8, 8, &ops8, &r, NULL));
    g_assert_true(tess_pio_owner(m, 0x3ff) == b);

    /* Unrealizing the device releases whatever it still holds. */
    tess_device_unrealize(a);
    g_assert_true(tess_pio_owner(m, 0x2f8) == NULL);
    g_assert_true(tess_pio_owner(m, 0x3f8) == b);
    tess_pio_release_owner(m, b);
    g_assert_true(tess_pio_owner(m, 0x3f8) == NULL);
    g_assert_cmpuint(m->pio->ranges->len, ==, 0);

    tess_machine_free(m);
    g_array_unref(r.log);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pio/overlap-names-both", test_overlap_names_both);
    g_test_add_func("/pio/invalid-ranges", test_invalid_ranges);
    g_test_add_func("/pio/split-wide", test_split_wide);
    g_test_add_func("/pio/narrow-to-wide", test_narrow_to_wide);
    g_test_add_func("/pio/straddle-and-unowned", test_straddle_and_unowned);
    g_test_add_func("/pio/unmap-and-release", test_unmap_and_release);
    return g_test_run();
}
