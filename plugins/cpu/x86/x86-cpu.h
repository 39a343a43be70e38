/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tessera x86 interpreter: state and internal interfaces shared by the
 * files of the execution core.
 *
 * The core is independent of libtessera: it reaches memory, ports and the
 * interrupt controller through an X86Bus table, so the plugin binds it to
 * the machine fabric while unit tests (differential and fuzz tests) bind
 * it to a plain buffer.
 *
 * Design for speed:
 *  - code is decoded once into blocks of X86Insn (handler pointer plus
 *    pre-decoded operands), kept in an arena and found by physical
 *    address and CS.D, or first through a jump cache keyed by linear
 *    address; blocks die with per-page generations when a code page is
 *    written (a TLB write entry is never installed for a page holding
 *    decoded code, so the first store to one takes the slow path);
 *  - the decoder picks specialised handlers for the frequent operation,
 *    size and operand forms (x86-exec-fast.c);
 *  - arithmetic flags are lazy: the last result and a carry vector;
 *  - a software TLB (one for CPL<3, one for CPL 3) holds host pointers of
 *    RAM pages, and a parallel one (X86TlbIo) the device behind MMIO pages,
 *    so an access to a device register or planar video memory neither
 *    walks the page tables nor looks the page up again;
 *  - a memory-map change drops only the TLB entries and decoded blocks of
 *    the physical range that changed (x86_mem_changed);
 *  - nothing is counted per instruction: a block adds its length to the
 *    instruction count when it ends, and the instruction running (cur)
 *    gives the exact count and EIP whenever a device or a fault needs
 *    them.
 * Faults unwind with siglongjmp to the run loop, which delivers them.
 */
#ifndef TESSERA_X86_CPU_H
#define TESSERA_X86_CPU_H

#include <glib.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define X86_LIKELY(x) __builtin_expect(!!(x), 1)
#define X86_UNLIKELY(x) __builtin_expect(!!(x), 0)

enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI };
enum { S_ES, S_CS, S_SS, S_DS, S_FS, S_GS, S_LDTR, S_TR, S_NONE = 15 };

/* EFLAGS (SDM vol. 1, 3.4.3) */
#define F_CF   0x00000001u
#define F_PF   0x00000004u
#define F_AF   0x00000010u
#define F_ZF   0x00000040u
#define F_SF   0x00000080u
#define F_TF   0x00000100u
#define F_IF   0x00000200u
#define F_DF   0x00000400u
#define F_OF   0x00000800u
#define F_IOPL 0x00003000u
#define F_NT   0x00004000u
#define F_RF   0x00010000u
#define F_VM   0x00020000u
#define F_AC   0x00040000u
#define F_VIF  0x00080000u
#define F_VIP  0x00100000u
#define F_ID   0x00200000u
#define F_ARITH (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)

/* CR0 / CR4 (SDM vol. 3, 2.5) */
#define CR0_PE 0x00000001u
#define CR0_MP 0x00000002u
#define CR0_EM 0x00000004u
#define CR0_TS 0x00000008u
#define CR0_ET 0x00000010u
#define CR0_NE 0x00000020u
#define CR0_WP 0x00010000u
#define CR0_AM 0x00040000u
#define CR0_NW 0x20000000u
#define CR0_CD 0x40000000u
#define CR0_PG 0x80000000u
#define CR4_VME 0x001u
#define CR4_PVI 0x002u
#define CR4_TSD 0x004u
#define CR4_DE  0x008u
#define CR4_PSE 0x010u
#define CR4_PAE 0x020u
#define CR4_MCE 0x040u
#define CR4_PGE 0x080u
#define CR4_PCE 0x100u
#define CR4_OSFXSR     0x200u   /* FXSAVE/FXRSTOR cover SSE state; SSE enabled */
#define CR4_OSXMMEXCPT 0x400u   /* unmasked SIMD FP exceptions raise #XM, not #UD */

/* IA32_EFER (SDM vol. 4, table 2-2) */
#define EFER_NXE 0x800u

/* Exception vectors */
enum {
    X86_DE = 0, X86_DB = 1, X86_NMI = 2, X86_BP = 3, X86_OF = 4, X86_BR = 5,
    X86_UD = 6, X86_NM = 7, X86_DF = 8, X86_TS = 10, X86_NP = 11,
    X86_SS = 12, X86_GP = 13, X86_PF = 14, X86_MF = 16, X86_AC = 17,
    X86_MC = 18, X86_XM = 19,
};

/* Descriptor attribute bits as they sit in the descriptor's high dword. */
#define D_TYPE   0x00000F00u
#define D_S      0x00001000u
#define D_DPL    0x00006000u
#define D_P      0x00008000u
#define D_AVL    0x00100000u
#define D_DB     0x00400000u
#define D_G      0x00800000u
#define D_CODE   0x00000800u    /* with D_S */
#define D_CONF   0x00000400u    /* code: conforming */
#define D_EXPDN  0x00000400u    /* data: expand-down */
#define D_RW     0x00000200u    /* code: readable, data: writable */
#define D_ACC    0x00000100u

/* Processor models, in the order of the plugin's model property. */
typedef enum {
    X86_MODEL_486, X86_MODEL_PENTIUM, X86_MODEL_PPRO, X86_MODEL_PMMX,
    X86_MODEL_P2, X86_MODEL_P3, X86_MODEL_P4, X86_MODEL_COUNT
} X86Model;

/* What a model is (x86-model.c): the real part's identification and
 * feature bits; X86Cpu.feat_* keep those the interpreter implements. */
#define X86_HAS_CR4   0x01u     /* CR4 exists (Pentium and later) */
#define X86_HAS_RDPMC 0x02u     /* RDPMC (Pentium MMX, P6, Pentium 4) */
#define X86_HAS_NOPL  0x04u     /* 0F 1F multi-byte NOP (P6 and later) */
typedef struct X86ModelInfo {
    const char *name;           /* the plugin's model property value */
    const char *part;           /* the real part it is, for humans */
    uint32_t signature;         /* CPUID.1 EAX, and EDX after reset */
    uint32_t brand_index;       /* CPUID.1 EBX bits 7-0 */
    uint32_t mhz;               /* TSC rate */
    uint32_t edx, ecx;          /* CPUID.1 features of the real part */
    uint32_t ext_edx;           /* CPUID.80000001h EDX of the real part */
    uint32_t max_leaf;          /* CPUID.0 EAX */
    uint32_t max_ext;           /* CPUID.80000000h EAX, 0: no extended leaves */
    uint32_t leaf2[4];          /* cache and TLB descriptors (EAX-EDX) */
    uint32_t l2_ext;            /* CPUID.80000006h ECX */
    uint32_t addr_sizes;        /* CPUID.80000008h EAX */
    const char *brand;          /* brand string (80000002h-80000004h) or NULL */
    uint32_t platform_id;       /* IA32_PLATFORM_ID bits 52-50 */
    uint32_t flags;             /* X86_HAS_* */
} X86ModelInfo;
extern const X86ModelInfo x86_model_info[X86_MODEL_COUNT];

