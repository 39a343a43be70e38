/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tessera run: build machines, run each on its own thread, serve the
 * control socket and host I/O on the main loop. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <glib-unix.h>
#include <unistd.h>

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

/* --ready-fd N: the descriptor a supervisor or a test blocks on, as with
 * sd_notify's READY=1 or QEMU's -daemonize pipe. It is marked close-on-exec
 * at once, so nothing the run starts holds it open and the reader's EOF
 * comes exactly when this process closes it. */
static bool ready_fd_take(gint fd)
{
    if (fd < 3) {
        fprintf(stderr, "tessera run: --ready-fd %d: give a descriptor of 3 or more "
                "(0-2 are the terminal's)\n", fd);
        return false;
    }
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) {
        fprintf(stderr, "tessera run: --ready-fd %d: %s\n", fd, g_strerror(errno));
        return false;
    }
    return true;
}

/* "READY\n", then close. A reader that has gone away must not kill the
 * run with SIGPIPE: it is held off in this thread (where a write to a pipe
 * raises it) and taken back before the mask is restored. */
static void ready_fd_signal(int *fd)
{
    if (*fd < 0)
        return;
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    static const char msg[] = "READY\n";
    ssize_t n;
    do
        n = write(*fd, msg, sizeof(msg) - 1);
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EPIPE) {
        const struct timespec zero = { 0, 0 };
        sigtimedwait(&pipe_set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(*fd);
    *fd = -1;
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

/* --qmp PATH, or as QEMU's -qmp takes it: unix:PATH[,server][,nowait]
 * [,wait=off] (the socket is always a server that does not wait). */
static char *qmp_socket_path(const char *arg, GError **err)
{
    if (g_str_has_prefix(arg, "tcp:") || g_str_has_prefix(arg, "stdio") || !*arg) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "--qmp '%s': give a Unix socket path (PATH or unix:PATH,server,wait=off)",
                    arg);
        return NULL;
    }
    if (!g_str_has_prefix(arg, "unix:"))
        return g_strdup(arg);
    g_auto(GStrv) parts = g_strsplit(arg + 5, ",", -1);
    for (char **p = parts + 1; *p; p++) {
        if (strcmp(*p, "server") && strcmp(*p, "server=on") && strcmp(*p, "nowait") &&
            strcmp(*p, "wait=off")) {
            g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                        "--qmp %s: '%s' is not an option here (unix:PATH[,server][,wait=off])",
                        arg, *p);
            return NULL;
        }
    }
    if (!*parts[0]) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID, "--qmp %s: no path", arg);
        return NULL;
    }
    return g_strdup(parts[0]);
}

/* Without --display: the SDL window on a desktop, else the terminal. */
static char *default_display(TessRegistry *reg)
{
    const char *x = g_getenv("DISPLAY"), *w = g_getenv("WAYLAND_DISPLAY");
    bool wl = w && *w, xorg = x && *x;
    if (!(wl || xorg) || !tess_registry_lookup(reg, "ui-sdl"))
        return g_strdup("none");
    /* The desktop the variables name, and no other: SDL would otherwise
     * try its console drivers and show the guest nowhere. */
    g_setenv("SDL_VIDEODRIVER", wl && xorg ? "wayland,x11" : wl ? "wayland" : "x11", FALSE);
    return g_strdup("sdl");
}

/* Returns the exit status, or RUN_NO_WINDOW when the SDL window chosen
 * by default could not open (the caller tries again on the terminal). */
#define RUN_NO_WINDOW (-1)

