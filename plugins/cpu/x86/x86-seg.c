/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Segmentation and protection: descriptor loads and their checks, far
 * JMP/CALL/RET through code segments and call gates, IRET
 * (SDM vol. 3, chapters 3 and 5; vol. 2 pseudo-code of each instruction).
 */
#include "x86-cpu.h"

static bool pmode(const X86Cpu *c)
{
    return (c->cr0 & CR0_PE) && !(c->eflags & F_VM);
}

void x86_set_cpl(X86Cpu *c, int cpl)
{
    c->cpl = cpl;
    c->tlbc = c->tlb[cpl == 3];
}

static void seg_derive(X86Cpu *c, int seg);

/* The derived fields of segment seg, after any change of its base,
 * limit or rights. A change of whether it is flat (x86_seg_flat_tag) ends
 * the running block: the flat set is part of the jump cache tag, which
 * vouches for the translations' flat-segment assumption (x86-jit.c). */
void x86_seg_derive(X86Cpu *c, int seg)
{
    seg_derive(c, seg);
    X86Seg *s = &c->seg[seg];
    s->wide = s->lo == 0 && s->hi == 0xFFFFFFFFu && s->rd && s->wr;
    if (seg < 6 && x86_seg_flat_tag(c, seg)
                   != !!(c->jc_tag & (1u << (JC_TAG_FLAT_SHIFT + seg))))
        x86_break(c);
}

static void seg_derive(X86Cpu *c, int seg)
{
    X86Seg *s = &c->seg[seg];
    if (!(c->cr0 & CR0_PE) || (c->eflags & F_VM)) {
        s->lo = 0;
        s->hi = s->limit;
        s->rd = s->wr = 1;
        if (seg == S_CS && (c->eflags & F_VM))
            s->wr = 1;
        return;
    }
    if (!(s->attr & D_P)) {
        s->lo = 1;
        s->hi = 0;
        s->rd = s->wr = 0;
        return;
    }
    if ((s->attr & (D_S | D_CODE)) == (D_S | D_CODE)) {
        s->rd = !!(s->attr & D_RW);
        s->wr = 0;
        s->lo = 0;
        s->hi = s->limit;
    } else if (s->attr & D_S) {
        s->rd = 1;
        s->wr = !!(s->attr & D_RW);
        if (s->attr & D_EXPDN) {
            s->lo = s->limit + 1;
            s->hi = (s->attr & D_DB) ? 0xFFFFFFFFu : 0xFFFFu;
            if (s->lo == 0 && s->limit == 0xFFFFFFFFu) {
                s->lo = 1;
                s->hi = 0;
            }
        } else {
            s->lo = 0;
            s->hi = s->limit;
        }
    } else {
        /* system segment (LDT, TSS) */
        s->rd = s->wr = 1;
        s->lo = 0;
        s->hi = s->limit;
    }
}

void x86_update_mode(X86Cpu *c)
{
    if (!(c->cr0 & CR0_PE))
        x86_set_cpl(c, 0);
    else if (c->eflags & F_VM)
        x86_set_cpl(c, 3);
    else
        x86_set_cpl(c, c->cpl);
    for (int s = 0; s < 6; s++)
        x86_seg_derive(c, s);
    c->code32 = !(c->eflags & F_VM) && (c->seg[S_CS].attr & D_DB);
    c->ss32 = !(c->eflags & F_VM) && (c->seg[S_SS].attr & D_DB);
    x86_break(c);
}

void x86_seg_set_real(X86Cpu *c, int seg, uint16_t sel)
{
    X86Seg *s = &c->seg[seg];
    s->sel = sel;
    s->base = (uint32_t)sel << 4;
    if (c->eflags & F_VM) {
        s->limit = 0xFFFF;
        s->attr = D_P | D_S | D_DPL | D_RW | D_ACC | (seg == S_CS ? D_CODE : 0);
    }
    if (seg == S_CS)
        c->code32 = !(c->eflags & F_VM) && (s->attr & D_DB);
    else if (seg == S_SS)
        c->ss32 = !(c->eflags & F_VM) && (s->attr & D_DB);
    x86_seg_derive(c, seg);     /* (after ss32: part of SS's flat tag) */
}

void x86_desc_to_seg(X86Seg *s, uint16_t sel, uint32_t lo, uint32_t hi)
{
    s->sel = sel;
    s->base = (lo >> 16) | ((hi & 0xFF) << 16) | (hi & 0xFF000000u);
    uint32_t lim = (hi & 0xF0000u) | (lo & 0xFFFF);
    if (hi & D_G)
        lim = (lim << 12) | 0xFFF;
    s->limit = lim;
    s->attr = hi & 0x00F0FF00u;
}

