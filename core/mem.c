/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The physical memory map (tessera/mem.h).
 *
 * Regions are mapped with a priority and an access mask; `mapped` keeps the
 * mappings sorted by rank (priority, then most recently mapped first). From
 * it the core derives a flat view: one entry per 4 KiB page, held in a
 * two-level table whose leaves (16 MiB of address space each) exist only
 * where something was ever mapped. An entry records the read winner and the
 * write winner separately. A page where the top-ranked mapping does not
 * cover the whole page is "sub-page": it has no host pointers and every
 * access walks `mapped` to find its owner byte range by byte range.
 *
 * Only pages inside a changed range are recomputed, so moving a PCI BAR or
 * flipping a PAM segment costs in proportion to its size, and so does a
 * bank switch (an alias pointed at another offset) or a window turned off
 * (a disabled mapping stays in `mapped` but wins nothing).
 *
 * Dirty logging: a logged RAM region carries a bitmap, one bit per page,
 * set while the page is dirty. A flat entry whose write target is a clean
 * logged page withholds its write pointer (page.write NULL, raw_write
 * kept), so CPUs come through tess_mem_write, which marks the page and
 * rebuilds the entries mapping it with their pointer; a fetch clears bits
 * and withdraws the pointers again through mem_changed.
 */
#include "core.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#define MEM_SPACE        (UINT64_C(1) << TESS_PHYS_BITS)
#define MEM_PAGE_MASK    ((uint64_t)TESS_PAGE_SIZE - 1)
/* ram_guard: inaccessible bytes on each side of a RAM or ROM mapping. */
#define MEM_GUARD        ((size_t)1 << 20)
#define MEM_LEAF_BITS    12
#define MEM_LEAF_PAGES   (1u << MEM_LEAF_BITS)
#define MEM_LEAF_SPAN    ((uint64_t)MEM_LEAF_PAGES << TESS_PAGE_SHIFT)
#define MEM_L1_ENTRIES   (1u << (TESS_PHYS_BITS - TESS_PAGE_SHIFT - MEM_LEAF_BITS))

typedef enum { MEM_RAM, MEM_ROM, MEM_MMIO, MEM_ALIAS } MemKind;

struct TessMemRegion {
    TessMemMap *map;
    TessDevice *owner;
    char *name;
    MemKind kind;
    uint64_t size;
    uint8_t *host;              /* RAM/ROM: mmap'ed, page-aligned */
    size_t host_guard;          /* PROT_NONE bytes mapped on each side (ram_guard) */
    size_t host_len;
    const TessIoOps *ops;       /* MMIO */
    void *opaque;
    /* ALIAS: always points at a non-alias region (chains are flattened
     * when created); NULL once that region is freed. */
    TessMemRegion *target;
    uint64_t target_off;
    GPtrArray *aliases;         /* aliases whose target is this region */
    bool disabled;              /* mapped, but decodes to nothing */
    uint64_t *log;              /* RAM being logged: one bit per page, 1 = dirty */
    unsigned log_users;
    /* The mapping, if any. */
    bool mapped;
    uint64_t addr;
    int prio;
    unsigned access;
    uint64_t seq;
};

typedef struct MemEntry {
    TessMemPage page;
    uint8_t *raw_write;         /* page.write, even while logging withholds it */
    TessMemRegion *rd, *wr;     /* whole-page winners (NULL: none or sub) */
    bool rsub, wsub;
    bool logged;                /* the write target is logged RAM */
} MemEntry;

typedef struct MemLogSyncRec {
    TessMemLogSync fn;
    void *opaque;
} MemLogSyncRec;

typedef struct MemListenerRec {
    const TessMemListener *l;
    void *opaque;
} MemListenerRec;

typedef struct MemRange {
    uint64_t start, end;
} MemRange;

struct TessMemMap {
    TessMachine *m;
    MemEntry **l1;              /* MEM_L1_ENTRIES leaves, allocated lazily */
    GPtrArray *regions;         /* every region, owned */
    GPtrArray *mapped;          /* mapped regions, best rank first */
    uint64_t seq;
    GArray *listeners;          /* MemListenerRec */
    GArray *log_syncs;          /* MemLogSyncRec */
    unsigned batch;
    unsigned logging;           /* regions with a dirty log */
    GArray *dirty;              /* MemRange, waiting for commit */
    TessMemRegion *main_ram;
    uint64_t ram_size, ram_below_4g;
    bool no_flat;               /* validate: no flat view (tess_mem_skip_flat_view) */
};

static const TessMemPage mem_no_page = { NULL, NULL, false };

/* ---- flat view ----------------------------------------------------------- */

static inline MemEntry *mem_entry(TessMemMap *map, uint64_t paddr)
{
    if (G_UNLIKELY(paddr >= MEM_SPACE))
        return NULL;
    uint64_t pfn = paddr >> TESS_PAGE_SHIFT;
    MemEntry *leaf = map->l1[pfn >> MEM_LEAF_BITS];
    return leaf ? &leaf[pfn & (MEM_LEAF_PAGES - 1)] : NULL;
}

TessMemPage tess_mem_page(TessMachine *m, uint64_t paddr)
{
    MemEntry *e = mem_entry(m->mem, paddr);
    return e ? e->page : mem_no_page;
}

/* Follow an alias to the region that really holds the bytes. */
static inline TessMemRegion *mem_resolve(TessMemRegion *r, uint64_t *off)
{
    if (r->kind == MEM_ALIAS) {
        *off += r->target_off;
        return r->target;
    }
    return r;
}

static inline bool mem_overlaps(const TessMemRegion *r, uint64_t start, uint64_t end)
{
    return r->addr < end && start < r->addr + r->size;
}

/* The best-ranked mapping with `access` overlapping the page decides it:
 * if it covers the whole page it is the winner, else the page is mixed. */
static void mem_page_winner(TessMemRegion *const *cands, guint n, uint64_t pa,
                            unsigned access, TessMemRegion **win, bool *sub)
{
    *win = NULL;
    *sub = false;
    for (guint i = 0; i < n; i++) {
        TessMemRegion *r = cands[i];
        if (r->disabled || !(r->access & access) ||
            !mem_overlaps(r, pa, pa + TESS_PAGE_SIZE))
            continue;
        if (r->addr <= pa && r->addr + r->size >= pa + TESS_PAGE_SIZE)
            *win = r;
        else
            *sub = true;
        return;
    }
}

