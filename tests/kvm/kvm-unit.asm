; SPDX-License-Identifier: LGPL-2.1-or-later
; The guest half of test-kvm: a real-mode loop that reads a command from
; port 0xE1 and reports results to port 0xE0 (each report ends the test's
; run() call). Commands:
;   1  report the byte at 0x10000            6  write 0x77 to 0x10000
;   2  rep outsb "abc" to port 0xE2          7  report the byte at 0x100000
;   3  cli; hlt (forever)                       (FFFF:0010, wraps with A20 off)
;   4  sti; hlt; report 0x44 after the wake  8  spin forever
;   9  report CPUID leaf 0's first vendor byte (EBX bits 0-7)
; INT 0x40 (the test's interrupt controller answers with vector 0x40)
; reports 0x40, an NMI (vector 2) reports 0x02.
    org 0

irq40:
    push ax
    mov al, 0x40
    out 0xE0, al
    pop ax
    iret

nmi:
    push ax
    mov al, 0x02
    out 0xE0, al
    pop ax
    iret

abc: db "abc"

start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7C00
    mov word [0x40*4], irq40
    mov word [0x40*4+2], 0xF000
    mov word [2*4], nmi
    mov word [2*4+2], 0xF000
    mov al, 0xA5                ; hello
    out 0xE0, al
next:
    in al, 0xE1
    cmp al, 1
    je c_read
    cmp al, 2
    je c_string
    cmp al, 3
    je c_halt
    cmp al, 4
    je c_wait
    cmp al, 6
    je c_write
    cmp al, 7
    je c_high
    cmp al, 8
    je c_spin
    cmp al, 9
    je c_vendor
    mov al, 0xEE                ; unknown command
    out 0xE0, al
    jmp next

c_read:
    mov ax, 0x1000
    mov es, ax
    mov al, [es:0]
    out 0xE0, al
    jmp next

c_write:
    mov ax, 0x1000
    mov es, ax
    mov byte [es:0], 0x77
    mov al, 0x06
    out 0xE0, al
    jmp next

c_high:
    mov ax, 0xFFFF
    mov es, ax
    mov al, [es:0x10]
    out 0xE0, al
    jmp next

c_string:
    push ds
    push cs
    pop ds
    mov si, abc
    mov cx, 3
    mov dx, 0xE2
    cld
    rep outsb
    pop ds
    mov al, 0x02
    out 0xE0, al
    jmp next

c_halt:
    cli
.h: hlt
    jmp .h

c_wait:
    sti
    hlt
    cli
    mov al, 0x44
    out 0xE0, al
    jmp next

c_spin:
    jmp c_spin

c_vendor:
    xor eax, eax
    cpuid
    mov al, bl
    out 0xE0, al
    jmp next

    times 0x10000 - 16 - ($ - $$) db 0xF4
    jmp 0xF000:start
    times 0x10000 - ($ - $$) db 0xF4
