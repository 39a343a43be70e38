/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The CPU interface ("cpu"), provided by CPU classes (kind TESS_CLASS_CPU).
 *
 * The core owns the run loop: it fires due timers, then asks the CPU to run
 * until its retired-instruction count reaches run->icount_limit or
 * run->stop becomes nonzero, and repeats. The core may lower icount_limit
 * or set stop from a device callback made during run (a timer armed for
 * sooner), or set stop from another thread (control commands); the CPU
 * polls both at least at every taken branch and after every I/O access.
 *
 * icount() must be exact whenever the CPU calls into a device, because
 * virtual time in deterministic mode is computed from it.
 *
 * Input lines a CPU class declares: "intr" (maskable interrupt request;
 * the vector comes from the "intc" provider's ack), "nmi" (edge), "reset"
 * (rising edge resets the CPU only), "a20" (level: high = A20 enabled).
 */
#ifndef TESSERA_CPU_H
#define TESSERA_CPU_H

#include <tessera/types.h>

G_BEGIN_DECLS

#define TESS_IFACE_CPU  "cpu"
#define TESS_IFACE_CPU_VERSION 1   /* see TessIfaceSpec in device.h */
#define TESS_IFACE_INTC "intc"
#define TESS_IFACE_INTC_VERSION 1   /* see TessIfaceSpec in device.h */

typedef enum {
    TESS_CPU_EXIT_LIMIT,     /* reached icount_limit or saw stop */
    TESS_CPU_EXIT_HALTED,    /* HLT with no interrupt it can take */
    TESS_CPU_EXIT_SHUTDOWN,  /* triple fault or shutdown cycle: reset the machine */
    TESS_CPU_EXIT_ERROR,     /* the CPU cannot go on (host failure); logged */
} TessCpuExit;

typedef struct TessCpuRun {
    uint64_t icount_limit;
    volatile gint stop;
} TessCpuRun;

/* ---- Register state -------------------------------------------------------
 *
 * The architectural state of one processor, for save/restore, debuggers and
 * moving a machine between CPU classes (x86 <-> kvm). Layouts follow the
 * Intel SDM; fields a model does not have (R8-R15, EFER on a 486) are 0.
 */

/* A segment register, LDTR or TR: the selector and the hidden descriptor
 * cache (SDM vol. 3, 3.4.3), whatever the selector now says. */
typedef struct TessCpuSegment {
    uint64_t base;
    uint32_t limit;         /* byte granular: already scaled by G */
    uint16_t selector;
    uint16_t attrib;        /* TESS_SEG_*: descriptor bits 40-47 in bits 0-7,
                             * bits 52-55 in bits 8-11 */
} TessCpuSegment;

#define TESS_SEG_TYPE       0x000Fu     /* descriptor type field */
#define TESS_SEG_S          0x0010u     /* 1: code/data, 0: system */
#define TESS_SEG_DPL_SHIFT  5
#define TESS_SEG_DPL        0x0060u
#define TESS_SEG_P          0x0080u     /* present */
#define TESS_SEG_AVL        0x0100u
#define TESS_SEG_L          0x0200u     /* 64-bit code */
#define TESS_SEG_DB         0x0400u     /* default operation size / big */
#define TESS_SEG_G          0x0800u     /* granularity (limit already scaled) */
#define TESS_SEG_UNUSABLE   0x1000u     /* loaded with a null selector */

/* GDTR / IDTR */
typedef struct TessCpuTable {
    uint64_t base;
    uint32_t limit;
    uint32_t reserved;      /* 0 */
} TessCpuTable;

typedef struct TessCpuMsr {
    uint32_t index;
    uint32_t reserved;      /* 0 */
    uint64_t value;
} TessCpuMsr;

/* seg[] order: the hardware encoding of Sreg */
enum { TESS_CPU_ES, TESS_CPU_CS, TESS_CPU_SS, TESS_CPU_DS, TESS_CPU_FS, TESS_CPU_GS,
       TESS_CPU_NSEGS };
/* gpr[] order: the hardware encoding of r32 (then R8-R15) */
enum { TESS_CPU_RAX, TESS_CPU_RCX, TESS_CPU_RDX, TESS_CPU_RBX,
       TESS_CPU_RSP, TESS_CPU_RBP, TESS_CPU_RSI, TESS_CPU_RDI, TESS_CPU_NGPRS = 16 };

/* fpu_format: how fpu[] is laid out */
typedef enum {
    TESS_CPU_FPU_NONE,      /* the CPU has no FPU state (fpu_size 0) */
    TESS_CPU_FPU_FXSAVE,    /* the 512-byte FXSAVE image (SDM vol. 1, 10.5.1) */
    TESS_CPU_FPU_XSAVE,     /* a standard-form XSAVE area (SDM vol. 1, 13.4):
                             * the FXSAVE image, the XSAVE header at 512, then
                             * components at their CPUID leaf 0xD offsets */
} TessCpuFpuFormat;

/* flags */
#define TESS_CPU_ST_HALTED      0x1u    /* stopped in HLT, waiting for an interrupt */
#define TESS_CPU_ST_INT_SHADOW  0x2u    /* after STI / MOV SS: interrupts held one insn */
#define TESS_CPU_ST_NMI_PENDING 0x4u    /* NMI latched, not yet taken */
#define TESS_CPU_ST_NMI_MASKED  0x8u    /* inside an NMI handler (until IRET) */

#define TESS_CPU_STATE_VERSION  1
#define TESS_CPU_STATE_MSRS     64
#define TESS_CPU_STATE_FPU_MAX  4096

typedef struct TessCpuState {
    uint32_t version;       /* TESS_CPU_STATE_VERSION */
    uint32_t size;          /* sizeof(TessCpuState) */
    uint32_t flags;         /* TESS_CPU_ST_* */
    int32_t pending_irq;    /* vector taken from the intc, not yet delivered; -1: none */
    uint64_t gpr[TESS_CPU_NGPRS];
    uint64_t rip, rflags;
    TessCpuSegment seg[TESS_CPU_NSEGS];
    TessCpuSegment ldtr, tr;
    TessCpuTable gdtr, idtr;
    uint64_t cr0, cr2, cr3, cr4, efer;
    uint64_t dr[8];         /* DR0-DR3, DR6, DR7; dr[4] and dr[5] are 0 */
    /* MSRs that are not fields above (TSC 0x10, SYSENTER, PAT, MTRRs...):
     * get_state lists the ones the model has; set_state writes the ones
     * given and fails on one the model does not have. */
    uint32_t nmsrs;
    uint32_t fpu_format;    /* TessCpuFpuFormat */
    TessCpuMsr msrs[TESS_CPU_STATE_MSRS];
    uint32_t fpu_size;      /* bytes of fpu[] in use */
    uint32_t reserved;      /* 0 */
    uint8_t fpu[TESS_CPU_STATE_FPU_MAX];
} TessCpuState;

typedef struct TessCpuOps {
    TessCpuExit (*run)(TessDevice *cpu, TessCpuRun *run);
    uint64_t (*icount)(TessDevice *cpu);
    /* Read / replace the register state. Added in place of two reserved
     * slots (the table keeps its size): a class built before has NULL
     * here, so check before calling. Call them on the machine thread
     * while run() is not active. The caller sets st->version and
     * st->size; a CPU refuses a layout it does not know. set_state
     * checks everything it can first (layout, MSR indices, FPU format)
     * and then changes nothing when it refuses; a host failure after
     * that leaves the CPU in a state only a reset cleans up. */
    bool (*get_state)(TessDevice *cpu, TessCpuState *st, GError **err);
    bool (*set_state)(TessDevice *cpu, const TessCpuState *st, GError **err);
    void *reserved[6];
} TessCpuOps;

/* The table keeps the size it had before get_state/set_state. */
G_STATIC_ASSERT(sizeof(TessCpuOps) == 2 * sizeof(void (*)(void)) + 8 * sizeof(void *));

/* Interrupt controller, as the CPU sees it: acknowledge the pending
 * interrupt and get its vector (the INTA cycle). */
typedef struct TessIntcOps {
    uint8_t (*ack)(TessDevice *intc);
} TessIntcOps;

G_END_DECLS

#endif
