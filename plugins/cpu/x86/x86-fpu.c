/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * x87 instructions (D8-DF, WAIT): the register stack and its faults, the
 * status, control and tag words, the environment and state images, and
 * error reporting (SDM vol. 1, chapter 8; vol. 3, 2.5 and 9.2).
 *
 * Errors: an unmasked exception sets ES/B in the status word and the
 * next waiting x87 instruction reports it. With CR0.NE=1 that is #MF.
 * With CR0.NE=0 the processor asserts FERR# when ES becomes set (the PC
 * routes it to IRQ13) and a waiting instruction finding ES set freezes
 * until an interrupt arrives, unless IGNNE# is asserted; the PC asserts
 * IGNNE# on a write to port 0xF0 and drops it with FERR# (vol. 1, D.2).
 */
#include "x86-ops.h"
#include "x86-fpu.h"
#include <math.h>

#define FPU (&c->fpu)

/* ---- stack -------------------------------------------------------------- */

static inline unsigned phys(const X86Cpu *c, unsigned i) { return (c->fpu.top + i) & 7; }
static inline X86F80 *st(X86Cpu *c, unsigned i) { return &c->fpu.r[phys(c, i)]; }
static inline unsigned ptag(const X86Cpu *c, unsigned p) { return (c->fpu.tw >> (2 * p)) & 3; }
static inline bool empty(const X86Cpu *c, unsigned i) { return ptag(c, phys(c, i)) == TAG_EMPTY; }

static unsigned tag_of(X86F80 v)
{
    switch (f80_class(v)) {
    case FC_ZERO: return TAG_ZERO;
    case FC_NORMAL: return TAG_VALID;
    default: return TAG_SPECIAL;
    }
}
static void set_ptag(X86Cpu *c, unsigned p, unsigned t)
{
    c->fpu.tw = (uint16_t)((c->fpu.tw & ~(3u << (2 * p))) | (t << (2 * p)));
}
static void set_st(X86Cpu *c, unsigned i, X86F80 v)
{
    unsigned p = phys(c, i);
    c->fpu.r[p] = v;
    set_ptag(c, p, tag_of(v));
}
static void fpop(X86Cpu *c)
{
    set_ptag(c, phys(c, 0), TAG_EMPTY);
    c->fpu.top = (c->fpu.top + 1) & 7;
}
static void fpush(X86Cpu *c, X86F80 v)
{
    c->fpu.top = (c->fpu.top - 1) & 7;
    set_st(c, 0, v);
}

/* ---- errors -------------------------------------------------------------- */

/* FERR# is the MS-DOS compatible reporting: asserted while an unmasked
 * error is pending and CR0.NE is clear (with NE set the error is #MF's). */
static void ferr_update(X86Cpu *c)
{
    bool level = (c->fpu.sw & FSW_ES) && !(c->cr0 & CR0_NE);
    if (level == c->fpu_ferr)
        return;
    c->fpu_ferr = level;
    if (!level)
        c->fpu_ignne = false;
    if (c->bus.ferr)
        c->bus.ferr(c->bus.opaque, level);
}

static void set_sw(X86Cpu *c, uint16_t sw)
{
    /* B mirrors ES on the 387 and later; ES is the summary of the
     * unmasked exception flags */
    sw &= ~(FSW_ES | FSW_B | FSW_TOP);
    if (sw & ~c->fpu.cw & FSW_EXC)
        sw |= FSW_ES | FSW_B;
    c->fpu.sw = sw;
    ferr_update(c);
}

void x86_fpu_ignne(X86Cpu *c)
{
    if (c->fpu_ferr && c->bus.ferr)
        c->bus.ferr(c->bus.opaque, false);
    c->fpu_ignne = true;
}

/* A pending unmasked exception at a waiting instruction. Returns false
 * when the instruction must wait (frozen until an interrupt). */
static bool pending(X86Cpu *c, const X86Insn *i)
{
    if (!(c->fpu.sw & FSW_ES))
        return true;
    if (c->cr0 & CR0_NE)
        x86_raise_noerr(c, X86_MF);
    if (c->fpu_ignne)
        return true;
    /* FERR# is asserted; the CPU stalls at this instruction until the
     * IRQ13 handler runs: re-execute it after the next event check */
    c->next_eip = x86_insn_eip(c, i);
    c->redirect = true;
    x86_break(c);
    return false;
}

/* Raise exceptions e->ex: flags into the status word. Returns false when
 * an unmasked IE, DE or ZE suppresses the result (OE, UE, PE still
 * deliver it). C1 gets the round-up indication. */
static bool commit(X86Cpu *c, const X86FEnv *e)
{
    uint16_t ex = e->ex;
    bool ok = !(ex & ~e->mask & (FSW_IE | FSW_DE | FSW_ZE));
    if (!ok)
        ex &= FSW_IE | FSW_DE | FSW_ZE;    /* pre-computation: nothing else happens */
    uint16_t sw = (c->fpu.sw & ~FSW_C1) | ex;
    if (ok && e->up && (e->ex & FSW_PE))
        sw |= FSW_C1;
    set_sw(c, sw);
    return ok;
}

static X86FEnv fenv(const X86Cpu *c)
{
    static const uint8_t prec[4] = { 24, 64, 53, 64 };
    X86FEnv e = {
        .rc = FCW_RC(c->fpu.cw), .prec = prec[FCW_PC(c->fpu.cw)],
        .mask = c->fpu.cw & FSW_EXC, .ex = 0, .up = false,
    };
    return e;
}

/* Stack underflow (read of an empty register) / overflow (push onto a
 * full one): IE and SF, C1 tells which. Returns true when masked (the
 * instruction goes on with the QNaN indefinite). */
static bool stack_fault(X86Cpu *c, bool overflow)
{
    uint16_t sw = (c->fpu.sw & ~FSW_C1) | FSW_IE | FSW_SF;
    if (overflow)
        sw |= FSW_C1;
    set_sw(c, sw);
    return c->fpu.cw & FSW_IE;
}

