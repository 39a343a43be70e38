/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The control socket: line-delimited JSON over a Unix socket, one request
 * per line, one reply per line. Each connection is served on its own
 * thread; commands run on the addressed machine's thread.
 *
 *   -> {"cmd":"status"}
 *   <- {"ok":true,"result":{"machine":"pc","state":"running","vtime_ns":123}}
 */
#include "core.h"

#include <string.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gio/gunixsocketaddress.h>
#include <json-glib/json-glib.h>

struct TessControl {
    GSocketService *service;
    GPtrArray *machines;
    char *path;
    GMutex lock;
    GCond idle;
    unsigned active;        /* connections being served */
};

/* ---- commands ------------------------------------------------------------ */

static const char *const builtin_commands[] = {
    "status", "pause", "resume", "quit", "help", "set", NULL,
};

static bool add_command(TessDevice *dev, const char *name, TessControlFn fn,
                        const char *usage, bool per_instance, GError **err)
{
    TessMachine *m = dev->machine;
    if (!m->commands)
        m->commands = g_ptr_array_new();
    bool taken = g_strv_contains(builtin_commands, name);
    for (guint i = 0; i < m->commands->len && !taken; i++) {
        TessCommand *c = m->commands->pdata[i];
        /* Per-instance commands share a name, one per device. */
        taken = !strcmp(c->name, name) &&
                (!per_instance || !c->per_instance || c->owner == dev);
    }
    if (taken) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_DUPLICATE,
                    "control command '%s' already exists", name);
        return false;
    }
    TessCommand *c = g_new0(TessCommand, 1);
    c->name = g_strdup(name);
    c->usage = g_strdup(usage ? usage : "");
    c->owner = dev;
    c->fn = fn;
    c->per_instance = per_instance;
    g_ptr_array_add(m->commands, c);
    return true;
}

bool tess_control_add_command(TessDevice *dev, const char *name, TessControlFn fn,
                              const char *usage, GError **err)
{
    return add_command(dev, name, fn, usage, false, err);
}

bool tess_control_add_instance_command(TessDevice *dev, const char *name, TessControlFn fn,
                                       const char *usage, GError **err)
{
    return add_command(dev, name, fn, usage, true, err);
}

/* The command `name` for a call with these arguments: a machine-wide one,
 * or the per-instance one of the device argv[0] names or its nearest
 * ancestor. NULL with an error when there is none. */
static TessCommand *find_command(TessMachine *m, const char *name, int argc, char **argv,
                                 GError **err)
{
    bool any_instance = false;
    for (guint i = 0; m->commands && i < m->commands->len; i++) {
        TessCommand *c = m->commands->pdata[i];
        if (strcmp(c->name, name))
            continue;
        if (!c->per_instance)
            return c;
        any_instance = true;
    }
    if (!any_instance) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_NOT_FOUND,
                    "unknown command '%s' (try 'help')", name);
        return NULL;
    }
    TessDevice *d = argc > 0 ? tess_machine_device(m, argv[0]) : NULL;
    for (; d; d = d->priv->parent) {
        for (guint i = 0; i < m->commands->len; i++) {
            TessCommand *c = m->commands->pdata[i];
            if (c->per_instance && c->owner == d && !strcmp(c->name, name))
                return c;
        }
    }
    GString *ids = g_string_new(NULL);
    for (guint i = 0; i < m->commands->len; i++) {
        TessCommand *c = m->commands->pdata[i];
        if (c->per_instance && !strcmp(c->name, name))
            g_string_append_printf(ids, "%s%s", ids->len ? ", " : "", c->owner->id);
    }
    g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_NOT_FOUND,
                "%s: %s%s%s has no such command; usage: %s ID ... with ID one of: %s", name,
                argc > 0 ? "'" : "no device given", argc > 0 ? argv[0] : "",
                argc > 0 ? "'" : "", name, ids->str);
    g_string_free(ids, TRUE);
    return NULL;
}

/* set ID.PROP VALUE: a runtime property. */
static char *cmd_set(TessMachine *m, int argc, char **argv, GError **err)
{
    const char *dot = argc == 2 ? strrchr(argv[0], '.') : NULL;
    if (!dot || dot == argv[0] || !dot[1]) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID, "usage: set ID.PROP VALUE");
        return NULL;
    }
    g_autofree char *id = g_strndup(argv[0], dot - argv[0]);
    TessDevice *d = tess_machine_device(m, id);
    if (!d) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_NOT_FOUND, "set: no device '%s'", id);
        return NULL;
    }
    if (!tess_device_set_prop(d, dot + 1, argv[1], err))
        return NULL;
    const TessPropSpec *p = tess_device_find_prop(d, dot + 1);
    g_autofree char *v = tess_prop_format(p, (char *)d + p->offset);
    return g_strdup_printf("%s.%s = %s", id, p->name, v);
}

