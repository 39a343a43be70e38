/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The machine run loop: fire due timers, let the CPU run up to the next
 * deadline, handle halts, resets and requests from other threads.
 *
 * One thread runs one machine; every device callback happens on it.
 * Other threads talk to a machine only through tess_machine_post().
 */
#include "core.h"

/* Realtime mode: at most this many instructions per slice, and fewer when
 * the next timer is due sooner - estimated from the CPU's measured speed,
 * so a timer fires within a few microseconds of its deadline whatever the
 * CPU (a 2 kHz tone on port 0x61 must look like one). */
#define REALTIME_SLICE 20000u
/* With nothing armed, still come back now and then. */
#define IDLE_SLICE 1000000u

static void drain_requests(TessMachine *m)
{
    /* Frames host threads put in the ports' rings (one atomic load when
     * none came). */
    tess_net_poll(m);
    TessRequest *r;
    while ((r = g_async_queue_try_pop(m->requests))) {
        r->fn(m, r->data);
        g_free(r);
    }
}

/* Block until a request arrives or, when `until_us` is not -1, the host
 * monotonic clock reaches it. */
static void wait_for_event(TessMachine *m, gint64 until_us)
{
    g_mutex_lock(&m->lock);
    while (g_async_queue_length(m->requests) <= 0 && !m->exit_requested &&
           !tess_net_pending(m)) {
        if (until_us < 0)
            g_cond_wait(&m->cond, &m->lock);
        else if (!g_cond_wait_until(&m->cond, &m->lock, until_us))
            break;
    }
    g_mutex_unlock(&m->lock);
}

static uint64_t icount_limit_raw(TessMachine *m, uint64_t deadline);

/* --suspend-at: the CPU stops exactly at the requested count. */
static uint64_t icount_limit_for(TessMachine *m, uint64_t deadline)
{
    uint64_t lim = icount_limit_raw(m, deadline);
    return m->suspend_path && m->suspend_at < lim ? m->suspend_at : lim;
}

/* --suspend-at reached: save and stop with 0, or with 1 when the save
 * fails (the machine is left as it was). */
static bool suspend_due(TessMachine *m)
{
    if (!m->suspend_path || m->cpu_ops->icount(m->cpu) < m->suspend_at)
        return false;
    g_autoptr(GError) err = NULL;
    if (!tess_snapshot_suspend(m, m->suspend_path, &err)) {
        g_printerr("tessera: suspend: %s\n", err->message);
        tess_machine_request_exit(m, 1);
    }
    g_clear_pointer(&m->suspend_path, g_free);
    return true;
}

static uint64_t icount_limit_raw(TessMachine *m, uint64_t deadline)
{
    uint64_t now_ic = m->cpu_ops->icount(m->cpu);
    if (!m->opts.deterministic) {
        uint64_t now = tess_clock_ns(m);
        if (deadline == UINT64_MAX)
            return now_ic + REALTIME_SLICE;
        if (deadline <= now)
            return now_ic + 1;
        double n = (double)(deadline - now) * m->rt_ipns;
        return now_ic + (n < 1 ? 1 : n > REALTIME_SLICE ? REALTIME_SLICE : (uint64_t)n);
    }
    if (deadline == UINT64_MAX)
        return now_ic + IDLE_SLICE;
    uint64_t lim = tess_clock_icount_for(m, deadline);
    return lim > now_ic ? lim : now_ic + 1;
}

void tess_machine_deadline_changed(TessMachine *m)
{
    if (!m->cpu || m->state != TESS_RUN_RUNNING)
        return;
    uint64_t lim = m->opts.deterministic
                       ? tess_clock_icount_for(m, tess_clock_next_deadline(m))
                       : icount_limit_raw(m, tess_clock_next_deadline(m));
    if (lim < m->cpu_run.icount_limit)
        m->cpu_run.icount_limit = lim;
}

/* Realtime: learn the CPU's speed from a slice it ran (not halted). */
static void measure_speed(TessMachine *m, uint64_t ic0, uint64_t ns0)
{
    uint64_t ic = m->cpu_ops->icount(m->cpu) - ic0;
    uint64_t ns = tess_clock_ns(m) - ns0;
    if (ns < 2000 || ic < 64)
        return;                         /* too short to say anything */
    double sample = (double)ic / (double)ns;
    m->rt_ipns = 0.75 * m->rt_ipns + 0.25 * sample;
    if (m->rt_ipns < 1e-4)
        m->rt_ipns = 1e-4;
}

/* Halted, or no CPU: let time pass to the next deadline. */
static void idle_until_deadline(TessMachine *m)
{
    uint64_t deadline = tess_clock_next_deadline(m);
    if (m->opts.deterministic) {
        if (deadline == UINT64_MAX)
            wait_for_event(m, -1);
        else
            tess_clock_advance_to(m, deadline);
        return;
    }
    if (deadline == UINT64_MAX) {
        wait_for_event(m, -1);
        return;
    }
    uint64_t now = tess_clock_ns(m);
    if (deadline > now)
        wait_for_event(m, g_get_monotonic_time() + (gint64)((deadline - now + 999) / 1000));
}

