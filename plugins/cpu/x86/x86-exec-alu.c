/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Integer arithmetic, logic, shifts, multiply/divide, BCD and bit
 * instructions (SDM vol. 2; flags per each instruction's "Flags Affected").
 */
#include "x86-ops.h"

static const uint32_t szmask[5] = { 0, 0xFF, 0xFFFF, 0, 0xFFFFFFFFu };

/* op: 0 ADD 1 OR 2 ADC 3 SBB 4 AND 5 SUB 6 XOR 7 CMP */
static inline uint32_t alu(X86Cpu *c, unsigned op, uint32_t a, uint32_t b, unsigned size)
{
    uint32_t r;
    switch (op) {
    case 0: r = a + b; lf_add(c, a, b, r, size); break;
    case 1: r = a | b; lf_logic(c, r, size); break;
    case 2: r = a + b + x86_get_cf(c); lf_add(c, a, b, r, size); break;
    case 3: r = a - b - x86_get_cf(c); lf_sub(c, a, b, r, size); break;
    case 4: r = a & b; lf_logic(c, r, size); break;
    case 5: r = a - b; lf_sub(c, a, b, r, size); break;
    case 6: r = a ^ b; lf_logic(c, r, size); break;
    default: r = a - b; lf_sub(c, a, b, r, size); break;
    }
    return r & szmask[size];
}

X86_H(h_alu_EG)
{
    unsigned size = (i->op & 1) ? x86_osize(i) : 1;
    unsigned op = (i->op >> 3) & 7;
    uint32_t b = x86_getreg(c, i->reg, size);
    if (op == 7) {
        alu(c, op, x86_rm_read(c, i, size), b, size);
        return;
    }
    uint32_t a = x86_rm_rmw_ld(c, i, size);
    x86_rm_rmw_st(c, i, alu(c, op, a, b, size), size);
}

X86_H(h_alu_GE)
{
    unsigned size = (i->op & 1) ? x86_osize(i) : 1;
    unsigned op = (i->op >> 3) & 7;
    uint32_t b = x86_rm_read(c, i, size);
    uint32_t r = alu(c, op, x86_getreg(c, i->reg, size), b, size);
    if (op != 7)
        x86_setreg(c, i->reg, r, size);
}

X86_H(h_alu_AI)
{
    unsigned size = (i->op & 1) ? x86_osize(i) : 1;
    unsigned op = (i->op >> 3) & 7;
    uint32_t r = alu(c, op, x86_getreg(c, R_EAX, size), i->imm, size);
    if (op != 7)
        x86_setreg(c, R_EAX, r, size);
}

X86_H(h_grp1)
{
    unsigned size = (i->op & 1) ? x86_osize(i) : 1;
    unsigned op = i->reg;
    if (op == 7) {
        alu(c, op, x86_rm_read(c, i, size), i->imm, size);
        return;
    }
    uint32_t a = x86_rm_rmw_ld(c, i, size);
    x86_rm_rmw_st(c, i, alu(c, op, a, i->imm, size), size);
}

X86_H(h_test_EG)
{
    unsigned size = (i->op & 1) ? x86_osize(i) : 1;
    uint32_t r = x86_rm_read(c, i, size) & x86_getreg(c, i->reg, size);
    lf_logic(c, r, size);
}

X86_H(h_test_AI)
{
    unsigned size = (i->op & 1) ? x86_osize(i) : 1;
    uint32_t r = x86_getreg(c, R_EAX, size) & i->imm;
    lf_logic(c, r, size);
}

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
    return r & szmask[size];
}

X86_H(h_inc_r)
{
    unsigned size = x86_osize(i);
    x86_setreg(c, i->reg, inc_dec(c, x86_getreg(c, i->reg, size), false, size), size);
}

X86_H(h_dec_r)
{
    unsigned size = x86_osize(i);
    x86_setreg(c, i->reg, inc_dec(c, x86_getreg(c, i->reg, size), true, size), size);
}

