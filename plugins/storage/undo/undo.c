/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The disk backend instance shared by the raw and vhd classes: the block
 * interface on top of a layer, and the undo overlay.
 *
 * With undo on, the image is opened but never written while the machine
 * runs; a differencing VHD next to it (FILE.undo.vhd, or in $TMPDIR when
 * that directory is not writable) takes every write and serves every
 * sector it holds. At power-off the overlay is merged into the image
 * (commit), deleted (discard), or left for the user (ask). The overlay
 * is created exclusively, so one left behind by a machine that did not
 * shut down (or that another machine is using) is never overwritten: it
 * is reported with how to apply or drop it.
 */
#include "store.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

const char *const store_undo_names[] = TESS_BLOCK_UNDO_NAMES;

static StoreDisk *disk(TessDevice *dev)
{
    return (StoreDisk *)dev;
}

/* ---- the overlay -------------------------------------------------------------- */

static StoreLayer *overlay_create(StoreDisk *d, GError **err)
{
    g_autofree char *path = g_strconcat(d->file, ".undo.vhd", NULL);
    GError *e = NULL;
    StoreLayer *o = vhd_create_overlay(path, d->base, true, &e);
    if (!o && g_error_matches(e, TESS_DEVICE_ERROR, TESS_ERROR_DUPLICATE)) {
        g_error_free(e);
        store_error(err, TESS_ERROR_CONFLICT,
                    "%s: an undo overlay %s already exists: another machine uses this "
                    "image, or one did not shut down and left its changes there. Apply "
                    "them with `tessera img commit %s %s` then delete it, or just delete "
                    "it to drop them", d->file, path, path, d->file);
        return NULL;
    }
    if (!o && g_error_matches(e, TESS_DEVICE_ERROR, TESS_ERROR_IO)) {
        /* The image's directory is not writable: use $TMPDIR. */
        g_autofree char *base = g_path_get_basename(d->file);
        g_free(path);
        path = g_strdup_printf("%s/%s-%08x.undo.vhd", g_get_tmp_dir(), base, g_random_int());
        GError *e2 = NULL;
        o = vhd_create_overlay(path, d->base, true, &e2);
        if (!o) {
            g_propagate_prefixed_error(err, e2, "undo overlay: ");
            g_error_free(e);
            return NULL;
        }
        g_error_free(e);
    } else if (!o) {
        g_propagate_prefixed_error(err, e, "undo overlay: ");
        return NULL;
    }
    d->overlay_path = g_steal_pointer(&path);
    return o;
}

static void overlay_drop(StoreDisk *d)
{
    /* Its contents are thrown away: closing it need not flush them. */
    d->overlay->read_only = true;
    store_close(d->overlay);
    d->overlay = NULL;
    if (d->overlay_path && unlink(d->overlay_path) < 0 && errno != ENOENT)
        g_warning("%s: cannot delete the undo overlay: %s", d->overlay_path,
                  g_strerror(errno));
    g_clear_pointer(&d->overlay_path, g_free);
    d->top = d->base;
}

static void overlay_keep(StoreDisk *d, const char *why)
{
    g_autofree char *p = g_strdup(d->overlay_path);
    store_close(d->overlay);
    d->overlay = NULL;
    g_clear_pointer(&d->overlay_path, g_free);
    d->top = d->base;
    g_printerr("%s: %s; the changes to %s are kept in %s\n"
               "  to apply them: tessera img commit '%s' '%s' && rm '%s'\n"
               "  to drop them:  rm '%s'\n",
               d->dev.id, why, d->file, p, p, d->file, p, p);
}

/* ---- control commands ----------------------------------------------------------- */

static bool has_overlay(TessDevice *dev)
{
    const TessBlockOps *ops = tess_block_ops(dev);
    if (!ops || !ops->info || !ops->commit)
        return false;
    TessBlockInfo info = { 0 };
    bool yes = ops->info(dev, &info, NULL) && info.overlay;
    tess_block_info_clear(&info);
    return yes;
}

/* The disk named by `id`: a block device's id, or a device (the
 * controller) with exactly one undo disk among its children. Works for
 * every block backend, whichever plugin registered the command. */
