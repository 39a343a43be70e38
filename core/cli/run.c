/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tessera run: build machines, run each on its own thread, serve the
 * control socket and host I/O on the main loop. */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <glib-unix.h>

typedef struct {
    GMainLoop *loop;
    GPtrArray *machines;
    gint running;
} RunCtx;

static gboolean check_all_stopped(gpointer data)
{
    RunCtx *r = data;
    if (g_atomic_int_get(&r->running) == 0)
        g_main_loop_quit(r->loop);
    return G_SOURCE_REMOVE;
}

static void on_machine_stop(TessMachine *m, int status, void *data)
{
    RunCtx *r = data;
    g_atomic_int_add(&r->running, -1);
    g_idle_add(check_all_stopped, r);
}

static gboolean on_signal(gpointer data)
{
    RunCtx *r = data;
    for (guint i = 0; i < r->machines->len; i++)
        tess_machine_quit(r->machines->pdata[i], 0);
    return G_SOURCE_CONTINUE;
}

static GPtrArray *overrides_from_options(char **sets, const char *serial, const char *debugcon,
                                         const char *bios, GError **err)
{
    GPtrArray *ov = g_ptr_array_new_with_free_func((GDestroyNotify)tess_override_free);
    struct { const char *value, *id, *type, *prop; bool first; } shortcuts[] = {
        { bios, "bios", NULL, "file", false },
        { debugcon, NULL, "debugcon", "output", false },
        { serial, NULL, "uart16550", "chardev", true },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(shortcuts); i++) {
        if (!shortcuts[i].value)
            continue;
        TessOverride *o = g_new0(TessOverride, 1);
        o->id = g_strdup(shortcuts[i].id);
        o->type = g_strdup(shortcuts[i].type);
        o->prop = g_strdup(shortcuts[i].prop);
        o->value = g_strdup(shortcuts[i].value);
        o->first_only = shortcuts[i].first;
        g_ptr_array_add(ov, o);
    }
    for (char **s = sets; s && *s; s++) {
        TessOverride *o = tess_override_parse(*s, err);
        if (!o) {
            g_ptr_array_unref(ov);
            return NULL;
        }
        g_ptr_array_add(ov, o);
    }
    return ov;
}

