/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The control socket: line-delimited JSON over a Unix socket, one request
 * per line, one reply per line, in order, per connection.
 *
 *   -> {"cmd":"status"}
 *   <- {"ok":true,"result":{"machine":"pc","state":"running","vtime_ns":123}}
 *
 * The connection layer (see "the socket" below) is built to survive hostile
 * and careless clients and to never hold up a machine:
 *  - one control thread with its own GMainContext owns the listening socket
 *    and every connection; all socket I/O is non-blocking and happens there
 *    (no GIO object is ever touched from two threads);
 *  - each connection has bounded buffers: a request line longer than
 *    CTL_LINE_MAX is answered with an error and the connection closed, and
 *    a client that does not read its replies stops being read from and, past
 *    CTL_OUT_MAX unsent bytes, is dropped;
 *  - a request is parsed on the control thread and posted to the machine
 *    thread; the machine runs it between instructions and hands the reply
 *    back to the control thread without waiting for anything. A connection
 *    has at most one request in flight (replies stay in order); other
 *    connections go on being served meanwhile, idle ones cost nothing;
 *  - the socket file is created owner-only (0600) whatever the umask, and
 *    never replaces a live socket or a file that is not a socket.
 *
 * QMP (qmp.c) has a socket of its own (`run --qmp PATH`), served by the
 * same thread: a QMP client waits for the server's greeting before it
 * says anything and a line client speaks at once, so no first byte or
 * silence could tell them apart on one socket without delaying one of
 * them. A QMP connection is greeted as it is accepted, as QEMU's are; a
 * line connection is never greeted. QMP connections get the machine's
 * events once they negotiated capabilities.
 */
#include "core.h"
#include "qmp.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gio/gunixsocketaddress.h>
#include <json-glib/json-glib.h>

/* Longest request line; a longer one is refused and the connection closed. */
#define CTL_LINE_MAX    65536u
/* Unsent reply bytes: past CTL_LINE_MAX no further request of that client is
 * read; past CTL_OUT_MAX (a reply larger than that) the client is dropped. */
#define CTL_OUT_MAX     (4u << 20)
/* Connections at once; one more is told so and closed. */
#define CTL_CLIENTS_MAX 1000u
/* At exit, connections with a request in flight or a reply unsent get this
 * long to finish (the reply to "quit" is sent after the machine stopped). */
#define CTL_FLUSH_US    (2 * G_USEC_PER_SEC)

typedef struct CtlConn CtlConn;

/* A machine the socket serves: what the host asked of it lately (for the
 * reason of its next RESET or SHUTDOWN event) and the stop callback the
 * control socket wraps to send SHUTDOWN. */
typedef struct {
    TessControl *ctl;
    TessMachine *m;
    gint host;                  /* CtlHostAction bits, atomic */
    void (*on_stop)(TessMachine *m, int status, void *data);
    void *on_stop_data;
} CtlMachine;

/* A listening socket and the protocol it speaks. */
typedef struct {
    char *path;
    dev_t sock_dev;             /* the socket file we created, so that we */
    ino_t sock_ino;             /* never unlink another VM's */
    GSocket *listener;
    GSource *accept_src;
    bool qmp;
} CtlListener;

struct TessControl {
    GPtrArray *machines;
    CtlListener ls[2];          /* the line socket, the QMP socket (either unused) */
    GMainContext *ctx;          /* the control thread's; owns all sockets */
    GMainLoop *loop;
    GThread *thread;
    GList *conns;               /* CtlConn *, control thread only */
    unsigned nconns;
    gint jobs;                  /* requests handed to machines, not yet back */
    bool stopping;
    CtlMachine *ms;             /* one per machine, in machines' order */
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

void tess_control_run(TessMachine *m, CtlCall *a)
{
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
            tess_control_event(a->ctl, m, "STOP", NULL);
        } else if (!pause && m->state == TESS_RUN_PAUSED) {
            m->state = TESS_RUN_RUNNING;
            if (!m->opts.deterministic)
                tess_clock_resume(m);
            tess_control_event(a->ctl, m, "RESUME", NULL);
        }
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "state");
        json_builder_add_string_value(b, state_name(m->state));
        json_builder_end_object(b);
    } else if (!strcmp(a->cmd, "quit")) {
        tess_control_note_host(a->ctl, m, CTL_HOST_QUIT);
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
    if (error) {
        /* written directly, as QMP's errors (tess_qmp_error_text) */
        GString *o = g_string_new("{\"ok\":false,\"error\":");
        tess_json_append_string(o, error);
        g_string_append_c(o, '}');
        return g_string_free(o, FALSE);
    }
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
    return tess_json_text(root, FALSE);
}

