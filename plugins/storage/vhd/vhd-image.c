/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VHD images: open (with the differencing chain), read, write, allocate,
 * flush. Creating and committing are in vhd-create.c.
 *
 * Every integer read from the file is untrusted: the footer, header, BAT
 * and locators are bounds-checked at open, so I/O never leaves the file's
 * known regions and a corrupt image is a GError naming the file.
 *
 * Crash safety. A block allocation first writes the (unchanged) footer at
 * the new end of the file, so the file always ends in a valid footer, then
 * the guest's data into the new block. The block's bitmap and BAT entry
 * are held in memory and written at the next flush (or after a few
 * seconds, or at close): fdatasync, then bitmaps, then BAT entries, then
 * fdatasync. So a BAT entry on disk only ever points at a block whose data
 * and bitmap are already durable, and a crash before the flush leaves
 * only unreferenced space after the last block (reclaimed when the image
 * is next opened for writing). Until its bitmap is written the new block
 * overwrites nothing: its first sector is where the old footer was, and
 * the data starts after the bitmap.
 */
#include "vhd-image.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Held metadata is written back at least this often while writes go on. */
#define VHD_WRITEBACK_US (5 * G_USEC_PER_SEC)

static const StoreLayerOps vhd_layer_ops;

bool vhd_is_vhd_layer(StoreLayer *l)
{
    return l && l->ops == &vhd_layer_ops;
}

static bool vhd_corrupt(GError **err, const char *path, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
static bool vhd_corrupt(GError **err, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_INVALID, "%s: corrupt VHD: %s", path, msg);
    return false;
}

