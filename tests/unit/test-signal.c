/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Signal lines: naming, wiring, wired-OR, change-only notification. */
#include "fabric.h"

#include <string.h>

typedef struct {
    TessDevice dev;
    TessSignal *out[2];
    TessSignal *irq;
} Src;

static const TessLineSpec src_lines[] = {
    TESS_LINE_OUT_("out", 2, Src, out, "two outputs"),
    TESS_LINE_OUT_("irq", 0, Src, irq, "one output"),
    TESS_LINE_END,
};

static const TessDeviceClass src_class = {
    .type = "test-src", .kind = TESS_CLASS_DEVICE, .doc = "drives lines",
    .instance_size = sizeof(Src), .lines = src_lines, .realize = fab_realize_nothing,
};

typedef struct {
    TessDevice dev;
    GString *log;           /* "name:level " per handler call */
    TessSignal *echo;       /* lowered from the handler, for reentrancy */
} Sink;

static void sink_int(TessDevice *dev, unsigned n, bool level)
{
    Sink *s = (Sink *)dev;
    g_string_append_printf(s->log, "int%u:%d ", n, level);
    if (s->echo && level)
        tess_signal_lower(s->echo);
}

static void sink_ir(TessDevice *dev, unsigned n, bool level)
{
    Sink *s = (Sink *)dev;
    g_string_append_printf(s->log, "ir%u:%d ", n, level);
}

static const TessLineSpec sink_lines[] = {
    TESS_LINE_IN_("int", 1, sink_int, "one input"),
    TESS_LINE_IN_("ir", 4, sink_ir, "four inputs"),
    TESS_LINE_END,
};

static const TessDeviceClass sink_class = {
    .type = "test-sink", .kind = TESS_CLASS_DEVICE, .doc = "listens",
    .instance_size = sizeof(Sink), .lines = sink_lines, .realize = fab_realize_nothing,
};

/* The sinks get their logs. */
static TessDevice *new_dev(TessMachine *m, const TessDeviceClass *cls, const char *id)
{
    TessDevice *d = fab_device(m, cls, id);
    if (cls == &sink_class)
        ((Sink *)d)->log = g_string_new(NULL);
    return d;
}

static void free_machine(TessMachine *m)
{
    for (guint i = 0; i < m->devices->len; i++) {
        TessDevice *d = m->devices->pdata[i];
        if (d->cls == &sink_class)
            g_string_free(((Sink *)d)->log, TRUE);
    }
    tess_machine_free(m);
}

/* Take the handler log and clear it. */
static char *took(TessDevice *d)
{
    Sink *s = (Sink *)d;
    char *r = g_strdup(s->log->str);
    g_string_truncate(s->log, 0);
    return r;
}

#define assert_log(dev, want) do {                  \
        g_autofree char *got_ = took(dev);           \
        g_assert_cmpstr(got_, ==, want);             \
    } while (0)

static void test_names(void)
{
    TessMachine *m = fab_machine(true, 1, 0);
    Src *a = (Src *)new_dev(m, &src_class, "a");
    TessDevice *k = new_dev(m, &sink_class, "k");

    g_assert_nonnull(a->out[0]);
    g_assert_nonnull(a->out[1]);
    g_assert_nonnull(a->irq);
    g_assert_true(tess_device_output(&a->dev, "out0") == a->out[0]);
    g_assert_true(tess_device_output(&a->dev, "out1") == a->out[1]);
    g_assert_true(tess_device_output(&a->dev, "irq") == a->irq);
    g_assert_null(tess_device_output(&a->dev, "out"));
    g_assert_null(tess_device_output(&a->dev, "out2"));
    g_assert_null(tess_device_output(&a->dev, "irq0"));

    g_assert_nonnull(tess_device_input(k, "int"));
    g_assert_nonnull(tess_device_input(k, "ir0"));
    g_assert_nonnull(tess_device_input(k, "ir3"));
    g_assert_null(tess_device_input(k, "ir4"));
    g_assert_null(tess_device_input(k, "int0"));
    g_assert_cmpuint(tess_device_input(k, "ir2")->index, ==, 2);
    free_machine(m);
}

static void test_wired_or(void)
{
    TessMachine *m = fab_machine(true, 1, 0);
    Src *a = (Src *)new_dev(m, &src_class, "a");
    Src *b = (Src *)new_dev(m, &src_class, "b");
    TessDevice *k = new_dev(m, &sink_class, "k");
    GError *err = NULL;

    g_assert_true(tess_signal_connect(a->out[1], k, "ir2", &err));
    g_assert_true(tess_signal_connect(b->irq, k, "ir2", &err));
    g_assert_no_error(err);
    assert_log(k, "");

    tess_signal_raise(a->out[1]);
    assert_log(k, "ir2:1 ");
    g_assert_true(tess_device_input_level(k, "ir2"));
    tess_signal_raise(b->irq);           /* still high: no news */
    assert_log(k, "");
    tess_signal_lower(a->out[1]);        /* b holds it high */
    assert_log(k, "");
    g_assert_true(tess_device_input_level(k, "ir2"));
    tess_signal_raise(b->irq);           /* same level: nothing */
    assert_log(k, "");
    tess_signal_lower(b->irq);
    assert_log(k, "ir2:0 ");
    g_assert_false(tess_device_input_level(k, "ir2"));
    tess_signal_lower(b->irq);
    assert_log(k, "");
    g_assert_false(tess_signal_level(b->irq));

    /* A pulse is two changes; other inputs never hear of it. */
    tess_signal_pulse(a->out[1]);
    assert_log(k, "ir2:1 ir2:0 ");
    g_assert_false(tess_device_input_level(k, "ir1"));

    /* One output may drive several inputs. */
    g_assert_true(tess_signal_connect(a->out[0], k, "int", &err));
    g_assert_true(tess_signal_connect(a->out[0], k, "ir0", &err));
    tess_signal_raise(a->out[0]);
    assert_log(k, "int0:1 ir0:1 ");
    free_machine(m);
}

