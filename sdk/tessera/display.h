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
#define TESS_IFACE_DISPLAY_SOURCE_VERSION 1   /* see TessIfaceSpec in device.h */

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
     * listener is registered. Render here. */
    void (*frame)(void *opaque, TessDevice *src);
} TessDisplayListener;

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

    void *reserved[8];
} TessDisplaySourceOps;

G_END_DECLS

#endif
