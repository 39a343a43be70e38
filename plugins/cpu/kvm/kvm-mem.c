/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Guest memory for the kvm CPU: KVM memory slots derived from the core's
 * flat memory view, page by page, through the public API only.
 *
 * A page whose read and write host pointers are the same is RAM: a normal
 * slot. A page with a read pointer but no write pointer, or a different
 * one (ROM; PAM "read ROM, write RAM"), is a KVM_MEM_READONLY slot on the
 * read pointer: KVM then reports each guest write as an MMIO exit, which
 * goes to tess_mem_write and lands wherever the map sends writes. A page
 * without a read pointer (MMIO, mixed pages, nothing) has no slot, so
 * every access exits to tess_mem_read / tess_mem_write.
 *
 * Runs of pages that are contiguous in guest and host memory and of the
 * same kind become one slot. Map changes only mark ranges dirty; the slots
 * are re-derived on the vCPU's thread right before the next KVM_RUN, and a
 * change inside a slot re-derives that whole slot (KVM cannot shrink or
 * split one); only slots that come out different are deleted and created
 * (a bank switch re-creates the window's slot, nothing else).
 *
 * Dirty logging: RAM the core logs (a display's video memory) gets
 * KVM_MEM_LOG_DIRTY_PAGES slots, so guest writes run at full speed and
 * KVM records them; before the core reads its log it calls kvm_log_sync,
 * which hands KVM_GET_DIRTY_LOG's bits over (tess_mem_log_dirty). A
 * logged slot about to be deleted hands its bits over first. Runs never cross the legacy boundaries at 640K,
 * 768K, 1M and 2M, so PAM, the VGA window and the A20 wrap only ever
 * re-create small slots, never the one holding the bulk of RAM.
 *
 * A20: KVM has no A20 gate. While the gate is off, the second megabyte
 * (0x100000-0x1FFFFF) is mapped onto whatever the first megabyte holds,
 * which is the wrap every real-mode address past 1 MiB (up to 0x10FFEF)
 * relies on. Addresses in other odd megabytes are not masked: only
 * protected-mode code with A20 off would see that, and SeaBIOS and every
 * OS enable A20 before leaving real mode.
 */
#define G_LOG_DOMAIN "kvm"
#include "kvm-cpu.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#define MEM_MIB      UINT64_C(0x100000)
#define MEM_4G       (UINT64_C(1) << 32)
#define MEM_SPACE    (UINT64_C(1) << TESS_PHYS_BITS)
#define MEM_PAGE     ((uint64_t)TESS_PAGE_SIZE)

typedef struct { uint64_t start, end; } MemRange;

static bool mem_is_break(uint64_t pa)
{
    return pa == 0xA0000 || pa == 0xC0000 || pa == MEM_MIB || pa == 2 * MEM_MIB ||
           pa == MEM_4G;
}

/* Pages KVM keeps for itself on Intel hosts (KVM_SET_TSS_ADDR and
 * KVM_SET_IDENTITY_MAP_ADDR): no slot may cover them. */
static bool mem_is_reserved(uint64_t pa)
{
    return pa >= KVM_IDMAP_ADDR && pa < KVM_TSS_ADDR + 3 * MEM_PAGE;
}

uint64_t kvm_mem_fabric_addr(KvmCpu *d, uint64_t gpa)
{
    if (!d->a20 && gpa >= MEM_MIB && gpa < 2 * MEM_MIB)
        return gpa - MEM_MIB;
    return gpa;
}

void kvm_mem_dirty(KvmCpu *d, uint64_t start, uint64_t end)
{
    start &= ~(MEM_PAGE - 1);
    end = MIN((end + MEM_PAGE - 1) & ~(MEM_PAGE - 1), MEM_SPACE);
    if (start >= end)
        return;
    MemRange r = { start, end };
    g_array_append_val(d->dirty, r);
    /* The A20 wrap shows the first megabyte again one megabyte up. */
    if (!d->a20 && start < MEM_MIB)
        kvm_mem_dirty(d, start + MEM_MIB, MIN(end, MEM_MIB) + MEM_MIB);
}

bool kvm_mem_pending(KvmCpu *d)
{
    return d->dirty->len > 0;
}

void kvm_mem_set_a20(KvmCpu *d, bool on)
{
    if (d->a20 == on)
        return;
    d->a20 = on;
    kvm_mem_dirty(d, MEM_MIB, 2 * MEM_MIB);
}

static void lst_map_changed(void *opaque, uint64_t start, uint64_t len)
{
    KvmCpu *d = opaque;
    kvm_mem_dirty(d, start, start + len);
}

static void kvm_log_sync(void *opaque, uint64_t start, uint64_t len);

static const TessMemListener kvm_listener = {
    .map_changed = lst_map_changed,
};

void kvm_mem_init(KvmCpu *d)
{
    TessMachine *m = d->dev.machine;
    d->slots = g_array_new(FALSE, FALSE, sizeof(KvmSlot));
    d->free_ids = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    d->dirty = g_array_new(FALSE, FALSE, sizeof(MemRange));
    d->a20 = true;
    /* Main RAM and whatever was mapped before this CPU was realized: the
     * listener only hears about later changes. */
    kvm_mem_dirty(d, 0, MEM_4G);
    uint64_t above = tess_machine_ram_size(m) - tess_machine_ram_below_4g(m);
    if (above)
        kvm_mem_dirty(d, MEM_4G, MEM_4G + above);
    tess_mem_add_listener(m, &kvm_listener, d);
    tess_mem_add_log_sync(m, kvm_log_sync, d);
    d->listening = true;
}

void kvm_mem_fini(KvmCpu *d)
{
    if (d->listening) {
        tess_mem_remove_listener(d->dev.machine, &kvm_listener, d);
        tess_mem_remove_log_sync(d->dev.machine, kvm_log_sync, d);
    }
    d->listening = false;
    if (d->slots)
        g_array_unref(d->slots);
    if (d->free_ids)
        g_array_unref(d->free_ids);
    if (d->dirty)
        g_array_unref(d->dirty);
    d->slots = d->free_ids = d->dirty = NULL;
}

static bool slot_ioctl(KvmCpu *d, const KvmSlot *s, bool remove, GError **err)
{
    struct kvm_userspace_memory_region r = {
        .slot = s->id,
        .flags = remove ? 0 : s->flags,
        .guest_phys_addr = s->gpa,
        .memory_size = remove ? 0 : s->size,
        .userspace_addr = (uintptr_t)s->hva,
    };
    g_debug("%s: slot %u %s 0x%" G_GINT64_MODIFIER "x+0x%" G_GINT64_MODIFIER "x%s",
            d->dev.id, s->id, remove ? "delete" : "create", s->gpa, s->size,
            s->flags & KVM_MEM_READONLY ? " read-only" : "");
    if (ioctl(d->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) == 0)
        return true;
    int e = errno;
    g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO,
                "%s: KVM cannot %s memory slot %u at 0x%" G_GINT64_MODIFIER "x "
                "(0x%" G_GINT64_MODIFIER "x bytes%s): %s", d->dev.id,
                remove ? "delete" : "create", s->id, s->gpa, s->size,
                s->flags & KVM_MEM_READONLY ? ", read-only" : "", g_strerror(e));
    return false;
}

/* Give the core the pages KVM saw written in slot s (and clear them). */
static void slot_log_harvest(KvmCpu *d, const KvmSlot *s)
{
    if (!(s->flags & KVM_MEM_LOG_DIRTY_PAGES))
        return;
    TessMachine *m = d->dev.machine;
    uint64_t pages = s->size / MEM_PAGE;
    g_autofree uint64_t *bm = g_new0(uint64_t, (pages + 63) / 64);
    struct kvm_dirty_log log = { .slot = s->id, .dirty_bitmap = bm };
    if (ioctl(d->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0) {
        /* no log to be had: say all of it was written */
        memset(bm, 0xFF, (pages + 63) / 64 * sizeof(uint64_t));
    }
    for (uint64_t w = 0; w < (pages + 63) / 64; w++)
        for (uint64_t bits = bm[w]; bits; bits &= bits - 1) {
            uint64_t i = w * 64 + (uint64_t)__builtin_ctzll(bits);
            if (i < pages)
                tess_mem_log_dirty(m, kvm_mem_fabric_addr(d, s->gpa + i * MEM_PAGE), MEM_PAGE);
        }
}

static void slot_log_harvest_range(KvmCpu *d, uint64_t start, uint64_t end)
{
    for (guint i = 0; i < d->slots->len; i++) {
        KvmSlot *s = &g_array_index(d->slots, KvmSlot, i);
        if (s->gpa < end && start < s->gpa + s->size)
            slot_log_harvest(d, s);
    }
}

/* The core is about to read its dirty log for guest range [start, +len). */
static void kvm_log_sync(void *opaque, uint64_t start, uint64_t len)
{
    KvmCpu *d = opaque;
    slot_log_harvest_range(d, start, start + len);
    /* the A20 wrap shows the first megabyte one megabyte up */
    if (!d->a20 && start < MEM_MIB)
        slot_log_harvest_range(d, start + MEM_MIB, MIN(start + len, MEM_MIB) + MEM_MIB);
}

static bool slot_add(KvmCpu *d, KvmSlot *s, GError **err)
{
    if (d->free_ids->len) {
        s->id = g_array_index(d->free_ids, uint32_t, d->free_ids->len - 1);
        g_array_set_size(d->free_ids, d->free_ids->len - 1);
    } else if (d->next_id < d->max_slots) {
        s->id = d->next_id++;
    } else {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_UNSUPPORTED,
                    "%s: the memory map needs more than the %u memory slots KVM "
                    "offers", d->dev.id, d->max_slots);
        return false;
    }
    if (!slot_ioctl(d, s, false, err)) {
        g_array_append_val(d->free_ids, s->id);
        return false;
    }
    guint i = 0;
    while (i < d->slots->len && g_array_index(d->slots, KvmSlot, i).gpa < s->gpa)
        i++;
    g_array_insert_val(d->slots, i, *s);
    return true;
}

/* The slots [start, end) should have, in gpa order, into want. */
static void mem_walk(KvmCpu *d, uint64_t start, uint64_t end, GArray *want)
{
    TessMachine *m = d->dev.machine;
    KvmSlot cur = { 0 };
    bool have = false;

    for (uint64_t pa = start; pa < end; pa += MEM_PAGE) {
        bool logged;
        TessMemPage p = tess_mem_page_unlogged(m, kvm_mem_fabric_addr(d, pa), &logged);
        uint8_t *hva = mem_is_reserved(pa) ? NULL : p.read;
        uint32_t flags = p.write != p.read ? KVM_MEM_READONLY
                         : logged ? KVM_MEM_LOG_DIRTY_PAGES : 0;
        if (have && (!hva || mem_is_break(pa) || flags != cur.flags ||
                     hva != cur.hva + cur.size)) {
            g_array_append_val(want, cur);
            have = false;
        }
        if (!hva)
            continue;
        if (have) {
            cur.size += MEM_PAGE;
        } else {
            cur = (KvmSlot){ .gpa = pa, .size = MEM_PAGE, .hva = hva, .flags = flags };
            have = true;
        }
    }
    if (have)
        g_array_append_val(want, cur);
}

static bool slot_same(const KvmSlot *a, const KvmSlot *b)
{
    return a->gpa == b->gpa && a->size == b->size && a->hva == b->hva && a->flags == b->flags;
}

static gint range_cmp(gconstpointer a, gconstpointer b)
{
    const MemRange *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

bool kvm_mem_sync(KvmCpu *d, GError **err)
{
    if (!d->dirty->len)
        return true;
    g_autoptr(GArray) todo = d->dirty;
    d->dirty = g_array_new(FALSE, FALSE, sizeof(MemRange));
    g_array_sort(todo, range_cmp);

    for (guint k = 0; k < todo->len; k++) {
        MemRange r = g_array_index(todo, MemRange, k);
        /* Slots only come whole: widen to every slot the range touches. */
        for (guint i = 0; i < d->slots->len; i++) {
            KvmSlot *s = &g_array_index(d->slots, KvmSlot, i);
            if (s->gpa < r.end && r.start < s->gpa + s->size) {
                r.start = MIN(r.start, s->gpa);
                r.end = MAX(r.end, s->gpa + s->size);
            }
        }
        /* Later ranges this one now covers need no second walk. */
        while (k + 1 < todo->len && g_array_index(todo, MemRange, k + 1).start < r.end) {
            r.end = MAX(r.end, g_array_index(todo, MemRange, k + 1).end);
            k++;
            for (guint i = 0; i < d->slots->len; i++) {
                KvmSlot *s = &g_array_index(d->slots, KvmSlot, i);
                if (s->gpa < r.end && r.start < s->gpa + s->size)
                    r.end = MAX(r.end, s->gpa + s->size);
            }
        }
        g_autoptr(GArray) want = g_array_new(FALSE, FALSE, sizeof(KvmSlot));
        mem_walk(d, r.start, r.end, want);
        /* Slots that come out the same stay (with their dirty logs). */
        for (guint i = d->slots->len; i-- > 0;) {
            KvmSlot *s = &g_array_index(d->slots, KvmSlot, i);
            if (!(s->gpa < r.end && r.start < s->gpa + s->size))
                continue;
            bool kept = false;
            for (guint w = 0; w < want->len && !kept; w++) {
                if (slot_same(s, &g_array_index(want, KvmSlot, w))) {
                    g_array_remove_index(want, w);
                    kept = true;
                }
            }
            if (kept)
                continue;
            slot_log_harvest(d, s);
            if (!slot_ioctl(d, s, true, err))
                return false;
            g_array_append_val(d->free_ids, s->id);
            g_array_remove_index(d->slots, i);
        }
        for (guint w = 0; w < want->len; w++)
            if (!slot_add(d, &g_array_index(want, KvmSlot, w), err))
                return false;
    }
    return true;
}
