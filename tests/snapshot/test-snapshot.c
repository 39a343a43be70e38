/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Snapshot engine tests that need no guest output: every class's state
 * table against its instance layout, the x86 interpreter's register
 * state, and the loader under corrupted, truncated, newer-version and
 * wrong-plugin snapshots (a fuzz loop; ASan and UBSan watch it).
 *
 * SNAP_ROM names a guest ROM for the bare machine (tests/guests/pm.bin).
 */
#include "core.h"

#include <string.h>
#include <glib/gstdio.h>

static TessRegistry *reg;

/* ---- state tables against instance layouts ----------------------------------- */

static size_t field_span(const TessStateField *f)
{
    switch (f->type) {
    case TESS_STATE_T_U8: case TESS_STATE_T_BOOL: return 1 * (f->size ? f->size : 1);
    case TESS_STATE_T_U16: return 2 * (f->size ? f->size : 1);
    case TESS_STATE_T_U32: return 4 * (f->size ? f->size : 1);
    case TESS_STATE_T_U64: return 8 * (f->size ? f->size : 1);
    case TESS_STATE_T_BUF: return f->size;
    case TESS_STATE_T_PTRBUF: case TESS_STATE_T_VARBUF: case TESS_STATE_T_BLOB:
        return sizeof(void *);
    default: return 0;
    }
}

static void test_layout(void)
{
    g_autoptr(GPtrArray) classes = tess_registry_list(reg);
    TessMachine *m = tess_machine_new_empty(reg, "layout", NULL);
    unsigned checked = 0, tables = 0;
    for (guint i = 0; i < classes->len; i++) {
        const TessDeviceClass *cls = classes->pdata[i];
        g_autofree char *id = g_strdup_printf("d%u", i);
        g_autoptr(GError) err = NULL;
        TessDevice *dev = tess_device_new(m, cls, id, &err);
        g_assert_no_error(err);
        g_assert_nonnull(dev);
        const TessStateDesc *sd = cls->state;
        if (sd) {
            tables++;
            g_assert_cmpuint(sd->version, >=, 1);
            g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);
            uint8_t *owner = g_malloc0(cls->instance_size);
            for (const TessStateField *f = sd->fields; f && f->name; f++) {
                if (f->type == TESS_STATE_T_UNSAVABLE)
                    continue;
                g_test_message("%s.%s", cls->type, f->name);
                g_assert_cmpint(f->type, <=, TESS_STATE_T_BLOB);
                g_assert_false(g_hash_table_contains(names, f->name));
                g_hash_table_add(names, (gpointer)f->name);
                size_t span = field_span(f);
                g_assert_cmpuint(span, >, 0);
                /* inside the instance, past the core's head */
                g_assert_cmpuint(f->offset, >=, sizeof(TessDevice));
                g_assert_cmpuint(f->offset + span, <=, cls->instance_size);
                g_assert_cmpuint(f->since, <=, sd->version);
                if (f->type == TESS_STATE_T_VARBUF || f->type == TESS_STATE_T_BLOB) {
                    g_assert_cmpuint(f->size, >=, sizeof(TessDevice));
                    g_assert_cmpuint(f->size + sizeof(uint32_t), <=, cls->instance_size);
                }
                if (f->type == TESS_STATE_T_PTRBUF)
                    g_assert_cmpuint(f->size, >, 0);
                /* no two fields share a byte: a second name for the same
                 * bytes is a table mistake */
                for (size_t k = 0; k < span; k++) {
                    g_assert_cmpuint(owner[f->offset + k], ==, 0);
                    owner[f->offset + k] = 1;
                }
                /* a pointer field points somewhere or is NULL before
                 * realize: never garbage in a zeroed instance */
                if (f->type == TESS_STATE_T_PTRBUF || f->type == TESS_STATE_T_VARBUF ||
                    f->type == TESS_STATE_T_BLOB) {
                    void *p;
                    memcpy(&p, (uint8_t *)dev + f->offset, sizeof(p));
                    g_assert_null(p);
                }
                checked++;
            }
            g_free(owner);
        }
        tess_device_free(dev);
    }
    g_test_message("%u fields of %u state tables checked", checked, tables);
    /* the pc machine's devices are all here, and all have tables */
    g_assert_cmpuint(tables, >=, 18);
    tess_machine_free(m);
}

