/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Decoder fuzz test: random byte sequences executed as code, in real mode
 * and in 32-bit protected mode, against a plain RAM buffer. Every case
 * must end - in an exception handler's HLT, a shutdown, or the
 * instruction bound - without a host crash (run under ASan/UBSan).
 */
#include "x86-cpu.h"

#define RAM_SIZE (4u << 20)
static uint8_t *ram;
static X86Cpu cpu;

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
static uint64_t clk(void *o) { return cpu.icount; }

#define CODE 0x10000u
#define HLT_AT 0x500u
#define GDT 0x800u
#define IDT 0x1000u
#define CASE_LIMIT 256

static void setup_tables(void)
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

static void enter_mode(bool pm)
{
    x86_reset(&cpu);
    x86_code_flush_all(&cpu);
    if (!pm) {
        x86_seg_set_real(&cpu, S_CS, CODE >> 4);
        cpu.eip = 0;
        x86_seg_set_real(&cpu, S_SS, 0x7000);
        cpu.r[R_ESP] = 0xFFFE;
        cpu.idt_base = 0;
        cpu.idt_limit = 0x3FF;
        return;
    }
    cpu.cr0 |= CR0_PE;
    cpu.gdt_base = GDT;
    cpu.gdt_limit = 23;
    cpu.idt_base = IDT;
    cpu.idt_limit = 0x7FF;
    uint32_t lo, hi;
    x86_read_desc(&cpu, 0x08, &lo, &hi);
    x86_desc_to_seg(&cpu.seg[S_CS], 0x08, lo, hi);
    x86_read_desc(&cpu, 0x10, &lo, &hi);
    for (int s = 0; s < 6; s++)
        if (s != S_CS)
            x86_desc_to_seg(&cpu.seg[s], 0x10, lo, hi);
    x86_update_mode(&cpu);
    cpu.eip = CODE;
    cpu.r[R_ESP] = 0x80000;
}

static void test_fuzz(void)
{
    X86Bus bus = { NULL, bpage, bread, bwrite, ioread, iowrite, intack, clk };
    ram = g_malloc0(RAM_SIZE);
    x86_init(&cpu, X86_MODEL_PENTIUM, &bus);
    GRand *rng = g_rand_new_with_seed(0x5EED1234);
    unsigned cases = g_test_slow() ? 2000000 : 200000;
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
        cpu.model = (X86Model)(n % 3);
        enter_mode(n & 1);
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

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/x86/fuzz/decoder", test_fuzz);
    return g_test_run();
}
