/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Storage internals shared by the raw and vhd plugins (compiled into each;
 * nothing here is exported from a plugin).
 *
 * A StoreLayer is one open image file that reads and writes virtual-disk
 * bytes: a raw file, or a VHD (whose differencing parent is another
 * layer). A StoreDisk is the backend instance behind the "block"
 * interface: the base layer, plus, with undo, an overlay layer (a
 * differencing VHD) that takes every write.
 */
#ifndef TESS_STORAGE_STORE_H
#define TESS_STORAGE_STORE_H

#include <tessera/tessera.h>
#include <tessera/block.h>

#pragma GCC visibility push(hidden)

typedef struct StoreLayer StoreLayer;

typedef struct StoreLayerOps {
    const char *format;                     /* "raw", "vhd" */
    bool (*read)(StoreLayer *l, uint64_t off, void *buf, size_t len, GError **err);
    bool (*write)(StoreLayer *l, uint64_t off, const void *buf, size_t len, GError **err);
    bool (*flush)(StoreLayer *l, GError **err);
    /* Does [off, off+len) start with data? *pnum (> 0) bytes share the
     * answer. `local`: only what this layer holds itself (a differencing
     * image's own sectors); else whether the chain may read non-zero. */
    bool (*present)(StoreLayer *l, uint64_t off, uint64_t len, bool local, uint64_t *pnum);
    void (*info)(StoreLayer *l, TessBlockInfo *info);
    /* The recorded CHS geometry; NULL or false: none. */
    bool (*geometry)(StoreLayer *l, TessBlockGeometry *geo);
    void (*close)(StoreLayer *l);
} StoreLayerOps;

struct StoreLayer {
    const StoreLayerOps *ops;
    char *path;
    int fd;
    uint64_t size;                          /* virtual bytes, multiple of 512 */
    bool read_only;
};

static inline void store_close(StoreLayer *l)
{
    if (l)
        l->ops->close(l);
}

/* ---- host files (store-file.c) ------------------------------------------ */

