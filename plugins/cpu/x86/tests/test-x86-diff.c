/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Differential test against the host CPU. Each case is one user-level
 * instruction with random operands. It runs natively - as 32-bit code in
 * this 64-bit process, entered by a far jump to the compatibility-mode
 * code segment (selector 0x23) - and in the interpreter, on the very same
 * bytes at the very same addresses (the interpreter's "physical memory" is
 * the low mapping itself). Registers, the defined flags (per the SDM's
 * "Flags Affected") and memory must agree; divide faults must agree too.
 *
 * The x87/MMX/SSE state goes in and out of both through an FXSAVE image:
 * the native case starts with FXRSTOR and ends with FXSAVE; the
 * interpreter's state is loaded from and compared against those images
 * field by field (test-side code, independent of the interpreter's own
 * FXSAVE). The SIMD classes cover MMX, SSE and SSE2 with special values
 * (NaNs, infinities, denormals, -0), every MXCSR rounding mode, FTZ, DAZ
 * and, now and then, unmasked exceptions (#XM: SIGFPE natively).
 */
#include "x86-cpu.h"
#include "x86-jit.h"
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <ucontext.h>

#define LOW_SIZE   0x10000u
#define O_ENTER    0x0000u      /* 64-bit: save state, far jump to 32-bit */
#define O_RET64    0x0080u      /* 64-bit: restore state, return to C */
#define O_SAVERSP  0x0100u
#define O_FARPTR   0x0110u      /* m16:32 to the 32-bit case code */
#define O_RETPTR   0x0120u      /* m16:32 back to O_RET64 */
#define O_OUT      0x0140u      /* eax..edi, eflags */
#define O_CODE     0x1000u
#define O_STACK    0x2F00u
#define O_DATA     0x4000u
#define DATA_SIZE  0x400u
#define O_FXIN     0x3000u      /* FXRSTOR image the case starts from */
#define O_FXOUT    0x3200u      /* FXSAVE image it ends with */
#define FX_SIZE    512u

/* X86_TEST_ENGINE=jit: the interpreter side runs on the translator
 * (translating every block at once); each case then ends with a
 * `jmp $+2`, in both runs, so that the instruction and that jump form a
 * whole block that the run loop hands to the translated code. */
static int engine = X86_ENGINE_INTERP;

static uint8_t *low;            /* below 2 GiB: addresses fit 32 bits */
static uint32_t lowa;
static sigjmp_buf fpe_jb;
static X86Cpu cpu;
static uint8_t pattern[DATA_SIZE], native_data[DATA_SIZE];

/* ---- native side ---------------------------------------------------------- */

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static void build_trampolines(void)
{
    uint8_t *p = low + O_ENTER;
    static const uint8_t push[] = { 0x53, 0x55, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57 };
    memcpy(p, push, sizeof(push));
    p += sizeof(push);
    *p++ = 0x48; *p++ = 0x89; *p++ = 0x24; *p++ = 0x25;     /* mov [abs], rsp */
    put32(p, lowa + O_SAVERSP); p += 4;
    *p++ = 0xFF; *p++ = 0x2C; *p++ = 0x25;                   /* ljmp [abs] */
    put32(p, lowa + O_FARPTR);
    p = low + O_RET64;
    *p++ = 0x48; *p++ = 0x8B; *p++ = 0x24; *p++ = 0x25;     /* mov rsp, [abs] */
    put32(p, lowa + O_SAVERSP); p += 4;
    static const uint8_t pop[] = { 0xFC, 0x41, 0x5F, 0x41, 0x5E, 0x41, 0x5D, 0x41, 0x5C, 0x5D, 0x5B, 0xC3 };
    memcpy(p, pop, sizeof(pop));
    put32(low + O_FARPTR, lowa + O_CODE);
    low[O_FARPTR + 4] = 0x23; low[O_FARPTR + 5] = 0;
    put32(low + O_RETPTR, lowa + O_RET64);
    low[O_RETPTR + 4] = 0x33; low[O_RETPTR + 5] = 0;
}

typedef struct {
    uint32_t r[8];
    uint32_t flags;
    bool fault;
    uint8_t fx[FX_SIZE] __attribute__((aligned(16)));
} State;

/* Emit the case: prologue, register load, the instruction, epilogue.
 * Returns the offset of the instruction inside the code area. */
static unsigned emit_case(const State *in, const uint8_t *insn, unsigned len)
{
    uint8_t *p = low + O_CODE;
    *p++ = 0x66; *p++ = 0xB8; *p++ = 0x2B; *p++ = 0x00;     /* mov ax, 0x2b */
    *p++ = 0x8E; *p++ = 0xD8;                                /* mov ds, ax */
    *p++ = 0x8E; *p++ = 0xC0;                                /* mov es, ax */
    *p++ = 0x0F; *p++ = 0xAE; *p++ = 0x0D;                   /* fxrstor [abs] */
    put32(p, lowa + O_FXIN); p += 4;
    *p++ = 0xBC; put32(p, lowa + O_STACK); p += 4;           /* mov esp, stack */
    for (int r = 0; r < 8; r++) {
        if (r == R_ESP)
            continue;
        *p++ = 0xB8 + r;
        put32(p, in->r[r]);
        p += 4;
    }
    *p++ = 0x68; put32(p, in->flags); p += 4;                /* push imm32 */
    *p++ = 0x9D;                                             /* popfd */
    unsigned at = (unsigned)(p - (low + O_CODE));
    memcpy(p, insn, len);
    p += len;
    if (engine != X86_ENGINE_INTERP) {
        *p++ = 0xEB; *p++ = 0x00;                            /* jmp $+2 */
    }
    *p++ = 0x0F; *p++ = 0xAE; *p++ = 0x05;                   /* fxsave [abs] */
    put32(p, lowa + O_FXOUT); p += 4;
    *p++ = 0x9C;                                             /* pushfd */
    for (int r = 0; r < 8; r++) {
        *p++ = 0x89;
        *p++ = 0x05 | (r << 3);                              /* mov [abs], r */
        put32(p, lowa + O_OUT + 4 * r);
        p += 4;
    }
    *p++ = 0x8F; *p++ = 0x05; put32(p, lowa + O_OUT + 32); p += 4;   /* pop [abs] */
    *p++ = 0xFF; *p++ = 0x2D; put32(p, lowa + O_RETPTR); p += 4;     /* ljmp [abs] */
    return at;
}

/* The x87/SSE state at the fault (an unmasked SIMD exception: #XM),
 * from the signal frame's FXSAVE image. */
static uint8_t fault_fx[FX_SIZE];

static void fpe_handler(int sig, siginfo_t *si, void *uc)
{
    const ucontext_t *u = uc;
    if (u->uc_mcontext.fpregs)
        memcpy(fault_fx, u->uc_mcontext.fpregs, FX_SIZE);
    siglongjmp(fpe_jb, 1);
}

static void run_native(const State *in, State *out)
{
    void (*enter)(void) = (void (*)(void))(uintptr_t)(low + O_ENTER);
    static uint8_t host_fx[FX_SIZE] __attribute__((aligned(16)));
    memcpy(low + O_DATA, pattern, DATA_SIZE);
    memcpy(low + O_FXIN, in->fx, FX_SIZE);
    memset(low + O_FXOUT, 0, FX_SIZE);
    out->fault = false;
    /* the case changes the x87/SSE state: keep the process's own */
    __asm__ volatile("fxsave %0" : "=m"(host_fx));
    if (sigsetjmp(fpe_jb, 1) == 0) {
        enter();
        memcpy(out->r, low + O_OUT, 32);
        memcpy(&out->flags, low + O_OUT + 32, 4);
        out->r[R_ESP] += 4;     /* stored between PUSHFD and POP */
    } else {
        out->fault = true;
    }
    __asm__ volatile("fxrstor %0" : : "m"(host_fx));
    memcpy(out->fx, out->fault ? fault_fx : low + O_FXOUT, FX_SIZE);
    memcpy(native_data, low + O_DATA, DATA_SIZE);
}

/* ---- interpreter side ------------------------------------------------------- */

static void bpage(void *o, uint64_t pa, uint8_t **rd, uint8_t **wr)
{
    if (pa >= lowa && pa < (uint64_t)lowa + LOW_SIZE)
        *rd = *wr = (uint8_t *)(uintptr_t)pa;
    else
        *rd = *wr = NULL;
}
static uint64_t bread(void *o, uint64_t pa, unsigned size) { return ~0ull >> (64 - 8 * size); }
static void bwrite(void *o, uint64_t pa, uint64_t v, unsigned size) { }
static uint32_t ioread(void *o, uint32_t port, unsigned size) { return ~0u; }
static void iowrite(void *o, uint32_t port, uint32_t v, unsigned size) { }
static uint8_t intack(void *o) { return 0; }

static void flat(X86Seg *s, uint16_t sel, bool code)
{
    s->sel = sel;
    s->base = 0;
    s->limit = 0xFFFFFFFFu;
    s->attr = D_P | D_S | D_DPL | D_G | D_DB | D_ACC | D_RW | (code ? D_CODE : 0);
}

/* The x87/MMX/SSE fields of an FXSAVE image (SDM vol. 2A, FXSAVE) to
 * and from the interpreter's state. */
static void fx_to_cpu(X86Cpu *c, const uint8_t *fx)
{
    uint16_t sw;
    memcpy(&c->fpu.cw, fx, 2);
    memcpy(&sw, fx + 2, 2);
    c->fpu.top = (sw >> 11) & 7;
    c->fpu.sw = sw & ~0x3800;
    unsigned tw = 0;
    for (unsigned r = 0; r < 8; r++) {
        const uint8_t *st = fx + 32 + 16 * ((r - c->fpu.top) & 7);
        memcpy(&c->fpu.r[r].mant, st, 8);
        memcpy(&c->fpu.r[r].se, st + 8, 2);
        /* valid or empty is all these tests need: the SIMD instructions
         * only look at "empty or not" */
        tw |= ((fx[4] >> r) & 1 ? 0u : 3u) << (2 * r);
    }
    c->fpu.tw = (uint16_t)tw;
    memcpy(&c->mxcsr, fx + 24, 4);
    memcpy(c->xmm, fx + 160, 128);
}

static void cpu_to_fx(const X86Cpu *c, uint8_t *fx)
{
    memset(fx, 0, FX_SIZE);
    uint16_t sw = (uint16_t)((c->fpu.sw & ~0x3800) | (c->fpu.top << 11));
    memcpy(fx, &c->fpu.cw, 2);
    memcpy(fx + 2, &sw, 2);
    for (unsigned r = 0; r < 8; r++) {
        if (((c->fpu.tw >> (2 * r)) & 3) != 3)
            fx[4] |= 1u << r;
        uint8_t *st = fx + 32 + 16 * ((r - c->fpu.top) & 7);
        memcpy(st, &c->fpu.r[r].mant, 8);
        memcpy(st + 8, &c->fpu.r[r].se, 2);
    }
    memcpy(fx + 24, &c->mxcsr, 4);
    memcpy(fx + 160, c->xmm, 128);
}

/* Runs the interpreter from the case's first instruction until EIP
 * reaches `end` (the epilogue), a fault, or a few instructions. */
static void run_interp(const State *in, unsigned at, unsigned end, State *out)
{
    X86Cpu *c = &cpu;
    memcpy(low + O_DATA, pattern, DATA_SIZE);
    x86_code_invalidate(c, lowa + O_CODE, 0x1000);
    c->cr0 = CR0_PE | CR0_ET | CR0_NE;
    c->cr4 = CR4_OSFXSR | CR4_OSXMMEXCPT;
    fx_to_cpu(c, in->fx);
    flat(&c->seg[S_CS], 0x23, true);
    for (int s = 0; s < 6; s++)
        if (s != S_CS)
            flat(&c->seg[s], 0x2B, false);
    c->eflags = 0;
    x86_set_arith(c, 0);
    x86_set_cpl(c, 3);
    x86_update_mode(c);
    memcpy(c->r, in->r, 32);
    c->r[R_ESP] = lowa + O_STACK;
    c->eflags = (in->flags & ~0xFFC08028u) | 0x202;
    x86_set_arith(c, c->eflags);
    c->eip = lowa + O_CODE + at;
    c->delivering = -1;
    c->idt_limit = 0;       /* any exception becomes a (recorded) fault */
    c->exc_vec = -1;
    c->shutdown = false;
    c->halted = false;
    for (int n = 0; n < 8 && c->exc_vec < 0 && c->eip != lowa + O_CODE + end; n++) {
        /* the translator: the case's first block whole (the instruction
         * and the jmp, or a control transfer alone and then the jmp),
         * never into the epilogue */
        uint64_t lim = c->icount + (engine != X86_ENGINE_INTERP && n == 0 ? 2 : 1);
        x86_run(c, &lim, NULL);
    }
    out->fault = c->exc_vec >= 0;
    memcpy(out->r, c->r, 32);
    out->flags = x86_get_eflags(c);
    cpu_to_fx(c, out->fx);
}

/* ---- case generation --------------------------------------------------------- */

static GRand *rng;

static uint32_t rnd(void) { return g_rand_int(rng); }

static uint32_t rnd_operand(void)
{
    static const uint32_t edge[] = {
        0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000,
        0x7FFFFFFF, 0x80000000u, 0xFFFFFFFFu, 0xFFFFFFFEu, 0x80000001u, 9, 10, 0x99,
    };
    switch (rnd() % 6) {
    case 0: return edge[rnd() % G_N_ELEMENTS(edge)];
    case 1: return rnd() & 0xFF;
    case 2: return rnd() & 0xFFFF;
    case 3: return (uint32_t)(-(int32_t)(rnd() & 0xFF));
    default: return rnd();
    }
}

typedef struct {
    uint8_t b[16];
    unsigned len;
    uint32_t undef;         /* flags whose value is undefined */
    uint32_t rmask[8];      /* bits of each register to compare */
    bool mem;               /* compare the data buffer */
    bool approx;            /* RCP/RSQRT: XMM results within Intel's error bound */
    bool fxsave_mem;        /* the data buffer holds an FXSAVE image at fx_off */
    unsigned fx_off;
} Case;

static void emit(Case *k, uint8_t v) { k->b[k->len++] = v; }

static unsigned pick_reg(void)
{
    unsigned r;
    do r = rnd() & 7; while (r == R_ESP);
    return r;
}

/* size: 1, 2 or 4; emits the 66 prefix and returns the opcode's w bit */
static unsigned size_prefix(Case *k, unsigned size)
{
    if (size == 2)
        emit(k, 0x66);
    return size == 1 ? 0 : 1;
}

static unsigned rnd_size(void) { static const unsigned s[3] = { 1, 2, 4 }; return s[rnd() % 3]; }

static uint8_t modrm_rr(unsigned reg, unsigned rm) { return 0xC0 | (reg << 3) | rm; }

/* byte registers 4-7 are AH..BH (encodings of ESP's low byte are AH) */
static uint8_t rm8(void) { return rnd() & 7; }

static void gen_alu(Case *k, State *s)
{
    unsigned size = rnd_size(), w;
    unsigned form = rnd() % 6;
    unsigned op = rnd() & 7;
    switch (form) {
    case 0: case 1:                      /* op r/m, r  /  op r, r/m */
        w = size_prefix(k, size);
        emit(k, (op << 3) | (form << 1) | w);
        emit(k, size == 1 ? modrm_rr(rm8(), rm8()) : modrm_rr(pick_reg(), pick_reg()));
        break;
    case 2:                              /* op r/m, imm */
        w = size_prefix(k, size);
        if (size != 1 && (rnd() & 1)) {
            emit(k, 0x83);
            emit(k, modrm_rr(op, size == 1 ? rm8() : pick_reg()));
            emit(k, rnd() & 0xFF);
        } else {
            emit(k, 0x80 | w);
            emit(k, modrm_rr(op, size == 1 ? rm8() : pick_reg()));
            uint32_t imm = rnd_operand();
            for (unsigned b = 0; b < size; b++)
                emit(k, (imm >> (8 * b)) & 0xFF);
        }
        break;
    case 3:                              /* NOT/NEG */
        w = size_prefix(k, size);
        emit(k, 0xF6 | w);
        emit(k, modrm_rr(2 + (rnd() & 1), size == 1 ? rm8() : pick_reg()));
        break;
    case 4:                              /* INC/DEC r/m, INC/DEC r */
        if (size != 1 && (rnd() & 1)) {
            size_prefix(k, size);
            emit(k, 0x40 | ((rnd() & 1) << 3) | pick_reg());
            break;
        }
        w = size_prefix(k, size);
        emit(k, 0xFE | w);
        emit(k, modrm_rr(rnd() & 1, size == 1 ? rm8() : pick_reg()));
        break;
    default:                             /* TEST */
        w = size_prefix(k, size);
        emit(k, 0x84 | w);
        emit(k, size == 1 ? modrm_rr(rm8(), rm8()) : modrm_rr(pick_reg(), pick_reg()));
        op = 4;
        break;
    }
    if ((form <= 2 || form == 5) && (op == 1 || op == 4 || op == 6))
        k->undef = F_AF;
}

static void gen_shift(Case *k, State *s)
{
    unsigned size = rnd_size(), w = size_prefix(k, size);
    unsigned bits = size * 8;
    unsigned form = rnd() % 4;
    unsigned op = rnd() & 7;
    unsigned cnt;
    if (op == 6)
        op = 4;
    unsigned reg = size == 1 ? rm8() : pick_reg();
    if (form == 3) {                     /* SHLD/SHRD */
        if (size == 1) {
            emit(k, 0x66);
            size = 2;
            bits = 16;
        }
        bool cl = rnd() & 1;
        emit(k, 0x0F);
        emit(k, ((rnd() & 1) ? 0xA4 : 0xAC) | cl);
        unsigned r2 = pick_reg();
        reg = pick_reg();
        emit(k, modrm_rr(r2, reg));
        cnt = rnd() % 40;
        if (cl) {
            s->r[R_ECX] = (s->r[R_ECX] & ~0xFFu) | cnt;
        } else {
            emit(k, cnt);
        }
        cnt &= 0x1F;
        if (cnt > bits) {
            k->undef = F_ARITH;
            k->rmask[reg] = 0;
        } else if (cnt) {
            k->undef = F_AF | (cnt != 1 ? F_OF : 0);
        }
        return;
    }
    if (form == 0) {
        emit(k, 0xD0 | w);
        cnt = 1;
    } else if (form == 1) {
        emit(k, 0xC0 | w);
        cnt = rnd() % 40;
    } else {
        emit(k, 0xD2 | w);
        cnt = rnd() % 40;
        if (reg == R_ECX || (size == 1 && reg == 1))
            reg = R_EDX;
        s->r[R_ECX] = (s->r[R_ECX] & ~0xFFu) | cnt;
    }
    emit(k, modrm_rr(op, reg));
    if (form == 1)
        emit(k, cnt);
    cnt &= 0x1F;
    if (cnt == 0)
        return;
    uint32_t u = F_AF;
    if (cnt != 1)
        u |= F_OF;
    if (op >= 4 && cnt > bits - (op == 7 ? 0 : 0) && size != 4) {
        /* shifting a narrow operand by more than its width */
        if (op != 7)
            u |= F_CF;
    }
    if (op < 4)
        u |= 0;     /* rotates: only CF/OF are touched */
    k->undef = u;
}

static void gen_muldiv(Case *k, State *s)
{
    unsigned form = rnd() % 4;
    if (form <= 1) {
        unsigned size = rnd_size(), w = size_prefix(k, size);
        unsigned op = 4 + (rnd() & 3);
        emit(k, 0xF6 | w);
        unsigned reg = size == 1 ? rm8() : pick_reg();
        emit(k, modrm_rr(op, reg));
        if (op >= 6) {
            k->undef = F_ARITH;
            /* mostly non-faulting operands: a small dividend high half */
            if (rnd() % 4) {
                uint32_t m = size == 1 ? 0xFF : size == 2 ? 0xFFFF : 0xFFFFFFFFu;
                if (size == 1)
                    s->r[R_EAX] = (s->r[R_EAX] & ~0xFF00u) | ((rnd() % 4) << 8);
                else
                    s->r[R_EDX] = (s->r[R_EDX] & ~m) | (rnd() % 4);
            }
        } else {
            k->undef = F_SF | F_ZF | F_AF | F_PF;
        }
    } else if (form == 2) {
        unsigned size = (rnd() & 1) ? 2 : 4;
        size_prefix(k, size);
        emit(k, 0x0F);
        emit(k, 0xAF);
        emit(k, modrm_rr(pick_reg(), pick_reg()));
        k->undef = F_SF | F_ZF | F_AF | F_PF;
    } else {
        unsigned size = (rnd() & 1) ? 2 : 4;
        size_prefix(k, size);
        bool b = rnd() & 1;
        emit(k, b ? 0x6B : 0x69);
        emit(k, modrm_rr(pick_reg(), pick_reg()));
        uint32_t imm = rnd_operand();
        unsigned n = b ? 1 : size;
        for (unsigned i = 0; i < n; i++)
            emit(k, (imm >> (8 * i)) & 0xFF);
        k->undef = F_SF | F_ZF | F_AF | F_PF;
    }
}

static void gen_bit(Case *k, State *s)
{
    unsigned size = (rnd() & 1) ? 2 : 4;
    size_prefix(k, size);
    unsigned form = rnd() % 3;
    emit(k, 0x0F);
    if (form == 0) {
        static const uint8_t ops[4] = { 0xA3, 0xAB, 0xB3, 0xBB };
        emit(k, ops[rnd() & 3]);
        emit(k, modrm_rr(pick_reg(), pick_reg()));
        k->undef = F_OF | F_SF | F_AF | F_PF | F_ZF;
    } else if (form == 1) {
        emit(k, 0xBA);
        emit(k, modrm_rr(4 + (rnd() & 3), pick_reg()));
        emit(k, rnd() & 0xFF);
        k->undef = F_OF | F_SF | F_AF | F_PF | F_ZF;
    } else {
        emit(k, (rnd() & 1) ? 0xBC : 0xBD);
        unsigned dst = pick_reg(), src = pick_reg();
        emit(k, modrm_rr(dst, src));
        k->undef = F_CF | F_OF | F_SF | F_AF | F_PF;
        uint32_t m = size == 2 ? 0xFFFF : 0xFFFFFFFFu;
        if (rnd() % 8 == 0)
            s->r[src] &= ~m;
        if ((s->r[src] & m) == 0)
            k->rmask[dst] = 0;
    }
}

static void gen_bcd(Case *k, State *s)
{
    switch (rnd() % 6) {
    case 0: emit(k, 0x27); k->undef = F_OF; break;
    case 1: emit(k, 0x2F); k->undef = F_OF; break;
    case 2: emit(k, 0x37); k->undef = F_OF | F_SF | F_ZF | F_PF; break;
    case 3: emit(k, 0x3F); k->undef = F_OF | F_SF | F_ZF | F_PF; break;
    case 4: emit(k, 0xD4); emit(k, (rnd() % 8) ? (rnd() & 0xFF) | 1 : 10); k->undef = F_OF | F_AF | F_CF; break;
    default: emit(k, 0xD5); emit(k, rnd() & 0xFF); k->undef = F_OF | F_AF | F_CF; break;
    }
}

static void gen_string(Case *k, State *s)
{
    static const uint8_t ops[5] = { 0xA4, 0xA6, 0xAA, 0xAC, 0xAE };
    unsigned size = rnd_size(), w;
    unsigned rep = rnd() % 3;
    if (rep == 1) emit(k, 0xF3);
    if (rep == 2) emit(k, 0xF2);
    w = size_prefix(k, size);
    uint8_t op = ops[rnd() % 5];
    emit(k, op | w);
    s->r[R_ESI] = lowa + O_DATA + 0x100 + (rnd() % 0x100);
    s->r[R_EDI] = lowa + O_DATA + 0x200 + (rnd() % 0x100);
    s->r[R_ECX] = rnd() % 20;
    if ((op == 0xA6 || op == 0xAE) && (rnd() & 1)) {
        /* make equal runs likely */
        memcpy(pattern + 0x200, pattern + 0x100, 0x100);
    }
    k->mem = true;
}

static void gen_misc(Case *k, State *s)
{
    unsigned size = (rnd() & 1) ? 2 : 4;
    switch (rnd() % 12) {
    case 0: size_prefix(k, size); emit(k, 0x98 + (rnd() & 1)); break;
    case 1: { unsigned sz = rnd_size(), w = size_prefix(k, sz); emit(k, 0x86 | w);
              emit(k, sz == 1 ? modrm_rr(rm8(), rm8()) : modrm_rr(pick_reg(), pick_reg())); break; }
    case 2: { unsigned sz = rnd_size(), w = size_prefix(k, sz); emit(k, 0x0F); emit(k, 0xC0 | w);
              emit(k, sz == 1 ? modrm_rr(rm8(), rm8()) : modrm_rr(pick_reg(), pick_reg())); break; }
    case 3: { unsigned sz = rnd_size(), w = size_prefix(k, sz); emit(k, 0x0F); emit(k, 0xB0 | w);
              emit(k, sz == 1 ? modrm_rr(rm8(), rm8()) : modrm_rr(pick_reg(), pick_reg()));
              if (rnd() & 1) s->r[R_EAX] = s->r[k->b[k->len - 1] & 7];
              break; }
    case 4: emit(k, 0x0F); emit(k, 0xC8 + pick_reg()); break;
    case 5: emit(k, 0x0F); emit(k, 0x90 + (rnd() & 15)); emit(k, modrm_rr(0, rm8())); break;
    case 6: size_prefix(k, size); emit(k, 0x0F); emit(k, 0x40 + (rnd() & 15));
            emit(k, modrm_rr(pick_reg(), pick_reg())); break;
    case 7: {                           /* LEA with random addressing */
        size_prefix(k, size);
        emit(k, 0x8D);
        unsigned mod = rnd() % 3, rm = rnd() & 7;
        emit(k, (mod << 6) | (pick_reg() << 3) | rm);
        if (rm == 4)
            emit(k, rnd() & 0xFF);
        unsigned sib_base5 = rm == 4 && (k->b[k->len - 1] & 7) == 5;
        if (mod == 1) emit(k, rnd() & 0xFF);
        if (mod == 2 || (mod == 0 && (rm == 5 || sib_base5)))
            for (int i = 0; i < 4; i++) emit(k, rnd() & 0xFF);
        break;
    }
    case 8: size_prefix(k, size); emit(k, 0x0F); emit(k, 0xB6 | (rnd() & 1) | ((rnd() & 1) << 3));
            emit(k, modrm_rr(pick_reg(), rm8())); break;
    case 9: emit(k, 0x9E + (rnd() & 1)); break;
    case 10: { static const uint8_t f[3] = { 0xF5, 0xF8, 0xF9 }; emit(k, f[rnd() % 3]); break; }
    default: {                          /* CMPXCHG8B [ebx+disp8] */
        emit(k, 0x0F); emit(k, 0xC7); emit(k, 0x4B); emit(k, rnd() & 0x78);
        s->r[R_EBX] = lowa + O_DATA + 0x100;
        if (rnd() & 1) {
            uint32_t d = k->b[k->len - 1];
            memcpy(&s->r[R_EAX], pattern + 0x100 + d, 4);
            memcpy(&s->r[R_EDX], pattern + 0x104 + d, 4);
        }
        k->mem = true;
        break;
    }
    }
}

static void gen_mem(Case *k, State *s)
{
    /* ALU, shifts, XCHG, XADD, BTx with a memory operand [ebx+disp8] */
    unsigned size = rnd_size(), w = size_prefix(k, size);
    unsigned reg = size == 1 ? rm8() : pick_reg();
    if (reg == R_EBX || (size == 1 && reg == 3))
        reg = R_ESI;
    switch (rnd() % 5) {
    case 0: {
        unsigned op = rnd() & 7;
        emit(k, (op << 3) | ((rnd() & 1) << 1) | w);
        if (op == 1 || op == 4 || op == 6)
            k->undef = F_AF;
        break;
    }
    case 1: emit(k, 0x86 | w); break;
    case 2: emit(k, 0x0F); emit(k, 0xC0 | w); break;
    case 3: emit(k, 0xD0 | w); reg = 4 + (rnd() & 1) * 3; k->undef = F_AF; break;
    default:
        if (size == 1) {
            emit(k, 0x66);
            size = 2;
        }
        emit(k, 0x0F);
        emit(k, 0xAB);
        reg = pick_reg() == R_EBX ? R_EDI : pick_reg();
        if (reg == R_EBX)
            reg = R_ESI;
        s->r[reg] &= 0x3FF;     /* keep the bit offset inside the buffer */
        k->undef = F_OF | F_SF | F_AF | F_PF | F_ZF;
        break;
    }
    emit(k, 0x43 | (reg << 3));
    emit(k, rnd() & 0x7F);
    s->r[R_EBX] = lowa + O_DATA + 0x100;
    k->mem = true;
}

/* The specialised memory forms (x86-exec-fast.c): MOV, TEST, ALU with
 * an immediate, shifts by an immediate or CL, MOVZX/MOVSX, IMUL, on
 * [ebx+disp8]. (16-bit addressing needs the data below 64 KiB of a
 * segment, which a Linux process cannot have: the guest ROMs cover it.) */
static void gen_mem2(Case *k, State *s)
{
    unsigned size = rnd_size(), w;
    unsigned reg = size == 1 ? rm8() : pick_reg();
    if (reg == R_EBX || (size == 1 && reg == 7))     /* EBX, BL, BH hold the address */
        reg = R_ESI;
    unsigned form = rnd() % 9;
    bool imm8 = false, immz = false;
    int shcnt = -1;
    switch (form) {
    case 0: w = size_prefix(k, size); emit(k, 0x88 | (rnd() & 2) | w); break;
    case 1: w = size_prefix(k, size); emit(k, 0xC6 | w); reg = 0; immz = true; break;
    case 2: w = size_prefix(k, size); emit(k, 0x84 | w); k->undef = F_AF; break;
    case 3: w = size_prefix(k, size); emit(k, 0xF6 | w); reg = 0; immz = true; k->undef = F_AF; break;
    case 4: {
        w = size_prefix(k, size);
        unsigned op = rnd() & 7;
        if (size != 1 && (rnd() & 1)) {
            emit(k, 0x83);
            imm8 = true;
        } else {
            emit(k, 0x80 | w);
            immz = true;
        }
        reg = op;
        if (op == 1 || op == 4 || op == 6)
            k->undef = F_AF;
        break;
    }
    case 5: {
        w = size_prefix(k, size);
        unsigned op = rnd() & 7;
        if (op == 6)
            op = 4;
        bool cl = rnd() & 1;
        emit(k, (cl ? 0xD2 : 0xC0) | w);
        reg = op;
        unsigned cnt = rnd() % 32;
        if (cl)
            s->r[R_ECX] = (s->r[R_ECX] & ~0xFFu) | cnt;
        else
            shcnt = (int)cnt;
        /* flags as in gen_shift: compare only what is defined */
        if (cnt != 0)
            k->undef = F_AF | (cnt != 1 ? F_OF : 0) | ((op >= 4 && cnt > size * 8) ? F_CF : 0);
        break;
    }
    case 6:
        size_prefix(k, size == 1 ? 4 : size);
        emit(k, 0x0F);
        emit(k, 0xB6 | (rnd() & 1) | ((rnd() & 1) << 3));
        reg = pick_reg();
        if (reg == R_EBX)
            reg = R_ESI;
        break;
    case 7:
        size_prefix(k, size == 1 ? 4 : size);
        if (rnd() & 1) {
            emit(k, 0x0F);
            emit(k, 0xAF);
        } else {
            bool b = rnd() & 1;
            emit(k, b ? 0x6B : 0x69);
            if (b)
                imm8 = true;
            else
                immz = true;
            if (size == 1)
                size = 4;
        }
        reg = pick_reg();
        if (reg == R_EBX)
            reg = R_ESI;
        k->undef = F_SF | F_ZF | F_AF | F_PF;
        break;
    default: {
        /* ALU op r/m, r and r, r/m */
        w = size_prefix(k, size);
        unsigned op = rnd() & 7;
        emit(k, (op << 3) | ((rnd() & 1) << 1) | w);
        if (op == 1 || op == 4 || op == 6)
            k->undef = F_AF;
        break;
    }
    }
    emit(k, 0x43 | (reg << 3));
    emit(k, rnd() & 0x7F);
    s->r[R_EBX] = lowa + O_DATA + 0x100;
    if (shcnt >= 0)
        emit(k, (uint8_t)shcnt);
    if (imm8)
        emit(k, rnd() & 0xFF);
    if (immz) {
        uint32_t imm = rnd_operand();
        unsigned n = size == 1 ? 1 : size == 2 ? 2 : 4;
        for (unsigned b = 0; b < n; b++)
            emit(k, (imm >> (8 * b)) & 0xFF);
    }
    k->mem = true;
}

/* Jcc (short and near), LOOPcc and JCXZ over a MOV: the taken or not
 * taken path shows in CL (DL); every condition against random flags. */
static void gen_jcc(Case *k, State *s)
{
    unsigned cc = rnd() & 15;
    if (rnd() % 4 == 0) {
        /* LOOPNE/LOOPE/LOOP/JCXZ, ECX or (67) CX, over MOV DL */
        if (rnd() & 1)
            emit(k, 0x67);
        emit(k, 0xE0 + (rnd() & 3));
        emit(k, 2);
        emit(k, 0xB2);
        emit(k, 0x5A);
        if (rnd() & 1)
            s->r[R_ECX] = (s->r[R_ECX] & ~0xFFFFu) | (rnd() % 3);
        return;
    }
    if (rnd() & 1) {
        emit(k, 0x70 | cc);
        emit(k, 2);
    } else {
        emit(k, 0x0F);
        emit(k, 0x80 | cc);
        emit(k, 2); emit(k, 0); emit(k, 0); emit(k, 0);
    }
    emit(k, 0xB1);                  /* mov cl, 0x5A */
    emit(k, 0x5A);
}


/* ---- MMX / SSE / SSE2 ------------------------------------------------------ */

/* Operand forms of a table entry */
#define T_MEM   0x001       /* memory operand only */
#define T_REG   0x002       /* register operand only */
#define T_IMM   0x004       /* imm8 */
#define T_GREG  0x008       /* ModRM.reg is a general register */
#define T_GRM   0x010       /* ModRM.rm (mod 3) is a general register */
#define T_S32   0x020       /* source values: single precision */
#define T_S64   0x040       /* source values: double precision */
#define T_FIX   0x080       /* ModRM.reg is the group extension `ext` */
#define T_IMM3  0x100       /* imm8 is a compare predicate 0-7 */
#define T_EDI   0x200       /* MASKMOV: DS:EDI points into the data buffer */
#define T_NORM  0x400       /* no ModRM (EMMS) */

typedef struct {
    uint8_t mp;             /* 0, 0x66, 0xF3, 0xF2 */
    uint8_t op;             /* 0F op */
    uint16_t t;
    uint8_t ext;
} SimdOp;

static uint32_t sgn(void) { return (rnd() & 1) << 31; }

static uint32_t rnd_f32(void)
{
    switch (rnd() % 16) {
    case 0: return sgn();
    case 1: return sgn() | 0x7F800000u;
    case 2: return sgn() | 0x7FC00000u | (rnd() & 0x3FFFFF);           /* QNaN */
    case 3: return sgn() | 0x7F800000u | (rnd() & 0x3FFFFF) | 1;       /* SNaN */
    case 4: return sgn() | (rnd() & 0x7FFFFF);                         /* denormal */
    case 5: return sgn() | ((1 + rnd() % 3) << 23) | (rnd() & 0x7FFFFF);   /* tiny */
    case 6: return sgn() | ((0xFC + rnd() % 3) << 23) | (rnd() & 0x7FFFFF);
    case 7: return sgn() | 0x3F800000u;
    case 8: return sgn() | 0x00800000u | ((rnd() & 1) ? 0 : 0x7FFFFF);
    case 9: case 10: case 11:
        return sgn() | ((126 + rnd() % 34) << 23) | (rnd() & 0x7FFFFF);   /* 0.5 .. 2^33 */
    case 12:
        return sgn() | ((64 + rnd() % 40) << 23) | (rnd() & 0x7FFFFF);    /* below 1: underflow in products */
    default: return rnd();
    }
}

static uint64_t rnd_f64(void)
{
    uint64_t s = (uint64_t)sgn() << 32;
    uint64_t m = ((uint64_t)rnd() << 32 | rnd()) & 0xFFFFFFFFFFFFFull;
    switch (rnd() % 16) {
    case 0: return s;
    case 1: return s | 0x7FF0000000000000ull;
    case 2: return s | 0x7FF8000000000000ull | (m >> 1);
    case 3: return s | 0x7FF0000000000000ull | (m >> 1) | 1;
    case 4: return s | m;
    case 5: return s | ((uint64_t)(1 + rnd() % 3) << 52) | m;
    case 6: return s | ((uint64_t)(0x7FC + rnd() % 3) << 52) | m;
    case 7: return s | 0x3FF0000000000000ull;
    case 8:                     /* a double that rounds to a float's edges */
        return s | ((uint64_t)(0x380 - 30 + rnd() % 60) << 52) | m;
    case 9:
        return s | ((uint64_t)(0x47E + rnd() % 3) << 52) | m;
    case 10: case 11: case 12:
        return s | ((uint64_t)(1022 + rnd() % 34) << 52) | m;
    default: return (uint64_t)rnd() << 32 | rnd();
    }
}

static uint32_t rnd_lane32(uint16_t t)
{
    if (t & T_S32)
        return rnd_f32();
    return rnd_operand();
}

/* Fill the XMM/MMX registers of an FXSAVE image and the data buffer
 * with values of the entry's kind; MXCSR with a random control. */
static void simd_state(State *s, uint16_t t, bool mmx)
{
    uint8_t *fx = s->fx;
    memset(fx, 0, FX_SIZE);
    uint16_t cw = 0x037F;
    memcpy(fx, &cw, 2);
    uint32_t mx = 0x1F80 | ((rnd() & 3) << 13);
    if (rnd() % 4 == 0) mx |= 0x8000;               /* FTZ */
    if (rnd() % 4 == 0) mx |= 0x0040;               /* DAZ */
    if (rnd() % 4 == 0) mx |= rnd() & 0x3F;         /* sticky flags */
    if (rnd() % 16 == 0) mx &= ~((rnd() & 0x3F) << 7);   /* unmasked: #XM */
    memcpy(fx + 24, &mx, 4);
    uint32_t mask = 0xFFFF;
    memcpy(fx + 28, &mask, 4);
    fx[4] = mmx ? (uint8_t)rnd() : 0;
    for (unsigned r = 0; r < 8; r++) {
        uint64_t v = (uint64_t)rnd_operand() << 32 | rnd_operand();
        if (rnd() % 4 == 0)
            v = rnd() % 70;     /* shift counts */
        memcpy(fx + 32 + 16 * r, &v, 8);
        uint16_t e = (fx[4] >> r) & 1 ? 0xFFFF : (uint16_t)rnd();
        memcpy(fx + 40 + 16 * r, &e, 2);
    }
    for (unsigned r = 0; r < 8; r++) {
        uint8_t *x = fx + 160 + 16 * r;
        for (unsigned k = 0; k < 4; k++) {
            if (t & T_S64) {
                uint64_t v = rnd_f64();
                memcpy(x + 8 * (k / 2), &v, 8);
                k++;
            } else {
                uint32_t v = rnd_lane32(t);
                memcpy(x + 4 * k, &v, 4);
            }
        }
        if (rnd() % 4 == 0)
            memcpy(x, &(uint64_t){ rnd() % 140 }, 8);
        if (rnd() % 8 == 0 && r)
            memcpy(x, fx + 160 + 16 * (rnd() % r), 16);   /* equal operands */
    }
    for (unsigned k = 0x100; k < 0x200; k += 8) {
        if (t & T_S64) {
            uint64_t v = rnd_f64();
            memcpy(pattern + k, &v, 8);
        } else {
            uint32_t v0 = rnd_lane32(t), v1 = rnd_lane32(t);
            memcpy(pattern + k, &v0, 4);
            memcpy(pattern + k + 4, &v1, 4);
        }
    }
}

static void gen_simd(Case *k, State *s, const SimdOp *o)
{
    bool mmx = o->mp == 0 && o->op >= 0x60 && o->op != 0xC6;
    simd_state(s, o->t, mmx || o->op == 0x2A || o->op == 0x2C || o->op == 0x2D || o->op == 0xD6);
    if (o->mp)
        emit(k, o->mp);
    emit(k, 0x0F);
    emit(k, o->op);
    if (o->t & T_NORM)
        return;
    unsigned reg = (o->t & T_FIX) ? o->ext : (o->t & T_GREG) ? pick_reg() : (rnd() & 7);
    bool mem = (o->t & T_MEM) || (!(o->t & T_REG) && rnd() % 4 == 0);
    if (mem) {
        emit(k, 0x43 | (reg << 3));
        emit(k, 16 * (rnd() % 8));
        s->r[R_EBX] = lowa + O_DATA + 0x100;
        if (reg == R_EBX && (o->t & T_GREG))
            k->b[k->len - 2] = 0x43 | (R_ESI << 3);
        k->mem = true;
    } else {
        emit(k, 0xC0 | (reg << 3) | ((o->t & T_GRM) ? pick_reg() : (rnd() & 7)));
    }
    if (o->t & T_IMM)
        emit(k, (o->t & T_IMM3) ? rnd() % 8 : rnd() & 0xFF);
    if (o->op == 0xAE && o->ext == 2) {     /* LDMXCSR: no reserved bit */
        uint8_t *m = pattern + 0x100 + k->b[k->len - 1];
        m[2] = m[3] = 0;
    }
    if (o->t & T_EDI) {
        s->r[R_EDI] = lowa + O_DATA + 0x100 + rnd() % 0x100;
        k->mem = true;
    }
}

#define OPS(name, ...) static const SimdOp name[] = { __VA_ARGS__ }
#define F32 T_S32
#define F64 T_S64

OPS(op_fp_ps, { 0, 0x51, F32 }, { 0, 0x58, F32 }, { 0, 0x59, F32 }, { 0, 0x5C, F32 },
    { 0, 0x5D, F32 }, { 0, 0x5E, F32 }, { 0, 0x5F, F32 });
OPS(op_fp_ss, { 0xF3, 0x51, F32 }, { 0xF3, 0x58, F32 }, { 0xF3, 0x59, F32 }, { 0xF3, 0x5C, F32 },
    { 0xF3, 0x5D, F32 }, { 0xF3, 0x5E, F32 }, { 0xF3, 0x5F, F32 });
OPS(op_fp_pd, { 0x66, 0x51, F64 }, { 0x66, 0x58, F64 }, { 0x66, 0x59, F64 }, { 0x66, 0x5C, F64 },
    { 0x66, 0x5D, F64 }, { 0x66, 0x5E, F64 }, { 0x66, 0x5F, F64 });
OPS(op_fp_sd, { 0xF2, 0x51, F64 }, { 0xF2, 0x58, F64 }, { 0xF2, 0x59, F64 }, { 0xF2, 0x5C, F64 },
    { 0xF2, 0x5D, F64 }, { 0xF2, 0x5E, F64 }, { 0xF2, 0x5F, F64 });
OPS(op_cmp, { 0, 0xC2, F32 | T_IMM | T_IMM3 }, { 0xF3, 0xC2, F32 | T_IMM | T_IMM3 },
    { 0x66, 0xC2, F64 | T_IMM | T_IMM3 }, { 0xF2, 0xC2, F64 | T_IMM | T_IMM3 },
    { 0, 0x2E, F32 }, { 0, 0x2F, F32 }, { 0x66, 0x2E, F64 }, { 0x66, 0x2F, F64 });
OPS(op_cvt, { 0, 0x2A, 0 }, { 0x66, 0x2A, 0 }, { 0xF3, 0x2A, T_GRM }, { 0xF2, 0x2A, T_GRM },
    { 0, 0x2C, F32 }, { 0, 0x2D, F32 }, { 0x66, 0x2C, F64 }, { 0x66, 0x2D, F64 },
    { 0xF3, 0x2C, F32 | T_GREG }, { 0xF3, 0x2D, F32 | T_GREG },
    { 0xF2, 0x2C, F64 | T_GREG }, { 0xF2, 0x2D, F64 | T_GREG },
    { 0, 0x5A, F32 }, { 0x66, 0x5A, F64 }, { 0xF3, 0x5A, F32 }, { 0xF2, 0x5A, F64 },
    { 0, 0x5B, 0 }, { 0x66, 0x5B, F32 }, { 0xF3, 0x5B, F32 },
    { 0x66, 0xE6, F64 }, { 0xF3, 0xE6, 0 }, { 0xF2, 0xE6, F64 });
OPS(op_rcp, { 0, 0x52, F32 }, { 0, 0x53, F32 }, { 0xF3, 0x52, F32 }, { 0xF3, 0x53, F32 });
#define INT_OPS(p) \
    { p, 0x60, 0 }, { p, 0x61, 0 }, { p, 0x62, 0 }, { p, 0x63, 0 }, { p, 0x64, 0 }, { p, 0x65, 0 }, \
    { p, 0x66, 0 }, { p, 0x67, 0 }, { p, 0x68, 0 }, { p, 0x69, 0 }, { p, 0x6A, 0 }, { p, 0x6B, 0 }, \
    { p, 0x74, 0 }, { p, 0x75, 0 }, { p, 0x76, 0 }, \
    { p, 0xD1, 0 }, { p, 0xD2, 0 }, { p, 0xD3, 0 }, { p, 0xD4, 0 }, { p, 0xD5, 0 }, \
    { p, 0xD8, 0 }, { p, 0xD9, 0 }, { p, 0xDA, 0 }, { p, 0xDB, 0 }, { p, 0xDC, 0 }, { p, 0xDD, 0 }, \
    { p, 0xDE, 0 }, { p, 0xDF, 0 }, { p, 0xE0, 0 }, { p, 0xE1, 0 }, { p, 0xE2, 0 }, { p, 0xE3, 0 }, \
    { p, 0xE4, 0 }, { p, 0xE5, 0 }, { p, 0xE8, 0 }, { p, 0xE9, 0 }, { p, 0xEA, 0 }, { p, 0xEB, 0 }, \
    { p, 0xEC, 0 }, { p, 0xED, 0 }, { p, 0xEE, 0 }, { p, 0xEF, 0 }, { p, 0xF1, 0 }, { p, 0xF2, 0 }, \
    { p, 0xF3, 0 }, { p, 0xF4, 0 }, { p, 0xF5, 0 }, { p, 0xF6, 0 }, { p, 0xF8, 0 }, { p, 0xF9, 0 }, \
    { p, 0xFA, 0 }, { p, 0xFB, 0 }, { p, 0xFC, 0 }, { p, 0xFD, 0 }, { p, 0xFE, 0 }, \
    { p, 0x71, T_REG | T_IMM | T_FIX, 2 }, { p, 0x71, T_REG | T_IMM | T_FIX, 4 }, \
    { p, 0x71, T_REG | T_IMM | T_FIX, 6 }, { p, 0x72, T_REG | T_IMM | T_FIX, 2 }, \
    { p, 0x72, T_REG | T_IMM | T_FIX, 4 }, { p, 0x72, T_REG | T_IMM | T_FIX, 6 }, \
    { p, 0x73, T_REG | T_IMM | T_FIX, 2 }, { p, 0x73, T_REG | T_IMM | T_FIX, 6 }
OPS(op_mmx, INT_OPS(0), { 0, 0x77, T_NORM });
OPS(op_sse2i, INT_OPS(0x66), { 0x66, 0x6C, 0 }, { 0x66, 0x6D, 0 },
    { 0x66, 0x73, T_REG | T_IMM | T_FIX, 3 }, { 0x66, 0x73, T_REG | T_IMM | T_FIX, 7 });
OPS(op_mov,
    { 0, 0x10, 0 }, { 0, 0x11, 0 }, { 0, 0x12, 0 }, { 0, 0x13, T_MEM }, { 0, 0x14, 0 },
    { 0, 0x15, 0 }, { 0, 0x16, 0 }, { 0, 0x17, T_MEM }, { 0, 0x28, 0 }, { 0, 0x29, 0 },
    { 0, 0x2B, T_MEM }, { 0, 0x50, T_REG | T_GREG }, { 0, 0x54, 0 }, { 0, 0x55, 0 },
    { 0, 0x56, 0 }, { 0, 0x57, 0 }, { 0, 0xC6, T_IMM },
    { 0, 0x6E, T_GRM }, { 0, 0x6F, 0 }, { 0, 0x7E, T_GRM }, { 0, 0x7F, 0 }, { 0, 0x70, T_IMM },
    { 0, 0xC4, T_IMM | T_GRM }, { 0, 0xC5, T_IMM | T_REG | T_GREG }, { 0, 0xD7, T_REG | T_GREG },
    { 0, 0xE7, T_MEM }, { 0, 0xF7, T_REG | T_EDI }, { 0, 0xC3, T_MEM | T_GREG },
    { 0x66, 0x10, 0 }, { 0x66, 0x11, 0 }, { 0x66, 0x12, T_MEM }, { 0x66, 0x13, T_MEM },
    { 0x66, 0x14, 0 }, { 0x66, 0x15, 0 }, { 0x66, 0x16, T_MEM }, { 0x66, 0x17, T_MEM },
    { 0x66, 0x28, 0 }, { 0x66, 0x29, 0 }, { 0x66, 0x2B, T_MEM }, { 0x66, 0x50, T_REG | T_GREG },
    { 0x66, 0x54, 0 }, { 0x66, 0x55, 0 }, { 0x66, 0x56, 0 }, { 0x66, 0x57, 0 },
    { 0x66, 0xC6, T_IMM }, { 0x66, 0x6E, T_GRM }, { 0x66, 0x7E, T_GRM }, { 0x66, 0x6F, 0 },
    { 0x66, 0x7F, 0 }, { 0x66, 0x70, T_IMM }, { 0x66, 0xC4, T_IMM | T_GRM },
    { 0x66, 0xC5, T_IMM | T_REG | T_GREG }, { 0x66, 0xD6, 0 }, { 0x66, 0xD7, T_REG | T_GREG },
    { 0x66, 0xE7, T_MEM }, { 0x66, 0xF7, T_REG | T_EDI },
    { 0xF3, 0x10, 0 }, { 0xF3, 0x11, 0 }, { 0xF3, 0x6F, 0 }, { 0xF3, 0x7F, 0 }, { 0xF3, 0x7E, 0 },
    { 0xF3, 0x70, T_IMM }, { 0xF3, 0xD6, T_REG },
    { 0xF2, 0x10, 0 }, { 0xF2, 0x11, 0 }, { 0xF2, 0x70, T_IMM }, { 0xF2, 0xD6, T_REG },
    /* group 15 and the hints: STMXCSR, LDMXCSR (a valid value), fences,
     * CLFLUSH, PREFETCHh */
    { 0, 0xAE, T_MEM | T_FIX, 3 }, { 0, 0xAE, T_MEM | T_FIX, 2 }, { 0, 0xAE, T_MEM | T_FIX, 7 },
    { 0, 0xAE, T_REG | T_FIX, 5 }, { 0, 0xAE, T_REG | T_FIX, 6 }, { 0, 0xAE, T_REG | T_FIX, 7 },
    { 0, 0x18, T_MEM | T_FIX, 0 }, { 0, 0x18, T_MEM | T_FIX, 1 }, { 0, 0x18, T_MEM | T_FIX, 2 },
    { 0, 0x18, T_MEM | T_FIX, 3 });

#define GEN_TABLE(fn, tbl) \
    static void fn(Case *k, State *s) { gen_simd(k, s, &tbl[rnd() % G_N_ELEMENTS(tbl)]); }
GEN_TABLE(gen_fp_ps, op_fp_ps)
GEN_TABLE(gen_fp_ss, op_fp_ss)
GEN_TABLE(gen_fp_pd, op_fp_pd)
GEN_TABLE(gen_fp_sd, op_fp_sd)
GEN_TABLE(gen_cmp, op_cmp)
GEN_TABLE(gen_cvt, op_cvt)
GEN_TABLE(gen_mmx, op_mmx)
GEN_TABLE(gen_sse2i, op_sse2i)
GEN_TABLE(gen_mov, op_mov)

static void gen_rcp(Case *k, State *s)
{
    gen_simd(k, s, &op_rcp[rnd() % G_N_ELEMENTS(op_rcp)]);
    k->approx = true;
}

/* Mandatory prefixes in every order and count: with F2/F3 and 66 both
 * present, the last F2/F3 selects the instruction. */
static void gen_prefix(Case *k, State *s)
{
    static const uint8_t ops[] = { 0x10, 0x58, 0x59, 0x5C, 0x5D, 0x5E, 0x5F, 0x51, 0x5A, 0xC2 };
    static const uint8_t pfx[3] = { 0x66, 0xF3, 0xF2 };
    uint8_t op = ops[rnd() % G_N_ELEMENTS(ops)];
    simd_state(s, T_S32, false);
    unsigned n = 1 + rnd() % 3;
    bool f2f3 = false;
    for (unsigned j = 0; j < n; j++) {
        uint8_t p = pfx[rnd() % 3];
        f2f3 |= p != 0x66;
        emit(k, p);
    }
    if (!f2f3 && op == 0x51 && (rnd() & 1))
        emit(k, 0xF3);
    emit(k, 0x0F);
    emit(k, op);
    emit(k, 0xC0 | (rnd() & 0x3F));
    if (op == 0xC2)
        emit(k, rnd() % 8);
}

/* FXSAVE of a random state, FXRSTOR of a random image */
static void gen_fx(Case *k, State *s)
{
    simd_state(s, rnd() & 1 ? T_S32 : T_S64, true);
    uint16_t sw = (uint16_t)(rnd() & 0x387F);   /* TOP, condition codes, no ES */
    memcpy(s->fx + 2, &sw, 2);
    unsigned d = 16 * (rnd() % 8);
    s->r[R_EBX] = lowa + O_DATA + 0x100;
    k->mem = true;
    emit(k, 0x0F);
    emit(k, 0xAE);
    if (rnd() & 1) {
        emit(k, 0x43);          /* FXSAVE [ebx+d] */
        k->fxsave_mem = true;
        k->fx_off = 0x100 + d;
    } else {
        emit(k, 0x4B);          /* FXRSTOR [ebx+d]: an image with valid MXCSR */
        uint8_t *img = pattern + 0x100 + d;
        uint32_t mx = rnd() & 0xFFFF;
        memcpy(img + 24, &mx, 4);
        uint16_t cw = (uint16_t)(rnd() | 0x3F);     /* x87 exceptions masked */
        memcpy(img, &cw, 2);
        uint16_t fsw = (uint16_t)(rnd() & 0x387F);
        memcpy(img + 2, &fsw, 2);
    }
    emit(k, d);
}

typedef void (*GenFn)(Case *, State *);
static const struct { const char *name; GenFn fn; } classes[] = {
    { "alu", gen_alu }, { "shift", gen_shift }, { "muldiv", gen_muldiv },
    { "bit", gen_bit }, { "bcd", gen_bcd }, { "string", gen_string },
    { "misc", gen_misc }, { "mem", gen_mem }, { "mem2", gen_mem2 }, { "jcc", gen_jcc },
    { "sse-ps", gen_fp_ps }, { "sse-ss", gen_fp_ss }, { "sse2-pd", gen_fp_pd },
    { "sse2-sd", gen_fp_sd }, { "sse-cmp", gen_cmp }, { "sse-cvt", gen_cvt },
    { "sse-rcp", gen_rcp }, { "mmx", gen_mmx }, { "sse2-int", gen_sse2i },
    { "simd-mov", gen_mov }, { "simd-prefix", gen_prefix }, { "fxsave", gen_fx },
};

static void dump(const char *what, const State *st)
{
    fprintf(stderr, "  %s: eax %08x ecx %08x edx %08x ebx %08x esp %08x ebp %08x esi %08x edi %08x fl %08x%s\n",
            what, st->r[0], st->r[1], st->r[2], st->r[3], st->r[4], st->r[5], st->r[6], st->r[7],
            st->flags, st->fault ? " FAULT" : "");
}

/* RCP/RSQRT: both within Intel's |relative error| <= 1.5 * 2^-12 of the
 * true value, so within 2^-10 of each other; specials exact. */
static bool approx_equal(uint32_t a, uint32_t b)
{
    if (a == b)
        return true;
    if ((a ^ b) >> 31 || !(a & 0x7F800000u) || !(b & 0x7F800000u)
        || (a & 0x7F800000u) == 0x7F800000u || (b & 0x7F800000u) == 0x7F800000u)
        return false;
    float fa, fb;
    memcpy(&fa, &a, 4);
    memcpy(&fb, &b, 4);
    return fabs((double)fa - fb) <= fabs((double)fa) * (1.0 / 1024);
}

/* The compared parts of two FXSAVE images: FCW, FSW, abridged tags,
 * MXCSR, ST0-7 (80 bits each) and XMM0-7. Returns the first differing
 * offset, or -1. */
static int fx_diff(const uint8_t *a, const uint8_t *b, bool approx)
{
    static const unsigned ranges[][2] = { { 0, 5 }, { 24, 28 } };
    for (unsigned r = 0; r < G_N_ELEMENTS(ranges); r++)
        for (unsigned o = ranges[r][0]; o < ranges[r][1]; o++)
            if (a[o] != b[o])
                return (int)o;
    for (unsigned st = 0; st < 8; st++)
        for (unsigned o = 32 + 16 * st; o < 42 + 16 * st; o++)
            if (a[o] != b[o])
                return (int)o;
    for (unsigned o = 160; o < 288; o += 4) {
        uint32_t x, y;
        memcpy(&x, a + o, 4);
        memcpy(&y, b + o, 4);
        if (x != y && !(approx && approx_equal(x, y)))
            return (int)o;
    }
    return -1;
}

/* The data buffer: with an FXSAVE image in it, the fields the
 * processor fills with history (FOP, FIP, FCS, FDP, FDS) or leaves
 * reserved are skipped, and MXCSR_MASK, which says what the processor
 * supports (the modelled CPU's is not the host's: AMD's Zen parts set
 * bit 17, MM). */
static bool data_equal(const Case *k)
{
    const uint8_t *e = low + O_DATA;
    for (unsigned o = 0; o < DATA_SIZE; o++) {
        if (k->fxsave_mem && o >= k->fx_off && o < k->fx_off + FX_SIZE) {
            unsigned f = o - k->fx_off;
            if ((f >= 6 && f < 24) || (f >= 28 && f < 32) || f >= 288 ||
                (f >= 32 && f < 160 && (f & 15) >= 10))
                continue;
        }
        if (native_data[o] != e[o])
            return false;
    }
    return true;
}

static void default_fx(State *s)
{
    memset(s->fx, 0, FX_SIZE);
    s->fx[0] = 0x7F;
    s->fx[1] = 0x03;
    uint32_t mx = 0x1F80, mask = 0xFFFF;
    memcpy(s->fx + 24, &mx, 4);
    memcpy(s->fx + 28, &mask, 4);
}

static void dump_fx(const char *what, const uint8_t *fx)
{
    uint32_t mx;
    memcpy(&mx, fx + 24, 4);
    fprintf(stderr, "  %s: fcw %02x%02x fsw %02x%02x tag %02x mxcsr %08x\n", what,
            fx[1], fx[0], fx[3], fx[2], fx[4], mx);
    for (unsigned r = 0; r < 8; r++) {
        uint64_t m, x0, x1;
        uint16_t e;
        memcpy(&m, fx + 32 + 16 * r, 8);
        memcpy(&e, fx + 40 + 16 * r, 2);
        memcpy(&x0, fx + 160 + 16 * r, 8);
        memcpy(&x1, fx + 168 + 16 * r, 8);
        fprintf(stderr, "    st%u %04x:%016llx  xmm%u %016llx:%016llx\n", r, e,
                (unsigned long long)m, r, (unsigned long long)x1, (unsigned long long)x0);
    }
}

#if defined(__SANITIZE_ADDRESS__)
#define DIFF_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DIFF_ASAN 1
#endif
#endif

/* 100,000 cases a class; the SIMD classes run 30,000 under ASan (CI's
 * configuration) to keep the test within two minutes there. -m slow:
 * 1,000,000; TESS_DIFF_CASES overrides. */
static unsigned class_cases(const char *name)
{
    if (g_test_slow())
        return 1000000;
    const char *env = g_getenv("TESS_DIFF_CASES");
    if (env)
        return (unsigned)strtoul(env, NULL, 0);
#ifdef DIFF_ASAN
    if (strstr(name, "sse") || strstr(name, "mmx") || strstr(name, "simd") || strstr(name, "fx"))
        return 30000;
#else
    (void)name;
#endif
    return 100000;
}

static void run_class(gconstpointer data)
{
    unsigned idx = GPOINTER_TO_UINT(data);
    guint32 seed = 0xD1FF0000u + idx;
    rng = g_rand_new_with_seed(seed);
    unsigned cases = class_cases(classes[idx].name);
    unsigned xm = 0;
    for (unsigned n = 0; n < cases; n++) {
        Case k = { .len = 0 };
        static State in, nat, emu;
        in.fault = false;
        for (int r = 0; r < 8; r++) {
            in.r[r] = rnd_operand();
            k.rmask[r] = 0xFFFFFFFFu;
        }
        in.flags = (rnd() & (F_ARITH | F_DF)) | 0x202;
        for (unsigned b = 0; b < DATA_SIZE; b++)
            pattern[b] = (uint8_t)rnd();
        default_fx(&in);
        classes[idx].fn(&k, &in);
        unsigned at = emit_case(&in, k.b, k.len);
        run_native(&in, &nat);
        run_interp(&in, at, at + k.len + (engine != X86_ENGINE_INTERP ? 2 : 0), &emu);
        bool bad = nat.fault != emu.fault;
        int fxd = -1;
        if (!nat.fault && !bad) {
            for (int r = 0; r < 8; r++)
                if (r != R_ESP && ((nat.r[r] ^ emu.r[r]) & k.rmask[r]))
                    bad = true;
            uint32_t fm = (F_ARITH | F_DF) & ~k.undef;
            if ((nat.flags ^ emu.flags) & fm)
                bad = true;
            if (k.mem && !data_equal(&k))
                bad = true;
            fxd = fx_diff(nat.fx, emu.fx, k.approx);
            if (fxd >= 0)
                bad = true;
        } else if (nat.fault && !bad) {
            /* a fault (#XM, #DE): the flags MXCSR holds at the fault,
             * the destination left alone */
            fxd = fx_diff(nat.fx, emu.fx, false);
            if (fxd >= 0)
                bad = true;
            xm++;
        }
        if (bad) {
            fprintf(stderr, "x86-diff: class %s seed 0x%08x case %u mismatch; bytes:",
                    classes[idx].name, seed, n);
            for (unsigned b = 0; b < k.len; b++)
                fprintf(stderr, " %02x", k.b[b]);
            fprintf(stderr, " (undefined flags %03x)\n", k.undef);
            dump("in    ", &in);
            dump("native", &nat);
            dump("interp", &emu);
            if (fxd >= 0 || k.len > 2) {
                fprintf(stderr, "  x87/SSE state differs at image offset %d\n", fxd);
                dump_fx("in    ", in.fx);
                dump_fx("native", nat.fx);
                dump_fx("interp", emu.fx);
            }
            g_test_fail();
            break;
        }
    }
    if (xm)
        g_test_message("%u cases ended in a fault (#XM, #DE), x87/SSE state compared", xm);
    g_rand_free(rng);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    low = mmap(NULL, LOW_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (low == MAP_FAILED) {
        g_test_skip("no executable memory below 4 GiB");
        return 0;
    }
    lowa = (uint32_t)(uintptr_t)low;
    build_trampolines();
    static uint8_t altstack[65536];
    stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
    sigaltstack(&ss, NULL);
    struct sigaction sa = { .sa_sigaction = fpe_handler, .sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER };
    sigaction(SIGFPE, &sa, NULL);
    X86Bus bus = { NULL, bpage, bread, bwrite, ioread, iowrite, intack, NULL };
    x86_init(&cpu, X86_MODEL_PPRO, &bus);
    const char *eng = getenv("X86_TEST_ENGINE");
    if (eng && strcmp(eng, "jit") == 0) {
        if (!X86_HAVE_JIT || !x86_jit_init(&cpu)) {
            fprintf(stderr, "x86-diff: no translator on this host\n");
            return 77;
        }
        engine = cpu.engine = X86_ENGINE_JIT;
        cpu.jit_hot = 0;
    }
    /* the SIMD classes: a Pentium 4's feature set on the P6 core */
    cpu.feat_edx |= CPUID_MMX | CPUID_FXSR | CPUID_SSE | CPUID_SSE2 | CPUID_CLFSH;
    for (unsigned i = 0; i < G_N_ELEMENTS(classes); i++) {
        char *path = g_strdup_printf("/x86/diff/%s", classes[i].name);
        g_test_add_data_func(path, GUINT_TO_POINTER(i), run_class);
        g_free(path);
    }
    int ret = g_test_run();
    if (engine != X86_ENGINE_INTERP) {
        /* the translator did run, inline forms included */
        const X86JitStats *st = x86_jit_stats(&cpu);
        g_test_message("translated %llu blocks, %llu instructions inline, %llu as calls",
                       (unsigned long long)st->blocks, (unsigned long long)st->insns_inline,
                       (unsigned long long)st->insns_call);
        if (ret == 0 && (st->blocks == 0 || st->insns_inline == 0)) {
            fprintf(stderr, "x86-diff: the translator ran no inline code\n");
            ret = 1;
        }
    }
    x86_fini(&cpu);
    return ret;
}
