/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: machine files. The input is a machine file, loaded as
 * `tessera validate` loads one (parse, caps, schema, base machines, every
 * class built and every property set and wired, nothing realized). Any
 * input gets a machine or an error with a message, never a crash or hang.
 */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool quiet;
    if (!quiet) {
        g_log_set_handler(NULL, G_LOG_LEVEL_MASK & ~G_LOG_FATAL_MASK,
                          (GLogFunc)g_log_default_handler, NULL);
        g_setenv("G_MESSAGES_DEBUG", "", TRUE);
        quiet = true;
    }
    g_autofree char *xml = g_strndup((const char *)data, size);
    TessLoadOptions lo = { .mopts = { .deterministic = true, .ns_per_insn = 1 },
                           .no_realize = true };
    GError *err = NULL;
    TessMachine *m = tess_machine_load_string(th_registry(), xml, "/nonexistent", &lo, &err);
    if (m)
        tess_machine_free(m);
    else if (!err || !err->message || !*err->message)
        abort();              /* every failure explains itself */
    g_clear_error(&err);
    return 0;
}
