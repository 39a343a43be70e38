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
#include "x86-jit.h"

typedef struct X86Dev {
    TessDevice dev;
    int model;
    int engine;
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

/* In X86_ENGINE_* order (x86-cpu.h). */
static const char *const x86_engines[] = { "interp", "jit", "lockstep", NULL };

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

static void *bus_mmio_page(void *opaque, uint64_t paddr, bool write, uint64_t *off)
{
    X86Dev *d = opaque;
    return tess_mem_page_mmio(d->dev.machine, paddr, write ? TESS_MAP_WRITE : TESS_MAP_READ,
                              off);
}

static uint64_t bus_mmio_read(void *handle, uint64_t off, unsigned size)
{
    return tess_mem_region_read(handle, off, size);
}

static void bus_mmio_write(void *handle, uint64_t off, uint64_t v, unsigned size)
{
    tess_mem_region_write(handle, off, v, size);
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
    x86_mem_changed(&d->cpu, start, len);
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

static bool x86p_get_state(TessDevice *dev, TessCpuState *st, GError **err);
static bool x86p_set_state(TessDevice *dev, const TessCpuState *st, GError **err);

static const TessCpuOps x86_cpu_ops = {
    .run = x86p_run,
    .icount = x86p_icount,
    .get_state = x86p_get_state,
    .set_state = x86p_set_state,
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
        .mmio_page = bus_mmio_page,
        .mmio_read = bus_mmio_read,
        .mmio_write = bus_mmio_write,
    };
    x86_init(&d->cpu, (X86Model)d->model, &bus);
    d->cpu.owner = d;
    /* (x86_run falls back to the interpreter where there is no translator) */
    d->cpu.engine = (uint8_t)d->engine;
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
    const X86JitStats *st = x86_jit_stats(&d->cpu);
    if (st)
        g_debug("translator: %llu blocks, %llu instructions inline, %llu as handler calls, "
                "%llu flushes, %llu blocks entered through a chain; lockstep compared "
                "%llu blocks, %llu differed",
                (unsigned long long)st->blocks, (unsigned long long)st->insns_inline,
                (unsigned long long)st->insns_call, (unsigned long long)st->flushes,
                (unsigned long long)st->chained,
                (unsigned long long)st->lockstep_blocks, (unsigned long long)st->lockstep_diffs);
    x86_fini(&d->cpu);
}

static bool x86p_pre_save(TessDevice *dev, GError **err)
{
    X86Dev *d = (X86Dev *)dev;
    x86_flags_sync(&d->cpu);
    if (d->cpu.inhibit && d->cpu.icount != d->cpu.inhibit_at)
        d->cpu.inhibit = false;     /* a shadow that has passed is none */
    return true;
}

/* Everything derived from the saved fields, recomputed. A snapshot is
 * untrusted input: values the core indexes by are clamped first. */
static void x86p_derive(X86Dev *d)
{
    X86Cpu *c = &d->cpu;
    c->r[EA_NONE] = 0;
    c->fpu.top &= 7;
    c->cpl &= 3;
    for (int i = 0; i < 8; i++)
        x86_seg_derive(c, i);
    x86_set_arith(c, c->eflags);
    c->a20_mask = c->a20 ? 0xFFFFFFFFu : 0xFFEFFFFFu;
    x86_set_cpl(c, c->cpl);
    x86_update_mode(c);
    x86_dr_update(c);
    x86_code_flush_all(c);
    c->inhibit_at = c->icount;      /* a saved shadow holds where it was saved */
    c->delivering = -1;
    c->shutdown = false;
    c->redirect = false;
}

static bool x86p_post_load(TessDevice *dev, uint32_t version, GError **err)
{
    X86Dev *d = (X86Dev *)dev;
    x86p_derive(d);
    /* FERR# is low while port 0xF0 holds IGNNE# asserted */
    tess_signal_set(d->ferr, d->cpu.fpu_ferr && !d->cpu.fpu_ignne);
    return true;
}

/* A segment register by its architectural parts (the derived bounds and
 * rights come back from x86_seg_derive; padding is never saved). */
#define X86_SEG(i)                                                     \
    TESS_STATE_U32(X86Dev, cpu.seg[i].base),                           \
    TESS_STATE_U32(X86Dev, cpu.seg[i].limit),                          \
    TESS_STATE_U32(X86Dev, cpu.seg[i].attr),                           \
    TESS_STATE_U16(X86Dev, cpu.seg[i].sel)

#define X86_F80(i)                                                     \
    TESS_STATE_U64(X86Dev, cpu.fpu.r[i].mant),                         \
    TESS_STATE_U16(X86Dev, cpu.fpu.r[i].se)

/* Every architectural field of X86Cpu; the rest (decoded code, TLBs, the
 * lazy-flag words, mode bits) is derived in post_load. */
static const TessStateField x86_state_fields[] = {
    TESS_STATE_ARRAY(TESS_STATE_T_U32, X86Dev, cpu.r, 9),
    TESS_STATE_U32(X86Dev, cpu.eip),
    TESS_STATE_U32(X86Dev, cpu.eflags),
    X86_SEG(0), X86_SEG(1), X86_SEG(2), X86_SEG(3),
    X86_SEG(4), X86_SEG(5), X86_SEG(6), X86_SEG(7),
    TESS_STATE_U32(X86Dev, cpu.gdt_base),
    TESS_STATE_U32(X86Dev, cpu.gdt_limit),
    TESS_STATE_U32(X86Dev, cpu.idt_base),
    TESS_STATE_U32(X86Dev, cpu.idt_limit),
    TESS_STATE_U32(X86Dev, cpu.cr0),
    TESS_STATE_U32(X86Dev, cpu.cr2),
    TESS_STATE_U32(X86Dev, cpu.cr3),
    TESS_STATE_U32(X86Dev, cpu.cr4),
    TESS_STATE_ARRAY(TESS_STATE_T_U32, X86Dev, cpu.dr, 8),
    TESS_STATE_BOOL(X86Dev, cpu.rf_loaded),
    TESS_STATE_U64(X86Dev, cpu.tsc_offset),
    TESS_STATE_U32(X86Dev, cpu.sysenter_cs),
    TESS_STATE_U32(X86Dev, cpu.sysenter_esp),
    TESS_STATE_U32(X86Dev, cpu.sysenter_eip),
    TESS_STATE_ARRAY(TESS_STATE_T_U64, X86Dev, cpu.mtrr, 0x30),
    TESS_STATE_U64(X86Dev, cpu.mc_addr),
    TESS_STATE_U64(X86Dev, cpu.mc_type),
    TESS_STATE_U32(X86Dev, cpu.cpl),
    X86_F80(0), X86_F80(1), X86_F80(2), X86_F80(3),
    X86_F80(4), X86_F80(5), X86_F80(6), X86_F80(7),
    TESS_STATE_U16(X86Dev, cpu.fpu.cw),
    TESS_STATE_U16(X86Dev, cpu.fpu.sw),
    TESS_STATE_U16(X86Dev, cpu.fpu.tw),
    TESS_STATE_U8(X86Dev, cpu.fpu.top),
    TESS_STATE_U16(X86Dev, cpu.fpu.fop),
    TESS_STATE_U16(X86Dev, cpu.fpu.fcs),
    TESS_STATE_U16(X86Dev, cpu.fpu.fds),
    TESS_STATE_U32(X86Dev, cpu.fpu.fip),
    TESS_STATE_U32(X86Dev, cpu.fpu.fdp),
    TESS_STATE_BUF(X86Dev, cpu.xmm),
    TESS_STATE_U32(X86Dev, cpu.mxcsr),
    TESS_STATE_U64(X86Dev, cpu.efer),
    TESS_STATE_BOOL(X86Dev, cpu.intr),
    TESS_STATE_BOOL(X86Dev, cpu.halted),
    TESS_STATE_BOOL(X86Dev, cpu.inhibit),
    TESS_STATE_BOOL(X86Dev, cpu.nmi_pending),
    TESS_STATE_BOOL(X86Dev, cpu.nmi_blocked),
    TESS_STATE_BOOL(X86Dev, cpu.a20),
    TESS_STATE_BOOL(X86Dev, a20_driven),
    TESS_STATE_BOOL(X86Dev, reset_level),
    TESS_STATE_BOOL(X86Dev, nmi_level),
    TESS_STATE_U64(X86Dev, cpu.icount),
    TESS_STATE_U64(X86Dev, cpu.pat),
    TESS_STATE_U64(X86Dev, cpu.misc_enable),
    TESS_STATE_ARRAY(TESS_STATE_T_U64, X86Dev, cpu.pdpte, 4),
    TESS_STATE_BOOL(X86Dev, cpu.db_trap),
    TESS_STATE_BOOL(X86Dev, cpu.fpu_ferr),
    TESS_STATE_BOOL(X86Dev, cpu.fpu_ignne),
    TESS_STATE_END,
};

static const TessStateDesc x86_state = {
    .version = 1,
    .fields = x86_state_fields,
    .pre_save = x86p_pre_save,
    .post_load = x86p_post_load,
};

/* ---- register state (cpu.h get_state / set_state) --------------------------- */

/* X86Seg.attr holds descriptor bits 40-47 at bits 8-15 and 52-55 at
 * 20-23; TessCpuSegment.attrib has them at 0-7 and 8-11. */
static void x86p_seg_out(const X86Seg *s, TessCpuSegment *o)
{
    o->base = s->base;
    o->limit = s->limit;
    o->selector = s->sel;
    o->attrib = (uint16_t)(((s->attr >> 8) & 0xFF) | (((s->attr >> 20) & 0xF) << 8));
}

static void x86p_seg_in(X86Seg *s, const TessCpuSegment *o)
{
    s->base = (uint32_t)o->base;
    s->limit = o->limit;
    s->sel = o->selector;
    s->attr = ((uint32_t)(o->attrib & 0xFF) << 8) | ((uint32_t)((o->attrib >> 8) & 0xF) << 20);
}

/* The MSRs a model has beyond the fields of TessCpuState (SDM vol. 4). */
static size_t x86p_msr_list(const X86Cpu *c, uint32_t *idx)
{
    size_t n = 0;
    idx[n++] = MSR_TSC;
    if (c->model == X86_MODEL_486)
        return n;
    idx[n++] = MSR_P5_MC_ADDR;
    idx[n++] = MSR_P5_MC_TYPE;
    if (c->feat_edx & CPUID_PAT)
        idx[n++] = MSR_PAT;
    if (c->feat_edx & CPUID_SEP) {
        idx[n++] = MSR_SYSENTER_CS;
        idx[n++] = MSR_SYSENTER_ESP;
        idx[n++] = MSR_SYSENTER_EIP;
    }
    if (!(c->feat_edx & CPUID_MTRR))
        return n;
    for (uint32_t i = 0; i < 16; i++)
        idx[n++] = 0x200 + i;
    idx[n++] = 0x250;
    idx[n++] = 0x258;
    idx[n++] = 0x259;
    for (uint32_t i = 0; i < 8; i++)
        idx[n++] = 0x268 + i;
    idx[n++] = MSR_MTRR_DEF;
    return n;
}

static uint64_t *x86p_msr_slot(X86Cpu *c, uint32_t msr)
{
    switch (msr) {
    case MSR_P5_MC_ADDR: return &c->mc_addr;
    case MSR_P5_MC_TYPE: return &c->mc_type;
    case MSR_PAT: return &c->pat;
    case 0x250: return &c->mtrr[16];
    case 0x258: return &c->mtrr[17];
    case 0x259: return &c->mtrr[18];
    case MSR_MTRR_DEF: return &c->mtrr[27];
    default:
        if (msr >= 0x200 && msr <= 0x20F)
            return &c->mtrr[msr - 0x200];
        if (msr >= 0x268 && msr <= 0x26F)
            return &c->mtrr[19 + (msr - 0x268)];
        return NULL;
    }
}

/* FXSAVE's abridged tag (SDM vol. 1, 10.5.1.1): 1 = not empty. */
static uint8_t x86p_ftw_abridged(uint16_t tw)
{
    uint8_t a = 0;
    for (int i = 0; i < 8; i++)
        if (((tw >> (2 * i)) & 3) != 3)
            a |= (uint8_t)(1u << i);
    return a;
}

/* The full tag FXRSTOR rebuilds from a register's contents (SDM vol. 1,
 * 8.1.7): zero, special (NaN, infinity, denormal, unnormal) or valid. */
static unsigned x86p_tag_of(const X86F80 *r)
{
    unsigned e = r->se & 0x7FFF;
    if (e == 0)
        return r->mant == 0 ? 1 : 2;
    if (e == 0x7FFF || !(r->mant >> 63))
        return 2;
    return 0;
}

static bool x86p_get_state(TessDevice *dev, TessCpuState *st, GError **err)
{
    X86Dev *d = (X86Dev *)dev;
    X86Cpu *c = &d->cpu;
    if (st->version != TESS_CPU_STATE_VERSION || st->size != sizeof(*st)) {
        g_set_error(err, TESS_STATE_ERROR, TESS_ERROR_UNSUPPORTED,
                    "CPU state layout %u/%u unknown to the x86 interpreter", st->version, st->size);
        return false;
    }
    uint32_t version = st->version, size = st->size;
    memset(st, 0, sizeof(*st));
    st->version = version;
    st->size = size;
    x86_flags_sync(c);
    bool shadow = c->inhibit && c->icount == c->inhibit_at;
    st->flags = (c->halted ? TESS_CPU_ST_HALTED : 0) | (shadow ? TESS_CPU_ST_INT_SHADOW : 0) |
                (c->nmi_pending ? TESS_CPU_ST_NMI_PENDING : 0) |
                (c->nmi_blocked ? TESS_CPU_ST_NMI_MASKED : 0);
    st->pending_irq = -1;
    for (int i = 0; i < 8; i++)
        st->gpr[i] = c->r[i];
    st->rip = c->eip;
    st->rflags = c->eflags;
    for (int i = 0; i < TESS_CPU_NSEGS; i++)
        x86p_seg_out(&c->seg[i], &st->seg[i]);
    x86p_seg_out(&c->seg[S_LDTR], &st->ldtr);
    x86p_seg_out(&c->seg[S_TR], &st->tr);
    st->gdtr.base = c->gdt_base;
    st->gdtr.limit = c->gdt_limit;
    st->idtr.base = c->idt_base;
    st->idtr.limit = c->idt_limit;
    st->cr0 = c->cr0;
    st->cr2 = c->cr2;
    st->cr3 = c->cr3;
    st->cr4 = c->cr4;
    st->efer = c->efer;
    for (int i = 0; i < 8; i++)
        st->dr[i] = i == 4 || i == 5 ? 0 : c->dr[i];
    uint32_t idx[TESS_CPU_STATE_MSRS];
    size_t n = x86p_msr_list(c, idx);
    for (size_t i = 0; i < n; i++) {
        st->msrs[i].index = idx[i];
        uint64_t *slot = x86p_msr_slot(c, idx[i]);
        st->msrs[i].value = idx[i] == MSR_TSC ? x86_tsc(c)
                          : idx[i] == MSR_SYSENTER_CS ? c->sysenter_cs
                          : idx[i] == MSR_SYSENTER_ESP ? c->sysenter_esp
                          : idx[i] == MSR_SYSENTER_EIP ? c->sysenter_eip
                          : slot ? *slot : 0;
    }
    st->nmsrs = (uint32_t)n;
    /* x87/MMX/SSE as the FXSAVE image (SDM vol. 1, table 10-2). */
    st->fpu_format = TESS_CPU_FPU_FXSAVE;
    st->fpu_size = 512;
    uint8_t *f = st->fpu;
    uint16_t sw = (uint16_t)((c->fpu.sw & ~0x3800u) | ((c->fpu.top & 7u) << 11));
    memcpy(f + 0, &c->fpu.cw, 2);
    memcpy(f + 2, &sw, 2);
    f[4] = x86p_ftw_abridged(c->fpu.tw);
    memcpy(f + 6, &c->fpu.fop, 2);
    memcpy(f + 8, &c->fpu.fip, 4);
    memcpy(f + 12, &c->fpu.fcs, 2);
    memcpy(f + 16, &c->fpu.fdp, 4);
    memcpy(f + 20, &c->fpu.fds, 2);
    memcpy(f + 24, &c->mxcsr, 4);
    uint32_t mask = (c->feat_edx & CPUID_SSE) ? 0xFFBFu : 0;
    memcpy(f + 28, &mask, 4);
    for (int i = 0; i < 8; i++) {
        const X86F80 *r = &c->fpu.r[(c->fpu.top + i) & 7];     /* ST(i) */
        memcpy(f + 32 + 16 * i, &r->mant, 8);
        memcpy(f + 40 + 16 * i, &r->se, 2);
    }
    for (int i = 0; i < 8; i++)
        memcpy(f + 160 + 16 * i, c->xmm[i].b, 16);
    return true;
}

static bool x86p_set_state(TessDevice *dev, const TessCpuState *st, GError **err)
{
    X86Dev *d = (X86Dev *)dev;
    X86Cpu *c = &d->cpu;
    if (st->version != TESS_CPU_STATE_VERSION || st->size != sizeof(*st)) {
        g_set_error(err, TESS_STATE_ERROR, TESS_ERROR_UNSUPPORTED,
                    "CPU state layout %u/%u unknown to the x86 interpreter", st->version, st->size);
        return false;
    }
    if (st->nmsrs > TESS_CPU_STATE_MSRS) {
        g_set_error(err, TESS_STATE_ERROR, TESS_ERROR_INVALID, "%u MSRs: at most %u",
                    st->nmsrs, TESS_CPU_STATE_MSRS);
        return false;
    }
    uint32_t idx[TESS_CPU_STATE_MSRS];
    size_t n = x86p_msr_list(c, idx);
    for (uint32_t i = 0; i < st->nmsrs; i++) {
        bool known = false;
        for (size_t k = 0; k < n && !known; k++)
            known = idx[k] == st->msrs[i].index;
        if (!known) {
            g_set_error(err, TESS_STATE_ERROR, TESS_ERROR_UNSUPPORTED,
                        "MSR 0x%x does not exist on this CPU model", st->msrs[i].index);
            return false;
        }
    }
    if (!((st->fpu_format == TESS_CPU_FPU_NONE && st->fpu_size == 0) ||
          ((st->fpu_format == TESS_CPU_FPU_FXSAVE || st->fpu_format == TESS_CPU_FPU_XSAVE) &&
           st->fpu_size >= 512 && st->fpu_size <= TESS_CPU_STATE_FPU_MAX))) {
        g_set_error(err, TESS_STATE_ERROR, TESS_ERROR_UNSUPPORTED,
                    "FPU state format %u (%u bytes) unknown", st->fpu_format, st->fpu_size);
        return false;
    }
    if (st->pending_irq >= 256 || st->pending_irq < -1) {
        g_set_error(err, TESS_STATE_ERROR, TESS_ERROR_INVALID, "pending interrupt %d",
                    st->pending_irq);
        return false;
    }
    /* Checked: now change the CPU. A vector taken from the intc but not
     * delivered has no place in the interpreter (it acknowledges and
     * delivers at once); such a state comes only from KVM, which
     * re-raises it through INTR, so it is not lost on the PIC side. */
    for (int i = 0; i < 8; i++)
        c->r[i] = (uint32_t)st->gpr[i];
    c->eip = (uint32_t)st->rip;
    c->eflags = ((uint32_t)st->rflags & 0x003F7FD5u) | 0x2u;
    for (int i = 0; i < TESS_CPU_NSEGS; i++)
        x86p_seg_in(&c->seg[i], &st->seg[i]);
    x86p_seg_in(&c->seg[S_LDTR], &st->ldtr);
    x86p_seg_in(&c->seg[S_TR], &st->tr);
    for (int i = 0; i < 8; i++)
        x86_seg_derive(c, i);
    c->gdt_base = (uint32_t)st->gdtr.base;
    c->gdt_limit = st->gdtr.limit;
    c->idt_base = (uint32_t)st->idtr.base;
    c->idt_limit = st->idtr.limit;
    c->cr0 = (uint32_t)st->cr0;
    c->cr2 = (uint32_t)st->cr2;
    c->cr3 = (uint32_t)st->cr3;
    c->cr4 = (uint32_t)st->cr4;
    c->efer = st->efer;
    for (int i = 0; i < 8; i++)
        c->dr[i] = i == 4 || i == 5 ? c->dr[i] : (uint32_t)st->dr[i];
    c->halted = st->flags & TESS_CPU_ST_HALTED;
    c->inhibit = st->flags & TESS_CPU_ST_INT_SHADOW;
    c->inhibit_at = c->icount;
    c->nmi_pending = st->flags & TESS_CPU_ST_NMI_PENDING;
    c->nmi_blocked = st->flags & TESS_CPU_ST_NMI_MASKED;
    c->rf_loaded = false;
    /* CPL is the DPL of SS in protected mode, 0 in real mode, 3 in V86. */
    c->cpl = !(c->cr0 & CR0_PE) ? 0 : (c->eflags & F_VM) ? 3
           : (int)((st->seg[TESS_CPU_SS].attrib & TESS_SEG_DPL) >> TESS_SEG_DPL_SHIFT);
    for (uint32_t i = 0; i < st->nmsrs; i++) {
        uint32_t msr = st->msrs[i].index;
        uint64_t v = st->msrs[i].value;
        uint64_t *slot = x86p_msr_slot(c, msr);
        if (msr == MSR_SYSENTER_CS) c->sysenter_cs = (uint32_t)v;
        else if (msr == MSR_SYSENTER_ESP) c->sysenter_esp = (uint32_t)v;
        else if (msr == MSR_SYSENTER_EIP) c->sysenter_eip = (uint32_t)v;
        else if (slot) *slot = v;
    }
    if (st->fpu_size >= 512) {
        const uint8_t *f = st->fpu;
        uint16_t sw;
        memcpy(&c->fpu.cw, f + 0, 2);
        memcpy(&sw, f + 2, 2);
        c->fpu.top = (sw >> 11) & 7;
        c->fpu.sw = sw & ~0x3800u;
        memcpy(&c->fpu.fop, f + 6, 2);
        c->fpu.fop &= 0x7FF;
        memcpy(&c->fpu.fip, f + 8, 4);
        memcpy(&c->fpu.fcs, f + 12, 2);
        memcpy(&c->fpu.fdp, f + 16, 4);
        memcpy(&c->fpu.fds, f + 20, 2);
        memcpy(&c->mxcsr, f + 24, 4);
        for (int i = 0; i < 8; i++) {
            X86F80 *r = &c->fpu.r[(c->fpu.top + i) & 7];
            memcpy(&r->mant, f + 32 + 16 * i, 8);
            memcpy(&r->se, f + 40 + 16 * i, 2);
        }
        uint16_t tw = 0;
        for (int p = 0; p < 8; p++) {
            /* the abridged tag is by physical register */
            unsigned t = (f[4] >> p) & 1 ? x86p_tag_of(&c->fpu.r[p]) : 3;
            tw |= (uint16_t)(t << (2 * p));
        }
        c->fpu.tw = tw;
        for (int i = 0; i < 8; i++)
            memcpy(c->xmm[i].b, f + 160 + 16 * i, 16);
    }
    x86p_derive(d);
    /* after derive: the TSC follows virtual time from here */
    for (uint32_t i = 0; i < st->nmsrs; i++)
        if (st->msrs[i].index == MSR_TSC)
            c->tsc_offset = st->msrs[i].value - (x86_tsc(c) - c->tsc_offset);
    return true;
}

static const TessPropSpec x86_props[] = {
    TESS_PROP_ENUM_("model", X86Dev, model, "pentium", x86_models,
                    "processor model: CPUID, MSRs and instruction set"),
    /* the translator where the host has one (x86-64 Linux); x86_run
     * falls back to the interpreter when its code buffer cannot be set up */
    TESS_PROP_ENUM_("engine", X86Dev, engine, X86_HAVE_JIT ? "jit" : "interp", x86_engines,
                    "execution engine: jit (translation to x86-64 host code, the default "
                    "on x86-64 Linux hosts; the interpreter elsewhere), interp (interpreter), "
                    "lockstep (both, compared after every replayable block; for tests)"),
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
