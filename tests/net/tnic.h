/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Network test helpers: a test NIC ("tn-nic") and a test backend
 * ("tn-backend"), built into the test programs, on top of the harness.
 *
 *   <device type="tn-nic" id="nic0" mac="52:54:00:00:00:01">
 *     <net type="switch" name="lab"/>
 *   </device>
 *
 * The NIC records every frame it receives and every link change; it can
 * be told to refuse frames (its receive ring full). The backend records
 * what NICs send, can fail to realize (fail=on) and has a runtime link.
 */
#ifndef TESSERA_TEST_TNIC_H
#define TESSERA_TEST_TNIC_H

#include "harness.h"

typedef struct {
    TessDevice dev;
    TessDevice *net[1];
    TessMac mac;
    bool refuse;
    bool reply;                     /* answer each frame with seq < 100 by seq + 100 */
    TessNetPort *port;
    GPtrArray *rx;                  /* GBytes * received */
    GString *links;                 /* "d" / "u" per link change */
    unsigned tx_ready;
} TnNic;

typedef struct {
    TessDevice dev;
    bool fail, link, busy;
    bool echo;                      /* hand every frame sent straight back (deliver) */
    char *capture;
    TessNetPort *port;
    GPtrArray *tx;                  /* GBytes * sent by the NIC */
} TnBackend;

/* Registers both classes with th_registry() (idempotent). */
void tn_register(void);
TnNic *tn_nic(TessMachine *m, const char *id);
TnBackend *tn_backend(TessMachine *m, const char *id);
/* An Ethernet frame dst, src, type 0x88B5 (local experimental), payload
 * with `seq` in its first 4 bytes, total length len (>= 18). */
GBytes *tn_frame(const uint8_t dst[6], const uint8_t src[6], uint32_t seq, size_t len);
uint32_t tn_seq(GBytes *frame);
TessNetTx tn_send(TessMachine *m, const char *nic, const uint8_t dst[6], uint32_t seq,
                  size_t len);
/* Run what host threads handed the machine (rings and posted requests)
 * until `done(data)` or a 10 s timeout; false on timeout. */
bool tn_pump(TessMachine *m, bool (*done)(void *data), void *data);
void tn_pump_once(TessMachine *m, gint64 wait_us);

#endif
