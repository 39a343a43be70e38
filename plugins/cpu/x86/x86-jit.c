/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The translating engine: a decoded block (X86Block) becomes one x86-64
 * host function. See x86-jit.h for the contract with the run loop.
 *
 * Host register use inside translated code: RBX holds the X86Cpu; the
 * eight guest registers live in RSI, R13, R14, R15, RDI, RBP, R11 and R12
 * (cache_host) from the entry of the block the run loop called, through
 * every block chained to, until the code returns to the run loop; EAX,
 * ECX, EDX, R8-R10 are scratch. The cache is write-back: X86Cpu.r is
 * brought up to date before a handler call (a handler, a fault or a
 * device sees the architectural state) and on the way back to the run
 * loop, and loaded again after a handler call and where the run loop
 * enters.
 *
 * Inline forms replicate the interpreter's fast handlers (x86-exec-fast.c)
 * operation for operation, lazy flags included (lf_res / lf_aux as
 * x86-cpu.h defines them); where a fast handler would fall back to its
 * generic one (segment checks, a TLB miss, a page crossing) the inline
 * code calls the fast handler itself, which makes the same decision.
 * Only what cannot fault is inline without a fallback: register
 * operations and the flag computations.
 *
 * The translator's files: this one holds the code buffer, the
 * translation context's primitives (block exit, handler calls, the
 * fallbacks), the operands (the register cache, effective addresses,
 * the TLB host path, the lockstep store log) and the blocks (self loop,
 * chaining, translation); x86-jit-flags.c the lazy flags, the deferred
 * flags and flag liveness; x86-jit-ops.c the control transfers and the
 * inline forms; x86-jit-ctx.h what they share (JCtx, JSlow).
 *
 * Code buffer: one memfd mapped twice, read-write for the emitter and
 * read-execute for running, so no page is ever writable and executable
 * at once, and the guest cannot reach either view (they are not guest
 * RAM). Its first half holds the blocks' main paths, its second their
 * fallbacks (JIT_HOT). A full buffer is flushed whole (a generation
 * number retires every translation; blocks translate again on demand).
 * The only code ever written after it was emitted is a block end's link
 * slots (jit_link).
 */
#include "x86-jit-ctx.h"

#if X86_HAVE_JIT
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

struct X86Jit {
    int fd;
    uint8_t *rw, *rx;
    size_t used;            /* of the hot region, [0, JIT_HOT) */
    size_t cold_used;       /* of the cold region, [JIT_HOT, X86_JIT_BUF) */
    uint32_t gen;
    uint8_t slow;           /* a fallback ran (lockstep cannot replay) */
    uint8_t engine;         /* the engine the translations were made for */
    X86JitLog log;
    X86JitStats st;
    FILE *perfmap;          /* TESSERA_JIT_PERFMAP: see jit_dump */
    char *dump_dir;         /* TESSERA_JIT_DUMP */
};

/* Bytes of the prologue (six pushes, sub rsp, mov rbx, rdi), of the
 * load of the guest registers (g_load: eight loads from X86Cpu.r, whose
 * encodings are fixed by cache_host and X86Cpu's layout) and of the load
 * of EIP into EAX after them: a block chained to is entered right after
 * all three (JIT_ENTRY), in the frame of the block the run loop called,
 * with EAX = EIP (the chaining code has just stored it) and the guest
 * registers in their host registers. */
#define JIT_PROLOGUE 17
#define JIT_RELOAD 28
#define JIT_ENTRY (JIT_PROLOGUE + JIT_RELOAD + 3)

/* The most one block's code may take, in each region; a buffer with less
 * room left in either is flushed before translating. */
#define JIT_BLOCK_MAX (BLK_MAX * 512u + 256u)

/* The buffer's two regions, of about equal use: the blocks' main paths
 * (hot), and the fallbacks of their inline forms and the early exits
 * after a handler call (cold, slow_emit and j_call), which are half of
 * the bytes (a fallback writes the cached registers back, calls the
 * handler, reloads them and may leave the block) and rarely run. Kept
 * apart, the code a block runs is a few cache lines rather than the
 * ~1.2 KiB the kernel's blocks took with their fallbacks inline (a guest
 * upload's working set of translated code was ~12 MiB). */
#define JIT_HOT (X86_JIT_BUF / 2)


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
    if (g_getenv("TESSERA_JIT_PERFMAP")) {
        char *name = g_strdup_printf("/tmp/perf-%d.map", (int)getpid());
        j->perfmap = fopen(name, "a");
        if (!j->perfmap)
            g_warning("x86 jit: cannot write %s", name);
        g_free(name);
    }
    j->dump_dir = g_strdup(g_getenv("TESSERA_JIT_DUMP"));
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
    if (j->perfmap)
        fclose(j->perfmap);
    g_free(j->dump_dir);
    g_free(j);
    c->jit = NULL;
}

void x86_jit_flush(X86Cpu *c)
{
    struct X86Jit *j = c->jit;
    if (!j)
        return;
    j->used = 0;
    j->cold_used = 0;
    if (++j->gen == 0)
        j->gen = 1;
    j->st.flushes++;
}

