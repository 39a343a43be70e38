/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a device may ask of the machine it lives in.
 */
#ifndef TESSERA_MACHINE_H
#define TESSERA_MACHINE_H

#include <tessera/types.h>

G_BEGIN_DECLS

/* End the run with this process exit status (test-exit, power-off).
 * Takes effect at the next instruction boundary. */
void tess_machine_request_exit(TessMachine *m, int status);
/* Reset every device and the CPU (keyboard-controller reset, port 0x92,
 * triple fault). */
void tess_machine_request_reset(TessMachine *m);

const char *tess_machine_name(TessMachine *m);
/* Directory of the machine file, for resolving relative paths. */
const char *tess_machine_dir(TessMachine *m);

/* True while `tessera validate` realizes the machine to find what run
 * would refuse, without running it. Realize as always - claim ports,
 * memory, PCI slots, lines and DMA channels, which is how clashes are
 * found - and check host-side resources without acquiring them: a file
 * may be opened read-only (it exists, its format is right); nothing is
 * created or written, and no socket, thread, window, audio device or
 * /dev/kvm is opened. The machine is unrealized and freed, never reset
 * or run; unrealize must not write anything back either. Chardevs
 * (tess_chardev_open) are dry by themselves. Added in ABI 2.3. */
bool tess_machine_dry_run(TessMachine *m);

/* Find a data file shipped with Tessera or the system (firmware, fonts):
 * an absolute path is checked as is; a relative one is looked up in the
 * machine file's directory, then $TESSERA_DATA_PATH, then Tessera's data
 * directory. Returns a newly allocated path, or NULL with an error. */
char *tess_find_data_file(TessMachine *m, const char *name, GError **err);

/* Run fn(m, data) on the machine's thread, between instructions, soon.
 * Thread-safe: this is how host threads (a UI's main loop, a socket
 * reader) hand work to a machine. Requests run in the order posted; one
 * posted after the machine has stopped never runs (data is not freed). */
void tess_machine_post(TessMachine *m, void (*fn)(TessMachine *m, void *data), void *data);

/* Rate-limited log of a guest programming error: at most a few lines per
 * device per second reach the debug log, the rest are counted. */
void tess_guest_error(TessDevice *dev, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Trace points (`tessera run --debug DOMAIN`) that cost one test of a
 * bool when off: a plugin keeps a flag, sets it once (at realize) with
 * TESS_TRACE_INIT, and traces with TESS_TRACE, which formats nothing
 * unless the domain is on:
 *     static bool pic_trace;
 *     TESS_TRACE_INIT(pic_trace);                      (in realize)
 *     TESS_TRACE(pic_trace, "%s: ICW1 %02x", dev->id, v);
 * Header-only: no symbol of the plugin ABI. */
#define TESS_TRACE_INIT(flag) \
    ((flag) = !g_log_writer_default_would_drop(G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN))
#define TESS_TRACE(flag, ...)      \
    do {                           \
        if (G_UNLIKELY(flag))      \
            g_debug(__VA_ARGS__);  \
    } while (0)

G_END_DECLS

#endif
