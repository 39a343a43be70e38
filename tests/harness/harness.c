/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test harness: see harness.h. */
#include "harness.h"

#include <string.h>

#define PROBE_LINES 16

typedef struct {
    TessDevice dev;
    bool level[PROBE_LINES];
    unsigned edges[PROBE_LINES];
} Probe;

static void probe_set(TessDevice *dev, unsigned n, bool level)
{
    Probe *p = (Probe *)dev;
    if (n >= PROBE_LINES)
        return;
    if (level && !p->level[n])
        p->edges[n]++;
    p->level[n] = level;
}

static bool probe_realize(TessDevice *dev, GError **err)
{
    return true;
}

static const TessLineSpec probe_lines[] = {
    TESS_LINE_IN_("in", PROBE_LINES, probe_set, "recorded inputs"),
    TESS_LINE_END,
};

static const TessDeviceClass probe_class = {
    .type = "th-probe",
    .kind = TESS_CLASS_DEVICE,
    .doc = "test probe: records input line levels and rising edges",
    .instance_size = sizeof(Probe),
    .lines = probe_lines,
    .realize = probe_realize,
};

#define SOURCE_LINES 16

typedef struct {
    TessDevice dev;
    TessSignal *out[SOURCE_LINES];
} Source;

static const TessLineSpec source_lines[] = {
    TESS_LINE_OUT_("out", SOURCE_LINES, Source, out, "lines the test sets"),
    TESS_LINE_END,
};

static const TessDeviceClass source_class = {
    .type = "th-source",
    .kind = TESS_CLASS_DEVICE,
    .doc = "test source: output lines a test sets by hand",
    .instance_size = sizeof(Source),
    .lines = source_lines,
    .realize = probe_realize,
};

TessRegistry *th_registry(void)
{
    static TessRegistry *reg;
    if (!reg) {
        reg = tess_registry_new();
        tess_registry_scan_default(reg);
        g_autoptr(GError) err = NULL;
        if (!tess_registry_add_builtin(reg, &probe_class, &err) ||
            !tess_registry_add_builtin(reg, &source_class, &err))
            g_error("harness: %s", err->message);
    }
    return reg;
}

TessMachine *th_machine_try(const char *fragment, GError **err)
{
    bool has_mem = strstr(fragment, "<memory") != NULL;
    g_autofree char *xml = g_strdup_printf("<machine name=\"test\">%s%s</machine>",
                                           has_mem ? "" : "<memory size=\"1M\"/>", fragment);
    /* Guard pages around RAM: a device model that reads or writes past guest
     * memory (DMA outside RAM) faults at once, in every device test. */
    TessLoadOptions lo = { .mopts = { .deterministic = true, .ns_per_insn = 1,
                                      .ram_guard = true } };
    return tess_machine_load_string(th_registry(), xml, NULL, &lo, err);
}

TessMachine *th_machine(const char *fragment)
{
    g_autoptr(GError) err = NULL;
    TessMachine *m = th_machine_try(fragment, &err);
    if (!m)
        g_error("harness: cannot build test machine: %s", err->message);
    return m;
}

void th_machine_free(TessMachine *m)
{
    tess_machine_free(m);
}

void th_advance(TessMachine *m, uint64_t ns)
{
    uint64_t target = tess_clock_ns(m) + ns;
    for (;;) {
        uint64_t d = tess_clock_next_deadline(m);
        if (d > target)
            break;
        tess_clock_advance_to(m, d);
        tess_clock_run_due(m);
    }
    tess_clock_advance_to(m, target);
    tess_clock_run_due(m);
}

static Probe *probe(TessMachine *m, const char *id)
{
    TessDevice *d = tess_machine_device(m, id);
    g_assert_nonnull(d);
    g_assert_true(d->cls == &probe_class);
    return (Probe *)d;
}

bool th_probe_level(TessMachine *m, const char *probe_id, unsigned line)
{
    g_assert_cmpuint(line, <, PROBE_LINES);
    return probe(m, probe_id)->level[line];
}

unsigned th_probe_edges(TessMachine *m, const char *probe_id, unsigned line)
{
    g_assert_cmpuint(line, <, PROBE_LINES);
    return probe(m, probe_id)->edges[line];
}

void th_source_set(TessMachine *m, const char *source_id, unsigned line, bool level)
{
    TessDevice *d = tess_machine_device(m, source_id);
    g_assert_nonnull(d);
    g_assert_true(d->cls == &source_class);
    g_assert_cmpuint(line, <, SOURCE_LINES);
    tess_signal_set(((Source *)d)->out[line], level);
}

uint8_t th_intack(TessMachine *m)
{
    for (guint i = 0; i < m->devices->len; i++) {
        TessDevice *d = m->devices->pdata[i];
        const TessIntcOps *ops = tess_device_interface(d, TESS_IFACE_INTC);
        if (ops)
            return ops->ack(d);
    }
    g_error("harness: no interrupt controller in the machine");
    return 0;
}
