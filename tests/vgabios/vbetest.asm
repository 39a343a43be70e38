; SPDX-License-Identifier: LGPL-2.1-or-later
; Guest program for the VBE tests on the S3 Trio64 (same protocol as
; vgatest.asm: PASS/FAIL, SCREEN, DONE on port E9h, test-exit at F4h).
; For each mode: 4F01 mode information, 4F02 set (banked), 64 scan lines of
; a byte pattern written through the 64 KiB window with 4F05 (byte at
; line offset o of line y = (o + 3y) & 0FFh), a screen check, then the
; scan-line, display-start and window read-backs.

%define DEBUGCON 0xE9
%define LOAD_SECTORS 16
%define INFO 0x9000                 ; VbeInfoBlock (512)
%define MINFO 0x9200                ; ModeInfoBlock (256)

    bits 16
    org 0x7C00

boot:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7C00
    jmp 0:.cs0
.cs0:
    sti
    cld
    mov si, dap
    mov ah, 0x42
    int 0x13
    jc .fail
    jmp main
.fail:
    mov al, 0xEE
    out 0xF4, al
    hlt
    jmp .fail
dap:
    db 0x10, 0
    dw LOAD_SECTORS
    dw 0x7E00, 0
    dq 1
    times 510 - ($ - $$) db 0
    dw 0xAA55

failures: dw 0

puts:
    push ax
    push si
.l: lodsb
    test al, al
    jz .d
    out DEBUGCON, al
    jmp .l
.d: pop si
    pop ax
    ret

check:
    pushf
    push si
    jz .pass
    mov si, s_fail
    call puts
    inc word [failures]
    jmp .name
.pass:
    mov si, s_pass
    call puts
.name:
    pop si
    call puts
    mov al, 10
    out DEBUGCON, al
    popf
    ret

hex4:
    push ax
    mov al, ah
    call hex2
    pop ax
hex2:
    push ax
    shr al, 4
    call .dig
    pop ax
    and al, 15
.dig:
    add al, '0'
    cmp al, '9'
    jbe .o
    add al, 'A' - '0' - 10
.o: out DEBUGCON, al
    ret

%macro CHECK 1
    mov si, %1
    call check
%endmacro

main:
    ; 4F00 with the VBE 2 signature
    mov dword [INFO], 'VBE2'
    mov ax, 0x4F00
    mov di, INFO
    int 0x10
    cmp ax, 0x004F
    jne .i
    cmp dword [INFO], 'VESA'
    jne .i
    cmp word [INFO + 4], 0x0200
    jne .i
    cmp word [INFO + 0x12], 32      ; the machine's 2 MiB (CR36), in 64 KiB
.i:
    CHECK n_info
    ; the mode list has 101h and 111h, not 118h (3 MiB > 2 MiB)
    push ds
    lds si, [INFO + 0x0E]
    xor bx, bx
.ml:
    lodsw
    cmp ax, 0xFFFF
    je .mld
    cmp ax, 0x101
    jne .m2
    or bl, 1
.m2:
    cmp ax, 0x111
    jne .m3
    or bl, 2
.m3:
    cmp ax, 0x118
    jne .ml
    or bl, 4
    jmp .ml
.mld:
    pop ds
    cmp bl, 3
    CHECK n_list
    ; 4F08: the DAC is 6 bits wide
    mov ax, 0x4F08
    mov bl, 1
    int 0x10
    cmp ax, 0x004F
    jne .dw
    cmp bh, 6
.dw:
    CHECK n_dacwidth
    ; 4F04 size query
    mov ax, 0x4F04
    xor dl, dl
    mov cx, 0x0F
    int 0x10
    cmp ax, 0x004F
    jne .st
    cmp bx, 0
    je .st
    cmp bx, 17
    cmc
    sbb ax, ax                      ; ZF when BX <= 16
.st:
    CHECK n_state

    mov si, modes
.next:
    lodsw
    cmp ax, 0xFFFF
    je .done
    push si
    call mode_test
    pop si
    jmp .next
