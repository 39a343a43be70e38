/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The "shared" network backend: Virtual PC's shared networking, with
 * libslirp. The guest sits alone on 10.0.2.0/24 behind a NAT: gateway
 * 10.0.2.2 (the host: connections to it go to the host's loopback), DNS
 * 10.0.2.3 (the host's resolver), DHCP hands out 10.0.2.15 onwards.
 *
 *     <net type="shared" hostfwd="tcp:127.0.0.1:8080-:80 udp::5353-:53" restrict="off"/>
 *
 * Each instance is its own NAT (its own Slirp).
 *
 * Threads. libslirp is not thread-safe, so one thread must own it; here
 * that is the machine thread. The NIC's frames go straight into
 * slirp_input (no queue, no copy), and what slirp sends back is handed
 * to the port synchronously; after each frame of the guest, the machine
 * thread also polls slirp's sockets itself (zero timeout), so data the
 * guest's frame made room for leaves at once. Between the guest's frames
 * the host sockets are watched by a small thread of this backend that
 * never touches slirp: the machine thread publishes the set of
 * descriptors (and slirp's timeout) after each slirp call that may
 * change it; the poller waits on that set and, when something is ready,
 * posts one "service" request to the machine and waits for the next
 * published set (so a ready socket never makes it spin). The other
 * design - slirp on the host thread, frames crossing through the port's
 * ring - would need a second queue for the guest's frames and a copy of
 * each; this one has neither.
 *
 * Lifetime: a posted request may still be queued when the backend goes,
 * so it refers to a small refcounted ShCtx that unrealize cuts loose.
 *
 * Snapshots: libslirp serialises what it can carry (slirp_state_save:
 * the DHCP leases, the IP id counter, guestfwd connections) with a
 * version of its own; pre_save puts that in a blob of this device's
 * section and post_load hands it to the new Slirp. Connections through
 * the NAT to host sockets cannot be saved and are gone after a restore
 * (the guest's TCP sees them reset); hostfwd listeners come back from
 * the property.
 */
#include <tessera/tessera.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/eventfd.h>
#include <slirp/libslirp.h>

typedef struct Shared Shared;

typedef struct {
    gint refs;
    Shared *s;                      /* NULL once the backend is gone (machine thread) */
    gint posted;                    /* a service request is queued */
} ShCtx;

struct Shared {
    TessDevice dev;
    char *hostfwd;
    bool restrict_;
    char *capture;

    Slirp *slirp;
    TessNetPort *port;
    uint8_t *nat_state;             /* slirp_state_save's bytes (a snapshot blob) */
    uint32_t nat_state_len;
    uint32_t nat_version;           /* slirp_state_version() that wrote them */
    ShCtx *ctx;
    GArray *scratch;                /* struct pollfd: the machine thread's poll */
    bool polling;                   /* sh_poll_sockets is running */
    GArray *fill;                   /* struct pollfd: sh_publish's, apart from scratch,
                                     * which a poll in progress indexes */

    /* shared with the poller thread, under lock */
    GMutex lock;
    GArray *published;              /* struct pollfd */
    int timeout_ms;
    bool waiting;                   /* the poller posted a service and waits for a set */
    bool stop;
    int wake_fd;                    /* eventfd: a new set, or stop */
    GThread *poller;
};

typedef struct {
    Shared *s;
    TessTimer *t;
    SlirpTimerCb cb;
    void *cb_opaque;
} ShTimer;

static void ctx_unref(ShCtx *c)
{
    if (g_atomic_int_dec_and_test(&c->refs))
        g_free(c);
}

/* ---- slirp's callbacks (machine thread) ------------------------------------ */

static ssize_t sh_send_packet(const void *buf, size_t len, void *opaque)
{
    Shared *s = opaque;
    /* Slirp retransmits what the NIC could not take, as TCP would. */
    if (s->port)
        tess_net_port_deliver(s->port, buf, len);
    return (ssize_t)len;
}

static void sh_guest_error(const char *msg, void *opaque)
{
    Shared *s = opaque;
    tess_guest_error(&s->dev, "slirp: %s", msg);
}

static int64_t sh_clock_ns(void *opaque)
{
    return (int64_t)tess_clock_ns(((Shared *)opaque)->dev.machine);
}

static void sh_timer_fire(void *opaque)
{
    ShTimer *t = opaque;
    t->cb(t->cb_opaque);
}

static void *sh_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    ShTimer *t = g_new0(ShTimer, 1);
    t->s = opaque;
    t->cb = cb;
    t->cb_opaque = cb_opaque;
    t->t = tess_timer_new(&t->s->dev, sh_timer_fire, t);
    return t;
}

static void sh_timer_free(void *timer, void *opaque)
{
    ShTimer *t = timer;
    tess_timer_free(t->t);
    g_free(t);
}

static void sh_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    ShTimer *t = timer;
    tess_timer_arm(t->t, expire_ms < 0 ? 0 : (uint64_t)expire_ms * 1000000u);
}

static void sh_register_fd(int fd, void *opaque) {}
static void sh_unregister_fd(int fd, void *opaque) {}
static void sh_publish(Shared *s);

static void sh_notify(void *opaque)
{
    sh_publish(opaque);
}

static const SlirpCb sh_callbacks = {
    .send_packet = sh_send_packet,
    .guest_error = sh_guest_error,
    .clock_get_ns = sh_clock_ns,
    .timer_new = sh_timer_new,
    .timer_free = sh_timer_free,
    .timer_mod = sh_timer_mod,
    .register_poll_fd = sh_register_fd,
    .unregister_poll_fd = sh_unregister_fd,
    .notify = sh_notify,
};

/* ---- polling ------------------------------------------------------------------- */

static int sh_add_poll(int fd, int events, void *opaque)
{
    GArray *a = opaque;
    struct pollfd p = { .fd = fd };
    if (events & SLIRP_POLL_IN)
        p.events |= POLLIN;
    if (events & SLIRP_POLL_OUT)
        p.events |= POLLOUT;
    if (events & SLIRP_POLL_PRI)
        p.events |= POLLPRI;
    g_array_append_val(a, p);
    return (int)a->len - 1;
}

static int sh_get_revents(int idx, void *opaque)
{
    GArray *a = opaque;
    if (idx < 0 || (guint)idx >= a->len)
        return 0;
    short r = g_array_index(a, struct pollfd, idx).revents;
    return ((r & POLLIN) ? SLIRP_POLL_IN : 0) | ((r & POLLOUT) ? SLIRP_POLL_OUT : 0) |
           ((r & POLLPRI) ? SLIRP_POLL_PRI : 0) | ((r & POLLERR) ? SLIRP_POLL_ERR : 0) |
           ((r & POLLHUP) ? SLIRP_POLL_HUP : 0);
}

/* Give the poller slirp's current descriptors and timeout; wake it only
 * when they changed. */
static void sh_publish(Shared *s)
{
    uint32_t timeout = 1000;        /* slirp's slow timer wants a turn twice a second */
    g_array_set_size(s->fill, 0);
    slirp_pollfds_fill(s->slirp, &timeout, sh_add_poll, s->fill);
    g_mutex_lock(&s->lock);
    size_t bytes = s->fill->len * sizeof(struct pollfd);
    bool same = s->published->len == s->fill->len && s->timeout_ms == (int)timeout &&
                (!bytes || !memcmp(s->published->data, s->fill->data, bytes));
    if (!same) {
        g_array_set_size(s->published, s->fill->len);
        if (bytes)
            memcpy(s->published->data, s->fill->data, bytes);
        s->timeout_ms = timeout > INT32_MAX ? -1 : (int)timeout;
    }
    bool wake = !same || s->waiting;
    s->waiting = false;
    g_mutex_unlock(&s->lock);
    uint64_t one = 1;
    if (wake && write(s->wake_fd, &one, sizeof(one)) < 0)
        g_debug("%s: wake: %s", s->dev.id, g_strerror(errno));
}

/* Machine thread: let slirp read and write whichever of its sockets are
 * ready now (and run its due TCP timers), then publish. */
static void sh_poll_sockets(Shared *s)
{
    /* A NIC that answers from its receive callback sends from inside
     * slirp_pollfds_poll: the outer call carries on with the sockets. */
    if (s->polling)
        return;
    s->polling = true;
    g_array_set_size(s->scratch, 0);
    uint32_t timeout = 0;
    slirp_pollfds_fill(s->slirp, &timeout, sh_add_poll, s->scratch);
    int r = poll((struct pollfd *)s->scratch->data, s->scratch->len, 0);
    slirp_pollfds_poll(s->slirp, r < 0, sh_get_revents, s->scratch);
    s->polling = false;
    sh_publish(s);
}

static void sh_service(TessMachine *m, void *data)
{
    ShCtx *c = data;
    g_atomic_int_set(&c->posted, 0);
    if (c->s)
        sh_poll_sockets(c->s);
    ctx_unref(c);
}

static gpointer sh_poller(gpointer data)
{
    Shared *s = data;
    GArray *fds = g_array_new(FALSE, FALSE, sizeof(struct pollfd));
    for (;;) {
        g_mutex_lock(&s->lock);
        if (s->stop) {
            g_mutex_unlock(&s->lock);
            break;
        }
        /* After posting a service, only the next published set counts. */
        bool waiting = s->waiting;
        int timeout = waiting ? -1 : s->timeout_ms;
        g_array_set_size(fds, 1);
        g_array_index(fds, struct pollfd, 0) = (struct pollfd){ .fd = s->wake_fd, .events = POLLIN };
        if (!waiting)
            g_array_append_vals(fds, s->published->data, s->published->len);
        g_mutex_unlock(&s->lock);
        int r = poll((struct pollfd *)fds->data, fds->len, timeout);
        if (r < 0 && errno != EINTR)
            break;
        struct pollfd *w = &g_array_index(fds, struct pollfd, 0);
        if (w->revents) {
            uint64_t v;
            if (read(s->wake_fd, &v, sizeof(v)) < 0)
                g_debug("%s: eventfd: %s", s->dev.id, g_strerror(errno));
            continue;
        }
        if (r > 0 || (r == 0 && timeout >= 0)) {
            ShCtx *c = s->ctx;
            g_mutex_lock(&s->lock);
            s->waiting = true;
            g_mutex_unlock(&s->lock);
            /* One request at a time; a queued one will publish too. */
            if (!g_atomic_int_compare_and_exchange(&c->posted, 0, 1))
                continue;
            g_atomic_int_inc(&c->refs);
            tess_machine_post(s->dev.machine, sh_service, c);
        }
    }
    g_array_unref(fds);
    return NULL;
}

/* ---- hostfwd="tcp:127.0.0.1:8080-:80 udp::5353-:53" ------------------------- */

static bool parse_addr(const char *text, struct in_addr *a, struct in_addr dflt)
{
    if (!*text) {
        *a = dflt;
        return true;
    }
    return inet_pton(AF_INET, text, a) == 1;
}

static bool parse_port(const char *text, int *port)
{
    guint64 v;
    if (!*text || !g_ascii_string_to_unsigned(text, 10, 1, 65535, &v, NULL))
        return false;
    *port = (int)v;
    return true;
}

static bool add_hostfwd(Shared *s, const char *rule, GError **err)
{
    /* [tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport */
    g_auto(GStrv) halves = g_strsplit(rule, "-", 2);
    g_auto(GStrv) h = halves[0] ? g_strsplit(halves[0], ":", 3) : NULL;
    g_auto(GStrv) g = halves[0] && halves[1] ? g_strsplit(halves[1], ":", 2) : NULL;
    struct in_addr any = { .s_addr = htonl(INADDR_ANY) }, hostaddr, guestaddr;
    struct in_addr guest_dflt;
    inet_pton(AF_INET, "10.0.2.15", &guest_dflt);
    int hport, gport;
    bool udp = false;
    if (!h || g_strv_length(h) != 3 || !g || g_strv_length(g) != 2 ||
        (strcmp(h[0], "tcp") && strcmp(h[0], "udp") && *h[0]) ||
        !parse_addr(h[1], &hostaddr, any) || !parse_port(h[2], &hport) ||
        !parse_addr(g[0], &guestaddr, guest_dflt) || !parse_port(g[1], &gport)) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "hostfwd rule '%s': expected [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT",
                    rule);
        return false;
    }
    udp = !strcmp(h[0], "udp");
    /* validate: the rule is checked, the host port not taken */
    if (tess_machine_dry_run(s->dev.machine))
        return true;
    if (slirp_add_hostfwd(s->slirp, udp, hostaddr, hport, guestaddr, gport) < 0) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO,
                    "hostfwd rule '%s': cannot listen on %s port %d (%s)", rule,
                    udp ? "UDP" : "TCP", hport, g_strerror(errno));
        return false;
    }
    return true;
}

