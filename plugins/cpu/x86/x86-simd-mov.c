/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * MMX/SSE/SSE2 data movement, shuffles, unpacks, bitwise logic on
 * packed floating point and the mask extractions (SDM vol. 2, by name).
 */
#include "x86-ops.h"
#include "x86-simd.h"

static void need_mem(X86Cpu *c, const X86Insn *i)
{
    if (i->mod == 3)
        x86_ud(c);
}
static void need_reg(X86Cpu *c, const X86Insn *i)
{
    if (i->mod != 3)
        x86_ud(c);
}

/* SSE for the single-precision / no-prefix forms, SSE2 for the others. */
static void sse_check_mp(X86Cpu *c, const X86Insn *i)
{
    x86_sse_check(c, i->mp == X86_MP_NONE || i->mp == X86_MP_F3 ? CPUID_SSE : CPUID_SSE2);
}

/* Store the XMM register reg to the r/m operand (n bytes; a register
 * destination takes the whole register). */
static void xmm_store(X86Cpu *c, const X86Insn *i, unsigned n, bool align16)
{
    if (i->mod == 3)
        c->xmm[i->rm] = c->xmm[i->reg];
    else
        x86_simd_store(c, i, &c->xmm[i->reg], n, align16);
}

static uint32_t mask_bytes(const X86Xmm *v, unsigned n)
{
    uint32_t m = 0;
    for (unsigned k = 0; k < n; k++)
        m |= (uint32_t)(v->b[k] >> 7) << k;
    return m;
}

/* MASKMOVQ / MASKMOVDQU: the bytes of src whose mask byte has its top
 * bit set go to DS:(E)DI (segment override allowed). */
static void maskmov(X86Cpu *c, const X86Insn *i, const X86Xmm *src, const X86Xmm *mask, unsigned n)
{
    uint32_t di = c->r[R_EDI] & i->amask;
    for (unsigned k = 0; k < n; k++)
        if (mask->b[k] & 0x80)
            x86_st(c, i->seg, (di + k) & i->amask, src->b[k], 1);
}

static void pshufw16(X86Xmm *r, const X86Xmm *s, unsigned first, unsigned imm)
{
    uint16_t t[4];
    for (unsigned k = 0; k < 4; k++)
        t[k] = s->w[first + ((imm >> (2 * k)) & 3)];
    memcpy(&r->w[first], t, 8);
}

/* MMX-register forms: MOVD, MOVQ, PSHUFW, PINSRW, PEXTRW, PMOVMSKB,
 * MOVNTQ, MASKMOVQ. */
static void mmx_mov(X86Cpu *c, const X86Insn *i, unsigned op)
{
    x86_mmx_check(c, op == 0x6E || op == 0x6F || op == 0x7E || op == 0x7F ? CPUID_MMX : CPUID_SSE);
    uint64_t v;
    switch (op) {
    case 0x6E:                  /* MOVD mm, r/m32 */
        v = x86_rm_read(c, i, 4);
        break;
    case 0x6F:                  /* MOVQ mm, mm/m64 */
        v = x86_mm_src(c, i);
        break;
    case 0x7E:                  /* MOVD r/m32, mm */
        x86_rm_write(c, i, (uint32_t)x86_mm_get(c, i->reg), 4);
        x86_mmx_enter(c);
        return;
    case 0x7F:                  /* MOVQ mm/m64, mm */
    case 0xE7:                  /* MOVNTQ m64, mm */
        v = x86_mm_get(c, i->reg);
        if (i->mod == 3) {
            if (op == 0xE7)
                x86_ud(c);
            x86_mmx_enter(c);
            x86_mm_set(c, i->rm, v);
        } else {
            x86_simd_store(c, i, &v, 8, false);
            x86_mmx_enter(c);
        }
        return;
    case 0x70: {                /* PSHUFW mm, mm/m64, imm8 */
        X86Xmm s = { .q = { x86_mm_src(c, i), 0 } };
        pshufw16(&s, &s, 0, i->imm);
        v = s.q[0];
        break;
    }
    case 0xC4: {                /* PINSRW mm, r32/m16, imm8 */
        uint32_t w = x86_rm_read(c, i, 2);
        unsigned sh = 16 * (i->imm & 3);
        v = (x86_mm_get(c, i->reg) & ~(0xFFFFull << sh)) | ((uint64_t)w << sh);
        break;
    }
    case 0xC5:                  /* PEXTRW r32, mm, imm8 */
        need_reg(c, i);
        c->r[i->reg] = (uint32_t)(x86_mm_get(c, i->rm) >> (16 * (i->imm & 3))) & 0xFFFF;
        x86_mmx_enter(c);
        return;
    case 0xD7: {                /* PMOVMSKB r32, mm */
        need_reg(c, i);
        X86Xmm s = { .q = { x86_mm_get(c, i->rm), 0 } };
        c->r[i->reg] = mask_bytes(&s, 8);
        x86_mmx_enter(c);
        return;
    }
    case 0xF7: {                /* MASKMOVQ mm, mm */
        need_reg(c, i);
        X86Xmm s = { .q = { x86_mm_get(c, i->reg), 0 } };
        X86Xmm m = { .q = { x86_mm_get(c, i->rm), 0 } };
        maskmov(c, i, &s, &m, 8);
        x86_mmx_enter(c);
        return;
    }
    default:
        x86_ud(c);
    }
    x86_mmx_enter(c);
    x86_mm_set(c, i->reg, v);
}

