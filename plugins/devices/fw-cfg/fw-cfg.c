/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QEMU's firmware configuration interface, I/O-port flavour, as documented
 * in QEMU docs/specs/fw_cfg.rst: selector 510h (16-bit), data 511h (8-bit),
 * DMA address 514h-51Bh (big-endian, the write of the low half at 518h
 * starts a transfer).
 *
 * It hands firmware (SeaBIOS) the RAM layout (etc/e820), the boot order,
 * option ROMs (vgaroms/, genroms/) and small settings. Other plugins add
 * files through the "fw-cfg" interface (tessera/fwcfg.h).
 */
#define G_LOG_DOMAIN "fw-cfg"
#include <tessera/tessera.h>
#include <tessera/fwcfg.h>

#include <string.h>

#define FW_CFG_PORT      0x510
#define FW_CFG_DMA_PORT  0x514

/* Selector keys (the numbering QEMU and SeaBIOS share). */
#define FW_CFG_SIGNATURE  0x0000
#define FW_CFG_ID         0x0001
#define FW_CFG_RAM_SIZE   0x0003
#define FW_CFG_NB_CPUS    0x0005
#define FW_CFG_BOOT_MENU  0x000E
#define FW_CFG_MAX_CPUS   0x000F
#define FW_CFG_FILE_DIR   0x0019
#define FW_CFG_FILE_FIRST 0x0020
#define FW_CFG_KEY_LIMIT  0x4000     /* items per range (generic, arch) */

#define FW_CFG_ID_TRADITIONAL 0x1
#define FW_CFG_ID_DMA         0x2

#define FW_CFG_DMA_CTL_ERROR  0x01
#define FW_CFG_DMA_CTL_READ   0x02
#define FW_CFG_DMA_CTL_SKIP   0x04
#define FW_CFG_DMA_CTL_SELECT 0x08
#define FW_CFG_DMA_CTL_WRITE  0x10

#define FW_CFG_NAME_MAX 56           /* including the NUL */
#define FW_CFG_DMA_SIGNATURE "QEMU CFG"

#define E820_RAM 1

typedef struct FwCfgItem {
    uint8_t *data;
    uint32_t len;
    char *name;                      /* NULL: a numbered (non-file) item */
    uint16_t key;
} FwCfgItem;

typedef struct FwCfg {
    TessDevice dev;
    /* properties */
    bool dma_enabled;
    char *bootorder;
    uint64_t sercon_port;
    char *vgarom;
    char *files_spec;
    bool boot_menu;
    /* items */
    GHashTable *items;               /* key -> FwCfgItem */
    GPtrArray *files;                /* FwCfgItem *, sorted by name */
    uint16_t next_file_key;
    uint8_t *dir;                    /* FW_CFG_FILE_DIR contents */
    /* state */
    uint16_t cur_key;
    uint32_t cur_off;
    uint32_t dma_addr_hi;
} FwCfg;

static void item_free(gpointer p)
{
    FwCfgItem *it = p;
    g_free(it->data);
    g_free(it->name);
    g_free(it);
}

static void fw_add_item(FwCfg *s, uint16_t key, const void *data, size_t len)
{
    FwCfgItem *it = g_new0(FwCfgItem, 1);
    it->key = key;
    it->data = g_memdup2(data, len);
    it->len = (uint32_t)len;
    g_hash_table_replace(s->items, GUINT_TO_POINTER(key), it);
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static gint file_cmp(gconstpointer a, gconstpointer b)
{
    const FwCfgItem *x = *(FwCfgItem *const *)a, *y = *(FwCfgItem *const *)b;
    return strcmp(x->name, y->name);
}

/* Directory: be32 count, then {be32 size, be16 select, u16 0, name[56]}. */
static void fw_rebuild_dir(FwCfg *s)
{
    size_t len = 4 + 64 * (size_t)s->files->len;
    uint8_t *d = g_malloc0(len);
    put_be32(d, s->files->len);
    for (guint i = 0; i < s->files->len; i++) {
        const FwCfgItem *it = g_ptr_array_index(s->files, i);
        uint8_t *e = d + 4 + 64 * i;
        put_be32(e, it->len);
        e[4] = (uint8_t)(it->key >> 8);
        e[5] = (uint8_t)it->key;
        memcpy(e + 8, it->name, strlen(it->name));
    }
    fw_add_item(s, FW_CFG_FILE_DIR, d, len);
    g_free(d);
}

static bool fw_add_file(TessDevice *dev, const char *name, const void *data, size_t len,
                        GError **err)
{
    FwCfg *s = (FwCfg *)dev;
    if (!name || !*name || strlen(name) >= FW_CFG_NAME_MAX) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_INVALID,
                    "%s: file name '%s' must be 1..%d bytes", dev->id, name ? name : "",
                    FW_CFG_NAME_MAX - 1);
        return false;
    }
    if (len > UINT32_MAX) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_INVALID,
                    "%s: file '%s' is larger than 4 GiB", dev->id, name);
        return false;
    }
    for (guint i = 0; i < s->files->len; i++) {
        const FwCfgItem *it = g_ptr_array_index(s->files, i);
        if (!strcmp(it->name, name)) {
            g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_DUPLICATE,
                        "%s: file '%s' added twice", dev->id, name);
            return false;
        }
    }
    if (s->next_file_key >= FW_CFG_KEY_LIMIT) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_FAILED,
                    "%s: no selector left for file '%s'", dev->id, name);
        return false;
    }
    uint16_t key = s->next_file_key++;
    fw_add_item(s, key, data, len);
    FwCfgItem *it = g_hash_table_lookup(s->items, GUINT_TO_POINTER(key));
    it->name = g_strdup(name);
    g_ptr_array_add(s->files, it);
    g_ptr_array_sort(s->files, file_cmp);
    fw_rebuild_dir(s);
    return true;
}

