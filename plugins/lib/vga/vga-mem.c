/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VGA's CPU window at 0xA0000-0xBFFFF: memory map select, chain-4,
 * odd/even and planar addressing, the four write modes with rotate,
 * set/reset, logical function and bit mask, the latches, read modes 0 and
 * 1 (IBM VGA technical reference, "Graphics Controller Registers" and
 * "Sequencer Memory Mode Register"); and the Bochs VBE bank window.
 *
 * When every byte written lands unchanged in one plane (chain-4 with the
 * write logic idle, or a VBE bank), the window is covered by an alias of
 * video memory so guest accesses run at RAM speed. Nothing is lost by
 * bypassing the device: the renderer detects change by comparing memory,
 * helped by the core's dirty log (writes here mark it themselves).
 *
 * A model extends the window through Vga.bank (its bank register, in
 * bytes), Vga.ext_mem (chain-4 reaching all of video memory) and
 * Vga.window_mmio (its own registers overlaid on the window).
 */
#define G_LOG_DOMAIN "vga"
#include "vga.h"

#include <string.h>

static inline bool dispi_linear(const Vga *v)
{
    return v->dispi_on && v->dispi[DISPI_INDEX_BPP] != 4;
}

/* Window offset for a legacy-region offset (0..0x1FFFF), or false when the
 * address is outside the selected memory map. */
static bool vga_window(const Vga *v, uint32_t off, uint32_t *w)
{
    if (v->dispi_on) {
        /* The VBE bank window ignores the VGA's RAM enable (as Bochs). */
        *w = off;
        return off < 0x10000;
    }
    if (!(v->misc & MISC_ERAM))
        return false;
    switch ((v->gr[6] & GR06_MM) >> 2) {
    case 0: *w = off; return true;
    case 1: *w = off; return off < 0x10000;
    case 2: *w = off - 0x10000; return off >= 0x10000 && off < 0x18000;
    default: *w = off - 0x18000; return off >= 0x18000;
    }
}

/* Plane offset space: 64K per plane for VGA modes; a VBE 4-bit mode uses
 * all of video memory, banked 64K at a time. */
static inline uint32_t plane_space(const Vga *v)
{
    return v->dispi_on || v->ext_mem ? (uint32_t)(v->vram_size / 4) : VGA_PLANE_SIZE;
}

static inline uint32_t bank_base(const Vga *v)
{
    return v->dispi_on ? (uint32_t)v->dispi[DISPI_INDEX_BANK] << 16 : v->bank;
}

static inline uint32_t bytes4(uint8_t b)
{
    return b * 0x01010101u;
}

/* Expand a 4-bit plane selector to a byte mask per plane. */
static inline uint32_t plane_bytes(unsigned bits)
{
    return ((bits & 1) ? 0x000000FFu : 0) | ((bits & 2) ? 0x0000FF00u : 0) |
           ((bits & 4) ? 0x00FF0000u : 0) | ((bits & 8) ? 0xFF000000u : 0);
}

static inline uint8_t ror8(uint8_t x, unsigned n)
{
    n &= 7;
    return n ? (uint8_t)((x >> n) | (x << (8 - n))) : x;
}

/* Address decode for CPU access in VGA modes: plane offset and, for reads,
 * the plane read mode 0 returns; for writes the planes written. */
static bool vga_decode(const Vga *v, uint32_t w, bool write, uint32_t *off,
                       unsigned *planes)
{
    uint8_t sr4 = v->sr[4];
    uint32_t bank = bank_base(v);
    if (sr4 & SR04_CHAIN4) {
        /* A model's bank counts CPU bytes: in chain-4 it moves the
         * address before the plane is picked. */
        if (!v->dispi_on) {
            w += bank;
            bank = 0;
        }
        *off = w >> 2;
        *planes = write ? (1u << (w & 3)) & v->sr[2] : (w & 3);
    } else if (write ? !(sr4 & SR04_OE_DIS) : (v->gr[5] & GR05_OE)) {
        *off = w & ~1u;
        if (write)
            *planes = v->sr[2] & ((w & 1) ? 0xA : 0x5);
        else
            *planes = (v->gr[4] & 2) | (w & 1);
    } else {
        *off = w;
        *planes = write ? v->sr[2] & 0xF : v->gr[4] & 3;
    }
    if (!v->dispi_on && !v->ext_mem)
        *off &= VGA_PLANE_SIZE - 1;
    *off += bank;
    return *off < plane_space(v);
}

