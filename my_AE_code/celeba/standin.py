"""A stand-in for CelebA: face-like drawings whose attributes match what is drawn.

CelebA cannot be downloaded automatically, yet the CelebA notebooks should run
anywhere (CI, a reader who has not fetched it yet). So the package can draw
its own small data set in CelebA's layout: 178x218 JPEGs named 000001.jpg ...
in ``img_align_celeba/``, ``list_attr_celeba.csv`` with all 40 columns and
``list_eval_partition.csv``. Every drawn attribute is also set in the table
(and only those; undrawn columns are -1), so attribute vectors computed on the
stand-in mean something: the mean latent vector of the smiling faces minus
that of the others really adds a smile.

Drawn attributes: Male (short hair, wider face, thicker brows; women have
long hair), Smiling (open mouth with teeth, so also Mouth_Slightly_Open),
Eyeglasses, Pale_Skin, Bald, Bangs, Black_Hair / Brown_Hair / Blond_Hair /
Gray_Hair, Wearing_Lipstick, Mustache (No_Beard otherwise), Rosy_Cheeks.
Background, skin tone, clothes, eye colour, face size and position vary too,
so that the pictures are not trivially alike. Eyeglasses (25 %) are more
frequent than in CelebA (6.5 %) so that a small stand-in has enough of them.

Each image has its own random generator seeded by (seed, index): the same
seed gives the same files, and the first images do not depend on how many
are made.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from my_AE_code.celeba.files import (
    ATTRIBUTE_NAMES,
    IMAGES_DIR,
    write_attributes_csv,
    write_partition_csv,
)

WIDTH, HEIGHT = 178, 218  # CelebA's aligned images
SUPERSAMPLE = 2  # drawn at twice the size and shrunk: ImageDraw has no antialiasing
# CelebA's own partition sizes (train, validation, test), used as proportions.
CELEBA_PARTITION = (162_770, 19_867, 19_962)

HAIR_COLOURS = {
    "Black_Hair": (28, 24, 22),
    "Brown_Hair": (105, 66, 40),
    "Blond_Hair": (222, 190, 120),
    "Gray_Hair": (165, 163, 160),
}
HAIR_PROBABILITIES = (0.35, 0.32, 0.23, 0.10)


def make_standin(root, n_images=2000, seed=0):
    """Write `n_images` stand-in faces and their CSV files into `root`; returns `root`."""
    root = Path(root)
    images = root / IMAGES_DIR
    images.mkdir(parents=True, exist_ok=True)
    image_ids = [f"{index + 1:06d}.jpg" for index in range(n_images)]
    rows = np.full((n_images, len(ATTRIBUTE_NAMES)), -1, np.int8)
    for index, image_id in enumerate(image_ids):
        image, attributes = draw_face(np.random.default_rng([seed, index]))
        image.save(images / image_id, quality=90)
        for name in attributes:
            rows[index, ATTRIBUTE_NAMES.index(name)] = 1
    write_attributes_csv(root / "list_attr_celeba.csv", image_ids, rows)
    write_partition_csv(root / "list_eval_partition.csv", image_ids, standin_partition(n_images))
    return root


def standin_partition(n_images):
    """0/1/2 in CelebA's proportions and order (train first, test last), none empty from 3 on."""
    total = sum(CELEBA_PARTITION)
    n_val = max(1, round(n_images * CELEBA_PARTITION[1] / total)) if n_images >= 3 else 0
    n_test = max(1, round(n_images * CELEBA_PARTITION[2] / total)) if n_images >= 3 else 0
    n_train = n_images - n_val - n_test
    return [0] * n_train + [1] * n_val + [2] * n_test


def draw_face(rng):
    """Draw one face; returns the 178x218 RGB image and the names of the attributes it shows."""
    look = _choose_look(rng)
    canvas = Image.new("RGB", (WIDTH * SUPERSAMPLE, HEIGHT * SUPERSAMPLE), look["background"])
    pen = _Pen(ImageDraw.Draw(canvas))
    _draw_body_and_hair_behind(pen, look)
    _draw_head(pen, look)
    _draw_eyes(pen, look)
    _draw_mouth(pen, look)
    if look["Eyeglasses"]:
        _draw_glasses(pen, look)
    shown = {name for name in ATTRIBUTE_NAMES if look.get(name, False)}
    return canvas.reduce(SUPERSAMPLE), shown


