/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The translator's flag computations (see x86-jit.c): the lazy flags
 * (lf_res / lf_aux as x86-cpu.h defines them) of the inline forms, the
 * flags left for the block's end (deferred flags), and flag liveness,
 * which spares the computations a later instruction overwrites.
 */
#include "x86-jit-ctx.h"

#if X86_HAVE_JIT

/* ---- lazy flags ---------------------------------------------------------------- */

/* lf_res = sext(EDX) */
static void f_res(JCtx *j, unsigned size)
{
    JEm *e = &j->e;
    if (j->dead_flags)
        return;
    if (size < 4) {
        e_movsx(e, size, H_R8, H_DX);
        e_st32(e, H_R8, H_BX, OFF(lf_res));
    } else {
        e_st32(e, H_DX, H_BX, OFF(lf_res));
    }
}
/* lf_aux = lf_carries(R8D, size) */
static void f_carries(JCtx *j, unsigned size)
{
    JEm *e = &j->e;
    if (size == 4) {
        e_alu_ri(e, 4, H_R8, LF_CF | LF_PO | LF_AF);
    } else {
        e_mov_rr(e, H_R9, H_R8);
        e_shift_ri(e, 4, H_R9, (uint8_t)(32 - 8 * size));
        e_alu_ri(e, 4, H_R9, LF_CF | LF_PO);
        e_alu_ri(e, 4, H_R8, LF_AF);
        e_alu_rr(e, 1, H_R8, H_R9);
    }
    e_st32(e, H_R8, H_BX, OFF(lf_aux));
}
/* a = EAX, b = ECX, r = EDX: lf_add / lf_sub / lf_logic */
static void f_add(JCtx *j, unsigned size)
{
    JEm *e = &j->e;
    if (j->dead_flags)
        return;
    f_res(j, size);
    e_mov_rr(e, H_R8, H_AX);
    e_alu_rr(e, 1, H_R8, H_CX);         /* a | b */
    e_mov_rr(e, H_R9, H_DX);
    e_not(e, H_R9);
    e_alu_rr(e, 4, H_R8, H_R9);         /* & ~r */
    e_mov_rr(e, H_R9, H_AX);
    e_alu_rr(e, 4, H_R9, H_CX);
    e_alu_rr(e, 1, H_R8, H_R9);         /* | a & b */
    f_carries(j, size);
}
static void f_sub(JCtx *j, unsigned size)
{
    JEm *e = &j->e;
    if (j->dead_flags)
        return;
    f_res(j, size);
    e_mov_rr(e, H_R8, H_AX);
    e_not(e, H_R8);
    e_alu_rr(e, 4, H_R8, H_CX);         /* ~a & b */
    e_mov_rr(e, H_R9, H_AX);
    e_alu_rr(e, 6, H_R9, H_CX);
    e_not(e, H_R9);
    e_alu_rr(e, 4, H_R9, H_DX);         /* ~(a ^ b) & r */
    e_alu_rr(e, 1, H_R8, H_R9);
    f_carries(j, size);
}
void f_logic(JCtx *j, unsigned size)
{
    if (j->dead_flags)
        return;
    f_res(j, size);
    e_st_imm32(&j->e, H_BX, OFF(lf_aux), 0);
}

/* The 32-bit ADD / SUB whose result EDX is, with the host's carry flag
 * just set by a compare to the carry (borrow) out of bit 31: lf_aux
 * from the carry-in vector a ^ b ^ r (a sum's bit is a ^ b ^ carry-in,
 * a difference's a ^ b ^ borrow-in), whose bit i + 1 is bit i's carry
 * out: shifted right by one through the carry flag it has LF_CF at bit
 * 31, LF_PO at 30 and LF_AF at 3. The compare: set_cf, emitted after
 * the XORs (which clear it). */
