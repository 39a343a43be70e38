/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * x86-romrun: run a ROM image on the bare interpreter core, without the
 * machine fabric: 16 MiB of RAM, the ROM at the top of 4 GiB and below
 * 1 MiB, debug console on 0xE9, exit port 0xF4, A20 on port 0x92. A
 * debugging and profiling aid for the CPU core (tessera run is the real
 * thing).   usage: x86-romrun ROM [max-instructions]
 */
#include "x86-cpu.h"
#include <stdio.h>
#include <stdlib.h>

#define RAM_SIZE (16u << 20)
static uint8_t *ram, *rom;
static size_t rom_size;
static int exit_code = -1;
static X86Cpu cpu;

static void bpage(void *o, uint64_t pa, uint8_t **rd, uint8_t **wr)
{
    *rd = *wr = NULL;
    if (pa < RAM_SIZE && !(pa >= 0xE0000 && pa < 0x100000 && pa >= 0x100000 - (rom_size < 0x20000 ? rom_size : 0x20000))) {
        *rd = *wr = ram + pa;
    } else if (pa >= 0x100000000ull - rom_size && pa < 0x100000000ull) {
        *rd = rom + (pa - (0x100000000ull - rom_size));
    } else if (pa < 0x100000) {
        size_t low = rom_size < 0x20000 ? rom_size : 0x20000;
        *rd = rom + rom_size - (0x100000 - pa);
        (void)low;
    }
}
static uint64_t bread(void *o, uint64_t pa, unsigned size)
{
    uint64_t v = 0;
    for (unsigned k = 0; k < size; k++) {
        uint8_t *rd, *wr;
        bpage(o, (pa + k) & ~0xFFFull, &rd, &wr);
        v |= (uint64_t)(rd ? rd[(pa + k) & 0xFFF] : 0xFF) << (8 * k);
    }
    return v;
}
static void bwrite(void *o, uint64_t pa, uint64_t v, unsigned size)
{
    for (unsigned k = 0; k < size; k++) {
        uint8_t *rd, *wr;
        bpage(o, (pa + k) & ~0xFFFull, &rd, &wr);
        if (wr)
            wr[(pa + k) & 0xFFF] = (uint8_t)(v >> (8 * k));
    }
}
static uint8_t p92;
static uint32_t ioread(void *o, uint32_t port, unsigned size)
{
    if (port == 0x92) return p92;
    if (port == 0x402) return 0xE9;
    return 0xFFFFFFFFu >> (32 - 8 * size);
}
static void iowrite(void *o, uint32_t port, uint32_t v, unsigned size)
{
    if (port == 0xE9 || port == 0x402) { putchar(v & 0xFF); fflush(stdout); }
    else if (port == 0xF4) { exit_code = (int)(((v << 1) | 1) & 0xFF); }
    else if (port == 0x92) { p92 = v & 0xFE; x86_set_a20(&cpu, v & 2); }
}
static uint8_t intack(void *o) { return 0xFF; }
static uint64_t clk(void *o) { return cpu.icount * 10; }

int main(int argc, char **argv)
{
    if (argc < 2) { fprintf(stderr, "usage: %s ROM [max]\n", argv[0]); return 2; }
    gchar *data; gsize len;
    if (!g_file_get_contents(argv[1], &data, &len, NULL) || len == 0 || len % 65536) {
        fprintf(stderr, "bad rom\n"); return 2;
    }
    rom = (uint8_t *)data; rom_size = len;
    ram = g_malloc0(RAM_SIZE);
    uint64_t max = argc > 2 ? strtoull(argv[2], NULL, 0) : 2000000000ull;
    X86Bus bus = { NULL, bpage, bread, bwrite, ioread, iowrite, intack, clk };
    x86_init(&cpu, X86_MODEL_PENTIUM, &bus);
    gint64 t0 = g_get_monotonic_time();
    int r = X86_EXIT_LIMIT;
    while (exit_code < 0 && cpu.icount < max) {
        uint64_t lim = cpu.icount + 1000000;
        if (lim > max) lim = max;
        r = x86_run(&cpu, &lim, &(int){0});
        if (r != X86_EXIT_LIMIT) break;
    }
    gint64 t1 = g_get_monotonic_time();
    fprintf(stderr, "romrun: %s after %" G_GUINT64_FORMAT " insns, %.1f MIPS, eip %04x:%08x exit %d\n",
            r == X86_EXIT_HALTED ? "halted" : r == X86_EXIT_SHUTDOWN ? "shutdown" : "stopped",
            cpu.icount, cpu.icount / (double)(t1 - t0 + 1), cpu.seg[S_CS].sel, cpu.eip, exit_code);
    return exit_code < 0 ? 3 : exit_code;
}
