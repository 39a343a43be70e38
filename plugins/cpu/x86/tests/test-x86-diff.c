/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Differential test against the host CPU. Each case is one user-level
 * instruction with random operands. It runs natively - as 32-bit code in
 * this 64-bit process, entered by a far jump to the compatibility-mode
 * code segment (selector 0x23) - and in the interpreter, on the very same
 * bytes at the very same addresses (the interpreter's "physical memory" is
 * the low mapping itself). Registers, the defined flags (per the SDM's
 * "Flags Affected") and memory must agree; divide faults must agree too.
 */
#include "x86-cpu.h"
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>

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
} State;

/* Emit the case: prologue, register load, the instruction, epilogue.
 * Returns the offset of the instruction inside the code area. */
static unsigned emit_case(const State *in, const uint8_t *insn, unsigned len)
{
    uint8_t *p = low + O_CODE;
    *p++ = 0x66; *p++ = 0xB8; *p++ = 0x2B; *p++ = 0x00;     /* mov ax, 0x2b */
    *p++ = 0x8E; *p++ = 0xD8;                                /* mov ds, ax */
    *p++ = 0x8E; *p++ = 0xC0;                                /* mov es, ax */
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

static void fpe_handler(int sig, siginfo_t *si, void *uc)
{
    siglongjmp(fpe_jb, 1);
}

static void run_native(State *out)
{
    void (*enter)(void) = (void (*)(void))(uintptr_t)(low + O_ENTER);
    memcpy(low + O_DATA, pattern, DATA_SIZE);
    out->fault = false;
    if (sigsetjmp(fpe_jb, 1) == 0) {
        enter();
        memcpy(out->r, low + O_OUT, 32);
        memcpy(&out->flags, low + O_OUT + 32, 4);
        out->r[R_ESP] += 4;     /* stored between PUSHFD and POP */
    } else {
        out->fault = true;
    }
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

/* Runs the interpreter from the case's first instruction until EIP
 * reaches `end` (the epilogue), a fault, or a few instructions. */
static void run_interp(const State *in, unsigned at, unsigned end, State *out)
{
    X86Cpu *c = &cpu;
    memcpy(low + O_DATA, pattern, DATA_SIZE);
    x86_code_invalidate(c, lowa + O_CODE, 0x1000);
    c->cr0 = CR0_PE | CR0_ET;
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
        uint64_t lim = c->icount + 1;
        x86_run(c, &lim, NULL);
    }
    out->fault = c->exc_vec >= 0;
    memcpy(out->r, c->r, 32);
    out->flags = x86_get_eflags(c);
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

typedef void (*GenFn)(Case *, State *);
static const struct { const char *name; GenFn fn; } classes[] = {
    { "alu", gen_alu }, { "shift", gen_shift }, { "muldiv", gen_muldiv },
    { "bit", gen_bit }, { "bcd", gen_bcd }, { "string", gen_string },
    { "misc", gen_misc }, { "mem", gen_mem }, { "mem2", gen_mem2 }, { "jcc", gen_jcc },
};

static void dump(const char *what, const State *st)
{
    fprintf(stderr, "  %s: eax %08x ecx %08x edx %08x ebx %08x esp %08x ebp %08x esi %08x edi %08x fl %08x%s\n",
            what, st->r[0], st->r[1], st->r[2], st->r[3], st->r[4], st->r[5], st->r[6], st->r[7],
            st->flags, st->fault ? " FAULT" : "");
}

static void run_class(gconstpointer data)
{
    unsigned idx = GPOINTER_TO_UINT(data);
    guint32 seed = 0xD1FF0000u + idx;
    rng = g_rand_new_with_seed(seed);
    unsigned cases = g_test_slow() ? 1000000 : 100000;
    for (unsigned n = 0; n < cases; n++) {
        Case k = { .len = 0 };
        State in = { .fault = false }, nat, emu;
        for (int r = 0; r < 8; r++) {
            in.r[r] = rnd_operand();
            k.rmask[r] = 0xFFFFFFFFu;
        }
        in.flags = (rnd() & (F_ARITH | F_DF)) | 0x202;
        for (unsigned b = 0; b < DATA_SIZE; b++)
            pattern[b] = (uint8_t)rnd();
        classes[idx].fn(&k, &in);
        unsigned at = emit_case(&in, k.b, k.len);
        run_native(&nat);
        run_interp(&in, at, at + k.len, &emu);
        bool bad = nat.fault != emu.fault;
        if (!nat.fault && !bad) {
            for (int r = 0; r < 8; r++)
                if (r != R_ESP && ((nat.r[r] ^ emu.r[r]) & k.rmask[r]))
                    bad = true;
            uint32_t fm = (F_ARITH | F_DF) & ~k.undef;
            if ((nat.flags ^ emu.flags) & fm)
                bad = true;
            if (k.mem && memcmp(native_data, low + O_DATA, DATA_SIZE) != 0)
                bad = true;
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
            g_test_fail();
            break;
        }
    }
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
    for (unsigned i = 0; i < G_N_ELEMENTS(classes); i++) {
        char *path = g_strdup_printf("/x86/diff/%s", classes[i].name);
        g_test_add_data_func(path, GUINT_TO_POINTER(i), run_class);
        g_free(path);
    }
    int ret = g_test_run();
    x86_fini(&cpu);
    return ret;
}
