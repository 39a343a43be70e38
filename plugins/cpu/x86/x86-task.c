/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hardware task switching (SDM vol. 3, 7.3), LDTR/TR loads and the I/O
 * permission bit map (vol. 1, 18.5).
 */
#include "x86-cpu.h"

/* 32-bit TSS layout (SDM vol. 3, figure 7-2) */
enum {
    TSS_LINK = 0x00, TSS_ESP0 = 0x04, TSS_CR3 = 0x1C, TSS_EIP = 0x20,
    TSS_EFLAGS = 0x24, TSS_EAX = 0x28, TSS_ES = 0x48, TSS_LDT = 0x60,
    TSS_TRAP = 0x64, TSS_IOMAP = 0x66,
};
/* 16-bit TSS layout (286) */
enum { TSS16_IP = 0x0E, TSS16_FLAGS = 0x10, TSS16_AX = 0x12, TSS16_ES = 0x22, TSS16_LDT = 0x2A };

static void set_busy(X86Cpu *c, uint16_t sel, bool busy)
{
    uint32_t addr = c->gdt_base + (sel & ~7u) + 4;
    uint32_t hi = x86_sys_read(c, addr, 4);
    hi = busy ? (hi | 0x200) : (hi & ~0x200u);
    x86_sys_write(c, addr, hi, 4);
}

static void ts_fault(X86Cpu *c, uint16_t sel)
{
    x86_raise(c, X86_TS, sel & 0xFFFC);
}

