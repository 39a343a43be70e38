/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * System BIOS ROM: the firmware image mapped read-only so that its last
 * byte sits at 0xFFFFFFFF (the reset vector at 0xFFFFFFF0, Intel SDM vol. 3,
 * 9.1.4) and its last min(size, 128 KiB) bytes also end at 0x100000, the
 * legacy E/F segments (PC/AT memory map). A chipset (PAM) may later cover
 * the low alias with shadow RAM at a higher priority.
 */
#define G_LOG_DOMAIN "bios-rom"
#include <tessera/tessera.h>

#define ROM_MAX (16u << 20)
#define ROM_UNIT (64u << 10)
#define LOW_MAX (128u << 10)

typedef struct {
    TessDevice dev;
    char *file;
    TessMemRegion *rom;
    TessMemRegion *low;
} BiosRom;

static bool bios_realize(TessDevice *dev, GError **err)
{
    BiosRom *b = (BiosRom *)dev;
    if (!b->file || !*b->file) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_NOT_FOUND,
                    "%s: no firmware: give --bios FILE", dev->id);
        return false;
    }
    g_autofree char *path = tess_find_data_file(dev->machine, b->file, err);
    if (!path)
        return false;
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) lerr = NULL;
    if (!g_file_get_contents(path, &data, &len, &lerr)) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO, "%s: firmware %s: %s",
                    dev->id, path, lerr->message);
        return false;
    }
    if (len == 0 || len % ROM_UNIT != 0 || len > ROM_MAX) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_INVALID,
                    "%s: firmware %s is %" G_GSIZE_FORMAT " bytes: it must be a "
                    "non-zero multiple of 64 KiB, at most 16 MiB", dev->id, path, len);
        return false;
    }
    b->rom = tess_mem_rom_new(dev, "bios", len, err);
    if (!b->rom)
        return false;
    memcpy(tess_mem_region_host(b->rom), data, len);
    uint64_t low = len < LOW_MAX ? len : LOW_MAX;
    b->low = tess_mem_alias_new(dev, "bios-low", b->rom, len - low, low, err);
    if (!b->low)
        return false;
    tess_mem_begin(dev->machine);
    bool ok = tess_mem_map(b->rom, 0x100000000ull - len, TESS_PRIO_ROM, TESS_MAP_RW, err)
           && tess_mem_map(b->low, 0x100000 - low, TESS_PRIO_ROM, TESS_MAP_RW, err);
    tess_mem_commit(dev->machine);
    return ok;
}

static const TessPropSpec bios_props[] = {
    TESS_PROP_PATH_("file", BiosRom, file, NULL,
                    "firmware image (multiple of 64 KiB, up to 16 MiB)"),
    TESS_PROP_END,
};

static const TessDeviceClass bios_class = {
    .type = "bios-rom",
    .kind = TESS_CLASS_DEVICE,
    .doc = "system BIOS ROM at the top of 4 GiB and below 1 MiB",
    .instance_size = sizeof(BiosRom),
    .props = bios_props,
    .realize = bios_realize,
};

static bool bios_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &bios_class, err);
}

TESS_PLUGIN_DEFINE("bios-rom", "0.1.0", "LGPL-2.1-or-later",
                   "system firmware ROM", bios_init);
