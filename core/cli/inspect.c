/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tessera inspect [TYPE]: what plugins and classes exist, read from their
 * const tables without creating anything (as gst-inspect does). */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const char *kind_name(TessClassKind k)
{
    return k == TESS_CLASS_CPU ? "cpu" : k == TESS_CLASS_BACKEND ? "backend" : "device";
}

static char *range_text(const TessPropSpec *p)
{
    switch (p->type) {
    case TESS_PROP_INT:
        if (p->min || p->max)
            return g_strdup_printf("%" G_GINT64_FORMAT "..%" G_GINT64_FORMAT, p->min, p->max);
        break;
    case TESS_PROP_UINT:
    case TESS_PROP_SIZE:
        if (p->umin || p->umax)
            return g_strdup_printf("%#" G_GINT64_MODIFIER "x..%#" G_GINT64_MODIFIER "x",
                                   p->umin, p->umax);
        break;
    case TESS_PROP_ENUM:
        return g_strjoinv("|", (char **)p->values);
    default:
        break;
    }
    return g_strdup("");
}

static void print_class(TessRegistry *reg, const TessDeviceClass *c)
{
    TessPluginRec *pl = tess_registry_class_plugin(reg, c);
    printf("%s (%s): %s\n", c->type, kind_name(c->kind), c->doc ? c->doc : "");
    if (pl)
        printf("  plugin: %s %s (%s) %s\n", pl->name, pl->desc->version, pl->desc->license,
               pl->path);
    printf("  properties:\n");
    if (!c->props || !c->props->name)
        printf("    (none)\n");
    for (const TessPropSpec *p = c->props; p && p->name; p++) {
        g_autofree char *range = range_text(p);
        printf("    %-16s %-7s default %-12s %s%s%s%s%s\n", p->name, tess_prop_type_name(p->type),
               p->def ? p->def : "-", range, *range ? "  " : "", p->doc ? p->doc : "",
               p->flags & TESS_PROP_F_RUNTIME ? " [runtime]" : "",
               p->flags & TESS_PROP_F_REQUIRED ? " [required]" : "");
    }
    if (c->lines && c->lines->name) {
        printf("  lines:\n");
        for (const TessLineSpec *l = c->lines; l->name; l++) {
            g_autofree char *name = l->count > 1 ? g_strdup_printf("%s0..%s%u", l->name, l->name,
                                                                   l->count - 1)
                                                 : g_strdup(l->name);
            printf("    %-3s %-16s %s\n", l->dir == TESS_LINE_IN ? "in" : "out", name,
                   l->doc ? l->doc : "");
        }
    }
    if (c->slots && c->slots->element) {
        printf("  slots:\n");
        for (const TessSlotSpec *s = c->slots; s->element; s++)
            printf("    <%s> x%u%s%s %s\n", s->element, MAX(s->max, 1u),
                   s->iface ? " provides " : "", s->iface ? s->iface : "", s->doc ? s->doc : "");
    }
    if (c->provides && c->provides->name) {
        printf("  provides:");
        for (const TessIfaceSpec *i = c->provides; i->name; i++)
            printf(" %s", i->name);
        printf("\n");
    }
    if (c->needs && c->needs[0]) {
        printf("  needs:");
        for (const char *const *n = c->needs; *n; n++)
            printf(" %s", *n);
        printf("\n");
    }
    if (c->state)
        printf("  state: version %u\n", c->state->version);
    else
        printf("  state: none\n");
}

static TessPluginRec *find_plugin(TessRegistry *reg, const char *name)
{
    for (guint i = 0; i < reg->plugins->len; i++) {
        TessPluginRec *p = reg->plugins->pdata[i];
        if (!strcmp(p->name, name))
            return p;
    }
    return NULL;
}

