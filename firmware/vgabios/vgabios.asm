; SPDX-License-Identifier: LGPL-2.1-or-later
; Tessera VGA BIOS for the S3 Trio64 / Trio32: a PCI expansion ROM that
; SeaBIOS (or any PC BIOS) runs at C000:0003. It provides INT 10h for the
; standard VGA modes and services through the standard VGA registers, and
; VBE 2.0 for the S3's extended modes through its extension registers (it
; also runs on a plain VGA, where VBE reports "not supported").
;
; Register conventions inside: the INT 10h entry saves every register with
; PUSHAD and points BP at the frame; handlers read the caller's values from
; the frame (R_* offsets) and write results back there, run with DS = 40h
; (the BIOS data area) and reach ROM data through CS.
;
; Build: nasm -f bin, then fixrom.py pads, sizes and checksums the image.

        cpu 386
        bits 16
        org 0

%ifndef PCI_DEVICE
%define PCI_DEVICE 0x8811
%endif

BDA             equ 0x40
; BIOS data area (segment 40h) variables a video BIOS keeps
BDA_EQUIP       equ 0x10
BDA_MODE        equ 0x49
BDA_COLS        equ 0x4A
BDA_PAGESIZE    equ 0x4C
BDA_PAGESTART   equ 0x4E
BDA_CURPOS      equ 0x50    ; 8 words: low column, high row
BDA_CURSHAPE    equ 0x60    ; low end line, high start line
BDA_PAGE        equ 0x62
BDA_CRTC        equ 0x63
BDA_MODECTL     equ 0x65
BDA_CGAPAL      equ 0x66
BDA_ROWS        equ 0x84    ; rows - 1
BDA_CHEIGHT     equ 0x85
BDA_EGAMISC     equ 0x87    ; b7 memory kept at the last set, b0 no cursor emulation
BDA_SWITCHES    equ 0x88
BDA_VGAFLAGS    equ 0x89    ; b7/b4 scan lines, b3 no default palette, b1 grey summing, b0 VGA active
BDA_DCC         equ 0x8A
BDA_SAVEPTR     equ 0xA8
; Tessera's own (the area SeaBIOS leaves to the video BIOS, 40:B9-40:BF)
BDA_VBEFLAGS    equ 0xB9    ; b0 linear framebuffer, b1 memory kept
BDA_VBEMODE     equ 0xBA    ; current VBE mode (0: a standard mode)

; frame offsets from BP after PUSH DS, ES, FS, GS and PUSHAD (the caller's
; 32-bit registers and segment registers all come back unchanged)
R_DI equ 0
R_SI equ 4
R_BP equ 8
R_BX equ 16
R_BL equ 16
R_BH equ 17
R_DX equ 20
R_DL equ 20
R_DH equ 21
R_CX equ 24
R_CL equ 24
R_CH equ 25
R_AX equ 28
R_AL equ 28
R_AH equ 29
R_ES equ 36
R_DS equ 38

; VGA ports
SEQ_I   equ 0x3C4
GR_I    equ 0x3CE
AC_I    equ 0x3C0
AC_R    equ 0x3C1
MISC_W  equ 0x3C2
MISC_R  equ 0x3CC
PEL_MSK equ 0x3C6
DAC_RI  equ 0x3C7
DAC_WI  equ 0x3C8
DAC_D   equ 0x3C9

rom_start:
        db 0x55, 0xAA
        db 0                    ; size in 512-byte blocks (fixrom.py)
        jmp near vga_init       ; offset 3: the initialisation entry
        db 'Tessera', 0
        times 0x18 - ($ - $$) db 0
        dw pcir                 ; 0x18: PCI data structure
        dw 0                    ; 0x1A: no PnP header
        times 0x1E - ($ - $$) db 0
        db 'IBM'                ; compatible video BIOS marker some programs test
        align 4
pcir:
        db 'PCIR'
        dw 0x5333               ; S3 Incorporated
        dw PCI_DEVICE           ; 8811 Trio64 (8810 Trio32: a patched copy)
        dw 0                    ; no vital product data
        dw 0x18                 ; structure length
        db 0                    ; structure revision
        db 0x00, 0x00, 0x03     ; class: VGA-compatible display controller
        dw 0                    ; image length (fixrom.py)
        dw 0x0100               ; code revision
        db 0                    ; x86, PC-AT compatible
        db 0x80                 ; last image
        dw 0

oem_string:     db 'Tessera S3 Trio64', 0
vendor_string:  db 'Tessera', 0
product_string: db 'S3 Trio64 (Tessera VGA BIOS)', 0
revision_string: db '1.0', 0