int tess_machine_run(TessMachine *m)
{
    if (!m->cpu) {
        g_warning("machine '%s' has no CPU: nothing to run", m->name);
        return 1;
    }
    if (m->state != TESS_RUN_PAUSED || !m->start_paused)
        m->state = TESS_RUN_RUNNING;
    /* Started paused (--paused): virtual time stands still until `cont`,
     * as it does for a machine paused later. */
    if (!m->opts.deterministic) {
        if (m->state == TESS_RUN_RUNNING)
            tess_clock_resume(m);
        else
            tess_clock_pause(m);
    }
    while (!m->exit_requested) {
        drain_requests(m);
        if (m->exit_requested)
            break;
        if (m->reset_requested) {
            m->reset_requested = false;
            tess_machine_reset(m);
        }
        if (m->state == TESS_RUN_PAUSED) {
            wait_for_event(m, -1);
            continue;
        }
        tess_clock_run_due(m);
        if (m->exit_requested || m->reset_requested)
            continue;
        if (suspend_due(m))
            continue;
        m->cpu_run.icount_limit = icount_limit_for(m, tess_clock_next_deadline(m));
        g_atomic_int_set(&m->cpu_run.stop, 0);
        /* A request posted between drain and here set stop; keep it. */
        if (g_async_queue_length(m->requests) > 0 || tess_net_pending(m))
            continue;
        uint64_t ic0 = m->opts.deterministic ? 0 : m->cpu_ops->icount(m->cpu);
        uint64_t ns0 = m->opts.deterministic ? 0 : tess_clock_ns(m);
        switch (m->cpu_ops->run(m->cpu, &m->cpu_run)) {
        case TESS_CPU_EXIT_LIMIT:
            if (!m->opts.deterministic)
                measure_speed(m, ic0, ns0);
            break;
        case TESS_CPU_EXIT_HALTED:
            if (!m->exit_requested && !m->reset_requested)
                idle_until_deadline(m);
            break;
        case TESS_CPU_EXIT_SHUTDOWN:
            g_message("%s: CPU shutdown (triple fault): resetting", m->name);
            m->reset_requested = true;
            break;
        case TESS_CPU_EXIT_ERROR:
            tess_machine_request_exit(m, 1);
            break;
        }
    }
    g_debug("%s: stopped after %" G_GUINT64_FORMAT " instructions, %" G_GUINT64_FORMAT
            " ns of virtual time", m->name, m->cpu_ops->icount(m->cpu), tess_clock_ns(m));
    g_mutex_lock(&m->lock);
    m->state = TESS_RUN_STOPPED;
    g_mutex_unlock(&m->lock);
    /* Whatever was posted before STOPPED runs; tess_machine_call runs
     * later requests inline. */
    drain_requests(m);
    return m->exit_status;
}

static gpointer machine_thread(gpointer data)
{
    TessMachine *m = data;
    int status = tess_machine_run(m);
    if (m->on_stop)
        m->on_stop(m, status, m->on_stop_data);
    return GINT_TO_POINTER(status);
}

void tess_machine_start(TessMachine *m)
{
    m->thread = g_thread_new(m->name, machine_thread, m);
}

int tess_machine_join(TessMachine *m)
{
    if (!m->thread)
        return m->exit_status;
    int status = GPOINTER_TO_INT(g_thread_join(m->thread));
    m->thread = NULL;
    return status;
}

/* ---- requests used by the control socket -------------------------------- */

static void do_pause(TessMachine *m, void *data)
{
    if (m->state == TESS_RUN_RUNNING) {
        m->state = TESS_RUN_PAUSED;
        if (!m->opts.deterministic)
            tess_clock_pause(m);
    }
}

static void do_resume(TessMachine *m, void *data)
{
    if (m->state == TESS_RUN_PAUSED) {
        m->state = TESS_RUN_RUNNING;
        if (!m->opts.deterministic)
            tess_clock_resume(m);
    }
}

static void do_quit(TessMachine *m, void *data)
{
    tess_machine_request_exit(m, GPOINTER_TO_INT(data));
}

void tess_machine_pause(TessMachine *m)  { tess_machine_post(m, do_pause, NULL); }
void tess_machine_resume(TessMachine *m) { tess_machine_post(m, do_resume, NULL); }
void tess_machine_quit(TessMachine *m, int status)
{
    tess_machine_post(m, do_quit, GINT_TO_POINTER(status));
}

/* ---- synchronous calls -------------------------------------------------- */

typedef struct {
    void (*fn)(TessMachine *, void *);
    void *data;
    GMutex lock;
    GCond cond;
    bool done;
} CallCtx;

static void call_trampoline(TessMachine *m, void *data)
{
    CallCtx *c = data;
    c->fn(m, c->data);
    g_mutex_lock(&c->lock);
    c->done = true;
    g_cond_signal(&c->cond);
    g_mutex_unlock(&c->lock);
}

void tess_machine_call(TessMachine *m, void (*fn)(TessMachine *, void *), void *data)
{
    g_mutex_lock(&m->lock);
    bool inline_call = m->state == TESS_RUN_STOPPED || !m->thread;
    g_mutex_unlock(&m->lock);
    if (inline_call) {
        fn(m, data);
        return;
    }
    CallCtx c = { .fn = fn, .data = data };
    g_mutex_init(&c.lock);
    g_cond_init(&c.cond);
    tess_machine_post(m, call_trampoline, &c);
    g_mutex_lock(&c.lock);
    while (!c.done)
        g_cond_wait(&c.cond, &c.lock);
    g_mutex_unlock(&c.lock);
    g_mutex_clear(&c.lock);
    g_cond_clear(&c.cond);
}
