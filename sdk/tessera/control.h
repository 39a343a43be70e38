/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Commands on the control socket (`tessera ctl SOCKET COMMAND ARGS...`).
 *
 * A device or backend may add commands during realize; they are removed
 * when it goes. The handler runs on the machine thread between
 * instructions, gets the command's arguments as strings, and returns a
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

G_END_DECLS

#endif
