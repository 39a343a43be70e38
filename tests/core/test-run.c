/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The run loop and the control socket, driven by a minimal CPU class that
 * retires instructions without decoding anything ("tc-cpu"): what is
 * under test is the core's scheduling, not a CPU. */
#include "core.h"

#include <string.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gio/gunixsocketaddress.h>

typedef struct {
    TessDevice dev;
    uint64_t icount;
    uint64_t halt_at;        /* 0: never halts */
    unsigned runs;
} TcCpu;

static TessCpuExit tccpu_run(TessDevice *dev, TessCpuRun *run)
{
    TcCpu *c = (TcCpu *)dev;
    c->runs++;
    /* Retire one instruction at a time so a limit lowered from a device
     * callback would be honoured at once, as the contract demands. */
    while (c->icount < run->icount_limit && !g_atomic_int_get(&run->stop)) {
        if (c->halt_at && c->icount >= c->halt_at)
            return TESS_CPU_EXIT_HALTED;
        c->icount++;
    }
    return TESS_CPU_EXIT_LIMIT;
}

static uint64_t tccpu_icount(TessDevice *dev)
{
    return ((TcCpu *)dev)->icount;
}

static bool tccpu_realize(TessDevice *dev, GError **err) { return true; }
static void tccpu_reset(TessDevice *dev) { ((TcCpu *)dev)->icount = 0; }

static const TessCpuOps tccpu_ops = { .run = tccpu_run, .icount = tccpu_icount };
static const TessIfaceSpec tccpu_ifaces[] = { { TESS_IFACE_CPU, &tccpu_ops }, TESS_IFACE_END };
static const TessPropSpec tccpu_props[] = {
    TESS_PROP_UINT_("halt-at", TcCpu, halt_at, "0", 0, 0, "halt after this many instructions"),
    TESS_PROP_END,
};
static const TessDeviceClass tccpu_class = {
    .type = "tc-cpu", .kind = TESS_CLASS_CPU, .doc = "scheduling test CPU",
    .instance_size = sizeof(TcCpu), .props = tccpu_props, .provides = tccpu_ifaces,
    .realize = tccpu_realize, .reset = tccpu_reset,
};

/* A device with timers that records when they fire and ends the run. */
typedef struct {
    TessDevice dev;
    TessTimer *t[3];
    GString *trace;
    unsigned fired;
} TcTick;

static void tick_fire(void *opaque);

typedef struct { TcTick *tick; int idx; } TickArg;
static TickArg tick_args[3];

static void tick_fire(void *opaque)
{
    TickArg *a = opaque;
    TcTick *t = a->tick;
    TessMachine *m = t->dev.machine;
    g_string_append_printf(t->trace, "t%d@%" G_GUINT64_FORMAT "/ic%" G_GUINT64_FORMAT " ", a->idx,
                           tess_clock_ns(m), m->cpu_ops->icount(m->cpu));
    t->fired++;
    if (a->idx == 0 && t->fired < 5)
        tess_timer_arm_in(t->t[0], 700);   /* periodic, until 5 timers fired */
    if (a->idx == 2)
        tess_machine_request_exit(m, 5);
}

static bool tick_realize(TessDevice *dev, GError **err)
{
    TcTick *t = (TcTick *)dev;
    t->trace = g_string_new(NULL);
    for (int i = 0; i < 3; i++) {
        tick_args[i] = (TickArg){ t, i };
        t->t[i] = tess_timer_new(dev, tick_fire, &tick_args[i]);
    }
    return true;
}

static void tick_reset(TessDevice *dev)
{
    TcTick *t = (TcTick *)dev;
    tess_timer_arm(t->t[0], 1000);
    tess_timer_arm(t->t[1], 2500);
    tess_timer_arm(t->t[2], 100000);
}

static void tick_unrealize(TessDevice *dev)
{
    g_string_free(((TcTick *)dev)->trace, TRUE);
}

static const TessDeviceClass tick_class = {
    .type = "tc-tick", .kind = TESS_CLASS_DEVICE, .doc = "timer test device",
    .instance_size = sizeof(TcTick), .realize = tick_realize, .reset = tick_reset,
    .unrealize = tick_unrealize,
};

static TessRegistry *reg;

