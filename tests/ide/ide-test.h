/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers for the IDE tests: a PC-like test machine (i440FX, PIIX3, two
 * 8259s, the IDE function at 00:01.1, a probe on IRQ 14/15) whose drives
 * are raw images in a temporary directory, and the host side of the ATA
 * protocols (configuration space, task file, PIO, PRD tables).
 */
#ifndef IDE_TEST_H
#define IDE_TEST_H

#include "harness.h"
#include <tessera/block.h>

#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#define IDE_DEVFN   0x09
#define BMIBA       0xC000u
#define PRI         0x1F0u
#define PRI_CTL     0x3F6u
#define SEC         0x170u
#define SEC_CTL     0x376u

/* Task file offsets */
#define R_DATA   0
#define R_ERROR  1
#define R_FEAT   1
#define R_NSECT  2
#define R_LBAL   3
#define R_LBAM   4
#define R_LBAH   5
#define R_DEV    6
#define R_STATUS 7
#define R_CMD    7

#define S_BSY  0x80
#define S_DRDY 0x40
#define S_DF   0x20
#define S_DSC  0x10
#define S_DRQ  0x08
#define S_ERR  0x01

#define E_UNC  0x40
#define E_IDNF 0x10
#define E_ABRT 0x04

/* ---- files ------------------------------------------------------------------ */

/* The byte a test image holds at `off`: the sector number in the first
 * eight bytes of each 512-byte sector, a mix of both after. */
static inline uint8_t it_pattern(uint64_t off)
{
    uint64_t lba = off / 512;
    unsigned i = off % 512;
    if (i < 8)
        return (uint8_t)(lba >> (8 * i));
    return (uint8_t)(lba * 7 + i * 13 + 1);
}

static inline char *it_tmpdir(void)
{
    GError *err = NULL;
    char *d = g_dir_make_tmp("tess-ide-XXXXXX", &err);
    g_assert_no_error(err);
    return d;
}

