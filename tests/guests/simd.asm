; SPDX-License-Identifier: LGPL-2.1-or-later
; MMX, FXSAVE/FXRSTOR, SSE and SSE2 gating and state, by what CPUID.1
; reports: #UD without the feature, with CR0.EM or (SSE) without
; CR4.OSFXSR; #NM with CR0.TS (FXSAVE: with CR0.EM too); #GP for a
; misaligned 16-byte operand of an aligned form and of FXSAVE/FXRSTOR,
; for a reserved MXCSR bit in LDMXCSR and FXRSTOR; unmasked SIMD
; exceptions as #XM with CR4.OSXMMEXCPT, #UD without it, leaving the
; destination alone; the FXSAVE image (abridged tags, MMX registers as
; ST(i), MXCSR, XMM only with CR4.OSFXSR). Checks that need a feature
; the model lacks are replaced by its #UD check.
    org 0
%include "lib.inc"

%define GDT    0x1000
%define IDT    0x2000
%define STK0   0x9F000
%define FEAT   0x520            ; CPUID.1:EDX (0: no CPUID)
%define HAVECR4 0x524           ; the model has CR4 (CPUID reports DE)
%define FXA    0x9000           ; FXSAVE area (16-byte aligned)
%define FXB    0x9400
%define OUT    0x8800

%define KCODE  0x08
%define KDATA  0x10

%define CR0_EM 0x04
%define CR0_NE 0x20
%define CR0_TS 0x08
%define CR4_OSFXSR 0x200
%define CR4_OSXMMEXCPT 0x400

[bits 16]
start:
    GUEST_START
    ENTER_PM

align 8
gdt_tmpl:
    dq 0
    dq 0x00CF9B000000FFFF   ; 08 code
    dq 0x00CF93000000FFFF   ; 10 data
gdt_end:

[bits 32]
EXCEPTION_STUBS

STUB_COMMON

; VEC n, "name": PASS when the last exception was vector n (0xFF: none)
%macro VEC 2
    cmp dword [LASTVEC], %1
    OKIF32 e, %2
%endmacro

%macro CR0_SET 1
    mov eax, cr0
    or eax, %1
    mov cr0, eax
%endmacro
%macro CR0_CLR 1
    mov eax, cr0
    and eax, ~%1
    mov cr0, eax
%endmacro
%macro CR4_SET 1
    mov eax, cr4
    or eax, %1
    mov cr4, eax
%endmacro
%macro CR4_CLR 1
    mov eax, cr4
    and eax, ~%1
    mov cr4, eax
%endmacro

%macro HAVE 2               ; HAVE bit, label: jump there when the feature is absent
    test dword [FEAT], 1 << %1
    jz %2
%endmacro

align 16
c_q:    dq 0x0102030405060708, 0x1112131415161718
c_one:  dd 1.0, 2.0, 3.0, 4.0
c_two:  dd 2.0, 2.0, 2.0, 2.0
c_zero: dd 0.0, 0.0, 0.0, 0.0
c_d:    dq 1.5, 2.25
c_mx_zm: dd 0x1F80 & ~0x200         ; divide-by-zero unmasked
c_mx_bad: dd 0x10000 | 0x1F80       ; a reserved bit
c_pat:  db 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77
        db 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF

SET_GATE_FN

pm32:
    PM32_FLAT
    IDT_STUBS
    lidt [idtr + ROMBASE]
    ; CPUID.1 where EFLAGS.ID toggles
    mov dword [FEAT], 0
    mov dword [HAVECR4], 0
    pushfd
    pop eax
    mov ecx, eax
    xor eax, 0x200000
    push eax
    popfd
    pushfd
    pop eax
    cmp eax, ecx
    je .nocpuid
    mov eax, 1
    cpuid
    mov [FEAT], edx
    and edx, 4
    mov [HAVECR4], edx
.nocpuid:
    CR0_CLR CR0_EM | CR0_TS

; ---- MMX -------------------------------------------------------------------
    HAVE 23, no_mmx
    EXPECT32 .m1
    CR0_SET CR0_EM
    paddb mm0, mm1
.m1:
    CR0_CLR CR0_EM
    VEC 6, "mmx with cr0.em #UD"
    EXPECT32 .m2
    CR0_SET CR0_TS
    paddb mm0, mm1
.m2:
    clts
    VEC 7, "mmx with cr0.ts #NM"
    EXPECT32 .m3
    movq mm2, [c_q + ROMBASE]
    paddb mm2, mm2
    movq [OUT], mm2
.m3:
    VEC 0xFF, "mmx runs"
    cmp dword [OUT], 0x0A0C0E10
    OKIF32 e, "paddb low"
    cmp dword [OUT + 4], 0x02040608
    OKIF32 e, "paddb high"
    emms
    jmp mmx_done
no_mmx:
    EXPECT32 .n1
    paddb mm0, mm1
.n1:
    VEC 6, "no mmx: paddb #UD"
mmx_done:

; ---- FXSAVE / FXRSTOR ------------------------------------------------------
    HAVE 24, no_fxsr
    EXPECT32 .f1
    fxsave [FXA + 8]
.f1:
    VEC 13, "fxsave misaligned #GP"
    EXPECT32 .f2
    fxrstor [FXA + 4]
.f2:
    VEC 13, "fxrstor misaligned #GP"
    EXPECT32 .f3
    CR0_SET CR0_TS
    fxsave [FXA]
.f3:
    clts
    VEC 7, "fxsave with cr0.ts #NM"
    EXPECT32 .f4
    CR0_SET CR0_EM
    fxsave [FXA]
.f4:
    CR0_CLR CR0_EM
    VEC 7, "fxsave with cr0.em #NM"
    ; the image of MMX state, CR4.OSFXSR clear: XMM area left alone
    mov edi, FXA
    mov ecx, 512 / 4
    mov eax, 0xA5A5A5A5
    rep stosd
    EXPECT32 .f5
    movq mm3, [c_q + ROMBASE]
    fxsave [FXA]
.f5:
    VEC 0xFF, "fxsave runs"
    cmp byte [FXA + 4], 0xFF
    OKIF32 e, "fxsave abridged tags after mmx"
    mov ax, [FXA + 2]
    and ax, 0x3800
    OKIF32 z, "fxsave top 0 after mmx"
    mov eax, [c_q + ROMBASE]
    cmp [FXA + 32 + 3*16], eax
    OKIF32 e, "fxsave st3 = mm3 low"
    mov eax, [c_q + ROMBASE + 4]
    cmp [FXA + 32 + 3*16 + 4], eax
    OKIF32 e, "fxsave st3 = mm3 high"
    cmp word [FXA + 32 + 3*16 + 8], 0xFFFF
    OKIF32 e, "fxsave st3 exponent ffff"
    cmp dword [FXA + 160], 0xA5A5A5A5
    OKIF32 e, "fxsave without osfxsr keeps the xmm area"
    emms
    fxsave [FXB]
    cmp byte [FXB + 4], 0
    OKIF32 e, "fxsave abridged tags after emms"
    ; FXRSTOR rebuilds the tags from the image
    mov byte [FXA + 4], 0x08
    fxrstor [FXA]
    fxsave [FXB]
    cmp byte [FXB + 4], 0x08
    OKIF32 e, "fxrstor abridged tags"
    mov eax, [c_q + ROMBASE]
    cmp [FXB + 32 + 3*16], eax
    OKIF32 e, "fxrstor st3"
    emms
    ; a pending x87 exception (FSW.ES) is delivered to an MMX
    ; instruction: #MF with CR0.NE
    HAVE 23, fxsr_done
    fxsave [FXB]
    mov word [FXB], 0x037E          ; invalid operation unmasked
    mov word [FXB + 2], 0x0081      ; IE with ES: pending
    fxrstor [FXB]
    CR0_SET CR0_NE
    EXPECT32 .f6
    paddb mm0, mm1
.f6:
    VEC 16, "mmx with a pending x87 exception #MF"
    mov word [FXB], 0x037F
    mov word [FXB + 2], 0
    fxrstor [FXB]
    EXPECT32 .f7
    paddb mm0, mm1
    emms
.f7:
    VEC 0xFF, "mmx after the x87 state is clean"
    jmp fxsr_done
no_fxsr:
    EXPECT32 .n1
    fxsave [FXA]
.n1:
    VEC 6, "no fxsr: fxsave #UD"
    cmp dword [HAVECR4], 0
    je fxsr_done
    EXPECT32 .n2
    CR4_SET CR4_OSFXSR
.n2:
    VEC 13, "no fxsr: cr4.osfxsr #GP"
fxsr_done:

; ---- SSE -------------------------------------------------------------------
    HAVE 25, no_sse
    EXPECT32 .s1
    addps xmm0, xmm1
.s1:
    VEC 6, "sse without cr4.osfxsr #UD"
    EXPECT32 .s2
    ldmxcsr [c_mx_zm + ROMBASE]
.s2:
    VEC 6, "ldmxcsr without cr4.osfxsr #UD"
    CR4_SET CR4_OSFXSR | CR4_OSXMMEXCPT
    EXPECT32 .s3
    CR0_SET CR0_EM
    addps xmm0, xmm1
.s3:
    CR0_CLR CR0_EM
    VEC 6, "sse with cr0.em #UD"
    EXPECT32 .s4
    CR0_SET CR0_TS
    addps xmm0, xmm1
.s4:
    clts
    VEC 7, "sse with cr0.ts #NM"
    EXPECT32 .s5
    stmxcsr [OUT]
.s5:
    VEC 0xFF, "stmxcsr runs"
    cmp dword [OUT], 0x1F80
    OKIF32 e, "mxcsr reset value"
    EXPECT32 .s6
    movaps xmm0, [c_one + ROMBASE + 4]
