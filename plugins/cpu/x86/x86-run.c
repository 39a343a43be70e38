/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The run loop: block cache and jump cache, instruction fetch, interrupt
 * acceptance, single-step and debug traps, fault delivery with double and
 * triple fault (SDM vol. 3, 6.15 "Exception and interrupt reference",
 * table 6-5), and the reset state (vol. 3, 9.1.1, table 9-1).
 */
#include "x86-ops.h"
#include "x86-fpu.h"
#include "x86-jit.h"
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>

static bool exc_has_err(int vec)
{
    return vec == X86_DF || (vec >= X86_TS && vec <= X86_PF) || vec == X86_AC;
}

void x86_raise(X86Cpu *c, int vec, uint32_t err)
{
    c->exc_vec = vec;
    c->exc_err = err;
    c->exc_has_err = exc_has_err(vec);
    siglongjmp(c->jb, 1);
}

void x86_raise_noerr(X86Cpu *c, int vec)
{
    x86_raise(c, vec, 0);
}

static bool contributory(int v)
{
    return v == X86_DE || (v >= X86_TS && v <= X86_GP);
}

/* Deliver the fault recorded by x86_raise. A fault while delivering one
 * becomes #DF, and one while delivering #DF shuts the processor down. */
static void deliver_fault(X86Cpu *c)
{
    int vec = c->exc_vec;
    uint32_t err = c->exc_err;
    bool has_err = c->exc_has_err;
    int prev = c->delivering;
    c->rmw_ptr = NULL;
    if (prev >= 0) {
        if (prev == X86_DF) {
            c->shutdown = true;
            return;
        }
        if ((contributory(prev) && contributory(vec))
            || (prev == X86_PF && (contributory(vec) || vec == X86_PF))) {
            vec = X86_DF;
            err = 0;
            has_err = true;
        }
    }
    c->delivering = vec;
    c->halted = false;
    x86_interrupt(c, vec, INT_EXC, has_err && (c->cr0 & CR0_PE), err, c->eip);
    c->delivering = -1;
}

uint32_t x86_io_in(X86Cpu *c, uint32_t port, unsigned size)
{
    uint32_t v = c->bus.io_read(c->bus.opaque, port, size);
    x86_break(c);
    if (X86_UNLIKELY(c->dbp_io))
        x86_dbp_io(c, port, size);
    return v;
}

void x86_io_out(X86Cpu *c, uint32_t port, uint32_t v, unsigned size)
{
    c->bus.io_write(c->bus.opaque, port, v, size);
    x86_break(c);
    if (X86_UNLIKELY(c->dbp_io))
        x86_dbp_io(c, port, size);
}

/* ---- code cache ------------------------------------------------------------ */

/* Physical page pp holds code from now on: no TLB entry may write it
 * (writes take the slow path, which invalidates the page's blocks). The
 * entries that may write are in tlb_wmap: a guest whose data shares a
 * page with its code (GRUB's real-mode calls) makes this run again and
 * again, and a sweep of the whole TLB each time was 43% of the host's
 * time in GRUB's menu. */
static void mark_code_page(X86Cpu *c, uint32_t pp)
{
    if (c->code_page[pp])
        return;
    c->code_page[pp] = 1;
    for (int u = 0; u < 2; u++)
        for (unsigned w = 0; w < TLB_SIZE / 64; w++)
            for (uint64_t m = c->tlb_wmap[u][w]; m; m &= m - 1) {
                unsigned k = w * 64 + (unsigned)__builtin_ctzll(m);
                X86Tlb *e = &c->tlb[u][k];
                if (e->wtag != 1 && (e->pphys >> 12) != pp)
                    continue;
                e->wtag = 1;
                e->rwtag = 1;
                c->tlb_wmap[u][w] &= ~(1ull << (k % 64));
            }
}

static inline unsigned blk_hash(uint32_t phys)
{
    return (phys ^ (phys >> BLK_HASH_BITS) ^ (phys >> 22)) & ((1u << BLK_HASH_BITS) - 1);
}

static void arena_reset(X86Cpu *c)
{
    memset(c->bhash, 0, sizeof(X86Block *) << BLK_HASH_BITS);
    c->arena_used = 0;
    x86_jc_invalidate(c);
    /* translations point into the arena's blocks */
    x86_jit_flush(c);
}

/* Room for a block of BLK_MAX instructions; blk_build takes what it
 * uses. A full arena is emptied (every block decoded anew on demand). */
