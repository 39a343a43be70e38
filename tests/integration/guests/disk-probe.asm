; SPDX-License-Identifier: LGPL-2.1-or-later
; Hard-disk boot sector for the `tessera run` shortcut tests. It reports what
; the machine has through the test-exit port (the run exits with V*2+1):
;   bits 0-4: INT 15h AX=E801h BX >> 8 (64 KiB blocks above 16 MiB, / 256)
;   bit 5:    a DEC 21041 (1011:0014) at PCI 00:03.0
;   bit 6:    a Sound Blaster DSP at 220h (reset answers AAh)
; and it writes 512 bytes of 5Ah to the disk's second sector (INT 13h AH=03h),
; so an undo disk can be seen to keep, or not keep, the write. A failed
; write reports 7Fh.
bits 16
org 0x7c00
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00
    sti
    push dx                     ; DL: the boot drive
    mov di, 0x8000
    mov cx, 512
    mov al, 0x5a
    rep stosb
    pop dx
    mov ax, 0x0301              ; write 1 sector
    mov cx, 0x0002              ; cylinder 0, sector 2
    mov dh, 0                   ; head 0
    mov bx, 0x8000
    int 0x13
    mov cl, 0x7f
    jc .done
    xor cx, cx
    mov ax, 0xe801
    int 0x15
    mov cl, bh
    and cl, 0x1f
    mov eax, 0x80001800         ; bus 0, device 3, function 0, register 0
    mov dx, 0xcf8
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
    cmp eax, 0x00141011
    jne .nonic
    or cl, 0x20
.nonic:
    mov dx, 0x226               ; DSP reset: 1 then 0, then AAh in the read buffer
    mov al, 1
    out dx, al
    mov al, 0
    out dx, al
    mov bx, 0x1000
.poll:
    mov dx, 0x22e
    in al, dx
    test al, 0x80
    jnz .ready
    dec bx
    jnz .poll
    jmp .done
.ready:
    mov dx, 0x22a
    in al, dx
    cmp al, 0xaa
    jne .done
    or cl, 0x40
.done:
    mov al, cl
    out 0xf4, al
    hlt
times 510-($-$$) db 0
dw 0xaa55
