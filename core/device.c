/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Device instances: creation with defaults, property setting, two-phase
 * realize with rollback of every claim, reset, unrealize.
 */
#include "core.h"

#include <string.h>

static void *field(TessDevice *dev, size_t offset)
{
    return (char *)dev + offset;
}

const TessPropSpec *tess_device_find_prop(TessDevice *dev, const char *name)
{
    for (const TessPropSpec *p = dev->cls->props; p && p->name; p++)
        if (!strcmp(p->name, name))
            return p;
    return NULL;
}

TessDevice *tess_device_new(TessMachine *m, const TessDeviceClass *cls,
                            const char *id, GError **err)
{
    TessDevice *dev = g_malloc0(cls->instance_size);
    dev->cls = cls;
    dev->machine = m;
    dev->priv = g_new0(TessDevicePriv, 1);
    dev->priv->id = g_strdup(id);
    dev->priv->children = g_ptr_array_new();
    dev->id = dev->priv->id;
    for (const TessPropSpec *p = cls->props; p && p->name; p++) {
        if (p->def && !tess_prop_parse(p, p->def, field(dev, p->offset), err)) {
            tess_device_free(dev);
            return NULL;
        }
    }
    tess_lines_create(dev);
    return dev;
}

bool tess_device_set_prop(TessDevice *dev, const char *name, const char *text,
                          GError **err)
{
    const TessPropSpec *p = tess_device_find_prop(dev, name);
    if (!p) {
        GString *known = g_string_new(NULL);
        for (const TessPropSpec *q = dev->cls->props; q && q->name; q++)
            g_string_append_printf(known, "%s%s", known->len ? ", " : "", q->name);
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_NOT_FOUND,
                    "device '%s' (%s) has no property '%s'%s%s", dev->id,
                    dev->cls->type, name, known->len ? "; it has: " : "",
                    known->str);
        g_string_free(known, TRUE);
        return false;
    }
    if (dev->priv->realized && !(p->flags & TESS_PROP_F_RUNTIME)) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "property '%s' of '%s' cannot change while the machine runs",
                    name, dev->id);
        return false;
    }
    g_autoptr(GError) perr = NULL;
    void *dst = field(dev, p->offset);
    if (p->type == TESS_PROP_PATH && !g_path_is_absolute(text) && *text &&
        dev->machine && dev->machine->dir) {
        g_autofree char *abs = g_build_filename(dev->machine->dir, text, NULL);
        if (!tess_prop_parse(p, abs, dst, &perr))
            goto fail;
    } else if (!tess_prop_parse(p, text, dst, &perr)) {
        goto fail;
    }
    dev->priv->props_given[p - dev->cls->props] = true;
    if (dev->priv->realized && dev->cls->prop_changed)
        dev->cls->prop_changed(dev, p);
    return true;
fail:
    g_set_error(err, perr->domain, perr->code, "device '%s': %s", dev->id,
                perr->message);
    return false;
}

/* Release every resource claimed in the device's name. This is the one
 * place that knows all kinds of claims, so rollback can never miss one. */
static void release_claims(TessDevice *dev)
{
    TessMachine *m = dev->machine;
    if (!m)
        return;
    tess_pio_release_owner(m, dev);
    tess_mem_release_owner(m, dev);
    tess_timer_release_owner(m, dev);
    tess_chardev_release_owner(m, dev);
    tess_command_release_owner(m, dev);
    tess_audio_release_owner(m, dev);
    tess_net_release_owner(m, dev);
}

bool tess_device_realize(TessDevice *dev, GError **err)
{
    TessDevicePriv *pv = dev->priv;
    if (pv->realized)
        return true;
    if (pv->realizing) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "device '%s' depends on itself (dependency cycle)", dev->id);
        return false;
    }
    for (const TessPropSpec *p = dev->cls->props; p && p->name; p++) {
        if ((p->flags & TESS_PROP_F_REQUIRED) && !pv->props_given[p - dev->cls->props]) {
            g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                        "device '%s' (%s): property '%s' is required (%s)", dev->id,
                        dev->cls->type, p->name, p->doc ? p->doc : "no default");
            return false;
        }
    }
    pv->realizing = true;
    for (guint i = 0; i < pv->children->len; i++) {
        if (!tess_device_realize(pv->children->pdata[i], err)) {
            pv->realizing = false;
            return false;
        }
    }
    g_autoptr(GError) rerr = NULL;
    bool ok = dev->cls->realize(dev, &rerr);
    pv->realizing = false;
    if (!ok) {
        release_claims(dev);
        if (!rerr)
            g_set_error(&rerr, TESS_DEVICE_ERROR, TESS_ERROR_FAILED, "realize failed");
        /* Prefix the device unless the message already names it. */
        if (strstr(rerr->message, dev->id))
            g_propagate_error(err, g_steal_pointer(&rerr));
        else
            g_set_error(err, rerr->domain, rerr->code, "device '%s' (%s): %s", dev->id,
                        dev->cls->type, rerr->message);
        return false;
    }
    pv->realized = true;
    return true;
}

