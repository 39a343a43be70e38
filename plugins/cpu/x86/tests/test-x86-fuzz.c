/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Decoder fuzz test: random byte sequences executed as code, in real mode
 * and in 32-bit protected mode, against a plain RAM buffer. Every case
 * must end - in an exception handler's HLT, a shutdown, or the
 * instruction bound - without a host crash (run under ASan/UBSan).
 *
 * Slicing test: the same random programs on two CPUs, one run in one go
 * and one cut into slices of a few instructions (as timer deadlines cut
 * runs), must end in the very same state: registers, flags, EIP, the
 * instruction count and memory.
 *
 * Engine test: random programs made of the forms the translator inlines
 * (x86-jit.c) and some it calls handlers for, run on the interpreter and
 * on the translator (and in lockstep), must end in the very same state.
 * X86_TEST_ENGINE=jit|lockstep runs the other tests on that engine.
 */
#include "x86-cpu.h"
#include "x86-jit.h"
#include <stdio.h>
#include <stdlib.h>

#define RAM_SIZE (4u << 20)
static uint8_t *ram;
static X86Cpu cpu;

static void bpage(void *o, uint64_t pa, uint8_t **rd, uint8_t **wr)
{
    uint8_t *base = o ? o : ram;
    if (pa < RAM_SIZE)
        *rd = *wr = base + pa;
    else
        *rd = *wr = NULL;
}
static uint64_t bread(void *o, uint64_t pa, unsigned size) { return ~0ull >> (64 - 8 * size); }
/* test_chain_break: a write beyond RAM raises the interrupt line of the
 * CPU whose RAM o is */
static X86Cpu *mmio_irq_cpu[2];
static uint8_t *mmio_irq_ram[2];
static void bwrite(void *o, uint64_t pa, uint64_t v, unsigned size)
{
    for (int k = 0; k < 2; k++)
        if (mmio_irq_cpu[k] && o == mmio_irq_ram[k])
            mmio_irq_cpu[k]->intr = true;
}
static uint32_t ioread(void *o, uint32_t port, unsigned size) { return 0xFFFFFFFFu; }
static void iowrite(void *o, uint32_t port, uint32_t v, unsigned size) { }
static uint8_t intack(void *o) { return 0x20; }
static uint64_t clk(void *o) { return cpu.icount; }

#define CODE 0x10000u
#define HLT_AT 0x500u
#define GDT 0x800u
#define IDT 0x1000u
#define CASE_LIMIT 256

static void setup_tables_in(uint8_t *ram)
{
    memset(ram, 0, 0x20000);
    ram[HLT_AT] = 0xF4;     /* hlt */
    ram[HLT_AT + 1] = 0xEB; /* jmp $-3 */
    ram[HLT_AT + 2] = 0xFD;
    for (int v = 0; v < 256; v++) {        /* real-mode IVT */
        ram[v * 4] = HLT_AT & 0xFF;
        ram[v * 4 + 1] = HLT_AT >> 8;
    }
    /* GDT: null, flat code32, flat data32 */
    static const uint64_t gdt[3] = { 0, 0x00CF9B000000FFFFull, 0x00CF93000000FFFFull };
    memcpy(ram + GDT, gdt, sizeof(gdt));
    for (int v = 0; v < 256; v++) {        /* IDT: interrupt gates to HLT */
        uint64_t g = (HLT_AT & 0xFFFF) | (0x08ull << 16) | (0x8E00ull << 32);
        memcpy(ram + IDT + v * 8, &g, 8);
    }
}

static int test_engine = X86_ENGINE_INTERP;

/* The engine the tests run on, translating every block at once. */
static void use_engine(X86Cpu *c, int engine)
{
    c->engine = (uint8_t)engine;
    c->jit_hot = 0;
}

static void setup_tables(void)
{
    setup_tables_in(ram);
}

static void enter_mode_cpu(X86Cpu *c, bool pm)
{
    x86_reset(c);
    x86_code_flush_all(c);
    if (!pm) {
        x86_seg_set_real(c, S_CS, CODE >> 4);
        c->eip = 0;
        x86_seg_set_real(c, S_SS, 0x7000);
        c->r[R_ESP] = 0xFFFE;
        c->idt_base = 0;
        c->idt_limit = 0x3FF;
        return;
    }
    c->cr0 |= CR0_PE;
    c->gdt_base = GDT;
    c->gdt_limit = 23;
    c->idt_base = IDT;
    c->idt_limit = 0x7FF;
    uint32_t lo, hi;
    x86_read_desc(c, 0x08, &lo, &hi);
    x86_desc_to_seg(&c->seg[S_CS], 0x08, lo, hi);
    x86_read_desc(c, 0x10, &lo, &hi);
    for (int s = 0; s < 6; s++)
        if (s != S_CS)
            x86_desc_to_seg(&c->seg[s], 0x10, lo, hi);
    x86_update_mode(c);
    c->eip = CODE;
    c->r[R_ESP] = 0x80000;
}

static void enter_mode(bool pm)
{
    enter_mode_cpu(&cpu, pm);
}

static void test_fuzz(void)
{
    X86Bus bus = { NULL, bpage, bread, bwrite, ioread, iowrite, intack, clk };
    ram = g_malloc0(RAM_SIZE);
    x86_init(&cpu, X86_MODEL_PENTIUM, &bus);
    use_engine(&cpu, test_engine);
    uint32_t feat0 = cpu.feat_edx;
    GRand *rng = g_rand_new_with_seed(0x5EED1234);
    unsigned cases = g_test_slow() ? 2000000 : 200000;
    if (test_engine != X86_ENGINE_INTERP)
        cases /= 4;     /* every case translates its blocks anew: keep CI time */
    unsigned outcome[3] = { 0 };
    for (unsigned n = 0; n < cases; n++) {
        setup_tables();
        uint8_t *code = ram + CODE;
        for (unsigned k = 0; k < 64; k++)
            code[k] = (uint8_t)g_rand_int(rng);
        /* bias towards interesting opcode maps */
        if (n % 3 == 0)
            code[0] = 0x0F;
        for (unsigned k = 64; k < 80; k++)
            code[k] = 0xF4;
        x86_set_model(&cpu, (X86Model)(n % X86_MODEL_COUNT));
        enter_mode(n & 1);
        /* half the cases with MMX/SSE/SSE2 enabled: the SIMD decoder,
         * FXRSTOR images and MXCSR values from random bytes */
        cpu.feat_edx = feat0;
        cpu.cr4 = 0;
        if (n & 8) {
            cpu.feat_edx |= CPUID_MMX | CPUID_FXSR | CPUID_SSE | CPUID_SSE2 | CPUID_CLFSH;
            cpu.cr4 = (n & 16) ? CR4_OSFXSR | CR4_OSXMMEXCPT : 0;
            cpu.mxcsr = g_rand_int(rng) & 0xFFFF;
        }
        for (int r = 0; r < 8; r++)
            if (r != R_ESP)
                cpu.r[r] = g_rand_int(rng) & ((n & 4) ? 0xFFFF : 0x3FFFF);
        uint64_t lim = cpu.icount + CASE_LIMIT;
        int ret = x86_run(&cpu, &lim, NULL);
        g_assert_cmpint(ret, >=, X86_EXIT_LIMIT);
        g_assert_cmpint(ret, <=, X86_EXIT_SHUTDOWN);
        g_assert_cmpuint(cpu.icount, <=, lim);
        outcome[ret]++;
    }
    g_test_message("limit %u halted %u shutdown %u", outcome[0], outcome[1], outcome[2]);
    g_assert_cmpuint(outcome[1], >, cases / 10);
    g_rand_free(rng);
    x86_fini(&cpu);
    g_free(ram);
}

/* Run c until `total` more instructions retired or it stops, in slices of
 * 1 to `slice` instructions (0: in one go). */
static int run_sliced(X86Cpu *c, uint64_t total, unsigned slice, GRand *rng)
{
    uint64_t end = c->icount + total;
    int ret = X86_EXIT_LIMIT;
    while (c->icount < end && ret == X86_EXIT_LIMIT) {
        uint64_t lim = slice ? c->icount + 1 + g_rand_int_range(rng, 0, (gint32)slice) : end;
        if (lim > end)
            lim = end;
        ret = x86_run(c, &lim, NULL);
    }
    return ret;
}

static void test_slices(void)
{
    static X86Cpu a, b;
    X86Bus bus = { NULL, bpage, bread, bwrite, ioread, iowrite, intack, NULL };
    uint8_t *ram_a = g_malloc0(RAM_SIZE), *ram_b = g_malloc0(RAM_SIZE);
    bus.opaque = ram_a;
    x86_init(&a, X86_MODEL_PPRO, &bus);
    bus.opaque = ram_b;
    x86_init(&b, X86_MODEL_PPRO, &bus);
    use_engine(&a, test_engine);
    use_engine(&b, test_engine);
    GRand *rng = g_rand_new_with_seed(0x511CE5);
    unsigned cases = g_test_slow() ? 20000 : 2000;
    for (unsigned n = 0; n < cases; n++) {
        memset(ram_a, 0, RAM_SIZE);
        setup_tables_in(ram_a);
        /* mostly plain ALU, moves, stack and short jumps, so that runs
         * go on for a while rather than fault at once */
        static const uint8_t pool[] = {
            0x01, 0x03, 0x29, 0x31, 0x21, 0x09, 0x39, 0x85, 0x89, 0x8B, 0x40, 0x48,
            0x50, 0x58, 0x05, 0x2D, 0x74, 0x75, 0xEB, 0xD1, 0xC1, 0x0F, 0xF7, 0x90,
        };
        uint8_t *code = ram_a + CODE;
        for (unsigned k = 0; k < 256; k++)
            code[k] = (k % 3 == 0) ? pool[g_rand_int_range(rng, 0, G_N_ELEMENTS(pool))]
                                   : (uint8_t)g_rand_int(rng);
        memcpy(ram_b, ram_a, RAM_SIZE);
        bool pm = n & 1;
        enter_mode_cpu(&a, pm);
        enter_mode_cpu(&b, pm);
        for (int r = 0; r < 8; r++)
            if (r != R_ESP)
                a.r[r] = b.r[r] = g_rand_int(rng) & 0x3FFF;
        int ra = run_sliced(&a, 400, 0, rng);
        int rb = run_sliced(&b, 400, 9, rng);
        g_assert_cmpint(ra, ==, rb);
        g_assert_cmpuint(a.icount, ==, b.icount);
        g_assert_cmphex(a.eip, ==, b.eip);
        g_assert_cmphex(x86_get_eflags(&a), ==, x86_get_eflags(&b));
        for (int r = 0; r < 8; r++)
            g_assert_cmphex(a.r[r], ==, b.r[r]);
        for (int s = 0; s < 6; s++)
            g_assert_cmphex(a.seg[s].sel, ==, b.seg[s].sel);
        g_assert_true(memcmp(ram_a, ram_b, RAM_SIZE) == 0);
    }
    g_rand_free(rng);
    x86_fini(&a);
    x86_fini(&b);
    g_free(ram_a);
    g_free(ram_b);
}

