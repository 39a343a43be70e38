; SPDX-License-Identifier: LGPL-2.1-or-later
; El Torito no-emulation boot image: says "booted from the CD" through the
; test-exit port (0x11: the run exits with 0x23).
bits 16
org 0x7c00
    mov al, 0x11
    out 0xf4, al
    hlt
times 2048-($-$$) db 0