void tess_device_reset(TessDevice *dev)
{
    if (dev->priv->realized && dev->cls->reset)
        dev->cls->reset(dev);
}

void tess_device_unrealize(TessDevice *dev)
{
    if (!dev->priv->realized)
        return;
    if (dev->cls->unrealize)
        dev->cls->unrealize(dev);
    release_claims(dev);
    dev->priv->realized = false;
}

void tess_device_free(TessDevice *dev)
{
    if (!dev)
        return;
    tess_device_unrealize(dev);
    tess_lines_destroy(dev);
    for (const TessPropSpec *p = dev->cls->props; p && p->name; p++) {
        if (p->type == TESS_PROP_STRING || p->type == TESS_PROP_PATH) {
            char **s = field(dev, p->offset);
            g_clear_pointer(s, g_free);
        }
    }
    g_ptr_array_unref(dev->priv->children);
    g_free(dev->priv->id);
    g_free(dev->priv);
    g_free(dev);
}

const void *tess_device_interface_v(TessDevice *dev, const char *iface, uint32_t min_version)
{
    for (const TessIfaceSpec *i = dev ? dev->cls->provides : NULL; i && i->name; i++)
        if (!strcmp(i->name, iface))
            return MAX(i->version, 1u) >= min_version ? i->ops : NULL;
    return NULL;
}

const void *tess_device_interface(TessDevice *dev, const char *iface)
{
    return tess_device_interface_v(dev, iface, 1);
}

TessDevice *tess_device_find_provider(TessDevice *dev, const char *iface,
                                      const char *id, GError **err)
{
    TessMachine *m = dev->machine;
    TessDevice *found = NULL;
    if (id) {
        found = g_hash_table_lookup(m->by_id, id);
        if (!found) {
            g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_NOT_FOUND,
                        "device '%s' needs '%s', which does not exist", dev->id, id);
            return NULL;
        }
        if (!tess_device_interface(found, iface)) {
            g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                        "device '%s' needs '%s' to provide '%s', but it is a %s",
                        dev->id, id, iface, found->cls->type);
            return NULL;
        }
    } else {
        for (guint i = 0; i < m->devices->len && !found; i++) {
            TessDevice *d = m->devices->pdata[i];
            if (d != dev && tess_device_interface(d, iface))
                found = d;
        }
        if (!found) {
            g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_NOT_FOUND,
                        "device '%s' needs a device providing '%s', and the machine has none",
                        dev->id, iface);
            return NULL;
        }
    }
    if (!found->priv->realized && !tess_device_realize(found, err))
        return NULL;
    return found;
}

GPtrArray *tess_machine_devices(TessMachine *m)
{
    return m->devices;
}

TessDevice *tess_machine_device(TessMachine *m, const char *id)
{
    return id ? g_hash_table_lookup(m->by_id, id) : NULL;
}

