/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * acpi-pm tests: the PIIX4 PM function's header and decoders, the PM
 * timer against virtual time, TMROF and the SCI, soft-off through
 * SLP_EN, APMC's ACPI enable, the power button, the inert SMBus, the
 * blocks SeaBIOS's ACPI tables expect at QEMU's fixed ports.
 */
#include "harness.h"

#include <tessera/tessera.h>

#define PM_HZ 3579545u
#define DEVFN 0x0B

static uint32_t cfg_read(TessMachine *m, unsigned devfn, unsigned reg, unsigned size)
{
    th_outl(m, 0xCF8, 0x80000000u | devfn << 8 | (reg & 0xFC));
    return tess_pio_read(m, 0xCFC + (reg & 3), size);
}

static void cfg_write(TessMachine *m, unsigned devfn, unsigned reg, uint32_t v, unsigned size)
{
    th_outl(m, 0xCF8, 0x80000000u | devfn << 8 | (reg & 0xFC));
    tess_pio_write(m, 0xCFC + (reg & 3), v, size);
}

/* A device with one output line the test drives ("drv.out"). */
typedef struct Driver { TessDevice dev; TessSignal *out[1]; } Driver;
static bool drv_realize(TessDevice *dev, GError **err) { return true; }
static const TessLineSpec drv_lines[] = {
    TESS_LINE_OUT_("out", 1, Driver, out, "driven by the test"), TESS_LINE_END
};
static const TessDeviceClass drv_class = {
    .type = "test-driver", .kind = TESS_CLASS_DEVICE, .doc = "test output line",
    .instance_size = sizeof(Driver), .lines = drv_lines, .realize = drv_realize,
};

#define MACHINE                                                              \
    "<device type='i440fx' id='pci'/>"                                       \
    "<device type='acpi-pm' id='pm'/>"                                       \
    "<device type='th-probe' id='probe'/>"                                   \
    "<wire from='pm.sci' to='probe.in0'/>"

/* What SeaBIOS's piix4_pm_config_setup does. */
static void setup_pm(TessMachine *m, uint16_t base)
{
    cfg_write(m, DEVFN, 0x40, base | 1u, 4);
    cfg_write(m, DEVFN, 0x80, 0x01, 1);
}

static uint32_t pm_ticks_at(uint64_t ns)
{
    return (uint32_t)(((unsigned __int128)ns * PM_HZ / 1000000000u) & 0xFFFFFF);
}

static void test_header(void)
{
    TessMachine *m = th_machine(MACHINE);
    g_assert_cmphex(cfg_read(m, DEVFN, 0x00, 4), ==, 0x71138086);
    g_assert_cmphex(cfg_read(m, DEVFN, 0x08, 4), ==, 0x06800003);
    g_assert_cmphex(cfg_read(m, DEVFN, 0x3D, 1), ==, 1);
    g_assert_cmphex(cfg_read(m, DEVFN, 0x40, 4), ==, 0x00000001);
    g_assert_cmphex(cfg_read(m, DEVFN, 0x90, 4), ==, 0x00000001);
    /* No SMM: APMC_EN (DEVACTB bit 25) reads set. */
    g_assert_cmphex(cfg_read(m, DEVFN, 0x58, 4), ==, 1u << 25);
    /* PMBA: bit 0 hardwired, base is 64-byte aligned, 16 bits wide. */
    cfg_write(m, DEVFN, 0x40, 0xFFFFFFFF, 4);
    g_assert_cmphex(cfg_read(m, DEVFN, 0x40, 4), ==, 0x0000FFC1);
    cfg_write(m, DEVFN, 0x90, 0xFFFFFFFE, 4);
    g_assert_cmphex(cfg_read(m, DEVFN, 0x90, 4), ==, 0x0000FFF1);
    th_machine_free(m);

    m = th_machine("<device type='i440fx' id='pci'/><device type='acpi-pm' id='pm' smm='on'/>");
    g_assert_cmphex(cfg_read(m, DEVFN, 0x58, 4), ==, 0);
    th_machine_free(m);
}

