/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Device and backend classes, instances and their lifecycle.
 *
 * A class is a const table (TessDeviceClass). An instance is a struct whose
 * first member is a TessDevice:
 *
 *     typedef struct { TessDevice dev; uint64_t port; TessSignal *irq; } MyDev;
 *
 * The core allocates instance_size zeroed bytes, fills the TessDevice head,
 * applies property defaults, then the machine file's values, then calls
 * realize(). realize claims resources (ports, memory, timers, chardevs);
 * every claim is recorded against the device, so when realize fails - or
 * the device is unrealized - the core releases all of them. A realize that
 * fails must only free what it allocated with plain g_malloc.
 *
 * Lifecycle: new -> set properties -> realize -> reset (at power-on and at
 * each machine reset) -> ... -> unrealize -> free.
 */
#ifndef TESSERA_DEVICE_H
#define TESSERA_DEVICE_H

#include <tessera/types.h>
#include <tessera/props.h>
#include <tessera/state.h>

G_BEGIN_DECLS

typedef enum {
    TESS_CLASS_DEVICE,    /* guest-visible hardware */
    TESS_CLASS_CPU,       /* a processor: provides the "cpu" interface */
    TESS_CLASS_BACKEND,   /* host-side implementation of an interface */
} TessClassKind;

/* Signal lines. A class declares named lines; a line with count > 1 is an
 * array whose members are named name0, name1, ... ("ir0".."ir7").
 * Output lines: the core creates TessSignal objects and stores their
 * pointers in the instance at `offset` (TessSignal *[count]) before realize.
 * Input lines: `set` is called with the member index and the new level
 * whenever the OR of every output wired to that input changes. */
typedef enum { TESS_LINE_IN, TESS_LINE_OUT } TessLineDir;

typedef struct TessLineSpec {
    const char *name;
    TessLineDir dir;
    unsigned count;                     /* 0 is taken as 1 */
    size_t offset;                      /* OUT: TessSignal *field[count] */
    void (*set)(TessDevice *dev, unsigned n, bool level);   /* IN */
    const char *doc;
} TessLineSpec;

#define TESS_LINE_OUT_(n, cnt, S, f, doc_) \
    { .name = n, .dir = TESS_LINE_OUT, .count = cnt, .offset = offsetof(S, f), .doc = doc_ }
#define TESS_LINE_IN_(n, cnt, fn, doc_) \
    { .name = n, .dir = TESS_LINE_IN, .count = cnt, .set = fn, .doc = doc_ }
#define TESS_LINE_END { .name = NULL }

/* An interface this class provides: a name ("pci-bus", "block", "cpu"), a
 * pointer to the interface's const ops table, whose layout the interface's
 * header defines, and the version of that layout the provider was built
 * with.
 *
 * Versioned interfaces (plugin ABI 2): every interface header defines
 * TESS_IFACE_<NAME>_VERSION next to the name. It starts at 1 and goes up by
 * one whenever the ops table, or a struct passed through it, gains members
 * (always appended at the end; nothing is removed or changed in place).
 * A provider states the version it implements:
 *
 *   static const TessIfaceSpec my_provides[] = {
 *       { TESS_IFACE_PCI_BUS, &my_pci_ops, TESS_IFACE_PCI_BUS_VERSION },
 *       TESS_IFACE_END,
 *   };
 *
 * and a user that needs members added in version N looks the interface up
 * with tess_device_interface_v(dev, name, N): a provider built against an
 * older header is then not found (NULL), instead of having members read
 * past the end of its table. version 0 (a table written without it) counts
 * as 1. An incompatible change to an interface is a new name, or a new
 * TESS_ABI_MAJOR (see plugin.h). */
typedef struct TessIfaceSpec {
    const char *name;
    const void *ops;
    uint32_t version;             /* TESS_IFACE_<NAME>_VERSION; 0 means 1 */
} TessIfaceSpec;
#define TESS_IFACE_END { .name = NULL }

/* Slots: child elements in the machine file that create child instances.
 * <device type="dec21041" id="nic0"><net type="shared"/></device>
 * declares the slot "net"; the child's class is chosen by the attribute
 * `type_attr` (default "type"), or `default_type` when absent, and must
 * provide `iface` when that is set. Its other attributes are its properties.
 * Children are created and realized before their parent, and their
 * pointers stored at `offset` (TessDevice *field[max]). */
typedef struct TessSlotSpec {
    const char *element;
    const char *type_attr;       /* NULL: "type" */
    const char *default_type;    /* NULL: the attribute is required */
    const char *iface;           /* NULL: any class */
    unsigned max;                /* 0 is taken as 1 */
    size_t offset;
    const char *doc;
} TessSlotSpec;
#define TESS_SLOT_END { .element = NULL }

struct TessDeviceClass {
    const char *type;             /* lower-case-hyphen, globally unique */
    TessClassKind kind;
    const char *doc;              /* one line */
    size_t instance_size;         /* >= sizeof(TessDevice) */
    const TessPropSpec *props;    /* may be NULL */
    const TessLineSpec *lines;    /* may be NULL */
    const TessIfaceSpec *provides;/* may be NULL */
    const char *const *needs;     /* interface names it looks up; NULL-terminated, documentation */
    const TessSlotSpec *slots;    /* may be NULL */
    const TessStateDesc *state;   /* NULL: device has no state to save */
    bool (*realize)(TessDevice *dev, GError **err);
    void (*reset)(TessDevice *dev);           /* may be NULL */
    void (*unrealize)(TessDevice *dev);       /* may be NULL */
    /* A runtime property (TESS_PROP_F_RUNTIME) changed after realize. */
    void (*prop_changed)(TessDevice *dev, const TessPropSpec *prop);
    /* Bring outputs this device computes lazily from virtual time (a
     * timer's OUT pin) up to date now. tess_device_input_level() calls it
     * on every device driving the sampled input, so a model that reads a
     * line when the guest reads a port sees the level as of this
     * instruction, not as of the source's last timer callback. May be NULL. */
    void (*sync_outputs)(TessDevice *dev);
    void *reserved[7];            /* zero: room for minor-version additions */
};

/* The head of every instance. Plugins read the fields; only the core
 * writes them. */
struct TessDevice {
    const TessDeviceClass *cls;
    TessMachine *machine;
    const char *id;               /* unique in the machine ("pic0", "nic0.net") */
    struct TessDevicePriv *priv;  /* core bookkeeping; opaque */
    void *reserved[4];
};

/* The ops table of interface `iface` that `dev`'s class provides, or NULL. */
const void *tess_device_interface(TessDevice *dev, const char *iface);
/* The same, only when the provider implements at least `min_version` of
 * the interface (see TessIfaceSpec); NULL otherwise. */
const void *tess_device_interface_v(TessDevice *dev, const char *iface, uint32_t min_version);

/* Find a device of this machine that provides `iface`: the one named `id`
 * when id is not NULL, else the only (or first, in machine-file order) such
 * device. The provider is realized first if it is not yet, which is how
 * realize order follows dependencies; a dependency cycle is an error. */
TessDevice *tess_device_find_provider(TessDevice *dev, const char *iface,
                                      const char *id, GError **err);

/* Devices of the machine, in machine-file order (borrowed). */
GPtrArray *tess_machine_devices(TessMachine *m);
TessDevice *tess_machine_device(TessMachine *m, const char *id);

G_END_DECLS

#endif
