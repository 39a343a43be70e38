; SPDX-License-Identifier: LGPL-2.1-or-later
; Boot code for the IDE boot tests (ide-boot.sh): say where it was booted
; from on the debug console (port E9h), then leave through test-exit
; (port F4h, value 0: exit status 1). Assembled twice: as a hard disk's
; boot sector (with the 55AAh signature), and with -DCDROM as the
; no-emulation El Torito boot image of a CD (loaded at 07C0:0000).
bits 16
org 0x7C00

start:
    cli
    xor ax, ax
    mov ds, ax
    mov si, msg
    mov dx, 0xE9
    cld
.next:
    lodsb
    test al, al
    jz .done
    out dx, al
    jmp .next
.done:
    xor al, al
    out 0xF4, al
.hang:
    hlt
    jmp .hang

%ifdef CDROM
msg: db "tessera-ide-boot: booted from the CD-ROM", 13, 10, 0
    times 2048 - ($ - $$) db 0
%else
msg: db "tessera-ide-boot: booted from the hard disk", 13, 10, 0
    times 510 - ($ - $$) db 0
    dw 0xAA55
%endif