/* A parsed request, ready to run on its machine: a line-protocol one
 * (a, argv) or a QMP one (qmp). */
typedef struct {
    TessMachine *m;
    CtlCall a;
    char **argv;
    QmpCall *qmp;
} CtlRequest;

static void ctl_request_free(CtlRequest *r)
{
    g_strfreev(r->argv);
    g_free((char *)r->a.cmd);
    tess_qmp_call_free(r->qmp);
    g_free(r);
}

/* Parse one line; NULL with *reply set to an error reply when it is not a
 * request for one of `machines`. */
static CtlRequest *parse_request(TessControl *ctl, GPtrArray *machines, const char *line,
                                 char **reply)
{
    g_autoptr(JsonNode) root = tess_json_parse_one(line, strlen(line), NULL);
    if (!root) {
        *reply = reply_line(NULL, "request is not valid JSON");
        return NULL;
    }
    JsonObject *o = JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
    JsonNode *cn = o ? json_object_get_member(o, "cmd") : NULL;
    if (!cn || !JSON_NODE_HOLDS_VALUE(cn) || json_node_get_value_type(cn) != G_TYPE_STRING) {
        *reply = reply_line(NULL, "request needs a \"cmd\" string");
        return NULL;
    }
    JsonNode *mn = json_object_get_member(o, "machine");
    if (mn && (!JSON_NODE_HOLDS_VALUE(mn) || json_node_get_value_type(mn) != G_TYPE_STRING)) {
        *reply = reply_line(NULL, "\"machine\" must be a string");
        return NULL;
    }
    const char *mname = mn ? json_node_get_string(mn) : NULL;
    TessMachine *m = NULL;
    for (guint i = 0; i < machines->len && !m; i++) {
        TessMachine *c = machines->pdata[i];
        if (!mname || !strcmp(c->name, mname))
            m = c;
    }
    if (!m) {
        *reply = reply_line(NULL, "no such machine");
        return NULL;
    }
    JsonNode *an = json_object_get_member(o, "args");
    JsonArray *args = an && JSON_NODE_HOLDS_ARRAY(an) ? json_node_get_array(an) : NULL;
    guint n = args ? json_array_get_length(args) : 0;
    g_auto(GStrv) argv = g_new0(char *, n + 1);
    for (guint i = 0; i < n; i++) {
        JsonNode *el = json_array_get_element(args, i);
        if (!JSON_NODE_HOLDS_VALUE(el) || json_node_get_value_type(el) != G_TYPE_STRING) {
            *reply = reply_line(NULL, "\"args\" must be an array of strings");
            return NULL;
        }
        argv[i] = g_strdup(json_node_get_string(el));
    }
    CtlRequest *r = g_new0(CtlRequest, 1);
    r->m = m;
    r->argv = g_steal_pointer(&argv);
    r->a = (CtlCall){ .ctl = ctl, .cmd = g_strdup(json_node_get_string(cn)), .argc = (int)n,
                      .argv = r->argv };
    return r;
}

static void run_request(TessMachine *m, void *data)
{
    CtlRequest *r = data;
    tess_control_run(m, &r->a);
}

/* The reply for a request that has run; consumes its result. */
static char *finish_request(CtlRequest *r)
{
    /* reply_line takes ownership of the result node. */
    char *line = reply_line(r->a.error ? NULL : r->a.result,
                            r->a.error ? r->a.error->message : NULL);
    if (r->a.error && r->a.result)
        json_node_unref(r->a.result);
    r->a.result = NULL;
    g_clear_error(&r->a.error);
    return line;
}

char *tess_control_handle_line(GPtrArray *machines, const char *line)
{
    char *reply = NULL;
    CtlRequest *r = parse_request(NULL, machines, line, &reply);
    if (!r)
        return reply;
    tess_machine_call(r->m, run_request, r);
    reply = finish_request(r);
    ctl_request_free(r);
    return reply;
}

/* ---- the socket: connections --------------------------------------------- */

typedef enum {
    CTL_MODE_LINE,
    CTL_MODE_QMP,
} CtlMode;

struct CtlConn {
    gint ref;
    TessControl *ctl;
    CtlMode mode;               /* the protocol of the socket it came in on */
    QmpSession qmp;
    GSocket *sock;
    GSource *src;               /* watches `watching` on sock, or NULL */
    GIOCondition watching;
    GByteArray *in;             /* received, not yet a complete line */
    GByteArray *out;            /* replies not yet sent */
    bool busy;                  /* a request is with a machine */
    bool eof;                   /* the client will send nothing more */
    bool closing;               /* send what is queued, then close */
    bool closed;
};