/* CPUID feature bits the interpreter implements: a model reports the
 * bits of its real part that are in these (the FPU, MMX, FXSR, SSE and
 * SSE2 join when their execution units do; VME, APIC, MCA, CLFSH, the
 * thermal and hyper-threading bits are not modelled). */
#define X86_IMPL_EDX (CPUID_FPU | CPUID_MMX | CPUID_FXSR | CPUID_SSE | CPUID_SSE2 | CPUID_DE | CPUID_PSE | CPUID_TSC | CPUID_MSR | CPUID_PAE      \
                      | CPUID_MCE | CPUID_CX8 | CPUID_SEP | CPUID_MTRR | CPUID_PGE  \
                      | CPUID_CMOV | CPUID_PAT | CPUID_PSE36)
#define X86_IMPL_ECX 0u
#define X86_IMPL_EXT_EDX CPUID_EXT_NX

typedef struct X86Seg {
    uint32_t base, limit;
    uint32_t attr;          /* descriptor high dword & 0x00F0FF00 */
    uint16_t sel;
    /* derived: valid offsets are [lo, hi]; rd/wr permitted; wide: any
     * offset, read and write (lo 0, hi 4 GiB - 1), whatever the base */
    uint32_t lo, hi;
    uint8_t rd, wr, wide;
} X86Seg;

/* Fabric the core runs against. */
typedef struct X86Bus {
    void *opaque;
    /* Host pointers of the 4 KiB page at paddr (NULL: slow path). */
    void (*page)(void *opaque, uint64_t paddr, uint8_t **rd, uint8_t **wr);
    uint64_t (*mem_read)(void *opaque, uint64_t paddr, unsigned size);
    void (*mem_write)(void *opaque, uint64_t paddr, uint64_t val, unsigned size);
    uint32_t (*io_read)(void *opaque, uint32_t port, unsigned size);
    void (*io_write)(void *opaque, uint32_t port, uint32_t val, unsigned size);
    uint8_t (*intack)(void *opaque);
    uint64_t (*clock_ns)(void *opaque);   /* virtual time, for the TSC */
    /* The FERR# output (x87 error with CR0.NE=0), or NULL */
    void (*ferr)(void *opaque, bool level);
    /* Whole-page MMIO, or NULL (no I/O TLB entries): the device handle
     * answering every byte of the page at paddr for reads (write false)
     * or writes, and the device offset of the page's first byte; NULL
     * when the page is not one device's. A handle stays valid until the
     * embedder reports the page changed (x86_mem_changed). */
    void *(*mmio_page)(void *opaque, uint64_t paddr, bool write, uint64_t *off);
    uint64_t (*mmio_read)(void *handle, uint64_t off, unsigned size);
    void (*mmio_write)(void *handle, uint64_t off, uint64_t val, unsigned size);
} X86Bus;

typedef struct X86Cpu X86Cpu;
typedef struct X86Insn X86Insn;
typedef void (*X86Handler)(X86Cpu *c, const X86Insn *i);

/* An absent base or index register of an effective address: r[8], which
 * is always zero, so address arithmetic needs no tests. */
#define EA_NONE 8

struct X86Insn {
    X86Handler fn;
    uint32_t disp;
    uint32_t imm;
    uint16_t imm2;          /* far pointer selector, ENTER level */
    uint16_t op;            /* opcode: 0x000-0x0FF, 0x100-0x1FF for 0F xx */
    uint16_t end;           /* offset of the next instruction from the block start */
    uint8_t len;
    uint8_t mod;            /* 3: register operand */
    uint8_t reg, rm;        /* ModRM fields */
    uint8_t base, index;    /* EA registers or EA_NONE */
    uint8_t scale;          /* shift */
    uint8_t seg;            /* segment of the memory operand */
    uint8_t o32, a32;       /* operand / address size is 32 bits */
    uint8_t rep;            /* 0, 1 = F3 (REP/REPE), 2 = F2 (REPNE) */
    uint8_t lock;
    uint8_t ends;           /* control transfer or REP string: last of its block */
    uint8_t mp;             /* SIMD opcodes: mandatory prefix, X86_MP_* (x86-simd.h) */
    uint32_t amask;         /* effective address mask: 0xFFFF or 0xFFFFFFFF */
};

/* Software TLB, direct-mapped, per privilege: 1 Ki entries. The Debian
 * guest's boot walked the page tables 43 million times with 256 entries,
 * 5.8 million with 1 Ki (4 Ki: 5.3 million); a guest nc upload 250 times
 * per frame sent with 256, 125 with 1 Ki. Flushes (MOV CR3, INVLPG) scan
 * the entries, so bigger is not free. */
#define TLB_BITS 10
#define TLB_SIZE (1u << TLB_BITS)
typedef struct X86Tlb {
    uint32_t rtag, wtag;    /* linear page, or 1: no entry */
    uint32_t rwtag;         /* linear page when reads and writes share one host page */
    uint32_t pphys;         /* physical page (for the code cache) | TLBF_* */
    uintptr_t radd, wadd;   /* host = linear + add */
} X86Tlb;
/* Flags of an entry, in the low bits of pphys: a global page (kept by
 * MOV CR3 with CR4.PGE), part of a large page (INVLPG drops all of its
 * entries), not executable (fetches walk, and fault). */
#define TLBF_G  0x1u
#define TLBF_L  0x2u
#define TLBF_NX 0x4u

/* The I/O side of a TLB slot (same index, same user/supervisor split):
 * a linear page whose physical page is one device's MMIO. Kept apart from
 * X86Tlb so the host-pointer fast paths (and generated code) never see
 * it; only the slow paths (lin_read/lin_write, data accesses, never
 * fetches) look here before walking. Flushed with the TLB, and dropped by
 * x86_mem_changed when its physical page's mapping changes. */
typedef struct X86TlbIo {
    uint32_t rtag, wtag;    /* linear page, or 1: no entry */
    uint32_t pphys;         /* physical page | TLBF_* */
    void *rh, *wh;          /* X86Bus.mmio_page handles */
    uint64_t roff, woff;    /* device offset of the page's first byte */
} X86TlbIo;

/* Decoded code: blocks of up to BLK_MAX instructions that end at a control
 * transfer or the end of a page, allocated from an arena and found by
 * physical address (the hash) or, first, by linear address (the jump
 * cache). A block is valid while its page generation and the global
 * generation are those it was decoded under. A full arena is emptied
 * and every translation with it (x86-run.c arena_reset): at 16 MiB (~50
 * thousand of a Linux guest's blocks) that happened about every ten
 * seconds of network traffic, and each time its working set of ~20
 * thousand blocks was decoded and translated again; 64 MiB (mapped on
 * demand) holds more blocks than the translator's code buffer. */
