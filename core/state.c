/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Snapshots: a running machine's whole state in one file, and back.
 *
 * File layout (little-endian throughout):
 *
 *   "TESSSNAP" u32 format-version u32 0
 *   section*   u32 kind  str id  str type  u32 version  u64 length  u32 crc32
 *              then `length` bytes of payload (CRC-32/IEEE of the payload)
 *
 * Kinds, in file order: HDR (what to build: the machine file's text, its
 * directory, the --set overrides, the CPU class, deterministic mode, and
 * the plugin set: every saved device's type, plugin and plugin version),
 * DISK (each disk's image identity), DEV (one per device with a state
 * table, machine-file order, children first), SIG (every output line's
 * level), RAM (main RAM: a bitmap of non-zero pages and one zstd frame of
 * those pages), CLK (virtual time and every armed timer, by its owner and
 * creation index, in firing order), END.
 *
 * A str is a u32 length (0xFFFFFFFF: none) and the bytes. A device
 * section is its fields by name (str name, u8 type, u64 bytes, u8
 * encoding: 0 raw, 1 zstd with a u64 stored length, then the bytes), so a
 * newer class reads an older section field by field; what it does not
 * find keeps its reset value and post_load fixes it up.
 *
 * The encoding depends only on the state, so saving a restored machine
 * gives the same DEV, SIG, RAM and CLK sections byte for byte (the round
 * trip tests compare exactly that).
 */
#include "core.h"
#include "state-file.h"
#include "tess-config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <zstd.h>

/* ---- the header (written here; state-file.c reads it) ------------------- */

static const char *plugin_name_of(TessRegistry *reg, const TessDeviceClass *cls)
{
    TessPluginRec *p = tess_registry_class_plugin(reg, cls);
    return p ? p->desc->name : "(built in)";
}

static const char *plugin_version_of(TessRegistry *reg, const TessDeviceClass *cls)
{
    TessPluginRec *p = tess_registry_class_plugin(reg, cls);
    return p ? p->desc->version : TESS_VERSION;
}

static void hdr_put(TessMachine *m, GByteArray *b)
{
    snap_put_str(b, TESS_VERSION);
    snap_put_str(b, m->name);
    snap_put_str(b, m->file);
    snap_put_str(b, m->cfg_dir ? m->cfg_dir : ".");
    snap_put_str(b, m->cfg_xml ? m->cfg_xml : "<machine base=\"pc\"/>");
    snap_put_str(b, m->cpu->cls->type);
    snap_put_u8(b, m->opts.deterministic);
    snap_put_u32(b, m->opts.ns_per_insn);
    snap_put_u64(b, tess_machine_ram_size(m));
    snap_put_u64(b, m->cpu_ops->icount(m->cpu));
    snap_put_u64(b, tess_clock_ns(m));
    GPtrArray *ov = m->cfg_overrides;
    snap_put_u32(b, ov ? ov->len : 0);
    for (guint i = 0; ov && i < ov->len; i++) {
        TessOverride *o = ov->pdata[i];
        snap_put_str(b, o->id);
        snap_put_str(b, o->type);
        snap_put_u8(b, o->first_only);
        snap_put_str(b, o->prop);
        snap_put_str(b, o->value);
    }
    guint n = 0;
    for (guint i = 0; i < m->devices->len; i++)
        n += ((TessDevice *)m->devices->pdata[i])->cls->state != NULL;
    snap_put_u32(b, n);
    for (guint i = 0; i < m->devices->len; i++) {
        TessDevice *d = m->devices->pdata[i];
        if (!d->cls->state)
            continue;
        snap_put_str(b, d->id);
        snap_put_str(b, d->cls->type);
        snap_put_str(b, plugin_name_of(m->reg, d->cls));
        snap_put_str(b, plugin_version_of(m->reg, d->cls));
        snap_put_u32(b, d->cls->state->version);
    }
}

/* ---- device state ----------------------------------------------------------- */


/* Where a field's bytes live in the instance and how many there are;
 * NULL with *n 0 for a pointer field that is not set. */
static uint8_t *field_bytes(TessDevice *dev, const TessStateField *f, size_t *n)
{
    uint8_t *base = (uint8_t *)dev;
    switch (f->type) {
    case TESS_STATE_T_U8: case TESS_STATE_T_U16: case TESS_STATE_T_U32:
    case TESS_STATE_T_U64: case TESS_STATE_T_BOOL:
        *n = snap_field_width(f->type) * (f->size ? f->size : 1);
        return base + f->offset;
    case TESS_STATE_T_BUF:
        *n = f->size;
        return base + f->offset;
    case TESS_STATE_T_PTRBUF: {
        uint8_t *p;
        memcpy(&p, base + f->offset, sizeof(p));
        *n = p ? f->size : 0;
        return p;
    }
    case TESS_STATE_T_VARBUF:
    case TESS_STATE_T_BLOB: {
        uint8_t *p;
        uint32_t sz;
        memcpy(&p, base + f->offset, sizeof(p));
        memcpy(&sz, base + f->size, sizeof(sz));
        *n = p ? sz : 0;
        return p;
    }
    default:
        *n = 0;
        return NULL;
    }
}

static bool is_scalar(TessStateType t)
{
    return snap_field_width(t) != 0;
}

/* Scalars are stored little-endian element by element. */
static void put_field_data(GByteArray *b, const TessStateField *f, const uint8_t *p, size_t n)
{
    unsigned w = snap_field_width(f->type);
    if (w <= 1 || G_BYTE_ORDER == G_LITTLE_ENDIAN || !is_scalar(f->type)) {
        if (n >= SNAP_ZSTD_MIN) {
            size_t cap = ZSTD_compressBound(n);
            guint at = b->len;
            snap_put_u8(b, SNAP_ENC_ZSTD);
            snap_put_u64(b, 0);
            g_byte_array_set_size(b, at + 9 + (guint)cap);
            size_t z = ZSTD_compress(b->data + at + 9, cap, p, n, SNAP_ZSTD_LEVEL);
            if (!ZSTD_isError(z)) {
                g_byte_array_set_size(b, at + 9 + (guint)z);
                for (int i = 0; i < 8; i++)
                    b->data[at + 1 + i] = (uint8_t)((uint64_t)z >> (8 * i));
                return;
            }
            g_byte_array_set_size(b, at);
        }
        snap_put_u8(b, SNAP_ENC_RAW);
        snap_put_bytes(b, p, n);
        return;
    }
    snap_put_u8(b, SNAP_ENC_RAW);
    for (size_t i = 0; i < n; i += w)
        for (unsigned k = w; k-- > 0;)
            snap_put_u8(b, p[i + k]);
}

static bool dev_state_put(TessDevice *dev, GByteArray *b, GError **err)
{
    const TessStateDesc *sd = dev->cls->state;
    guint count_at = b->len;
    uint32_t count = 0;
    snap_put_u32(b, 0);
    for (const TessStateField *f = sd->fields; f && f->name; f++) {
        if (f->type == TESS_STATE_T_UNSAVABLE)
            return snap_fail(err, TESS_ERROR_UNSUPPORTED, "device '%s' (%s) cannot be saved: %s",
                             dev->id, dev->cls->type, f->name);
        size_t n;
        const uint8_t *p = field_bytes(dev, f, &n);
        snap_put_str(b, f->name);
        snap_put_u8(b, (uint8_t)f->type);
        snap_put_u64(b, n);
        put_field_data(b, f, p, n);
        count++;
    }
    for (int i = 0; i < 4; i++)
        b->data[count_at + i] = (uint8_t)(count >> (8 * i));
    return true;
}

/* A section lists its fields in the description's order (dev_state_save
 * walks it): the search starts after the last field found and wraps once,
 * so a whole section costs a pass over the description, not a pass per
 * field (a device with hundreds of registers made loading quadratic);
 * any order still finds every field. */
static const TessStateField *find_field(const TessStateField *fields, size_t nfields,
                                        const char *name, size_t *hint)
{
    for (size_t k = 0; k < nfields; k++) {
        size_t i = (*hint + k) % nfields;
        const TessStateField *f = &fields[i];
        if (f->type != TESS_STATE_T_UNSAVABLE && !strcmp(f->name, name)) {
            *hint = i + 1;
            return f;
        }
    }
    return NULL;
}

/* Decompression contexts are kept, one per thread: creating one (and its
 * window buffers, 100-200 KiB) for every compressed field and the RAM
 * section was a tenth of restoring a small machine. A context is reset
 * before each use, so nothing of one frame reaches the next; one that a
 * frame made large (its window) is freed rather than kept. */
#define SNAP_DCTX_KEEP (1u << 20)

static void snap_dctx_free(gpointer dc)
{
    ZSTD_freeDCtx(dc);
}

static GPrivate snap_dctx_key = G_PRIVATE_INIT(snap_dctx_free);

static ZSTD_DCtx *snap_dctx_get(void)
{
    ZSTD_DCtx *dc = g_private_get(&snap_dctx_key);
    if (dc) {
        g_private_set(&snap_dctx_key, NULL);
        ZSTD_DCtx_reset(dc, ZSTD_reset_session_and_parameters);
        return dc;
    }
    return ZSTD_createDCtx();
}

static void snap_dctx_put(ZSTD_DCtx *dc)
{
    if (dc && ZSTD_sizeof_DCtx(dc) <= SNAP_DCTX_KEEP && !g_private_get(&snap_dctx_key))
        g_private_set(&snap_dctx_key, dc);
    else
        ZSTD_freeDCtx(dc);
}

/* Load one device's fields (post_load comes once every device has its
 * fields: a host bridge that maps BARs reads the config space its
 * functions keep). Everything is checked before the instance is touched,
 * so a refused section leaves the device as it was. */
static bool dev_state_load(TessDevice *dev, const Section *s, GError **err)
{
    const TessStateDesc *sd = dev->cls->state;
    if (s->version > sd->version || s->version == 0)
        return snap_fail(err, TESS_ERROR_UNSUPPORTED,
                         "device '%s' (%s): section version %u, this build reads up to %u",
                         dev->id, dev->cls->type, s->version, sd->version);
    typedef struct { const TessStateField *f; const uint8_t *p; size_t n; bool z; size_t zn; } Pend;
    g_autoptr(GArray) pend = g_array_new(FALSE, FALSE, sizeof(Pend));
    Rd r = { .p = s->data, .len = s->len };
    size_t nfields = 0, hint = 0;
    while (sd->fields && sd->fields[nfields].name)
        nfields++;
    uint32_t count = snap_get_u32(&r);
    for (uint32_t i = 0; i < count; i++) {
        g_auto(SnapField) rec = { 0 };
        if (!snap_get_field(&r, &rec))
            break;
        const char *name = rec.name;
        const TessStateField *f = find_field(sd->fields, nfields, name, &hint);
        if (!f)
            continue;           /* a field this version dropped */
        if (f->type != rec.type)
            return snap_fail(err, TESS_ERROR_INVALID,
                             "device '%s' (%s): field %s has type %u in the snapshot, %u here",
                             dev->id, dev->cls->type, name, rec.type, f->type);
        size_t want;
        uint8_t *dst = field_bytes(dev, f, &want);
        if (f->type == TESS_STATE_T_BLOB) {
            /* its size is state: any up to the cap */
            if (rec.n > TESS_STATE_BLOB_MAX)
                return snap_fail(err, TESS_ERROR_INVALID,
                                 "device '%s' (%s): field %s holds %" G_GUINT64_FORMAT
                                 " bytes, more than a blob may", dev->id, dev->cls->type,
                                 name, rec.n);
        } else if (rec.n != want || (!dst && want))
            return snap_fail(err, TESS_ERROR_INVALID,
                             "device '%s' (%s): field %s holds %" G_GUINT64_FORMAT
                             " bytes in the snapshot, %zu here", dev->id, dev->cls->type,
                             name, rec.n, want);
        if (f->type == TESS_STATE_T_BOOL)
            for (uint64_t k = 0; k < rec.n && rec.enc == SNAP_ENC_RAW; k++)
                if (rec.p[k] > 1)
                    return snap_fail(err, TESS_ERROR_INVALID,
                                     "device '%s' (%s): field %s is not a boolean",
                                     dev->id, dev->cls->type, name);
        Pend pd = { f, rec.p, (size_t)rec.n, rec.enc == SNAP_ENC_ZSTD, (size_t)rec.zn };
        g_array_append_val(pend, pd);
    }
    if (r.bad || r.pos != r.len)
        return snap_fail(err, TESS_ERROR_INVALID, "device '%s' (%s): corrupt section",
                         dev->id, dev->cls->type);
    /* Decompress into scratch first: a bad frame must not leave half a
     * buffer written. */
    g_autoptr(GPtrArray) scratch = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < pend->len; i++) {
        Pend *pd = &g_array_index(pend, Pend, i);
        if (!pd->z)
            continue;
        uint8_t *buf = g_malloc(pd->n ? pd->n : 1);
        g_ptr_array_add(scratch, buf);
        ZSTD_DCtx *dc = snap_dctx_get();
        size_t got = dc ? ZSTD_decompressDCtx(dc, buf, pd->n, pd->p, pd->zn) : 0;
        snap_dctx_put(dc);
        if (!dc || ZSTD_isError(got) || got != pd->n)
            return snap_fail(err, TESS_ERROR_INVALID, "device '%s' (%s): field %s does not "
                             "decompress", dev->id, dev->cls->type, pd->f->name);
        if (pd->f->type == TESS_STATE_T_BOOL)
            for (size_t k = 0; k < pd->n; k++)
                if (buf[k] > 1)
                    return snap_fail(err, TESS_ERROR_INVALID,
                                     "device '%s' (%s): field %s is not a boolean",
                                     dev->id, dev->cls->type, pd->f->name);
        pd->p = buf;
        pd->z = false;
    }
    for (guint i = 0; i < pend->len; i++) {
        Pend *pd = &g_array_index(pend, Pend, i);
        if (pd->f->type == TESS_STATE_T_BLOB) {
            /* a new buffer of the saved size replaces the device's */
            uint8_t *base = (uint8_t *)dev, *old, *nb = pd->n ? g_memdup2(pd->p, pd->n) : NULL;
            uint32_t bn = (uint32_t)pd->n;
            memcpy(&old, base + pd->f->offset, sizeof(old));
            g_free(old);
            memcpy(base + pd->f->offset, &nb, sizeof(nb));
            memcpy(base + pd->f->size, &bn, sizeof(bn));
            continue;
        }
        size_t n;
        uint8_t *dst = field_bytes(dev, pd->f, &n);
        unsigned w = snap_field_width(pd->f->type);
        if (w <= 1 || G_BYTE_ORDER == G_LITTLE_ENDIAN) {
            if (n)
                memcpy(dst, pd->p, n);
        } else {
            for (size_t k = 0; k < n; k += w)
                for (unsigned j = 0; j < w; j++)
                    dst[k + j] = pd->p[k + w - 1 - j];
        }
    }
    return true;
}