bool x86_read_desc(X86Cpu *c, uint16_t sel, uint32_t *lo, uint32_t *hi)
{
    uint32_t base, limit;
    if (sel & 4) {
        X86Seg *l = &c->seg[S_LDTR];
        if (!(l->attr & D_P) || (l->sel & ~3) == 0)
            return false;
        base = l->base;
        limit = l->limit;
    } else {
        base = c->gdt_base;
        limit = c->gdt_limit;
    }
    uint32_t idx = sel & ~7u;
    if (idx + 7 > limit)
        return false;
    *lo = x86_sys_read(c, base + idx, 4);
    *hi = x86_sys_read(c, base + idx + 4, 4);
    return true;
}

static void desc_write_hi(X86Cpu *c, uint16_t sel, uint32_t hi)
{
    uint32_t base = (sel & 4) ? c->seg[S_LDTR].base : c->gdt_base;
    x86_sys_write(c, base + (sel & ~7u) + 4, hi, 4);
}

static void set_accessed(X86Cpu *c, uint16_t sel, uint32_t *hi)
{
    if (!(*hi & D_ACC)) {
        *hi |= D_ACC;
        desc_write_hi(c, sel, *hi);
    }
}

static void load_seg_desc(X86Cpu *c, int seg, uint16_t sel, uint32_t lo, uint32_t hi)
{
    x86_desc_to_seg(&c->seg[seg], sel, lo, hi);
    if (seg == S_CS)
        c->code32 = hi & D_DB;
    else if (seg == S_SS)
        c->ss32 = hi & D_DB;
    x86_seg_derive(c, seg);     /* (after ss32: part of SS's flat tag) */
}

static void load_null(X86Cpu *c, int seg, uint16_t sel)
{
    X86Seg *s = &c->seg[seg];
    s->sel = sel;
    s->base = 0;
    s->limit = 0;
    s->attr = 0;
    x86_seg_derive(c, seg);
}

void x86_load_seg(X86Cpu *c, int seg, uint16_t sel)
{
    if (!pmode(c)) {
        x86_seg_set_real(c, seg, sel);
        if (seg == S_SS)
            x86_shadow(c, true);
        return;
    }
    uint32_t lo, hi;
    uint16_t esel = sel & 0xFFFC;
    int rpl = sel & 3;
    if (seg == S_SS) {
        if (esel == 0)
            x86_gp(c, 0);
        if (rpl != c->cpl || !x86_read_desc(c, sel, &lo, &hi))
            x86_gp(c, esel);
        if ((hi & (D_S | D_CODE | D_RW)) != (D_S | D_RW)
            || (int)((hi >> 13) & 3) != c->cpl)
            x86_gp(c, esel);
        if (!(hi & D_P))
            x86_raise(c, X86_SS, esel);
        set_accessed(c, sel, &hi);
        load_seg_desc(c, seg, sel, lo, hi);
        x86_shadow(c, true);
        return;
    }
    if (esel == 0) {
        load_null(c, seg, sel);
        return;
    }
    if (!x86_read_desc(c, sel, &lo, &hi))
        x86_gp(c, esel);
    if (!(hi & D_S) || (hi & (D_CODE | D_RW)) == D_CODE)
        x86_gp(c, esel);
    int dpl = (hi >> 13) & 3;
    if (!((hi & D_CODE) && (hi & D_CONF))) {
        if (dpl < c->cpl || dpl < rpl)
            x86_gp(c, esel);
    }
    if (!(hi & D_P))
        x86_raise(c, X86_NP, esel);
    set_accessed(c, sel, &hi);
    load_seg_desc(c, seg, sel, lo, hi);
}

/* Checks for a code segment reached by a direct far JMP/CALL. */
static void check_code_direct(X86Cpu *c, uint16_t sel, uint32_t hi)
{
    uint16_t esel = sel & 0xFFFC;
    int dpl = (hi >> 13) & 3, rpl = sel & 3;
    if (hi & D_CONF) {
        if (dpl > c->cpl)
            x86_gp(c, esel);
    } else if (rpl > c->cpl || dpl != c->cpl) {
        x86_gp(c, esel);
    }
    if (!(hi & D_P))
        x86_raise(c, X86_NP, esel);
}

static void set_cs(X86Cpu *c, uint16_t sel, uint32_t lo, uint32_t hi, int cpl)
{
    set_accessed(c, sel, &hi);
    load_seg_desc(c, S_CS, (sel & 0xFFFC) | cpl, lo, hi);
    x86_set_cpl(c, cpl);
    x86_break(c);
}

static uint32_t seg_limit_of(uint32_t lo, uint32_t hi)
{
    uint32_t lim = (hi & 0xF0000u) | (lo & 0xFFFF);
    return (hi & D_G) ? (lim << 12) | 0xFFF : lim;
}

