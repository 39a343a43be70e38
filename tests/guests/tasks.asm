; SPDX-License-Identifier: LGPL-2.1-or-later
; Protected-mode control transfers pm.asm leaves out: a 16-bit (286) TSS
; reached by JMP, CALL and IRET; task gates in the IDT, for INT n and for
; an exception whose error code lands on the new task's stack; conforming
; code segments (direct far CALL/JMP, as data, through an interrupt gate);
; SYSENTER/SYSEXIT where CPUID reports SEP and #UD for them elsewhere.
; Layouts and rules: SDM vol. 3, 5.8 (conforming), 7.2-7.7 (tasks, figure
; 7-11 for the 16-bit TSS), vol. 2 SYSENTER/SYSEXIT.
    org 0
%include "lib.inc"

%define GDT     0x1000
%define IDT     0x2000
%define TSSM    0x3000          ; main task (32-bit)
%define TSS16   0x3100          ; 16-bit task
%define TSSTG   0x3200          ; INT 0x40 task gate target
%define TSSGP   0x3300          ; #GP task gate target
%define STK0    0x9F000
%define STK3    0x8F000
%define SESTK   0x7D000         ; SYSENTER stack
; results
%define T16_AX  0x600
%define T16_BX  0x602
%define T16_SP  0x604
%define T16_CS  0x606
%define T16_FL  0x608
%define T16_AGN 0x60A
%define T16_FL2 0x60C
%define TG_CNT  0x610
%define GP_ERR  0x614
%define GP_EIP  0x618
%define C_CS    0x620
%define C_ESP   0x624
%define SE_NEXT 0x628

%define KCODE   0x08
%define KDATA   0x10
%define UCODE   0x1B
%define UDATA   0x23
%define TSELM   0x28
%define TSEL16  0x30
%define KCODE16 0x38
%define KDATA16 0x40
%define TSELTG  0x48
%define CONF    0x50
%define TSELGP  0x58
%define CGATE   0x63

[bits 16]
start:
    GUEST_START
    ENTER_PM

; ---- the 16-bit task: CS is KCODE16 (base F0000), so offsets are ROM offsets
task16:
    mov [T16_AX], ax
    mov [T16_BX], bx
    mov [T16_SP], sp
    mov ax, cs
    mov [T16_CS], ax
    pushf
    pop ax
    mov [T16_FL], ax
    mov ax, 0x1616
    mov bx, 0x2626
    jmp TSELM:0             ; JMP back: this task's busy bit clears
task16_again:               ; where the next switch to it resumes
    mov word [T16_AGN], 1
    pushf
    pop ax
    mov [T16_FL2], ax       ; entered by CALL: NT set
    iret                    ; NT: back to the caller task
    jmp task16

align 8
gdt_tmpl:
    dq 0
    dq 0x00CF9B000000FFFF   ; 08 ring 0 code
    dq 0x00CF93000000FFFF   ; 10 ring 0 data
    dq 0x00CFFB000000FFFF   ; 18 ring 3 code
    dq 0x00CFF3000000FFFF   ; 20 ring 3 data
    dq 0x0000890030000067   ; 28 main TSS (32-bit, available)
    dq 0x000081003100002B   ; 30 16-bit TSS (type 1: available 286 TSS)
    dq 0x00009B0F0000FFFF   ; 38 16-bit ring 0 code, base F0000
    dq 0x000093000000FFFF   ; 40 16-bit ring 0 data, base 0, 64 KiB
    dq 0x0000890032000067   ; 48 task gate target TSS
    dq 0x00CF9E000000FFFF   ; 50 conforming readable code, DPL 0
    dq 0x0000890033000067   ; 58 #GP task TSS
    dw 0, KCODE, 0xEC00, 0  ; 60 call gate DPL 3 -> KCODE:offset (patched)
gdt_end:

[bits 32]
; ---- exception stubs: record vector, error code, EIP, CS; resume at RESUME
EXCEPTION_STUBS