static bool fw_add_host_file(FwCfg *s, const char *name, const char *path, GError **err)
{
    g_autofree char *found = tess_find_data_file(s->dev.machine, path, err);
    g_autofree char *data = NULL;
    gsize len = 0;
    if (!found)
        return false;
    if (!g_file_get_contents(found, &data, &len, err)) {
        g_prefix_error(err, "%s: file '%s': ", s->dev.id, name);
        return false;
    }
    return fw_add_file(&s->dev, name, data, len, err);
}

/* ---- data access ------------------------------------------------------- */

static FwCfgItem *fw_cur(FwCfg *s)
{
    return g_hash_table_lookup(s->items, GUINT_TO_POINTER(s->cur_key & 0xBFFFu));
}

static void fw_select(FwCfg *s, uint16_t key)
{
    s->cur_key = key;
    s->cur_off = 0;
}

static uint8_t fw_read_data(FwCfg *s)
{
    FwCfgItem *it = fw_cur(s);
    /* Past the end (or no such item): 0x00. */
    if (!it || s->cur_off >= it->len)
        return 0;
    return it->data[s->cur_off++];
}

static uint64_t fw_port_read(void *opaque, uint64_t off, unsigned size)
{
    FwCfg *s = opaque;
    if (off == 1 && size == 1)
        return fw_read_data(s);
    return 0;                        /* the selector is write-only */
}

static void fw_port_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    FwCfg *s = opaque;
    if (off == 0 && size == 2)
        fw_select(s, (uint16_t)val);
    /* Data-port writes are ignored (writes go through DMA only). */
}

static const TessIoOps fw_port_ops = {
    .read = fw_port_read, .write = fw_port_write,
    .widths = TESS_W8 | TESS_W16,
};

/* ---- DMA ---------------------------------------------------------------- */

static bool fw_dma_zero(TessMachine *m, uint64_t addr, uint64_t len, GError **err)
{
    static const uint8_t zero[4096];
    while (len) {
        size_t n = len < sizeof(zero) ? (size_t)len : sizeof(zero);
        if (!tess_dma_write(m, addr, zero, n, err))
            return false;
        addr += n;
        len -= n;
    }
    return true;
}

/* One FWCfgDmaAccess: { be32 control, be32 length, be64 address }. */
static void fw_dma_run(FwCfg *s, uint64_t desc)
{
    TessMachine *m = s->dev.machine;
    GError *err = NULL;
    uint8_t d[16];

    if (!tess_dma_read(m, desc, d, sizeof(d), &err)) {
        tess_guest_error(&s->dev, "DMA descriptor at 0x%" G_GINT64_MODIFIER "x: %s",
                         desc, err->message);
        g_error_free(err);
        return;
    }
    uint32_t control = get_be32(d);
    uint32_t length = get_be32(d + 4);
    uint64_t addr = (uint64_t)get_be32(d + 8) << 32 | get_be32(d + 12);
    bool ok = true;

    if (control & FW_CFG_DMA_CTL_SELECT)
        fw_select(s, (uint16_t)(control >> 16));

    if (control & FW_CFG_DMA_CTL_READ) {
        FwCfgItem *it = fw_cur(s);
        uint32_t avail = it && s->cur_off < it->len ? it->len - s->cur_off : 0;
        uint32_t n = length < avail ? length : avail;
        if (n && !tess_dma_write(m, addr, it->data + s->cur_off, n, &err))
            ok = false;
        else if (length > n && !fw_dma_zero(m, addr + n, length - n, &err))
            ok = false;
        if (ok)
            s->cur_off += n;
    } else if (control & FW_CFG_DMA_CTL_WRITE) {
        /* Every item here is read-only to the guest. */
        ok = false;
        g_set_error(&err, TESS_DEVICE_ERROR, TESS_ERROR_INVALID,
                    "write to read-only item 0x%04x", s->cur_key);
    } else if (control & FW_CFG_DMA_CTL_SKIP) {
        FwCfgItem *it = fw_cur(s);
        uint64_t o = (uint64_t)s->cur_off + length;
        uint32_t lim = it ? it->len : 0;
        s->cur_off = o > lim ? (s->cur_off > lim ? s->cur_off : lim) : (uint32_t)o;
    }

    if (!ok) {
        tess_guest_error(&s->dev, "DMA: %s", err->message);
        g_clear_error(&err);    /* the status write below may set it again */
    }
    uint8_t result[4];
    put_be32(result, ok ? 0 : FW_CFG_DMA_CTL_ERROR);
    if (!tess_dma_write(m, desc, result, sizeof(result), &err)) {
        tess_guest_error(&s->dev, "DMA status write: %s", err->message);
        g_error_free(err);
    }
}

