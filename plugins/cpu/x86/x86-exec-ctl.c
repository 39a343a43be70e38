/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Control transfer, software interrupts, flag instructions, port I/O and
 * the FPU-less escape opcodes (SDM vol. 2).
 */
#include "x86-ops.h"

X86_H(h_jcc)
{
    if (x86_cond(c, i->op & 0xF))
        x86_jump_near(c, c->next_eip + i->imm, i->o32);
}

X86_H(h_jmp_rel)
{
    x86_jump_near(c, c->next_eip + i->imm, i->o32);
}

X86_H(h_call_rel)
{
    uint32_t t = c->next_eip + i->imm;
    if (!i->o32)
        t &= 0xFFFF;
    if (t > c->seg[S_CS].limit)
        x86_gp(c, 0);
    x86_push(c, c->next_eip, x86_osize(i));
    c->next_eip = t;
}

/* C2 / C3 */
X86_H(h_ret)
{
    unsigned size = x86_osize(i);
    uint32_t sp = x86_sp(c);
    uint32_t t = x86_ld(c, S_SS, sp, size);
    if (t > c->seg[S_CS].limit)
        x86_gp(c, 0);
    x86_set_sp(c, sp + size + (i->op == 0xC2 ? (i->imm & 0xFFFF) : 0));
    c->next_eip = t;
}

/* E0 LOOPNE, E1 LOOPE, E2 LOOP, E3 JCXZ */
X86_H(h_loop)
{
    uint32_t m = i->a32 ? 0xFFFFFFFFu : 0xFFFF;
    uint32_t cx = c->r[R_ECX] & m;
    bool take;
    if (i->op == 0xE3) {
        take = cx == 0;
    } else {
        cx = (cx - 1) & m;
        c->r[R_ECX] = (c->r[R_ECX] & ~m) | cx;
        take = cx != 0;
        if (i->op == 0xE0)
            take = take && !x86_cond(c, 4);
        else if (i->op == 0xE1)
            take = take && x86_cond(c, 4);
    }
    if (take)
        x86_jump_near(c, c->next_eip + i->imm, i->o32);
}

X86_H(h_jmp_far) { x86_far_jump(c, i->imm2, i->imm, i->o32); }
X86_H(h_call_far) { x86_far_call(c, i->imm2, i->imm, i->o32); }

/* CA / CB */
X86_H(h_retf)
{
    x86_far_ret(c, i->o32, i->op == 0xCA ? (uint16_t)i->imm : 0);
}

X86_H(h_iret) { x86_iret(c, i->o32); }

static inline uint32_t inc_dec(X86Cpu *c, uint32_t a, bool dec, unsigned size)
{
    uint32_t r;
    if (dec) {
        r = a - 1;
        lf_dec(c, a, r, size);
    } else {
        r = a + 1;
        lf_inc(c, a, r, size);
    }
    return size == 2 ? (r & 0xFFFF) : r;
}

X86_H(h_grp5)
{
    unsigned size = x86_osize(i);
    switch (i->reg) {
    case 0: case 1: {
        uint32_t a = x86_rm_rmw_ld(c, i, size);
        x86_rm_rmw_st(c, i, inc_dec(c, a, i->reg == 1, size), size);
        return;
    }
    case 2: {
        uint32_t t = x86_rm_read(c, i, size);
        if (t > c->seg[S_CS].limit)
            x86_gp(c, 0);
        x86_push(c, c->next_eip, size);
        c->next_eip = t;
        return;
    }
    case 4:
        x86_jump_near(c, x86_rm_read(c, i, size), i->o32);
        return;
    case 3: case 5: {
        if (i->mod == 3)
            x86_ud(c);
        uint32_t ea = x86_ea(c, i);
        uint32_t off = x86_ld(c, i->seg, ea, size);
        uint16_t sel = (uint16_t)x86_ld(c, i->seg, i->a32 ? ea + size : ((ea + size) & 0xFFFF), 2);
        if (i->reg == 3)
            x86_far_call(c, sel, off, i->o32);
        else
            x86_far_jump(c, sel, off, i->o32);
        return;
    }
    case 6:
        x86_push(c, x86_rm_read(c, i, size), size);
        return;
    default:
        x86_ud(c);
    }
}

