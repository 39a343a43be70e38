/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IBM VGA: the register file at 3B4/3BA/3C0-3CF/3D4/3DA and the life cycle
 * the models built on the library share.
 *
 * IBM Personal System/2 Hardware Interface Technical Reference, "Video
 * Subsystem": General Registers (Miscellaneous Output, Input Status 0/1,
 * Feature Control), Sequencer, CRT Controller, Graphics Controller,
 * Attribute Controller and Video DAC register descriptions.
 *
 * Memory access lives in vga-mem.c, the Bochs DISPI extension in
 * vga-dispi.c, picture generation and the "display-source" interface in
 * vga-render.c. Registers past the IBM set go to the model's hooks
 * (VgaModel in vga.h).
 */
#define G_LOG_DOMAIN "vga"
#include "vga.h"

#include <string.h>

/* Which registers' writes can change the mapping of the legacy window. */
static void vga_mapping_regs_changed(Vga *v)
{
    vga_update_mapping(v);
}

static bool vga_color(const Vga *v)
{
    return v->misc & MISC_IOAS;
}

/* ---- CRT controller -------------------------------------------------------- */

static void crtc_write(Vga *v, uint8_t val)
{
    unsigned i = v->cr_index;
    if (v->model->cr_write && v->model->cr_write(v, (uint8_t)i, val))
        return;
    if (i >= v->model->n_cr)
        return;
    /* CR11 bit 7 protects CR00-CR07, except CR07 bit 4 (line compare bit 8). */
    if ((v->cr[0x11] & 0x80) && i <= 7) {
        if (i == 7)
            v->cr[7] = (uint8_t)((v->cr[7] & ~0x10) | (val & 0x10));
        return;
    }
    v->cr[i] = val;
}

static uint8_t crtc_read(Vga *v)
{
    unsigned i = v->cr_index;
    uint8_t val;
    if (v->model->cr_read && v->model->cr_read(v, (uint8_t)i, &val))
        return val;
    return i < v->model->n_cr ? v->cr[i] : 0xFF;
}

/* ---- attribute controller -------------------------------------------------- */

static const uint8_t ar_mask[21] = {
    0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F,
    0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F,
    0xEF, 0xFF, 0x3F, 0x0F, 0x0F,
};

static void ar_write(Vga *v, uint8_t val)
{
    if (!v->ar_flip) {
        v->ar_index = val & 0x3F;
    } else {
        unsigned i = v->ar_index & 0x1F;
        if (i < sizeof(v->ar))
            v->ar[i] = val & ar_mask[i];
    }
    v->ar_flip ^= 1;
}

/* ---- Input Status 1 -------------------------------------------------------- */

static uint8_t status1_read(Vga *v)
{
    VgaTiming t;
    vga_timing(v, &t);
    uint64_t pos = tess_clock_ns(v->dev.machine) % t.frame_ns;
    unsigned line = (unsigned)(pos / t.line_ns);
    unsigned hchar = (unsigned)((pos % t.line_ns) * t.htotal / t.line_ns);
    bool vr = t.vrs <= t.vre ? (line >= t.vrs && line < t.vre)
                             : (line >= t.vrs || line < t.vre);
    bool de = line < t.vde && hchar < t.hde;
    uint8_t s = 0;
    if (!de)
        s |= 0x01;                  /* display disabled: blanking interval */
    if (vr)
        s |= 0x08;
    /* Diagnostic bits 5:4 follow two of the colour outputs, selected by
     * AR12 bits 5:4; with the display blanked they read 0. */
    v->ar_flip = 0;
    return s;
}

/* ---- DAC ------------------------------------------------------------------- */

static uint8_t dac_value_mask(const Vga *v)
{
    return ((v->dispi[DISPI_INDEX_ENABLE] & DISPI_8BIT_DAC) || v->dac8) ? 0xFF : 0x3F;
}

static void dac_data_write(Vga *v, uint8_t val)
{
    v->dac_latch[v->dac_sub++] = val & dac_value_mask(v);
    if (v->dac_sub == 3) {
        memcpy(&v->dac[v->dac_write * 3], v->dac_latch, 3);
        v->dac_write++;
        v->dac_sub = 0;
    }
}

static uint8_t dac_data_read(Vga *v)
{
    uint8_t val = v->dac[v->dac_read * 3 + v->dac_sub++];
    if (v->dac_sub == 3) {
        v->dac_read++;
        v->dac_sub = 0;
    }
    return val;
}

/* ---- port dispatch ---------------------------------------------------------- */