static CtlConn *ctl_conn_ref(CtlConn *c)
{
    g_atomic_int_inc(&c->ref);
    return c;
}

static void ctl_conn_unref(CtlConn *c)
{
    if (!g_atomic_int_dec_and_test(&c->ref))
        return;
    g_byte_array_unref(c->in);
    g_byte_array_unref(c->out);
    g_clear_object(&c->sock);
    g_free(c);
}

static void ctl_check_drained(TessControl *ctl)
{
    if (ctl->stopping && !ctl->conns && !g_atomic_int_get(&ctl->jobs))
        g_main_loop_quit(ctl->loop);
}

static void ctl_conn_close(CtlConn *c)
{
    if (c->closed)
        return;
    c->closed = true;
    if (c->src) {
        g_source_destroy(c->src);
        g_source_unref(c->src);
        c->src = NULL;
    }
    g_socket_close(c->sock, NULL);
    TessControl *ctl = c->ctl;
    ctl->conns = g_list_remove(ctl->conns, c);
    ctl->nconns--;
    ctl_conn_unref(c);
    ctl_check_drained(ctl);
}

/* Queue bytes for the client; false (and the connection closed) when it
 * has left more than CTL_OUT_MAX unread. */
static bool ctl_conn_send(CtlConn *c, const char *data, gsize len)
{
    if (c->out->len + len > CTL_OUT_MAX) {
        g_debug("control socket: dropping a client that does not read its replies");
        ctl_conn_close(c);
        return false;
    }
    g_byte_array_append(c->out, (const guint8 *)data, (guint)len);
    return true;
}

/* One reply or event; QMP's end in CR LF, as QEMU's do. */
static void ctl_conn_reply(CtlConn *c, const char *line)
{
    if (ctl_conn_send(c, line, strlen(line)))
        ctl_conn_send(c, c->mode == CTL_MODE_QMP ? "\r\n" : "\n",
                      c->mode == CTL_MODE_QMP ? 2 : 1);
}

static gboolean ctl_conn_event(GSocket *sock, GIOCondition cond, gpointer data);

/* Watch for what the connection can use now: input when it may take a
 * request, output when replies are queued; nothing while its one request
 * is with a machine and nothing is queued (so a hung-up client does not
 * spin the loop). Closes it once it is done. */
static void ctl_conn_update(CtlConn *c)
{
    if (c->closed)
        return;
    if ((c->eof || c->closing || c->ctl->stopping) && !c->busy && !c->out->len) {
        ctl_conn_close(c);
        return;
    }
    GIOCondition want = 0;
    if (!c->busy && !c->eof && !c->closing && !c->ctl->stopping && c->out->len < CTL_LINE_MAX)
        want |= G_IO_IN;
    if (c->out->len)
        want |= G_IO_OUT;
    if (c->src && want == c->watching)
        return;
    if (c->src) {
        g_source_destroy(c->src);
        g_source_unref(c->src);
        c->src = NULL;
    }
    c->watching = want;
    if (!want)
        return;
    c->src = g_socket_create_source(c->sock, want, NULL);
    g_source_set_callback(c->src, G_SOURCE_FUNC(ctl_conn_event), c, NULL);
    g_source_attach(c->src, c->ctl->ctx);
}

static void ctl_dispatch(CtlConn *c, char *line);
static void ctl_dispatch_qmp(CtlConn *c, char *text);

/* QMP: take whole JSON values from the input buffer while no request is in
 * flight and the client is reading its replies. */
