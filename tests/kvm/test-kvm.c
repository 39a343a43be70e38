/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kvm CPU class against a real /dev/kvm: the clear failure without
 * one (and fallback="x86"), the register state interface, and run()
 * driven directly with a small guest (kvm-unit.asm) and a test device
 * that answers its ports, provides its interrupt controller and drives
 * its A20 and reset lines. Tests that need KVM skip where it is absent.
 */
#include "harness.h"

#include <cpuid.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* ---- the test device ------------------------------------------------------ */

typedef struct {
    TessDevice dev;
    TessSignal *irq, *a20, *rst, *nmi;
    TessMemRegion *mmio, *rom;
    uint8_t cmd;
    GByteArray *reports;
    GString *str;
    unsigned acks;
    uint64_t mmio_written;
} Kvmt;

static TessCpuRun *cur_run;

static uint64_t kt_read(void *opaque, uint64_t off, unsigned size)
{
    Kvmt *t = opaque;
    return off == 1 ? t->cmd : 0xFF;
}

static void kt_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    Kvmt *t = opaque;
    if (off == 0) {
        uint8_t b = (uint8_t)v;
        g_byte_array_append(t->reports, &b, 1);
        if (cur_run)
            g_atomic_int_set(&cur_run->stop, 1);
    } else if (off == 2) {
        g_string_append_c(t->str, (char)v);
    }
}

static const TessIoOps kt_ops = { .read = kt_read, .write = kt_write, .widths = TESS_W8 };

static uint64_t kt_mmio_read(void *opaque, uint64_t off, unsigned size)
{
    return 0x2222222222222222ull;
}

static void kt_mmio_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    ((Kvmt *)opaque)->mmio_written = v | 0x100;
}

static const TessIoOps kt_mmio_ops = { .read = kt_mmio_read, .write = kt_mmio_write,
                                       .widths = TESS_W8 };

static uint8_t kt_ack(TessDevice *dev)
{
    Kvmt *t = (Kvmt *)dev;
    t->acks++;
    tess_signal_lower(t->irq);
    return 0x40;
}

static const TessIntcOps kt_intc = { .ack = kt_ack };

static bool kt_realize(TessDevice *dev, GError **err)
{
    Kvmt *t = (Kvmt *)dev;
    t->reports = g_byte_array_new();
    t->str = g_string_new(NULL);
    t->mmio = tess_mem_mmio_new(dev, "kvmt-mmio", TESS_PAGE_SIZE, &kt_mmio_ops, t);
    t->rom = tess_mem_rom_new(dev, "kvmt-rom", TESS_PAGE_SIZE, err);
    if (!t->rom)
        return false;
    tess_mem_region_host(t->rom)[0] = 0x33;
    return tess_pio_map(dev, 0xE0, 3, &kt_ops, t, err);
}

static void kt_unrealize(TessDevice *dev)
{
    Kvmt *t = (Kvmt *)dev;
    g_byte_array_unref(t->reports);
    g_string_free(t->str, TRUE);
}

static const TessLineSpec kt_lines[] = {
    TESS_LINE_OUT_("irq", 1, Kvmt, irq, "to cpu.intr"),
    TESS_LINE_OUT_("a20", 1, Kvmt, a20, "to cpu.a20"),
    TESS_LINE_OUT_("rst", 1, Kvmt, rst, "to cpu.reset"),
    TESS_LINE_OUT_("nmi", 1, Kvmt, nmi, "to cpu.nmi"),
    TESS_LINE_END,
};

static const TessIfaceSpec kt_provides[] = {
    { TESS_IFACE_INTC, &kt_intc },
    TESS_IFACE_END,
};

static const TessDeviceClass kt_class = {
    .type = "kvmt",
    .kind = TESS_CLASS_DEVICE,
    .doc = "test-kvm's guest partner",
    .instance_size = sizeof(Kvmt),
    .lines = kt_lines,
    .provides = kt_provides,
    .realize = kt_realize,
    .unrealize = kt_unrealize,
};

/* ---- helpers --------------------------------------------------------------- */