/* ---- the x86 interpreter's register state -------------------------------------- */

static TessMachine *bare_machine(const char *model, GError **err)
{
    const char *rom = g_getenv("SNAP_ROM");
    TessOverride o = { .id = "bios", .prop = "file", .value = (char *)rom };
    TessOverride o2 = { .id = "cpu", .prop = "model", .value = (char *)model };
    g_autoptr(GPtrArray) ov = g_ptr_array_new();
    g_ptr_array_add(ov, &o);
    g_ptr_array_add(ov, &o2);
    TessLoadOptions lo = { .mopts = { .deterministic = true }, .overrides = ov };
    return tess_machine_load_string(reg, "<machine base=\"bare\"/>", ".", &lo, err);
}

static void test_x86_state(void)
{
    if (!g_getenv("SNAP_ROM")) {
        g_test_skip("SNAP_ROM not set");
        return;
    }
    const char *models[] = { "486", "pentium", "pentium-pro" };
    for (size_t k = 0; k < G_N_ELEMENTS(models); k++) {
        g_autoptr(GError) err = NULL;
        TessMachine *m = bare_machine(models[k], &err);
        g_assert_no_error(err);
        /* somewhere in protected mode with paging off */
        m->suspend_at = 3000;
        m->suspend_path = g_build_filename(g_get_tmp_dir(), "tess-snap-x86.snap", NULL);
        g_autofree char *path = g_strdup(m->suspend_path);
        g_assert_cmpint(tess_machine_run(m), ==, 0);
        g_unlink(path);
        g_assert_nonnull(m->cpu_ops->get_state);
        TessCpuState *a = g_new0(TessCpuState, 1), *b = g_new0(TessCpuState, 1);
        a->version = b->version = TESS_CPU_STATE_VERSION;
        a->size = b->size = sizeof(TessCpuState);
        g_assert_true(m->cpu_ops->get_state(m->cpu, a, &err));
        g_assert_cmpuint(a->fpu_format, ==, TESS_CPU_FPU_FXSAVE);
        g_assert_cmpuint(a->nmsrs, >=, 1);
        /* an unknown MSR is refused and changes nothing */
        TessCpuState *bad = g_memdup2(a, sizeof(*a));
        bad->msrs[bad->nmsrs].index = 0xDEAD;
        bad->nmsrs++;
        bad->gpr[0] ^= 1;
        g_assert_false(m->cpu_ops->set_state(m->cpu, bad, &err));
        g_assert_error(err, TESS_STATE_ERROR, TESS_ERROR_UNSUPPORTED);
        g_clear_error(&err);
        /* a changed register comes back, the rest as it was */
        a->gpr[TESS_CPU_RBX] = 0x12345678;
        a->fpu[0] = 0x7F;           /* FCW */
        g_assert_true(m->cpu_ops->set_state(m->cpu, a, &err));
        g_assert_true(m->cpu_ops->get_state(m->cpu, b, &err));
        g_assert_no_error(err);
        /* the TSC moves only with virtual time, which did not move */
        g_assert_cmpmem(a, sizeof(*a), b, sizeof(*b));
        g_free(bad);
        g_free(a);
        g_free(b);
        tess_machine_free(m);
    }
}

/* ---- the loader ------------------------------------------------------------- */

static GBytes *make_snapshot(uint64_t at)
{
    g_autoptr(GError) err = NULL;
    TessMachine *m = bare_machine("pentium", &err);
    g_assert_no_error(err);
    g_autofree char *path = g_build_filename(g_get_tmp_dir(), "tess-snap-fuzz.snap", NULL);
    m->suspend_at = at;
    m->suspend_path = g_strdup(path);
    g_assert_cmpint(tess_machine_run(m), ==, 0);
    tess_machine_free(m);
    char *data;
    gsize len;
    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    g_unlink(path);
    return g_bytes_new_take(data, len);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
}