static int run_parsed(TessRegistry *reg, int argc, char **argv, CliShortcuts *sc, char **sets_in,
                      const char *serial_in, const char *debugcon, const char *bios,
                      const char *cpu, const char *display, bool display_auto,
                      const char *control, const char *qmp, const char *restore,
                      const char *suspend_file, const char *audio_in, gboolean deterministic, gboolean paused,
                      gint ns_per_insn, gint64 suspend_at, int *ready_fd)
{
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) sets = g_strdupv(sets_in);
    g_autofree char *audio = g_strdup(audio_in);
    g_autofree char *serial = g_strdup(serial_in);
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
        static const char *const displays[] = { "sdl", "none", NULL };
        g_autofree char *hint = tess_did_you_mean(display, displays, -1);
        fprintf(stderr, "tessera run: --display %s: no such display in this build%s\n", display,
                hint);
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
    /* What the files are: machine files run as they are; an ISO or a disk
     * image runs on the pc machine, as if given with --cdrom or --disk. */
    g_autoptr(GPtrArray) machines = g_ptr_array_new();
    g_autoptr(GPtrArray) cds = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) hds = g_ptr_array_new_with_free_func(g_free);
    for (int i = 1; i < argc; i++) {
        g_autofree char *why = NULL;
        switch (cli_file_kind(argv[i], &why)) {
        case CLI_FILE_MACHINE:
            g_ptr_array_add(machines, argv[i]);
            break;
        case CLI_FILE_ISO:
            g_ptr_array_add(cds, g_strdup(argv[i]));
            break;
        case CLI_FILE_VHD:
            g_ptr_array_add(hds, g_strconcat(argv[i], ",format=vhd", NULL));
            break;
        case CLI_FILE_RAW:
            g_ptr_array_add(hds, g_strconcat(argv[i], ",format=raw", NULL));
            break;
        case CLI_FILE_OTHER:
            fprintf(stderr, "tessera: %s\n", why);
            return 2;
        }
    }
    for (char **c = sc->cdroms; c && *c; c++)
        g_ptr_array_add(cds, g_strdup(*c));
    for (char **c = sc->disks; c && *c; c++)
        g_ptr_array_add(hds, g_strdup(*c));
    g_ptr_array_add(cds, NULL);
    g_ptr_array_add(hds, NULL);
    CliShortcuts all = *sc;
    all.cdroms = (char **)cds->pdata;
    all.disks = (char **)hds->pdata;
    if (audio && strcmp(audio, "none"))
        all.sound = audio;
    bool overlay = cli_shortcuts_any(&all);
    if (restore && overlay) {
        fprintf(stderr, "tessera run: --restore brings back the machine as it was suspended: "
                "give no image, --cdrom, --disk, -m, --boot, --net or --audio wav\n");
        return 2;
    }
    if (overlay && machines->len > 1) {
        fprintf(stderr, "tessera run: --cdrom, --disk, -m, --boot, --net and --audio apply to "
                "one machine; give one machine file with them\n");
        return 2;
    }
    if (!restore && !machines->len && !cds->pdata[0] && !hds->pdata[0])
        fprintf(stderr, "tessera: no machine file or disk image: running the built-in pc "
                "machine, which has no disk (try tessera run IMAGE.iso, or --help)\n");
    /* Without a window the guest shows on this terminal: COM1, where the
     * pc machine's SeaBIOS mirrors its screen and Linux its console. */
    if (!restore && !serial && !strcmp(display, "none") && display_auto &&
        isatty(STDOUT_FILENO)) {
        serial = g_strdup("stdio");
        fprintf(stderr, "tessera: no display: COM1 on this terminal (Ctrl-C quits; "
                "--display sdl opens a window)\n");
    }

    TessLoadOptions lo = { .mopts = { .deterministic = deterministic,
                                      .ns_per_insn = (uint32_t)ns_per_insn },
                           .cpu_type = cpu, .extra_devices = extra,
                           .label = "(command line)" };
    lo.overrides = overrides_from_options(sets, serial, debugcon, bios, &err);
    if (!lo.overrides) {
        fprintf(stderr, "tessera: %s\n", err->message);
        return 2;
    }

    RunCtx r = { .loop = g_main_loop_new(NULL, FALSE),
                 .machines = g_ptr_array_new() };
    int rc = 0;
    guint nfiles = machines->len;
    for (guint i = 0; i < MAX(nfiles, 1u) && rc == 0; i++) {
        const char *file = nfiles ? machines->pdata[i] : NULL;
        TessMachine *m = NULL;
        if (restore) {
            m = tess_snapshot_restore(reg, restore, &lo, &err);
        } else if (overlay) {
            g_autofree char *dir = NULL;
            g_autofree char *xml = cli_overlay_xml(reg, file ? file : "pc", &all, &dir, &err);
            g_debug("overlay machine:\n%s", xml ? xml : "(none)");
            m = xml ? tess_machine_load_string(reg, xml, dir, &lo, &err) : NULL;
        } else if (file) {
            m = tess_machine_load(reg, file, &lo, &err);
        } else {
            m = tess_machine_load_string(reg, "<machine base=\"pc\"/>", NULL, &lo, &err);
        }
        if (!m) {
            if (display_auto && !strcmp(display, "sdl") && strstr(err->message, "display: ")) {
                fprintf(stderr, "tessera: no window (%s); the guest shows on this terminal\n",
                        strstr(err->message, "display: "));
                rc = RUN_NO_WINDOW;
                break;
            }
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
                m->name = g_strdup_printf("%s-%u", ((TessMachine *)r.machines->pdata[k])->name, i);
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
    if (rc == 0 && (control || qmp)) {
        ctl = tess_control_new(control, qmp, r.machines, &err);
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
        /* Realized, started (or held paused) and the sockets listening:
         * a connect now is queued and answered. */
        ready_fd_signal(ready_fd);
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

int cli_run(TessRegistry *reg, int argc, char **argv)
{
    g_auto(GStrv) sets = NULL;
    g_autofree char *serial = NULL, *debugcon = NULL, *bios = NULL, *cpu = NULL;
    g_autofree char *display = NULL, *control = NULL, *restore = NULL, *qmp_arg = NULL;
    g_autofree char *suspend_file = NULL;
    g_autofree char *audio = NULL;
    gboolean deterministic = FALSE, paused = FALSE;
    gint ns_per_insn = 1, ready_fd = -1;
    gint64 suspend_at = -1;
    CliShortcuts sc = { 0 };
    GOptionEntry entries[] = {
        { "cdrom", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &sc.cdroms, "CD-ROM image (secondary master first; repeatable)", "FILE" },
        { "disk", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &sc.disks, "Hard disk image on the next free IDE position (primary master first; repeatable)", "FILE[,format=vhd|raw][,undo=discard|commit|ask]" },
        { "memory", 'm', 0, G_OPTION_ARG_STRING, &sc.memory, "Main memory (a bare number is MiB)", "SIZE" },
        { "boot", 0, 0, G_OPTION_ARG_STRING, &sc.boot, "Firmware boot order: a floppy, c disk, d CD-ROM, n network", "ORDER[,menu=on]" },
        { "net", 0, 0, G_OPTION_ARG_STRING, &sc.net, "Network card (the DEC 21041) on shared networking, a virtual switch, a VDE switch or no cable", "shared|switch:NAME|vde:URL|none" },
        { "display", 0, 0, G_OPTION_ARG_STRING, &display, "Host display (default: the SDL window on a desktop, else the terminal)", "sdl|none" },
        { "audio", 0, 0, G_OPTION_ARG_STRING, &audio, "Sound output (default: sdl with --display sdl, else none)", "sdl|wav:FILE|none" },
        { "serial", 0, 0, G_OPTION_ARG_STRING, &serial, "First serial port's host side", "stdio|file:PATH|pty|tcp:127.0.0.1:PORT|null" },
        { "debugcon", 0, 0, G_OPTION_ARG_STRING, &debugcon, "Debug console output (ports 0xE9/0x402)", "stdio|file:PATH|null" },
        { "bios", 0, 0, G_OPTION_ARG_FILENAME, &bios, "Firmware image (sets bios.file)", "FILE" },
        { "cpu", 0, 0, G_OPTION_ARG_STRING, &cpu, "CPU plugin to use", "x86|kvm" },
        { "set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sets, "Set a device property", "ID.PROP=VALUE" },
        { "deterministic", 0, 0, G_OPTION_ARG_NONE, &deterministic, "Virtual time from instructions retired: identical runs", NULL },
        { "ns-per-insn", 0, 0, G_OPTION_ARG_INT, &ns_per_insn, "Deterministic mode: virtual ns per instruction (default 1)", "N" },
        { "paused", 0, 0, G_OPTION_ARG_NONE, &paused, "Start paused (resume with tessera ctl)", NULL },
        { "control", 0, 0, G_OPTION_ARG_FILENAME, &control, "Control socket (Tessera's line protocol; tessera ctl)", "PATH" },
        { "qmp", 0, 0, G_OPTION_ARG_FILENAME, &qmp_arg, "QMP socket (QEMU's protocol; also as QEMU spells it, unix:PATH,server,wait=off)", "PATH" },
        { "ready-fd", 0, 0, G_OPTION_ARG_INT, &ready_fd, "Write READY and a newline to descriptor N, then close it, once the machines run and the sockets listen (closed without it on an error)", "N" },
        { "restore", 0, 0, G_OPTION_ARG_FILENAME, &restore, "Resume from a snapshot (give --serial, --control, disk paths again as needed)", "SNAPSHOT" },
        { "suspend-at", 0, 0, G_OPTION_ARG_INT64, &suspend_at, "Suspend to --suspend-file when the CPU has retired N instructions (exact; for tests)", "N" },
        { "suspend-file", 0, 0, G_OPTION_ARG_FILENAME, &suspend_file, "Snapshot file for --suspend-at", "FILE" },
        cli_debug_entry[0],
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("[FILE ...] - build and run machines");
    g_option_context_set_summary(ctx,
        "FILE is a machine file (XML), an ISO 9660 image (boots from the CD-ROM of the pc\n"
        "machine), or a VHD or raw disk image (boots from its first disk), decided by content.\n"
        "No FILE runs the built-in pc machine. --cdrom, --disk, -m, --boot, --net and --audio\n"
        "extend whichever machine runs.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) err = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        fprintf(stderr, "tessera run: %s (see tessera run --help)\n", err->message);
        cli_shortcuts_clear(&sc);
        return 2;
    }
    if (ready_fd != -1 && !ready_fd_take(ready_fd)) {
        cli_shortcuts_clear(&sc);
        return 2;
    }
    g_autofree char *qmp = qmp_arg ? qmp_socket_path(qmp_arg, &err) : NULL;
    if (qmp_arg && !qmp) {
        fprintf(stderr, "tessera run: %s (see tessera run --help)\n", err->message);
        cli_shortcuts_clear(&sc);
        if (ready_fd >= 0)
            close(ready_fd);
        return 2;
    }
    g_autofree char *shown = display ? g_strdup(display) : default_display(reg);
    int rc = run_parsed(reg, argc, argv, &sc, sets, serial, debugcon, bios, cpu, shown,
                        !display, control, qmp, restore, suspend_file, audio, deterministic,
                        paused, ns_per_insn, suspend_at, &ready_fd);
    if (rc == RUN_NO_WINDOW)
        rc = run_parsed(reg, argc, argv, &sc, sets, serial, debugcon, bios, cpu, "none", true,
                        control, qmp, restore, suspend_file, audio, deterministic, paused,
                        ns_per_insn, suspend_at, &ready_fd);
    /* Never got ready: the reader sees EOF with no line. */
    if (ready_fd >= 0)
        close(ready_fd);
    cli_shortcuts_clear(&sc);
    return rc;
}

/* "FILE:LINE: ..." -> the file's length and the line (0 if none). */
static unsigned error_line(const char *msg, size_t *file_len)
{
    for (const char *c = strchr(msg, ':'); c; c = strchr(c + 1, ':')) {
        const char *d = c + 1;
        while (g_ascii_isdigit(*d))
            d++;
        if (d > c + 1 && *d == ':') {
            *file_len = (size_t)(c - msg);
            return (unsigned)strtoul(c + 1, NULL, 10);
        }
    }
    *file_len = 0;
    return 0;
}

/* Errors in the order of the files and lines they name (stable). */
static gint error_cmp(gconstpointer a, gconstpointer b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    size_t lx, ly;
    unsigned nx = error_line(x, &lx), ny = error_line(y, &ly);
    int c = lx == ly ? strncmp(x, y, lx) : (lx < ly ? -1 : 1);
    if (!lx || !ly || c)
        return !lx || !ly ? 0 : c;
    return nx < ny ? -1 : nx > ny;
}

int cli_validate(TessRegistry *reg, int argc, char **argv)
{
    g_auto(GStrv) sets = NULL;
    g_autofree char *bios = NULL;
    GOptionEntry entries[] = {
        { "set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sets,
          "Check with a property set as run --set would (repeatable)", "ID.PROP=VALUE" },
        { "bios", 0, 0, G_OPTION_ARG_FILENAME, &bios, "Check with this firmware (sets bios.file)",
          "FILE" },
        cli_debug_entry[0],
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("FILE.xml ... - check machine files");
    g_option_context_set_summary(ctx,
        "Checks each machine file as run would build it - schema, classes, properties,\n"
        "slots, wires, the files it names, and the resources its devices claim (I/O\n"
        "ports, memory, PCI slots, IRQ and DMA lines) - without running anything or\n"
        "touching the host (nothing is created, written, bound or opened for writing),\n"
        "and reports every error found, each with its file:line. Exit status 2 if any.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) err = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        fprintf(stderr, "tessera validate: %s (see tessera validate --help)\n", err->message);
        return 2;
    }
    if (argc < 2) {
        fprintf(stderr, "usage: tessera validate [--bios FILE] [--set ID.PROP=VALUE] FILE.xml ... "
                        "(see tessera validate --help)\n");
        return 2;
    }
    g_autoptr(GPtrArray) overrides = overrides_from_options(sets, NULL, NULL, bios, &err);
    if (!overrides) {
        fprintf(stderr, "tessera validate: %s\n", err->message);
        return 2;
    }
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        g_autoptr(GError) e = NULL;
        g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
        TessLoadOptions lo = { .dry = true, .errors = errors, .overrides = overrides };
        TessMachine *m = tess_machine_load(reg, argv[i], &lo, &e);
        if (!m) {
            if (!errors->len)
                g_ptr_array_add(errors, g_strdup(e->message));
            g_ptr_array_sort(errors, error_cmp);
            for (guint k = 0; k < errors->len; k++)
                fprintf(stderr, "tessera: %s\n", (char *)errors->pdata[k]);
            if (errors->len > 1)
                fprintf(stderr, "tessera: %s: %u errors\n", argv[i], errors->len);
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
    gboolean fields = FALSE;
    GOptionEntry entries[] = {
        { "fields", 0, 0, G_OPTION_ARG_NONE, &fields, "Every saved field of every device", NULL },
        cli_debug_entry[0],
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("info FILE - describe a snapshot");
    g_option_context_set_summary(ctx,
        "Prints a snapshot's header, machine, plugin set, sections and their CRCs.\n"
        "(tessera ctl SOCKET save|suspend FILE makes one; tessera run --restore FILE resumes it.)");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) err = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        fprintf(stderr, "tessera snapshot: %s (see tessera snapshot --help)\n", err->message);
        return 2;
    }
    if (argc != 3 || strcmp(argv[1], "info")) {
        fprintf(stderr, "usage: tessera snapshot info [--fields] FILE\n");
        return 2;
    }
    g_autoptr(GString) out = g_string_new(NULL);
    if (!tess_snapshot_describe(argv[2], fields, out, &err)) {
        fprintf(stderr, "tessera: %s\n", err->message);
        return 2;
    }
    fputs(out->str, stdout);
    return 0;
}