void tess_command_release_owner(TessMachine *m, TessDevice *owner)
{
    for (guint i = m->commands ? m->commands->len : 0; i-- > 0;) {
        TessCommand *c = m->commands->pdata[i];
        if (c->owner == owner) {
            g_free(c->name);
            g_free(c->usage);
            g_free(c);
            g_ptr_array_remove_index(m->commands, i);
        }
    }
}

typedef struct {
    const char *cmd;
    int argc;
    char **argv;
    JsonNode *result;
    GError *error;
} CallArgs;

static JsonNode *str_node(const char *s)
{
    JsonNode *n = json_node_new(JSON_NODE_VALUE);
    json_node_set_string(n, s);
    return n;
}

static const char *state_name(TessRunState s)
{
    return s == TESS_RUN_RUNNING ? "running" : s == TESS_RUN_PAUSED ? "paused" : "stopped";
}

static void run_command(TessMachine *m, void *data)
{
    CallArgs *a = data;
    g_autoptr(JsonBuilder) b = json_builder_new();
    if (!strcmp(a->cmd, "status")) {
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "machine");
        json_builder_add_string_value(b, m->name);
        json_builder_set_member_name(b, "state");
        json_builder_add_string_value(b, state_name(m->state));
        json_builder_set_member_name(b, "vtime_ns");
        json_builder_add_int_value(b, (gint64)tess_clock_ns(m));
        json_builder_set_member_name(b, "deterministic");
        json_builder_add_boolean_value(b, m->opts.deterministic);
        json_builder_end_object(b);
    } else if (!strcmp(a->cmd, "pause") || !strcmp(a->cmd, "resume")) {
        if (m->state == TESS_RUN_STOPPED) {
            g_set_error(&a->error, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                        "machine '%s' has stopped", m->name);
            return;
        }
        /* We are on the machine thread: change state directly. */
        bool pause = a->cmd[0] == 'p';
        if (pause && m->state == TESS_RUN_RUNNING) {
            m->state = TESS_RUN_PAUSED;
            if (!m->opts.deterministic)
                tess_clock_pause(m);
        } else if (!pause && m->state == TESS_RUN_PAUSED) {
            m->state = TESS_RUN_RUNNING;
            if (!m->opts.deterministic)
                tess_clock_resume(m);
        }
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "state");
        json_builder_add_string_value(b, state_name(m->state));
        json_builder_end_object(b);
    } else if (!strcmp(a->cmd, "quit")) {
        tess_machine_request_exit(m, 0);
        a->result = str_node("quitting");
        return;
    } else if (!strcmp(a->cmd, "help")) {
        GString *s = g_string_new("status  pause  resume  quit  help\n"
                                  "set ID.PROP VALUE  change a runtime property");
        for (guint i = 0; m->commands && i < m->commands->len; i++) {
            TessCommand *c = m->commands->pdata[i];
            if (c->per_instance)
                g_string_append_printf(s, "\n%s %s  [%s]", c->name, c->usage, c->owner->id);
            else
                g_string_append_printf(s, "\n%s %s", c->name, c->usage);
        }
        a->result = str_node(s->str);
        g_string_free(s, TRUE);
        return;
    } else if (!strcmp(a->cmd, "set")) {
        g_autofree char *reply = cmd_set(m, a->argc, a->argv, &a->error);
        if (!a->error)
            a->result = str_node(reply);
        return;
    } else {
        TessCommand *c = find_command(m, a->cmd, a->argc, a->argv, &a->error);
        if (!c)
            return;
        g_autofree char *reply = c->fn(c->owner, a->argc, a->argv, &a->error);
        if (a->error)
            return;
        a->result = str_node(reply ? reply : "ok");
        return;
    }
    a->result = json_builder_get_root(b);
}

static char *reply_line(JsonNode *result, const char *error)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "ok");
    json_builder_add_boolean_value(b, error == NULL);
    json_builder_set_member_name(b, error ? "error" : "result");
    if (error)
        json_builder_add_string_value(b, error);
    else
        json_builder_add_value(b, result);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    return json_to_string(root, FALSE);
}

