/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Machine files: XML -> schema check -> configuration tree (with base
 * inheritance and overrides) -> devices, wires -> realize -> reset.
 *
 * Parsing is hardened: no network, no DTD, no entity expansion (a
 * DOCTYPE is refused outright), a size cap, and libxml2's depth limit.
 * Every error names file:line.
 */
#include "core.h"
#include "config-schema.h"
#include "tess-config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#define MAX_FILE_BYTES (1u << 20)
/* What the schema check ever sees (RelaxNG's cost grows much faster than
 * the input: 24,000 attributes on one element took 27 s and 4.5 GB). A
 * real machine file has a few hundred elements of a few attributes each. */
#define MAX_ELEMENTS   4096u
#define MAX_ATTRS      64u
#define MAX_XML_DEPTH  16u
#define MAX_BASE_DEPTH 8
#define MAX_SLOT_DEPTH 4

/* ---- the configuration tree ------------------------------------------- */

typedef struct {
    char *name, *value;
    char *dir;                  /* directory relative paths resolve against */
    char *file;
    int line;
} ConfAttr;

typedef struct ConfNode {
    char *element;              /* "device", "cpu", or a slot name */
    char *type;                 /* device/cpu: class type (may be NULL) */
    char *id;                   /* device only */
    char *fallback;             /* cpu only */
    GPtrArray *attrs;           /* ConfAttr * (not type/id) */
    GPtrArray *children;        /* ConfNode * (slots) */
    char *file;
    int line;
} ConfNode;

typedef struct {
    char *from, *to, *file;
    int line;
    bool shared;                /* shared="on": a deliberate wired-OR */
} ConfWire;

typedef struct {
    char *name;
    uint64_t mem_size, below_4g;
    bool mem_given, below_given;
    char *mem_file;             /* where <memory> was last given */
    int mem_line;
    ConfNode *cpu;
    GPtrArray *devices;         /* ConfNode * */
    GPtrArray *wires;           /* ConfWire * */
    char *file, *dir;
} Conf;

static void attr_free(ConfAttr *a)
{
    g_free(a->name); g_free(a->value); g_free(a->dir); g_free(a->file);
    g_free(a);
}

static void node_free(ConfNode *n)
{
    if (!n)
        return;
    g_free(n->element); g_free(n->type); g_free(n->id); g_free(n->fallback);
    g_free(n->file);
    g_ptr_array_unref(n->attrs);
    g_ptr_array_unref(n->children);
    g_free(n);
}

static ConfNode *node_new(const char *element, const char *file, int line)
{
    ConfNode *n = g_new0(ConfNode, 1);
    n->element = g_strdup(element);
    n->attrs = g_ptr_array_new_with_free_func((GDestroyNotify)attr_free);
    n->children = g_ptr_array_new_with_free_func((GDestroyNotify)node_free);
    n->file = g_strdup(file);
    n->line = line;
    return n;
}

static void wire_free(ConfWire *w)
{
    g_free(w->from); g_free(w->to); g_free(w->file);
    g_free(w);
}

static void conf_free(Conf *c)
{
    if (!c)
        return;
    g_free(c->name);
    node_free(c->cpu);
    g_ptr_array_unref(c->devices);
    g_ptr_array_unref(c->wires);
    g_free(c->file);
    g_free(c->dir);
    g_free(c->mem_file);
    g_free(c);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Conf, conf_free)

static Conf *conf_new(void)
{
    Conf *c = g_new0(Conf, 1);
    c->devices = g_ptr_array_new_with_free_func((GDestroyNotify)node_free);
    c->wires = g_ptr_array_new_with_free_func((GDestroyNotify)wire_free);
    return c;
}

static void node_set_attr(ConfNode *n, const char *name, const char *value,
                          const char *dir, const char *file, int line)
{
    for (guint i = 0; i < n->attrs->len; i++) {
        ConfAttr *a = n->attrs->pdata[i];
        if (!strcmp(a->name, name)) {
            g_free(a->value); g_free(a->dir); g_free(a->file);
            a->value = g_strdup(value);
            a->dir = g_strdup(dir);
            a->file = g_strdup(file);
            a->line = line;
            return;
        }
    }
    ConfAttr *a = g_new0(ConfAttr, 1);
    a->name = g_strdup(name);
    a->value = g_strdup(value);
    a->dir = g_strdup(dir);
    a->file = g_strdup(file);
    a->line = line;
    g_ptr_array_add(n->attrs, a);
}

static const char *node_attr(ConfNode *n, const char *name)
{
    for (guint i = 0; i < n->attrs->len; i++) {
        ConfAttr *a = n->attrs->pdata[i];
        if (!strcmp(a->name, name))
            return a->value;
    }
    return NULL;
}

/* ---- reading XML safely ------------------------------------------------ */

static GBytes *load_resource(const char *path)
{
    return g_resources_lookup_data(path, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
}

static void set_xml_error(GError **err, const char *file, const char *what)
{
    const xmlError *xe = xmlGetLastError();
    if (xe && xe->message) {
        g_autofree char *msg = g_strstrip(g_strdup(xe->message));
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID, "%s:%d: %s: %s",
                    file, xe->line, what, msg);
    } else {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID, "%s: %s", file, what);
    }
}

static void xml_quiet(void *ctx, const char *msg, ...) {}

static xmlDocPtr parse_xml(const char *data, size_t len, const char *file, GError **err)
{
    if (len > MAX_FILE_BYTES) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "%s: larger than %u bytes; not a machine file", file, MAX_FILE_BYTES);
        return NULL;
    }
    xmlResetLastError();
    xmlSetGenericErrorFunc(NULL, xml_quiet);
    /* No NOENT (entities stay unexpanded), no DTDLOAD, no network. */
    xmlDocPtr doc = xmlReadMemory(data, (int)len, file, NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR |
                                  XML_PARSE_NOWARNING | XML_PARSE_NOBLANKS);
    if (!doc) {
        set_xml_error(err, file, "not well-formed XML");
        return NULL;
    }
    if (doc->intSubset || doc->extSubset) {
        xmlNodePtr dtd = (xmlNodePtr)(doc->intSubset ? doc->intSubset : doc->extSubset);
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "%s:%ld: a DOCTYPE (DTD or entities) is not allowed in a machine file",
                    file, dtd ? xmlGetLineNo(dtd) : 1L);
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

/* Elements, attributes per element and depth within the caps above;
 * iterative, so a deep document cannot exhaust the stack. */
static bool check_xml_caps(xmlDocPtr doc, const char *file, GError **err)
{
    unsigned elements = 0, depth = 0;
    xmlNodePtr n = xmlDocGetRootElement(doc);
    while (n) {
        if (n->type == XML_ELEMENT_NODE) {
            unsigned attrs = 0;
            for (xmlAttrPtr a = n->properties; a; a = a->next)
                attrs++;
            const char *what = NULL;
            unsigned limit = 0;
            if (++elements > MAX_ELEMENTS)
                what = "elements in the file", limit = MAX_ELEMENTS;
            else if (attrs > MAX_ATTRS)
                what = "attributes on one element", limit = MAX_ATTRS;
            else if (depth >= MAX_XML_DEPTH)
                what = "levels of nested elements", limit = MAX_XML_DEPTH;
            if (what) {
                g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                            "%s:%ld: more than %u %s; not a machine file", file,
                            xmlGetLineNo(n), limit, what);
                return false;
            }
            if (n->children) {
                n = n->children;
                depth++;
                continue;
            }
        }
        while (n && !n->next && depth) {
            n = n->parent;
            depth--;
        }
        n = n ? n->next : NULL;
    }
    return true;
}

