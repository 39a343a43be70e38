; SPDX-License-Identifier: LGPL-2.1-or-later
; Fixed 32-bit integer workload for interpreter speed: 11 instructions per
; iteration (multiply, add, shift, logic, a read-modify-write to a 4 KiB
; table, rotate, loop). Prints "CHECKSUM xxxxxxxx xxxxxxxx" on port 0xE9,
; then exits through test-exit (0xF4) and the Bochs shutdown port.
    org 0
%define ROMBASE 0xF0000
%define ITER    ITERATIONS
%define TABLE   0x100000

[bits 16]
start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7C00
    mov al, 2
    out 0x92, al
    lgdt [cs:gdtr]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp dword 0x08:(pm + ROMBASE)

gdtr: dw 23
      dd gdt + ROMBASE
align 8
gdt:  dq 0
      dq 0x00CF9B000000FFFF
      dq 0x00CF93000000FFFF

[bits 32]
pm:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x90000
    mov edi, TABLE
    mov ecx, 1024
    xor eax, eax
    rep stosd
    mov ecx, ITER
    mov esi, 12345
    xor edi, edi
.loop:
    imul esi, esi, 1103515245
    add esi, 12345
    mov eax, esi
    shr eax, 16
    xor edi, eax
    mov ebx, eax
    and ebx, 0x3FF
    add [TABLE + ebx*4], edi
    rol edi, 5
    dec ecx
    jnz .loop
    ; checksum of the table
    xor edx, edx
    mov ecx, 1024
    mov esi, TABLE
.sum:
    add edx, [esi]
    rol edx, 1
    add esi, 4
    loop .sum
    mov esi, msg + ROMBASE
    call puts
    mov eax, edi
    call hex
    mov al, ' '
    out 0xE9, al
    mov eax, edx
    call hex
    mov al, 10
    out 0xE9, al
    mov al, 0x10
    out 0xF4, al
    mov esi, shut + ROMBASE     ; Bochs: "Shutdown" to port 0x8900
    mov dx, 0x8900
.sh: lodsb
    test al, al
    jz .halt
    out dx, al
    jmp .sh
.halt:
    hlt
    jmp .halt

puts:
    lodsb
    test al, al
    jz .e
    out 0xE9, al
    jmp puts
.e: ret

hex:                        ; eax
    push ecx
    mov ecx, 8
.h: rol eax, 4
    push eax
    and al, 0x0F
    add al, '0'
    cmp al, '9'
    jbe .d
    add al, 7
.d: out 0xE9, al
    pop eax
    loop .h
    pop ecx
    ret

msg:  db "CHECKSUM ", 0
shut: db "Shutdown", 0

    times 0x10000 - 16 - ($ - $$) db 0xF4
[bits 16]
    jmp 0xF000:start
    times 0x10000 - ($ - $$) db 0xF4
