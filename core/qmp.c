/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QMP, QEMU's JSON machine protocol, on the control socket (docs/control.md).
 *
 *   <- {"QMP": {"version": {...}, "capabilities": []}}
 *   -> {"execute": "qmp_capabilities"}
 *   <- {"return": {}}
 *   -> {"execute": "query-status", "id": 7}
 *   <- {"return": {"status": "running", "running": true, "singlestep": false}, "id": 7}
 *   <- {"event": "STOP", "data": {}, "timestamp": {"seconds": ..., "microseconds": ...}}
 *
 * The connection layer (control.c) frames the input with tess_qmp_frame and
 * sends what this file builds. The input rules, error texts and classes
 * follow QEMU's (qapi/qmp-dispatch.c behaviour, as documented in
 * docs/interop/qmp-spec), so that QEMU's own clients work unchanged. Most
 * commands map onto a line-protocol command (tess_control_run), so both
 * protocols do the same thing for the same request; Tessera's own are
 * named tessera-*.
 */
#include "qmp.h"
#include "tess-config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

struct QmpCall {
    const struct QmpCommand *cmd;
    TessMachine *m;
    TessControl *ctl;
    JsonNode *id;               /* echoed; NULL when absent */
    JsonObject *args;           /* never NULL */
};

typedef JsonNode *(*QmpFn)(TessMachine *m, QmpCall *q, GError **err);

typedef struct QmpCommand {
    const char *name;
    /* Accepted arguments; a '?' suffix marks an optional one. */
    const char *args[5];
    QmpFn fn;
} QmpCommand;

/* ---- framing ----------------------------------------------------------------- */

/* How json_value_end scans, and what it met. */
typedef struct {
    gsize depth_max;        /* deeper nesting stops the scan (too_deep) */
    bool strict;            /* outside strings only what JSON allows there */
    bool newline;           /* out: a newline lies within the scanned part */
    bool too_deep;          /* out */
    gsize bad;              /* out: 1 + offset of a character strict refused */
} JsonScan;

/* Where the value opening at buf[i] ('{' or '[') ends: brackets balance
 * outside strings. Returns the offset past its closing bracket, or 0 when
 * the input ends first or the scan stops (too_deep, bad). */
static gsize json_value_end(const guint8 *buf, gsize len, gsize i, JsonScan *sc)
{
    gsize depth = 0;
    bool in_str = false, esc = false;
    unsigned hex = 0;           /* strict: \u digits still to come */
    for (; i < len; i++) {
        guint8 ch = buf[i];
        if (ch == '\n')
            sc->newline = true;
        if (in_str) {
            /* strict: inside strings too, only JSON - escapes JSON has,
             * no control characters (json-glib takes both, and what it
             * then writes back, in an echoed id, is no JSON) */
            bool refuse = false;
            if (hex) {
                hex--;
                refuse = !g_ascii_isxdigit(ch);
            } else if (esc) {
                esc = false;
                if (ch == 'u')
                    hex = 4;
                else
                    refuse = !ch || !strchr("\"\\/bfnrt", ch);
            } else if (ch == '\\') {
                esc = true;
            } else if (ch == '"') {
                in_str = false;
            } else {
                refuse = ch < 0x20;
            }
            if (refuse && sc->strict) {
                sc->bad = i + 1;
                return 0;
            }
        } else if (ch == '"') {
            in_str = true;
        } else if (ch == '{' || ch == '[') {
            if (++depth > sc->depth_max) {
                sc->too_deep = true;
                return 0;
            }
        } else if (ch == '}' || ch == ']') {
            if (--depth == 0)
                return i + 1;
        } else if (sc->strict && (!ch || !strchr(" \t\r\n,:-+.0123456789abcdefghijklmnopqrstuvwxyzE",
                                                 ch))) {
            /* Outside strings JSON has only these (true, false, null and
             * numbers); json-glib would also take comments, single-quoted
             * strings and "var x =". */
            sc->bad = i + 1;
            return 0;
        }
    }
    return 0;
}

QmpFrame tess_qmp_frame(const guint8 *buf, gsize len, gsize *start, gsize *end, bool *newline)
{
    gsize i = 0;
    while (i < len && g_ascii_isspace(buf[i]))
        i++;
    *start = *end = i;
    *newline = false;
    if (i == len)
        return QMP_FRAME_NONE;
    if (buf[i] != '{' && buf[i] != '[') {
        /* Not the start of a value: skip to where one could start (or the
         * line's end), so one error answers one run of junk. */
        for (i++; i < len; i++) {
            if (buf[i] == '{' || buf[i] == '[') {
                *end = i;
                return QMP_FRAME_JUNK;
            }
            if (buf[i] == '\n') {
                *end = i + 1;
                return QMP_FRAME_JUNK;
            }
        }
        return QMP_FRAME_NONE;
    }
    /* Brackets balance outside strings; what is inside is the JSON
     * parser's business once the value is complete. */
    JsonScan sc = { .depth_max = G_MAXSIZE };
    *end = json_value_end(buf, len, i, &sc);
    *newline = sc.newline;
    if (!*end) {
        *end = *start;
        return QMP_FRAME_NONE;
    }
    return QMP_FRAME_VALUE;
}