/* The ports are mapped as three ranges: 3B4-3BA, 3C0-3CF, 3D4-3DA (the
 * first and last skip 3B6-3B9/3D6-3D9, which are not the VGA's). `opaque`
 * is the Vga; the range base is folded back into the port number. */
static uint64_t vga_port_read(Vga *v, unsigned port)
{
    /* Only the block selected by MISC.IOAS answers. */
    if ((port >= 0x3B0 && port <= 0x3BF && vga_color(v)) ||
        (port >= 0x3D0 && port <= 0x3DF && !vga_color(v)))
        return 0xFF;
    uint8_t val;
    if (v->model->port_read && v->model->port_read(v, port, &val))
        return val;
    switch (port) {
    case 0x3B4: case 0x3D4: return v->cr_index;
    case 0x3B5: case 0x3D5: return crtc_read(v);
    case 0x3BA: case 0x3DA: return status1_read(v);
    case 0x3C0: return (uint8_t)(v->ar_index);
    case 0x3C1: return (v->ar_index & 0x1F) < sizeof(v->ar) ? v->ar[v->ar_index & 0x1F] : 0;
    case 0x3C2: return 0x00;        /* Input Status 0: no CRT interrupt, sense low */
    case 0x3C3: return 0x01;        /* video subsystem enable */
    case 0x3C4: return v->sr_index;
    case 0x3C5:
        if (v->model->sr_read && v->model->sr_read(v, v->sr_index, &val))
            return val;
        return v->sr_index < v->model->n_sr ? v->sr[v->sr_index] : 0xFF;
    case 0x3C6: return v->pel_mask;
    case 0x3C7: return v->dac_state;
    case 0x3C8: return v->dac_write;
    case 0x3C9: return dac_data_read(v);
    case 0x3CA: return v->fcr;
    case 0x3CC: return v->misc;
    case 0x3CE: return v->gr_index;
    case 0x3CF: return v->gr_index < 9 ? v->gr[v->gr_index] : 0xFF;
    default:    return 0xFF;
    }
}

static void vga_port_write(Vga *v, unsigned port, uint8_t val)
{
    v->io_seen = true;              /* the picture may change: frames at full rate */
    if ((port >= 0x3B0 && port <= 0x3BF && vga_color(v)) ||
        (port >= 0x3D0 && port <= 0x3DF && !vga_color(v)))
        return;
    if (v->model->port_write && v->model->port_write(v, port, val))
        return;
    switch (port) {
    case 0x3B4: case 0x3D4: v->cr_index = val; break;
    case 0x3B5: case 0x3D5: crtc_write(v, val); break;
    case 0x3BA: case 0x3DA: v->fcr = val; break;
    case 0x3C0: ar_write(v, val); break;
    case 0x3C2:
        v->misc = val;
        vga_mapping_regs_changed(v);
        break;
    case 0x3C3: break;
    case 0x3C4: v->sr_index = val; break;
    case 0x3C5:
        if (v->model->sr_write && v->model->sr_write(v, v->sr_index, val))
            break;
        if (v->sr_index < 5) {
            static const uint8_t sr_mask[5] = { 0x03, 0x3D, 0x0F, 0x3F, 0x0E };
            v->sr[v->sr_index] = val & sr_mask[v->sr_index];
            if (v->sr_index == 2 || v->sr_index == 4)
                vga_mapping_regs_changed(v);
        }
        /* Past SR04 only a model's hook stores anything (the IBM part
         * reads SR05-SR07 as zeros). */
        break;
    case 0x3C6: v->pel_mask = val; break;
    case 0x3C7: v->dac_read = val; v->dac_sub = 0; v->dac_state = 3; break;
    case 0x3C8: v->dac_write = val; v->dac_sub = 0; v->dac_state = 0; break;
    case 0x3C9: dac_data_write(v, val); break;
    case 0x3CE: v->gr_index = val; break;
    case 0x3CF:
        if (v->gr_index < 9) {
            static const uint8_t gr_mask[9] = { 0x0F, 0x0F, 0x0F, 0x1F, 0x03, 0x7B, 0x0F, 0x0F, 0xFF };
            v->gr[v->gr_index] = val & gr_mask[v->gr_index];
            vga_mapping_regs_changed(v);
        }
        break;
    default:
        break;
    }
}

static uint64_t vga_io_read_b(void *opaque, uint64_t off, unsigned size, unsigned base)
{
    Vga *v = opaque;
    uint64_t r = 0;
    for (unsigned i = 0; i < size; i++)
        r |= vga_port_read(v, base + (unsigned)off + i) << (8 * i);
    return r;
}

