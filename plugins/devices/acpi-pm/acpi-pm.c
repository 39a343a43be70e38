/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PIIX4-style power management function (Intel 82371AB function 3,
 * 8086:7113) on a PIIX3 board, the way PC emulators pair them.
 *
 * 82371AB PIIX4 datasheet (290562-001): 3.4 (function 3 configuration:
 * PMBA 40h, DEVACTB 58h, PMREGMISC 80h, SMBBA 90h, SMBHSTCFG D2h),
 * 7.2 (power management I/O: PMSTS, PMEN, PMCNTRL, PMTMR, GLBSTS, GLBCTL),
 * 7.3 (SMBus host registers); ACPI 1.0 4.7.3 (PM timer, SCI).
 *
 * The SCI is not a PCI interrupt: like the PIIX4 it leaves on its own
 * line ("sci"), which the PC wires to IRQ 9.
 *
 * There is no SMM in this machine. With `smm` off (the default) DEVACTB's
 * APMC_EN reads as set from reset, which firmware takes as "SMM already
 * set up" (the convention QEMU uses without SMM), and a write of the
 * firmware's ACPI-enable/-disable value to APMC (B2h) does what the SMI
 * handler would: set or clear SCI_EN.
 *
 * SeaBIOS builds its ACPI tables for QEMU's PIIX4, which decodes three
 * register blocks of its own at fixed ports, and the tables point there:
 * the FADT's GPE0_BLK at AFE0h (GPSTS/GPEN, which the PIIX4 has at
 * PMBA+0Ch), the PCI hot-plug registers at AE00h (slots added, eject
 * requests, eject, removable slots) and the present-CPU map at AF00h.
 * Left undecoded they float high, and the OS then sees every GPE pending,
 * every slot hot-added with an eject request and 256 CPUs present: Linux
 * runs _E01 at boot and acpiphp ejects whatever sits in slots 3-31 (the
 * NIC), racing its own bus scan. With `qemu-acpi-ports` on (the default)
 * this function answers them: GPE0 at AFE0h is the GPSTS/GPEN pair, no
 * slot is hot-pluggable (SeaBIOS then writes no _EJ0), CPU 0 alone is
 * present.
 */
#define G_LOG_DOMAIN "acpi-pm"
#include <tessera/tessera.h>

#include <string.h>

#define PM_PMBA       0x40
#define PM_DEVACTB    0x58
#define DEVACTB_APMC_EN (1u << 25)
#define PM_PMREGMISC  0x80
#define PMREGMISC_PMIOSE 0x01
#define PM_SMBBA      0x90
#define PM_SMBHSTCFG  0xD2
#define SMBHSTCFG_SMB_HST_EN 0x01

#define PM_IO_SIZE    64
#define SMB_IO_SIZE   16
#define APM_PORT      0xB2

/* QEMU's PIIX4 blocks that SeaBIOS's ACPI tables use (see the top) */
#define QEMU_GPE0_PORT   0xAFE0         /* GPE0_STS (16 bits), GPE0_EN (16 bits) */
#define QEMU_GPE0_LEN    4
#define PM_GPSTS         0x0C           /* where the PIIX4 has the same pair */
#define QEMU_PCIHP_PORT  0xAE00         /* PCIU, PCID, B0EJ, PCIRMV: 32 bits each */
#define QEMU_PCIHP_LEN   16
#define QEMU_CPUHP_PORT  0xAF00         /* one bit per present CPU */
#define QEMU_CPUHP_LEN   32

/* PMSTS / PMEN */
#define PM_TMROF      0x0001
#define PM_BM_STS     0x0010
#define PM_GBL        0x0020
#define PM_PWRBTN     0x0100
#define PM_RTC        0x0400
#define PM_PWRBTNOR   0x0800
#define PM_WAK_STS    0x8000
#define PMSTS_MASK    (PM_TMROF | PM_BM_STS | PM_GBL | PM_PWRBTN | PM_RTC | PM_PWRBTNOR | PM_WAK_STS)
#define PMEN_MASK     (PM_TMROF | PM_GBL | PM_PWRBTN | PM_RTC)

