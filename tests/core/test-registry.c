/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plugin registry accepts good plugins and refuses broken ones whole,
 * with a message naming the file and the reason, without harming others. */
#include "core.h"

#include <string.h>

static const char *plugdir;

static char *plug(const char *name)
{
    return g_strdup_printf("%s/%s.so", plugdir, name);
}

static void assert_refused(TessRegistry *reg, const char *name, int code,
                           const char *fragment)
{
    g_autofree char *path = plug(name);
    g_autoptr(GError) err = NULL;
    g_assert_false(tess_registry_load(reg, path, &err));
    g_assert_error(err, TESS_PLUGIN_ERROR, code);
    g_assert_nonnull(strstr(err->message, path));
    if (!strstr(err->message, fragment))
        g_error("'%s' lacks '%s'", err->message, fragment);
}

static void test_good(void)
{
    TessRegistry *reg = tess_registry_new();
    g_autofree char *path = plug("tp-good");
    g_autoptr(GError) err = NULL;
    g_assert_true(tess_registry_load(reg, path, &err));
    g_assert_no_error(err);
    const TessDeviceClass *c = tess_registry_lookup(reg, "tp-good-dev");
    g_assert_nonnull(c);
    g_assert_cmpstr(tess_registry_class_plugin(reg, c)->name, ==, "tp-good");
    /* Loading the same plugin twice is refused. */
    assert_refused(reg, "tp-good", TESS_ERROR_DUPLICATE, "already loaded");
    tess_registry_free(reg);
}

static void test_rejects(void)
{
    TessRegistry *reg = tess_registry_new();
    g_autofree char *major = g_strdup_printf("ABI %d.0", TESS_ABI_MAJOR + 1);
    g_autofree char *minor = g_strdup_printf("provides %d.%d", TESS_ABI_MAJOR, TESS_ABI_MINOR);
    assert_refused(reg, "tp-abi-major", TESS_ERROR_ABI, major);
    assert_refused(reg, "tp-abi-minor", TESS_ERROR_ABI, minor);
    assert_refused(reg, "tp-nosym", TESS_ERROR_LOAD, "tess_plugin_descriptor");
    assert_refused(reg, "tp-mismatch", TESS_ERROR_INVALID, "'some-other-name'");
    assert_refused(reg, "tp-undef", TESS_ERROR_LOAD, "tp_symbol_that_does_not_exist");
    assert_refused(reg, "tp-initfail", TESS_ERROR_INVALID, "widget");
    /* Nothing of a refused plugin stays registered. */
    g_assert_null(tess_registry_lookup(reg, "tp-abi-major-dev"));
    g_assert_null(tess_registry_lookup(reg, "tp-abi-minor-dev"));
    g_assert_null(tess_registry_lookup(reg, "tp-mismatch-dev"));
    g_assert_null(tess_registry_lookup(reg, "tp-initfail-dev"));
    g_assert_cmpuint(reg->plugins->len, ==, 0);
    tess_registry_free(reg);
}

static void test_duplicate_class(void)
{
    TessRegistry *reg = tess_registry_new();
    g_autofree char *good = plug("tp-good");
    g_assert_true(tess_registry_load(reg, good, NULL));
    assert_refused(reg, "tp-dup", TESS_ERROR_DUPLICATE, "tp-good.so");
    /* The class tp-dup registered before the clash was withdrawn. */
    g_assert_null(tess_registry_lookup(reg, "tp-dup-fresh"));
    /* The first owner keeps its class. */
    const TessDeviceClass *c = tess_registry_lookup(reg, "tp-good-dev");
    g_assert_cmpstr(tess_registry_class_plugin(reg, c)->name, ==, "tp-good");
    tess_registry_free(reg);
}

