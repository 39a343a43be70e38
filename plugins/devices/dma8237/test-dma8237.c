/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * 8237A tests: channels programmed through the ports as the datasheet and
 * the PC/AT page-register wiring describe, driven by a fake ISA device
 * through the "isa-dma" service, checked in the machine's RAM.
 */
#include "harness.h"

#include <string.h>

static const uint8_t page_port[8] = { 0x87, 0x83, 0x81, 0x82, 0x8F, 0x8B, 0x89, 0x8A };

typedef struct {
    TessDevice *dma;
    const TessIsaDmaOps *ops;
    uint8_t data[0x20000];          /* device side: bytes it sends or got */
    uint32_t chunk;                 /* bytes per callback */
    bool to_memory;
    bool drop_at_end;               /* lower DRQ when the window is done */
    int drop_after;                 /* lower DRQ once pos reaches this (-1: never) */
    bool drop_first;                /* lower DRQ on the first call */
    unsigned calls;
    uint32_t last_size;
} Dev;

static uint32_t dev_xfer(void *opaque, unsigned ch, uint32_t pos, uint32_t size)
{
    Dev *d = opaque;
    d->calls++;
    d->last_size = size;
    uint32_t n = MIN(d->chunk, size - pos);
    if (d->to_memory)
        n = d->ops->write_memory(d->dma, ch, d->data + pos, pos, n);
    else
        n = d->ops->read_memory(d->dma, ch, d->data + pos, pos, n);
    uint32_t np = pos + n;
    if (d->drop_first || (d->drop_at_end && np >= size) ||
        (d->drop_after >= 0 && np >= (uint32_t)d->drop_after))
        d->ops->set_drq(d->dma, ch, false);
    return np;
}

static TessMachine *machine(Dev *d, unsigned ch)
{
    TessMachine *m = th_machine("<device type='dma8237' id='dma'/>");
    memset(d, 0, sizeof(*d));
    d->dma = tess_machine_device(m, "dma");
    d->ops = tess_device_interface(d->dma, TESS_IFACE_ISA_DMA);
    g_assert_nonnull(d->ops);
    d->chunk = 64;
    d->drop_after = -1;
    g_autoptr(GError) err = NULL;
    g_assert_true(d->ops->register_channel(d->dma, ch, dev_xfer, d, &err));
    /* BIOS setup: master clear, channel 4 in cascade mode and unmasked. */
    th_outb(m, 0x0D, 0);
    th_outb(m, 0xDA, 0);
    th_outb(m, 0xD6, 0xC0);
    th_outb(m, 0xD4, 0x00);
    return m;
}

static void program(TessMachine *m, unsigned ch, uint8_t mode, uint16_t addr,
                    uint16_t count, uint8_t page)
{
    unsigned i = ch & 3;
    if (ch < 4) {
        th_outb(m, 0x0A, 0x04 | i);
        th_outb(m, 0x0B, mode | i);
        th_outb(m, 0x0C, 0);
        th_outb(m, i * 2, addr & 0xFF);
        th_outb(m, i * 2, addr >> 8);
        th_outb(m, i * 2 + 1, count & 0xFF);
        th_outb(m, i * 2 + 1, count >> 8);
        th_outb(m, page_port[ch], page);
        th_outb(m, 0x0A, i);
    } else {
        th_outb(m, 0xD4, 0x04 | i);
        th_outb(m, 0xD6, mode | i);
        th_outb(m, 0xD8, 0);
        th_outb(m, 0xC0 + i * 4, addr & 0xFF);
        th_outb(m, 0xC0 + i * 4, addr >> 8);
        th_outb(m, 0xC2 + i * 4, count & 0xFF);
        th_outb(m, 0xC2 + i * 4, count >> 8);
        th_outb(m, page_port[ch], page);
        th_outb(m, 0xD4, i);
    }
}

static uint16_t read_reg16(TessMachine *m, uint16_t port, uint16_t ff_port)
{
    th_outb(m, ff_port, 0);
    uint16_t v = th_inb(m, port);
    return v | th_inb(m, port) << 8;
}

