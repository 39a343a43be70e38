/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Bochs VBE "DISPI" interface: index port 0x1CE, data port 0x1CF (and
 * 0x1D0, so a 32-bit access at 0x1CE writes index and data at once).
 *
 * Register set and behaviour as Bochs' iodev/display/vga.h (vbe.h)
 * documents them and the free VGA BIOSes (LGPL vgabios, SeaVGABIOS
 * "stdvga"/"isavga" builds) use them: ID 0xB0C0-0xB0C5, XRES, YRES, BPP
 * (4, 8, 15, 16, 24, 32), ENABLE (ENABLED, GETCAPS, 8BIT_DAC, LFB_ENABLED,
 * NOCLEARMEM), BANK (64K granularity), VIRT_WIDTH/VIRT_HEIGHT, X/Y_OFFSET,
 * VIDEO_MEMORY_64K. The framebuffer is always visible at the `lfb`
 * address; LFB_ENABLED is remembered only for reading back.
 */
#define G_LOG_DOMAIN "vga"
#include "vga.h"

#include <string.h>

unsigned vga_dispi_bytespp(unsigned bpp)
{
    switch (bpp) {
    case 8: return 1;
    case 15: case 16: return 2;
    case 24: return 3;
    case 32: return 4;
    default: return 0;
    }
}

uint64_t vga_dispi_line_bytes(const Vga *v)
{
    unsigned bpp = v->dispi[DISPI_INDEX_BPP];
    uint64_t vw = v->dispi[DISPI_INDEX_VIRT_WIDTH];
    if (bpp == 4)
        return vw / 8;              /* per plane */
    return vw * vga_dispi_bytespp(bpp);
}

static bool bpp_valid(unsigned bpp)
{
    return bpp == 4 || vga_dispi_bytespp(bpp) != 0;
}

/* Memory a mode needs; 4-bit modes need it in each of four planes. */
static uint64_t mode_bytes(const Vga *v)
{
    uint64_t x = v->dispi[DISPI_INDEX_XRES], y = v->dispi[DISPI_INDEX_YRES];
    unsigned bpp = v->dispi[DISPI_INDEX_BPP];
    return bpp == 4 ? x * y / 2 : x * y * vga_dispi_bytespp(bpp);
}

static void dispi_fix_virtual(Vga *v)
{
    uint64_t lb = vga_dispi_line_bytes(v);
    uint64_t space = v->dispi[DISPI_INDEX_BPP] == 4 ? v->vram_size / 4 : v->vram_size;
    uint64_t vh = lb ? space / lb : 0;
    v->dispi[DISPI_INDEX_VIRT_HEIGHT] = (uint16_t)MIN(vh, 0xFFFF);
}

void vga_dispi_recompute(Vga *v)
{
    uint16_t *r = v->dispi;
    v->dispi_on = (r[DISPI_INDEX_ENABLE] & DISPI_ENABLED) &&
                  bpp_valid(r[DISPI_INDEX_BPP]) &&
                  r[DISPI_INDEX_XRES] && r[DISPI_INDEX_YRES] &&
                  r[DISPI_INDEX_XRES] <= DISPI_MAX_XRES && r[DISPI_INDEX_YRES] <= DISPI_MAX_YRES &&
                  mode_bytes(v) <= v->vram_size;
    if ((uint64_t)r[DISPI_INDEX_BANK] << 16 >= v->vram_size)
        r[DISPI_INDEX_BANK] = 0;
}

void vga_dispi_reset(Vga *v)
{
    memset(v->dispi, 0, sizeof(v->dispi));
    v->dispi[DISPI_INDEX_ID] = DISPI_ID5;
    v->dispi[DISPI_INDEX_BPP] = 8;
    v->dispi[DISPI_INDEX_VIDEO_MEMORY_64K] = (uint16_t)MIN(v->vram_size >> 16, 0xFFFF);
    v->dispi_index = 0;
    v->dispi_getcaps = 0;
    v->dispi_on = false;
}

