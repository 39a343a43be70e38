/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Block storage: the "block" interface, provided by disk-image backends.
 *
 * A backend is a class of kind TESS_CLASS_BACKEND whose `provides` table
 * lists { TESS_IFACE_BLOCK, &ops } with a const TessBlockOps. A disk model
 * (IDE, floppy, SCSI...) never knows the image format (DESIGN.md §2): it
 * declares a slot whose child element picks the backend class with its
 * "format" attribute and must provide "block":
 *
 *     typedef struct { TessDevice dev; TessDevice *disk[4]; ... } Ide;
 *     static const TessSlotSpec ide_slots[] = {
 *         { .element = "disk", .type_attr = "format", .iface = TESS_IFACE_BLOCK,
 *           .max = 4, .offset = offsetof(Ide, disk), .doc = "attached images" },
 *         TESS_SLOT_END,
 *     };
 *
 *     <disk format="vhd" file="dos.vhd" undo="commit"/>
 *     <disk format="raw" file="tools.iso" readonly="on"/>
 *
 * The other attributes of <disk> are the backend's properties. Every
 * backend here (classes "raw" and "vhd") takes:
 *
 *     file      path   the image, required (relative: to the machine file)
 *     readonly  bool   open the image read-only; writes fail (default off)
 *     undo      enum   off | commit | discard | ask  (default off)
 *
 * undo puts an overlay in front of the image: a temporary differencing VHD,
 * "FILE.undo.vhd" next to the image (in $TMPDIR when that directory is not
 * writable), takes every write, and the image is not written while the
 * machine runs. At power-off (unrealize) the overlay is merged into the
 * image (commit), deleted (discard), or kept with a message on stderr
 * saying how to apply it (`tessera img commit FILE.undo.vhd`) or drop it
 * (ask; an overlay holding nothing is just deleted). The control commands
 * `disk-commit ID` and `disk-discard ID` do the same while the machine
 * runs, after which the overlay starts empty again; ID is the backend's
 * device id ("ide0.disk0"), or the id of a device (the controller) with a
 * single undo disk below it. An overlay left by a machine that did not
 * shut down is never overwritten: realize fails with a message saying how
 * to apply or drop it. Each command is added by the first undo disk of a
 * machine and serves all of them.
 *
 * Suspend and resume (snapshots) use two more properties of every backend
 * with undo: "undo-keep" (bool, runtime: set on suspend, the overlay is
 * kept as it is at power-off, whatever undo says) and "undo-overlay"
 * (path: adopt this existing overlay, kept by a suspended machine, instead
 * of creating one; its parent must be the image, unchanged).
 *
 * Children are realized before their parent, so a model's realize finds
 * its backends open and calls through the table:
 *
 *     const TessBlockOps *blk = tess_block_ops(d->disk[0]);
 *     uint64_t sectors = blk->size(d->disk[0]) / TESS_BLOCK_SECTOR;
 *     TessBlockGeometry geo;
 *     if (!blk->geometry(d->disk[0], &geo))
 *         ... compute a default CHS from `sectors` ...
 *     if (!blk->read(d->disk[0], lba * 512, buf, 512 * n, &err))
 *         ... report ABRT / UNC to the guest, log err->message ...
 *
 * Rules shared by every backend:
 *  - Offsets and lengths are bytes, multiples of sector_size() (512 for
 *    every format here), and a request must lie inside [0, size()). Any
 *    other request fails with TESS_ERROR_BOUNDS and touches nothing, so a
 *    model can pass guest LBAs straight through and turn a failure into
 *    the error the guest expects.
 *  - Writes may sit in a volatile cache (the host page cache; image
 *    metadata held back to keep the image consistent) until flush()
 *    returns true: only then do they survive a host crash. This is a disk
 *    with a write cache: a model whose guest turned the cache off (ATA SET
 *    FEATURES 82h) calls flush after every write. Metadata is also written
 *    back at most 2 seconds of machine time (host time when running in
 *    real time) after a write, without a flush, and at power-off. The image on
 *    disk is consistent at every moment: killing the process anywhere loses
 *    at most writes that were not flushed.
 *  - Calls come from one thread at a time (the machine thread); a backend
 *    takes no locks of its own. An image is locked against other programs
 *    while open (shared when read-only, exclusive when writable).
 *  - Errors are TESS_DEVICE_ERROR with a message that names the image file
 *    and what is wrong: TESS_ERROR_IO for host I/O failures (with the errno
 *    text), TESS_ERROR_INVALID for a corrupt image or a refused change,
 *    TESS_ERROR_CONFLICT for an image in use, TESS_ERROR_NOT_FOUND for a
 *    missing file or differencing parent.
 *
 * The same table carries class-level operations on image files, which need
 * no instance: `tessera img` finds formats through the registry and calls
 * them via tess_block_class_ops(). A backend leaves NULL what its format
 * cannot do.
 */
