/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PC/AT DMA subsystem: two Intel 8237A controllers and the 74LS612
 * page registers.
 *
 * Written from the Intel 8237A datasheet (231466): "Register Description"
 * (Current/Base Address and Word Count, Command, Mode, Request, Mask,
 * Status, Temporary), "Software Commands" (Clear First/Last Flip-Flop,
 * Master Clear, Clear Mask Register) and "Transfer Modes" (single, block,
 * demand, cascade; autoinitialize; address decrement), and the PC/AT
 * wiring: DMA1 (channels 0-3, bytes) at 0x00-0x0F, DMA2 (channels 4-7,
 * words) at 0xC0-0xDF on even addresses (A0 is not decoded), DMA1
 * cascaded into DMA2 channel 4, page registers 0x81-0x8F.
 *
 * An 8-bit channel forms A16-A23 from its page register and its address
 * counter wraps inside the 64 KiB page; a 16-bit channel counts words,
 * forms A17-A23 from page bits 7-1 and wraps inside 128 KiB.
 *
 * The ISA DMA service ("isa-dma", sdk/tessera/dma.h): a device registers
 * a transfer callback per channel and raises DRQ; whenever a channel is
 * requesting and may run (unmasked, controller enabled, DMA2 channel 4
 * open for DMA1) the callback is called right away, on the machine
 * thread, and moves bytes with read_memory/write_memory. A device that
 * keeps DRQ up without moving anything is called again after
 * DMA_RETRY_NS of virtual time, so runs are deterministic.
 */
#define G_LOG_DOMAIN "dma"

#include <tessera/tessera.h>

#include <string.h>

#define DMA_RETRY_NS 500000u
#define DMA_MAX_CALLS 64            /* callback calls per channel per run */

/* Command register */
#define CMD_MEM2MEM  0x01
#define CMD_ADHE     0x02           /* channel 0 address hold */
#define CMD_COND     0x04           /* controller disable */
#define CMD_ROT      0x10           /* rotating priority */
#define CMD_DREQ_LOW 0x40           /* DREQ sense active low */
/* Mode register */
#define MODE_TYPE    0x0C
#define MODE_VERIFY  0x00
#define MODE_WRITE   0x04           /* device -> memory */
#define MODE_READ    0x08           /* memory -> device */
#define MODE_AUTO    0x10
#define MODE_DEC     0x20
#define MODE_MODE    0xC0
#define MODE_DEMAND  0x00
#define MODE_SINGLE  0x40
#define MODE_BLOCK   0x80
#define MODE_CASCADE 0xC0

/* Page register (port - 0x80) of each channel. */
static const uint8_t dma_page_port[8] = { 0x7, 0x3, 0x1, 0x2, 0xF, 0xB, 0x9, 0xA };

typedef struct DmaChan {
    uint16_t base_addr, base_count;
    uint16_t start_addr, start_count;   /* current registers at pos 0 */
    uint32_t pos;                       /* bytes moved since then */
    uint8_t mode;
    uint8_t drq;
    uint8_t block_active;               /* block mode: runs to TC once started */
    uint8_t calls;                      /* not state: per-run limit */
    TessIsaDmaTransfer fn;              /* not state */
    void *opaque;
} DmaChan;

typedef struct DmaCtl {
    uint8_t command;
    uint8_t status;                     /* TC bits 3-0 */
    uint8_t request;                    /* software request bits 3-0 */
    uint8_t mask;                       /* bits 3-0 */
    uint8_t temp;
    uint8_t flipflop;
    DmaChan ch[4];
} DmaCtl;

typedef struct Dma {
    TessDevice dev;
    DmaCtl c[2];
    uint8_t page[16];                   /* 0x80-0x8F */
    uint8_t running, rerun;
    TessTimer *timer;
} Dma;

static DmaChan *dma_chan(Dma *d, unsigned n)
{
    return &d->c[n >> 2].ch[n & 3];
}

static unsigned dma_unit(unsigned n)
{
    return n >= 4 ? 2 : 1;
}

static uint32_t dma_total(DmaChan *ch, unsigned n)
{
    return ((uint32_t)ch->start_count + 1) * dma_unit(n);
}

