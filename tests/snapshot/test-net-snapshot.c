/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Network backends across a snapshot (issue 13). A machine with a test
 * NIC on each kind of backend is saved and restored into a new machine:
 *   - shared (libslirp) keeps its DHCP leases: a client that had
 *     10.0.2.15 before the save is offered it again, and another client
 *     gets the next address (a fresh NAT would offer it .15); its NIC
 *     sees no link change;
 *   - switch, and a backend with no state table (tn-backend), present a
 *     cable re-plug: link down, then up;
 *   - none (no link) stays down without a change;
 *   - a DEC 21041 on a switch raises link fail, then link pass after its
 *     link test; one on shared networking neither;
 *   - a NAT state libslirp refuses (garbage, a newer libslirp state
 *     version) fails the backend's post_load with a message, never a crash.
 *
 * SNAP_ROM names a guest ROM for the bare machine (its CPU makes the
 * machine savable; it never runs here).
 */
#include "core.h"
#include "../net/tnic.h"

#include <string.h>
#include <glib/gstdio.h>

static const uint8_t mac_x[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t mac_y[6] = { 0x52, 0x54, 0x00, 0x65, 0x43, 0x21 };
static const uint8_t bcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

static TessMachine *net_machine(GError **err)
{
    const char *rom = g_getenv("SNAP_ROM");
    TessOverride o = { .id = "bios", .prop = "file", .value = (char *)rom };
    g_autoptr(GPtrArray) ov = g_ptr_array_new();
    g_ptr_array_add(ov, &o);
    TessLoadOptions lo = { .mopts = { .deterministic = true }, .overrides = ov };
    return tess_machine_load_string(
        th_registry(),
        "<machine base='bare'><memory size='1M'/>"
        "<device type='tn-nic' id='nat' mac='52:54:00:12:34:56'><net type='shared'/></device>"
        "<device type='tn-nic' id='sw' mac='52:54:00:00:00:0a'>"
        "<net type='switch' name='tess-netsnap'/></device>"
        "<device type='tn-nic' id='tb' mac='52:54:00:00:00:0b'><net type='tn-backend'/></device>"
        "<device type='tn-nic' id='off' mac='52:54:00:00:00:0c'><net type='none'/></device>"
        "</machine>", ".", &lo, err);
}

/* A DHCPDISCOVER from client `mac` (as its chaddr and source). */
static void dhcp_discover(TessMachine *m, const uint8_t mac[6], uint32_t xid)
{
    uint8_t f[14 + 20 + 8 + 300] = { 0 };
    uint8_t *ip = f + 14, *udp = ip + 20, *b = udp + 8;
    memcpy(f, bcast, 6);
    memcpy(f + 6, mac, 6);
    put16(f + 12, 0x0800);
    ip[0] = 0x45;
    put16(ip + 2, 20 + 8 + 300);
    ip[8] = 64;
    ip[9] = 17;
    memset(ip + 16, 0xFF, 4);
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2)
        sum += be16(ip + i);
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    put16(ip + 10, (uint16_t)~sum);
    put16(udp, 68);
    put16(udp + 2, 67);
    put16(udp + 4, 8 + 300);
    b[0] = 1;                           /* BOOTREQUEST, Ethernet, 6-byte address */
    b[1] = 1;
    b[2] = 6;
    memcpy(b + 4, &xid, 4);
    memcpy(b + 28, mac, 6);
    b[236] = 99; b[237] = 130; b[238] = 83; b[239] = 99;   /* magic cookie */
    b[240] = 53; b[241] = 1; b[242] = 1;                     /* DHCPDISCOVER */
    b[243] = 255;
    g_assert_cmpint(tess_net_port_send(tn_nic(m, "nat")->port, f, sizeof(f)), ==, TESS_NET_OK);
}

/* The last octet of the address offered to transaction xid; -1 if no offer. */
static int dhcp_offer(TessMachine *m, uint32_t xid)
{
    GPtrArray *rx = tn_nic(m, "nat")->rx;
    for (guint i = 0; i < rx->len; i++) {
        size_t n;
        const uint8_t *f = g_bytes_get_data(rx->pdata[i], &n);
        if (n < 14 + 20 + 8 + 240 || be16(f + 12) != 0x0800 || f[23] != 17)
            continue;
        const uint8_t *udp = f + 34, *b = udp + 8;
        uint32_t x;
        memcpy(&x, b + 4, 4);
        if (be16(udp) != 67 || b[0] != 2 || x != xid)
            continue;
        g_assert_cmpuint(b[16], ==, 10);            /* yiaddr 10.0.2.N */
        g_assert_cmpuint(b[17], ==, 0);
        g_assert_cmpuint(b[18], ==, 2);
        return b[19];
    }
    return -1;
}

static int lease(TessMachine *m, const uint8_t mac[6], uint32_t xid)
{
    dhcp_discover(m, mac, xid);
    /* slirp answers from slirp_input, on this thread; pump anyway in case
     * it ever queues */
    tn_pump_once(m, 0);
    return dhcp_offer(m, xid);
}

static char *save_tmp(TessMachine *m)
{
    g_autoptr(GError) err = NULL;
    char *path = NULL;
    int fd = g_file_open_tmp("tess-netsnap-XXXXXX", &path, &err);
    g_assert_no_error(err);
    close(fd);
    g_assert_true(tess_snapshot_save(m, path, &err));
    g_assert_no_error(err);
    return path;
}

static void test_backends(void)
{
    if (!g_getenv("SNAP_ROM")) {
        g_test_skip("SNAP_ROM not set");
        return;
    }
    g_autoptr(GError) err = NULL;
    TessMachine *a = net_machine(&err);
    g_assert_no_error(err);
    /* a fresh NAT offers the first address to whoever asks first */
    g_assert_cmpint(lease(a, mac_x, 0x1001), ==, 15);
    g_assert_cmpstr(tn_nic(a, "sw")->links->str, ==, "");
    g_autofree char *path = save_tmp(a);
    tess_machine_free(a);

    TessMachine *b = tess_snapshot_restore(th_registry(), path, NULL, &err);
    g_assert_no_error(err);
    g_assert_nonnull(b);
    /* the stateless backends: a cable pulled and plugged back */
    g_assert_cmpstr(tn_nic(b, "sw")->links->str, ==, "du");
    g_assert_cmpstr(tn_nic(b, "tb")->links->str, ==, "du");
    g_assert_true(tess_net_port_link_up(tn_nic(b, "sw")->port));
    g_assert_true(tess_net_port_link_up(tn_nic(b, "tb")->port));
    /* no cable: nothing to re-plug */
    g_assert_cmpstr(tn_nic(b, "off")->links->str, ==, "");
    g_assert_false(tess_net_port_link_up(tn_nic(b, "off")->port));
    /* the NAT carried on: no re-plug, and its leases are the saved ones */
    g_assert_cmpstr(tn_nic(b, "nat")->links->str, ==, "");
    g_assert_cmpint(lease(b, mac_y, 0x2002), ==, 16);
    g_assert_cmpint(lease(b, mac_x, 0x2003), ==, 15);
    /* ... and a second save of the restored machine carries them again */
    g_autofree char *path2 = save_tmp(b);
    tess_machine_free(b);
    TessMachine *c = tess_snapshot_restore(th_registry(), path2, NULL, &err);
    g_assert_no_error(err);
    g_assert_cmpint(lease(c, mac_y, 0x3004), ==, 16);
    tess_machine_free(c);

    /* control: without the snapshot the other client would get .15 */
    TessMachine *d = net_machine(&err);
    g_assert_no_error(err);
    g_assert_cmpint(lease(d, mac_y, 0x4005), ==, 15);
    tess_machine_free(d);
    g_unlink(path);
    g_unlink(path2);
}

/* The shared backend's post_load given a NAT state libslirp must refuse
 * (bytes of a snapshot: untrusted): an error naming the cause, the
 * backend unharmed (it still answers DHCP). */