static X86Block *blk_alloc(X86Cpu *c)
{
    size_t need = sizeof(X86Block) + BLK_MAX * sizeof(X86Insn);
    if (c->arena_used + need > BLK_ARENA)
        arena_reset(c);
    return (X86Block *)(c->arena + c->arena_used);
}

/* The TLB entry through which the page after lin's runs, when it holds
 * one for execution at the current privilege: no walk, so no fault (a
 * fault, or the CS limit, is exec_slow's to raise, byte by byte). */
static X86Tlb *next_page_entry(X86Cpu *c, uint32_t lin)
{
    uint32_t lin2 = (lin | 0xFFFu) + 1;
    X86Tlb *e = x86_tlb_entry(c, lin2);
    if (lin2 == 0 || e->rtag != lin2 || (e->pphys & TLBF_NX))
        return NULL;
    return e;
}

/* A block's instructions that run on into the next page are still the
 * ones decoded: that page maps where it did, unwritten since. */
static bool cross_valid(X86Cpu *c, const X86Block *b, uint32_t lin)
{
    const X86Tlb *e = next_page_entry(c, lin);
    return e && (e->pphys & ~0xFFFu) == b->phys2 && c->page_gen[b->phys2 >> 12] == b->gen2;
}

/* The instruction at offset off of page that runs on into the next page
 * (lin is its linear address), decoded into ins from both pages' bytes
 * when the next page is in the TLB; its length, or 0. The kernel's code
 * crosses a page every few thousand instructions: uncached, each of
 * those was a jump-cache miss and a byte-by-byte fetch on every run
 * (about 100 per frame Linux sends). */
static unsigned decode_cross(X86Cpu *c, const uint8_t *page, unsigned off, uint32_t lin,
                             X86Insn *ins, uint32_t *phys2)
{
    X86Tlb *e = next_page_entry(c, lin);
    if (!e)
        return 0;
    uint8_t buf[15];
    unsigned here = 0x1000 - off;
    memcpy(buf, page + off, here);
    memcpy(buf + here, (const uint8_t *)(e->radd + (lin | 0xFFFu) + 1), sizeof(buf) - here);
    unsigned len = x86_decode(buf, sizeof(buf), c->code32, ins);
    if (len <= here)
        return 0;       /* (never: it would have decoded from this page) */
    *phys2 = e->pphys & ~0xFFFu;
    return len;
}

/* Decode the block at physical address phys (host page `page`, offset
 * off; linear address lin) into fresh arena space and enter it in the
 * hash. */
static X86Block *blk_build(X86Cpu *c, uint32_t phys, const uint8_t *page, unsigned off,
                           uint32_t lin)
{
    uint32_t pp = phys >> 12;
    mark_code_page(c, pp);
    X86Block *b = blk_alloc(c);
    unsigned n = 0, bytes = 0;
    b->cross = 0;
    while (n < BLK_MAX && off < 0x1000) {
        X86Insn *ins = &b->ins[n];
        unsigned len = x86_decode(page + off, 0x1000 - off, c->code32, ins);
        if (len == 0) {
            /* an instruction that crosses the page ends the block before
             * it, or is a block of its own */
            if (n == 0 && 0x1000 - off < 15 && (len = decode_cross(c, page, off, lin, ins, &b->phys2))) {
                b->cross = 1;
                b->gen2 = c->page_gen[b->phys2 >> 12];
                mark_code_page(c, b->phys2 >> 12);
                n = 1;
                bytes = len;
                ins->end = (uint16_t)bytes;
            }
            break;
        }
        n++;
        off += len;
        bytes += len;
        ins->end = (uint16_t)bytes;
        if (ins->ends)
            break;
    }
    if (n == 0)
        return NULL;
    b->phys = phys;
    b->gen = c->page_gen[pp];
    b->ggen = c->ggen;
    b->code32 = c->code32;
    b->n = (uint8_t)n;
    b->bytes = (uint16_t)bytes;
    b->jit = NULL;
    b->jit_gen = 0;
    b->jit_runs = 0;
    b->jit_pure = 0;
    b->jit_noflat = 0;
    b->jit_flat = 0;
    c->arena_used += (sizeof(X86Block) + n * sizeof(X86Insn) + 15) & ~(size_t)15;
    X86Block **head = &c->bhash[blk_hash(phys)];
    b->hnext = *head;
    *head = b;
    return b;
}

