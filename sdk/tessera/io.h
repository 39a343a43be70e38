/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Port I/O and memory-mapped I/O.
 *
 * A device maps a range of ports (or an MMIO region, see mem.h) with a
 * TessIoOps table. `widths` says which access sizes the device accepts
 * (TESS_W8 | TESS_W16 | TESS_W32 | TESS_W64). The core adapts every other
 * access so a device only ever sees sizes it accepts:
 *
 *  - an access wider than the device accepts is split into the widest
 *    accepted size, issued in ascending address order, and the results are
 *    combined little-endian (a 32-bit read of an 8-bit-only device is four
 *    8-bit reads at port, port+1, port+2, port+3);
 *  - an access narrower than the device accepts becomes one access of the
 *    narrowest accepted size at the aligned address below it; a read
 *    extracts the bytes asked for; a write carries the value shifted into
 *    place with zeros in the other bytes (as a bus without byte enables);
 *  - an access that runs past the end of a range is split at the boundary
 *    and each part goes to whatever owns it.
 *
 * Reads of ports no device owns return all ones; writes are ignored.
 * Offsets passed to the ops are relative to the start of the range.
 */
#ifndef TESSERA_IO_H
#define TESSERA_IO_H

#include <tessera/types.h>

G_BEGIN_DECLS

enum { TESS_W8 = 1, TESS_W16 = 2, TESS_W32 = 4, TESS_W64 = 8 };

typedef struct TessIoOps {
    uint64_t (*read)(void *opaque, uint64_t offset, unsigned size);
    void (*write)(void *opaque, uint64_t offset, uint64_t value, unsigned size);
    unsigned widths;          /* accepted sizes; 0 is taken as TESS_W8 */
} TessIoOps;

/* Claim ports [base, base+len). Overlap with another claim fails with
 * TESS_ERROR_CONFLICT and a message naming both owners and the ports. */
bool tess_pio_map(TessDevice *dev, uint32_t base, uint32_t len,
                  const TessIoOps *ops, void *opaque, GError **err);
/* Release the range that starts at base (claimed by dev). */
void tess_pio_unmap(TessDevice *dev, uint32_t base);

/* Guest-side access (CPUs, buses and tests). size is 1, 2 or 4. */
uint32_t tess_pio_read(TessMachine *m, uint32_t port, unsigned size);
void tess_pio_write(TessMachine *m, uint32_t port, uint32_t value, unsigned size);

/* The device that owns a port, or NULL (diagnostics and tests). */
TessDevice *tess_pio_owner(TessMachine *m, uint32_t port);

G_END_DECLS

#endif
