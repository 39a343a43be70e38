/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linear and physical memory: two-level paging with 4 KiB and 4 MiB (PSE)
 * pages, accessed/dirty bits, page faults (SDM vol. 3, 4.3 and 4.7), the
 * A20 gate, the software TLB and code-page write tracking.
 */
#include "x86-cpu.h"

/* ---- physical ------------------------------------------------------------ */

uint64_t x86_phys_read(X86Cpu *c, uint64_t pa, unsigned size)
{
    uint8_t *rd = NULL, *wr = NULL;
    if (((pa & 0xFFF) + size) <= 0x1000) {
        c->bus.page(c->bus.opaque, pa & ~0xFFFull, &rd, &wr);
        if (rd) {
            uint64_t v = 0;
            memcpy(&v, rd + (pa & 0xFFF), size);
            return v;
        }
    }
    /* MMIO: the device may have moved a deadline (as after port I/O) */
    x86_break(c);
    return c->bus.mem_read(c->bus.opaque, pa, size);
}

static void code_page_written(X86Cpu *c, uint64_t pa)
{
    if (pa < 0x100000000ull) {
        uint32_t pp = (uint32_t)(pa >> 12);
        if (c->code_page[pp]) {
            c->code_page[pp] = 0;
            c->page_gen[pp]++;
            x86_jc_invalidate(c);
            x86_break(c);
        }
    }
}

void x86_phys_write(X86Cpu *c, uint64_t pa, uint64_t v, unsigned size)
{
    uint8_t *rd = NULL, *wr = NULL;
    code_page_written(c, pa);
    if (((pa & 0xFFF) + size) <= 0x1000) {
        c->bus.page(c->bus.opaque, pa & ~0xFFFull, &rd, &wr);
        if (wr) {
            memcpy(wr + (pa & 0xFFF), &v, size);
            return;
        }
    } else {
        code_page_written(c, pa + size - 1);
    }
    x86_break(c);
    c->bus.mem_write(c->bus.opaque, pa, v, size);
}

void x86_code_invalidate(X86Cpu *c, uint64_t start, uint64_t len)
{
    if (len == 0)
        return;
    uint64_t end = start + len - 1;
    if (start >= 0x100000000ull)
        return;
    if (end >= 0x100000000ull)
        end = 0xFFFFFFFFull;
    for (uint64_t p = start >> 12; p <= end >> 12; p++) {
        if (c->code_page[p]) {
            c->code_page[p] = 0;
            c->page_gen[p]++;
            x86_jc_invalidate(c);
            x86_break(c);
        }
    }
}

void x86_code_flush_all(X86Cpu *c)
{
    c->ggen++;
    x86_break(c);
    x86_tlb_flush(c);
}

/* Paging or the TLB changed: decoded blocks found by linear address
 * may now be the wrong ones. */
static void tlb_changed(X86Cpu *c)
{
    x86_jc_invalidate(c);
    x86_break(c);
}

/* ---- TLB -------------------------------------------------------------------- */

void x86_tlb_flush(X86Cpu *c)
{
    for (int u = 0; u < 2; u++)
        for (unsigned k = 0; k < TLB_SIZE; k++) {
            c->tlb[u][k].rtag = 1;
            c->tlb[u][k].wtag = 1;
            c->tlb[u][k].rwtag = 1;
        }
    tlb_changed(c);
}

void x86_tlb_flush_page(X86Cpu *c, uint32_t lin)
{
    unsigned k = (lin >> 12) & (TLB_SIZE - 1);
    for (int u = 0; u < 2; u++) {
        c->tlb[u][k].rtag = 1;
        c->tlb[u][k].wtag = 1;
        c->tlb[u][k].rwtag = 1;
    }
    tlb_changed(c);
}

/* ---- paging -------------------------------------------------------------- */

G_NORETURN static void page_fault(X86Cpu *c, uint32_t lin, uint32_t err)
{
    c->cr2 = lin;
    x86_raise(c, X86_PF, err);
}

/* Returns the physical address; *writable says whether a write would be
 * allowed (so the TLB may hold a write entry). */
