/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SIMD memory operands, FXSAVE/FXRSTOR, LDMXCSR/STMXCSR, EMMS, fences,
 * CLFLUSH, PREFETCHh and MOVNTI.
 */
#include "x86-ops.h"
#include "x86-simd.h"

/* ---- memory operands ------------------------------------------------------ */

void x86_simd_load_at(X86Cpu *c, int seg, uint32_t off, void *dst, unsigned n)
{
    uint32_t lin = x86_lin(c, seg, off, n, false);
    uint8_t *d = dst;
    for (unsigned k = 0; k < n; k += 4) {
        uint32_t v = x86_ld_lin(c, lin + k, 4);
        memcpy(d + k, &v, 4);
    }
}

void x86_simd_store_at(X86Cpu *c, int seg, uint32_t off, const void *src, unsigned n)
{
    uint32_t lin = x86_lin(c, seg, off, n, true);
    const uint8_t *s = src;
    /* a store across a page boundary faults before writing anything */
    if ((lin & 0xFFF) + n > 0x1000)
        x86_translate(c, lin + n - 1, 1, c->cpl == 3);
    for (unsigned k = 0; k < n; k += 4) {
        uint32_t v;
        memcpy(&v, s + k, 4);
        x86_st_lin(c, lin + k, v, 4);
    }
}

/* The r/m operand's offset; the aligned forms check the linear address. */
static uint32_t simd_ea(X86Cpu *c, const X86Insn *i, bool align16)
{
    uint32_t off = x86_ea(c, i);
    if (align16 && ((c->seg[i->seg].base + off) & 15))
        x86_gp(c, 0);
    return off;
}

void x86_simd_load(X86Cpu *c, const X86Insn *i, void *dst, unsigned n, bool align16)
{
    x86_simd_load_at(c, i->seg, simd_ea(c, i, align16), dst, n);
}

void x86_simd_store(X86Cpu *c, const X86Insn *i, const void *src, unsigned n, bool align16)
{
    x86_simd_store_at(c, i->seg, simd_ea(c, i, align16), src, n);
}

/* ---- FXSAVE / FXRSTOR (SDM vol. 2A, FXSAVE, table 3-53, 32-bit form) ------ */

#define FX_SIZE   512u
#define FX_USED   288u      /* x87, MXCSR and XMM0-7; the rest is not touched */
#define FX_ST     32u
#define FX_XMM    160u

