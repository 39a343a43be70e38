; SPDX-License-Identifier: LGPL-2.1-or-later
; Sound benchmark guest: 44.1 kHz 16-bit stereo auto-init DMA playback
; (a 100 ms block per interrupt) plus an OPL3 tune (a new note every
; block), for SECONDS seconds, then the test-exit port. The CPU halts
; between interrupts, so what the host spends is the cost of the sound.
    org 0
%ifndef SECONDS
%define SECONDS 10
%endif
%define SB      0x220
%define IRQCNT  0x601
%define BLK     8820            ; words per block: 4410 stereo frames
[bits 16]
start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7000
    mov word [0x0D * 4], irq5
    mov word [0x0D * 4 + 2], 0xF000
    mov al, 0x11
    out 0x20, al
    mov al, 0x08
    out 0x21, al
    mov al, 0x04
    out 0x21, al
    mov al, 0x01
    out 0x21, al
    mov al, 0xDF
    out 0x21, al
    mov al, 0xC0
    out 0xD6, al
    xor al, al
    out 0xD4, al
    mov dx, SB + 6
    mov al, 1
    out dx, al
    xor al, al
    out dx, al
    mov dx, SB + 0xE
.r: in al, dx
    test al, 0x80
    jz .r
    mov dx, SB + 0xA
    in al, dx
    ; a square wave in two blocks at 0x40000
    mov ax, 0x4000
    mov es, ax
    xor di, di
    mov cx, BLK
    xor bx, bx
.f: mov ax, 6000
    cmp bx, 50
    jb .h
    mov ax, -6000
.h: stosw
    stosw
    inc bx
    cmp bx, 100
    jb .n
    xor bx, bx
.n: loop .f
    mov al, 0x05
    out 0xD4, al
    mov al, 0x59
    out 0xD6, al
    out 0xD8, al
    xor al, al
    out 0xC4, al
    out 0xC4, al
    mov al, 0x04
    out 0x8B, al
    mov ax, 2 * BLK - 1
    out 0xC6, al
    mov al, ah
    out 0xC6, al
    mov al, 0x01
    out 0xD4, al
    ; OPL instrument on channel 0
    mov si, fm_regs
.fm: cs lodsw
    test ax, ax
    jz .fmd
    call opl_write
    jmp .fm
.fmd:
    mov al, 0x41
    call dsp_write
    mov al, 0xAC
    call dsp_write
    mov al, 0x44
    call dsp_write
    mov al, 0xB6
    call dsp_write
    mov al, 0x30
    call dsp_write
    mov ax, BLK - 1
    call dsp_write
    mov al, ah
    call dsp_write
    mov byte [IRQCNT], 0
    sti
.w: hlt
    cmp byte [IRQCNT], SECONDS * 10
    jb .w
    cli
    mov al, 0xD9
    call dsp_write
    mov al, 0x10
    out 0xF4, al
    hlt

fm_regs:
    dw 0x2021, 0x2321, 0x403F, 0x4300, 0x60F0, 0x63F0, 0x800F, 0x830F
    dw 0xE000, 0xE300, 0xC001, 0

irq5:
    push ax
    push dx
    push bx
    mov dx, SB + 0xF
    in al, dx
    ; next note of a scale: F-number from the table, key off then on
    mov bl, [IRQCNT]
    and bx, 7
    shl bx, 1
    mov ah, 0xB0
    mov al, 0x10
    call opl_write
    mov ah, 0xA0
    mov al, [cs:notes + bx]
    call opl_write
    mov ah, 0xB0
    mov al, [cs:notes + bx + 1]
    call opl_write
    inc byte [IRQCNT]
    mov al, 0x20
    out 0x20, al
    pop bx
    pop dx
    pop ax
    iret

notes:  ; F-number low byte, key-on | block 4 | F-number high (C major from 262 Hz)
    db 0x58, 0x31, 0x83, 0x31, 0xB2, 0x31, 0xCA, 0x31, 0x02, 0x32, 0x41, 0x32, 0x87, 0x32, 0xB0, 0x32

%include "sb16.inc"

    times 0x10000 - 16 - ($ - $$) db 0xF4
    jmp 0xF000:start
    times 0x10000 - ($ - $$) db 0xF4
