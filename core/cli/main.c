/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The `tessera` command (DESIGN.md §4).
 *
 * Exit codes: 0 clean power-off or quit; 1 guest or runtime failure;
 * 2 usage or configuration error. A guest's test-exit write of V exits
 * with (V << 1) | 1.
 */
#include "core.h"
#include "cli.h"
#include "tess-config.h"

#include <stdio.h>
#include <string.h>
#include <glib-unix.h>

static void usage(FILE *f)
{
    fputs("usage: tessera COMMAND [ARGS]\n"
          "  run [FILE.xml ...]        build and run machines (default: the pc machine)\n"
          "  inspect [TYPE]            list plugins and classes, or one class in detail\n"
          "  validate FILE.xml ...     check machine files without running them\n"
          "  ctl SOCKET [@MACHINE] COMMAND [ARGS] talk to a running machine (status, pause, resume, quit, help, set, net, capture)\n"
          "  img COMMAND [ARGS]        disk images: create, info, check, convert, commit, compact\n"
          "  snapshot info FILE        describe a snapshot (ctl SOCKET save|suspend FILE makes one)\n"
          "Run 'tessera run --help' for run options.\n",
          f);
}

/* Log handler: keep GLib's format, but let --debug pick domains. */
static void setup_debug(const char *domains)
{
    if (domains && *domains) {
        const char *old = g_getenv("G_MESSAGES_DEBUG");
        g_autofree char *v = old && *old ? g_strconcat(old, " ", domains, NULL)
                                         : g_strdup(domains);
        for (char *p = v; *p; p++)
            if (*p == ',')
                *p = ' ';
        g_setenv("G_MESSAGES_DEBUG", v, TRUE);
    }
}

static TessRegistry *load_registry(bool quiet)
{
    TessRegistry *reg = tess_registry_new();
    reg->quiet = quiet;
    tess_registry_scan_default(reg);
    return reg;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("tessera %s (plugin ABI %d.%d)\n", TESS_VERSION, TESS_ABI_MAJOR, TESS_ABI_MINOR);
        return 0;
    }
    if (!strcmp(cmd, "ctl"))
        return cli_ctl(argc - 1, argv + 1);
    if (!strcmp(cmd, "snapshot"))
        return cli_snapshot(NULL, argc - 1, argv + 1);

    /* A refused plugin is a warning for run and validate, and a line of
     * the listing for inspect. */
    int rc;
    if (!strcmp(cmd, "run") || !strcmp(cmd, "validate") || !strcmp(cmd, "inspect") ||
        !strcmp(cmd, "img")) {
        g_autofree char *debug = NULL;
        for (int i = 2; i < argc - 1; i++)
            if (!strcmp(argv[i], "--debug"))
                debug = g_strdup(argv[i + 1]);
        setup_debug(debug);
        TessRegistry *reg = load_registry(!strcmp(cmd, "inspect"));
        if (!strcmp(cmd, "run"))
            rc = cli_run(reg, argc - 1, argv + 1);
        else if (!strcmp(cmd, "validate"))
            rc = cli_validate(reg, argc - 1, argv + 1);
        else if (!strcmp(cmd, "img"))
            rc = cli_img(reg, argc - 1, argv + 1);
        else
            rc = cli_inspect(reg, argc - 1, argv + 1);
        tess_registry_free(reg);
        return rc;
    }
    fprintf(stderr, "tessera: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
