/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Basic types shared by every Tessera SDK header.
 */
#ifndef TESSERA_TYPES_H
#define TESSERA_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>
#include <gmodule.h>

G_BEGIN_DECLS

typedef struct TessMachine TessMachine;          /* opaque: one virtual PC */
typedef struct TessDevice TessDevice;            /* head of every instance */
typedef struct TessDeviceClass TessDeviceClass;  /* const class table */
typedef struct TessRegistry TessRegistry;        /* opaque: class registry */
typedef struct TessSignal TessSignal;            /* opaque: an output line */
typedef struct TessTimer TessTimer;              /* opaque: a virtual timer */
typedef struct TessMemRegion TessMemRegion;      /* opaque: RAM/ROM/MMIO/alias */
typedef struct TessChardev TessChardev;          /* opaque: host character stream */

/* Error domains, one per area. */
#define TESS_PLUGIN_ERROR (tess_plugin_error_quark())
#define TESS_CONFIG_ERROR (tess_config_error_quark())
#define TESS_BUS_ERROR    (tess_bus_error_quark())
#define TESS_STATE_ERROR  (tess_state_error_quark())
#define TESS_DEVICE_ERROR (tess_device_error_quark())
GQuark tess_plugin_error_quark(void);
GQuark tess_config_error_quark(void);
GQuark tess_bus_error_quark(void);
GQuark tess_state_error_quark(void);
GQuark tess_device_error_quark(void);

/* Codes are shared by every domain; the domain says where it happened. */
typedef enum {
    TESS_ERROR_FAILED,       /* anything else */
    TESS_ERROR_ABI,          /* plugin ABI mismatch */
    TESS_ERROR_LOAD,         /* dlopen or missing symbol */
    TESS_ERROR_DUPLICATE,    /* name already taken */
    TESS_ERROR_INVALID,      /* value does not parse or is out of range */
    TESS_ERROR_NOT_FOUND,    /* no such class, device, property, file */
    TESS_ERROR_CONFLICT,     /* resource already claimed (port, address) */
    TESS_ERROR_BOUNDS,       /* guest address outside what may be touched */
    TESS_ERROR_IO,           /* host I/O failed */
    TESS_ERROR_UNSUPPORTED,  /* valid request this build cannot do */
} TessErrorCode;

G_END_DECLS

#endif