/* Deepest nesting of a request's JSON (QMP's own arguments need four). */
#define JSON_DEPTH_MAX 1024u

JsonNode *tess_json_parse_one(const char *text, gsize len, GError **err)
{
    gsize i = 0;
    while (i < len && g_ascii_isspace(text[i]))
        i++;
    gsize start = i;
    if (i == len || (text[i] != '{' && text[i] != '[')) {
        g_set_error(err, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
                    "expected a JSON object or array");
        return NULL;
    }
    /* json-glib recurses once per level (QEMU caps it likewise) */
    JsonScan sc = { .depth_max = JSON_DEPTH_MAX, .strict = true };
    gsize end = json_value_end((const guint8 *)text, len, i, &sc);
    if (sc.too_deep) {
        g_set_error(err, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
                    "nested deeper than %u levels", JSON_DEPTH_MAX);
        return NULL;
    }
    if (sc.bad) {
        g_set_error(err, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
                    "unexpected character at offset %" G_GSIZE_FORMAT, sc.bad - 1);
        return NULL;
    }
    if (!end) {
        g_set_error(err, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
                    "unexpected end of input");
        return NULL;
    }
    for (i = end; i < len; i++) {
        if (!g_ascii_isspace(text[i])) {
            g_set_error(err, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
                        "unexpected text after the value at offset %" G_GSIZE_FORMAT, i);
            return NULL;
        }
    }
    g_autoptr(JsonParser) p = json_parser_new();
    if (!json_parser_load_from_data(p, text + start, (gssize)(end - start), err))
        return NULL;
    return json_parser_steal_root(p);
}

bool tess_qmp_looks_like_qmp(const char *text, gsize len)
{
    g_autoptr(JsonNode) root = tess_json_parse_one(text, len, NULL);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root))
        return false;
    JsonObject *o = json_node_get_object(root);
    return json_object_has_member(o, "execute") || json_object_has_member(o, "exec-oob");
}

/* ---- replies ----------------------------------------------------------------- */

char *tess_json_text(JsonNode *n, bool pretty)
{
    char *t = json_to_string(n, pretty);
    /* json-glib 1.6 writes U+001F inside strings as it is, which JSON does
     * not allow; outside strings its output has no control characters,
     * so every such byte is in a string. */
    if (!strchr(t, 0x1F))
        return t;
    GString *o = g_string_sized_new(strlen(t) + 16);
    for (const char *p = t; *p; p++) {
        if (*p == 0x1F)
            g_string_append(o, "\\u001f");
        else
            g_string_append_c(o, *p);
    }
    g_free(t);
    return g_string_free(o, FALSE);
}

static char *obj_text(JsonObject *o)
{
    g_autoptr(JsonNode) n = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(n, o);
    return tess_json_text(n, FALSE);
}

static void version_numbers(int v[3])
{
    v[0] = v[1] = v[2] = 0;
    sscanf(TESS_VERSION, "%d.%d.%d", &v[0], &v[1], &v[2]);
}

/* QEMU's VersionInfo shape: clients parse "qemu" and "package". */
static JsonNode *version_info(void)
{
    int v[3];
    version_numbers(v);
    JsonObject *q = json_object_new();
    json_object_set_int_member(q, "major", v[0]);
    json_object_set_int_member(q, "minor", v[1]);
    json_object_set_int_member(q, "micro", v[2]);
    JsonObject *o = json_object_new();
    json_object_set_object_member(o, "qemu", q);
    json_object_set_string_member(o, "package", "Tessera " TESS_VERSION);
    JsonNode *n = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(n, o);
    return n;
}

static gpointer greeting_text(gpointer unused)
{
    JsonObject *qmp = json_object_new();
    json_object_set_member(qmp, "version", version_info());
    json_object_set_array_member(qmp, "capabilities", json_array_new());
    JsonObject *o = json_object_new();
    json_object_set_object_member(o, "QMP", qmp);
    return obj_text(o);
}

/* The same text for every connection: built once. */
char *tess_qmp_greeting(void)
{
    static GOnce once = G_ONCE_INIT;
    return g_strdup(g_once(&once, greeting_text, NULL));
}

/* Errors are most of what a hostile or confused client gets back: they
 * are written directly rather than through a JsonObject tree and a
 * JsonGenerator (a GObject per reply), with json-glib's escapes - except
 * that U+001F is escaped (json-glib 1.6 drops it) and invalid UTF-8 (a
 * message quoting what a client sent) becomes U+FFFD, never JSON text
 * that is not UTF-8. */