class _Pen:
    """ImageDraw with coordinates and widths given at CelebA's scale, drawn supersampled."""

    def __init__(self, draw):
        self.draw = draw

    def __getattr__(self, shape):
        method = getattr(self.draw, shape)

        def scaled(xy, *args, width=None, **kwargs):
            flat = np.ravel(xy)  # (x0, y0, x1, ...) or [(x0, y0), ...]
            xy = [round(float(v) * SUPERSAMPLE) for v in flat]
            if width is not None:
                kwargs["width"] = round(width * SUPERSAMPLE)
            return method(xy, *args, **kwargs)

        return scaled


def _choose_look(rng):
    """Draw the attributes (True/False, named as CelebA's columns) and the nuisances."""
    male = rng.random() < 0.42
    bald = male and rng.random() < 0.08
    hair = None if bald else list(HAIR_COLOURS)[rng.choice(4, p=HAIR_PROBABILITIES)]
    smiling = rng.random() < 0.48
    mustache = male and rng.random() < 0.2
    pale = rng.random() < 0.12
    skin = (250, 226, 214) if pale else _mix((232, 190, 160), (120, 80, 58), rng.random())
    look = {
        "Male": male,
        "Bald": bald,
        "Smiling": smiling,
        "Mouth_Slightly_Open": smiling,
        "Eyeglasses": rng.random() < 0.25,
        "Pale_Skin": pale,
        "Bangs": not bald and rng.random() < 0.2,
        "Wearing_Lipstick": not male and rng.random() < 0.6,
        "Mustache": mustache,
        "No_Beard": not mustache,
        "Rosy_Cheeks": rng.random() < 0.1,
        "skin": _jitter(rng, skin, 6),
        "hair": _jitter(rng, HAIR_COLOURS[hair], 12) if hair else _jitter(rng, (60, 40, 30), 10),
        "background": _jitter(rng, (140, 140, 140), 70),
        "clothes": _jitter(rng, (110, 110, 110), 100),
        "iris": _jitter(rng, [(90, 60, 30), (60, 100, 150), (70, 110, 70)][rng.integers(3)], 15),
        "frame": _jitter(rng, (30, 30, 40), 25),
        "cx": WIDTH / 2 + rng.uniform(-3, 3),
        "cy": 122 + rng.uniform(-3, 3),
        "scale": rng.uniform(0.96, 1.04),
        "width": (43 if male else 39) * rng.uniform(0.95, 1.05),
    }
    if hair:
        look[hair] = True
    return look


def _draw_body_and_hair_behind(pen, look):
    cx, cy, s = look["cx"], look["cy"], look["scale"]
    a, b = look["width"] * s, 56 * s
    if not look["Male"]:  # long hair falls behind the face onto the shoulders
        pen.rounded_rectangle(
            (cx - a - 16, cy - b - 12, cx + a + 16, cy + b + 45), radius=40, fill=look["hair"]
        )
    pen.ellipse((cx - 88, cy + b + 8, cx + 88, cy + b + 130), fill=look["clothes"])
    neck, ears = _shade(look["skin"], 0.85), _shade(look["skin"], 0.92)
    pen.rectangle((cx - 0.45 * a, cy + 0.5 * b, cx + 0.45 * a, cy + b + 20), fill=neck)
    for side in (-1, 1):
        pen.ellipse((cx + side * a - 7, cy - 18, cx + side * a + 7, cy + 6), fill=ears)