/* ---- signal lines ------------------------------------------------------------ */

static void sig_put(TessMachine *m, GByteArray *b)
{
    guint at = b->len;
    uint32_t n = 0;
    snap_put_u32(b, 0);
    for (guint i = 0; i < m->devices->len; i++) {
        TessDevice *d = m->devices->pdata[i];
        GPtrArray *outs = d->priv->outputs;
        for (guint k = 0; outs && k < outs->len; k++) {
            TessSignal *s = outs->pdata[k];
            snap_put_str(b, d->id);
            snap_put_str(b, s->name);
            snap_put_u8(b, s->level);
            n++;
        }
    }
    for (int i = 0; i < 4; i++)
        b->data[at + i] = (uint8_t)(n >> (8 * i));
}

static bool sig_load(TessMachine *m, const Section *s, GError **err)
{
    if (s->version != SIG_VERSION)
        return snap_fail(err, TESS_ERROR_UNSUPPORTED, "signal section version %u unknown",
                         s->version);
    Rd r = { .p = s->data, .len = s->len };
    uint32_t n = snap_get_u32(&r);
    g_autoptr(GPtrArray) sigs = g_ptr_array_new();
    g_autoptr(GArray) levels = g_array_new(FALSE, FALSE, sizeof(bool));
    for (uint32_t i = 0; i < n && !r.bad; i++) {
        g_autofree char *id = snap_get_str(&r);
        g_autofree char *name = snap_get_str(&r);
        uint8_t level = snap_get_u8(&r);
        if (r.bad || !id || !name || level > 1)
            break;
        TessDevice *d = g_hash_table_lookup(m->by_id, id);
        TessSignal *sg = d ? tess_device_output(d, name) : NULL;
        if (!sg)
            return snap_fail(err, TESS_ERROR_INVALID,
                             "the snapshot has line %s.%s, which this machine lacks", id, name);
        bool lv = level;
        g_ptr_array_add(sigs, sg);
        g_array_append_val(levels, lv);
    }
    if (r.bad || r.pos != r.len || sigs->len != n)
        return snap_fail(err, TESS_ERROR_INVALID, "corrupt signal section");
    for (guint i = 0; i < sigs->len; i++)
        tess_signal_restore_level(sigs->pdata[i], g_array_index(levels, bool, i));
    return true;
}

