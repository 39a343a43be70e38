/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * MMX, SSE and SSE2: state checks, operand access and the handlers the
 * decoder selects by opcode and mandatory prefix (SDM vol. 2, 2.1.2 and
 * appendix A: for these 0F opcodes the last F2/F3, else 66, chooses the
 * instruction).
 */
#ifndef TESSERA_X86_SIMD_H
#define TESSERA_X86_SIMD_H

#include "x86-cpu.h"

enum { X86_MP_NONE, X86_MP_66, X86_MP_F3, X86_MP_F2 };

/* Handlers of 0F xx by mandatory prefix (x86-simd-decode.c); NULL: #UD. */
extern const X86Handler x86_simd_hnd[4][256];

/* MXCSR (SDM vol. 1, 10.2.3) */
#define MXCSR_IE  0x0001u
#define MXCSR_DE  0x0002u
#define MXCSR_ZE  0x0004u
#define MXCSR_OE  0x0008u
#define MXCSR_UE  0x0010u
#define MXCSR_PE  0x0020u
#define MXCSR_DAZ 0x0040u
#define MXCSR_IM  0x0080u       /* masks: flag << 7 */
#define MXCSR_RC  0x6000u
#define MXCSR_FTZ 0x8000u
#define MXCSR_FLAGS 0x003Fu
#define MXCSR_RESET 0x1F80u

/* x87 status word: exception summary (a pending unmasked exception) */
#define FSW_ES 0x0080u

/* MXCSR bits this model implements (MXCSR_MASK of FXSAVE): DAZ came
 * with the SSE2 parts. */
X86_INLINE uint32_t x86_mxcsr_mask(const X86Cpu *c)
{
    return (c->feat_edx & CPUID_SSE2) ? 0xFFFFu : 0xFFBFu;
}

/* ---- state checks (SDM vol. 3, 13.1 and vol. 2 "Exceptions" tables) --- */

/* An MMX instruction (or SSE one on MMX registers): #UD without the
 * feature or with CR0.EM, #NM with CR0.TS, #MF for a pending x87
 * exception with CR0.NE (with NE clear the FERR# path reports it). */
X86_INLINE void x86_mmx_check(X86Cpu *c, uint32_t feat)
{
    if (X86_UNLIKELY(!(c->feat_edx & feat) || (c->cr0 & CR0_EM)))
        x86_ud(c);
    if (X86_UNLIKELY(c->cr0 & CR0_TS))
        x86_raise_noerr(c, X86_NM);
    if (X86_UNLIKELY((c->fpu.sw & FSW_ES) && (c->cr0 & CR0_NE)))
        x86_raise_noerr(c, X86_MF);
}

/* The x87 -> MMX transition every MMX instruction makes (SDM vol. 1,
 * 9.5.1): TOP = 0 and all tags valid. */
X86_INLINE void x86_mmx_enter(X86Cpu *c)
{
    c->fpu.top = 0;
    c->fpu.tw = 0;
}

/* An SSE/SSE2 instruction on XMM registers: #UD without the feature,
 * with CR0.EM or without CR4.OSFXSR; #NM with CR0.TS. */
X86_INLINE void x86_sse_check(X86Cpu *c, uint32_t feat)
{
    if (X86_UNLIKELY(!(c->feat_edx & feat) || (c->cr0 & CR0_EM) || !(c->cr4 & CR4_OSFXSR)))
        x86_ud(c);
    if (X86_UNLIKELY(c->cr0 & CR0_TS))
        x86_raise_noerr(c, X86_NM);
}

X86_INLINE uint64_t x86_mm_get(const X86Cpu *c, unsigned n)
{
    return c->fpu.r[n].mant;
}
X86_INLINE void x86_mm_set(X86Cpu *c, unsigned n, uint64_t v)
{
    c->fpu.r[n].mant = v;
    c->fpu.r[n].se = 0xFFFF;
}

/* ---- memory operands (x86-simd-state.c) -----------------------------------
 * n = 4, 8 or 16 bytes at the r/m operand's effective address. A store
 * checks every page it touches before writing any byte; align16 raises
 * #GP(0) for a linear address that is not 16-byte aligned (the aligned
 * forms: MOVAPS, packed arithmetic on memory, ...). */
void x86_simd_load(X86Cpu *c, const X86Insn *i, void *dst, unsigned n, bool align16);
void x86_simd_store(X86Cpu *c, const X86Insn *i, const void *src, unsigned n, bool align16);
void x86_simd_load_at(X86Cpu *c, int seg, uint32_t off, void *dst, unsigned n);
void x86_simd_store_at(X86Cpu *c, int seg, uint32_t off, const void *src, unsigned n);

/* Source operand of an MMX-register form: the MMX register rm or 8 bytes
 * of memory. */
X86_INLINE uint64_t x86_mm_src(X86Cpu *c, const X86Insn *i)
{
    if (i->mod == 3)
        return x86_mm_get(c, i->rm);
    uint64_t v;
    x86_simd_load(c, i, &v, 8, false);
    return v;
}
/* Source operand of an XMM-register form: XMM rm, or n bytes of memory
 * (zero-extended to 16). */
X86_INLINE X86Xmm x86_xmm_src(X86Cpu *c, const X86Insn *i, unsigned n, bool align16)
{
    if (i->mod == 3)
        return c->xmm[i->rm];
    X86Xmm v = { .q = { 0, 0 } };
    x86_simd_load(c, i, &v, n, align16);
    return v;
}

/* ---- floating point (x86-simd-fp.c) ------------------------------------ */
/* Raise the SIMD floating-point exceptions in fl (MXCSR flag bits) the
 * way SDM vol. 1, 11.5.2 orders them: flags accumulate in MXCSR; any
 * unmasked one faults (#XM with CR4.OSXMMEXCPT, else #UD) before the
 * destination is written. */
void x86_simd_fp_raise(X86Cpu *c, uint32_t fl);

/* Handlers */
X86_H(h_simd_int);          /* x86-simd-int.c: integer ops, MMX and XMM */
X86_H(h_simd_shift_imm);
X86_H(h_simd_mov);          /* moves and shuffles, x86-simd-mov.c */
X86_H(h_simd_fp);           /* x86-simd-fp.c */
X86_H(h_simd_cvt);
X86_H(h_emms);
X86_H(h_grp15);             /* x86-simd-state.c: FXSAVE ... CLFLUSH */
X86_H(h_prefetch);
X86_H(h_movnti);

#endif