/* Read a machine file: a regular file only (a FIFO would block, a device
 * never end), with the size cap checked before anything is read. */
static bool read_machine_file(const char *path, char **data, gsize *len, GError **err)
{
    int fd = g_open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0);
    if (fd < 0) {
        int e = errno;
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_NOT_FOUND, "%s: %s", path,
                    g_strerror(e));
        return false;
    }
    struct stat st;
    bool ok = false;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "%s: not a regular file; not a machine file", path);
    } else if (st.st_size > MAX_FILE_BYTES) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "%s: larger than %u bytes; not a machine file", path, MAX_FILE_BYTES);
    } else {
        /* Read at most the cap (plus one byte to see a file that grew). */
        char *buf = g_malloc(MAX_FILE_BYTES + 2);
        gsize got = 0;
        for (;;) {
            ssize_t n = read(fd, buf + got, MAX_FILE_BYTES + 1 - got);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                int e = errno;
                g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_IO, "%s: %s", path,
                            g_strerror(e));
                break;
            }
            got += (gsize)n;
            if (n == 0 || got > MAX_FILE_BYTES)
                break;
        }
        if (got > MAX_FILE_BYTES && !(err && *err))
            g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                        "%s: larger than %u bytes; not a machine file", path, MAX_FILE_BYTES);
        else if (!(err && *err))
            ok = true;
        if (ok) {
            buf[got] = 0;
            *data = buf;
            *len = got;
        } else {
            g_free(buf);
        }
    }
    close(fd);
    return ok;
}

/* ---- XML -> Conf (one file, before inheritance) ------------------------ */

static char *xml_prop(xmlNodePtr n, const char *name)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    char *s = v ? g_strdup((const char *)v) : NULL;
    xmlFree(v);
    return s;
}

static bool parse_size_attr(const char *file, int line, const char *what,
                            const char *text, uint64_t *out, GError **err)
{
    static const TessPropSpec spec = { .name = "size", .type = TESS_PROP_SIZE };
    g_autoptr(GError) e = NULL;
    if (!tess_prop_parse(&spec, text, out, &e)) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID, "%s:%d: <memory %s='%s'>: %s",
                    file, line, what, text, e->message);
        return false;
    }
    return true;
}

static ConfNode *node_from_xml(xmlNodePtr x, const char *file, const char *dir,
                               int depth, GError **err)
{
    int line = (int)xmlGetLineNo(x);
    if (depth > MAX_SLOT_DEPTH) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "%s:%d: elements nested more than %d deep", file, line, MAX_SLOT_DEPTH);
        return NULL;
    }
    ConfNode *n = node_new((const char *)x->name, file, line);
    bool is_dev = depth == 0;
    for (xmlAttrPtr a = x->properties; a; a = a->next) {
        g_autofree char *v = xml_prop(x, (const char *)a->name);
        const char *an = (const char *)a->name;
        if (is_dev && !strcmp(an, "type"))
            n->type = g_strdup(v);
        else if (is_dev && !strcmp(an, "id"))
            n->id = g_strdup(v);
        else if (is_dev && !strcmp(an, "fallback"))
            n->fallback = g_strdup(v);
        else
            node_set_attr(n, an, v ? v : "", dir, file, line);
    }
    for (xmlNodePtr c = x->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        ConfNode *child = node_from_xml(c, file, dir, depth + 1, err);
        if (!child) {
            node_free(n);
            return NULL;
        }
        g_ptr_array_add(n->children, child);
    }
    return n;
}

static Conf *conf_load(TessRegistry *reg, const char *data, size_t len,
                       const char *file, const char *dir, int depth, bool is_base,
                       GHashTable *seen, GError **err);

/* Find the base machine NAME: next to the file that names it, in
 * $TESSERA_MACHINE_PATH, then the machines built into Tessera. */
static Conf *conf_load_base(TessRegistry *reg, const char *name, const char *from_dir,
                            const char *from_file, int line, int depth,
                            GHashTable *seen, GError **err)
{
    g_autofree char *fname = g_strconcat(name, ".xml", NULL);
    g_autoptr(GPtrArray) dirs = g_ptr_array_new_with_free_func(g_free);
    if (from_dir)
        g_ptr_array_add(dirs, g_strdup(from_dir));
    const char *env = g_getenv("TESSERA_MACHINE_PATH");
    if (env) {
        g_auto(GStrv) parts = g_strsplit(env, G_SEARCHPATH_SEPARATOR_S, -1);
        for (char **p = parts; *p; p++)
            if (**p)
                g_ptr_array_add(dirs, g_strdup(*p));
    }
    for (guint i = 0; i < dirs->len; i++) {
        g_autofree char *path = g_build_filename(dirs->pdata[i], fname, NULL);
        if (!g_file_test(path, G_FILE_TEST_EXISTS))
            continue;
        g_autofree char *canon = g_canonicalize_filename(path, NULL);
        if (g_hash_table_contains(seen, canon)) {
            g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                        "%s:%d: base machine '%s' (%s) is already in the inheritance chain "
                        "(a cycle)", from_file, line, name, path);
            return NULL;
        }
        if (depth > MAX_BASE_DEPTH) {
            g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                        "%s:%d: base machines nested more than %d deep", from_file, line,
                        MAX_BASE_DEPTH);
            return NULL;
        }
        g_autofree char *data = NULL;
        gsize n;
        g_autoptr(GError) e = NULL;
        if (!read_machine_file(path, &data, &n, &e)) {
            g_set_error(err, TESS_CONFIG_ERROR, e->code, "%s:%d: base machine '%s': %s",
                        from_file, line, name, e->message);
            return NULL;
        }
        return conf_load(reg, data, n, path, dirs->pdata[i], depth, true, seen, err);
    }
    g_autofree char *rpath = g_strconcat("/tessera/machines/", fname, NULL);
    g_autoptr(GBytes) b = load_resource(rpath);
    if (b) {
        gsize n;
        const char *d = g_bytes_get_data(b, &n);
        g_autofree char *label = g_strconcat("(built-in) ", fname, NULL);
        return conf_load(reg, d, n, label, NULL, depth, true, seen, err);
    }
    g_autoptr(GPtrArray) known = tess_machine_names(from_dir);
    g_autofree char *hint = tess_did_you_mean(name, (const char *const *)known->pdata,
                                              known->len);
    g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_NOT_FOUND,
                "%s:%d: base machine '%s' not found (looked for %s next to the file, in "
                "$TESSERA_MACHINE_PATH and among the built-in machines)%s",
                from_file, line, name, fname, hint);
    return NULL;
}

