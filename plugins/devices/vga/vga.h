/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IBM VGA with the Bochs "DISPI" VBE extension: private to the vga plugin.
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

typedef struct VgaListener {
    const TessDisplayListener *l;
    void *opaque;
} VgaListener;

typedef struct Vga {
    TessDevice dev;
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
    uint8_t sr_index, sr[8];
    uint8_t gr_index, gr[16];
    uint8_t cr_index, cr[32];
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

    /* derived */
    bool dispi_on;                   /* DISPI_ENABLED with a valid mode */
    TessDisplayMode last_mode;       /* for generation numbering */
    uint32_t mode_gen;

    /* frame notification */
    GArray *listeners;               /* VgaListener */
    TessTimer *frame_timer;
    struct VgaRender *render;        /* vga-render.c scratch */
} Vga;

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

/* vga-render.c */
extern const TessDisplaySourceOps vga_display_ops;
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