/* The inner stack for privilege level dpl, from the current TSS. */
static void tss_stack(X86Cpu *c, int dpl, uint16_t *ss, uint32_t *esp)
{
    X86Seg *tr = &c->seg[S_TR];
    bool t32 = (tr->attr & 0x800) != 0;
    if (t32) {
        uint32_t off = 4 + dpl * 8;
        if (off + 5 > tr->limit)
            x86_raise(c, X86_TS, tr->sel & 0xFFFC);
        *esp = x86_sys_read(c, tr->base + off, 4);
        *ss = (uint16_t)x86_sys_read(c, tr->base + off + 4, 2);
    } else {
        uint32_t off = 2 + dpl * 4;
        if (off + 3 > tr->limit)
            x86_raise(c, X86_TS, tr->sel & 0xFFFC);
        *esp = x86_sys_read(c, tr->base + off, 2);
        *ss = (uint16_t)x86_sys_read(c, tr->base + off + 2, 2);
    }
}

/* Validate a new inner stack segment (#TS on failure). */
static void check_new_ss(X86Cpu *c, uint16_t ss, int dpl, uint32_t *lo, uint32_t *hi,
                         bool ext)
{
    uint16_t e = (ss & 0xFFFC) | ext;
    if ((ss & 0xFFFC) == 0)
        x86_raise(c, X86_TS, ext);
    if ((ss & 3) != dpl || !x86_read_desc(c, ss, lo, hi))
        x86_raise(c, X86_TS, e);
    if ((*hi & (D_S | D_CODE | D_RW)) != (D_S | D_RW) || (int)((*hi >> 13) & 3) != dpl)
        x86_raise(c, X86_TS, e);
    if (!(*hi & D_P))
        x86_raise(c, X86_SS, e);
}

/* Push onto a stack described by a (not yet loaded) segment. */
typedef struct {
    X86Seg s;
    uint32_t sp;
    bool s32;
    bool user;
} StackCtx;

static void sc_push(X86Cpu *c, StackCtx *k, uint32_t v, unsigned size)
{
    uint32_t sp = k->sp - size;
    if (!k->s32)
        sp &= 0xFFFF;
    if (!x86_seg_ok(&k->s, sp, size) || !k->s.wr)
        x86_raise(c, X86_SS, k->s.sel & 0xFFFC);
    x86_lin_write_slow(c, k->s.base + sp, v, size, k->user);
    k->sp = sp;
}

static void sc_init_cur(X86Cpu *c, StackCtx *k)
{
    k->s = c->seg[S_SS];
    k->s32 = c->ss32;
    k->sp = x86_sp(c);
    k->user = c->cpl == 3;
}

static void sc_commit(X86Cpu *c, StackCtx *k)
{
    if (k->s32)
        c->r[R_ESP] = k->sp;
    else
        c->r[R_ESP] = (c->r[R_ESP] & 0xFFFF0000u) | (k->sp & 0xFFFF);
}

static void make_stackctx(X86Cpu *c, StackCtx *k, uint16_t ss, uint32_t lo,
                          uint32_t hi, uint32_t esp, int dpl)
{
    x86_desc_to_seg(&k->s, ss, lo, hi);
    X86Seg save = c->seg[S_SS];
    c->seg[S_SS] = k->s;
    x86_seg_derive(c, S_SS);
    k->s = c->seg[S_SS];
    c->seg[S_SS] = save;
    k->s32 = hi & D_DB;
    k->sp = k->s32 ? esp : (esp & 0xFFFF);
    k->user = dpl == 3;
}

/* ---- far JMP / CALL -------------------------------------------------- */

