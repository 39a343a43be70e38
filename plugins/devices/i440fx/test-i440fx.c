/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * i440FX tests: configuration mechanism #1, the standard header, BAR
 * sizing and moves, INTx# to PIRQ wiring, PAM shadowing, SMRAM.
 */
#include "harness.h"
#include "pci-test-fn.h"

/* ---- builtin helpers: a PIRQ recorder and a 128 KiB BIOS ROM ----------- */

typedef struct FakeRouter {
    TessDevice dev;
    bool level[4];
    unsigned calls;
} FakeRouter;

static void fr_set_pirq(TessDevice *dev, unsigned pirq, bool level)
{
    FakeRouter *r = (FakeRouter *)dev;
    g_assert_cmpuint(pirq, <, 4);
    r->level[pirq] = level;
    r->calls++;
}

static bool fr_realize(TessDevice *dev, GError **err) { return true; }

static const TessPciIrqRouterOps fr_ops = { .set_pirq = fr_set_pirq };
static const TessIfaceSpec fr_provides[] = {
    { .name = TESS_IFACE_PCI_IRQ_ROUTER, .ops = &fr_ops }, TESS_IFACE_END
};
static const TessDeviceClass fr_class = {
    .type = "test-pirq-router", .kind = TESS_CLASS_DEVICE, .doc = "records PIRQ levels",
    .instance_size = sizeof(FakeRouter), .provides = fr_provides, .realize = fr_realize,
};

typedef struct TestRom { TessDevice dev; TessMemRegion *rom; } TestRom;

static bool trom_realize(TessDevice *dev, GError **err)
{
    TestRom *t = (TestRom *)dev;
    t->rom = tess_mem_rom_new(dev, "test-bios", 0x20000, err);
    if (!t->rom)
        return false;
    uint8_t *h = tess_mem_region_host(t->rom);
    for (unsigned i = 0; i < 0x20000; i++)
        h[i] = (uint8_t)(0xB0 ^ (i >> 12) ^ i);
    return tess_mem_map(t->rom, 0xE0000, TESS_PRIO_ROM, TESS_MAP_RW, err);
}

static const TessDeviceClass trom_class = {
    .type = "test-bios-rom", .kind = TESS_CLASS_DEVICE, .doc = "ROM at E0000-FFFFF",
    .instance_size = sizeof(TestRom), .realize = trom_realize,
};

static uint8_t rom_byte(uint32_t addr)
{
    uint32_t i = addr - 0xE0000;
    return (uint8_t)(0xB0 ^ (i >> 12) ^ i);
}

static uint8_t memb(TessMachine *m, uint64_t a) { return (uint8_t)tess_mem_read(m, a, 1); }
static uint32_t meml(TessMachine *m, uint64_t a) { return (uint32_t)tess_mem_read(m, a, 4); }

#define HOST "<device type='i440fx' id='pci'/>"

/* ---- configuration space ------------------------------------------------ */

