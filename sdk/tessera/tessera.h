/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Tessera plugin SDK. A plugin includes this header (or the pieces it
 * needs) and nothing from core/.
 */
#ifndef TESSERA_TESSERA_H
#define TESSERA_TESSERA_H

#include <tessera/types.h>
#include <tessera/plugin.h>
#include <tessera/props.h>
#include <tessera/state.h>
#include <tessera/device.h>
#include <tessera/io.h>
#include <tessera/mem.h>
#include <tessera/signal.h>
#include <tessera/dma.h>
#include <tessera/clock.h>
#include <tessera/cpu.h>
#include <tessera/pci.h>
#include <tessera/chardev.h>
#include <tessera/machine.h>
#include <tessera/control.h>
#include <tessera/input.h>
#include <tessera/block.h>
#include <tessera/display.h>
#include <tessera/fwcfg.h>
#include <tessera/audio.h>
#include <tessera/net.h>

#endif
