/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VHD images: creating them (fixed, dynamic, differencing, and the undo
 * overlay), emptying a differencing image, and committing it into its
 * parent. Layout of a new sparse image, as Virtual PC and qemu write it:
 * footer copy (0), dynamic header (512), BAT (1536), parent locators,
 * then blocks, then the footer.
 */
#include "vhd-image.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t round512(uint64_t v)
{
    return (v + 511) & ~(uint64_t)511;
}

/* ---- creating ---------------------------------------------------------------- */

/* Path from directory `from` to file `to` (both absolute), Windows style. */
static char *relative_path(const char *from, const char *to)
{
    g_auto(GStrv) a = g_strsplit(from, "/", -1);
    g_auto(GStrv) b = g_strsplit(to, "/", -1);
    guint na = g_strv_length(a), nb = g_strv_length(b);
    guint i = 0;
    while (i < na && i + 1 < nb && !strcmp(a[i], b[i]))
        i++;
    GString *s = g_string_new(NULL);
    for (guint k = i; k < na; k++)
        if (*a[k])
            g_string_append(s, "..\\");
    if (!s->len)
        g_string_append(s, ".\\");
    for (guint k = i; k < nb; k++) {
        if (!*b[k])
            continue;
        g_string_append(s, b[k]);
        if (k + 1 < nb)
            g_string_append_c(s, '\\');
    }
    return g_string_free(s, FALSE);
}

static void footer_init(VhdFooter *f, uint32_t type, uint64_t size, bool temporary)
{
    memset(f, 0, sizeof(*f));
    memcpy(f->cookie, "conectix", 8);
    f->features = VHD_FEATURE_RESERVED | (temporary ? VHD_FEATURE_TEMPORARY : 0);
    f->version = VHD_VERSION;
    f->data_offset = type == VHD_TYPE_FIXED ? VHD_NO_OFFSET : VHD_FOOTER_SIZE;
    f->timestamp = vhd_time_from_unix(g_get_real_time() / G_USEC_PER_SEC);
    memcpy(f->creator_app, "tess", 4);
    f->creator_version = 0x00000001;               /* 0.1 */
    /* The specification knows Windows and Macintosh hosts only; qemu,
     * VirtualBox and Xen write "Wi2k" too. */
    f->creator_os = 0x5769326B;
    f->orig_size = f->cur_size = size;
    vhd_chs(size / VHD_SECTOR, &f->cylinders, &f->heads, &f->spt);
    f->disk_type = type;
    vhd_uuid_generate(f->uuid);
}

typedef struct {
    uint32_t code;
    uint8_t *data;
    size_t len;
} LocData;