static void f_addsub32(JCtx *j, bool sub)
{
    JEm *e = &j->e;
    f_res(j, 4);
    e_mov_rr(e, H_R8, H_DX);
    e_alu_rr(e, 6, H_R8, H_AX);
    e_alu_rr(e, 6, H_R8, H_CX);
    if (sub)
        e_alu_rr(e, 7, H_AX, H_CX);     /* CF = a < b */
    else
        e_alu_rr(e, 7, H_DX, H_AX);     /* CF = r < a */
    e_r(e, false, 0xD1, 3, H_R8);       /* rcr r8d, 1 */
    e_alu_ri(e, 4, H_R8, LF_CF | LF_PO | LF_AF);
    e_st32(e, H_R8, H_BX, OFF(lf_aux));
}

/* EDX = EAX op ECX with flags (alu_op in x86-exec-fast.c) */
void j_alu_core(JCtx *j, unsigned op, unsigned size)
{
    JEm *e = &j->e;
    if (size == 4 && !j->dead_flags && (op == 0 || op == 5 || op == 7)) {
        if (op == 0) {
            e_lea(e, H_DX, H_AX, H_CX, 0, 0);
        } else {
            e_mov_rr(e, H_DX, H_AX);
            e_alu_rr(e, 5, H_DX, H_CX);
        }
        f_addsub32(j, op != 0);
        return;
    }
    switch (op) {
    case 0: case 1: case 4: case 6:
        e_mov_rr(e, H_DX, H_AX);
        e_alu_rr(e, op, H_DX, H_CX);
        if (op == 0)
            f_add(j, size);
        else
            f_logic(j, size);
        break;
    case 2:                             /* ADC: a + b + CF */
        e_ld32(e, H_DX, H_BX, OFF(lf_aux));
        e_shift_ri(e, 5, H_DX, 31);
        e_alu_rr(e, 0, H_DX, H_AX);
        e_alu_rr(e, 0, H_DX, H_CX);
        f_add(j, size);
        break;
    case 3:                             /* SBB: a - b - CF */
        e_ld32(e, H_R8, H_BX, OFF(lf_aux));
        e_shift_ri(e, 5, H_R8, 31);
        e_mov_rr(e, H_DX, H_AX);
        e_alu_rr(e, 5, H_DX, H_CX);
        e_alu_rr(e, 5, H_DX, H_R8);
        f_sub(j, size);
        break;
    default:                            /* SUB, CMP */
        e_mov_rr(e, H_DX, H_AX);
        e_alu_rr(e, 5, H_DX, H_CX);
        f_sub(j, size);
        break;
    }
}

/* The flags of ROL (op 0) / ROR (1) r32 for the result in EDX: CF and OF
 * only; clobbers ECX, R8. */
void f_rot(JCtx *j, unsigned op)
{
    JEm *e = &j->e;
    if (op == 0) {                      /* CF = r bit 0, CF ^ OF = r bit 31 */
        e_mov_rr(e, H_CX, H_DX);
        e_shift_ri(e, 4, H_CX, 31);
        e_mov_rr(e, H_R8, H_DX);
        e_shift_ri(e, 5, H_R8, 31);
        e_shift_ri(e, 4, H_R8, 30);
        e_alu_rr(e, 1, H_CX, H_R8);
    } else {                            /* CF = r bit 31, CF ^ OF = r bit 30 */
        e_mov_rr(e, H_CX, H_DX);
        e_alu_ri(e, 4, H_CX, LF_CF | LF_PO);
    }
    e_ld32(e, H_R8, H_BX, OFF(lf_aux));
    e_alu_ri(e, 4, H_R8, ~(LF_CF | LF_PO));
    e_alu_rr(e, 1, H_CX, H_R8);
    e_st32(e, H_CX, H_BX, OFF(lf_aux));
}

/* The flags of INC / DEC (lf_incdec: CF kept) for the result in EDX;
 * clobbers EAX, ECX, R8, R9. */
