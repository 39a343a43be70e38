/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: every device class's registers, driven as a hostile
 * guest would. The machine is the standard PC (machines/pc.xml: every
 * device class Tessera has, an IDE disk and CD-ROM added) with guard pages
 * around guest RAM, so DMA that escapes RAM faults. The input is a list of
 * 8-byte operations:
 *   op & 7: 0 port write, 1 port read (any claimed port, any width),
 *           2 memory write, 3 memory read (VGA window, PCI BAR windows,
 *             the chipset's MMIO, the top of 4 GiB: any width),
 *           4 guest RAM write (DMA descriptors and buffers),
 *           5 time passes (timers fire, DMA completes): up to 1 ms
 *             (65535 x 16 ns), or with op bit 3 up to the next timer's
 *             deadline (at most 2 s away: an RTC alarm, a floppy motor),
 *             jumping over idle time rather than stepping through it,
 *           6 PCI configuration access through 0xCF8/0xCFC,
 *           7 interrupt acknowledge.
 * Each input starts from a reset machine with zeroed RAM.
 */
#include "harness.h"
#include <tessera/cpu.h>

#include <stdlib.h>
#include <string.h>
#include <glib/gstdio.h>
#include <sys/mman.h>

static TessMachine *machine;
static GArray *ports;           /* TessPioRange copies: every claimed range */
static uint8_t *ram;
static uint64_t ram_size;
static bool has_intc;

static const uint64_t windows[] = {
    0xA0000, 0xC0000, 0xE0000000, 0xE1000000, 0xF0000000, 0xFD000000, 0xFEB00000,
    0xFEBF0000, 0xFEC00000, 0xFED00000, 0xFEE00000, 0xFFFF0000,
};

static void fz_init(void)
{
    g_log_set_handler(NULL, G_LOG_LEVEL_MASK & ~G_LOG_FATAL_MASK,
                      (GLogFunc)g_log_default_handler, NULL);
    g_setenv("G_MESSAGES_DEBUG", "", TRUE);
    const char *base = g_file_test("/dev/shm", G_FILE_TEST_IS_DIR) ? "/dev/shm" : g_get_tmp_dir();
    g_autofree char *tmpl = g_build_filename(base, "tess-fuzz-dev-XXXXXX", NULL);
    static char *dir;
    dir = g_mkdtemp(g_steal_pointer(&tmpl));
    if (!dir)
        abort();
    g_autofree char *disk = g_build_filename(dir, "disk.img", NULL);
    g_autofree char *cd = g_build_filename(dir, "cd.iso", NULL);
    g_autofree char *zeros = g_malloc0(1 << 20);
    if (!g_file_set_contents(disk, zeros, 1 << 20, NULL) ||
        !g_file_set_contents(cd, zeros, 1 << 20, NULL))
        abort();
    g_autofree char *xml = g_strdup_printf(
        "<machine base='pc'><memory size='2M'/>"
        "<device id='ide0'>"
        "<drive bus='0' unit='0' media='disk'><disk format='raw' file='%s' undo='discard'/></drive>"
        "<drive bus='1' unit='0' media='cdrom'><disk format='raw' file='%s' readonly='on'/></drive>"
        "</device></machine>", disk, cd);
    TessLoadOptions lo = { .mopts = { .deterministic = true, .ns_per_insn = 1,
                                      .ram_guard = true } };
    GError *err = NULL;
    machine = tess_machine_load_string(th_registry(), xml, dir, &lo, &err);
    if (!machine) {
        fprintf(stderr, "fuzz-device: %s\n", err->message);
        abort();
    }
    ports = g_array_new(FALSE, FALSE, sizeof(TessPioRange));
    for (guint i = 0; i < machine->pio->ranges->len; i++)
        g_array_append_val(ports, *(TessPioRange *)machine->pio->ranges->pdata[i]);
    ram = tess_mem_region_host(tess_machine_ram(machine));
    ram_size = tess_machine_ram_size(machine);
    for (guint i = 0; i < machine->devices->len && !has_intc; i++)
        has_intc = tess_device_interface(machine->devices->pdata[i], TESS_IFACE_INTC) != NULL;
}

static unsigned width(uint8_t op, bool mem)
{
    unsigned w = 1u << ((op >> 3) & 3);
    return w == 8 && !mem ? 4 : w;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!machine)
        fz_init();
    /* Zeroed RAM for each input: RAM is an anonymous private mapping, so
     * dropping its pages zeroes it and costs only the pages the last
     * input touched (a memset of all of it was a tenth of the time). */
    if (madvise(ram, ram_size, MADV_DONTNEED) < 0)
        memset(ram, 0, ram_size);
    tess_machine_reset(machine);
    machine->exit_requested = machine->reset_requested = false;
    for (; size >= 8; data += 8, size -= 8) {
        uint8_t op = data[0];
        uint32_t v;
        memcpy(&v, data + 4, 4);
        uint16_t sel = (uint16_t)(data[1] | data[2] << 8);
        switch (op & 7) {
        case 0:
        case 1: {
            const TessPioRange *r = &g_array_index(ports, TessPioRange, sel % ports->len);
            uint32_t port = r->base + data[3] % r->len;
            if ((op & 7) == 0)
                tess_pio_write(machine, port, v, width(op, false));
            else
                (void)tess_pio_read(machine, port, width(op, false));
            break;
        }
        case 2:
        case 3: {
            uint64_t a = windows[data[1] % G_N_ELEMENTS(windows)] +
                         ((uint64_t)(data[2] | data[3] << 8) << (op >> 5));
            if ((op & 7) == 2)
                tess_mem_write(machine, a, (uint64_t)v * 0x100000001ull, width(op, true));
            else
                (void)tess_mem_read(machine, a, width(op, true));
            break;
        }
        case 4: {
            uint64_t a = ((uint64_t)sel << 8 | data[3]) % (ram_size - 3);
            memcpy(ram + a, &v, 4);
            break;
        }
        case 5: {
            /* Time in small steps or to the next event: an input that let
             * 100 ms pass per operation with the PIT at divisor 1 ran
             * 120,000 timer events each, and the corpus drifted to such
             * inputs (the run slowed from 4,700 to 470 executions per
             * CPU-second) without reaching more code. */
            uint64_t ns = (uint64_t)(v & 0xFFFF) * 16;
            if (op & 8) {
                uint64_t now = tess_clock_ns(machine), next = tess_clock_next_deadline(machine);
                ns = next > now ? MIN(next - now, 2000000000ull) : 0;
            }
            th_advance(machine, ns);
            break;
        }
        case 6:
            tess_pio_write(machine, 0xCF8, 0x80000000u | (uint32_t)sel << 2, 4);
            if (op & 8)
                tess_pio_write(machine, 0xCFC + (data[3] & 3), v, width(op, false));
            else
                (void)tess_pio_read(machine, 0xCFC + (data[3] & 3), width(op, false));
            break;
        case 7:
            if (has_intc)
                (void)th_intack(machine);
            break;
        }
    }
    return 0;
}
