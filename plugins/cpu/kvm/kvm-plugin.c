/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The "kvm" CPU class: guest code runs on the host processor through
 * /dev/kvm; port I/O, MMIO, interrupts and time stay in Tessera.
 *
 * The interrupt controller is Tessera's own (no KVM_CREATE_IRQCHIP): when
 * "intr" is high and KVM says the vCPU can take an interrupt, the "intc"
 * provider is acknowledged and its vector injected with KVM_INTERRUPT;
 * otherwise KVM is asked to exit as soon as the guest opens the interrupt
 * window. NMIs go in with KVM_NMI.
 *
 * Time: KVM cannot count retired instructions, so this class runs in
 * realtime mode only (realize refuses deterministic mode, which makes a
 * machine file's fallback="x86" take over). icount() is an estimate that
 * only ever grows: host time spent in run() at a nominal KVM_NS_PER_INSN.
 * run() turns the instruction budget it is given into host time with the
 * same rate, and a POSIX timer aimed at the calling thread ends KVM_RUN
 * when that time is up (its signal handler sets kvm_run.immediate_exit,
 * which also covers a signal that lands between two KVM_RUNs). Every exit
 * checks run->stop, so stop requests from other threads are seen within
 * one slice.
 *
 * Pending I/O: KVM completes an IN (or a string instruction's step) only
 * at the next KVM_RUN. run() always lets it finish (KVM_RUN with
 * immediate_exit set) before it returns or changes vCPU state, so outside
 * run() the registers are always at an instruction boundary.
 */
#define G_LOG_DOMAIN "kvm"
#include "kvm-cpu.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* A nominal 100 MIPS: the core's realtime slice of 20000 instructions
 * becomes 200 us of host time, short enough for timers, long enough that
 * the cost of leaving KVM_RUN stays small. */
#define KVM_NS_PER_INSN     10u
#define KVM_SLICE_MIN_NS    (100u * 1000u)
#define KVM_SLICE_MAX_NS    (10u * 1000u * 1000u)

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

static const char *const kvm_models[] = {
    "486", "pentium", "pentium-pro", "pentium-mmx", "pentium2", "pentium3", "pentium4", NULL
};
G_STATIC_ASSERT(G_N_ELEMENTS(kvm_models) == KVM_MODEL_COUNT + 1);
static const char *const kvm_vendors[] = { "model", "host", NULL };

static int64_t host_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- the kick signal ------------------------------------------------------ */

static GMutex kick_lock;
static unsigned kick_users;

static int kick_signal(void)
{
    return SIGRTMIN + 4;
}

static void kick_handler(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    struct kvm_run *r = si->si_value.sival_ptr;
    if (si->si_code == SI_TIMER && r)
        r->immediate_exit = 1;
}

static bool kick_install(GError **err, const char *id)
{
    g_mutex_lock(&kick_lock);
    bool ok = true;
    if (kick_users == 0) {
        struct sigaction sa = { .sa_sigaction = kick_handler, .sa_flags = SA_SIGINFO | SA_RESTART };
        sigemptyset(&sa.sa_mask);
        if (sigaction(kick_signal(), &sa, NULL) != 0) {
            int e = errno;
            g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO,
                        "%s: cannot install the vCPU kick signal handler: %s", id, g_strerror(e));
            ok = false;
        }
    }
    if (ok)
        kick_users++;
    g_mutex_unlock(&kick_lock);
    return ok;
}

static void kick_uninstall(void)
{
    g_mutex_lock(&kick_lock);
    if (kick_users && --kick_users == 0) {
        /* No timer of ours is left to send it; a stray one is harmless. */
        struct sigaction sa = { .sa_handler = SIG_IGN };
        sigemptyset(&sa.sa_mask);
        sigaction(kick_signal(), &sa, NULL);
    }
    g_mutex_unlock(&kick_lock);
}

/* Arm the kick for `ns` from now, on the calling thread. */
static bool kick_arm(KvmCpu *d, uint64_t ns)
{
    pid_t tid = (pid_t)syscall(SYS_gettid);
    if (!d->kick_ok || d->kick_tid != tid) {
        if (d->kick_ok)
            timer_delete(d->kick);
        d->kick_ok = false;
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, kick_signal());
        pthread_sigmask(SIG_UNBLOCK, &set, NULL);
        struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = kick_signal() };
        sev.sigev_value.sival_ptr = d->run;
        sev.sigev_notify_thread_id = tid;
        if (timer_create(CLOCK_MONOTONIC, &sev, &d->kick) != 0) {
            g_warning("%s: cannot create the vCPU kick timer: %s", d->dev.id, g_strerror(errno));
            return false;
        }
        d->kick_ok = true;
        d->kick_tid = tid;
    }
    struct itimerspec its = {
        .it_value = { .tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u) },
    };
    return timer_settime(d->kick, 0, &its, NULL) == 0;
}

