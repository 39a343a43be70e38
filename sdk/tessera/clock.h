/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Virtual time and timers.
 *
 * Virtual time is in nanoseconds since power-on. In deterministic mode it
 * is driven by the CPU's retired-instruction count (and jumps to the next
 * deadline while the CPU halts), so identical inputs give identical
 * outputs. In realtime mode it follows the host's monotonic clock, minus
 * the time the machine spent paused.
 *
 * Timer callbacks run on the machine's thread, between instructions, in
 * deadline order (ties in arming order). A callback may re-arm its timer.
 */
#ifndef TESSERA_CLOCK_H
#define TESSERA_CLOCK_H

#include <tessera/types.h>

G_BEGIN_DECLS

#define TESS_NS_PER_SEC 1000000000ull

typedef void (*TessTimerFn)(void *opaque);

uint64_t tess_clock_ns(TessMachine *m);
bool tess_clock_deterministic(TessMachine *m);

/* Host wall-clock time (Unix seconds and ns) matching virtual time now:
 * the host's time of day in realtime mode, a fixed epoch plus virtual time
 * in deterministic mode. For RTCs. */
int64_t tess_clock_wall_ns(TessMachine *m);

TessTimer *tess_timer_new(TessDevice *owner, TessTimerFn fn, void *opaque);
void tess_timer_arm(TessTimer *t, uint64_t deadline_ns);     /* absolute */
void tess_timer_arm_in(TessTimer *t, uint64_t delta_ns);     /* relative to now */
void tess_timer_cancel(TessTimer *t);
bool tess_timer_pending(const TessTimer *t);
uint64_t tess_timer_deadline(const TessTimer *t);
void tess_timer_free(TessTimer *t);

G_END_DECLS

#endif
