; SPDX-License-Identifier: LGPL-2.1-or-later
; Guest program for the VBE tests on the S3 Trio64 (same protocol as
; vgatest.asm: PASS/FAIL, SCREEN, DONE on port E9h, test-exit at F4h).
; For each mode: 4F01 mode information, 4F02 set (banked), 64 scan lines of
; a byte pattern written through the 64 KiB window with 4F05 (byte at
; line offset o of line y = (o + 3y) & 0FFh), a screen check, then the
; scan-line, display-start and window read-backs.

%define LOAD_SECTORS 16
%define INFO 0x9000                 ; VbeInfoBlock (512)
%define MINFO 0x9200                ; ModeInfoBlock (256)
%define EDID 0x9300                 ; EDID block (128)

    bits 16
    org 0x7C00

%define BOOT_SECTORS LOAD_SECTORS
%include "../guests/diskboot.inc"

%include "report.inc"

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
    ; 4F08: 8-bit palette entries refused (the Trio's DAC has 6)
    mov ax, 0x4F08
    xor bl, bl
    mov bh, 8
    int 0x10
    cmp ax, 0x034F
    CHECK n_dac8
    call ddc_test

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
    call pm_test                    ; in the last mode (117h: 1024x768, 16 bpp)
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

; ---- 4F15: DDC ------------------------------------------------------------------
; Capabilities (DDC2), the EDID base block read through INT 10h (header,
; checksum, the preferred timing 1024x768 in the first detailed timing
; descriptor), printed as "EDID <hex>" for run-vbe.py, and no block 1 (the
; monitor has no extensions). The mode tests after it write through the
; window, which they could not if the BIOS left the MMIO window on.
ddc_test:
    mov ax, 0x4F15
    xor bl, bl
    xor cx, cx
    xor di, di
    mov es, di
    int 0x10
    cmp ax, 0x004F
    jne .c
    test bl, 2
    jz .c
    cmp bh, 0
    je .c2
    xor ax, ax                      ; ZF: DDC2 and a transfer time
    jmp .c
.c2:
    or ax, 1
.c:
    CHECK n_ddccaps
    mov di, EDID
    mov cx, 128
    mov al, 0x55
    rep stosb
    mov ax, 0x4F15
    mov bl, 1
    xor cx, cx
    xor dx, dx
    mov di, EDID
    int 0x10
    cmp ax, 0x004F
    jne .r
    cmp dword [EDID], 0xFFFFFF00
    jne .r
    cmp dword [EDID + 4], 0x00FFFFFF
    jne .r
    xor si, si
    xor al, al
.sum:
    add al, [EDID + si]
    inc si
    cmp si, 128
    jb .sum
    test al, al
.r:
    CHECK n_ddcread
    ; the first detailed timing: a pixel clock, 1024 x 768 active
    cmp word [EDID + 0x36], 0
    je .p
    movzx ax, byte [EDID + 0x3A]
    shr ax, 4
    mov ah, al
    mov al, [EDID + 0x38]
    cmp ax, 1024
    jne .p
    movzx ax, byte [EDID + 0x3D]
    shr ax, 4
    mov ah, al
    mov al, [EDID + 0x3B]
    cmp ax, 768
.p:
    CHECK n_ddcpref
    mov si, s_edid
    call puts
    xor si, si
.hex:
    mov al, [EDID + si]
    call hex2
    inc si
    cmp si, 128
    jb .hex
    mov al, 10
    out DEBUGCON, al
    ; block 1: none
    mov ax, 0x4F15
    mov bl, 1
    xor cx, cx
    mov dx, 1
    mov di, EDID
    int 0x10
    cmp ax, 0x014F
    CHECK n_ddcblock1
    ret

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

; ---- 4F0A: the protected-mode interface -----------------------------------------
; The table is copied to PMCOPY and its functions called from a flat 32-bit
; code segment, as a protected-mode program would; the results are read
; back through the real-mode functions.
%define PMCOPY 0x20000

pm_test:
    mov ax, 0x4F0A
    xor bl, bl
    int 0x10
    cmp ax, 0x004F
    jne .t
    mov [pm_len], cx
    cmp cx, 10
    jb .bad
    ; copy it (ES:DI, CX bytes) to PMCOPY
    push ds
    push es
    mov si, di
    push es
    pop ds
    mov ax, PMCOPY >> 4
    mov es, ax
    xor di, di
    rep movsb
    pop es
    pop ds
    xor ax, ax                      ; ES was the table's segment
    mov es, ax
    ; every offset inside; the port list names 3D4h and ends with FFFFh, FFFFh
    push ds
    mov ax, PMCOPY >> 4
    mov ds, ax
    xor bx, bx
    xor dx, dx                      ; DX: 3D4h seen
.off:
    mov ax, [bx]
    cmp ax, [cs:pm_len]
    jae .badds
    add bx, 2
    cmp bx, 8
    jb .off
    mov si, [6]
.port:
    lodsw
    cmp si, [cs:pm_len]
    ja .badds
    cmp ax, 0x3D4
    jne .p2
    inc dx
.p2:
    cmp ax, 0xFFFF
    jne .port
    cmp word [si], 0xFFFF           ; no memory areas
    jne .badds
    pop ds
    test dx, dx
    jz .bad
    cmp ax, ax
    jmp .t
.badds:
    pop ds
.bad:
    or ax, 1                        ; ZF clear
.t:
    CHECK n_pmtable
    jnz .ret
    ; set window: bank 7, read back through 4F05
    call pm_prep
    mov dword [pm_ebx], 0
    mov dword [pm_edx], 7
    mov ax, [fs:0]
    call pm_call_off
    cmp ax, 0x004F
    jne .w
    mov ax, 0x4F05
    mov bx, 0x0100
    int 0x10
    cmp dx, 7
.w:
    CHECK n_pmwindow
    ; display start: line 3 (1536 units of 4 bytes at 2048 bytes a line),
    ; then line 200 (102400: above 64K units), read back through 4F07
    mov dword [pm_ebx], 0
    mov dword [pm_ecx], 1536
    mov dword [pm_edx], 0
    mov ax, [fs:2]
    call pm_call_off
    cmp ax, 0x004F
    jne .s
    mov ax, 0x4F07
    mov bx, 1
    int 0x10
    cmp dx, 3
    jne .s
    mov dword [pm_ebx], 0x80        ; at the retrace
    mov dword [pm_ecx], 102400 & 0xFFFF
    mov dword [pm_edx], 102400 >> 16
    mov ax, [fs:2]
    call pm_call_off
    cmp ax, 0x004F
    jne .s
    mov ax, 0x4F07
    mov bx, 1
    int 0x10
    cmp dx, 200
    jne .s
    cmp cx, 0
.s:
    CHECK n_pmstart
    ; palette: entries 10 and 11 from ES:EDI, read back through 4F09
    mov dword [pm_ebx], 0
    mov dword [pm_ecx], 2
    mov dword [pm_edx], 10
    mov dword [pm_edi], pm_pal
    mov ax, [fs:4]
    call pm_call_off
    cmp ax, 0x004F
    jne .p
    mov ax, 0x4F09
    mov bl, 1
    mov cx, 2
    mov dx, 10
    mov di, pm_palback
    int 0x10
    cmp ax, 0x004F
    jne .p
    mov eax, [pm_palback]
    cmp eax, [pm_pal]
    jne .p
    mov eax, [pm_palback + 4]
    cmp eax, [pm_pal + 4]
.p:
    CHECK n_pmpalette
    ; back to the start of memory
    mov ax, 0x4F07
    xor bx, bx
    xor cx, cx
    xor dx, dx
    int 0x10
.ret:
    ret

; pm_prep: FS = the copied table
pm_prep:
    push ax
    mov ax, PMCOPY >> 4
    mov fs, ax
    pop ax
    ret

; pm_call_off AX: call the function at PMCOPY + AX in 32-bit protected
; mode with EBX, ECX, EDX, EDI from pm_ebx...; -> AX as it returned
pm_call_off:
    pushad
    push ds
    push es
    movzx eax, ax
    add eax, PMCOPY
    mov [pm_fn], eax
    cli
    lgdt [pm_gdtr]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp 0x08:.p32
    bits 32
.p32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    movzx esp, sp
    mov ebx, [pm_ebx]
    mov ecx, [pm_ecx]
    mov edx, [pm_edx]
    mov edi, [pm_edi]
    call [pm_fn]
    mov [pm_eax], eax
    jmp 0x18:.p16
    bits 16
.p16:
    mov ax, 0x20
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov eax, cr0
    and al, 0xFE
    mov cr0, eax
    jmp 0:.rm
.rm:
    xor ax, ax
    mov ds, ax
    mov ss, ax
    pop es
    pop ds
    sti
    popad
    mov ax, [pm_eax]
    ret

    align 8
pm_gdt:
    dq 0
    dq 0x00CF9A000000FFFF           ; 08h: 32-bit code, flat
    dq 0x00CF92000000FFFF           ; 10h: 32-bit data, flat
    dq 0x00009A000000FFFF           ; 18h: 16-bit code, base 0
    dq 0x000092000000FFFF           ; 20h: 16-bit data, base 0
pm_gdtr:
    dw pm_gdtr - pm_gdt - 1
    dd pm_gdt
pm_len: dw 0
pm_fn:  dd 0
pm_eax: dd 0
pm_ebx: dd 0
pm_ecx: dd 0
pm_edx: dd 0
pm_edi: dd 0
pm_pal: db 0x01, 0x02, 0x03, 0, 0x3F, 0x20, 0x11, 0   ; blue, green, red, pad
pm_palback: times 8 db 0xAA

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
n_dac8:   db 'vbe-dac-8bit-refused', 0
n_ddccaps: db 'vbe-ddc-capabilities', 0
n_ddcread: db 'vbe-ddc-read-edid', 0
n_ddcpref: db 'vbe-ddc-preferred-1024x768', 0
n_ddcblock1: db 'vbe-ddc-no-block-1', 0
s_edid:   db 'EDID ', 0
n_pmtable: db 'vbe-pm-table', 0
n_pmwindow: db 'vbe-pm-window', 0
n_pmstart: db 'vbe-pm-display-start', 0
n_pmpalette: db 'vbe-pm-palette', 0

modes: dw 0x101, 0x110, 0x111, 0x112, 0x103, 0x105, 0x117, 0xFFFF
mode:  dw 0
pitch: dw 0
bank:  dw 0

    times (LOAD_SECTORS + 1) * 512 - ($ - $$) db 0
    times 64 * 512 - ($ - $$) db 0
