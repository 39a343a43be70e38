/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ABI anchor: one exported function taking every struct of the plugin SDK
 * that libtessera's own functions do not show (ops tables and structs one
 * plugin fills and another reads, reached through `const void *`), so that
 * abidw sees their layout. Built against the installed headers by
 * scripts/abi-check.sh; never installed.
 */
#include <tessera/tessera.h>
#include <tessera/block.h>
#include <tessera/chardev.h>
#include <tessera/clock.h>
#include <tessera/control.h>
#include <tessera/cpu.h>
#include <tessera/display.h>
#include <tessera/dma.h>
#include <tessera/fwcfg.h>
#include <tessera/input.h>
#include <tessera/pci.h>
#include <tessera/state.h>
#include <tessera/net.h>
#include <tessera/audio.h>

__attribute__((visibility("default")))
void tess_abi_anchor(const TessPciFunctionInfo *a, const TessPciBusOps *b,
                     const TessPciIrqRouterOps *c, const TessCpuOps *d,
                     const TessIntcOps *e, const TessIsaDmaOps *f, const TessFwCfgOps *g,
                     const TessBlockOps *h, const TessBlockInfo *i, const TessBlockCheck *j,
                     const TessBlockCreate *k, const TessDisplaySourceOps *l,
                     const TessInputOps *n, const TessStateDesc *o, const TessCpuState *p,
                     const TessIfaceSpec *q, const TessDeviceClass *r,
                     const TessNetNicOps *s, const TessNetBackendOps *t,
                     const TessAudioSinkOps *u, const TessJoystickOps *v);
void tess_abi_anchor(const TessPciFunctionInfo *a, const TessPciBusOps *b,
                     const TessPciIrqRouterOps *c, const TessCpuOps *d,
                     const TessIntcOps *e, const TessIsaDmaOps *f, const TessFwCfgOps *g,
                     const TessBlockOps *h, const TessBlockInfo *i, const TessBlockCheck *j,
                     const TessBlockCreate *k, const TessDisplaySourceOps *l,
                     const TessInputOps *n, const TessStateDesc *o, const TessCpuState *p,
                     const TessIfaceSpec *q, const TessDeviceClass *r,
                     const TessNetNicOps *s, const TessNetBackendOps *t,
                     const TessAudioSinkOps *u, const TessJoystickOps *v)
{
}
