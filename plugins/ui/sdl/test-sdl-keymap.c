/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The SDL front end reaches every key of the PC keyboard: each Linux key
 * code the PS/2 keyboard has a scan code for (the list the i8042 test
 * checks byte by byte) comes from exactly one SDL scancode or more, no
 * scancode is listed twice, and nothing maps to a code the keyboard
 * cannot send.
 */
#include <glib.h>
#include <stdbool.h>

#include "sdl-keymap.h"

/* The PC keyboard as Linux key codes: 101/102 keys, Windows and Menu,
 * the Japanese 106-key extras, the multimedia keys. */
static const uint16_t pc_keys[] = {
    KEY_ESC, KEY_1, KEY_2, KEY_3, KEY_4, KEY_5, KEY_6, KEY_7, KEY_8, KEY_9, KEY_0,
    KEY_MINUS, KEY_EQUAL, KEY_BACKSPACE, KEY_TAB, KEY_Q, KEY_W, KEY_E, KEY_R, KEY_T,
    KEY_Y, KEY_U, KEY_I, KEY_O, KEY_P, KEY_LEFTBRACE, KEY_RIGHTBRACE, KEY_ENTER,
    KEY_LEFTCTRL, KEY_A, KEY_S, KEY_D, KEY_F, KEY_G, KEY_H, KEY_J, KEY_K, KEY_L,
    KEY_SEMICOLON, KEY_APOSTROPHE, KEY_GRAVE, KEY_LEFTSHIFT, KEY_BACKSLASH, KEY_Z,
    KEY_X, KEY_C, KEY_V, KEY_B, KEY_N, KEY_M, KEY_COMMA, KEY_DOT, KEY_SLASH,
    KEY_RIGHTSHIFT, KEY_KPASTERISK, KEY_LEFTALT, KEY_SPACE, KEY_CAPSLOCK, KEY_F1,
    KEY_F2, KEY_F3, KEY_F4, KEY_F5, KEY_F6, KEY_F7, KEY_F8, KEY_F9, KEY_F10,
    KEY_NUMLOCK, KEY_SCROLLLOCK, KEY_KP7, KEY_KP8, KEY_KP9, KEY_KPMINUS, KEY_KP4,
    KEY_KP5, KEY_KP6, KEY_KPPLUS, KEY_KP1, KEY_KP2, KEY_KP3, KEY_KP0, KEY_KPDOT,
    KEY_102ND, KEY_F11, KEY_F12, KEY_RO, KEY_HENKAN, KEY_KATAKANAHIRAGANA,
    KEY_MUHENKAN, KEY_KPENTER, KEY_RIGHTCTRL, KEY_KPSLASH, KEY_SYSRQ, KEY_RIGHTALT,
    KEY_HOME, KEY_UP, KEY_PAGEUP, KEY_LEFT, KEY_RIGHT, KEY_END, KEY_DOWN,
    KEY_PAGEDOWN, KEY_INSERT, KEY_DELETE, KEY_MUTE, KEY_VOLUMEDOWN, KEY_VOLUMEUP,
    KEY_POWER, KEY_KPEQUAL, KEY_PAUSE, KEY_YEN, KEY_LEFTMETA, KEY_RIGHTMETA,
    KEY_COMPOSE,
};

static bool is_pc_key(unsigned code)
{
    for (size_t i = 0; i < G_N_ELEMENTS(pc_keys); i++)
        if (pc_keys[i] == code)
            return true;
    return false;
}

static void test_every_pc_key(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(pc_keys); i++) {
        bool found = false;
        for (size_t j = 0; j < G_N_ELEMENTS(sdl_keymap) && !found; j++)
            found = sdl_keymap[j].linux_code == pc_keys[i] &&
                    sdl_to_linux((SDL_Scancode)sdl_keymap[j].sdl) == pc_keys[i];
        if (!found)
            g_error("no SDL scancode gives Linux key %u", pc_keys[i]);
    }
}

static void test_no_strays(void)
{
    for (size_t j = 0; j < G_N_ELEMENTS(sdl_keymap); j++) {
        if (!is_pc_key(sdl_keymap[j].linux_code))
            g_error("SDL scancode %u maps to key %u, which the PC keyboard lacks",
                    sdl_keymap[j].sdl, sdl_keymap[j].linux_code);
        for (size_t k = j + 1; k < G_N_ELEMENTS(sdl_keymap); k++)
            if (sdl_keymap[k].sdl == sdl_keymap[j].sdl)
                g_error("SDL scancode %u is listed twice", sdl_keymap[j].sdl);
    }
    /* Keys a PC keyboard does not have give nothing. */
    g_assert_cmpuint(sdl_to_linux(SDL_SCANCODE_F24), ==, 0);
    g_assert_cmpuint(sdl_to_linux(SDL_SCANCODE_UNKNOWN), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ui-sdl/keymap/every-pc-key", test_every_pc_key);
    g_test_add_func("/ui-sdl/keymap/no-strays", test_no_strays);
    return g_test_run();
}
