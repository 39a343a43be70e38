/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Interoperability with qemu's VHD driver ("vpc", Debian qemu-utils), both
 * ways, fixed and dynamic: our images open in qemu-img (`check -f vpc`
 * answers 0, or 63 "format does not support checks" once it has opened
 * the image) and `qemu-img compare` finds them equal to their source;
 * qemu's images read identically through our backend, and what we write
 * into them reads back through qemu. Sizes round to the same CHS geometry.
 */
#include "storage-util.h"

#include <json-glib/json-glib.h>

static char *tmp;

static char *path(const char *name)
{
    return g_build_filename(tmp, name, NULL);
}

static bool have_qemu(void)
{
    g_autofree char *a = g_find_program_in_path("qemu-img");
    g_autofree char *b = g_find_program_in_path("qemu-io");
    if (a && b)
        return true;
    g_test_skip("qemu-img / qemu-io not installed (Debian qemu-utils; scripts/deps.sh)");
    return false;
}

/* Run a command; returns its exit status, stdout in *out when not NULL. */
static int run(char **out, const char *first, ...)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *))
        g_ptr_array_add(argv, (gpointer)a);
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    g_autofree char *so = NULL, *se = NULL;
    int status = 0;
    g_autoptr(GError) err = NULL;
    g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL,
                               NULL, &so, &se, &status, &err));
    g_assert_no_error(err);
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    if (rc)
        g_test_message("%s ...: exit %d\n%s%s", first, rc, so, se);
    if (out)
        *out = g_steal_pointer(&so);
    return rc;
}

static uint64_t qemu_size(const char *file)
{
    g_autofree char *js = NULL;
    g_assert_cmpint(run(&js, "qemu-img", "info", "-f", "vpc", "--output=json", file, NULL),
                    ==, 0);
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, js, -1, NULL));
    return (uint64_t)json_object_get_int_member(json_node_get_object(json_parser_get_root(p)),
                                                "virtual-size");
}

/* qemu opens it: `check` is 0, or 63 when the driver has no checker (vpc
 * in qemu 7.2 has none; it says so only after opening the image). */
static void qemu_opens(const char *file)
{
    int rc = run(NULL, "qemu-img", "check", "-f", "vpc", file, NULL);
    g_assert_true(rc == 0 || rc == 63);
}

/* ---- our images in qemu ------------------------------------------------------- */

static const struct { uint64_t off; uint32_t len; } writes[] = {
    { 0, 4096 }, { 65536, 512 }, { (2u << 20) - 1024, 8192 }, { 5u << 20, 1u << 20 },
    { 17u << 20, 3u << 20 },
};

static void ours_to_qemu(const char *type)
{
    if (!have_qemu())
        return;
    TessMachine *m = th_machine("");
    g_autofree char *f = path("ours.vhd"), *ref = path("ours.raw");
    su_create("vhd", f, 32u << 20, type, NULL, 0);
    TessDevice *d = su_open(m, "vhd", f, NULL);
    uint64_t size = su_ops(d)->size(d);
    su_create("raw", ref, size, NULL, NULL, 0);
    TessDevice *r = su_open(m, "raw", ref, NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(writes); i++) {
        g_autofree uint8_t *buf = g_malloc(writes[i].len);
        su_fill(buf, writes[i].off, writes[i].len, (uint32_t)i + 1);
        su_write(d, writes[i].off, buf, writes[i].len);
        su_write(r, writes[i].off, buf, writes[i].len);
    }
    uint8_t last[512];
    su_fill(last, size - 512, 512, 99);
    su_write(d, size - 512, last, 512);
    su_write(r, size - 512, last, 512);
    su_close(d);
    su_close(r);
    g_assert_cmpuint(su_check("vhd", f, false, NULL), ==, 0);
    qemu_opens(f);
    g_assert_cmpuint(qemu_size(f), ==, size);
    g_assert_cmpint(run(NULL, "qemu-img", "compare", "-f", "raw", "-F", "vpc", ref, f, NULL),
                    ==, 0);
    /* and a change made by qemu reads back here */
    g_assert_cmpint(run(NULL, "qemu-io", "-f", "vpc", "-c", "write -P 0x5a 9M 1M", f, NULL),
                    ==, 0);
    d = su_open(m, "vhd", f, (const char *[]){ "readonly=on", NULL });
    g_autofree uint8_t *buf = g_malloc(1u << 20);
    su_read(d, 9u << 20, buf, 1u << 20);
    for (size_t i = 0; i < (1u << 20); i++)
        g_assert_cmpuint(buf[i], ==, 0x5a);
    su_close(d);
    g_assert_cmpuint(su_check("vhd", f, false, NULL), ==, 0);
    th_machine_free(m);
    g_unlink(f);
    g_unlink(ref);
}

static void test_ours_dynamic(void) { ours_to_qemu("dynamic"); }
static void test_ours_fixed(void) { ours_to_qemu("fixed"); }

/* ---- qemu's images here -------------------------------------------------------- */

static uint8_t qemu_byte(uint64_t off)
{
    if (off < (64u << 10))
        return 0xab;
    if (off >= (3u << 20) && off < (4u << 20))
        return 0xcd;
    if (off >= (31u << 20) && off < (31u << 20) + 512)
        return 0x11;
    return 0;
}