static uint8_t *mem_host_ptr(TessMemRegion *r, uint64_t pa, bool for_write)
{
    uint64_t off = pa - r->addr;
    TessMemRegion *t = mem_resolve(r, &off);
    if (!t)
        return NULL;
    if (t->kind == MEM_RAM || (t->kind == MEM_ROM && !for_write))
        return t->host + off;
    return NULL;
}

static inline bool mem_log_test(const TessMemRegion *t, uint64_t off)
{
    uint64_t pn = off >> TESS_PAGE_SHIFT;
    return (t->log[pn / 64] >> (pn % 64)) & 1;
}

static void mem_rebuild_page(MemEntry *e, TessMemRegion *const *cands, guint n, uint64_t pa)
{
    mem_page_winner(cands, n, pa, TESS_MAP_READ, &e->rd, &e->rsub);
    mem_page_winner(cands, n, pa, TESS_MAP_WRITE, &e->wr, &e->wsub);
    e->page.read = e->rd ? mem_host_ptr(e->rd, pa, false) : NULL;
    e->raw_write = e->wr ? mem_host_ptr(e->wr, pa, true) : NULL;
    e->page.write = e->raw_write;
    e->page.ram = e->raw_write != NULL;
    e->logged = false;
    if (e->raw_write) {
        uint64_t off = pa - e->wr->addr;
        TessMemRegion *t = mem_resolve(e->wr, &off);
        if (t->log) {
            e->logged = true;
            if (!mem_log_test(t, off))
                e->page.write = NULL;
        }
    }
}

/* Recompute the entries of pages in [start, end) (page aligned). A bank
 * switch lands here for a handful of pages: no allocation while the
 * candidates fit on the stack. */
#define MEM_CANDS_STACK 32
static void mem_rebuild(TessMemMap *map, uint64_t start, uint64_t end)
{
    TessMemRegion *stack_buf[2 * MEM_CANDS_STACK];
    g_autofree TessMemRegion **heap_buf = NULL;
    TessMemRegion **cands = stack_buf, **leaf_cands;
    guint max = map->mapped->len;
    if (max > MEM_CANDS_STACK)
        cands = heap_buf = g_new(TessMemRegion *, 2 * (gsize)max);
    leaf_cands = cands + MAX(max, MEM_CANDS_STACK);
    guint n = 0;

    for (guint i = 0; i < map->mapped->len; i++) {
        TessMemRegion *r = g_ptr_array_index(map->mapped, i);
        if (mem_overlaps(r, start, end))
            cands[n++] = r;
    }

    uint64_t pa = start;
    while (pa < end) {
        uint64_t leaf_start = pa & ~(MEM_LEAF_SPAN - 1);
        uint64_t leaf_end = MIN(end, leaf_start + MEM_LEAF_SPAN);
        MemEntry **slot = &map->l1[pa >> (TESS_PAGE_SHIFT + MEM_LEAF_BITS)];

        guint ln = 0;
        for (guint i = 0; i < n; i++)
            if (mem_overlaps(cands[i], pa, leaf_end))
                leaf_cands[ln++] = cands[i];
        if (!*slot && ln == 0) {
            pa = leaf_end;
            continue;
        }
        MemEntry *first = *slot ? &(*slot)[(pa >> TESS_PAGE_SHIFT) & (MEM_LEAF_PAGES - 1)] : NULL;
        size_t npages = (size_t)((leaf_end - pa) >> TESS_PAGE_SHIFT);
        if (ln == 0) {
            /* Nothing mapped here any more: what the page loop below
             * would compute for every page, all zero; a leaf left all
             * zero goes (unmapping gigabytes of RAM frees its table
             * rather than writing it). */
            if (npages == MEM_LEAF_PAGES)
                g_clear_pointer(slot, g_free);
            else
                memset(first, 0, npages * sizeof(MemEntry));
            pa = leaf_end;
            continue;
        }
        if (!*slot) {
            *slot = g_new0(MemEntry, MEM_LEAF_PAGES);
            first = &(*slot)[(pa >> TESS_PAGE_SHIFT) & (MEM_LEAF_PAGES - 1)];
        }
        TessMemRegion *top = leaf_cands[0];
        uint64_t top_off = pa - top->addr;
        TessMemRegion *top_t = mem_resolve(top, &top_off);
        if (!top->disabled && top_t && !top_t->log &&
            (top->access & (TESS_MAP_READ | TESS_MAP_WRITE)) == (TESS_MAP_READ | TESS_MAP_WRITE) &&
            top->addr <= pa && top->addr + top->size >= leaf_end) {
            /* The best-ranked mapping covers the whole span for reads
             * and writes (RAM, as a rule): it wins every page, as
             * mem_page_winner would find; the host pointers advance
             * page by page from the first one. Saves the per-page
             * search over a large RAM mapping or unmapping. */
            uint8_t *rd = mem_host_ptr(top, pa, false), *wr = mem_host_ptr(top, pa, true);
            for (size_t i = 0; i < npages; i++) {
                size_t d = i << TESS_PAGE_SHIFT;
                first[i] = (MemEntry){
                    .page = { .read = rd ? rd + d : NULL, .write = wr ? wr + d : NULL,
                              .ram = wr != NULL },
                    .rd = top, .wr = top, .raw_write = wr ? wr + d : NULL,
                };
            }
            pa = leaf_end;
            continue;
        }
        for (; pa < leaf_end; pa += TESS_PAGE_SIZE)
            mem_rebuild_page(&(*slot)[(pa >> TESS_PAGE_SHIFT) & (MEM_LEAF_PAGES - 1)],
                             leaf_cands, ln, pa);
    }
}

/* ---- change notification ------------------------------------------------- */

