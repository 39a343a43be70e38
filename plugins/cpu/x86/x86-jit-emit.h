/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A minimal x86-64 encoder for the translator (Intel SDM vol. 2, chapter
 * 2: REX, ModRM, SIB). Registers are numbered 0-15 (RAX ... R15); memory
 * operands are [base + disp]. Emission stops (over = true) instead of
 * writing past the end of the buffer: the caller then drops the block.
 */
#ifndef TESSERA_X86_JIT_EMIT_H
#define TESSERA_X86_JIT_EMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

enum { H_AX, H_CX, H_DX, H_BX, H_SP, H_BP, H_SI, H_DI,
       H_R8, H_R9, H_R10, H_R11, H_R12, H_R13, H_R14, H_R15 };

/* Host condition codes (the low nibble of Jcc / SETcc) */
enum { HC_O, HC_NO, HC_B, HC_AE, HC_E, HC_NE, HC_BE, HC_A,
       HC_S, HC_NS, HC_P, HC_NP, HC_L, HC_GE, HC_LE, HC_G };

typedef struct JEm {
    uint8_t *p, *lim;
    bool over;
} JEm;

/* An instruction's bytes are put together in a local buffer and stored
 * at once (e_put): a byte at a time, every store through the code
 * pointer made the compiler reload the emitter's state, and translating
 * cost ~10 host instructions per byte emitted. e_put stores 16 bytes
 * whatever n is: an emitter needs 16 bytes of room past p. */
static inline void e_put(JEm *e, const uint8_t b[16], unsigned n)
{
    uint8_t *p = e->p;
    if (p + 16 > e->lim) {
        e->over = true;
        return;
    }
    memcpy(p, b, 16);
    e->p = p + n;
}
static inline void e_b(JEm *e, uint8_t v)
{
    if (e->p < e->lim)
        *e->p++ = v;
    else
        e->over = true;
}
static inline void e_d(JEm *e, uint32_t v)
{
    uint8_t b[16] = { 0 };
    memcpy(b, &v, 4);       /* (the translator runs on x86-64: little-endian) */
    e_put(e, b, 4);
}
static inline void e_q(JEm *e, uint64_t v)
{
    uint8_t b[16] = { 0 };
    memcpy(b, &v, 8);
    e_put(e, b, 8);
}

static inline void e_rex(JEm *e, bool w, unsigned reg, unsigned base)
{
    uint8_t r = (uint8_t)(0x40 | (w << 3) | ((reg >> 3) << 2) | (base >> 3));
    if (r != 0x40)
        e_b(e, r);
}

/* REX (when needed) and the opcode (up to two bytes: 0x0FAF) into b at
 * n; returns the new n */
static inline unsigned e_head(uint8_t *b, unsigned n, bool w, uint32_t opc, unsigned reg, unsigned base)
{
    uint8_t r = (uint8_t)(0x40 | (w << 3) | ((reg >> 3) << 2) | (base >> 3));
    if (r != 0x40)
        b[n++] = r;
    if (opc > 0xFF)
        b[n++] = (uint8_t)(opc >> 8);
    b[n++] = (uint8_t)opc;
    return n;
}

/* opc reg, [base + disp] (opc up to two bytes: 0x0FAF) */
static inline void e_m(JEm *e, bool w, uint32_t opc, unsigned reg, unsigned base, int32_t disp)
{
    uint8_t b[16] = { 0 };
    unsigned n = e_head(b, 0, w, opc, reg, base);
    unsigned mod = (disp == 0 && (base & 7) != 5) ? 0 : (disp >= -128 && disp <= 127) ? 1 : 2;
    b[n++] = (uint8_t)((mod << 6) | ((reg & 7) << 3) | (base & 7));
    if ((base & 7) == 4)
        b[n++] = 0x24;
    if (mod == 1) {
        b[n++] = (uint8_t)disp;
    } else if (mod == 2) {
        memcpy(b + n, &disp, 4);
        n += 4;
    }
    e_put(e, b, n);
}

/* opc reg, rm (register direct) */
static inline void e_r(JEm *e, bool w, uint32_t opc, unsigned reg, unsigned rm)
{
    uint8_t b[16] = { 0 };
    unsigned n = e_head(b, 0, w, opc, reg, rm);
    b[n++] = (uint8_t)(0xC0 | ((reg & 7) << 3) | (rm & 7));
    e_put(e, b, n);
}

/* LEA r32, [base + index << scale + disp] (base, index: -1 for none;
 * index never RSP) */
