/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Signal lines: named, level-valued wires between devices.
 *
 * A device's output lines are TessSignal objects the core creates from the
 * class's TessLineSpec. Raising or lowering one propagates to every input
 * wired to it; an input sees the OR of all outputs wired to it (shared,
 * wired-OR lines, as PCI INTx). Edge detection, if a model needs it, is the
 * receiving model's business. Setting the level it already has does nothing.
 *
 * Wiring comes from the machine file (<wire from="pit0.out0" to="pic0.ir0"/>)
 * or from a bus that routes lines (PCI INTx), with tess_signal_connect.
 */
#ifndef TESSERA_SIGNAL_H
#define TESSERA_SIGNAL_H

#include <tessera/types.h>

G_BEGIN_DECLS

void tess_signal_set(TessSignal *s, bool level);
static inline void tess_signal_raise(TessSignal *s) { tess_signal_set(s, true); }
static inline void tess_signal_lower(TessSignal *s) { tess_signal_set(s, false); }
void tess_signal_pulse(TessSignal *s);          /* raise then lower */
bool tess_signal_level(const TessSignal *s);

/* Wire an output to the input line `line` ("ir3", "int") of device dst. */
bool tess_signal_connect(TessSignal *out, TessDevice *dst, const char *line,
                         GError **err);
void tess_signal_disconnect(TessSignal *out, TessDevice *dst, const char *line);

/* Look up a device's output by line name ("out0"). */
TessSignal *tess_device_output(TessDevice *dev, const char *line);

/* An input's current (ORed) level, after asking every device driving it
 * to bring lazily computed outputs up to date (TessDeviceClass.sync_outputs). */
bool tess_device_input_level(TessDevice *dev, const char *line);

G_END_DECLS

#endif