static TessMachine *make(const char *cpu_attrs, bool with_tick, bool deterministic)
{
    g_autofree char *xml = g_strdup_printf(
        "<machine name='run'><memory size='1M'/><cpu type='tc-cpu' %s/>%s</machine>",
        cpu_attrs, with_tick ? "<device type='tc-tick' id='tick'/>" : "");
    TessLoadOptions lo = { .mopts = { .deterministic = deterministic, .ns_per_insn = 2 } };
    g_autoptr(GError) err = NULL;
    TessMachine *m = tess_machine_load_string(reg, xml, NULL, &lo, &err);
    g_assert_no_error(err);
    return m;
}

static char *run_trace(const char *cpu_attrs)
{
    TessMachine *m = make(cpu_attrs, true, true);
    int st = tess_machine_run(m);
    g_assert_cmpint(st, ==, 5);
    TcTick *t = (TcTick *)tess_machine_device(m, "tick");
    char *s = g_strdup(t->trace->str);
    tess_machine_free(m);
    return s;
}

static void test_deterministic_timers(void)
{
    g_autofree char *a = run_trace("");
    g_autofree char *b = run_trace("");
    /* Timers fire exactly at their deadlines, in order, at 2 ns per
     * instruction; the periodic one re-arms itself 700 ns later. */
    g_assert_cmpstr(a, ==,
                    "t0@1000/ic500 t0@1700/ic850 t0@2400/ic1200 t1@2500/ic1250 "
                    "t0@3100/ic1550 t2@100000/ic50000 ");
    g_assert_cmpstr(a, ==, b);
}

static void test_halt_skips_time(void)
{
    /* The CPU halts at 100 instructions; time jumps to each deadline. */
    g_autofree char *a = run_trace("halt-at='100'");
    g_assert_cmpstr(a, ==,
                    "t0@1000/ic100 t0@1700/ic100 t0@2400/ic100 t1@2500/ic100 "
                    "t0@3100/ic100 t2@100000/ic100 ");
}

static char *request(GPtrArray *ms, const char *line)
{
    return tess_control_handle_line(ms, line);
}

static void test_control_commands(void)
{
    TessMachine *m = make("", false, true);
    g_autoptr(GPtrArray) ms = g_ptr_array_new();
    g_ptr_array_add(ms, m);
    tess_machine_start(m);
    g_autofree char *s1 = request(ms, "{\"cmd\":\"status\"}");
    g_assert_nonnull(strstr(s1, "\"ok\":true"));
    g_assert_nonnull(strstr(s1, "\"state\":\"running\""));
    g_autofree char *s2 = request(ms, "{\"cmd\":\"pause\"}");
    g_assert_nonnull(strstr(s2, "\"state\":\"paused\""));
    /* While paused, virtual time stands still. */
    g_autofree char *t1 = request(ms, "{\"cmd\":\"status\"}");
    g_autofree char *t2 = request(ms, "{\"cmd\":\"status\"}");
    g_assert_nonnull(strstr(t1, "\"state\":\"paused\""));
    g_assert_cmpstr(strstr(t1, "vtime_ns"), ==, strstr(t2, "vtime_ns"));
    g_autofree char *s3 = request(ms, "{\"cmd\":\"resume\"}");
    g_assert_nonnull(strstr(s3, "\"state\":\"running\""));
    g_autofree char *e1 = request(ms, "{\"cmd\":\"frobnicate\"}");
    g_assert_nonnull(strstr(e1, "\"ok\":false"));
    g_assert_nonnull(strstr(e1, "unknown command"));
    g_autofree char *e2 = request(ms, "not json");
    g_assert_nonnull(strstr(e2, "not valid JSON"));
    g_autofree char *e3 = request(ms, "{\"cmd\":\"status\",\"machine\":\"other\"}");
    g_assert_nonnull(strstr(e3, "no such machine"));
    g_autofree char *e4 = request(ms, "{\"cmd\":\"help\",\"args\":[1]}");
    g_assert_nonnull(strstr(e4, "array of strings"));
    g_autofree char *q = request(ms, "{\"cmd\":\"quit\"}");
    g_assert_nonnull(strstr(q, "\"ok\":true"));
    g_assert_cmpint(tess_machine_join(m), ==, 0);
    /* After the machine stopped, commands still answer (inline). */
    g_autofree char *s4 = request(ms, "{\"cmd\":\"status\"}");
    g_assert_nonnull(strstr(s4, "\"state\":\"stopped\""));
    tess_machine_free(m);
}

