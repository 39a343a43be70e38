/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * S3 Trio64 (86C764, PCI 5333:8811) and Trio32 (86C732, 5333:8810): the
 * PCI function, the extended sequencer and CRTC registers, banking and the
 * linear framebuffer, the DCLK/MCLK PLLs, packed pixel formats and the
 * 64x64 hardware cursor. The standard VGA underneath is libtessvga; the
 * graphics engine is s3-accel.c.
 *
 * S3 Trio32/Trio64 data book: "Extended Sequencer Registers" (SR08
 * unlock, SR10-SR13 PLL parameters, SR15 load), "S3 VGA Registers"
 * (CR2D-CR3F behind CR38 = 48h: chip ID, memory configuration, CR31
 * memory configuration, CR35 bank) and "System Control / System Extension
 * Registers" (CR40 and up behind CR39 = A5h: CR45-CR4F hardware cursor,
 * CR50 engine pixel length, CR51 bank and address extensions, CR53 MMIO,
 * CR58-CR5A linear window, CR5D/CR5E overflows, CR67 pixel format, CR69
 * start address, CR6A bank). Linux's s3fb is the reference driver these
 * registers are checked against (shared/reference/hardware.md §3).
 *
 * What is simplified: the linear framebuffer answers at BAR0 whenever the
 * PCI memory decode is on (the chip also needs CR58 bit 4); planar
 * 16-colour modes stay inside 64K per plane (no CR31/CR51 start address
 * extension for them); the RAMDAC's 8-bit mode is not modelled (the
 * Trio's DAC is 6 bits per colour).
 */
#define G_LOG_DOMAIN "s3-trio64"
#include "s3-trio64.h"

/* Tessera's own VGA BIOS (firmware/vgabios), one build per device id. */
#define S3_ROM_DEFAULT "tessera-vgabios-s3.bin"
#define S3_ROM_TRIO32  "tessera-vgabios-trio32.bin"

#include <string.h>

#define REF_KHZ 14318u          /* reference crystal, 14.31818 MHz */

static bool s3_sr_unlocked(const S3 *s)
{
    return s->vga.sr[0x08] == 0x06;
}

/* CR2D-CR3F need CR38 = 48h; CR40 and up need CR39 = A5h (the data book
 * also accepts any value of the form 101xxxxx for CR39). */
static bool s3_cr_unlocked(const S3 *s, unsigned idx)
{
    if (idx >= 0x2D && idx <= 0x3F)
        return s->vga.cr[0x38] == 0x48;
    return (s->vga.cr[0x39] & 0xE0) == 0xA0;
}

static bool s3_is_trio32(const S3 *s)
{
    return s->chip == S3_CHIP_TRIO32;
}

/* CR67 bits 7:4, the pixel format of the display (data book "Extended
 * Miscellaneous Control 2"): 0 8-bit (one VCLK per pixel), 1 8-bit (two
 * pixels per VCLK), 3 15-bit and 5 16-bit (two VCLKs per pixel), 7 24-bit
 * packed (three VCLKs per pixel), D 32-bit. */
static bool s3_pixel_format(const S3 *s, unsigned *bpp, unsigned *hmul)
{
    switch (s->vga.cr[0x67] >> 4) {
    case 0x0: case 0x1: *bpp = 8; *hmul = 1; return true;
    case 0x3: *bpp = 15; *hmul = 2; return true;
    case 0x5: *bpp = 16; *hmul = 2; return true;
    case 0x7: *bpp = 24; *hmul = 3; return true;
    case 0xD: *bpp = 32; *hmul = 1; return true;
    default: return false;
    }
}

/* Packed pixels: CR3A bit 4 (enhanced 256-colour mode) or a CR67 pixel
 * format past 8 bits. Everything else is the standard VGA's. */
static bool s3_packed_mode(const S3 *s)
{
    return (s->vga.cr[0x3A] & 0x10) || (s->vga.cr[0x67] >> 4) > 1;
}

