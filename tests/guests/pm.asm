; SPDX-License-Identifier: LGPL-2.1-or-later
; 32-bit protected mode: segment checks and their error codes, IDT
; exceptions, privilege levels through IRET and a call gate, paging with
; 4 KiB and 4 MiB pages and #PF error codes, a hardware task switch and
; virtual-8086 mode. The 4 MiB page part runs where CPUID reports PSE
; (not on the 486, which has no CR4).
    org 0
%include "lib.inc"

%define GDT    0x1000
%define IDT    0x2000
%define TSS1   0x3000
%define TSS2   0x3100
%define PD     0x10000
%define PT0    0x11000
%define STK0   0x9F000           ; ring 0 stack top
%define STK3   0x8F000           ; ring 3 stack top
%define V86SEG 0x0700            ; V86 code at 0x7000
%define HAVEPSE 0x520           ; CPUID.1:EDX (bit 3: PSE)

; selectors
%define KCODE  0x08
%define KDATA  0x10
%define UCODE  0x1B
%define UDATA  0x23
%define TSEL1  0x28
%define TSEL2  0x30
%define CGATE  0x3B
%define RODATA 0x40
%define NPDATA 0x48

[bits 16]
start:
    GUEST_START
    ENTER_PM

align 8
gdt_tmpl:
    dq 0
    dq 0x00CF9B000000FFFF   ; 08 ring 0 code
    dq 0x00CF93000000FFFF   ; 10 ring 0 data
    dq 0x00CFFB000000FFFF   ; 18 ring 3 code
    dq 0x00CFF3000000FFFF   ; 20 ring 3 data
    dq 0x0000890030000088   ; 28 TSS1 (32-bit, available, I/O bitmap)
    dq 0x0000890031000067   ; 30 TSS2
    dw 0, KCODE, 0xEC00, 0  ; 38 call gate DPL3 -> KCODE:offset (patched)
    dq 0x00CF91000000FFFF   ; 40 read-only data
    dq 0x00CF13000000FFFF   ; 48 not-present data
gdt_end:

[bits 32]
; ---- exception stubs: push a uniform frame, then common handler
EXCEPTION_STUBS

STUB_COMMON

int30:                      ; DPL3 trap gate: returns EAX+1
    inc eax
    iretd

cgate_target:               ; reached through the call gate from ring 3
    mov ax, KDATA
    mov ds, ax
    mov es, ax
    mov ebx, cs
    mov ecx, esp
    mov edx, [esp+4]        ; caller CS
    ; leave ring 3 behind for good: continue in ring 0
    mov esp, STK0
    jmp dword KCODE:(after_ring3 + ROMBASE)

task2:                      ; runs as the second task
    mov dword [0x600], 0x7A5C
    mov eax, [0x604]
    inc eax
    mov [0x604], eax
    iretd                   ; NT=1: back to the caller task
    jmp task2

SET_GATE_FN

pm32:
    PM32_FLAT
    mov fs, ax
    mov gs, ax
    ; IDT: 32 exception interrupt gates + int 0x30 trap gate (DPL3)
    IDT_STUBS
    mov eax, 0x30
    mov ebx, int30 + ROMBASE
    mov ecx, 0xEF00
    call set_gate
    mov eax, 0x31           ; DPL0 gate: ring 3 may not use it
    mov ebx, int30 + ROMBASE
    mov ecx, 0x8F00
    call set_gate
    lidt [idtr + ROMBASE]
    ; TSS1: ring 0 stack for privilege changes
    mov dword [TSS1 + 4], STK0
    mov dword [TSS1 + 8], KDATA
    mov word [TSS1 + 0x66], 0x68    ; I/O bitmap: only 0xE9 open to ring 3
    mov edi, TSS1 + 0x68
    mov ecx, 33
    mov al, 0xFF
    rep stosb
    and byte [TSS1 + 0x68 + 0xE9/8], ~(1 << (0xE9 & 7))
    mov ax, TSEL1
    ltr ax
    ; call gate offset
    mov eax, cgate_target + ROMBASE
    mov [GDT + 0x38], ax
    shr eax, 16
    mov [GDT + 0x38 + 6], ax

    mov eax, 0x12345678
    add eax, 0x88888888
    cmp eax, 0x9ABCDF00
    OKIF32 e, "pm32 alu"
    mov ax, cs
    cmp ax, KCODE
    OKIF32 e, "cs selector"

    ; ---- segment checks and error codes
    EXPECT32 .s1
    mov ax, 0x63            ; beyond the GDT limit
    mov ds, ax