static void qemu_to_ours(const char *sub)
{
    if (!have_qemu())
        return;
    TessMachine *m = th_machine("");
    g_autofree char *f = path("qemu.vhd"), *exp = path("qemu.raw");
    g_autofree char *opt = g_strdup_printf("subformat=%s", sub);
    g_assert_cmpint(run(NULL, "qemu-img", "create", "-q", "-f", "vpc", "-o", opt, f, "32M",
                        NULL), ==, 0);
    g_assert_cmpint(run(NULL, "qemu-io", "-f", "vpc", "-c", "write -P 0xab 0 64k", "-c",
                        "write -P 0xcd 3M 1M", "-c", "write -P 0x11 31M 512", f, NULL), ==, 0);
    uint64_t qsize = qemu_size(f);
    g_assert_cmpint(run(NULL, "qemu-img", "convert", "-f", "vpc", "-O", "raw", f, exp, NULL),
                    ==, 0);
    g_assert_cmpuint(su_check("vhd", f, false, NULL), ==, 0);

    TessDevice *d = su_open(m, "vhd", f, (const char *[]){ "readonly=on", NULL });
    g_assert_cmpuint(su_ops(d)->size(d), ==, qsize);
    g_autofree uint8_t *buf = g_malloc(1u << 20), *ref = g_malloc(1u << 20);
    for (uint64_t off = 0; off < qsize; off += 1u << 20) {
        size_t n = (size_t)MIN((uint64_t)1 << 20, qsize - off);
        su_read(d, off, buf, n);
        su_pread(exp, ref, n, off);
        g_assert_cmpmem(buf, n, ref, n);
        for (size_t i = 0; i < n; i += 512)
            g_assert_cmpuint(buf[i], ==, qemu_byte(off + i));
    }
    su_close(d);

    /* write into qemu's image here, qemu reads it */
    d = su_open(m, "vhd", f, NULL);
    g_autofree uint8_t *pat = g_malloc(3u << 20);
    su_fill(pat, 6u << 20, 3u << 20, 42);
    su_write(d, 6u << 20, pat, 3u << 20);
    su_close(d);
    qemu_opens(f);
    g_autofree char *exp2 = path("qemu2.raw");
    g_assert_cmpint(run(NULL, "qemu-img", "convert", "-f", "vpc", "-O", "raw", f, exp2, NULL),
                    ==, 0);
    g_autofree uint8_t *got = g_malloc(3u << 20);
    su_pread(exp2, got, 3u << 20, 6u << 20);
    g_assert_cmpmem(got, 3u << 20, pat, 3u << 20);
    su_pread(exp2, got, 65536, 0);
    for (size_t i = 0; i < 65536; i++)
        g_assert_cmpuint(got[i], ==, 0xab);
    th_machine_free(m);
    g_unlink(f);
    g_unlink(exp);
    g_unlink(exp2);
}

static void test_qemu_dynamic(void) { qemu_to_ours("dynamic"); }
static void test_qemu_fixed(void) { qemu_to_ours("fixed"); }

/* ---- both round sizes the same way --------------------------------------------- */

static void test_sizes(void)
{
    if (!have_qemu())
        return;
    static const char *const sizes[] = { "1M", "10M", "64M", "100M", "2G", "127G", "200G" };
    TessMachine *m = th_machine("");
    g_autofree char *q = path("size-q.vhd"), *o = path("size-o.vhd");
    for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
        g_assert_cmpint(run(NULL, "qemu-img", "create", "-q", "-f", "vpc", "-o",
                            "subformat=dynamic", q, sizes[i], NULL), ==, 0);
        uint64_t bytes = 0;
        static const TessPropSpec spec = { .name = "size", .type = TESS_PROP_SIZE };
        g_assert_true(tess_prop_parse(&spec, sizes[i], &bytes, NULL));
        su_create("vhd", o, bytes, "dynamic", NULL, 0);
        TessDevice *d = su_open(m, "vhd", o, NULL);
        g_assert_cmpuint(su_ops(d)->size(d), ==, qemu_size(q));
        su_close(d);
        /* and qemu reads ours with the size we do */
        g_assert_cmpuint(qemu_size(o), ==, qemu_size(q));
        d = su_open(m, "vhd", q, NULL);
        g_assert_cmpuint(su_ops(d)->size(d), ==, qemu_size(q));
        su_close(d);
    }
    g_unlink(q);
    g_unlink(o);
    th_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tmp = su_tmpdir();
    g_test_add_func("/storage/qemu/ours-dynamic", test_ours_dynamic);
    g_test_add_func("/storage/qemu/ours-fixed", test_ours_fixed);
    g_test_add_func("/storage/qemu/qemu-dynamic", test_qemu_dynamic);
    g_test_add_func("/storage/qemu/qemu-fixed", test_qemu_fixed);
    g_test_add_func("/storage/qemu/sizes", test_sizes);
    int rc = g_test_run();
    su_rmtree(tmp);
    g_free(tmp);
    return rc;
}