/* ---- RAM ----------------------------------------------------------------------- */

static bool page_is_zero(const uint8_t *p)
{
    const uint64_t *q = (const uint64_t *)p;
    for (unsigned i = 0; i < SNAP_PAGE / 8; i += 4)
        if (q[i] | q[i + 1] | q[i + 2] | q[i + 3])
            return false;
    return true;
}

static bool ram_put(TessMachine *m, GByteArray *b, GError **err)
{
    TessMemRegion *ram = tess_machine_ram(m);
    uint64_t size = ram ? tess_mem_region_size(ram) : 0;
    const uint8_t *host = ram ? tess_mem_region_host(ram) : NULL;
    uint64_t npages = size / SNAP_PAGE;
    snap_put_u64(b, size);
    snap_put_u32(b, SNAP_PAGE);
    guint bm_at = b->len;
    size_t bm_len = (size_t)((npages + 7) / 8);
    g_byte_array_set_size(b, b->len + (guint)bm_len);
    memset(b->data + bm_at, 0, bm_len);
    guint zlen_at = b->len;
    snap_put_u64(b, 0);

    /* A page the guest never touched is not resident, and zero: asking
     * the kernel costs a byte per page, reading it a page fault. */
    g_autofree unsigned char *resident = npages ? g_malloc(npages) : NULL;
    if (resident && mincore((void *)host, (size_t)size, resident) != 0)
        memset(resident, 1, npages);

    ZSTD_CCtx *cc = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, SNAP_ZSTD_LEVEL);
    size_t chunk = ZSTD_CStreamOutSize();
    uint64_t zlen = 0;
    bool ok = true;
    for (uint64_t pg = 0; pg <= npages && ok; pg++) {
        bool last = pg == npages;
        if (!last && (!(resident[pg] & 1) || page_is_zero(host + pg * SNAP_PAGE)))
            continue;
        if (!last)
            b->data[bm_at + pg / 8] |= (uint8_t)(1u << (pg % 8));
        ZSTD_inBuffer in = { last ? NULL : host + pg * SNAP_PAGE, last ? 0 : SNAP_PAGE, 0 };
        ZSTD_EndDirective mode = last ? ZSTD_e_end : ZSTD_e_continue;
        for (;;) {
            guint at = b->len;
            g_byte_array_set_size(b, at + (guint)chunk);
            ZSTD_outBuffer out = { b->data + at, chunk, 0 };
            size_t left = ZSTD_compressStream2(cc, &out, &in, mode);
            g_byte_array_set_size(b, at + (guint)out.pos);
            zlen += out.pos;
            if (ZSTD_isError(left)) {
                ok = snap_fail(err, TESS_ERROR_FAILED, "compressing RAM: %s",
                               ZSTD_getErrorName(left));
                break;
            }
            if (last ? left == 0 : in.pos == in.size)
                break;
        }
    }
    ZSTD_freeCCtx(cc);
    for (int i = 0; i < 8; i++)
        b->data[zlen_at + i] = (uint8_t)(zlen >> (8 * i));
    return ok;
}

