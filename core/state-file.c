/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Snapshots: the file format (state-file.h describes the layout): the
 * CRC, the byte writers and the bounds-checked reader, the container
 * parser, the header, and `tessera snapshot info`. The engine that
 * fills and applies the sections from a machine is state.c.
 */
#include "core.h"
#include "state-file.h"
#include "tess-config.h"

#include <string.h>

/* ---- CRC-32 (IEEE 802.3, reflected, as zlib and PNG) ------------------------ */

/* Slicing by 8 (eight bytes per step through eight tables, table k being
 * the CRC of a byte followed by k zero bytes): a snapshot's CRCs cover all
 * of guest RAM, and a byte at a time was an eighth of what restoring a
 * small snapshot cost under the sanitizers. */
static uint32_t crc_table[8][256];

static gpointer crc_init(gpointer unused)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xFF];
    return NULL;
}

/* A checksum has no branches worth a fuzzer's attention: in a coverage
 * build (clang, scripts/fuzz.sh) its loop would cost a callback per step. */
#if defined(__clang__)
__attribute__((no_sanitize("coverage")))
#endif
uint32_t snap_crc32(const uint8_t *p, size_t n)
{
    static GOnce once = G_ONCE_INIT;
    g_once(&once, crc_init, NULL);
    uint32_t c = 0xFFFFFFFFu;
    for (; n >= 8; p += 8, n -= 8) {
        uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                           (uint32_t)p[3] << 24);
        uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
                      (uint32_t)p[7] << 24;
        c = crc_table[7][lo & 0xFF] ^ crc_table[6][(lo >> 8) & 0xFF] ^
            crc_table[5][(lo >> 16) & 0xFF] ^ crc_table[4][lo >> 24] ^
            crc_table[3][hi & 0xFF] ^ crc_table[2][(hi >> 8) & 0xFF] ^
            crc_table[1][(hi >> 16) & 0xFF] ^ crc_table[0][hi >> 24];
    }
    while (n--)
        c = crc_table[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

/* ---- writing -------------------------------------------------------------- */

void snap_put_bytes(GByteArray *b, const void *p, size_t n)
{
    g_byte_array_append(b, p, (guint)n);
}

void snap_put_u8(GByteArray *b, uint8_t v) { snap_put_bytes(b, &v, 1); }

void snap_put_u32(GByteArray *b, uint32_t v)
{
    uint8_t x[4] = { v, v >> 8, v >> 16, v >> 24 };
    snap_put_bytes(b, x, 4);
}

void snap_put_u64(GByteArray *b, uint64_t v)
{
    snap_put_u32(b, (uint32_t)v);
    snap_put_u32(b, (uint32_t)(v >> 32));
}

void snap_put_str(GByteArray *b, const char *s)
{
    if (!s) {
        snap_put_u32(b, SNAP_STR_NONE);
        return;
    }
    size_t n = strlen(s);
    snap_put_u32(b, (uint32_t)n);
    snap_put_bytes(b, s, n);
}

/* Append a section (header + payload) to `out`. */
void snap_put_section(GByteArray *out, uint32_t kind, const char *id, const char *type,
                        uint32_t version, const GByteArray *payload)
{
    snap_put_u32(out, kind);
    snap_put_str(out, id);
    snap_put_str(out, type);
    snap_put_u32(out, version);
    snap_put_u64(out, payload->len);
    snap_put_u32(out, snap_crc32(payload->data, payload->len));
    snap_put_bytes(out, payload->data, payload->len);
}

/* ---- reading -------------------------------------------------------------- */

const uint8_t *snap_get_bytes(Rd *r, size_t n)
{
    if (r->bad || n > r->len - r->pos) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *p = r->p + r->pos;
    r->pos += n;
    return p;
}

uint8_t snap_get_u8(Rd *r)
{
    const uint8_t *p = snap_get_bytes(r, 1);
    return p ? p[0] : 0;
}

uint32_t snap_get_u32(Rd *r)
{
    const uint8_t *p = snap_get_bytes(r, 4);
    return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24 : 0;
}

uint64_t snap_get_u64(Rd *r)
{
    uint64_t lo = snap_get_u32(r);
    return lo | (uint64_t)snap_get_u32(r) << 32;
}

/* A g_malloc'd string, or NULL (absent, or malformed: r->bad). */
char *snap_get_str(Rd *r)
{
    uint32_t n = snap_get_u32(r);
    if (r->bad || n == SNAP_STR_NONE)
        return NULL;
    if (n > SNAP_STR_MAX) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *p = snap_get_bytes(r, n);
    if (!p)
        return NULL;
    if (memchr(p, 0, n)) {
        r->bad = true;
        return NULL;
    }
    return g_strndup((const char *)p, n);
}

void snap_field_clear(SnapField *f)
{
    g_clear_pointer(&f->name, g_free);
}

bool snap_get_field(Rd *r, SnapField *f)
{
    f->name = snap_get_str(r);
    f->type = snap_get_u8(r);
    f->n = snap_get_u64(r);
    f->enc = snap_get_u8(r);
    f->zn = f->enc == SNAP_ENC_ZSTD ? snap_get_u64(r) : f->n;
    /* a length past the end fails without truncating it to size_t */
    f->p = snap_get_bytes(r, f->zn > r->len ? r->len + 1 : (size_t)f->zn);
    if (!f->name || f->enc > SNAP_ENC_ZSTD)
        r->bad = true;
    return !r->bad;
}

void snap_section_free(gpointer p)
{
    Section *s = p;
    g_free(s->id);
    g_free(s->type);
    g_free(s);
}

const char *snap_kind_name(uint32_t kind)
{
    switch (kind) {
    case K_HDR: return "HDR";
    case K_DISK: return "DISK";
    case K_DEV: return "DEV";
    case K_SIG: return "SIG";
    case K_RAM: return "RAM";
    case K_CLK: return "CLK";
    case K_END: return "END";
    default: return "?";
    }
}

bool snap_fail(GError **err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(err, TESS_STATE_ERROR, code, msg);
    return false;
}

/* Split a snapshot into its sections, checking the container: magic,
 * format, every length and CRC, an END last and nothing after it. */
GPtrArray *snap_parse(const uint8_t *data, size_t len, GError **err)
{
    Rd r = { .p = data, .len = len };
    const uint8_t *magic = snap_get_bytes(&r, 8);
    if (!magic || memcmp(magic, SNAP_MAGIC, 8)) {
        snap_fail(err, TESS_ERROR_INVALID, "not a Tessera snapshot (bad magic)");
        return NULL;
    }
    uint32_t format = snap_get_u32(&r);
    snap_get_u32(&r);
    if (r.bad) {
        snap_fail(err, TESS_ERROR_INVALID, "truncated snapshot header");
        return NULL;
    }
    if (format != SNAP_FORMAT) {
        snap_fail(err, TESS_ERROR_UNSUPPORTED,
                  "snapshot format %u; this Tessera (%s) reads format %u", format,
                  TESS_VERSION, SNAP_FORMAT);
        return NULL;
    }
    g_autoptr(GPtrArray) secs = g_ptr_array_new_with_free_func(snap_section_free);
    bool end = false;
    while (!end) {
        if (r.pos == r.len) {
            snap_fail(err, TESS_ERROR_INVALID, "truncated snapshot: no END section");
            return NULL;
        }
        Section *s = g_new0(Section, 1);
        g_ptr_array_add(secs, s);
        s->kind = snap_get_u32(&r);
        s->id = snap_get_str(&r);
        s->type = snap_get_str(&r);
        s->version = snap_get_u32(&r);
        uint64_t n = snap_get_u64(&r);
        s->crc = snap_get_u32(&r);
        if (r.bad) {
            snap_fail(err, TESS_ERROR_INVALID, "truncated snapshot: section %u header",
                      secs->len);
            return NULL;
        }
        if (n > r.len - r.pos) {
            snap_fail(err, TESS_ERROR_INVALID,
                      "truncated snapshot: section %s '%s' claims %" G_GUINT64_FORMAT
                      " bytes, %zu left", snap_kind_name(s->kind), s->id ? s->id : "",
                      n, r.len - r.pos);
            return NULL;
        }
        s->data = snap_get_bytes(&r, (size_t)n);
        s->len = (size_t)n;
        if (snap_crc32(s->data, s->len) != s->crc) {
            snap_fail(err, TESS_ERROR_INVALID, "corrupt snapshot: section %s '%s' fails its CRC",
                      snap_kind_name(s->kind), s->id ? s->id : "");
            return NULL;
        }
        end = s->kind == K_END;
    }
    if (r.pos != r.len) {
        snap_fail(err, TESS_ERROR_INVALID, "corrupt snapshot: %zu bytes after the END section",
                  r.len - r.pos);
        return NULL;
    }
    Section *first = secs->pdata[0];
    if (first->kind != K_HDR) {
        snap_fail(err, TESS_ERROR_INVALID, "corrupt snapshot: it does not start with a header");
        return NULL;
    }
    return g_steal_pointer(&secs);
}

/* ---- the header ----------------------------------------------------------- */

static void hdrdev_free(gpointer p)
{
    HdrDev *d = p;
    g_free(d->id);
    g_free(d->type);
    g_free(d->plugin);
    g_free(d->plugin_version);
    g_free(d);
}

void snap_hdr_free(Hdr *h)
{
    if (!h)
        return;
    g_free(h->tessera_version);
    g_free(h->name);
    g_free(h->file);
    g_free(h->dir);
    g_free(h->xml);
    g_free(h->cpu_type);
    if (h->overrides)
        g_ptr_array_unref(h->overrides);
    if (h->devs)
        g_ptr_array_unref(h->devs);
    g_free(h);
}

Hdr *snap_hdr_parse(const Section *s, GError **err)
{
    if (s->version != HDR_VERSION) {
        snap_fail(err, TESS_ERROR_UNSUPPORTED, "snapshot header version %u; this Tessera reads %u",
                  s->version, HDR_VERSION);
        return NULL;
    }
    Rd r = { .p = s->data, .len = s->len };
    g_autoptr(Hdr) h = g_new0(Hdr, 1);
    h->overrides = g_ptr_array_new_with_free_func((GDestroyNotify)tess_override_free);
    h->devs = g_ptr_array_new_with_free_func(hdrdev_free);
    h->tessera_version = snap_get_str(&r);
    h->name = snap_get_str(&r);
    h->file = snap_get_str(&r);
    h->dir = snap_get_str(&r);
    h->xml = snap_get_str(&r);
    h->cpu_type = snap_get_str(&r);
    h->deterministic = snap_get_u8(&r);
    h->ns_per_insn = snap_get_u32(&r);
    h->ram_size = snap_get_u64(&r);
    h->icount = snap_get_u64(&r);
    h->clock_ns = snap_get_u64(&r);
    uint32_t nov = snap_get_u32(&r);
    for (uint32_t i = 0; i < nov && !r.bad; i++) {
        TessOverride *o = g_new0(TessOverride, 1);
        g_ptr_array_add(h->overrides, o);
        o->id = snap_get_str(&r);
        o->type = snap_get_str(&r);
        o->first_only = snap_get_u8(&r);
        o->prop = snap_get_str(&r);
        o->value = snap_get_str(&r);
        if (!r.bad && (!o->prop || !o->value || (!o->id && !o->type)))
            r.bad = true;
    }
    uint32_t ndev = snap_get_u32(&r);
    for (uint32_t i = 0; i < ndev && !r.bad; i++) {
        HdrDev *d = g_new0(HdrDev, 1);
        g_ptr_array_add(h->devs, d);
        d->id = snap_get_str(&r);
        d->type = snap_get_str(&r);
        d->plugin = snap_get_str(&r);
        d->plugin_version = snap_get_str(&r);
        d->version = snap_get_u32(&r);
        if (!r.bad && (!d->id || !d->type))
            r.bad = true;
    }
    if (r.bad || r.pos != r.len || !h->xml || !h->dir || !h->cpu_type) {
        snap_fail(err, TESS_ERROR_INVALID, "corrupt snapshot header");
        return NULL;
    }
    return g_steal_pointer(&h);
}

unsigned snap_field_width(TessStateType t)
{
    switch (t) {
    case TESS_STATE_T_U8: case TESS_STATE_T_BOOL: return 1;
    case TESS_STATE_T_U16: return 2;
    case TESS_STATE_T_U32: return 4;
    case TESS_STATE_T_U64: return 8;
    default: return 0;
    }
}

/* ---- describe -------------------------------------------------------------------- */

/* One line per field of a device section: scalars by value, buffers
 * by size and CRC (for comparing two snapshots). */
static void describe_fields(const Section *s, GString *out)
{
    Rd r = { .p = s->data, .len = s->len };
    uint32_t count = snap_get_u32(&r);
    for (uint32_t i = 0; i < count; i++) {
        g_auto(SnapField) f = { 0 };
        if (!snap_get_field(&r, &f))
            break;
        g_string_append_printf(out, "       %s.%s =", s->id, f.name);
        unsigned w = snap_field_width((TessStateType)f.type);
        if (w && f.enc == SNAP_ENC_RAW && f.n <= 64) {
            for (uint64_t k = 0; k + w <= f.n; k += w) {
                uint64_t v = 0;
                for (unsigned j = 0; j < w; j++)
                    v |= (uint64_t)f.p[k + j] << (8 * j);
                g_string_append_printf(out, " 0x%" G_GINT64_MODIFIER "x", v);
            }
            g_string_append_c(out, '\n');
        } else {
            g_string_append_printf(out, " %" G_GUINT64_FORMAT " bytes%s, crc %08x\n", f.n,
                                   f.enc == SNAP_ENC_ZSTD ? " (zstd)" : "",
                                   snap_crc32(f.p, (size_t)f.zn));
        }
    }
}

bool tess_snapshot_describe(const char *path, bool fields, GString *out, GError **err)
{
    GError *e = NULL;
    g_autoptr(GMappedFile) mf = g_mapped_file_new(path, FALSE, &e);
    if (!mf) {
        g_set_error(err, TESS_STATE_ERROR, TESS_ERROR_NOT_FOUND, "%s", e->message);
        g_error_free(e);
        return false;
    }
    size_t len = g_mapped_file_get_length(mf);
    g_autoptr(GPtrArray) secs = snap_parse((const uint8_t *)g_mapped_file_get_contents(mf),
                                           len, &e);
    g_autoptr(Hdr) h = secs ? snap_hdr_parse(secs->pdata[0], &e) : NULL;
    if (!h) {
        g_propagate_prefixed_error(err, e, "%s: ", path);
        return false;
    }
    g_string_append_printf(out, "file: %s\nsize: %zu bytes\nformat: %u\ntessera: %s\n"
                           "machine: %s%s%s%s\ncpu: %s\nmode: %s",
                           path, len, SNAP_FORMAT, h->tessera_version ? h->tessera_version : "?",
                           h->name ? h->name : "?", h->file ? " (" : "", h->file ? h->file : "",
                           h->file ? ")" : "", h->cpu_type,
                           h->deterministic ? "deterministic" : "realtime");
    if (h->deterministic && h->ns_per_insn != 1)
        g_string_append_printf(out, ", %u ns per instruction", h->ns_per_insn);
    g_string_append_printf(out, "\nram: %" G_GUINT64_FORMAT " MiB\ninstructions: %"
                           G_GUINT64_FORMAT "\nvirtual time: %" G_GUINT64_FORMAT " ns\n",
                           h->ram_size >> 20, h->icount, h->clock_ns);
    for (guint i = 0; i < h->overrides->len; i++) {
        TessOverride *o = h->overrides->pdata[i];
        g_string_append_printf(out, "set: %s%s%s.%s=%s\n", o->id ? o->id : "(type ",
                               o->id ? "" : o->type, o->id ? "" : ")", o->prop, o->value);
    }
    g_string_append(out, "sections:\n");
    for (guint i = 0; i < secs->len; i++) {
        Section *s = secs->pdata[i];
        const char *plugin = "";
        const char *pver = "";
        for (guint k = 0; s->kind == K_DEV && k < h->devs->len; k++) {
            HdrDev *d = h->devs->pdata[k];
            if (!g_strcmp0(d->id, s->id)) {
                plugin = d->plugin ? d->plugin : "?";
                pver = d->plugin_version ? d->plugin_version : "?";
            }
        }
        g_string_append_printf(out, "  %-4s %-14s %-12s v%-3u %10zu bytes  crc %08x%s%s%s%s\n",
                               snap_kind_name(s->kind), s->id ? s->id : "", s->type ? s->type : "",
                               s->version, s->len, s->crc, *plugin ? "  (" : "", plugin,
                               *plugin ? " " : "", *plugin ? pver : "");
        if (*plugin)
            g_string_truncate(out, out->len - 1), g_string_append(out, ")\n");
        if (fields && s->kind == K_DEV)
            describe_fields(s, out);
    }
    return true;
}
