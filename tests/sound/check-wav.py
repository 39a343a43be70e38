#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Check the WAV the sb16.asm guest produced: its format, then the sounds
in order - each one's frequency (zero crossings of the left channel),
length and level - and silence between them.

usage: check-wav.py FILE.wav
"""
import sys
import wave
import array

EXPECT = [
    # (what, Hz, seconds, tolerance of the length in seconds)
    ("8-bit single-cycle DMA", 1002.3, 0.500, 0.015),
    ("16-bit auto-init DMA", 2004.5, 0.040, 0.006),
    ("OPL3 FM note", 440.0, 0.300, 0.060),
    ("PC speaker", 1193182 / 795, 0.200, 0.060),
]
WIN = 480          # 10 ms at 48 kHz
QUIET = 60         # RMS below this is silence (16-bit full scale 32767)


def fail(msg):
    print("FAIL", msg)
    sys.exit(1)


def main():
    w = wave.open(sys.argv[1], "rb")
    if (w.getnchannels(), w.getsampwidth(), w.getframerate()) != (2, 2, 48000):
        fail("format %r" % ((w.getnchannels(), w.getsampwidth(), w.getframerate()),))
    raw = array.array("h", w.readframes(w.getnframes()))
    if sys.byteorder == "big":
        raw.byteswap()
    left = raw[0::2]
    right = raw[1::2]
    n = len(left)
    print("frames %d (%.3f s)" % (n, n / 48000))
    # Loud and quiet 10 ms windows, merged into segments.
    loud = []
    for i in range(0, n - WIN + 1, WIN):
        s = sum(v * v for v in left[i:i + WIN]) / WIN
        loud.append(s ** 0.5 > QUIET)
    segs = []
    i = 0
    while i < len(loud):
        if loud[i]:
            j = i
            while j < len(loud) and loud[j]:
                j += 1
            segs.append((i * WIN, j * WIN))
            i = j
        else:
            i += 1
    # The FM note's release may leave a short tail under threshold: merge
    # segments separated by less than 30 ms.
    merged = []
    for s in segs:
        if merged and s[0] - merged[-1][1] < 3 * WIN:
            merged[-1] = (merged[-1][0], s[1])
        else:
            merged.append(s)
    print("sounds:", ["%.3f-%.3f s" % (a / 48000, b / 48000) for a, b in merged])
    if len(merged) != len(EXPECT):
        fail("%d sounds, expected %d" % (len(merged), len(EXPECT)))
    if merged[0][0] < 0.15 * 48000:
        fail("no silence before the first sound")
    for (a, b), (what, hz, secs, tol) in zip(merged, EXPECT):
        dur = (b - a) / 48000
        seg = left[a:b]
        # zero crossings with hysteresis
        # frequency from the zero crossings (with hysteresis): half
        # periods between the first and the last one
        state = None
        times = []
        for k, v in enumerate(seg):
            if v > 200 and state is not True:
                if state is False:
                    times.append(k)
                state = True
            elif v < -200 and state is not False:
                if state is True:
                    times.append(k)
                state = False
        if len(times) < 10:
            fail("%s: no tone" % what)
        f = (len(times) - 1) / 2 / ((times[-1] - times[0]) / 48000)
        rms = (sum(v * v for v in seg) / len(seg)) ** 0.5
        print("%s: %.1f Hz, %.3f s, rms %.0f" % (what, f, dur, rms))
        if abs(f - hz) > hz * 0.03:
            fail("%s: %.1f Hz, expected %.1f" % (what, f, hz))
        if abs(dur - secs) > tol + 0.010:
            fail("%s: %.3f s long, expected %.3f" % (what, dur, secs))
        if list(seg[:2000]) != list(right[a:a + 2000]) and what == "8-bit single-cycle DMA":
            fail("%s: left and right differ" % what)
    print("PASS wav")


main()