static uint64_t fw_dma_read(void *opaque, uint64_t off, unsigned size)
{
    static const char sig[] = FW_CFG_DMA_SIGNATURE;
    uint64_t v = 0;
    for (unsigned i = 0; i < size && off + i < 8; i++)
        v |= (uint64_t)(uint8_t)sig[off + i] << (8 * i);
    return v;
}

static void fw_dma_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    FwCfg *s = opaque;
    if (size != 4)
        return;
    /* The register is big-endian: byte 514h is the address's MSB. */
    uint32_t half = GUINT32_SWAP_LE_BE((uint32_t)val);
    if (off == 0) {
        s->dma_addr_hi = half;
    } else if (off == 4) {
        uint64_t desc = (uint64_t)s->dma_addr_hi << 32 | half;
        s->dma_addr_hi = 0;          /* 0 again after an operation */
        fw_dma_run(s, desc);
    }
}

static const TessIoOps fw_dma_ops = {
    .read = fw_dma_read, .write = fw_dma_write,
    .widths = TESS_W8 | TESS_W16 | TESS_W32,
};

/* ---- content ------------------------------------------------------------ */

static void fw_add_e820(FwCfg *s)
{
    TessMachine *m = s->dev.machine;
    uint64_t total = tess_machine_ram_size(m), below = tess_machine_ram_below_4g(m);
    uint8_t e[2][20];
    unsigned n = 0;

    if (below) {
        put_le(e[n], 0, 8);
        put_le(e[n] + 8, below, 8);
        put_le(e[n] + 16, E820_RAM, 4);
        n++;
    }
    if (total > below) {
        put_le(e[n], UINT64_C(0x100000000), 8);
        put_le(e[n] + 8, total - below, 8);
        put_le(e[n] + 16, E820_RAM, 4);
        n++;
    }
    fw_add_file(&s->dev, "etc/e820", e, 20 * n, NULL);
}

/* "a b;c" -> "a\nb\nc\0": OpenFirmware device paths, one a line. */
static void fw_add_bootorder(FwCfg *s)
{
    g_auto(GStrv) parts = g_strsplit_set(s->bootorder, "; \t\n", -1);
    GString *out = g_string_new(NULL);
    for (char **p = parts; *p; p++) {
        if (!**p)
            continue;
        if (out->len)
            g_string_append_c(out, '\n');
        g_string_append(out, *p);
    }
    if (out->len)
        fw_add_file(&s->dev, "bootorder", out->str, out->len + 1, NULL);
    g_string_free(out, TRUE);
}

static bool fw_add_files_prop(FwCfg *s, GError **err)
{
    g_auto(GStrv) parts = g_strsplit(s->files_spec, ";", -1);
    for (char **p = parts; *p; p++) {
        char *spec = g_strstrip(*p);
        if (!*spec)
            continue;
        char *eq = strchr(spec, '=');
        if (!eq || eq == spec || !eq[1]) {
            g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                        "%s: files: '%s' is not NAME=PATH", s->dev.id, spec);
            return false;
        }
        *eq = '\0';
        if (!fw_add_host_file(s, spec, eq + 1, err))
            return false;
    }
    return true;
}