/* PMCNTRL */
#define PMCNTRL_SCI_EN   0x0001
#define PMCNTRL_BRLD_EN  0x0002
#define PMCNTRL_GBL_RLS  0x0004         /* write-only */
#define PMCNTRL_SUS_TYP_SHIFT 10
#define PMCNTRL_SUS_TYP  0x1C00
#define PMCNTRL_SUS_EN   0x2000         /* write-only */
#define SUS_TYP_SOFF     0              /* soft off / suspend to disk */

/* GLBSTS / GLBCTL */
#define GLBSTS_BIOS_STS  0x0001
#define GLBCTL_BIOS_RLS  0x00000002

/* SMBus host */
#define SMB_HST_STS   0x00
#define SMB_HST_CNT   0x02
#define SMB_STS_DEV_ERR 0x04
#define SMB_CNT_START 0x40

#define PM_TIMER_HZ   3579545u           /* 14.31818 MHz / 4 */

typedef struct AcpiPm {
    TessDevice dev;
    /* properties */
    char *bus_id;
    uint64_t devfn;
    bool smm;
    uint64_t acpi_enable, acpi_disable;
    bool qemu_ports;
    /* lines */
    TessSignal *sci[1];
    /* bus */
    TessDevice *bus;
    const TessPciBusOps *bus_ops;
    TessPciFunction *fn;
    uint8_t *cfg;
    TessTimer *tmr;
    /* decoders */
    bool pm_mapped, smb_mapped;
    uint32_t pm_base, smb_base;
    /* state */
    uint16_t pmsts, pmen, pmcntrl;
    uint16_t gpsts, gpen;
    uint16_t glbsts, glben;
    uint32_t pcntrl, devsts, glbctl, devctl, gporeg;
    uint8_t apmc, apms;
    uint8_t smb[SMB_IO_SIZE];
    uint8_t pwrbtn_in;
} AcpiPm;

static inline uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- PM timer ----------------------------------------------------------- */

static uint64_t pm_ticks(AcpiPm *s)
{
    uint64_t ns = tess_clock_ns(s->dev.machine);
    return (ns / TESS_NS_PER_SEC) * PM_TIMER_HZ +
           (ns % TESS_NS_PER_SEC) * PM_TIMER_HZ / TESS_NS_PER_SEC;
}

/* First virtual ns at which the tick count reaches `ticks`. */
static uint64_t pm_ticks_to_ns(uint64_t ticks)
{
    uint64_t sec = ticks / PM_TIMER_HZ, rem = ticks % PM_TIMER_HZ;
    return sec * TESS_NS_PER_SEC + (rem * TESS_NS_PER_SEC + PM_TIMER_HZ - 1) / PM_TIMER_HZ;
}

static void pm_update_sci(AcpiPm *s)
{
    bool level = (s->pmcntrl & PMCNTRL_SCI_EN) &&
                 ((s->pmsts & s->pmen & PMEN_MASK) || (s->gpsts & s->gpen));
    tess_signal_set(s->sci[0], level);
}

static void pm_arm_timer(AcpiPm *s)
{
    /* TMROF_STS is set each time bit 23 of the counter toggles. */
    uint64_t next = (pm_ticks(s) >> 23) + 1;
    tess_timer_arm(s->tmr, pm_ticks_to_ns(next << 23));
}

static void pm_timer_fire(void *opaque)
{
    AcpiPm *s = opaque;
    s->pmsts |= PM_TMROF;
    pm_update_sci(s);
    pm_arm_timer(s);
}

/* ---- PM I/O space ------------------------------------------------------- */

static void pm_sleep(AcpiPm *s, unsigned typ)
{
    if (typ == SUS_TYP_SOFF) {
        g_debug("%s: soft off", s->dev.id);
        tess_machine_request_exit(s->dev.machine, 0);
        return;
    }
    /* Suspend states need the board to stop and wake the CPU; the machine
     * wakes at once, which software sees as an immediate resume event. */
    tess_guest_error(&s->dev, "suspend type %u not supported: waking at once", typ);
    s->pmsts |= PM_WAK_STS;
}