static bool kvm_usable(void)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        g_test_skip("no usable /dev/kvm on this host");
        return false;
    }
    int vm = ioctl(fd, KVM_GET_API_VERSION, 0) == KVM_API_VERSION ? ioctl(fd, KVM_CREATE_VM, 0) : -1;
    if (vm >= 0)
        close(vm);
    close(fd);
    if (vm < 0)
        g_test_skip("/dev/kvm cannot create a virtual machine here");
    return vm >= 0;
}

static TessMachine *load(const char *xml, bool deterministic, GError **err)
{
    TessLoadOptions lo = { .mopts = { .deterministic = deterministic, .ns_per_insn = 1 } };
    return tess_machine_load_string(th_registry(), xml, g_get_tmp_dir(), &lo, err);
}

static TessMachine *guest_machine_with(Kvmt **t, const char *cpu_attrs)
{
    const char *dir = g_getenv("KVM_TEST_ROM_DIR");
    g_autofree char *rel = g_build_filename(dir ? dir : ".", "kvm-unit.bin", NULL);
    g_autofree char *rom = g_canonicalize_filename(rel, NULL);
    g_autofree char *xml = g_strdup_printf(
        "<machine name='kvmt'><memory size='4M'/><cpu type='kvm' %s/>"
        "<device type='bios-rom' id='bios' file='%s'/>"
        "<device type='kvmt' id='t'/>"
        "<wire from='t.irq' to='cpu.intr'/>"
        "<wire from='t.a20' to='cpu.a20'/>"
        "<wire from='t.rst' to='cpu.reset'/>"
        "<wire from='t.nmi' to='cpu.nmi'/>"
        "</machine>", cpu_attrs, rom);
    g_autoptr(GError) err = NULL;
    TessMachine *m = load(xml, false, &err);
    g_assert_no_error(err);
    *t = (Kvmt *)tess_machine_device(m, "t");
    return m;
}

static TessMachine *guest_machine(Kvmt **t)
{
    return guest_machine_with(t, "");
}

/* Run until the guest has made `want` reports in all, or run() ends
 * otherwise; returns how the last run() ended. */
static TessCpuExit run_until(TessMachine *m, Kvmt *t, guint want)
{
    TessCpuRun run = { 0 };
    cur_run = &run;
    for (int i = 0; i < 100000; i++) {
        g_atomic_int_set(&run.stop, 0);
        run.icount_limit = m->cpu_ops->icount(m->cpu) + 20000;
        TessCpuExit ex = m->cpu_ops->run(m->cpu, &run);
        if (ex != TESS_CPU_EXIT_LIMIT || t->reports->len >= want) {
            cur_run = NULL;
            return ex;
        }
    }
    cur_run = NULL;
    g_error("the guest made no report");
}

static uint8_t command(TessMachine *m, Kvmt *t, uint8_t cmd)
{
    t->cmd = cmd;
    guint want = t->reports->len + 1;
    g_assert_cmpint(run_until(m, t, want), ==, TESS_CPU_EXIT_LIMIT);
    g_assert_cmpuint(t->reports->len, ==, want);
    return t->reports->data[want - 1];
}

static void get_state(TessMachine *m, TessCpuState *st)
{
    g_autoptr(GError) err = NULL;
    memset(st, 0, sizeof(*st));
    st->version = TESS_CPU_STATE_VERSION;
    st->size = sizeof(*st);
    g_assert_true(m->cpu_ops->get_state(m->cpu, st, &err));
    g_assert_no_error(err);
}

static const TessCpuMsr *find_msr(const TessCpuState *st, uint32_t index)
{
    for (uint32_t i = 0; i < st->nmsrs; i++)
        if (st->msrs[i].index == index)
            return &st->msrs[i];
    return NULL;
}