/* FE: INC/DEC Eb */
X86_H(h_grp4)
{
    if (i->reg > 1)
        x86_ud(c);
    uint32_t a = x86_rm_rmw_ld(c, i, 1);
    x86_rm_rmw_st(c, i, inc_dec(c, a, i->reg == 1, 1), 1);
}

static void raise_de(X86Cpu *c)
{
    x86_raise_noerr(c, X86_DE);
}

/* F6/F7: TEST NOT NEG MUL IMUL DIV IDIV */
X86_H(h_grp3)
{
    unsigned size = (i->op & 1) ? x86_osize(i) : 1;
    uint32_t m = szmask[size];
    switch (i->reg) {
    case 0: case 1: {
        uint32_t r = x86_rm_read(c, i, size) & i->imm;
        lf_logic(c, r, size);
        return;
    }
    case 2: {
        uint32_t a = x86_rm_rmw_ld(c, i, size);
        x86_rm_rmw_st(c, i, ~a & m, size);
        return;
    }
    case 3: {
        uint32_t a = x86_rm_rmw_ld(c, i, size);
        uint32_t r = (0 - a) & m;
        lf_sub(c, 0, a, r, size);
        x86_rm_rmw_st(c, i, r, size);
        return;
    }
    case 4: case 5: {
        uint32_t b = x86_rm_read(c, i, size);
        bool ovf;
        uint32_t lo;
        if (size == 1) {
            uint32_t al = c->r[R_EAX] & 0xFF;
            uint16_t r;
            if (i->reg == 4) {
                r = (uint16_t)(al * b);
                ovf = r >> 8;
            } else {
                int16_t sr = (int16_t)((int8_t)al * (int8_t)b);
                r = (uint16_t)sr;
                ovf = sr != (int8_t)sr;
            }
            c->r[R_EAX] = (c->r[R_EAX] & 0xFFFF0000u) | r;
            lo = r & 0xFF;
        } else if (size == 2) {
            uint32_t ax = c->r[R_EAX] & 0xFFFF, r;
            if (i->reg == 4) {
                r = ax * b;
                ovf = r >> 16;
            } else {
                int32_t sr = (int16_t)ax * (int16_t)b;
                r = (uint32_t)sr;
                ovf = sr != (int16_t)sr;
            }
            c->r[R_EAX] = (c->r[R_EAX] & 0xFFFF0000u) | (r & 0xFFFF);
            c->r[R_EDX] = (c->r[R_EDX] & 0xFFFF0000u) | (r >> 16);
            lo = r & 0xFFFF;
        } else {
            uint64_t r;
            if (i->reg == 4) {
                r = (uint64_t)c->r[R_EAX] * b;
                ovf = r >> 32;
            } else {
                int64_t sr = (int64_t)(int32_t)c->r[R_EAX] * (int32_t)b;
                r = (uint64_t)sr;
                ovf = sr != (int32_t)sr;
            }
            c->r[R_EAX] = (uint32_t)r;
            c->r[R_EDX] = (uint32_t)(r >> 32);
            lo = (uint32_t)r;
        }
        lf_res_cf_of(c, lo, size, ovf, ovf);
        return;
    }
    case 6: {
        uint32_t b = x86_rm_read(c, i, size);
        if (b == 0)
            raise_de(c);
        if (size == 1) {
            uint32_t ax = c->r[R_EAX] & 0xFFFF;
            uint32_t q = ax / b, r = ax % b;
            if (q > 0xFF)
                raise_de(c);
            c->r[R_EAX] = (c->r[R_EAX] & 0xFFFF0000u) | (r << 8) | q;
        } else if (size == 2) {
            uint32_t n = ((c->r[R_EDX] & 0xFFFF) << 16) | (c->r[R_EAX] & 0xFFFF);
            uint32_t q = n / b, r = n % b;
            if (q > 0xFFFF)
                raise_de(c);
            c->r[R_EAX] = (c->r[R_EAX] & 0xFFFF0000u) | q;
            c->r[R_EDX] = (c->r[R_EDX] & 0xFFFF0000u) | r;
        } else {
            uint64_t n = ((uint64_t)c->r[R_EDX] << 32) | c->r[R_EAX];
            uint64_t q = n / b, r = n % b;
            if (q > 0xFFFFFFFFu)
                raise_de(c);
            c->r[R_EAX] = (uint32_t)q;
            c->r[R_EDX] = (uint32_t)r;
        }
        return;
    }
    default: {
        uint32_t b = x86_rm_read(c, i, size);
        if (b == 0)
            raise_de(c);
        if (size == 1) {
            int32_t n = (int16_t)(c->r[R_EAX] & 0xFFFF), d = (int8_t)b;
            int32_t q = n / d, r = n % d;
            if (q > 127 || q < -128)
                raise_de(c);
            c->r[R_EAX] = (c->r[R_EAX] & 0xFFFF0000u) | ((uint32_t)(r & 0xFF) << 8) | (q & 0xFF);
        } else if (size == 2) {
            int32_t n = (int32_t)(((c->r[R_EDX] & 0xFFFF) << 16) | (c->r[R_EAX] & 0xFFFF));
            int32_t d = (int16_t)b;
            int64_t q = (int64_t)n / d, r = (int64_t)n % d;
            if (q > 32767 || q < -32768)
                raise_de(c);
            c->r[R_EAX] = (c->r[R_EAX] & 0xFFFF0000u) | ((uint32_t)q & 0xFFFF);
            c->r[R_EDX] = (c->r[R_EDX] & 0xFFFF0000u) | ((uint32_t)r & 0xFFFF);
        } else {
            int64_t n = (int64_t)(((uint64_t)c->r[R_EDX] << 32) | c->r[R_EAX]);
            int64_t d = (int32_t)b;
            if (n == INT64_MIN && d == -1)
                raise_de(c);
            int64_t q = n / d, r = n % d;
            if (q > INT32_MAX || q < INT32_MIN)
                raise_de(c);
            c->r[R_EAX] = (uint32_t)q;
            c->r[R_EDX] = (uint32_t)r;
        }
        return;
    }
    }
}

