/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Specialised forms of the most frequent instructions: one handler per
 * operation, operand size and operand form (register, memory load,
 * read-modify-write, immediate), chosen by the decoder, so that nothing
 * is decided again at run time. Semantics are those of the generic
 * handlers (x86-exec-alu.c, x86-exec-mov.c), which remain the reference
 * and serve LOCK prefixes and the rarer encodings; the differential test
 * runs through these forms.
 *
 * Register operand conventions set by the decoder: for two-register forms
 * rm is the destination and reg the source; for accumulator-immediate
 * forms (04, 05, 0C ...) rm is 0.
 */
#include "x86-ops.h"
#include "x86-fast.h"

/* op: 0 ADD 1 OR 2 ADC 3 SBB 4 AND 5 SUB 6 XOR 7 CMP */
X86_INLINE uint32_t alu_op(X86Cpu *c, unsigned op, uint32_t a, uint32_t b, unsigned size)
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
    return r;
}

/* Host address of the memory operand when everything allows the direct
 * path: segment checks pass and the TLB holds the page for this kind of
 * access (and the operand does not cross it). NULL otherwise: the caller
 * then hands the whole instruction to the generic handler, which does the
 * checks again and raises what they call for. */
enum { ACC_RD, ACC_WR, ACC_RMW };
X86_INLINE uint8_t *fast_host(X86Cpu *c, int seg, uint32_t off, unsigned size, int acc)
{
    const X86Seg *s = &c->seg[seg];
    if (X86_UNLIKELY(off < s->lo || (uint64_t)off + size - 1 > s->hi
                     || !(acc == ACC_RD ? s->rd : s->wr)))
        return NULL;
    uint32_t lin = s->base + off;
    X86Tlb *e = x86_tlb_entry(c, lin);
    uint32_t tag = acc == ACC_RD ? e->rtag : acc == ACC_WR ? e->wtag : e->rwtag;
    if (X86_UNLIKELY(tag != (lin & ~0xFFFu) || (lin & 0xFFF) > 0x1000 - size))
        return NULL;
    return (uint8_t *)((acc == ACC_RD ? e->radd : e->wadd) + lin);
}
X86_INLINE uint8_t *fast_mem(X86Cpu *c, const X86Insn *i, unsigned size, int acc)
{
    return fast_host(c, i->seg, x86_ea(c, i), size, acc);
}

#define SLOW(generic) do { generic(c, i); return; } while (0)

