/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers for the storage tests: open images through the registry (the
 * build tree's raw and vhd plugins) and drive them through the "block"
 * interface, hash files, patch VHD structures the way the specification
 * lays them out.
 */
#ifndef TESS_TEST_STORAGE_UTIL_H
#define TESS_TEST_STORAGE_UTIL_H

#include "harness.h"

#include <tessera/block.h>

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SU_SECTOR 512u

static inline const TessDeviceClass *su_class(const char *format)
{
    const TessDeviceClass *cls = tess_registry_lookup(th_registry(), format);
    g_assert_nonnull(cls);
    g_assert_nonnull(tess_block_class_ops(cls));
    return cls;
}

static inline const TessBlockOps *su_cops(const char *format)
{
    return tess_block_class_ops(su_class(format));
}

/* Open `file` as `format` with extra "name=value" properties (NULL-ended).
 * Returns NULL with *err on failure. */
static inline TessDevice *su_open_try(TessMachine *m, const char *format, const char *file,
                                      const char *const *props, GError **err)
{
    TessDevice *dev = tess_device_new(m, su_class(format), "disk", err);
    if (!dev)
        return NULL;
    bool ok = tess_device_set_prop(dev, "file", file, err);
    for (const char *const *p = props; ok && p && *p; p++) {
        g_auto(GStrv) kv = g_strsplit(*p, "=", 2);
        ok = tess_device_set_prop(dev, kv[0], kv[1], err);
    }
    if (!ok || !tess_device_realize(dev, err)) {
        tess_device_free(dev);
        return NULL;
    }
    return dev;
}

static inline TessDevice *su_open(TessMachine *m, const char *format, const char *file,
                                  const char *const *props)
{
    g_autoptr(GError) err = NULL;
    TessDevice *dev = su_open_try(m, format, file, props, &err);
    g_assert_no_error(err);
    g_assert_nonnull(dev);
    return dev;
}

static inline void su_close(TessDevice *dev)
{
    tess_device_free(dev);
}

static inline const TessBlockOps *su_ops(TessDevice *dev)
{
    const TessBlockOps *ops = tess_block_ops(dev);
    g_assert_nonnull(ops);
    return ops;
}

static inline void su_read(TessDevice *dev, uint64_t off, void *buf, size_t len)
{
    g_autoptr(GError) err = NULL;
    g_assert_true(su_ops(dev)->read(dev, off, buf, len, &err));
    g_assert_no_error(err);
}

static inline void su_write(TessDevice *dev, uint64_t off, const void *buf, size_t len)
{
    g_autoptr(GError) err = NULL;
    g_assert_true(su_ops(dev)->write(dev, off, buf, len, &err));
    g_assert_no_error(err);
}

static inline void su_flush(TessDevice *dev)
{
    g_autoptr(GError) err = NULL;
    g_assert_true(su_ops(dev)->flush(dev, &err));
    g_assert_no_error(err);
}

static inline void su_create(const char *format, const char *file, uint64_t size,
                             const char *type, const char *parent, uint32_t block_size)
{
    g_autoptr(GError) err = NULL;
    TessBlockCreate c = { .file = file, .size = size, .type = type, .parent = parent,
                          .block_size = block_size };
    g_assert_true(su_cops(format)->create(&c, &err));
    g_assert_no_error(err);
}

/* Check with the backend's check; returns the number of errors left. */
static inline unsigned su_check(const char *format, const char *file, bool repair,
                                TessBlockCheck *out)
{
    g_autoptr(GError) err = NULL;
    TessBlockCheck res = { .report = g_string_new(NULL) };
    g_assert_true(su_cops(format)->check(file, repair, &res, &err));
    g_assert_no_error(err);
    if (res.errors != res.repaired)
        g_test_message("check %s:\n%s", file, res.report->str);
    unsigned left = res.errors - res.repaired;
    if (out) {
        *out = res;
    } else {
        g_string_free(res.report, TRUE);
    }
    return left;
}

/* Deterministic content: sector `lba` written in generation `gen`. */
static inline void su_pattern(uint8_t *buf, uint64_t lba, uint32_t gen)
{
    uint32_t x = (uint32_t)(lba * 2654435761u) ^ (gen * 40503u + 1);
    for (unsigned i = 0; i < SU_SECTOR; i += 4) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        memcpy(buf + i, &x, 4);
    }
    memcpy(buf, &lba, 8);
    memcpy(buf + 8, &gen, 4);
}

