/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Virtual clock and timers: ordering, re-arming, cancelling from
 * callbacks, instruction-count time, determinism. */
#include "fabric.h"

#include <string.h>


/* Let time pass to `ns`, stopping at each deadline on the way, as the run
 * loop does for a halted CPU. */
static void advance(TessMachine *m, uint64_t ns)
{
    for (;;) {
        uint64_t next = tess_clock_next_deadline(m);
        if (next > ns)
            break;
        tess_clock_advance_to(m, next);
        tess_clock_run_due(m);
    }
    tess_clock_advance_to(m, ns);
}

/* ---- a tiny scripted world ------------------------------------------------ */

typedef struct World World;

typedef struct {
    World *w;
    unsigned id;
    TessTimer *t;
    unsigned fires;
    uint64_t period;            /* re-arm by this much (0: one shot) */
    unsigned max_fires;
    int cancel_other;           /* index of a timer to cancel when fired, or -1 */
    int free_other;
    bool free_self;
} Tm;

struct World {
    TessMachine *m;
    TessDevice *dev;
    GString *trace;
    Tm tm[8];
    GRand *rand;                /* random script only */
};

static void tm_fire(void *opaque)
{
    Tm *t = opaque;
    World *w = t->w;
    t->fires++;
    g_string_append_printf(w->trace, "%u@%" G_GUINT64_FORMAT " ", t->id,
                           tess_clock_ns(w->m));
    g_assert_false(tess_timer_pending(t->t));
    if (t->cancel_other >= 0)
        tess_timer_cancel(w->tm[t->cancel_other].t);
    if (t->free_other >= 0) {
        tess_timer_free(w->tm[t->free_other].t);
        w->tm[t->free_other].t = NULL;
    }
    if (t->free_self) {
        tess_timer_free(t->t);
        t->t = NULL;
        return;
    }
    if (t->period && (!t->max_fires || t->fires < t->max_fires))
        tess_timer_arm_in(t->t, t->period);
}

static void world_init(World *w, bool det)
{
    memset(w, 0, sizeof(*w));
    w->m = fab_machine(det, 1, 0);
    w->dev = fab_device(w->m, &fab_owner_class, "timers");
    w->trace = g_string_new(NULL);
    for (unsigned i = 0; i < G_N_ELEMENTS(w->tm); i++) {
        w->tm[i] = (Tm) { .w = w, .id = i, .cancel_other = -1, .free_other = -1 };
        w->tm[i].t = tess_timer_new(w->dev, tm_fire, &w->tm[i]);
    }
}

static void world_free(World *w)
{
    g_string_free(w->trace, TRUE);
    tess_machine_free(w->m);
    if (w->rand)
        g_rand_free(w->rand);
}