static bool build_image(const char *path, uint32_t type, uint64_t size, uint32_t block_size,
                        StoreLayer *parent, bool temporary, bool excl, GError **err)
{
    VhdFooter f;
    uint8_t fb[VHD_FOOTER_SIZE];
    footer_init(&f, type, size, temporary);
    vhd_footer_encode(&f, fb);
    int fd = store_create_file(path, excl, err);
    if (fd < 0)
        return false;
    bool ok = false;
    LocData loc[3] = { { 0 } };
    g_autofree uint8_t *bat = NULL;
    if (type == VHD_TYPE_FIXED) {
        if (ftruncate(fd, (off_t)size) < 0) {
            store_io_error(err, path, "set size", errno);
            goto out;
        }
        ok = store_pwrite(fd, path, fb, sizeof(fb), size, err) && store_sync(fd, path, err);
        goto out;
    }
    uint64_t entries = (size + block_size - 1) / block_size;
    uint64_t bat_off = VHD_FOOTER_SIZE + VHD_HEADER_SIZE;
    uint64_t bat_bytes = round512(entries * 4);
    VhdHeader h;
    memset(&h, 0, sizeof(h));
    memcpy(h.cookie, "cxsparse", 8);
    h.data_offset = VHD_NO_OFFSET;
    h.table_offset = bat_off;
    h.version = VHD_VERSION;
    h.max_entries = (uint32_t)entries;
    h.block_size = block_size;
    uint64_t pos = bat_off + bat_bytes;
    if (parent) {
        if (vhd_is_vhd_layer(parent))
            memcpy(h.parent_uuid, ((VhdImage *)parent)->footer.uuid, 16);
        h.parent_ts = vhd_time_from_unix(store_file_mtime(parent->fd));
        g_autofree char *pabs = g_canonicalize_filename(parent->path, NULL);
        g_autofree char *cabs = g_canonicalize_filename(path, NULL);
        g_autofree char *cdir = g_path_get_dirname(cabs);
        g_autofree char *pbase = g_path_get_basename(pabs);
        size_t nlen;
        g_autofree uint8_t *name = vhd_utf16_encode(pbase, true, &nlen);
        memcpy(h.parent_name, name, MIN(nlen, sizeof(h.parent_name)));
        g_autofree char *rel = relative_path(cdir, pabs);
        loc[0].code = VHD_PLAT_W2RU;
        loc[0].data = vhd_utf16_encode(rel, false, &loc[0].len);
        loc[1].code = VHD_PLAT_W2KU;
        loc[1].data = vhd_utf16_encode(pabs, false, &loc[1].len);
        char *uri = g_filename_to_uri(pabs, NULL, NULL);
        loc[2].code = VHD_PLAT_MACX;
        loc[2].data = (uint8_t *)uri;
        loc[2].len = uri ? strlen(uri) : 0;
        for (int i = 0, k = 0; i < 3; i++) {
            if (!loc[i].len)
                continue;
            h.loc[k].code = loc[i].code;
            h.loc[k].space = (uint32_t)(round512(loc[i].len) / VHD_SECTOR);
            h.loc[k].length = (uint32_t)loc[i].len;
            h.loc[k].offset = pos;
            pos += round512(loc[i].len);
            k++;
        }
    }
    uint8_t hb[VHD_HEADER_SIZE];
    vhd_header_encode(&h, hb);
    bat = g_malloc(bat_bytes);
    memset(bat, 0xFF, bat_bytes);
    if (!store_pwrite(fd, path, bat, bat_bytes, bat_off, err) ||
        !store_pwrite(fd, path, hb, sizeof(hb), VHD_FOOTER_SIZE, err))
        goto out;
    for (int i = 0; i < 8; i++) {
        for (int k = 0; k < 3; k++) {
            if (h.loc[i].code && loc[k].code == h.loc[i].code &&
                !store_pwrite(fd, path, loc[k].data, loc[k].len, h.loc[i].offset, err))
                goto out;
        }
    }
    ok = store_pwrite(fd, path, fb, sizeof(fb), pos, err) &&
         store_pwrite(fd, path, fb, sizeof(fb), 0, err) && store_sync(fd, path, err);
out:
    for (int i = 0; i < 3; i++)
        g_free(loc[i].data);
    close(fd);
    if (!ok)
        unlink(path);
    return ok;
}

