"""Writes the expected bytes of Pillow's bilinear resize that crates/lorae/tests/it/resample.rs
compares lorae's data::resample against (the resize torchvision applies to the official codes'
MNIST and CelebA images).

  /root/.cache/lorae/venv-ref/bin/python tools/pil_resize.py crates/lorae/tests/fixtures/resize

Inputs are not stored: byte i of case `seed` is the top byte of splitmix64((seed << 32) + i), in
[height, width, channels] order; "sparse" cases then map bytes below 128 to 0 and from 224 to
255 (mostly background and saturated strokes, like a digit). cases.json lists each case's sizes
and the resized bytes as hex, [out_h, out_w, channels].
"""
import json
import os
import sys

import numpy as np
import PIL
from PIL import Image

MASK = (1 << 64) - 1


def stream(seed, n):
    x = ((np.uint64(seed) << np.uint64(32)) + np.arange(n, dtype=np.uint64)) & np.uint64(MASK)
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def image_bytes(seed, shape, sparse):
    k = (stream(seed, int(np.prod(shape))) >> np.uint64(56)).astype(np.uint8)
    if sparse:
        k = np.where(k < 128, 0, np.where(k >= 224, 255, k)).astype(np.uint8)
    return k.reshape(shape)


# (name, seed, width, height, channels, out_width, out_height, sparse)
CASES = [
    ("mnist-28-to-32", 1, 28, 28, 1, 32, 32, False),
    ("mnist-28-to-32-sparse", 2, 28, 28, 1, 32, 32, True),
    ("mnist-28-to-32-sparse-b", 3, 28, 28, 1, 32, 32, True),
    ("celeba-148-to-64", 4, 148, 148, 3, 64, 64, False),
    ("shrink-45-to-32", 5, 45, 45, 1, 32, 32, False),
    ("grow-20-to-64-rgb", 6, 20, 20, 3, 64, 64, True),
    ("wide-33x17-to-32", 7, 33, 17, 1, 32, 32, False),
    ("same-32", 8, 32, 32, 3, 32, 32, False),
    ("shrink-1000-to-7", 9, 1000, 1000, 1, 7, 7, False),
]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    cases = []
    for name, seed, w, h, c, ow, oh, sparse in CASES:
        src = image_bytes(seed, (h, w, c), sparse)
        img = Image.fromarray(src[:, :, 0] if c == 1 else src, mode="L" if c == 1 else "RGB")
        got = np.asarray(img.resize((ow, oh), Image.BILINEAR), dtype=np.uint8).reshape(oh, ow, c)
        cases.append({"name": name, "seed": seed, "width": w, "height": h, "channels": c,
                      "out_width": ow, "out_height": oh, "sparse": sparse,
                      "expected": got.tobytes().hex()})
    doc = {"pillow": PIL.__version__, "cases": cases}
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