/* ---- shifts and rotates -------------------------------------------------- */

static inline uint32_t szf(uint32_t r, unsigned size)
{
    uint32_t m = szmask[size];
    r &= m;
    return (r == 0 ? F_ZF : 0) | ((r & (m ^ (m >> 1))) ? F_SF : 0) | (x86_parity_even(r) ? F_PF : 0);
}

/* Shift or rotate a (size bytes) by cnt (already masked to 5 bits, not 0):
 * returns the result and sets the flags. Rotates change only CF and OF;
 * OF is architecturally defined for a count of 1 only, the formulas below
 * are what the parts give for larger counts. */
uint32_t x86_shift_op(X86Cpu *c, unsigned op, uint32_t a, unsigned cnt, unsigned size)
{
    unsigned bits = size * 8;
    uint32_t m = szmask[size], sb = m ^ (m >> 1);
    uint32_t r, cf;
    a &= m;
    switch (op) {
    case 0: {  /* ROL */
        unsigned k = cnt & (bits - 1);
        r = k ? ((a << k) | (a >> (bits - k))) & m : a;
        cf = r & 1;
        lf_set_cf_of(c, cf, !!(r & sb) ^ cf);
        return r;
    }
    case 1: {  /* ROR */
        unsigned k = cnt & (bits - 1);
        r = k ? ((a >> k) | (a << (bits - k))) & m : a;
        cf = !!(r & sb);
        lf_set_cf_of(c, cf, cf ^ !!(r & (sb >> 1)));
        return r;
    }
    case 2: {  /* RCL */
        unsigned k = size == 4 ? cnt : cnt % (bits + 1);
        if (k == 0)
            return a;
        uint64_t v = ((uint64_t)x86_get_cf(c) << bits) | a;   /* bits+1 wide */
        uint64_t wm = (2ull << bits) - 1;
        v = ((v << k) | (v >> (bits + 1 - k))) & wm;
        r = (uint32_t)v & m;
        cf = (v >> bits) & 1;
        lf_set_cf_of(c, cf, !!(r & sb) ^ cf);
        return r;
    }
    case 3: {  /* RCR */
        unsigned k = size == 4 ? cnt : cnt % (bits + 1);
        if (k == 0)
            return a;
        uint32_t ocf = x86_get_cf(c);
        uint32_t of = !!(a & sb) ^ ocf;
        uint64_t v = ((uint64_t)ocf << bits) | a;
        uint64_t wm = (2ull << bits) - 1;
        v = ((v >> k) | (v << (bits + 1 - k))) & wm;
        r = (uint32_t)v & m;
        cf = (v >> bits) & 1;
        lf_set_cf_of(c, cf, of);
        return r;
    }
    case 4: case 6: {  /* SHL/SAL */
        uint64_t v = (uint64_t)a << cnt;
        r = (uint32_t)v & m;
        cf = cnt <= bits ? (uint32_t)((v >> bits) & 1) : 0;
        lf_res_cf_of(c, r, size, cf, !!(r & sb) ^ cf);
        return r;
    }
    case 5: {  /* SHR */
        r = cnt < bits ? (a >> cnt) : 0;
        cf = cnt <= bits ? (a >> (cnt - 1)) & 1 : 0;
        lf_res_cf_of(c, r, size, cf, !!(a & sb));
        return r;
    }
    default: {  /* SAR */
        int32_t sa = (int32_t)x86_sext(a, size);
        unsigned k = cnt < bits ? cnt : bits - 1;
        r = (uint32_t)(sa >> k) & m;
        cf = cnt < bits ? ((uint32_t)(sa >> (cnt - 1)) & 1) : (sa < 0);
        lf_res_cf_of(c, r, size, cf, 0);
        return r;
    }
    }
}

