/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tessera ctl [--json] SOCKET [@MACHINE] COMMAND [ARGS]: one request on the
 * control socket's line protocol (docs/control.md), the reply printed.
 * @MACHINE picks one of several machines run by one process (tessera run
 * a.xml b.xml); without it the first one answers.
 *
 * Output: a text reply as it is; an object reply as "key: value" lines;
 * with --json, the server's reply object as one line of JSON (errors
 * included). Exit status: 0 done, 1 the machine refused or the socket
 * failed, 2 usage. */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <json-glib/json-glib.h>

/* Commands with a host file among their arguments, and which argument:
 * the VM may run in another directory, so a relative path is made absolute
 * here, against the caller's directory (the socket refuses relative ones).
 * `when` (if set) is the argument before it that must match. */
static const struct {
    const char *cmd;
    int arg;
    const char *when;
} path_args[] = {
    { "screenshot", 0, NULL },
    { "save", 0, NULL },
    { "suspend", 0, NULL },
    { "capture", 2, "start" },
};

static bool is_path_arg(const char *cmd, char **args, int nargs, int i)
{
    for (size_t k = 0; k < G_N_ELEMENTS(path_args); k++) {
        if (strcmp(path_args[k].cmd, cmd) || path_args[k].arg != i)
            continue;
        if (path_args[k].when && (i < 1 || strcmp(args[i - 1], path_args[k].when)))
            continue;
        return true;
    }
    return false;
}

static char *request_line(const char *machine, const char *cmd, char **args, int nargs)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    if (machine) {
        json_builder_set_member_name(b, "machine");
        json_builder_add_string_value(b, machine);
    }
    json_builder_set_member_name(b, "cmd");
    json_builder_add_string_value(b, cmd);
    json_builder_set_member_name(b, "args");
    json_builder_begin_array(b);
    for (int i = 0; i < nargs; i++) {
        if (is_path_arg(cmd, args, nargs, i) && !g_path_is_absolute(args[i])) {
            g_autofree char *cwd = g_get_current_dir();
            g_autofree char *abs = g_canonicalize_filename(args[i], cwd);
            json_builder_add_string_value(b, abs);
        } else {
            json_builder_add_string_value(b, args[i]);
        }
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) req = json_builder_get_root(b);
    return json_to_string(req, FALSE);
}

static void print_human(JsonNode *res)
{
    if (JSON_NODE_HOLDS_VALUE(res) && json_node_get_value_type(res) == G_TYPE_STRING) {
        printf("%s\n", json_node_get_string(res));
    } else if (JSON_NODE_HOLDS_OBJECT(res)) {
        JsonObject *o = json_node_get_object(res);
        g_autoptr(GList) members = json_object_get_members(o);
        for (GList *l = members; l; l = l->next) {
            JsonNode *v = json_object_get_member(o, l->data);
            g_autofree char *text = JSON_NODE_HOLDS_VALUE(v) &&
                                    json_node_get_value_type(v) == G_TYPE_STRING
                                    ? g_strdup(json_node_get_string(v))
                                    : json_to_string(v, FALSE);
            printf("%s: %s\n", (const char *)l->data, text);
        }
    } else if (!JSON_NODE_HOLDS_NULL(res)) {
        g_autofree char *s = json_to_string(res, TRUE);
        printf("%s\n", s);
    }
}