static bool ram_load(TessMachine *m, const Section *s, GError **err)
{
    if (s->version != RAM_VERSION)
        return snap_fail(err, TESS_ERROR_UNSUPPORTED, "RAM section version %u unknown", s->version);
    TessMemRegion *ram = tess_machine_ram(m);
    uint64_t have = ram ? tess_mem_region_size(ram) : 0;
    uint8_t *host = ram ? tess_mem_region_host(ram) : NULL;
    Rd r = { .p = s->data, .len = s->len };
    uint64_t size = snap_get_u64(&r);
    uint32_t page = snap_get_u32(&r);
    if (r.bad || size != have || page != SNAP_PAGE)
        return snap_fail(err, TESS_ERROR_INVALID,
                         "the snapshot's RAM is %" G_GUINT64_FORMAT " bytes in %u-byte pages; "
                         "this machine has %" G_GUINT64_FORMAT, size, page, have);
    uint64_t npages = size / SNAP_PAGE;
    const uint8_t *bm = snap_get_bytes(&r, (size_t)((npages + 7) / 8));
    uint64_t zlen = snap_get_u64(&r);
    const uint8_t *z = snap_get_bytes(&r, zlen > r.len ? r.len + 1 : (size_t)zlen);
    if (r.bad || r.pos != r.len)
        return snap_fail(err, TESS_ERROR_INVALID, "corrupt RAM section");
    /* Main RAM is private anonymous memory: dropping it makes every page
     * read as zero again without touching it, so only the saved pages
     * cost anything. Where that fails, zero pages are cleared one by one. */
    bool dropped = size && madvise(host, (size_t)size, MADV_DONTNEED) == 0;
    /* Decompress page by page straight into RAM; on a bad frame the RAM
     * is garbage, and the caller throws the machine away. */
    ZSTD_DCtx *dc = snap_dctx_get();
    ZSTD_inBuffer in = { z, (size_t)zlen, 0 };
    bool ok = dc != NULL;
    size_t ret = 1;
    for (uint64_t pg = 0; pg < npages && ok; pg++) {
        uint8_t *dst = host + pg * SNAP_PAGE;
        if (!((bm[pg / 8] >> (pg % 8)) & 1)) {
            /* reading an untouched page costs nothing, writing would
             * commit it */
            if (!dropped && !page_is_zero(dst))
                memset(dst, 0, SNAP_PAGE);
            continue;
        }
        ZSTD_outBuffer out = { dst, SNAP_PAGE, 0 };
        while (out.pos < out.size) {
            size_t prev_in = in.pos, prev_out = out.pos;
            ret = ZSTD_decompressStream(dc, &out, &in);
            if (ZSTD_isError(ret) || (in.pos == prev_in && out.pos == prev_out)) {
                ok = false;
                break;
            }
        }
    }
    if (ok) {
        /* the frame must end exactly here (an empty one too) */
        uint8_t extra;
        ZSTD_outBuffer out = { &extra, 1, 0 };
        while (ret != 0) {
            size_t prev_in = in.pos;
            ret = ZSTD_decompressStream(dc, &out, &in);
            if (ZSTD_isError(ret) || out.pos || (in.pos == prev_in && ret != 0)) {
                ok = false;
                break;
            }
        }
    }
    snap_dctx_put(dc);
    if (!ok || in.pos != in.size)
        return snap_fail(err, TESS_ERROR_INVALID, "corrupt RAM section: the pages do not "
                         "decompress to what its bitmap says");
    tess_mem_notify_ram_written(m, 0, size);
    return true;
}

/* ---- the clock ----------------------------------------------------------------- */

static void clk_put(TessMachine *m, GByteArray *b)
{
    snap_put_u64(b, tess_clock_ns(m));
    g_autoptr(GPtrArray) armed = tess_clock_armed_timers(m);
    snap_put_u32(b, armed->len);
    for (guint i = 0; i < armed->len; i++) {
        TessTimer *t = armed->pdata[i];
        TessDevice *owner;
        uint32_t idx;
        tess_timer_identity(t, &owner, &idx);
        snap_put_str(b, owner->id);
        snap_put_u32(b, idx);
        snap_put_u64(b, tess_timer_deadline(t));
    }
}