#define BLK_MAX 32
#define BLK_HASH_BITS 16
#define BLK_ARENA (64u << 20)
typedef struct X86Block X86Block;
struct X86Block {
    X86Block *hnext;        /* hash chain */
    uint32_t phys;          /* physical address of the first byte */
    uint32_t gen;           /* page generation when decoded */
    uint32_t ggen;          /* global generation when decoded */
    uint8_t code32;
    uint8_t n;
    uint16_t bytes;
    /* translating engine (x86-jit.h): host code, valid while jit_gen is
     * the code buffer's generation; runs before translation; blocks whose
     * every instruction is inline, translated with their stores logged
     * where they store (lockstep replays them); a translation whose
     * flat-segment assumption failed */
    void *jit;
    uint32_t jit_gen;
    uint8_t jit_runs;
    uint8_t jit_pure;
    uint8_t jit_noflat;     /* translate without flat segments (x86-jit.c) */
    /* links patched into the translation's end (j_chain) in epoch
     * link_epoch of the jump cache */
    uint8_t link_n;
    uint32_t link_epoch;
    /* the segments the translation takes as flat, at their bits of the
     * jump cache tag (JC_TAG_FLAT): it runs only under a tag that has
     * them all */
    uint32_t jit_flat;
    /* one instruction that runs on into the next page (phys2, that page's
     * generation gen2 when decoded); valid only while the next linear
     * page still maps there */
    uint8_t cross;
    uint32_t phys2, gen2;
    X86Insn ins[];
};

/* Jump cache: linear address -> block, valid while the tag matches
 * (jc_epoch, user/supervisor, CS.D, which of ES/CS/SS/DS/FS/GS are flat).
 * A block whose code page the TLB holds as global is entered with the
 * global tag (jc_gtag: jc_gepoch in place of jc_epoch, JC_TAG_GLOBAL set),
 * which a MOV CR3 that keeps global pages does not move: the kernel's
 * blocks stay cached, and linked (x86-jit.c jit_link), across the
 * guest's context switches; everything else moves both epochs.
 * The epoch moves whenever any block may have become stale, the linear ->
 * physical map changed or the highest EIP a block may reach (CS limit)
 * changed. The flat set lets a translation use a segment without its
 * checks (x86-jit.c): a segment counts as flat with base 0, offsets
 * 0 - 4 GiB - 1, read and write allowed (CS: base 0 and those offsets,
 * which is what chaining needs); any segment change that may change that
 * sets brk (x86_seg_derive), so the tag is recomputed
 * (mode_refresh in x86-run.c) before anything is looked up again. Every
 * block transition the translator does not link goes through it, so it
 * must hold a kernel's working set: Linux's TCP send path alone missed 4
 * Ki entries 1,200 times per frame sent (each miss a walk of the physical
 * hash), 64 Ki entries about 110 times; the Debian guest's boot to its
 * shell went from 18 s to 10 s. At 64 Ki entries the hot blocks of a
 * guest's download (its network stack, wget, the timers) still met in
 * one slot often: a 64 MiB wget missed 234,000 times on an entry taken
 * by another address, and went back to the run loop 497,000 times;
 * 256 Ki entries: 15,000 and 309,000. (8 MiB, mapped on demand.) */
#define JC_TAG_CODE32 0x1u
#define JC_TAG_USER   0x2u
#define JC_TAG_FLAT_SHIFT 2
#define JC_TAG_FLAT   (0x3Fu << JC_TAG_FLAT_SHIFT)
#define JC_TAG_GLOBAL 0x100u
#define JC_TAG_EPOCH_SHIFT 9
#define JC_EPOCH_MAX  (1u << (32 - JC_TAG_EPOCH_SHIFT))
#define JC_BITS 18
#define JC_SIZE (1u << JC_BITS)
typedef struct X86Jc {
    uint32_t lin;
    uint32_t eip;           /* the EIP the CS limit was checked for */
    uint32_t tag;
    /* b's translation (NULL: none yet, or interpreted) and the code
     * buffer generation it belongs to: what a translated block's end
     * jumps to without touching the X86Block (x86-jit.c j_chain) */
    uint32_t code_gen;
    X86Block *b;
    void *code;
} X86Jc;

#define CODE_PAGES (1u << 20)   /* physical pages below 4 GiB */

/* MSR indices (SDM vol. 4) */
#define MSR_P5_MC_ADDR   0x000
#define MSR_P5_MC_TYPE   0x001
#define MSR_TSC          0x010
#define MSR_APIC_BASE    0x01B
#define MSR_SYSENTER_CS  0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define MSR_MTRRCAP      0x0FE
#define MSR_MTRR_DEF     0x2FF
#define MSR_PLATFORM_ID  0x017
#define MSR_BIOS_SIGN_ID 0x08B
#define MSR_MISC_ENABLE  0x1A0
#define MSR_PAT          0x277
#define MSR_EFER         0xC0000080u
#define MISC_ENABLE_XD_DISABLE (1ull << 34)
#define PAT_DEFAULT      0x0007040600070406ull

/* CPUID.1 feature bits (SDM vol. 2A, CPUID, table 3-11). A model's
 * X86Cpu.feat_edx / feat_ecx hold exactly what the interpreter
 * implements for it; instruction handlers test these, never the model. */
#define CPUID_FPU   (1u << 0)
#define CPUID_VME   (1u << 1)
#define CPUID_DE    (1u << 2)
#define CPUID_PSE   (1u << 3)
#define CPUID_TSC   (1u << 4)
#define CPUID_MSR   (1u << 5)
#define CPUID_PAE   (1u << 6)
#define CPUID_MCE   (1u << 7)
#define CPUID_CX8   (1u << 8)
#define CPUID_APIC  (1u << 9)
#define CPUID_SEP   (1u << 11)
#define CPUID_MTRR  (1u << 12)
#define CPUID_PGE   (1u << 13)
#define CPUID_MCA   (1u << 14)
#define CPUID_CMOV  (1u << 15)
#define CPUID_PAT   (1u << 16)
#define CPUID_PSE36 (1u << 17)
#define CPUID_CLFSH (1u << 19)
#define CPUID_MMX   (1u << 23)
#define CPUID_FXSR  (1u << 24)
#define CPUID_SSE   (1u << 25)
#define CPUID_SSE2  (1u << 26)
#define CPUID_SS    (1u << 27)
/* CPUID.80000001h EDX */
#define CPUID_EXT_NX (1u << 20)