static inline unsigned jc_hash(uint32_t lin)
{
    return (lin ^ (lin >> JC_BITS)) & (JC_SIZE - 1);
}

/* A new jump cache epoch. When it wraps, every entry goes, and every
 * translation: their links (x86-jit.c jit_link) hold tags of old epochs. */
static void jc_epoch_next(X86Cpu *c, bool global)
{
    if (global) {
        c->jc_gepoch++;
        memset(c->jc_gregion, 0, sizeof(c->jc_gregion));
    }
    if (++c->jc_epoch >= JC_EPOCH_MAX || c->jc_gepoch >= JC_EPOCH_MAX) {
        c->jc_epoch = 1;
        c->jc_gepoch = 1;
        memset(c->jc, 0, sizeof(X86Jc) * JC_SIZE);
        x86_jit_flush(c);
    }
}

void x86_jc_invalidate(X86Cpu *c)
{
    jc_epoch_next(c, true);
    x86_break(c);
}

void x86_jc_invalidate_nonglobal(X86Cpu *c)
{
    jc_epoch_next(c, false);
    x86_break(c);
}

/* INVLPG of lin: it drops the TLB's entries for lin's page and for any
 * large page of its 4 MiB (x86_tlb_flush_page). Blocks entered with the
 * global tag stand for global TLB entries: those of other 4 MiB regions
 * were not dropped, and stay, as the TLB's would. (Linux's kmap and
 * fixmap INVLPGs, a few a millisecond in a guest's download, dropped the
 * whole kernel's jump cache entries and links each time.) */
void x86_jc_invalidate_page(X86Cpu *c, uint32_t lin)
{
    if (c->jc_gregion[lin >> 22])
        x86_jc_invalidate(c);
    else
        x86_jc_invalidate_nonglobal(c);
}

/* Recompute what block lookup depends on. Everything that changes it
 * (CS, CPL, the jump cache epoch, a segment becoming flat or not) sets
 * brk, which brings the run loop here before the next lookup. */
static void mode_refresh(X86Cpu *c)
{
    uint32_t lim = c->seg[S_CS].limit;
    /* sequential 16-bit code wraps at 64 KiB: decode_slow does that */
    if (!c->code32 && lim > 0xFFFE)
        lim = 0xFFFE;
    if (lim != c->exec_lim) {
        c->exec_lim = lim;
        jc_epoch_next(c, true);
    }
    uint32_t flat = 0;
    for (unsigned s = 0; s < 6; s++)
        if (x86_seg_flat_tag(c, (int)s))
            flat |= 1u << (JC_TAG_FLAT_SHIFT + s);
    uint32_t mode = flat | (c->cpl == 3 ? JC_TAG_USER : 0) | (c->code32 ? JC_TAG_CODE32 : 0);
    c->jc_tag = (c->jc_epoch << JC_TAG_EPOCH_SHIFT) | mode;
    c->jc_gtag = (c->jc_gepoch << JC_TAG_EPOCH_SHIFT) | JC_TAG_GLOBAL | mode;
}

/* The block at CS:EIP through the TLB and the physical hash, or NULL when
 * the code must run uncached (MMIO, an instruction crossing a page). */
static X86Block *get_block_slow(X86Cpu *c, uint32_t lin, bool *global)
{
    X86Tlb *e = x86_tlb_entry(c, lin);
    uint32_t phys;
    const uint8_t *page;
    *global = false;
    if (e->rtag == (lin & ~0xFFFu) && !(e->pphys & TLBF_NX)) {
        *global = e->pphys & TLBF_G;
        phys = (e->pphys & ~0xFFFu) | (lin & 0xFFF);
        page = (const uint8_t *)(e->radd + (lin & ~0xFFFu));
    } else {
        /* (a page a data breakpoint watches has no TLB entry, yet its
         * code runs from the block cache: fill_host; a page read as data
         * but not executable walks again, to fault) */
        uint64_t pa = x86_tlb_fill(c, lin, 2, c->cpl == 3);
        if (!c->fill_host)
            return NULL;
        phys = (uint32_t)pa;
        page = c->fill_host;
    }
    uint32_t gen = c->page_gen[phys >> 12];
    X86Block **pb = &c->bhash[blk_hash(phys)];
    for (X86Block *b; (b = *pb) != NULL; pb = &b->hnext) {
        if (b->phys != phys || b->code32 != c->code32)
            continue;
        if (b->gen == gen && b->ggen == c->ggen && (!b->cross || cross_valid(c, b, lin))) {
            *global &= !b->cross;
            return b;
        }
        *pb = b->hnext;     /* stale: unlink, decode anew */
        break;
    }
    X86Block *b = blk_build(c, phys, page, lin & 0xFFF, lin);
    *global &= b && !b->cross;
    return b;
}

