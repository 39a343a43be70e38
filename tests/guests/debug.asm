; SPDX-License-Identifier: LGPL-2.1-or-later
; Debug registers and #DB (SDM vol. 3, 17.2-17.3): instruction breakpoints
; (faults, RF), data breakpoints (traps) by R/W and LEN, overlapping
; accesses, one inside a REP string instruction, I/O
; breakpoints where CR4.DE exists, general detect (GD, DR6.BD), single
; step (DR6.BS), and task switches clearing the local enables.
    org 0
%include "lib.inc"

%define GDT     0x1000
%define IDT     0x2000
%define TSSM    0x3000
%define TSS2    0x3100
%define STK0    0x9F000
%define DB_CNT  0x600           ; #DB count
%define DB_DR6  0x604           ; DR6 at the last #DB
%define DB_EIP  0x608           ; EIP it pushed
%define WATCH   0x700           ; watched data
%define T2_RUN  0x640
%define T2_DR7  0x644

%define KCODE   0x08
%define KDATA   0x10
%define TSELM   0x18
%define TSEL2   0x20

[bits 16]
start:
    GUEST_START
    ENTER_PM

align 8
gdt_tmpl:
    dq 0
    dq 0x00CF9B000000FFFF   ; 08 code
    dq 0x00CF93000000FFFF   ; 10 data
    dq 0x0000890030000067   ; 18 main TSS
    dq 0x0000890031000067   ; 20 second TSS
gdt_end:

[bits 32]
; #DB: count it, keep DR6 and the pushed EIP, clear DR6, and set RF in the
; pushed EFLAGS so an instruction breakpoint does not fire again at once.
db_handler:
    push eax
    inc dword [DB_CNT]
    mov eax, dr6
    mov [DB_DR6], eax
    mov eax, [esp + 4]
    mov [DB_EIP], eax
    xor eax, eax
    mov dr6, eax
    or dword [esp + 12], 0x10000
    pop eax
    iretd

other:                      ; any other exception: report and stop
    mov esi, str_exc + ROMBASE
    call puts32
    jmp finish32

str_exc: db "FAIL unexpected exception", 10, 0

task2:
    mov eax, dr7
    mov [T2_DR7], eax
    mov dword [T2_RUN], 1
    jmp TSELM:0

%macro ARM 0                ; forget the last #DB
    mov dword [DB_CNT], 0
    mov dword [DB_DR6], 0
    mov dword [DB_EIP], 0
%endmacro

pm32:
    PM32_FLAT
    xor eax, eax
.idt:
    mov ebx, other + ROMBASE
    cmp eax, 1
    jne .g
    mov ebx, db_handler + ROMBASE
.g: mov [IDT + eax*8], bx
    mov word [IDT + eax*8 + 2], KCODE
    mov word [IDT + eax*8 + 4], 0x8E00
    shr ebx, 16
    mov [IDT + eax*8 + 6], bx
    inc eax
    cmp eax, 32
    jb .idt
    lidt [idtr + ROMBASE]
    xor eax, eax
    mov dr6, eax

    ; ---- instruction breakpoint: a fault, EIP = the instruction, once
    ARM
    mov eax, .ibp + ROMBASE
    mov dr0, eax
    mov eax, 0x00000001     ; L0, R/W0 = 00 (execute), LEN0 = 00
    mov dr7, eax
    mov ecx, 5
.ibp:
    inc ecx
    xor eax, eax
    mov dr7, eax
    cmp dword [DB_CNT], 1
    OKIF32 e, "instruction breakpoint: one #db"
    cmp dword [DB_EIP], .ibp + ROMBASE
    OKIF32 e, "instruction breakpoint is a fault"
    test dword [DB_DR6], 1
    OKIF32 nz, "dr6.b0"
    cmp ecx, 6
    OKIF32 e, "rf lets the instruction run once"

    ; ---- data write breakpoint: a trap after the writing instruction
    ARM
    mov dword [WATCH], 0
    mov eax, WATCH
    mov dr1, eax
    mov eax, 0x00D00004     ; L1, R/W1 = 01 (write), LEN1 = 11 (4 bytes)
    mov dr7, eax
    mov eax, [WATCH]        ; reads do not match a write breakpoint
    cmp dword [DB_CNT], 0
    OKIF32 e, "write breakpoint ignores reads"
    mov byte [WATCH + 2], 1