static void vga_io_write_b(void *opaque, uint64_t off, uint64_t val, unsigned size, unsigned base)
{
    for (unsigned i = 0; i < size; i++)
        vga_port_write(opaque, base + (unsigned)off + i, (uint8_t)(val >> (8 * i)));
}

#define VGA_IO_RANGE(name, base)                                                  \
    static uint64_t name##_read(void *o, uint64_t off, unsigned size)             \
    { return vga_io_read_b(o, off, size, base); }                                 \
    static void name##_write(void *o, uint64_t off, uint64_t val, unsigned size)  \
    { vga_io_write_b(o, off, val, size, base); }                                  \
    static const TessIoOps name##_ops = { .read = name##_read,                    \
                                          .write = name##_write, .widths = TESS_W8 }
VGA_IO_RANGE(vga_io_3b4, 0x3B4);
VGA_IO_RANGE(vga_io_3ba, 0x3BA);
VGA_IO_RANGE(vga_io_3c0, 0x3C0);
VGA_IO_RANGE(vga_io_3d4, 0x3D4);
VGA_IO_RANGE(vga_io_3da, 0x3DA);

/* ---- lifecycle --------------------------------------------------------------- */

bool vga_core_realize(Vga *v, const VgaModel *model, GError **err)
{
    TessDevice *dev = &v->dev;
    v->model = model;
    if (v->vram_size < VGA_PLANES_SIZE || v->vram_size % 0x10000 || v->vram_size > (1ull << 31)) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "%s: vram must be at least 256K and a multiple of 64K", dev->id);
        return false;
    }
    v->vram_region = tess_mem_ram_new(dev, "vga.vram", v->vram_size, err);
    if (!v->vram_region)
        return false;
    v->vram = tess_mem_region_host(v->vram_region);
    v->vram_bytes = (uint32_t)v->vram_size;
    v->legacy = tess_mem_mmio_new(dev, "vga.legacy", 0x20000, &vga_legacy_ops, v);
    if (!tess_mem_map(v->legacy, 0xA0000, TESS_PRIO_DEVICE, TESS_MAP_RW, err))
        return false;
    if (!tess_pio_map(dev, 0x3B4, 2, &vga_io_3b4_ops, v, err) ||
        !tess_pio_map(dev, 0x3BA, 1, &vga_io_3ba_ops, v, err) ||
        !tess_pio_map(dev, 0x3C0, 16, &vga_io_3c0_ops, v, err) ||
        !tess_pio_map(dev, 0x3D4, 2, &vga_io_3d4_ops, v, err) ||
        !tess_pio_map(dev, 0x3DA, 1, &vga_io_3da_ops, v, err))
        return false;
    v->listeners = g_array_new(FALSE, FALSE, sizeof(VgaListener));
    v->frame_timer = tess_timer_new(dev, vga_frame_timer_cb, v);
    return true;
}

void vga_core_reset(Vga *v)
{
    /* Power-on: everything cleared, the sequencer held in reset, the
     * attribute controller with PAS clear: the screen is blank until a
     * BIOS programs a mode. */
    v->misc = 0;
    v->fcr = 0;
    v->sr_index = v->gr_index = v->cr_index = v->ar_index = 0;
    memset(v->sr, 0, sizeof(v->sr));
    memset(v->gr, 0, sizeof(v->gr));
    memset(v->cr, 0, sizeof(v->cr));
    memset(v->ar, 0, sizeof(v->ar));
    v->gr[8] = 0xFF;
    v->sr[2] = 0x0F;
    v->ar_flip = 0;
    v->dac_state = 0;
    v->dac_read = v->dac_write = v->dac_sub = 0;
    v->pel_mask = 0xFF;
    memset(v->dac, 0, sizeof(v->dac));
    memset(v->latch, 0, sizeof(v->latch));
    v->bank = 0;
    v->ext_mem = false;
    v->dac8 = false;
    vga_dispi_reset(v);
    vga_update_mapping(v);
}

void vga_core_unrealize(Vga *v)
{
    vga_render_free(v);
    if (v->listeners)
        g_array_free(v->listeners, TRUE);
    v->listeners = NULL;
}

void vga_core_post_load(Vga *v)
{
    v->dac_sub %= 3;
    v->ar_index &= 0x3F;
    vga_dispi_recompute(v);
    vga_update_mapping(v);
}