static void test_connect_disconnect(void)
{
    TessMachine *m = fab_machine(true, 1, 0);
    Src *a = (Src *)new_dev(m, &src_class, "a");
    TessDevice *k = new_dev(m, &sink_class, "pic0");
    GError *err = NULL;

    g_assert_false(tess_signal_connect(a->irq, k, "ir9", &err));
    g_assert_error(err, TESS_CONFIG_ERROR, TESS_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(err->message, "'pic0'"));
    g_assert_nonnull(strstr(err->message, "'ir9'"));
    g_clear_error(&err);

    /* Wiring a line that is already high raises the input at once. */
    tess_signal_raise(a->irq);
    g_assert_true(tess_signal_connect(a->irq, k, "ir1", &err));
    assert_log(k, "ir1:1 ");
    g_assert_false(tess_signal_connect(a->irq, k, "ir1", &err));
    g_assert_error(err, TESS_CONFIG_ERROR, TESS_ERROR_DUPLICATE);
    g_clear_error(&err);
    /* ...and unwiring it drops it. */
    tess_signal_disconnect(a->irq, k, "ir1");
    assert_log(k, "ir1:0 ");
    tess_signal_disconnect(a->irq, k, "ir1");     /* not wired: no-op */
    tess_signal_lower(a->irq);
    assert_log(k, "");
    free_machine(m);
}

static void test_reentrant(void)
{
    TessMachine *m = fab_machine(true, 1, 0);
    Src *a = (Src *)new_dev(m, &src_class, "a");
    TessDevice *k1 = new_dev(m, &sink_class, "k1");
    TessDevice *k2 = new_dev(m, &sink_class, "k2");
    GError *err = NULL;

    /* k1's handler lowers the very line that is rising: k2 must end up low
     * with its count intact, hearing at most a consistent story. */
    ((Sink *)k1)->echo = a->irq;
    g_assert_true(tess_signal_connect(a->irq, k1, "int", &err));
    g_assert_true(tess_signal_connect(a->irq, k2, "int", &err));
    tess_signal_raise(a->irq);
    assert_log(k1, "int0:1 int0:0 ");
    assert_log(k2, "");
    g_assert_false(tess_device_input_level(k1, "int"));
    g_assert_false(tess_device_input_level(k2, "int"));
    g_assert_cmpuint(tess_device_input(k2, "int")->high, ==, 0);
    free_machine(m);
}

static void test_device_free_unwires(void)
{
    TessMachine *m = fab_machine(true, 1, 0);
    GError *err = NULL;
    TessDevice *k = new_dev(m, &sink_class, "k");
    TessDevice *ad = tess_device_new(m, &src_class, "a", &err);
    Src *a = (Src *)ad;
    g_assert_true(tess_signal_connect(a->irq, k, "int", &err));
    g_assert_true(tess_signal_connect(a->out[0], k, "ir0", &err));
    tess_signal_raise(a->irq);
    assert_log(k, "int0:1 ");
    tess_device_free(ad);
    /* No handler call during teardown, no dangling source either. */
    g_assert_cmpuint(tess_device_input(k, "int")->sources->len, ==, 0);
    g_assert_cmpuint(tess_device_input(k, "ir0")->sources->len, ==, 0);
    g_assert_false(tess_device_input_level(k, "int"));

    /* And the other way round: the sink goes first. */
    TessDevice *k2 = tess_device_new(m, &sink_class, "k2", &err);
    ((Sink *)k2)->log = g_string_new(NULL);
    TessDevice *bd = new_dev(m, &src_class, "b");
    g_assert_true(tess_signal_connect(((Src *)bd)->irq, k2, "int", &err));
    g_string_free(((Sink *)k2)->log, TRUE);
    tess_device_free(k2);
    g_assert_cmpuint(((Src *)bd)->irq->sinks->len, ==, 0);
    tess_signal_raise(((Src *)bd)->irq);
    free_machine(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/signal/names", test_names);
    g_test_add_func("/signal/wired-or", test_wired_or);
    g_test_add_func("/signal/connect-disconnect", test_connect_disconnect);
    g_test_add_func("/signal/reentrant", test_reentrant);
    g_test_add_func("/signal/device-free-unwires", test_device_free_unwires);
    return g_test_run();
}