/* ---- banking and the CPU window --------------------------------------------- */

/* The 64K bank: CR6A when it is non-zero, else CR35 bits 3:0 with CR51
 * bits 3:2 above them; counted only with CR31 bit 0 (enable base address
 * offset). */
static void s3_update_window(S3 *s)
{
    Vga *v = &s->vga;
    const uint8_t *cr = v->cr;
    uint32_t bank = 0;
    if (cr[0x6A] & 0x7F)
        bank = cr[0x6A] & 0x7F;
    else if (cr[0x31] & 0x01)
        bank = (cr[0x35] & 0x0F) | ((cr[0x51] >> 2) & 3u) << 4;
    bank <<= 16;
    if (bank >= v->vram_size)
        bank %= (uint32_t)v->vram_size;
    v->bank = bank;
    v->ext_mem = (cr[0x31] & 0x08) != 0;
    v->window_mmio = (cr[0x53] & 0x10) != 0;
    vga_update_mapping(v);
}

/* New MMIO (Trio64V+ style): 64K at BAR0 + 16 MiB while CR53 bit 3 and
 * PCI memory decoding are on. */
static void s3_update_new_mmio(S3 *s)
{
    uint64_t at = 0;
    if (s->fn && (s->vga.cr[0x53] & 0x08)) {
        const uint8_t *c = s->pci->config(s->fn);
        uint32_t bar = (uint32_t)(c[0x10] | c[0x11] << 8 | c[0x12] << 16 | (uint32_t)c[0x13] << 24);
        bar &= ~(S3_BAR0_SIZE - 1);
        if ((c[0x04] & 0x02) && bar)
            at = (uint64_t)bar + S3_NEW_MMIO_OFF;
    }
    if (at == s->new_mmio_at)
        return;
    tess_mem_begin(s->vga.dev.machine);
    if (s->new_mmio_at)
        tess_mem_unmap(s->new_mmio);
    s->new_mmio_at = 0;
    if (at) {
        g_autoptr(GError) err = NULL;
        if (tess_mem_map(s->new_mmio, at, TESS_PRIO_DEVICE + 1, TESS_MAP_RW, &err))
            s->new_mmio_at = at;
        else
            s3_err(s, "new MMIO at 0x%" G_GINT64_MODIFIER "x: %s", at, err->message);
    }
    tess_mem_commit(s->vga.dev.machine);
}

/* ---- extended registers ------------------------------------------------------ */

static uint8_t s3_cr36(const S3 *s)
{
    /* Bits 7:5 memory size (0 4M, 4 2M, 6 1M); bits 3:2 fast page mode
     * DRAM, bits 1:0 PCI bus (power-on straps). */
    uint64_t mb = s->vga.vram_size >> 20;
    uint8_t sz = mb >= 4 ? 0 : mb >= 2 ? 4 : 6;
    return (uint8_t)(sz << 5 | 0x0E);
}

static void s3_pll_load(S3 *s, bool dclk, bool mclk)
{
    if (dclk) {
        s->dclk_n = s->vga.sr[0x12];
        s->dclk_m = s->vga.sr[0x13];
    }
    if (mclk) {
        s->mclk_n = s->vga.sr[0x10];
        s->mclk_m = s->vga.sr[0x11];
    }
}

static bool s3_sr_write(Vga *v, uint8_t idx, uint8_t val)
{
    S3 *s = (S3 *)v;
    if (idx < 0x08)
        return false;               /* the VGA's (SR05-07 absent) */
    if (idx == 0x08) {
        v->sr[8] = val;
        return true;
    }
    if (idx >= VGA_SR_MAX || !s3_sr_unlocked(s))
        return true;
    uint8_t old = v->sr[idx];
    v->sr[idx] = val;
    if (idx == 0x15) {
        /* SR15: bit 5 loads both PLLs on its rising edge, bit 1 the DCLK
         * and bit 0 the MCLK. */
        uint8_t rise = (uint8_t)(val & ~old);
        s3_pll_load(s, rise & 0x22, rise & 0x21);
    }
    return true;
}

