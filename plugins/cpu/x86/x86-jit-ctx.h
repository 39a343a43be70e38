/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the translator's files (x86-jit.c, x86-jit-flags.c, x86-jit-ops.c)
 * share, private to them: the translation context (JCtx), the fallback
 * of an inline form (JSlow), the X86Cpu offsets the generated code
 * addresses, and the functions one file emits with for another.
 */
#ifndef TESSERA_X86_JIT_CTX_H
#define TESSERA_X86_JIT_CTX_H

#include "x86-jit.h"
#include "x86-ops.h"
#include "x86-fast.h"

#if X86_HAVE_JIT
#include "x86-jit-emit.h"
#include <stddef.h>

#define OFF(f) ((int32_t)offsetof(X86Cpu, f))
#define OREG(k) (OFF(r) + 4 * (int32_t)(k))
#define OSEG(s, f) (OFF(seg) + (int32_t)((s) * sizeof(X86Seg) + offsetof(X86Seg, f)))

/* ---- translation context --------------------------------------------------- */

typedef struct JCtx {
    JEm e;
    JEm cold;               /* the fallbacks, out of line (j_cold) */
    bool in_cold;           /* e is the cold region's emitter (j->cold stale) */
    uint8_t *exit_stub;     /* the early exits' shared tail (j_exit_early) */
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
    bool count;             /* count chained entries (X86Cpu.jit_count) */
    uint8_t dirty;          /* cached guest registers newer than X86Cpu.r */
    /* flag computations left for the block's end (defer_emit) */
    unsigned defer_from;    /* first instruction that may defer (b->n: none) */
    unsigned ndef;
    struct { uint8_t kind, reg; } defq[BLK_MAX];
    bool all_inline;        /* every instruction before this one is inline */
    bool looped;            /* the block runs again in place (j_self_jump) */
    bool chained;           /* the block's end chains (j_chain) */
    uint8_t flat;           /* segments taken as flat (j_host) */
    uint8_t flat_used;      /* of which an access used */
    uint8_t wide;           /* segments taken as wide (FS, GS; j_host) */
    bool any_call;          /* a handler call (fallbacks included) so far */
    /* The host's arithmetic flags are the guest's where the instruction
     * ends (hf_out, set by the form for a Jcc that follows: j_hflags) /
     * where it starts (hf_in, the last one's hf_out); hf_cold: the form's
     * fallback must leave them so too (slow_emit). */
    bool hf_in, hf_out, hf_cold;
    /* on every path from the block's start to here, blk_first and
     * stop_at are this block's (j_ctx_store) */
    bool ctx_stored;
    uint8_t *body;          /* after the prologue and the cache load */
    unsigned entry_live;    /* flag parts the block's start may read (LV_*) */
} JCtx;

/* The host register of each guest register (EAX ... EDI) in all
 * translated code (x86-jit.c says why these) */
static const uint8_t cache_host[8] = { H_SI, H_R13, H_R14, H_R15, H_DI, H_BP, H_R11, H_R12 };
static inline unsigned hreg(unsigned r)
{
    return cache_host[r];
}

/* Fallback of an inline form: jumps collected while emitting the fast
 * path land on a call to the instruction's own handler. */
typedef struct JSlow {
    uint8_t *fix[12];
    unsigned n;
} JSlow;

/* the handler's index in tab, or -1 */
static inline int find(X86Handler fn, const X86Handler *tab, unsigned n)
{
    for (unsigned k = 0; k < n; k++)
        if (tab[k] == fn)
            return (int)k;
    return -1;
}

/* deferred flag computations (defer_emit) */
enum { DF_INC, DF_DEC, DF_ROL, DF_ROR };

/* the kinds of access j_host checks for */
enum { ACC_RD, ACC_WR, ACC_RMW };

/* x86-jit.c: the fallbacks, the register cache (the guest registers in
 * host registers, see cache_host), the operands */
void slow_jcc(JCtx *j, JSlow *s, unsigned cc);
void slow_emit(JCtx *j, JSlow *s, const X86Insn *i);
bool j_hflags_wanted(const JCtx *j);
void j_budget(JCtx *j, JSlow *out, unsigned n);
void g_ld32(JCtx *j, unsigned h, unsigned r);
void g_dirty(JCtx *j, unsigned r);
void g_st32(JCtx *j, unsigned h, unsigned r);
void ld_reg(JCtx *j, unsigned size, unsigned h, unsigned r);
void st_reg(JCtx *j, unsigned size, unsigned h, unsigned r);
void j_ea(JCtx *j, const X86Insn *i);
void j_host(JCtx *j, JSlow *s, int seg, unsigned size, int acc);
void j_log_store(JCtx *j, unsigned size);

/* x86-jit-flags.c: lazy flags, deferred flags, flag liveness */
void f_logic(JCtx *j, unsigned size);
void j_alu_core(JCtx *j, unsigned op, unsigned size);
void f_rot(JCtx *j, unsigned op);
void f_incdec(JCtx *j, bool dec);
void defer_push(JCtx *j, unsigned kind, unsigned reg);
void defer_emit(JCtx *j);
unsigned defer_run(const X86Block *b);
unsigned flag_liveness(const X86Block *b, bool *dead);

/* x86-jit-ops.c: translate i inline, or return false (then it becomes a
 * handler call) */
bool j_inline(JCtx *j, const X86Insn *i);

#endif
#endif
