/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Subcommands of the `tessera` command; each returns the exit status. */
#ifndef TESSERA_CLI_H
#define TESSERA_CLI_H

#include "core.h"

int cli_run(TessRegistry *reg, int argc, char **argv);
int cli_validate(TessRegistry *reg, int argc, char **argv);
int cli_inspect(TessRegistry *reg, int argc, char **argv);
int cli_ctl(int argc, char **argv);
int cli_img(TessRegistry *reg, int argc, char **argv);
int cli_snapshot(TessRegistry *reg, int argc, char **argv);

#endif
