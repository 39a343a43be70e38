/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CPUID, CR4 and MSRs per model. The expected identification is each real
 * part's (Intel AP-485 and the parts' specification updates), written out
 * here independently of x86-model.c's table; the feature bits must be the
 * real part's, less only what the interpreter does not implement.
 */
#include "x86-cpu.h"

#define RAM_SIZE (1u << 20)
static uint8_t *ram;

static void bpage(void *o, uint64_t pa, uint8_t **rd, uint8_t **wr)
{
    if (pa < RAM_SIZE)
        *rd = *wr = ram + pa;
    else
        *rd = *wr = NULL;
}
static uint64_t bread(void *o, uint64_t pa, unsigned size) { return ~0ull >> (64 - 8 * size); }
static void bwrite(void *o, uint64_t pa, uint64_t v, unsigned size) { }
static uint32_t ioread(void *o, uint32_t port, unsigned size) { return 0xFFFFFFFFu; }
static void iowrite(void *o, uint32_t port, uint32_t v, unsigned size) { }
static uint8_t intack(void *o) { return 0x20; }

static const X86Bus bus = { NULL, bpage, bread, bwrite, ioread, iowrite, intack, NULL };

typedef struct {
    X86Model model;
    const char *name;
    uint32_t signature;
    uint32_t real_edx;          /* the real part's CPUID.1 EDX */
    uint32_t max_leaf, max_ext;
    uint32_t leaf2_edx;
    bool nx;
    const char *brand;
} Expect;

static const Expect expect[] = {
    { X86_MODEL_486, "486", 0x0422, 0x00000000, 1, 0, 0, false, NULL },
    { X86_MODEL_PENTIUM, "pentium", 0x052C, 0x000001BF, 1, 0, 0, false, NULL },
    { X86_MODEL_PMMX, "pentium-mmx", 0x0543, 0x008001BF, 1, 0, 0, false, NULL },
    { X86_MODEL_PPRO, "pentium-pro", 0x0619, 0x0000FBFF, 2, 0, 0x06040A42, false, NULL },
    { X86_MODEL_P2, "pentium2", 0x0652, 0x0183FBFF, 2, 0, 0x0C040843, false, NULL },
    { X86_MODEL_P3, "pentium3", 0x0683, 0x0383FBFF, 2, 0, 0x0C040882, false, NULL },
    { X86_MODEL_P4, "pentium4", 0x0F41, 0xBFEBFBFF, 2, 0x80000008, 0x007C7040, true,
      "Intel(R) Pentium(R) 4 CPU 3.20GHz" },
};

/* What the interpreter does not implement (yet): these bits must not be
 * reported even where the real part has them. */
#define NOT_IMPL (CPUID_VME | CPUID_APIC | CPUID_MCA | CPUID_CLFSH \
                  | CPUID_SS | (1u << 21) | (1u << 22) \
                  | (1u << 28) | (1u << 29) | (1u << 31))

static void cpuid(X86Cpu *c, uint32_t leaf, uint32_t r[4])
{
    c->r[R_EAX] = leaf;
    c->r[R_ECX] = 0;
    x86_cpuid(c);
    r[0] = c->r[R_EAX];
    r[1] = c->r[R_EBX];
    r[2] = c->r[R_ECX];
    r[3] = c->r[R_EDX];
}

