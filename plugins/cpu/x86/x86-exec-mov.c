/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Data movement: MOV forms, stack, segment loads, string instructions
 * (SDM vol. 2).
 */
#include "x86-ops.h"

X86_H(h_mov_EG)
{
    unsigned size = (i->op & 1) ? x86_osize(i) : 1;
    x86_rm_write(c, i, x86_getreg(c, i->reg, size), size);
}

X86_H(h_mov_GE)
{
    unsigned size = (i->op & 1) ? x86_osize(i) : 1;
    x86_setreg(c, i->reg, x86_rm_read(c, i, size), size);
}


X86_H(h_mov_EI)
{
    if (i->reg != 0)
        x86_ud(c);
    unsigned size = (i->op & 1) ? x86_osize(i) : 1;
    x86_rm_write(c, i, i->imm, size);
}

X86_H(h_mov_r_imm) { x86_setreg(c, i->reg, i->imm, x86_osize(i)); }
X86_H(h_mov_r8_imm) { x86_set_reg8(c, i->reg, i->imm); }

/* A0-A3 */
X86_H(h_mov_moffs)
{
    unsigned size = (i->op & 1) ? x86_osize(i) : 1;
    if (i->op & 2)
        x86_st(c, i->seg, i->disp, x86_getreg(c, R_EAX, size), size);
    else
        x86_setreg(c, R_EAX, x86_ld(c, i->seg, i->disp, size), size);
}

/* 8C: MOV Ew, Sreg */
X86_H(h_mov_ES)
{
    if (i->reg > 5)
        x86_ud(c);
    uint32_t v = c->seg[i->reg].sel;
    if (i->mod == 3)
        x86_setreg(c, i->rm, v, x86_osize(i));
    else
        x86_st(c, i->seg, x86_ea(c, i), v, 2);
}

/* 8E: MOV Sreg, Ew */
X86_H(h_mov_SE)
{
    if (i->reg > 5 || i->reg == S_CS)
        x86_ud(c);
    uint16_t v = (uint16_t)x86_rm_read(c, i, 2);
    x86_load_seg(c, i->reg, v);
}

X86_H(h_lea)
{
    if (i->mod == 3)
        x86_ud(c);
    x86_setreg(c, i->reg, x86_ea(c, i), x86_osize(i));
}

X86_H(h_movzx)
{
    unsigned ssz = (i->op & 1) ? 2 : 1;
    x86_setreg(c, i->reg, x86_rm_read(c, i, ssz), x86_osize(i));
}

X86_H(h_movsx)
{
    unsigned ssz = (i->op & 1) ? 2 : 1;
    uint32_t v = x86_rm_read(c, i, ssz);
    v = ssz == 1 ? (uint32_t)(int32_t)(int8_t)v : (uint32_t)(int32_t)(int16_t)v;
    x86_setreg(c, i->reg, v, x86_osize(i));
}

X86_H(h_xchg_EG)
{
    unsigned size = (i->op & 1) ? x86_osize(i) : 1;
    uint32_t a = x86_rm_rmw_ld(c, i, size);
    uint32_t b = x86_getreg(c, i->reg, size);
    x86_rm_rmw_st(c, i, b, size);
    x86_setreg(c, i->reg, a, size);
}

X86_H(h_xchg_ar)
{
    unsigned size = x86_osize(i);
    uint32_t a = x86_getreg(c, R_EAX, size);
    x86_setreg(c, R_EAX, x86_getreg(c, i->reg, size), size);
    x86_setreg(c, i->reg, a, size);
}

X86_H(h_nop) { (void)c; (void)i; }

