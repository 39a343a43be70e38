/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * System instructions: descriptor-table and task registers, control and
 * debug registers, LAR/LSL/VERR/VERW/ARPL, MSRs, TSC, SYSENTER/SYSEXIT
 * (SDM vol. 2 and vol. 3 chapters 2, 17 and 18; MSRs per family from
 * vol. 4). CPUID and the models are x86-model.c's.
 */
#include "x86-ops.h"

static bool pm(const X86Cpu *c) { return (c->cr0 & CR0_PE) && !(c->eflags & F_VM); }

static void need_cpl0(X86Cpu *c)
{
    if ((c->cr0 & CR0_PE) && (c->cpl != 0 || (c->eflags & F_VM)))
        x86_gp(c, 0);
}

static void set_zf(X86Cpu *c, bool z)
{
    uint32_t f = x86_get_eflags(c) & F_ARITH & ~F_ZF;
    x86_set_arith(c, f | (z ? F_ZF : 0));
}

/* 0F 00 */
X86_H(h_grp6)
{
    if (!pm(c))
        x86_ud(c);
    switch (i->reg) {
    case 0: case 1: {
        uint32_t v = c->seg[i->reg == 0 ? S_LDTR : S_TR].sel;
        if (i->mod == 3)
            x86_setreg(c, i->rm, v, x86_osize(i));
        else
            x86_st(c, i->seg, x86_ea(c, i), v, 2);
        return;
    }
    case 2: case 3: {
        need_cpl0(c);
        uint16_t sel = (uint16_t)x86_rm_read(c, i, 2);
        if (i->reg == 2)
            x86_lldt(c, sel);
        else
            x86_ltr(c, sel);
        return;
    }
    case 4: case 5: {
        uint16_t sel = (uint16_t)x86_rm_read(c, i, 2);
        uint32_t lo, hi;
        if ((sel & 0xFFFC) == 0 || !x86_read_desc(c, sel, &lo, &hi) || !(hi & D_S)) {
            set_zf(c, false);
            return;
        }
        int dpl = (hi >> 13) & 3;
        bool code = hi & D_CODE;
        bool ok;
        if (i->reg == 4) {
            ok = code ? (hi & D_RW) != 0 : true;
            if (ok && !(code && (hi & D_CONF)))
                ok = dpl >= c->cpl && dpl >= (sel & 3);
        } else {
            ok = !code && (hi & D_RW) && dpl >= c->cpl && dpl >= (sel & 3);
        }
        set_zf(c, ok);
        return;
    }
    default:
        x86_ud(c);
    }
}

/* 0F 01 */
X86_H(h_grp7)
{
    switch (i->reg) {
    case 0: case 1: {
        if (i->mod == 3)
            x86_ud(c);
        uint32_t ea = x86_ea(c, i);
        uint32_t lim = i->reg == 0 ? c->gdt_limit : c->idt_limit;
        uint32_t base = i->reg == 0 ? c->gdt_base : c->idt_base;
        if (!i->o32)
            base &= 0x00FFFFFF;
        x86_st(c, i->seg, ea, lim, 2);
        x86_st(c, i->seg, i->a32 ? ea + 2 : ((ea + 2) & 0xFFFF), base, 4);
        return;
    }
    case 2: case 3: {
        if (i->mod == 3)
            x86_ud(c);
        need_cpl0(c);
        uint32_t ea = x86_ea(c, i);
        uint32_t lim = x86_ld(c, i->seg, ea, 2);
        uint32_t base = x86_ld(c, i->seg, i->a32 ? ea + 2 : ((ea + 2) & 0xFFFF), 4);
        if (!i->o32)
            base &= 0x00FFFFFF;
        if (i->reg == 2) {
            c->gdt_limit = lim;
            c->gdt_base = base;
        } else {
            c->idt_limit = lim;
            c->idt_base = base;
        }
        return;
    }
    case 4: {
        uint32_t v = c->cr0;
        if (i->mod == 3)
            x86_setreg(c, i->rm, i->o32 ? v : (v & 0xFFFF), x86_osize(i));
        else
            x86_st(c, i->seg, x86_ea(c, i), v, 2);
        return;
    }
    case 6: {
        need_cpl0(c);
        uint32_t v = x86_rm_read(c, i, 2) & 0xF;
        /* LMSW sets PE but never clears it */
        uint32_t n = (c->cr0 & ~0xEu) | v | (c->cr0 & CR0_PE);
        x86_write_cr0(c, n);
        return;
    }
    case 7: {
        if (i->mod == 3)
            x86_ud(c);
        need_cpl0(c);
        uint32_t lin = c->seg[i->seg].base + x86_ea(c, i);
        x86_tlb_flush_page(c, lin);
        return;
    }
    default:
        x86_ud(c);
    }
}