X86JitStats *x86_jit_stats(X86Cpu *c)
{
    return c->jit ? &c->jit->st : NULL;
}

/* ---- translation context --------------------------------------------------- */

/* The host register of each guest register (EAX ... EDI), for all
 * translated code: a chained block finds the registers where the last
 * one left them. Write-back: a write goes to the host register alone,
 * and X86Cpu.r is brought up to date where anything else may look at
 * it: before a handler call (which may fault, reach a device or change
 * any register) and where translated code returns to the run loop; the
 * registers are loaded where the run loop enters and again after every
 * handler call. Inline fast paths never fault, so the state a fault
 * delivers is the interpreter's. cache_host (x86-jit-ctx.h) is the
 * map; the most used (EAX, ESP, EBP) are in
 * registers whose 32-bit forms need no REX prefix. RSI, RDI and R11 are
 * caller-saved: a call (handlers, jit_link) has them written back first
 * and loads them after. */
#define REGS_ALL 0xFFu
#define CALL_CLOBBERED (1u << 0 | 1u << 4 | 1u << 6)   /* the guest registers in RSI, RDI, R11 */

static void g_load(JCtx *j, unsigned mask);
static void g_flush(JCtx *j, unsigned mask);

/* Emit into the cold region from here on (j_hot: back to the main path);
 * the jumps in fix[0..n) there. hot_over: the main path's emitter ran
 * out of room (then they are not patched: they were not emitted). */
static JEm j_cold(JCtx *j, uint8_t *const *fix, unsigned n)
{
    JEm hot = j->e;
    j->e = j->cold;
    j->in_cold = true;
    if (!hot.over)
        for (unsigned k = 0; k < n; k++)
            e_patch(&j->e, fix[k]);
    return hot;
}

static void j_hot(JCtx *j, JEm hot)
{
    j->cold = j->e;
    j->e = hot;
    j->e.over |= j->cold.over;
    j->in_cold = false;
}

/* The prologue undone (translate_pass), and back to the run loop. */
static void j_epilogue(JEm *e)
{
    e_alu_ri64(e, 0, H_SP, 8);
    e_pop(e, H_R15);
    e_pop(e, H_R14);
    e_pop(e, H_R13);
    e_pop(e, H_R12);
    e_pop(e, H_BP);
    e_pop(e, H_BX);
    e_b(e, 0xC3);
}

/* Leave the block having run `count` instructions (jit_last names it),
 * the guest registers written back. */
static void j_exit(JCtx *j, unsigned count)
{
    JEm *e = &j->e;
    g_flush(j, REGS_ALL);
    e_mov_ri64(e, H_AX, (uint64_t)(uintptr_t)j->b);
    e_st64(e, H_AX, H_BX, OFF(jit_last));
    e_mov_ri(e, H_AX, count);
    j_epilogue(e);
}

/* Leave the block having run `count` instructions, from a handler call
 * that ended it (X86Cpu.r is up to date: the call wrote the registers
 * back and nothing changed them since): the first such exit holds the
 * tail (j_exit's, after the write-back and the count) the others jump
 * to. */
static void j_exit_early(JCtx *j, unsigned count)
{
    JEm *e = &j->e;
    e_mov_ri(e, H_AX, count);
    if (j->exit_stub) {
        e_jmp_to(e, j->exit_stub);
        return;
    }
    j->exit_stub = e->p;
    e_mov_ri64(e, H_CX, (uint64_t)(uintptr_t)j->b);
    e_st64(e, H_CX, H_BX, OFF(jit_last));
    j_epilogue(e);
}

/* What exec_insns sets where a block starts besides next_eip (which
 * the block's entry stores, outside a loop in place), stored where
 * something may look at it rather than on every entry: blk_first and
 * stop_at (a handler call's fault, device access and x86_break use
 * them). A store on the main path (main) holds for the rest of the
 * block: a handler that changes one of them ends the block (x86_break). */
static void j_ctx_store(JCtx *j, bool main)
{
    JEm *e = &j->e;
    if (!j->ctx_stored) {
        e_mov_ri64(e, H_AX, (uint64_t)(uintptr_t)&j->b->ins[0]);
        e_st64(e, H_AX, H_BX, OFF(blk_first));
        e_mov_ri64(e, H_AX, (uint64_t)(uintptr_t)&j->b->ins[j->b->n - 1]);
        e_st64(e, H_AX, H_BX, OFF(stop_at));
        j->ctx_stored = main;
    }
}

/* Run instruction i through handler fn, as exec_insns does: cur first,
 * and the end of the block when it called x86_break. main: on the
 * block's main path (not a fallback's). */
