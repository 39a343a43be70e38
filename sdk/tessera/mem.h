/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The physical memory map.
 *
 * Regions are RAM (host memory, read/write), ROM (host memory, writes
 * ignored), MMIO (a TessIoOps table) or aliases (a window onto part of
 * another region). A region becomes visible when mapped at an address
 * with a priority; where mappings overlap, the highest priority wins, and
 * among equal priorities the one mapped last. A mapping may cover reads,
 * writes or both (TESS_MAP_READ / TESS_MAP_WRITE), which is how a chipset
 * routes reads to ROM and writes to shadow RAM.
 *
 * The core keeps a page-granular (4 KiB) flat view of the map. A CPU asks
 * for a page's host pointers and caches them; whenever the map changes,
 * every TessMemListener is told which range changed and must drop cached
 * pointers for it. Pages with more than one owner inside them (small MMIO
 * BARs) have no host pointers and go through tess_mem_read/write.
 *
 * The physical address space is 36 bits (64 GiB).
 */
#ifndef TESSERA_MEM_H
#define TESSERA_MEM_H

#include <tessera/types.h>
#include <tessera/io.h>

G_BEGIN_DECLS

#define TESS_PAGE_SHIFT 12
#define TESS_PAGE_SIZE  (1u << TESS_PAGE_SHIFT)
#define TESS_PHYS_BITS  36

enum { TESS_MAP_READ = 1, TESS_MAP_WRITE = 2, TESS_MAP_RW = 3 };

/* Priorities used by the standard platform (higher wins). */
enum {
    TESS_PRIO_RAM     = 0,
    TESS_PRIO_ROM     = 10,
    TESS_PRIO_DEVICE  = 20,   /* PCI BARs, VGA window */
    TESS_PRIO_CHIPSET = 30,   /* PAM, SMRAM overrides */
};

/* Create regions owned by dev (freed when dev is unrealized). RAM and ROM
 * sizes are rounded up to a page; their host memory is zero-filled. */
TessMemRegion *tess_mem_ram_new(TessDevice *dev, const char *name, uint64_t size,
                                GError **err);
TessMemRegion *tess_mem_rom_new(TessDevice *dev, const char *name, uint64_t size,
                                GError **err);
TessMemRegion *tess_mem_mmio_new(TessDevice *dev, const char *name, uint64_t size,
                                 const TessIoOps *ops, void *opaque);
TessMemRegion *tess_mem_alias_new(TessDevice *dev, const char *name,
                                  TessMemRegion *target, uint64_t offset,
                                  uint64_t size, GError **err);
void tess_mem_region_free(TessMemRegion *r);   /* unmaps first */

uint8_t *tess_mem_region_host(TessMemRegion *r);    /* RAM/ROM, else NULL */
uint64_t tess_mem_region_size(TessMemRegion *r);
const char *tess_mem_region_name(TessMemRegion *r);

/* Make the region visible at addr. A region has at most one mapping at a
 * time: mapping a mapped region moves it (PCI BAR moves). Fails when the
 * range leaves the 36-bit space. */
bool tess_mem_map(TessMemRegion *r, uint64_t addr, int priority,
                  unsigned access, GError **err);
void tess_mem_unmap(TessMemRegion *r);
bool tess_mem_is_mapped(TessMemRegion *r);

/* Group several map changes so listeners hear once, at the end. */
void tess_mem_begin(TessMachine *m);
void tess_mem_commit(TessMachine *m);

/* The machine's main RAM, created by the core from <memory size=...>:
 * the first `below_4g` bytes mapped from 0 and the rest from 4 GiB. */
TessMemRegion *tess_machine_ram(TessMachine *m);
uint64_t tess_machine_ram_size(TessMachine *m);
uint64_t tess_machine_ram_below_4g(TessMachine *m);

/* What a CPU caches for one page. read/write are NULL when that access
 * must go through tess_mem_read/tess_mem_write. */
typedef struct TessMemPage {
    uint8_t *read;     /* host pointer to the page's first byte, or NULL */
    uint8_t *write;
    bool ram;          /* write lands in RAM (code caches must watch it) */
} TessMemPage;

/* Look up the page containing paddr. Never fails: unmapped pages give
 * NULL pointers (reads as all ones, writes ignored). */
TessMemPage tess_mem_page(TessMachine *m, uint64_t paddr);

/* Slow-path accesses of 1, 2, 4 or 8 bytes; may cross a page. */
uint64_t tess_mem_read(TessMachine *m, uint64_t paddr, unsigned size);
void tess_mem_write(TessMachine *m, uint64_t paddr, uint64_t value, unsigned size);

typedef struct TessMemListener {
    /* The flat view of [start, start+len) changed: drop cached pointers. */
    void (*map_changed)(void *opaque, uint64_t start, uint64_t len);
    /* Someone other than the CPU (DMA) wrote RAM at [start, start+len). */
    void (*ram_written)(void *opaque, uint64_t start, uint64_t len);
} TessMemListener;

void tess_mem_add_listener(TessMachine *m, const TessMemListener *l, void *opaque);
void tess_mem_remove_listener(TessMachine *m, const TessMemListener *l, void *opaque);

G_END_DECLS

#endif