.dw1:
    nop
    cmp dword [DB_CNT], 1
    OKIF32 e, "write breakpoint fires"
    cmp dword [DB_EIP], .dw1 + ROMBASE
    OKIF32 e, "data breakpoint is a trap"
    test dword [DB_DR6], 2
    OKIF32 nz, "dr6.b1"
    cmp byte [WATCH + 2], 1
    OKIF32 e, "the write happened"
    ARM
    mov byte [WATCH + 4], 1 ; just past the 4 bytes
    cmp dword [DB_CNT], 0
    OKIF32 e, "write beside the range"
    ARM
    add dword [WATCH + 1], 1    ; read-modify-write overlapping the range
    cmp dword [DB_CNT], 1
    OKIF32 e, "rmw matches write breakpoint"

    ; ---- read/write breakpoint, 2 bytes (the address aligned to LEN:
    ; unaligned ones give no defined result, SDM vol. 3, 17.2.5)
    ARM
    mov eax, WATCH + 0x10   ; LEN 2: WATCH+0x10 and +0x11
    mov dr2, eax
    mov eax, 0x07000010     ; L2, R/W2 = 11 (read or write), LEN2 = 01
    mov dr7, eax
    mov al, [WATCH + 0x10]
    cmp dword [DB_CNT], 1
    OKIF32 e, "read matches read/write breakpoint"
    test dword [DB_DR6], 4
    OKIF32 nz, "dr6.b2"
    ARM
    mov al, [WATCH + 0x12]
    cmp dword [DB_CNT], 0
    OKIF32 e, "read beside the range"
    ARM
    mov ax, [WATCH + 0x0F]  ; overlaps the first byte
    cmp dword [DB_CNT], 1
    OKIF32 e, "unaligned access overlapping"

    ; ---- inside REP MOVSB: the trap follows the iteration that matched
    ARM
    mov eax, WATCH + 0x23
    mov dr3, eax
    mov eax, 0x10000040     ; L3, R/W3 = 01, LEN3 = 00
    mov dr7, eax
    mov esi, WATCH + 0x100
    mov edi, WATCH + 0x20
    mov ecx, 8
    cld
.rep:
    rep movsb
    cmp dword [DB_CNT], 1
    OKIF32 e, "rep movsb: one #db"
    cmp dword [DB_EIP], .rep + ROMBASE
    OKIF32 e, "rep: trap eip is the rep instruction"
    test dword [DB_DR6], 8
    OKIF32 nz, "dr6.b3"
    cmp ecx, 0
    OKIF32 e, "rep resumed to the end"
    cmp edi, WATCH + 0x28
    OKIF32 e, "rep edi"
    xor eax, eax
    mov dr7, eax

    ; ---- general detect: a debug register access faults, with BD, GD off
    ARM
    mov eax, 0x2000         ; GD
    mov dr7, eax
.gd:
    mov eax, dr0
    cmp dword [DB_CNT], 1
    OKIF32 e, "general detect #db"
    cmp dword [DB_EIP], .gd + ROMBASE
    OKIF32 e, "general detect is a fault"
    test dword [DB_DR6], 0x2000
    OKIF32 nz, "dr6.bd"
    mov eax, dr7
    test eax, 0x2000
    OKIF32 z, "gd cleared"

    ; ---- single step
    ARM
    pushfd
    or dword [esp], 0x100
    popfd                   ; sets TF: no trap after this one...
    mov eax, 1              ; ...but after each instruction that starts
    pushfd                  ; with TF set: these four, the POPFD that
    and dword [esp], ~0x100 ; clears it included
    popfd
    cmp dword [DB_CNT], 4
    OKIF32 e, "single step traps"
    test dword [DB_DR6], 0x4000
    OKIF32 nz, "dr6.bs"

    ; ---- I/O breakpoint (Pentium and later: CR4.DE)
    mov eax, 1
    cpuid
    test edx, 4             ; DE
    jz .no_de
    mov eax, cr4
    or eax, 8
    mov cr4, eax
    ARM
    mov eax, 0x80
    mov dr0, eax
    mov eax, 0x00020001     ; L0, R/W0 = 10 (I/O), LEN0 = 00
    mov dr7, eax
    out 0x81, al
    cmp dword [DB_CNT], 0
    OKIF32 e, "other port: no #db"
    out 0x80, al
.io1:
    cmp dword [DB_CNT], 1
    OKIF32 e, "i/o breakpoint"
    cmp dword [DB_EIP], .io1 + ROMBASE
    OKIF32 e, "i/o breakpoint is a trap"
    xor eax, eax
    mov dr7, eax
    mov eax, cr4
    and eax, ~8
    mov cr4, eax
.no_de:

    ; ---- a task switch clears L0-L3 (not G0-G3)
    mov edi, TSS2
    mov ecx, 0x68/4
    xor eax, eax
    rep stosd
    mov dword [TSS2 + 0x20], task2 + ROMBASE
    mov dword [TSS2 + 0x24], 2
    mov dword [TSS2 + 0x38], 0x7F000
    mov dword [TSS2 + 0x48], KDATA
    mov dword [TSS2 + 0x4C], KCODE
    mov dword [TSS2 + 0x50], KDATA
    mov dword [TSS2 + 0x54], KDATA
    mov ax, TSELM
    ltr ax
    mov eax, 0x00D0000C     ; L1 and G1 on a write breakpoint
    mov dr7, eax
    mov eax, 0x7000         ; somewhere nothing touches
    mov dr1, eax
    jmp TSEL2:0
    mov eax, [T2_DR7]
    and eax, 0xFF
    cmp eax, 0x08
    OKIF32 e, "task switch clears local enables"
    cmp dword [T2_RUN], 1
    OKIF32 e, "second task ran"
    xor eax, eax
    mov dr7, eax
    clts
    jmp finish32

%include "reset.inc"
