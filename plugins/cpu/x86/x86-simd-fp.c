/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SSE/SSE2 floating point: arithmetic, compares, conversions, RCP/RSQRT
 * (SDM vol. 1, 10.4 / 11.4 and 11.5 for the exceptions).
 *
 * The x86-specific parts are done here in software: NaN propagation
 * (first operand first, SNaNs quieted, default NaN = negative QNaN),
 * DAZ, FTZ, the denormal flag, MIN/MAX and compare semantics, the
 * integer indefinite of conversions. What is left for the host is the
 * correctly rounded IEEE 754 result of + - * / sqrt and of narrowing
 * conversions, in the rounding mode MXCSR selects (set with fesetround),
 * and the host's inexact / overflow / underflow / invalid / divide flags
 * (read with fetestexcept), which IEEE 754 fully specifies. The host's
 * float and double must be binary32/binary64 evaluated in their own
 * format (FLT_EVAL_METHOD 0; x86-64, AArch64, ...). One corner is the
 * host's: a result that rounds to the smallest normal is tiny on x86
 * (tininess after rounding) only if the host's underflow flag says so,
 * which a host detecting tininess before rounding may report otherwise.
 */
#include "x86-ops.h"
#include "x86-simd.h"
#include <fenv.h>
#include <float.h>
#include <math.h>

#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0
#error "SSE emulation needs float/double evaluated in their own precision"
#endif

typedef struct Fmt {
    unsigned w;             /* 32 or 64 */
    uint64_t sign, expm, mant, qbit, minnorm;
} Fmt;

static const Fmt F32 = { 32, 0x80000000u, 0x7F800000u, 0x007FFFFFu, 0x00400000u, 0x00800000u };
static const Fmt F64 = { 64, 1ull << 63, 0x7FF0000000000000ull, 0x000FFFFFFFFFFFFFull,
                         0x0008000000000000ull, 0x0010000000000000ull };

static bool is_nan(const Fmt *f, uint64_t v) { return (v & f->expm) == f->expm && (v & f->mant); }
static bool is_snan(const Fmt *f, uint64_t v) { return is_nan(f, v) && !(v & f->qbit); }
static bool is_denorm(const Fmt *f, uint64_t v) { return !(v & f->expm) && (v & f->mant); }
static bool is_zero(const Fmt *f, uint64_t v) { return !(v & (f->expm | f->mant)); }
static uint64_t quiet(const Fmt *f, uint64_t v) { return v | f->qbit; }
static uint64_t default_nan(const Fmt *f) { return f->sign | f->expm | f->qbit; }

static float f32_of(uint64_t v) { float x; uint32_t u = (uint32_t)v; memcpy(&x, &u, 4); return x; }
static double f64_of(uint64_t v) { double x; memcpy(&x, &v, 8); return x; }
static uint64_t bits_f32(float x) { uint32_t u; memcpy(&u, &x, 4); return u; }
static uint64_t bits_f64(double x) { uint64_t u; memcpy(&u, &x, 8); return u; }
static double to_double(const Fmt *f, uint64_t v) { return f->w == 32 ? (double)f32_of(v) : f64_of(v); }

/* One instruction's floating-point context: MXCSR controls in, the
 * exception flags it raises out. */
typedef struct FpCtx {
    uint32_t mxcsr;
    uint32_t fl;
} FpCtx;

static FpCtx fp_begin(X86Cpu *c)
{
    static const int modes[4] = { FE_TONEAREST, FE_DOWNWARD, FE_UPWARD, FE_TOWARDZERO };
    fesetround(modes[(c->mxcsr >> 13) & 3]);
    return (FpCtx){ .mxcsr = c->mxcsr, .fl = 0 };
}
static void fp_end(X86Cpu *c, FpCtx *x)
{
    fesetround(FE_TONEAREST);
    x86_simd_fp_raise(c, x->fl);
}

void x86_simd_fp_raise(X86Cpu *c, uint32_t fl)
{
    uint32_t unmasked = fl & ~(c->mxcsr >> 7) & MXCSR_FLAGS;
    /* an unmasked invalid, denormal or divide-by-zero exception is taken
     * before the result is computed: no post-computation flags */
    if (unmasked & (MXCSR_IE | MXCSR_DE | MXCSR_ZE))
        fl &= MXCSR_IE | MXCSR_DE | MXCSR_ZE;
    c->mxcsr |= fl & MXCSR_FLAGS;
    if (unmasked)
        x86_raise_noerr(c, (c->cr4 & CR4_OSXMMEXCPT) ? X86_XM : X86_UD);
}