static bool s3_sr_read(Vga *v, uint8_t idx, uint8_t *val)
{
    if (idx < 0x08)
        return false;
    *val = idx < VGA_SR_MAX ? v->sr[idx] : 0xFF;
    return true;
}

/* Read-only CRTC registers: the chip ID and the straps. */
static bool s3_cr_fixed(const S3 *s, unsigned idx, uint8_t *val)
{
    switch (idx) {
    case 0x2D: *val = 0x88; return true;
    case 0x2E: *val = s3_is_trio32(s) ? 0x10 : 0x11; return true;
    case 0x2F: *val = 0x00; return true;           /* revision; bit 6 clear: not a V+ */
    case 0x30: *val = s3_is_trio32(s) ? 0xE0 : 0xE1; return true;
    case 0x36: *val = s3_cr36(s); return true;
    default: return false;
    }
}

static bool s3_cr_write(Vga *v, uint8_t idx, uint8_t val)
{
    S3 *s = (S3 *)v;
    if (idx < 0x19)
        return false;
    if (idx >= VGA_CR_MAX)
        return true;
    if (idx == 0x38 || idx == 0x39) {
        v->cr[idx] = val;
        return true;
    }
    uint8_t dummy;
    if (idx >= 0x2D && (!s3_cr_unlocked(s, idx) || s3_cr_fixed(s, idx, &dummy)))
        return true;
    v->cr[idx] = val;
    switch (idx) {
    case 0x31: case 0x35: case 0x51: case 0x6A:
        s3_update_window(s);
        break;
    case 0x53:
        s3_update_window(s);
        s3_update_new_mmio(s);
        break;
    case 0x4A:
        s->cur_fg[s->cur_fg_i] = val;
        s->cur_fg_i = (s->cur_fg_i + 1) & 3;
        break;
    case 0x4B:
        s->cur_bg[s->cur_bg_i] = val;
        s->cur_bg_i = (s->cur_bg_i + 1) & 3;
        break;
    default:
        break;
    }
    return true;
}

static bool s3_cr_read(Vga *v, uint8_t idx, uint8_t *val)
{
    S3 *s = (S3 *)v;
    if (idx < 0x19)
        return false;
    if (idx >= VGA_CR_MAX) {
        *val = 0xFF;
        return true;
    }
    if (s3_cr_fixed(s, idx, val))
        return true;
    switch (idx) {
    case 0x45:
        /* Reading the cursor mode register resets both colour stacks. */
        s->cur_fg_i = s->cur_bg_i = 0;
        break;
    case 0x4A:
        *val = s->cur_fg[s->cur_fg_i];
        s->cur_fg_i = (s->cur_fg_i + 1) & 3;
        return true;
    case 0x4B:
        *val = s->cur_bg[s->cur_bg_i];
        s->cur_bg_i = (s->cur_bg_i + 1) & 3;
        return true;
    default:
        break;
    }
    *val = v->cr[idx];
    return true;
}

/* ---- CRTC extensions and the picture ------------------------------------------ */

static uint64_t s3_pll_hz(uint8_t nr, uint8_t m)
{
    /* f = 14.318 MHz * (M + 2) / ((N + 2) * 2^R); SR12/SR10: bits 4:0
     * N - 2, bits 6:5 R; SR13/SR11: bits 6:0 M - 2. */
    uint64_t n = (nr & 0x1F) + 2u, r = (nr >> 5) & 3u, mm = (m & 0x7F) + 2u;
    return (uint64_t)REF_KHZ * 1000u * mm / (n << r);
}

