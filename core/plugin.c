/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Plugin registry: find plugin files, load them with GModule, check the
 * descriptor, run init, and keep the classes they register.
 *
 * A plugin that fails in any way (dlopen error, no descriptor, ABI
 * mismatch, name/file mismatch, init failure, duplicate class) is refused
 * whole: its classes are withdrawn and its module closed. The reason is
 * kept in reg->failures and never stops the other plugins.
 */
#include "core.h"
#include "tess-config.h"

#include <string.h>

TessRegistry *tess_registry_new(void)
{
    TessRegistry *reg = g_new0(TessRegistry, 1);
    reg->plugins = g_ptr_array_new();
    reg->classes = g_hash_table_new(g_str_hash, g_str_equal);
    reg->class_plugin = g_hash_table_new(NULL, NULL);
    reg->failures = g_ptr_array_new_with_free_func(g_free);
    return reg;
}

static void plugin_rec_free(TessPluginRec *p)
{
    if (!p)
        return;
    if (p->module)
        g_module_close(p->module);
    g_free(p->path);
    g_free(p->name);
    if (p->classes)
        g_ptr_array_unref(p->classes);
    g_free(p);
}

void tess_registry_free(TessRegistry *reg)
{
    if (!reg)
        return;
    /* Modules stay loaded until the end: machines built from their
     * classes may still be freed after the registry in odd orders, and
     * unloading code is never worth the risk at exit. */
    for (guint i = 0; i < reg->plugins->len; i++) {
        TessPluginRec *p = reg->plugins->pdata[i];
        p->module = NULL;
        plugin_rec_free(p);
    }
    g_ptr_array_unref(reg->plugins);
    g_hash_table_unref(reg->classes);
    g_hash_table_unref(reg->class_plugin);
    g_ptr_array_unref(reg->failures);
    g_free(reg);
}

static bool type_name_ok(const char *s)
{
    if (!s || !*s || !g_ascii_islower(*s))
        return false;
    for (; *s; s++)
        if (!g_ascii_islower(*s) && !g_ascii_isdigit(*s) && *s != '-')
            return false;
    return true;
}

/* Check a class table before accepting it: everything later code relies
 * on (names, defaults that parse, offsets inside the instance). */
bool tess_class_validate(const TessDeviceClass *cls, GError **err)
{
    if (!cls || !type_name_ok(cls->type)) {
        g_set_error(err, TESS_PLUGIN_ERROR, TESS_ERROR_INVALID,
                    "class type name '%s' is not lower-case-hyphen",
                    cls && cls->type ? cls->type : "(null)");
        return false;
    }
    if (cls->instance_size < sizeof(TessDevice) || !cls->realize) {
        g_set_error(err, TESS_PLUGIN_ERROR, TESS_ERROR_INVALID,
                    "class '%s': instance_size smaller than TessDevice or no realize op",
                    cls->type);
        return false;
    }
    unsigned nprops = 0;
    for (const TessPropSpec *p = cls->props; p && p->name; p++, nprops++) {
        if (nprops >= 64) {
            g_set_error(err, TESS_PLUGIN_ERROR, TESS_ERROR_INVALID,
                        "class '%s': more than 64 properties", cls->type);
            return false;
        }
        if (p->offset < sizeof(TessDevice) || p->offset >= cls->instance_size) {
            g_set_error(err, TESS_PLUGIN_ERROR, TESS_ERROR_INVALID,
                        "class '%s': property '%s' lies outside the instance",
                        cls->type, p->name);
            return false;
        }
        if (p->type == TESS_PROP_ENUM && (!p->values || !p->values[0])) {
            g_set_error(err, TESS_PLUGIN_ERROR, TESS_ERROR_INVALID,
                        "class '%s': enum property '%s' has no values", cls->type,
                        p->name);
            return false;
        }
        if (p->def) {
            /* Parse into scratch storage big enough for any type. */
            union { int64_t i; uint64_t u; bool b; int e; char *s; TessMac m; } tmp = { 0 };
            g_autoptr(GError) perr = NULL;
            if (!tess_prop_parse(p, p->def, &tmp, &perr)) {
                g_set_error(err, TESS_PLUGIN_ERROR, TESS_ERROR_INVALID,
                            "class '%s': bad default: %s", cls->type, perr->message);
                return false;
            }
            if (p->type == TESS_PROP_STRING || p->type == TESS_PROP_PATH)
                g_free(tmp.s);
        }
        for (const TessPropSpec *q = cls->props; q != p; q++) {
            if (!strcmp(q->name, p->name)) {
                g_set_error(err, TESS_PLUGIN_ERROR, TESS_ERROR_DUPLICATE,
                            "class '%s': property '%s' declared twice", cls->type,
                            p->name);
                return false;
            }
        }
    }
    for (const TessLineSpec *l = cls->lines; l && l->name; l++) {
        bool bad = l->dir == TESS_LINE_IN ? !l->set
                 : (l->offset < sizeof(TessDevice) ||
                    l->offset + sizeof(TessSignal *) * MAX(l->count, 1u) > cls->instance_size);
        if (bad) {
            g_set_error(err, TESS_PLUGIN_ERROR, TESS_ERROR_INVALID,
                        "class '%s': line '%s' has no handler or lies outside the instance",
                        cls->type, l->name);
            return false;
        }
    }
    for (const TessSlotSpec *s = cls->slots; s && s->element; s++) {
        if (s->offset < sizeof(TessDevice) ||
            s->offset + sizeof(TessDevice *) * MAX(s->max, 1u) > cls->instance_size) {
            g_set_error(err, TESS_PLUGIN_ERROR, TESS_ERROR_INVALID,
                        "class '%s': slot '%s' lies outside the instance", cls->type,
                        s->element);
            return false;
        }
    }
    return true;
}