static inline void e_lea(JEm *e, unsigned dst, int base, int index, unsigned scale, int32_t disp)
{
    uint8_t b[16] = { 0 };
    unsigned n = 0;
    unsigned x = index >= 0 ? (unsigned)index : 4, bb = base >= 0 ? (unsigned)base : 5;
    uint8_t rex = (uint8_t)(0x40 | ((dst >> 3) << 2) | ((x >> 3) << 1) | (bb >> 3));
    if (rex != 0x40)
        b[n++] = rex;
    b[n++] = 0x8D;
    unsigned mod = base < 0 ? 0 : (disp == 0 && (bb & 7) != 5) ? 0
                 : (disp >= -128 && disp <= 127) ? 1 : 2;
    b[n++] = (uint8_t)((mod << 6) | ((dst & 7) << 3) | 4);
    b[n++] = (uint8_t)((scale << 6) | ((x & 7) << 3) | (bb & 7));
    if (mod == 1) {
        b[n++] = (uint8_t)disp;
    } else if (mod == 2 || base < 0) {
        memcpy(b + n, &disp, 4);
        n += 4;
    }
    e_put(e, b, n);
}

/* 32-bit moves */
static inline void e_ld32(JEm *e, unsigned r, unsigned base, int32_t d) { e_m(e, false, 0x8B, r, base, d); }
static inline void e_st32(JEm *e, unsigned r, unsigned base, int32_t d) { e_m(e, false, 0x89, r, base, d); }
static inline void e_ld64(JEm *e, unsigned r, unsigned base, int32_t d) { e_m(e, true, 0x8B, r, base, d); }
static inline void e_st64(JEm *e, unsigned r, unsigned base, int32_t d) { e_m(e, true, 0x89, r, base, d); }
/* size 1/2/4: zero-extending load, store of the low bytes */
static inline void e_ldz(JEm *e, unsigned size, unsigned r, unsigned base, int32_t d)
{
    if (size == 1)
        e_m(e, false, 0x0FB6, r, base, d);
    else if (size == 2)
        e_m(e, false, 0x0FB7, r, base, d);
    else
        e_ld32(e, r, base, d);
}
static inline void e_stn(JEm *e, unsigned size, unsigned r, unsigned base, int32_t d)
{
    if (size == 1) {
        /* SPL-DIL need a REX prefix; the translator uses AL-DL or R8B+ */
        e_m(e, false, 0x88, r, base, d);
    } else if (size == 2) {
        e_b(e, 0x66);
        e_m(e, false, 0x89, r, base, d);
    } else {
        e_st32(e, r, base, d);
    }
}
static inline void e_st_imm32(JEm *e, unsigned base, int32_t d, uint32_t imm)
{
    e_m(e, false, 0xC7, 0, base, d);
    e_d(e, imm);
}
static inline void e_mov_rr(JEm *e, unsigned dst, unsigned src) { e_r(e, false, 0x89, src, dst); }
static inline void e_mov_rr64(JEm *e, unsigned dst, unsigned src) { e_r(e, true, 0x89, src, dst); }
static inline void e_mov_ri(JEm *e, unsigned r, uint32_t imm)
{
    e_rex(e, false, 0, r);
    e_b(e, (uint8_t)(0xB8 + (r & 7)));
    e_d(e, imm);
}
static inline void e_mov_ri64(JEm *e, unsigned r, uint64_t imm)
{
    e_rex(e, true, 0, r);
    e_b(e, (uint8_t)(0xB8 + (r & 7)));
    e_q(e, imm);
}

