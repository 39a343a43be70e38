/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * 80-bit extended-precision arithmetic as the x87 does it (SDM vol. 1,
 * chapter 4 and 8): IEEE 754 rounding in the four modes at 24, 53 or 64
 * significand bits with the extended exponent range, tininess detected
 * before rounding, masked responses (QNaN indefinite, x87 NaN
 * propagation: the larger significand wins), unmasked overflow and
 * underflow delivering the result rebiased by 2^-+24576, pseudo-denormals
 * read as denormals and the other unsupported encodings (unnormals,
 * pseudo-NaN/infinity) invalid.
 *
 * Integer-only and portable: the 128-bit intermediates are pairs of
 * uint64_t.
 */
#include "x86-fpu.h"
#include <math.h>

#define BIAS 16383
#define EMAX 0x7FFE
#define REBIAS 24576
#define TOP1 0x8000000000000000ull

const X86F80 f80_indefinite = { 0xC000000000000000ull, 0xFFFF };

static X86F80 mk(bool s, unsigned exp, uint64_t m)
{
    X86F80 r = { m, (uint16_t)((s ? 0x8000 : 0) | exp) };
    return r;
}

/* ---- 128-bit helpers ------------------------------------------------------ */

static void mul64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
    uint64_t al = (uint32_t)a, ah = a >> 32, bl = (uint32_t)b, bh = b >> 32;
    uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint64_t mid = (ll >> 32) + (uint32_t)lh + (uint32_t)hl;
    *lo = (mid << 32) | (uint32_t)ll;
    *hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

/* shift (hi:lo) right by n, OR-ing lost bits into bit 0 of lo */
static void shr_sticky(uint64_t *hi, uint64_t *lo, int n)
{
    if (n <= 0)
        return;
    if (n >= 128) {
        *lo = (*hi | *lo) != 0;
        *hi = 0;
    } else if (n >= 64) {
        uint64_t st = *lo != 0 || (n > 64 && (*hi << (128 - n)) != 0);
        *lo = (n == 64 ? *hi : *hi >> (n - 64)) | st;
        *hi = 0;
    } else {
        uint64_t st = (*lo << (64 - n)) != 0;
        *lo = (*lo >> n) | (*hi << (64 - n)) | st;
        *hi >>= n;
    }
}

static int clz64(uint64_t v) { return v ? __builtin_clzll(v) : 64; }

/* ---- rounding --------------------------------------------------------------- */

typedef struct Fmt { int32_t emin, emax; } Fmt;
static const Fmt fmts[3] = {
    [FMT_F80] = { 1, EMAX },
    [FMT_F64] = { BIAS - 1022, BIAS + 1023 },
    [FMT_F32] = { BIAS - 126, BIAS + 127 },
};

/* Whether rounding sig.ext to prec bits increments it. */
static bool round_up(const X86FEnv *e, bool sign, uint64_t sig, uint64_t ext, int prec)
{
    uint64_t lsb = prec == 64 ? 1 : 1ull << (64 - prec);
    uint64_t rbits = prec == 64 ? ext : ((sig & (lsb - 1)) << prec) | (ext != 0);
    if (!rbits)
        return false;
    switch (e->rc) {
    case RC_NEAR: return rbits > TOP1 || (rbits == TOP1 && (sig & lsb));
    case RC_DOWN: return sign;
    case RC_UP: return !sign;
    default: return false;
    }
}

/* Round sign * (sig.ext) * 2^(exp - BIAS - 63) to prec bits in format fmt.
 * Returns the value as an F80 with the format's exponent range (for
 * FMT_F80 the register result, rebiased when an unmasked overflow or
 * underflow occurs; for the others the caller packs it). */
