; SPDX-License-Identifier: LGPL-2.1-or-later
; ACPI as an operating system sees it, on a disk SeaBIOS boots: the tables
; the firmware built for this machine, the PM1 blocks they point at, the
; SCI, a reset and an ACPI soft-off. What Linux's `reboot` and `poweroff`
; need, checked without an operating system.
;
; Boot 1: find the RSDP (ACPI 1.0 5.2.4: "RSD PTR " on a 16-byte boundary
;   in E0000-FFFFF, checksum), RSDT, FADT (SCI_INT, SMI_CMD, ACPI_ENABLE,
;   PM1a_EVT_BLK, PM1a_CNT_BLK, PM_TMR_BLK and their lengths) and DSDT
;   (\_S5 package: SLP_TYPa); enable ACPI mode through SMI_CMD (SCI_EN
;   must come on); the PM timer must count; its overflow event (TMR_STS
;   with TMR_EN) must reach the interrupt controller as IRQ SCI_INT, level
;   triggered (read in the 8259's IRR: masked, nothing is delivered). Then mark CMOS
;   byte 0x48 and reset through the keyboard controller (command FE).
; Boot 2 (the mark is there): clear it and write SLP_TYPa | SLP_EN to
;   PM1a_CNT. The machine must be off now: the run ends with status 0.
;
; Lines go to the debug console (port 0xE9): "ok ...", "FAIL ...", "boot
; N". A failure ends the run through the test-exit port with a non-zero
; status; so does still running after the power-off write.

%define CMOS_MARK 0x48
%define MARK      0xA5
%define STACK     0x7000
; Results of the table walk, kept in low RAM.
%define V_PMEVT   0x600
%define V_PMCNT   0x604
%define V_PMTMR   0x608
%define V_SLPTYP  0x60C
%define V_SCI     0x610
%define V_RSDT    0x614

[bits 16]
[org 0x7C00]
start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, STACK
    ; The rest of the program: sectors 2.. right behind the boot sector.
    mov ax, 0x0200 + (SECTORS - 1)
    mov cx, 0x0002
    xor dh, dh
    mov bx, 0x7E00
    int 0x13
    jc .readerr
    ; A20 on (port 92h) and into flat 32-bit protected mode.
    in al, 0x92
    or al, 2
    and al, 0xFE
    out 0x92, al
    lgdt [gdtr]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp 0x08:pm32
.readerr:
    mov al, 0x7F
    out 0xF4, al
    hlt
    jmp .readerr

align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF       ; 08: code, flat
    dq 0x00CF92000000FFFF       ; 10: data, flat
gdtr:
    dw gdtr - gdt - 1
    dd gdt

    times 510 - ($ - $$) db 0
    dw 0xAA55

; ---- 32-bit part --------------------------------------------------------------
[bits 32]
pm32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, STACK

    mov al, CMOS_MARK
    call cmos_read
    cmp al, MARK
    je boot2

    mov esi, s_boot1
    call puts
    call acpi_walk
    call acpi_checks
    ; Mark, then reset the way Linux's `reboot` does on a machine whose
    ; FADT has no reset register: pulse the 8042's reset line.
    mov al, CMOS_MARK
    mov ah, MARK
    call cmos_write
    mov esi, s_reset
    call puts
    mov al, 0xFE
    out 0x64, al
    mov ecx, 10000000
.wait_reset:
    dec ecx
    jnz .wait_reset
    mov esi, s_noreset
    jmp fail

boot2:
    mov al, CMOS_MARK
    xor ah, ah
    call cmos_write
    mov esi, s_boot2
    call puts
    call acpi_walk
    ; Soft off: SLP_TYPa from \_S5 with SLP_EN (bit 13).
    mov esi, s_off
    call puts
    mov edx, [V_PMCNT]
    mov eax, [V_SLPTYP]
    shl eax, 10
    or eax, 1 << 13
    out dx, ax
    mov ecx, 10000000
.wait_off:
    dec ecx
    jnz .wait_off
    mov esi, s_nooff
    jmp fail

; ---- the tables ---------------------------------------------------------------

; Find RSDP -> RSDT -> FADT -> DSDT; fill the V_ variables or fail.
acpi_walk:
    mov ebx, 0xE0000
.scan:
    cmp dword [ebx], 'RSD '
    jne .next
    cmp dword [ebx + 4], 'PTR '
    jne .next
    mov esi, ebx
    mov ecx, 20
    call checksum
    jz .found
.next:
    add ebx, 16
    cmp ebx, 0x100000
    jb .scan
    mov esi, s_nosrdp
    jmp fail
.found:
    mov esi, s_rsdp
    call puts
    mov ebx, [ebx + 16]             ; RsdtAddress
    mov [V_RSDT], ebx
    cmp dword [ebx], 'RSDT'
    jne .bad_rsdt
    mov esi, ebx
    mov ecx, [ebx + 4]
    call checksum
    jnz .bad_rsdt
    mov esi, s_rsdt
    call puts
    ; Entries follow the 36-byte header.
    mov ecx, [ebx + 4]
    sub ecx, 36
    shr ecx, 2
    lea edi, [ebx + 36]
.entry:
    test ecx, ecx
    jz .nofadt
    mov edx, [edi]
    cmp dword [edx], 'FACP'
    je .fadt
    add edi, 4
    dec ecx
    jmp .entry
.nofadt:
    mov esi, s_nofadt
    jmp fail
.bad_rsdt:
    mov esi, s_badrsdt
    jmp fail
.fadt:
    mov ebx, edx
    mov esi, ebx
    mov ecx, [ebx + 4]
    call checksum
    jnz .bad_fadt
    cmp dword [ebx + 4], 116        ; ACPI 1.0 FADT length
    jb .bad_fadt
    mov esi, s_fadt
    call puts
    movzx eax, word [ebx + 46]      ; SCI_INT
    mov [V_SCI], eax
    mov eax, [ebx + 56]             ; PM1a_EVT_BLK
    mov [V_PMEVT], eax
    mov eax, [ebx + 64]             ; PM1a_CNT_BLK
    mov [V_PMCNT], eax
    mov eax, [ebx + 76]             ; PM_TMR_BLK
    mov [V_PMTMR], eax
    ; Lengths: PM1_EVT_LEN 4, PM1_CNT_LEN 2, PM_TMR_LEN 4.
    cmp byte [ebx + 88], 4
    jne .bad_len
    cmp byte [ebx + 89], 2
    jne .bad_len
    cmp byte [ebx + 91], 4
    jne .bad_len
    cmp dword [V_PMEVT], 0
    je .bad_len
    cmp dword [V_PMCNT], 0
    je .bad_len
    ; The DSDT and its \_S5 package.
    mov ebx, [ebx + 40]
    cmp dword [ebx], 'DSDT'
    jne .bad_dsdt
    mov esi, ebx
    mov ecx, [ebx + 4]
    call checksum
    jnz .bad_dsdt
    mov esi, s_dsdt
    call puts
    ; \_S5 may live in the DSDT or in an SSDT (SeaBIOS puts the sleep
    ; states it offers in the SSDT it builds).
    call find_s5
    jnc .slp
    mov ebx, [V_RSDT]
    mov ecx, [ebx + 4]
    sub ecx, 36
    shr ecx, 2
    lea edi, [ebx + 36]
.ssdt:
    test ecx, ecx
    jz .nos5
    mov ebx, [edi]
    add edi, 4
    dec ecx
    cmp dword [ebx], 'SSDT'
    jne .ssdt
    push ecx
    push edi
    mov esi, ebx
    mov ecx, [ebx + 4]
    call checksum
    pop edi
    pop ecx
    jnz .bad_ssdt
    push ecx
    push edi
    call find_s5
    pop edi
    pop ecx
    jc .ssdt
.slp:
    mov [V_SLPTYP], eax
    mov esi, s_s5
    call puts
    ret
.bad_ssdt:
    mov esi, s_badssdt
    jmp fail
.bad_fadt:
    mov esi, s_badfadt
    jmp fail
.bad_len:
    mov esi, s_badlen
    jmp fail
.bad_dsdt:
    mov esi, s_baddsdt
    jmp fail
.nos5:
    mov esi, s_nos5
    jmp fail

; The registers behind the tables.
acpi_checks:
    ; PIIX4 layout: PM1 control 4 and the timer 8 bytes into the block.
    mov eax, [V_PMEVT]
    add eax, 4
    cmp eax, [V_PMCNT]
    jne .bad_layout
    add eax, 4
    cmp eax, [V_PMTMR]
    jne .bad_layout
    ; SCI: IRQ 9 on this machine (pm.sci -> pic1.ir1).
    cmp dword [V_SCI], 9
    jne .bad_sci
    mov esi, s_layout
    call puts

    ; The PM timer counts (3.58 MHz, 24 bits).
    mov edx, [V_PMTMR]
    in eax, dx
    mov ebx, eax
    mov ecx, 1000000
.tmr:
    in eax, dx
    cmp eax, ebx
    jne .tmr_ok
    dec ecx
    jnz .tmr
    mov esi, s_notmr
    jmp fail
.tmr_ok:
    mov esi, s_tmr
    call puts

    ; ACPI mode: FADT SMI_CMD/ACPI_ENABLE, unless SCI_EN is on already.
    mov edx, [V_PMCNT]
    in ax, dx
    test al, 1
    jnz .acpi_on
    call fadt_addr
    mov edx, [ebx + 48]             ; SMI_CMD
    test edx, edx
    jz .no_enable
    mov al, [ebx + 52]              ; ACPI_ENABLE
    out dx, al
    mov edx, [V_PMCNT]
    mov ecx, 1000000
.wait_sci_en:
    in ax, dx
    test al, 1
    jnz .acpi_on
    dec ecx
    jnz .wait_sci_en
.no_enable:
    mov esi, s_nosci_en
    jmp fail
.acpi_on:
    mov esi, s_sci_en
    call puts

    ; The SCI reaches IRQ 9: mask everything in the 8259s, enable the PM
    ; timer's fixed event (TMR_EN: TMR_STS is set when bit 23 of the
    ; timer toggles, every 2.3 s at most) and read the slave's IRR.
    mov al, 0xFF
    out 0x21, al
    out 0xA1, al
    mov al, 0x0A                    ; OCW3: read IRR
    out 0xA0, al
    ; The SCI is level-triggered, active high: make IRQ 9 level in the
    ; ELCR (4D1h bit 1) as Linux does (acpi_pic_sci_set_trigger); then
    ; IRR follows the line.
    mov dx, 0x4D1
    in al, dx
    or al, 0x02
    out dx, al
    in al, dx
    test al, 0x02
    jz .sci_edge
    mov edx, [V_PMEVT]
    mov ax, 0xFFFF                  ; clear every PM1 status bit
    out dx, ax
    in al, 0xA0
    test al, 0x02
    jnz .sci_stuck
    add edx, 2                      ; PM1_EN
    mov ax, 1                       ; TMR_EN
    out dx, ax
    ; Wait for TMR_STS; give up after bit 23 has toggled three times.
    mov edx, [V_PMTMR]
    in eax, dx
    and eax, 1 << 23
    mov ebx, eax
    xor edi, edi
