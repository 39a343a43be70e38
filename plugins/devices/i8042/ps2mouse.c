/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PS/2 mouse: the IBM PS/2 auxiliary device command set ("Mouse
 * Commands": E6/E7 scaling, E8 resolution, E9 status request, EA stream
 * mode, EB read data, EC/EE wrap mode, F0 remote mode, F2 read device
 * type, F3 sampling rate, F4/F5 enable/disable, F6 defaults, FE resend,
 * FF reset -> FA AA 00), the 3-byte data report, and Microsoft's
 * IntelliMouse extensions (sample rates 200,100,80 give ID 3 and a
 * fourth byte with the wheel; then 200,200,80 gives ID 4 with buttons 4
 * and 5).
 *
 * Motion accumulates while the mouse cannot report (disabled, remote
 * mode, buffer full) and goes out in the next report, in 9-bit two's
 * complement with the overflow bits set when it does not fit.
 */
#include "ps2.h"

#define MOUSE_ACK    0xFA
#define MOUSE_RESEND 0xFE
#define MOUSE_BUF_SIZE 16

static void mouse_defaults(Ps2Mouse *m)
{
    m->reporting = 0;
    m->remote = 0;
    m->scaling21 = 0;
    m->resolution = 2;                  /* 4 counts/mm */
    m->rate = 100;
}

void ps2_mouse_reset(Ps2Mouse *m)
{
    ps2_queue_clear(&m->q);
    mouse_defaults(m);
    m->wrap = 0;
    m->id = 0;
    m->pending = 0;
    m->last = 0;
    m->hist[0] = m->hist[1] = m->hist[2] = 0;
    m->dx = m->dy = m->dz = 0;
    m->dirty = 0;
}

static void mouse_put(Ps2Mouse *m, uint8_t b)
{
    ps2_queue_push(&m->q, b);
}

static unsigned mouse_packet_size(Ps2Mouse *m)
{
    return m->id ? 4 : 3;
}

static int mouse_scale(Ps2Mouse *m, int v)
{
    /* 2:1 scaling maps 0,1,2,3,4,5 to 0,1,1,3,6,9 and doubles beyond. */
    static const int map[6] = { 0, 1, 1, 3, 6, 9 };
    if (!m->scaling21)
        return v;
    int a = v < 0 ? -v : v;
    int r = a < 6 ? map[a] : 2 * a;
    return v < 0 ? -r : r;
}

/* Build one data report from the accumulated state. */
static void mouse_report(Ps2Mouse *m, bool stream)
{
    int dx = m->dx, dy = m->dy, dz = m->dz;
    uint8_t b0 = 0x08 | (m->buttons & 7);
    int sx = stream ? mouse_scale(m, dx) : dx;
    int sy = stream ? mouse_scale(m, dy) : dy;
    if (sx > 255 || sx < -256) {
        b0 |= 0x40;
        sx = sx > 0 ? 255 : -256;
    }
    if (sy > 255 || sy < -256) {
        b0 |= 0x80;
        sy = sy > 0 ? 255 : -256;
    }
    /* What was sent leaves the accumulators; the rest goes next time. */
    m->dx -= CLAMP(dx, -256, 255);
    m->dy -= CLAMP(dy, -256, 255);
    if (sx < 0)
        b0 |= 0x10;
    if (sy < 0)
        b0 |= 0x20;
    mouse_put(m, b0);
    mouse_put(m, sx & 0xFF);
    mouse_put(m, sy & 0xFF);
    if (m->id == 3) {
        int z = CLAMP(dz, -128, 127);
        mouse_put(m, z & 0xFF);
        m->dz -= z;
    } else if (m->id == 4) {
        int z = CLAMP(dz, -8, 7);
        mouse_put(m, (z & 0x0F) | ((m->buttons & 0x18) << 1));
        m->dz -= z;
    } else {
        m->dz = 0;
    }
    m->dirty = m->dx || m->dy || m->dz;
}

static void mouse_flush(Ps2Mouse *m)
{
    while (m->dirty && m->reporting && !m->remote && !m->wrap &&
           ps2_queue_free(&m->q, MOUSE_BUF_SIZE) >= mouse_packet_size(m))
        mouse_report(m, true);
}

