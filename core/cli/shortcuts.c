/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QEMU-style shortcuts of `tessera run` (--cdrom, --disk, -m, --boot,
 * --net, --audio, and `tessera run IMAGE`): what a disk image is, decided
 * by its content, and the overlay machine that says the same as the
 * options - a <machine base="..."> that extends the chosen machine and is
 * loaded like any machine file, so its errors, its snapshots and its
 * inheritance rules are the machine file's own.
 *
 * The overlay is written against the chosen machine after inheritance
 * (tess_machine_flatten): drives go to the IDE positions it leaves free,
 * the boot order names the positions they took, the NIC and the Sound
 * Blaster are the machine's own when it has them.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

/* ---- what a file is --------------------------------------------------- */

static bool read_at(int fd, off_t off, void *buf, size_t len)
{
    return pread(fd, buf, len, off) == (ssize_t)len;
}

CliFileKind cli_file_kind(const char *path, char **why)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return CLI_FILE_MACHINE;        /* the machine loader says what is wrong */
    }
    unsigned char head[512] = { 0 };
    size_t got = (size_t)MAX(pread(fd, head, sizeof(head), 0), 0);
    CliFileKind kind = CLI_FILE_RAW;
    char sig[8];
    /* XML: optional byte-order mark and white space, then '<'. */
    size_t i = got >= 3 && !memcmp(head, "\xEF\xBB\xBF", 3) ? 3 : 0;
    while (i < got && g_ascii_isspace(head[i]))
        i++;
    if (i < got && head[i] == '<') {
        kind = CLI_FILE_MACHINE;
    } else if (got >= 8 && !memcmp(head, "conectix", 8)) {
        kind = CLI_FILE_VHD;            /* a dynamic VHD's copy of the footer */
    } else if (st.st_size >= 512 && read_at(fd, st.st_size - 512, sig, 8) &&
               !memcmp(sig, "conectix", 8)) {
        kind = CLI_FILE_VHD;
    } else if (st.st_size >= 511 && read_at(fd, st.st_size - 511, sig, 8) &&
               !memcmp(sig, "conectix", 8)) {
        kind = CLI_FILE_VHD;            /* Virtual PC's older 511-byte footer */
    } else if (read_at(fd, 0x8001, sig, 5) && !memcmp(sig, "CD001", 5)) {
        kind = CLI_FILE_ISO;            /* ISO 9660 primary volume descriptor (sector 16) */
    } else {
        /* Formats Tessera does not read: say so rather than boot their
         * container bytes as a disk. */
        static const struct { const char *magic; size_t len; const char *name; } other[] = {
            { "QFI\xfb", 4, "qcow2" }, { "KDMV", 4, "VMDK" }, { "vhdxfile", 8, "VHDX" },
            { "<<< Oracle VM VirtualBox Disk Image >>>", 39, "VDI" },
        };
        for (size_t k = 0; k < G_N_ELEMENTS(other); k++) {
            if (got >= other[k].len && !memcmp(head, other[k].magic, other[k].len)) {
                kind = CLI_FILE_OTHER;
                if (why)
                    *why = g_strdup_printf("%s is a %s image, which Tessera does not read "
                                           "(convert it: qemu-img convert -O vpc %s disk.vhd)",
                                           path, other[k].name, path);
            }
        }
    }
    close(fd);
    return kind;
}

/* ---- the options -------------------------------------------------------- */

typedef struct {
    char *file, *format, *undo, *readonly;
    bool cdrom;
} Drive;

static void drive_free(Drive *d)
{
    g_free(d->file); g_free(d->format); g_free(d->undo); g_free(d->readonly);
    g_free(d);
}