X86_H(h_int)
{
    x86_interrupt(c, i->imm & 0xFF, INT_SOFT, false, 0, c->next_eip);
}

X86_H(h_int3)
{
    x86_interrupt(c, X86_BP, INT_SOFT, false, 0, c->next_eip);
}

X86_H(h_into)
{
    if (x86_cond(c, 0))
        x86_interrupt(c, X86_OF, INT_SOFT, false, 0, c->next_eip);
}

/* F1: ICEBP, a #DB trap that skips the gate DPL check */
X86_H(h_int1)
{
    x86_interrupt(c, X86_DB, INT_EXC, false, 0, c->next_eip);
}

X86_H(h_bound)
{
    if (i->mod == 3)
        x86_ud(c);
    unsigned size = x86_osize(i);
    uint32_t ea = x86_ea(c, i);
    uint32_t lo = x86_ld(c, i->seg, ea, size);
    uint32_t hi = x86_ld(c, i->seg, i->a32 ? ea + size : ((ea + size) & 0xFFFF), size);
    int32_t v = (int32_t)x86_getreg(c, i->reg, size);
    int32_t l = (int32_t)lo, h = (int32_t)hi;
    if (size == 2) {
        v = (int16_t)v;
        l = (int16_t)l;
        h = (int16_t)h;
    }
    if (v < l || v > h)
        x86_raise_noerr(c, X86_BR);
}

X86_H(h_hlt)
{
    if ((c->cr0 & CR0_PE) && c->cpl != 0)
        x86_gp(c, 0);
    c->halted = true;
    x86_break(c);
}

static bool iopl_ok(X86Cpu *c)
{
    if (!(c->cr0 & CR0_PE))
        return true;
    return c->cpl <= (int)((c->eflags & F_IOPL) >> 12);
}

/* F5 CMC, F8 CLC, F9 STC, FA CLI, FB STI, FC CLD, FD STD */
X86_H(h_flagop)
{
    switch (i->op) {
    case 0xF5: x86_set_arith(c, x86_get_eflags(c) ^ F_CF); break;
    case 0xF8: x86_set_arith(c, x86_get_eflags(c) & ~F_CF); break;
    case 0xF9: x86_set_arith(c, x86_get_eflags(c) | F_CF); break;
    case 0xFA:
        if (!iopl_ok(c))
            x86_gp(c, 0);
        c->eflags &= ~F_IF;
        break;
    case 0xFB:
        if (!iopl_ok(c))
            x86_gp(c, 0);
        if (!(c->eflags & F_IF)) {
            c->eflags |= F_IF;
            x86_shadow(c, false);
        }
        break;
    case 0xFC: c->eflags &= ~F_DF; break;
    default: c->eflags |= F_DF; break;
    }
}

static void io_check(X86Cpu *c, uint32_t port, unsigned size)
{
    if (!x86_io_allowed(c, port, size))
        x86_gp(c, 0);
}

X86_H(h_in_imm)
{
    unsigned size = (i->op & 1) ? x86_osize(i) : 1;
    uint32_t port = i->imm & 0xFF;
    io_check(c, port, size);
    x86_setreg(c, R_EAX, x86_io_in(c, port, size), size);
}

X86_H(h_out_imm)
{
    unsigned size = (i->op & 1) ? x86_osize(i) : 1;
    uint32_t port = i->imm & 0xFF;
    io_check(c, port, size);
    x86_io_out(c, port, x86_getreg(c, R_EAX, size), size);
}

X86_H(h_in_dx)
{
    unsigned size = (i->op & 1) ? x86_osize(i) : 1;
    uint32_t port = c->r[R_EDX] & 0xFFFF;
    io_check(c, port, size);
    x86_setreg(c, R_EAX, x86_io_in(c, port, size), size);
}

X86_H(h_out_dx)
{
    unsigned size = (i->op & 1) ? x86_osize(i) : 1;
    uint32_t port = c->r[R_EDX] & 0xFFFF;
    io_check(c, port, size);
    x86_io_out(c, port, x86_getreg(c, R_EAX, size), size);
}

X86_H(h_ud) { x86_ud(c); }
X86_H(h_gp0) { x86_gp(c, 0); }
X86_H(h_lock_ud) { x86_ud(c); }