void tess_json_append_string(GString *out, const char *s)
{
    g_autofree char *valid = g_utf8_validate(s, -1, NULL) ? NULL : g_utf8_make_valid(s, -1);
    if (valid)
        s = valid;
    g_string_append_c(out, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        /* a run needing no escape in one append (a message may quote
         * kilobytes of what a client sent) */
        const unsigned char *run = p;
        while (*p >= 0x20 && *p != 0x7F && *p != '"' && *p != '\\')
            p++;
        if (p > run)
            g_string_append_len(out, (const char *)run, p - run);
        if (!*p)
            break;
        switch (*p) {
        case '"': g_string_append(out, "\\\""); break;
        case '\\': g_string_append(out, "\\\\"); break;
        case '\b': g_string_append(out, "\\b"); break;
        case '\f': g_string_append(out, "\\f"); break;
        case '\n': g_string_append(out, "\\n"); break;
        case '\r': g_string_append(out, "\\r"); break;
        case '\t': g_string_append(out, "\\t"); break;
        default:    /* the other control characters and DEL */
            g_string_append_printf(out, "\\u%04x", *p);
        }
    }
    g_string_append_c(out, '"');
}

char *tess_qmp_error_text(const char *cls, const char *desc, JsonNode *id)
{
    GString *o = g_string_new("{\"error\":{\"class\":");
    tess_json_append_string(o, cls);
    g_string_append(o, ",\"desc\":");
    tess_json_append_string(o, desc);
    g_string_append_c(o, '}');
    if (id) {
        g_autofree char *t = tess_json_text(id, FALSE);
        g_string_append(o, ",\"id\":");
        g_string_append(o, t);
    }
    g_string_append_c(o, '}');
    return g_string_free(o, FALSE);
}

static char *return_text(JsonNode *ret, JsonNode *id)
{
    JsonObject *o = json_object_new();
    if (ret)
        json_object_set_member(o, "return", ret);
    else
        json_object_set_object_member(o, "return", json_object_new());
    if (id)
        json_object_set_member(o, "id", json_node_copy(id));
    return obj_text(o);
}

char *tess_qmp_event_text(const char *name, JsonNode *data)
{
    gint64 now = g_get_real_time();
    JsonObject *ts = json_object_new();
    json_object_set_int_member(ts, "seconds", now / G_USEC_PER_SEC);
    json_object_set_int_member(ts, "microseconds", now % G_USEC_PER_SEC);
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "event", name);
    if (data)
        json_object_set_member(o, "data", data);
    else
        json_object_set_object_member(o, "data", json_object_new());
    json_object_set_object_member(o, "timestamp", ts);
    return obj_text(o);
}

/* ---- arguments --------------------------------------------------------------- */

/* A string argument; NULL (with an error when required) when absent. */
static const char *arg_str(QmpCall *q, const char *name, bool required, GError **err)
{
    JsonNode *n = json_object_get_member(q->args, name);
    if (!n) {
        if (required)
            g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                        "Parameter '%s' is missing", name);
        return NULL;
    }
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "Invalid parameter type for '%s', expected: string", name);
        return NULL;
    }
    return json_node_get_string(n);
}

/* A line-protocol command with these arguments; its reply becomes
 * {"reply": ...} (a string, or the object the command returns). */
static JsonNode *run_line(TessMachine *m, QmpCall *q, const char *cmd, GPtrArray *argv,
                          GError **err)
{
    g_ptr_array_add(argv, NULL);
    CtlCall a = { .ctl = q->ctl, .cmd = cmd, .argc = (int)argv->len - 1,
                  .argv = (char **)argv->pdata };
    tess_control_run(m, &a);
    if (a.error) {
        g_propagate_error(err, a.error);
        if (a.result)
            json_node_unref(a.result);
        return NULL;
    }
    JsonObject *o = json_object_new();
    if (a.result)
        json_object_set_member(o, "reply", a.result);
    JsonNode *n = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(n, o);
    return n;
}

/* The line command `cmd` with the named string arguments in order (all
 * required); QMP's own result is {} unless keep_reply. */
static JsonNode *run_mapped(TessMachine *m, QmpCall *q, const char *cmd,
                            const char *const *names, bool keep_reply, GError **err)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    for (; names && *names; names++) {
        const char *v = arg_str(q, *names, true, err);
        if (!v)
            return NULL;
        g_ptr_array_add(argv, g_strdup(v));
    }
    JsonNode *r = run_line(m, q, cmd, argv, err);
    argv->len--;                /* the NULL run_line appended */
    if (r && !keep_reply) {
        json_node_unref(r);
        r = NULL;
    }
    return r;
}

/* ---- commands ---------------------------------------------------------------- */