void x86_far_jump(X86Cpu *c, uint16_t sel, uint32_t off, bool o32)
{
    if (!o32)
        off &= 0xFFFF;
    if (!pmode(c)) {
        if (off > c->seg[S_CS].limit)
            x86_gp(c, 0);
        x86_seg_set_real(c, S_CS, sel);
        c->next_eip = off;
        x86_break(c);
        return;
    }
    uint32_t lo, hi;
    uint16_t esel = sel & 0xFFFC;
    if (esel == 0)
        x86_gp(c, 0);
    if (!x86_read_desc(c, sel, &lo, &hi))
        x86_gp(c, esel);
    int dpl = (hi >> 13) & 3, rpl = sel & 3;
    if (hi & D_S) {
        if (!(hi & D_CODE))
            x86_gp(c, esel);
        check_code_direct(c, sel, hi);
        if (off > seg_limit_of(lo, hi))
            x86_gp(c, 0);
        set_cs(c, sel, lo, hi, c->cpl);
        c->next_eip = off;
        return;
    }
    unsigned type = (hi >> 8) & 0xF;
    switch (type) {
    case 1: case 9:     /* available TSS */
        if (dpl < c->cpl || dpl < rpl)
            x86_gp(c, esel);
        if (!(hi & D_P))
            x86_raise(c, X86_NP, esel);
        x86_task_switch(c, sel, lo, hi, TS_JMP, false, 0);
        return;
    case 5: {           /* task gate */
        if (dpl < c->cpl || dpl < rpl)
            x86_gp(c, esel);
        if (!(hi & D_P))
            x86_raise(c, X86_NP, esel);
        uint16_t tsel = lo >> 16;
        uint32_t tlo, thi;
        if ((tsel & 4) || !x86_read_desc(c, tsel, &tlo, &thi))
            x86_gp(c, tsel & 0xFFFC);
        unsigned tt = (thi >> 8) & 0x1F;
        if (tt != 1 && tt != 9)
            x86_gp(c, tsel & 0xFFFC);
        if (!(thi & D_P))
            x86_raise(c, X86_NP, tsel & 0xFFFC);
        x86_task_switch(c, tsel, tlo, thi, TS_JMP, false, 0);
        return;
    }
    case 4: case 12: {  /* call gate */
        if (dpl < c->cpl || dpl < rpl)
            x86_gp(c, esel);
        if (!(hi & D_P))
            x86_raise(c, X86_NP, esel);
        uint16_t csel = lo >> 16;
        uint32_t goff = (lo & 0xFFFF) | (type == 12 ? (hi & 0xFFFF0000u) : 0);
        uint32_t clo, chi;
        if ((csel & 0xFFFC) == 0)
            x86_gp(c, 0);
        if (!x86_read_desc(c, csel, &clo, &chi))
            x86_gp(c, csel & 0xFFFC);
        if ((chi & (D_S | D_CODE)) != (D_S | D_CODE))
            x86_gp(c, csel & 0xFFFC);
        int cdpl = (chi >> 13) & 3;
        if ((chi & D_CONF) ? cdpl > c->cpl : cdpl != c->cpl)
            x86_gp(c, csel & 0xFFFC);
        if (!(chi & D_P))
            x86_raise(c, X86_NP, csel & 0xFFFC);
        if (goff > seg_limit_of(clo, chi))
            x86_gp(c, 0);
        set_cs(c, csel, clo, chi, c->cpl);
        c->next_eip = goff;
        return;
    }
    default:
        x86_gp(c, esel);
    }
}

