/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The "x86" CPU class: binds the interpreter core to the machine fabric.
 *
 * A20: the gate follows the "a20" input level once anything has driven
 * that line (port 0x92, the keyboard controller); until then it is
 * enabled, so a machine that wires nothing to it behaves like a 386+
 * with A20 always on. A wired gate starts low (disabled), as on a PC.
 */
#define G_LOG_DOMAIN "x86"
#include <tessera/tessera.h>
#include "x86-cpu.h"
#include "x86-fpu.h"

typedef struct X86Dev {
    TessDevice dev;
    int model;
    bool a20_driven;
    bool reset_level;
    bool nmi_level;
    TessDevice *intc;
    const TessIntcOps *intc_ops;
    bool intc_missing;
    TessSignal *ferr;       /* FERR# (x87 error, CR0.NE=0), the PC's IRQ13 */
    X86Cpu cpu;
} X86Dev;

/* In X86Model order; the names are x86_model_info's. */
static const char *const x86_models[] = {
    "486", "pentium", "pentium-pro", "pentium-mmx", "pentium2", "pentium3", "pentium4", NULL
};
G_STATIC_ASSERT(G_N_ELEMENTS(x86_models) == X86_MODEL_COUNT + 1);

/* ---- bus ----------------------------------------------------------------- */

static void bus_page(void *opaque, uint64_t paddr, uint8_t **rd, uint8_t **wr)
{
    X86Dev *d = opaque;
    TessMemPage p = tess_mem_page(d->dev.machine, paddr);
    *rd = p.read;
    *wr = p.write;
}

static uint64_t bus_mem_read(void *opaque, uint64_t paddr, unsigned size)
{
    X86Dev *d = opaque;
    return tess_mem_read(d->dev.machine, paddr, size);
}

static void bus_mem_write(void *opaque, uint64_t paddr, uint64_t v, unsigned size)
{
    X86Dev *d = opaque;
    tess_mem_write(d->dev.machine, paddr, v, size);
}

static void bus_ferr(void *opaque, bool level)
{
    X86Dev *d = opaque;
    tess_signal_set(d->ferr, level);
}

/* Port 0xF0 (PC/AT): a write clears the FERR# latch and asserts IGNNE#
 * until the handler clears the error (FNCLEX/FNINIT drop FERR#). On the
 * AT this is board logic next to the 287/387 socket; it lives here with
 * the CPU so that IGNNE# stays an internal path and any machine gets it
 * with one wire. Only a CPU with an FPU claims the port. */
static uint64_t f0_read(void *opaque, uint64_t offset, unsigned size)
{
    return 0xFF;
}

static void f0_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    X86Dev *d = opaque;
    x86_fpu_ignne(&d->cpu);
}

static const TessIoOps f0_ops = { .read = f0_read, .write = f0_write, .widths = TESS_W8 };

static uint32_t bus_io_read(void *opaque, uint32_t port, unsigned size)
{
    X86Dev *d = opaque;
    return tess_pio_read(d->dev.machine, port, size);
}

static void bus_io_write(void *opaque, uint32_t port, uint32_t v, unsigned size)
{
    X86Dev *d = opaque;
    tess_pio_write(d->dev.machine, port, v, size);
}

static uint8_t bus_intack(void *opaque)
{
    X86Dev *d = opaque;
    if (!d->intc && !d->intc_missing) {
        g_autoptr(GError) err = NULL;
        d->intc = tess_device_find_provider(&d->dev, TESS_IFACE_INTC, NULL, &err);
        if (d->intc)
            d->intc_ops = tess_device_interface(d->intc, TESS_IFACE_INTC);
        if (!d->intc || !d->intc_ops) {
            d->intc = NULL;
            d->intc_missing = true;
            g_warning("cpu: INTR raised but the machine has no interrupt controller");
        }
    }
    if (!d->intc_ops)
        return 0xFF;
    return d->intc_ops->ack(d->intc);
}

static uint64_t bus_clock(void *opaque)
{
    X86Dev *d = opaque;
    return tess_clock_ns(d->dev.machine);
}

/* ---- memory listener ------------------------------------------------------ */

static void lst_map_changed(void *opaque, uint64_t start, uint64_t len)
{
    X86Dev *d = opaque;
    (void)start;
    (void)len;
    x86_code_flush_all(&d->cpu);
}

static void lst_ram_written(void *opaque, uint64_t start, uint64_t len)
{
    X86Dev *d = opaque;
    x86_code_invalidate(&d->cpu, start, len);
}

static const TessMemListener x86_listener = {
    .map_changed = lst_map_changed,
    .ram_written = lst_ram_written,
};

/* ---- lines ---------------------------------------------------------------- */

static void line_intr(TessDevice *dev, unsigned n, bool level)
{
    X86Dev *d = (X86Dev *)dev;
    d->cpu.intr = level;
    if (level)
        x86_break(&d->cpu);
}