STUB_COMMON

SET_GATE_FN

set_task_gate:              ; eax = vector, bx = TSS selector
    mov word [IDT + eax*8], 0
    mov [IDT + eax*8 + 2], bx
    mov dword [IDT + eax*8 + 4], 0x8500     ; present, DPL 0, task gate
    ret

; clear a 32-bit TSS at edi and give it a flat ring 0 context:
; ebx = EIP, edx = ESP
init_tss32:
    push edi
    push ecx
    push eax
    mov ecx, 0x68/4
    xor eax, eax
    rep stosd
    pop eax
    pop ecx
    pop edi
    mov [edi + 0x20], ebx
    mov dword [edi + 0x24], 2
    mov [edi + 0x38], edx
    mov dword [edi + 0x48], KDATA
    mov dword [edi + 0x4C], KCODE
    mov dword [edi + 0x50], KDATA
    mov dword [edi + 0x54], KDATA
    mov dword [edi + 0x58], KDATA
    mov dword [edi + 0x5C], KDATA
    ret

; ---- tasks reached through task gates
tg_task:                    ; INT 0x40
    inc dword [TG_CNT]
    iretd
    jmp tg_task

gp_task:                    ; #GP: the error code is on this task's stack
    pop eax
    mov [GP_ERR], eax
    mov eax, [TSSM + 0x20]  ; the faulting EIP, saved in the outgoing TSS
    mov [GP_EIP], eax
    mov eax, [RESUME]
    mov [TSSM + 0x20], eax
    iretd
    jmp gp_task

; ---- conforming code (DPL 0): runs at the caller's CPL
conf_fn:
    mov eax, cs
    mov ebx, esp
    retf

conf_int:                   ; reached through a DPL 3 interrupt gate
    push eax
    mov eax, cs
    mov [C_CS], eax
    lea eax, [esp + 4]
    mov [C_ESP], eax
    pop eax
    iretd

conf_jmp:
    mov eax, cs
    jmp UCODE:(ring3_after_jmp + ROMBASE)

back_to_ring0:              ; through the call gate
    mov ax, KDATA
    mov ds, ax
    mov es, ax
    mov esp, STK0
    jmp dword [SE_NEXT]

