; SPDX-License-Identifier: LGPL-2.1-or-later
; Real mode, then flat 32-bit protected mode: port I/O (single and string),
; RAM, ROM and unmapped memory, the A20 wrap through port 0x92, CPUID
; identification, a software interrupt and a fault in real mode.
; (Interrupts in protected mode: kvm-pm-int.asm.)
; Machine: machines/bare.xml (or kvm-pc.xml) with --bios.
    org 0
%include "kvm-lib.inc"

int40:                          ; INT 0x40 in real mode: AX += 1
    inc ax
    iret

rm_de:                          ; #DE in real mode: note it, skip the 2-byte DIV
    push bp
    mov bp, sp
    add word [bp+2], 2
    mov byte [0x510], 1
    pop bp
    iret

banner: db "string out", 10
banner_end:

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7C00
    mov word [FAILS], 0

    ; ---- port I/O: a string OUT of several bytes, then IN
    push cs
    pop ds
    mov si, banner
    mov cx, banner_end - banner
    mov dx, 0xE9
    cld
    rep outsb
    xor ax, ax
    mov ds, ax
    mov dx, 0x402
    in al, dx                   ; the debug console reads back 0xE9
    cmp al, 0xE9
    CHECK e, "in 0x402"
    mov di, 0x900               ; string IN: four bytes, all 0xE9
    mov cx, 4
    rep insb
    cmp dword [0x900], 0xE9E9E9E9
    CHECK e, "rep insb"

    ; ---- memory
    mov word [0x7000], 0x1234
    cmp word [0x7000], 0x1234
    CHECK e, "ram"
    mov ax, 0xF000
    mov es, ax
    mov al, [es:banner]
    not al
    mov [es:banner], al         ; the ROM ignores writes
    mov ah, [es:banner]
    not al
    cmp ah, al
    CHECK e, "rom write ignored"
    xor ax, ax
    mov es, ax

    ; ---- CPUID: the pentium model's identification
    xor eax, eax
    cpuid
    cmp ebx, 0x756E6547         ; "Genu"
    CHECK e, "cpuid vendor"
    cmp eax, 1
    CHECK ae, "cpuid max leaf"
    mov eax, 1
    cpuid
    cmp eax, 0x052C
    CHECK e, "cpuid signature"

    ; ---- software interrupt and a fault through the IVT
    mov word [0x40*4], int40
    mov word [0x40*4+2], 0xF000
    mov word [0*4], rm_de
    mov word [0*4+2], 0xF000
    mov ax, 41
    int 0x40
    cmp ax, 42
    CHECK e, "int 0x40"
    mov byte [0x510], 0
    xor cl, cl
    div cl                      ; 2 bytes: F6 F1
    cmp byte [0x510], 1
    CHECK e, "real-mode #DE"

    ; ---- A20 through port 0x92: off wraps 0x100000 onto 0
    mov ax, 0xFFFF
    mov es, ax
    mov al, 2
    out 0x92, al
    mov byte [0x0000], 0x11
    mov byte [es:0x0010], 0x22
    cmp byte [0x0000], 0x11
    CHECK e, "a20 on: no wrap"
    xor al, al
    out 0x92, al
    mov byte [es:0x0010], 0x33
    cmp byte [0x0000], 0x33
    CHECK e, "a20 off: wrap"
    mov al, 2
    out 0x92, al
    cmp byte [es:0x0010], 0x22
    CHECK e, "a20 on again"
    xor ax, ax
    mov es, ax

    ; ---- flat 32-bit protected mode
    lgdt [cs:gdtr]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp dword 0x08:pm32 + ROMBASE

[bits 32]
pm32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x7C00
    mov esi, s_pm + ROMBASE
    call puts32

    mov dword [0x200000], 0xCAFEBABE
    cmp dword [0x200000], 0xCAFEBABE
    CHECK32 e, "ram above 2M"
    mov eax, [0xFEE00000]       ; nothing there (no local APIC): all ones
    cmp eax, 0xFFFFFFFF
    CHECK32 e, "unmapped reads ones"
    mov dword [0xFEE00000], 0   ; and ignores writes
    cmp dword [0xFEE00000], 0xFFFFFFFF
    CHECK32 e, "unmapped ignores writes"
    mov eax, [0xFFFFFFF0]       ; the reset vector: jmp far F000:start
    cmp al, 0xEA
    CHECK32 e, "rom at 4G"

    jmp done32

s_pm: db "protected mode", 10, 0

[bits 16]
gdtr: dw 23
      dd gdt + ROMBASE
align 8
gdt:  dq 0
      dq 0x00CF9B000000FFFF     ; flat code
      dq 0x00CF93000000FFFF     ; flat data

RESET_VECTOR start