/* Denormals are zero: an input denormal becomes a zero of its sign. */
static uint64_t daz(const FpCtx *x, const Fmt *f, uint64_t v)
{
    if ((x->mxcsr & MXCSR_DAZ) && is_denorm(f, v))
        return v & f->sign;
    return v;
}

/* Flags and FTZ of a result the host computed, hf its exception flags.
 * scaled_pe >= 0: the operation overflowed or underflowed with that
 * exception unmasked, and the handler is told whether the significand
 * rounded inexactly (the same operation on operands scaled into range),
 * not whether the masked response (inf, max, denormal) would have. */
static uint64_t fp_post_pe(FpCtx *x, const Fmt *f, uint64_t r, int hf, int scaled_pe)
{
    if (hf & FE_INVALID) {
        x->fl |= MXCSR_IE;
        return default_nan(f);
    }
    if (hf & FE_DIVBYZERO)
        x->fl |= MXCSR_ZE;
    if (hf & FE_OVERFLOW)
        x->fl |= MXCSR_OE;
    bool inexact = hf & FE_INEXACT;
    uint64_t mag = r & ~f->sign;
    bool tiny = is_denorm(f, r) || (mag == 0 && inexact)
             || (mag == f->minnorm && inexact && (hf & FE_UNDERFLOW));
    if (tiny) {
        if ((x->mxcsr & MXCSR_FTZ) && (x->mxcsr & (MXCSR_UE << 7))) {
            r &= f->sign;
            x->fl |= MXCSR_UE | MXCSR_PE;
        } else if (inexact || !(x->mxcsr & (MXCSR_UE << 7))) {
            x->fl |= MXCSR_UE;
        }
    }
    if (scaled_pe >= 0 ? scaled_pe : inexact)
        x->fl |= MXCSR_PE;
    return r;
}

static uint64_t fp_post(FpCtx *x, const Fmt *f, uint64_t r, int hf)
{
    return fp_post_pe(x, f, r, hf, -1);
}

/* Unmasked overflow / underflow: the exponent is out of range, but is
 * the significand exact? */
static bool ov_unmasked(const FpCtx *x, const Fmt *f, uint64_t r, int hf)
{
    uint64_t mag = r & ~f->sign;
    bool tiny = is_denorm(f, r) || (mag == 0 && (hf & FE_INEXACT))
             || (mag == f->minnorm && (hf & FE_INEXACT) && (hf & FE_UNDERFLOW));
    return ((hf & FE_OVERFLOW) && !(x->mxcsr & (MXCSR_OE << 7)))
        || (tiny && !(x->mxcsr & (MXCSR_UE << 7)));
}

enum { FOP_ADD, FOP_SUB, FOP_MUL, FOP_DIV, FOP_SQRT, FOP_MIN, FOP_MAX };

