/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host character streams: null, stdio, file:PATH, pty, tcp:127.0.0.1:PORT.
 *
 * Output is written from the machine thread with non-blocking writes; what
 * the host cannot take now is dropped and counted, so a stalled terminal
 * never stalls the guest. Input is read on the process's GLib main loop
 * into a buffer and handed to the machine thread through a request, where
 * the model's can_receive/receive pace it.
 */
#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <glib-unix.h>

typedef enum { CD_NULL, CD_STDIO, CD_FILE, CD_PTY, CD_TCP } CdKind;

struct TessChardev {
    TessMachine *machine;
    TessDevice *owner;
    CdKind kind;
    int out_fd;            /* where output goes, or -1 */
    int in_fd;             /* where input comes from, or -1 */
    int listen_fd;         /* tcp */
    guint in_watch, listen_watch;
    const TessChardevHandlers *h;
    void *opaque;
    GMutex lock;           /* guards fds against the main-loop thread, and pending */
    GByteArray *pending;   /* input read but not yet taken by the model */
    bool delivery_posted;
    uint64_t dropped;
    bool closing;
};

static void set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* ---- input path: main loop -> machine thread ---------------------------- */

static void deliver(TessMachine *m, void *data);

static void post_delivery_locked(TessChardev *c)
{
    if (!c->delivery_posted && c->pending->len && c->h) {
        c->delivery_posted = true;
        tess_machine_post(c->machine, deliver, c);
    }
}

static void deliver(TessMachine *m, void *data)
{
    TessChardev *c = data;
    g_mutex_lock(&c->lock);
    c->delivery_posted = false;
    while (c->pending->len && c->h && !c->closing) {
        size_t room = c->h->can_receive ? c->h->can_receive(c->opaque) : c->pending->len;
        size_t n = MIN(room, (size_t)c->pending->len);
        if (!n)
            break;
        g_autofree uint8_t *chunk = g_memdup2(c->pending->data, n);
        g_byte_array_remove_range(c->pending, 0, (guint)n);
        g_mutex_unlock(&c->lock);
        c->h->receive(c->opaque, chunk, n);
        g_mutex_lock(&c->lock);
    }
    g_mutex_unlock(&c->lock);
}

void tess_chardev_accept_input(TessChardev *c)
{
    if (!c)
        return;
    g_mutex_lock(&c->lock);
    post_delivery_locked(c);
    g_mutex_unlock(&c->lock);
}

static gboolean on_readable(gint fd, GIOCondition cond, gpointer data)
{
    TessChardev *c = data;
    uint8_t buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
        g_mutex_lock(&c->lock);
        /* Bound what waits for a slow guest: drop beyond 64 KiB. */
        if (c->pending->len < 65536)
            g_byte_array_append(c->pending, buf, (guint)n);
        else
            c->dropped += (uint64_t)n;
        post_delivery_locked(c);
        g_mutex_unlock(&c->lock);
        return G_SOURCE_CONTINUE;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return G_SOURCE_CONTINUE;
    /* EOF or error: a tcp client left; stdio/pty input ended. */
    g_mutex_lock(&c->lock);
    c->in_watch = 0;
    if (c->kind == CD_TCP) {
        close(c->in_fd);
        c->in_fd = c->out_fd = -1;
    }
    g_mutex_unlock(&c->lock);
    return G_SOURCE_REMOVE;
}

static gboolean on_accept(gint fd, GIOCondition cond, gpointer data)
{
    TessChardev *c = data;
    int cfd = accept(fd, NULL, NULL);
    if (cfd < 0)
        return G_SOURCE_CONTINUE;
    g_mutex_lock(&c->lock);
    if (c->out_fd >= 0) {          /* one client at a time */
        g_mutex_unlock(&c->lock);
        close(cfd);
        return G_SOURCE_CONTINUE;
    }
    set_nonblock(cfd);
    c->in_fd = c->out_fd = cfd;
    c->in_watch = g_unix_fd_add(cfd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, c);
    g_mutex_unlock(&c->lock);
    return G_SOURCE_CONTINUE;
}

/* ---- opening ------------------------------------------------------------ */

static bool parse_tcp(const char *addr, struct sockaddr_in *sa, GError **err)
{
    const char *colon = strrchr(addr, ':');
    g_autofree char *host = colon ? g_strndup(addr, colon - addr) : NULL;
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    *sa = (struct sockaddr_in){ .sin_family = AF_INET };
    if (!colon || *end || port < 1 || port > 65535 || !host ||
        inet_pton(AF_INET, host, &sa->sin_addr) != 1 ||
        sa->sin_addr.s_addr != htonl(INADDR_LOOPBACK)) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "chardev 'tcp:%s': expected tcp:127.0.0.1:PORT (loopback only)", addr);
        return false;
    }
    sa->sin_port = htons((uint16_t)port);
    return true;
}

static bool open_tcp(TessChardev *c, const char *addr, GError **err)
{
    struct sockaddr_in sa;
    if (!parse_tcp(addr, &sa, err))
        return false;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 1) < 0) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_IO, "chardev 'tcp:%s': %s", addr,
                    g_strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    set_nonblock(fd);
    c->listen_fd = fd;
    c->listen_watch = g_unix_fd_add(fd, G_IO_IN, on_accept, c);
    return true;
}