static uint16_t dma_cur_addr(DmaChan *ch, unsigned n)
{
    uint32_t units = ch->pos / dma_unit(n);
    return (ch->mode & MODE_DEC) ? ch->start_addr - units : ch->start_addr + units;
}

static uint16_t dma_cur_count(DmaChan *ch, unsigned n)
{
    return ch->start_count - ch->pos / dma_unit(n);
}

/* Physical address of byte `pos` of channel n's transfer. */
static uint64_t dma_phys(Dma *d, unsigned n, DmaChan *ch, uint32_t pos)
{
    uint8_t page = d->page[dma_page_port[n]];
    if (n < 4) {
        uint16_t a = (ch->mode & MODE_DEC) ? ch->start_addr - pos : ch->start_addr + pos;
        return (uint64_t)page << 16 | a;
    }
    uint16_t w = pos >> 1;
    uint16_t a = (ch->mode & MODE_DEC) ? ch->start_addr - w : ch->start_addr + w;
    return (uint64_t)(page & 0xFE) << 16 | (uint32_t)a << 1 | (pos & 1);
}

/* Bytes from pos that are contiguous and ascending in memory. */
static uint32_t dma_run_len(unsigned n, DmaChan *ch, uint32_t pos, uint32_t len)
{
    if (ch->mode & MODE_DEC)
        return n < 4 ? 1 : 2 - (pos & 1);
    uint32_t span;
    if (n < 4)
        span = 0x10000 - (uint16_t)(ch->start_addr + pos);
    else
        span = 0x20000 - (((uint32_t)(uint16_t)(ch->start_addr + (pos >> 1)) << 1) | (pos & 1));
    return MIN(len, span);
}

/* Move len bytes between buf and the channel's window at pos. */
static uint32_t dma_copy(Dma *d, unsigned n, DmaChan *ch, void *buf, uint32_t pos,
                         uint32_t len, bool to_memory)
{
    uint32_t done = 0;
    while (done < len) {
        uint32_t run = dma_run_len(n, ch, pos + done, len - done);
        uint64_t pa = dma_phys(d, n, ch, pos + done);
        g_autoptr(GError) err = NULL;
        bool ok = to_memory
            ? tess_dma_write(d->dev.machine, pa, (uint8_t *)buf + done, run, &err)
            : tess_dma_read(d->dev.machine, pa, (uint8_t *)buf + done, run, &err);
        if (!ok) {
            tess_guest_error(&d->dev, "channel %u: transfer at 0x%" G_GINT64_MODIFIER "x: %s",
                             n, pa, err ? err->message : "outside RAM");
            break;
        }
        done += run;
    }
    return done;
}

/* ---- transfers ---------------------------------------------------------- */

static bool dma_requesting(Dma *d, unsigned n)
{
    DmaCtl *c = &d->c[n >> 2];
    DmaChan *ch = dma_chan(d, n);
    unsigned i = n & 3;
    bool dreq = ch->drq ^ !!(c->command & CMD_DREQ_LOW);
    return dreq || (c->request & (1u << i)) || ch->block_active;
}

static bool dma_may_run(Dma *d, unsigned n)
{
    DmaCtl *c = &d->c[n >> 2];
    DmaChan *ch = dma_chan(d, n);
    unsigned bit = 1u << (n & 3);
    if (c->command & CMD_COND)
        return false;
    if ((ch->mode & MODE_MODE) == MODE_CASCADE)
        return false;
    /* DMA1 reaches the bus through DMA2 channel 4. */
    if (n < 4 && ((d->c[1].command & CMD_COND) || (d->c[1].mask & 1)))
        return false;
    /* Request Register: software requests "are non-maskable"; the mask
     * bit gates DREQ only. */
    if (c->request & bit)
        return true;
    if (c->mask & bit)
        return false;
    return dma_requesting(d, n);
}

static void dma_terminal_count(Dma *d, unsigned n)
{
    DmaCtl *c = &d->c[n >> 2];
    DmaChan *ch = dma_chan(d, n);
    unsigned bit = 1u << (n & 3);
    c->status |= bit;
    c->request &= ~bit;
    ch->block_active = 0;
    if (ch->mode & MODE_AUTO) {
        ch->start_addr = ch->base_addr;
        ch->start_count = ch->base_count;
        ch->pos = 0;
    } else {
        ch->pos = dma_total(ch, n);
        c->mask |= bit;
    }
}