static gint mem_range_cmp(gconstpointer a, gconstpointer b)
{
    const MemRange *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static void mem_flush(TessMemMap *map)
{
    if (map->dirty->len == 0)
        return;
    g_array_sort(map->dirty, mem_range_cmp);
    guint n = 0;
    MemRange *d = (MemRange *)(void *)map->dirty->data;
    for (guint i = 0; i < map->dirty->len; i++) {
        if (n && d[i].start <= d[n - 1].end)
            d[n - 1].end = MAX(d[n - 1].end, d[i].end);
        else
            d[n++] = d[i];
    }
    /* Listeners may change the map (and add or remove listeners) while
     * being told: work from copies, on the stack when they are small. */
    MemRange rbuf[8];
    MemListenerRec lbuf[8];
    g_autofree MemRange *rheap = NULL;
    g_autofree MemListenerRec *lheap = NULL;
    MemRange *ranges = n <= G_N_ELEMENTS(rbuf) ? rbuf : (rheap = g_new(MemRange, n));
    memcpy(ranges, d, n * sizeof(MemRange));
    g_array_set_size(map->dirty, 0);
    guint nl = map->listeners->len;
    MemListenerRec *ls = nl <= G_N_ELEMENTS(lbuf) ? lbuf : (lheap = g_new(MemListenerRec, nl));
    if (nl)
        memcpy(ls, map->listeners->data, nl * sizeof(MemListenerRec));
    for (guint j = 0; j < nl; j++) {
        if (!ls[j].l->map_changed)
            continue;
        for (guint i = 0; i < n; i++)
            ls[j].l->map_changed(ls[j].opaque, ranges[i].start, ranges[i].end - ranges[i].start);
    }
}

/* The flat view of [start, start+len) may have changed. */
static void mem_changed(TessMemMap *map, uint64_t start, uint64_t len)
{
    if (len == 0)
        return;
    MemRange r = {
        start & ~MEM_PAGE_MASK,
        MIN(MEM_SPACE, (start + len + MEM_PAGE_MASK) & ~MEM_PAGE_MASK),
    };
    if (!map->no_flat)
        mem_rebuild(map, r.start, r.end);
    g_array_append_val(map->dirty, r);
    if (map->batch == 0)
        mem_flush(map);
}

void tess_mem_skip_flat_view(TessMachine *m)
{
    g_return_if_fail(m->mem->mapped->len == 0);
    m->mem->no_flat = true;
}

void tess_mem_begin(TessMachine *m)
{
    m->mem->batch++;
}

void tess_mem_commit(TessMachine *m)
{
    TessMemMap *map = m->mem;
    g_return_if_fail(map->batch > 0);
    if (--map->batch == 0)
        mem_flush(map);
}

void tess_mem_add_listener(TessMachine *m, const TessMemListener *l, void *opaque)
{
    MemListenerRec rec = { l, opaque };
    g_array_append_val(m->mem->listeners, rec);
}

void tess_mem_remove_listener(TessMachine *m, const TessMemListener *l, void *opaque)
{
    GArray *ls = m->mem->listeners;
    for (guint i = 0; i < ls->len; i++) {
        MemListenerRec *rec = &g_array_index(ls, MemListenerRec, i);
        if (rec->l == l && rec->opaque == opaque) {
            g_array_remove_index(ls, i);
            return;
        }
    }
}

/* Called by dma.c after it wrote guest RAM. */
void tess_mem_notify_ram_written(TessMachine *m, uint64_t start, uint64_t len)
{
    if (m->mem->logging)
        tess_mem_log_dirty(m, start, len);
    GArray *ls = m->mem->listeners;
    for (guint i = 0; i < ls->len; i++) {
        MemListenerRec *rec = &g_array_index(ls, MemListenerRec, i);
        if (rec->l->ram_written)
            rec->l->ram_written(rec->opaque, start, len);
    }
}

/* ---- regions --------------------------------------------------------------- */

static TessMemRegion *mem_region_new(TessDevice *dev, const char *name, MemKind kind,
                                     uint64_t size)
{
    TessMemRegion *r = g_new0(TessMemRegion, 1);
    r->map = dev->machine->mem;
    r->owner = dev;
    r->name = g_strdup(name ? name : "?");
    r->kind = kind;
    r->size = size;
    g_ptr_array_add(r->map->regions, r);
    return r;
}

static TessMemRegion *mem_host_region_new(TessDevice *dev, const char *name,
                                          MemKind kind, uint64_t size, GError **err)
{
    g_return_val_if_fail(dev && dev->machine, NULL);
    if (size == 0 || size > MEM_SPACE) {
        g_set_error(err, TESS_BUS_ERROR, TESS_ERROR_INVALID,
                    "'%s': %s region '%s' of %" G_GUINT64_FORMAT
                    " bytes: size must be 1 byte to 64 GiB",
                    dev->id ? dev->id : "?", kind == MEM_RAM ? "RAM" : "ROM",
                    name ? name : "?", size);
        return NULL;
    }
    size = (size + MEM_PAGE_MASK) & ~MEM_PAGE_MASK;
    /* Anonymous mappings are zero-filled, page aligned (what KVM needs for
     * guest memory) and only take host memory once touched. */
    size_t guard = dev->machine->opts.ram_guard ? MEM_GUARD : 0;
    void *host = mmap(NULL, size + 2 * guard, guard ? PROT_NONE : PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (host != MAP_FAILED && guard) {
        if (mprotect((uint8_t *)host + guard, size, PROT_READ | PROT_WRITE) < 0) {
            munmap(host, size + 2 * guard);
            host = MAP_FAILED;
        } else {
            host = (uint8_t *)host + guard;
        }
    }
    if (host == MAP_FAILED) {
        int e = errno;
        g_set_error(err, TESS_BUS_ERROR, TESS_ERROR_IO,
                    "'%s': cannot allocate %" G_GUINT64_FORMAT " bytes for '%s': %s",
                    dev->id ? dev->id : "?", size, name ? name : "?", g_strerror(e));
        return NULL;
    }
    TessMemRegion *r = mem_region_new(dev, name, kind, size);
    r->host = host;
    r->host_len = size;
    r->host_guard = guard;
    return r;
}

TessMemRegion *tess_mem_ram_new(TessDevice *dev, const char *name, uint64_t size,
                                GError **err)
{
    return mem_host_region_new(dev, name, MEM_RAM, size, err);
}

TessMemRegion *tess_mem_rom_new(TessDevice *dev, const char *name, uint64_t size,
                                GError **err)
{
    return mem_host_region_new(dev, name, MEM_ROM, size, err);
}

TessMemRegion *tess_mem_mmio_new(TessDevice *dev, const char *name, uint64_t size,
                                 const TessIoOps *ops, void *opaque)
{
    g_return_val_if_fail(dev && dev->machine && ops, NULL);
    TessMemRegion *r = mem_region_new(dev, name, MEM_MMIO, MIN(size, MEM_SPACE));
    r->ops = ops;
    r->opaque = opaque;
    return r;
}

TessMemRegion *tess_mem_alias_new(TessDevice *dev, const char *name,
                                  TessMemRegion *target, uint64_t offset,
                                  uint64_t size, GError **err)
{
    g_return_val_if_fail(dev && dev->machine && target, NULL);
    if (target->kind == MEM_ALIAS && !target->target) {
        g_set_error(err, TESS_BUS_ERROR, TESS_ERROR_NOT_FOUND,
                    "'%s': alias '%s' targets '%s', whose region was freed",
                    dev->id ? dev->id : "?", name ? name : "?", target->name);
        return NULL;
    }
    if (size == 0 || offset > target->size || size > target->size - offset) {
        g_set_error(err, TESS_BUS_ERROR, TESS_ERROR_INVALID,
                    "'%s': alias '%s' of 0x%" G_GINT64_MODIFIER "x bytes at offset 0x%"
                    G_GINT64_MODIFIER "x does not fit in '%s' (0x%" G_GINT64_MODIFIER
                    "x bytes)", dev->id ? dev->id : "?", name ? name : "?",
                    size, offset, target->name, target->size);
        return NULL;
    }
    TessMemRegion *r = mem_region_new(dev, name, MEM_ALIAS, size);
    TessMemRegion *t = target;
    r->target_off = offset;
    if (t->kind == MEM_ALIAS) {
        r->target_off += t->target_off;
        t = t->target;
    }
    r->target = t;
    if (!t->aliases)
        t->aliases = g_ptr_array_new();
    g_ptr_array_add(t->aliases, r);
    return r;
}

uint8_t *tess_mem_region_host(TessMemRegion *r)
{
    return r->host;
}

uint64_t tess_mem_region_size(TessMemRegion *r)
{
    return r->size;
}

const char *tess_mem_region_name(TessMemRegion *r)
{
    return r->name;
}

/* ---- mappings ------------------------------------------------------------ */

static void mem_unlink(TessMemMap *map, TessMemRegion *r)
{
    g_ptr_array_remove(map->mapped, r);
    r->mapped = false;
}

static void mem_link(TessMemMap *map, TessMemRegion *r)
{
    /* The newest mapping ranks first among equal priorities. */
    guint i = 0;
    while (i < map->mapped->len &&
           ((TessMemRegion *)g_ptr_array_index(map->mapped, i))->prio > r->prio)
        i++;
    g_ptr_array_insert(map->mapped, i, r);
    r->mapped = true;
}

bool tess_mem_map(TessMemRegion *r, uint64_t addr, int priority,
                  unsigned access, GError **err)
{
    g_return_val_if_fail(r, false);
    TessMemMap *map = r->map;

    if (access == 0 || (access & ~(unsigned)TESS_MAP_RW)) {
        g_set_error(err, TESS_BUS_ERROR, TESS_ERROR_INVALID,
                    "region '%s': access mask %u is not READ, WRITE or both",
                    r->name, access);
        return false;
    }
    if (addr >= MEM_SPACE || r->size > MEM_SPACE - addr) {
        g_set_error(err, TESS_BUS_ERROR, TESS_ERROR_INVALID,
                    "region '%s' of 0x%" G_GINT64_MODIFIER "x bytes at 0x%"
                    G_GINT64_MODIFIER "x leaves the %u-bit physical address space",
                    r->name, r->size, addr, TESS_PHYS_BITS);
        return false;
    }

    tess_mem_begin(map->m);
    if (r->mapped) {
        uint64_t old = r->addr;
        mem_unlink(map, r);
        mem_changed(map, old, r->size);
    }
    r->addr = addr;
    r->prio = priority;
    r->access = access;
    r->seq = ++map->seq;
    mem_link(map, r);
    mem_changed(map, addr, r->size);
    tess_mem_commit(map->m);
    return true;
}

void tess_mem_unmap(TessMemRegion *r)
{
    if (!r || !r->mapped)
        return;
    mem_unlink(r->map, r);
    mem_changed(r->map, r->addr, r->size);
}

void tess_mem_find_clashes(TessMachine *m, void (*report)(TessDevice *dev, const char *msg,
                                                          void *data), void *data)
{
    GPtrArray *mapped = m->mem->mapped;
    for (guint i = 0; i < mapped->len; i++) {
        TessMemRegion *a = g_ptr_array_index(mapped, i);
        for (guint j = i + 1; j < mapped->len; j++) {
            TessMemRegion *b = g_ptr_array_index(mapped, j);
            if (b->prio != a->prio)
                break;              /* sorted by priority */
            if (a->owner == b->owner || a->disabled || b->disabled ||
                !mem_overlaps(b, a->addr, a->addr + a->size))
                continue;
            TessMemRegion *newer = a->seq > b->seq ? a : b, *older = newer == a ? b : a;
            g_autofree char *msg = g_strdup_printf(
                "memory 0x%" G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER "x ('%s' of '%s') "
                "overlaps 0x%" G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER "x ('%s' of '%s' (%s)) "
                "at the same priority", newer->addr, newer->addr + newer->size - 1, newer->name,
                newer->owner->id, older->addr, older->addr + older->size - 1, older->name,
                older->owner->id, older->owner->cls->type);
            report(newer->owner, msg, data);
        }
    }
}

bool tess_mem_is_mapped(TessMemRegion *r)
{
    return r && r->mapped;
}

/* ---- in-place changes ------------------------------------------------------ */

bool tess_mem_alias_set_offset(TessMemRegion *a, uint64_t offset, GError **err)
{
    g_return_val_if_fail(a, false);
    if (a->kind != MEM_ALIAS || !a->target) {
        g_set_error(err, TESS_BUS_ERROR, TESS_ERROR_INVALID,
                    "region '%s' is not an alias of a live region", a->name);
        return false;
    }
    if (offset > a->target->size || a->size > a->target->size - offset) {
        g_set_error(err, TESS_BUS_ERROR, TESS_ERROR_INVALID,
                    "alias '%s' of 0x%" G_GINT64_MODIFIER "x bytes at offset 0x%"
                    G_GINT64_MODIFIER "x does not fit in '%s' (0x%" G_GINT64_MODIFIER
                    "x bytes)", a->name, a->size, offset, a->target->name,
                    a->target->size);
        return false;
    }
    if (offset == a->target_off)
        return true;
    a->target_off = offset;
    if (a->mapped && !a->disabled)
        mem_changed(a->map, a->addr, a->size);
    return true;
}

uint64_t tess_mem_alias_offset(TessMemRegion *a)
{
    return a->target_off;
}

void tess_mem_set_enabled(TessMemRegion *r, bool enabled)
{
    g_return_if_fail(r);
    if (r->disabled == !enabled)
        return;
    r->disabled = !enabled;
    if (r->mapped)
        mem_changed(r->map, r->addr, r->size);
}

bool tess_mem_is_enabled(TessMemRegion *r)
{
    return r && !r->disabled;
}

/* ---- dirty log --------------------------------------------------------------- */

/* Call fn on the guest-physical ranges where bytes [off, off+len) of
 * region t are mapped for writes (t itself or an alias onto it). */
static void mem_for_each_window(TessMemRegion *t, uint64_t off, uint64_t len,
                                void (*fn)(TessMemRegion *t, uint64_t start,
                                           uint64_t len, void *data),
                                void *data)
{
    guint n = t->aliases ? t->aliases->len : 0;
    for (guint i = 0; i <= n; i++) {
        TessMemRegion *w = i < n ? g_ptr_array_index(t->aliases, i) : t;
        if (!w->mapped || w->disabled || !(w->access & TESS_MAP_WRITE))
            continue;
        uint64_t base = w == t ? 0 : w->target_off;
        uint64_t lo = MAX(off, base), hi = MIN(off + len, base + w->size);
        if (lo < hi)
            fn(t, w->addr + (lo - base), hi - lo, data);
    }
}

static void mem_window_rebuild(TessMemRegion *t, uint64_t start, uint64_t len, void *data)
{
    mem_rebuild(t->map, start & ~MEM_PAGE_MASK,
                MIN(MEM_SPACE, (start + len + MEM_PAGE_MASK) & ~MEM_PAGE_MASK));
}

static void mem_window_changed(TessMemRegion *t, uint64_t start, uint64_t len, void *data)
{
    mem_changed(t->map, start, len);
}

/* Mark bytes [off, off+n) of logged region t dirty. Pages that were clean
 * get their write pointers back (no listener needs telling: they only
 * ever cached none). */
static void mem_log_set(TessMemRegion *t, uint64_t off, uint64_t n)
{
    if (n == 0 || off >= t->size)
        return;
    n = MIN(n, t->size - off);
    uint64_t first = off >> TESS_PAGE_SHIFT;
    uint64_t last = (off + n - 1) >> TESS_PAGE_SHIFT;
    uint64_t run = UINT64_MAX;
    for (uint64_t pn = first; pn <= last + 1; pn++) {
        bool fresh = false;
        if (pn <= last) {
            uint64_t bit = UINT64_C(1) << (pn % 64);
            fresh = !(t->log[pn / 64] & bit);
            t->log[pn / 64] |= bit;
        }
        if (fresh && run == UINT64_MAX) {
            run = pn;
        } else if (!fresh && run != UINT64_MAX) {
            mem_for_each_window(t, run << TESS_PAGE_SHIFT, (pn - run) << TESS_PAGE_SHIFT,
                                mem_window_rebuild, NULL);
            run = UINT64_MAX;
        }
    }
}

bool tess_mem_log_start(TessMemRegion *r, GError **err)
{
    g_return_val_if_fail(r, false);
    if (r->kind != MEM_RAM) {
        g_set_error(err, TESS_BUS_ERROR, TESS_ERROR_INVALID,
                    "region '%s': only RAM regions keep a dirty log", r->name);
        return false;
    }
    if (r->log_users++ > 0)
        return true;
    uint64_t pages = r->size >> TESS_PAGE_SHIFT;
    r->log = g_new(uint64_t, (pages + 63) / 64);
    memset(r->log, 0xFF, (pages + 63) / 64 * sizeof(uint64_t));
    r->map->logging++;
    /* Write pointers stay (every page starts dirty); CPUs with logs of
     * their own learn that the pages are logged. */
    tess_mem_begin(r->map->m);
    mem_for_each_window(r, 0, r->size, mem_window_changed, NULL);
    tess_mem_commit(r->map->m);
    return true;
}

void tess_mem_log_stop(TessMemRegion *r)
{
    g_return_if_fail(r);
    if (r->log_users == 0 || --r->log_users > 0)
        return;
    g_clear_pointer(&r->log, g_free);
    r->map->logging--;
    tess_mem_begin(r->map->m);
    mem_for_each_window(r, 0, r->size, mem_window_changed, NULL);
    tess_mem_commit(r->map->m);
}

bool tess_mem_log_active(TessMemRegion *r)
{
    return r && r->log;
}

static void mem_window_sync(TessMemRegion *t, uint64_t start, uint64_t len, void *data)
{
    GArray *ls = t->map->log_syncs;
    for (guint i = 0; i < ls->len; i++) {
        MemLogSyncRec *rec = &g_array_index(ls, MemLogSyncRec, i);
        rec->fn(rec->opaque, start, len);
    }
}

bool tess_mem_log_fetch(TessMemRegion *r, uint64_t offset, uint64_t len,
                        uint64_t *bitmap)
{
    g_return_val_if_fail(r && bitmap, false);
    if (len == 0)
        return false;
    uint64_t first = offset >> TESS_PAGE_SHIFT;
    uint64_t npages = (((offset & MEM_PAGE_MASK) + len + MEM_PAGE_MASK) >> TESS_PAGE_SHIFT);
    uint64_t rpages = r->size >> TESS_PAGE_SHIFT;
    memset(bitmap, 0, (npages + 63) / 64 * sizeof(uint64_t));
    if (!r->log) {
        for (uint64_t i = 0; i < npages; i++)
            if (first + i < rpages)
                bitmap[i / 64] |= UINT64_C(1) << (i % 64);
        return first < rpages;
    }
    if (first >= rpages)
        return false;
    npages = MIN(npages, rpages - first);
    if (r->map->log_syncs->len)
        mem_for_each_window(r, first << TESS_PAGE_SHIFT, npages << TESS_PAGE_SHIFT,
                            mem_window_sync, NULL);

    bool any = false;
    uint64_t run = UINT64_MAX;
    tess_mem_begin(r->map->m);
    for (uint64_t i = 0; i <= npages; i++) {
        bool dirty = false;
        if (i < npages) {
            uint64_t pn = first + i;
            /* a whole clean word at once: the static-screen case */
            if (pn % 64 == 0 && i + 64 <= npages && r->log[pn / 64] == 0 &&
                run == UINT64_MAX) {
                i += 63;
                continue;
            }
            uint64_t bit = UINT64_C(1) << (pn % 64);
            dirty = r->log[pn / 64] & bit;
            if (dirty) {
                r->log[pn / 64] &= ~bit;
                bitmap[i / 64] |= UINT64_C(1) << (i % 64);
                any = true;
            }
        }
        if (dirty && run == UINT64_MAX) {
            run = i;
        } else if (!dirty && run != UINT64_MAX) {
            /* clean again: CPUs drop the write pointers they hold */
            mem_for_each_window(r, (first + run) << TESS_PAGE_SHIFT,
                                (i - run) << TESS_PAGE_SHIFT, mem_window_changed, NULL);
            run = UINT64_MAX;
        }
    }
    tess_mem_commit(r->map->m);
    return any;
}

void tess_mem_log_mark(TessMemRegion *r, uint64_t offset, uint64_t len)
{
    if (r && r->log)
        mem_log_set(r, offset, len);
}

void tess_mem_add_log_sync(TessMachine *m, TessMemLogSync sync, void *opaque)
{
    MemLogSyncRec rec = { sync, opaque };
    g_array_append_val(m->mem->log_syncs, rec);
}

void tess_mem_remove_log_sync(TessMachine *m, TessMemLogSync sync, void *opaque)
{
    GArray *ls = m->mem->log_syncs;
    for (guint i = 0; i < ls->len; i++) {
        MemLogSyncRec *rec = &g_array_index(ls, MemLogSyncRec, i);
        if (rec->fn == sync && rec->opaque == opaque) {
            g_array_remove_index(ls, i);
            return;
        }
    }
}

static void mem_region_destroy(TessMemRegion *r)
{
    if (r->log) {
        r->map->logging--;
        g_free(r->log);
    }
    if (r->host)
        munmap(r->host - r->host_guard, r->host_len + 2 * r->host_guard);
    if (r->aliases)
        g_ptr_array_unref(r->aliases);
    g_free(r->name);
    g_free(r);
}

void tess_mem_region_free(TessMemRegion *r)
{
    if (!r)
        return;
    TessMemMap *map = r->map;

    tess_mem_begin(map->m);
    tess_mem_unmap(r);
    /* Aliases onto this region go dark: they stay valid objects but decode
     * to nothing, like a window onto a device that left. */
    if (r->aliases) {
        for (guint i = 0; i < r->aliases->len; i++) {
            TessMemRegion *a = g_ptr_array_index(r->aliases, i);
            a->target = NULL;
            if (a->mapped)
                mem_changed(map, a->addr, a->size);
        }
    }
    if (r->kind == MEM_ALIAS && r->target && r->target->aliases)
        g_ptr_array_remove_fast(r->target->aliases, r);
    if (map->main_ram == r)
        map->main_ram = NULL;
    g_ptr_array_remove_fast(map->regions, r);
    tess_mem_commit(map->m);
    mem_region_destroy(r);
}

void tess_mem_release_owner(TessMachine *m, TessDevice *owner)
{
    TessMemMap *map = m->mem;
    if (!map)
        return;
    tess_mem_begin(m);
    for (guint i = map->regions->len; i-- > 0;) {
        if (i >= map->regions->len)
            continue;
        TessMemRegion *r = g_ptr_array_index(map->regions, i);
        if (r->owner == owner)
            tess_mem_region_free(r);
    }
    tess_mem_commit(m);
}

/* ---- main RAM -------------------------------------------------------------- */

bool tess_mem_create_main_ram(TessMachine *m, uint64_t size, uint64_t below_4g,
                              GError **err)
{
    TessMemMap *map = m->mem;
    const uint64_t four_g = UINT64_C(1) << 32;

    g_return_val_if_fail(m->root && !map->main_ram, false);
    size = (size + MEM_PAGE_MASK) & ~MEM_PAGE_MASK;
    /* 0: the usual PC split, leaving the top 512 MiB below 4 GiB for
     * PCI, the APICs and the BIOS. */
    if (below_4g == 0)
        below_4g = UINT64_C(0xE0000000);
    below_4g = MIN(below_4g & ~MEM_PAGE_MASK, size);
    if (below_4g == 0 || below_4g > four_g) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "memory: %" G_GUINT64_FORMAT " bytes below 4 GiB is not "
                    "between one page and 4 GiB", below_4g);
        return false;
    }
    if (size - below_4g > MEM_SPACE - four_g) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "memory: %" G_GUINT64_FORMAT " MiB does not fit in the "
                    "%u-bit physical address space", size >> 20, TESS_PHYS_BITS);
        return false;
    }

    TessMemRegion *ram = tess_mem_ram_new(m->root, "ram", size, err);
    if (!ram)
        return false;
    bool ok = true;
    tess_mem_begin(m);
    if (below_4g == size) {
        ok = tess_mem_map(ram, 0, TESS_PRIO_RAM, TESS_MAP_RW, err);
    } else {
        TessMemRegion *lo = tess_mem_alias_new(m->root, "ram-below-4g", ram, 0,
                                               below_4g, err);
        TessMemRegion *hi = lo ? tess_mem_alias_new(m->root, "ram-above-4g", ram,
                                                    below_4g, size - below_4g, err)
                               : NULL;
        ok = hi && tess_mem_map(lo, 0, TESS_PRIO_RAM, TESS_MAP_RW, err) &&
             tess_mem_map(hi, four_g, TESS_PRIO_RAM, TESS_MAP_RW, err);
        if (!ok) {
            tess_mem_region_free(hi);
            tess_mem_region_free(lo);
        }
    }
    if (ok) {
        map->main_ram = ram;
        map->ram_size = size;
        map->ram_below_4g = below_4g;
    } else {
        tess_mem_region_free(ram);
    }
    tess_mem_commit(m);
    return ok;
}

