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

static const struct {
    const char *name, *summary;
} commands[] = {
    { "run", "build and run machines: a machine file, an ISO or a disk image" },
    { "inspect", "plugins and classes, one class, plugin or machine in detail" },
    { "validate", "check machine files without running them, every error at once" },
    { "ctl", "talk to a running machine through its control socket" },
    { "img", "disk images: create, info, check, convert, commit, compact, resize" },
    { "snapshot", "describe a snapshot (ctl SOCKET save|suspend FILE makes one)" },
};

/* The log domains (G_LOG_DOMAIN) a debugging user asks for, with the
 * plugin each belongs to: `--debug pic8259` means `--debug pic`. */
static const struct {
    const char *domain, *plugin, *what;
} log_domains[] = {
    { "x86", "x86", "the x86 interpreter" },
    { "kvm", "kvm", "KVM: exits, memory slots" },
    { "pic", "pic8259", "8259 PICs: ICW/OCW writes, IRQ raise/lower, INTA vectors" },
    { "pit", "pit8254", "8254 PIT: modes and counts" },
    { "i8042", "i8042", "8042 keyboard controller: commands, data, PS/2 devices" },
    { "ide", "ide", "IDE/ATAPI: task-file commands, DMA, errors" },
    { "i440fx", "i440fx", "i440FX host bridge: PCI configuration space, BARs, PAM" },
    { "piix3", "piix3", "PIIX3: PIRQ routing, ELCR, port 0x92" },
    { "acpi-pm", "acpi-pm", "ACPI power management: PM1, SCI" },
    { "fw-cfg", "fw-cfg", "fw-cfg: file selection and DMA" },
    { "rtc", "rtc-cmos", "MC146818 RTC and CMOS" },
    { "dma", "dma8237", "8237 DMA controllers" },
    { "vga", "vga", "VGA and VBE registers, rendering" },
    { "dec21041", "dec21041", "DEC 21041 NIC: CSRs, descriptor rings, SROM" },
    { "sb16", "sb16", "Sound Blaster 16: DSP, mixer, OPL3, MPU-401" },
    { "speaker", "pc-speaker", "PC speaker" },
    { "gameport", "gameport", "game port" },
    { "post", "post", "POST codes written to port 0x80" },
    { "bios-rom", "bios-rom", "firmware image loading" },
    { "port92", "port92", "port 0x92 (fast A20, reset)" },
    { "uart16550", "uart16550", "16550 UART" },
    { "lpt", "lpt", "parallel port" },
    { "ui-sdl", "ui-sdl", "the SDL window: keys, mouse grab, game controllers" },
    { "ui-headless", "ui-headless", "the headless display" },
    { "audio-sdl", "audio-sdl", "SDL sound output" },
    { "audio-wav", "audio-wav", "WAV sound output" },
};

static void usage(FILE *f)
{
    fputs("usage: tessera [--version] [--debug DOMAINS] COMMAND [ARGS]\n\nCommands:\n", f);
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("\nRun 'tessera COMMAND --help' for a command's options, 'man tessera' for more.\n"
          "Quick start: tessera run debian.iso --disk disk.vhd,undo=commit --net shared\n", f);
}

static char *debug_value;

const GOptionEntry cli_debug_entry[] = {
    { "debug", 0, 0, G_OPTION_ARG_STRING, &debug_value,
      "Debug log of these domains ('help' lists them, 'all')", "DOMAIN,..." },
    { NULL },
};

static void list_domains(void)
{
    printf("Log domains for --debug (comma-separated; a plugin's name works too;\n"
           "'all' for every one, the core's own messages included):\n");
    for (size_t i = 0; i < G_N_ELEMENTS(log_domains); i++)
        printf("  %-12s %s%s%s%s\n", log_domains[i].domain, log_domains[i].what,
               log_domains[i].plugin && strcmp(log_domains[i].plugin, log_domains[i].domain)
                   ? " (plugin " : "",
               log_domains[i].plugin && strcmp(log_domains[i].plugin, log_domains[i].domain)
                   ? log_domains[i].plugin : "",
               log_domains[i].plugin && strcmp(log_domains[i].plugin, log_domains[i].domain)
                   ? ")" : "");
}