static TessDevice *find_disk(TessMachine *m, const char *id, GError **err)
{
    TessDevice *d = tess_machine_device(m, id);
    if (d && tess_block_ops(d))
        return d;
    g_autofree char *prefix = g_strconcat(id, ".", NULL);
    GPtrArray *all = tess_machine_devices(m);
    TessDevice *found = NULL;
    GString *names = g_string_new(NULL);
    unsigned n = 0;
    for (guint i = 0; i < all->len; i++) {
        TessDevice *c = all->pdata[i];
        if (!has_overlay(c))
            continue;
        g_string_append_printf(names, "%s%s", names->len ? ", " : "", c->id);
        if (g_str_has_prefix(c->id, prefix)) {
            found = c;
            n++;
        }
    }
    if (n == 1) {
        g_string_free(names, TRUE);
        return found;
    }
    if (n > 1)
        store_error(err, TESS_ERROR_INVALID, "'%s' has several undo disks; name one of: %s",
                    id, names->str);
    else
        store_error(err, TESS_ERROR_NOT_FOUND, "no disk '%s'%s%s", id,
                    names->len ? "; undo disks: " : " (no disk has undo on)", names->str);
    g_string_free(names, TRUE);
    return NULL;
}

static char *cmd_disk(TessDevice *self, int argc, char **argv, bool commit, GError **err)
{
    if (argc != 1) {
        store_error(err, TESS_ERROR_INVALID, "usage: %s ID",
                    commit ? "disk-commit" : "disk-discard");
        return NULL;
    }
    TessDevice *d = find_disk(self->machine, argv[0], err);
    if (!d)
        return NULL;
    const TessBlockOps *ops = tess_block_ops(d);
    bool ok = commit ? (ops->commit && ops->commit(d, err))
                     : (ops->discard && ops->discard(d, err));
    if (!ok) {
        if (err && !*err)
            store_error(err, TESS_ERROR_UNSUPPORTED, "%s: no undo overlay", d->id);
        return NULL;
    }
    return g_strdup_printf("%s: %s", d->id, commit ? "committed" : "discarded");
}

static char *cmd_commit(TessDevice *self, int argc, char **argv, GError **err)
{
    return cmd_disk(self, argc, argv, true, err);
}

static char *cmd_discard(TessDevice *self, int argc, char **argv, GError **err)
{
    return cmd_disk(self, argc, argv, false, err);
}

static bool add_command(TessDevice *dev, const char *name, TessControlFn fn,
                        const char *usage, GError **err)
{
    GError *e = NULL;
    if (tess_control_add_command(dev, name, fn, usage, &e))
        return true;
    /* Another disk added it: its handler serves every disk. */
    if (g_error_matches(e, TESS_CONFIG_ERROR, TESS_ERROR_DUPLICATE)) {
        g_error_free(e);
        return true;
    }
    g_propagate_error(err, e);
    return false;
}

/* ---- lifecycle ------------------------------------------------------------------------ */

/* A guest that writes through the BIOS never flushes: write its metadata
 * back shortly after anyway, so that an idle machine killed later loses
 * nothing. On the machine thread, like every block call. */
static void disk_writeback(void *opaque)
{
    StoreDisk *d = opaque;
    g_autoptr(GError) err = NULL;
    if (d->top && !d->top->read_only && !d->top->ops->flush(d->top, &err))
        g_warning("%s: write-back failed: %s", d->file, err->message);
}

