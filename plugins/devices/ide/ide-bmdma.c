/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PIIX3 bus master IDE function (82371FB/SB datasheet 2.5 and 2.7.3,
 * "Bus Master IDE Operation"): per channel a command register (BMICOM),
 * a status register (BMISTA) and a descriptor table pointer (BMIDTP) in
 * the 16 bytes of BAR4. The Physical Region Descriptor table lives in
 * guest memory: each entry a word-aligned base address and a byte count
 * (0 meaning 64 KiB), bit 31 of the second dword ending the table.
 *
 * Guest memory is only ever touched through tess_dma_read/write, which
 * check a whole transfer before moving a byte: a descriptor or a buffer
 * outside RAM ends the transfer with BMISTA's error bit (the PCI master
 * abort) and an aborted command, and nothing else is written.
 */
#define G_LOG_DOMAIN "ide"
#include "ide.h"

#include <string.h>

/* Work done per timer callback before the bus master yields, so a long
 * transfer does not hold the machine thread. */
#define BM_SLICE_BYTES (1u << 20)

static inline uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void bm_fail(IdeChannel *ch, IdeUnit *u, GError *e)
{
    Ide *s = ch->ide;
    tess_guest_error(&s->dev, "channel %u: bus master: %s", ch->index, e->message);
    g_error_free(e);
    ch->r.bmista = (uint8_t)((ch->r.bmista | BMISTA_ERR) & ~BMISTA_BMIDEA);
    s->cfg[PCI_STATUS_REG + 1] |= PCISTS_RMA >> 8;
    ch->r.dma_wait = 0;
    if (u->atapi)
        atapi_dma_error(u);
    else
        ide_cmd_error(u, ER_ABRT);
}

static void bm_complete(IdeChannel *ch, IdeUnit *u)
{
    ch->r.dma_wait = 0;
    /* The PRD table ran out together with the data: the bus master goes
     * idle; a larger table leaves it active until the host stops it. */
    if (ch->r.prd_have && ch->r.prd_eot && !ch->r.prd_left)
        ch->r.bmista &= (uint8_t)~BMISTA_BMIDEA;
    if (u->atapi)
        atapi_finish(u);
    else
        ide_cmd_done(u, true);
}

void bm_run(IdeChannel *ch)
{
    Ide *s = ch->ide;
    TessMachine *m = s->dev.machine;
    IdeUnit *u = &ch->unit[ch->r.active & 1];
    IdeChanRegs *r = &ch->r;
    uint32_t moved = 0;

    if (!r->dma_wait || !(r->bmista & BMISTA_BMIDEA) || !u->drive)
        return;
    if (!(s->cfg[PCI_COMMAND_REG] & PCICMD_BME)) {
        tess_guest_error(&s->dev, "channel %u: bus master started with BME clear in PCICMD",
                         ch->index);
        return;
    }
    bool to_mem = r->xfer != XF_ATA_WRITE;
    if (!!(r->bmicom & BMICOM_RWCON) != to_mem) {
        /* The controller and the drive wait for each other forever. */
        tess_guest_error(&s->dev, "channel %u: BMICOM direction is %s but the drive %s",
                         ch->index, (r->bmicom & BMICOM_RWCON) ? "write" : "read",
                         to_mem ? "sends data" : "expects data");
        return;
    }

    for (;;) {
        if (r->data_pos >= r->buf_len) {
            IdeChunk c = u->atapi ? atapi_next_chunk(u) : ata_next_chunk(u, true);
            if (c == CHUNK_FAIL) {
                r->dma_wait = 0;
                return;
            }
            if (c == CHUNK_END) {
                bm_complete(ch, u);
                return;
            }
        }
        if (!r->prd_left) {
            if (r->prd_have && r->prd_eot) {
                /* The table is exhausted but the drive has more: the bus
                 * master stops; the drive keeps requesting. */
                r->bmista &= (uint8_t)~BMISTA_BMIDEA;
                return;
            }
            uint8_t e[8];
            GError *err = NULL;
            if (!tess_dma_read(m, r->prd_next, e, sizeof(e), &err)) {
                bm_fail(ch, u, err);
                return;
            }
            r->prd_buf = le32(e) & ~1u;
            r->prd_left = le32(e + 4) & 0xFFFE;
            if (!r->prd_left)
                r->prd_left = 0x10000;
            r->prd_eot = (le32(e + 4) & PRD_EOT) != 0;
            r->prd_have = 1;
            /* A table may not cross a 64 KiB boundary: the PIIX3's
             * descriptor pointer only counts in its low 16 bits. */
            r->prd_next = (r->prd_next & 0xFFFF0000u) | ((r->prd_next + 8) & 0xFFFFu);
        }
        uint32_t n = MIN(r->prd_left, r->buf_len - r->data_pos);
        GError *err = NULL;
        bool ok = to_mem ? tess_dma_write(m, r->prd_buf, ch->buf + r->data_pos, n, &err)
                         : tess_dma_read(m, r->prd_buf, ch->buf + r->data_pos, n, &err);
        if (!ok) {
            bm_fail(ch, u, err);
            return;
        }
        r->prd_buf += n;
        r->prd_left -= n;
        r->data_pos += n;
        moved += n;
        if (moved >= BM_SLICE_BYTES) {
            ide_arm(ch, ACT_DMA, IDE_DMA_NS);
            return;
        }
    }
}