static void add_names_in_dir(GPtrArray *out, const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *e;
    while (d && (e = g_dir_read_name(d)))
        if (g_str_has_suffix(e, ".xml") && strlen(e) > 4)
            g_ptr_array_add(out, g_strndup(e, strlen(e) - 4));
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

GPtrArray *tess_machine_names(const char *dir)
{
    GPtrArray *all = g_ptr_array_new_with_free_func(g_free);
    if (dir)
        add_names_in_dir(all, dir);
    const char *env = g_getenv("TESSERA_MACHINE_PATH");
    if (env) {
        g_auto(GStrv) parts = g_strsplit(env, G_SEARCHPATH_SEPARATOR_S, -1);
        for (char **p = parts; *p; p++)
            if (**p)
                add_names_in_dir(all, *p);
    }
    g_auto(GStrv) builtin = g_resources_enumerate_children("/tessera/machines/",
                                                           G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
    for (char **b = builtin; b && *b; b++)
        if (g_str_has_suffix(*b, ".xml"))
            g_ptr_array_add(all, g_strndup(*b, strlen(*b) - 4));
    g_ptr_array_sort(all, cmp_str);
    for (guint i = all->len; i-- > 1;)
        if (!strcmp(all->pdata[i], all->pdata[i - 1]))
            g_ptr_array_remove_index(all, i);
    return all;
}

static ConfNode *conf_find_device(Conf *c, const char *id, guint *index)
{
    for (guint i = 0; i < c->devices->len; i++) {
        ConfNode *d = c->devices->pdata[i];
        if (!strcmp(d->id, id)) {
            if (index)
                *index = i;
            return d;
        }
    }
    return NULL;
}

/* Overlay `src` (from the derived file) onto `dst` (from the base). */
static void node_merge(ConfNode *dst, ConfNode *src)
{
    /* Errors about the element as a whole (an unknown type, a clash at
     * realize) point at the file that last said something about it: the
     * user's, not the base machine's. */
    g_free(dst->file);
    dst->file = g_strdup(src->file);
    dst->line = src->line;
    if (src->type) {
        g_free(dst->type);
        dst->type = g_strdup(src->type);
    }
    if (src->fallback) {
        g_free(dst->fallback);
        dst->fallback = g_strdup(src->fallback);
    }
    for (guint i = 0; i < src->attrs->len; i++) {
        ConfAttr *a = src->attrs->pdata[i];
        node_set_attr(dst, a->name, a->value, a->dir, a->file, a->line);
    }
    /* Slot children given in the derived file replace the base's children
     * of the same element name. */
    for (guint i = 0; i < src->children->len; i++) {
        ConfNode *sc = src->children->pdata[i];
        for (guint k = dst->children->len; k-- > 0;) {
            ConfNode *dc = dst->children->pdata[k];
            if (!strcmp(dc->element, sc->element))
                g_ptr_array_remove_index(dst->children, k);
        }
    }
    for (guint i = 0; i < src->children->len; i++)
        g_ptr_array_add(dst->children, g_steal_pointer(&src->children->pdata[i]));
    g_ptr_array_set_size(src->children, 0);
}

static bool wire_touches(ConfWire *w, const char *id)
{
    size_t n = strlen(id);
    return (!strncmp(w->from, id, n) && w->from[n] == '.' && !strchr(w->from + n + 1, '.')) ||
           (!strncmp(w->to, id, n) && w->to[n] == '.' && !strchr(w->to + n + 1, '.'));
}

/* ---- base machines, checked once per process ---------------------------- */

/* A base machine (the built-in pc.xml, or a file next to the one naming
 * it) is parsed and checked against the schema once per process: every
 * machine file loaded and every snapshot restored names one or two, and
 * parsing and checking them again was most of building a small machine's
 * configuration (a fifth of a snapshot restore). Keyed by the file's label
 * and its whole text, so an edited file is checked afresh; only documents
 * that passed every check are kept, read-only (conf_load only reads
 * them), and at most BASE_CACHE_MAX of them. */
#define BASE_CACHE_MAX 32u

static GMutex base_lock;
static GHashTable *base_docs;   /* GBytes "label\0text" -> xmlDocPtr */

static GBytes *base_key(const char *file, const char *data, size_t len)
{
    size_t fl = strlen(file) + 1;
    char *k = g_malloc(fl + len);
    memcpy(k, file, fl);
    memcpy(k + fl, data, len);
    return g_bytes_new_take(k, fl + len);
}

static xmlDocPtr base_doc_lookup(const char *file, const char *data, size_t len)
{
    g_autoptr(GBytes) key = base_key(file, data, len);
    g_mutex_lock(&base_lock);
    xmlDocPtr doc = base_docs ? g_hash_table_lookup(base_docs, key) : NULL;
    g_mutex_unlock(&base_lock);
    return doc;
}

/* Keeps doc (checked) for later loads; false when the cache is full. */
static bool base_doc_keep(const char *file, const char *data, size_t len, xmlDocPtr doc)
{
    GBytes *key = base_key(file, data, len);
    bool kept = false;
    g_mutex_lock(&base_lock);
    if (!base_docs)
        base_docs = g_hash_table_new_full(g_bytes_hash, g_bytes_equal,
                                          (GDestroyNotify)g_bytes_unref, NULL);
    if (g_hash_table_size(base_docs) < BASE_CACHE_MAX && !g_hash_table_contains(base_docs, key)) {
        g_hash_table_insert(base_docs, key, doc);
        key = NULL;
        kept = true;
    }
    g_mutex_unlock(&base_lock);
    if (key)
        g_bytes_unref(key);
    return kept;
}

/* is_base: a base machine, whose checked document may be kept (above). */
static Conf *conf_load(TessRegistry *reg, const char *data, size_t len,
                       const char *file, const char *dir, int depth, bool is_base,
                       GHashTable *seen, GError **err)
{
    if (depth > MAX_BASE_DEPTH) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "%s: base machines nested more than %d deep", file, MAX_BASE_DEPTH);
        return NULL;
    }
    /* Keyed by canonical path: "a.xml" on the command line and the
     * same file found as a base are one file. */
    char *canon = g_canonicalize_filename(file, NULL);
    if (g_hash_table_contains(seen, canon)) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "%s: is its own base (inheritance cycle)", file);
        g_free(canon);
        return NULL;
    }
    g_hash_table_add(seen, canon);

    xmlDocPtr doc = is_base ? base_doc_lookup(file, data, len) : NULL;
    bool own = !doc;
    if (!doc) {
        doc = parse_xml(data, len, file, err);
        if (!doc)
            return NULL;
        if (!check_xml_caps(doc, file, err) || !tess_conf_validate_schema(doc, file, err)) {
            xmlFreeDoc(doc);
            return NULL;
        }
        if (is_base && base_doc_keep(file, data, len, doc))
            own = false;
    }
    xmlNodePtr root = xmlDocGetRootElement(doc);
    g_autofree char *base = xml_prop(root, "base");
    g_autoptr(Conf) c = NULL;
    if (base) {
        c = conf_load_base(reg, base, dir, file, (int)xmlGetLineNo(root), depth + 1,
                           seen, err);
        if (!c) {
            if (own)
                xmlFreeDoc(doc);
            return NULL;
        }
    } else {
        c = conf_new();
    }
    g_autofree char *name = xml_prop(root, "name");
    if (name) {
        g_free(c->name);
        c->name = g_steal_pointer(&name);
    }
    g_free(c->file);
    g_free(c->dir);
    c->file = g_strdup(file);
    c->dir = g_strdup(dir);

    bool ok = true;
    for (xmlNodePtr x = root->children; x && ok; x = x->next) {
        if (x->type != XML_ELEMENT_NODE)
            continue;
        int line = (int)xmlGetLineNo(x);
        const char *en = (const char *)x->name;
        if (!strcmp(en, "memory")) {
            g_autofree char *size = xml_prop(x, "size");
            g_autofree char *b4 = xml_prop(x, "below-4g");
            ok = parse_size_attr(file, line, "size", size, &c->mem_size, err);
            c->mem_given = true;
            g_free(c->mem_file);
            c->mem_file = g_strdup(file);
            c->mem_line = line;
            if (ok && b4) {
                ok = parse_size_attr(file, line, "below-4g", b4, &c->below_4g, err);
                c->below_given = true;
            }
        } else if (!strcmp(en, "cpu") || !strcmp(en, "device")) {
            ConfNode *n = node_from_xml(x, file, dir, 0, err);
            if (!n) {
                ok = false;
                break;
            }
            if (!strcmp(en, "cpu")) {
                g_free(n->id);
                n->id = g_strdup("cpu");
                if (c->cpu) {
                    node_merge(c->cpu, n);
                    node_free(n);
                } else {
                    c->cpu = n;
                }
                continue;
            }
            ConfNode *old = conf_find_device(c, n->id, NULL);
            if (old && old->file && !strcmp(old->file, file)) {
                g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_DUPLICATE,
                            "%s:%d: device id '%s' is already used at line %d", file,
                            line, n->id, old->line);
                node_free(n);
                ok = false;
            } else if (old) {
                node_merge(old, n);
                node_free(n);
            } else {
                g_ptr_array_add(c->devices, n);
            }
        } else if (!strcmp(en, "wire")) {
            ConfWire *w = g_new0(ConfWire, 1);
            w->from = xml_prop(x, "from");
            w->to = xml_prop(x, "to");
            g_autofree char *shared = xml_prop(x, "shared");
            w->shared = shared && !strcmp(shared, "on");
            w->file = g_strdup(file);
            w->line = line;
            g_ptr_array_add(c->wires, w);
        } else if (!strcmp(en, "remove")) {
            g_autofree char *id = xml_prop(x, "id");
            guint idx;
            if (!conf_find_device(c, id, &idx)) {
                g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_NOT_FOUND,
                            "%s:%d: <remove id='%s'>: the base machine has no such device",
                            file, line, id);
                ok = false;
            } else {
                g_ptr_array_remove_index(c->devices, idx);
                for (guint i = c->wires->len; i-- > 0;)
                    if (wire_touches(c->wires->pdata[i], id))
                        g_ptr_array_remove_index(c->wires, i);
            }
        }
    }
    if (own)
        xmlFreeDoc(doc);
    return ok ? g_steal_pointer(&c) : NULL;
}

