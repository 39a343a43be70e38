/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The translator's instruction forms (see x86-jit.c): the control
 * transfers that end a block (Jcc, JMP, LOOP, the self jump) and the
 * inline forms, which replicate the interpreter's fast handlers
 * (x86-exec-fast.c); j_inline picks the form of an instruction.
 */
#include "x86-jit-ctx.h"

#if X86_HAVE_JIT

/* ---- control transfers (the last instruction of a block) ------------------------ */

/* EAX = x86_cond(c, cc) for cc >> 1 = kind */
static void j_cond(JCtx *j, unsigned kind)
{
    JEm *e = &j->e;
    switch (kind) {
    case 0:                                             /* O: CF ^ PO */
        e_ld32(e, H_AX, H_BX, OFF(lf_aux));
        e_shift_ri(e, 5, H_AX, 30);
        e_mov_rr(e, H_DX, H_AX);
        e_shift_ri(e, 5, H_DX, 1);
        e_alu_rr(e, 6, H_AX, H_DX);
        e_alu_ri(e, 4, H_AX, 1);
        break;
    case 1:                                             /* B */
        e_ld32(e, H_AX, H_BX, OFF(lf_aux));
        e_shift_ri(e, 5, H_AX, 31);
        break;
    case 2:                                             /* Z */
        e_alu_mi(e, 7, H_BX, OFF(lf_res), 0);
        e_setcc(e, HC_E, H_AX);
        break;
    case 3:                                             /* BE */
        e_alu_mi(e, 7, H_BX, OFF(lf_res), 0);
        e_setcc(e, HC_E, H_DX);
        e_ld32(e, H_AX, H_BX, OFF(lf_aux));
        e_shift_ri(e, 5, H_AX, 31);
        e_alu_rr(e, 1, H_AX, H_DX);
        break;
    case 4:                                             /* S */
        e_ld32(e, H_AX, H_BX, OFF(lf_res));
        e_shift_ri(e, 5, H_AX, 31);
        e_alu_rm(e, 6, H_AX, H_BX, OFF(lf_aux));
        e_alu_ri(e, 4, H_AX, 1);
        break;
    case 5:                                             /* P: even parity of the low byte */
        e_ld32(e, H_AX, H_BX, OFF(lf_aux));
        e_shift_ri(e, 5, H_AX, 8);
        e_alu_rm(e, 6, H_AX, H_BX, OFF(lf_res));
        e_r(e, false, 0x84, H_AX, H_AX);                /* test al, al */
        e_setcc(e, HC_P, H_AX);
        break;
    default:                                            /* L, LE */
        e_ld32(e, H_AX, H_BX, OFF(lf_res));
        e_shift_ri(e, 5, H_AX, 31);
        e_ld32(e, H_CX, H_BX, OFF(lf_aux));
        e_alu_rr(e, 6, H_AX, H_CX);
        e_mov_rr(e, H_DX, H_CX);
        e_shift_ri(e, 5, H_DX, 31);
        e_alu_rr(e, 6, H_AX, H_DX);
        e_shift_ri(e, 5, H_CX, 30);
        e_alu_rr(e, 6, H_AX, H_CX);
        e_alu_ri(e, 4, H_AX, 1);
        if (kind == 7) {
            e_alu_mi(e, 7, H_BX, OFF(lf_res), 0);
            e_setcc(e, HC_E, H_DX);
            e_alu_rr(e, 1, H_AX, H_DX);
        }
        break;
    }
}

/* next_eip += imm (x86_jump_near): the CS limit check falls back to the
 * handler, which raises #GP. */
static void j_jump_rel(JCtx *j, const X86Insn *i)
{
    JEm *e = &j->e;
    JSlow s = { .n = 0 };
    e_ld32(e, H_AX, H_BX, OFF(next_eip));
    e_alu_ri(e, 0, H_AX, i->imm);
    if (!i->o32)
        e_alu_ri(e, 4, H_AX, 0xFFFF);
    e_alu_rm(e, 7, H_AX, H_BX, OSEG(S_CS, limit));
    slow_jcc(j, &s, HC_A);
    e_st32(e, H_AX, H_BX, OFF(next_eip));
    slow_emit(j, &s, i);
}

/* A relative jump, the block's last instruction, to the block's own
 * start (whatever EIP the block runs at: next_eip = EIP + bytes), in a
 * block of inline forms. The start passed the CS limit check when the
 * block was looked up, and nothing in such a block changes CS. */
static bool is_self_jump(const JCtx *j, const X86Insn *i)
{
    uint32_t mask = i->o32 ? 0xFFFFFFFFu : 0xFFFFu;
    /* (a 16-bit jump in 32-bit code wraps to 16 bits: not to the start) */
    return j->chain && j->all_inline && j->last && !i->lock
        && (i->o32 || !j->b->code32) && ((i->imm + j->b->bytes) & mask) == 0;
}

/* The taken self jump runs the block again in place, under the very
 * conditions the run loop would run it again: nothing asked the CPU to
 * stop (brk: interrupts, device deadlines, code writes, mode changes; the
 * stop flag) and the next run fits under the instruction limit. The run
 * loop's bookkeeping for the run that just ended is done here (EIP and
 * next_eip do not move); otherwise next_eip = EIP and the block ends as
 * any other, the run loop doing the last run's bookkeeping. Registers
 * stay in their host registers; the deferred flags are not computed when
 * the block's start overwrites them before anything reads them. */
