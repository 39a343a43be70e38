; SPDX-License-Identifier: LGPL-2.1-or-later
; The stack size and the operand size are two things: every instruction
; that uses the stack or changes SS, in 16- and 32-bit code on 16- and
; 32-bit stacks (SDM vol. 1, 6.2.3; vol. 2 pseudo-code of each). A 16-bit
; stack (SS.B = 0) moves SP only: ESP bits 31-16 stay, whatever the
; operand size. POP SS moves the stack pointer by the size of the stack
; it popped from, not of the one it loads; ENTER's frame pointer is ESP
; after the push, upper half included; PUSHAD stores the whole ESP; an
; ESP-based address of POP uses ESP after the pop; INT and IRET at one
; level push and pop with SP; IRET to an outer 16-bit stack loads SP only
; (the upper half stays the inner one's: what Linux's ESPFIX is about).
    org 0
%include "lib.inc"

%define GDT    0x1000
%define IDT    0x2000
%define TSS    0x3000
%define STK0   0x9F000           ; flat ring 0 stack top
%define SBASE  0x20000           ; base of the 16/32-bit test stacks
%define SAVESP 0x600             ; dword ESP + word SS (for LSS)
%define GOT    0x610             ; values the handlers record
%define GOT2   0x614

; selectors
%define KCODE  0x08
%define KDATA  0x10
%define CODE16 0x18
%define STK16  0x20              ; base SBASE, limit 64K, B=0
%define STK32  0x28              ; base SBASE, limit 64K, B=1
%define UCODE  0x33
%define USTK16 0x3B              ; ring 3, base SBASE, B=0
%define TSEL   0x40

[bits 16]
start:
    GUEST_START
    ENTER_PM

align 8
gdt_tmpl:
    dq 0
    dq 0x00CF9B000000FFFF   ; 08 ring 0 code32
    dq 0x00CF93000000FFFF   ; 10 ring 0 data32
    dq 0x00009B0F0000FFFF   ; 18 code16 at 0xF0000
    dq 0x000093020000FFFF   ; 20 16-bit stack at SBASE
    dq 0x004093020000FFFF   ; 28 32-bit stack at SBASE
    dq 0x00CFFB000000FFFF   ; 30 ring 3 code32
    dq 0x0000F3020000FFFF   ; 38 ring 3 16-bit stack at SBASE
    dq 0x0000890030000067   ; 40 TSS
gdt_end:

; ---- 16-bit code (CODE16), reached by a far call from 32-bit code and
; left by a 32-bit far return; results in EAX/EBX
[bits 16]
c16_popss:                  ; POP SS (o16) on a 16-bit stack, loading a 32-bit SS
    mov [SAVESP], esp
    mov [SAVESP + 4], ss
    mov ax, STK16
    mov ss, ax
    mov esp, 0x56780100
    push word STK32
    pop ss
    mov eax, esp
    lss esp, [SAVESP]
    o32 retf

c16_popss32:                ; POP SS (o16) on a 32-bit stack, loading a 16-bit SS
    mov [SAVESP], esp       ; (the caller put STK16 at SBASE + 0xFFFE)
    mov [SAVESP + 4], ss
    mov ax, STK32
    mov ss, ax
    mov esp, 0x0000FFFE     ; the pop carries into ESP bit 16
    pop ss
    mov eax, esp
    lss esp, [SAVESP]
    o32 retf

c16_enter:                  ; ENTER (o16) on a 32-bit stack: BP = low half of ESP
    mov [SAVESP], esp
    mov [SAVESP + 4], ss
    mov ax, STK32
    mov ss, ax
    mov esp, 0x00000200
    mov ebp, 0xCAFE1234
    enter 4, 0
    mov eax, esp
    mov ebx, ebp
    lss esp, [SAVESP]
    o32 retf

[bits 32]
; ---- exceptions: report the vector and stop
EXCEPTION_STUBS

stub_common:                ; (the stack may be any: leave it)
    mov ax, KDATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, STK0
    mov esi, str_unexp + ROMBASE
    call puts32
    inc word [FAILS]
    jmp finish32

str_unexp: db "FAIL unexpected exception", 10, 0

int31:                      ; ring 0 gate: record ESP as the handler sees it
    mov [GOT], esp
    iretd

int30:                      ; DPL3 gate, from ring 3: the ESP ring 3 had
    mov ax, KDATA
    mov ds, ax
    mov eax, [esp + 12]
    mov [GOT], eax
    mov esp, STK0
    jmp dword KCODE:(back_from_ring3 + ROMBASE)

