/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the VHD reader, all three types and differencing
 * chains. The input is up to three files, a.vhd, b.vhd and c.vhd, each
 * preceded by its length (4 bytes, little-endian; the last takes the
 * rest), written to a private directory: a.vhd is opened read-only (its
 * parent locators naming b.vhd or c.vhd make a chain), read at the places
 * block_status reports data, checked, and then opened writable and written
 * to and flushed. Whatever the files hold, the backend must give an error
 * or data, never crash, hang or touch memory it does not own.
 */
#include "harness.h"
#include <tessera/block.h>

#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <utime.h>
#include <glib/gstdio.h>

static char *dir;
static char *paths[3];
static TessMachine *machine;
static const TessDeviceClass *vhd;

static void fz_init(void)
{
    if (dir)
        return;
    g_log_set_always_fatal(G_LOG_FATAL_MASK);
    g_log_set_handler(NULL, G_LOG_LEVEL_MASK & ~G_LOG_FATAL_MASK, (GLogFunc)g_log_default_handler,
                      NULL);
    g_setenv("G_MESSAGES_DEBUG", "", TRUE);
    const char *base = g_file_test("/dev/shm", G_FILE_TEST_IS_DIR) ? "/dev/shm" : g_get_tmp_dir();
    g_autofree char *tmpl = g_build_filename(base, "tess-fuzz-vhd-XXXXXX", NULL);
    dir = g_mkdtemp(g_steal_pointer(&tmpl));
    if (!dir)
        abort();
    static const char *const names[] = { "a.vhd", "b.vhd", "c.vhd" };
    for (int i = 0; i < 3; i++)
        paths[i] = g_build_filename(dir, names[i], NULL);
    machine = th_machine("");
    vhd = tess_registry_lookup(th_registry(), "vhd");
    if (!vhd)
        abort();
}

static TessDevice *open_disk(const char *file, bool rw)
{
    GError *err = NULL;
    TessDevice *dev = tess_device_new(machine, vhd, "disk", &err);
    if (dev && tess_device_set_prop(dev, "file", file, &err) &&
        tess_device_set_prop(dev, "readonly", rw ? "off" : "on", &err) &&
        tess_device_realize(dev, &err)) {
        return dev;
    }
    g_clear_error(&err);
    if (dev)
        tess_device_free(dev);
    return NULL;
}

/* The file rewritten in place: g_file_set_contents's temporary file,
 * fsync and rename for each of three files were a seventh of each
 * execution, and nothing here needs the atomic replacement. */
static void put_file(const char *path, const uint8_t *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        abort();
    while (n) {
        ssize_t w = write(fd, data, n);
        if (w <= 0)
            abort();
        data += w;
        n -= (size_t)w;
    }
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_init();
    for (int i = 0; i < 3; i++) {
        size_t n = size;
        if (i < 2 && size >= 4) {
            uint32_t len;
            memcpy(&len, data, 4);
            data += 4;
            size -= 4;
            n = MIN((size_t)len, size);
        } else if (i < 2) {
            n = 0;
        }
        put_file(paths[i], data, n);
        data += n;
        size -= n;
        /* Parents older than any child (2001), as after a copy with -p:
         * the chain is not refused for a modification time written now. */
        if (i) {
            struct utimbuf t = { 978307200, 978307200 };
            utime(paths[i], &t);
        }
    }
    TessDevice *d = open_disk(paths[0], false);
    if (d) {
        const TessBlockOps *ops = tess_block_ops(d);
        uint64_t total = ops->size(d);
        uint8_t buf[4096];
        GError *err = NULL;
        uint64_t off = 0;
        for (int steps = 0; steps < 64 && off < total; steps++) {
            uint64_t pnum = 0;
            TessBlockStatus st = ops->block_status(d, off, total - off, &pnum);
            if (!pnum)
                pnum = 512;
            if (st == TESS_BLOCK_STATUS_DATA) {
                size_t n = (size_t)MIN((uint64_t)sizeof(buf), total - off) & ~(size_t)511;
                if (n && !ops->read(d, off, buf, n, &err))
                    g_clear_error(&err);
            }
            off += MAX(pnum, (uint64_t)512);
        }
        TessBlockInfo in = { 0 };
        if (ops->info(d, &in, &err))
            tess_block_info_clear(&in);
        g_clear_error(&err);
        tess_device_free(d);
    }
    GError *err = NULL;
    TessBlockCheck res = { .report = NULL };
    if (!tess_block_class_ops(vhd)->check(paths[0], false, &res, &err))
        g_clear_error(&err);
    /* Writable: allocation, bitmaps, the moving footer, write-back. */
    d = open_disk(paths[0], true);
    if (d) {
        const TessBlockOps *ops = tess_block_ops(d);
        uint64_t total = ops->size(d);
        uint8_t sect[1024];
        memset(sect, 0xA5, sizeof(sect));
        if (total >= sizeof(sect)) {
            uint64_t at = (total / 3) & ~(uint64_t)511;
            if (at + sizeof(sect) > total)
                at = 0;
            if (!ops->write(d, at, sect, sizeof(sect), &err))
                g_clear_error(&err);
            if (!ops->flush(d, &err))
                g_clear_error(&err);
        }
        tess_device_free(d);
    }
    return 0;
}
