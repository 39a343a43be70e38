/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The machine file schema (machines/machine.rng), compiled once per
 * process, and the check of a machine file against it.
 *
 * libxml2 (2.9) compiles an XSD pattern facet every time it checks a value
 * against it (xmlRelaxNGSchemaFacetCheck builds the facet, compiles its
 * regexp, checks and frees it): the schema's patterns (ident, typename,
 * size, lineref: counted repeats such as {0,63}, large automata) cost a
 * regexp compilation per attribute, most of what loading a machine cost.
 * So when the schema is compiled, each pattern-typed define that is only
 * used as the type of a named attribute of a named element is given to
 * RelaxNG as a plain string and its pattern compiled here, once, with the
 * regexp engine libxml2 uses for the facet (same syntax, same whole-value
 * match); after RelaxNG accepts a file, those attributes are matched here.
 * A pattern define used any other way stays in the schema as written.
 */
#include "core.h"
#include "config-schema.h"

#include <string.h>
#include <gio/gio.h>
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlregexp.h>

#define RNG_NS ((const xmlChar *)"http://relaxng.org/ns/structure/1.0")
#define XSD_DT ((const xmlChar *)"http://www.w3.org/2001/XMLSchema-datatypes")

typedef struct {
    char *name;                 /* the define's name */
    xmlRegexpPtr re;
    xmlNodePtr param;           /* its <param name="pattern"> in the schema */
    bool keep;                  /* used where no rule can stand for it */
} PatDef;

typedef struct {
    xmlRelaxNGPtr rng;
    GHashTable *defs;           /* name -> PatDef */
    /* "element attribute" -> PatDef: the values matched after RelaxNG */
    GHashTable *rules;
} Schema;

static void patdef_free(PatDef *d)
{
    if (d->re)
        xmlRegFreeRegexp(d->re);
    g_free(d->name);
    g_free(d);
}

static bool is_rng(xmlNodePtr n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && n->ns && xmlStrEqual(n->ns->href, RNG_NS) &&
           xmlStrEqual(n->name, (const xmlChar *)name);
}

static char *rng_attr(xmlNodePtr n, const char *name)
{
    xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
    char *s = v ? g_strdup((const char *)v) : NULL;
    xmlFree(v);
    return s;
}

/* The only element child of n, or NULL when it has none or several. */
static xmlNodePtr only_child(xmlNodePtr n)
{
    xmlNodePtr one = NULL;
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (one)
            return NULL;
        one = c;
    }
    return one;
}

/* <define name="D"><data type="string"><param name="pattern">P</param>
 * </data></define> with the XSD datatype library in effect. */
static void find_patterns(xmlNodePtr n, GHashTable *defs)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        xmlNodePtr data = is_rng(n, "define") ? only_child(n) : NULL;
        xmlNodePtr param = is_rng(data, "data") ? only_child(data) : NULL;
        g_autofree char *type = data ? rng_attr(data, "type") : NULL;
        g_autofree char *pname = param ? rng_attr(param, "name") : NULL;
        g_autofree char *name = rng_attr(n, "name");
        if (is_rng(param, "param") && !g_strcmp0(type, "string") &&
            !g_strcmp0(pname, "pattern") && name && !xmlHasProp(n, (const xmlChar *)"combine")) {
            xmlChar *lib = NULL;
            for (xmlNodePtr a = data; a && a->type == XML_ELEMENT_NODE && !lib; a = a->parent)
                lib = xmlGetNoNsProp(a, (const xmlChar *)"datatypeLibrary");
            xmlChar *pat = xmlNodeGetContent(param);
            xmlRegexpPtr re = lib && xmlStrEqual(lib, XSD_DT) && pat ? xmlRegexpCompile(pat)
                                                                     : NULL;
            xmlFree(lib);
            xmlFree(pat);
            if (re) {
                PatDef *d = g_new0(PatDef, 1);
                d->name = g_steal_pointer(&name);
                d->re = re;
                d->param = param;
                /* a second define of the name: leave both alone */
                PatDef *old = g_hash_table_lookup(defs, d->name);
                if (old) {
                    old->keep = true;
                    patdef_free(d);
                } else {
                    g_hash_table_insert(defs, d->name, d);
                }
            }
            continue;
        }
        find_patterns(n->children, defs);
    }
}