/* A jump cache miss for CS:EIP (lin): the block through the TLB and the
 * physical hash, entered in the cache, or NULL when the code must run
 * uncached. A cache entry also vouches for the CS limit check: it was
 * made for this EIP, and a change of exec_lim moves the epoch
 * (mode_refresh). */
static X86Block *get_block_miss(X86Cpu *c, X86Jc *j, uint32_t eip, uint32_t lin)
{
    if (eip > c->exec_lim)
        return NULL;
    bool global;
    X86Block *b = get_block_slow(c, lin, &global);
    if (!b || (uint64_t)eip + b->bytes - 1 > c->exec_lim)
        return NULL;
    j->lin = lin;
    j->eip = eip;
    j->tag = global ? c->jc_gtag : c->jc_tag;
    if (global)
        c->jc_gregion[lin >> 22] = 1;
    j->b = b;
    j->code = NULL;
    return b;
}

/* The block at CS:EIP, or NULL: run one instruction through decode_slow. */
static inline X86Block *get_block(X86Cpu *c)
{
    uint32_t eip = c->eip;
    uint32_t lin = c->seg[S_CS].base + eip;
    X86Jc *j = &c->jc[jc_hash(lin)];
    if (X86_LIKELY(j->lin == lin && (j->tag == c->jc_tag || j->tag == c->jc_gtag) && j->eip == eip))
        return j->b;
    return get_block_miss(c, j, eip, lin);
}

/* Fetch and decode one instruction byte by byte, so limit and page
 * faults hit exactly the byte that needs them. */
static void decode_slow(X86Cpu *c, X86Insn *ins)
{
    uint8_t buf[16];
    uint32_t lim = c->seg[S_CS].limit;
    for (unsigned avail = 0; avail < 15;) {
        uint32_t off = c->eip + avail;
        if (!c->code32)
            off &= 0xFFFF;
        if (off > lim)
            x86_gp(c, 0);
        buf[avail++] = (uint8_t)x86_fetch_slow(c, c->seg[S_CS].base + off);
        if (x86_decode(buf, avail, c->code32, ins))
            goto done;
    }
    x86_decode(buf, 15, c->code32, ins);
done:
    ins->end = ins->len;
}

/* After a run of a block's instructions that ended after ins (the last
 * one to run was `last` unless one called x86_break): retire them and
 * move EIP on. */
static inline void exec_done(X86Cpu *c, const X86Insn *ins, const X86Insn *last, unsigned n)
{
    c->cur = NULL;
    if (X86_LIKELY(ins == last)) {
        c->icount += n;
        c->eip = c->next_eip;
        return;
    }
    c->icount += (uint64_t)(ins - c->blk_first) + 1;
    if (c->redirect) {
        c->eip = c->next_eip;
        c->redirect = false;
    } else {
        c->eip += ins->end;
        if (!c->code32)
            c->eip &= 0xFFFF;
    }
}

/* Run n instructions (n >= 1) starting at ins, the first at c->eip; next
 * is the EIP after the n-th. The last one may branch (it sets next_eip,
 * preset to its fall-through); an instruction that calls x86_break ends
 * the run after itself. Nothing is counted per instruction: c->cur says
 * where we are if a fault or a device needs to know. */
static inline void exec_insns(X86Cpu *c, const X86Insn *ins, unsigned n, uint32_t next)
{
    const X86Insn *last = ins + n - 1;
    c->next_eip = next;
    c->blk_first = ins;
    c->stop_at = last;
    for (;;) {
        c->cur = ins;
        ins->fn(c, ins);
        if (ins == c->stop_at)
            break;
        ins++;
    }
    exec_done(c, ins, last, n);
}

/* ---- translating engine ---------------------------------------------------- */

#if X86_HAVE_JIT
/* A translated block may chain to others (x86-jit.c): each one it
 * completes is retired there, and the count returned is that of the
 * block it left from, which it names in jit_last. */
