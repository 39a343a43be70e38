/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * DDC: the monitor's EDID EEPROM on the serial port the Trio64V+ offers
 * at MMIO offset FF20h (bit 0 SCL out, bit 1 SDA out, bit 2 SCL in, bit 3
 * SDA in, bit 4 drive enable; as Linux's s3fb uses it). The guest bit-bangs
 * I2C; the monitor answers at address 50h (A0h/A1h) with 128 bytes of
 * EDID 1.3 (VESA E-EDID standard): a 1024x768 preferred mode, the
 * established 640x480, 800x600 and 1024x768 modes at 60 Hz, a range
 * limits descriptor and the name "Tessera".
 */
#define G_LOG_DOMAIN "s3-trio64"
#include "s3-trio64.h"

#include <string.h>

#define DDC_SCL_OUT  0x01
#define DDC_SDA_OUT  0x02
#define DDC_SCL_IN   0x04
#define DDC_SDA_IN   0x08
#define DDC_DRIVE_EN 0x10

enum { I2C_IDLE, I2C_ADDR, I2C_ADDR_ACK, I2C_WRITE, I2C_WRITE_ACK, I2C_READ, I2C_READ_ACK };

static const uint8_t s3_edid_base[128] = {
    0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00,
    0x52, 0x72,                     /* manufacturer "TSR" */
    0x01, 0x00,                     /* product */
    0x01, 0x00, 0x00, 0x00,         /* serial */
    0x01, 0x24,                     /* week 1 of 2026 */
    0x01, 0x03,                     /* EDID 1.3 */
    0x0E,                           /* analogue input, 0.7 V, separate syncs */
    0x20, 0x18,                     /* 32 x 24 cm */
    0x78,                           /* gamma 2.2 */
    0x0A,                           /* RGB colour, preferred timing is native */
    /* chromaticity (sRGB) */
    0xEE, 0x91, 0xA3, 0x54, 0x4C, 0x99, 0x26, 0x0F, 0x50, 0x54,
    0x21, 0x08, 0x00,               /* established: 640x480@60, 800x600@60, 1024x768@60 */
    /* standard timings: unused */
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    /* detailed timing: 1024x768@60, 65 MHz, 1344 x 806 total */
    0x64, 0x19, 0x00, 0x40, 0x41, 0x00, 0x26, 0x30, 0x18, 0x88, 0x36, 0x00,
    0x40, 0xF0, 0x10, 0x00, 0x00, 0x18,
    /* range limits: 50-75 Hz, 30-60 kHz, 80 MHz */
    0x00, 0x00, 0x00, 0xFD, 0x00, 0x32, 0x4B, 0x1E, 0x3C, 0x08, 0x00, 0x0A,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    /* monitor name */
    0x00, 0x00, 0x00, 0xFC, 0x00, 'T', 'e', 's', 's', 'e', 'r', 'a', '\n',
    0x20, 0x20, 0x20, 0x20, 0x20,
    /* dummy descriptor */
    0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00,                           /* no extensions */
    0x00,                           /* checksum, computed */
};

static uint8_t edid_byte(unsigned off)
{
    off &= 0x7F;
    if (off < 127)
        return s3_edid_base[off];
    uint8_t sum = 0;
    for (unsigned i = 0; i < 127; i++)
        sum = (uint8_t)(sum + s3_edid_base[i]);
    return (uint8_t)(0x100 - sum);
}

/* The SDA level the monitor drives (1: released). */
static bool ddc_slave_sda(const S3 *s)
{
    const S3Ddc *d = &s->ddc_bus;
    switch (d->state) {
    case I2C_ADDR_ACK:
    case I2C_WRITE_ACK:
        return false;
    case I2C_READ:
        return (d->shift >> 7) & 1;
    default:
        return true;
    }
}

static void ddc_scl_rise(S3 *s, bool sda)
{
    S3Ddc *d = &s->ddc_bus;
    switch (d->state) {
    case I2C_ADDR:
    case I2C_WRITE:
        d->shift = (uint8_t)(d->shift << 1 | sda);
        d->bits++;
        break;
    case I2C_READ_ACK:
        d->nack = sda;
        break;
    default:
        break;
    }
}

static void ddc_scl_fall(S3 *s)
{
    S3Ddc *d = &s->ddc_bus;
    switch (d->state) {
    case I2C_ADDR:
        if (d->bits == 8) {
            if ((d->shift >> 1) == 0x50) {
                d->read = d->shift & 1;
                d->state = I2C_ADDR_ACK;
            } else {
                d->state = I2C_IDLE;        /* not ours: no acknowledge */
            }
        }
        break;
    case I2C_WRITE:
        if (d->bits == 8) {
            d->offset = d->shift;
            d->state = I2C_WRITE_ACK;
        }
        break;
    case I2C_ADDR_ACK:
    case I2C_WRITE_ACK:
        if (d->state == I2C_ADDR_ACK && d->read) {
            d->state = I2C_READ;
            d->shift = edid_byte(d->offset++);
            d->bits = 0;
        } else {
            d->state = I2C_WRITE;
            d->bits = 0;
        }
        break;
    case I2C_READ:
        if (++d->bits == 8)
            d->state = I2C_READ_ACK;
        else
            d->shift = (uint8_t)(d->shift << 1);
        break;
    case I2C_READ_ACK:
        if (d->nack) {
            d->state = I2C_IDLE;
        } else {
            d->state = I2C_READ;
            d->shift = edid_byte(d->offset++);
            d->bits = 0;
        }
        break;
    default:
        break;
    }
}

void s3_ddc_write(S3 *s, uint8_t val)
{
    S3Ddc *d = &s->ddc_bus;
    /* Without drive enable the pins float high (pull-ups). */
    bool scl = !(val & DDC_DRIVE_EN) || (val & DDC_SCL_OUT);
    bool msda = !(val & DDC_DRIVE_EN) || (val & DDC_SDA_OUT);
    s->ddc = val & 0x13;
    bool old_scl = d->scl, old_sda = d->sda;
    bool sda = msda && ddc_slave_sda(s);
    if (old_scl && scl && old_sda && !msda) {
        d->state = I2C_ADDR;                /* START (or repeated START) */
        d->bits = 0;
    } else if (old_scl && scl && !old_sda && msda && ddc_slave_sda(s)) {
        d->state = I2C_IDLE;                /* STOP */
    } else if (!old_scl && scl) {
        ddc_scl_rise(s, sda);
    } else if (old_scl && !scl) {
        ddc_scl_fall(s);
    }
    d->scl = scl;
    d->sda = msda && ddc_slave_sda(s);
}

uint8_t s3_ddc_read(S3 *s)
{
    S3Ddc *d = &s->ddc_bus;
    bool sda = d->sda && ddc_slave_sda(s);
    return (uint8_t)(s->ddc | (d->scl ? DDC_SCL_IN : 0) | (sda ? DDC_SDA_IN : 0));
}

void s3_ddc_reset(S3 *s)
{
    memset(&s->ddc_bus, 0, sizeof(s->ddc_bus));
    s->ddc_bus.scl = s->ddc_bus.sda = true;
    s->ddc = 0;
}