static void test_host_bridge_header(void)
{
    TessMachine *m = th_machine(HOST);

    g_assert_cmphex(cfg_read(m, 0, 0x00, 4), ==, 0x12378086);
    g_assert_cmphex(cfg_read(m, 0, 0x08, 4), ==, 0x06000002);   /* class 0600, rev 02 */
    g_assert_cmphex(cfg_read(m, 0, 0x0E, 1), ==, 0x00);
    g_assert_cmphex(cfg_read(m, 0, 0x04, 2), ==, 0x0006);
    g_assert_cmphex(cfg_read(m, 0, 0x06, 2), ==, 0x0280);
    g_assert_cmphex(cfg_read(m, 0, 0x2C, 4), ==, 0);             /* no subsystem by default */
    /* Byte and word reads through CFD-CFF pick the right bytes. */
    g_assert_cmphex(cfg_read(m, 0, 0x02, 2), ==, 0x1237);
    g_assert_cmphex(cfg_read(m, 0, 0x03, 1), ==, 0x12);
    g_assert_cmphex(cfg_read(m, 0, 0x0B, 1), ==, 0x06);

    /* Read-only fields stay put. */
    cfg_write(m, 0, 0x00, 0xFFFFFFFF, 4);
    cfg_write(m, 0, 0x08, 0xFFFFFFFF, 4);
    cfg_write(m, 0, 0x0E, 0xFF, 1);
    g_assert_cmphex(cfg_read(m, 0, 0x00, 4), ==, 0x12378086);
    g_assert_cmphex(cfg_read(m, 0, 0x08, 4), ==, 0x06000002);
    g_assert_cmphex(cfg_read(m, 0, 0x0E, 1), ==, 0x00);
    /* PCICMD: MAE/BME hardwired on, I/O enable hardwired off. */
    cfg_write(m, 0, 0x04, 0x0000, 2);
    g_assert_cmphex(cfg_read(m, 0, 0x04, 2), ==, 0x0006);
    cfg_write(m, 0, 0x04, 0xFFFF, 2);
    g_assert_cmphex(cfg_read(m, 0, 0x04, 2), ==, 0x0146);
    th_machine_free(m);

    m = th_machine("<device type='i440fx' id='pci' subsystem='0x1af41100'/>");
    g_assert_cmphex(cfg_read(m, 0, 0x2C, 4), ==, 0x11001af4);
    th_machine_free(m);
}

static void test_confadd(void)
{
    TessMachine *m = th_machine(HOST);

    th_outl(m, 0xCF8, 0xFFFFFFFF);
    g_assert_cmphex(th_inl(m, 0xCF8), ==, 0x80FFFFFC);   /* reserved bits read 0 */
    th_outl(m, 0xCF8, 0x80000000);
    /* Only a DWord access reaches CONFADD. */
    th_outb(m, 0xCF8, 0x55);
    th_outw(m, 0xCFA, 0x1234);
    g_assert_cmphex(th_inl(m, 0xCF8), ==, 0x80000000);
    g_assert_cmphex(th_inb(m, 0xCF8), ==, 0xFF);
    g_assert_cmphex(th_inw(m, 0xCFA), ==, 0xFFFF);

    /* CF9h byte I/O: the PIIX3 Reset Control register (SeaBIOS's
     * pci_reboot writes SRST, then SRST | RCPU). */
    g_assert_cmphex(th_inb(m, 0xCF9), ==, 0x00);
    th_outb(m, 0xCF9, 0x02);
    g_assert_false(m->reset_requested);
    g_assert_cmphex(th_inb(m, 0xCF9), ==, 0x02);
    th_outb(m, 0xCF9, 0x06);
    g_assert_true(m->reset_requested);
    g_assert_cmphex(th_inb(m, 0xCF9), ==, 0x02);      /* RCPU reads 0 */
    g_assert_cmphex(th_inl(m, 0xCF8), ==, 0x80000000);
    m->reset_requested = false;
    th_outw(m, 0xCF8, 0x0400);                        /* word access: CF9h gets 0x04 */
    g_assert_true(m->reset_requested);
    tess_machine_reset(m);
    g_assert_cmphex(th_inb(m, 0xCF9), ==, 0x00);
    g_assert_cmphex(th_inl(m, 0xCF8), ==, 0);
    th_outl(m, 0xCF8, 0x80000000);

    /* Enable bit clear: CFC is not a configuration cycle. */
    th_outl(m, 0xCF8, 0x00000000);
    g_assert_cmphex(th_inl(m, 0xCFC), ==, 0xFFFFFFFF);
    /* Absent device, other bus: master abort. */
    g_assert_cmphex(cfg_read(m, 0x18, 0x00, 4), ==, 0xFFFFFFFF);
    th_outl(m, 0xCF8, 0x80010000);
    g_assert_cmphex(th_inl(m, 0xCFC), ==, 0xFFFFFFFF);
    th_outl(m, 0xCF8, 0x80010000);
    th_outl(m, 0xCFC, 0);      /* ignored */
    g_assert_cmphex(cfg_read(m, 0, 0x00, 4), ==, 0x12378086);
    th_machine_free(m);
}

