/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Error domains, one per area (DESIGN.md §2). */
#include "core.h"

G_DEFINE_QUARK(tess-plugin-error-quark, tess_plugin_error)
G_DEFINE_QUARK(tess-config-error-quark, tess_config_error)
G_DEFINE_QUARK(tess-bus-error-quark, tess_bus_error)
G_DEFINE_QUARK(tess-state-error-quark, tess_state_error)
G_DEFINE_QUARK(tess-device-error-quark, tess_device_error)