static void test_decoders(void)
{
    TessMachine *m = th_machine(MACHINE);
    TessDevice *pm = tess_machine_device(m, "pm");

    cfg_write(m, DEVFN, 0x40, 0x0601, 4);
    g_assert_null(tess_pio_owner(m, 0x608));          /* PMIOSE still off */
    cfg_write(m, DEVFN, 0x80, 0x01, 1);
    g_assert_true(tess_pio_owner(m, 0x600) == pm);
    g_assert_true(tess_pio_owner(m, 0x63F) == pm);
    g_assert_null(tess_pio_owner(m, 0x640));
    /* Move while enabled. */
    cfg_write(m, DEVFN, 0x40, 0xB03F, 4);
    g_assert_cmphex(cfg_read(m, DEVFN, 0x40, 4), ==, 0xB001);
    g_assert_null(tess_pio_owner(m, 0x600));
    g_assert_true(tess_pio_owner(m, 0xB008) == pm);
    cfg_write(m, DEVFN, 0x80, 0x00, 1);
    g_assert_null(tess_pio_owner(m, 0xB008));

    /* SMBus host: decoded with SMB_HST_EN; a transaction finds nobody. */
    cfg_write(m, DEVFN, 0x90, 0xB101, 4);
    g_assert_null(tess_pio_owner(m, 0xB100));
    cfg_write(m, DEVFN, 0xD2, 0x09, 1);
    g_assert_true(tess_pio_owner(m, 0xB100) == pm);
    th_outb(m, 0xB104, 0xA1);
    th_outb(m, 0xB102, 0x48);                       /* byte data, START */
    g_assert_cmphex(th_inb(m, 0xB100) & 0x04, ==, 0x04);   /* DEV_ERR */
    g_assert_cmphex(th_inb(m, 0xB104), ==, 0xA1);
    th_outb(m, 0xB100, 0x04);
    g_assert_cmphex(th_inb(m, 0xB100), ==, 0);
    th_machine_free(m);
}

/* SeaBIOS's FADT puts GPE0_BLK at AFE0h and its DSDT/SSDT read the PCI
 * hot-plug registers at AE00h and the CPU map at AF00h. Floating high,
 * they made Linux see every GPE pending and eject the NIC in slot 3 at
 * boot (acpiphp), depending on a race with its bus scan. */
static void test_qemu_ports(void)
{
    TessMachine *m = th_machine(MACHINE);
    TessDevice *pm = tess_machine_device(m, "pm");
    setup_pm(m, 0xB000);

    /* GPE0: nothing pending, nothing enabled; it is GPSTS/GPEN. */
    g_assert_true(tess_pio_owner(m, 0xAFE0) == pm);
    g_assert_true(tess_pio_owner(m, 0xAFE3) == pm);
    g_assert_cmphex(tess_pio_read(m, 0xAFE0, 4), ==, 0);
    g_assert_cmphex(th_inb(m, 0xAFE0), ==, 0);
    th_outw(m, 0xAFE2, 0xFFFF);
    g_assert_cmphex(th_inw(m, 0xAFE2), ==, 0xFFFF);
    g_assert_cmphex(th_inw(m, 0xB00E), ==, 0xFFFF);
    th_outw(m, 0xB00E, 0x0002);
    g_assert_cmphex(tess_pio_read(m, 0xAFE0, 4), ==, 0x00020000);
    th_outw(m, 0xAFE0, 0xFFFF);                     /* write 1 to clear: nothing set */
    g_assert_cmphex(th_inw(m, 0xAFE0), ==, 0);
    th_outw(m, 0xB004, 0x0001);                     /* SCI_EN */
    g_assert_false(th_probe_level(m, "probe", 0));

    /* PCI hot-plug: no slot added, no eject request, none removable;
     * an eject through B0EJ changes nothing. */
    for (unsigned p = 0xAE00; p < 0xAE10; p += 4)
        g_assert_cmphex(tess_pio_read(m, p, 4), ==, 0);
    tess_pio_write(m, 0xAE08, 1u << 3, 4);
    tess_pio_write(m, 0xAE0C, 0xFFFFFFFF, 4);
    for (unsigned p = 0xAE00; p < 0xAE10; p += 4)
        g_assert_cmphex(tess_pio_read(m, p, 4), ==, 0);
    g_assert_null(tess_pio_owner(m, 0xAE10));

    /* CPUs present: CPU 0. */
    g_assert_cmphex(th_inb(m, 0xAF00), ==, 0x01);
    for (unsigned p = 0xAF01; p < 0xAF20; p++)
        g_assert_cmphex(th_inb(m, p), ==, 0);
    g_assert_null(tess_pio_owner(m, 0xAF20));
    th_machine_free(m);

    /* Off: the ports belong to nobody (and read all ones). */
    m = th_machine("<device type='i440fx' id='pci'/>"
                   "<device type='acpi-pm' id='pm' qemu-acpi-ports='off'/>");
    g_assert_null(tess_pio_owner(m, 0xAFE0));
    g_assert_null(tess_pio_owner(m, 0xAE00));
    g_assert_null(tess_pio_owner(m, 0xAF00));
    g_assert_cmphex(tess_pio_read(m, 0xAE04, 4), ==, 0xFFFFFFFF);
    th_machine_free(m);
}