static void kick_disarm(KvmCpu *d)
{
    struct itimerspec its = { { 0, 0 }, { 0, 0 } };
    if (d->kick_ok)
        timer_settime(d->kick, 0, &its, NULL);
}

/* ---- exits ------------------------------------------------------------------ */

static uint64_t le_get(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void le_put(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void exit_pio(KvmCpu *d)
{
    struct kvm_run *kr = d->run;
    TessMachine *m = d->dev.machine;
    uint8_t *p = (uint8_t *)kr + kr->io.data_offset;
    unsigned size = kr->io.size;
    /* count > 1: one step of a string instruction, in order */
    for (uint32_t i = 0; i < kr->io.count; i++, p += size) {
        if (kr->io.direction == KVM_EXIT_IO_OUT)
            tess_pio_write(m, kr->io.port, (uint32_t)le_get(p, size), size);
        else
            le_put(p, tess_pio_read(m, kr->io.port, size), size);
    }
    d->io_pending = true;
}

static void exit_mmio(KvmCpu *d)
{
    struct kvm_run *kr = d->run;
    TessMachine *m = d->dev.machine;
    uint64_t pa = kvm_mem_fabric_addr(d, kr->mmio.phys_addr);
    unsigned len = MIN(kr->mmio.len, 8u);
    if (kr->mmio.is_write)
        tess_mem_write(m, pa, le_get(kr->mmio.data, len), len);
    else
        le_put(kr->mmio.data, tess_mem_read(m, pa, len), len);
    d->io_pending = true;
}

static void log_vcpu(KvmCpu *d, const char *what)
{
    struct kvm_regs r = { 0 };
    struct kvm_sregs s = { 0 };
    ioctl(d->vcpu_fd, KVM_GET_REGS, &r);
    ioctl(d->vcpu_fd, KVM_GET_SREGS, &s);
    g_warning("%s: %s at CS:RIP %04x:%08" G_GINT64_MODIFIER "x (CS base 0x%" G_GINT64_MODIFIER
              "x) CR0 0x%" G_GINT64_MODIFIER "x RFLAGS 0x%" G_GINT64_MODIFIER "x",
              d->dev.id, what, s.cs.selector, (uint64_t)r.rip, (uint64_t)s.cs.base,
              (uint64_t)s.cr0, (uint64_t)r.rflags);
}

typedef enum { EXIT_GO_ON, EXIT_STOP } ExitAction;

/* Dispatch the exit KVM_RUN just returned; *ex says why run() ends. */
static ExitAction handle_exit(KvmCpu *d, TessCpuExit *ex)
{
    struct kvm_run *kr = d->run;
    switch (kr->exit_reason) {
    case KVM_EXIT_IO:
        exit_pio(d);
        return EXIT_GO_ON;
    case KVM_EXIT_MMIO:
        exit_mmio(d);
        return EXIT_GO_ON;
    case KVM_EXIT_HLT:
        d->halted = true;
        return EXIT_GO_ON;
    case KVM_EXIT_IRQ_WINDOW_OPEN:
    case KVM_EXIT_INTR:
        return EXIT_GO_ON;
    case KVM_EXIT_SHUTDOWN:
        *ex = TESS_CPU_EXIT_SHUTDOWN;
        return EXIT_STOP;
    case KVM_EXIT_SYSTEM_EVENT:
        *ex = TESS_CPU_EXIT_SHUTDOWN;
        return EXIT_STOP;
    case KVM_EXIT_FAIL_ENTRY: {
        g_autofree char *what = g_strdup_printf(
            "KVM could not enter the guest (hardware reason 0x%" G_GINT64_MODIFIER "x)",
            (uint64_t)kr->fail_entry.hardware_entry_failure_reason);
        log_vcpu(d, what);
        *ex = TESS_CPU_EXIT_ERROR;
        return EXIT_STOP;
    }
    case KVM_EXIT_INTERNAL_ERROR: {
        GString *s = g_string_new(NULL);
        if (kr->internal.suberror == KVM_INTERNAL_ERROR_EMULATION) {
            /* Hosts without VMX/SVM (PVM) or without unrestricted guest
             * emulate some processor modes in software; KVM's emulator
             * does not know every instruction. */
            g_string_append(s, "KVM could not emulate an instruction");
            if (kr->emulation_failure.ndata >= 2 &&
                (kr->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
                g_string_append(s, " (bytes");
                for (unsigned i = 0; i < MIN(kr->emulation_failure.insn_size, 15u); i++)
                    g_string_append_printf(s, " %02x", kr->emulation_failure.insn_bytes[i]);
                g_string_append(s, ")");
            }
        } else {
            g_string_printf(s, "KVM internal error %u", kr->internal.suberror);
            for (uint32_t i = 0; i < MIN(kr->internal.ndata, 4u); i++)
                g_string_append_printf(s, " 0x%" G_GINT64_MODIFIER "x",
                                       (uint64_t)kr->internal.data[i]);
        }
        log_vcpu(d, s->str);
        g_string_free(s, TRUE);
        *ex = TESS_CPU_EXIT_ERROR;
        return EXIT_STOP;
    }
    default: {
        g_autofree char *what = g_strdup_printf("unexpected KVM exit %u", kr->exit_reason);
        log_vcpu(d, what);
        *ex = TESS_CPU_EXIT_ERROR;
        return EXIT_STOP;
    }
    }
}

void kvm_complete_io(KvmCpu *d)
{
    struct kvm_run *kr = d->run;
    while (d->io_pending) {
        d->io_pending = false;
        kr->immediate_exit = 1;
        int r = ioctl(d->vcpu_fd, KVM_RUN, 0);
        kr->immediate_exit = 0;
        /* A string instruction may need its next step straight away. */
        if (r == 0 && (kr->exit_reason == KVM_EXIT_IO || kr->exit_reason == KVM_EXIT_MMIO)) {
            TessCpuExit ex;
            handle_exit(d, &ex);
        }
    }
}

/* ---- interrupts -------------------------------------------------------------- */

static uint8_t intc_ack(KvmCpu *d)
{
    if (!d->intc && !d->intc_missing) {
        g_autoptr(GError) err = NULL;
        d->intc = tess_device_find_provider(&d->dev, TESS_IFACE_INTC, NULL, &err);
        d->intc_ops = d->intc ? tess_device_interface(d->intc, TESS_IFACE_INTC) : NULL;
        if (!d->intc || !d->intc_ops) {
            d->intc = NULL;
            d->intc_missing = true;
            g_warning("%s: INTR raised but the machine has no interrupt controller", d->dev.id);
        }
    }
    return d->intc_ops ? d->intc_ops->ack(d->intc) : 0xFF;
}

/* Before KVM_RUN: deliver what can be delivered, ask for a window for
 * the rest. */
static bool inject(KvmCpu *d)
{
    struct kvm_run *kr = d->run;
    if (d->nmi_pending) {
        if (ioctl(d->vcpu_fd, KVM_NMI) < 0) {
            g_warning("%s: KVM_NMI failed: %s", d->dev.id, g_strerror(errno));
            return false;
        }
        d->nmi_pending = false;
    }
    kr->request_interrupt_window = 0;
    if (!d->intr)
        return true;
    if (kr->ready_for_interrupt_injection && kr->if_flag) {
        struct kvm_interrupt irq = { .irq = intc_ack(d) };
        if (ioctl(d->vcpu_fd, KVM_INTERRUPT, &irq) < 0) {
            g_warning("%s: KVM_INTERRUPT failed: %s", d->dev.id, g_strerror(errno));
            return false;
        }
        /* Another request behind this one waits for the next window. */
        kr->ready_for_interrupt_injection = 0;
    }
    if (d->intr)
        kr->request_interrupt_window = 1;
    return true;
}

/* ---- the cpu interface ------------------------------------------------------- */

static void apply_reset(KvmCpu *d)
{
    g_autoptr(GError) err = NULL;
    d->reset_pending = false;
    if (!kvm_reset_vcpu(d, &err))
        g_warning("%s: reset failed: %s", d->dev.id, err->message);
}

static TessCpuExit kvmp_run(TessDevice *dev, TessCpuRun *run)
{
    KvmCpu *d = (KvmCpu *)dev;
    struct kvm_run *kr = d->run;
    TessCpuExit ex = TESS_CPU_EXIT_LIMIT;
    int64_t t0 = host_ns();
    uint64_t ic0 = d->icount;
    uint64_t budget = run->icount_limit > ic0 ? run->icount_limit - ic0 : 0;
    budget = budget > KVM_SLICE_MAX_NS / KVM_NS_PER_INSN ? KVM_SLICE_MAX_NS
                                                         : budget * KVM_NS_PER_INSN;
    budget = MAX(budget, (uint64_t)KVM_SLICE_MIN_NS);

    d->running = true;
    d->run_start_ns = t0;
    kr->immediate_exit = 0;
    if (!kick_arm(d, budget)) {
        d->running = false;
        return TESS_CPU_EXIT_ERROR;
    }
    for (;;) {
        if (g_atomic_int_get(&run->stop) || (uint64_t)(host_ns() - t0) >= budget)
            break;
        if (d->reset_pending || kvm_mem_pending(d)) {
            g_autoptr(GError) err = NULL;
            kvm_complete_io(d);
            if (d->reset_pending)
                apply_reset(d);
            if (!kvm_mem_sync(d, &err)) {
                g_warning("%s", err->message);
                ex = TESS_CPU_EXIT_ERROR;
                break;
            }
            continue;   /* completing the I/O may have changed anything */
        }
        if (d->halted) {
            if (d->nmi_pending || (d->intr && kr->if_flag))
                d->halted = false;
            else {
                ex = TESS_CPU_EXIT_HALTED;
                break;
            }
        }
        if (!inject(d)) {
            ex = TESS_CPU_EXIT_ERROR;
            break;
        }
        int r = ioctl(d->vcpu_fd, KVM_RUN, 0);
        if (r < 0) {
            int e = errno;
            if (e == EINTR || e == EAGAIN) {
                kr->immediate_exit = 0;
                continue;
            }
            g_warning("%s: KVM_RUN failed: %s", dev->id, g_strerror(e));
            ex = TESS_CPU_EXIT_ERROR;
            break;
        }
        if (handle_exit(d, &ex) == EXIT_STOP)
            break;
    }
    kvm_complete_io(d);
    if (d->reset_pending)
        apply_reset(d);
    kick_disarm(d);
    kr->immediate_exit = 0;
    kr->request_interrupt_window = 0;
    int64_t spent = host_ns() - t0;
    d->icount = ic0 + (uint64_t)MAX(spent, 0) / KVM_NS_PER_INSN;
    d->running = false;
    return ex;
}

static uint64_t kvmp_icount(TessDevice *dev)
{
    KvmCpu *d = (KvmCpu *)dev;
    if (!d->running)
        return d->icount;
    int64_t spent = host_ns() - d->run_start_ns;
    return d->icount + (uint64_t)MAX(spent, 0) / KVM_NS_PER_INSN;
}

static const TessCpuOps kvm_cpu_ops = {
    .run = kvmp_run,
    .icount = kvmp_icount,
    .get_state = kvm_get_state,
    .set_state = kvm_set_state,
};

/* ---- lines ---------------------------------------------------------------------- */

static void line_intr(TessDevice *dev, unsigned n, bool level)
{
    ((KvmCpu *)dev)->intr = level;
}

static void line_nmi(TessDevice *dev, unsigned n, bool level)
{
    KvmCpu *d = (KvmCpu *)dev;
    if (level && !d->nmi_level)
        d->nmi_pending = true;
    d->nmi_level = level;
}

static void line_reset(TessDevice *dev, unsigned n, bool level)
{
    KvmCpu *d = (KvmCpu *)dev;
    if (level && !d->reset_level) {
        /* In the middle of an exit KVM still owes the instruction its
         * completion: reset once it has had it. */
        if (d->running)
            d->reset_pending = true;
        else
            apply_reset(d);
    }
    d->reset_level = level;
}

static void line_a20(TessDevice *dev, unsigned n, bool level)
{
    KvmCpu *d = (KvmCpu *)dev;
    d->a20_driven = true;
    kvm_mem_set_a20(d, level);
}

static const TessLineSpec kvm_lines[] = {
    TESS_LINE_IN_("intr", 1, line_intr, "maskable interrupt request (level)"),
    TESS_LINE_IN_("nmi", 1, line_nmi, "non-maskable interrupt (rising edge)"),
    TESS_LINE_IN_("reset", 1, line_reset, "rising edge resets the CPU only"),
    TESS_LINE_IN_("a20", 1, line_a20,
                  "A20 gate (high = enabled; enabled until first driven; off wraps the 2nd MiB only)"),
    /* the pc machine wires the x86 CPU's FERR# to IRQ13: the line exists
     * here so the same machine file takes either CPU */
    TESS_LINE_OUT_("ferr", 1, KvmCpu, ferr, "FERR# (not driven: under KVM the host processor reports x87 errors)"),
    TESS_LINE_END,
};

/* ---- class --------------------------------------------------------------------- */

static void kvm_close_all(KvmCpu *d)
{
    if (d->kick_ok) {
        timer_delete(d->kick);
        d->kick_ok = false;
    }
    kvm_mem_fini(d);
    if (d->run)
        munmap(d->run, d->run_size);
    d->run = NULL;
    if (d->vcpu_fd >= 0)
        close(d->vcpu_fd);
    if (d->vm_fd >= 0)
        close(d->vm_fd);
    if (d->kvm_fd >= 0)
        close(d->kvm_fd);
    d->vcpu_fd = d->vm_fd = d->kvm_fd = -1;
}

static bool kvm_open(KvmCpu *d, GError **err)
{
    const char *id = d->dev.id;
    const char *path = d->device && *d->device ? d->device : "/dev/kvm";
    d->kvm_fd = open(path, O_RDWR | O_CLOEXEC);
    if (d->kvm_fd < 0) {
        int e = errno;
        if (e == ENOENT || e == ENODEV || e == ENXIO)
            g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_UNSUPPORTED,
                        "%s: %s does not exist: this host offers no KVM (load kvm-intel "
                        "or kvm-amd, enable virtualisation in the firmware), or run "
                        "with --cpu x86", id, path);
        else if (e == EACCES || e == EPERM)
            g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_UNSUPPORTED,
                        "%s: no permission to open %s: join the group that owns it "
                        "(usually 'kvm'), or run with --cpu x86", id, path);
        else
            g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_UNSUPPORTED,
                        "%s: cannot open %s: %s; run with --cpu x86", id, path,
                        g_strerror(e));
        return false;
    }
    int api = ioctl(d->kvm_fd, KVM_GET_API_VERSION, 0);
    if (api != KVM_API_VERSION) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_UNSUPPORTED,
                    "%s: %s is not a usable KVM device (API version %d, want %d); "
                    "run with --cpu x86", id, path, api, KVM_API_VERSION);
        return false;
    }
    static const struct { int cap; const char *name; } needed[] = {
        { KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
        { KVM_CAP_READONLY_MEM, "KVM_CAP_READONLY_MEM (ROM)" },
        { KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
        { KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(needed); i++) {
        if (ioctl(d->kvm_fd, KVM_CHECK_EXTENSION, needed[i].cap) <= 0) {
            g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_UNSUPPORTED,
                        "%s: the host's KVM lacks %s; run with --cpu x86", id, needed[i].name);
            return false;
        }
    }
    int slots = ioctl(d->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
    d->max_slots = slots > 0 ? (uint32_t)slots : 32;
    d->have_events = ioctl(d->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_VCPU_EVENTS) > 0;
    d->have_debugregs = ioctl(d->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_DEBUGREGS) > 0;

    do
        d->vm_fd = ioctl(d->kvm_fd, KVM_CREATE_VM, 0);
    while (d->vm_fd < 0 && errno == EINTR);
    if (d->vm_fd < 0) {
        int e = errno;
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_UNSUPPORTED,
                    "%s: KVM cannot create a virtual machine: %s; run with --cpu x86",
                    id, g_strerror(e));
        return false;
    }
    /* Intel: real mode runs on a vm86 TSS, unpaged protected mode on an
     * identity page table; both live in guest-physical pages KVM owns. */
    if (ioctl(d->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0) {
        uint64_t idmap = KVM_IDMAP_ADDR;
        if (ioctl(d->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0) {
            int e = errno;
            g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO,
                        "%s: KVM_SET_IDENTITY_MAP_ADDR: %s", id, g_strerror(e));
            return false;
        }
    }
    if (ioctl(d->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0) {
        int e = errno;
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO, "%s: KVM_SET_TSS_ADDR: %s", id,
                    g_strerror(e));
        return false;
    }
    d->vcpu_fd = ioctl(d->vm_fd, KVM_CREATE_VCPU, 0);
    if (d->vcpu_fd < 0) {
        int e = errno;
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_UNSUPPORTED,
                    "%s: KVM cannot create a vCPU: %s; run with --cpu x86", id, g_strerror(e));
        return false;
    }
    int sz = ioctl(d->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (sz < (int)sizeof(struct kvm_run)) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO,
                    "%s: KVM_GET_VCPU_MMAP_SIZE gave %d", id, sz);
        return false;
    }
    void *p = mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE, MAP_SHARED, d->vcpu_fd, 0);
    if (p == MAP_FAILED) {
        int e = errno;
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO, "%s: cannot map the vCPU: %s",
                    id, g_strerror(e));
        return false;
    }
    d->run = p;
    d->run_size = (size_t)sz;
    return true;
}

