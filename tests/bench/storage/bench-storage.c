/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Storage benchmark: sequential (1 MiB requests) and random 4 KiB read and
 * write on a 1 GiB dynamic VHD, through the vhd block backend and, side by
 * side, through `qemu-io -f vpc` on a copy of the same image with the same
 * requests. Both go through the host page cache and end each write phase
 * with a flush.
 *
 *   meson test -C BUILD --benchmark storage     (or run bench-storage)
 *   bench-storage [--size BYTES] [--ops N] [--dir DIR]
 *
 * Build without sanitizers for meaningful numbers.
 */
#include "harness.h"

#include <tessera/block.h>

#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef enum { SEQ_WRITE, SEQ_READ, RAND_WRITE, RAND_READ, RAND_WRITE_FRESH } Phase;

static const char *const phase_name[] = {
    "sequential write 1M", "sequential read 1M", "random write 4K",
    "random read 4K", "random write 4K, allocating",
};

typedef struct {
    uint64_t size;
    unsigned ops;
    char *dir;
} Conf;

/* The requests of a phase: offsets in bytes, all of `len` bytes. */
static GArray *requests(const Conf *c, Phase p, size_t *len)
{
    GArray *a = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    GRand *r = g_rand_new_with_seed(1234 + p);
    if (p == SEQ_WRITE || p == SEQ_READ) {
        *len = 1u << 20;
        for (uint64_t off = 0; off + *len <= c->size; off += *len)
            g_array_append_val(a, off);
    } else {
        *len = 4096;
        unsigned n = p == RAND_WRITE_FRESH ? c->ops / 4 : c->ops;
        for (unsigned i = 0; i < n; i++) {
            uint64_t off = (uint64_t)g_rand_double_range(r, 0, (double)(c->size / 4096)) * 4096;
            g_array_append_val(a, off);
        }
    }
    g_rand_free(r);
    return a;
}

static bool is_write(Phase p)
{
    return p == SEQ_WRITE || p == RAND_WRITE || p == RAND_WRITE_FRESH;
}

static double now(void)
{
    return (double)g_get_monotonic_time() / G_USEC_PER_SEC;
}

static void die(GError *e)
{
    fprintf(stderr, "bench-storage: %s\n", e->message);
    exit(1);
}

/* ---- through the block backend -------------------------------------------------- */

static double run_ours(TessMachine *m, const char *file, Phase p, const Conf *c)
{
    GError *e = NULL;
    const TessDeviceClass *cls = tess_registry_lookup(th_registry(), "vhd");
    TessDevice *d = tess_device_new(m, cls, "bench", &e);
    if (!d || !tess_device_set_prop(d, "file", file, &e) || !tess_device_realize(d, &e))
        die(e);
    const TessBlockOps *ops = tess_block_ops(d);
    size_t len;
    g_autoptr(GArray) req = requests(c, p, &len);
    g_autofree uint8_t *buf = g_malloc(len);
    memset(buf, 0x5a, len);
    double t0 = now();
    for (guint i = 0; i < req->len; i++) {
        uint64_t off = g_array_index(req, uint64_t, i);
        bool ok = is_write(p) ? ops->write(d, off, buf, len, &e) : ops->read(d, off, buf, len, &e);
        if (!ok)
            die(e);
    }
    if (is_write(p) && !ops->flush(d, &e))
        die(e);
    double t = now() - t0;
    tess_device_free(d);
    return t;
}

/* ---- through qemu-io -------------------------------------------------------------- */

static double run_script(const char *file, const char *script)
{
    /* qemu-io defaults to writethrough (a flush after every write): ask
     * for the host page cache, as the backend uses it. */
    g_autofree char *cmd = g_strdup_printf("qemu-io -f vpc -t writeback '%s' < '%s' > /dev/null",
                                           file, script);
    double t0 = now();
    int st = system(cmd);
    double t = now() - t0;
    if (!WIFEXITED(st) || WEXITSTATUS(st)) {
        fprintf(stderr, "bench-storage: qemu-io failed\n");
        exit(1);
    }
    return t;
}

