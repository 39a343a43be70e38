/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The TLB against a changing memory map: RAM pages and MMIO pages (I/O
 * entries) are cached, an access to a cached MMIO page goes straight to
 * the device (no page lookup), and x86_mem_changed drops exactly the
 * entries of the range it names, so no stale host pointer or device
 * handle survives a bank switch, a window turned off or a BAR move.
 */
#include "x86-cpu.h"

#define RAM_SIZE (1u << 20)
#define WIN 0x5000u                     /* the page whose mapping changes */

typedef struct Dev {
    uint32_t base;                      /* what it answers: base + offset */
    uint64_t last_off, last_val;
    unsigned writes;
} Dev;

static uint8_t *ram, *bank_a, *bank_b;
static Dev d1 = { 0x11000000 }, d2 = { 0x22000000 };
static enum { MAP_A, MAP_B, MAP_D1, MAP_D2 } win_map;
static unsigned page_calls, mmio_page_calls;

static void bpage(void *o, uint64_t pa, uint8_t **rd, uint8_t **wr)
{
    page_calls++;
    *rd = *wr = NULL;
    if ((pa & ~0xFFFull) == WIN) {
        if (win_map == MAP_A)
            *rd = *wr = bank_a;
        else if (win_map == MAP_B)
            *rd = *wr = bank_b;
    } else if (pa < RAM_SIZE) {
        *rd = *wr = ram + (pa & ~0xFFFull);
    }
}
static uint64_t bread(void *o, uint64_t pa, unsigned size) { return ~0ull >> (64 - 8 * size); }
static void bwrite(void *o, uint64_t pa, uint64_t v, unsigned size) { }
static uint32_t ioread(void *o, uint32_t port, unsigned size) { return 0xFFFFFFFFu; }
static void iowrite(void *o, uint32_t port, uint32_t v, unsigned size) { }
static uint8_t intack(void *o) { return 0x20; }

static void *bmmio_page(void *o, uint64_t pa, bool write, uint64_t *off)
{
    mmio_page_calls++;
    if ((pa & ~0xFFFull) != WIN || (win_map != MAP_D1 && win_map != MAP_D2))
        return NULL;
    *off = 0x3000;                      /* the page is the device's fourth */
    return win_map == MAP_D1 ? &d1 : &d2;
}
static uint64_t bmmio_read(void *h, uint64_t off, unsigned size)
{
    Dev *d = h;
    d->last_off = off;
    return (d->base + off) & (~0ull >> (64 - 8 * size));
}
static void bmmio_write(void *h, uint64_t off, uint64_t v, unsigned size)
{
    Dev *d = h;
    d->last_off = off;
    d->last_val = v;
    d->writes++;
}

static const X86Bus bus = {
    .page = bpage, .mem_read = bread, .mem_write = bwrite, .io_read = ioread,
    .io_write = iowrite, .intack = intack,
    .mmio_page = bmmio_page, .mmio_read = bmmio_read, .mmio_write = bmmio_write,
};