static void ctl_conn_qmp_input(CtlConn *c)
{
    while (!c->closed && !c->busy && !c->closing && c->out->len < CTL_LINE_MAX) {
        gsize start, end;
        bool nl;
        QmpFrame f = tess_qmp_frame(c->in->data, c->in->len, &start, &end, &nl);
        if (f == QMP_FRAME_NONE) {
            g_byte_array_remove_range(c->in, 0, (guint)start);
            if (c->in->len > CTL_LINE_MAX) {
                g_autofree char *msg = g_strdup_printf("QMP input longer than %u bytes",
                                                       CTL_LINE_MAX);
                g_autofree char *reply = tess_qmp_error_text("GenericError", msg, NULL);
                g_byte_array_set_size(c->in, 0);
                ctl_conn_reply(c, reply);
                c->closing = true;
            }
            return;
        }
        if (f == QMP_FRAME_JUNK) {
            g_byte_array_remove_range(c->in, 0, (guint)end);
            g_autofree char *reply = tess_qmp_error_text("GenericError",
                                                         "JSON parse error, invalid token",
                                                         NULL);
            ctl_conn_reply(c, reply);
            continue;
        }
        if (end - start > CTL_LINE_MAX) {
            /* Framed only because it all arrived in one read; the same
             * limit as when it comes in pieces. */
            g_byte_array_set_size(c->in, 0);
            g_autofree char *msg = g_strdup_printf("QMP input longer than %u bytes",
                                                   CTL_LINE_MAX);
            g_autofree char *reply = tess_qmp_error_text("GenericError", msg, NULL);
            ctl_conn_reply(c, reply);
            c->closing = true;
            return;
        }
        char *text = g_strndup((const char *)c->in->data + start, end - start);
        g_byte_array_remove_range(c->in, 0, (guint)end);
        if (strlen(text) != end - start || !g_utf8_validate(text, -1, NULL)) {
            g_free(text);
            g_autofree char *reply = tess_qmp_error_text("GenericError",
                                                         "JSON parse error, invalid UTF-8",
                                                         NULL);
            ctl_conn_reply(c, reply);
            continue;
        }
        ctl_dispatch_qmp(c, text);
    }
}

static void ctl_conn_line_input(CtlConn *c);

/* Turn received bytes into requests, as the connection's protocol frames
 * them. The one place input is looked at. */
static void ctl_conn_lines(CtlConn *c)
{
    if (c->closed)
        return;
    if (c->mode == CTL_MODE_QMP)
        ctl_conn_qmp_input(c);
    else
        ctl_conn_line_input(c);
}

/* The line protocol: take complete lines from the input buffer while no
 * request is in flight and the client is reading its replies. */
static void ctl_conn_line_input(CtlConn *c)
{
    while (!c->closed && !c->busy && !c->closing && c->out->len < CTL_LINE_MAX) {
        guint8 *nl = c->in->len ? memchr(c->in->data, '\n', c->in->len) : NULL;
        gsize len = nl ? (gsize)(nl - c->in->data) : c->in->len;
        if (len > CTL_LINE_MAX) {
            g_autofree char *msg = g_strdup_printf("request line longer than %u bytes", CTL_LINE_MAX);
            g_autofree char *reply = reply_line(NULL, msg);
            g_byte_array_set_size(c->in, 0);
            ctl_conn_reply(c, reply);
            c->closing = true;
            return;
        }
        if (!nl)
            return;
        char *line = g_strndup((const char *)c->in->data, len);
        g_byte_array_remove_range(c->in, 0, (guint)len + 1);
        g_strstrip(line);
        if (!*line) {
            g_free(line);
            continue;
        }
        if (!g_utf8_validate(line, -1, NULL)) {
            g_free(line);
            g_autofree char *reply = reply_line(NULL, "request is not valid UTF-8");
            ctl_conn_reply(c, reply);
            continue;
        }
        ctl_dispatch(c, line);
    }
}

