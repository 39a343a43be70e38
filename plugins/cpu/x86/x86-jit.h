/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The translating engine (x86-jit*.c): decoded blocks (X86Block) become
 * x86-64 host code. It runs on top of the interpreter's block cache, so
 * decoding, invalidation (page generations, the jump cache), the run loop's
 * events and fault delivery are the interpreter's; only the execution of a
 * whole block changes. Hot simple instructions are inlined with the
 * interpreter's lazy-flag representation; everything else is a call to the
 * instruction's own handler with its decoded X86Insn, so the two engines
 * share one set of instruction semantics.
 *
 * A translated block behaves exactly as exec_insns() in x86-run.c: it sets
 * next_eip, blk_first and stop_at (where a handler or the block's end
 * may read them), sets cur before everything that may fault or reach a
 * device, stops after an instruction that called
 * x86_break, and returns how many instructions it ran; the run loop then
 * does the interpreter's bookkeeping (icount, EIP). A block that ran to
 * its end may instead go on to the next translated block itself (chaining,
 * when the run loop would do nothing else: see j_chain in x86-jit.c),
 * doing that bookkeeping for the block it leaves; X86Cpu.jit_last names
 * the block the returned count belongs to. A translation takes the
 * segments flat under the jump cache tag it was made under as flat, and
 * runs only under tags that have them (X86Block.jit_flat).
 */
#ifndef TESSERA_X86_JIT_H
#define TESSERA_X86_JIT_H

#include "x86-cpu.h"

/* Hosts the translator emits code for; elsewhere the engine property
 * falls back to the interpreter. */
#ifndef X86_HAVE_JIT
#if defined(__x86_64__) && defined(__linux__)
#define X86_HAVE_JIT 1
#else
#define X86_HAVE_JIT 0
#endif
#endif

/* Run a translated block; returns the number of instructions executed
 * (1 .. n) of the block it ended in, which it names in X86Cpu.jit_last. */
typedef unsigned (*X86JitFn)(X86Cpu *c);

/* Set up the code buffer (W^X: one memfd mapped twice, writable and
 * executable, never both in one mapping). False when the host cannot:
 * the caller then runs the interpreter. */
bool x86_jit_init(X86Cpu *c);
void x86_jit_fini(X86Cpu *c);
/* Translated code of b, translating it now if needed; NULL: interpret.
 * jc, b's jump cache entry, learns it (what j_chain jumps to). */
X86JitFn x86_jit_get(X86Cpu *c, X86Block *b, X86Jc *jc);
/* Empty the code buffer: every block is translated anew on demand. */
void x86_jit_flush(X86Cpu *c);

/* Statistics for tests and benchmarks. */
typedef struct X86JitStats {
    uint64_t blocks;            /* blocks translated */
    uint64_t flushes;           /* code buffer flushes */
    uint64_t insns_inline;      /* instructions translated inline */
    uint64_t insns_call;        /* instructions translated as handler calls */
    uint64_t self_loops;        /* blocks that run again in place when they jump to themselves */
    uint64_t chain_exits;       /* block ends translated with a chain to the next block */
    uint64_t chained;           /* runs of a block entered through a chain, counted by
                                 * translations made with X86Cpu.jit_count set */
    uint64_t flat_bails;        /* translations redone: segments not flat as translated for */
    uint64_t lockstep_blocks;   /* blocks compared in lockstep mode */
    uint64_t lockstep_diffs;    /* of which differed */
} X86JitStats;
X86JitStats *x86_jit_stats(X86Cpu *c);
/* Set by a translated block that took a fallback (lockstep mode). */
uint8_t *x86_jit_slow_flag(X86Cpu *c);

/* Lockstep mode: the inline stores of a block run, with the bytes each
 * overwrote (size bytes at p, little-endian in old), so lockstep can undo
 * them, replay the block on the interpreter and compare what both wrote. */
#define X86_JIT_LOG_MAX (2 * BLK_MAX)
typedef struct X86JitStore {
    uint8_t *p;
    uint32_t old, size;
} X86JitStore;
typedef struct X86JitLog {
    uint32_t n;
    X86JitStore e[X86_JIT_LOG_MAX];
} X86JitLog;
X86JitLog *x86_jit_log(X86Cpu *c);

/* Code buffer size (bytes): a full buffer is flushed whole. */
#define X86_JIT_BUF (128u << 20)

#endif
