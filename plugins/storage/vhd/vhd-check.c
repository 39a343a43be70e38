/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VHD maintenance: check (and repair), compact, commit by file name.
 *
 * check reads the structures itself instead of opening the image, so it
 * can report every problem (opening stops at the first) and work on an
 * image that no longer opens. It repairs only what needs no guessing:
 * a lost or stale footer (from its copy, or the copy from the footer),
 * BAT entries that point outside the file or into its metadata (the block
 * is dropped; its data was unreachable anyway), parent locators that
 * point outside the file, and space nothing refers to at the end.
 */
#include "vhd-image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    const char *path;
    int fd;
    bool repair;
    TessBlockCheck *res;
} Chk;

static void finding(Chk *c, bool fixed, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void finding(Chk *c, bool fixed, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    c->res->errors++;
    if (fixed)
        c->res->repaired++;
    if (c->res->report)
        g_string_append_printf(c->res->report, "%s: %s\n", fixed ? "repaired" : "error", msg);
}

static void note(Chk *c, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void note(Chk *c, const char *fmt, ...)
{
    if (!c->res->report)
        return;
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_string_append_printf(c->res->report, "note: %s\n", msg);
}

typedef struct {
    uint64_t start, len;
    int64_t block;         /* BAT index, or -1 for metadata */
} Region;

/* Bytes of [start, start+len) that are not zero, in whole sectors: space
 * no block refers to but that holds data is a write whose metadata never
 * reached the file (lost), not merely leaked space. Holes are skipped. */
static uint64_t span_data(Chk *c, uint64_t start, uint64_t len)
{
    uint64_t found = 0, end = start + len;
    g_autofree uint8_t *buf = g_malloc(65536);
    for (uint64_t pos = start; pos < end;) {
        off_t d = lseek(c->fd, (off_t)pos, SEEK_DATA);
        if (d < 0)
            break;                  /* ENXIO: only a hole from here */
        pos = MAX(pos, (uint64_t)d);
        if (pos >= end)
            break;
        size_t n = (size_t)MIN((uint64_t)65536, end - pos);
        ssize_t got = pread(c->fd, buf, n, (off_t)pos);
        if (got <= 0)
            break;
        for (ssize_t i = 0; i < got; i += VHD_SECTOR) {
            size_t k = MIN((size_t)VHD_SECTOR, (size_t)(got - i));
            if (buf[i] || memcmp(buf + i, buf + i + 1, k - 1))
                found += k;
        }
        pos += (uint64_t)got;
    }
    return found;
}

static int cmp_region(const void *a, const void *b)
{
    const Region *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static uint64_t round512(uint64_t v)
{
    return (v + 511) & ~(uint64_t)511;
}

static void put32be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* The sparse-image part of check; returns false on a host I/O error. */
static bool check_sparse(Chk *c, const VhdFooter *f, const uint8_t *footer_raw,
                         uint64_t file_size, uint64_t footer_pos, bool footer_lost,
                         bool head_ok, const uint8_t *head, GError **err)
{
    const char *path = c->path;
    int fd = c->fd;
    uint64_t limit = footer_pos;
    if (f->data_offset == VHD_NO_OFFSET || f->data_offset < VHD_FOOTER_SIZE ||
        f->data_offset > limit || limit - f->data_offset < VHD_HEADER_SIZE) {
        finding(c, false, "dynamic header offset %#" G_GINT64_MODIFIER "x is outside the file",
                f->data_offset);
        return true;
    }
    uint8_t hb[VHD_HEADER_SIZE];
    if (!store_pread(fd, path, hb, sizeof(hb), f->data_offset, err))
        return false;
    if (memcmp(hb, "cxsparse", 8)) {
        finding(c, false, "no dynamic disk header at %#" G_GINT64_MODIFIER "x", f->data_offset);
        return true;
    }
    if (!vhd_header_ok(hb)) {
        finding(c, false, "dynamic disk header checksum mismatch");
        return true;
    }
    VhdHeader h;
    vhd_header_decode(hb, &h);
    bool header_dirty = false;
    uint32_t bs = h.block_size;
    if (h.version >> 16 != 1) {
        finding(c, false, "dynamic header version %#x is not 1.x", h.version);
        return true;
    }
    if (bs < VHD_MIN_BLOCK || bs > VHD_MAX_BLOCK || (bs & (bs - 1))) {
        finding(c, false, "block size %u is not a power of two from %u to %u", bs,
                VHD_MIN_BLOCK, VHD_MAX_BLOCK);
        return true;
    }
    uint64_t size = vhd_disk_size(f);
    uint64_t nblocks = (size + bs - 1) / bs;
    if (h.max_entries < nblocks) {
        finding(c, false, "the BAT has %u entries, the disk needs %" G_GUINT64_FORMAT,
                h.max_entries, nblocks);
        return true;
    }
    if (h.max_entries > VHD_MAX_ENTRIES) {
        finding(c, false, "BAT of %u entries is larger than supported", h.max_entries);
        return true;
    }
    uint64_t bat_len = (uint64_t)h.max_entries * 4;
    if (h.table_offset < VHD_FOOTER_SIZE || h.table_offset > limit ||
        limit - h.table_offset < bat_len) {
        finding(c, false, "BAT (%" G_GUINT64_FORMAT " bytes at %#" G_GINT64_MODIFIER "x) lies "
                "outside the file", bat_len, h.table_offset);
        return true;
    }
    uint64_t bitmap = round512(((uint64_t)bs / VHD_SECTOR + 7) / 8);
    uint64_t blen = bitmap + bs;

    g_autoptr(GArray) regions = g_array_new(FALSE, FALSE, sizeof(Region));
    Region r = { 0, VHD_FOOTER_SIZE, -1 };
    g_array_append_val(regions, r);
    r = (Region){ f->data_offset, VHD_HEADER_SIZE, -1 };
    g_array_append_val(regions, r);
    r = (Region){ h.table_offset, round512(bat_len), -1 };
    g_array_append_val(regions, r);
    if (f->disk_type == VHD_TYPE_DIFF) {
        for (int i = 0; i < 8; i++) {
            VhdLocator *lc = &h.loc[i];
            if (!lc->code)
                continue;
            if (lc->offset > limit || limit - lc->offset < lc->length ||
                lc->length > VHD_MAX_LOCATOR) {
                finding(c, c->repair, "parent locator %d (%u bytes at %#" G_GINT64_MODIFIER
                        "x) lies outside the file%s", i, lc->length, lc->offset,
                        c->repair ? "; removed" : "");
                if (c->repair) {
                    memset(lc, 0, sizeof(*lc));
                    header_dirty = true;
                }
                continue;
            }
            r = (Region){ lc->offset, MIN(round512(lc->length), limit - lc->offset), -1 };
            g_array_append_val(regions, r);
        }
    }
    guint nmeta = regions->len;

    g_autofree uint8_t *raw = g_malloc(bat_len ? bat_len : 1);
    if (!store_pread(fd, path, raw, bat_len, h.table_offset, err))
        return false;
    g_autofree uint8_t *bat_dirty = g_malloc0(h.max_entries / 128 + 1);
    bool any_bat_dirty = false;
    for (uint32_t i = 0; i < h.max_entries; i++) {
        uint8_t *p = raw + 4 * (size_t)i;
        uint32_t e = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        if (e == VHD_BAT_UNUSED)
            continue;
        uint64_t start = (uint64_t)e * VHD_SECTOR;
        const char *why = NULL;
        if (i >= nblocks)
            why = "is beyond the disk's end but allocated";
        else if (start > limit || limit - start < blen)
            why = "points past the end of the file";
        else
            for (guint k = 0; k < nmeta && !why; k++) {
                Region *m = &g_array_index(regions, Region, k);
                if (start < m->start + m->len && m->start < start + blen)
                    why = "points into the image's metadata";
            }
        if (why) {
            finding(c, c->repair, "BAT entry %u (offset %#" G_GINT64_MODIFIER "x) %s%s", i,
                    start, why, c->repair ? "; entry cleared (its data was unreachable)" : "");
            if (c->repair) {
                put32be(p, VHD_BAT_UNUSED);
                bat_dirty[i / 128] = 1;
                any_bat_dirty = true;
            }
            continue;
        }
        r = (Region){ start, blen, i };
        g_array_append_val(regions, r);
    }
    g_array_sort(regions, cmp_region);
    uint64_t covered_to = 0, leaked = 0, lost = 0;
    Region *prev = NULL;
    for (guint k = 0; k < regions->len; k++) {
        Region *x = &g_array_index(regions, Region, k);
        if (x->start > covered_to) {
            leaked += x->start - covered_to;
            lost += span_data(c, covered_to, x->start - covered_to);
        }
        else if (prev && x->start < covered_to && (x->block >= 0 || prev->block >= 0)) {
            if (x->block >= 0 && prev->block >= 0)
                finding(c, false, "blocks %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT
                        " overlap in the file", prev->block, x->block);
            else if (x->block < 0 && prev->block < 0)
                ;
            else
                finding(c, false, "metadata overlaps block %" G_GINT64_FORMAT,
                        x->block >= 0 ? x->block : prev->block);
        }
        if (x->start + x->len > covered_to) {
            covered_to = x->start + x->len;
            prev = x;
        }
    }
    uint64_t end = round512(covered_to);
    if (!footer_lost && footer_pos > end) {
        uint64_t tail = footer_pos - end;
        leaked += tail;
        lost += span_data(c, end, tail);
        if (c->repair)
            note(c, "%" G_GUINT64_FORMAT " unreferenced bytes at the end reclaimed", tail);
    }
    c->res->leaked = leaked;
    c->res->lost = lost;
    if (lost)
        finding(c, c->repair, "%" G_GUINT64_FORMAT " bytes of data are in the file but no "
                "block refers to them: writes whose metadata never reached the file (the "
                "writer was stopped before a flush or write-back); that data is lost%s", lost,
                c->repair ? "; the space is reclaimed" : "");
    if (leaked > lost && !c->repair)
        note(c, "%" G_GUINT64_FORMAT " bytes of the file are not referenced by any block "
             "(space only: `check --repair` or `compact` reclaims them)", leaked - lost);
    if (footer_lost)
        finding(c, c->repair, "the footer at the end of the file is missing or corrupt%s",
                c->repair ? "; restored from its copy at offset 0" : " (its copy at offset 0 "
                "is used)");
    if (!footer_lost && !head_ok)
        finding(c, c->repair, "the footer copy at offset 0 is corrupt%s",
                c->repair ? "; rewritten" : "");
    else if (!footer_lost && memcmp(head, footer_raw, VHD_FOOTER_SIZE))
        finding(c, c->repair, "the footer copy at offset 0 differs from the footer%s",
                c->repair ? "; rewritten" : "");
    if (!c->repair)
        return true;

    /* Repairs, in crash-safe order: unreachable blocks are forgotten
     * first, then the footer moves behind what remains. */
    for (uint32_t g = 0; any_bat_dirty && g <= h.max_entries / 128; g++) {
        if (!bat_dirty[g])
            continue;
        uint64_t first = (uint64_t)g * 128;
        uint64_t cnt = MIN(128u, h.max_entries - first);
        if (!store_pwrite(fd, path, raw + first * 4, cnt * 4, h.table_offset + first * 4, err))
            return false;
    }
    if (header_dirty) {
        vhd_header_encode(&h, hb);
        if (!store_pwrite(fd, path, hb, sizeof(hb), f->data_offset, err))
            return false;
    }
    if (!store_sync(fd, path, err))
        return false;
    if (footer_lost || footer_pos != end || file_size != end + VHD_FOOTER_SIZE) {
        if (!store_pwrite(fd, path, footer_raw, VHD_FOOTER_SIZE, end, err) ||
            !store_sync(fd, path, err))
            return false;
        if (ftruncate(fd, (off_t)(end + VHD_FOOTER_SIZE)) < 0)
            return store_io_error(err, path, "truncate", errno);
    }
    if (!head_ok || memcmp(head, footer_raw, VHD_FOOTER_SIZE)) {
        if (!store_pwrite(fd, path, footer_raw, VHD_FOOTER_SIZE, 0, err))
            return false;
    }
    return store_sync(fd, path, err);
}

bool vhd_check_file(const char *path, bool repair, TessBlockCheck *res, GError **err)
{
    Chk c = { .path = path, .repair = repair, .res = res };
    c.fd = store_open_file(path, repair, err);
    if (c.fd < 0)
        return false;
    struct stat st;
    bool ok = false;
    uint64_t size;
    uint8_t tail[VHD_FOOTER_SIZE], head[VHD_FOOTER_SIZE], footer_raw[VHD_FOOTER_SIZE];
    if (fstat(c.fd, &st) < 0 || !store_file_size(c.fd, path, &size, err))
        goto out;
    if (size < VHD_FOOTER_SIZE) {
        store_error(err, TESS_ERROR_INVALID, "%s: not a VHD image (too small)", path);
        goto out;
    }
    if (!store_pread(c.fd, path, tail, sizeof(tail), size - VHD_FOOTER_SIZE, err) ||
        !store_pread(c.fd, path, head, sizeof(head), 0, err))
        goto out;
    bool tail_ok = vhd_footer_ok(tail, VHD_FOOTER_SIZE);
    bool head_ok = vhd_footer_ok(head, VHD_FOOTER_SIZE);
    uint64_t footer_pos = size - VHD_FOOTER_SIZE;
    bool footer_lost = false;
    VhdFooter f;
    if (tail_ok) {
        memcpy(footer_raw, tail, sizeof(tail));
    } else if (vhd_footer_ok(tail + 1, 511)) {
        vhd_footer_decode(tail + 1, &f);
        vhd_footer_encode(&f, footer_raw);
        footer_pos = size - 511;
        note(&c, "511-byte footer (made before Virtual PC 2004)");
    } else if (head_ok) {
        memcpy(footer_raw, head, sizeof(head));
        footer_pos = size;
        footer_lost = true;
    } else if (!memcmp(tail, "conectix", 8) || !memcmp(head, "conectix", 8)) {
        finding(&c, false, "footer checksum mismatch and no valid footer copy; nothing to "
                "repair from");
        ok = true;
        goto out;
    } else {
        store_error(err, TESS_ERROR_INVALID, "%s: not a VHD image (no \"conectix\" footer)",
                    path);
        goto out;
    }
    vhd_footer_decode(footer_raw, &f);
    ok = true;
    if (f.version >> 16 != 1) {
        finding(&c, false, "format version %#x is not 1.x", f.version);
        goto out;
    }
    uint64_t dsize = vhd_disk_size(&f);
    if (dsize > VHD_MAX_SIZE) {
        finding(&c, false, "disk size %" G_GUINT64_FORMAT " is beyond 2040 GiB", dsize);
        goto out;
    }
    if (f.saved_state)
        note(&c, "the image is marked as belonging to a saved machine state");
    switch (f.disk_type) {
    case VHD_TYPE_FIXED:
        if (footer_lost) {
            finding(&c, false, "a fixed image with no valid footer at its end");
            break;
        }
        if (dsize > footer_pos)
            finding(&c, false, "the footer describes %" G_GUINT64_FORMAT " bytes but the "
                    "file holds %" G_GUINT64_FORMAT, dsize, footer_pos);
        break;
    case VHD_TYPE_DYNAMIC:
    case VHD_TYPE_DIFF:
        if (footer_lost)
            footer_pos = size;
        ok = check_sparse(&c, &f, footer_raw, size, footer_pos, footer_lost, head_ok, head,
                          err);
        break;
    default:
        finding(&c, false, "disk type %u is not fixed, dynamic or differencing", f.disk_type);
        break;
    }
    if (ok && repair && c.res->repaired) {
        /* Repairs are metadata only: keep the time children were stamped with. */
        struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, st.st_mtim };
        if (futimens(c.fd, ts) < 0)
            ok = store_io_error(err, path, "restore modification time", errno);
    }
out:
    close(c.fd);
    if (ok && res->errors == res->repaired) {
        /* What check does not parse (the parent chain, its UUID and time)
         * is validated by opening the image. */
        g_autoptr(GError) e = NULL;
        StoreLayer *l = vhd_open(path, 0, &e);
        if (l)
            store_close(l);
        else
            finding(&c, false, "%s", e->message);
    }
    return ok;
}

/* ---- compact ---------------------------------------------------------------- */

bool vhd_compact_file(const char *path, TessBlockProgressFn progress, void *opaque,
                      uint64_t *freed, GError **err)
{
    struct stat st0;
    if (stat(path, &st0) < 0)
        return store_io_error(err, path, "stat", errno);
    StoreLayer *l = vhd_open(path, STORE_OPEN_RW, err);
    if (!l)
        return false;
    VhdImage *img = (VhdImage *)l;
    g_autofree char *tmp = NULL;
    int out = -1;
    bool ok = false;
    g_autofree uint8_t *buf = NULL;
    g_autofree uint32_t *nbat = NULL;
    g_autofree uint8_t *raw = NULL;
    if (img->type == VHD_TYPE_FIXED) {
        store_error(err, TESS_ERROR_INVALID, "%s: a fixed image has nothing to compact "
                    "(convert it to a dynamic one)", path);
        goto out;
    }
    if (img->footer.saved_state) {
        store_error(err, TESS_ERROR_INVALID, "%s: the image belongs to a saved machine "
                    "state; compacting it is not allowed", path);
        goto out;
    }
    if (!vhd_writeback(img, err))
        goto out;
    tmp = g_strdup_printf("%s.compact-%08x", path, g_random_int());
    out = store_create_file(tmp, true, err);
    if (out < 0)
        goto out;
    uint64_t blen = (uint64_t)img->bitmap_size + img->block_size;
    buf = g_malloc(MAX(blen, img->meta_end));
    /* Metadata as it is (footer copy, header, BAT, locators). */
    if (!store_pread(l->fd, path, buf, img->meta_end, 0, err) ||
        !store_pwrite(out, tmp, buf, img->meta_end, 0, err))
        goto out;
    nbat = g_new(uint32_t, MAX(img->max_entries, 1u));
    uint64_t next = img->meta_end;
    const size_t chunk = 64 << 10;
    for (uint32_t b = 0; b < img->max_entries; b++) {
        nbat[b] = VHD_BAT_UNUSED;
        if (progress && b < img->nblocks)
            progress(opaque, (uint64_t)b * img->block_size, l->size);
        if (b >= img->nblocks || img->bat[b] == VHD_BAT_UNUSED)
            continue;
        if (!store_pread(l->fd, path, buf, blen, (uint64_t)img->bat[b] * VHD_SECTOR, err))
            goto out;
        uint8_t *data = buf + img->bitmap_size;
        bool keep;
        if (img->type == VHD_TYPE_DYNAMIC)
            keep = !store_is_zero(data, img->block_size);
        else
            keep = !store_is_zero(buf, (img->spb + 7) / 8);
        if (!keep)
            continue;
        if (!store_pwrite(out, tmp, buf, img->bitmap_size, next, err))
            goto out;
        /* Zero stretches stay holes in the new file. */
        for (size_t o = 0; o < img->block_size; o += chunk) {
            size_t n = MIN(chunk, (size_t)img->block_size - o);
            if (!store_is_zero(data + o, n) &&
                !store_pwrite(out, tmp, data + o, n, next + img->bitmap_size + o, err))
                goto out;
        }
        nbat[b] = (uint32_t)(next / VHD_SECTOR);
        next += blen;
    }
    raw = g_malloc((size_t)img->max_entries * 4 + 4);
    for (uint32_t i = 0; i < img->max_entries; i++)
        put32be(raw + 4 * (size_t)i, nbat[i]);
    if (!store_pwrite(out, tmp, raw, (size_t)img->max_entries * 4, img->bat_offset, err) ||
        !store_pwrite(out, tmp, img->footer_raw, VHD_FOOTER_SIZE, next, err) ||
        !store_pwrite(out, tmp, img->footer_raw, VHD_FOOTER_SIZE, 0, err))
        goto out;
    if (ftruncate(out, (off_t)(next + VHD_FOOTER_SIZE)) < 0) {
        store_io_error(err, tmp, "truncate", errno);
        goto out;
    }
    struct timespec ts[2] = { st0.st_atim, st0.st_mtim };
    if (fchmod(out, st0.st_mode & 07777) < 0 || !store_sync(out, tmp, err) ||
        futimens(out, ts) < 0) {
        if (err && !*err)
            store_io_error(err, tmp, "set attributes", errno);
        goto out;
    }
    struct stat st1;
    uint64_t before = 0, after = 0;
    if (fstat(l->fd, &st1) == 0)
        before = (uint64_t)st1.st_blocks * 512;
    if (fstat(out, &st1) == 0)
        after = (uint64_t)st1.st_blocks * 512;
    if (rename(tmp, path) < 0) {
        store_io_error(err, path, "replace with the compacted image", errno);
        goto out;
    }
    g_clear_pointer(&tmp, g_free);
    {
        g_autofree char *dir = g_path_get_dirname(path);
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    if (freed)
        *freed = before > after ? before - after : 0;
    if (progress)
        progress(opaque, l->size, l->size);
    ok = true;
out:
    if (out >= 0)
        close(out);
    if (tmp)
        unlink(tmp);
    store_close(l);
    return ok;
}

bool vhd_commit_file(const char *child, TessBlockProgressFn progress, void *opaque,
                     GError **err)
{
    StoreLayer *l = vhd_open(child, STORE_OPEN_RW | STORE_OPEN_PARENT_RW, err);
    if (!l)
        return false;
    bool ok = vhd_commit(l, progress, opaque, err);
    store_close(l);
    return ok;
}