void f_incdec(JCtx *j, bool dec)
{
    JEm *e = &j->e;
    e_st32(e, H_DX, H_BX, OFF(lf_res));
    e_ld32(e, H_R8, H_BX, OFF(lf_aux));
    e_alu_ri(e, 4, H_R8, LF_CF);
    e_mov_rr(e, H_R9, H_R8);
    e_shift_ri(e, 5, H_R9, 1);
    e_alu_rr(e, 1, H_R8, H_R9);                     /* cf | cf >> 1 */
    e_alu_ri(e, 7, H_DX, dec ? 0x7FFFFFFFu : 0x80000000u);
    e_setcc(e, HC_E, H_AX);
    e_shift_ri(e, 4, H_AX, 30);
    e_alu_rr(e, 6, H_R8, H_AX);                     /* ^ of << 30 */
    e_mov_rr(e, H_CX, H_DX);
    e_alu_ri(e, 4, H_CX, 0xF);
    e_alu_ri(e, 7, H_CX, dec ? 0xF : 0);
    e_setcc(e, HC_E, H_AX);
    e_shift_ri(e, 4, H_AX, 3);
    e_alu_rr(e, 1, H_R8, H_AX);                     /* | af << 3 */
    e_st32(e, H_R8, H_BX, OFF(lf_aux));
}

/* ---- deferred flags ------------------------------------------------------------- */

/* Deferred flags. A block that ends with INC / DEC r32 and JZ / JNZ,
 * the INC / DEC perhaps after other INC / DEC r32 and ROL / ROR r32, imm
 * (the run defer_run finds), leaves the flag computations of that run to
 * where the block ends, or to before a fallback calls a handler, in
 * their order: each flag result follows from the instruction's result
 * alone, still in its register, as nothing later in the run writes that
 * register. The JZ / JNZ tests the register of the INC / DEC, and a block
 * that runs again in place, whose start overwrites the flags before it
 * reads them, never computes them. */

/* queue a flag computation for defer_emit */
void defer_push(JCtx *j, unsigned kind, unsigned reg)
{
    j->defq[j->ndef].kind = (uint8_t)kind;
    j->defq[j->ndef].reg = (uint8_t)reg;
    j->ndef++;
}

/* the register an instruction of a deferrable run writes, or -1 */
static int defer_reg_of(const X86Insn *i)
{
    if (i->lock)
        return -1;
    if (i->fn == h_inc32_r || i->fn == h_dec32_r)
        return i->reg;
    if ((i->fn == x86_fast_shift[0][2][0] || i->fn == x86_fast_shift[1][2][0]) && (i->imm & 0x1F))
        return i->rm;
    return -1;
}

unsigned defer_run(const X86Block *b)
{
    unsigned n = b->n;
    if (n < 2)
        return n;
    const X86Insn *t = &b->ins[n - 1], *d = &b->ins[n - 2];
    int idx = -1;
    for (unsigned k = 0; k < 16; k++)
        if (t->fn == x86_fast_jcc[k])
            idx = (int)k;
    if (t->lock || (idx >> 1) != 2 || d->lock || (d->fn != h_inc32_r && d->fn != h_dec32_r))
        return n;
    unsigned from = n - 2;
    while (from > 0) {
        int r = defer_reg_of(&b->ins[from - 1]);
        if (r < 0)
            break;
        for (unsigned k = from; k < n - 1; k++)
            if (defer_reg_of(&b->ins[k]) == r)
                r = -1;
        if (r < 0)
            break;
        from--;
    }
    return from;
}

/* the queued flag computations, in their order */
void defer_emit(JCtx *j)
{
    for (unsigned k = 0; k < j->ndef; k++) {
        g_ld32(j, H_DX, j->defq[k].reg);
        if (j->defq[k].kind <= DF_DEC)
            f_incdec(j, j->defq[k].kind == DF_DEC);
        else
            f_rot(j, j->defq[k].kind == DF_ROL ? 0 : 1);
    }
}

/* ---- flag liveness ---------------------------------------------------------------- */

/* Flag liveness, by the parts of the lazy representation (x86-cpu.h):
 * lf_res, the CF / PO bits of lf_aux (CF, OF) and the rest of lf_aux
 * (AF, the SF and PF deltas). For an instruction the translator inlines:
 * the parts its flag computation writes whole, the parts it reads (ADC,
 * SBB: CF; INC, DEC: CF, kept), and whether the state must be complete
 * before it (a barrier: it may fault, and the delivery pushes EFLAGS; it
 * calls a handler; it ends the block). Rotates replace CF and OF only,
 * passing the rest through. */