/* ---- memory operands -------------------------------------------------------- */

static uint32_t ea(X86Cpu *c, const X86Insn *i) { return x86_ea(c, i); }

static uint64_t ld64(X86Cpu *c, const X86Insn *i, uint32_t off)
{
    uint32_t lin = x86_lin(c, i->seg, off, 8, false);
    X86Tlb *t = x86_tlb_entry(c, lin);
    if (X86_LIKELY(t->rtag == (lin & ~0xFFFu) && (lin & 0xFFF) <= 0x1000 - 8)) {
        uint64_t v;
        memcpy(&v, (const uint8_t *)(t->radd + lin), 8);
        return v;
    }
    uint64_t lo = x86_ld_lin(c, lin, 4);
    return lo | ((uint64_t)x86_ld_lin(c, lin + 4, 4) << 32);
}
static X86F80 ld80(X86Cpu *c, const X86Insn *i, uint32_t off)
{
    uint32_t lin = x86_lin(c, i->seg, off, 10, false);
    X86F80 v;
    v.mant = x86_ld_lin(c, lin, 4) | ((uint64_t)x86_ld_lin(c, lin + 4, 4) << 32);
    v.se = (uint16_t)x86_ld_lin(c, lin + 8, 2);
    return v;
}
/* A store of size bytes that may cross a page: translate its last byte
 * first so that a #PF leaves memory untouched. */
static uint32_t st_lin(X86Cpu *c, const X86Insn *i, uint32_t off, unsigned size)
{
    uint32_t lin = x86_lin(c, i->seg, off, size, true);
    if (((lin ^ (lin + size - 1)) & ~0xFFFu) && (c->cr0 & CR0_PG))
        x86_translate(c, lin + size - 1, 1, c->cpl == 3);
    return lin;
}
static void st64(X86Cpu *c, const X86Insn *i, uint32_t off, uint64_t v)
{
    uint32_t lin = x86_lin(c, i->seg, off, 8, true);
    X86Tlb *t = x86_tlb_entry(c, lin);
    if (X86_LIKELY(t->wtag == (lin & ~0xFFFu) && (lin & 0xFFF) <= 0x1000 - 8)) {
        memcpy((uint8_t *)(t->wadd + lin), &v, 8);
        return;
    }
    lin = st_lin(c, i, off, 8);
    x86_st_lin(c, lin, (uint32_t)v, 4);
    x86_st_lin(c, lin + 4, (uint32_t)(v >> 32), 4);
}
static void st80(X86Cpu *c, const X86Insn *i, uint32_t off, X86F80 v)
{
    uint32_t lin = st_lin(c, i, off, 10);
    x86_st_lin(c, lin, (uint32_t)v.mant, 4);
    x86_st_lin(c, lin + 4, (uint32_t)(v.mant >> 32), 4);
    x86_st_lin(c, lin + 8, v.se, 2);
}

/* ---- arithmetic --------------------------------------------------------------- */

static X86F80 arith(X86FEnv *e, unsigned op, X86F80 a, X86F80 b)
{
    switch (op) {
    case 0: return f80_add(e, a, b, false);
    case 1: return f80_mul(e, a, b);
    case 4: return f80_add(e, a, b, true);
    case 5: return f80_add(e, b, a, true);
    case 6: return f80_div(e, a, b);
    default: return f80_div(e, b, a);
    }
}

/* C3 C2 C0 from a compare result (0 <, 1 =, 2 >, 3 unordered) */
static uint16_t cmp_cc(int r)
{
    static const uint16_t cc[4] = { FSW_C0, FSW_C3, 0, FSW_C0 | FSW_C2 | FSW_C3 };
    return cc[r];
}

/* pre: FSW_DE when b came from a denormal m32/m64 operand (normalised on
 * load): it counts unless an operand is a NaN or unsupported. */
static uint16_t pre_de(uint16_t pre, X86F80 a, X86F80 b)
{
    int ka = f80_class(a), kb = f80_class(b);
    if (ka >= FC_QNAN || kb >= FC_QNAN)
        return 0;
    return pre & FSW_DE;
}
static uint16_t pre_de_div(uint16_t pre, const X86FEnv *e, X86F80 a, X86F80 b)
{
    if (e->ex & (FSW_ZE | FSW_IE))
        return 0;
    return pre_de(pre, a, b);
}

static void do_com(X86Cpu *c, X86F80 b, bool b_empty, bool quiet, int pops, uint16_t pre)
{
    X86FEnv e = fenv(c);
    int r;
    if (empty(c, 0) || b_empty) {
        if (!stack_fault(c, false))
            pops = 0;
        r = 3;
    } else {
        /* an unmasked IE or DE still sets the condition codes (unordered
         * for IE) but does not pop */
        r = f80_cmp(&e, *st(c, 0), b, quiet);
        e.ex |= pre_de(pre, *st(c, 0), b);
        if (!commit(c, &e))
            pops = 0;
    }
    c->fpu.sw = (c->fpu.sw & ~(FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)) | cmp_cc(r);
    while (pops-- > 0)
        fpop(c);
}

/* FCOMI family: C1 is left alone */
static void do_comi(X86Cpu *c, unsigned i, bool quiet, bool pop)
{
    X86FEnv e = fenv(c);
    int r;
    if (empty(c, 0) || empty(c, i)) {
        if (!stack_fault(c, false))
            pop = false;
        r = 3;
    } else {
        r = f80_cmp(&e, *st(c, 0), *st(c, i), quiet);
        uint16_t c1 = c->fpu.sw & FSW_C1;
        if (!commit(c, &e))
            pop = false;
        c->fpu.sw = (c->fpu.sw & ~FSW_C1) | c1;
    }
    static const uint32_t fl[4] = { F_CF, F_ZF, 0, F_ZF | F_PF | F_CF };
    x86_set_arith(c, fl[r]);
    if (pop)
        fpop(c);
}