static void j_self_jump(JCtx *j)
{
    JEm *e = &j->e;
    JSlow out = { .n = 0 };
    X86Block *b = j->b;
    j_budget(j, &out, b->n);                            /* (n <= BLK_MAX: the next run fits) */
    e_st64(e, H_DX, H_BX, OFF(icount));
    if (j->any_call) {
        e_m(e, true, 0xC7, 0, H_BX, OFF(cur));          /* cur = NULL */
        e_d(e, 0);
    }
    if (j->entry_live)
        defer_emit(j);
    e_b(e, 0xE9);                                       /* jmp body */
    int32_t rel = (int32_t)(j->body - (e->p + 4));
    e_d(e, (uint32_t)rel);
    for (unsigned k = 0; k < out.n; k++)
        e_patch(e, out.fix[k]);
    e_ld32(e, H_AX, H_BX, OFF(eip));
    e_st32(e, H_AX, H_BX, OFF(next_eip));
    j->looped = true;
}

/* ---- the inline forms ------------------------------------------------------------- */

static const unsigned size_of[3] = { 1, 2, 4 };

/* The end of an ALU form, EAX = a, ECX = b, EDX = the result of op
 * (j_alu_core) and the host's flags since clobbered: the host's flags
 * the guest's again where a Jcc follows (hf_out), for the operations
 * that one host instruction repeats. fallback: the form has one
 * (slow_emit then does the same after the handler). */
static void j_alu_hflags(JCtx *j, unsigned op, unsigned size, bool fallback)
{
    JEm *e = &j->e;
    if (!j_hflags_wanted(j) || op == 2 || op == 3 || (op == 0 && size != 4))
        return;
    if (op == 0) {
        e_mov_rr(e, H_R8, H_AX);
        e_alu_rr(e, 0, H_R8, H_CX);
    } else if (op == 5 || op == 7) {
        e_cmp_sized(e, 7, size, H_AX, H_CX);
    } else {
        e_cmp_sized(e, 8, size, H_DX, H_DX);
    }
    j->hf_out = true;
    j->hf_cold = fallback;
}

/* A 32-bit register ALU form done in the destination's host
 * register: where the flags are dead, or for the logic operations, whose
 * flags are the result alone. False: take the general form. */
static bool j_alu_cached(JCtx *j, const X86Insn *i, unsigned op, unsigned form)
{
    JEm *e = &j->e;
    bool logic = op == 1 || op == 4 || op == 6;
    if (op == 2 || op == 3 || !(j->dead_flags || logic))
        return false;
    if (op == 7)
        return true;                    /* CMP with dead flags: nothing */
    unsigned d = hreg(i->rm);
    if (form == FF_RI)
        e_alu_ri(e, op, d, i->imm);
    else
        e_alu_rr(e, op, d, hreg(i->reg));
    g_dirty(j, i->rm);
    if (!j->dead_flags && j->pend_ok) {
        j->pend_next = (int8_t)d;
    } else if (!j->dead_flags) {
        e_st32(e, d, H_BX, OFF(lf_res));
        e_st_imm32(e, H_BX, OFF(lf_aux), 0);
    }
    j->hf_out = logic && j_hflags_wanted(j);    /* (from the host's op itself) */
    return true;
}

static bool j_alu(JCtx *j, const X86Insn *i, int idx)
{
    JEm *e = &j->e;
    unsigned op = (unsigned)idx / 15, size = size_of[(idx / 5) % 3], form = (unsigned)idx % 5;
    JSlow s = { .n = 0 };
    if (size == 4 && (form == FF_RR || form == FF_RI) && j_alu_cached(j, i, op, form))
        return true;
    switch (form) {
    case FF_RR:
        ld_reg(j, size, H_AX, i->rm);
        ld_reg(j, size, H_CX, i->reg);
        j_alu_core(j, op, size);
        if (op != 7)
            st_reg(j, size, H_DX, i->rm);
        j_alu_hflags(j, op, size, false);
        return true;
    case FF_RI:
        ld_reg(j, size, H_AX, i->rm);
        e_mov_ri(e, H_CX, i->imm);
        j_alu_core(j, op, size);
        if (op != 7)
            st_reg(j, size, H_DX, i->rm);
        j_alu_hflags(j, op, size, false);
        return true;
    case FF_RM:
        j_ea(j, i);
        j_host(j, &s, i->seg, size, ACC_RD);
        ld_reg(j, size, H_AX, i->reg);
        e_ldz(e, size, H_CX, H_R10, 0);
        j_alu_core(j, op, size);
        if (op != 7)
            st_reg(j, size, H_DX, i->reg);
        j_alu_hflags(j, op, size, true);
        slow_emit(j, &s, i);
        return true;
    default:                            /* FF_MR, FF_MI */
        j_ea(j, i);
        j_host(j, &s, i->seg, size, op == 7 ? ACC_RD : ACC_RMW);
        if (j->dead_flags && size == 4 && !j->log && op != 2 && op != 3) {
            /* the host instruction on the guest's memory */
            if (op != 7) {
                if (form == FF_MI)
                    e_alu_mi(e, op, H_R10, 0, i->imm);
                else
                    e_m(e, false, op * 8 + 1, hreg(i->reg), H_R10, 0);
                j->pure = false;
            }
            slow_emit(j, &s, i);
            return true;
        }
        e_ldz(e, size, H_AX, H_R10, 0);
        if (form == FF_MR)
            ld_reg(j, size, H_CX, i->reg);
        else
            e_mov_ri(e, H_CX, i->imm);
        j_alu_core(j, op, size);
        if (op != 7) {
            j_log_store(j, size);                       /* (clobbers ECX) */
            e_stn(e, size, H_DX, H_R10, 0);
            j->pure &= j->log;
        }
        if (op == 7 || !j->log)
            j_alu_hflags(j, op, size, true);
        slow_emit(j, &s, i);
        return true;
    }
}