/* The drive asserts DMARQ: go if the host has started the bus master. */
void bm_drive_ready(IdeChannel *ch)
{
    ch->r.dma_wait = 1;
    if (ch->r.bmista & BMISTA_BMIDEA)
        ide_arm(ch, ACT_DMA, IDE_DMA_NS);
}

static uint64_t bm_read(void *opaque, uint64_t off, unsigned size)
{
    Ide *s = opaque;
    IdeChannel *ch = &s->ch[(off >> 3) & 1];
    unsigned reg = off & 7;
    if (!(s->cfg[PCI_COMMAND_REG] & PCICMD_IOSE))
        return 0xFF;
    switch (reg) {
    case BM_BMICOM:
        return ch->r.bmicom;
    case BM_BMISTA:
        return ch->r.bmista;
    case 4: case 5: case 6: case 7:
        return (ch->r.bmidtp >> (8 * (reg - 4))) & 0xFF;
    default:
        return 0;
    }
}

static void bm_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    Ide *s = opaque;
    IdeChannel *ch = &s->ch[(off >> 3) & 1];
    unsigned reg = off & 7;
    uint8_t v = (uint8_t)val;
    if (!(s->cfg[PCI_COMMAND_REG] & PCICMD_IOSE))
        return;
    switch (reg) {
    case BM_BMICOM: {
        uint8_t old = ch->r.bmicom;
        ch->r.bmicom = v & (BMICOM_SSBM | BMICOM_RWCON);
        if (!(old & BMICOM_SSBM) && (v & BMICOM_SSBM)) {
            /* Starting reloads the descriptor pointer. */
            ch->r.bmista |= BMISTA_BMIDEA;
            ch->r.prd_next = ch->r.bmidtp;
            ch->r.prd_have = ch->r.prd_eot = 0;
            ch->r.prd_left = 0;
            if (ch->r.dma_wait)
                ide_arm(ch, ACT_DMA, IDE_DMA_NS);
        } else if ((old & BMICOM_SSBM) && !(v & BMICOM_SSBM)) {
            ch->r.bmista &= (uint8_t)~BMISTA_BMIDEA;
            if (ch->r.action == ACT_DMA)
                ide_cancel(ch);
        }
        break;
    }
    case BM_BMISTA:
        /* Error and interrupt are write-one-to-clear; the drive DMA
         * capable bits are plain storage. */
        ch->r.bmista &= (uint8_t)~(v & (BMISTA_ERR | BMISTA_INT));
        ch->r.bmista = (uint8_t)((ch->r.bmista & ~(BMISTA_DMA0CAP | BMISTA_DMA1CAP)) |
                                 (v & (BMISTA_DMA0CAP | BMISTA_DMA1CAP)));
        break;
    case 4: case 5: case 6: case 7: {
        unsigned sh = 8 * (reg - 4);
        ch->r.bmidtp = (ch->r.bmidtp & ~(0xFFu << sh)) | ((uint32_t)v << sh);
        ch->r.bmidtp &= ~3u;             /* dword aligned */
        break;
    }
    default:
        break;
    }
}

const TessIoOps ide_bmdma_ops = { .read = bm_read, .write = bm_write, .widths = TESS_W8 };