/* A fault whose delivery faults on to a triple fault counts as one
 * instruction, however many deliveries it takes: a run that ends in a
 * shutdown never passes its limit (before, the #DF and the shutdown each
 * counted, and the decoder fuzz test overshot by up to 2 at a few million
 * cases). The same for a single-step trap due at the limit. */
static void test_limit_at_fault(void)
{
    X86Bus bus = { NULL, bpage, bread, bwrite, ioread, iowrite, intack, clk };
    ram = g_malloc0(RAM_SIZE);
    x86_init(&cpu, X86_MODEL_P3, &bus);
    use_engine(&cpu, test_engine);
    for (unsigned nops = 0; nops < 40; nops++) {
        setup_tables();
        memset(ram + CODE, 0x90, nops);
        ram[CODE + nops] = 0x0F;            /* ud2 */
        ram[CODE + nops + 1] = 0x0B;
        enter_mode(true);
        cpu.idt_limit = 0;                  /* every delivery #GPs: #DF, shutdown */
        uint64_t lim = cpu.icount + nops + 1;
        int ret = x86_run(&cpu, &lim, NULL);
        g_assert_cmpint(ret, ==, X86_EXIT_SHUTDOWN);
        g_assert_cmpuint(cpu.icount, ==, lim);
    }
    /* TF: the #DB trap after the limit's last instruction waits for the
     * next run, and its faulting delivery counts there */
    setup_tables();
    memset(ram + CODE, 0x90, 16);
    enter_mode(true);
    cpu.idt_limit = 0;
    cpu.eflags |= F_TF;
    uint64_t start = cpu.icount, lim = start + 1;
    g_assert_cmpint(x86_run(&cpu, &lim, NULL), ==, X86_EXIT_LIMIT);
    g_assert_cmpuint(cpu.icount, ==, lim);
    g_assert_true(cpu.db_trap);
    lim = start + 2;
    g_assert_cmpint(x86_run(&cpu, &lim, NULL), ==, X86_EXIT_SHUTDOWN);
    g_assert_cmpuint(cpu.icount, ==, lim);
    x86_fini(&cpu);
    g_free(ram);
}

/* One random instruction, mostly of the forms the translator inlines:
 * ALU, TEST, MOV, MOVZX/MOVSX, LEA, INC/DEC, PUSH/POP, shifts, IMUL,
 * Jcc, JMP, LOOP, CALL/RET, SETcc, CMOVcc, MOV moffs, PUSH imm, LEAVE,
 * CALL/JMP/PUSH r/m32, TEST/NOT/NEG (F6/F7), CLD/STD, shifts by CL,
 * SHLD/SHRD, INC/DEC and ALU on memory with and without LOCK, MUL/IMUL,
 * CDQ, BSWAP, with register and memory operands (the
 * registers hold small values: memory operands land in RAM, some cross
 * a page, some pass a segment limit in real mode). */