.s6:
    VEC 13, "movaps misaligned #GP"
    EXPECT32 .s7
    addps xmm0, [c_one + ROMBASE + 8]
.s7:
    VEC 13, "addps misaligned memory #GP"
    EXPECT32 .s8
    movups xmm0, [c_one + ROMBASE + 4]
    addss xmm0, [c_one + ROMBASE + 4]   ; scalar: no alignment
    movaps xmm1, [c_one + ROMBASE]
    addps xmm1, [c_two + ROMBASE]
    movups [OUT], xmm1
.s8:
    VEC 0xFF, "unaligned forms run"
    cmp dword [OUT], 0x40400000          ; 3.0
    OKIF32 e, "addps lane 0"
    cmp dword [OUT + 12], 0x40C00000     ; 6.0
    OKIF32 e, "addps lane 3"
    EXPECT32 .s9
    ldmxcsr [c_mx_bad + ROMBASE]
.s9:
    VEC 13, "ldmxcsr reserved bit #GP"
    ; unmasked divide by zero: #XM, the destination unchanged, ZE set
    ldmxcsr [c_mx_zm + ROMBASE]
    movaps xmm1, [c_one + ROMBASE]
    movaps xmm2, [c_zero + ROMBASE]
    EXPECT32 .s10
    divss xmm1, xmm2
.s10:
    VEC 19, "unmasked divss by zero #XM"
    movss [OUT], xmm1               ; SSE only (MOVD from XMM is SSE2)
    mov eax, [OUT]
    cmp eax, 0x3F800000
    OKIF32 e, "#XM leaves the destination"
    stmxcsr [OUT]
    test dword [OUT], 4
    OKIF32 nz, "#XM sets mxcsr.ze"
    CR4_CLR CR4_OSXMMEXCPT
    EXPECT32 .s11
    divps xmm1, xmm2
.s11:
    VEC 6, "unmasked without cr4.osxmmexcpt #UD"
    CR4_SET CR4_OSXMMEXCPT
    mov dword [OUT], 0x1F80
    ldmxcsr [OUT]
    ; FXSAVE with CR4.OSFXSR: MXCSR and XMM0-7 in the image
    movups xmm5, [c_pat + ROMBASE]
    mov dword [FXA + 24], 0
    fxsave [FXA]
    cmp dword [FXA + 24], 0x1F80
    OKIF32 e, "fxsave mxcsr"
    cmp dword [FXA + 28], 0
    OKIF32 ne, "fxsave mxcsr_mask"
    cmp dword [FXA + 160 + 5*16], 0x33221100
    OKIF32 e, "fxsave xmm5 low"
    cmp dword [FXA + 160 + 5*16 + 12], 0xFFEEDDCC
    OKIF32 e, "fxsave xmm5 high"
    or dword [FXA + 24], 0x10000
    EXPECT32 .s12
    fxrstor [FXA]
.s12:
    VEC 13, "fxrstor reserved mxcsr bit #GP"
    and dword [FXA + 24], 0xFFFF
    mov dword [FXA + 160], 0x12345678
    fxrstor [FXA]
    movss [OUT], xmm0
    mov eax, [OUT]
    cmp eax, 0x12345678
    OKIF32 e, "fxrstor xmm0"
    jmp sse_done
no_sse:
    cmp dword [HAVECR4], 0
    je .n1
    EXPECT32 .n1
    CR4_SET CR4_OSFXSR          ; with FXSR but no SSE the ops stay #UD
.n1:
    EXPECT32 .n2
    addps xmm0, xmm1
.n2:
    VEC 6, "no sse: addps #UD"
sse_done:

; ---- SSE2 ------------------------------------------------------------------
    HAVE 26, no_sse2
    EXPECT32 .t1
    movdqa xmm0, [c_q + ROMBASE + 8]
.t1:
    VEC 13, "movdqa misaligned #GP"
    EXPECT32 .t2
    movupd xmm1, [c_d + ROMBASE]
    movapd xmm2, xmm1
    shufpd xmm2, xmm2, 1
    addsd xmm1, xmm2
    movsd [OUT], xmm1
    movdqu xmm3, [c_q + ROMBASE]
    paddq xmm3, xmm3
    movdqu [OUT + 16], xmm3
.t2:
    VEC 0xFF, "sse2 runs"
    cmp dword [OUT + 4], 0x400E0000      ; 3.75
    OKIF32 e, "addsd"
    cmp dword [OUT + 28], 0x22242628
    OKIF32 e, "paddq"
    jmp sse2_done
no_sse2:
    cmp dword [HAVECR4], 0
    je .n1
    EXPECT32 .n1
    CR4_SET CR4_OSFXSR
.n1:
    EXPECT32 .n2
    addpd xmm0, xmm1
.n2:
    VEC 6, "no sse2: addpd #UD"
    EXPECT32 .n3
    paddq mm0, mm1
.n3:
    VEC 6, "no sse2: paddq mm #UD"
sse2_done:
    jmp finish32

%include "reset.inc"