static void test_timer_rate(void)
{
    TessMachine *m = th_machine(MACHINE);
    setup_pm(m, 0x600);

    th_advance(m, 123456789);
    uint32_t t0 = th_inl(m, 0x608);
    g_assert_cmphex(t0, ==, pm_ticks_at(123456789));
    th_advance(m, 1000000000);
    uint32_t t1 = th_inl(m, 0x608);
    /* Exactly 3.579545 MHz of virtual time, 24 bits wide. */
    g_assert_cmpuint((t1 - t0) & 0xFFFFFF, ==, PM_HZ);
    g_assert_cmphex(t1 & 0xFF000000, ==, 0);
    /* Byte reads see the same counter. */
    uint32_t b = th_inb(m, 0x608) | th_inb(m, 0x609) << 8 | th_inb(m, 0x60A) << 16;
    g_assert_cmphex(b, ==, t1);
    g_assert_cmphex(th_inb(m, 0x60B), ==, 0);
    /* Wraps at 2^24 ticks (about 4.69 s). */
    uint64_t wrap_ns = ((UINT64_C(1) << 24) * 1000000000u + PM_HZ - 1) / PM_HZ;
    th_advance(m, wrap_ns - tess_clock_ns(m) - 1000);
    g_assert_cmphex(th_inl(m, 0x608), >, 0xFFF000);
    th_advance(m, 2000);
    g_assert_cmphex(th_inl(m, 0x608), <, 0x10);
    th_machine_free(m);
}

/* A clock that moves every time it is looked at, as in realtime runs: a
 * stand-in CPU whose instruction count grows at each query. */
typedef struct Ticker { TessDevice dev; uint64_t icount; } Ticker;
static uint64_t ticker_icount(TessDevice *cpu)
{
    return ((Ticker *)cpu)->icount += 97;
}
static const TessCpuOps ticker_ops = { .icount = ticker_icount };

/* A 32-bit PMTMR read is one sample of the counter (hardware reads it
 * atomically), so it never mixes bytes from either side of a carry. */
static void test_timer_atomic(void)
{
    static Ticker t;
    TessMachine *m = th_machine(MACHINE);
    setup_pm(m, 0x600);
    tess_clock_attach_cpu(m, &t.dev, &ticker_ops);
    for (unsigned i = 0; i < 5000; i++) {
        uint64_t before = tess_clock_ns(m);
        uint32_t v = th_inl(m, 0x608);
        uint64_t after = tess_clock_ns(m);
        g_assert_cmpuint(after, <, 4000000000u);       /* short of the 24-bit wrap (4.69 s) */
        g_assert_cmphex(v, >=, pm_ticks_at(before));
        g_assert_cmphex(v, <=, pm_ticks_at(after));
        before = tess_clock_ns(m);
        uint16_t w = th_inw(m, 0x608);
        after = tess_clock_ns(m);
        g_assert_cmphex(w, >=, pm_ticks_at(before) & 0xFFFF);
        g_assert_cmphex(w, <=, pm_ticks_at(after) & 0xFFFF);
    }
    tess_clock_attach_cpu(m, NULL, NULL);
    th_machine_free(m);
}

