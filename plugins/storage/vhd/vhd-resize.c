/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Resizing a fixed or dynamic VHD (tessera img resize).
 *
 * The new size is rounded up to whole CHS geometry, as at create, and the
 * footer records it with that geometry. Ordering keeps a valid footer at
 * the file's end at every instant:
 *  - fixed: grow writes the new footer at the new end, then zeroes the
 *    old one (now inside the data); shrink writes the new footer inside
 *    the data, then cuts the file after it;
 *  - dynamic: the BAT grows in place; data blocks in the way are first
 *    copied to the file's end (a footer after them) and the BAT pointed
 *    at the copies, then the grown BAT, the header sizing it and the
 *    footers are written. Shrink zeroes the blocks past the new end,
 *    marks them unused, then compacts the file (nothing is left behind
 *    for check to take for lost writes).
 * A differencing image has its parent's size and is refused.
 */
#include "store.h"
#include "vhd-format.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static uint64_t round512(uint64_t v)
{
    return (v + VHD_SECTOR - 1) & ~(uint64_t)(VHD_SECTOR - 1);
}

/* Make [off, off+len) read as zeros: space nothing refers to any more must
 * hold no data, or check would count it as lost writes. */
static bool zero_range(int fd, const char *path, uint64_t off, uint64_t len, GError **err)
{
    if (!len || fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
                          (off_t)len) == 0)
        return true;
    static const uint8_t zero[65536];
    for (uint64_t done = 0; done < len;) {
        size_t n = (size_t)MIN(len - done, (uint64_t)sizeof(zero));
        if (!store_pwrite(fd, path, zero, n, off + done, err))
            return false;
        done += n;
    }
    return true;
}

static void footer_set_size(VhdFooter *f, uint64_t size)
{
    f->cur_size = size;
    vhd_chs(size / VHD_SECTOR, &f->cylinders, &f->heads, &f->spt);
}

static bool resize_fixed(int fd, const char *path, VhdFooter *f, uint64_t old,
                         uint64_t size, GError **err)
{
    uint8_t fb[VHD_FOOTER_SIZE];
    footer_set_size(f, size);
    vhd_footer_encode(f, fb);
    if (!store_pwrite(fd, path, fb, sizeof(fb), size, err) || !store_sync(fd, path, err))
        return false;
    if (size > old) {
        static const uint8_t zero[VHD_FOOTER_SIZE];
        return store_pwrite(fd, path, zero, sizeof(zero), old, err) &&
               store_sync(fd, path, err);
    }
    if (ftruncate(fd, (off_t)(size + VHD_FOOTER_SIZE)) < 0)
        return store_io_error(err, path, "set size", errno);
    return store_sync(fd, path, err);
}

static uint32_t bat_get(const uint8_t *bat, uint64_t i)
{
    return (uint32_t)bat[4 * i] << 24 | (uint32_t)bat[4 * i + 1] << 16 |
           (uint32_t)bat[4 * i + 2] << 8 | bat[4 * i + 3];
}

static void bat_put(uint8_t *bat, uint64_t i, uint32_t v)
{
    bat[4 * i] = (uint8_t)(v >> 24);
    bat[4 * i + 1] = (uint8_t)(v >> 16);
    bat[4 * i + 2] = (uint8_t)(v >> 8);
    bat[4 * i + 3] = (uint8_t)v;
}

