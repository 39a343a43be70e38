/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Error domains, one per area (DESIGN.md §2). */
#include "core.h"

#include <limits.h>
#include <string.h>

G_DEFINE_QUARK(tess-plugin-error-quark, tess_plugin_error)
G_DEFINE_QUARK(tess-config-error-quark, tess_config_error)
G_DEFINE_QUARK(tess-bus-error-quark, tess_bus_error)
G_DEFINE_QUARK(tess-state-error-quark, tess_state_error)
G_DEFINE_QUARK(tess-device-error-quark, tess_device_error)

/* ---- "did you mean" ------------------------------------------------------ */

/* Optimal string alignment distance (Levenshtein plus adjacent
 * transpositions), case-insensitive: "pic8529" is one step from "pic8259". */
static unsigned edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 64 || m > 64)
        return UINT_MAX;
    unsigned d[65][65];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = (unsigned)i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = (unsigned)j;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            unsigned cost = g_ascii_tolower(a[i - 1]) != g_ascii_tolower(b[j - 1]);
            unsigned v = MIN(d[i - 1][j] + 1, d[i][j - 1] + 1);
            v = MIN(v, d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                v = MIN(v, d[i - 2][j - 2] + 1);
            d[i][j] = v;
        }
    }
    return d[n][m];
}

const char *tess_suggest(const char *word, const char *const *candidates, gssize n)
{
    if (!word || !*word)
        return NULL;
    /* A third of the word, at least one and at most three edits: close
     * enough to be a typo, far enough not to suggest nonsense. */
    unsigned limit = CLAMP((unsigned)strlen(word) / 3, 1u, 3u);
    const char *best = NULL;
    unsigned best_d = UINT_MAX;
    for (gssize i = 0; n < 0 ? candidates[i] != NULL : i < n; i++) {
        const char *c = candidates[i];
        if (!c || !strcmp(c, word))
            continue;
        unsigned d = edit_distance(word, c);
        /* A prefix ("pic" for "pic8259") is a good guess too. */
        if (d > limit && strlen(word) >= 3 && g_str_has_prefix(c, word))
            d = limit;
        if (d <= limit && d < best_d) {
            best = c;
            best_d = d;
        }
    }
    return best;
}

char *tess_did_you_mean(const char *word, const char *const *candidates, gssize n)
{
    const char *s = tess_suggest(word, candidates, n);
    return s ? g_strdup_printf("; did you mean '%s'?", s) : g_strdup("");
}
