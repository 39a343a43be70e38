/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The "vde" network backend: a port on a Virtual Distributed Ethernet
 * segment through libvdeplug, so VMs in different processes or on
 * different hosts share a wire (vde_switch, vxvde, ...).
 *
 *     <net type="vde" url="vde:///run/vde.ctl"/>
 *
 * Frames out are sent on the machine thread without blocking: when the
 * plug's socket is full the NIC gets TESS_NET_BUSY and, once the socket
 * drains, tx_ready. Frames in are read by this backend's thread and
 * handed to the port's ring (tess_net_port_deliver_async); the thread
 * runs only while a port is attached, and detach joins it, so nothing
 * reaches a port after its detach (net.h's rule).
 */
#include <tessera/tessera.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <libvdeplug.h>

typedef struct Vde Vde;

/* What a posted tx_ready request refers to: it may outlive the backend. */
typedef struct {
    gint refs;
    Vde *v;                         /* NULL once detached (machine thread) */
} VdeCtx;

struct Vde {
    TessDevice dev;
    char *url;
    char *capture;
    VDECONN *conn;
    TessNetPort *port;
    VdeCtx *ctx;
    GThread *thread;
    int wake_fd;                    /* eventfd: stop, or watch for POLLOUT */
    gint stop;
    gint want_tx;                   /* the NIC got BUSY: tell it when writable */
    gint tx_posted;
    gint64 rx_dropped;
};

static void ctx_unref(VdeCtx *c)
{
    if (g_atomic_int_dec_and_test(&c->refs))
        g_free(c);
}

static void vde_tx_ready(TessMachine *m, void *data)
{
    VdeCtx *c = data;
    if (c->v && c->v->port) {
        g_atomic_int_set(&c->v->tx_posted, 0);
        tess_net_port_tx_ready(c->v->port);
    }
    ctx_unref(c);
}

static gpointer vde_thread(gpointer data)
{
    Vde *v = data;
    uint8_t *buf = g_malloc(TESS_NET_FRAME_MAX);
    int fd = vde_datafd(v->conn);
    while (!g_atomic_int_get(&v->stop)) {
        struct pollfd p[2] = {
            { .fd = v->wake_fd, .events = POLLIN },
            { .fd = fd, .events = POLLIN | (g_atomic_int_get(&v->want_tx) ? POLLOUT : 0) },
        };
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[0].revents) {
            uint64_t x;
            if (read(v->wake_fd, &x, sizeof(x)) < 0)
                g_debug("%s: eventfd: %s", v->dev.id, g_strerror(errno));
            continue;
        }
        if ((p[1].revents & POLLOUT) && g_atomic_int_compare_and_exchange(&v->want_tx, 1, 0) &&
            g_atomic_int_compare_and_exchange(&v->tx_posted, 0, 1)) {
            g_atomic_int_inc(&v->ctx->refs);
            tess_machine_post(v->dev.machine, vde_tx_ready, v->ctx);
        }
        if (p[1].revents & (POLLHUP | POLLERR)) {
            g_warning("%s: the VDE switch went away", v->dev.id);
            break;
        }
        for (int k = 0; k < 64 && (p[1].revents & POLLIN); k++) {
            ssize_t n = vde_recv(v->conn, buf, TESS_NET_FRAME_MAX, MSG_DONTWAIT);
            if (n <= 0)
                break;
            /* Runts and giants from the segment are not frames: drop. */
            if (n < (ssize_t)TESS_NET_FRAME_MIN ||
                !tess_net_port_deliver_async(v->port, buf, (size_t)n))
                v->rx_dropped++;
        }
    }
    g_free(buf);
    return NULL;
}

static void vde_wake(Vde *v)
{
    uint64_t one = 1;
    if (write(v->wake_fd, &one, sizeof(one)) < 0)
        g_debug("%s: eventfd: %s", v->dev.id, g_strerror(errno));
}

