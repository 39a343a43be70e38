/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Machine files: schema and semantic errors with file:line, hostile input,
 * base inheritance, overrides, slots, wires, realize rollback. */
#include "core.h"

#include <string.h>
#include <sys/resource.h>
#include <glib/gstdio.h>

/* ---- builtin test classes ---------------------------------------------- */

typedef struct {
    TessDevice dev;
    uint64_t port;
    char *label;
    char *file;
    TessSignal *out;
    bool in_level;
    TessDevice *net;
} TcDev;

static uint64_t tc_read(void *o, uint64_t off, unsigned size) { return 0x5A; }
static void tc_write(void *o, uint64_t off, uint64_t v, unsigned size) {}
static const TessIoOps tc_ops = { .read = tc_read, .write = tc_write, .widths = TESS_W8 };

static bool tc_realize(TessDevice *dev, GError **err)
{
    TcDev *t = (TcDev *)dev;
    return !t->port || tess_pio_map(dev, (uint32_t)t->port, 4, &tc_ops, t, err);
}

static void tc_in(TessDevice *dev, unsigned n, bool level)
{
    ((TcDev *)dev)->in_level = level;
}

static const TessPropSpec tc_props[] = {
    TESS_PROP_UINT_("port", TcDev, port, "0", 0, 0xFFFF, "port base (0: none)"),
    TESS_PROP_STRING_("label", TcDev, label, "plain", "a label"),
    TESS_PROP_PATH_("file", TcDev, file, NULL, "a file"),
    TESS_PROP_END,
};
static const TessLineSpec tc_lines[] = {
    TESS_LINE_OUT_("out", 1, TcDev, out, "an output"),
    TESS_LINE_IN_("in", 1, tc_in, "an input"),
    TESS_LINE_END,
};
static const TessSlotSpec tc_slots[] = {
    { .element = "net", .iface = "tc-net", .max = 1, .offset = offsetof(TcDev, net),
      .doc = "network backend" },
    TESS_SLOT_END,
};
static const TessDeviceClass tc_class = {
    .type = "tc-dev", .kind = TESS_CLASS_DEVICE, .doc = "config test device",
    .instance_size = sizeof(TcDev), .props = tc_props, .lines = tc_lines,
    .slots = tc_slots, .realize = tc_realize,
};

typedef struct { TessDevice dev; int mode; bool realized; } TcNet;
static const char *const tc_modes[] = { "shared", "switch", NULL };
static bool tcnet_realize(TessDevice *dev, GError **err)
{
    ((TcNet *)dev)->realized = true;
    return true;
}
static const TessPropSpec tcnet_props[] = {
    TESS_PROP_ENUM_("mode", TcNet, mode, "shared", tc_modes, "mode"), TESS_PROP_END };
static const TessIfaceSpec tcnet_ifaces[] = { { "tc-net", &tc_modes }, TESS_IFACE_END };
static const TessDeviceClass tcnet_class = {
    .type = "tc-net", .kind = TESS_CLASS_BACKEND, .doc = "config test backend",
    .instance_size = sizeof(TcNet), .props = tcnet_props, .provides = tcnet_ifaces,
    .realize = tcnet_realize,
};

/* Claims a port, a memory region and a timer, then fails. */
static void tcfail_timer(void *o) {}
static bool tcfail_realize(TessDevice *dev, GError **err)
{
    if (!tess_pio_map(dev, 0x100, 8, &tc_ops, dev, err))
        return false;
    TessMemRegion *r = tess_mem_ram_new(dev, "scratch", 4096, err);
    if (!r || !tess_mem_map(r, 0x200000, TESS_PRIO_DEVICE, TESS_MAP_RW, err))
        return false;
    TessTimer *t = tess_timer_new(dev, tcfail_timer, dev);
    tess_timer_arm(t, 1000);
    g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_FAILED, "the widget is missing");
    return false;
}
static const TessDeviceClass tcfail_class = {
    .type = "tc-fail", .kind = TESS_CLASS_DEVICE, .doc = "fails to realize",
    .instance_size = sizeof(TessDevice), .realize = tcfail_realize,
};