/* The power-on state, SDM vol. 3 table 9-1, with EDX = the signature. */
static void assert_reset_state(const TessCpuState *st, uint32_t signature)
{
    g_assert_cmphex(st->rip, ==, 0xFFF0);
    g_assert_cmphex(st->rflags, ==, 2);
    g_assert_cmphex(st->gpr[TESS_CPU_RDX], ==, signature);
    g_assert_cmphex(st->gpr[TESS_CPU_RAX], ==, 0);
    g_assert_cmphex(st->seg[TESS_CPU_CS].selector, ==, 0xF000);
    g_assert_cmphex(st->seg[TESS_CPU_CS].base, ==, 0xFFFF0000);
    g_assert_cmphex(st->seg[TESS_CPU_CS].limit, ==, 0xFFFF);
    g_assert_cmphex(st->seg[TESS_CPU_CS].attrib & (TESS_SEG_P | TESS_SEG_S), ==,
                    TESS_SEG_P | TESS_SEG_S);
    g_assert_cmphex(st->seg[TESS_CPU_CS].attrib & TESS_SEG_TYPE & 0x8, ==, 0x8);   /* code */
    for (int s = 0; s < TESS_CPU_NSEGS; s++) {
        if (s == TESS_CPU_CS)
            continue;
        g_assert_cmphex(st->seg[s].selector, ==, 0);
        g_assert_cmphex(st->seg[s].base, ==, 0);
        g_assert_cmphex(st->seg[s].limit, ==, 0xFFFF);
    }
    g_assert_cmphex(st->gdtr.base, ==, 0);
    g_assert_cmphex(st->gdtr.limit, ==, 0xFFFF);
    g_assert_cmphex(st->idtr.base, ==, 0);
    g_assert_cmphex(st->idtr.limit, ==, 0xFFFF);
    g_assert_cmphex(st->cr0, ==, 0x60000010);
    g_assert_cmphex(st->cr3, ==, 0);
    g_assert_cmphex(st->cr4, ==, 0);
    g_assert_cmphex(st->efer, ==, 0);
    g_assert_cmphex(st->dr[7], ==, 0x400);
    g_assert_cmphex(st->dr[6] & 0xFFFF0FF0, ==, 0xFFFF0FF0);
    g_assert_cmpint(st->pending_irq, ==, -1);
    g_assert_cmphex(st->flags & TESS_CPU_ST_HALTED, ==, 0);
}

/* ---- without KVM ----------------------------------------------------------- */

static void test_no_device(void)
{
    g_autoptr(GError) err = NULL;
    TessMachine *m = load("<machine><cpu type='kvm' device='/nonexistent/kvm'/></machine>",
                          false, &err);
    g_assert_null(m);
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(err->message, "/nonexistent/kvm does not exist"));
    g_assert_nonnull(strstr(err->message, "--cpu x86"));
}

static void test_no_permission(void)
{
    /* A file we may not open for writing: as /dev/kvm without the group. */
    if (getuid() == 0) {
        g_test_skip("root opens anything");
        return;
    }
    g_autoptr(GError) err = NULL;
    TessMachine *m = load("<machine><cpu type='kvm' device='/proc/version'/></machine>",
                          false, &err);
    g_assert_null(m);
    g_assert_nonnull(strstr(err->message, "no permission to open /proc/version"));
    g_assert_nonnull(strstr(err->message, "--cpu x86"));
}

static void test_not_kvm(void)
{
    /* Opens, but answers no KVM ioctl. */
    g_autoptr(GError) err = NULL;
    TessMachine *m = load("<machine><cpu type='kvm' device='/dev/null'/></machine>", false, &err);
    g_assert_null(m);
    g_assert_nonnull(strstr(err->message, "/dev/null is not a usable KVM device"));
    g_assert_nonnull(strstr(err->message, "--cpu x86"));
}

