/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The run loop: block cache, instruction fetch, interrupt acceptance,
 * single-step and breakpoint traps, fault delivery with double and triple
 * fault (SDM vol. 3, 6.15 "Exception and interrupt reference", table 6-5),
 * and the reset state (vol. 3, 9.1.1, table 9-1).
 */
#include "x86-ops.h"

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
    if (vec == X86_DB || vec == X86_NMI) {
        /* trap-like #DB from ICEBP etc. handled by their callers */
    }
    x86_interrupt(c, vec, INT_EXC, has_err && (c->cr0 & CR0_PE), err, c->eip);
    c->delivering = -1;
}

uint32_t x86_io_in(X86Cpu *c, uint32_t port, unsigned size)
{
    uint32_t v = c->bus.io_read(c->bus.opaque, port, size);
    c->brk = 1;
    return v;
}

void x86_io_out(X86Cpu *c, uint32_t port, uint32_t v, unsigned size)
{
    c->bus.io_write(c->bus.opaque, port, v, size);
    c->brk = 1;
}

/* ---- block cache --------------------------------------------------------- */

static bool ends_block(X86Handler fn)
{
    return fn == h_jcc || fn == h_jmp_rel || fn == h_call_rel || fn == h_ret
        || fn == h_loop || fn == h_jmp_far || fn == h_call_far || fn == h_retf
        || fn == h_iret || fn == h_grp5 || fn == h_int || fn == h_int3
        || fn == h_into || fn == h_int1 || fn == h_hlt || fn == h_sysenter
        || fn == h_sysexit || fn == h_ud || fn == h_gp0 || fn == h_lock_ud;
}

static void mark_code_page(X86Cpu *c, uint32_t pp)
{
    if (c->code_page[pp])
        return;
    c->code_page[pp] = 1;
    for (int u = 0; u < 2; u++)
        for (unsigned k = 0; k < TLB_SIZE; k++)
            if (c->tlb[u][k].wtag != 1 && (c->tlb[u][k].pphys >> 12) == pp)
                c->tlb[u][k].wtag = 1;
}

static inline unsigned blk_hash(uint32_t phys)
{
    return (phys ^ (phys >> BLK_CACHE_BITS) ^ (phys >> 20)) & ((1u << BLK_CACHE_BITS) - 1);
}

/* The block at CS:EIP, or NULL when the code must run uncached (MMIO,
 * an instruction crossing a page, near the CS limit). */
static X86Block *get_block(X86Cpu *c)
{
    uint32_t lin = c->seg[S_CS].base + c->eip;
    X86Tlb *e = &c->tlbc[(lin >> 12) & (TLB_SIZE - 1)];
    if (e->rtag != (lin & ~0xFFFu)) {
        if (c->eip > c->seg[S_CS].limit)
            return NULL;
        x86_tlb_fill(c, lin, 2, c->cpl == 3);
        if (e->rtag != (lin & ~0xFFFu))
            return NULL;
    }
    uint32_t phys = e->pphys | (lin & 0xFFF);
    uint32_t pp = phys >> 12;
    X86Block *b = &c->blocks[blk_hash(phys)];
    if (!(b->phys == phys && b->ggen == c->ggen && b->code32 == c->code32
          && b->gen == c->page_gen[pp])) {
        const uint8_t *page = (const uint8_t *)(e->radd + (lin & ~0xFFFu));
        unsigned off = lin & 0xFFF, n = 0, bytes = 0;
        mark_code_page(c, pp);
        while (n < BLK_MAX && off < 0x1000) {
            X86Insn *ins = &b->ins[n];
            unsigned len = x86_decode(page + off, 0x1000 - off, c->code32, ins);
            if (len == 0)
                break;
            n++;
            off += len;
            bytes += len;
            if (ends_block(ins->fn))
                break;
        }
        if (n == 0) {
            b->ggen = 0;
            return NULL;
        }
        b->phys = phys;
        b->ggen = c->ggen;
        b->gen = c->page_gen[pp];
        b->code32 = c->code32;
        b->n = (uint8_t)n;
        b->bytes = (uint16_t)bytes;
    }
    if ((uint64_t)c->eip + b->bytes - 1 > c->seg[S_CS].limit)
        return NULL;
    return b;
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
        buf[avail++] = (uint8_t)x86_lin_read_slow(c, c->seg[S_CS].base + off, 1, c->cpl == 3);
        if (x86_decode(buf, avail, c->code32, ins))
            return;
    }
    x86_decode(buf, 15, c->code32, ins);
}

static inline void exec_one(X86Cpu *c, const X86Insn *ins)
{
    c->next_eip = c->eip + ins->len;
    if (!c->code32)
        c->next_eip &= 0xFFFF;
    ins->fn(c, ins);
    c->eip = c->next_eip;
    c->icount++;
}