static void j_call(JCtx *j, const X86Insn *i, X86Handler fn, bool main)
{
    JEm *e = &j->e;
    defer_emit(j);
    g_flush(j, j->dirty);
    j->any_call = true;
    j_ctx_store(j, main);
    e_mov_ri64(e, H_SI, (uint64_t)(uintptr_t)i);
    e_st64(e, H_SI, H_BX, OFF(cur));
    e_mov_rr64(e, H_DI, H_BX);
    e_call_abs(e, (const void *)fn);
    g_load(j, REGS_ALL);
    if (!j->last) {
        /* the handler ended the block (x86_break): leave, out of line */
        e_mov_ri64(e, H_AX, (uint64_t)(uintptr_t)i);
        e_m(e, true, 0x39, H_AX, H_BX, OFF(stop_at));   /* cmp [stop_at], rax */
        if (j->in_cold) {
            uint8_t *go = e_jcc(e, HC_NE);
            j_exit_early(j, j->k + 1);
            e_patch(e, go);
        } else {
            uint8_t *out = e_jcc(e, HC_E);
            JEm hot = j_cold(j, &out, 1);
            j_exit_early(j, j->k + 1);
            j_hot(j, hot);
        }
    }
}

/* The host's arithmetic flags as the guest's (fallbacks that hand the
 * flags to a Jcc in the host's flags, slow_emit) */
static uint64_t jit_host_flags(X86Cpu *c)
{
    return (x86_get_eflags(c) & (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)) | 2u;
}

/* Whether the instruction being translated should leave the guest's
 * flags in the host's (hf_out): the next one is a Jcc, which then tests
 * them with one host Jcc rather than computing its condition from the
 * lazy flags (the lazy flags are stored all the same: the block's
 * successors may read them). */
bool j_hflags_wanted(const JCtx *j)
{
    const X86Block *b = j->b;
    if (j->k + 1 >= b->n || j->dead_flags)
        return false;
    const X86Insn *n = &b->ins[j->k + 1];
    return !n->lock && find(n->fn, x86_fast_jcc, 16) >= 0;
}

void slow_jcc(JCtx *j, JSlow *s, unsigned cc)
{
    uint8_t *at = e_jcc(&j->e, cc);
    if (s->n < G_N_ELEMENTS(s->fix))
        s->fix[s->n++] = at;
    else
        j->e.over = true;   /* never with the forms below */
}

/* End of a fast path: its fallback, which calls the handler, goes to the
 * cold region (the jumps collected in s land there) and jumps back here
 * when the handler is done. */
void slow_emit(JCtx *j, JSlow *s, const X86Insn *i)
{
    uint8_t *done = j->e.p;
    JEm hot = j_cold(j, s->fix, s->n);
    JEm *e = &j->e;
    if (j->log) {                       /* lockstep: this run cannot be replayed */
        e_mov_ri64(e, H_AX, (uint64_t)(uintptr_t)&j->jit->slow);
        e_m(e, false, 0xC6, 0, H_AX, 0);    /* mov byte [rax], 1 */
        e_b(e, 1);
    }
    /* Every register: the fast path may have written some back (a partial
     * register access) after the jumps here, so its dirty set does not
     * say which X86Cpu.r holds here. The fast path's dirty set stands at
     * the join (after the call and its reload, memory and cache agree). */
    uint8_t dirty = j->dirty;
    j->dirty = REGS_ALL;
    if (j->pend_res >= 0) {
        e_st32(e, (unsigned)j->pend_res, H_BX, OFF(lf_res));
        e_st_imm32(e, H_BX, OFF(lf_aux), 0);
    }
    j_call(j, i, i->fn, false);
    if (j->hf_cold) {
        /* the host's flags from the handler's lazy flags (POPF: user
         * mode keeps IF, and AC and DF are clear, as the ABI has them) */
        e_mov_rr64(e, H_DI, H_BX);
        e_call_abs(e, (const void *)jit_host_flags);
        g_load(j, CALL_CLOBBERED);
        e_b(e, 0x50);                                   /* push rax */
        e_b(e, 0x9D);                                   /* popfq */
    }
    j->dirty = dirty;
    e_jmp_to(e, done);
    j_hot(j, hot);
}

/* ---- operands -------------------------------------------------------------- */

static int32_t reg_off(unsigned r, unsigned size)
{
    if (size == 1)
        return r < 4 ? OREG(r) : OREG(r - 4) + 1;
    return OREG(r);
}
/* host h = guest register r (32 bits) */
void g_ld32(JCtx *j, unsigned h, unsigned r)
{
    e_mov_rr(&j->e, h, hreg(r));
}
/* the cached guest register r was written in its host register */
void g_dirty(JCtx *j, unsigned r)
{
    j->dirty |= (uint8_t)(1u << r);
}
/* guest register r = host h (32 bits) */
void g_st32(JCtx *j, unsigned h, unsigned r)
{
    e_mov_rr(&j->e, hreg(r), h);
    g_dirty(j, r);
}
/* guest register r was written in memory: its cache follows */
static void g_sync(JCtx *j, unsigned r)
{
    e_ld32(&j->e, hreg(r), H_BX, OREG(r));
}
/* the cached registers in mask follow X86Cpu.r */
static void g_load(JCtx *j, unsigned mask)
{
    for (unsigned r = 0; r < 8; r++)
        if (mask & (1u << r))
            g_sync(j, r);
}
/* X86Cpu.r catches up with the cached registers in mask (the
 * translation's dirty set is the caller's to change) */