/* Two CPU classes for the fallback test: one that cannot run here, one
 * that records its "intr" input. */
typedef struct { TessDevice dev; bool intr; char *where; } TcCpu;
static TessCpuExit tccpu_run(TessDevice *d, TessCpuRun *r) { return TESS_CPU_EXIT_HALTED; }
static uint64_t tccpu_icount(TessDevice *d) { return 0; }
static const TessCpuOps tccpu_ops = { .run = tccpu_run, .icount = tccpu_icount };
static const TessIfaceSpec tccpu_ifaces[] = { { TESS_IFACE_CPU, &tccpu_ops }, TESS_IFACE_END };
static void tccpu_intr(TessDevice *d, unsigned n, bool level) { ((TcCpu *)d)->intr = level; }
static const TessLineSpec tccpu_lines[] = { TESS_LINE_IN_("intr", 1, tccpu_intr, "INTR"),
                                            TESS_LINE_END };
static bool tccpu_ok(TessDevice *d, GError **e) { return true; }
static bool tccpu_broken(TessDevice *d, GError **e)
{
    g_set_error(e, TESS_DEVICE_ERROR, TESS_ERROR_UNSUPPORTED, "no such accelerator here");
    return false;
}
static const TessPropSpec tchw_props[] = {
    TESS_PROP_STRING_("where", TcCpu, where, "/dev/accel", "accelerator device"), TESS_PROP_END };
static const TessDeviceClass tchw_class = {
    .type = "tc-hwcpu", .kind = TESS_CLASS_CPU, .instance_size = sizeof(TcCpu),
    .props = tchw_props, .lines = tccpu_lines, .provides = tccpu_ifaces, .realize = tccpu_broken };
static const TessDeviceClass tcsw_class = {
    .type = "tc-swcpu", .kind = TESS_CLASS_CPU, .instance_size = sizeof(TcCpu),
    .lines = tccpu_lines, .provides = tccpu_ifaces, .realize = tccpu_ok };

static TessRegistry *reg;
static char *tmpdir;

static char *write_file(const char *name, const char *text)
{
    char *path = g_build_filename(tmpdir, name, NULL);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    return path;
}

static TessMachine *load(const char *path, GError **err)
{
    TessLoadOptions lo = { .mopts = { .deterministic = true } };
    return tess_machine_load(reg, path, &lo, err);
}

static void expect_fail(const char *name, const char *xml, const char *fragment)
{
    g_autofree char *path = write_file(name, xml);
    g_autoptr(GError) err = NULL;
    TessMachine *m = load(path, &err);
    g_assert_null(m);
    g_assert_nonnull(err);
    if (!strstr(err->message, fragment))
        g_error("error '%s' lacks '%s'", err->message, fragment);
}

/* ---- tests -------------------------------------------------------------- */

