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
 *    pre-decoded operands), cached by physical address and CS.D, and
 *    invalidated by per-page generations when a code page is written;
 *  - arithmetic flags are lazy (cc_op + operands + result);
 *  - a software TLB (one for CPL<3, one for CPL 3) holds host pointers of
 *    RAM pages; a TLB write entry is never installed for a page holding
 *    decoded code, so the first store to such a page takes the slow path
 *    and invalidates it.
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

/* Exception vectors */
enum {
    X86_DE = 0, X86_DB = 1, X86_NMI = 2, X86_BP = 3, X86_OF = 4, X86_BR = 5,
    X86_UD = 6, X86_NM = 7, X86_DF = 8, X86_TS = 10, X86_NP = 11,
    X86_SS = 12, X86_GP = 13, X86_PF = 14, X86_MF = 16, X86_AC = 17,
    X86_MC = 18,
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

typedef enum { X86_MODEL_486, X86_MODEL_PENTIUM, X86_MODEL_PPRO } X86Model;

typedef struct X86Seg {
    uint32_t base, limit;
    uint32_t attr;          /* descriptor high dword & 0x00F0FF00 */
    uint16_t sel;
    /* derived: valid offsets are [lo, hi]; rd/wr permitted */
    uint32_t lo, hi;
    uint8_t rd, wr;
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
} X86Bus;

typedef struct X86Cpu X86Cpu;
typedef struct X86Insn X86Insn;
typedef void (*X86Handler)(X86Cpu *c, const X86Insn *i);

#define EA_NONE 0xFF

struct X86Insn {
    X86Handler fn;
    uint32_t disp;
    uint32_t imm;
    uint16_t imm2;          /* far pointer selector, ENTER level */
    uint16_t op;            /* opcode: 0x000-0x0FF, 0x100-0x1FF for 0F xx */
    uint8_t len;
    uint8_t mod;            /* 3: register operand */
    uint8_t reg, rm;        /* ModRM fields */
    uint8_t base, index;    /* EA registers or EA_NONE */
    uint8_t scale;          /* shift */
    uint8_t seg;            /* segment of the memory operand */
    uint8_t o32, a32;       /* operand / address size is 32 bits */
    uint8_t rep;            /* 0, 1 = F3 (REP/REPE), 2 = F2 (REPNE) */
    uint8_t lock;
};

#define TLB_BITS 8
#define TLB_SIZE (1u << TLB_BITS)
typedef struct X86Tlb {
    uint32_t rtag, wtag;    /* linear page, or 1: no entry */
    uintptr_t radd, wadd;   /* host = linear + add */
    uint32_t pphys;         /* physical page (for the code cache) */
} X86Tlb;

#define BLK_MAX 32
#define BLK_CACHE_BITS 12
typedef struct X86Block {
    uint32_t phys;          /* physical address of the first byte */
    uint32_t gen;           /* page generation when decoded */
    uint32_t ggen;          /* global generation when decoded */
    uint8_t code32;
    uint8_t n;
    uint16_t bytes;
    X86Insn ins[BLK_MAX];
} X86Block;

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

struct X86Cpu {
    /* architectural state */
    uint32_t r[8];
    uint32_t eip, next_eip;
    uint32_t eflags;        /* arithmetic bits valid only when cc_op == CC_EAGER */
    uint32_t cc_op, cc_res, cc_a, cc_b;
    X86Seg seg[8];
    uint32_t gdt_base, gdt_limit, idt_base, idt_limit;
    uint32_t cr0, cr2, cr3, cr4;
    uint32_t dr[8];
    uint64_t tsc_offset;    /* TSC = virtual ticks + offset */
    uint32_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t mtrr[0x30];    /* MTRR storage: fixed, variable, default */
    uint64_t mc_addr, mc_type;

    /* derived mode */
    int cpl;
    bool code32, ss32;

    X86Model model;
    uint32_t mhz;

    /* inputs */
    bool intr, nmi_pending, nmi_blocked;
    bool halted;
    bool inhibit;           /* interrupt shadow after STI / MOV SS */
    bool a20;
    uint32_t a20_mask;

