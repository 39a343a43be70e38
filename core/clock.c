/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Virtual time and timers (tessera/clock.h).
 *
 * Deterministic: ns = base_ns + (icount - base_icount) * ns_per_insn; the
 * base moves when the CPU is attached and when time jumps (a halted CPU
 * skipping to the next deadline). Realtime: the host's monotonic clock
 * since power-on, minus time spent paused, plus any jumps.
 *
 * Pending timers sit in a binary min-heap ordered by (deadline, arming
 * sequence), each timer knowing its heap slot so cancel and re-arm are
 * O(log n).
 */
#include "core.h"

#include <time.h>

/* 2000-01-01T00:00:00Z: deterministic runs all start there. */
#define CLOCK_DET_EPOCH_NS (INT64_C(946684800) * (int64_t)TESS_NS_PER_SEC)

struct TessTimer {
    TessClock *clock;
    TessDevice *owner;
    TessTimerFn fn;
    void *opaque;
    uint64_t deadline;
    uint64_t seq;
    gint heap_idx;              /* -1: not pending */
    guint list_idx;             /* slot in clock->timers */
    uint32_t owner_idx;         /* creation order among its owner's timers */
};

struct TessClock {
    TessMachine *m;
    bool deterministic;
    uint32_t ns_per_insn;

    TessDevice *cpu;
    const TessCpuOps *cpu_ops;
    uint64_t base_ns, base_icount;

    int64_t rt_origin;          /* host monotonic ns at virtual 0 (jumps move it back) */
    int64_t rt_paused_total;
    int64_t rt_pause_start;
    bool rt_paused;
    uint64_t rt_last;           /* never report time going backwards */
    int64_t wall_origin;        /* host real time (ns) at virtual 0 */

    TessTimer **heap;
    guint heap_len, heap_cap;
    uint64_t seq;
    GPtrArray *timers;          /* every TessTimer, for release by owner */
    GHashTable *created;        /* owner -> timers it created so far */
};

static int64_t clock_host_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * (int64_t)TESS_NS_PER_SEC + ts.tv_nsec;
}

TessClock *tess_clock_new(TessMachine *m, bool deterministic, uint32_t ns_per_insn)
{
    TessClock *c = g_new0(TessClock, 1);
    c->m = m;
    c->deterministic = deterministic;
    c->ns_per_insn = ns_per_insn ? ns_per_insn : 1;
    c->rt_origin = clock_host_mono_ns();
    c->wall_origin = g_get_real_time() * 1000;
    c->timers = g_ptr_array_new();
    c->created = g_hash_table_new(g_direct_hash, g_direct_equal);
    return c;
}

void tess_clock_free(TessClock *c)
{
    if (!c)
        return;
    for (guint i = 0; i < c->timers->len; i++)
        g_free(g_ptr_array_index(c->timers, i));
    g_ptr_array_unref(c->timers);
    g_hash_table_unref(c->created);
    g_free(c->heap);
    g_free(c);
}

/* ---- time ----------------------------------------------------------------- */

static uint64_t clock_now(TessClock *c)
{
    if (c->deterministic) {
        if (!c->cpu)
            return c->base_ns;
        uint64_t ic = c->cpu_ops->icount(c->cpu);
        if (ic <= c->base_icount)
            return c->base_ns;
        uint64_t d = ic - c->base_icount;
        if (d > (UINT64_MAX - c->base_ns) / c->ns_per_insn)
            return UINT64_MAX;
        return c->base_ns + d * c->ns_per_insn;
    }
    int64_t host = c->rt_paused ? c->rt_pause_start : clock_host_mono_ns();
    int64_t v = host - c->rt_origin - c->rt_paused_total;
    uint64_t now = v > 0 ? (uint64_t)v : 0;
    if (now < c->rt_last)
        now = c->rt_last;
    c->rt_last = now;
    return now;
}

uint64_t tess_clock_ns(TessMachine *m)
{
    return clock_now(m->clock);
}

bool tess_clock_deterministic(TessMachine *m)
{
    return m->clock->deterministic;
}

int64_t tess_clock_wall_ns(TessMachine *m)
{
    TessClock *c = m->clock;
    uint64_t now = clock_now(c);
    int64_t origin = c->deterministic ? CLOCK_DET_EPOCH_NS : c->wall_origin;
    return origin + (int64_t)MIN(now, (uint64_t)(INT64_MAX - origin));
}

