/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Block backend "raw": an image file that holds the disk's bytes as they
 * are (a dd copy of a disk, an ISO). Sparse files stay sparse.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

static StoreLayer *raw_open(const char *path, unsigned flags, GError **err)
{
    return store_raw_open(path, flags & STORE_OPEN_RW, err);
}

static bool raw_realize(TessDevice *dev, GError **err)
{
    return store_disk_realize(dev, raw_open, err);
}

/* Images of formats Tessera does not read start with a signature (qcow2,
 * QED, VMDK, VDI at 64, VHDX, LUKS): such a file is not taken for a raw
 * disk by probing (`tessera img` names them; it keeps its own list, this
 * plugin being built against the SDK alone). */
static bool foreign_signature(const char *file)
{
    struct stat st;
    if (stat(file, &st) < 0 || !S_ISREG(st.st_mode))
        return false;
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return false;
    uint8_t h[72] = { 0 };
    ssize_t n = pread(fd, h, sizeof(h), 0);
    close(fd);
    return n == (ssize_t)sizeof(h) &&
           (!memcmp(h, "QFI\xfb", 4) || !memcmp(h, "QED\0", 4) || !memcmp(h, "KDMV", 4) ||
            !memcmp(h, "COWD", 4) || !memcmp(h, "# Disk DescriptorFile", 21) ||
            !memcmp(h + 64, "\x7f\x10\xda\xbe", 4) || !memcmp(h, "vhdxfile", 8) ||
            !memcmp(h, "LUKS\xba\xbe", 6));
}

static int raw_probe(const char *file)
{
    /* Anything else is a raw image; every other format knows better. */
    return access(file, R_OK) == 0 && !foreign_signature(file) ? 1 : 0;
}

/* Grow or (with shrink) cut the file; sizes are whole sectors. */
static bool raw_resize(const char *file, uint64_t size, bool shrink, uint64_t *new_size,
                       GError **err)
{
    size = (size + TESS_BLOCK_SECTOR - 1) & ~(uint64_t)(TESS_BLOCK_SECTOR - 1);
    int fd = store_open_file(file, true, err);
    if (fd < 0)
        return false;
    struct stat st;
    bool ok = false;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        store_error(err, TESS_ERROR_UNSUPPORTED, "%s: only a regular file can be resized", file);
    else if (size < (uint64_t)st.st_size && !shrink)
        store_error(err, TESS_ERROR_INVALID, "%s: %" G_GUINT64_FORMAT " bytes is smaller than "
                    "the image; shrinking needs --shrink", file, size);
    else if (ftruncate(fd, (off_t)size) < 0)
        store_io_error(err, file, "set size", errno);
    else
        ok = store_sync(fd, file, err);
    close(fd);
    if (ok)
        *new_size = size;
    return ok;
}

static bool raw_create(const TessBlockCreate *o, GError **err)
{
    if (o->type || o->parent || o->block_size)
        return store_error(err, TESS_ERROR_INVALID,
                           "%s: raw images take no type, parent or block size", o->file);
    return store_raw_create(o->file, o->size, err);
}

static bool raw_check(const char *file, bool repair, TessBlockCheck *res, GError **err)
{
    int fd = store_open_file(file, false, err);
    if (fd < 0)
        return false;
    close(fd);
    if (res->report)
        g_string_append(res->report, "note: a raw image has no metadata to check\n");
    return true;
}

static const TessBlockOps raw_block_ops = {
    STORE_DISK_BLOCK_OPS,
    .probe = raw_probe,
    .create = raw_create,
    .check = raw_check,
    .resize_file = raw_resize,
};

static const TessIfaceSpec raw_provides[] = {
    { TESS_IFACE_BLOCK, &raw_block_ops },
    TESS_IFACE_END,
};

static const TessPropSpec raw_props[] = {
    STORE_DISK_PROPS,
    TESS_PROP_END,
};

static const TessDeviceClass raw_class = {
    .type = "raw",
    .kind = TESS_CLASS_BACKEND,
    .doc = "raw disk image (a plain copy of the disk's bytes, e.g. an ISO)",
    .instance_size = sizeof(StoreDisk),
    .props = raw_props,
    .provides = raw_provides,
    .realize = raw_realize,
    .unrealize = store_disk_unrealize,
};

static bool raw_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &raw_class, err);
}

TESS_PLUGIN_DEFINE("raw", "0.1.0", "LGPL-2.1-or-later", "raw disk images", raw_init);