void x86_far_call(X86Cpu *c, uint16_t sel, uint32_t off, bool o32)
{
    unsigned sz = o32 ? 4 : 2;
    if (!o32)
        off &= 0xFFFF;
    if (!pmode(c)) {
        StackCtx k;
        sc_init_cur(c, &k);
        if (off > c->seg[S_CS].limit)
            x86_gp(c, 0);
        sc_push(c, &k, c->seg[S_CS].sel, sz);
        sc_push(c, &k, c->next_eip, sz);
        sc_commit(c, &k);
        x86_seg_set_real(c, S_CS, sel);
        c->next_eip = off;
        x86_break(c);
        return;
    }
    uint32_t lo, hi;
    uint16_t esel = sel & 0xFFFC;
    if (esel == 0)
        x86_gp(c, 0);
    if (!x86_read_desc(c, sel, &lo, &hi))
        x86_gp(c, esel);
    int dpl = (hi >> 13) & 3, rpl = sel & 3;
    if (hi & D_S) {
        if (!(hi & D_CODE))
            x86_gp(c, esel);
        check_code_direct(c, sel, hi);
        StackCtx k;
        sc_init_cur(c, &k);
        sc_push(c, &k, c->seg[S_CS].sel, sz);
        sc_push(c, &k, c->next_eip, sz);
        if (off > seg_limit_of(lo, hi))
            x86_gp(c, 0);
        sc_commit(c, &k);
        set_cs(c, sel, lo, hi, c->cpl);
        c->next_eip = off;
        return;
    }
    unsigned type = (hi >> 8) & 0xF;
    switch (type) {
    case 1: case 9:
        if (dpl < c->cpl || dpl < rpl)
            x86_gp(c, esel);
        if (!(hi & D_P))
            x86_raise(c, X86_NP, esel);
        x86_task_switch(c, sel, lo, hi, TS_CALL, false, 0);
        return;
    case 5: {
        if (dpl < c->cpl || dpl < rpl)
            x86_gp(c, esel);
        if (!(hi & D_P))
            x86_raise(c, X86_NP, esel);
        uint16_t tsel = lo >> 16;
        uint32_t tlo, thi;
        if ((tsel & 4) || !x86_read_desc(c, tsel, &tlo, &thi))
            x86_gp(c, tsel & 0xFFFC);
        unsigned tt = (thi >> 8) & 0x1F;
        if (tt != 1 && tt != 9)
            x86_gp(c, tsel & 0xFFFC);
        if (!(thi & D_P))
            x86_raise(c, X86_NP, tsel & 0xFFFC);
        x86_task_switch(c, tsel, tlo, thi, TS_CALL, false, 0);
        return;
    }
    case 4: case 12:
        break;
    default:
        x86_gp(c, esel);
    }
    /* call gate */
    if (dpl < c->cpl || dpl < rpl)
        x86_gp(c, esel);
    if (!(hi & D_P))
        x86_raise(c, X86_NP, esel);
    bool g32 = type == 12;
    unsigned gsz = g32 ? 4 : 2;
    uint16_t csel = lo >> 16;
    uint32_t goff = (lo & 0xFFFF) | (g32 ? (hi & 0xFFFF0000u) : 0);
    unsigned nparm = hi & 0x1F;
    uint32_t clo, chi;
    if ((csel & 0xFFFC) == 0)
        x86_gp(c, 0);
    if (!x86_read_desc(c, csel, &clo, &chi))
        x86_gp(c, csel & 0xFFFC);
    if ((chi & (D_S | D_CODE)) != (D_S | D_CODE))
        x86_gp(c, csel & 0xFFFC);
    int cdpl = (chi >> 13) & 3;
    if (cdpl > c->cpl)
        x86_gp(c, csel & 0xFFFC);
    if (!(chi & D_P))
        x86_raise(c, X86_NP, csel & 0xFFFC);
    if (!(chi & D_CONF) && cdpl < c->cpl) {
        /* more privileged: switch to the inner stack from the TSS */
        uint16_t nss;
        uint32_t nesp, slo, shi;
        tss_stack(c, cdpl, &nss, &nesp);
        check_new_ss(c, nss, cdpl, &slo, &shi, false);
        StackCtx k;
        make_stackctx(c, &k, nss, slo, shi, nesp, cdpl);
        uint32_t osp = x86_sp(c);
        uint16_t oss = c->seg[S_SS].sel;
        uint32_t parms[32];
        for (unsigned p = 0; p < nparm; p++)
            parms[p] = x86_ld(c, S_SS, (osp + p * gsz) & (c->ss32 ? 0xFFFFFFFFu : 0xFFFF), gsz);
        sc_push(c, &k, oss, gsz);
        sc_push(c, &k, c->r[R_ESP] & (gsz == 4 ? 0xFFFFFFFFu : 0xFFFF), gsz);
        for (unsigned p = nparm; p-- > 0;)
            sc_push(c, &k, parms[p], gsz);
        sc_push(c, &k, c->seg[S_CS].sel, gsz);
        sc_push(c, &k, c->next_eip, gsz);
        if (goff > seg_limit_of(clo, chi))
            x86_gp(c, 0);
        set_accessed(c, nss, &shi);
        load_seg_desc(c, S_SS, nss, slo, shi);
        sc_commit(c, &k);
        set_cs(c, csel, clo, chi, cdpl);
        c->next_eip = goff;
        return;
    }
    StackCtx k;
    sc_init_cur(c, &k);
    sc_push(c, &k, c->seg[S_CS].sel, gsz);
    sc_push(c, &k, c->next_eip, gsz);
    if (goff > seg_limit_of(clo, chi))
        x86_gp(c, 0);
    sc_commit(c, &k);
    set_cs(c, csel, clo, chi, c->cpl);
    c->next_eip = goff;
}

/* After a return to an outer level, data segments the new CPL may not use
 * become null (SDM vol. 2, RET pseudo-code). */
static void null_inaccessible(X86Cpu *c)
{
    static const int segs[4] = { S_ES, S_DS, S_FS, S_GS };
    for (int k = 0; k < 4; k++) {
        X86Seg *s = &c->seg[segs[k]];
        int dpl = (s->attr >> 13) & 3;
        bool conf_code = (s->attr & (D_CODE | D_CONF)) == (D_CODE | D_CONF);
        if (!(s->attr & D_S) || (!conf_code && dpl < c->cpl))
            load_null(c, segs[k], 0);
    }
}

/* Checks on the CS being returned to. */
static void check_ret_cs(X86Cpu *c, uint16_t sel, uint32_t *lo, uint32_t *hi)
{
    uint16_t esel = sel & 0xFFFC;
    if (esel == 0)
        x86_gp(c, 0);
    if (!x86_read_desc(c, sel, lo, hi))
        x86_gp(c, esel);
    int rpl = sel & 3, dpl = (*hi >> 13) & 3;
    if ((*hi & (D_S | D_CODE)) != (D_S | D_CODE) || rpl < c->cpl)
        x86_gp(c, esel);
    if ((*hi & D_CONF) ? dpl > rpl : dpl != rpl)
        x86_gp(c, esel);
    if (!(*hi & D_P))
        x86_raise(c, X86_NP, esel);
}

static void check_ret_ss(X86Cpu *c, uint16_t ss, int rpl, uint32_t *lo, uint32_t *hi)
{
    uint16_t e = ss & 0xFFFC;
    if (e == 0)
        x86_gp(c, 0);
    if ((ss & 3) != rpl || !x86_read_desc(c, ss, lo, hi))
        x86_gp(c, e);
    if ((*hi & (D_S | D_CODE | D_RW)) != (D_S | D_RW) || (int)((*hi >> 13) & 3) != rpl)
        x86_gp(c, e);
    if (!(*hi & D_P))
        x86_raise(c, X86_SS, e);
}

