; SPDX-License-Identifier: LGPL-2.1-or-later
; Hardware interrupts in real mode from the 8259A PIC and the 8254 PIT:
; a request is held while IF is clear and taken once STI sets it, HLT
; waits for the next one, a masked IR line never interrupts, and the
; vector is the one ICW2 programmed. Machine: kvm-pc.xml (PIC at 0x20,
; PIT on IR0).
;
; How soon after STI the interrupt comes is not checked: on hardware it
; is one instruction later (the STI shadow), but KVM on hosts without
; VMX/SVM (PVM) emulates real mode in batches of instructions and opens
; the interrupt window only between batches.
    org 0
%include "kvm-lib.inc"

%define TICKS  0x520            ; word: IRQ0 count
%define LASTV  0x522            ; byte: vector of the last interrupt

irq0:                           ; IR0 at vector 0x08 + 0
    push ax
    push ds
    xor ax, ax
    mov ds, ax
    inc word [TICKS]
    mov byte [LASTV], 0x08
    mov al, 0x20                ; non-specific EOI
    out 0x20, al
    pop ds
    pop ax
    iret

wrong:                          ; any other vector in 0x08-0x0F
    push ax
    push ds
    xor ax, ax
    mov ds, ax
    mov byte [LASTV], 0xEE
    mov al, 0x20
    out 0x20, al
    pop ds
    pop ax
    iret

wait_tick:                      ; STI, spin until TICKS != BX (or give up), CLI
    mov cx, 0xFFFF
    sti
.spin:
    cmp [TICKS], bx
    jne .out
    loop .spin
.out:
    cli
    ret

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7C00
    mov word [FAILS], 0
    mov word [TICKS], 0
    mov byte [LASTV], 0
    mov di, 0x08*4
    mov cx, 8
.vec: mov word [di], wrong
    mov word [di+2], 0xF000
    add di, 4
    loop .vec
    mov word [0x08*4], irq0

    ; 8259A: edge triggered, single, ICW4; vectors 0x08-0x0F; 8086 mode
    mov al, 0x13
    out 0x20, al
    mov al, 0x08
    out 0x21, al
    mov al, 0x01
    out 0x21, al
    mov al, 0xFE                ; only IR0 unmasked
    out 0x21, al
    ; 8254 counter 0: mode 2 (rate generator), LSB then MSB, 1193 = ~1 ms
    mov al, 0x34
    out 0x43, al
    mov al, 1193 & 0xFF
    out 0x40, al
    mov al, 1193 >> 8
    out 0x40, al

    ; IF clear: the request shows in IRR but is not taken
    mov al, 0x0A                ; OCW3: read IRR
    out 0x20, al
.wait_irr:
    in al, 0x20
    test al, 1
    jz .wait_irr
    cmp word [TICKS], 0
    CHECK e, "held while IF=0"
    xor bx, bx
    call wait_tick
    cmp word [TICKS], 1
    CHECK ae, "taken after sti"
    cmp byte [LASTV], 0x08
    CHECK e, "vector from ICW2"

    ; HLT sleeps until the next tick
    mov bx, [TICKS]
    sti
    hlt
    cli
    mov ax, [TICKS]
    sub ax, bx
    cmp ax, 1
    CHECK e, "hlt wakes on irq"
    sti
.five:
    hlt
    cmp word [TICKS], 6
    jb .five
    cli
    CHECK ae, "six ticks"

    ; masked: IRR fills, nothing is delivered, then unmasking delivers
    mov al, 0xFF
    out 0x21, al
    mov bx, [TICKS]
    sti
    mov al, 0x0A
    out 0x20, al
.wait_masked:
    in al, 0x20
    test al, 1
    jz .wait_masked
    cli
    cmp [TICKS], bx
    CHECK e, "masked ir0 not taken"
    mov al, 0xFE
    out 0x21, al
    call wait_tick
    cmp [TICKS], bx
    CHECK a, "unmask delivers"
    cmp byte [LASTV], 0x08
    CHECK e, "no stray vector"

    mov al, 0xFF
    out 0x21, al
    jmp done16

RESET_VECTOR start
