/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PIIX3 tests: function 0 header, PIRQ routing from a PCI function's
 * INTx# to ISA IRQ lines, ELCR into the PICs, port 92h.
 */
#include "harness.h"
#include "pci-test-fn.h"

/* A stand-in for the 8259s: eight recorded inputs and a runtime `elcr`. */
typedef struct FakePic {
    TessDevice dev;
    uint64_t elcr;
    unsigned elcr_sets;
    bool ir[8];
} FakePic;

static void fp_set(TessDevice *dev, unsigned n, bool level)
{
    ((FakePic *)dev)->ir[n] = level;
}

static void fp_prop_changed(TessDevice *dev, const TessPropSpec *p)
{
    ((FakePic *)dev)->elcr_sets++;
}

static bool fp_realize(TessDevice *dev, GError **err) { return true; }

static const TessPropSpec fp_props[] = {
    { .name = "elcr", .type = TESS_PROP_UINT, .offset = offsetof(FakePic, elcr), .def = "0",
      .umin = 0, .umax = 0xFF, .flags = TESS_PROP_F_RUNTIME, .doc = "level-triggered inputs" },
    TESS_PROP_END
};
static const TessLineSpec fp_lines[] = { TESS_LINE_IN_("ir", 8, fp_set, "inputs"), TESS_LINE_END };
static const TessDeviceClass fp_class = {
    .type = "test-pic", .kind = TESS_CLASS_DEVICE, .doc = "records inputs and ELCR",
    .instance_size = sizeof(FakePic), .props = fp_props, .lines = fp_lines,
    .realize = fp_realize, .prop_changed = fp_prop_changed,
};

static void register_all(void)
{
    g_autoptr(GError) err = NULL;
    tfn_register();
    if (!tess_registry_lookup(th_registry(), fp_class.type))
        g_assert_true(tess_registry_add_builtin(th_registry(), &fp_class, &err));
}

#define PC_BASE                                                             \
    "<device type='i440fx' id='pci'/>"                                      \
    "<device type='piix3' id='isa'/>"                                       \
    "<device type='test-pic' id='pic0'/>"                                   \
    "<device type='test-pic' id='pic1'/>"                                   \
    "<wire from='isa.irq3' to='pic0.ir3'/>"  "<wire from='isa.irq4' to='pic0.ir4'/>"   \
    "<wire from='isa.irq5' to='pic0.ir5'/>"  "<wire from='isa.irq6' to='pic0.ir6'/>"   \
    "<wire from='isa.irq7' to='pic0.ir7'/>"  "<wire from='isa.irq9' to='pic1.ir1'/>"   \
    "<wire from='isa.irq10' to='pic1.ir2'/>" "<wire from='isa.irq11' to='pic1.ir3'/>"  \
    "<wire from='isa.irq12' to='pic1.ir4'/>" "<wire from='isa.irq14' to='pic1.ir6'/>"  \
    "<wire from='isa.irq15' to='pic1.ir7'/>"

static FakePic *pic(TessMachine *m, const char *id)
{
    return (FakePic *)tess_machine_device(m, id);
}

/* ISA IRQ n as the PICs see it. */
static bool isa_irq(TessMachine *m, unsigned n)
{
    return n < 8 ? pic(m, "pic0")->ir[n] : pic(m, "pic1")->ir[n - 8];
}

static unsigned isa_irqs_high(TessMachine *m)
{
    unsigned mask = 0;
    for (unsigned n = 0; n < 16; n++)
        if (isa_irq(m, n))
            mask |= 1u << n;
    return mask;
}

static void test_header(void)
{
    register_all();
    TessMachine *m = th_machine(PC_BASE);

    g_assert_cmphex(cfg_read(m, 0x08, 0x00, 4), ==, 0x70008086);
    g_assert_cmphex(cfg_read(m, 0x08, 0x08, 4), ==, 0x06010000);
    g_assert_cmphex(cfg_read(m, 0x08, 0x0E, 1), ==, 0x80);
    g_assert_cmphex(cfg_read(m, 0x08, 0x60, 4), ==, 0x80808080);
    g_assert_cmphex(cfg_read(m, 0x08, 0x4C, 1), ==, 0x4D);
    g_assert_cmphex(cfg_read(m, 0x08, 0x4E, 1), ==, 0x03);
    g_assert_cmphex(cfg_read(m, 0x08, 0x69, 1), ==, 0x02);
    g_assert_cmphex(cfg_read(m, 0x08, 0x76, 2), ==, 0x0C0C);
    /* PIRQRC bits 6:4 are reserved. */
    cfg_write(m, 0x08, 0x60, 0xFF, 1);
    g_assert_cmphex(cfg_read(m, 0x08, 0x60, 1), ==, 0x8F);
    th_machine_free(m);
}