#define DEF_ALU(name, op, size, sfx)                                          \
X86_H(h_##name##sfx##_rr)                                                     \
{                                                                             \
    uint32_t r = alu_op(c, op, x86_getreg(c, i->rm, size),                    \
                        x86_getreg(c, i->reg, size), size);                   \
    if (op != 7)                                                              \
        x86_setreg(c, i->rm, r, size);                                        \
}                                                                             \
X86_H(h_##name##sfx##_ri)                                                     \
{                                                                             \
    uint32_t r = alu_op(c, op, x86_getreg(c, i->rm, size), i->imm, size);     \
    if (op != 7)                                                              \
        x86_setreg(c, i->rm, r, size);                                        \
}                                                                             \
X86_H(h_##name##sfx##_rm)                                                     \
{                                                                             \
    const uint8_t *p = fast_mem(c, i, size, ACC_RD);                          \
    if (!p)                                                                   \
        SLOW(h_alu_GE);                                                       \
    uint32_t r = alu_op(c, op, x86_getreg(c, i->reg, size), x86_host_ld(p, size), size); \
    if (op != 7)                                                              \
        x86_setreg(c, i->reg, r, size);                                       \
}                                                                             \
X86_H(h_##name##sfx##_mr)                                                     \
{                                                                             \
    uint8_t *p = fast_mem(c, i, size, op == 7 ? ACC_RD : ACC_RMW);            \
    if (!p)                                                                   \
        SLOW(h_alu_EG);                                                       \
    uint32_t r = alu_op(c, op, x86_host_ld(p, size), x86_getreg(c, i->reg, size), size); \
    if (op != 7)                                                              \
        x86_host_st(p, r, size);                                              \
}                                                                             \
X86_H(h_##name##sfx##_mi)                                                     \
{                                                                             \
    uint8_t *p = fast_mem(c, i, size, op == 7 ? ACC_RD : ACC_RMW);            \
    if (!p)                                                                   \
        SLOW(h_grp1);                                                         \
    uint32_t r = alu_op(c, op, x86_host_ld(p, size), i->imm, size);           \
    if (op != 7)                                                              \
        x86_host_st(p, r, size);                                              \
}

#define DEF_ALU_SIZES(name, op)                                               \
    DEF_ALU(name, op, 1, 8) DEF_ALU(name, op, 2, 16) DEF_ALU(name, op, 4, 32)

DEF_ALU_SIZES(add, 0)
DEF_ALU_SIZES(or, 1)
DEF_ALU_SIZES(adc, 2)
DEF_ALU_SIZES(sbb, 3)
DEF_ALU_SIZES(and, 4)
DEF_ALU_SIZES(sub, 5)
DEF_ALU_SIZES(xor, 6)
DEF_ALU_SIZES(cmp, 7)

#define ALU_ROW(name, sfx) { h_##name##sfx##_rr, h_##name##sfx##_ri, h_##name##sfx##_rm, \
                             h_##name##sfx##_mr, h_##name##sfx##_mi }
#define ALU_SIZES(name) { ALU_ROW(name, 8), ALU_ROW(name, 16), ALU_ROW(name, 32) }
const X86Handler x86_fast_alu[8][3][5] = {
    ALU_SIZES(add), ALU_SIZES(or), ALU_SIZES(adc), ALU_SIZES(sbb),
    ALU_SIZES(and), ALU_SIZES(sub), ALU_SIZES(xor), ALU_SIZES(cmp),
};

/* ---- TEST ---------------------------------------------------------------- */

#define DEF_TEST(size, sfx)                                                   \
X86_H(h_test##sfx##_rr)                                                       \
{                                                                             \
    lf_logic(c, x86_getreg(c, i->rm, size) & x86_getreg(c, i->reg, size), size); \
}                                                                             \
X86_H(h_test##sfx##_ri)                                                       \
{                                                                             \
    lf_logic(c, x86_getreg(c, i->rm, size) & i->imm, size);                   \
}                                                                             \
X86_H(h_test##sfx##_mr)                                                       \
{                                                                             \
    const uint8_t *p = fast_mem(c, i, size, ACC_RD);                          \
    if (!p)                                                                   \
        SLOW(h_test_EG);                                                      \
    lf_logic(c, x86_host_ld(p, size) & x86_getreg(c, i->reg, size), size);    \
}                                                                             \
X86_H(h_test##sfx##_mi)                                                       \
{                                                                             \
    const uint8_t *p = fast_mem(c, i, size, ACC_RD);                          \
    if (!p)                                                                   \
        SLOW(h_grp3);                                                         \
    lf_logic(c, x86_host_ld(p, size) & i->imm, size);                         \
}
DEF_TEST(1, 8) DEF_TEST(2, 16) DEF_TEST(4, 32)

/* rr, ri, (rm unused), mr, mi */
const X86Handler x86_fast_test[3][5] = {
    { h_test8_rr, h_test8_ri, NULL, h_test8_mr, h_test8_mi },
    { h_test16_rr, h_test16_ri, NULL, h_test16_mr, h_test16_mi },
    { h_test32_rr, h_test32_ri, NULL, h_test32_mr, h_test32_mi },
};

/* ---- MOV ------------------------------------------------------------------- */

#define DEF_MOV(size, sfx)                                                    \
X86_H(h_mov##sfx##_rr) { x86_setreg(c, i->rm, x86_getreg(c, i->reg, size), size); } \
X86_H(h_mov##sfx##_ri) { x86_setreg(c, i->rm, i->imm, size); }               \
X86_H(h_mov##sfx##_rm)                                                        \
{                                                                             \
    const uint8_t *p = fast_mem(c, i, size, ACC_RD);                          \
    if (!p)                                                                   \
        SLOW(h_mov_GE);                                                       \
    x86_setreg(c, i->reg, x86_host_ld(p, size), size);                        \
}                                                                             \
X86_H(h_mov##sfx##_mr)                                                        \
{                                                                             \
    uint8_t *p = fast_mem(c, i, size, ACC_WR);                                \
    if (!p)                                                                   \
        SLOW(h_mov_EG);                                                       \
    x86_host_st(p, x86_getreg(c, i->reg, size), size);                        \
}                                                                             \
X86_H(h_mov##sfx##_mi)                                                        \
{                                                                             \
    uint8_t *p = fast_mem(c, i, size, ACC_WR);                                \
    if (!p)                                                                   \
        SLOW(h_mov_EI);                                                       \
    x86_host_st(p, i->imm, size);                                             \
}
DEF_MOV(1, 8) DEF_MOV(2, 16) DEF_MOV(4, 32)

const X86Handler x86_fast_mov[3][5] = {
    { h_mov8_rr, h_mov8_ri, h_mov8_rm, h_mov8_mr, h_mov8_mi },
    { h_mov16_rr, h_mov16_ri, h_mov16_rm, h_mov16_mr, h_mov16_mi },
    { h_mov32_rr, h_mov32_ri, h_mov32_rm, h_mov32_mr, h_mov32_mi },
};

/* MOVZX / MOVSX: [dst 16/32][src 8/16][reg, mem] */
#define DEF_MOVX(name, dsz, ssz, EXT, generic)                                \
X86_H(h_##name##_r) { x86_setreg(c, i->reg, EXT(x86_getreg(c, i->rm, ssz)), dsz); } \
X86_H(h_##name##_m)                                                           \
{                                                                             \
    const uint8_t *p = fast_mem(c, i, ssz, ACC_RD);                           \
    if (!p)                                                                   \
        SLOW(generic);                                                        \
    x86_setreg(c, i->reg, EXT(x86_host_ld(p, ssz)), dsz);                     \
}
#define ZX(v) (v)
#define SX8(v) ((uint32_t)(int32_t)(int8_t)(v))
#define SX16(v) ((uint32_t)(int32_t)(int16_t)(v))
DEF_MOVX(movzx16_8, 2, 1, ZX, h_movzx) DEF_MOVX(movzx32_8, 4, 1, ZX, h_movzx)
DEF_MOVX(movzx16_16, 2, 2, ZX, h_movzx) DEF_MOVX(movzx32_16, 4, 2, ZX, h_movzx)
DEF_MOVX(movsx16_8, 2, 1, SX8, h_movsx) DEF_MOVX(movsx32_8, 4, 1, SX8, h_movsx)
DEF_MOVX(movsx16_16, 2, 2, SX16, h_movsx) DEF_MOVX(movsx32_16, 4, 2, SX16, h_movsx)

const X86Handler x86_fast_movx[2][2][2][2] = {
    { { { h_movzx16_8_r, h_movzx16_8_m }, { h_movzx16_16_r, h_movzx16_16_m } },
      { { h_movzx32_8_r, h_movzx32_8_m }, { h_movzx32_16_r, h_movzx32_16_m } } },
    { { { h_movsx16_8_r, h_movsx16_8_m }, { h_movsx16_16_r, h_movsx16_16_m } },
      { { h_movsx32_8_r, h_movsx32_8_m }, { h_movsx32_16_r, h_movsx32_16_m } } },
};

X86_H(h_lea32) { c->r[i->reg] = x86_ea(c, i); }
X86_H(h_lea16) { x86_setreg(c, i->reg, x86_ea(c, i), 2); }

/* ---- INC / DEC / PUSH / POP of a register ------------------------------------- */

X86_H(h_inc32_r)
{
    uint32_t a = c->r[i->reg], r = a + 1;
    lf_inc(c, a, r, 4);
    c->r[i->reg] = r;
}
X86_H(h_dec32_r)
{
    uint32_t a = c->r[i->reg], r = a - 1;
    lf_dec(c, a, r, 4);
    c->r[i->reg] = r;
}
X86_H(h_inc16_r)
{
    uint32_t a = c->r[i->reg] & 0xFFFF, r = a + 1;
    lf_inc(c, a, r, 2);
    x86_setreg(c, i->reg, r, 2);
}
X86_H(h_dec16_r)
{
    uint32_t a = c->r[i->reg] & 0xFFFF, r = a - 1;
    lf_dec(c, a, r, 2);
    x86_setreg(c, i->reg, r, 2);
}

/* The stack fast path: 32-bit stack (16-bit stacks wrap SP; the generic
 * handler does that). */
X86_H(h_push32_r)
{
    uint32_t sp = c->r[R_ESP] - 4;
    uint8_t *p;
    if (!c->ss32 || !(p = fast_host(c, S_SS, sp, 4, ACC_WR)))
        SLOW(h_push_r);
    x86_host_st(p, c->r[i->reg], 4);
    c->r[R_ESP] = sp;
}
X86_H(h_pop32_r)
{
    const uint8_t *p;
    if (!c->ss32 || !(p = fast_host(c, S_SS, c->r[R_ESP], 4, ACC_RD)))
        SLOW(h_pop_r);
    uint32_t v = x86_host_ld(p, 4);
    c->r[R_ESP] += 4;
    c->r[i->reg] = v;
}
/* 16-bit operands, on a 16- or 32-bit stack (SP wraps in the former) */
X86_H(h_push16_r)
{
    uint32_t sp = x86_sp(c) - 2;
    uint8_t *p;
    if (!c->ss32)
        sp &= 0xFFFF;
    if (!(p = fast_host(c, S_SS, sp, 2, ACC_WR)))
        SLOW(h_push_r);
    x86_host_st(p, c->r[i->reg], 2);
    x86_set_sp(c, sp);
}
X86_H(h_pop16_r)
{
    uint32_t sp = x86_sp(c);
    const uint8_t *p;
    if (!(p = fast_host(c, S_SS, sp, 2, ACC_RD)))
        SLOW(h_pop_r);
    uint32_t v = x86_host_ld(p, 2);
    x86_set_sp(c, sp + 2);
    x86_setreg(c, i->reg, v, 2);
}

/* ---- shifts and rotates by an immediate count, 1 or CL -------------------------- */

X86_INLINE uint32_t shift_fast(X86Cpu *c, unsigned op, uint32_t a, unsigned cnt, unsigned size)
{
    unsigned bits = size * 8;
    uint32_t sb = 1u << (bits - 1), m = (sb << 1) - 1;
    uint32_t r, cf;
    switch (op) {
    case 0: {  /* ROL */
        unsigned k = cnt & (bits - 1);
        r = k ? ((a << k) | (a >> (bits - k))) & m : a;
        cf = r & 1;
        lf_set_cf_of(c, cf, (r >> (bits - 1)) ^ cf);
        return r;
    }
    case 1: {  /* ROR */
        unsigned k = cnt & (bits - 1);
        r = k ? ((a >> k) | (a << (bits - k))) & m : a;
        cf = r >> (bits - 1);
        lf_set_cf_of(c, cf, cf ^ ((r >> (bits - 2)) & 1));
        return r;
    }
    case 4: case 6:     /* SHL: cnt is 1..31, may exceed a narrow width */
        r = (a << cnt) & m;
        cf = cnt <= bits ? (uint32_t)(((uint64_t)a << cnt) >> bits) & 1 : 0;
        lf_res_cf_of(c, r, size, cf, (r >> (bits - 1)) ^ cf);
        return r;
    case 5:             /* SHR */
        r = cnt < bits ? a >> cnt : 0;
        cf = cnt <= bits ? (a >> (cnt - 1)) & 1 : 0;
        lf_res_cf_of(c, r, size, cf, a >> (bits - 1));
        return r;
    case 7: {           /* SAR */
        int32_t sa = (int32_t)x86_sext(a, size);
        r = (uint32_t)(sa >> (cnt < bits ? cnt : bits - 1)) & m;
        cf = cnt < bits ? ((uint32_t)(sa >> (cnt - 1))) & 1 : (uint32_t)sa >> 31;
        lf_res_cf_of(c, r, size, cf, 0);
        return r;
    }
    default:            /* RCL, RCR */
        return x86_shift_op(c, op, a, cnt, size);
    }
}

/* _ri: register by an immediate or 1 (the decoder stores the count
 * masked to 5 bits in imm); _rc: register by CL; _m: memory. A count of
 * 0 changes nothing, flags included. */
#define DEF_SHIFT(OPN, size, sfx)                                             \
X86_H(h_shift##OPN##sfx##_ri)                                                 \
{                                                                             \
    unsigned cnt = i->imm & 0x1F;                                             \
    if (cnt)                                                                  \
        x86_setreg(c, i->rm, shift_fast(c, OPN, x86_getreg(c, i->rm, size), cnt, size), size); \
}                                                                             \
X86_H(h_shift##OPN##sfx##_rc)                                                 \
{                                                                             \
    unsigned cnt = c->r[R_ECX] & 0x1F;                                        \
    if (cnt)                                                                  \
        x86_setreg(c, i->rm, shift_fast(c, OPN, x86_getreg(c, i->rm, size), cnt, size), size); \
}                                                                             \
X86_H(h_shift##OPN##sfx##_m)                                                  \
{                                                                             \
    unsigned cnt = (i->op >= 0xD2 ? c->r[R_ECX] : i->imm) & 0x1F;             \
    uint8_t *p = fast_mem(c, i, size, ACC_RMW);                               \
    if (!p)                                                                   \
        SLOW(h_shift);                                                        \
    if (cnt)                                                                  \
        x86_host_st(p, shift_fast(c, OPN, x86_host_ld(p, size), cnt, size), size); \
}
#define DEF_SHIFT_SIZES(op) DEF_SHIFT(op, 1, _8) DEF_SHIFT(op, 2, _16) DEF_SHIFT(op, 4, _32)
DEF_SHIFT_SIZES(0) DEF_SHIFT_SIZES(1) DEF_SHIFT_SIZES(2) DEF_SHIFT_SIZES(3)
DEF_SHIFT_SIZES(4) DEF_SHIFT_SIZES(5) DEF_SHIFT_SIZES(6) DEF_SHIFT_SIZES(7)

#define SHIFT_SZ(op, sfx) { h_shift##op##sfx##_ri, h_shift##op##sfx##_rc, h_shift##op##sfx##_m }
#define SHIFT_ROW(op) { SHIFT_SZ(op, _8), SHIFT_SZ(op, _16), SHIFT_SZ(op, _32) }
const X86Handler x86_fast_shift[8][3][3] = {
    SHIFT_ROW(0), SHIFT_ROW(1), SHIFT_ROW(2), SHIFT_ROW(3),
    SHIFT_ROW(4), SHIFT_ROW(5), SHIFT_ROW(6), SHIFT_ROW(7),
};

/* ---- IMUL ------------------------------------------------------------------ */

X86_INLINE void imul32(X86Cpu *c, const X86Insn *i, uint32_t a, uint32_t b)
{
    int64_t p = (int64_t)(int32_t)a * (int32_t)b;
    uint32_t r = (uint32_t)p, ovf = p != (int32_t)r;
    lf_res_cf_of(c, r, 4, ovf, ovf);
    c->r[i->reg] = r;
}
X86_H(h_imul32_GEI_r) { imul32(c, i, c->r[i->rm], i->imm); }
X86_H(h_imul32_GEI_m)
{
    const uint8_t *p = fast_mem(c, i, 4, ACC_RD);
    if (!p)
        SLOW(h_imul_GEI);
    imul32(c, i, x86_host_ld(p, 4), i->imm);
}
X86_H(h_imul32_GE_r) { imul32(c, i, c->r[i->reg], c->r[i->rm]); }
X86_H(h_imul32_GE_m)
{
    const uint8_t *p = fast_mem(c, i, 4, ACC_RD);
    if (!p)
        SLOW(h_imul_GE);
    imul32(c, i, c->r[i->reg], x86_host_ld(p, 4));
}

/* ---- Jcc, one handler per condition ------------------------------------------ */

#define DEF_JCC(cc)                                                           \
X86_H(h_jcc##cc)                                                              \
{                                                                             \
    if (x86_cond(c, cc))                                                      \
        x86_jump_near(c, c->next_eip + i->imm, i->o32);                       \
}
DEF_JCC(0) DEF_JCC(1) DEF_JCC(2) DEF_JCC(3) DEF_JCC(4) DEF_JCC(5) DEF_JCC(6) DEF_JCC(7)
DEF_JCC(8) DEF_JCC(9) DEF_JCC(10) DEF_JCC(11) DEF_JCC(12) DEF_JCC(13) DEF_JCC(14) DEF_JCC(15)

const X86Handler x86_fast_jcc[16] = {
    h_jcc0, h_jcc1, h_jcc2, h_jcc3, h_jcc4, h_jcc5, h_jcc6, h_jcc7,
    h_jcc8, h_jcc9, h_jcc10, h_jcc11, h_jcc12, h_jcc13, h_jcc14, h_jcc15,
};

X86_H(h_call32_rel)
{
    uint32_t t = c->next_eip + i->imm;
    uint32_t sp = c->r[R_ESP] - 4;
    uint8_t *p;
    if (t > c->seg[S_CS].limit || !c->ss32 || !(p = fast_host(c, S_SS, sp, 4, ACC_WR)))
        SLOW(h_call_rel);
    x86_host_st(p, c->next_eip, 4);
    c->r[R_ESP] = sp;
    c->next_eip = t;
}

X86_H(h_ret32)
{
    const uint8_t *p;
    if (!c->ss32 || !(p = fast_host(c, S_SS, c->r[R_ESP], 4, ACC_RD)))
        SLOW(h_ret);
    uint32_t t = x86_host_ld(p, 4);
    if (t > c->seg[S_CS].limit)
        SLOW(h_ret);
    c->r[R_ESP] += 4;
    c->next_eip = t;
}

X86_H(h_call16_rel)
{
    uint32_t t = (c->next_eip + i->imm) & 0xFFFF;
    uint32_t sp = x86_sp(c) - 2;
    uint8_t *p;
    if (!c->ss32)
        sp &= 0xFFFF;
    if (t > c->seg[S_CS].limit || !(p = fast_host(c, S_SS, sp, 2, ACC_WR)))
        SLOW(h_call_rel);
    x86_host_st(p, c->next_eip, 2);
    x86_set_sp(c, sp);
    c->next_eip = t;
}

X86_H(h_ret16)
{
    uint32_t sp = x86_sp(c);
    const uint8_t *p;
    if (!(p = fast_host(c, S_SS, sp, 2, ACC_RD)))
        SLOW(h_ret);
    uint32_t t = x86_host_ld(p, 2);
    if (t > c->seg[S_CS].limit)
        SLOW(h_ret);
    x86_set_sp(c, sp + 2);
    c->next_eip = t;
}

/* E2 LOOP: the counter is CX or ECX by the address size. */
X86_H(h_loop32)
{
    uint32_t cx = c->r[R_ECX] - 1;
    c->r[R_ECX] = cx;
    if (cx)
        x86_jump_near(c, c->next_eip + i->imm, i->o32);
}
X86_H(h_loop16)
{
    uint32_t cx = (c->r[R_ECX] - 1) & 0xFFFF;
    c->r[R_ECX] = (c->r[R_ECX] & 0xFFFF0000u) | cx;
    if (cx)
        x86_jump_near(c, c->next_eip + i->imm, i->o32);
}
