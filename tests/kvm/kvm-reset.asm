; SPDX-License-Identifier: LGPL-2.1-or-later
; Processor resets: a fast reset through port 0x92 and a triple fault
; (shutdown) both restart the processor at the reset vector in its
; power-on state (Intel SDM vol. 3, table 9-1: EDX = the CPUID signature,
; CR0 = 60000010h, EFLAGS = 2, real mode), while RAM keeps its contents,
; which is how this ROM knows which stage it is in.
; Machine: machines/bare.xml (or kvm-pc.xml) with --bios.
    org 0
%include "kvm-lib.inc"

%define STAGE  0x600            ; byte: 0x5A after the fast reset, 0xA5 after the shutdown
%define MAGIC  0x602            ; word: 0x1234 once stage 0 ran

start:
    ; nothing touched yet: check the power-on state first
    mov esi, edx                ; EDX: the model's signature
    mov edi, cr0
    pushfd
    pop ebp
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7C00
    cmp word [MAGIC], 0x1234
    je .again
    mov word [FAILS], 0
    mov byte [STAGE], 0
    mov word [MAGIC], 0x1234
.again:
    cmp esi, 0x052C
    CHECK e, "edx is the signature"
    cmp edi, 0x60000010
    CHECK e, "cr0 at reset"
    cmp ebp, 2
    CHECK e, "eflags at reset"

    cmp byte [STAGE], 0x5A
    je stage1
    cmp byte [STAGE], 0xA5
    je stage2

    ; stage 0: fast reset
    mov si, s_stage0
    call puts16
    mov byte [STAGE], 0x5A
    mov eax, 0xDEADBEEF         ; must not survive the reset
    mov edx, eax
    mov al, 1
    out 0x92, al
.hang:
    hlt
    jmp .hang

stage1:
    mov si, s_stage1
    call puts16
    ; triple fault: in protected mode with an empty IDT, a #GP (loading
    ; a selector past the GDT limit) cannot be delivered, nor can the
    ; double fault that follows
    mov byte [STAGE], 0xA5
    lidt [cs:idt_empty]
    lgdt [cs:gdtr]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp dword 0x08:pm32 + ROMBASE
[bits 32]
pm32:
    mov ax, 0x50
    mov ds, ax
    hlt
[bits 16]

stage2:
    mov si, s_stage2
    call puts16
    jmp done16

s_stage0: db "stage 0: fast reset", 10, 0
s_stage1: db "stage 1: triple fault", 10, 0
s_stage2: db "stage 2: after shutdown", 10, 0
idt_empty: dw 0
           dd 0
gdtr: dw 23
      dd gdt + ROMBASE
align 8
gdt:  dq 0
      dq 0x00CF9B000000FFFF     ; flat code
      dq 0x00CF93000000FFFF     ; flat data

RESET_VECTOR start