static inline void jit_run(X86Cpu *c, X86JitFn fn)
{
    unsigned k = fn(c);
    X86Block *b = c->jit_last;
    exec_done(c, &b->ins[k - 1], &b->ins[b->n - 1], b->n);
}

/* What lockstep compares: the state a block of register operations and
 * RAM loads can change, lazy flags in their own representation. */
enum { LS_EIP = 8, LS_NEXT, LS_EFLAGS, LS_RES, LS_AUX, LS_N };
typedef struct LsState {
    uint32_t v[LS_N];       /* EAX-EDI, then the above */
    uint64_t icount;
} LsState;

static void ls_save(const X86Cpu *c, LsState *s)
{
    memcpy(s->v, c->r, 8 * sizeof(uint32_t));
    s->v[LS_EIP] = c->eip;
    s->v[LS_NEXT] = c->next_eip;
    s->v[LS_EFLAGS] = c->eflags;
    s->v[LS_RES] = c->lf_res;
    s->v[LS_AUX] = c->lf_aux;
    s->icount = c->icount;
}

static void ls_load(X86Cpu *c, const LsState *s)
{
    memcpy(c->r, s->v, 8 * sizeof(uint32_t));
    c->eip = s->v[LS_EIP];
    c->next_eip = s->v[LS_NEXT];
    c->eflags = s->v[LS_EFLAGS];
    c->lf_res = s->v[LS_RES];
    c->lf_aux = s->v[LS_AUX];
    c->icount = s->icount;
}

/* Lockstep: run a block of inline forms on the translator, then again on
 * the interpreter from the same state, and compare the registers, the
 * lazy flags, the instruction count and the RAM each one wrote. The
 * translation logs its stores (address and the bytes overwritten):
 * lockstep keeps what the translator wrote, undoes the stores in reverse
 * order, replays, and compares the interpreter's bytes at the same
 * addresses. A block that took a fallback (a handler call, which may
 * have touched a device) or stopped early is not replayed. The
 * interpreter's result stands; a difference is reported and stops the
 * machine (shutdown). */
static void jit_lockstep(X86Cpu *c, X86Block *b, X86JitFn fn)
{
    LsState pre, tr, in;
    uint8_t *slow = x86_jit_slow_flag(c);
    X86JitLog *log = x86_jit_log(c);
    ls_save(c, &pre);
    *slow = 0;
    log->n = 0;
    jit_run(c, fn);
    if (*slow || c->brk || c->eip != c->next_eip || log->n > X86_JIT_LOG_MAX)
        return;
    unsigned nst = log->n;
    uint32_t wrote[X86_JIT_LOG_MAX];
    for (unsigned k = 0; k < nst; k++) {
        wrote[k] = 0;
        memcpy(&wrote[k], log->e[k].p, log->e[k].size);
    }
    for (unsigned k = nst; k-- > 0;)
        memcpy(log->e[k].p, &log->e[k].old, log->e[k].size);
    ls_save(c, &tr);
    ls_load(c, &pre);
    exec_insns(c, b->ins, b->n, c->eip + b->bytes);
    ls_save(c, &in);
    X86JitStats *st = x86_jit_stats(c);
    st->lockstep_blocks++;
    unsigned bad = nst;
    for (unsigned k = 0; k < nst && bad == nst; k++) {
        uint32_t v = 0;
        memcpy(&v, log->e[k].p, log->e[k].size);
        if (v != wrote[k])
            bad = k;
    }
    if (memcmp(tr.v, in.v, sizeof(tr.v)) == 0 && tr.icount == in.icount && bad == nst)
        return;
    st->lockstep_diffs++;
    fprintf(stderr, "x86 lockstep: block at %08x (phys %08x, %u insns) differs:\n",
            pre.v[LS_EIP], b->phys, b->n);
    static const char *const names[LS_N] = {
        "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
        "eip", "next_eip", "eflags", "lf_res", "lf_aux",
    };
    for (unsigned k = 0; k < LS_N; k++)
        if (tr.v[k] != in.v[k])
            fprintf(stderr, "  %-8s translated %08x interpreted %08x (before %08x)\n",
                    names[k], tr.v[k], in.v[k], pre.v[k]);
    if (tr.icount != in.icount)
        fprintf(stderr, "  icount translated %llu interpreted %llu\n",
                (unsigned long long)tr.icount, (unsigned long long)in.icount);
    if (bad != nst) {
        uint32_t v = 0;
        memcpy(&v, log->e[bad].p, log->e[bad].size);
        fprintf(stderr, "  store %u (%u bytes) translated %08x interpreted %08x (before %08x)\n",
                bad, log->e[bad].size, wrote[bad], v, log->e[bad].old);
    }
    c->shutdown = true;
    c->brk = 1;
}
#endif