typedef struct {
    const char *path;
    char *reply;
    GMainLoop *loop;
} ClientCtx;

static gpointer client_thread(gpointer data)
{
    ClientCtx *c = data;
    g_autoptr(GSocketClient) cl = g_socket_client_new();
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(c->path);
    g_autoptr(GError) err = NULL;
    g_autoptr(GSocketConnection) conn = g_socket_client_connect(cl, G_SOCKET_CONNECTABLE(addr),
                                                                NULL, &err);
    g_assert_no_error(err);
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
    const char *req = "{\"cmd\":\"status\"}\n{\"cmd\":\"quit\"}\n";
    g_assert_true(g_output_stream_write_all(out, req, strlen(req), NULL, NULL, NULL));
    g_autoptr(GDataInputStream) in =
        g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(conn)));
    g_autofree char *r1 = g_data_input_stream_read_line_utf8(in, NULL, NULL, NULL);
    g_autofree char *r2 = g_data_input_stream_read_line_utf8(in, NULL, NULL, NULL);
    c->reply = g_strconcat(r1 ? r1 : "", "|", r2 ? r2 : "", NULL);
    g_main_loop_quit(c->loop);
    return NULL;
}

static void test_control_socket(void)
{
    TessMachine *m = make("", false, false);
    g_autoptr(GPtrArray) ms = g_ptr_array_new();
    g_ptr_array_add(ms, m);
    g_autofree char *dir = g_dir_make_tmp("tess-ctl-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "ctl.sock", NULL);
    g_autoptr(GError) err = NULL;
    TessControl *ctl = tess_control_new(path, NULL, ms, &err);
    g_assert_no_error(err);
    tess_machine_start(m);
    ClientCtx c = { .path = path, .loop = g_main_loop_new(NULL, FALSE) };
    GThread *t = g_thread_new("client", client_thread, &c);
    g_main_loop_run(c.loop);
    g_thread_join(t);
    g_assert_nonnull(strstr(c.reply, "\"state\":\"running\""));
    g_assert_nonnull(strstr(c.reply, "|{\"ok\":true"));
    g_assert_cmpint(tess_machine_join(m), ==, 0);
    tess_control_free(ctl);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    g_free(c.reply);
    g_main_loop_unref(c.loop);
    g_rmdir(dir);
    tess_machine_free(m);
}

/* A request a host thread posted owns its data; a machine freed before
 * its next safe point runs it then, with every device still there (the
 * shared network backend's context leaked so: fuzz-snapshot, seed
 * regress-posted-request-leak, which hits it only when the backend's
 * poll thread has posted by the time a failed restore frees the machine). */
typedef struct {
    int ran;
    bool had_tick;
} PostedSeen;

static void posted_fn(TessMachine *m, void *data)
{
    PostedSeen **box = data;
    (*box)->ran++;
    (*box)->had_tick = tess_machine_device(m, "tick") != NULL;
    g_free(box);
}

static void test_free_runs_posted(void)
{
    TessMachine *m = make("", true, true);
    PostedSeen seen = { 0 };
    for (int i = 0; i < 3; i++) {
        PostedSeen **box = g_new(PostedSeen *, 1);
        *box = &seen;
        tess_machine_post(m, posted_fn, box);
    }
    tess_machine_free(m);
    g_assert_cmpint(seen.ran, ==, 3);
    g_assert_true(seen.had_tick);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    reg = tess_registry_new();
    g_assert_true(tess_registry_add_builtin(reg, &tccpu_class, NULL));
    g_assert_true(tess_registry_add_builtin(reg, &tick_class, NULL));
    g_test_add_func("/run/deterministic-timers", test_deterministic_timers);
    g_test_add_func("/run/halt-skips-time", test_halt_skips_time);
    g_test_add_func("/run/control-commands", test_control_commands);
    g_test_add_func("/run/control-socket", test_control_socket);
    g_test_add_func("/run/free-runs-posted", test_free_runs_posted);
    return g_test_run();
}