static inline void su_fill(uint8_t *buf, uint64_t off, size_t len, uint32_t gen)
{
    for (size_t s = 0; s < len; s += SU_SECTOR)
        su_pattern(buf + s, (off + s) / SU_SECTOR, gen);
}

static inline char *su_sha256_file(const char *path)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) err = NULL;
    g_assert_true(g_file_get_contents(path, &data, &len, &err));
    return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
}

static inline void su_assert_file_sha(const char *path, const char *want)
{
    g_autofree char *s = su_sha256_file(path);
    g_assert_cmpstr(s, ==, want);
}

/* Hash of a disk's whole contents as read through the backend. */
static inline char *su_sha256_disk(TessDevice *dev)
{
    uint64_t size = su_ops(dev)->size(dev);
    GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
    const size_t chunk = 1u << 20;
    g_autofree uint8_t *buf = g_malloc(chunk);
    for (uint64_t off = 0; off < size; off += chunk) {
        size_t n = (size_t)MIN((uint64_t)chunk, size - off);
        su_read(dev, off, buf, n);
        g_checksum_update(c, buf, n);
    }
    char *s = g_strdup(g_checksum_get_string(c));
    g_checksum_free(c);
    return s;
}

static inline char *su_tmpdir(void)
{
    g_autoptr(GError) err = NULL;
    char *d = g_dir_make_tmp("tess-storage-XXXXXX", &err);
    g_assert_no_error(err);
    return d;
}

/* On tmpfs when there is one: fdatasync costs nothing there, which keeps
 * tests that flush thousands of times fast; what they test does not
 * depend on the file system. */
static inline char *su_fast_tmpdir(void)
{
    if (g_file_test("/dev/shm", G_FILE_TEST_IS_DIR) && access("/dev/shm", W_OK) == 0) {
        char *d = g_strdup("/dev/shm/tess-storage-XXXXXX");
        if (g_mkdtemp(d))
            return d;
        g_free(d);
    }
    return su_tmpdir();
}

/* Replace a file's contents without g_file_set_contents' fsync. */
static inline void su_set_contents(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, data, len), ==, (ssize_t)len);
    close(fd);
}

static inline void su_rmtree(const char *dir)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    g_assert_cmpint(system(cmd), ==, 0);
}

/* ---- raw file access and VHD structure patching (spec offsets) -------------- */

static inline uint64_t su_file_size(const char *path)
{
    struct stat st;
    g_assert_cmpint(stat(path, &st), ==, 0);
    return (uint64_t)st.st_size;
}

static inline void su_pread(const char *path, void *buf, size_t len, uint64_t off)
{
    int fd = open(path, O_RDONLY);
    g_assert_cmpint(fd, >=, 0);
    memset(buf, 0, len);
    g_assert_cmpint(pread(fd, buf, len, (off_t)off), >=, 0);
    close(fd);
}

static inline void su_pwrite(const char *path, const void *buf, size_t len, uint64_t off)
{
    int fd = open(path, O_WRONLY);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pwrite(fd, buf, len, (off_t)off), ==, (ssize_t)len);
    close(fd);
}

static inline uint32_t su_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t su_be64(const uint8_t *p)
{
    return (uint64_t)su_be32(p) << 32 | su_be32(p + 4);
}

static inline void su_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Specification appendix: one's complement of the byte sum without the
 * checksum field. */
static inline void su_fix_checksum(uint8_t *b, size_t len, size_t at)
{
    uint32_t sum = 0;
    for (size_t i = 0; i < len; i++)
        if (i < at || i >= at + 4)
            sum += b[i];
    su_put32(b + at, ~sum);
}

/* Rewrite the footer (at EOF and, for sparse images, its copy at 0) after
 * `edit` changed it; the checksum is recomputed. */
static inline void su_edit_footer(const char *path, void (*edit)(uint8_t *f, void *),
                                  void *data)
{
    uint8_t f[512];
    uint64_t size = su_file_size(path);
    su_pread(path, f, 512, size - 512);
    edit(f, data);
    su_fix_checksum(f, 512, 64);
    su_pwrite(path, f, 512, size - 512);
    if (su_be32(f + 60) != 2)
        su_pwrite(path, f, 512, 0);
}

#endif