/* TEST's j_alu_hflags: the AND of EDX and ECX left the host's flags
 * right for 32 bits (the lazy flags' stores keep them) */
static void j_test_hflags(JCtx *j, unsigned size, bool fallback)
{
    if (!j_hflags_wanted(j))
        return;
    if (size != 4)
        e_cmp_sized(&j->e, 8, size, H_DX, H_DX);
    j->hf_out = true;
    j->hf_cold = fallback;
}

static bool j_test(JCtx *j, const X86Insn *i, int idx)
{
    JEm *e = &j->e;
    unsigned size = size_of[idx / 5], form = (unsigned)idx % 5;
    JSlow s = { .n = 0 };
    if (form == FF_RR || form == FF_RI) {
        ld_reg(j, size, H_DX, i->rm);
        if (form == FF_RR)
            ld_reg(j, size, H_CX, i->reg);
        else
            e_mov_ri(e, H_CX, i->imm);
        e_alu_rr(e, 4, H_DX, H_CX);
        f_logic(j, size);
        j_test_hflags(j, size, false);
        return true;
    }
    j_ea(j, i);
    j_host(j, &s, i->seg, size, ACC_RD);
    e_ldz(e, size, H_DX, H_R10, 0);
    if (form == FF_MR)
        ld_reg(j, size, H_CX, i->reg);
    else
        e_mov_ri(e, H_CX, i->imm);
    e_alu_rr(e, 4, H_DX, H_CX);
    f_logic(j, size);
    j_test_hflags(j, size, true);
    slow_emit(j, &s, i);
    return true;
}

static bool j_mov(JCtx *j, const X86Insn *i, int idx)
{
    JEm *e = &j->e;
    unsigned size = size_of[idx / 5], form = (unsigned)idx % 5;
    JSlow s = { .n = 0 };
    if (size == 4 && (form == FF_RR || form == FF_RI)) {
        unsigned d = hreg(i->rm);
        if (form == FF_RI)
            e_mov_ri(e, d, i->imm);
        else
            g_ld32(j, d, i->reg);
        g_dirty(j, i->rm);
        return true;
    }
    switch (form) {
    case FF_RR:
        ld_reg(j, size, H_AX, i->reg);
        st_reg(j, size, H_AX, i->rm);
        return true;
    case FF_RI:
        e_mov_ri(e, H_AX, i->imm);
        st_reg(j, size, H_AX, i->rm);
        return true;
    case FF_RM:
        j_ea(j, i);
        j_host(j, &s, i->seg, size, ACC_RD);
        e_ldz(e, size, H_AX, H_R10, 0);
        st_reg(j, size, H_AX, i->reg);
        break;
    case FF_MR:
        j_ea(j, i);
        j_host(j, &s, i->seg, size, ACC_WR);
        j_log_store(j, size);
        ld_reg(j, size, H_DX, i->reg);
        e_stn(e, size, H_DX, H_R10, 0);
        j->pure &= j->log;
        break;
    default:
        j_ea(j, i);
        j_host(j, &s, i->seg, size, ACC_WR);
        j_log_store(j, size);
        e_mov_ri(e, H_DX, i->imm);
        e_stn(e, size, H_DX, H_R10, 0);
        j->pure &= j->log;
        break;
    }
    slow_emit(j, &s, i);
    return true;
}

/* MOVZX / MOVSX: [sx][dst32][src16][mem] */
static bool j_movx(JCtx *j, const X86Insn *i, int idx)
{
    JEm *e = &j->e;
    bool sx = idx & 8, mem = idx & 1;
    unsigned dsz = (idx & 4) ? 4 : 2, ssz = (idx & 2) ? 2 : 1;
    JSlow s = { .n = 0 };
    if (mem) {
        j_ea(j, i);
        j_host(j, &s, i->seg, ssz, ACC_RD);
        e_ldz(e, ssz, H_AX, H_R10, 0);
    } else {
        ld_reg(j, ssz, H_AX, i->rm);
    }
    if (sx)
        e_movsx(e, ssz, H_AX, H_AX);
    st_reg(j, dsz, H_AX, i->reg);
    if (mem)
        slow_emit(j, &s, i);
    return true;
}