static bool clk_load(TessMachine *m, const Section *s, GError **err)
{
    if (s->version != CLK_VERSION)
        return snap_fail(err, TESS_ERROR_UNSUPPORTED, "clock section version %u unknown",
                         s->version);
    Rd r = { .p = s->data, .len = s->len };
    uint64_t now = snap_get_u64(&r);
    uint32_t n = snap_get_u32(&r);
    g_autoptr(GPtrArray) timers = g_ptr_array_new();
    g_autoptr(GArray) deadlines = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    for (uint32_t i = 0; i < n && !r.bad; i++) {
        g_autofree char *id = snap_get_str(&r);
        uint32_t idx = snap_get_u32(&r);
        uint64_t deadline = snap_get_u64(&r);
        if (r.bad || !id)
            break;
        TessDevice *d = !strcmp(id, "machine") ? m->root : g_hash_table_lookup(m->by_id, id);
        TessTimer *t = d ? tess_timer_find(m, d, idx) : NULL;
        if (!t)
            return snap_fail(err, TESS_ERROR_INVALID,
                             "the snapshot has timer %u of '%s' armed; this machine has no "
                             "such timer", idx, id);
        g_ptr_array_add(timers, t);
        g_array_append_val(deadlines, deadline);
    }
    if (r.bad || r.pos != r.len || timers->len != n)
        return snap_fail(err, TESS_ERROR_INVALID, "corrupt clock section");
    tess_clock_set_now(m, now);
    tess_clock_cancel_all(m);
    /* Arming in the saved firing order keeps ties in their order. */
    for (guint i = 0; i < timers->len; i++)
        tess_timer_arm(timers->pdata[i], g_array_index(deadlines, uint64_t, i));
    return true;
}

/* ---- disks --------------------------------------------------------------------- */

/* A disk is a device providing "block" whose "file" property names its
 * image. Identity: path, the host file's size and modification time
 * (after a flush), the image's UUID and virtual size, and the undo
 * overlay in use. */
typedef struct DiskId {
    char *path, *uuid, *overlay;
    uint64_t host_size, vsize, ov_size;
    int64_t mtime_ns, ov_mtime_ns;
} DiskId;

/* size and modification time of a host file; false if it has none */
static bool file_stamp(const char *path, uint64_t *size, int64_t *mtime_ns)
{
    GStatBuf st;
    if (!path || g_stat(path, &st) != 0)
        return false;
    *size = (uint64_t)st.st_size;
    *mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    return true;
}

static void diskid_clear(DiskId *d)
{
    g_free(d->path);
    g_free(d->uuid);
    g_free(d->overlay);
    memset(d, 0, sizeof(*d));
}

static bool disk_identity(TessDevice *dev, DiskId *id, GError **err)
{
    const TessBlockOps *ops = tess_block_ops(dev);
    const TessPropSpec *fp = tess_device_find_prop(dev, "file");
    if (!ops || !fp)
        return false;
    id->path = tess_prop_format(fp, (uint8_t *)dev + fp->offset);
    if (ops->flush && !ops->flush(dev, err)) {
        g_prefix_error(err, "disk '%s': flushing before the snapshot: ", dev->id);
        return false;
    }
    id->vsize = ops->size ? ops->size(dev) : 0;
    TessBlockInfo info = { 0 };
    g_autoptr(GError) e = NULL;
    if (ops->info && ops->info(dev, &info, &e)) {
        id->uuid = g_strdup(info.uuid);
        id->overlay = g_strdup(info.overlay);
    }
    tess_block_info_clear(&info);
    file_stamp(id->path, &id->host_size, &id->mtime_ns);
    file_stamp(id->overlay, &id->ov_size, &id->ov_mtime_ns);
    return true;
}

static bool disks_put(TessMachine *m, GByteArray *b, GError **err)
{
    guint at = b->len;
    uint32_t n = 0;
    snap_put_u32(b, 0);
    for (guint i = 0; i < m->devices->len; i++) {
        TessDevice *d = m->devices->pdata[i];
        if (!tess_device_interface(d, TESS_IFACE_BLOCK))
            continue;
        DiskId id = { 0 };
        g_autoptr(GError) e = NULL;
        if (!disk_identity(d, &id, &e)) {
            diskid_clear(&id);
            if (e) {
                g_propagate_error(err, g_steal_pointer(&e));
                return false;
            }
            continue;
        }
        snap_put_str(b, d->id);
        snap_put_str(b, id.path);
        snap_put_str(b, id.uuid);
        snap_put_str(b, id.overlay);
        snap_put_u64(b, id.vsize);
        snap_put_u64(b, id.host_size);
        snap_put_u64(b, (uint64_t)id.mtime_ns);
        snap_put_u64(b, id.ov_size);
        snap_put_u64(b, (uint64_t)id.ov_mtime_ns);
        diskid_clear(&id);
        n++;
    }
    for (int i = 0; i < 4; i++)
        b->data[at + i] = (uint8_t)(n >> (8 * i));
    return true;
}