static void mouse_set_rate(Ps2Mouse *m, uint8_t rate)
{
    m->rate = rate;
    m->hist[0] = m->hist[1];
    m->hist[1] = m->hist[2];
    m->hist[2] = rate;
    if (m->hist[0] == 200 && m->hist[1] == 100 && m->hist[2] == 80 && m->id == 0)
        m->id = 3;
    else if (m->hist[0] == 200 && m->hist[1] == 200 && m->hist[2] == 80 && m->id == 3)
        m->id = 4;
}

void ps2_mouse_write(Ps2Mouse *m, uint8_t b)
{
    if (m->wrap && b != 0xEC && b != 0xFF) {
        mouse_put(m, b);                /* wrap mode echoes */
        return;
    }
    uint8_t cmd = m->pending;
    if (cmd) {
        m->pending = 0;
        if (cmd == 0xF3)
            mouse_set_rate(m, b);
        else
            m->resolution = b & 3;
        mouse_put(m, MOUSE_ACK);
        return;
    }
    switch (b) {
    case 0xE6:
        m->scaling21 = 0;
        mouse_put(m, MOUSE_ACK);
        break;
    case 0xE7:
        m->scaling21 = 1;
        mouse_put(m, MOUSE_ACK);
        break;
    case 0xE8:
    case 0xF3:
        m->pending = b;
        mouse_put(m, MOUSE_ACK);
        break;
    case 0xE9:                          /* Status Request */
        mouse_put(m, MOUSE_ACK);
        mouse_put(m, (m->remote ? 0x40 : 0) | (m->reporting ? 0x20 : 0) |
                     (m->scaling21 ? 0x10 : 0) | ((m->buttons & 1) << 2) |
                     ((m->buttons & 4) >> 1) | ((m->buttons & 2) >> 1));
        mouse_put(m, m->resolution);
        mouse_put(m, m->rate);
        break;
    case 0xEA:
        m->remote = 0;
        mouse_put(m, MOUSE_ACK);
        break;
    case 0xEB:                          /* Read Data */
        mouse_put(m, MOUSE_ACK);
        mouse_report(m, false);
        break;
    case 0xEC:
        m->wrap = 0;
        mouse_put(m, MOUSE_ACK);
        break;
    case 0xEE:
        m->wrap = 1;
        mouse_put(m, MOUSE_ACK);
        break;
    case 0xF0:
        m->remote = 1;
        mouse_put(m, MOUSE_ACK);
        break;
    case 0xF2:                          /* Read Device Type */
        mouse_put(m, MOUSE_ACK);
        mouse_put(m, m->id);
        break;
    case 0xF4:
        m->reporting = 1;
        mouse_put(m, MOUSE_ACK);
        break;
    case 0xF5:
        /* Reports not yet taken are dropped with the stream. */
        ps2_queue_clear(&m->q);
        m->reporting = 0;
        mouse_put(m, MOUSE_ACK);
        break;
    case 0xF6:
        ps2_queue_clear(&m->q);
        mouse_defaults(m);
        mouse_put(m, MOUSE_ACK);
        break;
    case 0xFE:
        mouse_put(m, m->last);
        break;
    case 0xFF:
        ps2_mouse_reset(m);
        mouse_put(m, MOUSE_ACK);
        mouse_put(m, 0xAA);
        mouse_put(m, 0x00);
        break;
    default:
        mouse_put(m, MOUSE_RESEND);
        break;
    }
}

void ps2_mouse_event(Ps2Mouse *m, int dx, int dy, int dz, unsigned buttons)
{
    /* Host sense (dy down, dz away from the user) to PS/2 sense. Keep the
     * accumulators bounded: a mouse reports at most +-256 per sample. */
    m->dx = CLAMP((int64_t)m->dx + dx, -65536, 65535);
    m->dy = CLAMP((int64_t)m->dy - dy, -65536, 65535);
    m->dz = CLAMP((int64_t)m->dz - dz, -1024, 1023);
    buttons &= 0x1F;
    if (buttons != m->buttons || dx || dy || dz)
        m->dirty = 1;
    m->buttons = buttons;
    mouse_flush(m);
}

bool ps2_mouse_has_data(Ps2Mouse *m)
{
    mouse_flush(m);
    return m->q.count > 0;
}

bool ps2_mouse_pop(Ps2Mouse *m, uint8_t *b)
{
    mouse_flush(m);
    if (!ps2_queue_pop(&m->q, b))
        return false;
    m->last = *b;
    return true;
}