static gboolean ctl_conn_event(GSocket *sock, GIOCondition cond, gpointer data)
{
    CtlConn *c = data;
    ctl_conn_ref(c);
    if ((c->watching & G_IO_IN) && (cond & (G_IO_IN | G_IO_HUP | G_IO_ERR))) {
        /* Read at most one line's worth before looking at it, so the buffer
         * stays bounded whatever the client sends. */
        char buf[16384];
        while (!c->closed && c->in->len <= CTL_LINE_MAX) {
            g_autoptr(GError) e = NULL;
            gssize n = g_socket_receive(sock, buf, sizeof(buf), NULL, &e);
            if (n < 0) {
                if (!g_error_matches(e, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
                    ctl_conn_close(c);
                break;
            }
            if (n == 0) {
                c->eof = true;
                break;
            }
            g_byte_array_append(c->in, (const guint8 *)buf, (guint)n);
        }
        ctl_conn_lines(c);
    }
    if (!c->closed && c->out->len && (cond & (G_IO_OUT | G_IO_HUP | G_IO_ERR))) {
        g_autoptr(GError) e = NULL;
        gssize n = g_socket_send(sock, (const char *)c->out->data, c->out->len, NULL, &e);
        if (n > 0)
            g_byte_array_remove_range(c->out, 0, (guint)n);
        else if (n < 0 && !g_error_matches(e, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            ctl_conn_close(c);
        /* Room again: lines held back while the client was not reading. */
        ctl_conn_lines(c);
    }
    ctl_conn_update(c);
    ctl_conn_unref(c);
    /* ctl_conn_update replaces the source when the watch changes. */
    return G_SOURCE_CONTINUE;
}

/* ---- the socket: requests ------------------------------------------------ */

typedef struct {
    CtlConn *conn;
    CtlRequest *req;
    char *reply;
} CtlJob;

static void ctl_job_free(gpointer data)
{
    CtlJob *j = data;
    TessControl *ctl = j->conn->ctl;
    ctl_conn_unref(j->conn);
    if (j->req)
        ctl_request_free(j->req);
    g_free(j->reply);
    g_free(j);
    if (g_atomic_int_dec_and_test(&ctl->jobs) && ctl->stopping)
        ctl_check_drained(ctl);
}

/* Control thread: the machine has answered. */
static gboolean ctl_job_done(gpointer data)
{
    CtlJob *j = data;
    CtlConn *c = j->conn;
    c->busy = false;
    if (!c->closed) {
        ctl_conn_reply(c, j->reply);
        ctl_conn_lines(c);
        ctl_conn_update(c);
    }
    return G_SOURCE_REMOVE;
}

/* Machine thread: run the request, hand the reply to the control thread. */
static void ctl_job_run(TessMachine *m, void *data)
{
    CtlJob *j = data;
    if (j->req->qmp) {
        j->reply = tess_qmp_run(m, j->req->qmp);
    } else {
        tess_control_run(m, &j->req->a);
        j->reply = finish_request(j->req);
    }
    GSource *s = g_idle_source_new();
    g_source_set_callback(s, ctl_job_done, j, ctl_job_free);
    g_source_attach(s, j->conn->ctl->ctx);
    g_source_unref(s);
}

/* Post to the machine thread unless it has stopped: under the machine's
 * lock, so that a request queued here is drained by the run loop (which
 * marks STOPPED under the same lock before its last drain). */
static bool ctl_post_unless_stopped(TessMachine *m, CtlJob *j)
{
    g_mutex_lock(&m->lock);
    bool post = m->state != TESS_RUN_STOPPED;
    if (post) {
        TessRequest *r = g_new0(TessRequest, 1);
        r->fn = ctl_job_run;
        r->data = j;
        g_async_queue_push(m->requests, r);
        g_atomic_int_set(&m->cpu_run.stop, 1);
        g_cond_broadcast(&m->cond);
    }
    g_mutex_unlock(&m->lock);
    return post;
}

static void ctl_post(CtlConn *c, CtlRequest *r);

static void ctl_dispatch(CtlConn *c, char *line)
{
    char *reply = NULL;
    if (tess_qmp_looks_like_qmp(line, strlen(line))) {
        /* A QMP client that did not wait for a greeting, on the wrong socket. */
        g_free(line);
        reply = reply_line(NULL, "this socket speaks Tessera's line protocol; QMP is on "
                                 "the socket given with tessera run --qmp PATH");
        ctl_conn_reply(c, reply);
        g_free(reply);
        return;
    }
    CtlRequest *r = parse_request(c->ctl, c->ctl->machines, line, &reply);
    g_free(line);
    if (!r) {
        ctl_conn_reply(c, reply);
        g_free(reply);
        return;
    }
    ctl_post(c, r);
}

static void ctl_dispatch_qmp(CtlConn *c, char *text)
{
    char *reply = NULL;
    QmpCall *q = tess_qmp_parse(&c->qmp, c->ctl->machines, c->ctl, text, &reply);
    g_free(text);
    if (!q) {
        ctl_conn_reply(c, reply);
        g_free(reply);
        return;
    }
    CtlRequest *r = g_new0(CtlRequest, 1);
    r->m = tess_qmp_call_machine(q);
    r->qmp = q;
    ctl_post(c, r);
}

/* Hand a request to its machine; the reply comes back through ctl_job_done. */
static void ctl_post(CtlConn *c, CtlRequest *r)
{
    CtlJob *j = g_new0(CtlJob, 1);
    j->conn = ctl_conn_ref(c);
    j->req = r;
    g_atomic_int_inc(&c->ctl->jobs);
    c->busy = true;
    if (!ctl_post_unless_stopped(r->m, j)) {
        /* A stopped machine has no thread to run on: answer here. */
        if (r->qmp) {
            j->reply = tess_qmp_run(r->m, r->qmp);
        } else {
            tess_control_run(r->m, &r->a);
            j->reply = finish_request(r);
        }
        ctl_job_done(j);
        ctl_job_free(j);
    }
}

/* ---- the socket: events -------------------------------------------------- */

typedef struct {
    TessControl *ctl;
    TessMachine *m;
    char *text;
} CtlEvent;

static void ctl_event_free(gpointer data)
{
    CtlEvent *ev = data;
    g_free(ev->text);
    g_free(ev);
}

/* Control thread: to every QMP client of the machine past negotiation. */
static gboolean ctl_event_send(gpointer data)
{
    CtlEvent *ev = data;
    TessControl *ctl = ev->ctl;
    TessMachine *first = ctl->machines->len ? ctl->machines->pdata[0] : NULL;
    for (GList *l = ctl->conns, *next; l; l = next) {
        next = l->next;
        CtlConn *c = l->data;
        if (c->mode != CTL_MODE_QMP || !c->qmp.negotiated || c->closed)
            continue;
        if ((c->qmp.m ? c->qmp.m : first) != ev->m)
            continue;
        ctl_conn_reply(c, ev->text);
        ctl_conn_update(c);
    }
    return G_SOURCE_REMOVE;
}

void tess_control_event(TessControl *ctl, TessMachine *m, const char *name, JsonNode *data)
{
    if (!ctl) {
        if (data)
            json_node_unref(data);
        return;
    }
    /* Stamped now, sent in order with the replies (same context). */
    CtlEvent *ev = g_new0(CtlEvent, 1);
    ev->ctl = ctl;
    ev->m = m;
    ev->text = tess_qmp_event_text(name, data);
    GSource *s = g_idle_source_new();
    g_source_set_callback(s, ctl_event_send, ev, ctl_event_free);
    g_source_attach(s, ctl->ctx);
    g_source_unref(s);
}

static CtlMachine *ctl_machine(TessControl *ctl, TessMachine *m)
{
    for (guint i = 0; ctl && i < ctl->machines->len; i++)
        if (ctl->ms[i].m == m)
            return &ctl->ms[i];
    return NULL;
}

void tess_control_note_host(TessControl *ctl, TessMachine *m, CtlHostAction a)
{
    CtlMachine *cm = ctl_machine(ctl, m);
    if (cm)
        g_atomic_int_or(&cm->host, (guint)a);
}

static JsonNode *ctl_reason(bool guest, const char *reason)
{
    JsonObject *o = json_object_new();
    json_object_set_boolean_member(o, "guest", guest);
    json_object_set_string_member(o, "reason", reason);
    JsonNode *n = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(n, o);
    return n;
}

/* Machine thread, after a machine reset (guest or host). */
static void ctl_on_reset(TessMachine *m, void *data)
{
    CtlMachine *cm = data;
    bool host = g_atomic_int_and(&cm->host, ~(guint)CTL_HOST_RESET) & CTL_HOST_RESET;
    tess_control_event(cm->ctl, m, "RESET",
                       ctl_reason(!host, host ? "host-qmp-system-reset" : "guest-reset"));
}

/* Machine thread, as the machine stops: SHUTDOWN, then whoever was told
 * before the control socket came. */
static void ctl_on_stop(TessMachine *m, int status, void *data)
{
    CtlMachine *cm = data;
    bool host = g_atomic_int_get(&cm->host) & CTL_HOST_QUIT;
    tess_control_event(cm->ctl, m, "SHUTDOWN",
                       ctl_reason(!host, host ? "host-qmp-quit" : "guest-shutdown"));
    if (cm->on_stop)
        cm->on_stop(m, status, cm->on_stop_data);
}

/* ---- the socket: listening ----------------------------------------------- */

static gboolean ctl_accept(GSocket *listener, GIOCondition cond, gpointer data)
{
    TessControl *ctl = data;
    for (;;) {
        g_autoptr(GError) e = NULL;
        GSocket *s = g_socket_accept(listener, NULL, &e);
        if (!s)
            break;
        g_socket_set_blocking(s, FALSE);
        if (ctl->nconns >= CTL_CLIENTS_MAX) {
            g_autofree char *reply = reply_line(NULL, "too many control connections");
            g_socket_send(s, reply, strlen(reply), NULL, NULL);
            g_socket_send(s, "\n", 1, NULL, NULL);
            g_socket_close(s, NULL);
            g_object_unref(s);
            continue;
        }
        CtlConn *c = g_new0(CtlConn, 1);
        c->ref = 1;
        c->ctl = ctl;
        c->sock = s;
        c->in = g_byte_array_new();
        c->out = g_byte_array_new();
        c->mode = listener == ctl->ls[1].listener ? CTL_MODE_QMP : CTL_MODE_LINE;
        ctl->conns = g_list_prepend(ctl->conns, c);
        ctl->nconns++;
        if (c->mode == CTL_MODE_QMP) {
            /* QMP clients say nothing until greeted. */
            g_autofree char *greeting = tess_qmp_greeting();
            ctl_conn_reply(c, greeting);
        }
        ctl_conn_update(c);
    }
    return G_SOURCE_CONTINUE;
}

static gpointer ctl_thread(gpointer data)
{
    TessControl *ctl = data;
    g_main_context_push_thread_default(ctl->ctx);
    g_main_loop_run(ctl->loop);
    g_main_context_pop_thread_default(ctl->ctx);
    return NULL;
}

/* Is something accepting connections on the socket at `path`? */
static bool ctl_socket_live(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return true;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    int err = errno;
    close(fd);
    /* Only "nobody listens" makes it stale; anything else, leave it be. */
    return !(rc < 0 && err == ECONNREFUSED);
}

/* Bind an owner-only socket and put it at `path`. It is bound inside a
 * fresh 0700 directory next to `path` (so the umask never shows and nobody
 * can connect before the chmod), then hard-linked into place: link() never
 * replaces what is there. */
static GSocket *ctl_listen(CtlListener *l, GError **err)
{
    const char *path = l->path;
    struct sockaddr_un probe;
    if (strlen(path) >= sizeof(probe.sun_path)) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "control socket %s: path longer than %zu bytes", path,
                    sizeof(probe.sun_path) - 1);
        return NULL;
    }
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *tmpdir = g_build_filename(dir, ".tessera-ctl-XXXXXX", NULL);
    if (!g_mkdtemp_full(tmpdir, 0700)) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_IO, "control socket %s: %s", path,
                    g_strerror(errno));
        return NULL;
    }
    g_autofree char *tmp = g_build_filename(tmpdir, "s", NULL);
    GSocket *s = NULL;
    g_autoptr(GError) e = NULL;
    g_autoptr(GSocketAddress) addr = NULL;
    if (strlen(tmp) >= sizeof(probe.sun_path)) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "control socket %s: path too long to create safely", path);
        goto out;
    }
    s = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, &e);
    addr = s ? g_unix_socket_address_new(tmp) : NULL;
    if (!s || !g_socket_bind(s, addr, FALSE, &e) || g_chmod(tmp, 0600) < 0 ||
        !g_socket_listen(s, &e)) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_IO, "control socket %s: %s", path,
                    e ? e->message : g_strerror(errno));
        g_clear_object(&s);
        goto out;
    }
    for (int tries = 0; link(tmp, path) < 0; tries++) {
        struct stat st;
        int le = errno;
        if (le == EEXIST && tries < 2 && lstat(path, &st) == 0) {
            if (!S_ISSOCK(st.st_mode)) {
                g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_IO,
                            "control socket %s: the path exists and is not a socket "
                            "(left alone)", path);
            } else if (ctl_socket_live(path)) {
                g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_IO,
                            "control socket %s: in use by another running VM", path);
            } else if (unlink(path) == 0 || errno == ENOENT) {
                continue;       /* a stale socket from a run that died */
            } else {
                g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_IO,
                            "control socket %s: stale socket: %s", path, g_strerror(errno));
            }
        } else if (le == EEXIST && tries < 2) {
            continue;           /* gone between link and lstat */
        } else {
            g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_IO, "control socket %s: %s", path,
                        g_strerror(le));
        }
        g_clear_object(&s);
        goto out;
    }
    struct stat st;
    if (lstat(path, &st) == 0) {
        l->sock_dev = st.st_dev;
        l->sock_ino = st.st_ino;
    }