static X86F80 round_pack(X86FEnv *e, int fmt, int prec, bool sign, int32_t exp,
                         uint64_t sig, uint64_t ext)
{
    const Fmt *f = &fmts[fmt];
    e->up = false;
    /* exact, normal and in range: nothing to round */
    if (X86_LIKELY((sig >> 63) && ext == 0 && exp >= f->emin && exp <= f->emax
                   && (prec == 64 || (sig << prec) == 0)))
        return mk(sign, (unsigned)exp, sig);
    if (sig == 0 && ext == 0)
        return mk(sign, 0, 0);
    if (sig == 0) {
        sig = ext;
        ext = 0;
        exp -= 64;
    }
    int s = clz64(sig);
    if (s) {
        sig = (sig << s) | (ext >> (64 - s));
        ext <<= s;
        exp -= s;
    }
    /* tininess after rounding: the result rounded to prec bits with an
     * unbounded exponent lies below the smallest normal */
    bool tiny = exp < f->emin;
    if (tiny && exp == f->emin - 1 && round_up(e, sign, sig, ext, prec)
        && (prec == 64 ? sig == ~0ull : (sig | ((1ull << (64 - prec)) - 1)) == ~0ull))
        tiny = false;
    if (exp < f->emin) {
        if (fmt == FMT_F80 && !(e->mask & FSW_UE) && tiny) {
            e->ex |= FSW_UE;
            if (exp + REBIAS < f->emin) {
                /* beyond what the rebias can bring back (FSCALE): zero */
                e->ex |= FSW_PE;
                return mk(sign, 0, 0);
            }
            exp += REBIAS;
            tiny = false;
        }
        if (tiny) {
            shr_sticky(&sig, &ext, f->emin - exp);
            exp = f->emin;
        }
    }
    uint64_t lsb, rbits;
    if (prec == 64) {
        lsb = 1;
        rbits = ext;
    } else {
        lsb = 1ull << (64 - prec);
        rbits = ((sig & (lsb - 1)) << prec) | (ext != 0);
        sig &= ~(lsb - 1);
    }
    bool inc = false;
    if (rbits) {
        switch (e->rc) {
        case RC_NEAR: inc = rbits > TOP1 || (rbits == TOP1 && (sig & lsb)); break;
        case RC_DOWN: inc = sign; break;
        case RC_UP: inc = !sign; break;
        default: break;
        }
        e->ex |= FSW_PE;
        if (tiny)
            e->ex |= FSW_UE;
    } else if (tiny && !(e->mask & FSW_UE)) {
        e->ex |= FSW_UE;
    }
    if (inc) {
        sig += lsb;
        if (sig == 0) {
            sig = TOP1;
            exp++;
        } else if (tiny && (sig >> 63)) {
            /* a denormal rounded up into the normal range stays at emin */
        }
        e->up = true;
    }
    if (exp > f->emax) {
        e->ex |= FSW_OE;
        if (fmt == FMT_F80 && !(e->mask & FSW_OE)) {
            if (exp - REBIAS <= f->emax)
                return mk(sign, (unsigned)(exp - REBIAS), sig);
            e->ex |= FSW_PE;
            e->up = true;
            return mk(sign, 0x7FFF, TOP1);
        }
        e->ex |= FSW_PE;
        bool to_inf = e->rc == RC_NEAR || (e->rc == RC_UP && !sign) || (e->rc == RC_DOWN && sign);
        e->up = to_inf;
        if (to_inf)
            return mk(sign, (unsigned)(f->emax + 1), TOP1);
        uint64_t max = prec == 64 ? ~0ull : ~((1ull << (64 - prec)) - 1);
        return mk(sign, (unsigned)f->emax, max);
    }
    if (!(sig >> 63))
        exp = 0;                /* denormal (or zero) */
    return mk(sign, (unsigned)exp, sig);
}

X86F80 f80_round_prec(X86FEnv *e, bool sign, int32_t exp, uint64_t sig, uint64_t ext)
{
    return round_pack(e, FMT_F80, e->prec, sign, exp, sig, ext);
}

/* ---- operands -------------------------------------------------------------- */

typedef struct Unp { bool s; int32_t e; uint64_t m; } Unp;

/* Finite nonzero operand: denormals (and pseudo-denormals) take exponent 1. */
static Unp unpack(X86F80 a)
{
    Unp u = { f80_sign(a), a.se & 0x7FFF, a.mant };
    if (u.e == 0)
        u.e = 1;
    return u;
}
static void norm(Unp *u)
{
    int s = clz64(u->m);
    u->m <<= s;
    u->e -= s;
}