static void dispi_enable(Vga *v, uint16_t val)
{
    uint16_t *r = v->dispi;
    bool was = r[DISPI_INDEX_ENABLE] & DISPI_ENABLED;
    v->dispi_getcaps = (val & DISPI_GETCAPS) != 0;
    if ((val & DISPI_ENABLED) && !was) {
        if (!bpp_valid(r[DISPI_INDEX_BPP]) || !r[DISPI_INDEX_XRES] || !r[DISPI_INDEX_YRES] ||
            mode_bytes(v) > v->vram_size) {
            vga_err(v, "DISPI: mode %ux%ux%u does not fit %" G_GUINT64_FORMAT "K of video memory",
                    r[DISPI_INDEX_XRES], r[DISPI_INDEX_YRES], r[DISPI_INDEX_BPP],
                    v->vram_size >> 10);
            val &= (uint16_t)~DISPI_ENABLED;
        } else {
            r[DISPI_INDEX_VIRT_WIDTH] = r[DISPI_INDEX_XRES];
            r[DISPI_INDEX_X_OFFSET] = 0;
            r[DISPI_INDEX_Y_OFFSET] = 0;
            r[DISPI_INDEX_BANK] = 0;
            dispi_fix_virtual(v);
            if (!(val & DISPI_NOCLEARMEM)) {
                uint64_t n = MIN(vga_dispi_line_bytes(v) * r[DISPI_INDEX_YRES] *
                                     (r[DISPI_INDEX_BPP] == 4 ? 4 : 1), v->vram_size);
                memset(v->vram, 0, n);
                tess_mem_log_mark(v->vram_region, 0, n);
            }
            /* As Bochs does, leave the VGA in a graphics mode with the 64K
             * window at A0000, so VGA-register readers agree. */
            v->gr[6] = (uint8_t)((v->gr[6] & ~GR06_MM) | GR06_GM | 0x04);
        }
    }
    r[DISPI_INDEX_ENABLE] = val & (DISPI_ENABLED | DISPI_8BIT_DAC | DISPI_LFB_ENABLED |
                                   DISPI_NOCLEARMEM);
}

static void dispi_write(Vga *v, uint16_t val)
{
    uint16_t *r = v->dispi;
    unsigned i = v->dispi_index;
    bool on = r[DISPI_INDEX_ENABLE] & DISPI_ENABLED;
    switch (i) {
    case DISPI_INDEX_ID:
        if (val >= DISPI_ID0 && val <= DISPI_ID5)
            r[i] = val;
        break;
    case DISPI_INDEX_XRES:
    case DISPI_INDEX_YRES:
    case DISPI_INDEX_BPP: {
        static const unsigned max[] = { 0, DISPI_MAX_XRES, DISPI_MAX_YRES, DISPI_MAX_BPP };
        if (i == DISPI_INDEX_BPP && !bpp_valid(val ? val : 8)) {
            vga_err(v, "DISPI: %u bits per pixel unsupported, using 8", val);
            val = 8;
        }
        if (i == DISPI_INDEX_BPP && val == 0)
            val = 8;
        if (val > max[i]) {
            vga_err(v, "DISPI: register %u value %u over the maximum %u", i, val, max[i]);
            break;
        }
        r[i] = val;
        if (on) {
            /* A change while enabled keeps the line length sane. */
            if (r[DISPI_INDEX_VIRT_WIDTH] < r[DISPI_INDEX_XRES])
                r[DISPI_INDEX_VIRT_WIDTH] = r[DISPI_INDEX_XRES];
            dispi_fix_virtual(v);
        }
        break;
    }
    case DISPI_INDEX_ENABLE:
        dispi_enable(v, val);
        break;
    case DISPI_INDEX_BANK:
        if (((uint64_t)val << 16) < v->vram_size)
            r[i] = val;
        else
            vga_err(v, "DISPI: bank %u past video memory", val);
        break;
    case DISPI_INDEX_VIRT_WIDTH:
        r[i] = MAX(val, r[DISPI_INDEX_XRES]);
        dispi_fix_virtual(v);
        break;
    case DISPI_INDEX_X_OFFSET:
    case DISPI_INDEX_Y_OFFSET:
        r[i] = val;
        break;
    default:
        /* VIRT_HEIGHT and VIDEO_MEMORY_64K are computed, others absent. */
        break;
    }
    vga_dispi_recompute(v);
    vga_update_mapping(v);
}

static uint16_t dispi_read(Vga *v)
{
    unsigned i = v->dispi_index;
    if (i >= DISPI_NUM_REGS)
        return 0;
    if (v->dispi_getcaps) {
        switch (i) {
        case DISPI_INDEX_XRES: return DISPI_MAX_XRES;
        case DISPI_INDEX_YRES: return DISPI_MAX_YRES;
        case DISPI_INDEX_BPP: return DISPI_MAX_BPP;
        default: break;
        }
    }
    if (i == DISPI_INDEX_ENABLE)
        return v->dispi[i] | (v->dispi_getcaps ? DISPI_GETCAPS : 0);
    return v->dispi[i];
}

/* offset 0: index (0x1CE); 1 or 2: data (0x1CF, 0x1D0). 8-bit accesses
 * act on the whole register, zero-extended. */
static uint64_t vga_dispi_io_read(void *opaque, uint64_t off, unsigned size)
{
    Vga *v = opaque;
    return off == 0 ? v->dispi_index : dispi_read(v);
}

static void vga_dispi_io_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    Vga *v = opaque;
    if (off == 0)
        v->dispi_index = (uint16_t)val;
    else
        dispi_write(v, (uint16_t)val);
}

const TessIoOps vga_dispi_ops = {
    .read = vga_dispi_io_read,
    .write = vga_dispi_io_write,
    .widths = TESS_W8 | TESS_W16,
};