.s1:
    cmp dword [LASTVEC], 13
    OKIF32 e, "bad selector #GP"
    cmp dword [LASTERR], 0x60
    OKIF32 e, "#GP error code = selector"
    EXPECT32 .s2
    mov ax, NPDATA
    mov es, ax
.s2:
    cmp dword [LASTVEC], 11
    OKIF32 e, "not present #NP"
    cmp dword [LASTERR], NPDATA
    OKIF32 e, "#NP error code"
    mov ax, RODATA
    mov es, ax
    EXPECT32 .s3
    mov byte [es:0x700], 1
.s3:
    cmp dword [LASTVEC], 13
    OKIF32 e, "write to read-only #GP"
    cmp dword [LASTERR], 0
    OKIF32 e, "#GP(0)"
    mov ax, KDATA
    mov es, ax
    EXPECT32 .s4
    mov ax, KCODE
    mov ss, ax
.s4:
    cmp dword [LASTVEC], 13
    OKIF32 e, "code in SS #GP"
    EXPECT32 .s5
    xor eax, eax
    mov fs, ax              ; null is fine in FS...
    mov eax, [fs:0]         ; ...until it is used
.s5:
    cmp dword [LASTVEC], 13
    OKIF32 e, "null segment use #GP"
    mov ax, KDATA
    mov fs, ax
    EXPECT32 .s6
    db 0x0F, 0x0B           ; ud2
.s6:
    cmp dword [LASTVEC], 6
    OKIF32 e, "ud2 in pm"
    cmp dword [LASTEIP], .s6 - 2 + ROMBASE
    OKIF32 e, "fault eip"
    mov eax, 41
    int 0x30
    cmp eax, 42
    OKIF32 e, "int trap gate"
    mov ax, UCODE
    lar ebx, ax
    OKIF32 z, "lar valid"
    cmp ebx, 0x00C0FB00
    OKIF32 e, "lar rights"
    mov ax, KDATA
    lsl ebx, ax
    cmp ebx, 0xFFFFFFFF
    OKIF32 e, "lsl 4G"
    mov ax, RODATA
    verw ax
    OKIF32 nz, "verw read-only"
    verr ax
    OKIF32 z, "verr read-only"

    ; ---- ring 3 through IRET
    push dword UDATA
    push dword STK3
    push dword 0x202
    push dword UCODE
    push dword ring3 + ROMBASE
    iretd
ring3:
    mov ax, UDATA
    mov ds, ax
    mov es, ax
    mov ax, cs
    and ax, 3
    cmp ax, 3
    OKIF32 e, "ring 3 cpl"
    mov eax, 1
    int 0x30
    cmp eax, 2
    OKIF32 e, "int from ring 3"
    EXPECT32 .r1
    int 0x31
.r1:
    cmp dword [LASTVEC], 13
    OKIF32 e, "dpl0 gate from ring 3 #GP"
    cmp dword [LASTERR], 0x31*8 + 2
    OKIF32 e, "gate #GP error code"
    EXPECT32 .r2
    in al, 0x80
.r2:
    cmp dword [LASTVEC], 13
    OKIF32 e, "in at cpl3 iopl0 #GP"
    EXPECT32 .r3
    hlt
.r3:
    cmp dword [LASTVEC], 13
    OKIF32 e, "hlt at cpl3 #GP"
    cmp dword [LASTCS], UCODE
    OKIF32 e, "fault from ring 3 cs"
    EXPECT32 .r4
    mov eax, cr0
.r4:
    cmp dword [LASTVEC], 13
    OKIF32 e, "mov cr0 at cpl3 #GP"
    call CGATE:0
