; SPDX-License-Identifier: LGPL-2.1-or-later
; Sound Blaster 16 as DOS software drives it: DSP reset and version, the
; copyright string, AdLib timer detection at 0x388, the mixer, then four
; sounds separated by silences that the DSP itself times (command 0x80):
;   1. 8-bit mono single-cycle DMA (channel 1), 22050 Hz, a 1002 Hz square,
;      0.5 s;
;   2. 16-bit signed stereo auto-init DMA (channel 5), 44100 Hz, a 2004 Hz
;      square, three 10 ms blocks, then exit auto-init (0xD9) ends it after
;      the fourth;
;   3. an OPL3 FM note, 440 Hz, 0.3 s;
;   4. the PC speaker: 8254 counter 2 in mode 3 at 1500.9 Hz, 0.2 s.
; The test reads the WAV sink and checks each tone's frequency, its length
; and the silence between them. Interrupts (IRQ 5 through the 8259) wake
; the CPU from HLT, so virtual time skips the waits.
    org 0
%include "lib.inc"

%define SB      0x220
%define IRQFLAG 0x600           ; byte: mixer IRQ status bits seen by the handler
%define IRQCNT  0x601           ; byte: interrupts taken
%define BUF8    0x20000         ; 8-bit buffer (segment 0x2000)
%define BUF16   0x40000         ; 16-bit buffer (segment 0x4000)
%define N8      11025           ; 0.5 s at 22050 Hz
%define BLK16   882             ; words per 16-bit block: 441 stereo frames

[bits 16]
start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7000
    mov word [FAILS], 0
    mov word [0x0D * 4], irq5
    mov word [0x0D * 4 + 2], 0xF000
    ; 8259: base 8, edge, single master is enough for IRQ 5
    mov al, 0x11
    out 0x20, al
    mov al, 0x08
    out 0x21, al
    mov al, 0x04
    out 0x21, al
    mov al, 0x01
    out 0x21, al
    mov al, 0xDF                ; only IRQ 5
    out 0x21, al
    ; 8237s as a BIOS leaves them: DMA2 channel 4 cascades DMA1
    mov al, 0xC0
    out 0xD6, al
    xor al, al
    out 0xD4, al

    ; --- DSP reset ---
    mov dx, SB + 6
    mov al, 1
    out dx, al
    xor al, al
    out dx, al
    mov cx, 1000
    mov dx, SB + 0xE
.rw: in al, dx
    test al, 0x80
    jnz .rdy
    loop .rw
.rdy:
    mov dx, SB + 0xA
    in al, dx
    cmp al, 0xAA
    OKIF e, "dsp reset answers 0xAA"

    mov al, 0xE1
    call dsp_write
    call dsp_read
    cmp al, 4
    OKIF e, "dsp version major 4"
    call dsp_read
    cmp al, 5
    OKIF e, "dsp version minor 05"

    mov al, 0xE0                ; identification: the complement
    call dsp_write
    mov al, 0x5A
    call dsp_write
    call dsp_read
    cmp al, 0xA5
    OKIF e, "dsp identification inverts"

    mov al, 0xE3
    call dsp_write
    call dsp_read
    cmp al, 'C'
    OKIF e, "dsp copyright string"
.cp: call dsp_read              ; drain it
    test al, al
    jnz .cp

    ; --- AdLib detection (the classic sequence) ---
    mov ah, 4
    mov al, 0x60
    call opl_write
    mov al, 0x80
    call opl_write
    mov dx, 0x388
    in al, dx
    and al, 0xE0
    cmp al, 0
    OKIF e, "adlib status clear after reset"
    mov ah, 2
    mov al, 0xFF
    call opl_write
    mov ah, 4
    mov al, 0x21
    call opl_write
    mov ecx, 200000             ; > 80 us of instructions
.dl: dec ecx
    jnz .dl
    mov dx, 0x388
    in al, dx
    and al, 0xE0
    cmp al, 0xC0
    OKIF e, "adlib timer 1 overflows"
    mov dx, 0x388
    in al, dx
    test al, 0x06
    OKIF z, "opl3 (status bits 2-1 clear)"
    mov ah, 4
    mov al, 0x60
    call opl_write
    mov al, 0x80
    call opl_write

    ; --- mixer: everything loud, IRQ 5, DMA 1 and 5 ---
    mov dx, SB + 4
    mov al, 0x80
    out dx, al
    inc dx
    in al, dx
    and al, 0x0F
    cmp al, 0x02
    OKIF e, "mixer irq select is 5"
    dec dx
    mov al, 0x81
    out dx, al
    inc dx
    in al, dx
    cmp al, 0x22
    OKIF e, "mixer dma select is 1 and 5"
    mov bx, 0x30
.mx: mov dx, SB + 4
    mov al, bl
    out dx, al
    inc dx
    mov al, 0xF8                ; 0 dB
    out dx, al
    inc bx
    cmp bx, 0x36
    jb .mx

    ; --- silence 0.2 s (DSP command 0x80 at 22050 Hz) ---
    call set_rate_22050
    call silence

    ; --- 1. 8-bit single-cycle ---
    mov ax, 0x2000
    mov es, ax
    xor di, di
    mov cx, N8
    xor bx, bx
.f8: mov al, 0xC0               ; high half of the square
    cmp bx, 11
    jb .h8
    mov al, 0x40
.h8: stosb
    inc bx
    cmp bx, 22
    jb .n8
    xor bx, bx