/* pmtmr: the PM timer value this access reads. */
static uint8_t pm_read_byte(AcpiPm *s, unsigned off, uint32_t pmtmr)
{
    unsigned sh = 8 * (off & 1);
    switch (off) {
    case 0x00: case 0x01: return (uint8_t)(s->pmsts >> sh);
    case 0x02: case 0x03: return (uint8_t)(s->pmen >> sh);
    case 0x04: case 0x05:
        return (uint8_t)((s->pmcntrl & ~(PMCNTRL_GBL_RLS | PMCNTRL_SUS_EN)) >> sh);
    case 0x08: case 0x09: case 0x0A: case 0x0B:
        return (uint8_t)(pmtmr >> (8 * (off - 8)));
    case 0x0C: case 0x0D: return (uint8_t)(s->gpsts >> sh);
    case 0x0E: case 0x0F: return (uint8_t)(s->gpen >> sh);
    case 0x10: case 0x11: case 0x12: case 0x13: return (uint8_t)(s->pcntrl >> (8 * (off & 3)));
    case 0x14: case 0x15:
        /* PLVL2/PLVL3: the read enters C2/C3, which takes no time here. */
        return 0;
    case 0x18: case 0x19: return (uint8_t)(s->glbsts >> sh);
    case 0x1C: case 0x1D: case 0x1E: case 0x1F: return (uint8_t)(s->devsts >> (8 * (off & 3)));
    case 0x20: case 0x21: return (uint8_t)(s->glben >> sh);
    case 0x28: case 0x29: case 0x2A: case 0x2B: return (uint8_t)(s->glbctl >> (8 * (off & 3)));
    case 0x2C: case 0x2D: case 0x2E: case 0x2F: return (uint8_t)(s->devctl >> (8 * (off & 3)));
    case 0x30: case 0x31: case 0x32: return 0xFF;    /* GPIREG: inputs pulled up */
    case 0x34: case 0x35: case 0x36: case 0x37: return (uint8_t)(s->gporeg >> (8 * (off & 3)));
    default: return 0;
    }
}

static void set_byte16(uint16_t *r, unsigned off, uint8_t v, uint16_t mask)
{
    unsigned sh = 8 * (off & 1);
    uint16_t m = (uint16_t)(0xFFu << sh) & mask;
    *r = (uint16_t)((*r & ~m) | (((uint16_t)v << sh) & m));
}

static void set_byte32(uint32_t *r, unsigned off, uint8_t v)
{
    unsigned sh = 8 * (off & 3);
    *r = (*r & ~(0xFFu << sh)) | ((uint32_t)v << sh);
}