/* a, a pseudo-denormal made normal */
static X86F80 pd_norm(X86F80 a)
{
    return (a.mant >> 63) && !(a.se & 0x7FFF) ? mk(f80_sign(a), 1, a.mant) : a;
}

static X86F80 quiet(X86F80 a)
{
    a.mant |= 1ull << 62;
    return a;
}

/* Operand checks shared by the two-operand operations: unsupported or
 * SNaN invalid, NaN propagation, denormal flag (de). Returns true with *r
 * set when the result is decided. */
static bool check2d(X86FEnv *e, X86F80 a, X86F80 b, X86F80 *r, int *ka, int *kb, bool de)
{
    *ka = f80_class(a);
    *kb = f80_class(b);
    if (*ka == FC_UNSUP || *kb == FC_UNSUP) {
        e->ex |= FSW_IE;
        *r = f80_indefinite;
        return true;
    }
    bool na = *ka == FC_QNAN || *ka == FC_SNAN, nb = *kb == FC_QNAN || *kb == FC_SNAN;
    if (na || nb) {
        if (*ka == FC_SNAN || *kb == FC_SNAN)
            e->ex |= FSW_IE;
        if (na && nb) {
            uint64_t ma = a.mant << 1, mb = b.mant << 1;
            if (ma != mb)
                *r = quiet(ma > mb ? a : b);
            else
                *r = quiet(f80_sign(a) ? b : a);
        } else {
            *r = quiet(na ? a : b);
        }
        return true;
    }
    if (de && (*ka == FC_DENORM || *kb == FC_DENORM))
        e->ex |= FSW_DE;
    return false;
}
static bool check2(X86FEnv *e, X86F80 a, X86F80 b, X86F80 *r, int *ka, int *kb)
{
    return check2d(e, a, b, r, ka, kb, true);
}

static X86F80 invalid(X86FEnv *e)
{
    e->ex |= FSW_IE;
    return f80_indefinite;
}

/* ---- arithmetic ------------------------------------------------------------- */

X86F80 f80_add(X86FEnv *e, X86F80 a, X86F80 b, bool sub)
{
    X86F80 r;
    int ka, kb;
    e->up = false;
    if (X86_LIKELY(f80_class(a) == FC_NORMAL && f80_class(b) == FC_NORMAL)) {
        ka = kb = FC_NORMAL;        /* the common case: no operand checks */
    } else if (check2(e, a, b, &r, &ka, &kb)) {
        return r;
    }
    if (sub)
        b.se ^= 0x8000;
    bool sa = f80_sign(a), sb = f80_sign(b);
    if (ka == FC_INF || kb == FC_INF) {
        if (ka == FC_INF && kb == FC_INF && sa != sb)
            return invalid(e);
        return ka == FC_INF ? a : b;
    }
    if (ka == FC_ZERO && kb == FC_ZERO) {
        if (sa == sb)
            return mk(sa, 0, 0);
        return mk(e->rc == RC_DOWN, 0, 0);
    }
    if (ka == FC_ZERO || kb == FC_ZERO) {
        /* x + 0: x rounded to the precision (a denormal stays one) */
        Unp u = unpack(ka == FC_ZERO ? b : a);
        return round_pack(e, FMT_F80, e->prec, u.s, u.e, u.m, 0);
    }
    Unp x = unpack(a), y = unpack(b);
    if (x.e < y.e || (x.e == y.e && x.m < y.m)) {
        Unp t = x; x = y; y = t;
    }
    uint64_t hi = y.m, lo = 0;
    shr_sticky(&hi, &lo, x.e - y.e);
    int32_t exp = x.e;
    if (x.s == y.s) {
        uint64_t nh = x.m + hi;
        bool carry = nh < x.m;
        if (carry) {
            lo = (lo >> 1) | (lo & 1) | (nh << 63);
            nh = (nh >> 1) | TOP1;
            exp++;
        }
        return round_pack(e, FMT_F80, e->prec, x.s, exp, nh, lo);
    }
    uint64_t nl = 0 - lo;
    uint64_t nh = x.m - hi - (lo != 0);
    if (nh == 0 && nl == 0)
        return mk(e->rc == RC_DOWN, 0, 0);
    return round_pack(e, FMT_F80, e->prec, x.s, exp, nh, nl);
}

