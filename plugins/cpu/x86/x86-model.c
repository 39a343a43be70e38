/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Processor models and CPUID. Each model is one real part: its signature,
 * cache descriptors, brand string and feature bits are that part's
 * (Intel AP-485 "Processor Identification and the CPUID Instruction";
 * SDM vol. 2A, CPUID, tables 3-11 to 3-13 for the bits and descriptors;
 * Intel specification updates for the signatures). CPUID reports the bits
 * of the real part the interpreter implements (X86_IMPL_*), so software
 * never picks a path the interpreter cannot run.
 */
#include "x86-cpu.h"

/* CPUID.2 descriptors (SDM vol. 2A, table 3-12) used below:
 *  01 ITLB 4K 4-way 32    02 ITLB 4M full 2     03 DTLB 4K 4-way 64
 *  04 DTLB 4M 4-way 8     06 L1I 8K 4-way 32B   08 L1I 16K 4-way 32B
 *  0A L1D 8K 2-way 32B    0C L1D 16K 4-way 32B  42 L2 256K 4-way 32B
 *  43 L2 512K 4-way 32B   82 L2 256K 8-way 32B  50 ITLB 4K/4M 64
 *  5B DTLB 4K/4M 64       60 L1D 16K 8-way 64B  70 trace cache 12K-uop
 *  7C L2 1M 8-way 64B sectored */
const X86ModelInfo x86_model_info[X86_MODEL_COUNT] = {
    [X86_MODEL_486] = {
        .name = "486", .part = "Intel486 SX (a late stepping with CPUID)",
        .signature = 0x0422, .mhz = 66,
        .edx = 0, .max_leaf = 1,
    },
    [X86_MODEL_PENTIUM] = {
        .name = "pentium", .part = "Pentium (P54C, 100 MHz)",
        .signature = 0x052C, .mhz = 100,
        .edx = 0x000001BF,      /* FPU VME DE PSE TSC MSR MCE CX8 */
        .max_leaf = 1, .flags = X86_HAS_CR4,
    },
    [X86_MODEL_PPRO] = {
        .name = "pentium-pro", .part = "Pentium Pro (200 MHz, 256 KiB L2)",
        .signature = 0x0619, .mhz = 200,
        .edx = 0x0000FBFF,      /* ... PAE MCE CX8 APIC SEP MTRR PGE MCA CMOV */
        .max_leaf = 2, .leaf2 = { 0x03020101, 0, 0, 0x06040A42 },
        .flags = X86_HAS_CR4 | X86_HAS_RDPMC | X86_HAS_NOPL,
    },
    [X86_MODEL_PMMX] = {
        .name = "pentium-mmx", .part = "Pentium with MMX technology (P55C, 233 MHz)",
        .signature = 0x0543, .mhz = 233,
        .edx = 0x008001BF,      /* FPU VME DE PSE TSC MSR MCE CX8 MMX */
        .max_leaf = 1, .flags = X86_HAS_CR4 | X86_HAS_RDPMC,
    },
    [X86_MODEL_P2] = {
        .name = "pentium2", .part = "Pentium II (Deschutes, 333 MHz, 512 KiB L2)",
        .signature = 0x0652, .mhz = 333,
        /* Deschutes (model 5) added PAT and PSE-36 to Klamath's set */
        .edx = 0x0183FBFF,      /* P6 set + PAT PSE36 MMX FXSR */
        .max_leaf = 2, .leaf2 = { 0x03020101, 0, 0, 0x0C040843 },
        .flags = X86_HAS_CR4 | X86_HAS_RDPMC | X86_HAS_NOPL,
    },
    [X86_MODEL_P3] = {
        .name = "pentium3", .part = "Pentium III (Coppermine, 800 MHz, 256 KiB L2)",
        .signature = 0x0683, .mhz = 800,
        .brand_index = 2,       /* "Intel Pentium III processor" */
        /* the processor serial number disabled, as BIOSes leave it: no
         * PSN bit and no leaf 3 */
        .edx = 0x0383FBFF,      /* P2 set + SSE */
        .max_leaf = 2, .leaf2 = { 0x03020101, 0, 0, 0x0C040882 },
        .flags = X86_HAS_CR4 | X86_HAS_RDPMC | X86_HAS_NOPL,
    },
    [X86_MODEL_P4] = {
        .name = "pentium4",
        .part = "Pentium 4 540J (Prescott E0, 3.2 GHz, 1 MiB L2): 32-bit, with XD (NX)",
        .signature = 0x0F41, .mhz = 3200,
        .edx = 0xBFEBFBFF,      /* P3 set + CLFSH DS ACPI SSE2 SS HTT TM PBE */
        .ecx = 0x00004419,      /* SSE3 MONITOR DS-CPL CNXT-ID xTPR */
        .ext_edx = CPUID_EXT_NX,
        /* the part has leaves 4 and 5 (deterministic cache parameters,
         * MONITOR); they describe what is not modelled, so the maximum
         * is 2, as with IA32_MISC_ENABLE's "limit CPUID maxval" */
        .max_leaf = 2, .leaf2 = { 0x605B5001, 0, 0, 0x007C7040 },
        .max_ext = 0x80000008,
        .l2_ext = 0x04006040,   /* 1 MiB, 8-way, 64-byte lines */
        .addr_sizes = 0x2024,   /* 36 physical, 32 linear address bits */
        .brand = "              Intel(R) Pentium(R) 4 CPU 3.20GHz",
        .platform_id = 2,
        .flags = X86_HAS_CR4 | X86_HAS_RDPMC | X86_HAS_NOPL,
    },
};

