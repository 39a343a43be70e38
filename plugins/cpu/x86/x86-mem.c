/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linear and physical memory: 32-bit paging with 4 KiB and 4 MiB (PSE,
 * PSE-36) pages, PAE paging with 4 KiB and 2 MiB pages and the NX bit,
 * global pages, accessed/dirty bits, page faults (SDM vol. 3, 4.3, 4.4,
 * 4.7, 4.10.2), the A20 gate, the software TLB and code-page write
 * tracking.
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

void x86_mem_changed(X86Cpu *c, uint64_t start, uint64_t len)
{
    if (len == 0)
        return;
    x86_code_invalidate(c, start, len);
    if (start >= 0x100000000ull)
        return;
    uint64_t end = MIN(start + len, 0x100000000ull);
    uint32_t lo = (uint32_t)(start >> 12), hi = (uint32_t)((end - 1) >> 12);
    bool hit = false;
    for (int u = 0; u < 2; u++) {
        if (hi < c->tlb_plo[u] || lo > c->tlb_phi[u])
            continue;
        for (unsigned k = 0; k < TLB_SIZE; k++) {
            X86Tlb *e = &c->tlb[u][k];
            if (X86_UNLIKELY((e->pphys >> 12) - lo <= hi - lo) &&
                (e->rtag != 1 || e->wtag != 1)) {
                e->rtag = e->wtag = e->rwtag = 1;
                hit = true;
            }
        }
        if (!c->tlbio_used[u])
            continue;
        for (unsigned k = 0; k < TLB_SIZE; k++) {
            X86TlbIo *io = &c->tlbio[u][k];
            if (X86_UNLIKELY((io->pphys >> 12) - lo <= hi - lo) &&
                (io->rtag != 1 || io->wtag != 1)) {
                io->rtag = io->wtag = 1;
                hit = true;
            }
        }
    }
    if (hit) {
        /* blocks found by linear address went through those entries */
        x86_jc_invalidate(c);
        x86_break(c);
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

static void tlb_kill(X86Tlb *e)
{
    e->rtag = 1;
    e->wtag = 1;
    e->rwtag = 1;
}

static void tlbio_kill(X86TlbIo *io)
{
    io->rtag = 1;
    io->wtag = 1;
}

void x86_tlb_flush(X86Cpu *c)
{
    for (int u = 0; u < 2; u++) {
        /* (a reset or a guest's CR0/CR4 writes flush again and again a
         * TLB nothing has filled since: skip the sweep) */
        if (c->tlb_clean[u])
            continue;
        c->tlb_clean[u] = true;
        for (unsigned k = 0; k < TLB_SIZE; k++) {
            tlb_kill(&c->tlb[u][k]);
            tlbio_kill(&c->tlbio[u][k]);
        }
        memset(c->tlb_wmap[u], 0, sizeof(c->tlb_wmap[u]));
        c->tlb_plo[u] = UINT32_MAX;
        c->tlb_phi[u] = 0;
        c->tlbio_used[u] = false;
    }
    tlb_changed(c);
}

/* MOV CR3 with CR4.PGE: global pages stay (SDM vol. 3, 4.10.4.1). */
void x86_tlb_flush_nonglobal(X86Cpu *c)
{
    for (int u = 0; u < 2; u++)
        for (unsigned k = 0; k < TLB_SIZE; k++)
        {
            if (!(c->tlb[u][k].pphys & TLBF_G))
                tlb_kill(&c->tlb[u][k]);
            if (!(c->tlbio[u][k].pphys & TLBF_G))
                tlbio_kill(&c->tlbio[u][k]);
        }
    x86_jc_invalidate_nonglobal(c);
}

/* INVLPG: the page of lin, global or not, and the whole large page lin
 * may lie in (this TLB holds a large page as 4 KiB pieces: drop every
 * piece of any large page in the 4 MiB around lin). */
void x86_tlb_flush_page(X86Cpu *c, uint32_t lin)
{
    unsigned k = (lin >> 12) & (TLB_SIZE - 1);
    for (int u = 0; u < 2; u++) {
        tlb_kill(&c->tlb[u][k]);
        tlbio_kill(&c->tlbio[u][k]);
    }
    for (int u = 0; u < 2; u++)
        for (unsigned n = 0; n < TLB_SIZE; n++) {
            X86Tlb *e = &c->tlb[u][n];
            uint32_t tag = e->rtag != 1 ? e->rtag : e->wtag;
            if ((e->pphys & TLBF_L) && tag != 1 && ((tag ^ lin) & 0xFFC00000u) == 0)
                tlb_kill(e);
            X86TlbIo *io = &c->tlbio[u][n];
            tag = io->rtag != 1 ? io->rtag : io->wtag;
            if ((io->pphys & TLBF_L) && tag != 1 && ((tag ^ lin) & 0xFFC00000u) == 0)
                tlbio_kill(io);
        }
    x86_jc_invalidate_page(c, lin);
}

/* ---- paging -------------------------------------------------------------- */

/* Page-fault error code (SDM vol. 3, 4.7) */
#define PF_P    0x01u
#define PF_W    0x02u
#define PF_U    0x04u
#define PF_RSVD 0x08u
#define PF_ID   0x10u

/* Paging-structure entry bits */
#define PTE_P   0x001u
#define PTE_W   0x002u
#define PTE_U   0x004u
#define PTE_A   0x020u
#define PTE_D   0x040u
#define PTE_PS  0x080u
#define PTE_G   0x100u
#define PTE_NX  (1ull << 63)

/* Reserved bits with a 36-bit MAXPHYADDR (all our PAE parts): PAE entries
 * 62:36 (63 too without EFER.NXE), the 2 MiB PDE 20:13; a PDPTE 63:36,
 * 8:5 and 2:1; a 4 MiB PDE 21:17 with PSE-36, 21:13 without. */
#define PAE_RSVD       0x7FFFFFF000000000ull
#define PAE_RSVD_2M    0x00000000001FE000ull
#define PDPTE_RSVD     0xFFFFFFF0000001E6ull
#define PAE_ADDR       0x0000000FFFFFF000ull
#define PSE36_RSVD     0x003E0000u
#define PSE_RSVD       0x003FE000u

G_NORETURN static void page_fault(X86Cpu *c, uint32_t lin, uint32_t err)
{
    c->cr2 = lin;
    x86_raise(c, X86_PF, err);
}

static inline uint64_t a20(const X86Cpu *c, uint64_t pa)
{
    return pa & (0xFFFFFFFF00000000ull | c->a20_mask);
}

static uint64_t read_pte64(X86Cpu *c, uint64_t pa)
{
    return x86_phys_read(c, pa, 4) | (x86_phys_read(c, pa + 4, 4) << 32);
}

bool x86_load_pdptes(X86Cpu *c, uint32_t cr3)
{
    uint64_t p[4];
    for (int k = 0; k < 4; k++) {
        p[k] = read_pte64(c, a20(c, (cr3 & ~0x1Fu) + 8u * k));
        if ((p[k] & PTE_P) && (p[k] & PDPTE_RSVD))
            return false;
    }
    /* (the callers flush the TLB as the instruction does: MOV CR3 keeps
     * global pages) */
    memcpy(c->pdpte, p, sizeof(p));
    return true;
}

/* The access rights of a translation: faults unless acc is allowed;
 * returns whether a write would be (the TLB may hold a write entry). */
static bool check_rights(X86Cpu *c, uint32_t lin, uint32_t ferr, int acc, bool user,
                         bool u_ok, bool w_ok, bool nx)
{
    bool can_write = user ? w_ok : (w_ok || !(c->cr0 & CR0_WP));
    if ((user && !u_ok) || (acc == 1 && !can_write) || (acc == 2 && nx))
        page_fault(c, lin, ferr | PF_P);
    return can_write;
}

/* Returns the physical address; *writable says whether a write would be
 * allowed, *tf the TLBF_* flags of the translation. Accessed and dirty
 * bits are set once the access is known to be allowed, as P6 and later
 * processors do. */
static uint64_t walk_pae(X86Cpu *c, uint32_t lin, int acc, bool user, bool *writable,
                         uint32_t *tf)
{
    bool nxe = c->efer & EFER_NXE;
    uint32_t ferr = (acc == 1 ? PF_W : 0) | (user ? PF_U : 0) | (acc == 2 && nxe ? PF_ID : 0);
    uint64_t rsvd = PAE_RSVD | (nxe ? 0 : PTE_NX);
    uint64_t pdpte = c->pdpte[lin >> 30];
    if (!(pdpte & PTE_P))
        page_fault(c, lin, ferr);
    uint64_t pde_pa = a20(c, (pdpte & PAE_ADDR) | ((lin >> 18) & 0xFF8));
    uint64_t pde = read_pte64(c, pde_pa);
    if (!(pde & PTE_P))
        page_fault(c, lin, ferr);
    bool g = c->cr4 & CR4_PGE;
    if (pde & PTE_PS) {
        if (pde & (rsvd | PAE_RSVD_2M))
            page_fault(c, lin, ferr | PF_P | PF_RSVD);
        bool can_write = check_rights(c, lin, ferr, acc, user, pde & PTE_U, pde & PTE_W,
                                      nxe && (pde & PTE_NX));
        uint32_t lo = (uint32_t)pde, nlo = lo | PTE_A | (acc == 1 ? PTE_D : 0);
        if (nlo != lo)
            x86_phys_write(c, pde_pa, nlo, 4);
        *writable = can_write && (nlo & PTE_D);
        *tf = TLBF_L | (g && (pde & PTE_G) ? TLBF_G : 0) | (nxe && (pde & PTE_NX) ? TLBF_NX : 0);
        return a20(c, (pde & PAE_ADDR & ~0x1FFFFFull) | (lin & 0x1FFFFF));
    }
    if (pde & rsvd)
        page_fault(c, lin, ferr | PF_P | PF_RSVD);
    uint64_t pte_pa = a20(c, (pde & PAE_ADDR) | ((lin >> 9) & 0xFF8));
    uint64_t pte = read_pte64(c, pte_pa);
    if (!(pte & PTE_P))
        page_fault(c, lin, ferr);
    if (pte & rsvd)
        page_fault(c, lin, ferr | PF_P | PF_RSVD);
    bool nx = nxe && ((pde | pte) & PTE_NX);
    bool can_write = check_rights(c, lin, ferr, acc, user, pde & pte & PTE_U,
                                  pde & pte & PTE_W, nx);
    if (!(pde & PTE_A))
        x86_phys_write(c, pde_pa, (uint32_t)pde | PTE_A, 4);
    uint32_t lo = (uint32_t)pte, nlo = lo | PTE_A | (acc == 1 ? PTE_D : 0);
    if (nlo != lo)
        x86_phys_write(c, pte_pa, nlo, 4);
    *writable = can_write && (nlo & PTE_D);
    *tf = (g && (pte & PTE_G) ? TLBF_G : 0) | (nx ? TLBF_NX : 0);
    return a20(c, (pte & PAE_ADDR) | (lin & 0xFFF));
}

static uint64_t walk(X86Cpu *c, uint32_t lin, int acc, bool user, bool *writable,
                     uint32_t *tf)
{
    if (c->cr4 & CR4_PAE)
        return walk_pae(c, lin, acc, user, writable, tf);
    uint32_t ferr = (acc == 1 ? PF_W : 0) | (user ? PF_U : 0);
    uint64_t pde_pa = a20(c, (c->cr3 & ~0xFFFu) | ((lin >> 20) & 0xFFC));
    uint32_t pde = (uint32_t)x86_phys_read(c, pde_pa, 4);
    if (!(pde & PTE_P))
        page_fault(c, lin, ferr);
    bool g = c->cr4 & CR4_PGE;
    if ((pde & PTE_PS) && (c->cr4 & CR4_PSE)) {
        bool pse36 = c->feat_edx & CPUID_PSE36;
        if (pde & (pse36 ? PSE36_RSVD : PSE_RSVD))
            page_fault(c, lin, ferr | PF_P | PF_RSVD);
        bool can_write = check_rights(c, lin, ferr, acc, user, pde & PTE_U, pde & PTE_W, false);
        uint32_t npde = pde | PTE_A | (acc == 1 ? PTE_D : 0);
        if (npde != pde)
            x86_phys_write(c, pde_pa, npde, 4);
        *writable = can_write && (npde & PTE_D);
        *tf = TLBF_L | (g && (pde & PTE_G) ? TLBF_G : 0);
        /* PSE-36: bits 16:13 are physical address bits 35:32 */
        uint64_t hi = pse36 ? (uint64_t)((pde >> 13) & 0xF) << 32 : 0;
        return a20(c, hi | (pde & 0xFFC00000u) | (lin & 0x3FFFFF));
    }
    uint64_t pte_pa = a20(c, (pde & ~0xFFFu) | ((lin >> 10) & 0xFFC));
    uint32_t pte = (uint32_t)x86_phys_read(c, pte_pa, 4);
    if (!(pte & PTE_P))
        page_fault(c, lin, ferr);
    bool can_write = check_rights(c, lin, ferr, acc, user, pde & pte & PTE_U,
                                  pde & pte & PTE_W, false);
    if (!(pde & PTE_A))
        x86_phys_write(c, pde_pa, pde | PTE_A, 4);
    uint32_t npte = pte | PTE_A | (acc == 1 ? PTE_D : 0);
    if (npte != pte)
        x86_phys_write(c, pte_pa, npte, 4);
    *writable = can_write && (npte & PTE_D);
    *tf = g && (pte & PTE_G) ? TLBF_G : 0;
    return a20(c, (pte & ~0xFFFu) | (lin & 0xFFF));
}

uint64_t x86_translate(X86Cpu *c, uint32_t lin, int acc, bool user)
{
    if (!(c->cr0 & CR0_PG))
        return lin & c->a20_mask;
    bool w;
    uint32_t tf;
    return walk(c, lin, acc, user, &w, &tf);
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
    uint32_t tf = 0;
    uint64_t pa;
    if (c->cr0 & CR0_PG)
        pa = walk(c, lin, acc, user, &writable, &tf);
    else
        pa = lin & c->a20_mask;
    if (acc == 1)
        code_page_written(c, pa);
    uint8_t *rd = NULL, *wr = NULL;
    uint64_t ppage = pa & ~0xFFFull;
    c->bus.page(c->bus.opaque, ppage, &rd, &wr);
    X86Tlb *e = &c->tlb[user][(lin >> 12) & (TLB_SIZE - 1)];
    X86TlbIo *io = &c->tlbio[user][(lin >> 12) & (TLB_SIZE - 1)];
    c->tlb_clean[user] = false;
    uint32_t lpage = lin & ~0xFFFu;
    /* An entry's halves always share one physical page, so dropping by
     * physical range (x86_mem_changed) never leaves half of one behind. */
    if ((e->rtag != lpage && e->wtag != lpage) || (e->pphys & ~0xFFFu) != ppage) {
        e->rtag = 1;
        e->wtag = 1;
    }
    if ((io->rtag != lpage && io->wtag != lpage) || (io->pphys & ~0xFFFu) != ppage)
        tlbio_kill(io);
    e->rwtag = 1;
    c->fill_host = ppage < 0x100000000ull ? rd : NULL;
    if (X86_UNLIKELY(c->dbp_data) && page_watched(c, lpage)) {
        e->rtag = e->wtag = 1;
        tlbio_kill(io);
        return pa;
    }
    /* A read makes the entry writable too where a write would change
     * nothing in the page tables (the dirty bit is set: walk's
     * writable), as the processor's TLB does: the guest's read-then-write
     * of a page costs one walk, not two. (Not for a fetch: the page is
     * about to hold translated code, which takes write access away.) */
    bool may_write = writable && acc != 2;
    if (ppage < 0x100000000ull) {
        /* (entries below may be made for this page: widen the summary) */
        uint32_t pp = (uint32_t)(ppage >> 12);
        c->tlb_plo[user] = MIN(c->tlb_plo[user], pp);
        c->tlb_phi[user] = MAX(c->tlb_phi[user], pp);
    }
    if (c->bus.mmio_page && ppage < 0x100000000ull) {
        uint64_t off;
        void *h;
        if (!rd && (h = c->bus.mmio_page(c->bus.opaque, ppage, false, &off)) != NULL) {
            c->tlbio_used[user] = true;
            io->rtag = lpage;
            io->rh = h;
            io->roff = off;
            io->pphys = (uint32_t)ppage | tf;
        }
        if (!wr && may_write && (h = c->bus.mmio_page(c->bus.opaque, ppage, true, &off)) != NULL) {
            c->tlbio_used[user] = true;
            io->wtag = lpage;
            io->wh = h;
            io->woff = off;
            io->pphys = (uint32_t)ppage | tf;
        }
    }
    if (rd && ppage < 0x100000000ull) {
        e->rtag = lpage;
        e->radd = (uintptr_t)rd - lpage;
        e->pphys = (uint32_t)ppage | tf;
    }
    if (wr && may_write && ppage < 0x100000000ull
        && !c->code_page[ppage >> 12]) {
        e->wtag = lpage;
        e->wadd = (uintptr_t)wr - lpage;
        unsigned k = (lin >> 12) & (TLB_SIZE - 1);
        c->tlb_wmap[user][k / 64] |= 1ull << (k % 64);
        e->pphys = (uint32_t)ppage | tf;
    }
    if (e->rtag == lpage && e->wtag == lpage && e->radd == e->wadd)
        e->rwtag = lpage;
    return pa;
}

/* acc: 0 data read, 2 instruction fetch */
static uint32_t lin_read(X86Cpu *c, uint32_t lin, unsigned size, bool user, int acc)
{
    if ((lin & 0xFFF) + size > 0x1000) {
        /* crosses a page: check both pages before reading */
        uint32_t hi_lin = (lin | 0xFFF) + 1;
        x86_tlb_fill(c, lin, acc, user);
        x86_tlb_fill(c, hi_lin, acc, user);
        uint32_t v = 0;
        for (unsigned k = 0; k < size; k++)
            v |= lin_read(c, lin + k, 1, user, acc) << (8 * k);
        return v;
    }
    X86TlbIo *io = &c->tlbio[user][(lin >> 12) & (TLB_SIZE - 1)];
    if (acc == 0 && io->rtag == (lin & ~0xFFFu)) {
        /* MMIO: the device may have moved a deadline (as after port I/O) */
        x86_break(c);
        return (uint32_t)c->bus.mmio_read(io->rh, io->roff + (lin & 0xFFF), size);
    }
    X86Tlb *e = &c->tlb[user][(lin >> 12) & (TLB_SIZE - 1)];
    if (acc == 0 && e->rtag == (lin & ~0xFFFu)) {
        /* a hit: the system reads (x86_sys_read: descriptors, gates, the
         * TSS) come here first, every one of a guest's system calls and
         * interrupts; a walk each time was most of a network guest's
         * TLB fills */
        uint32_t v = 0;
        memcpy(&v, (const uint8_t *)(e->radd + lin), size);
        return v;
    }
    uint64_t pa = x86_tlb_fill(c, lin, acc, user);
    if (acc == 0 && io->rtag == (lin & ~0xFFFu)) {
        x86_break(c);
        return (uint32_t)c->bus.mmio_read(io->rh, io->roff + (lin & 0xFFF), size);
    }
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
    X86TlbIo *io = &c->tlbio[user][(lin >> 12) & (TLB_SIZE - 1)];
    if (io->wtag != (lin & ~0xFFFu)) {
        X86Tlb *e = &c->tlb[user][(lin >> 12) & (TLB_SIZE - 1)];
        if (e->wtag == (lin & ~0xFFFu)) {               /* (as lin_read) */
            memcpy((uint8_t *)(e->wadd + lin), &v, size);
            return;
        }
        uint64_t pa = x86_tlb_fill(c, lin, 1, user);
        if (e->wtag == (lin & ~0xFFFu)) {
            memcpy((uint8_t *)(e->wadd + lin), &v, size);
            return;
        }
        if (io->wtag != (lin & ~0xFFFu)) {
            x86_phys_write(c, pa, v, size);
            return;
        }
    }
    x86_break(c);
    c->bus.mmio_write(io->wh, io->woff + (lin & 0xFFF), v, size);
}

/* Instruction data accesses: these are what data breakpoints watch. */
uint32_t x86_lin_read_slow(X86Cpu *c, uint32_t lin, unsigned size, bool user)
{
    uint32_t v = lin_read(c, lin, size, user, 0);
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
    return lin_read(c, lin, 1, c->cpl == 3, 2);
}

uint32_t x86_rmw_slow(X86Cpu *c, uint32_t lin, unsigned size)
{
    bool user = c->cpl == 3;
    /* an I/O write entry already stands for the write permission */
    if ((lin & 0xFFF) + size <= 0x1000 &&
        c->tlbio[user][(lin >> 12) & (TLB_SIZE - 1)].wtag == (lin & ~0xFFFu))
        return x86_lin_read_slow(c, lin, size, user);
    x86_tlb_fill(c, lin, 1, user);
    if ((lin & 0xFFF) + size > 0x1000)
        x86_tlb_fill(c, (lin | 0xFFF) + 1, 1, user);
    return x86_lin_read_slow(c, lin, size, user);
}

uint32_t x86_sys_read(X86Cpu *c, uint32_t lin, unsigned size)
{
    return lin_read(c, lin, size, false, 0);
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
