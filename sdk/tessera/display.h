/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The picture of a video device, interface "display-source".
 *
 * Provided by video devices (the VGA, later the S3 Trio64); consumed by
 * host front ends (the ui-sdl window, the ui-headless screenshot and
 * screentext commands). A front end finds the provider with
 *
 *     TessDevice *src = tess_device_find_provider(dev, TESS_IFACE_DISPLAY_SOURCE,
 *                                                 NULL, &err);
 *     const TessDisplaySourceOps *ops =
 *         tess_device_interface(src, TESS_IFACE_DISPLAY_SOURCE);
 *
 * The source describes what the monitor would show now (get_mode), gives
 * text-mode screens as character and attribute cells (get_text), and draws
 * the picture into a caller-owned 32-bit surface (render). A view
 * (view_new) remembers what was drawn into one surface, so that the next
 * render redraws only the lines whose inputs changed and reports them as
 * rectangles; how a source detects change is its business (the VGA
 * compares each line's video-memory bytes against a shadow, because guest
 * writes to a linear framebuffer never reach the device).
 *
 * Threads: every op runs on the machine's thread (device callbacks, timer
 * callbacks, control-command handlers), or while the machine is not
 * running. A front end whose window lives on another thread renders into
 * its own surface from the listener's frame callback (which the source
 * calls on the machine thread at each vertical retrace, paced by the
 * virtual clock), and copies that surface to the screen under its own
 * lock; input goes back with tess_machine_post().
 *
 * Cursor plane (interface version 2): a source with a hardware cursor
 * (the S3's 64x64 sprite) does not draw it into the picture; get_cursor
 * describes it and the front end composes it on top (the SDL window
 * shows it, screenshots include it; tess_display_cursor_compose below
 * does it for a surface). A version 1 source leaves the slot NULL.
 *
 * Bounds: whatever the guest programs (absurd timings, start addresses past
 * video memory, huge modes), a source reports a picture no larger than
 * TESS_DISPLAY_MAX_WIDTH x TESS_DISPLAY_MAX_HEIGHT and never reads outside
 * its memory.
 */
#ifndef TESSERA_DISPLAY_H
#define TESSERA_DISPLAY_H

#include <tessera/types.h>

G_BEGIN_DECLS

#define TESS_IFACE_DISPLAY_SOURCE "display-source"
#define TESS_IFACE_DISPLAY_SOURCE_VERSION 2   /* see TessIfaceSpec in device.h;
                                               * 2 added get_cursor */

/* No source reports a picture larger than this. */
#define TESS_DISPLAY_MAX_WIDTH  4096
#define TESS_DISPLAY_MAX_HEIGHT 4096

typedef enum {
    TESS_DISPLAY_BLANK,      /* nothing to show: screen off, sequencer in reset, no mode */
    TESS_DISPLAY_TEXT,       /* character cells drawn with the guest's font */
    TESS_DISPLAY_GRAPHICS,   /* all points addressable */
} TessDisplayKind;

typedef struct TessDisplayMode {
    TessDisplayKind kind;
    /* The picture in pixels as render() draws it (0 x 0 when blank). A
     * VGA mode is given at its addressable resolution: mode 13h is
     * 320 x 200, text mode 03h 720 x 400. */
    unsigned width, height;
    /* Guest pixel depth in bits: 4 (text, 16-colour), 1, 2, 8, 15, 16,
     * 24, 32. Informative. */
    unsigned depth;
    /* Vertical refresh in millihertz (70086 = 70.086 Hz), from the mode's
     * timings; 0 when blank. */
    unsigned refresh_mhz;
    /* Shape of the displayed picture: stretch width x height to this
     * ratio (4:3 for every VGA mode, whatever its resolution; the
     * picture's own ratio, square pixels, for linear-framebuffer modes). */
    unsigned aspect_w, aspect_h;
    /* Text modes: cells, cell size in pixels, cursor cell (-1 when the
     * cursor is off or outside the screen). Zero / -1 otherwise. */
    unsigned cols, rows;
    unsigned cell_w, cell_h;
    int cursor_col, cursor_row;
    /* Changes whenever a field above other than the cursor changes: a
     * front end compares it to notice a mode switch (resize its window,
     * reallocate its surface). */
    uint32_t generation;
} TessDisplayMode;

/* One text cell as the guest stored it: a character code (code page 437
 * with the standard font) and its attribute (bits 3:0 foreground, 6:4
 * background, 7 blink or bright background). */
typedef struct TessDisplayCell {
    uint8_t ch;
    uint8_t attr;
} TessDisplayCell;

/* A caller-owned picture: 32-bit pixels 0x00RRGGBB (host endian; the top
 * byte is written as 0), `stride` bytes from one row to the next. */
typedef struct TessDisplaySurface {
    uint32_t *pixels;
    unsigned width, height;
    size_t stride;
} TessDisplaySurface;

typedef struct TessDisplayRect {
    unsigned x, y, w, h;
} TessDisplayRect;

#define TESS_DISPLAY_MAX_RECTS 16

/* What one render() changed in the surface. Rectangles do not overlap and
 * lie inside the surface; when more regions changed than fit they are
 * merged into fewer, larger ones. nrects == 0: nothing changed. */
typedef struct TessDisplayUpdate {
    unsigned nrects;
    TessDisplayRect rects[TESS_DISPLAY_MAX_RECTS];
} TessDisplayUpdate;

/* A consumer's memory of what it last drew (opaque; one per surface). */
typedef struct TessDisplayView TessDisplayView;

typedef struct TessDisplayListener {
    /* Start of vertical retrace: the guest finished a frame. Called on the
     * machine thread, once per frame of the current mode's refresh rate
     * (a blank screen still ticks at a nominal 60 Hz), for as long as the
     * listener is registered. Render here. A source may call it less
     * often while its picture is still: the VGA library, once 16 frames in
     * a row in which its listeners rendered found nothing new but the
     * text blink, calls every 4th frame (the blink still on its frame),
     * and every frame again from the first one after a change (at most 3
     * frames late). A listener that never renders hears every frame. */
    void (*frame)(void *opaque, TessDevice *src);
} TessDisplayListener;

/* A hardware cursor (version 2). Pixels are 32-bit: bits 31:24 say what
 * the pixel does, bits 23:0 are an 0xRRGGBB value. */
#define TESS_DISPLAY_CURSOR_MAX 64                 /* width and height limit */
#define TESS_DISPLAY_CURSOR_TRANSPARENT 0x00u      /* the picture shows through */
#define TESS_DISPLAY_CURSOR_OPAQUE      0x01u      /* the pixel's colour */
#define TESS_DISPLAY_CURSOR_XOR         0x02u      /* picture XOR colour (0xFFFFFF: invert) */
#define TESS_DISPLAY_CURSOR_OP(px)  ((uint32_t)(px) >> 24)
#define TESS_DISPLAY_CURSOR_RGB(px) ((uint32_t)(px) & 0xFFFFFFu)

typedef struct TessDisplayCursor {
    /* Set by the caller to sizeof(TessDisplayCursor) as it was built; a
     * source fills only what fits (members are only ever appended). */
    uint32_t struct_size;
    bool visible;                 /* false: nothing to compose */
    /* Where the cursor image's top-left pixel lands in the picture, in
     * render() coordinates (may be negative or past the edge: clip). */
    int x, y;
    /* The hot spot inside the image (the pointer's tip), informative. */
    unsigned hot_x, hot_y;
    unsigned width, height;       /* <= TESS_DISPLAY_CURSOR_MAX */
    /* Changes whenever the image or its colours change (not on a move). */
    uint32_t generation;
    uint32_t pixels[TESS_DISPLAY_CURSOR_MAX * TESS_DISPLAY_CURSOR_MAX];  /* row-major, width used */
} TessDisplayCursor;

typedef struct TessDisplaySourceOps {
    /* What the monitor shows now. Never fails; a blank screen is a mode. */
    void (*get_mode)(TessDevice *src, TessDisplayMode *mode);

    /* Text modes: copy up to `max` cells, row by row (cols x rows as in
     * the mode), and return how many were copied; 0 in graphics modes. */
    unsigned (*get_text)(TessDevice *src, TessDisplayCell *cells, unsigned max);

    /* Per-surface change tracking. A view starts empty, so its first
     * render draws everything. Free views before the source goes (a
     * front end frees its views in its unrealize; sources outlive the
     * devices that found them). */
    TessDisplayView *(*view_new)(TessDevice *src);
    void (*view_free)(TessDevice *src, TessDisplayView *view);

    /* Draw the current picture into `surf` (clipped to its size; the rest
     * of the surface is not touched). With a view, only what changed
     * since that view's previous render is drawn: a mode change, another
     * surface (pointer, size or stride), a palette change or a blink phase
     * redraws what it affects. With view == NULL everything is drawn.
     * `upd` (may be NULL) receives the changed rectangles. A blank screen
     * is drawn black. Returns false when the mode is blank. */
    bool (*render)(TessDevice *src, TessDisplayView *view,
                   const TessDisplaySurface *surf, TessDisplayUpdate *upd);

    /* Frame notification (see TessDisplayListener). The same listener and
     * opaque pair is registered at most once. */
    void (*add_listener)(TessDevice *src, const TessDisplayListener *l, void *opaque);
    void (*remove_listener)(TessDevice *src, const TessDisplayListener *l, void *opaque);

    /* Version 2 (NULL in a version 1 source). Fill `cur` (whose
     * struct_size the caller set) with the hardware cursor as it is now;
     * false (and cur->visible false) when there is none on screen. */
    bool (*get_cursor)(TessDevice *src, TessDisplayCursor *cur);

    void *reserved[7];
} TessDisplaySourceOps;

/* Compose `cur` onto `surf` (picture coordinates, clipped), e.g. on a
 * copy of the rendered picture for a screenshot. Returns the rectangle
 * touched (w == 0: nothing). */
static inline TessDisplayRect tess_display_cursor_compose(const TessDisplayCursor *cur,
                                                          const TessDisplaySurface *surf)
{
    TessDisplayRect r = { 0, 0, 0, 0 };
    if (!cur || !cur->visible || !surf || !surf->pixels)
        return r;
    unsigned cw = cur->width < TESS_DISPLAY_CURSOR_MAX ? cur->width : TESS_DISPLAY_CURSOR_MAX;
    unsigned ch = cur->height < TESS_DISPLAY_CURSOR_MAX ? cur->height : TESS_DISPLAY_CURSOR_MAX;
    long x0 = cur->x < 0 ? 0 : cur->x, y0 = cur->y < 0 ? 0 : cur->y;
    long x1 = (long)cur->x + (long)cw, y1 = (long)cur->y + (long)ch;
    if (x1 > (long)surf->width)
        x1 = surf->width;
    if (y1 > (long)surf->height)
        y1 = surf->height;
    if (x0 >= x1 || y0 >= y1)
        return r;
    for (long y = y0; y < y1; y++) {
        uint32_t *row = (uint32_t *)((uint8_t *)surf->pixels + (size_t)y * surf->stride);
        const uint32_t *src = &cur->pixels[(size_t)(y - cur->y) * TESS_DISPLAY_CURSOR_MAX];
        for (long x = x0; x < x1; x++) {
            uint32_t p = src[x - cur->x];
            switch (TESS_DISPLAY_CURSOR_OP(p)) {
            case TESS_DISPLAY_CURSOR_OPAQUE: row[x] = TESS_DISPLAY_CURSOR_RGB(p); break;
            case TESS_DISPLAY_CURSOR_XOR: row[x] = (row[x] ^ TESS_DISPLAY_CURSOR_RGB(p)) & 0xFFFFFFu; break;
            default: break;
            }
        }
    }
    r.x = (unsigned)x0;
    r.y = (unsigned)y0;
    r.w = (unsigned)(x1 - x0);
    r.h = (unsigned)(y1 - y0);
    return r;
}

G_END_DECLS

#endif