/* ST(d) = ST(d) op src, or the reverse (rev) */
static void do_arith(X86Cpu *c, unsigned op, unsigned d, X86F80 src, bool src_empty, bool pop,
                     uint16_t pre)
{
    X86FEnv e = fenv(c);
    X86F80 r;
    if (empty(c, d) || src_empty) {
        if (!stack_fault(c, false))
            return;
        r = f80_indefinite;
    } else {
        r = arith(&e, op, *st(c, d), src);
        e.ex |= pre_de_div(pre, &e, *st(c, d), src);
        if (!commit(c, &e))
            return;
    }
    set_st(c, d, r);
    if (pop)
        fpop(c);
}

static void do_push(X86Cpu *c, X86F80 v, X86FEnv *e)
{
    if (!empty(c, 7)) {
        if (!stack_fault(c, true))
            return;
        fpush(c, f80_indefinite);
        return;
    }
    if (e && !commit(c, e))
        return;
    if (!e)
        c->fpu.sw &= ~FSW_C1;
    fpush(c, v);
}

static int64_t load_int(X86Cpu *c, const X86Insn *i, unsigned size)
{
    uint32_t off = ea(c, i);
    switch (size) {
    case 2: return (int16_t)x86_ld(c, i->seg, off, 2);
    case 4: return (int32_t)x86_ld(c, i->seg, off, 4);
    default: return (int64_t)ld64(c, i, off);
    }
}

/* FIST/FISTP to a size-byte integer */
static void do_fist(X86Cpu *c, const X86Insn *i, unsigned size, bool pop)
{
    X86FEnv e = fenv(c);
    int64_t v;
    uint32_t off = ea(c, i);
    bool underflow = empty(c, 0);
    if (underflow) {
        if (!(c->fpu.cw & FSW_IE)) {
            stack_fault(c, false);
            return;
        }
        v = (int64_t)(~0ull << (8 * size - 1));
    } else {
        v = f80_to_int(&e, *st(c, 0), 8 * size, false);
        if (e.ex & ~e.mask & (FSW_IE | FSW_DE)) {
            commit(c, &e);
            return;
        }
    }
    if (size == 8)
        st64(c, i, off, (uint64_t)v);
    else
        x86_st(c, i->seg, off, (uint32_t)v, size);
    /* the flags once the store went through (a #PF leaves them alone) */
    if (underflow)
        stack_fault(c, false);
    else
        commit(c, &e);
    if (pop)
        fpop(c);
}

/* FST/FSTP to memory as m32 (fmt FMT_F32), m64, m80 */
static void do_fst_mem(X86Cpu *c, const X86Insn *i, int fmt, bool pop)
{
    X86FEnv e = fenv(c);
    uint32_t off = ea(c, i);
    X86F80 v = empty(c, 0) ? f80_indefinite : *st(c, 0);
    bool underflow = empty(c, 0);
    if (underflow && !(c->fpu.cw & FSW_IE)) {
        stack_fault(c, false);
        return;
    }
    uint64_t bits = 0;
    if (fmt == FMT_F32)
        bits = f80_to_f32(&e, v);
    else if (fmt == FMT_F64)
        bits = f80_to_f64(&e, v);
    if (!underflow && (e.ex & ~e.mask & (FSW_IE | FSW_DE | FSW_OE | FSW_UE))) {
        /* nothing stored; an unmasked OE/UE reports no PE */
        if (e.ex & ~e.mask & (FSW_OE | FSW_UE))
            e.ex &= ~FSW_PE;
        e.up = false;
        commit(c, &e);
        return;
    }
    if (fmt == FMT_F32)
        x86_st(c, i->seg, off, (uint32_t)bits, 4);
    else if (fmt == FMT_F64)
        st64(c, i, off, bits);
    else
        st80(c, i, off, v);
    if (underflow)
        stack_fault(c, false);
    else
        commit(c, &e);
    if (pop)
        fpop(c);
}

/* ---- BCD ------------------------------------------------------------------- */

static void do_fbld(X86Cpu *c, const X86Insn *i)
{
    uint32_t off = ea(c, i);
    uint64_t lo = ld64(c, i, off);
    uint32_t hi = x86_ld(c, i->seg, off + 8, 2);
    uint64_t v = ((hi >> 4) & 0xF) * 10 + (hi & 0xF);
    for (int b = 7; b >= 0; b--) {
        unsigned byte = (lo >> (8 * b)) & 0xFF;
        v = v * 100 + (byte >> 4) * 10 + (byte & 0xF);
    }
    X86F80 r = f80_from_i64((int64_t)v);
    if (hi & 0x8000)
        r.se |= 0x8000;
    do_push(c, r, NULL);
}

static void do_fbstp(X86Cpu *c, const X86Insn *i)
{
    X86FEnv e = fenv(c);
    uint32_t off = ea(c, i);
    bool indef = false, neg = false;
    uint64_t mag = 0;
    if (empty(c, 0)) {
        if (!stack_fault(c, false))
            return;
        indef = true;
    } else {
        X86F80 a = *st(c, 0);
        neg = f80_sign(a);
        int64_t v = f80_to_int(&e, a, 64, false);
        if (e.ex & FSW_IE) {
            indef = true;
        } else {
            mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
            if (mag > 999999999999999999ull) {
                indef = true;
                e.ex = (e.ex & ~FSW_PE) | FSW_IE;
                e.up = false;
            }
        }
        if (e.ex & ~e.mask & (FSW_IE | FSW_DE)) {
            commit(c, &e);
            return;
        }
    }
    uint64_t lo = 0;
    uint32_t hi = 0;
    if (indef) {
        lo = 0xC000000000000000ull;
        hi = 0xFFFF;
    } else {
        for (int b = 0; b < 9; b++) {
            unsigned d0 = mag % 10, d1 = (mag / 10) % 10;
            mag /= 100;
            if (b < 8)
                lo |= (uint64_t)(d1 << 4 | d0) << (8 * b);
            else
                hi = d1 << 4 | d0;
        }
        if (neg)
            hi |= 0x8000;
    }
    uint32_t lin = st_lin(c, i, off, 10);
    x86_st_lin(c, lin, (uint32_t)lo, 4);
    x86_st_lin(c, lin + 4, (uint32_t)(lo >> 32), 4);
    x86_st_lin(c, lin + 8, hi, 2);
    if (!empty(c, 0))
        commit(c, &e);
    fpop(c);
}

