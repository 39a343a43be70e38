; SPDX-License-Identifier: LGPL-2.1-or-later
; Guest for the display benchmarks (bench-display.py), booted by SeaBIOS
; from a raw disk on any PC with a VBE BIOS (Tessera's pc with the S3 and
; its own BIOS, QEMU's std VGA with SeaVGABIOS). Assembled three times:
;   -DCASE=0  text: mode 03h, a screen of text, the cursor blinking; idle
;   -DCASE=1  graphics: VBE 1024x768x16 (mode 117h, linear framebuffer)
;             drawn once; idle
;   -DCASE=2  full-screen change: the same mode, the whole framebuffer
;             rewritten at each tick of PIT channel 0 set to 60 Hz
; "READY" on port E9h says the picture is up; from then on the guest
; sleeps in HLT between interrupts (CASE 2: writes one '.' per 60 frames).
; The framebuffer is written in unreal mode (32-bit offsets from real
; mode, ES given a 4 GiB limit before each fill, since a BIOS may reload
; it), so the same code runs under any BIOS.

%define DEBUGCON 0xE9
%define MINFO 0x9000                ; ModeInfoBlock (256)
%define MODE 0x117
%ifndef CASE
%define CASE 1
%endif

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
%if CASE == 0
    mov ax, 0x0003
    int 0x10
    mov cx, 23                      ; lines of text, then the cursor blinks
.line:
    mov si, text
.ch:
    lodsb
    test al, al
    jz .eol
    mov ah, 0x0E
    mov bx, 0x0007
    int 0x10
    jmp .ch
.eol:
    loop .line
%else
    ; mode information: the framebuffer's address and pitch
    mov ax, 0x4F01
    mov cx, MODE
    mov di, MINFO
    int 0x10
    cmp ax, 0x004F
    jne fail
    mov ax, 0x4F02
    mov bx, MODE | 0x4000           ; linear framebuffer
    int 0x10
    cmp ax, 0x004F
    jne fail
    mov eax, 0x07E0F81F             ; magenta and green stripes
    call fill
%endif
    mov si, ready
    call puts
%if CASE == 2
    ; PIT channel 0, mode 2, 1193182 / 60 Hz
    cli
    mov al, 0x34
    out 0x43, al
    mov ax, 19886
    out 0x40, al
    mov al, ah
    out 0x40, al
    sti
    xor ebp, ebp                    ; frames
.frame:
    hlt
    inc ebp
    mov eax, ebp
    imul eax, 0x00010001 * 37
    call fill
    xor edx, edx
    mov eax, ebp
    mov ecx, 60
    div ecx
    test edx, edx
    jnz .frame
    mov al, '.'
    out DEBUGCON, al
    jmp .frame
%else
.idle:
    hlt
    jmp .idle
%endif

fail:
    mov si, failed
    call puts
    mov al, 0x7E
    out 0xF4, al
    hlt
    jmp fail

puts:
    lodsb
    test al, al
    jz .d
    out DEBUGCON, al
    jmp puts
.d: ret

%if CASE != 0
; Fill the visible 1024x768x16 picture with EAX (pitch from the mode
; info): ES gets a 4 GiB data segment in protected mode and keeps its
; limit back in real mode (unreal mode), then one a32 REP STOSD.
fill:
    mov edx, eax
    cli
    lgdt [gdtr]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp .pm
.pm:
    mov bx, 8
    mov es, bx
    and al, 0xFE
    mov cr0, eax
    jmp .rm
.rm:
    xor ax, ax
    mov es, ax
    sti
    mov eax, edx
    mov edi, [MINFO + 0x28]         ; PhysBasePtr
    movzx ecx, word [MINFO + 0x10]  ; BytesPerScanLine
    imul ecx, 768 / 4
    a32 rep stosd
    ret

gdtr:
    dw gdt_end - gdt - 1
    dd gdt
gdt:
    dq 0
    dq 0x00CF92000000FFFF           ; data, base 0, limit 4 GiB, 32-bit
gdt_end:
%endif

ready: db "READY", 10, 0
failed: db "FAIL: VBE mode 117h", 10, 0
%if CASE == 0
text: db "Tessera display benchmark: a static text screen, the cursor blinking.", 13, 10, 0
%endif
    times 510 - ($ - $$) db 0
    dw 0xAA55
    times 1024 * 1024 - ($ - $$) db 0
