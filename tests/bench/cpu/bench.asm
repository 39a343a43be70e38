; SPDX-License-Identifier: LGPL-2.1-or-later
; Fixed 32-bit integer workload for interpreter speed: 11 instructions per
; iteration (multiply, add, shift, logic, a read-modify-write to a 4 KiB
; table, rotate, loop). Prints "CHECKSUM xxxxxxxx xxxxxxxx" on port 0xE9,
; then exits through test-exit (0xF4) and the Bochs shutdown port.
    org 0
%define ITER    ITERATIONS
%define TABLE   0x100000

%include "harness.inc"            ; tests/bench/cpu, given with nasm -i

BENCH_START

[bits 32]
BENCH_PM32
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
BENCH_END
