/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host character streams for serial ports, debug consoles and printers.
 *
 * A spec string chooses the backend: "stdio", "file:PATH", "null",
 * "pty", "tcp:127.0.0.1:PORT" (listening; one client at a time).
 * Output never blocks the machine: a stream that cannot take bytes drops
 * them and counts the drop. Input arrives on the machine thread through
 * the `receive` callback; `can_receive` says how many bytes the model can
 * take now (a UART's free FIFO space), and the stream holds the rest back.
 */
#ifndef TESSERA_CHARDEV_H
#define TESSERA_CHARDEV_H

#include <tessera/types.h>

G_BEGIN_DECLS

typedef struct TessChardevHandlers {
    size_t (*can_receive)(void *opaque);
    void (*receive)(void *opaque, const uint8_t *buf, size_t len);
} TessChardevHandlers;

/* Opened for `owner` and closed with it. */
TessChardev *tess_chardev_open(TessDevice *owner, const char *spec, GError **err);
void tess_chardev_set_handlers(TessChardev *c, const TessChardevHandlers *h,
                               void *opaque);
void tess_chardev_write(TessChardev *c, const void *buf, size_t len);
/* The model's can_receive grew (it drained its FIFO): deliver held input. */
void tess_chardev_accept_input(TessChardev *c);
void tess_chardev_close(TessChardev *c);

G_END_DECLS

#endif