static void test_cpuid(void)
{
    static X86Cpu c;
    ram = g_malloc0(RAM_SIZE);
    G_STATIC_ASSERT(G_N_ELEMENTS(expect) == X86_MODEL_COUNT);
    for (unsigned k = 0; k < G_N_ELEMENTS(expect); k++) {
        const Expect *e = &expect[k];
        x86_init(&c, e->model, &bus);
        g_test_message("model %s", e->name);
        g_assert_cmpstr(x86_model_info[e->model].name, ==, e->name);
        uint32_t r[4];
        cpuid(&c, 0, r);
        g_assert_cmphex(r[0], ==, e->max_leaf);
        g_assert_true(r[1] == 0x756E6547 && r[3] == 0x49656E69 && r[2] == 0x6C65746E);
        cpuid(&c, 1, r);
        g_assert_cmphex(r[0], ==, e->signature);
        g_assert_cmphex(r[3], ==, e->real_edx & ~NOT_IMPL);
        g_assert_cmphex(r[2], ==, 0);       /* SSE3 and the rest: not implemented */
        /* the reset EDX is the signature */
        g_assert_cmphex(c.r[R_EDX], ==, r[3]);
        x86_reset(&c);
        g_assert_cmphex(c.r[R_EDX], ==, e->signature);
        if (e->max_leaf >= 2) {
            cpuid(&c, 2, r);
            g_assert_cmphex(r[0] & 0xFF, ==, 1);     /* one iteration */
            g_assert_cmphex(r[3], ==, e->leaf2_edx);
        }
        /* past the maximum: the highest basic leaf */
        uint32_t top[4], past[4];
        cpuid(&c, e->max_leaf, top);
        cpuid(&c, e->max_leaf + 1, past);
        g_assert_true(memcmp(top, past, sizeof(top)) == 0);
        cpuid(&c, 0x80000000u, r);
        if (!e->max_ext) {
            /* no extended leaves: what software checks is not 8000xxxxh */
            g_assert_cmphex(r[0] & 0xFFFF0000u, !=, 0x80000000u);
            x86_fini(&c);
            continue;
        }
        g_assert_cmphex(r[0], ==, e->max_ext);
        cpuid(&c, 0x80000001u, r);
        g_assert_cmphex(r[3], ==, e->nx ? CPUID_EXT_NX : 0);
        char brand[49] = { 0 };
        for (unsigned l = 0; l < 3; l++) {
            cpuid(&c, 0x80000002u + l, r);
            memcpy(brand + 16 * l, r, 16);
        }
        g_assert_cmpuint(strlen(brand), ==, 47);         /* right-aligned, as Intel's */
        g_assert_cmpstr(g_strchug(brand), ==, e->brand);
        cpuid(&c, 0x80000008u, r);
        g_assert_cmphex(r[0] & 0xFF, ==, 36);            /* physical address bits */
        x86_fini(&c);
    }
    g_free(ram);
}

/* Run "code" (32-bit, flat, CPL 0, paging off) until HLT; returns the
 * vector of the exception it raised, or -1. */
#define CODE 0x1000u
#define IDT  0x800u
static int run_code(X86Cpu *c, const uint8_t *code, size_t len)
{
    memset(ram, 0, 0x4000);
    for (int v = 0; v < 32; v++) {          /* vector v -> HLT at 0x3000 + v */
        uint32_t h = 0x3000 + v;
        uint64_t g = (h & 0xFFFF) | (0x08ull << 16) | (0x8E00ull << 32);
        memcpy(ram + IDT + v * 8, &g, 8);
        ram[h] = 0xF4;
    }
    static const uint64_t gdt[3] = { 0, 0x00CF9B000000FFFFull, 0x00CF93000000FFFFull };
    memcpy(ram + 0x400, gdt, sizeof(gdt));
    memcpy(ram + CODE, code, len);
    ram[CODE + len] = 0xF4;
    c->cr0 |= CR0_PE;
    c->gdt_base = 0x400;
    c->gdt_limit = 23;
    c->idt_base = IDT;
    c->idt_limit = 0xFF;
    uint32_t lo, hi;
    x86_read_desc(c, 0x08, &lo, &hi);
    x86_desc_to_seg(&c->seg[S_CS], 0x08, lo, hi);
    x86_read_desc(c, 0x10, &lo, &hi);
    for (int s = 0; s < 6; s++)
        if (s != S_CS)
            x86_desc_to_seg(&c->seg[s], 0x10, lo, hi);
    x86_update_mode(c);
    x86_code_flush_all(c);
    c->eip = CODE;
    c->r[R_ESP] = 0x8000;
    c->halted = false;
    uint64_t lim = c->icount + 1000;
    int ret = x86_run(c, &lim, NULL);
    g_assert_cmpint(ret, ==, X86_EXIT_HALTED);
    uint32_t at = c->eip - 1;       /* HLT retired */
    return at >= 0x3000 && at < 0x3020 ? (int)(at - 0x3000) : -1;
}