/* ---- the backend -------------------------------------------------------------- */

static bool shared_attach(TessDevice *dev, TessNetPort *port, GError **err)
{
    Shared *s = (Shared *)dev;
    if (s->port) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_INVALID,
                    "%s: a shared backend serves one NIC port", dev->id);
        return false;
    }
    s->port = port;
    return true;
}

static void shared_detach(TessDevice *dev, TessNetPort *port)
{
    /* Slirp runs on the machine thread, as detach does: nothing in flight. */
    ((Shared *)dev)->port = NULL;
}

static TessNetTx shared_send(TessDevice *dev, const uint8_t *frame, size_t len)
{
    Shared *s = (Shared *)dev;
    slirp_input(s->slirp, frame, (int)len);
    /* Service the host sockets now, on this thread, rather than when the
     * poller's request comes round. The guest's frame is often what lets
     * slirp move more data: an ACK that opens the window of a download
     * whose next bytes wait in the host socket, which slirp reads only
     * when it polls. Through the poller that takes two thread wake-ups
     * (poller, then machine) - on a busy host, milliseconds per window,
     * the round trip that bounded downloads. It also publishes the set,
     * which the poller must watch if the frame opened a socket (a UDP
     * send, a TCP connect). One poll(2) of slirp's few descriptors per
     * frame the guest sends. */
    sh_poll_sockets(s);
    return TESS_NET_OK;
}