static void pm_write_byte(AcpiPm *s, unsigned off, uint8_t v)
{
    unsigned sh = 8 * (off & 1);
    switch (off) {
    case 0x00: case 0x01:                /* write 1 to clear */
        s->pmsts &= (uint16_t)~(((uint16_t)v << sh) & PMSTS_MASK);
        break;
    case 0x02: case 0x03:
        set_byte16(&s->pmen, off, v, PMEN_MASK);
        break;
    case 0x04:
        set_byte16(&s->pmcntrl, off, v, PMCNTRL_SCI_EN | PMCNTRL_BRLD_EN);
        if (v & PMCNTRL_GBL_RLS)         /* OS releases the global lock */
            s->glbsts |= GLBSTS_BIOS_STS;
        break;
    case 0x05:
        set_byte16(&s->pmcntrl, off, v, PMCNTRL_SUS_TYP);
        if (((uint16_t)v << 8) & PMCNTRL_SUS_EN)
            pm_sleep(s, (s->pmcntrl & PMCNTRL_SUS_TYP) >> PMCNTRL_SUS_TYP_SHIFT);
        break;
    case 0x0C: case 0x0D:
        s->gpsts &= (uint16_t)~((uint16_t)v << sh);
        break;
    case 0x0E: case 0x0F:
        set_byte16(&s->gpen, off, v, 0xFFFF);
        break;
    case 0x10: case 0x11: case 0x12: case 0x13:
        set_byte32(&s->pcntrl, off, v);
        break;
    case 0x18: case 0x19:
        s->glbsts &= (uint16_t)~((uint16_t)v << sh);
        break;
    case 0x1C: case 0x1D: case 0x1E: case 0x1F:
        s->devsts &= ~((uint32_t)v << (8 * (off & 3)));
        break;
    case 0x20: case 0x21:
        set_byte16(&s->glben, off, v, 0xFFFF);
        break;
    case 0x28:
        /* BIOS_RLS: the BIOS hands the global lock back, raising GBL_STS. */
        if (v & GLBCTL_BIOS_RLS)
            s->pmsts |= PM_GBL;
        set_byte32(&s->glbctl, off, v & (uint8_t)~GLBCTL_BIOS_RLS);
        break;
    case 0x29: case 0x2A: case 0x2B:
        set_byte32(&s->glbctl, off, v);
        break;
    case 0x2C: case 0x2D: case 0x2E: case 0x2F:
        set_byte32(&s->devctl, off, v);
        break;
    case 0x34: case 0x35: case 0x36: case 0x37:
        set_byte32(&s->gporeg, off, v);
        break;
    default:
        break;
    }
}

static uint64_t pm_io_read(void *opaque, uint64_t off, unsigned size)
{
    AcpiPm *s = opaque;
    /* PMTMR is read in one bus cycle on the PIIX4 (datasheet 7.2): one
     * clock sample serves the whole access, so a 16- or 32-bit read never
     * mixes bytes from both sides of a carry. */
    uint32_t pmtmr = 0;
    if (off < 0x0C && off + size > 0x08)
        pmtmr = (uint32_t)(pm_ticks(s) & 0xFFFFFF);
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)pm_read_byte(s, (unsigned)off + i, pmtmr) << (8 * i);
    return v;
}

static void pm_io_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    AcpiPm *s = opaque;
    for (unsigned i = 0; i < size; i++)
        pm_write_byte(s, (unsigned)off + i, (uint8_t)(val >> (8 * i)));
    pm_update_sci(s);
}

static const TessIoOps pm_io_ops = {
    .read = pm_io_read, .write = pm_io_write,
    .widths = TESS_W8 | TESS_W16 | TESS_W32,
};

/* ---- SMBus host (no devices on the bus) -------------------------------- */

static uint64_t smb_read(void *opaque, uint64_t off, unsigned size)
{
    AcpiPm *s = opaque;
    return s->smb[off & (SMB_IO_SIZE - 1)];
}

static void smb_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    AcpiPm *s = opaque;
    unsigned o = off & (SMB_IO_SIZE - 1);
    if (o == SMB_HST_STS) {
        s->smb[o] &= (uint8_t)~val;      /* write 1 to clear */
        return;
    }
    s->smb[o] = (uint8_t)val;
    if (o == SMB_HST_CNT && (val & SMB_CNT_START)) {
        /* Nobody answers the address: the transaction fails at once. */
        s->smb[o] &= (uint8_t)~SMB_CNT_START;
        s->smb[SMB_HST_STS] |= SMB_STS_DEV_ERR;
    }
}

static const TessIoOps smb_ops = { .read = smb_read, .write = smb_write, .widths = TESS_W8 };

/* ---- APM control / status (B2h/B3h) ------------------------------------ */

static uint64_t apm_read(void *opaque, uint64_t off, unsigned size)
{
    AcpiPm *s = opaque;
    return off ? s->apms : s->apmc;
}

