/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers for the DEC 21041 tests: a capture/injection network backend
 * ("th-net", defined here, registered into the harness registry), a
 * PC-like test machine (i440FX, PIIX3 routing every PIRQ to IRQ 11, a
 * probe on IRQ 11, the NIC at 00:03.0), and the host side of the chip:
 * configuration space, CSRs, descriptors in guest RAM, Microwire.
 */
#ifndef NIC_TEST_H
#define NIC_TEST_H

#include "harness.h"
#include <tessera/net.h>

#include <string.h>

#define NIC_DEVFN   0x18
#define NIC_IO      0xC100u
#define NIC_MMIO    0xFEBF0000u
#define NIC_MAC     "52:54:00:aa:bb:01"

static const uint8_t nt_mac[6] = { 0x52, 0x54, 0x00, 0xAA, 0xBB, 0x01 };

/* ---- the test backend ------------------------------------------------------- */

typedef struct {
    TessDevice dev;
    bool link;
    TessNetPort *port;
    GPtrArray *sent;            /* GBytes * */
    unsigned busy;              /* answer BUSY to this many sends */
    unsigned busy_calls;
} ThNet;

static bool thnet_attach(TessDevice *be, TessNetPort *port, GError **err)
{
    ((ThNet *)be)->port = port;
    return true;
}

static void thnet_detach(TessDevice *be, TessNetPort *port)
{
    ((ThNet *)be)->port = NULL;
}

static TessNetTx thnet_send(TessDevice *be, const uint8_t *frame, size_t len)
{
    ThNet *t = (ThNet *)be;
    if (t->busy) {
        t->busy--;
        t->busy_calls++;
        return TESS_NET_BUSY;
    }
    g_ptr_array_add(t->sent, g_bytes_new(frame, len));
    return TESS_NET_OK;
}

static bool thnet_link_up(TessDevice *be)
{
    return ((ThNet *)be)->link;
}

static const TessNetBackendOps thnet_ops = {
    .size = sizeof(TessNetBackendOps),
    .attach = thnet_attach,
    .detach = thnet_detach,
    .send = thnet_send,
    .link_up = thnet_link_up,
};

static bool thnet_realize(TessDevice *dev, GError **err)
{
    ThNet *t = (ThNet *)dev;
    t->sent = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    return true;
}

static void thnet_unrealize(TessDevice *dev)
{
    ThNet *t = (ThNet *)dev;
    g_clear_pointer(&t->sent, g_ptr_array_unref);
}

static const TessPropSpec thnet_props[] = {
    TESS_PROP_BOOL_("link", ThNet, link, "on", "cable plugged in"),
    TESS_PROP_END
};

static const TessIfaceSpec thnet_ifaces[] = {
    { TESS_IFACE_NET, &thnet_ops },
    TESS_IFACE_END
};

static const TessDeviceClass thnet_class = {
    .type = "th-net",
    .kind = TESS_CLASS_BACKEND,
    .doc = "test network backend: captures frames, injects frames, link on/off",
    .instance_size = sizeof(ThNet),
    .props = thnet_props,
    .provides = thnet_ifaces,
    .realize = thnet_realize,
    .unrealize = thnet_unrealize,
};

static inline void nt_register(void)
{
    static bool done;
    if (done)
        return;
    g_autoptr(GError) err = NULL;
    if (!tess_registry_add_builtin(th_registry(), &thnet_class, &err))
        g_error("%s", err->message);
    done = true;
}

/* ---- the machine --------------------------------------------------------------- */

#define NT_BASE                                                                        \
    "<memory size='4M'/>"                                                              \
    "<device type='i440fx' id='pci'/>"                                                 \
    "<device type='piix3' id='isa'/>"                                                  \
    "<device type='pic8259' id='pic0' port='0x20' role='master' slave='pic1'/>"        \
    "<device type='pic8259' id='pic1' port='0xa0' role='slave'/>"                      \
    "<device type='th-probe' id='probe'/>"                                             \
    "<wire from='pic1.int' to='pic0.ir2'/>"                                            \
    "<wire from='isa.irq11' to='pic1.ir3'/>"                                           \
    "<wire from='isa.irq11' to='probe.in0'/>"

static inline void nt_cfg_write(TessMachine *m, unsigned devfn, unsigned reg, uint32_t v,
                                unsigned size)
{
    th_outl(m, 0xCF8, 0x80000000u | devfn << 8 | (reg & 0xFC));
    tess_pio_write(m, 0xCFC + (reg & 3), v, size);
}

static inline uint32_t nt_cfg_read(TessMachine *m, unsigned devfn, unsigned reg, unsigned size)
{
    th_outl(m, 0xCF8, 0x80000000u | devfn << 8 | (reg & 0xFC));
    return tess_pio_read(m, 0xCFC + (reg & 3), size);
}

/* What a BIOS does: route the PIRQs, place the BARs, enable decoding and
 * bus mastering. */
static inline void nt_enable(TessMachine *m)
{
    for (unsigned r = 0x60; r < 0x64; r++)
        nt_cfg_write(m, 0x08, r, 11, 1);
    nt_cfg_write(m, NIC_DEVFN, 0x10, NIC_IO, 4);
    nt_cfg_write(m, NIC_DEVFN, 0x14, NIC_MMIO, 4);
    nt_cfg_write(m, NIC_DEVFN, 0x04, 0x0007, 2);
}

