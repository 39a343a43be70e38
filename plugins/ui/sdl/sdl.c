/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ui-sdl: an SDL2 window showing the machine's display, with its keyboard
 * and a relative mouse. `tessera run --display sdl` adds it (id "display").
 *
 * Threads: SDL lives on the process main thread, which runs the GLib main
 * loop; a timeout there polls SDL events and presents the picture. The
 * picture is drawn on the machine thread, at each vertical retrace of the
 * display source (the listener's frame callback), into a surface shared
 * under `lock`; the main thread uploads only the changed rectangle.
 * Input goes the other way through tess_machine_post().
 *
 * The main thread does not poll on an X display: it wakes when the X
 * connection has input (events) and when a frame changed the picture
 * (sdl_frame adds an idle source), and sleeps otherwise. Elsewhere
 * (Wayland, game controllers, which SDL reads from their own devices)
 * it polls every poll-ms.
 *
 * Where OpenGL is a software rasterizer (no GPU, Xvfb, a remote X
 * display) the window has no SDL renderer at all: the main thread scales
 * only the changed rectangle into the window's own surface and updates
 * just those window pixels (sdl-scale.h), so a blinking text cursor costs
 * its cell and a still screen nothing. With a GPU renderer the texture
 * takes the changed rectangle and the GPU draws the window.
 *
 * Keys: Ctrl+Alt+G grabs / releases the mouse (clicking the window grabs
 * it too), Ctrl+Alt+F toggles fullscreen; the title bar says so.
 */
#define G_LOG_DOMAIN "ui-sdl"
#include "ui-common.h"

#include <string.h>
#include <glib-unix.h>
#include <SDL.h>
#include <SDL_syswm.h>
#include <linux/input-event-codes.h>

#include "sdl-keymap.h"
#include "sdl-scale.h"

typedef struct UiSdl {
    TessDevice dev;
    UiCommon ui;
    /* properties */
    bool start_fullscreen;
    uint64_t poll_ms;

    /* machine thread */
    TessDisplayView *view;
    bool listening;
    TessDevice *joy_dev;                /* the game port, if the machine has one */
    const TessJoystickOps *jops;

    /* machine thread: the hardware cursor (cursor plane), composed onto
     * `shown`, a copy of `fb` (the view's surface must hold only what the
     * source drew, or its change tracking would keep stale cursors) */
    TessDisplayCursor *cursor;
    TessDisplayRect cur_rect;           /* where it was composed, w 0: nowhere */
    bool cur_visible;                   /* what was composed there: position, */
    int cur_x, cur_y;                   /* visibility and image generation */
    uint32_t cur_gen;

    /* shared, under lock */
    GMutex lock;
    uint32_t *fb;
    uint32_t *shown;                    /* fb with the cursor on top: what is uploaded */
    unsigned fb_w, fb_h;
    unsigned aspect_w, aspect_h;
    bool fb_new;                        /* size changed: new texture */
    guint wake_id;                      /* an idle source that will present, or 0 */
    bool dirty;
    unsigned dx0, dy0, dx1, dy1;        /* dirty bounds, exclusive end */
    uint32_t frames;

    /* main thread */
    SDL_Window *win;
    SDL_Renderer *ren;
    SDL_Texture *tex;
    unsigned tex_w, tex_h;              /* the picture's size (texture or `upload`) */
    bool use_surface;                   /* no renderer: the window surface, sdl-scale.h */
    SDL_Surface *wsurf;                 /* the window surface last drawn on */
    int wsurf_w, wsurf_h;
    unsigned *xmap;                     /* sdl_scale_rect's column map */
    size_t xmap_len;
    uint32_t *conv;                     /* a window of another pixel format: scaled here first */
    size_t conv_len;
    uint32_t *upload;                   /* what changed in `shown`, copied out (renderer) */
    size_t upload_len;
    unsigned shown_w, shown_h;          /* logical size last set */
    guint source;                       /* the poll timer, or the X connection watch */
    guint slow_source;                  /* with the watch: a slow safety tick */
    bool grabbed, fullscreen, user_sized;
    bool expose;                        /* the window needs repainting */
    int req_w, req_h;                   /* window size we asked for */
    bool joy_init;
    SDL_GameController *pad[2];         /* host controllers as game-port sticks 1 and 2 */
    int pad_x[2], pad_y[2];
    unsigned pad_buttons[2];
    unsigned buttons;
    uint8_t keys_down[KEY_MAX / 8 + 1];
    bool ctrl, alt;

    bool wake_main;                     /* frames wake the main thread (no poll timer) */
    /* main thread writes, under lock: what the window did (window-stats) */
    uint64_t st_presents, st_full, st_pixels;
} UiSdl;

/* ---- machine thread ------------------------------------------------------ */

static void sdl_mark_dirty(UiSdl *s, const TessDisplayRect *r)
{
    if (!r->w || !r->h)
        return;
    if (!s->dirty) {
        s->dx0 = r->x;
        s->dy0 = r->y;
        s->dx1 = r->x + r->w;
        s->dy1 = r->y + r->h;
        s->dirty = true;
    } else {
        s->dx0 = MIN(s->dx0, r->x);
        s->dy0 = MIN(s->dy0, r->y);
        s->dx1 = MAX(s->dx1, r->x + r->w);
        s->dy1 = MAX(s->dy1, r->y + r->h);
    }
}

/* fb -> shown for one rectangle (inside both). */
static void sdl_copy_shown(UiSdl *s, const TessDisplayRect *r)
{
    for (unsigned y = r->y; y < r->y + r->h && y < s->fb_h; y++)
        memcpy(s->shown + (size_t)y * s->fb_w + r->x, s->fb + (size_t)y * s->fb_w + r->x,
               (size_t)MIN(r->w, s->fb_w - r->x) * 4);
}

static bool sdl_rects_meet(const TessDisplayRect *a, const TessDisplayRect *b)
{
    return a->x < b->x + b->w && b->x < a->x + a->w && a->y < b->y + b->h && b->y < a->y + a->h;
}

static gboolean sdl_wake(gpointer data);

static void sdl_frame(void *opaque, TessDevice *src)
{
    UiSdl *s = opaque;
    TessDisplayMode md;
    s->ui.dops->get_mode(src, &md);
    /* With a cursor on the picture, `fb` (this thread's alone) takes the
     * render, outside the lock, and what changed is copied to `shown`
     * under it, where the cursor is composed. Without one (most of the
     * time) the render goes straight into `shown`, under the lock: a full
     * screen change is not copied once more. The view sees a new surface
     * when that choice changes, and draws it whole. */
    g_mutex_lock(&s->lock);
    unsigned w = md.width ? md.width : (s->fb_w ? s->fb_w : 640);
    unsigned h = md.height ? md.height : (s->fb_h ? s->fb_h : 480);
    if (w != s->fb_w || h != s->fb_h || !s->fb) {
        g_free(s->fb);
        g_free(s->shown);
        s->fb = g_new0(uint32_t, (size_t)w * h);
        s->shown = g_new0(uint32_t, (size_t)w * h);
        s->cur_rect.w = 0;
        s->cur_visible = false;         /* compose again on the new surface */
        s->fb_w = w;
        s->fb_h = h;
        s->fb_new = true;
    }
    s->aspect_w = md.aspect_w ? md.aspect_w : 4;
    s->aspect_h = md.aspect_h ? md.aspect_h : 3;
    bool direct = !s->cur_rect.w && !s->cur_visible;
    if (!direct)
        g_mutex_unlock(&s->lock);
    TessDisplaySurface surf = { direct ? s->shown : s->fb, w, h, (size_t)w * 4 };
    TessDisplayUpdate upd;
    s->ui.dops->render(src, s->view, &surf, &upd);
    if (!direct)
        g_mutex_lock(&s->lock);
    for (unsigned i = 0; i < upd.nrects; i++) {
        if (!direct)
            sdl_copy_shown(s, &upd.rects[i]);
        sdl_mark_dirty(s, &upd.rects[i]);
    }
    /* The cursor plane: take the old cursor off and put the current one
     * on, only when it moved, changed or the picture under it was redrawn:
     * a still cursor over a still picture must leave the window idle. */
    const TessDisplaySourceOps *ops2 = tess_device_interface_v(src, TESS_IFACE_DISPLAY_SOURCE, 2);
    if (ops2 && ops2->get_cursor) {
        if (!s->cursor)
            s->cursor = g_new0(TessDisplayCursor, 1);
        s->cursor->struct_size = sizeof(*s->cursor);
        ops2->get_cursor(src, s->cursor);
        bool redo = s->cursor->visible != s->cur_visible ||
                    (s->cursor->visible && (s->cursor->x != s->cur_x || s->cursor->y != s->cur_y ||
                                            s->cursor->generation != s->cur_gen));
        for (unsigned i = 0; i < upd.nrects && !redo && s->cur_rect.w; i++)
            redo = sdl_rects_meet(&upd.rects[i], &s->cur_rect);
        if (redo) {
            if (s->cur_rect.w) {
                sdl_copy_shown(s, &s->cur_rect);
                sdl_mark_dirty(s, &s->cur_rect);
            }
            TessDisplaySurface shown = { s->shown, w, h, (size_t)w * 4 };
            s->cur_rect = tess_display_cursor_compose(s->cursor, &shown);
            sdl_mark_dirty(s, &s->cur_rect);
            s->cur_visible = s->cursor->visible;
            s->cur_x = s->cursor->x;
            s->cur_y = s->cursor->y;
            s->cur_gen = s->cursor->generation;
        }
    }
    s->frames++;
    if (s->dirty && !s->wake_id && s->wake_main)
        s->wake_id = g_idle_add(sdl_wake, s);   /* thread-safe: wakes the main loop */
    g_mutex_unlock(&s->lock);
}

static const TessDisplayListener sdl_listener = { .frame = sdl_frame };

typedef struct SdlInput {
    UiSdl *s;
    bool key;
    uint16_t code;
    bool down;
    int dx, dy, dz;
    unsigned buttons;
} SdlInput;

static void sdl_deliver(TessMachine *m, void *data)
{
    SdlInput *e = data;
    UiCommon *u = &e->s->ui;
    if (e->key)
        ui_send_key(u, e->code, e->down);
    else if (u->iops && u->iops->mouse_event)
        u->iops->mouse_event(u->input, e->dx, e->dy, e->dz, e->buttons);
    g_free(e);
}

typedef struct SdlJoy {
    UiSdl *s;
    unsigned stick;
    bool connected;
    int x, y;
    unsigned buttons;
} SdlJoy;

static void sdl_deliver_joy(TessMachine *m, void *data)
{
    SdlJoy *j = data;
    if (j->s->jops)
        j->s->jops->state(j->s->joy_dev, j->stick, j->connected, j->x, j->y, j->buttons);
    g_free(j);
}

static void sdl_quit_request(TessMachine *m, void *data)
{
    tess_machine_request_exit(m, 0);
}

/* ---- main thread ----------------------------------------------------------- */

static void sdl_post_key(UiSdl *s, unsigned code, bool down)
{
    if (!code || code > KEY_MAX)
        return;
    uint8_t bit = (uint8_t)(1u << (code & 7));
    if (down)
        s->keys_down[code >> 3] |= bit;
    else
        s->keys_down[code >> 3] &= (uint8_t)~bit;
    if (!s->ui.input)
        return;
    SdlInput *e = g_new0(SdlInput, 1);
    e->s = s;
    e->key = true;
    e->code = (uint16_t)code;
    e->down = down;
    tess_machine_post(s->dev.machine, sdl_deliver, e);
}

static void sdl_release_all_keys(UiSdl *s)
{
    for (unsigned code = 1; code <= KEY_MAX; code++)
        if (s->keys_down[code >> 3] & (1u << (code & 7)))
            sdl_post_key(s, code, false);
}

static void sdl_post_mouse(UiSdl *s, int dx, int dy, int dz)
{
    if (!s->ui.input)
        return;
    SdlInput *e = g_new0(SdlInput, 1);
    e->s = s;
    e->dx = dx;
    e->dy = dy;
    e->dz = dz;
    e->buttons = s->buttons;
    tess_machine_post(s->dev.machine, sdl_deliver, e);
}

/* Host game controllers: the first two become the game port's sticks
 * (left stick, buttons A and B). */
static void sdl_post_joy(UiSdl *s, unsigned stick)
{
    if (!s->jops)
        return;
    SdlJoy *j = g_new0(SdlJoy, 1);
    j->s = s;
    j->stick = stick;
    j->connected = s->pad[stick] != NULL;
    j->x = s->pad_x[stick];
    j->y = s->pad_y[stick];
    j->buttons = s->pad_buttons[stick];
    tess_machine_post(s->dev.machine, sdl_deliver_joy, j);
}

static int sdl_pad_stick(UiSdl *s, SDL_JoystickID id)
{
    for (int i = 0; i < 2; i++)
        if (s->pad[i] && SDL_JoystickInstanceID(SDL_GameControllerGetJoystick(s->pad[i])) == id)
            return i;
    return -1;
}

static void sdl_handle_pad(UiSdl *s, const SDL_Event *ev)
{
    int i;
    switch (ev->type) {
    case SDL_CONTROLLERDEVICEADDED:
        for (i = 0; i < 2 && s->pad[i]; i++)
            ;
        if (i < 2 && (s->pad[i] = SDL_GameControllerOpen(ev->cdevice.which))) {
            s->pad_x[i] = s->pad_y[i] = 0;
            s->pad_buttons[i] = 0;
            sdl_post_joy(s, (unsigned)i);
        }
        break;
    case SDL_CONTROLLERDEVICEREMOVED:
        if ((i = sdl_pad_stick(s, ev->cdevice.which)) >= 0) {
            SDL_GameControllerClose(s->pad[i]);
            s->pad[i] = NULL;
            sdl_post_joy(s, (unsigned)i);
        }
        break;
    case SDL_CONTROLLERAXISMOTION:
        if ((i = sdl_pad_stick(s, ev->caxis.which)) < 0)
            break;
        if (ev->caxis.axis == SDL_CONTROLLER_AXIS_LEFTX)
            s->pad_x[i] = ev->caxis.value;
        else if (ev->caxis.axis == SDL_CONTROLLER_AXIS_LEFTY)
            s->pad_y[i] = ev->caxis.value;
        else
            break;
        sdl_post_joy(s, (unsigned)i);
        break;
    case SDL_CONTROLLERBUTTONDOWN:
    case SDL_CONTROLLERBUTTONUP: {
        if ((i = sdl_pad_stick(s, ev->cbutton.which)) < 0)
            break;
        unsigned bit = ev->cbutton.button == SDL_CONTROLLER_BUTTON_A ? 1
                     : ev->cbutton.button == SDL_CONTROLLER_BUTTON_B ? 2 : 0;
        if (!bit)
            break;
        if (ev->type == SDL_CONTROLLERBUTTONDOWN)
            s->pad_buttons[i] |= bit;
        else
            s->pad_buttons[i] &= ~bit;
        sdl_post_joy(s, (unsigned)i);
        break;
    }
    default:
        break;
    }
}

static void sdl_update_title(UiSdl *s)
{
    g_autofree char *t = g_strdup_printf(
        "Tessera - %s - %s", tess_machine_name(s->dev.machine),
        s->grabbed ? "Ctrl+Alt+G releases the mouse" : "Ctrl+Alt+G grabs the mouse");
    SDL_SetWindowTitle(s->win, t);
}

static void sdl_set_grab(UiSdl *s, bool grab)
{
    s->grabbed = grab;
    SDL_SetRelativeMouseMode(grab ? SDL_TRUE : SDL_FALSE);
    SDL_SetWindowGrab(s->win, grab ? SDL_TRUE : SDL_FALSE);
    sdl_update_title(s);
}

static unsigned sdl_button_bit(uint8_t b)
{
    switch (b) {
    case SDL_BUTTON_LEFT: return TESS_INPUT_BUTTON_LEFT;
    case SDL_BUTTON_RIGHT: return TESS_INPUT_BUTTON_RIGHT;
    case SDL_BUTTON_MIDDLE: return TESS_INPUT_BUTTON_MIDDLE;
    case SDL_BUTTON_X1: return TESS_INPUT_BUTTON_SIDE;
    case SDL_BUTTON_X2: return TESS_INPUT_BUTTON_EXTRA;
    default: return 0;
    }
}

static void sdl_handle_key(UiSdl *s, const SDL_KeyboardEvent *k)
{
    bool down = k->type == SDL_KEYDOWN;
    SDL_Scancode sc = k->keysym.scancode;
    if (sc == SDL_SCANCODE_LCTRL || sc == SDL_SCANCODE_RCTRL)
        s->ctrl = down;
    if (sc == SDL_SCANCODE_LALT || sc == SDL_SCANCODE_RALT)
        s->alt = down;
    /* The host chords never reach the guest. */
    if (down && s->ctrl && s->alt && (sc == SDL_SCANCODE_G || sc == SDL_SCANCODE_F)) {
        if (sc == SDL_SCANCODE_G) {
            sdl_set_grab(s, !s->grabbed);
        } else {
            s->fullscreen = !s->fullscreen;
            SDL_SetWindowFullscreen(s->win, s->fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
        }
        return;
    }
    if (down && k->repeat)
        return;                         /* the guest keyboard repeats itself */
    sdl_post_key(s, sdl_to_linux(sc), down);
}

static void sdl_handle_event(UiSdl *s, const SDL_Event *ev)
{
    switch (ev->type) {
    case SDL_CONTROLLERDEVICEADDED:
    case SDL_CONTROLLERDEVICEREMOVED:
    case SDL_CONTROLLERAXISMOTION:
    case SDL_CONTROLLERBUTTONDOWN:
    case SDL_CONTROLLERBUTTONUP:
        sdl_handle_pad(s, ev);
        break;
    case SDL_QUIT:
        tess_machine_post(s->dev.machine, sdl_quit_request, NULL);
        break;
    case SDL_KEYDOWN:
    case SDL_KEYUP:
        sdl_handle_key(s, &ev->key);
        break;
    case SDL_MOUSEMOTION:
        if (s->grabbed)
            sdl_post_mouse(s, ev->motion.xrel, ev->motion.yrel, 0);
        break;
    case SDL_MOUSEBUTTONDOWN:
    case SDL_MOUSEBUTTONUP:
        if (!s->grabbed) {
            if (ev->type == SDL_MOUSEBUTTONDOWN && ev->button.button == SDL_BUTTON_LEFT &&
                s->ui.input)
                sdl_set_grab(s, true);
            break;
        }
        if (ev->type == SDL_MOUSEBUTTONDOWN)
            s->buttons |= sdl_button_bit(ev->button.button);
        else
            s->buttons &= ~sdl_button_bit(ev->button.button);
        sdl_post_mouse(s, 0, 0, 0);
        break;
    case SDL_MOUSEWHEEL:
        if (s->grabbed)
            sdl_post_mouse(s, 0, 0, ev->wheel.y);
        break;
    case SDL_WINDOWEVENT:
        if (ev->window.event == SDL_WINDOWEVENT_FOCUS_LOST) {
            /* Keys released while we could not see them must not stick. */
            sdl_release_all_keys(s);
            s->ctrl = s->alt = false;
        } else if (ev->window.event == SDL_WINDOWEVENT_RESIZED && !s->fullscreen &&
                   (ev->window.data1 != s->req_w || ev->window.data2 != s->req_h)) {
            s->user_sized = true;       /* the user's size wins from now on */
        }
        s->expose = true;
        break;
    default:
        break;
    }
}

/* Draw the window rectangle `r` of the picture `pic` (tex_w x tex_h)
 * placed at `box` onto the window surface. */
static void sdl_surface_draw(UiSdl *s, SDL_Surface *ws, SdlBox box, SdlBox r, const uint32_t *pic)
{
    if (r.w <= 0 || r.h <= 0)
        return;
    if ((size_t)r.w > s->xmap_len) {
        g_free(s->xmap);
        s->xmap_len = (size_t)r.w;
        s->xmap = g_new(unsigned, s->xmap_len);
    }
    if (ws->format->format == SDL_PIXELFORMAT_RGB888 ||
        ws->format->format == SDL_PIXELFORMAT_ARGB8888) {
        sdl_scale_rect(ws->pixels, (size_t)ws->pitch, box, r, pic, s->tex_w, s->tex_h, s->xmap);
        return;
    }
    /* Another format (a 16-bit X server): scale to XRGB, then convert. */
    size_t need = (size_t)r.w * (size_t)r.h;
    if (need > s->conv_len) {
        g_free(s->conv);
        s->conv_len = need;
        s->conv = g_new(uint32_t, need);
    }
    SdlBox at = { box.x - r.x, box.y - r.y, box.w, box.h };
    SdlBox rr = { 0, 0, r.w, r.h };
    sdl_scale_rect(s->conv, (size_t)r.w * 4, at, rr, pic, s->tex_w, s->tex_h, s->xmap);
    SDL_ConvertPixels(r.w, r.h, SDL_PIXELFORMAT_RGB888, s->conv, r.w * 4, ws->format->format,
                      (uint8_t *)ws->pixels + (size_t)r.y * (size_t)ws->pitch +
                          (size_t)r.x * ws->format->BytesPerPixel, ws->pitch);
}

/* The picture at its aspect: the logical size (stretch the shorter side). */
static void sdl_logical_size(const UiSdl *s, unsigned aw, unsigned ah, unsigned *lw, unsigned *lh)
{
    *lw = s->tex_w;
    *lh = (unsigned)((uint64_t)s->tex_w * ah / aw);
    if (*lh < s->tex_h) {
        *lh = s->tex_h;
        *lw = (unsigned)((uint64_t)s->tex_h * aw / ah);
    }
}

/* A new logical size: the window follows it unless the user sized it. */
static bool sdl_follow_size(UiSdl *s, unsigned lw, unsigned lh)
{
    if (lw == s->shown_w && lh == s->shown_h)
        return false;
    s->shown_w = lw;
    s->shown_h = lh;
    if (s->ren)
        SDL_RenderSetLogicalSize(s->ren, (int)lw, (int)lh);
    if (!s->user_sized && !s->fullscreen) {
        unsigned scale = lw < 640 ? 2 : 1;
        s->req_w = (int)(lw * scale);
        s->req_h = (int)(lh * scale);
        SDL_SetWindowSize(s->win, s->req_w, s->req_h);
    }
    return true;
}

/* No renderer: scale what changed straight from `shown` into the window
 * surface (a copy or a nearest-pixel scale, under the lock: no copy of
 * the picture in between), then, without the lock, have the window
 * system show those window pixels alone; the whole window after a resize,
 * an expose or a new picture size. */
static void sdl_present_surface(UiSdl *s)
{
    g_mutex_lock(&s->lock);
    if (!s->shown) {
        g_mutex_unlock(&s->lock);
        return;
    }
    if (s->fb_new || !s->tex_w) {
        s->tex_w = s->fb_w;
        s->tex_h = s->fb_h;
        s->fb_new = false;
        s->expose = true;               /* a new size: the whole window */
    }
    SDL_Rect r = { 0, 0, 0, 0 };
    bool changed = s->dirty;
    if (changed)
        r = (SDL_Rect){ (int)s->dx0, (int)s->dy0, (int)(s->dx1 - s->dx0), (int)(s->dy1 - s->dy0) };
    s->dirty = false;
    unsigned aw = s->aspect_w ? s->aspect_w : 4, ah = s->aspect_h ? s->aspect_h : 3;
    unsigned lw, lh;
    sdl_logical_size(s, aw, ah, &lw, &lh);
    if (sdl_follow_size(s, lw, lh))
        s->expose = true;
    SDL_Surface *ws = SDL_GetWindowSurface(s->win);
    bool full = s->expose || ws != s->wsurf || (ws && (ws->w != s->wsurf_w || ws->h != s->wsurf_h));
    if (!ws || (!full && !changed) || (SDL_MUSTLOCK(ws) && SDL_LockSurface(ws) != 0)) {
        g_mutex_unlock(&s->lock);
        return;                         /* nothing new: keep the host idle */
    }
    SdlBox box = sdl_fit(lw, lh, ws->w, ws->h);
    SdlBox upd;
    if (full) {
        SDL_FillRect(ws, NULL, SDL_MapRGB(ws->format, 0, 0, 0));
        upd = (SdlBox){ 0, 0, ws->w, ws->h };
        sdl_surface_draw(s, ws, box, box, s->shown);
    } else {
        upd = sdl_map_rect(box, s->tex_w, s->tex_h, (unsigned)r.x, (unsigned)r.y,
                           (unsigned)r.w, (unsigned)r.h);
        sdl_surface_draw(s, ws, box, upd, s->shown);
    }
    if (SDL_MUSTLOCK(ws))
        SDL_UnlockSurface(ws);
    s->expose = false;
    s->wsurf = ws;
    s->wsurf_w = ws->w;
    s->wsurf_h = ws->h;
    if (upd.w > 0 && upd.h > 0) {
        s->st_presents++;
        s->st_full += full;
        s->st_pixels += (uint64_t)upd.w * (uint64_t)upd.h;
    }
    g_mutex_unlock(&s->lock);
    if (upd.w > 0 && upd.h > 0) {
        SDL_Rect ur = { upd.x, upd.y, upd.w, upd.h };
        SDL_UpdateWindowSurfaceRects(s->win, &ur, 1);
    }
}

/* Copy what changed to the texture and present (or, without a renderer,
 * draw into the window surface). */
static void sdl_present(UiSdl *s)
{
    if (s->use_surface) {
        sdl_present_surface(s);
        return;
    }
    bool redraw = false;
    g_mutex_lock(&s->lock);
    if (s->shown && (s->fb_new || !s->tex)) {
        if (s->tex)
            SDL_DestroyTexture(s->tex);
        s->tex = SDL_CreateTexture(s->ren, SDL_PIXELFORMAT_RGB888, SDL_TEXTUREACCESS_STREAMING,
                                   (int)s->fb_w, (int)s->fb_h);
        s->tex_w = s->fb_w;
        s->tex_h = s->fb_h;
        s->fb_new = false;
        s->dirty = true;
        s->dx0 = s->dy0 = 0;
        s->dx1 = s->fb_w;
        s->dy1 = s->fb_h;
    }
    /* Take the changed rectangle out under the lock, upload it without:
     * a texture upload can take milliseconds (a software GL), and the
     * machine thread must not wait for it at its next frame. */
    SDL_Rect r = { 0, 0, 0, 0 };
    if (s->tex && s->dirty) {
        r = (SDL_Rect){ (int)s->dx0, (int)s->dy0, (int)(s->dx1 - s->dx0), (int)(s->dy1 - s->dy0) };
        if (s->upload_len < (size_t)s->tex_w * s->tex_h) {
            g_free(s->upload);
            s->upload_len = (size_t)s->tex_w * s->tex_h;
            s->upload = g_new(uint32_t, s->upload_len);
        }
        for (int y = r.y; y < r.y + r.h; y++)
            memcpy(s->upload + (size_t)y * s->tex_w + r.x, s->shown + (size_t)y * s->fb_w + r.x,
                   (size_t)r.w * 4);
        s->dirty = false;
        redraw = true;
    }
    unsigned aw = s->aspect_w ? s->aspect_w : 4, ah = s->aspect_h ? s->aspect_h : 3;
    g_mutex_unlock(&s->lock);
    if (!s->tex)
        return;
    if (r.w && r.h)
        SDL_UpdateTexture(s->tex, &r, s->upload + (size_t)r.y * s->tex_w + r.x,
                          (int)(s->tex_w * 4));
    unsigned lw, lh;
    sdl_logical_size(s, aw, ah, &lw, &lh);
    if (sdl_follow_size(s, lw, lh))
        redraw = true;
    if (!redraw && !s->expose)
        return;                         /* nothing new: keep the host idle */
    s->expose = false;
    SDL_RenderClear(s->ren);
    SDL_RenderCopy(s->ren, s->tex, NULL, NULL);
    SDL_RenderPresent(s->ren);
    g_mutex_lock(&s->lock);
    s->st_presents++;
    s->st_full++;
    s->st_pixels += (uint64_t)lw * lh;
    g_mutex_unlock(&s->lock);
}

/* Events, then the picture, then events again: presenting talks to the
 * X server, and Xlib queues the events that came meanwhile, which would
 * otherwise wait for the connection's next input. */
static void sdl_run(UiSdl *s)
{
    SDL_Event ev;
    while (SDL_PollEvent(&ev))
        sdl_handle_event(s, &ev);
    sdl_present(s);
    while (SDL_PollEvent(&ev))
        sdl_handle_event(s, &ev);
    if (s->expose)
        sdl_present(s);
}

static gboolean sdl_tick(gpointer data)
{
    sdl_run(data);
    return G_SOURCE_CONTINUE;
}

static gboolean sdl_x_input(gint fd, GIOCondition cond, gpointer data)
{
    sdl_run(data);
    return G_SOURCE_CONTINUE;
}

static gboolean sdl_wake(gpointer data)
{
    UiSdl *s = data;
    g_mutex_lock(&s->lock);
    s->wake_id = 0;
    g_mutex_unlock(&s->lock);
    sdl_run(s);
    return G_SOURCE_REMOVE;
}

/* The X connection's descriptor, or -1 (not X11). */
static int sdl_x_fd(UiSdl *s)
{
#if defined(SDL_VIDEO_DRIVER_X11)
    SDL_SysWMinfo info;
    SDL_VERSION(&info.version);
    if (SDL_GetWindowWMInfo(s->win, &info) && info.subsystem == SDL_SYSWM_X11 &&
        info.info.x11.display)
        return ConnectionNumber(info.info.x11.display);
#endif
    return -1;
}

/* Wake on X input and on changed frames where we can, else poll. */
static void sdl_start_loop(UiSdl *s)
{
    int fd = s->joy_init ? -1 : sdl_x_fd(s);
    if (fd < 0) {
        s->source = g_timeout_add((guint)s->poll_ms, sdl_tick, s);
        return;
    }
    s->source = g_unix_fd_add(fd, G_IO_IN, sdl_x_input, s);
    /* A safety net for an event Xlib queued behind our back. */
    s->slow_source = g_timeout_add(250, sdl_tick, s);
    g_mutex_lock(&s->lock);
    s->wake_main = true;
    if (!s->wake_id)
        s->wake_id = g_idle_add(sdl_wake, s);   /* the first picture */
    g_mutex_unlock(&s->lock);
}

/* ---- commands --------------------------------------------------------------------- */

/* What the window has drawn: presents (window updates), how many of them
 * were whole-window, and the window pixels they covered. A still screen
 * adds nothing; a blinking text cursor adds its cell. */
static char *sdl_cmd_stats(TessDevice *dev, int argc, char **argv, GError **err)
{
    UiSdl *s = (UiSdl *)dev;
    g_mutex_lock(&s->lock);
    char *r = g_strdup_printf("presents %" G_GUINT64_FORMAT " full %" G_GUINT64_FORMAT
                              " pixels %" G_GUINT64_FORMAT " surface %d",
                              s->st_presents, s->st_full, s->st_pixels, s->use_surface);
    g_mutex_unlock(&s->lock);
    return r;
}

/* ---- lifecycle ------------------------------------------------------------------ */

/* SDL's first choice is OpenGL; where that is a software rasterizer
 * (Mesa's llvmpipe on a machine without a GPU, Xvfb, a remote X display)
 * every present composites the whole window on the CPU, several threads
 * of it. SDL's own software renderer costs less but still scales and
 * pushes the whole window at each present (a cursor blink). There the
 * window has no renderer: sdl_present_surface draws into the window
 * surface and updates only what changed. Unless the user chose a driver
 * (SDL_RENDER_DRIVER). */
static bool sdl_gl_is_software(SDL_Renderer *ren)
{
    SDL_RendererInfo info;
    if (SDL_GetRendererInfo(ren, &info) != 0 || !info.name)
        return false;
    if (!strcmp(info.name, "software"))
        return true;                    /* no GL at all: SDL fell back to its own */
    if (strncmp(info.name, "opengl", 6))
        return false;
    typedef const unsigned char *(*GetStringFn)(unsigned);
    GetStringFn get_string = (GetStringFn)SDL_GL_GetProcAddress("glGetString");
    const char *r = get_string ? (const char *)get_string(0x1F01 /* GL_RENDERER */) : NULL;
    return r && (strstr(r, "llvmpipe") || strstr(r, "softpipe") || strstr(r, "swrast") ||
                 strstr(r, "Software Rasterizer"));
}

static bool sdl_create_renderer(UiSdl *s)
{
    const char *drv = g_getenv("SDL_RENDER_DRIVER");
    SDL_Renderer *ren = SDL_CreateRenderer(s->win, -1, 0);
    if (ren && (drv || !sdl_gl_is_software(ren))) {
        s->ren = ren;
        return true;
    }
    if (ren)
        SDL_DestroyRenderer(ren);
    SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
    if (SDL_GetWindowSurface(s->win)) {
        g_debug("software OpenGL: drawing into the window surface");
        s->use_surface = true;
        return true;
    }
    g_debug("no window surface (%s): a renderer after all", SDL_GetError());
    s->ren = SDL_CreateRenderer(s->win, -1, 0);
    return s->ren != NULL;
}

static bool sdl_realize(TessDevice *dev, GError **err)
{
    UiSdl *s = (UiSdl *)dev;
    g_mutex_init(&s->lock);
    if (!ui_common_init(&s->ui, dev, err))
        return false;
    /* tessera handles SIGINT/SIGTERM on its main loop. */
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    SDL_SetHint(SDL_HINT_VIDEO_X11_NET_WM_BYPASS_COMPOSITOR, "0");
    if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO,
                    "%s: cannot open a window: %s", dev->id, SDL_GetError());
        ui_common_fini(&s->ui);
        return false;
    }
    s->win = SDL_CreateWindow("Tessera", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED,
                              640, 480, SDL_WINDOW_RESIZABLE |
                              (s->start_fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0));
    if (!s->win || !sdl_create_renderer(s)) {
        g_set_error(err, TESS_DEVICE_ERROR, TESS_ERROR_IO,
                    "%s: cannot create the window: %s", dev->id, SDL_GetError());
        if (s->win)
            SDL_DestroyWindow(s->win);
        s->win = NULL;
        SDL_QuitSubSystem(SDL_INIT_VIDEO);
        ui_common_fini(&s->ui);
        return false;
    }
    if (!tess_control_add_command(dev, "window-stats", sdl_cmd_stats,
                                  " what the window drew: presents, whole-window ones, pixels",
                                  err)) {
        if (s->ren)
            SDL_DestroyRenderer(s->ren);
        s->ren = NULL;
        SDL_DestroyWindow(s->win);
        s->win = NULL;
        SDL_QuitSubSystem(SDL_INIT_VIDEO);
        ui_common_fini(&s->ui);
        return false;
    }
    s->fullscreen = s->start_fullscreen;
    s->req_w = 640;
    s->req_h = 480;
    if (s->ren)
        SDL_SetRenderDrawColor(s->ren, 0, 0, 0, 255);
    SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "linear");
    sdl_update_title(s);
    if (s->ui.src) {
        s->view = s->ui.dops->view_new(s->ui.src);
        s->ui.dops->add_listener(s->ui.src, &sdl_listener, s);
        s->listening = true;
    }
    /* Game controllers, for a machine with a game port. */
    s->joy_dev = tess_device_find_provider(dev, TESS_IFACE_JOYSTICK, NULL, NULL);
    if (s->joy_dev) {
        s->jops = tess_device_interface_v(s->joy_dev, TESS_IFACE_JOYSTICK,
                                          TESS_IFACE_JOYSTICK_VERSION);
        s->joy_init = SDL_InitSubSystem(SDL_INIT_GAMECONTROLLER) == 0;
    }
    sdl_start_loop(s);
    return true;
}