static const TessNetBackendOps shared_ops = {
    .size = sizeof(TessNetBackendOps),
    .attach = shared_attach,
    .detach = shared_detach,
    .send = shared_send,
};

/* ---- snapshots ------------------------------------------------------------------ */

typedef struct {
    const uint8_t *p;
    size_t len, pos;
    bool short_read;                /* libslirp wanted more than there was */
} ShReader;

static ssize_t sh_state_write(const void *buf, size_t len, void *opaque)
{
    g_byte_array_append(opaque, buf, (guint)len);
    return (ssize_t)len;
}

/* libslirp reads fixed-size items; a short read fails its load. */
static ssize_t sh_state_read(void *buf, size_t len, void *opaque)
{
    ShReader *r = opaque;
    size_t n = MIN(len, r->len - r->pos);
    if (n < len)
        r->short_read = true;
    memcpy(buf, r->p + r->pos, n);
    r->pos += n;
    return (ssize_t)n;
}

static bool shared_pre_save(TessDevice *dev, GError **err)
{
    Shared *s = (Shared *)dev;
    GByteArray *b = g_byte_array_new();
    slirp_state_save(s->slirp, sh_state_write, b);
    if (b->len > TESS_STATE_BLOB_MAX) {
        g_byte_array_unref(b);
        g_set_error(err, TESS_STATE_ERROR, TESS_ERROR_UNSUPPORTED,
                    "the NAT's state is larger than a snapshot section may hold");
        return false;
    }
    g_free(s->nat_state);
    s->nat_state_len = b->len;
    s->nat_state = b->len ? g_byte_array_free(b, FALSE) : (g_byte_array_unref(b), NULL);
    s->nat_version = (uint32_t)slirp_state_version();
    return true;
}