int cli_run(TessRegistry *reg, int argc, char **argv)
{
    g_auto(GStrv) sets = NULL;
    g_autofree char *serial = NULL, *debugcon = NULL, *bios = NULL, *cpu = NULL;
    g_autofree char *display = NULL, *control = NULL, *restore = NULL, *debug = NULL;
    g_autofree char *suspend_file = NULL;
    g_autofree char *audio = NULL;
    gboolean deterministic = FALSE, paused = FALSE;
    gint ns_per_insn = 1;
    gint64 suspend_at = -1;
    GOptionEntry entries[] = {
        { "display", 0, 0, G_OPTION_ARG_STRING, &display, "Host display (adds the ui-NAME device)", "sdl|none" },
        { "audio", 0, 0, G_OPTION_ARG_STRING, &audio, "Sound output (default: sdl with --display sdl, else none)", "sdl|wav:FILE|none" },
        { "serial", 0, 0, G_OPTION_ARG_STRING, &serial, "First serial port's host side", "stdio|file:PATH|pty|tcp:127.0.0.1:PORT|null" },
        { "debugcon", 0, 0, G_OPTION_ARG_STRING, &debugcon, "Debug console output (ports 0xE9/0x402)", "stdio|file:PATH|null" },
        { "bios", 0, 0, G_OPTION_ARG_FILENAME, &bios, "Firmware image (sets bios.file)", "FILE" },
        { "cpu", 0, 0, G_OPTION_ARG_STRING, &cpu, "CPU plugin to use", "x86|kvm" },
        { "set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sets, "Set a device property", "ID.PROP=VALUE" },
        { "deterministic", 0, 0, G_OPTION_ARG_NONE, &deterministic, "Virtual time from instructions retired: identical runs", NULL },
        { "ns-per-insn", 0, 0, G_OPTION_ARG_INT, &ns_per_insn, "Deterministic mode: virtual ns per instruction (default 1)", "N" },
        { "paused", 0, 0, G_OPTION_ARG_NONE, &paused, "Start paused (resume with tessera ctl)", NULL },
        { "control", 0, 0, G_OPTION_ARG_FILENAME, &control, "Control socket path", "PATH" },
        { "restore", 0, 0, G_OPTION_ARG_FILENAME, &restore, "Resume from a snapshot (give --serial, --control, disk paths again as needed)", "SNAPSHOT" },
        { "suspend-at", 0, 0, G_OPTION_ARG_INT64, &suspend_at, "Suspend to --suspend-file when the CPU has retired N instructions (exact; for tests)", "N" },
        { "suspend-file", 0, 0, G_OPTION_ARG_FILENAME, &suspend_file, "Snapshot file for --suspend-at", "FILE" },
        { "debug", 0, 0, G_OPTION_ARG_STRING, &debug, "Debug log domains", "pic,ide,..." },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("[FILE.xml ...] - build and run machines");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) err = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        fprintf(stderr, "tessera run: %s\n", err->message);
        return 2;
    }
    /* --display X adds the ui device of class "ui-X" (id "display"). With
     * none and no headless ui plugin, the machine simply has no display. */
    g_autofree char *ui_type = g_strdup_printf("ui-%s", display ? display : "none");
    if (!strcmp(ui_type, "ui-none") && tess_registry_lookup(reg, "ui-headless")) {
        g_free(ui_type);
        ui_type = g_strdup("ui-headless");
    }
    g_autofree char *ui_dev = NULL;
    if (tess_registry_lookup(reg, ui_type)) {
        ui_dev = g_strdup_printf("%s=display", ui_type);
    } else if (strcmp(ui_type, "ui-none")) {
        fprintf(stderr, "tessera run: --display %s: no such display in this build\n", display);
        return 2;
    }
    /* --audio adds the sink device "audio" (audio-sdl or audio-wav). By
     * default a run in the SDL window plays through SDL, if the host can,
     * whatever the machine sounds (a machine without a sound device never
     * opens it); a headless run is silent unless asked. */
    g_autofree char *audio_dev = NULL, *audio_set = NULL;
    if (!audio && !(display && !strcmp(display, "sdl")))
        audio = g_strdup("none");
    if (!audio || !strcmp(audio, "sdl")) {
        if (tess_registry_lookup(reg, "audio-sdl")) {
            audio_dev = g_strdup("audio-sdl=audio");
            if (!audio)
                audio_set = g_strdup("audio.optional=on");
        } else if (audio) {
            fprintf(stderr, "tessera run: --audio sdl: this build has no SDL sound output\n");
            return 2;
        }
    } else if (g_str_has_prefix(audio, "wav:") && audio[4]) {
        g_autofree char *abs = g_canonicalize_filename(audio + 4, NULL);
        audio_dev = g_strdup("audio-wav=audio");
        audio_set = g_strdup_printf("audio.file=%s", abs);
    } else if (strcmp(audio, "none")) {
        fprintf(stderr, "tessera run: --audio %s: expected sdl, wav:FILE or none\n", audio);
        return 2;
    }
    const char *extra[] = { ui_dev ? ui_dev : audio_dev, ui_dev ? audio_dev : NULL, NULL };
    if (audio_set) {
        gsize n = sets ? g_strv_length(sets) : 0;
        sets = g_renew(char *, sets, n + 2);
        sets[n] = g_steal_pointer(&audio_set);
        sets[n + 1] = NULL;
    }
    if ((suspend_at >= 0) != (suspend_file != NULL)) {
        fprintf(stderr, "tessera run: --suspend-at and --suspend-file go together\n");
        return 2;
    }
    if (restore && (argc > 1 || deterministic || cpu || ns_per_insn != 1)) {
        fprintf(stderr, "tessera run: --restore takes the machine, its CPU and its time mode "
                "from the snapshot: give no machine file, --cpu, --deterministic or --ns-per-insn\n");
        return 2;
    }
    if (ns_per_insn < 1 || ns_per_insn > 1000000) {
        fprintf(stderr, "tessera run: --ns-per-insn must be between 1 and 1000000\n");
        return 2;
    }
    TessLoadOptions lo = { .mopts = { .deterministic = deterministic,
                                      .ns_per_insn = (uint32_t)ns_per_insn },
                           .cpu_type = cpu, .extra_devices = extra };
    lo.overrides = overrides_from_options(sets, serial, debugcon, bios, &err);
    if (!lo.overrides) {
        fprintf(stderr, "tessera: %s\n", err->message);
        return 2;
    }

    RunCtx r = { .loop = g_main_loop_new(NULL, FALSE),
                 .machines = g_ptr_array_new() };
    int rc = 0;
    int nfiles = argc - 1;
    for (int i = 0; i < MAX(nfiles, 1) && rc == 0; i++) {
        TessMachine *m = restore ? tess_snapshot_restore(reg, restore, &lo, &err)
            : nfiles > 0
            ? tess_machine_load(reg, argv[i + 1], &lo, &err)
            : tess_machine_load_string(reg, "<machine base=\"pc\"/>", NULL, &lo, &err);
        if (!m) {
            fprintf(stderr, "tessera: %s\n", err->message);
            rc = 2;
            break;
        }
        if (!m->cpu) {
            fprintf(stderr, "tessera: %s: the machine has no <cpu>\n", m->file ? m->file : m->name);
            tess_machine_free(m);
            rc = 2;
            break;
        }
        for (guint k = 0; k < r.machines->len; k++) {
            if (!strcmp(((TessMachine *)r.machines->pdata[k])->name, m->name)) {
                g_free(m->name);
                m->name = g_strdup_printf("%s-%d", ((TessMachine *)r.machines->pdata[k])->name, i);
            }
        }
        m->start_paused = paused;
        tess_snapshot_add_commands(m);
        if (suspend_file) {
            m->suspend_at = (uint64_t)suspend_at;
            m->suspend_path = g_strdup(suspend_file);
        }
        m->on_stop = on_machine_stop;
        m->on_stop_data = &r;
        g_ptr_array_add(r.machines, m);
    }
    g_ptr_array_unref(lo.overrides);

    TessControl *ctl = NULL;
    if (rc == 0 && control) {
        ctl = tess_control_new(control, r.machines, &err);
        if (!ctl) {
            fprintf(stderr, "tessera: %s\n", err->message);
            rc = 2;
        }
    }
    if (rc == 0) {
        guint sig1 = g_unix_signal_add(SIGINT, on_signal, &r);
        guint sig2 = g_unix_signal_add(SIGTERM, on_signal, &r);
        r.running = (gint)r.machines->len;
        for (guint i = 0; i < r.machines->len; i++)
            tess_machine_start(r.machines->pdata[i]);
        g_main_loop_run(r.loop);
        g_source_remove(sig1);
        g_source_remove(sig2);
        /* The first machine that did not end cleanly decides the status. */
        for (guint i = 0; i < r.machines->len; i++) {
            int st = tess_machine_join(r.machines->pdata[i]);
            if (st && !rc)
                rc = st;
        }
    }
    tess_control_free(ctl);
    for (guint i = 0; i < r.machines->len; i++)
        tess_machine_free(r.machines->pdata[i]);
    g_ptr_array_unref(r.machines);
    g_main_loop_unref(r.loop);
    return rc;
}