static bool resize_dynamic(int fd, const char *path, VhdFooter *f, uint64_t file_size,
                           uint64_t size, GError **err)
{
    uint8_t hb[VHD_HEADER_SIZE];
    if (f->data_offset > file_size || file_size - f->data_offset < sizeof(hb))
        return store_error(err, TESS_ERROR_INVALID, "%s: the dynamic header lies outside "
                           "the file", path);
    if (!store_pread(fd, path, hb, sizeof(hb), f->data_offset, err))
        return false;
    if (!vhd_header_ok(hb))
        return store_error(err, TESS_ERROR_INVALID, "%s: bad dynamic disk header "
                           "(try tessera img check)", path);
    VhdHeader h;
    vhd_header_decode(hb, &h);
    if (!h.block_size || h.block_size % VHD_SECTOR || h.block_size > VHD_MAX_BLOCK)
        return store_error(err, TESS_ERROR_INVALID, "%s: bad block size %u", path,
                           h.block_size);
    uint64_t nblocks = (size + h.block_size - 1) / h.block_size;
    uint64_t old_n = h.max_entries;
    uint64_t old_bytes = round512(old_n * 4);
    uint64_t new_bytes = MAX(old_bytes, round512(nblocks * 4));
    uint64_t bitmap = round512(h.block_size / VHD_SECTOR / 8);
    uint64_t blen = bitmap + h.block_size;
    if (h.table_offset > file_size || file_size - h.table_offset < old_bytes)
        return store_error(err, TESS_ERROR_INVALID, "%s: the BAT lies outside the file", path);
    g_autofree uint8_t *bat = g_malloc(new_bytes);
    memset(bat, 0xFF, new_bytes);
    if (!store_pread(fd, path, bat, old_n * 4, h.table_offset, err))
        return false;
    uint64_t end = file_size - VHD_FOOTER_SIZE;     /* where the footer is */
    uint8_t fb[VHD_FOOTER_SIZE];

    /* Growing past the BAT's room: the blocks in the way move to the end
     * of the file, with a footer (still the old size) after them; then
     * the BAT points to the copies. The BAT keeps its place, as every
     * writer lays it out. */
    bool moved = false;
    g_autofree uint8_t *buf = NULL;
    g_autoptr(GArray) vacated = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    for (uint64_t i = 0; i < old_n && new_bytes > old_bytes; i++) {
        uint32_t e = bat_get(bat, i);
        uint64_t at = (uint64_t)e * VHD_SECTOR;
        if (e == VHD_BAT_UNUSED || at >= h.table_offset + new_bytes ||
            at + blen <= h.table_offset)
            continue;
        if (at < h.table_offset + old_bytes || at + blen > end)
            return store_error(err, TESS_ERROR_INVALID, "%s: BAT entry %" G_GUINT64_FORMAT
                               " is corrupt (try tessera img check)", path, i);
        if (!buf)
            buf = g_malloc(blen);
        if (!store_pread(fd, path, buf, blen, at, err) ||
            !store_pwrite(fd, path, buf, blen, end, err))
            return false;
        bat_put(bat, i, (uint32_t)(end / VHD_SECTOR));
        g_array_append_val(vacated, at);
        end += blen;
        moved = true;
    }
    if (moved) {
        vhd_footer_encode(f, fb);
        if (!store_pwrite(fd, path, fb, sizeof(fb), end, err) || !store_sync(fd, path, err) ||
            !store_pwrite(fd, path, bat, old_bytes, h.table_offset, err) ||
            !store_sync(fd, path, err))
            return false;
    }

    /* Blocks past a smaller end: their entries go, their data too. */
    for (uint64_t i = nblocks; i < old_n; i++) {
        uint32_t e = bat_get(bat, i);
        uint64_t at = (uint64_t)e * VHD_SECTOR;
        if (e != VHD_BAT_UNUSED && at < end &&
            !zero_range(fd, path, at, MIN(blen, end - at), err))
            return false;
        bat_put(bat, i, VHD_BAT_UNUSED);
    }

    /* The footer never lies inside the grown BAT (an image with no
     * blocks has it right after the BAT). */
    end = MAX(end, h.table_offset + new_bytes);
    /* The whole BAT, then the header that sizes it, then both footers. */
    footer_set_size(f, size);
    vhd_footer_encode(f, fb);
    h.max_entries = (uint32_t)nblocks;
    vhd_header_encode(&h, hb);
    if (!store_pwrite(fd, path, bat, new_bytes, h.table_offset, err) ||
        !store_sync(fd, path, err) ||
        !store_pwrite(fd, path, hb, sizeof(hb), f->data_offset, err) ||
        !store_sync(fd, path, err) ||
        !store_pwrite(fd, path, fb, sizeof(fb), end, err) ||
        !store_pwrite(fd, path, fb, sizeof(fb), 0, err) || !store_sync(fd, path, err))
        return false;
    /* What the moved blocks left past the BAT is free space: no data. */
    for (guint k = 0; k < vacated->len; k++) {
        uint64_t at = MAX(g_array_index(vacated, uint64_t, k), h.table_offset + new_bytes);
        uint64_t stop = g_array_index(vacated, uint64_t, k) + blen;
        if (at < stop && !zero_range(fd, path, at, stop - at, err))
            return false;
    }
    return store_sync(fd, path, err);
}

bool vhd_resize_file(const char *path, uint64_t size, bool shrink, uint64_t *new_size,
                     GError **err)
{
    size = vhd_round_size(size);
    if (!size || size > VHD_MAX_SIZE)
        return store_error(err, TESS_ERROR_INVALID, "%s: a VHD holds 512 bytes to %"
                           G_GUINT64_FORMAT " bytes", path, (uint64_t)VHD_MAX_SIZE);
    int fd = store_open_file(path, true, err);
    if (fd < 0)
        return false;
    bool ok = false, compact = false;
    uint64_t file_size;
    uint8_t fb[VHD_FOOTER_SIZE];
    VhdFooter f;
    if (!store_file_size(fd, path, &file_size, err))
        goto out;
    if (file_size < VHD_FOOTER_SIZE ||
        !store_pread(fd, path, fb, sizeof(fb), file_size - VHD_FOOTER_SIZE, err))
        goto out;
    if (!vhd_footer_ok(fb, sizeof(fb))) {
        store_error(err, TESS_ERROR_INVALID, "%s: no valid VHD footer at the end of the file "
                    "(try tessera img check --repair)", path);
        goto out;
    }
    vhd_footer_decode(fb, &f);
    uint64_t old = vhd_disk_size(&f);
    if (size < old && !shrink) {
        store_error(err, TESS_ERROR_INVALID, "%s: %" G_GUINT64_FORMAT " bytes is smaller than "
                    "the image; shrinking needs --shrink", path, size);
        goto out;
    }
    if (f.disk_type == VHD_TYPE_FIXED) {
        if (file_size - VHD_FOOTER_SIZE != old) {
            store_error(err, TESS_ERROR_INVALID, "%s: the fixed image's data (%" G_GUINT64_FORMAT
                        " bytes) does not match its size (%" G_GUINT64_FORMAT " bytes)", path,
                        file_size - VHD_FOOTER_SIZE, old);
            goto out;
        }
        ok = resize_fixed(fd, path, &f, old, size, err);
    } else if (f.disk_type == VHD_TYPE_DYNAMIC) {
        ok = resize_dynamic(fd, path, &f, file_size, size, err);
        compact = ok && size < old;
    } else {
        store_error(err, TESS_ERROR_UNSUPPORTED, "%s: a differencing image has its parent's "
                    "size and cannot be resized", path);
    }
out:
    close(fd);
    if (ok && compact) {
        uint64_t freed;
        ok = vhd_compact_file(path, NULL, NULL, &freed, err);
    }
    if (ok)
        *new_size = size;
    return ok;
}
