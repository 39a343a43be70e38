/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The port-I/O map: 64 Ki ports, each pointing at the range that owns it,
 * so dispatch is one table load. Claims are recorded against their device
 * and released with it.
 */
#include "core.h"

TessPioMap *tess_pio_map_new(void)
{
    TessPioMap *map = g_new0(TessPioMap, 1);
    map->ranges = g_ptr_array_new_with_free_func(g_free);
    return map;
}

void tess_pio_map_free(TessPioMap *map)
{
    if (!map)
        return;
    g_ptr_array_unref(map->ranges);
    g_free(map);
}

static const char *pio_dev_id(TessDevice *dev)
{
    return dev && dev->id ? dev->id : "?";
}

bool tess_pio_map(TessDevice *dev, uint32_t base, uint32_t len,
                  const TessIoOps *ops, void *opaque, GError **err)
{
    g_return_val_if_fail(dev && dev->machine && ops, false);
    TessPioMap *map = dev->machine->pio;

    if (len == 0 || base >= TESS_PIO_PORTS || len > TESS_PIO_PORTS - base) {
        g_set_error(err, TESS_BUS_ERROR, TESS_ERROR_INVALID,
                    "'%s': port range 0x%x+0x%x is outside 0x0-0xffff or empty",
                    pio_dev_id(dev), base, len);
        return false;
    }
    for (uint32_t p = base; p < base + len; p++) {
        TessPioRange *o = map->port[p];
        if (o) {
            g_set_error(err, TESS_BUS_ERROR, TESS_ERROR_CONFLICT,
                        "ports 0x%x-0x%x of '%s' overlap ports 0x%x-0x%x of '%s' (%s)",
                        base, base + len - 1, pio_dev_id(dev),
                        o->base, o->base + o->len - 1, pio_dev_id(o->owner),
                        o->owner && o->owner->cls ? o->owner->cls->type : "?");
            return false;
        }
    }

    TessPioRange *r = g_new0(TessPioRange, 1);
    r->owner = dev;
    r->base = base;
    r->len = len;
    r->ops = ops;
    r->opaque = opaque;
    g_ptr_array_add(map->ranges, r);
    for (uint32_t p = base; p < base + len; p++)
        map->port[p] = r;
    return true;
}

static void pio_remove_index(TessPioMap *map, guint i)
{
    TessPioRange *r = g_ptr_array_index(map->ranges, i);
    for (uint32_t p = r->base; p < r->base + r->len; p++)
        map->port[p] = NULL;
    g_ptr_array_remove_index(map->ranges, i);   /* frees r */
}

void tess_pio_unmap(TessDevice *dev, uint32_t base)
{
    g_return_if_fail(dev && dev->machine);
    TessPioMap *map = dev->machine->pio;

    for (guint i = 0; i < map->ranges->len; i++) {
        TessPioRange *r = g_ptr_array_index(map->ranges, i);
        if (r->owner == dev && r->base == base) {
            pio_remove_index(map, i);
            return;
        }
    }
    g_warning("'%s' unmaps port 0x%x, which it has not claimed",
              pio_dev_id(dev), base);
}

void tess_pio_release_owner(TessMachine *m, TessDevice *owner)
{
    TessPioMap *map = m->pio;
    if (!map)
        return;
    for (guint i = map->ranges->len; i-- > 0;) {
        TessPioRange *r = g_ptr_array_index(map->ranges, i);
        if (r->owner == owner)
            pio_remove_index(map, i);
    }
}

TessDevice *tess_pio_owner(TessMachine *m, uint32_t port)
{
    if (port >= TESS_PIO_PORTS)
        return NULL;
    TessPioRange *r = m->pio->port[port];
    return r ? r->owner : NULL;
}

/*
 * Slow paths: the access leaves its range (or starts on a free port). Each
 * run of ports with one owner gets power-of-two pieces in ascending order;
 * ports nobody owns (including past 0xffff) read as all ones.
 */
static unsigned pio_run(TessPioMap *map, uint32_t port, unsigned n,
                        TessPioRange **owner)
{
    if (port >= TESS_PIO_PORTS) {
        *owner = NULL;
        return n;
    }
    TessPioRange *r = map->port[port];
    *owner = r;
    if (r)
        return MIN(n, r->base + r->len - port);
    unsigned k = 1;
    while (k < n && port + k < TESS_PIO_PORTS && !map->port[port + k])
        k++;
    return k;
}

static inline unsigned pio_piece(unsigned n)
{
    return n >= 4 ? 4 : n >= 2 ? 2 : 1;
}

static G_GNUC_NO_INLINE uint32_t pio_read_slow(TessPioMap *map, uint32_t port,
                                              unsigned size)
{
    uint32_t v = 0;
    unsigned done = 0;
    while (done < size) {
        TessPioRange *r;
        unsigned run = pio_run(map, port + done, size - done, &r);
        for (unsigned end = done + run; done < end;) {
            unsigned k = pio_piece(end - done);
            uint64_t part = r ? tess_io_read(r->ops, r->opaque,
                                             port + done - r->base, k)
                              : UINT64_MAX;
            v |= (uint32_t)(part & ((UINT64_C(1) << (k * 8)) - 1)) << (done * 8);
            done += k;
        }
    }
    return v;
}

static G_GNUC_NO_INLINE void pio_write_slow(TessPioMap *map, uint32_t port,
                                           uint32_t value, unsigned size)
{
    unsigned done = 0;
    while (done < size) {
        TessPioRange *r;
        unsigned run = pio_run(map, port + done, size - done, &r);
        for (unsigned end = done + run; done < end;) {
            unsigned k = pio_piece(end - done);
            if (r)
                tess_io_write(r->ops, r->opaque, port + done - r->base,
                              value >> (done * 8), k);
            done += k;
        }
    }
}

uint32_t tess_pio_read(TessMachine *m, uint32_t port, unsigned size)
{
    TessPioMap *map = m->pio;
    port &= TESS_PIO_PORTS - 1;
    if (size - 1 >= 4)
        size = 4;
    TessPioRange *r = map->port[port];
    if (G_LIKELY(r && port + size <= r->base + r->len && (size & (size - 1)) == 0))
        return (uint32_t)tess_io_read(r->ops, r->opaque, port - r->base, size);
    return pio_read_slow(map, port, size);
}

void tess_pio_write(TessMachine *m, uint32_t port, uint32_t value, unsigned size)
{
    TessPioMap *map = m->pio;
    port &= TESS_PIO_PORTS - 1;
    if (size - 1 >= 4)
        size = 4;
    TessPioRange *r = map->port[port];
    if (G_LIKELY(r && port + size <= r->base + r->len && (size & (size - 1)) == 0)) {
        tess_io_write(r->ops, r->opaque, port - r->base, value, size);
        return;
    }
    pio_write_slow(map, port, value, size);
}