#define GEN_FORMS 31
static unsigned gen_form(GRand *rng, uint8_t *p, int form)
{
    unsigned n = 0;
    uint32_t r = g_rand_int(rng);
    if (form >= 0)
        r = (r & ~0x1F0u) | (uint32_t)form << 4;
    if ((r & 15) == 0)
        p[n++] = 0x66;
    uint8_t modrm = (uint8_t)g_rand_int(rng);
    if (modrm < 0x80)
        modrm |= 0xC0;                          /* mostly registers */
    else if ((modrm & 7) == 4 || (modrm & 0xC7) == 5)
        modrm = (uint8_t)((modrm & 0x38) | 0x43);   /* [ebx+disp8] */
    uint8_t d8 = (uint8_t)g_rand_int(rng);
    switch ((r >> 4) % GEN_FORMS) {
    case 0: case 1: case 2:                     /* ALU Ev,Gv / Gv,Ev / Eb,Gb */
        p[n++] = (uint8_t)(((r >> 9) & 7) * 8 + ((r >> 12) & 3));
        p[n++] = modrm;
        if ((modrm & 0xC0) == 0x40)
            p[n++] = d8;
        break;
    case 3:                                     /* ALU Ev,Ib / Iz */
        p[n++] = (r & 0x1000) ? 0x83 : 0x81;
        p[n++] = modrm;
        if ((modrm & 0xC0) == 0x40)
            p[n++] = d8;
        for (unsigned k = (r & 0x1000) ? 1 : 4; k; k--)
            p[n++] = (uint8_t)g_rand_int(rng);
        break;
    case 4:                                     /* ALU eAX,Iz */
        p[n++] = (uint8_t)(((r >> 9) & 7) * 8 + 5);
        for (unsigned k = 0; k < 4; k++)
            p[n++] = (uint8_t)g_rand_int(rng);
        break;
    case 5:                                     /* MOV Ev,Gv / Gv,Ev / Eb,Gb / Gb,Eb */
        p[n++] = (uint8_t)(0x88 + ((r >> 9) & 3));
        p[n++] = modrm;
        if ((modrm & 0xC0) == 0x40)
            p[n++] = d8;
        break;
    case 6:                                     /* MOV r, imm */
        p[n++] = (uint8_t)(0xB0 + ((r >> 9) & 15));
        for (unsigned k = 0; k < 4; k++)
            p[n++] = (uint8_t)(g_rand_int(rng) & 0x3F);
        break;
    case 7:                                     /* TEST */
        p[n++] = (uint8_t)(0x84 + ((r >> 9) & 1));
        p[n++] = modrm;
        if ((modrm & 0xC0) == 0x40)
            p[n++] = d8;
        break;
    case 8:                                     /* INC / DEC / PUSH / POP r */
        p[n++] = (uint8_t)(0x40 + ((r >> 9) & 31));
        break;
    case 9:                                     /* shift / rotate by imm8 or 1 */
        p[n++] = (r & 0x200) ? 0xC1 : 0xD1;
        p[n++] = modrm;
        if ((modrm & 0xC0) == 0x40)
            p[n++] = d8;
        if (r & 0x200)
            p[n++] = (uint8_t)(g_rand_int(rng) & 0x3F);
        break;
    case 10:                                    /* IMUL Gv,Ev,Iz / Gv,Ev */
        if (r & 0x200) {
            p[n++] = 0x69;
            p[n++] = modrm;
            if ((modrm & 0xC0) == 0x40)
                p[n++] = d8;
            for (unsigned k = 0; k < 4; k++)
                p[n++] = (uint8_t)g_rand_int(rng);
        } else {
            p[n++] = 0x0F;
            p[n++] = 0xAF;
            p[n++] = modrm;
            if ((modrm & 0xC0) == 0x40)
                p[n++] = d8;
        }
        break;
    case 11:                                    /* LEA */
        p[n++] = 0x8D;
        p[n++] = (uint8_t)((modrm & 0x3F) | 0x40);
        p[n++] = d8;
        break;
    case 12:                                    /* MOVZX / MOVSX */
        p[n++] = 0x0F;
        p[n++] = (uint8_t)(0xB6 + ((r >> 9) & 1) + ((r >> 10) & 1) * 8);
        p[n++] = modrm;
        if ((modrm & 0xC0) == 0x40)
            p[n++] = d8;
        break;
    case 13: case 14:                           /* Jcc short, mostly forward */
        p[n++] = (uint8_t)(0x70 + ((r >> 9) & 15));
        p[n++] = (uint8_t)((g_rand_int(rng) % 24) - 4);
        break;
    case 15:                                    /* JMP short / LOOP */
        p[n++] = (r & 0x200) ? 0xEB : 0xE2;
        p[n++] = (uint8_t)((g_rand_int(rng) % 40) - 20);
        break;
    case 16:                                    /* CALL rel16/32 forward, RET */
        if (r & 0x200) {
            p[n++] = 0xE8;
            p[n++] = (uint8_t)(g_rand_int(rng) % 16);
            p[n++] = 0;
            p[n++] = 0;
            p[n++] = 0;
        } else {
            p[n++] = 0xC3;
        }
        break;
    case 17:                                    /* MOV Ev, Iz */
        p[n++] = 0xC7;
        p[n++] = modrm;
        if ((modrm & 0xC0) == 0x40)
            p[n++] = d8;
        for (unsigned k = 0; k < 4; k++)
            p[n++] = (uint8_t)g_rand_int(rng);
        break;
    case 18:                                    /* ADC/SBB with a carry */
        p[n++] = (r & 0x200) ? 0xF9 : 0xF8;     /* STC / CLC */
        p[n++] = (r & 0x400) ? 0x11 : 0x19;
        p[n++] = (uint8_t)(modrm | 0xC0);
        break;
    case 19:                                    /* CMP then SETcc / CMOVcc */
        p[n++] = 0x39;
        p[n++] = (uint8_t)(modrm | 0xC0);
        p[n++] = 0x0F;
        p[n++] = (uint8_t)(((r & 0x200) ? 0x90 : 0x40) + ((r >> 10) & 15));
        p[n++] = (r & 0x4000) ? modrm : (uint8_t)(d8 | 0xC0);
        if ((r & 0x4000) && (modrm & 0xC0) == 0x40)
            p[n++] = d8;
        break;
    case 20:                                    /* a store into the code: SMC */
        p[n++] = 0xC6;
        p[n++] = 0x05;
        p[n++] = 0x40 + (uint8_t)(g_rand_int(rng) % 64);
        p[n++] = (uint8_t)(CODE >> 8);
        p[n++] = (uint8_t)(CODE >> 16);
        p[n++] = 0;
        p[n++] = 0x90;
        break;
    case 21:                                    /* MOV AL/eAX <-> moffs (16 bits: then ADD [BX+SI], AL) */
        p[n++] = (uint8_t)(0xA0 + ((r >> 9) & 3));
        p[n++] = d8;
        p[n++] = (uint8_t)(0x30 + ((r >> 11) & 0x1F));
        p[n++] = 0;
        p[n++] = 0;
        break;
    case 22:                                    /* PUSH imm8 / imm32 */
        p[n++] = (r & 0x200) ? 0x6A : 0x68;
        for (unsigned k = (r & 0x200) ? 1 : 4; k; k--)
            p[n++] = (uint8_t)g_rand_int(rng);
        break;
    case 23:                                    /* LEAVE (after MOV EBP, ESP mostly) */
        if (r & 0x200) {
            p[n++] = 0x89;
            p[n++] = 0xE5;
        }
        p[n++] = 0xC9;
        break;
    case 24: {                                  /* CALL / JMP r32 into the code, PUSH r/m32 */
        unsigned reg = (r >> 9) & 7, kind = (r >> 12) % 5;
        if (reg == R_ESP || reg == R_EBP)
            reg = R_EAX;
        uint32_t t = CODE + (g_rand_int(rng) % 480);
        p[n++] = (uint8_t)(0xB8 + reg);
        memcpy(p + n, &t, 4);
        n += 4;
        p[n++] = 0xFF;
        if (kind == 0)
            p[n++] = (uint8_t)(0xD0 + reg);     /* call reg */
        else if (kind == 1)
            p[n++] = (uint8_t)(0xE0 + reg);     /* jmp reg */
        else if (kind == 2)
            p[n++] = (uint8_t)(0x30 + reg);     /* push [reg] */
        else if (kind == 3)
            p[n++] = (uint8_t)(0xF0 + reg);     /* push reg */
        else
            p[n++] = (uint8_t)(0x10 + reg);     /* call [reg] */
        break;
    }
    case 25:                                    /* TEST / NOT / NEG r/m (F6 / F7), CLD / STD */
        if ((r & 0x7000) == 0x7000) {
            p[n++] = (r & 0x200) ? 0xFC : 0xFD;
            break;
        }
        p[n++] = (r & 0x200) ? 0xF7 : 0xF6;
        p[n++] = (uint8_t)((modrm & 0xC7) | (((r >> 10) & 3) << 3));
        if ((modrm & 0xC0) == 0x40)
            p[n++] = d8;
        if (((r >> 10) & 3) <= 1)
            for (unsigned k = (r & 0x200) ? 4 : 1; k; k--)
                p[n++] = (uint8_t)g_rand_int(rng);
        break;
    case 26:                                    /* shifts and rotates by CL */
        p[n++] = (r & 0x200) ? 0xD3 : 0xD2;
        p[n++] = (uint8_t)((modrm & 0xC7) | (((r >> 10) & 7) << 3));
        if ((modrm & 0xC0) == 0x40)
            p[n++] = d8;
        break;
    case 27:                                    /* SHLD / SHRD by an immediate or CL */
        p[n++] = 0x0F;
        p[n++] = (uint8_t)(((r & 0x200) ? 0xA4 : 0xAC) + ((r >> 10) & 1));
        p[n++] = modrm;
        if ((modrm & 0xC0) == 0x40)
            p[n++] = d8;
        if (!(r & 0x400))
            p[n++] = (uint8_t)g_rand_int(rng);
        break;
    case 28: {                                  /* INC / DEC / ALU on memory, LOCK or not */
        uint8_t mem = (uint8_t)((modrm & 0x38) | 0x43);
        if (r & 0x200)
            p[n++] = 0xF0;
        if (r & 0x400) {
            p[n++] = 0xFF;
            p[n++] = (uint8_t)((mem & 0xC7) | (((r >> 11) & 1) << 3));
        } else {
            p[n++] = (uint8_t)(((r >> 11) & 7) * 8 + 1);
            p[n++] = mem;
        }
        p[n++] = d8;
        break;
    }
    case 29:                                    /* MUL / IMUL r/m, CDQ, BSWAP */
        if ((r & 0x600) == 0x600) {
            p[n++] = 0xF7;                      /* neg eax: a sign to extend */
            p[n++] = 0xD8;
            p[n++] = 0x99;
        } else if (r & 0x200) {
            p[n++] = 0x0F;
            p[n++] = (uint8_t)(0xC8 + ((r >> 11) & 7));
        } else {
            p[n++] = 0xF7;
            p[n++] = (uint8_t)((modrm & 0xC7) | ((4 + ((r >> 11) & 1)) << 3));
            if ((modrm & 0xC0) == 0x40)
                p[n++] = d8;
        }
        break;
    default:                                    /* anything */
        for (unsigned k = 0; k < 3; k++)
            p[n++] = (uint8_t)g_rand_int(rng);
        return n;
    }
    /* the new forms' flags, where they live: into RAM through PUSHF */
    if ((r >> 4) % GEN_FORMS >= 26 && (r & 0x1000))
        p[n++] = 0x9C;
    return n;
}

static unsigned gen_insn(GRand *rng, uint8_t *p)
{
    return gen_form(rng, p, -1);
}

/* Only the forms after ALU-on-memory, shifts by CL ... (26-29), each
 * followed by PUSHF half the time: their flags where something reads
 * them, which a run of random code seldom reaches */
static unsigned gen_late(GRand *rng, uint8_t *p)
{
    return gen_form(rng, p, g_rand_int_range(rng, 26, 30));
}

static void engines_run(unsigned (*gen)(GRand *, uint8_t *), guint32 seed, unsigned cases,
                        bool loops)
{
    static X86Cpu a, b;
    X86Bus bus = { NULL, bpage, bread, bwrite, ioread, iowrite, intack, NULL };
    uint8_t *ram_a = g_malloc0(RAM_SIZE), *ram_b = g_malloc0(RAM_SIZE);
    bus.opaque = ram_a;
    x86_init(&a, X86_MODEL_PPRO, &bus);
    bus.opaque = ram_b;
    x86_init(&b, X86_MODEL_PPRO, &bus);
    if (!X86_HAVE_JIT || !x86_jit_init(&b)) {
        g_test_skip("no translator on this host");
        x86_fini(&a);
        x86_fini(&b);
        g_free(ram_a);
        g_free(ram_b);
        return;
    }
    GRand *rng = g_rand_new_with_seed(seed);
    for (unsigned n = 0; n < cases; n++) {
        memset(ram_a, 0, RAM_SIZE);
        setup_tables_in(ram_a);
        uint8_t *code = ram_a + CODE;
        if (n % 4 == 3) {
            /* counted loops (MOV ECX; body; DEC ECX; JNZ body): blocks
             * that jump to themselves, which the translator runs again
             * in place, cut by the instruction limit */
            for (unsigned k = 0; k < 440;) {
                code[k++] = 0xB9;
                uint32_t cnt = 1 + g_rand_int_range(rng, 0, 200);
                memcpy(code + k, &cnt, 4);
                k += 4;
                unsigned body = k;
                for (int m = g_rand_int_range(rng, 1, 4); m > 0; m--)
                    k += gen(rng, code + k);
                code[k++] = 0x49;
                code[k++] = 0x75;
                code[k] = (uint8_t)(body - (k + 1));
                k++;
            }
        } else {
            for (unsigned k = 0; k < 480;)
                k += gen(rng, code + k);
        }
        memcpy(ram_b, ram_a, RAM_SIZE);
        bool pm = n & 1;
        /* a: the interpreter; b: the translator, in lockstep one case in
         * four, and translating at once or after a run */
        use_engine(&a, X86_ENGINE_INTERP);
        use_engine(&b, (n & 6) == 6 ? X86_ENGINE_LOCKSTEP : X86_ENGINE_JIT);
        b.jit_hot = (n & 8) ? 1 : 0;
        enter_mode_cpu(&a, pm);
        enter_mode_cpu(&b, pm);
        for (int r = 0; r < 8; r++)
            if (r != R_ESP)
                a.r[r] = b.r[r] = g_rand_int(rng) & ((n & 16) ? 0xFFFF : 0x3FFF);
        a.r[R_EBX] = b.r[R_EBX] = 0x20000 + (g_rand_int(rng) & 0xFFF);
        if (!pm)
            a.r[R_EBX] = b.r[R_EBX] &= 0xFFFF;
        /* one in four: the translator cut into slices (as timer deadlines
         * cut runs), where blocks cross the limit */
        int ra = run_sliced(&a, 600, 0, rng);
        int rb = run_sliced(&b, 600, (n & 5) == 1 ? 13 : 0, rng);
        if (ra != rb || a.icount != b.icount || a.eip != b.eip
            || x86_get_eflags(&a) != x86_get_eflags(&b)
            || memcmp(a.r, b.r, 8 * sizeof(uint32_t)) != 0
            || memcmp(ram_a, ram_b, RAM_SIZE) != 0) {
            fprintf(stderr, "case %u (%s mode, engine %d): exit %d/%d icount %llu/%llu "
                    "eip %08x/%08x eflags %08x/%08x\n", n, pm ? "protected" : "real",
                    b.engine, ra, rb, (unsigned long long)a.icount,
                    (unsigned long long)b.icount, a.eip, b.eip,
                    x86_get_eflags(&a), x86_get_eflags(&b));
            for (int r = 0; r < 8; r++)
                fprintf(stderr, "  r%d %08x %08x\n", r, a.r[r], b.r[r]);
            for (unsigned k = 0; k < RAM_SIZE; k++)
                if (ram_a[k] != ram_b[k]) {
                    fprintf(stderr, "  RAM first differs at %05x: %02x %02x\n", k,
                            ram_a[k], ram_b[k]);
                    break;
                }
            g_assert_not_reached();
        }
    }
    const X86JitStats *st = x86_jit_stats(&b);
    g_test_message("translated %llu blocks, %llu instructions inline, %llu as calls; "
                   "lockstep compared %llu blocks", (unsigned long long)st->blocks,
                   (unsigned long long)st->insns_inline, (unsigned long long)st->insns_call,
                   (unsigned long long)st->lockstep_blocks);
    g_test_message("%llu blocks loop in place", (unsigned long long)st->self_loops);
    g_assert_cmpuint(st->blocks, >, cases);
    if (loops)
        g_assert_cmpuint(st->self_loops, >, cases / 16);
    g_assert_cmpuint(st->insns_inline, >, st->insns_call);
    g_assert_cmpuint(st->lockstep_blocks, >, cases);
    g_assert_cmpuint(st->lockstep_diffs, ==, 0);
    g_rand_free(rng);
    x86_fini(&a);
    x86_fini(&b);
    g_free(ram_a);
    g_free(ram_b);
}