pm32:
    PM32_FLAT
    mov fs, ax
    mov gs, ax
    IDT_STUBS
    mov eax, 0x41
    mov ebx, conf_int + ROMBASE
    mov ecx, 0xEE00         ; DPL 3 interrupt gate
    call set_gate
    mov word [IDT + 0x41*8 + 2], CONF
    lidt [idtr + ROMBASE]
    mov edi, TSSM
    mov ebx, 0
    mov edx, 0
    call init_tss32
    mov dword [TSSM + 4], STK0
    mov dword [TSSM + 8], KDATA
    mov ax, TSELM
    ltr ax
    mov eax, back_to_ring0 + ROMBASE
    mov [GDT + 0x60], ax
    shr eax, 16
    mov [GDT + 0x66], ax

    ; ---- 16-bit TSS: JMP to it, it JMPs back
    mov edi, TSS16
    mov ecx, 0x2C
    xor eax, eax
    rep stosb
    mov word [TSS16 + 0x0E], task16         ; IP
    mov word [TSS16 + 0x10], 0x0002         ; FLAGS
    mov word [TSS16 + 0x12], 0x1234         ; AX
    mov word [TSS16 + 0x18], 0x5678         ; BX
    mov word [TSS16 + 0x1A], 0xFF00         ; SP
    mov word [TSS16 + 0x22], KDATA16        ; ES
    mov word [TSS16 + 0x24], KCODE16        ; CS
    mov word [TSS16 + 0x26], KDATA16        ; SS
    mov word [TSS16 + 0x28], KDATA16        ; DS
    jmp TSEL16:0
    mov ax, KDATA           ; back in the main task, state from its TSS
    cmp word [T16_AX], 0x1234
    OKIF32 e, "16-bit tss loads ax"
    cmp word [T16_BX], 0x5678
    OKIF32 e, "16-bit tss loads bx"
    cmp word [T16_SP], 0xFF00
    OKIF32 e, "16-bit tss loads sp"
    cmp word [T16_CS], KCODE16
    OKIF32 e, "16-bit task cs"
    cmp word [T16_FL], 0x0002
    OKIF32 e, "16-bit tss loads flags"
    cmp word [TSS16 + 0x12], 0x1616
    OKIF32 e, "16-bit tss saves ax"
    cmp word [TSS16 + 0x18], 0x2626
    OKIF32 e, "16-bit tss saves bx"
    cmp word [TSS16 + 0x0E], task16_again
    OKIF32 e, "16-bit tss saves ip"
    cmp word [TSS16 + 0x24], KCODE16
    OKIF32 e, "16-bit tss saves cs"
    test byte [GDT + TSEL16 + 5], 2
    OKIF32 z, "jmp away clears busy"
    test byte [GDT + TSELM + 5], 2
    OKIF32 nz, "jmp back sets busy"
    str ax
    cmp ax, TSELM
    OKIF32 e, "tr after jmp back"
    mov eax, cr0
    test al, 8
    OKIF32 nz, "task switch sets cr0.ts"
    clts

    ; ---- CALL the 16-bit task; it returns with IRET (NT)
    call TSEL16:0
    cmp word [T16_AGN], 1
    OKIF32 e, "call resumes the 16-bit task"
    test word [T16_FL2], 0x4000
    OKIF32 nz, "called task has nt"
    cmp word [TSS16], TSELM
    OKIF32 e, "16-bit back link"
    test byte [GDT + TSEL16 + 5], 2
    OKIF32 z, "iret clears busy"
    test word [TSS16 + 0x10], 0x4000
    OKIF32 z, "iret saves flags without nt"
    pushfd
    pop eax
    test eax, 0x4000
    OKIF32 z, "caller nt clear"

    ; ---- INT n through a task gate
    mov edi, TSSTG
    mov ebx, tg_task + ROMBASE
    mov edx, 0x7F000
    call init_tss32
    mov eax, 0x40
    mov bx, TSELTG
    call set_task_gate
    mov dword [TG_CNT], 0
    int 0x40
    cmp dword [TG_CNT], 1
    OKIF32 e, "int via task gate"
    cmp word [TSSTG], TSELM
    OKIF32 e, "task gate back link"
    test byte [GDT + TSELTG + 5], 2
    OKIF32 z, "gate task not busy after iret"
    int 0x40
    cmp dword [TG_CNT], 2
    OKIF32 e, "gate task resumes"
    str ax
    cmp ax, TSELM
    OKIF32 e, "back in main task"
    clts

    ; ---- #GP through a task gate: error code on the handler task's stack
    mov edi, TSSGP
    mov ebx, gp_task + ROMBASE
    mov edx, 0x7E000
    call init_tss32
    mov eax, 13
    mov bx, TSELGP
    call set_task_gate
    mov dword [RESUME], .gp_after + ROMBASE
    mov dword [GP_ERR], 0xFFFF
    mov ax, 0x7B            ; beyond the GDT limit
.gp_insn:
    mov ds, ax
.gp_after:
    mov ax, KDATA
    mov ds, ax
    cmp dword [GP_ERR], 0x78
    OKIF32 e, "exception task gets error code"
    cmp dword [GP_EIP], .gp_insn + ROMBASE
    OKIF32 e, "exception task sees faulting eip"
    mov eax, cr0
    test al, 8
    OKIF32 nz, "exception task switch sets ts"
    clts
    mov eax, 13             ; the ordinary stub again
    mov ebx, stub_13 + ROMBASE
    mov ecx, 0x8E00
    call set_gate

    ; ---- conforming code from ring 3
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
    mov edx, esp
    call CONF:(conf_fn + ROMBASE)
    cmp eax, CONF | 3
    OKIF32 e, "conforming call keeps cpl 3"
    sub edx, 8
    cmp ebx, edx
    OKIF32 e, "conforming call: no stack switch"
    EXPECT32 .c1
    call KCODE:(conf_fn + ROMBASE)