/* A machine with the NIC and `net` inside it (e.g. "<net type='th-net'/>"). */
static inline TessMachine *nt_machine_net(const char *net, const char *nic_attrs)
{
    nt_register();
    g_autofree char *xml = g_strdup_printf(
        NT_BASE "<device type='dec21041' id='nic0' devfn='0x18' mac='" NIC_MAC "' %s>%s</device>",
        nic_attrs ? nic_attrs : "", net ? net : "");
    TessMachine *m = th_machine(xml);
    nt_enable(m);
    return m;
}

static inline TessMachine *nt_machine(void)
{
    return nt_machine_net("<net type='th-net'/>", NULL);
}

static inline ThNet *nt_backend(TessMachine *m)
{
    TessDevice *d = tess_machine_device(m, "nic0.net");
    g_assert_nonnull(d);
    g_assert_true(d->cls == &thnet_class);
    return (ThNet *)d;
}

static inline bool nt_irq(TessMachine *m)
{
    return th_probe_level(m, "probe", 0);
}

/* ---- CSRs ---------------------------------------------------------------------- */

static inline uint32_t csr_r(TessMachine *m, unsigned n)
{
    return th_inl(m, NIC_IO + 8 * n);
}

static inline void csr_w(TessMachine *m, unsigned n, uint32_t v)
{
    th_outl(m, NIC_IO + 8 * n, v);
}

/* ---- guest memory --------------------------------------------------------------- */

static inline void mem_w32(TessMachine *m, uint32_t a, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    g_assert_true(tess_dma_write(m, a, b, 4, NULL));
}

static inline uint32_t mem_r32(TessMachine *m, uint32_t a)
{
    uint8_t b[4];
    g_assert_true(tess_dma_read(m, a, b, 4, NULL));
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static inline void mem_wr(TessMachine *m, uint32_t a, const void *p, size_t n)
{
    g_assert_true(tess_dma_write(m, a, p, n, NULL));
}

static inline void mem_rd(TessMachine *m, uint32_t a, void *p, size_t n)
{
    g_assert_true(tess_dma_read(m, a, p, n, NULL));
}

static inline void desc_set(TessMachine *m, uint32_t a, uint32_t d0, uint32_t d1, uint32_t d2,
                            uint32_t d3)
{
    mem_w32(m, a, d0);
    mem_w32(m, a + 4, d1);
    mem_w32(m, a + 8, d2);
    mem_w32(m, a + 12, d3);
}

/* ---- the SIA: bring the 10BASE-T link up as de2104x does -------------------------- */

static inline void nt_link_up(TessMachine *m)
{
    csr_w(m, 13, 0);
    csr_w(m, 14, 0x7F3F);
    csr_w(m, 15, 0x0008);
    csr_w(m, 13, 0xEF01);
    th_advance(m, 2000000);
}

/* ---- Microwire, exactly as Linux's de2104x bit-bangs it -------------------------- */

static inline unsigned nt_srom_read(TessMachine *m, unsigned location, unsigned addr_len)
{
    const uint32_t ENB = 0x4800 | 1, CLK = 2, DW = 4, DR = 8;
    unsigned retval = 0;
    unsigned cmd = location | (6u << addr_len);
    csr_w(m, 9, ENB & ~1u);
    csr_w(m, 9, ENB);
    for (int i = 4 + (int)addr_len; i >= 0; i--) {
        uint32_t d = (cmd & (1u << i)) ? DW : 0;
        csr_w(m, 9, ENB | d);
        csr_r(m, 9);
        csr_w(m, 9, ENB | d | CLK);
        csr_r(m, 9);
        retval = (retval << 1) | ((csr_r(m, 9) & DR) ? 1 : 0);
    }
    csr_w(m, 9, ENB);
    for (int i = 16; i > 0; i--) {
        csr_w(m, 9, ENB | CLK);
        retval = (retval << 1) | ((csr_r(m, 9) & DR) ? 1 : 0);
        csr_w(m, 9, ENB);
    }
    csr_w(m, 9, ENB & ~1u);
    return retval;
}

/* Clock `nbits` of `v` (MSB first) into the part with CS high. */
static inline void nt_srom_bits(TessMachine *m, uint32_t v, unsigned nbits)
{
    const uint32_t ENB = 0x4800 | 1, CLK = 2, DW = 4;
    for (int i = (int)nbits - 1; i >= 0; i--) {
        uint32_t d = (v & (1u << i)) ? DW : 0;
        csr_w(m, 9, ENB | d);
        csr_w(m, 9, ENB | d | CLK);
    }
    csr_w(m, 9, ENB);
}

static inline void nt_srom_deselect(TessMachine *m)
{
    csr_w(m, 9, 0x4800);
}

/* ---- frames --------------------------------------------------------------------- */

static inline size_t nt_frame(uint8_t *f, const uint8_t dst[6], size_t len, uint8_t seed)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, "\x02\x00\x00\x00\x00\x09", 6);
    f[12] = 0x08;
    f[13] = 0x00;
    for (size_t i = 14; i < len; i++)
        f[i] = (uint8_t)(seed + i * 7);
    return len;
}

static inline uint32_t nt_crc(const uint8_t *p, size_t len)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ ((crc & 1) ? 0xEDB88320u : 0);
    }
    return crc;
}

#endif