static double run_qemu(const char *file, Phase p, const Conf *c, double startup)
{
    size_t len;
    g_autoptr(GArray) req = requests(c, p, &len);
    g_autofree char *script = g_build_filename(c->dir, "bench.qemu-io", NULL);
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < req->len; i++)
        g_string_append_printf(s, "%s -q %s%" G_GUINT64_FORMAT " %zu\n",
                               is_write(p) ? "write" : "read", is_write(p) ? "-P 0x5a " : "",
                               g_array_index(req, uint64_t, i), len);
    if (is_write(p))
        g_string_append(s, "flush\n");
    g_assert_true(g_file_set_contents(script, s->str, (gssize)s->len, NULL));
    g_string_free(s, TRUE);
    double t = run_script(file, script) - startup;
    g_unlink(script);
    return t > 0 ? t : 1e-6;
}

static void copy_file(const char *from, const char *to)
{
    g_autofree char *cmd = g_strdup_printf("cp '%s' '%s'", from, to);
    g_assert_cmpint(system(cmd), ==, 0);
}

int main(int argc, char **argv)
{
    Conf c = { .size = 1ull << 30, .ops = 32768 };
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--size"))
            c.size = g_ascii_strtoull(argv[i + 1], NULL, 0);
        else if (!strcmp(argv[i], "--ops"))
            c.ops = (unsigned)g_ascii_strtoull(argv[i + 1], NULL, 0);
        else if (!strcmp(argv[i], "--dir"))
            c.dir = g_strdup(argv[i + 1]);
    }
    g_autofree char *qemu = g_find_program_in_path("qemu-io");
    if (!qemu) {
        printf("qemu-io not installed (qemu-utils): skipped\n");
        return 77;
    }
    if (!c.dir) {
        GError *e = NULL;
        c.dir = g_dir_make_tmp("tess-bench-XXXXXX", &e);
        if (!c.dir)
            die(e);
    }
    g_autofree char *empty = g_build_filename(c.dir, "empty.vhd", NULL);
    g_autofree char *ours = g_build_filename(c.dir, "ours.vhd", NULL);
    g_autofree char *theirs = g_build_filename(c.dir, "qemu.vhd", NULL);
    g_autofree char *script = g_build_filename(c.dir, "nothing.qemu-io", NULL);
    g_autofree char *mk = g_strdup_printf("qemu-img create -q -f vpc -o subformat=dynamic '%s' %"
                                          G_GUINT64_FORMAT, empty, c.size);
    g_assert_cmpint(system(mk), ==, 0);
    g_assert_true(g_file_set_contents(script, "", 0, NULL));
    copy_file(empty, theirs);
    double startup = 1e9;
    for (int i = 0; i < 3; i++)
        startup = MIN(startup, run_script(theirs, script));

    TessMachine *m = th_machine("");
    g_autofree char *hs = g_format_size_full(c.size, G_FORMAT_SIZE_IEC_UNITS);
    printf("%s dynamic VHD, %u random ops; qemu-io start-up (%.0f ms) subtracted\n", hs,
           c.ops, startup * 1000);
    printf("%-28s %14s %14s %8s\n", "", "tessera", "qemu-io", "ratio");
    for (Phase p = SEQ_WRITE; p <= RAND_WRITE_FRESH; p++) {
        if (p == SEQ_WRITE || p == RAND_WRITE_FRESH) {
            copy_file(empty, ours);
            copy_file(empty, theirs);
        }
        double to = run_ours(m, ours, p, &c);
        double tq = run_qemu(theirs, p, &c, startup);
        size_t len;
        g_autoptr(GArray) req = requests(&c, p, &len);
        double bytes = (double)req->len * (double)len;
        if (len >= (1u << 20))
            printf("%-28s %9.0f MB/s %9.0f MB/s %7.2fx\n", phase_name[p], bytes / to / 1e6,
                   bytes / tq / 1e6, tq / to);
        else
            printf("%-28s %9.0f IOPS %9.0f IOPS %7.2fx\n", phase_name[p], req->len / to,
                   req->len / tq, tq / to);
        fflush(stdout);
    }
    th_machine_free(m);
    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", c.dir);
    g_assert_cmpint(system(rm), ==, 0);
    g_free(c.dir);
    return 0;
}