ring3:
    int 0x30
    jmp ring3

SET_GATE_FN

%macro STACK16 1            ; SS = 16-bit stack, ESP = %1 (EDX changes)
    mov dx, STK16
    mov ss, dx
    mov esp, %1
%endmacro
%macro FLAT 0               ; back to the flat stack (EDX changes)
    mov dx, KDATA
    mov ss, dx
    mov esp, STK0
%endmacro

pm32:
    PM32_FLAT
    mov fs, ax
    mov gs, ax
    IDT_STUBS
    mov eax, 0x30
    mov ebx, int30 + ROMBASE
    mov ecx, 0xEE00
    call set_gate
    mov eax, 0x31
    mov ebx, int31 + ROMBASE
    mov ecx, 0x8E00
    call set_gate
    lidt [idtr + ROMBASE]
    mov dword [TSS + 4], STK0
    mov dword [TSS + 8], KDATA
    mov ax, TSEL
    ltr ax

    ; ---- POP SS (o32) on a 16-bit stack loading a 32-bit SS: SP += 4
    STACK16 0x12340100
    push dword STK32            ; SP 0x00FC
    pop ss
    mov eax, esp
    FLAT
    cmp eax, 0x12340100
    OKIF32 e, "pop ss o32: 16-bit stack moves sp"
    ; ... on a 32-bit stack loading a 16-bit SS: ESP += 4, carry and all
    mov ax, STK32
    mov ss, ax
    mov esp, 0x0000FFFC
    mov dword [SBASE + 0xFFFC], STK16
    pop ss
    mov eax, esp
    FLAT
    cmp eax, 0x00010000
    OKIF32 e, "pop ss o32: 32-bit stack moves esp"
    call dword CODE16:c16_popss
    cmp eax, 0x56780100
    OKIF32 e, "pop ss o16: 16-bit stack moves sp"
    mov word [SBASE + 0xFFFE], STK16
    call dword CODE16:c16_popss32
    cmp eax, 0x00010000
    OKIF32 e, "pop ss o16: 32-bit stack moves esp"

    ; ---- LSS, MOV SS: ESP is the operand, whatever the stack size
    mov dword [SAVESP], 0x12340100
    mov word [SAVESP + 4], STK16
    lss esp, [SAVESP]
    mov eax, esp
    FLAT
    cmp eax, 0x12340100
    OKIF32 e, "lss esp: whole operand"

    ; ---- ENTER (o32) on a 16-bit stack: EBP = ESP after the push
    STACK16 0x56780200
    mov ebp, 0xAAAABBBB
    enter 8, 0
    mov eax, esp
    mov ebx, ebp
    FLAT
    cmp ebx, 0x567801FC
    OKIF32 e, "enter o32 16-bit stack: ebp"
    cmp eax, 0x567801F4
    OKIF32 e, "enter o32 16-bit stack: esp"
    cmp dword [SBASE + 0x1FC], 0xAAAABBBB
    OKIF32 e, "enter o32 16-bit stack: old ebp pushed"
    ; nesting level 2: one frame pointer copied through BP, then FrameTemp
    mov dword [SBASE + 0x2FC], 0x0BADF00D       ; [BP - 4] of the caller
    STACK16 0x56780400
    mov ebp, 0x11110300
    enter 4, 2
    mov eax, esp
    mov ebx, ebp
    FLAT
    cmp ebx, 0x567803FC
    OKIF32 e, "enter o32 level 2: ebp"
    cmp eax, 0x567803F0
    OKIF32 e, "enter o32 level 2: esp"
    cmp dword [SBASE + 0x3F8], 0x0BADF00D
    OKIF32 e, "enter o32 level 2: display copied via bp"
    cmp dword [SBASE + 0x3F4], 0x567803FC
    OKIF32 e, "enter o32 level 2: frame pointer pushed"
    call dword CODE16:c16_enter
    cmp eax, 0x000001FA
    OKIF32 e, "enter o16 32-bit stack: esp"
    cmp ebx, 0xCAFE01FE
    OKIF32 e, "enter o16 32-bit stack: bp"

    ; ---- LEAVE (o32) on a 16-bit stack: SP = BP, then pop EBP
    mov dword [SBASE + 0x1F0], 0x22223333
    STACK16 0x99990000
    mov ebp, 0x111101F0
    leave
    mov eax, esp
    mov ebx, ebp
    FLAT
    cmp eax, 0x999901F4
    OKIF32 e, "leave o32 16-bit stack: esp"
    cmp ebx, 0x22223333
    OKIF32 e, "leave o32 16-bit stack: ebp"

    ; ---- PUSHAD / POPAD on a 16-bit stack
    STACK16 0x12340100
    pushad
    mov [GOT], esp
    mov eax, [SBASE + 0xE0 + 12]    ; the ESP it stored
    mov [GOT2], eax
    popad
    mov ecx, esp
    FLAT
    cmp dword [GOT], 0x123400E0
    OKIF32 e, "pushad 16-bit stack: sp"
    cmp dword [GOT2], 0x12340100
    OKIF32 e, "pushad stores the whole esp"
    cmp ecx, 0x12340100
    OKIF32 e, "popad 16-bit stack: sp"

    ; ---- POP to an ESP-based address: the address uses ESP after the pop
    mov dword [SBASE + 0x100], 0x5A5A5A5A
    mov dword [SBASE + 0x108], 0
    STACK16 0x00000100
    pop dword [esp + 4]             ; SP 0x104, stores at SS:0x108
    mov eax, esp
    FLAT
    cmp dword [SBASE + 0x108], 0x5A5A5A5A
    OKIF32 e, "pop [esp+4] uses esp after the pop"
    cmp eax, 0x104
    OKIF32 e, "pop [esp+4]: sp"
    ; PUSH from an ESP-based address: the address uses ESP before the push
    mov dword [SBASE + 0x104], 0x6B6B6B6B
    STACK16 0x00000100
    push dword [esp + 4]
    mov eax, [SBASE + 0xFC]
    FLAT
    cmp eax, 0x6B6B6B6B
    OKIF32 e, "push [esp+4] uses esp before the push"

    ; ---- near and far returns with an immediate, 16-bit stack
    STACK16 0x77770100
    call .near
    jmp .near_done