int cli_ctl(int argc, char **argv)
{
    gboolean json = FALSE;
    g_autofree char *machine_opt = NULL;
    GOptionEntry entries[] = {
        { "json", 'j', 0, G_OPTION_ARG_NONE, &json,
          "print the reply as one line of JSON ({\"ok\":...})", NULL },
        { "machine", 'm', 0, G_OPTION_ARG_STRING, &machine_opt,
          "the machine to talk to (same as @MACHINE)", "NAME" },
        { NULL },
    };
    g_autoptr(GOptionContext) oc = g_option_context_new("SOCKET [@MACHINE] COMMAND [ARGS...]");
    g_option_context_set_summary(oc,
        "Send one command to a running machine's control socket (tessera run --control).\n"
        "Commands: status, pause, resume, quit, help, set ID.PROP VALUE, save FILE,\n"
        "suspend FILE, screenshot FILE [png|ppm], screentext, sendkey KEYS...,\n"
        "net NIC TYPE [KEY=VALUE...], capture NIC start FILE|stop, disk-commit ID,\n"
        "disk-discard ID, eject ID, insert ID, and what the machine's devices add\n"
        "('help' lists them). Relative file names are taken from this directory.");
    g_option_context_add_main_entries(oc, entries, NULL);
    /* Options stop at SOCKET: what follows belongs to the command. */
    g_option_context_set_strict_posix(oc, TRUE);
    g_autoptr(GError) err = NULL;
    argv[0] = "tessera ctl";
    if (!g_option_context_parse(oc, &argc, &argv, &err)) {
        fprintf(stderr, "tessera ctl: %s (try --help)\n", err->message);
        return 2;
    }
    const char *machine = machine_opt;
    int first = 2;              /* COMMAND's index */
    if (argc > 2 && argv[2][0] == '@') {
        machine = argv[2] + 1;
        first = 3;
    }
    if (argc <= first || (machine && !*machine)) {
        fprintf(stderr, "usage: tessera ctl [--json] SOCKET [@MACHINE] COMMAND [ARGS...] "
                        "(try --help)\n");
        return 2;
    }
    const char *sock = argv[1];
    g_autofree char *line = request_line(machine, argv[first], argv + first + 1,
                                         argc - first - 1);

    g_autoptr(GSocketClient) client = g_socket_client_new();
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(sock);
    g_autoptr(GSocketConnection) conn =
        g_socket_client_connect(client, G_SOCKET_CONNECTABLE(addr), NULL, &err);
    if (!conn) {
        fprintf(stderr, "tessera ctl: %s: %s\n", sock, err->message);
        return 1;
    }
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
    if (!g_output_stream_write_all(out, line, strlen(line), NULL, NULL, &err) ||
        !g_output_stream_write_all(out, "\n", 1, NULL, NULL, &err)) {
        fprintf(stderr, "tessera ctl: %s\n", err->message);
        return 1;
    }
    g_autoptr(GDataInputStream) in =
        g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(conn)));
    g_autofree char *reply = g_data_input_stream_read_line_utf8(in, NULL, NULL, &err);
    if (!reply) {
        fprintf(stderr, "tessera ctl: no reply%s%s\n", err ? ": " : "", err ? err->message : "");
        return 1;
    }
    if (g_str_has_prefix(reply, "{\"QMP\":")) {
        fprintf(stderr, "tessera ctl: %s is a QMP socket (run --qmp); tessera ctl talks to "
                        "the one given with run --control\n", sock);
        return 2;
    }
    g_autoptr(JsonParser) p = json_parser_new();
    if (!json_parser_load_from_data(p, reply, -1, NULL) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
        fprintf(stderr, "tessera ctl: malformed reply: %s\n", reply);
        return 1;
    }
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    JsonNode *okn = json_object_get_member(o, "ok");
    bool ok = okn && JSON_NODE_HOLDS_VALUE(okn) &&
              json_node_get_value_type(okn) == G_TYPE_BOOLEAN && json_node_get_boolean(okn);
    if (json) {
        printf("%s\n", reply);
        return ok ? 0 : 1;
    }
    if (!ok) {
        JsonNode *en = json_object_get_member(o, "error");
        fprintf(stderr, "tessera ctl: %s\n",
                en && JSON_NODE_HOLDS_VALUE(en) && json_node_get_value_type(en) == G_TYPE_STRING
                ? json_node_get_string(en) : "failed");
        return 1;
    }
    JsonNode *res = json_object_get_member(o, "result");
    if (res)
        print_human(res);
    return 0;
}