/* C4 LES, C5 LDS, 0F B2 LSS, 0F B4 LFS, 0F B5 LGS */
X86_H(h_lxs)
{
    if (i->mod == 3)
        x86_ud(c);
    int seg;
    switch (i->op) {
    case 0xC4: seg = S_ES; break;
    case 0xC5: seg = S_DS; break;
    case 0x1B2: seg = S_SS; break;
    case 0x1B4: seg = S_FS; break;
    default: seg = S_GS; break;
    }
    unsigned size = x86_osize(i);
    uint32_t ea = x86_ea(c, i);
    uint32_t off = x86_ld(c, i->seg, ea, size);
    uint16_t sel = (uint16_t)x86_ld(c, i->seg, i->a32 ? ea + size : ((ea + size) & 0xFFFF), 2);
    x86_load_seg(c, seg, sel);
    x86_setreg(c, i->reg, off, size);
}

X86_H(h_xlat)
{
    uint32_t ea = c->r[R_EBX] + (c->r[R_EAX] & 0xFF);
    if (!i->a32)
        ea &= 0xFFFF;
    x86_set_reg8(c, 0, x86_ld(c, i->seg, ea, 1));
}

X86_H(h_lahf)
{
    uint32_t f = x86_get_eflags(c);
    x86_set_reg8(c, 4, (f & 0xD5) | 2);
}

X86_H(h_sahf)
{
    uint32_t ah = (c->r[R_EAX] >> 8) & 0xFF;
    x86_set_arith(c, (x86_get_eflags(c) & F_OF) | (ah & (F_SF | F_ZF | F_AF | F_PF | F_CF)));
}

/* ---- stack ---------------------------------------------------------------- */

X86_H(h_push_r)
{
    unsigned size = x86_osize(i);
    x86_push(c, x86_getreg(c, i->reg, size), size);
}

X86_H(h_pop_r)
{
    unsigned size = x86_osize(i);
    uint32_t v = x86_pop(c, size);
    x86_setreg(c, i->reg, v, size);
}

X86_H(h_push_imm) { x86_push(c, i->imm, x86_osize(i)); }

X86_H(h_pop_E)
{
    if (i->reg != 0)
        x86_ud(c);
    unsigned size = x86_osize(i);
    uint32_t old = c->r[R_ESP];
    uint32_t v = x86_pop(c, size);
    if (i->mod == 3) {
        x86_setreg(c, i->rm, v, size);
        return;
    }
    /* the address uses ESP after the pop; undo it if the store faults */
    uint32_t ea = x86_ea(c, i);
    uint32_t nesp = c->r[R_ESP];
    c->r[R_ESP] = old;
    uint32_t lin = x86_lin(c, i->seg, ea, size, true);
    c->r[R_ESP] = nesp;
    x86_st_lin(c, lin, v, size);
}

X86_H(h_push_sreg)
{
    unsigned size = x86_osize(i);
    uint32_t sp = x86_sp(c) - size;
    if (!c->ss32)
        sp &= 0xFFFF;
    x86_st(c, S_SS, sp, c->seg[i->reg].sel, 2);
    x86_set_sp(c, sp);
}

X86_H(h_pop_sreg)
{
    unsigned size = x86_osize(i);
    uint32_t sp = x86_sp(c);
    bool s32 = c->ss32;     /* POP SS: the increment uses the old stack's size */
    uint16_t v = (uint16_t)x86_ld(c, S_SS, sp, 2);
    x86_load_seg(c, i->reg, v);
    sp += size;
    c->r[R_ESP] = s32 ? sp : (c->r[R_ESP] & 0xFFFF0000u) | (sp & 0xFFFF);
}

X86_H(h_pusha)
{
    unsigned size = x86_osize(i);
    uint32_t sp = x86_sp(c), m = c->ss32 ? 0xFFFFFFFFu : 0xFFFF;
    uint32_t osp = c->r[R_ESP];
    for (int r = 0; r < 8; r++) {
        sp = (sp - size) & m;
        x86_st(c, S_SS, sp, r == R_ESP ? osp : c->r[r], size);
    }
    x86_set_sp(c, sp);
}