TessMemRegion *tess_machine_ram(TessMachine *m)
{
    return m->mem->main_ram;
}

uint64_t tess_machine_ram_size(TessMachine *m)
{
    return m->mem->main_ram ? m->mem->ram_size : 0;
}

uint64_t tess_machine_ram_below_4g(TessMachine *m)
{
    return m->mem->main_ram ? m->mem->ram_below_4g : 0;
}

/* ---- slow-path accesses ------------------------------------------------- */

/*
 * Who answers `access` at paddr, and for how many bytes from there (never
 * past the page end). NULL: nobody (reads all ones, writes ignored).
 */
static TessMemRegion *mem_owner_at(TessMemMap *map, uint64_t paddr, unsigned access,
                                   uint64_t *extent)
{
    uint64_t page_end = (paddr & ~MEM_PAGE_MASK) + TESS_PAGE_SIZE;
    MemEntry *e = mem_entry(map, paddr);

    *extent = page_end - paddr;
    if (!e)
        return NULL;
    if (!(access == TESS_MAP_READ ? e->rsub : e->wsub))
        return access == TESS_MAP_READ ? e->rd : e->wr;

    /* Mixed page: the best-ranked mapping containing paddr, cut short
     * where a better-ranked one begins. */
    uint64_t limit = page_end;
    for (guint i = 0; i < map->mapped->len; i++) {
        TessMemRegion *r = g_ptr_array_index(map->mapped, i);
        if (r->disabled || !(r->access & access))
            continue;
        if (r->addr <= paddr && paddr - r->addr < r->size) {
            limit = MIN(limit, r->addr + r->size);
            *extent = limit - paddr;
            return r;
        }
        if (r->addr > paddr && r->addr < limit)
            limit = r->addr;
    }
    *extent = limit - paddr;
    return NULL;
}