after_ring3:
    cmp ebx, KCODE
    OKIF32 e, "call gate to ring 0"
    cmp ecx, STK0 - 16
    OKIF32 e, "call gate stack switch"
    cmp edx, UCODE
    OKIF32 e, "call gate pushed caller cs"

    ; ---- task switch
    mov dword [0x600], 0
    mov dword [0x604], 0
    mov edi, TSS2
    mov ecx, 0x68/4
    xor eax, eax
    rep stosd
    mov dword [TSS2 + 0x20], task2 + ROMBASE   ; EIP
    mov dword [TSS2 + 0x24], 2                 ; EFLAGS
    mov dword [TSS2 + 0x38], 0x7F000           ; ESP
    mov dword [TSS2 + 0x48], KDATA             ; ES
    mov dword [TSS2 + 0x4C], KCODE             ; CS
    mov dword [TSS2 + 0x50], KDATA             ; SS
    mov dword [TSS2 + 0x54], KDATA             ; DS
    mov dword [TSS2 + 0x58], KDATA
    mov dword [TSS2 + 0x5C], KDATA
    call TSEL2:0
    cmp dword [0x600], 0x7A5C
    OKIF32 e, "call to task"
    str ax
    cmp ax, TSEL1
    OKIF32 e, "back in task 1"
    test byte [GDT + TSEL2 + 5], 2
    OKIF32 z, "task 2 not busy after iret"
    cmp word [TSS2], TSEL1
    OKIF32 e, "back link"
    mov eax, cr0
    test al, 8
    OKIF32 nz, "cr0.ts set by switch"
    clts
    call TSEL2:0            ; the task resumes after its IRET
    cmp dword [0x604], 2
    OKIF32 e, "task resumes"

    ; ---- paging: 4 KiB identity map of 0-4M, a 4 MiB page at 4M,
    ; linear 0x800000 -> physical 0x200000, 0x801000 not present
    mov eax, 1
    cpuid
    mov [HAVEPSE], edx
    mov edi, PD
    mov ecx, 1024*2
    xor eax, eax
    rep stosd
    mov dword [PD], PT0 | 7
    test dword [HAVEPSE], 8
    jz .nopse1
    mov dword [PD + 4], 0x400000 | 0x87        ; PSE page, user, rw
.nopse1:
    mov dword [PD + 8], (PT0 + 0x1000) | 7
    mov edi, PT0
    mov eax, 7                  ; user, rw, present
    mov ecx, 1024
.pt: stosd
    add eax, 0x1000
    loop .pt
    mov dword [PT0 + 0x1000], 0x200000 | 3      ; 0x800000: supervisor rw
    mov dword [PT0 + 0x1004], 0                 ; 0x801000: not present
    mov dword [PT0 + 0x1008], 0x202000 | 5      ; 0x802000: user, read-only
    ; the ROM at 0xF0000 is inside the identity map; so are stacks
    test dword [HAVEPSE], 8
    jz .nopse2
    mov eax, cr4
    or eax, 0x10                ; PSE
    mov cr4, eax
.nopse2:
    mov eax, PD
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp .pg
.pg:
    mov dword [0x200000], 0xAABBCCDD
    cmp dword [0x800000], 0xAABBCCDD
    OKIF32 e, "paging alias"
    test dword [PT0 + 0x1000], 0x20
    OKIF32 nz, "accessed bit"
    test dword [PT0 + 0x1000], 0x40
    OKIF32 z, "dirty clear after read"
    mov dword [0x800004], 1
    test dword [PT0 + 0x1000], 0x40
    OKIF32 nz, "dirty after write"
    test dword [HAVEPSE], 8
    jz .nopse3
    mov dword [0x400000], 0x4444
    mov eax, [0x400000]
    cmp eax, 0x4444
    OKIF32 e, "4M page"
    test dword [PD + 4], 0x40
    OKIF32 nz, "4M page dirty"
.nopse3:
    EXPECT32 .p1
    mov eax, [0x801234]
