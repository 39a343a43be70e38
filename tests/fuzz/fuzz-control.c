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
#include "tess-config.h"

#include <stdlib.h>
#include <string.h>

/* ---- the oracle: is a reply one JSON object (RFC 8259), and which
 * members does it have at its top level? A strict checker of its own
 * rather than json-glib: building and freeing a JsonParser and its tree
 * for every reply was a third of each execution, and json-glib accepts
 * text that is no JSON (it is what wrote "1e+19.0"). Uninstrumented: the
 * harness's own branches are not what is fuzzed. */
#define FZ_PLAIN __attribute__((no_sanitize("coverage"), noinline))

typedef struct {
    const char *p;
    const char *const *want;    /* top-level member names to look for */
    unsigned found;             /* bit i: want[i] is a member */
} Js;

FZ_PLAIN static void js_ws(Js *j)
{
    while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
        j->p++;
}

FZ_PLAIN static bool js_hex(char c)
{
    return g_ascii_isxdigit(c);
}

/* A string; its text (escapes as written) in [*s, *e). */
FZ_PLAIN static bool js_string(Js *j, const char **s, const char **e)
{
    if (*j->p != '"')
        return false;
    *s = ++j->p;
    for (;;) {
        unsigned char c = (unsigned char)*j->p;
        if (c == '"')
            break;
        if (c < 0x20)
            return false;       /* control characters and the end */
        if (c == '\\') {
            char x = *++j->p;
            if (x == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!js_hex(j->p[i]))
                        return false;
                j->p += 4;
            } else if (!strchr("\"\\/bfnrt", x) || !x) {
                return false;
            }
        }
        j->p++;
    }
    *e = j->p++;
    return true;
}

FZ_PLAIN static bool js_number(Js *j)
{
    const char *p = j->p;
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (g_ascii_isdigit(*p))
            p++;
    else
        return false;
    if (*p == '.') {
        if (!g_ascii_isdigit(*++p))
            return false;
        while (g_ascii_isdigit(*p))
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        if (*++p == '+' || *p == '-')
            p++;
        if (!g_ascii_isdigit(*p))
            return false;
        while (g_ascii_isdigit(*p))
            p++;
    }
    j->p = p;
    return true;
}

FZ_PLAIN static bool js_literal(Js *j, const char *word)
{
    size_t n = strlen(word);
    if (strncmp(j->p, word, n))
        return false;
    j->p += n;
    return true;
}

FZ_PLAIN static bool js_value(Js *j, unsigned depth)
{
    const char *s, *e;
    if (depth > 512)
        return false;
    js_ws(j);
    switch (*j->p) {
    case '{':
    case '[': {
        char close = *j->p == '{' ? '}' : ']';
        bool obj = close == '}';
        j->p++;
        js_ws(j);
        if (*j->p == close) {
            j->p++;
            return true;
        }
        for (;;) {
            if (obj) {
                js_ws(j);
                if (!js_string(j, &s, &e))
                    return false;
                for (unsigned i = 0; depth == 0 && j->want[i]; i++)
                    if ((size_t)(e - s) == strlen(j->want[i]) &&
                        !memcmp(s, j->want[i], (size_t)(e - s)))
                        j->found |= 1u << i;
                js_ws(j);
                if (*j->p++ != ':')
                    return false;
            }
            if (!js_value(j, depth + 1))
                return false;
            js_ws(j);
            if (*j->p == close) {
                j->p++;
                return true;
            }
            if (*j->p++ != ',')
                return false;
        }
    }
    case '"':
        return js_string(j, &s, &e);
    case 't':
        return js_literal(j, "true");
    case 'f':
        return js_literal(j, "false");
    case 'n':
        return js_literal(j, "null");
    default:
        return js_number(j);
    }
}

/* text is exactly one JSON object (valid UTF-8); returns the bits of the
 * names in want (NULL-terminated) that it has as members, or -1. */