/* A whole block, on the engine the CPU is set to; j: its jump cache
 * entry (x86_jit_get). */
static inline void exec_block(X86Cpu *c, X86Block *b, X86Jc *j)
{
#if X86_HAVE_JIT
    if (c->engine != X86_ENGINE_INTERP) {
        X86JitFn fn = x86_jit_get(c, b, j);
        if (fn) {
            if (X86_UNLIKELY(c->engine == X86_ENGINE_LOCKSTEP) && b->jit_pure)
                jit_lockstep(c, b, fn);
            else
                jit_run(c, fn);
            return;
        }
    }
#endif
    exec_insns(c, b->ins, b->n, c->eip + b->bytes);
}

/* One instruction fetched byte by byte (see decode_slow). */
static void exec_slow(X86Cpu *c)
{
    X86Insn tmp;
    decode_slow(c, &tmp);
    uint32_t next = c->eip + tmp.len;
    if (!c->code32)
        next &= 0xFFFF;
    exec_insns(c, &tmp, 1, next);
}

/* Instruction breakpoints: faults before the instruction, unless RF. */
static bool breakpoint_hit(X86Cpu *c)
{
    if (!c->dbp_insn || (c->eflags & F_RF))
        return false;
    uint32_t lin = c->seg[S_CS].base + c->eip;
    bool hit = false;
    for (int n = 0; n < 4; n++) {
        if ((c->dbp_insn & (1u << n)) && c->dr[n] == lin) {
            c->dr[6] |= 1u << n;
            hit = true;
        }
    }
    return hit;
}

/* One instruction with single-step / breakpoint semantics. */
static void step_one(X86Cpu *c)
{
    if (breakpoint_hit(c))
        x86_raise_noerr(c, X86_DB);
    bool tf = c->eflags & F_TF;
    c->rf_loaded = false;
    X86Block *b = get_block(c);
    if (b)
        exec_insns(c, b->ins, 1, c->eip + b->ins[0].end);
    else
        exec_slow(c);
    /* RF lasts one instruction, unless that one (IRET) loaded it */
    if (!c->rf_loaded)
        c->eflags &= ~F_RF;
    c->rf_loaded = false;
    /* the trap is delivered by run_events, after the limit check: its
     * delivery may fault, and that fault's delivery counts */
    if (tf && !c->halted) {
        c->dr[6] |= DR6_BS;
        c->db_trap = true;
    }
}

/* Accept NMI or INTR between instructions. Returns true if one was taken. */
static bool take_interrupt(X86Cpu *c)
{
    if (c->inhibit)
        return false;
    if (c->nmi_pending && !c->nmi_blocked) {
        c->nmi_pending = false;
        c->nmi_blocked = true;
        c->halted = false;
        x86_interrupt(c, X86_NMI, INT_HW, false, 0, c->eip);
        return true;
    }
    if (c->intr && (c->eflags & F_IF)) {
        uint8_t vec = c->bus.intack(c->bus.opaque);
        c->halted = false;
        x86_interrupt(c, vec, INT_HW, false, 0, c->eip);
        return true;
    }
    return false;
}

/* Everything that is not "run the next block": interrupts, HLT, the
 * limit, single-step. Entered whenever brk is set; returns an exit code,
 * or -1 to go on (with brk set again when the check must repeat). */
static int run_events(X86Cpu *c)
{
    c->brk = 0;
    if (X86_UNLIKELY(c->shutdown))
        return X86_EXIT_SHUTDOWN;   /* lockstep found a difference */
    mode_refresh(c);
    /* The limit first: nothing past it may retire or count, and a
     * delivery that faults counts (see x86_run). */
    if (c->icount >= *c->limitp || *c->stop) {
        c->brk = 1;
        return X86_EXIT_LIMIT;
    }
    if (c->inhibit && c->icount != c->inhibit_at)
        c->inhibit = false;     /* the shadowed instruction has run */
    if (c->db_trap) {
        /* single-step, or a data or I/O breakpoint matched during the
         * last instruction */
        c->db_trap = false;
        c->brk = 1;
        x86_interrupt(c, X86_DB, INT_EXC, false, 0, c->eip);
        return -1;
    }
    if (X86_UNLIKELY(x86_irq_pending(c)) && take_interrupt(c)) {
        c->brk = 1;
        return -1;
    }
    if (c->halted) {
        c->brk = 1;
        return X86_EXIT_HALTED;
    }
    /* (RF set by IRET: one instruction, then it clears) */
    if (c->inhibit || (c->eflags & (F_TF | F_RF)) || c->dbp_insn) {
        bool inh = c->inhibit;
        step_one(c);
        if (inh)
            c->inhibit = false;
        c->brk = 1;
    }
    return -1;
}