X86F80 f80_mul(X86FEnv *e, X86F80 a, X86F80 b)
{
    X86F80 r;
    int ka, kb;
    e->up = false;
    if (X86_LIKELY(f80_class(a) == FC_NORMAL && f80_class(b) == FC_NORMAL))
        ka = kb = FC_NORMAL;
    else if (check2(e, a, b, &r, &ka, &kb))
        return r;
    bool s = f80_sign(a) ^ f80_sign(b);
    if (ka == FC_INF || kb == FC_INF) {
        if (ka == FC_ZERO || kb == FC_ZERO)
            return invalid(e);
        return mk(s, 0x7FFF, TOP1);
    }
    if (ka == FC_ZERO || kb == FC_ZERO)
        return mk(s, 0, 0);
    Unp x = unpack(a), y = unpack(b);
    uint64_t hi, lo;
    mul64(x.m, y.m, &hi, &lo);
    return round_pack(e, FMT_F80, e->prec, s, x.e + y.e - BIAS + 1, hi, lo);
}

X86F80 f80_div(X86FEnv *e, X86F80 a, X86F80 b)
{
    X86F80 r;
    int ka, kb;
    e->up = false;
    if (check2d(e, a, b, &r, &ka, &kb, false))
        return r;
    bool s = f80_sign(a) ^ f80_sign(b);
    if (kb == FC_ZERO && ka != FC_INF) {
        if (ka == FC_ZERO)
            return invalid(e);
        e->ex |= FSW_ZE;        /* before the denormal check */
        return mk(s, 0x7FFF, TOP1);
    }
    if (ka == FC_DENORM || kb == FC_DENORM)
        e->ex |= FSW_DE;
    if (ka == FC_INF) {
        if (kb == FC_INF)
            return invalid(e);
        return mk(s, 0x7FFF, TOP1);
    }
    if (kb == FC_INF)
        return mk(s, 0, 0);
    if (ka == FC_ZERO)
        return mk(s, 0, 0);
    Unp x = unpack(a), y = unpack(b);
    norm(&x);
    norm(&y);
    int32_t exp = x.e - y.e + BIAS;
    uint64_t rem = x.m, d = y.m, q = 0;
    bool carry = false;
    if (rem < d) {
        exp--;
        carry = rem >> 63;
        rem <<= 1;
    }
#ifdef __SIZEOF_INT128__
    /* the same quotient and remainder as the loop below, in one step */
    {
        unsigned __int128 n = ((unsigned __int128)carry << 127) | ((unsigned __int128)rem << 63);
        unsigned __int128 qq = n / d;
        uint64_t rm = (uint64_t)(n - qq * d);
        q = (uint64_t)qq;
        /* guard bit: 2r >= d; sticky: anything left */
        uint64_t ext = 0;
        if (rm >= d - rm) {
            ext = TOP1;
            rm = rm - (d - rm);
        } else {
            rm <<= 1;
        }
        if (rm)
            ext |= 1;
        return round_pack(e, FMT_F80, e->prec, s, exp, q, ext);
    }
#endif
    for (int k = 0; k < 64; k++) {
        q <<= 1;
        if (carry || rem >= d) {
            rem -= d;
            q |= 1;
        }
        carry = rem >> 63;
        rem <<= 1;
    }
    /* guard bit and sticky */
    uint64_t ext = 0;
    if (carry || rem >= d) {
        rem -= d;
        ext = TOP1;
    }
    if (rem)
        ext |= 1;
    return round_pack(e, FMT_F80, e->prec, s, exp, q, ext);
}