/* Where an access into a mapping ends up: a host pointer or an MMIO. */
typedef struct MemTarget {
    uint8_t *host;              /* RAM/ROM byte */
    TessMemRegion *base;        /* the region holding the bytes */
    TessMemRegion *mmio;
    uint64_t off;
    MemKind kind;
} MemTarget;

static bool mem_target(TessMemRegion *r, uint64_t paddr, MemTarget *t)
{
    if (!r)
        return false;
    uint64_t off = paddr - r->addr;
    TessMemRegion *base = mem_resolve(r, &off);
    if (!base)
        return false;
    t->kind = base->kind;
    t->base = base;
    t->off = off;
    t->host = base->host ? base->host + off : NULL;
    t->mmio = base->kind == MEM_MMIO ? base : NULL;
    return true;
}

static inline unsigned mem_piece(uint64_t n)
{
    return n >= 8 ? 8 : n >= 4 ? 4 : n >= 2 ? 2 : 1;
}

static uint64_t mem_read_run(TessMemRegion *r, uint64_t paddr, unsigned n)
{
    MemTarget t;
    if (!mem_target(r, paddr, &t))
        return n >= 8 ? UINT64_MAX : (UINT64_C(1) << (n * 8)) - 1;
    uint64_t v = 0;
    if (t.host) {
        for (unsigned i = 0; i < n; i++)
            v |= (uint64_t)t.host[i] << (i * 8);
        return v;
    }
    for (unsigned done = 0; done < n;) {
        unsigned k = mem_piece(n - done);
        v |= tess_io_read(t.mmio->ops, t.mmio->opaque, t.off + done, k) << (done * 8);
        done += k;
    }
    return v;
}