static void sdl_unrealize(TessDevice *dev)
{
    UiSdl *s = (UiSdl *)dev;
    if (s->source)
        g_source_remove(s->source);
    s->source = 0;
    if (s->slow_source)
        g_source_remove(s->slow_source);
    s->slow_source = 0;
    for (int i = 0; i < 2; i++)
        if (s->pad[i])
            SDL_GameControllerClose(s->pad[i]);
    if (s->joy_init)
        SDL_QuitSubSystem(SDL_INIT_GAMECONTROLLER);
    s->joy_init = false;
    if (s->listening)
        s->ui.dops->remove_listener(s->ui.src, &sdl_listener, s);
    /* No frame comes now: a wake-up still pending must not run. */
    g_mutex_lock(&s->lock);
    if (s->wake_id)
        g_source_remove(s->wake_id);
    s->wake_id = 0;
    s->wake_main = false;
    g_mutex_unlock(&s->lock);
    if (s->view)
        s->ui.dops->view_free(s->ui.src, s->view);
    s->view = NULL;
    if (s->tex)
        SDL_DestroyTexture(s->tex);
    if (s->ren)
        SDL_DestroyRenderer(s->ren);
    if (s->win) {
        SDL_DestroyWindow(s->win);
        SDL_QuitSubSystem(SDL_INIT_VIDEO);
    }
    s->tex = NULL;
    s->ren = NULL;
    s->win = NULL;
    g_free(s->fb);
    s->fb = NULL;
    g_free(s->shown);
    s->shown = NULL;
    g_free(s->upload);
    s->upload = NULL;
    g_free(s->xmap);
    s->xmap = NULL;
    g_free(s->conv);
    s->conv = NULL;
    g_free(s->cursor);
    s->cursor = NULL;
    ui_common_fini(&s->ui);
    g_mutex_clear(&s->lock);
}

