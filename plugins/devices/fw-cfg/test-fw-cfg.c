/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fw-cfg tests, against QEMU's docs/specs/fw_cfg.rst: signature, ID, the
 * file directory, etc/e820 against the machine's RAM, DMA (read, skip,
 * select, write refusal, bounds), files from properties and from other
 * plugins through the "fw-cfg" interface.
 */
#include "harness.h"

#include <tessera/fwcfg.h>
#include <glib/gstdio.h>
#include <string.h>

/* ---- guest-side helpers --------------------------------------------------- */

static void fw_select(TessMachine *m, uint16_t key) { th_outw(m, 0x510, key); }

static void fw_read(TessMachine *m, void *buf, size_t len)
{
    uint8_t *p = buf;
    for (size_t i = 0; i < len; i++)
        p[i] = th_inb(m, 0x511);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Find a file in the directory: its key and size; false if absent. */
static bool fw_find(TessMachine *m, const char *name, uint16_t *key, uint32_t *size)
{
    uint8_t cnt[4], e[64];
    fw_select(m, 0x19);
    fw_read(m, cnt, 4);
    for (uint32_t i = 0; i < be32(cnt); i++) {
        fw_read(m, e, 64);
        if (!strncmp((char *)e + 8, name, 56)) {
            *key = (uint16_t)(e[4] << 8 | e[5]);
            *size = be32(e);
            return true;
        }
    }
    return false;
}

static GBytes *fw_file(TessMachine *m, const char *name)
{
    uint16_t key;
    uint32_t size;
    if (!fw_find(m, name, &key, &size))
        return NULL;
    uint8_t *buf = g_malloc(size ? size : 1);
    fw_select(m, key);
    fw_read(m, buf, size);
    return g_bytes_new_take(buf, size);
}

/* Put a FWCfgDmaAccess at `desc` and start it through 514h/518h. */
static uint32_t fw_dma(TessMachine *m, uint64_t desc, uint32_t control, uint32_t len,
                       uint64_t addr)
{
    tess_mem_write(m, desc + 0, GUINT32_TO_BE(control), 4);
    tess_mem_write(m, desc + 4, GUINT32_TO_BE(len), 4);
    tess_mem_write(m, desc + 8, GUINT64_TO_BE(addr), 8);
    th_outl(m, 0x514, GUINT32_TO_BE((uint32_t)(desc >> 32)));
    th_outl(m, 0x518, GUINT32_TO_BE((uint32_t)desc));
    return GUINT32_FROM_BE((uint32_t)tess_mem_read(m, desc, 4));
}

#define DMA_READ   0x02
#define DMA_SKIP   0x04
#define DMA_SELECT 0x08
#define DMA_WRITE  0x10

/* ---- tests ---------------------------------------------------------------- */

static void test_signature_and_id(void)
{
    TessMachine *m = th_machine("<device type='fw-cfg' id='fw'/>");
    char sig[6] = { 0 };

    fw_select(m, 0x0000);
    fw_read(m, sig, 5);
    g_assert_cmpstr(sig, ==, "QEMU");                /* fifth byte: past the end, 0 */
    /* Selecting again restarts at offset 0. */
    fw_select(m, 0x0000);
    g_assert_cmphex(th_inb(m, 0x511), ==, 'Q');

    uint8_t id[4];
    fw_select(m, 0x0001);
    fw_read(m, id, 4);
    g_assert_cmphex(id[0], ==, 0x03);                /* traditional + DMA */
    g_assert_cmphex(id[1] | id[2] | id[3], ==, 0);
    /* The DMA register reads "QEMU CFG" big-endian. */
    g_assert_cmphex(th_inl(m, 0x514), ==, 0x554D4551);
    g_assert_cmphex(th_inl(m, 0x518), ==, 0x47464320);
    g_assert_cmphex(th_inb(m, 0x51B), ==, 'G');

    /* Unknown items read as zeros; data writes are ignored. */
    fw_select(m, 0x1234);
    g_assert_cmphex(th_inb(m, 0x511), ==, 0);
    fw_select(m, 0x0000);
    th_outb(m, 0x511, 'X');
    g_assert_cmphex(th_inb(m, 0x511), ==, 'Q');

    /* nb_cpus and max_cpus = 1, RAM size. */
    uint8_t v[8];
    fw_select(m, 0x05);
    fw_read(m, v, 2);
    g_assert_cmpuint(v[0] | v[1] << 8, ==, 1);
    fw_select(m, 0x0F);
    fw_read(m, v, 2);
    g_assert_cmpuint(v[0] | v[1] << 8, ==, 1);
    fw_select(m, 0x03);
    fw_read(m, v, 8);
    g_assert_cmpuint(le64(v), ==, 1024 * 1024);
    th_machine_free(m);

    m = th_machine("<device type='fw-cfg' id='fw' dma='off'/>");
    fw_select(m, 0x0001);
    fw_read(m, id, 4);
    g_assert_cmphex(id[0], ==, 0x01);
    g_assert_cmphex(th_inl(m, 0x514), ==, 0xFFFFFFFF);
    th_machine_free(m);
}

static void test_directory(void)
{
    TessMachine *m = th_machine("<device type='fw-cfg' id='fw' sercon-port='0x3f8'"
                                " bootorder='/pci@i0cf8/ide@1,1/drive@0/disk@0;/rom@genroms/x'/>");
    uint8_t cnt[4], e[64];
    char prev[57] = "";

    fw_select(m, 0x19);
    fw_read(m, cnt, 4);
    g_assert_cmpuint(be32(cnt), ==, 3);
    for (unsigned i = 0; i < 3; i++) {
        fw_read(m, e, 64);
        char name[57] = { 0 };
        memcpy(name, e + 8, 56);
        /* Sorted by name, selectors from 0x20 up, reserved field zero. */
        g_assert_cmpint(strcmp(prev, name), <, 0);
        g_assert_cmpuint(e[4] << 8 | e[5], >=, 0x20);
        g_assert_cmpuint(e[6] | e[7], ==, 0);
        strcpy(prev, name);
    }

    g_autoptr(GBytes) boot = fw_file(m, "bootorder");
    g_assert_nonnull(boot);
    static const char want[] = "/pci@i0cf8/ide@1,1/drive@0/disk@0\n/rom@genroms/x";
    g_assert_cmpuint(g_bytes_get_size(boot), ==, sizeof(want));   /* with the NUL */
    g_assert_cmpmem(g_bytes_get_data(boot, NULL), sizeof(want), want, sizeof(want));

    g_autoptr(GBytes) sercon = fw_file(m, "etc/sercon-port");
    g_assert_nonnull(sercon);
    g_assert_cmpuint(g_bytes_get_size(sercon), ==, 2);
    const uint8_t *sp = g_bytes_get_data(sercon, NULL);
    g_assert_cmphex(sp[0] | sp[1] << 8, ==, 0x3F8);
    th_machine_free(m);

    /* Without the properties those files do not exist. */
    m = th_machine("<device type='fw-cfg' id='fw'/>");
    uint16_t key;
    uint32_t size;
    g_assert_false(fw_find(m, "bootorder", &key, &size));
    g_assert_false(fw_find(m, "etc/sercon-port", &key, &size));
    g_assert_true(fw_find(m, "etc/e820", &key, &size));
    th_machine_free(m);
}

static void check_e820(TessMachine *m, unsigned n, const uint64_t (*want)[3])
{
    g_autoptr(GBytes) f = fw_file(m, "etc/e820");
    g_assert_nonnull(f);
    g_assert_cmpuint(g_bytes_get_size(f), ==, 20 * n);
    const uint8_t *p = g_bytes_get_data(f, NULL);
    for (unsigned i = 0; i < n; i++, p += 20) {
        g_assert_cmphex(le64(p), ==, want[i][0]);
        g_assert_cmphex(le64(p + 8), ==, want[i][1]);
        g_assert_cmpuint(p[16] | p[17] << 8 | p[18] << 16 | (uint32_t)p[19] << 24, ==, want[i][2]);
    }
}

static void test_e820(void)
{
    TessMachine *m = th_machine("<memory size='64M'/><device type='fw-cfg' id='fw'/>");
    g_assert_cmpuint(tess_machine_ram_below_4g(m), ==, 64u << 20);
    const uint64_t one[][3] = { { 0, 64u << 20, 1 } };
    check_e820(m, 1, one);
    th_machine_free(m);

    m = th_machine("<memory size='64M' below-4g='48M'/><device type='fw-cfg' id='fw'/>");
    const uint64_t two[][3] = { { 0, 48u << 20, 1 }, { UINT64_C(1) << 32, 16u << 20, 1 } };
    check_e820(m, 2, two);
    th_machine_free(m);
}

static void test_dma(void)
{
    TessMachine *m = th_machine("<memory size='2M'/><device type='fw-cfg' id='fw'/>");
    uint8_t buf[16];

    /* Select + read, with the tail past the item's end zero-filled. */
    for (unsigned i = 0; i < 16; i++)
        tess_mem_write(m, 0x2000 + i, 0xEE, 1);
    g_assert_cmphex(fw_dma(m, 0x1000, 0x0000u << 16 | DMA_SELECT | DMA_READ, 8, 0x2000), ==, 0);
    for (unsigned i = 0; i < 16; i++)
        buf[i] = (uint8_t)tess_mem_read(m, 0x2000 + i, 1);
    g_assert_cmpmem(buf, 8, "QEMU\0\0\0\0", 8);
    g_assert_cmphex(buf[8], ==, 0xEE);
    /* The address register is 0 again after the operation. */
    g_assert_cmphex(fw_dma(m, 0x1000, 0x0001u << 16 | DMA_SELECT | DMA_READ, 4, 0x2000), ==, 0);
    g_assert_cmphex(tess_mem_read(m, 0x2000, 4), ==, 3);

    /* Skip, then read from the new offset: etc/e820's length field. */
    uint16_t key;
    uint32_t size;
    g_assert_true(fw_find(m, "etc/e820", &key, &size));
    g_assert_cmphex(fw_dma(m, 0x1000, (uint32_t)key << 16 | DMA_SELECT | DMA_SKIP, 8, 0), ==, 0);
    g_assert_cmphex(fw_dma(m, 0x1000, DMA_READ, 8, 0x3000), ==, 0);
    g_assert_cmphex(tess_mem_read(m, 0x3000, 8), ==, 2u << 20);
    /* Mixing with the port: the same offset moves on. */
    uint8_t t[4];
    fw_read(m, t, 4);
    g_assert_cmphex(t[0], ==, 1);                    /* E820_RAM */

    /* Writes are refused: every item is read-only. */
    g_assert_cmphex(fw_dma(m, 0x1000, 0x0000u << 16 | DMA_SELECT | DMA_WRITE, 4, 0x2000), ==, 1);
    fw_select(m, 0);
    g_assert_cmphex(th_inb(m, 0x511), ==, 'Q');

    /* A destination outside RAM: error bit, nothing written, no crash. */
    g_assert_cmphex(fw_dma(m, 0x1000, DMA_SELECT | DMA_READ, 4, 0x10000000), ==, 1);
    g_assert_cmphex(fw_dma(m, 0x1000, DMA_SELECT | DMA_READ, 4, UINT64_C(0xFFFFFFFFFFFFFFF0)), ==, 1);
    /* Straddling the end of RAM: refused as a whole. */
    tess_mem_write(m, 0x1FFFFE, 0x7777, 2);
    g_assert_cmphex(fw_dma(m, 0x1000, DMA_SELECT | DMA_READ, 4, 0x1FFFFE), ==, 1);
    g_assert_cmphex(tess_mem_read(m, 0x1FFFFE, 2), ==, 0x7777);
    /* A huge length into RAM fills zeros up to the end, then fails there. */
    g_assert_cmphex(fw_dma(m, 0x1000, DMA_SELECT | DMA_READ, 0xFFFFFFFF, 0x100000), ==, 1);

    /* The descriptor itself outside RAM: nothing to report into, no crash. */
    th_outl(m, 0x514, 0);
    th_outl(m, 0x518, GUINT32_TO_BE(0xFFFFFF00u));
    th_outl(m, 0x514, GUINT32_TO_BE(0x10));
    th_outl(m, 0x518, 0);
    /* The interface still works afterwards. */
    g_assert_cmphex(fw_dma(m, 0x1000, DMA_SELECT | DMA_READ, 4, 0x2000), ==, 0);
    for (unsigned i = 0; i < 4; i++)
        buf[i] = (uint8_t)tess_mem_read(m, 0x2000 + i, 1);
    g_assert_cmpmem(buf, 4, "QEMU", 4);
    th_machine_free(m);
}

/* A plugin that hands the firmware a file at realize. */
typedef struct FwUser { TessDevice dev; } FwUser;

static bool fwu_realize(TessDevice *dev, GError **err)
{
    TessDevice *fw = tess_device_find_provider(dev, TESS_IFACE_FW_CFG, NULL, err);
    if (!fw)
        return false;
    const TessFwCfgOps *ops = tess_device_interface(fw, TESS_IFACE_FW_CFG);
    static const uint8_t rom[3] = { 0x55, 0xAA, 0x01 };
    if (!ops->add_file(fw, "genroms/test.bin", rom, sizeof(rom), err))
        return false;
    /* A second time is refused. */
    g_autoptr(GError) dup = NULL;
    g_assert_false(ops->add_file(fw, "genroms/test.bin", rom, 1, &dup));
    g_assert_error(dup, TESS_DEVICE_ERROR, TESS_ERROR_DUPLICATE);
    g_autoptr(GError) longname = NULL;
    g_assert_false(ops->add_file(fw, "0123456789012345678901234567890123456789012345678901234567",
                                 rom, 1, &longname));
    return true;
}

static const TessDeviceClass fwu_class = {
    .type = "test-fwcfg-user", .kind = TESS_CLASS_DEVICE, .doc = "adds a fw-cfg file",
    .instance_size = sizeof(FwUser), .realize = fwu_realize,
};

/* A descriptor in ROM (readable, not writable) whose operation fails:
 * the status cannot be written back either. Both errors are reported, the
 * first freed before the second is taken (fuzz-device found the second
 * set over the freed first, then read: a use after free). */
static void test_dma_desc_in_rom(void)
{
    g_autofree char *dir = g_dir_make_tmp("tess-fwcfg-XXXXXX", NULL);
    g_assert_nonnull(dir);
    g_autofree char *rom = g_build_filename(dir, "rom.bin", NULL);
    g_autofree uint8_t *img = g_malloc0(0x10000);
    /* at 0xFFFF0000: { control = WRITE (refused), length 4, address 0x2000 } */
    static const uint8_t desc[16] = { 0, 0, 0, DMA_WRITE, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0x20, 0 };
    memcpy(img, desc, sizeof(desc));
    g_assert_true(g_file_set_contents(rom, (const char *)img, 0x10000, NULL));
    g_autofree char *frag = g_strdup_printf("<memory size='2M'/><device type='fw-cfg' id='fw'/>"
                                            "<device type='bios-rom' id='bios' file='%s'/>", rom);
    TessMachine *m = th_machine(frag);
    th_outl(m, 0x514, 0);
    th_outl(m, 0x518, GUINT32_TO_BE(0xFFFF0000u));
    g_assert_cmphex(tess_mem_read(m, 0xFFFF0000u, 4), ==, GUINT32_TO_BE(DMA_WRITE));
    /* the interface still works afterwards */
    uint8_t buf[4];
    g_assert_cmphex(fw_dma(m, 0x1000, DMA_SELECT | DMA_READ, 4, 0x2000), ==, 0);
    for (unsigned i = 0; i < 4; i++)
        buf[i] = (uint8_t)tess_mem_read(m, 0x2000 + i, 1);
    g_assert_cmpmem(buf, 4, "QEMU", 4);
    th_machine_free(m);
    g_unlink(rom);
    g_rmdir(dir);
}

static void test_files(void)
{
    g_autoptr(GError) err = NULL;
    if (!tess_registry_lookup(th_registry(), fwu_class.type))
        g_assert_true(tess_registry_add_builtin(th_registry(), &fwu_class, &err));

    g_autofree char *dir = g_dir_make_tmp("fwcfg-XXXXXX", &err);
    g_assert_nonnull(dir);
    g_autofree char *vga = g_build_filename(dir, "vga.bin", NULL);
    g_autofree char *opt = g_build_filename(dir, "opt.txt", NULL);
    g_assert_true(g_file_set_contents(vga, "\x55\xAAVGA", 5, &err));
    g_assert_true(g_file_set_contents(opt, "hello", 5, &err));

    g_autofree char *frag = g_strdup_printf(
        "<device type='fw-cfg' id='fw' vgarom='%s' files='opt/org.tessera/a=%s; etc/b=%s'/>"
        "<device type='test-fwcfg-user' id='user'/>", vga, opt, vga);
    TessMachine *m = th_machine(frag);

    g_autoptr(GBytes) v = fw_file(m, "vgaroms/vgabios.bin");
    g_assert_nonnull(v);
    g_assert_cmpmem(g_bytes_get_data(v, NULL), g_bytes_get_size(v), "\x55\xAAVGA", 5);
    g_autoptr(GBytes) a = fw_file(m, "opt/org.tessera/a");
    g_assert_nonnull(a);
    g_assert_cmpmem(g_bytes_get_data(a, NULL), g_bytes_get_size(a), "hello", 5);
    g_autoptr(GBytes) b = fw_file(m, "etc/b");
    g_assert_nonnull(b);
    g_autoptr(GBytes) g = fw_file(m, "genroms/test.bin");
    g_assert_nonnull(g);
    g_assert_cmpmem(g_bytes_get_data(g, NULL), g_bytes_get_size(g), "\x55\xAA\x01", 3);
    th_machine_free(m);

    /* A missing file or a malformed spec fails the build with a message. */
    g_autoptr(GError) e1 = NULL;
    g_assert_null(th_machine_try("<device type='fw-cfg' id='fw' vgarom='/nonexistent/vga.bin'/>", &e1));
    g_assert_nonnull(e1);
    g_autoptr(GError) e2 = NULL;
    g_assert_null(th_machine_try("<device type='fw-cfg' id='fw' files='justaname'/>", &e2));
    g_assert_nonnull(e2);

    g_unlink(vga);
    g_unlink(opt);
    g_rmdir(dir);
}

static void test_fuzz(void)
{
    TessMachine *m = th_machine("<memory size='1M'/><device type='fw-cfg' id='fw' bootorder='/a'/>");
    GRand *rnd = g_rand_new_with_seed(0xF3C6);
    for (unsigned i = 0; i < 40000; i++) {
        uint32_t v = g_rand_int(rnd);
        unsigned size = 1u << g_rand_int_range(rnd, 0, 3);
        switch (g_rand_int_range(rnd, 0, 6)) {
        case 0:
            tess_pio_write(m, 0x510 + (v & 0xF), v >> 4, size);
            break;
        case 1:
            tess_pio_read(m, 0x510 + (v & 0xF), size);
            break;
        case 2: {
            /* A random descriptor, mostly in RAM, mostly sane. */
            uint64_t desc = (v & 1) ? (g_rand_int(rnd) & 0xFFFF0) : g_rand_int(rnd);
            uint32_t ctl = (uint32_t)g_rand_int_range(rnd, 0, 0x20) |
                           (uint32_t)g_rand_int_range(rnd, 0, 0x30) << 16;
            uint32_t len = (v & 2) ? (uint32_t)g_rand_int_range(rnd, 0, 300) : g_rand_int(rnd) >> 12;
            uint64_t addr = (v & 4) ? (g_rand_int(rnd) & 0xFFFFF) : (uint64_t)g_rand_int(rnd) << 8;
            if (desc + 16 <= 0x100000)
                fw_dma(m, desc, ctl, len, addr);
            else
                th_outl(m, 0x518, GUINT32_TO_BE((uint32_t)desc));
            break;
        }
        case 3:
            th_outw(m, 0x510, (uint16_t)g_rand_int_range(rnd, 0, 0x30));
            break;
        default:
            th_inb(m, 0x511);
            break;
        }
    }
    g_rand_free(rnd);
    char sig[5] = { 0 };
    fw_select(m, 0);
    fw_read(m, sig, 4);
    g_assert_cmpstr(sig, ==, "QEMU");
    th_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/fw-cfg/signature-and-id", test_signature_and_id);
    g_test_add_func("/fw-cfg/directory", test_directory);
    g_test_add_func("/fw-cfg/e820", test_e820);
    g_test_add_func("/fw-cfg/dma", test_dma);
    g_test_add_func("/fw-cfg/dma-desc-in-rom", test_dma_desc_in_rom);
    g_test_add_func("/fw-cfg/files", test_files);
    g_test_add_func("/fw-cfg/fuzz", test_fuzz);
    return g_test_run();
}