static void test_order(void)
{
    World w;
    world_init(&w, true);
    g_assert_cmpuint(tess_clock_next_deadline(w.m), ==, UINT64_MAX);
    tess_timer_arm(w.tm[0].t, 300);
    tess_timer_arm(w.tm[1].t, 100);
    tess_timer_arm(w.tm[2].t, 200);
    tess_timer_arm(w.tm[3].t, 200);     /* ties fire in arming order */
    tess_timer_arm(w.tm[4].t, 150);
    tess_timer_arm(w.tm[5].t, 200);
    tess_timer_arm(w.tm[4].t, 200);     /* re-arming makes 4 the latest tie */
    g_assert_cmpuint(tess_clock_next_deadline(w.m), ==, 100);
    g_assert_cmpuint(tess_timer_deadline(w.tm[4].t), ==, 200);
    g_assert_true(tess_timer_pending(w.tm[4].t));
    g_assert_false(tess_timer_pending(w.tm[6].t));
    g_assert_cmpuint(tess_timer_deadline(w.tm[6].t), ==, UINT64_MAX);

    /* All due at once: still in (deadline, arming) order. */
    tess_clock_advance_to(w.m, 1000);
    g_assert_cmpuint(tess_clock_ns(w.m), ==, 1000);
    tess_clock_run_due(w.m);
    g_assert_cmpstr(w.trace->str, ==, "1@1000 2@1000 3@1000 5@1000 4@1000 0@1000 ");
    g_assert_cmpuint(tess_clock_next_deadline(w.m), ==, UINT64_MAX);

    /* Not yet due: nothing fires; time never runs backwards. */
    g_string_truncate(w.trace, 0);
    tess_timer_arm(w.tm[0].t, 1500);
    tess_clock_advance_to(w.m, 500);
    g_assert_cmpuint(tess_clock_ns(w.m), ==, 1000);
    tess_clock_run_due(w.m);
    g_assert_cmpstr(w.trace->str, ==, "");
    advance(w.m, 1499);
    g_assert_cmpstr(w.trace->str, ==, "");
    advance(w.m, 1500);
    g_assert_cmpstr(w.trace->str, ==, "0@1500 ");

    /* A deadline in the past fires at the next run. */
    g_string_truncate(w.trace, 0);
    tess_timer_arm(w.tm[1].t, 5);
    tess_clock_run_due(w.m);
    g_assert_cmpstr(w.trace->str, ==, "1@1500 ");
    world_free(&w);
}

static void test_rearm_cancel_free(void)
{
    World w;
    world_init(&w, true);

    /* Periodic: re-arms itself from its callback. */
    w.tm[0].period = 100;
    w.tm[0].max_fires = 4;
    tess_timer_arm(w.tm[0].t, 100);
    /* 1 cancels 2, which is due at the same time but armed later. */
    w.tm[1].cancel_other = 2;
    tess_timer_arm(w.tm[1].t, 250);
    tess_timer_arm(w.tm[2].t, 250);
    /* 3 frees itself; 4 frees 5. */
    w.tm[3].free_self = true;
    tess_timer_arm(w.tm[3].t, 320);
    w.tm[4].free_other = 5;
    tess_timer_arm(w.tm[4].t, 330);
    tess_timer_arm(w.tm[5].t, 330);
    /* 6 cancels a timer that already fired (harmless). */
    w.tm[6].cancel_other = 1;
    tess_timer_arm(w.tm[6].t, 340);

    advance(w.m, 1000);
    g_assert_cmpstr(w.trace->str, ==,
                    "0@100 0@200 1@250 0@300 3@320 4@330 6@340 0@400 ");
    g_assert_null(w.tm[3].t);
    g_assert_null(w.tm[5].t);
    g_assert_cmpuint(w.tm[2].fires, ==, 0);
    g_assert_cmpuint(tess_clock_next_deadline(w.m), ==, UINT64_MAX);

    /* A cancelled timer stays quiet even when its deadline passes. */
    g_string_truncate(w.trace, 0);
    tess_timer_arm(w.tm[7].t, 1000);
    tess_timer_arm(w.tm[2].t, 1000);
    tess_timer_cancel(w.tm[2].t);
    g_assert_false(tess_timer_pending(w.tm[2].t));
    tess_clock_run_due(w.m);
    g_assert_cmpstr(w.trace->str, ==, "7@1000 ");
    world_free(&w);
}

static void test_release_owner(void)
{
    TessMachine *m = fab_machine(true, 1, 0);
    TessDevice *a = fab_device(m, &fab_owner_class, "a");
    TessDevice *b = fab_device(m, &fab_owner_class, "b");
    GString *trace = g_string_new(NULL);
    World w = { .m = m, .trace = trace };
    Tm ta = { .w = &w, .id = 1, .cancel_other = -1, .free_other = -1 };
    Tm tb = { .w = &w, .id = 2, .cancel_other = -1, .free_other = -1 };
    ta.t = tess_timer_new(a, tm_fire, &ta);
    tb.t = tess_timer_new(b, tm_fire, &tb);
    tess_timer_arm(ta.t, 10);
    tess_timer_arm(tb.t, 20);
    tess_device_unrealize(a);           /* frees a's timer */
    g_assert_cmpuint(tess_clock_next_deadline(m), ==, 20);
    advance(m, 100);
    g_assert_cmpstr(trace->str, ==, "2@20 ");
    g_string_free(trace, TRUE);
    tess_machine_free(m);
}