static void test_fallback(void)
{
    if (!tess_registry_lookup(th_registry(), "x86")) {
        g_test_skip("the x86 CPU plugin is not built");
        return;
    }
    /* Deterministic mode makes the kvm CPU refuse to realize, here or on
     * any host. (A kvm-only attribute such as device= cannot be used: the
     * core gives the fallback class the same attributes.) */
    g_autoptr(GError) err = NULL;
    g_test_expect_message(NULL, G_LOG_LEVEL_WARNING,
                          "*cpu 'kvm' unavailable*deterministic*using fallback 'x86'*");
    TessMachine *m = load("<machine><cpu type='kvm' fallback='x86' model='486'/></machine>",
                          true, &err);
    g_test_assert_expected_messages();
    g_assert_no_error(err);
    g_assert_nonnull(m);
    g_assert_cmpstr(m->cpu->cls->type, ==, "x86");
    /* The fallback gets the same attributes. */
    g_autofree char *model = tess_prop_format(tess_device_find_prop(m->cpu, "model"),
                                              (char *)m->cpu + tess_device_find_prop(m->cpu, "model")->offset);
    g_assert_cmpstr(model, ==, "486");
    tess_machine_free(m);
}

static void test_deterministic(void)
{
    g_autoptr(GError) err = NULL;
    TessMachine *m = load("<machine><cpu type='kvm'/></machine>", true, &err);
    g_assert_null(m);
    g_assert_nonnull(strstr(err->message, "deterministic"));
    g_assert_nonnull(strstr(err->message, "--cpu x86"));
}

/* ---- register state --------------------------------------------------------- */

static void test_state(void)
{
    if (!kvm_usable())
        return;
    g_autoptr(GError) err = NULL;
    TessMachine *m = load("<machine><memory size='2M'/><cpu type='kvm' model='pentium-pro'/>"
                          "</machine>", false, &err);
    g_assert_no_error(err);
    g_assert_nonnull(m->cpu_ops->get_state);
    g_assert_nonnull(m->cpu_ops->set_state);

    g_autofree TessCpuState *st = g_new0(TessCpuState, 1);
    get_state(m, st);
    assert_reset_state(st, 0x0619);
    g_assert_cmpuint(st->fpu_format, ==, TESS_CPU_FPU_FXSAVE);
    g_assert_cmpuint(st->fpu_size, ==, 512);
    g_assert_nonnull(find_msr(st, 0x10));       /* TSC */
    g_assert_nonnull(find_msr(st, 0x174));      /* SYSENTER_CS: a P6 MSR */

    /* Change everything, read it back. */
    for (int i = 0; i < 8; i++)
        st->gpr[i] = 0x1111 * (i + 1);
    st->rip = 0x1234;
    st->rflags = 0x246;
    st->seg[TESS_CPU_DS].selector = 0x1234;
    st->seg[TESS_CPU_DS].base = 0x12340;
    st->seg[TESS_CPU_SS].selector = 0x2000;
    st->seg[TESS_CPU_SS].base = 0x20000;
    st->gdtr.base = 0x5000;
    st->gdtr.limit = 0x27;
    st->idtr.base = 0x6000;
    st->idtr.limit = 0x3FF;
    st->dr[0] = 0x7000;
    st->dr[7] = 0x401;
    st->cr2 = 0xABC000;
    uint16_t fcw = 0x027F;
    memcpy(st->fpu, &fcw, 2);
    TessCpuMsr *sysenter_cs = (TessCpuMsr *)find_msr(st, 0x174);
    sysenter_cs->value = 0x10;
    g_assert_true(m->cpu_ops->set_state(m->cpu, st, &err));
    g_assert_no_error(err);

    g_autofree TessCpuState *back = g_new0(TessCpuState, 1);
    get_state(m, back);
    g_assert_cmpmem(back->gpr, sizeof(back->gpr), st->gpr, sizeof(st->gpr));
    g_assert_cmphex(back->rip, ==, 0x1234);
    g_assert_cmphex(back->rflags, ==, 0x246);
    g_assert_cmphex(back->seg[TESS_CPU_DS].selector, ==, 0x1234);
    g_assert_cmphex(back->seg[TESS_CPU_DS].base, ==, 0x12340);
    g_assert_cmphex(back->seg[TESS_CPU_SS].base, ==, 0x20000);
    g_assert_cmphex(back->gdtr.base, ==, 0x5000);
    g_assert_cmphex(back->gdtr.limit, ==, 0x27);
    g_assert_cmphex(back->idtr.base, ==, 0x6000);
    g_assert_cmphex(back->idtr.limit, ==, 0x3FF);
    g_assert_cmphex(back->dr[0], ==, 0x7000);
    g_assert_cmphex(back->dr[7], ==, 0x401);
    g_assert_cmphex(back->cr2, ==, 0xABC000);
    g_assert_cmphex(find_msr(back, 0x174)->value, ==, 0x10);
    memcpy(&fcw, back->fpu, 2);
    g_assert_cmphex(fcw, ==, 0x027F);

    /* Refused: another layout, an MSR this model lacks. Nothing changes. */
    back->version = 99;
    g_assert_false(m->cpu_ops->set_state(m->cpu, back, &err));
    g_assert_error(err, TESS_STATE_ERROR, TESS_ERROR_INVALID);
    g_clear_error(&err);
    back->version = TESS_CPU_STATE_VERSION;
    back->msrs[back->nmsrs++] = (TessCpuMsr){ .index = 0xC0000080 };
    g_assert_false(m->cpu_ops->set_state(m->cpu, back, &err));
    g_assert_error(err, TESS_STATE_ERROR, TESS_ERROR_UNSUPPORTED);
    g_clear_error(&err);

    /* Reset brings back the power-on state, TSC included. */
    tess_device_reset(m->cpu);
    get_state(m, back);
    assert_reset_state(back, 0x0619);
    g_assert_cmphex(find_msr(back, 0x174)->value, ==, 0);
    memcpy(&fcw, back->fpu, 2);
    g_assert_cmphex(fcw, !=, 0x027F);
    tess_machine_free(m);
}