static bool lar_lsl_desc(X86Cpu *c, const X86Insn *i, bool lsl, uint32_t *lo, uint32_t *hi)
{
    uint16_t sel = (uint16_t)x86_rm_read(c, i, 2);
    if ((sel & 0xFFFC) == 0 || !x86_read_desc(c, sel, lo, hi))
        return false;
    int dpl = (*hi >> 13) & 3;
    if (*hi & D_S) {
        if ((*hi & (D_CODE | D_CONF)) == (D_CODE | D_CONF))
            return true;
    } else {
        unsigned t = (*hi >> 8) & 0xF;
        static const uint16_t lar_ok = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5)
                                     | (1 << 9) | (1 << 11) | (1 << 12);
        static const uint16_t lsl_ok = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 9) | (1 << 11);
        if (!((lsl ? lsl_ok : lar_ok) & (1u << t)))
            return false;
    }
    return dpl >= c->cpl && dpl >= (sel & 3);
}

X86_H(h_lar)
{
    if (!pm(c))
        x86_ud(c);
    uint32_t lo, hi;
    if (!lar_lsl_desc(c, i, false, &lo, &hi)) {
        set_zf(c, false);
        return;
    }
    x86_setreg(c, i->reg, hi & (i->o32 ? 0x00F0FF00u : 0xFF00u), x86_osize(i));
    set_zf(c, true);
}

X86_H(h_lsl)
{
    if (!pm(c))
        x86_ud(c);
    uint32_t lo, hi;
    if (!lar_lsl_desc(c, i, true, &lo, &hi)) {
        set_zf(c, false);
        return;
    }
    uint32_t lim = (hi & 0xF0000u) | (lo & 0xFFFF);
    if (hi & D_G)
        lim = (lim << 12) | 0xFFF;
    x86_setreg(c, i->reg, lim, x86_osize(i));
    set_zf(c, true);
}

X86_H(h_arpl)
{
    if (!pm(c))
        x86_ud(c);
    uint32_t d = x86_rm_rmw_ld(c, i, 2);
    uint32_t s = x86_getreg(c, i->reg, 2);
    if ((d & 3) < (s & 3)) {
        x86_rm_rmw_st(c, i, (d & ~3u) | (s & 3), 2);
        set_zf(c, true);
    } else {
        x86_rm_rmw_st(c, i, d, 2);
        set_zf(c, false);
    }
}

X86_H(h_clts)
{
    need_cpl0(c);
    c->cr0 &= ~CR0_TS;
}

/* INVD, WBINVD: no caches are modelled */
X86_H(h_invd) { need_cpl0(c); }

void x86_write_cr0(X86Cpu *c, uint32_t v)
{
    v &= CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_NE | CR0_WP | CR0_AM
       | CR0_NW | CR0_CD | CR0_PG;
    v |= CR0_ET;
    if ((v & CR0_PG) && !(v & CR0_PE))
        x86_gp(c, 0);
    if ((v & CR0_NW) && !(v & CR0_CD))
        x86_gp(c, 0);
    uint32_t old = c->cr0;
    /* PAE paging from now on, and PG, CD or NW changes: the PDPTEs load
     * (SDM vol. 3, 4.4.1) */
    if (x86_pae_paging(v, c->cr4) && ((old ^ v) & (CR0_PG | CR0_CD | CR0_NW))
        && !x86_load_pdptes(c, c->cr3))
        x86_gp(c, 0);
    c->cr0 = v;
    if ((old ^ v) & (CR0_PG | CR0_WP | CR0_PE))
        x86_tlb_flush(c);
    if ((old ^ v) & CR0_PE)
        x86_update_mode(c);
    x86_break(c);
}

void x86_write_cr3(X86Cpu *c, uint32_t v)
{
    /* (bits 11:5 are the PAE PDPT address, the others ignored: CR3 keeps
     * them all) */
    if (x86_pae_paging(c->cr0, c->cr4) && !x86_load_pdptes(c, v))
        x86_gp(c, 0);
    c->cr3 = v;
    if (c->cr4 & CR4_PGE)
        x86_tlb_flush_nonglobal(c);
    else
        x86_tlb_flush(c);
}

/* The CR4 bits the model has: each comes with a CPUID feature (SDM vol. 3,
 * 2.5); a bit the model lacks is reserved (#GP). */