static void mem_write_run(TessMemRegion *r, uint64_t paddr, uint64_t value, unsigned n)
{
    MemTarget t;
    if (!mem_target(r, paddr, &t) || t.kind == MEM_ROM)
        return;
    if (t.host) {
        for (unsigned i = 0; i < n; i++)
            t.host[i] = (uint8_t)(value >> (i * 8));
        if (t.base->log)
            mem_log_set(t.base, t.off, n);
        return;
    }
    for (unsigned done = 0; done < n;) {
        unsigned k = mem_piece(n - done);
        tess_io_write(t.mmio->ops, t.mmio->opaque, t.off + done,
                      value >> (done * 8), k);
        done += k;
    }
}

uint64_t tess_mem_read(TessMachine *m, uint64_t paddr, unsigned size)
{
    TessMemMap *map = m->mem;
    if (size - 1 >= 8)
        size = 8;
    uint64_t v = 0;
    for (unsigned done = 0; done < size;) {
        uint64_t extent;
        TessMemRegion *r = mem_owner_at(map, paddr + done, TESS_MAP_READ, &extent);
        unsigned n = (unsigned)MIN(extent, (uint64_t)(size - done));
        v |= mem_read_run(r, paddr + done, n) << (done * 8);
        done += n;
    }
    return v;
}

