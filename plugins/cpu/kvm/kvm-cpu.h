/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The "kvm" CPU class: shared declarations of its files.
 *
 *   kvm-plugin.c   class, lines, realize, the run loop and its exits
 *   kvm-mem.c      guest memory: KVM memory slots from the flat memory view
 *   kvm-state.c    CPUID per model, reset state, register get/set
 */
#ifndef TESS_KVM_CPU_H
#define TESS_KVM_CPU_H

#include <tessera/tessera.h>

#include <linux/kvm.h>
#include <signal.h>
#include <time.h>

/* Addresses KVM needs for its own use on Intel hosts (real-mode TSS and
 * the identity-mapped page table for unpaged protected mode), just below
 * the BIOS flash window where no RAM or device sits on a PC. */
#define KVM_TSS_ADDR        0xFEFFD000u     /* three pages */
#define KVM_IDMAP_ADDR      0xFEFFC000u     /* one page */

#define KVM_MAX_MSRS        TESS_CPU_STATE_MSRS

/* In the order of the x86 interpreter's models, whose names they take. */
typedef enum {
    KVM_MODEL_486, KVM_MODEL_PENTIUM, KVM_MODEL_PPRO, KVM_MODEL_PMMX, KVM_MODEL_P2,
    KVM_MODEL_P3, KVM_MODEL_P4, KVM_MODEL_COUNT
} KvmModel;
typedef enum { KVM_VENDOR_MODEL, KVM_VENDOR_HOST } KvmVendor;

typedef struct KvmSlot {
    uint64_t gpa, size;
    uint8_t *hva;
    uint32_t flags;         /* KVM_MEM_READONLY, KVM_MEM_LOG_DIRTY_PAGES or 0 */
    uint32_t id;
} KvmSlot;

typedef struct KvmCpu {
    TessDevice dev;

    /* properties */
    int model;
    int vendor;
    char *device;

    /* host handles */
    int kvm_fd, vm_fd, vcpu_fd;
    struct kvm_run *run;
    size_t run_size;
    bool have_events, have_debugregs;

    /* memory slots (kvm-mem.c) */
    GArray *slots;          /* KvmSlot, sorted by gpa, disjoint */
    GArray *free_ids;       /* uint32_t slot ids to reuse */
    uint32_t next_id, max_slots;
    GArray *dirty;          /* pending map changes: pairs of uint64_t start, end */
    bool listening;

    /* input lines */
    bool intr;
    bool nmi_level, nmi_pending;
    bool reset_level, reset_pending;
    bool a20_driven, a20;
    TessSignal *ferr;       /* FERR#: never driven (the host processor reports x87 errors) */

    /* interrupt controller, found at the first INTR */
    TessDevice *intc;
    const TessIntcOps *intc_ops;
    bool intc_missing;

    /* execution */
    bool halted;            /* HLT exited and no interrupt taken since */
    bool io_pending;        /* the last exit's I/O awaits completion by KVM_RUN */
    uint64_t icount;        /* estimate: host time in run() / KVM_NS_PER_INSN */
    int64_t run_start_ns;
    bool running;

    /* the kick: a per-thread POSIX timer whose signal ends KVM_RUN */
    timer_t kick;
    bool kick_ok;
    pid_t kick_tid;

    /* CPUID (kvm-state.c) */
    uint32_t signature;     /* CPUID.1:EAX, also EDX after reset */

    /* reset template, read from the vCPU right after it was set up */
    struct kvm_regs reset_regs;
    struct kvm_sregs reset_sregs;
    struct kvm_fpu reset_fpu;
    struct kvm_debugregs reset_dregs;
    uint32_t msr_index[KVM_MAX_MSRS];
    uint64_t msr_reset[KVM_MAX_MSRS];
    unsigned nmsrs;

    /* snapshot section: filled by pre_save, applied by post_load */
    TessCpuState saved;
    uint8_t saved_halted;
} KvmCpu;

/* kvm-plugin.c */
/* Let KVM finish the I/O of the last exit (an IN's data, a string
 * instruction's next step) without running further guest code. */
void kvm_complete_io(KvmCpu *d);

/* kvm-mem.c */
void kvm_mem_init(KvmCpu *d);
void kvm_mem_fini(KvmCpu *d);
/* Mark [start, end) for re-derivation before the next KVM_RUN. */
void kvm_mem_dirty(KvmCpu *d, uint64_t start, uint64_t end);
bool kvm_mem_pending(KvmCpu *d);
/* Bring the KVM slots in line with the flat view; false on a host error. */
bool kvm_mem_sync(KvmCpu *d, GError **err);
/* The address the fabric sees for a guest physical address (A20 gate). */
uint64_t kvm_mem_fabric_addr(KvmCpu *d, uint64_t gpa);
void kvm_mem_set_a20(KvmCpu *d, bool on);

/* kvm-state.c */
bool kvm_setup_cpuid(KvmCpu *d, GError **err);
bool kvm_setup_reset_state(KvmCpu *d, GError **err);
bool kvm_reset_vcpu(KvmCpu *d, GError **err);
bool kvm_get_state(TessDevice *dev, TessCpuState *st, GError **err);
bool kvm_set_state(TessDevice *dev, const TessCpuState *st, GError **err);

#endif