/* The TSC goes through the state and comes back to near zero at reset.
 * Some hosts (PVM) run guests on the host's TSC and ignore writes to it:
 * there the check cannot run, and says so (SKIP) instead of failing or
 * passing without checking. */
static void test_state_tsc(void)
{
    if (!kvm_usable())
        return;
    g_autoptr(GError) err = NULL;
    TessMachine *m = load("<machine><memory size='2M'/><cpu type='kvm' model='pentium-pro'/>"
                          "</machine>", false, &err);
    g_assert_no_error(err);
    g_autofree TessCpuState *st = g_new0(TessCpuState, 1);
    get_state(m, st);
    TessCpuMsr *tsc = (TessCpuMsr *)find_msr(st, 0x10);
    g_assert_nonnull(tsc);
    tsc->value = UINT64_C(1) << 40;
    g_assert_true(m->cpu_ops->set_state(m->cpu, st, &err));
    g_assert_no_error(err);
    g_autofree TessCpuState *back = g_new0(TessCpuState, 1);
    get_state(m, back);
    uint64_t tsc_back = find_msr(back, 0x10)->value;
    if (tsc_back < UINT64_C(1) << 40 || tsc_back >= (UINT64_C(1) << 40) + (UINT64_C(1) << 38)) {
        g_autofree char *why = g_strdup_printf("this host's KVM ignores TSC writes (wrote "
                                               "0x10000000000, read 0x%" G_GINT64_MODIFIER "x)",
                                               tsc_back);
        g_test_skip(why);
        tess_machine_free(m);
        return;
    }
    tess_device_reset(m->cpu);
    get_state(m, back);
    g_assert_cmphex(find_msr(back, 0x10)->value, <, UINT64_C(1) << 38);
    tess_machine_free(m);
}

static void test_models(void)
{
    if (!kvm_usable())
        return;
    static const struct { const char *model; uint32_t sig; bool p6_msrs; } cases[] = {
        { "486", 0x0422, false }, { "pentium", 0x052C, false }, { "pentium-pro", 0x0619, true },
        { "pentium-mmx", 0x0543, false }, { "pentium2", 0x0652, true },
        { "pentium3", 0x0683, true }, { "pentium4", 0x0F41, true },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        g_autofree char *xml = g_strdup_printf("<machine><memory size='1M'/>"
                                               "<cpu type='kvm' model='%s'/></machine>",
                                               cases[i].model);
        TessMachine *m = load(xml, false, &err);
        g_assert_no_error(err);
        g_autofree TessCpuState *st = g_new0(TessCpuState, 1);
        get_state(m, st);
        g_assert_cmphex(st->gpr[TESS_CPU_RDX], ==, cases[i].sig);
        g_assert_true((find_msr(st, 0x174) != NULL) == cases[i].p6_msrs);
        tess_machine_free(m);
    }
}

