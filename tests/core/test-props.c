/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Property parsing: every type, good values, bad values and their messages. */
#include "core.h"

#include <string.h>

typedef struct {
    TessDevice dev;
    int64_t i;
    uint64_t u, sz;
    bool b;
    int e;
    char *s;
    TessMac mac;
} P;

static const char *const colours[] = { "red", "green", "blue", NULL };
static const TessPropSpec pi = TESS_PROP_INT_("i", P, i, "0", -5, 5, "int");
static const TessPropSpec piu = TESS_PROP_INT_("iu", P, i, "0", 0, 0, "unbounded int");
static const TessPropSpec pu = TESS_PROP_UINT_("u", P, u, "0", 0, 0xFFFF, "port");
static const TessPropSpec puu = TESS_PROP_UINT_("uu", P, u, "0", 0, 0, "unbounded");
static const TessPropSpec psz = TESS_PROP_SIZE_("sz", P, sz, "0", 0, 0, "size");
static const TessPropSpec pb = TESS_PROP_BOOL_("b", P, b, "off", "bool");
static const TessPropSpec pe = TESS_PROP_ENUM_("e", P, e, "red", colours, "enum");
static const TessPropSpec pm = TESS_PROP_MAC_("mac", P, mac, NULL, "mac");

static void expect_error(const TessPropSpec *spec, const char *text, const char *fragment)
{
    union { int64_t i; uint64_t u; bool b; int e; TessMac m; } dst = { 0 };
    g_autoptr(GError) err = NULL;
    g_assert_false(tess_prop_parse(spec, text, &dst, &err));
    g_assert_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID);
    /* Every message names the property and quotes the bad text. */
    g_autofree char *name = g_strdup_printf("'%s'", spec->name);
    g_autofree char *quoted = g_strdup_printf("'%s'", text);
    g_assert_nonnull(strstr(err->message, name));
    g_assert_nonnull(strstr(err->message, quoted));
    if (fragment && !strstr(err->message, fragment))
        g_error("message '%s' lacks '%s'", err->message, fragment);
}

static void test_int(void)
{
    int64_t v = 99;
    g_assert_true(tess_prop_parse(&pi, "-5", &v, NULL));
    g_assert_cmpint(v, ==, -5);
    g_assert_true(tess_prop_parse(&pi, "0x5", &v, NULL));
    g_assert_cmpint(v, ==, 5);
    g_assert_true(tess_prop_parse(&piu, "-9223372036854775808", &v, NULL));
    g_assert_cmpint(v, ==, INT64_MIN);
    g_assert_true(tess_prop_parse(&piu, "9223372036854775807", &v, NULL));
    g_assert_cmpint(v, ==, INT64_MAX);
    expect_error(&pi, "6", "between -5 and 5");
    expect_error(&pi, "-6", "between -5 and 5");
    expect_error(&pi, "five", "not an integer");
    expect_error(&pi, "", NULL);
    expect_error(&pi, "3x", NULL);
    expect_error(&piu, "9223372036854775808", "range");
    expect_error(&piu, "99999999999999999999999999", NULL);
}

static void test_uint(void)
{
    uint64_t v = 0;
    g_assert_true(tess_prop_parse(&pu, "0x3f8", &v, NULL));
    g_assert_cmpuint(v, ==, 0x3F8);
    g_assert_true(tess_prop_parse(&pu, "1016", &v, NULL));
    g_assert_cmpuint(v, ==, 1016);
    g_assert_true(tess_prop_parse(&puu, "18446744073709551615", &v, NULL));
    g_assert_cmpuint(v, ==, UINT64_MAX);
    expect_error(&pu, "0x10000", "between");
    expect_error(&pu, "-1", "negative");
    expect_error(&puu, "18446744073709551616", NULL);
    expect_error(&pu, "0x", NULL);
}

static void test_size(void)
{
    uint64_t v = 0;
    g_assert_true(tess_prop_parse(&psz, "64M", &v, NULL));
    g_assert_cmpuint(v, ==, 64u << 20);
    g_assert_true(tess_prop_parse(&psz, "2G", &v, NULL));
    g_assert_cmpuint(v, ==, 2ull << 30);
    g_assert_true(tess_prop_parse(&psz, "512k", &v, NULL));
    g_assert_cmpuint(v, ==, 512u << 10);
    g_assert_true(tess_prop_parse(&psz, "3T", &v, NULL));
    g_assert_cmpuint(v, ==, 3ull << 40);
    g_assert_true(tess_prop_parse(&psz, "4096", &v, NULL));
    g_assert_cmpuint(v, ==, 4096);
    g_assert_true(tess_prop_parse(&psz, "1MiB", &v, NULL));
    g_assert_cmpuint(v, ==, 1u << 20);
    expect_error(&psz, "64Q", "suffix");
    expect_error(&psz, "99999999999T", "too large");
    expect_error(&psz, "M", NULL);
    expect_error(&psz, "64MX", "trailing");
}

static void test_bool_enum_mac(void)
{
    bool b = false;
    g_assert_true(tess_prop_parse(&pb, "yes", &b, NULL));
    g_assert_true(b);
    g_assert_true(tess_prop_parse(&pb, "OFF", &b, NULL));
    g_assert_false(b);
    expect_error(&pb, "maybe", "on/off");
    int e = 0;
    g_assert_true(tess_prop_parse(&pe, "blue", &e, NULL));
    g_assert_cmpint(e, ==, 2);
    expect_error(&pe, "purple", "red, green, blue");
    TessMac m;
    g_assert_true(tess_prop_parse(&pm, "52:54:00:12:34:5f", &m, NULL));
    g_assert_cmpuint(m.a[0], ==, 0x52);
    g_assert_cmpuint(m.a[5], ==, 0x5F);
    expect_error(&pm, "52:54:00:12:34", NULL);
    expect_error(&pm, "52:54:00:12:34:zz", NULL);
}

static void test_format_roundtrip(void)
{
    const TessPropSpec *specs[] = { &pi, &pu, &psz, &pb, &pe, &pm };
    const char *texts[] = { "-3", "0x3f8", "64M", "on", "green", "52:54:00:12:34:56" };
    for (size_t k = 0; k < G_N_ELEMENTS(specs); k++) {
        union { int64_t i; uint64_t u; bool b; int e; TessMac m; } a = { 0 }, b = { 0 };
        g_assert_true(tess_prop_parse(specs[k], texts[k], &a, NULL));
        g_autofree char *s = tess_prop_format(specs[k], &a);
        g_assert_cmpstr(s, ==, texts[k]);
        g_assert_true(tess_prop_parse(specs[k], s, &b, NULL));
        g_assert_cmpmem(&a, sizeof a, &b, sizeof b);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/props/int", test_int);
    g_test_add_func("/props/uint", test_uint);
    g_test_add_func("/props/size", test_size);
    g_test_add_func("/props/bool-enum-mac", test_bool_enum_mac);
    g_test_add_func("/props/format-roundtrip", test_format_roundtrip);
    return g_test_run();
}