static JsonNode *qmp_query_status(TessMachine *m, QmpCall *q, GError **err)
{
    JsonObject *o = json_object_new();
    const char *st = m->state == TESS_RUN_RUNNING ? "running"
                   : m->state == TESS_RUN_PAUSED ? "paused" : "shutdown";
    json_object_set_string_member(o, "status", st);
    json_object_set_boolean_member(o, "running", m->state == TESS_RUN_RUNNING);
    json_object_set_boolean_member(o, "singlestep", FALSE);
    JsonNode *n = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(n, o);
    return n;
}

static JsonNode *qmp_stop(TessMachine *m, QmpCall *q, GError **err)
{
    return run_mapped(m, q, "pause", NULL, false, err);
}

static JsonNode *qmp_cont(TessMachine *m, QmpCall *q, GError **err)
{
    return run_mapped(m, q, "resume", NULL, false, err);
}

static JsonNode *qmp_system_reset(TessMachine *m, QmpCall *q, GError **err)
{
    if (m->state == TESS_RUN_STOPPED) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "machine '%s' has stopped", m->name);
        return NULL;
    }
    tess_control_note_host(q->ctl, m, CTL_HOST_RESET);
    tess_machine_request_reset(m);
    return NULL;
}

/* Press and release the power button: the device that has a "pwrbtn"
 * input (the ACPI PM function) sets PWRBTN_STS, and an ACPI guest shuts
 * down. A line a wire holds high is left alone: the button is pressed. */
static JsonNode *qmp_system_powerdown(TessMachine *m, QmpCall *q, GError **err)
{
    for (guint i = 0; i < m->devices->len; i++) {
        TessDevice *d = m->devices->pdata[i];
        TessInputPin *pin = tess_device_input(d, "pwrbtn");
        if (!pin || !pin->spec->set)
            continue;
        if (!pin->high) {
            pin->spec->set(d, pin->index, true);
            pin->spec->set(d, pin->index, false);
        }
        tess_control_event(q->ctl, m, "POWERDOWN", NULL);
        return NULL;
    }
    g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_NOT_FOUND,
                "the machine has no power button (no device with a \"pwrbtn\" line, "
                "such as acpi-pm)");
    return NULL;
}

static JsonNode *qmp_quit(TessMachine *m, QmpCall *q, GError **err)
{
    tess_control_note_host(q->ctl, m, CTL_HOST_QUIT);
    return run_mapped(m, q, "quit", NULL, false, err);
}

static JsonNode *qmp_screendump(TessMachine *m, QmpCall *q, GError **err)
{
    const char *file = arg_str(q, "filename", true, err);
    if (!file)
        return NULL;
    GError *e = NULL;
    const char *format = arg_str(q, "format", false, &e);
    if (e) {
        g_propagate_error(err, e);
        return NULL;
    }
    /* QEMU's default is PPM; "device" and "head" name the one display. */
    if (!format)
        format = "ppm";
    if (strcmp(format, "ppm") && strcmp(format, "png")) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "Parameter 'format' does not accept value '%s'", format);
        return NULL;
    }
    arg_str(q, "device", false, &e);
    if (e) {
        g_propagate_error(err, e);
        return NULL;
    }
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)file);
    g_ptr_array_add(argv, (char *)format);
    JsonNode *r = run_line(m, q, "screenshot", argv, err);
    if (r)
        json_node_unref(r);
    return NULL;
}

/* send-key: every key of "keys" goes down together, then up in reverse
 * order (as sendkey's one combination does); "hold-time" is accepted,
 * the timing is sendkey's. */
static JsonNode *qmp_send_key(TessMachine *m, QmpCall *q, GError **err)
{
    JsonNode *kn = json_object_get_member(q->args, "keys");
    if (!kn) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID, "Parameter 'keys' is missing");
        return NULL;
    }
    JsonArray *keys = JSON_NODE_HOLDS_ARRAY(kn) ? json_node_get_array(kn) : NULL;
    if (!keys || !json_array_get_length(keys)) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "Parameter 'keys' expects a non-empty array of KeyValue");
        return NULL;
    }
    JsonNode *hold = json_object_get_member(q->args, "hold-time");
    if (hold && (!JSON_NODE_HOLDS_VALUE(hold) || json_node_get_value_type(hold) != G_TYPE_INT64)) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "Invalid parameter type for 'hold-time', expected: integer");
        return NULL;
    }
    g_autoptr(GString) combo = g_string_new(NULL);
    for (guint i = 0; i < json_array_get_length(keys); i++) {
        JsonNode *el = json_array_get_element(keys, i);
        JsonObject *k = JSON_NODE_HOLDS_OBJECT(el) ? json_node_get_object(el) : NULL;
        JsonNode *tn = k ? json_object_get_member(k, "type") : NULL;
        const char *type = tn && JSON_NODE_HOLDS_VALUE(tn) &&
                           json_node_get_value_type(tn) == G_TYPE_STRING
                           ? json_node_get_string(tn) : NULL;
        JsonNode *data = k ? json_object_get_member(k, "data") : NULL;
        if (!type || !data || !JSON_NODE_HOLDS_VALUE(data)) {
            g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                        "keys[%u]: expected {\"type\": \"qcode\", \"data\": NAME}", i);
            return NULL;
        }
        if (!strcmp(type, "number")) {
            g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_UNSUPPORTED,
                        "keys[%u]: key numbers are not supported; use \"qcode\" names", i);
            return NULL;
        }
        if (strcmp(type, "qcode") || json_node_get_value_type(data) != G_TYPE_STRING ||
            strchr(json_node_get_string(data), '-') || !*json_node_get_string(data)) {
            g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                        "keys[%u]: expected {\"type\": \"qcode\", \"data\": NAME}", i);
            return NULL;
        }
        g_string_append_printf(combo, "%s%s", i ? "-" : "", json_node_get_string(data));
    }
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, combo->str);
    JsonNode *r = run_line(m, q, "sendkey", argv, err);
    if (r)
        json_node_unref(r);
    return NULL;
}