static void test_pirq_routing(void)
{
    register_all();
    TessMachine *m = th_machine(PC_BASE
                                "<device type='test-pci-fn' id='a' devfn='0x10' pin='1'/>"
                                "<device type='test-pci-fn' id='b' devfn='0x18' pin='4'/>");
    TestFn *a = tfn_get(m, "a"), *b = tfn_get(m, "b");

    /* Slot 2 INTA# is PIRQB#; slot 3 INTD# is PIRQ[(3 + 2) & 3] = PIRQB# too. */
    a->ops->set_irq(a->fn, true);
    g_assert_cmphex(isa_irqs_high(m), ==, 0);          /* routing disabled at reset */

    cfg_write(m, 0x08, 0x61, 10, 1);
    g_assert_cmphex(isa_irqs_high(m), ==, 1u << 10);
    /* Re-steering moves the level. */
    cfg_write(m, 0x08, 0x61, 11, 1);
    g_assert_cmphex(isa_irqs_high(m), ==, 1u << 11);
    /* Shared PIRQ: wired-OR of both functions. */
    b->ops->set_irq(b->fn, true);
    a->ops->set_irq(a->fn, false);
    g_assert_cmphex(isa_irqs_high(m), ==, 1u << 11);
    b->ops->set_irq(b->fn, false);
    g_assert_cmphex(isa_irqs_high(m), ==, 0);

    /* Two PIRQs on one IRQ. */
    a->ops->set_irq(a->fn, true);                      /* PIRQB */
    cfg_write(m, 0x08, 0x60, 11, 1);                   /* PIRQA -> 11 as well */
    g_assert_cmphex(isa_irqs_high(m), ==, 1u << 11);
    /* IRQROUTEN disable bit. */
    cfg_write(m, 0x08, 0x61, 0x80 | 11, 1);
    g_assert_cmphex(isa_irqs_high(m), ==, 0);
    /* Reserved IRQ numbers (0, 1, 2, 8, 13) route nowhere. */
    static const unsigned reserved[] = { 0, 1, 2, 8, 13 };
    for (unsigned i = 0; i < G_N_ELEMENTS(reserved); i++) {
        cfg_write(m, 0x08, 0x61, reserved[i], 1);
        g_assert_cmphex(isa_irqs_high(m), ==, 0);
    }
    /* Every valid IRQ is reachable. */
    static const unsigned valid[] = { 3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15 };
    for (unsigned i = 0; i < G_N_ELEMENTS(valid); i++) {
        cfg_write(m, 0x08, 0x61, valid[i], 1);
        g_assert_cmphex(isa_irqs_high(m), ==, 1u << valid[i]);
    }
    a->ops->set_irq(a->fn, false);
    g_assert_cmphex(isa_irqs_high(m), ==, 0);
    th_machine_free(m);
}

static void test_elcr(void)
{
    register_all();
    TessMachine *m = th_machine(PC_BASE);
    FakePic *p0 = pic(m, "pic0"), *p1 = pic(m, "pic1");

    g_assert_cmphex(th_inb(m, 0x4D0), ==, 0);
    g_assert_cmphex(th_inb(m, 0x4D1), ==, 0);
    /* What SeaBIOS writes for PIRQs on 10, 10, 11, 11. */
    th_outb(m, 0x4D0, 0x00);
    th_outb(m, 0x4D1, 0x0C);
    g_assert_cmphex(th_inb(m, 0x4D1), ==, 0x0C);
    g_assert_cmphex(p1->elcr, ==, 0x0C);
    g_assert_cmphex(p0->elcr, ==, 0x00);
    g_assert_cmpuint(p1->elcr_sets, >=, 1);
    /* IRQ0-2, 8 and 13 are always edge. */
    th_outb(m, 0x4D0, 0xFF);
    th_outb(m, 0x4D1, 0xFF);
    g_assert_cmphex(th_inb(m, 0x4D0), ==, 0xF8);
    g_assert_cmphex(th_inb(m, 0x4D1), ==, 0xDE);
    g_assert_cmphex(p0->elcr, ==, 0xF8);
    g_assert_cmphex(p1->elcr, ==, 0xDE);

    tess_machine_reset(m);
    g_assert_cmphex(th_inb(m, 0x4D0), ==, 0);
    g_assert_cmphex(p0->elcr, ==, 0);
    g_assert_cmphex(p1->elcr, ==, 0);
    th_machine_free(m);

    /* Other PIC ids by property. */
    m = th_machine("<device type='i440fx' id='pci'/>"
                   "<device type='piix3' id='isa' pic-master='m' pic-slave='s'/>"
                   "<device type='test-pic' id='m'/><device type='test-pic' id='s'/>");
    th_outb(m, 0x4D1, 0x06);
    g_assert_cmphex(pic(m, "s")->elcr, ==, 0x06);
    th_machine_free(m);
}