X86_H(h_simd_mov)
{
    unsigned op = i->op & 0xFF;
    unsigned mp = i->mp;
    if (mp == X86_MP_NONE && op >= 0x60 && op != 0xC6)
        return mmx_mov(c, i, op);
    X86Xmm *d = &c->xmm[i->reg];
    X86Xmm s;
    switch (op) {
    case 0x10:                  /* MOVUPS, MOVUPD, MOVSS, MOVSD xmm, xmm/m */
        sse_check_mp(c, i);
        if (mp == X86_MP_F3) {
            s = x86_xmm_src(c, i, 4, false);
            if (i->mod == 3)
                d->d[0] = s.d[0];
            else
                *d = s;
        } else if (mp == X86_MP_F2) {
            s = x86_xmm_src(c, i, 8, false);
            if (i->mod == 3)
                d->q[0] = s.q[0];
            else
                *d = s;
        } else {
            *d = x86_xmm_src(c, i, 16, false);
        }
        return;
    case 0x11:                  /* the stores */
        sse_check_mp(c, i);
        if (mp == X86_MP_F3 || mp == X86_MP_F2) {
            unsigned n = mp == X86_MP_F3 ? 4 : 8;
            if (i->mod == 3)
                memcpy(c->xmm[i->rm].b, d->b, n);
            else
                x86_simd_store(c, i, d, n, false);
        } else {
            xmm_store(c, i, 16, false);
        }
        return;
    case 0x12:                  /* MOVLPS/MOVLPD xmm, m64; MOVHLPS xmm, xmm */
    case 0x16:                  /* MOVHPS/MOVHPD xmm, m64; MOVLHPS xmm, xmm */
        sse_check_mp(c, i);
        if (mp == X86_MP_66)
            need_mem(c, i);
        if (i->mod == 3) {
            s = c->xmm[i->rm];
            if (op == 0x12)
                d->q[0] = s.q[1];
            else
                d->q[1] = s.q[0];
        } else {
            s = x86_xmm_src(c, i, 8, false);
            d->q[op == 0x16] = s.q[0];
        }
        return;
    case 0x13:                  /* MOVLPS/MOVLPD m64, xmm */
    case 0x17:                  /* MOVHPS/MOVHPD m64, xmm */
        sse_check_mp(c, i);
        need_mem(c, i);
        x86_simd_store(c, i, &d->q[op == 0x17], 8, false);
        return;
    case 0x14:                  /* UNPCKLPS/PD */
    case 0x15: {                /* UNPCKHPS/PD */
        sse_check_mp(c, i);
        s = x86_xmm_src(c, i, 16, true);
        X86Xmm a = *d;
        if (mp == X86_MP_66) {
            d->q[0] = a.q[op == 0x15];
            d->q[1] = s.q[op == 0x15];
        } else {
            unsigned h = op == 0x15 ? 2 : 0;
            d->d[0] = a.d[h];
            d->d[1] = s.d[h];
            d->d[2] = a.d[h + 1];
            d->d[3] = s.d[h + 1];
        }
        return;
    }
    case 0x28:                  /* MOVAPS/MOVAPD */
        sse_check_mp(c, i);
        *d = x86_xmm_src(c, i, 16, true);
        return;
    case 0x29:
        sse_check_mp(c, i);
        xmm_store(c, i, 16, true);
        return;
    case 0x2B:                  /* MOVNTPS/MOVNTPD m128 */
    case 0xE7:                  /* MOVNTDQ m128 */
        sse_check_mp(c, i);
        need_mem(c, i);
        x86_simd_store(c, i, d, 16, true);
        return;
    case 0x50: {                /* MOVMSKPS/PD r32, xmm */
        sse_check_mp(c, i);
        need_reg(c, i);
        const X86Xmm *v = &c->xmm[i->rm];
        c->r[i->reg] = mp == X86_MP_66 ? (uint32_t)((v->q[0] >> 63) | ((v->q[1] >> 63) << 1))
            : (v->d[0] >> 31) | ((v->d[1] >> 31) << 1) | ((v->d[2] >> 31) << 2) | ((v->d[3] >> 31) << 3);
        return;
    }
    case 0x54: case 0x55: case 0x56: case 0x57:  /* ANDPS, ANDNPS, ORPS, XORPS (PD) */
        sse_check_mp(c, i);
        s = x86_xmm_src(c, i, 16, true);
        for (unsigned k = 0; k < 2; k++)
            d->q[k] = op == 0x54 ? d->q[k] & s.q[k] : op == 0x55 ? ~d->q[k] & s.q[k]
                    : op == 0x56 ? d->q[k] | s.q[k] : d->q[k] ^ s.q[k];
        return;
    case 0x6E:                  /* MOVD xmm, r/m32 */
        x86_sse_check(c, CPUID_SSE2);
        s.q[0] = x86_rm_read(c, i, 4);
        s.q[1] = 0;
        *d = s;
        return;
    case 0x6F:                  /* MOVDQA (66), MOVDQU (F3) */
        x86_sse_check(c, CPUID_SSE2);
        *d = x86_xmm_src(c, i, 16, mp == X86_MP_66);
        return;
    case 0x7F:
        x86_sse_check(c, CPUID_SSE2);
        xmm_store(c, i, 16, mp == X86_MP_66);
        return;
    case 0x7E:
        x86_sse_check(c, CPUID_SSE2);
        if (mp == X86_MP_66) {  /* MOVD r/m32, xmm */
            x86_rm_write(c, i, d->d[0], 4);
        } else {                /* MOVQ xmm, xmm/m64 */
            s = x86_xmm_src(c, i, 8, false);
            d->q[0] = s.q[0];
            d->q[1] = 0;
        }
        return;
    case 0xD6:
        x86_sse_check(c, CPUID_SSE2);
        if (mp == X86_MP_66) {  /* MOVQ xmm/m64, xmm */
            if (i->mod == 3) {
                c->xmm[i->rm].q[0] = d->q[0];
                c->xmm[i->rm].q[1] = 0;
            } else {
                x86_simd_store(c, i, d, 8, false);
            }
            return;
        }
        need_reg(c, i);
        if (X86_UNLIKELY((c->fpu.sw & FSW_ES) && (c->cr0 & CR0_NE)))
            x86_raise_noerr(c, X86_MF);
        if (mp == X86_MP_F3) {  /* MOVQ2DQ xmm, mm */
            d->q[0] = x86_mm_get(c, i->rm);
            d->q[1] = 0;
            x86_mmx_enter(c);
        } else {                /* MOVDQ2Q mm, xmm */
            uint64_t v = c->xmm[i->rm].q[0];
            x86_mmx_enter(c);
            x86_mm_set(c, i->reg, v);
        }
        return;
    case 0x70:                  /* PSHUFD (66), PSHUFHW (F3), PSHUFLW (F2) */
        x86_sse_check(c, CPUID_SSE2);
        s = x86_xmm_src(c, i, 16, true);
        if (mp == X86_MP_66) {
            for (unsigned k = 0; k < 4; k++)
                d->d[k] = s.d[(i->imm >> (2 * k)) & 3];
        } else {
            pshufw16(&s, &s, mp == X86_MP_F3 ? 4 : 0, i->imm);
            *d = s;
        }
        return;
    case 0xC4:                  /* PINSRW xmm, r32/m16, imm8 */
        x86_sse_check(c, CPUID_SSE2);
        d->w[i->imm & 7] = (uint16_t)x86_rm_read(c, i, 2);
        return;
    case 0xC5:                  /* PEXTRW r32, xmm, imm8 */
        x86_sse_check(c, CPUID_SSE2);
        need_reg(c, i);
        c->r[i->reg] = c->xmm[i->rm].w[i->imm & 7];
        return;
    case 0xC6: {                /* SHUFPS, SHUFPD */
        sse_check_mp(c, i);
        s = x86_xmm_src(c, i, 16, true);
        X86Xmm a = *d;
        unsigned m = i->imm;
        if (mp == X86_MP_66) {
            d->q[0] = a.q[m & 1];
            d->q[1] = s.q[(m >> 1) & 1];
        } else {
            d->d[0] = a.d[m & 3];
            d->d[1] = a.d[(m >> 2) & 3];
            d->d[2] = s.d[(m >> 4) & 3];
            d->d[3] = s.d[(m >> 6) & 3];
        }
        return;
    }
    case 0xD7:                  /* PMOVMSKB r32, xmm */
        x86_sse_check(c, CPUID_SSE2);
        need_reg(c, i);
        c->r[i->reg] = mask_bytes(&c->xmm[i->rm], 16);
        return;
    case 0xF7:                  /* MASKMOVDQU xmm, xmm */
        x86_sse_check(c, CPUID_SSE2);
        need_reg(c, i);
        s = c->xmm[i->rm];
        maskmov(c, i, d, &s, 16);
        return;
    default:
        x86_ud(c);
    }
}