static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static uint32_t get16(const uint8_t *p) { return p[0] | (p[1] << 8); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* The two-bit tag FXRSTOR rebuilds for a non-empty register from its
 * contents (SDM vol. 1, 8.1.7): 0 valid, 1 zero, 2 special. */
static unsigned fx_tag(const X86F80 *r)
{
    unsigned e = r->se & 0x7FFF;
    if (e == 0)
        return r->mant ? 2 : 1;
    if (e == 0x7FFF || !(r->mant >> 63))
        return 2;
    return 0;
}

static void fx_checks(X86Cpu *c, const X86Insn *i)
{
    if (!(c->feat_edx & CPUID_FXSR) || i->mod == 3)
        x86_ud(c);
    if (c->cr0 & (CR0_TS | CR0_EM))
        x86_raise_noerr(c, X86_NM);
}

static uint32_t fx_operand(X86Cpu *c, const X86Insn *i, bool write)
{
    uint32_t off = x86_ea(c, i);
    uint32_t lin = x86_lin(c, i->seg, off, FX_SIZE, write);
    if (lin & 15)
        x86_gp(c, 0);
    return off;
}

static bool fx_sse(const X86Cpu *c)
{
    return (c->feat_edx & CPUID_SSE) && (c->cr4 & CR4_OSFXSR);
}

static void fxsave(X86Cpu *c, const X86Insn *i)
{
    fx_checks(c, i);
    uint32_t off = fx_operand(c, i, true);
    const X86Fpu *f = &c->fpu;
    uint8_t img[FX_USED];
    x86_simd_load_at(c, i->seg, off, img, FX_USED);   /* reserved bytes keep their values */
    put16(img + 0, f->cw);
    put16(img + 2, (f->sw & ~0x3800u) | ((f->top & 7u) << 11));
    unsigned ftw = 0;
    for (unsigned r = 0; r < 8; r++)
        if (((f->tw >> (2 * r)) & 3) != 3)
            ftw |= 1u << r;
    img[4] = (uint8_t)ftw;
    img[5] = 0;
    put16(img + 6, f->fop & 0x7FF);
    put32(img + 8, f->fip);
    put16(img + 12, f->fcs);
    put16(img + 14, 0);
    put32(img + 16, f->fdp);
    put16(img + 20, f->fds);
    put16(img + 22, 0);
    if (fx_sse(c)) {
        put32(img + 24, c->mxcsr);
        put32(img + 28, x86_mxcsr_mask(c));
    }
    for (unsigned k = 0; k < 8; k++) {
        const X86F80 *r = &f->r[(f->top + k) & 7];
        uint8_t *p = img + FX_ST + 16 * k;
        memcpy(p, &r->mant, 8);
        put16(p + 8, r->se);
        memset(p + 10, 0, 6);
    }
    if (fx_sse(c))
        memcpy(img + FX_XMM, c->xmm, sizeof(c->xmm));
    x86_simd_store_at(c, i->seg, off, img, FX_USED);
}

static void fxrstor(X86Cpu *c, const X86Insn *i)
{
    fx_checks(c, i);
    uint32_t off = fx_operand(c, i, false);
    uint8_t img[FX_USED];
    x86_simd_load_at(c, i->seg, off, img, FX_USED);
    uint32_t mx = get32(img + 24);
    /* a reserved MXCSR bit faults before any state changes */
    if (fx_sse(c) && (mx & ~x86_mxcsr_mask(c)))
        x86_gp(c, 0);
    X86Fpu *f = &c->fpu;
    /* reserved control-word bits read back as the hardware keeps them:
     * bit 6 set, bits 7 and 13-15 clear */
    f->cw = (uint16_t)((get16(img + 0) & 0x1F3Fu) | 0x0040u);
    uint32_t sw = get16(img + 2);
    f->top = (sw >> 11) & 7;
    f->sw = (uint16_t)(sw & ~0x3800u);
    f->fop = (uint16_t)(get16(img + 6) & 0x7FF);
    f->fip = get32(img + 8);
    f->fcs = (uint16_t)get16(img + 12);
    f->fdp = get32(img + 16);
    f->fds = (uint16_t)get16(img + 20);
    for (unsigned k = 0; k < 8; k++) {
        X86F80 *r = &f->r[(f->top + k) & 7];
        const uint8_t *p = img + FX_ST + 16 * k;
        memcpy(&r->mant, p, 8);
        r->se = (uint16_t)get16(p + 8);
    }
    unsigned tw = 0;
    for (unsigned r = 0; r < 8; r++)
        tw |= ((img[4] >> r) & 1 ? fx_tag(&f->r[r]) : 3u) << (2 * r);
    f->tw = (uint16_t)tw;
    if (fx_sse(c)) {
        c->mxcsr = mx;
        memcpy(c->xmm, img + FX_XMM, sizeof(c->xmm));
    }
}

/* 0F AE: group 15 */
X86_H(h_grp15)
{
    if (i->mod == 3) {
        switch (i->reg) {
        case 5: case 6:         /* LFENCE, MFENCE: accesses are in order here */
            if (!(c->feat_edx & CPUID_SSE2))
                x86_ud(c);
            return;
        case 7:                 /* SFENCE */
            if (!(c->feat_edx & CPUID_SSE))
                x86_ud(c);
            return;
        default:
            x86_ud(c);
        }
    }
    switch (i->reg) {
    case 0: fxsave(c, i); return;
    case 1: fxrstor(c, i); return;
    case 2: {                   /* LDMXCSR */
        x86_sse_check(c, CPUID_SSE);
        uint32_t v;
        x86_simd_load(c, i, &v, 4, false);
        if (v & ~x86_mxcsr_mask(c))
            x86_gp(c, 0);
        c->mxcsr = v;
        return;
    }
    case 3:                     /* STMXCSR */
        x86_sse_check(c, CPUID_SSE);
        x86_simd_store(c, i, &c->mxcsr, 4, false);
        return;
    case 7: {                   /* CLFLUSH: no cache; faults as a byte read */
        if (!(c->feat_edx & CPUID_CLFSH))
            x86_ud(c);
        uint32_t lin = x86_lin(c, i->seg, x86_ea(c, i), 1, false);
        x86_translate(c, lin, 0, c->cpl == 3);
        return;
    }
    default:
        x86_ud(c);
    }
}

/* 0F 18: PREFETCHh - a hint; it never faults. /4-/7 and the register
 * forms are reserved NOPs. */
X86_H(h_prefetch)
{
    if (!(c->feat_edx & CPUID_SSE))
        x86_ud(c);
}

/* 0F C3: MOVNTI m32, r32 (SSE2) */
X86_H(h_movnti)
{
    if (!(c->feat_edx & CPUID_SSE2) || i->mod == 3)
        x86_ud(c);
    x86_st(c, i->seg, x86_ea(c, i), c->r[i->reg], 4);
}

/* 0F 77: EMMS - every x87 tag empty */
X86_H(h_emms)
{
    x86_mmx_check(c, CPUID_MMX);
    c->fpu.tw = 0xFFFF;
}
