/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Signal lines. An output (TessSignal) drives every input pin wired to it;
 * a pin counts its high sources, so its level is the wired OR of them, and
 * its device hears about a change only when that OR flips.
 */
#include "core.h"

#include <string.h>

/* The pin plus the level its device was last told, so a handler that
 * changes lines while a change propagates never gets told twice. */
typedef struct SigPin {
    TessInputPin pin;
    bool told;
} SigPin;

static char *sig_member_name(const TessLineSpec *spec, unsigned i)
{
    return spec->count > 1 ? g_strdup_printf("%s%u", spec->name, i)
                           : g_strdup(spec->name);
}

void tess_lines_create(TessDevice *dev)
{
    TessDevicePriv *pv = dev->priv;
    if (!pv->outputs)
        pv->outputs = g_ptr_array_new();
    if (!pv->inputs)
        pv->inputs = g_ptr_array_new();

    for (const TessLineSpec *spec = dev->cls->lines; spec && spec->name; spec++) {
        unsigned count = spec->count ? spec->count : 1;
        for (unsigned i = 0; i < count; i++) {
            if (spec->dir == TESS_LINE_OUT) {
                TessSignal *s = g_new0(TessSignal, 1);
                s->owner = dev;
                s->name = sig_member_name(spec, i);
                s->sinks = g_ptr_array_new();
                ((TessSignal **)((char *)dev + spec->offset))[i] = s;
                g_ptr_array_add(pv->outputs, s);
            } else {
                SigPin *sp = g_new0(SigPin, 1);
                sp->pin.dev = dev;
                sp->pin.spec = spec;
                sp->pin.index = i;
                sp->pin.name = sig_member_name(spec, i);
                sp->pin.sources = g_ptr_array_new();
                g_ptr_array_add(pv->inputs, sp);
            }
        }
    }
}

/* Teardown detaches without calling handlers: the device on the other end
 * may itself be half torn down. */
void tess_lines_destroy(TessDevice *dev)
{
    TessDevicePriv *pv = dev->priv;

    if (pv->outputs) {
        for (guint i = 0; i < pv->outputs->len; i++) {
            TessSignal *s = g_ptr_array_index(pv->outputs, i);
            for (guint j = 0; j < s->sinks->len; j++) {
                TessInputPin *pin = g_ptr_array_index(s->sinks, j);
                g_ptr_array_remove(pin->sources, s);
                if (s->level && pin->high)
                    pin->high--;
            }
            for (const TessLineSpec *spec = dev->cls->lines; spec && spec->name; spec++) {
                if (spec->dir != TESS_LINE_OUT)
                    continue;
                TessSignal **slot = (TessSignal **)((char *)dev + spec->offset);
                for (unsigned k = 0; k < (spec->count ? spec->count : 1); k++)
                    if (slot[k] == s)
                        slot[k] = NULL;
            }
            g_ptr_array_unref(s->sinks);
            g_free(s->name);
            g_free(s);
        }
        g_clear_pointer(&pv->outputs, g_ptr_array_unref);
    }
    if (pv->inputs) {
        for (guint i = 0; i < pv->inputs->len; i++) {
            TessInputPin *pin = g_ptr_array_index(pv->inputs, i);
            for (guint j = 0; j < pin->sources->len; j++) {
                TessSignal *s = g_ptr_array_index(pin->sources, j);
                g_ptr_array_remove(s->sinks, pin);
            }
            g_ptr_array_unref(pin->sources);
            g_free(pin->name);
            g_free(pin);
        }
        g_clear_pointer(&pv->inputs, g_ptr_array_unref);
    }
}

TessInputPin *tess_device_input(TessDevice *dev, const char *line)
{
    GPtrArray *in = dev && dev->priv ? dev->priv->inputs : NULL;
    for (guint i = 0; in && i < in->len; i++) {
        TessInputPin *pin = g_ptr_array_index(in, i);
        if (!strcmp(pin->name, line))
            return pin;
    }
    return NULL;
}

TessSignal *tess_device_output(TessDevice *dev, const char *line)
{
    GPtrArray *out = dev && dev->priv ? dev->priv->outputs : NULL;
    for (guint i = 0; out && i < out->len; i++) {
        TessSignal *s = g_ptr_array_index(out, i);
        if (!strcmp(s->name, line))
            return s;
    }
    return NULL;
}

bool tess_device_input_level(TessDevice *dev, const char *line)
{
    TessInputPin *pin = tess_device_input(dev, line);
    if (!pin)
        return false;
    for (guint i = 0; i < pin->sources->len; i++) {
        TessDevice *src = ((TessSignal *)pin->sources->pdata[i])->owner;
        if (src && src->cls->sync_outputs)
            src->cls->sync_outputs(src);
    }
    return pin->high > 0;
}

/* Tell the pin's device if its ORed level differs from what it last heard. */
static void sig_pin_update(TessInputPin *pin)
{
    SigPin *sp = (SigPin *)pin;
    bool level = pin->high > 0;
    if (level == sp->told)
        return;
    sp->told = level;
    if (pin->spec->set)
        pin->spec->set(pin->dev, pin->index, level);
}

