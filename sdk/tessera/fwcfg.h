/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The firmware-configuration interface ("fw-cfg"), provided by the fw-cfg
 * device (QEMU's documented fw_cfg, docs/specs/fw_cfg.rst).
 *
 * Other models hand the firmware named blobs ("genroms/foo.bin",
 * "etc/...") during their realize:
 *
 *     TessDevice *fw = tess_device_find_provider(dev, TESS_IFACE_FW_CFG, NULL, NULL);
 *     if (fw) {
 *         const TessFwCfgOps *ops = tess_device_interface(fw, TESS_IFACE_FW_CFG);
 *         ops->add_file(fw, "genroms/mine.bin", data, len, err);
 *     }
 *
 * The data is copied. Names are at most 55 bytes; a name already present
 * is refused (TESS_ERROR_DUPLICATE). Files are read-only to the guest.
 */
#ifndef TESSERA_FWCFG_H
#define TESSERA_FWCFG_H

#include <tessera/types.h>

G_BEGIN_DECLS

#define TESS_IFACE_FW_CFG "fw-cfg"
#define TESS_IFACE_FW_CFG_VERSION 1   /* see TessIfaceSpec in device.h */

typedef struct TessFwCfgOps {
    bool (*add_file)(TessDevice *fwcfg, const char *name, const void *data,
                     size_t len, GError **err);
} TessFwCfgOps;

G_END_DECLS

#endif
