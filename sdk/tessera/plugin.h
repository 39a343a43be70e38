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

/* Major: incompatible change. Minor: additions only (new functions, new
 * trailing class fields a plugin may leave zero). */
#define TESS_ABI_MAJOR 1
#define TESS_ABI_MINOR 0

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