void tess_clock_advance_to(TessMachine *m, uint64_t ns)
{
    TessClock *c = m->clock;
    uint64_t now = clock_now(c);
    if (ns <= now)
        return;
    if (c->deterministic) {
        c->base_ns = ns;
        if (c->cpu)
            c->base_icount = c->cpu_ops->icount(c->cpu);
    } else {
        c->rt_origin -= (int64_t)(ns - now);
        c->rt_last = ns;
    }
}

void tess_clock_attach_cpu(TessMachine *m, TessDevice *cpu, const TessCpuOps *ops)
{
    TessClock *c = m->clock;
    uint64_t now = clock_now(c);
    c->cpu = cpu && ops && ops->icount ? cpu : NULL;
    c->cpu_ops = c->cpu ? ops : NULL;
    c->base_ns = now;
    c->base_icount = c->cpu ? ops->icount(cpu) : 0;
}

uint64_t tess_clock_icount_for(TessMachine *m, uint64_t ns)
{
    TessClock *c = m->clock;
    if (!c->cpu || ns == UINT64_MAX)
        return UINT64_MAX;
    uint64_t ic = c->cpu_ops->icount(c->cpu);
    uint64_t now = clock_now(c);
    if (ns <= now)
        return ic;
    uint64_t insns = (ns - now) / c->ns_per_insn + ((ns - now) % c->ns_per_insn != 0);
    return insns > UINT64_MAX - ic ? UINT64_MAX : ic + insns;
}

void tess_clock_pause(TessMachine *m)
{
    TessClock *c = m->clock;
    if (c->deterministic || c->rt_paused)
        return;
    c->rt_pause_start = clock_host_mono_ns();
    c->rt_paused = true;
}

void tess_clock_resume(TessMachine *m)
{
    TessClock *c = m->clock;
    if (c->deterministic || !c->rt_paused)
        return;
    c->rt_paused_total += clock_host_mono_ns() - c->rt_pause_start;
    c->rt_paused = false;
}

/* ---- the heap ------------------------------------------------------------- */

static inline bool timer_before(const TessTimer *a, const TessTimer *b)
{
    return a->deadline < b->deadline ||
           (a->deadline == b->deadline && a->seq < b->seq);
}

static inline void heap_put(TessClock *c, guint i, TessTimer *t)
{
    c->heap[i] = t;
    t->heap_idx = (gint)i;
}

static void heap_up(TessClock *c, guint i)
{
    TessTimer *t = c->heap[i];
    while (i > 0) {
        guint parent = (i - 1) / 2;
        if (!timer_before(t, c->heap[parent]))
            break;
        heap_put(c, i, c->heap[parent]);
        i = parent;
    }
    heap_put(c, i, t);
}

static void heap_down(TessClock *c, guint i)
{
    TessTimer *t = c->heap[i];
    for (;;) {
        guint l = 2 * i + 1, best = i;
        TessTimer *bt = t;
        if (l < c->heap_len && timer_before(c->heap[l], bt))
            best = l, bt = c->heap[l];
        if (l + 1 < c->heap_len && timer_before(c->heap[l + 1], bt))
            best = l + 1, bt = c->heap[l + 1];
        if (best == i)
            break;
        heap_put(c, i, bt);
        i = best;
    }
    heap_put(c, i, t);
}

static void heap_push(TessClock *c, TessTimer *t)
{
    if (c->heap_len == c->heap_cap) {
        c->heap_cap = c->heap_cap ? c->heap_cap * 2 : 16;
        c->heap = g_renew(TessTimer *, c->heap, c->heap_cap);
    }
    heap_put(c, c->heap_len++, t);
    heap_up(c, c->heap_len - 1);
}

static void heap_remove(TessClock *c, TessTimer *t)
{
    guint i = (guint)t->heap_idx;
    TessTimer *last = c->heap[--c->heap_len];
    t->heap_idx = -1;
    if (i == c->heap_len)
        return;
    heap_put(c, i, last);
    heap_up(c, i);
    heap_down(c, (guint)last->heap_idx);
}

/* ---- timers --------------------------------------------------------------- */

TessTimer *tess_timer_new(TessDevice *owner, TessTimerFn fn, void *opaque)
{
    g_return_val_if_fail(owner && owner->machine && fn, NULL);
    TessClock *c = owner->machine->clock;
    TessTimer *t = g_new0(TessTimer, 1);
    t->clock = c;
    t->owner = owner;
    t->fn = fn;
    t->opaque = opaque;
    t->heap_idx = -1;
    t->list_idx = c->timers->len;
    g_ptr_array_add(c->timers, t);
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(c->created, owner));
    t->owner_idx = n;
    g_hash_table_insert(c->created, owner, GUINT_TO_POINTER(n + 1));
    return t;
}