X86F80 f80_sqrt(X86FEnv *e, X86F80 a)
{
    int k = f80_class(a);
    e->up = false;
    switch (k) {
    case FC_UNSUP: return invalid(e);
    case FC_SNAN: e->ex |= FSW_IE; return quiet(a);
    case FC_QNAN: return a;
    case FC_ZERO: return a;
    case FC_INF: return f80_sign(a) ? invalid(e) : a;
    default: break;
    }
    if (f80_sign(a))
        return invalid(e);      /* before the denormal check */
    if (k == FC_DENORM)
        e->ex |= FSW_DE;
    Unp x = unpack(a);
    norm(&x);
    int32_t ue = x.e - BIAS;
    /* n = m * 2^63 (even exponent) or m * 2^64 (odd): sqrt(n) has 64 bits */
    uint64_t nh, nl;
    if (ue & 1) {
        nh = x.m;
        nl = 0;
    } else {
        nh = x.m >> 1;
        nl = x.m << 63;
    }
    int32_t exp = ((ue - (ue & 1)) >> 1) + BIAS;
    /* bit-by-bit integer square root of nh:nl; remainder rh:rl */
    uint64_t root = 0, rh = 0, rl = 0;
    for (int i = 0; i < 64; i++) {
        /* bring down two bits */
        rh = (rh << 2) | (rl >> 62);
        rl = (rl << 2) | (nh >> 62);
        nh = (nh << 2) | (nl >> 62);
        nl <<= 2;
        /* trial = 4 * root + 1 (as 128-bit: root < 2^63 here) */
        uint64_t th = root >> 62, tl = (root << 2) | 1;
        root <<= 1;
        if (rh > th || (rh == th && rl >= tl)) {
            uint64_t borrow = rl < tl;
            rl -= tl;
            rh -= th + borrow;
            root |= 1;
        }
    }
    /* guard: rem > root means sqrt >= root + 1/2 (never exactly) */
    uint64_t ext = 0;
    if (rh || rl > root)
        ext = TOP1 | 1;
    else if (rl)
        ext = 1;
    return round_pack(e, FMT_F80, e->prec, false, exp, root, ext);
}

X86F80 f80_round_int(X86FEnv *e, X86F80 a)
{
    int k = f80_class(a);
    e->up = false;
    switch (k) {
    case FC_UNSUP: return invalid(e);
    case FC_SNAN: e->ex |= FSW_IE; return quiet(a);
    case FC_QNAN: case FC_ZERO: case FC_INF: return a;
    default: break;
    }
    if (k == FC_DENORM)
        e->ex |= FSW_DE;
    Unp x = unpack(a);
    int32_t ue = x.e - BIAS;
    if (ue >= 63)
        return a;
    /* bits below the binary point: 63 - ue of the significand */
    int fb = 63 - ue;
    uint64_t ip, rbits;
    if (fb > 64) {
        ip = 0;
        rbits = 1;              /* below one half */
    } else if (fb == 64) {
        ip = 0;
        rbits = x.m;
    } else {
        ip = x.m >> fb;
        rbits = x.m << (64 - fb);
    }
    if (rbits == 0)
        return a;
    e->ex |= FSW_PE;
    bool inc = false;
    switch (e->rc) {
    case RC_NEAR: inc = rbits > TOP1 || (rbits == TOP1 && (ip & 1)); break;
    case RC_DOWN: inc = x.s; break;
    case RC_UP: inc = !x.s; break;
    default: break;
    }
    if (inc) {
        ip++;
        e->up = true;
    }
    if (ip == 0)
        return mk(x.s, 0, 0);
    X86FEnv ex = *e;
    ex.prec = 64;
    X86F80 r = round_pack(&ex, FMT_F80, 64, x.s, BIAS + 63, ip, 0);
    return r;
}

X86F80 f80_scale(X86FEnv *e, X86F80 a, X86F80 b)
{
    X86F80 r;
    int ka, kb;
    e->up = false;
    if (check2(e, a, b, &r, &ka, &kb))
        return r;
    bool sb = f80_sign(b);
    if (kb == FC_INF) {
        if (ka == FC_ZERO && !sb)
            return invalid(e);
        if (ka == FC_INF && sb)
            return invalid(e);
        if (ka == FC_ZERO || ka == FC_INF)
            return a;
        return sb ? mk(f80_sign(a), 0, 0) : mk(f80_sign(a), 0x7FFF, TOP1);
    }
    if (ka == FC_ZERO || ka == FC_INF)
        return a;
    if (kb == FC_ZERO)
        return pd_norm(a);
    /* trunc(b), clamped: anything beyond 2^17 over- or underflows anyway */
    int32_t n = 0;
    if (kb != FC_ZERO) {
        Unp y = unpack(b);
        int32_t ue = y.e - BIAS;
        if (ue >= 17)
            n = 1 << 17;
        else if (ue >= 0)
            n = (int32_t)(y.m >> (63 - ue));
        if (sb)
            n = -n;
    }
    Unp x = unpack(a);
    return round_pack(e, FMT_F80, 64, x.s, x.e + n, x.m, 0);
}

