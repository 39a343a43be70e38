/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Instruction handlers, referenced by the decoder tables.
 */
#ifndef TESSERA_X86_OPS_H
#define TESSERA_X86_OPS_H

#include "x86-cpu.h"

/* x86-exec-alu.c */
X86_H(h_alu_EG); X86_H(h_alu_GE); X86_H(h_alu_AI); X86_H(h_grp1);
X86_H(h_test_EG); X86_H(h_test_AI);
X86_H(h_inc_r); X86_H(h_dec_r); X86_H(h_grp4); X86_H(h_grp3);
X86_H(h_shift); X86_H(h_shld); X86_H(h_shrd);
X86_H(h_imul_GE); X86_H(h_imul_GEI);
X86_H(h_daa); X86_H(h_das); X86_H(h_aaa); X86_H(h_aas); X86_H(h_aam); X86_H(h_aad);
X86_H(h_salc);
X86_H(h_bt_EG); X86_H(h_bt_EI); X86_H(h_bsf); X86_H(h_bsr);
X86_H(h_setcc); X86_H(h_cmov);
X86_H(h_cmpxchg); X86_H(h_xadd); X86_H(h_cmpxchg8b); X86_H(h_bswap);
X86_H(h_cbw); X86_H(h_cwd);
uint32_t x86_shift_op(X86Cpu *c, unsigned op, uint32_t a, unsigned cnt, unsigned size);

/* x86-exec-mov.c */
X86_H(h_mov_EG); X86_H(h_mov_GE);
X86_H(h_mov_EI); X86_H(h_mov_r_imm); X86_H(h_mov_r8_imm);
X86_H(h_mov_moffs); X86_H(h_mov_ES); X86_H(h_mov_SE); X86_H(h_lea);
X86_H(h_movzx); X86_H(h_movsx); X86_H(h_xchg_EG); X86_H(h_xchg_ar); X86_H(h_nop);
X86_H(h_lxs); X86_H(h_xlat); X86_H(h_lahf); X86_H(h_sahf);
X86_H(h_push_r); X86_H(h_pop_r); X86_H(h_push_imm); X86_H(h_pop_E);
X86_H(h_push_sreg); X86_H(h_pop_sreg); X86_H(h_pusha); X86_H(h_popa);
X86_H(h_pushf); X86_H(h_popf); X86_H(h_enter); X86_H(h_leave);
X86_H(h_movs); X86_H(h_cmps); X86_H(h_stos); X86_H(h_lods); X86_H(h_scas);
X86_H(h_ins); X86_H(h_outs);

/* x86-exec-ctl.c */
X86_H(h_jcc); X86_H(h_jmp_rel); X86_H(h_call_rel); X86_H(h_ret); X86_H(h_loop);
X86_H(h_jmp_far); X86_H(h_call_far); X86_H(h_retf); X86_H(h_iret);
X86_H(h_grp5); X86_H(h_int); X86_H(h_int3); X86_H(h_into); X86_H(h_int1);
X86_H(h_bound); X86_H(h_hlt); X86_H(h_flagop);
X86_H(h_in_imm); X86_H(h_out_imm); X86_H(h_in_dx); X86_H(h_out_dx);
/* x86-fpu.c */
X86_H(h_fpu); X86_H(h_fwait);
X86_H(h_ud); X86_H(h_gp0); X86_H(h_lock_ud);

/* x86-exec-sys.c */
X86_H(h_grp6); X86_H(h_grp7); X86_H(h_lar); X86_H(h_lsl); X86_H(h_arpl);
X86_H(h_clts); X86_H(h_invd); X86_H(h_mov_r_cr); X86_H(h_mov_cr_r);
X86_H(h_mov_r_dr); X86_H(h_mov_dr_r); X86_H(h_wrmsr); X86_H(h_rdmsr);
X86_H(h_rdtsc); X86_H(h_rdpmc); X86_H(h_cpuid); X86_H(h_sysenter); X86_H(h_sysexit);
X86_H(h_nop_ev); X86_H(h_rsm);

#endif