/* ---- environment ------------------------------------------------------------ */

static uint16_t full_tw(X86Cpu *c)
{
    uint16_t tw = 0;
    for (unsigned p = 0; p < 8; p++) {
        unsigned t = ptag(c, p) == TAG_EMPTY ? TAG_EMPTY : tag_of(c->fpu.r[p]);
        tw |= t << (2 * p);
    }
    return tw;
}
static uint16_t get_sw(const X86Cpu *c)
{
    return (uint16_t)((c->fpu.sw & ~FSW_TOP) | (c->fpu.top << 11));
}

/* Store the environment (14 or 28 bytes); returns its size. */
static unsigned stenv(X86Cpu *c, const X86Insn *i, uint32_t off)
{
    bool pm = (c->cr0 & CR0_PE) && !(c->eflags & F_VM);
    unsigned n = i->o32 ? 28 : 14;
    uint32_t lin = st_lin(c, i, off, n);
    X86Fpu *f = FPU;
    uint32_t v[7];
    v[0] = f->cw;
    v[1] = get_sw(c);
    v[2] = full_tw(c);
    if (pm) {
        v[3] = f->fip;
        v[4] = f->fcs | (i->o32 ? (uint32_t)(f->fop & 0x7FF) << 16 : 0);
        v[5] = f->fdp;
        v[6] = f->fds;
        if (!i->o32) {
            v[3] &= 0xFFFF;
            v[5] &= 0xFFFF;
        }
    } else {
        uint32_t ip = f->fip + ((uint32_t)f->fcs << 4), dp = f->fdp + ((uint32_t)f->fds << 4);
        v[3] = ip & 0xFFFF;
        v[5] = dp & 0xFFFF;
        if (i->o32) {
            v[4] = ((ip >> 16) << 12) | (f->fop & 0x7FF);
            v[6] = (dp >> 16) << 12;
        } else {
            v[4] = (((ip >> 16) & 0xF) << 12) | (f->fop & 0x7FF);
            v[6] = ((dp >> 16) & 0xF) << 12;
        }
    }
    for (unsigned k = 0; k < 7; k++) {
        if (i->o32)
            x86_st_lin(c, lin + 4 * k, k < 3 ? v[k] | 0xFFFF0000u : v[k], 4);
        else
            x86_st_lin(c, lin + 2 * k, v[k], 2);
    }
    return n;
}

static unsigned ldenv(X86Cpu *c, const X86Insn *i, uint32_t off)
{
    bool pm = (c->cr0 & CR0_PE) && !(c->eflags & F_VM);
    unsigned n = i->o32 ? 28 : 14;
    uint32_t lin = x86_lin(c, i->seg, off, n, false);
    uint32_t v[7];
    for (unsigned k = 0; k < 7; k++)
        v[k] = i->o32 ? x86_ld_lin(c, lin + 4 * k, 4) : x86_ld_lin(c, lin + 2 * k, 2);
    X86Fpu *f = FPU;
    f->cw = (uint16_t)(v[0] & 0x1F7F) | 0x40;
    f->top = (v[1] >> 11) & 7;
    /* only empty / non-empty matters: the tags are recomputed */
    uint16_t tw = 0;
    for (unsigned p = 0; p < 8; p++) {
        unsigned t = (v[2] >> (2 * p)) & 3;
        tw |= (t == TAG_EMPTY ? TAG_EMPTY : tag_of(f->r[p])) << (2 * p);
    }
    f->tw = tw;
    if (pm) {
        f->fip = i->o32 ? v[3] : v[3] & 0xFFFF;
        f->fcs = (uint16_t)v[4];
        f->fop = i->o32 ? (v[4] >> 16) & 0x7FF : 0;
        f->fdp = i->o32 ? v[5] : v[5] & 0xFFFF;
        f->fds = (uint16_t)v[6];
    } else {
        f->fcs = f->fds = 0;
        f->fop = v[4] & 0x7FF;
        if (i->o32) {
            f->fip = (v[3] & 0xFFFF) | ((v[4] >> 12) << 16);
            f->fdp = (v[5] & 0xFFFF) | ((v[6] >> 12) << 16);
        } else {
            f->fip = (v[3] & 0xFFFF) | (((v[4] >> 12) & 0xF) << 16);
            f->fdp = (v[5] & 0xFFFF) | (((v[6] >> 12) & 0xF) << 16);
        }
    }
    set_sw(c, (uint16_t)v[1]);
    return n;
}

void x86_fpu_reset(X86Cpu *c, bool init)
{
    X86Fpu *f = FPU;
    if (init) {
        f->cw = 0x037F;
        f->tw = 0xFFFF;
    } else {
        /* power-on (SDM vol. 3, table 9-1) */
        memset(f->r, 0, sizeof(f->r));
        f->cw = 0x0040;
        f->tw = 0x5555;
        c->fpu_ignne = false;
    }
    f->top = 0;
    f->fop = 0;
    f->fcs = f->fds = 0;
    f->fip = f->fdp = 0;
    set_sw(c, 0);
}

/* ---- transcendental ------------------------------------------------------------ */

/* Through the host's long double: results within an ulp or two of the
 * extended format, which is what Intel documents for these. */
static bool trig_arg(X86Cpu *c, X86FEnv *e, X86F80 a, long double *x)
{
    int k = f80_class(a);
    if (k == FC_DENORM)
        e->ex |= FSW_DE;
    *x = f80_to_ld(a);
    c->fpu.sw &= ~FSW_C2;
    if (k == FC_NORMAL && (a.se & 0x7FFF) >= 0x3FFF + 63) {
        c->fpu.sw |= FSW_C2;        /* out of range: operand unchanged */
        return false;
    }
    return true;
}