static uint8_t mem(TessMachine *m, uint64_t a)
{
    return (uint8_t)tess_mem_read(m, a, 1);
}

static void fill_pattern(Dev *d, uint8_t seed)
{
    for (unsigned i = 0; i < sizeof(d->data); i++)
        d->data[i] = (uint8_t)(i * 7 + seed);
}

static void test_write_8bit(void)
{
    static Dev d;
    TessMachine *m = machine(&d, 2);
    fill_pattern(&d, 3);
    d.to_memory = true;
    program(m, 2, 0x44, 0x1000, 255, 0x02);     /* single, write */
    g_assert_cmpuint(d.calls, ==, 0);
    g_assert_cmphex(th_inb(m, 0x0F) & 0x0F, ==, 0x0B);   /* master clear masked the rest */
    d.ops->set_drq(d.dma, 2, true);
    g_assert_cmpuint(d.calls, ==, 4);
    g_assert_cmpuint(d.last_size, ==, 256);
    for (unsigned i = 0; i < 256; i++)
        g_assert_cmphex(mem(m, 0x21000 + i), ==, d.data[i]);
    g_assert_cmphex(mem(m, 0x21100), ==, 0);
    g_assert_cmphex(mem(m, 0x20FFF), ==, 0);
    /* TC for channel 2; DREQ 2 still up. TC bits clear on read. */
    g_assert_cmphex(th_inb(m, 0x08), ==, 0x44);
    g_assert_cmphex(th_inb(m, 0x08), ==, 0x40);
    /* No autoinit: the channel masked itself at TC. */
    g_assert_cmphex(th_inb(m, 0x0F) & 0x0F, ==, 0x0F);
    g_assert_cmphex(read_reg16(m, 0x04, 0x0C), ==, 0x1100);
    g_assert_cmphex(read_reg16(m, 0x05, 0x0C), ==, 0xFFFF);
    th_machine_free(m);
}

static void test_page_wrap(void)
{
    static Dev d;
    TessMachine *m = machine(&d, 1);
    fill_pattern(&d, 9);
    d.to_memory = true;
    /* An 8-bit channel wraps inside its 64 KiB page. */
    program(m, 1, 0x44, 0xFFF0, 0x1F, 0x03);
    d.ops->set_drq(d.dma, 1, true);
    for (unsigned i = 0; i < 16; i++) {
        g_assert_cmphex(mem(m, 0x3FFF0 + i), ==, d.data[i]);
        g_assert_cmphex(mem(m, 0x30000 + i), ==, d.data[16 + i]);
    }
    g_assert_cmphex(mem(m, 0x40000), ==, 0);
    th_machine_free(m);
}

static void test_16bit(void)
{
    static Dev d;
    TessMachine *m = machine(&d, 5);
    fill_pattern(&d, 1);
    d.to_memory = true;
    d.drop_at_end = true;
    /* Word address 0x1000, 8 words, page 0x03 (bit 0 ignored): 0x22000. */
    program(m, 5, 0x44, 0x1000, 7, 0x03);
    d.ops->set_drq(d.dma, 5, true);
    g_assert_cmpuint(d.last_size, ==, 16);
    for (unsigned i = 0; i < 16; i++)
        g_assert_cmphex(mem(m, 0x22000 + i), ==, d.data[i]);
    g_assert_cmphex(read_reg16(m, 0xC4, 0xD8), ==, 0x1008);
    g_assert_cmphex(read_reg16(m, 0xC6, 0xD8), ==, 0xFFFF);
    g_assert_cmphex(th_inb(m, 0xD0) & 0x0F, ==, 0x02);
    /* Odd ports alias the even ones (A0 is not decoded). */
    g_assert_cmphex(th_inb(m, 0xD1) & 0x0F, ==, 0x00);

    /* A 16-bit channel wraps inside 128 KiB. */
    program(m, 5, 0x44, 0xFFFE, 3, 0x04);
    d.ops->set_drq(d.dma, 5, true);
    for (unsigned i = 0; i < 4; i++) {
        g_assert_cmphex(mem(m, 0x5FFFC + i), ==, d.data[i]);
        g_assert_cmphex(mem(m, 0x40000 + i), ==, d.data[4 + i]);
    }
    g_assert_cmphex(mem(m, 0x60000), ==, 0);
    th_machine_free(m);
}