static void s3_crtc_ext(const Vga *v, VgaCrtcExt *e)
{
    const S3 *s = (const S3 *)v;
    const uint8_t *cr = v->cr;
    e->htotal_hi = (cr[0x5D] & 0x01) << 8;
    e->hde_hi = (cr[0x5D] & 0x02) << 7;
    e->vtotal_hi = (cr[0x5E] & 0x01) << 10;
    e->vde_hi = (cr[0x5E] & 0x02) << 9;
    e->vrs_hi = (cr[0x5E] & 0x10) << 6;
    /* MISC clock select 3 picks the programmable DCLK. */
    if (((v->misc & MISC_CS) >> 2) == 3)
        e->dotclk = s3_pll_hz(s->dclk_n, s->dclk_m);
    unsigned bpp, hmul;
    if (s3_packed_mode(s) && s3_pixel_format(s, &bpp, &hmul))
        e->hmul = hmul;
}

static bool s3_packed(const Vga *v, VgaPacked *p)
{
    const S3 *s = (const S3 *)v;
    const uint8_t *cr = v->cr;
    unsigned bpp, hmul;
    if (!s3_packed_mode(s) || !s3_pixel_format(s, &bpp, &hmul))
        return false;
    unsigned hde = (cr[1] | (cr[0x5D] & 0x02) << 7) + 1u;
    unsigned vde = (cr[0x12] | (cr[7] & 0x02) << 7 | (cr[7] & 0x40) << 3 |
                    (cr[0x5E] & 0x02) << 9) + 1u;
    /* Start address: CR0C/CR0D with CR69 bits 4:0 above them, or, while
     * CR69 is zero, CR31 bits 5:4 and CR51 bits 1:0 (older drivers). In
     * doublewords. */
    uint32_t start = (uint32_t)cr[0x0C] << 8 | cr[0x0D];
    if (cr[0x69] & 0x1F)
        start |= (uint32_t)(cr[0x69] & 0x1F) << 16;
    else
        start |= (uint32_t)((cr[0x31] >> 4) & 3) << 16 | (uint32_t)(cr[0x51] & 3) << 18;
    /* Offset: CR13 with CR51 bits 5:4 (or CR43 bit 2) as bits 9:8, in
     * units of 8 bytes. */
    unsigned off = cr[0x13];
    if (cr[0x51] & 0x30)
        off |= (cr[0x51] & 0x30u) << 4;
    else if (cr[0x43] & 0x04)
        off |= 0x100;
    p->bpp = bpp;
    p->width = hde * 8 / hmul;
    p->height = vde;
    if (cr[9] & 0x80)
        p->height /= 2;             /* double scan */
    p->start = (uint64_t)start * 4;
    p->pitch = (uint64_t)off * 8;
    return true;
}

/* ---- the hardware cursor ------------------------------------------------------- */

static uint32_t s3_cursor_color(const S3 *s, const uint8_t *stack, unsigned bpp, const uint32_t *dac)
{
    switch (bpp) {
    case 8:
        return dac[stack[0]];
    case 15: {
        unsigned p = stack[0] | stack[1] << 8;
        unsigned r = (p >> 10) & 31, g = (p >> 5) & 31, b = p & 31;
        return (r << 3 | r >> 2) << 16 | (g << 3 | g >> 2) << 8 | (b << 3 | b >> 2);
    }
    case 16: {
        unsigned p = stack[0] | stack[1] << 8;
        unsigned r = (p >> 11) & 31, g = (p >> 5) & 63, b = p & 31;
        return (r << 3 | r >> 2) << 16 | (g << 2 | g >> 4) << 8 | (b << 3 | b >> 2);
    }
    default:
        return (uint32_t)stack[2] << 16 | (uint32_t)stack[1] << 8 | stack[0];
    }
}

/* CR45 bit 0 enables the 64x64 cursor; its image is 1 KiB at CR4C/CR4D
 * (1K units). Each 16 pixels of a row are two bytes of AND mask then two
 * bytes of XOR mask, most significant bit first. Windows mode: AND 0
 * draws the colour (XOR 1 foreground, 0 background), AND 1 leaves the
 * screen (XOR 1 inverts it). X11 mode (CR55 bit 4): AND 0 is
 * transparent, AND 1 draws foreground (XOR 1) or background. CR46-CR49
 * place the image's top-left, CR4E/CR4F skip that many of its columns
 * and rows. */
