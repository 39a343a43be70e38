/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * EFLAGS writes (POPF, IRET, task switches, interrupt entry). The lazy
 * arithmetic flags themselves are inline in x86-cpu.h.
 */
#include "x86-cpu.h"

void x86_write_eflags(X86Cpu *c, uint32_t val, uint32_t mask)
{
    uint32_t old = x86_get_eflags(c);
    uint32_t nf = (old & ~mask) | (val & mask);
    nf = (nf | 0x2u) & ~0xFFC08028u;
    c->eflags = nf;
    if (mask & nf & F_RF)
        c->rf_loaded = true;
    if ((old ^ nf) & F_ARITH)
        x86_set_arith(c, nf);
    /* (IF: only an interrupt it lets through needs the run loop; POPF
     * in Linux's local_irq_restore mostly lets none) */
    if (((old ^ nf) & (F_TF | F_RF | F_VM | F_IOPL)) ||
        ((nf & ~old & F_IF) && x86_irq_pending(c)))
        x86_break(c);
    if ((old ^ nf) & F_VM)
        x86_update_mode(c);
}
