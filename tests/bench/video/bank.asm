; SPDX-License-Identifier: LGPL-2.1-or-later
; A bank-switching guest: a 640x480x8 Bochs VBE mode (DISPI ports
; 0x1CE/0x1CF, which QEMU's std VGA has too) drawn through the 64 KiB
; window at A0000, as a DOS game or a VESA driver without a linear
; framebuffer does. Assembled three ways:
;   -DITERATIONS=N      the benchmark: N bank switches, each followed by
;                       256 bytes of drawing; then every bank is summed
;                       back through the window and "CHECKSUM x" printed
;                       on port 0xE9 (the same on every emulator);
;   -DPLANAR            the benchmark's MMIO case instead: 16-colour planar
;                       VGA memory (write logic on, no RAM fast path), N
;                       passes of 64 KiB of word stores through the window,
;                       then every plane read back and summed;
;   -DSAMEBANK          as above, but the bank register is written with
;                       the bank it already holds: the same work without
;                       a single memory-map change (the baseline);
;   -DCHECK             a test: each bank gets its own pattern, is read
;                       back after other banks were selected (a stale
;                       translation of the window shows the wrong bank),
;                       the window goes dark when VBE is switched off and
;                       shows the banks again when it is back on. Exits
;                       0x10 when all is well, 0x11 (and a message) if not.
; Ends through test-exit (0xF4) and the Bochs shutdown port.
    org 0
%ifndef ITERATIONS
%define ITERATIONS 1
%endif
%define BANKS 5             ; 640 * 480 bytes

[bits 16]
%macro dispi 2
    mov dx, 0x1CE
    mov ax, %1
    out dx, ax
    inc dx
    mov ax, %2
    out dx, ax
%endmacro

%macro vgareg 3                 ; index port, index, value
    mov dx, %1
    mov ax, (%3 << 8) | %2
    out dx, ax
%endmacro

start:
    cli
    xor ax, ax
    mov ss, ax
    mov sp, 0x7C00
    mov ds, ax
%ifdef PLANAR
    mov dx, 0x3C2
    mov al, 0x63            ; misc: RAM enabled, colour
    out dx, al
    vgareg 0x3C4, 2, 0x0F   ; map mask: all planes
    vgareg 0x3C4, 4, 0x06   ; memory mode: no chain-4, no odd/even
    vgareg 0x3CE, 5, 0x00   ; write mode 0, read mode 0
    vgareg 0x3CE, 6, 0x05   ; graphics, A0000 64K
    vgareg 0x3CE, 3, 0x00   ; no rotate, function replace
    vgareg 0x3CE, 1, 0x00   ; no set/reset
    vgareg 0x3CE, 8, 0xFF   ; bit mask
    mov ax, 0xA000
    mov es, ax
    cld
    mov ebp, ITERATIONS
.pass:
    mov ax, bp
    xor di, di
    mov cx, 0x8000
    rep stosw
    dec ebp
    jnz .pass
    xor ecx, ecx
    xor bx, bx
.plane:
    mov dx, 0x3CE           ; read map select
    mov al, 4
    mov ah, bl
    out dx, ax
    xor edx, edx
    xor si, si
.psum:
    movzx eax, byte [es:si]
    imul edx, edx, 31
    add edx, eax
    inc si
    jnz .psum
    add ecx, edx
    inc bx
    cmp bx, 4
    jb .plane
    mov edx, ecx
    jmp report
%else
    dispi 1, 640
    dispi 2, 480
    dispi 3, 8
    dispi 4, 0x01           ; enabled, banked (no linear framebuffer)
    mov ax, 0xA000
    mov es, ax
    cld
%ifdef CHECK
    ; every bank: its own dword pattern over the whole window
    xor bx, bx
.fill:
    dispi 5, bx
    call pattern
    xor di, di
    mov cx, 0x4000
    rep stosd
    inc bx
    cmp bx, BANKS
    jb .fill
    ; read back in another order, byte and dword accesses, every page
    mov bx, BANKS
.back:
    dec bx
    dispi 5, bx
    call pattern
    xor si, si
.page:
    cmp [es:si], eax
    jne fail
    cmp [es:si + 0xFFC], eax
    jne fail
    cmp [es:si + 0x7FF], al
    jne fail
    add si, 0x1000
    jnz .page
    ; a write after the switch lands in this bank only
    mov byte [es:0x2345], bl
    test bx, bx
    jnz .back
    xor bx, bx
.again:
    dispi 5, bx
    cmp [es:0x2345], bl
    jne fail
    inc bx
    cmp bx, BANKS
    jb .again
    ; VBE off: nothing answers in the window (the VGA's RAM is disabled)
    dispi 4, 0
    cmp dword [es:0x1000], 0xFFFFFFFF
    jne fail
    mov dword [es:0x1000], 0x12345678
    ; back on, keeping memory: bank 4 is still selected... after enable the
    ; bank register is 0 again (as Bochs)
    dispi 4, 0x81
    mov bx, 0
    call pattern
    cmp [es:0x1000], eax
    jne fail
    dispi 5, 3
    mov bx, 3
    call pattern
    cmp [es:0x3000], eax
    jne fail
    mov si, ok_msg
    call puts
    mov al, 0x10
    out 0xF4, al
    jmp shutdown
fail:
    mov si, fail_msg
    call puts
    mov al, 0x11
    out 0xF4, al
    jmp shutdown

pattern:                    ; bx: bank -> eax
    movzx eax, bx
    inc eax
    imul eax, eax, 0x01010101
    ret
%else
    mov ebp, ITERATIONS
    xor ebx, ebx            ; bank
    xor edi, edi
.switch:
    dispi 5, bx
    mov eax, ebp
    mov cx, 64
    rep stosd               ; 256 bytes, di moves on (wraps in the window)
%ifndef SAMEBANK
    inc bx
    cmp bx, BANKS
    jb .same
    xor bx, bx
.same:
%endif
    dec ebp
    jnz .switch
    ; sum every bank back through the window (dispi uses dx: ebp sums)
    xor ebp, ebp
    xor bx, bx
.sumbank:
    dispi 5, bx
    xor si, si
.sum:
    imul ebp, ebp, 31
    add ebp, [es:si]
    add si, 4
    jnz .sum
    inc bx
    cmp bx, BANKS
    jb .sumbank
    mov edx, ebp
%endif
%endif
%ifndef CHECK
report:
    mov si, sum_msg
    call puts
    mov eax, edx
    call hex
    mov al, 10
    out 0xE9, al
    mov al, 0x10
    out 0xF4, al
    jmp shutdown

hex:                        ; eax
    mov cx, 8
.d: rol eax, 4
    push eax
    and al, 0xF
    add al, '0'
    cmp al, '9'
    jbe .o
    add al, 7
.o: out 0xE9, al
    pop eax
    loop .d
    ret
%endif

puts:                       ; cs:si
    cs lodsb
    test al, al
    jz .e
    out 0xE9, al
    jmp puts
.e: ret

shutdown:
    mov si, shut            ; Bochs: "Shutdown" to port 0x8900
    mov dx, 0x8900
.sh: cs lodsb
    test al, al
    jz .halt
    out dx, al
    jmp .sh
.halt:
    hlt
    jmp .halt

%ifdef CHECK
ok_msg:   db "DONE bank switching", 10, 0
fail_msg: db "FAIL bank: the window shows stale memory", 10, 0
%else
sum_msg:  db "CHECKSUM ", 0
%endif
shut:     db "Shutdown", 0

    times 0xFFF0 - ($ - $$) db 0xFF
reset:
    jmp 0xF000:start
    times 0x10000 - ($ - $$) db 0xFF
