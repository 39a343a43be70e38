/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * i440FX (82441FX PMC) private declarations shared by the host-bridge
 * registers (i440fx.c) and the PCI bus it implements (pcibus.c).
 */
#ifndef I440FX_H
#define I440FX_H

#include <tessera/tessera.h>

#define PCI_MAX_DEVFN 256

/* Standard header offsets and bits (PCI Local Bus Specification 2.1, 6.2). */
#define PCI_VENDOR_ID      0x00
#define PCI_DEVICE_ID      0x02
#define PCI_COMMAND        0x04
#define PCI_STATUS         0x06
#define PCI_REVISION_ID    0x08
#define PCI_CLASS_PROG     0x09
#define PCI_CACHE_LINE     0x0C
#define PCI_LATENCY_TIMER  0x0D
#define PCI_HEADER_TYPE    0x0E
#define PCI_BAR0           0x10
#define PCI_SUBSYS_VENDOR  0x2C
#define PCI_ROM_ADDRESS    0x30
#define PCI_INTERRUPT_LINE 0x3C
#define PCI_INTERRUPT_PIN  0x3D

#define PCI_COMMAND_IO        0x0001
#define PCI_COMMAND_MEMORY    0x0002
#define PCI_COMMAND_MASTER    0x0004
#define PCI_COMMAND_PARITY    0x0040
#define PCI_COMMAND_SERR      0x0100
#define PCI_COMMAND_INTX_DIS  0x0400

#define PCI_STATUS_INTERRUPT  0x0008
#define PCI_STATUS_FAST_B2B   0x0080
#define PCI_STATUS_DEVSEL_MED 0x0200
/* Write-one-to-clear error bits: data parity, signalled/received target
 * abort, received master abort, signalled system error, detected parity. */
#define PCI_STATUS_W1C        0xF900

#define PCI_ROM_SLOT 6            /* index of the expansion ROM in bar arrays */

typedef struct I440fx I440fx;

struct TessPciFunction {
    I440fx *bus;
    TessDevice *dev;
    int devfn;
    TessPciFunctionInfo info;
    uint8_t config[256];
    uint8_t wmask[256];           /* bits the guest may write */
    uint8_t w1cmask[256];         /* bits a written 1 clears */
    uint32_t bar_size[7];         /* decoded size; [6] = expansion ROM */
    bool mapped[7];
    uint32_t mapped_addr[7];
    bool level;                   /* INTx# as the function drives it */
};

/* i440FX datasheet (290549-001) 3.2.17/3.2.24: PAM and SMRAM. */
#define I440FX_PAM0   0x59
#define I440FX_SMRAM  0x72
#define I440FX_PAM_SEGMENTS 13

#define SMRAM_D_OPEN   0x40
#define SMRAM_D_CLS    0x20
#define SMRAM_D_LCK    0x10
#define SMRAM_G_SMRAME 0x08
#define SMRAM_C_BASE_SEG 0x02     /* hardwired 010b: SMRAM at A0000h */

struct I440fx {
    TessDevice dev;
    /* properties */
    uint64_t subsystem;           /* subsystem vendor << 16 | subsystem id */
    char *router_id;
    bool reset_control;
    /* state */
    uint32_t confadd;
    uint8_t rc;                   /* PIIX3 Reset Control at CF9h */
    uint8_t smram;                /* effective SMRAM register */
    uint8_t *host_config;         /* = host->config, for the state table */
    /* bus */
    TessPciFunction *fn[PCI_MAX_DEVFN];
    TessPciFunction *host;
    TessDevice *router;
    const TessPciIrqRouterOps *router_ops;
    bool router_lookup_failed;
    bool pirq_level[4];
    /* memory map */
    TessMemRegion *pam[I440FX_PAM_SEGMENTS];
    unsigned pam_access[I440FX_PAM_SEGMENTS];
    TessMemRegion *smram_alias;
    bool smram_mapped;
    TessMemRegion *hole;
    bool trace;                   /* --debug i440fx (TESS_TRACE_INIT at realize) */
};

/* pcibus.c */
extern const TessPciBusOps i440fx_pci_bus_ops;
extern const TessIoOps i440fx_confadd_ops;
extern const TessIoOps i440fx_confdata_ops;
TessPciFunction *pcibus_attach(I440fx *s, TessDevice *dev, int devfn,
                               const TessPciFunctionInfo *info, GError **err);
void pcibus_detach_all(I440fx *s);
void pcibus_reset_function(TessPciFunction *f);
void pcibus_update_mappings(TessPciFunction *f);
void pcibus_update_all(I440fx *s);
uint32_t pcibus_config_read(TessPciFunction *f, unsigned reg, unsigned size);
void pcibus_config_write(TessPciFunction *f, unsigned reg, uint32_t val,
                         unsigned size);

/* i440fx.c */
void i440fx_update_pam(I440fx *s);
void i440fx_update_smram(I440fx *s);

#endif