static uint32_t cr4_valid(const X86Cpu *c)
{
    uint32_t f = c->feat_edx, v = 0;
    if (!(c->mi->flags & X86_HAS_CR4))
        return 0;
    if (f & CPUID_VME) v |= CR4_VME | CR4_PVI;
    if (f & CPUID_TSC) v |= CR4_TSD;
    if (f & CPUID_DE)  v |= CR4_DE;
    if (f & CPUID_PSE) v |= CR4_PSE;
    if (f & CPUID_PAE) v |= CR4_PAE;
    if (f & CPUID_MCE) v |= CR4_MCE;
    if (f & CPUID_PGE) v |= CR4_PGE;
    if (c->mi->flags & X86_HAS_RDPMC) v |= CR4_PCE;
    if (f & CPUID_FXSR) v |= CR4_OSFXSR;
    if (f & CPUID_SSE) v |= CR4_OSXMMEXCPT;
    return v;
}

void x86_write_cr4(X86Cpu *c, uint32_t v)
{
    uint32_t valid = cr4_valid(c);
    if (v & ~valid)
        x86_gp(c, 0);
    uint32_t old = c->cr4;
    if (x86_pae_paging(c->cr0, v) && ((old ^ v) & (CR4_PAE | CR4_PGE | CR4_PSE))
        && !x86_load_pdptes(c, c->cr3))
        x86_gp(c, 0);
    c->cr4 = v;
    if ((old ^ v) & (CR4_PSE | CR4_PGE | CR4_PAE))
        x86_tlb_flush(c);
    if ((old ^ v) & CR4_DE)
        x86_dr_update(c);
}

/* 0F 20 */
X86_H(h_mov_r_cr)
{
    need_cpl0(c);
    uint32_t v;
    switch (i->reg) {
    case 0: v = c->cr0; break;
    case 2: v = c->cr2; break;
    case 3: v = c->cr3; break;
    case 4:
        if (!(c->mi->flags & X86_HAS_CR4))
            x86_ud(c);
        v = c->cr4;
        break;
    default:
        x86_ud(c);
    }
    c->r[i->rm] = v;
}

/* 0F 22 */
X86_H(h_mov_cr_r)
{
    need_cpl0(c);
    uint32_t v = c->r[i->rm];
    switch (i->reg) {
    case 0: x86_write_cr0(c, v); break;
    case 2: c->cr2 = v; break;
    case 3: x86_write_cr3(c, v); break;
    case 4:
        if (!(c->mi->flags & X86_HAS_CR4))
            x86_ud(c);
        x86_write_cr4(c, v);
        break;
    default:
        x86_ud(c);
    }
    x86_break(c);
}

static int dr_index(X86Cpu *c, unsigned r)
{
    if (r == 4 || r == 5) {
        if (c->cr4 & CR4_DE)
            x86_ud(c);
        r += 2;
    }
    /* general detect: a fault before any debug register access, with GD
     * cleared so the handler may use them (SDM vol. 3, 17.2.4) */
    if (c->dr[7] & DR7_GD) {
        c->dr[7] &= ~DR7_GD;
        c->dr[6] |= DR6_BD;
        x86_raise_noerr(c, X86_DB);
    }
    return r;
}

/* 0F 21 */
X86_H(h_mov_r_dr)
{
    need_cpl0(c);
    int r = dr_index(c, i->reg);
    uint32_t v = c->dr[r];
    if (r == 6)
        v = (v & 0x0000E00Fu) | 0xFFFF0FF0u;
    else if (r == 7)
        v = (v & 0xFFFF2BFFu) | 0x400;
    c->r[i->rm] = v;
}

/* 0F 23 */
X86_H(h_mov_dr_r)
{
    need_cpl0(c);
    int r = dr_index(c, i->reg);
    c->dr[r] = c->r[i->rm];
    if (r != 6)
        x86_dr_update(c);
    x86_break(c);
}

/* ---- CPUID, MSRs, TSC -------------------------------------------------- */

bool x86_has_cpuid(const X86Cpu *c)
{
    (void)c;
    return true;    /* the 486 model is a late, CPUID-capable stepping */
}

X86_H(h_cpuid)
{
    x86_cpuid(c);
}

uint64_t x86_tsc(X86Cpu *c)
{
    uint64_t ns = c->bus.clock_ns ? c->bus.clock_ns(c->bus.opaque) : x86_icount(c);
    return ns * c->mhz / 1000 + c->tsc_offset;
}

X86_H(h_rdtsc)
{
    if (!(c->feat_edx & CPUID_TSC))
        x86_ud(c);
    if ((c->cr4 & CR4_TSD) && c->cpl != 0 && (c->cr0 & CR0_PE))
        x86_gp(c, 0);
    uint64_t t = x86_tsc(c);
    c->r[R_EAX] = (uint32_t)t;
    c->r[R_EDX] = (uint32_t)(t >> 32);
}

