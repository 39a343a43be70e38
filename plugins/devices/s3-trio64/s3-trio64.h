/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * S3 Trio64 (86C764) and Trio32 (86C732): private to the s3-trio64 plugin.
 *
 * Register names follow the S3 Trio32/Trio64 data book: SRxx extended
 * sequencer registers (unlocked by SR08 = 06h), CRxx extended CRTC
 * registers (CR2D-CR3F unlocked by CR38 = 48h, CR40 and up by CR39 = A5h),
 * the 8514/A-compatible graphics engine at ports xxE8h (enabled by CR40
 * bit 0) and its memory-mapped forms. The standard VGA is libtessvga.
 */
#ifndef TESS_S3_TRIO64_H
#define TESS_S3_TRIO64_H

#include <tessera/tessera.h>
#include <tessera/pci.h>
#include "vga.h"

#define S3_VENDOR        0x5333
#define S3_DEV_TRIO32    0x8810
#define S3_DEV_TRIO64    0x8811
#define S3_BAR0_SIZE     0x4000000u     /* 64 MiB: framebuffer, new MMIO at +16 MiB */
#define S3_NEW_MMIO_OFF  0x1000000u
#define S3_NEW_MMIO_SIZE 0x10000u

enum { S3_CHIP_TRIO64, S3_CHIP_TRIO32 };

/* CMD (9AE8h) */
#define CMD_RD           0x0001   /* write (1) / read */
#define CMD_PX           0x0002   /* across the plane: multiple pixels per transfer */
#define CMD_LPN          0x0004   /* last pixel off */
#define CMD_LINETYPE     0x0008   /* radial line (direction in bits 7:5) */
#define CMD_DRAW         0x0010
#define CMD_INC_X        0x0020
#define CMD_YMAJ         0x0040
#define CMD_INC_Y        0x0080
#define CMD_WAIT_CPU     0x0100   /* data through PIX_TRANS */
#define CMD_BUS_SHIFT    9        /* bits 10:9: 0 8-bit, 1 16-bit, 2 32-bit (3: 32-bit) */
#define CMD_BYTE_SWAP    0x1000
#define CMD_OP_SHIFT     13

enum { GE_NOP = 0, GE_LINE = 1, GE_RECT = 2, GE_BITBLT = 6, GE_PATTERN = 7 };

/* BKGD_MIX / FRGD_MIX bits 6:5 */
enum { SRC_BKGD = 0, SRC_FRGD = 1, SRC_CPU = 2, SRC_DISPLAY = 3 };

/* GP_STAT: bits 7:0 and 15:11 FIFO slots in use (none here: commands
 * complete when written) */
#define GP_STAT_DATRDY   0x0100   /* image read: data waits in PIX_TRANS */
#define GP_STAT_BUSY     0x0200
#define GP_STAT_EMPTY    0x0400   /* every FIFO slot empty */

/* MULTIFUNC_CNTL (BEE8h) index in bits 15:12 */
enum {
    MF_MIN_AXIS_PCNT = 0x0, MF_SCISSORS_T = 0x1, MF_SCISSORS_L = 0x2,
    MF_SCISSORS_B = 0x3, MF_SCISSORS_R = 0x4, MF_PIX_CNTL = 0xA,
    MF_MULT_MISC2 = 0xD, MF_MULT_MISC = 0xE, MF_READ_SEL = 0xF,
};
#define MULT_MISC_CMP_EN  0x0100  /* colour compare */
#define MULT_MISC_SRC_NE  0x0080  /* update where equal (else where not equal) */

typedef struct S3Accel {
    uint16_t cur_x, cur_y, desty_axstp, destx_diastp, err_term, maj_axis_pcnt;
    uint16_t min_axis_pcnt, cmd;
    uint32_t bkgd_color, frgd_color, wrt_mask, rd_mask, color_cmp;
    uint16_t bkgd_mix, frgd_mix;
    uint16_t scissors_t, scissors_l, scissors_b, scissors_r;
    uint16_t pix_cntl, mult_misc, mult_misc2, read_sel;
    uint16_t subsys_cntl, subsys_stat, advfunc_cntl;
    uint8_t hi_word;             /* 32bpp: next 16-bit colour write is the high word */
    /* a command waiting for PIX_TRANS data (saved as the registers plus
     * progress, so a snapshot taken mid-transfer resumes it) */
    uint8_t busy;
    uint16_t run_x, run_y;       /* progress: pixel in the row (line: pixel), row */
    uint8_t run_bits;            /* colour: bytes of a pixel gathered so far */
    uint32_t run_data;           /* colour: the pixel being gathered */
    uint16_t short_stroke;
    uint8_t xfer[4];             /* a transfer narrower writes are filling */
    uint8_t xfer_n;
} S3Accel;

/* The DDC bus as the monitor's EEPROM sees it (s3-ddc.c). */
typedef struct S3Ddc {
    uint8_t scl, sda;            /* bus levels */
    uint8_t state, bits, shift, offset, read, nack;
} S3Ddc;

typedef struct S3 {
    Vga vga;                       /* first: the standard VGA */
    /* properties */
    int chip;
    char *rom_file;
    /* PCI */
    TessDevice *bus;
    const TessPciBusOps *pci;
    TessPciFunction *fn;
    TessMemRegion *rom;
    TessMemRegion *new_mmio;       /* 64K at BAR0 + 16 MiB while CR53 b3 */
    uint64_t new_mmio_at;          /* where it is mapped, 0: not */
    /* extended registers beyond what the library keeps (saved) */
    uint8_t dclk_n, dclk_m;        /* SR12/SR13 loaded into the DCLK PLL */
    uint8_t mclk_n, mclk_m;
    uint8_t cur_fg[4], cur_bg[4];  /* CR4A/CR4B colour stacks */
    uint8_t cur_fg_i, cur_bg_i;
    uint8_t ddc;                   /* MMIO FF20h serial port, as written */
    S3Ddc ddc_bus;
    S3Accel ge;
    /* derived, not saved */
    uint32_t cursor_gen;
    uint8_t cursor_key[1024 + 8];  /* what the last get_cursor saw */
} S3;

/* s3-accel.c: the graphics engine */
void s3_accel_reset(S3 *s);
/* Claim the xxE8h ports. */
bool s3_accel_map_ports(S3 *s, GError **err);
/* MMIO offsets within the 64K windows (legacy A0000 or new MMIO). */
uint64_t s3_accel_mmio_read(S3 *s, uint32_t off, unsigned size);
void s3_accel_mmio_write(S3 *s, uint32_t off, uint64_t val, unsigned size);
/* Bytes per pixel of the engine (CR50) and its line width in pixels. */
unsigned s3_ge_bytespp(const S3 *s);
unsigned s3_ge_width(const S3 *s);

/* s3-ddc.c: the serial port at MMIO FF20h */
void s3_ddc_write(S3 *s, uint8_t val);
uint8_t s3_ddc_read(S3 *s);
void s3_ddc_reset(S3 *s);

/* s3-trio64.c helpers the engine uses */
static inline bool s3_enh_regs(const S3 *s)
{
    return s->vga.cr[0x40] & 0x01;
}

#define s3_err(s, ...) tess_guest_error(&(s)->vga.dev, __VA_ARGS__)

#endif
