/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kvm CPU's processor model and register state: CPUID filtered to the
 * model the machine file asks for, the reset state, and the register
 * state behind TessCpuOps get_state / set_state.
 *
 * CPUID presents the same processor as the x86 interpreter's model of the
 * same name (Intel processor identification, AP-485): vendor, signature,
 * maximum leaf and feature flags, each feature also limited to what this
 * host's KVM supports. So a guest sees one processor whichever CPU class
 * runs it, and the differences left are those of the hardware underneath:
 * KVM always executes x87 instructions (the interpreter has no FPU yet and
 * CPUID says so on both), RDTSC exists on the 486 model, and MSRs are
 * KVM's.
 */
#define G_LOG_DOMAIN "kvm"
#include "kvm-cpu.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

/* CPUID.1:EDX bits (SDM vol. 2A, CPUID, table 3-11) */
#define CPUID_DE    (1u << 2)
#define CPUID_PSE   (1u << 3)
#define CPUID_TSC   (1u << 4)
#define CPUID_MSR   (1u << 5)
#define CPUID_PAE   (1u << 6)
#define CPUID_MCE   (1u << 7)
#define CPUID_CX8   (1u << 8)
#define CPUID_SEP   (1u << 11)
#define CPUID_MTRR  (1u << 12)
#define CPUID_PGE   (1u << 13)
#define CPUID_CMOV  (1u << 15)
#define CPUID_PAT   (1u << 16)
#define CPUID_PSE36 (1u << 17)

typedef struct {
    const char *name;
    uint32_t signature;     /* CPUID.1:EAX: family, model, stepping */
    uint32_t edx;           /* CPUID.1:EDX */
    uint32_t max_leaf;
    uint32_t leaf2_eax, leaf2_edx;      /* cache descriptors (max_leaf 2) */
} ModelInfo;

#define P5_FEATURES (CPUID_DE | CPUID_PSE | CPUID_TSC | CPUID_MSR | CPUID_MCE | CPUID_CX8)
#define P6_FEATURES (P5_FEATURES | CPUID_PAE | CPUID_SEP | CPUID_MTRR | CPUID_PGE | CPUID_CMOV)
/* (the interpreter's pentium4 also has the extended leaves: NX and its
 * brand string; these leaves are not set here) */
static const ModelInfo models[KVM_MODEL_COUNT] = {
    [KVM_MODEL_486] = { "486", 0x0422, 0, 1, 0, 0 },
    [KVM_MODEL_PENTIUM] = { "pentium", 0x052C, P5_FEATURES, 1, 0, 0 },
    [KVM_MODEL_PPRO] = { "pentium-pro", 0x0619, P6_FEATURES, 2, 0x03020101, 0x06040A42 },
    [KVM_MODEL_PMMX] = { "pentium-mmx", 0x0543, P5_FEATURES, 1, 0, 0 },
    [KVM_MODEL_P2] = { "pentium2", 0x0652, P6_FEATURES | CPUID_PAT | CPUID_PSE36,
                       2, 0x03020101, 0x0C040843 },
    [KVM_MODEL_P3] = { "pentium3", 0x0683, P6_FEATURES | CPUID_PAT | CPUID_PSE36,
                       2, 0x03020101, 0x0C040882 },
    [KVM_MODEL_P4] = { "pentium4", 0x0F41, P6_FEATURES | CPUID_PAT | CPUID_PSE36,
                       2, 0x605B5001, 0x007C7040 },
};

/* MSRs carried in TessCpuState and reset with the vCPU, with the models
 * that have them (bit per KvmModel). The TSC is listed for every model
 * because KVM's guest always has one and save/restore needs it. */
#define M_ALL  ((1u << KVM_MODEL_COUNT) - 1)
#define M_P6   ((1u << KVM_MODEL_PPRO) | (1u << KVM_MODEL_P2) | (1u << KVM_MODEL_P3) \
                | (1u << KVM_MODEL_P4))