static uint64_t walk(X86Cpu *c, uint32_t lin, int acc, bool user, bool *writable)
{
    bool write = acc == 1;
    uint32_t ferr = (write ? 2 : 0) | (user ? 4 : 0);
    uint64_t pde_pa = ((c->cr3 & ~0xFFFu) | ((lin >> 20) & 0xFFC)) & c->a20_mask;
    uint32_t pde = (uint32_t)x86_phys_read(c, pde_pa, 4);
    if (!(pde & 1))
        page_fault(c, lin, ferr);
    bool wp = c->cr0 & CR0_WP;
    if ((pde & 0x80) && (c->cr4 & CR4_PSE)) {
        bool u_ok = pde & 4, w_ok = pde & 2;
        if (user && !u_ok)
            page_fault(c, lin, ferr | 1);
        bool can_write = user ? w_ok : (w_ok || !wp);
        if (write && !can_write)
            page_fault(c, lin, ferr | 1);
        uint32_t npde = pde | 0x20 | (write ? 0x40 : 0);
        if (npde != pde)
            x86_phys_write(c, pde_pa, npde, 4);
        *writable = can_write && (npde & 0x40);
        return ((pde & 0xFFC00000u) | (lin & 0x3FFFFF)) & c->a20_mask;
    }
    uint64_t pte_pa = ((pde & ~0xFFFu) | ((lin >> 10) & 0xFFC)) & c->a20_mask;
    uint32_t pte = (uint32_t)x86_phys_read(c, pte_pa, 4);
    if (!(pte & 1))
        page_fault(c, lin, ferr);
    bool u_ok = (pde & 4) && (pte & 4);
    bool w_ok = (pde & 2) && (pte & 2);
    if (user && !u_ok)
        page_fault(c, lin, ferr | 1);
    bool can_write = user ? w_ok : (w_ok || !wp);
    if (write && !can_write)
        page_fault(c, lin, ferr | 1);
    if (!(pde & 0x20))
        x86_phys_write(c, pde_pa, pde | 0x20, 4);
    uint32_t npte = pte | 0x20 | (write ? 0x40 : 0);
    if (npte != pte)
        x86_phys_write(c, pte_pa, npte, 4);
    *writable = can_write && (npte & 0x40);
    return ((pte & ~0xFFFu) | (lin & 0xFFF)) & c->a20_mask;
}

uint64_t x86_translate(X86Cpu *c, uint32_t lin, int acc, bool user)
{
    if (!(c->cr0 & CR0_PG))
        return lin & c->a20_mask;
    bool w;
    return walk(c, lin, acc, user, &w);
}

/* Translate and install a TLB entry for the page of lin. */
/* ---- debug registers (SDM vol. 3, 17.2) ----------------------------------- */

static unsigned dr_len(uint32_t dr7, int n)
{
    static const uint8_t len[4] = { 1, 2, 8, 4 };     /* LEN 10: 8 bytes (later parts) */
    return len[(dr7 >> (18 + 4 * n)) & 3];
}

void x86_dr_update(X86Cpu *c)
{
    uint32_t dr7 = c->dr[7];
    uint8_t insn = 0, data = 0, io = 0;
    for (int n = 0; n < 4; n++) {
        if (!(dr7 & (3u << (2 * n))))
            continue;
        switch ((dr7 >> (16 + 4 * n)) & 3) {
        case 0: insn |= 1u << n; break;
        case 2: if (c->cr4 & CR4_DE) io |= 1u << n; break;
        default: data |= 1u << n; break;
        }
    }
    if (data != c->dbp_data || data) {
        c->dbp_data = data;
        x86_tlb_flush(c);   /* watched pages leave the TLB (see x86_tlb_fill) */
    }
    c->dbp_insn = insn;
    c->dbp_io = io;
    x86_break(c);
}

/* Breakpoint n's range, its address aligned down to its length. */
static bool dr_hit(X86Cpu *c, int n, uint64_t a, unsigned size)
{
    unsigned len = dr_len(c->dr[7], n);
    uint64_t b = c->dr[n] & ~(uint32_t)(len - 1);
    return a < b + len && b < a + size;
}

static void dbp_data(X86Cpu *c, uint32_t lin, unsigned size, bool write)
{
    bool hit = false;
    for (int n = 0; n < 4; n++) {
        if (!(c->dbp_data & (1u << n)))
            continue;
        if (!write && ((c->dr[7] >> (16 + 4 * n)) & 3) == 1)
            continue;       /* RW 01: writes only */
        if (dr_hit(c, n, lin, size)) {
            c->dr[6] |= 1u << n;
            hit = true;
        }
    }
    if (hit) {
        c->db_trap = true;
        x86_break(c);
    }
}

void x86_dbp_io(X86Cpu *c, uint32_t port, unsigned size)
{
    bool hit = false;
    for (int n = 0; n < 4; n++)
        if ((c->dbp_io & (1u << n)) && dr_hit(c, n, port, size)) {
            c->dr[6] |= 1u << n;
            hit = true;
        }
    if (hit) {
        c->db_trap = true;
        x86_break(c);
    }
}

/* Does a data breakpoint watch part of the page at lpage? Such pages get
 * no TLB entries, so every access to them comes through the slow paths,
 * which check. */
static bool page_watched(X86Cpu *c, uint32_t lpage)
{
    for (int n = 0; n < 4; n++)
        if ((c->dbp_data & (1u << n)) && dr_hit(c, n, lpage, 0x1000))
            return true;
    return false;
}