enum { LV_RES = 1, LV_CO = 2, LV_REST = 4, LV_ALL = 7 };

typedef struct FlagUse {
    uint8_t wr, rd;
    uint8_t may;            /* written or not, by the count (a shift by CL) */
    bool barrier;
} FlagUse;

static FlagUse flag_use(const X86Insn *i)
{
    X86Handler fn = i->fn;
    int idx;
    FlagUse u = { 0, 0, 0, true };
    if (i->lock)
        return u;
    if ((idx = find(fn, &x86_fast_mov[0][0], 3 * 5)) >= 0) {
        u.barrier = !(idx % 5 == FF_RR || idx % 5 == FF_RI);
        return u;
    }
    if ((idx = find(fn, &x86_fast_movx[0][0][0][0], 16)) >= 0) {
        u.barrier = idx & 1;
        return u;
    }
    if (fn == h_lea32 || fn == h_nop) {
        u.barrier = false;
        return u;
    }
    if ((idx = find(fn, &x86_fast_alu[0][0][0], 8 * 3 * 5)) >= 0) {
        unsigned op = (unsigned)idx / 15, form = (unsigned)idx % 5;
        u.wr = LV_ALL;
        u.rd = op == 2 || op == 3 ? LV_CO : 0;
        u.barrier = !(form == FF_RR || form == FF_RI);
        return u;
    }
    if ((idx = find(fn, &x86_fast_test[0][0], 3 * 5)) >= 0) {
        u.wr = LV_ALL;
        u.barrier = !(idx % 5 == FF_RR || idx % 5 == FF_RI);
        return u;
    }
    for (unsigned op = 0; op < 8; op++) {
        if (op == 2 || op == 3)
            continue;
        if (fn == x86_fast_shift[op][2][0]) {
            u.barrier = false;
            if (i->imm & 0x1F)
                u.wr = op < 2 ? LV_CO : LV_ALL;
            return u;
        }
        if (fn == x86_fast_shift[op][2][1]) {       /* by CL: maybe 0 */
            u.barrier = false;
            u.may = op < 2 ? LV_CO : LV_ALL;
            return u;
        }
    }
    if ((fn == h_shld || fn == h_shrd) && i->mod == 3 && i->o32) {
        u.barrier = false;
        u.may = LV_ALL;
        return u;
    }
    if (fn == h_grp5 && i->reg <= 1 && i->o32) {    /* INC, DEC m32 */
        u.wr = LV_ALL;
        u.rd = LV_CO;
        return u;
    }
    if (fn == h_grp3 && (i->reg == 4 || i->reg == 5) && (i->op & 1) && i->o32) {
        u.wr = LV_ALL;
        u.barrier = i->mod != 3;
        return u;
    }
    if ((fn == h_cwd || fn == h_bswap) && i->o32) {
        u.barrier = false;
        return u;
    }
    if (fn == h_imul32_GEI_r || fn == h_imul32_GE_r) {
        u.wr = LV_ALL;
        u.barrier = false;
        return u;
    }
    if (fn == h_inc32_r || fn == h_dec32_r) {
        u.wr = LV_ALL;
        u.rd = LV_CO;
        u.barrier = false;
        return u;
    }
    return u;
}

/* dead[k]: every part instruction k's flag computation writes is
 * written again, before anything can read it or see it (a barrier), by
 * later instructions of the block: k need not compute its flags. */
unsigned flag_liveness(const X86Block *b, bool *dead)
{
    unsigned live = LV_ALL;         /* at the point after instruction k */
    for (int k = b->n - 1; k >= 0; k--) {
        FlagUse u = flag_use(&b->ins[k]);
        uint8_t may = u.wr | u.may;
        dead[k] = may && !(may & live);
        if (u.barrier)
            live = LV_ALL;
        else
            live = (live & ~u.wr) | u.rd;
    }
    return live;
}

#endif