static bool kvmp_realize(TessDevice *dev, GError **err)
{
    KvmCpu *d = (KvmCpu *)dev;
    d->kvm_fd = d->vm_fd = d->vcpu_fd = -1;
    if (tess_clock_deterministic(dev->machine)) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_UNSUPPORTED,
                    "%s: the kvm CPU cannot count instructions, so it cannot run in "
                    "deterministic mode: run with --cpu x86, or without --deterministic",
                    dev->id);
        return false;
    }
    if (tess_machine_dry_run(dev->machine)) {
        /* validate: would the open succeed? (a missing /dev/kvm is what
         * makes run take the <cpu fallback>) */
        const char *path = d->device && *d->device ? d->device : "/dev/kvm";
        if (access(path, R_OK | W_OK) == 0)
            return true;
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_UNSUPPORTED,
                    "%s: cannot open %s (%s): run with --cpu x86", dev->id, path,
                    g_strerror(errno));
        return false;
    }
    if (!kvm_open(d, err) || !kvm_setup_cpuid(d, err) || !kvm_setup_reset_state(d, err)) {
        kvm_close_all(d);
        return false;
    }
    if (!kick_install(err, dev->id)) {
        kvm_close_all(d);
        return false;
    }
    kvm_mem_init(d);
    return true;
}

