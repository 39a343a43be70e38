/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tessera plugin descriptor and ABI gate.
 *
 * Every plugin is one shared object named after the plugin (debugcon.so for
 * the plugin "debugcon") exporting exactly one descriptor, made with
 * TESS_PLUGIN_DEFINE. The core loads a plugin when its abi_major equals the
 * core's and its abi_minor is not newer than the core's; anything else is
 * refused with a GError naming the file and both versions.
 *
 * The descriptor's init function registers the plugin's classes with
 * tess_register_class(). If init fails, or any class is refused (duplicate
 * type name, malformed property table), every class the plugin registered is
 * withdrawn and the module is unloaded; other plugins are unaffected.
 */
#ifndef TESSERA_PLUGIN_H
#define TESSERA_PLUGIN_H

#include <tessera/types.h>

G_BEGIN_DECLS

/* The plugin ABI version, checked at load (see above).
 *
 * TESS_ABI_MINOR goes up by one with every release that adds to the SDK:
 * a new function, a new header, a new interface, a member appended to a
 * struct that carries its size (TessPluginDescriptor, TessPciFunctionInfo)
 * or taking a reserved slot (TessDeviceClass, TessDevice, TessStateDesc), a
 * new version of an interface (TessIfaceSpec in device.h). Plugins built for
 * an older minor keep loading. TESS_ABI_MAJOR goes up (and MINOR back to 0)
 * for anything a plugin built before could misread: a member removed,
 * reordered or retyped, a struct that grows without carrying its size, a
 * function's signature changed. CI compares the installed SDK with the last
 * release's (.ci/abi, scripts/abi-check.sh) and fails when the numbers do
 * not say what changed.
 *
 * 2.0: interfaces carry a version; TessPciFunctionInfo its size;
 * TessStateDesc reserved room; TessBlockCheck.lost.
 * 2.1: the net, audio-sink and joystick interfaces, instance control
 * commands, the BOOL/VARBUF/UNSAVABLE state types.
 * 2.2: display-source version 2 (a cursor plane, TessDisplayCursor,
 * tess_display_cursor_compose), TessBlockOps.resize_file, alias moves,
 * enabled mappings, MMIO pages and the dirty log in mem.h, the BLOB
 * state type, TESS_TRACE in machine.h.
 * 2.3: tess_machine_dry_run (a device realized by `validate` claims its
 * resources but opens nothing on the host), TESS_PROP_F_OUTPUT.
 * 2.4: a display source may call TessDisplayListener.frame less often
 * while its picture is still (display.h says when); no new symbol. */
#define TESS_ABI_MAJOR 2
#define TESS_ABI_MINOR 4

/* The exported symbol's name. */
#define TESS_PLUGIN_SYMBOL "tess_plugin_descriptor"

typedef bool (*TessPluginInit)(TessRegistry *reg, GError **err);

typedef struct TessPluginDescriptor {
    uint32_t abi_major;
    uint32_t abi_minor;
    uint32_t struct_size;      /* sizeof(TessPluginDescriptor) at build time */
    const char *name;          /* must equal the file name without ".so" */
    const char *version;
    const char *license;       /* SPDX identifier */
    const char *description;   /* one line */
    TessPluginInit init;
} TessPluginDescriptor;

#define TESS_PLUGIN_DEFINE(name_, version_, license_, description_, init_)   \
    G_MODULE_EXPORT const TessPluginDescriptor tess_plugin_descriptor = {    \
        TESS_ABI_MAJOR, TESS_ABI_MINOR, sizeof(TessPluginDescriptor),        \
        name_, version_, license_, description_, init_ }

/* Register one class. The class table must stay valid while the plugin is
 * loaded (make it static const). Fails on a duplicate type name or a
 * malformed table (a property default that does not parse, a missing op). */
bool tess_register_class(TessRegistry *reg, const TessDeviceClass *cls,
                         GError **err);

/* Convenience for plugins with a static array of classes. */
bool tess_register_classes(TessRegistry *reg, const TessDeviceClass *const *classes,
                           GError **err);

G_END_DECLS

#endif
