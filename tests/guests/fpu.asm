; SPDX-License-Identifier: LGPL-2.1-or-later
; The x87 as system software sees it: the FNSTENV/FNSAVE images in their
; real-mode and protected-mode, 16- and 32-bit formats, FRSTOR, #NM from
; CR0.EM/TS/MP, error reporting through #MF (CR0.NE=1) at the next
; waiting instruction, and through FERR# -> IRQ13 (CR0.NE=0) with the
; port 0xF0 IGNNE# path and the freeze of a waiting instruction until the
; interrupt. Runs on tests/guests/fpu.xml (bare board plus the two 8259s)
; with an FPU model.
    org 0
%include "lib.inc"

%define GDT    0x1000
%define IDT    0x2000
%define STK0   0x9F000
%define BUF    0x3000           ; FNSAVE / FNSTENV images
%define VAL    0x3200           ; operands
%define IRQS   0x3300           ; dword: IRQ13 count
%define IRQF0  0x3304           ; dword: the handler writes port 0xF0 (1) and FNCLEX (2)
%define KCODE  0x08
%define KDATA  0x10

[bits 16]
start:
    GUEST_START

    ; ---- real mode images: FIP/FDP as 20-bit linear addresses
    fninit
    mov dword [VAL], 0x3F800000     ; 1.0f
    mov ax, 0x0300
    mov ds, ax
rm_fld:
    fld dword [0x0200]              ; DS:0200 = linear 0x3200
    xor ax, ax
    mov ds, ax
    fnstenv [BUF]                   ; 16-bit real-mode format, 14 bytes
    cmp word [BUF + 0], 0x037F
    OKIF e, "rm16 env cw"
    cmp word [BUF + 2], 0x3800      ; TOP = 7
    OKIF e, "rm16 env sw"
    cmp word [BUF + 4], 0x3FFF      ; ST0 = R7 valid, the rest empty
    OKIF e, "rm16 env tw"
    cmp word [BUF + 6], (rm_fld - $$ + ROMBASE) & 0xFFFF
    OKIF e, "rm16 env fip"
    mov ax, [BUF + 8]
    cmp ax, 0xF000 | 0x106          ; FIP 19-16 in bits 15-12, FOP D9 06
    OKIF e, "rm16 env fip high, fop"
    cmp word [BUF + 10], 0x3200
    OKIF e, "rm16 env fdp"
    cmp word [BUF + 12], 0
    OKIF e, "rm16 env fdp high"
    ; FNSTENV masked every exception
    fnstcw [BUF + 0x40]
    cmp word [BUF + 0x40], 0x037F
    OKIF e, "fnstenv masks exceptions"
    o32 fnstenv [BUF]               ; 32-bit real-mode format, 28 bytes
    cmp dword [BUF + 12], (rm_fld - $$ + ROMBASE) & 0xFFFF
    OKIF e, "rm32 env fip"
    cmp dword [BUF + 16], (((rm_fld - $$ + ROMBASE) >> 16) << 12) | 0x106
    OKIF e, "rm32 env fip high, fop"
    cmp dword [BUF + 20], 0x3200
    OKIF e, "rm32 env fdp"

    ENTER_PM

align 8
gdt_tmpl:
    dq 0
    dq 0x00CF9B000000FFFF   ; 08 ring 0 code
    dq 0x00CF93000000FFFF   ; 10 ring 0 data
gdt_end:

[bits 32]
EXCEPTION_STUBS

stub_common:                ; [esp] vec, [esp+4] err, [esp+8] eip, [esp+12] cs
    push eax
    mov eax, [esp+4]
    mov [LASTVEC], eax
    mov eax, [esp+12]
    mov [LASTEIP], eax
    mov eax, [RESUME]
    mov [esp+12], eax
    pop eax
    add esp, 8
    iretd

irq13:                      ; the DOS way: clear the latch, EOI, maybe FNCLEX
    push eax
    inc dword [IRQS]
    test dword [IRQF0], 1
    jz .nof0
    xor al, al
    out 0xF0, al
.nof0:
    test dword [IRQF0], 2
    jz .noclex
    fnclex
