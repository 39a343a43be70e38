/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An open VHD image (private to the VHD engine: vhd-image.c, vhd-check.c).
 */
#ifndef TESS_STORAGE_VHD_IMAGE_H
#define TESS_STORAGE_VHD_IMAGE_H

#include "store.h"
#include "vhd-format.h"

#pragma GCC visibility push(hidden)

/* Largest BAT we accept: 64 Mi entries (2 TiB in 32 KiB blocks). */
#define VHD_MAX_ENTRIES (64u << 20)
/* Deepest differencing chain (also stops a chain that loops). */
#define VHD_MAX_DEPTH 64

/* Per-block state (VhdImage.bstate). */
enum {
    BS_UNKNOWN = 0,       /* bitmap not read yet (or block unallocated) */
    BS_FULL = 1,          /* every sector present: no bitmap kept */
    BS_PARTIAL = 2,       /* bitmap in VhdImage.bitmaps */
    BS_STATE = 3,
    BS_BM_DIRTY = 0x10,   /* bitmap to write at the next writeback */
    BS_BAT_DIRTY = 0x20,  /* BAT entry to write at the next writeback */
};

typedef struct VhdImage {
    StoreLayer l;
    VhdFooter footer;
    uint8_t footer_raw[VHD_FOOTER_SIZE];   /* what is written when the footer moves */
    uint64_t file_size;
    uint64_t footer_pos;
    bool footer_lost;                      /* the copy at 0 stood in for a bad footer */
    uint32_t type;

    /* dynamic and differencing */
    VhdHeader hdr;
    uint64_t hdr_offset;
    uint32_t block_size;
    unsigned block_shift;
    uint32_t spb;                          /* sectors per block */
    uint32_t bitmap_size;                  /* bytes, whole sectors */
    uint32_t nblocks;                      /* blocks the disk spans */
    uint32_t max_entries;
    uint64_t bat_offset;
    uint32_t *bat;                         /* max_entries, host order */
    uint8_t *bstate;                       /* nblocks */
    GHashTable *bitmaps;                   /* block -> uint8_t[bitmap_size] (BS_PARTIAL) */
    GArray *dirty;                         /* uint32_t blocks with BS_*_DIRTY */
    int64_t dirty_since;                   /* monotonic us of the oldest dirty entry */
    uint64_t meta_end;                     /* end of footer copy, header, BAT, locators */
    uint64_t next_free;                    /* where the next block goes */
    bool data_dirty;                       /* written since the last fdatasync */
    uint8_t *ones;                         /* bitmap_size bytes of 0xFF */

    StoreLayer *parent;
    bool own_parent;
} VhdImage;

bool vhd_is_vhd_layer(StoreLayer *l);
/* Open the image itself, not its parent (vhd-image.c). */
VhdImage *vhd_load(const char *path, unsigned flags, GError **err, uint8_t *head,
                   bool *head_ok);
void vhd_free(VhdImage *img);
/* Is `p` the parent `img` was made against (UUID, modification time)? */
bool vhd_parent_matches(VhdImage *img, StoreLayer *p, GError **err);
/* Sectors from s (of at most n) with the same bit as s; *value gets it. */
uint32_t vhd_bit_run(const uint8_t *bits, uint32_t s, uint32_t n, bool *value);
/* Write back held metadata (bitmaps, BAT entries) in crash-safe order. */
bool vhd_writeback(VhdImage *img, GError **err);
/* The bitmap state of an allocated block, loading it: BS_FULL, or
 * BS_PARTIAL with *bits set; -1 on error. */
int vhd_bitmap(VhdImage *img, uint32_t blk, uint8_t **bits, GError **err);

static inline bool vhd_bit(const uint8_t *bits, uint32_t s)
{
    return bits[s >> 3] & (0x80u >> (s & 7));     /* MSB first */
}

#pragma GCC visibility pop

#endif