/* ---- running a guest -------------------------------------------------------- */

static void test_io_and_memory_map(void)
{
    if (!kvm_usable())
        return;
    Kvmt *t;
    TessMachine *m = guest_machine(&t);
    g_assert_cmpint(run_until(m, t, 1), ==, TESS_CPU_EXIT_LIMIT);
    g_assert_cmphex(t->reports->data[0], ==, 0xA5);

    /* RAM, written from the host side */
    TessMemPage p = tess_mem_page(m, 0x10000);
    g_assert_nonnull(p.write);
    p.write[0] = 0x11;
    g_assert_cmphex(command(m, t, 1), ==, 0x11);

    /* An MMIO region mapped over it: reads exit to the device... */
    g_autoptr(GError) err = NULL;
    g_assert_true(tess_mem_map(t->mmio, 0x10000, TESS_PRIO_DEVICE, TESS_MAP_RW, &err));
    g_assert_cmphex(command(m, t, 1), ==, 0x22);
    /* ...and so do writes */
    g_assert_cmphex(command(m, t, 6), ==, 0x06);
    g_assert_cmphex(t->mmio_written, ==, 0x177);
    g_assert_cmphex(p.write[0], ==, 0x11);
    /* Unmapped again: RAM as it was */
    tess_mem_unmap(t->mmio);
    g_assert_cmphex(command(m, t, 1), ==, 0x11);

    /* Reads from ROM, writes to RAM (PAM's write-only shadowing): the
     * guest reads the ROM, its write reaches the RAM underneath. */
    g_assert_true(tess_mem_map(t->rom, 0x10000, TESS_PRIO_CHIPSET, TESS_MAP_READ, &err));
    g_assert_cmphex(command(m, t, 1), ==, 0x33);
    g_assert_cmphex(command(m, t, 6), ==, 0x06);
    g_assert_cmphex(p.write[0], ==, 0x77);
    g_assert_cmphex(tess_mem_region_host(t->rom)[0], ==, 0x33);
    g_assert_cmphex(command(m, t, 1), ==, 0x33);
    tess_mem_unmap(t->rom);
    g_assert_cmphex(command(m, t, 1), ==, 0x77);

    /* ROM mapped for reads and writes: writes are dropped */
    g_assert_true(tess_mem_map(t->rom, 0x10000, TESS_PRIO_CHIPSET, TESS_MAP_RW, &err));
    g_assert_cmphex(command(m, t, 6), ==, 0x06);
    g_assert_cmphex(command(m, t, 1), ==, 0x33);
    g_assert_cmphex(p.write[0], ==, 0x77);
    tess_mem_unmap(t->rom);

    /* A string OUT arrives byte by byte, in order */
    g_assert_cmphex(command(m, t, 2), ==, 0x02);
    g_assert_cmpstr(t->str->str, ==, "abc");
    tess_machine_free(m);
}

static void test_a20(void)
{
    if (!kvm_usable())
        return;
    Kvmt *t;
    TessMachine *m = guest_machine(&t);
    run_until(m, t, 1);
    tess_mem_page(m, 0x000000).write[0] = 0xAA;
    tess_mem_page(m, 0x100000).write[0] = 0xBB;
    /* Not driven yet: enabled */
    g_assert_cmphex(command(m, t, 7), ==, 0xBB);
    /* Driven low: FFFF:0010 wraps to 0 */
    tess_signal_raise(t->a20);
    tess_signal_lower(t->a20);
    g_assert_cmphex(command(m, t, 7), ==, 0xAA);
    tess_signal_raise(t->a20);
    g_assert_cmphex(command(m, t, 7), ==, 0xBB);
    tess_machine_free(m);
}

