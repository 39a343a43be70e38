/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Corrupted images (random bytes and boundary values in the footer, its
 * copy, the dynamic header, the BAT and the parent locators, usually with
 * the checksums made right again so the damage gets past them), opened
 * through the vhd backend under ASan with a fixed seed. Each must give a
 * clear error naming the file, or open and read (and write) in bounds.
 * check must survive every one of them, and when it says it repaired
 * everything it found, the image must then open.
 */
#include "storage-util.h"

static char *tmp;

typedef struct {
    const char *name;
    char *file;
    uint8_t *data;
    gsize len;
} Seed;

static void make_seeds(TessMachine *m, Seed *s)
{
    s[0].name = "dynamic";
    s[0].file = g_build_filename(tmp, "dyn.vhd", NULL);
    su_create("vhd", s[0].file, 1 << 20, "dynamic", NULL, 32 << 10);
    TessDevice *d = su_open(m, "vhd", s[0].file, NULL);
    g_autofree uint8_t *buf = g_malloc(64 << 10);
    su_fill(buf, 0, 64 << 10, 1);
    su_write(d, 0, buf, 16 << 10);
    su_write(d, 300 << 10, buf, 64 << 10);
    su_write(d, (1 << 20) - (8 << 10), buf, 4 << 10);
    su_close(d);

    g_autofree char *parent = g_build_filename(tmp, "parent.vhd", NULL);
    g_assert_cmpint(g_rename(s[0].file, parent), ==, 0);
    s[1].name = "differencing";
    s[1].file = g_build_filename(tmp, "child.vhd", NULL);
    su_create("vhd", s[1].file, 0, "differencing", parent, 32 << 10);
    d = su_open(m, "vhd", s[1].file, NULL);
    su_fill(buf, 0, 64 << 10, 2);
    su_write(d, 8 << 10, buf, 2 << 10);
    su_write(d, 500 << 10, buf, 40 << 10);
    su_close(d);
    su_create("vhd", s[0].file, 1 << 20, "dynamic", NULL, 32 << 10);
    d = su_open(m, "vhd", s[0].file, NULL);
    su_fill(buf, 0, 64 << 10, 3);
    su_write(d, 100 << 10, buf, 64 << 10);
    su_close(d);

    s[2].name = "fixed";
    s[2].file = g_build_filename(tmp, "fixed.vhd", NULL);
    su_create("vhd", s[2].file, 256 << 10, "fixed", NULL, 0);
    d = su_open(m, "vhd", s[2].file, NULL);
    su_write(d, 0, buf, 4 << 10);
    su_close(d);
    for (int i = 0; i < 3; i++)
        g_assert_true(g_file_get_contents(s[i].file, (char **)&s[i].data, &s[i].len, NULL));
}