void tess_guest_error(TessDevice *dev, const char *fmt, ...)
{
    TessDevicePriv *pv = dev->priv;
    int64_t now = g_get_monotonic_time();
    if (now - pv->log_window_start > G_USEC_PER_SEC) {
        if (pv->log_dropped)
            g_debug("%s: %u more guest errors not shown", dev->id, pv->log_dropped);
        pv->log_window_start = now;
        pv->log_count = 0;
        pv->log_dropped = 0;
    }
    if (++pv->log_count > 5) {
        pv->log_dropped++;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_log(dev->cls->type, G_LOG_LEVEL_DEBUG, "%s: guest error: %s", dev->id, msg);
}

/* ---- run-time reconfiguration ------------------------------------------------ */

static void swap_child(TessDevice *parent, TessDevice **field, TessDevice *from,
                       TessDevice *to)
{
    TessMachine *m = parent->machine;
    *field = to;
    guint i;
    if (g_ptr_array_find(parent->priv->children, from, &i))
        parent->priv->children->pdata[i] = to;
    if (g_ptr_array_find(m->devices, from, &i))
        m->devices->pdata[i] = to;
    /* replace, not insert: the key string belongs to the device. */
    g_hash_table_replace(m->by_id, to->priv->id, to);
}

bool tess_device_replace_child(TessDevice *parent, const char *slot, unsigned idx,
                               const char *type, const char *const *props, GError **err)
{
    TessMachine *m = parent->machine;
    const TessSlotSpec *s = parent->cls->slots;
    for (; s && s->element; s++)
        if (!strcmp(s->element, slot))
            break;
    if (!s || !s->element || idx >= MAX(s->max, 1u)) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_NOT_FOUND,
                    "a %s ('%s') has no <%s> slot %u", parent->cls->type, parent->id, slot, idx);
        return false;
    }
    /* A parent keeps what it took from its children at realize (a drive's
     * block backend, say) and has no way yet to be told of a new one; the
     * port layer re-binds network backends itself. */
    if (!s->iface || strcmp(s->iface, TESS_IFACE_NET)) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "the <%s> of '%s' cannot be replaced while the machine runs", slot,
                    parent->id);
        return false;
    }
    const TessDeviceClass *cls = tess_registry_lookup(m->reg, type);
    if (!cls || cls->kind == TESS_CLASS_CPU) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_NOT_FOUND,
                    "unknown %s type '%s' (see `tessera inspect`)", slot, type);
        return false;
    }
    TessDevice **field = (TessDevice **)((char *)parent + s->offset) + idx;
    TessDevice *old = *field;
    g_autofree char *id = old ? g_strdup(old->id)
                              : MAX(s->max, 1u) > 1
                                    ? g_strdup_printf("%s.%s%u", parent->id, slot, idx)
                                    : g_strdup_printf("%s.%s", parent->id, slot);
    TessDevice *dev = tess_device_new(m, cls, id, err);
    if (!dev)
        return false;
    if (s->iface && !tess_device_interface(dev, s->iface)) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                    "<%s type='%s'>: a %s does not provide '%s'", slot, type, type, s->iface);
        tess_device_free(dev);
        return false;
    }
    for (const char *const *kv = props; kv && *kv; kv++) {
        const char *eq = strchr(*kv, '=');
        g_autofree char *key = eq ? g_strndup(*kv, eq - *kv) : NULL;
        if (!key || !*key ||
            (strcmp(key, s->type_attr ? s->type_attr : "type") &&
             !tess_device_set_prop(dev, key, eq + 1, err))) {
            if (!key || !*key)
                g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_INVALID,
                            "'%s': expected key=value", *kv);
            tess_device_free(dev);
            return false;
        }
    }
    dev->priv->parent = parent;
    /* Pull the cable from the old child first: the new one may want what
     * it holds (a switch port, a VDE connection). */
    if (old)
        tess_net_child_unbind(parent, old);
    g_autoptr(GError) e = NULL;
    if (!tess_device_realize(dev, &e))
        goto rollback;
    tess_device_reset(dev);
    if (old) {
        swap_child(parent, field, old, dev);
    } else {
        *field = dev;
        g_ptr_array_add(parent->priv->children, dev);
        guint pi = 0;
        g_ptr_array_find(m->devices, parent, &pi);
        g_ptr_array_insert(m->devices, (gint)pi, dev);   /* children before parents */
        g_hash_table_insert(m->by_id, dev->priv->id, dev);
    }
    if (!tess_net_child_rebind(parent, &e)) {
        /* The new child is realized but would not take the port. */
        tess_net_child_unbind(parent, dev);
        if (old) {
            swap_child(parent, field, dev, old);
        } else {
            *field = NULL;
            g_ptr_array_remove(parent->priv->children, dev);
            g_ptr_array_remove(m->devices, dev);
            g_hash_table_remove(m->by_id, dev->priv->id);
        }
        goto rollback;
    }
    tess_device_free(old);
    return true;
rollback:
    tess_device_free(dev);
    g_autoptr(GError) e2 = NULL;
    if (!tess_net_child_rebind(parent, &e2))
        g_warning("%s: the old %s could not take its port back: %s", parent->id, slot,
                  e2->message);
    g_propagate_prefixed_error(err, g_steal_pointer(&e), "%s: %s stays %s: ", parent->id, slot,
                               old ? old->cls->type : "empty");
    return false;
}