void tess_mem_write(TessMachine *m, uint64_t paddr, uint64_t value, unsigned size)
{
    TessMemMap *map = m->mem;
    if (size - 1 >= 8)
        size = 8;
    for (unsigned done = 0; done < size;) {
        uint64_t extent;
        TessMemRegion *r = mem_owner_at(map, paddr + done, TESS_MAP_WRITE, &extent);
        unsigned n = (unsigned)MIN(extent, (uint64_t)(size - done));
        mem_write_run(r, paddr + done, value >> (done * 8), n);
        done += n;
    }
}

void tess_mem_log_dirty(TessMachine *m, uint64_t paddr, uint64_t len)
{
    TessMemMap *map = m->mem;
    if (!map->logging || paddr >= MEM_SPACE)
        return;
    len = MIN(len, MEM_SPACE - paddr);
    for (uint64_t done = 0; done < len;) {
        uint64_t extent;
        TessMemRegion *r = mem_owner_at(map, paddr + done, TESS_MAP_WRITE, &extent);
        uint64_t n = MIN(extent, len - done);
        MemTarget t;
        if (mem_target(r, paddr + done, &t) && t.kind == MEM_RAM && t.base->log)
            mem_log_set(t.base, t.off, n);
        done += n;
    }
}

TessMemPage tess_mem_page_unlogged(TessMachine *m, uint64_t paddr, bool *logged)
{
    MemEntry *e = mem_entry(m->mem, paddr);
    *logged = e && e->logged;
    if (!e)
        return mem_no_page;
    return (TessMemPage){ e->page.read, e->raw_write, e->page.ram };
}