/* C0/C1 (imm), D0/D1 (1), D2/D3 (CL) */
X86_H(h_shift)
{
    unsigned size = (i->op & 1) ? x86_osize(i) : 1;
    unsigned cnt;
    if (i->op <= 0xD1)
        cnt = i->imm;       /* C0/C1; for D0/D1 the decoder makes imm 1 */
    else
        cnt = c->r[R_ECX] & 0xFF;
    cnt &= 0x1F;
    uint32_t a = x86_rm_rmw_ld(c, i, size);
    if (cnt != 0)
        a = x86_shift_op(c, i->reg, a, cnt, size);
    x86_rm_rmw_st(c, i, a, size);
}

/* 0F A4/A5 SHLD, 0F AC/AD SHRD */
static void shxd(X86Cpu *c, const X86Insn *i, bool left)
{
    unsigned size = x86_osize(i);
    unsigned bits = size * 8;
    unsigned cnt = ((i->op & 1) ? c->r[R_ECX] : i->imm) & 0x1F;
    uint32_t a = x86_rm_rmw_ld(c, i, size);
    uint32_t b = x86_getreg(c, i->reg, size);
    if (cnt == 0) {
        x86_rm_rmw_st(c, i, a, size);
        return;
    }
    uint32_t m = szmask[size], sb = m ^ (m >> 1), r, cf;
    if (size == 4) {
        if (left) {
            r = (a << cnt) | (cnt ? (uint32_t)((uint64_t)b >> (32 - cnt)) : 0);
            cf = (a >> (32 - cnt)) & 1;
        } else {
            r = (a >> cnt) | (uint32_t)((uint64_t)b << (32 - cnt));
            cf = (a >> (cnt - 1)) & 1;
        }
    } else {
        /* 16-bit: the count may exceed 16 (result undefined); model as a
         * 48-bit shift like the hardware's concatenation */
        uint64_t v;
        if (left) {
            v = ((uint64_t)a << 32) | ((uint64_t)b << 16) | a;
            cf = (uint32_t)(v >> (48 - cnt)) & 1;
            r = (uint32_t)(v >> (32 - cnt)) & m;
        } else {
            v = ((uint64_t)a << 32) | ((uint64_t)b << 16) | a;
            v = ((uint64_t)a) | ((uint64_t)b << 16) | ((uint64_t)a << 32);
            r = (uint32_t)(v >> cnt) & m;
            cf = (uint32_t)(v >> (cnt - 1)) & 1;
        }
    }
    (void)bits;
    lf_res_cf_of(c, r, size, cf, !!((a ^ r) & sb));
    x86_rm_rmw_st(c, i, r, size);
}

