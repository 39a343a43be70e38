/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PC game port (IBM Game Control Adapter, port 0x201).
 *
 * Writing any value fires four one-shots (a 558 quad timer), one per axis;
 * each stays high for a time set by its joystick potentiometer: per the
 * IBM Technical Reference, t = 24.2 us + 0.011 us/ohm x R, R from 0 to
 * 100 kohm. A read returns the one-shots in bits 0-3 (X1, Y1, X2, Y2) and
 * the buttons, active low, in bits 4-7 (A1, B1, A2, B2). An axis with no
 * stick plugged in has no resistor: its one-shot never ends, which is how
 * software finds out. A one-shot that is running is not restarted.
 *
 * Timing is in virtual time, so a guest counting loop iterations reads
 * the same positions in every deterministic run. The host side comes
 * through the "joystick" interface (the SDL front end), the properties
 * (scripted state) or the `joystick` control command.
 */
#define G_LOG_DOMAIN "gameport"

#include <tessera/tessera.h>
#include <stdlib.h>

#define GP_T0_NS 24200u
#define GP_NS_PER_KOHM 11000u
#define GP_NEVER UINT64_MAX

typedef struct GamePort {
    TessDevice dev;
    uint64_t port;
    uint64_t sticks;              /* sticks plugged in at power-on: 0, 1 or 2 */
    int64_t init_axis[4];         /* property values, -32768..32767 */
    uint64_t init_buttons;

    uint8_t connected[2];
    int32_t axis[4];              /* X1 Y1 X2 Y2 */
    uint8_t buttons;              /* bit set = pressed: A1 B1 A2 B2 */
    uint64_t fire_ns[4];          /* when each one-shot fired */
    uint64_t end_ns[4];           /* when it ends (GP_NEVER: open circuit) */
} GamePort;

static uint64_t gp_duration(const GamePort *g, unsigned a)
{
    if (!g->connected[a >> 1])
        return GP_NEVER;
    uint64_t kohm_milli = (uint64_t)(g->axis[a] + 32768) * 100000u / 65535u;   /* ohms */
    return GP_T0_NS + kohm_milli * GP_NS_PER_KOHM / 1000u;
}

static uint64_t gp_read(void *opaque, uint64_t off, unsigned size)
{
    GamePort *g = opaque;
    uint64_t now = tess_clock_ns(g->dev.machine);
    uint8_t v = (uint8_t)((~g->buttons & 0x0F) << 4);
    for (unsigned a = 0; a < 4; a++)
        if (g->end_ns[a] > now)
            v |= 1u << a;
    return v;
}

static void gp_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    GamePort *g = opaque;
    uint64_t now = tess_clock_ns(g->dev.machine);
    for (unsigned a = 0; a < 4; a++) {
        if (g->end_ns[a] > now && g->fire_ns[a] != GP_NEVER)
            continue;                   /* still timing */
        uint64_t d = gp_duration(g, a);
        g->fire_ns[a] = now;
        g->end_ns[a] = d == GP_NEVER ? GP_NEVER : now + d;
    }
}

static const TessIoOps gp_io = { .read = gp_read, .write = gp_write, .widths = TESS_W8 };

static void gp_state(TessDevice *dev, unsigned stick, bool connected, int x, int y,
                     unsigned buttons)
{
    GamePort *g = (GamePort *)dev;
    if (stick > 1)
        return;
    g->connected[stick] = connected;
    g->axis[2 * stick] = CLAMP(x, -32768, 32767);
    g->axis[2 * stick + 1] = CLAMP(y, -32768, 32767);
    g->buttons = (uint8_t)((g->buttons & ~(3u << (2 * stick))) | ((buttons & 3u) << (2 * stick)));
}

static const TessJoystickOps gp_joy = {
    .size = sizeof(TessJoystickOps),
    .state = gp_state,
};