/* ---- overrides (--set, --bios, --serial ...) --------------------------- */

void tess_override_free(TessOverride *o)
{
    if (!o)
        return;
    g_free(o->id); g_free(o->type); g_free(o->prop); g_free(o->value);
    g_free(o);
}

TessOverride *tess_override_copy(const TessOverride *o)
{
    TessOverride *c = g_new0(TessOverride, 1);
    c->id = g_strdup(o->id);
    c->type = g_strdup(o->type);
    c->first_only = o->first_only;
    c->prop = g_strdup(o->prop);
    c->value = g_strdup(o->value);
    return c;
}

TessOverride *tess_override_parse(const char *text, GError **err)
{
    const char *eq = strchr(text, '=');
    const char *dot = eq ? g_strrstr_len(text, eq - text, ".") : NULL;
    if (!eq || !dot || dot == text || dot + 1 == eq) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "--set '%s': expected ID.PROPERTY=VALUE", text);
        return NULL;
    }
    TessOverride *o = g_new0(TessOverride, 1);
    o->id = g_strndup(text, dot - text);
    o->prop = g_strndup(dot + 1, eq - dot - 1);
    o->value = g_strdup(eq + 1);
    return o;
}

static bool apply_overrides(Conf *c, const TessLoadOptions *o, GError **err)
{
    g_autofree char *cwd = g_get_current_dir();
    for (const char *const *e = o ? o->extra_devices : NULL; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        g_autofree char *type = eq ? g_strndup(*e, eq - *e) : g_strdup(*e);
        if (conf_find_device(c, eq ? eq + 1 : type, NULL))
            continue;      /* the machine file already has it */
        ConfNode *n = node_new("device", "(command line)", 0);
        n->type = g_steal_pointer(&type);
        n->id = g_strdup(eq ? eq + 1 : n->type);
        g_ptr_array_add(c->devices, n);
    }
    if (o && o->cpu_type) {
        if (!c->cpu) {
            c->cpu = node_new("cpu", "(command line)", 0);
            c->cpu->id = g_strdup("cpu");
        }
        g_free(c->cpu->type);
        c->cpu->type = g_strdup(o->cpu_type);
    }
    for (guint i = 0; o && o->overrides && i < o->overrides->len; i++) {
        TessOverride *ov = o->overrides->pdata[i];
        bool hit = false;
        for (guint k = 0; k < c->devices->len + 1; k++) {
            ConfNode *n = k < c->devices->len ? c->devices->pdata[k] : c->cpu;
            if (!n)
                continue;
            bool match = ov->id ? !strcmp(n->id, ov->id)
                                : (n->type && !strcmp(n->type, ov->type));
            if (!match)
                continue;
            node_set_attr(n, ov->prop, ov->value, cwd, "(command line)", 0);
            /* The last word on the device, as with a derived file's
             * element (node_merge): a clash at realize is the option's. */
            g_free(n->file);
            n->file = g_strdup("(command line)");
            n->line = 0;
            hit = true;
            if (ov->id || ov->first_only)
                break;
        }
        if (!hit && ov->id) {
            g_autoptr(GPtrArray) ids = g_ptr_array_new();
            for (guint k = 0; k < c->devices->len; k++)
                g_ptr_array_add(ids, ((ConfNode *)c->devices->pdata[k])->id);
            g_autofree char *hint = tess_did_you_mean(ov->id, (const char *const *)ids->pdata,
                                                      ids->len);
            g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_NOT_FOUND,
                        "--set %s.%s: the machine has no device '%s'%s", ov->id, ov->prop,
                        ov->id, hint);
            return false;
        }
        if (!hit)
            g_debug("option for %s.%s ignored: the machine has no %s device", ov->type,
                    ov->prop, ov->type);
    }
    return true;
}

/* ---- Conf -> devices ---------------------------------------------------- */

static bool conf_error(GError **err, const char *file, int line, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);
static bool conf_error(GError **err, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID, "%s:%d: %s", file, line, msg);
    return false;
}

/* "; did you mean 'X'?" among the classes of the kind wanted, else the
 * pointer to `tessera inspect`. */
static char *class_hint(TessRegistry *reg, const char *type, TessClassKind want)
{
    g_autoptr(GPtrArray) all = tess_registry_list(reg);
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    for (guint i = 0; i < all->len; i++) {
        const TessDeviceClass *c = all->pdata[i];
        if ((int)want < 0 || (c->kind == TESS_CLASS_CPU) == (want == TESS_CLASS_CPU))
            g_ptr_array_add(names, (gpointer)c->type);
    }
    const char *s = tess_suggest(type, (const char *const *)names->pdata, names->len);
    return s ? g_strdup_printf("; did you mean '%s'?", s)
             : g_strdup(" (see `tessera inspect`)");
}