.wait_tmr:
    mov edx, [V_PMEVT]
    in ax, dx
    test al, 1
    jnz .tmr_sts
    mov edx, [V_PMTMR]
    in eax, dx
    and eax, 1 << 23
    cmp eax, ebx
    je .wait_tmr
    mov ebx, eax
    inc edi
    cmp edi, 3
    jb .wait_tmr
    mov esi, s_notmrsts
    jmp fail
.tmr_sts:
    ; The SCI may follow the status bit by a moment (QEMU raises it from
    ; a timer of its own): poll the IRR a bounded while.
    mov ecx, 200000
.irr:
    in al, 0xA0
    test al, 0x02
    jnz .sci_seen
    dec ecx
    jnz .irr
    jmp .no_sci
.sci_seen:
    ; Off with TMR_EN and the status: the (level) SCI drops.
    mov edx, [V_PMEVT]
    add edx, 2
    xor ax, ax
    out dx, ax
    sub edx, 2
    mov ax, 1
    out dx, ax
    in al, 0xA0
    test al, 0x02
    jnz .sci_stuck
    mov esi, s_sci
    call puts
    ret
.sci_edge:
    mov esi, s_sciedge
    jmp fail
.bad_layout:
    mov esi, s_badlayout
    jmp fail
.bad_sci:
    mov esi, s_badsci
    jmp fail