X86_H(h_popa)
{
    unsigned size = x86_osize(i);
    uint32_t sp = x86_sp(c), m = c->ss32 ? 0xFFFFFFFFu : 0xFFFF;
    uint32_t v[8];
    for (int r = 7; r >= 0; r--) {
        v[r] = x86_ld(c, S_SS, sp, size);
        sp = (sp + size) & m;
    }
    for (int r = 0; r < 8; r++)
        if (r != R_ESP)
            x86_setreg(c, r, v[r], size);
    x86_set_sp(c, sp);
}

X86_H(h_pushf)
{
    if ((c->eflags & F_VM) && (c->eflags & F_IOPL) != F_IOPL)
        x86_gp(c, 0);
    uint32_t f = x86_get_eflags(c) & ~(F_VM | F_RF);
    x86_push(c, f, x86_osize(i));
}

X86_H(h_popf)
{
    if ((c->eflags & F_VM) && (c->eflags & F_IOPL) != F_IOPL)
        x86_gp(c, 0);
    unsigned size = x86_osize(i);
    uint32_t v = x86_pop(c, size);
    uint32_t m = F_ARITH | F_TF | F_DF | F_NT | F_IF | F_IOPL;
    if (size == 4) {
        m |= F_AC;
        if (x86_has_cpuid(c))
            m |= F_ID;
    } else {
        m &= 0xFFFF;
    }
    if (c->eflags & F_VM) {
        m &= ~F_IOPL;
    } else if (c->cr0 & CR0_PE) {
        if (c->cpl > 0)
            m &= ~F_IOPL;
        if (c->cpl > (int)((c->eflags & F_IOPL) >> 12))
            m &= ~F_IF;
    }
    x86_write_eflags(c, v, m);
}

X86_H(h_enter)
{
    unsigned size = x86_osize(i);
    unsigned level = i->imm2 & 0x1F;
    uint32_t m = c->ss32 ? 0xFFFFFFFFu : 0xFFFF;
    uint32_t sp = x86_sp(c);
    uint32_t bp = c->ss32 ? c->r[R_EBP] : (c->r[R_EBP] & 0xFFFF);
    sp = (sp - size) & m;
    x86_st(c, S_SS, sp, x86_getreg(c, R_EBP, size), size);
    /* FrameTemp is ESP after the push: on a 16-bit stack its upper half
     * is that of ESP, which a 32-bit ENTER copies into EBP */
    uint32_t frame = c->ss32 ? sp : (c->r[R_ESP] & 0xFFFF0000u) | sp;
    if (level > 0) {
        for (unsigned k = 1; k < level; k++) {
            bp = (bp - size) & m;
            uint32_t v = x86_ld(c, S_SS, bp, size);
            sp = (sp - size) & m;
            x86_st(c, S_SS, sp, v, size);
        }
        sp = (sp - size) & m;
        x86_st(c, S_SS, sp, frame, size);
    }
    sp = (sp - (i->imm & 0xFFFF)) & m;
    /* the final stack pointer must be valid too */
    if (!x86_seg_ok(&c->seg[S_SS], sp, 1) && i->imm)
        x86_raise(c, X86_SS, 0);
    x86_setreg(c, R_EBP, frame, size);
    x86_set_sp(c, sp);
}

X86_H(h_leave)
{
    unsigned size = x86_osize(i);
    uint32_t bp = c->ss32 ? c->r[R_EBP] : (c->r[R_EBP] & 0xFFFF);
    uint32_t v = x86_ld(c, S_SS, bp, size);
    x86_set_sp(c, bp + size);
    x86_setreg(c, R_EBP, v, size);
}

/* ---- strings ---------------------------------------------------------------- */

/* At most this many iterations per execution: a long REP stays
 * interruptible and the instruction count bounded. */
#define REP_CHUNK 4096u

