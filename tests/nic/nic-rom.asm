; SPDX-License-Identifier: LGPL-2.1-or-later
; A ROM guest that drives the DEC 21041 the way a driver does, through the
; CPU, the PCI configuration mechanism and the PIIX3's interrupt routing
; (tests/nic/nic-rom.xml): find 1011:0014, place its I/O BAR, reset it,
; read the station address from the serial ROM by bit-banging CSR9, load a
; perfect-filtering setup frame, send a frame in internal loopback and
; receive it back, see INTA# reach the slave 8259 as IRQ 11, run the
; general-purpose timer, and find no link with an empty <net> slot.
    org 0
%include "lib.inc"

%define NIC_DEVFN 0x18
%define IOB       0xC100
%define RXR       0x1000
%define TXR       0x1100
%define RXBUF     0x2000
%define TXBUF     0x3000
%define SETUPF    0x4000
%define MAC       0x0600          ; 6 bytes read from the SROM

%macro CSRW 2                     ; CSR number, value (eax clobbered)
    mov dx, IOB + 8 * %1
    mov eax, %2
    out dx, eax
%endmacro
%macro CSRR 1                     ; eax = CSR
    mov dx, IOB + 8 * %1
    in eax, dx
%endmacro

cfg_addr:                         ; eax = bus/devfn/reg address -> CF8
    mov dx, 0xCF8
    out dx, eax
    mov dx, 0xCFC
    ret

; Microwire read of SROM word bx (6 address bits) into ax
srom_word:
    push cx
    push di
    mov di, 0x0180                ; 1 1 0 start+READ, then the address
    or di, bx
    CSRW 9, 0x4800
    CSRW 9, 0x4801
    mov cx, 9
.cmd:
    dec cx
    mov eax, 0x4801
    bt di, cx
    jnc .z
    or al, 4
.z: mov dx, IOB + 8 * 9
    out dx, eax
    or al, 2
    out dx, eax
    and al, ~2
    out dx, eax
    test cx, cx
    jnz .cmd
    xor di, di
    mov cx, 16
.data:
    mov eax, 0x4803
    out dx, eax
    in eax, dx
    shr eax, 4                    ; DO (bit 3) into CF
    rcl di, 1
    mov eax, 0x4801
    out dx, eax
    loop .data
    CSRW 9, 0x4800
    mov ax, di
    pop di
    pop cx
    ret

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7C00
    mov word [FAILS], 0

    ; ---- PCI: the function, its BAR, bus mastering, PIRQs to IRQ 11
    mov eax, 0x80000000 | NIC_DEVFN << 8
    call cfg_addr
    in eax, dx
    cmp eax, 0x00141011
    OKIF e, "pci id 1011:0014"
    mov eax, 0x80000000 | NIC_DEVFN << 8 | 0x08
    call cfg_addr
    in eax, dx
    cmp eax, 0x02000011
    OKIF e, "class ethernet, revision 0x11"
    mov eax, 0x80000000 | NIC_DEVFN << 8 | 0x10
    call cfg_addr
    mov eax, IOB
    out dx, eax
    mov eax, 0x80000000 | NIC_DEVFN << 8 | 0x04
    call cfg_addr
    mov ax, 0x0005                ; I/O decode, bus master
    out dx, ax
    mov eax, 0x80000000 | 0x08 << 8 | 0x60
    call cfg_addr
    mov eax, 0x0B0B0B0B
    out dx, eax

    ; ---- the 8259s: initialised, everything masked (IRR still latches)
    mov al, 0x11
    out 0x20, al
    out 0xA0, al
    mov al, 0x08
    out 0x21, al
    mov al, 0x70
    out 0xA1, al
    mov al, 4
    out 0x21, al
    mov al, 2
    out 0xA1, al
    mov al, 1
    out 0x21, al
    out 0xA1, al
    mov al, 0xFF
    out 0x21, al
    out 0xA1, al

    ; ---- CSRs after a software reset
    CSRW 0, 1
    CSRR 0
    cmp eax, 0xFE000000
    OKIF e, "csr0 after software reset"
    CSRR 5
    and eax, 0x007E0000
    OKIF z, "receive and transmit processes stopped"

    ; ---- the serial ROM: station address at bytes 20-25 (words 10-12)
    mov bx, 10
    call srom_word
    mov [MAC], ax
    mov bx, 11
    call srom_word
    mov [MAC + 2], ax
    mov bx, 12
    call srom_word
    mov [MAC + 4], ax
    cmp dword [MAC], 0x12005452
    OKIF e, "srom station address 52:54:00:12"
    cmp word [MAC + 4], 0x5634
    OKIF e, "srom station address :34:56"
    mov bx, 13
    call srom_word
    cmp ah, 30
    OKIF e, "srom info leaf offset"

    ; ---- setup frame: our address in entry 0, broadcast in the others
    mov di, SETUPF
    mov cx, 96
    mov ax, 0xFFFF
    rep stosw
    mov ax, [MAC]
    mov [SETUPF], ax
    mov ax, [MAC + 2]
    mov [SETUPF + 4], ax
    mov ax, [MAC + 4]
    mov [SETUPF + 8], ax

    ; ---- lists: two receive descriptors, three transmit descriptors
    mov dword [RXR], 0x80000000
    mov dword [RXR + 4], 1536
    mov dword [RXR + 8], RXBUF
    mov dword [RXR + 16], 0x80000000
    mov dword [RXR + 20], (1 << 25) | 1536
    mov dword [RXR + 24], RXBUF + 0x800
    mov dword [TXR], 0x80000000
    mov dword [TXR + 4], (1 << 27) | 192          ; SET
    mov dword [TXR + 8], SETUPF
    mov dword [TXR + 16], 0
    mov dword [TXR + 32], 0
    mov dword [TXR + 36], (1 << 25)

    ; the frame: to ourselves, from ourselves, a pattern
    mov si, MAC
    mov di, TXBUF
    movsd
    movsw
    mov si, MAC
    movsd
    movsw
    mov ax, 0x0008
    stosw
    mov cx, 100
    mov al, 0x5A
