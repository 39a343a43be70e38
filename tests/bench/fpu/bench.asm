; SPDX-License-Identifier: LGPL-2.1-or-later
; Fixed x87 workload for interpreter speed, Whetstone-style: per iteration
; module 1 (simple identifiers), module 8 (procedure-call arithmetic) and
; a square-root recurrence, on doubles in memory as compiled code keeps
; them, plus a compare through FNSTSW/SAHF. 27 floating-point operations
; (FCHS not counted, FCOMP counted) in 48 instructions per iteration. Only the basic arithmetic (+ - * /
; sqrt, round to nearest, 64-bit precision), so every correct x87 gives
; the same bits: prints "CHECKSUM" with the final values' bit patterns on
; port 0xE9, then exits through test-exit (0xF4) and the Bochs shutdown
; port.
    org 0
%define ITER    ITERATIONS
%define VARS    0x100000

%define X1  VARS + 0
%define X2  VARS + 8
%define X3  VARS + 16
%define X4  VARS + 24
%define X   VARS + 32
%define Y   VARS + 40
%define Z   VARS + 48
%define S   VARS + 56
%define T   VARS + 64
%define T1  VARS + 72
%define T2  VARS + 80
%define CNT VARS + 88

%include "harness.inc"            ; tests/bench/cpu, given with nasm -i

BENCH_START 4                   ; CR0.EM off

align 8
init: dq 1.0, -1.0, -1.0, -1.0, 0.75, 0.5, 0.25, 2.0, 0.499975, 0.50025, 2.0

[bits 32]
BENCH_PM32
    mov esi, init + ROMBASE
    mov edi, VARS
    mov ecx, 22
    rep movsd
    fninit
    mov ecx, ITER
    xor ebx, ebx
.loop:
    ; module 1: x1 = (x1 + x2 + x3 - x4) * t, ...
    fld qword [X1]
    fadd qword [X2]
    fadd qword [X3]
    fsub qword [X4]
    fmul qword [T]
    fst qword [X1]
    fld qword [X2]          ; x2 = (x1 + x2 - x3 + x4) * t
    faddp st1, st0
    fsub qword [X3]
    fadd qword [X4]
    fmul qword [T]
    fst qword [X2]
    fsubr qword [X1]        ; x3 = (x1 - x2 + x3 + x4) * t
    fadd qword [X3]
    fadd qword [X4]
    fmul qword [T]
    fst qword [X3]
    fld qword [X1]          ; x4 = (-x1 + x2 + x3 + x4) * t
    fchs
    fadd qword [X2]
    faddp st1, st0
    fadd qword [X4]
    fmul qword [T]
    fstp qword [X4]
    ; module 8: x = t * (x + y); y = t * (x + y); z = (x + y) / t2
    fld qword [X]
    fadd qword [Y]
    fmul qword [T]
    fst qword [X]
    fadd qword [Y]
    fmul qword [T]
    fst qword [Y]
    fadd qword [X]
    fdiv qword [T2]
    fstp qword [Z]
    ; s = sqrt(s * t1 + t)
    fld qword [S]
    fmul qword [T1]
    fadd qword [T]
    fsqrt
    fst qword [S]
    ; compare with z: count how often s > z
    fcomp qword [Z]
    fnstsw ax
    sahf
    adc ebx, 0              ; s < z
    ; keep the recurrences away from their fixed points
    fld qword [X]
    fadd qword [T1]
    fstp qword [X]
    dec ecx
    jnz .loop
    mov [CNT], ebx
    mov esi, msg + ROMBASE
    call puts
    mov esi, VARS
    mov ecx, 8
.p: mov eax, [esi + 4]
    call hex
    mov eax, [esi]
    call hex
    mov al, ' '
    out 0xE9, al
    add esi, 8
    loop .p
    mov eax, [CNT]
    call hex
BENCH_END