static void test_function_header(void)
{
    tfn_register();
    TessMachine *m = th_machine(HOST "<device type='test-pci-fn' id='t' devfn='0x18' pin='2'/>");

    g_assert_cmphex(cfg_read(m, 0x18, 0x00, 4), ==, 0x56781234);
    g_assert_cmphex(cfg_read(m, 0x18, 0x08, 4), ==, 0xFF000007);
    g_assert_cmphex(cfg_read(m, 0x18, 0x2C, 4), ==, 0xEF01ABCD);
    g_assert_cmphex(cfg_read(m, 0x18, 0x3D, 1), ==, 2);
    g_assert_cmphex(cfg_read(m, 0x18, 0x06, 2), ==, 0x0200);
    /* BAR type bits after reset. */
    g_assert_cmphex(cfg_read(m, 0x18, 0x10, 4), ==, 0x0);
    g_assert_cmphex(cfg_read(m, 0x18, 0x14, 4), ==, 0x1);
    g_assert_cmphex(cfg_read(m, 0x18, 0x18, 4), ==, 0x8);

    /* Interrupt line is plain storage; pin, IDs, class are not. */
    cfg_write(m, 0x18, 0x3C, 0xFFFFFFFF, 4);
    g_assert_cmphex(cfg_read(m, 0x18, 0x3C, 4), ==, 0x000002FF);
    cfg_write(m, 0x18, 0x2C, 0, 4);
    g_assert_cmphex(cfg_read(m, 0x18, 0x2C, 4), ==, 0xEF01ABCD);
    /* COMMAND: only the defined bits stick. */
    cfg_write(m, 0x18, 0x04, 0xFFFF, 2);
    g_assert_cmphex(cfg_read(m, 0x18, 0x04, 2), ==, 0x0547);
    cfg_write(m, 0x18, 0x04, 0, 2);
    /* STATUS error bits are write-one-to-clear; nothing sets them here. */
    cfg_write(m, 0x18, 0x06, 0xFFFF, 2);
    g_assert_cmphex(cfg_read(m, 0x18, 0x06, 2), ==, 0x0200);
    /* Device-specific area is storage by default. */
    cfg_write(m, 0x18, 0x40, 0xDEADBEEF, 4);
    g_assert_cmphex(cfg_read(m, 0x18, 0x40, 4), ==, 0xDEADBEEF);
    g_assert_cmphex(cfg_read(m, 0x18, 0x42, 2), ==, 0xDEAD);

    /* Another attach on a taken devfn is refused. */
    g_autoptr(GError) err = NULL;
    TessMachine *m2 = th_machine_try(HOST "<device type='test-pci-fn' id='a' devfn='0x18'/>"
                                     "<device type='test-pci-fn' id='b' devfn='0x18'/>", &err);
    g_assert_null(m2);
    g_assert_nonnull(err);
    th_machine_free(m);
}

/* ---- BARs ---------------------------------------------------------------- */

