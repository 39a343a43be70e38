/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Declarative device state for save and restore.
 *
 * A class describes its state as a versioned table of fields at offsets in
 * the instance. The snapshot writer stores each field by name, so a later
 * version of a device can read an earlier section (fields it does not find
 * keep their reset values; `post_load` can fix them up). A section whose
 * version is newer than the class's is refused with a clear error.
 *
 * Restore builds the machine afresh (realize, reset), loads every
 * device's fields, then calls each post_load in machine order: a device
 * may read another's restored state there (a host bridge mapping BARs
 * from its functions' config spaces). While restoring, a line a post_load
 * drives only records its level - every sink's state is restored too -
 * and the timers are re-armed from the snapshot afterwards (a timer is
 * known by its owner and the order the owner created its timers in, so
 * create them in realize, in a fixed order). post_load gets untrusted
 * values: clamp or refuse what the model indexes with.
 */
#ifndef TESSERA_STATE_H
#define TESSERA_STATE_H

#include <tessera/types.h>

G_BEGIN_DECLS

typedef enum {
    TESS_STATE_T_U8, TESS_STATE_T_U16, TESS_STATE_T_U32, TESS_STATE_T_U64,
    TESS_STATE_T_BUF,     /* `size` bytes inline in the instance */
    TESS_STATE_T_PTRBUF,  /* pointer at offset to `size` bytes (e.g. VRAM) */
    /* Added without changing TessStateField (tables built before stay
     * valid; a plugin using these needs a core of this minor version): */
    TESS_STATE_T_BOOL,    /* a C `bool` (one byte, 0 or 1) */
    TESS_STATE_T_VARBUF,  /* pointer at offset to a buffer whose byte count is
                           * the uint32_t at instance offset `size`; the count
                           * is configuration (a property), so a section
                           * whose count differs is refused */
    TESS_STATE_T_UNSAVABLE, /* not a field: the class cannot be saved; `name`
                           * says why, and suspend fails naming the device */
    TESS_STATE_T_BLOB,    /* pointer at offset to a g_malloc'd buffer whose byte
                           * count is the uint32_t at instance offset `size`;
                           * unlike VARBUF the count is state: a load frees the
                           * buffer there (g_free) and puts a new one of the
                           * saved count, at most TESS_STATE_BLOB_MAX bytes (NULL
                           * for 0). For state a library serialises itself (a
                           * NAT's table): pre_save fills the buffer, post_load
                           * reads it; the device frees it in unrealize */
} TessStateType;

#define TESS_STATE_BLOB_MAX (64u << 20)