/* Move the line to `level` and every sink's count of high sources with
 * it; false when there is nothing to move. */
static bool sig_move(TessSignal *s, bool level)
{
    if (!s || s->level == level)
        return false;
    s->level = level;
    for (guint i = 0; i < s->sinks->len; i++) {
        TessInputPin *pin = g_ptr_array_index(s->sinks, i);
        if (level)
            pin->high++;
        else if (pin->high)
            pin->high--;
    }
    return true;
}

void tess_signal_set(TessSignal *s, bool level)
{
    if (s && s->owner && s->owner->machine && s->owner->machine->restoring) {
        tess_signal_restore_level(s, level);
        return;
    }
    /* Count first, then tell: a handler that moves this same line again
     * finds every pin's count already consistent. */
    if (!sig_move(s, level))
        return;
    for (guint i = 0; i < s->sinks->len; i++)
        sig_pin_update(g_ptr_array_index(s->sinks, i));
}

void tess_signal_restore_level(TessSignal *s, bool level)
{
    if (!sig_move(s, level))
        return;
    for (guint i = 0; i < s->sinks->len; i++) {
        SigPin *sp = g_ptr_array_index(s->sinks, i);
        sp->told = sp->pin.high > 0;
    }
}

void tess_signal_pulse(TessSignal *s)
{
    tess_signal_set(s, true);
    tess_signal_set(s, false);
}

bool tess_signal_level(const TessSignal *s)
{
    return s && s->level;
}

bool tess_signal_connect(TessSignal *out, TessDevice *dst, const char *line,
                         GError **err)
{
    g_return_val_if_fail(out && dst && line, false);
    TessInputPin *pin = tess_device_input(dst, line);
    if (!pin) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_NOT_FOUND,
                    "device '%s' (%s) has no input line '%s'", dst->id,
                    dst->cls->type, line);
        return false;
    }
    if (g_ptr_array_find(out->sinks, pin, NULL)) {
        g_set_error(err, TESS_CONFIG_ERROR, TESS_ERROR_DUPLICATE,
                    "'%s.%s' is already wired to '%s.%s'", out->owner->id,
                    out->name, dst->id, pin->name);
        return false;
    }
    g_ptr_array_add(out->sinks, pin);
    g_ptr_array_add(pin->sources, out);
    if (out->level) {
        pin->high++;
        sig_pin_update(pin);
    }
    return true;
}

/* Who may share an interrupt input. An interrupt controller's inputs (a
 * class providing "intc": the 8259's IR0-7) are edge-triggered unless its
 * `elcr` property, the PIIX's Edge/Level Control Register as the machine
 * file sets it, makes that input level-sensitive. On an edge input only
 * open-drain drivers can meet: a PCI function's INTx (its class needs the
 * pci-bus) and a PCI interrupt router's outputs (the PIRQs it steers onto
 * ISA IRQs) are wired-OR by design (PCI Local Bus 2.2, 2.2.6: INTx# are
 * level-sensitive, active low, open drain). Any other device is an ISA
 * card, whose IRQ line is an active-high totem-pole output: two of them
 * on one input fight and the edge is lost, which is why ISA IRQs are
 * never shared. Two outputs of one device (a card's jumper choices) are
 * its own affair, and so is a slave controller's INT on its master's IR
 * (the cascade is the board's wiring, not a card: the 8259 tests OR a
 * test source onto it on purpose). */
static bool sig_may_share(TessDevice *dev)
{
    if (tess_device_interface(dev, TESS_IFACE_PCI_IRQ_ROUTER) ||
        tess_device_interface(dev, TESS_IFACE_INTC))
        return true;
    for (const char *const *n = dev->cls->needs; n && *n; n++)
        if (!strcmp(*n, TESS_IFACE_PCI_BUS))
            return true;
    return false;
}

static bool sig_level_input(const TessInputPin *pin)
{
    for (const TessPropSpec *p = pin->dev->cls->props; p && p->name; p++) {
        if (p->type == TESS_PROP_UINT && !strcmp(p->name, "elcr")) {
            uint64_t elcr = *(const uint64_t *)((const char *)pin->dev + p->offset);
            return pin->index < 64 && (elcr >> pin->index & 1);
        }
    }
    return false;
}

TessSignal *tess_signal_edge_clash(TessSignal *out, TessDevice *dst, const char *line)
{
    TessInputPin *pin = tess_device_input(dst, line);
    if (!pin || !tess_device_interface(dst, TESS_IFACE_INTC) || sig_level_input(pin) ||
        sig_may_share(out->owner))
        return NULL;
    for (guint i = 0; i < pin->sources->len; i++) {
        TessSignal *s = g_ptr_array_index(pin->sources, i);
        if (s->owner != out->owner && !sig_may_share(s->owner))
            return s;
    }
    return NULL;
}

void tess_signal_disconnect(TessSignal *out, TessDevice *dst, const char *line)
{
    TessInputPin *pin = out && dst && line ? tess_device_input(dst, line) : NULL;
    if (!pin || !g_ptr_array_remove(out->sinks, pin))
        return;
    g_ptr_array_remove(pin->sources, out);
    if (out->level && pin->high) {
        pin->high--;
        sig_pin_update(pin);
    }
}