/* ---- a CPU that only counts --------------------------------------------- */

typedef struct {
    TessDevice dev;
    uint64_t icount;
} FakeCpu;

static uint64_t fake_icount(TessDevice *cpu)
{
    return ((FakeCpu *)cpu)->icount;
}

static const TessCpuOps fake_ops = { .icount = fake_icount };

static const TessDeviceClass fake_cpu_class = {
    .type = "test-cpu", .kind = TESS_CLASS_CPU, .doc = "counts",
    .instance_size = sizeof(FakeCpu), .realize = fab_realize_nothing,
};

static void test_icount_time(void)
{
    TessMachine *m = fab_machine(true, 10, 0);
    GError *err = NULL;
    FakeCpu *cpu = (FakeCpu *)tess_device_new(m, &fake_cpu_class, "cpu", &err);
    g_assert_no_error(err);
    g_ptr_array_add(m->devices, cpu);
    cpu->icount = 1000;

    tess_clock_advance_to(m, 50);
    g_assert_cmpuint(tess_clock_icount_for(m, 100), ==, UINT64_MAX);   /* no CPU */
    tess_clock_attach_cpu(m, &cpu->dev, &fake_ops);
    g_assert_cmpuint(tess_clock_ns(m), ==, 50);
    cpu->icount += 5;
    g_assert_cmpuint(tess_clock_ns(m), ==, 100);
    /* 25 ns more is 3 instructions at 10 ns each (rounded up). */
    g_assert_cmpuint(tess_clock_icount_for(m, 125), ==, 1008);
    g_assert_cmpuint(tess_clock_icount_for(m, 130), ==, 1008);
    g_assert_cmpuint(tess_clock_icount_for(m, 131), ==, 1009);
    g_assert_cmpuint(tess_clock_icount_for(m, 20), ==, 1005);
    g_assert_cmpuint(tess_clock_icount_for(m, UINT64_MAX), ==, UINT64_MAX);

    /* A halted CPU: time jumps, the count stands still, then resumes. */
    tess_clock_advance_to(m, 1000);
    g_assert_cmpuint(tess_clock_ns(m), ==, 1000);
    cpu->icount += 2;
    g_assert_cmpuint(tess_clock_ns(m), ==, 1020);
    g_assert_cmpuint(tess_clock_icount_for(m, 1050), ==, 1010);

    /* Deterministic wall clock: 2000-01-01 plus virtual time. */
    g_assert_cmpint(tess_clock_wall_ns(m), ==, INT64_C(946684800000000000) + 1020);
    g_assert_true(tess_clock_deterministic(m));

    /* Pausing does not stop deterministic time (the CPU does). */
    tess_clock_pause(m);
    cpu->icount += 1;
    g_assert_cmpuint(tess_clock_ns(m), ==, 1030);
    tess_clock_resume(m);

    tess_clock_attach_cpu(m, NULL, NULL);
    cpu->icount += 100;
    g_assert_cmpuint(tess_clock_ns(m), ==, 1030);
    tess_machine_free(m);
}

/* ---- determinism ----------------------------------------------------------- */