#define M_PAT  ((1u << KVM_MODEL_P2) | (1u << KVM_MODEL_P3) | (1u << KVM_MODEL_P4))
static const struct { uint32_t index; unsigned models; } msr_list[] = {
    { 0x010, M_ALL },                                   /* IA32_TIME_STAMP_COUNTER */
    { 0x174, M_P6 }, { 0x175, M_P6 }, { 0x176, M_P6 },  /* IA32_SYSENTER_CS/ESP/EIP */
    { 0x2FF, M_P6 },                                    /* IA32_MTRR_DEF_TYPE */
    { 0x200, M_P6 }, { 0x201, M_P6 }, { 0x202, M_P6 }, { 0x203, M_P6 },   /* PHYSBASE/MASK */
    { 0x204, M_P6 }, { 0x205, M_P6 }, { 0x206, M_P6 }, { 0x207, M_P6 },
    { 0x208, M_P6 }, { 0x209, M_P6 }, { 0x20A, M_P6 }, { 0x20B, M_P6 },
    { 0x20C, M_P6 }, { 0x20D, M_P6 }, { 0x20E, M_P6 }, { 0x20F, M_P6 },
    { 0x250, M_P6 }, { 0x258, M_P6 }, { 0x259, M_P6 },                    /* fixed ranges */
    { 0x268, M_P6 }, { 0x269, M_P6 }, { 0x26A, M_P6 }, { 0x26B, M_P6 },
    { 0x26C, M_P6 }, { 0x26D, M_P6 }, { 0x26E, M_P6 }, { 0x26F, M_P6 },
    { 0x277, M_PAT },                                   /* IA32_PAT */
};
#define MSR_TSC 0x10u

static bool vcpu_ioctl(KvmCpu *d, unsigned long req, void *arg, const char *what,
                       GError **err)
{
    if (ioctl(d->vcpu_fd, req, arg) >= 0)
        return true;
    int e = errno;
    g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO, "%s: KVM %s failed: %s",
                d->dev.id, what, g_strerror(e));
    return false;
}

/* ---- CPUID ------------------------------------------------------------------ */

static struct kvm_cpuid2 *supported_cpuid(KvmCpu *d, GError **err)
{
    for (uint32_t n = 64; n <= 4096; n *= 2) {
        struct kvm_cpuid2 *c = g_malloc0(sizeof(*c) + n * sizeof(c->entries[0]));
        c->nent = n;
        if (ioctl(d->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
            return c;
        int e = errno;
        g_free(c);
        if (e != E2BIG) {
            g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO,
                        "%s: KVM_GET_SUPPORTED_CPUID failed: %s", d->dev.id, g_strerror(e));
            return NULL;
        }
    }
    g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO,
                "%s: KVM_GET_SUPPORTED_CPUID lists too many leaves", d->dev.id);
    return NULL;
}

static const struct kvm_cpuid_entry2 *find_leaf(const struct kvm_cpuid2 *c, uint32_t fn)
{
    for (uint32_t i = 0; i < c->nent; i++)
        if (c->entries[i].function == fn && c->entries[i].index == 0)
            return &c->entries[i];
    return NULL;
}

bool kvm_setup_cpuid(KvmCpu *d, GError **err)
{
    g_autofree struct kvm_cpuid2 *sup = supported_cpuid(d, err);
    if (!sup)
        return false;
    const ModelInfo *mi = &models[d->model];
    const struct kvm_cpuid_entry2 *s0 = find_leaf(sup, 0), *s1 = find_leaf(sup, 1);

    g_autofree struct kvm_cpuid2 *c = g_malloc0(sizeof(*c) + 3 * sizeof(c->entries[0]));
    struct kvm_cpuid_entry2 *e = c->entries;
    e[0].function = 0;
    e[0].eax = mi->max_leaf;
    if (d->vendor == KVM_VENDOR_HOST && s0) {
        e[0].ebx = s0->ebx;
        e[0].ecx = s0->ecx;
        e[0].edx = s0->edx;
    } else {
        e[0].ebx = 0x756E6547;      /* "Genu" */
        e[0].edx = 0x49656E69;      /* "ineI" */
        e[0].ecx = 0x6C65746E;      /* "ntel" */
    }
    e[1].function = 1;
    e[1].eax = mi->signature;
    e[1].edx = mi->edx & (s1 ? s1->edx : 0);
    c->nent = 2;
    if (mi->max_leaf >= 2) {
        e[2].function = 2;
        e[2].eax = mi->leaf2_eax;
        e[2].edx = mi->leaf2_edx;
        c->nent = 3;
    }
    if (mi->edx & ~e[1].edx)
        g_message("%s: this host's KVM lacks CPUID.1:EDX features 0x%x of model %s",
                  d->dev.id, mi->edx & ~e[1].edx, mi->name);
    d->signature = mi->signature;
    if (!vcpu_ioctl(d, KVM_SET_CPUID2, c, "KVM_SET_CPUID2", err))
        return false;

    /* Some hosts (PVM, which runs guests without VMX/SVM) replace the
     * feature flags with their own: say so, as guests will see them. */
    g_autofree struct kvm_cpuid2 *back = g_malloc0(sizeof(*back) + 64 * sizeof(back->entries[0]));
    back->nent = 64;
    if (ioctl(d->vcpu_fd, KVM_GET_CPUID2, back) == 0) {
        const struct kvm_cpuid_entry2 *b1 = find_leaf(back, 1);
        if (b1 && (b1->edx != e[1].edx || b1->ecx != e[1].ecx))
            g_message("%s: this host's KVM overrides CPUID leaf 1 features (EDX 0x%08x ECX "
                      "0x%08x instead of 0x%08x 0)", d->dev.id, b1->edx, b1->ecx, e[1].edx);
    }
    return true;
}