static void test_autoinit_read(void)
{
    static Dev d;
    TessMachine *m = machine(&d, 3);
    for (unsigned i = 0; i < 16; i++)
        tess_mem_write(m, 0x5000 + i, 0xA0 + i, 1);
    d.drop_at_end = true;
    d.chunk = 16;
    program(m, 3, 0x58, 0x5000, 15, 0x00);      /* single, read, autoinit */
    d.ops->set_drq(d.dma, 3, true);
    g_assert_cmpuint(d.calls, ==, 1);
    for (unsigned i = 0; i < 16; i++)
        g_assert_cmphex(d.data[i], ==, 0xA0 + i);
    /* Autoinit: current registers reloaded, channel still unmasked. */
    g_assert_cmphex(th_inb(m, 0x08) & 0x0F, ==, 0x08);
    g_assert_cmphex(th_inb(m, 0x0F) & 0x08, ==, 0x00);
    g_assert_cmphex(read_reg16(m, 0x06, 0x0C), ==, 0x5000);
    g_assert_cmphex(read_reg16(m, 0x07, 0x0C), ==, 15);
    for (unsigned i = 0; i < 16; i++)
        tess_mem_write(m, 0x5000 + i, 0x10 + i, 1);
    d.ops->set_drq(d.dma, 3, true);
    g_assert_cmpuint(d.calls, ==, 2);
    for (unsigned i = 0; i < 16; i++)
        g_assert_cmphex(d.data[i], ==, 0x10 + i);
    th_machine_free(m);
}

static void test_decrement(void)
{
    static Dev d;
    TessMachine *m = machine(&d, 1);
    fill_pattern(&d, 5);
    d.to_memory = true;
    program(m, 1, 0x64, 0x2010, 15, 0x00);      /* single, write, decrement */
    d.ops->set_drq(d.dma, 1, true);
    for (unsigned i = 0; i < 16; i++)
        g_assert_cmphex(mem(m, 0x2010 - i), ==, d.data[i]);
    g_assert_cmphex(mem(m, 0x2000), ==, 0);
    g_assert_cmphex(read_reg16(m, 0x02, 0x0C), ==, 0x2000);
    th_machine_free(m);
}

static void test_demand_pause(void)
{
    static Dev d;
    TessMachine *m = machine(&d, 1);
    fill_pattern(&d, 2);
    d.to_memory = true;
    d.chunk = 4;
    d.drop_after = 8;
    program(m, 1, 0x04, 0x4000, 15, 0x00);      /* demand, write */
    d.ops->set_drq(d.dma, 1, true);
    g_assert_cmpuint(d.calls, ==, 2);
    g_assert_cmphex(read_reg16(m, 0x03, 0x0C), ==, 15 - 8);
    g_assert_cmphex(read_reg16(m, 0x02, 0x0C), ==, 0x4008);
    d.drop_after = -1;
    d.drop_at_end = true;
    d.ops->set_drq(d.dma, 1, true);
    g_assert_cmpuint(d.calls, ==, 4);
    for (unsigned i = 0; i < 16; i++)
        g_assert_cmphex(mem(m, 0x4000 + i), ==, d.data[i]);
    th_machine_free(m);
}