void x86_far_ret(X86Cpu *c, bool o32, uint16_t imm)
{
    unsigned sz = o32 ? 4 : 2;
    uint32_t spm = c->ss32 ? 0xFFFFFFFFu : 0xFFFF;
    uint32_t sp = x86_sp(c);
    uint32_t off = x86_ld(c, S_SS, sp, sz);
    uint16_t sel = (uint16_t)x86_ld(c, S_SS, (sp + sz) & spm, 2);
    if (!pmode(c)) {
        if (off > c->seg[S_CS].limit && !(c->eflags & F_VM))
            x86_gp(c, 0);
        x86_seg_set_real(c, S_CS, sel);
        x86_set_sp(c, sp + 2 * sz + imm);
        c->next_eip = off;
        x86_break(c);
        return;
    }
    uint32_t lo, hi;
    check_ret_cs(c, sel, &lo, &hi);
    int rpl = sel & 3;
    if (rpl == c->cpl) {
        if (off > seg_limit_of(lo, hi))
            x86_gp(c, 0);
        set_cs(c, sel, lo, hi, c->cpl);
        x86_set_sp(c, sp + 2 * sz + imm);
        c->next_eip = off;
        return;
    }
    uint32_t nsp = (sp + 2 * sz + imm) & spm;
    uint32_t nesp = x86_ld(c, S_SS, nsp, sz);
    uint16_t nss = (uint16_t)x86_ld(c, S_SS, (nsp + sz) & spm, 2);
    uint32_t slo, shi;
    check_ret_ss(c, nss, rpl, &slo, &shi);
    if (off > seg_limit_of(lo, hi))
        x86_gp(c, 0);
    set_cs(c, sel, lo, hi, rpl);
    set_accessed(c, nss, &shi);
    load_seg_desc(c, S_SS, nss, slo, shi);
    x86_set_sp(c, (o32 ? nesp : (nesp & 0xFFFF)) + imm);
    null_inaccessible(c);
    c->next_eip = off;
}

/* ---- IRET -------------------------------------------------------------- */

static uint32_t iret_flag_mask(X86Cpu *c, bool o32)
{
    uint32_t m = F_ARITH | F_TF | F_DF | F_NT;
    if (o32)
        m |= F_RF | F_AC | (x86_has_cpuid(c) ? F_ID : 0);
    if (c->cpl <= (int)((c->eflags & F_IOPL) >> 12))
        m |= F_IF;
    if (c->cpl == 0) {
        m |= F_IOPL;
        if (o32)
            m |= F_VIF | F_VIP;
    }
    return m;
}

