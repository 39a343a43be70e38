/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Between the control socket's connection layer (control.c) and its two
 * protocols: the line protocol's command runner and QMP (qmp.c). Core
 * internal; see docs/control.md for the protocols themselves.
 */
#ifndef TESS_QMP_H
#define TESS_QMP_H

#include "core.h"

#include <json-glib/json-glib.h>

/* One command of the line protocol (or a QMP command that maps onto one),
 * run on the machine thread by tess_control_run. */
typedef struct CtlCall {
    TessControl *ctl;           /* where events go; NULL: nowhere */
    const char *cmd;
    int argc;
    char **argv;
    JsonNode *result;           /* on success: a string or an object */
    GError *error;
} CtlCall;

/* Machine thread: run a line-protocol command. */
void tess_control_run(TessMachine *m, CtlCall *a);

/* Any thread: send a QMP event to the QMP clients of `m` that negotiated
 * capabilities. `data` (owned; NULL for {}) is the event's "data". */
void tess_control_event(TessControl *ctl, TessMachine *m, const char *name, JsonNode *data);

/* What the host (a control client) asked of a machine, so that the
 * RESET and SHUTDOWN events that follow name the right reason. */
typedef enum {
    CTL_HOST_QUIT = 1 << 0,
    CTL_HOST_RESET = 1 << 1,
} CtlHostAction;
void tess_control_note_host(TessControl *ctl, TessMachine *m, CtlHostAction a);

/* ---- QMP (qmp.c) ---------------------------------------------------------- */

/* A connection's QMP state: capabilities negotiated, the machine it talks
 * to (the first of the socket's machines unless tessera-machine chose). */
typedef struct QmpSession {
    bool negotiated;
    TessMachine *m;
} QmpSession;

/* Framing of QMP's input, a stream of JSON objects with or without
 * whitespace between them. */
typedef enum {
    QMP_FRAME_NONE,             /* nothing complete yet (or only whitespace) */
    QMP_FRAME_VALUE,            /* [*start, *end) is one object or array */
    QMP_FRAME_JUNK,             /* [*start, *end) is not JSON text: answer an error */
} QmpFrame;
/* *start: first non-blank byte (len if none). With NONE, *newline tells
 * whether a newline came inside the unfinished value. */
QmpFrame tess_qmp_frame(const guint8 *buf, gsize len, gsize *start, gsize *end,
                        bool *newline);

/* One JSON object or array, with nothing but blanks around it: the root
 * (owned), or NULL with an error. json-glib 1.6 (Debian 12) takes several
 * top-level values in one text and leaks all but the last (a client
 * repeating such a request would grow the process without bound), and
 * takes comments and single-quoted strings that JSON has not; the text is
 * checked against JSON's own rules first, so json-glib sees one value. */
JsonNode *tess_json_parse_one(const char *text, gsize len, GError **err);

/* Does this input start a QMP session ({"execute": ...})? */
bool tess_qmp_looks_like_qmp(const char *text, gsize len);

/* json_to_string, with what json-glib writes that is not JSON mended. */
char *tess_json_text(JsonNode *n, bool pretty);

/* Append s as a JSON string (quotes, escapes; invalid UTF-8 replaced by
 * U+FFFD), as json-glib's generator writes it. */
void tess_json_append_string(GString *out, const char *s);

char *tess_qmp_greeting(void);
/* {"error": {"class": CLS, "desc": DESC}} (id: echoed, may be NULL). */
char *tess_qmp_error_text(const char *cls, const char *desc, JsonNode *id);
char *tess_qmp_event_text(const char *name, JsonNode *data);

typedef struct QmpCall QmpCall;
/* Parse and check one input value. Commands that need no machine are
 * answered at once: NULL with *reply set. Otherwise the call to run on
 * tess_qmp_call_machine()'s thread with tess_qmp_run. */
QmpCall *tess_qmp_parse(QmpSession *s, GPtrArray *machines, TessControl *ctl,
                        const char *text, char **reply);
TessMachine *tess_qmp_call_machine(const QmpCall *q);
/* Machine thread (or inline on a stopped machine): the reply text. */
char *tess_qmp_run(TessMachine *m, QmpCall *q);
void tess_qmp_call_free(QmpCall *q);

#endif