X86F80 f80_extract(X86FEnv *e, X86F80 a, X86F80 *sig)
{
    int k = f80_class(a);
    e->up = false;
    switch (k) {
    case FC_UNSUP: *sig = invalid(e); return f80_indefinite;
    case FC_SNAN: e->ex |= FSW_IE; *sig = quiet(a); return *sig;
    case FC_QNAN: *sig = a; return a;
    case FC_ZERO:
        e->ex |= FSW_ZE;
        *sig = a;
        return mk(true, 0x7FFF, TOP1);
    case FC_INF:
        *sig = a;
        return mk(false, 0x7FFF, TOP1);
    default: break;
    }
    if (k == FC_DENORM)
        e->ex |= FSW_DE;
    Unp x = unpack(a);
    norm(&x);
    *sig = mk(x.s, BIAS, x.m);
    return f80_from_i64(x.e - BIAS);
}

X86F80 f80_rem(X86FEnv *e, X86F80 a, X86F80 b, bool ieee, uint16_t *cc)
{
    X86F80 r;
    int ka, kb;
    e->up = false;
    *cc = 0xFFFF;               /* condition codes unchanged */
    if (check2d(e, a, b, &r, &ka, &kb, false))
        return r;
    if (ka == FC_INF || kb == FC_ZERO)
        return invalid(e);      /* before the denormal check */
    if (ka == FC_DENORM || kb == FC_DENORM)
        e->ex |= FSW_DE;
    *cc = 0;
    if (ka == FC_ZERO)
        return a;
    if (kb == FC_INF)
        return pd_norm(a);
    Unp x = unpack(a), y = unpack(b);
    norm(&x);
    norm(&y);
    int32_t d = x.e - y.e;
    if (d < -1 || (d == -1 && !ieee))
        return round_pack(e, FMT_F80, 64, x.s, x.e, x.m, 0);
    int steps = d;
    int32_t rexp = y.e;
    if (d >= 64) {
        /* partial remainder: reduce the exponent difference by 32..63 */
        steps = 32 + ((d - 64) & 31);
        rexp = x.e - steps;
        *cc |= FSW_C2;
        ieee = false;
    }
    uint64_t rem = x.m, q = 0;
    bool carry = false, sign = x.s;
    if (d < 0) {
        /* FPREM1, |a| in [|b|/2, |b|): the quotient rounds to 0 or 1 */
        rem = x.m >> 1;
        steps = -1;
    }
    for (int k = 0; k <= steps; k++) {
        if (k) {
            carry = rem >> 63;
            rem <<= 1;
        }
        q <<= 1;
        if (carry || rem >= y.m) {
            rem -= y.m;
            q |= 1;
        }
    }
    bool half_lost = d < 0 && (x.m & 1);
    bool up = false;
    uint64_t other = y.m - rem;         /* distance to the next multiple */
    if (ieee) {
        /* round the quotient to nearest even: compare rem with y/2 */
        up = rem > other || (rem == other && (half_lost || (q & 1)));
        if (up) {
            q++;
            sign = !sign;
        }
    }
    if (!(*cc & FSW_C2)) {
        if (q & 1) *cc |= FSW_C1;
        if (q & 2) *cc |= FSW_C3;
        if (q & 4) *cc |= FSW_C0;
    }
    if (half_lost) {
        /* |a| < |b| with one bit below the remainder's unit: exact at
         * half the unit (the remainder is a - b or a itself) */
        return up ? round_pack(e, FMT_F80, 64, sign, rexp - 1, (other << 1) - 1, 0)
                  : round_pack(e, FMT_F80, 64, sign, rexp - 1, (rem << 1) | 1, 0);
    }
    if (up)
        rem = other;
    if (rem == 0)
        return mk(x.s, 0, 0);
    return round_pack(e, FMT_F80, 64, sign, rexp, rem, 0);
}