static bool fw_realize(TessDevice *dev, GError **err)
{
    FwCfg *s = (FwCfg *)dev;
    TessMachine *m = dev->machine;
    uint8_t buf[8];

    s->items = g_hash_table_new_full(NULL, NULL, NULL, item_free);
    s->files = g_ptr_array_new();
    s->next_file_key = FW_CFG_FILE_FIRST;

    fw_add_item(s, FW_CFG_SIGNATURE, "QEMU", 4);
    put_le(buf, FW_CFG_ID_TRADITIONAL | (s->dma_enabled ? FW_CFG_ID_DMA : 0), 4);
    fw_add_item(s, FW_CFG_ID, buf, 4);
    put_le(buf, tess_machine_ram_size(m), 8);
    fw_add_item(s, FW_CFG_RAM_SIZE, buf, 8);
    put_le(buf, 1, 2);                   /* one CPU */
    fw_add_item(s, FW_CFG_NB_CPUS, buf, 2);
    fw_add_item(s, FW_CFG_MAX_CPUS, buf, 2);
    put_le(buf, s->boot_menu, 2);
    fw_add_item(s, FW_CFG_BOOT_MENU, buf, 2);
    fw_rebuild_dir(s);

    fw_add_e820(s);
    if (s->bootorder && *s->bootorder)
        fw_add_bootorder(s);
    if (s->sercon_port) {
        put_le(buf, s->sercon_port, 2);
        fw_add_file(dev, "etc/sercon-port", buf, 2, NULL);
    }
    if (s->vgarom && *s->vgarom && !fw_add_host_file(s, "vgaroms/vgabios.bin", s->vgarom, err))
        goto fail;
    if (s->files_spec && *s->files_spec && !fw_add_files_prop(s, err))
        goto fail;

    if (!tess_pio_map(dev, FW_CFG_PORT, 2, &fw_port_ops, s, err) ||
        (s->dma_enabled && !tess_pio_map(dev, FW_CFG_DMA_PORT, 8, &fw_dma_ops, s, err)))
        goto fail;
    return true;

fail:
    g_ptr_array_free(s->files, TRUE);
    g_hash_table_destroy(s->items);
    s->files = NULL;
    s->items = NULL;
    return false;
}

static void fw_unrealize(TessDevice *dev)
{
    FwCfg *s = (FwCfg *)dev;
    if (s->files)
        g_ptr_array_free(s->files, TRUE);
    if (s->items)
        g_hash_table_destroy(s->items);
    s->files = NULL;
    s->items = NULL;
}

static void fw_reset(TessDevice *dev)
{
    FwCfg *s = (FwCfg *)dev;
    s->cur_key = 0;
    s->cur_off = 0;
    s->dma_addr_hi = 0;
}

static const TessPropSpec fw_props[] = {
    TESS_PROP_BOOL_("dma", FwCfg, dma_enabled, "on", "offer the DMA interface (ID bit 1, ports 514h-51Bh)"),
    TESS_PROP_STRING_("bootorder", FwCfg, bootorder, NULL,
                      "boot order: OpenFirmware device paths separated by ';' (file \"bootorder\")"),
    TESS_PROP_UINT_("sercon-port", FwCfg, sercon_port, "0", 0, 0xFFFF,
                    "serial port SeaBIOS mirrors its screen to (file \"etc/sercon-port\"; 0 = none)"),
    TESS_PROP_STRING_("vgarom", FwCfg, vgarom, NULL,
                      "VGA BIOS image handed over as \"vgaroms/vgabios.bin\" (data-path lookup)"),
    TESS_PROP_STRING_("files", FwCfg, files_spec, NULL,
                      "extra files: NAME=PATH;NAME2=PATH2 (data-path lookup)"),
    TESS_PROP_BOOL_("boot-menu", FwCfg, boot_menu, "off", "ask firmware to offer its boot menu"),
    TESS_PROP_END
};

static const TessFwCfgOps fw_iface_ops = { .add_file = fw_add_file };

static const TessIfaceSpec fw_provides[] = {
    { .name = TESS_IFACE_FW_CFG, .ops = &fw_iface_ops },
    TESS_IFACE_END
};

static const TessStateField fw_state_fields[] = {
    TESS_STATE_U16(FwCfg, cur_key),
    TESS_STATE_U32(FwCfg, cur_off),
    TESS_STATE_U32(FwCfg, dma_addr_hi),
    TESS_STATE_END
};

static const TessStateDesc fw_state = { .version = 1, .fields = fw_state_fields };

static const TessDeviceClass fw_class = {
    .type = "fw-cfg",
    .kind = TESS_CLASS_DEVICE,
    .doc = "QEMU firmware configuration interface (ports 510h/511h, DMA 514h)",
    .instance_size = sizeof(FwCfg),
    .props = fw_props,
    .provides = fw_provides,
    .state = &fw_state,
    .realize = fw_realize,
    .reset = fw_reset,
    .unrealize = fw_unrealize,
};

static bool fw_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &fw_class, err);
}

TESS_PLUGIN_DEFINE("fw-cfg", "1.0", "LGPL-2.1-or-later",
                   "QEMU firmware configuration interface", fw_init);
