; SPDX-License-Identifier: LGPL-2.1-or-later
; Real-mode instruction groups, real-mode exceptions through the IVT, A20,
; CPUID/RDTSC, self-modifying code and unreal mode.
    org 0
%include "lib.inc"

; real-mode exception handler for vector V: record it, resume at [RESUME]
%macro RMVEC 1
rmvec_%1:
    push bp
    mov bp, sp
    push ax
    xor ax, ax
    mov ds, ax
    mov byte [LASTVEC], %1
    mov ax, [bp+2]
    mov [LASTEIP], ax
    mov ax, [RESUME]
    mov [bp+2], ax
    pop ax
    pop bp
    iret
%endmacro
RMVEC 0
RMVEC 4
RMVEC 5
RMVEC 6

int40:                  ; INT 0x40: AX += 1, proves the IVT path
    inc ax
    iret

%macro SETVEC 2         ; vector, handler
    mov word [%1*4], %2
    mov word [%1*4+2], 0xF000
%endmacro

%macro EXPECT 1         ; resume label for the next faulting instruction
    mov byte [LASTVEC], 0xFF
    mov word [RESUME], %1
%endmacro

smc_tmpl:               ; copied to RAM at 0x7000: mov ax, imm16 ; retf
    mov ax, 0x1111
    retf
smc_tmpl_end:

start:
    GUEST_START
    SETVEC 0, rmvec_0
    SETVEC 4, rmvec_4
    SETVEC 5, rmvec_5
    SETVEC 6, rmvec_6
    SETVEC 0x40, int40

    ; ---- arithmetic and flags
    mov al, 0xFF
    add al, 1
    OKIF c, "add8 carry"
    mov al, 0x7F
    add al, 1
    OKIF o, "add8 overflow"
    mov ax, 0x8000
    sub ax, 1
    OKIF o, "sub16 overflow"
    stc
    mov ax, 5
    adc ax, 5
    cmp ax, 11
    OKIF e, "adc"
    stc
    mov ax, 5
    sbb ax, 3
    cmp ax, 1
    OKIF e, "sbb"
    mov ax, 1
    dec ax
    OKIF z, "dec zero"
    stc
    inc ax
    OKIF c, "inc keeps cf"
    mov al, 0x03
    xor al, 0x01
    OKIF po, "parity odd"
    mov al, 0x03
    test al, 0x03
    OKIF pe, "parity even"
    mov ax, 0xFFFE
    neg ax
    cmp ax, 2
    OKIF e, "neg"
    mov ax, -5
    cmp ax, 3
    OKIF l, "signed less"
    OKIF a, "unsigned above"

    ; ---- multiply / divide
    mov ax, 300
    mov bx, 300
    mul bx
    cmp dx, 1
    OKIF e, "mul16 high"
    cmp ax, 0x5F90
    OKIF e, "mul16 low"
    mov ax, -7
    mov bx, 3
    imul bx
    cmp ax, -21
    OKIF e, "imul16"
    mov ax, 1000
    xor dx, dx
    mov bx, 7
    div bx
    cmp ax, 142
    OKIF e, "div16 quotient"
    cmp dx, 6
    OKIF e, "div16 remainder"
    mov ax, -1000
    cwd
    mov bx, 7
    idiv bx
    cmp ax, -142
    OKIF e, "idiv16 quotient"
    cmp dx, -6
    OKIF e, "idiv16 remainder"
    mov ax, 200
    imul ax, ax, 300
    OKIF o, "imul3 overflow"

    ; ---- #DE is a fault: the pushed IP is the DIV itself
    EXPECT .de_done
    xor cx, cx
.de_insn:
    div cl
.de_done:
    cmp byte [LASTVEC], 0
    OKIF e, "div by zero #DE"
    cmp word [LASTEIP], .de_insn
    OKIF e, "#DE is a fault"
    EXPECT .de2_done
    mov ax, 0x8000
    mov dx, 0xFFFF
    mov bx, -1
    idiv bx