/* x87 register file (SDM vol. 1, 8.1). Physical registers R0-R7 in the
 * 80-bit extended format; ST(i) is r[(top + i) & 7]. MMX register MMi is
 * r[i].mant (SDM vol. 1, 9.5: an MMX write sets r[i].se to 0xFFFF, TOP to
 * 0 and the tag to valid). tw is the full two-bit tag word as FSTENV
 * stores it (00 valid, 01 zero, 10 special, 11 empty); sw holds every
 * status-word bit but TOP, which lives in top. */
typedef struct X86F80 {
    uint64_t mant;          /* explicit integer bit 63 */
    uint16_t se;            /* sign << 15 | biased exponent */
} X86F80;

typedef struct X86Fpu {
    X86F80 r[8];
    uint16_t cw, sw, tw;
    uint8_t top;
    uint16_t fop;           /* last non-control opcode, 11 bits */
    uint16_t fcs, fds;      /* last instruction / operand selectors */
    uint32_t fip, fdp;      /* last instruction / operand offsets */
} X86Fpu;

/* SSE registers (SDM vol. 1, 10.2). */
typedef union X86Xmm {
    uint8_t b[16];
    uint16_t w[8];
    uint32_t d[4];
    uint64_t q[2];
} X86Xmm;

struct X86Cpu {
    /* architectural state; r[8] is a constant zero (EA_NONE) */
    uint32_t r[9];
    uint32_t eip, next_eip;
    uint32_t eflags;        /* arithmetic bits live in lf_res / lf_aux */
    uint32_t lf_res, lf_aux;
    X86Seg seg[8];
    uint32_t gdt_base, gdt_limit, idt_base, idt_limit;
    uint32_t cr0, cr2, cr3, cr4;
    uint32_t dr[8];
    /* DR7 decoded (x86_dr_update): enabled breakpoints by kind, bit n =
     * DRn; db_trap: a single-step, data or I/O breakpoint trap is due,
     * #DB after the instruction (SDM vol. 3, 17.2) */
    uint8_t dbp_insn, dbp_data, dbp_io;
    bool db_trap;
    bool rf_loaded;         /* the instruction set RF (IRET): keep it */
    uint64_t tsc_offset;    /* TSC = virtual ticks + offset */
    uint32_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t mtrr[0x30];    /* MTRR storage: fixed, variable, default */
    uint64_t mc_addr, mc_type;

    /* derived mode */
    int cpl;
    bool code32, ss32;

    X86Model model;
    uint32_t mhz;
    uint32_t feat_edx, feat_ecx;    /* CPUID.1 EDX/ECX of the model */
    uint32_t feat_ext_edx;          /* CPUID.80000001h EDX */

    /* x87 / MMX / SSE state */
    X86Fpu fpu;
    bool fpu_ferr, fpu_ignne;       /* FERR# output, IGNNE# input (x86-fpu.c) */
    X86Xmm xmm[8];
    uint32_t mxcsr;
    uint64_t efer;                  /* IA32_EFER (NXE) where the model has NX */
    const X86ModelInfo *mi;
    uint64_t pdpte[4];              /* PAE PDPTE registers (SDM vol. 3, 4.4.1) */
    uint64_t pat;                   /* IA32_PAT: reads back, no effect */
    uint64_t misc_enable;           /* IA32_MISC_ENABLE (Pentium 4) */

    /* inputs */
    bool intr, nmi_pending, nmi_blocked;
    bool halted;
    bool inhibit;           /* interrupt shadow after STI / MOV SS, */
    uint64_t inhibit_at;    /* ... which holds while icount is this (x86_shadow) */
    bool a20;
    uint32_t a20_mask;

    /* run control */
    volatile int brk;       /* leave the current block, re-check events */
    uint64_t icount;        /* retired instructions before the current block */
    /* Translated code goes on to another block while icount stays within
     * this: the limit less BLK_MAX (a whole block fits), set by the run
     * loop where it reads the limit, 0 from x86_break on (brk), so that
     * one compare holds both conditions. The limit moves only where brk
     * is set too (device callbacks, from port or MMIO accesses) or
     * between runs. */
    uint64_t chain_lim;
    const volatile uint64_t *limitp;
    volatile int *stop;
    bool shutdown;
    /* While a block runs, eip is the EIP of its first instruction, cur the
     * instruction executing and blk_first the block's first one: the
     * current EIP and retired count follow from them (x86_cur_eip,
     * x86_icount), so nothing is counted per instruction. */
    const X86Insn *cur, *blk_first;
    const X86Insn *stop_at;     /* the block run ends after this one */
    uint32_t jc_tag;            /* jump cache tag for the current mode */
    uint32_t jc_gtag;           /* the same for blocks in global pages */
    uint32_t exec_lim;          /* last EIP a block may cover (CS limit, 16-bit wrap) */
    bool redirect;              /* next_eip was set mid-block (reset) */

    /* fault delivery */
    sigjmp_buf jb;
    int exc_vec;
    uint32_t exc_err;
    bool exc_has_err;
    int delivering;         /* vector being delivered, or -1 */

    /* TLBs: [0] CPL<3, [1] CPL 3 */
    X86Tlb tlb[2][TLB_SIZE];
    X86Tlb *tlbc;
    X86TlbIo tlbio[2][TLB_SIZE];
    /* Physical pages (numbers) TLB [u] may hold entries for, a superset
     * kept since its last full flush (lo > hi: none), so a map change
     * elsewhere scans nothing. */
    uint32_t tlb_plo[2], tlb_phi[2];
    bool tlbio_used[2];     /* I/O entries made since that flush */
    bool tlb_clean[2];      /* every entry killed, none made since */
    /* Entries of TLB [u] that may allow writes (a superset: bits of
     * entries killed since may stay), so that taking write access away
     * from a page that now holds code (mark_code_page) visits those
     * alone rather than the whole TLB */
    uint64_t tlb_wmap[2][TLB_SIZE / 64];
    uint8_t *fill_host;     /* host page of the last TLB fill, or NULL */

    /* RMW scratch */
    uint8_t *rmw_ptr;
    uint32_t rmw_lin;

    /* code cache */
    X86Block **bhash;
    uint8_t *arena;
    size_t arena_used;
    X86Jc *jc;
    uint32_t jc_epoch, jc_gepoch;
    /* per 4 MiB of linear space: the jump cache has global entries there
     * under the current global epoch (an INVLPG elsewhere moves only the
     * other epoch: x86_jc_invalidate_page) */
    uint8_t jc_gregion[1024];
    uint8_t *code_page;     /* per physical page: decoded code lives here */
    uint32_t *page_gen;
    uint32_t ggen;

    X86Bus bus;
    void *owner;            /* plugin instance */