static void apm_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    AcpiPm *s = opaque;
    if (off) {
        s->apms = (uint8_t)val;
        return;
    }
    s->apmc = (uint8_t)val;
    if (!(rd32(s->cfg + PM_DEVACTB) & DEVACTB_APMC_EN))
        return;
    if (s->smm) {
        tess_guest_error(&s->dev, "APMC 0x%02x: SMI requested, but the CPU has no SMM",
                         s->apmc);
        return;
    }
    if (s->apmc == s->acpi_enable)
        s->pmcntrl |= PMCNTRL_SCI_EN;
    else if (s->apmc == s->acpi_disable)
        s->pmcntrl &= (uint16_t)~PMCNTRL_SCI_EN;
    pm_update_sci(s);
}

static const TessIoOps apm_ops = { .read = apm_read, .write = apm_write, .widths = TESS_W8 };

/* ---- QEMU's PIIX4 blocks (GPE0 at AFE0h, PCI and CPU hot-plug) ---------- */

static uint64_t gpe0_read(void *opaque, uint64_t off, unsigned size)
{
    AcpiPm *s = opaque;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)pm_read_byte(s, PM_GPSTS + (unsigned)off + i, 0) << (8 * i);
    return v;
}

static void gpe0_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    AcpiPm *s = opaque;
    for (unsigned i = 0; i < size; i++)
        pm_write_byte(s, PM_GPSTS + (unsigned)off + i, (uint8_t)(val >> (8 * i)));
    pm_update_sci(s);
}

static const TessIoOps gpe0_ops = {
    .read = gpe0_read, .write = gpe0_write, .widths = TESS_W8 | TESS_W16 | TESS_W32,
};

/* No slot is hot-pluggable: nothing added, no eject request, none
 * removable (so SeaBIOS gives no slot an _EJ0), and B0EJ ejects nothing. */
static uint64_t pcihp_read(void *opaque, uint64_t off, unsigned size)
{
    return 0;
}

static void pcihp_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
}

static const TessIoOps pcihp_ops = {
    .read = pcihp_read, .write = pcihp_write, .widths = TESS_W8 | TESS_W16 | TESS_W32,
};

/* The machine has one CPU. */
static uint64_t cpuhp_read(void *opaque, uint64_t off, unsigned size)
{
    return off == 0 ? 0x01 : 0;
}

static void cpuhp_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
}

static const TessIoOps cpuhp_ops = { .read = cpuhp_read, .write = cpuhp_write, .widths = TESS_W8 };

static bool pm_map_qemu_ports(AcpiPm *s, GError **err)
{
    return tess_pio_map(&s->dev, QEMU_GPE0_PORT, QEMU_GPE0_LEN, &gpe0_ops, s, err) &&
           tess_pio_map(&s->dev, QEMU_PCIHP_PORT, QEMU_PCIHP_LEN, &pcihp_ops, s, err) &&
           tess_pio_map(&s->dev, QEMU_CPUHP_PORT, QEMU_CPUHP_LEN, &cpuhp_ops, s, err);
}

/* ---- configuration space ------------------------------------------------ */

static void pm_update_decoders(AcpiPm *s)
{
    GError *err = NULL;
    uint32_t pm_base = rd32(s->cfg + PM_PMBA) & 0xFFC0;
    bool pm_on = s->cfg[PM_PMREGMISC] & PMREGMISC_PMIOSE;
    uint32_t smb_base = rd32(s->cfg + PM_SMBBA) & 0xFFF0;
    /* SMB_HST_EN alone gates the SMBus decoder here: the bus handles
     * COMMAND without telling the function, so its I/O bit is not seen. */
    bool smb_on = s->cfg[PM_SMBHSTCFG] & SMBHSTCFG_SMB_HST_EN;

    if (s->pm_mapped && (!pm_on || s->pm_base != pm_base)) {
        tess_pio_unmap(&s->dev, s->pm_base);
        s->pm_mapped = false;
    }
    if (pm_on && !s->pm_mapped) {
        if (tess_pio_map(&s->dev, pm_base, PM_IO_SIZE, &pm_io_ops, s, &err)) {
            s->pm_mapped = true;
            s->pm_base = pm_base;
        } else {
            tess_guest_error(&s->dev, "PMBA 0x%04x not decoded: %s", pm_base, err->message);
            g_clear_error(&err);
        }
    }
    if (s->smb_mapped && (!smb_on || s->smb_base != smb_base)) {
        tess_pio_unmap(&s->dev, s->smb_base);
        s->smb_mapped = false;
    }
    if (smb_on && !s->smb_mapped) {
        if (tess_pio_map(&s->dev, smb_base, SMB_IO_SIZE, &smb_ops, s, &err)) {
            s->smb_mapped = true;
            s->smb_base = smb_base;
        } else {
            tess_guest_error(&s->dev, "SMBBA 0x%04x not decoded: %s", smb_base, err->message);
            g_clear_error(&err);
        }
    }
}