.p1:
    cmp dword [LASTVEC], 14
    OKIF32 e, "not present #PF"
    cmp dword [LASTERR], 0
    OKIF32 e, "#PF err read"
    mov eax, cr2
    cmp eax, 0x801234
    OKIF32 e, "cr2"
    EXPECT32 .p2
    mov dword [0x801000], 0
.p2:
    cmp dword [LASTERR], 2
    OKIF32 e, "#PF err write"
    mov dword [0x802000], 5      ; supervisor write to a read-only page: WP=0 allows it
    cmp dword [0x802000], 5
    OKIF32 e, "wp=0 supervisor write"
    mov eax, cr0
    or eax, 0x10000
    mov cr0, eax
    EXPECT32 .p3
    mov dword [0x802000], 6
.p3:
    cmp dword [LASTERR], 3
    OKIF32 e, "wp=1 #PF err 3"
    ; remap with invlpg
    mov dword [PT0 + 0x1000], 0x201000 | 3
    invlpg [0x800000]
    mov dword [0x201000], 0x5151
    cmp dword [0x800000], 0x5151
    OKIF32 e, "invlpg"
    ; the call gate now leads to the V86 part
    mov eax, v86_part + ROMBASE
    mov [GDT + 0x38], ax
    shr eax, 16
    mov [GDT + 0x38 + 6], ax
    ; user access to a supervisor page
    push dword UDATA
    push dword STK3
    push dword 0x202
    push dword UCODE
    push dword .user + ROMBASE
    iretd
.user:
    mov ax, UDATA
    mov ds, ax
    mov es, ax
    EXPECT32 .p4
    mov eax, [0x800000]
.p4:
    cmp dword [LASTERR], 5
    OKIF32 e, "user read supervisor #PF 5"
    EXPECT32 .p5
    mov dword [0x802000], 1
.p5:
    cmp dword [LASTERR], 7
    OKIF32 e, "user write read-only #PF 7"
    call CGATE:0
    ; (back in ring 0 at after_ring3 would re-run tests; the gate now
    ; points at the V86 part instead - see below)

v86_part:
    mov ax, KDATA
    mov ds, ax
    mov es, ax
    mov esp, STK0
    ; ---- virtual-8086 mode: IOPL 3, INT 0x30 (DPL3 gate) reaches ring 0
    mov eax, cr0
    and eax, 0x7FFFFFFF
    mov cr0, eax
    ; V86 code at 0x7000: mov ax,0x1234 ; int 0x30 ; (then a #GP test)
    mov byte [0x7000], 0xB8
    mov word [0x7001], 0x1234
    mov byte [0x7003], 0xCD
    mov byte [0x7004], 0x30
    mov eax, 0x32
    mov ebx, v86_int + ROMBASE
    mov ecx, 0xEE00
    call set_gate
    mov word [0x7003], 0x32CD    ; int 0x32
    mov esp, STK0
    push dword 0                ; GS
    push dword 0                ; FS
    push dword 0x0800           ; DS
    push dword 0x0800           ; ES
    push dword 0x0900           ; SS
    push dword 0x0100           ; ESP
    push dword 0x23202          ; EFLAGS: VM, IOPL 3, IF
    push dword V86SEG           ; CS
    push dword 0                ; EIP
    iretd
v86_int:                    ; reached from V86 through a 32-bit interrupt gate
    mov ebx, [esp + 8]      ; EFLAGS
    mov ecx, [esp + 4]      ; CS
    mov edx, [esp + 20]     ; ES
    mov si, ds
    mov esp, STK0
    mov di, KDATA
    mov ds, di
    mov es, di
    test ebx, 0x20000
    OKIF32 nz, "v86 eflags.vm pushed"
    cmp ecx, V86SEG
    OKIF32 e, "v86 cs pushed"
    cmp edx, 0x0800
    OKIF32 e, "v86 es pushed"
    cmp si, 0
    OKIF32 e, "v86 ds nulled"
    cmp ax, 0x1234
    OKIF32 e, "v86 executed"
    jmp finish32

%include "reset.inc"