/* ALU group (ADD 0, OR 1, ADC 2, SBB 3, AND 4, SUB 5, XOR 6, CMP 7) */
static inline void e_alu_rr(JEm *e, unsigned op, unsigned dst, unsigned src)
{
    e_r(e, false, op * 8 + 1, src, dst);
}
static inline void e_alu_rr64(JEm *e, unsigned op, unsigned dst, unsigned src)
{
    e_r(e, true, op * 8 + 1, src, dst);
}
static inline void e_alu_ri(JEm *e, unsigned op, unsigned r, uint32_t imm)
{
    if ((int32_t)imm >= -128 && (int32_t)imm <= 127) {
        e_r(e, false, 0x83, op, r);
        e_b(e, (uint8_t)imm);
    } else {
        e_r(e, false, 0x81, op, r);
        e_d(e, imm);
    }
}
static inline void e_alu_ri64(JEm *e, unsigned op, unsigned r, int8_t imm)
{
    e_r(e, true, 0x83, op, r);
    e_b(e, (uint8_t)imm);
}
/* op reg, [base + d] */
static inline void e_alu_rm(JEm *e, unsigned op, unsigned r, unsigned base, int32_t d)
{
    e_m(e, false, op * 8 + 3, r, base, d);
}
static inline void e_alu_rm64(JEm *e, unsigned op, unsigned r, unsigned base, int32_t d)
{
    e_m(e, true, op * 8 + 3, r, base, d);
}
/* op dword [base + d], imm */
static inline void e_alu_mi(JEm *e, unsigned op, unsigned base, int32_t d, uint32_t imm)
{
    if ((int32_t)imm >= -128 && (int32_t)imm <= 127) {
        e_m(e, false, 0x83, op, base, d);
        e_b(e, (uint8_t)imm);
    } else {
        e_m(e, false, 0x81, op, base, d);
        e_d(e, imm);
    }
}
/* CMP byte [base + d], imm8 */
static inline void e_cmpb_mi(JEm *e, unsigned base, int32_t d, uint8_t imm)
{
    e_m(e, false, 0x80, 7, base, d);
    e_b(e, imm);
}
static inline void e_not(JEm *e, unsigned r) { e_r(e, false, 0xF7, 2, r); }
/* shifts and rotates by an immediate: ROL 0, ROR 1, SHL 4, SHR 5, SAR 7 */
static inline void e_shift_ri(JEm *e, unsigned op, unsigned r, uint8_t cnt)
{
    e_r(e, false, 0xC1, op, r);
    e_b(e, cnt);
}
/* the same by CL */
static inline void e_shift_rcl(JEm *e, unsigned op, unsigned r) { e_r(e, false, 0xD3, op, r); }
static inline void e_imul_rri(JEm *e, unsigned dst, unsigned src, uint32_t imm)
{
    e_r(e, false, 0x69, dst, src);
    e_d(e, imm);
}
static inline void e_imul_rr(JEm *e, unsigned dst, unsigned src) { e_r(e, false, 0x0FAF, dst, src); }
/* SETcc r8 then zero-extend; r must be AL-DL (no REX) */
static inline void e_setcc(JEm *e, unsigned cc, unsigned r)
{
    e_r(e, false, 0x0F90 + cc, 0, r);
    e_r(e, false, 0x0FB6, r, r);
}
static inline void e_test_rr(JEm *e, unsigned a, unsigned b) { e_r(e, false, 0x85, b, a); }
/* CMP a, b (op 7) or TEST a, b (op 8) of size bytes; a, b among EAX,
 * ECX, EDX, EBX (the byte forms name AL ... BL) */
static inline void e_cmp_sized(JEm *e, unsigned op, unsigned size, unsigned a, unsigned b)
{
    if (size == 2)
        e_b(e, 0x66);
    e_r(e, false, (op == 7 ? 0x38u : 0x84u) + (size != 1), b, a);
}
/* MOVSX r32, r8 / r16 */
static inline void e_movsx(JEm *e, unsigned size, unsigned dst, unsigned src)
{
    e_r(e, false, size == 1 ? 0x0FBE : 0x0FBF, dst, src);
}

/* Jumps with a 32-bit displacement: return the place to patch. */
static inline uint8_t *e_jcc(JEm *e, unsigned cc)
{
    e_b(e, 0x0F);
    e_b(e, (uint8_t)(0x80 + cc));
    uint8_t *at = e->p;
    e_d(e, 0);
    return at;
}
static inline uint8_t *e_jmp(JEm *e)
{
    e_b(e, 0xE9);
    uint8_t *at = e->p;
    e_d(e, 0);
    return at;
}
/* jmp to `to`, emitted or to come in the same buffer */
static inline void e_jmp_to(JEm *e, const uint8_t *to)
{
    e_b(e, 0xE9);
    e_d(e, (uint32_t)(int32_t)(to - (e->p + 4)));
}
/* Make the jump at `at` land here. */
static inline void e_patch(JEm *e, uint8_t *at)
{
    if (e->over || !at)
        return;
    int32_t rel = (int32_t)(e->p - (at + 4));
    memcpy(at, &rel, 4);
}

static inline void e_push(JEm *e, unsigned r)
{
    e_rex(e, false, 0, r);
    e_b(e, (uint8_t)(0x50 + (r & 7)));
}
static inline void e_pop(JEm *e, unsigned r)
{
    e_rex(e, false, 0, r);
    e_b(e, (uint8_t)(0x58 + (r & 7)));
}
/* jmp r64 */
static inline void e_jmp_r(JEm *e, unsigned r)
{
    e_rex(e, false, 0, r);
    e_b(e, 0xFF);
    e_b(e, (uint8_t)(0xE0 | (r & 7)));
}

/* call through RAX to an absolute address */
static inline void e_call_abs(JEm *e, const void *fn)
{
    e_mov_ri64(e, H_AX, (uint64_t)(uintptr_t)fn);
    e_b(e, 0xFF);
    e_b(e, 0xD0);
}

#endif
