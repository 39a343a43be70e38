/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The IBM VGA with the Bochs "DISPI" VBE extension: the class, its
 * properties and state, on libtessvga (plugins/lib/vga/).
 *
 * The VGA BIOS: Debian's seabios package ships SeaVGABIOS builds for this
 * register set. /usr/share/seabios/vgabios-stdvga.bin (and the ISA-only
 * vgabios-isavga.bin) program standard modes through the VGA registers and
 * VBE modes through DISPI; without a PCI function 1234:1111 they put the
 * linear framebuffer at DISPI's fixed 0xE0000000, the `lfb` default. Hand
 * it to SeaBIOS through fw-cfg's `vgarom` property. vgabios-cirrus,
 * -vmware, -qxl and -virtio need other hardware.
 */
#define G_LOG_DOMAIN "vga"
#include "vga.h"

/* The IBM register set: SR00-SR04 (SR05-07 read as stored zeros, as
 * before the library), CR00-CR18 (and 19-1F as plain storage). */
static const VgaModel vga_ibm_model = {
    .n_sr = 8,
    .n_cr = 32,
};

static bool vga_realize(TessDevice *dev, GError **err)
{
    Vga *v = (Vga *)dev;
    if (v->lfb_addr % TESS_PAGE_SIZE) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "%s: lfb address 0x%" G_GINT64_MODIFIER "x is not page aligned",
                    dev->id, v->lfb_addr);
        return false;
    }
    if (!vga_core_realize(v, &vga_ibm_model, err))
        return false;
    /* A failure from here gives back what vga_core_realize took (the core
     * calls unrealize only for a device that realized). */
    if ((v->lfb_addr &&
         !tess_mem_map(v->vram_region, v->lfb_addr, TESS_PRIO_DEVICE, TESS_MAP_RW, err)) ||
        !tess_pio_map(dev, 0x1CE, 3, &vga_dispi_ops, v, err)) {
        vga_core_unrealize(v);
        return false;
    }
    return true;
}

static void vga_reset(TessDevice *dev)
{
    vga_core_reset((Vga *)dev);
}

static void vga_unrealize(TessDevice *dev)
{
    vga_core_unrealize((Vga *)dev);
}

static bool vga_post_load(TessDevice *dev, uint32_t version, GError **err)
{
    vga_core_post_load((Vga *)dev);
    return true;
}

static const TessPropSpec vga_props[] = {
    TESS_PROP_SIZE_("vram", Vga, vram_size, "16M", 256 * 1024, 256ull << 20,
                    "video memory (VGA planes use the first 256K; VBE modes the rest)"),
    TESS_PROP_UINT_("lfb", Vga, lfb_addr, "0xE0000000", 0, (1ull << TESS_PHYS_BITS) - 1,
                    "physical address of the linear framebuffer (0: none)"),
    TESS_PROP_END,
};

static const TessIfaceSpec vga_ifaces[] = {
    { TESS_IFACE_DISPLAY_SOURCE, &vga_display_ops },
    TESS_IFACE_END,
};

/* The register files are the library's larger arrays; the IBM part saves
 * what it has (SR00-07, CR00-1F), as version 1 always did. */
static const TessStateField vga_state_fields[] = {
    TESS_STATE_U8(Vga, misc),
    TESS_STATE_U8(Vga, fcr),
    TESS_STATE_U8(Vga, sr_index),
    { .name = "sr", .type = TESS_STATE_T_BUF, .offset = offsetof(Vga, sr), .size = 8 },
    TESS_STATE_U8(Vga, gr_index),
    TESS_STATE_BUF(Vga, gr),
    TESS_STATE_U8(Vga, cr_index),
    { .name = "cr", .type = TESS_STATE_T_BUF, .offset = offsetof(Vga, cr), .size = 32 },
    TESS_STATE_U8(Vga, ar_index),
    TESS_STATE_BUF(Vga, ar),
    TESS_STATE_U8(Vga, ar_flip),
    TESS_STATE_U8(Vga, dac_state),
    TESS_STATE_U8(Vga, dac_read),
    TESS_STATE_U8(Vga, dac_write),
    TESS_STATE_U8(Vga, dac_sub),
    TESS_STATE_BUF(Vga, dac_latch),
    TESS_STATE_U8(Vga, pel_mask),
    TESS_STATE_BUF(Vga, dac),
    TESS_STATE_BUF(Vga, latch),
    TESS_STATE_U16(Vga, dispi_index),
    TESS_STATE_ARRAY(TESS_STATE_T_U16, Vga, dispi, DISPI_NUM_REGS),
    TESS_STATE_U8(Vga, dispi_getcaps),
    /* all of it: the four planes and the VBE framebuffer past them */
    TESS_STATE_VARBUF(Vga, vram, vram_bytes),
    TESS_STATE_END,
};

static const TessStateDesc vga_state = {
    .version = 1,
    .fields = vga_state_fields,
    .post_load = vga_post_load,
};

static const TessDeviceClass vga_class = {
    .type = "vga",
    .kind = TESS_CLASS_DEVICE,
    .doc = "IBM VGA with Bochs DISPI (VBE) linear framebuffer",
    .instance_size = sizeof(Vga),
    .props = vga_props,
    .provides = vga_ifaces,
    .state = &vga_state,
    .realize = vga_realize,
    .reset = vga_reset,
    .unrealize = vga_unrealize,
};

static bool vga_plugin_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &vga_class, err);
}

TESS_PLUGIN_DEFINE("vga", "1.0", "LGPL-2.1-or-later",
                   "IBM VGA and Bochs VBE display adapter", vga_plugin_init);