static bool s3_get_cursor(TessDevice *dev, TessDisplayCursor *out)
{
    S3 *s = (S3 *)dev;
    Vga *v = &s->vga;
    const uint8_t *cr = v->cr;
    TessDisplayCursor cur;
    memset(&cur, 0, sizeof(cur));
    TessDisplayMode m;
    vga_get_mode(dev, &m);
    bool on = (cr[0x45] & 0x01) && m.kind == TESS_DISPLAY_GRAPHICS;
    unsigned bpp = 8, hmul = 1;
    if (on && s3_packed_mode(s))
        s3_pixel_format(s, &bpp, &hmul);
    if (on) {
        uint64_t addr = (uint64_t)(((cr[0x4C] & 0x0F) << 8) | cr[0x4D]) * 1024;
        if (addr + 1024 > v->vram_size)
            addr = (v->vram_size - 1024) & ~1023ull;
        const uint8_t *img = v->vram + addr;
        uint32_t dac[256];
        for (unsigned i = 0; i < 256; i++) {
            const uint8_t *c = &v->dac[(i & v->pel_mask) * 3];
            uint32_t r = c[0] & 0x3F, g = c[1] & 0x3F, b = c[2] & 0x3F;
            dac[i] = (r << 2 | r >> 4) << 16 | (g << 2 | g >> 4) << 8 | (b << 2 | b >> 4);
        }
        uint32_t fg = s3_cursor_color(s, s->cur_fg, bpp, dac);
        uint32_t bg = s3_cursor_color(s, s->cur_bg, bpp, dac);
        bool x11 = cr[0x55] & 0x10;
        unsigned xoff = cr[0x4E] & 63, yoff = cr[0x4F] & 63;
        cur.visible = true;
        cur.width = cur.height = 64;
        cur.x = (int)((((cr[0x46] & 7u) << 8 | cr[0x47]) / hmul));
        cur.y = (int)(((cr[0x48] & 7u) << 8) | cr[0x49]);
        for (unsigned y = 0; y + yoff < 64; y++) {
            for (unsigned x = 0; x + xoff < 64; x++) {
                unsigned px = x + xoff, py = y + yoff;
                const uint8_t *grp = img + py * 16 + (px / 16) * 4;
                unsigned bit = 15 - (px & 15);
                unsigned and_ = ((grp[0] << 8 | grp[1]) >> bit) & 1;
                unsigned xor_ = ((grp[2] << 8 | grp[3]) >> bit) & 1;
                uint32_t p;
                if (x11)
                    p = !and_ ? 0 : (TESS_DISPLAY_CURSOR_OPAQUE << 24) | (xor_ ? fg : bg);
                else if (!and_)
                    p = (TESS_DISPLAY_CURSOR_OPAQUE << 24) | (xor_ ? fg : bg);
                else
                    p = xor_ ? (TESS_DISPLAY_CURSOR_XOR << 24) | 0xFFFFFF : 0;
                cur.pixels[y * TESS_DISPLAY_CURSOR_MAX + x] = p;
            }
        }
        /* Generation: moves when the image or colours change. */
        uint8_t key[sizeof(s->cursor_key)];
        memcpy(key, img, 1024);
        memcpy(key + 1024, &fg, 4);
        memcpy(key + 1028, &bg, 4);
        key[1024] ^= (uint8_t)(xoff << 2 | x11);
        key[1028] ^= (uint8_t)yoff;
        if (memcmp(key, s->cursor_key, sizeof(key))) {
            memcpy(s->cursor_key, key, sizeof(key));
            s->cursor_gen++;
        }
    }
    cur.generation = s->cursor_gen;
    size_t n = out->struct_size && out->struct_size < sizeof(cur) ? out->struct_size : sizeof(cur);
    uint32_t sz = out->struct_size;
    memcpy(out, &cur, n);
    out->struct_size = sz;
    return cur.visible;
}