static bool registry_add(TessRegistry *reg, TessPluginRec *owner,
                         const TessDeviceClass *cls, GError **err)
{
    if (!tess_class_validate(cls, err))
        return false;
    const TessDeviceClass *old = g_hash_table_lookup(reg->classes, cls->type);
    if (old) {
        TessPluginRec *op = g_hash_table_lookup(reg->class_plugin, old);
        g_set_error(err, TESS_PLUGIN_ERROR, TESS_ERROR_DUPLICATE,
                    "class '%s' is already registered by %s", cls->type,
                    op ? op->path : "the program itself");
        return false;
    }
    g_hash_table_insert(reg->classes, (gpointer)cls->type, (gpointer)cls);
    if (owner) {
        g_hash_table_insert(reg->class_plugin, (gpointer)cls, owner);
        g_ptr_array_add(owner->classes, (gpointer)cls);
    }
    return true;
}

bool tess_register_class(TessRegistry *reg, const TessDeviceClass *cls, GError **err)
{
    return registry_add(reg, reg->loading, cls, err);
}

bool tess_register_classes(TessRegistry *reg, const TessDeviceClass *const *classes,
                           GError **err)
{
    for (; *classes; classes++)
        if (!tess_register_class(reg, *classes, err))
            return false;
    return true;
}

bool tess_registry_add_builtin(TessRegistry *reg, const TessDeviceClass *cls,
                               GError **err)
{
    return registry_add(reg, NULL, cls, err);
}

static void withdraw_classes(TessRegistry *reg, TessPluginRec *p)
{
    for (guint i = 0; i < p->classes->len; i++) {
        const TessDeviceClass *c = p->classes->pdata[i];
        g_hash_table_remove(reg->classes, c->type);
        g_hash_table_remove(reg->class_plugin, c);
    }
    g_ptr_array_set_size(p->classes, 0);
}

static bool plugin_fail(GError **err, TessErrorCode code, const char *path,
                        const char *fmt, ...) G_GNUC_PRINTF(4, 5);
static bool plugin_fail(GError **err, TessErrorCode code, const char *path,
                        const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(err, TESS_PLUGIN_ERROR, code, "plugin %s refused: %s", path, why);
    return false;
}

