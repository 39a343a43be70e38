/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Typed properties: one parser for machine files, --set, defaults and
 * tools, so a value means the same thing wherever it is written.
 */
#include "core.h"

#include <errno.h>
#include <string.h>

static const char *const prop_type_names[] = {
    [TESS_PROP_INT] = "int",     [TESS_PROP_UINT] = "uint",
    [TESS_PROP_SIZE] = "size",   [TESS_PROP_BOOL] = "bool",
    [TESS_PROP_ENUM] = "enum",   [TESS_PROP_STRING] = "string",
    [TESS_PROP_PATH] = "path",   [TESS_PROP_MAC] = "mac",
};

const char *tess_prop_type_name(TessPropType t)
{
    return (unsigned)t < G_N_ELEMENTS(prop_type_names) ? prop_type_names[t] : "?";
}

static bool prop_fail(GError **err, const TessPropSpec *spec, const char *text,
                      const char *why)
{
    g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                "property '%s': invalid %s value '%s': %s", spec->name,
                tess_prop_type_name(spec->type), text, why);
    return false;
}

/* Unsigned integer in C notation (decimal, 0x hex, 0 octal), full-string,
 * overflow-checked. `end` receives the first unparsed char when non-NULL. */
static bool parse_u64(const char *text, uint64_t *out, const char **end)
{
    const char *p = text;
    while (*p == ' ' || *p == '\t')
        p++;
    if (!g_ascii_isdigit(*p))
        return false;
    errno = 0;
    char *e = NULL;
    guint64 v = g_ascii_strtoull(p, &e, 0);
    if (errno == ERANGE || e == p)
        return false;
    *out = v;
    if (end)
        *end = e;
    else if (*e)
        return false;
    return true;
}

static bool parse_size(const char *text, uint64_t *out, const char **why)
{
    const char *end = NULL;
    uint64_t v;
    if (!parse_u64(text, &v, &end)) {
        *why = "not a number";
        return false;
    }
    unsigned shift = 0;
    if (*end) {
        switch (g_ascii_toupper(*end)) {
        case 'K': shift = 10; break;
        case 'M': shift = 20; break;
        case 'G': shift = 30; break;
        case 'T': shift = 40; break;
        default: *why = "unknown suffix (use K, M, G or T)"; return false;
        }
        end++;
        if (*end == 'i' || *end == 'B')   /* accept 64MiB / 64MB as 64M */
            end++;
        if (*end == 'B')
            end++;
        if (*end) {
            *why = "trailing characters";
            return false;
        }
    }
    if (shift && v > (UINT64_MAX >> shift)) {
        *why = "too large";
        return false;
    }
    *out = v << shift;
    return true;
}

static bool parse_bool(const char *text, bool *out)
{
    static const char *const yes[] = { "on", "yes", "true", "1" };
    static const char *const no[] = { "off", "no", "false", "0" };
    for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
        if (!g_ascii_strcasecmp(text, yes[i])) { *out = true; return true; }
        if (!g_ascii_strcasecmp(text, no[i])) { *out = false; return true; }
    }
    return false;
}

static bool parse_mac(const char *text, TessMac *out)
{
    if (strlen(text) != 17)
        return false;
    for (int i = 0; i < 6; i++) {
        const char *p = text + i * 3;
        if (!g_ascii_isxdigit(p[0]) || !g_ascii_isxdigit(p[1]))
            return false;
        if (i < 5 && p[2] != ':' && p[2] != '-')
            return false;
        out->a[i] = (uint8_t)(g_ascii_xdigit_value(p[0]) << 4 | g_ascii_xdigit_value(p[1]));
    }
    return true;
}