static void test_halt_and_interrupt(void)
{
    if (!kvm_usable())
        return;
    Kvmt *t;
    TessMachine *m = guest_machine(&t);
    run_until(m, t, 1);

    /* CLI; HLT stays halted, however often it is run */
    t->cmd = 3;
    guint n = t->reports->len;
    g_assert_cmpint(run_until(m, t, n + 1), ==, TESS_CPU_EXIT_HALTED);
    g_assert_cmpint(run_until(m, t, n + 1), ==, TESS_CPU_EXIT_HALTED);
    g_autofree TessCpuState *st = g_new0(TessCpuState, 1);
    get_state(m, st);
    g_assert_true(st->flags & TESS_CPU_ST_HALTED);
    /* INTR with IF clear does not wake it, nor is it acknowledged */
    tess_signal_raise(t->irq);
    g_assert_cmpint(run_until(m, t, n + 1), ==, TESS_CPU_EXIT_HALTED);
    g_assert_cmpuint(t->acks, ==, 0);
    tess_signal_lower(t->irq);

    /* An NMI does wake it: its handler runs, then the HLT loop goes on */
    tess_signal_pulse(t->nmi);
    g_assert_cmpint(run_until(m, t, n + 1), ==, TESS_CPU_EXIT_LIMIT);
    g_assert_cmphex(t->reports->data[n], ==, 0x02);
    n++;
    g_assert_cmpint(run_until(m, t, n + 1), ==, TESS_CPU_EXIT_HALTED);
    g_assert_cmpuint(t->reports->len, ==, n);

    /* The reset line: back to the reset vector, running */
    tess_signal_raise(t->rst);
    tess_signal_lower(t->rst);
    get_state(m, st);
    assert_reset_state(st, 0x052C);
    g_assert_cmpint(run_until(m, t, n + 1), ==, TESS_CPU_EXIT_LIMIT);
    g_assert_cmphex(t->reports->data[n], ==, 0xA5);

    /* STI; HLT: halted until INTR, then one acknowledge, the vector's
     * handler, and the code after HLT */
    t->cmd = 4;
    n = t->reports->len;
    g_assert_cmpint(run_until(m, t, n + 1), ==, TESS_CPU_EXIT_HALTED);
    g_assert_cmpuint(t->reports->len, ==, n);
    tess_signal_raise(t->irq);
    run_until(m, t, n + 2);
    g_assert_cmpuint(t->acks, ==, 1);
    g_assert_cmpuint(t->reports->len, ==, n + 2);
    g_assert_cmphex(t->reports->data[n], ==, 0x40);
    g_assert_cmphex(t->reports->data[n + 1], ==, 0x44);
    tess_machine_free(m);
}

static void test_bounded_run(void)
{
    if (!kvm_usable())
        return;
    Kvmt *t;
    TessMachine *m = guest_machine(&t);
    run_until(m, t, 1);
    t->cmd = 8;     /* spin: no exits of its own */
    uint64_t last = m->cpu_ops->icount(m->cpu);
    for (int i = 0; i < 5; i++) {
        TessCpuRun run = { .icount_limit = last + 20000 };
        /* Returns by itself: the slice ends on the host clock. */
        g_assert_cmpint(m->cpu_ops->run(m->cpu, &run), ==, TESS_CPU_EXIT_LIMIT);
        uint64_t now = m->cpu_ops->icount(m->cpu);
        g_assert_cmpuint(now, >, last);
        last = now;
    }
    /* stop set: returns without running a full slice */
    TessCpuRun run = { .icount_limit = UINT64_MAX, .stop = 1 };
    g_assert_cmpint(m->cpu_ops->run(m->cpu, &run), ==, TESS_CPU_EXIT_LIMIT);
    g_assert_cmpuint(m->cpu_ops->icount(m->cpu), <, last + 20000);
    tess_machine_free(m);
}

static void test_vendor(void)
{
    if (!kvm_usable())
        return;
    Kvmt *t;
    TessMachine *m = guest_machine(&t);
    run_until(m, t, 1);
    g_assert_cmphex(command(m, t, 9), ==, 'G');     /* GenuineIntel, as the models */
    tess_machine_free(m);

    unsigned a, b, c, d;
    __cpuid(0, a, b, c, d);
    m = guest_machine_with(&t, "vendor='host'");
    run_until(m, t, 1);
    g_assert_cmphex(command(m, t, 9), ==, b & 0xFF);
    tess_machine_free(m);
}