static bool shared_post_load(TessDevice *dev, uint32_t version, GError **err)
{
    Shared *s = (Shared *)dev;
    g_autofree uint8_t *st = g_steal_pointer(&s->nat_state);
    uint32_t len = s->nat_state_len;
    s->nat_state_len = 0;
    if (!len)
        return true;
    if (s->nat_version == 0 || s->nat_version > (uint32_t)slirp_state_version()) {
        g_set_error(err, TESS_STATE_ERROR, TESS_ERROR_UNSUPPORTED,
                    "the NAT's state is libslirp state version %u; this libslirp reads up to %d",
                    s->nat_version, slirp_state_version());
        return false;
    }
    /* libslirp's stream starts with the connections it carries: only
     * guestfwd ones, which this backend never sets up, so ours always
     * start with the end marker. Anything else is not our NAT's state
     * (and libslirp's parser of a connection is not made for hostile
     * bytes). */
    if (st[0] != 0) {
        g_set_error(err, TESS_STATE_ERROR, TESS_ERROR_INVALID,
                    "the NAT's state holds connections this backend never saves");
        return false;
    }
    ShReader r = { .p = st, .len = len };
    int rc = slirp_state_load(s->slirp, (int)s->nat_version, sh_state_read, &r);
    if (rc < 0 || r.short_read || r.pos != r.len) {
        g_set_error(err, TESS_STATE_ERROR, TESS_ERROR_INVALID,
                    "libslirp refused the NAT's state (%s)",
                    rc < 0 ? g_strerror(-rc) : r.short_read ? "truncated" : "bytes left over");
        return false;
    }
    return true;
}

static const TessStateField shared_fields[] = {
    TESS_STATE_U32(Shared, nat_version),
    TESS_STATE_BLOB(Shared, nat_state, nat_state_len),
    TESS_STATE_END,
};

static const TessStateDesc shared_state = {
    .version = 1,
    .fields = shared_fields,
    .pre_save = shared_pre_save,
    .post_load = shared_post_load,
};

