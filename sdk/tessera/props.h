/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Typed properties.
 *
 * A class lists its properties in a const table of TessPropSpec, terminated
 * by TESS_PROP_END. The core stores each value straight into the instance at
 * `offset`, with the C type fixed by the property type:
 *
 *   TESS_PROP_INT     int64_t   decimal, 0x hex, 0 octal; min/max checked
 *   TESS_PROP_UINT    uint64_t  same, unsigned; umin/umax checked
 *   TESS_PROP_SIZE    uint64_t  bytes, with suffix K, M, G or T (powers of 1024)
 *   TESS_PROP_BOOL    bool      on/off, yes/no, true/false, 1/0
 *   TESS_PROP_ENUM    int       index into `values`
 *   TESS_PROP_STRING  char *    owned by the core; freed when the device goes
 *   TESS_PROP_PATH    char *    like STRING; relative paths are resolved
 *                               against the directory of the machine file
 *   TESS_PROP_MAC     TessMac   xx:xx:xx:xx:xx:xx
 *
 * Defaults are written as strings and parsed by the same code as user
 * input, so a default that would not parse is refused at registration.
 * A NULL default leaves the field zero (NULL for strings).
 *
 * Properties are set before realize and frozen after it, except those
 * flagged TESS_PROP_F_RUNTIME, whose `changed` hook (in the class) is called.
 */
#ifndef TESSERA_PROPS_H
#define TESSERA_PROPS_H

#include <tessera/types.h>

G_BEGIN_DECLS

typedef enum {
    TESS_PROP_INT,
    TESS_PROP_UINT,
    TESS_PROP_SIZE,
    TESS_PROP_BOOL,
    TESS_PROP_ENUM,
    TESS_PROP_STRING,
    TESS_PROP_PATH,
    TESS_PROP_MAC,
} TessPropType;

typedef struct { uint8_t a[6]; } TessMac;

enum {
    TESS_PROP_F_RUNTIME  = 1u << 0,   /* may change after realize */
    TESS_PROP_F_REQUIRED = 1u << 1,   /* must be given (no usable default) */
    /* A path the device writes (a recording, a log), not one it reads:
     * `tessera validate` checks that its directory exists, not that the
     * file does. Added in ABI 2.3; older cores ignore it. */
    TESS_PROP_F_OUTPUT   = 1u << 2,
};

typedef struct TessPropSpec {
    const char *name;
    TessPropType type;
    size_t offset;
    const char *def;                  /* default, as text; NULL = zero */
    int64_t min, max;                 /* INT range (both 0: unbounded) */
    uint64_t umin, umax;              /* UINT/SIZE range (both 0: unbounded) */
    const char *const *values;        /* ENUM: NULL-terminated names */
    unsigned flags;
    const char *doc;                  /* one line */
} TessPropSpec;

#define TESS_PROP_INT_(n, S, f, d, lo, hi, doc_) \
    { .name = n, .type = TESS_PROP_INT, .offset = offsetof(S, f), .def = d, \
      .min = lo, .max = hi, .doc = doc_ }
#define TESS_PROP_UINT_(n, S, f, d, lo, hi, doc_) \
    { .name = n, .type = TESS_PROP_UINT, .offset = offsetof(S, f), .def = d, \
      .umin = lo, .umax = hi, .doc = doc_ }
#define TESS_PROP_SIZE_(n, S, f, d, lo, hi, doc_) \
    { .name = n, .type = TESS_PROP_SIZE, .offset = offsetof(S, f), .def = d, \
      .umin = lo, .umax = hi, .doc = doc_ }
#define TESS_PROP_BOOL_(n, S, f, d, doc_) \
    { .name = n, .type = TESS_PROP_BOOL, .offset = offsetof(S, f), .def = d, .doc = doc_ }
#define TESS_PROP_ENUM_(n, S, f, d, vals, doc_) \
    { .name = n, .type = TESS_PROP_ENUM, .offset = offsetof(S, f), .def = d, \
      .values = vals, .doc = doc_ }
#define TESS_PROP_STRING_(n, S, f, d, doc_) \
    { .name = n, .type = TESS_PROP_STRING, .offset = offsetof(S, f), .def = d, .doc = doc_ }
#define TESS_PROP_PATH_(n, S, f, d, doc_) \
    { .name = n, .type = TESS_PROP_PATH, .offset = offsetof(S, f), .def = d, .doc = doc_ }
#define TESS_PROP_MAC_(n, S, f, d, doc_) \
    { .name = n, .type = TESS_PROP_MAC, .offset = offsetof(S, f), .def = d, .doc = doc_ }
#define TESS_PROP_END { .name = NULL }

/* Parse `text` as a value of `spec` into `dst` (which points at the field).
 * On failure the error says the property name, the text and why. Exposed so
 * backends and tools parse exactly as machine files do. */
bool tess_prop_parse(const TessPropSpec *spec, const char *text, void *dst,
                     GError **err);

/* Format the current value of the field at `src` as text (g_free it). */
char *tess_prop_format(const TessPropSpec *spec, const void *src);

/* Human-readable type name ("uint", "size", "enum"...). */
const char *tess_prop_type_name(TessPropType t);

/* Set a property of a device by name from text (before realize, or a
 * runtime property at any time). */
bool tess_device_set_prop(TessDevice *dev, const char *name, const char *text,
                          GError **err);

G_END_DECLS

#endif
