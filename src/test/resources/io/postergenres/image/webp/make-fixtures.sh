#!/bin/sh
# Regenerates the WebP test fixtures of this folder from synthetic images (no poster is used).
# Needs python3 and Debian's `webp` package (cwebp, img2webp); run it from this folder. The
# fixtures are committed, so the build never needs these tools.
#   lossy.webp      60x90 lossy (VP8): top half red, bottom half blue
#   lossless.webp   60x90 lossless (VP8L), same picture
#   alpha.webp      60x90 lossy with alpha (VP8X + ALPH): left half transparent, right half green
#   animated.webp   60x90 animation of two frames (ANIM/ANMF): red, then blue
#   big.webp        3000x4000 lossless, vertical stripes (a few KB; over a small --max-pixels)
#   flat.webp       3000x4000 lossless, one colour: TwelveMonkeys 3.12/3.13 cannot decode it (its
#                   issues #739/#978, "Coordinate out of bounds!"); the job makes it a corrupt row
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$tmp" <<'PY'
import struct, sys, zlib
out = sys.argv[1]
def png(name, w, h, pixel, alpha=False):
    rows = b"".join(b"\0" + b"".join(bytes(pixel(x, y)) for x in range(w)) for y in range(h))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 6 if alpha else 2, 0, 0, 0)
    with open(f"{out}/{name}.png", "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
png("halves", 60, 90, lambda x, y: (220, 20, 20) if y < 45 else (20, 20, 220))
png("alpha", 60, 90, lambda x, y: (0, 0, 0, 0) if x < 30 else (20, 200, 20, 255), alpha=True)
png("red", 60, 90, lambda x, y: (220, 20, 20))
png("blue", 60, 90, lambda x, y: (20, 20, 220))
png("big", 3000, 4000, lambda x, y: ((x * 7) % 256, (x * 7) % 256, (x * 7) % 256))
png("flat", 3000, 4000, lambda x, y: (90, 90, 90))
PY
cwebp -quiet -q 80 "$tmp/halves.png" -o lossy.webp
cwebp -quiet -lossless "$tmp/halves.png" -o lossless.webp
cwebp -quiet -q 80 -exact "$tmp/alpha.png" -o alpha.webp
img2webp -q 80 -d 200 "$tmp/red.png" "$tmp/blue.png" -o animated.webp
cwebp -quiet -lossless "$tmp/big.png" -o big.webp
cwebp -quiet -lossless "$tmp/flat.png" -o flat.webp
ls -l ./*.webp
