/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libtessera internals: shared by the files of core/ and by the unit tests.
 * Plugins never include this; they see sdk/tessera/ only.
 */
#ifndef TESSERA_CORE_H
#define TESSERA_CORE_H

#include <tessera/tessera.h>

G_BEGIN_DECLS

/* ---- plugin registry (plugin.c) ---------------------------------------- */

typedef struct TessPluginRec {
    char *path;
    char *name;
    GModule *module;
    const TessPluginDescriptor *desc;
    GPtrArray *classes;             /* const TessDeviceClass * */
} TessPluginRec;

struct TessRegistry {
    GPtrArray *plugins;             /* TessPluginRec *, loaded ones */
    GHashTable *classes;            /* type -> const TessDeviceClass * */
    GHashTable *class_plugin;       /* class -> TessPluginRec * */
    GPtrArray *failures;            /* char *: "file: reason", one per refused plugin */
    TessPluginRec *loading;         /* plugin whose init is running */
    bool quiet;                     /* do not log refusals (inspect lists them) */
};

TessRegistry *tess_registry_new(void);
void tess_registry_free(TessRegistry *reg);
/* Load one plugin file; on failure nothing of it stays registered. */
bool tess_registry_load(TessRegistry *reg, const char *path, GError **err);
/* Load every *.so in dir (recursively when `recursive`); failures are
 * recorded in reg->failures and logged, and never stop the others. */
void tess_registry_scan_dir(TessRegistry *reg, const char *dir, bool recursive);
/* The standard search: build tree (when run from it), installed directory,
 * then every directory of $TESSERA_PLUGIN_PATH. */
void tess_registry_scan_default(TessRegistry *reg);
/* True when this process runs from the build tree (the tessera binary or a
 * test lives under TESS_BUILD_ROOT): the build's plugins and data files
 * (tess_find_data_file) are then the ones to use, not the installed ones. */
bool tess_running_from_build_tree(void);
const TessDeviceClass *tess_registry_lookup(TessRegistry *reg, const char *type);
/* Register classes built into the calling program (tests). */
bool tess_registry_add_builtin(TessRegistry *reg, const TessDeviceClass *cls,
                               GError **err);
/* Sorted list of classes (borrowed pointers). */
GPtrArray *tess_registry_list(TessRegistry *reg);
TessPluginRec *tess_registry_class_plugin(TessRegistry *reg,
                                          const TessDeviceClass *cls);
bool tess_class_validate(const TessDeviceClass *cls, GError **err);

/* ---- devices (device.c) ------------------------------------------------- */

typedef struct TessInputPin TessInputPin;

typedef struct TessDevicePriv {
    char *id;
    TessDevice *parent;             /* slot owner, or NULL */
    GPtrArray *children;            /* TessDevice *, slot children */
    bool realized;
    bool realizing;                 /* dependency-cycle detection */
    bool props_given[64];           /* which properties were set explicitly */
    GPtrArray *outputs;             /* TessSignal * */
    GPtrArray *inputs;              /* TessInputPin * */
    int64_t log_window_start;       /* tess_guest_error rate limit */
    unsigned log_count;
    unsigned log_dropped;
} TessDevicePriv;

TessDevice *tess_device_new(TessMachine *m, const TessDeviceClass *cls,
                            const char *id, GError **err);
bool tess_device_realize(TessDevice *dev, GError **err);
void tess_device_reset(TessDevice *dev);
void tess_device_unrealize(TessDevice *dev);
void tess_device_free(TessDevice *dev);
const TessPropSpec *tess_device_find_prop(TessDevice *dev, const char *name);
/* Run-time reconfiguration (machine thread): replace the child in slot
 * `slot` (index idx) of `parent` by a new instance of `type` with the
 * given "key=value" properties (NULL-terminated, may be NULL). The new
 * child is created, set and realized while the old one still exists; if
 * any step fails, the old child stays in place, untouched but for its
 * network ports being re-bound, and the error is returned. For now only
 * slots whose interface is TESS_IFACE_NET: the port layer re-binds those;
 * other parents would need a class hook to learn of their new child. */
bool tess_device_replace_child(TessDevice *parent, const char *slot, unsigned idx,
                               const char *type, const char *const *props, GError **err);

/* ---- signal lines (signal.c) ------------------------------------------- */

