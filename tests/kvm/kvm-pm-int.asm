; SPDX-License-Identifier: LGPL-2.1-or-later
; Interrupts and exceptions in flat 32-bit protected mode, through a
; 32-bit interrupt gate IDT: a hardware interrupt from the PIT via the
; 8259A, HLT waking on it, INT n, and #DE as a fault (the pushed EIP is
; the DIV itself). Machine: kvm-pc.xml (PIC at 0x20, PIT on IR0).
    org 0
%include "kvm-lib.inc"

%define TICKS  0x520            ; dword: IRQ0 count
%define LASTV  0x524            ; byte: last vector
%define LASTIP 0x528            ; dword: EIP pushed by the last fault

start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7C00
    mov word [FAILS], 0
    lgdt [cs:gdtr]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp dword 0x08:pm32 + ROMBASE

[bits 32]
irq0:                           ; vector 0x20: IR0
    push eax
    inc dword [TICKS]
    mov byte [LASTV], 0x20
    mov al, 0x20
    out 0x20, al
    pop eax
    iretd

int30:                          ; INT 0x30: EAX += 1
    inc eax
    mov byte [LASTV], 0x30
    iretd

de:                             ; #DE: record the faulting EIP, skip the DIV
    push eax
    mov eax, [esp+4]
    mov [LASTIP], eax
    mov byte [LASTV], 0
    add dword [esp+4], 2
    pop eax
    iretd

%macro IDTGATE 2                ; vector, handler: 32-bit interrupt gate, DPL 0
    mov eax, %2 + ROMBASE
    mov [0x2000 + %1*8], ax
    mov word [0x2000 + %1*8 + 2], 0x08
    mov word [0x2000 + %1*8 + 4], 0x8E00
    shr eax, 16
    mov [0x2000 + %1*8 + 6], ax
%endmacro

pm32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x7C00
    mov dword [TICKS], 0
    IDTGATE 0x00, de
    IDTGATE 0x20, irq0
    IDTGATE 0x30, int30
    lidt [idtr + ROMBASE]

    ; 8259A: vectors 0x20-0x27, only IR0; 8254 counter 0 at ~1 ms
    mov al, 0x13
    out 0x20, al
    mov al, 0x20
    out 0x21, al
    mov al, 0x01
    out 0x21, al
    mov al, 0xFE
    out 0x21, al
    mov al, 0x34
    out 0x43, al
    mov al, 1193 & 0xFF
    out 0x40, al
    mov al, 1193 >> 8
    out 0x40, al

    sti
.three:
    hlt
    cmp dword [TICKS], 3
    jb .three
    cli
    CHECK32 ae, "irq0 in protected mode"
    cmp byte [LASTV], 0x20
    CHECK32 e, "irq0 vector"
    mov al, 0xFF
    out 0x21, al

    mov eax, 7
    int 0x30
    cmp eax, 8
    CHECK32 e, "int 0x30"
    xor edx, edx
    xor ecx, ecx
    mov eax, 5
.div:
    div ecx
    cmp byte [LASTV], 0
    CHECK32 e, "#DE taken"
    cmp dword [LASTIP], .div + ROMBASE
    CHECK32 e, "#DE is a fault"
    jmp done32

[bits 16]
gdtr: dw 23
      dd gdt + ROMBASE
idtr: dw 0x30*8 + 7
      dd 0x2000
align 8
gdt:  dq 0
      dq 0x00CF9B000000FFFF     ; flat code
      dq 0x00CF93000000FFFF     ; flat data

RESET_VECTOR start
