/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tables of the specialised handlers (x86-exec-fast.c) the decoder picks
 * from. Size index: 0 = byte, 1 = word, 2 = dword. Form index: see below.
 */
#ifndef TESSERA_X86_FAST_H
#define TESSERA_X86_FAST_H

#include "x86-cpu.h"

enum { FF_RR, FF_RI, FF_RM, FF_MR, FF_MI };   /* dst,src: reg,reg reg,imm reg,mem mem,reg mem,imm */

extern const X86Handler x86_fast_alu[8][3][5];
extern const X86Handler x86_fast_test[3][5];
extern const X86Handler x86_fast_mov[3][5];
extern const X86Handler x86_fast_movx[2][2][2][2];  /* [sx][dst32][src16][mem] */
extern const X86Handler x86_fast_shift[8][3][3];   /* [op][size][ri, rc, m] */
extern const X86Handler x86_fast_jcc[16];

X86_H(h_lea32); X86_H(h_lea16);
X86_H(h_inc32_r); X86_H(h_dec32_r); X86_H(h_inc16_r); X86_H(h_dec16_r);
X86_H(h_push32_r); X86_H(h_pop32_r); X86_H(h_push16_r); X86_H(h_pop16_r);
X86_H(h_imul32_GEI_r); X86_H(h_imul32_GEI_m); X86_H(h_imul32_GE_r); X86_H(h_imul32_GE_m);
X86_H(h_call32_rel); X86_H(h_ret32); X86_H(h_call16_rel); X86_H(h_ret16);
X86_H(h_loop32); X86_H(h_loop16);

#endif