/* rdmsr ecx=msr; returns the vector (or -1) and the value */
static int rdmsr(X86Cpu *c, uint32_t msr, uint64_t *v)
{
    static const uint8_t code[] = { 0x0F, 0x32 };
    c->r[R_ECX] = msr;
    c->r[R_EAX] = c->r[R_EDX] = 0xDEAD;
    int vec = run_code(c, code, sizeof(code));
    *v = ((uint64_t)c->r[R_EDX] << 32) | c->r[R_EAX];
    return vec;
}

static int wrmsr(X86Cpu *c, uint32_t msr, uint64_t v)
{
    static const uint8_t code[] = { 0x0F, 0x30 };
    c->r[R_ECX] = msr;
    c->r[R_EAX] = (uint32_t)v;
    c->r[R_EDX] = (uint32_t)(v >> 32);
    return run_code(c, code, sizeof(code));
}

static int write_cr4(X86Cpu *c, uint32_t v)
{
    static const uint8_t code[] = { 0x0F, 0x22, 0xE0 };     /* mov cr4, eax */
    c->r[R_EAX] = v;
    return run_code(c, code, sizeof(code));
}

static void test_msrs_cr4(void)
{
    static X86Cpu c;
    ram = g_malloc0(RAM_SIZE);
    for (int m = 0; m < X86_MODEL_COUNT; m++) {
        x86_init(&c, (X86Model)m, &bus);
        unsigned fam = (x86_model_info[m].signature >> 8) & 0xF;
        uint32_t f = c.feat_edx;
        g_test_message("model %s", x86_model_info[m].name);
        uint64_t v;
        if (!(f & CPUID_MSR)) {
            g_assert_cmpint(rdmsr(&c, MSR_TSC, &v), ==, X86_UD);
            g_assert_cmpint(write_cr4(&c, 0), ==, X86_UD);      /* the 486: no CR4 */
            x86_fini(&c);
            continue;
        }
        g_assert_cmpint(rdmsr(&c, MSR_TSC, &v), ==, -1);
        /* CR4: each bit with its feature */
        static const struct { uint32_t cr4, feat; } bits[] = {
            { CR4_VME, CPUID_VME }, { CR4_PVI, CPUID_VME }, { CR4_TSD, CPUID_TSC },
            { CR4_DE, CPUID_DE }, { CR4_PSE, CPUID_PSE }, { CR4_PAE, CPUID_PAE },
            { CR4_MCE, CPUID_MCE }, { CR4_PGE, CPUID_PGE }, { CR4_OSFXSR, CPUID_FXSR },
            { CR4_OSXMMEXCPT, CPUID_SSE },
        };
        for (unsigned b = 0; b < G_N_ELEMENTS(bits); b++) {
            c.cr4 = 0;
            int vec = write_cr4(&c, bits[b].cr4);
            g_assert_cmpint(vec, ==, (f & bits[b].feat) ? -1 : X86_GP);
        }
        c.cr4 = 0;
        g_assert_cmpint(write_cr4(&c, 1u << 11), ==, X86_GP);     /* never there */
        c.cr4 = 0;
        g_assert_cmpint(write_cr4(&c, CR4_PCE), ==,
                        (x86_model_info[m].flags & X86_HAS_RDPMC) ? -1 : X86_GP);
        c.cr4 = 0;
        /* PAT: where CPUID says, power-on value, reads back, reserved types #GP */
        if (f & CPUID_PAT) {
            g_assert_cmpint(rdmsr(&c, MSR_PAT, &v), ==, -1);
            g_assert_cmphex(v, ==, 0x0007040600070406ull);
            g_assert_cmpint(wrmsr(&c, MSR_PAT, 0x0001050600070401ull), ==, -1);
            g_assert_cmpint(rdmsr(&c, MSR_PAT, &v), ==, -1);
            g_assert_cmphex(v, ==, 0x0001050600070401ull);
            g_assert_cmpint(wrmsr(&c, MSR_PAT, 0x0000000000000002ull), ==, X86_GP);
            g_assert_cmpint(wrmsr(&c, MSR_PAT, 0x0000000000000800ull), ==, X86_GP);
        } else {
            g_assert_cmpint(rdmsr(&c, MSR_PAT, &v), ==, X86_GP);
        }
        /* MTRRs on the P6 and the Pentium 4 */
        if (f & CPUID_MTRR) {
            g_assert_cmpint(wrmsr(&c, 0x200, 0x12345006), ==, -1);
            g_assert_cmpint(rdmsr(&c, 0x200, &v), ==, -1);
            g_assert_cmphex(v, ==, 0x12345006);
            g_assert_cmpint(rdmsr(&c, MSR_MTRRCAP, &v), ==, -1);
            g_assert_cmpint(rdmsr(&c, MSR_BIOS_SIGN_ID, &v), ==, -1);
            g_assert_cmpint(rdmsr(&c, MSR_PLATFORM_ID, &v), ==, -1);
        } else {
            g_assert_cmpint(rdmsr(&c, 0x200, &v), ==, X86_GP);
        }
        /* SYSENTER MSRs with SEP */
        g_assert_cmpint(wrmsr(&c, MSR_SYSENTER_EIP, 0x1234), ==,
                        (f & CPUID_SEP) ? -1 : X86_GP);
        /* EFER and MISC_ENABLE: the Pentium 4 only; XD disable hides NX */
        if (fam == 15) {
            g_assert_cmpint(rdmsr(&c, MSR_MISC_ENABLE, &v), ==, -1);
            g_assert_cmphex(v & (1u << 7), ==, 0);      /* no performance monitoring */
            g_assert_cmpint(rdmsr(&c, MSR_EFER, &v), ==, -1);
            g_assert_cmphex(v, ==, 0);
            g_assert_cmpint(wrmsr(&c, MSR_EFER, EFER_NXE), ==, -1);
            g_assert_cmpint(rdmsr(&c, MSR_EFER, &v), ==, -1);
            g_assert_cmphex(v, ==, EFER_NXE);
            g_assert_cmpint(wrmsr(&c, MSR_EFER, 1u << 8), ==, X86_GP);  /* LME */
            g_assert_cmpint(wrmsr(&c, MSR_EFER, 1u << 0), ==, X86_GP);  /* SCE */
            /* XD disable: refused while NXE is set; once set, NX is gone */
            uint64_t me;
            rdmsr(&c, MSR_MISC_ENABLE, &me);
            g_assert_cmpint(wrmsr(&c, MSR_MISC_ENABLE, me | MISC_ENABLE_XD_DISABLE), ==, X86_GP);
            g_assert_cmpint(wrmsr(&c, MSR_EFER, 0), ==, -1);
            g_assert_cmpint(wrmsr(&c, MSR_MISC_ENABLE, me | MISC_ENABLE_XD_DISABLE), ==, -1);
            uint32_t r[4];
            cpuid(&c, 0x80000001u, r);
            g_assert_cmphex(r[3] & CPUID_EXT_NX, ==, 0);
            g_assert_cmpint(wrmsr(&c, MSR_EFER, EFER_NXE), ==, X86_GP);
            g_assert_cmpint(wrmsr(&c, MSR_MISC_ENABLE, me), ==, -1);
            cpuid(&c, 0x80000001u, r);
            g_assert_cmphex(r[3] & CPUID_EXT_NX, ==, CPUID_EXT_NX);
            /* a read-only bit of MISC_ENABLE */
            g_assert_cmpint(wrmsr(&c, MSR_MISC_ENABLE, me | (1u << 7)), ==, X86_GP);
        } else {
            g_assert_cmpint(rdmsr(&c, MSR_EFER, &v), ==, X86_GP);
            g_assert_cmpint(rdmsr(&c, MSR_MISC_ENABLE, &v), ==, X86_GP);
        }
        x86_fini(&c);
    }
    g_free(ram);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/x86/cpuid/models", test_cpuid);
    g_test_add_func("/x86/cpuid/msrs-cr4", test_msrs_cr4);
    return g_test_run();
}