static inline uint32_t amask(const X86Insn *i) { return i->a32 ? 0xFFFFFFFFu : 0xFFFF; }
static inline uint32_t getcnt(X86Cpu *c, const X86Insn *i) { return c->r[R_ECX] & amask(i); }
static inline void setcnt(X86Cpu *c, const X86Insn *i, uint32_t v)
{
    c->r[R_ECX] = (c->r[R_ECX] & ~amask(i)) | (v & amask(i));
}
static inline void addidx(X86Cpu *c, const X86Insn *i, int r, int32_t d)
{
    uint32_t m = amask(i);
    c->r[r] = (c->r[r] & ~m) | ((c->r[r] + (uint32_t)d) & m);
}

/* Count of iterations to run now; 0 = nothing (REP with CX=0). */
static inline uint32_t rep_begin(X86Cpu *c, const X86Insn *i)
{
    if (!i->rep)
        return 1;
    uint32_t n = getcnt(c, i);
    return n;
}

/* CMPS/SCAS: count one iteration and apply REPE (rep 1: stop unless
 * equal) or REPNE (rep 2: stop when equal); the iterations left. */
static inline uint32_t rep_next_cond(X86Cpu *c, const X86Insn *i, uint32_t n, bool equal)
{
    if (!i->rep)
        return 0;
    n--;
    setcnt(c, i, n);
    if ((i->rep == 1 && !equal) || (i->rep == 2 && equal))
        return 0;
    return n;
}

/* Whether a REP stops after this iteration (to resume as an instruction
 * of its own). Only for what every run of the guest sees alike: a stop
 * request, the limit (a timer's deadline), a debug trap, an interrupt to
 * take. Not for breaks that come from the CPU's own caches (a store into
 * a page that holds translated code, a TLB or code-cache flush): what was
 * translated depends on the run's history (a run resumed from a snapshot
 * starts with none), and the instruction count, so deterministic time,
 * would follow it. brk stays set: the block still ends after the REP. */
static inline bool rep_yield(const X86Cpu *c)
{
    return c->brk && (*c->stop || *c->limitp <= x86_icount(c) || c->db_trap ||
                      x86_irq_pending(c));
}

static inline void rep_end(X86Cpu *c, const X86Insn *i, uint32_t left)
{
    if (i->rep && left) {
        c->next_eip = x86_insn_eip(c, i);   /* resume later */
        x86_break(c);
    }
}

/* REP MOVS / STOS in bulk: as many elements as fit, from the current
 * position, in both pages and both segment limits, when the TLB holds host
 * pointers for them (RAM that holds no code) and the direction is up.
 * Returns the count done, 0 when the element-wise loop must take the next
 * one (which also brings the pages into the TLB). */
static uint32_t rep_chunk(X86Cpu *c, const X86Insn *i, unsigned size, uint32_t n,
                          int sseg, uint8_t **dst, const uint8_t **src)
{
    if (c->eflags & F_DF)
        return 0;
    uint32_t m = amask(i);
    uint32_t di = c->r[R_EDI] & m;
    X86Seg *ds = &c->seg[S_ES];
    uint32_t dlin = ds->base + di;
    uint32_t k = (0x1000 - (dlin & 0xFFF)) / size;
    if (k > n)
        k = n;
    if (k > (m - di) / size)        /* no wrap of a 16-bit index */
        k = (m - di) / size;
    if (k == 0 || !ds->wr || !x86_seg_ok(ds, di, k * size))
        return 0;
    X86Tlb *e = x86_tlb_entry(c, dlin);
    if (e->wtag != (dlin & ~0xFFFu))
        return 0;
    *dst = (uint8_t *)(e->wadd + dlin);
    if (sseg < 0)
        return k;
    uint32_t si = c->r[R_ESI] & m;
    X86Seg *ss = &c->seg[sseg];
    uint32_t slin = ss->base + si;
    uint32_t ks = (0x1000 - (slin & 0xFFF)) / size;
    if (ks > (m - si) / size)
        ks = (m - si) / size;
    if (ks < k)
        k = ks;
    if (k == 0 || !ss->rd || !x86_seg_ok(ss, si, k * size))
        return 0;
    e = x86_tlb_entry(c, slin);
    if (e->rtag != (slin & ~0xFFFu))
        return 0;
    *src = (const uint8_t *)(e->radd + slin);
    /* element by element, a destination just above the source repeats
     * the source's first bytes: keep that case to the plain loop */
    if (*dst > *src && *dst < *src + k * size)
        return 0;
    return k;
}