.fill:
    stosb
    add al, 7
    loop .fill

    CSRW 3, RXR
    CSRW 4, TXR
    CSRW 7, 0x00010045            ; NIS, TI, TU, RI
    CSRW 6, 0x00002402            ; ST, SR, internal loopback
    CSRR 6
    and eax, 0x15
    OKIF z, "perfect filtering reported in csr6"
    test dword [TXR], 0x80000000
    OKIF z, "setup frame descriptor handed back"

    mov dword [TXR + 20], 0xE0000000 | 114        ; IC, LS, FS
    mov dword [TXR + 24], TXBUF
    mov dword [TXR + 16], 0x80000000
    CSRW 1, 1
    test dword [TXR + 16], 0x80000000
    OKIF z, "frame descriptor handed back"
    cmp dword [TXR + 16], 0x40000000                ; no error; bit 30 closes the frame
    OKIF e, "no transmit error"
    CSRR 5
    and eax, 0x41
    cmp eax, 0x41
    OKIF e, "csr5 TI and RI"
    mov eax, [RXR]
    and eax, 0xBFFF8300
    cmp eax, (118 << 16) | 0x0300
    OKIF e, "received: FS LS, 114 bytes + FCS, no error"
    mov si, TXBUF
    mov di, RXBUF
    mov cx, 114
    repe cmpsb
    OKIF e, "received data equal to the sent data"

    ; INTA# -> PIRQ -> IRQ 11 -> slave IR3
    mov al, 0x0A
    out 0xA0, al
    in al, 0xA0
    test al, 0x08
    OKIF nz, "interrupt request on irq 11"
    CSRW 5, 0x1FFFF
    CSRR 5
    test eax, 0x18000
    OKIF z, "status cleared, summaries down"

    ; ---- general-purpose timer: 2 counts of 204.8 us
    CSRW 7, 0x00008800           ; AIS, TM
    CSRW 11, 2
    mov ecx, 2000000
.gpt:
    CSRR 5
    test eax, 0x800
    jnz .gpt_done
    dec ecx
    jnz .gpt
.gpt_done:
    test eax, 0x800
    OKIF nz, "general-purpose timer expired"

    ; ---- the SIA with an empty <net>: no link
    CSRW 13, 0
    CSRW 14, 0x7F3F
    CSRW 15, 0x0008
    CSRW 13, 0xEF01
    mov ecx, 20000
.spin:
    dec ecx
    jnz .spin
    CSRR 12
    and eax, 6
    cmp eax, 6
    OKIF e, "no cable: network connection error and link fail"

    jmp finish16

%include "reset.inc"
