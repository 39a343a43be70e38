/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz: random port I/O on both channels and the bus master, random PRD
 * tables (many pointing outside RAM), random ATAPI packets and random
 * configuration writes, with virtual time moving in between - under
 * ASan/UBSan, with a fixed seed. Whatever the guest does, the model must
 * neither crash nor touch host memory it does not own, and afterwards a
 * reset brings back drives that work.
 */
#include "ide-test.h"

#include <stdlib.h>

#define ITERATIONS 300000u
#define RAM_BYTES 0x100000u

static const uint8_t ata_cmds[] = {
    0x00, 0x08, 0x10, 0x20, 0x21, 0x24, 0x25, 0x27, 0x29, 0x30, 0x31, 0x34, 0x35, 0x39,
    0x40, 0x41, 0x42, 0x70, 0x90, 0x91, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0xA0, 0xA1,
    0xC4, 0xC5, 0xC6, 0xC8, 0xC9, 0xCA, 0xCB, 0xE0, 0xE1, 0xE2, 0xE3, 0xE5, 0xE6, 0xE7,
    0xEA, 0xEC, 0xEF, 0xF8, 0xFF,
};

static const uint8_t mmc_ops[] = {
    0x00, 0x03, 0x12, 0x1B, 0x1E, 0x25, 0x28, 0x2B, 0x43, 0x46, 0x4A, 0x51, 0x5A, 0xA8,
    0xBB, 0xBD, 0xBE, 0x55, 0xFF,
};

static uint32_t pick_port(GRand *r)
{
    static const uint32_t ports[] = {
        PRI, PRI + 1, PRI + 2, PRI + 3, PRI + 4, PRI + 5, PRI + 6, PRI + 7, PRI_CTL,
        SEC, SEC + 1, SEC + 2, SEC + 3, SEC + 4, SEC + 5, SEC + 6, SEC + 7, SEC_CTL,
    };
    if (g_rand_int_range(r, 0, 6) == 0)
        return BMIBA + (uint32_t)g_rand_int_range(r, 0, 16);
    return ports[g_rand_int_range(r, 0, G_N_ELEMENTS(ports))];
}

static uint32_t random_addr(GRand *r)
{
    switch (g_rand_int_range(r, 0, 5)) {
    case 0: return g_rand_int(r);                                    /* anywhere */
    case 1: return RAM_BYTES - (uint32_t)g_rand_int_range(r, 0, 0x2000);   /* across the end */
    default: return (uint32_t)g_rand_int_range(r, 0, 0x90000);       /* low RAM */
    }
}

static void random_prd_table(TessMachine *m, GRand *r, unsigned ch)
{
    uint32_t table = (uint32_t)g_rand_int_range(r, 0, 0x8FFF8) & ~3u;
    if (g_rand_int_range(r, 0, 8) == 0)
        table = g_rand_int(r) & ~3u;                                 /* off in the void */
    unsigned n = (unsigned)g_rand_int_range(r, 1, 6);
    for (unsigned i = 0; i < n && (uint64_t)table + 8 * i + 8 <= 0xA0000; i++) {
        uint32_t count = g_rand_boolean(r) ? (uint32_t)g_rand_int_range(r, 0, 0x10000)
                                           : (uint32_t)g_rand_int_range(r, 1, 9) * 512;
        it_prd(m, table, i, random_addr(r), count, i == n - 1 && g_rand_int_range(r, 0, 4));
    }
    th_outl(m, BMIBA + 8 * ch + 4, table);
}

static void random_packet(TessMachine *m, GRand *r)
{
    uint32_t base = g_rand_boolean(r) ? SEC : PRI;
    uint8_t cdb[12];
    for (unsigned i = 0; i < 12; i++)
        cdb[i] = (uint8_t)g_rand_int_range(r, 0, 256);
    cdb[0] = mmc_ops[g_rand_int_range(r, 0, G_N_ELEMENTS(mmc_ops))];
    if (g_rand_boolean(r)) {                      /* mostly modest lengths */
        cdb[2] = cdb[3] = cdb[4] = 0;
        cdb[5] &= 0x3F;
        cdb[6] = 0;
        cdb[7] = 0;
        cdb[8] &= 0x1F;
    }
    th_outb(m, base + R_DEV, g_rand_boolean(r) ? 0xA0 : 0xB0);
    th_outb(m, base + R_FEAT, (uint8_t)g_rand_int_range(r, 0, 2));
    th_outb(m, base + R_LBAM, (uint8_t)g_rand_int(r));
    th_outb(m, base + R_LBAH, (uint8_t)g_rand_int(r));
    th_outb(m, base + R_CMD, 0xA0);
    th_advance(m, (uint64_t)g_rand_int_range(r, 0, 20000));
    for (unsigned i = 0; i < 12; i += 2)
        th_outw(m, base, (uint16_t)(cdb[i] | cdb[i + 1] << 8));
}