bool store_disk_realize(TessDevice *dev, StoreOpenFn open, GError **err)
{
    StoreDisk *d = disk(dev);
    if (!d->file || !*d->file)
        return store_error(err, TESS_ERROR_INVALID, "no image file given (file=...)");
    if (d->readonly && d->undo == TESS_BLOCK_UNDO_COMMIT)
        return store_error(err, TESS_ERROR_INVALID,
                           "%s: readonly=on cannot go with undo=commit (use discard)",
                           d->file);
    /* With undo the image is only written by a commit. Open it writable
     * so disk-commit works at run time; with discard or ask the machine
     * can do without that, and then takes it read-only (a read-only file,
     * or an image other discard machines share). */
    bool dry = dev->machine && tess_machine_dry_run(dev->machine);
    bool rw = !d->readonly && !dry;
    GError *e = NULL;
    d->base = open(d->file, rw ? STORE_OPEN_RW : 0, &e);
    if (!d->base && rw &&
        (d->undo == TESS_BLOCK_UNDO_ASK || d->undo == TESS_BLOCK_UNDO_DISCARD) &&
        (g_error_matches(e, TESS_DEVICE_ERROR, TESS_ERROR_IO) ||
         g_error_matches(e, TESS_DEVICE_ERROR, TESS_ERROR_CONFLICT))) {
        g_clear_error(&e);
        d->base = open(d->file, 0, &e);
    }
    if (!d->base) {
        g_propagate_error(err, e);
        return false;
    }
    d->top = d->base;
    if (dry) {
        /* validate: the image opens and is what its format says; an undo
         * overlay is neither made nor (when resuming) opened. */
        if (d->undo != TESS_BLOCK_UNDO_OFF && d->undo_overlay && *d->undo_overlay &&
            !g_file_test(d->undo_overlay, G_FILE_TEST_IS_REGULAR)) {
            store_error(err, TESS_ERROR_NOT_FOUND, "undo overlay %s: no such file",
                        d->undo_overlay);
            goto fail_base;
        }
        return true;
    }
    if (d->undo != TESS_BLOCK_UNDO_OFF) {
        if (d->undo_overlay && *d->undo_overlay) {
            /* resuming: the suspended machine's writes are in there */
            d->overlay = vhd_open_overlay(d->undo_overlay, d->base, err);
            if (!d->overlay) {
                g_prefix_error(err, "resuming with undo overlay %s: ", d->undo_overlay);
                goto fail_base;
            }
            d->overlay_path = g_strdup(d->undo_overlay);
        } else {
            d->overlay = overlay_create(d, err);
        }
        if (!d->overlay)
            goto fail;
        d->top = d->overlay;
        if (dev->machine &&
            (!add_command(dev, "disk-commit", cmd_commit,
                          "ID  merge the undo overlay of disk ID into its image", err) ||
             !add_command(dev, "disk-discard", cmd_discard,
                          "ID  drop the changes in the undo overlay of disk ID", err)))
            goto fail;
    }
    if (dev->machine)
        d->writeback = tess_timer_new(dev, disk_writeback, d);
    return true;
fail:
    if (d->overlay) {
        if (d->undo_overlay && *d->undo_overlay) {
            /* not ours to delete: the suspended machine's writes */
            store_close(d->overlay);
            d->overlay = NULL;
            g_clear_pointer(&d->overlay_path, g_free);
        } else {
            overlay_drop(d);
        }
    }
fail_base:
    store_close(d->base);
    d->base = d->top = NULL;
    return false;
}

void store_disk_unrealize(TessDevice *dev)
{
    StoreDisk *d = disk(dev);
    g_clear_pointer(&d->writeback, tess_timer_free);
    g_autoptr(GError) err = NULL;
    if (d->overlay && d->undo_keep) {
        /* Suspended: the snapshot refers to the overlay as it is. */
        if (!d->overlay->ops->flush(d->overlay, &err))
            g_warning("%s: flushing the undo overlay %s: %s", dev->id, d->overlay_path,
                      err->message);
        g_printerr("%s: suspended; the changes to %s stay in %s for the resume\n",
                   dev->id, d->file, d->overlay_path);
        store_close(d->overlay);
        d->overlay = NULL;
        g_clear_pointer(&d->overlay_path, g_free);
        d->top = d->base;
    } else if (d->overlay) {
        switch (d->undo) {
        case TESS_BLOCK_UNDO_COMMIT:
            if (!vhd_commit(d->overlay, NULL, NULL, &err)) {
                g_autofree char *why = g_strdup_printf("commit failed (%s)", err->message);
                overlay_keep(d, why);
            } else {
                overlay_drop(d);
            }
            break;
        case TESS_BLOCK_UNDO_ASK:
            if (d->overlay->ops->flush(d->overlay, &err) && vhd_is_empty(d->overlay))
                overlay_drop(d);
            else
                overlay_keep(d, "undo=ask");
            break;
        default:
            overlay_drop(d);
            break;
        }
    }
    store_close(d->base);
    d->base = d->top = NULL;
}