static void shared_stop(Shared *s)
{
    if (s->poller) {
        g_mutex_lock(&s->lock);
        s->stop = true;
        g_mutex_unlock(&s->lock);
        uint64_t one = 1;
        if (write(s->wake_fd, &one, sizeof(one)) < 0)
            g_warning("%s: cannot stop the poller: %s", s->dev.id, g_strerror(errno));
        g_thread_join(s->poller);
        s->poller = NULL;
    }
    if (s->ctx) {
        s->ctx->s = NULL;           /* a queued service request finds nothing */
        ctx_unref(g_steal_pointer(&s->ctx));
    }
    g_clear_pointer(&s->slirp, slirp_cleanup);
    if (s->wake_fd >= 0)
        close(s->wake_fd);
    s->wake_fd = -1;
    g_clear_pointer(&s->published, g_array_unref);
    g_clear_pointer(&s->scratch, g_array_unref);
    g_clear_pointer(&s->fill, g_array_unref);
    g_clear_pointer(&s->nat_state, g_free);
    s->nat_state_len = 0;
    g_mutex_clear(&s->lock);
}

static char *shared_cmd_info(TessDevice *dev, int argc, char **argv, GError **err)
{
    Shared *s = (Shared *)dev;
    return slirp_connection_info(s->slirp);
}

static bool shared_realize(TessDevice *dev, GError **err)
{
    Shared *s = (Shared *)dev;
    g_mutex_init(&s->lock);
    s->published = g_array_new(FALSE, FALSE, sizeof(struct pollfd));
    s->scratch = g_array_new(FALSE, FALSE, sizeof(struct pollfd));
    s->fill = g_array_new(FALSE, FALSE, sizeof(struct pollfd));
    s->timeout_ms = 1000;
    s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->wake_fd < 0) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO, "eventfd: %s", g_strerror(errno));
        shared_stop(s);
        return false;
    }
    SlirpConfig cfg = { .version = 1, .restricted = s->restrict_, .in_enabled = true };
    inet_pton(AF_INET, "10.0.2.0", &cfg.vnetwork);
    inet_pton(AF_INET, "255.255.255.0", &cfg.vnetmask);
    inet_pton(AF_INET, "10.0.2.2", &cfg.vhost);
    inet_pton(AF_INET, "10.0.2.15", &cfg.vdhcp_start);
    inet_pton(AF_INET, "10.0.2.3", &cfg.vnameserver);
    cfg.vhostname = "tessera";
    s->slirp = slirp_new(&cfg, &sh_callbacks, s);
    if (!s->slirp) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_FAILED, "libslirp would not start");
        shared_stop(s);
        return false;
    }
    g_auto(GStrv) rules = g_strsplit_set(s->hostfwd ? s->hostfwd : "", " \t,", -1);
    for (char **r = rules; *r; r++) {
        if (**r && !add_hostfwd(s, *r, err)) {
            shared_stop(s);
            return false;
        }
    }
    if (!tess_control_add_instance_command(dev, "nat", shared_cmd_info,
                                           "ID  the NAT's connections (libslirp)", err)) {
        shared_stop(s);
        return false;
    }
    s->ctx = g_new0(ShCtx, 1);
    s->ctx->refs = 1;
    s->ctx->s = s;
    sh_publish(s);
    if (!tess_machine_dry_run(dev->machine))
        s->poller = g_thread_new("shared-poll", sh_poller, s);
    return true;
}

static void shared_unrealize(TessDevice *dev)
{
    shared_stop((Shared *)dev);
}

static const TessPropSpec shared_props[] = {
    TESS_PROP_STRING_("hostfwd", Shared, hostfwd, NULL,
                      "port forwards, QEMU syntax, space-separated: "
                      "[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT (guest default 10.0.2.15)"),
    TESS_PROP_BOOL_("restrict", Shared, restrict_, "off",
                    "cut the guest off from the host and the outside; only forwards reach it"),
    TESS_NET_PROP_CAPTURE(Shared, capture),
    TESS_PROP_END,
};

static const TessIfaceSpec shared_provides[] = {
    { TESS_IFACE_NET, &shared_ops, TESS_IFACE_NET_VERSION },
    TESS_IFACE_END,
};

static const TessDeviceClass shared_class = {
    .type = "shared",
    .kind = TESS_CLASS_BACKEND,
    .doc = "network backend: NAT to the host's connections (libslirp), DHCP and DNS on "
           "10.0.2.0/24 (guest .15, gateway/host .2, DNS .3); <net type=\"shared\"/>",
    .instance_size = sizeof(Shared),
    .props = shared_props,
    .provides = shared_provides,
    .state = &shared_state,
    .realize = shared_realize,
    .unrealize = shared_unrealize,
};

static bool shared_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &shared_class, err);
}

TESS_PLUGIN_DEFINE("shared", "0.1.0", "LGPL-2.1-or-later",
                   "network backend: shared networking (NAT, DHCP, DNS) with libslirp",
                   shared_init);