static void test_tlb_map_changes(void)
{
    static X86Cpu c;
    ram = g_malloc0(RAM_SIZE);
    bank_a = g_malloc0(0x1000);
    bank_b = g_malloc0(0x1000);
    memset(bank_a, 0xAA, 0x1000);
    memset(bank_b, 0xBB, 0x1000);
    x86_init(&c, X86_MODEL_PENTIUM, &bus);      /* real mode: linear = physical */

    /* RAM: cached, and the fast path needs no lookup the second time. */
    win_map = MAP_A;
    g_assert_cmphex(x86_ld_lin(&c, WIN + 0x10, 4), ==, 0xAAAAAAAA);
    unsigned pc = page_calls;
    g_assert_cmphex(x86_ld_lin(&c, WIN + 0x20, 4), ==, 0xAAAAAAAA);
    g_assert_cmpuint(page_calls, ==, pc);
    /* A bank switch the CPU is not told about goes unseen (the entry is
     * really cached)... */
    win_map = MAP_B;
    g_assert_cmphex(x86_ld_lin(&c, WIN, 1), ==, 0xAA);
    /* ...a change elsewhere leaves it... */
    x86_mem_changed(&c, WIN + 0x1000, 0x10000);
    x86_mem_changed(&c, 0, WIN);
    g_assert_cmphex(x86_ld_lin(&c, WIN, 1), ==, 0xAA);
    g_assert_cmpuint(page_calls, ==, pc);
    /* ...and the change of that page drops it: reads and writes see B. */
    x86_mem_changed(&c, WIN + 0xFFF, 1);
    g_assert_cmphex(x86_ld_lin(&c, WIN, 1), ==, 0xBB);
    x86_st_lin(&c, WIN + 4, 0x12345678, 4);
    g_assert_cmphex(bank_b[4], ==, 0x78);
    g_assert_cmphex(bank_a[4], ==, 0xAA);

    /* MMIO: the first access finds the device, later ones go straight
     * to it at the right offset, with no page lookup at all. */
    win_map = MAP_D1;
    x86_mem_changed(&c, WIN, 0x1000);
    g_assert_cmphex(x86_lin_read_slow(&c, WIN + 0x40, 4, false), ==, 0x11003040);
    pc = page_calls;
    unsigned mc = mmio_page_calls;
    g_assert_cmphex(x86_ld_lin(&c, WIN + 0x44, 2), ==, 0x3044);
    x86_st_lin(&c, WIN + 0x48, 0xCAFE, 2);
    x86_st_lin(&c, WIN + 0x4C, 0xF00D, 2);
    g_assert_cmpuint(d1.writes, ==, 2);
    g_assert_cmphex(d1.last_off, ==, 0x304C);
    g_assert_cmphex(d1.last_val, ==, 0xF00D);
    g_assert_cmpuint(page_calls, ==, pc);   /* (the read made the write entry too) */
    mc = mmio_page_calls - mc;
    g_assert_cmpuint(mc, <=, 2);
    mc = mmio_page_calls;
    pc = page_calls;
    for (int i = 0; i < 10; i++) {
        g_assert_cmphex(x86_ld_lin(&c, WIN + 0x80, 1), ==, 0x80);
        x86_st_lin(&c, WIN + 0x84, (uint32_t)i, 1);
    }
    g_assert_cmpuint(page_calls, ==, pc);
    g_assert_cmpuint(mmio_page_calls, ==, mc);
    /* A read-modify-write goes to the device twice. */
    uint32_t v = x86_rmw_ld(&c, S_DS, WIN + 0x90 - c.seg[S_DS].base, 4);
    x86_rmw_st(&c, v + 1, 4);
    g_assert_cmphex(d1.last_off, ==, 0x3090);
    g_assert_cmphex(d1.last_val, ==, 0x11003091);

    /* Another device takes the page (a BAR move): unseen until told... */
    win_map = MAP_D2;
    g_assert_cmphex(x86_ld_lin(&c, WIN, 4), ==, 0x11003000);
    x86_mem_changed(&c, WIN, 1);
    g_assert_cmphex(x86_ld_lin(&c, WIN, 4), ==, 0x22003000);
    x86_st_lin(&c, WIN + 8, 0x55, 1);
    g_assert_cmpuint(d2.writes, ==, 1);
    /* Back to RAM: the I/O entries go, the host pointer is used again. */
    win_map = MAP_A;
    x86_mem_changed(&c, 0, RAM_SIZE);
    g_assert_cmphex(x86_ld_lin(&c, WIN + 0x10, 4), ==, 0xAAAAAAAA);
    x86_st_lin(&c, WIN + 8, 0x66, 1);
    g_assert_cmphex(bank_a[8], ==, 0x66);
    g_assert_cmpuint(d2.writes, ==, 1);
    /* A full flush drops I/O entries too. */
    win_map = MAP_D1;
    x86_mem_changed(&c, WIN, 0x1000);
    g_assert_cmphex(x86_ld_lin(&c, WIN, 4), ==, 0x11003000);
    win_map = MAP_D2;
    x86_tlb_flush(&c);
    g_assert_cmphex(x86_ld_lin(&c, WIN, 4), ==, 0x22003000);

    x86_fini(&c);
    g_free(ram);
    g_free(bank_a);
    g_free(bank_b);
}

/* With paging: a page the TLB holds is read without a walk by the
 * system reads too (descriptors, gates, the TSS: every one of a guest's
 * system calls and interrupts); a read of a page whose dirty bit is set
 * makes the entry writable (a later write needs no walk), one whose
 * dirty bit is clear does not (the write walks and sets it). */
static void test_tlb_walks(void)
{
    static X86Cpu c;
    ram = g_malloc0(RAM_SIZE);
    win_map = MAP_A;
    bank_a = g_malloc0(0x1000);
    x86_init(&c, X86_MODEL_PENTIUM, &bus);
    uint32_t pde = 0x11000 | 0x7, pte_d = 0x7000 | 0x67, pte_nd = 0x8000 | 0x27;
    memcpy(ram + 0x10000, &pde, 4);                 /* PD[0] -> the page table */
    memcpy(ram + 0x11000 + 7 * 4, &pte_d, 4);       /* 0x7000: A, D set */
    memcpy(ram + 0x11000 + 8 * 4, &pte_nd, 4);      /* 0x8000: A set, D clear */
    memcpy(ram + 0x7010, "\x44\x33\x22\x11", 4);
    c.cr3 = 0x10000;
    c.cr0 |= CR0_PE | CR0_PG;
    x86_tlb_flush(&c);

    unsigned pc = page_calls;
    g_assert_cmphex(x86_sys_read(&c, 0x7010, 4), ==, 0x11223344);
    g_assert_cmpuint(page_calls, >, pc);            /* the walk and the fill */
    pc = page_calls;
    g_assert_cmphex(x86_sys_read(&c, 0x7012, 2), ==, 0x1122);
    g_assert_cmphex(x86_ld_lin(&c, 0x7014, 4), ==, 0);
    x86_st_lin(&c, 0x7020, 0xA5, 1);
    g_assert_cmpuint(page_calls, ==, pc);           /* all through the entry */
    g_assert_cmphex(ram[0x7020], ==, 0xA5);

    g_assert_cmphex(x86_ld_lin(&c, 0x8000, 4), ==, 0);
    pc = page_calls;
    x86_st_lin(&c, 0x8004, 0x5A, 1);
    g_assert_cmpuint(page_calls, >, pc);            /* walked again... */
    uint32_t pte;
    memcpy(&pte, ram + 0x11000 + 8 * 4, 4);
    g_assert_cmphex(pte & 0x40, ==, 0x40);          /* ...and set D */
    g_assert_cmphex(ram[0x8004], ==, 0x5A);

    x86_fini(&c);
    g_free(ram);
    g_free(bank_a);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/x86/tlb/map-changes", test_tlb_map_changes);
    g_test_add_func("/x86/tlb/walks", test_tlb_walks);
    return g_test_run();
}
