/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libtessvga: the IBM VGA as a library, with the Bochs "DISPI" VBE
 * extension. Linked (statically, symbols hidden) by the `vga` plugin and
 * by the S3 Trio64 model, which extend it through a VgaModel: register
 * file sizes, hooks for extended sequencer and CRTC registers, a bank and
 * extended addressing for the CPU window, CRTC overflow bits, the dot
 * clock and packed-pixel picture formats. A model's instance struct starts
 * with a Vga (which starts with the TessDevice).
 *
 * Register names follow the IBM VGA technical reference (Personal System/2
 * Hardware Interface Technical Reference, "Video Subsystem"): MISC (misc
 * output), SR (sequencer), GR (graphics controller), CR (CRT controller),
 * AR (attribute controller), the DAC. DISPI follows Bochs' vbe.h register
 * list (ID 0xB0C0-0xB0C5).
 *
 * Video memory layout: one byte array `vram`. In VGA modes the four planes
 * are interleaved, plane p of plane offset o at vram[o * 4 + p], so that
 * chain-4 (CPU address A -> plane A & 3 at offset A >> 2) and the linear
 * framebuffer see the same bytes at the same addresses. The CRTC's
 * doubleword mode reads plane offset = counter to match (on the IBM part
 * both chain-4 and doubleword addressing multiply the plane offset by four;
 * dividing both by four is indistinguishable to a guest that does not
 * mix chain-4 writes with unchained reads of the same bytes).
 */
#ifndef TESS_VGA_H
#define TESS_VGA_H

#include <tessera/tessera.h>
#include <tessera/display.h>

#define VGA_PLANE_SIZE   0x10000u            /* 64 KiB per plane */
#define VGA_PLANES_SIZE  (4 * VGA_PLANE_SIZE)

/* MISC */
#define MISC_IOAS        0x01     /* CRTC at 3Dx (colour) rather than 3Bx */
#define MISC_ERAM        0x02     /* CPU access to video memory enabled */
#define MISC_CS          0x0C     /* clock select */
#define MISC_PAGE        0x20     /* odd/even page select */
/* SR01 clocking mode */
#define SR01_98DM        0x01     /* 8-dot characters (else 9) */
#define SR01_DCR         0x08     /* dot clock / 2 */
#define SR01_SO          0x20     /* screen off */
/* SR04 memory mode */
#define SR04_EXT         0x02
#define SR04_OE_DIS      0x04     /* odd/even disable (sequential) */
#define SR04_CHAIN4      0x08
/* GR05 graphics mode */
#define GR05_WM          0x03
#define GR05_RM          0x08
#define GR05_OE          0x10
#define GR05_SRI         0x20     /* shift register interleave (CGA 4-colour) */
#define GR05_C256        0x40     /* 256-colour shift mode */
/* GR06 miscellaneous */
#define GR06_GM          0x01     /* graphics (alphanumerics disabled) */
#define GR06_COE         0x02     /* chain odd maps to even */
#define GR06_MM          0x0C     /* memory map select */
/* AR10 mode control */
#define AR10_G           0x01
#define AR10_ME          0x02     /* monochrome emulation */
#define AR10_ELG         0x04     /* line graphics: 9th dot of C0-DF */
#define AR10_EB          0x08     /* blink */
#define AR10_PP          0x20     /* pel panning compatible (reset at line compare) */
#define AR10_PW          0x40     /* 8-bit colour */
#define AR10_PS          0x80     /* palette bits 5:4 from AR14 */
/* AR index */
#define AR_PAS           0x20     /* palette address source: display enabled */
/* CR17 mode control */
#define CR17_CMS0        0x01     /* 0: row scan bit 0 replaces MA13 */
#define CR17_SRSC        0x02     /* 0: row scan bit 1 replaces MA14 */
#define CR17_HRSX        0x04
#define CR17_CBT         0x08     /* count by two */
#define CR17_AW          0x20     /* address wrap: MA15 (else MA13) -> MA0 in word mode */
#define CR17_WB          0x40     /* byte mode (else word mode) */
#define CR17_SE          0x80
/* CR14 underline location */
#define CR14_CB4         0x20
#define CR14_DW          0x40

/* Bochs DISPI */
#define DISPI_INDEX_ID          0x0
#define DISPI_INDEX_XRES        0x1
#define DISPI_INDEX_YRES        0x2
#define DISPI_INDEX_BPP         0x3
#define DISPI_INDEX_ENABLE      0x4
#define DISPI_INDEX_BANK        0x5
#define DISPI_INDEX_VIRT_WIDTH  0x6
#define DISPI_INDEX_VIRT_HEIGHT 0x7
#define DISPI_INDEX_X_OFFSET    0x8
#define DISPI_INDEX_Y_OFFSET    0x9
#define DISPI_INDEX_VIDEO_MEMORY_64K 0xA
#define DISPI_NUM_REGS          0xB
#define DISPI_ID0               0xB0C0
#define DISPI_ID5               0xB0C5
#define DISPI_ENABLED           0x01
#define DISPI_GETCAPS           0x02
#define DISPI_8BIT_DAC          0x20
#define DISPI_LFB_ENABLED       0x40
#define DISPI_NOCLEARMEM        0x80
#define DISPI_MAX_XRES          2560
#define DISPI_MAX_YRES          1600
#define DISPI_MAX_BPP           32

