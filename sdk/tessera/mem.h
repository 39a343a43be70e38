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

/* ---- cheap map changes -------------------------------------------------
 * A bank switch or a window turned on and off should cost in proportion to
 * the window, not to the machine: these change a mapping in place, and
 * listeners hear only about the guest-physical range that changed (moving
 * a mapping to another address is tess_mem_map on the mapped region, which
 * reports the old and the new range). */

/* Point an alias at another offset of its target region (a bank switch;
 * for an alias made onto an alias, the offset is into the region that
 * holds the bytes). Fails, changing nothing, when [offset, offset + size)
 * leaves the target or the alias's target was freed. */
bool tess_mem_alias_set_offset(TessMemRegion *alias, uint64_t offset, GError **err);
uint64_t tess_mem_alias_offset(TessMemRegion *alias);

/* A disabled mapping keeps its address, priority and rank but decodes to
 * nothing: accesses fall through to whatever lies below it. Regions start
 * enabled; the setting survives unmap/map. */
void tess_mem_set_enabled(TessMemRegion *r, bool enabled);
bool tess_mem_is_enabled(TessMemRegion *r);

/* ---- MMIO pages for CPU TLBs -------------------------------------------
 * When one MMIO region answers every byte of the page at paddr for
 * `access` (TESS_MAP_READ or TESS_MAP_WRITE), returns that region (aliases
 * resolved) and sets *offset to the region offset of the page's first
 * byte; else NULL (RAM, ROM, nothing, or a page shared by several owners).
 * A CPU may cache the answer until a TessMemListener hears that the page
 * changed, and then access the device straight through
 * tess_mem_region_read/write. */
TessMemRegion *tess_mem_page_mmio(TessMachine *m, uint64_t paddr, unsigned access,
                                  uint64_t *offset);
/* An access of 1, 2, 4 or 8 bytes at offset inside region r, adapted to
 * the access widths an MMIO region's ops accept exactly as tess_mem_read
 * and tess_mem_write do. RAM and ROM give their bytes (ROM ignores
 * writes); an alias is followed. Offsets past the region read all ones and
 * ignore writes. */
uint64_t tess_mem_region_read(TessMemRegion *r, uint64_t offset, unsigned size);
void tess_mem_region_write(TessMemRegion *r, uint64_t offset, uint64_t value,
                           unsigned size);

/* ---- dirty logging -----------------------------------------------------
 * The core records which pages of a logged RAM region were written, so a
 * display renders only what the guest changed. Every way into guest
 * memory marks: tess_mem_write, tess_dma_write, and CPUs: while a logged
 * page is clean, tess_mem_page gives it no write pointer, so the first
 * CPU store to it after each fetch takes the slow path (tess_mem_write),
 * which marks it and hands the page its write pointer back; fetching
 * clears the bits and withdraws the pointers again (listeners hear
 * map_changed for those pages). CPUs that keep guest memory elsewhere
 * (KVM's own dirty log) register a log-sync hook, called before every
 * fetch with the guest-physical ranges where the region is mapped for
 * writes, and report what they saw through tess_mem_log_dirty. */

/* Start or stop logging RAM region r (not an alias, ROM or MMIO: that
 * fails with TESS_ERROR_INVALID). Starts nest: the log stays on until
 * every start has been stopped. A new log has every page dirty, so the
 * first fetch reports the whole region. */
bool tess_mem_log_start(TessMemRegion *r, GError **err);
void tess_mem_log_stop(TessMemRegion *r);
bool tess_mem_log_active(TessMemRegion *r);

/* Fetch and clear the log of [offset, offset + len) of r (widened to
 * whole pages): bit i of the bitmap (bit i % 64 of word i / 64) is set
 * when page (offset / TESS_PAGE_SIZE) + i was written since the last
 * fetch covering it. The caller provides (pages + 63) / 64 words. Returns
 * whether any bit is set. A region that is not logged reports every page
 * dirty. */
bool tess_mem_log_fetch(TessMemRegion *r, uint64_t offset, uint64_t len,
                        uint64_t *bitmap);

/* A device that writes its own region's host memory (a VGA's planar
 * write logic, a blitter) marks the bytes it changed. No-op when r is
 * not logged. */
void tess_mem_log_mark(TessMemRegion *r, uint64_t offset, uint64_t len);
/* Mark by guest-physical address: whatever logged RAM the map sends
 * writes at [paddr, paddr + len) to (log-sync hooks use it). */
void tess_mem_log_dirty(TessMachine *m, uint64_t paddr, uint64_t len);

/* What tess_mem_page gives, except that `write` is the RAM write pointer
 * even while dirty logging withholds it; *logged says whether the page's
 * write target is logged RAM. For CPUs with their own dirty tracking. */
TessMemPage tess_mem_page_unlogged(TessMachine *m, uint64_t paddr, bool *logged);

typedef void (*TessMemLogSync)(void *opaque, uint64_t start, uint64_t len);
void tess_mem_add_log_sync(TessMachine *m, TessMemLogSync sync, void *opaque);
void tess_mem_remove_log_sync(TessMachine *m, TessMemLogSync sync, void *opaque);

G_END_DECLS

#endif