.de2_done:
    cmp byte [LASTVEC], 0
    OKIF e, "idiv overflow #DE"

    ; ---- BCD and undocumented
    mov al, 0x79
    add al, 0x35
    daa
    OKIF c, "daa carry"
    cmp al, 0x14
    OKIF e, "daa result"
    mov al, 0x35
    sub al, 0x47
    das
    cmp al, 0x88
    OKIF e, "das result"
    mov ax, 0x0009
    add al, 8
    aaa
    cmp ax, 0x0107
    OKIF e, "aaa"
    mov al, 77
    aam 16
    cmp ax, 0x040D
    OKIF e, "aam 16"
    mov ax, 0x0304
    aad 16
    cmp ax, 0x0034
    OKIF e, "aad 16"
    stc
    db 0xD6             ; SALC
    cmp al, 0xFF
    OKIF e, "salc cf=1"
    clc
    db 0xD6
    cmp al, 0
    OKIF e, "salc cf=0"

    ; ---- shifts and rotates
    mov al, 0x81
    rol al, 1
    OKIF c, "rol cf"
    cmp al, 0x03
    OKIF e, "rol8"
    clc
    mov al, 0x80
    rcl al, 1
    OKIF c, "rcl cf"
    cmp al, 0
    OKIF e, "rcl8"
    mov ax, 0x8000
    sar ax, 15
    cmp ax, 0xFFFF
    OKIF e, "sar16"
    mov ax, 0x1234
    mov dx, 0xABCD
    shld ax, dx, 4
    cmp ax, 0x234A
    OKIF e, "shld16"
    mov cl, 33          ; count masked to 1
    mov ax, 2
    shl ax, cl
    cmp ax, 4
    OKIF e, "shift count mask"

    ; ---- strings
    mov si, str_pass
    push cs
    pop ds
    mov di, 0x600
    mov cx, 5
    cld
    rep movsb
    xor ax, ax
    mov ds, ax
    mov si, 0x600
    push cs
    pop es
    mov di, str_pass
    mov cx, 5
    repe cmpsb
    OKIF e, "rep movsb/cmpsb"
    xor ax, ax
    mov es, ax
    mov di, 0x700
    mov ax, 0xA55A
    mov cx, 8
    rep stosw
    mov di, 0x700
    mov cx, 16
    mov al, 0x5A
    repne scasb
    cmp di, 0x701
    OKIF e, "repne scasb"
    std
    mov si, 0x70F
    lodsb
    cld
    cmp si, 0x70E
    OKIF e, "std lodsb"
    cmp al, 0xA5
    OKIF e, "lodsb value"

    ; ---- stack
    mov bp, 0x1234
    enter 8, 0
    mov ax, sp
    leave
    cmp bp, 0x1234
    OKIF e, "enter/leave"
    mov cx, 0x5555
    pusha
    mov cx, 0
    popa
    cmp cx, 0x5555
    OKIF e, "pusha/popa"
    push word 0x8002
    popf
    pushf
    pop ax
    cmp ax, 0x0002      ; bits 12-15 stay clear on a 386+ in real mode
    OKIF e, "popf reserved bits"

    ; ---- software interrupts, INTO, BOUND, #UD
    mov ax, 5
    int 0x40
    cmp ax, 6
    OKIF e, "int 0x40"
    EXPECT .into_done
    mov al, 0x7F
    add al, 1
    into
.into_done:
    cmp byte [LASTVEC], 4
    OKIF e, "into"
    EXPECT .bound_done
    mov word [0x800], 10
    mov word [0x802], 20
    mov ax, 30
    bound ax, [0x800]
.bound_done:
    cmp byte [LASTVEC], 5
    OKIF e, "bound #BR"
    EXPECT .ud_done
    ud2
.ud_done:
    cmp byte [LASTVEC], 6
    OKIF e, "ud2 #UD"
    EXPECT .lock_done
    lock nop
.lock_done:
    cmp byte [LASTVEC], 6
    OKIF e, "lock nop #UD"
    EXPECT .lea_done
    db 0x8D, 0xC0       ; lea ax, ax