int f80_cmp(X86FEnv *e, X86F80 a, X86F80 b, bool quiet)
{
    int ka = f80_class(a), kb = f80_class(b);
    if (ka == FC_UNSUP || kb == FC_UNSUP) {
        e->ex |= FSW_IE;
        return 3;
    }
    if (ka >= FC_QNAN || kb >= FC_QNAN) {
        if (!quiet || ka == FC_SNAN || kb == FC_SNAN)
            e->ex |= FSW_IE;
        return 3;
    }
    if (ka == FC_DENORM || kb == FC_DENORM)
        e->ex |= FSW_DE;
    bool sa = f80_sign(a), sb = f80_sign(b);
    if (ka == FC_ZERO && kb == FC_ZERO)
        return 1;
    /* ordered magnitudes: (exponent, significand) with denormals at 0 */
    int c;
    if (ka == FC_ZERO)
        c = sb ? 2 : 0;
    else if (kb == FC_ZERO)
        c = sa ? 0 : 2;
    else if (sa != sb)
        c = sa ? 0 : 2;
    else {
        Unp x = unpack(a), y = unpack(b);
        if (ka == FC_INF) x.e = 0x8000;
        if (kb == FC_INF) y.e = 0x8000;
        norm(&x);
        norm(&y);
        if (ka == FC_INF) x.m = TOP1;
        if (kb == FC_INF) y.m = TOP1;
        int m = x.e != y.e ? (x.e > y.e ? 1 : -1) : x.m != y.m ? (x.m > y.m ? 1 : -1) : 0;
        if (sa)
            m = -m;
        c = m + 1;
    }
    return c;
}

/* ---- conversions ------------------------------------------------------------- */

X86F80 f80_from_i64(int64_t v)
{
    if (v == 0)
        return mk(false, 0, 0);
    bool s = v < 0;
    uint64_t m = s ? 0 - (uint64_t)v : (uint64_t)v;
    int n = clz64(m);
    return mk(s, (unsigned)(BIAS + 63 - n), m << n);
}

static X86F80 from_ieee(X86FEnv *e, bool s, uint32_t exp, uint64_t frac, int fbits,
                        uint32_t emaxf, int32_t bias)
{
    if (exp == emaxf) {
        if (frac == 0)
            return mk(s, 0x7FFF, TOP1);
        return mk(s, 0x7FFF, TOP1 | (frac << (63 - fbits)));   /* an SNaN stays one */
    }
    if (exp == 0) {
        if (frac == 0)
            return mk(s, 0, 0);
        e->ex |= FSW_DE;
        int n = clz64(frac);
        /* value = frac * 2^(1 - bias - fbits) */
        return mk(s, (unsigned)(BIAS + 1 - bias - fbits + 63 - n), frac << n);
    }
    return mk(s, (unsigned)(exp - bias + BIAS), TOP1 | (frac << (63 - fbits)));
}

X86F80 f80_from_f32(X86FEnv *e, uint32_t v)
{
    return from_ieee(e, v >> 31, (v >> 23) & 0xFF, v & 0x7FFFFF, 23, 0xFF, 127);
}

X86F80 f80_from_f64(X86FEnv *e, uint64_t v)
{
    return from_ieee(e, v >> 63, (v >> 52) & 0x7FF, v & 0xFFFFFFFFFFFFFull, 52, 0x7FF, 1023);
}

/* Store rounding to a narrower format: returns the sign, biased exponent
 * in the format and the fraction; NaN and infinity handled by the caller. */