/* 32-bit shifts and rotates of a register by an immediate (shift_fast) */
static bool j_shift32(JCtx *j, const X86Insn *i, unsigned op)
{
    JEm *e = &j->e;
    unsigned cnt = i->imm & 0x1F;
    if (op == 2 || op == 3)
        return false;                   /* RCL, RCR */
    if (cnt == 0)
        return true;                    /* nothing changes, flags included */
    bool defer = !j->dead_flags && op < 2 && j->k >= j->defer_from;
    if (j->dead_flags || defer) {
        unsigned d = hreg(i->rm);
        e_shift_ri(e, op == 6 ? 4 : op, d, (uint8_t)cnt);
        g_dirty(j, i->rm);
        if (defer)
            defer_push(j, op == 0 ? DF_ROL : DF_ROR, i->rm);
        return true;
    }
    g_ld32(j, H_AX, i->rm);
    e_mov_rr(e, H_DX, H_AX);
    e_shift_ri(e, op == 6 ? 4 : op, H_DX, (uint8_t)cnt);
    g_st32(j, H_DX, i->rm);
    if (j->dead_flags)
        return true;
    if (defer) {
        defer_push(j, op == 0 ? DF_ROL : DF_ROR, i->rm);
        return true;
    }
    switch (op) {
    case 0: case 1:                     /* ROL, ROR: CF and OF only */
        f_rot(j, op);
        return true;
    case 4: case 6:                     /* SHL: CF = a bit 32-cnt, CF ^ OF = r bit 31 */
        e_st32(e, H_DX, H_BX, OFF(lf_res));
        e_mov_rr(e, H_CX, H_AX);
        e_shift_ri(e, 5, H_CX, (uint8_t)(32 - cnt));
        e_shift_ri(e, 4, H_CX, 31);
        e_mov_rr(e, H_R8, H_DX);
        e_shift_ri(e, 5, H_R8, 1);
        e_alu_ri(e, 4, H_R8, LF_PO);
        e_alu_rr(e, 1, H_CX, H_R8);
        e_st32(e, H_CX, H_BX, OFF(lf_aux));
        return true;
    case 5:                             /* SHR: CF = a bit cnt-1, OF = a bit 31 */
        e_st32(e, H_DX, H_BX, OFF(lf_res));
        e_mov_rr(e, H_CX, H_AX);
        if (cnt > 1)
            e_shift_ri(e, 5, H_CX, (uint8_t)(cnt - 1));
        e_alu_ri(e, 4, H_CX, 1);
        e_mov_rr(e, H_R8, H_AX);
        e_shift_ri(e, 5, H_R8, 31);
        e_alu_rr(e, 6, H_R8, H_CX);
        e_shift_ri(e, 4, H_R8, 30);
        e_shift_ri(e, 4, H_CX, 31);
        e_alu_rr(e, 1, H_CX, H_R8);
        e_st32(e, H_CX, H_BX, OFF(lf_aux));
        return true;
    default:                            /* SAR: CF = a bit cnt-1, OF = 0 */
        e_st32(e, H_DX, H_BX, OFF(lf_res));
        e_mov_rr(e, H_CX, H_AX);
        if (cnt > 1)
            e_shift_ri(e, 5, H_CX, (uint8_t)(cnt - 1));
        e_alu_ri(e, 4, H_CX, 1);
        e_mov_rr(e, H_R8, H_CX);
        e_shift_ri(e, 4, H_CX, 31);
        e_shift_ri(e, 4, H_R8, 30);
        e_alu_rr(e, 1, H_CX, H_R8);
        e_st32(e, H_CX, H_BX, OFF(lf_aux));
        return true;
    }
}

/* 32-bit shifts and rotates of a register by CL (the _rc handlers); a
 * count of 0 (CL & 31) changes nothing, flags included. With the flags
 * dead, the host instruction: its count is masked to 5 bits as the
 * guest's. Else SHL, SHR and SAR: CF from the host shift, OF as
 * shift_fast defines it for every count (ROL, ROR: the handler). */
static bool j_shift32_cl(JCtx *j, const X86Insn *i, unsigned op)
{
    JEm *e = &j->e;
    unsigned hop = op == 6 ? 4 : op;
    if (op == 2 || op == 3 || (op < 2 && !j->dead_flags))
        return false;
    g_ld32(j, H_CX, R_ECX);
    if (j->dead_flags) {
        e_shift_rcl(e, hop, hreg(i->rm));
        g_dirty(j, i->rm);
        return true;
    }
    e_alu_ri(e, 4, H_CX, 0x1F);
    uint8_t *none = e_jcc(e, HC_E);
    g_ld32(j, H_AX, i->rm);
    e_mov_rr(e, H_DX, H_AX);
    e_shift_rcl(e, hop, H_DX);
    e_setcc(e, HC_B, H_CX);                             /* CF */
    g_st32(j, H_DX, i->rm);
    e_st32(e, H_DX, H_BX, OFF(lf_res));
    e_shift_ri(e, 4, H_CX, 31);
    if (hop == 4) {                                     /* CF ^ OF = r bit 31 */
        e_mov_rr(e, H_R8, H_DX);
        e_shift_ri(e, 5, H_R8, 31);
    } else if (hop == 5) {                              /* OF = a bit 31 */
        e_mov_rr(e, H_R8, H_AX);
        e_alu_rr(e, 6, H_R8, H_CX);
        e_shift_ri(e, 5, H_R8, 31);
    } else {                                            /* SAR: OF = 0 */
        e_mov_rr(e, H_R8, H_CX);
        e_shift_ri(e, 5, H_R8, 31);
    }
    e_shift_ri(e, 4, H_R8, 30);
    e_alu_rr(e, 1, H_CX, H_R8);
    e_st32(e, H_CX, H_BX, OFF(lf_aux));
    e_patch(e, none);
    return true;
}