/* joystick ID STICK X Y BUTTONS | joystick ID STICK unplug */
static char *gp_cmd(TessDevice *dev, int argc, char **argv, GError **err)
{
    char *end;
    long stick = argc >= 2 ? strtol(argv[1], &end, 0) : -1;
    if (argc == 3 && stick >= 0 && stick <= 1 && !strcmp(argv[2], "unplug")) {
        gp_state(dev, (unsigned)stick, false, 0, 0, 0);
        return NULL;
    }
    if (argc != 5 || stick < 0 || stick > 1) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_INVALID,
                    "usage: joystick STICK(0|1) X Y BUTTONS, or joystick STICK unplug");
        return NULL;
    }
    long v[3];
    for (int i = 0; i < 3; i++) {
        v[i] = strtol(argv[2 + i], &end, 0);
        if (*end || end == argv[2 + i]) {
            g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_INVALID, "'%s' is not a number",
                        argv[2 + i]);
            return NULL;
        }
    }
    gp_state(dev, (unsigned)stick, true, (int)CLAMP(v[0], -32768, 32767),
             (int)CLAMP(v[1], -32768, 32767), (unsigned)(v[2] & 3));
    return NULL;
}

static bool gp_realize(TessDevice *dev, GError **err)
{
    GamePort *g = (GamePort *)dev;
    return tess_pio_map(dev, (uint32_t)g->port, 1, &gp_io, g, err) &&
           tess_control_add_command(dev, "joystick", gp_cmd,
                                    "STICK X Y BUTTONS | STICK unplug  set a game-port stick", err);
}

static void gp_reset(TessDevice *dev)
{
    GamePort *g = (GamePort *)dev;
    for (unsigned s = 0; s < 2; s++)
        gp_state(dev, s, s < g->sticks, (int)g->init_axis[2 * s], (int)g->init_axis[2 * s + 1],
                 (unsigned)(g->init_buttons >> (2 * s)));
    for (unsigned a = 0; a < 4; a++) {
        g->fire_ns[a] = GP_NEVER;
        g->end_ns[a] = 0;
    }
}

static const TessIfaceSpec gp_ifaces[] = {
    { TESS_IFACE_JOYSTICK, &gp_joy, TESS_IFACE_JOYSTICK_VERSION },
    TESS_IFACE_END,
};

static const TessPropSpec gp_props[] = {
    TESS_PROP_UINT_("port", GamePort, port, "0x201", 0x200, 0x20F, "game port address"),
    TESS_PROP_UINT_("sticks", GamePort, sticks, "1", 0, 2, "sticks plugged in at power-on"),
    TESS_PROP_INT_("x1", GamePort, init_axis[0], "0", -32768, 32767, "stick 1 X at power-on"),
    TESS_PROP_INT_("y1", GamePort, init_axis[1], "0", -32768, 32767, "stick 1 Y at power-on"),
    TESS_PROP_INT_("x2", GamePort, init_axis[2], "0", -32768, 32767, "stick 2 X at power-on"),
    TESS_PROP_INT_("y2", GamePort, init_axis[3], "0", -32768, 32767, "stick 2 Y at power-on"),
    TESS_PROP_UINT_("buttons", GamePort, init_buttons, "0", 0, 15,
                    "buttons down at power-on: bit 0 A1, 1 B1, 2 A2, 3 B2"),
    TESS_PROP_END,
};

static const TessStateField gp_fields[] = {
    TESS_STATE_BUF(GamePort, connected),
    TESS_STATE_BUF(GamePort, axis),
    TESS_STATE_U8(GamePort, buttons),
    TESS_STATE_ARRAY(TESS_STATE_T_U64, GamePort, fire_ns, 4),
    TESS_STATE_ARRAY(TESS_STATE_T_U64, GamePort, end_ns, 4),
    TESS_STATE_END,
};

static const TessStateDesc gp_state_desc = { .version = 1, .fields = gp_fields };

static const TessDeviceClass gp_class = {
    .type = "gameport",
    .kind = TESS_CLASS_DEVICE,
    .doc = "PC game port (0x201): two joysticks, four axes timed in virtual time, four buttons",
    .instance_size = sizeof(GamePort),
    .props = gp_props,
    .provides = gp_ifaces,
    .state = &gp_state_desc,
    .realize = gp_realize,
    .reset = gp_reset,
};

static bool gp_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &gp_class, err);
}

TESS_PLUGIN_DEFINE("gameport", "1.0.0", "LGPL-2.1-or-later", "PC game port", gp_init);