.near:
    ret 8
.near_done:
    mov eax, esp
    FLAT
    cmp eax, 0x77770108
    OKIF32 e, "ret imm16 o32 16-bit stack"
    STACK16 0x77770100
    call dword KCODE:(.far + ROMBASE)
    jmp .far_done
.far:
    mov ebx, esp
    retf 4
.far_done:
    mov eax, esp
    FLAT
    cmp ebx, 0x777700F8
    OKIF32 e, "call far o32 16-bit stack"
    cmp eax, 0x77770104
    OKIF32 e, "retf imm16 o32 16-bit stack"

    ; ---- INT and IRETD at one level on a 16-bit stack
    STACK16 0x44440200
    int 0x31
    mov eax, esp
    FLAT
    cmp dword [GOT], 0x444401F4
    OKIF32 e, "int 32-bit gate 16-bit stack: sp"
    cmp eax, 0x44440200
    OKIF32 e, "iretd 16-bit stack: sp"
    ; an exception pushes the same way (and its error code too)
    mov dword [GOT2], 0
    mov eax, 13
    mov ebx, gp16 + ROMBASE
    mov ecx, 0x8E00
    call set_gate
    STACK16 0x44440200
    mov ax, 0x0FF8              ; beyond the GDT: #GP(0x0FF8)
    mov ds, ax
    mov eax, esp
    FLAT
    cmp dword [GOT], 0x444401F0
    OKIF32 e, "#gp 16-bit stack: sp"
    cmp dword [GOT2], 0x0FF8
    OKIF32 e, "#gp 16-bit stack: error code"
    cmp eax, 0x44440200
    OKIF32 e, "#gp return 16-bit stack: sp"
    mov eax, 13
    mov ebx, [stubs + ROMBASE + 13*4]
    mov ecx, 0x8E00
    call set_gate

    ; ---- IRETD to ring 3 with a 16-bit stack: SP only; the upper half
    ; of ESP stays the ring 0 one
    mov esp, 0x0009F000
    push dword USTK16
    push dword 0x77770300
    push dword 0x2              ; EFLAGS
    push dword UCODE
    push dword ring3 + ROMBASE
    iretd
back_from_ring3:
    cmp dword [GOT], 0x00090300
    OKIF32 e, "iretd to a 16-bit outer stack loads sp only"

    jmp finish32

gp16:                       ; #GP on a 16-bit stack: record, skip the MOV DS
    mov [GOT], esp
    push ebp
    movzx ebp, sp
    mov eax, [ss:ebp + 4]
    mov [GOT2], eax
    add dword [ss:ebp + 8], 2   ; past "mov ds, ax"
    pop ebp
    add esp, 4
    iretd

%include "reset.inc"