.no_sci:
    mov esi, s_nosci
    jmp fail
.sci_stuck:
    mov esi, s_scistuck
    jmp fail

; ebx = the FADT (from the RSDT again).
fadt_addr:
    push ecx
    push edi
    mov ebx, 0xE0000
.scan:
    cmp dword [ebx], 'RSD '
    jne .next
    cmp dword [ebx + 4], 'PTR '
    je .found
.next:
    add ebx, 16
    jmp .scan
.found:
    mov ebx, [ebx + 16]
    mov ecx, [ebx + 4]
    sub ecx, 36
    shr ecx, 2
    lea edi, [ebx + 36]
.e:
    mov ebx, [edi]
    cmp dword [ebx], 'FACP'
    je .done
    add edi, 4
    loop .e
.done:
    pop edi
    pop ecx
    ret

; ebx = a definition block -> CF clear and eax = SLP_TYPa of its \_S5
; package, or CF set.
find_s5:
    mov ecx, [ebx + 4]
    lea edi, [ebx + ecx - 8]
    add ebx, 36
.l:
    cmp ebx, edi
    jae .no
    cmp dword [ebx], '_S5_'
    je .found
    inc ebx
    jmp .l
.found:
    ; NameOp '_S5_' PackageOp(12) PkgLength NumElements SLP_TYPa ...
    cmp byte [ebx + 4], 0x12
    jne .no
    movzx eax, byte [ebx + 5]
    shr eax, 6                      ; PkgLength: bits 7-6 = extra bytes
    lea esi, [ebx + 6 + eax + 1]    ; past PkgLength and NumElements
    movzx eax, byte [esi]
    cmp al, 0x0A                    ; BytePrefix
    jne .const
    movzx eax, byte [esi + 1]
    jmp .ok