#define VGA_SR_MAX 0x20           /* register file room for any model */
#define VGA_CR_MAX 0x80

typedef struct Vga Vga;

/* Extensions of the CRTC a model reports (all zero for the IBM VGA). */
typedef struct VgaCrtcExt {
    /* Bits 8+ of the horizontal counts (character clocks) and bit 10+ of
     * the vertical ones, already shifted into place. */
    unsigned htotal_hi, hde_hi, vtotal_hi, vde_hi, vrs_hi;
    /* Start address bits 16+, offset bits 8+ (in CRTC units). */
    uint32_t start_hi;
    unsigned offset_hi;
    /* Dot clock in Hz (0: MISC's 25.175 / 28.322 MHz). */
    uint64_t dotclk;
    /* Clocks per pixel in packed modes whose horizontal counts the driver
     * multiplies (the S3's 16-bit modes take two): 0 or 1 for none. */
    unsigned hmul;
} VgaCrtcExt;

/* A packed-pixel picture the model's extended registers select (the S3's
 * enhanced modes): drawn like a VBE linear mode, timed by the CRTC. */
typedef struct VgaPacked {
    unsigned bpp;                /* 8, 15, 16, 24, 32 */
    unsigned width, height;      /* pixels */
    uint64_t start, pitch;       /* bytes into video memory */
} VgaPacked;

typedef struct VgaModel {
    unsigned n_sr, n_cr;          /* registers that exist: SR00..n_sr-1, CR00..n_cr-1 */
    /* Extended registers (index >= the standard ones, or any index the
     * model overrides). Return true when handled; a write hook stores
     * the value itself. NULL: plain storage up to n_sr / n_cr. */
    bool (*sr_write)(Vga *v, uint8_t idx, uint8_t val);
    bool (*sr_read)(Vga *v, uint8_t idx, uint8_t *val);
    bool (*cr_write)(Vga *v, uint8_t idx, uint8_t val);
    bool (*cr_read)(Vga *v, uint8_t idx, uint8_t *val);
    /* Other ports at 3C0-3CF (the S3's 3C3 enable and the like). */
    bool (*port_write)(Vga *v, unsigned port, uint8_t val);
    bool (*port_read)(Vga *v, unsigned port, uint8_t *val);
    void (*crtc_ext)(const Vga *v, VgaCrtcExt *e);
    /* True (and *p filled) when the picture is packed pixels. */
    bool (*packed)(const Vga *v, VgaPacked *p);
    /* The legacy window at A0000 (MMIO regions the model overlays, e.g.
     * the S3's legacy MMIO) is the library's; the model only says when it
     * wants offsets 0x8000-0xFFFF for itself: return true and handle. */
    bool (*window_read)(Vga *v, uint32_t off, unsigned size, uint64_t *val);
    bool (*window_write)(Vga *v, uint32_t off, unsigned size, uint64_t val);
} VgaModel;

typedef struct VgaListener {
    const TessDisplayListener *l;
    void *opaque;
} VgaListener;

struct Vga {
    TessDevice dev;
    const VgaModel *model;           /* set before vga_core_realize */
    /* properties */
    uint64_t vram_size;
    uint64_t lfb_addr;

    /* memory */
    TessMemRegion *vram_region;      /* RAM: the video memory, also the LFB */
    uint8_t *vram;
    uint32_t vram_bytes;             /* vram_size, as the state table sizes vram */
    TessMemRegion *legacy;           /* MMIO 0xA0000-0xBFFFF */
    TessMemRegion *alias;            /* fast path over the legacy window, or NULL */
    uint64_t alias_off, alias_addr, alias_size;

    /* registers (saved) */
    uint8_t misc;
    uint8_t fcr;                     /* feature control */
    uint8_t sr_index, sr[VGA_SR_MAX];
    uint8_t gr_index, gr[16];
    uint8_t cr_index, cr[VGA_CR_MAX];
    uint8_t ar_index, ar[21];
    uint8_t ar_flip;                 /* 0: next 3C0 write is the index */
    uint8_t dac_state;               /* 0: write mode, 3: read mode (3C7) */
    uint8_t dac_read, dac_write, dac_sub;
    uint8_t dac_latch[3];
    uint8_t pel_mask;
    uint8_t dac[768];
    uint8_t latch[4];
    uint16_t dispi_index;
    uint16_t dispi[DISPI_NUM_REGS];
    uint8_t dispi_getcaps;