/* The run loop proper, apart from x86_run so that sigsetjmp there does
 * not make the compiler keep c and the loop variables in memory. */
static __attribute__((noinline)) int run_loop(X86Cpu *c)
{
    /* The limit only moves in device callbacks, which come from port or
     * MMIO accesses (they set brk) or between runs: read it with brk. */
    uint64_t lim = 0;
    for (;;) {
        if (X86_UNLIKELY(c->brk)) {
            int r = run_events(c);
            if (r >= 0)
                return r;
            lim = *c->limitp;
            c->chain_lim = lim > BLK_MAX ? lim - BLK_MAX : 0;
            if (c->brk)
                continue;
        }
        uint32_t eip = c->eip;
        uint32_t lin = c->seg[S_CS].base + eip;
        X86Jc *j = &c->jc[jc_hash(lin)];
        X86Block *b;
        if (X86_LIKELY(j->lin == lin && (j->tag == c->jc_tag || j->tag == c->jc_gtag) && j->eip == eip)) {
            b = j->b;
        } else {
            b = get_block_miss(c, j, eip, lin);
            if (X86_UNLIKELY(!b || c->brk)) {
                /* a lookup that flushed the code cache (brk) re-checks first */
                if (c->brk)
                    continue;
                if (c->icount >= lim || *c->stop) {
                    c->brk = 1;
                    return X86_EXIT_LIMIT;
                }
                exec_slow(c);
                continue;
            }
        }
        unsigned n = b->n;
        if (X86_UNLIKELY(c->icount + n > lim || *c->stop)) {
            /* the block would cross the limit: run what fits, then stop */
            if (c->icount >= lim || *c->stop) {
                c->brk = 1;
                return X86_EXIT_LIMIT;
            }
            n = (unsigned)(lim - c->icount);
            exec_insns(c, b->ins, n, c->eip + b->ins[n - 1].end);
            continue;
        }
        exec_block(c, b, j);
    }
}

int x86_run(X86Cpu *c, const volatile uint64_t *icount_limit, volatile int *stop)
{
    static volatile int no_stop;
    c->limitp = icount_limit;
    c->stop = stop ? stop : &no_stop;
    c->cur = NULL;
    c->brk = 1;
    if (c->engine != X86_ENGINE_INTERP && !c->jit && !x86_jit_init(c))
        c->engine = X86_ENGINE_INTERP;      /* no translator on this host */
    if (sigsetjmp(c->jb, 0)) {
        /* The faulting instruction did not retire; those before it in its
         * block did. A delivery counts as an instruction: time passes, and
         * a guest whose handlers fault again and again still reaches the
         * limit. It counts once per event: a fault raised while delivering
         * another (the way to #DF and to shutdown) is part of the same
         * delivery, or a triple fault at the limit would overshoot it. */
        if (c->cur) {
            c->icount += (uint64_t)(c->cur - c->blk_first);
            c->eip += c->cur->end - c->cur->len;
            if (!c->code32)
                c->eip &= 0xFFFF;
            c->cur = NULL;
        }
        c->redirect = false;
        c->db_trap = false;     /* the instruction did not complete */
        if (c->delivering < 0)
            c->icount++;
        c->brk = 1;
        deliver_fault(c);
        if (c->shutdown) {
            c->delivering = -1;
            return X86_EXIT_SHUTDOWN;
        }
    }
    if (c->shutdown)
        return X86_EXIT_SHUTDOWN;
    return run_loop(c);
}

/* ---- life cycle --------------------------------------------------------- */

/* The block arena and the per-page tables span the whole 4 GiB physical
 * space (21 MiB) while a guest touches a few pages of them: mapped
 * anonymous memory costs only the pages written (zero-filled on first
 * touch), where malloc'd memory cost its size up front in allocators that
 * prepare what they hand out (a sanitizer's shadow: a machine built and
 * freed per snapshot restore spent most of its time there). */