/* An attribute naming no property: say which one was meant, or list them. */
static bool unknown_prop_error(GError **err, TessDevice *dev, ConfAttr *a)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    for (const TessPropSpec *q = dev->cls->props; q && q->name; q++)
        g_ptr_array_add(names, (gpointer)q->name);
    const char *s = tess_suggest(a->name, (const char *const *)names->pdata, names->len);
    if (!s) {
        g_autoptr(GError) e = NULL;
        tess_device_set_prop(dev, a->name, a->value, &e);
        return conf_error(err, a->file, a->line, "%s", e->message);
    }
    return conf_error(err, a->file, a->line, "a %s ('%s') has no property '%s'; did you mean '%s'?",
                      dev->cls->type, dev->id, a->name, s);
}

/* `lenient`: skip attributes the class has no property for (a fallback
 * CPU gets the <cpu> element written for the preferred class). */
static bool apply_attrs(TessDevice *dev, ConfNode *n, const char *skip, bool lenient,
                        GError **err)
{
    for (guint i = 0; i < n->attrs->len; i++) {
        ConfAttr *a = n->attrs->pdata[i];
        if (skip && !strcmp(a->name, skip))
            continue;
        const TessPropSpec *p = tess_device_find_prop(dev, a->name);
        if (!p && lenient) {
            g_debug("%s: '%s' has no property '%s'; ignored for the fallback", a->file,
                    dev->cls->type, a->name);
            continue;
        }
        if (!p)
            return unknown_prop_error(err, dev, a);
        g_autofree char *value = NULL;
        if (p && p->type == TESS_PROP_PATH && *a->value && !g_path_is_absolute(a->value) &&
            a->dir)
            value = g_build_filename(a->dir, a->value, NULL);
        g_autoptr(GError) e = NULL;
        if (!tess_device_set_prop(dev, a->name, value ? value : a->value, &e))
            return conf_error(err, a->file, a->line, "%s", e->message);
    }
    return true;
}

static TessDevice *instantiate(TessMachine *m, ConfNode *n, const char *type,
                               const char *id, TessClassKind want, const char *skip,
                               bool lenient, GError **err);


static bool instantiate_slots(TessMachine *m, TessDevice *dev, ConfNode *n, GError **err)
{
    GHashTable *counts = g_hash_table_new(g_str_hash, g_str_equal);
    bool ok = true;
    for (guint i = 0; i < n->children->len && ok; i++) {
        ConfNode *cn = n->children->pdata[i];
        const TessSlotSpec *s = dev->cls->slots;
        for (; s && s->element; s++)
            if (!strcmp(s->element, cn->element))
                break;
        if (!s || !s->element) {
            GString *known = g_string_new(NULL);
            for (const TessSlotSpec *k = dev->cls->slots; k && k->element; k++)
                g_string_append_printf(known, "%s<%s>", known->len ? ", " : "", k->element);
            ok = conf_error(err, cn->file, cn->line, "a %s has no <%s> slot%s%s",
                            dev->cls->type, cn->element, known->len ? "; it takes " : "",
                            known->str);
            g_string_free(known, TRUE);
            break;
        }
        unsigned max = MAX(s->max, 1u);
        unsigned idx = GPOINTER_TO_UINT(g_hash_table_lookup(counts, s->element));
        if (idx >= max) {
            ok = conf_error(err, cn->file, cn->line, "a %s takes at most %u <%s>",
                            dev->cls->type, max, s->element);
            break;
        }
        g_hash_table_insert(counts, (gpointer)s->element, GUINT_TO_POINTER(idx + 1));
        const char *tattr = s->type_attr ? s->type_attr : "type";
        const char *type = node_attr(cn, tattr);
        if (!type)
            type = s->default_type;
        if (!type) {
            ok = conf_error(err, cn->file, cn->line, "<%s> needs a %s attribute", cn->element,
                            tattr);
            break;
        }
        g_autofree char *cid = max > 1 ? g_strdup_printf("%s.%s%u", dev->id, s->element, idx)
                                       : g_strdup_printf("%s.%s", dev->id, s->element);
        TessDevice *child = instantiate(m, cn, type, cid, (TessClassKind)-1, tattr, false, err);
        if (!child) {
            ok = false;
            break;
        }
        if (s->iface && !tess_device_interface(child, s->iface)) {
            ok = conf_error(err, cn->file, cn->line,
                            "<%s %s='%s'>: a %s does not provide '%s'", cn->element, tattr,
                            type, type, s->iface);
            break;
        }
        child->priv->parent = dev;
        g_ptr_array_add(dev->priv->children, child);
        ((TessDevice **)((char *)dev + s->offset))[idx] = child;
    }
    g_hash_table_unref(counts);
    return ok;
}

static TessDevice *instantiate(TessMachine *m, ConfNode *n, const char *type,
                               const char *id, TessClassKind want, const char *skip,
                               bool lenient, GError **err)
{
    const TessDeviceClass *cls = tess_registry_lookup(m->reg, type);
    if (!cls) {
        g_autofree char *hint = class_hint(m->reg, type, want);
        conf_error(err, n->file, n->line, "unknown %s type '%s'%s",
                   want == TESS_CLASS_CPU ? "cpu" : "device", type, hint);
        return NULL;
    }
    if ((int)want >= 0 && (cls->kind == TESS_CLASS_CPU) != (want == TESS_CLASS_CPU)) {
        conf_error(err, n->file, n->line, "'%s' is %s CPU", type,
                   cls->kind == TESS_CLASS_CPU ? "a" : "not a");
        return NULL;
    }
    if (g_hash_table_contains(m->by_id, id)) {
        conf_error(err, n->file, n->line, "device id '%s' is used twice", id);
        return NULL;
    }
    TessDevice *dev = tess_device_new(m, cls, id, err);
    if (!dev)
        return NULL;
    /* Registered before its children so nothing leaks on failure: the
     * machine frees whatever it holds. */
    g_hash_table_insert(m->by_id, dev->priv->id, dev);
    g_ptr_array_add(m->devices, dev);
    /* `skip`: a slot child's class-choosing attribute is not a property. */
    if (!apply_attrs(dev, n, skip, lenient, err) || !instantiate_slots(m, dev, n, err))
        return NULL;
    /* Children must come before their parent in m->devices so that
     * realize and reset walk them first: move the parent to the end. */
    g_ptr_array_remove(m->devices, dev);
    g_ptr_array_add(m->devices, dev);
    return dev;
}

static bool split_lineref(const char *ref, char **dev, char **line)
{
    const char *dot = strrchr(ref, '.');
    if (!dot || dot == ref || !dot[1])
        return false;
    *dev = g_strndup(ref, dot - ref);
    *line = g_strdup(dot + 1);
    return true;
}

static ConfNode *conf_node_of(Conf *c, const char *id);

