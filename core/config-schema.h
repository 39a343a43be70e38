/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The machine file schema check (config-schema.c), for config.c.
 */
#pragma once

#include <stdbool.h>
#include <glib.h>
#include <libxml/tree.h>

/* Check doc against machines/machine.rng (the built-in copy); on failure
 * the error names file:line and the element. Thread-safe. */
bool tess_conf_validate_schema(xmlDocPtr doc, const char *file, GError **err);
