/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tessera img create|info|check|convert|commit|compact: disk images.
 *
 * Formats are the registry's block backends (plugins/storage): this file
 * knows no image format, it drives their "block" interface - class-level
 * operations (create, check, commit_file, compact_file, probe) and opened
 * instances (info, read, write, block_status) - so a format plugin added
 * later works here unchanged.
 *
 * Exit codes: 0 success (check: the image is clean), 1 failure (check:
 * errors remain), 2 usage.
 */
#include "cli.h"

#include <sys/stat.h>

#include <tessera/block.h>

#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    TessRegistry *reg;
    TessMachine *m;
} Img;

static void img_usage(FILE *f)
{
    fputs("usage: tessera img COMMAND [ARGS]\n"
          "  create [-f vhd|raw] [-o OPTIONS] FILE [SIZE]\n"
          "      OPTIONS: type=fixed|dynamic|differencing,parent=FILE,block_size=SIZE\n"
          "      SIZE: bytes, or with K, M, G, T (VHD rounds it up to whole CHS geometry)\n"
          "  info [-f FMT] FILE            format, type, size, geometry, parent chain, blocks\n"
          "  check [-f FMT] [--repair] FILE  exit 0 clean, 1 errors (left after repair)\n"
          "  convert [-f FMT] [-O raw|vhd] [-o OPTIONS] SRC DST\n"
          "  commit CHILD [PARENT]         merge a differencing image into its parent\n"
          "                                (a raw parent must be named)\n"
          "  compact FILE                  drop all-zero and unreferenced blocks of a VHD\n",
          f);
}

static int usage_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("tessera img: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    img_usage(stderr);
    return 2;
}

static int fail(GError *e)
{
    fprintf(stderr, "tessera img: %s\n", e->message);
    g_error_free(e);
    return 1;
}

static bool is_zero(const uint8_t *p, size_t len)
{
    return !len || (p[0] == 0 && memcmp(p, p + 1, len - 1) == 0);
}

static char *human(uint64_t v)
{
    return g_format_size_full(v, G_FORMAT_SIZE_IEC_UNITS);
}

static bool parse_size(const char *text, uint64_t *v, GError **err)
{
    static const TessPropSpec spec = { .name = "size", .type = TESS_PROP_SIZE };
    return tess_prop_parse(&spec, text, v, err);
}

/* ---- formats through the registry ------------------------------------------ */

static const TessDeviceClass *format_class(Img *im, const char *name, GError **err)
{
    const TessDeviceClass *cls = tess_registry_lookup(im->reg, name);
    if (!cls || !tess_block_class_ops(cls)) {
        GString *known = g_string_new(NULL);
        g_autoptr(GPtrArray) all = tess_registry_list(im->reg);
        for (guint i = 0; i < all->len; i++)
            if (tess_block_class_ops(all->pdata[i]))
                g_string_append_printf(known, "%s%s", known->len ? ", " : "",
                                       ((const TessDeviceClass *)all->pdata[i])->type);
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_NOT_FOUND,
                    "unknown image format '%s' (known: %s)", name,
                    known->len ? known->str : "none; are the storage plugins installed?");
        g_string_free(known, TRUE);
        return NULL;
    }
    return cls;
}

/* The format whose probe is surest about `file`. */
static const TessDeviceClass *detect(Img *im, const char *file, GError **err)
{
    if (access(file, R_OK) != 0) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_NOT_FOUND, "%s: %s", file,
                    g_strerror(errno));
        return NULL;
    }
    g_autoptr(GPtrArray) all = tess_registry_list(im->reg);
    const TessDeviceClass *best = NULL;
    int score = 0;
    for (guint i = 0; i < all->len; i++) {
        const TessBlockOps *ops = tess_block_class_ops(all->pdata[i]);
        int s = ops && ops->probe ? ops->probe(file) : 0;
        if (s > score) {
            score = s;
            best = all->pdata[i];
        }
    }
    if (!best)
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_NOT_FOUND,
                    "%s: no image format recognises this file", file);
    return best;
}

static const TessDeviceClass *pick(Img *im, const char *fmt, const char *file, GError **err)
{
    return fmt ? format_class(im, fmt, err) : detect(im, file, err);
}

/* An opened image. Its id is the file name, so messages name the file
 * rather than a made-up device. */
static TessDevice *open_image(Img *im, const TessDeviceClass *cls, const char *file,
                              bool readonly, GError **err)
{
    TessDevice *dev = tess_device_new(im->m, cls, file, err);
    if (!dev)
        return NULL;
    if (!tess_device_set_prop(dev, "file", file, err) ||
        !tess_device_set_prop(dev, "readonly", readonly ? "on" : "off", err) ||
        !tess_device_realize(dev, err)) {
        tess_device_free(dev);
        return NULL;
    }
    return dev;
}

/* ---- -o OPTIONS ----------------------------------------------------------------- */

typedef struct {
    char *type;
    char *parent;
    uint64_t block_size;
} Opts;

static void opts_clear(Opts *o)
{
    g_free(o->type);
    g_free(o->parent);
}

static bool parse_opts(const char *text, Opts *o, GError **err)
{
    g_auto(GStrv) items = g_strsplit(text, ",", -1);
    for (char **it = items; *it; it++) {
        if (!**it)
            continue;
        char *eq = strchr(*it, '=');
        if (!eq) {
            g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                        "option '%s' needs a value (NAME=VALUE)", *it);
            return false;
        }
        *eq = '\0';
        const char *k = *it, *v = eq + 1;
        if (!strcmp(k, "type") || !strcmp(k, "subformat")) {
            g_free(o->type);
            o->type = g_strdup(v);
        } else if (!strcmp(k, "parent") || !strcmp(k, "backing_file")) {
            g_free(o->parent);
            o->parent = g_strdup(v);
        } else if (!strcmp(k, "block_size")) {
            if (!parse_size(v, &o->block_size, err))
                return false;
            if (o->block_size > G_MAXUINT32) {
                g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                            "block_size %s is too large", v);
                return false;
            }
        } else {
            g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                        "unknown option '%s' (type, parent, block_size)", k);
            return false;
        }
    }
    return true;
}

/* Shared option scanner: -f FMT, -O FMT, -o OPTS, --repair; the rest
 * are positional. */
typedef struct {
    const char *fmt;
    const char *out_fmt;
    GPtrArray *opts;       /* const char * */
    bool repair;
    GPtrArray *pos;
} Args;

static int scan_args(int argc, char **argv, Args *a, const char *allowed)
{
    a->opts = g_ptr_array_new();
    a->pos = g_ptr_array_new();
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--")) {
            for (i++; i < argc; i++)
                g_ptr_array_add(a->pos, argv[i]);
            break;
        }
        if (!strcmp(s, "--repair") && strchr(allowed, 'r')) {
            a->repair = true;
        } else if ((!strcmp(s, "-f") || !strcmp(s, "-O") || !strcmp(s, "-o")) &&
                   strchr(allowed, s[1])) {
            if (i + 1 >= argc)
                return usage_error("%s needs a value", s);
            const char *v = argv[++i];
            if (s[1] == 'f')
                a->fmt = v;
            else if (s[1] == 'O')
                a->out_fmt = v;
            else
                g_ptr_array_add(a->opts, (gpointer)v);
        } else if (s[0] == '-' && s[1]) {
            return usage_error("unknown option '%s'", s);
        } else {
            g_ptr_array_add(a->pos, (gpointer)s);
        }
    }
    return 0;
}

static void args_clear(Args *a)
{
    g_ptr_array_unref(a->opts);
    g_ptr_array_unref(a->pos);
}

static bool collect_opts(Args *a, Opts *o, GError **err)
{
    for (guint i = 0; i < a->opts->len; i++)
        if (!parse_opts(a->opts->pdata[i], o, err))
            return false;
    return true;
}

/* ---- progress --------------------------------------------------------------- */

typedef struct {
    bool on;
    int last;
} Progress;

static void progress_cb(void *opaque, uint64_t done, uint64_t total)
{
    Progress *p = opaque;
    if (!p->on)
        return;
    int pct = total ? (int)(done * 1000 / total) : 1000;
    if (pct == p->last)
        return;
    p->last = pct;
    fprintf(stderr, "\r    (%5.1f/100%%)", pct / 10.0);
    if (pct >= 1000)
        fputc('\n', stderr);
    fflush(stderr);
}

static Progress progress_new(void)
{
    return (Progress){ .on = isatty(STDERR_FILENO) != 0, .last = -1 };
}

/* ---- create --------------------------------------------------------------------- */

static int img_create(Img *im, int argc, char **argv)
{
    Args a = { 0 };
    int rc = scan_args(argc, argv, &a, "fo");
    Opts o = { 0 };
    GError *e = NULL;
    if (rc)
        goto out;
    if (a.pos->len < 1 || a.pos->len > 2) {
        rc = usage_error("create needs FILE [SIZE]");
        goto out;
    }
    if (!collect_opts(&a, &o, &e)) {
        rc = usage_error("%s", e->message);
        g_clear_error(&e);
        goto out;
    }
    uint64_t size = 0;
    if (a.pos->len == 2 && !parse_size(a.pos->pdata[1], &size, &e)) {
        rc = usage_error("SIZE: %s", e->message);
        g_clear_error(&e);
        goto out;
    }
    if (a.pos->len == 1 && !o.parent) {
        rc = usage_error("create needs a SIZE (or -o parent=FILE)");
        goto out;
    }
    const TessDeviceClass *cls = format_class(im, a.fmt ? a.fmt : "vhd", &e);
    const TessBlockOps *ops = cls ? tess_block_class_ops(cls) : NULL;
    if (ops && !ops->create)
        g_set_error(&e, TESS_CONFIG_ERROR, TESS_ERROR_UNSUPPORTED,
                    "format '%s' cannot create images", cls->type);
    TessBlockCreate c = { .file = a.pos->pdata[0], .size = size, .type = o.type,
                          .parent = o.parent, .block_size = (uint32_t)o.block_size };
    if (e || !ops->create(&c, &e)) {
        rc = fail(e);
        goto out;
    }
    TessDevice *dev = open_image(im, cls, c.file, true, NULL);
    if (dev) {
        g_autofree char *hs = human(tess_block_ops(dev)->size(dev));
        printf("Formatting '%s', fmt=%s size=%" G_GUINT64_FORMAT " (%s)%s%s\n", c.file,
               cls->type, tess_block_ops(dev)->size(dev), hs, o.type ? " type=" : "",
               o.type ? o.type : "");
        tess_device_free(dev);
    }
    rc = 0;
out:
    opts_clear(&o);
    args_clear(&a);
    return rc;
}

/* ---- info ----------------------------------------------------------------------- */

static int img_info(Img *im, int argc, char **argv)
{
    Args a = { 0 };
    int rc = scan_args(argc, argv, &a, "f");
    if (rc || a.pos->len != 1) {
        if (!rc)
            rc = usage_error("info needs FILE");
        args_clear(&a);
        return rc;
    }
    GError *e = NULL;
    g_autofree char *file = g_strdup(a.pos->pdata[0]);
    const char *fmt = a.fmt;
    args_clear(&a);
    for (int depth = 0; file && depth < 64; depth++) {
        const TessDeviceClass *cls = pick(im, depth ? NULL : fmt, file, &e);
        TessDevice *dev = cls ? open_image(im, cls, file, true, &e) : NULL;
        if (!dev)
            return fail(e);
        TessBlockInfo in = { 0 };
        if (!tess_block_ops(dev)->info(dev, &in, &e)) {
            tess_device_free(dev);
            return fail(e);
        }
        g_autofree char *vs = human(in.size);
        g_autofree char *ds = human(in.file_size);
        if (depth)
            printf("\nparent image: %s\n", file);
        else
            printf("image: %s\n", file);
        printf("file format: %s%s%s%s\n", in.format, in.subformat ? " (" : "",
               in.subformat ? in.subformat : "", in.subformat ? ")" : "");
        printf("virtual size: %s (%" G_GUINT64_FORMAT " bytes)\n", vs, in.size);
        printf("disk size: %s\n", ds);
        if (in.has_geometry)
            printf("geometry: %u/%u/%u (cylinders/heads/sectors)\n", in.geometry.cylinders,
                   in.geometry.heads, in.geometry.sectors);
        if (in.block_size) {
            g_autofree char *bs = human(in.block_size);
            printf("block size: %s\n", bs);
            printf("allocated blocks: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT "\n",
                   in.blocks_allocated, in.blocks_total);
        }
        if (in.creator)
            printf("creator: %s\n", in.creator);
        if (in.uuid)
            printf("uuid: %s\n", in.uuid);
        if (in.parent)
            printf("parent: %s\n", in.parent);
        g_free(file);
        file = g_strdup(in.parent);
        tess_block_info_clear(&in);
        tess_device_free(dev);
    }
    return 0;
}

/* ---- check ---------------------------------------------------------------------- */

static int img_check(Img *im, int argc, char **argv)
{
    Args a = { 0 };
    int rc = scan_args(argc, argv, &a, "fr");
    if (rc || a.pos->len != 1) {
        if (!rc)
            rc = usage_error("check needs FILE");
        args_clear(&a);
        return rc;
    }
    GError *e = NULL;
    const char *file = a.pos->pdata[0];
    const TessDeviceClass *cls = pick(im, a.fmt, file, &e);
    const TessBlockOps *ops = cls ? tess_block_class_ops(cls) : NULL;
    if (ops && !ops->check)
        g_set_error(&e, TESS_CONFIG_ERROR, TESS_ERROR_UNSUPPORTED,
                    "format '%s' has no check", cls->type);
    TessBlockCheck res = { .report = g_string_new(NULL) };
    if (e || !ops->check(file, a.repair, &res, &e)) {
        g_string_free(res.report, TRUE);
        args_clear(&a);
        return fail(e);
    }
    fputs(res.report->str, stdout);
    g_string_free(res.report, TRUE);
    unsigned left = res.errors - res.repaired;
    if (!res.errors)
        printf("No errors were found on the image.\n");
    else if (a.repair)
        printf("%u errors were found on the image, %u repaired.\n", res.errors, res.repaired);
    else
        printf("%u errors were found on the image.\n", res.errors);
    if (res.lost && !a.repair)
        printf("%" G_GUINT64_FORMAT " bytes of written data were lost (never referenced).\n",
               res.lost);
    if (res.leaked > res.lost && !a.repair)
        printf("%" G_GUINT64_FORMAT " bytes are unreferenced (leaked space).\n",
               res.leaked - res.lost);
    args_clear(&a);
    return left ? 1 : 0;
}

/* ---- convert -------------------------------------------------------------------- */

static int img_convert(Img *im, int argc, char **argv)
{
    Args a = { 0 };
    int rc = scan_args(argc, argv, &a, "fOo");
    Opts o = { 0 };
    GError *e = NULL;
    TessDevice *src = NULL, *dst = NULL;
    bool created = false;
    const char *dfile = NULL;
    char *tmpfile = NULL;
    g_autofree uint8_t *buf = NULL, *pbuf = NULL;
    if (rc)
        goto out;
    if (a.pos->len != 2) {
        rc = usage_error("convert needs SRC DST");
        goto out;
    }
    if (!collect_opts(&a, &o, &e)) {
        rc = usage_error("%s", e->message);
        g_clear_error(&e);
        goto out;
    }
    const char *sfile = a.pos->pdata[0];
    dfile = a.pos->pdata[1];
    const char *ofmt = a.out_fmt ? a.out_fmt : g_str_has_suffix(dfile, ".vhd") ? "vhd" : "raw";
    rc = 1;
    const TessDeviceClass *scls = pick(im, a.fmt, sfile, &e);
    const TessDeviceClass *dcls = scls ? format_class(im, ofmt, &e) : NULL;
    const TessBlockOps *dops = dcls ? tess_block_class_ops(dcls) : NULL;
    if (!dops)
        goto fail;
    if (!dops->create) {
        g_set_error(&e, TESS_CONFIG_ERROR, TESS_ERROR_UNSUPPORTED,
                    "format '%s' cannot create images", dcls->type);
        goto fail;
    }
    GStatBuf ss, ds;
    if (g_stat(sfile, &ss) == 0 && g_stat(dfile, &ds) == 0 && ss.st_dev == ds.st_dev &&
        ss.st_ino == ds.st_ino) {
        g_set_error(&e, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "%s: converting an image onto itself would destroy it", dfile);
        goto fail;
    }
    GStatBuf ls;
    if (g_lstat(dfile, &ls) == 0 && !S_ISREG(ls.st_mode)) {
        g_set_error(&e, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "%s: exists and is not a regular file (left alone)", dfile);
        goto fail;
    }
    src = open_image(im, scls, sfile, true, &e);
    if (!src)
        goto fail;
    const TessBlockOps *sops = tess_block_ops(src);
    uint64_t size = sops->size(src);
    bool diff = o.parent != NULL;
    /* The image is built under a temporary name next to DST and renamed
     * over it once complete: a killed convert never leaves half an image
     * under DST's name, nor destroys what was there. */
    {
        g_autofree char *dir = g_path_get_dirname(dfile);
        g_autofree char *base = g_path_get_basename(dfile);
        tmpfile = g_strdup_printf("%s/.%s.XXXXXX", dir, base);
        int fd = g_mkstemp(tmpfile);
        if (fd < 0) {
            g_set_error(&e, TESS_CONFIG_ERROR, TESS_ERROR_IO, "%s: %s", dfile,
                        g_strerror(errno));
            g_clear_pointer(&tmpfile, g_free);
            goto fail;
        }
        mode_t um = umask(0);
        umask(um);
        fchmod(fd, 0666 & ~um);
        close(fd);
        created = true;
    }
    TessBlockCreate c = { .file = tmpfile, .size = diff ? 0 : size, .type = o.type,
                          .parent = o.parent, .block_size = (uint32_t)o.block_size };
    if (!dops->create(&c, &e))
        goto fail;
    dst = open_image(im, dcls, tmpfile, false, &e);
    if (!dst)
        goto fail;
    const TessBlockOps *ops = tess_block_ops(dst);
    if (ops->size(dst) < size) {
        g_set_error(&e, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "%s: %" G_GUINT64_FORMAT " bytes cannot hold %s (%" G_GUINT64_FORMAT
                    " bytes)", dfile, ops->size(dst), sfile, size);
        goto fail;
    }
    /* A new image reads as zeros, except a differencing one (its parent):
     * write what differs from what DST already reads. */
    const size_t chunk = 2u << 20, grain = 64u << 10;
    buf = g_malloc(chunk);
    pbuf = g_malloc(chunk);
    Progress pr = progress_new();
    for (uint64_t off = 0; off < size;) {
        progress_cb(&pr, off, size);
        uint64_t pnum = 0;
        uint64_t want = MIN((uint64_t)chunk, size - off);
        TessBlockStatus st = sops->block_status ? sops->block_status(src, off, want, &pnum)
                                                : TESS_BLOCK_STATUS_DATA;
        if (!sops->block_status || !pnum || pnum > want)
            pnum = want;
        size_t n = (size_t)pnum;
        if (st == TESS_BLOCK_STATUS_ZERO && !diff) {
            off += n;
            continue;
        }
        if (st == TESS_BLOCK_STATUS_ZERO)
            memset(buf, 0, n);
        else if (!sops->read(src, off, buf, n, &e))
            goto fail;
        if (diff) {
            if (!ops->read(dst, off, pbuf, n, &e))
                goto fail;
            for (size_t s = 0; s < n;) {
                size_t t = s;
                while (t < n && memcmp(buf + t, pbuf + t, 512))
                    t += 512;
                if (t > s && !ops->write(dst, off + s, buf + s, t - s, &e))
                    goto fail;
                s = t;
                while (s < n && !memcmp(buf + s, pbuf + s, 512))
                    s += 512;
            }
        } else {
            for (size_t s = 0; s < n; s += grain) {
                size_t m = MIN(grain, n - s);
                if (!is_zero(buf + s, m) && !ops->write(dst, off + s, buf + s, m, &e))
                    goto fail;
            }
        }
        off += n;
    }
    progress_cb(&pr, size, size);
    if (!ops->flush(dst, &e))
        goto fail;
    tess_device_free(dst);
    dst = NULL;
    if (rename(tmpfile, dfile) < 0) {
        g_set_error(&e, TESS_CONFIG_ERROR, TESS_ERROR_IO, "%s: %s", dfile, g_strerror(errno));
        goto fail;
    }
    created = false;
    rc = 0;
    goto out;
fail:
    rc = fail(e);
out:
    if (dst)
        tess_device_free(dst);
    /* A half-written image is worse than none; DST was never touched. */
    if (created)
        unlink(tmpfile);
    g_free(tmpfile);
    if (src)
        tess_device_free(src);
    opts_clear(&o);
    args_clear(&a);
    return rc;
}

/* ---- commit, compact ------------------------------------------------------------ */

/* Commit writes into the parent the child names. A VHD parent proved its
 * identity (UUID); a raw parent has none beyond its modification time, so
 * the user must name it: a hostile child cannot aim a commit at a file the
 * user did not choose. */
static bool commit_target_ok(Img *im, const char *child, const char *named, GError **err)
{
    const TessDeviceClass *cls = pick(im, NULL, child, err);
    TessDevice *dev = cls ? open_image(im, cls, child, true, err) : NULL;
    if (!dev)
        return false;
    TessBlockInfo in = { 0 };
    bool ok = tess_block_ops(dev)->info(dev, &in, err);
    tess_device_free(dev);
    if (!ok)
        return false;
    if (!in.parent) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_UNSUPPORTED,
                    "%s: the image has no parent to commit into", child);
        tess_block_info_clear(&in);
        return false;
    }
    const TessDeviceClass *pcls = pick(im, NULL, in.parent, err);
    struct stat a, b;
    if (!pcls) {
        ok = false;
    } else if (named && (stat(named, &a) < 0 || stat(in.parent, &b) < 0 ||
                         a.st_dev != b.st_dev || a.st_ino != b.st_ino)) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "%s: its parent is %s, not %s", child, in.parent, named);
        ok = false;
    } else if (!named && strcmp(pcls->type, "vhd")) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "%s: the parent %s is a %s file, which does not identify itself; "
                    "to write into it, name it: tessera img commit %s %s", child,
                    in.parent, pcls->type, child, in.parent);
        ok = false;
    }
    tess_block_info_clear(&in);
    return ok;
}

static int img_commit(Img *im, int argc, char **argv)
{
    if (argc != 1 && argc != 2)
        return usage_error("commit needs CHILD [PARENT]");
    GError *e = NULL;
    const TessDeviceClass *cls = detect(im, argv[0], &e);
    const TessBlockOps *ops = cls ? tess_block_class_ops(cls) : NULL;
    if (ops && !ops->commit_file)
        g_set_error(&e, TESS_CONFIG_ERROR, TESS_ERROR_UNSUPPORTED,
                    "%s: a %s image has no parent to commit into", argv[0], cls->type);
    if (!e)
        commit_target_ok(im, argv[0], argc == 2 ? argv[1] : NULL, &e);
    Progress pr = progress_new();
    if (e || !ops->commit_file(argv[0], progress_cb, &pr, &e))
        return fail(e);
    printf("Image committed.\n");
    return 0;
}

static int img_compact(Img *im, int argc, char **argv)
{
    if (argc != 1)
        return usage_error("compact needs FILE");
    GError *e = NULL;
    const TessDeviceClass *cls = detect(im, argv[0], &e);
    const TessBlockOps *ops = cls ? tess_block_class_ops(cls) : NULL;
    if (ops && !ops->compact_file)
        g_set_error(&e, TESS_CONFIG_ERROR, TESS_ERROR_UNSUPPORTED,
                    "%s: a %s image cannot be compacted", argv[0], cls->type);
    Progress pr = progress_new();
    uint64_t freed = 0;
    if (e || !ops->compact_file(argv[0], progress_cb, &pr, &freed, &e))
        return fail(e);
    g_autofree char *hs = human(freed);
    printf("Image compacted: %s freed.\n", hs);
    return 0;
}

int cli_img(TessRegistry *reg, int argc, char **argv)
{
    if (argc < 2) {
        img_usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        img_usage(stdout);
        return 0;
    }
    Img im = { .reg = reg, .m = tess_machine_new_empty(reg, "img", NULL) };
    int rc;
    argc -= 2;
    argv += 2;
    if (!strcmp(cmd, "create"))
        rc = img_create(&im, argc, argv);
    else if (!strcmp(cmd, "info"))
        rc = img_info(&im, argc, argv);
    else if (!strcmp(cmd, "check"))
        rc = img_check(&im, argc, argv);
    else if (!strcmp(cmd, "convert"))
        rc = img_convert(&im, argc, argv);
    else if (!strcmp(cmd, "commit"))
        rc = img_commit(&im, argc, argv);
    else if (!strcmp(cmd, "compact"))
        rc = img_compact(&im, argc, argv);
    else
        rc = usage_error("unknown command '%s'", cmd);
    tess_machine_free(im.m);
    return rc;
}