def _draw_head(pen, look):
    cx, cy, s = look["cx"], look["cy"], look["scale"]
    a, b, skin = look["width"] * s, 56 * s, look["skin"]
    pen.ellipse((cx - a, cy - b, cx + a, cy + b), fill=skin)
    if not look["Bald"]:  # the hair on top of the head, down to the hairline
        top = (cx - a - 5, cy - b - 14, cx + a + 5, cy - b + 58 * s)
        pen.chord(top, 180, 360, fill=look["hair"])
    if look["Bangs"]:  # a fringe down to the eyebrows
        fringe = [(cx - a + 2, cy - b + 10)]
        for step in range(9):
            x = cx - a + 6 + step * (2 * a - 12) / 8
            fringe.append((x, cy - 25 * s + (4 if step % 2 else -1)))
        fringe.append((cx + a - 2, cy - b + 10))
        pen.polygon(fringe, fill=look["hair"])
    nose = _shade(skin, 0.75)
    pen.line((cx + 1, cy - 4 * s, cx - 4, cy + 15 * s, cx + 4, cy + 16 * s), fill=nose, width=2)
    if look["Rosy_Cheeks"]:
        for side in (-1, 1):
            x, y = cx + side * 24 * s, cy + 14 * s
            pen.ellipse((x - 9, y - 5, x + 9, y + 5), fill=_mix(skin, (235, 90, 110), 0.45))
    if look["Mustache"]:
        y = cy + 30 * s
        pen.polygon(
            [(cx - 17, y - 3), (cx - 6, y - 10), (cx, y - 7), (cx + 6, y - 10), (cx + 17, y - 3)],
            fill=_shade(look["hair"], 0.8),
        )


def _draw_eyes(pen, look):
    cx, cy, s = look["cx"], look["cy"], look["scale"]
    y = cy - 10 * s
    brow = _shade(look["hair"], 0.7)
    for side in (-1, 1):
        x = cx + side * 19 * s
        pen.ellipse((x - 9, y - 5, x + 9, y + 5), fill=(245, 245, 240))
        pen.ellipse((x - 4.5, y - 4.5, x + 4.5, y + 4.5), fill=look["iris"])
        pen.ellipse((x - 2, y - 2, x + 2, y + 2), fill=(10, 10, 10))
        brow_width = 4 if look["Male"] else 2.5
        pen.line((x - side * 10, y - 10, x + side * 10, y - 12), fill=brow, width=brow_width)


def _draw_mouth(pen, look):
    cx, cy, s = look["cx"], look["cy"], look["scale"]
    y, half = cy + 30 * s, 15 * s
    natural = _mix(look["skin"], (170, 60, 60), 0.35)
    lips = (185, 25, 50) if look["Wearing_Lipstick"] else natural
    if look["Smiling"]:  # open, upturned mouth showing teeth
        pen.pieslice((cx - half - 1, y - 10, cx + half + 1, y + 10), 0, 180, fill=lips)
        pen.pieslice((cx - half + 2, y - 8, cx + half - 2, y + 7), 0, 180, fill=(80, 20, 25))
        pen.chord((cx - half + 3, y - 7, cx + half - 3, y + 4), 0, 180, fill=(242, 242, 242))
        pen.line((cx - half - 2, y - 3, cx - half + 2, y), fill=lips, width=2)
        pen.line((cx + half - 2, y, cx + half + 2, y - 3), fill=lips, width=2)
    else:  # closed lips, the mouth line straight or a little down
        pen.ellipse((cx - half * 0.85, y - 3, cx + half * 0.85, y + 4), fill=lips)
        line = (cx - half * 0.85, y + 1, cx, y, cx + half * 0.85, y + 1)
        pen.line(line, fill=_shade(lips, 0.5), width=1)


def _draw_glasses(pen, look):
    cx, cy, s = look["cx"], look["cy"], look["scale"]
    y, a = cy - 10 * s, look["width"] * s
    frame = look["frame"]
    for side in (-1, 1):
        x = cx + side * 19 * s
        pen.rounded_rectangle((x - 13, y - 9, x + 13, y + 9), radius=5, outline=frame, width=2.5)
        pen.line((x + side * 13, y - 3, cx + side * a, y - 5), fill=frame, width=2)
    pen.line((cx - 19 * s + 13, y - 3, cx + 19 * s - 13, y - 3), fill=frame, width=2)


def _mix(colour, other, t):
    return tuple(round(c + (o - c) * t) for c, o in zip(colour, other))


def _shade(colour, factor):
    return tuple(round(c * factor) for c in colour)


def _jitter(rng, colour, spread):
    return tuple(int(np.clip(c + rng.integers(-spread, spread + 1), 0, 255)) for c in colour)