void x86_iret(X86Cpu *c, bool o32)
{
    c->nmi_blocked = false;
    unsigned sz = o32 ? 4 : 2;
    uint32_t spm = c->ss32 ? 0xFFFFFFFFu : 0xFFFF;
    uint32_t sp = x86_sp(c);
    if (!(c->cr0 & CR0_PE)) {
        uint32_t off = x86_ld(c, S_SS, sp, sz);
        uint16_t sel = (uint16_t)x86_ld(c, S_SS, (sp + sz) & spm, 2);
        uint32_t fl = x86_ld(c, S_SS, (sp + 2 * sz) & spm, sz);
        if (off > c->seg[S_CS].limit)
            x86_gp(c, 0);
        x86_seg_set_real(c, S_CS, sel);
        x86_set_sp(c, sp + 3 * sz);
        uint32_t m = F_ARITH | F_TF | F_DF | F_NT | F_IF | F_IOPL;
        if (o32)
            m |= F_RF | F_AC | F_ID;
        x86_write_eflags(c, fl, m);
        c->next_eip = off;
        x86_break(c);
        return;
    }
    if (c->eflags & F_VM) {
        if ((c->eflags & F_IOPL) != F_IOPL)
            x86_gp(c, 0);
        uint32_t off = x86_ld(c, S_SS, sp, sz);
        uint16_t sel = (uint16_t)x86_ld(c, S_SS, (sp + sz) & spm, 2);
        uint32_t fl = x86_ld(c, S_SS, (sp + 2 * sz) & spm, sz);
        if (!o32)
            off &= 0xFFFF;
        if (off > 0xFFFF)
            x86_gp(c, 0);
        x86_seg_set_real(c, S_CS, sel);
        x86_set_sp(c, sp + 3 * sz);
        uint32_t m = F_ARITH | F_TF | F_DF | F_NT | F_IF;
        if (o32)
            m |= F_RF | F_AC | F_ID;
        x86_write_eflags(c, fl, m);
        c->next_eip = off;
        x86_break(c);
        return;
    }
    if (c->eflags & F_NT) {
        uint16_t back = (uint16_t)x86_sys_read(c, c->seg[S_TR].base, 2);
        uint32_t lo, hi;
        if ((back & 4) || !x86_read_desc(c, back, &lo, &hi))
            x86_raise(c, X86_TS, back & 0xFFFC);
        unsigned t = (hi >> 8) & 0x1F;
        if (t != 3 && t != 11)
            x86_raise(c, X86_TS, back & 0xFFFC);
        if (!(hi & D_P))
            x86_raise(c, X86_NP, back & 0xFFFC);
        x86_task_switch(c, back, lo, hi, TS_IRET, false, 0);
        return;
    }
    uint32_t off = x86_ld(c, S_SS, sp, sz);
    uint16_t sel = (uint16_t)x86_ld(c, S_SS, (sp + sz) & spm, 2);
    uint32_t fl = x86_ld(c, S_SS, (sp + 2 * sz) & spm, sz);
    if (o32 && (fl & F_VM) && c->cpl == 0) {
        /* return to virtual-8086 mode */
        uint32_t b = sp + 12;
        uint32_t nesp = x86_ld(c, S_SS, (b) & spm, 4);
        uint16_t nss = (uint16_t)x86_ld(c, S_SS, (b + 4) & spm, 2);
        uint16_t es = (uint16_t)x86_ld(c, S_SS, (b + 8) & spm, 2);
        uint16_t ds = (uint16_t)x86_ld(c, S_SS, (b + 12) & spm, 2);
        uint16_t fs = (uint16_t)x86_ld(c, S_SS, (b + 16) & spm, 2);
        uint16_t gs = (uint16_t)x86_ld(c, S_SS, (b + 20) & spm, 2);
        c->eflags = (fl & ~0xFFC08028u) | 2;
        x86_set_arith(c, c->eflags);
        x86_update_mode(c);
        x86_seg_set_real(c, S_CS, sel);
        x86_seg_set_real(c, S_SS, nss);
        x86_seg_set_real(c, S_ES, es);
        x86_seg_set_real(c, S_DS, ds);
        x86_seg_set_real(c, S_FS, fs);
        x86_seg_set_real(c, S_GS, gs);
        c->r[R_ESP] = nesp;
        c->next_eip = off & 0xFFFF;
        x86_break(c);
        return;
    }
    uint32_t lo, hi;
    check_ret_cs(c, sel, &lo, &hi);
    int rpl = sel & 3;
    if (!o32)
        off &= 0xFFFF;
    uint32_t m = iret_flag_mask(c, o32);
    if (rpl == c->cpl) {
        if (off > seg_limit_of(lo, hi))
            x86_gp(c, 0);
        set_cs(c, sel, lo, hi, c->cpl);
        x86_set_sp(c, sp + 3 * sz);
        x86_write_eflags(c, fl, m);
        c->next_eip = off;
        return;
    }
    uint32_t nsp = (sp + 3 * sz) & spm;
    uint32_t nesp = x86_ld(c, S_SS, nsp, sz);
    uint16_t nss = (uint16_t)x86_ld(c, S_SS, (nsp + sz) & spm, 2);
    uint32_t slo, shi;
    check_ret_ss(c, nss, rpl, &slo, &shi);
    if (off > seg_limit_of(lo, hi))
        x86_gp(c, 0);
    x86_write_eflags(c, fl, m);
    set_cs(c, sel, lo, hi, rpl);
    set_accessed(c, nss, &shi);
    load_seg_desc(c, S_SS, nss, slo, shi);
    x86_set_sp(c, o32 ? nesp : (nesp & 0xFFFF));
    null_inaccessible(c);
    c->next_eip = off;
}

/* ---- interrupts and exceptions through the IDT ------------------------ */