static void test_bar_sizing(void)
{
    tfn_register();
    TessMachine *m = th_machine(HOST "<device type='test-pci-fn' id='t' devfn='0x10' rom='on'/>");

    for (unsigned r = 0x10; r <= 0x30; r += 4)
        cfg_write(m, 0x10, r, 0xFFFFFFFF, 4);
    g_assert_cmphex(cfg_read(m, 0x10, 0x10, 4), ==, 0xFFFFF000);   /* 4 KiB memory */
    g_assert_cmphex(cfg_read(m, 0x10, 0x14, 4), ==, 0xFFFFFFF1);   /* 16 ports I/O */
    g_assert_cmphex(cfg_read(m, 0x10, 0x18, 4), ==, 0xFFFF0008);   /* 64 KiB prefetchable */
    g_assert_cmphex(cfg_read(m, 0x10, 0x1C, 4), ==, 0);            /* unused */
    g_assert_cmphex(cfg_read(m, 0x10, 0x24, 4), ==, 0);
    g_assert_cmphex(cfg_read(m, 0x10, 0x30, 4), ==, 0xFFFFE001);   /* 6 KiB ROM -> 8 KiB */

    /* Low bits of an address are dropped to the BAR's alignment. */
    cfg_write(m, 0x10, 0x10, 0xE0000FFF, 4);
    g_assert_cmphex(cfg_read(m, 0x10, 0x10, 4), ==, 0xE0000000);
    cfg_write(m, 0x10, 0x14, 0x0000C00F, 4);
    g_assert_cmphex(cfg_read(m, 0x10, 0x14, 4), ==, 0x0000C001);
    th_machine_free(m);
}

static void test_bar_moves(void)
{
    tfn_register();
    TessMachine *m = th_machine("<memory size='16M'/>" HOST
                                "<device type='test-pci-fn' id='t' devfn='0x10' rom='on'/>");
    TestFn *t = tfn_get(m, "t");

    cfg_write(m, 0x10, 0x10, 0xE0000000, 4);
    cfg_write(m, 0x10, 0x14, 0xC000, 4);
    cfg_write(m, 0x10, 0x18, 0xE1000000, 4);
    /* Decoding off: nothing answers. */
    g_assert_cmphex(meml(m, 0xE0000010), ==, 0xFFFFFFFF);
    g_assert_cmphex(th_inb(m, 0xC003), ==, 0xFF);

    cfg_write(m, 0x10, 0x04, 0x0002, 2);           /* memory only */
    g_assert_cmphex(meml(m, 0xE0000010), ==, 0xC0DE0010);
    g_assert_cmphex(th_inb(m, 0xC003), ==, 0xFF);
    tess_mem_write(m, 0xE1000100, 0x11223344, 4);
    g_assert_cmphex(tess_mem_region_host(t->ram)[0x100], ==, 0x44);
    g_assert_cmphex(meml(m, 0xE1000100), ==, 0x11223344);

    cfg_write(m, 0x10, 0x04, 0x0003, 2);           /* and I/O */
    g_assert_cmphex(th_inb(m, 0xC003), ==, 0x43);
    g_assert_true(tess_pio_owner(m, 0xC00F) == &t->dev);

    /* Moves take effect at once while decoding. */
    cfg_write(m, 0x10, 0x10, 0xE0100000, 4);
    g_assert_cmphex(meml(m, 0xE0000010), ==, 0xFFFFFFFF);
    g_assert_cmphex(meml(m, 0xE0100010), ==, 0xC0DE0010);
    cfg_write(m, 0x10, 0x14, 0xD000, 4);
    g_assert_cmphex(th_inb(m, 0xC003), ==, 0xFF);
    g_assert_null(tess_pio_owner(m, 0xC000));
    g_assert_cmphex(th_inb(m, 0xD005), ==, 0x45);
    cfg_write(m, 0x10, 0x18, 0xE2000000, 4);
    g_assert_cmphex(meml(m, 0xE2000100), ==, 0x11223344);   /* same RAM behind it */

    /* The expansion ROM needs its enable bit and memory decoding. */
    cfg_write(m, 0x10, 0x30, 0xE3000000, 4);
    g_assert_cmphex(memb(m, 0xE3000005), ==, 0xFF);
    cfg_write(m, 0x10, 0x30, 0xE3000001, 4);
    g_assert_cmphex(memb(m, 0xE3000005), ==, 0x5A ^ 5);
    g_assert_cmphex(memb(m, 0xE3001405), ==, 0x5A ^ 5);

    /* COMMAND off unmaps everything. */
    cfg_write(m, 0x10, 0x04, 0x0000, 2);
    g_assert_cmphex(meml(m, 0xE0100010), ==, 0xFFFFFFFF);
    g_assert_cmphex(th_inb(m, 0xD005), ==, 0xFF);
    g_assert_cmphex(memb(m, 0xE3000005), ==, 0xFF);
    g_assert_null(tess_pio_owner(m, 0xD000));

    /* A BAR over DRAM never sees cycles: the memory controller takes them. */
    tess_mem_write(m, 0x200000, 0x99887766, 4);
    cfg_write(m, 0x10, 0x10, 0x00200000, 4);
    cfg_write(m, 0x10, 0x04, 0x0002, 2);
    g_assert_cmphex(meml(m, 0x200000), ==, 0x99887766);
    /* ... but the legacy VGA hole belongs to PCI. */
    cfg_write(m, 0x10, 0x10, 0x000A0000, 4);
    g_assert_cmphex(meml(m, 0xA0020), ==, 0xC0DE0020);

    /* Sizing with I/O decoding on puts the BAR above 64 KiB: not decoded. */
    cfg_write(m, 0x10, 0x14, 0xC000, 4);
    cfg_write(m, 0x10, 0x04, 0x0003, 2);
    g_assert_nonnull(tess_pio_owner(m, 0xC000));
    cfg_write(m, 0x10, 0x14, 0xFFFFFFFF, 4);
    g_assert_null(tess_pio_owner(m, 0xC000));
    g_assert_null(tess_pio_owner(m, 0xFFF0));
    th_machine_free(m);
}

