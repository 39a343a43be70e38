/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The translating engine: a decoded block (X86Block) becomes one x86-64
 * host function. See x86-jit.h for the contract with the run loop.
 *
 * Host register use inside a translated block: RBX holds the X86Cpu;
 * R12-R15, RBP, RSI and RDI cache the guest registers the block names
 * most (the caller-saved ones as well as the others: the cache is loaded
 * again after every handler call anyway); EAX, ECX, EDX, R8-R11 are
 * scratch. The cache is write-back: X86Cpu.r is brought up to date before
 * a handler call (a handler, a fault or a device sees the architectural
 * state) and where the block ends.
 *
 * Inline forms replicate the interpreter's fast handlers (x86-exec-fast.c)
 * operation for operation, lazy flags included (lf_res / lf_aux as
 * x86-cpu.h defines them); where a fast handler would fall back to its
 * generic one (segment checks, a TLB miss, a page crossing) the inline
 * code calls the fast handler itself, which makes the same decision.
 * Only what cannot fault is inline without a fallback: register
 * operations and the flag computations.
 *
 * Code buffer: one memfd mapped twice, read-write for the emitter and
 * read-execute for running, so no page is ever writable and executable
 * at once, and the guest cannot reach either view (they are not guest
 * RAM). A full buffer is flushed whole (a generation number retires
 * every translation; blocks translate again on demand).
 */
#include "x86-jit.h"
#include "x86-ops.h"
#include "x86-fast.h"

#if X86_HAVE_JIT
#include "x86-jit-emit.h"
#include <stddef.h>
#include <sys/mman.h>
#include <unistd.h>

struct X86Jit {
    int fd;
    uint8_t *rw, *rx;
    size_t used;
    uint32_t gen;
    uint8_t slow;           /* a fallback ran (lockstep cannot replay) */
    uint8_t engine;         /* the engine the translations were made for */
    X86JitLog log;
    X86JitStats st;
};

/* Bytes of the prologue (six pushes, sub rsp, mov rbx, rdi): a block chained
 * to is entered right after it, in the frame of the block the run loop
 * called. */
#define JIT_PROLOGUE 17

/* The most one block's code may take; a buffer with less room left is
 * flushed before translating. */
#define JIT_BLOCK_MAX (BLK_MAX * 512u + 256u)

#define OFF(f) ((int32_t)offsetof(X86Cpu, f))
#define OREG(k) (OFF(r) + 4 * (int32_t)(k))
#define OSEG(s, f) (OFF(seg) + (int32_t)((s) * sizeof(X86Seg) + offsetof(X86Seg, f)))

