/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Block backend "vhd": Virtual PC / Virtual Server / Hyper-V hard disk
 * images, fixed, dynamic (expanding) and differencing, per the Microsoft
 * "Virtual Hard Disk Image Format Specification" v1.0. The format lives
 * in vhd-format.c, the engine in vhd-image.c and vhd-create.c, check,
 * repair and compact in vhd-check.c, the backend instance and the undo
 * overlay in ../undo.
 */
#include "vhd-image.h"

static bool vhd_realize(TessDevice *dev, GError **err)
{
    return store_disk_realize(dev, vhd_open, err);
}

static const TessBlockOps vhd_block_ops = {
    STORE_DISK_BLOCK_OPS,
    .probe = vhd_probe,
    .create = vhd_create,
    .check = vhd_check_file,
    .commit_file = vhd_commit_file,
    .compact_file = vhd_compact_file,
    .resize_file = vhd_resize_file,
};

static const TessIfaceSpec vhd_provides[] = {
    { TESS_IFACE_BLOCK, &vhd_block_ops },
    TESS_IFACE_END,
};

static const TessPropSpec vhd_props[] = {
    STORE_DISK_PROPS,
    TESS_PROP_END,
};

static const TessDeviceClass vhd_class = {
    .type = "vhd",
    .kind = TESS_CLASS_BACKEND,
    .doc = "VHD disk image: fixed, dynamic (expanding) or differencing",
    .instance_size = sizeof(StoreDisk),
    .props = vhd_props,
    .provides = vhd_provides,
    .realize = vhd_realize,
    .unrealize = store_disk_unrealize,
};

static bool vhd_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &vhd_class, err);
}

TESS_PLUGIN_DEFINE("vhd", "0.1.0", "LGPL-2.1-or-later",
                   "VHD disk images (fixed, dynamic, differencing)", vhd_init);
