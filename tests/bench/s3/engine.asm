; SPDX-License-Identifier: LGPL-2.1-or-later
; Graphics engine benchmark guest (the firmware ROM of a bare board):
; COUNT operations of W x H pixels at 8 bits per pixel on 1024-pixel
; lines, then the test-exit port. OP is BLT (screen-to-screen copy from
; (0, 0) to (512, 256)) or FILL (solid fill of (512, 256) with colour 5Ch).
; Built for the S3 Trio64's engine (the 8514/A registers at xxE8h, GP_STAT
; polled as drivers do) and, with -DCIRRUS, for the Cirrus GD5446 blitter
; (GR20-GR33) that QEMU emulates, the nearest peer with a 2D engine: its
; copy (GR30 = 0) and its solid fill (pattern + colour expansion with
; GR33 bit 2, the colour in GR01), started through GR31 and polled there.
; The first operation is checked through the VGA window at A0000 (chain-
; 4, the chip's bank register): the copy must carry the pattern written
; at the source, the fill must leave 5Ch; if not, the guest exits with
; status 1 (the run exits 3 instead of 1).
    org 0
%ifndef COUNT
%define COUNT 20000
%endif
%ifndef W
%define W 256
%endif
%ifndef H
%define H 256
%endif
%define ROWS (H < 16 ? H : 16)      ; rows filled and checked
%define FILLCOL 0x5C
%ifdef FILL
%define OPFILL 1
%else
%define OPFILL 0
%endif

; The walk fill and check share: ES at the window, BX over ROWS rows and
; CX over W pixels of each, DI at the pixel (pitch 1024), the body between
; ROWS_BEGIN and ROWS_END run once a pixel; every register kept but SI.
; ROWS_BEGIN's argument, if any, offsets DI at the start of each row.
%macro ROWS_BEGIN 0-1
    push ax
    push bx
    push cx
    push di
    push es
    mov ax, 0xA000
    mov es, ax
    xor bx, bx
.row:
    mov di, bx
    shl di, 10
%if %0
    %1
%endif
    xor cx, cx
.px:
%endmacro

%macro ROWS_END 0
    inc di
    inc cx
    cmp cx, W
    jb .px
    inc bx
    cmp bx, ROWS
    jb .row
    pop es
    pop di
    pop cx
    pop bx
    pop ax
    ret
%endmacro
[bits 16]
start:
    cli
    mov dx, 0x3C2
    mov al, 0x03                ; colour addressing, RAM on
    out dx, al
    mov dx, 0x3C4
    mov ax, 0x0E04              ; SR04: chain-4
    out dx, ax
    mov ax, 0x0F02              ; SR02: all planes
    out dx, ax
    mov dx, 0x3CE
    mov ax, 0x4005              ; GR05: 256-colour
    out dx, ax
    mov ax, 0x0506              ; GR06: graphics, A0000-AFFFF
    out dx, ax
%ifdef CIRRUS
    mov dx, 0x3C4
    mov ax, 0x1206              ; SR06 = 12h: unlock the extensions
    out dx, ax
    mov ax, 0x0107              ; SR07 bit 0: packed 8-bit, the window banked by GR09
    out dx, ax
    mov dx, 0x3CE
    mov ax, ((W - 1) & 0xFF) << 8 | 0x20    ; GR20/21: width - 1
    out dx, ax
    mov ax, ((W - 1) >> 8) << 8 | 0x21
    out dx, ax
    mov ax, ((H - 1) & 0xFF) << 8 | 0x22    ; GR22/23: height - 1
    out dx, ax
    mov ax, ((H - 1) >> 8) << 8 | 0x23
    out dx, ax
    mov ax, 0x0024              ; GR24/25: destination pitch 1024
    out dx, ax
    mov ax, 0x0425
    out dx, ax
    mov ax, 0x0026              ; GR26/27: source pitch 1024
    out dx, ax
    mov ax, 0x0427
    out dx, ax
    mov ax, 0x0D32              ; GR32: ROP source copy
    out dx, ax
    mov ax, 0x0009              ; GR09: bank 0 (4K units)
    out dx, ax
%if OPFILL
    mov ax, 0xC030              ; GR30: pattern, colour expansion, 8 bpp
    out dx, ax
    mov ax, 0x0433              ; GR33 bit 2: solid fill
    out dx, ax
    mov ax, FILLCOL << 8 | 0x01 ; GR01: the foreground colour
    out dx, ax
%else
    mov ax, 0x0030              ; GR30: forward, source in video memory, 8 bpp
    out dx, ax
    call fill
%endif
    mov ebp, 1                  ; the first operation is checked
    mov ecx, COUNT
.loop:
    mov ax, 0x0028              ; destination 0x40200 (x 512, y 256)
    out dx, ax
    mov ax, 0x0229
    out dx, ax
    mov ax, 0x042A
    out dx, ax
    mov ax, 0x002C              ; source 0
    out dx, ax
    mov ax, 0x002D
    out dx, ax
    mov ax, 0x002E
    out dx, ax
    mov ax, 0x0231              ; GR31: start
    out dx, ax
.busy:
    mov al, 0x31
    out dx, al
    inc dx
    in al, dx
    dec dx
    test al, 0x01
    jnz .busy
    test ebp, ebp
    jz .next
    xor ebp, ebp
    mov ax, 0x4009              ; GR09: bank 40h: 0x40000 at A0000
    out dx, ax
    mov si, 0x200               ; the destination's first row
    call check
    mov ax, 0x0009
    out dx, ax
.next:
    dec ecx
    jnz .loop
%else
    mov dx, 0x3D4
    mov ax, 0x4838              ; CR38 = 48h, CR39 = A5h: unlock
    out dx, ax
    mov ax, 0xA539
    out dx, ax
    mov ax, 0x0140              ; CR40 bit 0: the engine's registers
    out dx, ax
    mov ax, 0x0050              ; CR50: 8 bpp, 1024 pixels per line
    out dx, ax
    mov ax, 0x0931              ; CR31: bank offset on, enhanced mapping
    out dx, ax
    mov ax, 0x0035              ; CR35: bank 0
    out dx, ax
    mov ebp, 1
    mov dx, 0xBAE8
%if OPFILL
    mov ax, 0x0027              ; FRGD_MIX: foreground colour, S
    out dx, ax
    mov dx, 0xA6E8
    mov ax, FILLCOL             ; FRGD_COLOR
    out dx, ax
%else
    mov ax, 0x0067              ; FRGD_MIX: display memory, S
    out dx, ax
    call fill
%endif
    mov dx, 0xBEE8
    mov ax, 0xA000              ; PIX_CNTL: foreground mix always
    out dx, ax
    mov ax, H - 1               ; MIN_AXIS_PCNT: height - 1
    out dx, ax
    mov dx, 0x96E8
    mov ax, W - 1               ; MAJ_AXIS_PCNT: width - 1
    out dx, ax
    mov ecx, COUNT
.loop:
%if OPFILL
    mov dx, 0x86E8              ; CUR_X, CUR_Y: (512, 256)
    mov ax, 512
    out dx, ax
    mov dx, 0x82E8
    mov ax, 256
    out dx, ax
    mov dx, 0x9AE8
    mov ax, 0x40B1              ; rectangle fill, draw, +X, +Y, write
    out dx, ax
%else
    xor ax, ax
    mov dx, 0x86E8              ; CUR_X, CUR_Y: source (0, 0)
    out dx, ax
    mov dx, 0x82E8
    out dx, ax
    mov dx, 0x8EE8              ; DESTX_DIASTP, DESTY_AXSTP: (512, 256)
    mov ax, 512
    out dx, ax
    mov dx, 0x8AE8
    mov ax, 256
    out dx, ax
    mov dx, 0x9AE8
    mov ax, 0xC0B1              ; BitBLT, draw, +X, +Y, write
    out dx, ax
%endif
.busy:
    in ax, dx                   ; GP_STAT bit 9: busy
    test ah, 0x02
    jnz .busy
    test ebp, ebp
    jz .next
    xor ebp, ebp
    mov dx, 0x3D4
    mov ax, 0x0435              ; CR35: bank 4: 0x40000 at A0000
    out dx, ax
    mov si, 0x200
    call check
    mov ax, 0x0035
    out dx, ax
.next:
    dec ecx
    jnz .loop
%endif
    xor al, al
    out 0xF4, al
.halt:
    hlt
    jmp .halt

; The pattern of pixel (x, y) = (x + y) ^ 5Ah for the source's first W
; pixels of ROWS rows (pitch 1024) through the window at bank 0.
fill:
    ROWS_BEGIN
    mov ah, cl
    add ah, bl
    xor ah, 0x5A
    mov [es:di], ah
    ROWS_END

; The pattern (a copy) or FILLCOL (a fill) at A000:SI and every 1024 bytes
; after it, ROWS rows of W pixels; a difference exits with status 1.
check:
    ROWS_BEGIN {add di, si}
%if OPFILL
    mov ah, FILLCOL
%else
    mov ah, cl
    add ah, bl
    xor ah, 0x5A
%endif
    cmp [es:di], ah
    jne .bad
    ROWS_END
.bad:
    mov al, 1
    out 0xF4, al
    hlt

    times 0x10000 - 16 - ($ - $$) db 0xF4
    jmp 0xF000:start
    times 0x10000 - ($ - $$) db 0xF4
