/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * MMX and SSE2 integer arithmetic (SDM vol. 1, chapters 9 and 11.4): the
 * same operations on 8-byte MMX registers (no prefix) and 16-byte XMM
 * registers (66), plus the SSE integer extensions to MMX of the Pentium
 * III (PAVGB, PMINUB, PSADBW, ...).
 */
#include "x86-ops.h"
#include "x86-simd.h"

static int32_t sat(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Interleave the low (hi = false) or high halves of a and b, element
 * size e bytes: PUNPCKLBW ... PUNPCKHQDQ. */
static void unpack(X86Xmm *r, const X86Xmm *a, const X86Xmm *b, unsigned n, unsigned e, bool hi)
{
    X86Xmm t;
    unsigned base = hi ? n / 2 : 0;
    for (unsigned k = 0; k < n / (2 * e); k++) {
        memcpy(t.b + 2 * k * e, a->b + base + k * e, e);
        memcpy(t.b + (2 * k + 1) * e, b->b + base + k * e, e);
    }
    memcpy(r->b, t.b, n);
}

/* Shifts by a count (register/memory operand or immediate): a count
 * beyond the element width clears it, or fills it with the sign (PSRA). */
enum { SH_RL, SH_RA, SH_LL };
static void shift(X86Xmm *r, unsigned n, unsigned e, int kind, uint64_t cnt)
{
    unsigned bits = 8 * e;
    for (unsigned k = 0; k < n / e; k++) {
        switch (e) {
        case 2: {
            uint16_t v = r->w[k];
            if (kind == SH_RA)
                v = (uint16_t)((int16_t)v >> (cnt > 15 ? 15 : cnt));
            else
                v = cnt >= bits ? 0 : kind == SH_LL ? (uint16_t)(v << cnt) : (uint16_t)(v >> cnt);
            r->w[k] = v;
            break;
        }
        case 4: {
            uint32_t v = r->d[k];
            if (kind == SH_RA)
                v = (uint32_t)((int32_t)v >> (cnt > 31 ? 31 : cnt));
            else
                v = cnt >= bits ? 0 : kind == SH_LL ? v << cnt : v >> cnt;
            r->d[k] = v;
            break;
        }
        default: {
            uint64_t v = r->q[k];
            v = cnt >= bits ? 0 : kind == SH_LL ? v << cnt : v >> cnt;
            r->q[k] = v;
            break;
        }
        }
    }
}

/* One operation of 0F 60-FE on n bytes: r = a op b (r holds a). */
static void int_op(X86Cpu *c, unsigned op, X86Xmm *r, const X86Xmm *b, unsigned n)
{
    X86Xmm a = *r;
    unsigned nb = n, nw = n / 2, nd = n / 4, nq = n / 8;
    switch (op) {
    case 0x60: unpack(r, &a, b, n, 1, false); break;
    case 0x61: unpack(r, &a, b, n, 2, false); break;
    case 0x62: unpack(r, &a, b, n, 4, false); break;
    case 0x6C: unpack(r, &a, b, n, 8, false); break;
    case 0x68: unpack(r, &a, b, n, 1, true); break;
    case 0x69: unpack(r, &a, b, n, 2, true); break;
    case 0x6A: unpack(r, &a, b, n, 4, true); break;
    case 0x6D: unpack(r, &a, b, n, 8, true); break;
    case 0x63:                  /* PACKSSWB */
        for (unsigned k = 0; k < nw; k++) {
            r->b[k] = (uint8_t)sat((int16_t)a.w[k], -128, 127);
            r->b[nw + k] = (uint8_t)sat((int16_t)b->w[k], -128, 127);
        }
        break;
    case 0x67:                  /* PACKUSWB */
        for (unsigned k = 0; k < nw; k++) {
            r->b[k] = (uint8_t)sat((int16_t)a.w[k], 0, 255);
            r->b[nw + k] = (uint8_t)sat((int16_t)b->w[k], 0, 255);
        }
        break;
    case 0x6B:                  /* PACKSSDW */
        for (unsigned k = 0; k < nd; k++) {
            int32_t x = (int32_t)a.d[k], y = (int32_t)b->d[k];
            r->w[k] = (uint16_t)(x < -32768 ? -32768 : x > 32767 ? 32767 : x);
            r->w[nd + k] = (uint16_t)(y < -32768 ? -32768 : y > 32767 ? 32767 : y);
        }
        break;
    case 0x64: for (unsigned k = 0; k < nb; k++) r->b[k] = (int8_t)a.b[k] > (int8_t)b->b[k] ? 0xFF : 0; break;
    case 0x65: for (unsigned k = 0; k < nw; k++) r->w[k] = (int16_t)a.w[k] > (int16_t)b->w[k] ? 0xFFFF : 0; break;
    case 0x66: for (unsigned k = 0; k < nd; k++) r->d[k] = (int32_t)a.d[k] > (int32_t)b->d[k] ? ~0u : 0; break;
    case 0x74: for (unsigned k = 0; k < nb; k++) r->b[k] = a.b[k] == b->b[k] ? 0xFF : 0; break;
    case 0x75: for (unsigned k = 0; k < nw; k++) r->w[k] = a.w[k] == b->w[k] ? 0xFFFF : 0; break;
    case 0x76: for (unsigned k = 0; k < nd; k++) r->d[k] = a.d[k] == b->d[k] ? ~0u : 0; break;
    case 0xD1: shift(r, n, 2, SH_RL, b->q[0]); break;
    case 0xD2: shift(r, n, 4, SH_RL, b->q[0]); break;
    case 0xD3: shift(r, n, 8, SH_RL, b->q[0]); break;
    case 0xE1: shift(r, n, 2, SH_RA, b->q[0]); break;
    case 0xE2: shift(r, n, 4, SH_RA, b->q[0]); break;
    case 0xF1: shift(r, n, 2, SH_LL, b->q[0]); break;
    case 0xF2: shift(r, n, 4, SH_LL, b->q[0]); break;
    case 0xF3: shift(r, n, 8, SH_LL, b->q[0]); break;
    case 0xD4: for (unsigned k = 0; k < nq; k++) r->q[k] = a.q[k] + b->q[k]; break;
    case 0xFB: for (unsigned k = 0; k < nq; k++) r->q[k] = a.q[k] - b->q[k]; break;
    case 0xF4: for (unsigned k = 0; k < nq; k++) r->q[k] = (uint64_t)a.d[2 * k] * b->d[2 * k]; break;
    case 0xD5: for (unsigned k = 0; k < nw; k++) r->w[k] = (uint16_t)(a.w[k] * b->w[k]); break;
    case 0xE5:
        for (unsigned k = 0; k < nw; k++)
            r->w[k] = (uint16_t)((uint32_t)((int16_t)a.w[k] * (int16_t)b->w[k]) >> 16);
        break;
    case 0xE4: for (unsigned k = 0; k < nw; k++) r->w[k] = (uint16_t)(((uint32_t)a.w[k] * b->w[k]) >> 16); break;
    case 0xF5:                  /* PMADDWD: 0x8000 * 0x8000 twice wraps to 0x80000000 */
        for (unsigned k = 0; k < nd; k++) {
            int32_t p0 = (int16_t)a.w[2 * k] * (int16_t)b->w[2 * k];
            int32_t p1 = (int16_t)a.w[2 * k + 1] * (int16_t)b->w[2 * k + 1];
            r->d[k] = (uint32_t)p0 + (uint32_t)p1;
        }
        break;
    case 0xD8: for (unsigned k = 0; k < nb; k++) r->b[k] = (uint8_t)sat(a.b[k] - b->b[k], 0, 255); break;
    case 0xD9: for (unsigned k = 0; k < nw; k++) r->w[k] = (uint16_t)sat(a.w[k] - b->w[k], 0, 65535); break;
    case 0xDC: for (unsigned k = 0; k < nb; k++) r->b[k] = (uint8_t)sat(a.b[k] + b->b[k], 0, 255); break;
    case 0xDD: for (unsigned k = 0; k < nw; k++) r->w[k] = (uint16_t)sat(a.w[k] + b->w[k], 0, 65535); break;
    case 0xE8: for (unsigned k = 0; k < nb; k++) r->b[k] = (uint8_t)sat((int8_t)a.b[k] - (int8_t)b->b[k], -128, 127); break;
    case 0xE9: for (unsigned k = 0; k < nw; k++) r->w[k] = (uint16_t)sat((int16_t)a.w[k] - (int16_t)b->w[k], -32768, 32767); break;
    case 0xEC: for (unsigned k = 0; k < nb; k++) r->b[k] = (uint8_t)sat((int8_t)a.b[k] + (int8_t)b->b[k], -128, 127); break;
    case 0xED: for (unsigned k = 0; k < nw; k++) r->w[k] = (uint16_t)sat((int16_t)a.w[k] + (int16_t)b->w[k], -32768, 32767); break;
    case 0xDA: for (unsigned k = 0; k < nb; k++) r->b[k] = a.b[k] < b->b[k] ? a.b[k] : b->b[k]; break;
    case 0xDE: for (unsigned k = 0; k < nb; k++) r->b[k] = a.b[k] > b->b[k] ? a.b[k] : b->b[k]; break;
    case 0xEA: for (unsigned k = 0; k < nw; k++) r->w[k] = (int16_t)a.w[k] < (int16_t)b->w[k] ? a.w[k] : b->w[k]; break;
    case 0xEE: for (unsigned k = 0; k < nw; k++) r->w[k] = (int16_t)a.w[k] > (int16_t)b->w[k] ? a.w[k] : b->w[k]; break;
    case 0xDB: for (unsigned k = 0; k < nq; k++) r->q[k] = a.q[k] & b->q[k]; break;
    case 0xDF: for (unsigned k = 0; k < nq; k++) r->q[k] = ~a.q[k] & b->q[k]; break;
    case 0xEB: for (unsigned k = 0; k < nq; k++) r->q[k] = a.q[k] | b->q[k]; break;
    case 0xEF: for (unsigned k = 0; k < nq; k++) r->q[k] = a.q[k] ^ b->q[k]; break;
    case 0xE0: for (unsigned k = 0; k < nb; k++) r->b[k] = (uint8_t)((a.b[k] + b->b[k] + 1) >> 1); break;
    case 0xE3: for (unsigned k = 0; k < nw; k++) r->w[k] = (uint16_t)((a.w[k] + b->w[k] + 1) >> 1); break;
    case 0xF6:                  /* PSADBW: per quadword, the sum in its low word */
        for (unsigned k = 0; k < nq; k++) {
            unsigned s = 0;
            for (unsigned j = 0; j < 8; j++) {
                int d = a.b[8 * k + j] - b->b[8 * k + j];
                s += (unsigned)(d < 0 ? -d : d);
            }
            r->q[k] = s;
        }
        break;
    case 0xF8: for (unsigned k = 0; k < nb; k++) r->b[k] = (uint8_t)(a.b[k] - b->b[k]); break;
    case 0xF9: for (unsigned k = 0; k < nw; k++) r->w[k] = (uint16_t)(a.w[k] - b->w[k]); break;
    case 0xFA: for (unsigned k = 0; k < nd; k++) r->d[k] = a.d[k] - b->d[k]; break;
    case 0xFC: for (unsigned k = 0; k < nb; k++) r->b[k] = (uint8_t)(a.b[k] + b->b[k]); break;
    case 0xFD: for (unsigned k = 0; k < nw; k++) r->w[k] = (uint16_t)(a.w[k] + b->w[k]); break;
    case 0xFE: for (unsigned k = 0; k < nd; k++) r->d[k] = a.d[k] + b->d[k]; break;
    default: x86_ud(c);
    }
}

/* The feature an MMX-register form needs: MMX, or SSE for the Pentium
 * III's integer extensions, or SSE2 for the quadword ones. */
static uint32_t mmx_feature(unsigned op)
{
    switch (op) {
    case 0xDA: case 0xDE: case 0xE0: case 0xE3: case 0xE4: case 0xEA: case 0xEE: case 0xF6:
        return CPUID_SSE;
    case 0xD4: case 0xFB: case 0xF4:
        return CPUID_SSE2;
    default:
        return CPUID_MMX;
    }
}

/* 0F 60-6D, 74-76, D1-FE: integer operations */
X86_H(h_simd_int)
{
    unsigned op = i->op & 0xFF;
    if (i->mp == X86_MP_66) {
        x86_sse_check(c, CPUID_SSE2);
        X86Xmm b = x86_xmm_src(c, i, 16, true);
        int_op(c, op, &c->xmm[i->reg], &b, 16);
        return;
    }
    x86_mmx_check(c, mmx_feature(op));
    X86Xmm a = { .q = { x86_mm_get(c, i->reg), 0 } };
    X86Xmm b = { .q = { 0, 0 } };
    if (i->mod != 3 && op >= 0x60 && op <= 0x62) {
        /* PUNPCKL* mm, m32 read only the low half */
        uint32_t v;
        x86_simd_load(c, i, &v, 4, false);
        b.q[0] = v;
    } else {
        b.q[0] = x86_mm_src(c, i);
    }
    int_op(c, op, &a, &b, 8);
    x86_mmx_enter(c);
    x86_mm_set(c, i->reg, a.q[0]);
}

/* 0F 71-73: shifts by an immediate (group 12-14) */
X86_H(h_simd_shift_imm)
{
    unsigned op = i->op & 0xFF;
    unsigned e = op == 0x71 ? 2 : op == 0x72 ? 4 : 8;
    bool xmm = i->mp == X86_MP_66;
    if (i->mod != 3)
        x86_ud(c);
    int kind;
    switch (i->reg) {
    case 2: kind = SH_RL; break;
    case 4: kind = SH_RA; break;
    case 6: kind = SH_LL; break;
    case 3: case 7: kind = -1; break;   /* PSRLDQ, PSLLDQ */
    default: kind = -2; break;
    }
    if (kind == -2 || (kind == SH_RA && e == 8) || (kind == -1 && (e != 8 || !xmm)))
        x86_ud(c);
    if (xmm) {
        x86_sse_check(c, CPUID_SSE2);
        X86Xmm *r = &c->xmm[i->rm];
        if (kind == -1) {
            unsigned s = i->imm > 16 ? 16 : i->imm;
            X86Xmm t = { .q = { 0, 0 } };
            if (i->reg == 3)
                memcpy(t.b, r->b + s, 16 - s);
            else
                memcpy(t.b + s, r->b, 16 - s);
            *r = t;
        } else {
            shift(r, 16, e, kind, i->imm);
        }
        return;
    }
    x86_mmx_check(c, CPUID_MMX);
    X86Xmm a = { .q = { x86_mm_get(c, i->rm), 0 } };
    shift(&a, 8, e, kind, i->imm);
    x86_mmx_enter(c);
    x86_mm_set(c, i->rm, a.q[0]);
}