/* A transfer with no device on the I/O side (software request): memory
 * cycles happen with nothing driving the bus, so a write transfer
 * stores the floating bus (0xFF). Memory-to-memory uses channels 0/1. */
static void dma_internal_transfer(Dma *d, unsigned n)
{
    DmaCtl *c = &d->c[n >> 2];
    DmaChan *ch = dma_chan(d, n);
    uint32_t left = dma_total(ch, n) - MIN(ch->pos, dma_total(ch, n));

    if (n == 0 && (c->command & CMD_MEM2MEM)) {
        DmaChan *dst = &c->ch[1];
        uint32_t total = dma_total(dst, 1);
        while (dst->pos < total) {
            /* The chip moves a byte at a time (read into the temporary
             * register, then write), so an overlapping copy repeats
             * what it already wrote. A chunk moves the same bytes when
             * both sides ascend through one window, the two ranges are
             * disjoint and all of both is RAM (the all-or-nothing DMA
             * calls write nothing otherwise); anything else goes byte by
             * byte. */
            if (!(c->command & CMD_ADHE)) {
                uint8_t buf[256];
                uint32_t k = MIN(total - dst->pos, (uint32_t)sizeof(buf));
                k = MIN(k, dma_run_len(0, ch, ch->pos, k));
                k = MIN(k, dma_run_len(1, dst, dst->pos, k));
                uint64_t s = dma_phys(d, 0, ch, ch->pos), t = dma_phys(d, 1, dst, dst->pos);
                if (k > 1 && (s >= t ? s - t : t - s) >= k &&
                    tess_dma_read(d->dev.machine, s, buf, k, NULL) &&
                    tess_dma_write(d->dev.machine, t, buf, k, NULL)) {
                    c->temp = buf[k - 1];
                    ch->pos += k;
                    dst->pos += k;
                    continue;
                }
            }
            uint8_t b = 0xFF;
            dma_copy(d, 0, ch, &b, ch->pos, 1, false);
            c->temp = b;
            dma_copy(d, 1, dst, &b, dst->pos, 1, true);
            if (!(c->command & CMD_ADHE))
                ch->pos++;
            dst->pos++;
        }
        dma_terminal_count(d, 1);
        c->request &= ~1u;
        if (!(ch->mode & MODE_AUTO) && ch->pos >= dma_total(ch, 0))
            dma_terminal_count(d, 0);
        return;
    }
    if ((ch->mode & MODE_TYPE) == MODE_WRITE) {
        uint8_t ff[256];
        memset(ff, 0xFF, sizeof(ff));
        while (left) {
            uint32_t k = MIN(left, sizeof(ff));
            uint32_t got = dma_copy(d, n, ch, ff, ch->pos, k, true);
            ch->pos += k;           /* cycles happen even where nothing answers */
            left -= k;
            (void)got;
        }
    }
    ch->pos = dma_total(ch, n);
    dma_terminal_count(d, n);
}

/* One callback call; true if it moved anything. */
static bool dma_service(Dma *d, unsigned n)
{
    DmaChan *ch = dma_chan(d, n);
    uint32_t total = dma_total(ch, n);
    if (!ch->fn) {
        if (d->c[n >> 2].request & (1u << (n & 3))) {
            dma_internal_transfer(d, n);
            return true;
        }
        return false;
    }
    if (ch->pos >= total) {
        dma_terminal_count(d, n);   /* a window left at its end */
        return true;
    }
    uint32_t np = ch->fn(ch->opaque, n, ch->pos, total);
    if (np > total)
        np = total;
    if (np <= ch->pos)
        return false;
    ch->pos = np;
    if (ch->pos >= total)
        dma_terminal_count(d, n);
    return true;
}