static bool open_pty(TessChardev *c, GError **err)
{
    int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0 || grantpt(fd) < 0 || unlockpt(fd) < 0) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_IO, "chardev 'pty': %s",
                    g_strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    set_nonblock(fd);
    c->in_fd = c->out_fd = fd;
    g_printerr("%s: serial device on %s\n", c->owner->id, ptsname(fd));
    c->in_watch = g_unix_fd_add(fd, G_IO_IN, on_readable, c);
    return true;
}

/* A dry run (validate) refuses what opening would, short of opening:
 * an unknown kind, a bad address, a file in a directory that is not. */
static bool dry_check(const char *spec, GError **err)
{
    struct sockaddr_in sa;
    if (!strcmp(spec, "stdio") || !strcmp(spec, "pty"))
        return true;
    if (g_str_has_prefix(spec, "tcp:"))
        return parse_tcp(spec + 4, &sa, err);
    if (g_str_has_prefix(spec, "file:") && spec[5]) {
        g_autofree char *dir = g_path_get_dirname(spec + 5);
        if (g_file_test(dir, G_FILE_TEST_IS_DIR))
            return true;
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_IO, "chardev '%s': no directory %s",
                    spec, dir);
        return false;
    }
    g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                "chardev '%s': expected stdio, file:PATH, null, pty or tcp:127.0.0.1:PORT", spec);
    return false;
}

TessChardev *tess_chardev_open(TessDevice *owner, const char *spec, GError **err)
{
    TessChardev *c = g_new0(TessChardev, 1);
    c->machine = owner->machine;
    c->owner = owner;
    c->in_fd = c->out_fd = c->listen_fd = -1;
    c->pending = g_byte_array_new();
    g_mutex_init(&c->lock);
    bool ok = true;
    if (!spec || !*spec || !strcmp(spec, "null") || !strcmp(spec, "none")) {
        c->kind = CD_NULL;
    } else if (owner->machine->dry) {
        /* validate: check the spec as run would, open nothing. */
        c->kind = CD_NULL;
        ok = dry_check(spec, err);
    } else if (!strcmp(spec, "stdio")) {
        c->kind = CD_STDIO;
        c->out_fd = STDOUT_FILENO;
    } else if (g_str_has_prefix(spec, "file:") && spec[5]) {
        c->kind = CD_FILE;
        c->out_fd = open(spec + 5, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (c->out_fd < 0) {
            g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_IO, "chardev '%s': %s", spec,
                        g_strerror(errno));
            ok = false;
        }
    } else if (!strcmp(spec, "pty")) {
        c->kind = CD_PTY;
        ok = open_pty(c, err);
    } else if (g_str_has_prefix(spec, "tcp:")) {
        c->kind = CD_TCP;
        ok = open_tcp(c, spec + 4, err);
    } else {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "chardev '%s': expected stdio, file:PATH, null, pty or tcp:127.0.0.1:PORT",
                    spec);
        ok = false;
    }
    if (!ok) {
        g_byte_array_unref(c->pending);
        g_mutex_clear(&c->lock);
        g_free(c);
        return NULL;
    }
    g_ptr_array_add(owner->machine->chardevs, c);
    return c;
}

void tess_chardev_set_handlers(TessChardev *c, const TessChardevHandlers *h, void *opaque)
{
    g_mutex_lock(&c->lock);
    c->h = h;
    c->opaque = opaque;
    /* stdin is read only once someone wants input from it. */
    if (c->kind == CD_STDIO && h && !c->in_watch && isatty(STDIN_FILENO)) {
        c->in_fd = STDIN_FILENO;
        c->in_watch = g_unix_fd_add(STDIN_FILENO, G_IO_IN, on_readable, c);
    }
    g_mutex_unlock(&c->lock);
}

void tess_chardev_write(TessChardev *c, const void *buf, size_t len)
{
    if (!c || c->kind == CD_NULL)
        return;
    g_mutex_lock(&c->lock);
    const uint8_t *p = buf;
    while (len && c->out_fd >= 0) {
        ssize_t n = write(c->out_fd, p, len);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            break;
        }
    }
    c->dropped += len;
    g_mutex_unlock(&c->lock);
}

void tess_chardev_close(TessChardev *c)
{
    if (!c)
        return;
    g_ptr_array_remove(c->machine->chardevs, c);
    g_mutex_lock(&c->lock);
    c->closing = true;
    if (c->in_watch)
        g_source_remove(c->in_watch);
    if (c->listen_watch)
        g_source_remove(c->listen_watch);
    if (c->kind == CD_FILE || c->kind == CD_PTY || c->kind == CD_TCP) {
        if (c->out_fd >= 0)
            close(c->out_fd);
    }
    if (c->listen_fd >= 0)
        close(c->listen_fd);
    g_mutex_unlock(&c->lock);
    /* A delivery request may still sit in the machine's queue; the machine
     * drains its queue on its own thread before it frees devices, and
     * chardevs are closed from that thread, so none can be outstanding
     * here except when the machine never ran, where nothing was posted. */
    g_byte_array_unref(c->pending);
    g_mutex_clear(&c->lock);
    g_free(c);
}

void tess_chardev_release_owner(TessMachine *m, TessDevice *owner)
{
    for (guint i = m->chardevs->len; i-- > 0;) {
        TessChardev *c = m->chardevs->pdata[i];
        if (c->owner == owner)
            tess_chardev_close(c);
    }
}