static const TessPropSpec sdl_props[] = {
    TESS_PROP_BOOL_("fullscreen", UiSdl, start_fullscreen, "off", "start in fullscreen"),
    TESS_PROP_UINT_("poll-ms", UiSdl, poll_ms, "10", 1, 100,
                    "how often the window polls events and presents, in ms"),
    TESS_PROP_END,
};

static const char *const sdl_needs[] = {
    TESS_IFACE_DISPLAY_SOURCE, TESS_IFACE_INPUT, NULL,
};

static const TessDeviceClass sdl_class = {
    .type = "ui-sdl",
    .kind = TESS_CLASS_BACKEND,
    .doc = "SDL2 window: display, keyboard, mouse (Ctrl+Alt+G grab, Ctrl+Alt+F fullscreen)",
    .instance_size = sizeof(UiSdl),
    .props = sdl_props,
    .needs = sdl_needs,
    .realize = sdl_realize,
    .unrealize = sdl_unrealize,
};

static bool sdl_plugin_init(TessRegistry *reg, GError **err)
{
    return tess_register_class(reg, &sdl_class, err);
}

TESS_PLUGIN_DEFINE("ui-sdl", "1.0", "LGPL-2.1-or-later",
                   "SDL2 window front end with keyboard and mouse", sdl_plugin_init);
