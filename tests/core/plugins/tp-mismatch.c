/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tp-common.h"
TP_CLASS(c, "tp-mismatch-dev");
static bool init(TessRegistry *reg, GError **err) { return tess_register_class(reg, &c, err); }
TESS_PLUGIN_DEFINE("some-other-name", "1.0", "LGPL-2.1-or-later", "registry test: name mismatch", init);