/* human-monitor-command: a line-protocol command line ("status",
 * "screentext", "net nic0 none"); returns its reply as text, as HMP does. */
static JsonNode *qmp_hmp(TessMachine *m, QmpCall *q, GError **err)
{
    const char *line = arg_str(q, "command-line", true, err);
    if (!line)
        return NULL;
    g_auto(GStrv) words = NULL;
    int n = 0;
    g_autoptr(GError) e = NULL;
    if (!g_shell_parse_argv(line, &n, &words, &e)) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID, "command-line: %s",
                    e->message);
        return NULL;
    }
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    for (int i = 1; i < n; i++)
        g_ptr_array_add(argv, words[i]);
    g_autoptr(JsonNode) r = run_line(m, q, words[0], argv, err);
    if (!r)
        return NULL;
    JsonNode *reply = json_object_get_member(json_node_get_object(r), "reply");
    g_autofree char *text = NULL;
    if (reply && JSON_NODE_HOLDS_VALUE(reply) && json_node_get_value_type(reply) == G_TYPE_STRING)
        text = g_strdup_printf("%s\n", json_node_get_string(reply));
    else if (reply)
        text = json_to_string(reply, TRUE);
    JsonNode *out = json_node_new(JSON_NODE_VALUE);
    json_node_set_string(out, text ? text : "");
    return out;
}

static JsonNode *qmp_tessera_command(TessMachine *m, QmpCall *q, GError **err)
{
    const char *cmd = arg_str(q, "command", true, err);
    if (!cmd)
        return NULL;
    JsonNode *an = json_object_get_member(q->args, "args");
    JsonArray *args = an && JSON_NODE_HOLDS_ARRAY(an) ? json_node_get_array(an) : NULL;
    if (an && !args) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "Invalid parameter type for 'args', expected: array");
        return NULL;
    }
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    for (guint i = 0; args && i < json_array_get_length(args); i++) {
        JsonNode *el = json_array_get_element(args, i);
        if (!JSON_NODE_HOLDS_VALUE(el) || json_node_get_value_type(el) != G_TYPE_STRING) {
            g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                        "Invalid parameter type for 'args', expected: array of strings");
            return NULL;
        }
        g_ptr_array_add(argv, (char *)json_node_get_string(el));
    }
    return run_line(m, q, cmd, argv, err);
}

static JsonNode *qmp_tessera_net(TessMachine *m, QmpCall *q, GError **err)
{
    const char *nic = arg_str(q, "device", true, err);
    const char *type = nic ? arg_str(q, "type", true, err) : NULL;
    if (!type)
        return NULL;
    JsonNode *on = json_object_get_member(q->args, "options");
    JsonObject *opts = on && JSON_NODE_HOLDS_OBJECT(on) ? json_node_get_object(on) : NULL;
    if (on && !opts) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "Invalid parameter type for 'options', expected: object");
        return NULL;
    }
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(argv, g_strdup(nic));
    g_ptr_array_add(argv, g_strdup(type));
    g_autoptr(GList) members = opts ? json_object_get_members(opts) : NULL;
    for (GList *l = members; l; l = l->next) {
        JsonNode *v = json_object_get_member(opts, l->data);
        if (!JSON_NODE_HOLDS_VALUE(v) || json_node_get_value_type(v) != G_TYPE_STRING) {
            g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                        "options.%s: expected a string", (const char *)l->data);
            return NULL;
        }
        g_ptr_array_add(argv, g_strdup_printf("%s=%s", (const char *)l->data,
                                              json_node_get_string(v)));
    }
    JsonNode *r = run_line(m, q, "net", argv, err);
    argv->len--;                /* the NULL run_line appended */
    return r;
}

