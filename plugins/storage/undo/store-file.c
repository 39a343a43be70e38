/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host file helpers and the raw image layer.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

bool store_io_error(GError **err, const char *path, const char *what, int errnum)
{
    g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO, "%s: %s: %s", path, what,
                g_strerror(errnum));
    return false;
}

bool store_error(GError **err, TessErrorCode code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(err, TESS_DEVICE_ERROR, code, msg);
    return false;
}

static bool store_lock(int fd, const char *path, bool exclusive, GError **err)
{
    if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0)
        return true;
    if (errno == EWOULDBLOCK)
        return store_error(err, TESS_ERROR_CONFLICT,
                           "%s: in use by another program or disk (%s lock held)", path,
                           exclusive ? "a" : "an exclusive");
    /* File systems without flock (some network mounts): go on unlocked. */
    if (errno == ENOLCK || errno == EOPNOTSUPP || errno == ENOSYS)
        return true;
    return store_io_error(err, path, "lock", errno);
}

int store_open_file(const char *path, bool rw, GError **err)
{
    /* Non-blocking so that a FIFO cannot hold the open; images are regular
     * files or block devices, nothing else. */
    int fd = open(path, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        store_io_error(err, path, rw ? "open for writing" : "open", errno);
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        store_error(err, TESS_ERROR_INVALID, "%s: is a directory, not an image", path);
        return -1;
    }
    if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
        close(fd);
        store_error(err, TESS_ERROR_INVALID,
                    "%s: not a regular file or block device, not an image", path);
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    if (!store_lock(fd, path, rw, err)) {
        close(fd);
        return -1;
    }
    return fd;
}

int store_create_file(const char *path, bool excl, GError **err)
{
    /* Lock before truncating: never cut a file another program has open. */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | (excl ? O_EXCL : 0), 0644);
    if (fd < 0 && errno == EEXIST) {
        store_error(err, TESS_ERROR_DUPLICATE, "%s: already exists", path);
        return -1;
    }
    if (fd < 0) {
        store_io_error(err, path, "create", errno);
        return -1;
    }
    if (!store_lock(fd, path, true, err)) {
        close(fd);
        return -1;
    }
    if (ftruncate(fd, 0) < 0) {
        store_io_error(err, path, "truncate", errno);
        close(fd);
        return -1;
    }
    return fd;
}

bool store_pread(int fd, const char *path, void *buf, size_t len, uint64_t off, GError **err)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = pread(fd, p, MIN(len, (size_t)1 << 30), (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return store_io_error(err, path, "read", errno);
        }
        if (n == 0) {
            /* Past the end of the file: sparse tail, reads as zeros. */
            memset(p, 0, len);
            return true;
        }
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return true;
}

bool store_pwrite(int fd, const char *path, const void *buf, size_t len, uint64_t off,
                  GError **err)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = pwrite(fd, p, MIN(len, (size_t)1 << 30), (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return store_io_error(err, path, "write", errno);
        }
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return true;
}

bool store_sync(int fd, const char *path, GError **err)
{
    while (fdatasync(fd) < 0) {
        if (errno != EINTR)
            return store_io_error(err, path, "flush (fdatasync)", errno);
    }
    return true;
}

bool store_file_size(int fd, const char *path, uint64_t *size, GError **err)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return store_io_error(err, path, "stat", errno);
    if (S_ISBLK(st.st_mode)) {
        off_t end = lseek(fd, 0, SEEK_END);
        if (end < 0)
            return store_io_error(err, path, "size", errno);
        *size = (uint64_t)end;
    } else {
        *size = (uint64_t)st.st_size;
    }
    return true;
}

int64_t store_file_mtime(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 ? (int64_t)st.st_mtime : 0;
}

bool store_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

bool store_is_zero(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    /* Compare the buffer with itself shifted by 16: zero iff the first
     * 16 bytes are zero and every byte equals the one 16 before it. */
    size_t head = MIN(len, (size_t)16);
    for (size_t i = 0; i < head; i++)
        if (p[i])
            return false;
    return len <= 16 || memcmp(p, p + 16, len - 16) == 0;
}