/* Not a class, plugin or machine: the nearest of all three. */
static void not_found(TessRegistry *reg, const char *what)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) all = tess_registry_list(reg);
    for (guint i = 0; i < all->len; i++)
        g_ptr_array_add(names, g_strdup(((const TessDeviceClass *)all->pdata[i])->type));
    for (guint i = 0; i < reg->plugins->len; i++)
        g_ptr_array_add(names, g_strdup(((TessPluginRec *)reg->plugins->pdata[i])->name));
    g_autoptr(GPtrArray) machines = tess_machine_names(NULL);
    for (guint i = 0; i < machines->len; i++)
        g_ptr_array_add(names, g_strdup(machines->pdata[i]));
    g_autofree char *hint = tess_did_you_mean(what, (const char *const *)names->pdata,
                                              names->len);
    fprintf(stderr, "tessera inspect: no class, plugin or machine '%s'%s\n", what, hint);
}

int cli_inspect(TessRegistry *reg, int argc, char **argv)
{
    GOptionEntry entries[] = { cli_debug_entry[0], { NULL } };
    g_autoptr(GOptionContext) ctx = g_option_context_new(
        "[CLASS|PLUGIN|MACHINE|FILE.xml] - describe what Tessera can build");
    g_option_context_set_summary(ctx,
        "Without an argument: every plugin and class, then every class in detail.\n"
        "CLASS: its properties (type, default, range, doc), lines, slots, interfaces\n"
        "and state version. PLUGIN: the plugin and each of its classes. MACHINE (a\n"
        "machine name such as pc, or a machine file): the machine after inheritance,\n"
        "as one machine file, each element with the file:line it comes from.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) err = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        fprintf(stderr, "tessera inspect: %s (see tessera inspect --help)\n", err->message);
        return 2;
    }
    if (argc > 2) {
        fprintf(stderr, "usage: tessera inspect [CLASS|PLUGIN|MACHINE|FILE.xml]\n");
        return 2;
    }
    if (argc == 2) {
        const char *what = argv[1];
        const TessDeviceClass *c = strchr(what, '/') ? NULL : tess_registry_lookup(reg, what);
        if (c) {
            print_class(reg, c);
            return 0;
        }
        TessPluginRec *pl = strchr(what, '/') ? NULL : find_plugin(reg, what);
        if (pl) {
            printf("plugin %s %s (%s): %s\n  file: %s\n\n", pl->name, pl->desc->version,
                   pl->desc->license, pl->desc->description ? pl->desc->description : "",
                   pl->path);
            for (guint k = 0; k < pl->classes->len; k++) {
                print_class(reg, pl->classes->pdata[k]);
                printf("\n");
            }
            return 0;
        }
        g_autoptr(GPtrArray) machines = tess_machine_names(NULL);
        bool is_machine = strchr(what, '/') || g_str_has_suffix(what, ".xml");
        for (guint i = 0; i < machines->len && !is_machine; i++)
            is_machine = !strcmp(machines->pdata[i], what);
        if (!is_machine) {
            not_found(reg, what);
            return 2;
        }
        g_autofree char *flat = tess_machine_flatten(reg, what, &err);
        if (!flat) {
            fprintf(stderr, "tessera: %s\n", err->message);
            return 2;
        }
        fputs(flat, stdout);
        return 0;
    }
    for (guint i = 0; i < reg->plugins->len; i++) {
        TessPluginRec *p = reg->plugins->pdata[i];
        printf("plugin %s %s (%s): %s\n", p->name, p->desc->version, p->desc->license,
               p->desc->description ? p->desc->description : "");
        for (guint k = 0; k < p->classes->len; k++) {
            const TessDeviceClass *c = p->classes->pdata[k];
            printf("  %-18s %-8s %s\n", c->type, kind_name(c->kind), c->doc ? c->doc : "");
        }
    }
    for (guint i = 0; i < reg->failures->len; i++)
        printf("%s\n", (char *)reg->failures->pdata[i]);
    printf("\n");
    g_autoptr(GPtrArray) all = tess_registry_list(reg);
    for (guint i = 0; i < all->len; i++) {
        print_class(reg, all->pdata[i]);
        printf("\n");
    }
    return 0;
}