#define MAPPED(fn, line, keep, ...)                                                   \
    static JsonNode *fn(TessMachine *m, QmpCall *q, GError **err)                     \
    {                                                                                 \
        static const char *const names[] = { __VA_ARGS__ };                           \
        return run_mapped(m, q, line, names, keep, err);                              \
    }
MAPPED(qmp_disk_commit, "disk-commit", true, "device", NULL)
MAPPED(qmp_disk_discard, "disk-discard", true, "device", NULL)
MAPPED(qmp_eject, "eject", true, "device", NULL)
MAPPED(qmp_insert, "insert", true, "device", NULL)
MAPPED(qmp_screentext, "screentext", true, NULL)
MAPPED(qmp_save, "save", true, "filename", NULL)
MAPPED(qmp_suspend, "suspend", true, "filename", NULL)
MAPPED(qmp_set, "set", true, "property", "value", NULL)

/* Answered on the control thread: no machine involved. */
static const char *const control_thread_commands[] = {
    "qmp_capabilities", "query-version", "query-commands", "tessera-machine", NULL,
};

static const QmpCommand qmp_commands[] = {
    { "qmp_capabilities", { "enable?" }, NULL },
    { "query-version", { NULL }, NULL },
    { "query-commands", { NULL }, NULL },
    { "tessera-machine", { "name" }, NULL },
    { "query-status", { NULL }, qmp_query_status },
    { "stop", { NULL }, qmp_stop },
    { "cont", { NULL }, qmp_cont },
    { "system_reset", { NULL }, qmp_system_reset },
    { "system_powerdown", { NULL }, qmp_system_powerdown },
    { "quit", { NULL }, qmp_quit },
    { "screendump", { "filename", "format?", "device?", "head?" }, qmp_screendump },
    { "send-key", { "keys", "hold-time?" }, qmp_send_key },
    { "human-monitor-command", { "command-line", "cpu-index?" }, qmp_hmp },
    { "tessera-command", { "command", "args?" }, qmp_tessera_command },
    { "tessera-disk-commit", { "device" }, qmp_disk_commit },
    { "tessera-disk-discard", { "device" }, qmp_disk_discard },
    { "tessera-eject", { "device" }, qmp_eject },
    { "tessera-insert", { "device" }, qmp_insert },
    { "tessera-screentext", { NULL }, qmp_screentext },
    { "tessera-net", { "device", "type", "options?" }, qmp_tessera_net },
    { "tessera-save", { "filename" }, qmp_save },
    { "tessera-suspend", { "filename" }, qmp_suspend },
    { "tessera-set", { "property", "value" }, qmp_set },
};

static const QmpCommand *find_qmp_command(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(qmp_commands); i++)
        if (!strcmp(qmp_commands[i].name, name))
            return &qmp_commands[i];
    return NULL;
}

/* Every argument known to the command, every required one given. */
static bool check_args(const QmpCommand *c, JsonObject *args, GError **err)
{
    g_autoptr(GList) members = json_object_get_members(args);
    for (GList *l = members; l; l = l->next) {
        bool known = false;
        for (size_t i = 0; i < G_N_ELEMENTS(c->args) && c->args[i] && !known; i++) {
            size_t n = strcspn(c->args[i], "?");
            known = strlen(l->data) == n && !strncmp(c->args[i], l->data, n);
        }
        if (!known) {
            g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                        "Parameter '%s' is unexpected", (const char *)l->data);
            return false;
        }
    }
    for (size_t i = 0; i < G_N_ELEMENTS(c->args) && c->args[i]; i++) {
        if (!strchr(c->args[i], '?') && !json_object_has_member(args, c->args[i])) {
            g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                        "Parameter '%s' is missing", c->args[i]);
            return false;
        }
    }
    return true;
}

/* ---- dispatch ---------------------------------------------------------------- */

/* Can `n` be echoed as JSON? json-glib (1.6) writes a double with
 * g_ascii_dtostr and adds ".0" when the text has no point: 1e999 (an
 * infinity to it) becomes "inf.0" and 1e19 "1e+19.0", neither of them
 * JSON; such a number is refused rather than echoed. An id nested
 * without end is no id either. */
static bool echoable(JsonNode *n, int depth)
{
    if (depth > 32)
        return false;
    if (JSON_NODE_HOLDS_VALUE(n)) {
        if (json_node_get_value_type(n) != G_TYPE_DOUBLE)
            return true;
        char text[G_ASCII_DTOSTR_BUF_SIZE];
        g_ascii_dtostr(text, sizeof text, json_node_get_double(n));
        return strspn(text, "-0123456789.") == strlen(text);
    }
    if (JSON_NODE_HOLDS_ARRAY(n)) {
        JsonArray *a = json_node_get_array(n);
        for (guint i = 0; i < json_array_get_length(a); i++)
            if (!echoable(json_array_get_element(a, i), depth + 1))
                return false;
    } else if (JSON_NODE_HOLDS_OBJECT(n)) {
        JsonObject *o = json_node_get_object(n);
        g_autoptr(GList) members = json_object_get_members(o);
        for (GList *l = members; l; l = l->next)
            if (!echoable(json_object_get_member(o, l->data), depth + 1))
                return false;
    }
    return true;
}