    /* execution engine: X86_ENGINE_*; the translator's state (x86-jit.c);
     * runs of a block before it is translated */
    uint8_t engine;
    uint8_t jit_hot;
    uint8_t jit_count;      /* translations count chained entries (tests) */
    struct X86Jit *jit;
    /* the block a translated run ended in: translated blocks chain to
     * the next one without returning to the run loop (x86-jit.c) */
    X86Block *jit_last;
};

/* Execution engines: the interpreter, the translator (x86-jit.h), and
 * both on every translated block that can be replayed, compared after it
 * (tests). */
enum { X86_ENGINE_INTERP, X86_ENGINE_JIT, X86_ENGINE_LOCKSTEP };

#define X86_INLINE static inline __attribute__((always_inline))

/* An NMI or INTR the CPU would accept between instructions now. */
X86_INLINE bool x86_irq_pending(const X86Cpu *c)
{
    return (c->nmi_pending && !c->nmi_blocked) || (c->intr && (c->eflags & F_IF));
}

/* Leave the running block after the current instruction and re-check
 * events (interrupts, the limit, mode changes, code writes). */
X86_INLINE void x86_break(X86Cpu *c)
{
    c->brk = 1;
    c->chain_lim = 0;
    c->stop_at = c->cur;
}

/* A segment any offset of which is its linear address, readable and
 * writable. */
X86_INLINE bool x86_seg_is_flat(const X86Seg *s)
{
    return s->base == 0 && s->lo == 0 && s->hi == 0xFFFFFFFFu && s->rd && s->wr;
}

/* What the jump cache tag's flat set records for segment seg: a flat
 * segment, and for SS a 32-bit stack as well (so that a translation's
 * pushes and pops need no check of the stack's size); for CS base 0 and
 * offsets 0 - 4 GiB - 1 (the linear address of any EIP is the EIP; a
 * code segment is never writable, and an access through CS is checked). */
X86_INLINE bool x86_seg_flat_tag(const X86Cpu *c, int seg)
{
    const X86Seg *s = &c->seg[seg];
    if (seg == S_CS)
        return s->base == 0 && s->lo == 0 && s->hi == 0xFFFFFFFFu;
    return x86_seg_is_flat(s) && (seg != S_SS || c->ss32);
}


/* ---- lazy flags ---------------------------------------------------------
 * The six arithmetic flags are kept as two words, so that setting them is
 * cheap and any subset can be replaced on its own (rotates, INC/DEC, BT):
 *   lf_res: the last result, sign-extended from its operand size;
 *   lf_aux: LF_CF = carry (borrow) out of the top bit, LF_PO = carry out of
 *           the bit below it (OF = CF ^ PO), LF_AF = carry out of bit 3,
 *           and two deltas that let SF and PF differ from the result's.
 *   ZF = lf_res == 0       SF = lf_res bit 31 ^ LF_SD
 *   PF = even parity of (lf_res ^ PDB) bits 0-7, PDB = lf_aux bits 8-15
 * (SDM vol. 1, 3.4.3.1; the carry-vector formulation is the textbook
 * full-adder identity cout = a&b | (a|b)&~r.)
 */
#define LF_SD  0x00000001u
#define LF_AF  0x00000008u
#define LF_PDB 0x0000FF00u
#define LF_PO  0x40000000u
#define LF_CF  0x80000000u

X86_INLINE uint32_t x86_sext(uint32_t r, unsigned size)
{
    return size == 1 ? (uint32_t)(int32_t)(int8_t)r
         : size == 2 ? (uint32_t)(int32_t)(int16_t)r : r;
}
/* Place the carry vector cv of a size-byte operation into lf_aux form. */
X86_INLINE uint32_t lf_carries(uint32_t cv, unsigned size)
{
    return ((cv << (32 - 8 * size)) & (LF_CF | LF_PO)) | (cv & LF_AF);
}
X86_INLINE void lf_add(X86Cpu *c, uint32_t a, uint32_t b, uint32_t r, unsigned size)
{
    c->lf_res = x86_sext(r, size);
    c->lf_aux = lf_carries((a & b) | ((a | b) & ~r), size);
}
X86_INLINE void lf_sub(X86Cpu *c, uint32_t a, uint32_t b, uint32_t r, unsigned size)
{
    c->lf_res = x86_sext(r, size);
    c->lf_aux = lf_carries((~a & b) | (~(a ^ b) & r), size);
}
X86_INLINE void lf_logic(X86Cpu *c, uint32_t r, unsigned size)
{
    c->lf_res = x86_sext(r, size);
    c->lf_aux = 0;
}
/* INC/DEC: CF unchanged; OF when the result crosses the signed limit,
 * AF when the low nibble wraps. */