static void dma_run(Dma *d)
{
    if (d->running) {
        d->rerun = 1;               /* a callback changed DRQ or registers */
        return;
    }
    d->running = 1;
    for (unsigned n = 0; n < 8; n++)
        d->c[n >> 2].ch[n & 3].calls = 0;
    bool stalled = false;
    /* A device that changes DRQ from its callback without moving data
     * asks for another pass each time: bound the passes, and let the
     * retry timer come back to whatever is still requesting. */
    unsigned passes = 0;
    do {
        if (++passes > 64) {
            stalled = true;
            break;
        }
        d->rerun = 0;
        stalled = false;
        /* Fixed priority: DMA1 channels 0-3 arrive through DMA2 channel
         * 4, the highest level of DMA2, then channels 5-7. */
        static const uint8_t order[7] = { 0, 1, 2, 3, 5, 6, 7 };
        for (unsigned k = 0; k < G_N_ELEMENTS(order); k++) {
            unsigned n = order[k];
            DmaChan *ch = dma_chan(d, n);
            while (dma_may_run(d, n)) {
                if (ch->calls >= DMA_MAX_CALLS || !dma_service(d, n)) {
                    stalled = true;
                    break;
                }
                ch->calls++;
            }
        }
    } while (d->rerun);
    d->running = 0;
    if (stalled)
        tess_timer_arm_in(d->timer, DMA_RETRY_NS);
    else
        tess_timer_cancel(d->timer);
}

static void dma_timer_cb(void *opaque)
{
    dma_run(opaque);
}

/* ---- registers ------------------------------------------------------------ */

static uint8_t dma_reg_read(Dma *d, unsigned ci, unsigned reg)
{
    DmaCtl *c = &d->c[ci];
    if (reg < 8) {
        unsigned n = ci * 4 + (reg >> 1);
        DmaChan *ch = &c->ch[reg >> 1];
        uint16_t v = (reg & 1) ? dma_cur_count(ch, n) : dma_cur_addr(ch, n);
        uint8_t r = c->flipflop ? v >> 8 : v;
        c->flipflop ^= 1;
        return r;
    }
    switch (reg) {
    case 8: {
        uint8_t st = c->status & 0x0F;
        for (unsigned i = 0; i < 4; i++)
            if (dma_requesting(d, ci * 4 + i))
                st |= 0x10u << i;
        c->status &= ~0x0F;         /* TC bits clear on read */
        return st;
    }
    case 0xD:
        return c->temp;
    case 0xF:
        return 0xF0 | c->mask;
    default:
        return 0xFF;
    }
}

static void dma_master_clear(DmaCtl *c)
{
    c->command = 0;
    c->status = 0;
    c->request = 0;
    c->temp = 0;
    c->flipflop = 0;
    c->mask = 0x0F;
    for (unsigned i = 0; i < 4; i++)
        c->ch[i].block_active = 0;
}

static void dma_reg_write(Dma *d, unsigned ci, unsigned reg, uint8_t v)
{
    DmaCtl *c = &d->c[ci];
    if (reg < 8) {
        unsigned n = ci * 4 + (reg >> 1);
        DmaChan *ch = &c->ch[reg >> 1];
        uint16_t addr = dma_cur_addr(ch, n), count = dma_cur_count(ch, n);
        unsigned sh = c->flipflop ? 8 : 0;
        uint16_t keep = c->flipflop ? 0x00FF : 0xFF00;
        if (reg & 1) {
            ch->base_count = (ch->base_count & keep) | v << sh;
            count = (count & keep) | v << sh;
        } else {
            ch->base_addr = (ch->base_addr & keep) | v << sh;
            addr = (addr & keep) | v << sh;
        }
        /* Base and current are written together; the transfer restarts
         * from the new current values. */
        ch->start_addr = addr;
        ch->start_count = count;
        ch->pos = 0;
        c->flipflop ^= 1;
        return;
    }
    unsigned i = v & 3;
    switch (reg) {
    case 8:
        c->command = v;
        if (v & CMD_ROT)
            tess_guest_error(&d->dev, "rotating priority requested; fixed priority used");
        break;
    case 9:
        if (v & 4)
            c->request |= 1u << i;
        else
            c->request &= ~(1u << i);
        break;
    case 0xA:
        if (v & 4)
            c->mask |= 1u << i;
        else
            c->mask &= ~(1u << i);
        break;
    case 0xB: {
        DmaChan *ch = &c->ch[i];
        unsigned n = ci * 4 + i;
        uint16_t addr = dma_cur_addr(ch, n), count = dma_cur_count(ch, n);
        ch->mode = v & ~3;
        /* The counters keep their values under the new direction. */
        ch->start_addr = addr;
        ch->start_count = count;
        ch->pos = 0;
        if ((v & MODE_TYPE) == MODE_TYPE)
            tess_guest_error(&d->dev, "channel %u: illegal transfer type 11", n);
        break;
    }
    case 0xC:
        c->flipflop = 0;
        break;
    case 0xD:
        dma_master_clear(c);
        break;
    case 0xE:
        c->mask = 0;
        break;
    case 0xF:
        c->mask = v & 0x0F;
        break;
    default:
        break;
    }
    dma_run(d);
}