static char *control_thread_command(QmpSession *s, GPtrArray *machines, const QmpCommand *c,
                                    JsonObject *args, JsonNode *id)
{
    if (!strcmp(c->name, "qmp_capabilities")) {
        if (s->negotiated)
            return tess_qmp_error_text("CommandNotFound",
                                       "Capabilities negotiation is already complete, "
                                       "command ignored", id);
        JsonNode *en = json_object_get_member(args, "enable");
        JsonArray *en_a = en && JSON_NODE_HOLDS_ARRAY(en) ? json_node_get_array(en) : NULL;
        if (en && !en_a)
            return tess_qmp_error_text("GenericError",
                                       "Invalid parameter type for 'enable', expected: array",
                                       id);
        if (en_a && json_array_get_length(en_a)) {
            JsonNode *first = json_array_get_element(en_a, 0);
            const char *cap = JSON_NODE_HOLDS_VALUE(first) &&
                              json_node_get_value_type(first) == G_TYPE_STRING
                              ? json_node_get_string(first) : "?";
            g_autofree char *msg = g_strdup_printf("Capability '%s' not available", cap);
            return tess_qmp_error_text("GenericError", msg, id);
        }
        s->negotiated = true;
        return return_text(NULL, id);
    }
    if (!strcmp(c->name, "query-version"))
        return return_text(version_info(), id);
    if (!strcmp(c->name, "query-commands")) {
        JsonArray *a = json_array_new();
        for (size_t i = 0; i < G_N_ELEMENTS(qmp_commands); i++) {
            JsonObject *o = json_object_new();
            json_object_set_string_member(o, "name", qmp_commands[i].name);
            json_array_add_object_element(a, o);
        }
        JsonNode *n = json_node_new(JSON_NODE_ARRAY);
        json_node_take_array(n, a);
        return return_text(n, id);
    }
    /* tessera-machine: which of the socket's machines this session
     * addresses (tessera run a.xml b.xml); events follow it. */
    JsonNode *nn = json_object_get_member(args, "name");
    const char *name = nn && JSON_NODE_HOLDS_VALUE(nn) &&
                       json_node_get_value_type(nn) == G_TYPE_STRING
                       ? json_node_get_string(nn) : NULL;
    if (!name)
        return tess_qmp_error_text("GenericError",
                                   "Invalid parameter type for 'name', expected: string", id);
    for (guint i = 0; i < machines->len; i++) {
        TessMachine *m = machines->pdata[i];
        if (!strcmp(m->name, name)) {
            s->m = m;
            return return_text(NULL, id);
        }
    }
    g_autofree char *msg = g_strdup_printf("no machine named '%s'", name);
    return tess_qmp_error_text("GenericError", msg, id);
}