TessMemRegion *tess_mem_page_mmio(TessMachine *m, uint64_t paddr, unsigned access,
                                  uint64_t *offset)
{
    MemEntry *e = mem_entry(m->mem, paddr);
    if (!e)
        return NULL;
    TessMemRegion *w = access == TESS_MAP_READ ? (e->rsub ? NULL : e->rd)
                                               : (e->wsub ? NULL : e->wr);
    if (!w)
        return NULL;
    uint64_t off = (paddr & ~MEM_PAGE_MASK) - w->addr;
    TessMemRegion *t = mem_resolve(w, &off);
    if (!t || t->kind != MEM_MMIO)
        return NULL;
    *offset = off;
    return t;
}

uint64_t tess_mem_region_read(TessMemRegion *r, uint64_t offset, unsigned size)
{
    if (size - 1 >= 8)
        size = 8;
    uint64_t v = 0;
    TessMemRegion *t = mem_resolve(r, &offset);
    for (unsigned done = 0; done < size;) {
        uint64_t off = offset + done;
        if (!t || off >= t->size) {
            v |= ~UINT64_C(0) << (done * 8);
            break;
        }
        unsigned n = (unsigned)MIN((uint64_t)(size - done), t->size - off);
        if (t->host) {
            for (unsigned i = 0; i < n; i++)
                v |= (uint64_t)t->host[off + i] << ((done + i) * 8);
        } else {
            for (unsigned k = 0; k < n;) {
                unsigned p = mem_piece(n - k);
                v |= tess_io_read(t->ops, t->opaque, off + k, p) << ((done + k) * 8);
                k += p;
            }
        }
        done += n;
    }
    return size == 8 ? v : v & ((UINT64_C(1) << (size * 8)) - 1);
}

void tess_mem_region_write(TessMemRegion *r, uint64_t offset, uint64_t value,
                           unsigned size)
{
    if (size - 1 >= 8)
        size = 8;
    TessMemRegion *t = mem_resolve(r, &offset);
    if (!t || t->kind == MEM_ROM || offset >= t->size)
        return;
    unsigned n = (unsigned)MIN((uint64_t)size, t->size - offset);
    if (t->host) {
        for (unsigned i = 0; i < n; i++)
            t->host[offset + i] = (uint8_t)(value >> (i * 8));
        if (t->log)
            mem_log_set(t, offset, n);
        return;
    }
    for (unsigned k = 0; k < n;) {
        unsigned p = mem_piece(n - k);
        tess_io_write(t->ops, t->opaque, offset + k, value >> (k * 8), p);
        k += p;
    }
}

/*
 * For dma.c: the host bytes behind [paddr, paddr+len) for `access`, if all
 * of it is RAM (or ROM, for reads) of one region; returns how many bytes
 * from paddr that run covers (never past a page), or 0 when paddr itself
 * is not plain memory.
 */
uint64_t tess_mem_host_run(TessMachine *m, uint64_t paddr, uint64_t len,
                           unsigned access, uint8_t **host)
{
    uint64_t extent;
    TessMemRegion *r = mem_owner_at(m->mem, paddr, access, &extent);
    MemTarget t;
    if (!mem_target(r, paddr, &t))
        return 0;
    if (t.kind != MEM_RAM && !(t.kind == MEM_ROM && access == TESS_MAP_READ))
        return 0;
    *host = t.host;
    return MIN(extent, len);
}

/* ---- the map itself ------------------------------------------------------ */

TessMemMap *tess_mem_map_new(TessMachine *m)
{
    TessMemMap *map = g_new0(TessMemMap, 1);
    map->m = m;
    map->l1 = g_new0(MemEntry *, MEM_L1_ENTRIES);
    map->regions = g_ptr_array_new();
    map->mapped = g_ptr_array_new();
    map->listeners = g_array_new(FALSE, FALSE, sizeof(MemListenerRec));
    map->log_syncs = g_array_new(FALSE, FALSE, sizeof(MemLogSyncRec));
    map->dirty = g_array_new(FALSE, FALSE, sizeof(MemRange));
    return map;
}

void tess_mem_map_free(TessMemMap *map)
{
    if (!map)
        return;
    for (guint i = 0; i < map->regions->len; i++)
        mem_region_destroy(g_ptr_array_index(map->regions, i));
    g_ptr_array_unref(map->regions);
    g_ptr_array_unref(map->mapped);
    /* A few leaves of the 4096 exist: a g_free(NULL) for each of the rest
     * was 7% of loading and freeing a small machine under the sanitizers
     * (fuzz-machine). */
    for (guint i = 0; i < MEM_L1_ENTRIES; i++)
        if (map->l1[i])
            g_free(map->l1[i]);
    g_free(map->l1);
    g_array_unref(map->listeners);
    g_array_unref(map->log_syncs);
    g_array_unref(map->dirty);
    g_free(map);
}
