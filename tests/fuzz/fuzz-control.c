/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the control protocol. The input is what a client
 * sends: it goes through the same line framing rules as the socket (lines
 * up to 64 KiB; longer ones are refused) and each line is handled as a
 * request against a machine with a headless display, VGA, keyboard and an
 * IDE drive (their commands included). Every line gets exactly one reply,
 * a JSON object with "ok", whatever it holds.
 *
 * The same input is then run as a QMP session (the socket's other
 * protocol, core/qmp.c): framed as a stream of JSON values, each answered
 * with one CR LF ended object holding "return" or "error", after the
 * greeting.
 */
#include "harness.h"

#include <stdlib.h>
#include <string.h>
#include <json-glib/json-glib.h>

static TessMachine *machine;

static bool contains(const uint8_t *data, size_t size, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= size; i++)
        if (!memcmp(data + i, needle, n))
            return true;
    return false;
}
static GPtrArray *machines;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!machine) {
        g_log_set_handler(NULL, G_LOG_LEVEL_MASK & ~G_LOG_FATAL_MASK,
                          (GLogFunc)g_log_default_handler, NULL);
        g_setenv("G_MESSAGES_DEBUG", "", TRUE);
        machine = th_machine_try("<device type='vga' id='vga'/>"
                                 "<device type='ui-headless' id='display'/>"
                                 "<device type='i8042' id='kbc'/>", NULL);
        if (!machine)
            machine = th_machine("");
        machines = g_ptr_array_new();
        g_ptr_array_add(machines, machine);
    }
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)((nl ? nl : end) - p);
        if (len <= 65536) {
            g_autofree char *line = g_strndup(p, len);
            g_strstrip(line);
            /* Commands that write host files are not fuzzed (they would
             * litter the disk); they are tested on their own. */
            if (*line && g_utf8_validate(line, -1, NULL) && !strstr(line, "screenshot")) {
                g_autofree char *reply = tess_control_handle_line(machines, line);
                JsonParser *jp = json_parser_new();
                if (!json_parser_load_from_data(jp, reply, -1, NULL) ||
                    !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(jp)) ||
                    !json_object_has_member(json_node_get_object(json_parser_get_root(jp)),
                                            "ok"))
                    abort();
                g_object_unref(jp);
            }
        }
        p += len + (nl ? 1 : 0);
    }
    /* Commands that write host files are left out, as above. */
    if (!contains(data, size, "screendump") && !contains(data, size, "screenshot")) {
        g_autofree char *out = tess_control_handle_qmp(machines, (const char *)data, size);
        g_auto(GStrv) msgs = g_strsplit(out, "\r\n", -1);
        guint n = g_strv_length(msgs);
        if (n < 2 || *msgs[n - 1])
            abort();
        for (guint i = 0; i + 1 < n; i++) {
            JsonParser *jp = json_parser_new();
            JsonNode *root = json_parser_load_from_data(jp, msgs[i], -1, NULL)
                             ? json_parser_get_root(jp) : NULL;
            JsonObject *o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root)
                                                                 : NULL;
            if (!o || !json_object_has_member(o, i ? (json_object_has_member(o, "error")
                                                      ? "error" : "return") : "QMP"))
                abort();
            g_object_unref(jp);
        }
    }
    /* "quit" asks the machine to stop; keep fuzzing the same one. */
    machine->exit_requested = false;
    return 0;
}