X86_H(h_shld) { shxd(c, i, true); }
X86_H(h_shrd) { shxd(c, i, false); }

/* ---- IMUL 2/3 operand ------------------------------------------------------ */

static void imul_set(X86Cpu *c, const X86Insn *i, uint32_t a, uint32_t b)
{
    unsigned size = x86_osize(i);
    uint32_t r;
    bool ovf;
    if (size == 2) {
        int32_t p = (int16_t)a * (int16_t)b;
        r = (uint32_t)p & 0xFFFF;
        ovf = p != (int16_t)p;
    } else {
        int64_t p = (int64_t)(int32_t)a * (int32_t)b;
        r = (uint32_t)p;
        ovf = p != (int32_t)p;
    }
    lf_res_cf_of(c, r, size, ovf, ovf);
    x86_setreg(c, i->reg, r, size);
}

X86_H(h_imul_GE)
{
    unsigned size = x86_osize(i);
    imul_set(c, i, x86_getreg(c, i->reg, size), x86_rm_read(c, i, size));
}

X86_H(h_imul_GEI)
{
    unsigned size = x86_osize(i);
    imul_set(c, i, x86_rm_read(c, i, size), i->imm);
}

/* ---- BCD ------------------------------------------------------------------ */

X86_H(h_daa)
{
    uint32_t f = x86_get_eflags(c);
    uint32_t al = c->r[R_EAX] & 0xFF, old = al;
    bool ocf = f & F_CF, cf = false, af = false;
    if ((al & 0xF) > 9 || (f & F_AF)) {
        cf = ocf || al + 6 > 0xFF;
        al = (al + 6) & 0xFF;
        af = true;
    }
    if (old > 0x99 || ocf) {
        al = (al + 0x60) & 0xFF;
        cf = true;
    } else {
        cf = false;
    }
    x86_set_arith(c, szf(al, 1) | (cf ? F_CF : 0) | (af ? F_AF : 0));
    x86_set_reg8(c, 0, al);
}

X86_H(h_das)
{
    uint32_t f = x86_get_eflags(c);
    uint32_t al = c->r[R_EAX] & 0xFF, old = al;
    bool ocf = f & F_CF, cf = false, af = false;
    if ((al & 0xF) > 9 || (f & F_AF)) {
        cf = ocf || al < 6;
        al = (al - 6) & 0xFF;
        af = true;
    }
    if (old > 0x99 || ocf) {
        al = (al - 0x60) & 0xFF;
        cf = true;
    }
    x86_set_arith(c, szf(al, 1) | (cf ? F_CF : 0) | (af ? F_AF : 0));
    x86_set_reg8(c, 0, al);
}

X86_H(h_aaa)
{
    uint32_t f = x86_get_eflags(c);
    uint32_t ax = c->r[R_EAX] & 0xFFFF;
    bool adj = (ax & 0xF) > 9 || (f & F_AF);
    if (adj)
        ax = (ax + 0x106) & 0xFFFF;
    ax &= 0xFF0F;
    c->r[R_EAX] = (c->r[R_EAX] & 0xFFFF0000u) | ax;
    x86_set_arith(c, (f & (F_OF | F_SF | F_ZF | F_PF)) | (adj ? F_AF | F_CF : 0));
}