/* ---- MSRs --------------------------------------------------------------------- */

typedef struct {
    struct kvm_msrs hdr;
    struct kvm_msr_entry e[KVM_MAX_MSRS];
} MsrBuf;

/* Read d->nmsrs MSRs (the model's list) into vals. */
static bool msrs_read(KvmCpu *d, uint64_t *vals, GError **err)
{
    MsrBuf b = { .hdr.nmsrs = d->nmsrs };
    for (unsigned i = 0; i < d->nmsrs; i++)
        b.e[i].index = d->msr_index[i];
    int r = ioctl(d->vcpu_fd, KVM_GET_MSRS, &b);
    if (r != (int)d->nmsrs) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO, "%s: KVM_GET_MSRS read %d of %u",
                    d->dev.id, r, d->nmsrs);
        return false;
    }
    for (unsigned i = 0; i < d->nmsrs; i++)
        vals[i] = b.e[i].data;
    return true;
}

static bool msrs_write(KvmCpu *d, const uint32_t *idx, const uint64_t *vals, unsigned n,
                       GError **err)
{
    MsrBuf b = { .hdr.nmsrs = n };
    for (unsigned i = 0; i < n; i++) {
        b.e[i].index = idx[i];
        b.e[i].data = vals[i];
    }
    int r = ioctl(d->vcpu_fd, KVM_SET_MSRS, &b);
    if (r != (int)n) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_INVALID,
                    "%s: KVM refused MSR 0x%x = 0x%" G_GINT64_MODIFIER "x", d->dev.id,
                    r >= 0 && (unsigned)r < n ? idx[r] : 0,
                    r >= 0 && (unsigned)r < n ? vals[r] : 0);
        return false;
    }
    return true;
}

/* ---- reset ------------------------------------------------------------------------ */

/*
 * The vCPU as KVM creates it is in the processor's power-on state (SDM
 * vol. 3, table 9-1: CS F000 with base FFFF0000, IP FFF0, CR0 60000010,
 * EFLAGS 2, DR7 400): keep that, with EDX holding the model's signature,
 * as the template every reset goes back to.
 */
bool kvm_setup_reset_state(KvmCpu *d, GError **err)
{
    if (!vcpu_ioctl(d, KVM_GET_REGS, &d->reset_regs, "KVM_GET_REGS", err) ||
        !vcpu_ioctl(d, KVM_GET_SREGS, &d->reset_sregs, "KVM_GET_SREGS", err) ||
        !vcpu_ioctl(d, KVM_GET_FPU, &d->reset_fpu, "KVM_GET_FPU", err))
        return false;
    if (d->have_debugregs &&
        !vcpu_ioctl(d, KVM_GET_DEBUGREGS, &d->reset_dregs, "KVM_GET_DEBUGREGS", err))
        return false;
    d->reset_regs.rdx = d->signature;

    /* Keep the MSRs this model has that this KVM lets us read. */
    d->nmsrs = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(msr_list) && d->nmsrs < KVM_MAX_MSRS; i++) {
        if (!(msr_list[i].models & (1u << d->model)))
            continue;
        MsrBuf b = { .hdr.nmsrs = 1, .e[0].index = msr_list[i].index };
        if (ioctl(d->vcpu_fd, KVM_GET_MSRS, &b) != 1)
            continue;
        d->msr_index[d->nmsrs] = msr_list[i].index;
        d->msr_reset[d->nmsrs] = b.e[0].data;
        d->nmsrs++;
    }
    return true;
}