int cli_validate(TessRegistry *reg, int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: tessera validate FILE.xml ...\n");
        return 2;
    }
    int rc = 0;
    TessLoadOptions lo = { .no_realize = true };
    for (int i = 1; i < argc; i++) {
        g_autoptr(GError) err = NULL;
        TessMachine *m = tess_machine_load(reg, argv[i], &lo, &err);
        if (!m) {
            fprintf(stderr, "tessera: %s\n", err->message);
            rc = 2;
            continue;
        }
        printf("%s: ok (%u devices)\n", argv[i], m->devices->len);
        tess_machine_free(m);
    }
    return rc;
}

int cli_snapshot(TessRegistry *reg, int argc, char **argv)
{
    bool fields = argc == 4 && !strcmp(argv[2], "--fields");
    if ((argc != 3 && !fields) || strcmp(argv[1], "info")) {
        fprintf(stderr, "usage: tessera snapshot info [--fields] FILE\n");
        return 2;
    }
    g_autoptr(GError) err = NULL;
    g_autoptr(GString) out = g_string_new(NULL);
    if (!tess_snapshot_describe(argv[argc - 1], fields, out, &err)) {
        fprintf(stderr, "tessera: %s\n", err->message);
        return 2;
    }
    fputs(out->str, stdout);
    return 0;
}