static void rand_fire(void *opaque)
{
    Tm *t = opaque;
    World *w = t->w;
    g_string_append_printf(w->trace, "%u@%" G_GUINT64_FORMAT " ", t->id,
                           tess_clock_ns(w->m));
    /* Re-arm, arm or cancel others, at random but from a fixed seed. */
    unsigned n = G_N_ELEMENTS(w->tm);
    unsigned other = g_rand_int_range(w->rand, 0, (gint32)n);
    switch (g_rand_int_range(w->rand, 0, 4)) {
    case 0:
        tess_timer_cancel(w->tm[other].t);
        break;
    case 1:
        tess_timer_arm_in(w->tm[other].t, g_rand_int_range(w->rand, 0, 50) * 10);
        break;
    default:
        break;
    }
    if (g_rand_boolean(w->rand))
        tess_timer_arm_in(t->t, g_rand_int_range(w->rand, 1, 200) * 10);
}

static char *run_script(uint32_t seed)
{
    World w;
    memset(&w, 0, sizeof(w));
    w.m = fab_machine(true, 10, 0);
    w.dev = fab_device(w.m, &fab_owner_class, "timers");
    w.trace = g_string_new(NULL);
    w.rand = g_rand_new_with_seed(seed);
    for (unsigned i = 0; i < G_N_ELEMENTS(w.tm); i++) {
        w.tm[i] = (Tm) { .w = &w, .id = i };
        w.tm[i].t = tess_timer_new(w.dev, rand_fire, &w.tm[i]);
        tess_timer_arm(w.tm[i].t, g_rand_int_range(w.rand, 0, 100) * 10);
    }
    GError *err = NULL;
    FakeCpu *cpu = (FakeCpu *)tess_device_new(w.m, &fake_cpu_class, "cpu", &err);
    g_ptr_array_add(w.m->devices, cpu);
    tess_clock_attach_cpu(w.m, &cpu->dev, &fake_ops);

    /* The run loop: the CPU runs to the next deadline (or halts and time
     * jumps), then due timers fire. */
    for (unsigned step = 0; step < 400; step++) {
        uint64_t next = tess_clock_next_deadline(w.m);
        if (next == UINT64_MAX)
            tess_timer_arm_in(w.tm[step % 8].t, 1000);
        if (step % 3 == 0)
            tess_clock_advance_to(w.m, tess_clock_next_deadline(w.m));
        else
            cpu->icount = tess_clock_icount_for(w.m, tess_clock_next_deadline(w.m));
        tess_clock_run_due(w.m);
    }
    g_string_append_printf(w.trace, "end@%" G_GUINT64_FORMAT, tess_clock_ns(w.m));
    char *trace = g_string_free(w.trace, FALSE);
    w.trace = g_string_new(NULL);
    world_free(&w);
    return trace;
}

static void test_deterministic_replay(void)
{
    g_autofree char *a = run_script(1234);
    g_autofree char *b = run_script(1234);
    g_autofree char *c = run_script(99);
    g_assert_cmpuint(strlen(a), >, 400);
    g_assert_cmpstr(a, ==, b);
    g_assert_cmpstr(a, !=, c);

    /* Every timestamp in the trace is non-decreasing. */
    g_auto(GStrv) items = g_strsplit(a, " ", -1);
    uint64_t last = 0;
    for (char **p = items; *p && **p; p++) {
        const char *at = strchr(*p, '@');
        g_assert_nonnull(at);
        uint64_t ns = g_ascii_strtoull(at + 1, NULL, 10);
        g_assert_cmpuint(ns, >=, last);
        last = ns;
    }
}

/* Many timers, random deadlines: the heap hands them out sorted. */
static GArray *heap_order;

static void heap_fire(void *opaque)
{
    guint v = GPOINTER_TO_UINT(opaque);
    g_array_append_val(heap_order, v);
}