.noclex:
    mov al, 0x20
    out 0xA0, al
    out 0x20, al
    pop eax
    iretd

SET_GATE_FN

pm32:
    PM32_FLAT
    IDT_STUBS
    mov eax, 0x2D           ; IRQ13 with the slave 8259 at 0x28
    mov ebx, irq13 + ROMBASE
    call set_gate
    lidt [idtr + ROMBASE]

    ; ---- protected-mode images
    fninit
    mov dword [VAL], 0x40490FDB     ; pi as a float
pm_fld:
    fld dword [VAL]
    fnstenv [BUF]
    cmp dword [BUF + 0], 0xFFFF037F
    OKIF32 e, "pm32 env cw"
    cmp word [BUF + 4], 0x3800
    OKIF32 e, "pm32 env sw"
    cmp word [BUF + 8], 0x3FFF
    OKIF32 e, "pm32 env tw"
    cmp dword [BUF + 12], pm_fld + ROMBASE
    OKIF32 e, "pm32 env fip"
    cmp dword [BUF + 16], (0x105 << 16) | KCODE
    OKIF32 e, "pm32 env fcs, fop"
    cmp dword [BUF + 20], VAL
    OKIF32 e, "pm32 env fdp"
    cmp word [BUF + 24], KDATA
    OKIF32 e, "pm32 env fds"
    fldcw [BUF + 0]                 ; unmask again
    o16 fnstenv [BUF]               ; 16-bit protected-mode format
    cmp word [BUF + 6], (pm_fld - $$ + ROMBASE) & 0xFFFF
    OKIF32 e, "pm16 env fip"
    cmp word [BUF + 8], KCODE
    OKIF32 e, "pm16 env fcs"
    cmp word [BUF + 10], VAL
    OKIF32 e, "pm16 env fdp"
    cmp word [BUF + 12], KDATA
    OKIF32 e, "pm16 env fds"

    ; ---- FNSAVE / FRSTOR
    fninit
    fld1
    fldpi
    fnsave [BUF]
    fnstsw ax
    cmp ax, 0
    OKIF32 e, "fnsave reinitialises"
    cmp word [BUF + 8], 0x0FFF      ; R6 R7 valid, the rest empty
    OKIF32 e, "fnsave tw"
    cmp dword [BUF + 28 + 4], 0xC90FDAA2    ; ST0 = pi
    OKIF32 e, "fnsave st0"
    cmp word [BUF + 28 + 10 + 8], 0x3FFF    ; ST1 = 1.0
    OKIF32 e, "fnsave st1"
    frstor [BUF]
    fistp dword [VAL]               ; 3
    fistp dword [VAL + 4]           ; 1
    cmp dword [VAL], 3
    OKIF32 e, "frstor st0"
    cmp dword [VAL + 4], 1
    OKIF32 e, "frstor st1"
    o16 fnsave [BUF]                ; 94-byte form: registers at 14
    fld1
    fld1
    o16 fnsave [BUF]
    cmp word [BUF + 14 + 8], 0x3FFF
    OKIF32 e, "fnsave16 st0"
    o16 frstor [BUF]
    faddp
    fistp dword [VAL]
    cmp dword [VAL], 2
    OKIF32 e, "frstor16"

    ; ---- 64-bit integer moves are exact (memtest86+ copies with them)
    mov dword [VAL], 0xFEDCBA98
    mov dword [VAL + 4], 0x87654321
    fild qword [VAL]
    fistp qword [VAL + 8]
    mov eax, [VAL + 8]
    mov edx, [VAL + 12]
    cmp eax, 0xFEDCBA98
    OKIF32 e, "fild/fistp m64 low"
    cmp edx, 0x87654321
    OKIF32 e, "fild/fistp m64 high"

    ; ---- #NM: EM, TS (+MP for WAIT)
    mov eax, cr0
    or eax, 8                       ; TS
    mov cr0, eax
    EXPECT32 .nm1
    fld1
.nm1:
    cmp dword [LASTVEC], 7
    OKIF32 e, "ts: esc #NM"
    EXPECT32 .nm2
    fwait