static void test_engines(void)
{
    engines_run(gen_insn, 0xE2617E5, g_test_slow() ? 40000 : 4000, true);
}

static void test_engines_late(void)
{
    engines_run(gen_late, 0x1A7E5, g_test_slow() ? 20000 : 2000, false);
}

/* ---- chaining (x86-jit.c): translated blocks that go on to the next one
 * without returning to the run loop ---------------------------------------- */

/* Two CPUs on copies of one RAM image, protected mode, interrupts on:
 * a on the interpreter, b on the translator translating at once. */
typedef struct Pair {
    X86Cpu a, b;
    uint8_t *ram_a, *ram_b;
} Pair;

static bool pair_init(Pair *p, const uint8_t *code, size_t len)
{
    X86Bus bus = { NULL, bpage, bread, bwrite, ioread, iowrite, intack, NULL };
    p->ram_a = g_malloc0(RAM_SIZE);
    p->ram_b = g_malloc0(RAM_SIZE);
    bus.opaque = p->ram_a;
    x86_init(&p->a, X86_MODEL_PPRO, &bus);
    bus.opaque = p->ram_b;
    x86_init(&p->b, X86_MODEL_PPRO, &bus);
    if (!X86_HAVE_JIT || !x86_jit_init(&p->b))
        return false;
    setup_tables_in(p->ram_a);
    memcpy(p->ram_a + CODE, code, len);
    memcpy(p->ram_b, p->ram_a, RAM_SIZE);
    use_engine(&p->a, X86_ENGINE_INTERP);
    use_engine(&p->b, X86_ENGINE_JIT);
    p->b.jit_count = 1;
    enter_mode_cpu(&p->a, true);
    enter_mode_cpu(&p->b, true);
    p->a.eflags |= F_IF;
    p->b.eflags |= F_IF;
    return true;
}

static void pair_fini(Pair *p)
{
    x86_fini(&p->a);
    x86_fini(&p->b);
    g_free(p->ram_a);
    g_free(p->ram_b);
}

/* GDT entry n >= 3 (selector n * 8) = descriptor d, on both CPUs */
static void pair_gdt(Pair *p, unsigned n, uint64_t d)
{
    memcpy(p->ram_a + GDT + n * 8, &d, 8);
    memcpy(p->ram_b + GDT + n * 8, &d, 8);
    if (p->a.gdt_limit < n * 8 + 7)
        p->a.gdt_limit = p->b.gdt_limit = n * 8 + 7;
}

/* pair_init, or the test skips (no translator on this host) */
static bool pair_begin(Pair *p, const uint8_t *code, size_t len)
{
    if (pair_init(p, code, len))
        return true;
    g_test_skip("no translator on this host");
    pair_fini(p);
    return false;
}

/* Both CPUs to the same limit: the same exit, state and RAM. */
static int pair_run(Pair *p, uint64_t lim)
{
    int ra = x86_run(&p->a, &lim, NULL);
    int rb = x86_run(&p->b, &lim, NULL);
    g_assert_cmpint(ra, ==, rb);
    g_assert_cmpuint(p->a.icount, ==, p->b.icount);
    g_assert_cmphex(p->a.eip, ==, p->b.eip);
    g_assert_cmphex(x86_get_eflags(&p->a), ==, x86_get_eflags(&p->b));
    for (int r = 0; r < 8; r++)
        g_assert_cmphex(p->a.r[r], ==, p->b.r[r]);
    g_assert_true(memcmp(p->ram_a, p->ram_b, RAM_SIZE) == 0);
    return rb;
}

/* A block that jumps to itself (DEC ECX / JNZ) runs in place; cut by the
 * limit, it stops at the very instruction the interpreter does. */
static void test_chain_self_loop(void)
{
    static Pair p;
    static const uint8_t code[] = {
        0xB9, 0x00, 0x10, 0x00, 0x00,       /* mov ecx, 0x1000 */
        0x01, 0xC8,                         /* .l: add eax, ecx */
        0x49,                               /* dec ecx */
        0x75, 0xFB,                         /* jnz .l */
        0xF4,                               /* hlt */
    };
    if (!pair_begin(&p, code, sizeof(code)))
        return;
    g_assert_cmpint(pair_run(&p, 1001), ==, X86_EXIT_LIMIT);
    g_assert_cmpuint(p.b.icount, ==, 1001);
    g_assert_cmpint(pair_run(&p, 100000), ==, X86_EXIT_HALTED);
    g_assert_cmphex(p.b.r[R_EAX], ==, 0x1000u * 0x1001u / 2);
    g_assert_cmpuint(x86_jit_stats(&p.b)->self_loops, >=, 1);
    pair_fini(&p);
}

/* Two blocks that chain to each other, a code write into the one chained
 * to (as a device's DMA would make, between runs) and one made by the
 * guest (a store into the other block's immediate): the new code runs. */
static void test_chain_smc(void)
{
    static Pair p;
    static const uint8_t code[] = {
        0xB9, 0x00, 0x02, 0x00, 0x00,       /* mov ecx, 0x200 */
        0x40,                               /* A: inc eax */
        0xEB, 0x00,                         /* jmp B */
        0x83, 0xC3, 0x01,                   /* B: add ebx, 1 */
        0x49,                               /* dec ecx */
        0x75, 0xF7,                         /* jnz A */
        0x88, 0x15, 0x0A, 0x00, 0x01, 0x00, /* mov [B + 2], dl */
        0x42,                               /* inc edx */
        0x81, 0xFA, 0x00, 0x01, 0x00, 0x00, /* cmp edx, 0x100 */
        0x75, 0xE3,                         /* jne (mov ecx) */
        0xF4,                               /* hlt */
    };
    if (!pair_begin(&p, code, sizeof(code)))
        return;
    p.a.r[R_EDX] = p.b.r[R_EDX] = 2;
    /* into the first loop (1 + 60 rounds of 5), A and B chained */
    g_assert_cmpint(pair_run(&p, 301), ==, X86_EXIT_LIMIT);
    g_assert_cmphex(p.b.r[R_EBX], ==, 60);
    uint64_t chained = x86_jit_stats(&p.b)->chained;
    g_assert_cmpuint(chained, >, 50);
    /* B's immediate becomes 7 behind the CPU's back */
    p.ram_a[CODE + 10] = p.ram_b[CODE + 10] = 7;
    x86_code_invalidate(&p.a, CODE + 10, 1);
    x86_code_invalidate(&p.b, CODE + 10, 1);
    g_assert_cmpint(pair_run(&p, 2000000), ==, X86_EXIT_HALTED);
    /* 60 rounds of 1, the rest of the first loop 7, then each loop adds
     * the DL the guest stored into B (sign-extended): 2 ... 254 (255 is
     * stored as the last loop ends) */
    uint32_t want = 60 + (0x200 - 60) * 7;
    for (int dl = 2; dl < 0xFF; dl++)
        want += 0x200 * (uint32_t)(int8_t)dl;
    g_assert_cmphex(p.b.r[R_EBX], ==, want);
    g_assert_cmpuint(x86_jit_stats(&p.b)->chained, >, chained + 100000);
    pair_fini(&p);
}

/* A tight loop of two blocks chained to each other: it stops exactly at
 * the limit (a timer's deadline), and an interrupt raised there is taken
 * at that instruction, as on the interpreter. */