static void test_tmrof_sci(void)
{
    TessMachine *m = th_machine(MACHINE);
    setup_pm(m, 0x600);
    uint64_t half_ns = ((UINT64_C(1) << 23) * 1000000000u + PM_HZ - 1) / PM_HZ;

    th_outw(m, 0x602, 0x0001);                      /* TMROF_EN */
    th_outw(m, 0x604, 0x0001);                      /* SCI_EN */
    th_advance(m, half_ns - 1);
    g_assert_cmphex(th_inw(m, 0x600) & 1, ==, 0);
    g_assert_false(th_probe_level(m, "probe", 0));
    th_advance(m, 1);                               /* bit 23 toggles */
    g_assert_cmphex(th_inw(m, 0x600) & 1, ==, 1);
    g_assert_true(th_probe_level(m, "probe", 0));
    /* Write one to clear. */
    th_outw(m, 0x600, 0x0000);
    g_assert_true(th_probe_level(m, "probe", 0));
    th_outw(m, 0x600, 0x0001);
    g_assert_false(th_probe_level(m, "probe", 0));
    g_assert_cmphex(th_inw(m, 0x600), ==, 0);
    /* And again at the next toggle (1 -> 0). */
    th_advance(m, half_ns);
    g_assert_true(th_probe_level(m, "probe", 0));
    th_outw(m, 0x600, 0x0001);

    /* Without SCI_EN the event is an SMI's business: status only. */
    th_outw(m, 0x604, 0x0000);
    th_advance(m, half_ns);
    g_assert_cmphex(th_inw(m, 0x600) & 1, ==, 1);
    g_assert_false(th_probe_level(m, "probe", 0));
    /* Enabling SCI with status pending raises it. */
    th_outw(m, 0x604, 0x0001);
    g_assert_true(th_probe_level(m, "probe", 0));
    /* TMROF_EN off: no SCI. */
    th_outw(m, 0x602, 0x0000);
    g_assert_false(th_probe_level(m, "probe", 0));
    th_machine_free(m);
}

static void test_soft_off(void)
{
    TessMachine *m = th_machine(MACHINE);
    setup_pm(m, 0x600);

    /* SUS_TYP alone does nothing; SLP_EN never reads back. */
    th_outw(m, 0x604, 0x1401);
    g_assert_false(m->exit_requested);
    g_assert_cmphex(th_inw(m, 0x604), ==, 0x1401);
    /* Suspend to RAM is not there: the machine "wakes" at once. */
    th_outw(m, 0x604, 0x2401);
    g_assert_false(m->exit_requested);
    g_assert_cmphex(th_inw(m, 0x600) & 0x8000, ==, 0x8000);
    g_assert_cmphex(th_inw(m, 0x604) & 0x2000, ==, 0);
    /* SUS_TYP 000 (soft off) with SUS_EN: power off, exit status 0. */
    th_outw(m, 0x604, 0x2001);
    g_assert_true(m->exit_requested);
    g_assert_cmpint(m->exit_status, ==, 0);
    th_machine_free(m);

    /* A byte write of the upper half works as well. */
    m = th_machine(MACHINE);
    setup_pm(m, 0xB000);
    th_outb(m, 0xB005, 0x20);
    g_assert_true(m->exit_requested);
    g_assert_cmpint(m->exit_status, ==, 0);
    th_machine_free(m);
}