static void put_be(uint8_t *p, unsigned bytes, uint64_t v)
{
    for (unsigned i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

static const uint64_t boundary[] = {
    0, 1, 0x1FF, 0x200, 0x201, 0x600, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF,
    0x100000000ull, 0xFFFFFFFFFFFFFFFFull, 0x7FFFFFFFFFFFFFFFull, 1 << 20, 4096, 0xFFFF,
};

/* Damage one structure of `b`; returns a short description. */
static const char *mutate(GRand *r, uint8_t *b, gsize len, bool sparse)
{
    uint64_t hdr = 512, bat = 0, loc = 0;
    uint32_t entries = 0;
    if (sparse && len >= 1536) {
        bat = su_be64(b + hdr + 16);
        entries = su_be32(b + hdr + 28);
        loc = su_be64(b + hdr + 576 + 16);
    }
    int where = g_rand_int_range(r, 0, sparse ? 6 : 2);
    uint64_t base, span;
    const char *what;
    switch (where) {
    case 0: base = len - 512; span = 512; what = "footer"; break;
    case 1: base = 0; span = sparse ? 512 : len; what = sparse ? "footer copy" : "data"; break;
    case 2: base = hdr; span = 1024; what = "header"; break;
    case 3: base = bat; span = (uint64_t)entries * 4; what = "BAT"; break;
    case 4: base = loc; span = 512; what = "locator"; break;
    default: base = 0; span = len; what = "anywhere"; break;
    }
    if (base >= len || !span) {
        base = 0;
        span = len;
    }
    span = MIN(span, len - base);
    int n = g_rand_int_range(r, 1, 4);
    for (int k = 0; k < n; k++) {
        uint64_t off = base + (uint64_t)g_rand_int_range(r, 0, (gint32)MIN(span, (uint64_t)G_MAXINT32));
        if (g_rand_boolean(r)) {
            unsigned bytes = (unsigned[]){ 1, 2, 4, 8 }[g_rand_int_range(r, 0, 4)];
            off &= ~(uint64_t)(bytes - 1);
            if (off + bytes <= len)
                put_be(b + off, bytes, boundary[g_rand_int_range(r, 0, G_N_ELEMENTS(boundary))]);
        } else {
            b[off] = (uint8_t)g_rand_int(r);
        }
    }
    /* Mostly make the checksums right again, so the damage is seen by
     * the checks behind them. */
    if (g_rand_int_range(r, 0, 4)) {
        su_fix_checksum(b + len - 512, 512, 64);
        if (sparse) {
            su_fix_checksum(b, 512, 64);
            if (len >= hdr + 1024)
                su_fix_checksum(b + hdr, 1024, 36);
        }
    }
    return what;
}

static void exercise(TessDevice *d, GRand *r, bool rw)
{
    const TessBlockOps *ops = su_ops(d);
    uint64_t size = ops->size(d);
    g_assert_cmpuint(size % 512, ==, 0);
    g_autofree uint8_t *buf = g_malloc(64 << 10);
    g_autoptr(GError) err = NULL;
    uint64_t offs[8] = { 0, size > (64 << 10) ? size - (64 << 10) : 0 };
    for (int i = 2; i < 8; i++)
        offs[i] = size ? (g_rand_int(r) % (size / 512)) * 512 : 0;
    for (int i = 0; i < 8; i++) {
        size_t n = (size_t)MIN((uint64_t)(64 << 10), size - offs[i]);
        if (!n)
            continue;
        /* reads may fail (a block that points at garbage), but cleanly */
        if (!ops->read(d, offs[i], buf, n, &err)) {
            g_assert_nonnull(err);
            g_clear_error(&err);
        }
        if (rw && i >= 6) {
            if (!ops->write(d, offs[i], buf, MIN(n, (size_t)4096), &err))
                g_clear_error(&err);
        }
    }
    if (rw && !ops->flush(d, &err))
        g_clear_error(&err);
}

static void test_fuzz(void)
{
    TessMachine *m = th_machine("");
    Seed seeds[3] = { { 0 } };
    make_seeds(m, seeds);
    /* Fixed, so a failure reproduces; TESS_FUZZ_SEED explores others. */
    const char *env = g_getenv("TESS_FUZZ_SEED");
    GRand *r = g_rand_new_with_seed(env ? (guint32)g_ascii_strtoull(env, NULL, 0) : 20240601);
    const int cases = g_test_slow() ? 20000 : 3000;
    unsigned opened = 0, refused = 0, repaired_ok = 0;
    for (int i = 0; i < cases; i++) {
        Seed *s = &seeds[i % 3];
        g_autofree uint8_t *b = g_memdup2(s->data, s->len);
        bool sparse = strcmp(s->name, "fixed") != 0;
        const char *what = mutate(r, b, s->len, sparse);
        su_set_contents(s->file, b, s->len);
        bool rw = g_rand_boolean(r);
        g_autoptr(GError) err = NULL;
        TessDevice *d = su_open_try(m, "vhd", s->file,
                                    (const char *[]){ rw ? "readonly=off" : "readonly=on",
                                                      NULL }, &err);
        if (d) {
            opened++;
            exercise(d, r, rw);
            su_close(d);
        } else {
            refused++;
            g_assert_nonnull(err);
            if (!strstr(err->message, s->file))
                g_error("case %d (%s, %s): error without the file name: %s", i, s->name,
                        what, err->message);
        }
        /* check never trips, and a full repair leaves an image that opens */
        if (i % 4 == 0) {
            su_set_contents(s->file, b, s->len);
            TessBlockCheck res = { .report = g_string_new(NULL) };
            g_clear_error(&err);
            bool ok = su_cops("vhd")->check(s->file, true, &res, &err);
            if (ok && res.errors == res.repaired) {
                d = su_open_try(m, "vhd", s->file, NULL, &err);
                if (!d)
                    g_error("case %d (%s, %s): repaired (%s) but does not open: %s", i,
                            s->name, what, res.report->str, err->message);
                exercise(d, r, false);
                su_close(d);
                repaired_ok++;
            }
            g_string_free(res.report, TRUE);
        }
    }
    g_test_message("%d cases: %u opened, %u refused with an error, %u repaired", cases,
                   opened, refused, repaired_ok);
    g_assert_cmpuint(opened, >, 0);
    g_assert_cmpuint(refused, >, 0);
    g_rand_free(r);
    for (int i = 0; i < 3; i++) {
        g_free(seeds[i].file);
        g_free(seeds[i].data);
    }
    th_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tmp = su_fast_tmpdir();
    g_test_add_func("/storage/fuzz/open", test_fuzz);
    int rc = g_test_run();
    su_rmtree(tmp);
    g_free(tmp);
    return rc;
}