static void test_chain_irq(void)
{
    static Pair p;
    static const uint8_t code[] = {
        0x40,                               /* A: inc eax */
        0xEB, 0x00,                         /* jmp B */
        0x43,                               /* B: inc ebx */
        0xEB, 0xFA,                         /* jmp A */
    };
    if (!pair_begin(&p, code, sizeof(code)))
        return;
    for (uint64_t lim = 1000; lim < 1040; lim += 7) {
        g_assert_cmpint(pair_run(&p, lim), ==, X86_EXIT_LIMIT);
        g_assert_cmpuint(p.b.icount, ==, lim);
    }
    uint64_t chained = x86_jit_stats(&p.b)->chained;
    g_assert_cmpuint(chained, >, 200);
    uint64_t at = p.b.icount;
    static const uint32_t phase_eip[4] = { 0, 1, 3, 4 };
    uint32_t eip = CODE + phase_eip[at % 4];
    g_assert_cmphex(p.b.eip, ==, eip);
    g_assert_cmphex(p.b.r[R_EAX], ==, (at + 3) / 4);
    g_assert_cmphex(p.b.r[R_EBX], ==, (at + 1) / 4);
    /* the interrupt line rises at the deadline */
    p.a.intr = p.b.intr = true;
    x86_break(&p.a);
    x86_break(&p.b);
    g_assert_cmpint(pair_run(&p, at + 1000), ==, X86_EXIT_HALTED);
    /* taken before anything else ran: the loop's registers as they were,
     * and the return address is where the loop stopped */
    g_assert_cmphex(p.b.r[R_EAX], ==, (at + 3) / 4);
    g_assert_cmphex(p.b.r[R_EBX], ==, (at + 1) / 4);
    g_assert_cmphex(p.b.eip, ==, HLT_AT + 1);
    uint32_t ret;
    memcpy(&ret, p.ram_b + p.b.r[R_ESP], 4);
    g_assert_cmphex(ret, ==, eip);
    pair_fini(&p);
}

/* A device that raises the interrupt line during an instruction that
 * ends its block (a REP STOSB into MMIO): the interrupt is taken right
 * after it, as the interpreter takes it, not once the chained blocks
 * after it have run (the device access sets brk; the chaining code reads
 * it through chain_lim, which x86_break clears). */
static void test_chain_break(void)
{
    static Pair p;
    static const uint8_t code[] = {
        0x40,                               /* A: inc eax */
        0xBF, 0x00, 0x00, 0xF0, 0x00,       /* mov edi, 0xF00000 (past RAM) */
        0xB9, 0x01, 0x00, 0x00, 0x00,       /* mov ecx, 1 */
        0xF3, 0xAA,                         /* rep stosb: the line rises */
        0x43,                               /* inc ebx */
        0xEB, 0xF1,                         /* jmp A */
    };
    if (!pair_begin(&p, code, sizeof(code)))
        return;
    /* the loop hot (translated, chained) with the line left alone */
    g_assert_cmpint(pair_run(&p, 400), ==, X86_EXIT_LIMIT);
    g_assert_cmpuint(x86_jit_stats(&p.b)->chained, >, 50);
    uint32_t eax = p.b.r[R_EAX], ebx = p.b.r[R_EBX];
    mmio_irq_cpu[0] = &p.a;
    mmio_irq_ram[0] = p.ram_a;
    mmio_irq_cpu[1] = &p.b;
    mmio_irq_ram[1] = p.ram_b;
    g_assert_cmpint(pair_run(&p, p.b.icount + 1000), ==, X86_EXIT_HALTED);
    mmio_irq_cpu[0] = mmio_irq_cpu[1] = NULL;
    /* (pair_run compared the two CPUs) at most one more round, and the
     * interrupt came before INC EBX */
    g_assert_cmpuint(p.b.r[R_EAX] - eax, <=, 1);
    g_assert_cmpuint(p.b.r[R_EBX] - ebx, <=, 1);
    uint32_t ret;
    memcpy(&ret, p.ram_b + p.b.r[R_ESP], 4);
    g_assert_cmphex(ret, ==, CODE + 13);
    pair_fini(&p);
}

/* cpubench's loop (tests/bench/cpu/bench.asm): a block that runs again in
 * place with its registers in host registers, its read-modify-write to
 * a table on the flat data segment, and the flags of its ROL and DEC left
 * to where it ends. Cut by the limit anywhere in the loop, it stops at
 * the interpreter's instruction with the interpreter's registers, flags
 * and RAM; an interrupt raised at such a deadline is taken there, with
 * the interpreter's EFLAGS image pushed. */
static void test_self_loop_irq(void)
{
    static Pair p;
    static const uint8_t code[] = {
        0xB9, 0x00, 0x30, 0x00, 0x00,               /* mov ecx, 0x3000 */
        0xBE, 0x39, 0x30, 0x00, 0x00,               /* mov esi, 12345 */
        0x31, 0xFF,                                 /* xor edi, edi */
        0x69, 0xF6, 0x6D, 0x4E, 0xC6, 0x41,         /* .l: imul esi, esi, 1103515245 */
        0x81, 0xC6, 0x39, 0x30, 0x00, 0x00,         /* add esi, 12345 */
        0x89, 0xF0,                                 /* mov eax, esi */
        0xC1, 0xE8, 0x10,                           /* shr eax, 16 */
        0x31, 0xC7,                                 /* xor edi, eax */
        0x89, 0xC3,                                 /* mov ebx, eax */
        0x81, 0xE3, 0xFF, 0x03, 0x00, 0x00,         /* and ebx, 0x3FF */
        0x01, 0x3C, 0x9D, 0x00, 0x00, 0x20, 0x00,   /* add [0x200000 + ebx*4], edi */
        0xC1, 0xC7, 0x05,                           /* rol edi, 5 */
        0x49,                                       /* dec ecx */
        0x75, 0xD8,                                 /* jnz .l */
        0xF4,                                       /* hlt */
    };
    if (!pair_begin(&p, code, sizeof(code)))
        return;
    /* every phase of the 11-instruction loop, a few rounds apart */
    uint64_t lim = 3;
    for (unsigned m = 0; m < 22; m++) {
        lim += 11 * 37 + 1;
        g_assert_cmpint(pair_run(&p, lim), ==, X86_EXIT_LIMIT);
        g_assert_cmpuint(p.b.icount, ==, lim);
    }
    g_assert_cmpuint(x86_jit_stats(&p.b)->self_loops, >=, 1);
    uint64_t at = p.b.icount;
    uint32_t eip = p.b.eip;
    p.a.intr = p.b.intr = true;
    x86_break(&p.a);
    x86_break(&p.b);
    g_assert_cmpint(pair_run(&p, at + 1000), ==, X86_EXIT_HALTED);
    uint32_t ret;
    memcpy(&ret, p.ram_b + p.b.r[R_ESP], 4);
    g_assert_cmphex(ret, ==, eip);
    /* back from the handler (IRET), on to the end of the loop */
    p.a.intr = p.b.intr = false;
    p.a.halted = p.b.halted = false;
    p.a.eip = p.b.eip = HLT_AT + 3;
    p.ram_a[HLT_AT + 3] = p.ram_b[HLT_AT + 3] = 0xCF;   /* iret */
    x86_code_invalidate(&p.a, HLT_AT + 3, 1);
    x86_code_invalidate(&p.b, HLT_AT + 3, 1);
    g_assert_cmpint(pair_run(&p, at + 2000000), ==, X86_EXIT_HALTED);
    g_assert_cmphex(p.b.r[R_ECX], ==, 0);
    pair_fini(&p);
}

/* A block translated while DS is flat, its accesses made without the
 * segment checks, finds DS changed when it runs again (a base the guest
 * loaded between runs): it does not run as translated, the interpreter
 * runs it, and it is translated anew with the checks. */
static void test_flat_bail(void)
{
    static Pair p;
    static const uint8_t code[] = {
        0xB9, 0x00, 0x01, 0x00, 0x00,               /* mov ecx, 0x100 */
        0x01, 0x05, 0x00, 0x30, 0x00, 0x00,         /* .l: add [0x3000], eax */
        0x40,                                       /* inc eax */
        0x49,                                       /* dec ecx */
        0x75, 0xF6,                                 /* jnz .l */
        0xF4,                                       /* hlt */
    };
    if (!pair_begin(&p, code, sizeof(code)))
        return;
    g_assert_cmpint(pair_run(&p, 1 + 4 * 50), ==, X86_EXIT_LIMIT);
    uint64_t blocks = x86_jit_stats(&p.b)->blocks;
    g_assert_cmpuint(x86_jit_stats(&p.b)->flat_bails, ==, 0);
    p.a.seg[S_DS].base = p.b.seg[S_DS].base = 0x1000;
    g_assert_cmpint(pair_run(&p, 100000), ==, X86_EXIT_HALTED);
    g_assert_cmpuint(x86_jit_stats(&p.b)->flat_bails, ==, 1);
    g_assert_cmpuint(x86_jit_stats(&p.b)->blocks, >, blocks);
    uint32_t v;
    memcpy(&v, p.ram_b + 0x4000, 4);
    g_assert_cmphex(v, ==, (50u + 0xFFu) * (0x100u - 50) / 2);   /* EAX 50 ... 255 */
    pair_fini(&p);
}

/* Chained blocks that take DS as flat, then a MOV DS that loads a base
 * (0x1000) in the middle of a block: that block ends after the load (the
 * flat set is part of the jump cache tag), its next access and every
 * later run of the loop go through the new base, and the loop's
 * translation made for a flat DS is made anew rather than entered, from
 * the run loop or from a chain. */