X86_H(h_movs)
{
    unsigned size = (i->op & 1) ? x86_osize(i) : 1;
    int32_t d = (c->eflags & F_DF) ? -(int32_t)size : (int32_t)size;
    uint32_t n = rep_begin(c, i), m = amask(i);
    uint32_t k = 0;
    while (n && k < REP_CHUNK) {
        uint8_t *dst;
        const uint8_t *src;
        uint32_t b = i->rep ? rep_chunk(c, i, size, MIN(n, REP_CHUNK - k), i->seg, &dst, &src) : 0;
        if (b) {
            memmove(dst, src, b * size);
            addidx(c, i, R_ESI, (int32_t)(b * size));
            addidx(c, i, R_EDI, (int32_t)(b * size));
            n -= b;
            k += b;
            setcnt(c, i, n);
            continue;
        }
        uint32_t v = x86_ld(c, i->seg, c->r[R_ESI] & m, size);
        x86_st(c, S_ES, c->r[R_EDI] & m, v, size);
        addidx(c, i, R_ESI, d);
        addidx(c, i, R_EDI, d);
        k++;
        if (i->rep) {
            n--;
            setcnt(c, i, n);
        } else {
            n = 0;
        }
        if (n && rep_yield(c))
            break;
    }
    rep_end(c, i, n);
}

X86_H(h_stos)
{
    unsigned size = (i->op & 1) ? x86_osize(i) : 1;
    int32_t d = (c->eflags & F_DF) ? -(int32_t)size : (int32_t)size;
    uint32_t n = rep_begin(c, i), m = amask(i);
    uint32_t v = x86_getreg(c, R_EAX, size);
    uint32_t k = 0;
    while (n && k < REP_CHUNK) {
        uint8_t *dst;
        uint32_t b = i->rep ? rep_chunk(c, i, size, MIN(n, REP_CHUNK - k), -1, &dst, NULL) : 0;
        if (b) {
            if (size == 1) {
                memset(dst, (int)v, b);
            } else {
                for (uint32_t e = 0; e < b; e++)
                    x86_host_st(dst + e * size, v, size);
            }
            addidx(c, i, R_EDI, (int32_t)(b * size));
            n -= b;
            k += b;
            setcnt(c, i, n);
            continue;
        }
        x86_st(c, S_ES, c->r[R_EDI] & m, v, size);
        addidx(c, i, R_EDI, d);
        k++;
        if (i->rep) {
            n--;
            setcnt(c, i, n);
        } else {
            n = 0;
        }
        if (n && rep_yield(c))
            break;
    }
    rep_end(c, i, n);
}

X86_H(h_lods)
{
    unsigned size = (i->op & 1) ? x86_osize(i) : 1;
    int32_t d = (c->eflags & F_DF) ? -(int32_t)size : (int32_t)size;
    uint32_t n = rep_begin(c, i), m = amask(i);
    uint32_t k = 0;
    for (; n && k < REP_CHUNK; k++) {
        uint32_t v = x86_ld(c, i->seg, c->r[R_ESI] & m, size);
        x86_setreg(c, R_EAX, v, size);
        addidx(c, i, R_ESI, d);
        if (i->rep) {
            n--;
            setcnt(c, i, n);
        } else {
            n = 0;
        }
        if (n && rep_yield(c))
            break;      /* a data breakpoint: trap after this iteration */
    }
    rep_end(c, i, n);
}