static bool connect_wire(TessMachine *m, Conf *c, ConfWire *w, GError **err)
{
    g_autofree char *fdev = NULL, *fline = NULL, *tdev = NULL, *tline = NULL;
    if (!split_lineref(w->from, &fdev, &fline) || !split_lineref(w->to, &tdev, &tline))
        return conf_error(err, w->file, w->line, "wire ends must be DEVICE.LINE");
    TessDevice *src = g_hash_table_lookup(m->by_id, fdev);
    TessDevice *dst = g_hash_table_lookup(m->by_id, tdev);
    if (!src || !dst)
        return conf_error(err, w->file, w->line, "wire %s -> %s: no device '%s'", w->from,
                          w->to, src ? tdev : fdev);
    TessSignal *s = tess_device_output(src, fline);
    if (!s)
        return conf_error(err, w->file, w->line, "wire %s -> %s: a %s has no output line '%s'",
                          w->from, w->to, src->cls->type, fline);
    /* Reported at the second driver's element, as a port clash is at the
     * device that claims second; the wire is named to find it by. */
    TessSignal *other = w->shared ? NULL : tess_signal_edge_clash(s, dst, tline);
    if (other) {
        ConfNode *n = conf_node_of(c, src->id);
        return conf_error(err, n ? n->file : w->file, n ? n->line : w->line,
                          "'%s' (%s) drives %s, which '%s' (%s) already drives: an "
                          "edge-triggered ISA IRQ cannot be shared (wire %s -> %s at %s:%d; "
                          "shared=\"on\" on it if the board really ORs them)",
                          src->id, src->cls->type, w->to, other->owner->id,
                          other->owner->cls->type, w->from, w->to, w->file, w->line);
    }
    g_autoptr(GError) e = NULL;
    if (!tess_signal_connect(s, dst, tline, &e))
        return conf_error(err, w->file, w->line, "wire %s -> %s: %s", w->from, w->to,
                          e->message);
    return true;
}

void tess_machine_reset(TessMachine *m)
{
    for (guint i = 0; i < m->devices->len; i++) {
        TessDevice *d = m->devices->pdata[i];
        if (d != m->cpu)
            tess_device_reset(d);
    }
    if (m->cpu)
        tess_device_reset(m->cpu);
    if (m->on_reset)
        m->on_reset(m, m->on_reset_data);
}

/* The CPU is realized first: if it cannot run here (no /dev/kvm) and the
 * file names a fallback, swap it before anything is wired to it. */
static bool realize_cpu(TessMachine *m, ConfNode *cn, GError **err)
{
    g_autoptr(GError) e = NULL;
    if (tess_device_realize(m->cpu, &e))
        return true;
    if (!cn->fallback || !strcmp(cn->fallback, m->cpu->cls->type)) {
        g_propagate_error(err, g_steal_pointer(&e));
        return false;
    }
    g_warning("cpu '%s' unavailable (%s); using fallback '%s'", m->cpu->cls->type,
              e->message, cn->fallback);
    TessDevice *old = m->cpu;
    g_hash_table_remove(m->by_id, "cpu");
    g_ptr_array_remove(m->devices, old);
    tess_device_free(old);
    m->cpu = instantiate(m, cn, cn->fallback, "cpu", TESS_CLASS_CPU, NULL, true, err);
    return m->cpu && tess_device_realize(m->cpu, err);
}

/* The element a device came from: its own, or for a slot child (id
 * "ide0.drive0") its parent's. */
static ConfNode *conf_node_of(Conf *c, const char *id)
{
    g_autofree char *cur = g_strdup(id);
    for (;;) {
        if (c->cpu && !strcmp(cur, "cpu"))
            return c->cpu;
        ConfNode *n = conf_find_device(c, cur, NULL);
        if (n)
            return n;
        char *dot = strrchr(cur, '.');
        if (!dot)
            return NULL;
        *dot = 0;
    }
}

/* validate: what `run` would refuse about files before it claimed
 * anything - an image, firmware or other required file that is missing,
 * or any path whose directory does not exist. */
static const TessDeviceClass *slot_child_class(TessRegistry *reg, const TessDeviceClass *parent,
                                               ConfNode *cn, const char **type_attr);

static void check_node_files(TessRegistry *reg, const TessDeviceClass *cls, ConfNode *n,
                             GPtrArray *errs)
{
    if (!cls)
        return;
    for (guint i = 0; i < n->attrs->len; i++) {
        ConfAttr *a = n->attrs->pdata[i];
        const TessPropSpec *p = NULL;
        for (const TessPropSpec *q = cls->props; q && q->name; q++)
            if (!strcmp(q->name, a->name))
                p = q;
        if (!p || p->type != TESS_PROP_PATH || !*a->value)
            continue;
        g_autofree char *path = g_path_is_absolute(a->value) || !a->dir
                                    ? g_strdup(a->value)
                                    : g_build_filename(a->dir, a->value, NULL);
        g_autofree char *dir = g_path_get_dirname(path);
        if ((p->flags & TESS_PROP_F_REQUIRED) && !(p->flags & TESS_PROP_F_OUTPUT) &&
            !g_file_test(path, G_FILE_TEST_EXISTS))
            g_ptr_array_add(errs, g_strdup_printf("%s:%d: %s='%s': %s: no such file", a->file,
                                                  a->line, a->name, a->value, path));
        else if (!g_file_test(dir, G_FILE_TEST_IS_DIR))
            g_ptr_array_add(errs, g_strdup_printf("%s:%d: %s='%s': no directory %s", a->file,
                                                  a->line, a->name, a->value, dir));
    }
    for (guint i = 0; i < n->children->len; i++) {
        ConfNode *cn = n->children->pdata[i];
        check_node_files(reg, slot_child_class(reg, cls, cn, NULL), cn, errs);
    }
}

/* Devices with a file error are marked broken: a dry realize of them
 * would only say the same again. */
static void check_input_files(Conf *c, TessRegistry *reg, GPtrArray *errs, GHashTable *broken)
{
    /* A CPU with a fallback runs whatever its files say. */
    if (c->cpu && c->cpu->type && !c->cpu->fallback) {
        guint before = errs->len;
        check_node_files(reg, tess_registry_lookup(reg, c->cpu->type), c->cpu, errs);
        if (errs->len > before)
            g_hash_table_add(broken, "cpu");
    }
    for (guint i = 0; i < c->devices->len; i++) {
        ConfNode *n = c->devices->pdata[i];
        guint before = errs->len;
        if (n->type)
            check_node_files(reg, tess_registry_lookup(reg, n->type), n, errs);
        if (errs->len > before && n->id)
            g_hash_table_add(broken, n->id);
    }
}

/* A realize error with the file:line of the element the device came from
 * (for a slot child, its top-level element): the one that last said
 * something about it, so the user's file rather than the base's. */
static void realize_error(Conf *c, TessDevice *dev, GError *e, GError **err)
{
    ConfNode *n = conf_node_of(c, dev->priv->id);
    if (n && !g_str_has_prefix(e->message, n->file))
        g_set_error(err, e->domain, e->code, "%s:%d: %s", n->file, n->line, e->message);
    else
        g_propagate_error(err, g_error_copy(e));
}

/* The class a slot child element names (its type attribute or the
 * slot's default), or NULL. */