#ifndef TESSERA_BLOCK_H
#define TESSERA_BLOCK_H

#include <string.h>
#include <tessera/types.h>
#include <tessera/device.h>

G_BEGIN_DECLS

#define TESS_IFACE_BLOCK "block"
#define TESS_IFACE_BLOCK_VERSION 1   /* see TessIfaceSpec in device.h */
#define TESS_BLOCK_SECTOR 512u
#define TESS_BLOCK_PROP_UNDO_KEEP    "undo-keep"
#define TESS_BLOCK_PROP_UNDO_OVERLAY "undo-overlay"

/* Values of the `undo` property (TESS_PROP_ENUM, names as below). */
typedef enum {
    TESS_BLOCK_UNDO_OFF,       /* "off": writes go to the image */
    TESS_BLOCK_UNDO_COMMIT,    /* "commit": merge the overlay at power-off */
    TESS_BLOCK_UNDO_DISCARD,   /* "discard": drop it at power-off */
    TESS_BLOCK_UNDO_ASK,       /* "ask": keep it, print how to commit/discard */
} TessBlockUndo;
#define TESS_BLOCK_UNDO_NAMES { "off", "commit", "discard", "ask", NULL }

/* A disk's geometry as the image records it (VHD: the footer's CHS). */
typedef struct TessBlockGeometry {
    uint32_t cylinders;
    uint32_t heads;
    uint32_t sectors;             /* per track */
} TessBlockGeometry;

/* What `tessera img info` shows. Strings are g_malloc'd (NULL when not
 * applicable); free them with tess_block_info_clear(). */
typedef struct TessBlockInfo {
    char *format;                 /* class type: "vhd", "raw" */
    char *subformat;              /* "fixed", "dynamic", "differencing"; NULL for raw */
    uint64_t size;                /* virtual size, bytes */
    uint64_t file_size;           /* bytes this file occupies on the host (allocated) */
    bool has_geometry;
    TessBlockGeometry geometry;
    uint32_t block_size;          /* allocation unit of sparse formats; 0 if none */
    uint64_t blocks_total;        /* blocks the disk spans */
    uint64_t blocks_allocated;    /* blocks present in this file */
    char *parent;                 /* differencing: the parent image, resolved path */
    char *creator;                /* application, version, host: "qemu 5.3 Wi2k" */
    char *uuid;                   /* the image's unique id, text form */
    char *overlay;                /* with undo: the overlay file in use */
    bool read_only;
} TessBlockInfo;

static inline void tess_block_info_clear(TessBlockInfo *i)
{
    g_free(i->format);
    g_free(i->subformat);
    g_free(i->parent);
    g_free(i->creator);
    g_free(i->uuid);
    g_free(i->overlay);
    memset(i, 0, sizeof(*i));
}

/* Progress of a long class-level operation: `done` of `total` bytes. */
typedef void (*TessBlockProgressFn)(void *opaque, uint64_t done, uint64_t total);

/* Options of create(). Unused fields are zero/NULL. */
typedef struct TessBlockCreate {
    const char *file;             /* created, or truncated and rewritten if it exists */
    uint64_t size;                /* bytes; a format may round it up (VHD: to whole
                                   * CHS geometry); 0 for a differencing image means
                                   * "the parent's size" */
    const char *type;             /* subformat: VHD "fixed", "dynamic" (default),
                                   * "differencing"; NULL for raw */
    const char *parent;           /* differencing: the parent image */
    uint32_t block_size;          /* sparse formats; 0: the format's default */
} TessBlockCreate;

/* Result of check(). `report` (when not NULL) gets one line per finding,
 * each ending in '\n' ("error: ...", "repaired: ...", "note: ..."). The
 * image is clean when errors == repaired. */
typedef struct TessBlockCheck {
    unsigned errors;              /* inconsistencies found */
    unsigned repaired;            /* of those, fixed (repair only) */
    uint64_t leaked;              /* bytes of the file nothing refers to, left by a
                                   * crash between a write and its metadata */
    GString *report;
    uint64_t lost;                /* of `leaked`, bytes holding data: writes lost
                                   * because their metadata never reached the file
                                   * (counted as an error) */
} TessBlockCheck;