static uint8_t vga_mem_readb(Vga *v, uint32_t off)
{
    uint32_t w;
    if (!vga_window(v, off, &w))
        return 0xFF;
    if (dispi_linear(v)) {
        uint64_t a = ((uint64_t)v->dispi[DISPI_INDEX_BANK] << 16) + w;
        return a < v->vram_size ? v->vram[a] : 0xFF;
    }
    uint32_t po;
    unsigned plane;
    if (!vga_decode(v, w, false, &po, &plane))
        return 0xFF;
    const uint8_t *cell = &v->vram[(uint64_t)po * 4];
    memcpy(v->latch, cell, 4);
    if (!(v->gr[5] & GR05_RM))
        return v->latch[plane];
    /* Read mode 1: 1 where every plane selected by Color Don't Care
     * matches its Color Compare bit. */
    uint8_t diff = 0;
    for (unsigned p = 0; p < 4; p++) {
        if (v->gr[7] & (1u << p))
            diff |= v->latch[p] ^ ((v->gr[2] & (1u << p)) ? 0xFF : 0x00);
    }
    return (uint8_t)~diff;
}

static void vga_mem_writeb(Vga *v, uint32_t off, uint8_t val)
{
    uint32_t w;
    if (!vga_window(v, off, &w))
        return;
    if (dispi_linear(v)) {
        uint64_t a = ((uint64_t)v->dispi[DISPI_INDEX_BANK] << 16) + w;
        if (a < v->vram_size) {
            v->vram[a] = val;
            tess_mem_log_mark(v->vram_region, a, 1);
        }
        return;
    }
    uint32_t po;
    unsigned planes;
    if (!vga_decode(v, w, true, &po, &planes) || !planes)
        return;
    uint32_t latch;
    memcpy(&latch, v->latch, 4);
    uint8_t gr0 = v->gr[0], gr1 = v->gr[1], gr3 = v->gr[3];
    uint8_t mask = v->gr[8];
    uint32_t data;
    switch (v->gr[5] & GR05_WM) {
    case 0: {
        uint32_t rot = bytes4(ror8(val, gr3));
        uint32_t sr = plane_bytes(gr0);
        uint32_t esr = plane_bytes(gr1);
        data = (rot & ~esr) | (sr & esr);
        break;
    }
    case 1:
        /* The latches are written as they are: no function, no mask. */
        data = latch;
        mask = 0xFF;
        gr3 &= 0x07;
        break;
    case 2:
        data = plane_bytes(val);
        break;
    default:
        mask &= ror8(val, gr3);
        data = plane_bytes(gr0);
        break;
    }
    if ((v->gr[5] & GR05_WM) != 1) {
        switch ((gr3 >> 3) & 3) {
        case 1: data &= latch; break;
        case 2: data |= latch; break;
        case 3: data ^= latch; break;
        default: break;
        }
        uint32_t m = bytes4(mask);
        data = (data & m) | (latch & ~m);
    }
    uint8_t *cell = &v->vram[(uint64_t)po * 4];
    uint32_t old;
    memcpy(&old, cell, 4);
    uint32_t pm = plane_bytes(planes);
    uint32_t nv = (old & ~pm) | (data & pm);
    memcpy(cell, &nv, 4);
    if (nv != old)
        tess_mem_log_mark(v->vram_region, (uint64_t)po * 4, 4);
}

static uint64_t vga_legacy_read(void *opaque, uint64_t off, unsigned size)
{
    Vga *v = opaque;
    uint64_t r = 0;
    if (v->window_mmio && v->model->window_read &&
        v->model->window_read(v, (uint32_t)off, size, &r))
        return r;
    for (unsigned i = 0; i < size; i++)
        r |= (uint64_t)vga_mem_readb(opaque, (uint32_t)(off + i)) << (8 * i);
    return r;
}

