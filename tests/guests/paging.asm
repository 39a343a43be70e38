; SPDX-License-Identifier: LGPL-2.1-or-later
; Paging extensions, each where CPUID reports it (SDM vol. 3, chapter 4):
; CR4 bits exist exactly with their CPUID features; 32-bit paging's 4 MiB
; pages with reserved bits and PSE-36; global pages across CR3 loads,
; INVLPG and CR4.PGE; PAE paging with 4 KiB and 2 MiB pages, accessed and
; dirty bits, the PDPTE registers (loaded by MOV CR3, reserved bits #GP),
; reserved-bit page faults (RSVD), the NX bit with EFER.NXE and the I/D
; bit of the error code; PAT, EFER and MTRR MSRs.
    org 0
%include "lib.inc"

%define GDT    0x1000
%define IDT    0x2000
%define STK0   0x9F000
%define FEAT   0x520            ; CPUID.1 EDX
%define FEATX  0x524            ; CPUID.80000001h EDX (0: none)
%define PD     0x10000          ; 32-bit paging
%define PT0    0x11000          ; identity 0-4 MiB
%define PT3    0x12000          ; lin 0xC00000-0xFFFFFF
%define PDPT   0x20000          ; PAE
%define PAEPD0 0x21000
%define PAEPT  0x22000          ; lin 0xC00000-0xDFFFFF
%define PAEPD1 0x23000          ; lin 0x40000000-
%define PAEPD2 0x24000
%define MARKA  0x300000         ; physical marker pages
%define MARKB  0x301000
%define CODEPG 0x302000         ; a RET for fetch tests
%define MARKC  0x100000
%define LIN1   0xC80000         ; test pages (TLB sets away from code and data)
%define LIN2   0xC81000
%define LIN3   0xC82000

%define KCODE  0x08
%define KDATA  0x10

; CPUID.1 EDX bits
%define F_PSE   (1 << 3)
%define F_MSR   (1 << 5)
%define F_PAE   (1 << 6)
%define F_PGE   (1 << 13)
%define F_MTRR  (1 << 12)
%define F_PAT   (1 << 16)
%define F_PSE36 (1 << 17)

[bits 16]
start:
    GUEST_START
    ENTER_PM

align 8
gdt_tmpl:
    dq 0
    dq 0x00CF9B000000FFFF   ; 08 code
    dq 0x00CF93000000FFFF   ; 10 data
gdt_end:

[bits 32]
EXCEPTION_STUBS

stub_common:                ; [esp] vec, [esp+4] err, [esp+8] eip
    push eax
    mov eax, [esp+4]
    mov [LASTVEC], eax
    mov eax, [esp+8]
    mov [LASTERR], eax
    mov eax, [esp+12]
    mov [LASTEIP], eax
    mov eax, [RESUME]
    mov [esp+12], eax
    pop eax
    add esp, 8
    iretd

; fault check: vector %1, error code %2, name %3
%macro FAULT 3
    cmp dword [LASTVEC], %1
    OKIF32 e, %3
    cmp dword [LASTERR], %2
    OKIF32 e, {%3, " error code"}
%endmacro

SET_GATE_FN

%macro RELOAD_CR3 0
    mov eax, cr3
    mov cr3, eax
%endmacro

pm32:
    PM32_FLAT
    IDT_STUBS
    lidt [idtr + ROMBASE]
    mov eax, 1
    cpuid
    mov [FEAT], edx
    mov dword [FEATX], 0
    mov eax, 0x80000000
    cpuid
    and eax, 0xFFFF0000
    cmp eax, 0x80000000
    jne .noext
    mov eax, 0x80000001
    cpuid
    mov [FEATX], edx
.noext:
    mov dword [MARKA], 0xA0A0A0A0
    mov dword [MARKB], 0xB0B0B0B0
    mov dword [MARKC], 0xC0C0C0C0
    mov byte [CODEPG], 0xC3         ; ret

    ; ---- CR4 bits come with their features (none at all on the 486)
    test dword [FEAT], F_PSE        ; every model with CR4 has PSE here
    jz .nocr4
    mov eax, 0x10
    mov ebx, F_PSE
    mov esi, n_pse + ROMBASE
    call cr4_bit_named
    mov eax, 0x20
    mov ebx, F_PAE
    mov esi, n_pae + ROMBASE
    call cr4_bit_named
    mov eax, 0x80
    mov ebx, F_PGE
    mov esi, n_pge + ROMBASE
    call cr4_bit_named
    mov eax, 0x200
    mov ebx, 1 << 24                ; FXSR
    mov esi, n_osfxsr + ROMBASE
    call cr4_bit_named
    mov eax, 0x400
    mov ebx, 1 << 25                ; SSE
    mov esi, n_osxmm + ROMBASE
    call cr4_bit_named
    mov eax, 0x1
    mov ebx, 1 << 1                 ; VME
    mov esi, n_vme + ROMBASE
    call cr4_bit_named
.nocr4:

    ; ---- 32-bit paging: identity 0-4 MiB, test page tables at lin 12 MiB
    mov edi, PD
    xor eax, eax
    mov ecx, 3 * 1024
    rep stosd
    mov dword [PD], PT0 | 3
    mov dword [PD + 3*4], PT3 | 3
    mov edi, PT0
    mov eax, 3
    mov ecx, 1024
.pt: stosd
    add eax, 0x1000
    loop .pt
    mov dword [PT3 + 0x80*4], MARKA | 3         ; LIN1 -> A
    mov eax, PD
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp .pg
.pg:
    cmp dword [LIN1], 0xA0A0A0A0
    OKIF32 e, "32-bit paging alias"

    test dword [FEAT], F_PSE
    jz .nopse
    mov eax, cr4
    or eax, 0x10
    mov cr4, eax
    ; 4 MiB page at lin 8 MiB -> phys 0, with reserved bit 21
    mov dword [PD + 2*4], 0x00200083
    RELOAD_CR3
    EXPECT32 .r1
    mov eax, [0x800000 + MARKA]
.r1:
    FAULT 14, 9, "4M pde bit 21 #PF rsvd"
    ; bit 13: PSE-36 physical address bit 32, else reserved
    mov dword [PD + 2*4], 0x00002083
    RELOAD_CR3
    EXPECT32 .r2
    mov eax, [0x800000 + MARKA]
.r2:
    test dword [FEAT], F_PSE36
    jnz .pse36
    FAULT 14, 9, "4M pde bit 13 without pse-36 #PF rsvd"
    jmp .pse_done
.pse36:
    cmp dword [LASTVEC], 0xFF
    OKIF32 e, "pse-36 4M page above 4G"
    cmp eax, 0xA0A0A0A0
    OKIF32 ne, "pse-36 page is not low memory"
    test dword [PD + 2*4], 0x20
    OKIF32 nz, "pse-36 pde accessed"
.pse_done:
    mov dword [PD + 2*4], 0x00000083            ; plain 4 MiB page at 0
    RELOAD_CR3
    cmp dword [0x800000 + MARKA], 0xA0A0A0A0
    OKIF32 e, "4M page"
    mov dword [PD + 2*4], 0
    mov eax, cr4
    and eax, ~0x10
    mov cr4, eax
.nopse:

    ; ---- global pages: kept by MOV CR3, dropped by INVLPG and CR4.PGE
    test dword [FEAT], F_PGE
    jz .nopge
    mov eax, cr4
    or eax, 0x80
    mov cr4, eax
    mov dword [PT3 + 0x80*4], MARKA | 0x103     ; LIN1 -> A, global
    mov dword [PT3 + 0x81*4], MARKA | 0x003     ; LIN2 -> A
    RELOAD_CR3
    mov eax, [LIN1]
    mov eax, [LIN2]
    mov dword [PT3 + 0x80*4], MARKB | 0x103     ; both -> B, no INVLPG
    mov dword [PT3 + 0x81*4], MARKB | 0x003
    RELOAD_CR3
    cmp dword [LIN1], 0xA0A0A0A0
    OKIF32 e, "global page survives mov cr3"
    cmp dword [LIN2], 0xB0B0B0B0
    OKIF32 e, "non-global page flushed by mov cr3"
    invlpg [LIN1]
    cmp dword [LIN1], 0xB0B0B0B0
    OKIF32 e, "invlpg drops a global page"
    mov dword [PT3 + 0x80*4], MARKA | 0x103
    RELOAD_CR3
    mov eax, cr4
    and eax, ~0x80
    mov cr4, eax
    or eax, 0x80
    mov cr4, eax
    cmp dword [LIN1], 0xA0A0A0A0
    OKIF32 e, "cr4.pge toggle flushes global pages"
    mov eax, cr4
    and eax, ~0x80
    mov cr4, eax
    mov dword [PT3 + 0x80*4], MARKA | 3
    mov dword [PT3 + 0x81*4], 0
    RELOAD_CR3
.nopge:

    ; leave paging for the PAE part
    mov eax, cr0
    and eax, 0x7FFFFFFF
    mov cr0, eax
    jmp .unpg
.unpg:
    test dword [FEAT], F_PAE
    jnz pae
    jmp msrs

; ---- PAE paging ------------------------------------------------------------
pae:
    mov edi, PDPT
    xor eax, eax
    mov ecx, 5 * 1024
    rep stosd
    mov dword [PDPT], PAEPD0 | 1
    mov dword [PDPT + 8], PAEPD1 | 1
    mov dword [PAEPD0], 0x00000083              ; 0-2 MiB, 2 MiB page
    mov dword [PAEPD0 + 8], 0x00200083          ; 2-4 MiB
    mov dword [PAEPD0 + 6*8], PAEPT | 3         ; lin 12-14 MiB: 4 KiB pages
    mov dword [PAEPD0 + 7*8], 0x00200083        ; lin 14 MiB -> phys 2 MiB
    mov dword [PAEPT + 0x80*8], MARKA | 3       ; LIN1 -> A
    mov dword [PAEPD1], 0x00200083              ; lin 1 GiB -> phys 2 MiB
    mov dword [PAEPD2], 0x00000083              ; lin 1 GiB -> phys 0 (later)
    mov eax, cr4
    or eax, 0x20
    mov cr4, eax
    mov eax, PDPT
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp .pg
.pg:
    cmp dword [LIN1], 0xA0A0A0A0
    OKIF32 e, "pae 4K page"
    test dword [PAEPT + 0x80*8], 0x20
    OKIF32 nz, "pae pte accessed"
    test dword [PAEPT + 0x80*8], 0x40
    OKIF32 z, "pae pte clean after read"
    test dword [PAEPD0 + 6*8], 0x20
    OKIF32 nz, "pae pde accessed"
    mov dword [LIN1 + 8], 1
    test dword [PAEPT + 0x80*8], 0x40
    OKIF32 nz, "pae pte dirty after write"
    test dword [PAEPD0 + 6*8], 0x40
    OKIF32 z, "pae pde of a table never dirty"
    cmp dword [0xE00000 + 0x100000], 0xA0A0A0A0
    OKIF32 e, "pae 2M page"
    test dword [PAEPD0 + 7*8], 0x40
    OKIF32 z, "pae 2M pde clean after read"
    mov dword [0xE00000 + 0x100008], 2
    test dword [PAEPD0 + 7*8], 0x40
    OKIF32 nz, "pae 2M pde dirty after write"

    ; reserved bits: a PTE address bit above 36, a 2 MiB PDE bit 13, the
    ; NX bit without EFER.NXE
    mov dword [PAEPT + 0x81*8], MARKA | 3
    mov dword [PAEPT + 0x81*8 + 4], 0x100       ; bit 40
    EXPECT32 .r1
    mov eax, [LIN2]
.r1:
    FAULT 14, 9, "pae pte bit 40 #PF rsvd"
    mov eax, cr2
    cmp eax, LIN2
    OKIF32 e, "pae rsvd cr2"
    EXPECT32 .r2
    mov dword [LIN2], 0
.r2:
    FAULT 14, 0xB, "pae pte bit 40 write #PF rsvd"
    mov dword [PAEPT + 0x81*8 + 4], 0x80000000  ; NX, NXE clear
    invlpg [LIN2]
    EXPECT32 .r3
    mov eax, [LIN2]
.r3:
    FAULT 14, 9, "nx bit without efer.nxe #PF rsvd"
    mov dword [PAEPT + 0x81*8 + 4], 0
    mov dword [PAEPD0 + 5*8], 0x00202083        ; lin 10 MiB: 2 MiB page, bit 13
    EXPECT32 .r4
    mov eax, [0xA00000]
.r4:
    FAULT 14, 9, "pae 2M pde bit 13 #PF rsvd"
    mov dword [PAEPD0 + 5*8], 0
    EXPECT32 .r5
    mov eax, [0xA00000]
.r5:
    FAULT 14, 0, "pae pde not present"
    EXPECT32 .r6
    mov eax, [0x80000000]
.r6:
    FAULT 14, 0, "pae pdpte not present"

    ; PDPTE registers: loaded by MOV CR3, not read on each walk
    cmp dword [0x40000000 + 0x100000], 0xA0A0A0A0
    OKIF32 e, "pae second pdpte"
    mov dword [PDPT + 8], PAEPD2 | 1
    invlpg [0x40100000]
    cmp dword [0x40000000 + 0x100000], 0xA0A0A0A0
    OKIF32 e, "pdpte cached until cr3 load"
    RELOAD_CR3
    cmp dword [0x40000000 + 0x100000], 0xC0C0C0C0
    OKIF32 e, "mov cr3 reloads the pdptes"
    ; a reserved PDPTE bit: MOV CR3 #GP(0), CR3 and the PDPTEs unchanged
    mov dword [PDPT + 24], PAEPD2 | 1 | 2       ; bit 1 reserved
    EXPECT32 .g1
    mov eax, cr3
    mov cr3, eax
.g1:
    FAULT 13, 0, "pdpte reserved bit: mov cr3 #GP"
    cmp dword [0x40000000 + 0x100000], 0xC0C0C0C0
    OKIF32 e, "pdptes kept after the #GP"
    ; ... and enabling PAE paging with it: MOV CR0 #GP(0), paging stays off
    mov eax, cr0
    and eax, 0x7FFFFFFF
    mov cr0, eax
    EXPECT32 .g2
    or eax, 0x80000000
    mov cr0, eax
.g2:
    FAULT 13, 0, "pdpte reserved bit: mov cr0.pg #GP"
    mov eax, cr0
    test eax, eax
    OKIF32 ns, "paging still off"
    mov dword [PDPT + 24], 0
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp .pg2
.pg2:

    ; PGE with PAE: a global 4 KiB PAE page survives MOV CR3
    test dword [FEAT], F_PGE
    jz .nopge
    mov eax, cr4
    or eax, 0x80
    mov cr4, eax
    mov dword [PAEPT + 0x82*8], MARKA | 0x103
    invlpg [LIN3]
    mov eax, [LIN3]
    mov dword [PAEPT + 0x82*8], MARKB | 0x103
    RELOAD_CR3
    cmp dword [LIN3], 0xA0A0A0A0
    OKIF32 e, "pae global page survives mov cr3"
    mov eax, cr4
    and eax, ~0x80
    mov cr4, eax
    cmp dword [LIN3], 0xB0B0B0B0
    OKIF32 e, "pae cr4.pge clear flushes"
.nopge:

    ; NX with EFER.NXE (where CPUID 80000001h reports it)
    test dword [FEATX], 1 << 20
    jz .nonx
    mov ecx, 0xC0000080
    rdmsr
    or eax, 0x800
    wrmsr
    rdmsr
    test eax, 0x800
    OKIF32 nz, "efer.nxe reads back"
    mov dword [PAEPT + 0x83*8], CODEPG | 3       ; lin 0xC83000: RET, executable
    mov dword [PAEPT + 0x83*8 + 4], 0
    mov dword [PAEPT + 0x84*8], CODEPG | 3       ; lin 0xC84000: RET, NX
    mov dword [PAEPT + 0x84*8 + 4], 0x80000000
    EXPECT32 .x0
    mov eax, 0xC83000
    call eax
.x0:
    cmp dword [LASTVEC], 0xFF
    OKIF32 e, "fetch from an executable page"
    cmp byte [0xC84000], 0xC3
    OKIF32 e, "nx page readable"
    EXPECT32 .x1
    mov eax, 0xC84000
    call eax
.x1:
    add esp, 4                  ; the CALL pushed, then the fetch faulted
    FAULT 14, 0x11, "nx fetch #PF with i/d"
    mov eax, cr2
    cmp eax, 0xC84000
    OKIF32 e, "nx fetch cr2"
    mov dword [PAEPT + 0x85*8], 0
    EXPECT32 .x2
    mov eax, 0xC85000
    call eax
.x2:
    add esp, 4                  ; the CALL pushed, then the fetch faulted
    FAULT 14, 0x10, "not-present fetch #PF with i/d"
    EXPECT32 .x3
    mov eax, [0xC85000]
.x3:
    FAULT 14, 0, "not-present read: no i/d"
    ; NX in the PDE makes the whole 2 MiB area not executable
    mov dword [PAEPT + 0x84*8 + 4], 0
    mov dword [PAEPD0 + 6*8 + 4], 0x80000000
    invlpg [0xC84000]
    EXPECT32 .x4
    mov eax, 0xC84000
    call eax
.x4:
    add esp, 4                  ; the CALL pushed, then the fetch faulted
    FAULT 14, 0x11, "nx in the pde #PF"
    mov dword [PAEPD0 + 6*8 + 4], 0
    invlpg [0xC84000]
    mov ecx, 0xC0000080
    rdmsr
    and eax, ~0x800
    wrmsr
.nonx:
    mov eax, cr0
    and eax, 0x7FFFFFFF
    mov cr0, eax
    jmp .unpg
.unpg:
    mov eax, cr4
    and eax, ~0x20
    mov cr4, eax
    jmp msrs

; ---- MSRs -------------------------------------------------------------------
msrs:
    test dword [FEAT], F_MSR
    jz .done
    ; EFER only where NX is
    EXPECT32 .e1
    mov ecx, 0xC0000080
    rdmsr
.e1:
    test dword [FEATX], 1 << 20
    jnz .efer_ok
    cmp dword [LASTVEC], 13
    OKIF32 e, "no efer without nx #GP"
    jmp .efer_done
.efer_ok:
    cmp dword [LASTVEC], 0xFF
    OKIF32 e, "efer readable"
    EXPECT32 .e2
    mov ecx, 0xC0000080
    mov eax, 0x100                  ; LME: no long mode
    xor edx, edx
    wrmsr
.e2:
    cmp dword [LASTVEC], 13
    OKIF32 e, "efer.lme #GP"
.efer_done:
    test dword [FEAT], F_PAT
    jz .nopat
    mov ecx, 0x277
    rdmsr
    cmp eax, 0x00070406
    OKIF32 e, "pat power-on value low"
    cmp edx, 0x00070406
    OKIF32 e, "pat power-on value high"
    mov eax, 0x01050406
    mov edx, 0x00070106
    wrmsr
    xor eax, eax
    xor edx, edx
    rdmsr
    cmp eax, 0x01050406
    OKIF32 e, "pat reads back"
    EXPECT32 .p1
    mov eax, 0x00070402             ; type 2 is reserved
    wrmsr
.p1:
    cmp dword [LASTVEC], 13
    OKIF32 e, "pat reserved type #GP"
    jmp .pat_done
.nopat:
    EXPECT32 .p2
    mov ecx, 0x277
    rdmsr
.p2:
    cmp dword [LASTVEC], 13
    OKIF32 e, "no pat #GP"
.pat_done:
    test dword [FEAT], F_MTRR
    jz .done
    mov ecx, 0x200                  ; PHYSBASE0
    mov eax, 0x00100006
    xor edx, edx
    wrmsr
    xor eax, eax
    rdmsr
    cmp eax, 0x00100006
    OKIF32 e, "mtrr physbase0 reads back"
.done:
    jmp finish32

; eax = CR4 bit, ebx = the CPUID.1 EDX bit that brings it, esi = name:
; MOV CR4 sets it when CPUID reports the feature, else #GP(0)
cr4_bit_named:
    push eax
    push edi
    mov edi, 0x700
.cp: mov al, [esi]
    mov [edi], al
    inc esi
    inc edi
    test al, al
    jnz .cp
    pop edi
    pop eax
    mov edx, cr4
    EXPECT32 .after
    mov ecx, edx
    or ecx, eax
    mov cr4, ecx
.after:
    mov ecx, cr4
    mov cr4, edx                ; as it was, whatever happened
    test [FEAT], ebx
    jz .absent
    test ecx, eax
    jz .bad
    jmp .good
.absent:
    cmp dword [LASTVEC], 13
    jne .bad
    test ecx, eax
    jnz .bad
.good:
    mov esi, str_pass + ROMBASE
    jmp .say
.bad:
    inc word [FAILS]
    mov esi, str_fail + ROMBASE
.say:
    call puts32
    mov esi, 0x700
    call puts32
    mov al, 10
    out 0xE9, al
    ret

n_pse:    db "cr4.pse iff cpuid pse", 0
n_pae:    db "cr4.pae iff cpuid pae", 0
n_pge:    db "cr4.pge iff cpuid pge", 0
n_osfxsr: db "cr4.osfxsr iff cpuid fxsr", 0
n_osxmm:  db "cr4.osxmmexcpt iff cpuid sse", 0
n_vme:    db "cr4.vme iff cpuid vme", 0

%include "reset.inc"