static const TessDeviceClass *slot_child_class(TessRegistry *reg, const TessDeviceClass *parent,
                                               ConfNode *cn, const char **type_attr)
{
    for (const TessSlotSpec *s = parent ? parent->slots : NULL; s && s->element; s++) {
        if (strcmp(s->element, cn->element))
            continue;
        const char *tattr = s->type_attr ? s->type_attr : "type";
        if (type_attr)
            *type_attr = tattr;
        const char *type = node_attr(cn, tattr);
        return tess_registry_lookup(reg, type ? type : s->default_type ? s->default_type : "");
    }
    return NULL;
}

typedef struct {
    Conf *c;
    GPtrArray *errs;
} ClashReport;

static void report_mem_clash(TessDevice *dev, const char *msg, void *data)
{
    ClashReport *r = data;
    ConfNode *n = conf_node_of(r->c, dev->priv->id);
    g_ptr_array_add(r->errs, n ? g_strdup_printf("%s:%d: %s", n->file, n->line, msg)
                               : g_strdup(msg));
}

static TessMachine *machine_from_conf(TessRegistry *reg, Conf *c, const TessLoadOptions *o,
                                      GError **err)
{
    TessMachineOptions mo = o ? o->mopts : (TessMachineOptions){ 0 };
    g_autoptr(GError) e = NULL;
    bool dry = o && o->dry;
    /* A dry realize goes on past errors, so it always collects them. */
    g_autoptr(GPtrArray) own_errs = dry && !o->errors ? g_ptr_array_new_with_free_func(g_free)
                                                      : NULL;
    GPtrArray *errs = o && (o->no_realize || dry) ? (own_errs ? own_errs : o->errors) : NULL;
    g_autoptr(GHashTable) broken = g_hash_table_new(g_str_hash, g_str_equal);
    TessMachine *m = tess_machine_new_empty(reg, c->name ? c->name : "machine", &mo);
    m->file = g_strdup(c->file);
    m->dir = g_strdup(c->dir);
    m->dry = dry;

    /* validate builds the machine to check it, never to run it: no
     * device reads guest memory, so the page table (a leaf per 16 MiB of a
     * <memory> of up to 60 GiB) is never built. The claims and their
     * overlaps are checked on the region list all the same. */
    if (o && (o->no_realize || dry))
        tess_mem_skip_flat_view(m);
    uint64_t size = c->mem_given ? c->mem_size : 16u << 20;
    uint64_t below = c->below_given ? c->below_4g : MIN(size, 0xE0000000ull);
    if (size == 0 || below > size || below > 0xFFFFFFFFull - 0xFFFFF ||
        size > (1ull << TESS_PHYS_BITS) - (4ull << 30)) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "%s:%d: memory size %" G_GUINT64_FORMAT " with %" G_GUINT64_FORMAT
                    " below 4 GiB is not possible (1 byte to %u GiB, below-4g <= size and < 4 GiB)",
                    c->mem_file ? c->mem_file : c->file, c->mem_file ? c->mem_line : 1,
                    size, below, (1u << (TESS_PHYS_BITS - 30)) - 4);
        if (!errs)
            goto fail;
        /* validate: go on with the default size to find the rest */
        g_ptr_array_add(errs, g_strdup((*err)->message));
        g_clear_error(err);
        size = below = 16u << 20;
    }
    if (!tess_mem_create_main_ram(m, size, below, err))
        goto fail;

    /* validate: note each error and go on, so one pass reports them all;
     * a wire to a device that could not be made is not reported again. */
#define COLLECT_OR_FAIL(id_)                                                  \
    do {                                                                      \
        if (!errs)                                                            \
            goto fail;                                                        \
        g_ptr_array_add(errs, g_strdup((*err)->message));                     \
        g_clear_error(err);                                                   \
        if (id_)                                                              \
            g_hash_table_add(broken, (gpointer)(id_));                        \
    } while (0)
    if (c->cpu) {
        if (!c->cpu->type) {
            conf_error(err, c->cpu->file, c->cpu->line, "<cpu> needs a type");
            COLLECT_OR_FAIL("cpu");
        } else if (!(m->cpu = instantiate(m, c->cpu, c->cpu->type, "cpu", TESS_CLASS_CPU, NULL,
                                          false, err))) {
            COLLECT_OR_FAIL("cpu");
        } else if (!(m->cpu_ops = tess_device_interface(m->cpu, TESS_IFACE_CPU))) {
            conf_error(err, c->cpu->file, c->cpu->line, "cpu '%s' does not provide 'cpu'",
                       c->cpu->type);
            COLLECT_OR_FAIL("cpu");
        }
    }
    for (guint i = 0; i < c->devices->len; i++) {
        ConfNode *n = c->devices->pdata[i];
        if (!n->type) {
            conf_error(err, n->file, n->line, "device '%s' needs a type", n->id);
            COLLECT_OR_FAIL(n->id);
        } else if (!instantiate(m, n, n->type, n->id, TESS_CLASS_DEVICE, NULL, false, err)) {
            COLLECT_OR_FAIL(n->id);
        }
    }
    /* The CPU is realized before anything is wired to it, so a fallback
     * CPU swapped in here gets the machine's wires like any device. */
    if (errs)
        check_input_files(c, reg, errs, broken);
    if (m->cpu && !(o && o->no_realize) && !(dry && g_hash_table_contains(broken, "cpu")) &&
        !realize_cpu(m, c->cpu, err)) {
        if (!dry)
            goto fail;
        g_autoptr(GError) ce = g_steal_pointer(err);
        realize_error(c, m->cpu, ce, err);
        COLLECT_OR_FAIL("cpu");
    }
    for (guint i = 0; i < c->wires->len; i++) {
        ConfWire *w = c->wires->pdata[i];
        g_autofree char *fdev = NULL, *fline = NULL, *tdev = NULL, *tline = NULL;
        if (errs && split_lineref(w->from, &fdev, &fline) && split_lineref(w->to, &tdev, &tline) &&
            (g_hash_table_contains(broken, fdev) || g_hash_table_contains(broken, tdev)))
            continue;
        if (!connect_wire(m, c, w, err))
            COLLECT_OR_FAIL(NULL);
    }
    if (dry) {
        /* Every device claims what it would in run, against this
         * machine's maps, so overlaps and clashes show; one that cannot
         * is reported and the others go on (its claims rolled back). */
        for (guint i = 0; i < m->devices->len; i++) {
            TessDevice *dev = m->devices->pdata[i];
            ConfNode *n = conf_node_of(c, dev->priv->id);
            if (dev == m->cpu || (n && n->id && g_hash_table_contains(broken, n->id)))
                continue;
            if (!tess_device_realize(dev, &e)) {
                realize_error(c, dev, e, err);
                g_clear_error(&e);
                bool dup = false;
                for (guint k = 0; k < errs->len && !dup; k++)
                    dup = !strcmp(errs->pdata[k], (*err)->message);
                if (dup)
                    g_clear_error(err);
                else
                    COLLECT_OR_FAIL(NULL);
            }
        }
        ClashReport cr = { c, errs };
        tess_mem_find_clashes(m, report_mem_clash, &cr);
    }