/* SHLD / SHRD of a 32-bit register by an immediate or CL, the flags
 * dead: the host instruction (count masked to 5 bits, 0 changes
 * nothing, as the handler's) */
static bool j_shxd(JCtx *j, const X86Insn *i)
{
    JEm *e = &j->e;
    if (!j->dead_flags || i->mod != 3 || !i->o32)
        return false;
    bool by_cl = i->op & 1;
    if (by_cl)
        g_ld32(j, H_CX, R_ECX);
    g_ld32(j, H_DX, i->reg);
    unsigned d = hreg(i->rm);
    e_r(e, false, 0x0F00u | (i->op & 0xFFu), H_DX, d);            /* 0F A4/A5/AC/AD */
    if (!by_cl)
        e_b(e, (uint8_t)(i->imm & 0x1F));
    g_dirty(j, i->rm);
    return true;
}

/* INC / DEC r32 */
static void j_incdec32(JCtx *j, const X86Insn *i, bool dec)
{
    JEm *e = &j->e;
    e_alu_ri(e, dec ? 5 : 0, hreg(i->reg), 1);
    g_dirty(j, i->reg);
    if (j->dead_flags)
        return;
    if (j->k >= j->defer_from) {
        defer_push(j, dec ? DF_DEC : DF_INC, i->reg);
        return;
    }
    g_ld32(j, H_DX, i->reg);
    f_incdec(j, dec);
}

/* lf_res_cf_of(r = EAX, cf = of = ovf) after a host IMUL */
static void j_imul_flags(JCtx *j, const X86Insn *i)
{
    JEm *e = &j->e;
    if (j->dead_flags) {
        g_st32(j, H_AX, i->reg);
        return;
    }
    e_setcc(e, HC_O, H_CX);
    g_st32(j, H_AX, i->reg);
    e_st32(e, H_AX, H_BX, OFF(lf_res));
    e_shift_ri(e, 4, H_CX, 31);
    e_st32(e, H_CX, H_BX, OFF(lf_aux));
}

/* The stack is 32-bit, else the fallback: no check where the translation
 * takes SS as flat, whose tag bit also vouches for SS.B
 * (x86_seg_flat_tag); the translation then runs only under such tags. */
static void j_ss32(JCtx *j, JSlow *s)
{
    if (j->flat & (1u << S_SS)) {
        j->flat_used |= (uint8_t)(1u << S_SS);
        return;
    }
    e_cmpb_mi(&j->e, H_BX, OFF(ss32), 0);
    slow_jcc(j, s, HC_E);
}

static bool j_stack(JCtx *j, const X86Insn *i, X86Handler fn)
{
    JEm *e = &j->e;
    JSlow s = { .n = 0 };
    if (fn == h_call32_rel) {
        e_ld32(e, H_R8, H_BX, OFF(next_eip));
        e_alu_ri(e, 0, H_R8, i->imm);
        e_alu_rm(e, 7, H_R8, H_BX, OSEG(S_CS, limit));
        slow_jcc(j, &s, HC_A);
    }
    j_ss32(j, &s);
    g_ld32(j, H_AX, R_ESP);
    if (fn == h_push32_r || fn == h_call32_rel) {
        e_alu_ri(e, 5, H_AX, 4);
        j_host(j, &s, S_SS, 4, ACC_WR);
        j_log_store(j, 4);
        unsigned src = H_DX;
        if (fn != h_push32_r)
            e_ld32(e, H_DX, H_BX, OFF(next_eip));
        else
            src = hreg(i->reg);                 /* (stored from its host register) */
        e_st32(e, src, H_R10, 0);
        g_st32(j, H_AX, R_ESP);
        if (fn == h_call32_rel)
            e_st32(e, H_R8, H_BX, OFF(next_eip));
        j->pure &= j->log;
    } else {
        j_host(j, &s, S_SS, 4, ACC_RD);
        e_ld32(e, H_DX, H_R10, 0);
        if (fn == h_ret32) {
            e_alu_rm(e, 7, H_DX, H_BX, OSEG(S_CS, limit));
            slow_jcc(j, &s, HC_A);
        }
        e_alu_ri(e, 0, H_AX, 4);
        g_st32(j, H_AX, R_ESP);
        if (fn == h_ret32)
            e_st32(e, H_DX, H_BX, OFF(next_eip));
        else
            g_st32(j, H_DX, i->reg);
    }
    slow_emit(j, &s, i);
    return true;
}

/* SETcc (h_setcc): the byte x86_cond gives, to a register or memory */
static bool j_setcc(JCtx *j, const X86Insn *i)
{
    JEm *e = &j->e;
    JSlow s = { .n = 0 };
    unsigned cc = i->op & 0xF;
    if (j->ndef)
        return false;       /* (never: deferred flags end a block at its Jcc) */
    if (i->mod == 3) {
        j_cond(j, cc >> 1);
        if (cc & 1)
            e_alu_ri(e, 6, H_AX, 1);
        st_reg(j, 1, H_AX, i->rm);
        return true;
    }
    j_ea(j, i);
    j_host(j, &s, i->seg, 1, ACC_WR);
    j_log_store(j, 1);
    j_cond(j, cc >> 1);
    if (cc & 1)
        e_alu_ri(e, 6, H_AX, 1);
    e_stn(e, 1, H_AX, H_R10, 0);
    j->pure &= j->log;
    slow_emit(j, &s, i);
    return true;
}