struct TessSignal {
    TessDevice *owner;
    char *name;                     /* "out0" */
    bool level;
    GPtrArray *sinks;               /* TessInputPin * */
};

struct TessInputPin {
    TessDevice *dev;
    const TessLineSpec *spec;
    unsigned index;
    char *name;                     /* "ir3" */
    GPtrArray *sources;             /* TessSignal * wired here */
    unsigned high;                  /* how many sources are high */
};

/* Create the device's outputs (storing pointers into the instance) and
 * input pins from its class's line table; destroy them (disconnecting). */
void tess_lines_create(TessDevice *dev);
void tess_lines_destroy(TessDevice *dev);
TessInputPin *tess_device_input(TessDevice *dev, const char *line);
/* Wiring `out` to input `line` of `dst` would put a second ISA driver on
 * an edge-triggered interrupt input: returns the output already there
 * (NULL when the wire is fine). See signal.c for how the fabric tells. */
TessSignal *tess_signal_edge_clash(TessSignal *out, TessDevice *dst, const char *line);
/* Snapshot restore: set an output's level and its sinks' counts without
 * telling the sinks (their own restored state already reflects it). */
void tess_signal_restore_level(TessSignal *s, bool level);

/* ---- port I/O (pio.c) --------------------------------------------------- */

#define TESS_PIO_PORTS 0x10000u

typedef struct TessPioRange {
    TessDevice *owner;
    uint32_t base, len;
    const TessIoOps *ops;
    void *opaque;
} TessPioRange;

typedef struct TessPioMap {
    TessPioRange *port[TESS_PIO_PORTS];   /* O(1) dispatch */
    GPtrArray *ranges;                    /* TessPioRange *, owned */
} TessPioMap;

TessPioMap *tess_pio_map_new(void);
void tess_pio_map_free(TessPioMap *map);
void tess_pio_release_owner(TessMachine *m, TessDevice *owner);

/* Width adaptation shared by PIO and MMIO (io.c): perform an access of
 * `size` bytes at `offset` within a range of `len` bytes whose ops accept
 * ops->widths. */
uint64_t tess_io_read(const TessIoOps *ops, void *opaque, uint64_t offset,
                      unsigned size);
void tess_io_write(const TessIoOps *ops, void *opaque, uint64_t offset,
                   uint64_t value, unsigned size);

/* ---- memory (mem.c) ------------------------------------------------------ */

typedef struct TessMemMap TessMemMap;      /* private to mem.c */

TessMemMap *tess_mem_map_new(TessMachine *m);
void tess_mem_map_free(TessMemMap *map);
void tess_mem_release_owner(TessMachine *m, TessDevice *owner);
/* validate: regions of different devices mapped over each other at the
 * same priority (the newer one would silently shadow the other). Calls
 * report(newer owner, message) for each pair. */
void tess_mem_find_clashes(TessMachine *m, void (*report)(TessDevice *dev, const char *msg,
                                                          void *data), void *data);
/* A machine that will never run (validate, TessLoadOptions.no_realize)
 * keeps its mappings but builds no flat view of them: the page table is
 * what a <memory> size costs (a 60 GiB one 720 MB and seconds), and
 * nothing reads it. Call before anything is mapped; page look-ups then
 * find nothing. */
void tess_mem_skip_flat_view(TessMachine *m);
/* Create and map main RAM (below_4g from 0, the rest at 4 GiB), owned by
 * the machine's root device. */
bool tess_mem_create_main_ram(TessMachine *m, uint64_t size, uint64_t below_4g,
                              GError **err);

/* For dma.c: the host bytes behind [paddr, paddr+len) for `access` if it
 * is RAM (or ROM, for reads); returns how many bytes from paddr that run
 * covers (never past a page), or 0 when paddr is not plain memory. */
uint64_t tess_mem_host_run(TessMachine *m, uint64_t paddr, uint64_t len,
                           unsigned access, uint8_t **host);
/* Tell listeners that something other than the CPU wrote RAM. */
void tess_mem_notify_ram_written(TessMachine *m, uint64_t start, uint64_t len);

/* ---- clock and timers (clock.c) ----------------------------------------- */

typedef struct TessClock TessClock;        /* private to clock.c */

TessClock *tess_clock_new(TessMachine *m, bool deterministic,
                          uint32_t ns_per_insn);