/* Errors: TESS_DEVICE_ERROR, message "FILE: what: strerror". */
bool store_io_error(GError **err, const char *path, const char *what, int errnum);
bool store_error(GError **err, TessErrorCode code, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* Open an image file (O_CLOEXEC) and take a lock on it: shared for
 * read-only, exclusive for read-write, so two writers (or a writer and a
 * reader) never share an image. Returns the fd or -1. */
int store_open_file(const char *path, bool rw, GError **err);
/* Create (or truncate) a file for writing, exclusively locked. `excl`:
 * fail if it exists. */
int store_create_file(const char *path, bool excl, GError **err);

bool store_pread(int fd, const char *path, void *buf, size_t len, uint64_t off, GError **err);
bool store_pwrite(int fd, const char *path, const void *buf, size_t len, uint64_t off,
                  GError **err);
bool store_sync(int fd, const char *path, GError **err);
bool store_file_size(int fd, const char *path, uint64_t *size, GError **err);
/* The file's modification time, in seconds since the Unix epoch. */
int64_t store_file_mtime(int fd);
bool store_same_file(const char *a, const char *b);
bool store_is_zero(const void *buf, size_t len);

/* A raw image as a layer (size: the file size rounded up to a sector;
 * the partial tail reads as zeros). */
StoreLayer *store_raw_open(const char *path, bool rw, GError **err);
bool store_raw_create(const char *path, uint64_t size, GError **err);

/* ---- VHD images (vhd-image.c) ------------------------------------------- */

enum {
    STORE_OPEN_RW = 1 << 0,           /* the image itself read-write */
    STORE_OPEN_PARENT_RW = 1 << 1,    /* its direct parent read-write (commit) */
};

int vhd_probe(const char *path);
StoreLayer *vhd_open(const char *path, unsigned flags, GError **err);
/* Open a VHD or, if the file is no VHD, a raw image. */
StoreLayer *store_open_image(const char *path, unsigned flags, GError **err);
bool vhd_create(const TessBlockCreate *o, GError **err);
/* Create a differencing VHD `path` whose parent is the open layer `parent`
 * (a raw parent is recorded with an all-zero parent UUID), and open it
 * read-write on top of `parent`, which stays owned by the caller.
 * `temporary` sets the footer's Temporary feature bit. */
StoreLayer *vhd_create_overlay(const char *path, StoreLayer *parent, bool temporary,
                               GError **err);
/* Open the existing differencing VHD `path` read-write on top of the open
 * layer `parent` (which stays owned by the caller), checking that it is
 * that parent's child and the parent has not changed since. */
StoreLayer *vhd_open_overlay(const char *path, StoreLayer *parent, GError **err);
/* Merge the differencing image `child` into its parent layer (which must
 * be writable), flush the parent, then empty the child and re-stamp it as
 * the child of the updated parent. */
bool vhd_commit(StoreLayer *child, TessBlockProgressFn progress, void *opaque,
                GError **err);
/* Empty a differencing image: no blocks, stamped as the child of its
 * parent's current state (discards its changes). */
bool vhd_empty(StoreLayer *child, GError **err);
/* True when the differencing image holds no blocks ("ask" drops it). */
bool vhd_is_empty(StoreLayer *child);

/* vhd-check.c */
bool vhd_check_file(const char *path, bool repair, TessBlockCheck *res, GError **err);
/* Change a fixed or dynamic VHD's size (vhd-resize.c). */
bool vhd_resize_file(const char *path, uint64_t size, bool shrink, uint64_t *new_size,
                     GError **err);
bool vhd_compact_file(const char *path, TessBlockProgressFn progress, void *opaque,
                      uint64_t *freed, GError **err);
bool vhd_commit_file(const char *child, TessBlockProgressFn progress, void *opaque,
                     GError **err);

/* ---- the backend instance (undo.c) --------------------------------------- */

typedef struct StoreDisk {
    TessDevice dev;
    char *file;
    bool readonly;
    int undo;                         /* TessBlockUndo */
    StoreLayer *base;
    StoreLayer *top;                  /* where I/O goes: overlay or base */
    StoreLayer *overlay;              /* undo != off */
    char *overlay_path;
    bool undo_keep;                   /* suspended: keep the overlay as it is */
    char *undo_overlay;               /* resumed: adopt this overlay */
    TessTimer *writeback;             /* armed by the first unflushed write */
} StoreDisk;

/* Metadata of a write reaches the file at most this long (machine time)
 * after the write, without any flush (block.h: "a few seconds"). */
#define STORE_WRITEBACK_NS (2 * 1000000000ull)

extern const char *const store_undo_names[];

#define STORE_DISK_PROPS                                                              \
    { .name = "file", .type = TESS_PROP_PATH, .offset = offsetof(StoreDisk, file),     \
      .flags = TESS_PROP_F_REQUIRED, .doc = "the image file" },                        \
    TESS_PROP_BOOL_("readonly", StoreDisk, readonly, "off", "open the image read-only"), \
    TESS_PROP_ENUM_("undo", StoreDisk, undo, "off", store_undo_names,                 \
                    "overlay taking every write: commit, discard or ask at power-off"), \
    { .name = TESS_BLOCK_PROP_UNDO_KEEP, .type = TESS_PROP_BOOL,                        \
      .offset = offsetof(StoreDisk, undo_keep), .def = "off", .flags = TESS_PROP_F_RUNTIME, \
      .doc = "keep the undo overlay as it is at power-off (set by suspend)" },           \
    TESS_PROP_PATH_(TESS_BLOCK_PROP_UNDO_OVERLAY, StoreDisk, undo_overlay, NULL,          \
                    "adopt this existing undo overlay (resuming a suspended machine)")

typedef StoreLayer *(*StoreOpenFn)(const char *path, unsigned flags, GError **err);

bool store_disk_realize(TessDevice *dev, StoreOpenFn open, GError **err);
void store_disk_unrealize(TessDevice *dev);

uint64_t store_disk_size(TessDevice *dev);
uint32_t store_disk_sector_size(TessDevice *dev);
bool store_disk_read_only(TessDevice *dev);
bool store_disk_geometry(TessDevice *dev, TessBlockGeometry *geo);
bool store_disk_read(TessDevice *dev, uint64_t offset, void *buf, size_t len, GError **err);
bool store_disk_write(TessDevice *dev, uint64_t offset, const void *buf, size_t len,
                      GError **err);
bool store_disk_flush(TessDevice *dev, GError **err);
TessBlockStatus store_disk_block_status(TessDevice *dev, uint64_t offset, uint64_t len,
                                        uint64_t *pnum);
bool store_disk_info(TessDevice *dev, TessBlockInfo *info, GError **err);
bool store_disk_commit(TessDevice *dev, GError **err);
bool store_disk_discard(TessDevice *dev, GError **err);

/* The TessBlockOps entries that every image format takes from the engine;
 * the format adds its probe, create, check and file operations. */
#define STORE_DISK_BLOCK_OPS                            \
    .size = store_disk_size,                            \
    .sector_size = store_disk_sector_size,              \
    .read_only = store_disk_read_only,                  \
    .geometry = store_disk_geometry,                    \
    .read = store_disk_read,                            \
    .write = store_disk_write,                          \
    .flush = store_disk_flush,                          \
    .block_status = store_disk_block_status,            \
    .info = store_disk_info,                            \
    .commit = store_disk_commit,                        \
    .discard = store_disk_discard

#pragma GCC visibility pop

#endif