static void count_elements(xmlNodePtr n, GHashTable *count)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (is_rng(n, "element")) {
            char *name = rng_attr(n, "name");
            if (name) {
                guint c = GPOINTER_TO_UINT(g_hash_table_lookup(count, name));
                g_hash_table_insert(count, name, GUINT_TO_POINTER(c + 1));
            }
        }
        count_elements(n->children, count);
    }
}

/* Each <ref> to a pattern define: a rule when it is the whole content of
 * <attribute name="A"> inside <element name="E"> (through optional,
 * zeroOrMore, oneOrMore, interleave, group and choice only; E defined
 * once in the grammar, so that an element of that name in a valid file is
 * that one); otherwise the define keeps its pattern. */
static void find_refs(xmlNodePtr n, GHashTable *defs, GHashTable *count, GHashTable *rules)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        find_refs(n->children, defs, count, rules);
        g_autofree char *ref = is_rng(n, "ref") ? rng_attr(n, "name") : NULL;
        PatDef *d = ref ? g_hash_table_lookup(defs, ref) : NULL;
        if (!d)
            continue;
        xmlNodePtr at = n->parent;
        g_autofree char *aname = is_rng(at, "attribute") && only_child(at) == n &&
                                 !xmlHasProp(at, (const xmlChar *)"ns")
                                 ? rng_attr(at, "name") : NULL;
        xmlNodePtr el = aname ? at->parent : NULL;
        while (el && (is_rng(el, "optional") || is_rng(el, "zeroOrMore") ||
                      is_rng(el, "oneOrMore") || is_rng(el, "interleave") ||
                      is_rng(el, "group") || is_rng(el, "choice")))
            el = el->parent;
        g_autofree char *ename = is_rng(el, "element") && !xmlHasProp(el, (const xmlChar *)"ns")
                                 ? rng_attr(el, "name") : NULL;
        if (!ename || GPOINTER_TO_UINT(g_hash_table_lookup(count, ename)) != 1) {
            d->keep = true;
            continue;
        }
        char *key = g_strdup_printf("%s %s", ename, aname);
        PatDef *other = g_hash_table_lookup(rules, key);
        if (other && other != d) {
            /* one attribute, two types: RelaxNG decides */
            other->keep = d->keep = true;
            g_free(key);
        } else {
            g_hash_table_insert(rules, key, d);
        }
    }
}

static gpointer schema_compile(gpointer unused)
{
    Schema *s = g_new0(Schema, 1);
    g_autoptr(GBytes) b = g_resources_lookup_data("/tessera/machines/machine.rng",
                                                  G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
    gsize n = 0;
    const char *data = b ? g_bytes_get_data(b, &n) : NULL;
    xmlDocPtr doc = data ? xmlReadMemory(data, (int)n, "machine.rng", NULL,
                                         XML_PARSE_NONET | XML_PARSE_NOERROR |
                                         XML_PARSE_NOWARNING)
                         : NULL;
    if (!doc) {
        s->rules = g_hash_table_new(g_str_hash, g_str_equal);
        return s;
    }
    GHashTable *defs = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                             (GDestroyNotify)patdef_free);
    g_autoptr(GHashTable) count = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GHashTable *rules = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    find_patterns(root, defs);
    count_elements(root, count);
    find_refs(root, defs, count, rules);
    /* Rules only for defines given to RelaxNG as plain strings. */
    GHashTableIter it;
    gpointer key, val;
    g_hash_table_iter_init(&it, rules);
    while (g_hash_table_iter_next(&it, &key, &val))
        if (((PatDef *)val)->keep)
            g_hash_table_iter_remove(&it);
    g_hash_table_iter_init(&it, defs);
    while (g_hash_table_iter_next(&it, &key, &val)) {
        PatDef *d = val;
        if (!d->keep) {
            xmlUnlinkNode(d->param);
            xmlFreeNode(d->param);
            d->param = NULL;
        }
    }
    xmlRelaxNGParserCtxtPtr pc = xmlRelaxNGNewDocParserCtxt(doc);
    if (pc) {
        s->rng = xmlRelaxNGParse(pc);
        xmlRelaxNGFreeParserCtxt(pc);
    }
    xmlFreeDoc(doc);
    /* Both live as long as the process. */
    s->defs = defs;
    s->rules = rules;
    return s;
}