/* A scan loads every good plugin and records every failure. */
static void test_scan(void)
{
    TessRegistry *reg = tess_registry_new();
    /* Refusals are logged as warnings, which gtest would make fatal. */
    GLogLevelFlags old = g_log_set_always_fatal(G_LOG_FATAL_MASK);
    tess_registry_scan_dir(reg, plugdir, false);
    g_log_set_always_fatal(old);
    g_assert_nonnull(tess_registry_lookup(reg, "tp-good-dev"));
    g_assert_cmpuint(reg->plugins->len, ==, 1);
    /* abi-major, abi-minor, dup, initfail, mismatch, nosym, undef */
    g_assert_cmpuint(reg->failures->len, ==, 7);
    tess_registry_free(reg);
}

static bool bad_realize(TessDevice *d, GError **e) { return true; }
typedef struct { TessDevice dev; uint64_t x; } BadDev;

static void test_class_validation(void)
{
    static const TessPropSpec bad_default[] = {
        TESS_PROP_UINT_("x", BadDev, x, "0x100", 0, 0xFF, "byte"), TESS_PROP_END };
    static const TessDeviceClass c1 = { .type = "Bad_Name", .instance_size = sizeof(BadDev),
                                        .realize = bad_realize };
    static const TessDeviceClass c2 = { .type = "bad-default", .instance_size = sizeof(BadDev),
                                        .props = bad_default, .realize = bad_realize };
    static const TessDeviceClass c3 = { .type = "no-realize", .instance_size = sizeof(BadDev) };
    TessRegistry *reg = tess_registry_new();
    g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL;
    g_assert_false(tess_registry_add_builtin(reg, &c1, &e1));
    g_assert_nonnull(strstr(e1->message, "lower-case"));
    g_assert_false(tess_registry_add_builtin(reg, &c2, &e2));
    g_assert_nonnull(strstr(e2->message, "bad default"));
    g_assert_false(tess_registry_add_builtin(reg, &c3, &e3));
    g_assert_nonnull(strstr(e3->message, "realize"));
    tess_registry_free(reg);
}

/* Interfaces are looked up by name and minimum version (plugin ABI 2): a
 * provider of an older version is not handed to a user that needs a newer
 * one; a table without a version counts as version 1. */
static void test_iface_versions(void)
{
    static const int ops_a = 1, ops_b = 2;
    static const TessIfaceSpec provides[] = {
        { "tc-iface-a", &ops_a, 3 },
        { "tc-iface-b", &ops_b },           /* no version: 1 */
        TESS_IFACE_END,
    };
    static const TessDeviceClass cls = { .type = "tc-versioned", .instance_size = sizeof(BadDev),
                                         .provides = provides, .realize = bad_realize };
    TessRegistry *reg = tess_registry_new();
    g_assert_true(tess_registry_add_builtin(reg, &cls, NULL));
    TessMachine *m = tess_machine_new_empty(reg, "v", &(TessMachineOptions){ 0 });
    g_autoptr(GError) err = NULL;
    TessDevice *d = tess_device_new(m, &cls, "d", &err);
    g_assert_no_error(err);
    g_assert_true(tess_device_interface(d, "tc-iface-a") == &ops_a);
    g_assert_true(tess_device_interface_v(d, "tc-iface-a", 1) == &ops_a);
    g_assert_true(tess_device_interface_v(d, "tc-iface-a", 3) == &ops_a);
    g_assert_null(tess_device_interface_v(d, "tc-iface-a", 4));
    g_assert_true(tess_device_interface_v(d, "tc-iface-b", 1) == &ops_b);
    g_assert_null(tess_device_interface_v(d, "tc-iface-b", 2));
    g_assert_null(tess_device_interface_v(d, "tc-iface-c", 1));
    tess_machine_free(m);
    tess_registry_free(reg);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    plugdir = g_getenv("TP_PLUGIN_DIR");
    g_assert_nonnull(plugdir);
    g_test_add_func("/registry/good", test_good);
    g_test_add_func("/registry/rejects", test_rejects);
    g_test_add_func("/registry/duplicate-class", test_duplicate_class);
    g_test_add_func("/registry/scan", test_scan);
    g_test_add_func("/registry/class-validation", test_class_validation);
    g_test_add_func("/registry/iface-versions", test_iface_versions);
    return g_test_run();
}