static const TessDisplaySourceOps s3_display_ops = {
    .get_mode = vga_get_mode,
    .get_text = vga_get_text,
    .view_new = vga_view_new,
    .view_free = vga_view_free,
    .render = vga_render,
    .add_listener = vga_add_listener,
    .remove_listener = vga_remove_listener,
    .get_cursor = s3_get_cursor,
};

/* ---- legacy MMIO in the A0000 window (CR53 bit 4) ------------------------------ */

/* The window takes the VGA's widths, up to 64 bits; the engine's
 * registers are 32 bits wide, so a quadword is two doublewords, low
 * first, as the PCI bus splits it for a 32-bit target. */
static bool s3_window_read(Vga *v, uint32_t off, unsigned size, uint64_t *val)
{
    if (off >= 0x10000)
        return false;               /* B0000-BFFFF stay the VGA's */
    if (size == 8)
        *val = s3_accel_mmio_read((S3 *)v, off, 4)
             | s3_accel_mmio_read((S3 *)v, off + 4, 4) << 32;
    else
        *val = s3_accel_mmio_read((S3 *)v, off, size);
    return true;
}

static bool s3_window_write(Vga *v, uint32_t off, unsigned size, uint64_t val)
{
    if (off >= 0x10000)
        return false;
    if (size == 8) {
        s3_accel_mmio_write((S3 *)v, off, (uint32_t)val, 4);
        s3_accel_mmio_write((S3 *)v, off + 4, val >> 32, 4);
    } else {
        s3_accel_mmio_write((S3 *)v, off, val, size);
    }
    return true;
}

static uint64_t s3_new_mmio_read(void *opaque, uint64_t off, unsigned size)
{
    return s3_accel_mmio_read(opaque, (uint32_t)off, size);
}

static void s3_new_mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    s3_accel_mmio_write(opaque, (uint32_t)off, val, size);
}

static const TessIoOps s3_new_mmio_ops = {
    .read = s3_new_mmio_read,
    .write = s3_new_mmio_write,
    .widths = TESS_W8 | TESS_W16 | TESS_W32,
};

static const VgaModel s3_model = {
    .n_sr = VGA_SR_MAX,
    .n_cr = VGA_CR_MAX,
    .sr_write = s3_sr_write,
    .sr_read = s3_sr_read,
    .cr_write = s3_cr_write,
    .cr_read = s3_cr_read,
    .crtc_ext = s3_crtc_ext,
    .packed = s3_packed,
    .window_read = s3_window_read,
    .window_write = s3_window_write,
};

/* ---- PCI ----------------------------------------------------------------------- */

static void s3_config_write(TessDevice *dev, uint8_t reg, uint32_t value, unsigned size)
{
    S3 *s = (S3 *)dev;
    /* COMMAND or BAR0 changed: follow with the new MMIO window. */
    if (reg < 0x14)
        s3_update_new_mmio(s);
}

/* The expansion ROM: the file, padded to a power of two. */
static bool s3_load_rom(S3 *s, GError **err)
{
    TessDevice *dev = &s->vga.dev;
    g_autofree char *path = tess_find_data_file(dev->machine, s->rom_file, NULL);
    if (!path) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_NOT_FOUND,
                    "%s: VGA BIOS \"%s\" not found (machine directory, $TESSERA_DATA_PATH, "
                    "data directory); set rom=\"FILE\" to another image or rom=\"\" for none",
                    dev->id, s->rom_file);
        return false;
    }
    g_autofree char *data = NULL;
    gsize len = 0;
    GError *lerr = NULL;
    if (!g_file_get_contents(path, &data, &len, &lerr)) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_IO, "%s: VGA BIOS %s: %s", dev->id, path,
                    lerr->message);
        g_error_free(lerr);
        return false;
    }
    if (len < 3 || (uint8_t)data[0] != 0x55 || (uint8_t)data[1] != 0xAA || len > 0x20000) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "%s: %s is not an option ROM of at most 128K (no 55AA signature)",
                    dev->id, path);
        return false;
    }
    uint64_t size = 0x800;
    while (size < len)
        size <<= 1;
    s->rom = tess_mem_rom_new(dev, "s3.rom", size, err);
    if (!s->rom)
        return false;
    uint8_t *host = tess_mem_region_host(s->rom);
    memset(host, 0xFF, size);
    memcpy(host, data, len);
    return true;
}