static void kvmp_unrealize(TessDevice *dev)
{
    KvmCpu *d = (KvmCpu *)dev;
    kvm_close_all(d);
    if (!tess_machine_dry_run(dev->machine))
        kick_uninstall();
}

static void kvmp_reset(TessDevice *dev)
{
    KvmCpu *d = (KvmCpu *)dev;
    apply_reset(d);
    d->intr = tess_device_input_level(dev, "intr");
    kvm_mem_set_a20(d, d->a20_driven ? tess_device_input_level(dev, "a20") : true);
}

static bool kvmp_pre_save(TessDevice *dev, GError **err)
{
    KvmCpu *d = (KvmCpu *)dev;
    memset(&d->saved, 0, sizeof(d->saved));
    d->saved.version = TESS_CPU_STATE_VERSION;
    d->saved.size = sizeof(TessCpuState);
    return kvm_get_state(dev, &d->saved, err);
}

static bool kvmp_post_load(TessDevice *dev, uint32_t version, GError **err)
{
    KvmCpu *d = (KvmCpu *)dev;
    if (!kvm_set_state(dev, &d->saved, err))
        return false;
    d->intr = tess_device_input_level(dev, "intr");
    kvm_mem_set_a20(d, d->a20_driven ? tess_device_input_level(dev, "a20") : true);
    return true;
}