char *tess_control_handle_line(GPtrArray *machines, const char *line)
{
    g_autoptr(JsonParser) p = json_parser_new();
    g_autoptr(GError) e = NULL;
    if (!json_parser_load_from_data(p, line, -1, &e))
        return reply_line(NULL, "request is not valid JSON");
    JsonNode *root = json_parser_get_root(p);
    JsonObject *o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
    const char *cmd = o ? json_object_get_string_member_with_default(o, "cmd", NULL) : NULL;
    if (!cmd)
        return reply_line(NULL, "request needs a \"cmd\" string");
    const char *mname = json_object_get_string_member_with_default(o, "machine", NULL);
    TessMachine *m = NULL;
    for (guint i = 0; i < machines->len && !m; i++) {
        TessMachine *c = machines->pdata[i];
        if (!mname || !strcmp(c->name, mname))
            m = c;
    }
    if (!m)
        return reply_line(NULL, "no such machine");
    JsonArray *args = json_object_has_member(o, "args") &&
                              JSON_NODE_HOLDS_ARRAY(json_object_get_member(o, "args"))
                          ? json_object_get_array_member(o, "args") : NULL;
    guint n = args ? json_array_get_length(args) : 0;
    g_auto(GStrv) argv = g_new0(char *, n + 1);
    for (guint i = 0; i < n; i++) {
        JsonNode *an = json_array_get_element(args, i);
        if (!JSON_NODE_HOLDS_VALUE(an) || json_node_get_value_type(an) != G_TYPE_STRING)
            return reply_line(NULL, "\"args\" must be an array of strings");
        argv[i] = g_strdup(json_node_get_string(an));
    }
    CallArgs a = { .cmd = cmd, .argc = (int)n, .argv = argv };
    tess_machine_call(m, run_command, &a);
    /* reply_line takes ownership of the result node. */
    char *line_out = reply_line(a.error ? NULL : a.result, a.error ? a.error->message : NULL);
    if (a.error && a.result)
        json_node_unref(a.result);
    g_clear_error(&a.error);
    return line_out;
}

/* ---- the socket -------------------------------------------------------- */

static gboolean on_connection(GThreadedSocketService *svc, GSocketConnection *conn,
                              GObject *source, gpointer data)
{
    TessControl *c = data;
    g_mutex_lock(&c->lock);
    c->active++;
    g_mutex_unlock(&c->lock);
    GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(conn));
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
    g_autoptr(GDataInputStream) din = g_data_input_stream_new(in);
    for (;;) {
        gsize len = 0;
        g_autofree char *line = g_data_input_stream_read_line_utf8(din, &len, NULL, NULL);
        if (!line)
            break;
        if (len > 65536)
            break;
        if (!*g_strstrip(line))
            continue;
        g_autofree char *reply = tess_control_handle_line(c->machines, line);
        if (!g_output_stream_write_all(out, reply, strlen(reply), NULL, NULL, NULL) ||
            !g_output_stream_write_all(out, "\n", 1, NULL, NULL, NULL))
            break;
    }
    g_mutex_lock(&c->lock);
    c->active--;
    g_cond_broadcast(&c->idle);
    g_mutex_unlock(&c->lock);
    return TRUE;
}

TessControl *tess_control_new(const char *path, GPtrArray *machines, GError **err)
{
    TessControl *c = g_new0(TessControl, 1);
    c->machines = g_ptr_array_ref(machines);
    c->path = g_strdup(path);
    g_mutex_init(&c->lock);
    g_cond_init(&c->idle);
    c->service = g_threaded_socket_service_new(4);
    /* A stale socket from an earlier run would make bind fail. */
    if (g_file_test(path, G_FILE_TEST_EXISTS) && !g_file_test(path, G_FILE_TEST_IS_REGULAR))
        g_unlink(path);
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
    g_autoptr(GError) e = NULL;
    if (!g_socket_listener_add_address(G_SOCKET_LISTENER(c->service), addr,
                                       G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT,
                                       NULL, NULL, &e)) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_IO, "control socket %s: %s", path,
                    e->message);
        tess_control_free(c);
        return NULL;
    }
    g_signal_connect(c->service, "run", G_CALLBACK(on_connection), c);
    g_socket_service_start(c->service);
    return c;
}

void tess_control_free(TessControl *c)
{
    if (!c)
        return;
    g_socket_service_stop(c->service);
    g_socket_listener_close(G_SOCKET_LISTENER(c->service));
    g_unlink(c->path);
    /* Let connections finish what they are saying (the reply to "quit"
     * is written after the machine has stopped); a client that keeps an
     * idle connection open gets two seconds. */
    gint64 until = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
    g_mutex_lock(&c->lock);
    while (c->active && g_cond_wait_until(&c->idle, &c->lock, until))
        ;
    bool busy = c->active > 0;
    g_mutex_unlock(&c->lock);
    if (busy) {
        /* A connection thread still holds c: leave it to the process's
         * exit rather than free it under that thread. */
        g_debug("control socket %s: a client is still connected", c->path);
        return;
    }
    g_object_unref(c->service);
    g_ptr_array_unref(c->machines);
    g_free(c->path);
    g_mutex_clear(&c->lock);
    g_cond_clear(&c->idle);
    g_free(c);
}
