/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Lazy arithmetic flags: the last flag-setting operation is remembered as
 * (cc_op, a, b, result) and OF/SF/ZF/AF/PF/CF are computed on demand
 * (SDM vol. 1, 3.4.3.1 and appendix A for each instruction's flags).
 */
#include "x86-cpu.h"

static const uint32_t cc_mask[3] = { 0xFFu, 0xFFFFu, 0xFFFFFFFFu };
static const uint32_t cc_sign[3] = { 0x80u, 0x8000u, 0x80000000u };

uint32_t x86_flags_arith(const X86Cpu *c)
{
    unsigned op = c->cc_op;
    if (op == CC_EAGER)
        return c->eflags & F_ARITH;
    unsigned sz = (op - 1) % 3;
    unsigned kind = (op - 1) / 3 * 3 + 1;
    uint32_t m = cc_mask[sz], sb = cc_sign[sz];
    uint32_t a = c->cc_a & m, b = c->cc_b & m, r = c->cc_res & m;
    uint32_t f = 0;
    if (r == 0)
        f |= F_ZF;
    if (r & sb)
        f |= F_SF;
    if (x86_parity(r))
        f |= F_PF;
    switch (kind) {
    case CC_ADD:
        if (r < a) f |= F_CF;
        if ((a ^ r) & (b ^ r) & sb) f |= F_OF;
        f |= (a ^ b ^ r) & F_AF;
        break;
    case CC_ADC: {
        uint32_t cin = (r - a - b) & m;
        if (cin ? r <= a : r < a) f |= F_CF;
        if ((a ^ r) & (b ^ r) & sb) f |= F_OF;
        f |= (a ^ b ^ r) & F_AF;
        break;
    }
    case CC_SUB:
        if (a < b) f |= F_CF;
        if ((a ^ b) & (a ^ r) & sb) f |= F_OF;
        f |= (a ^ b ^ r) & F_AF;
        break;
    case CC_SBB: {
        uint32_t cin = (a - b - r) & m;
        if (cin ? a <= b : a < b) f |= F_CF;
        if ((a ^ b) & (a ^ r) & sb) f |= F_OF;
        f |= (a ^ b ^ r) & F_AF;
        break;
    }
    case CC_LOGIC:
        break;
    case CC_INC:
        f |= c->cc_b & F_CF;
        if (r == sb) f |= F_OF;
        if ((r & 0xF) == 0) f |= F_AF;
        break;
    case CC_DEC:
        f |= c->cc_b & F_CF;
        if (a == sb) f |= F_OF;
        if ((a & 0xF) == 0) f |= F_AF;
        break;
    }
    return f;
}

bool x86_cond(const X86Cpu *c, unsigned cc)
{
    unsigned op = c->cc_op;
    bool v;
    /* Fast paths for the common compare-and-branch pairs. */
    if (op >= CC_SUB && op < CC_SUB + 3) {
        unsigned sz = op - CC_SUB;
        uint32_t m = cc_mask[sz];
        uint32_t a = c->cc_a & m, b = c->cc_b & m;
        int32_t sa, sbv;
        switch (cc >> 1) {
        case 1: v = a < b; goto out;                 /* B */
        case 2: v = a == b; goto out;                /* Z */
        case 3: v = a <= b; goto out;                /* BE */
        case 6: case 7:
            if (sz == 0) { sa = (int8_t)a; sbv = (int8_t)b; }
            else if (sz == 1) { sa = (int16_t)a; sbv = (int16_t)b; }
            else { sa = (int32_t)a; sbv = (int32_t)b; }
            v = (cc >> 1) == 6 ? sa < sbv : sa <= sbv;
            goto out;
        default:
            break;
        }
    }
    if (op != CC_EAGER && ((cc >> 1) == 2 || (cc >> 1) == 4)) {
        unsigned sz = (op - 1) % 3;
        uint32_t r = c->cc_res & cc_mask[sz];
        v = (cc >> 1) == 2 ? r == 0 : (r & cc_sign[sz]) != 0;
        goto out;
    }
    {
        uint32_t f = x86_flags_arith(c);
        switch (cc >> 1) {
        case 0: v = f & F_OF; break;
        case 1: v = f & F_CF; break;
        case 2: v = f & F_ZF; break;
        case 3: v = f & (F_CF | F_ZF); break;
        case 4: v = f & F_SF; break;
        case 5: v = f & F_PF; break;
        case 6: v = !(f & F_SF) != !(f & F_OF); break;
        default: v = (f & F_ZF) || (!(f & F_SF) != !(f & F_OF)); break;
        }
    }
out:
    return (cc & 1) ? !v : v;
}

void x86_write_eflags(X86Cpu *c, uint32_t val, uint32_t mask)
{
    x86_flags_sync(c);
    uint32_t old = c->eflags;
    c->eflags = (old & ~mask) | (val & mask);
    c->eflags = (c->eflags | 0x2u) & ~0xFFC08028u;
    if ((old ^ c->eflags) & (F_IF | F_TF | F_VM | F_IOPL))
        c->brk = 1;
    if ((old ^ c->eflags) & F_VM)
        x86_update_mode(c);
}