static void test_bar_conflict(void)
{
    tfn_register();
    TessMachine *m = th_machine(HOST "<device type='test-pci-fn' id='a' devfn='0x10'/>"
                                "<device type='test-pci-fn' id='b' devfn='0x18'/>");
    TestFn *a = tfn_get(m, "a"), *b = tfn_get(m, "b");

    cfg_write(m, 0x10, 0x14, 0xC000, 4);
    cfg_write(m, 0x18, 0x14, 0xC000, 4);
    cfg_write(m, 0x10, 0x04, 1, 2);
    cfg_write(m, 0x18, 0x04, 1, 2);
    g_assert_true(tess_pio_owner(m, 0xC000) == &a->dev);
    /* When the first moves away, the second's decoder gets the range. */
    cfg_write(m, 0x10, 0x14, 0xC100, 4);
    g_assert_true(tess_pio_owner(m, 0xC100) == &a->dev);
    g_assert_true(tess_pio_owner(m, 0xC000) == &b->dev);
    th_machine_free(m);
}

/* ---- INTx# ---------------------------------------------------------------- */

static void test_intx_swizzle(void)
{
    tfn_register();
    g_autoptr(GError) err = NULL;
    if (!tess_registry_lookup(th_registry(), fr_class.type))
        g_assert_true(tess_registry_add_builtin(th_registry(), &fr_class, &err));
    TessMachine *m = th_machine(HOST "<device type='test-pirq-router' id='r'/>"
                                "<device type='test-pci-fn' id='s2a' devfn='0x10' pin='1'/>"
                                "<device type='test-pci-fn' id='s3b' devfn='0x18' pin='2'/>"
                                "<device type='test-pci-fn' id='s2b' devfn='0x11' pin='2'/>");
    FakeRouter *r = (FakeRouter *)tess_machine_device(m, "r");
    TestFn *s2a = tfn_get(m, "s2a"), *s3b = tfn_get(m, "s3b"), *s2b = tfn_get(m, "s2b");

    /* Slot 2 INTA# -> PIRQ[(0 + 1) & 3] = PIRQB#. */
    s2a->ops->set_irq(s2a->fn, true);
    g_assert_true(r->level[1]);
    g_assert_cmphex(cfg_read(m, 0x10, 0x06, 2) & 0x08, ==, 0x08);   /* interrupt status */
    /* Slot 3 INTB# -> PIRQ[(1 + 2) & 3] = PIRQD#. */
    s3b->ops->set_irq(s3b->fn, true);
    g_assert_true(r->level[3]);
    /* Slot 2 INTB# -> PIRQC#; wired-OR with nothing else. */
    s2b->ops->set_irq(s2b->fn, true);
    g_assert_true(r->level[2]);
    s2b->ops->set_irq(s2b->fn, false);
    g_assert_false(r->level[2]);
    g_assert_false(r->level[0]);

    /* INTx disable masks the pin but not the status bit. */
    cfg_write(m, 0x10, 0x04, 0x0400, 2);
    g_assert_false(r->level[1]);
    g_assert_cmphex(cfg_read(m, 0x10, 0x06, 2) & 0x08, ==, 0x08);
    cfg_write(m, 0x10, 0x04, 0x0000, 2);
    g_assert_true(r->level[1]);
    s2a->ops->set_irq(s2a->fn, false);
    g_assert_false(r->level[1]);
    g_assert_cmphex(cfg_read(m, 0x10, 0x06, 2) & 0x08, ==, 0);
    th_machine_free(m);
}