/* Answer of block_status(). */
typedef enum {
    TESS_BLOCK_STATUS_DATA,       /* may hold data (read it) */
    TESS_BLOCK_STATUS_ZERO,       /* reads as zeros, nothing allocated in the chain */
} TessBlockStatus;

typedef struct TessBlockOps {
    /* ---- a realized backend ------------------------------------------- */

    /* Virtual size in bytes (a multiple of sector_size). */
    uint64_t (*size)(TessDevice *dev);
    /* Logical sector size: 512. */
    uint32_t (*sector_size)(TessDevice *dev);
    /* True when writes fail (readonly=on without undo). */
    bool (*read_only)(TessDevice *dev);
    /* The geometry the image records, for IDENTIFY's default CHS; false
     * when the format has none (the model computes its own). */
    bool (*geometry)(TessDevice *dev, TessBlockGeometry *geo);

    bool (*read)(TessDevice *dev, uint64_t offset, void *buf, size_t len, GError **err);
    bool (*write)(TessDevice *dev, uint64_t offset, const void *buf, size_t len,
                  GError **err);
    /* Make every completed write durable (ATA FLUSH CACHE). */
    bool (*flush)(TessDevice *dev, GError **err);

    /* How [offset, offset+len) begins: *pnum (> 0, <= len) bytes from offset
     * share the returned status. May be NULL: everything is DATA. Used by
     * convert to keep sparse images sparse. */
    TessBlockStatus (*block_status)(TessDevice *dev, uint64_t offset, uint64_t len,
                                    uint64_t *pnum);

    /* Describe the open image (the base image when an undo overlay is in
     * front of it; `overlay` names the overlay). */
    bool (*info)(TessDevice *dev, TessBlockInfo *info, GError **err);

    /* Undo overlay (undo != off): merge it into the image now, or drop
     * it; either way the overlay starts empty again. Fail with
     * TESS_ERROR_UNSUPPORTED when the backend has no overlay. */
    bool (*commit)(TessDevice *dev, GError **err);
    bool (*discard)(TessDevice *dev, GError **err);

    /* ---- class level: image files (no instance) ------------------------ */

    /* How sure the backend is that `file` is its format: 0 not at all,
     * 1 fallback (raw takes anything), 100 certain. May be NULL (0). */
    int (*probe)(const char *file);
    /* Create an image file. */
    bool (*create)(const TessBlockCreate *opts, GError **err);
    /* Check an image's metadata (and, for a differencing image, that its
     * parent chain opens), and with `repair` fix what can be fixed without
     * guessing: restore a lost footer from its copy (or the copy from the
     * footer), drop BAT entries that point outside the file or into its
     * metadata, reclaim leaked space at the end. Returns false only when
     * the file cannot be examined at all (missing, not this format). */
    bool (*check)(const char *file, bool repair, TessBlockCheck *res, GError **err);
    /* Merge a differencing image into its parent (opened writable), then
     * empty it. It stays a valid child of the updated parent and reads as
     * before, so it keeps its modification time and its own children stay
     * valid; other children of the parent no longer match it. */
    bool (*commit_file)(const char *child, TessBlockProgressFn progress, void *opaque,
                        GError **err);
    /* Give back space: rewrite a sparse image without its all-zero blocks
     * and leaked space (contents and modification time unchanged); *freed
     * gets the bytes saved. */
    bool (*compact_file)(const char *file, TessBlockProgressFn progress, void *opaque,
                         uint64_t *freed, GError **err);

    /* Change the virtual size to `size` (a format may round it up, as at
     * create; *new_size gets the result). A smaller size fails unless
     * `shrink` (what lies beyond is lost). May be NULL: not resizable.
     * Added in ABI 2.2, in place of a reserved slot. */
    bool (*resize_file)(const char *file, uint64_t size, bool shrink, uint64_t *new_size,
                        GError **err);

    void *reserved[7];            /* zero: room for additions */
} TessBlockOps;

/* The block ops of a device (NULL if it does not provide "block"). */
static inline const TessBlockOps *tess_block_ops(TessDevice *dev)
{
    return (const TessBlockOps *)tess_device_interface(dev, TESS_IFACE_BLOCK);
}

/* The block ops of a class, for class-level operations without an
 * instance (NULL if the class does not provide "block"). */
static inline const TessBlockOps *tess_block_class_ops(const TessDeviceClass *cls)
{
    for (const TessIfaceSpec *i = cls ? cls->provides : NULL; i && i->name; i++)
        if (!strcmp(i->name, TESS_IFACE_BLOCK))
            return (const TessBlockOps *)i->ops;
    return NULL;
}

G_END_DECLS

#endif
