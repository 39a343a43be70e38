/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bus-master access to guest memory. The whole transfer is checked against
 * the memory map before a single byte moves, so a guest that points a
 * descriptor past RAM (or at MMIO) gets an error and an untouched buffer,
 * never a host access outside guest memory.
 */
#include "core.h"

#include <string.h>

#define DMA_SPACE (UINT64_C(1) << TESS_PHYS_BITS)

static bool dma_check(TessMachine *m, uint64_t paddr, size_t len, unsigned access,
                      GError **err)
{
    const char *what = access == TESS_MAP_READ ? "read" : "write";

    /* paddr + len may wrap a uint64_t: compare by subtraction only. */
    if (paddr >= DMA_SPACE || len > DMA_SPACE - paddr) {
        g_set_error(err, TESS_BUS_ERROR, TESS_ERROR_BOUNDS,
                    "DMA %s of %zu bytes at 0x%" G_GINT64_MODIFIER
                    "x leaves the %u-bit physical address space",
                    what, len, paddr, TESS_PHYS_BITS);
        return false;
    }
    for (uint64_t done = 0; done < len;) {
        uint8_t *host;
        uint64_t n = tess_mem_host_run(m, paddr + done, len - done, access, &host);
        if (n == 0) {
            g_set_error(err, TESS_BUS_ERROR, TESS_ERROR_BOUNDS,
                        "DMA %s of %zu bytes at 0x%" G_GINT64_MODIFIER
                        "x: address 0x%" G_GINT64_MODIFIER "x is not %s",
                        what, len, paddr, paddr + done,
                        access == TESS_MAP_READ ? "RAM or ROM" : "RAM");
            return false;
        }
        done += n;
    }
    return true;
}

bool tess_dma_read(TessMachine *m, uint64_t paddr, void *buf, size_t len,
                   GError **err)
{
    if (len == 0)
        return true;
    if (!dma_check(m, paddr, len, TESS_MAP_READ, err))
        return false;
    uint8_t *dst = buf;
    for (uint64_t done = 0; done < len;) {
        uint8_t *host = NULL;
        uint64_t n = tess_mem_host_run(m, paddr + done, len - done, TESS_MAP_READ, &host);
        if (G_UNLIKELY(n == 0))   /* checked above; nothing runs in between */
            return false;
        memcpy(dst + done, host, n);
        done += n;
    }
    return true;
}

bool tess_dma_write(TessMachine *m, uint64_t paddr, const void *buf, size_t len,
                    GError **err)
{
    if (len == 0)
        return true;
    if (!dma_check(m, paddr, len, TESS_MAP_WRITE, err))
        return false;
    const uint8_t *src = buf;
    for (uint64_t done = 0; done < len;) {
        uint8_t *host = NULL;
        uint64_t n = tess_mem_host_run(m, paddr + done, len - done, TESS_MAP_WRITE, &host);
        if (G_UNLIKELY(n == 0))
            return false;
        memcpy(host, src + done, n);
        done += n;
    }
    tess_mem_notify_ram_written(m, paddr, len);
    return true;
}