/* ---- PAM ------------------------------------------------------------------ */

static void pam_register(void)
{
    g_autoptr(GError) err = NULL;
    if (!tess_registry_lookup(th_registry(), trom_class.type))
        g_assert_true(tess_registry_add_builtin(th_registry(), &trom_class, &err));
}

static void test_pam(void)
{
    pam_register();
    TessMachine *m = th_machine("<memory size='2M'/>" HOST
                                "<device type='test-bios-rom' id='rom'/>");

    /* After reset every segment goes to PCI: the ROM answers. */
    g_assert_cmphex(cfg_read(m, 0, 0x59, 1), ==, 0);
    g_assert_cmphex(memb(m, 0xF0010), ==, rom_byte(0xF0010));
    tess_mem_write(m, 0xF0010, 0x00, 1);
    g_assert_cmphex(memb(m, 0xF0010), ==, rom_byte(0xF0010));

    /* WE only: writes land in RAM, reads still see the ROM. */
    cfg_write(m, 0, 0x59, 0x20, 1);
    tess_mem_write(m, 0xF0010, 0x55, 1);
    g_assert_cmphex(memb(m, 0xF0010), ==, rom_byte(0xF0010));
    /* RE only: the shadow copy reads back, writes go to the ROM (lost). */
    cfg_write(m, 0, 0x59, 0x10, 1);
    g_assert_cmphex(memb(m, 0xF0010), ==, 0x55);
    tess_mem_write(m, 0xF0010, 0x66, 1);
    g_assert_cmphex(memb(m, 0xF0010), ==, 0x55);
    /* RE|WE: plain RAM. */
    cfg_write(m, 0, 0x59, 0x30, 1);
    tess_mem_write(m, 0xF0010, 0x77, 1);
    g_assert_cmphex(memb(m, 0xF0010), ==, 0x77);
    g_assert_cmphex(memb(m, 0xFFFFF), ==, 0x00);    /* whole 64 KiB segment */
    cfg_write(m, 0, 0x59, 0x00, 1);
    g_assert_cmphex(memb(m, 0xF0010), ==, rom_byte(0xF0010));

    /* 16 KiB granularity: PAM5 low nibble is E0000-E3FFF only. */
    cfg_write(m, 0, 0x5E, 0x03, 1);
    tess_mem_write(m, 0xE3FFF, 0xA1, 1);
    tess_mem_write(m, 0xE4000, 0xA2, 1);
    g_assert_cmphex(memb(m, 0xE3FFF), ==, 0xA1);
    g_assert_cmphex(memb(m, 0xE4000), ==, rom_byte(0xE4000));
    g_assert_cmphex(memb(m, 0xDFFFF), ==, 0xFF);

    /* Where nothing is on PCI (no option ROM), reads float high, and the
     * DRAM underneath shows only through PAM. */
    g_assert_cmphex(memb(m, 0xC8000), ==, 0xFF);
    cfg_write(m, 0, 0x5B, 0x02, 1);                 /* C8000 WE */
    tess_mem_write(m, 0xC8000, 0x3C, 1);
    g_assert_cmphex(memb(m, 0xC8000), ==, 0xFF);
    cfg_write(m, 0, 0x5B, 0x01, 1);                 /* RE */
    g_assert_cmphex(memb(m, 0xC8000), ==, 0x3C);
    g_assert_cmphex(memb(m, 0xCC000), ==, 0xFF);    /* high nibble still PCI */

    /* Reserved nibble bits read 0. */
    cfg_write(m, 0, 0x59, 0xFF, 1);
    g_assert_cmphex(cfg_read(m, 0, 0x59, 1), ==, 0x70);
    cfg_write(m, 0, 0x5A, 0xFF, 1);
    g_assert_cmphex(cfg_read(m, 0, 0x5A, 1), ==, 0x77);

    /* What SeaBIOS does: RW, copy, then read-only. */
    cfg_write(m, 0, 0x59, 0x30, 1);
    for (uint32_t a = 0xF0000; a < 0xF0100; a++)
        tess_mem_write(m, a, rom_byte(a) ^ 0xFF, 1);
    cfg_write(m, 0, 0x59, 0x10, 1);
    tess_mem_write(m, 0xF0000, 0x00, 1);
    g_assert_cmphex(memb(m, 0xF0000), ==, rom_byte(0xF0000) ^ 0xFF);

    /* Reset puts every segment back on PCI. */
    tess_machine_reset(m);
    g_assert_cmphex(memb(m, 0xF0000), ==, rom_byte(0xF0000));
    g_assert_cmphex(memb(m, 0xC8000), ==, 0xFF);
    th_machine_free(m);
}