    /* run control */
    volatile int brk;       /* leave the current block */
    uint64_t icount;
    const volatile uint64_t *limitp;
    volatile int *stop;
    bool shutdown;

    /* fault delivery */
    sigjmp_buf jb;
    int exc_vec;
    uint32_t exc_err;
    bool exc_has_err;
    int delivering;         /* vector being delivered, or -1 */
    bool rep_active;        /* an iteration of REP left, resume it */

    /* TLBs: [0] CPL<3, [1] CPL 3 */
    X86Tlb tlb[2][TLB_SIZE];
    X86Tlb *tlbc;

    /* RMW scratch */
    uint8_t *rmw_ptr;
    uint32_t rmw_lin;

    /* code cache */
    X86Block *blocks;
    uint8_t *code_page;     /* per physical page: decoded code lives here */
    uint32_t *page_gen;
    uint32_t ggen;

    X86Bus bus;
    void *owner;            /* plugin instance */
};

/* ---- lazy flags (x86-flags.c) --------------------------------------- */
enum {
    CC_EAGER = 0,
    CC_ADD = 1, CC_ADC = 4, CC_SUB = 7, CC_SBB = 10, CC_LOGIC = 13,
    CC_INC = 16, CC_DEC = 19,
};
#define CC_SZ(bytes) ((bytes) == 1 ? 0 : (bytes) == 2 ? 1 : 2)
uint32_t x86_flags_arith(const X86Cpu *c);
bool x86_cond(const X86Cpu *c, unsigned cc);
static inline uint32_t x86_get_eflags(const X86Cpu *c)
{
    if (c->cc_op == CC_EAGER)
        return c->eflags;
    return (c->eflags & ~F_ARITH) | x86_flags_arith(c);
}
static inline void x86_flags_sync(X86Cpu *c)
{
    if (c->cc_op != CC_EAGER) {
        c->eflags = (c->eflags & ~F_ARITH) | x86_flags_arith(c);
        c->cc_op = CC_EAGER;
    }
}
static inline void x86_setcc(X86Cpu *c, unsigned op, uint32_t a, uint32_t b,
                             uint32_t res)
{
    c->cc_op = op; c->cc_a = a; c->cc_b = b; c->cc_res = res;
}
static inline unsigned x86_parity(uint32_t v)
{
    return !__builtin_parity(v & 0xFF);
}
/* Set the arithmetic flags from a full OSZAPC value. */
static inline void x86_set_arith(X86Cpu *c, uint32_t f)
{
    x86_flags_sync(c);
    c->eflags = (c->eflags & ~F_ARITH) | (f & F_ARITH);
}
/* Replace all six arithmetic flags (no need to compute the old ones). */
static inline void x86_set_arith_all(X86Cpu *c, uint32_t f)
{
    c->eflags = (c->eflags & ~F_ARITH) | (f & F_ARITH);
    c->cc_op = CC_EAGER;
}
/* CF alone, cheaply (INC/DEC, ADC/SBB need only it). */
static inline uint32_t x86_get_cf(const X86Cpu *c)
{
    unsigned op = c->cc_op;
    if (op == CC_EAGER)
        return c->eflags & F_CF;
    if (op >= CC_LOGIC && op < CC_LOGIC + 3)
        return 0;
    if (op >= CC_INC)
        return c->cc_b & F_CF;
    if (op >= CC_SUB && op < CC_SUB + 3) {
        uint32_t m = op == CC_SUB ? 0xFF : op == CC_SUB + 1 ? 0xFFFF : 0xFFFFFFFFu;
        return (c->cc_a & m) < (c->cc_b & m);
    }
    return x86_flags_arith(c) & F_CF;
}
/* Write EFLAGS honoring what `mask` lets change. */
void x86_write_eflags(X86Cpu *c, uint32_t val, uint32_t mask);

/* ---- faults (x86-except.c) ------------------------------------------- */
G_NORETURN void x86_raise(X86Cpu *c, int vec, uint32_t err);
G_NORETURN void x86_raise_noerr(X86Cpu *c, int vec);
#define x86_gp(c, e) x86_raise((c), X86_GP, (e))
#define x86_ud(c) x86_raise_noerr((c), X86_UD)
void x86_deliver_pending(X86Cpu *c);
/* Deliver an interrupt: soft = INT n/INT3/INTO (privilege check against
 * the gate DPL, V86 IOPL rules); ret_eip = the EIP to push. */
enum { INT_HW, INT_SOFT, INT_EXC };
void x86_interrupt(X86Cpu *c, int vec, int kind, bool has_err, uint32_t err,
                   uint32_t ret_eip);

/* ---- memory (x86-mem.c) ---------------------------------------------- */
void x86_tlb_flush(X86Cpu *c);
void x86_tlb_flush_page(X86Cpu *c, uint32_t lin);
void x86_update_mode(X86Cpu *c);    /* after CR0/EFLAGS.VM/CS changes */
/* Translate a linear address; raises #PF. acc: 0 read, 1 write, 2 fetch. */
uint64_t x86_translate(X86Cpu *c, uint32_t lin, int acc, bool user);
uint64_t x86_tlb_fill(X86Cpu *c, uint32_t lin, int acc, bool user);
uint32_t x86_lin_read_slow(X86Cpu *c, uint32_t lin, unsigned size, bool user);
void x86_lin_write_slow(X86Cpu *c, uint32_t lin, uint32_t v, unsigned size, bool user);
void x86_seg_fault(X86Cpu *c, int seg);
uint32_t x86_rmw_slow(X86Cpu *c, uint32_t lin, unsigned size);
void x86_code_invalidate(X86Cpu *c, uint64_t start, uint64_t len);
void x86_code_flush_all(X86Cpu *c);
uint64_t x86_phys_read(X86Cpu *c, uint64_t pa, unsigned size);
void x86_phys_write(X86Cpu *c, uint64_t pa, uint64_t v, unsigned size);
/* Supervisor ("system") accesses: descriptor tables, TSS. */
uint32_t x86_sys_read(X86Cpu *c, uint32_t lin, unsigned size);
void x86_sys_write(X86Cpu *c, uint32_t lin, uint32_t v, unsigned size);

static inline bool x86_seg_ok(const X86Seg *s, uint32_t off, unsigned size)
{
    return X86_LIKELY(off >= s->lo && (uint64_t)off + size - 1 <= s->hi);
}

static inline uint32_t x86_lin(X86Cpu *c, int seg, uint32_t off, unsigned size,
                               bool write)
{
    X86Seg *s = &c->seg[seg];
    if (X86_UNLIKELY(!x86_seg_ok(s, off, size) || !(write ? s->wr : s->rd)))
        x86_seg_fault(c, seg);
    return s->base + off;
}

static inline uint32_t x86_ld_lin(X86Cpu *c, uint32_t lin, unsigned size)
{
    X86Tlb *e = &c->tlbc[(lin >> 12) & (TLB_SIZE - 1)];
    if (X86_LIKELY(e->rtag == (lin & ~0xFFFu) && (lin & 0xFFF) <= 0x1000 - size)) {
        const uint8_t *p = (const uint8_t *)(e->radd + lin);
        switch (size) {
        case 1: return *p;
        case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
        default: { uint32_t v; memcpy(&v, p, 4); return v; }
        }
    }
    return x86_lin_read_slow(c, lin, size, c->cpl == 3);
}

static inline void x86_st_lin(X86Cpu *c, uint32_t lin, uint32_t v, unsigned size)
{
    X86Tlb *e = &c->tlbc[(lin >> 12) & (TLB_SIZE - 1)];
    if (X86_LIKELY(e->wtag == (lin & ~0xFFFu) && (lin & 0xFFF) <= 0x1000 - size)) {
        uint8_t *p = (uint8_t *)(e->wadd + lin);
        switch (size) {
        case 1: *p = (uint8_t)v; return;
        case 2: { uint16_t w = (uint16_t)v; memcpy(p, &w, 2); return; }
        default: memcpy(p, &v, 4); return;
        }
    }
    x86_lin_write_slow(c, lin, v, size, c->cpl == 3);
}

static inline uint32_t x86_ld(X86Cpu *c, int seg, uint32_t off, unsigned size)
{
    return x86_ld_lin(c, x86_lin(c, seg, off, size, false), size);
}
static inline void x86_st(X86Cpu *c, int seg, uint32_t off, uint32_t v, unsigned size)
{
    x86_st_lin(c, x86_lin(c, seg, off, size, true), v, size);
}
/* Read for read-modify-write: checks write permission now, so the store
 * (x86_rmw_st) cannot fault. */
static inline uint32_t x86_rmw_ld(X86Cpu *c, int seg, uint32_t off, unsigned size)
{
    uint32_t lin = x86_lin(c, seg, off, size, true);
    X86Tlb *e = &c->tlbc[(lin >> 12) & (TLB_SIZE - 1)];
    c->rmw_lin = lin;
    if (X86_LIKELY(e->wtag == (lin & ~0xFFFu) && (lin & 0xFFF) <= 0x1000 - size
                   && e->rtag == e->wtag && e->radd == e->wadd)) {
        uint8_t *p = (uint8_t *)(e->wadd + lin);
        c->rmw_ptr = p;
        switch (size) {
        case 1: return *p;
        case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
        default: { uint32_t v; memcpy(&v, p, 4); return v; }
        }
    }
    c->rmw_ptr = NULL;
    return x86_rmw_slow(c, lin, size);
}
static inline void x86_rmw_st(X86Cpu *c, uint32_t v, unsigned size)
{
    uint8_t *p = c->rmw_ptr;
    if (X86_LIKELY(p != NULL)) {
        switch (size) {
        case 1: *p = (uint8_t)v; return;
        case 2: { uint16_t w = (uint16_t)v; memcpy(p, &w, 2); return; }
        default: memcpy(p, &v, 4); return;
        }
    }
    x86_lin_write_slow(c, c->rmw_lin, v, size, c->cpl == 3);
}

/* ---- registers and operands ------------------------------------------ */
static inline uint32_t x86_reg8(const X86Cpu *c, unsigned r)
{
    return r < 4 ? (c->r[r] & 0xFF) : ((c->r[r - 4] >> 8) & 0xFF);
}
static inline void x86_set_reg8(X86Cpu *c, unsigned r, uint32_t v)
{
    if (r < 4)
        c->r[r] = (c->r[r] & ~0xFFu) | (v & 0xFF);
    else
        c->r[r - 4] = (c->r[r - 4] & ~0xFF00u) | ((v & 0xFF) << 8);
}
static inline uint32_t x86_getreg(const X86Cpu *c, unsigned r, unsigned size)
{
    switch (size) {
    case 1: return x86_reg8(c, r);
    case 2: return c->r[r] & 0xFFFF;
    default: return c->r[r];
    }
}
static inline void x86_setreg(X86Cpu *c, unsigned r, uint32_t v, unsigned size)
{
    switch (size) {
    case 1: x86_set_reg8(c, r, v); break;
    case 2: c->r[r] = (c->r[r] & 0xFFFF0000u) | (v & 0xFFFF); break;
    default: c->r[r] = v; break;
    }
}

static inline uint32_t x86_ea(const X86Cpu *c, const X86Insn *i)
{
    uint32_t ea = i->disp;
    if (i->base != EA_NONE)
        ea += c->r[i->base];
    if (i->index != EA_NONE)
        ea += c->r[i->index] << i->scale;
    return i->a32 ? ea : (ea & 0xFFFF);
}

static inline unsigned x86_osize(const X86Insn *i) { return i->o32 ? 4 : 2; }

static inline uint32_t x86_rm_read(X86Cpu *c, const X86Insn *i, unsigned size)
{
    if (i->mod == 3)
        return x86_getreg(c, i->rm, size);
    return x86_ld(c, i->seg, x86_ea(c, i), size);
}
static inline void x86_rm_write(X86Cpu *c, const X86Insn *i, uint32_t v, unsigned size)
{
    if (i->mod == 3)
        x86_setreg(c, i->rm, v, size);
    else
        x86_st(c, i->seg, x86_ea(c, i), v, size);
}
/* RMW pair on the r/m operand. */
static inline uint32_t x86_rm_rmw_ld(X86Cpu *c, const X86Insn *i, unsigned size)
{
    if (i->mod == 3)
        return x86_getreg(c, i->rm, size);
    return x86_rmw_ld(c, i->seg, x86_ea(c, i), size);
}
static inline void x86_rm_rmw_st(X86Cpu *c, const X86Insn *i, uint32_t v, unsigned size)
{
    if (i->mod == 3)
        x86_setreg(c, i->rm, v, size);
    else
        x86_rmw_st(c, v, size);
}

/* ---- stack ------------------------------------------------------------ */
static inline uint32_t x86_sp(const X86Cpu *c)
{
    return c->ss32 ? c->r[R_ESP] : (c->r[R_ESP] & 0xFFFF);
}
static inline void x86_set_sp(X86Cpu *c, uint32_t v)
{
    if (c->ss32)
        c->r[R_ESP] = v;
    else
        c->r[R_ESP] = (c->r[R_ESP] & 0xFFFF0000u) | (v & 0xFFFF);
}
static inline void x86_push(X86Cpu *c, uint32_t v, unsigned size)
{
    uint32_t sp = x86_sp(c) - size;
    if (!c->ss32)
        sp &= 0xFFFF;
    x86_st(c, S_SS, sp, v, size);
    x86_set_sp(c, sp);
}
static inline uint32_t x86_pop(X86Cpu *c, unsigned size)
{
    uint32_t sp = x86_sp(c);
    uint32_t v = x86_ld(c, S_SS, sp, size);
    x86_set_sp(c, sp + size);
    return v;
}

/* ---- control transfer helpers ----------------------------------------- */
static inline void x86_jump_near(X86Cpu *c, uint32_t target, bool o32)
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

/* ---- system (x86-system.c) --------------------------------------------- */
void x86_write_cr0(X86Cpu *c, uint32_t v);
void x86_write_cr3(X86Cpu *c, uint32_t v);
void x86_write_cr4(X86Cpu *c, uint32_t v);
void x86_cpuid(X86Cpu *c);
bool x86_has_cpuid(const X86Cpu *c);
uint64_t x86_tsc(X86Cpu *c);
void x86_set_a20(X86Cpu *c, bool on);

/* ---- decode / run (x86-decode.c, x86-run.c) ---------------------------- */
/* Decode one instruction from buf (avail bytes valid). Returns its length,
 * or 0 when it needs more bytes than avail. Never fails otherwise: an
 * invalid encoding decodes to a #UD (or #GP for > 15 bytes) handler. */
unsigned x86_decode(const uint8_t *buf, unsigned avail, bool code32, X86Insn *i);

void x86_init(X86Cpu *c, X86Model model, const X86Bus *bus);
void x86_fini(X86Cpu *c);
void x86_reset(X86Cpu *c);
enum { X86_EXIT_LIMIT, X86_EXIT_HALTED, X86_EXIT_SHUTDOWN };
int x86_run(X86Cpu *c, const volatile uint64_t *icount_limit, volatile int *stop);
/* Execute exactly one instruction at CS:EIP (tests). */
int x86_step(X86Cpu *c);

/* I/O with the bus; exact icount is kept by the caller. */
uint32_t x86_io_in(X86Cpu *c, uint32_t port, unsigned size);
void x86_io_out(X86Cpu *c, uint32_t port, uint32_t v, unsigned size);

/* Handler prototypes used by the decoder tables. */
#define X86_H(name) void name(X86Cpu *c, const X86Insn *i)

#endif