static void vga_legacy_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    Vga *v = opaque;
    if (v->window_mmio && v->model->window_write &&
        v->model->window_write(v, (uint32_t)off, size, val))
        return;
    for (unsigned i = 0; i < size; i++)
        vga_mem_writeb(opaque, (uint32_t)(off + i), (uint8_t)(val >> (8 * i)));
}

const TessIoOps vga_legacy_ops = {
    .read = vga_legacy_read,
    .write = vga_legacy_write,
    .widths = TESS_W8 | TESS_W16 | TESS_W32 | TESS_W64,
};

/* ---- the fast path ------------------------------------------------------------ */

void vga_update_mapping(Vga *v)
{
    uint64_t off = 0, addr = 0, size = 0;
    if (!v->legacy || v->window_mmio) {
        /* not realized yet, or a model's registers share the window */
    } else if (v->dispi_on) {
        uint64_t bank = (uint64_t)v->dispi[DISPI_INDEX_BANK] << 16;
        if (dispi_linear(v) && bank + 0x10000 <= v->vram_size) {
            off = bank;
            addr = 0xA0000;
            size = 0x10000;
        }
    } else if ((v->misc & MISC_ERAM) && (v->sr[4] & SR04_CHAIN4) && (v->sr[2] & 0xF) == 0xF &&
               (v->gr[5] & (GR05_WM | GR05_RM)) == 0 && v->gr[3] == 0 &&
               (v->gr[1] & 0xF) == 0 && v->gr[8] == 0xFF) {
        /* In chain-4 the window offset is the video-memory offset. */
        static const uint32_t mm_base[4] = { 0xA0000, 0xA0000, 0xB0000, 0xB8000 };
        static const uint32_t mm_size[4] = { 0x20000, 0x10000, 0x8000, 0x8000 };
        unsigned mm = (v->gr[6] & GR06_MM) >> 2;
        /* A model's bank moves the window; without extended memory it
         * wraps at 256K, which an alias cannot do. */
        uint64_t end = (uint64_t)v->bank + mm_size[mm];
        if (end <= (v->ext_mem ? v->vram_size : MIN(v->vram_size, (uint64_t)VGA_PLANES_SIZE))) {
            off = v->bank;
            addr = mm_base[mm];
            size = mm_size[mm];
        }
    }
    /* The alias is made once per window size and then only pointed
     * elsewhere (a bank switch), moved or switched off: the core and the
     * CPUs then redo just the window, not the whole map. */
    TessMemRegion *a = v->alias;
    if (!size) {
        if (a)
            tess_mem_set_enabled(a, false);
        return;
    }
    if (a && tess_mem_is_enabled(a) && v->alias_off == off && v->alias_addr == addr &&
        v->alias_size == size)
        return;
    g_autoptr(GError) err = NULL;
    bool ok;
    tess_mem_begin(v->dev.machine);
    if (a && v->alias_size != size) {
        tess_mem_region_free(a);
        a = NULL;
    }
    if (!a) {
        a = tess_mem_alias_new(&v->dev, "vga.window", v->vram_region, off, size, &err);
        ok = a && tess_mem_map(a, addr, TESS_PRIO_DEVICE + 1, TESS_MAP_RW, &err);
    } else {
        ok = tess_mem_alias_set_offset(a, off, &err) &&
             (v->alias_addr == addr ||
              tess_mem_map(a, addr, TESS_PRIO_DEVICE + 1, TESS_MAP_RW, &err));
        if (ok)
            tess_mem_set_enabled(a, true);
    }
    if (!ok) {
        tess_mem_region_free(a);
        a = NULL;
        g_debug("%s: no fast path for the window: %s", v->dev.id, err ? err->message : "?");
    }
    v->alias = a;
    v->alias_off = off;
    v->alias_addr = addr;
    v->alias_size = size;
    tess_mem_commit(v->dev.machine);
}
