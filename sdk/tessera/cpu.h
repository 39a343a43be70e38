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
#define TESS_IFACE_INTC "intc"

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

typedef struct TessCpuOps {
    TessCpuExit (*run)(TessDevice *cpu, TessCpuRun *run);
    uint64_t (*icount)(TessDevice *cpu);
    void *reserved[8];
} TessCpuOps;

/* Interrupt controller, as the CPU sees it: acknowledge the pending
 * interrupt and get its vector (the INTA cycle). */
typedef struct TessIntcOps {
    uint8_t (*ack)(TessDevice *intc);
} TessIntcOps;

G_END_DECLS

#endif
