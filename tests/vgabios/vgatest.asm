; SPDX-License-Identifier: LGPL-2.1-or-later
; Guest program for the VGA BIOS tests: a raw hard-disk image SeaBIOS
; boots (with Tessera's VGA BIOS as the video ROM). The boot sector loads
; the rest with INT 13h AH=42h. The program calls INT 10h the way DOS
; programs do and reports on the debug console (port E9h):
;   "PASS name" / "FAIL name"   one line per read-back check
;   "SCREEN name"               the screen is ready: the test takes a
;                               screenshot or the screen text, then
;                               presses a key (INT 16h here waits for it)
;   "DONE"                      then test-exit (port F4h) with the
;                               number of failures
; Graphics screens draw exactly what run-vgabios.py's model draws: a
; colour pattern with AH=0Ch, text with AH=0Eh and AH=09h, and a row of
; text scrolled up a line with AH=06h.

%define LOAD_SECTORS 40
%define BUF 0x9000                  ; scratch buffers (segment 0)

    bits 16
    org 0x7C00

%define BOOT_SECTORS LOAD_SECTORS
%include "../guests/diskboot.inc"

; ---- helpers -----------------------------------------------------------------
%include "report.inc"

; screen SI: "SCREEN name", then wait for the test's key
screen:
    push si
    mov si, s_screen
    call puts
    pop si
    call puts
    mov al, 10
    out DEBUGCON, al
    xor ah, ah
    int 0x16
    ret

; tty SI: teletype a string (AH=0Eh, BL colour)
tty:
    push ax
    push si
.l: lodsb
    test al, al
    jz .d
    mov ah, 0x0E
    int 0x10
    jmp .l
.d: pop si
    pop ax
    ret

; setcur DH row, DL column (page 0)
setcur:
    push ax
    push bx
    mov ah, 2
    xor bh, bh
    int 0x10
    pop bx
    pop ax
    ret

; ---- the program -------------------------------------------------------------
main:
    mov si, s_start
    call puts

    ; ================= mode 3: text services =================
    mov ax, 0x0003
    int 0x10
    mov ah, 0x0F
    int 0x10
    cmp ax, 0x5003
    CHECK n_getmode3
    push es
    push 0x40
    pop es
    cmp word [es:0x4A], 80
    jne .bda
    cmp byte [es:0x84], 24
    jne .bda
    cmp word [es:0x85], 16
    jne .bda
    cmp word [es:0x63], 0x3D4
    jne .bda
    cmp word [es:0x4C], 0x1000
.bda:
    pop es
    CHECK n_bda3

    mov dx, 0x050A
    call setcur
    mov ah, 3
    xor bh, bh
    int 0x10
    cmp dx, 0x050A
    jne .cur
    cmp cx, 0x0607
.cur:
    CHECK n_cursor

    ; write string at row 2, column 3, moving the cursor
    mov ax, 0x1301
    mov bx, 0x0007
    mov cx, msg_hello_len
    mov dx, 0x0203
    push cs
    pop es
    mov bp, msg_hello
    int 0x10
    mov ah, 3
    xor bh, bh
    int 0x10
    cmp dx, 0x0203 + msg_hello_len
    CHECK n_wstring

    ; write string with attributes in the string: "AB" at row 3
    mov ax, 0x1302
    mov bx, 0
    mov cx, 2
    mov dx, 0x0300
    mov bp, msg_attr
    int 0x10
    ; teletype at row 10
    mov dx, 0x0A00
    call setcur
    mov si, msg_lines
    call tty
    ; AH=09h: five 'X' white on blue at row 12
    mov dx, 0x0C00
    call setcur
    mov ax, 0x0958
    mov bx, 0x001F
    mov cx, 5
    int 0x10
    mov ah, 8
    xor bh, bh
    int 0x10
    cmp ax, 0x1F58
    CHECK n_readchar
    ; AH=0Ah keeps the attribute: 'Y' over the first 'X'
    mov ax, 0x0A59
    mov cx, 1
    int 0x10
    mov ah, 8
    int 0x10
    cmp ax, 0x1F59
    CHECK n_writechar

    ; scrolling: rows 20-22 hold "top", "mid", "bot"; scroll up 1 -> mid, bot, blank
    mov dx, 0x1400
    call setcur
    mov si, msg_scroll
    call tty
    mov ax, 0x0601
    mov bh, 0x07
    mov cx, 0x1400
    mov dx, 0x164F
    int 0x10
    ; and scroll down rows 16-17 by one: "down" from row 16 to 17
    mov dx, 0x1000
    call setcur
    mov si, msg_down
    call tty
    mov ax, 0x0701
    mov bh, 0x07
    mov cx, 0x1000
    mov dx, 0x114F
    int 0x10

    ; DAC
    mov ax, 0x1015
    mov bx, 1
    int 0x10
    cmp dh, 0
    jne .dac
    cmp cx, 0x002A
.dac:
    CHECK n_dacdefault
    mov ax, 0x1010
    mov bx, 0x40
    mov dh, 1
    mov cx, 0x0203
    int 0x10
    mov ax, 0x1015
    xor cx, cx
    xor dx, dx
    int 0x10
    cmp dh, 1
    jne .dac2
    cmp cx, 0x0203
.dac2:
    CHECK n_dacset
    ; palette register read (mode 3: register 6 is 14h)
    mov ax, 0x1007
    mov bl, 6
    int 0x10
    cmp bh, 0x14
    CHECK n_palreg
    ; PEL mask
    mov ax, 0x1019
    int 0x10
    cmp bl, 0xFF
    CHECK n_pelmask

    ; font information: 8x16 in the ROM
    mov ax, 0x1130
    mov bh, 6
    push es
    int 0x10
    mov ax, es
    pop es
    cmp ax, 0xC000
    jne .fi
    cmp cx, 16
    jne .fi
    cmp dl, 24
.fi:
    CHECK n_fontinfo
    ; EGA information
    mov ah, 0x12
    mov bl, 0x10
    int 0x10
    cmp bx, 0x0003
    CHECK n_egainfo
    ; display combination
    mov ax, 0x1A00
    int 0x10
    cmp al, 0x1A
    jne .dcc
    cmp bl, 0x08
.dcc:
    CHECK n_dcc
    ; functionality/state
    mov ah, 0x1B
    xor bx, bx
    push cs
    pop es
    mov di, BUF
    int 0x10
    cmp al, 0x1B
    jne .fs
    cmp byte [BUF + 4], 3
    jne .fs
    cmp byte [BUF + 0x22], 24
    jne .fs
    cmp word [BUF + 5], 80
.fs:
    CHECK n_funcinfo
    ; save state, change the DAC, restore: the DAC is back
    mov ax, 0x1C00
    mov cx, 7
    int 0x10
    cmp al, 0x1C
    jne .ss
    cmp bx, 16                      ; 0x3A4 bytes fit in 15 blocks
    ja .ss
    mov ax, 0x1C01
    mov cx, 7
    mov bx, BUF
    int 0x10
    mov ax, 0x1010
    mov bx, 0x40
    mov dh, 9
    mov cx, 0x0909
    int 0x10
    mov ax, 0x1C02
    mov cx, 7
    mov bx, BUF
    int 0x10
    mov ax, 0x1015
    mov bx, 0x40
    int 0x10
    cmp dh, 1
    jne .ss
    cmp cx, 0x0203
.ss:
    CHECK n_savestate
    ; put the colour back for the screen
    mov ax, 0x1010
    mov bx, 0x40
    xor dh, dh
    xor cx, cx
    int 0x10
    mov dx, 0x1800
    call setcur
    mov si, msg_bottom
    call tty
    mov si, n_text3
    call screen

    ; ================= mode 1: 40 columns =================
    mov ax, 0x0001
    int 0x10
    mov ah, 0x0F
    int 0x10
    cmp ax, 0x2801
    CHECK n_getmode1
    mov dx, 0x0102
    call setcur
    mov si, msg_forty
    call tty
    mov si, n_text1
    call screen

    ; ================= mode 3 with the 8x8 font: 50 rows =================
    mov ax, 0x0003
    int 0x10
    mov ax, 0x1112
    xor bl, bl
    int 0x10
    push es
    push 0x40
    pop es
    cmp byte [es:0x84], 49
    jne .r50
    cmp byte [es:0x85], 8
.r50:
    pop es
    CHECK n_rows50
    mov dx, 0x2D05
    call setcur
    mov si, msg_fifty
    call tty
    mov si, n_text50
    call screen

    ; ================= mode 7: monochrome =================
    mov ax, 0x0007
    int 0x10
    mov ah, 0x0F
    int 0x10
    cmp ax, 0x5007
    CHECK n_getmode7
    mov dx, 0x0300
    call setcur
    mov si, msg_mono
    call tty
    mov si, n_text7
    call screen

    ; ================= graphics modes =================
    mov si, gmodes
.gm:
    lodsb
    cmp al, 0xFF
    je .gdone
    push si
    call gfx_test
    pop si
    jmp .gm
.gdone:

    mov ax, 0x0003
    int 0x10
    mov si, s_done
    call puts
    mov ax, [failures]
    out 0xF4, al
    hlt

; gfx_test AL mode: pattern, text, scroll, read-backs, screen
gfx_test:
    mov [cur_mode], al
    xor ah, ah
    int 0x10
    ; colour mask of the mode
    mov bl, 15
    mov al, [cur_mode]
    cmp al, 4
    je .m3
    cmp al, 5
    je .m3
    cmp al, 6
    je .m1
    cmp al, 0x0F
    je .m1
    cmp al, 0x11
    je .m1
    cmp al, 0x13
    jne .mk
    mov bl, 255
    jmp .mk
.m3: mov bl, 3
    jmp .mk
.m1: mov bl, 1
.mk:
    mov [cmask], bl
    ; pattern: 48 x 40 pixels at (16, 24), colour (x + 2y) & mask
    mov dx, 24
.py:
    mov cx, 16
.px:
    mov ax, cx
    add ax, dx
    add ax, dx
    and al, [cmask]
    mov ah, 0x0C
    xor bh, bh
    int 0x10
    inc cx
    cmp cx, 64
    jb .px
    inc dx
    cmp dx, 64
    jb .py
    ; read a pixel back: (37, 50) -> (37 + 100) & mask
    mov ah, 0x0D
    xor bh, bh
    mov cx, 37
    mov dx, 50
    int 0x10
    mov ah, 137
    and ah, [cmask]
    cmp al, ah
    CHECK n_readpixel
    ; text: "Mode" at row 1 column 10 with AH=0Eh in the top colour
    mov dx, 0x010A
    call setcur
    mov bl, [cmask]
    mov si, msg_mode
    call tty
    ; AH=09h: three 'Z' at row 2 column 10 in colour 1
    mov dx, 0x020A
    call setcur
    mov ax, 0x095A
    mov bx, 0x0001
    mov cx, 3
    int 0x10
    ; read the 'M' back from the screen
    mov dx, 0x010A
    call setcur
    mov ah, 8
    xor bh, bh
    int 0x10
    cmp al, 'M'
    CHECK n_gfxreadchar
    ; scroll: "Up" at row 10 column 2, rows 9-10 scrolled up one -> row 9
    mov dx, 0x0A02
    call setcur
    mov bl, [cmask]
    mov si, msg_up
    call tty
    mov ax, 0x0601
    xor bh, bh
    mov cx, 0x0900
    mov dx, 0x0A13
    int 0x10
    ; "SCREEN gfx-NN", NN the mode in hex
    mov si, s_screen
    call puts
    mov si, n_gfx
    call puts
    mov al, [cur_mode]
    call hex2
    mov al, 10
    out DEBUGCON, al
    xor ah, ah
    int 0x16
    ret

; ---- data --------------------------------------------------------------------
s_start:  db 'vgatest start', 10, 0
s_screen: db 'SCREEN ', 0
s_done:   db 'DONE', 10, 0
msg_hello: db 'Hello from the Tessera VGA BIOS'
msg_hello_len equ $ - msg_hello
msg_attr:  db 'A', 0x1E, 'B', 0x4F
msg_lines: db 'Line A', 13, 10, 'Line B', 0
msg_scroll: db 'top', 13, 10, 'mid', 13, 10, 'bot', 0
msg_down:  db 'down', 0
msg_bottom: db 'bottom row', 0
msg_forty: db 'Forty columns', 0
msg_fifty: db 'Fifty rows', 0
msg_mono:  db 'Monochrome text', 0
msg_mode:  db 'Mode', 0
msg_up:    db 'Up', 0

n_getmode3: db 'getmode-3', 0
n_bda3:     db 'bda-mode3', 0
n_cursor:   db 'cursor', 0
n_wstring:  db 'write-string-cursor', 0
n_readchar: db 'read-char-attr', 0
n_writechar: db 'write-char-keeps-attr', 0
n_dacdefault: db 'dac-default', 0
n_dacset:   db 'dac-set-get', 0
n_palreg:   db 'palette-register', 0
n_pelmask:  db 'pel-mask', 0
n_fontinfo: db 'font-info', 0
n_egainfo:  db 'ega-info', 0
n_dcc:      db 'display-combination', 0
n_funcinfo: db 'functionality-state', 0
n_savestate: db 'save-restore-state', 0
n_text3:    db 'text3', 0
n_getmode1: db 'getmode-1', 0
n_text1:    db 'text1', 0
n_rows50:   db 'font8x8-50-rows', 0
n_text50:   db 'text50', 0
n_getmode7: db 'getmode-7', 0
n_text7:    db 'text7', 0
n_readpixel: db 'read-pixel', 0
n_gfxreadchar: db 'gfx-read-char', 0
n_gfx:      db 'gfx-', 0

gmodes: db 0x13, 0x12, 0x11, 0x10, 0x0F, 0x0E, 0x0D, 0x06, 0x05, 0x04, 0xFF
cur_mode: db 0
cmask: db 0

    times (LOAD_SECTORS + 1) * 512 - ($ - $$) db 0
    times 128 * 512 - ($ - $$) db 0