/* One-operand special values: returns true with *r decided */
static bool special1(X86FEnv *e, X86F80 a, X86F80 *r, bool inf_invalid)
{
    switch (f80_class(a)) {
    case FC_UNSUP: e->ex |= FSW_IE; *r = f80_indefinite; return true;
    case FC_SNAN: e->ex |= FSW_IE; *r = a; r->mant |= 1ull << 62; return true;
    case FC_QNAN: *r = a; return true;
    case FC_INF:
        if (inf_invalid) {
            e->ex |= FSW_IE;
            *r = f80_indefinite;
            return true;
        }
        return false;
    default: return false;
    }
}

static void do_trans(X86Cpu *c, unsigned op)
{
    X86FEnv e = fenv(c);
    bool two = op == 1 || op == 3 || op == 9;       /* FYL2X, FPATAN, FYL2XP1 */
    bool pushes = op == 2 || op == 0xB;             /* FPTAN, FSINCOS */
    if (empty(c, 0) || (two && empty(c, 1))) {
        if (!stack_fault(c, false))
            return;
        if (two) {
            set_st(c, 1, f80_indefinite);
            fpop(c);
        } else {
            set_st(c, 0, f80_indefinite);
            if (pushes)
                fpush(c, f80_indefinite);
        }
        return;
    }
    if (pushes && !empty(c, 7)) {
        if (!stack_fault(c, true))
            return;
        set_st(c, 0, f80_indefinite);
        fpush(c, f80_indefinite);
        return;
    }
    X86F80 a = *st(c, 0), r, r2 = { 0, 0 };
    long double x, y;
    if (two) {
        X86F80 b = *st(c, 1);
        int kb;
        if (special1(&e, a, &r, false) || special1(&e, b, &r, false)) {
            if (f80_is_nan(a) && f80_is_nan(b))
                r = f80_add(&e, a, b, false);
            else if (f80_is_nan(b) && !f80_is_nan(a))
                special1(&e, b, &r, false);
        } else {
            kb = f80_class(b);
            if (kb == FC_DENORM || f80_class(a) == FC_DENORM)
                e.ex |= FSW_DE;
            x = f80_to_ld(a);
            y = f80_to_ld(b);
            long double v;
            if (op == 3) {
                v = atan2l(y, x);
            } else if (op == 1) {
                if (x < 0 || (x == 0 && y == 0) || (isinf(x) && y == 0)
                    || (x == 1 && isinf(y))) {
                    r = f80_indefinite;
                    e.ex |= FSW_IE;
                    goto two_done;
                }
                if (x == 0)
                    e.ex |= FSW_ZE;
                v = y * log2l(x);
            } else {
                if (x <= -1) {
                    r = f80_indefinite;
                    e.ex |= FSW_IE;
                    goto two_done;
                }
                v = y * (log1pl(x) / logl(2.0L));
            }
            r = f80_from_ld(&e, v);
            if (isinf(v) && !isinf(x) && !isinf(y) && !(e.ex & FSW_ZE))
                e.ex |= FSW_OE | FSW_PE;
            if (v != 0 && !isinf(v))
                e.ex |= FSW_PE;
        }
two_done:
        if (!commit(c, &e))
            return;
        set_st(c, 1, r);
        fpop(c);
        return;
    }
    bool trig = op == 0xE || op == 0xF || op == 0xB || op == 2;
    if (special1(&e, a, &r, trig)) {
        if (!commit(c, &e))
            return;
        set_st(c, 0, r);
        if (pushes)
            fpush(c, r);
        return;
    }
    if (trig && !trig_arg(c, &e, a, &x)) {
        commit(c, &e);
        return;
    }
    if (!trig) {
        if (f80_class(a) == FC_DENORM)
            e.ex |= FSW_DE;
        x = f80_to_ld(a);
    }
    switch (op) {
    case 0:             /* F2XM1 (defined for -1..1; beyond, as computed) */
        if (x == 0 || isinf(x)) {
            r = isinf(x) ? (x > 0 ? a : f80_from_i64(-1)) : a;
            break;
        }
        r = f80_from_ld(&e, expm1l(x * logl(2.0L)));
        e.ex |= FSW_PE;
        break;
    case 2:             /* FPTAN: tan, then push 1.0 */
        r = x == 0 ? a : f80_from_ld(&e, tanl(x));
        r2 = f80_from_i64(1);
        if (x != 0)
            e.ex |= FSW_PE;
        break;
    case 0xB:           /* FSINCOS: ST(1) = sin, ST(0) = cos */
        r = x == 0 ? a : f80_from_ld(&e, sinl(x));
        r2 = f80_from_ld(&e, cosl(x));
        e.ex |= FSW_PE;
        break;
    case 0xE:
        r = x == 0 ? a : f80_from_ld(&e, sinl(x));
        if (x != 0)
            e.ex |= FSW_PE;
        break;
    default:
        r = f80_from_ld(&e, cosl(x));
        e.ex |= FSW_PE;
        break;
    }
    if (!commit(c, &e))
        return;
    set_st(c, 0, r);
    if (pushes)
        fpush(c, r2);
}

/* ---- constants --------------------------------------------------------------- */