static void test_flat_reload(void)
{
    static Pair p;
    static const uint8_t code[] = {
        0xB9, 0x00, 0x01, 0x00, 0x00,               /* mov ecx, 0x100 */
        0xBA, 0x18, 0x00, 0x00, 0x00,               /* mov edx, 0x18 */
        0x01, 0x05, 0x00, 0x30, 0x00, 0x00,         /* .a: add [0x3000], eax */
        0x40,                                       /* inc eax */
        0x81, 0xF9, 0x80, 0x00, 0x00, 0x00,         /* cmp ecx, 0x80 */
        0x75, 0x08,                                 /* jne .c */
        0x8E, 0xDA,                                 /* mov ds, dx */
        0x01, 0x05, 0x00, 0x30, 0x00, 0x00,         /* add [0x3000], eax */
        0x49,                                       /* .c: dec ecx */
        0x75, 0xE6,                                 /* jnz .a */
        0xF4,                                       /* hlt */
    };
    if (!pair_begin(&p, code, sizeof(code)))
        return;
    /* GDT entry 3: data, base 0x1000, limit 4 GiB */
    pair_gdt(&p, 3, 0x00CF93001000FFFFull);
    g_assert_cmpint(pair_run(&p, 2 + 6 * 40), ==, X86_EXIT_LIMIT);
    g_assert_cmpuint(x86_jit_stats(&p.b)->chained, >, 30);
    g_assert_cmpuint(x86_jit_stats(&p.b)->flat_bails, ==, 0);
    g_assert_cmpint(pair_run(&p, 100000), ==, X86_EXIT_HALTED);
    g_assert_cmphex(p.b.seg[S_DS].base, ==, 0x1000);
    g_assert_cmpuint(x86_jit_stats(&p.b)->flat_bails, ==, 1);
    /* EAX 0 ... 0x80 at 0x3000, then 0x81 twice and 0x82 ... 0xFF at
     * 0x4000 */
    uint32_t v;
    memcpy(&v, p.ram_b + 0x3000, 4);
    g_assert_cmphex(v, ==, 0x80u * 0x81u / 2);
    memcpy(&v, p.ram_b + 0x4000, 4);
    g_assert_cmphex(v, ==, 0x81u + (0x81u + 0xFFu) * 0x7Fu / 2);
    pair_fini(&p);
}

/* FS with a base and a 4 GiB limit (Linux's per-CPU segment) is "wide":
 * translations add its base and check only that it is still wide. A new
 * base of the same kind (MOV FS mid-loop) keeps the translations, which
 * must follow it; with a limit that is not 4 GiB the same translations
 * take their fallback, and the access past the limit #GP, as on the
 * interpreter. (The loop's access to the offset through DS keeps that
 * page in the TLB: an access through FS that missed the base would not
 * go to the handler.) */
static void test_wide_seg(void)
{
    static Pair p;
    static const uint8_t code[] = {
        0xBA, 0x18, 0x00, 0x00, 0x00,               /* mov edx, 0x18 */
        0x8E, 0xE2,                                 /* mov fs, dx */
        0xB9, 0x00, 0x01, 0x00, 0x00,               /* mov ecx, 0x100 */
        0x64, 0x01, 0x05, 0x00, 0x30, 0x00, 0x00,   /* .l: add fs:[0x3000], eax */
        0x40,                                       /* inc eax */
        0x01, 0x0D, 0x00, 0x30, 0x00, 0x00,         /* add [0x3000], ecx */
        0x81, 0xF9, 0x80, 0x00, 0x00, 0x00,         /* cmp ecx, 0x80 */
        0x75, 0x07,                                 /* jne .c */
        0xBA, 0x20, 0x00, 0x00, 0x00,               /* mov edx, 0x20 */
        0x8E, 0xE2,                                 /* mov fs, dx */
        0x81, 0xF9, 0x40, 0x00, 0x00, 0x00,         /* .c: cmp ecx, 0x40 */
        0x75, 0x07,                                 /* jne .d */
        0xBA, 0x28, 0x00, 0x00, 0x00,               /* mov edx, 0x28 */
        0x8E, 0xE2,                                 /* mov fs, dx */
        0x49,                                       /* .d: dec ecx */
        0x75, 0xD1,                                 /* jnz .l */
        0xF4,                                       /* hlt */
    };
    if (!pair_begin(&p, code, sizeof(code)))
        return;
    pair_gdt(&p, 3, 0x00CF93001000FFFFull);         /* base 0x1000, 4 GiB */
    pair_gdt(&p, 4, 0x00CF93002000FFFFull);         /* base 0x2000, 4 GiB */
    pair_gdt(&p, 5, 0x0040930010002FFFull);         /* base 0x1000, 0x3000 bytes */
    g_assert_cmpint(pair_run(&p, 3 + 7 * 40), ==, X86_EXIT_LIMIT);
    g_assert_cmpuint(x86_jit_stats(&p.b)->chained, >, 30);
    g_assert_cmpint(pair_run(&p, 100000), ==, X86_EXIT_HALTED);
    g_assert_cmpuint(x86_jit_stats(&p.b)->flat_bails, ==, 0);
    g_assert_cmphex(p.b.r[R_ECX], ==, 0x3F);        /* the #GP: the add did not run */
    g_assert_cmphex(p.b.eip, ==, HLT_AT + 1);
    uint32_t v;
    memcpy(&v, p.ram_b + 0x4000, 4);
    g_assert_cmphex(v, ==, 0x80u * 0x81u / 2);      /* EAX 0 ... 0x80 */
    memcpy(&v, p.ram_b + 0x5000, 4);
    g_assert_cmphex(v, ==, (0x81u + 0xC0u) * 0x40u / 2);    /* 0x81 ... 0xC0 */
    memcpy(&v, p.ram_b + 0x3000, 4);
    g_assert_cmphex(v, ==, (0x100u + 0x40u) * 0xC1u / 2);   /* ECX 0x100 ... 0x40 */
    pair_fini(&p);
}

/* Flags handed to a Jcc in the host's flags (x86-jit-ops.c j_alu_hflags):
 * every condition after CMP, SUB, ADD, AND, XOR and TEST of each size,
 * with register, immediate and memory operands (half of the memory
 * accesses cross a page: their fallback, the handler, must hand the
 * flags over too), on operands at the edges of carry, sign, overflow
 * and parity. Each test shifts EDI left and increments it unless the
 * branch is taken; the words land at 0x200000 (pair_run compares them,
 * and everything else, with the interpreter's). */
static void test_flags_to_jcc(void)
{
    static Pair p;
    static const uint32_t vals[][2] = {
        { 0, 0 }, { 1, 2 }, { 0x80000000u, 1 }, { 0x7FFFFFFFu, 0xFFFFFFFFu },
        { 0x8000, 0x8000 }, { 0x80, 0x7F }, { 0xFFFF, 1 }, { 0x12345678u, 0x12345678u },
    };
    /* the operation's bytes for 32 bits (8 bits: opcode - 1, 16: 0x66
     * before); M = the memory operand's address follows, I = an imm8 */
    static const struct { uint8_t op[2]; uint8_t n; bool mem, imm8, w; } ops[] = {
        { { 0x39, 0xC8 }, 2, false, false, true },      /* cmp eax, ecx */
        { { 0x29, 0xC8 }, 2, false, false, true },      /* sub eax, ecx */
        { { 0x01, 0xC8 }, 2, false, false, true },      /* add eax, ecx */
        { { 0x21, 0xC8 }, 2, false, false, true },      /* and eax, ecx */
        { { 0x31, 0xC8 }, 2, false, false, true },      /* xor eax, ecx */
        { { 0x85, 0xC8 }, 2, false, false, true },      /* test eax, ecx */
        { { 0x83, 0xF8 }, 2, false, true, false },      /* cmp eax, imm8 */
        { { 0x3B, 0x05 }, 2, true, false, true },       /* cmp eax, [M] */
        { { 0x83, 0x3D }, 2, true, true, false },       /* cmp dword [M], imm8 */
        { { 0x85, 0x05 }, 2, true, false, true },       /* test [M], eax */
        { { 0x21, 0x05 }, 2, true, false, true },       /* and [M], eax */
        { { 0x2B, 0x05 }, 2, true, false, true },       /* sub eax, [M] */
    };
    GByteArray *c = g_byte_array_new();
#define B(...) do { const uint8_t b_[] = { __VA_ARGS__ }; g_byte_array_append(c, b_, sizeof(b_)); } while (0)
#define D(v) B((v) & 0xFF, ((v) >> 8) & 0xFF, ((v) >> 16) & 0xFF, (uint32_t)(v) >> 24)
    B(0xBB); D(0x200000u);                              /* mov ebx, 0x200000 */
    unsigned n = 0;
    for (unsigned v = 0; v < G_N_ELEMENTS(vals); v++)
        for (unsigned o = 0; o < G_N_ELEMENTS(ops); o++)
            for (unsigned size = 1; size <= 4; size *= 2)
                for (unsigned cc = 0; cc < 16; cc++, n++) {
                    uint32_t m = (n & 1) ? 0x3FFFu - (size > 1 ? size - 2 : 0) : 0x3000u;
                    B(0xB8); D(vals[v][0]);             /* mov eax, a */
                    B(0xB9); D(vals[v][1]);             /* mov ecx, b */
                    B(0x89, 0x0D); D(m);                /* mov [m], ecx */
                    B(0xD1, 0xE7);                      /* shl edi, 1 */
                    if (size == 2)
                        B(0x66);
                    uint8_t op = ops[o].op[0];
                    if (size == 1)
                        op = ops[o].w ? op - 1 : 0x80;
                    B(op, ops[o].op[1]);
                    if (ops[o].mem)
                        D(m);
                    if (ops[o].imm8)
                        B((uint8_t)vals[v][1]);
                    B(0x70 + cc, 0x01);                 /* jcc +1 */
                    B(0x47);                            /* inc edi */
                    if ((n & 31) == 31)
                        B(0x89, 0x3B, 0x83, 0xC3, 0x04);    /* mov [ebx], edi; add ebx, 4 */
                }
    B(0x89, 0x3B, 0xF4);                                /* mov [ebx], edi; hlt */
#undef B
#undef D
    if (!pair_begin(&p, c->data, c->len)) {
        g_byte_array_free(c, TRUE);
        return;
    }
    g_byte_array_free(c, TRUE);
    g_assert_cmpint(pair_run(&p, 1000000), ==, X86_EXIT_HALTED);
    g_assert_cmpuint(p.b.r[R_EBX], ==, 0x200000u + 4 * (n / 32));
    pair_fini(&p);
}

/* LOCK CMPXCHG and LOCK XADD of 32 bits in memory (translated inline):
 * the compare succeeding and failing by turns, the flags of each pushed
 * into memory, against the interpreter. */
