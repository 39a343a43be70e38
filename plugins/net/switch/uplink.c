/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The switch's uplinks: the host through a TAP device, the external
 * network through libpcap on a host interface. One thread per switch
 * polls both and forwards what arrives under the switch's lock; frames
 * going out are written from whichever thread forwards them, without
 * blocking (a full TAP queue or a busy interface drops, as a wire would).
 */
#include "switch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <linux/if_tun.h>
#include <pcap/pcap.h>

static gpointer uplink_thread(gpointer data)
{
    SwSwitch *sw = data;
    uint8_t *buf = g_malloc(TESS_NET_FRAME_MAX);
    for (;;) {
        struct pollfd fds[3] = { { .fd = sw->wake_fd, .events = POLLIN } };
        nfds_t n = 1;
        g_mutex_lock(&sw->lock);
        int tap = sw->tap ? sw->tap->fd : -1;
        pcap_t *pc = sw->ext ? sw->ext->pcap : NULL;
        g_mutex_unlock(&sw->lock);
        if (tap >= 0)
            fds[n++] = (struct pollfd){ .fd = tap, .events = POLLIN };
        if (pc)
            fds[n++] = (struct pollfd){ .fd = pcap_get_selectable_fd(pc), .events = POLLIN };
        if (poll(fds, n, -1) < 0 && errno != EINTR)
            break;
        if (fds[0].revents) {
            uint64_t v;
            if (read(sw->wake_fd, &v, sizeof(v)) == sizeof(v) && v >= (1ull << 32))
                break;                  /* asked to stop */
            continue;                   /* an uplink was added */
        }
        for (nfds_t i = 1; i < n; i++) {
            if (!fds[i].revents)
                continue;
            if (fds[i].fd == tap) {
                /* Drain what is there: one wake-up, many frames. */
                for (int k = 0; k < 64; k++) {
                    ssize_t r = read(tap, buf, TESS_NET_FRAME_MAX);
                    if (r < (ssize_t)TESS_NET_FRAME_MIN)
                        break;
                    g_mutex_lock(&sw->lock);
                    if (sw->tap)
                        sw_forward(sw, sw->tap, buf, (size_t)r);
                    g_mutex_unlock(&sw->lock);
                }
            } else {
                for (int k = 0; k < 64; k++) {
                    struct pcap_pkthdr *h;
                    const u_char *d;
                    if (pcap_next_ex(pc, &h, &d) != 1)
                        break;
                    if (h->caplen < TESS_NET_FRAME_MIN || h->caplen != h->len ||
                        h->caplen > TESS_NET_FRAME_MAX)
                        continue;       /* truncated or oversized: not a frame we can pass */
                    g_mutex_lock(&sw->lock);
                    if (sw->ext)
                        sw_forward(sw, sw->ext, d, h->caplen);
                    g_mutex_unlock(&sw->lock);
                }
            }
        }
    }
    g_free(buf);
    return NULL;
}

static bool uplink_start(SwSwitch *sw, GError **err)
{
    if (sw->thread) {
        uint64_t one = 1;
        if (write(sw->wake_fd, &one, sizeof(one)) < 0)
            g_debug("switch %s: wake: %s", sw->name, g_strerror(errno));
        return true;
    }
    sw->wake_fd = eventfd(0, EFD_CLOEXEC);
    if (sw->wake_fd < 0) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO, "eventfd: %s", g_strerror(errno));
        return false;
    }
    sw->thread = g_thread_new("switch-uplink", uplink_thread, sw);
    return true;
}

static SwPort *uplink_port(SwSwitch *sw, SwKind kind)
{
    SwPort *p = g_new0(SwPort, 1);
    p->sw = sw;
    p->kind = kind;
    p->fd = -1;
    return p;
}

bool sw_uplink_tap(SwSwitch *sw, const char *ifname, GError **err)
{
    if (sw->tap)
        return true;                    /* another member asked first: one host uplink */
    if (strlen(ifname) >= IFNAMSIZ) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_INVALID,
                    "tap: interface name '%s' is longer than %d bytes", ifname, IFNAMSIZ - 1);
        return false;
    }
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO, "tap %s: /dev/net/tun: %s", ifname,
                    g_strerror(errno));
        return false;
    }
    struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
    memcpy(ifr.ifr_name, ifname, strlen(ifname));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO, "tap %s: %s", ifname,
                    g_strerror(errno));
        close(fd);
        return false;
    }
    SwPort *p = uplink_port(sw, SW_HOST);
    p->fd = fd;
    if (!uplink_start(sw, err)) {
        close(fd);
        g_free(p);
        return false;
    }
    sw->tap = p;
    g_ptr_array_add(sw->ports, p);
    return true;
}

bool sw_uplink_pcap(SwSwitch *sw, const char *ifname, GError **err)
{
    if (sw->ext)
        return true;
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *pc = pcap_create(ifname, ebuf);
    if (!pc) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO, "pcap %s: %s", ifname, ebuf);
        return false;
    }
    pcap_set_snaplen(pc, TESS_NET_FRAME_MAX);
    pcap_set_promisc(pc, 1);
    pcap_set_immediate_mode(pc, 1);
    int rc = pcap_activate(pc);
    if (rc < 0) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO, "pcap %s: %s", ifname,
                    pcap_geterr(pc));
        pcap_close(pc);
        return false;
    }
    /* Only what arrives on the wire, not what we inject. */
    if (pcap_setdirection(pc, PCAP_D_IN) < 0 || pcap_datalink(pc) != DLT_EN10MB ||
        pcap_setnonblock(pc, 1, ebuf) < 0 || pcap_get_selectable_fd(pc) < 0) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO,
                    "pcap %s: not an Ethernet interface that can be polled", ifname);
        pcap_close(pc);
        return false;
    }
    SwPort *p = uplink_port(sw, SW_EXTERNAL);
    p->pcap = pc;
    if (!uplink_start(sw, err)) {
        pcap_close(pc);
        g_free(p);
        return false;
    }
    sw->ext = p;
    g_ptr_array_add(sw->ports, p);
    return true;
}

void sw_uplink_send(SwPort *p, const uint8_t *frame, size_t len)
{
    if (p->kind == SW_HOST) {
        if (write(p->fd, frame, len) < 0)
            p->sw->dropped++;
    } else if (pcap_inject(p->pcap, frame, len) < 0) {
        p->sw->dropped++;
    }
}

void sw_uplinks_close(SwSwitch *sw)
{
    if (sw->thread) {
        uint64_t stop = 1ull << 32;
        if (write(sw->wake_fd, &stop, sizeof(stop)) < 0)
            g_warning("switch %s: cannot stop the uplink thread: %s", sw->name,
                      g_strerror(errno));
        g_thread_join(sw->thread);
        sw->thread = NULL;
    }
    if (sw->wake_fd >= 0)
        close(sw->wake_fd);
    if (sw->tap) {
        close(sw->tap->fd);
        g_clear_pointer(&sw->tap, g_free);
    }
    if (sw->ext) {
        pcap_close(sw->ext->pcap);
        g_clear_pointer(&sw->ext, g_free);
    }
}