static void do_const(X86Cpu *c, unsigned k)
{
    /* log2(10), log2(e), pi, log10(2), ln(2): rounded to nearest, and
     * which way the next bit goes (SDM vol. 1, 8.3.8: the constants are
     * held with more precision and rounded per RC) */
    static const struct { uint64_t m; uint16_t e; int8_t dn; } k80[5] = {
        { 0xD49A784BCD1B8AFEull, 0x4000, +1 },
        { 0xB8AA3B295C17F0BCull, 0x3FFF, -1 },
        { 0xC90FDAA22168C235ull, 0x4000, -1 },
        { 0x9A209A84FBCFF799ull, 0x3FFD, -1 },
        { 0xB17217F7D1CF79ACull, 0x3FFE, -1 },
    };
    X86F80 v;
    if (k == 0) {
        v = f80_from_i64(1);
    } else if (k == 6) {
        v = f80_from_i64(0);
    } else {
        v.mant = k80[k - 1].m;
        v.se = k80[k - 1].e;
        unsigned rc = FCW_RC(c->fpu.cw);
        if (k80[k - 1].dn > 0 && rc == RC_UP)
            v.mant++;
        if (k80[k - 1].dn < 0 && (rc == RC_DOWN || rc == RC_ZERO))
            v.mant--;
    }
    do_push(c, v, NULL);
}

/* ---- the escape opcodes --------------------------------------------------------- */

static bool p6(const X86Cpu *c)
{
    return (c->feat_edx & (CPUID_CMOV | CPUID_FPU)) == (CPUID_CMOV | CPUID_FPU);
}

static void fcmov(X86Cpu *c, unsigned op, unsigned reg, unsigned rm)
{
    static const uint8_t cc[4] = { 0x2, 0x4, 0x6, 0xA };    /* B, E, BE, U */
    bool cond = x86_cond(c, cc[reg & 3]);
    if (op == 0xDB)
        cond = !cond;
    if (empty(c, 0) || empty(c, rm)) {
        /* the indefinite whatever the condition */
        if (stack_fault(c, false))
            set_st(c, 0, f80_indefinite);
        return;
    }
    if (cond)           /* C1 left alone */
        set_st(c, 0, *st(c, rm));
}

static void fxch(X86Cpu *c, unsigned r)
{
    if (empty(c, 0) || empty(c, r)) {
        if (!stack_fault(c, false))
            return;
        if (empty(c, 0))
            set_st(c, 0, f80_indefinite);
        if (empty(c, r))
            set_st(c, r, f80_indefinite);
    } else {
        c->fpu.sw &= ~FSW_C1;
    }
    X86F80 a = *st(c, 0), b = *st(c, r);
    unsigned ta = ptag(c, phys(c, 0)), tb = ptag(c, phys(c, r));
    *st(c, 0) = b;
    *st(c, r) = a;
    set_ptag(c, phys(c, 0), tb);
    set_ptag(c, phys(c, r), ta);
}

static void fst_reg(X86Cpu *c, unsigned r, bool pop)
{
    if (empty(c, 0)) {
        if (!stack_fault(c, false))
            return;
        set_st(c, r, f80_indefinite);
    } else {
        c->fpu.sw &= ~FSW_C1;
        X86F80 v = *st(c, 0);
        unsigned t = ptag(c, phys(c, 0));
        *st(c, r) = v;
        set_ptag(c, phys(c, r), t);
    }
    if (pop)
        fpop(c);
}

static void fxam(X86Cpu *c)
{
    X86F80 a = *st(c, 0);
    uint16_t cc = f80_sign(a) ? FSW_C1 : 0;
    if (empty(c, 0)) {
        cc |= FSW_C3 | FSW_C0;
    } else {
        switch (f80_class(a)) {
        case FC_UNSUP: break;
        case FC_QNAN: case FC_SNAN: cc |= FSW_C0; break;
        case FC_NORMAL: cc |= FSW_C2; break;
        case FC_INF: cc |= FSW_C2 | FSW_C0; break;
        case FC_ZERO: cc |= FSW_C3; break;
        default: cc |= FSW_C3 | FSW_C2; break;
        }
    }
    c->fpu.sw = (c->fpu.sw & ~(FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)) | cc;
}

/* D9 E0-FF and the one-operand arithmetic */
static void d9_misc(X86Cpu *c, const X86Insn *i, unsigned m)
{
    X86FEnv e = fenv(c);
    X86F80 r;
    switch (m) {
    case 0x20: case 0x21:           /* FCHS, FABS */
        if (empty(c, 0)) {
            if (!stack_fault(c, false))
                return;
            set_st(c, 0, f80_indefinite);
            return;
        }
        r = *st(c, 0);
        r.se = m == 0x20 ? r.se ^ 0x8000 : r.se & 0x7FFF;
        c->fpu.sw &= ~FSW_C1;
        c->fpu.r[phys(c, 0)] = r;
        return;
    case 0x24: {                    /* FTST */
        X86F80 z = { 0, 0 };
        do_com(c, z, false, false, 0, 0);
        return;
    }
    case 0x25: fxam(c); return;
    case 0x28 ... 0x2E: do_const(c, m - 0x28); return;
    case 0x30: case 0x31: case 0x32: case 0x33: case 0x39: case 0x3B: case 0x3E: case 0x3F:
        do_trans(c, m - 0x30);
        return;
    case 0x34: {                    /* FXTRACT */
        if (empty(c, 0)) {
            if (!stack_fault(c, false))
                return;
            set_st(c, 0, f80_indefinite);
            fpush(c, f80_indefinite);
            return;
        }
        if (!empty(c, 7)) {
            if (!stack_fault(c, true))
                return;
            set_st(c, 0, f80_indefinite);
            fpush(c, f80_indefinite);
            return;
        }
        X86F80 sig, ex = f80_extract(&e, *st(c, 0), &sig);
        if (!commit(c, &e))
            return;
        set_st(c, 0, ex);
        fpush(c, sig);
        return;
    }
    case 0x35: case 0x38: {         /* FPREM1, FPREM */
        uint16_t cc = 0;
        c->fpu.sw &= ~FSW_C2;       /* whatever happens; C0 and C3 stay */
        if (empty(c, 0) || empty(c, 1)) {
            if (!stack_fault(c, false))
                return;
            set_st(c, 0, f80_indefinite);
            return;
        }
        r = f80_rem(&e, *st(c, 0), *st(c, 1), m == 0x35, &cc);
        if (!commit(c, &e))
            return;
        if (cc != 0xFFFF)
            c->fpu.sw = (c->fpu.sw & ~(FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)) | cc;
        set_st(c, 0, r);
        return;
    }
    case 0x36: c->fpu.top = (c->fpu.top - 1) & 7; c->fpu.sw &= ~FSW_C1; return;
    case 0x37: c->fpu.top = (c->fpu.top + 1) & 7; c->fpu.sw &= ~FSW_C1; return;
    case 0x3A: case 0x3C: case 0x3D: /* FSQRT, FRNDINT, FSCALE */
        if (empty(c, 0) || (m == 0x3D && empty(c, 1))) {
            if (!stack_fault(c, false))
                return;
            set_st(c, 0, f80_indefinite);
            return;
        }
        if (m == 0x3A)
            r = f80_sqrt(&e, *st(c, 0));
        else if (m == 0x3C)
            r = f80_round_int(&e, *st(c, 0));
        else
            r = f80_scale(&e, *st(c, 0), *st(c, 1));
        if (!commit(c, &e))
            return;
        set_st(c, 0, r);
        return;
    default:
        x86_ud(c);
    }
    (void)i;
}