/* Dirty logging of guest RAM: logged slots get KVM's own dirty log, which
 * the core pulls before every fetch; a write the guest makes at full speed
 * shows, pages it did not write stay clean. */
static void test_dirty_log(void)
{
    if (!kvm_usable())
        return;
    Kvmt *t;
    TessMachine *m = guest_machine(&t);
    g_assert_cmpint(run_until(m, t, 1), ==, TESS_CPU_EXIT_LIMIT);
    TessMemRegion *ram = tess_machine_ram(m);
    uint64_t pages = tess_mem_region_size(ram) / TESS_PAGE_SIZE;
    g_autofree uint64_t *bits = g_new0(uint64_t, (pages + 63) / 64);
    g_autoptr(GError) err = NULL;
    g_assert_true(tess_mem_log_start(ram, &err));
    g_assert_no_error(err);
    g_assert_true(tess_mem_log_fetch(ram, 0, pages * TESS_PAGE_SIZE, bits));
    g_assert_cmphex(bits[0], ==, UINT64_MAX);      /* a new log: all dirty */
    /* The page at 0x10000 is written with the slot logged by KVM (the
     * slots are re-derived at the next run, which keeps RAM writable). */
    g_assert_cmphex(command(m, t, 6), ==, 0x06);
    g_assert_cmphex(tess_mem_page_unlogged(m, 0x10000, &(bool){ false }).write[0], ==, 0x77);
    g_assert_true(tess_mem_log_fetch(ram, 0, pages * TESS_PAGE_SIZE, bits));
    g_assert_true(bits[0] & (UINT64_C(1) << 0x10));
    unsigned n = 0;
    for (uint64_t w = 0; w < (pages + 63) / 64; w++)
        n += (unsigned)__builtin_popcountll(bits[w]);
    g_assert_cmpuint(n, <, 8);         /* that page, maybe the stack: not all */
    /* A read leaves it clean. */
    g_assert_cmphex(command(m, t, 1), ==, 0x77);
    tess_mem_log_fetch(ram, 0x10000, TESS_PAGE_SIZE, bits);
    g_assert_cmphex(bits[0], ==, 0);
    /* And the next write shows again. */
    tess_mem_page_unlogged(m, 0x10000, &(bool){ false }).write[0] = 0;
    g_assert_cmphex(command(m, t, 6), ==, 0x06);
    tess_mem_log_fetch(ram, 0x10000, TESS_PAGE_SIZE, bits);
    g_assert_cmphex(bits[0], ==, 1);
    tess_mem_log_stop(ram);
    g_assert_cmphex(command(m, t, 1), ==, 0x77);
    tess_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_autoptr(GError) err = NULL;
    if (!tess_registry_add_builtin(th_registry(), &kt_class, &err))
        g_error("%s", err->message);
    g_test_add_func("/kvm/error/no-device", test_no_device);
    g_test_add_func("/kvm/error/no-permission", test_no_permission);
    g_test_add_func("/kvm/error/not-kvm", test_not_kvm);
    g_test_add_func("/kvm/error/deterministic", test_deterministic);
    g_test_add_func("/kvm/fallback", test_fallback);
    g_test_add_func("/kvm/state/roundtrip-and-reset", test_state);
    g_test_add_func("/kvm/state/tsc", test_state_tsc);
    g_test_add_func("/kvm/state/models", test_models);
    g_test_add_func("/kvm/run/io-and-memory-map", test_io_and_memory_map);
    g_test_add_func("/kvm/run/a20", test_a20);
    g_test_add_func("/kvm/run/dirty-log", test_dirty_log);
    g_test_add_func("/kvm/run/halt-interrupt-reset", test_halt_and_interrupt);
    g_test_add_func("/kvm/run/bounded", test_bounded_run);
    g_test_add_func("/kvm/run/cpuid-vendor", test_vendor);
    return g_test_run();
}