out:
    g_unlink(tmp);
    g_rmdir(tmpdir);
    return s;
}

static void ctl_listener_close(CtlListener *l)
{
    if (!l->listener)
        return;
    struct stat st;
    if (lstat(l->path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == l->sock_dev &&
        st.st_ino == l->sock_ino)
        g_unlink(l->path);
}

TessControl *tess_control_new(const char *path, const char *qmp_path, GPtrArray *machines,
                              GError **err)
{
    TessControl *ctl = g_new0(TessControl, 1);
    const char *paths[2] = { path, qmp_path };
    for (int i = 0; i < 2; i++) {
        CtlListener *l = &ctl->ls[i];
        l->qmp = i == 1;
        if (!paths[i])
            continue;
        l->path = g_strdup(paths[i]);
        l->listener = ctl_listen(l, err);
        if (!l->listener) {
            if (i == 1) {
                ctl_listener_close(&ctl->ls[0]);
                g_clear_object(&ctl->ls[0].listener);
            }
            g_free(ctl->ls[0].path);
            g_free(ctl->ls[1].path);
            g_free(ctl);
            return NULL;
        }
        g_socket_set_blocking(l->listener, FALSE);
    }
    ctl->machines = g_ptr_array_ref(machines);
    ctl->ms = g_new0(CtlMachine, machines->len ? machines->len : 1);
    for (guint i = 0; i < machines->len; i++) {
        TessMachine *m = machines->pdata[i];
        CtlMachine *cm = &ctl->ms[i];
        cm->ctl = ctl;
        cm->m = m;
        cm->on_stop = m->on_stop;
        cm->on_stop_data = m->on_stop_data;
        if (m->on_stop == ctl_on_stop) {
            /* Another control socket on the same machine (a replacement):
             * the newest gets the events, the chain stays one deep. */
            CtlMachine *prev = m->on_stop_data;
            cm->on_stop = prev->on_stop;
            cm->on_stop_data = prev->on_stop_data;
        }
        m->on_stop = ctl_on_stop;
        m->on_stop_data = cm;
        m->on_reset = ctl_on_reset;
        m->on_reset_data = cm;
    }
    ctl->ctx = g_main_context_new();
    ctl->loop = g_main_loop_new(ctl->ctx, FALSE);
    for (int i = 0; i < 2; i++) {
        CtlListener *l = &ctl->ls[i];
        if (!l->listener)
            continue;
        l->accept_src = g_socket_create_source(l->listener, G_IO_IN, NULL);
        g_source_set_callback(l->accept_src, G_SOURCE_FUNC(ctl_accept), ctl, NULL);
        g_source_attach(l->accept_src, ctl->ctx);
    }
    ctl->thread = g_thread_new("tessera-control", ctl_thread, ctl);
    return ctl;
}

/* Control thread: stop accepting; let connections finish what is in flight. */
static gboolean ctl_stop(gpointer data)
{
    TessControl *ctl = data;
    ctl->stopping = true;
    for (int i = 0; i < 2; i++)
        if (ctl->ls[i].accept_src)
            g_source_destroy(ctl->ls[i].accept_src);
    for (GList *l = ctl->conns, *next; l; l = next) {
        next = l->next;
        ctl_conn_update(l->data);
    }
    ctl_check_drained(ctl);
    return G_SOURCE_REMOVE;
}

static gboolean ctl_give_up(gpointer data)
{
    g_main_loop_quit(data);
    return G_SOURCE_REMOVE;
}

void tess_control_free(TessControl *ctl)
{
    if (!ctl)
        return;
    ctl_listener_close(&ctl->ls[0]);
    ctl_listener_close(&ctl->ls[1]);
    GSource *s = g_idle_source_new();
    g_source_set_callback(s, ctl_stop, ctl, NULL);
    g_source_attach(s, ctl->ctx);
    g_source_unref(s);
    s = g_timeout_source_new(CTL_FLUSH_US / 1000);
    g_source_set_callback(s, ctl_give_up, ctl->loop, NULL);
    g_source_attach(s, ctl->ctx);
    g_source_unref(s);
    g_thread_join(ctl->thread);
    for (guint i = 0; i < ctl->machines->len; i++) {
        TessMachine *m = ctl->ms[i].m;
        if (m->on_stop == ctl_on_stop && m->on_stop_data == &ctl->ms[i]) {
            m->on_stop = ctl->ms[i].on_stop;
            m->on_stop_data = ctl->ms[i].on_stop_data;
        }
        if (m->on_reset == ctl_on_reset && m->on_reset_data == &ctl->ms[i])
            m->on_reset = NULL;
    }
    if (g_atomic_int_get(&ctl->jobs)) {
        /* A machine still holds a request of ours (it is not stopped):
         * leave the lot to the process's exit rather than free it under
         * that machine. */
        g_debug("control socket %s: a request is still with a machine",
                ctl->ls[0].path ? ctl->ls[0].path : ctl->ls[1].path);
        return;
    }
    while (ctl->conns)
        ctl_conn_close(ctl->conns->data);
    for (int i = 0; i < 2; i++) {
        CtlListener *l = &ctl->ls[i];
        if (!l->listener)
            continue;
        g_source_unref(l->accept_src);
        g_socket_close(l->listener, NULL);
        g_object_unref(l->listener);
        g_free(l->path);
    }
    g_main_loop_unref(ctl->loop);
    g_main_context_unref(ctl->ctx);
    g_ptr_array_unref(ctl->machines);
    g_free(ctl->ms);
    g_free(ctl);
}
