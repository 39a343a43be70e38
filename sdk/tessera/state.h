/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Declarative device state for save and restore.
 *
 * A class describes its state as a versioned table of fields at offsets in
 * the instance. The snapshot writer stores each field by name, so a later
 * version of a device can read an earlier section (fields it does not find
 * keep their reset values; `post_load` can fix them up). A section whose
 * version is newer than the class's is refused with a clear error.
 */
#ifndef TESSERA_STATE_H
#define TESSERA_STATE_H

#include <tessera/types.h>

G_BEGIN_DECLS

typedef enum {
    TESS_STATE_T_U8, TESS_STATE_T_U16, TESS_STATE_T_U32, TESS_STATE_T_U64,
    TESS_STATE_T_BUF,     /* `size` bytes inline in the instance */
    TESS_STATE_T_PTRBUF,  /* pointer at offset to `size` bytes (e.g. VRAM) */
} TessStateType;

typedef struct TessStateField {
    const char *name;
    TessStateType type;
    size_t offset;
    size_t size;          /* BUF/PTRBUF: bytes; scalars: element count for arrays */
    uint32_t since;       /* first version that has this field */
} TessStateField;

typedef struct TessStateDesc {
    uint32_t version;
    const TessStateField *fields;      /* terminated by { .name = NULL } */
    bool (*pre_save)(TessDevice *dev, GError **err);   /* NULL ok; false blocks suspend */
    bool (*post_load)(TessDevice *dev, uint32_t version, GError **err);
    /* Zero: room for additions in minor ABI versions (a reader takes zero
     * as "absent", which is what a plugin built before them has). */
    void *reserved[4];
} TessStateDesc;

#define TESS_STATE_SCALAR_(T, S, f, n)                                          \
    { .name = #f, .type = T, .offset = offsetof(S, f),                          \
      .size = (n), .since = 0 }
#define TESS_STATE_U8(S, f)   TESS_STATE_SCALAR_(TESS_STATE_T_U8,  S, f, 1)
#define TESS_STATE_U16(S, f)  TESS_STATE_SCALAR_(TESS_STATE_T_U16, S, f, 1)
#define TESS_STATE_U32(S, f)  TESS_STATE_SCALAR_(TESS_STATE_T_U32, S, f, 1)
#define TESS_STATE_U64(S, f)  TESS_STATE_SCALAR_(TESS_STATE_T_U64, S, f, 1)
#define TESS_STATE_ARRAY(T, S, f, n) TESS_STATE_SCALAR_(T, S, f, n)
#define TESS_STATE_BUF(S, f)  { .name = #f, .type = TESS_STATE_T_BUF, \
                                .offset = offsetof(S, f), .size = sizeof(((S *)0)->f) }
#define TESS_STATE_PTRBUF(S, f, sz) { .name = #f, .type = TESS_STATE_T_PTRBUF, \
                                .offset = offsetof(S, f), .size = (sz) }
#define TESS_STATE_END { .name = NULL }

G_END_DECLS

#endif