static void test_block_mode(void)
{
    static Dev d;
    TessMachine *m = machine(&d, 1);
    fill_pattern(&d, 4);
    d.to_memory = true;
    d.chunk = 4;
    d.drop_first = true;                        /* DREQ only until DACK */
    program(m, 1, 0x84, 0x4100, 31, 0x00);      /* block, write */
    d.ops->set_drq(d.dma, 1, true);
    g_assert_cmpuint(d.calls, ==, 8);
    for (unsigned i = 0; i < 32; i++)
        g_assert_cmphex(mem(m, 0x4100 + i), ==, d.data[i]);
    th_machine_free(m);
}

static void test_mask_and_cascade(void)
{
    static Dev d;
    TessMachine *m = machine(&d, 2);
    fill_pattern(&d, 6);
    d.to_memory = true;
    d.drop_at_end = true;
    th_outb(m, 0xD4, 0x04);                     /* mask DMA2 channel 4 */
    program(m, 2, 0x44, 0x6000, 15, 0x00);
    d.ops->set_drq(d.dma, 2, true);
    g_assert_cmpuint(d.calls, ==, 0);           /* DMA1 has no path to the bus */
    g_assert_cmphex(th_inb(m, 0x08), ==, 0x40); /* but the request shows */
    th_outb(m, 0x08, 0x04);                     /* controller disable */
    th_outb(m, 0xD4, 0x00);
    g_assert_cmpuint(d.calls, ==, 0);
    th_outb(m, 0x08, 0x00);
    g_assert_cmpuint(d.calls, ==, 1);
    g_assert_cmphex(mem(m, 0x600F), ==, d.data[15]);
    /* Write all mask bits, clear mask register. */
    th_outb(m, 0x0F, 0x0F);
    g_assert_cmphex(th_inb(m, 0x0F) & 0x0F, ==, 0x0F);
    th_outb(m, 0x0E, 0);
    g_assert_cmphex(th_inb(m, 0x0F) & 0x0F, ==, 0x00);
    th_machine_free(m);
}

static void test_outside_ram(void)
{
    static Dev d;
    TessMachine *m = machine(&d, 2);
    fill_pattern(&d, 8);
    d.to_memory = true;
    d.drop_first = true;
    /* 1 MiB of RAM: page 0x20 is 2 MiB, nothing there. */
    program(m, 2, 0x44, 0x0000, 255, 0x20);
    d.ops->set_drq(d.dma, 2, true);
    g_assert_cmpuint(d.calls, ==, 1);
    g_assert_cmphex(th_inb(m, 0x08) & 0x0F, ==, 0x00);  /* no TC: short transfer */
    d.to_memory = false;
    program(m, 2, 0x48, 0xFF00, 255, 0xFF);
    d.ops->set_drq(d.dma, 2, true);
    g_assert_cmpuint(d.calls, ==, 2);
    th_machine_free(m);
}

static void test_software_request(void)
{
    static Dev d;
    TessMachine *m = machine(&d, 2);
    for (unsigned i = 0; i < 8; i++)
        tess_mem_write(m, 0x3000 + i, 0x11, 1);
    /* Channel 0 has no device: a block-mode software request runs the
     * memory cycles with nothing driving the data bus. */
    program(m, 0, 0x84, 0x3000, 7, 0x00);
    th_outb(m, 0x09, 0x04);
    for (unsigned i = 0; i < 8; i++)
        g_assert_cmphex(mem(m, 0x3000 + i), ==, 0xFF);
    g_assert_cmphex(mem(m, 0x3008), ==, 0x00);
    g_assert_cmphex(th_inb(m, 0x08), ==, 0x01);

    /* Memory to memory: channel 0 source, channel 1 destination. */
    for (unsigned i = 0; i < 16; i++)
        tess_mem_write(m, 0x6000 + i, 0x30 + i, 1);
    program(m, 0, 0x88, 0x6000, 15, 0x00);
    th_outb(m, 0x0A, 0x05);                     /* channel 1 belongs to the device: mask */
    th_outb(m, 0x0B, 0x85);
    th_outb(m, 0x0C, 0);
    th_outb(m, 0x02, 0x00);
    th_outb(m, 0x02, 0x70);
    th_outb(m, 0x03, 15);
    th_outb(m, 0x03, 0);
    th_outb(m, 0x08, 0x01);                     /* memory-to-memory enable */
    th_outb(m, 0x09, 0x04);                     /* request channel 0 */
    for (unsigned i = 0; i < 16; i++)
        g_assert_cmphex(mem(m, 0x7000 + i), ==, 0x30 + i);
    g_assert_cmphex(th_inb(m, 0x0D), ==, 0x3F);    /* temporary register: last byte */
    th_machine_free(m);
}

