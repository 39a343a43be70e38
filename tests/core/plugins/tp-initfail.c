/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tp-common.h"
TP_CLASS(c, "tp-initfail-dev");
static bool init(TessRegistry *reg, GError **err)
{
    if (!tess_register_class(reg, &c, err))
        return false;
    g_set_error(err, TESS_PLUGIN_ERROR, TESS_ERROR_FAILED, "host lacks the widget it needs");
    return false;
}
TESS_PLUGIN_DEFINE("tp-initfail", "1.0", "LGPL-2.1-or-later", "registry test: init fails", init);