static void test_fuzz(void)
{
    g_autofree char *dir = it_tmpdir();
    g_autofree char *img = it_image(dir, "disk.img", 1 << 20);
    g_autofree char *iso = it_image(dir, "cd.iso", 32 * 2048);
    g_autofree char *xml = g_strdup_printf(
        "<drive bus='0' unit='0'><disk format='raw' file='%s'/></drive>"
        "<drive bus='1' unit='0' media='cdrom'><disk format='raw' file='%s' readonly='on'/></drive>"
        "<drive bus='1' unit='1' media='cdrom'/>",
        img, iso);
    TessMachine *m = it_machine(xml);
    it_enable(m);
    GRand *r = g_rand_new_with_seed(g_getenv("IDE_FUZZ_SEED") ? (guint32)atoi(g_getenv("IDE_FUZZ_SEED")) : 0x1DE5EED);

    for (unsigned it = 0; it < ITERATIONS; it++) {
        unsigned op = (unsigned)g_rand_int_range(r, 0, 100);
        if (op < 30) {
            uint32_t port = pick_port(r);
            uint32_t v = g_rand_int(r);
            if ((port == PRI + 7 || port == SEC + 7) && g_rand_boolean(r))
                v = ata_cmds[g_rand_int_range(r, 0, G_N_ELEMENTS(ata_cmds))];
            if (port == PRI_CTL || port == SEC_CTL)
                v &= g_rand_int_range(r, 0, 8) ? 0x82 : 0xFF;   /* SRST now and then */
            tess_pio_write(m, port, v, 1u << g_rand_int_range(r, 0, 3));
        } else if (op < 50) {
            (void)tess_pio_read(m, pick_port(r), 1u << g_rand_int_range(r, 0, 3));
        } else if (op < 58) {
            uint32_t base = g_rand_boolean(r) ? PRI : SEC;
            unsigned n = (unsigned)g_rand_int_range(r, 1, 1100);
            bool wr = g_rand_boolean(r);
            for (unsigned i = 0; i < n; i++) {
                if (wr)
                    th_outw(m, base, (uint16_t)g_rand_int(r));
                else
                    (void)th_inw(m, base);
            }
        } else if (op < 64) {
            random_prd_table(m, r, (unsigned)g_rand_int_range(r, 0, 2));
        } else if (op < 70) {
            unsigned ch = (unsigned)g_rand_int_range(r, 0, 2);
            th_outb(m, BMIBA + 8 * ch, (uint8_t)g_rand_int_range(r, 0, 16));
        } else if (op < 78) {
            random_packet(m, r);
        } else if (op < 84) {
            /* A plausible ATA command with random registers. */
            uint32_t base = g_rand_boolean(r) ? PRI : SEC;
            for (unsigned reg = 1; reg <= 6; reg++)
                th_outb(m, base + reg, (uint8_t)g_rand_int(r));
            th_outb(m, base + R_CMD, ata_cmds[g_rand_int_range(r, 0, G_N_ELEMENTS(ata_cmds))]);
        } else if (op < 97) {
            th_advance(m, (uint64_t)g_rand_int_range(r, 0, 60000));
        } else {
            static const uint8_t regs[] = { 0x04, 0x06, 0x20, 0x40, 0x41, 0x42, 0x43, 0x44, 0x50 };
            unsigned reg = regs[g_rand_int_range(r, 0, G_N_ELEMENTS(regs))];
            uint32_t v = g_rand_int(r);
            if (reg == 0x04)
                v |= 1;                           /* mostly keep the ports alive */
            if (reg == 0x20)
                v = g_rand_int_range(r, 0, 4) ? (BMIBA | 1) : v;
            if (reg >= 0x40 && reg <= 0x43 && g_rand_int_range(r, 0, 4))
                v |= 0x80;
            it_cfg_write(m, reg, v, 1);
        }
    }
    g_test_message("irq edges: %u / %u", it_irq_edges(m, PRI), it_irq_edges(m, SEC));
    g_rand_free(r);

    /* After all that, a reset gives working drives. */
    tess_machine_reset(m);
    it_enable(m);
    uint16_t w[256];
    it_identify(m, PRI, 0, 0xEC, w);
    g_assert_cmpuint(w[60], ==, 2048);
    it_identify(m, SEC, 0, 0xA1, w);
    g_assert_cmphex(w[0], ==, 0x85C0);
    th_machine_free(m);
    it_rmdir(g_steal_pointer(&dir));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ide/fuzz", test_fuzz);
    return g_test_run();
}
