/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Network micro-benchmarks (meson test --benchmark --suite net):
 *
 *  ring       one host thread filling a port's ring, the machine thread
 *             draining it into a NIC: frames/s and ns/frame, 64 and 1514 bytes;
 *  switch     two machines of one process, each on its own thread, the
 *             first sending unicast frames through an in-process switch to
 *             the second: frames/s and Gbit/s;
 *  latency    the same two machines playing ping-pong through the switch:
 *             round-trip time (the machine thread waits the way the run
 *             loop does when idle, woken by the ring's first frame).
 *
 * Guest-level throughput and latency next to QEMU TCG (the Debian guest
 * on the DEC 21041, QEMU's on its tulip) are bench-net-guest.py here
 * (`meson test --benchmark --suite net net-guest`).
 */
#include "../../net/tnic.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Process CPU time: on a loaded host the wall clock mostly measures the
 * scheduler; CPU time per frame is what the code costs. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const uint8_t bcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
static const uint8_t mac_b[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x0B };
static const uint8_t mac_a[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x0A };

typedef struct {
    TessMachine *m;
    unsigned count;
    size_t len;
} Job;

static gpointer ring_producer(gpointer data)
{
    Job *j = data;
    TnNic *n = tn_nic(j->m, "nic0");
    g_autoptr(GBytes) f = tn_frame(bcast, bcast, 0, j->len);
    const void *d = g_bytes_get_data(f, NULL);
    for (unsigned i = 0; i < j->count; i++)
        while (!tess_net_port_deliver_async(n->port, d, j->len))
            g_thread_yield();
    return NULL;
}

static unsigned received(TessMachine *m, unsigned *base)
{
    TnNic *n = tn_nic(m, "nic0");
    unsigned r = *base + n->rx->len;
    if (n->rx->len > 4096) {
        *base += n->rx->len;
        g_ptr_array_set_size(n->rx, 0);
    }
    return r;
}

static void bench_ring(size_t len, unsigned count)
{
    TessMachine *m = th_machine("<device type='tn-nic' id='nic0'><net type='tn-backend'/></device>");
    Job j = { m, count, len };
    gint64 t0 = g_get_monotonic_time();
    double c0 = cpu_s();
    GThread *t = g_thread_new("producer", ring_producer, &j);
    unsigned base = 0;
    while (received(m, &base) < count)
        tn_pump_once(m, 1000);
    g_thread_join(t);
    double s = (double)(g_get_monotonic_time() - t0) / 1e6, c = cpu_s() - c0;
    printf("ring    %5zu-byte frames: %10.0f frames/s  %7.1f ns/frame wall  %7.1f ns/frame CPU"
           "  %6.2f Gbit/s\n", len, count / s, s * 1e9 / count, c * 1e9 / count,
           count * len * 8.0 / s / 1e9);
    th_machine_free(m);
}

static TessNetPort *dest_port;

static gpointer switch_sender(gpointer data)
{
    Job *j = data;
    for (unsigned i = 0; i < j->count; i++) {
        /* Paced by the receiver's ring, as a NIC is by its TX ring. */
        while (!tess_net_port_async_room(dest_port, j->len))
            g_thread_yield();
        tn_send(j->m, "nic0", mac_b, i, j->len);
    }
    return NULL;
}

static void bench_switch(size_t len, unsigned count)
{
    TessMachine *a = th_machine("<device type='tn-nic' id='nic0' mac='52:54:00:00:00:0a'>"
                                "<net type='switch' name='bench'/></device>");
    TessMachine *b = th_machine("<device type='tn-nic' id='nic0' mac='52:54:00:00:00:0b'>"
                                "<net type='switch' name='bench'/></device>");
    /* Let the switch learn b. */
    tn_send(b, "nic0", bcast, 0, 60);
    tess_net_poll(a);
    Job j = { a, count, len };
    TnNic *nb = tn_nic(b, "nic0");
    dest_port = nb->port;
    gint64 t0 = g_get_monotonic_time();
    double c0 = cpu_s();
    GThread *t = g_thread_new("sender", switch_sender, &j);
    unsigned base = 0, got;
    while ((got = received(b, &base)) + tess_net_port_async_dropped(nb->port) < count)
        tn_pump_once(b, 1000);
    g_thread_join(t);
    double s = (double)(g_get_monotonic_time() - t0) / 1e6, c = cpu_s() - c0;
    printf("switch  %5zu-byte frames: %10.0f frames/s  %7.1f ns/frame CPU  %6.2f Gbit/s"
           "  (%.1f%% dropped)\n", len, got / s, c * 1e9 / count, got * len * 8.0 / s / 1e9,
           100.0 * tess_net_port_async_dropped(nb->port) / count);
    th_machine_free(a);
    th_machine_free(b);
}

typedef struct {
    TessMachine *m;
    unsigned rounds;
    bool initiator;
} Pinger;

static gpointer ping_thread(gpointer data)
{
    Pinger *p = data;
    TnNic *n = tn_nic(p->m, "nic0");
    for (unsigned i = 0; i < p->rounds; i++) {
        if (p->initiator)
            tn_send(p->m, "nic0", mac_b, i, 64);
        while (n->rx->len == 0)
            tn_pump_once(p->m, 100000);
        g_ptr_array_set_size(n->rx, 0);
        if (!p->initiator)
            tn_send(p->m, "nic0", mac_a, i, 64);
    }
    return NULL;
}

static void bench_latency(unsigned rounds)
{
    TessMachine *a = th_machine("<device type='tn-nic' id='nic0' mac='52:54:00:00:00:0a'>"
                                "<net type='switch' name='ping'/></device>");
    TessMachine *b = th_machine("<device type='tn-nic' id='nic0' mac='52:54:00:00:00:0b'>"
                                "<net type='switch' name='ping'/></device>");
    tn_send(a, "nic0", bcast, 0, 60);
    tn_send(b, "nic0", bcast, 0, 60);
    tess_net_poll(a);
    tess_net_poll(b);
    g_ptr_array_set_size(tn_nic(a, "nic0")->rx, 0);
    g_ptr_array_set_size(tn_nic(b, "nic0")->rx, 0);
    Pinger pa = { a, rounds, true }, pb = { b, rounds, false };
    gint64 t0 = g_get_monotonic_time();
    GThread *tb = g_thread_new("pong", ping_thread, &pb);
    GThread *ta = g_thread_new("ping", ping_thread, &pa);
    g_thread_join(ta);
    g_thread_join(tb);
    double us = (double)(g_get_monotonic_time() - t0) / rounds;
    printf("latency 64-byte ping-pong between two machine threads: %.2f us round trip\n", us);
    th_machine_free(a);
    th_machine_free(b);
}

int main(int argc, char **argv)
{
    tn_register();
    unsigned scale = argc > 1 ? (unsigned)atoi(argv[1]) : 1;
    if (!scale)
        scale = 1;
    bench_ring(64, 2000000 * scale);
    bench_ring(1514, 500000 * scale);
    bench_switch(64, 2000000 * scale);
    bench_switch(1514, 500000 * scale);
    bench_latency(20000 * scale);
    return 0;
}