X86_INLINE void lf_incdec(X86Cpu *c, uint32_t r, unsigned size, uint32_t of_at, uint32_t af_at)
{
    uint32_t cf = c->lf_aux & LF_CF;
    uint32_t m = size == 1 ? 0xFF : size == 2 ? 0xFFFF : 0xFFFFFFFFu;
    uint32_t of = (r & m) == of_at;
    c->lf_res = x86_sext(r, size);
    c->lf_aux = cf | ((cf >> 1) ^ (of << 30)) | (((r & 0xF) == af_at) << 3);
}
X86_INLINE void lf_inc(X86Cpu *c, uint32_t a, uint32_t r, unsigned size)
{
    (void)a;
    lf_incdec(c, r, size, 1u << (8 * size - 1), 0);
}
X86_INLINE void lf_dec(X86Cpu *c, uint32_t a, uint32_t r, unsigned size)
{
    (void)a;
    lf_incdec(c, r, size, (1u << (8 * size - 1)) - 1, 0xF);
}
/* Result flags plus an explicit CF and OF (shifts, multiplies). */
X86_INLINE void lf_res_cf_of(X86Cpu *c, uint32_t r, unsigned size, uint32_t cf, uint32_t of)
{
    c->lf_res = x86_sext(r, size);
    c->lf_aux = (cf << 31) | ((cf ^ of) << 30);
}
/* Replace CF and OF only (rotates). */
X86_INLINE void lf_set_cf_of(X86Cpu *c, uint32_t cf, uint32_t of)
{
    c->lf_aux = (c->lf_aux & ~(LF_CF | LF_PO)) | (cf << 31) | ((cf ^ of) << 30);
}
X86_INLINE uint32_t x86_parity_even(uint32_t v)
{
    return !__builtin_parity(v & 0xFF);
}
X86_INLINE uint32_t x86_get_cf(const X86Cpu *c) { return c->lf_aux >> 31; }
X86_INLINE uint32_t x86_get_of(const X86Cpu *c) { return ((c->lf_aux >> 31) ^ (c->lf_aux >> 30)) & 1; }
X86_INLINE uint32_t x86_get_zf(const X86Cpu *c) { return c->lf_res == 0; }
X86_INLINE uint32_t x86_get_sf(const X86Cpu *c) { return ((c->lf_res >> 31) ^ c->lf_aux) & 1; }
X86_INLINE uint32_t x86_get_pf(const X86Cpu *c)
{
    return x86_parity_even(c->lf_res ^ (c->lf_aux >> 8));
}
/* OSZAPC as EFLAGS bits. */
X86_INLINE uint32_t x86_flags_arith(const X86Cpu *c)
{
    return x86_get_cf(c) | (x86_get_pf(c) << 2) | ((c->lf_aux & LF_AF) << 1)
         | (x86_get_zf(c) << 6) | (x86_get_sf(c) << 7) | (x86_get_of(c) << 11);
}
/* Set all six arithmetic flags from EFLAGS bits. */
X86_INLINE void x86_set_arith(X86Cpu *c, uint32_t f)
{
    uint32_t sf = (f >> 7) & 1, zf = (f >> 6) & 1, cf = f & 1, of = (f >> 11) & 1;
    c->lf_res = zf ? 0 : sf ? 0x80000000u : 0x100u;
    c->lf_aux = (cf << 31) | ((cf ^ of) << 30) | ((f & F_AF) >> 1)
              | ((f & F_PF) ? 0 : 0x100u) | (zf & sf);
}
X86_INLINE uint32_t x86_get_eflags(const X86Cpu *c)
{
    return (c->eflags & ~F_ARITH) | x86_flags_arith(c);
}
/* Make c->eflags hold the arithmetic flags too (state save). */
X86_INLINE void x86_flags_sync(X86Cpu *c)
{
    c->eflags = x86_get_eflags(c);
}
/* Condition cc (the low nibble of Jcc/SETcc/CMOVcc). */
X86_INLINE bool x86_cond(const X86Cpu *c, unsigned cc)
{
    uint32_t res = c->lf_res, aux = c->lf_aux;
    uint32_t v;
    switch (cc >> 1) {
    case 0: v = ((aux >> 31) ^ (aux >> 30)) & 1; break;                 /* O */
    case 1: v = aux >> 31; break;                                       /* B */
    case 2: v = res == 0; break;                                        /* Z */
    case 3: v = (aux >> 31) | (res == 0); break;                        /* BE */
    case 4: v = ((res >> 31) ^ aux) & 1; break;                         /* S */
    case 5: v = x86_parity_even(res ^ (aux >> 8)); break;               /* P */
    case 6: v = ((res >> 31) ^ aux ^ (aux >> 31) ^ (aux >> 30)) & 1; break;  /* L */
    default: v = (((res >> 31) ^ aux ^ (aux >> 31) ^ (aux >> 30)) & 1) | (res == 0); break;
    }
    return v ^ (cc & 1);
}
/* Write EFLAGS honoring what `mask` lets change. */
void x86_write_eflags(X86Cpu *c, uint32_t val, uint32_t mask);

/* ---- faults (x86-run.c, delivery in x86-seg.c) ------------------------ */
G_NORETURN void x86_raise(X86Cpu *c, int vec, uint32_t err);
G_NORETURN void x86_raise_noerr(X86Cpu *c, int vec);
#define x86_gp(c, e) x86_raise((c), X86_GP, (e))
#define x86_ud(c) x86_raise_noerr((c), X86_UD)
/* Deliver an interrupt: soft = INT n/INT3/INTO (privilege check against
 * the gate DPL, V86 IOPL rules); ret_eip = the EIP to push. */
enum { INT_HW, INT_SOFT, INT_EXC };
void x86_interrupt(X86Cpu *c, int vec, int kind, bool has_err, uint32_t err,
                   uint32_t ret_eip);

/* ---- memory (x86-mem.c) ---------------------------------------------- */
void x86_tlb_flush(X86Cpu *c);
void x86_tlb_flush_page(X86Cpu *c, uint32_t lin);
void x86_tlb_flush_nonglobal(X86Cpu *c);   /* MOV CR3 */
/* Load the PAE PDPTE registers from CR3 = cr3; false (nothing loaded)
 * when a present one has reserved bits set: the caller raises #GP. */
bool x86_load_pdptes(X86Cpu *c, uint32_t cr3);
X86_INLINE bool x86_pae_paging(uint32_t cr0, uint32_t cr4)
{
    return (cr0 & CR0_PG) && (cr4 & CR4_PAE);
}
void x86_update_mode(X86Cpu *c);    /* after CR0/EFLAGS.VM/CS changes */
/* Translate a linear address; raises #PF. acc: 0 read, 1 write, 2 fetch. */
uint64_t x86_translate(X86Cpu *c, uint32_t lin, int acc, bool user);
uint64_t x86_tlb_fill(X86Cpu *c, uint32_t lin, int acc, bool user);
uint32_t x86_lin_read_slow(X86Cpu *c, uint32_t lin, unsigned size, bool user);
void x86_lin_write_slow(X86Cpu *c, uint32_t lin, uint32_t v, unsigned size, bool user);
G_NORETURN void x86_seg_fault(X86Cpu *c, int seg);
uint32_t x86_rmw_slow(X86Cpu *c, uint32_t lin, unsigned size);
uint32_t x86_fetch_slow(X86Cpu *c, uint32_t lin);
void x86_code_invalidate(X86Cpu *c, uint64_t start, uint64_t len);
void x86_code_flush_all(X86Cpu *c);
/* The physical memory map changed in [start, start+len): drop the TLB
 * entries (RAM and I/O) and the decoded blocks of that range only. */
void x86_mem_changed(X86Cpu *c, uint64_t start, uint64_t len);
void x86_jc_invalidate(X86Cpu *c);
/* ... all but the blocks in global pages (MOV CR3 with CR4.PGE) */
void x86_jc_invalidate_nonglobal(X86Cpu *c);
void x86_jc_invalidate_page(X86Cpu *c, uint32_t lin);
uint64_t x86_phys_read(X86Cpu *c, uint64_t pa, unsigned size);
void x86_phys_write(X86Cpu *c, uint64_t pa, uint64_t v, unsigned size);
/* Supervisor ("system") accesses: descriptor tables, TSS. */
uint32_t x86_sys_read(X86Cpu *c, uint32_t lin, unsigned size);
void x86_sys_write(X86Cpu *c, uint32_t lin, uint32_t v, unsigned size);

X86_INLINE bool x86_seg_ok(const X86Seg *s, uint32_t off, unsigned size)
{
    return X86_LIKELY(off >= s->lo && (uint64_t)off + size - 1 <= s->hi);
}

