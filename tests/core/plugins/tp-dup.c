/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Registers a fresh class, then one whose name tp-good already took: the
 * whole plugin must be refused, the fresh class withdrawn. */
#include "tp-common.h"
TP_CLASS(fresh, "tp-dup-fresh");
TP_CLASS(clash, "tp-good-dev");
static bool init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &fresh, err) && tess_register_class(reg, &clash, err);
}
TESS_PLUGIN_DEFINE("tp-dup", "1.0", "LGPL-2.1-or-later", "registry test: duplicate class", init);