bool tess_registry_load(TessRegistry *reg, const char *path, GError **err)
{
    g_autofree char *base = g_path_get_basename(path);
    if (!g_str_has_suffix(base, ".so"))
        return plugin_fail(err, TESS_ERROR_LOAD, path, "not a .so file");
    base[strlen(base) - 3] = '\0';

    for (guint i = 0; i < reg->plugins->len; i++) {
        TessPluginRec *p = reg->plugins->pdata[i];
        if (!strcmp(p->name, base))
            return plugin_fail(err, TESS_ERROR_DUPLICATE, path,
                               "a plugin named '%s' is already loaded from %s", base,
                               p->path);
    }

    /* LOCAL: plugins must not resolve each other's symbols by accident. */
    GModule *mod = g_module_open(path, G_MODULE_BIND_LOCAL);
    if (!mod)
        return plugin_fail(err, TESS_ERROR_LOAD, path, "%s", g_module_error());

    gpointer sym = NULL;
    if (!g_module_symbol(mod, TESS_PLUGIN_SYMBOL, &sym) || !sym) {
        g_module_close(mod);
        return plugin_fail(err, TESS_ERROR_LOAD, path, "no %s symbol (not a Tessera plugin?)",
                           TESS_PLUGIN_SYMBOL);
    }
    /* Everything the messages need is copied out before the module may
     * be closed: the descriptor lives inside it. */
    const TessPluginDescriptor *d = sym;
    uint32_t major = d->abi_major, minor = d->abi_minor;
    if (major != TESS_ABI_MAJOR || minor > TESS_ABI_MINOR) {
        g_module_close(mod);
        return plugin_fail(err, TESS_ERROR_ABI, path,
                           "built for plugin ABI %u.%u, this Tessera provides %u.%u "
                           "(needs the same major and a minor no newer)",
                           major, minor, TESS_ABI_MAJOR, TESS_ABI_MINOR);
    }
    if (d->struct_size < sizeof(TessPluginDescriptor)) {
        uint32_t got = d->struct_size;
        g_module_close(mod);
        return plugin_fail(err, TESS_ERROR_ABI, path,
                           "descriptor is %u bytes, expected at least %zu", got,
                           sizeof(TessPluginDescriptor));
    }
    if (!d->name || strcmp(d->name, base) || !d->init) {
        g_autofree char *claimed = g_strdup(d->name ? d->name : "(null)");
        bool has_init = d->init != NULL;
        g_module_close(mod);
        return plugin_fail(err, TESS_ERROR_INVALID, path,
                           "descriptor names the plugin '%s' but the file is '%s.so'%s",
                           claimed, base, has_init ? "" : " (and it has no init function)");
    }

    TessPluginRec *p = g_new0(TessPluginRec, 1);
    p->path = g_strdup(path);
    p->name = g_strdup(base);
    p->module = mod;
    p->desc = d;
    p->classes = g_ptr_array_new();

    g_autoptr(GError) ierr = NULL;
    reg->loading = p;
    bool ok = d->init(reg, &ierr);
    reg->loading = NULL;
    if (!ok) {
        withdraw_classes(reg, p);
        plugin_rec_free(p);
        return plugin_fail(err, ierr && ierr->code == TESS_ERROR_DUPLICATE
                                    ? TESS_ERROR_DUPLICATE : TESS_ERROR_INVALID,
                           path, "init failed: %s",
                           ierr ? ierr->message : "(no reason given)");
    }
    g_module_make_resident(mod);
    g_ptr_array_add(reg->plugins, p);
    return true;
}

static int cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void scan_dir(TessRegistry *reg, const char *dir, bool recursive, int depth)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    if (!d || depth > 6)
        return;
    /* Sorted, so load order (and which duplicate wins) is reproducible. */
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *n;
    while ((n = g_dir_read_name(d)))
        g_ptr_array_add(names, g_strdup(n));
    g_ptr_array_sort(names, cmp_str);
    for (guint i = 0; i < names->len; i++) {
        const char *name = names->pdata[i];
        g_autofree char *path = g_build_filename(dir, name, NULL);
        if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
            /* meson keeps objects in NAME.p/: not plugins. */
            if (recursive && !g_str_has_suffix(name, ".p"))
                scan_dir(reg, path, true, depth + 1);
            continue;
        }
        if (!g_str_has_suffix(name, ".so"))
            continue;
        g_autoptr(GError) err = NULL;
        if (!tess_registry_load(reg, path, &err)) {
            g_ptr_array_add(reg->failures, g_strdup(err->message));
            if (!reg->quiet)
                g_warning("%s", err->message);
        }
    }
}

void tess_registry_scan_dir(TessRegistry *reg, const char *dir, bool recursive)
{
    scan_dir(reg, dir, recursive, 0);
}

bool tess_running_from_build_tree(void)
{
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    return exe && g_str_has_prefix(exe, TESS_BUILD_ROOT "/");
}

void tess_registry_scan_default(TessRegistry *reg)
{
    if (tess_running_from_build_tree())
        tess_registry_scan_dir(reg, TESS_BUILD_ROOT "/plugins", true);
    else
        tess_registry_scan_dir(reg, TESS_PLUGINDIR, false);
    const char *extra = g_getenv("TESSERA_PLUGIN_PATH");
    if (extra) {
        g_auto(GStrv) dirs = g_strsplit(extra, G_SEARCHPATH_SEPARATOR_S, -1);
        for (char **d = dirs; *d; d++)
            if (**d)
                tess_registry_scan_dir(reg, *d, false);
    }
}

const TessDeviceClass *tess_registry_lookup(TessRegistry *reg, const char *type)
{
    return type ? g_hash_table_lookup(reg->classes, type) : NULL;
}

static int cmp_class(gconstpointer a, gconstpointer b)
{
    const TessDeviceClass *x = *(const TessDeviceClass *const *)a;
    const TessDeviceClass *y = *(const TessDeviceClass *const *)b;
    return strcmp(x->type, y->type);
}

GPtrArray *tess_registry_list(TessRegistry *reg)
{
    GPtrArray *a = g_ptr_array_new();
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, reg->classes);
    while (g_hash_table_iter_next(&it, NULL, &v))
        g_ptr_array_add(a, v);
    g_ptr_array_sort(a, cmp_class);
    return a;
}

TessPluginRec *tess_registry_class_plugin(TessRegistry *reg, const TessDeviceClass *cls)
{
    return g_hash_table_lookup(reg->class_plugin, cls);
}