static void test_apm_and_buttons(void)
{
    g_autoptr(GError) err = NULL;
    if (!tess_registry_lookup(th_registry(), drv_class.type))
        g_assert_true(tess_registry_add_builtin(th_registry(), &drv_class, &err));
    TessMachine *m = th_machine(MACHINE "<device type='test-driver' id='btn'/>"
                                "<wire from='btn.out' to='pm.pwrbtn'/>");
    Driver *btn = (Driver *)tess_machine_device(m, "btn");
    setup_pm(m, 0x600);

    /* The OS's ACPI enable through SMI_CMD. */
    g_assert_cmphex(th_inw(m, 0x604) & 1, ==, 0);
    th_outb(m, 0xB2, 0xF1);
    g_assert_cmphex(th_inw(m, 0x604) & 1, ==, 1);
    g_assert_cmphex(th_inb(m, 0xB2), ==, 0xF1);
    th_outb(m, 0xB2, 0x42);                          /* other commands: nothing */
    g_assert_cmphex(th_inw(m, 0x604) & 1, ==, 1);
    th_outb(m, 0xB2, 0xF0);
    g_assert_cmphex(th_inw(m, 0x604) & 1, ==, 0);
    th_outb(m, 0xB3, 0x5A);                          /* APMS is a scratch register */
    g_assert_cmphex(th_inb(m, 0xB3), ==, 0x5A);
    /* With APMC_EN clear no SMI happens, so nothing changes. */
    cfg_write(m, DEVFN, 0x5B, 0x00, 1);
    th_outb(m, 0xB2, 0xF1);
    g_assert_cmphex(th_inw(m, 0x604) & 1, ==, 0);

    /* Power button: status on the rising edge, SCI when enabled. */
    th_outw(m, 0x604, 0x0001);
    th_outw(m, 0x602, 0x0100);
    tess_signal_raise(btn->out[0]);
    g_assert_cmphex(th_inw(m, 0x600) & 0x0100, ==, 0x0100);
    g_assert_true(th_probe_level(m, "probe", 0));
    tess_signal_lower(btn->out[0]);
    g_assert_true(th_probe_level(m, "probe", 0));   /* status is sticky */
    th_outw(m, 0x600, 0x0100);
    g_assert_false(th_probe_level(m, "probe", 0));

    /* BIOS_RLS raises GBL_STS; GBL_RLS sets BIOS_STS. */
    th_outw(m, 0x602, 0x0020);
    th_outl(m, 0x628, 0x00000002);
    g_assert_cmphex(th_inw(m, 0x600) & 0x0020, ==, 0x0020);
    g_assert_true(th_probe_level(m, "probe", 0));
    g_assert_cmphex(th_inl(m, 0x628) & 2, ==, 0);
    th_outw(m, 0x604, 0x0005);
    g_assert_cmphex(th_inw(m, 0x618) & 1, ==, 1);
    g_assert_cmphex(th_inw(m, 0x604) & 4, ==, 0);
    th_machine_free(m);
}

static void test_fuzz(void)
{
    TessMachine *m = th_machine(MACHINE);
    GRand *rnd = g_rand_new_with_seed(0xAC91);
    setup_pm(m, 0x600);
    for (unsigned i = 0; i < 40000; i++) {
        uint32_t v = g_rand_int(rnd);
        unsigned size = 1u << g_rand_int_range(rnd, 0, 3);
        switch (g_rand_int_range(rnd, 0, 8)) {
        case 0: {
            unsigned reg = (unsigned)g_rand_int_range(rnd, 0x40, 0x100) & ~(size - 1);
            /* Keep PM I/O mostly where the rest of the test looks. */
            if (reg == 0x40 && (v & 7))
                v = 0x601;
            cfg_write(m, DEVFN, reg, v, size);
            break;
        }
        case 1:
            cfg_read(m, DEVFN, (unsigned)g_rand_int_range(rnd, 0, 0x100) & ~(size - 1), size);
            break;
        case 2: case 3:
            tess_pio_write(m, 0x600 + (v % 0x40), v >> 8, size);
            break;
        case 4:
            tess_pio_read(m, 0x600 + (v % 0x40), size);
            break;
        case 5:
            th_outb(m, 0xB2 + (v & 1), (uint8_t)(v >> 8));
            break;
        case 6:
            tess_pio_write(m, 0xB100 + (v & 0xF), v >> 8, 1);
            tess_pio_read(m, 0xB100 + ((v >> 4) & 0xF), 1);
            break;
        default:
            th_advance(m, v % 50000000);
            break;
        }
        m->exit_requested = false;
    }
    g_rand_free(rnd);
    setup_pm(m, 0x600);
    uint32_t a = th_inl(m, 0x608);
    th_advance(m, 1000000);
    g_assert_cmpuint((th_inl(m, 0x608) - a) & 0xFFFFFF, >=, 3579);
    th_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/acpi-pm/header", test_header);
    g_test_add_func("/acpi-pm/decoders", test_decoders);
    g_test_add_func("/acpi-pm/qemu-ports", test_qemu_ports);
    g_test_add_func("/acpi-pm/timer-rate", test_timer_rate);
    g_test_add_func("/acpi-pm/timer-atomic", test_timer_atomic);
    g_test_add_func("/acpi-pm/tmrof-sci", test_tmrof_sci);
    g_test_add_func("/acpi-pm/soft-off", test_soft_off);
    g_test_add_func("/acpi-pm/apm-and-buttons", test_apm_and_buttons);
    g_test_add_func("/acpi-pm/fuzz", test_fuzz);
    return g_test_run();
}