static void set_field(TessDevice *dev, const char *name, const void *v, size_t n)
{
    for (const TessStateField *f = dev->cls->state->fields; f->name; f++)
        if (!strcmp(f->name, name)) {
            if (f->type == TESS_STATE_T_BLOB) {
                uint8_t *old, *nb = g_memdup2(v, n);
                uint32_t count = (uint32_t)n;
                memcpy(&old, (uint8_t *)dev + f->offset, sizeof(old));
                g_free(old);
                memcpy((uint8_t *)dev + f->offset, &nb, sizeof(nb));
                memcpy((uint8_t *)dev + f->size, &count, sizeof(count));
            } else {
                memcpy((uint8_t *)dev + f->offset, v, n);
            }
            return;
        }
    g_assert_not_reached();
}

static void test_bad_nat_state(void)
{
    if (!g_getenv("SNAP_ROM")) {
        g_test_skip("SNAP_ROM not set");
        return;
    }
    g_autoptr(GError) err = NULL;
    TessMachine *m = net_machine(&err);
    g_assert_no_error(err);
    TessDevice *be = tn_nic(m, "nat")->net[0];
    g_assert_cmpstr(be->cls->type, ==, "shared");
    const TessStateDesc *sd = be->cls->state;
    g_assert_nonnull(sd);
    g_assert_true(sd->pre_save(be, &err));
    g_assert_no_error(err);
    for (const TessStateField *f = sd->fields; f->name; f++)
        if (f->type == TESS_STATE_T_BLOB) {
            uint32_t n;
            memcpy(&n, (uint8_t *)be + f->size, 4);
            g_test_message("libslirp's state: %u bytes", n);
            g_assert_cmpuint(n, >, 0);
        }

    /* a newer libslirp wrote it */
    uint32_t v = 1000000;
    set_field(be, "nat_version", &v, 4);
    g_assert_false(sd->post_load(be, sd->version, &err));
    g_assert_nonnull(strstr(err->message, "libslirp state version 1000000"));
    g_clear_error(&err);

    /* garbage of several shapes */
    v = 4;
    uint8_t junk[600];
    for (unsigned shape = 0; shape < 4; shape++) {
        for (size_t i = 0; i < sizeof(junk); i++)
            junk[i] = shape == 0 ? 0xFF : shape == 1 ? 42 : shape == 2 ? (uint8_t)i : 0;
        set_field(be, "nat_version", &v, 4);
        set_field(be, "nat_state", junk, shape == 3 ? 3 : sizeof(junk));
        g_assert_false(sd->post_load(be, sd->version, &err));
        g_test_message("shape %u: %s", shape, err->message);
        g_assert_nonnull(strstr(err->message, "NAT"));
        g_clear_error(&err);
    }
    g_assert_cmpint(lease(m, mac_x, 0x5006), ==, 15);
    tess_machine_free(m);
}

/* ---- the DEC 21041 sees the re-plug ------------------------------------------- */

#define NIC_IO(k) (0xC100u + 0x100u * (k))
#define C5_LNP (1u << 4)
#define C5_LNF (1u << 12)
#define C5_AIS (1u << 15)

static uint32_t csr_r(TessMachine *m, unsigned k, unsigned n)
{
    return th_inl(m, NIC_IO(k) + 8 * n);
}

static void csr_w(TessMachine *m, unsigned k, unsigned n, uint32_t v)
{
    th_outl(m, NIC_IO(k) + 8 * n, v);
}

static void cfg_w(TessMachine *m, unsigned devfn, unsigned reg, uint32_t v, unsigned size)
{
    th_outl(m, 0xCF8, 0x80000000u | devfn << 8 | (reg & 0xFC));
    tess_pio_write(m, 0xCFC + (reg & 3), v, size);
}

/* Two 21041s, nic0 on a switch and nic1 on shared networking, set up as a
 * driver does (BARs, twisted pair with autonegotiation, LNP/LNF
 * interrupts enabled) until both links pass; saved; restored: nic0
 * reports a link fail at once and a link pass after the link test, with
 * its interrupt; nic1 carries on without either. */