static inline void it_rmdir(char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *n;
    while (d && (n = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(dir, n, NULL);
        g_unlink(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(dir);
    g_free(dir);
}

/* A raw image of `bytes` filled with it_pattern. */
static inline char *it_image(const char *dir, const char *name, uint64_t bytes)
{
    char *path = g_build_filename(dir, name, NULL);
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    g_assert_cmpint(fd, >=, 0);
    uint8_t buf[65536];
    for (uint64_t off = 0; off < bytes; off += sizeof(buf)) {
        size_t n = (size_t)MIN((uint64_t)sizeof(buf), bytes - off);
        for (size_t i = 0; i < n; i++)
            buf[i] = it_pattern(off + i);
        g_assert_cmpint(pwrite(fd, buf, n, (off_t)off), ==, (ssize_t)n);
    }
    close(fd);
    return path;
}

static inline void it_file_read(const char *path, uint64_t off, void *buf, size_t len)
{
    int fd = open(path, O_RDONLY);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pread(fd, buf, len, (off_t)off), ==, (ssize_t)len);
    close(fd);
}

static inline void it_file_write(const char *path, uint64_t off, const void *buf, size_t len)
{
    int fd = open(path, O_WRONLY);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pwrite(fd, buf, len, (off_t)off), ==, (ssize_t)len);
    close(fd);
}

/* ---- the machine -------------------------------------------------------------- */

#define IT_BASE                                                                        \
    "<device type='i440fx' id='pci'/>"                                                 \
    "<device type='piix3' id='isa'/>"                                                  \
    "<device type='pic8259' id='pic0' port='0x20' role='master' slave='pic1'/>"        \
    "<device type='pic8259' id='pic1' port='0xa0' role='slave'/>"                      \
    "<device type='th-probe' id='probe'/>"                                             \
    "<wire from='pic1.int' to='pic0.ir2'/>"                                            \
    "<wire from='ide0.irq14' to='pic1.ir6'/>"                                          \
    "<wire from='ide0.irq15' to='pic1.ir7'/>"                                          \
    "<wire from='ide0.irq14' to='probe.in0'/>"                                         \
    "<wire from='ide0.irq15' to='probe.in1'/>"

/* A machine with `drives` (the <drive> elements) inside the ide device,
 * and `extra` (e.g. a <memory>) around it. */
static inline TessMachine *it_machine_extra(const char *drives, const char *extra)
{
    g_autofree char *xml = g_strdup_printf("%s%s<device type='ide' id='ide0'>%s</device>",
                                           extra ? extra : "", IT_BASE, drives);
    return th_machine(xml);
}

static inline TessMachine *it_machine(const char *drives)
{
    return it_machine_extra(drives, NULL);
}

static inline uint32_t it_cfg_read(TessMachine *m, unsigned reg, unsigned size)
{
    th_outl(m, 0xCF8, 0x80000000u | IDE_DEVFN << 8 | (reg & 0xFC));
    return tess_pio_read(m, 0xCFC + (reg & 3), size);
}

static inline void it_cfg_write(TessMachine *m, unsigned reg, uint32_t v, unsigned size)
{
    th_outl(m, 0xCF8, 0x80000000u | IDE_DEVFN << 8 | (reg & 0xFC));
    tess_pio_write(m, 0xCFC + (reg & 3), v, size);
}

/* What a BIOS does: I/O decode and bus mastering on, both channels'
 * legacy ports (IDETIM IDE bit), BAR4 at BMIBA. */
static inline void it_enable(TessMachine *m)
{
    it_cfg_write(m, 0x20, BMIBA | 1, 4);
    it_cfg_write(m, 0x04, 0x0005, 2);
    it_cfg_write(m, 0x40, 0x8000, 2);
    it_cfg_write(m, 0x42, 0x8000, 2);
}

/* ---- task file -------------------------------------------------------------- */

static inline uint8_t it_alt(TessMachine *m, uint32_t base)
{
    return th_inb(m, base == PRI ? PRI_CTL : SEC_CTL);
}

/* Let virtual time pass until BSY drops (bounded); the Alternate Status
 * read leaves the interrupt pending. */
static inline uint8_t it_wait(TessMachine *m, uint32_t base)
{
    uint8_t st = it_alt(m, base);
    for (unsigned i = 0; i < 1000 && (st & S_BSY); i++) {
        th_advance(m, 1000);
        st = it_alt(m, base);
    }
    g_assert_false(st & S_BSY);
    return st;
}

/* Until the command is over: neither BSY nor DRQ (a DMA command sits in
 * DRQ while the bus master works). */
static inline uint8_t it_wait_idle(TessMachine *m, uint32_t base)
{
    uint8_t st = it_alt(m, base);
    for (unsigned i = 0; i < 1000 && (st & (S_BSY | S_DRQ)); i++) {
        th_advance(m, 1000);
        st = it_alt(m, base);
    }
    g_assert_false(st & (S_BSY | S_DRQ));
    return st;
}

static inline unsigned it_irq_edges(TessMachine *m, uint32_t base)
{
    return th_probe_edges(m, "probe", base == PRI ? 0 : 1);
}

static inline bool it_irq(TessMachine *m, uint32_t base)
{
    return th_probe_level(m, "probe", base == PRI ? 0 : 1);
}

static inline void it_select(TessMachine *m, uint32_t base, unsigned unit)
{
    th_outb(m, base + R_DEV, (uint8_t)(0xA0 | (unit ? 0x10 : 0)));
}

/* LBA28 address and count, then the command; waits for the first phase. */
static inline uint8_t it_cmd28(TessMachine *m, uint32_t base, unsigned unit, uint8_t cmd,
                               uint32_t lba, uint8_t count)
{
    th_outb(m, base + R_NSECT, count);
    th_outb(m, base + R_LBAL, (uint8_t)lba);
    th_outb(m, base + R_LBAM, (uint8_t)(lba >> 8));
    th_outb(m, base + R_LBAH, (uint8_t)(lba >> 16));
    th_outb(m, base + R_DEV, (uint8_t)(0xE0 | (unit ? 0x10 : 0) | ((lba >> 24) & 0x0F)));
    th_outb(m, base + R_CMD, cmd);
    return it_wait(m, base);
}

static inline uint8_t it_cmd48(TessMachine *m, uint32_t base, unsigned unit, uint8_t cmd,
                               uint64_t lba, uint16_t count)
{
    th_outb(m, base + R_NSECT, (uint8_t)(count >> 8));
    th_outb(m, base + R_LBAL, (uint8_t)(lba >> 24));
    th_outb(m, base + R_LBAM, (uint8_t)(lba >> 32));
    th_outb(m, base + R_LBAH, (uint8_t)(lba >> 40));
    th_outb(m, base + R_NSECT, (uint8_t)count);
    th_outb(m, base + R_LBAL, (uint8_t)lba);
    th_outb(m, base + R_LBAM, (uint8_t)(lba >> 8));
    th_outb(m, base + R_LBAH, (uint8_t)(lba >> 16));
    th_outb(m, base + R_DEV, (uint8_t)(0x40 | (unit ? 0x10 : 0)));
    th_outb(m, base + R_CMD, cmd);
    return it_wait(m, base);
}

/* A non-data command with the registers as they are. */
static inline uint8_t it_cmd(TessMachine *m, uint32_t base, uint8_t cmd)
{
    th_outb(m, base + R_CMD, cmd);
    return it_wait(m, base);
}

static inline void it_read_words(TessMachine *m, uint32_t base, void *buf, size_t bytes)
{
    uint8_t *b = buf;
    for (size_t i = 0; i < bytes; i += 2) {
        uint16_t w = th_inw(m, base + R_DATA);
        b[i] = (uint8_t)w;
        b[i + 1] = (uint8_t)(w >> 8);
    }
}

static inline void it_write_words(TessMachine *m, uint32_t base, const void *buf, size_t bytes)
{
    const uint8_t *b = buf;
    for (size_t i = 0; i < bytes; i += 2)
        th_outw(m, base + R_DATA, (uint16_t)(b[i] | b[i + 1] << 8));
}

/* IDENTIFY (DEVICE or PACKET DEVICE) into w[256]. */
static inline void it_identify(TessMachine *m, uint32_t base, unsigned unit, uint8_t cmd,
                               uint16_t *w)
{
    it_select(m, base, unit);
    uint8_t st = it_cmd(m, base, cmd);
    g_assert_cmphex(st & (S_DRQ | S_ERR), ==, S_DRQ);
    for (unsigned i = 0; i < 256; i++)
        w[i] = th_inw(m, base + R_DATA);
    g_assert_cmphex(th_inb(m, base + R_STATUS) & (S_BSY | S_DRQ | S_ERR), ==, 0);
}

/* The ATA string of `n` words at w, byte-swapped back, trailing spaces cut. */
static inline char *it_ata_string(const uint16_t *w, unsigned n)
{
    char *s = g_malloc0(2 * n + 1);
    for (unsigned i = 0; i < n; i++) {
        s[2 * i] = (char)(w[i] >> 8);
        s[2 * i + 1] = (char)w[i];
    }
    return g_strchomp(s);
}

/* ---- guest memory --------------------------------------------------------------- */

static inline void it_mem_write(TessMachine *m, uint64_t addr, const void *buf, size_t len)
{
    GError *err = NULL;
    if (!tess_dma_write(m, addr, buf, len, &err))
        g_error("it_mem_write 0x%" G_GINT64_MODIFIER "x+%zu: %s", addr, len, err->message);
    g_assert_no_error(err);
}

static inline void it_mem_read(TessMachine *m, uint64_t addr, void *buf, size_t len)
{
    GError *err = NULL;
    g_assert_true(tess_dma_read(m, addr, buf, len, &err));
    g_assert_no_error(err);
}

/* One PRD entry at table + 8 * i. count 0x10000 is written as 0. */
static inline void it_prd(TessMachine *m, uint32_t table, unsigned i, uint32_t addr,
                          uint32_t count, bool eot)
{
    uint8_t e[8];
    uint32_t c = (count & 0xFFFF) | (eot ? 0x80000000u : 0);
    for (unsigned k = 0; k < 4; k++) {
        e[k] = (uint8_t)(addr >> (8 * k));
        e[4 + k] = (uint8_t)(c >> (8 * k));
    }
    it_mem_write(m, table + 8u * i, e, 8);
}

/* Bus master of channel `ch`: table pointer, direction, clear status. */
static inline void it_bm_setup(TessMachine *m, unsigned ch, uint32_t table, bool to_memory)
{
    uint32_t b = BMIBA + 8 * ch;
    th_outb(m, b + 0, 0);
    th_outl(m, b + 4, table);
    th_outb(m, b + 2, 0x06);             /* clear error and interrupt */
    th_outb(m, b + 0, to_memory ? 0x08 : 0x00);
}

static inline void it_bm_start(TessMachine *m, unsigned ch, bool to_memory)
{
    th_outb(m, BMIBA + 8 * ch, (uint8_t)((to_memory ? 0x08 : 0x00) | 0x01));
}

static inline uint8_t it_bmista(TessMachine *m, unsigned ch)
{
    return th_inb(m, BMIBA + 8 * ch + 2);
}

/* ---- ATAPI ------------------------------------------------------------------------ */

/* Send a 12-byte packet with byte count limit `limit` (PIO, or DMA when
 * dma); waits until the drive leaves BSY after taking the packet. */
static inline uint8_t it_packet(TessMachine *m, uint32_t base, unsigned unit,
                                const uint8_t cdb[12], uint16_t limit, bool dma)
{
    it_select(m, base, unit);
    th_outb(m, base + R_FEAT, dma ? 1 : 0);
    th_outb(m, base + R_LBAM, (uint8_t)limit);
    th_outb(m, base + R_LBAH, (uint8_t)(limit >> 8));
    uint8_t st = it_cmd(m, base, 0xA0);
    g_assert_cmphex(st & (S_DRQ | S_ERR), ==, S_DRQ);
    g_assert_cmphex(th_inb(m, base + R_NSECT) & 3, ==, 1);   /* CoD, to the device */
    for (unsigned i = 0; i < 12; i += 2)
        th_outw(m, base + R_DATA, (uint16_t)(cdb[i] | cdb[i + 1] << 8));
    return it_wait(m, base);
}

/* PIO data-in of a packet command: read every DRQ block into buf (at
 * most max bytes); returns the byte count and leaves the final status in
 * *status (read from the Status register, which clears the interrupt). */
static inline size_t it_packet_in(TessMachine *m, uint32_t base, uint8_t st, void *buf,
                                  size_t max, uint8_t *status)
{
    uint8_t *b = buf;
    size_t got = 0;
    while (st & S_DRQ) {
        g_assert_cmphex(th_inb(m, base + R_NSECT) & 3, ==, 2);   /* IO, data to the host */
        unsigned n = th_inb(m, base + R_LBAM) | th_inb(m, base + R_LBAH) << 8;
        g_assert_cmpuint(n, >, 0);
        (void)th_inb(m, base + R_STATUS);
        for (unsigned i = 0; i < n; i += 2) {
            uint16_t w = th_inw(m, base + R_DATA);
            if (got + i < max)
                b[got + i] = (uint8_t)w;
            if (got + i + 1 < max && i + 1 < n)
                b[got + i + 1] = (uint8_t)(w >> 8);
        }
        got += n;
        st = it_wait(m, base);
    }
    *status = th_inb(m, base + R_STATUS);
    return got;
}

#endif