void tess_clock_free(TessClock *c);
void tess_timer_release_owner(TessMachine *m, TessDevice *owner);
/* Earliest armed deadline, or UINT64_MAX. */
uint64_t tess_clock_next_deadline(TessMachine *m);
/* Fire every timer whose deadline <= now, in order. */
void tess_clock_run_due(TessMachine *m);
/* Jump virtual time forward to `ns` (deterministic halt; tests without a
 * CPU). Never moves backwards. */
void tess_clock_advance_to(TessMachine *m, uint64_t ns);
/* The CPU that drives deterministic time (NULL: time only moves by
 * tess_clock_advance_to). */
void tess_clock_attach_cpu(TessMachine *m, TessDevice *cpu, const TessCpuOps *ops);
/* Deterministic: the icount at which virtual time reaches `ns`. */
uint64_t tess_clock_icount_for(TessMachine *m, uint64_t ns);
/* Snapshots: a timer's stable identity is its owner and the order in
 * which that owner created it (0, 1, ...). */
void tess_timer_identity(const TessTimer *t, TessDevice **owner, uint32_t *index);
TessTimer *tess_timer_find(TessMachine *m, TessDevice *owner, uint32_t index);
/* Every armed timer, in firing order (deadline, then arming order). */
GPtrArray *tess_clock_armed_timers(TessMachine *m);
void tess_clock_cancel_all(TessMachine *m);
/* Set virtual time to `ns` (restore: it may move backwards). */
void tess_clock_set_now(TessMachine *m, uint64_t ns);
/* Realtime: stop / restart the clock while paused. */
void tess_clock_pause(TessMachine *m);
void tess_clock_resume(TessMachine *m);

/* ---- chardev (chardev.c) ------------------------------------------------- */

void tess_chardev_release_owner(TessMachine *m, TessDevice *owner);

/* ---- control socket (control.c) ---------------------------------------- */

typedef struct TessCommand {
    char *name, *usage;
    TessDevice *owner;
    TessControlFn fn;
    bool per_instance;              /* `NAME ID ARGS`: resolved by ID (control.h) */
} TessCommand;

typedef struct TessControl TessControl;
/* Listen on a Unix socket at `path` for line-delimited JSON requests
 * {"cmd": NAME, "args": [...], "machine": NAME?} addressed to one of
 * `machines` (the first when not named). Replies {"ok": true, "result": ...}
 * or {"ok": false, "error": TEXT}. And on one at `qmp_path` for QMP, the
 * greeting sent as a client connects. Either path may be NULL. */
TessControl *tess_control_new(const char *path, const char *qmp_path, GPtrArray *machines,
                              GError **err);
void tess_control_free(TessControl *c);
void tess_command_release_owner(TessMachine *m, TessDevice *owner);

/* ---- sound (audio.c) ---------------------------------------------------- */
typedef struct TessAudio TessAudio;
void tess_audio_release_owner(TessMachine *m, TessDevice *owner);
void tess_audio_free(TessMachine *m);

/* ---- network ports (net.c) ---------------------------------------------- */
void tess_net_release_owner(TessMachine *m, TessDevice *owner);
/* Machine thread: deliver what backends' host threads put in the ports'
 * rings (cheap when nothing came: one atomic load). */
void tess_net_poll(TessMachine *m);
/* Has a host thread delivered frames not yet polled? (any thread) */
bool tess_net_pending(TessMachine *m);
/* Frames deliver_async dropped on this port because its ring was full. */
unsigned long tess_net_port_async_dropped(TessNetPort *p);
/* Run-time swap of a NIC's backend: detach `child` from parent's ports
 * (link down); then bind them to whatever the slots hold (link up). */
void tess_net_child_unbind(TessDevice *parent, TessDevice *child);
/* After a restore: ports whose backend saved no state see a cable re-plug. */
void tess_net_restored(TessMachine *m);
bool tess_net_child_rebind(TessDevice *parent, GError **err);
/* Run one request line against the machines; returns the reply line. */
char *tess_control_handle_line(GPtrArray *machines, const char *line);
/* Run a whole QMP session's input (tests, fuzzing): the greeting, then one
 * reply per input value, each ending in CR LF (qmp.c). */
