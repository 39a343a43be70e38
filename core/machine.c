/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The machine object: its fabric, its devices, and what devices may ask
 * of it. Building one from a machine file is config.c; running it, run.c.
 */
#include "core.h"
#include "tess-config.h"

/* The root pseudo-device owns what belongs to the machine itself (main
 * RAM), so ownership-based release works for it like for any device. */
static bool root_realize(TessDevice *dev, GError **err)
{
    return true;
}

static const TessDeviceClass root_class = {
    .type = "machine",
    .kind = TESS_CLASS_DEVICE,
    .doc = "the machine itself (owns main RAM)",
    .instance_size = sizeof(TessDevice),
    .realize = root_realize,
};

TessMachine *tess_machine_new_empty(TessRegistry *reg, const char *name,
                                    const TessMachineOptions *opts)
{
    TessMachine *m = g_new0(TessMachine, 1);
    m->name = g_strdup(name ? name : "machine");
    m->reg = reg;
    if (opts)
        m->opts = *opts;
    if (!m->opts.ns_per_insn)
        m->opts.ns_per_insn = 1;
    m->devices = g_ptr_array_new();
    m->by_id = g_hash_table_new(g_str_hash, g_str_equal);
    m->chardevs = g_ptr_array_new();
    m->net_ports = g_ptr_array_new();
    m->pio = tess_pio_map_new();
    m->mem = tess_mem_map_new(m);
    m->clock = tess_clock_new(m, m->opts.deterministic, m->opts.ns_per_insn);
    g_mutex_init(&m->lock);
    g_cond_init(&m->cond);
    m->requests = g_async_queue_new();
    m->state = TESS_RUN_PAUSED;
    m->suspend_at = UINT64_MAX;
    m->rt_ipns = 0.05;              /* realtime slices: 50 MIPS until measured */
    m->root = tess_device_new(m, &root_class, "machine", NULL);
    m->root->priv->realized = true;
    return m;
}

void tess_machine_free(TessMachine *m)
{
    if (!m)
        return;
    /* What host threads posted and the machine has not run yet runs now,
     * with every device still there, as at the next safe point: a request
     * owns its data (a backend's context, a caller waiting in a
     * synchronous call), and only running it releases that. Those queued
     * now only: one that posts another must not keep this going. */
    TessRequest *r;
    for (gint n = g_async_queue_length(m->requests); n > 0; n--) {
        if (!(r = g_async_queue_try_pop(m->requests)))
            break;
        r->fn(m, r->data);
        g_free(r);
    }
    /* Parents before children (reverse of creation), CPU with the rest. */
    for (guint i = m->devices->len; i-- > 0;)
        tess_device_unrealize(m->devices->pdata[i]);
    for (guint i = m->devices->len; i-- > 0;)
        tess_device_free(m->devices->pdata[i]);
    tess_device_free(m->root);
    tess_audio_free(m);
    tess_clock_free(m->clock);
    tess_mem_map_free(m->mem);
    tess_pio_map_free(m->pio);
    /* Posted while the devices went (a host thread stopping): too late to
     * run them against the devices. */
    while ((r = g_async_queue_try_pop(m->requests)))
        g_free(r);
    g_async_queue_unref(m->requests);
    g_ptr_array_unref(m->devices);
    g_ptr_array_unref(m->chardevs);
    g_ptr_array_unref(m->net_ports);
    if (m->commands)
        g_ptr_array_unref(m->commands);
    g_hash_table_unref(m->by_id);
    g_mutex_clear(&m->lock);
    g_cond_clear(&m->cond);
    g_free(m->name);
    g_free(m->file);
    g_free(m->dir);
    g_free(m->cfg_xml);
    g_free(m->cfg_dir);
    if (m->cfg_overrides)
        g_ptr_array_unref(m->cfg_overrides);
    g_free(m->suspend_path);
    g_free(m);
}

const char *tess_machine_name(TessMachine *m)
{
    return m->name;
}

const char *tess_machine_dir(TessMachine *m)
{
    return m->dir ? m->dir : ".";
}

bool tess_machine_dry_run(TessMachine *m)
{
    return m->dry;
}

void tess_machine_request_exit(TessMachine *m, int status)
{
    if (!m->exit_requested) {
        m->exit_requested = true;
        m->exit_status = status;
    }
    g_atomic_int_set(&m->cpu_run.stop, 1);
}

void tess_machine_request_reset(TessMachine *m)
{
    m->reset_requested = true;
    g_atomic_int_set(&m->cpu_run.stop, 1);
}

char *tess_find_data_file(TessMachine *m, const char *name, GError **err)
{
    if (!name || !*name) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_NOT_FOUND, "no file name given");
        return NULL;
    }
    if (g_path_is_absolute(name)) {
        if (g_file_test(name, G_FILE_TEST_IS_REGULAR))
            return g_strdup(name);
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_NOT_FOUND, "%s: no such file", name);
        return NULL;
    }
    g_autoptr(GPtrArray) dirs = g_ptr_array_new_with_free_func(g_free);
    if (m && m->dir)
        g_ptr_array_add(dirs, g_strdup(m->dir));
    const char *env = g_getenv("TESSERA_DATA_PATH");
    if (env) {
        g_auto(GStrv) parts = g_strsplit(env, G_SEARCHPATH_SEPARATOR_S, -1);
        for (char **p = parts; *p; p++)
            if (**p)
                g_ptr_array_add(dirs, g_strdup(*p));
    }
    /* Uninstalled, the data files (the VGA BIOSes) are where the build
     * made them, as the plugins are (tess_registry_scan_default). */
    const char *datadir = tess_running_from_build_tree() ? TESS_BUILD_ROOT "/firmware/vgabios"
                                                         : TESS_DATADIR;
    g_ptr_array_add(dirs, g_strdup(datadir));
    for (guint i = 0; i < dirs->len; i++) {
        g_autofree char *path = g_build_filename(dirs->pdata[i], name, NULL);
        if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
            return g_steal_pointer(&path);
    }
    g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_NOT_FOUND,
                "%s: not found in the machine's directory, $TESSERA_DATA_PATH or %s",
                name, datadir);
    return NULL;
}

void tess_machine_post(TessMachine *m, void (*fn)(TessMachine *, void *), void *data)
{
    TessRequest *r = g_new0(TessRequest, 1);
    r->fn = fn;
    r->data = data;
    g_async_queue_push(m->requests, r);
    g_atomic_int_set(&m->cpu_run.stop, 1);
    g_mutex_lock(&m->lock);
    g_cond_broadcast(&m->cond);
    g_mutex_unlock(&m->lock);
}