static uint64_t dma1_read(void *opaque, uint64_t off, unsigned size)
{
    return dma_reg_read(opaque, 0, off & 0xF);
}

static void dma1_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    dma_reg_write(opaque, 0, off & 0xF, val);
}

static uint64_t dma2_read(void *opaque, uint64_t off, unsigned size)
{
    return dma_reg_read(opaque, 1, (off >> 1) & 0xF);
}

static void dma2_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    dma_reg_write(opaque, 1, (off >> 1) & 0xF, val);
}

static uint64_t dma_page_read(void *opaque, uint64_t off, unsigned size)
{
    return ((Dma *)opaque)->page[(off + 1) & 0xF];
}

static void dma_page_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    ((Dma *)opaque)->page[(off + 1) & 0xF] = val;
}

static const TessIoOps dma1_io = { .read = dma1_read, .write = dma1_write, .widths = TESS_W8 };
static const TessIoOps dma2_io = { .read = dma2_read, .write = dma2_write, .widths = TESS_W8 };
static const TessIoOps dma_page_io = {
    .read = dma_page_read, .write = dma_page_write, .widths = TESS_W8,
};

/* ---- ISA DMA service -------------------------------------------------------- */

static bool dma_valid_channel(unsigned n)
{
    return n < 8 && n != 4;
}

static bool dma_register_channel(TessDevice *dev, unsigned n, TessIsaDmaTransfer fn,
                                 void *opaque, GError **err)
{
    Dma *d = (Dma *)dev;
    if (!dma_valid_channel(n)) {
        g_set_error(err, TESS_BUS_ERROR, TESS_ERROR_INVALID,
                    "%s: DMA channel %u does not exist (4 is the cascade)", dev->id, n);
        return false;
    }
    DmaChan *ch = dma_chan(d, n);
    if (ch->fn) {
        g_set_error(err, TESS_BUS_ERROR, TESS_ERROR_CONFLICT,
                    "%s: DMA channel %u is already in use", dev->id, n);
        return false;
    }
    ch->fn = fn;
    ch->opaque = opaque;
    return true;
}

static void dma_set_drq(TessDevice *dev, unsigned n, bool level)
{
    Dma *d = (Dma *)dev;
    if (!dma_valid_channel(n))
        return;
    DmaChan *ch = dma_chan(d, n);
    bool was = ch->drq;
    ch->drq = level;
    if (level && !was && (ch->mode & MODE_MODE) == MODE_BLOCK)
        ch->block_active = 1;
    dma_run(d);
}

static uint32_t dma_window(Dma *d, unsigned n, uint32_t pos, uint32_t len)
{
    DmaChan *ch = dma_chan(d, n);
    uint32_t total = dma_total(ch, n);
    if (pos >= total)
        return 0;
    return MIN(len, total - pos);
}

static uint32_t dma_read_memory(TessDevice *dev, unsigned n, void *buf, uint32_t pos,
                                uint32_t len)
{
    Dma *d = (Dma *)dev;
    if (!dma_valid_channel(n))
        return 0;
    DmaChan *ch = dma_chan(d, n);
    len = dma_window(d, n, pos, len);
    if ((ch->mode & MODE_TYPE) != MODE_READ) {
        /* Verify or a device-to-memory channel: no memory read happens. */
        if ((ch->mode & MODE_TYPE) != MODE_VERIFY)
            tess_guest_error(dev, "channel %u: device reads but the mode is not a read transfer", n);
        memset(buf, 0xFF, len);
        return len;
    }
    return dma_copy(d, n, ch, buf, pos, len, false);
}