/* FILE[,format=vhd|raw][,undo=off|discard|commit|ask][,readonly=on] */
static Drive *drive_parse(const char *spec, bool cdrom, GError **err)
{
    g_auto(GStrv) parts = g_strsplit(spec, ",", -1);
    if (!parts[0] || !*parts[0]) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "--%s '%s': expected FILE[,format=vhd|raw][,undo=discard|commit|ask]",
                    cdrom ? "cdrom" : "disk", spec);
        return NULL;
    }
    Drive *d = g_new0(Drive, 1);
    d->cdrom = cdrom;
    d->file = g_canonicalize_filename(parts[0], NULL);
    for (char **p = parts + 1; *p; p++) {
        const char *eq = strchr(*p, '=');
        g_autofree char *key = eq ? g_strndup(*p, eq - *p) : g_strdup(*p);
        const char *val = eq ? eq + 1 : "";
        char **slot = !strcmp(key, "format") ? &d->format : !strcmp(key, "undo") ? &d->undo
                    : !strcmp(key, "readonly") ? &d->readonly : NULL;
        if (!slot || !*val) {
            static const char *const keys[] = { "format", "undo", "readonly", NULL };
            g_autofree char *hint = tess_did_you_mean(key, keys, -1);
            g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                        "--%s '%s': unknown option '%s'%s (known: format=vhd|raw, "
                        "undo=off|discard|commit|ask, readonly=on|off)",
                        cdrom ? "cdrom" : "disk", spec, *p, hint);
            drive_free(d);
            return NULL;
        }
        g_free(*slot);
        *slot = g_strdup(val);
    }
    if (!d->format) {
        g_autofree char *why = NULL;
        CliFileKind k = cli_file_kind(d->file, &why);
        if (k == CLI_FILE_OTHER) {
            g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID, "%s", why);
            drive_free(d);
            return NULL;
        }
        d->format = g_strdup(k == CLI_FILE_VHD ? "vhd" : "raw");
    }
    if (!g_file_test(d->file, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_NOT_FOUND,
                    "--%s %s: no such file (make a disk with: tessera img create FILE.vhd 8G)",
                    cdrom ? "cdrom" : "disk", d->file);
        drive_free(d);
        return NULL;
    }
    return d;
}

void cli_shortcuts_clear(CliShortcuts *s)
{
    g_clear_pointer(&s->disks, g_strfreev);
    g_clear_pointer(&s->cdroms, g_strfreev);
    g_clear_pointer(&s->memory, g_free);
    g_clear_pointer(&s->boot, g_free);
    g_clear_pointer(&s->net, g_free);
    g_clear_pointer(&s->sound, g_free);
}

bool cli_shortcuts_any(const CliShortcuts *s)
{
    return (s->disks && *s->disks) || (s->cdroms && *s->cdroms) || s->memory || s->boot ||
           s->net || s->sound;
}

/* ---- the chosen machine, after inheritance ------------------------------ */

static const char *xattr(xmlNodePtr n, const char *name)
{
    /* libxml2 strings live as long as the document. */
    for (xmlAttrPtr a = n->properties; a; a = a->next)
        if (!strcmp((const char *)a->name, name) && a->children)
            return (const char *)a->children->content;
    return NULL;
}

static xmlNodePtr first_device(xmlNodePtr root, const char *type)
{
    for (xmlNodePtr n = root->children; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, "device") &&
            xattr(n, "type") && !strcmp(xattr(n, "type"), type))
            return n;
    return NULL;
}

/* A property as the machine sets it, else the class default. */
static uint64_t dev_uint(TessRegistry *reg, xmlNodePtr n, const char *type, const char *prop)
{
    const char *v = n ? xattr(n, prop) : NULL;
    const TessDeviceClass *c = tess_registry_lookup(reg, type);
    for (const TessPropSpec *p = c ? c->props : NULL; !v && p && p->name; p++)
        if (!strcmp(p->name, prop))
            v = p->def;
    return v ? g_ascii_strtoull(v, NULL, 0) : 0;
}

static void add_attr(GString *o, const char *name, const char *value)
{
    g_autofree char *t = g_markup_printf_escaped(" %s=\"%s\"", name, value);
    g_string_append(o, t);
}