static void test_cmpxchg_xadd(void)
{
    static Pair p;
    static const uint8_t code[] = {
        0xBB, 0x00, 0x30, 0x00, 0x00,               /* mov ebx, 0x3000 */
        0xB9, 0x00, 0x01, 0x00, 0x00,               /* mov ecx, 0x100 */
        0x8B, 0x03,                                 /* .l: mov eax, [ebx] */
        0x8D, 0x14, 0x08,                           /* lea edx, [eax + ecx] */
        0xF6, 0xC1, 0x03,                           /* test cl, 3 */
        0x75, 0x01,                                 /* jnz .s */
        0x40,                                       /* inc eax (the compare fails) */
        0xF0, 0x0F, 0xB1, 0x13,                     /* .s: lock cmpxchg [ebx], edx */
        0x9C,                                       /* pushf */
        0x5E,                                       /* pop esi */
        0x01, 0x73, 0x08,                           /* add [ebx + 8], esi */
        0x01, 0x43, 0x10,                           /* add [ebx + 16], eax */
        0x89, 0xCF,                                 /* mov edi, ecx */
        0xF0, 0x0F, 0xC1, 0x7B, 0x04,               /* lock xadd [ebx + 4], edi */
        0x9C,                                       /* pushf */
        0x5E,                                       /* pop esi */
        0x01, 0x73, 0x14,                           /* add [ebx + 20], esi */
        0x01, 0x7B, 0x0C,                           /* add [ebx + 12], edi */
        0x49,                                       /* dec ecx */
        0x75, 0xD7,                                 /* jnz .l */
        0xF4,                                       /* hlt */
    };
    if (!pair_begin(&p, code, sizeof(code)))
        return;
    uint32_t start = 0x7FFFFF00u;                   /* (the sums cross the sign) */
    memcpy(p.ram_a + 0x3000, &start, 4);
    memcpy(p.ram_b + 0x3000, &start, 4);
    g_assert_cmpint(pair_run(&p, 100000), ==, X86_EXIT_HALTED);
    /* [0x3000] grew by ECX where CL & 3 != 0: 0x100 ... 1 less the
     * multiples of 4 */
    uint32_t v;
    memcpy(&v, p.ram_b + 0x3000, 4);
    g_assert_cmphex(v, ==, start + 0x100u * 0x101u / 2 - 4u * 0x40u * 0x41u / 2);
    memcpy(&v, p.ram_b + 0x3004, 4);
    g_assert_cmphex(v, ==, 0x100u * 0x101u / 2);    /* XADD's sum */
    pair_fini(&p);
}

/* A REP MOVSD into the page that holds the running code counts as one
 * instruction, as one into any other page does: how often a REP stops
 * must not follow the CPU's caches (which pages hold translated code),
 * or a run resumed from a snapshot, which starts with none translated,
 * counts differently from a straight run (deterministic time diverged). */
static uint64_t rep_movsd_into(uint32_t dst)
{
    static Pair p;
    const uint8_t code[] = {
        0xBF, dst & 0xFF, (dst >> 8) & 0xFF, (dst >> 16) & 0xFF, dst >> 24, /* mov edi, dst */
        0xBE, 0x00, 0x40, 0x00, 0x00,       /* mov esi, 0x4000 */
        0xB9, 0x08, 0x00, 0x00, 0x00,       /* mov ecx, 8 */
        0xF3, 0xA5,                         /* rep movsd */
        0xF4,                               /* hlt */
    };
    if (!pair_init(&p, code, sizeof(code))) {
        pair_fini(&p);
        return 0;
    }
    for (unsigned k = 0; k < 32; k++)
        p.ram_a[0x4000 + k] = p.ram_b[0x4000 + k] = (uint8_t)(0xA0 + k);
    g_assert_cmpint(pair_run(&p, 1000), ==, X86_EXIT_HALTED);
    g_assert_cmphex(p.a.r[R_ECX], ==, 0);
    g_assert_true(memcmp(p.ram_a + dst, p.ram_a + 0x4000, 32) == 0);
    uint64_t n = p.a.icount;
    pair_fini(&p);
    return n;
}

static void test_rep_count_code_page(void)
{
    uint64_t elsewhere = rep_movsd_into(0x20000);
    if (!elsewhere) {
        g_test_skip("no translator on this host");
        return;
    }
    g_assert_cmpuint(rep_movsd_into(CODE + 0x100), ==, elsewhere);
}

/* An instruction that runs on from one page into the next (MOV EAX,
 * imm32 with its immediate's upper bytes in the second page) is a block
 * of its own, cached: run in a loop, then its second page written by the
 * guest between loops - every loop must see the bytes stored. The sum is
 * computed here, not by the other engine (both share the block cache). */
static void test_cross_page(void)
{
    static Pair p;
    static uint8_t code[0x1019];
    static const uint8_t head[] = {
        0xB9, 0x00, 0x01, 0x00, 0x00,       /* 0x10000: mov ecx, 0x100 */
        0xE9, 0xF4, 0x0F, 0x00, 0x00,       /* jmp X (0x10FFE) */
    };
    static const uint8_t tail[] = {
        0xB8, 0x01, 0x00, 0x00, 0x00,       /* X: mov eax, 1 (bytes 2-4 in the next page) */
        0x01, 0xC3,                         /* add ebx, eax */
        0x49,                               /* dec ecx */
        0x75, 0xF6,                         /* jnz X */
        0x88, 0x15, 0x00, 0x10, 0x01, 0x00, /* mov [0x11000], dl: the immediate's byte 1 */
        0x42,                               /* inc edx */
        0x83, 0xFA, 0x20,                   /* cmp edx, 0x20 */
        0x0F, 0x85, 0xE8, 0xEF, 0xFF, 0xFF, /* jne 0x10000 */
        0xF4,                               /* hlt */
    };
    memset(code, 0x90, sizeof(code));
    memcpy(code, head, sizeof(head));
    memcpy(code + 0xFFE, tail, sizeof(tail));
    if (!pair_begin(&p, code, sizeof(code)))
        return;
    p.a.r[R_EDX] = p.b.r[R_EDX] = 2;
    g_assert_cmpint(pair_run(&p, 100000), ==, X86_EXIT_HALTED);
    /* loop 0 adds 0x100 x 1; loop k >= 1 adds 0x100 x (1 + (k + 1) << 8) */
    uint32_t want = 30 * 0x100;
    for (uint32_t k = 1; k < 30; k++)
        want += (k + 1) << 16;
    g_assert_cmphex(p.a.r[R_EBX], ==, want);
    pair_fini(&p);
}

/* Linked blocks (x86-jit.c jit_link) when the page a link leads into is
 * mapped elsewhere: paging on, the linear page 0x400000 maps to one of
 * two physical pages, each "add ebx, imm32; jmp back" (1 or 0x100); a
 * loop jumps there 256 times, then the guest flips the page table entry
 * and flushes it (INVLPG, then MOV CR3 in turn). Each round must run
 * the page mapped now, as the interpreter does: a link that outlived
 * the mapping it was made under would run the other page. With
 * CR4.PGE and the loop's own pages global, a MOV CR3 keeps those pages'
 * blocks and links (the global jump cache tag) and must still drop the
 * remapped, non-global page's. With gpage the remapped page is global
 * too, and every round flushes it with INVLPG (a MOV CR3 would rightly
 * keep it): its 4 MiB holds global blocks, so the INVLPG must drop the
 * global tag's entries and links (x86_jc_invalidate_page), where one in
 * a region without them keeps them. */
static void link_remap(bool pge, bool gpage)
{
    static Pair p;
    static const uint8_t code0[] = {
        0xB8, 0x00, 0x00, 0x02, 0x00,       /* mov eax, 0x20000 (page directory) */
        0x0F, 0x22, 0xD8,                   /* mov cr3, eax */
        0x0F, 0x20, 0xC0,                   /* mov eax, cr0 */
        0x0D, 0x00, 0x00, 0x00, 0x80,       /* or eax, CR0.PG */
        0x0F, 0x22, 0xC0,                   /* mov cr0, eax */
        0xEB, 0x00,                         /* jmp $+2 */
        0x31, 0xD2,                         /* xor edx, edx */
        0x8B, 0x35, 0x00, 0x00, 0x40, 0x00, /* round: mov esi, [0x400000] (the TLB */
                                            /*   holds the page when the jump looks it up) */
        0xB9, 0x00, 0x01, 0x00, 0x00,       /* mov ecx, 0x100 */
        0xE9, 0xD9, 0xFF, 0x3E, 0x00,       /* A: jmp 0x400000 */
        0x49,                               /* back (+0x27): dec ecx */
        0x75, 0xF8,                         /* jnz A */
        0x81, 0x35, 0x00, 0x20, 0x02, 0x00, /* xor dword [0x22000], 0x1000 */
        0x00, 0x10, 0x00, 0x00,             /*   (the PTE: 0x30000 <-> 0x31000) */
        0xF6, 0xC2, 0x01,                   /* test dl, 1 */
        0x75, 0x09,                         /* jnz viacr3 */
        0x0F, 0x01, 0x3D, 0x00, 0x00, 0x40, /* invlpg [0x400000] */
        0x00,
        0xEB, 0x06,                         /* jmp next */
        0x0F, 0x20, 0xD8,                   /* viacr3: mov eax, cr3 */
        0x0F, 0x22, 0xD8,                   /* mov cr3, eax */
        0x42,                               /* next: inc edx */
        0x83, 0xFA, 0x04,                   /* cmp edx, 4 */
        0x75, 0xC9,                         /* jne round */
        0xF4,                               /* hlt */
    };
    uint8_t code[sizeof(code0)];
    memcpy(code, code0, sizeof(code));
    if (gpage) {
        g_assert_cmphex(code[55], ==, 0x75);
        code[55] = 0x90;                    /* test dl, 1; nop; nop: INVLPG each round */
        code[56] = 0x90;
    }
    if (!pair_begin(&p, code, sizeof(code)))
        return;
    uint8_t *rams[2] = { p.ram_a, p.ram_b };
    for (int n = 0; n < 2; n++) {
        uint8_t *r = rams[n];
        uint32_t v;
        v = 0x21003;
        memcpy(r + 0x20000, &v, 4);                 /* PDE 0: identity (PT at 0x21000) */
        v = 0x22003;
        memcpy(r + 0x20004, &v, 4);                 /* PDE 1: PT at 0x22000 */
        for (uint32_t k = 0; k < 1024; k++) {
            v = (k << 12) | 3 | (pge ? 0x100 : 0);  /* G */
            memcpy(r + 0x21000 + 4 * k, &v, 4);
        }
        v = 0x30003 | (gpage ? 0x100 : 0);
        memcpy(r + 0x22000, &v, 4);                 /* 0x400000 -> 0x30000 */
        for (uint32_t pg = 0; pg < 2; pg++) {
            uint8_t *t = r + 0x30000 + 0x1000 * pg;
            uint32_t add = pg ? 0x100 : 1;
            uint32_t rel = CODE + 0x27 - (0x400000 + 11);
            t[0] = 0x81;                            /* add ebx, imm32 */
            t[1] = 0xC3;
            memcpy(t + 2, &add, 4);
            t[6] = 0xE9;                            /* jmp back */
            memcpy(t + 7, &rel, 4);
        }
    }
    if (pge) {
        p.a.cr4 |= CR4_PGE;
        p.b.cr4 |= CR4_PGE;
    }
    g_assert_cmpint(pair_run(&p, 100000), ==, X86_EXIT_HALTED);
    g_assert_cmphex(p.b.r[R_EBX], ==, 2 * 0x100 + 2 * 0x100 * 0x100);
    g_assert_cmpuint(x86_jit_stats(&p.b)->chained, >, 2 * 1024);
    if (gpage) {
        /* an INVLPG where the jump cache has no global entry (8 MiB: no
         * code) moves only the non-global epoch; one in the loop's 4 MiB
         * (global blocks ran there since the last INVLPG) both */
        uint32_t gepoch = p.b.jc_gepoch, epoch = p.b.jc_epoch;
        x86_tlb_flush_page(&p.b, 0x800000);
        g_assert_cmpuint(p.b.jc_gepoch, ==, gepoch);
        g_assert_cmpuint(p.b.jc_epoch, !=, epoch);
        x86_tlb_flush_page(&p.b, CODE);
        g_assert_cmpuint(p.b.jc_gepoch, !=, gepoch);
    }
    pair_fini(&p);
}

