/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tp-common.h"
TP_CLASS(c, "tp-abi-major-dev");
static bool init(TessRegistry *reg, GError **err) { return tess_register_class(reg, &c, err); }
G_MODULE_EXPORT const TessPluginDescriptor tess_plugin_descriptor = {
    TESS_ABI_MAJOR + 1, 0, sizeof(TessPluginDescriptor), "tp-abi-major", "1.0",
    "LGPL-2.1-or-later", "registry test: wrong ABI major", init };