X86_INLINE uint32_t x86_lin(X86Cpu *c, int seg, uint32_t off, unsigned size,
                            bool write)
{
    X86Seg *s = &c->seg[seg];
    if (X86_UNLIKELY(!x86_seg_ok(s, off, size) || !(write ? s->wr : s->rd)))
        x86_seg_fault(c, seg);
    return s->base + off;
}

X86_INLINE uint32_t x86_host_ld(const uint8_t *p, unsigned size)
{
    switch (size) {
    case 1: return *p;
    case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
    default: { uint32_t v; memcpy(&v, p, 4); return v; }
    }
}
X86_INLINE void x86_host_st(uint8_t *p, uint32_t v, unsigned size)
{
    switch (size) {
    case 1: *p = (uint8_t)v; return;
    case 2: { uint16_t w = (uint16_t)v; memcpy(p, &w, 2); return; }
    default: memcpy(p, &v, 4); return;
    }
}

X86_INLINE X86Tlb *x86_tlb_entry(X86Cpu *c, uint32_t lin)
{
    return &c->tlbc[(lin >> 12) & (TLB_SIZE - 1)];
}

X86_INLINE uint32_t x86_ld_lin(X86Cpu *c, uint32_t lin, unsigned size)
{
    X86Tlb *e = x86_tlb_entry(c, lin);
    if (X86_LIKELY(e->rtag == (lin & ~0xFFFu) && (lin & 0xFFF) <= 0x1000 - size))
        return x86_host_ld((const uint8_t *)(e->radd + lin), size);
    return x86_lin_read_slow(c, lin, size, c->cpl == 3);
}

X86_INLINE void x86_st_lin(X86Cpu *c, uint32_t lin, uint32_t v, unsigned size)
{
    X86Tlb *e = x86_tlb_entry(c, lin);
    if (X86_LIKELY(e->wtag == (lin & ~0xFFFu) && (lin & 0xFFF) <= 0x1000 - size)) {
        x86_host_st((uint8_t *)(e->wadd + lin), v, size);
        return;
    }
    x86_lin_write_slow(c, lin, v, size, c->cpl == 3);
}

X86_INLINE uint32_t x86_ld(X86Cpu *c, int seg, uint32_t off, unsigned size)
{
    return x86_ld_lin(c, x86_lin(c, seg, off, size, false), size);
}
X86_INLINE void x86_st(X86Cpu *c, int seg, uint32_t off, uint32_t v, unsigned size)
{
    x86_st_lin(c, x86_lin(c, seg, off, size, true), v, size);
}
/* Host pointer for a read-modify-write of lin, or NULL (slow path). */
X86_INLINE uint8_t *x86_rmw_host(X86Cpu *c, uint32_t lin, unsigned size)
{
    X86Tlb *e = x86_tlb_entry(c, lin);
    if (X86_LIKELY(e->rwtag == (lin & ~0xFFFu) && (lin & 0xFFF) <= 0x1000 - size))
        return (uint8_t *)(e->wadd + lin);
    return NULL;
}
/* Read for read-modify-write: checks write permission now, so the store
 * (x86_rmw_st) cannot fault. */
X86_INLINE uint32_t x86_rmw_ld(X86Cpu *c, int seg, uint32_t off, unsigned size)
{
    uint32_t lin = x86_lin(c, seg, off, size, true);
    uint8_t *p = x86_rmw_host(c, lin, size);
    c->rmw_lin = lin;
    c->rmw_ptr = p;
    if (X86_LIKELY(p != NULL))
        return x86_host_ld(p, size);
    return x86_rmw_slow(c, lin, size);
}
X86_INLINE void x86_rmw_st(X86Cpu *c, uint32_t v, unsigned size)
{
    uint8_t *p = c->rmw_ptr;
    if (X86_LIKELY(p != NULL)) {
        x86_host_st(p, v, size);
        return;
    }
    x86_lin_write_slow(c, c->rmw_lin, v, size, c->cpl == 3);
}

/* ---- registers and operands ------------------------------------------ */
X86_INLINE uint32_t x86_reg8(const X86Cpu *c, unsigned r)
{
    return r < 4 ? (c->r[r] & 0xFF) : ((c->r[r - 4] >> 8) & 0xFF);
}
X86_INLINE void x86_set_reg8(X86Cpu *c, unsigned r, uint32_t v)
{
    if (r < 4)
        c->r[r] = (c->r[r] & ~0xFFu) | (v & 0xFF);
    else
        c->r[r - 4] = (c->r[r - 4] & ~0xFF00u) | ((v & 0xFF) << 8);
}
X86_INLINE uint32_t x86_getreg(const X86Cpu *c, unsigned r, unsigned size)
{
    switch (size) {
    case 1: return x86_reg8(c, r);
    case 2: return c->r[r] & 0xFFFF;
    default: return c->r[r];
    }
}
X86_INLINE void x86_setreg(X86Cpu *c, unsigned r, uint32_t v, unsigned size)
{
    switch (size) {
    case 1: x86_set_reg8(c, r, v); break;
    case 2: c->r[r] = (c->r[r] & 0xFFFF0000u) | (v & 0xFFFF); break;
    default: c->r[r] = v; break;
    }
}

X86_INLINE uint32_t x86_ea(const X86Cpu *c, const X86Insn *i)
{
    return (i->disp + c->r[i->base] + (c->r[i->index] << i->scale)) & i->amask;
}

X86_INLINE unsigned x86_osize(const X86Insn *i) { return i->o32 ? 4 : 2; }

X86_INLINE uint32_t x86_rm_read(X86Cpu *c, const X86Insn *i, unsigned size)
{
    if (i->mod == 3)
        return x86_getreg(c, i->rm, size);
    return x86_ld(c, i->seg, x86_ea(c, i), size);
}
X86_INLINE void x86_rm_write(X86Cpu *c, const X86Insn *i, uint32_t v, unsigned size)
{
    if (i->mod == 3)
        x86_setreg(c, i->rm, v, size);
    else
        x86_st(c, i->seg, x86_ea(c, i), v, size);
}
/* RMW pair on the r/m operand. */
X86_INLINE uint32_t x86_rm_rmw_ld(X86Cpu *c, const X86Insn *i, unsigned size)
{
    if (i->mod == 3)
        return x86_getreg(c, i->rm, size);
    return x86_rmw_ld(c, i->seg, x86_ea(c, i), size);
}
X86_INLINE void x86_rm_rmw_st(X86Cpu *c, const X86Insn *i, uint32_t v, unsigned size)
{
    if (i->mod == 3)
        x86_setreg(c, i->rm, v, size);
    else
        x86_rmw_st(c, v, size);
}