typedef struct TessStateField {
    const char *name;
    TessStateType type;
    size_t offset;
    size_t size;          /* BUF/PTRBUF: bytes; scalars: element count for arrays;
                           * VARBUF: the offset of its uint32_t byte count */
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

/* Compile-time checks of a field's C type against its declared state type:
 * a mismatch is a build error naming the field, never a snapshot that
 * silently stores the wrong bytes. TESS_STATE_CHECK_(cond) is 0 and
 * fails to compile when cond is false (C11 _Static_assert inside a
 * struct; C++ users get no check). */
#if defined(__cplusplus)
#define TESS_STATE_CHECK_(cond, msg) 0
#else
#define TESS_STATE_CHECK_(cond, msg) \
    (0 * sizeof(struct { _Static_assert(cond, msg); int tess_state_check_; }))
#endif
#define TESS_STATE_FTYPE_(S, f) __typeof__(((S *)0)->f)
/* An integer of exactly the state width, signed or not (enums and `int`
 * fields of that width are integers of it). */
#define TESS_STATE_INT_OK_(S, f, U, I)                                          \
    (__builtin_types_compatible_p(TESS_STATE_FTYPE_(S, f), U) ||                 \
     __builtin_types_compatible_p(TESS_STATE_FTYPE_(S, f), I) ||                 \
     (__builtin_classify_type(((S *)0)->f) == 3 /* enum */ &&                   \
      sizeof(((S *)0)->f) == sizeof(U)))
#define TESS_STATE_WIDTH_(T) \
    ((T) == TESS_STATE_T_U8 || (T) == TESS_STATE_T_BOOL ? 1u : (T) == TESS_STATE_T_U16 ? 2u \
     : (T) == TESS_STATE_T_U32 ? 4u : (T) == TESS_STATE_T_U64 ? 8u : 0u)

#define TESS_STATE_SCALAR_(T, S, f, n)                                          \
    { .name = #f, .type = T, .offset = offsetof(S, f),                          \
      .size = (n), .since = 0 }
#define TESS_STATE_INT_(T, S, f, U, I)                                          \
    TESS_STATE_SCALAR_(T, S, f, 1 + TESS_STATE_CHECK_(TESS_STATE_INT_OK_(S, f, U, I), \
                       "state field " #f " is not a " #U))
#define TESS_STATE_U8(S, f)   TESS_STATE_INT_(TESS_STATE_T_U8,  S, f, uint8_t,  int8_t)
#define TESS_STATE_U16(S, f)  TESS_STATE_INT_(TESS_STATE_T_U16, S, f, uint16_t, int16_t)
#define TESS_STATE_U32(S, f)  TESS_STATE_INT_(TESS_STATE_T_U32, S, f, uint32_t, int32_t)
#define TESS_STATE_U64(S, f)  TESS_STATE_INT_(TESS_STATE_T_U64, S, f, uint64_t, int64_t)
#define TESS_STATE_BOOL(S, f)                                                   \
    TESS_STATE_SCALAR_(TESS_STATE_T_BOOL, S, f, 1 + TESS_STATE_CHECK_(           \
        __builtin_types_compatible_p(TESS_STATE_FTYPE_(S, f), bool),           \
        "state field " #f " is not a bool"))
/* n elements of type T: the field must be an array of exactly n elements
 * of T's width. */
#define TESS_STATE_ARRAY(T, S, f, n)                                            \
    TESS_STATE_SCALAR_(T, S, f, (n) + TESS_STATE_CHECK_(                        \
        TESS_STATE_WIDTH_(T) != 0 &&                                            \
        sizeof(((S *)0)->f[0]) == TESS_STATE_WIDTH_(T) &&                       \
        sizeof(((S *)0)->f) == (n) * TESS_STATE_WIDTH_(T),                      \
        "state array " #f " does not hold " #n " elements of its type"))
/* Raw bytes of the field (a struct or array of plain data: no pointers). */
#define TESS_STATE_BUF(S, f)  { .name = #f, .type = TESS_STATE_T_BUF, \
                                .offset = offsetof(S, f), .size = sizeof(((S *)0)->f) }
#define TESS_STATE_PTRBUF(S, f, sz) { .name = #f, .type = TESS_STATE_T_PTRBUF, \
        .offset = offsetof(S, f) + TESS_STATE_CHECK_(                           \
            sizeof(((S *)0)->f) == sizeof(void *) &&                            \
            __builtin_classify_type(((S *)0)->f) == 5 /* pointer */,            \
            "state field " #f " is not a pointer"), .size = (sz) }
/* A buffer at pointer field `f` of `nf` bytes (a uint32_t field of S). */
#define TESS_STATE_VARBUF(S, f, nf) { .name = #f, .type = TESS_STATE_T_VARBUF, \
        .offset = offsetof(S, f) + TESS_STATE_CHECK_(                           \
            sizeof(((S *)0)->f) == sizeof(void *) &&                            \
            __builtin_classify_type(((S *)0)->f) == 5 /* pointer */,            \
            "state field " #f " is not a pointer"),                             \
        .size = offsetof(S, nf) + TESS_STATE_CHECK_(                            \
            __builtin_types_compatible_p(TESS_STATE_FTYPE_(S, nf), uint32_t),   \
            "state field " #nf " (a buffer's size) is not a uint32_t") }
/* A buffer at pointer field `f` whose size, uint32_t field `nf`, comes
 * from the snapshot (TESS_STATE_T_BLOB). */
#define TESS_STATE_BLOB(S, f, nf) { .name = #f, .type = TESS_STATE_T_BLOB,       \
        .offset = offsetof(S, f) + TESS_STATE_CHECK_(                           \
            sizeof(((S *)0)->f) == sizeof(void *) &&                            \
            __builtin_classify_type(((S *)0)->f) == 5 /* pointer */,            \
            "state field " #f " is not a pointer"),                             \
        .size = offsetof(S, nf) + TESS_STATE_CHECK_(                            \
            __builtin_types_compatible_p(TESS_STATE_FTYPE_(S, nf), uint32_t),   \
            "state field " #nf " (a blob's size) is not a uint32_t") }
/* Put first in the table of a class whose state cannot be saved (host
 * resources that cannot be re-created): suspend fails with `why`. */
#define TESS_STATE_UNSAVABLE(why) { .name = (why), .type = TESS_STATE_T_UNSAVABLE }
#define TESS_STATE_END { .name = NULL }

G_END_DECLS

#endif