/* The sections of a well-formed snapshot: where each header's version,
 * CRC and payload are, so a test can change a payload and keep the
 * container valid (reaching the section parsers, not the CRC check). */
typedef struct { size_t ver_at, crc_at, data_at, len; uint32_t kind; } SecPos;

static GArray *sections_of(const uint8_t *d, size_t len)
{
    GArray *a = g_array_new(FALSE, FALSE, sizeof(SecPos));
    size_t pos = 16;
    while (pos < len) {
        SecPos s = { 0 };
        s.kind = rd32(d + pos);
        pos += 4;
        for (int k = 0; k < 2; k++) {
            uint32_t n = rd32(d + pos);
            pos += 4 + (n == 0xFFFFFFFFu ? 0 : n);
        }
        s.ver_at = pos;
        pos += 4;
        s.len = (size_t)(rd32(d + pos) | (uint64_t)rd32(d + pos + 4) << 32);
        pos += 8;
        s.crc_at = pos;
        pos += 4;
        s.data_at = pos;
        pos += s.len;
        g_array_append_val(a, s);
    }
    g_assert_cmpuint(pos, ==, len);
    return a;
}

static void fix_crc(uint8_t *d, const SecPos *s)
{
    uint32_t c = crc32_ieee(d + s->data_at, s->len);
    for (int i = 0; i < 4; i++)
        d[s->crc_at + i] = (uint8_t)(c >> (8 * i));
}

/* Where the encoding byte of a device section's last field record is
 * (see state-file.h: str name, u8 type, u64 bytes, u8 encoding, [u64
 * stored], bytes); 0 when the section has no fields. */
static size_t last_field_enc_at(const uint8_t *d, const SecPos *s)
{
    size_t pos = s->data_at, end = s->data_at + s->len, enc_at = 0;
    uint32_t count = rd32(d + pos);
    pos += 4;
    for (uint32_t i = 0; i < count; i++) {
        pos += 4 + rd32(d + pos) + 1;
        uint64_t n = rd32(d + pos) | (uint64_t)rd32(d + pos + 4) << 32;
        pos += 8;
        enc_at = pos++;
        if (d[enc_at] == 1) {
            n = rd32(d + pos) | (uint64_t)rd32(d + pos + 4) << 32;
            pos += 8;
        }
        pos += (size_t)n;
    }
    g_assert_cmpuint(pos, ==, end);
    return enc_at;
}

static bool try_restore(const uint8_t *d, size_t len, GError **err)
{
    g_autofree char *path = g_build_filename(g_get_tmp_dir(), "tess-snap-try.snap", NULL);
    g_assert_true(g_file_set_contents(path, (const char *)d, (gssize)len, NULL));
    TessMachine *m = tess_snapshot_restore(reg, path, NULL, err);
    g_unlink(path);
    if (!m)
        return false;
    tess_machine_free(m);
    return true;
}

/* The snapshot of the ROM guest stopped at instruction `at` and its
 * sections, for the tests that take it apart; NULL (the test skipped)
 * without SNAP_ROM. */
static GBytes *snap_sections(uint64_t at, GArray **secs)
{
    if (!g_getenv("SNAP_ROM")) {
        g_test_skip("SNAP_ROM not set");
        return NULL;
    }
    GBytes *snap = make_snapshot(at);
    gsize len;
    const uint8_t *d = g_bytes_get_data(snap, &len);
    *secs = sections_of(d, len);
    return snap;
}

