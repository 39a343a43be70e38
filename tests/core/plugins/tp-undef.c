/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Needs a symbol nobody provides: dlopen must fail, cleanly. */
#include "tp-common.h"
extern int tp_symbol_that_does_not_exist(void);
TP_CLASS(c, "tp-undef-dev");
static bool init(TessRegistry *reg, GError **err)
{
    return tp_symbol_that_does_not_exist() && tess_register_class(reg, &c, err);
}
TESS_PLUGIN_DEFINE("tp-undef", "1.0", "LGPL-2.1-or-later", "registry test: undefined symbol", init);