static void esc_reg(X86Cpu *c, const X86Insn *i)
{
    unsigned op = i->op, reg = i->reg, rm = i->rm;
    switch (op) {
    case 0xD8:
        if (reg == 2 || reg == 3)
            do_com(c, *st(c, rm), empty(c, rm), false, reg - 2, 0);
        else
            do_arith(c, reg, 0, *st(c, rm), empty(c, rm), false, 0);
        return;
    case 0xD9:
        switch (reg) {
        case 0:
            if (empty(c, rm)) {         /* underflow wins over overflow */
                if (!stack_fault(c, false))
                    return;
                fpush(c, f80_indefinite);
                return;
            }
            do_push(c, *st(c, rm), NULL);
            return;
        case 1: fxch(c, rm); return;
        case 2:
            if (rm != 0)
                x86_ud(c);
            return;                             /* FNOP */
        case 3: fst_reg(c, rm, true); return;   /* FSTP1 */
        default: d9_misc(c, i, (reg << 3 | rm)); return;
        }
    case 0xDA:
        if (reg < 4 && p6(c)) {
            fcmov(c, op, reg, rm);
            return;
        }
        if (reg == 5 && rm == 1) {
            do_com(c, *st(c, 1), empty(c, 1), true, 2, 0);  /* FUCOMPP */
            return;
        }
        x86_ud(c);
    case 0xDB:
        if (reg < 4 && p6(c)) {
            fcmov(c, op, reg, rm);
            return;
        }
        if (reg == 4) {
            switch (rm) {
            case 0: case 1: case 4: return;     /* FENI, FDISI, FSETPM: 8087/287 only */
            case 2: set_sw(c, c->fpu.sw & ~(FSW_EXC | FSW_SF)); return;
            case 3: x86_fpu_reset(c, true); return;
            default: x86_ud(c);
            }
        }
        if ((reg == 5 || reg == 6) && p6(c)) {
            do_comi(c, rm, reg == 5, false);
            return;
        }
        x86_ud(c);
    case 0xDC: case 0xDE: {
        bool pop = op == 0xDE;
        if (reg == 2 || reg == 3) {
            if (!pop) {                                 /* FCOM2, FCOMP3 */
                do_com(c, *st(c, rm), empty(c, rm), false, reg - 2, 0);
            } else if (reg == 2) {                      /* FCOMP5 */
                do_com(c, *st(c, rm), empty(c, rm), false, 1, 0);
            } else {
                if (rm != 1)
                    x86_ud(c);
                do_com(c, *st(c, 1), empty(c, 1), false, 2, 0);   /* FCOMPP */
            }
            return;
        }
        unsigned o = reg >= 4 ? reg ^ 1 : reg;
        do_arith(c, o, rm, *st(c, 0), empty(c, 0), pop, 0);
        return;
    }
    case 0xDD:
        switch (reg) {
        case 0: set_ptag(c, phys(c, rm), TAG_EMPTY); c->fpu.sw &= ~FSW_C1; return;
        case 1: fxch(c, rm); return;
        case 2: case 3: fst_reg(c, rm, reg == 3); return;
        case 4: case 5:
            do_com(c, *st(c, rm), empty(c, rm), true, reg - 4, 0);
            return;
        default: x86_ud(c);
        }
    default:    /* DF */
        switch (reg) {
        case 0:                                 /* FFREEP */
            set_ptag(c, phys(c, rm), TAG_EMPTY);
            fpop(c);
            c->fpu.sw &= ~FSW_C1;
            return;
        case 1: fxch(c, rm); return;
        case 2: case 3: fst_reg(c, rm, true); return;
        case 4:
            if (rm != 0)
                x86_ud(c);
            c->r[R_EAX] = (c->r[R_EAX] & 0xFFFF0000u) | get_sw(c);
            return;
        case 5: case 6:
            if (!p6(c))
                x86_ud(c);
            do_comi(c, rm, reg == 5, true);
            return;
        default: x86_ud(c);
        }
    }
}

/* FLD of an m32/m64 SNaN: invalid, pushes it quietened */
static X86F80 load_quiet(X86FEnv *e, X86F80 v)
{
    e->mask |= FSW_DE;      /* a denormal loads even with DE unmasked */
    if (f80_class(v) == FC_SNAN) {
        e->ex |= FSW_IE;
        v.mant |= 1ull << 62;
    }
    return v;
}

