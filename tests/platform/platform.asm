; SPDX-License-Identifier: LGPL-2.1-or-later
; A DOS-era style test program for the PC platform (machines/pc.xml).
;
; Assembled into a raw hard-disk image (nasm -f bin): SeaBIOS loads the
; boot sector at 0000:7C00, which loads the rest of the program behind
; itself with INT 13h (AH=42h, or AH=02h without the extensions). The
; program then drives the BIOS services and the hardware directly the
; way DOS programs and games did, reports one "PASS name" / "FAIL name"
; line per check on the debug console (port E9h), and ends with a write
; to test-exit (port F4h): 0 when every check passed (exit status 1),
; else the failure count (exit status 2n+1).
;
; The image: sector 0 the boot sector, sectors 1..N the program, a marker
; sector at MARKER_LBA (cylinder 1, head 3, sector 5 in 16-head 63-sector
; geometry) for the CHS/LBA checks, DISK_SECTORS in all (4 cylinders).

%define DISK_SECTORS 4032           ; 4 * 16 * 63
%define MARKER_LBA   1201           ; (1 * 16 + 3) * 63 + 5 - 1
%define SCRATCH_LBA  2000           ; written and read back

; Buffers above the program, below 64 KiB (segment 0).
%define SECBUF   0xE000             ; 512 bytes
%define IDBUF    0xE200             ; 512 bytes: ATA IDENTIFY data
%define SECBUF2  0xE400             ; 512 bytes
%define E820BUF  0xE600             ; 24 bytes
%define DMASRC   0xF000             ; 256 bytes
%define DMADST   0xF100             ; 256 bytes

    bits 16
    org 0x7C00

; ---- boot sector -----------------------------------------------------------
%define BOOT_SECTORS PROG_SECTORS
%define BOOT_MSG "platform: boot sector running"
%define BOOT_FAIL_MSG "FAIL boot-load-program"
%define BOOT_FAIL_CODE 0x7F
%include "../guests/diskboot.inc"

; ---- the program (sector 1 on, loaded at 0000:7E00) -------------------------
prog_start:
%include "dos.inc"

main:
    xor ax, ax
    mov ds, ax
    mov es, ax
    cld
    SAY "platform: program loaded, checks follow"
    cmp byte [boot_method], 0x42
    CHECK e, "int13-42-load-program"

    call t_disk
    call t_video
    call t_lpt
    call t_kbc
    call t_a20
    call t_uart
    call t_dma
    call t_pci
    call t_cmos
    call t_timers

    ; summary and exit
    INFO "checks-passed", [n_pass]
    INFO "checks-failed", [n_fail]
    SAY "DONE"
    movzx ax, byte [n_fail]
    cmp dword [n_fail], 0x7F
    jb .out
    mov al, 0x7F
.out:
    out 0xF4, al
.halt:
    cli
    hlt
    jmp .halt

%include "t-disk.inc"
%include "t-video.inc"
%include "t-lpt.inc"
%include "t-kbc.inc"
%include "t-a20.inc"
%include "t-uart.inc"
%include "t-dma.inc"
%include "t-pci.inc"
%include "t-cmos.inc"
%include "t-timers.inc"

; ---- variables -----------------------------------------------------------------
    align 4
val:    dd 0
n_pass: dd 0
n_fail: dd 0

prog_end:
PROG_SECTORS equ (prog_end - prog_start + 511) / 512
    times -((prog_end - $$) > (SECBUF - 0x7C00)) db 0  ; error: program overlaps its buffers
    times -(PROG_SECTORS > 62) db 0                     ; error: AH=02h reads track 0 only

; ---- the rest of the disk ------------------------------------------------------
    times MARKER_LBA * 512 - ($ - $$) db 0
marker:
    db "TESSERA-MARKER-SECTOR-1201", 0
    times 512 - ($ - marker) - 2 db 0xA5
    dw 0x1201
    times DISK_SECTORS * 512 - ($ - $$) db 0
