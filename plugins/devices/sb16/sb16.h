/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Creative Sound Blaster 16 (DSP 4.05, CT1745 mixer, OPL3, MPU-401 UART):
 * state shared by the files of the model.
 *
 * Register facts: Creative "Sound Blaster Series Hardware Programming
 * Guide" (DSP commands, mixer), the CT1745 mixer register map, the
 * MPU-401 UART-mode subset, Yamaha YMF262 (OPL3) for the timers and the
 * status register the synthesis library does not model.
 */
#ifndef TESSERA_SB16_H
#define TESSERA_SB16_H

#include <tessera/tessera.h>
#include <stdio.h>
#include <adplug/nukedopl.h>

#define SB_DSP_MAJOR 4
#define SB_DSP_MINOR 5
#define OPL_RATE 49716u          /* 14.31818 MHz / 288 */

/* IRQ status (mixer 0x82) */
#define SB_IRQ_8   0x01
#define SB_IRQ_16  0x02
#define SB_IRQ_MPU 0x04

typedef struct SbOpl {
    opl3_chip chip;              /* not saved: holds pointers; rebuilt from regs */
    uint8_t regs[512];           /* every register as last written (for restore) */
    uint16_t addr;               /* latched register (bank in bit 8) */
    uint8_t timer[2];            /* regs 2 and 3 */
    uint8_t ctrl;                /* reg 4: b6/b5 masks, b1/b0 start */
    uint64_t start_ns[2];        /* when each running timer was started */
    uint64_t ack_ns[2];          /* flags were last reset here (>= start) */
    uint8_t flags;               /* b6 T1, b5 T2 latched overflow */
    uint64_t rendered_ns;        /* output pushed up to here */
    uint8_t opl3;                /* reg 0x105 bit 0 */
} SbOpl;

typedef struct Sb16 {
    TessDevice dev;
    /* properties */
    uint64_t port, mpu_port;
    uint64_t irq, dma, hdma;
    bool adlib;                  /* also answer at 0x388-0x38B */
    char *midi_file;

    TessSignal *irq2[1], *irq5[1], *irq7[1], *irq10[1];
    TessDevice *isa_dma;
    const TessIsaDmaOps *dma_ops;
    bool dma_claimed[8];
    TessTimer *timer;
    TessAudioStream *dsp_out, *dac_out, *fm_out;
    FILE *midi;

    /* DSP */
    uint8_t reset_latch;
    uint8_t cmd, cmd_need, cmd_got;
    uint8_t params[3];
    uint8_t outq[64];
    uint8_t outq_head, outq_len;
    uint8_t test_reg;
    uint8_t speaker;
    uint8_t time_constant;
    uint32_t rate;               /* frames per second */
    uint16_t block8;             /* 0x48 block size - 1 */
    uint8_t dac_level;           /* last direct (0x10) sample */
    uint64_t dac_until_ns, dac_pushed_ns;

    /* DMA engine */
    uint8_t active;              /* a transfer is programmed */
    uint8_t paused;
    uint8_t bits16, stereo, is_signed, autoinit, input, silence;
    uint8_t channel;             /* DMA channel in use */
    uint32_t count;              /* transfer units (bytes or words) per block */
    uint32_t left;               /* units left in this block */
    uint64_t t_base;             /* virtual time of frame 0 of this run */
    uint64_t frames_done;        /* frames consumed since t_base */
    uint32_t want;               /* bytes the DMA callback may still move */
    uint8_t drq;                 /* DRQ lines we hold up, bit per channel */
    uint8_t fetch[4096];
    uint32_t fetched;
    uint8_t exit_auto;           /* finish the current block, then stop */

    /* mixer */
    uint8_t mix_index;
    uint8_t mixer[256];
    uint8_t irq_status;

    /* MPU-401 */
    uint8_t mpu_uart;
    uint8_t mpu_q[16];
    uint8_t mpu_qlen;

    SbOpl opl;
} Sb16;

/* sb16-opl.c */
bool sb_opl_realize(Sb16 *s, GError **err);
void sb_opl_reset(Sb16 *s);
uint8_t sb_opl_status(Sb16 *s);
void sb_opl_write_addr(Sb16 *s, unsigned bank, uint8_t v);
void sb_opl_write_data(Sb16 *s, uint8_t v);
void sb_opl_sync(void *opaque, uint64_t now);
void sb_opl_post_load(Sb16 *s);
extern const TessIoOps sb_adlib_io;

/* sb16.c */
uint32_t sb_dma_transfer(void *opaque, unsigned ch, uint32_t pos, uint32_t size);
void sb_update_volumes(Sb16 *s);

#endif