X86_H(h_aas)
{
    uint32_t f = x86_get_eflags(c);
    uint32_t ax = c->r[R_EAX] & 0xFFFF;
    bool adj = (ax & 0xF) > 9 || (f & F_AF);
    if (adj) {
        ax = (ax - 6) & 0xFFFF;
        ax = (ax - 0x100) & 0xFFFF;
    }
    ax &= 0xFF0F;
    c->r[R_EAX] = (c->r[R_EAX] & 0xFFFF0000u) | ax;
    x86_set_arith(c, (f & (F_OF | F_SF | F_ZF | F_PF)) | (adj ? F_AF | F_CF : 0));
}

X86_H(h_aam)
{
    uint32_t base = i->imm & 0xFF;
    if (base == 0)
        raise_de(c);
    uint32_t al = c->r[R_EAX] & 0xFF;
    uint32_t ah = al / base;
    al %= base;
    c->r[R_EAX] = (c->r[R_EAX] & 0xFFFF0000u) | (ah << 8) | al;
    x86_set_arith(c, szf(al, 1));
}

X86_H(h_aad)
{
    uint32_t base = i->imm & 0xFF;
    uint32_t al = c->r[R_EAX] & 0xFF, ah = (c->r[R_EAX] >> 8) & 0xFF;
    al = (al + ah * base) & 0xFF;
    c->r[R_EAX] = (c->r[R_EAX] & 0xFFFF0000u) | al;
    x86_set_arith(c, szf(al, 1));
}

/* D6: undocumented SALC: AL = CF ? FF : 00, flags unchanged */
X86_H(h_salc)
{
    x86_set_reg8(c, 0, x86_cond(c, 2) ? 0xFF : 0);
}

/* ---- bit instructions ---------------------------------------------------- */

static void bt_common(X86Cpu *c, const X86Insn *i, unsigned kind, uint32_t bit, bool reg_off)
{
    unsigned size = x86_osize(i);
    unsigned bits = size * 8;
    uint32_t v, r;
    if (i->mod == 3) {
        bit &= bits - 1;
        v = x86_getreg(c, i->rm, size);
    } else {
        uint32_t ea = x86_ea(c, i);
        if (reg_off) {
            int32_t sbit = size == 2 ? (int16_t)bit : (int32_t)bit;
            ea += (uint32_t)((sbit >> (size == 2 ? 4 : 5)) * (int32_t)size);
            if (!i->a32)
                ea &= 0xFFFF;
        }
        bit &= bits - 1;
        if (kind == 0) {
            v = x86_ld(c, i->seg, ea, size);
        } else {
            v = x86_rmw_ld(c, i->seg, ea, size);
        }
    }
    uint32_t mask = 1u << bit;
    bool cf = v & mask;
    switch (kind) {
    case 1: r = v | mask; break;
    case 2: r = v & ~mask; break;
    case 3: r = v ^ mask; break;
    default: r = v; break;
    }
    uint32_t f = x86_get_eflags(c) & F_ARITH;
    x86_set_arith(c, (f & ~F_CF) | (cf ? F_CF : 0));
    if (kind != 0) {
        if (i->mod == 3)
            x86_setreg(c, i->rm, r, size);
        else
            x86_rmw_st(c, r, size);
    }
}

X86_H(h_bt_EG)
{
    unsigned kind;
    switch (i->op & 0xFF) {
    case 0xAB: kind = 1; break;
    case 0xB3: kind = 2; break;
    case 0xBB: kind = 3; break;
    default: kind = 0; break;
    }
    bt_common(c, i, kind, x86_getreg(c, i->reg, x86_osize(i)), true);
}

X86_H(h_bt_EI)
{
    if (i->reg < 4)
        x86_ud(c);
    bt_common(c, i, i->reg - 4, i->imm & 0xFF, false);
}

X86_H(h_bsf)
{
    unsigned size = x86_osize(i);
    uint32_t v = x86_rm_read(c, i, size);
    uint32_t f = x86_get_eflags(c) & F_ARITH & ~F_ZF;
    if (v == 0) {
        x86_set_arith(c, f | F_ZF);
        return;
    }
    x86_set_arith(c, f);
    x86_setreg(c, i->reg, (uint32_t)__builtin_ctz(v), size);
}