static void test_minimal(void)
{
    g_autofree char *p = write_file("min.xml",
        "<machine name='mini'>\n"
        "  <memory size='2M'/>\n"
        "  <device type='tc-dev' id='a' port='0x300' label='hello'/>\n"
        "</machine>\n");
    g_autoptr(GError) err = NULL;
    TessMachine *m = load(p, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(m->name, ==, "mini");
    g_assert_cmpuint(tess_machine_ram_size(m), ==, 2u << 20);
    TcDev *a = (TcDev *)tess_machine_device(m, "a");
    g_assert_cmpstr(a->label, ==, "hello");
    g_assert_cmphex(tess_pio_read(m, 0x301, 1), ==, 0x5A);
    g_assert_true(tess_pio_owner(m, 0x303) == &a->dev);
    tess_machine_free(m);
}

static void test_schema_errors(void)
{
    /* Unknown element on line 3. */
    expect_fail("s1.xml", "<machine>\n  <memory size='1M'/>\n  <gizmo/>\n</machine>\n",
                "s1.xml:3:");
    /* Bad attribute value on line 2 (size pattern). */
    expect_fail("s2.xml", "<machine>\n<memory size='lots'/>\n</machine>\n", "s2.xml:2:");
    /* Not well-formed. */
    expect_fail("s3.xml", "<machine>\n<device type='tc-dev' id='a'>\n</machine>\n",
                "not well-formed");
    /* Wrong root. */
    expect_fail("s4.xml", "<computer/>\n", "s4.xml:1:");
    /* Empty file. */
    expect_fail("s5.xml", "", "s5.xml");
    /* Device without id. */
    expect_fail("s6.xml", "<machine>\n\n<device type='tc-dev'/>\n</machine>", "s6.xml:3:");
    /* The schema's patterns (checked outside RelaxNG, config-schema.c):
     * each names the element, the attribute and the type. */
    expect_fail("s7.xml", "<machine>\n<device type='tc-dev' id='a b'/>\n</machine>",
                "s7.xml:2: <device>: id='a b' is not a valid ident");
    expect_fail("s8.xml", "<machine>\n<device type='TC' id='a'/>\n</machine>",
                "s8.xml:2: <device>: type='TC' is not a valid typename");
    expect_fail("s9.xml", "<machine>\n<device type='tc-dev' id='a'/>\n<wire from='a' to='a.in'/>\n</machine>",
                "s9.xml:3: <wire>: from='a' is not a valid lineref");
    expect_fail("s10.xml", "<machine>\n<memory size='1M' below-4g='0x12345678901234567'/>\n</machine>",
                "s10.xml:2: <memory>: below-4g='0x12345678901234567' is not a valid size");
    expect_fail("s11.xml", "<machine name='n'>\n<remove id='-x'/>\n</machine>",
                "s11.xml:2: <remove>: id='-x' is not a valid ident");
}

static void test_semantic_errors(void)
{
    expect_fail("e1.xml", "<machine>\n<device type='no-such-thing' id='x'/>\n</machine>",
                "e1.xml:2: unknown device type 'no-such-thing'");
    expect_fail("e2.xml", "<machine>\n<device type='tc-dev' id='x' colour='red'/>\n</machine>",
                "e2.xml:2: device 'x' (tc-dev) has no property 'colour'");
    expect_fail("e3.xml", "<machine>\n<device type='tc-dev' id='x' port='0x10000'/>\n</machine>",
                "e3.xml:2:");
    expect_fail("e4.xml",
                "<machine>\n<device type='tc-dev' id='x'/>\n<device type='tc-dev' id='x'/>\n</machine>",
                "e4.xml:3: device id 'x' is already used at line 2");
    expect_fail("e5.xml",
                "<machine>\n<device type='tc-dev' id='x'/>\n<wire from='x.nope' to='x.in'/>\n</machine>",
                "e5.xml:3: wire x.nope -> x.in: a tc-dev has no output line 'nope'");
    expect_fail("e6.xml",
                "<machine>\n<device type='tc-dev' id='x'/>\n<wire from='x.out' to='y.in'/>\n</machine>",
                "e6.xml:3: wire x.out -> y.in: no device 'y'");
    expect_fail("e7.xml", "<machine>\n<device type='tc-dev' id='x'><disk/></device>\n</machine>",
                "a tc-dev has no <disk> slot; it takes <net>");
    expect_fail("e8.xml", "<machine>\n<device type='tc-dev' id='x'><net type='tc-dev'/></device>\n</machine>",
                "does not provide 'tc-net'");
    expect_fail("e9.xml", "<machine>\n<cpu type='tc-dev'/>\n</machine>", "'tc-dev' is not a CPU");
    expect_fail("e10.xml", "<machine>\n<device type='tc-dev' id='x' port='99999999999999999999999'/>\n</machine>",
                "e10.xml:2:");
    g_autoptr(GError) err = NULL;
    g_assert_null(load("/nonexistent/machine.xml", &err));
    g_assert_nonnull(strstr(err->message, "/nonexistent/machine.xml"));
}

static void test_hostile(void)
{
    /* External entity: must be refused before anything reads the target. */
    g_autofree char *secret = write_file("secret.txt", "TOPSECRET");
    g_autofree char *xxe = g_strdup_printf(
        "<?xml version='1.0'?>\n<!DOCTYPE machine [<!ENTITY x SYSTEM 'file://%s'>]>\n"
        "<machine name='&x;'/>\n", secret);
    /* libxml2 itself refuses the reference (entities are never loaded);
     * either way the secret must not appear anywhere. */
    expect_fail("h1.xml", xxe, "h1.xml:");
    /* Billion laughs. */
    expect_fail("h2.xml",
                "<?xml version='1.0'?>\n<!DOCTYPE m [<!ENTITY a 'aaaaaaaaaa'>"
                "<!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>"
                "<!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'>]>\n<machine name='&c;'/>\n",
                "DOCTYPE");
    /* Slot elements nested too deep. */
    GString *deep = g_string_new("<machine>\n<device type='tc-dev' id='x'>");
    for (int i = 0; i < 8; i++)
        g_string_append(deep, "<net>");
    for (int i = 0; i < 8; i++)
        g_string_append(deep, "</net>");
    g_string_append(deep, "</device>\n</machine>\n");
    expect_fail("h3.xml", deep->str, "nested more than");
    g_string_free(deep, TRUE);
    /* Pathologically deep XML: the parser's own limit, no crash. */
    GString *deeper = g_string_new("<machine><device type='tc-dev' id='x'>");
    for (int i = 0; i < 5000; i++)
        g_string_append(deeper, "<net>");
    g_string_append(deeper, "</device></machine>");
    expect_fail("h4.xml", deeper->str, "h4.xml");
    g_string_free(deeper, TRUE);
    /* Huge memory size. */
    expect_fail("h5.xml", "<machine>\n<memory size='999999999999999999T'/>\n</machine>",
                "h5.xml:2:");
    expect_fail("h6.xml", "<machine>\n<memory size='1T'/>\n</machine>", "not possible");
    /* Over-long file. */
    char *big = g_malloc(2u << 20);
    memset(big, ' ', 2u << 20);
    memcpy(big, "<machine>", 9);
    big[(2u << 20) - 1] = 0;
    expect_fail("h7.xml", big, "larger than");
    g_free(big);
}

static void test_port_conflict_no_half_machine(void)
{
    expect_fail("c1.xml",
                "<machine>\n<device type='tc-dev' id='first' port='0x60'/>\n"
                "<device type='tc-dev' id='second' port='0x62'/>\n</machine>",
                "'first'");
    expect_fail("c2.xml",
                "<machine>\n<device type='tc-dev' id='first' port='0x60'/>\n"
                "<device type='tc-dev' id='second' port='0x62'/>\n</machine>",
                "'second'");
}

static void test_realize_rollback(void)
{
    TessMachine *m = tess_machine_new_empty(reg, "rb", &(TessMachineOptions){ .deterministic = true });
    g_assert_true(tess_mem_create_main_ram(m, 1u << 20, 1u << 20, NULL));
    g_autoptr(GError) err = NULL;
    TessDevice *d = tess_device_new(m, &tcfail_class, "failer", &err);
    g_ptr_array_add(m->devices, d);
    g_hash_table_insert(m->by_id, d->priv->id, d);
    g_assert_false(tess_device_realize(d, &err));
    g_assert_nonnull(strstr(err->message, "failer"));
    g_assert_nonnull(strstr(err->message, "widget"));
    /* Every claim is gone: the port, the memory window, the timer. */
    g_assert_null(tess_pio_owner(m, 0x100));
    g_assert_cmphex(tess_pio_read(m, 0x100, 1), ==, 0xFF);
    TessMemPage pg = tess_mem_page(m, 0x200000);
    g_assert_null(pg.read);
    g_assert_cmpuint(tess_clock_next_deadline(m), ==, UINT64_MAX);
    /* And the same resources can be claimed again. */
    TessDevice *d2 = tess_device_new(m, &tc_class, "again", NULL);
    g_ptr_array_add(m->devices, d2);
    g_hash_table_insert(m->by_id, d2->priv->id, d2);
    g_assert_true(tess_device_set_prop(d2, "port", "0x100", NULL));
    g_assert_true(tess_device_realize(d2, NULL));
    g_assert_true(tess_pio_owner(m, 0x100) == d2);
    tess_machine_free(m);
}

static void test_base_inheritance(void)
{
    g_autofree char *base = write_file("basebox.xml",
        "<machine name='basebox'>\n"
        "  <memory size='4M'/>\n"
        "  <device type='tc-dev' id='a' label='from-base' port='0x300'/>\n"
        "  <device type='tc-dev' id='b' label='doomed'/>\n"
        "  <device type='tc-dev' id='c' label='keeps'><net mode='switch'/></device>\n"
        "  <wire from='a.out' to='b.in'/>\n"
        "  <wire from='a.out' to='c.in'/>\n"
        "</machine>\n");
    g_autofree char *child = write_file("child.xml",
        "<machine name='child' base='basebox'>\n"
        "  <memory size='8M'/>\n"
        "  <device id='a' label='from-child' file='disk.img'/>\n"
        "  <remove id='b'/>\n"
        "  <device type='tc-dev' id='d' label='new'/>\n"
        "  <device id='c'><net mode='shared' type='tc-net'/></device>\n"
        "</machine>\n");
    g_autoptr(GError) err = NULL;
    TessMachine *m = load(child, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(m->name, ==, "child");
    g_assert_cmpuint(tess_machine_ram_size(m), ==, 8u << 20);
    TcDev *a = (TcDev *)tess_machine_device(m, "a");
    g_assert_cmpstr(a->label, ==, "from-child");
    g_assert_cmpuint(a->port, ==, 0x300);            /* inherited */
    g_autofree char *expect_file = g_build_filename(tmpdir, "disk.img", NULL);
    g_assert_cmpstr(a->file, ==, expect_file);       /* relative to child.xml */
    g_assert_null(tess_machine_device(m, "b"));
    g_assert_nonnull(tess_machine_device(m, "d"));
    TcDev *c = (TcDev *)tess_machine_device(m, "c");
    g_assert_nonnull(c->net);
    g_assert_cmpstr(c->net->id, ==, "c.net");
    g_assert_cmpint(((TcNet *)c->net)->mode, ==, 0); /* child's slot replaced base's */
    g_assert_true(((TcNet *)c->net)->realized);
    /* The surviving wire works; the one to the removed device is gone. */
    tess_signal_raise(a->out);
    g_assert_true(c->in_level);
    tess_machine_free(m);

    expect_fail("orphan.xml", "<machine base='nowhere'/>", "base machine 'nowhere' not found");
    expect_fail("loop.xml", "<machine base='loop'/>", "cycle");
    expect_fail("rm.xml", "<machine base='basebox'>\n<remove id='zz'/>\n</machine>",
                "rm.xml:2: <remove id='zz'>");
}

/* file loads, and its device a carries label want */
static void assert_label_a(const char *file, const char *want)
{
    g_autoptr(GError) err = NULL;
    TessMachine *m = load(file, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(((TcDev *)tess_machine_device(m, "a"))->label, ==, want);
    tess_machine_free(m);
}

/* A base machine's checked document is kept per process (config.c), keyed
 * by its text: an edited base is read and checked afresh, a broken one
 * still fails with its own file:line, and the kept copy serves the same
 * text again. */
static void test_base_edited(void)
{
    const char *base_ok = "<machine name='editbase'>\n"
                          "  <device type='tc-dev' id='a' label='first'/>\n"
                          "</machine>\n";
    g_autofree char *base = write_file("editbase.xml", base_ok);
    g_autofree char *child = write_file("editchild.xml",
                                        "<machine name='editchild' base='editbase'/>\n");
    for (int round = 0; round < 2; round++)
        assert_label_a(child, "first");
    g_free(write_file("editbase.xml", "<machine name='editbase'>\n"
                                      "  <device type='tc-dev' id='a' label='second'/>\n"
                                      "</machine>\n"));
    assert_label_a(child, "second");
    g_autoptr(GError) err = NULL;
    /* broken now: the schema sees it again */
    g_free(write_file("editbase.xml", "<machine name='editbase'>\n"
                                      "  <gizmo/>\n"
                                      "</machine>\n"));
    g_assert_null(load(child, &err));
    g_assert_nonnull(err);
    if (!strstr(err->message, "editbase.xml:2"))
        g_error("error '%s' lacks editbase.xml:2", err->message);
    g_clear_error(&err);
    /* and the first text again: served as before */
    g_free(write_file("editbase.xml", base_ok));
    assert_label_a(child, "first");
}

static void test_overrides(void)
{
    g_autofree char *p = write_file("ov.xml",
        "<machine>\n<device type='tc-dev' id='a'/>\n<device type='tc-dev' id='b'/>\n</machine>");
    g_autoptr(GPtrArray) ov = g_ptr_array_new_with_free_func((GDestroyNotify)tess_override_free);
    g_ptr_array_add(ov, tess_override_parse("a.label=set-on-cli", NULL));
    TessOverride *bytype = g_new0(TessOverride, 1);
    bytype->type = g_strdup("tc-dev");
    bytype->prop = g_strdup("port");
    bytype->value = g_strdup("0x500");
    bytype->first_only = true;
    g_ptr_array_add(ov, bytype);
    TessLoadOptions lo = { .overrides = ov };
    g_autoptr(GError) err = NULL;
    TessMachine *m = tess_machine_load(reg, p, &lo, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(((TcDev *)tess_machine_device(m, "a"))->label, ==, "set-on-cli");
    g_assert_cmpuint(((TcDev *)tess_machine_device(m, "a"))->port, ==, 0x500);
    g_assert_cmpuint(((TcDev *)tess_machine_device(m, "b"))->port, ==, 0);
    tess_machine_free(m);

    g_ptr_array_add(ov, tess_override_parse("zz.label=x", NULL));
    g_clear_error(&err);
    g_assert_null(tess_machine_load(reg, p, &lo, &err));
    g_assert_nonnull(strstr(err->message, "no device 'zz'"));

    g_clear_error(&err);
    g_assert_null(tess_override_parse("nodot=1", &err));
    g_assert_nonnull(strstr(err->message, "ID.PROPERTY=VALUE"));
}

static void test_cpu_fallback(void)
{
    /* The preferred CPU fails; the fallback takes over with the wires to
     * "cpu" intact, and ignores attributes only the preferred class has. */
    g_autofree char *p = write_file("fb.xml",
        "<machine>\n<cpu type='tc-hwcpu' fallback='tc-swcpu' where='/dev/null'/>\n"
        "<device type='tc-dev' id='src'/>\n<wire from='src.out' to='cpu.intr'/>\n</machine>");
    g_autoptr(GError) err = NULL;
    GLogLevelFlags old = g_log_set_always_fatal(G_LOG_FATAL_MASK);   /* the swap warns */
    TessMachine *m = load(p, &err);
    g_log_set_always_fatal(old);
    g_assert_no_error(err);
    g_assert_cmpstr(m->cpu->cls->type, ==, "tc-swcpu");
    g_assert_true(tess_machine_device(m, "cpu") == m->cpu);
    tess_signal_raise(((TcDev *)tess_machine_device(m, "src"))->out);
    g_assert_true(((TcCpu *)m->cpu)->intr);
    tess_machine_free(m);
    /* Without a fallback the failure is the machine's error. */
    expect_fail("nofb.xml", "<machine>\n<cpu type='tc-hwcpu'/>\n</machine>",
                "no such accelerator here");
}

static void test_validate_does_not_claim(void)
{
    g_autofree char *p = write_file("v.xml",
        "<machine>\n<device type='tc-dev' id='a' port='0x60'/>\n</machine>");
    TessLoadOptions lo = { .no_realize = true };
    TessMachine *m = tess_machine_load(reg, p, &lo, NULL);
    g_assert_nonnull(m);
    g_assert_null(tess_pio_owner(m, 0x60));
    tess_machine_free(m);
}

/* A dry realize claims against the scratch machine: the clash is found,
 * each error at its line, with or without an error list to collect in;
 * a machine that passes comes back realized dry, its claims in place. */
static void test_dry_realize(void)
{
    g_autofree char *p = write_file("dry.xml",
        "<machine>\n<device type='tc-dev' id='a' port='0x60'/>\n"
        "<device type='tc-dev' id='b' port='0x62'/>\n"
        "<device type='tc-dev' id='c' port='0x60'/>\n</machine>");
    g_autoptr(GError) err = NULL;
    TessLoadOptions lo = { .dry = true };
    g_assert_null(tess_machine_load(reg, p, &lo, &err));
    g_assert_nonnull(strstr(err->message, "dry.xml:3:"));
    g_clear_error(&err);
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
    lo.errors = errors;
    g_assert_null(tess_machine_load(reg, p, &lo, &err));
    g_assert_cmpuint(errors->len, ==, 2);
    g_assert_nonnull(strstr(errors->pdata[0], "dry.xml:3:"));
    g_assert_nonnull(strstr(errors->pdata[1], "dry.xml:4:"));
    g_clear_error(&err);

    g_autofree char *ok = write_file("dryok.xml",
        "<machine>\n<device type='tc-dev' id='a' port='0x60'/>\n</machine>");
    g_ptr_array_set_size(errors, 0);
    TessMachine *m = tess_machine_load(reg, ok, &lo, &err);
    g_assert_no_error(err);
    g_assert_true(tess_machine_dry_run(m));
    g_assert_nonnull(tess_pio_owner(m, 0x60));
    tess_machine_free(m);
}

static long peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* validate of a machine with the largest <memory> there is: the machine
 * is built to be checked, never run, so no page table is built for its
 * RAM (one would be 720 MB for 60 GiB, built at every validate). */
static void test_validate_huge_memory(void)
{
    g_autofree char *p = write_file("huge.xml", "<machine>\n<memory size='60G'/>\n</machine>");
    TessLoadOptions lo = { .no_realize = true };
    long before = peak_rss_kb();
    GError *err = NULL;
    TessMachine *m = tess_machine_load(reg, p, &lo, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(tess_machine_ram_size(m), ==, UINT64_C(60) << 30);
    g_assert_null(tess_mem_page(m, 0).write);
    g_assert_cmpint(peak_rss_kb() - before, <, 64 * 1024);
    tess_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    reg = tess_registry_new();
    g_assert_true(tess_registry_add_builtin(reg, &tc_class, NULL));
    g_assert_true(tess_registry_add_builtin(reg, &tcnet_class, NULL));
    g_assert_true(tess_registry_add_builtin(reg, &tcfail_class, NULL));
    g_assert_true(tess_registry_add_builtin(reg, &tchw_class, NULL));
    g_assert_true(tess_registry_add_builtin(reg, &tcsw_class, NULL));
    tmpdir = g_dir_make_tmp("tess-config-XXXXXX", NULL);
    g_setenv("TESSERA_MACHINE_PATH", "", TRUE);
    g_test_add_func("/config/minimal", test_minimal);
    g_test_add_func("/config/dry-realize", test_dry_realize);
    g_test_add_func("/config/schema-errors", test_schema_errors);
    g_test_add_func("/config/semantic-errors", test_semantic_errors);
    g_test_add_func("/config/hostile", test_hostile);
    g_test_add_func("/config/port-conflict", test_port_conflict_no_half_machine);
    g_test_add_func("/config/realize-rollback", test_realize_rollback);
    g_test_add_func("/config/base-inheritance", test_base_inheritance);
    g_test_add_func("/config/base-edited", test_base_edited);
    g_test_add_func("/config/overrides", test_overrides);
    g_test_add_func("/config/cpu-fallback", test_cpu_fallback);
    g_test_add_func("/config/validate-does-not-claim", test_validate_does_not_claim);
    g_test_add_func("/config/validate-huge-memory", test_validate_huge_memory);
    int rc = g_test_run();
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);
    (void)!system(cmd);
    return rc;
}