X86_H(h_rdpmc)
{
    if (!(c->mi->flags & X86_HAS_RDPMC))
        x86_ud(c);
    /* two counters before the Pentium 4, eighteen on it */
    uint32_t last = x86_family(c) == 15 ? 17 : 1;
    if (((c->cr0 & CR0_PE) && c->cpl != 0 && !(c->cr4 & CR4_PCE)) || c->r[R_ECX] > last)
        x86_gp(c, 0);
    c->r[R_EAX] = 0;
    c->r[R_EDX] = 0;
}

static int mtrr_index(uint32_t msr)
{
    if (msr >= 0x200 && msr <= 0x20F)
        return msr - 0x200;
    switch (msr) {
    case 0x250: return 16;
    case 0x258: return 17;
    case 0x259: return 18;
    case 0x2FF: return 27;
    default:
        if (msr >= 0x268 && msr <= 0x26F)
            return 19 + (msr - 0x268);
        return -1;
    }
}

/* A PAT entry of a reserved memory type (2, 3, 8 and up) is #GP (SDM
 * vol. 3, 11.12.2). */
static bool pat_valid(uint64_t v)
{
    for (int k = 0; k < 8; k++) {
        unsigned t = (v >> (8 * k)) & 0xFF;
        if (t == 2 || t == 3 || t > 7)
            return false;
    }
    return true;
}

/* MSRs every P6 and Pentium 4 part has (SDM vol. 4, tables 2-2, 2-54 and
 * 2-61): false when msr is not one. */
static bool msr_p6_p4(X86Cpu *c, uint32_t msr, uint64_t *val, bool write)
{
    switch (msr) {
    case MSR_P5_MC_ADDR: if (!write) *val = c->mc_addr; return true;
    case MSR_P5_MC_TYPE: if (!write) *val = c->mc_type; return true;
    case MSR_PLATFORM_ID:
        if (write)
            return false;
        *val = (uint64_t)c->mi->platform_id << 50;
        return true;
    case 0x2A:          /* EBL_CR_POWERON (P4: EBC_HARD_POWERON) */
    case MSR_BIOS_SIGN_ID:      /* no microcode update loaded */
    case 0x79:          /* BIOS_UPDT_TRIG */
    case 0x179:         /* MCG_CAP: no banks */
    case 0x17A:         /* MCG_STATUS */
    case 0x1D9:         /* DEBUGCTL */
        if (!write) *val = 0;
        return true;
    case MSR_MTRRCAP:
        if (write)
            return false;
        *val = 0x508;   /* 8 variable ranges, fixed ranges, write-combining */
        return true;
    case MSR_SYSENTER_CS:
        if (write) c->sysenter_cs = (uint32_t)*val; else *val = c->sysenter_cs;
        return true;
    case MSR_SYSENTER_ESP:
        if (write) c->sysenter_esp = (uint32_t)*val; else *val = c->sysenter_esp;
        return true;
    case MSR_SYSENTER_EIP:
        if (write) c->sysenter_eip = (uint32_t)*val; else *val = c->sysenter_eip;
        return true;
    case MSR_PAT:
        if (!(c->feat_edx & CPUID_PAT))
            return false;
        if (write) {
            if (!pat_valid(*val))
                return false;
            c->pat = *val;
        } else {
            *val = c->pat;
        }
        return true;
    default: {
        int k = mtrr_index(msr);
        if (k < 0)
            return false;
        if (write)
            c->mtrr[k] = *val;
        else
            *val = c->mtrr[k];
        return true;
    }
    }
}

/* IA32_MISC_ENABLE (Pentium 4): bits 0 (fast strings), 22 (limit CPUID
 * maxval, which the maximum leaf already honours) and 34 (XD disable)
 * are the writable ones; bit 7 clear says no performance monitoring, bits
 * 11 and 12 that there is no BTS or PEBS. */
#define MISC_ENABLE_RW (1ull | (1ull << 22) | MISC_ENABLE_XD_DISABLE)