static bool vde_attach(TessDevice *dev, TessNetPort *port, GError **err)
{
    Vde *v = (Vde *)dev;
    if (v->port) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_INVALID,
                    "%s: a vde backend serves one NIC port", dev->id);
        return false;
    }
    v->port = port;
    if (tess_machine_dry_run(dev->machine))
        return true;                /* validate: no connection, no thread */
    v->ctx = g_new0(VdeCtx, 1);
    v->ctx->refs = 1;
    v->ctx->v = v;
    g_atomic_int_set(&v->stop, 0);
    v->thread = g_thread_new("vde", vde_thread, v);
    return true;
}

static void vde_detach(TessDevice *dev, TessNetPort *port)
{
    Vde *v = (Vde *)dev;
    if (!v->thread)
        return;
    g_atomic_int_set(&v->stop, 1);
    vde_wake(v);
    g_thread_join(v->thread);
    v->thread = NULL;
    v->ctx->v = NULL;
    ctx_unref(g_steal_pointer(&v->ctx));
    v->port = NULL;
}

static TessNetTx vde_send_frame(TessDevice *dev, const uint8_t *frame, size_t len)
{
    Vde *v = (Vde *)dev;
    ssize_t n = vde_send(v->conn, frame, len, MSG_DONTWAIT);
    if (n >= 0)
        return TESS_NET_OK;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
        g_atomic_int_set(&v->want_tx, 1);
        vde_wake(v);
        return TESS_NET_BUSY;
    }
    return TESS_NET_OK;             /* lost on the wire */
}

static const TessNetBackendOps vde_ops = {
    .size = sizeof(TessNetBackendOps),
    .attach = vde_attach,
    .detach = vde_detach,
    .send = vde_send_frame,
};

static bool vde_realize(TessDevice *dev, GError **err)
{
    Vde *v = (Vde *)dev;
    if (!v->url || !*v->url) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_INVALID,
                    "url is required (e.g. vde:///run/vde.ctl)");
        return false;
    }
    v->wake_fd = -1;
    if (tess_machine_dry_run(dev->machine))
        return true;                /* validate: the switch is not connected to */
    struct vde_open_args args = { .port = 0, .group = NULL, .mode = 0700 };
    v->conn = vde_open(v->url, "tessera", &args);
    if (!v->conn) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO, "vde %s: %s", v->url,
                    g_strerror(errno));
        return false;
    }
    /* libvdeplug's modules ignore the flags of send and recv: make the
     * socket itself non-blocking, so neither thread can hang on it. */
    int fd = vde_datafd(v->conn);
    v->wake_fd = fd < 0 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0
                     ? -1 : eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (v->wake_fd < 0) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO, "eventfd: %s", g_strerror(errno));
        vde_close(v->conn);
        v->conn = NULL;
        return false;
    }
    return true;
}

static void vde_unrealize(TessDevice *dev)
{
    Vde *v = (Vde *)dev;
    vde_detach(dev, v->port);
    if (v->conn)
        vde_close(v->conn);
    v->conn = NULL;
    if (v->wake_fd >= 0)
        close(v->wake_fd);
}

static const TessPropSpec vde_props[] = {
    { .name = "url", .type = TESS_PROP_STRING, .offset = offsetof(Vde, url),
      .flags = TESS_PROP_F_REQUIRED,
      .doc = "libvdeplug URL: vde:///path/to/switch.ctl, a switch directory, vxvde://..." },
    TESS_NET_PROP_CAPTURE(Vde, capture),
    TESS_PROP_END,
};

static const TessIfaceSpec vde_provides[] = {
    { TESS_IFACE_NET, &vde_ops, TESS_IFACE_NET_VERSION },
    TESS_IFACE_END,
};

static const TessDeviceClass vde_class = {
    .type = "vde",
    .kind = TESS_CLASS_BACKEND,
    .doc = "network backend: a port on a VDE segment (libvdeplug: vde_switch, vxvde); "
           "<net type=\"vde\" url=\"vde:///run/vde.ctl\"/>",
    .instance_size = sizeof(Vde),
    .props = vde_props,
    .provides = vde_provides,
    .realize = vde_realize,
    .unrealize = vde_unrealize,
};

static bool vde_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &vde_class, err);
}

TESS_PLUGIN_DEFINE("vde", "0.1.0", "LGPL-2.1-or-later",
                   "network backend: Virtual Distributed Ethernet (libvdeplug)", vde_init);