.const:
    cmp al, 1                       ; ZeroOp 00, OneOp 01
    ja .no
.ok:
    and eax, 7
    clc
    ret
.no:
    stc
    ret

; ZF set when the ecx bytes at esi add up to 0 (mod 256).
checksum:
    xor al, al
.l:
    add al, [esi]
    inc esi
    loop .l
    test al, al
    ret

cmos_read:                          ; al = index -> al = value
    out 0x70, al
    in al, 0x71
    ret

cmos_write:                         ; al = index, ah = value
    out 0x70, al
    mov al, ah
    out 0x71, al
    ret

puts:                               ; esi = NUL-terminated line
    lodsb
    test al, al
    jz .e
    out 0xE9, al
    jmp puts
.e:
    mov al, 10
    out 0xE9, al
    ret

fail:                               ; esi = what failed
    push esi
    mov esi, s_fail
.p: lodsb
    test al, al
    jz .m
    out 0xE9, al
    jmp .p
.m: pop esi
    call puts
    mov al, 0x3F
    out 0xF4, al
.h: hlt
    jmp .h

s_boot1:    db "boot 1", 0
s_boot2:    db "boot 2", 0
s_rsdp:     db "ok RSDP", 0
s_rsdt:     db "ok RSDT", 0
s_fadt:     db "ok FADT", 0
s_dsdt:     db "ok DSDT", 0
s_s5:       db "ok \_S5", 0
s_layout:   db "ok PM1 blocks, SCI_INT 9", 0
s_tmr:      db "ok PM timer counts", 0
s_sci_en:   db "ok SCI_EN", 0
s_sci:      db "ok SCI on IRQ 9", 0
s_reset:    db "reset", 0
s_off:      db "soft off", 0
s_fail:     db "FAIL ", 0
s_nosrdp:   db "no RSDP", 0
s_badrsdt:  db "RSDT", 0
s_nofadt:   db "no FADT in the RSDT", 0
s_badfadt:  db "FADT", 0
s_badlen:   db "FADT PM block addresses/lengths", 0
s_baddsdt:  db "DSDT", 0
s_nos5:     db "no \_S5 package in the DSDT or an SSDT", 0
s_badssdt:  db "SSDT checksum", 0
s_badlayout: db "PM1 control/timer not at PM1a_EVT_BLK+4/+8", 0
s_badsci:   db "SCI_INT is not 9", 0
s_notmr:    db "PM timer stands still", 0
s_nosci_en: db "SCI_EN did not come on", 0
s_sciedge:  db "ELCR bit for IRQ 9 does not stick", 0
s_notmrsts: db "the PM timer overflow did not set TMR_STS", 0
s_nosci:    db "TMR_STS with TMR_EN raised no IRQ 9", 0
s_scistuck: db "IRQ 9 pending without a status bit", 0
s_noreset:  db "still running after the 8042 reset command", 0
s_nooff:    db "still running after the ACPI soft-off write", 0

SECTORS equ ($ - $$ + 511) / 512
    times SECTORS * 512 - ($ - $$) db 0
    times 65536 - ($ - $$) db 0     ; a 64 KiB disk