static void pm_fix_config(AcpiPm *s)
{
    uint8_t *c = s->cfg;
    /* PMBA and SMBBA: I/O indicator bit 0 hardwired, upper half reserved. */
    c[PM_PMBA] = (uint8_t)((c[PM_PMBA] & 0xC0) | 1);
    c[PM_PMBA + 2] = c[PM_PMBA + 3] = 0;
    c[PM_SMBBA] = (uint8_t)((c[PM_SMBBA] & 0xF0) | 1);
    c[PM_SMBBA + 2] = c[PM_SMBBA + 3] = 0;
}

static void pm_config_write(TessDevice *dev, uint8_t reg, uint32_t val, unsigned size)
{
    AcpiPm *s = (AcpiPm *)dev;
    pm_fix_config(s);
    pm_update_decoders(s);
}

static void pm_reset_config(AcpiPm *s)
{
    uint8_t *c = s->cfg;
    memset(c + 0x40, 0, 0xC0);
    c[PM_PMBA] = 1;
    c[PM_SMBBA] = 1;
    if (!s->smm)
        c[PM_DEVACTB + 3] = (uint8_t)(DEVACTB_APMC_EN >> 24);
}

static void pm_reset(TessDevice *dev)
{
    AcpiPm *s = (AcpiPm *)dev;
    pm_reset_config(s);
    pm_update_decoders(s);
    s->pmsts = s->pmen = s->pmcntrl = 0;
    s->gpsts = s->gpen = s->glbsts = s->glben = 0;
    s->pcntrl = s->devsts = s->glbctl = s->devctl = s->gporeg = 0;
    s->apmc = s->apms = 0;
    memset(s->smb, 0, sizeof(s->smb));
    pm_arm_timer(s);
    pm_update_sci(s);
}

static void pm_pwrbtn_in(TessDevice *dev, unsigned n, bool level)
{
    AcpiPm *s = (AcpiPm *)dev;
    if (level && !s->pwrbtn_in) {
        s->pmsts |= PM_PWRBTN;
        pm_update_sci(s);
    }
    s->pwrbtn_in = level;
}

static bool pm_realize(TessDevice *dev, GError **err)
{
    AcpiPm *s = (AcpiPm *)dev;
    const char *bus_id = s->bus_id && *s->bus_id ? s->bus_id : NULL;
    TessPciFunctionInfo info = {
        .vendor_id = 0x8086, .device_id = 0x7113,
        .revision = 0x03,
        .class_code = 0x06, .subclass = 0x80, .prog_if = 0x00,  /* other bridge */
        .header_type = 0x00,
        .interrupt_pin = 1,
        .config_write = pm_config_write,
    };

    s->fn = tess_pci_attach(dev, bus_id, (int)s->devfn, &info, &s->bus, &s->bus_ops, err);
    if (!s->fn)
        return false;
    s->cfg = s->bus_ops->config(s->fn);
    pm_reset_config(s);
    if (!tess_pio_map(dev, APM_PORT, 2, &apm_ops, s, err) ||
        (s->qemu_ports && !pm_map_qemu_ports(s, err))) {
        s->bus_ops->detach(s->bus, s->fn);
        s->fn = NULL;
        return false;
    }
    s->tmr = tess_timer_new(dev, pm_timer_fire, s);
    return true;
}