/* ---- stack ------------------------------------------------------------ */
X86_INLINE uint32_t x86_sp(const X86Cpu *c)
{
    return c->ss32 ? c->r[R_ESP] : (c->r[R_ESP] & 0xFFFF);
}
X86_INLINE void x86_set_sp(X86Cpu *c, uint32_t v)
{
    if (c->ss32)
        c->r[R_ESP] = v;
    else
        c->r[R_ESP] = (c->r[R_ESP] & 0xFFFF0000u) | (v & 0xFFFF);
}
X86_INLINE void x86_push(X86Cpu *c, uint32_t v, unsigned size)
{
    uint32_t sp = x86_sp(c) - size;
    if (!c->ss32)
        sp &= 0xFFFF;
    x86_st(c, S_SS, sp, v, size);
    x86_set_sp(c, sp);
}
X86_INLINE uint32_t x86_pop(X86Cpu *c, unsigned size)
{
    uint32_t sp = x86_sp(c);
    uint32_t v = x86_ld(c, S_SS, sp, size);
    x86_set_sp(c, sp + size);
    return v;
}

/* ---- control transfer helpers ----------------------------------------- */
X86_INLINE void x86_jump_near(X86Cpu *c, uint32_t target, bool o32)
{
    if (!o32)
        target &= 0xFFFF;
    if (X86_UNLIKELY(target > c->seg[S_CS].limit))
        x86_gp(c, 0);
    c->next_eip = target;
}

/* ---- segments, protection, tasks (x86-seg.c, x86-task.c) -------------- */
void x86_seg_set_real(X86Cpu *c, int seg, uint16_t sel);
void x86_seg_derive(X86Cpu *c, int seg);
void x86_load_seg(X86Cpu *c, int seg, uint16_t sel);   /* MOV/POP/LxS */
bool x86_read_desc(X86Cpu *c, uint16_t sel, uint32_t *lo, uint32_t *hi);
void x86_desc_to_seg(X86Seg *s, uint16_t sel, uint32_t lo, uint32_t hi);
void x86_set_cpl(X86Cpu *c, int cpl);
void x86_far_jump(X86Cpu *c, uint16_t sel, uint32_t off, bool o32);
void x86_far_call(X86Cpu *c, uint16_t sel, uint32_t off, bool o32);
void x86_far_ret(X86Cpu *c, bool o32, uint16_t imm);
void x86_iret(X86Cpu *c, bool o32);
enum { TS_JMP, TS_CALL, TS_IRET, TS_INT };
void x86_task_switch(X86Cpu *c, uint16_t sel, uint32_t lo, uint32_t hi,
                     int reason, bool has_err, uint32_t err);
void x86_lldt(X86Cpu *c, uint16_t sel);
void x86_ltr(X86Cpu *c, uint16_t sel);
bool x86_io_allowed(X86Cpu *c, uint32_t port, unsigned size);

/* ---- system (x86-exec-sys.c) -------------------------------------------- */
void x86_write_cr0(X86Cpu *c, uint32_t v);
void x86_write_cr3(X86Cpu *c, uint32_t v);
void x86_write_cr4(X86Cpu *c, uint32_t v);
void x86_cpuid(X86Cpu *c);
bool x86_has_cpuid(const X86Cpu *c);
uint64_t x86_tsc(X86Cpu *c);
void x86_set_a20(X86Cpu *c, bool on);
/* Debug registers (x86-mem.c): re-read DR7 after DR0-3, DR7 or CR4.DE
 * changed; check a data or I/O access against the breakpoints. */
#define DR6_BD 0x2000u
#define DR6_BS 0x4000u
#define DR6_BT 0x8000u
#define DR7_GD 0x2000u
void x86_dr_update(X86Cpu *c);
void x86_dbp_io(X86Cpu *c, uint32_t port, unsigned size);

/* ---- decode / run (x86-decode.c, x86-run.c) ---------------------------- */
/* Decode one instruction from buf (avail bytes valid). Returns its length,
 * or 0 when it needs more bytes than avail. Never fails otherwise: an
 * invalid encoding decodes to a #UD (or #GP for > 15 bytes) handler. */
unsigned x86_decode(const uint8_t *buf, unsigned avail, bool code32, X86Insn *i);

void x86_init(X86Cpu *c, X86Model model, const X86Bus *bus);
/* Become model: identification, features, MSR set (x86-model.c). */
void x86_set_model(X86Cpu *c, X86Model model);
/* CPUID family: 4, 5, 6 (P6) or 15 (Pentium 4). */
X86_INLINE unsigned x86_family(const X86Cpu *c)
{
    return (c->mi->signature >> 8) & 0xF;
}
void x86_fini(X86Cpu *c);
void x86_reset(X86Cpu *c);
enum { X86_EXIT_LIMIT, X86_EXIT_HALTED, X86_EXIT_SHUTDOWN };
int x86_run(X86Cpu *c, const volatile uint64_t *icount_limit, volatile int *stop);

/* EIP of instruction i of the running block (REP resumes there). */
X86_INLINE uint32_t x86_insn_eip(const X86Cpu *c, const X86Insn *i)
{
    return c->eip + i->end - i->len;
}
/* From now on a fault reports eip as the faulting EIP (a task switch
 * past its commit point: faults belong to the new task). */
X86_INLINE void x86_set_fault_eip(X86Cpu *c, uint32_t eip)
{
    if (c->cur) {
        c->icount += (uint64_t)(c->cur - c->blk_first);
        c->blk_first = c->cur;
        c->eip = eip - (c->cur->end - c->cur->len);
    } else {
        c->eip = eip;
    }
}
/* Retired instructions, exact at any device access. */
X86_INLINE uint64_t x86_icount(const X86Cpu *c)
{
    return c->icount + (uint64_t)(c->cur ? c->cur - c->blk_first : 0);
}

/* Open the interrupt shadow for the instruction after the current one
 * (STI, MOV SS, POP SS): no interrupt is taken before it. It holds only
 * at that instruction boundary, so nothing needs to close it: an STI with
 * no interrupt waiting goes on in its block (Linux's local_irq_enable;
 * breaking there ended a block and ran the next instruction alone, some
 * 13 times per frame a guest sent); with one waiting, or for MOV SS
 * (which also holds off a single-step trap), the run loop steps the
 * next instruction and then takes it. */
X86_INLINE void x86_shadow(X86Cpu *c, bool brk)
{
    c->inhibit = true;
    c->inhibit_at = x86_icount(c) + 1;
    if (brk || (c->eflags & F_TF) || x86_irq_pending(c))
        x86_break(c);
}

/* I/O with the bus; exact icount is kept by the caller. */
uint32_t x86_io_in(X86Cpu *c, uint32_t port, unsigned size);
void x86_io_out(X86Cpu *c, uint32_t port, uint32_t v, unsigned size);

/* Handler prototypes used by the decoder tables. */
#define X86_H(name) void name(X86Cpu *c, const X86Insn *i)

#endif