uint64_t x86_tlb_fill(X86Cpu *c, uint32_t lin, int acc, bool user)
{
    bool writable = true;
    uint64_t pa;
    if (c->cr0 & CR0_PG)
        pa = walk(c, lin, acc, user, &writable);
    else
        pa = lin & c->a20_mask;
    if (acc == 1)
        code_page_written(c, pa);
    uint8_t *rd = NULL, *wr = NULL;
    uint64_t ppage = pa & ~0xFFFull;
    c->bus.page(c->bus.opaque, ppage, &rd, &wr);
    X86Tlb *e = &c->tlb[user][(lin >> 12) & (TLB_SIZE - 1)];
    uint32_t lpage = lin & ~0xFFFu;
    if (e->rtag != lpage && e->wtag != lpage) {
        e->rtag = 1;
        e->wtag = 1;
    }
    e->rwtag = 1;
    c->fill_host = ppage < 0x100000000ull ? rd : NULL;
    if (X86_UNLIKELY(c->dbp_data) && page_watched(c, lpage)) {
        e->rtag = e->wtag = 1;
        return pa;
    }
    if (rd && ppage < 0x100000000ull) {
        e->rtag = lpage;
        e->radd = (uintptr_t)rd - lpage;
        e->pphys = (uint32_t)ppage;
    }
    if (wr && writable && (acc == 1 || !(c->cr0 & CR0_PG)) && ppage < 0x100000000ull
        && !c->code_page[ppage >> 12]) {
        e->wtag = lpage;
        e->wadd = (uintptr_t)wr - lpage;
        e->pphys = (uint32_t)ppage;
    }
    if (e->rtag == lpage && e->wtag == lpage && e->radd == e->wadd)
        e->rwtag = lpage;
    return pa;
}

static uint32_t lin_read(X86Cpu *c, uint32_t lin, unsigned size, bool user)
{
    if ((lin & 0xFFF) + size > 0x1000) {
        /* crosses a page: check both pages before reading */
        uint32_t hi_lin = (lin | 0xFFF) + 1;
        x86_tlb_fill(c, lin, 0, user);
        x86_tlb_fill(c, hi_lin, 0, user);
        uint32_t v = 0;
        for (unsigned k = 0; k < size; k++)
            v |= lin_read(c, lin + k, 1, user) << (8 * k);
        return v;
    }
    uint64_t pa = x86_tlb_fill(c, lin, 0, user);
    X86Tlb *e = &c->tlb[user][(lin >> 12) & (TLB_SIZE - 1)];
    if (e->rtag == (lin & ~0xFFFu)) {
        const uint8_t *p = (const uint8_t *)(e->radd + lin);
        uint32_t v = 0;
        memcpy(&v, p, size);
        return v;
    }
    x86_break(c);
    return (uint32_t)c->bus.mem_read(c->bus.opaque, pa, size);
}

static void lin_write(X86Cpu *c, uint32_t lin, uint32_t v, unsigned size, bool user)
{
    if ((lin & 0xFFF) + size > 0x1000) {
        uint32_t hi_lin = (lin | 0xFFF) + 1;
        x86_tlb_fill(c, lin, 1, user);
        x86_tlb_fill(c, hi_lin, 1, user);
        for (unsigned k = 0; k < size; k++)
            lin_write(c, lin + k, (v >> (8 * k)) & 0xFF, 1, user);
        return;
    }
    uint64_t pa = x86_tlb_fill(c, lin, 1, user);
    X86Tlb *e = &c->tlb[user][(lin >> 12) & (TLB_SIZE - 1)];
    if (e->wtag == (lin & ~0xFFFu)) {
        memcpy((uint8_t *)(e->wadd + lin), &v, size);
        return;
    }
    x86_phys_write(c, pa, v, size);
}

/* Instruction data accesses: these are what data breakpoints watch. */
uint32_t x86_lin_read_slow(X86Cpu *c, uint32_t lin, unsigned size, bool user)
{
    uint32_t v = lin_read(c, lin, size, user);
    if (X86_UNLIKELY(c->dbp_data))
        dbp_data(c, lin, size, false);
    return v;
}

void x86_lin_write_slow(X86Cpu *c, uint32_t lin, uint32_t v, unsigned size, bool user)
{
    lin_write(c, lin, v, size, user);
    if (X86_UNLIKELY(c->dbp_data))
        dbp_data(c, lin, size, true);
}

/* Instruction fetch: never a data breakpoint. */
uint32_t x86_fetch_slow(X86Cpu *c, uint32_t lin)
{
    return lin_read(c, lin, 1, c->cpl == 3);
}

uint32_t x86_rmw_slow(X86Cpu *c, uint32_t lin, unsigned size)
{
    bool user = c->cpl == 3;
    x86_tlb_fill(c, lin, 1, user);
    if ((lin & 0xFFF) + size > 0x1000)
        x86_tlb_fill(c, (lin | 0xFFF) + 1, 1, user);
    return x86_lin_read_slow(c, lin, size, user);
}

uint32_t x86_sys_read(X86Cpu *c, uint32_t lin, unsigned size)
{
    return lin_read(c, lin, size, false);
}

void x86_sys_write(X86Cpu *c, uint32_t lin, uint32_t v, unsigned size)
{
    lin_write(c, lin, v, size, false);
}

void x86_seg_fault(X86Cpu *c, int seg)
{
    if (seg == S_SS)
        x86_raise(c, X86_SS, 0);
    x86_raise(c, X86_GP, 0);
}

void x86_set_a20(X86Cpu *c, bool on)
{
    uint32_t m = on ? 0xFFFFFFFFu : 0xFFEFFFFFu;
    c->a20 = on;
    if (m != c->a20_mask) {
        c->a20_mask = m;
        x86_tlb_flush(c);
        c->ggen++;
        x86_break(c);
    }
}