bool vhd_create(const TessBlockCreate *o, GError **err)
{
    uint32_t type;
    const char *t = o->type;
    if (!t)
        t = o->parent ? "differencing" : "dynamic";
    if (!strcmp(t, "fixed"))
        type = VHD_TYPE_FIXED;
    else if (!strcmp(t, "dynamic") || !strcmp(t, "expanding"))
        type = VHD_TYPE_DYNAMIC;
    else if (!strcmp(t, "differencing"))
        type = VHD_TYPE_DIFF;
    else
        return store_error(err, TESS_ERROR_INVALID,
                           "%s: unknown VHD type '%s' (fixed, dynamic, differencing)",
                           o->file, t);
    uint32_t bs = o->block_size ? o->block_size : VHD_DEFAULT_BLOCK;
    if (bs < VHD_MIN_BLOCK || bs > VHD_MAX_BLOCK || (bs & (bs - 1)))
        return store_error(err, TESS_ERROR_INVALID,
                           "%s: block size %u is not a power of two from %u to %u",
                           o->file, bs, VHD_MIN_BLOCK, VHD_MAX_BLOCK);
    if (type == VHD_TYPE_DIFF) {
        if (!o->parent)
            return store_error(err, TESS_ERROR_INVALID,
                               "%s: a differencing image needs parent=FILE", o->file);
        if (store_same_file(o->file, o->parent))
            return store_error(err, TESS_ERROR_INVALID,
                               "%s: an image cannot be its own parent", o->file);
        StoreLayer *p = store_open_image(o->parent, 0, err);
        if (!p)
            return false;
        bool ok = true;
        if (o->size && o->size != p->size)
            ok = store_error(err, TESS_ERROR_INVALID,
                             "%s: a differencing image has its parent's size (%"
                             G_GUINT64_FORMAT " bytes), not %" G_GUINT64_FORMAT, o->file,
                             p->size, o->size);
        if (ok && p->size / bs + 1 > VHD_MAX_ENTRIES)
            ok = store_error(err, TESS_ERROR_INVALID, "%s: block size %u is too small "
                             "for %" G_GUINT64_FORMAT " bytes", o->file, bs, p->size);
        if (ok)
            ok = build_image(o->file, type, p->size, bs, p, false, false, err);
        store_close(p);
        return ok;
    }
    if (o->parent)
        return store_error(err, TESS_ERROR_INVALID,
                           "%s: parent= needs type=differencing", o->file);
    if (!o->size)
        return store_error(err, TESS_ERROR_INVALID, "%s: no size given", o->file);
    uint64_t size = vhd_round_size(o->size);
    if (size > VHD_MAX_SIZE)
        return store_error(err, TESS_ERROR_INVALID,
                           "%s: %" G_GUINT64_FORMAT " bytes is beyond the VHD limit of "
                           "2040 GiB", o->file, size);
    if (type != VHD_TYPE_FIXED && size / bs + 1 > VHD_MAX_ENTRIES)
        return store_error(err, TESS_ERROR_INVALID, "%s: block size %u is too small for %"
                           G_GUINT64_FORMAT " bytes", o->file, bs, size);
    return build_image(o->file, type, size, bs, NULL, false, false, err);
}

StoreLayer *vhd_create_overlay(const char *path, StoreLayer *parent, bool temporary,
                               GError **err)
{
    if (!build_image(path, VHD_TYPE_DIFF, parent->size, VHD_DEFAULT_BLOCK, parent, temporary,
                     true, err))
        return NULL;
    uint8_t head[VHD_FOOTER_SIZE];
    bool head_ok;
    VhdImage *img = vhd_load(path, STORE_OPEN_RW, err, head, &head_ok);
    if (!img)
        return NULL;
    /* The parent's size is exact (raw files need not be whole CHS). */
    img->parent = parent;
    img->own_parent = false;
    if (!vhd_parent_matches(img, parent, err)) {
        vhd_free(img);
        return NULL;
    }
    return &img->l;
}

StoreLayer *vhd_open_overlay(const char *path, StoreLayer *parent, GError **err)
{
    uint8_t head[VHD_FOOTER_SIZE];
    bool head_ok;
    VhdImage *img = vhd_load(path, STORE_OPEN_RW, err, head, &head_ok);
    if (!img)
        return NULL;
    if (img->type != VHD_TYPE_DIFF || img->l.size != parent->size) {
        store_error(err, TESS_ERROR_INVALID, "%s: not an undo overlay of %s", path,
                    parent->path);
        vhd_free(img);
        return NULL;
    }
    img->parent = parent;
    img->own_parent = false;
    if (!vhd_parent_matches(img, parent, err)) {
        vhd_free(img);
        return NULL;
    }
    return &img->l;
}

/* ---- commit -------------------------------------------------------------------- */