static void line_nmi(TessDevice *dev, unsigned n, bool level)
{
    X86Dev *d = (X86Dev *)dev;
    if (level && !d->nmi_level) {
        d->cpu.nmi_pending = true;
        x86_break(&d->cpu);
    }
    d->nmi_level = level;
}

static void line_reset(TessDevice *dev, unsigned n, bool level)
{
    X86Dev *d = (X86Dev *)dev;
    if (level && !d->reset_level) {
        x86_reset(&d->cpu);
        x86_break(&d->cpu);
    }
    d->reset_level = level;
}

static void line_a20(TessDevice *dev, unsigned n, bool level)
{
    X86Dev *d = (X86Dev *)dev;
    d->a20_driven = true;
    x86_set_a20(&d->cpu, level);
}

static const TessLineSpec x86_lines[] = {
    TESS_LINE_IN_("intr", 1, line_intr, "maskable interrupt request (level)"),
    TESS_LINE_IN_("nmi", 1, line_nmi, "non-maskable interrupt (rising edge)"),
    TESS_LINE_IN_("reset", 1, line_reset, "rising edge resets the CPU only"),
    TESS_LINE_IN_("a20", 1, line_a20, "A20 gate (high = enabled; enabled until first driven)"),
    TESS_LINE_OUT_("ferr", 1, X86Dev, ferr, "FERR#: x87 error with CR0.NE=0 (PC: IRQ13); port 0xF0 clears it"),
    TESS_LINE_END,
};

/* ---- cpu interface ----------------------------------------------------------- */

static TessCpuExit x86p_run(TessDevice *dev, TessCpuRun *run)
{
    X86Dev *d = (X86Dev *)dev;
    switch (x86_run(&d->cpu, &run->icount_limit, &run->stop)) {
    case X86_EXIT_HALTED: return TESS_CPU_EXIT_HALTED;
    case X86_EXIT_SHUTDOWN: return TESS_CPU_EXIT_SHUTDOWN;
    default: return TESS_CPU_EXIT_LIMIT;
    }
}

static uint64_t x86p_icount(TessDevice *dev)
{
    return x86_icount(&((X86Dev *)dev)->cpu);
}

static const TessCpuOps x86_cpu_ops = {
    .run = x86p_run,
    .icount = x86p_icount,
};

/* ---- class ------------------------------------------------------------------ */

static bool x86p_realize(TessDevice *dev, GError **err)
{
    X86Dev *d = (X86Dev *)dev;
    X86Bus bus = {
        .opaque = d,
        .page = bus_page,
        .mem_read = bus_mem_read,
        .mem_write = bus_mem_write,
        .io_read = bus_io_read,
        .io_write = bus_io_write,
        .intack = bus_intack,
        .clock_ns = bus_clock,
        .ferr = bus_ferr,
    };
    x86_init(&d->cpu, (X86Model)d->model, &bus);
    d->cpu.owner = d;
    if ((d->cpu.feat_edx & CPUID_FPU) && !tess_pio_map(dev, 0xF0, 1, &f0_ops, d, err))
        return false;
    tess_mem_add_listener(dev->machine, &x86_listener, d);
    return true;
}

static void x86p_reset(TessDevice *dev)
{
    X86Dev *d = (X86Dev *)dev;
    uint64_t ic = d->cpu.icount;
    x86_reset(&d->cpu);
    d->cpu.icount = ic;     /* retired instructions keep counting: time is monotonic */
    x86_set_a20(&d->cpu, d->a20_driven ? tess_device_input_level(dev, "a20") : true);
    d->cpu.intr = tess_device_input_level(dev, "intr");
}

static void x86p_unrealize(TessDevice *dev)
{
    X86Dev *d = (X86Dev *)dev;
    tess_mem_remove_listener(dev->machine, &x86_listener, d);
    x86_fini(&d->cpu);
}

static bool x86p_pre_save(TessDevice *dev, GError **err)
{
    X86Dev *d = (X86Dev *)dev;
    x86_flags_sync(&d->cpu);
    return true;
}

static bool x86p_post_load(TessDevice *dev, uint32_t version, GError **err)
{
    X86Dev *d = (X86Dev *)dev;
    X86Cpu *c = &d->cpu;
    x86_set_arith(c, c->eflags);
    c->a20_mask = c->a20 ? 0xFFFFFFFFu : 0xFFEFFFFFu;
    x86_set_cpl(c, c->cpl);
    x86_update_mode(c);
    x86_dr_update(c);
    x86_code_flush_all(c);
    c->delivering = -1;
    /* FERR# is low while port 0xF0 holds IGNNE# asserted */
    tess_signal_set(d->ferr, c->fpu_ferr && !c->fpu_ignne);
    return true;
}