void tess_timer_arm(TessTimer *t, uint64_t deadline_ns)
{
    TessClock *c = t->clock;
    uint64_t earliest = c->heap_len ? c->heap[0]->deadline : UINT64_MAX;

    if (t->heap_idx >= 0)
        heap_remove(c, t);
    t->deadline = deadline_ns;
    t->seq = ++c->seq;
    heap_push(c, t);
    if (deadline_ns < earliest)
        tess_machine_deadline_changed(c->m);
}

void tess_timer_arm_in(TessTimer *t, uint64_t delta_ns)
{
    uint64_t now = clock_now(t->clock);
    tess_timer_arm(t, delta_ns > UINT64_MAX - now ? UINT64_MAX : now + delta_ns);
}

void tess_timer_cancel(TessTimer *t)
{
    if (t && t->heap_idx >= 0)
        heap_remove(t->clock, t);
}

bool tess_timer_pending(const TessTimer *t)
{
    return t && t->heap_idx >= 0;
}

uint64_t tess_timer_deadline(const TessTimer *t)
{
    return t && t->heap_idx >= 0 ? t->deadline : UINT64_MAX;
}

void tess_timer_free(TessTimer *t)
{
    if (!t)
        return;
    TessClock *c = t->clock;
    tess_timer_cancel(t);
    TessTimer *last = g_ptr_array_index(c->timers, c->timers->len - 1);
    g_ptr_array_remove_index_fast(c->timers, t->list_idx);
    if (last != t)
        last->list_idx = t->list_idx;
    g_free(t);
}

void tess_timer_release_owner(TessMachine *m, TessDevice *owner)
{
    TessClock *c = m->clock;
    if (!c)
        return;
    for (guint i = c->timers->len; i-- > 0;) {
        if (i >= c->timers->len)
            continue;
        TessTimer *t = g_ptr_array_index(c->timers, i);
        if (t->owner == owner)
            tess_timer_free(t);
    }
    g_hash_table_remove(c->created, owner);
}

uint64_t tess_clock_next_deadline(TessMachine *m)
{
    TessClock *c = m->clock;
    return c->heap_len ? c->heap[0]->deadline : UINT64_MAX;
}

void tess_clock_run_due(TessMachine *m)
{
    TessClock *c = m->clock;
    uint64_t now = clock_now(c);

    /* Timers a callback arms for `now` or earlier fire in this same pass,
     * in their (deadline, arming) order. */
    while (c->heap_len && c->heap[0]->deadline <= now) {
        TessTimer *t = c->heap[0];
        heap_remove(c, t);
        t->fn(t->opaque);       /* may re-arm or free t or any other timer */
    }
}

/* ---- snapshots -------------------------------------------------------------- */

void tess_timer_identity(const TessTimer *t, TessDevice **owner, uint32_t *index)
{
    *owner = t->owner;
    *index = t->owner_idx;
}

TessTimer *tess_timer_find(TessMachine *m, TessDevice *owner, uint32_t index)
{
    TessClock *c = m->clock;
    for (guint i = 0; i < c->timers->len; i++) {
        TessTimer *t = g_ptr_array_index(c->timers, i);
        if (t->owner == owner && t->owner_idx == index)
            return t;
    }
    return NULL;
}

static gint timer_cmp(gconstpointer a, gconstpointer b)
{
    const TessTimer *x = *(TessTimer *const *)a, *y = *(TessTimer *const *)b;
    return timer_before(x, y) ? -1 : timer_before(y, x) ? 1 : 0;
}

GPtrArray *tess_clock_armed_timers(TessMachine *m)
{
    TessClock *c = m->clock;
    GPtrArray *a = g_ptr_array_sized_new(c->heap_len);
    for (guint i = 0; i < c->heap_len; i++)
        g_ptr_array_add(a, c->heap[i]);
    g_ptr_array_sort(a, timer_cmp);
    return a;
}

void tess_clock_cancel_all(TessMachine *m)
{
    TessClock *c = m->clock;
    while (c->heap_len)
        heap_remove(c, c->heap[0]);
}

void tess_clock_set_now(TessMachine *m, uint64_t ns)
{
    TessClock *c = m->clock;
    if (c->deterministic) {
        c->base_ns = ns;
        c->base_icount = c->cpu ? c->cpu_ops->icount(c->cpu) : 0;
        return;
    }
    int64_t host = c->rt_paused ? c->rt_pause_start : clock_host_mono_ns();
    c->rt_origin = host - c->rt_paused_total - (int64_t)ns;
    c->rt_last = ns;
}