static void test_heap_order(void)
{
    TessMachine *m = fab_machine(true, 1, 0);
    TessDevice *d = fab_device(m, &fab_owner_class, "d");
    GRand *r = g_rand_new_with_seed(7);
    enum { N = 500 };
    TessTimer *t[N];
    uint64_t deadline[N];
    heap_order = g_array_new(FALSE, FALSE, sizeof(guint));
    for (guint i = 0; i < N; i++) {
        t[i] = tess_timer_new(d, heap_fire, GUINT_TO_POINTER(i));
        deadline[i] = g_rand_int_range(r, 0, 64);
        tess_timer_arm(t[i], deadline[i]);
    }
    /* Shuffle things: cancel some, re-arm others. */
    for (guint i = 0; i < N; i += 7)
        tess_timer_cancel(t[i]);
    for (guint i = 3; i < N; i += 11) {
        deadline[i] = g_rand_int_range(r, 0, 64);
        tess_timer_arm(t[i], deadline[i]);
    }
    tess_clock_advance_to(m, 100);
    tess_clock_run_due(m);
    g_assert_cmpuint(heap_order->len, >, N / 2);
    for (guint k = 1; k < heap_order->len; k++) {
        guint a = g_array_index(heap_order, guint, k - 1);
        guint b = g_array_index(heap_order, guint, k);
        g_assert_cmpuint(deadline[a], <=, deadline[b]);
    }
    guint expect = 0;
    for (guint i = 0; i < N; i++)
        expect += (i % 7 != 0) || ((i >= 3) && (i - 3) % 11 == 0);
    g_assert_cmpuint(heap_order->len, ==, expect);
    g_array_unref(heap_order);
    g_rand_free(r);
    tess_machine_free(m);
}

static void test_realtime(void)
{
    TessMachine *m = fab_machine(false, 1, 0);
    g_assert_false(tess_clock_deterministic(m));
    uint64_t a = tess_clock_ns(m);
    uint64_t b = tess_clock_ns(m);
    g_assert_cmpuint(b, >=, a);

    /* Paused: virtual time holds still. */
    tess_clock_pause(m);
    uint64_t p1 = tess_clock_ns(m);
    for (volatile int i = 0; i < 100000; i++)
        ;
    uint64_t p2 = tess_clock_ns(m);
    g_assert_cmpuint(p1, ==, p2);
    tess_clock_resume(m);
    g_assert_cmpuint(tess_clock_ns(m), >=, p2);

    /* A jump moves it forward by at least that much, wall time with it. */
    int64_t w1 = tess_clock_wall_ns(m);
    uint64_t before = tess_clock_ns(m);
    tess_clock_advance_to(m, before + 3 * TESS_NS_PER_SEC);
    g_assert_cmpuint(tess_clock_ns(m), >=, before + 3 * TESS_NS_PER_SEC);
    int64_t w2 = tess_clock_wall_ns(m);
    g_assert_cmpint(w2 - w1, >=, 3 * (int64_t)TESS_NS_PER_SEC);
    /* The wall clock is today's, not 2000's. */
    g_assert_cmpint(w1, >, INT64_C(1500000000) * (int64_t)TESS_NS_PER_SEC);

    /* A timer armed in the past is due right away. */
    TessDevice *d = fab_device(m, &fab_owner_class, "d");
    heap_order = g_array_new(FALSE, FALSE, sizeof(guint));
    TessTimer *t = tess_timer_new(d, heap_fire, GUINT_TO_POINTER(42));
    tess_timer_arm(t, 0);
    tess_clock_run_due(m);
    g_assert_cmpuint(heap_order->len, ==, 1);
    tess_timer_arm_in(t, 3600 * TESS_NS_PER_SEC);
    tess_clock_run_due(m);
    g_assert_cmpuint(heap_order->len, ==, 1);
    g_assert_true(tess_timer_pending(t));
    g_array_unref(heap_order);
    tess_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/clock/order", test_order);
    g_test_add_func("/clock/rearm-cancel-free", test_rearm_cancel_free);
    g_test_add_func("/clock/release-owner", test_release_owner);
    g_test_add_func("/clock/icount-time", test_icount_time);
    g_test_add_func("/clock/deterministic-replay", test_deterministic_replay);
    g_test_add_func("/clock/heap-order", test_heap_order);
    g_test_add_func("/clock/realtime", test_realtime);
    return g_test_run();
}