X86_H(h_bsr)
{
    unsigned size = x86_osize(i);
    uint32_t v = x86_rm_read(c, i, size);
    uint32_t f = x86_get_eflags(c) & F_ARITH & ~F_ZF;
    if (v == 0) {
        x86_set_arith(c, f | F_ZF);
        return;
    }
    x86_set_arith(c, f);
    x86_setreg(c, i->reg, 31u - (uint32_t)__builtin_clz(v), size);
}

X86_H(h_setcc)
{
    x86_rm_write(c, i, x86_cond(c, i->op & 0xF), 1);
}

X86_H(h_cmov)
{
    if (!(c->feat_edx & CPUID_CMOV))
        x86_ud(c);
    unsigned size = x86_osize(i);
    uint32_t v = x86_rm_read(c, i, size);
    if (x86_cond(c, i->op & 0xF))
        x86_setreg(c, i->reg, v, size);
}

X86_H(h_cmpxchg)
{
    unsigned size = (i->op & 1) ? x86_osize(i) : 1;
    uint32_t d = x86_rm_rmw_ld(c, i, size);
    uint32_t acc = x86_getreg(c, R_EAX, size);
    lf_sub(c, acc, d, acc - d, size);
    if (acc == d) {
        x86_rm_rmw_st(c, i, x86_getreg(c, i->reg, size), size);
    } else {
        x86_rm_rmw_st(c, i, d, size);
        x86_setreg(c, R_EAX, d, size);
    }
}

X86_H(h_xadd)
{
    unsigned size = (i->op & 1) ? x86_osize(i) : 1;
    uint32_t d = x86_rm_rmw_ld(c, i, size);
    uint32_t s = x86_getreg(c, i->reg, size);
    uint32_t r = alu(c, 0, d, s, size);
    x86_setreg(c, i->reg, d, size);
    x86_rm_rmw_st(c, i, r, size);
}

X86_H(h_cmpxchg8b)
{
    if (!(c->feat_edx & CPUID_CX8) || i->mod == 3 || i->reg != 1)
        x86_ud(c);
    uint32_t ea = x86_ea(c, i);
    uint32_t ea2 = i->a32 ? ea + 4 : ((ea + 4) & 0xFFFF);
    /* check writability of both halves before any store */
    uint32_t lo = x86_rmw_ld(c, i->seg, ea, 4);
    uint32_t hi = x86_rmw_ld(c, i->seg, ea2, 4);
    uint32_t f = x86_get_eflags(c) & F_ARITH & ~F_ZF;
    if (lo == c->r[R_EAX] && hi == c->r[R_EDX]) {
        x86_st(c, i->seg, ea, c->r[R_EBX], 4);
        x86_st(c, i->seg, ea2, c->r[R_ECX], 4);
        f |= F_ZF;
    } else {
        x86_st(c, i->seg, ea, lo, 4);
        x86_st(c, i->seg, ea2, hi, 4);
        c->r[R_EAX] = lo;
        c->r[R_EDX] = hi;
    }
    x86_set_arith(c, f);
}

X86_H(h_bswap)
{
    /* 16-bit operand size: undefined, real parts clear the low word */
    if (i->o32)
        c->r[i->reg] = __builtin_bswap32(c->r[i->reg]);
    else
        c->r[i->reg] &= 0xFFFF0000u;
}

X86_H(h_cbw)
{
    if (i->o32)
        c->r[R_EAX] = (uint32_t)(int32_t)(int16_t)c->r[R_EAX];
    else
        c->r[R_EAX] = (c->r[R_EAX] & 0xFFFF0000u) | ((uint32_t)(int16_t)(int8_t)c->r[R_EAX] & 0xFFFF);
}

X86_H(h_cwd)
{
    if (i->o32)
        c->r[R_EDX] = (c->r[R_EAX] & 0x80000000u) ? 0xFFFFFFFFu : 0;
    else
        c->r[R_EDX] = (c->r[R_EDX] & 0xFFFF0000u) | ((c->r[R_EAX] & 0x8000) ? 0xFFFF : 0);
}