char *tess_control_handle_qmp(GPtrArray *machines, const char *buf, gsize len);

/* ---- machine (machine.c, run.c) ----------------------------------------- */

typedef enum {
    TESS_RUN_PAUSED,
    TESS_RUN_RUNNING,
    TESS_RUN_STOPPED,
} TessRunState;

typedef struct TessMachineOptions {
    bool deterministic;
    uint32_t ns_per_insn;           /* deterministic: virtual ns per instruction */
    bool ram_guard;                 /* tests: RAM and ROM sit between inaccessible
                                     * guard mappings, so any access past their
                                     * ends faults (SEGV) instead of landing in
                                     * whatever the host has there */
} TessMachineOptions;

struct TessMachine {
    char *name;
    char *file;                     /* machine file, or NULL */
    char *dir;                      /* its directory (for relative paths) */
    TessRegistry *reg;
    TessDevice *root;               /* "machine" pseudo-device: owns RAM */
    GPtrArray *devices;             /* TessDevice *, file order, children first */
    GHashTable *by_id;              /* id -> TessDevice * */
    TessDevice *cpu;
    const TessCpuOps *cpu_ops;

    TessPioMap *pio;
    TessMemMap *mem;
    TessClock *clock;
    GPtrArray *chardevs;            /* TessChardev * */

    TessMachineOptions opts;

    /* run control; `lock` serialises the machine thread and requests */
    GMutex lock;
    GCond cond;
    TessCpuRun cpu_run;
    TessRunState state;
    bool exit_requested;
    int exit_status;
    bool reset_requested;
    GAsyncQueue *requests;          /* TessRequest *, from other threads */
    GThread *thread;
    bool start_paused;
    double rt_ipns;                 /* realtime: measured instructions per ns */
    GPtrArray *commands;            /* TessCommand *, added by devices */
    struct TessAudio *audio;        /* the mixer (audio.c), once a stream opens */
    GPtrArray *net_ports;           /* TessNetPort *, opened by NICs (net.c) */
    _Atomic int net_kick;           /* a host thread filled a port ring (net.c) */
    void (*on_stop)(TessMachine *m, int status, void *data);   /* machine thread */
    void *on_stop_data;
    /* After every machine reset while running (machine thread): the
     * control socket's RESET event. */
    void (*on_reset)(TessMachine *m, void *data);
    void *on_reset_data;

    /* How the machine was built, for snapshots (config.c fills it). */
    char *cfg_xml;                  /* the machine file's text */
    char *cfg_dir;                  /* its directory */
    GPtrArray *cfg_overrides;       /* TessOverride *, as given */
    /* --suspend-at: save to suspend_path and exit 0 when the CPU has
     * retired this many instructions (UINT64_MAX: never). */
    uint64_t suspend_at;
    char *suspend_path;
    /* Loading a snapshot: tess_signal_set records levels without telling
     * sinks (their state comes from the snapshot too). */
    bool restoring;
    /* validate: realize claims guest-side resources to find clashes and
     * acquires no host-side ones (tess_machine_dry_run); never run. */
    bool dry;
};

/* A request run on the machine thread between instructions. */
typedef struct TessRequest {
    void (*fn)(TessMachine *m, void *data);
    void *data;
} TessRequest;
void tess_machine_post(TessMachine *m, void (*fn)(TessMachine *, void *), void *data);

/* Loading machine files (config.c). */
typedef struct TessOverride {
    char *id;                       /* device id, or NULL to select by type */
    char *type;                     /* class type (with id NULL) */
    bool first_only;                /* by type: only the first such device */
    char *prop;
    char *value;
} TessOverride;

typedef struct TessLoadOptions {
    TessMachineOptions mopts;
    GPtrArray *overrides;           /* TessOverride *, applied in order */
    const char *cpu_type;           /* --cpu: replaces <cpu type> */
    bool no_realize;                /* build, set, wire; claim nothing */
    bool dry;                       /* validate: build, set, wire, then realize
                                     * dry (tess_machine_dry_run): claims are
                                     * checked, nothing on the host is touched */
    const char *const *extra_devices; /* "type=id" pairs added after the file's
                                       * devices (--display adds its ui device) */
    GPtrArray *device_overrides;    /* TessOverride * by device id, slot children
                                     * included ("ide0.drive0.disk"), set after
                                     * everything else, before realize */
    const char *label;              /* name of XML text in errors (default "(string)") */
    GPtrArray *errors;              /* validate: when set (with no_realize or dry), every
                                     * error found is appended here (char *) and the
                                     * build goes on; the load fails if any */
} TessLoadOptions;