QmpCall *tess_qmp_parse(QmpSession *s, GPtrArray *machines, TessControl *ctl,
                        const char *text, char **reply)
{
    g_autoptr(GError) e = NULL;
    g_autoptr(JsonNode) root = tess_json_parse_one(text, strlen(text), &e);
    if (!root) {
        g_autofree char *msg = g_strdup_printf("JSON parse error, %s", e->message);
        *reply = tess_qmp_error_text("GenericError", msg, NULL);
        return NULL;
    }
    if (!JSON_NODE_HOLDS_OBJECT(root)) {
        *reply = tess_qmp_error_text("GenericError", "QMP input must be a JSON object", NULL);
        return NULL;
    }
    JsonObject *o = json_node_get_object(root);
    JsonNode *id = json_object_get_member(o, "id");
    if (id && !echoable(id, 0)) {
        *reply = tess_qmp_error_text("GenericError", "QMP input member 'id' cannot be echoed "
                                     "(a number out of range, or nested too deeply)", NULL);
        return NULL;
    }
    g_autoptr(GList) members = json_object_get_members(o);
    for (GList *l = members; l; l = l->next) {
        static const char *const known[] = { "execute", "exec-oob", "arguments", "id",
                                             "control", NULL };
        if (!g_strv_contains(known, l->data)) {
            g_autofree char *msg = g_strdup_printf("QMP input member '%s' is unexpected",
                                                   (const char *)l->data);
            *reply = tess_qmp_error_text("GenericError", msg, id);
            return NULL;
        }
    }
    if (json_object_has_member(o, "exec-oob")) {
        *reply = tess_qmp_error_text("GenericError",
                                     "QMP input member 'exec-oob' is unexpected "
                                     "(out-of-band execution is not offered)", id);
        return NULL;
    }
    JsonNode *en = json_object_get_member(o, "execute");
    if (!en) {
        *reply = tess_qmp_error_text("GenericError", "QMP input lacks member 'execute'", id);
        return NULL;
    }
    if (!JSON_NODE_HOLDS_VALUE(en) || json_node_get_value_type(en) != G_TYPE_STRING) {
        *reply = tess_qmp_error_text("GenericError",
                                     "QMP input member 'execute' must be a string", id);
        return NULL;
    }
    JsonNode *an = json_object_get_member(o, "arguments");
    if (an && !JSON_NODE_HOLDS_OBJECT(an)) {
        *reply = tess_qmp_error_text("GenericError",
                                     "QMP input member 'arguments' must be an object", id);
        return NULL;
    }
    const char *name = json_node_get_string(en);
    const QmpCommand *c = find_qmp_command(name);
    if (!s->negotiated && (!c || strcmp(c->name, "qmp_capabilities"))) {
        *reply = tess_qmp_error_text("CommandNotFound",
                                     "Expecting capabilities negotiation with "
                                     "'qmp_capabilities'", id);
        return NULL;
    }
    if (!c) {
        g_autofree char *msg = g_strdup_printf("The command %s has not been found", name);
        *reply = tess_qmp_error_text("CommandNotFound", msg, id);
        return NULL;
    }
    g_autoptr(JsonObject) args = an ? json_object_ref(json_node_get_object(an))
                                    : json_object_new();
    if (!check_args(c, args, &e)) {
        *reply = tess_qmp_error_text("GenericError", e->message, id);
        return NULL;
    }
    if (g_strv_contains(control_thread_commands, c->name)) {
        *reply = control_thread_command(s, machines, c, args, id);
        return NULL;
    }
    if (!s->m)
        s->m = machines->len ? machines->pdata[0] : NULL;
    if (!s->m) {
        *reply = tess_qmp_error_text("GenericError", "no machine", id);
        return NULL;
    }
    QmpCall *q = g_new0(QmpCall, 1);
    q->cmd = c;
    q->m = s->m;
    q->ctl = ctl;
    q->id = id ? json_node_copy(id) : NULL;
    q->args = g_steal_pointer(&args);
    return q;
}

TessMachine *tess_qmp_call_machine(const QmpCall *q)
{
    return q->m;
}

char *tess_qmp_run(TessMachine *m, QmpCall *q)
{
    GError *e = NULL;
    JsonNode *ret = q->cmd->fn(m, q, &e);
    if (e) {
        if (ret)
            json_node_unref(ret);
        char *t = tess_qmp_error_text("GenericError", e->message, q->id);
        g_error_free(e);
        return t;
    }
    return return_text(ret, q->id);
}

void tess_qmp_call_free(QmpCall *q)
{
    if (!q)
        return;
    if (q->id)
        json_node_unref(q->id);
    json_object_unref(q->args);
    g_free(q);
}

/* ---- a whole session, without a socket (tests, fuzzing) ---------------------- */

typedef struct {
    QmpCall *q;
    char *reply;
} QmpInline;

static void qmp_inline_run(TessMachine *m, void *data)
{
    QmpInline *r = data;
    r->reply = tess_qmp_run(m, r->q);
}

char *tess_control_handle_qmp(GPtrArray *machines, const char *buf, gsize len)
{
    QmpSession s = { 0 };
    GString *out = g_string_new(NULL);
    g_autofree char *greeting = tess_qmp_greeting();
    g_string_append(out, greeting);
    g_string_append(out, "\r\n");
    const guint8 *p = (const guint8 *)buf;
    for (;;) {
        gsize start, end;
        bool nl;
        QmpFrame f = tess_qmp_frame(p, len, &start, &end, &nl);
        if (f == QMP_FRAME_NONE)
            break;
        char *reply = NULL;
        if (f == QMP_FRAME_JUNK) {
            reply = tess_qmp_error_text("GenericError", "JSON parse error, invalid token",
                                        NULL);
        } else if (end - start > 65536) {
            reply = tess_qmp_error_text("GenericError", "QMP input too long", NULL);
        } else {
            g_autofree char *text = g_strndup((const char *)p + start, end - start);
            if (!g_utf8_validate(text, -1, NULL)) {
                reply = tess_qmp_error_text("GenericError", "JSON parse error, invalid UTF-8",
                                            NULL);
            } else {
                QmpCall *q = tess_qmp_parse(&s, machines, NULL, text, &reply);
                if (q) {
                    QmpInline r = { q, NULL };
                    tess_machine_call(q->m, qmp_inline_run, &r);
                    reply = r.reply;
                    tess_qmp_call_free(q);
                }
            }
        }
        g_string_append(out, reply);
        g_string_append(out, "\r\n");
        g_free(reply);
        p += end;
        len -= end;
    }
    return g_string_free(out, FALSE);
}