/* A 32-bit register or memory operand into R8 (which j_host and the
 * store log leave alone); a memory one may fault: s */
static void j_ld_rm32(JCtx *j, JSlow *s, const X86Insn *i)
{
    if (i->mod == 3) {
        g_ld32(j, H_R8, i->rm);
    } else {
        j_ea(j, i);
        j_host(j, s, i->seg, 4, ACC_RD);
        e_ld32(&j->e, H_R8, H_R10, 0);
    }
}

/* PUSH of 32 bits on a 32-bit stack, as x86_push does it: host register
 * src (R8: j_host and the store log leave it alone), or with src < 0 the
 * next EIP (CALL's return address) */
static void j_push32(JCtx *j, JSlow *s, int src)
{
    JEm *e = &j->e;
    g_ld32(j, H_AX, R_ESP);
    e_alu_ri(e, 5, H_AX, 4);
    j_host(j, s, S_SS, 4, ACC_WR);
    j_log_store(j, 4);
    if (src < 0)
        e_ld32(e, H_DX, H_BX, OFF(next_eip));
    else
        e_mov_rr(e, H_DX, (unsigned)src);
    e_st32(e, H_DX, H_R10, 0);
    g_st32(j, H_AX, R_ESP);
    j->pure &= j->log;
}

/* CMOVcc with a 32-bit operand (h_cmov): the source is read (and may
 * fault) whatever the condition; a CPU without CMOV raises #UD in the
 * handler */
static bool j_cmov(JCtx *j, const X86Insn *i)
{
    JEm *e = &j->e;
    JSlow s = { .n = 0 };
    unsigned cc = i->op & 0xF;
    if (j->ndef || !i->o32)
        return false;
    e_m(e, false, 0xF7, 0, H_BX, OFF(feat_edx));        /* test dword [feat_edx], CMOV */
    e_d(e, CPUID_CMOV);
    slow_jcc(j, &s, HC_E);
    j_ld_rm32(j, &s, i);
    j_cond(j, cc >> 1);
    e_test_rr(e, H_AX, H_AX);
    uint8_t *skip = e_jcc(e, (cc & 1) ? HC_NE : HC_E);
    g_st32(j, H_R8, i->reg);
    e_patch(e, skip);
    slow_emit(j, &s, i);
    return true;
}

/* MOV AL/AX/EAX to or from seg:moffs (h_mov_moffs) */
static bool j_moffs(JCtx *j, const X86Insn *i)
{
    JEm *e = &j->e;
    JSlow s = { .n = 0 };
    unsigned size = (i->op & 1) ? (i->o32 ? 4 : 2) : 1;
    e_mov_ri(e, H_AX, i->disp);
    if (i->op & 2) {
        j_host(j, &s, i->seg, size, ACC_WR);
        j_log_store(j, size);
        ld_reg(j, size, H_DX, R_EAX);
        e_stn(e, size, H_DX, H_R10, 0);
        j->pure &= j->log;
    } else {
        j_host(j, &s, i->seg, size, ACC_RD);
        e_ldz(e, size, H_AX, H_R10, 0);
        st_reg(j, size, H_AX, R_EAX);
    }
    slow_emit(j, &s, i);
    return true;
}

/* PUSH imm32 (h_push_imm) and LEAVE (h_leave) with 32-bit operands on a
 * 32-bit stack, as x86_push / x86_pop do them; a 16-bit stack falls
 * back to the handler */
static bool j_push_imm_leave(JCtx *j, const X86Insn *i, bool leave)
{
    JEm *e = &j->e;
    JSlow s = { .n = 0 };
    if (!i->o32)
        return false;
    j_ss32(j, &s);
    if (leave) {
        g_ld32(j, H_AX, R_EBP);
        j_host(j, &s, S_SS, 4, ACC_RD);
        e_ld32(e, H_DX, H_R10, 0);
        e_alu_ri(e, 0, H_AX, 4);
        g_st32(j, H_AX, R_ESP);
        g_st32(j, H_DX, R_EBP);
    } else {
        e_mov_ri(e, H_R8, i->imm);
        j_push32(j, &s, H_R8);
    }
    slow_emit(j, &s, i);
    return true;
}

/* FF /0 INC and /1 DEC of a 32-bit memory operand (a register one
 * has its own opcode); FF /2 CALL, /4 JMP and /6 PUSH with a 32-bit
 * register or memory operand (h_grp5), on a 32-bit stack: the operand is read first (and
 * may fault), then the target's CS limit check, then the push; anything
 * unusual falls back to the handler, before any state changed */