.done:
    ; back to text through 4F02
    mov ax, 0x4F02
    mov bx, 0x0003
    int 0x10
    mov ah, 0x0F
    int 0x10
    cmp al, 3
    CHECK n_back
    mov si, s_done
    call puts
    mov ax, [failures]
    out 0xF4, al
    hlt

; mode_test AX = mode
mode_test:
    mov [mode], ax
    mov cx, ax
    mov ax, 0x4F01
    mov di, MINFO
    int 0x10
    cmp ax, 0x004F
    jne .mi
    test byte [MINFO], 0x01
    jz .mi
    cmp word [MINFO + 8], 0xA000
    jne .mi
    cmp word [MINFO + 4], 64
    jne .mi
    cmp dword [MINFO + 0x28], 0     ; a linear framebuffer address
    je .mi
    cmp ax, ax
.mi:
    CHECK n_modeinfo
    mov ax, [MINFO + 0x10]
    mov [pitch], ax
    mov ax, 0x4F02
    mov bx, [mode]
    int 0x10
    cmp ax, 0x004F
    CHECK n_setmode
    mov ax, 0x4F03
    int 0x10
    and bx, 0x1FF
    cmp bx, [mode]
    CHECK n_getmode
    ; the pattern: 64 lines through the window
    push es
    mov ax, 0xA000
    mov es, ax
    xor ebx, ebx                    ; EBX: linear offset of the line
    xor cx, cx                      ; CX: line
    mov word [bank], 0xFFFF
.line:
    xor edx, edx                    ; DX: offset in the line
.byte:
    mov eax, ebx
    add eax, edx
    push eax
    shr eax, 16
    cmp ax, [bank]
    je .same
    mov [bank], ax
    push bx
    push dx
    mov dx, ax
    mov ax, 0x4F05
    xor bx, bx
    int 0x10
    pop dx
    pop bx
.same:
    pop eax
    mov di, ax
    mov al, cl
    mov ah, 3
    mul ah
    add al, dl
    mov [es:di], al
    inc dx
    cmp dx, [pitch]
    jb .byte
    movzx eax, word [pitch]
    add ebx, eax
    inc cx
    cmp cx, 64
    jb .line
    pop es
    ; 4F05 get window: the last bank written
    mov ax, 0x4F05
    mov bx, 0x0100
    int 0x10
    cmp dx, [bank]
    CHECK n_window
    ; SCREEN vbe-MMMM
    mov si, s_screen
    call puts
    mov ax, [mode]
    call hex4
    mov al, 10
    out DEBUGCON, al
    xor ah, ah
    int 0x16
    ; 4F06 get: the mode's pitch
    mov ax, 0x4F06
    mov bl, 1
    int 0x10
    cmp ax, 0x004F
    jne .sl
    cmp bx, [pitch]
.sl:
    CHECK n_scanline
    ; 4F07: display start at line 5, read back
    mov ax, 0x4F07
    xor bx, bx
    xor cx, cx
    mov dx, 5
    int 0x10
    mov ax, 0x4F07
    mov bx, 1
    int 0x10
    cmp ax, 0x004F
    jne .ds
    cmp dx, 5
    jne .ds
    cmp cx, 0
.ds:
    CHECK n_start
    ret

s_pass:   db 'PASS ', 0
s_fail:   db 'FAIL ', 0
s_screen: db 'SCREEN vbe-', 0
s_done:   db 'DONE', 10, 0
n_info:   db 'vbe-info', 0
n_list:   db 'vbe-mode-list', 0
n_dacwidth: db 'vbe-dac-width', 0
n_state:  db 'vbe-state-size', 0
n_modeinfo: db 'vbe-mode-info', 0
n_setmode: db 'vbe-set-mode', 0
n_getmode: db 'vbe-get-mode', 0
n_window: db 'vbe-window', 0
n_scanline: db 'vbe-scanline', 0
n_start:  db 'vbe-display-start', 0
n_back:   db 'vbe-back-to-text', 0

modes: dw 0x101, 0x110, 0x111, 0x112, 0x103, 0x105, 0x117, 0xFFFF
mode:  dw 0
pitch: dw 0
bank:  dw 0

    times (LOAD_SECTORS + 1) * 512 - ($ - $$) db 0
    times 64 * 512 - ($ - $$) db 0