bool tess_prop_parse(const TessPropSpec *spec, const char *text, void *dst,
                     GError **err)
{
    const char *why = NULL;
    switch (spec->type) {
    case TESS_PROP_INT: {
        const char *p = text;
        bool neg = false;
        while (*p == ' ')
            p++;
        if (*p == '-' || *p == '+')
            neg = *p++ == '-';
        uint64_t mag;
        if (!parse_u64(p, &mag, NULL))
            return prop_fail(err, spec, text, "not an integer");
        if ((!neg && mag > (uint64_t)INT64_MAX) ||
            (neg && mag > (uint64_t)INT64_MAX + 1))
            return prop_fail(err, spec, text, "out of the 64-bit range");
        int64_t v = neg ? (int64_t)(0 - mag) : (int64_t)mag;
        if ((spec->min || spec->max) && (v < spec->min || v > spec->max)) {
            g_autofree char *msg = g_strdup_printf("must be between %" G_GINT64_FORMAT
                                                   " and %" G_GINT64_FORMAT,
                                                   spec->min, spec->max);
            return prop_fail(err, spec, text, msg);
        }
        *(int64_t *)dst = v;
        return true;
    }
    case TESS_PROP_UINT:
    case TESS_PROP_SIZE: {
        uint64_t v;
        if (spec->type == TESS_PROP_UINT) {
            if (!parse_u64(text, &v, NULL))
                return prop_fail(err, spec, text,
                                 text[0] == '-' ? "must not be negative"
                                                : "not an unsigned integer");
        } else if (!parse_size(text, &v, &why)) {
            return prop_fail(err, spec, text, why);
        }
        if ((spec->umin || spec->umax) && (v < spec->umin || v > spec->umax)) {
            g_autofree char *msg =
                g_strdup_printf("must be between %#" G_GINT64_MODIFIER "x and %#"
                                G_GINT64_MODIFIER "x", spec->umin, spec->umax);
            return prop_fail(err, spec, text, msg);
        }
        *(uint64_t *)dst = v;
        return true;
    }
    case TESS_PROP_BOOL:
        if (!parse_bool(text, (bool *)dst))
            return prop_fail(err, spec, text, "use on/off, yes/no, true/false or 1/0");
        return true;
    case TESS_PROP_ENUM:
        for (int i = 0; spec->values && spec->values[i]; i++) {
            if (!strcmp(spec->values[i], text)) {
                *(int *)dst = i;
                return true;
            }
        }
        {
            g_autofree char *list =
                spec->values ? g_strjoinv(", ", (char **)spec->values) : g_strdup("");
            g_autofree char *msg = g_strdup_printf("expected one of: %s", list);
            return prop_fail(err, spec, text, msg);
        }
    case TESS_PROP_STRING:
    case TESS_PROP_PATH: {
        char **slot = dst;
        g_free(*slot);
        *slot = g_strdup(text);
        return true;
    }
    case TESS_PROP_MAC:
        if (!parse_mac(text, dst))
            return prop_fail(err, spec, text, "expected six hex bytes like 52:54:00:12:34:56");
        return true;
    }
    return prop_fail(err, spec, text, "unknown property type");
}

char *tess_prop_format(const TessPropSpec *spec, const void *src)
{
    switch (spec->type) {
    case TESS_PROP_INT:
        return g_strdup_printf("%" G_GINT64_FORMAT, *(const int64_t *)src);
    case TESS_PROP_UINT: {
        uint64_t v = *(const uint64_t *)src;
        return v > 9 ? g_strdup_printf("%#" G_GINT64_MODIFIER "x", v)
                     : g_strdup_printf("%" G_GUINT64_FORMAT, v);
    }
    case TESS_PROP_SIZE: {
        uint64_t v = *(const uint64_t *)src;
        static const char suffix[] = "KMGT";
        int s = -1;
        while (v && !(v & 1023) && s < 3) {
            v >>= 10;
            s++;
        }
        return s < 0 ? g_strdup_printf("%" G_GUINT64_FORMAT, v)
                     : g_strdup_printf("%" G_GUINT64_FORMAT "%c", v, suffix[s]);
    }
    case TESS_PROP_BOOL:
        return g_strdup(*(const bool *)src ? "on" : "off");
    case TESS_PROP_ENUM: {
        int i = *(const int *)src;
        for (int k = 0; spec->values && spec->values[k]; k++)
            if (k == i)
                return g_strdup(spec->values[k]);
        return g_strdup_printf("%d", i);
    }
    case TESS_PROP_STRING:
    case TESS_PROP_PATH: {
        const char *s = *(char *const *)src;
        return g_strdup(s ? s : "");
    }
    case TESS_PROP_MAC: {
        const uint8_t *a = ((const TessMac *)src)->a;
        return g_strdup_printf("%02x:%02x:%02x:%02x:%02x:%02x", a[0], a[1], a[2],
                               a[3], a[4], a[5]);
    }
    }
    return g_strdup("?");
}