.nm2:
    cmp dword [LASTVEC], 0xFF
    OKIF32 e, "ts without mp: wait runs"
    mov eax, cr0
    or eax, 2                       ; MP
    mov cr0, eax
    EXPECT32 .nm3
    fwait
.nm3:
    cmp dword [LASTVEC], 7
    OKIF32 e, "ts+mp: wait #NM"
    clts
    mov eax, cr0
    or eax, 4                       ; EM
    mov cr0, eax
    EXPECT32 .nm4
    fninit
.nm4:
    cmp dword [LASTVEC], 7
    OKIF32 e, "em: esc #NM"
    EXPECT32 .nm5
    fwait
.nm5:
    cmp dword [LASTVEC], 0xFF
    OKIF32 e, "em: wait runs"
    and eax, ~4
    mov cr0, eax

    ; ---- #MF (CR0.NE=1) at the next waiting instruction
    or eax, 0x20
    mov cr0, eax
    fninit
    mov word [VAL], 0x037B          ; ZE unmasked
    fldcw [VAL]
    fld1
    fldz
    EXPECT32 .mf1
    fdivp st1                       ; 1/0: error pending, no fault yet
    fnstsw ax
    mov ebx, [LASTVEC]
.mf_wait:
    fwait
    nop
.mf1:
    cmp ebx, 0xFF
    OKIF32 e, "fdiv itself does not fault"
    test ax, 0x8084
    OKIF32 nz, "es, b, ze set"
    cmp dword [LASTVEC], 16
    OKIF32 e, "fwait #MF"
    cmp dword [LASTEIP], .mf_wait + ROMBASE
    OKIF32 e, "#MF eip = the fwait"
    fnstsw ax
    test ax, 0x0004
    OKIF32 nz, "ze stays set"
    EXPECT32 .mf2
    fnclex
    fld1
.mf2:
    cmp dword [LASTVEC], 0xFF
    OKIF32 e, "fnclex: no #MF"
    fninit

    ; ---- FERR# -> IRQ13 (CR0.NE=0), IGNNE# through port 0xF0
    mov eax, cr0
    and eax, ~0x20
    mov cr0, eax
    ; 8259s: master at 0x20, slave at 0x28 on IR2; only IRQ2 and IRQ13 open
    mov al, 0x11
    out 0x20, al
    out 0xA0, al
    mov al, 0x20
    out 0x21, al
    mov al, 0x28
    out 0xA1, al
    mov al, 4
    out 0x21, al
    mov al, 2
    out 0xA1, al
    mov al, 1
    out 0x21, al
    out 0xA1, al
    mov al, 0xFB
    out 0x21, al
    mov al, 0xDF
    out 0xA1, al
    mov dword [IRQS], 0
    mov dword [IRQF0], 1            ; handler: port 0xF0 only
    fldcw [VAL]                     ; ZE unmasked
    fld1
    fldz
    sti
    fdivp st1                       ; FERR# now: IRQ13 right after
    nop
    nop
    cli
    cmp dword [IRQS], 1
    OKIF32 e, "ferr raises irq13"
    EXPECT32 .ig1
    sti
    fwait                           ; IGNNE# asserted: no freeze, no fault
    nop
    cli
.ig1:
    cmp dword [LASTVEC], 0xFF
    OKIF32 e, "ignne: wait passes"
    cmp dword [IRQS], 1
    OKIF32 e, "ignne: no second irq13"
    fnstsw ax
    test ax, 0x80
    OKIF32 nz, "ignne: es still set"
    fnclex                          ; FERR# and IGNNE# drop
    ; an error while IF=0, then STI; FWAIT in the interrupt shadow: the
    ; FWAIT freezes until IRQ13, whose handler clears the error
    mov dword [IRQF0], 3
    fld1
    fldz
    fdivp st1
    cmp dword [IRQS], 1
    OKIF32 e, "irq13 held while if=0"
    sti
    fwait
    cli
    cmp dword [IRQS], 2
    OKIF32 e, "frozen fwait resumes after irq13"
    fnstsw ax
    test ax, 0x80
    OKIF32 z, "handler cleared es"
    fninit

    jmp finish32

%include "reset.inc"