static void *x86_zmap(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED)
        g_error("x86: cannot map %zu bytes: %s", n, g_strerror(errno));
    return p;
}

static void x86_zunmap(void *p, size_t n)
{
    if (p)
        munmap(p, n);
}

void x86_init(X86Cpu *c, X86Model model, const X86Bus *bus)
{
    memset(c, 0, sizeof(*c));
    c->bus = *bus;
    x86_set_model(c, model);
    c->bhash = x86_zmap(sizeof(X86Block *) << BLK_HASH_BITS);
    c->arena = x86_zmap(BLK_ARENA);
    c->jc = x86_zmap(sizeof(X86Jc) * JC_SIZE);
    c->jc_epoch = 1;
    c->jc_gepoch = 1;
    c->code_page = x86_zmap(CODE_PAGES);
    c->page_gen = x86_zmap(CODE_PAGES * sizeof(uint32_t));
    c->ggen = 1;
    c->a20 = true;
    c->a20_mask = 0xFFFFFFFFu;
    c->jit_hot = 1;
    x86_reset(c);
}

void x86_fini(X86Cpu *c)
{
    x86_jit_fini(c);
    x86_zunmap(c->bhash, sizeof(X86Block *) << BLK_HASH_BITS);
    x86_zunmap(c->arena, BLK_ARENA);
    x86_zunmap(c->jc, sizeof(X86Jc) * JC_SIZE);
    x86_zunmap(c->code_page, CODE_PAGES);
    x86_zunmap(c->page_gen, CODE_PAGES * sizeof(uint32_t));
    c->bhash = NULL;
    c->arena = NULL;
    c->jc = NULL;
    c->code_page = NULL;
    c->page_gen = NULL;
}

static void seg_reset(X86Cpu *c, int s, uint16_t sel, uint32_t base, uint32_t attr)
{
    c->seg[s].sel = sel;
    c->seg[s].base = base;
    c->seg[s].limit = 0xFFFF;
    c->seg[s].attr = attr;
}

void x86_reset(X86Cpu *c)
{
    memset(c->r, 0, sizeof(c->r));
    c->r[R_EDX] = c->mi->signature;
    c->eip = c->next_eip = 0xFFF0;
    c->eflags = 2;
    x86_set_arith(c, 0);
    c->cr0 = 0x60000010u;
    c->cr2 = c->cr3 = c->cr4 = 0;
    memset(c->dr, 0, sizeof(c->dr));
    c->dr[6] = 0xFFFF0FF0u;
    c->dr[7] = 0x400;
    uint32_t data = D_P | D_S | D_RW | D_ACC;
    for (int s = 0; s < 6; s++)
        seg_reset(c, s, 0, 0, data);
    seg_reset(c, S_CS, 0xF000, 0xFFFF0000u, data | D_CODE);
    seg_reset(c, S_LDTR, 0, 0, D_P | (2u << 8));
    seg_reset(c, S_TR, 0, 0, D_P | (11u << 8));
    c->gdt_base = c->idt_base = 0;
    c->gdt_limit = c->idt_limit = 0xFFFF;
    c->sysenter_cs = c->sysenter_esp = c->sysenter_eip = 0;
    memset(c->mtrr, 0, sizeof(c->mtrr));
    c->mc_addr = c->mc_type = 0;
    c->efer = 0;
    c->pat = PAT_DEFAULT;
    c->misc_enable = x86_family(c) == 15 ? 0x1801 : 0;
    memset(c->pdpte, 0, sizeof(c->pdpte));
    memset(c->xmm, 0, sizeof(c->xmm));
    c->mxcsr = 0x1F80;      /* all SIMD exceptions masked (SDM vol. 3, 9.1.1) */
    c->halted = false;
    c->inhibit = false;
    c->nmi_pending = false;
    c->nmi_blocked = false;
    c->shutdown = false;
    c->delivering = -1;
    c->tsc_offset = 0;
    c->tsc_offset = (uint64_t)0 - x86_tsc(c);
    c->cpl = 0;
    c->db_trap = false;
    x86_fpu_reset(c, false);
    x86_update_mode(c);
    x86_dr_update(c);
    x86_tlb_flush(c);
    c->ggen++;
    x86_jc_invalidate(c);
    /* a reset from a device access mid-block: continue at FFF0 */
    c->redirect = c->cur != NULL;
}