bool x86_jit_init(X86Cpu *c)
{
    if (c->jit)
        return true;
    int fd = memfd_create("tessera-x86-jit", MFD_CLOEXEC);
    if (fd < 0)
        return false;
    if (ftruncate(fd, X86_JIT_BUF) != 0) {
        close(fd);
        return false;
    }
    void *rw = mmap(NULL, X86_JIT_BUF, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (rw == MAP_FAILED) {
        close(fd);
        return false;
    }
    void *rx = mmap(NULL, X86_JIT_BUF, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    if (rx == MAP_FAILED) {
        munmap(rw, X86_JIT_BUF);
        close(fd);
        return false;
    }
    struct X86Jit *j = g_new0(struct X86Jit, 1);
    j->fd = fd;
    j->rw = rw;
    j->rx = rx;
    j->gen = 1;
    c->jit = j;
    return true;
}

void x86_jit_fini(X86Cpu *c)
{
    struct X86Jit *j = c->jit;
    if (!j)
        return;
    munmap(j->rw, X86_JIT_BUF);
    munmap(j->rx, X86_JIT_BUF);
    close(j->fd);
    g_free(j);
    c->jit = NULL;
}

void x86_jit_flush(X86Cpu *c)
{
    struct X86Jit *j = c->jit;
    if (!j)
        return;
    j->used = 0;
    if (++j->gen == 0)
        j->gen = 1;
    j->st.flushes++;
}

X86JitStats *x86_jit_stats(X86Cpu *c)
{
    return c->jit ? &c->jit->st : NULL;
}

/* ---- translation context --------------------------------------------------- */

typedef struct JCtx {
    JEm e;
    struct X86Jit *jit;
    X86Block *b;
    unsigned k;             /* index of the instruction being translated */
    bool last;
    bool pure;
    bool dead_flags;        /* a later instruction overwrites this one's flags */
    /* the flags are needed only where the next instruction, a memory
     * form that overwrites them all, takes its fallback (pend_ok); then
     * a logic operation leaves lf_res to that fallback: the host
     * register pend_res holds it (-1: none) */
    bool pend_ok;
    int8_t pend_res, pend_next;
    bool log;               /* log stores (lockstep mode) */
    bool chain;             /* may chain and loop (not in lockstep mode) */
    int8_t hreg[9];         /* host register caching guest register r, or -1 */
    uint8_t dirty;          /* cached guest registers newer than X86Cpu.r */
    uint8_t written;        /* every register dirty at some point */
    /* flag computations left for the block's end (defer_emit) */
    unsigned defer_from;    /* first instruction that may defer (b->n: none) */
    unsigned ndef;
    struct { uint8_t kind, reg; } defq[BLK_MAX];
    bool all_inline;        /* every instruction before this one is inline */
    bool looped;            /* the block runs again in place (j_self_jump) */
    bool chained;           /* the block's end chains (j_chain) */
    uint8_t flat;           /* segments taken as flat (j_host) */
    uint8_t flat_used;      /* of which an access used */
    bool seg_unsafe;        /* a handler call may have loaded a segment */
    bool any_call;          /* a handler call (fallbacks included) so far */
    uint8_t *body;          /* after the prologue and the cache load */
    unsigned entry_live;    /* flag parts the block's start may read (LV_*) */
} JCtx;

/* Guest registers cached in host registers within a block (write-back:
 * a write goes to the host register alone, and X86Cpu.r is brought up to
 * date where anything else may look at it: before a handler call (which
 * may fault, reach a device or change any register) and where the block
 * ends; the cache is loaded at the block's start and again after every
 * handler call). Inline fast paths never fault, so the state a fault
 * delivers is the interpreter's. */
static const uint8_t cache_host[7] = { H_R12, H_R13, H_R14, H_R15, H_BP, H_SI, H_DI };

static void g_reload(JCtx *j);
static void g_flush(JCtx *j, unsigned mask);
static void defer_emit(JCtx *j);

/* deferred flag computations (defer_emit) */
enum { DF_INC, DF_DEC, DF_ROL, DF_ROR };

static void defer_push(JCtx *j, unsigned kind, unsigned reg)
{
    j->defq[j->ndef].kind = (uint8_t)kind;
    j->defq[j->ndef].reg = (uint8_t)reg;
    j->ndef++;
}

/* Leave the block having run `count` instructions. */
static void j_exit(JCtx *j, unsigned count)
{
    JEm *e = &j->e;
    e_mov_ri(e, H_AX, count);
    e_alu_ri64(e, 0, H_SP, 8);
    e_pop(e, H_R15);
    e_pop(e, H_R14);
    e_pop(e, H_R13);
    e_pop(e, H_R12);
    e_pop(e, H_BP);
    e_pop(e, H_BX);
    e_b(e, 0xC3);
}

/* Run instruction i through handler fn, as exec_insns does: cur first,
 * and the end of the block when it called x86_break. */
static void j_call(JCtx *j, const X86Insn *i, X86Handler fn)
{
    JEm *e = &j->e;
    defer_emit(j);
    g_flush(j, j->dirty);
    j->any_call = true;
    e_mov_ri64(e, H_SI, (uint64_t)(uintptr_t)i);
    e_st64(e, H_SI, H_BX, OFF(cur));
    e_mov_rr64(e, H_DI, H_BX);
    e_call_abs(e, (const void *)fn);
    g_reload(j);
    if (!j->last) {
        e_mov_ri64(e, H_AX, (uint64_t)(uintptr_t)i);
        e_m(e, true, 0x39, H_AX, H_BX, OFF(stop_at));   /* cmp [stop_at], rax */
        uint8_t *go = e_jcc(e, HC_NE);
        j_exit(j, j->k + 1);
        e_patch(e, go);
    }
}

/* Fallback of an inline form: jumps collected while emitting the fast
 * path land on a call to the instruction's own handler. */
typedef struct JSlow {
    uint8_t *fix[12];
    unsigned n;
} JSlow;

static void slow_jcc(JCtx *j, JSlow *s, unsigned cc)
{
    uint8_t *at = e_jcc(&j->e, cc);
    if (s->n < G_N_ELEMENTS(s->fix))
        s->fix[s->n++] = at;
    else
        j->e.over = true;   /* never with the forms below */
}

/* End of a fast path: jump over the fallback, which calls the handler. */
static void slow_emit(JCtx *j, JSlow *s, const X86Insn *i)
{
    JEm *e = &j->e;
    uint8_t *done = e_jmp(e);
    for (unsigned k = 0; k < s->n; k++)
        e_patch(e, s->fix[k]);
    e_mov_ri64(e, H_AX, (uint64_t)(uintptr_t)&j->jit->slow);
    e_m(e, false, 0xC6, 0, H_AX, 0);    /* mov byte [rax], 1 */
    e_b(e, 1);
    /* Every register written so far: the fast path may have flushed some
     * (a partial register access) after the jumps here. The fast path's
     * dirty set stands at the join (after the call and its reload, memory
     * and cache agree). */
    uint8_t dirty = j->dirty;
    j->dirty = j->written;
    if (j->pend_res >= 0) {
        e_st32(e, (unsigned)j->pend_res, H_BX, OFF(lf_res));
        e_st_imm32(e, H_BX, OFF(lf_aux), 0);
    }
    j_call(j, i, i->fn);
    j->dirty = dirty;
    e_patch(e, done);
}

/* ---- operands -------------------------------------------------------------- */

static int32_t reg_off(unsigned r, unsigned size)
{
    if (size == 1)
        return r < 4 ? OREG(r) : OREG(r - 4) + 1;
    return OREG(r);
}
/* host h = guest register r (32 bits) */
static void g_ld32(JCtx *j, unsigned h, unsigned r)
{
    if (j->hreg[r] >= 0)
        e_mov_rr(&j->e, h, (unsigned)j->hreg[r]);
    else
        e_ld32(&j->e, h, H_BX, OREG(r));
}
/* the cached guest register r was written in its host register */
static void g_dirty(JCtx *j, unsigned r)
{
    j->dirty |= (uint8_t)(1u << r);
    j->written |= (uint8_t)(1u << r);
}
/* guest register r = host h (32 bits) */
static void g_st32(JCtx *j, unsigned h, unsigned r)
{
    if (j->hreg[r] >= 0) {
        e_mov_rr(&j->e, (unsigned)j->hreg[r], h);
        g_dirty(j, r);
    } else {
        e_st32(&j->e, h, H_BX, OREG(r));
    }
}
/* guest register r was written in memory: its cache follows */
static void g_sync(JCtx *j, unsigned r)
{
    if (j->hreg[r] >= 0)
        e_ld32(&j->e, (unsigned)j->hreg[r], H_BX, OREG(r));
}
static void g_reload(JCtx *j)
{
    for (unsigned r = 0; r < 8; r++)
        g_sync(j, r);
}
/* X86Cpu.r catches up with the cached registers in mask (the
 * translation's dirty set is the caller's to change) */
static void g_flush(JCtx *j, unsigned mask)
{
    for (unsigned r = 0; r < 8; r++)
        if ((mask & (1u << r)) && j->hreg[r] >= 0)
            e_st32(&j->e, (unsigned)j->hreg[r], H_BX, OREG(r));
}
/* before an access to part of guest register r in memory */
static void g_flush_one(JCtx *j, unsigned r)
{
    if (j->dirty & (1u << r)) {
        g_flush(j, 1u << r);
        j->dirty &= (uint8_t)~(1u << r);
    }
}
static void ld_reg(JCtx *j, unsigned size, unsigned h, unsigned r)
{
    if (size == 4) {
        g_ld32(j, h, r);
        return;
    }
    g_flush_one(j, size == 1 && r >= 4 ? r - 4 : r);
    e_ldz(&j->e, size, h, H_BX, reg_off(r, size));
}
static void st_reg(JCtx *j, unsigned size, unsigned h, unsigned r)
{
    if (size == 4) {
        g_st32(j, h, r);
        return;
    }
    unsigned full = size == 1 && r >= 4 ? r - 4 : r;
    g_flush_one(j, full);
    e_stn(&j->e, size, h, H_BX, reg_off(r, size));
    g_sync(j, full);
}

/* EAX = the effective address (x86_ea): one LEA of the cached
 * registers (its 32-bit result is the sum modulo 2^32, whatever the
 * registers' upper halves) */
static void j_ea(JCtx *j, const X86Insn *i)
{
    JEm *e = &j->e;
    int base = -1, index = -1;
    if (i->base != EA_NONE) {
        if (j->hreg[i->base] >= 0) {
            base = j->hreg[i->base];
        } else {
            e_ld32(e, H_AX, H_BX, OREG(i->base));
            base = H_AX;
        }
    }
    if (i->index != EA_NONE) {
        if (j->hreg[i->index] >= 0) {
            index = j->hreg[i->index];
        } else {
            e_ld32(e, H_CX, H_BX, OREG(i->index));
            index = H_CX;
        }
    }
    if (base < 0 && index < 0)
        e_mov_ri(e, H_AX, i->disp);
    else
        e_lea(e, H_AX, base, index, i->scale, (int32_t)i->disp);
    if (i->amask != 0xFFFFFFFFu)
        e_alu_ri(e, 4, H_AX, i->amask);
}

enum { ACC_RD, ACC_WR, ACC_RMW };

/* R10 = host address of seg:EAX for a size-byte access, as fast_host()
 * in x86-exec-fast.c decides it; anything else jumps to the fallback.
 * A segment the translation takes as flat (translate_pass: base 0, limit
 * 4 GiB, readable and writable, verified where the block starts) needs
 * no check; nothing between the start and an access before the first
 * handler call can load it. The TLB lookup: a page crossing changes the
 * page of the access's last byte, which then misses the tag.
 * Keeps EAX and R8/R9; clobbers ECX, EDX, R11. */
G_STATIC_ASSERT(sizeof(X86Tlb) == 32);
static void j_host(JCtx *j, JSlow *s, int seg, unsigned size, int acc)
{
    JEm *e = &j->e;
    unsigned lin = H_CX;
    if (!j->seg_unsafe && (j->flat & (1u << seg))) {
        j->flat_used |= (uint8_t)(1u << seg);
        lin = H_AX;
    } else {
        e_alu_rm(e, 7, H_AX, H_BX, OSEG(seg, lo));      /* off < lo */
        slow_jcc(j, s, HC_B);
        if (size == 1) {
            e_alu_rm(e, 7, H_AX, H_BX, OSEG(seg, hi));
            slow_jcc(j, s, HC_A);
        } else {                                        /* (u64)off + size - 1 > hi */
            e_mov_rr(e, H_CX, H_AX);
            e_alu_ri64(e, 0, H_CX, (int8_t)(size - 1));
            e_ld32(e, H_DX, H_BX, OSEG(seg, hi));
            e_alu_rr64(e, 7, H_CX, H_DX);
            slow_jcc(j, s, HC_A);
        }
        e_cmpb_mi(e, H_BX, acc == ACC_RD ? OSEG(seg, rd) : OSEG(seg, wr), 0);
        slow_jcc(j, s, HC_E);
        e_mov_rr(e, H_CX, H_AX);
        e_alu_rm(e, 0, H_CX, H_BX, OSEG(seg, base));    /* ECX = linear */
    }
    e_mov_rr(e, H_DX, lin);
    e_shift_ri(e, 5, H_DX, 12 - 5);
    e_alu_ri(e, 4, H_DX, (TLB_SIZE - 1) << 5);
    e_alu_rm64(e, 0, H_DX, H_BX, OFF(tlbc));            /* RDX = entry */
    e_lea(e, H_R11, (int)lin, -1, 0, (int32_t)size - 1);
    e_alu_ri(e, 4, H_R11, 0xFFFFF000u);
    int32_t tag = acc == ACC_RD ? (int32_t)offsetof(X86Tlb, rtag)
                : acc == ACC_WR ? (int32_t)offsetof(X86Tlb, wtag) : (int32_t)offsetof(X86Tlb, rwtag);
    e_alu_rm(e, 7, H_R11, H_DX, tag);
    slow_jcc(j, s, HC_NE);
    e_ld64(e, H_R10, H_DX, acc == ACC_RD ? (int32_t)offsetof(X86Tlb, radd)
                                         : (int32_t)offsetof(X86Tlb, wadd));
    e_alu_rr64(e, 0, H_R10, lin);
}

/* Lockstep mode: before an inline store of size bytes to [R10], enter
 * the address and the bytes it overwrites in the store log (lockstep
 * undoes the stores to replay the block on the interpreter, then compares
 * what each engine wrote). Clobbers ECX, R9, R11. */
static void j_log_store(JCtx *j, unsigned size)
{
    JEm *e = &j->e;
    if (!j->log)
        return;
    e_mov_ri64(e, H_R11, (uint64_t)(uintptr_t)&j->jit->log);
    e_ld32(e, H_CX, H_R11, (int32_t)offsetof(X86JitLog, n));
    e_alu_ri(e, 7, H_CX, X86_JIT_LOG_MAX);
    uint8_t *full = e_jcc(e, HC_AE);
    e_mov_rr(e, H_R9, H_CX);
    e_shift_ri(e, 4, H_R9, 4);
    e_alu_rr64(e, 0, H_R9, H_R11);                      /* R9 = &e[n] - offsetof(e) */
    e_alu_ri(e, 0, H_CX, 1);
    e_st32(e, H_CX, H_R11, (int32_t)offsetof(X86JitLog, n));
    int32_t at = (int32_t)offsetof(X86JitLog, e);
    e_st64(e, H_R10, H_R9, at + (int32_t)offsetof(X86JitStore, p));
    e_ldz(e, size, H_CX, H_R10, 0);
    e_st32(e, H_CX, H_R9, at + (int32_t)offsetof(X86JitStore, old));
    e_st_imm32(e, H_R9, at + (int32_t)offsetof(X86JitStore, size), size);
    e_patch(e, full);
}

/* ---- lazy flags ---------------------------------------------------------------- */

/* lf_res = sext(EDX) */
static void f_res(JCtx *j, unsigned size)
{
    JEm *e = &j->e;
    if (j->dead_flags)
        return;
    if (size < 4) {
        e_movsx(e, size, H_R8, H_DX);
        e_st32(e, H_R8, H_BX, OFF(lf_res));
    } else {
        e_st32(e, H_DX, H_BX, OFF(lf_res));
    }
}
/* lf_aux = lf_carries(R8D, size) */
static void f_carries(JCtx *j, unsigned size)
{
    JEm *e = &j->e;
    if (size == 4) {
        e_alu_ri(e, 4, H_R8, LF_CF | LF_PO | LF_AF);
    } else {
        e_mov_rr(e, H_R9, H_R8);
        e_shift_ri(e, 4, H_R9, (uint8_t)(32 - 8 * size));
        e_alu_ri(e, 4, H_R9, LF_CF | LF_PO);
        e_alu_ri(e, 4, H_R8, LF_AF);
        e_alu_rr(e, 1, H_R8, H_R9);
    }
    e_st32(e, H_R8, H_BX, OFF(lf_aux));
}
/* a = EAX, b = ECX, r = EDX: lf_add / lf_sub / lf_logic */
static void f_add(JCtx *j, unsigned size)
{
    JEm *e = &j->e;
    if (j->dead_flags)
        return;
    f_res(j, size);
    e_mov_rr(e, H_R8, H_AX);
    e_alu_rr(e, 1, H_R8, H_CX);         /* a | b */
    e_mov_rr(e, H_R9, H_DX);
    e_not(e, H_R9);
    e_alu_rr(e, 4, H_R8, H_R9);         /* & ~r */
    e_mov_rr(e, H_R9, H_AX);
    e_alu_rr(e, 4, H_R9, H_CX);
    e_alu_rr(e, 1, H_R8, H_R9);         /* | a & b */
    f_carries(j, size);
}
static void f_sub(JCtx *j, unsigned size)
{
    JEm *e = &j->e;
    if (j->dead_flags)
        return;
    f_res(j, size);
    e_mov_rr(e, H_R8, H_AX);
    e_not(e, H_R8);
    e_alu_rr(e, 4, H_R8, H_CX);         /* ~a & b */
    e_mov_rr(e, H_R9, H_AX);
    e_alu_rr(e, 6, H_R9, H_CX);
    e_not(e, H_R9);
    e_alu_rr(e, 4, H_R9, H_DX);         /* ~(a ^ b) & r */
    e_alu_rr(e, 1, H_R8, H_R9);
    f_carries(j, size);
}
static void f_logic(JCtx *j, unsigned size)
{
    if (j->dead_flags)
        return;
    f_res(j, size);
    e_st_imm32(&j->e, H_BX, OFF(lf_aux), 0);
}

/* EDX = EAX op ECX with flags (alu_op in x86-exec-fast.c) */
static void j_alu_core(JCtx *j, unsigned op, unsigned size)
{
    JEm *e = &j->e;
    switch (op) {
    case 0: case 1: case 4: case 6:
        e_mov_rr(e, H_DX, H_AX);
        e_alu_rr(e, op, H_DX, H_CX);
        if (op == 0)
            f_add(j, size);
        else
            f_logic(j, size);
        break;
    case 2:                             /* ADC: a + b + CF */
        e_ld32(e, H_DX, H_BX, OFF(lf_aux));
        e_shift_ri(e, 5, H_DX, 31);
        e_alu_rr(e, 0, H_DX, H_AX);
        e_alu_rr(e, 0, H_DX, H_CX);
        f_add(j, size);
        break;
    case 3:                             /* SBB: a - b - CF */
        e_ld32(e, H_R8, H_BX, OFF(lf_aux));
        e_shift_ri(e, 5, H_R8, 31);
        e_mov_rr(e, H_DX, H_AX);
        e_alu_rr(e, 5, H_DX, H_CX);
        e_alu_rr(e, 5, H_DX, H_R8);
        f_sub(j, size);
        break;
    default:                            /* SUB, CMP */
        e_mov_rr(e, H_DX, H_AX);
        e_alu_rr(e, 5, H_DX, H_CX);
        f_sub(j, size);
        break;
    }
}

/* ---- control transfers (the last instruction of a block) ------------------------ */

/* EAX = x86_cond(c, cc) for cc >> 1 = kind */
static void j_cond(JCtx *j, unsigned kind)
{
    JEm *e = &j->e;
    switch (kind) {
    case 0:                                             /* O: CF ^ PO */
        e_ld32(e, H_AX, H_BX, OFF(lf_aux));
        e_shift_ri(e, 5, H_AX, 30);
        e_mov_rr(e, H_DX, H_AX);
        e_shift_ri(e, 5, H_DX, 1);
        e_alu_rr(e, 6, H_AX, H_DX);
        e_alu_ri(e, 4, H_AX, 1);
        break;
    case 1:                                             /* B */
        e_ld32(e, H_AX, H_BX, OFF(lf_aux));
        e_shift_ri(e, 5, H_AX, 31);
        break;
    case 2:                                             /* Z */
        e_alu_mi(e, 7, H_BX, OFF(lf_res), 0);
        e_setcc(e, HC_E, H_AX);
        break;
    case 3:                                             /* BE */
        e_alu_mi(e, 7, H_BX, OFF(lf_res), 0);
        e_setcc(e, HC_E, H_DX);
        e_ld32(e, H_AX, H_BX, OFF(lf_aux));
        e_shift_ri(e, 5, H_AX, 31);
        e_alu_rr(e, 1, H_AX, H_DX);
        break;
    case 4:                                             /* S */
        e_ld32(e, H_AX, H_BX, OFF(lf_res));
        e_shift_ri(e, 5, H_AX, 31);
        e_alu_rm(e, 6, H_AX, H_BX, OFF(lf_aux));
        e_alu_ri(e, 4, H_AX, 1);
        break;
    case 5:                                             /* P: even parity of the low byte */
        e_ld32(e, H_AX, H_BX, OFF(lf_aux));
        e_shift_ri(e, 5, H_AX, 8);
        e_alu_rm(e, 6, H_AX, H_BX, OFF(lf_res));
        e_r(e, false, 0x84, H_AX, H_AX);                /* test al, al */
        e_setcc(e, HC_P, H_AX);
        break;
    default:                                            /* L, LE */
        e_ld32(e, H_AX, H_BX, OFF(lf_res));
        e_shift_ri(e, 5, H_AX, 31);
        e_ld32(e, H_CX, H_BX, OFF(lf_aux));
        e_alu_rr(e, 6, H_AX, H_CX);
        e_mov_rr(e, H_DX, H_CX);
        e_shift_ri(e, 5, H_DX, 31);
        e_alu_rr(e, 6, H_AX, H_DX);
        e_shift_ri(e, 5, H_CX, 30);
        e_alu_rr(e, 6, H_AX, H_CX);
        e_alu_ri(e, 4, H_AX, 1);
        if (kind == 7) {
            e_alu_mi(e, 7, H_BX, OFF(lf_res), 0);
            e_setcc(e, HC_E, H_DX);
            e_alu_rr(e, 1, H_AX, H_DX);
        }
        break;
    }
}

/* next_eip += imm (x86_jump_near): the CS limit check falls back to the
 * handler, which raises #GP. */
static void j_jump_rel(JCtx *j, const X86Insn *i)
{
    JEm *e = &j->e;
    JSlow s = { .n = 0 };
    e_ld32(e, H_AX, H_BX, OFF(next_eip));
    e_alu_ri(e, 0, H_AX, i->imm);
    if (!i->o32)
        e_alu_ri(e, 4, H_AX, 0xFFFF);
    e_alu_rm(e, 7, H_AX, H_BX, OSEG(S_CS, limit));
    slow_jcc(j, &s, HC_A);
    e_st32(e, H_AX, H_BX, OFF(next_eip));
    slow_emit(j, &s, i);
}

/* A relative jump, the block's last instruction, to the block's own
 * start (whatever EIP the block runs at: next_eip = EIP + bytes), in a
 * block of inline forms. The start passed the CS limit check when the
 * block was looked up, and nothing in such a block changes CS. */
static bool is_self_jump(const JCtx *j, const X86Insn *i)
{
    uint32_t mask = i->o32 ? 0xFFFFFFFFu : 0xFFFFu;
    /* (a 16-bit jump in 32-bit code wraps to 16 bits: not to the start) */
    return j->chain && j->all_inline && j->last && !i->lock
        && (i->o32 || !j->b->code32) && ((i->imm + j->b->bytes) & mask) == 0;
}

/* The taken self jump runs the block again in place, under the very
 * conditions the run loop would run it again: nothing asked the CPU to
 * stop (brk: interrupts, device deadlines, code writes, mode changes; the
 * stop flag) and the next run fits under the instruction limit. The run
 * loop's bookkeeping for the run that just ended is done here (EIP and
 * next_eip do not move); otherwise next_eip = EIP and the block ends as
 * any other, the run loop doing the last run's bookkeeping. Registers
 * stay in their host registers; the deferred flags are not computed when
 * the block's start overwrites them before anything reads them. */
static void j_self_jump(JCtx *j)
{
    JEm *e = &j->e;
    JSlow out = { .n = 0 };
    X86Block *b = j->b;
    e_alu_mi(e, 7, H_BX, OFF(brk), 0);
    slow_jcc(j, &out, HC_NE);
    e_ld64(e, H_AX, H_BX, OFF(stop));
    e_alu_mi(e, 7, H_AX, 0, 0);
    slow_jcc(j, &out, HC_NE);
    e_ld64(e, H_DX, H_BX, OFF(icount));
    e_alu_ri64(e, 0, H_DX, (int8_t)b->n);               /* this run retired */
    e_m(e, true, 0x8D, H_CX, H_DX, b->n);               /* lea rcx, [rdx + n]: the next one's end */
    e_ld64(e, H_AX, H_BX, OFF(limitp));
    e_alu_rm64(e, 7, H_CX, H_AX, 0);
    slow_jcc(j, &out, HC_A);
    e_st64(e, H_DX, H_BX, OFF(icount));
    if (j->any_call) {
        e_m(e, true, 0xC7, 0, H_BX, OFF(cur));          /* cur = NULL */
        e_d(e, 0);
    }
    if (j->entry_live)
        defer_emit(j);
    e_b(e, 0xE9);                                       /* jmp body */
    int32_t rel = (int32_t)(j->body - (e->p + 4));
    e_d(e, (uint32_t)rel);
    for (unsigned k = 0; k < out.n; k++)
        e_patch(e, out.fix[k]);
    e_ld32(e, H_AX, H_BX, OFF(eip));
    e_st32(e, H_AX, H_BX, OFF(next_eip));
    j->looped = true;
}

/* ---- the inline forms ------------------------------------------------------------- */

static int find(X86Handler fn, const X86Handler *tab, unsigned n)
{
    for (unsigned k = 0; k < n; k++)
        if (tab[k] == fn)
            return (int)k;
    return -1;
}

static const unsigned size_of[3] = { 1, 2, 4 };

/* A 32-bit register ALU form on a cached destination, done in its host
 * register: where the flags are dead, or for the logic operations, whose
 * flags are the result alone. False: take the general form. */
static bool j_alu_cached(JCtx *j, const X86Insn *i, unsigned op, unsigned form)
{
    JEm *e = &j->e;
    bool logic = op == 1 || op == 4 || op == 6;
    if (j->hreg[i->rm] < 0 || op == 2 || op == 3 || !(j->dead_flags || logic))
        return false;
    if (op == 7)
        return true;                    /* CMP with dead flags: nothing */
    unsigned d = (unsigned)j->hreg[i->rm];
    if (form == FF_RI) {
        e_alu_ri(e, op, d, i->imm);
    } else if (j->hreg[i->reg] >= 0) {
        e_alu_rr(e, op, d, (unsigned)j->hreg[i->reg]);
    } else {
        e_ld32(e, H_CX, H_BX, OREG(i->reg));
        e_alu_rr(e, op, d, H_CX);
    }
    g_dirty(j, i->rm);
    if (!j->dead_flags && j->pend_ok) {
        j->pend_next = (int8_t)d;
    } else if (!j->dead_flags) {
        e_st32(e, d, H_BX, OFF(lf_res));
        e_st_imm32(e, H_BX, OFF(lf_aux), 0);
    }
    return true;
}

static bool j_alu(JCtx *j, const X86Insn *i, int idx)
{
    JEm *e = &j->e;
    unsigned op = (unsigned)idx / 15, size = size_of[(idx / 5) % 3], form = (unsigned)idx % 5;
    JSlow s = { .n = 0 };
    if (size == 4 && (form == FF_RR || form == FF_RI) && j_alu_cached(j, i, op, form))
        return true;
    switch (form) {
    case FF_RR:
        ld_reg(j, size, H_AX, i->rm);
        ld_reg(j, size, H_CX, i->reg);
        j_alu_core(j, op, size);
        if (op != 7)
            st_reg(j, size, H_DX, i->rm);
        return true;
    case FF_RI:
        ld_reg(j, size, H_AX, i->rm);
        e_mov_ri(e, H_CX, i->imm);
        j_alu_core(j, op, size);
        if (op != 7)
            st_reg(j, size, H_DX, i->rm);
        return true;
    case FF_RM:
        j_ea(j, i);
        j_host(j, &s, i->seg, size, ACC_RD);
        ld_reg(j, size, H_AX, i->reg);
        e_ldz(e, size, H_CX, H_R10, 0);
        j_alu_core(j, op, size);
        if (op != 7)
            st_reg(j, size, H_DX, i->reg);
        slow_emit(j, &s, i);
        return true;
    default:                            /* FF_MR, FF_MI */
        j_ea(j, i);
        j_host(j, &s, i->seg, size, op == 7 ? ACC_RD : ACC_RMW);
        if (j->dead_flags && size == 4 && !j->log && op != 2 && op != 3) {
            /* the host instruction on the guest's memory */
            if (op != 7) {
                if (form == FF_MI) {
                    e_alu_mi(e, op, H_R10, 0, i->imm);
                } else if (j->hreg[i->reg] >= 0) {
                    e_m(e, false, op * 8 + 1, (unsigned)j->hreg[i->reg], H_R10, 0);
                } else {
                    e_ld32(e, H_CX, H_BX, OREG(i->reg));
                    e_m(e, false, op * 8 + 1, H_CX, H_R10, 0);
                }
                j->pure = false;
            }
            slow_emit(j, &s, i);
            return true;
        }
        e_ldz(e, size, H_AX, H_R10, 0);
        if (form == FF_MR)
            ld_reg(j, size, H_CX, i->reg);
        else
            e_mov_ri(e, H_CX, i->imm);
        j_alu_core(j, op, size);
        if (op != 7) {
            j_log_store(j, size);
            e_stn(e, size, H_DX, H_R10, 0);
            j->pure &= j->log;
        }
        slow_emit(j, &s, i);
        return true;
    }
}

static bool j_test(JCtx *j, const X86Insn *i, int idx)
{
    JEm *e = &j->e;
    unsigned size = size_of[idx / 5], form = (unsigned)idx % 5;
    JSlow s = { .n = 0 };
    if (form == FF_RR || form == FF_RI) {
        ld_reg(j, size, H_DX, i->rm);
        if (form == FF_RR)
            ld_reg(j, size, H_CX, i->reg);
        else
            e_mov_ri(e, H_CX, i->imm);
        e_alu_rr(e, 4, H_DX, H_CX);
        f_logic(j, size);
        return true;
    }
    j_ea(j, i);
    j_host(j, &s, i->seg, size, ACC_RD);
    e_ldz(e, size, H_DX, H_R10, 0);
    if (form == FF_MR)
        ld_reg(j, size, H_CX, i->reg);
    else
        e_mov_ri(e, H_CX, i->imm);
    e_alu_rr(e, 4, H_DX, H_CX);
    f_logic(j, size);
    slow_emit(j, &s, i);
    return true;
}

static bool j_mov(JCtx *j, const X86Insn *i, int idx)
{
    JEm *e = &j->e;
    unsigned size = size_of[idx / 5], form = (unsigned)idx % 5;
    JSlow s = { .n = 0 };
    if (size == 4 && (form == FF_RR || form == FF_RI) && j->hreg[i->rm] >= 0) {
        unsigned d = (unsigned)j->hreg[i->rm];
        if (form == FF_RI)
            e_mov_ri(e, d, i->imm);
        else
            g_ld32(j, d, i->reg);
        g_dirty(j, i->rm);
        return true;
    }
    switch (form) {
    case FF_RR:
        ld_reg(j, size, H_AX, i->reg);
        st_reg(j, size, H_AX, i->rm);
        return true;
    case FF_RI:
        e_mov_ri(e, H_AX, i->imm);
        st_reg(j, size, H_AX, i->rm);
        return true;
    case FF_RM:
        j_ea(j, i);
        j_host(j, &s, i->seg, size, ACC_RD);
        e_ldz(e, size, H_AX, H_R10, 0);
        st_reg(j, size, H_AX, i->reg);
        break;
    case FF_MR:
        j_ea(j, i);
        j_host(j, &s, i->seg, size, ACC_WR);
        j_log_store(j, size);
        ld_reg(j, size, H_DX, i->reg);
        e_stn(e, size, H_DX, H_R10, 0);
        j->pure &= j->log;
        break;
    default:
        j_ea(j, i);
        j_host(j, &s, i->seg, size, ACC_WR);
        j_log_store(j, size);
        e_mov_ri(e, H_DX, i->imm);
        e_stn(e, size, H_DX, H_R10, 0);
        j->pure &= j->log;
        break;
    }
    slow_emit(j, &s, i);
    return true;
}

/* MOVZX / MOVSX: [sx][dst32][src16][mem] */
static bool j_movx(JCtx *j, const X86Insn *i, int idx)
{
    JEm *e = &j->e;
    bool sx = idx & 8, mem = idx & 1;
    unsigned dsz = (idx & 4) ? 4 : 2, ssz = (idx & 2) ? 2 : 1;
    JSlow s = { .n = 0 };
    if (mem) {
        j_ea(j, i);
        j_host(j, &s, i->seg, ssz, ACC_RD);
        e_ldz(e, ssz, H_AX, H_R10, 0);
    } else {
        ld_reg(j, ssz, H_AX, i->rm);
    }
    if (sx)
        e_movsx(e, ssz, H_AX, H_AX);
    st_reg(j, dsz, H_AX, i->reg);
    if (mem)
        slow_emit(j, &s, i);
    return true;
}

/* The flags of ROL (op 0) / ROR (1) r32 for the result in EDX: CF and OF
 * only; clobbers ECX, R8. */
static void f_rot(JCtx *j, unsigned op)
{
    JEm *e = &j->e;
    if (op == 0) {                      /* CF = r bit 0, CF ^ OF = r bit 31 */
        e_mov_rr(e, H_CX, H_DX);
        e_shift_ri(e, 4, H_CX, 31);
        e_mov_rr(e, H_R8, H_DX);
        e_shift_ri(e, 5, H_R8, 31);
        e_shift_ri(e, 4, H_R8, 30);
        e_alu_rr(e, 1, H_CX, H_R8);
    } else {                            /* CF = r bit 31, CF ^ OF = r bit 30 */
        e_mov_rr(e, H_CX, H_DX);
        e_alu_ri(e, 4, H_CX, LF_CF | LF_PO);
    }
    e_ld32(e, H_R8, H_BX, OFF(lf_aux));
    e_alu_ri(e, 4, H_R8, ~(LF_CF | LF_PO));
    e_alu_rr(e, 1, H_CX, H_R8);
    e_st32(e, H_CX, H_BX, OFF(lf_aux));
}

/* 32-bit shifts and rotates of a register by an immediate (shift_fast) */
static bool j_shift32(JCtx *j, const X86Insn *i, unsigned op)
{
    JEm *e = &j->e;
    unsigned cnt = i->imm & 0x1F;
    if (op == 2 || op == 3)
        return false;                   /* RCL, RCR */
    if (cnt == 0)
        return true;                    /* nothing changes, flags included */
    bool defer = !j->dead_flags && op < 2 && j->k >= j->defer_from;
    if ((j->dead_flags || defer) && j->hreg[i->rm] >= 0) {
        unsigned d = (unsigned)j->hreg[i->rm];
        e_shift_ri(e, op == 6 ? 4 : op, d, (uint8_t)cnt);
        g_dirty(j, i->rm);
        if (defer)
            defer_push(j, op == 0 ? DF_ROL : DF_ROR, i->rm);
        return true;
    }
    g_ld32(j, H_AX, i->rm);
    e_mov_rr(e, H_DX, H_AX);
    e_shift_ri(e, op == 6 ? 4 : op, H_DX, (uint8_t)cnt);
    g_st32(j, H_DX, i->rm);
    if (j->dead_flags)
        return true;
    if (defer) {
        defer_push(j, op == 0 ? DF_ROL : DF_ROR, i->rm);
        return true;
    }
    switch (op) {
    case 0: case 1:                     /* ROL, ROR: CF and OF only */
        f_rot(j, op);
        return true;
    case 4: case 6:                     /* SHL: CF = a bit 32-cnt, CF ^ OF = r bit 31 */
        e_st32(e, H_DX, H_BX, OFF(lf_res));
        e_mov_rr(e, H_CX, H_AX);
        e_shift_ri(e, 5, H_CX, (uint8_t)(32 - cnt));
        e_shift_ri(e, 4, H_CX, 31);
        e_mov_rr(e, H_R8, H_DX);
        e_shift_ri(e, 5, H_R8, 1);
        e_alu_ri(e, 4, H_R8, LF_PO);
        e_alu_rr(e, 1, H_CX, H_R8);
        e_st32(e, H_CX, H_BX, OFF(lf_aux));
        return true;
    case 5:                             /* SHR: CF = a bit cnt-1, OF = a bit 31 */
        e_st32(e, H_DX, H_BX, OFF(lf_res));
        e_mov_rr(e, H_CX, H_AX);
        if (cnt > 1)
            e_shift_ri(e, 5, H_CX, (uint8_t)(cnt - 1));
        e_alu_ri(e, 4, H_CX, 1);
        e_mov_rr(e, H_R8, H_AX);
        e_shift_ri(e, 5, H_R8, 31);
        e_alu_rr(e, 6, H_R8, H_CX);
        e_shift_ri(e, 4, H_R8, 30);
        e_shift_ri(e, 4, H_CX, 31);
        e_alu_rr(e, 1, H_CX, H_R8);
        e_st32(e, H_CX, H_BX, OFF(lf_aux));
        return true;
    default:                            /* SAR: CF = a bit cnt-1, OF = 0 */
        e_st32(e, H_DX, H_BX, OFF(lf_res));
        e_mov_rr(e, H_CX, H_AX);
        if (cnt > 1)
            e_shift_ri(e, 5, H_CX, (uint8_t)(cnt - 1));
        e_alu_ri(e, 4, H_CX, 1);
        e_mov_rr(e, H_R8, H_CX);
        e_shift_ri(e, 4, H_CX, 31);
        e_shift_ri(e, 4, H_R8, 30);
        e_alu_rr(e, 1, H_CX, H_R8);
        e_st32(e, H_CX, H_BX, OFF(lf_aux));
        return true;
    }
}

/* The flags of INC / DEC (lf_incdec: CF kept) for the result in EDX;
 * clobbers EAX, ECX, R8, R9. */
static void f_incdec(JCtx *j, bool dec)
{
    JEm *e = &j->e;
    e_st32(e, H_DX, H_BX, OFF(lf_res));
    e_ld32(e, H_R8, H_BX, OFF(lf_aux));
    e_alu_ri(e, 4, H_R8, LF_CF);
    e_mov_rr(e, H_R9, H_R8);
    e_shift_ri(e, 5, H_R9, 1);
    e_alu_rr(e, 1, H_R8, H_R9);                     /* cf | cf >> 1 */
    e_alu_ri(e, 7, H_DX, dec ? 0x7FFFFFFFu : 0x80000000u);
    e_setcc(e, HC_E, H_AX);
    e_shift_ri(e, 4, H_AX, 30);
    e_alu_rr(e, 6, H_R8, H_AX);                     /* ^ of << 30 */
    e_mov_rr(e, H_CX, H_DX);
    e_alu_ri(e, 4, H_CX, 0xF);
    e_alu_ri(e, 7, H_CX, dec ? 0xF : 0);
    e_setcc(e, HC_E, H_AX);
    e_shift_ri(e, 4, H_AX, 3);
    e_alu_rr(e, 1, H_R8, H_AX);                     /* | af << 3 */
    e_st32(e, H_R8, H_BX, OFF(lf_aux));
}

/* Deferred flags. A block that ends with INC / DEC r32 and JZ / JNZ,
 * the INC / DEC perhaps after other INC / DEC r32 and ROL / ROR r32, imm
 * (the run defer_run finds), leaves the flag computations of that run to
 * where the block ends, or to before a fallback calls a handler, in
 * their order: each flag result follows from the instruction's result
 * alone, still in its register, as nothing later in the run writes that
 * register. The JZ / JNZ tests the register of the INC / DEC, and a block
 * that runs again in place, whose start overwrites the flags before it
 * reads them, never computes them. */

/* the register an instruction of a deferrable run writes, or -1 */
static int defer_reg_of(const X86Insn *i)
{
    if (i->lock)
        return -1;
    if (i->fn == h_inc32_r || i->fn == h_dec32_r)
        return i->reg;
    if ((i->fn == x86_fast_shift[0][2][0] || i->fn == x86_fast_shift[1][2][0]) && (i->imm & 0x1F))
        return i->rm;
    return -1;
}

static unsigned defer_run(const X86Block *b)
{
    unsigned n = b->n;
    if (n < 2)
        return n;
    const X86Insn *t = &b->ins[n - 1], *d = &b->ins[n - 2];
    int idx = -1;
    for (unsigned k = 0; k < 16; k++)
        if (t->fn == x86_fast_jcc[k])
            idx = (int)k;
    if (t->lock || (idx >> 1) != 2 || d->lock || (d->fn != h_inc32_r && d->fn != h_dec32_r))
        return n;
    unsigned from = n - 2;
    while (from > 0) {
        int r = defer_reg_of(&b->ins[from - 1]);
        if (r < 0)
            break;
        for (unsigned k = from; k < n - 1; k++)
            if (defer_reg_of(&b->ins[k]) == r)
                r = -1;
        if (r < 0)
            break;
        from--;
    }
    return from;
}


static void f_rot(JCtx *j, unsigned op);

static void defer_emit(JCtx *j)
{
    for (unsigned k = 0; k < j->ndef; k++) {
        g_ld32(j, H_DX, j->defq[k].reg);
        if (j->defq[k].kind <= DF_DEC)
            f_incdec(j, j->defq[k].kind == DF_DEC);
        else
            f_rot(j, j->defq[k].kind == DF_ROL ? 0 : 1);
    }
}

/* INC / DEC r32 */
static void j_incdec32(JCtx *j, const X86Insn *i, bool dec)
{
    JEm *e = &j->e;
    if (j->hreg[i->reg] >= 0) {
        e_alu_ri(e, dec ? 5 : 0, (unsigned)j->hreg[i->reg], 1);
        g_dirty(j, i->reg);
    } else {
        g_ld32(j, H_DX, i->reg);
        e_alu_ri(e, dec ? 5 : 0, H_DX, 1);
        g_st32(j, H_DX, i->reg);
    }
    if (j->dead_flags)
        return;
    if (j->k >= j->defer_from) {
        defer_push(j, dec ? DF_DEC : DF_INC, i->reg);
        return;
    }
    g_ld32(j, H_DX, i->reg);
    f_incdec(j, dec);
}

/* lf_res_cf_of(r = EAX, cf = of = ovf) after a host IMUL */
static void j_imul_flags(JCtx *j, const X86Insn *i)
{
    JEm *e = &j->e;
    if (j->dead_flags) {
        g_st32(j, H_AX, i->reg);
        return;
    }
    e_setcc(e, HC_O, H_CX);
    g_st32(j, H_AX, i->reg);
    e_st32(e, H_AX, H_BX, OFF(lf_res));
    e_shift_ri(e, 4, H_CX, 31);
    e_st32(e, H_CX, H_BX, OFF(lf_aux));
}

static bool j_stack(JCtx *j, const X86Insn *i, X86Handler fn)
{
    JEm *e = &j->e;
    JSlow s = { .n = 0 };
    if (fn == h_call32_rel) {
        e_ld32(e, H_R8, H_BX, OFF(next_eip));
        e_alu_ri(e, 0, H_R8, i->imm);
        e_alu_rm(e, 7, H_R8, H_BX, OSEG(S_CS, limit));
        slow_jcc(j, &s, HC_A);
    }
    e_cmpb_mi(e, H_BX, OFF(ss32), 0);
    slow_jcc(j, &s, HC_E);
    g_ld32(j, H_AX, R_ESP);
    if (fn == h_push32_r || fn == h_call32_rel) {
        e_alu_ri(e, 5, H_AX, 4);
        j_host(j, &s, S_SS, 4, ACC_WR);
        j_log_store(j, 4);
        if (fn == h_push32_r)
            g_ld32(j, H_DX, i->reg);
        else
            e_ld32(e, H_DX, H_BX, OFF(next_eip));
        e_st32(e, H_DX, H_R10, 0);
        g_st32(j, H_AX, R_ESP);
        if (fn == h_call32_rel)
            e_st32(e, H_R8, H_BX, OFF(next_eip));
        j->pure &= j->log;
    } else {
        j_host(j, &s, S_SS, 4, ACC_RD);
        e_ld32(e, H_DX, H_R10, 0);
        if (fn == h_ret32) {
            e_alu_rm(e, 7, H_DX, H_BX, OSEG(S_CS, limit));
            slow_jcc(j, &s, HC_A);
        }
        e_alu_ri(e, 0, H_AX, 4);
        g_st32(j, H_AX, R_ESP);
        if (fn == h_ret32)
            e_st32(e, H_DX, H_BX, OFF(next_eip));
        else
            g_st32(j, H_DX, i->reg);
    }
    slow_emit(j, &s, i);
    return true;
}

/* Translate i inline, or return false (then it becomes a handler call). */
static bool j_inline(JCtx *j, const X86Insn *i)
{
    JEm *e = &j->e;
    X86Handler fn = i->fn;
    int idx;
    if ((idx = find(fn, &x86_fast_alu[0][0][0], 8 * 3 * 5)) >= 0)
        return j_alu(j, i, idx);
    if ((idx = find(fn, &x86_fast_mov[0][0], 3 * 5)) >= 0)
        return j_mov(j, i, idx);
    if ((idx = find(fn, &x86_fast_test[0][0], 3 * 5)) >= 0)
        return j_test(j, i, idx);
    if ((idx = find(fn, &x86_fast_jcc[0], 16)) >= 0) {
        uint8_t *skip;
        if (j->ndef) {                  /* ZF = the INC / DEC result is 0 */
            unsigned r = j->defq[j->ndef - 1].reg;
            if (j->hreg[r] >= 0)
                e_test_rr(e, (unsigned)j->hreg[r], (unsigned)j->hreg[r]);
            else
                e_alu_mi(e, 7, H_BX, OREG(r), 0);
            skip = e_jcc(e, (idx & 1) ? HC_E : HC_NE);
        } else {
            j_cond(j, (unsigned)idx >> 1);
            e_test_rr(e, H_AX, H_AX);
            skip = e_jcc(e, (idx & 1) ? HC_NE : HC_E);
        }
        if (is_self_jump(j, i))
            j_self_jump(j);
        else
            j_jump_rel(j, i);
        e_patch(e, skip);
        return true;
    }
    if ((idx = find(fn, &x86_fast_movx[0][0][0][0], 16)) >= 0)
        return j_movx(j, i, idx);
    for (unsigned op = 0; op < 8; op++)
        if (fn == x86_fast_shift[op][2][0])
            return j_shift32(j, i, op);
    if (fn == h_jmp_rel) {
        if (is_self_jump(j, i))
            j_self_jump(j);
        else
            j_jump_rel(j, i);
        return true;
    }
    if (fn == h_loop32) {
        /* ECX changes only with the jump's limit check passed: the
         * fallback runs the whole instruction again */
        JSlow s = { .n = 0 };
        g_ld32(j, H_AX, R_ECX);
        e_alu_ri(e, 5, H_AX, 1);
        uint8_t *nz = e_jcc(e, HC_NE);
        g_st32(j, H_AX, R_ECX);
        uint8_t *out = e_jmp(e);
        e_patch(e, nz);
        e_ld32(e, H_DX, H_BX, OFF(next_eip));
        e_alu_ri(e, 0, H_DX, i->imm);
        if (!i->o32)
            e_alu_ri(e, 4, H_DX, 0xFFFF);
        e_alu_rm(e, 7, H_DX, H_BX, OSEG(S_CS, limit));
        slow_jcc(j, &s, HC_A);
        g_st32(j, H_AX, R_ECX);
        e_st32(e, H_DX, H_BX, OFF(next_eip));
        slow_emit(j, &s, i);
        e_patch(e, out);
        return true;
    }
    if (fn == h_lea32) {
        j_ea(j, i);
        g_st32(j, H_AX, i->reg);
        return true;
    }
    if (fn == h_inc32_r || fn == h_dec32_r) {
        j_incdec32(j, i, fn == h_dec32_r);
        return true;
    }
    if (fn == h_imul32_GEI_r && j->dead_flags && j->hreg[i->reg] >= 0) {
        unsigned d = (unsigned)j->hreg[i->reg];
        if (j->hreg[i->rm] >= 0)
            e_imul_rri(e, d, (unsigned)j->hreg[i->rm], i->imm);
        else {
            e_m(e, false, 0x69, d, H_BX, OREG(i->rm));
            e_d(e, i->imm);
        }
        g_dirty(j, i->reg);
        return true;
    }
    if (fn == h_imul32_GEI_r) {
        g_ld32(j, H_AX, i->rm);
        e_imul_rri(e, H_AX, H_AX, i->imm);
        j_imul_flags(j, i);
        return true;
    }
    if (fn == h_imul32_GE_r) {
        g_ld32(j, H_AX, i->reg);
        if (j->hreg[i->rm] >= 0)
            e_imul_rr(e, H_AX, (unsigned)j->hreg[i->rm]);
        else
            e_m(e, false, 0x0FAF, H_AX, H_BX, OREG(i->rm));
        j_imul_flags(j, i);
        return true;
    }
    if (fn == h_push32_r || fn == h_pop32_r || fn == h_call32_rel || fn == h_ret32)
        return j_stack(j, i, fn);
    if (fn == h_nop)
        return true;
    return false;
}

/* ---- flag liveness ---------------------------------------------------------------- */

/* Flag liveness, by the parts of the lazy representation (x86-cpu.h):
 * lf_res, the CF / PO bits of lf_aux (CF, OF) and the rest of lf_aux
 * (AF, the SF and PF deltas). For an instruction the translator inlines:
 * the parts its flag computation writes whole, the parts it reads (ADC,
 * SBB: CF; INC, DEC: CF, kept), and whether the state must be complete
 * before it (a barrier: it may fault, and the delivery pushes EFLAGS; it
 * calls a handler; it ends the block). Rotates replace CF and OF only,
 * passing the rest through. */
enum { LV_RES = 1, LV_CO = 2, LV_REST = 4, LV_ALL = 7 };

typedef struct FlagUse {
    uint8_t wr, rd;
    bool barrier;
} FlagUse;

static FlagUse flag_use(const X86Insn *i)
{
    X86Handler fn = i->fn;
    int idx;
    FlagUse u = { 0, 0, true };
    if (i->lock)
        return u;
    if ((idx = find(fn, &x86_fast_mov[0][0], 3 * 5)) >= 0) {
        u.barrier = !(idx % 5 == FF_RR || idx % 5 == FF_RI);
        return u;
    }
    if ((idx = find(fn, &x86_fast_movx[0][0][0][0], 16)) >= 0) {
        u.barrier = idx & 1;
        return u;
    }
    if (fn == h_lea32 || fn == h_nop) {
        u.barrier = false;
        return u;
    }
    if ((idx = find(fn, &x86_fast_alu[0][0][0], 8 * 3 * 5)) >= 0) {
        unsigned op = (unsigned)idx / 15, form = (unsigned)idx % 5;
        u.wr = LV_ALL;
        u.rd = op == 2 || op == 3 ? LV_CO : 0;
        u.barrier = !(form == FF_RR || form == FF_RI);
        return u;
    }
    if ((idx = find(fn, &x86_fast_test[0][0], 3 * 5)) >= 0) {
        u.wr = LV_ALL;
        u.barrier = !(idx % 5 == FF_RR || idx % 5 == FF_RI);
        return u;
    }
    for (unsigned op = 0; op < 8; op++) {
        if (fn != x86_fast_shift[op][2][0] || op == 2 || op == 3)
            continue;
        u.barrier = false;
        if (i->imm & 0x1F)
            u.wr = op < 2 ? LV_CO : LV_ALL;
        return u;
    }
    if (fn == h_imul32_GEI_r || fn == h_imul32_GE_r) {
        u.wr = LV_ALL;
        u.barrier = false;
        return u;
    }
    if (fn == h_inc32_r || fn == h_dec32_r) {
        u.wr = LV_ALL;
        u.rd = LV_CO;
        u.barrier = false;
        return u;
    }
    return u;
}

/* dead[k]: every part instruction k's flag computation writes is
 * written again, before anything can read it or see it (a barrier), by
 * later instructions of the block: k need not compute its flags. */
static unsigned flag_liveness(const X86Block *b, bool *dead)
{
    unsigned live = LV_ALL;         /* at the point after instruction k */
    for (int k = b->n - 1; k >= 0; k--) {
        FlagUse u = flag_use(&b->ins[k]);
        dead[k] = u.wr && !(u.wr & live);
        if (u.barrier)
            live = LV_ALL;
        else
            live = (live & ~u.wr) | u.rd;
    }
    return live;
}

/* ---- blocks ------------------------------------------------------------------------ */

/* A block of inline forms ending in LOOP that jumps to its own start runs
 * again without leaving the translated code, under the very conditions
 * the run loop would run it again: it completed (no x86_break: brk
 * clear), nothing asked the CPU to stop, and the next run fits under the
 * instruction limit (translations for lockstep, which compares one run
 * at a time, neither loop nor chain; JMP and Jcc: j_self_jump). The run loop's bookkeeping for the run that just ended is done
 * here (EIP does not move); the last run's is the run loop's. Anything
 * that could make the jump cache give another block for this EIP (a code
 * write, a mode or mapping change) sets brk. */
static void j_self_loop(JCtx *j, uint8_t *body)
{
    JEm *e = &j->e;
    JSlow out = { .n = 0 };
    X86Block *b = j->b;
    e_ld32(e, H_AX, H_BX, OFF(next_eip));
    e_alu_rm(e, 7, H_AX, H_BX, OFF(eip));
    slow_jcc(j, &out, HC_NE);
    e_alu_mi(e, 7, H_BX, OFF(brk), 0);
    slow_jcc(j, &out, HC_NE);
    e_ld64(e, H_AX, H_BX, OFF(stop));
    e_alu_mi(e, 7, H_AX, 0, 0);
    slow_jcc(j, &out, HC_NE);
    e_ld64(e, H_DX, H_BX, OFF(icount));
    e_alu_ri64(e, 0, H_DX, (int8_t)b->n);               /* this run retired */
    e_mov_rr64(e, H_CX, H_DX);
    e_alu_ri64(e, 0, H_CX, (int8_t)b->n);               /* the next one's end */
    e_ld64(e, H_AX, H_BX, OFF(limitp));
    e_alu_rm64(e, 7, H_CX, H_AX, 0);
    slow_jcc(j, &out, HC_A);
    e_st64(e, H_DX, H_BX, OFF(icount));
    e_m(e, true, 0xC7, 0, H_BX, OFF(cur));              /* cur = NULL */
    e_d(e, 0);
    e_ld32(e, H_AX, H_BX, OFF(eip));
    e_alu_ri(e, 0, H_AX, b->bytes);
    e_st32(e, H_AX, H_BX, OFF(next_eip));
    e_b(e, 0xE9);                                       /* jmp body */
    int32_t rel = (int32_t)(body - (e->p + 4));
    e_d(e, (uint32_t)rel);
    for (unsigned k = 0; k < out.n; k++)
        e_patch(e, out.fix[k]);
    j->looped = true;
}

/* The guest registers the block names most get the host registers of
 * the cache. */
static void cache_choose(JCtx *j)
{
    unsigned uses[9] = { 0 };
    for (unsigned k = 0; k < j->b->n; k++) {
        const X86Insn *i = &j->b->ins[k];
        uses[i->base < 8 ? i->base : 8]++;
        uses[i->index < 8 ? i->index : 8]++;
        uses[i->reg & 7]++;
        uses[i->rm & 7]++;
    }
    for (unsigned r = 0; r < 9; r++)
        j->hreg[r] = -1;
    for (unsigned h = 0; h < G_N_ELEMENTS(cache_host); h++) {
        unsigned best = 8;
        for (unsigned r = 0; r < 8; r++)
            if (j->hreg[r] < 0 && uses[r] >= 1 && (best == 8 || uses[r] > uses[best]))
                best = r;
        if (best == 8)
            break;
        j->hreg[best] = (int8_t)cache_host[h];
    }
}

/* Chaining: a block that ran to its end goes on with the next block
 * itself when the run loop would do nothing but run that block: nothing
 * asked the CPU to stop (brk: interrupts, device deadlines, code writes,
 * mode changes; the stop flag), a whole
 * block fits under the instruction limit (the run loop runs what fits
 * of one that does not), and the jump cache holds a translated block for
 * the next EIP under the current tag (the cache's epoch moves, with brk
 * set, whenever a block may have become stale, so no link needs undoing
 * on invalidation or flush: a translation of another code buffer
 * generation does not match). The run loop's bookkeeping for this block
 * is done here, jit_last names the next block, and its code is entered
 * after its prologue, in this frame. Indirect branches and RET chain the
 * same way, as the lookup is by the EIP they computed. */
static void j_chain(JCtx *j)
{
    JEm *e = &j->e;
    JSlow out = { .n = 0 };
    e_alu_mi(e, 7, H_BX, OFF(brk), 0);
    slow_jcc(j, &out, HC_NE);
    e_ld64(e, H_AX, H_BX, OFF(stop));
    e_alu_mi(e, 7, H_AX, 0, 0);
    slow_jcc(j, &out, HC_NE);
    e_ld64(e, H_DX, H_BX, OFF(icount));
    e_alu_ri64(e, 0, H_DX, (int8_t)j->b->n);            /* this block retired */
    e_mov_rr64(e, H_CX, H_DX);
    e_alu_ri64(e, 0, H_CX, BLK_MAX);                    /* any next block's end */
    e_ld64(e, H_AX, H_BX, OFF(limitp));
    e_alu_rm64(e, 7, H_CX, H_AX, 0);
    slow_jcc(j, &out, HC_A);
    /* the jump cache entry for CS:next_eip (get_block in x86-run.c) */
    e_ld32(e, H_AX, H_BX, OFF(next_eip));
    e_ld32(e, H_CX, H_BX, OSEG(S_CS, base));
    e_alu_rr(e, 0, H_CX, H_AX);                         /* ECX = linear */
    e_mov_rr(e, H_R8, H_CX);
    e_shift_ri(e, 5, H_R8, JC_BITS);
    e_alu_rr(e, 6, H_R8, H_CX);
    e_alu_ri(e, 4, H_R8, JC_SIZE - 1);
    e_imul_rri(e, H_R8, H_R8, (uint32_t)sizeof(X86Jc));
    e_alu_rm64(e, 0, H_R8, H_BX, OFF(jc));
    e_alu_rm(e, 7, H_CX, H_R8, (int32_t)offsetof(X86Jc, lin));
    slow_jcc(j, &out, HC_NE);
    e_alu_rm(e, 7, H_AX, H_R8, (int32_t)offsetof(X86Jc, eip));
    slow_jcc(j, &out, HC_NE);
    e_ld32(e, H_R9, H_BX, OFF(jc_tag));
    e_alu_rm(e, 7, H_R9, H_R8, (int32_t)offsetof(X86Jc, tag));
    slow_jcc(j, &out, HC_NE);
    e_ld64(e, H_R8, H_R8, (int32_t)offsetof(X86Jc, b));
    e_alu_mi(e, 7, H_R8, (int32_t)offsetof(X86Block, jit_gen), j->jit->gen);
    slow_jcc(j, &out, HC_NE);
    e_ld64(e, H_R9, H_R8, (int32_t)offsetof(X86Block, jit));
    e_alu_rr64(e, 1, H_R9, H_R9);                       /* or r9, r9: NULL is "interpret" */
    slow_jcc(j, &out, HC_E);
    e_st64(e, H_DX, H_BX, OFF(icount));
    e_st32(e, H_AX, H_BX, OFF(eip));
    e_m(e, true, 0xC7, 0, H_BX, OFF(cur));              /* cur = NULL */
    e_d(e, 0);
    e_st64(e, H_R8, H_BX, OFF(jit_last));
    e_mov_ri64(e, H_AX, (uint64_t)(uintptr_t)&j->jit->st.chained);
    e_m(e, true, 0xFF, 0, H_AX, 0);                     /* inc qword [rax] */
    e_alu_ri64(e, 0, H_R9, JIT_PROLOGUE);
    e_jmp_r(e, H_R9);
    for (unsigned k = 0; k < out.n; k++)
        e_patch(e, out.fix[k]);
    j->chained = true;
}

/* Debugging aid: with TESSERA_JIT_DUMP=DIR set, the host code of every
 * translated block goes to DIR/<linear EIP>-<phys>.bin, for
 * `objdump -D -b binary -mi386:x86-64`. */
static void jit_dump(X86Cpu *c, const X86Block *b, const uint8_t *code, size_t len)
{
    const char *dir = g_getenv("TESSERA_JIT_DUMP");
    if (!dir)
        return;
    char *name = g_strdup_printf("%s/%08x-%08x.bin", dir, c->seg[S_CS].base + c->eip, b->phys);
    if (!g_file_set_contents(name, (const char *)code, (gssize)len, NULL))
        g_warning("x86 jit: cannot write %s", name);
    g_free(name);
}

/* An ALU or TEST form with a memory operand: it overwrites every flag,
 * and only its fallback (a fault) may see the flags before it */
static bool pend_target(const X86Insn *i)
{
    int idx;
    if (i->lock)
        return false;
    if ((idx = find(i->fn, &x86_fast_alu[0][0][0], 8 * 3 * 5)) >= 0) {
        unsigned op = (unsigned)idx / 15, form = (unsigned)idx % 5;
        return op != 2 && op != 3 && form != FF_RR && form != FF_RI;
    }
    if ((idx = find(i->fn, &x86_fast_test[0][0], 3 * 5)) >= 0)
        return idx % 5 != FF_RR && idx % 5 != FF_RI;
    return false;
}

/* One translation of b into j->e, the cached registers in dirty taken as
 * dirty where the block's body starts; the number of inline instructions. */
static unsigned translate_pass(X86Cpu *c, JCtx *j, uint8_t dirty)
{
    uint8_t *bail[18];
    unsigned nbail = 0;
    JEm *e = &j->e;
    X86Block *b = j->b;
    /* prologue: six pushes and 8 bytes keep the stack 16-byte aligned for
     * calls */
    uint8_t *start = e->p;
    e_push(e, H_BX);
    e_push(e, H_BP);
    e_push(e, H_R12);
    e_push(e, H_R13);
    e_push(e, H_R14);
    e_push(e, H_R15);
    e_alu_ri64(e, 5, H_SP, 8);
    e_mov_rr64(e, H_BX, H_DI);
    if (e->p != start + JIT_PROLOGUE)
        e->over = true;     /* (never: the encoding is fixed) */
    /* the segments taken as flat are (lo, hi = 0, 4 GiB - 1; rd, wr; base
     * 0), or the block returns 0 without running: the run loop then
     * interprets it and has it translated anew without the assumption */
    for (unsigned sg = 0; sg < 6; sg++) {
        if (!(j->flat & (1u << sg)))
            continue;
        e_mov_ri64(e, H_AX, 0xFFFFFFFF00000000ull);
        e_alu_rm64(e, 7, H_AX, H_BX, OSEG(sg, lo));     /* lo, hi */
        bail[nbail++] = e_jcc(e, HC_NE);
        e_b(e, 0x66);                                   /* cmp word [rd], 0x0101: rd, wr */
        e_m(e, false, 0x81, 7, H_BX, OSEG(sg, rd));
        e_b(e, 1);
        e_b(e, 1);
        bail[nbail++] = e_jcc(e, HC_NE);
        e_alu_mi(e, 7, H_BX, OSEG(sg, base), 0);
        bail[nbail++] = e_jcc(e, HC_NE);
    }
    /* exec_insns: next_eip = eip + bytes, blk_first, stop_at */
    e_ld32(e, H_AX, H_BX, OFF(eip));
    e_alu_ri(e, 0, H_AX, b->bytes);
    e_st32(e, H_AX, H_BX, OFF(next_eip));
    e_mov_ri64(e, H_AX, (uint64_t)(uintptr_t)&b->ins[0]);
    e_st64(e, H_AX, H_BX, OFF(blk_first));
    e_mov_ri64(e, H_AX, (uint64_t)(uintptr_t)&b->ins[b->n - 1]);
    e_st64(e, H_AX, H_BX, OFF(stop_at));
    cache_choose(j);
    g_reload(j);
    j->body = e->p;
    j->dirty = j->written = dirty;
    unsigned ninl = 0;
    bool dead[BLK_MAX];
    j->pend_next = -1;
    j->entry_live = flag_liveness(b, dead);
    j->defer_from = defer_run(b);
    for (unsigned k = 0; k < b->n; k++) {
        const X86Insn *i = &b->ins[k];
        j->k = k;
        j->last = k + 1 == b->n;
        j->dead_flags = dead[k];
        j->all_inline = ninl == k;
        j->pend_res = j->pend_next;
        j->pend_next = -1;
        j->pend_ok = !dead[k] && k + 1 < b->n && pend_target(&b->ins[k + 1]);
        /* LOCK: the handlers raise #UD where it is invalid */
        if (!i->lock && j_inline(j, i)) {
            ninl++;
        } else {
            j_call(j, i, i->fn);
            j->dirty = 0;
            j->pure = false;
            j->seg_unsafe = true;
        }
    }
    const X86Insn *tail = &b->ins[b->n - 1];
    if (j->chain && ninl == b->n && !tail->lock && tail->fn == h_loop32)
        j_self_loop(j, j->body);
    /* the end of the block: the architectural state complete */
    defer_emit(j);
    j->ndef = 0;
    g_flush(j, j->written);
    if (j->chain)
        j_chain(j);
    j_exit(j, b->n);
    if (nbail) {
        for (unsigned k = 0; k < nbail; k++)
            e_patch(e, bail[k]);
        j_exit(j, 0);
    }
    (void)c;
    return ninl;
}

static void *translate(X86Cpu *c, X86Block *b)
{
    struct X86Jit *jit = c->jit;
    JCtx j;
    unsigned ninl;
    /* A block that runs again in place enters its body again with the
     * registers its last run wrote still dirty: translated again, taking
     * those as dirty from the start, when the first pass did not. */
    uint8_t dirty = 0;
    /* Segments flat now are taken as flat (not in lockstep mode, whose
     * replay needs the block run by the translation, nor for a block
     * whose assumption failed once); the check where the block starts
     * then covers those an access used. */
    uint8_t flat = 0;
    if (c->engine == X86_ENGINE_JIT && !b->jit_noflat)
        for (unsigned sg = 0; sg < 6; sg++) {
            const X86Seg *sp = &c->seg[sg];
            if (sp->base == 0 && sp->lo == 0 && sp->hi == 0xFFFFFFFFu && sp->rd && sp->wr)
                flat |= (uint8_t)(1u << sg);
        }
    for (;;) {
        j = (JCtx){
            .e = { .p = jit->rw + jit->used, .lim = jit->rw + jit->used + JIT_BLOCK_MAX },
            .jit = jit, .b = b, .pure = true, .log = c->engine == X86_ENGINE_LOCKSTEP,
            .chain = c->engine == X86_ENGINE_JIT, .flat = flat,
        };
        ninl = translate_pass(c, &j, dirty);
        if ((!j.looped || (j.written & ~dirty) == 0) && j.flat_used == flat)
            break;
        if (j.looped)
            dirty |= j.written;
        flat = j.flat_used;
    }
    JEm *e = &j.e;
    if (e->over)
        return NULL;
    size_t len = (size_t)(e->p - (jit->rw + jit->used));
    void *fn = jit->rx + jit->used;
    jit_dump(c, b, jit->rw + jit->used, len);
    jit->used += (len + 15) & ~(size_t)15;
    jit->st.blocks++;
    jit->st.insns_inline += ninl;
    jit->st.insns_call += b->n - ninl;
    jit->st.self_loops += j.looped;
    jit->st.chain_exits += j.chained;
    b->jit_pure = j.pure;
    return fn;
}

X86JitFn x86_jit_get(X86Cpu *c, X86Block *b)
{
    struct X86Jit *jit = c->jit;
    if (X86_UNLIKELY(c->engine != jit->engine)) {
        /* chaining and stores logged or not are decided at translation */
        x86_jit_flush(c);
        jit->engine = c->engine;
    }
    if (b->jit_gen == jit->gen)
        return (X86JitFn)b->jit;    /* NULL: did not fit, interpret */
    if (b->jit_runs < c->jit_hot) {
        b->jit_runs++;
        return NULL;
    }
    if (jit->used + JIT_BLOCK_MAX > X86_JIT_BUF)
        x86_jit_flush(c);
    void *fn = translate(c, b);
    b->jit = fn;
    b->jit_gen = jit->gen;
    return (X86JitFn)fn;
}

uint8_t *x86_jit_slow_flag(X86Cpu *c)
{
    return &c->jit->slow;
}

X86JitLog *x86_jit_log(X86Cpu *c)
{
    return &c->jit->log;
}

#else   /* !X86_HAVE_JIT */

bool x86_jit_init(X86Cpu *c)
{
    (void)c;
    return false;
}
void x86_jit_fini(X86Cpu *c) { (void)c; }
X86JitFn x86_jit_get(X86Cpu *c, X86Block *b)
{
    (void)c;
    (void)b;
    return NULL;
}
void x86_jit_flush(X86Cpu *c) { (void)c; }
X86JitStats *x86_jit_stats(X86Cpu *c)
{
    (void)c;
    return NULL;
}
uint8_t *x86_jit_slow_flag(X86Cpu *c)
{
    (void)c;
    return NULL;
}
X86JitLog *x86_jit_log(X86Cpu *c)
{
    (void)c;
    return NULL;
}

#endif