static bool pm_post_load(TessDevice *dev, uint32_t version, GError **err)
{
    AcpiPm *s = (AcpiPm *)dev;
    pm_update_decoders(s);
    pm_arm_timer(s);
    pm_update_sci(s);
    return true;
}

static const TessPropSpec pm_props[] = {
    TESS_PROP_STRING_("bus", AcpiPm, bus_id, NULL, "id of the pci-bus provider (default: the only one)"),
    TESS_PROP_UINT_("devfn", AcpiPm, devfn, "0x0b", 0, 0xFF, "PCI slot << 3 | function"),
    TESS_PROP_BOOL_("smm", AcpiPm, smm, "off",
                    "the CPU has SMM (off: APMC_EN reads set and APMC emulates the SMI handler's ACPI enable/disable)"),
    TESS_PROP_UINT_("acpi-enable", AcpiPm, acpi_enable, "0xf1", 0, 0xFF,
                    "APMC value that sets SCI_EN (the FADT's ACPI_ENABLE)"),
    TESS_PROP_UINT_("acpi-disable", AcpiPm, acpi_disable, "0xf0", 0, 0xFF,
                    "APMC value that clears SCI_EN (the FADT's ACPI_DISABLE)"),
    TESS_PROP_BOOL_("qemu-acpi-ports", AcpiPm, qemu_ports, "on",
                    "also decode what SeaBIOS's ACPI tables expect of QEMU's PIIX4: GPE0 at 0xafe0, "
                    "PCI hot-plug at 0xae00 (no slot hot-pluggable), present CPUs at 0xaf00 (one)"),
    TESS_PROP_END
};

static const TessLineSpec pm_lines[] = {
    TESS_LINE_OUT_("sci", 1, AcpiPm, sci, "ACPI system control interrupt (level, active high; IRQ 9)"),
    TESS_LINE_IN_("pwrbtn", 1, pm_pwrbtn_in, "power button: a rising edge sets PWRBTN_STS"),
    TESS_LINE_END
};

static const char *const pm_needs[] = { TESS_IFACE_PCI_BUS, NULL };

static const TessStateField pm_state_fields[] = {
    TESS_STATE_U16(AcpiPm, pmsts), TESS_STATE_U16(AcpiPm, pmen), TESS_STATE_U16(AcpiPm, pmcntrl),
    TESS_STATE_U16(AcpiPm, gpsts), TESS_STATE_U16(AcpiPm, gpen),
    TESS_STATE_U16(AcpiPm, glbsts), TESS_STATE_U16(AcpiPm, glben),
    TESS_STATE_U32(AcpiPm, pcntrl), TESS_STATE_U32(AcpiPm, devsts),
    TESS_STATE_U32(AcpiPm, glbctl), TESS_STATE_U32(AcpiPm, devctl), TESS_STATE_U32(AcpiPm, gporeg),
    TESS_STATE_U8(AcpiPm, apmc), TESS_STATE_U8(AcpiPm, apms),
    TESS_STATE_BUF(AcpiPm, smb),
    TESS_STATE_U8(AcpiPm, pwrbtn_in),
    TESS_STATE_PTRBUF(AcpiPm, cfg, 256),
    TESS_STATE_END
};

static const TessStateDesc pm_state = {
    .version = 1,
    .fields = pm_state_fields,
    .post_load = pm_post_load,
};

static const TessDeviceClass pm_class = {
    .type = "acpi-pm",
    .kind = TESS_CLASS_DEVICE,
    .doc = "PIIX4 power management function (8086:7113): PM timer, PM1 events and control, SCI",
    .instance_size = sizeof(AcpiPm),
    .props = pm_props,
    .lines = pm_lines,
    .needs = pm_needs,
    .state = &pm_state,
    .realize = pm_realize,
    .reset = pm_reset,
};

static bool pm_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &pm_class, err);
}

TESS_PLUGIN_DEFINE("acpi-pm", "1.0", "LGPL-2.1-or-later",
                   "PIIX4-style ACPI power management function", pm_init);