static const TessStateField kvm_state_fields[] = {
    TESS_STATE_BUF(KvmCpu, saved),
    TESS_STATE_BOOL(KvmCpu, a20_driven),
    TESS_STATE_BOOL(KvmCpu, nmi_level),
    TESS_STATE_BOOL(KvmCpu, reset_level),
    TESS_STATE_U64(KvmCpu, icount),
    TESS_STATE_END,
};

static const TessStateDesc kvm_state = {
    .version = 1,
    .fields = kvm_state_fields,
    .pre_save = kvmp_pre_save,
    .post_load = kvmp_post_load,
};

static const TessPropSpec kvm_props[] = {
    TESS_PROP_ENUM_("model", KvmCpu, model, "pentium", kvm_models,
                    "processor model: CPUID as the x86 interpreter's model of that name"),
    TESS_PROP_ENUM_("vendor", KvmCpu, vendor, "model", kvm_vendors,
                    "CPUID vendor string: the model's (GenuineIntel) or the host's"),
    TESS_PROP_PATH_("device", KvmCpu, device, "/dev/kvm", "the KVM device to open"),
    TESS_PROP_END,
};

static const TessIfaceSpec kvm_provides[] = {
    { TESS_IFACE_CPU, &kvm_cpu_ops },
    TESS_IFACE_END,
};

static const char *const kvm_needs[] = { TESS_IFACE_INTC, NULL };

static const TessDeviceClass kvm_class = {
    .type = "kvm",
    .kind = TESS_CLASS_CPU,
    .doc = "hardware virtualisation through /dev/kvm (realtime mode only)",
    .instance_size = sizeof(KvmCpu),
    .props = kvm_props,
    .lines = kvm_lines,
    .provides = kvm_provides,
    .needs = kvm_needs,
    .state = &kvm_state,
    .realize = kvmp_realize,
    .reset = kvmp_reset,
    .unrealize = kvmp_unrealize,
};

static bool kvm_plugin_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &kvm_class, err);
}

TESS_PLUGIN_DEFINE("kvm", "0.1.0", "LGPL-2.1-or-later",
                   "KVM hardware-virtualisation CPU", kvm_plugin_init);