static void test_refusals(void)
{
    if (!g_getenv("SNAP_ROM")) {
        g_test_skip("SNAP_ROM not set");
        return;
    }
    g_autoptr(GBytes) snap = make_snapshot(4000);
    gsize len;
    const uint8_t *orig = g_bytes_get_data(snap, &len);
    g_autoptr(GError) err = NULL;
    g_assert_true(try_restore(orig, len, &err));
    g_assert_no_error(err);
    g_autofree uint8_t *d = g_memdup2(orig, len);
    g_autoptr(GArray) secs = sections_of(d, len);

    /* truncated */
    g_assert_false(try_restore(d, len - 1, &err));
    g_assert_nonnull(strstr(err->message, "truncated"));
    g_clear_error(&err);
    /* a newer format */
    d[8] = 2;
    g_assert_false(try_restore(d, len, &err));
    g_assert_error(err, TESS_STATE_ERROR, TESS_ERROR_UNSUPPORTED);
    g_clear_error(&err);
    d[8] = orig[8];
    /* a flipped bit: the CRC catches it */
    d[len / 2] ^= 0x10;
    g_assert_false(try_restore(d, len, &err));
    g_assert_nonnull(strstr(err->message, "CRC"));
    g_clear_error(&err);
    d[len / 2] ^= 0x10;
    /* a device section newer than the class */
    for (guint i = 0; i < secs->len; i++) {
        SecPos *s = &g_array_index(secs, SecPos, i);
        if (s->kind != ('D' | 'E' << 8 | 'V' << 16 | ' ' << 24))
            continue;
        d[s->ver_at] += 1;
        g_assert_false(try_restore(d, len, &err));
        g_assert_error(err, TESS_STATE_ERROR, TESS_ERROR_UNSUPPORTED);
        g_assert_nonnull(strstr(err->message, "section version"));
        g_clear_error(&err);
        d[s->ver_at] -= 1;
        break;
    }
    /* an encoding this build does not know, on a section's last field
     * (where no trailing bytes would give it away) */
    for (guint i = 0; i < secs->len; i++) {
        SecPos *s = &g_array_index(secs, SecPos, i);
        if (s->kind != ('D' | 'E' << 8 | 'V' << 16 | ' ' << 24))
            continue;
        size_t enc_at = last_field_enc_at(d, s);
        if (!enc_at || d[enc_at] != 0)
            continue;
        d[enc_at] = 2;
        fix_crc(d, s);
        g_assert_false(try_restore(d, len, &err));
        g_assert_error(err, TESS_STATE_ERROR, TESS_ERROR_INVALID);
        g_assert_nonnull(strstr(err->message, "corrupt section"));
        g_clear_error(&err);
        d[enc_at] = 0;
        fix_crc(d, s);
        break;
    }
    g_assert_true(try_restore(d, len, &err));
    g_assert_no_error(err);
    /* a different plugin set: the x86 plugin's version in the header (the
     * plugin name "x86" is the string followed by a 5-byte version) */
    SecPos *hdr = &g_array_index(secs, SecPos, 0);
    static const uint8_t needle[] = { 'x', '8', '6', 5, 0, 0, 0 };
    uint8_t *at = memmem(d + hdr->data_at, hdr->len, needle, sizeof(needle));
    g_assert_nonnull(at);
    uint8_t *ver = at + sizeof(needle);
    ver[0] = ver[0] == '9' ? '8' : '9';
    fix_crc(d, hdr);
    g_assert_false(try_restore(d, len, &err));
    g_assert_nonnull(strstr(err->message, "plugin"));
    g_clear_error(&err);
    memcpy(d, orig, len);
}

/* Random changes to section payloads (CRCs fixed up, so the parsers see
 * them), truncations, and container damage: every one is refused or
 * loads; none may crash, hang or touch memory it should not. */
/* The RAM's zstd frame decoded by a context kept from the restore before
 * (state.c keeps one per thread): a restore that stops in the middle of a
 * frame (its bitmap claims one page fewer than the frame holds) must not
 * leave anything for the next, which gets the same RAM as a first one. */
static void read_ram(const uint8_t *d, size_t len, uint8_t **ram, uint64_t *size)
{
    g_autofree char *path = g_build_filename(g_get_tmp_dir(), "tess-snap-ram.snap", NULL);
    g_assert_true(g_file_set_contents(path, (const char *)d, (gssize)len, NULL));
    g_autoptr(GError) err = NULL;
    TessMachine *m = tess_snapshot_restore(reg, path, NULL, &err);
    g_unlink(path);
    g_assert_no_error(err);
    *size = tess_machine_ram_size(m);
    *ram = g_malloc(*size);
    g_assert_true(tess_dma_read(m, 0, *ram, *size, NULL));
    tess_machine_free(m);
}