void x86_set_model(X86Cpu *c, X86Model model)
{
    if ((unsigned)model >= X86_MODEL_COUNT)
        model = X86_MODEL_PENTIUM;
    const X86ModelInfo *mi = &x86_model_info[model];
    c->model = model;
    c->mi = mi;
    c->mhz = mi->mhz;
    c->feat_edx = mi->edx & X86_IMPL_EDX;
    c->feat_ecx = mi->ecx & X86_IMPL_ECX;
    c->feat_ext_edx = mi->ext_edx & X86_IMPL_EXT_EDX;
}

/* Four bytes of the brand string, NUL-padded to 48. */
static uint32_t brand_dword(const char *s, unsigned k)
{
    size_t n = strlen(s);
    uint32_t v = 0;
    for (unsigned b = 0; b < 4; b++) {
        unsigned at = 4 * k + b;
        v |= (uint32_t)(uint8_t)(at < n ? s[at] : 0) << (8 * b);
    }
    return v;
}

void x86_cpuid(X86Cpu *c)
{
    const X86ModelInfo *mi = c->mi;
    uint32_t leaf = c->r[R_EAX];
    uint32_t a = 0, b = 0, cc = 0, d = 0;
    /* Intel: a leaf past the maximum (basic or extended) returns the
     * highest basic leaf; so does any extended leaf on parts without
     * them (their 80000000h EAX is no 8000xxxxh, as software checks) */
    if (leaf >= 0x80000000u ? leaf > mi->max_ext : leaf > mi->max_leaf)
        leaf = mi->max_leaf;
    switch (leaf) {
    case 0:
        a = mi->max_leaf;
        b = 0x756E6547;   /* "Genu" */
        d = 0x49656E69;   /* "ineI" */
        cc = 0x6C65746E;  /* "ntel" */
        break;
    case 1:
        a = mi->signature;
        b = mi->brand_index;
        cc = c->feat_ecx;
        d = c->feat_edx;
        break;
    case 2:
        a = mi->leaf2[0];
        b = mi->leaf2[1];
        cc = mi->leaf2[2];
        d = mi->leaf2[3];
        break;
    case 0x80000000u:
        a = mi->max_ext;
        break;
    case 0x80000001u:
        d = c->feat_ext_edx;
        if (c->misc_enable & MISC_ENABLE_XD_DISABLE)
            d &= ~CPUID_EXT_NX;
        break;
    case 0x80000002u: case 0x80000003u: case 0x80000004u:
        if (mi->brand) {
            unsigned k = (leaf - 0x80000002u) * 4;
            a = brand_dword(mi->brand, k);
            b = brand_dword(mi->brand, k + 1);
            cc = brand_dword(mi->brand, k + 2);
            d = brand_dword(mi->brand, k + 3);
        }
        break;
    case 0x80000006u:
        cc = mi->l2_ext;
        break;
    case 0x80000008u:
        a = mi->addr_sizes;
        break;
    default:
        break;
    }
    c->r[R_EAX] = a;
    c->r[R_EBX] = b;
    c->r[R_ECX] = cc;
    c->r[R_EDX] = d;
}