.lea_done:
    cmp byte [LASTVEC], 6
    OKIF e, "lea reg #UD"

    ; ---- CPUID / RDTSC
    xor eax, eax
    cpuid
    cmp ebx, 0x756E6547
    OKIF e, "cpuid vendor"
    ; the 486 model is a 486SX (no FPU); the Pentium and later have one
    mov eax, 1
    cpuid
    and edx, 1
    mov [0x904], dx
    shr eax, 8
    and al, 0x0F
    cmp al, 5
    setae al
    cmp al, dl
    OKIF e, "cpuid fpu bit per model"
    mov eax, 1
    cpuid
    and ah, 0x0F
    cmp ah, 5
    jb .no_tsc              ; the 486 has no TSC
    rdtsc
    mov ebx, eax
    mov ecx, 100
.spin: loop .spin
    rdtsc
    cmp eax, ebx
    OKIF a, "rdtsc advances"
    ; In deterministic mode time is the retired-instruction count, exact
    ; in the middle of a decoded block too: 1000 and 2000 instructions
    ; between two reads give TSC deltas in the ratio 1:2 exactly.
    rdtsc
    mov ebx, eax
    times 998 nop
    rdtsc
    sub eax, ebx
    mov esi, eax
    rdtsc
    mov ebx, eax
    times 1998 nop
    rdtsc
    sub eax, ebx
    shl esi, 1
    cmp eax, esi
    OKIF e, "tsc counts each instruction"
    test esi, esi
    OKIF nz, "tsc delta nonzero"
    ; the count so far, for run-guest.sh's run-to-run comparison
    mov si, str_tsc
    call puts_cs
    rdtsc
    push eax
    mov eax, edx
    call puthex16
    pop eax
    call puthex16
    mov al, 10
    out 0xE9, al
.no_tsc:

    ; ---- the FNINIT / FNSTSW probe: FPU-less escapes store nothing, an
    ; FPU stores a clear status word
    mov word [0x900], 0x5A5A
    fninit
    fnstsw [0x900]
    cmp word [0x904], 0
    je .no_fpu
    cmp word [0x900], 0
    OKIF e, "fpu probe"
    jmp .probe_done
.no_fpu:
    cmp word [0x900], 0x5A5A
    OKIF e, "no fpu probe"
.probe_done:

    ; ---- A20 through port 0x92
    mov al, 2
    out 0x92, al
    mov ax, 0xFFFF
    mov es, ax
    mov byte [0x0000], 0x11
    mov byte [es:0x0010], 0x22
    cmp byte [0x0000], 0x11
    OKIF e, "a20 on: no wrap"
    xor al, al
    out 0x92, al
    mov byte [es:0x0010], 0x33
    cmp byte [0x0000], 0x33
    OKIF e, "a20 off: wraps"
    mov al, 2
    out 0x92, al
    in al, 0x92
    cmp al, 2
    OKIF e, "port92 reads back"

    ; ---- self-modifying code: the code cache sees the store
    xor ax, ax
    mov es, ax
    push cs
    pop ds
    mov si, smc_tmpl
    mov di, 0x7000
    mov cx, smc_tmpl_end - smc_tmpl
    rep movsb
    xor ax, ax
    mov ds, ax
    call 0x0000:0x7000
    cmp ax, 0x1111
    OKIF e, "smc first"
    mov word [0x7001], 0x2222
    call 0x0000:0x7000
    cmp ax, 0x2222
    OKIF e, "smc rewritten"

    ; ---- unreal mode: a 4 GiB DS limit survives the return to real mode
    lgdt [cs:gdtr]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp .pm16
.pm16:
    mov bx, 0x08
    mov ds, bx
    and al, 0xFE
    mov cr0, eax
    jmp .rm16
.rm16:
    xor ax, ax
    mov ds, ax
    mov dword [dword 0x200000], 0xCAFEBABE
    cmp dword [dword 0x200000], 0xCAFEBABE
    OKIF e, "unreal mode"
    mov ax, [FAILS]
    jmp finish16

str_tsc: db "TSC ", 0

gdtr: dw 15
      dd gdt + ROMBASE
align 8
gdt:  dq 0
      dq 0x00CF93000000FFFF   ; flat data, 4 GiB, accessed

%include "reset.inc"