static void test_zstd_context_reuse(void)
{
    g_autoptr(GArray) secs = NULL;
    g_autoptr(GBytes) snap = snap_sections(6000, &secs);
    if (!snap)
        return;
    gsize len;
    const uint8_t *orig = g_bytes_get_data(snap, &len);
    const SecPos *ram = NULL;
    for (guint i = 0; i < secs->len; i++)
        if (g_array_index(secs, SecPos, i).kind == 0x204D4152u)     /* "RAM " */
            ram = &g_array_index(secs, SecPos, i);
    g_assert_nonnull(ram);
    g_autofree uint8_t *first = NULL, *again = NULL;
    uint64_t size, size2;
    read_ram(orig, len, &first, &size);
    /* u64 size, u32 page size, then the bitmap of saved pages: clear
     * the first set bit that has another after it */
    uint64_t npages = size / rd32(orig + ram->data_at + 8);
    size_t bm = ram->data_at + 12, cleared = 0;
    unsigned set = 0;
    for (uint64_t pg = 0; pg < npages && set < 2; pg++)
        if (((orig[bm + pg / 8] >> (pg % 8)) & 1) && !set++)
            cleared = (size_t)pg;
    g_assert_cmpuint(set, ==, 2);
    g_autofree uint8_t *bad = g_memdup2(orig, len);
    bad[bm + cleared / 8] &= (uint8_t)~(1u << (cleared % 8));
    fix_crc(bad, ram);
    g_autoptr(GError) err = NULL;
    g_assert_false(try_restore(bad, len, &err));
    g_assert_nonnull(strstr(err->message, "corrupt RAM section"));
    read_ram(orig, len, &again, &size2);
    g_assert_cmpuint(size2, ==, size);
    g_assert_true(memcmp(first, again, size) == 0);
}

static void test_fuzz(void)
{
    g_autoptr(GArray) secs = NULL;
    g_autoptr(GBytes) snap = snap_sections(6000, &secs);
    if (!snap)
        return;
    gsize len;
    const uint8_t *orig = g_bytes_get_data(snap, &len);
    GRand *rnd = g_rand_new_with_seed(13);
    unsigned refused = 0, loaded = 0;
    unsigned iters = g_test_slow() ? 5000 : 400;
    for (unsigned it = 0; it < iters; it++) {
        g_autofree uint8_t *d = g_memdup2(orig, len);
        size_t n = len;
        switch (it % 4) {
        case 0: {       /* bytes of one payload */
            SecPos *s = &g_array_index(secs, SecPos, g_rand_int_range(rnd, 0, secs->len));
            if (!s->len)
                continue;
            int flips = g_rand_int_range(rnd, 1, 5);
            for (int k = 0; k < flips; k++)
                d[s->data_at + g_rand_int_range(rnd, 0, (gint32)s->len)] =
                    (uint8_t)g_rand_int_range(rnd, 0, 256);
            fix_crc(d, s);
            break;
        }
        case 1: {       /* a length or count word of one payload */
            SecPos *s = &g_array_index(secs, SecPos, g_rand_int_range(rnd, 0, secs->len));
            if (s->len < 4)
                continue;
            size_t at = s->data_at + (size_t)g_rand_int_range(rnd, 0, (gint32)s->len - 3);
            uint32_t v = g_rand_boolean(rnd) ? 0xFFFFFFFFu : g_rand_int(rnd) & 0xFFFF;
            memcpy(d + at, &v, 4);
            fix_crc(d, s);
            break;
        }
        case 2:         /* truncated anywhere */
            n = (size_t)g_rand_int_range(rnd, 0, (gint32)len);
            break;
        default:        /* the container itself */
            d[g_rand_int_range(rnd, 0, (gint32)MIN(len, 4096))] ^=
                (uint8_t)(1u << g_rand_int_range(rnd, 0, 8));
            break;
        }
        if (it % 8 == 0) {
            /* the libFuzzer-style entry takes the same path */
            tess_snapshot_fuzz_one(reg, d, n);
            continue;
        }
        g_autoptr(GError) err = NULL;
        if (try_restore(d, n, &err)) {
            loaded++;
        } else {
            g_assert_nonnull(err);
            g_assert_true(err->domain == TESS_STATE_ERROR || err->domain == TESS_CONFIG_ERROR ||
                          err->domain == TESS_DEVICE_ERROR || err->domain == TESS_PLUGIN_ERROR);
            refused++;
        }
    }
    g_rand_free(rnd);
    g_test_message("%u refused, %u loaded", refused, loaded);
    g_assert_cmpuint(refused, >, iters / 2);
}