static bool to_ieee(X86FEnv *e, X86F80 a, int fmt, int prec, uint32_t *exp, uint64_t *frac,
                    int32_t bias, uint32_t emaxf, int fbits)
{
    int k = f80_class(a);
    bool s = f80_sign(a);
    e->up = false;
    switch (k) {
    case FC_UNSUP:
        e->ex |= FSW_IE;
        s = true;
        *exp = emaxf;
        *frac = 1ull << (fbits - 1);
        return s;
    case FC_SNAN:
        e->ex |= FSW_IE;
        /* fall through */
    case FC_QNAN:
        *exp = emaxf;
        *frac = ((a.mant << 1) >> (64 - fbits)) | (1ull << (fbits - 1));
        return s;
    case FC_INF:
        *exp = emaxf;
        *frac = 0;
        return s;
    case FC_ZERO:
        *exp = 0;
        *frac = 0;
        return s;
    default: break;
    }
    /* no DE: stores do not report denormal sources */
    Unp x = unpack(a);
    X86F80 r = round_pack(e, fmt, prec, s, x.e, x.m, 0);
    unsigned re = r.se & 0x7FFF;
    if (re == 0x7FFF || re > (unsigned)(fmts[fmt].emax)) {
        *exp = emaxf;
        *frac = 0;
    } else if (!(r.mant >> 63)) {
        *exp = 0;
        *frac = r.mant >> (63 - fbits);
    } else {
        *exp = re - BIAS + bias;
        *frac = (r.mant << 1) >> (64 - fbits);
    }
    return s;
}

uint32_t f80_to_f32(X86FEnv *e, X86F80 a)
{
    uint32_t exp;
    uint64_t frac;
    bool s = to_ieee(e, a, FMT_F32, 24, &exp, &frac, 127, 0xFF, 23);
    return ((uint32_t)s << 31) | (exp << 23) | (uint32_t)frac;
}

uint64_t f80_to_f64(X86FEnv *e, X86F80 a)
{
    uint32_t exp;
    uint64_t frac;
    bool s = to_ieee(e, a, FMT_F64, 53, &exp, &frac, 1023, 0x7FF, 52);
    return ((uint64_t)s << 63) | ((uint64_t)exp << 52) | frac;
}

int64_t f80_to_int(X86FEnv *e, X86F80 a, unsigned bits, bool trunc)
{
    int64_t indef = (int64_t)(~0ull << (bits - 1));
    int k = f80_class(a);
    e->up = false;
    if (k == FC_UNSUP || k == FC_SNAN || k == FC_QNAN || k == FC_INF) {
        e->ex |= FSW_IE;
        return indef;
    }
    if (k == FC_ZERO)
        return 0;
    X86FEnv t = *e;             /* no DE: FIST does not report denormals */
    if (trunc)
        t.rc = RC_ZERO;
    X86F80 r = f80_round_int(&t, a);
    e->ex |= t.ex & FSW_PE;
    e->up = t.up;
    if (f80_class(r) == FC_ZERO)
        return 0;
    Unp x = unpack(r);
    int32_t ue = x.e - BIAS;
    uint64_t mag;
    if (ue >= 64)
        goto ovf;
    mag = x.m >> (63 - ue);
    if (x.s ? mag > (1ull << (bits - 1)) : mag > (1ull << (bits - 1)) - 1)
        goto ovf;
    return x.s ? (int64_t)(0 - mag) : (int64_t)mag;
ovf:
    e->ex = (e->ex & ~FSW_PE) | FSW_IE;
    e->up = false;
    return indef;
}

/* ---- host long double (transcendentals only) --------------------------------- */

long double f80_to_ld(X86F80 a)
{
    int k = f80_class(a);
    bool s = f80_sign(a);
    long double v;
    switch (k) {
    case FC_ZERO: v = 0; break;
    case FC_INF: v = INFINITY; break;
    case FC_QNAN: case FC_SNAN: case FC_UNSUP: v = NAN; break;
    default: {
        Unp x = unpack(a);
        v = ldexpl((long double)x.m, x.e - BIAS - 63);
        break;
    }
    }
    return s ? -v : v;
}

X86F80 f80_from_ld(X86FEnv *e, long double v)
{
    bool s = signbit(v);
    if (isnan(v))
        return invalid(e);
    if (v == 0)
        return mk(s, 0, 0);
    if (isinf(v))
        return mk(s, 0x7FFF, TOP1);
    int ex;
    long double m = frexpl(fabsl(v), &ex);    /* m in [0.5, 1) */
    /* 64 significand bits then the rest as ext */
    long double hi = ldexpl(m, 64);
    uint64_t sig = (uint64_t)hi;
    long double rest = ldexpl(hi - (long double)sig, 64);
    uint64_t ext = (uint64_t)rest;
    return round_pack(e, FMT_F80, e->prec, s, ex - 1 + BIAS, sig, ext);
}