static bool j_grp5(JCtx *j, const X86Insn *i)
{
    JEm *e = &j->e;
    JSlow s = { .n = 0 };
    if (i->reg <= 1) {                  /* INC, DEC of a 32-bit memory operand */
        if (!i->o32 || i->mod == 3)
            return false;
        bool dec = i->reg == 1;
        j_ea(j, i);
        j_host(j, &s, i->seg, 4, ACC_RMW);
        if (j->dead_flags && !j->log) {
            e_m(e, false, 0xFF, i->reg, H_R10, 0);     /* on the guest's memory */
            j->pure = false;
        } else {
            e_ld32(e, H_DX, H_R10, 0);
            e_alu_ri(e, dec ? 5 : 0, H_DX, 1);
            j_log_store(j, 4);
            e_st32(e, H_DX, H_R10, 0);
            j->pure &= j->log;
            if (!j->dead_flags)
                f_incdec(j, dec);
        }
        slow_emit(j, &s, i);
        return true;
    }
    if (!i->o32 || (i->reg != 2 && i->reg != 4 && i->reg != 6))
        return false;
    if (i->reg != 4)
        j_ss32(j, &s);
    j_ld_rm32(j, &s, i);
    if (i->reg != 6) {
        e_alu_rm(e, 7, H_R8, H_BX, OSEG(S_CS, limit));
        slow_jcc(j, &s, HC_A);
    }
    if (i->reg != 4)
        j_push32(j, &s, i->reg == 2 ? -1 : H_R8);
    if (i->reg != 6)
        e_st32(e, H_R8, H_BX, OFF(next_eip));
    slow_emit(j, &s, i);
    return true;
}

/* F6 / F7 (h_grp3): TEST r/m, imm; NOT and NEG of a register (NEG's
 * flags are those of 0 - r, as the handler's lf_sub); MUL and IMUL of
 * EAX by a 32-bit register or memory operand, on the host's MUL / IMUL
 * (CF = OF: EDX is more than EAX's extension, as the handler's ovf) */
static bool j_grp3(JCtx *j, const X86Insn *i)
{
    JEm *e = &j->e;
    unsigned size = (i->op & 1) ? (i->o32 ? 4 : 2) : 1;
    unsigned sidx = size == 1 ? 0 : size == 2 ? 1 : 2;
    if (i->reg <= 1)
        return j_test(j, i, (int)(sidx * 5 + (i->mod == 3 ? FF_RI : FF_MI)));
    if ((i->reg == 4 || i->reg == 5) && size == 4) {
        JSlow s = { .n = 0 };
        j_ld_rm32(j, &s, i);
        g_ld32(j, H_AX, R_EAX);
        e_r(e, false, 0xF7, i->reg, H_R8);
        if (!j->dead_flags)
            e_setcc(e, HC_B, H_CX);
        g_st32(j, H_AX, R_EAX);
        g_st32(j, H_DX, R_EDX);
        if (!j->dead_flags) {
            e_st32(e, H_AX, H_BX, OFF(lf_res));
            e_shift_ri(e, 4, H_CX, 31);
            e_st32(e, H_CX, H_BX, OFF(lf_aux));
        }
        if (i->mod != 3)
            slow_emit(j, &s, i);
        return true;
    }
    if (i->mod != 3 || i->reg > 3)
        return false;
    if (i->reg == 2) {
        ld_reg(j, size, H_AX, i->rm);
        e_not(e, H_AX);
        st_reg(j, size, H_AX, i->rm);
        return true;
    }
    e_mov_ri(e, H_AX, 0);
    ld_reg(j, size, H_CX, i->rm);
    j_alu_core(j, 5, size);
    st_reg(j, size, H_DX, i->rm);
    return true;
}

/* Translate i inline, or return false (then it becomes a handler call). */
/* CMPXCHG m32, r32 (xadd false) and XADD m32, r32 (h_cmpxchg, h_xadd):
 * the read-modify-write through the TLB's host address, flags as CMP
 * EAX, m32 / ADD m32, r32. CMPXCHG that finds another value leaves the
 * memory as it was (the processor writes back what it read) and loads
 * it into EAX. */
static bool j_cmpxchg_xadd(JCtx *j, const X86Insn *i, bool xadd)
{
    JEm *e = &j->e;
    JSlow s = { .n = 0 };
    if (i->mod == 3 || !(i->op & 1) || !i->o32)
        return false;
    j_ea(j, i);
    j_host(j, &s, i->seg, 4, ACC_RMW);
    if (xadd) {
        e_ld32(e, H_AX, H_R10, 0);
        g_ld32(j, H_CX, i->reg);
        j_alu_core(j, 0, 4);                            /* EDX = d + s */
        j_log_store(j, 4);
        e_st32(e, H_DX, H_R10, 0);
        g_st32(j, H_AX, i->reg);
    } else {
        e_ld32(e, H_CX, H_R10, 0);
        g_ld32(j, H_AX, R_EAX);
        j_alu_core(j, 7, 4);                            /* EAX - d */
        e_alu_rr(e, 7, H_AX, H_CX);
        uint8_t *ne = e_jcc(e, HC_NE);
        g_ld32(j, H_DX, i->reg);
        j_log_store(j, 4);
        e_st32(e, H_DX, H_R10, 0);
        uint8_t *done = e_jmp(e);
        e_patch(e, ne);
        g_st32(j, H_CX, R_EAX);
        e_patch(e, done);
    }
    j->pure &= j->log;
    slow_emit(j, &s, i);
    return true;
}

