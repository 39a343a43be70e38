/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tp-common.h"
TP_CLASS(good_class, "tp-good-dev");
static bool init(TessRegistry *reg, GError **err) { return tess_register_class(reg, &good_class, err); }
TESS_PLUGIN_DEFINE("tp-good", "1.0", "LGPL-2.1-or-later", "registry test: accepted", init);
