/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The "switch" network backend: private interface between its files. */
#ifndef SW_SWITCH_H
#define SW_SWITCH_H

#include <tessera/tessera.h>

typedef enum { SW_VM, SW_HOST, SW_EXTERNAL } SwKind;

typedef struct SwSwitch SwSwitch;

/* One port of a switch: a VM's NIC, or an uplink. */
typedef struct SwPort {
    SwSwitch *sw;
    SwKind kind;
    TessNetPort *port;              /* SW_VM */
    bool vm, host, external;        /* SW_VM: where this VM's frames may go */
    int fd;                         /* SW_HOST: the TAP device */
    void *pcap;                     /* SW_EXTERNAL: pcap_t * */
    uint64_t rx, tx;                /* frames to / from this port */
} SwPort;

struct SwSwitch {
    char *name;
    unsigned refs;                  /* backend instances joined (sw_lock) */
    GMutex lock;                    /* ports, table, counters; serialises every
                                     * producer into the VM ports' rings */
    GPtrArray *ports;               /* SwPort * */
    GHashTable *fdb;                /* MAC (uint64 key) -> SwFdb * */
    uint64_t flooded, dropped;
    /* uplinks (uplink.c) */
    SwPort *tap, *ext;
    GThread *thread;
    int wake_fd;                    /* eventfd: stop the uplink thread */
};

/* Forward one frame entering at `from` (sw->lock held). */
void sw_forward(SwSwitch *sw, SwPort *from, const uint8_t *frame, size_t len);

/* uplink.c (sw->lock held unless said otherwise) */
bool sw_uplink_tap(SwSwitch *sw, const char *ifname, GError **err);
bool sw_uplink_pcap(SwSwitch *sw, const char *ifname, GError **err);
/* Stop the thread and close the uplinks (sw->lock NOT held). */
void sw_uplinks_close(SwSwitch *sw);
void sw_uplink_send(SwPort *p, const uint8_t *frame, size_t len);

#endif