bool vhd_empty(StoreLayer *l, GError **err)
{
    VhdImage *img = (VhdImage *)l;
    const char *path = l->path;
    int fd = l->fd;
    if (img->type != VHD_TYPE_DIFF || !img->parent)
        return store_error(err, TESS_ERROR_INVALID, "%s: not a differencing image", path);
    /* After a commit the child reads as before: its own children stay
     * valid, so it keeps its modification time. (After a discard they
     * would not, but the undo overlay has no children.) */
    struct stat st;
    if (fstat(fd, &st) < 0)
        return store_io_error(err, path, "stat", errno);
    /* Re-stamp first: a crash after it leaves a child holding the same
     * data as the (committed) parent, which is still consistent. */
    img->hdr.parent_ts = vhd_time_from_unix(store_file_mtime(img->parent->fd));
    uint8_t hb[VHD_HEADER_SIZE];
    vhd_header_encode(&img->hdr, hb);
    if (!store_pwrite(fd, path, hb, sizeof(hb), img->hdr_offset, err) ||
        !store_sync(fd, path, err))
        return false;
    for (uint32_t i = 0; i < img->max_entries; i++)
        img->bat[i] = VHD_BAT_UNUSED;
    uint64_t bat_len = (uint64_t)img->max_entries * 4;
    g_autofree uint8_t *ff = g_malloc(bat_len ? bat_len : 1);
    memset(ff, 0xFF, bat_len);
    if (!store_pwrite(fd, path, ff, bat_len, img->bat_offset, err) ||
        !store_sync(fd, path, err))
        return false;
    g_hash_table_remove_all(img->bitmaps);
    memset(img->bstate, 0, MAX(img->nblocks, 1u));
    g_array_set_size(img->dirty, 0);
    img->next_free = img->meta_end;
    if (!store_pwrite(fd, path, img->footer_raw, VHD_FOOTER_SIZE, img->next_free, err) ||
        !store_sync(fd, path, err))
        return false;
    if (ftruncate(fd, (off_t)(img->next_free + VHD_FOOTER_SIZE)) < 0)
        return store_io_error(err, path, "truncate", errno);
    img->footer_pos = img->next_free;
    img->file_size = img->next_free + VHD_FOOTER_SIZE;
    img->data_dirty = false;
    struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, st.st_mtim };
    if (futimens(fd, ts) < 0)
        return store_io_error(err, path, "restore modification time", errno);
    return true;
}

bool vhd_commit(StoreLayer *l, TessBlockProgressFn progress, void *opaque, GError **err)
{
    VhdImage *img = (VhdImage *)l;
    StoreLayer *p = img->parent;
    if (!vhd_is_vhd_layer(l) || img->type != VHD_TYPE_DIFF || !p)
        return store_error(err, TESS_ERROR_INVALID,
                           "%s: only a differencing image can be committed", l->path);
    if (p->read_only)
        return store_error(err, TESS_ERROR_INVALID, "%s: parent %s is read-only", l->path,
                           p->path);
    if (!l->read_only && !vhd_writeback(img, err))
        return false;
    g_autofree uint8_t *buf = g_malloc(img->block_size);
    for (uint32_t b = 0; b < img->nblocks; b++) {
        if (progress)
            progress(opaque, (uint64_t)b * img->block_size, l->size);
        if (img->bat[b] == VHD_BAT_UNUSED)
            continue;
        uint64_t voff = (uint64_t)b * img->block_size;
        uint64_t n = MIN((uint64_t)img->block_size, l->size - voff);
        uint64_t data = (uint64_t)img->bat[b] * VHD_SECTOR + img->bitmap_size;
        uint8_t *bits = NULL;
        int st = vhd_bitmap(img, b, &bits, err);
        if (st < 0)
            return false;
        uint32_t cnt = (uint32_t)(n / VHD_SECTOR);
        for (uint32_t s = 0; s < cnt;) {
            bool present = true;
            uint32_t run = st == BS_FULL ? cnt : vhd_bit_run(bits, s, cnt - s, &present);
            if (present) {
                size_t bytes = (size_t)run * VHD_SECTOR;
                uint64_t at = (uint64_t)s * VHD_SECTOR;
                if (!store_pread(l->fd, l->path, buf, bytes, data + at, err) ||
                    !p->ops->write(p, voff + at, buf, bytes, err))
                    return false;
            }
            s += run;
        }
    }
    if (!p->ops->flush(p, err))
        return false;
    if (progress)
        progress(opaque, l->size, l->size);
    return vhd_empty(l, err);
}