FZ_PLAIN static int js_object_members(const char *text, const char *const *want)
{
    Js j = { text, want, 0 };
    js_ws(&j);
    if (*j.p != '{' || !g_utf8_validate(text, -1, NULL) || !js_value(&j, 0))
        return -1;
    js_ws(&j);
    return *j.p ? -1 : (int)j.found;
}

static TessMachine *machine;

/* The machine's registry holds only the plugins it is built from, not
 * every plugin of the tree (th_registry): after each input libFuzzer walks
 * the coverage counters of every loaded module, and the others (the x86
 * CPU above all) were four fifths of them, for code no request reaches (no
 * command creates a device). */
static TessMachine *control_machine(void)
{
    static const char *const plugins[] = {
        "devices/vga/vga.so", "ui/headless/ui-headless.so", "devices/i8042/i8042.so",
    };
    g_autoptr(GError) err = NULL;
    TessRegistry *reg = tess_registry_new();
    for (size_t i = 0; i < G_N_ELEMENTS(plugins); i++) {
        g_autofree char *path = g_build_filename(TESS_BUILD_ROOT, "plugins", plugins[i], NULL);
        if (!tess_registry_load(reg, path, &err))
            g_error("fuzz-control: %s", err->message);
    }
    /* as th_machine builds one: deterministic, guard pages around RAM */
    TessLoadOptions lo = { .mopts = { .deterministic = true, .ns_per_insn = 1,
                                      .ram_guard = true } };
    TessMachine *m = tess_machine_load_string(reg, "<machine name='test'><memory size='1M'/>"
                                              "<device type='vga' id='vga'/>"
                                              "<device type='ui-headless' id='display'/>"
                                              "<device type='i8042' id='kbc'/></machine>",
                                              NULL, &lo, &err);
    if (!m)
        g_error("fuzz-control: cannot build the machine: %s", err->message);
    return m;
}

FZ_PLAIN static bool contains(const uint8_t *data, size_t size, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= size; i++)
        if (data[i] == (uint8_t)needle[0] && !memcmp(data + i, needle, n))
            return true;
    return false;
}
static GPtrArray *machines;

/* A QMP session's output: CR LF ended messages, the greeting first, then
 * one object per reply with "return" or "error" (one of them). Split in
 * place: a g_strsplit per input was a twentieth of each execution. */
FZ_PLAIN static bool qmp_output_ok(char *out)
{
    static const char *const greet[] = { "QMP", NULL };
    static const char *const answer[] = { "return", "error", NULL };
    unsigned i = 0;
    for (char *p = out; *p; i++) {
        /* by hand: ASan's strstr measures the whole rest each time */
        char *e = p;
        while (*e && (e[0] != '\r' || e[1] != '\n'))
            e++;
        if (!*e)
            return false;       /* text after the last CR LF */
        *e = 0;
        int has = js_object_members(p, i ? answer : greet);
        if (i ? has != 1 && has != 2 : has != 1)
            return false;
        p = e + 2;
    }
    return i >= 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!machine) {
        g_log_set_handler(NULL, G_LOG_LEVEL_MASK & ~G_LOG_FATAL_MASK,
                          (GLogFunc)g_log_default_handler, NULL);
        g_setenv("G_MESSAGES_DEBUG", "", TRUE);
        machine = control_machine();
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
                static const char *const ok[] = { "ok", NULL };
                if (js_object_members(reply, ok) != 1)
                    abort();
            }
        }
        p += len + (nl ? 1 : 0);
    }
    /* Commands that write host files are left out, as above. */
    if (!contains(data, size, "screendump") && !contains(data, size, "screenshot")) {
        g_autofree char *out = tess_control_handle_qmp(machines, (const char *)data, size);
        if (!qmp_output_ok(out))
            abort();
    }
    /* "quit" asks the machine to stop; keep fuzzing the same one. */
    machine->exit_requested = false;
    return 0;
}
