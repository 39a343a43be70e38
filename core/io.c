/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Access-width adaptation shared by port I/O and MMIO: a device only ever
 * sees the sizes its TessIoOps accept (rules at the top of tessera/io.h).
 */
#include "core.h"

static inline uint64_t io_mask(unsigned size)
{
    return size >= 8 ? UINT64_MAX : (UINT64_C(1) << (size * 8)) - 1;
}

static inline unsigned io_widths(const TessIoOps *ops)
{
    unsigned w = ops->widths & (TESS_W8 | TESS_W16 | TESS_W32 | TESS_W64);
    return w ? w : TESS_W8;
}

static inline uint64_t io_call_read(const TessIoOps *ops, void *opaque,
                                    uint64_t offset, unsigned size)
{
    if (G_UNLIKELY(!ops->read))
        return io_mask(size);
    return ops->read(opaque, offset, size) & io_mask(size);
}

static inline void io_call_write(const TessIoOps *ops, void *opaque,
                                 uint64_t offset, uint64_t value, unsigned size)
{
    if (G_LIKELY(ops->write))
        ops->write(opaque, offset, value & io_mask(size), size);
}

/* The widest accepted width narrower than size, or 0. */
static inline unsigned io_split_width(unsigned widths, unsigned size)
{
    unsigned below = widths & (size - 1);
    return below ? 1u << (31 - __builtin_clz(below)) : 0;
}

uint64_t tess_io_read(const TessIoOps *ops, void *opaque, uint64_t offset,
                      unsigned size)
{
    unsigned w = io_widths(ops);

    if (G_LIKELY(w & size))
        return io_call_read(ops, opaque, offset, size);

    unsigned piece = io_split_width(w, size);
    uint64_t v = 0;
    if (piece) {
        for (unsigned i = 0; i < size; i += piece)
            v |= io_call_read(ops, opaque, offset + i, piece) << (i * 8);
        return v;
    }

    /* Every accepted width is wider: one aligned access of the narrowest,
     * or two when the bytes asked for straddle an aligned unit. */
    piece = w & -w;
    unsigned done = 0;
    while (done < size) {
        uint64_t at = offset + done;
        uint64_t aligned = at & ~(uint64_t)(piece - 1);
        unsigned skip = (unsigned)(at - aligned);
        unsigned take = MIN(size - done, piece - skip);
        uint64_t unit = io_call_read(ops, opaque, aligned, piece);
        v |= ((unit >> (skip * 8)) & io_mask(take)) << (done * 8);
        done += take;
    }
    return v;
}

void tess_io_write(const TessIoOps *ops, void *opaque, uint64_t offset,
                   uint64_t value, unsigned size)
{
    unsigned w = io_widths(ops);

    value &= io_mask(size);
    if (G_LIKELY(w & size)) {
        io_call_write(ops, opaque, offset, value, size);
        return;
    }

    unsigned piece = io_split_width(w, size);
    if (piece) {
        for (unsigned i = 0; i < size; i += piece)
            io_call_write(ops, opaque, offset + i, value >> (i * 8), piece);
        return;
    }

    /* No byte enables: the other bytes of the wider access carry zeros. */
    piece = w & -w;
    unsigned done = 0;
    while (done < size) {
        uint64_t at = offset + done;
        uint64_t aligned = at & ~(uint64_t)(piece - 1);
        unsigned skip = (unsigned)(at - aligned);
        unsigned take = MIN(size - done, piece - skip);
        uint64_t part = (value >> (done * 8)) & io_mask(take);
        io_call_write(ops, opaque, aligned, part << (skip * 8), piece);
        done += take;
    }
}