/* ---- SMRAM ---------------------------------------------------------------- */

static void test_smram(void)
{
    TessMachine *m = th_machine(HOST);

    g_assert_cmphex(cfg_read(m, 0, 0x72, 1), ==, 0x02);
    /* A0000-BFFFF is the VGA window (nothing here): DRAM hidden. */
    g_assert_cmphex(memb(m, 0xA0000), ==, 0xFF);
    tess_mem_write(m, 0xB0000, 0x12, 1);
    g_assert_cmphex(memb(m, 0xB0000), ==, 0xFF);

    /* D_OPEN without G_SMRAME: SMRAM functions off, still PCI. */
    cfg_write(m, 0, 0x72, 0x40, 1);
    g_assert_cmphex(cfg_read(m, 0, 0x72, 1), ==, 0x42);
    g_assert_cmphex(memb(m, 0xA0000), ==, 0xFF);

    /* D_OPEN | G_SMRAME: DRAM visible to non-SMM cycles. */
    cfg_write(m, 0, 0x72, 0x4A, 1);
    tess_mem_write(m, 0xA0000, 0x5A, 1);
    tess_mem_write(m, 0xBFFFF, 0xA5, 1);
    g_assert_cmphex(memb(m, 0xA0000), ==, 0x5A);
    g_assert_cmphex(memb(m, 0xBFFFF), ==, 0xA5);
    /* C_BASE_SEG is hardwired. */
    cfg_write(m, 0, 0x72, 0x4F, 1);
    g_assert_cmphex(cfg_read(m, 0, 0x72, 1), ==, 0x4A);

    /* Close again: hidden, but the bytes stay in DRAM. */
    cfg_write(m, 0, 0x72, 0x0A, 1);
    g_assert_cmphex(memb(m, 0xA0000), ==, 0xFF);
    cfg_write(m, 0, 0x72, 0x4A, 1);
    g_assert_cmphex(memb(m, 0xA0000), ==, 0x5A);

    /* D_LCK closes SMRAM and freezes D_OPEN, D_LCK and G_SMRAME. */
    cfg_write(m, 0, 0x72, 0x5A, 1);
    g_assert_cmphex(cfg_read(m, 0, 0x72, 1), ==, 0x1A);
    g_assert_cmphex(memb(m, 0xA0000), ==, 0xFF);
    cfg_write(m, 0, 0x72, 0x42, 1);
    g_assert_cmphex(cfg_read(m, 0, 0x72, 1), ==, 0x1A);
    g_assert_cmphex(memb(m, 0xA0000), ==, 0xFF);
    cfg_write(m, 0, 0x72, 0x3A, 1);                 /* D_CLS stays writable */
    g_assert_cmphex(cfg_read(m, 0, 0x72, 1), ==, 0x3A);

    /* Only reset unlocks. */
    tess_machine_reset(m);
    g_assert_cmphex(cfg_read(m, 0, 0x72, 1), ==, 0x02);
    cfg_write(m, 0, 0x72, 0x4A, 1);
    g_assert_cmphex(memb(m, 0xA0000), ==, 0x5A);
    th_machine_free(m);
}