void tess_override_free(TessOverride *o);
TessOverride *tess_override_copy(const TessOverride *o);
/* "Did you mean": the candidate closest to `word` by edit distance, if
 * it is close enough to be a typo (n < 0: NULL-terminated). */
const char *tess_suggest(const char *word, const char *const *candidates, gssize n);
/* "; did you mean 'X'?" or "" (free with g_free). */
char *tess_did_you_mean(const char *word, const char *const *candidates, gssize n);

/* Machines a `base=` can name from `dir` (may be NULL): NAME.xml there, in
 * $TESSERA_MACHINE_PATH and built in, sorted, without duplicates. */
GPtrArray *tess_machine_names(const char *dir);
/* A machine file (a path) or a machine name (as `base=` takes it) after
 * inheritance, as one self-contained machine file: every device with its
 * attributes and slot children (relative paths made absolute), each with
 * a comment naming the file:line it came from, and every wire. */
char *tess_machine_flatten(TessRegistry *reg, const char *file_or_name, GError **err);

/* Parse "ID.PROP=VALUE" (as --set takes it). */
TessOverride *tess_override_parse(const char *text, GError **err);

/* Build (and unless no_realize, realize and reset) a machine from a file,
 * or from XML text whose relative paths resolve against `dir`. Errors
 * carry file:line where they have one. */
TessMachine *tess_machine_load(TessRegistry *reg, const char *path,
                               const TessLoadOptions *o, GError **err);
TessMachine *tess_machine_load_string(TessRegistry *reg, const char *xml,
                                      const char *dir, const TessLoadOptions *o,
                                      GError **err);
/* Reset every device (power-on and machine reset), CPU last. */
void tess_machine_reset(TessMachine *m);

/* Machine with only RAM and no devices (tests build on this). */
TessMachine *tess_machine_new_empty(TessRegistry *reg, const char *name,
                                    const TessMachineOptions *opts);
void tess_machine_free(TessMachine *m);
/* Run on the calling thread until the machine exits; returns its status. */
int tess_machine_run(TessMachine *m);
/* Run on a new thread; join returns the exit status. */
void tess_machine_start(TessMachine *m);
int tess_machine_join(TessMachine *m);
void tess_machine_pause(TessMachine *m);
void tess_machine_resume(TessMachine *m);
void tess_machine_quit(TessMachine *m, int status);
/* Run fn on the machine thread and wait for it (inline when the machine
 * is not running). */
void tess_machine_call(TessMachine *m, void (*fn)(TessMachine *, void *), void *data);
/* Called by the clock when a timer is armed earlier than the CPU's limit. */
void tess_machine_deadline_changed(TessMachine *m);

/* ---- snapshots (state.c) ----------------------------------------------- */

/* Save the machine's whole state to `path` (a temporary file, fsynced,
 * then renamed). Machine thread, between instructions, or a stopped
 * machine. */
bool tess_snapshot_save(TessMachine *m, const char *path, GError **err);
/* Save, keep undo overlays as they are for the resume, and ask the
 * machine to exit with status 0. */
bool tess_snapshot_suspend(TessMachine *m, const char *path, GError **err);
/* Build a machine from a snapshot and load its state. `o` adds to what
 * the snapshot recorded: overrides (applied after the recorded ones:
 * host paths given again) and extra devices (the display). */
TessMachine *tess_snapshot_restore(TessRegistry *reg, const char *path,
                                   const TessLoadOptions *o, GError **err);
/* Describe a snapshot file (header and sections; with `fields`, every
 * device field too). */
bool tess_snapshot_describe(const char *path, bool fields, GString *out, GError **err);
/* Fuzzing entry: parse and apply `data` as a snapshot into a fresh
 * machine built from it, with every error handled; returns 0. */
int tess_snapshot_fuzz_one(TessRegistry *reg, const uint8_t *data, size_t len);
/* Add the `save` and `suspend` control commands to a machine. */
void tess_snapshot_add_commands(TessMachine *m);

G_END_DECLS

#endif
