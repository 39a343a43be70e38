/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Commands on the control socket (`tessera ctl SOCKET COMMAND ARGS...`).
 *
 * A device or backend may add commands during realize; they are removed
 * when it goes. Built in: status, pause, resume, quit, help, and
 * `set ID.PROP VALUE` (a runtime property, TESS_PROP_F_RUNTIME). The
 * handler runs on the machine thread between instructions, gets the command's arguments as strings, and returns a
 * reply text (g_malloc'd, may be NULL for "ok") or sets an error.
 */
#ifndef TESSERA_CONTROL_H
#define TESSERA_CONTROL_H

#include <tessera/types.h>

G_BEGIN_DECLS

typedef char *(*TessControlFn)(TessDevice *dev, int argc, char **argv, GError **err);

/* name: one word; usage: "FILE.png  write the screen as PNG". Fails if the
 * machine already has a command of that name. */
bool tess_control_add_command(TessDevice *dev, const char *name, TessControlFn fn,
                              const char *usage, GError **err);

/* A command of one device instance, addressed as `NAME ID ARGS...`: ID
 * is this device's id or the id of one of its slot descendants
 * ("nic0", "ide1.drive0"). Several devices may add the same name (two
 * NICs each add "net"); the control socket picks the one whose device is
 * ID or ID's nearest ancestor. The handler gets argv[0] = ID, then the
 * arguments. A name cannot be both machine-wide and per instance. */
bool tess_control_add_instance_command(TessDevice *dev, const char *name, TessControlFn fn,
                                       const char *usage, GError **err);

G_END_DECLS

#endif