#undef COLLECT_OR_FAIL
    if (errs && errs->len) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID, "%s", (char *)errs->pdata[0]);
        goto fail;
    }
    if (o && (o->no_realize || dry))
        return m;

    if (m->cpu) {
        m->cpu_ops = tess_device_interface(m->cpu, TESS_IFACE_CPU);
        tess_clock_attach_cpu(m, m->cpu, m->cpu_ops);
    }
    for (guint i = 0; o && o->device_overrides && i < o->device_overrides->len; i++) {
        TessOverride *ov = o->device_overrides->pdata[i];
        TessDevice *d = ov->id ? g_hash_table_lookup(m->by_id, ov->id) : NULL;
        if (!d) {
            g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_NOT_FOUND,
                        "%s.%s: the machine has no device '%s'", ov->id ? ov->id : "?",
                        ov->prop, ov->id ? ov->id : "?");
            goto fail;
        }
        if (!tess_device_set_prop(d, ov->prop, ov->value, err))
            goto fail;
    }
    for (guint i = 0; i < m->devices->len; i++) {
        TessDevice *dev = m->devices->pdata[i];
        if (!tess_device_realize(dev, &e)) {
            /* Port overlaps, PCI slot clashes and the like. */
            realize_error(c, dev, e, err);
            goto fail;
        }
    }
    tess_machine_reset(m);
    return m;
fail:
    tess_machine_free(m);
    return NULL;
}

static TessMachine *load_common(TessRegistry *reg, const char *data, size_t len,
                                const char *file, const char *dir,
                                const TessLoadOptions *o, GError **err)
{
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(Conf) c = conf_load(reg, data, len, file, dir, 0, false, seen, err);
    if (!c || !apply_overrides(c, o, err))
        return NULL;
    TessMachine *m = machine_from_conf(reg, c, o, err);
    if (m) {
        /* What a snapshot needs to build the same machine again. */
        m->cfg_xml = g_strndup(data, len);
        m->cfg_dir = g_strdup(dir);
        m->cfg_overrides = g_ptr_array_new_with_free_func((GDestroyNotify)tess_override_free);
        for (guint i = 0; o && o->overrides && i < o->overrides->len; i++)
            g_ptr_array_add(m->cfg_overrides, tess_override_copy(o->overrides->pdata[i]));
    }
    return m;
}

TessMachine *tess_machine_load(TessRegistry *reg, const char *path,
                               const TessLoadOptions *o, GError **err)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    if (!read_machine_file(path, &data, &len, err))
        return NULL;
    g_autofree char *abs = g_canonicalize_filename(path, NULL);
    g_autofree char *dir = g_path_get_dirname(abs);
    return load_common(reg, data, len, path, dir, o, err);
}

TessMachine *tess_machine_load_string(TessRegistry *reg, const char *xml, const char *dir,
                                      const TessLoadOptions *o, GError **err)
{
    g_autofree char *d = g_strdup(dir ? dir : ".");
    return load_common(reg, xml, strlen(xml), o && o->label ? o->label : "(string)", d, o, err);
}

/* ---- a machine after inheritance, as one file (inspect, run shortcuts) -- */

static void flatten_node(GString *out, TessRegistry *reg, const TessDeviceClass *cls,
                         ConfNode *n, int indent)
{
    g_string_append_printf(out, "%*s<!-- %s:%d -->\n%*s<%s", indent, "", n->file, n->line,
                           indent, "", n->element);
    if (n->type) {
        g_autofree char *t = g_markup_printf_escaped(" type=\"%s\"", n->type);
        g_string_append(out, t);
    }
    if (n->id && strcmp(n->element, "cpu")) {
        g_autofree char *t = g_markup_printf_escaped(" id=\"%s\"", n->id);
        g_string_append(out, t);
    }
    if (n->fallback) {
        g_autofree char *t = g_markup_printf_escaped(" fallback=\"%s\"", n->fallback);
        g_string_append(out, t);
    }
    for (guint i = 0; i < n->attrs->len; i++) {
        ConfAttr *a = n->attrs->pdata[i];
        const TessPropSpec *p = NULL;
        for (const TessPropSpec *q = cls ? cls->props : NULL; q && q->name; q++)
            if (!strcmp(q->name, a->name))
                p = q;
        g_autofree char *abs = NULL;
        if (p && p->type == TESS_PROP_PATH && *a->value && !g_path_is_absolute(a->value) &&
            a->dir)
            abs = g_build_filename(a->dir, a->value, NULL);
        g_autofree char *t = g_markup_printf_escaped(" %s=\"%s\"", a->name,
                                                     abs ? abs : a->value);
        g_string_append(out, t);
    }
    if (!n->children->len) {
        g_string_append(out, "/>\n");
        return;
    }
    g_string_append(out, ">\n");
    for (guint i = 0; i < n->children->len; i++) {
        ConfNode *cn = n->children->pdata[i];
        flatten_node(out, reg, slot_child_class(reg, cls, cn, NULL), cn, indent + 2);
    }
    g_string_append_printf(out, "%*s</%s>\n", indent, "", n->element);
}

char *tess_machine_flatten(TessRegistry *reg, const char *file_or_name, GError **err)
{
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(Conf) c = NULL;
    if (strchr(file_or_name, '/') || g_file_test(file_or_name, G_FILE_TEST_IS_REGULAR)) {
        g_autofree char *data = NULL;
        gsize len = 0;
        if (!read_machine_file(file_or_name, &data, &len, err))
            return NULL;
        g_autofree char *abs = g_canonicalize_filename(file_or_name, NULL);
        g_autofree char *dir = g_path_get_dirname(abs);
        c = conf_load(reg, data, len, file_or_name, dir, 0, false, seen, err);
    } else {
        c = conf_load_base(reg, file_or_name, NULL, "(command line)", 0, 0, seen, err);
    }
    if (!c)
        return NULL;
    GString *out = g_string_new("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    g_autofree char *head = g_markup_printf_escaped(
        "<!-- %s after inheritance (%s) -->\n<machine name=\"%s\">\n",
        c->name ? c->name : "machine", c->file, c->name ? c->name : "machine");
    g_string_append(out, head);
    uint64_t size = c->mem_given ? c->mem_size : 16u << 20;
    g_string_append_printf(out, "  <memory size=\"%" G_GUINT64_FORMAT "%s\"",
                           size % (1u << 20) ? size : size >> 20, size % (1u << 20) ? "" : "M");
    if (c->below_given)
        g_string_append_printf(out, " below-4g=\"%" G_GUINT64_FORMAT "\"", c->below_4g);
    g_string_append(out, "/>\n");
    if (c->cpu)
        flatten_node(out, reg, c->cpu->type ? tess_registry_lookup(reg, c->cpu->type) : NULL,
                     c->cpu, 2);
    for (guint i = 0; i < c->devices->len; i++) {
        ConfNode *n = c->devices->pdata[i];
        flatten_node(out, reg, n->type ? tess_registry_lookup(reg, n->type) : NULL, n, 2);
    }
    for (guint i = 0; i < c->wires->len; i++) {
        ConfWire *w = c->wires->pdata[i];
        g_autofree char *t = g_markup_printf_escaped("  <wire from=\"%s\" to=\"%s\"%s/>\n",
                                                     w->from ? w->from : "", w->to ? w->to : "",
                                                     w->shared ? " shared=\"on\"" : "");
        g_string_append(out, t);
    }
    g_string_append(out, "</machine>\n");
    return g_string_free(out, FALSE);
}