.c1:
    cmp dword [LASTVEC], 13
    OKIF32 e, "call to dpl 0 non-conforming #GP"
    cmp dword [LASTERR], KCODE
    OKIF32 e, "#GP error code = selector"
    mov ax, CONF            ; readable conforming code is data at any CPL
    mov fs, ax
    mov eax, [fs:conf_fn + ROMBASE]
    cmp eax, [conf_fn + ROMBASE]
    OKIF32 e, "conforming code readable as data"
    mov edx, esp
    int 0x41
    mov eax, [C_CS]
    cmp eax, CONF | 3
    OKIF32 e, "interrupt gate to conforming code keeps cpl"
    sub edx, 12
    cmp [C_ESP], edx
    OKIF32 e, "conforming interrupt: no stack switch"
    jmp CONF:(conf_jmp + ROMBASE)
ring3_after_jmp:
    cmp eax, CONF | 3
    OKIF32 e, "conforming jmp keeps cpl 3"
    mov dword [SE_NEXT], sysenter_part + ROMBASE
    call CGATE:0

    ; ---- SYSENTER / SYSEXIT where CPUID reports SEP (the P6 and later)
sysenter_part:
    mov eax, 1
    cpuid
    test edx, 1 << 11
    jnz .ppro
    EXPECT32 .u1
    sysenter
.u1:
    cmp dword [LASTVEC], 6
    OKIF32 e, "sysenter #UD before the P6"
    EXPECT32 .u2
    sysexit
.u2:
    cmp dword [LASTVEC], 6
    OKIF32 e, "sysexit #UD before the P6"
    jmp finish32
.ppro:
    xor eax, eax
    xor edx, edx
    mov ecx, 0x174
    wrmsr
    EXPECT32 .p1
    sysenter
.p1:
    cmp dword [LASTVEC], 13
    OKIF32 e, "sysenter with null cs #GP"
    mov ecx, 0x174
    mov eax, KCODE
    xor edx, edx
    wrmsr
    mov ecx, 0x175
    mov eax, SESTK
    wrmsr
    mov ecx, 0x176
    mov eax, se_entry + ROMBASE
    wrmsr
    sti                     ; nothing raises INTR here; SYSENTER must clear IF
    mov ecx, STK3 - 0x100
    mov edx, se_user + ROMBASE
    sysexit
se_user:
    mov ax, cs
    mov bx, ss
    mov edi, esp
    mov si, UDATA
    mov ds, si
    mov es, si
    sysenter
se_entry:
    mov esi, esp
    mov bp, cs
    mov cx, ss
    mov dx, KDATA
    mov ds, dx
    mov es, dx
    cmp ax, UCODE
    OKIF32 e, "sysexit cs"
    cmp bx, UDATA
    OKIF32 e, "sysexit ss"
    cmp edi, STK3 - 0x100
    OKIF32 e, "sysexit esp = ecx"
    cmp bp, KCODE
    OKIF32 e, "sysenter cs"
    cmp cx, KDATA
    OKIF32 e, "sysenter ss"
    cmp esi, SESTK
    OKIF32 e, "sysenter esp"
    pushfd
    pop eax
    test eax, 0x200
    OKIF32 z, "sysenter clears if"
    ; SYSEXIT from ring 3 is #GP(0)
    mov ecx, STK3 - 0x100
    mov edx, .user2 + ROMBASE
    sysexit
.user2:
    mov ax, UDATA
    mov ds, ax
    EXPECT32 .g1
    sysexit
.g1:
    cmp dword [LASTVEC], 13
    OKIF32 e, "sysexit at cpl 3 #GP"
    mov dword [SE_NEXT], .done + ROMBASE
    call CGATE:0
.done:
    jmp finish32

%include "reset.inc"
