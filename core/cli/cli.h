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

/* --debug: "help" lists the log domains, "all" every one; names of
 * plugins stand for their domains. Returns false when the program should
 * exit (help printed). Sets G_MESSAGES_DEBUG. */
bool cli_setup_debug(const char *domains);
/* The --debug entry each subcommand's option parser carries (already
 * applied by main before plugins load; accepted here so --help lists it). */
extern const GOptionEntry cli_debug_entry[];

/* shortcuts.c: `tessera run IMAGE` and the QEMU-style options. */
typedef enum {
    CLI_FILE_MACHINE,       /* XML (or unreadable: the machine loader reports it) */
    CLI_FILE_ISO,           /* ISO 9660: boots from the CD-ROM */
    CLI_FILE_VHD,           /* "conectix" footer */
    CLI_FILE_RAW,           /* anything else: a raw disk image */
    CLI_FILE_OTHER,         /* a disk format Tessera does not read (qcow2, VMDK...) */
} CliFileKind;
CliFileKind cli_file_kind(const char *path, char **why);

typedef struct {
    char **disks, **cdroms;         /* FILE[,format=..][,undo=..][,readonly=..] */
    char *memory, *boot, *net;
    char *sound;                    /* non-NULL: the run wants a sound card */
} CliShortcuts;
bool cli_shortcuts_any(const CliShortcuts *s);
void cli_shortcuts_clear(CliShortcuts *s);
/* The overlay machine file that extends `machine` (a name or a file path)
 * as the shortcuts say; load it from *dir_out. */
char *cli_overlay_xml(TessRegistry *reg, const char *machine, const CliShortcuts *s,
                      char **dir_out, GError **err);

#endif