/* 8237A, Request Register: software requests "are non-maskable and
 * subject to prioritization by the Priority Encoder network". */
static void test_software_request_masked(void)
{
    static Dev d;
    TessMachine *m = machine(&d, 2);
    for (unsigned i = 0; i < 9; i++)
        tess_mem_write(m, 0x3000 + i, 0x11, 1);
    program(m, 3, 0x84, 0x3000, 7, 0x00);       /* block, write, no device */
    th_outb(m, 0x0A, 0x07);                     /* mask channel 3 */
    g_assert_cmphex(th_inb(m, 0x0F) & 0x08, ==, 0x08);
    th_outb(m, 0x09, 0x07);                     /* request channel 3 */
    for (unsigned i = 0; i < 8; i++)
        g_assert_cmphex(mem(m, 0x3000 + i), ==, 0xFF);
    g_assert_cmphex(mem(m, 0x3008), ==, 0x11);
    g_assert_cmphex(th_inb(m, 0x08), ==, 0x08);    /* TC 3, request gone */
    g_assert_cmphex(read_reg16(m, 0x06, 0x0C), ==, 0x3008);
    g_assert_cmphex(read_reg16(m, 0x07, 0x0C), ==, 0xFFFF);
    g_assert_cmphex(th_inb(m, 0x0F) & 0x08, ==, 0x08);

    /* The mask still holds a hardware DREQ back. */
    d.to_memory = true;
    program(m, 2, 0x44, 0x4000, 15, 0x00);
    th_outb(m, 0x0A, 0x06);
    d.ops->set_drq(d.dma, 2, true);
    g_assert_cmpuint(d.calls, ==, 0);
    g_assert_cmphex(th_inb(m, 0x08), ==, 0x40);
    th_machine_free(m);
}

static void test_register_errors(void)
{
    static Dev d;
    TessMachine *m = machine(&d, 1);
    g_autoptr(GError) err = NULL;
    g_assert_false(d.ops->register_channel(d.dma, 4, dev_xfer, &d, &err));
    g_clear_error(&err);
    g_assert_false(d.ops->register_channel(d.dma, 1, dev_xfer, &d, &err));
    g_clear_error(&err);
    g_assert_false(d.ops->register_channel(d.dma, 8, dev_xfer, &d, &err));
    /* Spare page registers are plain storage; 0x80 is not ours. */
    th_outb(m, 0x84, 0x5A);
    g_assert_cmphex(th_inb(m, 0x84), ==, 0x5A);
    g_assert_null(tess_pio_owner(m, 0x80));
    th_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/dma8237/write-8bit", test_write_8bit);
    g_test_add_func("/dma8237/page-wrap", test_page_wrap);
    g_test_add_func("/dma8237/16bit", test_16bit);
    g_test_add_func("/dma8237/autoinit-read", test_autoinit_read);
    g_test_add_func("/dma8237/decrement", test_decrement);
    g_test_add_func("/dma8237/demand-pause", test_demand_pause);
    g_test_add_func("/dma8237/block-mode", test_block_mode);
    g_test_add_func("/dma8237/mask-cascade", test_mask_and_cascade);
    g_test_add_func("/dma8237/outside-ram", test_outside_ram);
    g_test_add_func("/dma8237/software-request", test_software_request);
    g_test_add_func("/dma8237/software-request-masked", test_software_request_masked);
    g_test_add_func("/dma8237/register-errors", test_register_errors);
    return g_test_run();
}