static void cmp_set(X86Cpu *c, uint32_t a, uint32_t b, unsigned size)
{
    lf_sub(c, a, b, a - b, size);
}

X86_H(h_cmps)
{
    unsigned size = (i->op & 1) ? x86_osize(i) : 1;
    int32_t d = (c->eflags & F_DF) ? -(int32_t)size : (int32_t)size;
    uint32_t n = rep_begin(c, i), m = amask(i);
    uint32_t k = 0;
    for (; n && k < REP_CHUNK; k++) {
        uint32_t a = x86_ld(c, i->seg, c->r[R_ESI] & m, size);
        uint32_t b = x86_ld(c, S_ES, c->r[R_EDI] & m, size);
        cmp_set(c, a, b, size);
        addidx(c, i, R_ESI, d);
        addidx(c, i, R_EDI, d);
        n = rep_next_cond(c, i, n, a == b);
        if (n && rep_yield(c))
            break;      /* a data breakpoint: trap after this iteration */
    }
    rep_end(c, i, n);
}

X86_H(h_scas)
{
    unsigned size = (i->op & 1) ? x86_osize(i) : 1;
    int32_t d = (c->eflags & F_DF) ? -(int32_t)size : (int32_t)size;
    uint32_t n = rep_begin(c, i), m = amask(i);
    uint32_t a = x86_getreg(c, R_EAX, size);
    uint32_t k = 0;
    for (; n && k < REP_CHUNK; k++) {
        uint32_t b = x86_ld(c, S_ES, c->r[R_EDI] & m, size);
        cmp_set(c, a, b, size);
        addidx(c, i, R_EDI, d);
        n = rep_next_cond(c, i, n, a == b);
        if (n && rep_yield(c))
            break;      /* a data breakpoint: trap after this iteration */
    }
    rep_end(c, i, n);
}

X86_H(h_ins)
{
    unsigned size = (i->op & 1) ? x86_osize(i) : 1;
    int32_t d = (c->eflags & F_DF) ? -(int32_t)size : (int32_t)size;
    uint32_t port = c->r[R_EDX] & 0xFFFF;
    if (!x86_io_allowed(c, port, size))
        x86_gp(c, 0);
    uint32_t n = rep_begin(c, i), m = amask(i);
    uint32_t k = 0;
    for (; n && k < REP_CHUNK; k++) {
        /* check the destination before the port read has side effects */
        uint32_t lin = x86_lin(c, S_ES, c->r[R_EDI] & m, size, true);
        x86_st_lin(c, lin, x86_ld_lin(c, lin, size), size);
        uint32_t v = x86_io_in(c, port, size);
        x86_st_lin(c, lin, v, size);
        addidx(c, i, R_EDI, d);
        if (i->rep) {
            n--;
            setcnt(c, i, n);
        } else {
            n = 0;
        }
        if (n)
            break;   /* the device may have moved the deadline */
    }
    rep_end(c, i, n);
}

X86_H(h_outs)
{
    unsigned size = (i->op & 1) ? x86_osize(i) : 1;
    int32_t d = (c->eflags & F_DF) ? -(int32_t)size : (int32_t)size;
    uint32_t port = c->r[R_EDX] & 0xFFFF;
    if (!x86_io_allowed(c, port, size))
        x86_gp(c, 0);
    uint32_t n = rep_begin(c, i), m = amask(i);
    uint32_t k = 0;
    for (; n && k < REP_CHUNK; k++) {
        uint32_t v = x86_ld(c, i->seg, c->r[R_ESI] & m, size);
        x86_io_out(c, port, v, size);
        addidx(c, i, R_ESI, d);
        if (i->rep) {
            n--;
            setcnt(c, i, n);
        } else {
            n = 0;
        }
        if (n)
            break;
    }
    rep_end(c, i, n);
}