/* The pc machine (SeaBIOS mid-boot): random values in device fields,
 * CRCs fixed up; a snapshot that loads must also run - the devices get
 * whatever the file says and must cope as they would with a guest
 * programming them wrongly. */
static void test_fuzz_pc(void)
{
    if (!g_file_test("/usr/share/seabios/bios-256k.bin", G_FILE_TEST_EXISTS)) {
        g_test_skip("seabios not installed");
        return;
    }
    g_autoptr(GError) err = NULL;
    TessLoadOptions lo = { .mopts = { .deterministic = true } };
    TessMachine *m = tess_machine_load_string(reg, "<machine base=\"pc\"><memory size=\"8M\"/>"
                                              "</machine>", ".", &lo, &err);
    g_assert_no_error(err);
    g_autofree char *path = g_build_filename(g_get_tmp_dir(), "tess-snap-pc.snap", NULL);
    g_autofree char *path2 = g_build_filename(g_get_tmp_dir(), "tess-snap-pc2.snap", NULL);
    m->suspend_at = 3000000;
    m->suspend_path = g_strdup(path);
    g_assert_cmpint(tess_machine_run(m), ==, 0);
    tess_machine_free(m);
    char *data;
    gsize len;
    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    g_autoptr(GBytes) snap = g_bytes_new_take(data, len);
    const uint8_t *orig = g_bytes_get_data(snap, &len);
    g_autoptr(GArray) secs = sections_of(orig, len);
    GRand *rnd = g_rand_new_with_seed(42);
    unsigned loaded = 0, iters = g_test_slow() ? 2000 : 120;
    for (unsigned it = 0; it < iters; it++) {
        g_autofree uint8_t *d = g_memdup2(orig, len);
        SecPos *s;
        do
            s = &g_array_index(secs, SecPos, g_rand_int_range(rnd, 0, secs->len));
        while (s->kind != ('D' | 'E' << 8 | 'V' << 16 | ' ' << 24) || !s->len);
        int n = g_rand_int_range(rnd, 1, 4);
        for (int k = 0; k < n; k++)
            d[s->data_at + g_rand_int_range(rnd, 0, (gint32)s->len)] =
                (uint8_t)g_rand_int_range(rnd, 0, 256);
        fix_crc(d, s);
        g_assert_true(g_file_set_contents(path, (const char *)d, (gssize)len, NULL));
        g_clear_error(&err);
        m = tess_snapshot_restore(reg, path, NULL, &err);
        if (!m)
            continue;
        loaded++;
        m->suspend_at = m->cpu_ops->icount(m->cpu) + 20000;
        m->suspend_path = g_strdup(path2);
        tess_machine_run(m);
        tess_machine_free(m);
    }
    g_rand_free(rnd);
    g_unlink(path);
    g_unlink(path2);
    g_test_message("%u of %u damaged pc snapshots loaded and ran", loaded, iters);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    reg = tess_registry_new();
    reg->quiet = true;
    tess_registry_scan_default(reg);
    g_test_add_func("/snapshot/layout", test_layout);
    g_test_add_func("/snapshot/x86-state", test_x86_state);
    g_test_add_func("/snapshot/refusals", test_refusals);
    g_test_add_func("/snapshot/zstd-context-reuse", test_zstd_context_reuse);
    g_test_add_func("/snapshot/fuzz", test_fuzz);
    g_test_add_func("/snapshot/fuzz-pc", test_fuzz_pc);
    int rc = g_test_run();
    tess_registry_free(reg);
    return rc;
}
