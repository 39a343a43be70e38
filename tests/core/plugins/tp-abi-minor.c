/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tp-common.h"
TP_CLASS(c, "tp-abi-minor-dev");
static bool init(TessRegistry *reg, GError **err) { return tess_register_class(reg, &c, err); }
G_MODULE_EXPORT const TessPluginDescriptor tess_plugin_descriptor = {
    TESS_ABI_MAJOR, TESS_ABI_MINOR + 1, sizeof(TessPluginDescriptor), "tp-abi-minor", "1.0",
    "LGPL-2.1-or-later", "registry test: newer ABI minor", init };