/* Returns false for an MSR this model does not have (#GP). */
static bool msr_access(X86Cpu *c, uint32_t msr, uint64_t *val, bool write)
{
    if (msr == MSR_TSC) {
        if (write)
            c->tsc_offset = *val - (x86_tsc(c) - c->tsc_offset);
        else
            *val = x86_tsc(c);
        return true;
    }
    if (x86_family(c) == 5) {
        switch (msr) {
        case MSR_P5_MC_ADDR: if (!write) *val = c->mc_addr; return true;
        case MSR_P5_MC_TYPE: if (!write) *val = c->mc_type; return true;
        case 0x11: case 0x12: case 0x13:   /* CESR, CTR0, CTR1 */
            if (!write) *val = 0;
            return true;
        default:
            return false;
        }
    }
    if (x86_family(c) == 6) {
        switch (msr) {
        case 0x186: case 0x187: case 0xC1: case 0xC2:  /* PerfEvtSel0-1, PerfCtr0-1 */
            if (!write) *val = 0;
            return true;
        default:
            return msr_p6_p4(c, msr, val, write);
        }
    }
    /* Pentium 4 */
    switch (msr) {
    case MSR_MISC_ENABLE:
        if (write) {
            if ((*val ^ c->misc_enable) & ~MISC_ENABLE_RW)
                return false;
            if ((*val & MISC_ENABLE_XD_DISABLE) && (c->efer & EFER_NXE))
                return false;
            c->misc_enable = *val;
        } else {
            *val = c->misc_enable;
        }
        return true;
    case MSR_EFER:
        if (!(c->mi->ext_edx & CPUID_EXT_NX))
            return false;
        if (write) {
            /* NXE is the only bit of a part without long mode, and only
             * while XD is not disabled */
            uint64_t ok = (c->feat_ext_edx & CPUID_EXT_NX)
                          && !(c->misc_enable & MISC_ENABLE_XD_DISABLE) ? EFER_NXE : 0;
            if (*val & ~ok)
                return false;
            if ((*val ^ c->efer) & EFER_NXE)
                x86_tlb_flush(c);
            c->efer = *val;
        } else {
            *val = c->efer;
        }
        return true;
    default:
        return msr_p6_p4(c, msr, val, write);
    }
}

X86_H(h_rdmsr)
{
    if (!(c->feat_edx & CPUID_MSR))
        x86_ud(c);
    need_cpl0(c);
    uint64_t v = 0;
    if (!msr_access(c, c->r[R_ECX], &v, false))
        x86_gp(c, 0);
    c->r[R_EAX] = (uint32_t)v;
    c->r[R_EDX] = (uint32_t)(v >> 32);
}

X86_H(h_wrmsr)
{
    if (!(c->feat_edx & CPUID_MSR))
        x86_ud(c);
    need_cpl0(c);
    uint64_t v = ((uint64_t)c->r[R_EDX] << 32) | c->r[R_EAX];
    if (!msr_access(c, c->r[R_ECX], &v, true))
        x86_gp(c, 0);
}

static void flat_seg(X86Seg *s, uint16_t sel, bool code, int dpl)
{
    s->sel = sel;
    s->base = 0;
    s->limit = 0xFFFFFFFFu;
    s->attr = D_P | D_S | D_G | D_DB | D_ACC | ((uint32_t)dpl << 13)
            | (code ? (D_CODE | D_RW) : D_RW);
}

X86_H(h_sysenter)
{
    if (!(c->feat_edx & CPUID_SEP))
        x86_ud(c);
    if (!(c->cr0 & CR0_PE) || (c->sysenter_cs & 0xFFFC) == 0)
        x86_gp(c, 0);
    x86_write_eflags(c, 0, F_VM | F_IF | F_RF);
    uint16_t cs = c->sysenter_cs & 0xFFFC;
    flat_seg(&c->seg[S_CS], cs, true, 0);
    flat_seg(&c->seg[S_SS], cs + 8, false, 0);
    x86_set_cpl(c, 0);
    x86_update_mode(c);
    c->r[R_ESP] = c->sysenter_esp;
    c->next_eip = c->sysenter_eip;
}

X86_H(h_sysexit)
{
    if (!(c->feat_edx & CPUID_SEP))
        x86_ud(c);
    if (!(c->cr0 & CR0_PE) || (c->eflags & F_VM) || c->cpl != 0
        || (c->sysenter_cs & 0xFFFC) == 0)
        x86_gp(c, 0);
    uint16_t cs = c->sysenter_cs & 0xFFFC;
    flat_seg(&c->seg[S_CS], (cs + 16) | 3, true, 3);
    flat_seg(&c->seg[S_SS], (cs + 24) | 3, false, 3);
    x86_set_cpl(c, 3);
    x86_update_mode(c);
    c->r[R_ESP] = c->r[R_ECX];
    c->next_eip = c->r[R_EDX];
}

/* 0F 1F /0: the P6 multi-byte NOP */
X86_H(h_nop_ev)
{
    if (!(c->mi->flags & X86_HAS_NOPL))
        x86_ud(c);
}

X86_H(h_rsm) { x86_ud(c); }   /* no SMM */