void x86_interrupt(X86Cpu *c, int vec, int kind, bool has_err, uint32_t err,
                   uint32_t ret_eip)
{
    int ext = kind != INT_SOFT;
    c->halted = false;
    if (!(c->cr0 & CR0_PE)) {
        if ((uint32_t)vec * 4 + 3 > c->idt_limit)
            x86_gp(c, 0);
        StackCtx k;
        sc_init_cur(c, &k);
        uint32_t ip = x86_sys_read(c, c->idt_base + vec * 4, 2);
        uint16_t cs = (uint16_t)x86_sys_read(c, c->idt_base + vec * 4 + 2, 2);
        sc_push(c, &k, x86_get_eflags(c), 2);
        sc_push(c, &k, c->seg[S_CS].sel, 2);
        sc_push(c, &k, ret_eip, 2);
        sc_commit(c, &k);
        x86_write_eflags(c, 0, F_IF | F_TF | F_AC | F_RF);
        x86_seg_set_real(c, S_CS, cs);
        c->eip = c->next_eip = ip;
        x86_break(c);
        return;
    }
    if (kind == INT_SOFT && (c->eflags & F_VM) && (c->eflags & F_IOPL) != F_IOPL)
        x86_gp(c, 0);
    uint32_t gerr = vec * 8 + 2 + ext;
    if ((uint32_t)vec * 8 + 7 > c->idt_limit)
        x86_gp(c, gerr);
    uint32_t lo = x86_sys_read(c, c->idt_base + vec * 8, 4);
    uint32_t hi = x86_sys_read(c, c->idt_base + vec * 8 + 4, 4);
    unsigned type = (hi >> 8) & 0x1F;
    int gdpl = (hi >> 13) & 3;
    switch (type) {
    case 5: case 6: case 7: case 14: case 15:
        break;
    default:
        x86_gp(c, gerr);
    }
    if (kind == INT_SOFT && gdpl < c->cpl)
        x86_gp(c, gerr);
    if (!(hi & D_P))
        x86_raise(c, X86_NP, gerr);
    if (type == 5) {
        uint16_t tsel = lo >> 16;
        uint32_t tlo, thi;
        if ((tsel & 4) || !x86_read_desc(c, tsel, &tlo, &thi))
            x86_raise(c, X86_TS, (tsel & 0xFFFC) | ext);
        unsigned tt = (thi >> 8) & 0x1F;
        if (tt != 1 && tt != 9)
            x86_raise(c, X86_TS, (tsel & 0xFFFC) | ext);
        if (!(thi & D_P))
            x86_raise(c, X86_NP, (tsel & 0xFFFC) | ext);
        c->next_eip = ret_eip;
        x86_task_switch(c, tsel, tlo, thi, TS_INT, has_err, err);
        c->eip = c->next_eip;
        return;
    }
    bool g32 = type >= 14;
    unsigned gsz = g32 ? 4 : 2;
    uint16_t csel = lo >> 16;
    uint32_t goff = (lo & 0xFFFF) | (g32 ? (hi & 0xFFFF0000u) : 0);
    uint32_t clo, chi;
    if ((csel & 0xFFFC) == 0)
        x86_gp(c, ext);
    if (!x86_read_desc(c, csel, &clo, &chi))
        x86_gp(c, (csel & 0xFFFC) | ext);
    int cdpl = (chi >> 13) & 3;
    if ((chi & (D_S | D_CODE)) != (D_S | D_CODE) || cdpl > c->cpl)
        x86_gp(c, (csel & 0xFFFC) | ext);
    if (!(chi & D_P))
        x86_raise(c, X86_NP, (csel & 0xFFFC) | ext);
    uint32_t fl = x86_get_eflags(c);
    bool vm = fl & F_VM;
    int ncpl;
    StackCtx k;
    bool newstack = false;
    uint16_t nss = 0;
    uint32_t slo = 0, shi = 0;
    if (!(chi & D_CONF) && cdpl < c->cpl) {
        if (vm && cdpl != 0)
            x86_gp(c, (csel & 0xFFFC) | ext);
        uint32_t nesp;
        tss_stack(c, cdpl, &nss, &nesp);
        check_new_ss(c, nss, cdpl, &slo, &shi, ext);
        make_stackctx(c, &k, nss, slo, shi, nesp, cdpl);
        if (vm) {
            sc_push(c, &k, c->seg[S_GS].sel, gsz);
            sc_push(c, &k, c->seg[S_FS].sel, gsz);
            sc_push(c, &k, c->seg[S_DS].sel, gsz);
            sc_push(c, &k, c->seg[S_ES].sel, gsz);
        }
        sc_push(c, &k, c->seg[S_SS].sel, gsz);
        sc_push(c, &k, c->r[R_ESP], gsz);
        ncpl = cdpl;
        newstack = true;
    } else {
        if (vm)
            x86_gp(c, (csel & 0xFFFC) | ext);
        sc_init_cur(c, &k);
        ncpl = c->cpl;
    }
    sc_push(c, &k, fl, gsz);
    sc_push(c, &k, c->seg[S_CS].sel, gsz);
    sc_push(c, &k, ret_eip, gsz);
    if (has_err)
        sc_push(c, &k, err, gsz);
    if (goff > seg_limit_of(clo, chi))
        x86_gp(c, ext);
    /* commit */
    if (newstack) {
        set_accessed(c, nss, &shi);
        if (vm) {
            x86_flags_sync(c);
            c->eflags &= ~F_VM;
            x86_set_cpl(c, ncpl);
            load_null(c, S_GS, 0);
            load_null(c, S_FS, 0);
            load_null(c, S_DS, 0);
            load_null(c, S_ES, 0);
        }
        load_seg_desc(c, S_SS, nss, slo, shi);
    }
    sc_commit(c, &k);
    set_cs(c, csel, clo, chi, ncpl);
    uint32_t clr = F_TF | F_NT | F_RF | F_VM;
    if (!(type & 1))
        clr |= F_IF;
    x86_write_eflags(c, 0, clr);
    x86_update_mode(c);
    c->eip = c->next_eip = goff;
}
