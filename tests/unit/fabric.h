/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the fabric tests (ports, memory, lines, DMA, clock) share: they
 * build machines by hand, without plugins or XML, from an empty machine
 * and devices of their own classes; fab_owner_class is a device that only
 * owns what a test claims for it.
 */
#ifndef TESS_TEST_FABRIC_H
#define TESS_TEST_FABRIC_H

#include "core.h"

static inline bool fab_realize_nothing(TessDevice *dev, GError **err)
{
    return true;
}

G_GNUC_UNUSED static const TessDeviceClass fab_owner_class = {
    .type = "test-owner", .kind = TESS_CLASS_DEVICE, .doc = "owns what a test claims",
    .instance_size = sizeof(TessDevice), .realize = fab_realize_nothing,
};

/* An empty machine: deterministic at ns_per_insn or realtime, with `ram`
 * bytes of main RAM (0: none). */
static inline TessMachine *fab_machine(bool deterministic, uint32_t ns_per_insn, uint64_t ram)
{
    TessMachineOptions o = { .deterministic = deterministic, .ns_per_insn = ns_per_insn };
    TessMachine *m = tess_machine_new_empty(NULL, "test", &o);
    if (ram) {
        GError *err = NULL;
        g_assert_true(tess_mem_create_main_ram(m, ram, ram, &err));
        g_assert_no_error(err);
    }
    return m;
}

/* A realized device of class cls in m, listed and found by id as the
 * machine's own devices are (the machine frees it). */
static inline TessDevice *fab_device(TessMachine *m, const TessDeviceClass *cls, const char *id)
{
    GError *err = NULL;
    TessDevice *d = tess_device_new(m, cls, id, &err);
    g_assert_no_error(err);
    g_assert_true(tess_device_realize(d, &err));
    g_assert_no_error(err);
    g_ptr_array_add(m->devices, d);
    g_hash_table_insert(m->by_id, (char *)d->id, d);
    return d;
}

#endif