static void g_flush(JCtx *j, unsigned mask)
{
    for (unsigned r = 0; r < 8; r++)
        if (mask & (1u << r))
            e_st32(&j->e, hreg(r), H_BX, OREG(r));
}
/* before an access to part of guest register r in memory */
static void g_flush_one(JCtx *j, unsigned r)
{
    if (j->dirty & (1u << r)) {
        g_flush(j, 1u << r);
        j->dirty &= (uint8_t)~(1u << r);
    }
}
void ld_reg(JCtx *j, unsigned size, unsigned h, unsigned r)
{
    if (size == 4) {
        g_ld32(j, h, r);
        return;
    }
    g_flush_one(j, size == 1 && r >= 4 ? r - 4 : r);
    e_ldz(&j->e, size, h, H_BX, reg_off(r, size));
}
void st_reg(JCtx *j, unsigned size, unsigned h, unsigned r)
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
void j_ea(JCtx *j, const X86Insn *i)
{
    JEm *e = &j->e;
    int base = i->base != EA_NONE ? (int)hreg(i->base) : -1;
    int index = i->index != EA_NONE ? (int)hreg(i->index) : -1;
    if (base < 0 && index < 0)
        e_mov_ri(e, H_AX, i->disp);
    else
        e_lea(e, H_AX, base, index, i->scale, (int32_t)i->disp);
    if (i->amask != 0xFFFFFFFFu)
        e_alu_ri(e, 4, H_AX, i->amask);
}


/* R10 = host address of seg:EAX for a size-byte access, as fast_host()
 * in x86-exec-fast.c decides it; anything else jumps to the fallback.
 * A segment the translation takes as flat (translate: base 0, limit
 * 4 GiB, readable and writable) needs no check: the translation runs
 * only under a jump cache tag that has it so, and a handler call that
 * changes that ends the block (x86_seg_derive); CS (whose flat bit
 * vouches for neither reads nor writes) is always checked. For one it
 * takes as wide (FS or GS with any base: Linux's per-CPU segment, a
 * thread's TLS) one test of X86Seg.wide stands for the limit and rights
 * checks, and the base is added: loading such a segment changes neither
 * the tag nor the translations (with the tag, each of a guest's system
 * calls and interrupts moved between two tags and missed the jump
 * cache in its entry code). The TLB lookup: a page
 * crossing changes the page of the access's last byte, which then
 * misses the tag; so does an offset that runs past 4 GiB in a flat or
 * wide segment (the last byte's linear address wraps into another
 * page), which the handler then faults.
 * Keeps EAX and R8/R9; clobbers ECX, EDX. */