static const TessStateField x86_state_fields[] = {
    TESS_STATE_ARRAY(TESS_STATE_T_U32, X86Dev, cpu.r, 8),
    TESS_STATE_U32(X86Dev, cpu.eip),
    TESS_STATE_U32(X86Dev, cpu.eflags),
    TESS_STATE_BUF(X86Dev, cpu.seg),
    TESS_STATE_U32(X86Dev, cpu.gdt_base),
    TESS_STATE_U32(X86Dev, cpu.gdt_limit),
    TESS_STATE_U32(X86Dev, cpu.idt_base),
    TESS_STATE_U32(X86Dev, cpu.idt_limit),
    TESS_STATE_U32(X86Dev, cpu.cr0),
    TESS_STATE_U32(X86Dev, cpu.cr2),
    TESS_STATE_U32(X86Dev, cpu.cr3),
    TESS_STATE_U32(X86Dev, cpu.cr4),
    TESS_STATE_ARRAY(TESS_STATE_T_U32, X86Dev, cpu.dr, 8),
    TESS_STATE_U64(X86Dev, cpu.tsc_offset),
    TESS_STATE_U32(X86Dev, cpu.sysenter_cs),
    TESS_STATE_U32(X86Dev, cpu.sysenter_esp),
    TESS_STATE_U32(X86Dev, cpu.sysenter_eip),
    TESS_STATE_ARRAY(TESS_STATE_T_U64, X86Dev, cpu.mtrr, 0x30),
    TESS_STATE_U32(X86Dev, cpu.cpl),
    TESS_STATE_U8(X86Dev, cpu.halted),
    TESS_STATE_U8(X86Dev, cpu.inhibit),
    TESS_STATE_U8(X86Dev, cpu.nmi_pending),
    TESS_STATE_U8(X86Dev, cpu.nmi_blocked),
    TESS_STATE_U8(X86Dev, cpu.a20),
    TESS_STATE_U8(X86Dev, a20_driven),
    TESS_STATE_U64(X86Dev, cpu.icount),
    { .name = "cpu.efer", .type = TESS_STATE_T_U64, .offset = offsetof(X86Dev, cpu.efer),
      .size = 1, .since = 2 },
    { .name = "cpu.pat", .type = TESS_STATE_T_U64, .offset = offsetof(X86Dev, cpu.pat),
      .size = 1, .since = 2 },
    { .name = "cpu.misc_enable", .type = TESS_STATE_T_U64,
      .offset = offsetof(X86Dev, cpu.misc_enable), .size = 1, .since = 2 },
    { .name = "cpu.pdpte", .type = TESS_STATE_T_U64, .offset = offsetof(X86Dev, cpu.pdpte),
      .size = 4, .since = 2 },
    { .name = "cpu.db_trap", .type = TESS_STATE_T_U8, .offset = offsetof(X86Dev, cpu.db_trap),
      .size = 1, .since = 2 },
    { .name = "cpu.fpu", .type = TESS_STATE_T_BUF, .offset = offsetof(X86Dev, cpu.fpu),
      .size = sizeof(X86Fpu), .since = 2 },
    { .name = "cpu.fpu_ferr", .type = TESS_STATE_T_U8, .offset = offsetof(X86Dev, cpu.fpu_ferr),
      .size = 1, .since = 2 },
    { .name = "cpu.fpu_ignne", .type = TESS_STATE_T_U8, .offset = offsetof(X86Dev, cpu.fpu_ignne),
      .size = 1, .since = 2 },
    TESS_STATE_END,
};

static const TessStateDesc x86_state = {
    .version = 2,
    .fields = x86_state_fields,
    .pre_save = x86p_pre_save,
    .post_load = x86p_post_load,
};

static const TessPropSpec x86_props[] = {
    TESS_PROP_ENUM_("model", X86Dev, model, "pentium", x86_models,
                    "processor model: CPUID, MSRs and instruction set"),
    TESS_PROP_END,
};

static const TessIfaceSpec x86_provides[] = {
    { TESS_IFACE_CPU, &x86_cpu_ops },
    TESS_IFACE_END,
};

static const char *const x86_needs[] = { TESS_IFACE_INTC, NULL };

static const TessDeviceClass x86_class = {
    .type = "x86",
    .kind = TESS_CLASS_CPU,
    .doc = "x86 interpreter (486SX without an FPU; Pentium and Pentium Pro with the x87)",
    .instance_size = sizeof(X86Dev),
    .props = x86_props,
    .lines = x86_lines,
    .provides = x86_provides,
    .needs = x86_needs,
    .state = &x86_state,
    .realize = x86p_realize,
    .reset = x86p_reset,
    .unrealize = x86p_unrealize,
};

static bool x86_plugin_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &x86_class, err);
}

TESS_PLUGIN_DEFINE("x86", "0.1.0", "LGPL-2.1-or-later",
                   "x86 CPU interpreter", x86_plugin_init);
