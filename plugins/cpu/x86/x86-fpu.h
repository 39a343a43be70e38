/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * x87 FPU: the 80-bit extended-precision software arithmetic
 * (x86-fpu-sf.c) and the instruction handlers (x86-fpu.c).
 *
 * The arithmetic is integer-only C, so results are the same on every
 * host. Values travel as X86F80 (the register format). Every operation
 * takes an X86FEnv: the rounding control, the precision (significand
 * bits: 24, 53 or 64), the exception masks, and collects the exception
 * flags raised plus C1 (the "rounded up" indicator).
 */
#ifndef TESSERA_X86_FPU_H
#define TESSERA_X86_FPU_H

#include "x86-cpu.h"

/* Status word (SDM vol. 1, 8.1.3) */
#define FSW_IE 0x0001u
#define FSW_DE 0x0002u
#define FSW_ZE 0x0004u
#define FSW_OE 0x0008u
#define FSW_UE 0x0010u
#define FSW_PE 0x0020u
#define FSW_SF 0x0040u
#define FSW_ES 0x0080u
#define FSW_C0 0x0100u
#define FSW_C1 0x0200u
#define FSW_C2 0x0400u
#define FSW_TOP 0x3800u
#define FSW_C3 0x4000u
#define FSW_B  0x8000u
#define FSW_EXC 0x003Fu

/* Control word (SDM vol. 1, 8.1.5) */
#define FCW_PC(cw) (((cw) >> 8) & 3)
#define FCW_RC(cw) (((cw) >> 10) & 3)
enum { RC_NEAR, RC_DOWN, RC_UP, RC_ZERO };

/* Tags (SDM vol. 1, 8.1.7) */
enum { TAG_VALID, TAG_ZERO, TAG_SPECIAL, TAG_EMPTY };

typedef struct X86FEnv {
    uint8_t rc;             /* RC_* */
    uint8_t prec;           /* 24, 53 or 64 */
    uint16_t mask;          /* exception masks, FSW_IE..FSW_PE layout */
    uint16_t ex;            /* raised: FSW_IE..FSW_PE */
    bool up;                /* the last rounding increased the magnitude (C1) */
} X86FEnv;

/* Destination formats of a rounding */
enum { FMT_F80, FMT_F64, FMT_F32 };

/* Classification of a register value */
enum { FC_ZERO, FC_DENORM, FC_NORMAL, FC_INF, FC_QNAN, FC_SNAN, FC_UNSUP };
static inline int f80_class(X86F80 a)
{
    unsigned exp = a.se & 0x7FFF;
    bool j = a.mant >> 63;
    if (X86_LIKELY(exp - 1 < 0x7FFE))
        return j ? FC_NORMAL : FC_UNSUP;
    if (exp == 0)
        return a.mant == 0 ? FC_ZERO : FC_DENORM;
    if (!j)
        return FC_UNSUP;
    if ((a.mant << 1) == 0)
        return FC_INF;
    return (a.mant >> 62) & 1 ? FC_QNAN : FC_SNAN;
}
static inline bool f80_sign(X86F80 a) { return a.se >> 15; }
static inline bool f80_is_nan(X86F80 a)
{
    int k = f80_class(a);
    return k == FC_QNAN || k == FC_SNAN;
}
extern const X86F80 f80_indefinite;

X86F80 f80_add(X86FEnv *e, X86F80 a, X86F80 b, bool sub);
X86F80 f80_mul(X86FEnv *e, X86F80 a, X86F80 b);
X86F80 f80_div(X86FEnv *e, X86F80 a, X86F80 b);
X86F80 f80_sqrt(X86FEnv *e, X86F80 a);
X86F80 f80_round_int(X86FEnv *e, X86F80 a);
X86F80 f80_scale(X86FEnv *e, X86F80 a, X86F80 b);
/* FXTRACT: *sig gets the significand, the return value the exponent. */
X86F80 f80_extract(X86FEnv *e, X86F80 a, X86F80 *sig);
/* FPREM (ieee false) / FPREM1: *cc gets C0-C3 as status-word bits. */
X86F80 f80_rem(X86FEnv *e, X86F80 a, X86F80 b, bool ieee, uint16_t *cc);
/* Compare: 0 less, 1 equal, 2 greater, 3 unordered. quiet: only an SNaN
 * (or unsupported operand) is invalid. */
int f80_cmp(X86FEnv *e, X86F80 a, X86F80 b, bool quiet);

/* Conversions. Loads are exact. */
X86F80 f80_from_i64(int64_t v);
X86F80 f80_from_f32(X86FEnv *e, uint32_t v);
X86F80 f80_from_f64(X86FEnv *e, uint64_t v);
/* Stores round per e->rc into the format (the caller leaves the
 * destination alone on an unmasked exception). */
uint32_t f80_to_f32(X86FEnv *e, X86F80 a);
uint64_t f80_to_f64(X86FEnv *e, X86F80 a);
/* To a bits-wide integer (16, 32, 64); trunc: FISTTP-style chop. Out of
 * range or NaN: IE and the integer indefinite. */
int64_t f80_to_int(X86FEnv *e, X86F80 a, unsigned bits, bool trunc);
/* Round an extended value to the precision of e (FLD constants, the
 * transcendental results computed wider). */
X86F80 f80_round_prec(X86FEnv *e, bool sign, int32_t exp, uint64_t sig, uint64_t ext);
/* Through the host's long double, for the transcendental functions. */
long double f80_to_ld(X86F80 a);
X86F80 f80_from_ld(X86FEnv *e, long double v);

/* ---- x86-fpu.c -------------------------------------------------------- */
/* FNINIT (init) or the power-on state; FERR# follows through bus.ferr. */
void x86_fpu_reset(X86Cpu *c, bool init);
/* A port 0xF0 write: FERR# drops and IGNNE# holds until the error clears. */
void x86_fpu_ignne(X86Cpu *c);

#endif