bool cli_setup_debug(const char *domains)
{
    if (!domains || !*domains)
        return true;
    g_auto(GStrv) parts = g_strsplit_set(domains, ", ", -1);
    GString *v = g_string_new(g_getenv("G_MESSAGES_DEBUG"));
    for (char **p = parts; *p; p++) {
        if (!**p)
            continue;
        if (!strcmp(*p, "help")) {
            list_domains();
            g_string_free(v, TRUE);
            return false;
        }
        const char *d = *p;
        bool known = !strcmp(d, "all");
        for (size_t i = 0; i < G_N_ELEMENTS(log_domains) && !known; i++) {
            if (log_domains[i].plugin && !strcmp(d, log_domains[i].plugin))
                d = log_domains[i].domain;
            known = !strcmp(d, log_domains[i].domain);
        }
        if (!known) {
            /* Other plugins' domains work too; a typo is worth a word. */
            const char *names[G_N_ELEMENTS(log_domains) + 1];
            for (size_t i = 0; i < G_N_ELEMENTS(log_domains); i++)
                names[i] = log_domains[i].domain;
            names[G_N_ELEMENTS(log_domains)] = NULL;
            g_autofree char *hint = tess_did_you_mean(d, names, -1);
            fprintf(stderr, "tessera: --debug %s: not a known log domain%s "
                    "(--debug help lists them)\n", d, hint);
        }
        g_string_append_printf(v, "%s%s", v->len ? " " : "", d);
    }
    g_setenv("G_MESSAGES_DEBUG", v->str, TRUE);
    g_string_free(v, TRUE);
    return true;
}

static TessRegistry *load_registry(bool quiet)
{
    TessRegistry *reg = tess_registry_new();
    reg->quiet = quiet;
    tess_registry_scan_default(reg);
    return reg;
}

/* --debug is applied before plugins load (they log while registering),
 * wherever it stands on the command line: --debug X or --debug=X. */
static const char *find_debug(int argc, char **argv)
{
    const char *v = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (!strcmp(argv[i], "--debug") && i + 1 < argc)
            v = argv[++i];
        else if (g_str_has_prefix(argv[i], "--debug="))
            v = argv[i] + 8;
    }
    return v;
}

int main(int argc, char **argv)
{
    gboolean version = FALSE;
    GOptionEntry entries[] = {
        { "version", 'V', 0, G_OPTION_ARG_NONE, &version, "Print the version and the plugin ABI", NULL },
        cli_debug_entry[0],
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("COMMAND [ARGS] - a PC emulator built from plugins");
    GString *desc = g_string_new("Commands:\n");
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
        g_string_append_printf(desc, "  %-10s %s\n", commands[i].name, commands[i].summary);
    g_string_append(desc, "\nRun 'tessera COMMAND --help' for a command's options.");
    g_option_context_set_description(ctx, desc->str);
    g_string_free(desc, TRUE);
    g_option_context_add_main_entries(ctx, entries, NULL);
    /* Options up to the command are the dispatcher's; the rest are the
     * command's own. */
    g_option_context_set_strict_posix(ctx, TRUE);
    g_autoptr(GError) err = NULL;
    const char *debug = find_debug(argc, argv);
    g_autofree char *debug_copy = g_strdup(debug);
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        fprintf(stderr, "tessera: %s\n", err->message);
        usage(stderr);
        return 2;
    }
    g_clear_pointer(&debug_value, g_free);
    if (version) {
        printf("tessera %s (plugin ABI %d.%d)\n", TESS_VERSION, TESS_ABI_MAJOR, TESS_ABI_MINOR);
        return 0;
    }
    if (!cli_setup_debug(debug_copy))
        return 0;
    if (argc < 2) {
        if (debug_copy)
            return 0;
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "help")) {
        if (argc < 3) {
            usage(stdout);
            return 0;
        }
        /* `tessera help run` is `tessera run --help`. */
        char *hargv[] = { argv[0], argv[2], (char *)"--help", NULL };
        argv = hargv;
        argc = 3;
        cmd = argv[1];
    }

    /* Each command's --help names it: "Usage: tessera run [OPTION...]". */
    g_autofree char *prgname = g_strdup_printf("tessera %s", cmd);
    g_set_prgname(prgname);

    int rc;
    if (!strcmp(cmd, "ctl")) {
        rc = cli_ctl(argc - 1, argv + 1);
    } else if (!strcmp(cmd, "snapshot")) {
        rc = cli_snapshot(NULL, argc - 1, argv + 1);
    } else if (!strcmp(cmd, "run") || !strcmp(cmd, "validate") || !strcmp(cmd, "inspect") ||
               !strcmp(cmd, "img")) {
        /* A refused plugin is a warning for run and validate, and a line
         * of the listing for inspect. */
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
    } else {
        const char *names[G_N_ELEMENTS(commands) + 1];
        for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
            names[i] = commands[i].name;
        names[G_N_ELEMENTS(commands)] = NULL;
        g_autofree char *hint = tess_did_you_mean(cmd, names, -1);
        fprintf(stderr, "tessera: unknown command '%s'%s\n", cmd, hint);
        usage(stderr);
        return 2;
    }
    g_clear_pointer(&debug_value, g_free);
    return rc;
}