static bool breakpoint_hit(X86Cpu *c)
{
    uint32_t dr7 = c->dr[7];
    if (!(dr7 & 0xFF) || (c->eflags & F_RF))
        return false;
    uint32_t lin = c->seg[S_CS].base + c->eip;
    bool hit = false;
    for (int n = 0; n < 4; n++) {
        if (!(dr7 & (3u << (2 * n))))
            continue;
        unsigned rw = (dr7 >> (16 + 4 * n)) & 3;
        if (rw == 0 && c->dr[n] == lin) {
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
    X86Block *b = get_block(c);
    X86Insn tmp;
    const X86Insn *ins;
    if (b) {
        ins = &b->ins[0];
    } else {
        decode_slow(c, &tmp);
        ins = &tmp;
    }
    exec_one(c, ins);
    c->eflags &= ~F_RF;
    if (tf && !c->halted) {
        c->dr[6] |= 0x4000;   /* BS */
        x86_interrupt(c, X86_DB, INT_EXC, false, 0, c->eip);
    }
}

static bool irq_pending(X86Cpu *c)
{
    return (c->nmi_pending && !c->nmi_blocked) || (c->intr && (c->eflags & F_IF));
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

int x86_run(X86Cpu *c, const volatile uint64_t *icount_limit, volatile int *stop)
{
    c->limitp = icount_limit;
    c->stop = stop;
    if (sigsetjmp(c->jb, 0)) {
        /* A delivery counts as an instruction: time passes, and a guest
         * whose handlers fault again and again still reaches the limit. */
        c->icount++;
        deliver_fault(c);
        if (c->shutdown) {
            c->delivering = -1;
            return X86_EXIT_SHUTDOWN;
        }
    }
    if (c->shutdown)
        return X86_EXIT_SHUTDOWN;
    for (;;) {
        if (c->icount >= *c->limitp || (c->stop && *c->stop))
            return X86_EXIT_LIMIT;
        c->brk = 0;
        if (X86_UNLIKELY(irq_pending(c)) && take_interrupt(c))
            continue;
        if (c->halted)
            return X86_EXIT_HALTED;
        if (X86_UNLIKELY(c->inhibit || (c->eflags & F_TF) || (c->dr[7] & 0xFF))) {
            bool inh = c->inhibit;
            step_one(c);
            if (inh)
                c->inhibit = false;
            continue;
        }
        X86Block *b = get_block(c);
        if (X86_UNLIKELY(!b)) {
            X86Insn tmp;
            decode_slow(c, &tmp);
            exec_one(c, &tmp);
            continue;
        }
        uint64_t budget = *c->limitp - c->icount;
        unsigned n = b->n;
        if (budget < n)
            n = (unsigned)budget;
        const X86Insn *ins = b->ins;
        for (unsigned k = 0; k < n; k++, ins++) {
            c->next_eip = c->eip + ins->len;
            ins->fn(c, ins);
            c->eip = c->next_eip;
            c->icount++;
            if (X86_UNLIKELY(c->brk))
                break;
        }
    }
}

int x86_step(X86Cpu *c)
{
    uint64_t lim = c->icount + 1;
    return x86_run(c, &lim, NULL);
}

/* ---- life cycle --------------------------------------------------------- */

void x86_init(X86Cpu *c, X86Model model, const X86Bus *bus)
{
    memset(c, 0, sizeof(*c));
    c->model = model;
    c->bus = *bus;
    c->mhz = model == X86_MODEL_486 ? 66 : model == X86_MODEL_PENTIUM ? 100 : 200;
    c->blocks = g_new0(X86Block, 1u << BLK_CACHE_BITS);
    c->code_page = g_malloc0(CODE_PAGES);
    c->page_gen = g_new0(uint32_t, CODE_PAGES);
    c->ggen = 1;
    c->a20 = true;
    c->a20_mask = 0xFFFFFFFFu;
    x86_reset(c);
}

void x86_fini(X86Cpu *c)
{
    g_free(c->blocks);
    g_free(c->code_page);
    g_free(c->page_gen);
    c->blocks = NULL;
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
    c->r[R_EDX] = c->model == X86_MODEL_486 ? 0x0422 : c->model == X86_MODEL_PENTIUM ? 0x052C : 0x0619;
    c->eip = c->next_eip = 0xFFF0;
    c->eflags = 2;
    c->cc_op = CC_EAGER;
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
    c->halted = false;
    c->inhibit = false;
    c->nmi_pending = false;
    c->nmi_blocked = false;
    c->shutdown = false;
    c->delivering = -1;
    c->tsc_offset = 0;
    c->tsc_offset = (uint64_t)0 - x86_tsc(c);
    c->cpl = 0;
    x86_update_mode(c);
    x86_tlb_flush(c);
    c->ggen++;
    c->brk = 1;
}
