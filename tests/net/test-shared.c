/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The "shared" backend (libslirp) seen from a NIC, frame by frame: DHCP
 * offers 10.0.2.15, the gateway answers ARP and ping, a UDP datagram to
 * 10.0.2.2 reaches a server this test runs on 127.0.0.1 (through the
 * NAT and the backend's poller thread) and its answer comes back, a TCP
 * connection made to a hostfwd port on 127.0.0.1 reaches the guest's
 * port 80 and completes its handshake, bytes the host then sends leave
 * with the guest's next frame (no poller round trip), bad hostfwd rules
 * are refused, and two instances are two separate NATs.
 */
#include "tnic.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t bcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
static const uint8_t ip_guest[4] = { 10, 0, 2, 15 }, ip_gw[4] = { 10, 0, 2, 2 };

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = (uint8_t)v; }

static uint16_t csum(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += be16(p + i);
    if (n & 1)
        sum += p[n - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Ethernet + IPv4 header around a payload of plen bytes; returns the
 * frame length. */
static size_t ip_frame(uint8_t *f, const uint8_t dmac[6], const uint8_t src[4],
                       const uint8_t dst[4], uint8_t proto, size_t plen)
{
    memcpy(f, dmac, 6);
    memcpy(f + 6, guest_mac, 6);
    put16(f + 12, 0x0800);
    uint8_t *ip = f + 14;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(20 + plen));
    put16(ip + 4, 0x1234);
    ip[8] = 64;
    ip[9] = proto;
    memcpy(ip + 12, src, 4);
    memcpy(ip + 16, dst, 4);
    put16(ip + 10, csum(ip, 20, 0));
    return 14 + 20 + plen;
}

static TessNetTx send_raw(TessMachine *m, const uint8_t *f, size_t len)
{
    return tess_net_port_send(tn_nic(m, "nic0")->port, f, len);
}

/* The first received frame satisfying `match`, or NULL. */
typedef bool (*Match)(const uint8_t *f, size_t n, void *data);

typedef struct {
    TessMachine *m;
    Match match;
    void *data;
    const uint8_t *found;
    size_t len;
} Waiter;

static bool find_frame(void *data)
{
    Waiter *w = data;
    GPtrArray *rx = tn_nic(w->m, "nic0")->rx;
    for (guint i = 0; i < rx->len; i++) {
        gsize n;
        const uint8_t *f = g_bytes_get_data(rx->pdata[i], &n);
        if (w->match(f, n, w->data)) {
            w->found = f;
            w->len = n;
            return true;
        }
    }
    return false;
}

static const uint8_t *wait_frame(TessMachine *m, Match match, void *data, size_t *len)
{
    Waiter w = { m, match, data, NULL, 0 };
    if (!tn_pump(m, find_frame, &w))
        return NULL;
    if (len)
        *len = w.len;
    return w.found;
}

static bool is_ipv4(const uint8_t *f, size_t n, uint8_t proto)
{
    return n >= 34 && be16(f + 12) == 0x0800 && (f[14] >> 4) == 4 && f[23] == proto;
}

/* ---- DHCP --------------------------------------------------------------------- */

static bool is_dhcp_offer(const uint8_t *f, size_t n, void *data)
{
    if (!is_ipv4(f, n, 17) || n < 14 + 20 + 8 + 240)
        return false;
    const uint8_t *udp = f + 34, *bootp = udp + 8;
    if (be16(udp) != 67 || be16(udp + 2) != 68 || bootp[0] != 2)
        return false;
    uint32_t xid;
    memcpy(&xid, bootp + 4, 4);
    if (xid != *(uint32_t *)data)
        return false;
    /* option 53 (message type) = 2 (OFFER) */
    for (const uint8_t *o = bootp + 240; o + 2 < f + n && *o != 255;) {
        if (*o == 0) {
            o++;
            continue;
        }
        if (o[0] == 53 && o[1] == 1)
            return o[2] == 2;
        o += 2 + o[1];
    }
    return false;
}

static void dhcp_discover(TessMachine *m, uint32_t xid)
{
    uint8_t f[14 + 20 + 8 + 300] = { 0 };
    const uint8_t zero[4] = { 0 }, all[4] = { 255, 255, 255, 255 };
    uint8_t *udp = f + 34, *b = udp + 8;
    b[0] = 1;                           /* BOOTREQUEST */
    b[1] = 1;
    b[2] = 6;
    memcpy(b + 4, &xid, 4);
    memcpy(b + 28, guest_mac, 6);
    b[236] = 99; b[237] = 130; b[238] = 83; b[239] = 99;   /* magic cookie */
    b[240] = 53; b[241] = 1; b[242] = 1;                     /* DHCPDISCOVER */
    b[243] = 255;
    put16(udp, 68);
    put16(udp + 2, 67);
    put16(udp + 4, 8 + 300);
    size_t len = ip_frame(f, bcast, zero, all, 17, 8 + 300);
    g_assert_cmpint(send_raw(m, f, len), ==, TESS_NET_OK);
}

static void test_dhcp(TessMachine *m)
{
    uint32_t xid = 0x7e55e7a1;
    dhcp_discover(m, xid);
    size_t n;
    const uint8_t *f = wait_frame(m, is_dhcp_offer, &xid, &n);
    g_assert_nonnull(f);
    const uint8_t *bootp = f + 42;
    g_assert_cmpmem(bootp + 16, 4, ip_guest, 4);               /* yiaddr */
    g_assert_cmpmem(bootp + 28, 6, guest_mac, 6);              /* chaddr */
    g_assert_cmpmem(f + 26, 4, ip_gw, 4);                      /* from the gateway */
}

/* ---- ARP and ping ------------------------------------------------------------ */

static bool is_arp_reply(const uint8_t *f, size_t n, void *data)
{
    return n >= 42 && be16(f + 12) == 0x0806 && be16(f + 20) == 2 && !memcmp(f + 28, ip_gw, 4) &&
           !memcmp(f + 38, ip_guest, 4);
}

static bool is_echo_reply(const uint8_t *f, size_t n, void *data)
{
    return is_ipv4(f, n, 1) && n >= 42 && f[34] == 0 && be16(f + 38) == 0x4242 &&
           !memcmp(f + 26, ip_gw, 4);
}

static void test_arp_ping(TessMachine *m, uint8_t gw_mac[6])
{
    uint8_t a[42] = { 0 };
    memcpy(a, bcast, 6);
    memcpy(a + 6, guest_mac, 6);
    put16(a + 12, 0x0806);
    put16(a + 14, 1);
    put16(a + 16, 0x0800);
    a[18] = 6;
    a[19] = 4;
    put16(a + 20, 1);
    memcpy(a + 22, guest_mac, 6);
    memcpy(a + 28, ip_guest, 4);
    memcpy(a + 38, ip_gw, 4);
    g_assert_cmpint(send_raw(m, a, sizeof(a)), ==, TESS_NET_OK);
    const uint8_t *r = wait_frame(m, is_arp_reply, NULL, NULL);
    g_assert_nonnull(r);
    memcpy(gw_mac, r + 22, 6);
    g_assert_cmpmem(r, 6, guest_mac, 6);

    uint8_t f[14 + 20 + 8 + 32];
    uint8_t *icmp = f + 34;
    memset(icmp, 0, 8 + 32);
    icmp[0] = 8;                        /* echo request */
    put16(icmp + 4, 0x4242);
    put16(icmp + 6, 1);
    for (int i = 0; i < 32; i++)
        icmp[8 + i] = (uint8_t)i;
    put16(icmp + 2, csum(icmp, 8 + 32, 0));
    size_t len = ip_frame(f, gw_mac, ip_guest, ip_gw, 1, 8 + 32);
    g_assert_cmpint(send_raw(m, f, len), ==, TESS_NET_OK);
    size_t n = 0;
    r = wait_frame(m, is_echo_reply, NULL, &n);
    g_assert_nonnull(r);
    g_assert_cmpuint(n, ==, len);
    g_assert_cmpmem(r + 42, 32, f + 42, 32);                  /* payload echoed */
}

/* ---- UDP through the NAT to a server on 127.0.0.1 ----------------------------- */

typedef struct {
    uint16_t port;
} UdpMatch;

static bool is_udp_answer(const uint8_t *f, size_t n, void *data)
{
    UdpMatch *u = data;
    return is_ipv4(f, n, 17) && n >= 42 + 6 && be16(f + 34) == u->port &&
           be16(f + 36) == 40000 && !memcmp(f + 42, "answer", 6) && !memcmp(f + 26, ip_gw, 4);
}

/* The host side of the test runs here, on its own thread, as a real
 * server would: receive one datagram, answer it. */
typedef struct {
    int fd;
    char got[64];
    ssize_t n;
} UdpServer;

static gpointer udp_server(gpointer data)
{
    UdpServer *s = data;
    struct sockaddr_in from;
    socklen_t fl = sizeof(from);
    struct pollfd p = { .fd = s->fd, .events = POLLIN };
    if (poll(&p, 1, 10000) != 1)
        return NULL;
    s->n = recvfrom(s->fd, s->got, sizeof(s->got), 0, (struct sockaddr *)&from, &fl);
    if (s->n > 0 && sendto(s->fd, "answer", 6, 0, (struct sockaddr *)&from, fl) != 6)
        s->n = -1;
    return NULL;
}

static void test_udp_nat(TessMachine *m, const uint8_t gw_mac[6])
{
    UdpServer srv = { .fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), .n = -1 };
    g_assert_cmpint(srv.fd, >=, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    g_assert_cmpint(bind(srv.fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    socklen_t al = sizeof(a);
    g_assert_cmpint(getsockname(srv.fd, (struct sockaddr *)&a, &al), ==, 0);
    UdpMatch um = { .port = ntohs(a.sin_port) };
    GThread *t = g_thread_new("udp-server", udp_server, &srv);

    uint8_t f[14 + 20 + 8 + 5];
    uint8_t *udp = f + 34;
    put16(udp, 40000);
    put16(udp + 2, um.port);
    put16(udp + 4, 8 + 5);
    put16(udp + 6, 0);                  /* no checksum (IPv4 allows it) */
    memcpy(udp + 8, "hello", 5);
    size_t len = ip_frame(f, gw_mac, ip_guest, ip_gw, 17, 8 + 5);
    g_assert_cmpint(send_raw(m, f, len), ==, TESS_NET_OK);
    const uint8_t *r = wait_frame(m, is_udp_answer, &um, NULL);
    g_thread_join(t);
    g_assert_cmpint(srv.n, ==, 5);
    g_assert_cmpmem(srv.got, 5, "hello", 5);
    g_assert_nonnull(r);
    g_assert_cmpmem(r + 30, 4, ip_guest, 4);
    close(srv.fd);
}

/* ---- TCP through a hostfwd ----------------------------------------------------- */

static bool is_syn_to_80(const uint8_t *f, size_t n, void *data)
{
    return is_ipv4(f, n, 6) && n >= 54 && be16(f + 36) == 80 && (f[47] & 0x12) == 0x02 &&
           !memcmp(f + 30, ip_guest, 4);
}

static uint16_t tcp_csum(const uint8_t *ip, const uint8_t *tcp, size_t tlen)
{
    uint32_t sum = be16(ip + 12) + be16(ip + 14) + be16(ip + 16) + be16(ip + 18) + 6 +
                   (uint32_t)tlen;
    return csum(tcp, tlen, sum);
}

typedef struct {
    int fd;
    int result;                          /* 0 connected, else errno */
    bool done;
} Connector;

static bool connect_done(void *data)
{
    Connector *c = data;
    struct pollfd p = { .fd = c->fd, .events = POLLOUT };
    if (poll(&p, 1, 0) != 1)
        return false;
    socklen_t l = sizeof(c->result);
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &c->result, &l);
    c->done = true;
    return true;
}

static void test_tcp_hostfwd(TessMachine *m, uint16_t hport, const uint8_t gw_mac[6])
{
    /* A client on the host connects to the forward... */
    Connector c = { .fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) };
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(hport),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int r = connect(c.fd, (struct sockaddr *)&a, sizeof(a));
    g_assert_true(r == 0 || errno == EINPROGRESS);
    /* ...which slirp turns into a SYN to the guest's port 80... */
    size_t n;
    const uint8_t *syn = wait_frame(m, is_syn_to_80, NULL, &n);
    g_assert_nonnull(syn);
    /* ...and the guest (this test) accepts it. */
    uint8_t f[14 + 20 + 20];
    uint8_t *tcp = f + 34;
    memset(tcp, 0, 20);
    memcpy(tcp, syn + 36, 2);          /* our port 80 */
    memcpy(tcp + 2, syn + 34, 2);      /* to its port */
    uint32_t seq = 1000, ack = ((uint32_t)syn[38] << 24 | syn[39] << 16 | syn[40] << 8 | syn[41]) + 1;
    tcp[4] = seq >> 24; tcp[5] = seq >> 16; tcp[6] = seq >> 8; tcp[7] = (uint8_t)seq;
    tcp[8] = ack >> 24; tcp[9] = ack >> 16; tcp[10] = ack >> 8; tcp[11] = (uint8_t)ack;
    tcp[12] = 5 << 4;
    tcp[13] = 0x12;                    /* SYN ACK */
    put16(tcp + 14, 65535);
    size_t len = ip_frame(f, gw_mac, ip_guest, syn + 26, 6, 20);
    put16(tcp + 16, tcp_csum(f + 14, tcp, 20));
    g_assert_cmpint(send_raw(m, f, len), ==, TESS_NET_OK);
    /* The host's connect completes: the handshake went all the way. */
    g_assert_true(tn_pump(m, connect_done, &c));
    g_assert_cmpint(c.result, ==, 0);
    /* Let the handshake's last requests and frames settle. */
    tn_pump_once(m, 0);

    /* Bytes the host sends wait in slirp's socket until slirp polls it.
     * The guest's next frame (here a pure ACK, as a guest opening its
     * window sends) must carry them out at once: the backend polls the
     * sockets on the machine thread after each frame of the guest, not
     * only when the poller thread's request comes round (this test runs
     * no request in between). */
    static const char msg[] = "tessera-data";
    g_assert_cmpint(write(c.fd, msg, sizeof(msg) - 1), ==, (ssize_t)(sizeof(msg) - 1));
    /* Wait until the kernel has moved them into slirp's socket (the
     * client's send queue is empty once they are acknowledged). */
    gint64 until = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    int outq = -1;
    while (ioctl(c.fd, SIOCOUTQ, &outq) == 0 && outq > 0 && g_get_monotonic_time() < until)
        sched_yield();
    g_assert_cmpint(outq, ==, 0);
    TnNic *nic = tn_nic(m, "nic0");
    guint before = nic->rx->len;
    seq++;
    tcp[4] = seq >> 24; tcp[5] = seq >> 16; tcp[6] = seq >> 8; tcp[7] = (uint8_t)seq;
    tcp[13] = 0x10;                    /* ACK */
    put16(tcp + 16, 0);
    put16(tcp + 16, tcp_csum(f + 14, tcp, 20));
    g_assert_cmpint(send_raw(m, f, len), ==, TESS_NET_OK);
    bool got = false;
    for (guint i = before; i < nic->rx->len && !got; i++) {
        gsize fl;
        const uint8_t *d = g_bytes_get_data(nic->rx->pdata[i], &fl);
        got = is_ipv4(d, fl, 6) && fl >= 54 + sizeof(msg) - 1 && be16(d + 36) == 80 &&
              !memcmp(d + 14 + 20 + (d[46] >> 4) * 4, msg, sizeof(msg) - 1);
    }
    g_assert_true(got);
    close(c.fd);
}

static uint16_t free_tcp_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    g_assert_cmpint(bind(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    socklen_t l = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &l);
    close(fd);
    return ntohs(a.sin_port);
}

static void test_end_to_end(void)
{
    uint16_t hport = free_tcp_port();
    g_autofree char *xml = g_strdup_printf(
        "<device type='tn-nic' id='nic0' mac='52:54:00:12:34:56'>"
        "<net type='shared' hostfwd='tcp:127.0.0.1:%u-:80 udp::0-:53'/></device>", hport);
    g_autoptr(GError) err = NULL;
    TessMachine *m = th_machine_try(xml, &err);
    if (!m && err && strstr(err->message, "udp")) {
        /* port 0 is not a port: the rule is refused (checked below) */
    }
    g_assert_null(m);
    g_assert_nonnull(strstr(err->message, "hostfwd rule 'udp::0-:53'"));
    g_clear_error(&err);
    g_free(xml);
    xml = g_strdup_printf("<device type='tn-nic' id='nic0' mac='52:54:00:12:34:56'>"
                          "<net type='shared' hostfwd='tcp:127.0.0.1:%u-:80'/></device>", hport);
    m = th_machine(xml);
    g_assert_true(tess_net_port_link_up(tn_nic(m, "nic0")->port));
    uint8_t gw_mac[6];
    test_dhcp(m);
    test_arp_ping(m, gw_mac);
    test_udp_nat(m, gw_mac);
    test_tcp_hostfwd(m, hport, gw_mac);
    th_machine_free(m);
}

static void test_bad_rules(void)
{
    const char *bad[] = { "tcp:127.0.0.1:80", "icmp::1-:2", "tcp:1.2.3:80-:80", "tcp::99999-:80",
                          "tcp::80-:x", "::", NULL };
    for (const char **b = bad; *b; b++) {
        g_autofree char *xml = g_strdup_printf(
            "<device type='tn-nic' id='nic0'><net type='shared' hostfwd='%s'/></device>", *b);
        g_autoptr(GError) err = NULL;
        TessMachine *m = th_machine_try(xml, &err);
        g_assert_null(m);
        g_assert_nonnull(strstr(err->message, "hostfwd rule"));
    }
}

/* A forward whose host port is taken fails at realize; as a run-time
 * swap it rolls back to the old backend. */
static void test_swap_to_shared(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    g_assert_cmpint(bind(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    g_assert_cmpint(listen(fd, 1), ==, 0);
    socklen_t l = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &l);
    TessMachine *m = th_machine("<device type='tn-nic' id='nic0' mac='52:54:00:12:34:56'>"
                                "<net type='none'/></device>");
    TnNic *n = tn_nic(m, "nic0");
    g_autofree char *rule = g_strdup_printf("hostfwd=tcp:127.0.0.1:%u-:80", ntohs(a.sin_port));
    const char *props[] = { rule, NULL };
    g_autoptr(GError) err = NULL;
    g_assert_false(tess_device_replace_child(&n->dev, "net", 0, "shared", props, &err));
    g_assert_nonnull(strstr(err->message, "cannot listen"));
    g_assert_cmpstr(tess_machine_device(m, "nic0.net")->cls->type, ==, "none");
    g_clear_error(&err);
    close(fd);
    /* none -> shared: the NIC sees the cable plugged in and gets a lease. */
    g_assert_true(tess_device_replace_child(&n->dev, "net", 0, "shared", NULL, &err));
    g_assert_cmpstr(n->links->str, ==, "u");
    test_dhcp(m);
    th_machine_free(m);
}

/* Two instances are two NATs: each has its own DHCP server state. */
static void test_two_instances(void)
{
    TessMachine *m1 = th_machine("<device type='tn-nic' id='nic0' mac='52:54:00:12:34:56'>"
                                 "<net type='shared'/></device>");
    TessMachine *m2 = th_machine("<device type='tn-nic' id='nic0' mac='52:54:00:12:34:56'>"
                                 "<net type='shared' restrict='on'/></device>");
    test_dhcp(m1);
    test_dhcp(m2);                      /* the same address: not shared with m1 */
    g_assert_cmpuint(tn_nic(m1, "nic0")->rx->len, ==, 1);
    g_assert_cmpuint(tn_nic(m2, "nic0")->rx->len, ==, 1);
    th_machine_free(m1);
    th_machine_free(m2);
}

/* A hostile guest: random frames, half of them with a well-formed
 * Ethernet + IPv4 header towards the gateway and random transport bytes,
 * into libslirp. The NAT must survive and still answer DHCP. */
static void test_fuzz(void)
{
    TessMachine *m = th_machine("<device type='tn-nic' id='nic0' mac='52:54:00:12:34:56'>"
                                "<net type='shared' restrict='on'/></device>");
    GRand *r = g_rand_new_with_seed(0xf022);
    static const uint8_t protos[] = { 1, 6, 17, 0x3A, 2 };
    uint8_t f[1600];
    for (unsigned i = 0; i < 5000; i++) {
        size_t len = g_rand_int_range(r, 14, sizeof(f));
        for (size_t k = 0; k < len; k++)
            f[k] = (uint8_t)g_rand_int(r);
        if (g_rand_boolean(r) && len >= 34) {
            const uint8_t gw_mac[6] = { 0x52, 0x55, 10, 0, 2, 2 };
            ip_frame(f, g_rand_boolean(r) ? bcast : gw_mac, ip_guest,
                     g_rand_boolean(r) ? ip_gw : (const uint8_t[4]){ 10, 0, 2, 3 },
                     protos[g_rand_int_range(r, 0, G_N_ELEMENTS(protos))], len - 34);
        } else if (g_rand_boolean(r)) {
            f[12] = 0x08;
            f[13] = g_rand_boolean(r) ? 0x06 : 0x00;
        }
        send_raw(m, f, len);
        if (i % 100 == 0)
            tn_pump_once(m, 0);
    }
    g_rand_free(r);
    g_ptr_array_set_size(tn_nic(m, "nic0")->rx, 0);
    test_dhcp(m);
    th_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tn_register();
    if (!tess_registry_lookup(th_registry(), "shared")) {
        g_printerr("the shared backend was not built\n");
        return 77;
    }
    g_test_add_func("/shared/end-to-end", test_end_to_end);
    g_test_add_func("/shared/bad-rules", test_bad_rules);
    g_test_add_func("/shared/swap", test_swap_to_shared);
    g_test_add_func("/shared/two-instances", test_two_instances);
    g_test_add_func("/shared/fuzz", test_fuzz);
    return g_test_run();
}
