/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Snapshots: the file format, shared by the engine (state.c) and the
 * reader/describer (state-file.c). Private to the core.
 *
 * File layout (little-endian throughout):
 *
 *   "TESSSNAP" u32 format-version u32 0
 *   section*   u32 kind  str id  str type  u32 version  u64 length  u32 crc32
 *              then `length` bytes of payload (CRC-32/IEEE of the payload)
 *
 * Kinds, in file order: HDR (what to build: the machine file's text, its
 * directory, the --set overrides, the CPU class, deterministic mode, and
 * the plugin set: every saved device's type, plugin and plugin version),
 * DISK (each disk's image identity), DEV (one per device with a state
 * table, machine-file order, children first), SIG (every output line's
 * level), RAM (main RAM: a bitmap of non-zero pages and one zstd frame of
 * those pages), CLK (virtual time and every armed timer, by its owner and
 * creation index, in firing order), END.
 *
 * A str is a u32 length (0xFFFFFFFF: none) and the bytes. A device
 * section is its fields by name (str name, u8 type, u64 bytes, u8
 * encoding: 0 raw, 1 zstd with a u64 stored length, then the bytes), so a
 * newer class reads an older section field by field; what it does not
 * find keeps its reset value and post_load fixes it up.
 *
 * The encoding depends only on the state, so saving a restored machine
 * gives the same DEV, SIG, RAM and CLK sections byte for byte (the round
 * trip tests compare exactly that).
 */
#ifndef TESS_STATE_FILE_H
#define TESS_STATE_FILE_H

#include "core.h"

#define SNAP_MAGIC "TESSSNAP"
#define SNAP_FORMAT 1
#define SNAP_PAGE 4096u
#define SNAP_ZSTD_LEVEL 1
#define SNAP_ZSTD_MIN 4096u             /* fields this large are compressed */
#define SNAP_STR_NONE 0xFFFFFFFFu
#define SNAP_STR_MAX (16u << 20)

#define FOURCC(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#define K_HDR  FOURCC('H', 'D', 'R', ' ')
#define K_DISK FOURCC('D', 'I', 'S', 'K')
#define K_DEV  FOURCC('D', 'E', 'V', ' ')
#define K_SIG  FOURCC('S', 'I', 'G', ' ')
#define K_RAM  FOURCC('R', 'A', 'M', ' ')
#define K_CLK  FOURCC('C', 'L', 'K', ' ')
#define K_END  FOURCC('E', 'N', 'D', ' ')

#define HDR_VERSION 1
#define DISK_VERSION 1
#define SIG_VERSION 1
#define RAM_VERSION 1
#define CLK_VERSION 1

typedef struct Rd {
    const uint8_t *p;
    size_t len, pos;
    bool bad;
} Rd;

typedef struct Section {
    uint32_t kind;
    char *id, *type;
    uint32_t version;
    const uint8_t *data;
    size_t len;
    uint32_t crc;
} Section;

typedef struct HdrDev {
    char *id, *type, *plugin, *plugin_version;
    uint32_t version;
} HdrDev;

typedef struct Hdr {
    char *tessera_version, *name, *file, *dir, *xml, *cpu_type;
    bool deterministic;
    uint32_t ns_per_insn;
    uint64_t ram_size, icount, clock_ns;
    GPtrArray *overrides;               /* TessOverride * */
    GPtrArray *devs;                    /* HdrDev * */
} Hdr;

/* Shared by the two halves of the snapshot code only: kept out of
 * libtessera's exported symbols (and so out of the plugin ABI). */
#pragma GCC visibility push(hidden)

uint32_t snap_crc32(const uint8_t *p, size_t n);

void snap_put_bytes(GByteArray *b, const void *p, size_t n);
void snap_put_u8(GByteArray *b, uint8_t v);
void snap_put_u32(GByteArray *b, uint32_t v);
void snap_put_u64(GByteArray *b, uint64_t v);
void snap_put_str(GByteArray *b, const char *s);
/* Append a section (header + payload) to `out`. */
void snap_put_section(GByteArray *out, uint32_t kind, const char *id, const char *type,
                      uint32_t version, const GByteArray *payload);

/* Bounds-checked reads: past the end they return 0/NULL and set r->bad. */
const uint8_t *snap_get_bytes(Rd *r, size_t n);
uint8_t snap_get_u8(Rd *r);
uint32_t snap_get_u32(Rd *r);
uint64_t snap_get_u64(Rd *r);
/* A g_malloc'd string, or NULL (absent, or malformed: r->bad). */
char *snap_get_str(Rd *r);

#define SNAP_ENC_RAW 0
#define SNAP_ENC_ZSTD 1

/* One field record of a device section, as stored: its bytes point into
 * the section (n of them raw, or a zn-byte zstd frame that holds n). */
typedef struct SnapField {
    char *name;                         /* g_malloc'd */
    uint8_t type;                       /* TessStateType */
    uint8_t enc;                        /* SNAP_ENC_* */
    uint64_t n;                         /* the field's size */
    uint64_t zn;                        /* bytes stored (n when raw) */
    const uint8_t *p;
} SnapField;

/* Read the next field record into a fresh g_auto(SnapField) f = { 0 }
 * (which frees the name, on failure too). False, with r->bad set, when
 * the record is truncated, has no name or an encoding this build does
 * not know. */
bool snap_get_field(Rd *r, SnapField *f);
void snap_field_clear(SnapField *f);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SnapField, snap_field_clear)

void snap_section_free(gpointer p);
const char *snap_kind_name(uint32_t kind);
/* Set a TESS_STATE_ERROR; returns false. */
bool snap_fail(GError **err, int code, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* Split a snapshot into its sections (Section *, pointing into data),
 * checking the container: magic, format, every length and CRC, an END
 * last and nothing after it, a header first. */
GPtrArray *snap_parse(const uint8_t *data, size_t len, GError **err);

void snap_hdr_free(Hdr *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Hdr, snap_hdr_free)
Hdr *snap_hdr_parse(const Section *s, GError **err);

/* Bytes per element of a scalar state type; 0 for the others. */
unsigned snap_field_width(TessStateType t);

#pragma GCC visibility pop

#endif