/* ---- life cycle ------------------------------------------------------------------- */

static bool s3_realize(TessDevice *dev, GError **err)
{
    S3 *s = (S3 *)dev;
    uint64_t vram = s->vga.vram_size;
    if (vram != (1u << 20) && vram != (2u << 20) && vram != (4u << 20)) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "%s: vram must be 1M, 2M or 4M (the Trio's memory sizes)", dev->id);
        return false;
    }
    if (s3_is_trio32(s) && vram > (2u << 20)) {
        /* The Trio32's 32-bit memory interface addresses at most 2 MiB. */
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "%s: the Trio32 takes at most 2M of video memory (vram=\"2M\")", dev->id);
        return false;
    }
    if (!vga_core_realize(&s->vga, &s3_model, err))
        return false;
    /* SeaBIOS runs a ROM only when its PCI data structure names the
     * card's device id: the Trio32 takes the 8810 build of the BIOS. */
    if (s->chip == S3_CHIP_TRIO32 && s->rom_file && !strcmp(s->rom_file, S3_ROM_DEFAULT)) {
        g_free(s->rom_file);
        s->rom_file = g_strdup(S3_ROM_TRIO32);
    }
    /* From here a failure gives back what vga_core_realize took (the core
     * calls unrealize only for a device that realized). */
    if ((s->rom_file && *s->rom_file && !s3_load_rom(s, err)) || !s3_accel_map_ports(s, err)) {
        vga_core_unrealize(&s->vga);
        return false;
    }
    s->new_mmio = tess_mem_mmio_new(dev, "s3.mmio", S3_NEW_MMIO_SIZE, &s3_new_mmio_ops, s);
    TessPciFunctionInfo info = {
        .vendor_id = S3_VENDOR,
        .device_id = s3_is_trio32(s) ? S3_DEV_TRIO32 : S3_DEV_TRIO64,
        .subsystem_vendor_id = S3_VENDOR,
        .subsystem_id = s3_is_trio32(s) ? S3_DEV_TRIO32 : S3_DEV_TRIO64,
        .class_code = 0x03, .subclass = 0x00, .prog_if = 0x00,
        .bars[0] = { .kind = TESS_PCI_BAR_MEM32, .size = S3_BAR0_SIZE,
                     .region = s->vga.vram_region },
        .rom = s->rom,
        .config_write = s3_config_write,
    };
    s->fn = tess_pci_attach(dev, NULL, -1, &info, &s->bus, &s->pci, err);
    if (!s->fn)
        vga_core_unrealize(&s->vga);
    return s->fn != NULL;
}

static void s3_reset(TessDevice *dev)
{
    S3 *s = (S3 *)dev;
    Vga *v = &s->vga;
    vga_core_reset(v);
    /* Power-on PLLs: MCLK 45 MHz (M 66, N 21), DCLK 25.175 MHz. */
    v->sr[0x10] = 0x13;
    v->sr[0x11] = 0x40;
    v->sr[0x12] = 0x1B;             /* N 29, R 0 */
    v->sr[0x13] = 0x31;             /* M 51: 14.318 * 51 / 29 = 25.18 MHz */
    s3_pll_load(s, true, true);
    v->cr[0x37] = 0xFF;             /* configuration straps */
    v->cr[0x68] = 0xFF;
    memset(s->cur_fg, 0, sizeof(s->cur_fg));
    memset(s->cur_bg, 0, sizeof(s->cur_bg));
    s->cur_fg_i = s->cur_bg_i = 0;
    s3_ddc_reset(s);
    s3_accel_reset(s);
    s3_update_window(s);
    s3_update_new_mmio(s);
}