void x86_task_switch(X86Cpu *c, uint16_t sel, uint32_t lo, uint32_t hi,
                     int reason, bool has_err, uint32_t err)
{
    unsigned ntype = (hi >> 8) & 0xF;
    bool n32 = ntype & 8;
    X86Seg nts;
    x86_desc_to_seg(&nts, sel, lo, hi);
    if (nts.limit < (n32 ? 0x67u : 0x2Bu))
        ts_fault(c, sel);
    if (reason == TS_IRET) {
        if (!(ntype & 2))
            ts_fault(c, sel);
    } else if (ntype & 2) {
        x86_gp(c, sel & 0xFFFC);
    }
    X86Seg *ot = &c->seg[S_TR];
    bool o32 = (ot->attr & 0x800) != 0;
    if (ot->limit < (o32 ? 0x5Fu : 0x29u))
        ts_fault(c, ot->sel);
    /* Touch the new TSS first so a page fault happens before any change. */
    x86_sys_read(c, nts.base, 2);
    x86_sys_read(c, nts.base + nts.limit, 1);

    uint32_t fl = x86_get_eflags(c);
    if (reason == TS_IRET)
        fl &= ~F_NT;
    /* save the outgoing task */
    if (o32) {
        x86_sys_write(c, ot->base + TSS_EIP, c->next_eip, 4);
        x86_sys_write(c, ot->base + TSS_EFLAGS, fl, 4);
        for (int r = 0; r < 8; r++)
            x86_sys_write(c, ot->base + TSS_EAX + 4 * r, c->r[r], 4);
        for (int s = 0; s < 6; s++)
            x86_sys_write(c, ot->base + TSS_ES + 4 * s, c->seg[s].sel, 2);
    } else {
        x86_sys_write(c, ot->base + TSS16_IP, c->next_eip, 2);
        x86_sys_write(c, ot->base + TSS16_FLAGS, fl, 2);
        for (int r = 0; r < 8; r++)
            x86_sys_write(c, ot->base + TSS16_AX + 2 * r, c->r[r], 2);
        for (int s = 0; s < 4; s++)
            x86_sys_write(c, ot->base + TSS16_ES + 2 * s, c->seg[s].sel, 2);
    }
    if (reason == TS_JMP || reason == TS_IRET)
        set_busy(c, ot->sel, false);

    /* read the incoming task */
    uint32_t neip, nfl, ncr3 = 0, regs[8];
    uint16_t segs[6] = { 0 }, nldt;
    if (n32) {
        ncr3 = x86_sys_read(c, nts.base + TSS_CR3, 4);
        neip = x86_sys_read(c, nts.base + TSS_EIP, 4);
        nfl = x86_sys_read(c, nts.base + TSS_EFLAGS, 4);
        for (int r = 0; r < 8; r++)
            regs[r] = x86_sys_read(c, nts.base + TSS_EAX + 4 * r, 4);
        for (int s = 0; s < 6; s++)
            segs[s] = (uint16_t)x86_sys_read(c, nts.base + TSS_ES + 4 * s, 2);
        nldt = (uint16_t)x86_sys_read(c, nts.base + TSS_LDT, 2);
    } else {
        neip = x86_sys_read(c, nts.base + TSS16_IP, 2);
        nfl = x86_sys_read(c, nts.base + TSS16_FLAGS, 2) | (fl & 0xFFFF0000u & ~F_VM);
        for (int r = 0; r < 8; r++)
            regs[r] = 0xFFFF0000u | x86_sys_read(c, nts.base + TSS16_AX + 2 * r, 2);
        for (int s = 0; s < 4; s++)
            segs[s] = (uint16_t)x86_sys_read(c, nts.base + TSS16_ES + 2 * s, 2);
        nldt = (uint16_t)x86_sys_read(c, nts.base + TSS16_LDT, 2);
    }
    if (reason == TS_CALL || reason == TS_INT) {
        x86_sys_write(c, nts.base + TSS_LINK, ot->sel, 2);
        nfl |= F_NT;
    }
    if (reason != TS_IRET) {
        set_busy(c, sel, true);
        hi |= 0x200;
    }
    /* switch: from here on faults belong to the new task */
    x86_desc_to_seg(&c->seg[S_TR], sel, lo, hi);
    c->cr0 |= CR0_TS;
    if (c->dr[7] & 0x155) {
        /* local breakpoint enables belong to the old task (SDM vol. 3, 17.2.4) */
        c->dr[7] &= ~0x155u;
        x86_dr_update(c);
    }
    if (n32 && (c->cr0 & CR0_PG)) {
        /* as MOV CR3: PAE PDPTEs load, global pages stay */
        if (x86_pae_paging(c->cr0, c->cr4) && !x86_load_pdptes(c, ncr3))
            x86_gp(c, 0);
        c->cr3 = ncr3;
        if (c->cr4 & CR4_PGE)
            x86_tlb_flush_nonglobal(c);
        else
            x86_tlb_flush(c);
    }
    for (int r = 0; r < 8; r++)
        c->r[r] = regs[r];
    c->eflags = (nfl & ~0xFFC08028u) | 2;
    x86_set_arith(c, c->eflags);
    c->next_eip = neip;
    x86_set_fault_eip(c, neip);
    /* load selectors raw first, then check them */
    for (int s = 0; s < 6; s++) {
        c->seg[s].sel = segs[s];
        c->seg[s].attr = 0;
    }
    c->seg[S_LDTR].sel = nldt;
    c->seg[S_LDTR].attr = 0;
    if (nfl & F_VM) {
        x86_set_cpl(c, 3);
        for (int s = 0; s < 6; s++)
            x86_seg_set_real(c, s, segs[s]);
    } else {
        x86_set_cpl(c, segs[S_CS] & 3);
    }
    x86_update_mode(c);

    /* LDT */
    uint32_t dlo, dhi;
    if ((nldt & 0xFFFC) != 0) {
        if ((nldt & 4) || !x86_read_desc(c, nldt, &dlo, &dhi)
            || ((dhi >> 8) & 0x1F) != 2)
            ts_fault(c, nldt);
        if (!(dhi & D_P))
            ts_fault(c, nldt);
        x86_desc_to_seg(&c->seg[S_LDTR], nldt, dlo, dhi);
    }
    if (!(nfl & F_VM)) {
        /* CS */
        uint16_t cs = segs[S_CS];
        if ((cs & 0xFFFC) == 0 || !x86_read_desc(c, cs, &dlo, &dhi)
            || (dhi & (D_S | D_CODE)) != (D_S | D_CODE))
            ts_fault(c, cs);
        int dpl = (dhi >> 13) & 3;
        if ((dhi & D_CONF) ? dpl > (cs & 3) : dpl != (cs & 3))
            ts_fault(c, cs);
        if (!(dhi & D_P))
            x86_raise(c, X86_NP, cs & 0xFFFC);
        x86_desc_to_seg(&c->seg[S_CS], cs, dlo, dhi);
        /* SS */
        uint16_t ss = segs[S_SS];
        if ((ss & 0xFFFC) == 0 || !x86_read_desc(c, ss, &dlo, &dhi)
            || (dhi & (D_S | D_CODE | D_RW)) != (D_S | D_RW)
            || (ss & 3) != (cs & 3) || (int)((dhi >> 13) & 3) != (cs & 3))
            ts_fault(c, ss);
        if (!(dhi & D_P))
            x86_raise(c, X86_SS, ss & 0xFFFC);
        x86_desc_to_seg(&c->seg[S_SS], ss, dlo, dhi);
        x86_update_mode(c);
        static const int ds[4] = { S_ES, S_DS, S_FS, S_GS };
        for (int k = 0; k < 4; k++) {
            uint16_t s = segs[ds[k]];
            if ((s & 0xFFFC) == 0)
                continue;
            if (!x86_read_desc(c, s, &dlo, &dhi) || !(dhi & D_S)
                || (dhi & (D_CODE | D_RW)) == D_CODE)
                ts_fault(c, s);
            int sdpl = (dhi >> 13) & 3;
            if (!((dhi & D_CODE) && (dhi & D_CONF))
                && (sdpl < (s & 3) || sdpl < c->cpl))
                ts_fault(c, s);
            if (!(dhi & D_P))
                x86_raise(c, X86_NP, s & 0xFFFC);
            x86_desc_to_seg(&c->seg[ds[k]], s, dlo, dhi);
            x86_seg_derive(c, ds[k]);
        }
    }
    if (has_err) {
        unsigned sz = n32 ? 4 : 2;
        x86_push(c, err, sz);
    }
    if (c->next_eip > c->seg[S_CS].limit)
        x86_gp(c, 0);
    x86_break(c);
}