static void esc_mem(X86Cpu *c, const X86Insn *i)
{
    unsigned op = i->op, reg = i->reg;
    X86FEnv e = fenv(c);
    X86F80 v;
    switch (op) {
    case 0xD8: case 0xDA: case 0xDC: case 0xDE: {
        /* arithmetic with m32real, m32int, m64real, m16int */
        uint32_t off = ea(c, i);
        if (op == 0xD8)
            v = f80_from_f32(&e, x86_ld(c, i->seg, off, 4));
        else if (op == 0xDC)
            v = f80_from_f64(&e, ld64(c, i, off));
        else
            v = f80_from_i64(load_int(c, i, op == 0xDA ? 4 : 2));
        /* the load's IE (SNaN, quietened) and DE (denormal) count as the
         * operation's */
        if (reg == 2 || reg == 3) {
            do_com(c, v, false, false, reg - 2, e.ex);
            return;
        }
        do_arith(c, reg, 0, v, false, false, e.ex);
        return;
    }
    case 0xD9:
        switch (reg) {
        case 0:
            v = load_quiet(&e, f80_from_f32(&e, x86_ld(c, i->seg, ea(c, i), 4)));
            do_push(c, v, &e);
            return;
        case 2: case 3: do_fst_mem(c, i, FMT_F32, reg == 3); return;
        case 4: ldenv(c, i, ea(c, i)); return;
        case 5:
            c->fpu.cw = (uint16_t)((x86_ld(c, i->seg, ea(c, i), 2) & 0x1F7F) | 0x40);
            set_sw(c, c->fpu.sw);
            return;
        case 6:
            stenv(c, i, ea(c, i));
            c->fpu.cw |= FSW_EXC;
            set_sw(c, c->fpu.sw);
            return;
        case 7: x86_st(c, i->seg, ea(c, i), c->fpu.cw, 2); return;
        default: x86_ud(c);
        }
    case 0xDB:
        switch (reg) {
        case 0: do_push(c, f80_from_i64(load_int(c, i, 4)), NULL); return;
        case 2: case 3: do_fist(c, i, 4, reg == 3); return;
        case 5: do_push(c, ld80(c, i, ea(c, i)), NULL); return;
        case 7: do_fst_mem(c, i, FMT_F80, true); return;
        default: x86_ud(c);
        }
    case 0xDD:
        switch (reg) {
        case 0:
            v = load_quiet(&e, f80_from_f64(&e, ld64(c, i, ea(c, i))));
            do_push(c, v, &e);
            return;
        case 2: case 3: do_fst_mem(c, i, FMT_F64, reg == 3); return;
        case 4: {           /* FRSTOR */
            uint32_t off = ea(c, i);
            unsigned n = i->o32 ? 28 : 14;
            X86F80 r[8];
            for (unsigned k = 0; k < 8; k++)
                r[k] = ld80(c, i, off + n + 10 * k);
            ldenv(c, i, off);
            for (unsigned k = 0; k < 8; k++)
                c->fpu.r[phys(c, k)] = r[k];
            /* recompute the tags of the non-empty registers */
            for (unsigned p = 0; p < 8; p++)
                if (ptag(c, p) != TAG_EMPTY)
                    set_ptag(c, p, tag_of(c->fpu.r[p]));
            return;
        }
        case 6: {           /* FNSAVE */
            uint32_t off = ea(c, i);
            unsigned n = i->o32 ? 28 : 14;
            st_lin(c, i, off, n + 80);
            stenv(c, i, off);
            for (unsigned k = 0; k < 8; k++)
                st80(c, i, off + n + 10 * k, *st(c, k));
            x86_fpu_reset(c, true);
            return;
        }
        case 7: x86_st(c, i->seg, ea(c, i), get_sw(c), 2); return;
        default: x86_ud(c);
        }
    default:    /* DF */
        switch (reg) {
        case 0: do_push(c, f80_from_i64(load_int(c, i, 2)), NULL); return;
        case 2: case 3: do_fist(c, i, 2, reg == 3); return;
        case 4: do_fbld(c, i); return;
        case 5: do_push(c, f80_from_i64(load_int(c, i, 8)), NULL); return;
        case 6: do_fbstp(c, i); return;
        case 7: do_fist(c, i, 8, true); return;
        default: x86_ud(c);
        }
    }
}

/* Control instructions: no wait for a pending error, no FIP/FOP update. */
static bool is_control(const X86Insn *i)
{
    if (i->mod == 3)
        return (i->op == 0xDB && i->reg == 4) || (i->op == 0xDF && i->reg == 4);
    return (i->op == 0xD9 && i->reg >= 4) || (i->op == 0xDD && i->reg >= 4 && i->reg != 5);
}
/* The no-wait forms (FNINIT, FNCLEX, FNSTSW, FNSTCW, FNSTENV, FNSAVE) */
static bool no_wait(const X86Insn *i)
{
    if (i->mod == 3)
        return (i->op == 0xDB && i->reg == 4 && (i->rm == 2 || i->rm == 3))
            || (i->op == 0xDF && i->reg == 4 && i->rm == 0);
    return (i->op == 0xD9 && (i->reg == 6 || i->reg == 7))
        || (i->op == 0xDD && (i->reg == 6 || i->reg == 7));
}

X86_H(h_fpu)
{
    if (c->cr0 & (CR0_EM | CR0_TS))
        x86_raise_noerr(c, X86_NM);
    if (!(c->feat_edx & CPUID_FPU))
        return;     /* 486SX: no coprocessor fitted, the escape is ignored */
    if (X86_UNLIKELY(c->fpu.sw & FSW_ES) && !no_wait(i) && !pending(c, i))
        return;
    if (!is_control(i)) {
        X86Fpu *f = FPU;
        f->fop = (uint16_t)(((i->op & 7) << 8) | (i->mod << 6) | (i->reg << 3) | i->rm);
        f->fip = x86_insn_eip(c, i);
        f->fcs = c->seg[S_CS].sel;
        if (i->mod != 3) {
            f->fdp = ea(c, i);
            f->fds = c->seg[i->seg].sel;
        }
    }
    if (i->mod == 3)
        esc_reg(c, i);
    else
        esc_mem(c, i);
}

X86_H(h_fwait)
{
    if ((c->cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
        x86_raise_noerr(c, X86_NM);
    if (c->feat_edx & CPUID_FPU)
        pending(c, i);
}
