/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tessera ctl SOCKET [@MACHINE] COMMAND [ARGS]: one request, print the
 * reply. @MACHINE picks one of several machines run by one process
 * (tessera run a.xml b.xml); without it the first one answers. */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <json-glib/json-glib.h>

/* Commands whose first argument names a host file: the VM may run in
 * another directory, so a relative path is made absolute here, against the
 * caller's directory (the socket refuses relative ones). */
static const char *const path_commands[] = { "screenshot", "save", "suspend", NULL };

int cli_ctl(int argc, char **argv)
{
    const char *machine = argc > 2 && argv[2][0] == '@' ? argv[2] + 1 : NULL;
    if (machine) {
        argv[2] = argv[1];
        argv++;
        argc--;
    }
    if (argc < 3 || (machine && !*machine)) {
        fprintf(stderr, "usage: tessera ctl SOCKET [@MACHINE] COMMAND [ARGS...]\n");
        return 2;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    if (machine) {
        json_builder_set_member_name(b, "machine");
        json_builder_add_string_value(b, machine);
    }
    json_builder_set_member_name(b, "cmd");
    json_builder_add_string_value(b, argv[2]);
    json_builder_set_member_name(b, "args");
    json_builder_begin_array(b);
    for (int i = 3; i < argc; i++) {
        if (i == 3 && g_strv_contains(path_commands, argv[2]) && !g_path_is_absolute(argv[i])) {
            g_autofree char *cwd = g_get_current_dir();
            g_autofree char *abs = g_canonicalize_filename(argv[i], cwd);
            json_builder_add_string_value(b, abs);
        } else {
            json_builder_add_string_value(b, argv[i]);
        }
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) req = json_builder_get_root(b);
    g_autofree char *line = json_to_string(req, FALSE);

    g_autoptr(GError) err = NULL;
    g_autoptr(GSocketClient) client = g_socket_client_new();
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(argv[1]);
    g_autoptr(GSocketConnection) conn =
        g_socket_client_connect(client, G_SOCKET_CONNECTABLE(addr), NULL, &err);
    if (!conn) {
        fprintf(stderr, "tessera ctl: %s: %s\n", argv[1], err->message);
        return 2;
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
    g_autoptr(JsonParser) p = json_parser_new();
    if (!json_parser_load_from_data(p, reply, -1, NULL) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
        fprintf(stderr, "tessera ctl: malformed reply: %s\n", reply);
        return 1;
    }
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    if (!json_object_get_boolean_member_with_default(o, "ok", FALSE)) {
        fprintf(stderr, "tessera ctl: %s\n",
                json_object_get_string_member_with_default(o, "error", "failed"));
        return 1;
    }
    JsonNode *res = json_object_get_member(o, "result");
    if (res && JSON_NODE_HOLDS_VALUE(res) && json_node_get_value_type(res) == G_TYPE_STRING) {
        printf("%s\n", json_node_get_string(res));
    } else if (res) {
        g_autofree char *s = json_to_string(res, TRUE);
        printf("%s\n", s);
    }
    return 0;
}