static bool disks_check(TessMachine *m, const Section *s, GError **err)
{
    if (s->version != DISK_VERSION)
        return snap_fail(err, TESS_ERROR_UNSUPPORTED, "disk section version %u unknown",
                         s->version);
    Rd r = { .p = s->data, .len = s->len };
    uint32_t n = snap_get_u32(&r);
    for (uint32_t i = 0; i < n && !r.bad; i++) {
        g_autofree char *devid = snap_get_str(&r);
        DiskId want = { 0 };
        want.path = snap_get_str(&r);
        want.uuid = snap_get_str(&r);
        want.overlay = snap_get_str(&r);
        want.vsize = snap_get_u64(&r);
        want.host_size = snap_get_u64(&r);
        want.mtime_ns = (int64_t)snap_get_u64(&r);
        want.ov_size = snap_get_u64(&r);
        want.ov_mtime_ns = (int64_t)snap_get_u64(&r);
        TessDevice *d = !r.bad && devid ? g_hash_table_lookup(m->by_id, devid) : NULL;
        DiskId have = { 0 };
        bool ok = true;
        if (!r.bad && (!d || !disk_identity(d, &have, err))) {
            if (err && !*err)
                snap_fail(err, TESS_ERROR_INVALID, "the snapshot has disk '%s', which this "
                          "machine lacks", devid ? devid : "?");
            ok = false;
        } else if (!r.bad) {
            bool same_path = !g_strcmp0(want.path, have.path);
            if (g_strcmp0(want.overlay, have.overlay))
                ok = snap_fail(err, TESS_ERROR_CONFLICT, "disk '%s' was saved writing to undo "
                               "overlay %s; it now uses %s", devid,
                               want.overlay ? want.overlay : "(none)",
                               have.overlay ? have.overlay : "(none)");
            else if (have.vsize != want.vsize ||
                (want.uuid && have.uuid && strcmp(want.uuid, have.uuid)) ||
                (same_path && (have.host_size != want.host_size ||
                               have.mtime_ns != want.mtime_ns)))
                ok = snap_fail(err, TESS_ERROR_CONFLICT,
                               "disk '%s': image %s changed since the snapshot was taken "
                               "(size, modification time or UUID differ); resuming would "
                               "corrupt it", devid, have.path ? have.path : "?");
        }
        diskid_clear(&want);
        diskid_clear(&have);
        if (!ok)
            return false;
    }
    if (r.bad || r.pos != r.len)
        return snap_fail(err, TESS_ERROR_INVALID, "corrupt disk section");
    return true;
}

/* Before the machine is built: a disk that wrote to an undo overlay
 * resumes on that overlay (kept by the suspend), if it is unchanged. */
static bool disks_adopt_overlays(GPtrArray *secs, GPtrArray *ov, GError **err)
{
    const Section *s = NULL;
    for (guint i = 0; i < secs->len && !s; i++)
        if (((Section *)secs->pdata[i])->kind == K_DISK)
            s = secs->pdata[i];
    if (!s || s->version != DISK_VERSION)
        return true;            /* snap_apply reports it */
    Rd r = { .p = s->data, .len = s->len };
    uint32_t n = snap_get_u32(&r);
    for (uint32_t i = 0; i < n && !r.bad; i++) {
        g_autofree char *devid = snap_get_str(&r);
        g_autofree char *path = snap_get_str(&r);
        g_autofree char *uuid = snap_get_str(&r);
        g_autofree char *overlay = snap_get_str(&r);
        snap_get_u64(&r);
        snap_get_u64(&r);
        snap_get_u64(&r);
        uint64_t ov_size = snap_get_u64(&r);
        int64_t ov_mtime = (int64_t)snap_get_u64(&r);
        if (r.bad || !devid || !overlay)
            continue;
        uint64_t size;
        int64_t mtime;
        if (!file_stamp(overlay, &size, &mtime))
            return snap_fail(err, TESS_ERROR_NOT_FOUND, "disk '%s': its undo overlay %s is "
                             "gone (a `save`d machine's overlay goes at power-off; a "
                             "`suspend`ed one's stays)", devid, overlay);
        if (size != ov_size || mtime != ov_mtime)
            return snap_fail(err, TESS_ERROR_CONFLICT, "disk '%s': undo overlay %s changed "
                             "since the snapshot was taken", devid, overlay);
        TessOverride *o = g_new0(TessOverride, 1);
        o->id = g_strdup(devid);
        o->prop = g_strdup(TESS_BLOCK_PROP_UNDO_OVERLAY);
        o->value = g_strdup(overlay);
        g_ptr_array_add(ov, o);
    }
    return true;
}

/* After a suspend's save: undo overlays stay as they are at power-off. */
static void disks_keep_overlays(TessMachine *m)
{
    for (guint i = 0; i < m->devices->len; i++) {
        TessDevice *d = m->devices->pdata[i];
        if (!tess_device_interface(d, TESS_IFACE_BLOCK) ||
            !tess_device_find_prop(d, TESS_BLOCK_PROP_UNDO_KEEP))
            continue;
        g_autoptr(GError) e = NULL;
        if (!tess_device_set_prop(d, TESS_BLOCK_PROP_UNDO_KEEP, "on", &e))
            g_warning("%s: %s", d->id, e->message);
    }
}

bool tess_snapshot_suspend(TessMachine *m, const char *path, GError **err)
{
    if (!tess_snapshot_save(m, path, err))
        return false;
    disks_keep_overlays(m);
    tess_machine_request_exit(m, 0);
    return true;
}

/* ---- save ---------------------------------------------------------------------- */

static bool write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* The whole snapshot in memory: sections are small but for RAM, which
 * is compressed. */
static GByteArray *snap_build(TessMachine *m, GError **err)
{
    if (!m->cpu || !m->cpu_ops) {
        snap_fail(err, TESS_ERROR_UNSUPPORTED, "machine '%s' has no CPU to save", m->name);
        return NULL;
    }
    for (guint i = 0; i < m->devices->len; i++) {
        TessDevice *d = m->devices->pdata[i];
        const TessStateDesc *sd = d->cls->state;
        if (!sd)
            continue;
        for (const TessStateField *f = sd->fields; f && f->name; f++)
            if (f->type == TESS_STATE_T_UNSAVABLE) {
                snap_fail(err, TESS_ERROR_UNSUPPORTED, "device '%s' (%s) cannot be saved: %s",
                          d->id, d->cls->type, f->name);
                return NULL;
            }
        if (sd->pre_save && !sd->pre_save(d, err)) {
            g_prefix_error(err, "device '%s' (%s) cannot be saved now: ", d->id, d->cls->type);
            return NULL;
        }
    }
    g_autoptr(GByteArray) out = g_byte_array_new();
    snap_put_bytes(out, SNAP_MAGIC, 8);
    snap_put_u32(out, SNAP_FORMAT);
    snap_put_u32(out, 0);
    g_autoptr(GByteArray) b = g_byte_array_new();
    hdr_put(m, b);
    snap_put_section(out, K_HDR, "machine", "header", HDR_VERSION, b);
    g_byte_array_set_size(b, 0);
    if (!disks_put(m, b, err))
        return NULL;
    snap_put_section(out, K_DISK, "disks", "disks", DISK_VERSION, b);
    for (guint i = 0; i < m->devices->len; i++) {
        TessDevice *d = m->devices->pdata[i];
        if (!d->cls->state)
            continue;
        g_byte_array_set_size(b, 0);
        if (!dev_state_put(d, b, err))
            return NULL;
        snap_put_section(out, K_DEV, d->id, d->cls->type, d->cls->state->version, b);
    }
    g_byte_array_set_size(b, 0);
    sig_put(m, b);
    snap_put_section(out, K_SIG, "lines", "lines", SIG_VERSION, b);
    g_byte_array_set_size(b, 0);
    if (!ram_put(m, b, err))
        return NULL;
    snap_put_section(out, K_RAM, "machine", "ram", RAM_VERSION, b);
    g_byte_array_set_size(b, 0);
    clk_put(m, b);
    snap_put_section(out, K_CLK, "clock", "clock", CLK_VERSION, b);
    g_byte_array_set_size(b, 0);
    snap_put_section(out, K_END, "", "", 1, b);
    return g_steal_pointer(&out);
}