/* -1: a < b, 0: equal, 1: a > b, 2: unordered (no flags) */
static int fp_cmp(const Fmt *f, uint64_t a, uint64_t b)
{
    if (is_nan(f, a) || is_nan(f, b))
        return 2;
    int64_t ka = (a & f->sign) ? -(int64_t)(a & ~f->sign) : (int64_t)a;
    int64_t kb = (b & f->sign) ? -(int64_t)(b & ~f->sign) : (int64_t)b;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/* The significand of v in [0.5, 1) with its sign, and the exponent */
static uint64_t bits_frexp(const Fmt *f, uint64_t v, int *e)
{
    if (f->w == 32) {
        volatile float r = frexpf(f32_of(v), e);
        return bits_f32(r);
    }
    volatile double r = frexp(f64_of(v), e);
    return bits_f64(r);
}

/* v * 2^sh in its own format (exact while in range) */
static uint64_t bits_scaled(const Fmt *f, uint64_t v, int sh)
{
    if (f->w == 32) {
        volatile float r = ldexpf(f32_of(v), sh);
        return bits_f32(r);
    }
    volatile double r = ldexp(f64_of(v), sh);
    return bits_f64(r);
}

static uint64_t host_arith(const Fmt *f, int op, uint64_t a, uint64_t b, int *hf)
{
    uint64_t r;
    feclearexcept(FE_ALL_EXCEPT);
    if (f->w == 32) {
        volatile float x = f32_of(a), y = f32_of(b), z;
        switch (op) {
        case FOP_ADD: z = x + y; break;
        case FOP_SUB: z = x - y; break;
        case FOP_MUL: z = x * y; break;
        case FOP_DIV: z = x / y; break;
        default: z = sqrtf(x); break;
        }
        r = bits_f32(z);
    } else {
        volatile double x = f64_of(a), y = f64_of(b), z;
        switch (op) {
        case FOP_ADD: z = x + y; break;
        case FOP_SUB: z = x - y; break;
        case FOP_MUL: z = x * y; break;
        case FOP_DIV: z = x / y; break;
        default: z = sqrt(x); break;
        }
        r = bits_f64(z);
    }
    *hf = fetestexcept(FE_ALL_EXCEPT);
    return r;
}

static uint64_t fp_arith(FpCtx *x, const Fmt *f, int op, uint64_t a, uint64_t b)
{
    bool two = op != FOP_SQRT;
    a = daz(x, f, a);
    b = two ? daz(x, f, b) : 0;
    if (op == FOP_MIN || op == FOP_MAX) {
        /* any NaN: invalid, and the second operand is the result */
        if (is_nan(f, a) || is_nan(f, b)) {
            x->fl |= MXCSR_IE;
            return b;
        }
        if (is_denorm(f, a) || is_denorm(f, b))
            x->fl |= MXCSR_DE;
        int r = fp_cmp(f, a, b);
        return (op == FOP_MIN ? r < 0 : r > 0) ? a : b;
    }
    if (is_nan(f, a) || (two && is_nan(f, b))) {
        if (is_snan(f, a) || (two && is_snan(f, b)))
            x->fl |= MXCSR_IE;
        return quiet(f, is_nan(f, a) ? a : b);
    }
    int hf;
    uint64_t r = host_arith(f, op, a, b, &hf);
    /* an invalid operation (the square root of a negative denormal) or
     * a division by zero (denormal / 0) is the only exception reported */
    if (!(hf & (FE_INVALID | FE_DIVBYZERO)) && (is_denorm(f, a) || (two && is_denorm(f, b))))
        x->fl |= MXCSR_DE;
    if (X86_UNLIKELY(!(hf & FE_INVALID) && ov_unmasked(x, f, r, hf))) {
        /* the same operation on operands scaled by powers of two into
         * the middle of the range (exact) tells whether the significand
         * rounded */
        int ea, eb, hf2;
        uint64_t na = bits_frexp(f, a, &ea), nb = bits_frexp(f, b, &eb);
        if (op == FOP_ADD || op == FOP_SUB) {
            int e = ea > eb ? ea : eb;
            na = bits_scaled(f, a, -e);
            nb = bits_scaled(f, b, -e);
        }
        host_arith(f, op, na, nb, &hf2);
        return fp_post_pe(x, f, r, hf, (hf2 & FE_INEXACT) != 0);
    }
    return fp_post(x, f, r, hf);
}

/* RCPPS/RCPSS and RSQRTPS/RSQRTSS: approximations within Intel's
 * documented |relative error| <= 1.5 * 2^-12: the exact value, cut to 12
 * fraction bits. Denormal inputs count as zeros and results below the
 * normal range are flushed, as the hardware's tables do; no flags. */
static uint32_t fp_rcp(uint32_t a, bool rsqrt)
{
    const Fmt *f = &F32;
    uint32_t s = a & 0x80000000u;
    if (is_nan(f, a))
        return a | 0x00400000u;
    if (is_zero(f, a) || is_denorm(f, a))
        return s | 0x7F800000u;
    if (rsqrt && s)
        return (uint32_t)default_nan(f);
    if ((a & 0x7FFFFFFFu) == 0x7F800000u)
        return s;
    double v = (double)f32_of(a);
    double r = rsqrt ? 1.0 / sqrt(v) : 1.0 / v;
    uint64_t b = bits_f64(r);
    b &= ~((1ull << (52 - 12)) - 1);
    float rf = (float)f64_of(b);      /* exact: 13 significant bits */
    uint32_t u = (uint32_t)bits_f32(rf);
    if (!(u & 0x7F800000u))
        u &= 0x80000000u;
    return u;
}

static uint64_t lane_get(const X86Xmm *v, unsigned esz, unsigned k)
{
    return esz == 4 ? v->d[k] : v->q[k];
}
static void lane_set(X86Xmm *v, unsigned esz, unsigned k, uint64_t x)
{
    if (esz == 4)
        v->d[k] = (uint32_t)x;
    else
        v->q[k] = x;
}

/* CMPPS/PS/SS/SD predicates 0-7 (imm8 bits 2:0) */
static bool fp_pred(FpCtx *x, const Fmt *f, unsigned p, uint64_t a, uint64_t b)
{
    a = daz(x, f, a);
    b = daz(x, f, b);
    bool signaling = p == 1 || p == 2 || p == 5 || p == 6;
    /* a denormal counts only when neither operand is a NaN */
    if (is_snan(f, a) || is_snan(f, b) || (signaling && (is_nan(f, a) || is_nan(f, b))))
        x->fl |= MXCSR_IE;
    else if (!is_nan(f, a) && !is_nan(f, b) && (is_denorm(f, a) || is_denorm(f, b)))
        x->fl |= MXCSR_DE;
    int r = fp_cmp(f, a, b);
    switch (p) {
    case 0: return r == 0;
    case 1: return r == -1;
    case 2: return r == -1 || r == 0;
    case 3: return r == 2;
    case 4: return r != 0;
    case 5: return r != -1;
    case 6: return r != -1 && r != 0;
    default: return r != 2;
    }
}

/* 0F 2E/2F, 51-53, 58-59, 5C-5F, C2 */
X86_H(h_simd_fp)
{
    unsigned op = i->op & 0xFF, mp = i->mp;
    bool dbl = mp == X86_MP_66 || mp == X86_MP_F2;
    bool scalar = mp == X86_MP_F3 || mp == X86_MP_F2 || op == 0x2E || op == 0x2F;
    x86_sse_check(c, dbl ? CPUID_SSE2 : CPUID_SSE);
    const Fmt *f = dbl ? &F64 : &F32;
    unsigned esz = dbl ? 8 : 4, lanes = scalar ? 1 : 16 / esz;
    X86Xmm b = x86_xmm_src(c, i, scalar ? esz : 16, !scalar);
    X86Xmm r = c->xmm[i->reg];
    FpCtx x = fp_begin(c);
    if (op == 0x2E || op == 0x2F) {     /* UCOMISS/COMISS (SD): EFLAGS */
        uint64_t va = daz(&x, f, lane_get(&r, esz, 0)), vb = daz(&x, f, lane_get(&b, esz, 0));
        if (is_snan(f, va) || is_snan(f, vb) || (op == 0x2F && (is_nan(f, va) || is_nan(f, vb))))
            x.fl |= MXCSR_IE;
        else if (!is_nan(f, va) && !is_nan(f, vb) && (is_denorm(f, va) || is_denorm(f, vb)))
            x.fl |= MXCSR_DE;
        int cr = fp_cmp(f, va, vb);
        fp_end(c, &x);
        x86_set_arith(c, cr == 2 ? (F_ZF | F_PF | F_CF) : cr == 0 ? F_ZF : cr < 0 ? F_CF : 0);
        return;
    }
    for (unsigned k = 0; k < lanes; k++) {
        uint64_t va = lane_get(&r, esz, k), vb = lane_get(&b, esz, k), v;
        switch (op) {
        case 0x51: v = fp_arith(&x, f, FOP_SQRT, vb, 0); break;
        case 0x52: v = fp_rcp((uint32_t)vb, true); break;
        case 0x53: v = fp_rcp((uint32_t)vb, false); break;
        case 0x58: v = fp_arith(&x, f, FOP_ADD, va, vb); break;
        case 0x59: v = fp_arith(&x, f, FOP_MUL, va, vb); break;
        case 0x5C: v = fp_arith(&x, f, FOP_SUB, va, vb); break;
        case 0x5D: v = fp_arith(&x, f, FOP_MIN, va, vb); break;
        case 0x5E: v = fp_arith(&x, f, FOP_DIV, va, vb); break;
        case 0x5F: v = fp_arith(&x, f, FOP_MAX, va, vb); break;
        case 0xC2: v = fp_pred(&x, f, i->imm & 7, va, vb) ? ~0ull : 0; break;
        default: fesetround(FE_TONEAREST); x86_ud(c);
        }
        lane_set(&r, esz, k, v);
    }
    fp_end(c, &x);
    c->xmm[i->reg] = r;
}

/* ---- conversions ------------------------------------------------------------ */

/* Floating point to int32: rounded by MXCSR.RC or truncated; NaN and
 * out-of-range give the integer indefinite 0x80000000 with invalid. */
static uint32_t cvt_to_i32(FpCtx *x, const Fmt *f, uint64_t v, bool trunc)
{
    v = daz(x, f, v);
    if (is_nan(f, v)) {
        x->fl |= MXCSR_IE;
        return 0x80000000u;
    }
    double d = to_double(f, v);
    volatile double vd = d;
    double r = trunc ? __builtin_trunc(vd) : __builtin_nearbyint(vd);
    if (!(r >= -2147483648.0 && r <= 2147483647.0)) {
        x->fl |= MXCSR_IE;
        return 0x80000000u;
    }
    if (r != d)
        x->fl |= MXCSR_PE;
    return (uint32_t)(int32_t)r;
}

static uint64_t cvt_from_i32(FpCtx *x, const Fmt *f, uint32_t v)
{
    if (f->w == 64)
        return bits_f64((double)(int32_t)v);
    volatile int32_t s = (int32_t)v;
    float r = (float)s;
    if ((double)r != (double)(int32_t)v)
        x->fl |= MXCSR_PE;
    return bits_f32(r);
}

/* single -> double: exact; a NaN keeps its payload's top bits */
static uint64_t cvt_s2d(FpCtx *x, uint32_t v)
{
    v = (uint32_t)daz(x, &F32, v);
    if (is_nan(&F32, v)) {
        if (is_snan(&F32, v))
            x->fl |= MXCSR_IE;
        return ((uint64_t)(v & 0x80000000u) << 32) | 0x7FF8000000000000ull
             | ((uint64_t)(v & 0x003FFFFFu) << 29);
    }
    if (is_denorm(&F32, v))
        x->fl |= MXCSR_DE;
    return bits_f64((double)f32_of(v));
}

/* double -> single: rounded by MXCSR.RC */
static uint32_t cvt_d2s(FpCtx *x, uint64_t v)
{
    v = daz(x, &F64, v);
    if (is_nan(&F64, v)) {
        if (is_snan(&F64, v))
            x->fl |= MXCSR_IE;
        return (uint32_t)(v >> 32 & 0x80000000u) | 0x7FC00000u
             | (uint32_t)((v >> 29) & 0x003FFFFFu);
    }
    if (is_denorm(&F64, v))
        x->fl |= MXCSR_DE;
    feclearexcept(FE_ALL_EXCEPT);
    volatile double d = f64_of(v);
    volatile float r = (float)d;
    int hf = fetestexcept(FE_ALL_EXCEPT);
    int spe = -1;
    if (X86_UNLIKELY(ov_unmasked(x, &F32, bits_f32(r), hf))) {
        int e;
        feclearexcept(FE_ALL_EXCEPT);
        volatile double sd = frexp(d, &e);
        volatile float sr = (float)sd;
        (void)sr;
        spe = fetestexcept(FE_INEXACT) != 0;
    }
    return (uint32_t)fp_post_pe(x, &F32, bits_f32(r), hf, spe);
}

/* 0F 2A, 2C, 2D, 5A, 5B, E6 */
X86_H(h_simd_cvt)
{
    unsigned op = i->op & 0xFF, mp = i->mp;
    bool sse1 = (op == 0x2A || op == 0x2C || op == 0x2D) && (mp == X86_MP_NONE || mp == X86_MP_F3);
    x86_sse_check(c, sse1 ? CPUID_SSE : CPUID_SSE2);
    bool mmx_dst = (op == 0x2C || op == 0x2D) && (mp == X86_MP_NONE || mp == X86_MP_66);
    bool mmx_src = op == 0x2A && (mp == X86_MP_NONE || mp == X86_MP_66) && i->mod == 3;
    if (mmx_dst || mmx_src) {
        if (X86_UNLIKELY((c->fpu.sw & FSW_ES) && (c->cr0 & CR0_NE)))
            x86_raise_noerr(c, X86_MF);
    }
    X86Xmm d = c->xmm[i->reg], s;
    uint32_t gpr = 0;
    uint64_t mm = 0;
    bool trunc = op == 0x2C;
    /* source */
    switch (op) {
    case 0x2A:
        if (mp == X86_MP_F3 || mp == X86_MP_F2) {
            s.q[0] = x86_rm_read(c, i, 4);
        } else {
            s.q[0] = x86_mm_src(c, i);
        }
        s.q[1] = 0;
        break;
    case 0x2C: case 0x2D:
        s = x86_xmm_src(c, i, mp == X86_MP_66 ? 16 : mp == X86_MP_F3 ? 4 : 8, mp == X86_MP_66);
        break;
    case 0x5A:
        s = x86_xmm_src(c, i, mp == X86_MP_NONE ? 8 : mp == X86_MP_66 ? 16 : mp == X86_MP_F3 ? 4 : 8,
                        mp == X86_MP_66);
        break;
    case 0x5B:
        s = x86_xmm_src(c, i, 16, true);
        break;
    default:                    /* E6 */
        if (mp == X86_MP_NONE)
            x86_ud(c);
        s = x86_xmm_src(c, i, mp == X86_MP_F3 ? 8 : 16, mp != X86_MP_F3);
        break;
    }
    /* the x87 -> MMX transition happens even when #XM follows */
    if (mmx_dst || mmx_src)
        x86_mmx_enter(c);
    FpCtx x = fp_begin(c);
    switch (op) {
    case 0x2A:
        if (mp == X86_MP_NONE) {            /* CVTPI2PS */
            d.d[0] = (uint32_t)cvt_from_i32(&x, &F32, s.d[0]);
            d.d[1] = (uint32_t)cvt_from_i32(&x, &F32, s.d[1]);
        } else if (mp == X86_MP_66) {       /* CVTPI2PD */
            d.q[1] = cvt_from_i32(&x, &F64, s.d[1]);
            d.q[0] = cvt_from_i32(&x, &F64, s.d[0]);
        } else if (mp == X86_MP_F3) {       /* CVTSI2SS */
            d.d[0] = (uint32_t)cvt_from_i32(&x, &F32, s.d[0]);
        } else {                            /* CVTSI2SD */
            d.q[0] = cvt_from_i32(&x, &F64, s.d[0]);
        }
        break;
    case 0x2C: case 0x2D:
        if (mp == X86_MP_NONE)              /* CVT(T)PS2PI */
            mm = cvt_to_i32(&x, &F32, s.d[0], trunc)
               | (uint64_t)cvt_to_i32(&x, &F32, s.d[1], trunc) << 32;
        else if (mp == X86_MP_66)           /* CVT(T)PD2PI */
            mm = cvt_to_i32(&x, &F64, s.q[0], trunc)
               | (uint64_t)cvt_to_i32(&x, &F64, s.q[1], trunc) << 32;
        else if (mp == X86_MP_F3)           /* CVT(T)SS2SI */
            gpr = cvt_to_i32(&x, &F32, s.d[0], trunc);
        else                                /* CVT(T)SD2SI */
            gpr = cvt_to_i32(&x, &F64, s.q[0], trunc);
        break;
    case 0x5A:
        if (mp == X86_MP_NONE) {            /* CVTPS2PD */
            uint64_t lo = cvt_s2d(&x, s.d[0]), hi = cvt_s2d(&x, s.d[1]);
            d.q[0] = lo;
            d.q[1] = hi;
        } else if (mp == X86_MP_66) {       /* CVTPD2PS */
            d.d[0] = cvt_d2s(&x, s.q[0]);
            d.d[1] = cvt_d2s(&x, s.q[1]);
            d.q[1] = 0;
        } else if (mp == X86_MP_F3) {       /* CVTSS2SD */
            d.q[0] = cvt_s2d(&x, s.d[0]);
        } else {                            /* CVTSD2SS */
            d.d[0] = cvt_d2s(&x, s.q[0]);
        }
        break;
    case 0x5B:
        for (unsigned k = 0; k < 4; k++) {
            if (mp == X86_MP_NONE)          /* CVTDQ2PS */
                d.d[k] = (uint32_t)cvt_from_i32(&x, &F32, s.d[k]);
            else                            /* CVTPS2DQ, CVTTPS2DQ (F3) */
                d.d[k] = cvt_to_i32(&x, &F32, s.d[k], mp == X86_MP_F3);
        }
        break;
    default:
        if (mp == X86_MP_F3) {              /* CVTDQ2PD */
            d.q[0] = cvt_from_i32(&x, &F64, s.d[0]);
            d.q[1] = cvt_from_i32(&x, &F64, s.d[1]);
        } else {                            /* CVTTPD2DQ (66), CVTPD2DQ (F2) */
            d.d[0] = cvt_to_i32(&x, &F64, s.q[0], mp == X86_MP_66);
            d.d[1] = cvt_to_i32(&x, &F64, s.q[1], mp == X86_MP_66);
            d.q[1] = 0;
        }
        break;
    }
    fp_end(c, &x);
    if (mmx_dst)
        x86_mm_set(c, i->reg, mm);
    else if (op == 0x2C || op == 0x2D)
        c->r[i->reg] = gpr;
    else
        c->xmm[i->reg] = d;
}