static void s3_unrealize(TessDevice *dev)
{
    S3 *s = (S3 *)dev;
    vga_core_unrealize(&s->vga);
}

static bool s3_post_load(TessDevice *dev, uint32_t version, GError **err)
{
    S3 *s = (S3 *)dev;
    vga_core_post_load(&s->vga);
    s->cur_fg_i &= 3;
    s->cur_bg_i &= 3;
    s3_update_window(s);
    s3_update_new_mmio(s);
    return true;
}

static const char *const s3_chips[] = { "trio64", "trio32", NULL };

static const TessPropSpec s3_props[] = {
    TESS_PROP_ENUM_("chip", S3, chip, "trio64", s3_chips,
                    "trio64 (86C764, PCI 5333:8811) or trio32 (86C732, 5333:8810)"),
    TESS_PROP_SIZE_("vram", S3, vga.vram_size, "4M", 1u << 20, 4u << 20,
                    "video memory: 1M, 2M or 4M (the Trio32: 1M or 2M)"),
    TESS_PROP_STRING_("rom", S3, rom_file, S3_ROM_DEFAULT,
                      "VGA BIOS in the PCI expansion ROM (data-path lookup; \"\": none); "
                      "the default is Tessera's own, " S3_ROM_TRIO32 " on the Trio32"),
    TESS_PROP_END,
};

static const TessIfaceSpec s3_ifaces[] = {
    { TESS_IFACE_DISPLAY_SOURCE, &s3_display_ops, TESS_IFACE_DISPLAY_SOURCE_VERSION },
    TESS_IFACE_END,
};

static const char *const s3_needs[] = { TESS_IFACE_PCI_BUS, NULL };

static const TessStateField s3_state_fields[] = {
    VGA_STATE_FIELDS(S3, VGA_SR_MAX, VGA_CR_MAX),
    TESS_STATE_VARBUF(S3, vga.vram, vga.vram_bytes),
    TESS_STATE_U8(S3, dclk_n),
    TESS_STATE_U8(S3, dclk_m),
    TESS_STATE_U8(S3, mclk_n),
    TESS_STATE_U8(S3, mclk_m),
    TESS_STATE_BUF(S3, cur_fg),
    TESS_STATE_BUF(S3, cur_bg),
    TESS_STATE_U8(S3, cur_fg_i),
    TESS_STATE_U8(S3, cur_bg_i),
    TESS_STATE_U8(S3, ddc),
    TESS_STATE_BUF(S3, ddc_bus),
    TESS_STATE_BUF(S3, ge),
    TESS_STATE_END,
};

static const TessStateDesc s3_state = {
    .version = 1,
    .fields = s3_state_fields,
    .post_load = s3_post_load,
};

static const TessDeviceClass s3_class = {
    .type = "s3-trio64",
    .kind = TESS_CLASS_DEVICE,
    .doc = "S3 Trio64 / Trio32 PCI SVGA with 2D graphics engine and hardware cursor",
    .instance_size = sizeof(S3),
    .props = s3_props,
    .provides = s3_ifaces,
    .needs = s3_needs,
    .state = &s3_state,
    .realize = s3_realize,
    .reset = s3_reset,
    .unrealize = s3_unrealize,
};

static bool s3_plugin_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &s3_class, err);
}

TESS_PLUGIN_DEFINE("s3-trio64", "1.0", "LGPL-2.1-or-later",
                   "S3 Trio64/Trio32 SVGA display adapter", s3_plugin_init);