    /* set by the model (banking): CPU window bank in bytes, added to
     * chain-4 and packed addresses (planar: to the plane offset), and
     * whether chain-4 reaches all of video memory rather than 256K */
    uint32_t bank;
    bool ext_mem;
    bool dac8;                       /* 8-bit DAC (else 6-bit) */
    bool window_mmio;                /* the model's window hooks are live */

    /* derived */
    bool dispi_on;                   /* DISPI_ENABLED with a valid mode */
    TessDisplayMode last_mode;       /* for generation numbering */
    uint32_t mode_gen;

    /* frame notification */
    GArray *listeners;               /* VgaListener */
    TessTimer *frame_timer;
    /* Still frames (vga-render.c): after a while of frames in which every
     * listener rendered and nothing changed, with no register written,
     * listeners hear only every VGA_IDLE_STRIDE-th frame, until something
     * changes. Not saved: a restored machine starts at the full rate. */
    unsigned idle_frames;
    bool in_frame, frame_rendered, frame_changed, io_seen;
    struct VgaRender *render;        /* vga-render.c scratch */
};

/* vga-regs.c: the life cycle a model calls from its own. realize claims
 * video memory (vram_size, set by the model's property), the legacy
 * window and the VGA ports (not DISPI's: the vga model maps those). */
bool vga_core_realize(Vga *v, const VgaModel *model, GError **err);
void vga_core_reset(Vga *v);
void vga_core_unrealize(Vga *v);
void vga_core_post_load(Vga *v);
/* State fields of the standard registers, for a model's table. */
#define VGA_STATE_FIELDS(S, nsr, ncr)                                            \
    TESS_STATE_U8(S, vga.misc), TESS_STATE_U8(S, vga.fcr),                      \
    TESS_STATE_U8(S, vga.sr_index),                                              \
    { .name = "sr", .type = TESS_STATE_T_BUF, .offset = offsetof(S, vga.sr), .size = (nsr) }, \
    TESS_STATE_U8(S, vga.gr_index), TESS_STATE_BUF(S, vga.gr),                  \
    TESS_STATE_U8(S, vga.cr_index),                                              \
    { .name = "cr", .type = TESS_STATE_T_BUF, .offset = offsetof(S, vga.cr), .size = (ncr) }, \
    TESS_STATE_U8(S, vga.ar_index), TESS_STATE_BUF(S, vga.ar),                  \
    TESS_STATE_U8(S, vga.ar_flip), TESS_STATE_U8(S, vga.dac_state),             \
    TESS_STATE_U8(S, vga.dac_read), TESS_STATE_U8(S, vga.dac_write),            \
    TESS_STATE_U8(S, vga.dac_sub), TESS_STATE_BUF(S, vga.dac_latch),            \
    TESS_STATE_U8(S, vga.pel_mask), TESS_STATE_BUF(S, vga.dac),                 \
    TESS_STATE_BUF(S, vga.latch)

/* vga-mem.c: the legacy window and the fast-path alias. */
extern const TessIoOps vga_legacy_ops;
void vga_update_mapping(Vga *v);

/* vga-dispi.c */
extern const TessIoOps vga_dispi_ops;
void vga_dispi_reset(Vga *v);
/* Re-derive dispi_on from the registers (after a restore). */
void vga_dispi_recompute(Vga *v);
/* Bytes per DISPI pixel for bpp (4 counts as planar, reported as 0). */
unsigned vga_dispi_bytespp(unsigned bpp);
/* Bytes per scanline of the current DISPI mode, virt_width based. */
uint64_t vga_dispi_line_bytes(const Vga *v);

/* vga-render.c: the display-source ops (a model builds its own table
 * from these when it adds ops of its own). */
extern const TessDisplaySourceOps vga_display_ops;
void vga_get_mode(TessDevice *dev, TessDisplayMode *m);
unsigned vga_get_text(TessDevice *dev, TessDisplayCell *cells, unsigned max);
TessDisplayView *vga_view_new(TessDevice *dev);
void vga_view_free(TessDevice *dev, TessDisplayView *view);
bool vga_render(TessDevice *dev, TessDisplayView *view, const TessDisplaySurface *surf,
                TessDisplayUpdate *upd);
void vga_add_listener(TessDevice *dev, const TessDisplayListener *l, void *opaque);
void vga_remove_listener(TessDevice *dev, const TessDisplayListener *l, void *opaque);
/* Nanoseconds per frame and per scanline, and line counts, for 0x3DA and
 * the frame timer. */
typedef struct VgaTiming {
    uint64_t frame_ns, line_ns;
    unsigned htotal, hde;           /* in character clocks */
    unsigned vtotal, vde, vrs, vre; /* in scanlines; vre exclusive */
} VgaTiming;
void vga_timing(const Vga *v, VgaTiming *t);
void vga_listeners_changed(Vga *v);
void vga_frame_timer_cb(void *opaque);
void vga_render_free(Vga *v);

/* Guest error, rate limited by the core. */
#define vga_err(v, ...) tess_guest_error(&(v)->dev, __VA_ARGS__)

#endif