G_STATIC_ASSERT(sizeof(X86Tlb) == 32);
void j_host(JCtx *j, JSlow *s, int seg, unsigned size, int acc)
{
    JEm *e = &j->e;
    unsigned lin = H_CX;
    if (seg != S_CS && (j->flat & (1u << seg))) {
        j->flat_used |= (uint8_t)(1u << seg);
        lin = H_AX;
    } else if (j->wide & (1u << seg)) {
        e_cmpb_mi(e, H_BX, OSEG(seg, wide), 0);
        slow_jcc(j, s, HC_E);
        e_mov_rr(e, H_CX, H_AX);
        e_alu_rm(e, 0, H_CX, H_BX, OSEG(seg, base));    /* ECX = linear */
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
    e_lea(e, H_R10, (int)lin, -1, 0, (int32_t)size - 1);
    e_alu_ri(e, 4, H_R10, 0xFFFFF000u);
    int32_t tag = acc == ACC_RD ? (int32_t)offsetof(X86Tlb, rtag)
                : acc == ACC_WR ? (int32_t)offsetof(X86Tlb, wtag) : (int32_t)offsetof(X86Tlb, rwtag);
    e_alu_rm(e, 7, H_R10, H_DX, tag);
    slow_jcc(j, s, HC_NE);
    e_ld64(e, H_R10, H_DX, acc == ACC_RD ? (int32_t)offsetof(X86Tlb, radd)
                                         : (int32_t)offsetof(X86Tlb, wadd));
    e_alu_rr64(e, 0, H_R10, lin);
}

/* Lockstep mode: before an inline store of size bytes to [R10], enter
 * the address and the bytes it overwrites in the store log (lockstep
 * undoes the stores to replay the block on the interpreter, then compares
 * what each engine wrote). Clobbers ECX, R9 (R11, which holds a guest
 * register, is saved on the stack: no call in between). */
void j_log_store(JCtx *j, unsigned size)
{
    JEm *e = &j->e;
    if (!j->log)
        return;
    e_push(e, H_R11);
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
    e_pop(e, H_R11);
}

/* ---- blocks ------------------------------------------------------------------------ */

/* Whether the translated code may go on to run another block after this
 * one (of n instructions) retires, as the run loop would: nothing asked
 * the CPU to stop (the stop flag; brk, through chain_lim) and a whole
 * block fits under the instruction limit; else to out. RDX = icount + n
 * (what the run loop's bookkeeping would make it). */
void j_budget(JCtx *j, JSlow *out, unsigned n)
{
    JEm *e = &j->e;
    e_ld64(e, H_AX, H_BX, OFF(stop));
    e_alu_mi(e, 7, H_AX, 0, 0);
    slow_jcc(j, out, HC_NE);
    e_ld64(e, H_DX, H_BX, OFF(icount));
    e_alu_ri64(e, 0, H_DX, (int8_t)n);
    e_alu_rm64(e, 7, H_DX, H_BX, OFF(chain_lim));
    slow_jcc(j, out, HC_A);
}

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
    j_budget(j, &out, b->n);
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

/* Links: a block's end holds JIT_LINKS slots, each "next EIP, linear
 * address and tag are these: jump straight to that block's body". A
 * slot is filled (patched, here) when the jump cache lookup after it
 * found a translated block for the exit; it holds while the entry's tag
 * does, as the entry would: the tag has the jump cache's epoch, which
 * moves whenever any block may have become stale or the linear ->
 * physical map changed (and the code buffer is flushed when an epoch
 * wraps, so an old tag never comes back to a slot), and the flat set the
 * linked translation needs. A block in a global page has the global tag
 * (x86-cpu.h), which the slot compares with jc_gtag, else with jc_tag
 * (the compare's displacement names which). A translation of another
 * generation is never linked to: a flush retires the linking code with
 * the linked. Patching is a write into code, which costs the host a
 * pipeline flush: at most JIT_LINK_MAX per translation and epoch (an
 * exit with many targets, a RET, stays with the lookup). layout: the
 * offsets in a slot of its EIP, linear address, tag (the compare's
 * displacement is the 4 bytes before it) and jump displacement (bytes
 * 0-3) and its size (byte 4). */
#define JIT_LINKS 2
#define JIT_LINK_MAX 4

static const uint8_t *jit_link(X86Cpu *c, X86Block *b, uint8_t *slot0, uint64_t layout,
                               const uint8_t *code, uint32_t tag)
{
    struct X86Jit *jit = c->jit;
    unsigned o_eip = layout & 0xFF, o_lin = (layout >> 8) & 0xFF;
    unsigned o_tag = (layout >> 16) & 0xFF, o_jmp = (layout >> 24) & 0xFF;
    size_t size = (layout >> 32) & 0xFF;
    if (b->link_epoch != c->jc_epoch) {
        b->link_epoch = c->jc_epoch;
        b->link_n = 0;
    }
    if (b->link_n >= JIT_LINK_MAX)
        return code;
    /* a slot of an older tag first, else in turn */
    unsigned k = b->link_n++ % JIT_LINKS;
    for (unsigned n = 0; n < JIT_LINKS; n++) {
        uint32_t old;
        memcpy(&old, slot0 + n * size + o_tag, 4);
        if (old != c->jc_tag && old != c->jc_gtag) {
            k = n;
            break;
        }
    }
    uint8_t *s = slot0 + k * size;
    uint32_t eip = c->next_eip, lin = c->seg[S_CS].base + eip;
    const uint8_t *s_rx = jit->rx + (s - jit->rw);
    int32_t rel = (int32_t)((code + JIT_ENTRY) - (s_rx + o_jmp + 4));
    memcpy(s + o_eip, &eip, 4);
    if (o_lin)
        memcpy(s + o_lin, &lin, 4);
    int32_t with = tag & JC_TAG_GLOBAL ? OFF(jc_gtag) : OFF(jc_tag);
    memcpy(s + o_tag - 4, &with, 4);
    memcpy(s + o_tag, &tag, 4);
    memcpy(s + o_jmp, &rel, 4);
    return code;
}

/* Chaining: a block that ran to its end goes on with the next block
 * itself when the run loop would do nothing but run that block: nothing
 * asked the CPU to stop (brk: interrupts, device deadlines, code writes,
 * mode changes; the stop flag), a whole
 * block fits under the instruction limit (the run loop runs what fits
 * of one that does not), and a link (jit_link) or the jump cache holds a
 * translated block for the next EIP under the current tag (the cache's epoch moves, with brk
 * set, whenever a block may have become stale, so no link needs undoing
 * on invalidation or flush: a translation of another code buffer
 * generation does not match), made for a flat set the tag has (the
 * translation uses those segments unchecked). The run loop's bookkeeping
 * for this block is done here (icount, EIP; cur is stale until the next
 * handler call sets it, and nothing reads it before), and the next
 * block's code is entered after its prologue, in this frame; whichever
 * block returns names itself in jit_last (j_exit). Indirect branches and
 * RET chain the same way, as the lookup is by the EIP they computed. */
static void j_chain(JCtx *j)
{
    JEm *e = &j->e;
    JSlow out = { .n = 0 };
    j_budget(j, &out, j->b->n);
    /* With CS flat (the translation then runs only under tags that have
     * it) the linear address is the EIP: the links compare the EIP alone
     * (and their linear address slot is left out: o_lin 0). */
    bool cs_flat = j->flat & (1u << S_CS);
    if (cs_flat)
        j->flat_used |= (uint8_t)(1u << S_CS);
    e_ld32(e, H_AX, H_BX, OFF(next_eip));
    if (!cs_flat) {
        e_ld32(e, H_CX, H_BX, OSEG(S_CS, base));
        e_alu_rr(e, 0, H_CX, H_AX);                     /* ECX = linear */
    }
    /* the links (jit_link), then the jump cache entry for CS:next_eip
     * (get_block in x86-run.c) */
    uint8_t *slot0 = e->p;
    uint64_t layout = 0;
    for (unsigned k = 0; k < JIT_LINKS; k++) {
        uint8_t *s = e->p, *miss[3], *at_lin = s;
        unsigned nmiss = 0;
        e_b(e, 0x3D);                                   /* cmp eax, imm32 */
        uint8_t *at_eip = e->p;
        e_d(e, 0);
        miss[nmiss++] = e_jcc(e, HC_NE);
        if (!cs_flat) {
            e_b(e, 0x81);                               /* cmp ecx, imm32 */
            e_b(e, 0xF9);
            at_lin = e->p;
            e_d(e, 0);
            miss[nmiss++] = e_jcc(e, HC_NE);
        }
        e_b(e, 0x81);                                   /* cmp dword [rbx + jc_tag], imm32 */
        e_b(e, 0xBB);                                   /* (jc_gtag: jit_link) */
        e_d(e, (uint32_t)OFF(jc_tag));
        uint8_t *at_tag = e->p;
        e_d(e, 0);                                      /* (no tag is 0: the epoch is not) */
        miss[nmiss++] = e_jcc(e, HC_NE);
        e_st64(e, H_DX, H_BX, OFF(icount));
        e_st32(e, H_AX, H_BX, OFF(eip));
        if (j->count) {
            e_mov_ri64(e, H_R10, (uint64_t)(uintptr_t)&j->jit->st.chained);
            e_m(e, true, 0xFF, 0, H_R10, 0);            /* inc qword [r10] */
        }
        e_b(e, 0xE9);                                   /* jmp (the linked block) */
        uint8_t *at_jmp = e->p;
        e_d(e, 0);
        for (unsigned m = 0; m < nmiss; m++)
            e_patch(e, miss[m]);
        uint64_t l = (uint64_t)(at_eip - s) | (uint64_t)(at_lin - s) << 8
                   | (uint64_t)(at_tag - s) << 16 | (uint64_t)(at_jmp - s) << 24
                   | (uint64_t)(e->p - s) << 32;
        if (k == 0)
            layout = l;
        else if (l != layout)
            e->over = true;     /* (never: the slots' encoding is the same) */
    }
    if (cs_flat)
        e_mov_rr(e, H_CX, H_AX);                        /* ECX = linear */
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
    e_ld32(e, H_R9, H_R8, (int32_t)offsetof(X86Jc, tag));  /* R9D = the entry's tag */
    e_alu_rm(e, 7, H_R9, H_BX, OFF(jc_tag));
    uint8_t *tag_ok = e_jcc(e, HC_E);
    e_alu_rm(e, 7, H_R9, H_BX, OFF(jc_gtag));
    slow_jcc(j, &out, HC_NE);
    e_patch(e, tag_ok);
    /* the entry's translation, of this generation (it was made for the
     * flat set of the entry's tag, which is the current one) */
    e_alu_mi(e, 7, H_R8, (int32_t)offsetof(X86Jc, code_gen), j->jit->gen);
    slow_jcc(j, &out, HC_NE);
    e_ld64(e, H_R8, H_R8, (int32_t)offsetof(X86Jc, code));
    e_alu_rr64(e, 1, H_R8, H_R8);                       /* or r8, r8: NULL is "none yet" */
    slow_jcc(j, &out, HC_E);
    /* link this exit to that block, unless this translation has linked
     * JIT_LINK_MAX times in this epoch */
    e_mov_ri64(e, H_R10, (uint64_t)(uintptr_t)j->b);
    e_cmpb_mi(e, H_R10, (int32_t)offsetof(X86Block, link_n), JIT_LINK_MAX);
    uint8_t *do_link = e_jcc(e, HC_B);
    e_ld32(e, H_CX, H_R10, (int32_t)offsetof(X86Block, link_epoch));
    e_alu_rm(e, 7, H_CX, H_BX, OFF(jc_epoch));
    uint8_t *no_link = e_jcc(e, HC_E);
    e_patch(e, do_link);
    g_flush(j, CALL_CLOBBERED);                         /* (their values, as good as any) */
    e_mov_rr64(e, H_DI, H_BX);
    e_mov_rr64(e, H_SI, H_R10);
    e_mov_ri64(e, H_DX, (uint64_t)(uintptr_t)slot0);
    e_mov_ri64(e, H_CX, layout);
    e_call_abs(e, (const void *)jit_link);              /* (code in R8, tag in R9) */
    e_mov_rr64(e, H_R8, H_AX);
    g_load(j, CALL_CLOBBERED);
    e_ld32(e, H_AX, H_BX, OFF(next_eip));
    e_ld64(e, H_DX, H_BX, OFF(icount));
    e_alu_ri64(e, 0, H_DX, (int8_t)j->b->n);
    e_patch(e, no_link);
    e_st64(e, H_DX, H_BX, OFF(icount));
    e_st32(e, H_AX, H_BX, OFF(eip));
    if (j->count) {
        e_mov_ri64(e, H_R10, (uint64_t)(uintptr_t)&j->jit->st.chained);
        e_m(e, true, 0xFF, 0, H_R10, 0);                /* inc qword [r10] */
    }
    e_alu_ri64(e, 0, H_R8, JIT_ENTRY);                  /* (EAX = EIP) */
    e_jmp_r(e, H_R8);
    for (unsigned k = 0; k < out.n; k++)
        e_patch(e, out.fix[k]);
    j->chained = true;
}

/* Debugging aids: with TESSERA_JIT_DUMP=DIR set, the host code of every
 * translated block goes to DIR/<linear EIP>-<phys>.bin, its fallbacks
 * to DIR/<linear EIP>-<phys>-cold.bin, for `objdump -D -b binary
 * -mi386:x86-64` (the jumps between them are relative to where they
 * ran). With TESSERA_JIT_PERFMAP set, every translation gets a line
 * (and its fallbacks another, "_cold_") in /tmp/perf-<pid>.map (perf's format
 * for generated code: executable address, size, name), named after the
 * guest's linear EIP and its offset in the code buffer's memfd, the
 * address perf reports for a sample in "memfd:tessera-x86-jit": a
 * profile of translated code then resolves to guest addresses (and with
 * the guest's symbol table, to guest functions). A buffer flush reuses
 * addresses: the later line holds. */
static void jit_dump(X86Cpu *c, const X86Block *b, const uint8_t *code, size_t len,
                     const uint8_t *cold, size_t cold_len)
{
    struct X86Jit *jit = c->jit;
    uint32_t lin = c->seg[S_CS].base + c->eip;
    if (jit->perfmap) {
        size_t off = (size_t)(code - jit->rw), coff = (size_t)(cold - jit->rw);
        fprintf(jit->perfmap, "%lx %zx x86_%08x_memfd_%zx\n",
                (unsigned long)(uintptr_t)(jit->rx + off), len, lin, off);
        if (cold_len)
            fprintf(jit->perfmap, "%lx %zx x86_%08x_cold_memfd_%zx\n",
                    (unsigned long)(uintptr_t)(jit->rx + coff), cold_len, lin, coff);
        fflush(jit->perfmap);
    }
    const char *dir = jit->dump_dir;
    if (!dir)
        return;
    for (int part = 0; part < 2; part++) {
        if (part && !cold_len)
            break;
        char *name = g_strdup_printf("%s/%08x-%08x%s.bin", dir, lin, b->phys, part ? "-cold" : "");
        if (!g_file_set_contents(name, (const char *)(part ? cold : code),
                                 (gssize)(part ? cold_len : len), NULL))
            g_warning("x86 jit: cannot write %s", name);
        g_free(name);
    }
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

/* A LOCK prefix the inline form serves: with a memory destination, the
 * ALU operations but CMP (LOCK CMP is #UD: the handler), INC / DEC and
 * CMPXCHG / XADD of 32 bits (a kernel's spinlocks and atomics).
 * On the one CPU the read-modify-write is atomic as it stands (devices
 * act between instructions). */
static bool lock_inline(const X86Insn *i)
{
    int idx;
    if (i->mod == 3)
        return false;
    if ((idx = find(i->fn, &x86_fast_alu[0][0][0], 8 * 3 * 5)) >= 0)
        return (unsigned)idx / 15 != 7 && (idx % 5 == FF_MR || idx % 5 == FF_MI);
    if ((i->fn == h_cmpxchg || i->fn == h_xadd) && (i->op & 1) && i->o32)
        return true;
    return i->fn == h_grp5 && i->reg <= 1;
}

/* The translation of b into j->e; the number of inline instructions. */
static unsigned translate_pass(JCtx *j)
{
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
    g_load(j, REGS_ALL);
    if (e->p != start + JIT_PROLOGUE + JIT_RELOAD)
        g_error("x86 jit: JIT_RELOAD is %u", (unsigned)(e->p - start - JIT_PROLOGUE));
    /* exec_insns: next_eip = EIP + bytes (handlers, the last
     * instruction's jump and the block's end read it; a handler that
     * changes it ends the block) */
    e_ld32(e, H_AX, H_BX, OFF(eip));
    if (e->p != start + JIT_ENTRY)
        e->over = true;     /* (never: mov eax, [rbx + disp8]) */
    e_alu_ri(e, 0, H_AX, b->bytes);
    e_st32(e, H_AX, H_BX, OFF(next_eip));
    j->body = e->p;
    /* (entered through a chain, any register may be newer than X86Cpu.r) */
    j->dirty = REGS_ALL;
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
        j->hf_in = j->hf_out;
        j->hf_out = j->hf_cold = false;
        j->pend_ok = !dead[k] && k + 1 < b->n && pend_target(&b->ins[k + 1]);
        /* LOCK: the handlers raise #UD where it is invalid */
        if ((!i->lock || lock_inline(i)) && j_inline(j, i)) {
            ninl++;
        } else {
            j_call(j, i, i->fn, true);
            j->dirty = 0;
            j->pure = false;
        }
    }
    const X86Insn *tail = &b->ins[b->n - 1];
    if (j->chain && ninl == b->n && !tail->lock && tail->fn == h_loop32)
        j_self_loop(j, j->body);
    /* the end of the block: the flags complete (the registers stay where
     * they are for the next block; j_exit writes them back) */
    defer_emit(j);
    j->ndef = 0;
    if (j->chain)
        j_chain(j);
    j_exit(j, b->n);
    return ninl;
}

static void *translate(X86Cpu *c, X86Block *b)
{
    struct X86Jit *jit = c->jit;
    JCtx j;
    /* Segments flat under the current tag are taken as flat (not in
     * lockstep mode, whose replay needs the block run by the
     * translation, nor for a block run once under a tag without a
     * segment it used); the translation then runs only under tags that
     * have those its accesses used (x86_jit_get, j_chain). */
    uint8_t flat = 0, wide = 0;
    if (c->engine == X86_ENGINE_JIT && !b->jit_noflat)
        for (unsigned sg = 0; sg < 6; sg++)
            if ((c->jc_tag & (1u << (JC_TAG_FLAT_SHIFT + sg))) && x86_seg_flat_tag(c, (int)sg))
                flat |= (uint8_t)(1u << sg);
    /* FS and GS wide now are taken as wide (any base, checked at run time) */
    for (unsigned sg = S_FS; sg <= S_GS; sg++)
        if (!(flat & (1u << sg)) && c->seg[sg].wide)
            wide |= (uint8_t)(1u << sg);
    uint8_t *cold = jit->rw + JIT_HOT + jit->cold_used;
    j = (JCtx){
        .e = { .p = jit->rw + jit->used, .lim = jit->rw + jit->used + JIT_BLOCK_MAX },
        .cold = { .p = cold, .lim = cold + JIT_BLOCK_MAX },
        .jit = jit, .b = b, .pure = true, .log = c->engine == X86_ENGINE_LOCKSTEP,
        .chain = c->engine == X86_ENGINE_JIT, .flat = flat, .wide = wide,
        .count = c->jit_count,
    };
    unsigned ninl = translate_pass(&j);
    JEm *e = &j.e;
    if (e->over || j.cold.over)
        return NULL;
    size_t len = (size_t)(e->p - (jit->rw + jit->used));
    size_t cold_len = (size_t)(j.cold.p - cold);
    void *fn = jit->rx + jit->used;
    jit_dump(c, b, jit->rw + jit->used, len, cold, cold_len);
    jit->used += (len + 15) & ~(size_t)15;
    jit->cold_used += (cold_len + 15) & ~(size_t)15;
    jit->st.blocks++;
    jit->st.insns_inline += ninl;
    jit->st.insns_call += b->n - ninl;
    jit->st.self_loops += j.looped;
    jit->st.chain_exits += j.chained;
    b->jit_pure = j.pure;
    b->jit_flat = (uint32_t)j.flat_used << JC_TAG_FLAT_SHIFT;
    return fn;
}

static X86JitFn jit_get(X86Cpu *c, X86Block *b)
{
    struct X86Jit *jit = c->jit;
    if (X86_UNLIKELY(c->engine != jit->engine)) {
        /* chaining and stores logged or not are decided at translation */
        x86_jit_flush(c);
        jit->engine = c->engine;
    }
    if (b->jit_gen == jit->gen) {
        if (X86_LIKELY(!(b->jit_flat & ~c->jc_tag)))
            return (X86JitFn)b->jit;    /* NULL: did not fit, interpret */
        /* run under a tag without a segment it took as flat: translated
         * anew with the checks */
        b->jit_noflat = 1;
        jit->st.flat_bails++;
    }
    if (b->jit_runs < c->jit_hot) {
        b->jit_runs++;
        return NULL;
    }
    if (jit->used + JIT_BLOCK_MAX > JIT_HOT || JIT_HOT + jit->cold_used + JIT_BLOCK_MAX > X86_JIT_BUF)
        x86_jit_flush(c);
    void *fn = translate(c, b);
    b->jit = fn;
    b->jit_gen = jit->gen;
    return (X86JitFn)fn;
}

X86JitFn x86_jit_get(X86Cpu *c, X86Block *b, X86Jc *jc)
{
    X86JitFn fn = jit_get(c, b);
    if (fn) {
        jc->code = (void *)fn;
        jc->code_gen = c->jit->gen;
    }
    return fn;
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
X86JitFn x86_jit_get(X86Cpu *c, X86Block *b, X86Jc *jc)
{
    (void)c;
    (void)b;
    (void)jc;
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