/* `base`: a machine name, or a machine file's path; `dir` gets the
 * directory the overlay is loaded from (where `base=` finds the file). */
char *cli_overlay_xml(TessRegistry *reg, const char *machine, const CliShortcuts *s,
                      char **dir_out, GError **err)
{
    g_autofree char *base = NULL, *dir = NULL;
    if (strchr(machine, '/') || g_str_has_suffix(machine, ".xml")) {
        g_autofree char *abs = g_canonicalize_filename(machine, NULL);
        g_autofree char *bn = g_path_get_basename(abs);
        dir = g_path_get_dirname(abs);
        base = g_str_has_suffix(bn, ".xml") ? g_strndup(bn, strlen(bn) - 4) : g_strdup(bn);
        bool ident = *base && strlen(base) <= 64 && g_ascii_isalnum(base[0] == '_' ? 'a' : base[0]);
        for (const char *p = base; *p && ident; p++)
            ident = g_ascii_isalnum(*p) || strchr("_.-", *p);
        if (!g_str_has_suffix(bn, ".xml") || !ident) {
            g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                        "%s: options such as --disk and -m extend a machine file named NAME.xml "
                        "(NAME of letters, digits, '_', '.' and '-'); rename it", machine);
            return NULL;
        }
    } else {
        base = g_strdup(machine);
        dir = g_get_current_dir();
    }
    g_autofree char *flat = tess_machine_flatten(reg, strchr(machine, '/') ||
                                                 g_str_has_suffix(machine, ".xml")
                                                 ? machine : base, err);
    if (!flat)
        return NULL;
    xmlDocPtr doc = xmlReadMemory(flat, (int)strlen(flat), "flat.xml", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_FAILED, "%s: cannot read it back", machine);
        return NULL;
    }
    xmlNodePtr root = xmlDocGetRootElement(doc);
    GString *o = g_string_new(NULL);
    g_autoptr(GPtrArray) drives = g_ptr_array_new_with_free_func((GDestroyNotify)drive_free);
    bool ok = true;
    g_string_append_printf(o, "<machine base=\"%s\">\n", base);

    if (s->memory) {
        /* QEMU's -m: a bare number is MiB. */
        bool bare = s->memory[0] && strspn(s->memory, "0123456789") == strlen(s->memory);
        g_autofree char *v = bare ? g_strconcat(s->memory, "M", NULL) : g_strdup(s->memory);
        g_string_append(o, "  <memory");
        add_attr(o, "size", v);
        g_string_append(o, "/>\n");
    }

    /* Drives: CD-ROMs first at the secondary master (as QEMU's -cdrom),
     * disks at the first free position from the primary master on. */
    for (char **c = s->cdroms; ok && c && *c; c++) {
        Drive *d = drive_parse(*c, true, err);
        ok = d != NULL;
        if (d)
            g_ptr_array_add(drives, d);
    }
    for (char **c = s->disks; ok && c && *c; c++) {
        Drive *d = drive_parse(*c, false, err);
        ok = d != NULL;
        if (d)
            g_ptr_array_add(drives, d);
    }
    xmlNodePtr ide = first_device(root, "ide");
    char *pos_media[4] = { NULL };        /* bus * 2 + unit -> "disk"/"cdrom" */
    if (ok && drives->len && !ide) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "%s has no IDE controller for --disk or --cdrom", machine);
        ok = false;
    }
    if (ok && drives->len) {
        g_string_append_printf(o, "  <device id=\"%s\">\n", xattr(ide, "id"));
        /* The machine's own drives stay (a slot given in an overlay replaces
         * the base's, so they are said again). */
        for (xmlNodePtr n = ide->children; n; n = n->next) {
            if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, "drive"))
                continue;
            unsigned pos = (unsigned)(dev_uint(reg, n, "ide-drive", "bus") * 2 +
                                      dev_uint(reg, n, "ide-drive", "unit")) & 3;
            const char *media = xattr(n, "media");
            pos_media[pos] = media && !strcmp(media, "cdrom") ? "cdrom" : "disk";
            xmlBufferPtr buf = xmlBufferCreate();
            xmlNodeDump(buf, doc, n, 2, 0);
            g_string_append_printf(o, "    %s\n", (const char *)xmlBufferContent(buf));
            xmlBufferFree(buf);
        }
        for (guint i = 0; ok && i < drives->len; i++) {
            Drive *d = drives->pdata[i];
            static const unsigned cd_order[] = { 2, 0, 1, 3 }, hd_order[] = { 0, 1, 2, 3 };
            const unsigned *order = d->cdrom ? cd_order : hd_order;
            int pos = -1;
            for (int k = 0; k < 4 && pos < 0; k++)
                if (!pos_media[order[k]])
                    pos = (int)order[k];
            if (pos < 0) {
                g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                            "%s: no free IDE position (the controller takes four drives)",
                            d->file);
                ok = false;
                break;
            }
            pos_media[pos] = d->cdrom ? "cdrom" : "disk";
            g_string_append_printf(o, "    <drive bus=\"%d\" unit=\"%d\" media=\"%s\"><disk",
                                   pos >> 1, pos & 1, pos_media[pos]);
            add_attr(o, "format", d->format);
            add_attr(o, "file", d->file);
            if (d->cdrom && !d->readonly)
                add_attr(o, "readonly", "on");
            if (d->readonly)
                add_attr(o, "readonly", d->readonly);
            if (d->undo)
                add_attr(o, "undo", d->undo);
            g_string_append(o, "/></drive>\n");
        }
        g_string_append(o, "  </device>\n");
    }

    xmlNodePtr nic = first_device(root, "dec21041");
    if (ok && s->boot) {
        /* SeaBIOS's boot order: fw-cfg "bootorder" holds OpenFirmware paths
         * (its own spelling: /pci@i0cf8/ide@1,1/drive@CHANNEL/disk@UNIT), the
         * CMOS keeps the letters for what the paths do not name. */
        g_autofree char *order = NULL;
        bool menu = false;
        g_auto(GStrv) parts = g_strsplit(s->boot, ",", -1);
        for (char **p = parts; ok && *p; p++) {
            if (g_str_has_prefix(*p, "order="))
                { g_free(order); order = g_strdup(*p + 6); }
            else if (!strcmp(*p, "menu=on"))
                menu = true;
            else if (!strcmp(*p, "menu=off"))
                menu = false;
            else if (!strchr(*p, '=') && p == parts)
                { g_free(order); order = g_strdup(*p); }
            else
                ok = false;
        }
        if (ok && order)
            ok = *order && strspn(order, "acdn") == strlen(order);
        if (!ok) {
            g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                        "--boot '%s': expected ORDER of a (floppy), c (disk), d (CD-ROM), "
                        "n (network), e.g. dc, or order=ORDER,menu=on|off", s->boot);
        }
        xmlNodePtr fw = first_device(root, "fw-cfg");
        xmlNodePtr rtc = first_device(root, "rtc-cmos");
        if (ok && !fw) {
            g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                        "--boot: %s has no fw-cfg device to tell the firmware", machine);
            ok = false;
        }
        if (ok) {
            GString *paths = g_string_new(NULL);
            unsigned devfn = ide ? (unsigned)dev_uint(reg, ide, "ide", "devfn") : 0;
            for (const char *c = order ? order : ""; *c; c++) {
                if (*c == 'a')
                    g_string_append(paths, "/isa/fdc@03f0/floppy@0;");
                for (unsigned pos = 0; pos < 4 && ide && (*c == 'c' || *c == 'd'); pos++)
                    if (pos_media[pos] && !strcmp(pos_media[pos], *c == 'c' ? "disk" : "cdrom"))
                        g_string_append_printf(paths, "/pci@i0cf8/ide@%x,%x/drive@%u/disk@%u;",
                                               devfn >> 3, devfn & 7, pos >> 1, pos & 1);
                if (*c == 'n' && nic) {
                    unsigned nd = (unsigned)dev_uint(reg, nic, "dec21041", "devfn");
                    g_string_append_printf(paths, "/pci@i0cf8/ethernet@%x;", nd >> 3);
                }
            }
            if (paths->len)
                g_string_truncate(paths, paths->len - 1);
            g_string_append_printf(o, "  <device id=\"%s\"", xattr(fw, "id"));
            if (order)
                add_attr(o, "bootorder", paths->str);
            add_attr(o, "boot-menu", menu ? "on" : "off");
            g_string_append(o, "/>\n");
            g_string_free(paths, TRUE);
            if (rtc && order) {
                g_autofree char *letters = g_strndup(order, 3);
                g_string_append_printf(o, "  <device id=\"%s\"", xattr(rtc, "id"));
                add_attr(o, "boot-order", letters);
                g_string_append(o, "/>\n");
            }
        }
    }

    if (ok && s->net) {
        /* TYPE[:NAME|URL][,KEY=VALUE...] on the machine's DEC 21041, or on
         * one added where pc-net.xml puts it. */
        g_auto(GStrv) parts = g_strsplit(s->net, ",", -1);
        const char *spec = parts[0] ? parts[0] : "";
        const char *colon = strchr(spec, ':');
        g_autofree char *type = colon ? g_strndup(spec, colon - spec) : g_strdup(spec);
        static const char *const types[] = { "shared", "switch", "vde", "none", NULL };
        if (!g_strv_contains(types, type) || (!strcmp(type, "switch") && !colon) ||
            (!strcmp(type, "vde") && !colon)) {
            g_autofree char *hint = tess_did_you_mean(type, types, -1);
            g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                        "--net '%s': expected shared, switch:NAME, vde:URL or none%s", s->net,
                        hint);
            ok = false;
        } else {
            if (nic)
                g_string_append_printf(o, "  <device id=\"%s\">", xattr(nic, "id"));
            else
                g_string_append(o, "  <device type=\"dec21041\" id=\"nic0\" devfn=\"0x18\" "
                                   "mac=\"52:54:00:12:34:56\">");
            g_string_append(o, "<net");
            add_attr(o, "type", type);
            if (!strcmp(type, "switch"))
                add_attr(o, "name", colon + 1);
            if (!strcmp(type, "vde"))
                add_attr(o, "url", g_str_has_prefix(colon + 1, "//") ? spec : colon + 1);
            for (char **p = parts + 1; *p; p++) {
                const char *eq = strchr(*p, '=');
                if (!eq || eq == *p) {
                    g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                                "--net '%s': '%s' is not KEY=VALUE", s->net, *p);
                    ok = false;
                    break;
                }
                g_autofree char *k = g_strndup(*p, eq - *p);
                add_attr(o, k, eq + 1);
            }
            g_string_append(o, "/></device>\n");
        }
    }

    if (ok && s->sound && !first_device(root, "sb16")) {
        /* A sound card to hear: vpc.xml's Sound Blaster 16 at its factory
         * settings (A220 I5 D1 H5 P330). */
        xmlNodePtr pic = first_device(root, "pic8259");
        g_string_append(o, "  <device type=\"sb16\" id=\"snd0\" port=\"0x220\" irq=\"5\" "
                           "dma=\"1\" hdma=\"5\" mpu=\"0x330\"/>\n");
        if (pic)
            g_string_append_printf(o, "  <wire from=\"snd0.irq5\" to=\"%s.ir5\"/>\n",
                                   xattr(pic, "id"));
    }
    g_string_append(o, "</machine>\n");
    xmlFreeDoc(doc);
    if (!ok) {
        g_string_free(o, TRUE);
        return NULL;
    }
    *dir_out = g_steal_pointer(&dir);
    return g_string_free(o, FALSE);
}
