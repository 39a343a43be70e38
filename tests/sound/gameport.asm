; SPDX-License-Identifier: LGPL-2.1-or-later
; The game port as DOS games read it: fire the one-shots, count until each
; axis bit drops. Run with stick 1 at X = -32768 (24.2 us), Y = 32767
; (24.2 us + 1.1 ms), button A1 down and stick 2 unplugged: its axes never
; time out. In deterministic mode one instruction is 1 ns and the loop
; below is 6 instructions, so the counts measure the one-shots.
    org 0
%include "lib.inc"

%define CAP 2000000

[bits 16]
start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7000
    mov word [FAILS], 0

    mov dx, 0x201
    in al, dx
    and al, 0xF0
    cmp al, 0xE0                ; A1 down (active low), the rest up
    OKIF e, "buttons: A1 down"
    in al, dx
    and al, 0x0F
    cmp al, 0
    OKIF e, "no one-shot before a write"

    mov bl, 1                   ; X1
    call measure
    cmp ecx, 3500
    OKIF a, "x1 left: longer than 21 us"
    cmp ecx, 4600
    OKIF b, "x1 left: shorter than 28 us"
    mov bl, 2                   ; Y1
    call measure
    cmp ecx, 175000
    OKIF a, "y1 down: longer than 1.05 ms"
    cmp ecx, 200000
    OKIF b, "y1 down: shorter than 1.2 ms"
    mov bl, 4                   ; X2: unplugged
    call measure
    cmp ecx, CAP
    OKIF e, "x2 unplugged never times out"
    jmp finish16

measure:                        ; bl = bit; ecx = loop count until it drops
    mov dx, 0x201
    out dx, al
    xor ecx, ecx
.l: in al, dx
    inc ecx
    test al, bl
    jz .d
    cmp ecx, CAP
    jb .l
.d: ret

%include "reset.inc"