/* ---- bad input ------------------------------------------------------------ */

static void test_fuzz(void)
{
    tfn_register();
    pam_register();
    TessMachine *m = th_machine("<memory size='4M'/>" HOST "<device type='test-bios-rom' id='rom'/>"
                                "<device type='test-pci-fn' id='a' devfn='0x10' rom='on'/>"
                                "<device type='test-pci-fn' id='b' devfn='0x19' pin='4'/>");
    GRand *rnd = g_rand_new_with_seed(0x1440F);
    static const unsigned devfns[] = { 0x00, 0x10, 0x19, 0x08 };
    for (unsigned i = 0; i < 60000; i++) {
        unsigned devfn = devfns[g_rand_int_range(rnd, 0, 4)];
        unsigned reg = (unsigned)g_rand_int_range(rnd, 0, 256);
        unsigned size = 1u << g_rand_int_range(rnd, 0, 3);
        uint32_t v = g_rand_int(rnd);
        switch (g_rand_int_range(rnd, 0, 8)) {
        case 0:
            th_outl(m, 0xCF8, v);
            break;
        case 1:
            tess_pio_write(m, 0xCF8 + (v & 7), v, size);
            break;
        case 2: case 3:
            if (reg < 0x40 && (v & 1))
                v |= 0xFFFF0000u;      /* big numbers hit BAR sizing */
            cfg_write(m, devfn, reg & ~(size - 1), v, size);
            break;
        case 4:
            cfg_read(m, devfn, reg & ~(size - 1), size);
            break;
        case 5:
            tess_mem_write(m, 0xA0000 + (v % 0x60000), v >> 8, size);
            break;
        case 6:
            tess_mem_read(m, (v & 1) ? 0xA0000 + (v % 0x60000) : v, size);
            break;
        default:
            tess_pio_read(m, 0xC000 + (v & 0x3FFF), size);
            break;
        }
    }
    g_rand_free(rnd);
    /* Still a working bridge afterwards. */
    g_assert_cmphex(cfg_read(m, 0, 0x00, 4), ==, 0x12378086);
    th_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/i440fx/host-bridge-header", test_host_bridge_header);
    g_test_add_func("/i440fx/confadd", test_confadd);
    g_test_add_func("/i440fx/function-header", test_function_header);
    g_test_add_func("/i440fx/bar-sizing", test_bar_sizing);
    g_test_add_func("/i440fx/bar-moves", test_bar_moves);
    g_test_add_func("/i440fx/bar-conflict", test_bar_conflict);
    g_test_add_func("/i440fx/intx-swizzle", test_intx_swizzle);
    g_test_add_func("/i440fx/pam", test_pam);
    g_test_add_func("/i440fx/smram", test_smram);
    g_test_add_func("/i440fx/fuzz", test_fuzz);
    return g_test_run();
}