static void test_dec21041(void)
{
    if (!g_getenv("SNAP_ROM")) {
        g_test_skip("SNAP_ROM not set");
        return;
    }
    const char *rom = g_getenv("SNAP_ROM");
    TessOverride o = { .id = "bios", .prop = "file", .value = (char *)rom };
    g_autoptr(GPtrArray) ov = g_ptr_array_new();
    g_ptr_array_add(ov, &o);
    TessLoadOptions lo = { .mopts = { .deterministic = true }, .overrides = ov };
    g_autoptr(GError) err = NULL;
    TessMachine *a = tess_machine_load_string(
        th_registry(),
        "<machine name='nic'><memory size='1M'/><cpu type='x86' model='pentium'/>"
        "<device type='bios-rom' id='bios'/>"
        "<device type='i440fx' id='pci'/><device type='piix3' id='isa'/>"
        "<device type='pic8259' id='pic0' port='0x20' role='master' slave='pic1'/>"
        "<device type='pic8259' id='pic1' port='0xa0' role='slave'/>"
        "<wire from='pic0.int' to='cpu.intr'/><wire from='pic1.int' to='pic0.ir2'/>"
        "<wire from='isa.irq11' to='pic1.ir3'/>"
        "<device type='dec21041' id='nic0' devfn='0x18' mac='52:54:00:aa:bb:01'>"
        "<net type='switch' name='tess-netsnap-dec'/></device>"
        "<device type='dec21041' id='nic1' devfn='0x20' mac='52:54:00:aa:bb:02'>"
        "<net type='shared'/></device>"
        "</machine>", ".", &lo, &err);
    g_assert_no_error(err);
    for (unsigned r = 0x60; r < 0x64; r++)
        cfg_w(a, 0x08, r, 11, 1);                   /* PIRQs to IRQ 11 */
    for (unsigned k = 0; k < 2; k++) {
        unsigned devfn = 0x18 + 8 * k;
        cfg_w(a, devfn, 0x10, NIC_IO(k), 4);
        cfg_w(a, devfn, 0x04, 0x0005, 2);           /* I/O decoding, bus master */
        csr_w(a, k, 7, C5_LNP | C5_LNF | C5_AIS);
        csr_w(a, k, 14, 0xFFFF);                    /* twisted pair, autonegotiation */
        csr_w(a, k, 15, 0x0008);
        csr_w(a, k, 13, 0xEF01);
    }
    th_advance(a, 2000000);
    for (unsigned k = 0; k < 2; k++) {
        g_assert_cmphex(csr_r(a, k, 5) & (C5_LNP | C5_LNF), ==, C5_LNP);
        g_assert_cmphex(csr_r(a, k, 12) & 6, ==, 0);          /* link: pass */
        csr_w(a, k, 5, C5_LNP | C5_LNF | C5_AIS);
        g_assert_cmphex(csr_r(a, k, 5) & (C5_LNP | C5_LNF), ==, 0);
    }
    g_autofree char *path = save_tmp(a);
    tess_machine_free(a);

    TessMachine *b = tess_snapshot_restore(th_registry(), path, NULL, &err);
    g_assert_no_error(err);
    g_assert_nonnull(b);
    /* the switch port: the cable was pulled ... */
    g_assert_cmphex(csr_r(b, 0, 5) & (C5_LNP | C5_LNF | C5_AIS), ==, C5_LNF | C5_AIS);
    g_assert_cmphex(csr_r(b, 0, 12) & 6, ==, 6);
    csr_w(b, 0, 5, C5_LNF | C5_AIS);
    /* ... and plugged back: link pass after the link test */
    th_advance(b, 2000000);
    g_assert_cmphex(csr_r(b, 0, 5) & (C5_LNP | C5_LNF | C5_AIS), ==, C5_LNP | C5_AIS);
    g_assert_cmphex(csr_r(b, 0, 12) & 6, ==, 0);
    /* shared networking kept its state: no link change at all */
    g_assert_cmphex(csr_r(b, 1, 5) & (C5_LNP | C5_LNF), ==, 0);
    g_assert_cmphex(csr_r(b, 1, 12) & 6, ==, 0);
    tess_machine_free(b);
    g_unlink(path);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tn_register();
    g_test_add_func("/net-snapshot/backends", test_backends);
    g_test_add_func("/net-snapshot/bad-nat-state", test_bad_nat_state);
    g_test_add_func("/net-snapshot/dec21041", test_dec21041);
    return g_test_run();
}
