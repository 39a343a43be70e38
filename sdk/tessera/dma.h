/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Guest-memory access for bus masters, and the ISA DMA service.
 *
 * tess_dma_read/write move bytes between a device and guest physical
 * memory. They are bounds-checked as a whole before anything is touched:
 * a transfer succeeds only if every byte lies in RAM (reads may also come
 * from ROM). Otherwise nothing is read or written and the error has code
 * TESS_ERROR_BOUNDS and names the address. A guest can never make the host
 * touch memory outside guest RAM. Writes tell the memory listeners (CPU
 * code caches) which RAM changed.
 */
#ifndef TESSERA_DMA_H
#define TESSERA_DMA_H

#include <tessera/types.h>

G_BEGIN_DECLS

bool tess_dma_read(TessMachine *m, uint64_t paddr, void *buf, size_t len,
                   GError **err);
bool tess_dma_write(TessMachine *m, uint64_t paddr, const void *buf, size_t len,
                    GError **err);

/*
 * The ISA DMA service, interface "isa-dma" (provided by the 8237 model).
 * A device registers a handler on a channel (0-3 8-bit, 5-7 16-bit) and
 * raises DRQ. While DRQ is high and the channel is unmasked the controller
 * calls `transfer`, which moves data with read_memory/write_memory and
 * returns the new position. Positions and lengths are in bytes.
 */
#define TESS_IFACE_ISA_DMA "isa-dma"
#define TESS_IFACE_ISA_DMA_VERSION 1   /* see TessIfaceSpec in device.h */

typedef uint32_t (*TessIsaDmaTransfer)(void *opaque, unsigned channel,
                                       uint32_t pos, uint32_t size);

typedef struct TessIsaDmaOps {
    bool (*register_channel)(TessDevice *dma, unsigned channel,
                             TessIsaDmaTransfer fn, void *opaque, GError **err);
    void (*set_drq)(TessDevice *dma, unsigned channel, bool level);
    /* Copy between the channel's current memory window and buf; returns
     * the bytes moved (short at the end of the window or on a bounds
     * failure, which is logged). */
    uint32_t (*read_memory)(TessDevice *dma, unsigned channel, void *buf,
                            uint32_t pos, uint32_t len);
    uint32_t (*write_memory)(TessDevice *dma, unsigned channel, const void *buf,
                             uint32_t pos, uint32_t len);
} TessIsaDmaOps;

G_END_DECLS

#endif