; --------------------------------------------------------------------------
; Initialisation: install the vectors, the BDA defaults, set mode 3.
vga_init:
        push ds
        push es
        pushad
        cld
        xor ax, ax
        mov ds, ax
        mov word [0x10 * 4], int10_entry
        mov [0x10 * 4 + 2], cs
        mov word [0x6D * 4], int10_entry     ; the VGA BIOS's own INT 10h copy
        mov [0x6D * 4 + 2], cs
        mov word [0x1F * 4], font8 + 128 * 8 ; graphics characters 80h-FFh
        mov [0x1F * 4 + 2], cs
        mov word [0x43 * 4], font8
        mov [0x43 * 4 + 2], cs
        mov ax, BDA
        mov ds, ax
        mov word [BDA_SAVEPTR], save_ptr_table
        mov [BDA_SAVEPTR + 2], cs
        mov byte [BDA_SWITCHES], 0xF9
        mov byte [BDA_VGAFLAGS], 0x51
        mov byte [BDA_DCC], 0x08
        mov byte [BDA_EGAMISC], 0x60
        mov byte [BDA_VBEFLAGS], 0
        mov word [BDA_VBEMODE], 0
        call s3_detect_init
        mov ax, 0x0003
        int 0x10
        popad
        pop es
        pop ds
        retf

; --------------------------------------------------------------------------
; INT 10h
int10_entry:
        sti
        cld
        push ds
        push es
        push fs
        push gs
        pushad
        mov bp, sp
        push BDA
        pop ds
        cmp ah, 0x4F
        je .vbe
        cmp ah, 0x1C
        ja .done
        movzx si, ah
        add si, si
        call [cs:int10_table + si]
.done:
        popad
        pop gs
        pop fs
        pop es
        pop ds
        iret
.vbe:
        call vbe_dispatch
        jmp .done

int10_table:
        dw fn_set_mode          ; 00
        dw fn_cursor_shape      ; 01
        dw fn_set_cursor        ; 02
        dw fn_get_cursor        ; 03
        dw fn_light_pen         ; 04
        dw fn_set_page          ; 05
        dw fn_scroll_up         ; 06
        dw fn_scroll_down       ; 07
        dw fn_read_char         ; 08
        dw fn_write_char_attr   ; 09
        dw fn_write_char        ; 0A
        dw fn_cga_palette       ; 0B
        dw fn_write_pixel       ; 0C
        dw fn_read_pixel        ; 0D
        dw fn_teletype          ; 0E
        dw fn_get_mode          ; 0F
        dw fn_palette           ; 10
        dw fn_font              ; 11
        dw fn_alt_select        ; 12
        dw fn_write_string      ; 13
        dw fn_none              ; 14
        dw fn_none              ; 15
        dw fn_none              ; 16
        dw fn_none              ; 17
        dw fn_none              ; 18
        dw fn_none              ; 19
        dw fn_dcc               ; 1A
        dw fn_func_info         ; 1B
        dw fn_save_state        ; 1C

fn_none:
fn_light_pen:
        mov byte [bp + R_AH], 0 ; light pen: not triggered
        ret

; --------------------------------------------------------------------------
; Small register helpers (they keep every register but AX unless noted)

; out_idx DX=index port, AL=index, AH=value
out_idx:
        out dx, ax
        ret

; in_idx DX=index port, AL=index -> AH=value
in_idx:
        out dx, al
        inc dx
        xchg al, ah
        in al, dx
        xchg al, ah
        dec dx
        ret

; crtc_port -> DX = CRTC index port from the BDA
crtc_port:
        mov dx, [BDA_CRTC]
        ret

; ac_reset: reset the attribute flip-flop (input status 1)
ac_reset:
        push dx
        mov dx, [BDA_CRTC]
        add dl, 6
        in al, dx
        pop dx
        ret

; ac_write AL=index, AH=value (palette address source left off)
ac_write:
        push dx
        push ax
        call ac_reset
        pop ax
        mov dx, AC_I
        out dx, al
        xchg al, ah
        out dx, al
        xchg al, ah
        pop dx
        ret

; ac_read AL=index -> AH=value
ac_read:
        push dx
        push ax
        call ac_reset
        pop ax
        mov dx, AC_I
        out dx, al
        inc dx
        xchg al, ah
        in al, dx
        xchg al, ah
        pop dx
        ret

; ac_enable: palette address source on (the screen shows again)
ac_enable:
        push dx
        call ac_reset
        mov dx, AC_I
        mov al, 0x20
        out dx, al
        pop dx
        ret

; find_mode AL=mode -> CS:SI entry, CF set when unknown
find_mode:
        mov si, mode_table
.next:
        cmp al, [cs:si + MODE.num]
        je .found
        add si, MODE_size
        cmp si, mode_table_end
        jb .next
        stc
        ret
.found:
        clc
        ret

; cur_mode -> CS:SI entry of the current standard mode, CF when none
cur_mode:
        push ax
        mov al, [BDA_MODE]
        and al, 0x7F
        call find_mode
        pop ax
        ret

%include "modes.inc"
%include "setmode.inc"
%include "text.inc"
%include "gfx.inc"
%include "palette.inc"
%include "font.inc"
%include "info.inc"
%include "vbe.inc"
%include "ddc.inc"

        align 16
%include "palettes.inc"
        align 16
%include "font8.inc"
%include "font14.inc"
%include "font16.inc"
rom_end:
