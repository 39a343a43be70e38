/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tessera img create|info|check|convert|commit|compact|resize: disk images,
 * with qemu-img's options where they mean the same thing.
 *
 * Formats are the registry's block backends (plugins/storage): this file
 * drives their "block" interface - class-level operations (create, check,
 * commit_file, compact_file, resize_file, probe) and opened instances
 * (info, read, write, block_status) - so a format plugin added later works
 * here unchanged. What it knows of other formats is only how to recognise
 * them, so that a qcow2 or VMDK file is named and refused rather than
 * read as a raw disk.
 *
 * Exit codes: 0 success (check: the image is clean), 1 failure (check:
 * errors remain), 2 usage.
 */
#include "cli.h"

#include <sys/stat.h>

#include <tessera/block.h>
#include <json-glib/json-glib.h>

#include <errno.h>
#include <fcntl.h>
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
    fputs("usage: tessera img COMMAND [OPTIONS] ARGS  (tessera img COMMAND --help for more)\n"
          "  create [-f vhd|raw] [-o OPTIONS] [-b PARENT [-F FMT]] FILE [SIZE]\n"
          "      the format is -f, else the name's: .vhd a VHD, anything else raw\n"
          "      OPTIONS: type=fixed|dynamic|differencing,parent=FILE,block_size=SIZE\n"
          "      SIZE: bytes, or with K, M, G, T (VHD rounds it up to whole CHS geometry)\n"
          "  info [-f FMT] [--output=human|json] [--backing-chain] FILE\n"
          "  check [-f FMT] [-r all|--repair] [--output=human|json] FILE\n"
          "      exit 0 clean, 1 errors (left after repair)\n"
          "  convert [-p] [-f FMT] [-O raw|vhd] [-o OPTIONS] [-B PARENT] SRC DST\n"
          "  commit [-p] CHILD [PARENT]    merge a differencing image into its parent\n"
          "                                (a raw parent must be named)\n"
          "  compact [-p] FILE             drop all-zero and unreferenced blocks of a VHD\n"
          "  resize [-f FMT] [--shrink] FILE [+|-]SIZE   grow (or with --shrink, shrink)\n"
          "Images in formats Tessera does not read (qcow2, VMDK, VDI, VHDX, QED...) are\n"
          "recognised and refused; qemu-img convert -O vpc makes a VHD of them.\n",
          f);
}

static int usage_error(const char *cmd, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static int usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "tessera img%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (try 'tessera img %s%s--help')\n", cmd ? cmd : "", cmd ? " " : "");
    va_end(ap);
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

/* Formats Tessera does not read, by their signatures (from the formats'
 * specifications, as QEMU's block drivers probe them). Naming them keeps
 * a qcow2 or VMDK file from being taken for a raw disk and its container
 * bytes copied out as if they were the guest's. Only regular files and
 * block devices are looked at (a FIFO would block the open). */
static const char *foreign_format(const char *file)
{
    struct stat st;
    if (stat(file, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)))
        return NULL;
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return NULL;
    uint8_t h[512] = { 0 }, t[512] = { 0 };
    ssize_t n = pread(fd, h, sizeof(h), 0);
    off_t end = S_ISREG(st.st_mode) ? st.st_size : lseek(fd, 0, SEEK_END);
    bool tail = end >= 1024 && pread(fd, t, sizeof(t), end - 512) == (ssize_t)sizeof(t);
    close(fd);
    if (n < 8)
        return NULL;
    static const struct { size_t off; const char *magic; size_t len; const char *name; } sigs[] = {
        { 0, "QFI\xfb", 4, "qcow2" },
        { 0, "QED\0", 4, "QED" },
        { 0, "KDMV", 4, "VMDK" },
        { 0, "COWD", 4, "VMDK" },
        { 0, "# Disk DescriptorFile", 21, "VMDK" },
        { 64, "\x7f\x10\xda\xbe", 4, "VDI" },
        { 0, "vhdxfile", 8, "VHDX" },
        { 0, "LUKS\xba\xbe", 6, "LUKS" },
        { 0, "WithoutFreeSpace", 16, "Parallels" },
        { 0, "WithouFreSpacExt", 16, "Parallels" },
        { 0, "Bochs Virtual HD Image", 22, "Bochs" },
        { 0, "#!/bin/sh\n#V2.0 Format", 22, "cloop" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(sigs); i++) {
        if ((size_t)n >= sigs[i].off + sigs[i].len &&
            !memcmp(h + sigs[i].off, sigs[i].magic, sigs[i].len)) {
            /* qcow version 1 shares qcow2's magic. */
            if (i == 0 && (h[4] | h[5] | h[6]) == 0 && h[7] == 1)
                return "qcow (version 1)";
            return sigs[i].name;
        }
    }
    if (tail && !memcmp(t, "koly", 4))
        return "DMG";
    return NULL;
}

/* The format whose probe is surest about `file`. */
static const TessDeviceClass *detect(Img *im, const char *file, GError **err)
{
    if (access(file, R_OK) != 0) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_NOT_FOUND, "%s: %s", file,
                    g_strerror(errno));
        return NULL;
    }
    const char *foreign = foreign_format(file);
    if (foreign) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_UNSUPPORTED,
                    "%s: a %s image, which Tessera does not read (it reads raw and VHD "
                    "images); make a VHD of it with: qemu-img convert -O vpc %s OUT.vhd",
                    file, foreign, file);
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

/* The output format: -f/-O, else the file name's (.vhd: VHD; anything
 * else raw, as qemu-img defaults to raw). */
static const char *format_for(const char *given, const char *file)
{
    if (given)
        return given;
    size_t n = strlen(file);
    return n > 4 && !g_ascii_strcasecmp(file + n - 4, ".vhd") ? "vhd" : "raw";
}

static bool collect_opts(char **list, Opts *o, GError **err)
{
    for (char **p = list; p && *p; p++)
        if (!parse_opts(*p, o, err))
            return false;
    return true;
}

/* Parse a subcommand's options with GOption (--opt=value and --opt value,
 * --help); positional arguments stay in argv[1..]. 0, or the exit status
 * to return (help printed: 0 is returned through *done). */
static int parse_options(const char *cmd, const char *params, const char *summary,
                         GOptionEntry *entries, int *argc, char ***argv, bool *done)
{
    gboolean help = FALSE;
    GOptionEntry help_entry[] = {
        { "help", 'h', 0, G_OPTION_ARG_NONE, &help, "show this help", NULL },
        { NULL },
    };
    g_autofree char *prog = g_strdup_printf("tessera img %s", cmd);
    g_autoptr(GOptionContext) oc = g_option_context_new(params);
    g_option_context_set_summary(oc, summary);
    g_option_context_set_help_enabled(oc, FALSE);
    g_option_context_add_main_entries(oc, help_entry, NULL);
    g_option_context_add_main_entries(oc, entries, NULL);
    g_autoptr(GError) e = NULL;
    (*argv)[0] = prog;
    bool ok = g_option_context_parse(oc, argc, argv, &e);
    (*argv)[0] = (char *)cmd;
    *done = false;
    if (!ok)
        return usage_error(cmd, "%s", e->message);
    if (help) {
        /* GOption names the program by the program name once one is set
         * (the dispatcher sets "tessera img"), else from argv[0]. */
        g_set_prgname(prog);
        g_autofree char *text = g_option_context_get_help(oc, TRUE, NULL);
        fputs(text, stdout);
        *done = true;
        return 0;
    }
    /* "--" stays in argv when options follow it; drop it. */
    for (int i = 1; i < *argc; i++) {
        if (!strcmp((*argv)[i], "--")) {
            memmove(*argv + i, *argv + i + 1, (size_t)(*argc - i) * sizeof(char *));
            (*argc)--;
            break;
        }
    }
    return 0;
}

#define PARSE_OPTIONS(cmd, params, summary, entries)                                   \
    do {                                                                               \
        bool done_;                                                                    \
        int rc_ = parse_options(cmd, params, summary, entries, &argc, &argv, &done_);  \
        if (rc_ || done_)                                                              \
            return rc_;                                                                \
    } while (0)

static bool json_output(const char *cmd, const char *output, bool *json, int *rc)
{
    *json = output && !strcmp(output, "json");
    if (output && !*json && strcmp(output, "human")) {
        *rc = usage_error(cmd, "--output takes human or json, not '%s'", output);
        return false;
    }
    return true;
}

static void print_json(JsonNode *n)
{
    g_autofree char *s = json_to_string(n, TRUE);
    printf("%s\n", s);
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

/* Shown on a terminal, or always with -p (as qemu-img -p). */
/* -p forces it, -q silences it, a terminal shows it. */
static Progress progress_new(bool forced, bool quiet)
{
    return (Progress){ .on = !quiet && (forced || isatty(STDERR_FILENO) != 0), .last = -1 };
}

/* One option entry: the subcommands' tables are rows of these. */
#define IMG_OPT(name, letter, arg, var, doc, arg_doc)                                       \
    { name, letter, 0, G_OPTION_ARG_##arg, &(var), doc, arg_doc }

/* Option entries more than one subcommand takes, as qemu-img spells them;
 * where the help differs (whose format, what the parent becomes), the
 * subcommand says it. */
#define IMG_OPT_FORMAT_OF(var, doc)  IMG_OPT("format", 'f', STRING, var, doc, "FMT")
#define IMG_OPT_FORMAT(var)          IMG_OPT_FORMAT_OF(var, "the image's format (default: by content)")
#define IMG_OPT_VHD_OPTIONS(var)                                                            \
    IMG_OPT("options", 'o', STRING_ARRAY, var,                                              \
            "type=fixed|dynamic|differencing,parent=FILE,block_size=SIZE", "OPTIONS")
#define IMG_OPT_BACKING(letter, var, doc) IMG_OPT("backing", letter, FILENAME, var, doc, "PARENT")
#define IMG_OPT_OUTPUT(var)          IMG_OPT("output", 0, STRING, var, "human (default) or json", "FMT")
#define IMG_OPT_QUIET(var)           IMG_OPT("quiet", 'q', NONE, var, "print nothing on success", NULL)
#define IMG_OPT_PROGRESS(progress, quiet)                                                   \
    IMG_OPT("progress", 'p', NONE, progress, "show progress", NULL),                         \
    IMG_OPT("quiet", 'q', NONE, quiet, "no progress, even on a terminal", NULL)

/* ---- create --------------------------------------------------------------------- */

static int img_create(Img *im, int argc, char **argv)
{
    g_autofree char *fmt = NULL, *backing = NULL, *backing_fmt = NULL;
    g_auto(GStrv) olist = NULL;
    gboolean quiet = FALSE;
    GOptionEntry entries[] = {
        IMG_OPT_FORMAT_OF(fmt, "vhd or raw (default: by FILE's name)"),
        IMG_OPT_VHD_OPTIONS(olist),
        IMG_OPT_BACKING('b', backing, "make a differencing image over PARENT (its size by default)"),
        IMG_OPT("backing-format", 'F', STRING, backing_fmt,
                "the parent's format, checked against its content", "FMT"),
        IMG_OPT_QUIET(quiet),
        { NULL },
    };
    PARSE_OPTIONS("create", "FILE [SIZE]",
                  "Create a disk image: a VHD (fixed, dynamic, or differencing over a parent)\n"
                  "or a raw file. The format is -f, else FILE's name: .vhd a VHD, else raw.",
                  entries);
    Opts o = { 0 };
    GError *e = NULL;
    int rc = 0;
    if (argc < 2 || argc > 3) {
        rc = usage_error("create", "create needs FILE [SIZE]");
        goto out;
    }
    if (!collect_opts(olist, &o, &e)) {
        rc = usage_error("create", "%s", e->message);
        g_clear_error(&e);
        goto out;
    }
    if (backing) {
        if (o.parent && strcmp(o.parent, backing)) {
            rc = usage_error("create", "-b %s and -o parent=%s disagree", backing, o.parent);
            goto out;
        }
        g_free(o.parent);
        o.parent = g_strdup(backing);
    }
    if (backing_fmt && !o.parent) {
        rc = usage_error("create", "-F needs -b PARENT");
        goto out;
    }
    uint64_t size = 0;
    if (argc == 3 && !parse_size(argv[2], &size, &e)) {
        rc = usage_error("create", "SIZE: %s", e->message);
        g_clear_error(&e);
        goto out;
    }
    if (argc == 2 && !o.parent) {
        rc = usage_error("create", "create needs a SIZE (or -b PARENT)");
        goto out;
    }
    const char *file = argv[1];
    const char *format = format_for(fmt, file);
    if (o.parent && !strcmp(format, "raw")) {
        rc = usage_error("create", "a raw image has no parent; a differencing image is a VHD "
                         "(-f vhd, or a .vhd name)");
        goto out;
    }
    rc = 1;
    if (backing_fmt) {
        /* -F names what the parent must be; its content decides. */
        const TessDeviceClass *want = format_class(im, backing_fmt, &e);
        const TessDeviceClass *got = want ? detect(im, o.parent, &e) : NULL;
        if (got && got != want)
            g_set_error(&e, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                        "%s: -F %s, but the file is a %s image", o.parent, backing_fmt,
                        got->type);
        if (e) {
            rc = fail(e);
            goto out;
        }
    }
    if (o.parent && !o.type && !strcmp(format, "vhd"))
        o.type = g_strdup("differencing");
    const TessDeviceClass *cls = format_class(im, format, &e);
    const TessBlockOps *ops = cls ? tess_block_class_ops(cls) : NULL;
    if (ops && !ops->create)
        g_set_error(&e, TESS_CONFIG_ERROR, TESS_ERROR_UNSUPPORTED,
                    "format '%s' cannot create images", cls->type);
    TessBlockCreate c = { .file = file, .size = size, .type = o.type,
                          .parent = o.parent, .block_size = (uint32_t)o.block_size };
    if (e || !ops->create(&c, &e)) {
        rc = fail(e);
        goto out;
    }
    TessDevice *dev = quiet ? NULL : open_image(im, cls, c.file, true, NULL);
    if (dev) {
        g_autofree char *hs = human(tess_block_ops(dev)->size(dev));
        printf("Formatting '%s', fmt=%s size=%" G_GUINT64_FORMAT " (%s)%s%s%s%s\n", c.file,
               cls->type, tess_block_ops(dev)->size(dev), hs, o.type ? " type=" : "",
               o.type ? o.type : "", o.parent ? " parent=" : "", o.parent ? o.parent : "");
        tess_device_free(dev);
    }
    rc = 0;
out:
    opts_clear(&o);
    return rc;
}

/* ---- info ----------------------------------------------------------------------- */

/* qemu-img info's JSON names where they mean the same; Tessera's own
 * details under "format-specific". */
static JsonNode *info_json(const char *file, const TessBlockInfo *in)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "filename");
    json_builder_add_string_value(b, file);
    json_builder_set_member_name(b, "format");
    json_builder_add_string_value(b, in->format);
    json_builder_set_member_name(b, "virtual-size");
    json_builder_add_int_value(b, (gint64)in->size);
    json_builder_set_member_name(b, "actual-size");
    json_builder_add_int_value(b, (gint64)in->file_size);
    json_builder_set_member_name(b, "dirty-flag");
    json_builder_add_boolean_value(b, FALSE);
    if (in->block_size) {
        json_builder_set_member_name(b, "cluster-size");
        json_builder_add_int_value(b, in->block_size);
    }
    if (in->parent) {
        json_builder_set_member_name(b, "backing-filename");
        json_builder_add_string_value(b, in->parent);
        json_builder_set_member_name(b, "full-backing-filename");
        g_autofree char *full = g_canonicalize_filename(in->parent, NULL);
        json_builder_add_string_value(b, full);
    }
    json_builder_set_member_name(b, "format-specific");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "type");
    json_builder_add_string_value(b, in->format);
    json_builder_set_member_name(b, "data");
    json_builder_begin_object(b);
    if (in->subformat) {
        json_builder_set_member_name(b, "subformat");
        json_builder_add_string_value(b, in->subformat);
    }
    if (in->has_geometry) {
        json_builder_set_member_name(b, "geometry");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "cylinders");
        json_builder_add_int_value(b, in->geometry.cylinders);
        json_builder_set_member_name(b, "heads");
        json_builder_add_int_value(b, in->geometry.heads);
        json_builder_set_member_name(b, "sectors");
        json_builder_add_int_value(b, in->geometry.sectors);
        json_builder_end_object(b);
    }
    if (in->block_size) {
        json_builder_set_member_name(b, "allocated-blocks");
        json_builder_add_int_value(b, (gint64)in->blocks_allocated);
        json_builder_set_member_name(b, "total-blocks");
        json_builder_add_int_value(b, (gint64)in->blocks_total);
    }
    if (in->creator) {
        json_builder_set_member_name(b, "creator");
        json_builder_add_string_value(b, in->creator);
    }
    if (in->uuid) {
        json_builder_set_member_name(b, "uuid");
        json_builder_add_string_value(b, in->uuid);
    }
    json_builder_end_object(b);
    json_builder_end_object(b);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

static void info_human(const char *file, const TessBlockInfo *in, int depth)
{
    g_autofree char *vs = human(in->size);
    g_autofree char *ds = human(in->file_size);
    if (depth)
        printf("\nparent image: %s\n", file);
    else
        printf("image: %s\n", file);
    printf("file format: %s%s%s%s\n", in->format, in->subformat ? " (" : "",
           in->subformat ? in->subformat : "", in->subformat ? ")" : "");
    printf("virtual size: %s (%" G_GUINT64_FORMAT " bytes)\n", vs, in->size);
    printf("disk size: %s\n", ds);
    if (in->has_geometry)
        printf("geometry: %u/%u/%u (cylinders/heads/sectors)\n", in->geometry.cylinders,
               in->geometry.heads, in->geometry.sectors);
    if (in->block_size) {
        g_autofree char *bs = human(in->block_size);
        printf("block size: %s\n", bs);
        printf("allocated blocks: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT "\n",
               in->blocks_allocated, in->blocks_total);
    }
    if (in->creator)
        printf("creator: %s\n", in->creator);
    if (in->uuid)
        printf("uuid: %s\n", in->uuid);
    if (in->parent)
        printf("parent: %s\n", in->parent);
}

static int img_info(Img *im, int argc, char **argv)
{
    g_autofree char *fmt = NULL, *output = NULL;
    gboolean chain = FALSE;
    GOptionEntry entries[] = {
        IMG_OPT_FORMAT(fmt),
        IMG_OPT_OUTPUT(output),
        IMG_OPT("backing-chain", 0, NONE, chain, "json: every image of the parent chain (an array)",
                NULL),
        { NULL },
    };
    PARSE_OPTIONS("info", "FILE",
                  "Describe an image: format, type, size, geometry, blocks, and its parent chain.",
                  entries);
    bool json;
    int rc;
    if (!json_output("info", output, &json, &rc))
        return rc;
    if (argc != 2)
        return usage_error("info", "info needs FILE");
    GError *e = NULL;
    g_autofree char *file = g_strdup(argv[1]);
    g_autoptr(JsonArray) arr = json_array_new();
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
        if (json)
            json_array_add_element(arr, info_json(file, &in));
        else
            info_human(file, &in, depth);
        g_free(file);
        /* The whole chain is opened (so a broken one fails) either way. */
        file = g_strdup(in.parent);
        tess_block_info_clear(&in);
        tess_device_free(dev);
    }
    if (json) {
        g_autoptr(JsonNode) n = NULL;
        if (chain) {
            n = json_node_new(JSON_NODE_ARRAY);
            json_node_set_array(n, arr);
        } else {
            n = json_node_copy(json_array_get_element(arr, 0));
        }
        print_json(n);
    }
    return 0;
}

/* ---- check ---------------------------------------------------------------------- */

static int img_check(Img *im, int argc, char **argv)
{
    g_autofree char *fmt = NULL, *output = NULL, *repair_what = NULL;
    gboolean repair = FALSE;
    GOptionEntry entries[] = {
        IMG_OPT_FORMAT(fmt),
        IMG_OPT("repair", 0, NONE, repair, "fix what can be fixed without guessing", NULL),
        IMG_OPT("repair-mode", 'r', STRING, repair_what,
                "leaks or all (qemu-img -r): the same as --repair", "leaks|all"),
        IMG_OPT_OUTPUT(output),
        { NULL },
    };
    PARSE_OPTIONS("check", "FILE",
                  "Check an image's metadata (and its parent chain). Exit 0 clean, 1 errors\n"
                  "(those left after --repair).",
                  entries);
    bool json;
    int rc;
    if (!json_output("check", output, &json, &rc))
        return rc;
    if (repair_what && strcmp(repair_what, "leaks") && strcmp(repair_what, "all"))
        return usage_error("check", "-r takes leaks or all, not '%s'", repair_what);
    repair = repair || repair_what;
    if (argc != 2)
        return usage_error("check", "check needs FILE");
    GError *e = NULL;
    const char *file = argv[1];
    const TessDeviceClass *cls = pick(im, fmt, file, &e);
    const TessBlockOps *ops = cls ? tess_block_class_ops(cls) : NULL;
    if (ops && !ops->check)
        g_set_error(&e, TESS_CONFIG_ERROR, TESS_ERROR_UNSUPPORTED,
                    "format '%s' has no check", cls->type);
    TessBlockCheck res = { .report = g_string_new(NULL) };
    if (e || !ops->check(file, repair, &res, &e)) {
        g_string_free(res.report, TRUE);
        return fail(e);
    }
    unsigned left = res.errors - res.repaired;
    if (json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "filename");
        json_builder_add_string_value(b, file);
        json_builder_set_member_name(b, "format");
        json_builder_add_string_value(b, cls->type);
        json_builder_set_member_name(b, "check-errors");
        json_builder_add_int_value(b, 0);
        json_builder_set_member_name(b, "corruptions");
        json_builder_add_int_value(b, res.errors);
        json_builder_set_member_name(b, "corruptions-fixed");
        json_builder_add_int_value(b, res.repaired);
        json_builder_set_member_name(b, "leaked-bytes");
        json_builder_add_int_value(b, (gint64)res.leaked);
        json_builder_set_member_name(b, "lost-bytes");
        json_builder_add_int_value(b, (gint64)res.lost);
        json_builder_set_member_name(b, "findings");
        json_builder_begin_array(b);
        g_auto(GStrv) found = g_strsplit(res.report->str, "\n", -1);
        for (char **f = found; *f; f++)
            if (**f)
                json_builder_add_string_value(b, *f);
        json_builder_end_array(b);
        json_builder_end_object(b);
        g_autoptr(JsonNode) n = json_builder_get_root(b);
        print_json(n);
        g_string_free(res.report, TRUE);
        return left ? 1 : 0;
    }
    fputs(res.report->str, stdout);
    g_string_free(res.report, TRUE);
    if (!res.errors)
        printf("No errors were found on the image.\n");
    else if (repair)
        printf("%u errors were found on the image, %u repaired.\n", res.errors, res.repaired);
    else
        printf("%u errors were found on the image.\n", res.errors);
    if (res.lost && !repair)
        printf("%" G_GUINT64_FORMAT " bytes of written data were lost (never referenced).\n",
               res.lost);
    if (res.leaked > res.lost && !repair)
        printf("%" G_GUINT64_FORMAT " bytes are unreferenced (leaked space).\n",
               res.leaked - res.lost);
    return left ? 1 : 0;
}

/* ---- convert -------------------------------------------------------------------- */

static int img_convert(Img *im, int argc, char **argv)
{
    g_autofree char *fmt = NULL, *out_fmt = NULL, *backing = NULL;
    g_auto(GStrv) olist = NULL;
    gboolean progress = FALSE, quiet = FALSE;
    GOptionEntry entries[] = {
        IMG_OPT_FORMAT_OF(fmt, "SRC's format (default: by content)"),
        IMG_OPT("output-format", 'O', STRING, out_fmt, "vhd or raw (default: by DST's name)", "FMT"),
        IMG_OPT_VHD_OPTIONS(olist),
        IMG_OPT_BACKING('B', backing, "make DST a differencing image over PARENT holding what differs"),
        IMG_OPT_PROGRESS(progress, quiet),
        { NULL },
    };
    PARSE_OPTIONS("convert", "SRC DST",
                  "Copy an image into a new one (written under a temporary name, then renamed).",
                  entries);
    int rc = 0;
    Opts o = { 0 };
    GError *e = NULL;
    TessDevice *src = NULL, *dst = NULL;
    bool created = false;
    const char *dfile = NULL;
    char *tmpfile = NULL;
    g_autofree uint8_t *buf = NULL, *pbuf = NULL;
    if (argc != 3) {
        rc = usage_error("convert", "convert needs SRC DST");
        goto out;
    }
    if (!collect_opts(olist, &o, &e)) {
        rc = usage_error("convert", "%s", e->message);
        g_clear_error(&e);
        goto out;
    }
    if (backing) {
        g_free(o.parent);
        o.parent = g_strdup(backing);
        if (!o.type)
            o.type = g_strdup("differencing");
    }
    const char *sfile = argv[1];
    dfile = argv[2];
    const char *ofmt = format_for(out_fmt, dfile);
    if (o.parent && !out_fmt && !strcmp(ofmt, "raw"))
        ofmt = "vhd";           /* only a VHD has a parent */
    rc = 1;
    const TessDeviceClass *scls = pick(im, fmt, sfile, &e);
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
    Progress pr = progress_new(progress, quiet);
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
    gboolean progress = FALSE, quiet = FALSE;
    GOptionEntry entries[] = {
        IMG_OPT_PROGRESS(progress, quiet),
        { NULL },
    };
    PARSE_OPTIONS("commit", "CHILD [PARENT]",
                  "Merge a differencing image into its parent. A raw parent must be named.",
                  entries);
    argc--;
    argv++;
    if (argc != 1 && argc != 2)
        return usage_error("commit", "commit needs CHILD [PARENT]");
    GError *e = NULL;
    const TessDeviceClass *cls = detect(im, argv[0], &e);
    const TessBlockOps *ops = cls ? tess_block_class_ops(cls) : NULL;
    if (ops && !ops->commit_file)
        g_set_error(&e, TESS_CONFIG_ERROR, TESS_ERROR_UNSUPPORTED,
                    "%s: a %s image has no parent to commit into", argv[0], cls->type);
    if (!e)
        commit_target_ok(im, argv[0], argc == 2 ? argv[1] : NULL, &e);
    Progress pr = progress_new(progress, quiet);
    if (e || !ops->commit_file(argv[0], progress_cb, &pr, &e))
        return fail(e);
    printf("Image committed.\n");
    return 0;
}

static int img_compact(Img *im, int argc, char **argv)
{
    gboolean progress = FALSE, quiet = FALSE;
    GOptionEntry entries[] = {
        IMG_OPT_PROGRESS(progress, quiet),
        { NULL },
    };
    PARSE_OPTIONS("compact", "FILE",
                  "Rewrite a dynamic or differencing VHD without its all-zero blocks and leaked\n"
                  "space (contents and modification time unchanged).",
                  entries);
    argc--;
    argv++;
    if (argc != 1)
        return usage_error("compact", "compact needs FILE");
    GError *e = NULL;
    const TessDeviceClass *cls = detect(im, argv[0], &e);
    const TessBlockOps *ops = cls ? tess_block_class_ops(cls) : NULL;
    if (ops && !ops->compact_file)
        g_set_error(&e, TESS_CONFIG_ERROR, TESS_ERROR_UNSUPPORTED,
                    "%s: a %s image cannot be compacted", argv[0], cls->type);
    Progress pr = progress_new(progress, quiet);
    uint64_t freed = 0;
    if (e || !ops->compact_file(argv[0], progress_cb, &pr, &freed, &e))
        return fail(e);
    g_autofree char *hs = human(freed);
    printf("Image compacted: %s freed.\n", hs);
    return 0;
}

/* ---- resize --------------------------------------------------------------------- */

static int img_resize(Img *im, int argc, char **argv)
{
    g_autofree char *fmt = NULL;
    gboolean shrink = FALSE, quiet = FALSE;
    GOptionEntry entries[] = {
        IMG_OPT_FORMAT(fmt),
        IMG_OPT("shrink", 0, NONE, shrink, "allow a smaller size (what lies beyond it is lost)", NULL),
        IMG_OPT_QUIET(quiet),
        { NULL },
    };
    /* "-1G" is a size, not an option (as qemu-img takes it). */
    char *neg = NULL;
    if (argc > 2 && argv[argc - 1][0] == '-' && g_ascii_isdigit(argv[argc - 1][1]))
        neg = argv[--argc];
    PARSE_OPTIONS("resize", "FILE [+|-]SIZE",
                  "Change a raw or VHD (fixed, dynamic) image's virtual size: SIZE, or +SIZE /\n"
                  "-SIZE relative to the current one. Shrinking needs --shrink. A VHD's size is\n"
                  "rounded up to whole CHS geometry, as at create.",
                  entries);
    if (neg)
        argv[argc++] = neg;
    if (argc != 3)
        return usage_error("resize", "resize needs FILE SIZE");
    const char *file = argv[1], *text = argv[2];
    int sign = text[0] == '+' ? 1 : text[0] == '-' ? -1 : 0;
    GError *e = NULL;
    uint64_t amount;
    if (!parse_size(text + (sign != 0), &amount, &e)) {
        int rc = usage_error("resize", "SIZE: %s", e->message);
        g_error_free(e);
        return rc;
    }
    const TessDeviceClass *cls = pick(im, fmt, file, &e);
    const TessBlockOps *ops = cls ? tess_block_class_ops(cls) : NULL;
    if (ops && !ops->resize_file)
        g_set_error(&e, TESS_CONFIG_ERROR, TESS_ERROR_UNSUPPORTED,
                    "format '%s' cannot be resized", cls->type);
    TessDevice *dev = e ? NULL : open_image(im, cls, file, true, &e);
    if (!dev)
        return fail(e);
    uint64_t cur = tess_block_ops(dev)->size(dev);
    tess_device_free(dev);
    uint64_t size = sign > 0 ? cur + amount : sign < 0 ? cur - MIN(cur, amount) : amount;
    if ((sign > 0 && size < cur) || (sign < 0 && amount >= cur) || !size) {
        return fail(g_error_new(TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                                "%s: a size of %s%s from %" G_GUINT64_FORMAT
                                " bytes is out of range", file, text, "", cur));
    }
    if (size < cur && !shrink)
        return fail(g_error_new(TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                                "%s: %" G_GUINT64_FORMAT " bytes is smaller than the image (%"
                                G_GUINT64_FORMAT " bytes): what lies beyond would be lost; "
                                "give --shrink to do it anyway", file, size, cur));
    uint64_t done = 0;
    if (!ops->resize_file(file, size, shrink, &done, &e))
        return fail(e);
    if (!quiet)
        printf("Image resized: %" G_GUINT64_FORMAT " bytes.\n", done);
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
    static const struct {
        const char *name;
        int (*fn)(Img *im, int argc, char **argv);
    } cmds[] = {
        { "create", img_create }, { "info", img_info }, { "check", img_check },
        { "convert", img_convert }, { "commit", img_commit }, { "compact", img_compact },
        { "resize", img_resize },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cmds); i++) {
        if (strcmp(cmds[i].name, cmd))
            continue;
        Img im = { .reg = reg, .m = tess_machine_new_empty(reg, "img", NULL) };
        /* argv[0] is the subcommand, as GOption wants a program name. */
        int rc = cmds[i].fn(&im, argc - 1, argv + 1);
        tess_machine_free(im.m);
        return rc;
    }
    usage_error(NULL, "unknown command '%s'", cmd);
    img_usage(stderr);
    return 2;
}