static void test_link_remap(void)
{
    link_remap(false, false);
}

static void test_link_remap_global(void)
{
    link_remap(true, false);
}

static void test_link_remap_gpage(void)
{
    link_remap(true, true);
}

/* The interrupt shadow after STI (x86_shadow): an interrupt raised while
 * the CPU stands right after an STI (a run cut by the limit there) waits
 * for one more instruction; one raised later, the shadow long past, is
 * taken at once; and an STI with nothing waiting leaves the block going
 * (no extra exit: nothing to observe but the counts, which pair_run
 * compares with the interpreter's). */
static void test_sti_shadow(void)
{
    static Pair p;
    static const uint8_t code[] = {
        0xFA,                               /* cli */
        0x31, 0xC0,                         /* xor eax, eax */
        0xFB,                               /* sti (3rd) */
        0x40,                               /* inc eax: in the shadow */
        0x40,                               /* inc eax */
        0xFA,                               /* cli */
        0xFB,                               /* sti (7th) */
        0x40, 0x40, 0x40,                   /* inc eax x3 */
        0xF4,                               /* hlt */
    };
    if (!pair_begin(&p, code, sizeof(code)))
        return;
    /* stop right after the first STI; the line rises there */
    g_assert_cmpint(pair_run(&p, 3), ==, X86_EXIT_LIMIT);
    p.a.intr = p.b.intr = true;
    x86_break(&p.a);
    x86_break(&p.b);
    g_assert_cmpint(pair_run(&p, 100), ==, X86_EXIT_HALTED);
    g_assert_cmphex(p.b.r[R_EAX], ==, 1);          /* the shadowed INC ran first */
    g_assert_cmphex(p.b.eip, ==, HLT_AT + 1);      /* then the handler (HLT) */
    pair_fini(&p);

    /* again, the line rising two instructions after the second STI:
     * taken before the third INC */
    if (!pair_init(&p, code, sizeof(code))) {
        pair_fini(&p);
        return;
    }
    g_assert_cmpint(pair_run(&p, 9), ==, X86_EXIT_LIMIT);
    g_assert_cmphex(p.b.r[R_EAX], ==, 4);
    p.a.intr = p.b.intr = true;
    x86_break(&p.a);
    x86_break(&p.b);
    g_assert_cmpint(pair_run(&p, 100), ==, X86_EXIT_HALTED);
    g_assert_cmphex(p.b.r[R_EAX], ==, 4);
    g_assert_cmphex(p.b.eip, ==, HLT_AT + 1);
    pair_fini(&p);
}

/* A flat SS vouches for a 32-bit stack (x86_seg_flat_tag): the
 * translator's pushes and pops skip the stack-size check where SS is
 * flat. MOV SS to a flat segment with B = 0 (a 16-bit stack with a 4 GiB
 * limit) mid-block must end that: the PUSH after it, in the same block,
 * and every later one use SP, not ESP (ESP's upper half stays, the
 * address is SS:SP). */
static void test_stack16_flat(void)
{
    static Pair p;
    static const uint8_t code[] = {
        0xB9, 0x00, 0x01, 0x00, 0x00,               /* mov ecx, 0x100 */
        0xBA, 0x18, 0x00, 0x00, 0x00,               /* mov edx, 0x18 */
        0x50,                                       /* .a: push eax */
        0x5B,                                       /* pop ebx */
        0x40,                                       /* inc eax */
        0x81, 0xF9, 0x80, 0x00, 0x00, 0x00,         /* cmp ecx, 0x80 */
        0x75, 0x04,                                 /* jne .c */
        0x8E, 0xD2,                                 /* mov ss, dx */
        0x50,                                       /* push eax */
        0x5B,                                       /* pop ebx */
        0x49,                                       /* .c: dec ecx */
        0x75, 0xEE,                                 /* jnz .a */
        0xF4,                                       /* hlt */
    };
    if (!pair_begin(&p, code, sizeof(code)))
        return;
    /* GDT entry 3: data, base 0, limit 4 GiB, B = 0 */
    pair_gdt(&p, 3, 0x008F93000000FFFFull);
    p.a.r[R_ESP] = p.b.r[R_ESP] = 0x48000;
    /* 0x7F turns of the loop on the 32-bit stack, translated and chained */
    g_assert_cmpint(pair_run(&p, 2 + 6 * 0x7F), ==, X86_EXIT_LIMIT);
    g_assert_cmpuint(x86_jit_stats(&p.b)->chained, >, 30);
    g_assert_cmpint(pair_run(&p, 100000), ==, X86_EXIT_HALTED);
    g_assert_cmphex(p.b.seg[S_SS].sel, ==, 0x18);
    g_assert_cmphex(p.b.r[R_ESP], ==, 0x48000);
    uint32_t v;
    memcpy(&v, p.ram_b + 0x47FFC, 4);       /* the last push on ESP */
    g_assert_cmphex(v, ==, 0x80);
    memcpy(&v, p.ram_b + 0x7FFC, 4);        /* the last on SP */
    g_assert_cmphex(v, ==, 0xFF);
    pair_fini(&p);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    const char *eng = getenv("X86_TEST_ENGINE");
    if (eng && strcmp(eng, "jit") == 0)
        test_engine = X86_ENGINE_JIT;
    else if (eng && strcmp(eng, "lockstep") == 0)
        test_engine = X86_ENGINE_LOCKSTEP;
    if (test_engine != X86_ENGINE_INTERP && !X86_HAVE_JIT)
        return 77;
    if (test_engine == X86_ENGINE_INTERP) { /* they set the engines themselves */
        g_test_add_func("/x86/fuzz/engines", test_engines);
        g_test_add_func("/x86/fuzz/engines-late", test_engines_late);
    }
    g_test_add_func("/x86/fuzz/decoder", test_fuzz);
    g_test_add_func("/x86/fuzz/slices", test_slices);
    g_test_add_func("/x86/fuzz/limit-at-fault", test_limit_at_fault);
    if (test_engine == X86_ENGINE_INTERP) {
        g_test_add_func("/x86/jit/self-loop", test_chain_self_loop);
        g_test_add_func("/x86/jit/chain-smc", test_chain_smc);
        g_test_add_func("/x86/jit/chain-irq", test_chain_irq);
        g_test_add_func("/x86/jit/chain-break", test_chain_break);
        g_test_add_func("/x86/jit/self-loop-irq", test_self_loop_irq);
        g_test_add_func("/x86/jit/flat-bail", test_flat_bail);
        g_test_add_func("/x86/jit/flat-reload", test_flat_reload);
        g_test_add_func("/x86/jit/wide-seg", test_wide_seg);
        g_test_add_func("/x86/jit/flags-to-jcc", test_flags_to_jcc);
        g_test_add_func("/x86/jit/cmpxchg-xadd", test_cmpxchg_xadd);
        g_test_add_func("/x86/jit/rep-count-code-page", test_rep_count_code_page);
        g_test_add_func("/x86/jit/cross-page", test_cross_page);
        g_test_add_func("/x86/jit/link-remap", test_link_remap);
        g_test_add_func("/x86/jit/link-remap-global", test_link_remap_global);
        g_test_add_func("/x86/jit/link-remap-gpage", test_link_remap_gpage);
        g_test_add_func("/x86/jit/sti-shadow", test_sti_shadow);
        g_test_add_func("/x86/jit/stack16-flat", test_stack16_flat);
    }
    return g_test_run();
}
