/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test harness: build a real machine from an XML fragment with the real
 * plugins of the build tree, then drive its ports, memory and clock the
 * way a CPU would. Used by core tests and by every device's unit tests.
 *
 *   TessMachine *m = th_machine("<device type='pic8259' id='pic0'/>", NULL);
 *   th_outb(m, 0x20, 0x11);
 *   ...
 *   th_machine_free(m);
 *
 * The fragment is wrapped in <machine name="test"><memory size="..."/>...
 * </machine> (1 MiB of RAM unless the fragment has its own <memory>), so
 * it may hold <device>, <wire> and <memory> elements. The machine is
 * deterministic and has no CPU: time moves only with th_advance().
 * Failure to build is a test failure (g_assert) with the error printed;
 * th_machine_try returns NULL and the error instead.
 */
#ifndef TESSERA_TEST_HARNESS_H
#define TESSERA_TEST_HARNESS_H

#include "core.h"

TessRegistry *th_registry(void);           /* shared; plugins of the build tree */
TessMachine *th_machine(const char *fragment);
TessMachine *th_machine_try(const char *fragment, GError **err);
void th_machine_free(TessMachine *m);

static inline void th_outb(TessMachine *m, uint32_t p, uint8_t v) { tess_pio_write(m, p, v, 1); }
static inline void th_outw(TessMachine *m, uint32_t p, uint16_t v) { tess_pio_write(m, p, v, 2); }
static inline void th_outl(TessMachine *m, uint32_t p, uint32_t v) { tess_pio_write(m, p, v, 4); }
static inline uint8_t th_inb(TessMachine *m, uint32_t p) { return (uint8_t)tess_pio_read(m, p, 1); }
static inline uint16_t th_inw(TessMachine *m, uint32_t p) { return (uint16_t)tess_pio_read(m, p, 2); }
static inline uint32_t th_inl(TessMachine *m, uint32_t p) { return tess_pio_read(m, p, 4); }

/* Advance virtual time by ns, firing due timers in order. */
void th_advance(TessMachine *m, uint64_t ns);

/* A probe device ("th-probe", built into the harness) with 16 input lines
 * in0..in15 that records levels and rising edges, so tests can wire a
 * device's outputs to it: <device type="th-probe" id="probe"/>
 * <wire from="pic0.int" to="probe.in0"/>. */
bool th_probe_level(TessMachine *m, const char *probe_id, unsigned line);
unsigned th_probe_edges(TessMachine *m, const char *probe_id, unsigned line);

/* A source device ("th-source", built in too) with 16 output lines
 * out0..out15 that a test sets by hand, to drive a device's inputs:
 * <device type="th-source" id="src"/> <wire from="src.out3" to="pic0.ir3"/>,
 * then th_source_set(m, "src", 3, true). */
void th_source_set(TessMachine *m, const char *source_id, unsigned line, bool level);

/* A fake interrupt acknowledge: calls the "intc" provider's ack. */
uint8_t th_intack(TessMachine *m);

#endif