static uint32_t dma_write_memory(TessDevice *dev, unsigned n, const void *buf,
                                 uint32_t pos, uint32_t len)
{
    Dma *d = (Dma *)dev;
    if (!dma_valid_channel(n))
        return 0;
    DmaChan *ch = dma_chan(d, n);
    len = dma_window(d, n, pos, len);
    if ((ch->mode & MODE_TYPE) != MODE_WRITE) {
        if ((ch->mode & MODE_TYPE) != MODE_VERIFY)
            tess_guest_error(dev, "channel %u: device writes but the mode is not a write transfer", n);
        return len;
    }
    return dma_copy(d, n, ch, (void *)buf, pos, len, true);
}

static const TessIsaDmaOps dma_ops = {
    .register_channel = dma_register_channel,
    .set_drq = dma_set_drq,
    .read_memory = dma_read_memory,
    .write_memory = dma_write_memory,
};

/* ---- lifecycle -------------------------------------------------------------- */

static bool dma_realize(TessDevice *dev, GError **err)
{
    Dma *d = (Dma *)dev;
    d->timer = tess_timer_new(dev, dma_timer_cb, d);
    return tess_pio_map(dev, 0x00, 0x10, &dma1_io, d, err) &&
           tess_pio_map(dev, 0xC0, 0x20, &dma2_io, d, err) &&
           tess_pio_map(dev, 0x81, 0x0F, &dma_page_io, d, err);
}

static void dma_reset(TessDevice *dev)
{
    Dma *d = (Dma *)dev;
    for (unsigned i = 0; i < 2; i++)
        dma_master_clear(&d->c[i]);
    memset(d->page, 0, sizeof(d->page));
    tess_timer_cancel(d->timer);
}

static bool dma_post_load(TessDevice *dev, uint32_t version, GError **err)
{
    dma_run((Dma *)dev);
    return true;
}

#define DMA_CHAN_STATE(c, i)                                                   \
    TESS_STATE_U16(Dma, c.ch[i].base_addr), TESS_STATE_U16(Dma, c.ch[i].base_count), \
    TESS_STATE_U16(Dma, c.ch[i].start_addr), TESS_STATE_U16(Dma, c.ch[i].start_count), \
    TESS_STATE_U32(Dma, c.ch[i].pos), TESS_STATE_U8(Dma, c.ch[i].mode),        \
    TESS_STATE_U8(Dma, c.ch[i].drq), TESS_STATE_U8(Dma, c.ch[i].block_active)

#define DMA_CTL_STATE(c)                                                       \
    TESS_STATE_U8(Dma, c.command), TESS_STATE_U8(Dma, c.status),               \
    TESS_STATE_U8(Dma, c.request), TESS_STATE_U8(Dma, c.mask),                 \
    TESS_STATE_U8(Dma, c.temp), TESS_STATE_U8(Dma, c.flipflop),                \
    DMA_CHAN_STATE(c, 0), DMA_CHAN_STATE(c, 1), DMA_CHAN_STATE(c, 2), DMA_CHAN_STATE(c, 3)

static const TessStateField dma_state_fields[] = {
    DMA_CTL_STATE(c[0]),
    DMA_CTL_STATE(c[1]),
    TESS_STATE_BUF(Dma, page),
    TESS_STATE_END,
};

static const TessStateDesc dma_state = {
    .version = 1,
    .fields = dma_state_fields,
    .post_load = dma_post_load,
};

static const TessIfaceSpec dma_ifaces[] = {
    { TESS_IFACE_ISA_DMA, &dma_ops },
    TESS_IFACE_END,
};

static const TessDeviceClass dma_class = {
    .type = "dma8237",
    .kind = TESS_CLASS_DEVICE,
    .doc = "two cascaded Intel 8237A DMA controllers with PC/AT page registers",
    .instance_size = sizeof(Dma),
    .provides = dma_ifaces,
    .state = &dma_state,
    .realize = dma_realize,
    .reset = dma_reset,
};

static bool dma_plugin_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &dma_class, err);
}

TESS_PLUGIN_DEFINE("dma8237", "0.1.0", "LGPL-2.1-or-later",
                   "Intel 8237A DMA controllers (PC/AT)", dma_plugin_init);