typedef struct {
    GString *first;
    int line;
    char *element;
} RngErrors;

/* libxml2's RelaxNG errors often lack file and line, and the first one
 * (the most specific text) usually has no node: keep the first text and
 * the first element that carries a line. */
static void rng_structured_error(void *data, const xmlError *e)
{
    RngErrors *r = data;
    if (!r->first->len) {
        g_autofree char *msg = g_strstrip(g_strdup(e->message ? e->message : "invalid"));
        g_string_assign(r->first, msg);
    }
    xmlNodePtr n = e->node;
    int line = e->line ? e->line : n ? (int)xmlGetLineNo(n) : 0;
    if (!r->line && line > 0) {
        r->line = line;
        if (n && n->type == XML_ELEMENT_NODE && n->name)
            r->element = g_strdup((const char *)n->name);
    }
}

/* The attributes whose pattern was taken out of the schema; iterative (a
 * file within check_xml_caps's depth cap, but no recursion needed). */
static bool check_patterns(const Schema *s, xmlDocPtr doc, const char *file, GError **err)
{
    xmlNodePtr n = xmlDocGetRootElement(doc);
    while (n) {
        if (n->type == XML_ELEMENT_NODE && !n->ns) {
            for (xmlAttrPtr a = n->properties; a; a = a->next) {
                if (a->ns)
                    continue;
                g_autofree char *key = g_strdup_printf("%s %s", n->name, a->name);
                PatDef *d = g_hash_table_lookup(s->rules, key);
                if (!d)
                    continue;
                xmlChar *v = xmlNodeGetContent((xmlNodePtr)a);
                bool ok = v && xmlRegexpExec(d->re, v) == 1;
                if (!ok) {
                    const char *val = v ? (const char *)v : "";
                    g_autofree char *shown = g_utf8_strlen(val, -1) > 64
                                             ? g_utf8_substring(val, 0, 64) : g_strdup(val);
                    g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                                "%s:%ld: <%s>: %s='%s' is not a valid %s (see machines/machine.rng)",
                                file, xmlGetLineNo(n), n->name, a->name, shown, d->name);
                }
                xmlFree(v);
                if (!ok)
                    return false;
            }
            if (n->children) {
                n = n->children;
                continue;
            }
        }
        while (n && !n->next && n->parent && n->parent->type == XML_ELEMENT_NODE)
            n = n->parent;
        n = n ? n->next : NULL;
    }
    return true;
}

bool tess_conf_validate_schema(xmlDocPtr doc, const char *file, GError **err)
{
    static GOnce once = G_ONCE_INIT;
    const Schema *s = g_once(&once, schema_compile, NULL);
    if (!s->rng) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_FAILED,
                    "the built-in machine schema failed to load");
        return false;
    }
    RngErrors r = { g_string_new(NULL) };
    xmlRelaxNGValidCtxtPtr vc = xmlRelaxNGNewValidCtxt(s->rng);
    xmlRelaxNGSetValidStructuredErrors(vc, (xmlStructuredErrorFunc)rng_structured_error, &r);
    int rc = xmlRelaxNGValidateDoc(vc, doc);
    xmlRelaxNGFreeValidCtxt(vc);
    if (rc != 0) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "%s:%d: %s%s%s%s (see machines/machine.rng)", file, r.line,
                    r.element ? "<" : "", r.element ? r.element : "", r.element ? ">: " : "",
                    r.first->len ? r.first->str : "does not match the machine schema");
    }
    g_string_free(r.first, TRUE);
    g_free(r.element);
    return rc == 0 && check_patterns(s, doc, file, err);
}