static uint64_t round512(uint64_t v)
{
    return (v + 511) & ~(uint64_t)511;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

/* ---- bitmaps ------------------------------------------------------------- */

static void mark_dirty(VhdImage *img, uint32_t blk, uint8_t flag)
{
    if (!(img->bstate[blk] & (BS_BM_DIRTY | BS_BAT_DIRTY))) {
        if (!img->dirty->len)
            img->dirty_since = g_get_monotonic_time();
        g_array_append_val(img->dirty, blk);
    }
    img->bstate[blk] |= flag;
}

static bool bits_all_ones(const uint8_t *bits, uint32_t n)
{
    uint32_t whole = n / 8;
    for (uint32_t i = 0; i < whole; i++)
        if (bits[i] != 0xFF)
            return false;
    for (uint32_t s = whole * 8; s < n; s++)
        if (!vhd_bit(bits, s))
            return false;
    return true;
}

int vhd_bitmap(VhdImage *img, uint32_t blk, uint8_t **bits, GError **err)
{
    int st = img->bstate[blk] & BS_STATE;
    if (st == BS_PARTIAL) {
        *bits = g_hash_table_lookup(img->bitmaps, GUINT_TO_POINTER(blk));
        return BS_PARTIAL;
    }
    if (st == BS_FULL)
        return BS_FULL;
    uint8_t *b = g_malloc(img->bitmap_size);
    if (!store_pread(img->l.fd, img->l.path, b, img->bitmap_size,
                     (uint64_t)img->bat[blk] * VHD_SECTOR, err)) {
        g_free(b);
        return -1;
    }
    if (bits_all_ones(b, img->spb)) {
        g_free(b);
        img->bstate[blk] |= BS_FULL;
        return BS_FULL;
    }
    g_hash_table_insert(img->bitmaps, GUINT_TO_POINTER(blk), b);
    img->bstate[blk] |= BS_PARTIAL;
    *bits = b;
    return BS_PARTIAL;
}

/* Sectors from s (of at most n) with the same bit as s. */
uint32_t vhd_bit_run(const uint8_t *bits, uint32_t s, uint32_t n, bool *value)
{
    bool v = vhd_bit(bits, s);
    uint32_t i = 1;
    while (i < n) {
        uint32_t k = s + i;
        if (!(k & 7) && i + 8 <= n && bits[k >> 3] == (v ? 0xFF : 0x00)) {
            i += 8;
            continue;
        }
        if (vhd_bit(bits, k) != v)
            break;
        i++;
    }
    *value = v;
    return i;
}

/* ---- reading --------------------------------------------------------------- */

static bool parent_read(VhdImage *img, uint64_t off, uint8_t *buf, size_t len, GError **err)
{
    StoreLayer *p = img->parent;
    if (!p) {
        memset(buf, 0, len);
        return true;
    }
    size_t inside = off >= p->size ? 0 : (size_t)MIN((uint64_t)len, p->size - off);
    if (inside && !p->ops->read(p, off, buf, inside, err))
        return false;
    memset(buf + inside, 0, len - inside);
    return true;
}

static bool check_request(StoreLayer *l, uint64_t off, size_t len, GError **err)
{
    if ((off | len) & (VHD_SECTOR - 1) || off > l->size || len > l->size - off)
        return store_error(err, TESS_ERROR_BOUNDS,
                           "%s: request of %zu bytes at %" G_GUINT64_FORMAT
                           " is outside the disk (%" G_GUINT64_FORMAT " bytes) or not "
                           "whole sectors", l->path, len, off, l->size);
    return true;
}

static bool vhd_read(StoreLayer *l, uint64_t off, void *vbuf, size_t len, GError **err)
{
    VhdImage *img = (VhdImage *)l;
    uint8_t *buf = vbuf;
    if (!check_request(l, off, len, err))
        return false;
    if (img->type == VHD_TYPE_FIXED)
        return store_pread(l->fd, l->path, buf, len, off, err);
    while (len) {
        uint32_t blk = (uint32_t)(off >> img->block_shift);
        uint32_t inoff = (uint32_t)(off & (img->block_size - 1));
        size_t n = MIN(len, (size_t)(img->block_size - inoff));
        uint32_t e = img->bat[blk];
        if (e == VHD_BAT_UNUSED) {
            if (!parent_read(img, off, buf, n, err))
                return false;
        } else {
            uint64_t data = (uint64_t)e * VHD_SECTOR + img->bitmap_size;
            uint8_t *bits = NULL;
            int st = vhd_bitmap(img, blk, &bits, err);
            if (st < 0)
                return false;
            if (st == BS_FULL) {
                if (!store_pread(l->fd, l->path, buf, n, data + inoff, err))
                    return false;
            } else {
                uint32_t s = inoff / VHD_SECTOR, cnt = (uint32_t)(n / VHD_SECTOR);
                for (uint32_t i = 0; i < cnt;) {
                    bool present;
                    uint32_t run = vhd_bit_run(bits, s + i, cnt - i, &present);
                    uint8_t *p = buf + (size_t)i * VHD_SECTOR;
                    size_t bytes = (size_t)run * VHD_SECTOR;
                    bool ok = present
                        ? store_pread(l->fd, l->path, p, bytes,
                                      data + (uint64_t)(s + i) * VHD_SECTOR, err)
                        : parent_read(img, off + (uint64_t)i * VHD_SECTOR, p, bytes, err);
                    if (!ok)
                        return false;
                    i += run;
                }
            }
        }
        buf += n;
        off += n;
        len -= n;
    }
    return true;
}

/* ---- writing ---------------------------------------------------------------- */

static bool alloc_block(VhdImage *img, uint32_t blk, GError **err)
{
    uint64_t start = img->next_free;
    uint64_t footer = start + img->bitmap_size + img->block_size;
    if (start / VHD_SECTOR >= VHD_BAT_UNUSED || footer + VHD_FOOTER_SIZE > (2ull << 40))
        return store_error(err, TESS_ERROR_IO,
                           "%s: the image file cannot grow beyond 2 TiB (VHD limit)",
                           img->l.path);
    /* The footer moves first: the file keeps ending in a valid footer.
     * Everything between is a hole in the file, so it reads as zeros. */
    if (!store_pwrite(img->l.fd, img->l.path, img->footer_raw, VHD_FOOTER_SIZE, footer, err))
        return false;
    img->footer_pos = footer;
    img->file_size = footer + VHD_FOOTER_SIZE;
    img->next_free = footer;
    img->bat[blk] = (uint32_t)(start / VHD_SECTOR);
    if (img->type == VHD_TYPE_DYNAMIC) {
        /* A dynamic block is zero-filled: every sector is valid data. */
        img->bstate[blk] = BS_FULL;
    } else {
        g_hash_table_insert(img->bitmaps, GUINT_TO_POINTER(blk), g_malloc0(img->bitmap_size));
        img->bstate[blk] = BS_PARTIAL;
    }
    mark_dirty(img, blk, BS_BM_DIRTY | BS_BAT_DIRTY);
    img->data_dirty = true;
    return true;
}

static void set_bits(VhdImage *img, uint32_t blk, uint8_t *bits, uint32_t s, uint32_t n)
{
    bool changed = false;
    for (uint32_t i = 0; i < n;) {
        uint32_t k = s + i;
        if (!(k & 7) && i + 8 <= n) {
            if (bits[k >> 3] != 0xFF) {
                bits[k >> 3] = 0xFF;
                changed = true;
            }
            i += 8;
            continue;
        }
        uint8_t m = (uint8_t)(0x80u >> (k & 7));
        if (!(bits[k >> 3] & m)) {
            bits[k >> 3] |= m;
            changed = true;
        }
        i++;
    }
    if (!changed)
        return;
    mark_dirty(img, blk, BS_BM_DIRTY);
    if (n == img->spb || bits_all_ones(bits, img->spb)) {
        /* Keep the ones buffer as the on-disk image; the state says full. */
        g_hash_table_remove(img->bitmaps, GUINT_TO_POINTER(blk));
        img->bstate[blk] = (uint8_t)((img->bstate[blk] & ~BS_STATE) | BS_FULL);
    }
}

static bool vhd_write(StoreLayer *l, uint64_t off, const void *vbuf, size_t len, GError **err)
{
    VhdImage *img = (VhdImage *)l;
    const uint8_t *buf = vbuf;
    if (l->read_only)
        return store_error(err, TESS_ERROR_INVALID, "%s: image is read-only", l->path);
    if (!check_request(l, off, len, err))
        return false;
    if (img->type == VHD_TYPE_FIXED) {
        img->data_dirty = true;
        return store_pwrite(l->fd, l->path, buf, len, off, err);
    }
    while (len) {
        uint32_t blk = (uint32_t)(off >> img->block_shift);
        uint32_t inoff = (uint32_t)(off & (img->block_size - 1));
        size_t n = MIN(len, (size_t)(img->block_size - inoff));
        if (img->bat[blk] == VHD_BAT_UNUSED && !alloc_block(img, blk, err))
            return false;
        uint64_t data = (uint64_t)img->bat[blk] * VHD_SECTOR + img->bitmap_size;
        if (!store_pwrite(l->fd, l->path, buf, n, data + inoff, err))
            return false;
        img->data_dirty = true;
        uint8_t *bits = NULL;
        int st = vhd_bitmap(img, blk, &bits, err);
        if (st < 0)
            return false;
        if (st == BS_PARTIAL)
            set_bits(img, blk, bits, inoff / VHD_SECTOR, (uint32_t)(n / VHD_SECTOR));
        buf += n;
        off += n;
        len -= n;
    }
    if (img->dirty->len && g_get_monotonic_time() - img->dirty_since > VHD_WRITEBACK_US)
        return vhd_writeback(img, err);
    return true;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

bool vhd_writeback(VhdImage *img, GError **err)
{
    const char *path = img->l.path;
    int fd = img->l.fd;
    if (!img->dirty || !img->dirty->len) {
        if (!img->data_dirty)
            return true;
        img->data_dirty = false;
        return store_sync(fd, path, err);
    }
    /* 1. the data and the moved footer are durable before anything
     *    refers to them */
    if (!store_sync(fd, path, err))
        return false;
    uint32_t *blocks = (uint32_t *)(void *)img->dirty->data;
    guint nd = img->dirty->len;
    qsort(blocks, nd, sizeof(uint32_t), cmp_u32);
    /* 2. bitmaps */
    for (guint i = 0; i < nd; i++) {
        uint32_t b = blocks[i];
        if (!(img->bstate[b] & BS_BM_DIRTY))
            continue;
        const uint8_t *bits = (img->bstate[b] & BS_STATE) == BS_PARTIAL
            ? g_hash_table_lookup(img->bitmaps, GUINT_TO_POINTER(b)) : img->ones;
        if (!store_pwrite(fd, path, bits, img->bitmap_size, (uint64_t)img->bat[b] * VHD_SECTOR,
                          err))
            return false;
    }
    /* 3. BAT entries, a sector's worth (128 entries) at a time */
    uint8_t sect[VHD_SECTOR];
    for (guint i = 0; i < nd;) {
        uint32_t group = blocks[i] / 128;
        bool any = false;
        guint j = i;
        for (; j < nd && blocks[j] / 128 == group; j++)
            any |= (img->bstate[blocks[j]] & BS_BAT_DIRTY) != 0;
        if (any) {
            uint32_t first = group * 128;
            uint32_t cnt = MIN(128u, img->max_entries - first);
            for (uint32_t k = 0; k < cnt; k++) {
                uint32_t v = img->bat[first + k];
                sect[4 * k] = (uint8_t)(v >> 24);
                sect[4 * k + 1] = (uint8_t)(v >> 16);
                sect[4 * k + 2] = (uint8_t)(v >> 8);
                sect[4 * k + 3] = (uint8_t)v;
            }
            if (!store_pwrite(fd, path, sect, (size_t)cnt * 4,
                              img->bat_offset + (uint64_t)first * 4, err))
                return false;
        }
        i = j;
    }
    /* 4. and those durable too */
    if (!store_sync(fd, path, err))
        return false;
    for (guint i = 0; i < nd; i++)
        img->bstate[blocks[i]] &= (uint8_t)~(BS_BM_DIRTY | BS_BAT_DIRTY);
    g_array_set_size(img->dirty, 0);
    img->data_dirty = false;
    return true;
}

static bool vhd_flush(StoreLayer *l, GError **err)
{
    VhdImage *img = (VhdImage *)l;
    if (l->read_only)
        return true;
    return vhd_writeback(img, err);
}

/* ---- status and info --------------------------------------------------------- */

static bool vhd_present(StoreLayer *l, uint64_t off, uint64_t len, bool local, uint64_t *pnum)
{
    VhdImage *img = (VhdImage *)l;
    if (img->type == VHD_TYPE_FIXED || off >= l->size) {
        *pnum = len;
        return true;
    }
    uint32_t blk = (uint32_t)(off >> img->block_shift);
    uint32_t inoff = (uint32_t)(off & (img->block_size - 1));
    uint64_t n = MIN(len, (uint64_t)(img->block_size - inoff));
    StoreLayer *p = local ? NULL : img->parent;
    if (img->bat[blk] == VHD_BAT_UNUSED) {
        if (p && off < p->size)
            return p->ops->present(p, off, MIN(n, p->size - off), false, pnum);
        *pnum = n;
        return false;
    }
    uint8_t *bits = NULL;
    int st = vhd_bitmap(img, blk, &bits, NULL);
    if (st != BS_PARTIAL) {      /* full, or unreadable: say data, reads will tell */
        *pnum = n;
        return true;
    }
    bool present;
    uint32_t run = vhd_bit_run(bits, inoff / VHD_SECTOR, (uint32_t)(n / VHD_SECTOR),
                               &present);
    n = (uint64_t)run * VHD_SECTOR;
    if (present) {
        *pnum = n;
        return true;
    }
    if (p && off < p->size)
        return p->ops->present(p, off, MIN(n, p->size - off), false, pnum);
    *pnum = n;
    return false;
}

static const char *type_name(uint32_t t)
{
    return t == VHD_TYPE_FIXED ? "fixed" : t == VHD_TYPE_DYNAMIC ? "dynamic" : "differencing";
}

static void vhd_info(StoreLayer *l, TessBlockInfo *info)
{
    VhdImage *img = (VhdImage *)l;
    const VhdFooter *f = &img->footer;
    struct stat st;
    info->format = g_strdup("vhd");
    info->subformat = g_strdup(type_name(img->type));
    info->size = l->size;
    if (fstat(l->fd, &st) == 0)
        info->file_size = (uint64_t)st.st_blocks * 512;
    info->has_geometry = true;
    info->geometry = (TessBlockGeometry){ f->cylinders, f->heads, f->spt };
    char app[5] = { 0 };
    memcpy(app, f->creator_app, 4);
    for (int i = 0; i < 4; i++)
        if (!g_ascii_isprint(app[i]))
            app[i] = app[i] ? '?' : ' ';
    char os[5] = { 0 };
    for (int i = 0; i < 4; i++) {
        char c = (char)(f->creator_os >> (24 - 8 * i));
        os[i] = g_ascii_isprint(c) ? c : '?';
    }
    info->creator = g_strdup_printf("%s %u.%u %s", g_strchomp(app), f->creator_version >> 16,
                                    f->creator_version & 0xFFFF, os);
    info->uuid = vhd_uuid_text(f->uuid);
    info->read_only = l->read_only;
    if (img->type != VHD_TYPE_FIXED) {
        info->block_size = img->block_size;
        info->blocks_total = img->nblocks;
        for (uint32_t b = 0; b < img->nblocks; b++)
            if (img->bat[b] != VHD_BAT_UNUSED)
                info->blocks_allocated++;
    }
    if (img->parent)
        info->parent = g_strdup(img->parent->path);
}

static bool vhd_geometry(StoreLayer *l, TessBlockGeometry *geo)
{
    VhdImage *img = (VhdImage *)l;
    *geo = (TessBlockGeometry){ img->footer.cylinders, img->footer.heads, img->footer.spt };
    return geo->cylinders && geo->heads && geo->sectors;
}

void vhd_free(VhdImage *img)
{
    if (img->own_parent)
        store_close(img->parent);
    if (img->l.fd >= 0)
        close(img->l.fd);
    g_free(img->l.path);
    g_free(img->bat);
    g_free(img->bstate);
    g_free(img->ones);
    if (img->bitmaps)
        g_hash_table_unref(img->bitmaps);
    if (img->dirty)
        g_array_unref(img->dirty);
    g_free(img);
}

static void vhd_close(StoreLayer *l)
{
    VhdImage *img = (VhdImage *)l;
    if (!l->read_only) {
        g_autoptr(GError) err = NULL;
        if (!vhd_writeback(img, &err))
            g_warning("%s", err->message);
    }
    vhd_free(img);
}

static const StoreLayerOps vhd_layer_ops = {
    .format = "vhd",
    .read = vhd_read,
    .write = vhd_write,
    .flush = vhd_flush,
    .present = vhd_present,
    .info = vhd_info,
    .geometry = vhd_geometry,
    .close = vhd_close,
};

/* ---- opening --------------------------------------------------------------- */

static bool load_footer(VhdImage *img, uint8_t *head, bool *head_ok, size_t *flen,
                        GError **err)
{
    const char *path = img->l.path;
    uint8_t tail[VHD_FOOTER_SIZE];
    if (img->file_size < VHD_FOOTER_SIZE)
        return store_error(err, TESS_ERROR_INVALID,
                           "%s: not a VHD image (%" G_GUINT64_FORMAT " bytes, too small)",
                           path, img->file_size);
    if (!store_pread(img->l.fd, path, tail, VHD_FOOTER_SIZE,
                     img->file_size - VHD_FOOTER_SIZE, err) ||
        !store_pread(img->l.fd, path, head, VHD_FOOTER_SIZE, 0, err))
        return false;
    *head_ok = vhd_footer_ok(head, VHD_FOOTER_SIZE);
    *flen = VHD_FOOTER_SIZE;
    if (vhd_footer_ok(tail, VHD_FOOTER_SIZE)) {
        memcpy(img->footer_raw, tail, VHD_FOOTER_SIZE);
        vhd_footer_decode(tail, &img->footer);
        return true;
    }
    /* Before Virtual PC 2004 the footer was 511 bytes. */
    if (vhd_footer_ok(tail + 1, 511)) {
        vhd_footer_decode(tail + 1, &img->footer);
        vhd_footer_encode(&img->footer, img->footer_raw);
        *flen = 511;
        return true;
    }
    /* Virtual PC falls back to the copy at offset 0 (sparse images only). */
    if (*head_ok) {
        vhd_footer_decode(head, &img->footer);
        if (img->footer.disk_type == VHD_TYPE_DYNAMIC || img->footer.disk_type == VHD_TYPE_DIFF) {
            memcpy(img->footer_raw, head, VHD_FOOTER_SIZE);
            img->footer_lost = true;
            *flen = 0;
            return true;
        }
    }
    if (!memcmp(tail, "conectix", 8))
        return vhd_corrupt(err, path, "footer checksum mismatch (stored %#x, computed %#x) "
                           "and no valid footer copy at offset 0",
                           (unsigned)tail[64] << 24 | tail[65] << 16 | tail[66] << 8 | tail[67],
                           vhd_checksum(tail, VHD_FOOTER_SIZE, 64));
    if (!memcmp(head, "conectix", 8))
        return vhd_corrupt(err, path, "no footer at the end of the file, and the copy at "
                           "offset 0 has a bad checksum");
    return store_error(err, TESS_ERROR_INVALID,
                       "%s: not a VHD image (no \"conectix\" footer at the end of the file "
                       "or at its start)", path);
}

static bool load_dynamic(VhdImage *img, GError **err)
{
    const char *path = img->l.path;
    const VhdFooter *f = &img->footer;
    uint64_t limit = img->footer_pos;          /* nothing may reach into the footer */
    if (f->data_offset == VHD_NO_OFFSET || f->data_offset < VHD_FOOTER_SIZE ||
        f->data_offset > limit || limit - f->data_offset < VHD_HEADER_SIZE)
        return vhd_corrupt(err, path, "dynamic header offset %#" G_GINT64_MODIFIER "x is "
                           "outside the file (%" G_GUINT64_FORMAT " bytes)", f->data_offset,
                           img->file_size);
    img->hdr_offset = f->data_offset;
    uint8_t hb[VHD_HEADER_SIZE];
    if (!store_pread(img->l.fd, path, hb, sizeof(hb), img->hdr_offset, err))
        return false;
    if (memcmp(hb, "cxsparse", 8))
        return vhd_corrupt(err, path, "no dynamic disk header (\"cxsparse\") at %#"
                           G_GINT64_MODIFIER "x", img->hdr_offset);
    if (!vhd_header_ok(hb))
        return vhd_corrupt(err, path, "dynamic disk header checksum mismatch");
    VhdHeader *h = &img->hdr;
    vhd_header_decode(hb, h);
    if (h->version >> 16 != 1)
        return store_error(err, TESS_ERROR_UNSUPPORTED,
                           "%s: dynamic header version %#x is not supported (1.x)", path,
                           h->version);
    uint32_t bs = h->block_size;
    if (bs < VHD_MIN_BLOCK || bs > VHD_MAX_BLOCK || (bs & (bs - 1)))
        return vhd_corrupt(err, path, "block size %u is not a power of two from %u to %u",
                           bs, VHD_MIN_BLOCK, VHD_MAX_BLOCK);
    img->block_size = bs;
    img->block_shift = (unsigned)g_bit_nth_lsf(bs, -1);
    img->spb = bs / VHD_SECTOR;
    img->bitmap_size = (uint32_t)round512((img->spb + 7) / 8);
    uint64_t nblocks = (img->l.size + bs - 1) / bs;
    if (h->max_entries < nblocks)
        return vhd_corrupt(err, path, "the BAT has %u entries but the disk (%" G_GUINT64_FORMAT
                           " bytes) needs %" G_GUINT64_FORMAT, h->max_entries, img->l.size,
                           nblocks);
    if (h->max_entries > VHD_MAX_ENTRIES)
        return store_error(err, TESS_ERROR_UNSUPPORTED,
                           "%s: BAT of %u entries is larger than supported (%u)", path,
                           h->max_entries, VHD_MAX_ENTRIES);
    img->nblocks = (uint32_t)nblocks;
    img->max_entries = h->max_entries;
    uint64_t bat_len = (uint64_t)h->max_entries * 4;
    img->bat_offset = h->table_offset;
    if (h->table_offset < VHD_FOOTER_SIZE || h->table_offset > limit ||
        limit - h->table_offset < bat_len)
        return vhd_corrupt(err, path, "BAT (%" G_GUINT64_FORMAT " bytes at %#" G_GINT64_MODIFIER
                           "x) lies outside the file (%" G_GUINT64_FORMAT " bytes)", bat_len,
                           h->table_offset, img->file_size);
    if (ranges_overlap(h->table_offset, bat_len, img->hdr_offset, VHD_HEADER_SIZE))
        return vhd_corrupt(err, path, "BAT overlaps the dynamic header");
    /* Metadata regions blocks must not touch. */
    uint64_t rs[10], rl[10];
    int nr = 0;
    rs[nr] = 0, rl[nr++] = VHD_FOOTER_SIZE;
    rs[nr] = img->hdr_offset, rl[nr++] = VHD_HEADER_SIZE;
    rs[nr] = h->table_offset, rl[nr++] = round512(bat_len);
    img->meta_end = MAX(img->hdr_offset + VHD_HEADER_SIZE, h->table_offset + round512(bat_len));
    if (img->type == VHD_TYPE_DIFF) {
        for (int i = 0; i < 8; i++) {
            const VhdLocator *lc = &h->loc[i];
            if (!lc->code)
                continue;
            /* The data length, not the data space: writers disagree on
             * whether the space counts sectors or bytes. */
            if (lc->offset > limit || limit - lc->offset < lc->length)
                return vhd_corrupt(err, path, "parent locator %d (%u bytes at %#"
                                   G_GINT64_MODIFIER "x) lies outside the file", i,
                                   lc->length, lc->offset);
            uint64_t len = MIN(round512(lc->length), limit - lc->offset);
            rs[nr] = lc->offset, rl[nr++] = len;
            img->meta_end = MAX(img->meta_end, lc->offset + len);
        }
    }
    img->meta_end = round512(img->meta_end);

    g_autofree uint8_t *raw = g_malloc(bat_len ? bat_len : 1);
    if (!store_pread(img->l.fd, path, raw, bat_len, h->table_offset, err))
        return false;
    img->bat = g_new(uint32_t, MAX(h->max_entries, 1u));
    for (uint32_t i = 0; i < h->max_entries; i++)
        img->bat[i] = (uint32_t)raw[4 * i] << 24 | (uint32_t)raw[4 * i + 1] << 16 |
                      (uint32_t)raw[4 * i + 2] << 8 | raw[4 * i + 3];
    uint64_t blen = (uint64_t)img->bitmap_size + bs;
    uint64_t end = img->meta_end;
    for (uint32_t i = 0; i < img->nblocks; i++) {
        uint32_t e = img->bat[i];
        if (e == VHD_BAT_UNUSED)
            continue;
        uint64_t start = (uint64_t)e * VHD_SECTOR;
        if (start > limit || limit - start < blen)
            return vhd_corrupt(err, path, "BAT entry %u points to %#" G_GINT64_MODIFIER "x, "
                               "past the end of the file (%" G_GUINT64_FORMAT " bytes); "
                               "`tessera img check --repair` drops it", i, start,
                               img->file_size);
        for (int r = 0; r < nr; r++)
            if (ranges_overlap(start, blen, rs[r], rl[r]))
                return vhd_corrupt(err, path, "BAT entry %u points into the image's "
                                   "metadata (offset %#" G_GINT64_MODIFIER "x)", i, start);
        end = MAX(end, start + blen);
    }
    /* Entries past the disk's end are never used, but their space is not
     * free either. */
    for (uint32_t i = img->nblocks; i < h->max_entries; i++) {
        uint64_t start = (uint64_t)img->bat[i] * VHD_SECTOR;
        if (img->bat[i] != VHD_BAT_UNUSED && start <= limit && limit - start >= blen)
            end = MAX(end, start + blen);
    }
    img->next_free = end;
    img->bstate = g_malloc0(MAX(img->nblocks, 1u));
    img->bitmaps = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    img->dirty = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    img->ones = g_malloc(img->bitmap_size);
    memset(img->ones, 0xFF, img->bitmap_size);
    return true;
}

/* A read-write open leaves the file in its canonical shape: the footer
 * right after the last block (dropping space a crash left unreferenced, or
 * restoring a lost footer from its copy), and the copy at 0 equal to it. */
static bool tidy_dynamic(VhdImage *img, const uint8_t *head, bool head_ok, GError **err)
{
    const char *path = img->l.path;
    int fd = img->l.fd;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return store_io_error(err, path, "stat", errno);
    bool changed = false;
    if (img->footer_lost || img->footer_pos != img->next_free ||
        img->file_size != img->next_free + VHD_FOOTER_SIZE) {
        if (!store_pwrite(fd, path, img->footer_raw, VHD_FOOTER_SIZE, img->next_free, err))
            return false;
        if (!store_sync(fd, path, err))
            return false;
        if (ftruncate(fd, (off_t)(img->next_free + VHD_FOOTER_SIZE)) < 0)
            return store_io_error(err, path, "truncate", errno);
        img->footer_pos = img->next_free;
        img->file_size = img->next_free + VHD_FOOTER_SIZE;
        img->footer_lost = false;
        changed = true;
    }
    if (!head_ok || memcmp(head, img->footer_raw, VHD_FOOTER_SIZE)) {
        if (!store_pwrite(fd, path, img->footer_raw, VHD_FOOTER_SIZE, 0, err))
            return false;
        changed = true;
    }
    if (changed) {
        /* The disk's contents did not change: keep the modification time
         * its differencing children were stamped with. */
        struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, st.st_mtim };
        if (!store_sync(fd, path, err))
            return false;
        if (futimens(fd, ts) < 0)
            return store_io_error(err, path, "restore modification time", errno);
    }
    return true;
}

/* Files already tried while opening one chain, by device and inode: each
 * is opened at most once, so a loop (A -> B -> A) or a locator fan-out ends
 * after as many opens as there are distinct files. */
typedef GHashTable VhdSeen;
static StoreLayer *open_image(const char *path, unsigned flags, int depth, VhdSeen *seen,
                              GError **err);

/* Parent locator `i` as a host path, or NULL. */
static char *locator_path(VhdImage *img, const VhdLocator *lc, GError **err)
{
    if (!lc->length || lc->length > VHD_MAX_LOCATOR)
        return NULL;
    g_autofree uint8_t *b = g_malloc(lc->length);
    if (!store_pread(img->l.fd, img->l.path, b, lc->length, lc->offset, err))
        return NULL;
    g_autofree char *dir = g_path_get_dirname(img->l.path);
    if (lc->code == VHD_PLAT_MACX) {
        g_autofree char *url = g_strndup((const char *)b, lc->length);
        return g_filename_from_uri(url, NULL, NULL);
    }
    g_autofree char *s = vhd_utf16_decode(b, lc->length, false);
    if (!s)
        return NULL;
    if (lc->code == VHD_PLAT_W2RU || lc->code == VHD_PLAT_WI2R) {
        g_strdelimit(s, "\\", '/');
        return g_build_filename(dir, s, NULL);
    }
    if (lc->code == VHD_PLAT_W2KU || lc->code == VHD_PLAT_WI2K) {
        if (s[0] != '/')          /* a Windows path ("C:\...") means nothing here */
            return NULL;
        return g_strdup(s);
    }
    return NULL;
}

bool vhd_parent_matches(VhdImage *img, StoreLayer *p, GError **err)
{
    const VhdHeader *h = &img->hdr;
    if (vhd_is_vhd_layer(p)) {
        VhdImage *pi = (VhdImage *)p;
        if (memcmp(pi->footer.uuid, h->parent_uuid, 16)) {
            g_autofree char *want = vhd_uuid_text(h->parent_uuid);
            g_autofree char *got = vhd_uuid_text(pi->footer.uuid);
            return store_error(err, TESS_ERROR_INVALID,
                               "%s: %s is not its parent (UUID %s, the child expects %s)",
                               img->l.path, p->path, got, want);
        }
    } else if (!vhd_uuid_is_zero(h->parent_uuid)) {
        return store_error(err, TESS_ERROR_INVALID,
                           "%s: parent %s is not a VHD image", img->l.path, p->path);
    } else if (!h->parent_ts ||
               vhd_time_from_unix(store_file_mtime(p->fd)) != h->parent_ts) {
        /* A raw parent has no UUID: what identifies it is the modification
         * time the child was stamped with, to the second, which a file
         * picked by a hostile locator ("/etc/shadow") does not have. */
        return store_error(err, TESS_ERROR_INVALID,
                           "%s: %s is not its parent (a raw parent must carry the "
                           "modification time recorded in the child)", img->l.path, p->path);
    }
    /* The child records the parent's modification time: a parent written
     * after that no longer holds what the child was made against. */
    int64_t mtime = store_file_mtime(p->fd);
    if (vhd_time_from_unix(mtime) > h->parent_ts) {
        g_autoptr(GDateTime) a = g_date_time_new_from_unix_utc(vhd_time_to_unix(h->parent_ts));
        g_autoptr(GDateTime) b = g_date_time_new_from_unix_utc(mtime);
        g_autofree char *as = a ? g_date_time_format_iso8601(a) : g_strdup("?");
        g_autofree char *bs = b ? g_date_time_format_iso8601(b) : g_strdup("?");
        return store_error(err, TESS_ERROR_INVALID,
                           "%s: parent %s was modified (%s) after this differencing image "
                           "was made against it (%s), so the child no longer matches it; "
                           "if the parent was only copied, not changed, restore its time "
                           "with: touch -d @%" G_GINT64_FORMAT " '%s'",
                           img->l.path, p->path, bs, as, vhd_time_to_unix(h->parent_ts),
                           p->path);
    }
    if (p->size < img->l.size)
        return store_error(err, TESS_ERROR_INVALID,
                           "%s: parent %s is smaller (%" G_GUINT64_FORMAT " bytes) than "
                           "the differencing image (%" G_GUINT64_FORMAT ")", img->l.path,
                           p->path, p->size, img->l.size);
    return true;
}

static bool open_parent(VhdImage *img, unsigned flags, int depth, VhdSeen *seen,
                        GError **err)
{
    const VhdHeader *h = &img->hdr;
    if (depth >= VHD_MAX_DEPTH)
        return store_error(err, TESS_ERROR_INVALID,
                           "%s: differencing chain deeper than %d images (a loop?)",
                           img->l.path, VHD_MAX_DEPTH);
    /* Candidates, most portable first: relative, URL, absolute, then the
     * parent's file name next to the child. */
    static const uint32_t order[] = { VHD_PLAT_W2RU, VHD_PLAT_MACX, VHD_PLAT_W2KU,
                                      VHD_PLAT_WI2R, VHD_PLAT_WI2K };
    g_autoptr(GPtrArray) cand = g_ptr_array_new_with_free_func(g_free);
    for (size_t o = 0; o < G_N_ELEMENTS(order); o++) {
        for (int i = 0; i < 8; i++) {
            if (h->loc[i].code != order[o])
                continue;
            g_autofree char *p = locator_path(img, &h->loc[i], err);
            if (err && *err)
                return false;
            if (p)
                g_ptr_array_add(cand, g_canonicalize_filename(p, NULL));
        }
    }
    g_autofree char *name = vhd_utf16_decode(h->parent_name, sizeof(h->parent_name), true);
    /* Some writers store a whole (Windows) path there: its last part. */
    const char *base = name;
    for (const char *c = name; c && *c; c++)
        if (*c == '\\' || *c == '/')
            base = c + 1;
    if (base && *base && strcmp(base, ".") && strcmp(base, "..")) {
        g_autofree char *dir = g_path_get_dirname(img->l.path);
        g_autofree char *p = g_build_filename(dir, base, NULL);
        g_ptr_array_add(cand, g_canonicalize_filename(p, NULL));
    }
    GError *first = NULL;
    for (guint i = 0; i < cand->len; i++) {
        const char *c = cand->pdata[i];
        struct stat st;
        if (stat(c, &st) < 0)
            continue;
        GError *e = NULL;
        StoreLayer *p = NULL;
        g_autofree char *key = g_strdup_printf("%ju:%ju", (uintmax_t)st.st_dev,
                                               (uintmax_t)st.st_ino);
        if (!S_ISREG(st.st_mode)) {
            /* A FIFO would block the open, a device is no parent. */
            store_error(&e, TESS_ERROR_INVALID, "%s: parent %s is not a regular file",
                        img->l.path, c);
        } else if (g_hash_table_contains(seen, key)) {
            store_error(&e, TESS_ERROR_INVALID,
                        "%s: parent %s is already in the chain or was tried (a loop?)",
                        img->l.path, c);
        } else {
            g_hash_table_add(seen, g_steal_pointer(&key));
            unsigned pf = (flags & STORE_OPEN_PARENT_RW) ? STORE_OPEN_RW : 0;
            p = open_image(c, pf, depth + 1, seen, &e);
        }
        if (p && !vhd_parent_matches(img, p, &e)) {
            store_close(p);
            p = NULL;
        }
        if (p) {
            g_clear_error(&first);
            img->parent = p;
            img->own_parent = true;
            return true;
        }
        if (!first)
            first = e;
        else
            g_error_free(e);
    }
    if (first) {
        g_propagate_error(err, first);
        return false;
    }
    g_autoptr(GString) tried = g_string_new(NULL);
    for (guint i = 0; i < cand->len; i++)
        g_string_append_printf(tried, "%s%s", i ? ", " : "", (char *)cand->pdata[i]);
    return store_error(err, TESS_ERROR_NOT_FOUND,
                       "%s: parent image %s not found (tried: %s)", img->l.path,
                       name ? name : "(unnamed)", tried->len ? tried->str : "nothing usable");
}

VhdImage *vhd_load(const char *path, unsigned flags, GError **err, uint8_t *head,
                   bool *head_ok)
{
    bool rw = flags & STORE_OPEN_RW;
    int fd = store_open_file(path, rw, err);
    if (fd < 0)
        return NULL;
    VhdImage *img = g_new0(VhdImage, 1);
    img->l.ops = &vhd_layer_ops;
    img->l.path = g_strdup(path);
    img->l.fd = fd;
    img->l.read_only = !rw;
    size_t flen;
    if (!store_file_size(fd, path, &img->file_size, err) ||
        !load_footer(img, head, head_ok, &flen, err))
        goto fail;
    img->footer_pos = img->file_size - flen;
    const VhdFooter *f = &img->footer;
    img->type = f->disk_type;
    if (f->version >> 16 != 1) {
        store_error(err, TESS_ERROR_UNSUPPORTED, "%s: VHD format version %#x is not "
                    "supported (1.x)", path, f->version);
        goto fail;
    }
    if (img->type != VHD_TYPE_FIXED && img->type != VHD_TYPE_DYNAMIC &&
        img->type != VHD_TYPE_DIFF) {
        vhd_corrupt(err, path, "disk type %u is not fixed (2), dynamic (3) or "
                    "differencing (4)", img->type);
        goto fail;
    }
    img->l.size = vhd_disk_size(f);
    if (img->l.size > VHD_MAX_SIZE) {
        vhd_corrupt(err, path, "disk size %" G_GUINT64_FORMAT " bytes is beyond the "
                    "format's 2040 GiB", img->l.size);
        goto fail;
    }
    if (img->type == VHD_TYPE_FIXED) {
        if (img->l.size > img->footer_pos) {
            vhd_corrupt(err, path, "the footer describes %" G_GUINT64_FORMAT " bytes but "
                        "the file holds only %" G_GUINT64_FORMAT, img->l.size,
                        img->footer_pos);
            goto fail;
        }
    } else if (!load_dynamic(img, err)) {
        goto fail;
    }
    return img;
fail:
    vhd_free(img);
    return NULL;
}

static StoreLayer *vhd_open_depth(const char *path, unsigned flags, int depth, VhdSeen *seen,
                                  GError **err)
{
    uint8_t head[VHD_FOOTER_SIZE];
    bool head_ok;
    VhdImage *img = vhd_load(path, flags, err, head, &head_ok);
    if (!img)
        return NULL;
    if (!img->l.read_only && img->type != VHD_TYPE_FIXED &&
        !tidy_dynamic(img, head, head_ok, err))
        goto fail;
    if (img->type == VHD_TYPE_DIFF && !open_parent(img, flags, depth, seen, err))
        goto fail;
    return &img->l;
fail:
    vhd_free(img);
    return NULL;
}

/* The chain's first file is in `seen` too: a parent locator naming the
 * child itself is a loop. */
static VhdSeen *seen_new(const char *path)
{
    VhdSeen *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    struct stat st;
    if (stat(path, &st) == 0)
        g_hash_table_add(seen, g_strdup_printf("%ju:%ju", (uintmax_t)st.st_dev,
                                               (uintmax_t)st.st_ino));
    return seen;
}

StoreLayer *vhd_open(const char *path, unsigned flags, GError **err)
{
    g_autoptr(GHashTable) seen = seen_new(path);
    return vhd_open_depth(path, flags, 0, seen, err);
}

int vhd_probe(const char *path)
{
    /* Non-blocking: probing a FIFO must not wait for a writer. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return 0;
    struct stat st;
    if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
        close(fd);
        return 0;
    }
    uint8_t b[VHD_FOOTER_SIZE];
    uint64_t size = 0;
    int score = 0;
    if (store_file_size(fd, path, &size, NULL) && size >= VHD_FOOTER_SIZE) {
        if (store_pread(fd, path, b, sizeof(b), size - VHD_FOOTER_SIZE, NULL) &&
            !memcmp(b, "conectix", 8))
            score = 100;
        else if (store_pread(fd, path, b, sizeof(b), 0, NULL) && !memcmp(b, "conectix", 8))
            score = 90;       /* a sparse image whose footer is lost */
    }
    close(fd);
    return score;
}

static StoreLayer *open_image(const char *path, unsigned flags, int depth, VhdSeen *seen,
                              GError **err)
{
    if (vhd_probe(path))
        return vhd_open_depth(path, flags, depth, seen, err);
    return store_raw_open(path, flags & STORE_OPEN_RW, err);
}

StoreLayer *store_open_image(const char *path, unsigned flags, GError **err)
{
    g_autoptr(GHashTable) seen = seen_new(path);
    return open_image(path, flags, 0, seen, err);
}

bool vhd_is_empty(StoreLayer *l)
{
    VhdImage *img = (VhdImage *)l;
    if (img->type == VHD_TYPE_FIXED)
        return false;
    for (uint32_t b = 0; b < img->nblocks; b++)
        if (img->bat[b] != VHD_BAT_UNUSED)
            return false;
    return true;
}