bool j_inline(JCtx *j, const X86Insn *i)
{
    JEm *e = &j->e;
    X86Handler fn = i->fn;
    int idx;
    if ((idx = find(fn, &x86_fast_alu[0][0][0], 8 * 3 * 5)) >= 0)
        return j_alu(j, i, idx);
    if ((idx = find(fn, &x86_fast_mov[0][0], 3 * 5)) >= 0)
        return j_mov(j, i, idx);
    if ((idx = find(fn, &x86_fast_test[0][0], 3 * 5)) >= 0)
        return j_test(j, i, idx);
    if ((idx = find(fn, &x86_fast_jcc[0], 16)) >= 0) {
        uint8_t *skip;
        if (j->ndef) {                  /* ZF = the INC / DEC result is 0 */
            unsigned r = j->defq[j->ndef - 1].reg;
            e_test_rr(e, hreg(r), hreg(r));
            skip = e_jcc(e, (idx & 1) ? HC_E : HC_NE);
        } else if (j->hf_in) {          /* the last instruction's, in the host's flags */
            skip = e_jcc(e, (unsigned)idx ^ 1);
        } else {
            j_cond(j, (unsigned)idx >> 1);
            e_test_rr(e, H_AX, H_AX);
            skip = e_jcc(e, (idx & 1) ? HC_NE : HC_E);
        }
        if (is_self_jump(j, i))
            j_self_jump(j);
        else
            j_jump_rel(j, i);
        e_patch(e, skip);
        return true;
    }
    if ((idx = find(fn, &x86_fast_movx[0][0][0][0], 16)) >= 0)
        return j_movx(j, i, idx);
    for (unsigned op = 0; op < 8; op++) {
        if (fn == x86_fast_shift[op][2][0])
            return j_shift32(j, i, op);
        if (fn == x86_fast_shift[op][2][1])
            return j_shift32_cl(j, i, op);
    }
    if (fn == h_shld || fn == h_shrd)
        return j_shxd(j, i);
    if (fn == h_cwd && i->o32) {                        /* CDQ */
        g_ld32(j, H_DX, R_EAX);
        e_shift_ri(e, 7, H_DX, 31);
        g_st32(j, H_DX, R_EDX);
        return true;
    }
    if (fn == h_bswap && i->o32) {
        g_ld32(j, H_AX, i->reg);
        e_b(e, 0x0F);                                   /* bswap eax */
        e_b(e, 0xC8);
        g_st32(j, H_AX, i->reg);
        return true;
    }
    if (fn == h_jmp_rel) {
        if (is_self_jump(j, i))
            j_self_jump(j);
        else
            j_jump_rel(j, i);
        return true;
    }
    if (fn == h_loop32) {
        /* ECX changes only with the jump's limit check passed: the
         * fallback runs the whole instruction again */
        JSlow s = { .n = 0 };
        g_ld32(j, H_AX, R_ECX);
        e_alu_ri(e, 5, H_AX, 1);
        uint8_t *nz = e_jcc(e, HC_NE);
        g_st32(j, H_AX, R_ECX);
        uint8_t *out = e_jmp(e);
        e_patch(e, nz);
        e_ld32(e, H_DX, H_BX, OFF(next_eip));
        e_alu_ri(e, 0, H_DX, i->imm);
        if (!i->o32)
            e_alu_ri(e, 4, H_DX, 0xFFFF);
        e_alu_rm(e, 7, H_DX, H_BX, OSEG(S_CS, limit));
        slow_jcc(j, &s, HC_A);
        g_st32(j, H_AX, R_ECX);
        e_st32(e, H_DX, H_BX, OFF(next_eip));
        slow_emit(j, &s, i);
        e_patch(e, out);
        return true;
    }
    if (fn == h_lea32) {
        j_ea(j, i);
        g_st32(j, H_AX, i->reg);
        return true;
    }
    if (fn == h_inc32_r || fn == h_dec32_r) {
        j_incdec32(j, i, fn == h_dec32_r);
        return true;
    }
    if (fn == h_imul32_GEI_r && j->dead_flags) {
        e_imul_rri(e, hreg(i->reg), hreg(i->rm), i->imm);
        g_dirty(j, i->reg);
        return true;
    }
    if (fn == h_imul32_GEI_r) {
        g_ld32(j, H_AX, i->rm);
        e_imul_rri(e, H_AX, H_AX, i->imm);
        j_imul_flags(j, i);
        return true;
    }
    if (fn == h_imul32_GE_r) {
        g_ld32(j, H_AX, i->reg);
        e_imul_rr(e, H_AX, hreg(i->rm));
        j_imul_flags(j, i);
        return true;
    }
    if (fn == h_push32_r || fn == h_pop32_r || fn == h_call32_rel || fn == h_ret32)
        return j_stack(j, i, fn);
    if (fn == h_nop)
        return true;
    if (fn == h_setcc)
        return j_setcc(j, i);
    if (fn == h_cmov)
        return j_cmov(j, i);
    if (fn == h_mov_moffs)
        return j_moffs(j, i);
    if (fn == h_grp5)
        return j_grp5(j, i);
    if (fn == h_grp3)
        return j_grp3(j, i);
    if (fn == h_cmpxchg || fn == h_xadd)
        return j_cmpxchg_xadd(j, i, fn == h_xadd);
    if (fn == h_flagop && (i->op == 0xFC || i->op == 0xFD)) {   /* CLD, STD */
        if (i->op == 0xFC)
            e_alu_mi(e, 4, H_BX, OFF(eflags), ~(uint32_t)F_DF);
        else
            e_alu_mi(e, 1, H_BX, OFF(eflags), F_DF);
        return true;
    }
    if (fn == h_push_imm || fn == h_leave)
        return j_push_imm_leave(j, i, fn == h_leave);
    return false;
}

#endif