static void test_port92(void)
{
    register_all();
    TessMachine *m = th_machine(PC_BASE "<device type='th-probe' id='probe'/>"
                                "<wire from='isa.a20' to='probe.in0'/>");

    g_assert_cmphex(th_inb(m, 0x92), ==, 0);
    g_assert_false(th_probe_level(m, "probe", 0));
    th_outb(m, 0x92, 0x02);
    g_assert_true(th_probe_level(m, "probe", 0));
    g_assert_cmphex(th_inb(m, 0x92), ==, 0x02);
    g_assert_false(m->reset_requested);
    th_outb(m, 0x92, 0x00);
    g_assert_false(th_probe_level(m, "probe", 0));

    /* FAST_INIT: only the 0 -> 1 transition resets. */
    th_outb(m, 0x92, 0x03);
    g_assert_true(m->reset_requested);
    m->reset_requested = false;
    th_outb(m, 0x92, 0x03);
    g_assert_false(m->reset_requested);
    tess_machine_reset(m);
    g_assert_cmphex(th_inb(m, 0x92), ==, 0);
    g_assert_false(th_probe_level(m, "probe", 0));
    th_machine_free(m);
}

static void test_fuzz(void)
{
    register_all();
    TessMachine *m = th_machine(PC_BASE
                                "<device type='test-pci-fn' id='a' devfn='0x10' pin='1'/>"
                                "<device type='test-pci-fn' id='b' devfn='0x18' pin='3'/>");
    TestFn *fns[2] = { tfn_get(m, "a"), tfn_get(m, "b") };
    GRand *rnd = g_rand_new_with_seed(0x91173);
    for (unsigned i = 0; i < 50000; i++) {
        uint32_t v = g_rand_int(rnd);
        unsigned size = 1u << g_rand_int_range(rnd, 0, 3);
        switch (g_rand_int_range(rnd, 0, 6)) {
        case 0: {
            unsigned reg = (unsigned)g_rand_int_range(rnd, 0, 256) & ~(size - 1);
            cfg_write(m, 0x08, reg, v, size);
            break;
        }
        case 1:
            cfg_read(m, 0x08, (unsigned)g_rand_int_range(rnd, 0, 256) & ~(size - 1), size);
            break;
        case 2:
            tess_pio_write(m, 0x4D0 + (v & 1), v >> 8, 1);
            break;
        case 3:
            th_outb(m, 0x92, (uint8_t)(v >> 8));
            m->reset_requested = false;
            break;
        case 4:
            fns[v & 1]->ops->set_irq(fns[v & 1]->fn, (v >> 1) & 1);
            break;
        default:
            tess_pio_read(m, (v & 1) ? 0x92 : 0x4D0 + ((v >> 1) & 1), 1);
            break;
        }
    }
    g_rand_free(rnd);
    /* Routing is still consistent with the registers afterwards. */
    fns[0]->ops->set_irq(fns[0]->fn, false);
    fns[1]->ops->set_irq(fns[1]->fn, false);
    g_assert_cmphex(isa_irqs_high(m), ==, 0);
    cfg_write(m, 0x08, 0x61, 5, 1);
    fns[0]->ops->set_irq(fns[0]->fn, true);
    cfg_write(m, 0x10, 0x04, 0, 2);
    g_assert_true(isa_irq(m, 5));
    th_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/piix3/header", test_header);
    g_test_add_func("/piix3/pirq-routing", test_pirq_routing);
    g_test_add_func("/piix3/elcr", test_elcr);
    g_test_add_func("/piix3/port92", test_port92);
    g_test_add_func("/piix3/fuzz", test_fuzz);
    return g_test_run();
}