.n8: loop .f8
    ; 8237 channel 1: single, memory->I/O (read), no auto-init
    mov al, 0x05
    out 0x0A, al
    mov al, 0x49
    out 0x0B, al
    out 0x0C, al
    xor al, al
    out 0x02, al
    out 0x02, al
    mov al, 0x02                ; page 2: 0x20000
    out 0x83, al
    mov ax, N8 - 1
    out 0x03, al
    mov al, ah
    out 0x03, al
    mov al, 0x01
    out 0x0A, al
    mov byte [IRQFLAG], 0
    mov al, 0xC0                ; 8-bit single-cycle output
    call dsp_write
    mov al, 0x00                ; mono unsigned
    call dsp_write
    mov ax, N8 - 1
    call dsp_write
    mov al, ah
    call dsp_write
    call wait_irq
    test byte [IRQFLAG], 1
    OKIF nz, "8-bit block end interrupt"

    call silence

    ; --- 2. 16-bit signed stereo auto-init ---
    mov ax, 0x4000
    mov es, ax
    xor di, di
    mov cx, BLK16               ; two blocks of stereo words: BLK16 frames
    xor bx, bx
.f16: mov ax, 8000
    cmp bx, 11
    jb .h16
    mov ax, -8000
.h16: stosw                      ; left
    stosw                       ; right
    inc bx
    cmp bx, 22
    jb .n16
    xor bx, bx
.n16: loop .f16
    ; 8237 channel 5: single, read, auto-init; word address and count
    mov al, 0x05
    out 0xD4, al
    mov al, 0x59
    out 0xD6, al
    out 0xD8, al
    xor al, al                  ; word address (0x40000 >> 1) & 0xFFFF = 0
    out 0xC4, al
    out 0xC4, al
    mov al, 0x04
    out 0x8B, al
    mov ax, 2 * BLK16 - 1
    out 0xC6, al
    mov al, ah
    out 0xC6, al
    mov al, 0x01
    out 0xD4, al
    mov al, 0x41                ; output rate 44100
    call dsp_write
    mov al, 0xAC
    call dsp_write
    mov al, 0x44
    call dsp_write
    mov byte [IRQCNT], 0
    mov byte [IRQFLAG], 0
    mov al, 0xB6                ; 16-bit, auto-init, FIFO
    call dsp_write
    mov al, 0x30                ; signed stereo
    call dsp_write
    mov ax, BLK16 - 1
    call dsp_write
    mov al, ah
    call dsp_write
.w3: call wait_irq
    cmp byte [IRQCNT], 3
    jb .w3
    test byte [IRQFLAG], 2
    OKIF nz, "16-bit block end interrupts"
    mov al, 0xD9                ; exit auto-init after this block
    call dsp_write
    call wait_irq
    cmp byte [IRQCNT], 4
    OKIF e, "exit auto-init ends after the block"

    call set_rate_22050
    call silence
    cmp byte [IRQCNT], 5
    OKIF e, "no 16-bit interrupt after exit"

    ; --- 3. an OPL FM note: 440 Hz on channel 0, 0.3 s ---
    mov si, fm_regs
.fm: cs lodsw
    test ax, ax
    jz .fmd
    call opl_write              ; ah = register, al = value
    jmp .fm
.fmd:
    mov ah, 0xA0
    mov al, 0x44                ; F-number 0x244 (580): 440 Hz at block 4
    call opl_write
    mov ah, 0xB0
    mov al, 0x32                ; key on, block 4, F-number high bits 2
    call opl_write
    call silence                ; 0.2 s
    call silence_short          ; + 0.1 s
    mov ah, 0xB0
    mov al, 0x12                ; key off
    call opl_write
    call silence                ; release, then quiet

    ; --- 4. the PC speaker: counter 2, mode 3, 1193182 / 795 Hz ---
    mov al, 0xB6
    out 0x43, al
    mov ax, 795
    out 0x42, al
    mov al, ah
    out 0x42, al
    in al, 0x61
    or al, 0x03                 ; gate and speaker data
    out 0x61, al
    call silence                ; 0.2 s
    in al, 0x61
    and al, 0xFC
    out 0x61, al
    call silence

    jmp finish16

; FM instrument: a plain sine, sustained (AdLib register order).
fm_regs:
    dw 0x2021, 0x2321           ; modulator/carrier: sustaining, multiplier 1
    dw 0x403F, 0x4300           ; modulator silent, carrier full level
    dw 0x60F0, 0x63F0           ; attack fast, decay 0
    dw 0x800F, 0x830F           ; sustain level max, release fastest
    dw 0xE000, 0xE300           ; sine waves
    dw 0xC001                   ; additive: carrier alone sounds
    dw 0

set_rate_22050:
    mov al, 0x41
    call dsp_write
    mov al, 0x56
    call dsp_write
    mov al, 0x22
    call dsp_write
    ret

silence:                        ; 0.2 s of DSP silence, waited for
    mov ax, 4410 - 1
    jmp silence_n
silence_short:                  ; 0.1 s
    mov ax, 2205 - 1
silence_n:
    push ax
    mov al, 0x80
    call dsp_write
    pop ax
    call dsp_write
    mov al, ah
    call dsp_write
    call wait_irq
    ret

wait_irq:                       ; until the handler ran once more
    mov bl, [IRQCNT]
    sti
.l: cmp bl, [IRQCNT]
    jne .d
    hlt
    jmp .l
.d: cli
    ret

irq5:
    push ax
    push dx
    mov dx, SB + 4
    mov al, 0x82
    out dx, al
    inc dx
    in al, dx
    or [IRQFLAG], al
    test al, 1
    jz .n8
    mov dx, SB + 0xE
    in al, dx
.n8: test al, 2
    jz .n16
    mov dx, SB + 0xF
    in al, dx
.n16: inc byte [IRQCNT]
    mov al, 0x20
    out 0x20, al
    pop dx
    pop ax
    iret

%include "sb16.inc"

%include "reset.inc"