/* ---- block interface -------------------------------------------------------------- */

uint64_t store_disk_size(TessDevice *dev)
{
    return disk(dev)->top ? disk(dev)->top->size : 0;
}

uint32_t store_disk_sector_size(TessDevice *dev)
{
    return TESS_BLOCK_SECTOR;
}

bool store_disk_read_only(TessDevice *dev)
{
    return !disk(dev)->top || disk(dev)->top->read_only;
}

bool store_disk_geometry(TessDevice *dev, TessBlockGeometry *geo)
{
    StoreLayer *b = disk(dev)->base;
    return b && b->ops->geometry && b->ops->geometry(b, geo);
}

static bool check_io(StoreDisk *d, uint64_t off, size_t len, GError **err)
{
    StoreLayer *l = d->top;
    if (!l)
        return store_error(err, TESS_ERROR_INVALID, "%s: no image open", d->dev.id);
    if ((off | len) & (TESS_BLOCK_SECTOR - 1) || off > l->size || len > l->size - off)
        return store_error(err, TESS_ERROR_BOUNDS,
                           "%s: request of %zu bytes at %" G_GUINT64_FORMAT " is outside "
                           "the disk (%" G_GUINT64_FORMAT " bytes) or not whole sectors",
                           d->file, len, off, l->size);
    return true;
}

bool store_disk_read(TessDevice *dev, uint64_t offset, void *buf, size_t len, GError **err)
{
    StoreDisk *d = disk(dev);
    return check_io(d, offset, len, err) && d->top->ops->read(d->top, offset, buf, len, err);
}

bool store_disk_write(TessDevice *dev, uint64_t offset, const void *buf, size_t len,
                      GError **err)
{
    StoreDisk *d = disk(dev);
    if (!check_io(d, offset, len, err))
        return false;
    if (d->top->read_only)
        return store_error(err, TESS_ERROR_INVALID, "%s: the disk is read-only", d->file);
    if (!d->top->ops->write(d->top, offset, buf, len, err))
        return false;
    if (d->writeback && !tess_timer_pending(d->writeback))
        tess_timer_arm_in(d->writeback, STORE_WRITEBACK_NS);
    return true;
}

bool store_disk_flush(TessDevice *dev, GError **err)
{
    StoreDisk *d = disk(dev);
    if (d->writeback)
        tess_timer_cancel(d->writeback);
    return !d->top || d->top->read_only || d->top->ops->flush(d->top, err);
}

TessBlockStatus store_disk_block_status(TessDevice *dev, uint64_t offset, uint64_t len,
                                        uint64_t *pnum)
{
    StoreLayer *l = disk(dev)->top;
    if (!l || offset >= l->size || !len) {
        *pnum = len ? len : 1;
        return TESS_BLOCK_STATUS_DATA;
    }
    len = MIN(len, l->size - offset);
    bool data = l->ops->present(l, offset, len, false, pnum);
    if (!*pnum || *pnum > len)
        *pnum = len;
    return data ? TESS_BLOCK_STATUS_DATA : TESS_BLOCK_STATUS_ZERO;
}

bool store_disk_info(TessDevice *dev, TessBlockInfo *info, GError **err)
{
    StoreDisk *d = disk(dev);
    if (!d->base)
        return store_error(err, TESS_ERROR_INVALID, "%s: no image open", dev->id);
    memset(info, 0, sizeof(*info));
    d->base->ops->info(d->base, info);
    info->overlay = g_strdup(d->overlay_path);
    info->read_only = store_disk_read_only(dev);
    return true;
}

bool store_disk_commit(TessDevice *dev, GError **err)
{
    StoreDisk *d = disk(dev);
    if (!d->overlay)
        return store_error(err, TESS_ERROR_UNSUPPORTED, "%s: undo is off, nothing to commit",
                           dev->id);
    return vhd_commit(d->overlay, NULL, NULL, err);
}

bool store_disk_discard(TessDevice *dev, GError **err)
{
    StoreDisk *d = disk(dev);
    if (!d->overlay)
        return store_error(err, TESS_ERROR_UNSUPPORTED, "%s: undo is off, nothing to discard",
                           dev->id);
    return vhd_empty(d->overlay, err);
}