bool tess_snapshot_save(TessMachine *m, const char *path, GError **err)
{
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(GByteArray) data = snap_build(m, err);
    if (!data)
        return false;
    /* Never a half-written snapshot under the target name: write a
     * temporary file next to it, fsync, rename, fsync the directory. */
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *base = g_path_get_basename(path);
    g_autofree char *tmpl = g_strdup_printf("%s/.%s.XXXXXX", dir, base);
    int fd = g_mkstemp(tmpl);
    if (fd < 0)
        return snap_fail(err, TESS_ERROR_IO, "%s: cannot create a temporary file: %s",
                         path, g_strerror(errno));
    /* mkstemp's mode 0600 stays: the file holds guest memory (keys,
     * passwords), readable by its owner only, like a core dump. */
    bool ok = write_all(fd, data->data, data->len) && fsync(fd) == 0;
    int saved = errno;
    if (close(fd) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (ok && g_rename(tmpl, path) != 0) {
        ok = false;
        saved = errno;
    }
    if (!ok) {
        g_unlink(tmpl);
        return snap_fail(err, TESS_ERROR_IO, "%s: %s", path, g_strerror(saved));
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    g_debug("%s: saved %s: %u bytes in %.3f s", m->name, path, data->len,
            (double)(g_get_monotonic_time() - t0) / 1e6);
    return true;
}

/* ---- restore -------------------------------------------------------------------- */


/* Load every section into `m`, built from the same header. */
static bool snap_apply(TessMachine *m, GPtrArray *secs, const Hdr *h, GError **err)
{
    /* The plugin set: every saved device exists here with the same class,
     * from the same plugin at the same version. */
    for (guint i = 0; i < h->devs->len; i++) {
        HdrDev *hd = h->devs->pdata[i];
        TessDevice *d = g_hash_table_lookup(m->by_id, hd->id);
        if (!d || strcmp(d->cls->type, hd->type))
            return snap_fail(err, TESS_ERROR_INVALID, "the snapshot has device '%s' (%s); "
                             "this machine %s", hd->id, hd->type,
                             d ? "gives that id another type" : "has no such device");
        const char *pn = plugin_name_of(m->reg, d->cls);
        const char *pv = plugin_version_of(m->reg, d->cls);
        if (g_strcmp0(pn, hd->plugin) || g_strcmp0(pv, hd->plugin_version))
            return snap_fail(err, TESS_ERROR_INVALID, "device '%s' (%s) was saved by plugin "
                             "%s %s; this build has %s %s", hd->id, hd->type,
                             hd->plugin ? hd->plugin : "?",
                             hd->plugin_version ? hd->plugin_version : "?", pn, pv);
    }
    /* By id, not a search per device: loading stays linear in the number
     * of devices. */
    g_autoptr(GHashTable) saved = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint k = 0; k < h->devs->len; k++)
        g_hash_table_add(saved, ((HdrDev *)h->devs->pdata[k])->id);
    for (guint i = 0; i < m->devices->len; i++) {
        TessDevice *d = m->devices->pdata[i];
        if (d->cls->state && !g_hash_table_contains(saved, d->id))
            return snap_fail(err, TESS_ERROR_INVALID, "device '%s' (%s) has state but the "
                             "snapshot has none for it", d->id, d->cls->type);
    }
    bool seen_ram = false, seen_disk = false;
    const Section *sig_sec = NULL, *clk_sec = NULL;
    /* device id -> its section */
    GHashTable *done = g_hash_table_new(g_str_hash, g_str_equal);
    bool ok = true;
    for (guint i = 1; i < secs->len && ok; i++) {
        Section *s = secs->pdata[i];
        switch (s->kind) {
        case K_DISK:
            ok = !seen_disk && disks_check(m, s, err);
            seen_disk = true;
            break;
        case K_DEV: {
            TessDevice *d = s->id ? g_hash_table_lookup(m->by_id, s->id) : NULL;
            if (!d || !d->cls->state || g_strcmp0(s->type, d->cls->type) ||
                g_hash_table_contains(done, d->id)) {
                ok = snap_fail(err, TESS_ERROR_INVALID, "unexpected state section for "
                               "device '%s' (%s)", s->id ? s->id : "?", s->type ? s->type : "?");
                break;
            }
            g_hash_table_insert(done, (gpointer)d->id, s);
            ok = dev_state_load(d, s, err);
            break;
        }
        case K_SIG:
            ok = !sig_sec;
            sig_sec = s;
            break;
        case K_RAM:
            ok = !seen_ram && ram_load(m, s, err);
            seen_ram = true;
            break;
        case K_CLK:
            ok = !clk_sec && clk_load(m, s, err);
            clk_sec = s;
            break;
        case K_END:
            break;
        default:
            ok = snap_fail(err, TESS_ERROR_UNSUPPORTED, "unknown section kind 0x%08x "
                           "(a newer Tessera wrote this snapshot?)", s->kind);
        }
        if (!ok && err && !*err)
            snap_fail(err, TESS_ERROR_INVALID, "corrupt snapshot: section %s repeated",
                      snap_kind_name(s->kind));
    }
    guint ndone = g_hash_table_size(done);
    /* Every device's fields are in; now each fixes up what derives from
     * them, in machine order. Lines they drive are recorded, not
     * propagated (m->restoring): every sink's state is already loaded,
     * and the SIG section has the levels. */
    for (guint i = 0; i < m->devices->len && ok; i++) {
        TessDevice *d = m->devices->pdata[i];
        const TessStateDesc *sd = d->cls->state;
        if (!sd || !sd->post_load)
            continue;
        const Section *ds = g_hash_table_lookup(done, d->id);
        if (!sd->post_load(d, ds ? ds->version : sd->version, err)) {
            g_prefix_error(err, "device '%s' (%s): ", d->id, d->cls->type);
            ok = false;
        }
    }
    g_hash_table_unref(done);
    if (!ok)
        return false;
    if (!seen_ram || !clk_sec || !sig_sec || !seen_disk || ndone != h->devs->len)
        return snap_fail(err, TESS_ERROR_INVALID, "incomplete snapshot: a section is missing");
    /* The recorded line levels and timers have the last word over what
     * post_load re-derived (same values, but timers armed again in their
     * saved order keep their ties). */
    return sig_load(m, sig_sec, err) && clk_load(m, clk_sec, err);
}

static TessMachine *snap_restore_data(TessRegistry *reg, const uint8_t *data, size_t len,
                                      const TessLoadOptions *o, GError **err)
{
    g_autoptr(GPtrArray) secs = snap_parse(data, len, err);
    if (!secs)
        return NULL;
    g_autoptr(Hdr) h = snap_hdr_parse(secs->pdata[0], err);
    if (!h)
        return NULL;
    if (h->ns_per_insn < 1 || h->ns_per_insn > 1000000) {
        snap_fail(err, TESS_ERROR_INVALID, "corrupt snapshot header (ns per instruction)");
        return NULL;
    }
    g_autoptr(GPtrArray) ov = g_ptr_array_new_with_free_func((GDestroyNotify)tess_override_free);
    for (guint i = 0; i < h->overrides->len; i++)
        g_ptr_array_add(ov, tess_override_copy(h->overrides->pdata[i]));
    for (guint i = 0; o && o->overrides && i < o->overrides->len; i++)
        g_ptr_array_add(ov, tess_override_copy(o->overrides->pdata[i]));
    g_autoptr(GPtrArray) adopt =
        g_ptr_array_new_with_free_func((GDestroyNotify)tess_override_free);
    if (!disks_adopt_overlays(secs, adopt, err))
        return NULL;
    TessLoadOptions lo = {
        .mopts = { .deterministic = h->deterministic, .ns_per_insn = h->ns_per_insn },
        .overrides = ov,
        .cpu_type = h->cpu_type,
        .extra_devices = o ? o->extra_devices : NULL,
        .device_overrides = adopt,
    };
    GError *e = NULL;
    TessMachine *m = tess_machine_load_string(reg, h->xml, h->dir, &lo, &e);
    if (!m) {
        g_propagate_prefixed_error(err, e, "building the snapshot's machine: ");
        return NULL;
    }
    /* The machine is what the file describes, so a later snapshot of it
     * records the same origin; --set given now joins the recorded ones. */
    g_free(m->name);
    m->name = g_strdup(h->name ? h->name : "machine");
    if (h->file) {
        g_free(m->file);
        m->file = g_strdup(h->file);
    }
    m->restoring = true;
    bool applied = snap_apply(m, secs, h, err);
    m->restoring = false;
    if (!applied) {
        tess_machine_free(m);
        return NULL;
    }
    /* With every line and timer restored, what the network backends
     * could not keep shows as a cable re-plug. */
    tess_net_restored(m);
    return m;
}

TessMachine *tess_snapshot_restore(TessRegistry *reg, const char *path,
                                   const TessLoadOptions *o, GError **err)
{
    g_autoptr(GMappedFile) mf = NULL;
    GError *e = NULL;
    mf = g_mapped_file_new(path, FALSE, &e);
    if (!mf) {
        g_set_error(err, TESS_STATE_ERROR, TESS_ERROR_NOT_FOUND, "%s", e->message);
        g_error_free(e);
        return NULL;
    }
    gint64 t0 = g_get_monotonic_time();
    TessMachine *m = snap_restore_data(reg, (const uint8_t *)g_mapped_file_get_contents(mf),
                                       g_mapped_file_get_length(mf), o, &e);
    if (!m) {
        g_propagate_prefixed_error(err, e, "%s: ", path);
        return NULL;
    }
    g_debug("%s: restored %s in %.3f s", m->name, path,
            (double)(g_get_monotonic_time() - t0) / 1e6);
    return m;
}

int tess_snapshot_fuzz_one(TessRegistry *reg, const uint8_t *data, size_t len)
{
    g_autoptr(GError) err = NULL;
    TessMachine *m = snap_restore_data(reg, data, len, NULL, &err);
    tess_machine_free(m);
    return 0;
}

/* ---- control commands ------------------------------------------------------------- */

static char *cmd_save(TessDevice *dev, int argc, char **argv, GError **err)
{
    if (argc != 1) {
        g_set_error(err, TESS_STATE_ERROR, TESS_ERROR_INVALID, "usage: save FILE");
        return NULL;
    }
    if (!tess_snapshot_save(dev->machine, argv[0], err))
        return NULL;
    return g_strdup_printf("saved %s", argv[0]);
}

static char *cmd_suspend(TessDevice *dev, int argc, char **argv, GError **err)
{
    if (argc != 1) {
        g_set_error(err, TESS_STATE_ERROR, TESS_ERROR_INVALID, "usage: suspend FILE");
        return NULL;
    }
    if (!tess_snapshot_suspend(dev->machine, argv[0], err))
        return NULL;
    return g_strdup_printf("suspended to %s", argv[0]);
}

void tess_snapshot_add_commands(TessMachine *m)
{
    g_autoptr(GError) err = NULL;
    if (!tess_control_add_command(m->root, "save", cmd_save,
                                  "FILE  save the machine's state (it keeps running)", &err) ||
        !tess_control_add_command(m->root, "suspend", cmd_suspend,
                                  "FILE  save the machine's state, then exit with status 0", &err))
        g_warning("%s", err->message);
}