void x86_lldt(X86Cpu *c, uint16_t sel)
{
    uint32_t lo, hi;
    if ((sel & 0xFFFC) == 0) {
        c->seg[S_LDTR].sel = sel;
        c->seg[S_LDTR].attr = 0;
        c->seg[S_LDTR].base = 0;
        c->seg[S_LDTR].limit = 0;
        return;
    }
    if ((sel & 4) || !x86_read_desc(c, sel, &lo, &hi) || ((hi >> 8) & 0x1F) != 2)
        x86_gp(c, sel & 0xFFFC);
    if (!(hi & D_P))
        x86_raise(c, X86_NP, sel & 0xFFFC);
    x86_desc_to_seg(&c->seg[S_LDTR], sel, lo, hi);
}

void x86_ltr(X86Cpu *c, uint16_t sel)
{
    uint32_t lo, hi;
    if ((sel & 0xFFFC) == 0)
        x86_gp(c, 0);
    if ((sel & 4) || !x86_read_desc(c, sel, &lo, &hi))
        x86_gp(c, sel & 0xFFFC);
    unsigned t = (hi >> 8) & 0x1F;
    if (t != 1 && t != 9)
        x86_gp(c, sel & 0xFFFC);
    if (!(hi & D_P))
        x86_raise(c, X86_NP, sel & 0xFFFC);
    set_busy(c, sel, true);
    x86_desc_to_seg(&c->seg[S_TR], sel, lo, hi | 0x200);
}

bool x86_io_allowed(X86Cpu *c, uint32_t port, unsigned size)
{
    if (!(c->cr0 & CR0_PE))
        return true;
    if (!(c->eflags & F_VM) && c->cpl <= (int)((c->eflags & F_IOPL) >> 12))
        return true;
    X86Seg *tr = &c->seg[S_TR];
    if (!(tr->attr & 0x800) || tr->limit < 0x67)
        return false;
    uint32_t base = x86_sys_read(c, tr->base + TSS_IOMAP, 2);
    uint32_t off = base + (port >> 3);
    if (off + 1 > tr->limit)
        return false;
    uint32_t bits = x86_sys_read(c, tr->base + off, 2);
    uint32_t mask = ((1u << size) - 1) << (port & 7);
    return (bits & mask) == 0;
}