bool kvm_reset_vcpu(KvmCpu *d, GError **err)
{
    kvm_complete_io(d);
    struct kvm_regs regs = d->reset_regs;
    struct kvm_sregs sregs = d->reset_sregs;
    struct kvm_fpu fpu = d->reset_fpu;
    struct kvm_debugregs dregs = d->reset_dregs;
    if (!vcpu_ioctl(d, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS", err) ||
        !vcpu_ioctl(d, KVM_SET_REGS, &regs, "KVM_SET_REGS", err) ||
        !vcpu_ioctl(d, KVM_SET_FPU, &fpu, "KVM_SET_FPU", err))
        return false;
    if (d->have_debugregs && !vcpu_ioctl(d, KVM_SET_DEBUGREGS, &dregs, "KVM_SET_DEBUGREGS", err))
        return false;
    /* RESET also zeroes the time-stamp counter (SDM vol. 3, 18.17); 1
     * rather than 0, which KVM takes as "synchronise with the other
     * vCPUs" when the host writes it. */
    uint64_t val[KVM_MAX_MSRS];
    for (unsigned i = 0; i < d->nmsrs; i++)
        val[i] = d->msr_index[i] == MSR_TSC ? 1 : d->msr_reset[i];
    if (d->nmsrs && !msrs_write(d, d->msr_index, val, d->nmsrs, err))
        return false;
    if (d->have_events) {
        /* No exception, interrupt or NMI in flight, no shadow, NMIs unmasked. */
        struct kvm_vcpu_events ev = {
            .flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW,
        };
        if (!vcpu_ioctl(d, KVM_SET_VCPU_EVENTS, &ev, "KVM_SET_VCPU_EVENTS", err))
            return false;
    }
    d->halted = false;
    d->nmi_pending = false;
    /* Fresh kvm_run fields: not ready until KVM says so. */
    d->run->ready_for_interrupt_injection = 0;
    d->run->if_flag = 0;
    return true;
}

/* ---- register state ------------------------------------------------------------ */

static void seg_from_kvm(TessCpuSegment *t, const struct kvm_segment *k)
{
    t->base = k->base;
    t->limit = k->limit;
    t->selector = k->selector;
    t->attrib = (uint16_t)((k->type & 0xF) | (k->s ? TESS_SEG_S : 0) |
                           ((k->dpl & 3u) << TESS_SEG_DPL_SHIFT) |
                           (k->present ? TESS_SEG_P : 0) | (k->avl ? TESS_SEG_AVL : 0) |
                           (k->l ? TESS_SEG_L : 0) | (k->db ? TESS_SEG_DB : 0) |
                           (k->g ? TESS_SEG_G : 0) | (k->unusable ? TESS_SEG_UNUSABLE : 0));
}

static void seg_to_kvm(struct kvm_segment *k, const TessCpuSegment *t)
{
    memset(k, 0, sizeof(*k));
    k->base = t->base;
    k->limit = t->limit;
    k->selector = t->selector;
    k->type = t->attrib & TESS_SEG_TYPE;
    k->s = !!(t->attrib & TESS_SEG_S);
    k->dpl = (t->attrib & TESS_SEG_DPL) >> TESS_SEG_DPL_SHIFT;
    k->present = !!(t->attrib & TESS_SEG_P);
    k->avl = !!(t->attrib & TESS_SEG_AVL);
    k->l = !!(t->attrib & TESS_SEG_L);
    k->db = !!(t->attrib & TESS_SEG_DB);
    k->g = !!(t->attrib & TESS_SEG_G);
    k->unusable = !!(t->attrib & TESS_SEG_UNUSABLE);
}

/* FXSAVE image <-> struct kvm_fpu (SDM vol. 1, table 10-2) */
static void fxsave_from_kvm(uint8_t *fx, const struct kvm_fpu *f)
{
    memset(fx, 0, 512);
    memcpy(fx + 0, &f->fcw, 2);
    memcpy(fx + 2, &f->fsw, 2);
    fx[4] = f->ftwx;
    memcpy(fx + 6, &f->last_opcode, 2);
    memcpy(fx + 8, &f->last_ip, 8);
    memcpy(fx + 16, &f->last_dp, 8);
    memcpy(fx + 24, &f->mxcsr, 4);
    uint32_t mask = 0xFFFF;         /* MXCSR_MASK: the bits KVM's FXSAVE allows */
    memcpy(fx + 28, &mask, 4);
    memcpy(fx + 32, f->fpr, sizeof(f->fpr));
    memcpy(fx + 160, f->xmm, sizeof(f->xmm));
}

static void fxsave_to_kvm(struct kvm_fpu *f, const uint8_t *fx)
{
    memset(f, 0, sizeof(*f));
    memcpy(&f->fcw, fx + 0, 2);
    memcpy(&f->fsw, fx + 2, 2);
    f->ftwx = fx[4];
    memcpy(&f->last_opcode, fx + 6, 2);
    memcpy(&f->last_ip, fx + 8, 8);
    memcpy(&f->last_dp, fx + 16, 8);
    memcpy(&f->mxcsr, fx + 24, 4);
    memcpy(f->fpr, fx + 32, sizeof(f->fpr));
    memcpy(f->xmm, fx + 160, sizeof(f->xmm));
}

bool kvm_get_state(TessDevice *dev, TessCpuState *st, GError **err)
{
    KvmCpu *d = (KvmCpu *)dev;
    if (st->version != TESS_CPU_STATE_VERSION || st->size != sizeof(TessCpuState)) {
        g_set_error(err, TESS_STATE_ERROR, TESS_ERROR_INVALID,
                    "%s: CPU state version %u size %u: this CPU knows version %u size %zu",
                    dev->id, st->version, st->size, TESS_CPU_STATE_VERSION,
                    sizeof(TessCpuState));
        return false;
    }
    kvm_complete_io(d);
    struct kvm_regs r;
    struct kvm_sregs s;
    struct kvm_fpu f;
    struct kvm_debugregs dr = { 0 };
    struct kvm_vcpu_events ev = { 0 };
    if (!vcpu_ioctl(d, KVM_GET_REGS, &r, "KVM_GET_REGS", err) ||
        !vcpu_ioctl(d, KVM_GET_SREGS, &s, "KVM_GET_SREGS", err) ||
        !vcpu_ioctl(d, KVM_GET_FPU, &f, "KVM_GET_FPU", err))
        return false;
    if (d->have_debugregs && !vcpu_ioctl(d, KVM_GET_DEBUGREGS, &dr, "KVM_GET_DEBUGREGS", err))
        return false;
    if (d->have_events && !vcpu_ioctl(d, KVM_GET_VCPU_EVENTS, &ev, "KVM_GET_VCPU_EVENTS", err))
        return false;
    uint64_t msrs[KVM_MAX_MSRS];
    if (d->nmsrs && !msrs_read(d, msrs, err))
        return false;

    uint32_t version = st->version, size = st->size;
    memset(st, 0, sizeof(*st));
    st->version = version;
    st->size = size;
    const uint64_t g[16] = { r.rax, r.rcx, r.rdx, r.rbx, r.rsp, r.rbp, r.rsi, r.rdi,
                             r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15 };
    memcpy(st->gpr, g, sizeof(g));
    st->rip = r.rip;
    st->rflags = r.rflags;
    const struct kvm_segment *segs[TESS_CPU_NSEGS] = { &s.es, &s.cs, &s.ss, &s.ds, &s.fs, &s.gs };
    for (int i = 0; i < TESS_CPU_NSEGS; i++)
        seg_from_kvm(&st->seg[i], segs[i]);
    seg_from_kvm(&st->ldtr, &s.ldt);
    seg_from_kvm(&st->tr, &s.tr);
    st->gdtr.base = s.gdt.base;
    st->gdtr.limit = s.gdt.limit;
    st->idtr.base = s.idt.base;
    st->idtr.limit = s.idt.limit;
    st->cr0 = s.cr0;
    st->cr2 = s.cr2;
    st->cr3 = s.cr3;
    st->cr4 = s.cr4;
    st->efer = s.efer;
    for (int i = 0; i < 4; i++)
        st->dr[i] = dr.db[i];
    st->dr[6] = d->have_debugregs ? dr.dr6 : 0xFFFF0FF0u;
    st->dr[7] = d->have_debugregs ? dr.dr7 : 0x400u;

    st->pending_irq = -1;
    for (int v = 0; v < 256; v++)
        if (s.interrupt_bitmap[v / 64] & (UINT64_C(1) << (v % 64)))
            st->pending_irq = v;
    if (d->have_events) {
        if (ev.interrupt.injected && !ev.interrupt.soft)
            st->pending_irq = ev.interrupt.nr;
        if (ev.interrupt.shadow)
            st->flags |= TESS_CPU_ST_INT_SHADOW;
        if (ev.nmi.pending)
            st->flags |= TESS_CPU_ST_NMI_PENDING;
        if (ev.nmi.masked)
            st->flags |= TESS_CPU_ST_NMI_MASKED;
    }
    if (d->nmi_pending)
        st->flags |= TESS_CPU_ST_NMI_PENDING;
    if (d->halted)
        st->flags |= TESS_CPU_ST_HALTED;

    st->nmsrs = d->nmsrs;
    for (unsigned i = 0; i < d->nmsrs; i++) {
        st->msrs[i].index = d->msr_index[i];
        st->msrs[i].value = msrs[i];
    }
    st->fpu_format = TESS_CPU_FPU_FXSAVE;
    st->fpu_size = 512;
    fxsave_from_kvm(st->fpu, &f);
    return true;
}

bool kvm_set_state(TessDevice *dev, const TessCpuState *st, GError **err)
{
    KvmCpu *d = (KvmCpu *)dev;
    if (st->version != TESS_CPU_STATE_VERSION || st->size != sizeof(TessCpuState)) {
        g_set_error(err, TESS_STATE_ERROR, TESS_ERROR_INVALID,
                    "%s: CPU state version %u size %u: this CPU knows version %u size %zu",
                    dev->id, st->version, st->size, TESS_CPU_STATE_VERSION,
                    sizeof(TessCpuState));
        return false;
    }
    if (st->nmsrs > TESS_CPU_STATE_MSRS) {
        g_set_error(err, TESS_STATE_ERROR, TESS_ERROR_INVALID,
                    "%s: CPU state lists %u MSRs (at most %u)", dev->id, st->nmsrs,
                    TESS_CPU_STATE_MSRS);
        return false;
    }
    uint32_t idx[KVM_MAX_MSRS];
    uint64_t val[KVM_MAX_MSRS];
    for (unsigned i = 0; i < st->nmsrs; i++) {
        bool known = false;
        for (unsigned k = 0; k < d->nmsrs; k++)
            known |= d->msr_index[k] == st->msrs[i].index;
        if (!known) {
            g_set_error(err, TESS_STATE_ERROR, TESS_ERROR_UNSUPPORTED,
                        "%s: MSR 0x%x is not one this CPU model has", dev->id,
                        st->msrs[i].index);
            return false;
        }
        idx[i] = st->msrs[i].index;
        val[i] = st->msrs[i].value;
    }
    struct kvm_fpu f;
    bool set_fpu = false;
    switch (st->fpu_format) {
    case TESS_CPU_FPU_NONE:
        break;
    case TESS_CPU_FPU_FXSAVE:
    case TESS_CPU_FPU_XSAVE:
        /* Both start with the FXSAVE image; the guest's CPUID offers no
         * XSAVE component beyond x87 and SSE, so that is all of it. */
        if (st->fpu_size < 512 || st->fpu_size > TESS_CPU_STATE_FPU_MAX) {
            g_set_error(err, TESS_STATE_ERROR, TESS_ERROR_INVALID,
                        "%s: FPU state of %u bytes is too %s", dev->id, st->fpu_size,
                        st->fpu_size < 512 ? "small" : "large");
            return false;
        }
        fxsave_to_kvm(&f, st->fpu);
        set_fpu = true;
        break;
    default:
        g_set_error(err, TESS_STATE_ERROR, TESS_ERROR_UNSUPPORTED,
                    "%s: unknown FPU state format %u", dev->id, st->fpu_format);
        return false;
    }

    kvm_complete_io(d);
    struct kvm_sregs s;
    if (!vcpu_ioctl(d, KVM_GET_SREGS, &s, "KVM_GET_SREGS", err))
        return false;
    struct kvm_segment *segs[TESS_CPU_NSEGS] = { &s.es, &s.cs, &s.ss, &s.ds, &s.fs, &s.gs };
    for (int i = 0; i < TESS_CPU_NSEGS; i++)
        seg_to_kvm(segs[i], &st->seg[i]);
    seg_to_kvm(&s.ldt, &st->ldtr);
    seg_to_kvm(&s.tr, &st->tr);
    s.gdt.base = st->gdtr.base;
    s.gdt.limit = (uint16_t)st->gdtr.limit;
    s.idt.base = st->idtr.base;
    s.idt.limit = (uint16_t)st->idtr.limit;
    s.cr0 = st->cr0;
    s.cr2 = st->cr2;
    s.cr3 = st->cr3;
    s.cr4 = st->cr4;
    s.efer = st->efer;
    memset(s.interrupt_bitmap, 0, sizeof(s.interrupt_bitmap));
    struct kvm_regs r = {
        .rax = st->gpr[TESS_CPU_RAX], .rcx = st->gpr[TESS_CPU_RCX],
        .rdx = st->gpr[TESS_CPU_RDX], .rbx = st->gpr[TESS_CPU_RBX],
        .rsp = st->gpr[TESS_CPU_RSP], .rbp = st->gpr[TESS_CPU_RBP],
        .rsi = st->gpr[TESS_CPU_RSI], .rdi = st->gpr[TESS_CPU_RDI],
        .r8 = st->gpr[8], .r9 = st->gpr[9], .r10 = st->gpr[10], .r11 = st->gpr[11],
        .r12 = st->gpr[12], .r13 = st->gpr[13], .r14 = st->gpr[14], .r15 = st->gpr[15],
        .rip = st->rip, .rflags = st->rflags,
    };
    if (!vcpu_ioctl(d, KVM_SET_SREGS, &s, "KVM_SET_SREGS", err) ||
        !vcpu_ioctl(d, KVM_SET_REGS, &r, "KVM_SET_REGS", err))
        return false;
    if (set_fpu && !vcpu_ioctl(d, KVM_SET_FPU, &f, "KVM_SET_FPU", err))
        return false;
    if (d->have_debugregs) {
        struct kvm_debugregs dr = { .dr6 = st->dr[6], .dr7 = st->dr[7] };
        for (int i = 0; i < 4; i++)
            dr.db[i] = st->dr[i];
        if (!vcpu_ioctl(d, KVM_SET_DEBUGREGS, &dr, "KVM_SET_DEBUGREGS", err))
            return false;
    }
    if (st->nmsrs && !msrs_write(d, idx, val, st->nmsrs, err))
        return false;
    if (d->have_events) {
        struct kvm_vcpu_events ev = {
            .flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW,
        };
        if (st->pending_irq >= 0 && st->pending_irq < 256) {
            ev.interrupt.injected = 1;
            ev.interrupt.nr = (uint8_t)st->pending_irq;
        }
        if (st->flags & TESS_CPU_ST_INT_SHADOW)
            ev.interrupt.shadow = KVM_X86_SHADOW_INT_STI;
        ev.nmi.pending = !!(st->flags & TESS_CPU_ST_NMI_PENDING);
        ev.nmi.masked = !!(st->flags & TESS_CPU_ST_NMI_MASKED);
        if (!vcpu_ioctl(d, KVM_SET_VCPU_EVENTS, &ev, "KVM_SET_VCPU_EVENTS", err))
            return false;
    } else if (st->pending_irq >= 0 && st->pending_irq < 256) {
        struct kvm_interrupt irq = { .irq = (uint32_t)st->pending_irq };
        if (!vcpu_ioctl(d, KVM_INTERRUPT, &irq, "KVM_INTERRUPT", err))
            return false;
    }
    d->halted = !!(st->flags & TESS_CPU_ST_HALTED);
    d->nmi_pending = false;
    /* KVM recomputes these at the next exit; until then assume nothing. */
    d->run->ready_for_interrupt_injection = 0;
    d->run->if_flag = (st->rflags & 0x200) != 0;
    return true;
}