/* ---- raw layer ------------------------------------------------------------- */

typedef struct {
    StoreLayer l;
    uint64_t file_size;
} RawLayer;

static bool raw_read(StoreLayer *l, uint64_t off, void *buf, size_t len, GError **err)
{
    return store_pread(l->fd, l->path, buf, len, off, err);
}

static bool raw_write(StoreLayer *l, uint64_t off, const void *buf, size_t len, GError **err)
{
    RawLayer *r = (RawLayer *)l;
    /* The sector-rounded tail of an odd-sized file: write only what the
     * file holds, so it never grows behind the user's back. */
    if (off + len > r->file_size) {
        if (off >= r->file_size) {
            return true;
        }
        len = (size_t)(r->file_size - off);
    }
    return store_pwrite(l->fd, l->path, buf, len, off, err);
}

static bool raw_flush(StoreLayer *l, GError **err)
{
    return store_sync(l->fd, l->path, err);
}

static bool raw_present(StoreLayer *l, uint64_t off, uint64_t len, bool local, uint64_t *pnum)
{
    /* Holes of a sparse file read as zeros. */
    off_t data = lseek(l->fd, (off_t)off, SEEK_DATA);
    if (data < 0) {
        if (errno == ENXIO) {          /* no data after off */
            *pnum = len;
            return false;
        }
        *pnum = len;
        return true;
    }
    if ((uint64_t)data > off) {
        *pnum = MIN(len, (uint64_t)data - off) & ~(uint64_t)511;
        if (*pnum)
            return false;
        *pnum = MIN(len, (uint64_t)512);
        return true;
    }
    off_t hole = lseek(l->fd, (off_t)off, SEEK_HOLE);
    if (hole < 0 || (uint64_t)hole <= off) {
        *pnum = len;
        return true;
    }
    uint64_t n = ((uint64_t)hole - off + 511) & ~(uint64_t)511;
    *pnum = MIN(len, n);
    return true;
}

static void raw_info(StoreLayer *l, TessBlockInfo *info)
{
    struct stat st;
    info->format = g_strdup("raw");
    info->size = l->size;
    if (fstat(l->fd, &st) == 0)
        info->file_size = (uint64_t)st.st_blocks * 512;
    info->read_only = l->read_only;
}

static void raw_close(StoreLayer *l)
{
    close(l->fd);
    g_free(l->path);
    g_free(l);
}

static const StoreLayerOps raw_layer_ops = {
    .format = "raw",
    .read = raw_read,
    .write = raw_write,
    .flush = raw_flush,
    .present = raw_present,
    .info = raw_info,
    .close = raw_close,
};

StoreLayer *store_raw_open(const char *path, bool rw, GError **err)
{
    int fd = store_open_file(path, rw, err);
    if (fd < 0)
        return NULL;
    uint64_t size;
    if (!store_file_size(fd, path, &size, err)) {
        close(fd);
        return NULL;
    }
    RawLayer *r = g_new0(RawLayer, 1);
    r->l.ops = &raw_layer_ops;
    r->l.path = g_strdup(path);
    r->l.fd = fd;
    r->l.read_only = !rw;
    r->file_size = size;
    r->l.size = (size + 511) & ~(uint64_t)511;
    return &r->l;
}

bool store_raw_create(const char *path, uint64_t size, GError **err)
{
    if (size & 511)
        return store_error(err, TESS_ERROR_INVALID,
                           "%s: size %" G_GUINT64_FORMAT " is not a multiple of 512", path,
                           size);
    int fd = store_create_file(path, false, err);
    if (fd < 0)
        return false;
    bool ok = true;
    if (ftruncate(fd, (off_t)size) < 0)
        ok = store_io_error(err, path, "set size", errno);
    if (ok)
        ok = store_sync(fd, path, err);
    close(fd);
    return ok;
}
